// NetFlow v9 export packets (RFC 3954).
#include "libflowacct/decode/decoder_state.h"
#include "libflowacct/decode/flowset_walker.h"

namespace flowacct::internal {
namespace {

// RFC 3954 §5.1: version, count, sysUpTime, UNIX secs, sequence, source id.
constexpr size_t kV9HeaderLength = 20;

}  // namespace

void DecodeNetflowV9(DecodeContext& ctx) {
  ByteReader r(ctx.datagram.payload);
  if (r.remaining() < kV9HeaderLength) {
    ctx.Count(DecodeError::kShortDatagram);
    return;
  }
  uint16_t version = 0;
  uint16_t count = 0;  // unreliable in practice (peers.md Q30): never used
  uint32_t uptime_ms = 0;
  uint32_t unix_secs = 0;
  uint32_t sequence = 0;
  uint32_t source_id = 0;
  r.ReadU16(&version);
  r.ReadU16(&count);
  r.ReadU32(&uptime_ms);
  r.ReadU32(&unix_secs);
  r.ReadU32(&sequence);
  r.ReadU32(&source_id);

  FlowSetMessage m = StartMessage(ctx, ExportProtocol::kNetflowV9, source_id,
                                  unix_secs, sequence);
  // RFC 3954 §5.1: FIRST/LAST_SWITCHED are relative to this sysUptime.
  m.meta.time.sys_uptime_ms = uptime_ms;
  m.meta.time.has_sys_uptime = true;

  WalkSets(m, r);

  // The v9 sequence counts export packets per source id (RFC 3954 §5.1).
  SequenceTracker::Limits limits;
  limits.reorder_window = 64;  // packets
  limits.max_gap = 1u << 20;   // packets; beyond that: a restart
  ctx.state.sequences.Observe(
      SequenceKey{ctx.datagram.exporter.address, ExportProtocol::kNetflowV9,
                  source_id, 0},
      sequence, 1, limits, &ctx.exporter_stats.sequence);
}

}  // namespace flowacct::internal
