// IPFIX (RFC 7011) message decoding: header, template / options template
// sets, enterprise fields, variable-length fields, sequence numbers.

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

TEST_CASE("ipfix: template then data in one message") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::Ipfix(/*domain=*/3, /*seq=*/100,
                                           /*export_time=*/1'700'000'200);
  m.Template(256, SimpleFlowFields());
  BytesBuilder recs;
  AppendSimpleFlow(recs, 1, 10);
  AppendSimpleFlow(recs, 2, 20);
  AppendSimpleFlow(recs, 3, 30);
  m.DataSet(256, recs);
  DecodeSummary s = h.Feed(m.Build());
  CHECK(s.protocol == ExportProtocol::kIpfix);
  REQUIRE(s.records == 3);
  CHECK(s.errors == 0);
  const FlowRecord& r = h.batch().records()[2];
  CHECK(r.protocol == ExportProtocol::kIpfix);
  CHECK(r.observation_domain == 3);
  CHECK(r.export_seqno == 100);
  CHECK(r.timestamp_export == int64_t{1'700'000'200} * 1'000'000'000);
  CHECK(r.bytes == 30);
  CHECK(h.stats().records == 3);
}

TEST_CASE("ipfix: enterprise fields are skipped by their length") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  m.Template(256, {{8, 4}, {100, 6, 9}, {1, 4}});  // PEN 9 (Cisco), 6 bytes
  BytesBuilder rec;
  rec.Ip4(10, 1, 1, 1).Bytes({1, 2, 3, 4, 5, 6}).U32(4242);
  m.DataSet(256, rec);
  DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 1);
  CHECK(h.batch().records()[0].bytes == 4242);
  CHECK(h.decoder().templates().stats().size == 1);
}

TEST_CASE("ipfix: variable-length fields in both length forms") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  // interfaceName (82) variable, octetDeltaCount (1) 4 bytes.
  m.Template(256, {{82, 65535}, {1, 4}});
  BytesBuilder recs;
  const uint8_t name[] = {'e', 't', '0'};
  FlowSetBuilder::VarLen(recs, name);
  recs.U32(1);
  FlowSetBuilder::VarLen(recs, name, /*long_form=*/true);
  recs.U32(2);
  m.DataSet(256, recs, /*padding=*/2);  // ASR9k-style padding (Q9)
  DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 2);
  CHECK(s.errors == 0);
  CHECK(h.batch().records()[1].bytes == 2);
}

TEST_CASE("ipfix: options template with scope, options data") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  // Scope: selectorId (302) 4 bytes; samplingPacketInterval (305) and
  // samplingPacketSpace (306): 1 of every 1+99 packets.
  m.OptionsTemplate(400, {{302, 4}}, {{305, 4}, {306, 4}});
  BytesBuilder opt;
  opt.U32(12).U32(1).U32(99);
  m.DataSet(400, opt);
  DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 1);
  const FlowRecord& r = h.batch().records()[0];
  CHECK(r.kind == RecordKind::kOptions);
  CHECK(r.sampler_id == 12);
  CHECK(r.sampling_rate == 100);
  CHECK(h.stats().options_records == 1);
  CHECK(h.stats().options_templates == 1);
}

TEST_CASE("ipfix: message length is authoritative (NF-1)") {
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  m.Template(256, SimpleFlowFields());
  SECTION("length < 16") {
    DecoderHarness h;
    m.MessageLength(15);
    CHECK(h.Feed(m.Build()).records == 0);
    CHECK(h.errors(DecodeError::kMessageLength) == 1);
    CHECK(h.stats().templates == 0);
  }
  SECTION("length > datagram") {
    DecoderHarness h;
    std::vector<uint8_t> p = m.Build();
    p.resize(p.size() - 1);
    h.Feed(p);
    CHECK(h.errors(DecodeError::kMessageLength) == 1);
    CHECK(h.stats().templates == 0);
  }
  SECTION("datagram shorter than the header") {
    DecoderHarness h;
    std::vector<uint8_t> p = m.Build();
    p.resize(15);
    h.Feed(p);
    CHECK(h.errors(DecodeError::kShortDatagram) == 1);
  }
  SECTION("datagram longer than the message: message decoded, rest counted") {
    DecoderHarness h;
    BytesBuilder recs;
    AppendSimpleFlow(recs, 1, 1);
    m.DataSet(256, recs);
    std::vector<uint8_t> p = m.Build();
    p.push_back(0xab);
    p.push_back(0xcd);
    DecodeSummary s = h.Feed(p);
    CHECK(s.records == 1);
    CHECK(h.errors(DecodeError::kTrailingBytes) == 1);
    CHECK(h.errors(DecodeError::kMessageLength) == 0);
  }
}

TEST_CASE("ipfix: sequence counts data records per domain (NF-28)") {
  DecoderHarness h;
  h.Feed(FlowSetBuilder::Ipfix(1, 0).Template(256, SimpleFlowFields()).Build());
  auto data = [](uint32_t domain, uint32_t seq, int n) {
    BytesBuilder recs;
    for (int i = 0; i < n; ++i) AppendSimpleFlow(recs, i, 1);
    return FlowSetBuilder::Ipfix(domain, seq).DataSet(256, recs).Build();
  };
  h.Feed(data(1, 0, 3));
  h.Feed(data(1, 3, 2));
  CHECK(h.stats().sequence.lost == 0);
  h.Feed(data(1, 10, 1));  // 5..9 lost: 5 records
  CHECK(h.stats().sequence.lost == 5);
  h.Feed(data(1, 5, 2));  // some of them arrive late
  CHECK(h.stats().sequence.reordered == 1);
  CHECK(h.stats().sequence.lost == 3);
  h.Feed(data(1, 7, 0));  // an empty data message: no records, no advance
  h.Feed(data(1, 0x7fffffff, 1));  // jump by ~2^31: a restart
  CHECK(h.stats().sequence.resets == 1);
  CHECK(h.stats().sequence.lost == 3);
  // Wrap modulo 2^32.
  h.Feed(data(1, 0xfffffffe, 1));  // reset again (far backwards/forwards)
  h.Feed(data(1, 0xffffffff, 2));
  h.Feed(data(1, 1, 1));
  CHECK(h.stats().sequence.lost == 3);
  CHECK(h.stats().sequence.resets == 2);
}

TEST_CASE("ipfix: sequence resyncs after records it could not count") {
  DecoderHarness h;
  BytesBuilder recs;
  AppendSimpleFlow(recs, 1, 1);
  AppendSimpleFlow(recs, 2, 1);
  h.Feed(FlowSetBuilder::Ipfix(1, 0).Template(256, SimpleFlowFields()).Build());
  h.Feed(FlowSetBuilder::Ipfix(1, 0).DataSet(256, recs).Build());
  // Message with a data set for a template we do not know yet: 2 records
  // we cannot count, plus 2 we can.
  h.Feed(FlowSetBuilder::Ipfix(1, 2)
             .DataSet(999, recs)
             .DataSet(256, recs)
             .Build());
  // Next message follows 4 records later: no loss may be reported.
  h.Feed(FlowSetBuilder::Ipfix(1, 6).DataSet(256, recs).Build());
  CHECK(h.stats().sequence.lost == 0);
  h.Feed(FlowSetBuilder::Ipfix(1, 8).DataSet(256, recs).Build());
  CHECK(h.stats().sequence.lost == 0);
  CHECK(h.stats().sequence.resets == 0);
}

}  // namespace
}  // namespace flowacct::testing
