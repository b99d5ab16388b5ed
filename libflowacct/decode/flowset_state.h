// STUB (to be replaced by the v9/IPFIX implementation): per-exporter state
// of the v9/IPFIX decoders -- data-before-template buffer and sampling tables.

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_STATE_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_STATE_H_

#include <cstdint>

#include "flowacct/decode/decoder.h"

namespace flowacct::internal {

struct DecoderState;

class FlowSetState {
 public:
  explicit FlowSetState(const DecoderOptions& options) {}
  // Drops pending data older than the limits at now_ns.
  void Expire(DecoderState& state, int64_t now_ns) {}
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_STATE_H_
