// File: flowacct/bmp/msglog.h
//
// The BMP message log (bmp_daemon_msglog_file): one JSON line per BMP
// message a router sends — per counter for Statistics Reports, per route
// for Route Monitoring — as pmbmpd 1.7.7 writes them, with its key names,
// key order and value texts (docs/pmacct-parity.md §14.1).
// Only the formatting lives here; the file, and when each line is written,
// are the caller's (flowacctd: daemon/flowacctd/routing.cc, fed by the
// bmp::Collector observer).
//
// A router's connection opens with "log_init" and ends with "log_close";
// in between, every line is event_type "log" with bmp_msg_type naming the
// message ("init", "term", "peer_up", "peer_down", "stats",
// "route_monitor"). "timestamp" is the time the router put in the
// per-peer header, local time unless MsglogContext::utc
// ("0000-00-00 00:00:00.000000" for Initiation and Termination, which have
// none, and for a zero header time); "timestamp_arrival" is when the
// station read the message:
//
//   {"seq": 0, "timestamp": "2026-12-07 09:06:42.950828", "bmp_router":
//    "192.0.2.61", "bmp_router_port": 33970, "event_type": "log_init"}
//   {"event_type": "log", "seq": 1, "timestamp": "0000-00-00
//    00:00:00.000000", "timestamp_arrival": "2026-12-07 09:06:42.951289",
//    "bmp_router": "192.0.2.61", "bmp_router_port": 33970, "bmp_msg_type":
//    "init", "bmp_init_info_sysdescr": "VRP 8.210", "bmp_init_info_sysname":
//    "r1"}
//   {"event_type": "log", "seq": 2, "timestamp": "2023-11-14
//    22:13:20.123456", "timestamp_arrival": ..., "bmp_router": ...,
//    "bmp_router_port": ..., "bmp_msg_type": "peer_up", "peer_ip":
//    "10.0.0.1", "peer_asn": 65001, "peer_type": 0, "peer_type_str":
//    "Global Instance Peer", "is_post": 0, "is_in": 1, "bgp_id": "10.0.0.1",
//    "local_port": 179, "remote_port": 40000, "local_ip": "10.0.0.100",
//    "bmp_peer_up_info_string": "peer one"}
//   {"event_type": "log", "seq": 3, ..., "bmp_msg_type": "stats", "peer_ip":
//    "10.0.0.1", "peer_asn": 65001, "peer_type": 0, "is_post": 0, "is_in":
//    1, "counter_type": 9, "counter_type_str": "Number of routes in
//    per-AFI/SAFI Abj-RIB-In", "afi": 1, "safi": 1, "counter_value": 37}
//   {"seq": 4, "log_type": "update", "timestamp": "2023-11-14
//    22:13:20.123456", "is_post": 0, "is_in": 1, "event_type": "log", "afi":
//    1, "safi": 1, "ip_prefix": "192.0.2.0/24", "bgp_nexthop": "10.0.0.1",
//    "as_path": "65001 65010", "comms": "65001:3 65001:20 no-export",
//    "origin": "i", "local_pref": 100, "med": 0, "timestamp_arrival": ...,
//    "bmp_router": ..., "bmp_router_port": ..., "peer_ip": "10.0.0.1",
//    "peer_tcp_port": 0, "bmp_msg_type": "route_monitor"}
//   {"event_type": "log", "seq": 5, ..., "bmp_msg_type": "peer_down",
//    "peer_ip": "10.0.0.1", "peer_asn": 65001, "peer_type": 0,
//    "peer_type_str": "Global Instance Peer", "reason_type": 3, "reason_str":
//    "The remote system closed the session"}
//   {"seq": 6, "timestamp": ..., "bmp_router": ..., "bmp_router_port": ...,
//    "event_type": "log_close"}
//
// What each message gives, beyond the common keys:
//   init / term   the information TLVs: "bmp_init_info_string" /
//                 "_sysdescr" / "_sysname" (types 0, 1, 2),
//                 "bmp_term_info_string" and "bmp_term_info_reason" (the
//                 RFC 7854 §4.5 reason as text, or its number); other
//                 types as "bmp_init_info_<type>" with the value in hex
//                 ("67-6C-6F-62-61-6C"). A repeated TLV keeps the first
//                 one's place and the last one's value.
//   peer_up       the monitored peer (peer_ip, peer_asn, peer_type and its
//                 text, the view flags), bgp_id, the session's ports and
//                 local address, then the information TLVs
//                 ("bmp_peer_up_info_string", "bmp_peer_up_info_<type>").
//   peer_down     reason_type and, for reasons 1-5, reason_str; reason 2
//                 adds the FSM event as reason_loc_code.
//   stats         one line per counter: counter_type, counter_type_str
//                 (pmbmpd's texts for types 0-17, "Unknown" beyond, whose
//                 value is then the raw bytes in hex), afi/safi for the
//                 per-family gauges, counter_value.
//   route_monitor one line per route of the UPDATE: log_type "update"
//                 (with bgp_nexthop, as_path, comms, ecomms, lcomms,
//                 origin, local_pref, med, aigp, psid_li — the optional
//                 ones when the attribute is present, communities sorted
//                 and deduplicated) or "withdraw"; as_path_id for every
//                 route of a family the peer's Peer Up gives ADD-PATH (0
//                 included) and for any non-zero path identifier; rd and
//                 label for VPN and labeled families. In pmbmpd's order: the
//                 withdrawn-routes field, the IPv4 NLRI, MP_REACH_NLRI,
//                 MP_UNREACH_NLRI (told apart by family: IPv4 unicast
//                 routes are taken for the first two). An End-of-RIB
//                 marker writes no line.
// The view flags are "is_post" then "is_in" (or "is_out", RFC 8671), or
// "is_filtered" then "is_loc" for a Loc-RIB peer (RFC 9069). The peer
// distinguisher of an RD-instance or Loc-RIB peer is "rd" with "rd_origin"
// "bmp", written after the flags; a VPN route's own RD takes that place
// when there is one ("rd_origin": "bgp"), else it follows the attributes.
//
// Thread-safety: free functions without shared state.

#ifndef FLOWACCT_BMP_MSGLOG_H_
#define FLOWACCT_BMP_MSGLOG_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "flowacct/bgp/message.h"
#include "flowacct/bmp/bmp.h"
#include "flowacct/bmp/collector.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct::bmp {

// What every line of one message shares.
struct MsglogContext {
  Endpoint router;  // bmp_router, bmp_router_port
  // When the message was read (or the connection opened or closed), as
  // bgp::FormatBgpTimestamp(now, utc, true) writes it: "timestamp_arrival",
  // and "timestamp" of log_init / log_close.
  std::string_view arrival;
  // Per-peer header times in UTC rather than local time (timestamps_utc).
  bool utc = false;
};

// Each function appends whole lines ('\n' included) to `out`. `seq`
// numbers them: each line takes *seq, then *seq is incremented (pmbmpd's
// first line is 0).

// "log_init" (a router connected) and "log_close" (its connection ended).
void AppendLogInit(const MsglogContext& context, uint64_t* seq,
                   std::string* out);
void AppendLogClose(const MsglogContext& context, uint64_t* seq,
                    std::string* out);

void AppendInitiation(const MsglogContext& context, const Initiation& init,
                      uint64_t* seq, std::string* out);
void AppendTermination(const MsglogContext& context, const Termination& term,
                       uint64_t* seq, std::string* out);
void AppendPeerUp(const MsglogContext& context, const PeerUp& up, uint64_t* seq,
                  std::string* out);
void AppendPeerDown(const MsglogContext& context, const PeerDown& down,
                    uint64_t* seq, std::string* out);
// One line per counter (none for an empty report).
void AppendStatistics(const MsglogContext& context,
                      const StatisticsReport& report, uint64_t* seq,
                      std::string* out);
// One line per route of `update`; none for an End-of-RIB marker.
// `add_path`: the families whose routes carry a path id in this view
// (PeerUp::add_path_in or add_path_out by its direction;
// CollectorEvent::add_path).
void AppendRouteMonitoring(const MsglogContext& context, const PeerHeader& peer,
                           const bgp::ParsedUpdate& update,
                           std::span<const bgp::Family> add_path, uint64_t* seq,
                           std::string* out);

// The lines of one collector event: kRouterUp gives log_init, kRouterDown
// log_close, kMessage the message's lines; kRejected nothing (pmbmpd
// writes nothing for a router it refuses). `context.router` is taken from
// the event.
void AppendCollectorEvent(const MsglogContext& context,
                          const CollectorEvent& event, uint64_t* seq,
                          std::string* out);

// A bmp_daemon_msglog_file name for `router`: $peer_src_ip becomes the
// router's address with every byte outside [A-Za-z0-9_-] turned into '_'
// ("192.0.2.61" gives "192_0_2_61"), $peer_tcp_port its TCP source port.
// No strftime conversions: pmbmpd 1.7.7 leaves '%' as it is in this name.
// kInvalidArgument when the result is empty or over 4 KiB.
Result<std::string> RenderMsglogFileName(std::string_view pattern,
                                         const Endpoint& router);

}  // namespace flowacct::bmp

#endif  // FLOWACCT_BMP_MSGLOG_H_
