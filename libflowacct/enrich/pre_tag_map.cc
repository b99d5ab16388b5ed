#include "flowacct/enrich/pre_tag_map.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

#include "libflowacct/enrich/map_text.h"

#include "absl/container/flat_hash_map.h"

namespace flowacct {

using enrich_internal::LineError;

namespace {

// MATCH keys.
enum class Key : uint8_t {
  kIp,
  kIn,
  kOut,
  kEngineType,
  kEngineId,
  kSourceId,
  kFlowsetId,
  kSampleType,
  kSamplingRate,
  kNexthop,
  kBgpNexthop,
  kDirection,
  kFwdStatus,
  kSrcMac,
  kDstMac,
  kVlan,
  kCvlan,
  kPostCvlan,
  kSrcNet,
  kDstNet,
  kProto,
  kSrcPort,
  kDstPort,
  kTcpFlags,
  kIsMulticast,
  kIsBiFlow,
  kIsNel,
  kIsNsel,
  kMplsPwId,
  kMplsVpnIdIn,
  kMplsVpnIdOut,
  kSrcAs,
  kDstAs,
  kPeerSrcAs,
  kPeerDstAs,
  kLocalPref,
  kComms,
};

// How a MATCH key's value is written.
enum class ValueType : uint8_t {
  kUint,       // decimal, up to `max`
  kUintOrHex,  // decimal or 0x hex, up to `max`
  kPrefix,     // address or prefix
  kMac,
  kBool,        // true | false
  kSampleType,  // flow | flow-ipv4 | ... | event | option
  kProto,       // number or name
  kComms,       // 65000:1,65000:2
};

struct KeySpec {
  std::string_view name;
  Key key;
  ValueType type;
  uint64_t max;
  bool negatable;
};

constexpr uint64_t kU8 = 0xff;
constexpr uint64_t kU16 = 0xffff;
constexpr uint64_t kU32 = 0xffffffff;

constexpr KeySpec kKeySpecs[] = {
    {"ip", Key::kIp, ValueType::kPrefix, 0, false},
    {"in", Key::kIn, ValueType::kUint, kU32, true},
    {"out", Key::kOut, ValueType::kUint, kU32, true},
    {"engine_type", Key::kEngineType, ValueType::kUint, kU8, true},
    {"engine_id", Key::kEngineId, ValueType::kUint, kU8, true},
    {"source_id", Key::kSourceId, ValueType::kUint, kU32, true},
    {"agent_id", Key::kSourceId, ValueType::kUint, kU32, true},
    {"flowset_id", Key::kFlowsetId, ValueType::kUint, kU16, true},
    {"sample_type", Key::kSampleType, ValueType::kSampleType, 0, true},
    {"sampling_rate", Key::kSamplingRate, ValueType::kUint, kU32, true},
    {"nexthop", Key::kNexthop, ValueType::kPrefix, 0, true},
    {"bgp_nexthop", Key::kBgpNexthop, ValueType::kPrefix, 0, true},
    {"direction", Key::kDirection, ValueType::kUint, 1, true},
    {"fwd_status", Key::kFwdStatus, ValueType::kUint, kU32, true},
    {"src_mac", Key::kSrcMac, ValueType::kMac, 0, true},
    {"dst_mac", Key::kDstMac, ValueType::kMac, 0, true},
    {"vlan", Key::kVlan, ValueType::kUint, 4095, true},
    {"cvlan", Key::kCvlan, ValueType::kUint, 4095, true},
    {"post_cvlan", Key::kPostCvlan, ValueType::kUint, 4095, true},
    {"src_net", Key::kSrcNet, ValueType::kPrefix, 0, true},
    {"dst_net", Key::kDstNet, ValueType::kPrefix, 0, true},
    {"ip_proto", Key::kProto, ValueType::kProto, kU8, true},
    {"proto", Key::kProto, ValueType::kProto, kU8, true},
    {"src_port", Key::kSrcPort, ValueType::kUint, kU16, true},
    {"dst_port", Key::kDstPort, ValueType::kUint, kU16, true},
    {"tcp_flags", Key::kTcpFlags, ValueType::kUintOrHex, kU16, true},
    {"is_multicast", Key::kIsMulticast, ValueType::kBool, 0, false},
    {"is_bi_flow", Key::kIsBiFlow, ValueType::kBool, 0, false},
    {"is_nel", Key::kIsNel, ValueType::kBool, 0, false},
    {"is_nsel", Key::kIsNsel, ValueType::kBool, 0, false},
    {"mpls_pw_id", Key::kMplsPwId, ValueType::kUint, kU32, true},
    {"mpls_vpn_id_in", Key::kMplsVpnIdIn, ValueType::kUint, kU32, true},
    {"mpls_vpn_id_out", Key::kMplsVpnIdOut, ValueType::kUint, kU32, true},
    {"src_as", Key::kSrcAs, ValueType::kUint, kU32, true},
    {"dst_as", Key::kDstAs, ValueType::kUint, kU32, true},
    {"peer_src_as", Key::kPeerSrcAs, ValueType::kUint, kU32, true},
    {"peer_dst_as", Key::kPeerDstAs, ValueType::kUint, kU32, true},
    {"local_pref", Key::kLocalPref, ValueType::kUint, kU32, true},
    {"comms", Key::kComms, ValueType::kComms, 0, true},
};

// pmacct keys flowacct recognises but cannot evaluate.
constexpr std::string_view kUnsupportedKeys[] = {
    "filter",    "v8agg",     "src_comms",    "src_local_pref",
    "src_roa",   "dst_roa",   "mpls_vpn_rd",  "src_ext_comms",
    "ext_comms", "lrg_comms", "src_lrg_comms"};

enum SampleType : uint8_t {
  kStFlow,
  kStFlowV4,
  kStFlowV6,
  kStFlowMplsV4,
  kStFlowMplsV6,
  kStEvent,
  kStOption,
};

struct Cond {
  Key key;
  bool negated = false;
  uint64_t number = 0;  // uints, bools (0/1), sample type
  Prefix prefix;
  MacAddress mac;
  std::vector<uint32_t> comms;
};

enum class Stack : uint8_t { kNone, kSum, kOr };

constexpr size_t kNoJump = std::numeric_limits<size_t>::max();

struct Row {
  size_t line = 0;
  std::vector<Cond> conds;
  bool has_tag = false;
  bool has_tag2 = false;
  uint64_t tag = 0;
  uint64_t tag2 = 0;
  // Auto-increment (set_tag=N++): index into Impl::counters, or -1.
  int tag_counter = -1;
  int tag2_counter = -1;
  bool has_label = false;
  std::string set_label;
  bool has_tos = false;
  uint8_t tos = 0;
  std::string label;  // label= (jump target name)
  std::string jeq;
  size_t jump = kNoJump;  // row index to continue at after a match
  bool ret = false;
  Stack stack = Stack::kNone;
};

bool ParseBool(std::string_view v, uint64_t* out) {
  if (v == "true" || v == "1") {
    *out = 1;
    return true;
  }
  if (v == "false" || v == "0") {
    *out = 0;
    return true;
  }
  return false;
}

bool ParseProto(std::string_view v, uint64_t* out) {
  struct Named {
    std::string_view name;
    uint8_t number;
  };
  static constexpr Named kNames[] = {
      {"icmp", 1},       {"igmp", 2},  {"tcp", 6},   {"udp", 17},
      {"gre", 47},       {"esp", 50},  {"ah", 51},   {"icmp6", 58},
      {"ipv6-icmp", 58}, {"ospf", 89}, {"pim", 103}, {"sctp", 132}};
  for (const Named& n : kNames) {
    if (v == n.name) {
      *out = n.number;
      return true;
    }
  }
  return enrich_internal::ParseUnsigned(v, out) && *out <= 255;
}

bool ParseComms(std::string_view v, std::vector<uint32_t>* out) {
  size_t pos = 0;
  while (true) {
    const size_t comma = v.find(',', pos);
    std::string_view item =
        v.substr(pos, comma == std::string_view::npos ? std::string_view::npos
                                                      : comma - pos);
    const size_t colon = item.find(':');
    uint16_t high = 0;
    uint16_t low = 0;
    if (colon == std::string_view::npos ||
        !enrich_internal::ParseUnsigned(item.substr(0, colon), &high) ||
        !enrich_internal::ParseUnsigned(item.substr(colon + 1), &low)) {
      return false;
    }
    out->push_back((uint32_t{high} << 16) | low);
    if (out->size() > 16) return false;
    if (comma == std::string_view::npos) return true;
    pos = comma + 1;
  }
}

// "N" or "N++"; N in 1..2^64-1.
bool ParseTag(std::string_view v, uint64_t* out, bool* auto_increment) {
  *auto_increment = false;
  if (v.size() > 2 && v.substr(v.size() - 2) == "++") {
    *auto_increment = true;
    v.remove_suffix(2);
  }
  return enrich_internal::ParseUnsigned(v, out) && *out != 0;
}

bool IsMulticast(const IpAddress& a) {
  if (a.is_v4()) return (a.data()[0] & 0xf0) == 0xe0;
  if (a.is_v6()) return a.data()[0] == 0xff;
  return false;
}

}  // namespace

struct PreTagMap::Impl {
  std::vector<Row> rows;
  // Auto-increment counters (one per N++ value), shared by all evaluators.
  std::unique_ptr<std::atomic<uint64_t>[]> counters;
  bool may_append = false;
  // Exporter index. Rows whose `ip` is a single address only apply to that
  // exporter: by_host[address] lists, in map order, the rows that can match
  // it (its own rows, rows with a wider `ip` containing it, rows without
  // `ip`); every other exporter walks `generic` (rows without `ip` or with
  // a wider prefix). First-match and jump semantics are unchanged because
  // the skipped rows cannot match.
  absl::flat_hash_map<IpAddress, std::vector<uint32_t>> by_host;
  std::vector<uint32_t> generic;

  void BuildIndex();
  const std::vector<uint32_t>& CandidatesFor(const IpAddress& exporter) const {
    auto it = by_host.find(exporter);
    return it == by_host.end() ? generic : it->second;
  }

  bool Matches(const Row& row, const FlowRecord& r, const IpAddress& exporter,
               const RecordBatch* batch) const;
  size_t Evaluate(FlowRecord* record, RecordBatch* batch, size_t index,
                  bool copies) const;
  uint64_t TagValue(uint64_t value, int counter) const {
    return counter < 0 ? value : counters[static_cast<size_t>(counter)]++;
  }
};

PreTagMap::PreTagMap(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreTagMap::~PreTagMap() = default;

size_t PreTagMap::size() const { return impl_->rows.size(); }
bool PreTagMap::may_append() const { return impl_->may_append; }

Result<std::shared_ptr<const PreTagMap>> PreTagMap::Load(
    std::string_view text, std::string_view filename,
    const PreTagMapOptions& options) {
  auto impl = std::make_unique<Impl>();
  std::vector<uint64_t> counter_bases;
  Status s = enrich_internal::ForEachKeyValueRow(
      text, filename, options.max_row_length, options.max_entries,
      [&](size_t line,
          const std::vector<enrich_internal::KeyValue>& kvs) -> Status {
        auto error = [&](std::string_view msg) {
          return LineError(StatusCode::kInvalidArgument, filename, line, msg);
        };
        Row row;
        row.line = line;
        for (size_t i = 0; i < kvs.size(); ++i) {
          const enrich_internal::KeyValue& kv = kvs[i];
          if (enrich_internal::RepeatsEarlierKey(kvs, i)) {
            return error(
                enrich_internal::Cat("key '", kv.key, "' given twice"));
          }
          const std::string_view v = kv.value;
          // SET and flow-control keys.
          if (kv.key == "set_tag" || kv.key == "id" || kv.key == "set_tag2" ||
              kv.key == "id2") {
            const bool two = kv.key == "set_tag2" || kv.key == "id2";
            uint64_t value = 0;
            bool auto_increment = false;
            if (!ParseTag(v, &value, &auto_increment)) {
              return error(enrich_internal::Cat(
                  kv.key, "='", v, "' is not a tag (1..2^64-1, or N++)"));
            }
            int counter = -1;
            if (auto_increment) {
              counter = static_cast<int>(counter_bases.size());
              counter_bases.push_back(value);
            }
            (two ? row.has_tag2 : row.has_tag) = true;
            (two ? row.tag2 : row.tag) = value;
            (two ? row.tag2_counter : row.tag_counter) = counter;
            continue;
          }
          if (kv.key == "set_label") {
            row.has_label = true;
            row.set_label = std::string(v);
            continue;
          }
          if (kv.key == "set_tos") {
            uint8_t tos = 0;
            if (!enrich_internal::ParseUnsigned(v, &tos)) {
              return error(
                  enrich_internal::Cat("set_tos='", v, "' is not 0..255"));
            }
            row.has_tos = true;
            row.tos = tos;
            continue;
          }
          if (kv.key == "label") {
            if (v == "next")
              return error("label 'next' is reserved (jeq=next)");
            row.label = std::string(v);
            continue;
          }
          if (kv.key == "jeq") {
            row.jeq = std::string(v);
            continue;
          }
          if (kv.key == "return") {
            uint64_t b = 0;
            if (!ParseBool(v, &b)) {
              return error(enrich_internal::Cat("return='", v,
                                                "': expected true or false"));
            }
            row.ret = b != 0;
            continue;
          }
          if (kv.key == "stack") {
            if (v == "sum") {
              row.stack = Stack::kSum;
            } else if (v == "or") {
              row.stack = Stack::kOr;
            } else {
              return error(
                  enrich_internal::Cat("stack='", v, "': expected sum or or"));
            }
            continue;
          }
          for (std::string_view unsupported : kUnsupportedKeys) {
            if (kv.key == unsupported) {
              return LineError(
                  StatusCode::kUnimplemented, filename, line,
                  enrich_internal::Cat(
                      "key '", kv.key, "' is not supported by flowacct",
                      kv.key == "filter" ? " (no BPF filters on flow records)"
                                         : ""));
            }
          }
          // MATCH keys.
          const KeySpec* spec = nullptr;
          for (const KeySpec& candidate : kKeySpecs) {
            if (candidate.name == kv.key) spec = &candidate;
          }
          if (spec == nullptr)
            return error(enrich_internal::Cat("unknown key '", kv.key, "'"));
          Cond cond;
          cond.key = spec->key;
          std::string_view value = v;
          if (value.front() == '-') {
            if (!spec->negatable) {
              return error(
                  enrich_internal::Cat("key '", kv.key, "' cannot be negated"));
            }
            cond.negated = true;
            value.remove_prefix(1);
          }
          bool ok = false;
          switch (spec->type) {
            case ValueType::kUint:
              ok = enrich_internal::ParseUnsigned(value, &cond.number) &&
                   cond.number <= spec->max;
              break;
            case ValueType::kUintOrHex:
              ok = enrich_internal::ParseUnsigned(value, &cond.number, true) &&
                   cond.number <= spec->max;
              break;
            case ValueType::kPrefix: {
              std::optional<Prefix> p = enrich_internal::ParsePrefix(value);
              ok = p.has_value();
              if (ok) cond.prefix = *p;
              break;
            }
            case ValueType::kMac:
              ok = enrich_internal::ParseMac(value, &cond.mac);
              break;
            case ValueType::kBool:
              ok = ParseBool(value, &cond.number);
              break;
            case ValueType::kProto:
              ok = ParseProto(value, &cond.number);
              break;
            case ValueType::kComms:
              ok = ParseComms(value, &cond.comms);
              break;
            case ValueType::kSampleType: {
              if (value.find(':') != std::string_view::npos) {
                return LineError(
                    StatusCode::kUnimplemented, filename, line,
                    enrich_internal::Cat("sample_type='", v,
                                         "': sFlow <enterprise>:<format> "
                                         "sample types are not supported"));
              }
              static constexpr std::pair<std::string_view, SampleType>
                  kTypes[] = {{"flow", kStFlow},
                              {"flow-ipv4", kStFlowV4},
                              {"flow-ipv6", kStFlowV6},
                              {"flow-mpls-ipv4", kStFlowMplsV4},
                              {"flow-mpls-ipv6", kStFlowMplsV6},
                              {"event", kStEvent},
                              {"option", kStOption}};
              for (const auto& [name, type] : kTypes) {
                if (value == name) {
                  cond.number = type;
                  ok = true;
                }
              }
              break;
            }
          }
          if (!ok) {
            return error(enrich_internal::Cat("bad value for '", kv.key, "': '",
                                              v, "'"));
          }
          row.conds.push_back(std::move(cond));
        }
        if (!row.has_tag && !row.has_tag2 && !row.has_label && !row.has_tos &&
            row.jeq.empty()) {
          return error(
              "row sets nothing (needs set_tag, set_tag2, set_label, set_tos "
              "or jeq)");
        }
        if (row.ret && row.jeq.empty()) {
          return error(
              "return=true without jeq has no effect; remove it or add jeq");
        }
        // The exporter test usually rejects most rows: evaluate it first.
        std::stable_partition(row.conds.begin(), row.conds.end(),
                              [](const Cond& c) { return c.key == Key::kIp; });
        if (row.ret) impl->may_append = true;
        impl->rows.push_back(std::move(row));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  // Resolve jumps: forward only, to the first later row with that label.
  for (size_t i = 0; i < impl->rows.size(); ++i) {
    Row& row = impl->rows[i];
    if (row.jeq.empty()) continue;
    if (row.jeq == "next") {
      row.jump = i + 1;
      continue;
    }
    for (size_t j = i + 1; j < impl->rows.size(); ++j) {
      if (impl->rows[j].label == row.jeq) {
        row.jump = j;
        break;
      }
    }
    if (row.jump == kNoJump) {
      return LineError(
          StatusCode::kInvalidArgument, filename, row.line,
          enrich_internal::Cat("jeq='", row.jeq,
                               "' has no later row with label=", row.jeq,
                               " (jumps go forward only)"));
    }
  }
  impl->BuildIndex();
  impl->counters =
      std::make_unique<std::atomic<uint64_t>[]>(counter_bases.size());
  for (size_t i = 0; i < counter_bases.size(); ++i) {
    impl->counters[i].store(counter_bases[i]);
  }
  return std::shared_ptr<const PreTagMap>(new PreTagMap(std::move(impl)));
}

Result<std::shared_ptr<const PreTagMap>> PreTagMap::LoadFile(
    const std::string& path, const PreTagMapOptions& options) {
  return enrich_internal::LoadMapFile<PreTagMap>(path, options);
}

namespace {

// The row's `ip` condition, or nullptr.
const Cond* IpCond(const Row& row) {
  for (const Cond& c : row.conds) {
    if (c.key == Key::kIp) return &c;
  }
  return nullptr;
}

bool IsHostPrefix(const Prefix& p) {
  return p.length == (p.address.is_v4() ? 32 : 128);
}

}  // namespace

void PreTagMap::Impl::BuildIndex() {
  for (size_t i = 0; i < rows.size(); ++i) {
    const Cond* ip = IpCond(rows[i]);
    if (ip != nullptr && IsHostPrefix(ip->prefix)) {
      by_host.try_emplace(ip->prefix.address);
    } else {
      generic.push_back(static_cast<uint32_t>(i));
    }
  }
  for (auto& [host, list] : by_host) {
    for (size_t i = 0; i < rows.size(); ++i) {
      const Cond* ip = IpCond(rows[i]);
      if (ip == nullptr || enrich_internal::PrefixContains(ip->prefix, host)) {
        list.push_back(static_cast<uint32_t>(i));
      }
    }
  }
}

bool PreTagMap::Impl::Matches(const Row& row, const FlowRecord& r,
                              const IpAddress& exporter,
                              const RecordBatch* batch) const {
  for (const Cond& c : row.conds) {
    bool hit = false;
    switch (c.key) {
      case Key::kIp:
        hit = enrich_internal::PrefixContains(c.prefix, exporter);
        break;
      case Key::kIn:
        hit = r.in_iface == c.number;
        break;
      case Key::kOut:
        hit = r.out_iface == c.number;
        break;
      case Key::kEngineType:
      case Key::kEngineId: {
        const bool type = c.key == Key::kEngineType;
        const FlowField f =
            type ? FlowField::kEngineType : FlowField::kEngineId;
        if (r.has(f)) {
          hit = (type ? r.engine_type : r.engine_id) == c.number;
        } else if (r.protocol == ExportProtocol::kNetflowV5 ||
                   r.protocol == ExportProtocol::kNetflowV9) {
          // v9: 3rd and 4th octet of the header's source id.
          const uint32_t octet = type ? (r.observation_domain >> 8) & 0xff
                                      : r.observation_domain & 0xff;
          hit = octet == c.number;
        }
        break;
      }
      case Key::kSourceId:
        hit = r.observation_domain == c.number;
        break;
      case Key::kFlowsetId:
        hit = r.template_id == c.number;
        break;
      case Key::kSampleType: {
        const bool flow = r.kind == RecordKind::kFlow;
        const int version = r.ip_version != 0    ? r.ip_version
                            : r.src_host.is_v4() ? 4
                            : r.src_host.is_v6() ? 6
                                                 : 0;
        switch (c.number) {
          case kStFlow:
            hit = flow;
            break;
          case kStFlowV4:
            hit = flow && version == 4 && r.mpls_label_count == 0;
            break;
          case kStFlowV6:
            hit = flow && version == 6 && r.mpls_label_count == 0;
            break;
          case kStFlowMplsV4:
            hit = flow && version == 4 && r.mpls_label_count > 0;
            break;
          case kStFlowMplsV6:
            hit = flow && version == 6 && r.mpls_label_count > 0;
            break;
          case kStEvent:
            hit = r.kind == RecordKind::kEvent;
            break;
          case kStOption:
            hit = r.kind == RecordKind::kOptions;
            break;
        }
        break;
      }
      case Key::kSamplingRate:
        hit = r.sampling_rate == c.number;
        break;
      case Key::kNexthop:
        hit = enrich_internal::PrefixContains(c.prefix, r.ip_next_hop);
        break;
      case Key::kBgpNexthop:
        hit = enrich_internal::PrefixContains(c.prefix, r.bgp_next_hop);
        break;
      case Key::kDirection:
        hit = r.direction == c.number;
        break;
      case Key::kFwdStatus:
        hit = r.fwd_status == c.number;
        break;
      case Key::kSrcMac:
        hit = r.src_mac == c.mac;
        break;
      case Key::kDstMac:
        hit = r.dst_mac == c.mac;
        break;
      case Key::kVlan:
        hit = (r.in_vlan != 0 ? r.in_vlan : r.out_vlan) == c.number;
        break;
      case Key::kCvlan:
        hit = r.in_cvlan == c.number;
        break;
      case Key::kPostCvlan:
        hit = r.out_cvlan == c.number;
        break;
      case Key::kSrcNet:
        hit = enrich_internal::PrefixContains(c.prefix, r.src_host);
        break;
      case Key::kDstNet:
        hit = enrich_internal::PrefixContains(c.prefix, r.dst_host);
        break;
      case Key::kProto:
        hit = r.proto == c.number;
        break;
      case Key::kSrcPort:
        hit = r.src_port == c.number;
        break;
      case Key::kDstPort:
        hit = r.dst_port == c.number;
        break;
      case Key::kTcpFlags:
        hit = r.tcp_flags == c.number;
        break;
      case Key::kIsMulticast:
        hit = IsMulticast(r.dst_host) == (c.number != 0);
        break;
      case Key::kIsBiFlow:
        hit = (r.has(FlowField::kReverseBytes) ||
               r.has(FlowField::kReversePackets)) == (c.number != 0);
        break;
      case Key::kIsNel:
        hit = r.has(FlowField::kNatEvent) == (c.number != 0);
        break;
      case Key::kIsNsel:
        hit = r.has(FlowField::kFwEvent) == (c.number != 0);
        break;
      case Key::kMplsPwId:
        hit = r.mpls_pw_id == c.number;
        break;
      case Key::kMplsVpnIdIn:
        hit = r.ingress_vrf_id == c.number;
        break;
      case Key::kMplsVpnIdOut:
        hit = r.egress_vrf_id == c.number;
        break;
      case Key::kSrcAs:
        hit = r.src_as == c.number;
        break;
      case Key::kDstAs:
        hit = r.dst_as == c.number;
        break;
      case Key::kPeerSrcAs:
        hit = r.peer_src_as == c.number;
        break;
      case Key::kPeerDstAs:
        hit = r.peer_dst_as == c.number;
        break;
      case Key::kLocalPref:
        hit = r.local_pref == c.number;
        break;
      case Key::kComms: {
        if (batch == nullptr || r.std_comm.length == 0) break;
        std::string_view bytes = batch->bytes(r.std_comm);
        for (size_t i = 0; i + 4 <= bytes.size() && !hit; i += 4) {
          const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + i);
          const uint32_t comm = (uint32_t{p[0]} << 24) |
                                (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
                                p[3];
          for (uint32_t want : c.comms) {
            if (comm == want) {
              hit = true;
              break;
            }
          }
        }
        break;
      }
    }
    if (hit == c.negated) return false;
  }
  return true;
}

size_t PreTagMap::Impl::Evaluate(FlowRecord* record, RecordBatch* batch,
                                 size_t index, bool copies) const {
  // Labels of several matching rows are joined with ','. The scratch string
  // is per thread so that steady-state evaluation does not allocate.
  thread_local std::string label;
  label.clear();
  bool labelled = false;
  size_t appended = 0;
  const IpAddress exporter = enrich_internal::UnmapV4(record->exporter);
  auto store_label = [&](FlowRecord* r) {
    if (!labelled) return;
    r->label = batch->StoreBytes(std::string_view(label));
    r->fields.set(FlowField::kLabel);
  };
  const std::vector<uint32_t>& candidates = CandidatesFor(exporter);
  size_t k = 0;
  const size_t n = candidates.size();
  while (k < n) {
    const Row& row = rows[candidates[k]];
    if (!Matches(row, *record, exporter, batch)) {
      ++k;
      continue;
    }
    auto set_tag = [&](uint64_t* tag, FlowField field, uint64_t value) {
      const uint64_t old = record->has(field) ? *tag : 0;
      switch (row.stack) {
        case Stack::kNone:
          *tag = value;
          break;
        case Stack::kSum:
          *tag = old + value;
          break;
        case Stack::kOr:
          *tag = old | value;
          break;
      }
      record->fields.set(field);
    };
    if (row.has_tag)
      set_tag(&record->tag, FlowField::kTag,
              TagValue(row.tag, row.tag_counter));
    if (row.has_tag2) {
      set_tag(&record->tag2, FlowField::kTag2,
              TagValue(row.tag2, row.tag2_counter));
    }
    if (row.has_label) {
      if (labelled) label.push_back(',');
      label.append(row.set_label);
      labelled = true;
    }
    if (row.has_tos) {
      record->tos = row.tos;
      record->fields.set(FlowField::kTos);
    }
    if (row.jump == kNoJump) break;
    if (row.ret && copies) {
      store_label(record);
      const FlowRecord copy = *record;
      FlowRecord* added = batch->AppendRecord(copy);
      added->custom_begin = copy.custom_begin;
      added->custom_count = copy.custom_count;
      ++appended;
      record = &batch->records()[index];
    }
    // Continue at the first candidate at or after the jump target.
    k = static_cast<size_t>(
        std::lower_bound(candidates.begin() + static_cast<ptrdiff_t>(k) + 1,
                         candidates.end(), static_cast<uint32_t>(row.jump)) -
        candidates.begin());
  }
  store_label(record);
  return appended;
}

void PreTagMap::Apply(FlowRecord* record, RecordBatch* batch) const {
  impl_->Evaluate(record, batch, 0, false);
}

size_t PreTagMap::ApplyAt(RecordBatch* batch, size_t index) const {
  return impl_->Evaluate(&batch->records()[index], batch, index, true);
}

}  // namespace flowacct
