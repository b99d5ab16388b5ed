// sFlow v5 decoder: flow / expanded flow / counter samples, the records it
// maps, sequence tracking, and hostile inputs SF-1..SF-13
// (hostile-inputs.md §1.4).

#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/sflow_builder.h"

namespace flowacct {
namespace {

using testing::BytesBuilder;
using testing::CounterSampleFields;
using testing::FlowSampleFields;
using testing::Ip6;
using testing::Mac;
using testing::PacketBuilder;
using testing::SflowBuilder;

constexpr int64_t kArrival = int64_t{1'700'000'000} * 1'000'000'000;
const Endpoint kSource{IpAddress::V4(0xcb007101), 6343};  // 203.0.113.1
const Mac kDst{0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
const Mac kSrc{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
const Ip6 kSrc6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Ip6 kDst6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

struct Harness {
  explicit Harness(DecoderOptions opts = {}) {
    auto d = Decoder::Create(opts, nullptr);
    REQUIRE(d.ok());
    decoder = std::move(*d);
  }
  DecodeSummary Decode(const std::vector<uint8_t>& bytes) {
    return decoder->Decode(Datagram{bytes, kSource, kArrival}, &batch);
  }
  const ExporterStats& stats() {
    return decoder->stats().exporters.at(kSource.address);
  }
  uint64_t error(DecodeError e) { return stats().error(e); }

  std::unique_ptr<Decoder> decoder;
  RecordBatch batch;
};

std::vector<uint8_t> TcpFrame() {
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x8100)
      .Vlan((2 << 13) | 42, 0x0800)
      .Ipv4(0x0a000001, 0x0a000002, 6, 0x10)
      .Tcp(33000, 80, 0x18)
      .Payload(60);
  return p.bytes();
}

TEST_CASE("sflow: flow sample with raw header and extended records") {
  Harness h;
  SflowBuilder s;
  s.sub_agent_id = 7;
  s.sequence = 99;
  FlowSampleFields f;
  f.sequence = 1234;
  f.source_id_type = 0;
  f.source_id_index = 3;
  f.sampling_rate = 2048;
  f.sample_pool = 100000;
  f.drops = 0;
  f.input = 3;
  f.output = 9;
  s.BeginFlowSample(f)
      .RawHeader(1, 1518, 4, TcpFrame())
      .ExtendedSwitch(100, 5, 200, 0)
      .ExtendedRouter(0x0a0000fe, 24, 16)
      .ExtendedGateway(0xc0000209, 64500, 64501, 64502,
                       {{2, {64510, 64511}}, {1, {64520, 64521}}},
                       {0xFDE80001, 0xFDE80002}, 150)
      .EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.protocol == ExportProtocol::kSflowV5);
  REQUIRE(sum.records == 1);
  CHECK(sum.errors == 0);
  const FlowRecord& r = h.batch.records()[0];
  CHECK(r.protocol == ExportProtocol::kSflowV5);
  CHECK(r.exporter.ToString() == "192.0.2.1");  // agent address
  CHECK(r.exporter_port == 6343);
  CHECK(r.observation_domain == 7);
  CHECK(r.export_seqno == 99);
  CHECK(r.sample_seqno == 1234);
  CHECK(r.source_id == 3);
  CHECK(r.sampling_rate == 2048);
  CHECK(r.sample_pool == 100000);
  CHECK(r.in_iface == 3);
  CHECK(r.out_iface == 9);
  CHECK(r.out_iface_format == 0);
  CHECK(r.direction == 0);
  CHECK(r.bytes == 1518);
  CHECK(r.packets == 1);
  CHECK(r.flows == 1);
  // From the sampled header.
  CHECK(r.src_mac.ToString() == "66:77:88:99:aa:bb");
  CHECK(r.src_host.ToString() == "10.0.0.1");
  CHECK(r.dst_host.ToString() == "10.0.0.2");
  CHECK(r.proto == 6);
  CHECK(r.tos == 0x10);
  CHECK(r.src_port == 33000);
  CHECK(r.dst_port == 80);
  CHECK(r.tcp_flags == 0x18);
  CHECK(r.etype == 0x0800);
  // Extended switch overrides the tag (42) and its PCP.
  CHECK(r.in_vlan == 100);
  CHECK(r.out_vlan == 200);
  CHECK(r.cos == 5);
  // Extended router.
  CHECK(r.ip_next_hop.ToString() == "10.0.0.254");
  CHECK(r.src_mask == 24);
  CHECK(r.dst_mask == 16);
  // Extended gateway.
  CHECK(r.bgp_next_hop.ToString() == "192.0.2.9");
  CHECK(r.src_as == 64501);
  CHECK(r.peer_src_as == 64502);
  CHECK(r.peer_dst_as == 64510);
  CHECK(r.dst_as == 64521);
  CHECK(r.local_pref == 150);
  REQUIRE(r.has(FlowField::kAsPath));
  const std::string_view path = h.batch.bytes(r.as_path);
  REQUIRE(path.size() == 16);
  CHECK(static_cast<uint8_t>(path[2]) == 0xFB);  // 64510 = 0x0000FBFE
  CHECK(static_cast<uint8_t>(path[3]) == 0xFE);
  CHECK(static_cast<uint8_t>(path[15]) == 0x09);  // 64521 = 0xFC09
  REQUIRE(r.has(FlowField::kStdComm));
  CHECK(h.batch.bytes(r.std_comm).size() == 8);
  CHECK(h.stats().records == 1);
}

TEST_CASE("sflow: expanded flow sample, IPv6 agent, egress, discards") {
  Harness h;
  SflowBuilder s;
  s.agent_type = 2;
  s.agent = kSrc6;
  FlowSampleFields f;
  f.source_id_type = 0;
  f.source_id_index = 9;
  f.input = 3;
  f.output = 9;  // data source is the output interface: egress
  s.BeginFlowSample(f, /*expanded=*/true)
      .RawHeader(1, 100, 0, TcpFrame())
      .EndSample();
  FlowSampleFields d;
  d.sequence = 2;
  d.source_id_index = 9;
  d.output_format = 1;  // discarded
  d.output = 258;       // reason
  s.BeginFlowSample(d, /*expanded=*/false)
      .Ipv6Data(300, 17, kSrc6, kDst6, 53, 5353, 0, 0x28)
      .EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  REQUIRE(sum.records == 2);
  CHECK(sum.errors == 0);
  const FlowRecord& e = h.batch.records()[0];
  CHECK(e.exporter.ToString() == "2001:db8::1");
  CHECK(e.direction == 1);
  CHECK(e.source_id == 9);
  const FlowRecord& x = h.batch.records()[1];
  CHECK(x.out_iface_format == 1);
  CHECK(x.out_iface == 258);
  CHECK(x.direction == 0);
  CHECK(x.ip_version == 6);
  CHECK(x.bytes == 300);
  CHECK(x.src_port == 53);
  CHECK(x.tos == 0x28);
  CHECK(x.dst_host.ToString() == "2001:db8::2");
}

TEST_CASE("sflow: sampled IPv4 and Ethernet data records") {
  Harness h;
  SflowBuilder s;
  s.BeginFlowSample({})
      .EthernetData(1500, kSrc, kDst, 0x0800)
      .Ipv4Data(1486, 17, 0x01020304, 0x05060708, 1000, 2000, 0, 0x2e)
      .EndSample();
  REQUIRE(h.Decode(s.Build()).records == 1);
  const FlowRecord& r = h.batch.records()[0];
  CHECK(r.bytes == 1500);  // first length seen
  CHECK(r.src_mac.ToString() == "66:77:88:99:aa:bb");
  CHECK(r.dst_mac.ToString() == "00:11:22:33:44:55");
  CHECK(r.etype == 0x0800);
  CHECK(r.src_host.ToString() == "1.2.3.4");
  CHECK(r.proto == 17);
  CHECK(r.dst_port == 2000);
  CHECK(r.tos == 0x2e);
}

TEST_CASE("sflow: agent address option") {
  DecoderOptions opts;
  opts.use_exporter_address_element = false;
  Harness h(opts);
  SflowBuilder s;
  s.BeginFlowSample({}).RawHeader(1, 100, 0, TcpFrame()).EndSample();
  h.Decode(s.Build());
  REQUIRE(h.batch.size() == 1);
  CHECK(h.batch.records()[0].exporter == kSource.address);
}

TEST_CASE("sflow: counter samples") {
  Harness h;
  SflowBuilder s;
  s.sub_agent_id = 1;
  s.sequence = 5;
  CounterSampleFields c;
  c.sequence = 77;
  c.source_id_index = 4;
  s.BeginCounterSample(c)
      .GenericCounters(4, 10'000'000'000ull, 123456789012ull, 987654321ull)
      .ProcessorCounters(12, 8ull << 30, 2ull << 30)
      .Record(0x0000FFFF, std::vector<uint8_t>(8, 0))  // unknown block
      .EndSample();
  BytesBuilder eth;
  for (int i = 0; i < 13; ++i) eth.U32(i + 1);
  BytesBuilder vlan;
  vlan.U32(300).U64(5000).U32(1).U32(2).U32(3).U32(4);
  c.sequence = 1;
  c.source_id_index = 5;
  s.BeginCounterSample(c, /*expanded=*/true)
      .Record(2, eth.bytes())
      .Record(5, vlan.bytes())
      .EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.records == 0);
  REQUIRE(sum.counter_records == 2);
  CHECK(sum.errors == 0);
  const CounterRecord& g = h.batch.counters()[0];
  CHECK(g.agent.ToString() == "192.0.2.1");
  CHECK(g.sub_agent_id == 1);
  CHECK(g.datagram_seqno == 5);
  CHECK(g.sample_seqno == 77);
  CHECK(g.source_id == 4);
  CHECK(g.timestamp_arrival == kArrival);
  CHECK(g.blocks == (CounterRecord::kGeneric | CounterRecord::kProcessor));
  CHECK(g.unknown_blocks == 1);
  CHECK(g.if_index == 4);
  CHECK(g.if_speed == 10'000'000'000ull);
  CHECK(g.if_in_octets == 123456789012ull);
  CHECK(g.if_in_ucast_pkts == 100);
  CHECK(g.if_in_unknown_protos == 105);
  CHECK(g.if_out_octets == 987654321ull);
  CHECK(g.if_out_ucast_pkts == 200);
  CHECK(g.if_out_errors == 204);
  CHECK(g.cpu_5s_percent == 12);
  CHECK(g.cpu_5m_percent == 14);
  CHECK(g.total_memory == (8ull << 30));
  CHECK(g.free_memory == (2ull << 30));
  const CounterRecord& e = h.batch.counters()[1];
  CHECK(e.blocks == (CounterRecord::kEthernet | CounterRecord::kVlan));
  CHECK(e.dot3_alignment_errors == 1);
  CHECK(e.dot3_symbol_errors == 13);
  CHECK(e.vlan_id == 300);
  CHECK(e.vlan_octets == 5000);
  CHECK(e.vlan_discards == 4);
  CHECK(h.stats().counter_records == 2);
}

TEST_CASE("sflow: counter samples can be turned off") {
  DecoderOptions opts;
  opts.sflow_counter_samples = false;
  Harness h(opts);
  SflowBuilder s;
  s.BeginCounterSample({}).GenericCounters(1, 1, 1, 1).EndSample();
  s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.counter_records == 0);
  CHECK(sum.records == 1);
}

TEST_CASE("SF-1: agent address type not 1/2 drops the datagram") {
  Harness h;
  SflowBuilder s;
  s.agent_type = 3;
  s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.records == 0);
  CHECK(h.error(DecodeError::kSflowAgentAddress) == 1);
}

TEST_CASE("SF-1: sFlow versions 2 and 4 are not decoded") {
  Harness h;
  SflowBuilder s;
  s.version = 4;
  s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.records == 0);
  CHECK(h.error(DecodeError::kUnknownVersion) == 1);
}

TEST_CASE("SF-2: a huge sample count is bounded by the bytes present") {
  Harness h;
  SflowBuilder s;
  s.num_samples = 0xFFFFFFFF;
  s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.records == 1);
  CHECK(h.error(DecodeError::kSflowSampleCount) == 1);
}

TEST_CASE("SF-3: sample length beyond the datagram stops decoding") {
  Harness h;
  SflowBuilder s;
  s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample();
  s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample(+400);
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.records == 1);  // the first, complete sample is kept
  CHECK(h.error(DecodeError::kSflowSampleOverrun) == 1);
}

TEST_CASE("SF-3: header cut before num_samples") {
  Harness h;
  SflowBuilder s;
  std::vector<uint8_t> d = s.Build();
  d.resize(20);
  CHECK(h.Decode(d).records == 0);
  CHECK(h.error(DecodeError::kShortDatagram) == 1);
}

TEST_CASE("SF-4: record length beyond its sample") {
  Harness h;
  SflowBuilder s;
  s.BeginFlowSample({})
      .ExtendedSwitch(10, 0, 20, 0)
      .Record(1001, std::vector<uint8_t>(16, 0), /*length=*/400)
      .EndSample();
  s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  REQUIRE(sum.records == 2);  // the next sample still decodes
  CHECK(h.error(DecodeError::kSflowRecordOverrun) == 1);
  CHECK(h.batch.records()[0].in_vlan == 10);  // kept what came before
  CHECK(h.batch.records()[1].src_port == 33000);
}

TEST_CASE("SF-5: misaligned lengths") {
  SECTION("record") {
    Harness h;
    SflowBuilder s;
    s.BeginFlowSample({})
        .Record(1001, std::vector<uint8_t>(16, 0), /*length=*/15)
        .ExtendedRouter(1, 2, 3)
        .EndSample();
    s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample();
    const DecodeSummary sum = h.Decode(s.Build());
    CHECK(sum.records == 2);
    CHECK(h.error(DecodeError::kSflowMisaligned) == 1);
    CHECK_FALSE(h.batch.records()[0].has(FlowField::kIpNextHop));
  }
  SECTION("sample") {
    Harness h;
    SflowBuilder s;
    s.BeginFlowSample({}).RawHeader(1, 64, 0, TcpFrame()).EndSample(-1);
    const DecodeSummary sum = h.Decode(s.Build());
    CHECK(sum.records == 0);
    CHECK(h.error(DecodeError::kSflowMisaligned) == 1);
  }
}

TEST_CASE("SF-6: vendor length deviations skip by declared length") {
  Harness h;
  SflowBuilder s;
  // Extended switch 4 bytes longer than the format (like "expected 20,
  // found 24"), then a record that must still be found.
  BytesBuilder longer;
  longer.U32(10).U32(1).U32(20).U32(0).U32(0xDEADBEEF);
  // Extended router 4 bytes shorter than its fixed part.
  BytesBuilder shorter;
  shorter.U32(1).U32(0x0a000001).U32(24);
  s.BeginFlowSample({})
      .Record(1001, longer.bytes())
      .Record(1002, shorter.bytes())
      .RawHeader(1, 64, 0, TcpFrame())
      .EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  REQUIRE(sum.records == 1);
  const FlowRecord& r = h.batch.records()[0];
  CHECK(r.in_vlan == 10);
  CHECK(r.out_vlan == 20);
  CHECK_FALSE(r.has(FlowField::kIpNextHop));
  CHECK(r.src_port == 33000);
  CHECK(h.error(DecodeError::kSflowRecordOverrun) == 1);
}

TEST_CASE("SF-7: unknown sample and record formats are skipped") {
  Harness h;
  SflowBuilder s;
  s.RawSample(5, std::vector<uint8_t>(40, 0));             // discarded packet
  s.RawSample((9 << 12) | 1, std::vector<uint8_t>(8, 0));  // vendor
  s.BeginFlowSample({})
      .Record(1005, std::vector<uint8_t>(12, 0))  // extended URL
      .RawHeader(1, 64, 0, TcpFrame())
      .EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  CHECK(sum.records == 1);
  CHECK(h.error(DecodeError::kSflowUnknownSample) == 2);
  CHECK(h.error(DecodeError::kSflowUnknownRecord) == 1);
  CHECK(h.batch.records()[0].dst_port == 80);
}

TEST_CASE("SF-8: undefined header protocol skips the header record") {
  Harness h;
  SflowBuilder s;
  s.BeginFlowSample({})
      .RawHeader(99, 64, 0, TcpFrame())
      .ExtendedSwitch(7, 0, 8, 0)
      .EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  REQUIRE(sum.records == 1);
  CHECK(h.error(DecodeError::kSflowHeaderProtocol) == 1);
  const FlowRecord& r = h.batch.records()[0];
  CHECK_FALSE(r.has(FlowField::kSrcHost));
  CHECK_FALSE(r.has(FlowField::kBytes));
  CHECK(r.in_vlan == 7);  // later records still decode
  CHECK(r.packets == 1);
}

TEST_CASE("SF-9: inconsistent header lengths reject the header record") {
  auto run = [](uint32_t frame, uint32_t stripped,
                std::optional<uint32_t> header_length) {
    Harness h;
    SflowBuilder s;
    s.BeginFlowSample({})
        .RawHeader(1, frame, stripped, TcpFrame(), header_length)
        .EndSample();
    const DecodeSummary sum = h.Decode(s.Build());
    CHECK(sum.records == 1);
    CHECK(h.error(DecodeError::kSflowHeaderLength) == 1);
    CHECK_FALSE(h.batch.records()[0].has(FlowField::kSrcHost));
  };
  SECTION("header_length beyond the record") { run(1500, 4, 4000); }
  SECTION("frame_length 0") { run(0, 0, std::nullopt); }
  SECTION("stripped > frame_length") { run(60, 100, std::nullopt); }
}

TEST_CASE("SF-10: truncated sampled header keeps what parsed") {
  Harness h;
  std::vector<uint8_t> frame = TcpFrame();
  frame.resize(14 + 4 + 20 + 2);  // cut inside the TCP header
  SflowBuilder s;
  s.BeginFlowSample({}).RawHeader(1, 1500, 4, frame).EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  REQUIRE(sum.records == 1);
  CHECK(h.error(DecodeError::kSflowHeaderTruncated) == 1);
  const FlowRecord& r = h.batch.records()[0];
  CHECK(r.dst_host.ToString() == "10.0.0.2");
  CHECK_FALSE(r.has(FlowField::kSrcPort));
}

TEST_CASE("SF-10: header depth option is honoured") {
  DecoderOptions opts;
  opts.sflow_max_header_depth = 1;
  Harness h(opts);
  PacketBuilder p;
  p.Ethernet(kDst, kSrc, 0x8100).Vlan(1, 0x8100).Vlan(2, 0x0800).Ipv4(1, 2, 6);
  SflowBuilder s;
  s.BeginFlowSample({}).RawHeader(1, 100, 0, p.bytes()).EndSample();
  REQUIRE(h.Decode(s.Build()).records == 1);
  CHECK(h.batch.records()[0].in_vlan == 1);
  CHECK_FALSE(h.batch.records()[0].has(FlowField::kSrcHost));
}

TEST_CASE("SF-11: extended gateway counts beyond the record") {
  auto gateway_with = [](uint32_t n_segments, uint32_t n_asns,
                         uint32_t n_communities) {
    BytesBuilder g;
    g.U32(1).U32(0x0a000001).U32(1).U32(2).U32(3);
    g.U32(n_segments);
    g.U32(2).U32(n_asns).U32(64500).U32(64501);
    g.U32(n_communities).U32(0x10001);
    g.U32(100);
    return g.Take();
  };
  auto run = [](const std::vector<uint8_t>& body, bool expect_ok) {
    Harness h;
    SflowBuilder s;
    s.BeginFlowSample({}).Record(1003, body).EndSample();
    REQUIRE(h.Decode(s.Build()).records == 1);
    const FlowRecord& r = h.batch.records()[0];
    CHECK(h.error(DecodeError::kSflowGatewayOverrun) == (expect_ok ? 0 : 1));
    CHECK(r.has(FlowField::kAsPath) == expect_ok);
    CHECK(r.has(FlowField::kBgpNextHop) == expect_ok);
    if (expect_ok) {
      CHECK(r.dst_as == 64501);
      CHECK(h.batch.bytes(r.std_comm).size() == 4);
    }
  };
  SECTION("consistent") { run(gateway_with(1, 2, 1), true); }
  SECTION("segment count huge") { run(gateway_with(0x40000000, 2, 1), false); }
  SECTION("AS count huge") { run(gateway_with(1, 0x3FFFFFFF, 1), false); }
  SECTION("community count huge") {
    run(gateway_with(1, 2, 0xFFFFFFFF), false);
  }
  SECTION("local_pref missing") {
    std::vector<uint8_t> b = gateway_with(1, 2, 1);
    b.resize(b.size() - 4);
    run(b, false);
  }
}

TEST_CASE("SF-11: very long AS paths are stored truncated") {
  Harness h;
  SflowBuilder::AsPathSegment seg;
  for (uint32_t i = 0; i < 3000; ++i) seg.asns.push_back(100000 + i);
  SflowBuilder s;
  s.BeginFlowSample({}).ExtendedGateway(1, 2, 3, 4, {seg}, {}, 0).EndSample();
  REQUIRE(h.Decode(s.Build()).records == 1);
  const FlowRecord& r = h.batch.records()[0];
  CHECK(h.batch.bytes(r.as_path).size() == 1024 * 4);
  CHECK(r.dst_as == 102999);
  CHECK(r.peer_dst_as == 100000);
  CHECK_FALSE(r.has(FlowField::kStdComm));
}

TEST_CASE("SF-12: sampling rate 0 keeps the record, rate unknown") {
  Harness h;
  FlowSampleFields f;
  f.sampling_rate = 0;
  SflowBuilder s;
  s.BeginFlowSample(f).RawHeader(1, 64, 0, TcpFrame()).EndSample();
  REQUIRE(h.Decode(s.Build()).records == 1);
  CHECK(h.error(DecodeError::kSflowZeroSamplingRate) == 1);
  CHECK(h.batch.records()[0].sampling_rate == 0);
  CHECK_FALSE(h.batch.records()[0].has(FlowField::kSamplingRate));
}

TEST_CASE("SF-13: datagram and sample sequences are tracked separately") {
  Harness h;
  auto send = [&](uint32_t dgram_seq, uint32_t sub_agent,
                  std::vector<std::pair<uint32_t, uint32_t>> samples,
                  uint32_t drops = 0) {
    SflowBuilder s;
    s.sequence = dgram_seq;
    s.sub_agent_id = sub_agent;
    for (auto [source, seq] : samples) {
      FlowSampleFields f;
      f.source_id_index = source;
      f.sequence = seq;
      f.drops = drops;
      s.BeginFlowSample(f).RawHeader(1, 64, 0, TcpFrame()).EndSample();
    }
    h.Decode(s.Build());
  };
  send(5001, 0, {{1, 10}, {2, 500}});
  send(5002, 0, {{1, 11}, {2, 501}});
  CHECK(h.stats().sequence.lost == 0);
  CHECK(h.stats().sflow_samples_lost == 0);
  // Datagram 3 lost; source 1 lost samples 12..14 (3), source 2 none.
  send(5004, 0, {{1, 15}, {2, 502}});
  CHECK(h.stats().sequence.lost == 1);
  CHECK(h.stats().sflow_samples_lost == 3);
  // Another sub-agent has its own datagram sequence.
  send(1000, 1, {{1, 1}});
  send(1001, 1, {{1, 2}});
  CHECK(h.stats().sequence.lost == 1);
  CHECK(h.stats().sflow_samples_lost == 3);
  // Agent reboot: sequences go back to 1 -- resets, not loss.
  send(1, 0, {{1, 1}, {2, 1}});
  CHECK(h.stats().sequence.resets == 1);
  CHECK(h.stats().sequence.lost == 1);
  CHECK(h.stats().sflow_samples_lost == 3);
}

TEST_CASE("sflow: agent drops count the increase of the running total") {
  Harness h;
  auto send = [&](uint32_t seq, uint32_t drops) {
    SflowBuilder s;
    s.sequence = seq;
    FlowSampleFields f;
    f.sequence = seq;
    f.drops = drops;
    s.BeginFlowSample(f).RawHeader(1, 64, 0, TcpFrame()).EndSample();
    h.Decode(s.Build());
  };
  send(1, 100);  // baseline
  CHECK(h.stats().sflow_agent_drops == 0);
  send(2, 100);
  CHECK(h.stats().sflow_agent_drops == 0);
  send(3, 130);
  CHECK(h.stats().sflow_agent_drops == 30);
  CHECK(h.batch.records()[2].drops == 130);
}

TEST_CASE("sflow: every truncation of a datagram is safe") {
  SflowBuilder s;
  s.BeginFlowSample({})
      .RawHeader(1, 1518, 4, TcpFrame())
      .ExtendedSwitch(1, 2, 3, 4)
      .ExtendedGateway(1, 2, 3, 4, {{2, {5, 6, 7}}}, {8, 9}, 10)
      .EndSample();
  s.BeginCounterSample({}).GenericCounters(1, 2, 3, 4).EndSample();
  const std::vector<uint8_t> full = s.Build();
  Harness h;
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    h.Decode(cut);
  }
  // Every proper prefix cuts the last (counter) sample, so none was emitted.
  CHECK(h.batch.counter_size() == 0);
  const DecodeSummary sum = h.Decode(full);
  CHECK(sum.records == 1);
  CHECK(sum.counter_records == 1);
  CHECK(sum.errors == 0);
}

}  // namespace
}  // namespace flowacct

namespace flowacct {
namespace {

TEST_CASE("sflow: extended switch VLAN 0xFFFFFFFF means unknown, not 4095") {
  // Seen in sflow/akvorado-sflow-1140.pcap: agents send all-ones for a
  // VLAN they do not know. Truncating it to 12 bits would invent VLAN 4095.
  Harness h;
  SflowBuilder s;
  FlowSampleFields f;
  f.sampling_rate = 1000;
  s.BeginFlowSample(f)
      .ExtendedSwitch(0xFFFFFFFFu, 0xFFFFFFFFu, 20, 3)
      .EndSample();
  const DecodeSummary sum = h.Decode(s.Build());
  REQUIRE(sum.records == 1);
  const FlowRecord& r = h.batch.records()[0];
  CHECK_FALSE(r.has(FlowField::kInVlan));
  CHECK_FALSE(r.has(FlowField::kCos));
  REQUIRE(r.has(FlowField::kOutVlan));
  CHECK(r.out_vlan == 20);
}

}  // namespace
}  // namespace flowacct
