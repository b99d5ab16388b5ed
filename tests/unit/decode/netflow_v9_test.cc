// NetFlow v9 (RFC 3954) message decoding: header, template / options
// template flowsets, data flowsets, sequence numbers.

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

TEST_CASE("v9: template then data in one packet decodes every record") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(/*source_id=*/7, /*sequence=*/41,
                                        /*unix_secs=*/1'700'000'100);
  m.Template(256, SimpleFlowFields());
  BytesBuilder recs;
  AppendSimpleFlow(recs, 1, 1000, 10);
  AppendSimpleFlow(recs, 2, 2000, 20, 17);
  m.DataSet(256, recs);
  DecodeSummary s = h.Feed(m.Build());
  CHECK(s.protocol == ExportProtocol::kNetflowV9);
  REQUIRE(s.records == 2);
  CHECK(s.errors == 0);
  const FlowRecord& r = h.batch().records()[1];
  CHECK(r.protocol == ExportProtocol::kNetflowV9);
  CHECK(r.template_id == 256);
  CHECK(r.observation_domain == 7);
  CHECK(r.export_seqno == 41);
  CHECK(r.timestamp_export == int64_t{1'700'000'100} * 1'000'000'000);
  CHECK(r.src_host == IpAddress::V4(0x0a000002));
  CHECK(r.bytes == 2000);
  CHECK(r.packets == 20);
  CHECK(r.proto == 17);
  CHECK(r.exporter == h.exporter().address);
  CHECK(r.exporter_port == 2055);
  CHECK(h.stats().records == 2);
  CHECK(h.stats().templates == 1);
}

TEST_CASE("v9: the header count is ignored, sets are walked by length") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(1, 1);
  m.Template(256, SimpleFlowFields());
  BytesBuilder recs;
  for (int i = 0; i < 5; ++i) AppendSimpleFlow(recs, i, 100);
  m.DataSet(256, recs);
  m.Count(1);  // wrong, as several exporters send it (peers.md Q30)
  CHECK(h.Feed(m.Build()).records == 5);
  FlowSetBuilder m2 = FlowSetBuilder::V9(1, 2);
  m2.DataSet(256, recs).Count(60000);
  CHECK(h.Feed(m2.Build()).records == 5);
  CHECK(h.stats().total_errors() == 0);
}

TEST_CASE("v9: templates persist across packets and per source id") {
  DecoderHarness h;
  h.Feed(FlowSetBuilder::V9(1, 1).Template(300, SimpleFlowFields()).Build());
  BytesBuilder recs;
  AppendSimpleFlow(recs, 9, 99);
  CHECK(h.Feed(FlowSetBuilder::V9(1, 2).DataSet(300, recs).Build()).records ==
        1);
  // Another source id has no template 300 (RFC 3954 §5.1): buffered.
  CHECK(h.Feed(FlowSetBuilder::V9(2, 1).DataSet(300, recs).Build()).records ==
        0);
  CHECK(h.decoder().templates().stats().size == 1);
}

TEST_CASE("v9: options template and options data are decoded as options") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(5, 1);
  // Scope: System (1), 4 bytes. Options: FLOW_SAMPLER_ID (48) 1 byte,
  // FLOW_SAMPLER_MODE (49) 1 byte, FLOW_SAMPLER_RANDOM_INTERVAL (50) 4.
  m.OptionsTemplate(257, {{1, 4}}, {{48, 1}, {49, 1}, {50, 4}});
  BytesBuilder opt;
  opt.U32(0).U8(3).U8(2).U32(1000);
  m.DataSet(257, opt, /*padding=*/2);
  DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 1);
  CHECK(s.errors == 0);
  const FlowRecord& r = h.batch().records()[0];
  CHECK(r.kind == RecordKind::kOptions);
  CHECK(r.sampler_id == 3);
  CHECK(r.sampling_rate == 1000);
  CHECK(h.stats().options_records == 1);
  CHECK(h.stats().options_templates == 1);
  CHECK(h.stats().records == 0);
}

TEST_CASE("v9: options template set padding is not an error") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(5, 1);
  m.BeginSet(1)
      .OptionsTemplateRecord(258, {{1, 4}}, {{34, 4}})
      .Zeros(2)
      .EndSet();
  CHECK(h.Feed(m.Build()).errors == 0);
  CHECK(h.stats().options_templates == 1);
}

TEST_CASE("v9: several template records in one flowset") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(1, 1);
  m.BeginSet(0)
      .TemplateRecord(256, SimpleFlowFields())
      .TemplateRecord(257, {{8, 4}, {1, 4}})
      .EndSet();
  BytesBuilder a;
  AppendSimpleFlow(a, 1, 1);
  BytesBuilder b;
  b.Ip4(10, 9, 9, 9).U32(77);
  m.DataSet(257, b).DataSet(256, a);
  DecodeSummary s = h.Feed(m.Build());
  CHECK(s.records == 2);
  CHECK(s.errors == 0);
  CHECK(h.batch().records()[0].bytes == 77);
  CHECK(h.stats().templates == 2);
}

TEST_CASE("v9: packet shorter than the 20-byte header is dropped (NF-1)") {
  DecoderHarness h;
  std::vector<uint8_t> p = FlowSetBuilder::V9(1, 1).Build();
  p.resize(19);
  DecodeSummary s = h.Feed(p);
  CHECK(s.records == 0);
  CHECK(h.errors(DecodeError::kShortDatagram) == 1);
}

TEST_CASE("v9: sequence counts packets per source id (NF-28)") {
  DecoderHarness h;
  auto pkt = [](uint32_t sid, uint32_t seq) {
    return FlowSetBuilder::V9(sid, seq).Build();
  };
  h.Feed(pkt(1, 100000));
  h.Feed(pkt(1, 100001));
  h.Feed(pkt(2, 500));  // another source id: its own stream
  h.Feed(pkt(1, 100002));
  CHECK(h.stats().sequence.lost == 0);
  h.Feed(pkt(1, 100005));  // 100003, 100004 lost
  CHECK(h.stats().sequence.lost == 2);
  h.Feed(pkt(1, 100004));  // late
  CHECK(h.stats().sequence.reordered == 1);
  CHECK(h.stats().sequence.lost == 1);
  h.Feed(pkt(1, 3));  // far backwards: exporter restart, nothing lost
  CHECK(h.stats().sequence.resets == 1);
  CHECK(h.stats().sequence.lost == 1);
  h.Feed(pkt(1, 4));
  // Wrap at 2^32 is in order.
  h.Feed(pkt(3, 0xffffffffu));
  h.Feed(pkt(3, 0));
  CHECK(h.stats().sequence.lost == 1);
  CHECK(h.stats().sequence.resets == 1);
}

}  // namespace
}  // namespace flowacct::testing
