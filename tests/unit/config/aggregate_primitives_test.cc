#include "flowacct/config/aggregate_primitives.h"

#include <catch2/catch.hpp>
#include <string>

#include "flowacct/decode/decoder.h"
#include "flowacct/model/record_format.h"
#include "tests/support/flowset_builder.h"

namespace flowacct {
namespace {

using testing::BytesBuilder;
using testing::FlowSetBuilder;

constexpr char kMap[] =
    "! custom primitives, pmacct aggregate_primitives syntax\n"
    "\n"
    "name=app_name  field_type=9:12235  len=vlen semantics=str\r\n"
    "name=vrf_in    field_type=234      len=4    semantics=u_int\n"
    "# comment\n";

TEST_CASE("aggregate_primitives text adds every primitive") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  REQUIRE(AddCustomPrimitives(kMap, "prims.map", registry.get()).ok());
  REQUIRE(registry->customs().size() == 2);
  const PrimitiveInfo* app = registry->Find("app_name");
  REQUIRE(app != nullptr);
  CHECK(app->element.pen == 9);
  CHECK(app->element.id == 12235);
  CHECK(app->length == kVariableLength);
  CHECK(app->type == PrimitiveType::kString);
}

TEST_CASE("aggregate_primitives errors name file and line") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  Status s = AddCustomPrimitives(
      "name=ok field_type=300 len=2 semantics=u_int\n"
      "\n"
      "name=bad field_type=301 len=2 semantics=nonsense\n",
      "prims.map", registry.get());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().rfind("prims.map:3: ", 0) == 0);
  // Lines before the error stay added.
  CHECK(registry->Find("ok") != nullptr);

  auto again = PrimitiveRegistry::CreateWithBuiltins();
  Status clash = AddCustomPrimitives(
      "name=src_host field_type=8 len=4 semantics=ip\n", "m", again.get());
  CHECK_FALSE(clash.ok());
  CHECK(clash.message().rfind("m:1: ", 0) == 0);
}

TEST_CASE("custom primitives decode from enterprise IPFIX elements end to end") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  REQUIRE(AddCustomPrimitives(kMap, "prims.map", registry.get()).ok());
  auto decoder = Decoder::Create(DecoderOptions{}, registry.get());
  REQUIRE(decoder.ok());

  FlowSetBuilder m = FlowSetBuilder::Ipfix(1, 0);
  m.Template(256, {{8, 4}, {12, 4}, {1, 4}, {12235, 0xFFFF, 9}, {234, 4}});
  BytesBuilder rec;
  rec.Ip4(10, 0, 0, 1).Ip4(10, 0, 0, 2).U32(1500);
  const std::string app = "webex\x01";
  FlowSetBuilder::VarLen(
      rec, std::span<const uint8_t>(
               reinterpret_cast<const uint8_t*>(app.data()), app.size()));
  rec.U32(42);
  m.DataSet(256, rec);
  const std::vector<uint8_t> bytes = m.Build();

  RecordBatch batch;
  Datagram d{bytes, Endpoint{IpAddress::V4(0xC0000201), 4739},
             int64_t{1'700'000'000} * 1'000'000'000};
  DecodeSummary s = (*decoder)->Decode(d, &batch);
  REQUIRE(s.records == 1);
  CHECK(s.errors == 0);
  const FlowRecord& r = batch.records()[0];
  REQUIRE(batch.customs(r).size() == 2);

  std::string app_text;
  CHECK(registry->FormatValue(registry->Find("app_name")->id, r, batch, {},
                              &app_text) == ValueKind::kString);
  CHECK(app_text == "webex\\x01");  // control byte escaped (NF-25)
  std::string vrf_text;
  registry->FormatValue(registry->Find("vrf_in")->id, r, batch, {}, &vrf_text);
  CHECK(vrf_text == "42");
}

}  // namespace
}  // namespace flowacct
