// Hostile record contents that the set walker hands to the field program:
// RFC 6313 structured data (NF-22, NF-23) and options data whose string
// values are empty or overrun (NF-24). Structured data is skipped as one
// opaque variable-length field, never recursed into, so its insides cannot
// loop or overflow; what matters is that the record around it and the rest
// of the datagram still decode.

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"
#include "tests/support/flowset_builder.h"

namespace flowacct::testing {
namespace {

constexpr uint16_t kBasicList = 291;
constexpr uint16_t kSubTemplateList = 292;
constexpr uint16_t kSubTemplateMultiList = 293;

// Template 256: src/dst IPv4, a structured-data field, octetDeltaCount.
FlowSetBuilder WithList(uint16_t list_ie) {
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  m.Template(256, {{8, 4}, {12, 4}, {list_ie, kVariableLength}, {1, 4}});
  return m;
}

void AppendRecord(BytesBuilder& rec, uint8_t last,
                  const std::vector<uint8_t>& list, uint32_t bytes) {
  rec.Ip4(10, 0, 0, last).Ip4(10, 0, 1, 1);
  FlowSetBuilder::VarLen(rec, list);
  rec.U32(bytes);
}

TEST_CASE("NF-22: subTemplateMultiList with zero-length entries is skipped "
          "whole, records around it decode") {
  // RFC 6313 §4.5.3: semantic, then entries (template id, length). Entries of
  // length 0 and a 1000-deep self-nesting claim: nothing to follow.
  BytesBuilder list;
  list.U8(0xFF);                       // semantic: undefined
  for (int i = 0; i < 8; ++i) list.U16(256).U16(0);  // zero-length entries
  list.U16(300).U16(4000);             // entry claiming far more than is here
  BytesBuilder rec;
  AppendRecord(rec, 1, list.bytes(), 100);
  AppendRecord(rec, 2, {}, 200);  // empty list
  FlowSetBuilder m = WithList(kSubTemplateMultiList);
  m.DataSet(256, rec);
  DecoderHarness h;
  const DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 2);
  CHECK(s.errors == 0);
  CHECK(h.batch().records()[0].bytes == 100);
  CHECK(h.batch().records()[1].bytes == 200);
  CHECK(h.batch().records()[1].src_host.ToString() == "10.0.0.2");
}

TEST_CASE("NF-22: subTemplateList nested to any depth costs one skip") {
  // 200 levels of "subTemplateList containing a subTemplateList" encoded as
  // bytes: the decoder does not look inside, so depth cannot matter.
  std::vector<uint8_t> nested;
  for (int depth = 0; depth < 200 && nested.size() < 60000; ++depth) {
    std::vector<uint8_t> outer = {0x03, 0x01, 0x2C};  // semantic, tmpl 300
    outer.insert(outer.end(), nested.begin(), nested.end());
    nested = std::move(outer);
  }
  BytesBuilder rec;
  AppendRecord(rec, 7, nested, 4242);
  FlowSetBuilder m = WithList(kSubTemplateList);
  m.DataSet(256, rec);
  DecoderHarness h;
  const DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 1);
  CHECK(s.errors == 0);
  CHECK(h.batch().records()[0].bytes == 4242);
}

TEST_CASE("NF-23: basicList whose element count x length disagrees with the "
          "list length is skipped by the list length") {
  // RFC 6313 §4.5.1: semantic, field id, element length, then elements. Claim
  // 4-byte elements but carry 7 bytes.
  BytesBuilder list;
  list.U8(0x03).U16(8).U16(4).Bytes({1, 2, 3, 4, 5, 6, 7});
  BytesBuilder rec;
  AppendRecord(rec, 3, list.bytes(), 300);
  AppendRecord(rec, 4, list.bytes(), 400);
  FlowSetBuilder m = WithList(kBasicList);
  m.DataSet(256, rec);
  DecoderHarness h;
  const DecodeSummary s = h.Feed(m.Build());
  REQUIRE(s.records == 2);
  CHECK(h.batch().records()[1].bytes == 400);
}

TEST_CASE("NF-24: VRF / interface-name options data with empty or overrunning "
          "names") {
  // Options template 257: scope ingressVRFID (234), VRFname (236, vlen);
  // template 258: scope ingressInterface (10), interfaceName (82, vlen).
  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  m.OptionsTemplate(257, {{234, 4}}, {{236, kVariableLength}});
  m.OptionsTemplate(258, {{10, 4}}, {{82, kVariableLength}});
  SECTION("size 0 is a valid empty name") {
    BytesBuilder vrf;
    vrf.U32(5);
    FlowSetBuilder::VarLen(vrf, {});
    m.DataSet(257, vrf);
    BytesBuilder ifn;
    ifn.U32(9);
    FlowSetBuilder::VarLen(ifn, {});
    m.DataSet(258, ifn);
    DecoderHarness h;
    const DecodeSummary s = h.Feed(m.Build());
    REQUIRE(s.records == 2);
    CHECK(s.errors == 0);
    const FlowRecord& r = h.batch().records()[0];
    CHECK(r.kind == RecordKind::kOptions);
    CHECK(r.ingress_vrf_id == 5);
    CHECK(h.batch().bytes(r.vrf_name).empty());
  }
  SECTION("a name longer than the bytes left drops that record only") {
    BytesBuilder good;
    good.U32(9);
    const std::string name = "xe-0/0/0";
    FlowSetBuilder::VarLen(good,
                           std::vector<uint8_t>(name.begin(), name.end()));
    m.DataSet(258, good);
    BytesBuilder bad;
    bad.U32(5).U8(200).Str("short");  // claims 200 bytes, has 5
    m.DataSet(257, bad);
    DecoderHarness h;
    const DecodeSummary s = h.Feed(m.Build());
    REQUIRE(s.records == 1);
    CHECK(h.errors(DecodeError::kVarLenOverrun) == 1);
    const FlowRecord& r = h.batch().records()[0];
    CHECK(r.in_iface == 9);
    CHECK(h.batch().bytes(r.in_iface_name) == "xe-0/0/0");
  }
}

}  // namespace
}  // namespace flowacct::testing
