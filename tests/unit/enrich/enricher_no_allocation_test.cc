// Enricher::Process allocates nothing per record in steady state: once a
// batch has grown, enriching it again with every map configured (labels go
// to the batch arena) makes no heap allocation. Allocations are
// counted by tests/support/allocation_counter.h.

#include <atomic>
#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

#include "flowacct/enrich/enricher.h"

#include "tests/support/allocation_counter.h"

namespace flowacct {
namespace {

TEST_CASE("Enricher::Process allocates nothing in steady state",
          "[enricher][allocation]") {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting is off under AddressSanitizer; skipped");
  }
  auto nets = NetworksFile::Load(
      "65500,192.168.0.0/16\n65501,10.0.0.0/8\n65502,2001:db8::/32\n", "n");
  auto tags = PreTagMap::Load(
      "set_tag=1 ip=192.0.2.0/24 in=3 jeq=lbl\n"
      "set_tag=9 ip=192.0.2.0/24\n"
      "set_tag2=2 set_label=customer-a label=lbl dst_as=65500\n"
      "set_label=other\n",
      "t", {});
  auto sampling = SamplingMap::Load("id=10 ip=192.0.2.1\n", "s");
  auto ports = PortsFile::Load("443\n", "p");
  REQUIRE(nets.ok());
  REQUIRE(tags.ok());
  REQUIRE(sampling.ok());
  REQUIRE(ports.ok());
  EnrichOptions options;
  options.networks = *nets;
  options.pre_tag_map = *tags;
  options.sampling_map = *sampling;
  options.ports = *ports;
  options.renormalize = true;
  options.net_source = NetSource::kLongest;
  options.as_source = AsSource::kFile;
  Enricher enricher(options);

  FlowRecord proto;
  proto.exporter = IpAddress::V4(0xC0000201);
  proto.src_host = IpAddress::V4(0x0A010203);
  proto.dst_host = IpAddress::V4(0xC0A80109);
  proto.fields.set(FlowField::kSrcHost);
  proto.fields.set(FlowField::kDstHost);
  proto.src_port = 40000;
  proto.dst_port = 443;
  proto.packets = 1;
  proto.bytes = 100;
  RecordBatch batch(256);
  auto fill = [&]() {
    batch.Clear();
    for (int i = 0; i < 256; ++i) {
      FlowRecord* r = batch.AppendRecord(proto);
      r->in_iface = static_cast<uint32_t>(i % 5);
    }
  };
  for (int warm = 0; warm < 2; ++warm) {
    fill();
    enricher.Process(&batch);
  }
  const uint64_t before = testing::AllocationCount();
  for (int round = 0; round < 20; ++round) {
    fill();
    enricher.Process(&batch);
  }
  const uint64_t allocations = testing::AllocationCount() - before;
  CHECK(allocations == 0);
  // The work was done.
  CHECK(batch.records()[3].tag == 1);
  CHECK(batch.records()[3].tag2 == 2);
  CHECK(batch.bytes(batch.records()[3].label) == "customer-a");
  CHECK(batch.records()[4].tag == 9);
  CHECK(batch.records()[0].packets == 10);
}

}  // namespace
}  // namespace flowacct
