// pmacct JSON lines for BGP dumps and the message log, and the BMP dumps
// (flowacct/bgp/rib_dump.h); the expected lines are nfacctd's and pmbmpd's
// 1.7.7 (docs/pmacct-parity.md §14; tests/parity/bgp_msglog_test.py and
// bmp_dump_test.py compare them live).

#include "flowacct/bgp/rib_dump.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct::bgp {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

Prefix Pfx(const char* address, uint8_t length) {
  return Prefix{Ip(address), length};
}

PathAttributes Attrs() {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = {{AsSegmentType::kSequence, {65020, 65021}}};
  a.next_hop = Ip("192.0.2.2");
  a.communities = {(65002u << 16) | 1, (65002u << 16) | 2};
  a.large_communities = {{65002, 1, 2}};
  a.local_pref = 200;
  a.med = 5;
  return a;
}

TEST_CASE("rib_dump: timestamps as nfacctd writes them", "[rib_dump]") {
  const int64_t t = int64_t{1796624049} * 1'000'000'000 + 109'089'123;
  CHECK(FormatBgpTimestamp(t, true, true) == "2026-12-07 06:14:09.109089");
  CHECK(FormatBgpTimestamp(t, true, false) == "2026-12-07 06:14:09");
}

TEST_CASE("rib_dump: message log lines", "[rib_dump]") {
  BgpLineHeader h;
  h.seq = 2;
  h.timestamp = "2026-12-07 06:14:09.111841";
  h.peer = {Ip("127.0.0.2"), 42225};
  std::string out;
  AppendLogEvent(h, "log_init", &out);
  CHECK(out ==
        "{\"seq\": 2, \"timestamp\": \"2026-12-07 06:14:09.111841\", "
        "\"peer_ip_src\": \"127.0.0.2\", \"peer_tcp_port\": 42225, "
        "\"event_type\": \"log_init\"}\n");

  out.clear();
  Nlri n{{kIpv4Unicast, Pfx("10.2.0.0", 24), 1, {}}, std::nullopt};
  PathAttributes a = Attrs();
  AppendLogRoute(h, "update", n, AttributesText(a), {}, &out);
  CHECK(out ==
        "{\"seq\": 2, \"log_type\": \"update\", \"timestamp\": \"2026-12-07 "
        "06:14:09.111841\", \"peer_ip_src\": \"127.0.0.2\", "
        "\"peer_tcp_port\": 42225, \"event_type\": \"log\", \"afi\": 1, "
        "\"safi\": 1, \"ip_prefix\": \"10.2.0.0/24\", \"as_path_id\": 1, "
        "\"bgp_nexthop\": \"192.0.2.2\", \"as_path\": \"65020 65021\", "
        "\"comms\": \"65002:1 65002:2\", \"lcomms\": \"65002:1:2\", "
        "\"origin\": \"i\", \"local_pref\": 200, \"med\": 5}\n");

  // No ADD-PATH, no communities, MED 0 (written: present), origin
  // incomplete, IPv6.
  out.clear();
  Nlri v6{{kIpv6Unicast, Pfx("2001:db8:2::", 48), 0, {}}, std::nullopt};
  a = PathAttributes();
  a.origin = Origin::kIncomplete;
  a.as_path = {{AsSegmentType::kSequence, {65090}},
               {AsSegmentType::kSet, {65091, 65092}}};
  a.next_hop = Ip("2001:db8::2");
  a.med = 0;
  a.local_pref = 100;
  AppendLogRoute(h, "update", v6, AttributesText(a), {}, &out);
  CHECK(out.find("\"afi\": 2, \"safi\": 1, \"ip_prefix\": "
                 "\"2001:db8:2::/48\", \"bgp_nexthop\": \"2001:db8::2\", "
                 "\"as_path\": \"65090 {65091,65092}\", \"origin\": \"u\", "
                 "\"local_pref\": 100, \"med\": 0}\n") != std::string::npos);

  out.clear();
  AppendLogRoute(h, "withdraw", v6, AttributesText(), {}, &out);
  CHECK(
      out.ends_with("\"event_type\": \"log\", \"afi\": 2, \"safi\": 1, "
                    "\"ip_prefix\": \"2001:db8:2::/48\"}\n"));

  out.clear();
  AppendLogEndOfRib(h, kIpv6Unicast, &out);
  CHECK(out.find("\"log_type\": \"end-of-rib\"") != std::string::npos);
  CHECK(out.ends_with("\"event_type\": \"log\", \"afi\": 2, \"safi\": 1}\n"));
}

TEST_CASE("rib_dump: dump_init and dump_close", "[rib_dump]") {
  BgpLineHeader h;
  h.seq = 9;
  h.timestamp = "2026-12-07 06:15:00";
  h.peer = {Ip("127.0.0.2"), 42225};
  std::string out;
  AppendDumpInit(h, 60, &out);
  AppendDumpClose(h, 5, 1, &out);
  CHECK(out ==
        "{\"timestamp\": \"2026-12-07 06:15:00\", \"peer_ip_src\": "
        "\"127.0.0.2\", \"peer_tcp_port\": 42225, \"event_type\": "
        "\"dump_init\", \"dump_period\": 60, \"seq\": 9}\n"
        "{\"timestamp\": \"2026-12-07 06:15:00\", \"peer_ip_src\": "
        "\"127.0.0.2\", \"peer_tcp_port\": 42225, \"event_type\": "
        "\"dump_close\", \"entries\": 5, \"tables\": 1, \"seq\": 9}\n");
}

TEST_CASE("rib_dump: dump lines from the RIB", "[rib_dump]") {
  auto rib = Rib::Create({});
  REQUIRE(rib.ok());
  auto peer = (*rib)->AddPeer({.name = "127.0.0.2"});
  REQUIRE(peer.ok());
  auto handle = (*peer)->Intern(Attrs());
  REQUIRE(handle.ok());
  REQUIRE((*peer)
              ->Announce(Nlri{{kIpv4Unicast, Pfx("10.2.0.0", 24), 0, {}}, {}},
                         *handle)
              .ok());
  BgpLineHeader h;
  h.seq = 9;
  h.timestamp = "2026-12-07 06:15:00";
  h.peer = {Ip("127.0.0.2"), 42225};
  std::string out;
  auto reader = (*rib)->NewReader();
  {
    RibReader::Section s = reader->Enter();
    s.ForEachRoute((*peer)->id(), [&](const RouteEntry& r) {
      AppendDumpRoute(h, r, {}, &out);
    });
  }
  CHECK(out ==
        "{\"seq\": 9, \"timestamp\": \"2026-12-07 06:15:00\", "
        "\"peer_ip_src\": \"127.0.0.2\", \"peer_tcp_port\": 42225, "
        "\"event_type\": \"dump\", \"afi\": 1, \"safi\": 1, \"ip_prefix\": "
        "\"10.2.0.0/24\", \"bgp_nexthop\": \"192.0.2.2\", \"as_path\": "
        "\"65020 65021\", \"comms\": \"65002:1 65002:2\", \"lcomms\": "
        "\"65002:1:2\", \"origin\": \"i\", \"local_pref\": 200, \"med\": "
        "5}\n");
}

TEST_CASE("rib_dump: BMP dump lines", "[rib_dump]") {
  // pmbmpd 1.7.7's layout (docs/pmacct-parity.md §14, "BMP dumps vs
  // pmbmpd"): view flags, the peer distinguisher, the route, the router
  // and the monitored peer last.
  auto rib = Rib::Create({});
  REQUIRE(rib.ok());
  auto peer = (*rib)->AddPeer({.name = "bmp"});
  REQUIRE(peer.ok());
  PathAttributes a = Attrs();
  a.med = 0;  // present: written even when 0
  a.aigp = 0;
  // Prefix-SID (RFC 8669 §3.1) Label-Index TLV: type 1, length 7, reserved,
  // flags (2), label index 90.
  a.unknown.push_back({0xc0, 40, {1, 0, 7, 0, 0, 0, 0, 0, 0, 90}});
  auto handle = (*peer)->Intern(a);
  REQUIRE(handle.ok());
  REQUIRE((*peer)
              ->Announce(Nlri{{kIpv4Unicast, Pfx("10.2.0.0", 24), 0, {}}, {}},
                         *handle)
              .ok());
  BgpLineHeader h;
  h.seq = 4;
  h.timestamp = "2026-12-07 06:15:00";
  h.peer = {Ip("127.0.0.1"), 40102};
  BmpViewFields v;
  v.peer_ip = Ip("127.0.0.21");
  v.is_post = true;
  std::string out;
  AppendBmpDumpInit(h, 60, &out);
  auto reader = (*rib)->NewReader();
  {
    RibReader::Section s = reader->Enter();
    s.ForEachRoute((*peer)->id(), [&](const RouteEntry& r) {
      AppendBmpDumpRoute(h, v, r, &out);
      v.is_loc = true;
      v.peer_type = 3;
      v.peer_ip = Ip("0.0.0.0");
      v.rd = "0:64499:11";
      AppendBmpDumpRoute(h, v, r, &out);
    });
  }
  AppendBmpDumpClose(h, &out);
  const std::string router =
      "\"timestamp\": \"2026-12-07 06:15:00\", \"bmp_router\": "
      "\"127.0.0.1\", \"bmp_router_port\": 40102";
  const std::string route =
      ", \"event_type\": \"dump\", \"afi\": 1, \"safi\": 1, "
      "\"ip_prefix\": \"10.2.0.0/24\", \"bgp_nexthop\": \"192.0.2.2\", "
      "\"as_path\": \"65020 65021\", \"comms\": \"65002:1 65002:2\", "
      "\"lcomms\": \"65002:1:2\", \"origin\": \"i\", \"local_pref\": "
      "200, \"med\": 0, \"aigp\": 0, \"psid_li\": 90, \"bmp_router\": "
      "\"127.0.0.1\", \"bmp_router_port\": 40102, \"peer_ip\": ";
  CHECK(out == "{" + router +
                   ", \"event_type\": \"dump_init\", \"dump_period\": 60, "
                   "\"seq\": 4}\n"
                   "{\"seq\": 4, \"timestamp\": \"2026-12-07 06:15:00\", "
                   "\"is_post\": 1, \"is_in\": 1" +
                   route +
                   "\"127.0.0.21\", \"peer_tcp_port\": 0, \"bmp_msg_type\": "
                   "\"route_monitor\"}\n"
                   "{\"seq\": 4, \"timestamp\": \"2026-12-07 06:15:00\", "
                   "\"is_filtered\": 0, \"is_loc\": 1, \"rd\": \"0:64499:11\", "
                   "\"rd_origin\": \"bmp\"" +
                   route +
                   "\"0.0.0.0\", \"peer_tcp_port\": 0, \"bmp_msg_type\": "
                   "\"route_monitor\"}\n"
                   "{" +
                   router + ", \"event_type\": \"dump_close\", \"seq\": 4}\n");
}

TEST_CASE("rib_dump: route attributes", "[rib_dump]") {
  PathAttributes a;
  // RT 65000:100, a non-transitive RT and an opaque type: pmacct writes
  // only transitive route targets and origins, "?" for the rest.
  a.ext_communities = {0x0002FDE800000064ULL, 0x4002FDE800000064ULL,
                       0x030c000000000007ULL};
  std::string out;
  AttributesText(a).AppendTo(Family{Afi::kIpv6, Safi::kUnicast}, &out);
  CHECK(out ==
        ", \"bgp_nexthop\": \"::\", \"as_path\": \"\", \"ecomms\": "
        "\"RT:65000:100 ? ?\"");

  // Present attributes are written even when 0; next hop by family.
  out.clear();
  a = PathAttributes();
  a.origin = Origin::kEgp;
  a.local_pref = 0;
  a.med = 0;
  a.aigp = 0;
  AttributesText(a).AppendTo(kIpv4Unicast, &out);
  CHECK(out ==
        ", \"bgp_nexthop\": \"0.0.0.0\", \"as_path\": \"\", \"origin\": "
        "\"e\", \"local_pref\": 0, \"med\": 0, \"aigp\": 0");

  // No attributes (a withdrawal): nothing.
  out.clear();
  AttributesText().AppendTo(kIpv4Unicast, &out);
  CHECK(out.empty());
  CHECK(AttributesText().empty());
}

TEST_CASE("rib_dump: communities as pmacct writes them", "[rib_dump]") {
  // Sorted numerically, without duplicates; RFC 1997 well-known ones by
  // name, others of 65535:x as numbers (nfacctd 1.7.7).
  CHECK(FormatCommunities(std::vector<uint32_t>{
            0xFFFFFF04, 0xFFFFFF03, 0xFFFFFF02, 0xFFFFFF01, 0xFFFF029A,
            (65000u << 16) | 1, 0, (65000u << 16) | 1}) ==
        "internet 65000:1 65535:666 no-export no-advertise local-AS "
        "65535:65284");
  CHECK(FormatLargeCommunities(std::vector<LargeCommunity>{
            {65000, 2, 1}, {65000, 1, 2}, {65000, 2, 1}}) ==
        "65000:1:2 65000:2:1");
}

TEST_CASE("rib_dump: ADD-PATH, VPN and labeled routes", "[rib_dump]") {
  BgpLineHeader h;
  h.seq = 3;
  h.timestamp = "2026-12-07 06:14:09.111841";
  h.peer = {Ip("127.0.0.2"), 42225};
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.next_hop = Ip("192.0.2.1");
  const AttributesText text(a);

  // A family with ADD-PATH: "as_path_id" on every route, 0 included.
  Nlri n{{kIpv4Unicast, Pfx("10.1.4.0", 24), 0, {}}, std::nullopt};
  const std::vector<Family> add_path = {kIpv4Unicast};
  std::string out;
  AppendLogRoute(h, "update", n, text, add_path, &out);
  CHECK(out.find("\"ip_prefix\": \"10.1.4.0/24\", \"as_path_id\": 0, "
                 "\"bgp_nexthop\"") != std::string::npos);
  out.clear();
  AppendLogRoute(h, "update", n, text, {}, &out);
  CHECK(out.find("as_path_id") == std::string::npos);

  // VPN: the RD after the attributes with "rd_origin", then the label.
  RouteDistinguisher rd;
  rd.bytes = {0, 0, 0xFD, 0xE8, 0, 0, 0, 1};  // 0:65000:1
  Nlri vpn{{Family{Afi::kIpv4, Safi::kMplsVpn}, Pfx("10.2.0.0", 24), 0, rd},
           100};
  out.clear();
  AppendLogRoute(h, "update", vpn, text, {}, &out);
  CHECK(
      out.ends_with("\"ip_prefix\": \"10.2.0.0/24\", \"bgp_nexthop\": "
                    "\"192.0.2.1\", \"as_path\": \"\", \"origin\": \"i\", "
                    "\"rd\": \"0:65000:1\", \"rd_origin\": \"bgp\", "
                    "\"label\": \"100\"}\n"));
  out.clear();
  AppendLogRoute(h, "withdraw", vpn, AttributesText(), {}, &out);
  CHECK(
      out.ends_with("\"ip_prefix\": \"10.2.0.0/24\", \"rd\": "
                    "\"0:65000:1\", \"rd_origin\": \"bgp\", \"label\": "
                    "\"100\"}\n"));
  Nlri lu{
      {Family{Afi::kIpv4, Safi::kLabeledUnicast}, Pfx("10.3.0.0", 24), 0, {}},
      200};
  out.clear();
  AppendLogRoute(h, "update", lu, text, {}, &out);
  CHECK(out.ends_with("\"origin\": \"i\", \"label\": \"200\"}\n"));
}

TEST_CASE("rib_dump: extended communities", "[rib_dump]") {
  // RT 65000:100 (type 0x00/0x02), SoO 65000:200 (0x00/0x03), RT
  // 192.0.2.1:7 (0x01/0x02), RT 4200000000:1 (0x02/0x02), opaque.
  const uint64_t rt = 0x0002'FDE8'0000'0064ull;
  const uint64_t soo = 0x0003'FDE8'0000'00C8ull;
  const uint64_t rt4 = 0x0102'C000'0201'0007ull;
  const uint64_t rt_as4 = 0x0202'FA56'EA00'0001ull;
  const uint64_t opaque = 0x0300'0000'0000'0001ull;
  CHECK(FormatExtCommunities(std::vector<uint64_t>{rt, soo}) ==
        "RT:65000:100 SoO:65000:200");
  CHECK(FormatExtCommunities(std::vector<uint64_t>{rt4, rt_as4, opaque}) ==
        "RT:192.0.2.1:7 RT:4200000000:1 ?");
}

TEST_CASE("rib_dump: file names: $peer_src_ip and strftime", "[rib_dump]") {
  const int64_t t = int64_t{1796624100} * 1'000'000'000;  // 06:15:00 UTC
  auto name = RenderPeerFileName("/d/bgp-$peer_src_ip-%H%M.txt", t,
                                 Ip("127.0.0.2"), true);
  REQUIRE(name.ok());
  CHECK(*name == "/d/bgp-127_0_0_2-0615.txt");
  name = RenderPeerFileName("/d/$peer_src_ip.log", t, Ip("2001:db8::1"), true);
  REQUIRE(name.ok());
  CHECK(*name == "/d/2001_db8__1.log");
}

}  // namespace
}  // namespace flowacct::bgp
