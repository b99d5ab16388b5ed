#include "flowacct/enrich/enricher.h"

#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

FlowRecord* AddFlow(RecordBatch* batch, uint32_t rate, uint64_t packets,
                    uint64_t bytes) {
  FlowRecord* r = batch->AppendRecord();
  r->kind = RecordKind::kFlow;
  r->exporter = Ip("192.0.2.1");
  r->src_host = Ip("10.1.2.3");
  r->dst_host = Ip("192.168.1.9");
  r->fields.set(FlowField::kSrcHost);
  r->fields.set(FlowField::kDstHost);
  r->src_mask = 16;
  r->fields.set(FlowField::kSrcMask);
  r->src_port = 40000;
  r->dst_port = 443;
  r->fields.set(FlowField::kSrcPort);
  r->fields.set(FlowField::kDstPort);
  r->in_iface = 3;
  r->packets = packets;
  r->bytes = bytes;
  r->flows = 1;
  r->fields.set(FlowField::kPackets);
  r->fields.set(FlowField::kBytes);
  r->fields.set(FlowField::kFlows);
  if (rate != 0) {
    r->sampling_rate = rate;
    r->fields.set(FlowField::kSamplingRate);
  }
  return r;
}

TEST_CASE("Enricher: without maps, nets come from the exported masks",
          "[enricher]") {
  Enricher enricher{EnrichOptions{}};
  RecordBatch batch(4);
  AddFlow(&batch, 100, 2, 300);
  enricher.Process(&batch);
  const FlowRecord& r = batch.records()[0];
  CHECK(r.src_net == Ip("10.1.0.0"));
  CHECK(r.dst_net == Ip("0.0.0.0"));
  CHECK(r.has(FlowField::kDstNet));
  // No renormalisation asked: counters and rate untouched.
  CHECK(r.packets == 2);
  CHECK(r.bytes == 300);
  CHECK(r.sampling_rate == 100);
  CHECK(r.src_port == 40000);
}

TEST_CASE("Enricher: renormalize with the exported rate", "[enricher]") {
  EnrichOptions options;
  options.renormalize = true;
  Enricher enricher(options);
  RecordBatch batch(4);
  AddFlow(&batch, 100, 2, 300);
  AddFlow(&batch, 1, 5, 500);  // unsampled: untouched
  AddFlow(&batch, 0, 7, 700);  // unknown rate: untouched
  FlowRecord* big =
      AddFlow(&batch, 1000, 1, std::numeric_limits<uint64_t>::max() / 10);
  big->reverse_packets = 3;
  enricher.Process(&batch);
  auto records = batch.records();
  CHECK(records[0].packets == 200);
  CHECK(records[0].bytes == 30000);
  CHECK(records[0].flows == 1);
  CHECK(records[0].sampling_rate == 1);
  CHECK(records[1].packets == 5);
  CHECK(records[1].sampling_rate == 1);
  CHECK(records[2].packets == 7);
  CHECK(records[2].sampling_rate == 0);
  CHECK_FALSE(records[2].has(FlowField::kSamplingRate));
  CHECK(records[3].bytes == std::numeric_limits<uint64_t>::max());  // saturates
  CHECK(records[3].reverse_packets == 3000);
}

TEST_CASE("Enricher: sampling_map overrides the exported rate", "[enricher]") {
  auto map = SamplingMap::Load("id=50 ip=192.0.2.1 in=3\n", "s.map");
  REQUIRE(map.ok());
  EnrichOptions options;
  options.sampling_map = *map;

  SECTION("without renormalisation the record carries the map's rate") {
    Enricher enricher(options);
    RecordBatch batch(4);
    AddFlow(&batch, 100, 2, 300);
    FlowRecord* other = AddFlow(&batch, 100, 2, 300);
    other->in_iface = 4;
    enricher.Process(&batch);
    CHECK(batch.records()[0].sampling_rate == 50);
    CHECK(batch.records()[0].packets == 2);
    CHECK(batch.records()[1].sampling_rate == 100);
  }
  SECTION("with renormalisation the map's rate multiplies") {
    options.renormalize = true;
    Enricher enricher(options);
    RecordBatch batch(4);
    AddFlow(&batch, 0, 2, 300);  // exporter sent no rate: the map gives it
    FlowRecord* other = AddFlow(&batch, 100, 2, 300);
    other->in_iface = 4;  // no row: the exported rate
    enricher.Process(&batch);
    CHECK(batch.records()[0].packets == 100);
    CHECK(batch.records()[0].bytes == 15000);
    CHECK(batch.records()[0].sampling_rate == 1);
    CHECK(batch.records()[1].packets == 200);
    CHECK(batch.records()[1].sampling_rate == 1);
  }
}

TEST_CASE("Enricher: networks, tags (incl. return=true copies), ports",
          "[enricher]") {
  auto nets =
      NetworksFile::Load("65500,192.168.1.0/24\n65501,10.0.0.0/8\n", "n");
  auto tags = PreTagMap::Load(
      "set_tag=1 src_as=65501 jeq=second return=true\n"
      "set_tag2=2 dst_as=65500 label=second set_label=web\n",
      "t", {});
  auto ports = PortsFile::Load("443\n", "p");
  REQUIRE(nets.ok());
  REQUIRE(tags.ok());
  REQUIRE(ports.ok());
  EnrichOptions options;
  options.networks = *nets;
  options.pre_tag_map = *tags;
  options.ports = *ports;
  options.net_source = NetSource::kFile;
  options.as_source = AsSource::kFile;
  options.renormalize = true;
  Enricher enricher(options);
  RecordBatch batch(1);
  AddFlow(&batch, 10, 1, 100);
  enricher.Process(&batch);
  REQUIRE(batch.size() == 2);
  const FlowRecord& full = batch.records()[0];
  CHECK(full.src_net == Ip("10.0.0.0"));
  CHECK(full.src_mask == 8);
  CHECK(full.dst_as == 65500);
  CHECK(full.tag == 1);
  CHECK(full.tag2 == 2);
  CHECK(batch.bytes(full.label) == "web");
  CHECK(full.src_port == 0);
  CHECK(full.dst_port == 443);
  CHECK(full.packets == 10);
  const FlowRecord& copy = batch.records()[1];
  CHECK(copy.tag == 1);
  CHECK_FALSE(copy.has(FlowField::kTag2));
  CHECK_FALSE(copy.has(FlowField::kLabel));
  CHECK(copy.src_port == 0);  // the copy went through ports too
  CHECK(copy.packets == 10);  // and renormalisation, once
  CHECK(copy.sampling_rate == 1);
}

TEST_CASE("Enricher: options records are left alone", "[enricher]") {
  EnrichOptions options;
  options.renormalize = true;
  Enricher enricher(options);
  RecordBatch batch(2);
  FlowRecord* r = AddFlow(&batch, 100, 2, 300);
  r->kind = RecordKind::kOptions;
  enricher.Process(&batch);
  CHECK(batch.records()[0].packets == 2);
  CHECK_FALSE(batch.records()[0].has(FlowField::kSrcNet));
}

}  // namespace
}  // namespace flowacct
