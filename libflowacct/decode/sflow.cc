// sFlow v5 decoder (sflow.org "sFlow Version 5", July 2004; XDR encoding,
// RFC 4506: every item is a multiple of 4 bytes).
//
//   datagram:  version(=5) agent_address(type 1 IPv4 | 2 IPv6, address)
//              sub_agent_id sequence_number uptime(ms) num_samples samples
//   sample:    data_format(enterprise(20) << 12 | format(12)) length data
//              0:1 flow_sample, 0:2 counters_sample,
//              0:3 flow_sample_expanded, 0:4 counters_sample_expanded
//   record:    data_format length data (inside flow / counter samples)
//
// One flow sample becomes one FlowRecord (packets = 1, bytes = frame
// length); one counter sample becomes one CounterRecord.
//
// Decisions (hostile-inputs.md §1.4):
//  SF-1   version != 5 never gets here (dispatch); agent address type not
//         1/2: kSflowAgentAddress, datagram dropped (its length is unknown).
//  SF-2   num_samples is never trusted for sizing: the sample loop stops
//         when fewer than 8 bytes are left. More samples announced than
//         could fit (8 bytes each) counts kSflowSampleCount once.
//  SF-3   A sample whose length runs past the datagram: kSflowSampleOverrun
//         and decoding stops (there is no way to find the next sample).
//         Samples before it were each bounded by their own length and are
//         kept.
//  SF-4   A record whose length runs past its sample: kSflowRecordOverrun,
//         the rest of that sample's records are skipped; the sample's
//         record keeps what was decoded before.
//  SF-5   A sample or record length that is not a multiple of 4:
//         kSflowMisaligned; XDR framing is lost at that level, so a bad
//         sample stops the datagram and a bad record stops its sample.
//  SF-6   A record longer than its format needs is decoded from its prefix
//         and skipped by its declared length. A record shorter than its
//         fixed part is skipped (kSflowRecordOverrun).
//  SF-7   Unknown sample formats (e.g. 0:5 discarded packet) and non-zero
//         enterprises: skipped by length, kSflowUnknownSample. Unknown flow
//         records: skipped, kSflowUnknownRecord (a notice).
//  SF-8   Sampled header protocols other than Ethernet (1), IPv4 (11),
//         IPv6 (12), MPLS (13): the header record is skipped
//         (kSflowHeaderProtocol); the sample is still emitted.
//  SF-9   header_length beyond the record, frame_length 0 or stripped >
//         frame_length: the header record is skipped (kSflowHeaderLength).
//  SF-10  The header parser is bounded (packet_header.h); a header cut
//         inside L2-L4 counts kSflowHeaderTruncated and keeps what parsed.
//  SF-11  Extended gateway: AS path segment counts, segment lengths and the
//         community count are checked against the bytes left before
//         anything is stored; on failure the record is ignored
//         (kSflowGatewayOverrun). AS paths longer than kMaxAsPathAsns are
//         stored truncated (dst_as / peer_dst_as still come from the wire).
//  SF-12  sampling_rate 0: kSflowZeroSamplingRate, record kept with
//         sampling_rate unknown (0, kSamplingRate unset).
//  SF-13  Two kinds of sequence tracking: the datagram sequence per (agent,
//         sub-agent) feeds ExporterStats::sequence; the sample sequence per
//         (agent, sub-agent, source id), separately for flow and counter
//         samples, feeds ExporterStats::sflow_samples_lost.
//
// Agent drops: the flow sample `drops` field is a running total kept by
// the agent for the data source, so ExporterStats::sflow_agent_drops adds
// its increase between consecutive samples of a source (the first sample
// of a source only sets the baseline), not the raw value.
//
// Direction: sFlow does not carry it. A sample whose data source is the
// output interface (and not the input one) is marked egress (1), any other
// ingress (0).
//
// Extended records override what a sampled header said (the switch's VLAN
// and the router's view are authoritative); the sampled IPv4/IPv6/Ethernet
// data records only fill fields no header provided.

#include <cstdint>
#include <cstring>

#include "libflowacct/common/byte_reader.h"
#include "libflowacct/decode/decoder_state.h"
#include "libflowacct/decode/packet_header.h"

namespace flowacct::internal {
namespace {

// Sample formats (enterprise 0).
constexpr uint32_t kFlowSample = 1;
constexpr uint32_t kCounterSample = 2;
constexpr uint32_t kFlowSampleExpanded = 3;
constexpr uint32_t kCounterSampleExpanded = 4;

// Flow record formats (enterprise 0).
constexpr uint32_t kRecordRawHeader = 1;
constexpr uint32_t kRecordEthernet = 2;
constexpr uint32_t kRecordIpv4 = 3;
constexpr uint32_t kRecordIpv6 = 4;
constexpr uint32_t kRecordExtendedSwitch = 1001;
constexpr uint32_t kRecordExtendedRouter = 1002;
constexpr uint32_t kRecordExtendedGateway = 1003;

// Counter record formats (enterprise 0).
constexpr uint32_t kCountersGeneric = 1;
constexpr uint32_t kCountersEthernet = 2;
constexpr uint32_t kCountersVlan = 5;
constexpr uint32_t kCountersProcessor = 1001;

// sampled_header header_protocol values.
constexpr uint32_t kHeaderEthernet = 1;
constexpr uint32_t kHeaderIpv4 = 11;
constexpr uint32_t kHeaderIpv6 = 12;
constexpr uint32_t kHeaderMpls = 13;

// Interface format (top two bits of a compact interface).
constexpr uint32_t kIfFormatSingle = 0;

constexpr size_t kMaxAsPathAsns = 1024;

// Sequence streams other than the datagram sequence (which uses
// ExportProtocol::kSflowV5). These are key namespaces in the shared
// SequenceTracker, never record protocols.
constexpr ExportProtocol kFlowSampleStream = static_cast<ExportProtocol>(0xF1);
constexpr ExportProtocol kCounterSampleStream =
    static_cast<ExportProtocol>(0xF2);
constexpr ExportProtocol kDropsStream = static_cast<ExportProtocol>(0xF3);

struct DatagramHeader {
  IpAddress agent;
  IpAddress record_exporter;  // agent or datagram source (options)
  uint32_t sub_agent_id = 0;
  uint32_t sequence = 0;
};

// sFlow `address`: type (1 IPv4, 2 IPv6) then 4 or 16 bytes. Returns false
// on a short read or an unknown type (*bad_type says which).
bool ReadAddress(ByteReader* in, IpAddress* out, bool* bad_type) {
  *bad_type = false;
  uint32_t type = 0;
  std::span<const uint8_t> bytes;
  if (!in->ReadU32(&type)) return false;
  if (type == 1) {
    if (!in->ReadBytes(4, &bytes)) return false;
    *out = IpAddress::V4Bytes(bytes.data());
    return true;
  }
  if (type == 2) {
    if (!in->ReadBytes(16, &bytes)) return false;
    *out = IpAddress::V6Bytes(bytes.data());
    return true;
  }
  *bad_type = true;
  return false;
}

// A length-prefixed item (sample or record) cut out of *in. Returns false
// and counts when the framing is broken; `misaligned` is set when the
// length is not a multiple of 4.
enum class Framing : uint8_t { kOk, kOverrun, kMisaligned };
Framing NextItem(ByteReader* in, uint32_t* format, ByteReader* body) {
  uint32_t length = 0;
  if (!in->ReadU32(format) || !in->ReadU32(&length)) return Framing::kOverrun;
  if (length > in->remaining()) return Framing::kOverrun;
  if (length % 4 != 0) return Framing::kMisaligned;
  in->Sub(length, body);
  return Framing::kOk;
}

// Feeds a sequence stream whose losses go to *lost (bounded at 0 for
// late arrivals of something already counted).
void ObserveSampleSequence(DecodeContext& ctx, const SequenceKey& key,
                           uint32_t seq, uint32_t advance, uint64_t* lost) {
  SequenceStats s;
  ctx.state.sequences.Observe(key, seq, advance, SequenceTracker::Limits{}, &s);
  *lost += s.lost;
}

class SflowDecoder {
 public:
  SflowDecoder(DecodeContext& ctx, const DatagramHeader& h)
      : ctx_(ctx), h_(h) {}

  void FlowSample(ByteReader s, bool expanded);
  void CounterSample(ByteReader s, bool expanded);

 private:
  // Takes the next record of a sample into *format / *rec. False, with the
  // reason counted, when the sample ends before the record count says
  // (kSflowRecordOverrun), a record overruns the sample (SF-4) or is not
  // 4-byte aligned (SF-5): the rest of the sample is then skipped.
  bool NextRecord(ByteReader* sample, uint32_t* format, ByteReader* rec);

  // Flow records. Each returns false when the record is shorter than its
  // fixed part.
  bool RawHeader(ByteReader rec, FlowRecord* r);
  bool EthernetData(ByteReader rec, FlowRecord* r);
  // sampled_ipv4 (v6 false) or sampled_ipv6 (v6 true).
  bool IpData(ByteReader rec, bool v6, FlowRecord* r);
  bool ExtendedSwitch(ByteReader rec, FlowRecord* r);
  bool ExtendedRouter(ByteReader rec, FlowRecord* r);
  // Counts its own errors.
  void ExtendedGateway(ByteReader rec, FlowRecord* r);

  DecodeContext& ctx_;
  const DatagramHeader& h_;
};

template <typename T, typename V>
void SetIfAbsent(FlowRecord* r, FlowField f, T& member, V value) {
  if (r->fields.has(f)) return;
  member = static_cast<T>(value);
  r->fields.set(f);
}

template <typename T, typename V>
void Set(FlowRecord* r, FlowField f, T& member, V value) {
  member = static_cast<T>(value);
  r->fields.set(f);
}

bool SflowDecoder::NextRecord(ByteReader* sample, uint32_t* format,
                              ByteReader* rec) {
  if (sample->empty()) {
    ctx_.Count(DecodeError::kSflowRecordOverrun);  // count beyond sample
    return false;
  }
  switch (NextItem(sample, format, rec)) {
    case Framing::kOk:
      return true;
    case Framing::kOverrun:
      ctx_.Count(DecodeError::kSflowRecordOverrun);  // SF-4
      return false;
    case Framing::kMisaligned:
      ctx_.Count(DecodeError::kSflowMisaligned);  // SF-5
      return false;
  }
  return false;
}

void SflowDecoder::FlowSample(ByteReader s, bool expanded) {
  // flow_sample / flow_sample_expanded (sFlow v5 §5 "Flow Samples").
  uint32_t seq = 0, source_type = 0, source_index = 0, rate = 0, pool = 0,
           drops = 0, in_format = 0, in_value = 0, out_format = 0,
           out_value = 0, n_records = 0;
  bool ok = s.ReadU32(&seq);
  if (expanded) {
    ok = ok && s.ReadU32(&source_type) && s.ReadU32(&source_index);
  } else {
    uint32_t source_id = 0;
    ok = ok && s.ReadU32(&source_id);
    source_type = source_id >> 24;
    source_index = source_id & 0xFFFFFF;
  }
  ok = ok && s.ReadU32(&rate) && s.ReadU32(&pool) && s.ReadU32(&drops);
  if (expanded) {
    ok = ok && s.ReadU32(&in_format) && s.ReadU32(&in_value) &&
         s.ReadU32(&out_format) && s.ReadU32(&out_value);
  } else {
    uint32_t input = 0, output = 0;
    ok = ok && s.ReadU32(&input) && s.ReadU32(&output);
    in_format = input >> 30;
    in_value = input & 0x3FFFFFFF;
    out_format = output >> 30;
    out_value = output & 0x3FFFFFFF;
  }
  ok = ok && s.ReadU32(&n_records);
  if (!ok) {
    // The sample's own length is too short for its fixed fields.
    ctx_.Count(DecodeError::kSflowSampleOverrun);
    return;
  }
  const uint32_t source_id = (source_type << 24) | (source_index & 0xFFFFFF);

  FlowRecord* r = ctx_.NewRecord(ExportProtocol::kSflowV5);
  r->exporter = h_.record_exporter;
  Set(r, FlowField::kObservationDomain, r->observation_domain, h_.sub_agent_id);
  Set(r, FlowField::kExportSeqno, r->export_seqno, h_.sequence);
  Set(r, FlowField::kSampleSeqno, r->sample_seqno, seq);
  Set(r, FlowField::kSourceId, r->source_id, source_id);
  if (rate == 0) {
    ctx_.Count(DecodeError::kSflowZeroSamplingRate);  // SF-12
  } else {
    Set(r, FlowField::kSamplingRate, r->sampling_rate, rate);
  }
  Set(r, FlowField::kSamplePool, r->sample_pool, pool);
  Set(r, FlowField::kDrops, r->drops, drops);
  Set(r, FlowField::kInIface, r->in_iface, in_value);
  Set(r, FlowField::kOutIface, r->out_iface, out_value);
  r->out_iface_format = static_cast<uint8_t>(out_format > 3 ? 3 : out_format);
  const bool egress = out_format == kIfFormatSingle &&
                      source_index == out_value && source_index != in_value &&
                      in_format == kIfFormatSingle;
  Set(r, FlowField::kDirection, r->direction, egress ? 1 : 0);
  Set(r, FlowField::kPackets, r->packets, 1);
  Set(r, FlowField::kFlows, r->flows, 1);

  // Records: never trust n_records for anything but the loop bound; each
  // needs 8 bytes, so the loop ends within s.remaining() / 8 steps.
  for (uint32_t i = 0; i < n_records; ++i) {
    uint32_t format = 0;
    ByteReader rec;
    if (!NextRecord(&s, &format, &rec)) break;
    if ((format >> 12) != 0) {
      ctx_.Count(DecodeError::kSflowUnknownRecord);  // vendor enterprise
      continue;
    }
    bool record_ok = true;
    switch (format) {
      case kRecordRawHeader:
        record_ok = RawHeader(rec, r);
        break;
      case kRecordEthernet:
        record_ok = EthernetData(rec, r);
        break;
      case kRecordIpv4:
        record_ok = IpData(rec, /*v6=*/false, r);
        break;
      case kRecordIpv6:
        record_ok = IpData(rec, /*v6=*/true, r);
        break;
      case kRecordExtendedSwitch:
        record_ok = ExtendedSwitch(rec, r);
        break;
      case kRecordExtendedRouter:
        record_ok = ExtendedRouter(rec, r);
        break;
      case kRecordExtendedGateway:
        ExtendedGateway(rec, r);
        break;
      default:
        ctx_.Count(DecodeError::kSflowUnknownRecord);
        break;
    }
    if (!record_ok) ctx_.Count(DecodeError::kSflowRecordOverrun);  // SF-6
  }
  ++ctx_.exporter_stats.records;

  // SF-13: sample sequence per source; agent drops as a running total.
  ObserveSampleSequence(
      ctx_,
      SequenceKey{h_.agent, kFlowSampleStream, h_.sub_agent_id, source_id}, seq,
      1, &ctx_.exporter_stats.sflow_samples_lost);
  ObserveSampleSequence(
      ctx_, SequenceKey{h_.agent, kDropsStream, h_.sub_agent_id, source_id},
      drops, 0, &ctx_.exporter_stats.sflow_agent_drops);
}

bool SflowDecoder::RawHeader(ByteReader rec, FlowRecord* r) {
  // sampled_header: header_protocol frame_length stripped header<>.
  uint32_t protocol = 0, frame_length = 0, stripped = 0, header_length = 0;
  if (!rec.ReadU32(&protocol) || !rec.ReadU32(&frame_length) ||
      !rec.ReadU32(&stripped) || !rec.ReadU32(&header_length)) {
    return false;
  }
  std::span<const uint8_t> header;
  if (frame_length == 0 || stripped > frame_length ||
      !rec.ReadBytes(header_length, &header)) {
    ctx_.Count(DecodeError::kSflowHeaderLength);  // SF-9
    return true;
  }
  HeaderProtocol first;
  switch (protocol) {
    case kHeaderEthernet:
      first = HeaderProtocol::kEthernet;
      break;
    case kHeaderIpv4:
      first = HeaderProtocol::kIpv4;
      break;
    case kHeaderIpv6:
      first = HeaderProtocol::kIpv6;
      break;
    case kHeaderMpls:
      first = HeaderProtocol::kMpls;
      break;
    default:
      ctx_.Count(DecodeError::kSflowHeaderProtocol);  // SF-8
      return true;
  }
  Set(r, FlowField::kBytes, r->bytes, frame_length);
  const HeaderParseResult result = ParsePacketHeader(
      header, first, ctx_.state.options.sflow_max_header_depth, r);
  if (result.truncated) ctx_.Count(DecodeError::kSflowHeaderTruncated);
  return true;
}

bool SflowDecoder::EthernetData(ByteReader rec, FlowRecord* r) {
  // sampled_ethernet: length src_mac(6+2 pad) dst_mac(6+2 pad) type.
  uint32_t length = 0, type = 0;
  std::span<const uint8_t> src, dst;
  if (!rec.ReadU32(&length) || !rec.ReadBytes(8, &src) ||
      !rec.ReadBytes(8, &dst) || !rec.ReadU32(&type)) {
    return false;
  }
  SetIfAbsent(r, FlowField::kBytes, r->bytes, length);
  SetIfAbsent(r, FlowField::kSrcMac, r->src_mac,
              MacAddress::FromBytes(src.data()));
  SetIfAbsent(r, FlowField::kDstMac, r->dst_mac,
              MacAddress::FromBytes(dst.data()));
  SetIfAbsent(r, FlowField::kEtype, r->etype, type & 0xFFFF);
  return true;
}

bool SflowDecoder::IpData(ByteReader rec, bool v6, FlowRecord* r) {
  // sampled_ipv4 / sampled_ipv6: length protocol src dst src_port dst_port
  // tcp_flags tos|priority, with 4- or 16-byte addresses.
  uint32_t length = 0, protocol = 0, src_port = 0, dst_port = 0, flags = 0,
           tos = 0;
  const size_t address_size = v6 ? 16 : 4;
  std::span<const uint8_t> src, dst;
  if (!rec.ReadU32(&length) || !rec.ReadU32(&protocol) ||
      !rec.ReadBytes(address_size, &src) ||
      !rec.ReadBytes(address_size, &dst) || !rec.ReadU32(&src_port) ||
      !rec.ReadU32(&dst_port) || !rec.ReadU32(&flags) || !rec.ReadU32(&tos)) {
    return false;
  }
  auto address = [v6](std::span<const uint8_t> b) {
    return v6 ? IpAddress::V6Bytes(b.data()) : IpAddress::V4Bytes(b.data());
  };
  SetIfAbsent(r, FlowField::kBytes, r->bytes, length);
  SetIfAbsent(r, FlowField::kIpVersion, r->ip_version, v6 ? 6 : 4);
  SetIfAbsent(r, FlowField::kEtype, r->etype, v6 ? 0x86DD : 0x0800);
  SetIfAbsent(r, FlowField::kProto, r->proto, protocol & 0xFF);
  SetIfAbsent(r, FlowField::kSrcHost, r->src_host, address(src));
  SetIfAbsent(r, FlowField::kDstHost, r->dst_host, address(dst));
  SetIfAbsent(r, FlowField::kSrcPort, r->src_port, src_port & 0xFFFF);
  SetIfAbsent(r, FlowField::kDstPort, r->dst_port, dst_port & 0xFFFF);
  SetIfAbsent(r, FlowField::kTcpFlags, r->tcp_flags, flags & 0xFFFF);
  SetIfAbsent(r, FlowField::kTos, r->tos, tos & 0xFF);
  return true;
}

bool SflowDecoder::ExtendedSwitch(ByteReader rec, FlowRecord* r) {
  // extended_switch: src_vlan src_priority dst_vlan dst_priority.
  uint32_t src_vlan = 0, src_priority = 0, dst_vlan = 0, dst_priority = 0;
  if (!rec.ReadU32(&src_vlan) || !rec.ReadU32(&src_priority) ||
      !rec.ReadU32(&dst_vlan) || !rec.ReadU32(&dst_priority)) {
    return false;
  }
  // A VLAN id outside 0..4095 (agents send 0xFFFFFFFF for "unknown") is
  // not a VLAN: leave the field unset rather than truncating it.
  if (src_vlan <= 0xFFF) Set(r, FlowField::kInVlan, r->in_vlan, src_vlan);
  if (dst_vlan <= 0xFFF) Set(r, FlowField::kOutVlan, r->out_vlan, dst_vlan);
  if (src_priority <= 0x7) Set(r, FlowField::kCos, r->cos, src_priority);
  return true;
}

bool SflowDecoder::ExtendedRouter(ByteReader rec, FlowRecord* r) {
  // extended_router: next_hop(address) src_mask_len dst_mask_len.
  IpAddress next_hop;
  bool bad_type = false;
  uint32_t src_mask = 0, dst_mask = 0;
  if (!ReadAddress(&rec, &next_hop, &bad_type) || !rec.ReadU32(&src_mask) ||
      !rec.ReadU32(&dst_mask)) {
    return false;
  }
  Set(r, FlowField::kIpNextHop, r->ip_next_hop, next_hop);
  Set(r, FlowField::kSrcMask, r->src_mask, src_mask > 128 ? 0 : src_mask);
  Set(r, FlowField::kDstMask, r->dst_mask, dst_mask > 128 ? 0 : dst_mask);
  return true;
}

void SflowDecoder::ExtendedGateway(ByteReader rec, FlowRecord* r) {
  // extended_gateway: next_hop(address) as src_as src_peer_as
  // dst_as_path<as_path_type segments> communities<> localpref, with
  // as_path_segment = type(1 set, 2 sequence) as_number<>.
  IpAddress next_hop;
  bool bad_type = false;
  uint32_t router_as = 0, src_as = 0, src_peer_as = 0, n_segments = 0;
  if (!ReadAddress(&rec, &next_hop, &bad_type) || !rec.ReadU32(&router_as) ||
      !rec.ReadU32(&src_as) || !rec.ReadU32(&src_peer_as) ||
      !rec.ReadU32(&n_segments)) {
    ctx_.Count(DecodeError::kSflowGatewayOverrun);
    return;
  }
  // Validate every count against the bytes left before using any (SF-11).
  if (n_segments > rec.remaining() / 8) {
    ctx_.Count(DecodeError::kSflowGatewayOverrun);
    return;
  }
  const ByteReader path_start = rec;
  uint32_t first_as = 0, last_as = 0;
  size_t total_asns = 0;
  for (uint32_t i = 0; i < n_segments; ++i) {
    uint32_t type = 0, n_asns = 0;
    std::span<const uint8_t> asns;
    if (!rec.ReadU32(&type) || !rec.ReadU32(&n_asns) ||
        n_asns > rec.remaining() / 4 || !rec.ReadBytes(n_asns * 4, &asns)) {
      ctx_.Count(DecodeError::kSflowGatewayOverrun);
      return;
    }
    if (n_asns == 0) continue;
    if (total_asns == 0) first_as = LoadBe32(asns.data());
    last_as = LoadBe32(asns.data() + asns.size() - 4);
    total_asns += n_asns;
  }
  uint32_t n_communities = 0, local_pref = 0;
  std::span<const uint8_t> communities;
  if (!rec.ReadU32(&n_communities) || n_communities > rec.remaining() / 4 ||
      !rec.ReadBytes(size_t{n_communities} * 4, &communities) ||
      !rec.ReadU32(&local_pref)) {
    ctx_.Count(DecodeError::kSflowGatewayOverrun);
    return;
  }

  Set(r, FlowField::kBgpNextHop, r->bgp_next_hop, next_hop);
  Set(r, FlowField::kSrcAs, r->src_as, src_as);
  Set(r, FlowField::kPeerSrcAs, r->peer_src_as, src_peer_as);
  Set(r, FlowField::kLocalPref, r->local_pref, local_pref);
  if (total_asns > 0) {
    Set(r, FlowField::kDstAs, r->dst_as, last_as);
    Set(r, FlowField::kPeerDstAs, r->peer_dst_as, first_as);
    // Flatten the segments (already validated) into one big-endian list.
    uint8_t path[kMaxAsPathAsns * 4];
    size_t used = 0;
    ByteReader seg = path_start;
    for (uint32_t i = 0; i < n_segments && used < sizeof(path); ++i) {
      uint32_t type = 0, n_asns = 0;
      std::span<const uint8_t> asns;
      seg.ReadU32(&type);
      seg.ReadU32(&n_asns);
      seg.ReadBytes(size_t{n_asns} * 4, &asns);
      const size_t take =
          asns.size() < sizeof(path) - used ? asns.size() : sizeof(path) - used;
      std::memcpy(path + used, asns.data(), take);
      used += take;
    }
    Set(r, FlowField::kAsPath, r->as_path,
        ctx_.out.StoreBytes(std::span<const uint8_t>(path, used)));
  }
  if (n_communities > 0) {
    Set(r, FlowField::kStdComm, r->std_comm, ctx_.out.StoreBytes(communities));
  }
}

void SflowDecoder::CounterSample(ByteReader s, bool expanded) {
  // counters_sample / counters_sample_expanded (sFlow v5 §5 "Counter
  // Samples").
  uint32_t seq = 0, source_type = 0, source_index = 0, n_records = 0;
  bool ok = s.ReadU32(&seq);
  if (expanded) {
    ok = ok && s.ReadU32(&source_type) && s.ReadU32(&source_index);
  } else {
    uint32_t source_id = 0;
    ok = ok && s.ReadU32(&source_id);
    source_type = source_id >> 24;
    source_index = source_id & 0xFFFFFF;
  }
  ok = ok && s.ReadU32(&n_records);
  if (!ok) {
    ctx_.Count(DecodeError::kSflowSampleOverrun);
    return;
  }
  const uint32_t source_id = (source_type << 24) | (source_index & 0xFFFFFF);
  ObserveSampleSequence(
      ctx_,
      SequenceKey{h_.agent, kCounterSampleStream, h_.sub_agent_id, source_id},
      seq, 1, &ctx_.exporter_stats.sflow_samples_lost);
  if (!ctx_.state.options.sflow_counter_samples) return;

  CounterRecord* c = ctx_.out.AppendCounter();
  c->agent = h_.agent;
  c->sub_agent_id = h_.sub_agent_id;
  c->datagram_seqno = h_.sequence;
  c->sample_seqno = seq;
  c->source_id = source_id;
  c->timestamp_arrival = ctx_.datagram.arrival_ns;
  ++ctx_.exporter_stats.counter_records;

  for (uint32_t i = 0; i < n_records; ++i) {
    uint32_t format = 0;
    ByteReader rec;
    if (!NextRecord(&s, &format, &rec)) break;
    bool record_ok = true;
    switch (format) {
      case kCountersGeneric: {
        // if_counters: 88 bytes.
        uint32_t u32[14];
        uint64_t speed = 0, in_octets = 0, out_octets = 0;
        record_ok = rec.ReadU32(&c->if_index) && rec.ReadU32(&c->if_type) &&
                    rec.ReadU64(&speed) && rec.ReadU32(&c->if_direction) &&
                    rec.ReadU32(&c->if_status) && rec.ReadU64(&in_octets);
        for (int k = 0; k < 6 && record_ok; ++k)
          record_ok = rec.ReadU32(&u32[k]);
        record_ok = record_ok && rec.ReadU64(&out_octets);
        for (int k = 6; k < 12 && record_ok; ++k) {
          record_ok = rec.ReadU32(&u32[k]);
        }
        if (!record_ok) break;
        c->if_speed = speed;
        c->if_in_octets = in_octets;
        c->if_in_ucast_pkts = u32[0];
        c->if_in_multicast_pkts = u32[1];
        c->if_in_broadcast_pkts = u32[2];
        c->if_in_discards = u32[3];
        c->if_in_errors = u32[4];
        c->if_in_unknown_protos = u32[5];
        c->if_out_octets = out_octets;
        c->if_out_ucast_pkts = u32[6];
        c->if_out_multicast_pkts = u32[7];
        c->if_out_broadcast_pkts = u32[8];
        c->if_out_discards = u32[9];
        c->if_out_errors = u32[10];
        c->if_promiscuous_mode = u32[11];
        c->blocks |= CounterRecord::kGeneric;
        break;
      }
      case kCountersEthernet: {
        // ethernet_counters: 13 x uint32.
        uint32_t v[13];
        for (int k = 0; k < 13 && record_ok; ++k)
          record_ok = rec.ReadU32(&v[k]);
        if (!record_ok) break;
        c->dot3_alignment_errors = v[0];
        c->dot3_fcs_errors = v[1];
        c->dot3_single_collision_frames = v[2];
        c->dot3_multiple_collision_frames = v[3];
        c->dot3_sqe_test_errors = v[4];
        c->dot3_deferred_transmissions = v[5];
        c->dot3_late_collisions = v[6];
        c->dot3_excessive_collisions = v[7];
        c->dot3_internal_mac_transmit_errors = v[8];
        c->dot3_carrier_sense_errors = v[9];
        c->dot3_frame_too_longs = v[10];
        c->dot3_internal_mac_receive_errors = v[11];
        c->dot3_symbol_errors = v[12];
        c->blocks |= CounterRecord::kEthernet;
        break;
      }
      case kCountersVlan: {
        // vlan_counters: vlan_id octets(64) ucast multicast broadcast
        // discards.
        uint32_t vlan = 0, v[4];
        uint64_t octets = 0;
        record_ok = rec.ReadU32(&vlan) && rec.ReadU64(&octets);
        for (int k = 0; k < 4 && record_ok; ++k) record_ok = rec.ReadU32(&v[k]);
        if (!record_ok) break;
        c->vlan_id = vlan;
        c->vlan_octets = octets;
        c->vlan_ucast_pkts = v[0];
        c->vlan_multicast_pkts = v[1];
        c->vlan_broadcast_pkts = v[2];
        c->vlan_discards = v[3];
        c->blocks |= CounterRecord::kVlan;
        break;
      }
      case kCountersProcessor: {
        // processor: 5s_cpu 1m_cpu 5m_cpu total_memory(64) free_memory(64).
        uint32_t cpu5s = 0, cpu1m = 0, cpu5m = 0;
        uint64_t total = 0, free = 0;
        record_ok = rec.ReadU32(&cpu5s) && rec.ReadU32(&cpu1m) &&
                    rec.ReadU32(&cpu5m) && rec.ReadU64(&total) &&
                    rec.ReadU64(&free);
        if (!record_ok) break;
        c->cpu_5s_percent = cpu5s;
        c->cpu_1m_percent = cpu1m;
        c->cpu_5m_percent = cpu5m;
        c->total_memory = total;
        c->free_memory = free;
        c->blocks |= CounterRecord::kProcessor;
        break;
      }
      default:
        ++c->unknown_blocks;
        break;
    }
    if (!record_ok) {
      ++c->unknown_blocks;
      ctx_.Count(DecodeError::kSflowRecordOverrun);  // shorter than format
    }
  }
}

}  // namespace

void DecodeSflowV5(DecodeContext& ctx) {
  ByteReader in(ctx.datagram.payload);
  uint32_t version = 0;
  in.ReadU32(&version);  // == 5, checked by the dispatcher
  DatagramHeader h;
  bool bad_type = false;
  if (!ReadAddress(&in, &h.agent, &bad_type)) {
    ctx.Count(bad_type ? DecodeError::kSflowAgentAddress
                       : DecodeError::kShortDatagram);  // SF-1
    return;
  }
  uint32_t uptime = 0, n_samples = 0;
  if (!in.ReadU32(&h.sub_agent_id) || !in.ReadU32(&h.sequence) ||
      !in.ReadU32(&uptime) || !in.ReadU32(&n_samples)) {
    ctx.Count(DecodeError::kShortDatagram);
    return;
  }
  h.record_exporter = ctx.state.options.use_exporter_address_element
                          ? h.agent
                          : ctx.datagram.exporter.address;

  // SF-13: datagram sequence per (agent, sub-agent).
  ctx.state.sequences.Observe(
      SequenceKey{h.agent, ExportProtocol::kSflowV5, h.sub_agent_id, 0},
      h.sequence, 1, SequenceTracker::Limits{}, &ctx.exporter_stats.sequence);

  // SF-2: every sample needs at least its 8-byte format + length.
  if (n_samples > in.remaining() / 8) {
    ctx.Count(DecodeError::kSflowSampleCount);
  }
  SflowDecoder decoder(ctx, h);
  for (uint32_t i = 0; i < n_samples && !in.empty(); ++i) {
    uint32_t format = 0;
    ByteReader sample;
    const Framing framing = NextItem(&in, &format, &sample);
    if (framing == Framing::kOverrun) {
      ctx.Count(DecodeError::kSflowSampleOverrun);  // SF-3
      return;
    }
    if (framing == Framing::kMisaligned) {
      ctx.Count(DecodeError::kSflowMisaligned);  // SF-5
      return;
    }
    switch (format) {
      case kFlowSample:
        decoder.FlowSample(sample, /*expanded=*/false);
        break;
      case kFlowSampleExpanded:
        decoder.FlowSample(sample, /*expanded=*/true);
        break;
      case kCounterSample:
        decoder.CounterSample(sample, /*expanded=*/false);
        break;
      case kCounterSampleExpanded:
        decoder.CounterSample(sample, /*expanded=*/true);
        break;
      default:
        ctx.Count(DecodeError::kSflowUnknownSample);  // SF-7
        break;
    }
  }
}

}  // namespace flowacct::internal
