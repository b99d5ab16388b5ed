// Sampling rates learnt from options data and applied to flow records
// (peers.md Q5, Q6, Q7, Q39).

#include "libflowacct/decode/sampling_table.h"

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

using internal::SamplingTable;

const IpAddress kExporter = IpAddress::V4(0xc0000201);

TEST_CASE("SamplingTable lookup order") {
  SamplingTable t;
  CHECK(t.Lookup(kExporter, 0, 1) == 0);
  t.Learn(kExporter, 0, 1, 2000);
  t.Learn(kExporter, 0, 2, 4000);
  CHECK(t.Lookup(kExporter, 0, 1) == 2000);
  CHECK(t.Lookup(kExporter, 0, 2) == 4000);
  // Two distinct rates: no exporter-wide default.
  CHECK(t.Lookup(kExporter, 0, std::nullopt) == 0);
  CHECK(t.Lookup(kExporter, 0, 3) == 0);
  // Sampler id learnt in another domain (Q5).
  CHECK(t.Lookup(kExporter, 9, 2) == 4000);
  // A domain default.
  t.Learn(kExporter, 5, std::nullopt, 100);
  CHECK(t.Lookup(kExporter, 5, std::nullopt) == 100);
  CHECK(t.Lookup(kExporter, 5, 7) == 100);
  // Rate 0 teaches nothing (Q7).
  t.Learn(kExporter, 6, 8, 0);
  CHECK(t.Lookup(kExporter, 6, 8) == 0);
  // A single rate across the exporter applies everywhere.
  SamplingTable one;
  one.Learn(kExporter, 1, 3, 512);
  CHECK(one.Lookup(kExporter, 2, std::nullopt) == 512);
  one.Learn(kExporter, 1, 3, 1024);  // the rate changed
  CHECK(one.Lookup(kExporter, 2, std::nullopt) == 1024);
  one.ForgetExporter(kExporter);
  CHECK(one.Lookup(kExporter, 1, 3) == 0);
}

TEST_CASE("SamplingTable Apply keeps a record's own rate") {
  SamplingTable t;
  t.Learn(kExporter, 0, std::nullopt, 100);
  FlowRecord own;
  own.sampling_rate = 10;
  own.fields.set(FlowField::kSamplingRate);
  CHECK_FALSE(t.Apply(kExporter, 0, &own));
  CHECK(own.sampling_rate == 10);
  FlowRecord none;
  CHECK(t.Apply(kExporter, 0, &none));
  CHECK(none.sampling_rate == 100);
  CHECK(none.has(FlowField::kSamplingRate));
}

TEST_CASE("SamplingTable is bounded per exporter") {
  SamplingTable t;
  for (uint32_t i = 0; i < 5000; ++i) t.Learn(kExporter, 0, i, i + 1);
  CHECK(t.Lookup(kExporter, 0, 4999) == 0);
  CHECK(t.Lookup(kExporter, 0, 10) == 11);
}

// v9 FLOW_SAMPLER options (RFC 3954 §8: 48 id, 49 mode, 50 interval) with
// System scope, and flow records carrying FLOW_SAMPLER_ID.
std::vector<FlowSetBuilder::Field> SamplerFlowFields() {
  auto f = SimpleFlowFields();
  f.push_back({48, 1});
  return f;
}

BytesBuilder SamplerOptions(uint8_t sampler, uint32_t interval) {
  BytesBuilder b;
  b.U32(0).U8(sampler).U8(2).U32(interval);
  return b;
}

BytesBuilder SamplerFlow(uint8_t sampler) {
  BytesBuilder b;
  AppendSimpleFlow(b, 1, 100);
  b.U8(sampler);
  return b;
}

TEST_CASE("Q6: several samplers in one domain, keyed by sampler id") {
  // Mirrors netflow9/akvorado-nf9-multiple-sampling-rates.pcap: Cisco NCS
  // with sampler maps 1:2000 and 1:4000 in source id 0.
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(0, 1);
  m.OptionsTemplate(257, {{1, 4}}, {{48, 1}, {49, 1}, {50, 4}});
  BytesBuilder opts = SamplerOptions(1, 2000);
  opts.Bytes(SamplerOptions(2, 4000).bytes());
  m.DataSet(257, opts);
  m.Template(256, SamplerFlowFields());
  BytesBuilder flows = SamplerFlow(2);
  flows.Bytes(SamplerFlow(1).bytes());
  m.DataSet(256, flows);
  DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 4);
  CHECK(h.batch().records()[2].sampler_id == 2);
  CHECK(h.batch().records()[2].sampling_rate == 4000);
  CHECK(h.batch().records()[3].sampling_rate == 2000);
  // Options records are not rewritten.
  CHECK(h.batch().records()[0].kind == RecordKind::kOptions);
}

TEST_CASE("Q5/Q39: sampler table from another source id and source port") {
  DecoderHarness h;
  Endpoint options_port = h.exporter();
  options_port.port = 50001;
  h.FeedFrom(FlowSetBuilder::V9(/*source_id=*/1, 1)
                 .OptionsTemplate(257, {{1, 4}}, {{48, 1}, {49, 1}, {50, 4}})
                 .DataSet(257, SamplerOptions(7, 1000))
                 .Build(),
             options_port, h.now());
  h.Feed(FlowSetBuilder::V9(/*source_id=*/256, 1)
             .Template(256, SamplerFlowFields())
             .DataSet(256, SamplerFlow(7))
             .Build());
  REQUIRE(h.batch().size() == 2);
  CHECK(h.batch().records()[1].sampling_rate == 1000);
}

TEST_CASE("Q7: sampler id without a rate leaves the rate unknown") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::V9(0, 1);
  m.OptionsTemplate(257, {{1, 4}}, {{48, 1}});
  m.DataSet(257, BytesBuilder().U32(0).U8(3), /*padding=*/3);
  m.Template(256, SamplerFlowFields());
  m.DataSet(256, SamplerFlow(3));
  REQUIRE(h.Feed(m.Build()).records == 2);
  CHECK(h.batch().records()[1].sampling_rate == 0);
}

TEST_CASE("Sampler-less options record sets the domain default (IPFIX)") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::Ipfix(3, 0);
  // Scope meteringProcessId (143); samplingInterval (34).
  m.OptionsTemplate(300, {{143, 4}}, {{34, 4}});
  m.DataSet(300, BytesBuilder().U32(1).U32(512));
  m.Template(256, SimpleFlowFields());
  BytesBuilder flows;
  AppendSimpleFlow(flows, 1, 1);
  m.DataSet(256, flows);
  REQUIRE(h.Feed(m.Build()).records == 2);
  CHECK(h.batch().records()[1].sampling_rate == 512);
}

}  // namespace
}  // namespace flowacct::testing
