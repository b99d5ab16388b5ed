// Data-before-template buffer (NF-20, peers.md Q40).

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

BytesBuilder Flows(int n, uint32_t bytes = 100) {
  BytesBuilder b;
  for (int i = 0; i < n; ++i) {
    AppendSimpleFlow(b, static_cast<uint8_t>(i), bytes);
  }
  return b;
}

constexpr int64_t kSecond = 1'000'000'000;

TEST_CASE("NF-20/Q40: data before its template in the same datagram") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    FlowSetBuilder m =
        ipfix ? FlowSetBuilder::Ipfix(4, 10) : FlowSetBuilder::V9(4, 10);
    m.DataSet(256, Flows(3, 42));
    m.Template(256, SimpleFlowFields());
    DecodeSummary s = h.Feed(m.Build());
    CHECK(s.records == 3);
    CHECK(s.errors == 0);
    CHECK(h.stats().pending_records == 3);
    CHECK(h.stats().records == 3);
    REQUIRE(h.batch().size() == 3);
    CHECK(h.batch().records()[0].bytes == 42);
    CHECK(h.batch().records()[0].observation_domain == 4);
    CHECK(h.batch().records()[0].export_seqno == 10);
  }
}

TEST_CASE("NF-20: data buffered within TTL decodes when the template comes") {
  DecoderHarness h;
  const int64_t t0 = h.now();
  h.FeedFrom(FlowSetBuilder::V9(1, 1).DataSet(256, Flows(2, 7)).Build(),
             h.exporter(), t0);
  CHECK(h.batch().size() == 0);
  Endpoint other_port = h.exporter();
  other_port.port = 40000;
  // Template from the same exporter, later, same port: releases the data.
  h.FeedFrom(FlowSetBuilder::V9(1, 2).Template(256, SimpleFlowFields()).Build(),
             h.exporter(), t0 + 10 * kSecond);
  REQUIRE(h.batch().size() == 2);
  // Records keep the arrival time and seqno of the datagram that carried
  // them.
  CHECK(h.batch().records()[0].timestamp_arrival == t0);
  CHECK(h.batch().records()[0].export_seqno == 1);
  CHECK(h.stats().pending_records == 2);
  CHECK(h.errors(DecodeError::kNoTemplate) == 0);
}

TEST_CASE("NF-20: data older than pending_max_age is dropped and counted") {
  DecoderOptions opts;
  opts.pending_max_age_ns = 60 * kSecond;
  DecoderHarness h(opts);
  const int64_t t0 = h.now();
  h.FeedFrom(FlowSetBuilder::V9(1, 1).DataSet(256, Flows(2)).Build(),
             h.exporter(), t0);
  h.FeedFrom(FlowSetBuilder::V9(1, 2).Template(256, SimpleFlowFields()).Build(),
             h.exporter(), t0 + 61 * kSecond);
  CHECK(h.batch().size() == 0);
  CHECK(h.errors(DecodeError::kNoTemplate) == 1);
  // Tick expires without a datagram too.
  h.FeedFrom(FlowSetBuilder::V9(1, 3).DataSet(257, Flows(1)).Build(),
             h.exporter(), t0 + 100 * kSecond);
  h.decoder().Tick(t0 + 200 * kSecond);
  CHECK(h.errors(DecodeError::kNoTemplate) == 2);
}

TEST_CASE("NF-20: per-exporter budget refuses, global budget evicts oldest") {
  DecoderOptions opts;
  opts.pending_max_bytes_per_exporter = 200;  // 11 records of 17 bytes
  opts.pending_max_bytes = 300;
  DecoderHarness h(opts);
  // 10 records (170 bytes) fit, the next 5 (85) do not: refused.
  h.Feed(FlowSetBuilder::Ipfix(1, 0).DataSet(256, Flows(10)).Build());
  h.Feed(FlowSetBuilder::Ipfix(1, 0).DataSet(256, Flows(5)).Build());
  CHECK(h.errors(DecodeError::kNoTemplate) == 1);
  // Another exporter fills the global budget: the oldest set (ours) goes.
  Endpoint b{IpAddress::V4(0xc0000202), 2055};
  h.FeedFrom(FlowSetBuilder::Ipfix(1, 0).DataSet(256, Flows(8)).Build(), b,
             h.now());
  CHECK(h.errors(DecodeError::kNoTemplate) == 2);
  h.Feed(FlowSetBuilder::Ipfix(1, 0).Template(256, SimpleFlowFields()).Build());
  CHECK(h.batch().size() == 0);
  h.FeedFrom(
      FlowSetBuilder::Ipfix(1, 0).Template(256, SimpleFlowFields()).Build(), b,
      h.now());
  CHECK(h.batch().size() == 8);
}

TEST_CASE("NF-20: buffering disabled counts kNoTemplate at once") {
  DecoderOptions opts;
  opts.pending_max_bytes_per_exporter = 0;
  DecoderHarness h(opts);
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  m.DataSet(256, Flows(2)).Template(256, SimpleFlowFields());
  m.DataSet(256, Flows(1));
  CHECK(h.Feed(m.Build()).records == 1);
  CHECK(h.errors(DecodeError::kNoTemplate) == 1);
}

TEST_CASE("NF-20: pending data of one domain is not decoded by another's") {
  DecoderHarness h;
  h.Feed(FlowSetBuilder::Ipfix(1, 0).DataSet(256, Flows(2)).Build());
  h.Feed(FlowSetBuilder::Ipfix(2, 0).Template(256, SimpleFlowFields()).Build());
  CHECK(h.batch().size() == 0);
  h.Feed(FlowSetBuilder::Ipfix(1, 0).Template(256, SimpleFlowFields()).Build());
  CHECK(h.batch().size() == 2);
}

}  // namespace
}  // namespace flowacct::testing
