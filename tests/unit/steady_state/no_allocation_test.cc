// "Decoding allocates nothing per record in steady state" (DESIGN.md §2, §6)
// as a test: this binary counts every operator new, and, once a Decoder and
// a RecordBatch have seen the traffic once, decoding the same kind of
// datagrams again must not allocate at all — for every protocol.
//
// It lives in its own test binary because it replaces the global operator
// new/delete.

#include <atomic>
#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/allocation_counter.h"
#include "tests/support/flowset_builder.h"
#include "tests/support/netflow_v5_builder.h"
#include "tests/support/sflow_builder.h"

namespace flowacct::testing {
namespace {

// Decodes `setup` once (templates), then `dgs` round after round into one
// reused batch, and returns the allocations made during the rounds after the
// first two (warm-up: the decoder sizes its tables, the batch grows).
uint64_t SteadyStateAllocations(const std::vector<std::vector<uint8_t>>& setup,
                                const std::vector<std::vector<uint8_t>>& dgs,
                                size_t* records) {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting is off under AddressSanitizer; skipped");
  }
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  auto decoder = Decoder::Create(DecoderOptions{}, registry.get());
  REQUIRE(decoder.ok());
  RecordBatch batch(256);
  const Endpoint exporter{IpAddress::V4(0xC0000201), 2055};
  int64_t now = int64_t{1'700'000'000} * 1'000'000'000;
  uint64_t before = 0;
  *records = 0;
  for (const auto& d : setup) {
    (*decoder)->Decode(Datagram{d, exporter, now}, &batch);
  }
  for (int round = 0; round < 50; ++round) {
    if (round == 2) before = testing::AllocationCount();
    for (const auto& d : dgs) {
      batch.Clear();
      now += 1'000'000;
      (*decoder)->Decode(Datagram{d, exporter, now}, &batch);
      if (round == 49) *records += batch.size() + batch.counter_size();
    }
  }
  return testing::AllocationCount() - before;
}

BytesBuilder Flows(int n) {
  BytesBuilder b;
  for (int i = 0; i < n; ++i) AppendSimpleFlow(b, uint8_t(i), 100 + i);
  return b;
}

TEST_CASE("steady state: NetFlow v9 decoding allocates nothing") {
  FlowSetBuilder t = FlowSetBuilder::V9(1, 0);
  t.Template(256, SimpleFlowFields());
  std::vector<std::vector<uint8_t>> dgs;
  for (uint32_t seq = 1; seq <= 4; ++seq) {
    FlowSetBuilder m = FlowSetBuilder::V9(1, seq);
    m.DataSet(256, Flows(20));
    dgs.push_back(m.Build());
  }
  size_t records = 0;
  CHECK(SteadyStateAllocations({t.Build()}, dgs, &records) == 0);
  CHECK(records == 80);
}

TEST_CASE("steady state: IPFIX with variable-length fields allocates nothing") {
  FlowSetBuilder t = FlowSetBuilder::Ipfix(1, 0);
  t.Template(300, {{8, 4}, {12, 4}, {1, 8}, {2, 8}, {82, kVariableLength}});
  std::vector<std::vector<uint8_t>> dgs;
  for (uint32_t seq = 0; seq < 4; ++seq) {
    FlowSetBuilder m = FlowSetBuilder::Ipfix(1, seq * 20);
    BytesBuilder recs;
    for (int i = 0; i < 20; ++i) {
      recs.Ip4(10, 0, 0, uint8_t(i)).Ip4(10, 0, 1, 1).U64(1000).U64(2);
      const std::string name = "ge-0/0/" + std::to_string(i);
      FlowSetBuilder::VarLen(recs,
                             std::vector<uint8_t>(name.begin(), name.end()));
    }
    m.DataSet(300, recs);
    dgs.push_back(m.Build());
  }
  size_t records = 0;
  CHECK(SteadyStateAllocations({t.Build()}, dgs, &records) == 0);
  CHECK(records == 80);
}

TEST_CASE("steady state: NetFlow v5 decoding allocates nothing") {
  std::vector<std::vector<uint8_t>> dgs;
  for (uint32_t seq = 0; seq < 4; ++seq) {
    NetflowV5Builder b;
    b.header.flow_sequence = seq * 30;
    for (int i = 0; i < 30; ++i) {
      V5Record r;
      r.src = 0x0a000000u + i;
      r.dst = 0x0a000101u;
      b.AddRecord(r);
    }
    dgs.push_back(b.Build());
  }
  size_t records = 0;
  CHECK(SteadyStateAllocations({}, dgs, &records) == 0);
  CHECK(records == 120);
}

TEST_CASE("steady state: sFlow flow and counter samples allocate nothing") {
  PacketBuilder p;
  p.Ethernet({0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}, 0x0800)
      .Ipv4(0x0a000001, 0x0a000002, 6)
      .Tcp(40000, 443, 0x18)
      .Payload(20);
  std::vector<std::vector<uint8_t>> dgs;
  for (uint32_t seq = 1; seq <= 4; ++seq) {
    SflowBuilder s;
    s.sequence = seq;
    for (uint32_t i = 0; i < 5; ++i) {
      FlowSampleFields f;
      f.sequence = seq * 5 + i;
      s.BeginFlowSample(f)
          .RawHeader(1, 1500, 4, p.bytes())
          .ExtendedSwitch(10, 0, 20, 0)
          .ExtendedGateway(0x0a0000fe, 65000, 65001, 65002,
                           {{2, {65002, 65003, 65004}}}, {0xFDE80001}, 100)
          .EndSample();
    }
    CounterSampleFields c;
    c.sequence = seq;
    s.BeginCounterSample(c)
        .GenericCounters(3, 10'000'000'000, 1, 2)
        .EndSample();
    dgs.push_back(s.Build());
  }
  size_t records = 0;
  CHECK(SteadyStateAllocations({}, dgs, &records) == 0);
  CHECK(records == 24);
}

}  // namespace
}  // namespace flowacct::testing

namespace flowacct::testing {
namespace {

TEST_CASE(
    "steady state: template refreshes allocate nothing (v9 and IPFIX "
    "options + data templates in every datagram)") {
  for (bool ipfix : {false, true}) {
    INFO((ipfix ? "IPFIX" : "NetFlow v9"));
    std::vector<std::vector<uint8_t>> dgs;
    for (uint32_t seq = 0; seq < 4; ++seq) {
      FlowSetBuilder m = ipfix ? FlowSetBuilder::Ipfix(1, seq * 21)
                               : FlowSetBuilder::V9(1, seq);
      // Exporters repeat their templates: every datagram carries them.
      m.OptionsTemplate(257, {{ipfix ? uint16_t{302} : uint16_t{48}, 2}},
                        {{34, 4}});
      m.Template(256, SimpleFlowFields());
      BytesBuilder opt;
      opt.U16(1).U32(1000);
      m.DataSet(257, opt);
      m.DataSet(256, Flows(20));
      dgs.push_back(m.Build());
    }
    size_t records = 0;
    CHECK(SteadyStateAllocations({}, dgs, &records) == 0);
    CHECK(records == 84);
  }
}

}  // namespace
}  // namespace flowacct::testing
