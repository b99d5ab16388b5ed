#include "flowacct/pipeline/pipeline.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/flowset_builder.h"
#include "tests/support/netflow_v5_builder.h"
#include <unistd.h>

namespace flowacct {
namespace {

using testing::NetflowV5Builder;
using testing::V5Record;

constexpr int64_t kSecond = 1'000'000'000;

// A sink that keeps every row it is given: bytes and packets per source
// address, and how many snapshots of each reason arrived.
class CollectingSink : public Sink {
 public:
  struct Totals {
    std::map<std::string, uint64_t> bytes;
    std::map<std::string, uint64_t> packets;
    uint64_t total_bytes = 0;
    std::map<FlushReason, int> snapshots;
    bool closed = false;
  };

  explicit CollectingSink(Totals* totals) : totals_(totals) {}

  const std::string& type() const override { return type_; }
  const std::string& name() const override { return name_; }
  Status Write(const Snapshot& snapshot) override {
    AggregateRow row;
    for (size_t i = 0; i < snapshot.size(); ++i) {
      snapshot.Get(i, &row);
      const std::string key = row.record.has(FlowField::kSrcHost)
                                  ? row.record.src_host.ToString()
                                  : "";
      totals_->bytes[key] += row.record.bytes;
      totals_->packets[key] += row.record.packets;
      totals_->total_bytes += row.record.bytes;
      ++rows_;
    }
    ++totals_->snapshots[snapshot.reason()];
    ++snapshots_;
    return Status::Ok();
  }
  Status Close() override {
    totals_->closed = true;
    return Status::Ok();
  }
  SinkStats stats() const override {
    SinkStats s;
    s.snapshots = snapshots_;
    s.rows = rows_;
    return s;
  }

 private:
  Totals* totals_;
  std::string type_ = "test";
  std::string name_ = "collect";
  uint64_t snapshots_ = 0;
  uint64_t rows_ = 0;
};

ViewOptions SrcHostView(const PrimitiveRegistry& registry,
                        CollectingSink::Totals* totals,
                        size_t max_entries = 100000) {
  ViewOptions v;
  v.aggregator.view = "collect";
  v.aggregator.primitives = {registry.Find("src_host")->id};
  v.aggregator.max_entries = max_entries;
  v.refresh_seconds = 60;
  v.sink = std::make_unique<CollectingSink>(totals);
  return v;
}

// `count` v5 datagrams from exporter 192.0.2.<exporter>, each with 10
// records from sources 10.0.<exporter>.<0..9>, 100 bytes each.
std::vector<std::vector<uint8_t>> V5Datagrams(int exporter, int count) {
  std::vector<std::vector<uint8_t>> out;
  for (int d = 0; d < count; ++d) {
    NetflowV5Builder b;
    b.header.flow_sequence = static_cast<uint32_t>(d * 10);
    for (int r = 0; r < 10; ++r) {
      V5Record rec;
      rec.src = 0x0a000000u | static_cast<uint32_t>(exporter) << 8 |
                static_cast<uint32_t>(r);
      rec.dst = 0x0a640001u;
      rec.octets = 100;
      rec.packets = 2;
      rec.proto = r % 2 == 0 ? 6 : 17;
      b.AddRecord(rec);
    }
    out.push_back(b.Build());
  }
  return out;
}

Datagram MakeDatagram(const std::vector<uint8_t>& bytes, int exporter,
                      int64_t arrival) {
  Datagram d;
  d.payload = bytes;
  d.exporter.address =
      IpAddress::V4(0xc0000200u | static_cast<uint32_t>(exporter));
  d.exporter.port = 2055;
  d.arrival_ns = arrival;
  return d;
}

TEST_CASE("pipeline: several workers and inputs add up to one snapshot") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  CollectingSink::Totals totals;
  std::vector<ViewOptions> views;
  views.push_back(SrcHostView(*registry, &totals));
  PipelineOptions options;
  options.workers = 3;
  options.batch_datagrams = 4;
  options.lossless = true;
  auto p = Pipeline::Create(registry.get(), options, std::move(views), nullptr);
  REQUIRE(p.ok());
  REQUIRE((*p)->Start().ok());

  // Two input threads, three exporters each. Catch2's assertions are not
  // thread-safe (TSan): the threads count refusals, the main thread checks.
  std::vector<std::thread> inputs;
  std::atomic<int> refused{0};
  for (int t = 0; t < 2; ++t) {
    inputs.emplace_back([&, t] {
      std::unique_ptr<InputPort> port = (*p)->NewInputPort();
      for (int e = 1 + 3 * t; e <= 3 + 3 * t; ++e) {
        auto datagrams = V5Datagrams(e, 25);
        for (const auto& d : datagrams) {
          if (!port->Submit(MakeDatagram(d, e, 1'700'000'000 * kSecond))) {
            refused.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& t : inputs) t.join();
  REQUIRE(refused.load() == 0);
  REQUIRE((*p)->Stop(1'700'000'100 * kSecond).ok());

  CHECK(totals.closed);
  // 6 exporters x 25 datagrams x 10 records x 100 bytes.
  CHECK(totals.total_bytes == 6 * 25 * 10 * 100);
  CHECK(totals.bytes.size() == 60);
  CHECK(totals.bytes["10.0.4.7"] == 25 * 100);
  CHECK(totals.packets["10.0.4.7"] == 25 * 2);
  // The three workers' partials were merged into one shutdown snapshot.
  CHECK(totals.snapshots[FlushReason::kShutdown] == 1);
  PipelineStats s = (*p)->stats();
  CHECK(s.datagrams == 150);
  CHECK(s.decoded_datagrams == 150);
  CHECK(s.records == 1500);
  CHECK(s.queue_drops == 0);
  CHECK(s.decode.exporters.size() == 6);
  CHECK(s.decode.Total().sequence.lost == 0);
  REQUIRE(s.views.size() == 1);
  CHECK(s.views[0].records == 1500);
  CHECK(s.views[0].sink.rows == 60);
}

TEST_CASE("pipeline: a view filter and the enrich step apply per record") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  CollectingSink::Totals udp_totals;
  CollectingSink::Totals all_totals;
  std::vector<ViewOptions> views;
  views.push_back(SrcHostView(*registry, &udp_totals));
  views.back().filter = [](const FlowRecord& r, const RecordBatch&) {
    return r.proto == 17;
  };
  views.push_back(SrcHostView(*registry, &all_totals));
  PipelineOptions options;
  options.workers = 2;
  options.lossless = true;
  // Doubles every record's bytes (a stand-in for renormalisation).
  EnrichFunction enrich = [](RecordBatch* batch) {
    for (FlowRecord& r : batch->records()) r.bytes *= 2;
  };
  auto p = Pipeline::Create(registry.get(), options, std::move(views), enrich);
  REQUIRE(p.ok());
  REQUIRE((*p)->Start().ok());
  {
    std::unique_ptr<InputPort> port = (*p)->NewInputPort();
    for (const auto& d : V5Datagrams(1, 10)) {
      port->Submit(MakeDatagram(d, 1, 1'700'000'000 * kSecond));
    }
  }
  REQUIRE((*p)->Stop(1'700'000'100 * kSecond).ok());
  CHECK(all_totals.total_bytes == 10 * 10 * 200);
  CHECK(udp_totals.total_bytes == 10 * 5 * 200);
  PipelineStats s = (*p)->stats();
  CHECK(s.views[0].filtered == 50);
  CHECK(s.views[0].records == 50);
  CHECK(s.views[1].records == 100);
}

TEST_CASE("pipeline: Tick flushes at refresh boundaries, nothing is lost") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  CollectingSink::Totals totals;
  std::vector<ViewOptions> views;
  views.push_back(SrcHostView(*registry, &totals));
  PipelineOptions options;
  options.workers = 2;
  options.lossless = true;
  auto p = Pipeline::Create(registry.get(), options, std::move(views), nullptr);
  REQUIRE(p.ok());
  REQUIRE((*p)->Start().ok());
  const int64_t t0 = 1'700'000'040 * kSecond;  // a minute boundary
  (*p)->Tick(t0);  // arms the first deadline at the next minute
  {
    std::unique_ptr<InputPort> port = (*p)->NewInputPort();
    for (const auto& d : V5Datagrams(1, 5))
      port->Submit(MakeDatagram(d, 1, t0));
  }
  (*p)->Tick(t0 + 30 * kSecond);  // before the deadline: no flush
  (*p)->Tick(t0 + 60 * kSecond);  // past it: one refresh snapshot
  {
    std::unique_ptr<InputPort> port = (*p)->NewInputPort();
    for (const auto& d : V5Datagrams(2, 5))
      port->Submit(MakeDatagram(d, 2, t0));
  }
  REQUIRE((*p)->Stop(t0 + 70 * kSecond).ok());
  CHECK(totals.snapshots[FlushReason::kRefresh] == 1);
  CHECK(totals.snapshots[FlushReason::kShutdown] == 1);
  CHECK(totals.total_bytes == 2 * 5 * 10 * 100);
}

TEST_CASE("pipeline: a full cache purges early and keeps every record") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  CollectingSink::Totals totals;
  std::vector<ViewOptions> views;
  views.push_back(SrcHostView(*registry, &totals, /*max_entries=*/4));
  PipelineOptions options;
  options.workers = 1;
  options.lossless = true;
  auto p = Pipeline::Create(registry.get(), options, std::move(views), nullptr);
  REQUIRE(p.ok());
  REQUIRE((*p)->Start().ok());
  {
    std::unique_ptr<InputPort> port = (*p)->NewInputPort();
    for (const auto& d : V5Datagrams(1, 3)) port->Submit(MakeDatagram(d, 1, 1));
  }
  REQUIRE((*p)->Stop(2 * kSecond).ok());
  CHECK(totals.total_bytes == 3 * 10 * 100);
  CHECK(totals.snapshots[FlushReason::kCacheFull] >= 2);
  CHECK((*p)->stats().views[0].cache_full_flushes >= 2);
}

TEST_CASE("pipeline: full worker queues drop whole batches, counted exactly") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  CollectingSink::Totals totals;
  std::vector<ViewOptions> views;
  views.push_back(SrcHostView(*registry, &totals));
  PipelineOptions options;
  options.workers = 1;
  options.batch_datagrams = 2;
  options.worker_queue_batches = 3;
  options.lossless = false;
  auto p = Pipeline::Create(registry.get(), options, std::move(views), nullptr);
  REQUIRE(p.ok());
  // Not started: nobody drains the queue, so it holds 3 batches (6
  // datagrams) and every later batch is dropped.
  uint64_t accepted = 0;
  {
    std::unique_ptr<InputPort> port = (*p)->NewInputPort();
    for (const auto& d : V5Datagrams(1, 20)) {
      port->Submit(MakeDatagram(d, 1, 1));
    }
  }
  PipelineStats before = (*p)->stats();
  CHECK(before.datagrams == 20);
  CHECK(before.queue_drops == 14);
  accepted = before.datagrams - before.queue_drops;
  REQUIRE((*p)->Start().ok());
  REQUIRE((*p)->Stop(2 * kSecond).ok());
  CHECK(totals.total_bytes == accepted * 10 * 100);
}

TEST_CASE(
    "pipeline: partial hand-overs fill queued batches before counting as "
    "new ones") {
  // A receiver that keeps up flushes after every few datagrams. Those
  // pieces are appended to the batch still waiting in the queue, so a
  // worker queue of 3 batches holds 3 * batch_datagrams datagrams, not 3
  // datagrams, while its worker is busy (here: not started).
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  CollectingSink::Totals totals;
  std::vector<ViewOptions> views;
  views.push_back(SrcHostView(*registry, &totals));
  PipelineOptions options;
  options.workers = 1;
  options.batch_datagrams = 4;
  options.worker_queue_batches = 3;
  auto p = Pipeline::Create(registry.get(), options, std::move(views), nullptr);
  REQUIRE(p.ok());
  {
    std::unique_ptr<InputPort> port = (*p)->NewInputPort();
    for (const auto& d : V5Datagrams(1, 20)) {
      port->Submit(MakeDatagram(d, 1, 1));
      port->Flush();
    }
  }
  PipelineStats before = (*p)->stats();
  CHECK(before.datagrams == 20);
  CHECK(before.queue_drops == 20 - 3 * 4);
  REQUIRE((*p)->Start().ok());
  REQUIRE((*p)->Stop(2 * kSecond).ok());
  // Every accepted datagram decodes from the merged batches intact.
  CHECK(totals.total_bytes == 3 * 4 * 10 * 100);
  CHECK((*p)->stats().records == 3 * 4 * 10);
}

TEST_CASE("pipeline: Create rejects bad options") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  PipelineOptions options;
  CHECK_FALSE(Pipeline::Create(registry.get(), options, {}, nullptr).ok());
  CollectingSink::Totals totals;
  std::vector<ViewOptions> views;
  views.push_back(SrcHostView(*registry, &totals));
  options.workers = 0;
  CHECK_FALSE(
      Pipeline::Create(registry.get(), options, std::move(views), nullptr)
          .ok());
}

}  // namespace
}  // namespace flowacct

namespace flowacct {
namespace {

TEST_CASE("pipeline: the templates file carries templates across restarts") {
  using testing::BytesBuilder;
  using testing::FlowSetBuilder;
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  const std::string path =
      std::string(std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR")
                                                   : "/tmp") +
      "/flowacct-pipeline-templates-" + std::to_string(::getpid()) + ".pb";
  std::remove(path.c_str());
  auto run = [&](bool with_template, CollectingSink::Totals* totals) {
    std::vector<ViewOptions> views;
    views.push_back(SrcHostView(*registry, totals));
    PipelineOptions options;
    options.workers = 2;
    options.lossless = true;
    options.templates_file = path;
    auto p =
        Pipeline::Create(registry.get(), options, std::move(views), nullptr);
    REQUIRE(p.ok());
    REQUIRE((*p)->Start().ok());
    {
      FlowSetBuilder m = FlowSetBuilder::Ipfix(/*domain=*/3, /*seq=*/0);
      if (with_template) m.Template(300, {{8, 4}, {1, 8}});
      BytesBuilder rec;
      rec.Ip4(10, 1, 2, 3).U64(1500);
      m.DataSet(300, rec);
      const std::vector<uint8_t> bytes = m.Build();
      std::unique_ptr<InputPort> port = (*p)->NewInputPort();
      port->Submit(MakeDatagram(bytes, 9, 1'700'000'000 * kSecond));
    }
    REQUIRE((*p)->Stop(1'700'000'100 * kSecond).ok());
  };
  CollectingSink::Totals first;
  run(/*with_template=*/true, &first);
  CHECK(first.bytes["10.1.2.3"] == 1500);
  // A new pipeline, data without its template: decoded thanks to the file.
  CollectingSink::Totals second;
  run(/*with_template=*/false, &second);
  CHECK(second.bytes["10.1.2.3"] == 1500);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace flowacct
