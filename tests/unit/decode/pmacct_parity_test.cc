// Decoder behaviour that follows what pmacct 1.7.7 prints
// (docs/pmacct-parity.md §2, §7).

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

TEST_CASE("parity: NSEL nat_event falls back to NF_F_FW_EVENT (40005)") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(0, 0);
  m.Template(263, {{40005, 1}, {8, 4}, {85, 4}});
  m.Template(264, {{40005, 1}, {230, 1}, {8, 4}, {85, 4}});
  m.Template(265, {{233, 1}, {8, 4}, {85, 4}});
  BytesBuilder a;
  a.U8(2).Ip4(10, 0, 0, 1).U32(40);
  m.DataSet(263, a);
  BytesBuilder b;
  b.U8(2).U8(5).Ip4(10, 0, 0, 1).U32(40);
  m.DataSet(264, b);
  BytesBuilder c;
  c.U8(3).Ip4(10, 0, 0, 1).U32(40);
  m.DataSet(265, c);
  REQUIRE(h.Feed(m.Build()).records == 3);
  const auto& rs = h.batch().records();
  const size_t n = rs.size();
  CHECK(rs[n - 3].nat_event == 2);
  CHECK(rs[n - 3].has(FlowField::kNatEvent));
  CHECK(rs[n - 3].fw_event == 2);
  CHECK(rs[n - 2].nat_event == 5);  // a natEvent of its own wins
  // IPFIX-style firewallEvent (233) is not a NAT event.
  CHECK(rs[n - 1].nat_event == 0);
  CHECK_FALSE(rs[n - 1].has(FlowField::kNatEvent));
}

TEST_CASE("parity: mplsTopLabelIPv4Address (47) as the BGP next hop") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(0, 0);
  m.Template(300, {{8, 4}, {18, 4}, {47, 4}, {1, 4}});
  m.Template(301, {{8, 4}, {47, 4}, {1, 4}});
  BytesBuilder zero_nh;  // bgpNextHop 0.0.0.0: the label address
  zero_nh.Ip4(10, 0, 0, 1).Ip4(0, 0, 0, 0).Ip4(10, 10, 0, 43).U32(1);
  BytesBuilder real_nh;  // a real next hop wins
  real_nh.Ip4(10, 0, 0, 1).Ip4(192, 0, 2, 9).Ip4(10, 10, 0, 43).U32(1);
  BytesBuilder no_label;  // label address 0: IE 18's 0.0.0.0 stays
  no_label.Ip4(10, 0, 0, 1).Ip4(0, 0, 0, 0).Ip4(0, 0, 0, 0).U32(1);
  m.DataSet(300, zero_nh);
  m.DataSet(300, real_nh);
  m.DataSet(300, no_label);
  BytesBuilder only47;  // no IE 18 at all
  only47.Ip4(10, 0, 0, 1).Ip4(10, 10, 0, 44).U32(1);
  m.DataSet(301, only47);
  REQUIRE(h.Feed(m.Build()).records == 4);
  const auto& rs = h.batch().records();
  const size_t n = rs.size();
  CHECK(rs[n - 4].bgp_next_hop.ToString() == "10.10.0.43");
  CHECK(rs[n - 3].bgp_next_hop.ToString() == "192.0.2.9");
  CHECK(rs[n - 2].bgp_next_hop.ToString() == "0.0.0.0");
  CHECK(rs[n - 2].has(FlowField::kBgpNextHop));
  CHECK(rs[n - 1].bgp_next_hop.ToString() == "10.10.0.44");
  CHECK(rs[n - 1].has(FlowField::kBgpNextHop));
}

}  // namespace
}  // namespace flowacct::testing
