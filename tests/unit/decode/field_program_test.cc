// Tests for the compiled field programs: Template::Create validation,
// DecodeDataRecord converters, precedence, timestamps, custom primitives.

#include "libflowacct/decode/field_program.h"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/model/primitive_registry.h"
#include "flowacct/templates/template_cache.h"

#include "libflowacct/decode/information_elements.h"

#include "tests/support/bytes_builder.h"

namespace flowacct::internal {
namespace {

using testing::BytesBuilder;

TemplateField F(uint16_t id, uint16_t length, uint32_t pen = 0,
                bool reverse = false) {
  TemplateField f;
  f.element = ElementId{pen, id};
  f.length = length;
  f.reverse = reverse;
  return f;
}

std::shared_ptr<const Template> Make(
    std::vector<TemplateField> fields, const PrimitiveRegistry* reg = nullptr,
    Template::Kind kind = Template::Kind::kData, uint16_t scope = 0) {
  auto t = Template::Create(ExportProtocol::kIpfix, 300, kind, scope,
                            std::move(fields), reg);
  REQUIRE(t.ok());
  return std::move(t).value();
}

Status CreateStatus(std::vector<TemplateField> fields,
                    Template::Kind kind = Template::Kind::kData,
                    uint16_t scope = 0) {
  return Template::Create(ExportProtocol::kIpfix, 300, kind, scope,
                          std::move(fields), nullptr)
      .status();
}

struct Decoded {
  bool ok = false;
  FlowRecord record;
  RecordIssues issues;
  size_t consumed = 0;
};

Decoded Decode(const Template& t, const std::vector<uint8_t>& bytes,
               RecordBatch* batch, RecordTimeBase time = {}) {
  Decoded d;
  ByteReader set(bytes.data(), bytes.size());
  FlowRecord* r = batch->AppendRecord();
  d.ok = DecodeDataRecord(t, time, &set, batch, r, &d.issues);
  d.record = *r;
  d.consumed = bytes.size() - set.remaining();
  if (!d.ok) {
    CHECK(set.remaining() == bytes.size());  // unchanged on failure
    batch->PopRecord();
  }
  return d;
}

// ----------------------------------------------------------------------------
// Template::Create accept / reject table.

TEST_CASE("Create rejects templates that cannot be decoded safely",
          "[field_program]") {
  // No fields.
  CHECK(CreateStatus({}).code() == StatusCode::kInvalidArgument);
  // NF-9: every field length 0 -> record length 0.
  CHECK(CreateStatus({F(8, 0), F(12, 0)}).code() ==
        StatusCode::kInvalidArgument);
  // NF-10: two x 32768 wraps a 16-bit sum to 0; computed wide, rejected.
  CHECK(CreateStatus({F(1, 32768), F(2, 32768)}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(CreateStatus({F(1, 65535 - 1), F(2, 2)}).code() ==
        StatusCode::kInvalidArgument);
  // Exactly 65535 of fixed bytes is allowed.
  CHECK(CreateStatus({F(95, 65533), F(2, 2)}).ok());
  // NF-16: options scope count 0 or > field count.
  CHECK(
      CreateStatus({F(48, 2), F(34, 4)}, Template::Kind::kOptions, 0).code() ==
      StatusCode::kInvalidArgument);
  CHECK(
      CreateStatus({F(48, 2), F(34, 4)}, Template::Kind::kOptions, 3).code() ==
      StatusCode::kInvalidArgument);
  CHECK(CreateStatus({F(48, 2), F(34, 4)}, Template::Kind::kOptions, 2).ok());
  CHECK(CreateStatus({F(48, 2), F(34, 4)}, Template::Kind::kOptions, 1).ok());
  // A zero-length field next to real ones is fine; so is a lone vlen.
  CHECK(CreateStatus({F(8, 0), F(12, 4)}).ok());
  CHECK(CreateStatus({F(82, kVariableLength)}).ok());
  // NF-11: impossible typed lengths do not reject the template.
  CHECK(CreateStatus({F(8, 50), F(56, 7), F(1, 9)}).ok());
}

TEST_CASE("Create computes min record length and layout equality",
          "[field_program]") {
  auto a = Make({F(8, 4), F(82, kVariableLength), F(2, 4)});
  CHECK(a->min_record_length() == 9);
  CHECK(a->has_variable_length());
  auto b = Make({F(8, 4), F(82, kVariableLength), F(2, 4)});
  auto c = Make({F(8, 4), F(82, kVariableLength), F(2, 8)});
  CHECK(a->SameLayout(*b));
  CHECK_FALSE(a->SameLayout(*c));
  auto o = Make({F(8, 4), F(82, kVariableLength), F(2, 4)}, nullptr,
                Template::Kind::kOptions, 1);
  CHECK_FALSE(a->SameLayout(*o));
}

// ----------------------------------------------------------------------------
// Converters.

TEST_CASE("Reduced-size unsigned encoding, every size 1..8 (NF-12)",
          "[field_program]") {
  for (uint16_t n = 1; n <= 8; ++n) {
    INFO("length " << n);
    auto t = Make({F(1, n), F(2, n)});
    const uint64_t bytes =
        n == 8 ? 0x0102030405060708ull : (uint64_t{1} << (8 * n - 1)) | 0x5A;
    const uint64_t pkts =  // all ones in n bytes
        n == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
    BytesBuilder b;
    b.N(bytes, n).N(pkts, n);
    RecordBatch batch;
    Decoded d = Decode(*t, b.bytes(), &batch);
    REQUIRE(d.ok);
    CHECK(d.consumed == 2u * n);
    CHECK(d.record.bytes == bytes);
    CHECK(d.record.packets == pkts);
    CHECK(d.record.has(FlowField::kBytes));
    CHECK_FALSE(d.issues.field_length);
  }
  // Reduced size into narrower members: ports in 1 byte, AS in 2.
  auto t = Make({F(7, 1), F(16, 2), F(10, 2)});
  BytesBuilder b;
  b.U8(53).U16(65001).U16(7);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.record.src_port == 53);
  CHECK(d.record.src_as == 65001);
  CHECK(d.record.in_iface == 7);
}

TEST_CASE("Typical IPv4 v9 record decodes every field", "[field_program]") {
  auto t = Make({F(8, 4),  F(12, 4), F(7, 2),  F(11, 2), F(4, 1),  F(5, 1),
                 F(6, 1),  F(10, 4), F(14, 4), F(16, 4), F(17, 4), F(9, 1),
                 F(13, 1), F(15, 4), F(1, 4),  F(2, 4),  F(56, 6), F(80, 6),
                 F(18, 4), F(61, 1), F(89, 1), F(58, 2), F(256, 2)});
  BytesBuilder b;
  b.Ip4(10, 0, 0, 1)
      .Ip4(192, 0, 2, 7)
      .U16(12345)
      .U16(443)
      .U8(6)
      .U8(0x28)
      .U8(0x1B)
      .U32(3)
      .U32(4)
      .U32(64500)
      .U32(64501)
      .U8(24)
      .U8(16)
      .Ip4(10, 0, 0, 254)
      .U32(1500)
      .U32(3)
      .Bytes({0, 0x11, 0x22, 0xaa, 0xbb, 0xcc})
      .Bytes({0x02, 0, 0, 0, 0, 1})
      .Ip4(198, 51, 100, 1)
      .U8(1)
      .U8(64)
      .U16(100)
      .U16(0x0800);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  const FlowRecord& r = d.record;
  CHECK(r.src_host.ToString() == "10.0.0.1");
  CHECK(r.dst_host.ToString() == "192.0.2.7");
  CHECK(r.src_port == 12345);
  CHECK(r.dst_port == 443);
  CHECK(r.proto == 6);
  CHECK(r.tos == 0x28);
  CHECK(r.tcp_flags == 0x1B);
  CHECK(r.in_iface == 3);
  CHECK(r.out_iface == 4);
  CHECK(r.src_as == 64500);
  CHECK(r.dst_as == 64501);
  CHECK(r.src_mask == 24);
  CHECK(r.dst_mask == 16);
  CHECK(r.ip_next_hop.ToString() == "10.0.0.254");
  CHECK(r.bgp_next_hop.ToString() == "198.51.100.1");
  CHECK(r.bytes == 1500);
  CHECK(r.packets == 3);
  CHECK(r.flows == 1);
  CHECK(r.src_mac.ToString() == "00:11:22:aa:bb:cc");
  CHECK(r.dst_mac.ToString() == "02:00:00:00:00:01");
  CHECK(r.direction == 1);
  CHECK(r.fwd_status == 64);
  CHECK(r.in_vlan == 100);
  CHECK(r.etype == 0x0800);
  CHECK(r.ip_version == 4);
  CHECK(r.kind == RecordKind::kFlow);
  CHECK(r.template_id == 300);
  for (FlowField f :
       {FlowField::kSrcHost,   FlowField::kDstHost,   FlowField::kSrcPort,
        FlowField::kDstPort,   FlowField::kProto,     FlowField::kTos,
        FlowField::kTcpFlags,  FlowField::kInIface,   FlowField::kOutIface,
        FlowField::kSrcAs,     FlowField::kDstAs,     FlowField::kSrcMask,
        FlowField::kDstMask,   FlowField::kIpNextHop, FlowField::kBgpNextHop,
        FlowField::kBytes,     FlowField::kPackets,   FlowField::kFlows,
        FlowField::kSrcMac,    FlowField::kDstMac,    FlowField::kDirection,
        FlowField::kFwdStatus, FlowField::kInVlan,    FlowField::kEtype,
        FlowField::kIpVersion, FlowField::kTemplateId}) {
    INFO("field " << static_cast<int>(f));
    CHECK(r.has(f));
  }
  CHECK_FALSE(r.has(FlowField::kTimestampStart));
  CHECK_FALSE(r.has(FlowField::kSrcMac) == false);
  CHECK_FALSE(d.issues.field_length);
  CHECK_FALSE(d.issues.time_anomaly);
}

TEST_CASE("IPv6 addresses, flow label, next hops, ip version",
          "[field_program]") {
  auto t = Make({F(27, 16), F(28, 16), F(62, 16), F(63, 16), F(31, 4), F(29, 1),
                 F(30, 1)});
  BytesBuilder b;
  b.Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  b.Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  b.Bytes({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  b.Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9});
  b.U32(0xABCDE).U8(48).U8(64);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.record.src_host.ToString() == "2001:db8::1");
  CHECK(d.record.dst_host.ToString() == "2001:db8::2");
  CHECK(d.record.ip_next_hop.ToString() == "fe80::1");
  CHECK(d.record.bgp_next_hop.ToString() == "2001:db8::9");
  CHECK(d.record.flow_label == 0xABCDE);
  CHECK(d.record.src_mask == 48);
  CHECK(d.record.dst_mask == 64);
  CHECK(d.record.ip_version == 6);
  // IE 60 wins over the address family.
  auto t2 = Make({F(60, 1), F(27, 16)});
  BytesBuilder b2;
  b2.U8(4).Zeros(16);
  Decoded d2 = Decode(*t2, b2.bytes(), &batch);
  REQUIRE(d2.ok);
  CHECK(d2.record.ip_version == 4);
}

TEST_CASE("Impossible typed lengths are not copied (NF-11)",
          "[field_program]") {
  // IPv4 address of 50 bytes, MAC of 7, uint of 9, port of 4.
  auto t = Make({F(8, 50), F(56, 7), F(1, 9), F(7, 4), F(12, 4)});
  BytesBuilder b;
  b.Bytes(std::vector<uint8_t>(50, 0xEE)).Zeros(7).Zeros(9).U32(80);
  b.Ip4(192, 0, 2, 1);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.consumed == 74);
  CHECK(d.issues.field_length);
  CHECK_FALSE(d.record.has(FlowField::kSrcHost));
  CHECK_FALSE(d.record.src_host.is_set());
  CHECK_FALSE(d.record.has(FlowField::kSrcMac));
  CHECK_FALSE(d.record.has(FlowField::kBytes));
  CHECK_FALSE(d.record.has(FlowField::kSrcPort));
  CHECK(d.record.dst_host.ToString() == "192.0.2.1");
  // forwardingStatus: 1 and 4 bytes are both valid (peers Q8); 2 too
  // (reduced-size unsigned32).
  for (uint16_t n : {1, 2, 4}) {
    auto t89 = Make({F(89, n)});
    BytesBuilder b89;
    b89.N(0x42, n);
    Decoded d89 = Decode(*t89, b89.bytes(), &batch);
    REQUIRE(d89.ok);
    CHECK(d89.record.fwd_status == 0x42);
    CHECK_FALSE(d89.issues.field_length);
  }
}

TEST_CASE("Repeated IEs: first occurrence fills the member (NF-15)",
          "[field_program]") {
  std::vector<TemplateField> fields;
  for (int i = 0; i < 200; ++i) fields.push_back(F(7, 2));
  fields.push_back(F(11, 2));
  auto t = Make(fields);
  BytesBuilder b;
  for (int i = 0; i < 200; ++i) b.U16(1000 + i);
  b.U16(53);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.consumed == 402);
  CHECK(d.record.src_port == 1000);
  CHECK(d.record.dst_port == 53);
}

TEST_CASE("Variable-length fields, both length forms (RFC 7011 §7, NF-13)",
          "[field_program]") {
  auto t = Make({F(82, kVariableLength), F(7, 2), F(236, kVariableLength),
                 F(95, kVariableLength)});
  BytesBuilder b;
  b.U8(4).Str("eth0").U16(22);
  const std::string long_name(300, 'v');
  b.U8(255).U16(300).Str(long_name);
  b.U8(255).U16(3).Bytes({0x0d, 0x00, 0x50});  // long form for a short value
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.consumed == b.size());
  CHECK(batch.bytes(d.record.in_iface_name) == "eth0");
  CHECK(d.record.src_port == 22);
  CHECK(batch.bytes(d.record.vrf_name) == long_name);
  CHECK(batch.bytes(d.record.application_id) == std::string("\x0d\x00\x50", 3));
  CHECK(d.record.has(FlowField::kVrfName));

  SECTION("short-form length beyond the set") {
    BytesBuilder o;
    o.U8(10).Str("abc");
    RecordBatch b2;
    CHECK_FALSE(Decode(*t, o.bytes(), &b2).ok);
  }
  SECTION("long-form length beyond the set") {
    BytesBuilder o;
    o.U8(255).U16(0xFFFF).Str("abc");
    RecordBatch b2;
    CHECK_FALSE(Decode(*t, o.bytes(), &b2).ok);
  }
  SECTION("long-form length prefix itself truncated") {
    BytesBuilder o;
    o.U8(255).U8(1);
    RecordBatch b2;
    CHECK_FALSE(Decode(*t, o.bytes(), &b2).ok);
  }
  SECTION("fixed part after a vlen runs past the end") {
    BytesBuilder o;
    o.U8(2).Str("ab").U8(1);
    RecordBatch b2;
    CHECK_FALSE(Decode(*t, o.bytes(), &b2).ok);
  }
  SECTION("fixed template shorter than record") {
    auto ft = Make({F(8, 4), F(12, 4)});
    BytesBuilder o;
    o.Ip4(1, 2, 3, 4).U16(0);
    RecordBatch b2;
    CHECK_FALSE(Decode(*ft, o.bytes(), &b2).ok);
  }
  SECTION("vlen on a typed IE is a field_length issue, skipped by length") {
    auto vt = Make({F(8, kVariableLength), F(12, 4)});
    BytesBuilder o;
    o.U8(3).Bytes({1, 2, 3}).Ip4(192, 0, 2, 9);
    RecordBatch b2;
    Decoded dv = Decode(*vt, o.bytes(), &b2);
    REQUIRE(dv.ok);
    CHECK(dv.issues.field_length);
    CHECK_FALSE(dv.record.src_host.is_set());
    CHECK(dv.record.dst_host.ToString() == "192.0.2.9");
  }
}

TEST_CASE("Records decode back to back and the cursor advances",
          "[field_program]") {
  auto t = Make({F(8, 4), F(2, 4)});
  BytesBuilder b;
  for (uint32_t i = 0; i < 10; ++i) b.Ip4(10, 0, 0, uint8_t(i)).U32(i);
  ByteReader set(b.bytes().data(), b.size());
  RecordBatch batch;
  for (uint32_t i = 0; i < 10; ++i) {
    FlowRecord* r = batch.AppendRecord();
    RecordIssues issues;
    REQUIRE(DecodeDataRecord(*t, {}, &set, &batch, r, &issues));
    CHECK(r->packets == i);
  }
  CHECK(set.empty());
}

TEST_CASE("ICMP, MPLS, RD, NAT, VRF, VLAN converters", "[field_program]") {
  auto t =
      Make({F(32, 2),  F(70, 3),  F(71, 3),  F(72, 3),  F(90, 8),  F(225, 4),
            F(226, 4), F(227, 2), F(228, 2), F(230, 1), F(234, 4), F(235, 4),
            F(245, 2), F(255, 2), F(244, 1), F(249, 4), F(128, 4), F(129, 4),
            F(38, 1),  F(39, 1),  F(1, 8)});
  BytesBuilder b;
  b.U16(0x0303);
  // Labels 100, 200, 500; only the last has the bottom-of-stack bit.
  b.U24(0x000640).U24(0x000C80).U24(0x001F41);
  b.Bytes({0, 0, 0xFD, 0xE8, 0, 0, 0, 0x64});
  b.Ip4(203, 0, 113, 1).Ip4(203, 0, 113, 2).U16(40000).U16(40001).U8(1);
  b.U32(11).U32(12).U16(200).U16(201).U8(5).U32(77).U32(65010).U32(65020);
  b.U8(1).U8(2).U64(999);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  const FlowRecord& r = d.record;
  CHECK(r.icmp_type == 3);
  CHECK(r.icmp_code == 3);
  CHECK(r.has(FlowField::kIcmpType));
  CHECK(r.has(FlowField::kIcmpCode));
  CHECK(r.mpls_label_count == 3);
  CHECK(r.mpls_labels[0] == 0x000640);
  CHECK(r.mpls_labels[2] == 0x001F41);
  CHECK(r.has(FlowField::kMplsLabels));
  CHECK(r.mpls_vpn_rd ==
        std::array<uint8_t, 8>{0, 0, 0xFD, 0xE8, 0, 0, 0, 0x64});
  CHECK(r.post_nat_src_host.ToString() == "203.0.113.1");
  CHECK(r.post_nat_dst_host.ToString() == "203.0.113.2");
  CHECK(r.post_nat_src_port == 40000);
  CHECK(r.post_nat_dst_port == 40001);
  CHECK(r.nat_event == 1);
  CHECK(r.ingress_vrf_id == 11);
  CHECK(r.egress_vrf_id == 12);
  CHECK(r.in_cvlan == 200);
  CHECK(r.out_cvlan == 201);
  CHECK(r.cos == 5);
  CHECK(r.mpls_pw_id == 77);
  CHECK(r.peer_dst_as == 65010);
  CHECK(r.peer_src_as == 65020);
  CHECK(r.engine_type == 1);
  CHECK(r.engine_id == 2);
  // Has bytes: a flow, not an event.
  CHECK(r.kind == RecordKind::kFlow);

  // IE 176/177 when 32 is absent; 32 wins when both are present.
  auto t2 = Make({F(176, 1), F(177, 1)});
  BytesBuilder b2;
  b2.U8(8).U8(0);
  Decoded d2 = Decode(*t2, b2.bytes(), &batch);
  CHECK(d2.record.icmp_type == 8);
  CHECK(d2.record.icmp_code == 0);
  auto t3 = Make({F(178, 1), F(139, 2)});
  BytesBuilder b3;
  b3.U8(1).U16(0x8100);
  Decoded d3 = Decode(*t3, b3.bytes(), &batch);
  CHECK(d3.record.icmp_type == 0x81);
  CHECK(d3.record.icmp_code == 0);
}

TEST_CASE("Record kind: options, events, flows", "[field_program]") {
  RecordBatch batch;
  auto opt = Make({F(48, 2), F(34, 4)}, nullptr, Template::Kind::kOptions, 1);
  BytesBuilder b;
  b.U16(5).U32(1000);
  Decoded d = Decode(*opt, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.record.kind == RecordKind::kOptions);
  CHECK(d.record.sampler_id == 5);
  CHECK(d.record.sampling_rate == 1000);
  CHECK_FALSE(d.record.has(FlowField::kFlows));

  // NSEL: firewall event without counters -> event.
  auto ev = Make({F(40005, 1), F(8, 4), F(40001, 4), F(323, 8)});
  BytesBuilder be;
  be.U8(1).Ip4(10, 0, 0, 1).Ip4(198, 51, 100, 5).U64(1700000000123ull);
  Decoded de = Decode(*ev, be.bytes(), &batch);
  REQUIRE(de.ok);
  CHECK(de.record.kind == RecordKind::kEvent);
  CHECK(de.record.fw_event == 1);
  CHECK(de.record.post_nat_src_host.ToString() == "198.51.100.5");
  CHECK(de.record.timestamp_start == 1700000000123ll * 1'000'000);
  CHECK_FALSE(de.record.has(FlowField::kTimestampEnd));  // an event, no end

  // NAT event with 231/298 counters: a flow.
  auto nat = Make({F(230, 1), F(231, 4), F(298, 4), F(232, 4), F(299, 4)});
  BytesBuilder bn;
  bn.U8(1).U32(100).U32(2).U32(300).U32(4);
  Decoded dn = Decode(*nat, bn.bytes(), &batch);
  CHECK(dn.record.kind == RecordKind::kFlow);
  CHECK(dn.record.bytes == 100);
  CHECK(dn.record.packets == 2);
  CHECK(dn.record.reverse_bytes == 300);
  CHECK(dn.record.reverse_packets == 4);
}

// ----------------------------------------------------------------------------
// Precedence.

TEST_CASE("Counter precedence: 1/2, then 85/86, then 231/298, then 23/24",
          "[field_program]") {
  RecordBatch batch;
  struct Case {
    std::vector<uint16_t> ids;
    uint64_t expect_bytes;
  };
  // Field i carries value 100 + i.
  const Case cases[] = {
      {{23, 1}, 101},  // IN_BYTES beats OUT_BYTES (peers Q41)
      {{1, 23}, 100},      {{23, 85}, 101}, {{231, 85}, 101},
      {{231, 23}, 100},    {{23}, 100},  // OUT_BYTES alone
      {{85, 1, 231}, 101},
  };
  for (const Case& c : cases) {
    std::vector<TemplateField> fields;
    BytesBuilder b;
    for (size_t i = 0; i < c.ids.size(); ++i) {
      fields.push_back(F(c.ids[i], 8));
      b.U64(100 + i);
    }
    auto t = Make(fields);
    Decoded d = Decode(*t, b.bytes(), &batch);
    REQUIRE(d.ok);
    CHECK(d.record.bytes == c.expect_bytes);
  }
  // Packets the same way.
  auto t = Make({F(24, 4), F(86, 4), F(2, 4)});
  BytesBuilder b;
  b.U32(1).U32(2).U32(3);
  CHECK(Decode(*t, b.bytes(), &batch).record.packets == 3);
  // flows: IE 3, else 1.
  auto tf = Make({F(3, 4), F(1, 4)});
  BytesBuilder bf;
  bf.U32(7).U32(1);
  CHECK(Decode(*tf, bf.bytes(), &batch).record.flows == 7);
}

TEST_CASE("Interfaces fall back to 252/253 (peers Q29); sampler ids",
          "[field_program]") {
  RecordBatch batch;
  auto phys = Make({F(252, 4), F(253, 4)});
  BytesBuilder b;
  b.U32(5).U32(6);
  Decoded d = Decode(*phys, b.bytes(), &batch);
  CHECK(d.record.in_iface == 5);
  CHECK(d.record.out_iface == 6);
  auto both = Make({F(252, 4), F(10, 4), F(253, 4), F(14, 4)});
  BytesBuilder b2;
  b2.U32(5).U32(1).U32(6).U32(2);
  Decoded d2 = Decode(*both, b2.bytes(), &batch);
  CHECK(d2.record.in_iface == 1);
  CHECK(d2.record.out_iface == 2);
  auto sel = Make({F(302, 8), F(48, 1)});
  BytesBuilder b3;
  b3.U64(99).U8(3);
  CHECK(Decode(*sel, b3.bytes(), &batch).record.sampler_id == 3);
  auto sel2 = Make({F(302, 8)});
  BytesBuilder b4;
  b4.U64(99);
  CHECK(Decode(*sel2, b4.bytes(), &batch).record.sampler_id == 99);
}

TEST_CASE("Sampling rate from 34/50 or 305/306 (peers Q28)",
          "[field_program]") {
  RecordBatch batch;
  auto nokia = Make({F(305, 4), F(306, 4), F(8, 4)});
  BytesBuilder b;
  b.U32(1).U32(999).Ip4(1, 1, 1, 1);
  Decoded d = Decode(*nokia, b.bytes(), &batch);
  CHECK(d.record.sampling_rate == 1000);
  CHECK(d.record.has(FlowField::kSamplingRate));
  // Interval 0: unknown.
  BytesBuilder bz;
  bz.U32(0).U32(999).Ip4(1, 1, 1, 1);
  CHECK(Decode(*nokia, bz.bytes(), &batch).record.sampling_rate == 0);
  // Space 0 (every packet selected, logstash-ipfix-two-messages) or no
  // space at all (pmacct-104): no rate is known, not 1 (pmacct prints 0).
  BytesBuilder bs;
  bs.U32(1).U32(0).Ip4(1, 1, 1, 1);
  Decoded ds = Decode(*nokia, bs.bytes(), &batch);
  CHECK(ds.record.sampling_rate == 0);
  CHECK_FALSE(ds.record.has(FlowField::kSamplingRate));
  auto interval_only = Make({F(305, 4), F(8, 4)});
  BytesBuilder bi;
  bi.U32(1).Ip4(1, 1, 1, 1);
  CHECK(Decode(*interval_only, bi.bytes(), &batch).record.sampling_rate == 0);
  // 34 beats 50 beats 305/306.
  auto mixed = Make({F(305, 4), F(306, 4), F(50, 4), F(34, 4)});
  BytesBuilder bm;
  bm.U32(1).U32(9).U32(500).U32(100);
  CHECK(Decode(*mixed, bm.bytes(), &batch).record.sampling_rate == 100);
  auto rnd = Make({F(305, 4), F(306, 4), F(50, 4)});
  BytesBuilder br;
  br.U32(1).U32(9).U32(500);
  CHECK(Decode(*rnd, br.bytes(), &batch).record.sampling_rate == 500);
}

TEST_CASE("RFC 5103 reverse counters", "[field_program]") {
  RecordBatch batch;
  auto t = Make({F(1, 8), F(2, 8), F(1, 8, kReversePen), F(2, 8, 0, true)});
  BytesBuilder b;
  b.U64(10).U64(1).U64(20).U64(2);
  Decoded d = Decode(*t, b.bytes(), &batch);
  CHECK(d.record.bytes == 10);
  CHECK(d.record.packets == 1);
  CHECK(d.record.reverse_bytes == 20);
  CHECK(d.record.reverse_packets == 2);
  CHECK(d.record.has(FlowField::kReverseBytes));
}

// ----------------------------------------------------------------------------
// Time.

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

TEST_CASE("v9 FIRST/LAST_SWITCHED against sysUptime, with 32-bit wrap (Q4)",
          "[field_program]") {
  auto t = Make({F(22, 4), F(21, 4)});
  RecordBatch batch;
  RecordTimeBase base;
  base.protocol = ExportProtocol::kNetflowV9;
  base.export_time_ns = 1'700'000'000 * kSec;
  base.has_sys_uptime = true;
  SECTION("plain") {
    base.sys_uptime_ms = 100'000;
    BytesBuilder b;
    b.U32(40'000).U32(90'000);
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    REQUIRE(d.ok);
    CHECK(d.record.timestamp_start == base.export_time_ns - 60'000 * kMs);
    CHECK(d.record.timestamp_end == base.export_time_ns - 10'000 * kMs);
    CHECK(d.record.timestamp_export == base.export_time_ns);
    CHECK_FALSE(d.issues.time_anomaly);
  }
  SECTION("uptime wrapped between first and export") {
    base.sys_uptime_ms = 1'000;  // wrapped 1 s ago
    BytesBuilder b;
    b.U32(0xFFFFFFFFu - 1'999).U32(500);  // first: 3 s ago; last: 0.5 s ago
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    REQUIRE(d.ok);
    CHECK(d.record.timestamp_start == base.export_time_ns - 3'000 * kMs);
    CHECK(d.record.timestamp_end == base.export_time_ns - 500 * kMs);
    CHECK_FALSE(d.issues.time_anomaly);
  }
  SECTION("last after sysUptime (CSCei12353) is flagged, kept") {
    base.sys_uptime_ms = 100'000;
    BytesBuilder b;
    b.U32(90'000).U32(250'000);
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    REQUIRE(d.ok);
    CHECK(d.record.timestamp_end == base.export_time_ns + 150'000 * kMs);
    CHECK(d.issues.time_anomaly);
  }
}

TEST_CASE("IPFIX 21/22 with systemInitTimeMilliseconds after them (Q24)",
          "[field_program]") {
  auto t = Make({F(22, 4), F(21, 4), F(8, 4), F(160, 8)});
  RecordBatch batch;
  RecordTimeBase base;
  base.protocol = ExportProtocol::kIpfix;
  base.export_time_ns = 1'700'000'100 * kSec;
  BytesBuilder b;
  const uint64_t init_ms = 1'700'000'000'000ull;
  b.U32(5'000).U32(7'000).Ip4(1, 2, 3, 4).U64(init_ms);
  Decoded d = Decode(*t, b.bytes(), &batch, base);
  REQUIRE(d.ok);
  CHECK(d.record.timestamp_start == int64_t(init_ms + 5'000) * kMs);
  CHECK(d.record.timestamp_end == int64_t(init_ms + 7'000) * kMs);
  CHECK_FALSE(d.issues.time_anomaly);

  // Without 160: no end is invented; the start is the export time (pmacct).
  auto t2 = Make({F(22, 4), F(21, 4)});
  BytesBuilder b2;
  b2.U32(5'000).U32(7'000);
  Decoded d2 = Decode(*t2, b2.bytes(), &batch, base);
  CHECK_FALSE(d2.record.has(FlowField::kTimestampEnd));
  CHECK(d2.record.has(FlowField::kTimestampStart));
  CHECK(d2.record.timestamp_start == base.export_time_ns);

  // With an init time learnt from options data (RecordTimeBase): exact.
  RecordTimeBase learnt = base;
  learnt.sys_init_ms = init_ms;
  learnt.has_sys_init = true;
  Decoded d3 = Decode(*t2, b2.bytes(), &batch, learnt);
  CHECK(d3.record.timestamp_start == int64_t(init_ms + 5'000) * kMs);
  CHECK(d3.record.timestamp_end == int64_t(init_ms + 7'000) * kMs);
  // The record's own IE 160 beats the learnt one and is reported.
  Decoded d4 = Decode(*t, b.bytes(), &batch, learnt);
  CHECK(d4.record.timestamp_start == int64_t(init_ms + 5'000) * kMs);
  CHECK(d4.issues.sys_init_ms == init_ms);
}

TEST_CASE("Absolute timestamps 150..157 (RFC 7011 §6.1.7-10)",
          "[field_program]") {
  RecordBatch batch;
  RecordTimeBase base;
  base.export_time_ns = 1'700'000'100 * kSec;
  SECTION("seconds") {
    auto t = Make({F(150, 4), F(151, 4)});
    BytesBuilder b;
    b.U32(1'700'000'000).U32(1'700'000'010);
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    CHECK(d.record.timestamp_start == 1'700'000'000 * kSec);
    CHECK(d.record.timestamp_end == 1'700'000'010 * kSec);
  }
  SECTION("milliseconds") {
    auto t = Make({F(152, 8), F(153, 8)});
    BytesBuilder b;
    b.U64(1'700'000'000'250ull).U64(1'700'000'000'750ull);
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    CHECK(d.record.timestamp_start == 1'700'000'000'250 * kMs);
    CHECK(d.record.timestamp_end == 1'700'000'000'750 * kMs);
    CHECK_FALSE(d.issues.time_anomaly);
  }
  SECTION("micro- and nanoseconds, NTP format") {
    auto t = Make({F(154, 8), F(157, 8)});
    const uint32_t ntp_secs = 1'700'000'000u + 2'208'988'800u;
    BytesBuilder b;
    b.U32(ntp_secs).U32(0x80000000u);      // +0.5 s
    b.U32(ntp_secs + 1).U32(0x40000000u);  // +1.25 s
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    CHECK(d.record.timestamp_start == 1'700'000'000 * kSec + 500 * kMs);
    CHECK(d.record.timestamp_end == 1'700'000'001 * kSec + 250 * kMs);
  }
  SECTION("155 and 156") {
    auto t = Make({F(156, 8), F(155, 8)});
    const uint32_t ntp_secs = 1'700'000'000u + 2'208'988'800u;
    BytesBuilder b;
    b.U32(ntp_secs).U32(0).U32(ntp_secs + 2).U32(0);
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    CHECK(d.record.timestamp_start == 1'700'000'000 * kSec);
    CHECK(d.record.timestamp_end == 1'700'000'002 * kSec);
  }
  SECTION("end before start is kept and flagged (NF-26)") {
    auto t = Make({F(152, 8), F(153, 8)});
    BytesBuilder b;
    b.U64(1'700'000'000'750ull).U64(1'700'000'000'250ull);
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    REQUIRE(d.ok);
    CHECK(d.issues.time_anomaly);
    CHECK(d.record.timestamp_end == 1'700'000'000'250 * kMs);
  }
  SECTION("far future / far past flagged") {
    auto t = Make({F(150, 4), F(151, 4)});
    BytesBuilder b;
    b.U32(1).U32(1'700'000'000);  // 1970-01-01 00:00:01
    CHECK(Decode(*t, b.bytes(), &batch, base).issues.time_anomaly);
    BytesBuilder b2;
    b2.U32(1'700'000'000).U32(0xFFFFFFFFu);
    CHECK(Decode(*t, b2.bytes(), &batch, base).issues.time_anomaly);
  }
  SECTION("absolute beats relative beats 323") {
    auto t = Make({F(323, 8), F(22, 4), F(152, 8)});
    BytesBuilder b;
    b.U64(1'700'000'000'999ull).U32(5).U64(1'700'000'000'111ull);
    Decoded d = Decode(*t, b.bytes(), &batch, base);
    CHECK(d.record.timestamp_start == 1'700'000'000'111 * kMs);
    // end: 323 is an event time, not an end; nothing else can fill it.
    CHECK_FALSE(d.record.has(FlowField::kTimestampEnd));
  }
}

// ----------------------------------------------------------------------------
// Custom primitives.

TEST_CASE("Custom primitives: fixed, vlen, PEN", "[field_program]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  CustomPrimitiveSpec fixed{"my_tos", ElementId{0, 5}, 1, PrimitiveType::kUint};
  CustomPrimitiveSpec vlen{"app_name", ElementId{9, 12235}, kVariableLength,
                           PrimitiveType::kString};
  CustomPrimitiveSpec pen_fixed{"jnpr_cpid", ElementId{2636, 137}, 4,
                                PrimitiveType::kHex};
  auto id_fixed = reg->AddCustom(fixed);
  auto id_vlen = reg->AddCustom(vlen);
  auto id_pen = reg->AddCustom(pen_fixed);
  REQUIRE(id_fixed.ok());
  REQUIRE(id_vlen.ok());
  REQUIRE(id_pen.ok());
  auto t = Make({F(5, 1), F(12235, kVariableLength, 9), F(137, 4, 2636),
                 F(12235, kVariableLength, 9), F(8, 4)},
                reg.get());
  BytesBuilder b;
  b.U8(0x2e).U8(5).Str("https").U32(0xDEADBEEF).U8(3).Str("dns");
  b.Ip4(10, 1, 2, 3);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  // The typed member is filled too.
  CHECK(d.record.tos == 0x2e);
  CHECK(d.record.src_host.ToString() == "10.1.2.3");
  auto customs = batch.customs(d.record);
  REQUIRE(customs.size() == 3);  // second 12235 occurrence is not stored
  CHECK(customs[0].primitive == *id_fixed);
  CHECK(batch.bytes(customs[0].value) == "\x2e");
  CHECK(customs[1].primitive == *id_vlen);
  CHECK(batch.bytes(customs[1].value) == "https");
  CHECK(customs[2].primitive == *id_pen);
  CHECK(batch.bytes(customs[2].value) == "\xDE\xAD\xBE\xEF");
  // Fixed-length template path with a custom on an otherwise unknown IE.
  auto t2 = Make({F(137, 4, 2636), F(7, 2)}, reg.get());
  BytesBuilder b2;
  b2.U32(0x01020304).U16(80);
  RecordBatch batch2;
  Decoded d2 = Decode(*t2, b2.bytes(), &batch2);
  auto c2 = batch2.customs(d2.record);
  REQUIRE(c2.size() == 1);
  CHECK(batch2.bytes(c2[0].value) == "\x01\x02\x03\x04");
  CHECK(d2.record.src_port == 80);
}

TEST_CASE("dataLinkFrameSection (IE 315) is parsed; typed IEs win",
          "[field_program]") {
  BytesBuilder frame;
  frame.Bytes({0x02, 0, 0, 0, 0, 2}).Bytes({0x02, 0, 0, 0, 0, 1}).U16(0x0800);
  frame.U8(0x45).U8(0).U16(40).U16(0).U16(0).U8(64).U8(6).U16(0);
  frame.Ip4(10, 9, 8, 7).Ip4(10, 9, 8, 6);
  frame.U16(1234).U16(80).U32(0).U32(0).U8(0x50).U8(0x12).U16(0).U16(0).U16(0);
  RecordBatch batch;
  auto t = Make({F(315, kVariableLength), F(1, 4)});
  BytesBuilder b;
  b.U8(static_cast<uint8_t>(frame.size())).Bytes(frame.bytes()).U32(1500);
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.record.src_host.ToString() == "10.9.8.7");
  CHECK(d.record.dst_host.ToString() == "10.9.8.6");
  CHECK(d.record.src_port == 1234);
  CHECK(d.record.dst_port == 80);
  CHECK(d.record.proto == 6);
  CHECK(d.record.ip_version == 4);
  CHECK(d.record.src_mac.ToString() == "02:00:00:00:00:01");
  CHECK(d.record.bytes == 1500);
  // v9 layer2packetSection (104), fixed length, with IE 8 in the template:
  // the exported source address wins over the frame's.
  auto t2 = Make({F(8, 4), F(104, static_cast<uint16_t>(frame.size()))});
  BytesBuilder b2;
  b2.Ip4(192, 0, 2, 1).Bytes(frame.bytes());
  Decoded d2 = Decode(*t2, b2.bytes(), &batch);
  REQUIRE(d2.ok);
  CHECK(d2.record.src_host.ToString() == "192.0.2.1");
  CHECK(d2.record.dst_host.ToString() == "10.9.8.6");
  CHECK(d2.record.dst_port == 80);
}

TEST_CASE("Unknown elements are skipped by length", "[field_program]") {
  auto t = Make(
      {F(999, 7), F(42, 3, 12345), F(7, 2), F(291, kVariableLength), F(11, 2)});
  BytesBuilder b;
  b.Zeros(7).Zeros(3).U16(80);
  b.U8(6).Bytes({3, 0xFF, 0xFF, 0, 0, 0});  // opaque RFC 6313 list
  b.U16(443);
  RecordBatch batch;
  Decoded d = Decode(*t, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK(d.record.src_port == 80);
  CHECK(d.record.dst_port == 443);
  CHECK(d.consumed == b.size());
}

TEST_CASE("Information element table is consistent", "[field_program]") {
  for (const InformationElement& ie : InformationElements()) {
    INFO(ie.name);
    const InformationElement* found =
        FindInformationElement(ie.pen, ie.id, false);
    CHECK(found == &ie);
    CHECK_FALSE(ie.name.empty());
  }
  CHECK(FindInformationElement(0, 8)->name == "sourceIPv4Address");
  CHECK(FindInformationElement(0, 1, true)->name == "reverseOctetDeltaCount");
  CHECK(FindInformationElement(0, 40005)->name == "NF_F_FW_EVENT");
  CHECK(FindInformationElement(0, 12345) == nullptr);
}

}  // namespace
}  // namespace flowacct::internal

namespace flowacct::internal {
namespace {

// --- Regressions found by the tshark oracle on real captures. -------------

TEST_CASE("IPv4 and IPv6 address elements in one template: the non-zero one "
          "wins (pmacct-101 Cisco ASR9k v9 template)",
          "[field_program]") {
  // Cisco sends one template with both families; each record fills one.
  auto t = Make({F(27, 16), F(8, 4), F(28, 16), F(12, 4), F(1, 4)});
  RecordBatch batch;
  SECTION("IPv4 record") {
    BytesBuilder b;
    b.Zeros(16).Ip4(10, 0, 0, 1).Zeros(16).Ip4(10, 0, 0, 2).U32(100);
    Decoded d = Decode(*t, b.bytes(), &batch);
    REQUIRE(d.ok);
    CHECK(d.record.src_host.ToString() == "10.0.0.1");
    CHECK(d.record.dst_host.ToString() == "10.0.0.2");
    CHECK(d.record.ip_version == 4);
  }
  SECTION("IPv6 record") {
    BytesBuilder b;
    b.Bytes({0x20, 0x01, 0x0d, 0xb8}).Zeros(11).U8(1).Ip4(0, 0, 0, 0);
    b.Bytes({0x20, 0x01, 0x0d, 0xb8}).Zeros(11).U8(2).Ip4(0, 0, 0, 0);
    b.U32(100);
    Decoded d = Decode(*t, b.bytes(), &batch);
    REQUIRE(d.ok);
    CHECK(d.record.src_host.ToString() == "2001:db8::1");
    CHECK(d.record.dst_host.ToString() == "2001:db8::2");
    CHECK(d.record.ip_version == 6);
  }
}

TEST_CASE("exporterIPv4/IPv6Address replaces the exporter only when non-zero "
          "and allowed",
          "[field_program]") {
  auto t4 = Make({F(130, 4), F(1, 4)});
  auto t6 = Make({F(131, 16), F(1, 4)});
  RecordBatch batch;
  const IpAddress socket = IpAddress::V4(0xC0000201);
  auto run = [&](const Template& t, const std::vector<uint8_t>& bytes,
                 bool allowed) {
    RecordTimeBase time;
    time.use_exporter_address_element = allowed;
    ByteReader set(bytes.data(), bytes.size());
    FlowRecord* r = batch.AppendRecord();
    r->exporter = socket;
    RecordIssues issues;
    REQUIRE(DecodeDataRecord(t, time, &set, &batch, r, &issues));
    return r->exporter.ToString();
  };
  BytesBuilder v4;
  v4.Ip4(172, 16, 32, 201).U32(1);
  CHECK(run(*t4, v4.bytes(), true) == "172.16.32.201");
  CHECK(run(*t4, v4.bytes(), false) == "192.0.2.1");
  BytesBuilder zero4;
  zero4.U32(0).U32(1);
  CHECK(run(*t4, zero4.bytes(), true) == "192.0.2.1");
  BytesBuilder zero6;  // logstash-ipfix-juniper-mx240-options: all zero
  zero6.Zeros(16).U32(1);
  CHECK(run(*t6, zero6.bytes(), true) == "192.0.2.1");
  BytesBuilder v6;
  v6.Bytes({0x20, 0x01, 0x0d, 0xb8}).Zeros(11).U8(9).U32(1);
  CHECK(run(*t6, v6.bytes(), true) == "2001:db8::9");
}

TEST_CASE("absolute times of 0 mean 'not exported', not 1970",
          "[field_program]") {
  auto t = Make({F(150, 4), F(151, 4), F(1, 4)});
  RecordBatch batch;
  RecordTimeBase base;
  base.export_time_ns = int64_t{1'700'000'100} * 1'000'000'000;
  BytesBuilder b;
  b.U32(0).U32(1'700'000'000).U32(5);
  Decoded d = Decode(*t, b.bytes(), &batch, base);
  REQUIRE(d.ok);
  CHECK_FALSE(d.record.has(FlowField::kTimestampStart));
  CHECK(d.record.has(FlowField::kTimestampEnd));
  CHECK_FALSE(d.issues.time_anomaly);
}

TEST_CASE("MPLS label stack ends at bottom-of-stack or trailing zero slots",
          "[field_program]") {
  auto t = Make({F(70, 3), F(71, 3), F(72, 3), F(73, 3), F(1, 4)});
  RecordBatch batch;
  SECTION("bottom of stack on the second label") {
    BytesBuilder b;
    b.U24(0x000640).U24(0x000C81).U24(0).U24(0).U32(1);
    Decoded d = Decode(*t, b.bytes(), &batch);
    CHECK(d.record.mpls_label_count == 2);
    CHECK(d.record.has(FlowField::kMplsLabels));
  }
  SECTION("no labels at all") {
    BytesBuilder b;
    b.U24(0).U24(0).U24(0).U24(0).U32(1);
    Decoded d = Decode(*t, b.bytes(), &batch);
    CHECK(d.record.mpls_label_count == 0);
    CHECK_FALSE(d.record.has(FlowField::kMplsLabels));
  }
}

TEST_CASE("NetFlow v9 options scope fields are scope types, not IEs "
          "(logstash-nf9-juniper-srx-options-zero-scope)",
          "[field_program]") {
  // Scope "System" (1) of length 0 would otherwise be IE 1 with a bad
  // length; scope "Interface" (2) carries the ifIndex.
  auto sys = Template::Create(ExportProtocol::kNetflowV9, 256,
                              Template::Kind::kOptions, 1,
                              {F(1, 0), F(34, 4)}, nullptr);
  REQUIRE(sys.ok());
  RecordBatch batch;
  BytesBuilder b;
  b.U32(1000);
  Decoded d = Decode(**sys, b.bytes(), &batch);
  REQUIRE(d.ok);
  CHECK_FALSE(d.issues.field_length);
  CHECK(d.record.sampling_rate == 1000);
  CHECK(d.record.kind == RecordKind::kOptions);

  auto ifc = Template::Create(ExportProtocol::kNetflowV9, 257,
                              Template::Kind::kOptions, 1,
                              {F(2, 4), F(82, 8)}, nullptr);
  REQUIRE(ifc.ok());
  BytesBuilder b2;
  b2.U32(7).Str("Gi0/0/0").U8(0);
  Decoded d2 = Decode(**ifc, b2.bytes(), &batch);
  REQUIRE(d2.ok);
  CHECK(d2.record.in_iface == 7);
  CHECK(d2.record.has(FlowField::kInIface));
}

}  // namespace
}  // namespace flowacct::internal
