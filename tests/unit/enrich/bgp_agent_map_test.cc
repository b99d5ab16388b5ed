// bgp_agent_map: which BGP session answers for an exporter.

#include "flowacct/enrich/bgp_agent_map.h"

#include <string>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

FlowRecord FromExporter(const char* exporter, uint32_t in = 0,
                        uint32_t out = 0) {
  FlowRecord r;
  r.exporter = Ip(exporter);
  r.in_iface = in;
  r.out_iface = out;
  return r;
}

TEST_CASE("bgp_agent_map: first match on ip, in and out") {
  auto map = BgpAgentMap::Load(
      "! route reflectors\n"
      "bgp_ip=192.0.2.1 ip=10.0.0.1\n"
      "bgp_ip=192.0.2.2 ip=10.0.1.0/24 in=3\n"
      "bgp_ip=192.0.2.3 bgp_port=1179 ip=10.0.1.0/24 out=-7\n"
      "bmp_ip=2001:db8::9 ip=2001:db8:1::/48\n",
      "agent.map");
  REQUIRE(map.ok());
  CHECK((*map)->size() == 4);
  CHECK((*map)->Lookup(FromExporter("10.0.0.1"))->address == Ip("192.0.2.1"));
  CHECK((*map)->Lookup(FromExporter("10.0.1.5", 3))->address ==
        Ip("192.0.2.2"));
  std::optional<BgpAgent> by_port = (*map)->Lookup(FromExporter("10.0.1.5", 4));
  REQUIRE(by_port);
  CHECK(by_port->address == Ip("192.0.2.3"));
  CHECK(by_port->port == 1179);
  CHECK_FALSE((*map)->Lookup(FromExporter("10.0.1.5", 4, 7)));
  CHECK((*map)->Lookup(FromExporter("2001:db8:1::1"))->address ==
        Ip("2001:db8::9"));
  CHECK_FALSE((*map)->Lookup(FromExporter("10.9.9.9")));
}

TEST_CASE("bgp_agent_map: errors name file and line") {
  auto no_peer = BgpAgentMap::Load("ip=10.0.0.1\n", "a.map");
  REQUIRE_FALSE(no_peer.ok());
  CHECK(no_peer.status().message() ==
        "a.map:1: row without bgp_ip (the BGP peer)");
  auto no_ip = BgpAgentMap::Load("! x\nbgp_ip=192.0.2.1\n", "a.map");
  REQUIRE_FALSE(no_ip.ok());
  CHECK(no_ip.status().message().rfind("a.map:2:", 0) == 0);
  auto filter = BgpAgentMap::Load(
      "bgp_ip=192.0.2.1 ip=10.0.0.1 filter='net 10.0.0.0/8'\n", "a.map");
  REQUIRE_FALSE(filter.ok());
  CHECK(filter.status().message().find("filter") != std::string::npos);
  CHECK_FALSE(BgpAgentMap::Load("bgp_ip=nope ip=10.0.0.1\n", "a.map").ok());
  CHECK_FALSE(
      BgpAgentMap::Load("bgp_ip=192.0.2.1 ip=10.0.0.1 bgp_port=0\n", "a.map")
          .ok());
  CHECK_FALSE(
      BgpAgentMap::Load("bgp_ip=192.0.2.1 ip=10.0.0.1 vlan=3\n", "a.map").ok());
  BgpAgentMapOptions small;
  small.max_entries = 1;
  auto capped = BgpAgentMap::Load(
      "bgp_ip=192.0.2.1 ip=10.0.0.1\nbgp_ip=192.0.2.2 ip=10.0.0.2\n", "a.map",
      small);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.status().code() == StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace flowacct
