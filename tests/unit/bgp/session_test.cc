// Tests for the passive BGP FSM (bgp/session.h): handshake, timers, error
// handling, and BG-3 (any split of the byte stream gives the same events).

#include "flowacct/bgp/session.h"

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/bgp/message.h"

#include "tests/support/tcp_streams.h"
#include "tests/unit/bgp/bgp_test_util.h"

namespace flowacct::bgp {
namespace {

using namespace test;  // NOLINT

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'000 * kSec;

Bytes PeerOpen(uint32_t as = 65001, uint16_t hold = 90,
               uint32_t id = 0x0a000001, bool add_path = false) {
  OpenMessage o;
  o.hold_time_s = hold;
  o.bgp_id = id;
  SetAsNumber(as, &o);
  o.capabilities.multiprotocol = {kIpv4Unicast, kIpv6Unicast};
  o.capabilities.route_refresh = true;
  if (add_path) o.capabilities.add_path = {{kIpv4Unicast, true, false}};
  Bytes out;
  REQUIRE(AppendOpen(o, &out).ok());
  return out;
}

Bytes Keepalive() {
  Bytes k;
  AppendKeepalive(&k);
  return k;
}

// The messages in a byte string, as (type) list.
std::vector<MessageType> Types(const Bytes& bytes) {
  std::vector<MessageType> types;
  std::span<const uint8_t> rest(bytes);
  while (!rest.empty()) {
    Frame f = FindMessage(rest, kMaxExtendedMessageSize);
    REQUIRE(f.kind == Frame::Kind::kMessage);
    types.push_back(f.type);
    rest = rest.subspan(f.message.size());
  }
  return types;
}

// A text summary of events, for comparing runs.
std::string Summary(const SessionOutput& out) {
  std::string s;
  for (const SessionEvent& e : out.events) {
    s += std::to_string(static_cast<int>(e.kind));
    switch (e.kind) {
      case SessionEvent::Kind::kUpdate: {
        const ParsedUpdate& u = out.update(e.update_index);
        s += " action=" + std::string(UpdateActionName(u.action));
        for (const Nlri& n : u.announced) s += " +" + n.key.prefix.ToString();
        for (const Nlri& n : u.withdrawn) s += " -" + n.key.prefix.ToString();
        s += " path=" + u.attributes.AsPathString();
        s += " issues=" + std::to_string(u.issues.size());
        break;
      }
      case SessionEvent::Kind::kEndOfRib:
        s += " " + e.family.ToString();
        break;
      case SessionEvent::Kind::kClosed:
        s += " " + std::string(CloseReasonName(e.close_reason)) + " " +
             e.notification.ToString();
        break;
      case SessionEvent::Kind::kNotificationReceived:
        s += " " + e.notification.ToString();
        break;
      case SessionEvent::Kind::kEstablished:
        s += " as=" + std::to_string(e.params.peer_as);
        break;
      default:
        break;
    }
    s += "\n";
  }
  return s;
}

struct Run {
  std::string events;
  Bytes sent;
  SessionState state;
};

// Feeds `stream` split into chunks at the given cut points.
Run FeedSplit(const Bytes& stream, const std::vector<size_t>& cuts,
              const SessionOptions& options = {}) {
  Session session(options, kT0);
  SessionOutput all;
  SessionOutput out;
  Run run;
  size_t prev = 0;
  std::vector<size_t> points = cuts;
  points.push_back(stream.size());
  for (size_t cut : points) {
    out.Clear();
    session.Feed(std::span(stream).subspan(prev, cut - prev), kT0 + kSec, &out);
    run.events += Summary(out);
    run.sent.insert(run.sent.end(), out.to_send.begin(), out.to_send.end());
    prev = cut;
  }
  run.state = session.state();
  return run;
}

TEST_CASE(
    "bgp/session: passive handshake, updates, End-of-RIB, route refresh") {
  Session session(SessionOptions{}, kT0);
  SessionOutput out;
  CHECK(session.state() == SessionState::kOpenWait);
  session.Feed(PeerOpen(65001, 180), kT0, &out);
  CHECK(session.state() == SessionState::kOpenConfirm);
  CHECK(out.events.empty());
  REQUIRE(
      Types(out.to_send) ==
      std::vector<MessageType>{MessageType::kOpen, MessageType::kKeepalive});
  // Our OPEN mirrors the peer's AS (iBGP), offers 90 s and ADD-PATH receive.
  OpenMessage ours;
  Notification error;
  REQUIRE(ParseOpen(std::span(out.to_send).first(out.to_send.size() - 19),
                    &ours, &error)
              .ok());
  CHECK(ours.AsNumber() == 65001);
  CHECK(ours.bgp_id == 0x01020304);
  CHECK(ours.hold_time_s == 90);
  CHECK(ours.capabilities.extended_message);
  CHECK(ours.capabilities.graceful_restart.has_value());
  CHECK(ours.capabilities.add_path.size() == SessionOptions().families.size());
  CHECK(session.hold_time_s() == 90);

  out.Clear();
  session.Feed(Keepalive(), kT0 + kSec, &out);
  CHECK(session.state() == SessionState::kEstablished);
  REQUIRE(out.events.size() == 1);
  const SessionEvent& est = out.events[0];
  CHECK(est.kind == SessionEvent::Kind::kEstablished);
  CHECK(est.params.ibgp);
  CHECK(est.params.families == std::vector<Family>{kIpv4Unicast, kIpv6Unicast});
  CHECK(est.peer_open.bgp_id == 0x0a000001);

  out.Clear();
  Bytes update = Update({}, BaseAttrs(), Nlri4(24, {10, 1, 2}));
  Bytes rr;
  RouteRefresh req;
  req.afi = 1;
  req.safi = 1;
  AppendRouteRefresh(req, &rr);
  session.Feed(Cat({update, UpdateBuilder::EndOfRib(kIpv4Unicast),
                    UpdateBuilder::EndOfRib(kIpv6Unicast), rr}),
               kT0 + 2 * kSec, &out);
  REQUIRE(out.events.size() == 4);
  CHECK(out.events[0].kind == SessionEvent::Kind::kUpdate);
  const ParsedUpdate& u = out.update(out.events[0].update_index);
  CHECK(u.announced.size() == 1);
  CHECK(u.action == UpdateAction::kOk);
  CHECK(out.events[1].kind == SessionEvent::Kind::kEndOfRib);
  CHECK(out.events[1].family == kIpv4Unicast);
  CHECK(out.events[2].family == kIpv6Unicast);
  CHECK(out.events[3].kind == SessionEvent::Kind::kRouteRefresh);
  CHECK(out.to_send.empty());  // never an UPDATE, nothing for route refresh
  CHECK(session.state() == SessionState::kEstablished);
}

TEST_CASE("bgp/session: keepalives every hold/3 and hold timer expiry") {
  Session session(SessionOptions{}, kT0);
  SessionOutput out;
  session.Feed(Cat({PeerOpen(65001, 30), Keepalive()}), kT0, &out);
  REQUIRE(session.state() == SessionState::kEstablished);
  CHECK(session.hold_time_s() == 30);
  CHECK(session.NextTimerNs() == kT0 + 10 * kSec);
  out.Clear();
  session.OnTimer(kT0 + 5 * kSec, &out);
  CHECK(out.to_send.empty());
  session.OnTimer(kT0 + 10 * kSec, &out);
  CHECK(Types(out.to_send) ==
        std::vector<MessageType>{MessageType::kKeepalive});
  CHECK(session.NextTimerNs() == kT0 + 20 * kSec);
  // A KEEPALIVE from the peer restarts the hold timer.
  out.Clear();
  session.Feed(Keepalive(), kT0 + 25 * kSec, &out);
  session.OnTimer(kT0 + 31 * kSec, &out);
  CHECK(session.state() == SessionState::kEstablished);
  // No more messages: hold timer expires 30 s after the last one.
  out.Clear();
  session.OnTimer(kT0 + 55 * kSec - 1, &out);
  CHECK(session.state() == SessionState::kEstablished);
  out.Clear();
  session.OnTimer(kT0 + 55 * kSec, &out);
  REQUIRE(session.state() == SessionState::kClosed);
  REQUIRE(!out.to_send.empty());
  Frame f = FindMessage(out.to_send);
  REQUIRE(f.type == MessageType::kNotification);
  Notification n;
  REQUIRE(ParseNotification(f.message, &n).ok());
  CHECK(n.code == error_code::kHoldTimerExpired);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].close_reason == CloseReason::kHoldTimerExpired);
  CHECK(session.NextTimerNs() == std::numeric_limits<int64_t>::max());
}

TEST_CASE(
    "bgp/session: no OPEN within the wait closes; hold time 0 disables "
    "timers") {
  Session idle(SessionOptions{}, kT0);
  SessionOutput out;
  CHECK(idle.NextTimerNs() == kT0 + 240 * kSec);
  idle.OnTimer(kT0 + 240 * kSec, &out);
  CHECK(idle.state() == SessionState::kClosed);
  CHECK(out.events.at(0).close_reason == CloseReason::kHoldTimerExpired);

  Session zero(SessionOptions{}, kT0);
  out.Clear();
  zero.Feed(Cat({PeerOpen(65001, 0), Keepalive()}), kT0, &out);
  CHECK(zero.state() == SessionState::kEstablished);
  CHECK(zero.NextTimerNs() == std::numeric_limits<int64_t>::max());
}

TEST_CASE("bgp/session: BG-3 any split of the stream gives the same events") {
  // A recorded stream: OPEN, KEEPALIVE, UPDATEs (one treat-as-withdraw),
  // End-of-RIB, KEEPALIVE, NOTIFICATION (Cease with a shutdown text).
  UpdateBuilder builder(Params());
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = {{AsSegmentType::kSequence, {65001, 65002}}};
  a.next_hop = IpAddress::V4(0xc0000201);
  std::vector<Nlri> routes;
  for (uint8_t i = 0; i < 5; ++i) {
    Nlri n;
    n.key.prefix = P4(10, i, 0, 0, 16);
    routes.push_back(n);
  }
  auto u1 = builder.Build(a, routes, {});
  REQUIRE(u1.ok());
  Bytes bad =
      Update({}, Cat({BaseAttrs(), Attr(0xc0, 8, {1, 2, 3})}), Nlri4(8, {11}));
  Bytes shutdown;
  AppendNotification(AdministrativeShutdown("maintenance"), &shutdown);
  const Bytes stream =
      Cat({PeerOpen(), Keepalive(), *u1, bad,
           UpdateBuilder::EndOfRib(kIpv4Unicast), Keepalive(), shutdown});

  const Run whole = FeedSplit(stream, {});
  CHECK(whole.state == SessionState::kClosed);
  CHECK(whole.events.find("treat-as-withdraw") != std::string::npos);
  CHECK(whole.events.find("maintenance") != std::string::npos);
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    const Run r = FeedSplit(stream, {cut});
    REQUIRE(r.events == whole.events);
    REQUIRE(r.sent == whole.sent);
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  const Run bytewise = FeedSplit(stream, every);
  CHECK(bytewise.events == whole.events);
  CHECK(bytewise.sent == whole.sent);
  // Three-way splits around message boundaries.
  for (size_t c1 = 1; c1 < 60; c1 += 7) {
    for (size_t c2 = c1 + 1; c2 < stream.size(); c2 += 13) {
      REQUIRE(FeedSplit(stream, {c1, c2}).events == whole.events);
    }
  }
}

TEST_CASE("bgp/session: BG-3 a real capture's stream, split at every byte") {
  namespace fs = std::filesystem;
  const fs::path file =
      fs::path(FLOWACCT_CORPUS_DIR) / "bgp" / "packetlife-bgp-add-path.pcap";
  if (!fs::exists(file)) {
    WARN("corpus capture missing; skipped");
    return;
  }
  auto streams = testing::ReadTcpStreams(file.string());
  REQUIRE(streams.ok());
  size_t tested = 0;
  for (const testing::TcpStream& s : *streams) {
    if (s.bytes.size() < 19 || s.bytes[18] != 1) continue;  // starts with OPEN
    const Run whole = FeedSplit(s.bytes, {});
    CHECK(whole.events.find("0 as=") != std::string::npos);  // established
    for (size_t cut = 1; cut < s.bytes.size(); ++cut) {
      REQUIRE(FeedSplit(s.bytes, {cut}).events == whole.events);
    }
    std::vector<size_t> every;
    for (size_t i = 1; i < s.bytes.size(); ++i) every.push_back(i);
    CHECK(FeedSplit(s.bytes, every).events == whole.events);
    ++tested;
  }
  CHECK(tested >= 1);
}

Notification SentNotification(const SessionOutput& out) {
  std::span<const uint8_t> rest(out.to_send);
  while (!rest.empty()) {
    Frame f = FindMessage(rest, kMaxExtendedMessageSize);
    REQUIRE(f.kind == Frame::Kind::kMessage);
    if (f.type == MessageType::kNotification) {
      Notification n;
      REQUIRE(ParseNotification(f.message, &n).ok());
      return n;
    }
    rest = rest.subspan(f.message.size());
  }
  FAIL("no NOTIFICATION sent");
  return {};
}

TEST_CASE("bgp/session: errors send the prescribed NOTIFICATION and close") {
  SECTION("BG-1 bad marker") {
    Session s(SessionOptions{}, kT0);
    SessionOutput out;
    Bytes m = PeerOpen();
    m[0] = 0;
    s.Feed(m, kT0, &out);
    CHECK(s.state() == SessionState::kClosed);
    CHECK(SentNotification(out).code == error_code::kMessageHeader);
    CHECK(out.events.back().close_reason == CloseReason::kProtocolError);
  }
  SECTION("BG-4 OPEN with version 3") {
    Session s(SessionOptions{}, kT0);
    SessionOutput out;
    Bytes m = PeerOpen();
    m[19] = 3;
    s.Feed(m, kT0, &out);
    Notification n = SentNotification(out);
    CHECK(n.code == error_code::kOpenMessage);
    CHECK(n.subcode == subcode::kUnsupportedVersionNumber);
    CHECK(s.state() == SessionState::kClosed);
  }
  SECTION("UPDATE before OPEN is an FSM error") {
    Session s(SessionOptions{}, kT0);
    SessionOutput out;
    s.Feed(Update({}, BaseAttrs(), Nlri4(8, {10})), kT0, &out);
    CHECK(SentNotification(out).code == error_code::kFsm);
  }
  SECTION("peer BGP identifier equal to ours on iBGP") {
    Session s(SessionOptions{}, kT0);
    SessionOutput out;
    s.Feed(PeerOpen(65001, 90, 0x01020304), kT0, &out);
    CHECK(SentNotification(out).subcode == subcode::kBadBgpIdentifier);
  }
  SECTION("UPDATE needing a session reset") {
    Session s(SessionOptions{}, kT0);
    SessionOutput out;
    Bytes unreach = Attr(0x80, 15, {0, 2, 1});
    s.Feed(
        Cat({PeerOpen(), Keepalive(), Update({}, Cat({unreach, unreach}), {})}),
        kT0, &out);
    Notification n = SentNotification(out);
    CHECK(n.code == error_code::kUpdateMessage);
    CHECK(n.subcode == subcode::kMalformedAttributeList);
    CHECK(s.state() == SessionState::kClosed);
    // The update event comes first so callers can count it.
    REQUIRE(out.events.size() == 3);
    CHECK(out.events[1].kind == SessionEvent::Kind::kUpdate);
    CHECK(out.events[2].kind == SessionEvent::Kind::kClosed);
  }
  SECTION("BG-9 bad BoRR length") {
    Session s(SessionOptions{}, kT0);
    SessionOutput out;
    s.Feed(Cat({PeerOpen(), Keepalive(), Message(5, {0, 1, 1, 1, 0})}), kT0,
           &out);
    CHECK(SentNotification(out).code == error_code::kRouteRefresh);
  }
  SECTION("NOTIFICATION received closes without sending") {
    Session s(SessionOptions{}, kT0);
    SessionOutput out;
    s.Feed(Cat({PeerOpen(), Keepalive()}), kT0, &out);
    out.Clear();
    Bytes n;
    Notification cease;
    cease.code = 6;
    cease.subcode = 3;
    AppendNotification(cease, &n);
    s.Feed(n, kT0, &out);
    CHECK(out.to_send.empty());
    REQUIRE(out.events.size() == 2);
    CHECK(out.events[0].kind == SessionEvent::Kind::kNotificationReceived);
    CHECK(out.events[0].notification.subcode == 3);
    CHECK(out.events[1].close_reason == CloseReason::kNotificationReceived);
    // Further bytes are ignored.
    out.Clear();
    s.Feed(Keepalive(), kT0, &out);
    CHECK(out.events.empty());
  }
}

TEST_CASE("bgp/session: AFI/SAFI disable stops accepting the family") {
  Session s(SessionOptions{}, kT0);
  SessionOutput out;
  s.Feed(Cat({PeerOpen(), Keepalive()}), kT0, &out);
  out.Clear();
  s.Feed(Update({}, BaseAttrs(), Nlri4(33, {10, 0, 0, 0, 0})), kT0, &out);
  REQUIRE(out.events.size() == 1);
  CHECK(out.update(0).action == UpdateAction::kAfiSafiDisable);
  CHECK(!s.params().HasFamily(kIpv4Unicast));
  CHECK(s.state() == SessionState::kEstablished);
  out.Clear();
  s.Feed(Update({}, BaseAttrs(), Nlri4(8, {10})), kT0, &out);
  CHECK(out.update(0).announced.empty());
}

TEST_CASE("bgp/session: ADD-PATH negotiated from the peer's send capability") {
  Session s(SessionOptions{}, kT0);
  SessionOutput out;
  s.Feed(Cat({PeerOpen(65001, 90, 0x0a000001, /*add_path=*/true), Keepalive(),
              Update({}, BaseAttrs(), Cat({U32(9), Nlri4(8, {10})}))}),
         kT0, &out);
  REQUIRE(out.update_count() == 1);
  CHECK(out.update(0).announced.at(0).key.path_id == 9);
  // add_path_receive off: not negotiated.
  SessionOptions no_ap;
  no_ap.add_path_receive = false;
  Session s2(no_ap, kT0);
  out.Clear();
  s2.Feed(Cat({PeerOpen(65001, 90, 0x0a000001, true), Keepalive()}), kT0, &out);
  CHECK(s2.params().add_path_receive.empty());
}

TEST_CASE("bgp/session: local AS, shutdown and connection close") {
  SessionOptions o;
  o.local_as = 4200000000u;
  o.router_id = 0xc0000201;
  Session s(o, kT0);
  SessionOutput out;
  s.Feed(Cat({PeerOpen(65001), Keepalive()}), kT0, &out);
  CHECK(!s.params().ibgp);
  CHECK(s.local_open().my_as == kAsTrans);
  CHECK(s.local_open().AsNumber() == 4200000000u);
  out.Clear();
  s.Shutdown("bye", &out);
  Notification n = SentNotification(out);
  CHECK(n.code == error_code::kCease);
  CHECK(n.subcode == subcode::kAdministrativeShutdown);
  CHECK(n.shutdown_communication == "bye");
  CHECK(out.events.back().close_reason == CloseReason::kLocalShutdown);

  Session c(SessionOptions{}, kT0);
  out.Clear();
  c.OnConnectionClosed(kT0, &out);
  CHECK(c.state() == SessionState::kClosed);
  CHECK(out.events.at(0).close_reason == CloseReason::kConnectionClosed);
}

TEST_CASE("bgp/session: SessionOutput reuses its ParsedUpdates") {
  Session s(SessionOptions{}, kT0);
  SessionOutput out;
  s.Feed(Cat({PeerOpen(), Keepalive()}), kT0, &out);
  Bytes u = Update({}, BaseAttrs(), Nlri4(8, {10}));
  for (int i = 0; i < 3; ++i) {
    out.Clear();
    s.Feed(Cat({u, u}), kT0, &out);
    CHECK(out.update_count() == 2);
    CHECK(out.update(1).announced.size() == 1);
  }
}

}  // namespace
}  // namespace flowacct::bgp
