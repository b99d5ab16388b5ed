#include "flowacct/bgp/rib_dump.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <vector>

#include "libflowacct/model/value_format.h"
#include "libflowacct/sink/file_util.h"
#include "libflowacct/sink/name_template.h"

namespace flowacct::bgp {
namespace {

void AppendUint(uint64_t v, std::string* out) {
  out->append(std::to_string(v));
}

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

bool IsVpn(const Family& f) { return f.safi == Safi::kMplsVpn; }
bool HasLabel(const Family& f) {
  return f.safi == Safi::kMplsVpn || f.safi == Safi::kLabeledUnicast;
}

// "afi", "safi", "ip_prefix", ["rd"], ["as_path_id"].
void AppendKey(const RouteKey& key, std::string* out) {
  out->append(", \"afi\": ");
  AppendUint(static_cast<uint16_t>(key.family.afi), out);
  out->append(", \"safi\": ");
  AppendUint(static_cast<uint8_t>(key.family.safi), out);
  out->append(", \"ip_prefix\": \"");
  out->append(key.prefix.ToString());
  out->push_back('"');
  if (IsVpn(key.family) || key.rd.is_set()) {
    out->append(", \"rd\": \"");
    out->append(key.rd.ToString());
    out->push_back('"');
  }
  if (key.path_id != 0) {
    out->append(", \"as_path_id\": ");
    AppendUint(key.path_id, out);
  }
}

void AppendSpaceList(std::string_view name, const std::string& text,
                     std::string* out) {
  if (text.empty()) return;
  out->append(", \"");
  out->append(name);
  out->append("\": \"");
  out->append(text);
  out->push_back('"');
}

// Communities are written sorted and without duplicates, as nfacctd
// writes them whatever their order on the wire.
std::string CommunitiesText(std::span<const uint32_t> comms) {
  std::vector<uint32_t> sorted(comms.begin(), comms.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string s;
  for (uint32_t c : sorted) {
    if (!s.empty()) s.push_back(' ');
    s += std::to_string(c >> 16);
    s.push_back(':');
    s += std::to_string(c & 0xFFFF);
  }
  return s;
}

std::string LargeCommunitiesText(std::span<const LargeCommunity> comms) {
  std::vector<LargeCommunity> sorted(comms.begin(), comms.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<uint8_t> bytes;
  for (const LargeCommunity& c : sorted) {
    for (uint32_t v : {c.global_admin, c.local1, c.local2}) {
      for (int shift = 24; shift >= 0; shift -= 8) {
        bytes.push_back(static_cast<uint8_t>(v >> shift));
      }
    }
  }
  std::string s;
  internal::AppendLargeCommunities(bytes, &s, ' ');
  return s;
}

// What a route's attributes contribute, whichever form they come in.
struct AttrFields {
  IpAddress next_hop;
  std::string as_path;
  std::string comms;
  std::string ecomms;
  std::string lcomms;
  std::optional<Origin> origin;
  std::optional<uint32_t> local_pref;
  std::optional<uint32_t> med;
};

void AppendAttrs(const AttrFields& a, std::optional<uint32_t> label,
                 const Family& family, std::string* out) {
  out->append(", \"bgp_nexthop\": \"");
  if (a.next_hop.is_set()) {
    a.next_hop.AppendTo(out);
  } else {
    out->append(family.afi == Afi::kIpv6 ? "::" : "0.0.0.0");
  }
  out->append("\", \"as_path\": \"");
  out->append(a.as_path);
  out->push_back('"');
  AppendSpaceList("comms", a.comms, out);
  AppendSpaceList("ecomms", a.ecomms, out);
  AppendSpaceList("lcomms", a.lcomms, out);
  if (a.origin) {
    out->append(", \"origin\": \"");
    out->append(OriginLetter(*a.origin));
    out->push_back('"');
  }
  if (a.local_pref.value_or(0) != 0) {
    out->append(", \"local_pref\": ");
    AppendUint(*a.local_pref, out);
  }
  if (a.med.value_or(0) != 0) {
    out->append(", \"med\": ");
    AppendUint(*a.med, out);
  }
  if (HasLabel(family) && label) {
    out->append(", \"label\": \"");
    AppendUint(*label, out);
    out->push_back('"');
  }
}

AttrFields FieldsOf(const AttributesView& v) {
  AttrFields a;
  if (!v.valid()) return a;
  a.next_hop = v.next_hop();
  PathAttributes segments;
  for (size_t i = 0; i < v.as_path_segment_count(); ++i) {
    AsPathSegmentView s = v.as_path_segment(i);
    segments.as_path.push_back(
        {s.type, std::vector<uint32_t>(s.asns.begin(), s.asns.end())});
  }
  a.as_path = segments.AsPathString();
  a.comms = CommunitiesText(v.communities());
  a.ecomms = FormatExtCommunities(v.ext_communities());
  a.lcomms = LargeCommunitiesText(v.large_communities());
  a.origin = v.origin();
  a.local_pref = v.local_pref();
  a.med = v.med();
  return a;
}

AttrFields FieldsOf(const PathAttributes& p) {
  AttrFields a;
  a.next_hop = p.next_hop;
  a.as_path = p.AsPathString();
  a.comms = CommunitiesText(p.communities);
  a.ecomms = FormatExtCommunities(p.ext_communities);
  a.lcomms = LargeCommunitiesText(p.large_communities);
  a.origin = p.origin;
  a.local_pref = p.local_pref;
  a.med = p.med;
  return a;
}

// pmbmpd's extended communities: sorted, without duplicates; route targets
// and route origins of the transitive two-octet AS, IPv4 and four-octet AS
// types (RFC 4360 §3, RFC 5668) as FormatExtCommunities writes them, any
// other one as "?" (docs/pmacct-parity.md §14.1).
std::string BmpExtCommunitiesText(std::span<const uint64_t> comms) {
  std::vector<uint64_t> sorted(comms.begin(), comms.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string s;
  for (uint64_t c : sorted) {
    if (!s.empty()) s.push_back(' ');
    const auto type = static_cast<uint8_t>(c >> 56);
    const auto subtype = static_cast<uint8_t>(c >> 48);
    if (type <= 0x02 && (subtype == 0x02 || subtype == 0x03)) {
      s += FormatExtCommunities(std::span<const uint64_t>(&c, 1));
    } else {
      s.push_back('?');
    }
  }
  return s;
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

std::string FormatExtCommunities(std::span<const uint64_t> communities) {
  std::vector<uint64_t> sorted(communities.begin(), communities.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<uint8_t> bytes;
  for (uint64_t c : sorted) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<uint8_t>(c >> shift));
    }
  }
  std::string s;
  internal::AppendExtCommunities(bytes, &s, ' ');
  return s;
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
                     std::string* out) {
  out->append("{");
  AppendSeq(header, out);
  out->append(", ");
  AppendHeaderPeer(header, out);
  out->append(", \"event_type\": \"dump\"");
  AppendKey(route.key, out);
  AppendAttrs(FieldsOf(route.attributes), route.mpls_label, route.key.family,
              out);
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
  const RouteKey& key = route.key;
  const bool vpn = IsVpn(key.family);
  const bool peer_rd =
      !view.rd.empty() && (view.peer_type == 1 || view.peer_type == 3);
  out->append("{");
  AppendSeq(router, out);
  out->append(", \"timestamp\": \"");
  out->append(router.timestamp);
  out->push_back('"');
  if (view.is_loc) {
    out->append(", \"is_filtered\": ");
    AppendUint(view.is_filtered ? 1 : 0, out);
    out->append(", \"is_loc\": 1");
  } else {
    out->append(", \"is_post\": ");
    AppendUint(view.is_post ? 1 : 0, out);
    out->append(view.is_out ? ", \"is_out\": 1" : ", \"is_in\": 1");
  }
  if (peer_rd) {
    out->append(", \"rd\": \"");
    out->append(vpn ? key.rd.ToString() : view.rd);
    out->append(vpn ? "\", \"rd_origin\": \"bgp\""
                    : "\", \"rd_origin\": \"bmp\"");
  }
  out->append(", \"event_type\": \"dump\", \"afi\": ");
  AppendUint(static_cast<uint16_t>(key.family.afi), out);
  out->append(", \"safi\": ");
  AppendUint(static_cast<uint8_t>(key.family.safi), out);
  out->append(", \"ip_prefix\": \"");
  out->append(key.prefix.ToString());
  out->push_back('"');
  if (key.path_id != 0 || std::find(view.add_path.begin(), view.add_path.end(),
                                    key.family) != view.add_path.end()) {
    out->append(", \"as_path_id\": ");
    AppendUint(key.path_id, out);
  }
  AppendBmpRouteAttributes(route.attributes.ToPathAttributes(), key.family,
                           out);
  if (vpn && !peer_rd) {
    out->append(", \"rd\": \"");
    out->append(key.rd.ToString());
    out->append("\", \"rd_origin\": \"bgp\"");
  }
  if (HasLabel(key.family) && route.mpls_label) {
    out->append(", \"label\": \"");
    AppendUint(*route.mpls_label, out);
    out->push_back('"');
  }
  out->append(", \"bmp_router\": \"");
  router.peer.address.AppendTo(out);
  out->append("\", \"bmp_router_port\": ");
  AppendUint(router.peer.port, out);
  out->append(", \"peer_ip\": \"");
  view.peer_ip.AppendTo(out);
  out->append(
      "\", \"peer_tcp_port\": 0, \"bmp_msg_type\": "
      "\"route_monitor\"}\n");
}

void AppendBmpDumpClose(const BgpLineHeader& router, std::string* out) {
  out->append("{");
  AppendHeaderRouter(router, out);
  out->append(", \"event_type\": \"dump_close\", ");
  AppendSeq(router, out);
  out->append("}\n");
}

void AppendBmpRouteAttributes(const PathAttributes& a, const Family& family,
                              std::string* out) {
  out->append(", \"bgp_nexthop\": \"");
  if (a.next_hop.is_set()) {
    a.next_hop.AppendTo(out);
  } else {
    out->append(family.afi == Afi::kIpv6 ? "::" : "0.0.0.0");
  }
  out->append("\", \"as_path\": \"");
  out->append(a.AsPathString());
  out->push_back('"');
  AppendSpaceList("comms", CommunitiesText(a.communities), out);
  AppendSpaceList("ecomms", BmpExtCommunitiesText(a.ext_communities), out);
  AppendSpaceList("lcomms", LargeCommunitiesText(a.large_communities), out);
  if (a.origin) {
    out->append(", \"origin\": \"");
    out->append(OriginLetter(*a.origin));
    out->push_back('"');
  }
  // Present attributes are written whatever their value (pmbmpd: "med": 0).
  if (a.local_pref) {
    out->append(", \"local_pref\": ");
    AppendUint(*a.local_pref, out);
  }
  if (a.med) {
    out->append(", \"med\": ");
    AppendUint(*a.med, out);
  }
  if (a.aigp) {
    out->append(", \"aigp\": ");
    AppendUint(*a.aigp, out);
  }
  if (std::optional<uint32_t> index = PrefixSidLabelIndex(a)) {
    out->append(", \"psid_li\": ");
    AppendUint(*index, out);
  }
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
                    const Nlri& nlri, const PathAttributes* attributes,
                    std::string* out) {
  AppendLogStart(header, log_type, out);
  AppendKey(nlri.key, out);
  if (attributes != nullptr) {
    AppendAttrs(FieldsOf(*attributes), nlri.mpls_label, nlri.key.family, out);
  }
  out->append("}\n");
}

void AppendLogRibRoute(const BgpLineHeader& header, std::string_view log_type,
                       const RouteEntry& route, std::string* out) {
  AppendLogStart(header, log_type, out);
  AppendKey(route.key, out);
  AppendAttrs(FieldsOf(route.attributes), route.mpls_label, route.key.family,
              out);
  out->append("}\n");
}

void AppendLogEndOfRib(const BgpLineHeader& header, const Family& family,
                       std::string* out) {
  AppendLogStart(header, "end-of-rib", out);
  out->append(", \"afi\": ");
  AppendUint(static_cast<uint16_t>(family.afi), out);
  out->append(", \"safi\": ");
  AppendUint(static_cast<uint8_t>(family.safi), out);
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
