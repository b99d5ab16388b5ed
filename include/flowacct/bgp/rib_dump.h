// File: flowacct/bgp/rib_dump.h
//
// pmacct's JSON lines for BGP: the table dump (bgp_table_dump_file) and the
// message log (bgp_daemon_msglog_file), as nfacctd 1.7.7 writes them
// (docs/pmacct-parity.md, "BGP table dumps and message log"). Only the
// formatting lives here; files, timers and sequence numbers are the
// caller's (flowacctd: daemon/flowacctd/routing.cc).
//
//   {"timestamp": "2026-12-07 06:15:00", "peer_ip_src": "127.0.0.2",
//    "peer_tcp_port": 42225, "event_type": "dump_init", "dump_period": 60,
//    "seq": 9}
//   {"seq": 9, "timestamp": "2026-12-07 06:15:00", "peer_ip_src":
//    "127.0.0.2", "peer_tcp_port": 42225, "event_type": "dump", "afi": 1,
//    "safi": 1, "ip_prefix": "10.2.0.0/24", "bgp_nexthop": "192.0.2.2",
//    "as_path": "65020 65021", "comms": "65002:1 65002:2", "lcomms":
//    "65002:1:2", "origin": "i", "local_pref": 200, "med": 5}
//   {"timestamp": ..., "event_type": "dump_close", "entries": 5,
//    "tables": 1, "seq": 9}
//
//   {"seq": 1, "timestamp": "2026-12-07 06:14:09.109089", "peer_ip_src":
//    "127.0.0.2", "peer_tcp_port": 42225, "event_type": "log_init"}
//   {"seq": 2, "log_type": "update", "timestamp": ..., "event_type": "log",
//    "afi": 1, "safi": 1, "ip_prefix": ..., <attributes as in a dump>}
//
// Each Append* function appends exactly one line, '\n' included. Keys are
// in nfacctd's order; optional ones are left out as nfacctd does: comms,
// ecomms, lcomms when empty, med and local_pref when absent or 0,
// as_path_id when the path id is 0 (no ADD-PATH), rd and label outside the
// VPN and labeled families.
//
// Thread-safety: free functions without shared state; safe from any
// thread. AttributesView arguments must be valid (inside their read
// section) for the duration of the call.

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

// nfacctd's timestamp text: "2026-12-07 06:14:09.109089" (microseconds,
// the message log) or "2026-12-07 06:15:00" (dumps). Local time unless
// `utc` (timestamps_utc).
std::string FormatBgpTimestamp(int64_t time_ns, bool utc, bool microseconds);

// What starts every line: the sequence number, the timestamp (from
// FormatBgpTimestamp) and the peer's session endpoint.
struct BgpLineHeader {
  uint64_t seq = 0;
  std::string_view timestamp;
  Endpoint peer;  // peer_ip_src, peer_tcp_port
};

// pmacct's origin letters: "i", "e", "u".
std::string_view OriginLetter(Origin origin);

// Extended communities as nfacctd prints them, sorted, space separated:
// "RT:65000:100", "SoO:65000:200", "RT:192.0.2.1:7"; types without a text
// form as "0x" + 16 hex digits.
std::string FormatExtCommunities(std::span<const uint64_t> communities);

// Table dumps.
void AppendDumpInit(const BgpLineHeader& header, uint32_t dump_period_s,
                    std::string* out);
void AppendDumpRoute(const BgpLineHeader& header, const RouteEntry& route,
                     std::string* out);
// `entries`: routes written for the peer; `tables`: peer tables written.
void AppendDumpClose(const BgpLineHeader& header, uint64_t entries,
                     uint64_t tables, std::string* out);

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
// A route line has, in this order: the view's flags ("is_post" then
// "is_in" for an Adj-RIB-In, "is_out" for an Adj-RIB-Out (RFC 8671), or
// "is_filtered" then "is_loc" for a Loc-RIB (RFC 9069)); the peer
// distinguisher of an RD-instance or Loc-RIB peer as "rd" with "rd_origin"
// "bmp" (a VPN route's own RD takes its place, "rd_origin" "bgp");
// "event_type", the route's key (afi, safi, ip_prefix, as_path_id when its
// family has ADD-PATH or the path id is not 0); the attributes
// (AppendBmpRouteAttributes); a VPN route's "rd" ("rd_origin" "bgp") when
// the peer has no distinguisher; "label" for labeled families; the router,
// the monitored peer ("peer_ip", "peer_tcp_port" 0) and "bmp_msg_type":
// "route_monitor".
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
  // Families whose routes carry a path id (ADD-PATH): their lines have
  // "as_path_id", 0 included, as pmbmpd writes it. Must outlive the call.
  std::span<const Family> add_path;
};
void AppendBmpDumpInit(const BgpLineHeader& router, uint32_t dump_period_s,
                       std::string* out);
void AppendBmpDumpRoute(const BgpLineHeader& router, const BmpViewFields& view,
                        const RouteEntry& route, std::string* out);
void AppendBmpDumpClose(const BgpLineHeader& router, std::string* out);

// The attribute keys of a BMP route line, as pmbmpd writes them (its dumps
// and its message log alike), each with its leading ", ": "bgp_nexthop"
// (the next hop, else 0.0.0.0 or :: by `family`), "as_path", then those
// present of "comms", "ecomms" (route targets and origins as
// FormatExtCommunities writes them, other types as "?"), "lcomms" (each
// sorted, without duplicates),
// "origin", "local_pref", "med", "aigp" (RFC 7311; the last three even
// when 0), "psid_li" (the Prefix-SID Label-Index, RFC 8669 §3.1).
void AppendBmpRouteAttributes(const PathAttributes& attributes,
                              const Family& family, std::string* out);

// Message log. `event_type`: "log_init" or "log_close".
void AppendLogEvent(const BgpLineHeader& header, std::string_view event_type,
                    std::string* out);
// One route of an UPDATE. `log_type`: "update" (attributes set), or
// "withdraw" / "delete" (attributes may be null: the route's key only).
void AppendLogRoute(const BgpLineHeader& header, std::string_view log_type,
                    const Nlri& nlri, const PathAttributes* attributes,
                    std::string* out);
// "delete" of a route still in the RIB (the peer went down), with its
// attributes as nfacctd writes them.
void AppendLogRibRoute(const BgpLineHeader& header, std::string_view log_type,
                       const RouteEntry& route, std::string* out);
// An End-of-RIB marker (RFC 4724 §2): log_type "end-of-rib" with afi/safi.
void AppendLogEndOfRib(const BgpLineHeader& header, const Family& family,
                       std::string* out);

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
