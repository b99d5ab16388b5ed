// bmp::Stream: every message type, the session parameters inferred from Peer
// Up (ADD-PATH, 2-octet AS paths), any split of the stream, and the BM-*
// hostile inputs of reference/hostile-inputs.md §1.6.

#include "flowacct/bmp/bmp.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct::bmp {
namespace {

using bgp::Family;
using bgp::kIpv4Unicast;
using bgp::kIpv6Unicast;

void Put16(std::vector<uint8_t>* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
void Put32(std::vector<uint8_t>* b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}

// A whole BMP message: common header + body.
std::vector<uint8_t> Message(MessageType type,
                             const std::vector<uint8_t>& body) {
  std::vector<uint8_t> m;
  m.push_back(3);
  Put32(&m, static_cast<uint32_t>(6 + body.size()));
  m.push_back(static_cast<uint8_t>(type));
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

struct PeerSpec {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint64_t distinguisher = 0;
  std::string address = "192.0.2.1";
  uint32_t as = 65001;
  uint32_t bgp_id = 0x0a000001;
};

std::vector<uint8_t> PeerHeaderBytes(const PeerSpec& p) {
  std::vector<uint8_t> b;
  b.push_back(p.type);
  b.push_back(p.flags);
  for (int i = 7; i >= 0; --i) {
    b.push_back(static_cast<uint8_t>(p.distinguisher >> (8 * i)));
  }
  IpAddress a = IpAddress::Parse(p.address).value();
  if (a.is_v6()) {
    b.insert(b.end(), a.data(), a.data() + 16);
  } else {
    b.insert(b.end(), 12, 0);
    b.insert(b.end(), a.data(), a.data() + 4);
  }
  Put32(&b, p.as);
  Put32(&b, p.bgp_id);
  Put32(&b, 1700000000);  // seconds
  Put32(&b, 250000);      // microseconds
  return b;
}

bgp::OpenMessage Open(uint32_t as, uint32_t id, bool add_path_send,
                      bool add_path_receive, bool four_octet = true) {
  bgp::OpenMessage o;
  if (four_octet) {
    bgp::SetAsNumber(as, &o);
  } else {
    o.my_as = static_cast<uint16_t>(as);
  }
  o.hold_time_s = 90;
  o.bgp_id = id;
  o.capabilities.multiprotocol = {kIpv4Unicast, kIpv6Unicast};
  if (add_path_send || add_path_receive) {
    o.capabilities.add_path = {{kIpv4Unicast, add_path_send, add_path_receive}};
  }
  return o;
}

std::vector<uint8_t> PeerUpBytes(const PeerSpec& p,
                                 const bgp::OpenMessage& sent,
                                 const bgp::OpenMessage& received) {
  std::vector<uint8_t> b = PeerHeaderBytes(p);
  b.insert(b.end(), 12, 0);
  b.insert(b.end(), {192, 0, 2, 254});  // local address
  Put16(&b, 179);
  Put16(&b, 40000);
  REQUIRE(bgp::AppendOpen(sent, &b).ok());
  REQUIRE(bgp::AppendOpen(received, &b).ok());
  // sysName-style information TLV (string)
  Put16(&b, 0);
  Put16(&b, 4);
  b.insert(b.end(), {'e', 'd', 'g', 'e'});
  return Message(MessageType::kPeerUp, b);
}

bgp::Nlri Route(const char* prefix, int length, uint32_t path_id = 0) {
  bgp::Nlri n;
  n.key.prefix.address = IpAddress::Parse(prefix).value();
  n.key.prefix.length = static_cast<uint8_t>(length);
  n.key.family = n.key.prefix.address.is_v4() ? kIpv4Unicast : kIpv6Unicast;
  n.key.path_id = path_id;
  return n;
}

bgp::PathAttributes Attributes(std::vector<uint32_t> path,
                               const char* next_hop = "192.0.2.1") {
  bgp::PathAttributes a;
  a.origin = bgp::Origin::kIgp;
  a.as_path.push_back({bgp::AsSegmentType::kSequence, std::move(path)});
  a.next_hop = IpAddress::Parse(next_hop).value();
  a.communities = {0xfde80001};
  return a;
}

std::vector<uint8_t> RouteMonitoringBytes(
    const PeerSpec& p, const bgp::SessionParams& encoding,
    const bgp::PathAttributes& attrs, const std::vector<bgp::Nlri>& routes) {
  std::vector<uint8_t> b = PeerHeaderBytes(p);
  auto update = bgp::UpdateBuilder(encoding).Build(attrs, routes, {});
  REQUIRE(update.ok());
  b.insert(b.end(), update->begin(), update->end());
  return Message(MessageType::kRouteMonitoring, b);
}

// Records what the stream reports.
struct Recorder : StreamHandler {
  std::vector<std::string> events;
  std::vector<bgp::Nlri> announced;
  std::vector<bgp::PathAttributes> attributes;
  std::vector<PeerHeader> peers;
  std::vector<PeerUp> ups;
  std::vector<PeerDown> downs;
  std::vector<StatisticsReport> stats;

  void OnInitiation(const Initiation& i) override {
    events.push_back("init:" + (i.information.empty()
                                    ? std::string()
                                    : i.information.front().value));
  }
  void OnTermination(const Termination& t) override {
    events.push_back("term:" + std::to_string(t.reason.value_or(999)));
  }
  void OnPeerUp(const PeerUp& up) override {
    events.push_back("up:" + up.peer.address.ToString());
    ups.push_back(up);
  }
  void OnPeerDown(const PeerDown& down) override {
    events.push_back("down:" + std::to_string(down.reason));
    downs.push_back(down);
  }
  void OnStatistics(const StatisticsReport& r) override {
    events.push_back("stats:" + std::to_string(r.statistics.size()));
    stats.push_back(r);
  }
  void OnRouteMonitoring(const PeerHeader& peer,
                         const bgp::ParsedUpdate& update) override {
    events.push_back("rm:" + std::to_string(update.announced.size()) + "/" +
                     std::to_string(update.withdrawn.size()));
    peers.push_back(peer);
    announced.insert(announced.end(), update.announced.begin(),
                     update.announced.end());
    attributes.push_back(update.attributes);
  }
};

std::vector<uint8_t> InitiationBytes() {
  std::vector<uint8_t> b;
  Put16(&b, 2);  // sysName
  Put16(&b, 2);
  b.insert(b.end(), {'r', '1'});
  return Message(MessageType::kInitiation, b);
}

// A whole session from one router: init, peer up with ADD-PATH, routes,
// stats, peer down, termination.
std::vector<uint8_t> SessionStream() {
  PeerSpec peer;
  std::vector<uint8_t> s = InitiationBytes();
  // The router (sent) can receive path ids, its peer (received) can send.
  auto up = PeerUpBytes(peer, Open(65000, 1, false, true),
                        Open(65001, 2, true, false));
  s.insert(s.end(), up.begin(), up.end());
  bgp::SessionParams addpath;
  addpath.families = {kIpv4Unicast, kIpv6Unicast};
  addpath.add_path_receive = {kIpv4Unicast};
  auto rm =
      RouteMonitoringBytes(peer, addpath, Attributes({65001, 65002}),
                           {Route("10.0.0.0", 24, 1), Route("10.0.0.0", 24, 2),
                            Route("10.1.0.0", 16, 7)});
  s.insert(s.end(), rm.begin(), rm.end());
  std::vector<uint8_t> stats = PeerHeaderBytes(peer);
  Put32(&stats, 2);
  Put16(&stats, 0);  // rejected prefixes, 32-bit counter
  Put16(&stats, 4);
  Put32(&stats, 17);
  Put16(&stats, 9);  // per-AFI/SAFI Adj-RIB-In gauge
  Put16(&stats, 11);
  Put16(&stats, 1);
  stats.push_back(1);
  Put32(&stats, 0);
  Put32(&stats, 3);
  auto sm = Message(MessageType::kStatisticsReport, stats);
  s.insert(s.end(), sm.begin(), sm.end());
  std::vector<uint8_t> down = PeerHeaderBytes(peer);
  down.push_back(2);  // local close, FSM event
  Put16(&down, 18);
  auto dm = Message(MessageType::kPeerDown, down);
  s.insert(s.end(), dm.begin(), dm.end());
  std::vector<uint8_t> term;
  Put16(&term, 1);  // reason TLV
  Put16(&term, 2);
  Put16(&term, 0);  // administratively closed
  auto tm = Message(MessageType::kTermination, term);
  s.insert(s.end(), tm.begin(), tm.end());
  return s;
}

TEST_CASE("bmp: a router's session, message by message") {
  Stream stream;
  Recorder rec;
  const std::vector<uint8_t> bytes = SessionStream();
  REQUIRE(stream.Feed(bytes, &rec).ok());
  CHECK(rec.events == std::vector<std::string>{"init:r1", "up:192.0.2.1",
                                               "rm:3/0", "stats:2", "down:2",
                                               "term:0"});
  // ADD-PATH inferred from the two OPENs: the path ids are read.
  REQUIRE(rec.announced.size() == 3);
  CHECK(rec.announced[0].key.path_id == 1);
  CHECK(rec.announced[1].key.path_id == 2);
  CHECK(rec.announced[2].key.path_id == 7);
  CHECK(rec.announced[2].key.prefix.ToString() == "10.1.0.0/16");
  REQUIRE(rec.ups.size() == 1);
  CHECK(rec.ups[0].params.HasAddPath(kIpv4Unicast));
  CHECK(rec.ups[0].local_port == 179);
  CHECK(rec.ups[0].local_address.ToString() == "192.0.2.254");
  CHECK(rec.ups[0].received_open.AsNumber() == 65001);
  REQUIRE(rec.ups[0].information.size() == 1);
  CHECK(rec.ups[0].information[0].value == "edge");
  CHECK(rec.peers[0].as == 65001);
  CHECK(rec.peers[0].timestamp_ns == 1700000000'250000000);
  REQUIRE(rec.stats.size() == 1);
  CHECK(rec.stats[0].statistics[0].value == 17);
  CHECK(rec.stats[0].statistics[1].value == 3);
  CHECK(rec.stats[0].statistics[1].family == kIpv4Unicast);
  REQUIRE(rec.downs.size() == 1);
  CHECK(rec.downs[0].fsm_event == 18);
  CHECK(stream.stats().announced == 3);
  CHECK(stream.stats()
            .messages[static_cast<size_t>(MessageType::kRouteMonitoring)] == 1);
  CHECK(stream.buffered() == 0);
}

TEST_CASE("bmp: any split of the stream gives the same events") {
  const std::vector<uint8_t> bytes = SessionStream();
  Stream whole;
  Recorder expected;
  REQUIRE(whole.Feed(bytes, &expected).ok());
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    Stream split;
    Recorder got;
    REQUIRE(split.Feed(std::span(bytes).first(cut), &got).ok());
    REQUIRE(split.Feed(std::span(bytes).subspan(cut), &got).ok());
    REQUIRE(got.events == expected.events);
  }
  // Byte by byte.
  Stream trickle;
  Recorder got;
  for (uint8_t b : bytes) {
    REQUIRE(trickle.Feed(std::span<const uint8_t>(&b, 1), &got).ok());
  }
  CHECK(got.events == expected.events);
}

TEST_CASE("bmp: BM-3 the A flag means 2-octet AS paths; Loc-RIB peers") {
  PeerSpec legacy;
  legacy.flags = 0x20;  // A
  bgp::SessionParams two_octet;
  two_octet.four_octet_as = false;
  two_octet.families = {kIpv4Unicast};
  Stream stream;
  Recorder rec;
  // No Peer Up (BM-4): decoded from the per-peer header, counted.
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(legacy, two_octet,
                                         Attributes({65001, 65002}),
                                         {Route("10.0.0.0", 8)}),
                    &rec)
              .ok());
  REQUIRE(rec.attributes.size() == 1);
  CHECK(rec.attributes[0].OriginAs() == 65002);
  CHECK(rec.peers[0].legacy_as_path);
  CHECK(stream.stats()
            .problems[static_cast<size_t>(BmpProblem::kPeerWithoutPeerUp)] ==
        1);

  PeerSpec locrib;
  locrib.type = 3;
  locrib.flags = 0x80;  // F: filtered
  locrib.address = "0.0.0.0";
  locrib.distinguisher = 7;
  bgp::SessionParams plain;
  plain.families = {kIpv4Unicast, kIpv6Unicast};
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(locrib, plain, Attributes({65010}),
                                         {Route("192.0.2.0", 24)}),
                    &rec)
              .ok());
  REQUIRE(rec.peers.size() == 2);
  CHECK(rec.peers[1].type == PeerType::kLocRib);
  CHECK(rec.peers[1].loc_rib_filtered);
  CHECK_FALSE(rec.peers[1].ipv6);
  CHECK(rec.peers[1].distinguisher.bytes[7] == 7);

  // An unknown peer type is skipped and counted; the stream goes on.
  PeerSpec unknown;
  unknown.type = 9;
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(unknown, plain, Attributes({1}),
                                         {Route("10.9.0.0", 16)}),
                    &rec)
              .ok());
  CHECK(stream.stats()
            .problems[static_cast<size_t>(BmpProblem::kUnknownPeerType)] == 1);
  REQUIRE(stream.Feed(InitiationBytes(), &rec).ok());
  CHECK(rec.events.back() == "init:r1");
}

TEST_CASE("bmp: BM-1 a bad common header kills the stream") {
  Recorder rec;
  SECTION("version 2") {
    Stream stream;
    std::vector<uint8_t> m = InitiationBytes();
    m[0] = 2;
    CHECK_FALSE(stream.Feed(m, &rec).ok());
    CHECK_FALSE(stream.Feed(InitiationBytes(), &rec).ok());  // stays dead
  }
  SECTION("length below the header") {
    Stream stream;
    CHECK_FALSE(stream.Feed(std::vector<uint8_t>{3, 0, 0, 0, 5, 4}, &rec).ok());
  }
  SECTION("length near 2^32 is refused before buffering it") {
    Stream stream;
    CHECK_FALSE(
        stream.Feed(std::vector<uint8_t>{3, 0xff, 0xff, 0xff, 0xf0, 0}, &rec)
            .ok());
    CHECK(stream.buffered() <= 6);
  }
  CHECK(rec.events.empty());
}

TEST_CASE("bmp: BM-2 inner BGP length disagreeing with the BMP length") {
  PeerSpec peer;
  bgp::SessionParams plain;
  plain.families = {kIpv4Unicast};
  std::vector<uint8_t> rm = RouteMonitoringBytes(peer, plain, Attributes({1}),
                                                 {Route("10.0.0.0", 8)});
  const size_t bgp_len_at = 6 + kPeerHeaderSize + 16;
  Recorder rec;
  Stream stream;
  SECTION("inner length longer than the message") {
    rm[bgp_len_at + 1] = static_cast<uint8_t>(rm[bgp_len_at + 1] + 5);
  }
  SECTION("inner length shorter: trailing bytes") {
    rm[bgp_len_at + 1] = static_cast<uint8_t>(rm[bgp_len_at + 1] - 1);
  }
  SECTION("bad marker") { rm[6 + kPeerHeaderSize] = 0; }
  REQUIRE(stream.Feed(rm, &rec).ok());
  CHECK(rec.events.empty());
  CHECK(stream.stats()
            .problems[static_cast<size_t>(BmpProblem::kBadInnerBgpMessage)] ==
        1);
  // The next message still decodes.
  REQUIRE(stream.Feed(InitiationBytes(), &rec).ok());
  CHECK(rec.events == std::vector<std::string>{"init:r1"});
}

TEST_CASE("bmp: BM-5 a Peer Up without both OPENs is refused, not guessed") {
  PeerSpec peer;
  std::vector<uint8_t> body = PeerHeaderBytes(peer);
  body.insert(body.end(), 16, 0);
  Put16(&body, 179);
  Put16(&body, 40000);
  REQUIRE(bgp::AppendOpen(Open(65000, 1, false, true), &body).ok());
  // Only the sent OPEN.
  Recorder rec;
  Stream stream;
  REQUIRE(stream.Feed(Message(MessageType::kPeerUp, body), &rec).ok());
  CHECK(rec.ups.empty());
  CHECK(stream.stats().problems[static_cast<size_t>(BmpProblem::kBadPeerUp)] ==
        1);
}

TEST_CASE("bmp: fabricated Peer Up OPENs with AS 0 and BGP id 0 still parse") {
  // 6WIND/FRR (corpus pmacct-205/208): the OPENs carry AS 0, id 0 and a
  // 4-octet AS capability of 0, but real capabilities (ADD-PATH) that the
  // Route Monitoring PDUs depend on.
  PeerSpec peer;
  bgp::OpenMessage sent = Open(65000, 1, false, true);
  bgp::OpenMessage received = Open(65001, 2, true, false);
  for (bgp::OpenMessage* o : {&sent, &received}) {
    o->my_as = 0;
    o->bgp_id = 0;
    o->capabilities.four_octet_as = 0;
  }
  Recorder rec;
  Stream stream;
  REQUIRE(stream.Feed(PeerUpBytes(peer, sent, received), &rec).ok());
  REQUIRE(rec.ups.size() == 1);
  CHECK(rec.ups[0].received_open.bgp_id == 0);
  CHECK(rec.ups[0].received_open.AsNumber() == 0);
  CHECK(rec.ups[0].params.HasAddPath(kIpv4Unicast));
  // A truly broken OPEN is still refused (BM-5).
  std::vector<uint8_t> bad = PeerUpBytes(peer, sent, received);
  bad[6 + kPeerHeaderSize + 20 + 19] = 3;  // sent OPEN version 3
  REQUIRE(stream.Feed(bad, &rec).ok());
  CHECK(rec.ups.size() == 1);
  CHECK(stream.stats().problems[static_cast<size_t>(BmpProblem::kBadPeerUp)] ==
        1);
}

TEST_CASE("bmp: TLVs after a Route Monitoring PDU are accepted, junk is not") {
  PeerSpec peer;
  bgp::SessionParams plain;
  plain.families = {kIpv4Unicast};
  std::vector<uint8_t> rm = RouteMonitoringBytes(peer, plain, Attributes({1}),
                                                 {Route("10.0.0.0", 8)});
  std::vector<uint8_t> with_tlv = rm;
  // An enterprise TLV (Huawei sends type 60002) after the PDU.
  with_tlv.insert(with_tlv.end(), {0xea, 0x62, 0x00, 0x04, 0, 0, 0, 10});
  with_tlv[4] = static_cast<uint8_t>(with_tlv.size());
  std::vector<uint8_t> junk = rm;
  junk.insert(junk.end(), {0xea, 0x62, 0x00, 0x09, 0});  // overruns
  junk[4] = static_cast<uint8_t>(junk.size());
  REQUIRE(rm.size() < 250);
  Recorder rec;
  Stream stream;
  REQUIRE(stream.Feed(with_tlv, &rec).ok());
  REQUIRE(stream.Feed(junk, &rec).ok());
  CHECK(rec.announced.size() == 1);
  CHECK(stream.stats()
            .problems[static_cast<size_t>(BmpProblem::kBadInnerBgpMessage)] ==
        1);
}

TEST_CASE("bmp: BM-6 overrunning TLVs and statistics counts") {
  Recorder rec;
  Stream stream;
  std::vector<uint8_t> init;
  Put16(&init, 1);
  Put16(&init, 200);  // longer than the message
  init.push_back('x');
  REQUIRE(stream.Feed(Message(MessageType::kInitiation, init), &rec).ok());
  PeerSpec peer;
  std::vector<uint8_t> stats = PeerHeaderBytes(peer);
  Put32(&stats, 1000000);  // count far beyond the bytes
  Put16(&stats, 0);
  Put16(&stats, 4);
  Put32(&stats, 1);
  REQUIRE(
      stream.Feed(Message(MessageType::kStatisticsReport, stats), &rec).ok());
  CHECK(rec.events.empty());
  CHECK(stream.stats().problems[static_cast<size_t>(BmpProblem::kBadTlv)] == 2);
}

TEST_CASE("bmp: BM-7 monitored peers are capped per router") {
  StreamOptions o;
  o.max_peers = 2;
  Stream stream(o);
  Recorder rec;
  for (int i = 1; i <= 3; ++i) {
    PeerSpec p;
    p.address = "192.0.2." + std::to_string(i);
    REQUIRE(stream
                .Feed(PeerUpBytes(p, Open(65000, 1, false, false),
                                  Open(65001, 2, false, false)),
                      &rec)
                .ok());
  }
  CHECK(rec.ups.size() == 2);
  CHECK(
      stream.stats().problems[static_cast<size_t>(BmpProblem::kTooManyPeers)] ==
      1);
}

TEST_CASE("bmp: Peer Down with a NOTIFICATION; Adj-RIB-Out direction") {
  PeerSpec peer;
  Recorder rec;
  Stream stream;
  // The router can send path ids (sent OPEN), its peer can receive: only
  // Adj-RIB-Out PDUs (O flag) carry path ids.
  REQUIRE(stream
              .Feed(PeerUpBytes(peer, Open(65000, 1, true, false),
                                Open(65001, 2, false, true)),
                    &rec)
              .ok());
  PeerSpec out = peer;
  out.flags = 0x10;  // O
  bgp::SessionParams with_ids;
  with_ids.families = {kIpv4Unicast, kIpv6Unicast};
  with_ids.add_path_receive = {kIpv4Unicast};
  bgp::SessionParams without;
  without.families = {kIpv4Unicast, kIpv6Unicast};
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(out, with_ids, Attributes({65000}),
                                         {Route("10.2.0.0", 16, 5)}),
                    &rec)
              .ok());
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(peer, without, Attributes({65001}),
                                         {Route("10.3.0.0", 16)}),
                    &rec)
              .ok());
  REQUIRE(rec.announced.size() == 2);
  CHECK(rec.announced[0].key.path_id == 5);
  CHECK(rec.peers[0].adj_rib_out);
  CHECK(rec.announced[1].key.path_id == 0);
  CHECK(rec.announced[1].key.prefix.ToString() == "10.3.0.0/16");

  std::vector<uint8_t> down = PeerHeaderBytes(peer);
  down.push_back(3);  // remote NOTIFICATION
  bgp::Notification n;
  n.code = 6;
  n.subcode = 2;
  bgp::AppendNotification(n, &down);
  REQUIRE(stream.Feed(Message(MessageType::kPeerDown, down), &rec).ok());
  REQUIRE(rec.downs.size() == 1);
  REQUIRE(rec.downs[0].notification);
  CHECK(rec.downs[0].notification->code == 6);
  CHECK(rec.downs[0].notification->subcode == 2);
}

TEST_CASE("bmp: families the Peer Up OPENs do not list are still decoded") {
  // 6WIND/FRR (corpus pmacct-205): the session negotiated IPv4 labeled
  // unicast only, its post-policy view carries IPv4 unicast. The station
  // records what the router reports.
  PeerSpec peer;
  bgp::OpenMessage sent = Open(65000, 1, false, false);
  bgp::OpenMessage received = Open(65001, 2, false, false);
  sent.capabilities.multiprotocol = {kIpv6Unicast};
  received.capabilities.multiprotocol = {kIpv6Unicast};
  Stream stream;
  Recorder rec;
  REQUIRE(stream.Feed(PeerUpBytes(peer, sent, received), &rec).ok());
  CHECK(rec.ups[0].params.families == std::vector<Family>{kIpv6Unicast});
  bgp::SessionParams plain;
  plain.families = {kIpv4Unicast, kIpv6Unicast};
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(peer, plain, Attributes({65001}),
                                         {Route("10.4.0.0", 16)}),
                    &rec)
              .ok());
  REQUIRE(rec.announced.size() == 1);
  CHECK(rec.announced[0].key.prefix.ToString() == "10.4.0.0/16");
}

TEST_CASE("bmp: a Loc-RIB's Peer Ups add up their ADD-PATH families") {
  // RFC 9069 §5.2 OPENs are fabricated; Huawei and Cisco send one Peer Up
  // per family of a Loc-RIB instance (corpus pmacct-200, pmacct-208). The
  // second must not take ADD-PATH away from the first one's family.
  PeerSpec loc;
  loc.type = 3;
  loc.address = "0.0.0.0";
  loc.distinguisher = 15;
  bgp::OpenMessage v4 = Open(65000, 1, true, true);
  v4.capabilities.multiprotocol = {kIpv4Unicast};
  bgp::OpenMessage v6 = Open(65000, 1, false, false);
  v6.capabilities.multiprotocol = {kIpv6Unicast};
  v6.capabilities.add_path = {{kIpv6Unicast, true, true}};
  Stream stream;
  Recorder rec;
  REQUIRE(stream.Feed(PeerUpBytes(loc, v4, v4), &rec).ok());
  REQUIRE(stream.Feed(PeerUpBytes(loc, v6, v6), &rec).ok());
  bgp::SessionParams ids;
  ids.families = {kIpv4Unicast, kIpv6Unicast};
  ids.add_path_receive = {kIpv4Unicast, kIpv6Unicast};
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(loc, ids, Attributes({65000}),
                                         {Route("192.0.2.23", 32, 0)}),
                    &rec)
              .ok());
  REQUIRE(stream
              .Feed(RouteMonitoringBytes(loc, ids, Attributes({65000}),
                                         {Route("2001:db8::23", 128, 3)}),
                    &rec)
              .ok());
  REQUIRE(rec.announced.size() == 2);
  // Read without path ids, 00 00 00 00 20 c0 00 02 17 would be four
  // 0.0.0.0/0 and 192.0.2.23/32 (what pmbmpd 1.7.7 dumps).
  CHECK(rec.announced[0].key.prefix.ToString() == "192.0.2.23/32");
  CHECK(rec.announced[1].key.path_id == 3);
  CHECK(stream.stats().problems == std::array<uint64_t, kBmpProblemCount>{});
}

TEST_CASE("bmp: a missing or martian NEXT_HOP keeps the route") {
  // RFC 9069 §5: a Loc-RIB holds locally originated routes; 6WIND/FRR
  // report them without NEXT_HOP or with 0.0.0.0 (corpus pmacct-205). On a
  // BGP session that is treat-as-withdraw (RFC 7606 §3d); here the route
  // is kept and the issue recorded.
  PeerSpec loc;
  loc.type = 3;
  loc.address = "0.0.0.0";
  bgp::SessionParams plain;
  plain.families = {kIpv4Unicast};
  Stream stream;
  Recorder rec;
  std::vector<uint8_t> m = RouteMonitoringBytes(loc, plain, Attributes({65000}),
                                                {Route("203.0.113.58", 32)});
  // The encoder refuses a martian next hop: patch NEXT_HOP to 0.0.0.0.
  const std::vector<uint8_t> next_hop = {0x40, 3, 4, 192, 0, 2, 1};
  auto at = std::search(m.begin(), m.end(), next_hop.begin(), next_hop.end());
  REQUIRE(at != m.end());
  std::fill(at + 3, at + 7, 0);
  REQUIRE(stream.Feed(m, &rec).ok());
  REQUIRE(rec.announced.size() == 1);
  CHECK(rec.announced[0].key.prefix.ToString() == "203.0.113.58/32");
  CHECK(rec.attributes[0].next_hop.ToString() == "0.0.0.0");
}

}  // namespace
}  // namespace flowacct::bmp
