#include "libflowacct/decode/field_program.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>

#include "flowacct/model/primitive_registry.h"

#include "libflowacct/decode/packet_header.h"

namespace flowacct::internal {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;
// Seconds between the NTP epoch (1900-01-01) and the Unix epoch (RFC 5905
// §6; used by RFC 7011 §6.1.9-10 dateTimeMicro/Nanoseconds).
constexpr int64_t kNtpToUnixSeconds = 2'208'988'800;
// Plausibility window around the export time (NF-26): later than one day
// after it, or earlier than a year before it, is flagged.
constexpr int64_t kMaxFutureNs = int64_t{86400} * kNsPerSec;
constexpr int64_t kMaxPastNs = int64_t{366} * 86400 * kNsPerSec;

int64_t ScaleToNs(uint64_t v, int64_t unit_ns) {
  const uint64_t max =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / unit_ns);
  if (v > max) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(v) * unit_ns;
}

void OrFields(FieldSet* dst, const FieldSet& src) {
  uint64_t a[2];
  uint64_t b[2];
  static_assert(sizeof(FieldSet) == sizeof(a));
  std::memcpy(a, dst, sizeof(a));
  std::memcpy(b, &src, sizeof(b));
  a[0] |= b[0];
  a[1] |= b[1];
  std::memcpy(dst, a, sizeof(a));
}

FieldOp OpFor(const InformationElement& ie) {
  switch (ie.converter) {
    case Converter::kUint:
      switch (ie.member.kind) {
        case MemberRef::Kind::kU8:
          return FieldOp::kU8;
        case MemberRef::Kind::kU16:
          return FieldOp::kU16;
        case MemberRef::Kind::kU32:
          return FieldOp::kU32;
        case MemberRef::Kind::kU64:
          return FieldOp::kU64;
        default:
          return FieldOp::kSkip;
      }
    case Converter::kIpv4:
      return FieldOp::kIpv4;
    case Converter::kIpv6:
      return FieldOp::kIpv6;
    case Converter::kMac:
      return FieldOp::kMac;
    case Converter::kRouteDistinguisher:
      return FieldOp::kRd;
    case Converter::kBytes:
      return FieldOp::kBytes;
    case Converter::kIcmpTypeCode:
      return FieldOp::kIcmpTypeCode;
    case Converter::kMplsLabel:
      return FieldOp::kMplsLabel;
    case Converter::kTimeSeconds:
      return FieldOp::kTimeSeconds;
    case Converter::kTimeMilliseconds:
      return FieldOp::kTimeMilliseconds;
    case Converter::kTimeNtp:
      return FieldOp::kTimeNtp;
    case Converter::kSysUpTime:
      return ie.field == FlowField::kTimestampStart ? FieldOp::kSysUpStart
                                                    : FieldOp::kSysUpEnd;
    case Converter::kSysInitTime:
      return FieldOp::kSysInitTime;
    case Converter::kObservationTime:
      return FieldOp::kObservationTime;
    case Converter::kPacketInterval:
      return FieldOp::kPacketInterval;
    case Converter::kPacketSpace:
      return FieldOp::kPacketSpace;
    case Converter::kPacketSection:
      return FieldOp::kPacketSection;
    case Converter::kExporterAddress:
      return FieldOp::kExporterAddress;
    case Converter::kMplsTopLabelAddress:
      return FieldOp::kMplsTopLabelAddress;
    case Converter::kNone:
    case Converter::kOpaqueList:
      return FieldOp::kSkip;
  }
  return FieldOp::kSkip;
}

// Per-record values resolved after all fields are read (RFC 7011 allows any
// field order: IE 160 may follow 21/22, peers Q24).
struct Scratch {
  uint32_t sysup_start = 0;
  uint32_t sysup_end = 0;
  uint64_t sys_init_ms = 0;
  uint64_t packet_interval = 0;
  uint64_t packet_space = 0;
  std::span<const uint8_t> packet_section;          // IE 315 / v9 104
  const uint8_t* exporter_address = nullptr;        // IE 130/131, non-zero
  const uint8_t* mpls_top_label_address = nullptr;  // IE 47, non-zero
  uint8_t exporter_address_len = 0;
};

// RFC 3954 §6.1 scope field type "Interface", and the IPFIX element it maps
// to (ingressInterface).
constexpr uint16_t kV9ScopeInterface = 2;
constexpr uint16_t kIngressInterfaceIe = 10;

// Encapsulation layers walked in an exported frame section.
constexpr int kPacketSectionMaxDepth = 8;

// LoadBeN with the common widths unrolled. REQUIRES: 1 <= n <= 8.
inline uint64_t LoadUint(const uint8_t* p, size_t n) {
  switch (n) {
    case 1:
      return p[0];
    case 2:
      return LoadBe16(p);
    case 4:
      return LoadBe32(p);
    case 8:
      return LoadBe64(p);
    default:
      return LoadBeN(p, n);
  }
}

// One step. Always inlined into the record loops: as a call per field, the
// call, spills and reloads cost more than the field's work.
template <bool kCustoms>
[[gnu::always_inline]] inline void Apply(const FieldStep& s, const uint8_t* p,
                                         size_t len, FlowRecord* r,
                                         RecordBatch* batch, Scratch* sc,
                                         RecordIssues* issues) {
  switch (s.op) {
    case FieldOp::kSkip:
      break;
    case FieldOp::kBadLength:
      issues->field_length = true;
      break;
    case FieldOp::kU8:
      r->*s.member.u8 = static_cast<uint8_t>(LoadUint(p, len));
      break;
    case FieldOp::kU16:
      r->*s.member.u16 = static_cast<uint16_t>(LoadUint(p, len));
      break;
    case FieldOp::kU32:
      r->*s.member.u32 = static_cast<uint32_t>(LoadUint(p, len));
      break;
    case FieldOp::kU64:
      r->*s.member.u64 = LoadUint(p, len);
      break;
    case FieldOp::kU8From1:
      r->*s.member.u8 = p[0];
      break;
    case FieldOp::kU16From2:
      r->*s.member.u16 = LoadBe16(p);
      break;
    case FieldOp::kU32From4:
      r->*s.member.u32 = LoadBe32(p);
      break;
    case FieldOp::kU64From4:
      r->*s.member.u64 = LoadBe32(p);
      break;
    case FieldOp::kU64From8:
      r->*s.member.u64 = LoadBe64(p);
      break;
    case FieldOp::kIpv4:
      if ((s.aux & kAuxNonZeroOnly) && LoadBe32(p) == 0) break;
      (r->*s.member.ip).AssignV4Bytes(p);
      break;
    case FieldOp::kIpv6:
      if ((s.aux & kAuxNonZeroOnly) && (LoadBe64(p) | LoadBe64(p + 8)) == 0) {
        break;
      }
      (r->*s.member.ip).AssignV6Bytes(p);
      break;
    case FieldOp::kExporterAddress:
      // Resolved in Finish: DecoderOptions may say to ignore it.
      if (len == 4 ? LoadBe32(p) != 0 : (LoadBe64(p) | LoadBe64(p + 8)) != 0) {
        sc->exporter_address = p;
        sc->exporter_address_len = static_cast<uint8_t>(len);
      }
      break;
    case FieldOp::kMplsTopLabelAddress:
      if (LoadBe32(p) != 0) sc->mpls_top_label_address = p;
      break;
    case FieldOp::kMac:
      r->*s.member.mac = MacAddress::FromBytes(p);
      break;
    case FieldOp::kRd:
      std::memcpy((r->*s.member.rd).data(), p, 8);
      break;
    case FieldOp::kBytes:
      r->*s.member.ref = batch->StoreBytes(std::span<const uint8_t>(p, len));
      break;
    case FieldOp::kIcmpTypeCode: {
      const uint64_t v = LoadUint(p, len);
      r->icmp_type = static_cast<uint8_t>(v >> 8);
      r->icmp_code = static_cast<uint8_t>(v);
      break;
    }
    case FieldOp::kMplsLabel:
      r->mpls_labels[s.aux] = static_cast<uint32_t>(LoadUint(p, len));
      break;
    case FieldOp::kTimeSeconds:
      r->*s.member.i64 = ScaleToNs(LoadUint(p, len), kNsPerSec);
      break;
    case FieldOp::kTimeMilliseconds:
      r->*s.member.i64 = ScaleToNs(LoadUint(p, len), kNsPerMs);
      break;
    case FieldOp::kTimeNtp: {
      // RFC 7011 §6.1.9/§6.1.10: 32-bit seconds since 1900, 32-bit fraction.
      const int64_t secs = int64_t{LoadBe32(p)} - kNtpToUnixSeconds;
      const uint64_t frac = LoadBe32(p + 4);
      r->*s.member.i64 =
          secs * kNsPerSec + static_cast<int64_t>((frac * kNsPerSec) >> 32);
      break;
    }
    case FieldOp::kSysUpStart:
      sc->sysup_start = static_cast<uint32_t>(LoadUint(p, len));
      break;
    case FieldOp::kSysUpEnd:
      sc->sysup_end = static_cast<uint32_t>(LoadUint(p, len));
      break;
    case FieldOp::kSysInitTime:
      sc->sys_init_ms = LoadUint(p, len);
      break;
    case FieldOp::kObservationTime: {
      const int64_t t = ScaleToNs(LoadUint(p, len), kNsPerMs);
      if (s.aux & 1) r->timestamp_start = t;
      if (s.aux & 2) r->timestamp_end = t;
      break;
    }
    case FieldOp::kPacketInterval:
      sc->packet_interval = LoadUint(p, len);
      break;
    case FieldOp::kPacketSpace:
      sc->packet_space = LoadUint(p, len);
      break;
    case FieldOp::kPacketSection:
      // Parsed in Finish, after the typed fields are marked, so that they
      // take precedence over what the frame says.
      sc->packet_section = std::span<const uint8_t>(p, len);
      break;
  }
  if (kCustoms && s.custom != kNoCustom) {
    batch->AddCustom(r, s.custom, std::span<const uint8_t>(p, len));
  }
}

bool IsAddressOp(FieldOp op) {
  return op == FieldOp::kIpv4 || op == FieldOp::kIpv6;
}

// True when `winner` and `ie` fill the same address member from different
// address families (IE 8 vs 27, 12 vs 28, 15 vs 62, 18 vs 63, 225 vs 281...).
bool IsOtherFamily(const InformationElement* winner,
                   const InformationElement& ie) {
  if (winner == nullptr || winner->rank != ie.rank) return false;
  return (winner->converter == Converter::kIpv4 &&
          ie.converter == Converter::kIpv6) ||
         (winner->converter == Converter::kIpv6 &&
          ie.converter == Converter::kIpv4);
}

// The exact-width variant of an unsigned op, when the wire length allows.
FieldOp Specialize(FieldOp op, uint16_t length) {
  switch (op) {
    case FieldOp::kU8:
      return length == 1 ? FieldOp::kU8From1 : op;
    case FieldOp::kU16:
      return length == 2 ? FieldOp::kU16From2 : op;
    case FieldOp::kU32:
      return length == 4 ? FieldOp::kU32From4 : op;
    case FieldOp::kU64:
      return length == 4   ? FieldOp::kU64From4
             : length == 8 ? FieldOp::kU64From8
                           : op;
    default:
      return op;
  }
}

// A relative (IE 21/22) time in ns since the epoch; nullopt when the
// record and its message give no base to resolve it against exactly.
std::optional<int64_t> ResolveSysUpTime(uint32_t value,
                                        const FieldProgram& prog,
                                        const RecordTimeBase& time,
                                        const Scratch& sc, bool is_end,
                                        RecordIssues* issues) {
  if (prog.flags & FieldProgram::kHasSysInit) {
    // IPFIX: systemInitTimeMilliseconds + offset (RFC 7012 IE 21/22/160).
    return ScaleToNs(sc.sys_init_ms + value, kNsPerMs);
  }
  if (time.has_sys_init) {
    // IPFIX: IE 160 learnt from the domain's options data (Cisco IOS-XE).
    return ScaleToNs(time.sys_init_ms + value, kNsPerMs);
  }
  if (time.has_sys_uptime) {
    // RFC 3954 §5.1: sysUptime (ms) at export time unix_secs. The 32-bit
    // difference handles the ~49.7-day wrap (peers Q4); a value after
    // sysUptime (CSCei12353) gives a time after the export.
    const int32_t ago = static_cast<int32_t>(time.sys_uptime_ms - value);
    if (ago < -1000) issues->time_anomaly = true;
    return time.export_time_ns - int64_t{ago} * kNsPerMs;
  }
  // No base at all (IPFIX without IE 160, MikroTik): nothing is invented
  // for the end, which stays absent; the start is the export time, the one
  // instant known to be at or after the flow's start (pmacct does the
  // same, docs/pmacct-parity.md §2).
  if (is_end) return std::nullopt;
  return time.export_time_ns;
}

// The template reserves `slots` label positions (IE 70..79); exporters fill
// the unused ones with zeros. The stack ends at the bottom-of-stack bit
// (RFC 3032 §2.1: the low bit of the 24-bit entry IE 70..79 carry) or at
// the trailing zero entries.
void TrimLabelStack(uint8_t slots, FlowRecord* r) {
  uint8_t n = slots;
  for (uint8_t i = 0; i < slots; ++i) {
    if (r->mpls_labels[i] & 1) {
      n = static_cast<uint8_t>(i + 1);
      break;
    }
  }
  while (n > 0 && r->mpls_labels[n - 1] == 0) --n;
  r->mpls_label_count = n;
  if (n == 0) r->fields.clear(FlowField::kMplsLabels);
}

// The record-independent part: what every record of the template carries
// whatever its bytes. No field step writes these members, so setting them
// before the fields (in a prototype) or after gives the same record.
void SetProgramDefaults(const FieldProgram& prog, const RecordTimeBase& time,
                        FlowRecord* r) {
  r->kind = prog.kind;
  r->template_id = prog.template_id;
  OrFields(&r->fields, prog.fields);
  if (!r->fields.has(FlowField::kTimestampExport) && time.export_time_ns) {
    r->timestamp_export = time.export_time_ns;
    r->fields.set(FlowField::kTimestampExport);
  }
  if (prog.flags & FieldProgram::kDefaultFlows) r->flows = 1;
}

// The per-record work after the fields.
void Finish(const FieldProgram& prog, const RecordTimeBase& time,
            const Scratch& sc, FlowRecord* r, RecordIssues* issues) {
  const uint32_t flags = prog.flags & ~uint32_t{FieldProgram::kDefaultFlows};
  if (flags == 0 && prog.mpls_label_count == 0) return;
  if (prog.mpls_label_count > 0) TrimLabelStack(prog.mpls_label_count, r);
  if ((flags & FieldProgram::kExporterAddress) && sc.exporter_address &&
      time.use_exporter_address_element) {
    // pmacct: IE 130/131 name the exporter (unless *_ignore_exporter_address).
    if (sc.exporter_address_len == 4) {
      r->exporter.AssignV4Bytes(sc.exporter_address);
    } else {
      r->exporter.AssignV6Bytes(sc.exporter_address);
    }
  }
  if ((flags & FieldProgram::kPacketSection) && !sc.packet_section.empty()) {
    // RFC 7133 §4.8 dataLinkFrameSection: the frame from its L2 header.
    ParsePacketHeader(sc.packet_section, HeaderProtocol::kEthernet,
                      kPacketSectionMaxDepth, r);
  }
  if ((flags & FieldProgram::kHasSysInit) && sc.sys_init_ms != 0) {
    issues->sys_init_ms = sc.sys_init_ms;
  }
  if (flags & FieldProgram::kResolveSysUpStart) {
    const std::optional<int64_t> t =
        ResolveSysUpTime(sc.sysup_start, prog, time, sc, false, issues);
    if (t) {
      r->timestamp_start = *t;
    } else {
      r->fields.clear(FlowField::kTimestampStart);
    }
  }
  if (flags & FieldProgram::kResolveSysUpEnd) {
    const std::optional<int64_t> t =
        ResolveSysUpTime(sc.sysup_end, prog, time, sc, true, issues);
    if (t) {
      r->timestamp_end = *t;
    } else {
      r->fields.clear(FlowField::kTimestampEnd);
    }
  }
  if ((flags & FieldProgram::kMplsTopLabelAddress) &&
      sc.mpls_top_label_address != nullptr) {
    // pmacct's peer_dst_ip for MPLS-switched traffic: the top label's
    // address when the record has no BGP next hop, or 0.0.0.0 in IE 18.
    const IpAddress& nh = r->bgp_next_hop;
    const bool zero = !nh.is_set() || (nh.is_v4() && nh.v4_host_order() == 0);
    if (zero) {
      r->bgp_next_hop.AssignV4Bytes(sc.mpls_top_label_address);
      r->fields.set(FlowField::kBgpNextHop);
    }
  }
  if (flags & FieldProgram::kNatEventFromFwEvent) {
    // NSEL: no natEvent (230); pmacct's nat_event is the firewall event.
    r->nat_event = r->fw_event;
  }
  if (flags & FieldProgram::kResolvePacketSampling) {
    // Systematic count-based sampling (RFC 5476 §6.5.2.1): `interval`
    // packets selected out of every interval + space (peers Q28). Without a
    // space (IE 306 absent or 0, e.g. pmacct-104's samplingSize /
    // samplingPopulation selector, logstash-ipfix-two-messages' "interval
    // 1, space 0") the record gives no usable rate: unknown (0), as pmacct
    // prints it, rather than a made-up 1.
    const uint64_t rate =
        sc.packet_interval != 0 && sc.packet_space != 0
            ? (sc.packet_space + sc.packet_interval) / sc.packet_interval
            : 0;
    r->sampling_rate =
        rate > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(rate);
    if (rate == 0) r->fields.clear(FlowField::kSamplingRate);
  }
  if ((flags & FieldProgram::kDeriveIpVersion) &&
      !r->fields.has(FlowField::kIpVersion)) {
    const IpAddress& a = r->src_host.is_set() ? r->src_host : r->dst_host;
    if (a.is_set()) {
      r->ip_version = a.is_v4() ? 4 : 6;
      r->fields.set(FlowField::kIpVersion);
    }
  }
  if (flags & FieldProgram::kCheckTimes) {
    // An absolute time of 0 (1970) is an exporter's way of not filling the
    // field (nProbe, some IPFIX exporters): the record has no such time.
    if (r->timestamp_start == 0) r->fields.clear(FlowField::kTimestampStart);
    if (r->timestamp_end == 0) r->fields.clear(FlowField::kTimestampEnd);
    const bool has_start = r->fields.has(FlowField::kTimestampStart);
    const bool has_end = r->fields.has(FlowField::kTimestampEnd);
    if (has_start && has_end && r->timestamp_end < r->timestamp_start) {
      issues->time_anomaly = true;
    }
    if (time.export_time_ns > 0) {
      const int64_t hi = time.export_time_ns + kMaxFutureNs;
      const int64_t lo = time.export_time_ns - kMaxPastNs;
      if ((has_start && (r->timestamp_start > hi || r->timestamp_start < lo)) ||
          (has_end && (r->timestamp_end > hi || r->timestamp_end < lo))) {
        issues->time_anomaly = true;
      }
    }
  }
}

// The copy kind of a compiled step, if it is a plain store.
std::optional<CopyKind> CopyKindOf(const FieldStep& s) {
  if (s.custom != kNoCustom) return std::nullopt;
  switch (s.op) {
    case FieldOp::kU8From1:
      return CopyKind::kU8From1;
    case FieldOp::kU16:
      if (s.length == 1) return CopyKind::kU16From1;
      return std::nullopt;
    case FieldOp::kU16From2:
      return CopyKind::kU16From2;
    case FieldOp::kU32:
      if (s.length == 2) return CopyKind::kU32From2;
      return std::nullopt;
    case FieldOp::kU32From4:
      return CopyKind::kU32From4;
    case FieldOp::kU64From4:
      return CopyKind::kU64From4;
    case FieldOp::kU64From8:
      return CopyKind::kU64From8;
    case FieldOp::kIpv4:
      if (s.aux == 0) return CopyKind::kIpv4;
      return std::nullopt;
    case FieldOp::kIpv6:
      if (s.aux == 0) return CopyKind::kIpv6;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// Byte offset in FlowRecord of the member `m` names, or -1 for none.
ptrdiff_t MemberOffset(const MemberRef& m) {
  static const FlowRecord probe{};
  const auto at = [](const void* p) {
    return static_cast<const char*>(p) - reinterpret_cast<const char*>(&probe);
  };
  switch (m.kind) {
    case MemberRef::Kind::kNone:
      return -1;
    case MemberRef::Kind::kU8:
      return at(&(probe.*m.u8));
    case MemberRef::Kind::kU16:
      return at(&(probe.*m.u16));
    case MemberRef::Kind::kU32:
      return at(&(probe.*m.u32));
    case MemberRef::Kind::kU64:
      return at(&(probe.*m.u64));
    case MemberRef::Kind::kI64:
      return at(&(probe.*m.i64));
    case MemberRef::Kind::kIp:
      return at(&(probe.*m.ip));
    case MemberRef::Kind::kMac:
      return at(&(probe.*m.mac));
    case MemberRef::Kind::kRef:
      return at(&(probe.*m.ref));
    case MemberRef::Kind::kRd:
      return at(&(probe.*m.rd));
  }
  return -1;
}

// Moves the plain stores with known offsets (all fields of an all-fixed
// program, the fixed prefix of a variable-length one) from `steps` into
// `copies` (see FieldProgram::copies), when running them first cannot
// change the record: no other step writes a member a copy writes.
void GroupCopies(FieldProgram* prog) {
  if (prog->has_customs) return;
  const size_t known =
      prog->variable_length ? prog->fixed_prefix_steps : prog->steps.size();
  std::vector<ptrdiff_t> written;  // members written by any step
  bool icmp_pair = false;          // kIcmpTypeCode writes two members
  for (const FieldStep& s : prog->steps) {
    if (s.op == FieldOp::kIcmpTypeCode) icmp_pair = true;
    if (s.op == FieldOp::kSkip || s.op == FieldOp::kBadLength) continue;
    const ptrdiff_t m = MemberOffset(s.member);
    if (m >= 0) written.push_back(m);
  }
  const ptrdiff_t icmp_type = offsetof(FlowRecord, icmp_type);
  const ptrdiff_t icmp_code = offsetof(FlowRecord, icmp_code);
  for (size_t i = 0; i < known; ++i) {
    const FieldStep& s = prog->steps[i];
    if (!CopyKindOf(s)) continue;
    const ptrdiff_t m = MemberOffset(s.member);
    if (std::count(written.begin(), written.end(), m) != 1) return;
    if (icmp_pair && (m == icmp_type || m == icmp_code)) return;
  }
  std::vector<FieldStep> rest;
  uint32_t known_rest = 0;  // steps of the fixed prefix left in `rest`
  std::array<std::vector<FieldCopy>, kCopyKindCount> by_kind;
  for (size_t i = 0; i < prog->steps.size(); ++i) {
    const FieldStep& s = prog->steps[i];
    const std::optional<CopyKind> k = i < known ? CopyKindOf(s) : std::nullopt;
    if (k) {
      by_kind[static_cast<int>(*k)].push_back(FieldCopy{s.offset, s.member});
    } else {
      rest.push_back(s);
      if (i < known) ++known_rest;
    }
  }
  if (prog->variable_length) prog->fixed_prefix_steps = known_rest;
  for (int k = 0; k < kCopyKindCount; ++k) {
    prog->copies.insert(prog->copies.end(), by_kind[k].begin(),
                        by_kind[k].end());
    prog->copies_end[k] = static_cast<uint32_t>(prog->copies.size());
  }
  prog->steps = std::move(rest);
}

}  // namespace

void CompileFieldProgram(uint16_t template_id, bool options,
                         std::span<const TemplateField> fields,
                         const PrimitiveRegistry* registry,
                         FieldProgram* program, size_t v9_scope_fields) {
  FieldProgram& prog = *program;
  prog = FieldProgram();
  prog.template_id = template_id;
  prog.fields.set(FlowField::kTemplateId);

  const size_t n = fields.size();
  std::vector<const InformationElement*> ies(n, nullptr);
  std::vector<bool> valid(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (fields[i].length == kVariableLength) prog.variable_length = true;
    if (i < v9_scope_fields) {
      // RFC 3954 §6.1 scope types. Only "Interface" (2) maps onto a record
      // member: it is the ifIndex the options describe. The others carry
      // nothing a FlowRecord holds and are skipped by length.
      ies[i] = fields[i].element.id == kV9ScopeInterface
                   ? FindInformationElement(0, kIngressInterfaceIe)
                   : nullptr;
    } else {
      ies[i] = FindInformationElement(fields[i].element.pen,
                                      fields[i].element.id, fields[i].reverse);
    }
    if (ies[i] != nullptr) valid[i] = IsValidLength(*ies[i], fields[i].length);
  }

  // Pass 1: which field fills each FlowRecord member. Lower rank wins; on a
  // tie the first occurrence (repeated IEs, NF-15 / peers Q10).
  struct Winner {
    int index = -1;
    uint8_t rank = 0xFF;
  };
  std::array<Winner, kFlowFieldCount> winner{};
  for (size_t i = 0; i < n; ++i) {
    const InformationElement* ie = ies[i];
    if (ie == nullptr || !valid[i]) continue;
    for (FlowField f : {ie->field, ie->field2}) {
      if (f == FlowField::kCount) continue;
      Winner& w = winner[static_cast<int>(f)];
      if (ie->rank < w.rank) w = Winner{static_cast<int>(i), ie->rank};
    }
  }
  auto wins = [&](FlowField f, size_t i) {
    return f != FlowField::kCount &&
           winner[static_cast<int>(f)].index == static_cast<int>(i);
  };
  auto has = [&](FlowField f) {
    return winner[static_cast<int>(f)].index >= 0;
  };

  // Pass 2: steps.
  std::vector<const InformationElement*> seen_unkeyed;  // 160, 305, ...
  std::vector<uint16_t> used_customs;
  uint32_t offset = 0;
  bool in_fixed_prefix = true;  // no variable-length field yet
  bool packet_interval = false;
  for (size_t i = 0; i < n; ++i) {
    const TemplateField& tf = fields[i];
    const InformationElement* ie = ies[i];
    FieldStep step;
    step.length = tf.length;
    step.offset = static_cast<uint16_t>(offset);
    if (ie != nullptr) {
      const FieldOp op = OpFor(*ie);
      if (op == FieldOp::kSkip) {
        // Known, nothing to fill.
      } else if (!valid[i]) {
        step.op = FieldOp::kBadLength;
      } else if (ie->field != FlowField::kCount) {
        const bool w1 = wins(ie->field, i);
        const bool w2 = wins(ie->field2, i);
        if (op == FieldOp::kObservationTime) {
          step.aux = (w1 ? 1 : 0) | (w2 ? 2 : 0);
          if (step.aux != 0) step.op = op;
        } else if (w1) {
          step.op = op;
          step.aux = ie->aux;
        } else if (IsAddressOp(op) &&
                   IsOtherFamily(ies[winner[static_cast<int>(ie->field)].index],
                                 *ie)) {
          // sourceIPv4Address and sourceIPv6Address in one template (Cisco
          // sends one template for both families): each record carries one
          // of them and zeros in the other, so the non-winning family
          // overrides the winner only with a non-zero address.
          step.op = op;
          step.aux = kAuxNonZeroOnly;
        }
        if (step.op != FieldOp::kSkip) {
          step.op = Specialize(step.op, tf.length);
          step.member = ie->member;
          if (w1) prog.fields.set(ie->field);
          if (w2) prog.fields.set(ie->field2);
        }
      } else {
        // Elements without a FlowField: first occurrence only.
        bool seen = false;
        for (const InformationElement* s : seen_unkeyed) seen |= (s == ie);
        if (!seen) {
          seen_unkeyed.push_back(ie);
          step.op = op;
          step.aux = ie->aux;
          step.member = ie->member;
        }
      }
    }
    switch (step.op) {
      case FieldOp::kSysUpStart:
        prog.flags |= FieldProgram::kResolveSysUpStart;
        break;
      case FieldOp::kSysUpEnd:
        prog.flags |= FieldProgram::kResolveSysUpEnd;
        break;
      case FieldOp::kSysInitTime:
        prog.flags |= FieldProgram::kHasSysInit;
        break;
      case FieldOp::kPacketInterval:
        packet_interval = true;
        break;
      case FieldOp::kPacketSection:
        prog.flags |= FieldProgram::kPacketSection;
        break;
      case FieldOp::kExporterAddress:
        prog.flags |= FieldProgram::kExporterAddress;
        break;
      case FieldOp::kMplsTopLabelAddress:
        prog.flags |= FieldProgram::kMplsTopLabelAddress;
        break;
      case FieldOp::kMplsLabel:
        if (step.aux + 1 > prog.mpls_label_count) {
          prog.mpls_label_count = static_cast<uint8_t>(step.aux + 1);
        }
        break;
      default:
        break;
    }
    // Custom primitives (aggregate_primitives) on this element: first
    // occurrence of the element only.
    if (registry != nullptr) {
      for (const PrimitiveInfo* c : registry->customs()) {
        const bool match = c->element.id == tf.element.id &&
                           (c->element.pen == tf.element.pen ||
                            (tf.reverse && tf.element.pen == 0 &&
                             c->element.pen == kReversePen));
        if (!match) continue;
        bool used = false;
        for (uint16_t u : used_customs) used |= (u == c->id);
        if (used) continue;
        used_customs.push_back(c->id);
        step.custom = c->id;
        prog.has_customs = true;
        break;
      }
    }
    if (tf.length == kVariableLength && in_fixed_prefix) {
      in_fixed_prefix = false;
      prog.fixed_prefix_length = offset;
      prog.fixed_prefix_steps = static_cast<uint32_t>(prog.steps.size());
    }
    // Skipped fields are only needed to advance past them after the fixed
    // prefix of a variable-length template.
    if ((prog.variable_length && !in_fixed_prefix) ||
        step.op != FieldOp::kSkip || step.custom != kNoCustom) {
      prog.steps.push_back(step);
    }
    if (tf.length != kVariableLength) offset += tf.length;
  }
  prog.record_length = prog.variable_length ? 0 : offset;
  GroupCopies(&prog);
  if (prog.mpls_label_count > 0) prog.fields.set(FlowField::kMplsLabels);

  // Sampling from 305/306 only when neither 34 nor 50 is present.
  if (packet_interval && !has(FlowField::kSamplingRate)) {
    prog.flags |= FieldProgram::kResolvePacketSampling;
    prog.fields.set(FlowField::kSamplingRate);
  }
  if (!has(FlowField::kIpVersion) &&
      (has(FlowField::kSrcHost) || has(FlowField::kDstHost))) {
    prog.flags |= FieldProgram::kDeriveIpVersion;
  }
  if (options) {
    prog.kind = RecordKind::kOptions;
  } else if ((has(FlowField::kNatEvent) || has(FlowField::kFwEvent)) &&
             !has(FlowField::kBytes) && !has(FlowField::kPackets)) {
    prog.kind = RecordKind::kEvent;
  } else {
    prog.kind = RecordKind::kFlow;
  }
  // Cisco ASA NSEL sends NF_F_FW_EVENT (40005) and no natEvent (230):
  // pmacct's nat_event primitive then carries the firewall event
  // (docs/decoding.md, "NAT and firewall events").
  if (!has(FlowField::kNatEvent) && has(FlowField::kFwEvent) &&
      ies[winner[static_cast<int>(FlowField::kFwEvent)].index]->id == 40005) {
    prog.flags |= FieldProgram::kNatEventFromFwEvent;
    prog.fields.set(FlowField::kNatEvent);
  }
  if (prog.kind == RecordKind::kFlow && !has(FlowField::kFlows)) {
    prog.flags |= FieldProgram::kDefaultFlows;
    prog.fields.set(FlowField::kFlows);
  }
  if (has(FlowField::kTimestampStart) || has(FlowField::kTimestampEnd)) {
    prog.flags |= FieldProgram::kCheckTimes;
  }
}

namespace {

// The stores of FieldProgram::copies, one loop per kind.
inline void RunCopies(const FieldProgram& prog, const uint8_t* base,
                      FlowRecord* r) {
  // Locals, not reloads: the uint8_t stores may alias `prog` as far as the
  // compiler knows.
  const FieldCopy* const copies = prog.copies.data();
  const std::array<uint32_t, kCopyKindCount> ends = prog.copies_end;
  const FieldCopy* c = copies;
  const auto end = [&](CopyKind k) {
    return copies + ends[static_cast<int>(k)];
  };
  for (const FieldCopy* e = end(CopyKind::kU8From1); c != e; ++c) {
    r->*c->member.u8 = base[c->offset];
  }
  for (const FieldCopy* e = end(CopyKind::kU16From1); c != e; ++c) {
    r->*c->member.u16 = base[c->offset];
  }
  for (const FieldCopy* e = end(CopyKind::kU16From2); c != e; ++c) {
    r->*c->member.u16 = LoadBe16(base + c->offset);
  }
  for (const FieldCopy* e = end(CopyKind::kU32From2); c != e; ++c) {
    r->*c->member.u32 = LoadBe16(base + c->offset);
  }
  for (const FieldCopy* e = end(CopyKind::kU32From4); c != e; ++c) {
    r->*c->member.u32 = LoadBe32(base + c->offset);
  }
  for (const FieldCopy* e = end(CopyKind::kU64From4); c != e; ++c) {
    r->*c->member.u64 = LoadBe32(base + c->offset);
  }
  for (const FieldCopy* e = end(CopyKind::kU64From8); c != e; ++c) {
    r->*c->member.u64 = LoadBe64(base + c->offset);
  }
  for (const FieldCopy* e = end(CopyKind::kIpv4); c != e; ++c) {
    (r->*c->member.ip).AssignV4Bytes(base + c->offset);
  }
  for (const FieldCopy* e = end(CopyKind::kIpv6); c != e; ++c) {
    (r->*c->member.ip).AssignV6Bytes(base + c->offset);
  }
}

// Templates with variable-length fields. Out of line so that the fixed
// path's loop keeps its registers.
template <bool kCustoms>
[[gnu::noinline]] bool RunVariable(const FieldProgram& prog, ByteReader* set,
                                   RecordBatch* batch, FlowRecord* record,
                                   Scratch* sc, RecordIssues* issues) {
  // The fields before the first variable-length one: known offsets, one
  // bounds check.
  if (set->remaining() < prog.fixed_prefix_length) return false;
  const uint8_t* base = set->data();
  RunCopies(prog, base, record);
  const FieldStep* step = prog.steps.data();
  const FieldStep* const prefix_end = step + prog.fixed_prefix_steps;
  for (; step != prefix_end; ++step) {
    Apply<kCustoms>(*step, base + step->offset, step->length, record, batch, sc,
                    issues);
  }
  ByteReader r = *set;
  r.Skip(prog.fixed_prefix_length);
  const FieldStep* const end = prog.steps.data() + prog.steps.size();
  for (; step != end; ++step) {
    const FieldStep& s = *step;
    size_t len = s.length;
    if (s.length == kVariableLength) {
      // RFC 7011 §7: one length byte, or 255 then a 2-byte length.
      uint8_t l8 = 0;
      if (!r.ReadU8(&l8)) return false;
      len = l8;
      if (l8 == 255) {
        uint16_t l16 = 0;
        if (!r.ReadU16(&l16)) return false;
        len = l16;
      }
    }
    std::span<const uint8_t> v;
    if (!r.ReadBytes(len, &v)) return false;
    // Typed ops on a variable-length field were compiled as kBadLength;
    // the others take any length (bytes, skip) or get their fixed length.
    Apply<kCustoms>(s, v.data(), len, record, batch, sc, issues);
  }
  *set = r;
  return true;
}

template <bool kCustoms>
bool Run(const FieldProgram& prog, ByteReader* set, RecordBatch* batch,
         FlowRecord* record, Scratch* sc, RecordIssues* issues) {
  if (prog.variable_length) {
    return RunVariable<kCustoms>(prog, set, batch, record, sc, issues);
  }
  // Every offset is known; one bounds check per record.
  if (set->remaining() < prog.record_length) return false;
  const uint8_t* base = set->data();
  RunCopies(prog, base, record);
  for (const FieldStep& s : prog.steps) {
    Apply<kCustoms>(s, base + s.offset, s.length, record, batch, sc, issues);
  }
  set->Skip(prog.record_length);
  return true;
}

}  // namespace

void PrepareRecordPrototype(const Template& tmpl, const RecordTimeBase& time,
                            FlowRecord* prototype) {
  SetProgramDefaults(tmpl.program(), time, prototype);
}

bool DecodeDataRecord(const Template& tmpl, const RecordTimeBase& time,
                      ByteReader* set, RecordBatch* batch, FlowRecord* record,
                      RecordIssues* issues) {
  SetProgramDefaults(tmpl.program(), time, record);
  return DecodeDataRecordFields(tmpl, time, set, batch, record, issues);
}

bool DecodeDataRecordFields(const Template& tmpl, const RecordTimeBase& time,
                            ByteReader* set, RecordBatch* batch,
                            FlowRecord* record, RecordIssues* issues) {
  const FieldProgram& prog = tmpl.program();
  Scratch sc;
  const bool ok = prog.has_customs
                      ? Run<true>(prog, set, batch, record, &sc, issues)
                      : Run<false>(prog, set, batch, record, &sc, issues);
  if (!ok) return false;
  Finish(prog, time, sc, record, issues);
  return true;
}

}  // namespace flowacct::internal
