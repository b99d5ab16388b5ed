// ParsePacketHeader: the bounded sampled-header parser (sFlow raw packet
// header, IPFIX dataLinkFrameSection), including SF-10 truncation and depth.

#include "libflowacct/decode/packet_header.h"

#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/sflow_builder.h"

namespace flowacct::internal {
namespace {

using testing::Ip6;
using testing::Mac;
using testing::PacketBuilder;

const Mac kDst{0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
const Mac kSrc{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
const Ip6 kSrc6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Ip6 kDst6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

HeaderParseResult Parse(const std::vector<uint8_t>& b, FlowRecord* r,
                        HeaderProtocol first = HeaderProtocol::kEthernet,
                        int max_depth = 8) {
  return ParsePacketHeader(b, first, max_depth, r);
}

TEST_CASE("header: Ethernet / IPv4 / TCP") {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x0800)
      .Ipv4(0x0a000001, 0x0a000002, 6, 0xb8)
      .Tcp(40000, 443, 0x18)
      .Payload(20);
  FlowRecord r;
  const HeaderParseResult res = Parse(p.bytes(), &r);
  CHECK_FALSE(res.truncated);
  CHECK_FALSE(res.unsupported);
  CHECK(res.depth == 0);
  CHECK(r.dst_mac.ToString() == "00:11:22:33:44:55");
  CHECK(r.src_mac.ToString() == "66:77:88:99:aa:bb");
  CHECK(r.etype == 0x0800);
  CHECK(r.ip_version == 4);
  CHECK(r.src_host.ToString() == "10.0.0.1");
  CHECK(r.dst_host.ToString() == "10.0.0.2");
  CHECK(r.proto == 6);
  CHECK(r.tos == 0xb8);
  CHECK(r.src_port == 40000);
  CHECK(r.dst_port == 443);
  CHECK(r.tcp_flags == 0x18);
  CHECK(r.has(FlowField::kTcpFlags));
  CHECK_FALSE(r.has(FlowField::kInVlan));
  CHECK_FALSE(r.has(FlowField::kIcmpType));
}

TEST_CASE("header: 802.1Q and QinQ tags") {
  SECTION("single tag: in_vlan and cos") {
    PacketBuilder p;
    p.Ethernet(kDst, kSrc, 0x8100)
        .Vlan((5 << 13) | 100, 0x0800)
        .Ipv4(1, 2, 17)
        .Udp(53, 5353);
    FlowRecord r;
    const HeaderParseResult res = Parse(p.bytes(), &r);
    CHECK(res.depth == 1);
    CHECK(r.in_vlan == 100);
    CHECK(r.cos == 5);
    CHECK_FALSE(r.has(FlowField::kInCvlan));
    CHECK(r.etype == 0x0800);
    CHECK(r.src_port == 53);
    CHECK(r.dst_port == 5353);
  }
  SECTION("802.1ad outer + 802.1Q inner") {
    PacketBuilder p;
    p.Ethernet(kDst, kSrc, 0x88a8)
        .Vlan((3 << 13) | 200, 0x8100)
        .Vlan((1 << 13) | 300, 0x86dd)
        .Ipv6(kSrc6, kDst6, 58, 0x28, 0x12345)
        .Icmp(128, 0);
    FlowRecord r;
    const HeaderParseResult res = Parse(p.bytes(), &r);
    CHECK(res.depth == 2);
    CHECK(r.in_vlan == 200);
    CHECK(r.in_cvlan == 300);
    CHECK(r.cos == 3);
    CHECK(r.etype == 0x86dd);
    CHECK(r.ip_version == 6);
    CHECK(r.src_host.ToString() == "2001:db8::1");
    CHECK(r.tos == 0x28);
    CHECK(r.flow_label == 0x12345);
    CHECK(r.proto == 58);
    CHECK(r.icmp_type == 128);
    CHECK(r.icmp_code == 0);
  }
  SECTION("legacy 0x9100 QinQ") {
    PacketBuilder p;
    p.Ethernet(kDst, kSrc, 0x9100)
        .Vlan(10, 0x8100)
        .Vlan(20, 0x0800)
        .Ipv4(1, 2, 1)
        .Icmp(8, 0);
    FlowRecord r;
    Parse(p.bytes(), &r);
    CHECK(r.in_vlan == 10);
    CHECK(r.in_cvlan == 20);
    CHECK(r.icmp_type == 8);
  }
}

TEST_CASE("header: MPLS label stack then IPv4") {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x8847)
      .Mpls(16001, 0, false, 64)
      .Mpls(24005, 5, true, 64)
      .Ipv4(0x0a000001, 0x0a000002, 6)
      .Tcp(1, 2, 0x02);
  FlowRecord r;
  const HeaderParseResult res = Parse(p.bytes(), &r);
  CHECK(res.depth == 2);
  CHECK_FALSE(res.truncated);
  REQUIRE(r.mpls_label_count == 2);
  CHECK(r.mpls_labels[0] == ((16001u << 4) | 0));
  CHECK(r.mpls_labels[1] == ((24005u << 4) | (5u << 1) | 1));
  CHECK(r.etype == 0x0800);
  CHECK(r.src_host.ToString() == "10.0.0.1");
  CHECK(r.tcp_flags == 0x02);
}

TEST_CASE("header: first protocol IPv4, IPv6, MPLS") {
  SECTION("IPv4") {
    PacketBuilder p;
    p.Ipv4(0x01020304, 0x05060708, 17).Udp(1000, 2000);
    FlowRecord r;
    Parse(p.bytes(), &r, HeaderProtocol::kIpv4);
    CHECK_FALSE(r.has(FlowField::kSrcMac));
    CHECK(r.etype == 0x0800);
    CHECK(r.src_host.ToString() == "1.2.3.4");
    CHECK(r.dst_port == 2000);
  }
  SECTION("IPv6") {
    PacketBuilder p;
    p.Ipv6(kSrc6, kDst6, 6).Tcp(22, 50000, 0x10);
    FlowRecord r;
    Parse(p.bytes(), &r, HeaderProtocol::kIpv6);
    CHECK(r.etype == 0x86dd);
    CHECK(r.src_port == 22);
  }
  SECTION("MPLS") {
    PacketBuilder p;
    p.Mpls(100, 0, true, 1).Ipv6(kSrc6, kDst6, 17).Udp(1, 2);
    FlowRecord r;
    Parse(p.bytes(), &r, HeaderProtocol::kMpls);
    CHECK(r.mpls_label_count == 1);
    CHECK(r.ip_version == 6);
    CHECK(r.dst_port == 2);
  }
}

TEST_CASE("header: IPv6 extension headers") {
  SECTION("hop-by-hop, destination options, then UDP") {
    PacketBuilder p;
    p.Ethernet(kDst, kSrc, 0x86dd)
        .Ipv6(kSrc6, kDst6, 0)
        .Ipv6Ext(60, 0)
        .Ipv6Ext(17, 1)
        .Udp(123, 123);
    FlowRecord r;
    const HeaderParseResult res = Parse(p.bytes(), &r);
    CHECK_FALSE(res.truncated);
    CHECK(r.proto == 17);
    CHECK(r.src_port == 123);
  }
  SECTION("first fragment has L4, later fragments do not") {
    PacketBuilder first;
    first.Ipv6(kSrc6, kDst6, 44).Ipv6Fragment(6, 0).Tcp(80, 1024, 0x10);
    FlowRecord r1;
    Parse(first.bytes(), &r1, HeaderProtocol::kIpv6);
    CHECK(r1.proto == 6);
    CHECK(r1.src_port == 80);

    PacketBuilder later;
    later.Ipv6(kSrc6, kDst6, 44).Ipv6Fragment(6, 185).Payload(40);
    FlowRecord r2;
    Parse(later.bytes(), &r2, HeaderProtocol::kIpv6);
    CHECK(r2.proto == 6);
    CHECK_FALSE(r2.has(FlowField::kSrcPort));
  }
  SECTION("SF-10: extension header cut by the snap length") {
    PacketBuilder p;
    p.Ipv6(kSrc6, kDst6, 0).Ipv6Ext(6, 4);  // 40-byte hop-by-hop
    std::vector<uint8_t> b = p.bytes();
    b.resize(40 + 16);
    FlowRecord r;
    const HeaderParseResult res = Parse(b, &r, HeaderProtocol::kIpv6);
    CHECK(res.truncated);
    CHECK(r.src_host.ToString() == "2001:db8::1");
    CHECK(r.proto == 0);  // hop-by-hop: upper layer unknown
    CHECK_FALSE(r.has(FlowField::kSrcPort));
  }
}

TEST_CASE("header: IPv4 fragments and options") {
  SECTION("non-first fragment has no L4 header") {
    PacketBuilder p;
    p.Ipv4(1, 2, 17, 0, /*frag_offset=*/100).Payload(16);
    FlowRecord r;
    const HeaderParseResult res = Parse(p.bytes(), &r, HeaderProtocol::kIpv4);
    CHECK_FALSE(res.truncated);
    CHECK(r.proto == 17);
    CHECK_FALSE(r.has(FlowField::kSrcPort));
  }
  SECTION("options are skipped by IHL") {
    PacketBuilder p;
    p.Ipv4(1, 2, 6, 0, 0, /*options_words=*/3).Tcp(7, 9, 1);
    FlowRecord r;
    Parse(p.bytes(), &r, HeaderProtocol::kIpv4);
    CHECK(r.src_port == 7);
    CHECK(r.dst_port == 9);
  }
  SECTION("IHL < 5 is unsupported") {
    PacketBuilder p;
    p.Ipv4(1, 2, 6).Tcp(7, 9, 1);
    std::vector<uint8_t> b = p.bytes();
    b[0] = 0x44;
    FlowRecord r;
    const HeaderParseResult res = Parse(b, &r, HeaderProtocol::kIpv4);
    CHECK(res.unsupported);
    CHECK_FALSE(r.has(FlowField::kSrcHost));
  }
}

TEST_CASE("header: VXLAN records the VNI, outer fields win") {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x0800)
      .Ipv4(0x0a000001, 0x0a000002, 17)
      .Udp(49152, 4789)
      .Vxlan(0xABCDE)
      .Ethernet(kSrc, kDst, 0x0800)
      .Ipv4(0xc0a80001, 0xc0a80002, 6)
      .Tcp(1, 2, 0);
  FlowRecord r;
  const HeaderParseResult res = Parse(p.bytes(), &r);
  CHECK(res.depth == 1);
  CHECK(r.vxlan_vni == 0xABCDE);
  CHECK(r.has(FlowField::kVxlanVni));
  CHECK(r.src_host.ToString() == "10.0.0.1");
  CHECK(r.proto == 17);
  CHECK(r.dst_port == 4789);
}

TEST_CASE("header: pre-filled fields are not overwritten") {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x8100).Vlan(100, 0x0800).Ipv4(1, 2, 6).Tcp(3, 4, 0);
  FlowRecord r;
  r.in_vlan = 999;
  r.fields.set(FlowField::kInVlan);
  r.src_port = 7;
  r.fields.set(FlowField::kSrcPort);
  Parse(p.bytes(), &r);
  CHECK(r.in_vlan == 999);
  CHECK(r.src_port == 7);
  CHECK(r.dst_port == 4);
}

TEST_CASE("header: non-IP frames") {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x0806).Payload(28);  // ARP
  FlowRecord r;
  const HeaderParseResult res = Parse(p.bytes(), &r);
  CHECK(res.unsupported);
  CHECK(r.etype == 0x0806);
  CHECK(r.has(FlowField::kSrcMac));
  CHECK_FALSE(r.has(FlowField::kIpVersion));
}

TEST_CASE("SF-10: truncation at every byte never reads past the end") {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x88a8)
      .Vlan(1, 0x8100)
      .Vlan(2, 0x8847)
      .Mpls(10, 0, false, 1)
      .Mpls(11, 0, true, 1)
      .Ipv6(kSrc6, kDst6, 0)
      .Ipv6Ext(44, 0)
      .Ipv6Fragment(17, 0)
      .Udp(1, 4789)
      .Vxlan(7);
  const std::vector<uint8_t>& full = p.bytes();
  // Each prefix is copied into an exactly-sized heap buffer so ASan would
  // flag any read past it.
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    FlowRecord r;
    const HeaderParseResult res = Parse(cut, &r);
    INFO("prefix " << n);
    CHECK(res.truncated);
    CHECK_FALSE(r.has(FlowField::kVxlanVni));
  }
  FlowRecord r;
  const HeaderParseResult res = Parse(full, &r);
  CHECK_FALSE(res.truncated);
  CHECK(r.vxlan_vni == 7);
  CHECK(res.depth == 5);
}

TEST_CASE("SF-10: encapsulation depth is capped") {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x8847);
  for (int i = 0; i < 20; ++i) p.Mpls(100 + i, 0, i == 19, 1);
  p.Ipv4(1, 2, 6).Tcp(1, 2, 0);
  SECTION("depth 8 stops inside the stack") {
    FlowRecord r;
    const HeaderParseResult res =
        Parse(p.bytes(), &r, HeaderProtocol::kEthernet, 8);
    CHECK(res.unsupported);
    CHECK(res.depth == 8);
    CHECK(r.mpls_label_count == 8);
    CHECK_FALSE(r.has(FlowField::kSrcHost));
  }
  SECTION("depth 64 walks it; only 10 labels are stored") {
    FlowRecord r;
    const HeaderParseResult res =
        Parse(p.bytes(), &r, HeaderProtocol::kEthernet, 64);
    CHECK_FALSE(res.unsupported);
    CHECK(res.depth == 20);
    CHECK(r.mpls_label_count == 10);
    CHECK(r.src_host.ToString() == "0.0.0.1");
  }
  SECTION("many VLAN tags") {
    PacketBuilder v;
    v.Ethernet(kDst, kSrc, 0x8100);
    for (int i = 0; i < 30; ++i) v.Vlan(i + 1, 0x8100);
    FlowRecord r;
    const HeaderParseResult res =
        Parse(v.bytes(), &r, HeaderProtocol::kEthernet, 8);
    CHECK(res.unsupported);
    CHECK(r.in_vlan == 1);
    CHECK(r.in_cvlan == 2);
  }
}

}  // namespace
}  // namespace flowacct::internal
