// sampling_map, networks_file, ports_file, allow lists.

#include <cstdio>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "flowacct/enrich/allow_list.h"
#include "flowacct/enrich/networks_file.h"
#include "flowacct/enrich/ports_file.h"
#include "flowacct/enrich/sampling_map.h"

#include <unistd.h>

namespace flowacct {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

FlowRecord Flow(const char* exporter, const char* src, const char* dst) {
  FlowRecord r;
  r.exporter = Ip(exporter);
  r.src_host = Ip(src);
  r.dst_host = Ip(dst);
  r.fields.set(FlowField::kSrcHost);
  r.fields.set(FlowField::kDstHost);
  return r;
}

TEST_CASE("sampling_map: first match on ip, in, out", "[sampling_map]") {
  auto map = SamplingMap::Load(
      "! rates\n"
      "id=1024 ip=192.0.2.1\n"
      "id=2048 ip=192.0.2.2 in=5\n"
      "id=4096 ip=192.0.2.2 out=-3\n"
      "id=8 ip=2001:db8::/32\n",
      "sampling.map");
  INFO(map.status().ToString());
  REQUIRE(map.ok());
  CHECK((*map)->size() == 4);
  FlowRecord r = Flow("192.0.2.1", "10.0.0.1", "10.0.0.2");
  CHECK((*map)->Lookup(r) == 1024);
  r.exporter = Ip("192.0.2.2");
  r.in_iface = 5;
  CHECK((*map)->Lookup(r) == 2048);
  r.in_iface = 6;
  r.out_iface = 4;
  CHECK((*map)->Lookup(r) == 4096);
  r.out_iface = 3;
  CHECK((*map)->Lookup(r) == 0);
  r.exporter = Ip("2001:db8::9");
  CHECK((*map)->Lookup(r) == 8);
  r.exporter = Ip("192.0.2.3");
  CHECK((*map)->Lookup(r) == 0);
}

TEST_CASE("sampling_map: errors", "[sampling_map]") {
  auto missing_ip = SamplingMap::Load("id=10 in=1\n", "s.map");
  REQUIRE_FALSE(missing_ip.ok());
  CHECK(missing_ip.status().message().find("s.map:1:") == 0);
  auto zero = SamplingMap::Load("! c\nid=0 ip=192.0.2.1\n", "s.map");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message().find("s.map:2:") == 0);
  CHECK_FALSE(SamplingMap::Load("id=10 ip=192.0.2.1 vlan=3\n", "s.map").ok());
  CHECK_FALSE(SamplingMap::Load("id=10 ip=-192.0.2.1\n", "s.map").ok());
  SamplingMapOptions small;
  small.max_entries = 1;
  auto capped = SamplingMap::Load("id=1 ip=192.0.2.1\nid=2 ip=192.0.2.2\n",
                                  "s.map", small);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.status().code() == StatusCode::kResourceExhausted);
}

TEST_CASE("networks_file: formats and longest-prefix match",
          "[networks_file]") {
  auto file = NetworksFile::Load(
      "! nets\n"
      "192.168.0.0/16\n"
      "65500,192.168.1.0/24\n"
      "64512_65501,192.168.2.0/25\n"
      "10.0.0.1,65502,192.168.4.0/23\n"
      "CustID#1,,,192.168.1.128/25\n"
      "2001:db8::/32\n"
      "65510,2001:db8:1::/48\n"
      "65511,0.0.0.0/0\n",
      "networks.lst");
  INFO(file.status().ToString());
  REQUIRE(file.ok());
  const NetworksFile& nets = **file;
  CHECK(nets.size() == 8);

  const NetworksEntry* e = nets.Lookup(Ip("192.168.1.7"));
  REQUIRE(e != nullptr);
  CHECK(e->prefix.ToString() == "192.168.1.0/24");
  CHECK(e->origin_as == 65500);

  e = nets.Lookup(Ip("192.168.1.200"));
  REQUIRE(e != nullptr);
  CHECK(e->prefix.length == 25);
  CHECK(e->origin_as == 0);

  e = nets.Lookup(Ip("192.168.2.1"));
  REQUIRE(e != nullptr);
  CHECK(e->peer_as == 64512);
  CHECK(e->origin_as == 65501);
  e = nets.Lookup(Ip("192.168.2.200"));  // outside the /25: the /16
  REQUIRE(e != nullptr);
  CHECK(e->prefix.length == 16);

  e = nets.Lookup(Ip("192.168.5.1"));
  REQUIRE(e != nullptr);
  CHECK(e->nexthop == Ip("10.0.0.1"));
  CHECK(e->origin_as == 65502);

  e = nets.Lookup(Ip("2001:db8:1::5"));
  REQUIRE(e != nullptr);
  CHECK(e->prefix.length == 48);
  e = nets.Lookup(Ip("2001:db8:2::5"));
  REQUIRE(e != nullptr);
  CHECK(e->prefix.length == 32);
  CHECK(nets.Lookup(Ip("2001:db9::1")) == nullptr);

  e = nets.Lookup(Ip("8.8.8.8"));  // default route row
  REQUIRE(e != nullptr);
  CHECK(e->origin_as == 65511);
}

TEST_CASE("networks_file: net_source file / longest and AS fill",
          "[networks_file]") {
  auto file = NetworksFile::Load(
      "64512_65500,192.168.1.0/24\n"
      "10.0.0.1,64513_65501,2001:db8::/32\n"
      "65502,172.16.0.0/12\n",
      "n.lst");
  REQUIRE(file.ok());
  const NetworksFile& nets = **file;

  SECTION("file") {
    FlowRecord r = Flow("192.0.2.1", "172.16.5.5", "192.168.1.9");
    r.src_mask = 24;
    r.fields.set(FlowField::kSrcMask);
    r.src_as = 1;
    r.dst_as = 2;
    nets.Apply(&r, NetSource::kFile, AsSource::kFile);
    CHECK(r.src_net == Ip("172.16.0.0"));
    CHECK(r.src_mask == 12);
    CHECK(r.dst_net == Ip("192.168.1.0"));
    CHECK(r.dst_mask == 24);
    CHECK(r.has(FlowField::kSrcNet));
    CHECK(r.has(FlowField::kDstMask));
    CHECK(r.src_as == 65502);
    CHECK(r.dst_as == 65500);
    CHECK(r.peer_dst_as == 64512);
    CHECK_FALSE(r.has(FlowField::kBgpNextHop));
  }
  SECTION("file, v6 with next hop") {
    FlowRecord r = Flow("192.0.2.1", "2001:db9::1", "2001:db8::77");
    nets.Apply(&r, NetSource::kFile, AsSource::kFile);
    CHECK(r.dst_net == Ip("2001:db8::"));
    CHECK(r.dst_mask == 32);
    CHECK(r.dst_as == 65501);
    CHECK(r.peer_dst_as == 64513);
    CHECK(r.bgp_next_hop == Ip("10.0.0.1"));
    CHECK(r.has(FlowField::kBgpNextHop));
    // Unmatched source: ::/0 and AS 0.
    CHECK(r.src_net == Ip("::"));
    CHECK(r.src_mask == 0);
    CHECK(r.src_as == 0);
  }
  SECTION("netflow nets, file AS") {
    FlowRecord r = Flow("192.0.2.1", "172.16.5.5", "192.168.1.9");
    r.src_mask = 24;
    r.fields.set(FlowField::kSrcMask);
    nets.Apply(&r, NetSource::kNetflow, AsSource::kFile);
    CHECK(r.src_net == Ip("172.16.5.0"));
    CHECK(r.src_mask == 24);
    CHECK(r.dst_net == Ip("0.0.0.0"));  // no exported mask
    CHECK(r.src_as == 65502);
  }
  SECTION("longest") {
    FlowRecord r = Flow("192.0.2.1", "172.16.5.5", "192.168.1.9");
    r.src_mask = 16;  // exported /16 beats the file's /12
    r.dst_mask = 16;  // the file's /24 beats the exported /16
    r.fields.set(FlowField::kSrcMask);
    r.fields.set(FlowField::kDstMask);
    r.src_as = 111;
    r.dst_as = 222;
    nets.Apply(&r, NetSource::kLongest, AsSource::kLongest);
    CHECK(r.src_net == Ip("172.16.0.0"));
    CHECK(r.src_mask == 16);
    CHECK(r.src_as == 111);
    CHECK(r.dst_net == Ip("192.168.1.0"));
    CHECK(r.dst_mask == 24);
    CHECK(r.dst_as == 65500);
  }
  SECTION("netflow only: masks from the record") {
    FlowRecord r = Flow("192.0.2.1", "10.1.2.3", "2001:db8::1:2");
    r.src_mask = 20;
    r.dst_mask = 64;
    r.fields.set(FlowField::kSrcMask);
    r.fields.set(FlowField::kDstMask);
    FillNetsFromMasks(&r);
    CHECK(r.src_net == Ip("10.1.0.0"));
    CHECK(r.dst_net == Ip("2001:db8::"));
    CHECK(r.has(FlowField::kSrcNet));
    CHECK(r.has(FlowField::kDstNet));
    FlowRecord no_hosts;
    FillNetsFromMasks(&no_hosts);
    CHECK_FALSE(no_hosts.has(FlowField::kSrcNet));
  }
}

TEST_CASE("networks_file: errors", "[networks_file]") {
  auto bad = NetworksFile::Load("192.168.0.0/16\n\n192.168.0.0/33\n", "n.lst");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("n.lst:3:") == 0);
  CHECK_FALSE(NetworksFile::Load("abc,192.168.0.0/16\n", "n").ok());
  CHECK_FALSE(NetworksFile::Load("1.2.3,65000,192.168.0.0/16\n", "n").ok());
  CHECK_FALSE(NetworksFile::Load("a,b,c,d,192.168.0.0/16\n", "n").ok());
  CHECK_FALSE(NetworksFile::Load("192.168.0.1\n", "n").ok());
  CHECK_FALSE(
      NetworksFile::Load(std::string("10.0.0.0/8\x01\n", 12), "n").ok());
}

TEST_CASE("net and AS source names", "[networks_file]") {
  CHECK(*ParseNetSource("netflow") == NetSource::kNetflow);
  CHECK(*ParseNetSource("sflow") == NetSource::kNetflow);
  CHECK(*ParseNetSource("mask") == NetSource::kMask);
  CHECK(*ParseNetSource("file") == NetSource::kFile);
  CHECK(*ParseNetSource("longest") == NetSource::kLongest);
  CHECK(*ParseNetSource("bgp") == NetSource::kBgp);
  CHECK(*ParseNetSource("bmp") == NetSource::kBmp);
  CHECK(ParseNetSource("igp").status().code() == StatusCode::kUnimplemented);
  CHECK(ParseNetSource("x").status().code() == StatusCode::kInvalidArgument);
  CHECK(*ParseAsSource("file") == AsSource::kFile);
  CHECK(*ParseAsSource("longest") == AsSource::kLongest);
  CHECK(*ParseAsSource("bgp") == AsSource::kBgp);
  CHECK(*ParseAsSource("bmp") == AsSource::kBmp);
  CHECK_FALSE(ParseAsSource("mask").ok());
}

TEST_CASE("ports_file", "[ports_file]") {
  auto ports = PortsFile::Load("! services\n22\n443\n  8080  \n", "ports.lst");
  INFO(ports.status().ToString());
  REQUIRE(ports.ok());
  CHECK((*ports)->size() == 3);
  FlowRecord r;
  r.src_port = 40000;
  r.dst_port = 443;
  r.fields.set(FlowField::kSrcPort);
  r.fields.set(FlowField::kDstPort);
  (*ports)->Apply(&r);
  CHECK(r.src_port == 0);
  CHECK(r.dst_port == 443);
  r.src_port = 8080;
  r.dst_port = 9;
  (*ports)->Apply(&r);
  CHECK(r.src_port == 8080);
  CHECK(r.dst_port == 0);

  auto bad = PortsFile::Load("22\n65536\n", "ports.lst");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("ports.lst:2:") == 0);
  CHECK_FALSE(PortsFile::Load("-1\n", "p").ok());
  CHECK_FALSE(PortsFile::Load("http\n", "p").ok());
}

TEST_CASE("allow list", "[allow_list]") {
  auto list = AllowList::Load(
      "! allowed exporters\n192.0.2.1\n198.51.100.0/24\n2001:db8::/32\n",
      "allow.lst");
  INFO(list.status().ToString());
  REQUIRE(list.ok());
  const AllowList& allow = **list;
  CHECK(allow.size() == 3);
  CHECK(allow.Allows(Ip("192.0.2.1")));
  CHECK_FALSE(allow.Allows(Ip("192.0.2.2")));
  CHECK(allow.Allows(Ip("198.51.100.250")));
  CHECK_FALSE(allow.Allows(Ip("198.51.101.1")));
  CHECK(allow.Allows(Ip("2001:db8:ffff::1")));
  CHECK_FALSE(allow.Allows(Ip("2001:db9::1")));
  CHECK(allow.Allows(Ip("::ffff:192.0.2.1")));  // v4-mapped source
  CHECK_FALSE(allow.Allows(IpAddress()));

  auto empty = AllowList::Load("! nothing allowed\n\n", "empty.lst");
  REQUIRE(empty.ok());
  CHECK((*empty)->size() == 0);
  CHECK_FALSE((*empty)->Allows(Ip("192.0.2.1")));

  auto all = AllowList::Load("0.0.0.0/0\n::/0\n", "all.lst");
  REQUIRE(all.ok());
  CHECK((*all)->Allows(Ip("203.0.113.9")));
  CHECK((*all)->Allows(Ip("fe80::1")));

  auto bad = AllowList::Load("192.0.2.1\nhost.example\n", "allow.lst");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("allow.lst:2:") == 0);
}

TEST_CASE("map files are read from disk", "[allow_list]") {
  const std::string tmp =
      "/tmp/flowacct_enrich_allow_test." + std::to_string(::getpid()) + ".lst";
  {
    std::ofstream out(tmp);
    out << "192.0.2.0/24\n";
  }
  auto list = AllowList::LoadFile(tmp);
  REQUIRE(list.ok());
  CHECK((*list)->Allows(Ip("192.0.2.9")));
  std::remove(tmp.c_str());
  CHECK(AllowList::LoadFile(tmp).status().code() == StatusCode::kIoError);
}

}  // namespace
}  // namespace flowacct
