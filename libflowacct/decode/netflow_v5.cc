// NetFlow v5 decoder.
//
// Wire format (Cisco "NetFlow Export Datagram Format", version 5): a 24-byte
// header followed by `count` 48-byte flow records.
//
//   header: version(2) count(2) sysUptime(4, ms) unix_secs(4) unix_nsecs(4)
//           flow_sequence(4) engine_type(1) engine_id(1)
//           sampling_interval(2: mode(2 bits) interval(14 bits))
//   record: srcaddr(4) dstaddr(4) nexthop(4) input(2) output(2) dPkts(4)
//           dOctets(4) First(4) Last(4) srcport(2) dstport(2) pad1(1)
//           tcp_flags(1) prot(1) tos(1) src_as(2) dst_as(2) src_mask(1)
//           dst_mask(1) pad2(2)
//
// Decisions (hostile-inputs.md §1.2):
//  N5-1  A datagram shorter than the header is dropped (kShortDatagram).
//  N5-2  When count > 30 or 24 + 48*count != length, the datagram is not
//        thrown away: the whole 48-byte records that are actually present,
//        up to `count`, are decoded (like pmacct), and kV5CountMismatch is
//        counted once per datagram. The number of records appended is
//        bounded by the datagram length, never by `count`.
//  N5-4  A sampling interval of 0 (whatever the mode bits) means the
//        header says nothing about sampling: sampling_rate stays 0
//        ("unknown", kSamplingRate unset), which is what pmacct prints and
//        lets a sampling_map fill it in. Nothing here divides by it.
//  N5-5  First/Last are sysUptime milliseconds. They are turned into
//        absolute times as export_time - (sysUptime - t), with the
//        difference taken modulo 2^32 as a signed 32-bit value: this handles
//        the 49.7-day uptime wrap (t just before the wrap, sysUptime just
//        after) and Cisco CSCei12353 (Last a little after sysUptime, peers.md
//        Q4) without special cases. A time more than kMaxFutureMs after the
//        export time is implausible: it is clamped to the export time and
//        kTimeAnomaly counted. end < start is clamped (start = end) and
//        counted. unix_nsecs >= 1e9 is clamped to 999999999 and counted.
//  N5-6  flow_sequence counts flows: each datagram advances the sequence of
//        (exporter, engine_type/engine_id) by the records it carries
//        (SequenceTracker: backward jumps and 2^31 jumps are resets).

#include <cstdint>

#include "libflowacct/common/byte_reader.h"
#include "libflowacct/decode/decoder_state.h"

namespace flowacct::internal {
namespace {

constexpr size_t kHeaderSize = 24;
constexpr size_t kRecordSize = 48;
constexpr uint16_t kMaxRecords = 30;  // Cisco's limit per datagram
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;
// How far in the future (relative to the export time) a First/Last may lie
// before it is considered garbage (CSCei12353 reports ~100 s).
constexpr int64_t kMaxFutureMs = 10 * 60 * 1000;
constexpr uint8_t kProtoIcmp = 1;

struct Header {
  uint16_t count;
  uint32_t sys_uptime_ms;
  int64_t export_ns;
  uint32_t flow_sequence;
  uint8_t engine_type;
  uint8_t engine_id;
  uint32_t sampling_rate;  // 0 = unknown
};

// Converts a sysUptime timestamp `t` into ns since the epoch. Returns false
// when it had to clamp.
bool UptimeToEpochNs(const Header& h, uint32_t t, int64_t* out) {
  // Signed distance modulo 2^32: positive = t is before the export.
  const int32_t before_ms = static_cast<int32_t>(h.sys_uptime_ms - t);
  if (before_ms < -kMaxFutureMs) {
    *out = h.export_ns;
    return false;
  }
  *out = h.export_ns - int64_t{before_ms} * kNsPerMs;
  return true;
}

}  // namespace

void DecodeNetflowV5(DecodeContext& ctx) {
  ByteReader in(ctx.datagram.payload);
  if (in.remaining() < kHeaderSize) {
    ctx.Count(DecodeError::kShortDatagram);  // N5-1
    return;
  }
  const uint8_t* p = in.data();
  Header h;
  h.count = LoadBe16(p + 2);
  h.sys_uptime_ms = LoadBe32(p + 4);
  const uint32_t unix_secs = LoadBe32(p + 8);
  uint32_t unix_nsecs = LoadBe32(p + 12);
  h.flow_sequence = LoadBe32(p + 16);
  h.engine_type = p[20];
  h.engine_id = p[21];
  const uint16_t sampling = LoadBe16(p + 22);
  in.Skip(kHeaderSize);

  bool header_time_anomaly = false;
  if (unix_nsecs >= kNsPerSec) {  // N5-5
    unix_nsecs = static_cast<uint32_t>(kNsPerSec - 1);
    header_time_anomaly = true;
  }
  h.export_ns = int64_t{unix_secs} * kNsPerSec + unix_nsecs;
  // N5-4 and peers.md Q15: the top two bits are the sampling mode, unless
  // the exporter (Juniper MX) uses all 16 bits for the interval.
  h.sampling_rate = ctx.state.options.v5_sampling_16bit_interval
                        ? sampling
                        : (sampling & 0x3FFFu);

  // N5-2: decode the whole records present, up to count.
  const size_t present = in.remaining() / kRecordSize;
  const size_t n = h.count < present ? h.count : present;
  if (h.count > kMaxRecords ||
      in.remaining() != size_t{h.count} * kRecordSize) {
    ctx.Count(DecodeError::kV5CountMismatch);
  }
  if (header_time_anomaly) ctx.Count(DecodeError::kTimeAnomaly);

  const uint32_t domain = (uint32_t{h.engine_type} << 8) | h.engine_id;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* rec = in.data();
    in.Skip(kRecordSize);
    FlowRecord* r = ctx.NewRecord(ExportProtocol::kNetflowV5);
    FieldSet& f = r->fields;

    r->observation_domain = domain;
    f.set(FlowField::kObservationDomain);
    r->export_seqno = h.flow_sequence;
    f.set(FlowField::kExportSeqno);
    r->engine_type = h.engine_type;
    f.set(FlowField::kEngineType);
    r->engine_id = h.engine_id;
    f.set(FlowField::kEngineId);
    if (h.sampling_rate != 0) {
      r->sampling_rate = h.sampling_rate;
      f.set(FlowField::kSamplingRate);
    }

    r->ip_version = 4;
    f.set(FlowField::kIpVersion);
    r->src_host = IpAddress::V4Bytes(rec + 0);
    f.set(FlowField::kSrcHost);
    r->dst_host = IpAddress::V4Bytes(rec + 4);
    f.set(FlowField::kDstHost);
    r->ip_next_hop = IpAddress::V4Bytes(rec + 8);
    f.set(FlowField::kIpNextHop);
    r->in_iface = LoadBe16(rec + 12);
    f.set(FlowField::kInIface);
    r->out_iface = LoadBe16(rec + 14);
    f.set(FlowField::kOutIface);
    r->packets = LoadBe32(rec + 16);
    f.set(FlowField::kPackets);
    r->bytes = LoadBe32(rec + 20);
    f.set(FlowField::kBytes);
    r->flows = 1;
    f.set(FlowField::kFlows);

    const uint32_t first = LoadBe32(rec + 24);
    const uint32_t last = LoadBe32(rec + 28);
    bool time_ok = UptimeToEpochNs(h, first, &r->timestamp_start);
    time_ok &= UptimeToEpochNs(h, last, &r->timestamp_end);
    if (r->timestamp_end < r->timestamp_start) {
      r->timestamp_start = r->timestamp_end;
      time_ok = false;
    }
    if (!time_ok) ctx.Count(DecodeError::kTimeAnomaly);
    f.set(FlowField::kTimestampStart);
    f.set(FlowField::kTimestampEnd);
    r->timestamp_export = h.export_ns;
    f.set(FlowField::kTimestampExport);

    r->src_port = LoadBe16(rec + 32);
    f.set(FlowField::kSrcPort);
    r->dst_port = LoadBe16(rec + 34);
    f.set(FlowField::kDstPort);
    r->tcp_flags = rec[37];
    f.set(FlowField::kTcpFlags);
    r->proto = rec[38];
    f.set(FlowField::kProto);
    r->tos = rec[39];
    f.set(FlowField::kTos);
    if (r->proto == kProtoIcmp) {
      // Cisco puts ICMP type and code in dstport (type << 8 | code); the
      // ports are kept as exported too.
      r->icmp_type = static_cast<uint8_t>(r->dst_port >> 8);
      r->icmp_code = static_cast<uint8_t>(r->dst_port);
      f.set(FlowField::kIcmpType);
      f.set(FlowField::kIcmpCode);
    }
    r->src_as = LoadBe16(rec + 40);
    f.set(FlowField::kSrcAs);
    r->dst_as = LoadBe16(rec + 42);
    f.set(FlowField::kDstAs);
    r->src_mask = rec[44];
    f.set(FlowField::kSrcMask);
    r->dst_mask = rec[45];
    f.set(FlowField::kDstMask);
  }
  ctx.exporter_stats.records += n;

  // N5-6: flow_sequence is the count of flows exported before this
  // datagram; it advances by the records this datagram carries.
  const SequenceKey key{ctx.datagram.exporter.address,
                        ExportProtocol::kNetflowV5, domain, 0};
  ctx.state.sequences.Observe(key, h.flow_sequence, static_cast<uint32_t>(n),
                              SequenceTracker::Limits{},
                              &ctx.exporter_stats.sequence);
}

}  // namespace flowacct::internal
