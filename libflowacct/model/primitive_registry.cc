#include "flowacct/model/primitive_registry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libflowacct/model/builtin_primitives.h"
#include "libflowacct/model/value_format.h"

namespace flowacct {
namespace {

using internal::Accessor;
using internal::BuiltinPrimitive;

constexpr size_t kMaxCustomPrimitives = 64;  // pmacct MAX_CUSTOM_PRIMITIVES
constexpr size_t kMaxNameLength = 64;

bool ParseUint(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > max) return false;
  *out = v;
  return true;
}

void AppendUint(uint64_t v, std::string* out) {
  char buf[20];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Integer-valued FlowRecord members.
bool FieldUint(const FlowRecord& r, FlowField f, uint64_t* v) {
  switch (f) {
    case FlowField::kExporterPort:
      *v = r.exporter_port;
      return true;
    case FlowField::kObservationDomain:
      *v = r.observation_domain;
      return true;
    case FlowField::kExportSeqno:
      *v = r.export_seqno;
      return true;
    case FlowField::kTemplateId:
      *v = r.template_id;
      return true;
    case FlowField::kEngineType:
      *v = r.engine_type;
      return true;
    case FlowField::kEngineId:
      *v = r.engine_id;
      return true;
    case FlowField::kSamplerId:
      *v = r.sampler_id;
      return true;
    case FlowField::kSamplingRate:
      *v = r.sampling_rate;
      return true;
    case FlowField::kDirection:
      *v = r.direction;
      return true;
    case FlowField::kInVlan:
      *v = r.in_vlan;
      return true;
    case FlowField::kOutVlan:
      *v = r.out_vlan;
      return true;
    case FlowField::kInCvlan:
      *v = r.in_cvlan;
      return true;
    case FlowField::kOutCvlan:
      *v = r.out_cvlan;
      return true;
    case FlowField::kCos:
      *v = r.cos;
      return true;
    case FlowField::kEtype:
      *v = r.etype;
      return true;
    case FlowField::kIpVersion:
      *v = r.ip_version;
      return true;
    case FlowField::kSrcMask:
      *v = r.src_mask;
      return true;
    case FlowField::kDstMask:
      *v = r.dst_mask;
      return true;
    case FlowField::kProto:
      *v = r.proto;
      return true;
    case FlowField::kTos:
      *v = r.tos;
      return true;
    case FlowField::kFlowLabel:
      *v = r.flow_label;
      return true;
    case FlowField::kSrcPort:
      *v = r.src_port;
      return true;
    case FlowField::kDstPort:
      *v = r.dst_port;
      return true;
    case FlowField::kTcpFlags:
      *v = r.tcp_flags;
      return true;
    case FlowField::kIcmpType:
      *v = r.icmp_type;
      return true;
    case FlowField::kIcmpCode:
      *v = r.icmp_code;
      return true;
    case FlowField::kSrcAs:
      *v = r.src_as;
      return true;
    case FlowField::kDstAs:
      *v = r.dst_as;
      return true;
    case FlowField::kPeerSrcAs:
      *v = r.peer_src_as;
      return true;
    case FlowField::kPeerDstAs:
      *v = r.peer_dst_as;
      return true;
    case FlowField::kInIface:
      *v = r.in_iface;
      return true;
    case FlowField::kOutIface:
      *v = r.out_iface;
      return true;
    case FlowField::kFwdStatus:
      *v = r.fwd_status;
      return true;
    case FlowField::kLocalPref:
      *v = r.local_pref;
      return true;
    case FlowField::kMed:
      *v = r.med;
      return true;
    case FlowField::kSrcLocalPref:
      *v = r.src_local_pref;
      return true;
    case FlowField::kSrcMed:
      *v = r.src_med;
      return true;
    case FlowField::kNatEvent:
      *v = r.nat_event;
      return true;
    case FlowField::kFwEvent:
      *v = r.fw_event;
      return true;
    case FlowField::kPostNatSrcPort:
      *v = r.post_nat_src_port;
      return true;
    case FlowField::kPostNatDstPort:
      *v = r.post_nat_dst_port;
      return true;
    case FlowField::kMplsPwId:
      *v = r.mpls_pw_id;
      return true;
    case FlowField::kIngressVrfId:
      *v = r.ingress_vrf_id;
      return true;
    case FlowField::kEgressVrfId:
      *v = r.egress_vrf_id;
      return true;
    case FlowField::kVxlanVni:
      *v = r.vxlan_vni;
      return true;
    case FlowField::kBytes:
      *v = r.bytes;
      return true;
    case FlowField::kPackets:
      *v = r.packets;
      return true;
    case FlowField::kFlows:
      *v = r.flows;
      return true;
    case FlowField::kReverseBytes:
      *v = r.reverse_bytes;
      return true;
    case FlowField::kReversePackets:
      *v = r.reverse_packets;
      return true;
    case FlowField::kSampleSeqno:
      *v = r.sample_seqno;
      return true;
    case FlowField::kSourceId:
      *v = r.source_id;
      return true;
    case FlowField::kSamplePool:
      *v = r.sample_pool;
      return true;
    case FlowField::kDrops:
      *v = r.drops;
      return true;
    case FlowField::kTag:
      *v = r.tag;
      return true;
    case FlowField::kTag2:
      *v = r.tag2;
      return true;
    default:
      return false;
  }
}

const IpAddress* FieldIp(const FlowRecord& r, FlowField f) {
  switch (f) {
    case FlowField::kSrcHost:
      return &r.src_host;
    case FlowField::kDstHost:
      return &r.dst_host;
    case FlowField::kSrcNet:
      return &r.src_net;
    case FlowField::kDstNet:
      return &r.dst_net;
    case FlowField::kIpNextHop:
      return &r.ip_next_hop;
    case FlowField::kBgpNextHop:
      return &r.bgp_next_hop;
    case FlowField::kPostNatSrcHost:
      return &r.post_nat_src_host;
    case FlowField::kPostNatDstHost:
      return &r.post_nat_dst_host;
    default:
      return nullptr;
  }
}

const ByteRef* FieldBytes(const FlowRecord& r, FlowField f) {
  switch (f) {
    case FlowField::kAsPath:
      return &r.as_path;
    case FlowField::kStdComm:
      return &r.std_comm;
    case FlowField::kExtComm:
      return &r.ext_comm;
    case FlowField::kLrgComm:
      return &r.lrg_comm;
    case FlowField::kSrcAsPath:
      return &r.src_as_path;
    case FlowField::kSrcStdComm:
      return &r.src_std_comm;
    case FlowField::kSrcExtComm:
      return &r.src_ext_comm;
    case FlowField::kSrcLrgComm:
      return &r.src_lrg_comm;
    case FlowField::kApplicationId:
      return &r.application_id;
    case FlowField::kInIfaceName:
      return &r.in_iface_name;
    case FlowField::kOutIfaceName:
      return &r.out_iface_name;
    case FlowField::kVrfName:
      return &r.vrf_name;
    case FlowField::kLabel:
      return &r.label;
    default:
      return nullptr;
  }
}

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

ValueKind FormatCustom(const PrimitiveInfo& info, const FlowRecord& record,
                       const RecordBatch& batch, std::string* out) {
  for (const CustomValue& cv : batch.customs(record)) {
    if (cv.primitive != info.id) continue;
    std::span<const uint8_t> v = AsBytes(batch.bytes(cv.value));
    switch (info.type) {
      case PrimitiveType::kUint:
        if (v.size() >= 1 && v.size() <= 8) {
          uint64_t x = 0;
          for (uint8_t b : v) x = x << 8 | b;
          AppendUint(x, out);
        } else {
          internal::AppendHex(v, out);
        }
        break;
      case PrimitiveType::kIp:
        if (v.size() == 4) {
          IpAddress::V4Bytes(v.data()).AppendTo(out);
        } else if (v.size() == 16) {
          IpAddress::V6Bytes(v.data()).AppendTo(out);
        } else {
          internal::AppendHex(v, out);
        }
        break;
      case PrimitiveType::kMac:
        if (v.size() == 6) {
          out->append(MacAddress::FromBytes(v.data()).ToString());
        } else {
          internal::AppendHex(v, out);
        }
        break;
      case PrimitiveType::kString:
        internal::AppendSanitized(batch.bytes(cv.value), out);
        break;
      case PrimitiveType::kHex:
        internal::AppendHexTrimmed(v, out);
        break;
      default:  // kRaw: upper-case hex per byte, as pmacct ("B8")
        for (uint8_t b : v) {
          out->push_back("0123456789ABCDEF"[b >> 4]);
          out->push_back("0123456789ABCDEF"[b & 0xf]);
        }
        break;
    }
    // pmacct prints custom primitives as JSON strings, whatever their type.
    return ValueKind::kString;
  }
  return ValueKind::kAbsent;
}

}  // namespace

PrimitiveRegistry::PrimitiveRegistry() = default;
PrimitiveRegistry::~PrimitiveRegistry() = default;

std::unique_ptr<PrimitiveRegistry> PrimitiveRegistry::CreateWithBuiltins() {
  std::unique_ptr<PrimitiveRegistry> r(new PrimitiveRegistry());
  for (const BuiltinPrimitive& b : internal::BuiltinPrimitives()) {
    auto info = std::make_unique<PrimitiveInfo>();
    info->id = static_cast<PrimitiveId>(r->storage_.size());
    info->name = b.name;
    info->json_key = b.json_key;
    info->csv_header = b.csv_header;
    info->sql_column = b.sql_column;
    info->type = b.type;
    info->field = b.field;
    info->sources = b.sources;
    info->description = b.description;
    r->all_.push_back(info.get());
    r->storage_.push_back(std::move(info));
  }
  return r;
}

Result<CustomPrimitiveSpec> PrimitiveRegistry::ParseCustomLine(
    std::string_view line) {
  // Strip comments ('!' as in pmacct map files, '#').
  size_t comment = line.find_first_of("!#");
  if (comment != std::string_view::npos) line = line.substr(0, comment);
  // Tokens are key=value, separated by whitespace; spaces around '=' are
  // tolerated ("name = foo").
  std::string compact;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < line.size() &&
             std::isspace(static_cast<unsigned char>(line[j])))
        ++j;
      bool around_eq = (!compact.empty() && compact.back() == '=') ||
                       (j < line.size() && line[j] == '=');
      if (!around_eq && !compact.empty() && j < line.size()) compact += ' ';
      i = j - 1;
      continue;
    }
    compact += c;
  }
  if (compact.empty()) return NotFoundError("blank or comment line");

  CustomPrimitiveSpec spec;
  bool have_name = false, have_type = false, have_len = false, have_sem = false;
  std::string_view rest = compact;
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view tok = rest.substr(0, sp);
    rest =
        sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    size_t eq = tok.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return InvalidArgumentError("expected key=value, got \"" +
                                  std::string(tok) + "\"");
    }
    std::string key = Lower(tok.substr(0, eq));
    std::string_view value = tok.substr(eq + 1);
    if (value.empty()) {
      return InvalidArgumentError("empty value for \"" + key + "\"");
    }
    if (key == "name") {
      std::string name = Lower(value);
      if (!ValidName(name)) {
        return InvalidArgumentError("name \"" + std::string(value) +
                                    "\" must be 1-64 characters of [a-z0-9_-]");
      }
      spec.name = name;
      have_name = true;
    } else if (key == "field_type") {
      std::string v = Lower(value);
      std::string_view ft = v;
      if (ft.substr(0, 4) == "pen:") ft.remove_prefix(4);
      size_t colon = ft.find(':');
      uint64_t pen = 0, id = 0;
      if (colon != std::string_view::npos) {
        if (!ParseUint(ft.substr(0, colon), 0xffffffffu, &pen)) {
          return InvalidArgumentError(
              "field_type: bad enterprise number in \"" + std::string(value) +
              "\"");
        }
        ft.remove_prefix(colon + 1);
      }
      if (!ParseUint(ft, 0xffff, &id)) {
        return InvalidArgumentError("field_type: bad element id in \"" +
                                    std::string(value) +
                                    "\" (want [PEN:]id, id 0-65535)");
      }
      spec.element =
          ElementId{static_cast<uint32_t>(pen), static_cast<uint16_t>(id)};
      have_type = true;
    } else if (key == "len") {
      if (Lower(value) == "vlen") {
        spec.length = kVariableLength;
      } else {
        uint64_t n = 0;
        if (!ParseUint(value, 65534, &n) || n == 0) {
          return InvalidArgumentError("len: \"" + std::string(value) +
                                      "\" is not 1-65534 or vlen");
        }
        spec.length = static_cast<uint16_t>(n);
      }
      have_len = true;
    } else if (key == "semantics") {
      std::string s = Lower(value);
      if (s == "u_int") {
        spec.type = PrimitiveType::kUint;
      } else if (s == "hex") {
        spec.type = PrimitiveType::kHex;
      } else if (s == "ip") {
        spec.type = PrimitiveType::kIp;
      } else if (s == "mac") {
        spec.type = PrimitiveType::kMac;
      } else if (s == "str") {
        spec.type = PrimitiveType::kString;
      } else if (s == "raw") {
        spec.type = PrimitiveType::kRaw;
      } else {
        return InvalidArgumentError(
            "semantics: \"" + std::string(value) +
            "\" is not u_int, hex, ip, mac, str or raw");
      }
      have_sem = true;
    } else if (key == "packet_ptr" || key == "offset") {
      return UnimplementedError(
          key + " (pmacctd packet pointers) is not supported by flowacct");
    } else {
      return InvalidArgumentError("unknown key \"" + key + "\"");
    }
  }
  if (!have_name) return InvalidArgumentError("missing name=");
  if (!have_type) return InvalidArgumentError("missing field_type=");
  if (!have_len) return InvalidArgumentError("missing len=");
  if (!have_sem) return InvalidArgumentError("missing semantics=");
  bool vlen = spec.length == kVariableLength;
  switch (spec.type) {
    case PrimitiveType::kUint:
    case PrimitiveType::kHex:
      if (vlen || spec.length > 8) {
        return InvalidArgumentError(
            "semantics u_int/hex need len 1-8 (use raw for longer values)");
      }
      break;
    case PrimitiveType::kIp:
      if (spec.length != 4 && spec.length != 16) {
        return InvalidArgumentError("semantics ip needs len 4 or 16");
      }
      break;
    case PrimitiveType::kMac:
      if (spec.length != 6) {
        return InvalidArgumentError("semantics mac needs len 6");
      }
      break;
    default:
      break;
  }
  return spec;
}

Result<PrimitiveId> PrimitiveRegistry::AddCustom(
    const CustomPrimitiveSpec& spec) {
  // pmacct lower-cases custom names (`Flow_End_Reason` -> flow_end_reason).
  const std::string name = Lower(spec.name);
  if (!ValidName(name)) {
    return InvalidArgumentError("invalid custom primitive name \"" + spec.name +
                                "\"");
  }
  if (Find(name) != nullptr || FindByJsonKey(name) != nullptr) {
    return InvalidArgumentError("custom primitive \"" + name +
                                "\" clashes with an existing primitive");
  }
  if (customs_.size() >= kMaxCustomPrimitives) {
    return ResourceExhaustedError("more than 64 custom primitives");
  }
  if (storage_.size() >= 0xffff) {
    return ResourceExhaustedError("primitive table full");
  }
  auto info = std::make_unique<PrimitiveInfo>();
  info->id = static_cast<PrimitiveId>(storage_.size());
  info->name = name;
  info->json_key = name;
  info->csv_header = name;  // pmacct: the header is the (lower-cased) name
  info->sql_column = name;
  info->type = spec.type;
  info->field = FlowField::kCount;
  info->is_custom = true;
  info->element = spec.element;
  info->length = spec.length;
  info->sources = (spec.element.pen != 0
                       ? "IPFIX PEN " + std::to_string(spec.element.pen) +
                             " IE " + std::to_string(spec.element.id)
                       : "IPFIX/v9 IE " + std::to_string(spec.element.id));
  info->description = "custom primitive (aggregate_primitives)";
  PrimitiveId id = info->id;
  all_.push_back(info.get());
  customs_.push_back(info.get());
  storage_.push_back(std::move(info));
  return id;
}

const PrimitiveInfo* PrimitiveRegistry::Find(std::string_view name) const {
  for (const PrimitiveInfo* p : all_) {
    if (p->name == name) return p;
  }
  return nullptr;
}

const PrimitiveInfo* PrimitiveRegistry::FindByJsonKey(
    std::string_view key) const {
  for (const PrimitiveInfo* p : all_) {
    if (p->json_key == key) return p;
  }
  return nullptr;
}

ValueKind PrimitiveRegistry::FormatValue(PrimitiveId id,
                                         const FlowRecord& record,
                                         const RecordBatch& batch,
                                         const FormatOptions& options,
                                         std::string* out) const {
  if (id >= all_.size()) return ValueKind::kAbsent;
  const PrimitiveInfo& info = *all_[id];
  if (info.is_custom) return FormatCustom(info, record, batch, out);
  std::span<const BuiltinPrimitive> builtins = internal::BuiltinPrimitives();
  if (id >= builtins.size()) return ValueKind::kAbsent;
  const BuiltinPrimitive& b = builtins[id];

  switch (b.accessor) {
    case Accessor::kNotDecoded:
      return ValueKind::kAbsent;
    case Accessor::kExporter:
      if (!record.exporter.is_set()) return ValueKind::kAbsent;
      record.exporter.AppendTo(out);
      return ValueKind::kString;
    case Accessor::kExportVersion: {
      int v = 0;
      switch (record.protocol) {
        case ExportProtocol::kNetflowV5:
          v = 5;
          break;
        case ExportProtocol::kNetflowV9:
          v = 9;
          break;
        case ExportProtocol::kIpfix:
          v = 10;
          break;
        case ExportProtocol::kSflowV5:
          v = 5;
          break;
        default:
          return ValueKind::kAbsent;
      }
      AppendUint(v, out);
      return ValueKind::kNumber;
    }
    case Accessor::kTimestampArrival:
      if (record.timestamp_arrival == 0) return ValueKind::kAbsent;
      internal::AppendTimestamp(record.timestamp_arrival, options, out);
      return ValueKind::kString;
    case Accessor::kVlan: {
      uint16_t v = 0;
      if (record.has(FlowField::kInVlan) && record.in_vlan != 0) {
        v = record.in_vlan;
      } else if (record.has(FlowField::kOutVlan)) {
        v = record.out_vlan;
      } else if (!record.has(FlowField::kInVlan)) {
        return ValueKind::kAbsent;
      }
      AppendUint(v, out);
      return ValueKind::kNumber;
    }
    case Accessor::kMplsTop:
    case Accessor::kMplsBottom: {
      if (!record.has(FlowField::kMplsLabels) || record.mpls_label_count == 0) {
        return ValueKind::kAbsent;
      }
      size_t n =
          std::min<size_t>(record.mpls_label_count, record.mpls_labels.size());
      uint32_t e = b.accessor == Accessor::kMplsTop ? record.mpls_labels[0]
                                                    : record.mpls_labels[n - 1];
      AppendUint((e >> 4) & 0xfffff, out);
      return ValueKind::kNumber;
    }
    case Accessor::kField:
      break;
  }

  if (b.field == FlowField::kCount || !record.has(b.field)) {
    return ValueKind::kAbsent;
  }
  switch (info.type) {
    case PrimitiveType::kUint: {
      uint64_t v = 0;
      if (!FieldUint(record, b.field, &v)) return ValueKind::kAbsent;
      AppendUint(v, out);
      return ValueKind::kNumber;
    }
    case PrimitiveType::kHex: {
      uint64_t v = 0;
      if (!FieldUint(record, b.field, &v)) return ValueKind::kAbsent;
      char buf[20];
      auto res = std::to_chars(buf, buf + sizeof(buf), v, 16);
      out->append(buf, res.ptr);
      return ValueKind::kString;
    }
    case PrimitiveType::kProto: {
      uint64_t v = 0;
      if (!FieldUint(record, b.field, &v)) return ValueKind::kAbsent;
      if (options.numeric_protocols) {
        AppendUint(v, out);
        return ValueKind::kNumber;
      }
      internal::AppendProtocolName(static_cast<uint8_t>(v), out);
      return ValueKind::kString;
    }
    case PrimitiveType::kDirection: {
      uint64_t v = 0;
      if (!FieldUint(record, b.field, &v)) return ValueKind::kAbsent;
      out->append(v == 0 ? "i" : v == 1 ? "e" : "u");
      return ValueKind::kString;
    }
    case PrimitiveType::kIp: {
      const IpAddress* a = FieldIp(record, b.field);
      if (a == nullptr || !a->is_set()) return ValueKind::kAbsent;
      a->AppendTo(out);
      return ValueKind::kString;
    }
    case PrimitiveType::kMac: {
      const MacAddress& m =
          b.field == FlowField::kSrcMac ? record.src_mac : record.dst_mac;
      out->append(m.ToString());
      return ValueKind::kString;
    }
    case PrimitiveType::kTimestamp: {
      int64_t t = internal::TimestampField(record, b.field);
      internal::AppendTimestamp(t, options, out);
      return ValueKind::kString;
    }
    case PrimitiveType::kString: {
      const ByteRef* ref = FieldBytes(record, b.field);
      if (ref == nullptr) return ValueKind::kAbsent;
      internal::AppendSanitized(batch.bytes(*ref), out);
      return ValueKind::kString;
    }
    case PrimitiveType::kRaw: {
      const ByteRef* ref = FieldBytes(record, b.field);
      if (ref == nullptr || ref->length == 0) return ValueKind::kAbsent;
      internal::AppendHex(AsBytes(batch.bytes(*ref)), out);
      return ValueKind::kString;
    }
    case PrimitiveType::kAsPath:
    case PrimitiveType::kCommunities: {
      const ByteRef* ref = FieldBytes(record, b.field);
      if (ref == nullptr) return ValueKind::kAbsent;
      std::span<const uint8_t> v = AsBytes(batch.bytes(*ref));
      for (size_t i = 0; i + 4 <= v.size(); i += 4) {
        uint32_t x = uint32_t{v[i]} << 24 | uint32_t{v[i + 1]} << 16 |
                     uint32_t{v[i + 2]} << 8 | v[i + 3];
        if (i > 0) out->push_back('_');
        if (info.type == PrimitiveType::kAsPath) {
          AppendUint(x, out);
        } else {
          AppendUint(x >> 16, out);
          out->push_back(':');
          AppendUint(x & 0xffff, out);
        }
      }
      return ValueKind::kString;
    }
    case PrimitiveType::kExtCommunities:
    case PrimitiveType::kLargeCommunities: {
      const ByteRef* ref = FieldBytes(record, b.field);
      if (ref == nullptr) return ValueKind::kAbsent;
      std::span<const uint8_t> v = AsBytes(batch.bytes(*ref));
      if (info.type == PrimitiveType::kExtCommunities) {
        internal::AppendExtCommunities(v, out);
      } else {
        internal::AppendLargeCommunities(v, out);
      }
      return ValueKind::kString;
    }
    case PrimitiveType::kMplsStack: {
      size_t n =
          std::min<size_t>(record.mpls_label_count, record.mpls_labels.size());
      if (n == 0) return ValueKind::kAbsent;
      internal::AppendMplsStack(std::span(record.mpls_labels.data(), n), out);
      return ValueKind::kString;
    }
    case PrimitiveType::kRd:
      internal::AppendRd(record.mpls_vpn_rd, out);
      return ValueKind::kString;
  }
  return ValueKind::kAbsent;
}

}  // namespace flowacct
