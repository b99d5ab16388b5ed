// Tests for the copy fast path of all-fixed field programs
// (FieldProgram::copies): which steps are grouped, when grouping is refused,
// and that a grouped program decodes exactly what the general per-step path
// decodes. The reference is the same template after a variable-length
// field, which runs every field through the general per-field loop.

#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/templates/template_cache.h"

#include "libflowacct/decode/field_program.h"

#include "tests/support/bytes_builder.h"

namespace flowacct::internal {
namespace {

using testing::BytesBuilder;

constexpr uint16_t kVariableLength = 65535;
constexpr uint16_t kInterfaceName = 82;  // string IE, used variable-length

TemplateField F(uint16_t id, uint16_t length) {
  TemplateField f;
  f.element = ElementId{0, id};
  f.length = length;
  return f;
}

std::shared_ptr<const Template> Make(std::vector<TemplateField> fields) {
  auto t =
      Template::Create(ExportProtocol::kNetflowV9, 300, Template::Kind::kData,
                       0, std::move(fields), nullptr);
  REQUIRE(t.ok());
  return std::move(t).value();
}

FlowRecord DecodeOne(const Template& t, const std::vector<uint8_t>& bytes) {
  RecordBatch batch(4);
  RecordTimeBase time;
  time.protocol = ExportProtocol::kNetflowV9;
  time.export_time_ns = int64_t{1'700'000'000} * 1'000'000'000;
  time.sys_uptime_ms = 100'000;
  time.has_sys_uptime = true;
  ByteReader set(bytes.data(), bytes.size());
  FlowRecord* r = batch.AppendRecord();
  RecordIssues issues;
  REQUIRE(DecodeDataRecord(t, time, &set, &batch, r, &issues));
  return *r;
}

void CheckSame(const FlowRecord& a, const FlowRecord& b) {
  // The variable-length interfaceName is not in every variant.
  FieldSet a_fields = a.fields;
  FieldSet b_fields = b.fields;
  a_fields.clear(FlowField::kInIfaceName);
  b_fields.clear(FlowField::kInIfaceName);
  CHECK(a_fields == b_fields);
  CHECK(a.src_host == b.src_host);
  CHECK(a.dst_host == b.dst_host);
  CHECK(a.ip_next_hop == b.ip_next_hop);
  CHECK(a.src_port == b.src_port);
  CHECK(a.dst_port == b.dst_port);
  CHECK(a.proto == b.proto);
  CHECK(a.tos == b.tos);
  CHECK(a.tcp_flags == b.tcp_flags);
  CHECK(a.icmp_type == b.icmp_type);
  CHECK(a.icmp_code == b.icmp_code);
  CHECK(a.in_iface == b.in_iface);
  CHECK(a.out_iface == b.out_iface);
  CHECK(a.src_as == b.src_as);
  CHECK(a.dst_as == b.dst_as);
  CHECK(a.src_mask == b.src_mask);
  CHECK(a.dst_mask == b.dst_mask);
  CHECK(a.bytes == b.bytes);
  CHECK(a.packets == b.packets);
  CHECK(a.flows == b.flows);
  CHECK(a.ip_version == b.ip_version);
  CHECK(a.timestamp_start == b.timestamp_start);
  CHECK(a.timestamp_end == b.timestamp_end);
}

// Decodes `record` with `fields` (all fixed: copies + steps), with a
// variable-length field appended (fixed prefix: copies + steps, then the
// general loop) and with it prepended (no fixed prefix: every field through
// the general loop, the reference), and compares.
void CheckSameAsGeneralPath(const std::vector<TemplateField>& fields,
                            const std::vector<uint8_t>& record) {
  const TemplateField vlen_field = F(kInterfaceName, kVariableLength);
  const std::vector<uint8_t> vlen_value = {2, 'x', 'y'};  // RFC 7011 §7

  std::vector<TemplateField> vlen_last = fields;
  vlen_last.push_back(vlen_field);
  std::vector<uint8_t> vlen_last_record = record;
  vlen_last_record.insert(vlen_last_record.end(), vlen_value.begin(),
                          vlen_value.end());

  std::vector<TemplateField> vlen_first = {vlen_field};
  vlen_first.insert(vlen_first.end(), fields.begin(), fields.end());
  std::vector<uint8_t> vlen_first_record = vlen_value;
  vlen_first_record.insert(vlen_first_record.end(), record.begin(),
                           record.end());

  auto general = Make(vlen_first);
  REQUIRE(general->program().fixed_prefix_steps == 0);
  REQUIRE(general->program().fixed_prefix_length == 0);
  const FlowRecord reference = DecodeOne(*general, vlen_first_record);
  CheckSame(DecodeOne(*Make(fields), record), reference);
  CheckSame(DecodeOne(*Make(vlen_last), vlen_last_record), reference);
}

TEST_CASE("Typical 18-field v9 template: plain stores become copies",
          "[field_program]") {
  // 8 12 7 11 4 5 6 10 14 16 17 9 13 15 1 2 22 21 (flowset_bench's).
  const std::vector<TemplateField> fields = {
      F(8, 4),  F(12, 4), F(7, 2),  F(11, 2), F(4, 1),  F(5, 1),
      F(6, 1),  F(10, 4), F(14, 4), F(16, 4), F(17, 4), F(9, 1),
      F(13, 1), F(15, 4), F(1, 4),  F(2, 4),  F(22, 4), F(21, 4)};
  auto t = Make(fields);
  const FieldProgram& prog = t->program();
  // Everything but FIRST/LAST_SWITCHED (resolved after the record).
  CHECK(prog.copies.size() == 16);
  CHECK(prog.steps.size() == 2);
  CHECK(prog.copies_end[static_cast<int>(CopyKind::kIpv6)] ==
        prog.copies.size());

  BytesBuilder b;
  b.Ip4(10, 1, 2, 3).Ip4(192, 0, 2, 7).U16(40000).U16(443).U8(6).U8(0x2e);
  b.U8(0x1b).U32(3).U32(4).U32(64500).U32(64501).U8(24).U8(16);
  b.Ip4(10, 0, 0, 254).U32(123456).U32(89).U32(90'000).U32(99'000);
  const std::vector<uint8_t> bytes = b.Take();
  const FlowRecord r = DecodeOne(*t, bytes);
  CHECK(r.src_host.ToString() == "10.1.2.3");
  CHECK(r.dst_host.ToString() == "192.0.2.7");
  CHECK(r.src_port == 40000);
  CHECK(r.dst_port == 443);
  CHECK(r.proto == 6);
  CHECK(r.tos == 0x2e);
  CHECK(r.tcp_flags == 0x1b);
  CHECK(r.in_iface == 3);
  CHECK(r.out_iface == 4);
  CHECK(r.src_as == 64500);
  CHECK(r.dst_as == 64501);
  CHECK(r.src_mask == 24);
  CHECK(r.dst_mask == 16);
  CHECK(r.ip_next_hop.ToString() == "10.0.0.254");
  CHECK(r.bytes == 123456);
  CHECK(r.packets == 89);
  CheckSameAsGeneralPath(fields, bytes);
}

TEST_CASE("Copies of every kind match the general path", "[field_program]") {
  // u16 from 2 (IE 10 as 2 bytes into u32), u64 from 8, IPv6.
  const std::vector<TemplateField> fields = {F(27, 16), F(28, 16), F(10, 2),
                                             F(14, 2),  F(1, 8),   F(2, 8),
                                             F(4, 1),   F(6, 2),   F(62, 16)};
  auto t = Make(fields);
  CHECK(t->program().steps.empty());
  CHECK(t->program().copies.size() == fields.size());
  BytesBuilder b;
  for (int i = 0; i < 16; ++i) b.U8(static_cast<uint8_t>(0x20 + i));
  for (int i = 0; i < 16; ++i) b.U8(static_cast<uint8_t>(0x40 + i));
  b.U16(7).U16(65535).U32(1).U32(2).U32(0).U32(3).U8(17).U16(0x0102);
  for (int i = 0; i < 16; ++i) b.U8(static_cast<uint8_t>(0x60 + i));
  const std::vector<uint8_t> bytes = b.Take();
  const FlowRecord r = DecodeOne(*t, bytes);
  CHECK(r.src_host.is_v6());
  CHECK(r.in_iface == 7);
  CHECK(r.out_iface == 65535);
  CHECK(r.bytes == (uint64_t{1} << 32 | 2));
  CHECK(r.packets == 3);
  CHECK(r.tcp_flags == 0x0102);
  CheckSameAsGeneralPath(fields, bytes);
}

TEST_CASE("Members two elements may fill decode as on the general path",
          "[field_program]") {
  SECTION("icmpTypeCode with icmpType/icmpCode in one template") {
    const std::vector<TemplateField> fields = {F(177, 1), F(32, 2), F(176, 1),
                                               F(4, 1)};
    BytesBuilder b;
    b.U8(9).U16(0x0303).U8(8).U8(1);
    CheckSameAsGeneralPath(fields, b.Take());
  }
  SECTION("IPv4 and IPv6 source in one template") {
    const std::vector<TemplateField> fields = {F(8, 4), F(27, 16), F(7, 2)};
    auto t = Make(fields);
    CHECK(t->program().copies.empty());
    BytesBuilder v4;
    v4.Ip4(192, 0, 2, 1);
    for (int i = 0; i < 16; ++i) v4.U8(0);
    v4.U16(53);
    const std::vector<uint8_t> v4_bytes = v4.Take();
    CHECK(DecodeOne(*t, v4_bytes).src_host.ToString() == "192.0.2.1");
    CheckSameAsGeneralPath(fields, v4_bytes);
    BytesBuilder v6;
    v6.U32(0);
    v6.U32(0x20010db8).U32(0).U32(0).U32(1);
    v6.U16(53);
    const std::vector<uint8_t> v6_bytes = v6.Take();
    CHECK(DecodeOne(*t, v6_bytes).src_host.ToString() == "2001:db8::1");
    CheckSameAsGeneralPath(fields, v6_bytes);
  }
}

}  // namespace
}  // namespace flowacct::internal
