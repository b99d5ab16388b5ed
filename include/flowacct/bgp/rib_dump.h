// File: flowacct/bgp/rib_dump.h
//
// pmacct's JSON lines for routes: the BGP table dump (bgp_table_dump_file)
// and message log (bgp_daemon_msglog_file) as nfacctd 1.7.7 writes them,
// the BMP dump (bmp_dump_file) as pmbmpd 1.7.7 writes it, and the pieces
// the BMP message log (flowacct/bmp/msglog.h) builds its route lines from.
// pmacct writes a route the same way in all four: the same keys, in the
// same order, with the same texts (docs/pmacct-parity.md §14). Only the
// formatting lives here; files, timers and sequence numbers are the
// caller's (flowacctd: daemon/flowacctd/routing.cc).
//
//   {"timestamp": "2026-12-07 06:15:00", "peer_ip_src": "127.0.0.2",
//    "peer_tcp_port": 42225, "event_type": "dump_init", "dump_period": 60,
//    "seq": 9}
//   {"seq": 9, "timestamp": "2026-12-07 06:15:00", "peer_ip_src":
//    "127.0.0.2", "peer_tcp_port": 42225, "event_type": "dump", "afi": 1,
//    "safi": 1, "ip_prefix": "10.2.0.0/24", "bgp_nexthop": "192.0.2.2",
//    "as_path": "65020 65021", "comms": "65002:1 65002:2 no-export",
//    "lcomms": "65002:1:2", "origin": "i", "local_pref": 200, "med": 0}
//   {"timestamp": ..., "event_type": "dump_close", "entries": 5,
//    "tables": 1, "seq": 9}
//
//   {"seq": 0, "timestamp": "2026-12-07 06:14:09.109089", "peer_ip_src":
//    "127.0.0.2", "peer_tcp_port": 42225, "event_type": "log_init"}
//   {"seq": 1, "log_type": "update", "timestamp": ..., "event_type": "log",
//    "afi": 1, "safi": 1, "ip_prefix": ..., <attributes as in a dump>}
//
// A route, after its line's own keys (AppendRouteFields): "afi", "safi",
// "ip_prefix", "as_path_id" (for every route of a family with ADD-PATH, 0
// included), the attributes (AttributesText: "bgp_nexthop", "as_path",
// then those present of "comms", "ecomms", "lcomms", "origin",
// "local_pref", "med", "aigp", "psid_li"; local_pref, med and aigp even
// when 0), a VPN route's "rd" with "rd_origin" "bgp", and "label" (a
// string) for the VPN and labeled-unicast families.
//
// Each Append*Init/Close/Route function appends exactly one line, '\n'
// included.
//
// Thread-safety: free functions and value types without shared state;
// safe from any thread. RouteEntry arguments must be valid (inside their
// read section) for the duration of the call.

#ifndef FLOWACCT_BGP_RIB_DUMP_H_
#define FLOWACCT_BGP_RIB_DUMP_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "flowacct/bgp/path_attributes.h"
#include "flowacct/bgp/rib.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct::bgp {

// pmacct's timestamp text: "2026-12-07 06:14:09.109089" (microseconds,
// the message logs) or "2026-12-07 06:15:00" (dumps). Local time unless
// `utc` (timestamps_utc).
std::string FormatBgpTimestamp(int64_t time_ns, bool utc, bool microseconds);

// What starts every line: the sequence number, the timestamp (from
// FormatBgpTimestamp) and the peer's session endpoint (BGP) or the router's
// (BMP).
struct BgpLineHeader {
  uint64_t seq = 0;
  std::string_view timestamp;
  Endpoint peer;  // peer_ip_src, peer_tcp_port (bmp_router, bmp_router_port)
};

// pmacct's origin letters: "i", "e", "u".
std::string_view OriginLetter(Origin origin);

// Community texts as pmacct writes them, each sorted and without
// duplicates, space separated:
// RFC 1997 communities as "65000:1", the well-known ones by name
// ("internet" for 0:0, "no-export", "no-advertise", "local-AS"; others,
// e.g. 65535:666, as numbers);
std::string FormatCommunities(std::span<const uint32_t> communities);
// RFC 4360 extended communities: route targets and route origins of the
// transitive two-octet AS, IPv4 address and four-octet AS types (RFC 4360
// §4, RFC 5668) as "RT:65000:100", "SoO:192.0.2.1:7", "RT:4200000001:9";
// every other one (non-transitive route targets included) as "?";
std::string FormatExtCommunities(std::span<const uint64_t> communities);
// RFC 8092 large communities as "65000:1:2".
std::string FormatLargeCommunities(std::span<const LargeCommunity> communities);

// The attribute keys of a route line, formatted once for every route that
// shares them (the NLRI of one UPDATE). Empty (default-constructed): no
// attributes, a line with the route's key only (a withdrawal).
class AttributesText {
 public:
  AttributesText() = default;
  explicit AttributesText(const PathAttributes& attributes);

  bool empty() const { return !present_; }

  // Appends, each with its leading ", ": "bgp_nexthop" (the next hop, else
  // "0.0.0.0" or "::" by `family`), "as_path" ("" when empty; AS_SET as
  // "{1,2}", confederation segments as "(1 2)" / "[3]"), then those
  // present of "comms", "ecomms", "lcomms" (Format*Communities), "origin"
  // (OriginLetter), "local_pref", "med", "aigp" (RFC 7311) and "psid_li"
  // (the Prefix-SID Label-Index, RFC 8669 §3.1). Nothing when empty().
  void AppendTo(const Family& family, std::string* out) const;

 private:
  bool present_ = false;
  std::string next_hop_;  // empty: the attributes have none
  std::string rest_;      // from ", \"as_path\"" on
};

// A route as AppendRouteFields writes it.
struct RouteFields {
  RouteKey key;
  std::optional<uint32_t> label;  // MPLS label (VPN and labeled unicast)
  // The route's family has ADD-PATH (RFC 7911) on this session or view:
  // "as_path_id" is written even when 0, as pmacct does. Without it, only a
  // non-zero path id is.
  bool add_path = false;
  // A BMP line of an RD-instance or Loc-RIB peer wrote the route's RD
  // before "event_type" (AppendBmpRouteFields): no "rd" after the
  // attributes.
  bool rd_written = false;
};

// Appends a route's keys from "afi" on (see the top of this file), each
// with its leading ", ", the attributes from `attributes`.
void AppendRouteFields(const RouteFields& route,
                       const AttributesText& attributes, std::string* out);

// --- BGP (nfacctd) ----------------------------------------------------------

// `add_path`: the families of the peer's session with ADD-PATH receive
// (SessionParams::add_path_receive, PeerStatus::add_path).

// Table dumps.
void AppendDumpInit(const BgpLineHeader& header, uint32_t dump_period_s,
                    std::string* out);
void AppendDumpRoute(const BgpLineHeader& header, const RouteEntry& route,
                     std::span<const Family> add_path, std::string* out);
// `entries`: routes written for the peer; `tables`: peer tables written.
void AppendDumpClose(const BgpLineHeader& header, uint64_t entries,
                     uint64_t tables, std::string* out);

// Message log. `event_type`: "log_init" or "log_close".
void AppendLogEvent(const BgpLineHeader& header, std::string_view event_type,
                    std::string* out);
// One route of an UPDATE. `log_type`: "update" (with the UPDATE's
// attributes), "withdraw" or "delete" (the attributes the route had, or
// empty: its key only).
void AppendLogRoute(const BgpLineHeader& header, std::string_view log_type,
                    const Nlri& nlri, const AttributesText& attributes,
                    std::span<const Family> add_path, std::string* out);
// A route still in the RIB ("delete": the peer went down, or its stale
// routes were swept), with its attributes.
void AppendLogRibRoute(const BgpLineHeader& header, std::string_view log_type,
                       const RouteEntry& route,
                       std::span<const Family> add_path, std::string* out);
// An End-of-RIB marker (RFC 4724 §2): log_type "end-of-rib" with afi/safi
// (pmacct 1.8 writes it; 1.7.7 does not).
void AppendLogEndOfRib(const BgpLineHeader& header, const Family& family,
                       std::string* out);

// --- BMP (pmbmpd) -----------------------------------------------------------

// BMP dumps (bmp_dump_file), as pmbmpd 1.7.7 writes them
// (docs/pmacct-parity.md §14.2, "BMP dumps vs pmbmpd"): per router a
// dump_init, one line per route of each of its views, a dump_close; the
// router is "bmp_router" / "bmp_router_port" (`router.peer`):
//   {"timestamp": "2026-12-07 09:05:00", "bmp_router": "192.0.2.61",
//    "bmp_router_port": 42485, "event_type": "dump_init", "dump_period":
//    60, "seq": 20}
//   {"seq": 20, "timestamp": "2026-12-07 09:05:00", "is_filtered": 1,
//    "is_loc": 1, "rd": "0:64499:11", "rd_origin": "bmp", "event_type":
//    "dump", "afi": 1, "safi": 1, "ip_prefix": "12.34.56.78/32",
//    "bgp_nexthop": "192.0.11.155", "as_path": "65000", "comms":
//    "64496:1033 64497:1", "ecomms": "SoO:64497:14", "origin": "i", "med":
//    0, "bmp_router": "192.0.2.61", "bmp_router_port": 42485, "peer_ip":
//    "0.0.0.0", "peer_tcp_port": 0, "bmp_msg_type": "route_monitor"}
//   {"timestamp": "2026-12-07 09:05:00", "bmp_router": "192.0.2.61",
//    "bmp_router_port": 42485, "event_type": "dump_close", "seq": 20}
// A route line (the message log's too, with "log_type" after "seq" and
// "timestamp_arrival" before "bmp_router") has, in this order: "seq",
// "timestamp", AppendBmpRouteFields, AppendBmpRouteEnd.

// One monitored-peer view, as its route lines show it.
struct BmpViewFields {
  IpAddress peer_ip;      // the monitored peer (0.0.0.0 for Loc-RIB)
  uint8_t peer_type = 0;  // RFC 7854 §4.2 / RFC 9069: 0 global .. 3 Loc-RIB
  // The peer distinguisher as text, empty when zero. Written for
  // RD-instance (1) and Loc-RIB (3) peers only, as pmbmpd does.
  std::string rd;
  bool is_post = false;      // post-policy (L flag)
  bool is_out = false;       // Adj-RIB-Out (O flag)
  bool is_loc = false;       // Loc-RIB peer type
  bool is_filtered = false;  // Loc-RIB F flag
  // Families whose routes carry a path id (ADD-PATH, from the peer's Peer
  // Up): their lines have "as_path_id", 0 included, as pmbmpd writes it.
  // Must outlive the call.
  std::span<const Family> add_path;
};

// The view flags: "is_post" then "is_in" for an Adj-RIB-In, "is_out" for
// an Adj-RIB-Out (RFC 8671), or "is_filtered" then "is_loc" for a Loc-RIB
// (RFC 9069); each with its leading ", ".
void AppendBmpViewFlags(const BmpViewFields& view, std::string* out);
// A route line's part from the view flags to the route's last key: the
// view flags; the peer distinguisher of an RD-instance or Loc-RIB peer as
// "rd" with "rd_origin" "bmp" (a VPN route's own RD takes its place,
// "rd_origin" "bgp"); "event_type" (`event_type`); AppendRouteFields
// (route.add_path set when the view's add_path has the family).
void AppendBmpRouteFields(const BmpViewFields& view,
                          std::string_view event_type, RouteFields route,
                          const AttributesText& attributes, std::string* out);
// The end of a route line: "bmp_router", "bmp_router_port" (`router`),
// "peer_ip" (`view`), "peer_tcp_port" 0, "bmp_msg_type" "route_monitor",
// and the closing "}\n".
void AppendBmpRouteEnd(const Endpoint& router, const BmpViewFields& view,
                       std::string* out);

void AppendBmpDumpInit(const BgpLineHeader& router, uint32_t dump_period_s,
                       std::string* out);
void AppendBmpDumpRoute(const BgpLineHeader& router, const BmpViewFields& view,
                        const RouteEntry& route, std::string* out);
void AppendBmpDumpClose(const BgpLineHeader& router, std::string* out);

// A bgp_table_dump_file / bgp_daemon_msglog_file name: strftime
// conversions with `time_ns` (local time unless `utc`), then $peer_src_ip
// as the peer's address with every byte outside [A-Za-z0-9_-] turned
// into '_' ("127.0.0.2" gives "127_0_0_2", as nfacctd). kInvalidArgument
// when the result is empty or over 4 KiB.
Result<std::string> RenderPeerFileName(std::string_view pattern,
                                       int64_t time_ns, const IpAddress& peer,
                                       bool utc);

}  // namespace flowacct::bgp

#endif  // FLOWACCT_BGP_RIB_DUMP_H_
