// bmp/msglog.h: the BMP message log lines, key for key as pmbmpd 1.7.7
// writes them (the expected lines are pmbmpd's, from
// tests/parity/bmp_msglog_test.py's synthetic messages, with its arrival
// times and router port), the line numbering, the collector event
// dispatch and the file name variables.

#include "flowacct/bmp/msglog.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct::bmp {
namespace {

constexpr int64_t kT = 1'700'000'000'000'000'000;  // 2023-11-14 22:13:20 UTC
constexpr std::string_view kArrival = "2026-12-07 09:06:42.951289";

IpAddress Ip(const char* text) { return IpAddress::Parse(text).value(); }

MsglogContext Context() {
  MsglogContext c;
  c.router = {Ip("127.0.0.1"), 33970};
  c.arrival = kArrival;
  c.utc = true;
  return c;
}

bgp::RouteDistinguisher Rd0(uint16_t admin, uint32_t assigned) {
  bgp::RouteDistinguisher rd;
  rd.bytes = {0,
              0,
              static_cast<uint8_t>(admin >> 8),
              static_cast<uint8_t>(admin),
              static_cast<uint8_t>(assigned >> 24),
              static_cast<uint8_t>(assigned >> 16),
              static_cast<uint8_t>(assigned >> 8),
              static_cast<uint8_t>(assigned)};
  return rd;
}

PeerHeader GlobalPeer() {
  PeerHeader p;
  p.address = Ip("10.0.0.1");
  p.as = 65001;
  p.bgp_id = 0x0A000001;
  p.timestamp_ns = kT + 123'456'000;
  return p;
}

PeerHeader LocRibPeer() {
  PeerHeader p;
  p.type = PeerType::kLocRib;
  p.flags = 0x80;
  p.loc_rib_filtered = true;
  p.address = Ip("0.0.0.0");
  p.as = 65000;
  p.bgp_id = 0x0A000009;
  p.timestamp_ns = kT + 3'999'999'000;
  return p;
}

bgp::Nlri Route(const char* address, uint8_t length,
                bgp::Family family = bgp::kIpv4Unicast) {
  bgp::Nlri n;
  n.key.family = family;
  n.key.prefix = {Ip(address), length};
  return n;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos;
       start = nl + 1, nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
  }
  REQUIRE(start == text.size());  // every line ends with '\n'
  return out;
}

TEST_CASE("bmp msglog: log_init and log_close, numbered from *seq") {
  uint64_t seq = 0;
  std::string out;
  MsglogContext c = Context();
  c.arrival = "2026-12-07 09:06:42.950828";
  AppendLogInit(c, &seq, &out);
  AppendLogClose(c, &seq, &out);
  CHECK(seq == 2);
  CHECK(Lines(out) ==
        std::vector<std::string>{
            R"({"seq": 0, "timestamp": "2026-12-07 09:06:42.950828", )"
            R"("bmp_router": "127.0.0.1", "bmp_router_port": 33970, )"
            R"("event_type": "log_init"})",
            R"({"seq": 1, "timestamp": "2026-12-07 09:06:42.950828", )"
            R"("bmp_router": "127.0.0.1", "bmp_router_port": 33970, )"
            R"("event_type": "log_close"})"});
}

TEST_CASE("bmp msglog: initiation and termination TLVs") {
  uint64_t seq = 1;
  std::string out;
  Initiation init;
  init.information = {{0, "free text"},
                      {1, "descr"},
                      {2, "name"},
                      {3, "x\"y\\z\x01"},
                      {0, "again"}};
  AppendInitiation(Context(), init, &seq, &out);
  Termination term;
  term.information = {
      {0, "going"}, {2, "\x01\x02"}, {1, std::string("\0\1", 2)}};
  term.reason = 1;
  AppendTermination(Context(), term, &seq, &out);
  Termination unknown;
  unknown.information = {{1, std::string("\xff\xff", 2)}};
  AppendTermination(Context(), unknown, &seq, &out);
  const std::string head =
      R"("timestamp": "0000-00-00 00:00:00.000000", "timestamp_arrival": )"
      R"("2026-12-07 09:06:42.951289", "bmp_router": "127.0.0.1", )"
      R"("bmp_router_port": 33970, )";
  CHECK(Lines(out) ==
        std::vector<std::string>{
            // A repeated TLV keeps its first place, takes the last value.
            R"({"event_type": "log", "seq": 1, )" + head +
                R"("bmp_msg_type": "init", "bmp_init_info_string": "again", )"
                R"("bmp_init_info_sysdescr": "descr", )"
                R"("bmp_init_info_sysname": "name", )"
                R"("bmp_init_info_3": "78-22-79-5C-7A-01"})",
            R"({"event_type": "log", "seq": 2, )" + head +
                R"("bmp_msg_type": "term", "bmp_term_info_string": "going", )"
                R"("bmp_term_info_2": "01-02", )"
                R"("bmp_term_info_reason": "Unspecified reason"})",
            R"({"event_type": "log", "seq": 3, )" + head +
                R"("bmp_msg_type": "term", "bmp_term_info_reason": "65535"})"});
}

TEST_CASE("bmp msglog: string TLVs are escaped as jansson escapes them") {
  uint64_t seq = 0;
  std::string out;
  Initiation init;
  // Stops at NUL; control bytes as \u00XX (upper case), UTF-8 kept, a byte
  // that is not UTF-8 escaped too (pmbmpd drops such a key: N5).
  init.information = {{0, std::string("a\x1b"
                                      "b\b\f\t\\\"/\x7f\xc3\xa9\xff"
                                      "\0tail",
                                      18)}};
  AppendInitiation(Context(), init, &seq, &out);
  CHECK(out.find(R"("bmp_init_info_string": )"
                 R"("a\u001Bb\b\f\t\\\"/)"
                 "\x7f\xc3\xa9"
                 R"(\u00FF"})") != std::string::npos);
}

TEST_CASE("bmp msglog: peer up of a global and of a Loc-RIB peer") {
  uint64_t seq = 2;
  std::string out;
  PeerUp up;
  up.peer = GlobalPeer();
  up.local_address = Ip("10.0.0.100");
  up.local_port = 179;
  up.remote_port = 40000;
  up.information = {{0, "peer one"}, {1, "one"}, {3, "vrf-a"}, {4, "\x00\x01"}};
  up.information[3].value = std::string("\0\1", 2);
  AppendPeerUp(Context(), up, &seq, &out);
  PeerUp loc;
  loc.peer = LocRibPeer();
  loc.peer.distinguisher = Rd0(64499, 11);
  loc.local_address = Ip("0.0.0.0");
  loc.information = {{3, "global"}};
  AppendPeerUp(Context(), loc, &seq, &out);
  CHECK(Lines(out) ==
        std::vector<std::string>{
            R"({"event_type": "log", "seq": 2, "timestamp": )"
            R"("2023-11-14 22:13:20.123456", "timestamp_arrival": )"
            R"("2026-12-07 09:06:42.951289", "bmp_router": "127.0.0.1", )"
            R"("bmp_router_port": 33970, "bmp_msg_type": "peer_up", )"
            R"("peer_ip": "10.0.0.1", "peer_asn": 65001, "peer_type": 0, )"
            R"("peer_type_str": "Global Instance Peer", "is_post": 0, )"
            R"("is_in": 1, "bgp_id": "10.0.0.1", "local_port": 179, )"
            R"("remote_port": 40000, "local_ip": "10.0.0.100", )"
            R"("bmp_peer_up_info_string": "peer one", )"
            R"("bmp_peer_up_info_1": "6F-6E-65", )"
            R"("bmp_peer_up_info_3": "76-72-66-2D-61", )"
            R"("bmp_peer_up_info_4": "00-01"})",
            R"({"event_type": "log", "seq": 3, "timestamp": )"
            R"("2023-11-14 22:13:23.999999", "timestamp_arrival": )"
            R"("2026-12-07 09:06:42.951289", "bmp_router": "127.0.0.1", )"
            R"("bmp_router_port": 33970, "bmp_msg_type": "peer_up", )"
            R"("peer_ip": "0.0.0.0", "peer_asn": 65000, "peer_type": 3, )"
            R"("peer_type_str": "Loc-RIB Instance Peer", "is_filtered": 1, )"
            R"("is_loc": 1, "bgp_id": "10.0.0.9", "local_port": 0, )"
            R"("remote_port": 0, "local_ip": "0.0.0.0", )"
            R"("rd": "0:64499:11", "rd_origin": "bmp", )"
            R"("bmp_peer_up_info_3": "67-6C-6F-62-61-6C"})"});
}

TEST_CASE("bmp msglog: peer down reasons") {
  uint64_t seq = 0;
  std::string out;
  PeerDown fsm;
  fsm.peer = GlobalPeer();
  fsm.peer.timestamp_ns = 0;  // no time: pmbmpd's zeros
  fsm.reason = 2;
  fsm.fsm_event = 17;
  AppendPeerDown(Context(), fsm, &seq, &out);
  PeerDown rd_instance;
  rd_instance.peer = GlobalPeer();
  rd_instance.peer.type = PeerType::kRdInstance;
  rd_instance.peer.distinguisher = Rd0(65000, 7);
  rd_instance.reason = 3;
  AppendPeerDown(Context(), rd_instance, &seq, &out);
  PeerDown loc;
  loc.peer = LocRibPeer();
  loc.reason = 6;
  AppendPeerDown(Context(), loc, &seq, &out);
  const std::vector<std::string> lines = Lines(out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        R"({"event_type": "log", "seq": 0, "timestamp": )"
        R"("0000-00-00 00:00:00.000000", "timestamp_arrival": )"
        R"("2026-12-07 09:06:42.951289", "bmp_router": "127.0.0.1", )"
        R"("bmp_router_port": 33970, "bmp_msg_type": "peer_down", )"
        R"("peer_ip": "10.0.0.1", "peer_asn": 65001, "peer_type": 0, )"
        R"("peer_type_str": "Global Instance Peer", "reason_type": 2, )"
        R"("reason_str": "The local system closed the session without a )"
        R"(notification message", "reason_loc_code": 17})");
  CHECK(lines[1].ends_with(
      R"("peer_type": 1, "peer_type_str": "RD Instance Peer", )"
      R"("rd": "0:65000:7", "rd_origin": "bmp", "reason_type": 3, )"
      R"("reason_str": "The remote system closed the session"})"));
  CHECK(lines[2].ends_with(
      R"("peer_type_str": "Loc-RIB Instance Peer", "reason_type": 6})"));
}

TEST_CASE("bmp msglog: one stats line per counter") {
  uint64_t seq = 7;
  std::string out;
  StatisticsReport r;
  r.peer = GlobalPeer();
  r.peer.post_policy = true;
  r.statistics = {
      {.type = 0, .value = 3, .family = {}, .length = 4},
      {.type = 9, .value = 37, .family = bgp::kIpv4Unicast, .length = 11},
      {.type = 16, .value = 5, .family = bgp::kIpv6Unicast, .length = 11},
      {.type = 18, .value = 0x12, .family = {}, .length = 4},
      {.type = 65531, .value = 0x0102030405060708, .family = {}, .length = 8},
  };
  AppendStatistics(Context(), r, &seq, &out);
  CHECK(seq == 12);
  const std::vector<std::string> lines = Lines(out);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] ==
        R"({"event_type": "log", "seq": 7, "timestamp": )"
        R"("2023-11-14 22:13:20.123456", "timestamp_arrival": )"
        R"("2026-12-07 09:06:42.951289", "bmp_router": "127.0.0.1", )"
        R"("bmp_router_port": 33970, "bmp_msg_type": "stats", )"
        R"("peer_ip": "10.0.0.1", "peer_asn": 65001, "peer_type": 0, )"
        R"("is_post": 1, "is_in": 1, "counter_type": 0, "counter_type_str": )"
        R"("Number of prefixes rejected by inbound policy", )"
        R"("counter_value": 3})");
  CHECK(lines[1].ends_with(
      R"("counter_type": 9, "counter_type_str": "Number of routes in )"
      R"(per-AFI/SAFI Abj-RIB-In", "afi": 1, "safi": 1, )"
      R"("counter_value": 37})"));
  // RFC 8671 per-family gauges: pmbmpd writes no afi/safi for them.
  CHECK(lines[2].ends_with(
      R"("counter_type": 16, "counter_type_str": "Number of routes in )"
      R"(per-AFI/SAFI Abj-RIB-Out Pre-Policy", "counter_value": 5})"));
  CHECK(lines[3].ends_with(
      R"("counter_type": 18, "counter_type_str": "Unknown", )"
      R"("counter_value": "00-00-00-12"})"));
  CHECK(lines[4].ends_with(
      R"("counter_type": 65531, "counter_type_str": "Unknown", )"
      R"("counter_value": "01-02-03-04-05-06-07-08"})"));
}

TEST_CASE("bmp msglog: route monitoring, one line per route") {
  uint64_t seq = 37;
  std::string out;
  bgp::ParsedUpdate u;
  bgp::PathAttributes& a = u.attributes;
  a.origin = bgp::Origin::kIgp;
  a.as_path = {{bgp::AsSegmentType::kSequence, {65001, 65010, 65020}},
               {bgp::AsSegmentType::kSet, {65030, 65031}}};
  a.next_hop = Ip("10.0.0.1");
  a.med = 0;  // present: written, even 0
  a.local_pref = 0;
  a.communities = {
      65001u << 16 | 20, 65001u << 16 | 3, 65001u << 16 | 3, 0xFFFFFF01, 0,
      0xFFFFFF04};
  a.ext_communities = {0x0002FDE900000064,   // RT:65001:100
                       0x01020A0000010007,   // RT:10.0.0.1:7
                       0x0003FDE900000005,   // SoO:65001:5
                       0x4002000100000002,   // non-transitive: "?"
                       0x0002FDE900000064};  // duplicate
  a.large_communities = {{65001, 1, 2}, {65001, 0, 0}};
  a.aigp = 77;
  a.unknown = {{0xc0, 40, {1, 0, 7, 0, 0, 0, 0, 0, 4, 0xd2}}};  // index 1234
  u.withdrawn = {Route("203.0.113.0", 24)};
  u.announced = {Route("192.0.2.0", 24)};
  AppendRouteMonitoring(Context(), GlobalPeer(), u, {}, &seq, &out);
  CHECK(seq == 39);
  CHECK(Lines(out) ==
        std::vector<std::string>{
            R"({"seq": 37, "log_type": "withdraw", "timestamp": )"
            R"("2023-11-14 22:13:20.123456", "is_post": 0, "is_in": 1, )"
            R"("event_type": "log", "afi": 1, "safi": 1, "ip_prefix": )"
            R"("203.0.113.0/24", "timestamp_arrival": )"
            R"("2026-12-07 09:06:42.951289", "bmp_router": "127.0.0.1", )"
            R"("bmp_router_port": 33970, "peer_ip": "10.0.0.1", )"
            R"("peer_tcp_port": 0, "bmp_msg_type": "route_monitor"})",
            R"({"seq": 38, "log_type": "update", "timestamp": )"
            R"("2023-11-14 22:13:20.123456", "is_post": 0, "is_in": 1, )"
            R"("event_type": "log", "afi": 1, "safi": 1, "ip_prefix": )"
            R"("192.0.2.0/24", "bgp_nexthop": "10.0.0.1", "as_path": )"
            R"("65001 65010 65020 {65030,65031}", "comms": "internet )"
            R"(65001:3 65001:20 no-export 65535:65284", "ecomms": )"
            R"("RT:65001:100 SoO:65001:5 RT:10.0.0.1:7 ?", "lcomms": )"
            R"("65001:0:0 65001:1:2", "origin": "i", "local_pref": 0, )"
            R"("med": 0, "aigp": 77, "psid_li": 1234, "timestamp_arrival": )"
            R"("2026-12-07 09:06:42.951289", "bmp_router": "127.0.0.1", )"
            R"("bmp_router_port": 33970, "peer_ip": "10.0.0.1", )"
            R"("peer_tcp_port": 0, "bmp_msg_type": "route_monitor"})"});
}

TEST_CASE("bmp msglog: route distinguishers, labels, path ids, order") {
  const std::string tail =
      R"("timestamp_arrival": "2026-12-07 09:06:42.951289", )"
      R"("bmp_router": "127.0.0.1", "bmp_router_port": 33970, )";
  bgp::ParsedUpdate u;
  u.attributes.origin = bgp::Origin::kIgp;
  u.attributes.next_hop = Ip("10.0.0.3");
  bgp::Nlri vpn = Route("10.3.0.0", 16, {bgp::Afi::kIpv4, bgp::Safi::kMplsVpn});
  vpn.key.rd = Rd0(65003, 1);
  vpn.mpls_label = 1000;
  u.announced = {vpn};

  SECTION("an RD-instance peer: the route's RD takes the peer RD's place") {
    PeerHeader p = GlobalPeer();
    p.type = PeerType::kRdInstance;
    p.distinguisher = Rd0(65000, 7);
    u.announced.push_back(Route("10.33.0.0", 16));
    uint64_t seq = 0;
    std::string out;
    AppendRouteMonitoring(Context(), p, u, {}, &seq, &out);
    const std::vector<std::string> lines = Lines(out);
    REQUIRE(lines.size() == 2);
    // IPv4 unicast NLRI first (pmbmpd: IPv4 NLRI, then MP_REACH).
    CHECK(
        lines[0].find(R"("is_in": 1, "rd": "0:65000:7", )"
                      R"("rd_origin": "bmp", "event_type": "log", )"
                      R"("afi": 1, "safi": 1, "ip_prefix": "10.33.0.0/16")") !=
        std::string::npos);
    CHECK(lines[1].find(R"("is_in": 1, "rd": "0:65003:1", )"
                        R"("rd_origin": "bgp", "event_type": "log", )"
                        R"("afi": 1, "safi": 128)") != std::string::npos);
    CHECK(lines[1].find(R"("origin": "i", "label": "1000", )" + tail) !=
          std::string::npos);
  }
  SECTION("a global peer: the route's RD after its attributes") {
    uint64_t seq = 0;
    std::string out;
    AppendRouteMonitoring(Context(), GlobalPeer(), u, {}, &seq, &out);
    CHECK(out.find(R"("as_path": "", "origin": "i", "rd": "0:65003:1", )"
                   R"("rd_origin": "bgp", "label": "1000", )" +
                   tail) != std::string::npos);
  }
  SECTION("withdrawals: no attributes; MP_UNREACH after MP_REACH") {
    bgp::Nlri lu =
        Route("10.4.0.0", 16, {bgp::Afi::kIpv4, bgp::Safi::kLabeledUnicast});
    lu.mpls_label = 0x80000;
    bgp::Nlri v6 = Route("2001:db8:10::", 48, bgp::kIpv6Unicast);
    v6.key.path_id = 7;
    u.withdrawn = {lu, Route("10.99.0.0", 16)};
    u.announced = {v6};
    u.attributes.next_hop = Ip("2001:db8::2");
    uint64_t seq = 0;
    std::string out;
    AppendRouteMonitoring(Context(), LocRibPeer(), u, {}, &seq, &out);
    const std::vector<std::string> lines = Lines(out);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find(R"("log_type": "withdraw")") != std::string::npos);
    CHECK(lines[0].find(R"("ip_prefix": "10.99.0.0/16", )" + tail) !=
          std::string::npos);
    CHECK(lines[1].find(R"("is_filtered": 1, "is_loc": 1, )"
                        R"("event_type": "log", "afi": 2, "safi": 1, )"
                        R"("ip_prefix": "2001:db8:10::/48", )"
                        R"("as_path_id": 7, "bgp_nexthop": "2001:db8::2")") !=
          std::string::npos);
    CHECK(lines[2].find(R"("safi": 4, "ip_prefix": "10.4.0.0/16", )"
                        R"("label": "524288", )" +
                        tail) != std::string::npos);
  }
  SECTION("ADD-PATH families: as_path_id on every route, 0 included") {
    // pmbmpd writes the path id of every route of a family the peer's Peer
    // Up gives ADD-PATH; for other families only a non-zero one.
    bgp::Nlri v4 = Route("10.5.0.0", 16);
    bgp::Nlri v6 = Route("2001:db8:5::", 48, bgp::kIpv6Unicast);
    v6.key.path_id = 3;
    u.announced = {v4, v6};
    u.withdrawn = {Route("10.6.0.0", 16)};
    const std::vector<bgp::Family> add_path = {bgp::kIpv4Unicast};
    uint64_t seq = 0;
    std::string out;
    AppendRouteMonitoring(Context(), GlobalPeer(), u, add_path, &seq, &out);
    const std::vector<std::string> lines = Lines(out);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find(R"("ip_prefix": "10.6.0.0/16", "as_path_id": 0, )"
                        R"("timestamp_arrival")") != std::string::npos);
    CHECK(lines[1].find(R"("ip_prefix": "10.5.0.0/16", "as_path_id": 0, )"
                        R"("bgp_nexthop")") != std::string::npos);
    CHECK(lines[2].find(R"("ip_prefix": "2001:db8:5::/48", "as_path_id": 3, )"
                        R"("bgp_nexthop")") != std::string::npos);

    // Through the collector event, which carries the view's families.
    CollectorEvent e;
    e.router = Context().router;
    e.message_type = MessageType::kRouteMonitoring;
    const PeerHeader peer = GlobalPeer();
    e.peer = &peer;
    e.update = &u;
    e.add_path = add_path;
    std::string via_event;
    seq = 0;
    AppendCollectorEvent(Context(), e, &seq, &via_event);
    CHECK(via_event == out);
  }
  SECTION("End-of-RIB: no line") {
    bgp::ParsedUpdate eor;
    eor.end_of_rib = bgp::kIpv4Unicast;
    uint64_t seq = 5;
    std::string out;
    AppendRouteMonitoring(Context(), GlobalPeer(), eor, {}, &seq, &out);
    CHECK(out.empty());
    CHECK(seq == 5);
  }
  SECTION("no next hop: 0.0.0.0 (pmbmpd's text)") {
    u.announced = {Route("10.9.0.0", 16)};
    u.attributes.next_hop = IpAddress();
    uint64_t seq = 0;
    std::string out;
    AppendRouteMonitoring(Context(), GlobalPeer(), u, {}, &seq, &out);
    CHECK(out.find(R"("bgp_nexthop": "0.0.0.0", "as_path": "")") !=
          std::string::npos);
  }
}

TEST_CASE("bmp msglog: collector events") {
  MsglogContext c = Context();
  c.router = {};  // taken from the event
  uint64_t seq = 0;
  std::string out;
  CollectorEvent e;
  e.router = {Ip("192.0.2.61"), 40102};
  e.kind = CollectorEvent::Kind::kRouterUp;
  AppendCollectorEvent(c, e, &seq, &out);
  e.kind = CollectorEvent::Kind::kRejected;
  AppendCollectorEvent(c, e, &seq, &out);
  e.kind = CollectorEvent::Kind::kMessage;
  e.message_type = MessageType::kPeerDown;
  PeerDown down;
  down.peer = GlobalPeer();
  down.reason = 4;
  e.peer = &down.peer;
  e.peer_down = &down;
  AppendCollectorEvent(c, e, &seq, &out);
  e.kind = CollectorEvent::Kind::kRouterDown;
  AppendCollectorEvent(c, e, &seq, &out);
  const std::vector<std::string> lines = Lines(out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].ends_with(R"("bmp_router": "192.0.2.61", )"
                           R"("bmp_router_port": 40102, )"
                           R"("event_type": "log_init"})"));
  CHECK(lines[1].find(R"("bmp_msg_type": "peer_down")") != std::string::npos);
  CHECK(lines[2].ends_with(R"("event_type": "log_close"})"));
  CHECK(seq == 3);
}

TEST_CASE("bmp msglog: file name variables") {
  const Endpoint router{Ip("192.0.2.61"), 40102};
  CHECK(
      RenderMsglogFileName("/var/log/bmp-$peer_src_ip.json", router).value() ==
      "/var/log/bmp-192_0_2_61.json");
  CHECK(RenderMsglogFileName("/l/$peer_src_ip-$peer_tcp_port.%Y", router)
            .value() == "/l/192_0_2_61-40102.%Y");  // no strftime (pmbmpd)
  CHECK(RenderMsglogFileName("$peer_src_ip", {Ip("2001:db8::1"), 1}).value() ==
        "2001_db8__1");
  CHECK(RenderMsglogFileName("", router).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(!RenderMsglogFileName(std::string(5000, 'a'), router).ok());
}

}  // namespace
}  // namespace flowacct::bmp
