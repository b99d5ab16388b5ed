#include "flowacct/bgp/rib_dump.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <vector>

#include "libflowacct/bgp/json_line.h"
#include "libflowacct/model/value_format.h"
#include "libflowacct/sink/file_util.h"
#include "libflowacct/sink/name_template.h"

namespace flowacct::bgp {
namespace {

using json_line::AppendAddress;
using json_line::AppendKey;
using json_line::AppendNumber;
using json_line::AppendQuoted;
using json_line::AppendUint;

void AppendHeaderPeer(const BgpLineHeader& h, std::string* out) {
  out->append("\"timestamp\": \"");
  out->append(h.timestamp);
  out->append("\", \"peer_ip_src\": \"");
  h.peer.address.AppendTo(out);
  out->append("\", \"peer_tcp_port\": ");
  AppendUint(h.peer.port, out);
}

void AppendHeaderRouter(const BgpLineHeader& h, std::string* out) {
  out->append("\"timestamp\": \"");
  out->append(h.timestamp);
  out->append("\", \"bmp_router\": \"");
  h.peer.address.AppendTo(out);
  out->append("\", \"bmp_router_port\": ");
  AppendUint(h.peer.port, out);
}

void AppendSeq(const BgpLineHeader& h, std::string* out) {
  out->append("\"seq\": ");
  AppendUint(h.seq, out);
}

// A non-empty community text (an empty one is left out, as pmacct does).
void AppendList(std::string_view key, const std::string& text,
                std::string* out) {
  if (!text.empty()) AppendQuoted(key, text, out);
}

bool IsVpn(const Family& f) { return f.safi == Safi::kMplsVpn; }
bool HasLabel(const Family& f) {
  return f.safi == Safi::kMplsVpn || f.safi == Safi::kLabeledUnicast;
}
bool Has(std::span<const Family> families, const Family& f) {
  return std::find(families.begin(), families.end(), f) != families.end();
}

// pmacct writes communities sorted, without duplicates, whatever their
// order on the wire.
template <typename T>
std::vector<T> SortedUnique(std::span<const T> values) {
  std::vector<T> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// RFC 8669 §3.1: the Label-Index TLV (type 1, length 7: reserved, flags
// (2), label index (4)) of a BGP Prefix-SID attribute (type 40, kept
// opaque by the codec).
std::optional<uint32_t> PrefixSidLabelIndex(const PathAttributes& a) {
  constexpr uint8_t kPrefixSid = 40;
  for (const UnknownAttribute& u : a.unknown) {
    if (u.type != kPrefixSid) continue;
    const std::vector<uint8_t>& v = u.value;
    for (size_t i = 0; i + 3 <= v.size();) {
      const size_t length = size_t{v[i + 1]} << 8 | v[i + 2];
      if (i + 3 + length > v.size()) break;
      if (v[i] == 1 && length == 7) {
        const uint8_t* p = v.data() + i + 6;
        return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 |
               uint32_t{p[2]} << 8 | p[3];
      }
      i += 3 + length;
    }
  }
  return std::nullopt;
}

void AppendLogStart(const BgpLineHeader& h, std::string_view log_type,
                    std::string* out) {
  out->append("{");
  AppendSeq(h, out);
  out->append(", \"log_type\": \"");
  out->append(log_type);
  out->append("\", ");
  AppendHeaderPeer(h, out);
  out->append(", \"event_type\": \"log\"");
}

RouteFields FieldsOf(const RouteKey& key, std::optional<uint32_t> label,
                     std::span<const Family> add_path) {
  RouteFields r;
  r.key = key;
  r.label = label;
  r.add_path = Has(add_path, key.family);
  return r;
}

}  // namespace

std::string FormatBgpTimestamp(int64_t time_ns, bool utc, bool microseconds) {
  const std::tm tm = internal::CalendarTime(time_ns, utc);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  std::string s(buf, n);
  if (microseconds) {
    int64_t us = (time_ns / 1000) % 1000000;
    if (us < 0) us += 1000000;
    std::snprintf(buf, sizeof(buf), ".%06" PRId64, us);
    s += buf;
  }
  return s;
}

std::string_view OriginLetter(Origin origin) {
  switch (origin) {
    case Origin::kIgp:
      return "i";
    case Origin::kEgp:
      return "e";
    case Origin::kIncomplete:
      return "u";
  }
  return "u";
}

std::string FormatCommunities(std::span<const uint32_t> communities) {
  std::string s;
  for (uint32_t c : SortedUnique(communities)) {
    if (!s.empty()) s.push_back(' ');
    switch (c) {  // RFC 1997 well-known communities
      case 0x00000000:
        s.append("internet");
        break;
      case 0xFFFFFF01:
        s.append("no-export");
        break;
      case 0xFFFFFF02:
        s.append("no-advertise");
        break;
      case 0xFFFFFF03:
        s.append("local-AS");
        break;
      default:
        s.append(std::to_string(c >> 16));
        s.push_back(':');
        s.append(std::to_string(c & 0xFFFF));
    }
  }
  return s;
}

std::string FormatExtCommunities(std::span<const uint64_t> communities) {
  std::string s;
  for (uint64_t c : SortedUnique(communities)) {
    if (!s.empty()) s.push_back(' ');
    const auto type = static_cast<uint8_t>(c >> 56);
    const auto subtype = static_cast<uint8_t>(c >> 48);
    if (type > 0x02 || (subtype != 0x02 && subtype != 0x03)) {
      s.push_back('?');
      continue;
    }
    s.append(subtype == 0x02 ? "RT:" : "SoO:");
    if (type == 0x00) {  // two-octet AS : four-octet value
      s.append(std::to_string((c >> 32) & 0xFFFF));
      s.push_back(':');
      s.append(std::to_string(c & 0xFFFFFFFF));
    } else if (type == 0x01) {  // IPv4 address : two-octet value
      IpAddress::V4(static_cast<uint32_t>(c >> 16)).AppendTo(&s);
      s.push_back(':');
      s.append(std::to_string(c & 0xFFFF));
    } else {  // four-octet AS : two-octet value
      s.append(std::to_string((c >> 16) & 0xFFFFFFFF));
      s.push_back(':');
      s.append(std::to_string(c & 0xFFFF));
    }
  }
  return s;
}

std::string FormatLargeCommunities(
    std::span<const LargeCommunity> communities) {
  std::string s;
  for (const LargeCommunity& c : SortedUnique(communities)) {
    if (!s.empty()) s.push_back(' ');
    s.append(std::to_string(c.global_admin));
    s.push_back(':');
    s.append(std::to_string(c.local1));
    s.push_back(':');
    s.append(std::to_string(c.local2));
  }
  return s;
}

AttributesText::AttributesText(const PathAttributes& a) : present_(true) {
  if (a.next_hop.is_set()) next_hop_ = a.next_hop.ToString();
  AppendQuoted("as_path", a.AsPathString(), &rest_);
  AppendList("comms", FormatCommunities(a.communities), &rest_);
  AppendList("ecomms", FormatExtCommunities(a.ext_communities), &rest_);
  AppendList("lcomms", FormatLargeCommunities(a.large_communities), &rest_);
  if (a.origin) AppendQuoted("origin", OriginLetter(*a.origin), &rest_);
  // Present attributes are written whatever their value ("med": 0).
  if (a.local_pref) AppendNumber("local_pref", *a.local_pref, &rest_);
  if (a.med) AppendNumber("med", *a.med, &rest_);
  if (a.aigp) AppendNumber("aigp", *a.aigp, &rest_);
  if (std::optional<uint32_t> index = PrefixSidLabelIndex(a)) {
    AppendNumber("psid_li", *index, &rest_);
  }
}

void AttributesText::AppendTo(const Family& family, std::string* out) const {
  if (!present_) return;
  if (!next_hop_.empty()) {
    AppendQuoted("bgp_nexthop", next_hop_, out);
  } else {
    AppendQuoted("bgp_nexthop", family.afi == Afi::kIpv6 ? "::" : "0.0.0.0",
                 out);
  }
  out->append(rest_);
}

void AppendRouteFields(const RouteFields& route,
                       const AttributesText& attributes, std::string* out) {
  const RouteKey& key = route.key;
  AppendNumber("afi", static_cast<uint16_t>(key.family.afi), out);
  AppendNumber("safi", static_cast<uint8_t>(key.family.safi), out);
  AppendQuoted("ip_prefix", key.prefix.ToString(), out);
  if (route.add_path || key.path_id != 0) {
    AppendNumber("as_path_id", key.path_id, out);
  }
  attributes.AppendTo(key.family, out);
  if (IsVpn(key.family) && !route.rd_written) {
    AppendQuoted("rd", key.rd.ToString(), out);
    AppendQuoted("rd_origin", "bgp", out);
  }
  if (HasLabel(key.family) && route.label) {
    AppendQuoted("label", std::to_string(*route.label), out);
  }
}

void AppendDumpInit(const BgpLineHeader& header, uint32_t dump_period_s,
                    std::string* out) {
  out->append("{");
  AppendHeaderPeer(header, out);
  out->append(", \"event_type\": \"dump_init\", \"dump_period\": ");
  AppendUint(dump_period_s, out);
  out->append(", ");
  AppendSeq(header, out);
  out->append("}\n");
}

void AppendDumpRoute(const BgpLineHeader& header, const RouteEntry& route,
                     std::span<const Family> add_path, std::string* out) {
  out->append("{");
  AppendSeq(header, out);
  out->append(", ");
  AppendHeaderPeer(header, out);
  out->append(", \"event_type\": \"dump\"");
  AppendRouteFields(FieldsOf(route.key, route.mpls_label, add_path),
                    AttributesText(route.attributes.ToPathAttributes()), out);
  out->append("}\n");
}

void AppendDumpClose(const BgpLineHeader& header, uint64_t entries,
                     uint64_t tables, std::string* out) {
  out->append("{");
  AppendHeaderPeer(header, out);
  out->append(", \"event_type\": \"dump_close\", \"entries\": ");
  AppendUint(entries, out);
  out->append(", \"tables\": ");
  AppendUint(tables, out);
  out->append(", ");
  AppendSeq(header, out);
  out->append("}\n");
}

void AppendLogEvent(const BgpLineHeader& header, std::string_view event_type,
                    std::string* out) {
  out->append("{");
  AppendSeq(header, out);
  out->append(", ");
  AppendHeaderPeer(header, out);
  out->append(", \"event_type\": \"");
  out->append(event_type);
  out->append("\"}\n");
}

void AppendLogRoute(const BgpLineHeader& header, std::string_view log_type,
                    const Nlri& nlri, const AttributesText& attributes,
                    std::span<const Family> add_path, std::string* out) {
  AppendLogStart(header, log_type, out);
  AppendRouteFields(FieldsOf(nlri.key, nlri.mpls_label, add_path), attributes,
                    out);
  out->append("}\n");
}

void AppendLogRibRoute(const BgpLineHeader& header, std::string_view log_type,
                       const RouteEntry& route,
                       std::span<const Family> add_path, std::string* out) {
  AppendLogStart(header, log_type, out);
  AppendRouteFields(FieldsOf(route.key, route.mpls_label, add_path),
                    AttributesText(route.attributes.ToPathAttributes()), out);
  out->append("}\n");
}

void AppendLogEndOfRib(const BgpLineHeader& header, const Family& family,
                       std::string* out) {
  AppendLogStart(header, "end-of-rib", out);
  AppendNumber("afi", static_cast<uint16_t>(family.afi), out);
  AppendNumber("safi", static_cast<uint8_t>(family.safi), out);
  out->append("}\n");
}

void AppendBmpViewFlags(const BmpViewFields& view, std::string* out) {
  if (view.is_loc) {
    AppendNumber("is_filtered", view.is_filtered ? 1 : 0, out);
    AppendNumber("is_loc", 1, out);
  } else {
    AppendNumber("is_post", view.is_post ? 1 : 0, out);
    AppendNumber(view.is_out ? "is_out" : "is_in", 1, out);
  }
}

void AppendBmpRouteFields(const BmpViewFields& view,
                          std::string_view event_type, RouteFields route,
                          const AttributesText& attributes, std::string* out) {
  AppendBmpViewFlags(view, out);
  // The route's own RD takes the peer distinguisher's place (one "rd").
  const bool vpn = IsVpn(route.key.family);
  route.rd_written =
      !view.rd.empty() && (view.peer_type == 1 || view.peer_type == 3);
  if (route.rd_written) {
    AppendQuoted("rd", vpn ? route.key.rd.ToString() : view.rd, out);
    AppendQuoted("rd_origin", vpn ? "bgp" : "bmp", out);
  }
  AppendQuoted("event_type", event_type, out);
  route.add_path = route.add_path || Has(view.add_path, route.key.family);
  AppendRouteFields(route, attributes, out);
}

void AppendBmpRouteEnd(const Endpoint& router, const BmpViewFields& view,
                       std::string* out) {
  AppendAddress("bmp_router", router.address, out);
  AppendNumber("bmp_router_port", router.port, out);
  AppendAddress("peer_ip", view.peer_ip, out);
  out->append(", \"peer_tcp_port\": 0, \"bmp_msg_type\": \"route_monitor\"}\n");
}

void AppendBmpDumpInit(const BgpLineHeader& router, uint32_t dump_period_s,
                       std::string* out) {
  out->append("{");
  AppendHeaderRouter(router, out);
  out->append(", \"event_type\": \"dump_init\", \"dump_period\": ");
  AppendUint(dump_period_s, out);
  out->append(", ");
  AppendSeq(router, out);
  out->append("}\n");
}

void AppendBmpDumpRoute(const BgpLineHeader& router, const BmpViewFields& view,
                        const RouteEntry& route, std::string* out) {
  out->append("{");
  AppendSeq(router, out);
  AppendQuoted("timestamp", router.timestamp, out);
  AppendBmpRouteFields(view, "dump", FieldsOf(route.key, route.mpls_label, {}),
                       AttributesText(route.attributes.ToPathAttributes()),
                       out);
  AppendBmpRouteEnd(router.peer, view, out);
}

void AppendBmpDumpClose(const BgpLineHeader& router, std::string* out) {
  out->append("{");
  AppendHeaderRouter(router, out);
  out->append(", \"event_type\": \"dump_close\", ");
  AppendSeq(router, out);
  out->append("}\n");
}

Result<std::string> RenderPeerFileName(std::string_view pattern,
                                       int64_t time_ns, const IpAddress& peer,
                                       bool utc) {
  // $peer_src_ip first (its value holds no '%'), then strftime.
  std::string text;
  constexpr std::string_view kVar = "$peer_src_ip";
  const std::string value =
      internal::SanitizePathValue(peer.is_set() ? peer.ToString() : "");
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i).starts_with(kVar)) {
      text += value;
      i += kVar.size();
    } else {
      text.push_back(pattern[i++]);
    }
  }
  internal::NameTemplate name(std::move(text), "file name", utc);
  Result<std::string> rendered = name.Render(time_ns, nullptr);
  if (!rendered.ok()) return rendered.status();
  if (rendered->empty()) {
    return InvalidArgumentError("file name \"" + std::string(pattern) +
                                "\" renders to an empty name");
  }
  return rendered;
}

}  // namespace flowacct::bgp
