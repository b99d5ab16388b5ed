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

// BMP dumps (bmp_dump_file): the same lines with the BMP router in place of
// the BGP peer ("bmp_router", "bmp_router_port": `router.peer`), and each
// route line naming the monitored peer of its view before the route keys:
//   {"seq": 4, "timestamp": ..., "bmp_router": "127.0.0.1",
//    "bmp_router_port": 40102, "event_type": "dump", "peer_ip":
//    "127.0.0.21", "peer_asn": 65021, "peer_type": 0, "is_in": 1,
//    "is_post": 0, "afi": 1, "safi": 1, "ip_prefix": "10.21.0.0/24", ...}
// is_in (Adj-RIB-In), is_out (Adj-RIB-Out, RFC 8671) or is_loc (Loc-RIB,
// RFC 9069) is written as 1, whichever the view is; is_post with is_in
// and is_out, is_filtered with is_loc; "rd" when the peer distinguisher is
// set. Lines are in nfacctd's dump order (init, routes, close).
struct BmpViewFields {
  IpAddress peer_ip;  // the monitored peer (0.0.0.0 for Loc-RIB)
  uint32_t peer_asn = 0;
  uint8_t peer_type = 0;     // RFC 7854 §4.2 / RFC 9069: 0 global .. 3 Loc-RIB
  std::string rd;            // peer distinguisher as text; empty when zero
  bool is_post = false;      // post-policy (L flag)
  bool is_out = false;       // Adj-RIB-Out (O flag)
  bool is_loc = false;       // Loc-RIB peer type
  bool is_filtered = false;  // Loc-RIB F flag
};
void AppendBmpDumpInit(const BgpLineHeader& router, uint32_t dump_period_s,
                       std::string* out);
void AppendBmpDumpRoute(const BgpLineHeader& router, const BmpViewFields& view,
                        const RouteEntry& route, std::string* out);
// `entries`: routes written for the router; `tables`: views written.
void AppendBmpDumpClose(const BgpLineHeader& router, uint64_t entries,
                        uint64_t tables, std::string* out);

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
