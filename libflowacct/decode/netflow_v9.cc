// STUB: replaced by the v9/IPFIX implementation.
#include "libflowacct/decode/decoder_state.h"

namespace flowacct::internal {
void DecodeNetflowV9(DecodeContext& ctx) {}
void DecodeIpfix(DecodeContext& ctx) {}
}  // namespace flowacct::internal
