// bgp_peer_src_as_map, bgp_src_local_pref_map, bgp_src_med_map: rows,
// errors with file:line, matching on the exporter, interfaces, VLAN, MAC
// and the source route, first match wins, `bgp` rows.

#include "flowacct/enrich/bgp_source_map.h"

#include <string>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

FlowRecord From(const char* exporter, uint32_t in = 0, uint32_t out = 0) {
  FlowRecord r;
  r.exporter = Ip(exporter);
  r.in_iface = in;
  r.out_iface = out;
  return r;
}

BgpSourceRoute RouteVia(const char* next_hop, uint32_t first_as) {
  BgpSourceRoute route;
  route.found = true;
  route.next_hop = Ip(next_hop);
  route.first_as = first_as;
  return route;
}

const BgpSourceRoute kNoRoute;

BgpSourceValue Value(uint32_t v) { return {false, v}; }
const BgpSourceValue kFromBgp{true, 0};

std::shared_ptr<const BgpSourceMap> MustLoad(const char* text) {
  auto map = BgpSourceMap::Load(text, "peers.map");
  INFO(map.status().message());
  REQUIRE(map.ok());
  return *map;
}

std::string ErrorOf(const char* text, BgpSourceMapOptions options = {}) {
  auto map = BgpSourceMap::Load(text, "peers.map", options);
  REQUIRE_FALSE(map.ok());
  return std::string(map.status().message());
}

TEST_CASE("bgp_source_map: the example of the header") {
  auto map = MustLoad(
      "! private peering with AS 12345 on router 192.0.2.1, ifIndex 7\n"
      "id=12345  ip=192.0.2.1    in=7\n"
      "id=34567  ip=192.0.2.2    in=9  bgp_nexthop=198.51.100.1\n"
      "id=45678  ip=192.0.2.2    in=9  peer_dst_as=64510\n"
      "id=64999  ip=192.0.2.2    in=9\n"
      "id=56789  ip=192.0.2.2    in=9  src_mac=00:11:22:33:44:55 vlan=100\n"
      "id=bgp    ip=10.0.0.0/8\n");
  CHECK(map->size() == 6);
  CHECK(map->needs_route());
  CHECK(map->Lookup(From("192.0.2.1", 7), kNoRoute) == Value(12345));
  CHECK_FALSE(map->Lookup(From("192.0.2.1", 8), kNoRoute));
  CHECK(map->Lookup(From("192.0.2.2", 9), RouteVia("198.51.100.1", 1)) ==
        Value(34567));
  CHECK(map->Lookup(From("192.0.2.2", 9), RouteVia("198.51.100.2", 64510)) ==
        Value(45678));
  // Neither next hop nor neighbour AS: the catch-all of the port, which
  // shadows the src_mac row after it (first match wins).
  CHECK(map->Lookup(From("192.0.2.2", 9), RouteVia("198.51.100.2", 1)) ==
        Value(64999));
  CHECK(map->Lookup(From("192.0.2.2", 9), kNoRoute) == Value(64999));
  CHECK(map->Lookup(From("10.1.2.3", 1), kNoRoute) == kFromBgp);
  CHECK_FALSE(map->Lookup(From("11.0.0.1", 9), kNoRoute));
}

TEST_CASE("bgp_source_map: ip prefixes, in and out, negation") {
  auto map = MustLoad(
      "id=1 ip=10.0.0.1 in=3 out=4\n"
      "id=2 ip=10.0.0.0/24 in=-3\n"
      "id=3 ip=2001:db8::/32 out=-0\n"
      "id=4 ip=0.0.0.0/0\n");
  CHECK_FALSE(map->needs_route());
  CHECK(map->Lookup(From("10.0.0.1", 3, 4), kNoRoute) == Value(1));
  CHECK(map->Lookup(From("10.0.0.1", 3, 5), kNoRoute) == Value(4));
  CHECK(map->Lookup(From("10.0.0.9", 2), kNoRoute) == Value(2));
  CHECK(map->Lookup(From("10.0.0.9", 3), kNoRoute) == Value(4));
  CHECK(map->Lookup(From("2001:db8::1", 0, 7), kNoRoute) == Value(3));
  CHECK_FALSE(map->Lookup(From("2001:db8::1", 0, 0), kNoRoute));
  CHECK_FALSE(map->Lookup(From("2001:db9::1"), kNoRoute));
  // An IPv4-mapped exporter (a dual-stack socket) is its IPv4 address.
  CHECK(map->Lookup(From("::ffff:10.0.0.1", 3, 4), kNoRoute) == Value(1));
}

TEST_CASE("bgp_source_map: bgp_nexthop and peer_dst_as need a route") {
  auto map = MustLoad(
      "id=10 ip=0.0.0.0/0 bgp_nexthop=192.0.2.1\n"
      "id=20 ip=0.0.0.0/0 bgp_nexthop=2001:db8::1\n"
      "id=30 ip=0.0.0.0/0 peer_dst_as=64500\n"
      "id=40 ip=0.0.0.0/0 peer_dst_as=0\n");
  CHECK(map->needs_route());
  const FlowRecord r = From("10.0.0.1");
  CHECK(map->Lookup(r, RouteVia("192.0.2.1", 64500)) == Value(10));
  CHECK(map->Lookup(r, RouteVia("::ffff:192.0.2.1", 1)) == Value(10));
  CHECK(map->Lookup(r, RouteVia("2001:db8::1", 64500)) == Value(20));
  CHECK(map->Lookup(r, RouteVia("192.0.2.2", 64500)) == Value(30));
  // An empty AS path (iBGP) has neighbour AS 0 ...
  CHECK(map->Lookup(r, RouteVia("192.0.2.2", 0)) == Value(40));
  // ... but no route matches no route column.
  CHECK_FALSE(map->Lookup(r, kNoRoute));
  BgpSourceRoute unset_next_hop;
  unset_next_hop.found = true;
  unset_next_hop.first_as = 7;
  CHECK_FALSE(map->Lookup(r, unset_next_hop));
}

TEST_CASE("bgp_source_map: src_mac and vlan") {
  auto map = MustLoad(
      "id=1 ip=0.0.0.0/0 src_mac=EC:1F:72:11:9F:C1\n"
      "id=2 ip=0.0.0.0/0 vlan=872\n"
      "id=3 ip=0.0.0.0/0 vlan=-0 in=5\n"
      "id=4 ip=0.0.0.0/0 vlan=0\n");
  FlowRecord r = From("10.0.0.1");
  // No VLAN exported: VLAN 0 (as nfacctd). No MAC exported: no src_mac
  // row matches, not even 00:00:00:00:00:00.
  CHECK(map->Lookup(r, kNoRoute) == Value(4));
  r.src_mac.bytes = {0xec, 0x1f, 0x72, 0x11, 0x9f, 0xc1};
  CHECK(map->Lookup(r, kNoRoute) == Value(4));
  r.fields.set(FlowField::kSrcMac);
  CHECK(map->Lookup(r, kNoRoute) == Value(1));
  r.src_mac.bytes[5] = 0xc2;
  r.in_vlan = 872;
  CHECK(map->Lookup(r, kNoRoute) == Value(2));
  // IE 59 when IE 58 is 0.
  r.in_vlan = 0;
  r.out_vlan = 872;
  CHECK(map->Lookup(r, kNoRoute) == Value(2));
  r.out_vlan = 9;
  r.in_iface = 5;
  CHECK(map->Lookup(r, kNoRoute) == Value(3));
  auto zero_mac = MustLoad("id=1 ip=0.0.0.0/0 src_mac=00-00-00-00-00-00\n");
  CHECK_FALSE(zero_mac->Lookup(From("10.0.0.1"), kNoRoute));
}

TEST_CASE("bgp_source_map: id=bgp and the maximum value") {
  auto map = MustLoad(
      "id=bgp ip=10.0.0.1\n"
      "id=4294967295 ip=10.0.0.2\n");
  CHECK(map->needs_route());
  CHECK(map->Lookup(From("10.0.0.1"), kNoRoute) == kFromBgp);
  CHECK(map->Lookup(From("10.0.0.2"), kNoRoute) == Value(4294967295u));
  CHECK(MustLoad("")->size() == 0);
  CHECK_FALSE(MustLoad("! only comments\n\n")->needs_route());
}

TEST_CASE("bgp_source_map: errors name file and line") {
  CHECK(ErrorOf("ip=10.0.0.1\n") ==
        "peers.map:1: row without id (the value to set)");
  CHECK(ErrorOf("! x\n\nid=5 in=3\n") ==
        "peers.map:3: row without ip (the exporter)");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 filter='ether src 00:01:02:03:04:05'\n") ==
        "peers.map:1: key 'filter' (a BPF expression) is not supported by "
        "flowacct; match on ip, in, out, bgp_nexthop, peer_dst_as, src_mac, "
        "vlan");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 nexthop=192.0.2.1\n") ==
        "peers.map:1: unknown key 'nexthop' (keys: id, ip, in, out, "
        "bgp_nexthop, peer_dst_as, src_mac, vlan)");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 in=3 in=4\n") ==
        "peers.map:1: key 'in' given twice");
  CHECK(ErrorOf("id=AS65000 ip=10.0.0.1\n") ==
        "peers.map:1: id='AS65000' is neither 'bgp' nor a number from 1 to "
        "4294967295");
  CHECK(ErrorOf("id=0 ip=10.0.0.1\n").rfind("peers.map:1: id='0'", 0) == 0);
  CHECK(ErrorOf("id=4294967296 ip=10.0.0.1\n")
            .rfind("peers.map:1: id='4294967296'", 0) == 0);
  CHECK(ErrorOf("id=-5 ip=10.0.0.1\n").rfind("peers.map:1: id='-5'", 0) == 0);
  CHECK(ErrorOf("id=5 ip=10.0.0.300\n") ==
        "peers.map:1: ip='10.0.0.300' is not an IP address or prefix");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 in=x\n") ==
        "peers.map:1: in='x' is not an interface index");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 bgp_nexthop=10.0.0.0/8\n") ==
        "peers.map:1: bgp_nexthop='10.0.0.0/8' is not an IP address");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 peer_dst_as=AS1\n") ==
        "peers.map:1: peer_dst_as='AS1' is not an AS number (0..4294967295)");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 src_mac=00:11:22:33:44\n") ==
        "peers.map:1: src_mac='00:11:22:33:44' is not a MAC address "
        "(00:11:22:33:44:55)");
  CHECK(ErrorOf("id=5 ip=10.0.0.1 vlan=4096\n") ==
        "peers.map:1: vlan='4096' is not a VLAN id (0..4095)");
  CHECK(ErrorOf("id=5 ip = 10.0.0.1\n").rfind("peers.map:1: 'ip' is not", 0) ==
        0);
  BgpSourceMapOptions small;
  small.max_entries = 1;
  auto capped = BgpSourceMap::Load("id=1 ip=10.0.0.1\nid=2 ip=10.0.0.2\n",
                                   "peers.map", small);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.status().code() == StatusCode::kResourceExhausted);
  CHECK(capped.status().message().rfind("peers.map:2:", 0) == 0);
  auto missing = BgpSourceMap::LoadFile("/nonexistent/peers.map");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kIoError);
}

}  // namespace
}  // namespace flowacct
