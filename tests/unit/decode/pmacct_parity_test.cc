// Decoder behaviour that follows what pmacct 1.7.7 prints
// (docs/pmacct-parity.md §2, §7): absent times stay absent, IE 160 learnt
// from options data, IE 47 as peer_dst_ip, NSEL firewall event as nat_event.

#include <filesystem>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"

#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

TEST_CASE("parity: IPFIX 21/22 without any IE 160 leave the end absent") {
  DecoderHarness h;
  // MikroTik: FIRST/LAST_SWITCHED, no systemInitTimeMilliseconds anywhere.
  FlowSetBuilder m = FlowSetBuilder::Ipfix(0, 0, 1'700'000'200);
  m.Template(256, {{22, 4}, {21, 4}, {8, 4}, {1, 4}});
  BytesBuilder rec;
  rec.U32(5'000).U32(7'000).Ip4(10, 0, 0, 1).U32(100);
  m.DataSet(256, rec);
  REQUIRE(h.Feed(m.Build()).records == 1);
  const FlowRecord& r = h.batch().records().back();
  CHECK_FALSE(r.has(FlowField::kTimestampEnd));
  REQUIRE(r.has(FlowField::kTimestampStart));
  CHECK(r.timestamp_start == 1'700'000'200 * kSec);  // the export time
}

TEST_CASE("parity: systemInitTimeMilliseconds from options data (IE 160)") {
  DecoderHarness h;
  const uint64_t init_ms = 1'782'864'000'000ull;  // 2026-07-01 00:00:00
  FlowSetBuilder m = FlowSetBuilder::Ipfix(/*domain=*/7, 0, 1'783'600'495);
  // Cisco IOS-XE: scope observationDomainId (149), option IE 160.
  m.OptionsTemplate(338, {{149, 4}}, {{160, 8}});
  BytesBuilder opt;
  opt.U32(7).U64(init_ms);
  m.DataSet(338, opt);
  REQUIRE(h.Feed(m.Build()).records == 1);

  FlowSetBuilder d = FlowSetBuilder::Ipfix(7, 1, 1'783'600'502);
  d.Template(347, {{2, 8}, {1, 8}, {8, 4}, {21, 4}, {22, 4}});
  BytesBuilder rec;
  rec.U64(3).U64(300).Ip4(169, 254, 0, 1).U32(600'000).U32(500'000);
  d.DataSet(347, rec);
  REQUIRE(h.Feed(d.Build()).records == 1);
  const FlowRecord& r = h.batch().records().back();
  CHECK(r.kind == RecordKind::kFlow);
  REQUIRE(r.has(FlowField::kTimestampStart));
  REQUIRE(r.has(FlowField::kTimestampEnd));
  CHECK(r.timestamp_start == int64_t(init_ms + 500'000) * kMs);
  CHECK(r.timestamp_end == int64_t(init_ms + 600'000) * kMs);

  SECTION("another domain of the same exporter learnt nothing") {
    FlowSetBuilder o = FlowSetBuilder::Ipfix(8, 0, 1'783'600'502);
    o.Template(347, {{2, 8}, {1, 8}, {8, 4}, {21, 4}, {22, 4}});
    o.DataSet(347, rec);
    REQUIRE(h.Feed(o.Build()).records == 1);
    const FlowRecord& r8 = h.batch().records().back();
    CHECK(r8.timestamp_start == 1'783'600'502 * kSec);
    CHECK_FALSE(r8.has(FlowField::kTimestampEnd));
  }
  SECTION("an IE 160 in the data record itself wins") {
    FlowSetBuilder o = FlowSetBuilder::Ipfix(7, 2, 1'783'600'502);
    o.Template(348, {{22, 4}, {160, 8}, {1, 4}});
    BytesBuilder rec2;
    rec2.U32(1'000).U64(init_ms + 5'000).U32(1);
    o.DataSet(348, rec2);
    REQUIRE(h.Feed(o.Build()).records == 1);
    CHECK(h.batch().records().back().timestamp_start ==
          int64_t(init_ms + 6'000) * kMs);
  }
}

TEST_CASE("parity: NSEL / NEL event time is a start, not an end") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(0, 0);
  // NF_F_FW_EVENT, src, XLATE_SRC, NF_F_EVENT_TIME_MSEC.
  m.Template(263, {{40005, 1}, {8, 4}, {40001, 4}, {323, 8}});
  BytesBuilder rec;
  rec.U8(2).Ip4(10, 0, 0, 1).Ip4(198, 51, 100, 5).U64(1'700'000'000'123ull);
  m.DataSet(263, rec);
  REQUIRE(h.Feed(m.Build()).records == 1);
  const FlowRecord& r = h.batch().records().back();
  CHECK(r.timestamp_start == 1'700'000'000'123 * kMs);
  CHECK_FALSE(r.has(FlowField::kTimestampEnd));
}

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

// The 9 flows 169.254.0.1 > 169.254.0.0 of pmacct-112, decoded with
// address-keyed templates (the exporter sends template 347 from UDP port
// 61853 and its data from 65156; pmacct keys templates by address only).
// Returns the whole seconds of their starts; *ends counts those with an end.
std::set<int64_t> Pmacct112Starts(bool options_init, int* flows, int* ends) {
  *flows = 0;
  *ends = 0;
  std::set<int64_t> starts;
  const std::string path = std::string(FLOWACCT_CORPUS_DIR) +
                           "/ipfix/pmacct-112-ipfix-cisco-options-reassignment"
                           ".pcap";
  DecoderOptions options;
  options.templates.ignore_exporter_port = true;
  options.ipfix_options_system_init_time = options_init;
  auto decoder = Decoder::Create(options, nullptr);
  REQUIRE(decoder.ok());
  auto reader = PcapReader::Open(path, {});
  REQUIRE(reader.ok());
  RecordBatch batch;
  PcapReader::Packet p;
  int guard = 0;
  while ((*reader)->Next(&p) && ++guard < 10'000) {
    (*decoder)->Decode(p.datagram, &batch);
    for (const FlowRecord& r : batch.records()) {
      if (r.kind != RecordKind::kFlow) continue;
      if (r.src_host.ToString() != "169.254.0.1") continue;
      ++*flows;
      if (r.has(FlowField::kTimestampEnd)) ++*ends;
      REQUIRE(r.has(FlowField::kTimestampStart));
      starts.insert(r.timestamp_start / kSec);
    }
    batch.Clear();
  }
  return starts;
}

TEST_CASE("parity: pmacct-112 flow times with and without options IE 160") {
  if (!std::filesystem::exists(std::string(FLOWACCT_CORPUS_DIR) +
                               "/ipfix/pmacct-112-ipfix-cisco-options-"
                               "reassignment.pcap")) {
    WARN("corpus not found; skipped");
    return;
  }
  int flows = 0;
  int ends = 0;
  // Options data announced init time 2026-07-01; starts are init + IE 22,
  // ends init + IE 21 (each at or before its message's export time).
  CHECK(Pmacct112Starts(true, &flows, &ends) ==
        std::set<int64_t>{1'783'600'499, 1'783'600'517, 1'783'600'521});
  CHECK(flows == 9);
  CHECK(ends == 9);
  // pmacct 1.7.7 ignores it: start = export time of the message
  // (2026-07-09 12:35:14 / 12:35:38), no end.
  CHECK(Pmacct112Starts(false, &flows, &ends) ==
        std::set<int64_t>{1'783'600'514, 1'783'600'538});
  CHECK(flows == 9);
  CHECK(ends == 0);
}

}  // namespace
}  // namespace flowacct::testing
