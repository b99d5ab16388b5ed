// STUB: replaced by the sFlow v5 implementation.
#include "libflowacct/decode/decoder_state.h"

namespace flowacct::internal {
void DecodeSflowV5(DecodeContext& ctx) {}
}  // namespace flowacct::internal
