// STUB: replaced by the NetFlow v5 implementation.
#include "libflowacct/decode/decoder_state.h"

namespace flowacct::internal {
void DecodeNetflowV5(DecodeContext& ctx) {}
}  // namespace flowacct::internal
