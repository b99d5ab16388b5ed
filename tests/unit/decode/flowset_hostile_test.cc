// Hostile NetFlow v9 / IPFIX input at message and set level: one test per
// case of reference/hostile-inputs.md §1.3 (NF-n in the test name). Each
// asserts the counter AND that the rest of the datagram still decodes.
// Record-level cases (NF-11, NF-12, NF-15, NF-22..NF-26) are covered by the
// field program tests.

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

BytesBuilder Flows(int n, uint32_t bytes = 100) {
  BytesBuilder b;
  for (int i = 0; i < n; ++i)
    AppendSimpleFlow(b, static_cast<uint8_t>(i), bytes);
  return b;
}

// A message that first defines template 256 and sends 2 records with it, so
// a test can append its hostile part and check those 2 records survive.
FlowSetBuilder GoodStart(bool ipfix) {
  FlowSetBuilder m =
      ipfix ? FlowSetBuilder::Ipfix(1, 0) : FlowSetBuilder::V9(1, 0);
  m.Template(256, SimpleFlowFields());
  m.DataSet(256, Flows(2));
  return m;
}

class Observer : public DecodeObserver {
 public:
  void OnTemplate(const TemplateKey& key, TemplateEvent event) override {
    events.push_back({key.template_id, event});
  }
  std::vector<std::pair<uint16_t, TemplateEvent>> events;
  int Count(TemplateEvent e) const {
    int n = 0;
    for (const auto& [id, ev] : events) n += ev == e;
    return n;
  }
};

TEST_CASE("NF-2: set length 0 or < 4 stops the message, earlier sets kept") {
  for (bool ipfix : {false, true}) {
    for (uint16_t len : {0, 3}) {
      DecoderHarness h;
      FlowSetBuilder m = GoodStart(ipfix);
      m.SetHeader(256, len).Raw(Flows(1));
      DecodeSummary s = h.Feed(m.Build());
      CHECK(s.records == 2);
      CHECK(h.errors(DecodeError::kSetTooShort) == 1);
      CHECK(h.stats().total_errors() == 1);
    }
  }
}

TEST_CASE("NF-2 / Q30: zero fill after the last set is silently ignored") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    FlowSetBuilder m = GoodStart(ipfix);
    m.Zeros(1200);                  // PAN-OS 8.1 fills to a fixed size
    if (ipfix) m.MessageLength(0);  // patched below
    std::vector<uint8_t> p = m.Build();
    if (ipfix) {
      p[2] = static_cast<uint8_t>(p.size() >> 8);
      p[3] = static_cast<uint8_t>(p.size());
    }
    DecodeSummary s = h.Feed(p);
    CHECK(s.records == 2);
    CHECK(s.errors == 0);
    // 1..3 zero bytes too.
    FlowSetBuilder m2 = GoodStart(ipfix);
    m2.Zeros(3);
    if (!ipfix) CHECK(h.Feed(m2.Build()).errors == 0);
  }
}

TEST_CASE("NF-3: set length beyond the message stops it, earlier sets kept") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    FlowSetBuilder m = GoodStart(ipfix);
    m.SetHeader(256, 4 + 3 * kSimpleFlowLength).Raw(Flows(2));
    DecodeSummary s = h.Feed(m.Build());
    CHECK(s.records == 2);
    CHECK(h.errors(DecodeError::kSetOverrun) == 1);
  }
}

TEST_CASE("NF-4: reserved set ids are skipped by length, later sets decode") {
  SECTION("IPFIX set ids 0, 1, 4, 255") {
    for (uint16_t id : {0, 1, 4, 255}) {
      DecoderHarness h;
      FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
      m.Template(256, SimpleFlowFields());
      m.BeginSet(id).Raw(Flows(1)).EndSet();
      m.DataSet(256, Flows(3));
      CHECK(h.Feed(m.Build()).records == 3);
      CHECK(h.errors(DecodeError::kReservedSetId) == 1);
    }
  }
  SECTION("v9 flowset ids 2..255") {
    for (uint16_t id : {2, 3, 128, 255}) {
      DecoderHarness h;
      FlowSetBuilder m = FlowSetBuilder::V9(1, 0);
      m.Template(256, SimpleFlowFields());
      m.BeginSet(id).Raw(Flows(1)).EndSet();
      m.DataSet(256, Flows(3));
      CHECK(h.Feed(m.Build()).records == 3);
      CHECK(h.errors(DecodeError::kReservedSetId) == 1);
    }
  }
}

TEST_CASE("NF-5: template id < 256 is rejected, the next template is kept") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    Observer obs;
    h.decoder().set_observer(&obs);
    FlowSetBuilder m =
        ipfix ? FlowSetBuilder::Ipfix(1, 0) : FlowSetBuilder::V9(1, 0);
    m.BeginSet(ipfix ? 2 : 0)
        .TemplateRecord(255, SimpleFlowFields())
        .TemplateRecord(256, SimpleFlowFields())
        .EndSet();
    m.DataSet(256, Flows(1));
    CHECK(h.Feed(m.Build()).records == 1);
    CHECK(h.errors(DecodeError::kTemplateIdReserved) == 1);
    CHECK(obs.Count(DecodeObserver::TemplateEvent::kRejected) == 1);
    CHECK(obs.Count(DecodeObserver::TemplateEvent::kAdded) == 1);
  }
}

TEST_CASE("NF-6: field count beyond the set is rejected without allocating") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    FlowSetBuilder m = GoodStart(ipfix);
    BytesBuilder bogus;
    bogus.U16(300).U16(65535).U16(8).U16(4);  // 65535 fields announced
    m.BeginSet(ipfix ? 2 : 0).Raw(bogus).EndSet();
    m.DataSet(256, Flows(1));
    DecodeSummary s = h.Feed(m.Build());
    CHECK(s.records == 3);  // the data set after it still decodes
    CHECK(h.errors(DecodeError::kTemplateTruncated) == 1);
    CHECK(h.decoder().templates().stats().size == 1);
  }
}

TEST_CASE("NF-7: IPFIX template withdrawal over UDP is ignored") {
  DecoderHarness h;
  FlowSetBuilder m = GoodStart(true);
  m.Withdrawal(256);
  m.DataSet(256, Flows(1));
  CHECK(h.Feed(m.Build()).records == 3);
  CHECK(h.errors(DecodeError::kWithdrawalIgnored) == 1);
  // The template is still there for the next message.
  CHECK(h.Feed(FlowSetBuilder::Ipfix(1, 3).DataSet(256, Flows(1)).Build())
            .records == 1);
  // "All templates" withdrawal (id 2) too.
  FlowSetBuilder all = FlowSetBuilder::Ipfix(1, 4);
  all.Withdrawal(2).DataSet(256, Flows(1));
  CHECK(h.Feed(all.Build()).records == 1);
  CHECK(h.errors(DecodeError::kWithdrawalIgnored) == 2);
}

TEST_CASE("NF-8: withdrawal followed by < 4 bytes ends the set quietly") {
  DecoderHarness h;
  FlowSetBuilder m = GoodStart(true);
  m.BeginSet(2).Raw(BytesBuilder().U16(256).U16(0).U16(0x1234)).EndSet();
  m.DataSet(256, Flows(1));
  DecodeSummary s = h.Feed(m.Build());
  CHECK(s.records == 3);
  CHECK(h.errors(DecodeError::kWithdrawalIgnored) == 1);
  CHECK(h.errors(DecodeError::kTemplateTruncated) == 0);
}

TEST_CASE("NF-9: zero-length template is rejected, the set goes on") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    FlowSetBuilder m =
        ipfix ? FlowSetBuilder::Ipfix(1, 0) : FlowSetBuilder::V9(1, 0);
    m.BeginSet(ipfix ? 2 : 0)
        .TemplateRecord(300, {{8, 0}, {12, 0}})
        .TemplateRecord(256, SimpleFlowFields())
        .EndSet();
    m.DataSet(256, Flows(2));
    m.DataSet(300, Flows(1));  // must never loop
    DecodeSummary s = h.Feed(m.Build());
    CHECK(s.records == 2);
    CHECK(h.errors(DecodeError::kTemplateZeroLength) == 1);
  }
}

TEST_CASE("NF-10: fixed lengths summing past 65535 are rejected") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    FlowSetBuilder m =
        ipfix ? FlowSetBuilder::Ipfix(1, 0) : FlowSetBuilder::V9(1, 0);
    m.BeginSet(ipfix ? 2 : 0)
        .TemplateRecord(300, {{82, 32768}, {83, 32768}})
        .TemplateRecord(256, SimpleFlowFields())
        .EndSet();
    m.DataSet(256, Flows(2));
    CHECK(h.Feed(m.Build()).records == 2);
    CHECK(h.errors(DecodeError::kTemplateTooLong) == 1);
  }
}

TEST_CASE("NF-13: variable-length field beyond the set stops that set only") {
  DecoderHarness h;
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  m.Template(256, SimpleFlowFields());
  m.Template(257, {{1, 4}, {82, 65535}});
  BytesBuilder recs;
  recs.U32(1).U8(2).Str("ab");   // good record
  recs.U32(2).U8(255).U16(500);  // 3-byte length far beyond the set
  recs.Str("xyz");
  m.DataSet(257, recs);
  m.DataSet(256, Flows(2));
  DecodeSummary s = h.Feed(m.Build());
  CHECK(s.records == 3);
  CHECK(h.errors(DecodeError::kVarLenOverrun) == 1);
  CHECK(h.batch().records()[0].bytes == 1);
}

TEST_CASE("NF-14: enterprise bit with the PEN cut by the set end") {
  DecoderHarness h;
  FlowSetBuilder m = GoodStart(true);
  m.BeginSet(2)
      .Raw(BytesBuilder().U16(300).U16(1).U16(0x8000 | 5).U16(4).U16(0))
      .EndSet();
  m.DataSet(256, Flows(1));
  CHECK(h.Feed(m.Build()).records == 3);
  CHECK(h.errors(DecodeError::kTemplateTruncated) == 1);
  CHECK(h.decoder().templates().stats().size == 1);
}

TEST_CASE("NF-16: options template with a bad scope is rejected") {
  SECTION("IPFIX scope count 0 and > field count") {
    for (uint16_t scope : {0, 3}) {
      DecoderHarness h;
      FlowSetBuilder m = GoodStart(true);
      m.BeginSet(3)
          .Raw(BytesBuilder()
                   .U16(400)
                   .U16(2)
                   .U16(scope)
                   .U16(302)
                   .U16(4)
                   .U16(305)
                   .U16(4))
          .OptionsTemplateRecord(401, {{302, 4}}, {{305, 4}})
          .EndSet();
      BytesBuilder opt;
      opt.U32(1).U32(10);
      m.DataSet(401, opt);
      CHECK(h.Feed(m.Build()).records == 3);
      CHECK(h.errors(DecodeError::kTemplateBadScope) == 1);
    }
  }
  SECTION("v9 scope length 0 or not a multiple of 4, option length %4") {
    struct Bad {
      uint16_t scope_len, option_len;
    };
    for (Bad bad : {Bad{0, 4}, Bad{2, 4}, Bad{4, 6}}) {
      DecoderHarness h;
      FlowSetBuilder m = GoodStart(false);
      BytesBuilder rec;
      rec.U16(400).U16(bad.scope_len).U16(bad.option_len);
      rec.Zeros(bad.scope_len + bad.option_len);
      m.BeginSet(1)
          .Raw(rec)
          .OptionsTemplateRecord(401, {{1, 4}}, {{34, 4}})
          .EndSet();
      BytesBuilder opt;
      opt.U32(0).U32(10);
      m.DataSet(401, opt);
      CHECK(h.Feed(m.Build()).records == 3);
      CHECK(h.errors(DecodeError::kTemplateBadScope) == 1);
    }
  }
}

TEST_CASE("NF-17/NF-18: records decode with the layout valid at their place") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    Observer obs;
    h.decoder().set_observer(&obs);
    // Within one message: data, redefinition, data.
    FlowSetBuilder m =
        ipfix ? FlowSetBuilder::Ipfix(1, 0) : FlowSetBuilder::V9(1, 0);
    m.Template(256, SimpleFlowFields());
    m.DataSet(256, Flows(1, 111));
    m.Template(256, {{1, 4}, {8, 4}});  // new layout: bytes first
    BytesBuilder rec;
    rec.U32(222).Ip4(10, 2, 2, 2);
    m.DataSet(256, rec);
    DecodeSummary s = h.Feed(m.Build());
    REQUIRE(s.records == 2);
    CHECK(h.batch().records()[0].bytes == 111);
    CHECK(h.batch().records()[1].bytes == 222);
    CHECK(h.batch().records()[1].src_host == IpAddress::V4(0x0a020202));
    // Between messages: the refresh is not a redefinition, the change is.
    FlowSetBuilder m2 =
        ipfix ? FlowSetBuilder::Ipfix(1, 2) : FlowSetBuilder::V9(1, 1);
    m2.Template(256, {{1, 4}, {8, 4}});    // same as current: refresh
    m2.Template(256, SimpleFlowFields());  // redefinition
    m2.DataSet(256, Flows(1, 333));
    h.Feed(m2.Build());
    CHECK(h.batch().records()[2].bytes == 333);
    CHECK(obs.Count(DecodeObserver::TemplateEvent::kAdded) == 1);
    CHECK(obs.Count(DecodeObserver::TemplateEvent::kRedefined) == 2);
    CHECK(obs.Count(DecodeObserver::TemplateEvent::kRefreshed) == 1);
    CHECK(h.decoder().templates().stats().redefined == 2);
  }
}

TEST_CASE("NF-19: same template id in two domains keeps two layouts") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    auto msg = [&](uint32_t domain) {
      return ipfix ? FlowSetBuilder::Ipfix(domain, 0)
                   : FlowSetBuilder::V9(domain, 0);
    };
    h.Feed(msg(1).Template(256, SimpleFlowFields()).Build());
    h.Feed(msg(2).Template(256, {{1, 4}}).Build());
    h.Feed(msg(1).DataSet(256, Flows(1, 5)).Build());
    h.Feed(msg(2).DataSet(256, BytesBuilder().U32(6).U32(7)).Build());
    REQUIRE(h.batch().size() == 3);
    CHECK(h.batch().records()[0].bytes == 5);
    CHECK(h.batch().records()[0].observation_domain == 1);
    CHECK(h.batch().records()[1].bytes == 6);
    CHECK(h.batch().records()[2].bytes == 7);
    CHECK(h.batch().records()[2].observation_domain == 2);
    CHECK(h.stats().total_errors() == 0);
  }
}

TEST_CASE("NF-21: bytes shorter than a record after the last one are padding") {
  for (bool ipfix : {false, true}) {
    DecoderHarness h;
    FlowSetBuilder m =
        ipfix ? FlowSetBuilder::Ipfix(1, 0) : FlowSetBuilder::V9(1, 0);
    m.Template(256, SimpleFlowFields());
    m.DataSet(256, Flows(2), /*padding=*/3);   // RFC 7011 §3.3.1
    m.DataSet(256, Flows(1), /*padding=*/16);  // Nexus 7700 (Q11)
    BytesBuilder junk = Flows(1);
    junk.Bytes({1, 2, 3, 4, 5});
    m.DataSet(256, junk);
    m.DataSet(256, Flows(1));
    DecodeSummary s = h.Feed(m.Build());
    // Non-zero padding is padding too: real exporters send it (ipfixcol2's
    // example capture); the records before it are kept either way.
    CHECK(s.records == 5);
    CHECK(h.stats().total_errors() == 0);
  }
}

TEST_CASE("NF-27: template spraying is bounded by the per-exporter cap") {
  DecoderOptions opts;
  opts.templates.max_templates_per_exporter = 50;
  DecoderHarness h(opts);
  for (int msg = 0; msg < 20; ++msg) {
    FlowSetBuilder m = FlowSetBuilder::Ipfix(msg, 0);
    m.BeginSet(2);
    for (int i = 0; i < 100; ++i) {
      m.TemplateRecord(static_cast<uint16_t>(1000 + i), SimpleFlowFields());
    }
    m.EndSet();
    h.Feed(m.Build());
  }
  CHECK(h.decoder().templates().stats().size <= 50);
  CHECK(h.errors(DecodeError::kTemplateCapReached) > 0);
  // A fresh template still works after the spray.
  FlowSetBuilder m = FlowSetBuilder::Ipfix(77, 0);
  m.Template(256, SimpleFlowFields()).DataSet(256, Flows(2));
  CHECK(h.Feed(m.Build()).records == 2);
}

TEST_CASE("NF-29: data with an old export time uses the current template") {
  // Over UDP there is no template history: a message reordered behind a
  // redefinition is decoded with the layout known when it arrives (we do not
  // keep template snapshots by export time, unlike ipfixcol2 over SCTP).
  DecoderHarness h;
  h.Feed(FlowSetBuilder::Ipfix(1, 0, 2000).Template(256, {{1, 4}}).Build());
  h.Feed(FlowSetBuilder::Ipfix(1, 0, 1000)
             .DataSet(256, BytesBuilder().U32(9))
             .Build());
  REQUIRE(h.batch().size() == 1);
  CHECK(h.batch().records()[0].bytes == 9);
  CHECK(h.batch().records()[0].timestamp_export ==
        int64_t{1000} * 1'000'000'000);
}

}  // namespace
}  // namespace flowacct::testing
