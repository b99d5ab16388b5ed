// Tests for RecordBatch: prototype appends and PopRecord with custom values.

#include "flowacct/model/record_batch.h"

#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

TEST_CASE("AppendRecord(prototype) copies it without its custom values",
          "[record_batch]") {
  RecordBatch batch(4);
  FlowRecord proto;
  proto.protocol = ExportProtocol::kIpfix;
  proto.observation_domain = 7;
  proto.fields.set(FlowField::kObservationDomain);
  proto.custom_begin = 3;
  proto.custom_count = 2;
  FlowRecord* r = batch.AppendRecord(proto);
  CHECK(r->protocol == ExportProtocol::kIpfix);
  CHECK(r->observation_domain == 7);
  CHECK(r->has(FlowField::kObservationDomain));
  CHECK(r->custom_begin == 0);
  CHECK(r->custom_count == 0);
  CHECK(batch.customs(*r).empty());
  CHECK(batch.size() == 1);
}

TEST_CASE("PopRecord keeps the custom values of earlier records",
          "[record_batch]") {
  RecordBatch batch(4);
  const std::vector<uint8_t> value = {1, 2, 3};
  FlowRecord* a = batch.AppendRecord();
  batch.AddCustom(a, 40, value);
  batch.AddCustom(a, 41, value);
  // A record without customs, popped (a decoder giving up on it).
  batch.AppendRecord();
  batch.PopRecord();
  REQUIRE(batch.size() == 1);
  CHECK(batch.customs(batch.records()[0]).size() == 2);
  // A record with customs, popped: only its own values go.
  FlowRecord* b = batch.AppendRecord();
  batch.AddCustom(b, 42, value);
  batch.PopRecord();
  FlowRecord* c = batch.AppendRecord();
  batch.AddCustom(c, 43, value);
  REQUIRE(batch.customs(batch.records()[1]).size() == 1);
  CHECK(batch.customs(batch.records()[1])[0].primitive == 43);
  CHECK(batch.customs(batch.records()[0]).size() == 2);
  CHECK(batch.customs(batch.records()[0])[1].primitive == 41);
}

}  // namespace
}  // namespace flowacct
