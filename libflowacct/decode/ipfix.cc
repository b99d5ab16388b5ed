// IPFIX messages (RFC 7011).
#include "libflowacct/decode/decoder_state.h"
#include "libflowacct/decode/flowset_walker.h"

namespace flowacct::internal {
namespace {

// RFC 7011 §3.1: version, length, export time, sequence number, ODID.
constexpr size_t kIpfixHeaderLength = 16;

}  // namespace

void DecodeIpfix(DecodeContext& ctx) {
  ByteReader r(ctx.datagram.payload);
  if (r.remaining() < kIpfixHeaderLength) {
    ctx.Count(DecodeError::kShortDatagram);
    return;
  }
  uint16_t version = 0;
  uint16_t length = 0;
  uint32_t export_time = 0;
  uint32_t sequence = 0;
  uint32_t domain = 0;
  r.ReadU16(&version);
  r.ReadU16(&length);
  r.ReadU32(&export_time);
  r.ReadU32(&sequence);
  r.ReadU32(&domain);
  // The message length is authoritative (RFC 7011 §3.1, §9.1; NF-1).
  if (length < kIpfixHeaderLength || length > ctx.datagram.payload.size()) {
    ctx.Count(DecodeError::kMessageLength);
    return;
  }
  ByteReader sets;
  r.Sub(length - kIpfixHeaderLength, &sets);
  // Bytes after the message: one message per datagram over UDP (RFC 7011
  // §10.3.3); zero fill is tolerated, anything else is counted.
  if (!r.empty() && !AllZero(r.rest())) ctx.Count(DecodeError::kTrailingBytes);

  FlowSetMessage m = StartMessage(ctx, ExportProtocol::kIpfix, domain,
                                  export_time, sequence);

  WalkSets(m, sets);

  // The IPFIX sequence number counts data records per observation domain
  // (RFC 7011 §3.1), modulo 2^32. When some data records of this message
  // could not be counted (no template yet, overrun), the gap before this
  // message is still checked, then the stream resynchronises on the next
  // message instead of reporting a false loss.
  SequenceTracker::Limits limits;
  limits.reorder_window = 65536;  // records
  limits.max_gap = 1u << 24;      // records; beyond that: a restart
  const SequenceKey key{ctx.datagram.exporter.address, ExportProtocol::kIpfix,
                        domain, 0};
  ctx.state.sequences.Observe(key, sequence,
                              static_cast<uint32_t>(m.data_records), limits,
                              &ctx.exporter_stats.sequence);
  if (m.uncounted) ctx.state.sequences.Desync(key);
}

}  // namespace flowacct::internal
