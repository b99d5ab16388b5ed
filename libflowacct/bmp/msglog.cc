#include "flowacct/bmp/msglog.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "flowacct/bgp/rib_dump.h"

#include "libflowacct/bgp/json_line.h"
#include "libflowacct/sink/file_util.h"

namespace flowacct::bmp {
namespace {

using bgp::json_line::AppendAddress;
using bgp::json_line::AppendKey;
using bgp::json_line::AppendNumber;
using bgp::json_line::AppendQuoted;
using bgp::json_line::AppendUint;

// What pmbmpd writes for a time it does not have.
constexpr std::string_view kNoTime = "0000-00-00 00:00:00.000000";

std::string DottedQuad(uint32_t v) { return IpAddress::V4(v).ToString(); }

// Length of the UTF-8 sequence starting at s[i] (RFC 3629 §4), 0 when it
// is not a valid one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const auto cont = [&](size_t k) {
    return i + k < s.size() && (b(k) & 0xC0) == 0x80;
  };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

// A string TLV as a JSON string body, as pmbmpd (jansson) writes it: up to
// the first NUL, '"' '\\' and \b \f \n \r \t escaped, other control bytes
// as \u00XX. A byte that is not UTF-8 is written as \u00XX too (pmbmpd
// leaves the whole key out then: docs/pmacct-parity.md §14.1, N5).
std::string JsonText(std::string_view raw) {
  const size_t nul = raw.find('\0');
  if (nul != std::string_view::npos) raw = raw.substr(0, nul);
  std::string s;
  s.reserve(raw.size());
  char buf[8];
  for (size_t i = 0; i < raw.size();) {
    const auto c = static_cast<uint8_t>(raw[i]);
    const size_t n = Utf8Length(raw, i);
    if (n > 1) {
      s.append(raw.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        s.append("\\\"");
        break;
      case '\\':
        s.append("\\\\");
        break;
      case '\b':
        s.append("\\b");
        break;
      case '\f':
        s.append("\\f");
        break;
      case '\n':
        s.append("\\n");
        break;
      case '\r':
        s.append("\\r");
        break;
      case '\t':
        s.append("\\t");
        break;
      default:
        if (c < 0x20 || n == 0) {
          std::snprintf(buf, sizeof(buf), "\\u%04X", c);
          s.append(buf);
        } else {
          s.push_back(static_cast<char>(c));
        }
    }
  }
  return s;
}

// Bytes as pmbmpd writes values it has no text for: "0A-FF-01".
std::string HexDashes(std::span<const uint8_t> bytes) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), i == 0 ? "%02X" : "-%02X", bytes[i]);
    s.append(buf);
  }
  return s;
}

std::string HexDashes(const std::string& raw) {
  return HexDashes(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
}

// A JSON object whose keys keep their first position while a later value
// of the same key replaces the earlier one (jansson's json_object_set, as
// pmbmpd fills its objects from repeated TLVs). Values are JSON text.
class OrderedFields {
 public:
  void Set(std::string key, std::string json_value) {
    for (auto& [k, v] : fields_) {
      if (k == key) {
        v = std::move(json_value);
        return;
      }
    }
    fields_.emplace_back(std::move(key), std::move(json_value));
  }
  void SetString(std::string key, const std::string& text) {
    Set(std::move(key), "\"" + text + "\"");
  }
  void AppendTo(std::string* out) const {
    for (const auto& [k, v] : fields_) {
      AppendKey(k, out);
      out->append(v);
    }
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Information TLVs (RFC 7854 §4.4) under `prefix`: "_string" (type 0),
// "_sysdescr" / "_sysname" (1, 2) where `sys_names`, else "_<type>" in
// hex.
void AddInfoTlvs(std::string_view prefix, std::span<const InformationTlv> tlvs,
                 bool sys_names, OrderedFields* fields) {
  for (const InformationTlv& t : tlvs) {
    std::string key(prefix);
    if (t.type == 0) {
      fields->SetString(key + "string", JsonText(t.value));
    } else if (sys_names && t.type == 1) {
      fields->SetString(key + "sysdescr", JsonText(t.value));
    } else if (sys_names && t.type == 2) {
      fields->SetString(key + "sysname", JsonText(t.value));
    } else {
      fields->SetString(key + std::to_string(t.type), HexDashes(t.value));
    }
  }
}

std::string_view PeerTypeText(PeerType type) {
  switch (type) {
    case PeerType::kGlobal:
      return "Global Instance Peer";
    case PeerType::kRdInstance:
      return "RD Instance Peer";
    case PeerType::kLocalInstance:
      return "Local Instance Peer";
    case PeerType::kLocRib:
      return "Loc-RIB Instance Peer";
  }
  return "Unknown";
}

// RFC 7854 §4.9 (and RFC 9069 §4.4 for 6): pmbmpd has texts for 1-5.
std::string_view PeerDownText(uint8_t reason) {
  switch (reason) {
    case 1:
      return "The local system closed the session";
    case 2:
      return "The local system closed the session without a notification "
             "message";
    case 3:
      return "The remote system closed the session";
    case 4:
      return "The remote system closed the session without a notification "
             "message";
    case 5:
      return "Info for this peer will no longer be sent for configuration "
             "reasons";
  }
  return {};
}

// RFC 7854 §4.5 termination reasons.
std::string TerminationText(uint16_t reason) {
  switch (reason) {
    case 0:
      return "Session administratively closed";
    case 1:
      return "Unspecified reason";
    case 2:
      return "Out of resources";
    case 3:
      return "Redundant connection";
    case 4:
      return "Session permanently administratively closed";
  }
  return std::to_string(reason);
}

// RFC 7854 §4.8 and RFC 8671 §5 statistics, as pmbmpd names them ("Abj" is
// pmbmpd's spelling); empty beyond its table.
std::string_view CounterText(uint16_t type) {
  static constexpr std::array<std::string_view, 18> kText = {
      "Number of prefixes rejected by inbound policy",
      "Number of (known) duplicate prefix advertisements",
      "Number of (known) duplicate withdraws",
      "Number of updates invalidated due to CLUSTER_LIST loop",
      "Number of updates invalidated due to AS_PATH loop",
      "Number of updates invalidated due to ORIGINATOR_ID",
      "Number of updates invalidated due to AS_CONFED loop",
      "Number of routes in Adj-RIBs-In",
      "Number of routes in Loc-RIB",
      "Number of routes in per-AFI/SAFI Abj-RIB-In",
      "Number of routes in per-AFI/SAFI Loc-RIB",
      "Number of updates subjected to treat-as-withdraw",
      "Number of prefixes subjected to treat-as-withdraw",
      "Number of duplicate update messages received",
      "Number of routes in Adj-RIBs-Out Pre-Policy",
      "Number of routes in Adj-RIBs-Out Post-Policy",
      "Number of routes in per-AFI/SAFI Abj-RIB-Out Pre-Policy",
      "Number of routes in per-AFI/SAFI Abj-RIB-Out Post-Policy",
  };
  return type < kText.size() ? kText[type] : std::string_view();
}

// The per-family gauges pmbmpd writes afi and safi for (not for the
// RFC 8671 ones, 16 and 17, whose value it still reads).
bool PerFamilyCounter(uint16_t type) { return type == 9 || type == 10; }

// A counter's bytes as they were on the wire, rebuilt from the decoded
// value and its length.
std::vector<uint8_t> CounterBytes(const Statistic& s) {
  std::vector<uint8_t> b;
  const auto put = [&](uint64_t v, int octets) {
    for (int shift = (octets - 1) * 8; shift >= 0; shift -= 8) {
      b.push_back(static_cast<uint8_t>(v >> shift));
    }
  };
  if (s.length == 11 && s.family) {
    put(static_cast<uint16_t>(s.family->afi), 2);
    put(static_cast<uint8_t>(s.family->safi), 1);
    put(s.value, 8);
  } else {
    put(s.value, s.length == 8 ? 8 : 4);
  }
  return b;
}

std::string TimeText(int64_t time_ns, bool utc) {
  if (time_ns == 0) return std::string(kNoTime);
  return bgp::FormatBgpTimestamp(time_ns, utc, true);
}

// The distinguisher pmbmpd names a peer by: that of RD-instance and
// Loc-RIB peers, when set.
bool HasPeerRd(const PeerHeader& p) {
  return (p.type == PeerType::kRdInstance || p.type == PeerType::kLocRib) &&
         p.distinguisher.is_set();
}

// The view as route lines (bgp/rib_dump.h) show it; `add_path`: the
// families whose routes carry path ids.
bgp::BmpViewFields ViewOf(const PeerHeader& p,
                          std::span<const bgp::Family> add_path = {}) {
  bgp::BmpViewFields v;
  v.peer_ip = p.address;
  v.peer_type = static_cast<uint8_t>(p.type);
  if (p.distinguisher.is_set()) v.rd = p.distinguisher.ToString();
  v.is_post = p.post_policy;
  v.is_out = p.adj_rib_out;
  v.is_loc = p.type == PeerType::kLocRib;
  v.is_filtered = p.loc_rib_filtered;
  v.add_path = add_path;
  return v;
}

void AppendViewFlags(const PeerHeader& p, std::string* out) {
  bgp::AppendBmpViewFlags(ViewOf(p), out);
}

void AppendPeerRd(const PeerHeader& p, std::string* out) {
  if (!HasPeerRd(p)) return;
  AppendQuoted("rd", p.distinguisher.ToString(), out);
  AppendQuoted("rd_origin", "bmp", out);
}

// {"event_type": "log", "seq": N, "timestamp": ..., "timestamp_arrival":
//  ..., "bmp_router": ..., "bmp_router_port": ..., "bmp_msg_type": ...
void AppendLogStart(const MsglogContext& c, std::string_view time,
                    std::string_view type, uint64_t* seq, std::string* out) {
  out->append("{\"event_type\": \"log\", \"seq\": ");
  AppendUint((*seq)++, out);
  AppendQuoted("timestamp", time, out);
  AppendQuoted("timestamp_arrival", c.arrival, out);
  AppendAddress("bmp_router", c.router.address, out);
  AppendNumber("bmp_router_port", c.router.port, out);
  AppendQuoted("bmp_msg_type", type, out);
}

// peer_ip, peer_asn, peer_type.
void AppendPeer(const PeerHeader& p, std::string* out) {
  AppendAddress("peer_ip", p.address, out);
  AppendNumber("peer_asn", p.as, out);
  AppendNumber("peer_type", static_cast<uint8_t>(p.type), out);
}

void AppendLogEvent(const MsglogContext& c, std::string_view event,
                    uint64_t* seq, std::string* out) {
  out->append("{\"seq\": ");
  AppendUint((*seq)++, out);
  AppendQuoted("timestamp", c.arrival, out);
  AppendAddress("bmp_router", c.router.address, out);
  AppendNumber("bmp_router_port", c.router.port, out);
  AppendQuoted("event_type", event, out);
  out->append("}\n");
}

// --- Route monitoring ------------------------------------------------------

// A route line of `update`: "seq", "log_type", "timestamp", the view and
// the route as pmbmpd writes them in its dumps too (bgp/rib_dump.h), then
// "timestamp_arrival", the router and the monitored peer.
void AppendRouteLine(const MsglogContext& c, const bgp::BmpViewFields& view,
                     std::string_view time,
                     const bgp::AttributesText& attributes, const bgp::Nlri& n,
                     uint64_t* seq, std::string* out) {
  out->append("{\"seq\": ");
  AppendUint((*seq)++, out);
  AppendQuoted("log_type", attributes.empty() ? "withdraw" : "update", out);
  AppendQuoted("timestamp", time, out);
  bgp::RouteFields route;
  route.key = n.key;
  route.label = n.mpls_label;
  bgp::AppendBmpRouteFields(view, "log", route, attributes, out);
  AppendQuoted("timestamp_arrival", c.arrival, out);
  bgp::AppendBmpRouteEnd(c.router, view, out);
}

// The withdrawn-routes field and the IPv4 NLRI carry IPv4 unicast only;
// MP_REACH / MP_UNREACH NLRI are told from them by family (an UPDATE
// carrying IPv4 unicast both ways is not told apart: see the header).
bool Classic(const bgp::Nlri& n) { return n.key.family == bgp::kIpv4Unicast; }

}  // namespace

void AppendLogInit(const MsglogContext& context, uint64_t* seq,
                   std::string* out) {
  AppendLogEvent(context, "log_init", seq, out);
}

void AppendLogClose(const MsglogContext& context, uint64_t* seq,
                    std::string* out) {
  AppendLogEvent(context, "log_close", seq, out);
}

void AppendInitiation(const MsglogContext& context, const Initiation& init,
                      uint64_t* seq, std::string* out) {
  AppendLogStart(context, kNoTime, "init", seq, out);
  OrderedFields f;
  AddInfoTlvs("bmp_init_info_", init.information, true, &f);
  f.AppendTo(out);
  out->append("}\n");
}

void AppendTermination(const MsglogContext& context, const Termination& term,
                       uint64_t* seq, std::string* out) {
  AppendLogStart(context, kNoTime, "term", seq, out);
  OrderedFields f;
  for (const InformationTlv& t : term.information) {
    if (t.type == 0) {
      f.SetString("bmp_term_info_string", JsonText(t.value));
    } else if (t.type == 1 && t.value.size() == 2) {
      const auto* b = reinterpret_cast<const uint8_t*>(t.value.data());
      f.SetString("bmp_term_info_reason",
                  TerminationText(static_cast<uint16_t>(b[0] << 8 | b[1])));
    } else {
      f.SetString("bmp_term_info_" + std::to_string(t.type),
                  HexDashes(t.value));
    }
  }
  f.AppendTo(out);
  out->append("}\n");
}

void AppendPeerUp(const MsglogContext& context, const PeerUp& up, uint64_t* seq,
                  std::string* out) {
  const PeerHeader& p = up.peer;
  AppendLogStart(context, TimeText(p.timestamp_ns, context.utc), "peer_up", seq,
                 out);
  AppendPeer(p, out);
  AppendQuoted("peer_type_str", PeerTypeText(p.type), out);
  AppendViewFlags(p, out);
  AppendQuoted("bgp_id", DottedQuad(p.bgp_id), out);
  AppendNumber("local_port", up.local_port, out);
  AppendNumber("remote_port", up.remote_port, out);
  AppendAddress("local_ip", up.local_address, out);
  AppendPeerRd(p, out);
  OrderedFields f;
  AddInfoTlvs("bmp_peer_up_info_", up.information, false, &f);
  f.AppendTo(out);
  out->append("}\n");
}

void AppendPeerDown(const MsglogContext& context, const PeerDown& down,
                    uint64_t* seq, std::string* out) {
  const PeerHeader& p = down.peer;
  AppendLogStart(context, TimeText(p.timestamp_ns, context.utc), "peer_down",
                 seq, out);
  AppendPeer(p, out);
  AppendQuoted("peer_type_str", PeerTypeText(p.type), out);
  AppendPeerRd(p, out);
  AppendNumber("reason_type", down.reason, out);
  const std::string_view text = PeerDownText(down.reason);
  if (!text.empty()) AppendQuoted("reason_str", text, out);
  if (down.reason == 2 && down.fsm_event) {
    AppendNumber("reason_loc_code", *down.fsm_event, out);
  }
  out->append("}\n");
}

void AppendStatistics(const MsglogContext& context,
                      const StatisticsReport& report, uint64_t* seq,
                      std::string* out) {
  const PeerHeader& p = report.peer;
  const std::string time = TimeText(p.timestamp_ns, context.utc);
  for (const Statistic& s : report.statistics) {
    AppendLogStart(context, time, "stats", seq, out);
    AppendPeer(p, out);
    AppendViewFlags(p, out);
    AppendPeerRd(p, out);
    AppendNumber("counter_type", s.type, out);
    const std::string_view text = CounterText(s.type);
    if (text.empty()) {
      AppendQuoted("counter_type_str", "Unknown", out);
      AppendQuoted("counter_value", HexDashes(CounterBytes(s)), out);
    } else {
      AppendQuoted("counter_type_str", text, out);
      if (PerFamilyCounter(s.type) && s.family) {
        AppendNumber("afi", static_cast<uint16_t>(s.family->afi), out);
        AppendNumber("safi", static_cast<uint8_t>(s.family->safi), out);
      }
      AppendNumber("counter_value", s.value, out);
    }
    out->append("}\n");
  }
}

void AppendRouteMonitoring(const MsglogContext& context, const PeerHeader& peer,
                           const bgp::ParsedUpdate& update,
                           std::span<const bgp::Family> add_path, uint64_t* seq,
                           std::string* out) {
  if (update.end_of_rib) return;
  if (update.withdrawn.empty() && update.announced.empty()) return;
  const bgp::BmpViewFields view = ViewOf(peer, add_path);
  const std::string time = TimeText(peer.timestamp_ns, context.utc);
  const bgp::AttributesText none;
  const bgp::AttributesText attributes =
      update.announced.empty() ? none : bgp::AttributesText(update.attributes);
  const auto line = [&](const bgp::Nlri& n, const bgp::AttributesText& a) {
    AppendRouteLine(context, view, time, a, n, seq, out);
  };
  // pmbmpd's order: withdrawn routes, IPv4 NLRI, MP_REACH, MP_UNREACH.
  for (const bgp::Nlri& n : update.withdrawn) {
    if (Classic(n)) line(n, none);
  }
  for (const bgp::Nlri& n : update.announced) {
    if (Classic(n)) line(n, attributes);
  }
  for (const bgp::Nlri& n : update.announced) {
    if (!Classic(n)) line(n, attributes);
  }
  for (const bgp::Nlri& n : update.withdrawn) {
    if (!Classic(n)) line(n, none);
  }
}

void AppendCollectorEvent(const MsglogContext& context,
                          const CollectorEvent& event, uint64_t* seq,
                          std::string* out) {
  MsglogContext c = context;
  c.router = event.router;
  using Kind = CollectorEvent::Kind;
  switch (event.kind) {
    case Kind::kRouterUp:
      AppendLogInit(c, seq, out);
      return;
    case Kind::kRouterDown:
      AppendLogClose(c, seq, out);
      return;
    case Kind::kRejected:
      return;
    case Kind::kMessage:
      break;
  }
  switch (event.message_type) {
    case MessageType::kInitiation:
      if (event.initiation) AppendInitiation(c, *event.initiation, seq, out);
      return;
    case MessageType::kTermination:
      if (event.termination) AppendTermination(c, *event.termination, seq, out);
      return;
    case MessageType::kPeerUp:
      if (event.peer_up) AppendPeerUp(c, *event.peer_up, seq, out);
      return;
    case MessageType::kPeerDown:
      if (event.peer_down) AppendPeerDown(c, *event.peer_down, seq, out);
      return;
    case MessageType::kStatisticsReport:
      if (event.statistics) AppendStatistics(c, *event.statistics, seq, out);
      return;
    case MessageType::kRouteMonitoring:
      if (event.peer && event.update) {
        AppendRouteMonitoring(c, *event.peer, *event.update, event.add_path,
                              seq, out);
      }
      return;
    case MessageType::kRouteMirroring:
      return;
  }
}

Result<std::string> RenderMsglogFileName(std::string_view pattern,
                                         const Endpoint& router) {
  constexpr std::string_view kIp = "$peer_src_ip";
  constexpr std::string_view kPort = "$peer_tcp_port";
  constexpr size_t kMaxName = 4096;
  const std::string ip = internal::SanitizePathValue(
      router.address.is_set() ? router.address.ToString() : "");
  const std::string port = std::to_string(router.port);
  std::string name;
  for (size_t i = 0; i < pattern.size();) {
    const std::string_view rest = pattern.substr(i);
    if (rest.starts_with(kIp)) {
      name += ip;
      i += kIp.size();
    } else if (rest.starts_with(kPort)) {
      name += port;
      i += kPort.size();
    } else {
      name.push_back(pattern[i++]);
    }
  }
  if (name.empty() || name.size() > kMaxName) {
    return InvalidArgumentError(
        "bmp_daemon_msglog_file \"" + std::string(pattern) + "\" renders to " +
        (name.empty() ? "an empty name" : "a name over 4 KiB"));
  }
  return name;
}

}  // namespace flowacct::bmp
