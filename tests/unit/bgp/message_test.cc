// Tests for the BGP message codec (bgp/message.h): framing, OPEN, UPDATE
// with RFC 7606 outcomes, NOTIFICATION, ROUTE-REFRESH, encoders. Test names
// carry the hostile-inputs.md row ids (BG-n).

#include "flowacct/bgp/message.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/bgp/bgp_test_util.h"

namespace flowacct::bgp {
namespace {

using namespace test;  // NOLINT

Bytes OpenBody(uint8_t version, uint16_t as, uint16_t hold, uint32_t id,
               const Bytes& params) {
  Bytes b = {version};
  b = Cat({b, U16(as), U16(hold), U32(id)});
  b.push_back(static_cast<uint8_t>(params.size()));
  return Cat({b, params});
}
Bytes CapParam(const Bytes& caps) {
  Bytes p = {2, static_cast<uint8_t>(caps.size())};
  return Cat({p, caps});
}
Bytes Cap(uint8_t code, const Bytes& v) {
  Bytes c = {code, static_cast<uint8_t>(v.size())};
  return Cat({c, v});
}

ParsedUpdate Parse(const Bytes& msg, const SessionParams& p = Params()) {
  ParsedUpdate u;
  ParseUpdate(msg, p, &u);
  return u;
}

// ---------------------------------------------------------------------------
// Framing.

TEST_CASE(
    "bgp/message: BG-1 marker not all ones is Connection Not Synchronized") {
  Bytes m = Message(4, {});
  m[3] = 0xfe;
  Frame f = FindMessage(m);
  REQUIRE(f.kind == Frame::Kind::kError);
  CHECK(f.error.code == error_code::kMessageHeader);
  CHECK(f.error.subcode == subcode::kConnectionNotSynchronized);
  // Detected even before the header is complete.
  Frame partial = FindMessage(std::span(m).first(5));
  CHECK(partial.kind == Frame::Kind::kError);
}

TEST_CASE("bgp/message: BG-2 bad message lengths are Bad Message Length") {
  auto expect_bad = [](Bytes m, uint16_t len) {
    m[16] = static_cast<uint8_t>(len >> 8);
    m[17] = static_cast<uint8_t>(len);
    Frame f = FindMessage(m);
    REQUIRE(f.kind == Frame::Kind::kError);
    CHECK(f.error.subcode == subcode::kBadMessageLength);
    CHECK(f.error.data == U16(len));
  };
  expect_bad(Message(4, {}), 18);             // < 19
  expect_bad(Message(4, {}), 20);             // KEEPALIVE not exactly 19
  expect_bad(Message(1, Bytes(9, 0)), 28);    // OPEN < 29
  expect_bad(Message(2, Bytes(3, 0)), 22);    // UPDATE < 23
  expect_bad(Message(3, Bytes(1, 0)), 20);    // NOTIFICATION < 21
  expect_bad(Message(5, Bytes(3, 0)), 22);    // ROUTE-REFRESH < 23
  expect_bad(Message(2, Bytes(4, 0)), 4097);  // > 4096 without RFC 8654
  // With extended messages, 4097 is fine (need more bytes).
  Bytes big = Message(2, Bytes(5000, 0));
  CHECK(FindMessage(big).kind == Frame::Kind::kError);
  CHECK(FindMessage(big, kMaxExtendedMessageSize).kind ==
        Frame::Kind::kMessage);
  // OPEN and KEEPALIVE stay <= 4096 even then (RFC 8654 §3).
  Bytes big_open = Message(1, Bytes(5000, 0));
  CHECK(FindMessage(big_open, kMaxExtendedMessageSize).kind ==
        Frame::Kind::kError);
  // Unknown type.
  Bytes bad_type = Message(9, {});
  Frame f = FindMessage(bad_type);
  REQUIRE(f.kind == Frame::Kind::kError);
  CHECK(f.error.subcode == subcode::kBadMessageType);
}

TEST_CASE("bgp/message: framing returns need-more then the message") {
  Bytes m = Cat({Message(4, {}), Message(4, {})});
  for (size_t n = 0; n < 19; ++n) {
    CHECK(FindMessage(std::span(m).first(n)).kind == Frame::Kind::kNeedMore);
  }
  Frame f = FindMessage(m);
  REQUIRE(f.kind == Frame::Kind::kMessage);
  CHECK(f.type == MessageType::kKeepalive);
  CHECK(f.message.size() == 19);
}

// ---------------------------------------------------------------------------
// OPEN.

TEST_CASE("bgp/message: OPEN round trip with every capability") {
  OpenMessage o;
  o.hold_time_s = 90;
  o.bgp_id = 0x0a000001;
  SetAsNumber(4200000000u, &o);
  CHECK(o.my_as == kAsTrans);
  Capabilities& c = o.capabilities;
  c.multiprotocol = {kIpv4Unicast, kIpv6Unicast, {Afi::kIpv4, Safi::kMplsVpn}};
  c.route_refresh = true;
  c.enhanced_route_refresh = true;
  c.extended_message = true;
  c.add_path = {{kIpv4Unicast, true, true}, {kIpv6Unicast, false, true}};
  GracefulRestart gr;
  gr.restart_state = true;
  gr.notification = true;
  gr.restart_time_s = 120;
  gr.families = {{kIpv4Unicast, true}};
  c.graceful_restart = gr;
  LongLivedGracefulRestart llgr;
  llgr.families = {{kIpv6Unicast, false, 3600}};
  c.long_lived_graceful_restart = llgr;
  c.extended_next_hop = {{kIpv4Unicast, Afi::kIpv6}};
  c.role = 3;
  c.hostname = "router1";
  c.domain_name = "example.net";
  c.software_version = "flowacct 0.1";
  Bytes wire;
  REQUIRE(AppendOpen(o, &wire).ok());
  OpenMessage parsed;
  Notification error;
  REQUIRE(ParseOpen(wire, &parsed, &error).ok());
  CHECK(parsed == o);
  CHECK(parsed.AsNumber() == 4200000000u);
}

TEST_CASE("bgp/message: BG-4 OPEN header checks") {
  OpenMessage parsed;
  Notification e;
  CHECK(
      !ParseOpen(Message(1, OpenBody(3, 65001, 90, 1, {})), &parsed, &e).ok());
  CHECK(e.subcode == subcode::kUnsupportedVersionNumber);
  CHECK(e.data == Bytes{0, 4});
  CHECK(!ParseOpen(Message(1, OpenBody(4, 65001, 1, 1, {})), &parsed, &e).ok());
  CHECK(e.subcode == subcode::kUnacceptableHoldTime);
  CHECK(!ParseOpen(Message(1, OpenBody(4, 65001, 2, 1, {})), &parsed, &e).ok());
  CHECK(e.subcode == subcode::kUnacceptableHoldTime);
  CHECK(ParseOpen(Message(1, OpenBody(4, 65001, 0, 1, {})), &parsed, &e).ok());
  CHECK(ParseOpen(Message(1, OpenBody(4, 65001, 3, 1, {})), &parsed, &e).ok());
  CHECK(
      !ParseOpen(Message(1, OpenBody(4, 65001, 90, 0, {})), &parsed, &e).ok());
  CHECK(e.subcode == subcode::kBadBgpIdentifier);
  CHECK(!ParseOpen(Message(1, OpenBody(4, 0, 90, 1, {})), &parsed, &e).ok());
  CHECK(e.subcode == subcode::kBadPeerAs);
  // AS_TRANS without the 4-octet AS capability.
  CHECK(!ParseOpen(Message(1, OpenBody(4, kAsTrans, 90, 1, {})), &parsed, &e)
             .ok());
  CHECK(e.subcode == subcode::kBadPeerAs);
  // 4-octet AS capability carrying AS_TRANS or 0.
  CHECK(!ParseOpen(Message(1, OpenBody(4, kAsTrans, 90, 1,
                                       CapParam(Cap(65, U32(kAsTrans))))),
                   &parsed, &e)
             .ok());
  CHECK(!ParseOpen(
             Message(1, OpenBody(4, 65001, 90, 1, CapParam(Cap(65, U32(0))))),
             &parsed, &e)
             .ok());
  CHECK(e.code == error_code::kOpenMessage);
}

TEST_CASE("bgp/message: BG-5 optional parameters length inconsistent") {
  OpenMessage parsed;
  Notification e;
  // OPEN ends right after the optional parameters length octet, which says 4.
  Bytes body = OpenBody(4, 65001, 90, 1, {});
  body.back() = 4;
  CHECK(!ParseOpen(Message(1, body), &parsed, &e).ok());
  CHECK(e.code == error_code::kOpenMessage);
  // Length shorter than the parameters present.
  Bytes params = CapParam(Cap(2, {}));
  Bytes body2 = OpenBody(4, 65001, 90, 1, params);
  body2[9] = 1;
  CHECK(!ParseOpen(Message(1, body2), &parsed, &e).ok());
  // Parameter header cut.
  Bytes body3 = OpenBody(4, 65001, 90, 1, Bytes{2});
  CHECK(!ParseOpen(Message(1, body3), &parsed, &e).ok());
  // Non-capability parameter (1, authentication) is unsupported.
  Bytes body4 = OpenBody(4, 65001, 90, 1, Bytes{1, 1, 0});
  CHECK(!ParseOpen(Message(1, body4), &parsed, &e).ok());
  CHECK(e.subcode == subcode::kUnsupportedOptionalParameter);
}

TEST_CASE("bgp/message: BG-6 RFC 9072 extended optional parameters") {
  const Bytes caps = Cat({Cap(65, U32(65001)), Cap(2, {})});
  // Extended form: 255, 255, 2-octet length, param type, 2-octet length.
  Bytes ext_params = Cat({Bytes{2}, U16(caps.size()), caps});
  Bytes body = Cat({Bytes{4}, U16(65001), U16(90), U32(1), Bytes{255, 255},
                    U16(ext_params.size()), ext_params});
  OpenMessage parsed;
  Notification e;
  REQUIRE(ParseOpen(Message(1, body), &parsed, &e).ok());
  CHECK(parsed.capabilities.four_octet_as == 65001u);
  CHECK(parsed.capabilities.route_refresh);
  // Extended length too long / too short.
  Bytes long_body = Cat({Bytes{4}, U16(65001), U16(90), U32(1), Bytes{255, 255},
                         U16(ext_params.size() + 1), ext_params});
  CHECK(!ParseOpen(Message(1, long_body), &parsed, &e).ok());
  Bytes short_body =
      Cat({Bytes{4}, U16(65001), U16(90), U32(1), Bytes{255, 255},
           U16(ext_params.size() - 1), ext_params});
  CHECK(!ParseOpen(Message(1, short_body), &parsed, &e).ok());
  // Extended marker without its length.
  Bytes cut = Cat({Bytes{4}, U16(65001), U16(90), U32(1), Bytes{255, 255}});
  CHECK(!ParseOpen(Message(1, cut), &parsed, &e).ok());
  // Parameter length overrunning in the extended form.
  Bytes over = Cat({Bytes{2}, U16(caps.size() + 5), caps});
  Bytes over_body = Cat({Bytes{4}, U16(65001), U16(90), U32(1), Bytes{255, 255},
                         U16(over.size()), over});
  CHECK(!ParseOpen(Message(1, over_body), &parsed, &e).ok());
  // The encoder uses the extended form when capabilities exceed 255 octets.
  OpenMessage big;
  big.bgp_id = 1;
  SetAsNumber(65001, &big);
  big.capabilities.hostname = std::string(120, 'h');
  big.capabilities.domain_name = std::string(120, 'd');
  big.capabilities.software_version = std::string(200, 'v');
  Bytes wire;
  REQUIRE(AppendOpen(big, &wire).ok());
  CHECK(wire[28] == 255);
  CHECK(wire[29] == 255);
  REQUIRE(ParseOpen(wire, &parsed, &e).ok());
  CHECK(parsed == big);
}

TEST_CASE("bgp/message: BG-7 capability overrunning its parameter") {
  OpenMessage parsed;
  Notification e;
  // MP capability says 4 octets, only 2 in the parameter.
  Bytes params = {2, 4, 1, 4, 0, 1};
  CHECK(!ParseOpen(Message(1, OpenBody(4, 65001, 90, 1, params)), &parsed, &e)
             .ok());
  CHECK(e.code == error_code::kOpenMessage);
  // GR capability with a length past the parameter.
  Bytes gr = {2, 4, 64, 10, 0, 120};
  CHECK(
      !ParseOpen(Message(1, OpenBody(4, 65001, 90, 1, gr)), &parsed, &e).ok());
}

TEST_CASE("bgp/message: BG-8 MP capability with unknown AFI/SAFI is ignored") {
  const Bytes caps = Cat({Cap(1, {0, 1, 0, 133}), Cap(1, {0x40, 0x04, 0, 71}),
                          Cap(1, {0, 99, 0, 1}), Cap(1, {0, 2, 0, 1})});
  OpenMessage parsed;
  Notification e;
  REQUIRE(ParseOpen(Message(1, OpenBody(4, 65001, 90, 1, CapParam(caps))),
                    &parsed, &e)
              .ok());
  CHECK(parsed.capabilities.multiprotocol == std::vector<Family>{kIpv6Unicast});
  CHECK(parsed.capabilities.other_multiprotocol.size() == 3);
}

TEST_CASE("bgp/message: BG-10 4-octet AS capability length != 4 is absent") {
  for (const Bytes& v : {Bytes{0, 0, 1}, Bytes{0, 0, 0xfd, 0xe9, 0}, Bytes{}}) {
    OpenMessage parsed;
    Notification e;
    REQUIRE(
        ParseOpen(Message(1, OpenBody(4, 65001, 90, 1, CapParam(Cap(65, v)))),
                  &parsed, &e)
            .ok());
    CHECK(!parsed.capabilities.four_octet_as.has_value());
    REQUIRE(parsed.capabilities.unknown.size() == 1);
    CHECK(parsed.capabilities.unknown[0].code == 65);
    CHECK(parsed.AsNumber() == 65001);
  }
}

TEST_CASE("bgp/message: BG-11 hostname / software version / LLGR bounded") {
  // FQDN hostname length 200 with 3 octets present; software version
  // length 255 with 1 octet; LLGR of 5 octets; ADD-PATH of 3 octets.
  const Bytes caps =
      Cat({Cap(73, {200, 'a', 'b', 'c'}), Cap(75, {255, 'x'}),
           Cap(71, {0, 1, 1, 0, 0}), Cap(69, {0, 1, 1}), Cap(64, {0x80})});
  OpenMessage parsed;
  Notification e;
  REQUIRE(ParseOpen(Message(1, OpenBody(4, 65001, 90, 1, CapParam(caps))),
                    &parsed, &e)
              .ok());
  CHECK(!parsed.capabilities.hostname);
  CHECK(!parsed.capabilities.software_version);
  CHECK(!parsed.capabilities.long_lived_graceful_restart);
  CHECK(parsed.capabilities.add_path.empty());
  CHECK(!parsed.capabilities.graceful_restart);
  CHECK(parsed.capabilities.unknown.size() == 5);
  // Control characters in a hostname are escaped.
  const Bytes caps2 = Cap(73, {3, 'a', '\n', 0xff, 0});
  REQUIRE(ParseOpen(Message(1, OpenBody(4, 65001, 90, 1, CapParam(caps2))),
                    &parsed, &e)
              .ok());
  CHECK(parsed.capabilities.hostname == "a\\x0a\\xff");
}

TEST_CASE("bgp/message: Negotiate computes the session parameters") {
  OpenMessage ours, theirs;
  ours.bgp_id = 1;
  theirs.bgp_id = 2;
  SetAsNumber(65001, &ours);
  SetAsNumber(65002, &theirs);
  ours.capabilities.multiprotocol = {kIpv4Unicast, kIpv6Unicast};
  ours.capabilities.add_path = {{kIpv4Unicast, false, true},
                                {kIpv6Unicast, false, true}};
  ours.capabilities.extended_message = true;
  theirs.capabilities.multiprotocol = {
      kIpv6Unicast, kIpv4Unicast, {Afi::kIpv4, Safi::kMplsVpn}};
  theirs.capabilities.add_path = {{kIpv4Unicast, true, false},
                                  {kIpv6Unicast, false, true}};
  SessionParams p = Negotiate(ours, theirs);
  CHECK(p.four_octet_as);
  CHECK(!p.extended_message);
  CHECK(!p.ibgp);
  CHECK(p.peer_as == 65002);
  CHECK(p.families == std::vector<Family>{kIpv4Unicast, kIpv6Unicast});
  CHECK(p.add_path_receive == std::vector<Family>{kIpv4Unicast});
  // No MP capability on one side: IPv4 unicast only (RFC 4760 §8).
  theirs.capabilities.multiprotocol.clear();
  theirs.capabilities.four_octet_as.reset();
  p = Negotiate(ours, theirs);
  CHECK(p.families == std::vector<Family>{kIpv4Unicast});
  CHECK(!p.four_octet_as);
}

// ---------------------------------------------------------------------------
// UPDATE.

TEST_CASE("bgp/message: UPDATE IPv4 unicast basics") {
  ParsedUpdate u =
      Parse(Update(Nlri4(16, {172, 16}), BaseAttrs(),
                   Cat({Nlri4(24, {10, 1, 2}), Nlri4(32, {10, 9, 9, 9})})));
  CHECK(u.action == UpdateAction::kOk);
  CHECK(u.issues.empty());
  REQUIRE(u.announced.size() == 2);
  CHECK(u.announced[0].key.prefix == P4(10, 1, 2, 0, 24));
  CHECK(u.announced[1].key.prefix == P4(10, 9, 9, 9, 32));
  REQUIRE(u.withdrawn.size() == 1);
  CHECK(u.withdrawn[0].key.prefix == P4(172, 16, 0, 0, 16));
  CHECK(u.attributes.origin == Origin::kIgp);
  CHECK(u.attributes.AsPathString() == "65001");
  CHECK(u.attributes.next_hop == IpAddress::V4(0xc0000201));
  // Host bits beyond the prefix length are cleared.
  ParsedUpdate h = Parse(Update({}, BaseAttrs(), Nlri4(20, {10, 1, 0xff})));
  CHECK(h.announced.at(0).key.prefix == P4(10, 1, 0xf0, 0, 20));
}

TEST_CASE("bgp/message: BG-12 withdrawn / attribute length beyond message") {
  // Withdrawn length 10 with 2 octets present: session reset.
  Bytes m = Message(2, Cat({U16(10), Bytes{8, 10}, U16(0)}));
  ParsedUpdate u = Parse(m);
  CHECK(u.action == UpdateAction::kSessionReset);
  CHECK(u.notification.code == error_code::kUpdateMessage);
  CHECK(u.notification.subcode == subcode::kMalformedAttributeList);
  // Total attribute length beyond the message.
  Bytes attrs = BaseAttrs();
  Bytes m2 = Message(2, Cat({U16(0), U16(attrs.size() + 10), attrs}));
  CHECK(Parse(m2).action == UpdateAction::kSessionReset);
  // An attribute overrunning the attribute section: NLRI still located,
  // treat-as-withdraw.
  Bytes bad = Cat({BaseAttrs(), Bytes{0xc0, 8, 20, 0, 0}});
  ParsedUpdate t = Parse(Update({}, bad, Nlri4(8, {10})));
  CHECK(t.action == UpdateAction::kTreatAsWithdraw);
  CHECK(t.announced.empty());
  REQUIRE(t.withdrawn.size() == 1);
  CHECK(HasIssue(t, UpdateProblem::kAttributeOverrun));
}

TEST_CASE("bgp/message: BG-13 extended-length flag with both encodings") {
  // Extended-length flag set on a short value: 2-octet length honoured.
  Bytes attrs = Cat({Attr(0x40, 1, {0}, /*ext=*/true), AsPath4({65001}),
                     Attr(0x40, 3, {192, 0, 2, 1}, true),
                     Attr(0xc0, 8, U32(0xfde80001), true)});
  ParsedUpdate u = Parse(Update({}, attrs, Nlri4(8, {10})));
  CHECK(u.action == UpdateAction::kOk);
  CHECK(u.attributes.communities == std::vector<uint32_t>{0xfde80001});
  // Flag clear but a 2-octet length written: the first length octet (0) is
  // the length, the second octet becomes the next attribute's flags.
  Bytes wrong = Cat({OriginAttr(), AsPath4({65001}), NextHop(192, 0, 2, 1),
                     Bytes{0xc0, 8, 0, 4}, U32(0xfde80001)});
  ParsedUpdate w = Parse(Update({}, wrong, Nlri4(8, {10})));
  CHECK(w.action != UpdateAction::kOk);
  // Flag set but a 1-octet length written: overrun, treat-as-withdraw.
  Bytes wrong2 = Cat({OriginAttr(), AsPath4({65001}), NextHop(192, 0, 2, 1),
                      Bytes{0xd0, 8, 4}, U32(0xfde80001)});
  ParsedUpdate w2 = Parse(Update({}, wrong2, Nlri4(8, {10})));
  CHECK(w2.action == UpdateAction::kTreatAsWithdraw);
  CHECK(w2.announced.empty());
}

TEST_CASE("bgp/message: BG-14 attribute flags conflicting with type") {
  // ORIGIN marked optional.
  Bytes a1 = Cat({Attr(0xc0, 1, {0}), AsPath4({65001}), NextHop(192, 0, 2, 1)});
  ParsedUpdate u1 = Parse(Update({}, a1, Nlri4(8, {10})));
  CHECK(u1.action == UpdateAction::kTreatAsWithdraw);
  CHECK(HasIssue(u1, UpdateProblem::kAttributeFlags, 1));
  // MED marked transitive.
  ParsedUpdate u2 = Parse(
      Update({}, Cat({BaseAttrs(), Attr(0xc0, 4, U32(5))}), Nlri4(8, {10})));
  CHECK(u2.action == UpdateAction::kTreatAsWithdraw);
  // Partial bit on a well-known attribute.
  Bytes a3 = Cat({Attr(0x60, 1, {0}), AsPath4({65001}), NextHop(192, 0, 2, 1)});
  CHECK(Parse(Update({}, a3, Nlri4(8, {10}))).action ==
        UpdateAction::kTreatAsWithdraw);
  // Communities marked non-transitive.
  ParsedUpdate u4 = Parse(
      Update({}, Cat({BaseAttrs(), Attr(0x80, 8, U32(1))}), Nlri4(8, {10})));
  CHECK(u4.action == UpdateAction::kTreatAsWithdraw);
  CHECK(u4.withdrawn.size() == 1);
  // Partial bit on an optional transitive attribute is fine.
  ParsedUpdate u5 = Parse(
      Update({}, Cat({BaseAttrs(), Attr(0xe0, 8, U32(1))}), Nlri4(8, {10})));
  CHECK(u5.action == UpdateAction::kOk);
}

TEST_CASE("bgp/message: BG-15 duplicate attributes") {
  // Duplicate MED: first kept.
  ParsedUpdate u = Parse(Update(
      {}, Cat({BaseAttrs(), Attr(0x80, 4, U32(5)), Attr(0x80, 4, U32(7))}),
      Nlri4(8, {10})));
  CHECK(u.action == UpdateAction::kOk);
  CHECK(u.attributes.med == 5u);
  CHECK(HasIssue(u, UpdateProblem::kDuplicateAttribute, 4));
  // Duplicate MP_UNREACH: session reset, Malformed Attribute List.
  Bytes unreach = Attr(0x80, 15, {0, 2, 1});
  ParsedUpdate r = Parse(Update({}, Cat({unreach, unreach}), {}));
  CHECK(r.action == UpdateAction::kSessionReset);
  CHECK(r.notification.subcode == subcode::kMalformedAttributeList);
  Bytes reach =
      Attr(0x80, 14, Cat({Bytes{0, 2, 1, 16}, Bytes(16, 0x20), Bytes{0}}));
  CHECK(Parse(Update({}, Cat({BaseAttrs(), reach, reach}), {})).action ==
        UpdateAction::kSessionReset);
}

TEST_CASE("bgp/message: BG-16 NLRI with only an unknown transitive attribute") {
  ParsedUpdate u =
      Parse(Update({}, Attr(0xc0, 200, {1, 2, 3}), Nlri4(24, {10, 0, 0})));
  CHECK(u.action == UpdateAction::kTreatAsWithdraw);
  CHECK(u.announced.empty());
  CHECK(u.withdrawn.size() == 1);
  CHECK(HasIssue(u, UpdateProblem::kMissingWellKnown, 1));
  CHECK(HasIssue(u, UpdateProblem::kMissingWellKnown, 2));
  CHECK(HasIssue(u, UpdateProblem::kMissingWellKnown, 3));
}

TEST_CASE("bgp/message: BG-17 MP_UNREACH plus classic NLRI, no mandatory") {
  Bytes unreach = Attr(0x80, 15, Cat({Bytes{0, 2, 1, 32}, U32(0x20010db8)}));
  ParsedUpdate u = Parse(Update({}, unreach, Nlri4(8, {10})));
  CHECK(u.action == UpdateAction::kTreatAsWithdraw);
  CHECK(u.announced.empty());
  REQUIRE(u.withdrawn.size() == 2);
  CHECK(u.withdrawn[0].key.family == kIpv6Unicast);
  CHECK(u.withdrawn[1].key.prefix == P4(10, 0, 0, 0, 8));
}

TEST_CASE("bgp/message: BG-18 attributes without NLRI and empty attributes") {
  ParsedUpdate u = Parse(Update({}, BaseAttrs(), {}));
  CHECK(u.action == UpdateAction::kOk);
  CHECK(HasIssue(u, UpdateProblem::kAttributesWithoutNlri));
  CHECK(!u.end_of_rib);
  // Zero-length attributes with NLRI: missing mandatory, treat-as-withdraw.
  ParsedUpdate z = Parse(Update({}, {}, Nlri4(8, {10})));
  CHECK(z.action == UpdateAction::kTreatAsWithdraw);
  CHECK(z.withdrawn.size() == 1);
}

TEST_CASE(
    "bgp/message: BG-19 malformed AS_PATH segments are treat-as-withdraw") {
  auto check = [](const Bytes& path_value) {
    Bytes attrs =
        Cat({OriginAttr(), Attr(0x40, 2, path_value), NextHop(192, 0, 2, 1)});
    ParsedUpdate u = Parse(Update({}, attrs, Nlri4(8, {10})));
    CHECK(u.action == UpdateAction::kTreatAsWithdraw);
    CHECK(HasIssue(u, UpdateProblem::kMalformedAsPath, 2));
    CHECK(u.attributes.as_path.empty());
  };
  check(Bytes{2, 0});                             // segment length 0
  check(Cat({Bytes{2, 3}, U32(1), U32(2)}));      // overrun
  check(Cat({Bytes{0, 1}, U32(1)}));              // type 0
  check(Cat({Bytes{5, 1}, U32(1)}));              // type 5
  check(Cat({Bytes{2, 2}, U32(65001), U32(0)}));  // AS 0 (RFC 7607)
  check(Bytes{2});                                // truncated header
  // Empty AS_PATH is valid (iBGP-originated).
  Bytes ok_attrs =
      Cat({OriginAttr(), Attr(0x40, 2, {}), NextHop(192, 0, 2, 1)});
  CHECK(Parse(Update({}, ok_attrs, Nlri4(8, {10}))).action ==
        UpdateAction::kOk);
}

TEST_CASE("bgp/message: a reused ParsedUpdate holds only the last message") {
  // Parsing reuses the storage of earlier AS path segments: each result
  // must still be exactly its own message's.
  const auto with_path = [](const Bytes& path_value) {
    return Update(
        {},
        Cat({OriginAttr(), Attr(0x40, 2, path_value), NextHop(192, 0, 2, 1)}),
        Nlri4(8, {10}));
  };
  const Bytes seq_set = Cat({Bytes{2, 3}, U32(1), U32(2), U32(3),  //
                             Bytes{1, 2}, U32(5), U32(4)});
  const Bytes one = Cat({Bytes{2, 1}, U32(7)});
  const Bytes zero_as = Cat({Bytes{2, 2}, U32(8), U32(0)});
  const std::vector<AsPathSegment> want_seq_set = {
      {AsSegmentType::kSequence, {1, 2, 3}}, {AsSegmentType::kSet, {5, 4}}};
  const std::vector<AsPathSegment> want_one = {{AsSegmentType::kSequence, {7}}};
  ParsedUpdate u;
  ParseUpdate(with_path(seq_set), Params(), &u);
  CHECK(u.attributes.as_path == want_seq_set);
  ParseUpdate(with_path(one), Params(), &u);
  CHECK(u.attributes.as_path == want_one);
  ParseUpdate(with_path(zero_as), Params(), &u);  // treat-as-withdraw
  CHECK(u.action == UpdateAction::kTreatAsWithdraw);
  CHECK(u.attributes.as_path.empty());
  ParseUpdate(with_path(seq_set), Params(), &u);
  CHECK(u.action == UpdateAction::kOk);
  CHECK(u.attributes.as_path == want_seq_set);
  ParseUpdate(with_path({}), Params(), &u);  // empty AS_PATH
  CHECK(u.attributes.as_path.empty());
  ParseUpdate(with_path(one), Params(), &u);
  CHECK(u.attributes.as_path == want_one);
  CHECK(u.announced.size() == 1);
}

TEST_CASE("bgp/message: BG-20 long AS_PATH on heap, capped") {
  // 3000 ASNs in 12 segments: needs an extended message.
  Bytes path;
  for (int s = 0; s < 12; ++s) {
    path.push_back(2);
    path.push_back(250);
    for (int i = 0; i < 250; ++i) {
      Bytes a = U32(64512 + s * 250 + i);
      path.insert(path.end(), a.begin(), a.end());
    }
  }
  Bytes attrs = Cat({OriginAttr(), Attr(0x40, 2, path), NextHop(192, 0, 2, 1)});
  Bytes m = Update({}, attrs, Nlri4(8, {10}));
  CHECK(FindMessage(m).kind == Frame::Kind::kError);
  SessionParams p = Params();
  p.extended_message = true;
  REQUIRE(FindMessage(m, p.max_message_size()).kind == Frame::Kind::kMessage);
  ParsedUpdate u = Parse(m, p);
  CHECK(u.action == UpdateAction::kOk);
  CHECK(u.attributes.as_path.size() == 12);
  CHECK(u.attributes.FirstAs() == 64512);
  CHECK(u.attributes.OriginAs() == 64512 + 2999);
  // Over the cap: treat-as-withdraw.
  MessageLimits limits;
  limits.max_as_path_asns = 1000;
  ParsedUpdate c;
  ParseUpdate(m, p, &c, limits);
  CHECK(c.action == UpdateAction::kTreatAsWithdraw);
  CHECK(HasIssue(c, UpdateProblem::kAsPathTooLong));
}

TEST_CASE("bgp/message: BG-21 AS4_PATH merge and attribute discard") {
  const SessionParams two = Params(/*four_octet=*/false);
  // AS_PATH 65001 23456 23456 65003; AS4_PATH 4200000001 4200000002 65003.
  Bytes as4 =
      Attr(0xc0, 17,
           Cat({Bytes{2, 3}, U32(4200000001u), U32(4200000002u), U32(65003)}));
  Bytes base = Cat({OriginAttr(), AsPath2({65001, kAsTrans, kAsTrans, 65003}),
                    NextHop(192, 0, 2, 1)});
  ParsedUpdate u = Parse(Update({}, Cat({base, as4}), Nlri4(8, {10})), two);
  CHECK(u.action == UpdateAction::kOk);
  CHECK(u.attributes.AsPathString() == "65001 4200000001 4200000002 65003");
  // AS4_PATH before AS_PATH: same result.
  ParsedUpdate before = Parse(
      Update(
          {},
          Cat({as4, OriginAttr(), AsPath2({65001, kAsTrans, kAsTrans, 65003}),
               NextHop(192, 0, 2, 1)}),
          Nlri4(8, {10})),
      two);
  CHECK(before.attributes.AsPathString() ==
        "65001 4200000001 4200000002 65003");
  // Malformed AS4_PATH: discarded, AS_PATH kept, route kept.
  Bytes bad4 = Attr(0xc0, 17, Cat({Bytes{2, 5}, U32(1)}));
  ParsedUpdate d = Parse(Update({}, Cat({base, bad4}), Nlri4(8, {10})), two);
  CHECK(d.action == UpdateAction::kOk);
  CHECK(d.announced.size() == 1);
  CHECK(HasIssue(d, UpdateProblem::kMalformedAs4Path, 17));
  CHECK(d.attributes.AsPathString() == "65001 23456 23456 65003");
  // AS4_PATH with a confederation segment: discarded.
  Bytes confed4 = Attr(0xc0, 17, Cat({Bytes{3, 1}, U32(4200000001u)}));
  ParsedUpdate cf =
      Parse(Update({}, Cat({base, confed4}), Nlri4(8, {10})), two);
  CHECK(cf.action == UpdateAction::kOk);
  CHECK(HasIssue(cf, UpdateProblem::kMalformedAs4Path, 17));
  // AS4_PATH longer than AS_PATH: ignored.
  Bytes long4 = Attr(
      0xc0, 17, Cat({Bytes{2, 5}, U32(1), U32(2), U32(3), U32(4), U32(5)}));
  ParsedUpdate lg = Parse(Update({}, Cat({base, long4}), Nlri4(8, {10})), two);
  CHECK(lg.attributes.AsPathString() == "65001 23456 23456 65003");
  // AGGREGATOR not AS_TRANS: AS4 attributes ignored.
  Bytes agg = Attr(0xc0, 7, Cat({U16(65009), U32(0x0a000001)}));
  ParsedUpdate ag =
      Parse(Update({}, Cat({base, as4, agg}), Nlri4(8, {10})), two);
  CHECK(ag.attributes.AsPathString() == "65001 23456 23456 65003");
  CHECK(ag.attributes.aggregator_as == 65009u);
  // AGGREGATOR AS_TRANS + AS4_AGGREGATOR: merged.
  Bytes agg_t = Attr(0xc0, 7, Cat({U16(kAsTrans), U32(0x0a000001)}));
  Bytes as4agg = Attr(0xc0, 18, Cat({U32(4200000009u), U32(0x0a000002)}));
  ParsedUpdate am =
      Parse(Update({}, Cat({base, as4, agg_t, as4agg}), Nlri4(8, {10})), two);
  CHECK(am.attributes.aggregator_as == 4200000009u);
  CHECK(am.attributes.aggregator_address == IpAddress::V4(0x0a000002));
  CHECK(am.attributes.AsPathString() == "65001 4200000001 4200000002 65003");
  // On a 4-octet session AS4_PATH is ignored.
  Bytes base4 = BaseAttrs();
  ParsedUpdate n4 = Parse(Update({}, Cat({base4, as4}), Nlri4(8, {10})));
  CHECK(n4.attributes.AsPathString() == "65001");
}

TEST_CASE("bgp/message: BG-22 ORIGIN / NEXT_HOP / MED / LOCAL_PREF errors") {
  auto taw = [](const Bytes& attrs, UpdateProblem problem, uint8_t type) {
    ParsedUpdate u = Parse(Update({}, attrs, Nlri4(8, {10})));
    CHECK(u.action == UpdateAction::kTreatAsWithdraw);
    CHECK(HasIssue(u, problem, type));
    CHECK(u.announced.empty());
    CHECK(u.withdrawn.size() == 1);
  };
  taw(Cat({Attr(0x40, 1, {0, 0}), AsPath4({1}), NextHop(192, 0, 2, 1)}),
      UpdateProblem::kAttributeLength, 1);
  taw(Cat({OriginAttr(3), AsPath4({1}), NextHop(192, 0, 2, 1)}),
      UpdateProblem::kInvalidOrigin, 1);
  taw(Cat({OriginAttr(), AsPath4({1}), Attr(0x40, 3, {192, 0, 2, 1, 0})}),
      UpdateProblem::kAttributeLength, 3);
  taw(Cat({OriginAttr(), AsPath4({1}), NextHop(0, 0, 0, 0)}),
      UpdateProblem::kInvalidNextHop, 3);
  taw(Cat({OriginAttr(), AsPath4({1}), NextHop(127, 0, 0, 1)}),
      UpdateProblem::kInvalidNextHop, 3);
  taw(Cat({OriginAttr(), AsPath4({1}), NextHop(224, 0, 0, 5)}),
      UpdateProblem::kInvalidNextHop, 3);
  taw(Cat({BaseAttrs(), Attr(0x80, 4, {0, 0, 1})}),
      UpdateProblem::kAttributeLength, 4);
  taw(Cat({BaseAttrs(), Attr(0x40, 5, {0, 0, 0, 0, 1})}),
      UpdateProblem::kAttributeLength, 5);
}

TEST_CASE(
    "bgp/message: BG-23 ATOMIC_AGGREGATE / AGGREGATOR attribute discard") {
  auto discard = [](const Bytes& extra, uint8_t type,
                    const SessionParams& p = Params()) {
    ParsedUpdate u =
        Parse(Update({}, Cat({BaseAttrs(), extra}), Nlri4(8, {10})), p);
    CHECK(u.action == UpdateAction::kOk);
    CHECK(u.announced.size() == 1);
    bool found = false;
    for (const UpdateIssue& i : u.issues) found |= i.attribute_type == type;
    CHECK(found);
    return u;
  };
  CHECK(!discard(Attr(0x40, 6, {1}), 6).attributes.atomic_aggregate);
  for (size_t len : {5, 7, 9}) {
    CHECK(!discard(Attr(0xc0, 7, Bytes(len, 1)), 7).attributes.aggregator_as);
  }
  // 6 octets is right only on a 2-octet session.
  discard(Attr(0xc0, 7, Bytes(6, 1)), 7);
  // AS 0.
  CHECK(!discard(Attr(0xc0, 7, Cat({U32(0), U32(1)})), 7)
             .attributes.aggregator_as);
  // AS4_AGGREGATOR bad length on a 2-octet session.
  SessionParams two = Params(false);
  Bytes base2 = Cat({OriginAttr(), AsPath2({65001}), NextHop(192, 0, 2, 1)});
  ParsedUpdate u = Parse(
      Update({}, Cat({base2, Attr(0xc0, 18, Bytes(7, 1))}), Nlri4(8, {10})),
      two);
  CHECK(u.action == UpdateAction::kOk);
  CHECK(HasIssue(u, UpdateProblem::kMalformedAggregator, 18));
}

TEST_CASE("bgp/message: BG-24 community lengths are treat-as-withdraw") {
  auto taw = [](const Bytes& extra) {
    ParsedUpdate u =
        Parse(Update({}, Cat({BaseAttrs(), extra}), Nlri4(8, {10})));
    CHECK(u.action == UpdateAction::kTreatAsWithdraw);
    CHECK(HasIssue(u, UpdateProblem::kMalformedCommunities));
  };
  taw(Attr(0xc0, 8, Bytes(5, 1)));
  taw(Attr(0xc0, 8, {}));
  taw(Attr(0xc0, 16, Bytes(12, 1)));
  taw(Attr(0xc0, 25, Bytes(19, 1)));
  taw(Attr(0xc0, 32, Bytes(13, 1)));
  // Well-formed ones decode.
  ParsedUpdate ok =
      Parse(Update({},
                   Cat({BaseAttrs(), Attr(0xc0, 8, Cat({U32(1), U32(2)})),
                        Attr(0xc0, 16, Cat({U32(0x00020000), U32(0xfde80001)})),
                        Attr(0xc0, 32, Cat({U32(65001), U32(1), U32(2)}))}),
                   Nlri4(8, {10})));
  CHECK(ok.action == UpdateAction::kOk);
  CHECK(ok.attributes.communities.size() == 2);
  CHECK(ok.attributes.ext_communities ==
        std::vector<uint64_t>{0x00020000fde80001ull});
  CHECK(ok.attributes.large_communities ==
        std::vector<LargeCommunity>{{65001, 1, 2}});
}

TEST_CASE("bgp/message: BG-25 ORIGINATOR_ID / CLUSTER_LIST by peer type") {
  SessionParams ibgp = Params();
  SessionParams ebgp = Params();
  ebgp.ibgp = false;
  Bytes bad = Cat({BaseAttrs(), Attr(0x80, 9, {1, 2, 3})});
  CHECK(Parse(Update({}, bad, Nlri4(8, {10})), ibgp).action ==
        UpdateAction::kTreatAsWithdraw);
  ParsedUpdate e = Parse(Update({}, bad, Nlri4(8, {10})), ebgp);
  CHECK(e.action == UpdateAction::kOk);
  CHECK(e.announced.size() == 1);
  Bytes bad_cl = Cat({BaseAttrs(), Attr(0x80, 10, {1, 2, 3, 4, 5})});
  CHECK(Parse(Update({}, bad_cl, Nlri4(8, {10})), ibgp).action ==
        UpdateAction::kTreatAsWithdraw);
  CHECK(Parse(Update({}, bad_cl, Nlri4(8, {10})), ebgp).action ==
        UpdateAction::kOk);
  // Well-formed from iBGP: kept; from eBGP: discarded.
  Bytes good = Cat({BaseAttrs(), Attr(0x80, 9, U32(7)),
                    Attr(0x80, 10, Cat({U32(8), U32(9)}))});
  ParsedUpdate gi = Parse(Update({}, good, Nlri4(8, {10})), ibgp);
  CHECK(gi.attributes.originator_id == 7u);
  CHECK(gi.attributes.cluster_list == std::vector<uint32_t>{8, 9});
  ParsedUpdate ge = Parse(Update({}, good, Nlri4(8, {10})), ebgp);
  CHECK(!ge.attributes.originator_id);
}

Bytes MpReach(const Bytes& afi_safi, const Bytes& nh, const Bytes& nlri) {
  Bytes v = afi_safi;
  v.push_back(static_cast<uint8_t>(nh.size()));
  v = Cat({v, nh, Bytes{0}, nlri});
  return Attr(0x80, 14, v);
}
Bytes V6(uint32_t first) { return Cat({U32(first), Bytes(12, 0)}); }

TEST_CASE("bgp/message: BG-26 MP_REACH next-hop length checks") {
  const Bytes v6u = {0, 2, 1};
  const Bytes nlri = {32, 0x20, 0x01, 0x0d, 0xb8};
  const Bytes attrs = Cat({OriginAttr(), AsPath4({65001})});
  // Valid: 16 and 32 octets.
  ParsedUpdate ok =
      Parse(Update({}, Cat({attrs, MpReach(v6u, V6(0x20010db8), nlri)}), {}));
  CHECK(ok.action == UpdateAction::kOk);
  REQUIRE(ok.announced.size() == 1);
  CHECK(ok.announced[0].key.family == kIpv6Unicast);
  CHECK(ok.attributes.next_hop.is_v6());
  ParsedUpdate ll = Parse(Update(
      {},
      Cat({attrs, MpReach(v6u, Cat({V6(0x20010db8), V6(0xfe800000)}), nlri)}),
      {}));
  CHECK(ll.attributes.next_hop_link_local.is_v6());
  // Invalid lengths: AFI/SAFI disable.
  for (size_t len : {0, 5, 15, 17, 24, 33}) {
    ParsedUpdate u = Parse(
        Update({}, Cat({attrs, MpReach(v6u, Bytes(len, 0x20), nlri)}), {}));
    CHECK(u.action == UpdateAction::kAfiSafiDisable);
    CHECK(u.disabled_families == std::vector<Family>{kIpv6Unicast});
    CHECK(u.announced.empty());
  }
  // Next hop length past the attribute (truncated).
  Bytes trunc = Attr(0x80, 14, {0, 2, 1, 16, 0x20, 0x01});
  CHECK(Parse(Update({}, Cat({attrs, trunc}), {})).action ==
        UpdateAction::kAfiSafiDisable);
  // AFI/SAFI cannot be read: session reset.
  ParsedUpdate r = Parse(Update({}, Cat({attrs, Attr(0x80, 14, {0, 2})}), {}));
  CHECK(r.action == UpdateAction::kSessionReset);
  CHECK(r.notification.subcode == subcode::kOptionalAttributeError);
  // VPNv4 next hop: RD + IPv4 (12); RFC 8950 IPv4 unicast with IPv6 NH.
  ParsedUpdate v4_over_v6 = Parse(Update(
      {},
      Cat({attrs, MpReach({0, 1, 1}, V6(0x20010db8), Nlri4(24, {10, 1, 2}))}),
      {}));
  CHECK(v4_over_v6.action == UpdateAction::kOk);
  REQUIRE(v4_over_v6.announced.size() == 1);
  CHECK(v4_over_v6.announced[0].key.prefix == P4(10, 1, 2, 0, 24));
  CHECK(v4_over_v6.attributes.next_hop.is_v6());
}

TEST_CASE("bgp/message: BG-27 BG-30 BG-36 unsupported families are skipped") {
  const Bytes attrs = BaseAttrs();
  // Flowspec (1/133) with a zero-length NLRI, BGP-LS (16388/71), EVPN
  // (25/70), RT constraint (1/132): skipped and counted; IPv4 NLRI kept.
  for (const Bytes& fam : {Bytes{0, 1, 133}, Bytes{0x40, 0x04, 71},
                           Bytes{0, 25, 70}, Bytes{0, 1, 132}}) {
    ParsedUpdate u = Parse(Update(
        {}, Cat({attrs, MpReach(fam, Bytes{1, 2, 3, 4}, Bytes{0, 0xff, 0xff})}),
        Nlri4(8, {10})));
    CHECK(u.action == UpdateAction::kOk);
    CHECK(HasIssue(u, UpdateProblem::kUnsupportedFamily, 14));
    CHECK(u.announced.size() == 1);
  }
  // Flowspec with no attributes at all (just MP_UNREACH): skipped.
  ParsedUpdate f = Parse(Update({}, Attr(0x80, 15, {0, 1, 133, 0}), {}));
  CHECK(f.action == UpdateAction::kOk);
  CHECK(HasIssue(f, UpdateProblem::kUnsupportedFamily, 15));
  CHECK(!f.end_of_rib);
  // A supported family that was not negotiated: skipped.
  SessionParams only_v4 = Params();
  only_v4.families = {kIpv4Unicast};
  ParsedUpdate n = Parse(
      Update({}, Cat({attrs, MpReach({0, 2, 1}, V6(0x20010db8), {0})}), {}),
      only_v4);
  CHECK(HasIssue(n, UpdateProblem::kFamilyNotNegotiated, 14));
  CHECK(n.announced.empty());
}

TEST_CASE("bgp/message: BG-28 prefix length and overrun are AFI/SAFI disable") {
  ParsedUpdate u = Parse(Update({}, BaseAttrs(), Nlri4(33, {10, 0, 0, 0, 0})));
  CHECK(u.action == UpdateAction::kAfiSafiDisable);
  CHECK(u.disabled_families == std::vector<Family>{kIpv4Unicast});
  CHECK(u.announced.empty());
  CHECK(HasIssue(u, UpdateProblem::kInvalidPrefixLength));
  // Prefix bytes past the end.
  ParsedUpdate o = Parse(Update({}, BaseAttrs(), Nlri4(24, {10, 0})));
  CHECK(o.action == UpdateAction::kAfiSafiDisable);
  // IPv6 prefix length 129 in MP_REACH.
  Bytes nlri6 = Cat({Bytes{129}, Bytes(17, 0x20)});
  ParsedUpdate v6 =
      Parse(Update({},
                   Cat({OriginAttr(), AsPath4({1}),
                        MpReach({0, 2, 1}, V6(0x20010db8), nlri6)}),
                   {}));
  CHECK(v6.action == UpdateAction::kAfiSafiDisable);
  CHECK(v6.disabled_families == std::vector<Family>{kIpv6Unicast});
  // Withdrawn field too.
  CHECK(Parse(Update(Nlri4(40, {1, 2, 3, 4, 5}), {}, {})).action ==
        UpdateAction::kAfiSafiDisable);
}

TEST_CASE("bgp/message: BG-29 labeled unicast and VPN NLRI") {
  const Family lu4{Afi::kIpv4, Safi::kLabeledUnicast};
  const Family vpn4{Afi::kIpv4, Safi::kMplsVpn};
  const Bytes attrs = Cat({OriginAttr(), AsPath4({65001})});
  // Label 100 with BoS, 10.1.0.0/16.
  Bytes lu_ok = {24 + 16, 0x00, 0x06, 0x41, 10, 1};
  // Two labels, BoS on the second.
  Bytes lu_two = {48 + 16, 0x00, 0x06, 0x40, 0x00, 0x0c, 0x81, 10, 2};
  // No BoS anywhere: rejected.
  Bytes lu_bad = {24 + 8, 0x00, 0x06, 0x40, 10};
  ParsedUpdate u =
      Parse(Update({},
                   Cat({attrs, MpReach({0, 1, 4}, {192, 0, 2, 1},
                                       Cat({lu_ok, lu_two, lu_bad}))}),
                   {}));
  CHECK(u.action == UpdateAction::kOk);
  REQUIRE(u.announced.size() == 2);
  CHECK(u.announced[0].key.family == lu4);
  CHECK(u.announced[0].mpls_label == 100u);
  CHECK(u.announced[0].key.prefix == P4(10, 1, 0, 0, 16));
  CHECK(u.announced[1].mpls_label == 100u);
  CHECK(u.announced[1].key.prefix == P4(10, 2, 0, 0, 16));
  CHECK(HasIssue(u, UpdateProblem::kInvalidLabelStack));
  // VPN: label + RD 0:65000:1 + 10.3.0.0/16.
  Bytes rd = Cat({U16(0), U16(65000), U32(1)});
  Bytes vpn_ok = Cat({Bytes{24 + 64 + 16, 0x00, 0x01, 0x01}, rd, Bytes{10, 3}});
  // VPN NLRI shorter than the RD.
  Bytes vpn_short = {24 + 32, 0x00, 0x01, 0x01, 0, 0, 0, 1};
  ParsedUpdate v = Parse(Update(
      {},
      Cat({attrs, MpReach({0, 1, 128}, Cat({Bytes(8, 0), Bytes{192, 0, 2, 1}}),
                          Cat({vpn_ok, vpn_short}))}),
      {}));
  CHECK(v.action == UpdateAction::kOk);
  REQUIRE(v.announced.size() == 1);
  CHECK(v.announced[0].key.family == vpn4);
  CHECK(v.announced[0].key.rd.ToString() == "0:65000:1");
  CHECK(v.announced[0].mpls_label == 16u);
  CHECK(v.attributes.next_hop == IpAddress::V4(0xc0000201));
  CHECK(HasIssue(v, UpdateProblem::kInvalidLabelStack));
}

TEST_CASE("bgp/message: MessageLimits::check_next_hop off (BMP)") {
  // A BMP station records what the router holds (bmp/bmp.cc turns the
  // checks off): missing and martian NEXT_HOP, and a VPN next hop without
  // its RD, are recorded but keep the route.
  MessageLimits lenient;
  lenient.check_next_hop = false;
  auto parse = [](const Bytes& m, const MessageLimits& l) {
    ParsedUpdate u;
    ParseUpdate(m, Params(), &u, l);
    return u;
  };
  const Bytes attrs = Cat({OriginAttr(), AsPath4({65001})});
  const Bytes missing = Update({}, attrs, Nlri4(8, {10}));
  CHECK(parse(missing, {}).action == UpdateAction::kTreatAsWithdraw);
  ParsedUpdate m = parse(missing, lenient);
  CHECK(m.action == UpdateAction::kOk);
  CHECK(m.announced.size() == 1);
  CHECK(HasIssue(m, UpdateProblem::kMissingWellKnown, 3));
  const Bytes martian =
      Update({}, Cat({attrs, Attr(0x40, 3, {0, 0, 0, 0})}), Nlri4(8, {10}));
  CHECK(parse(martian, {}).action == UpdateAction::kTreatAsWithdraw);
  ParsedUpdate z = parse(martian, lenient);
  CHECK(z.action == UpdateAction::kOk);
  CHECK(z.announced.size() == 1);
  CHECK(HasIssue(z, UpdateProblem::kInvalidNextHop, 3));
  // VPNv4 with a bare 16-octet IPv6 next hop (Cisco IOS-XR over BMP).
  Bytes rd = Cat({U16(0), U16(65000), U32(1)});
  Bytes vpn = Cat({Bytes{24 + 64 + 16, 0x00, 0x01, 0x01}, rd, Bytes{10, 3}});
  const Bytes bare =
      Update({}, Cat({attrs, MpReach({0, 1, 128}, V6(0x20010db8), vpn)}), {});
  CHECK(parse(bare, {}).action == UpdateAction::kAfiSafiDisable);
  ParsedUpdate b = parse(bare, lenient);
  CHECK(b.action == UpdateAction::kOk);
  REQUIRE(b.announced.size() == 1);
  CHECK(b.announced[0].key.rd.ToString() == "0:65000:1");
  CHECK(b.attributes.next_hop.ToString() == "2001:db8::");
  CHECK(HasIssue(b, UpdateProblem::kMalformedMpReach, 14));
}

TEST_CASE(
    "bgp/message: BG-31 tunnel encapsulation TLV overrun is "
    "treat-as-withdraw") {
  // TLV type 8 (VXLAN) length 10 with 4 octets.
  Bytes bad = Attr(0xc0, 23, Cat({U16(8), U16(10), U32(1)}));
  ParsedUpdate u = Parse(Update({}, Cat({BaseAttrs(), bad}), Nlri4(8, {10})));
  CHECK(u.action == UpdateAction::kTreatAsWithdraw);
  CHECK(HasIssue(u, UpdateProblem::kMalformedTlvAttribute, 23));
  // Sub-TLV overrun inside a well-sized TLV.
  Bytes bad_sub = Attr(0xc0, 23, Cat({U16(8), U16(3), Bytes{1, 5, 0}}));
  CHECK(Parse(Update({}, Cat({BaseAttrs(), bad_sub}), Nlri4(8, {10}))).action ==
        UpdateAction::kTreatAsWithdraw);
  // Well-formed: kept opaque.
  Bytes good = Attr(0xc0, 23, Cat({U16(8), U16(4), Bytes{1, 2, 0, 0}}));
  ParsedUpdate g = Parse(Update({}, Cat({BaseAttrs(), good}), Nlri4(8, {10})));
  CHECK(g.action == UpdateAction::kOk);
  REQUIRE(g.attributes.unknown.size() == 1);
  CHECK(g.attributes.unknown[0].type == 23);
}

TEST_CASE("bgp/message: BG-32 Prefix-SID malformed is attribute discard") {
  for (const Bytes& attr :
       {Attr(0xc0, 40, Bytes(7, 0)),                            // all zero
        Attr(0xc0, 40, Cat({Bytes{1}, U16(20), Bytes(4, 0)})),  // overrun
        Attr(0x80, 40,
             Cat({Bytes{1}, U16(7), Bytes(7, 0)}))}) {  // non-transitive
    ParsedUpdate u =
        Parse(Update({}, Cat({BaseAttrs(), attr}), Nlri4(8, {10})));
    CHECK(u.action == UpdateAction::kOk);
    CHECK(u.announced.size() == 1);
    CHECK(u.attributes.unknown.empty());
    CHECK(!u.issues.empty());
  }
  ParsedUpdate g = Parse(Update(
      {},
      Cat({BaseAttrs(), Attr(0xc0, 40, Cat({Bytes{1}, U16(7), Bytes(7, 0)}))}),
      Nlri4(8, {10})));
  CHECK(g.attributes.unknown.size() == 1);
}

TEST_CASE("bgp/message: BG-33 OTC wrong length or zero is treat-as-withdraw") {
  for (const Bytes& attr :
       {Attr(0xc0, 35, {0, 0, 1}), Attr(0xc0, 35, U32(0))}) {
    ParsedUpdate u =
        Parse(Update({}, Cat({BaseAttrs(), attr}), Nlri4(8, {10})));
    CHECK(u.action == UpdateAction::kTreatAsWithdraw);
    CHECK(HasIssue(u, UpdateProblem::kInvalidOtc, 35));
  }
  ParsedUpdate ok = Parse(Update(
      {}, Cat({BaseAttrs(), Attr(0xc0, 35, U32(65001))}), Nlri4(8, {10})));
  CHECK(ok.attributes.otc == 65001u);
}

TEST_CASE(
    "bgp/message: BG-34 unknown optional transitive attributes are opaque and "
    "capped") {
  ParsedUpdate u = Parse(Update(
      {}, Cat({BaseAttrs(), Attr(0xc0, 255, {1, 2, 3})}), Nlri4(8, {10})));
  CHECK(u.action == UpdateAction::kOk);
  REQUIRE(u.attributes.unknown.size() == 1);
  CHECK(u.attributes.unknown[0].type == 255);
  CHECK(u.attributes.unknown[0].value == Bytes{1, 2, 3});
  // Near 64 KiB value in an extended message: dropped, counted, route kept.
  SessionParams p = Params();
  p.extended_message = true;
  Bytes big = Update({}, Cat({BaseAttrs(), Attr(0xc0, 255, Bytes(65000, 7))}),
                     Nlri4(8, {10}));
  REQUIRE(FindMessage(big, p.max_message_size()).kind == Frame::Kind::kMessage);
  ParsedUpdate b = Parse(big, p);
  CHECK(b.action == UpdateAction::kOk);
  CHECK(b.announced.size() == 1);
  CHECK(b.attributes.unknown.empty());
  CHECK(HasIssue(b, UpdateProblem::kAttributeTooLarge, 255));
  // Unknown optional non-transitive: ignored. Unknown well-known: reset.
  ParsedUpdate nt = Parse(
      Update({}, Cat({BaseAttrs(), Attr(0x80, 254, {1})}), Nlri4(8, {10})));
  CHECK(nt.attributes.unknown.empty());
  ParsedUpdate wk = Parse(
      Update({}, Cat({BaseAttrs(), Attr(0x40, 254, {1})}), Nlri4(8, {10})));
  CHECK(wk.action == UpdateAction::kSessionReset);
  CHECK(wk.notification.subcode == subcode::kUnrecognizedWellKnownAttribute);
  CHECK(wk.notification.data == Bytes{0x40, 254, 1, 1});
}

TEST_CASE("bgp/message: BG-35 nested ATTR_SET is kept opaque") {
  // ATTR_SET containing ATTR_SET containing ... 40 levels.
  Bytes inner = Cat({U32(65001), OriginAttr()});
  for (int i = 0; i < 40; ++i) {
    inner = Cat({U32(65001), Attr(0xc0, 128, inner)});
  }
  ParsedUpdate u = Parse(
      Update({}, Cat({BaseAttrs(), Attr(0xc0, 128, inner)}), Nlri4(8, {10})));
  CHECK(u.action == UpdateAction::kOk);
  REQUIRE(u.attributes.unknown.size() == 1);
  CHECK(u.attributes.unknown[0].type == 128);
  // Shorter than its origin AS: discarded.
  ParsedUpdate s = Parse(
      Update({}, Cat({BaseAttrs(), Attr(0xc0, 128, {0, 1})}), Nlri4(8, {10})));
  CHECK(s.action == UpdateAction::kOk);
  CHECK(s.attributes.unknown.empty());
}

TEST_CASE(
    "bgp/message: BG-36 AIGP / BGP-LS / PMSI TLV overruns are discarded") {
  auto discard = [](const Bytes& attr) {
    ParsedUpdate u =
        Parse(Update({}, Cat({BaseAttrs(), attr}), Nlri4(8, {10})));
    CHECK(u.action == UpdateAction::kOk);
    CHECK(u.announced.size() == 1);
    CHECK(HasIssue(u, UpdateProblem::kMalformedTlvAttribute));
    return u;
  };
  CHECK(!discard(Attr(0x80, 26, Cat({Bytes{1}, U16(20), Bytes(8, 0)})))
             .attributes.aigp);                                // overrun
  discard(Attr(0x80, 26, Cat({Bytes{1}, U16(2)})));            // length < 3
  discard(Attr(0x80, 26, Cat({Bytes{1}, U16(7), U32(1)})));    // AIGP TLV != 11
  discard(Attr(0x80, 29, Cat({U16(1024), U16(10), U32(1)})));  // BGP-LS
  discard(Attr(0xc0, 22, {0, 1}));                             // PMSI short
  ParsedUpdate ok = Parse(
      Update({},
             Cat({BaseAttrs(),
                  Attr(0x80, 26, Cat({Bytes{1}, U16(11), U32(0), U32(77)}))}),
             Nlri4(8, {10})));
  CHECK(ok.attributes.aigp == 77u);
}

TEST_CASE(
    "bgp/message: BG-37 ADD-PATH path ids strictly per negotiated family") {
  SessionParams ap = Params();
  ap.add_path_receive = {kIpv4Unicast};
  // With path id 7: 10.0.0.0/8.
  Bytes with_id = Cat({U32(7), Nlri4(8, {10})});
  ParsedUpdate u = Parse(Update({}, BaseAttrs(), with_id), ap);
  CHECK(u.action == UpdateAction::kOk);
  REQUIRE(u.announced.size() == 1);
  CHECK(u.announced[0].key.path_id == 7);
  CHECK(u.announced[0].key.prefix == P4(10, 0, 0, 0, 8));
  // The same bytes without ADD-PATH negotiated: 0.0.0.0/0, then a /0 ...
  // then length 7 with too few octets -- never silently a good route.
  ParsedUpdate n = Parse(Update({}, BaseAttrs(), with_id));
  CHECK(n.action == UpdateAction::kAfiSafiDisable);
  // Negotiated but absent: the prefix bytes are read as a path id.
  ParsedUpdate a = Parse(Update({}, BaseAttrs(), Nlri4(24, {10, 1, 2})), ap);
  CHECK(a.action == UpdateAction::kAfiSafiDisable);
  // Several paths: each NLRI keeps its own id; a path id whose prefix
  // octets are cut short disables the family.
  ParsedUpdate two = Parse(
      Update({}, BaseAttrs(),
             Cat({U32(1), Nlri4(24, {10, 1, 2}), U32(2), Nlri4(24, {10, 1, 2}),
                  U32(0xfffffffe), Nlri4(32, {192, 0, 2, 1})})),
      ap);
  CHECK(two.action == UpdateAction::kOk);
  REQUIRE(two.announced.size() == 3);
  CHECK(two.announced[0].key.path_id == 1);
  CHECK(two.announced[1].key.path_id == 2);
  CHECK(two.announced[1].key.prefix == P4(10, 1, 2, 0, 24));
  CHECK(two.announced[2].key.path_id == 0xfffffffe);
  CHECK(two.announced[2].key.prefix == P4(192, 0, 2, 1, 32));
  CHECK(
      Parse(Update({}, BaseAttrs(), Cat({U32(7), Bytes{24, 10}})), ap).action ==
      UpdateAction::kAfiSafiDisable);
  // Only for the negotiated family: IPv6 in the same session has none.
  Bytes nlri6 = {32, 0x20, 0x01, 0x0d, 0xb8};
  ParsedUpdate v6 =
      Parse(Update({},
                   Cat({OriginAttr(), AsPath4({1}),
                        MpReach({0, 2, 1}, V6(0x20010db8), nlri6)}),
                   {}),
            ap);
  CHECK(v6.action == UpdateAction::kOk);
  CHECK(v6.announced.at(0).key.path_id == 0);
}

TEST_CASE("bgp/message: BG-38 End-of-RIB only when the UPDATE is exactly one") {
  ParsedUpdate e4 = Parse(UpdateBuilder::EndOfRib(kIpv4Unicast));
  CHECK(e4.end_of_rib == kIpv4Unicast);
  ParsedUpdate e6 = Parse(UpdateBuilder::EndOfRib(kIpv6Unicast));
  CHECK(e6.end_of_rib == kIpv6Unicast);
  CHECK(e6.action == UpdateAction::kOk);
  // MP_UNREACH empty + another attribute: not EoR.
  ParsedUpdate x = Parse(
      Update({}, Cat({Attr(0x80, 15, {0, 2, 1}), Attr(0x40, 1, {9})}), {}));
  CHECK(!x.end_of_rib);
  // MP_UNREACH empty with a malformed flag: not EoR.
  ParsedUpdate y = Parse(Update({}, Attr(0xc0, 15, {0, 2, 1}), {}));
  CHECK(!y.end_of_rib);
  // MP_UNREACH empty + classic NLRI: not EoR.
  ParsedUpdate z = Parse(Update({}, Attr(0x80, 15, {0, 2, 1}), Nlri4(8, {10})));
  CHECK(!z.end_of_rib);
  // MP_UNREACH with a trailing octet: not EoR.
  ParsedUpdate w = Parse(Update({}, Attr(0x80, 15, {0, 2, 1, 0}), {}));
  CHECK(!w.end_of_rib);
}

// ---------------------------------------------------------------------------
// NOTIFICATION, ROUTE-REFRESH.

TEST_CASE("bgp/message: BG-39 shutdown communication bounded and escaped") {
  Notification n;
  // Length 20 with 5 octets of text.
  Bytes m = Message(3, Cat({Bytes{6, 2, 20}, Bytes{'h', 'e', 'l', 'l', 'o'}}));
  REQUIRE(ParseNotification(m, &n).ok());
  CHECK(n.shutdown_communication_malformed);
  CHECK(n.shutdown_communication.empty());
  // Non-UTF-8 and control characters escaped; valid UTF-8 kept.
  Bytes text = {'o', 'k', 0x1b, '[', 0xc3, 0xa9, 0xff, '\\'};
  Bytes m2 =
      Message(3, Cat({Bytes{6, 2, static_cast<uint8_t>(text.size())}, text}));
  REQUIRE(ParseNotification(m2, &n).ok());
  CHECK(n.shutdown_communication == "ok\\x1b[\xc3\xa9\\xff\\\\");
  // Huge data: copy bounded.
  Bytes huge = Message(3, Cat({Bytes{6, 2, 255}, Bytes(60000, 'a')}));
  REQUIRE(ParseNotification(huge, &n).ok());
  CHECK(n.data.size() == MessageLimits().max_notification_data);
  CHECK(n.shutdown_communication.size() == 255);
  // Encoder round trip, truncated at 255 octets on a UTF-8 boundary.
  std::string long_text(254, 'x');
  long_text += "\xc3\xa9";
  Notification s = AdministrativeShutdown(long_text);
  CHECK(s.data[0] == 254);
  Bytes wire;
  AppendNotification(s, &wire);
  REQUIRE(ParseNotification(wire, &n).ok());
  CHECK(n.shutdown_communication == std::string(254, 'x'));
  CHECK(n.ToString().find("Administrative Shutdown") != std::string::npos);
  // RFC 8538 hard reset carrying a shutdown.
  Bytes hr = Message(3, Bytes{6, 9, 6, 2, 2, 'h', 'i'});
  REQUIRE(ParseNotification(hr, &n).ok());
  CHECK(n.hard_reset_code == 6);
  CHECK(n.hard_reset_subcode == 2);
  CHECK(n.shutdown_communication == "hi");
  // Shorter than 21 octets.
  CHECK(!ParseNotification(Message(3, Bytes{6}), &n).ok());
}

TEST_CASE("bgp/message: BG-9 ROUTE-REFRESH and ORF lengths") {
  RouteRefresh rr;
  Notification e;
  REQUIRE(ParseRouteRefresh(Message(5, {0, 1, 0, 1}), &rr, &e).ok());
  CHECK(rr.afi == 1);
  CHECK(rr.safi == 1);
  // BoRR longer than 23: error 7/1.
  CHECK(!ParseRouteRefresh(Message(5, {0, 1, 1, 1, 0}), &rr, &e).ok());
  CHECK(e.code == error_code::kRouteRefresh);
  CHECK(e.subcode == subcode::kInvalidRouteRefreshLength);
  REQUIRE(ParseRouteRefresh(Message(5, {0, 2, 2, 1}), &rr, &e).ok());
  CHECK(rr.subtype == 2);
  // ORF: when-to-refresh 1, one ORF (type 64, length 3) ok.
  REQUIRE(
      ParseRouteRefresh(Message(5, {0, 1, 0, 1, 1, 64, 0, 3, 1, 2, 3}), &rr, &e)
          .ok());
  CHECK(rr.orf_entry_count == 1);
  // ORF length past the message, ORF header cut.
  CHECK(!ParseRouteRefresh(Message(5, {0, 1, 0, 1, 1, 64, 0, 30, 1}), &rr, &e)
             .ok());
  CHECK(!ParseRouteRefresh(Message(5, {0, 1, 0, 1, 1, 64, 0}), &rr, &e).ok());
  Bytes wire;
  RouteRefresh req;
  req.afi = 2;
  req.safi = 128;
  AppendRouteRefresh(req, &wire);
  REQUIRE(ParseRouteRefresh(wire, &rr, &e).ok());
  CHECK(rr.afi == 2);
  CHECK(rr.safi == 128);
}

TEST_CASE("bgp/message: KEEPALIVE and NOTIFICATION encoders") {
  Bytes k;
  AppendKeepalive(&k);
  CHECK(k.size() == 19);
  Frame f = FindMessage(k);
  CHECK(f.type == MessageType::kKeepalive);
  Notification n;
  n.code = 4;
  Bytes w;
  AppendNotification(n, &w);
  Notification back;
  REQUIRE(ParseNotification(w, &back).ok());
  CHECK(back.code == 4);
  CHECK(back.ToString() == "Hold Timer Expired (4/0)");
}

// ---------------------------------------------------------------------------
// UpdateBuilder round trips.

Nlri Route(Family f, Prefix p, uint32_t path_id = 0) {
  Nlri n;
  n.key.family = f;
  n.key.prefix = p;
  n.key.path_id = path_id;
  return n;
}

PathAttributes SampleAttributes() {
  PathAttributes a;
  a.origin = Origin::kIncomplete;
  a.as_path = {{AsSegmentType::kSequence, {65001, 4200000000u}},
               {AsSegmentType::kSet, {65010, 65011}}};
  a.next_hop = IpAddress::V4(0xc0000201);
  a.med = 10;
  a.local_pref = 200;
  a.atomic_aggregate = true;
  a.aggregator_as = 65001;
  a.aggregator_address = IpAddress::V4(0x0a000001);
  a.communities = {0xfde80001};
  a.ext_communities = {0x0002fde800000001ull};
  a.large_communities = {{65001, 2, 3}};
  a.originator_id = 0x0a000009;
  a.cluster_list = {1, 2};
  a.otc = 65001;
  a.aigp = 1000;
  a.unknown = {{0xc0, 250, {9, 9}}};
  return a;
}

TEST_CASE(
    "bgp/message: UpdateBuilder round trips IPv4 unicast with every "
    "attribute") {
  for (bool four : {true, false}) {
    SessionParams p = Params(four);
    PathAttributes a = SampleAttributes();
    // RFC 6793 §4.2.3: AS4_PATH is only merged when AGGREGATOR is absent or
    // AS_TRANS, so use a 4-octet aggregator.
    a.aggregator_as = 4200000001u;
    std::vector<Nlri> ann = {Route(kIpv4Unicast, P4(10, 1, 0, 0, 16)),
                             Route(kIpv4Unicast, P4(10, 2, 3, 0, 24))};
    std::vector<Nlri> wd = {Route(kIpv4Unicast, P4(172, 16, 0, 0, 12))};
    auto wire = UpdateBuilder(p).Build(a, ann, wd);
    REQUIRE(wire.ok());
    ParsedUpdate u = Parse(*wire, p);
    INFO("four_octet " << four);
    CHECK(u.action == UpdateAction::kOk);
    CHECK(u.issues.empty());
    CHECK(u.announced == ann);
    CHECK(u.withdrawn == wd);
    CHECK(u.attributes == a);
    CHECK(u.attributes.AsPathString() == "65001 4200000000 {65010,65011}");
  }
}

TEST_CASE("bgp/message: UpdateBuilder round trips MP families with ADD-PATH") {
  SessionParams p = Params();
  p.add_path_receive = {kIpv6Unicast, {Afi::kIpv4, Safi::kMplsVpn}};
  UpdateBuilder b(p);
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = {{AsSegmentType::kSequence, {65001}}};
  a.next_hop = IpAddress::Parse("2001:db8::1").value();
  a.next_hop_link_local = IpAddress::Parse("fe80::1").value();
  Prefix p6{IpAddress::Parse("2001:db8:1::").value(), 48};
  std::vector<Nlri> ann = {Route(kIpv6Unicast, p6, 1),
                           Route(kIpv6Unicast, p6, 2)};
  std::vector<Nlri> wd = {
      Route(kIpv6Unicast, {IpAddress::Parse("2001:db8:2::").value(), 64}, 3)};
  auto wire = b.Build(a, ann, wd);
  REQUIRE(wire.ok());
  ParsedUpdate u = Parse(*wire, p);
  CHECK(u.action == UpdateAction::kOk);
  CHECK(u.announced == ann);
  CHECK(u.withdrawn == wd);
  CHECK(u.attributes.next_hop == a.next_hop);
  CHECK(u.attributes.next_hop_link_local == a.next_hop_link_local);

  // VPNv4 with labels and RDs, ADD-PATH.
  const Family vpn4{Afi::kIpv4, Safi::kMplsVpn};
  Nlri v = Route(vpn4, P4(10, 9, 0, 0, 16), 5);
  v.mpls_label = 24001;
  v.key.rd.bytes = {0, 1, 192, 0, 2, 1, 0, 7};
  PathAttributes av;
  av.origin = Origin::kIgp;
  av.next_hop = IpAddress::V4(0xc0000201);
  auto vw = b.Build(av, std::vector<Nlri>{v}, {});
  REQUIRE(vw.ok());
  ParsedUpdate vu = Parse(*vw, p);
  CHECK(vu.action == UpdateAction::kOk);
  REQUIRE(vu.announced.size() == 1);
  CHECK(vu.announced[0] == v);
  CHECK(vu.announced[0].key.rd.ToString() == "1:192.0.2.1:7");

  // Labeled unicast IPv6.
  const Family lu6{Afi::kIpv6, Safi::kLabeledUnicast};
  Nlri l = Route(lu6, p6);
  l.mpls_label = 3;
  auto lw = b.Build(a, std::vector<Nlri>{l}, {});
  REQUIRE(lw.ok());
  ParsedUpdate lu = Parse(*lw, p);
  REQUIRE(lu.announced.size() == 1);
  CHECK(lu.announced[0] == l);

  // RFC 8950: IPv4 unicast NLRI with an IPv6 next hop go in MP_REACH.
  auto ew = b.Build(
      a, std::vector<Nlri>{Route(kIpv4Unicast, P4(10, 0, 0, 0, 8))}, {});
  REQUIRE(ew.ok());
  ParsedUpdate eu = Parse(*ew, p);
  CHECK(eu.action == UpdateAction::kOk);
  CHECK(eu.attributes.next_hop == a.next_hop);
  CHECK(eu.announced.size() == 1);
}

TEST_CASE(
    "bgp/message: BG-40 UpdateBuilder refuses messages over the maximum size") {
  SessionParams p = Params();
  std::vector<Nlri> many;
  for (uint32_t i = 0; i < 1200; ++i) {
    many.push_back(
        Route(kIpv4Unicast, {IpAddress::V4(0x0a000000 | (i << 8)), 24}));
  }
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.next_hop = IpAddress::V4(0xc0000201);
  auto r = UpdateBuilder(p).Build(a, many, {});
  CHECK(!r.ok());
  CHECK(r.status().code() == StatusCode::kResourceExhausted);
  p.extended_message = true;
  CHECK(UpdateBuilder(p).Build(a, many, {}).ok());
  // Mixed families are rejected.
  std::vector<Nlri> mixed = {
      many[0],
      Route(kIpv6Unicast, {IpAddress::Parse("2001:db8::").value(), 32})};
  CHECK(!UpdateBuilder(p).Build(a, mixed, {}).ok());
}

TEST_CASE("bgp/message: reused ParsedUpdate is cleared between messages") {
  ParsedUpdate u;
  SessionParams p = Params();
  ParseUpdate(
      Update({}, Cat({BaseAttrs(), Attr(0x80, 4, U32(5))}), Nlri4(8, {10})), p,
      &u);
  CHECK(u.attributes.med == 5u);
  ParseUpdate(UpdateBuilder::EndOfRib(kIpv4Unicast), p, &u);
  CHECK(!u.attributes.med);
  CHECK(u.announced.empty());
  CHECK(u.end_of_rib == kIpv4Unicast);
}

// ---------------------------------------------------------------------------
// Shared value types' text forms.

TEST_CASE("bgp/path_attributes: route distinguisher and AS path text") {
  RouteDistinguisher rd;
  CHECK(!rd.is_set());
  rd.bytes = {0, 0, 0xfd, 0xe8, 0, 0, 0, 1};
  CHECK(rd.is_set());
  CHECK(rd.ToString() == "0:65000:1");
  rd.bytes = {0, 1, 192, 0, 2, 1, 0, 1};
  CHECK(rd.ToString() == "1:192.0.2.1:1");
  rd.bytes = {0, 2, 0xfa, 0x56, 0xea, 0x00, 0, 1};
  CHECK(rd.ToString() == "2:4200000000:1");
  PathAttributes a;
  CHECK(a.FirstAs() == 0);
  CHECK(a.OriginAs() == 0);
  CHECK(a.AsPathString().empty());
  a.as_path = {{AsSegmentType::kConfedSequence, {65100, 65101}},
               {AsSegmentType::kConfedSet, {65102, 65103}},
               {AsSegmentType::kSequence, {64496, 64497}},
               {AsSegmentType::kSet, {64498, 64499}}};
  CHECK(a.AsPathString() ==
        "(65100 65101) [65102,65103] 64496 64497 {64498,64499}");
  CHECK(a.FirstAs() == 64496);
  CHECK(a.OriginAs() == 0);  // AS_SET at the end
  a.as_path.pop_back();
  CHECK(a.OriginAs() == 64497);
  CHECK(Family{Afi::kIpv6, Safi::kMplsVpn}.ToString() == "ipv6 mpls-vpn");
  CHECK(kIpv4Unicast.ToString() == "ipv4 unicast");
}

}  // namespace
}  // namespace flowacct::bgp
