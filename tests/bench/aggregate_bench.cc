// Aggregator::Add throughput (docs/performance.md, "Aggregation").
//
// Records are prepared up front in one RecordBatch; each iteration adds one
// record (cycling through the batch), so the figure is Add() alone: key
// packing, hashing, probing and the counter update.

#include <algorithm>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

namespace flowacct {
namespace {

constexpr int64_t kT0 = int64_t{1715776496} * 1'000'000'000;

// Writes key number k into the key fields of *r.
inline void SetFiveTuple(FlowRecord* r, uint32_t k) {
  r->src_host = IpAddress::V4(0x0A000000 + k / 64);
  r->dst_host = IpAddress::V4(0xC0A80000 + k % 64);
  r->src_port = static_cast<uint16_t>(1024 + k % 60000);
  r->dst_port = static_cast<uint16_t>(k % 3 == 0 ? 443 : 80);
}
// Traffic matrix: in_iface, peer_src_ip, peer_dst_ip, peer_dst_as.
inline void SetTrafficMatrix(FlowRecord* r, uint32_t k) {
  r->in_iface = k % 64;
  r->exporter = IpAddress::V4(0xC0000200 + (k / 64) % 16);
  r->bgp_next_hop = IpAddress::V4(0xCB007100 + (k / 1024) % 256);
  r->peer_dst_as = 64512 + k / 1024;
}

struct Setup {
  std::unique_ptr<PrimitiveRegistry> registry =
      PrimitiveRegistry::CreateWithBuiltins();
  RecordBatch batch{0};
  std::vector<uint32_t> keys;  // key number per Add, shuffled
  std::unique_ptr<Aggregator> agg;
};

constexpr size_t kRecords = 1 << 12;  // records cycled through

std::unique_ptr<Setup> MakeSetup(const std::vector<const char*>& names,
                                 size_t distinct, bool five_tuple) {
  auto s = std::make_unique<Setup>();
  s->batch = RecordBatch(kRecords);
  for (size_t i = 0; i < kRecords; ++i) {
    FlowRecord* r = s->batch.AppendRecord();
    r->protocol = ExportProtocol::kIpfix;
    r->timestamp_arrival = kT0;
    r->bytes = 1000 + i % 500;
    r->packets = 1 + i % 7;
    r->proto = 6;
    r->fields.set(FlowField::kBytes);
    r->fields.set(FlowField::kPackets);
    for (FlowField f :
         {FlowField::kSrcHost, FlowField::kDstHost, FlowField::kSrcPort,
          FlowField::kDstPort, FlowField::kProto, FlowField::kInIface,
          FlowField::kBgpNextHop, FlowField::kPeerDstAs}) {
      r->fields.set(f);
    }
  }
  // Every key once, then as many again at random, shuffled.
  const size_t n = std::max<size_t>(distinct * 2, 1 << 16);
  std::mt19937_64 rng(1);
  s->keys.resize(n);
  for (size_t i = 0; i < n; ++i) {
    s->keys[i] = static_cast<uint32_t>(i < distinct ? i : rng() % distinct);
  }
  std::shuffle(s->keys.begin(), s->keys.end(), rng);
  AggregatorOptions o;
  o.view = "bench";
  for (const char* n : names) o.primitives.push_back(s->registry->Find(n)->id);
  o.max_entries = 0;
  s->agg = std::move(Aggregator::Create(s->registry.get(), o)).value();
  return s;
}

// Each iteration writes the next key into the next record (as a decoder
// would) and adds it: the figure is Add() plus a few stores.
template <void (*kSet)(FlowRecord*, uint32_t)>
void RunAdd(benchmark::State& state, const std::vector<const char*>& names,
            bool five_tuple) {
  const size_t distinct = static_cast<size_t>(state.range(0));
  auto s = MakeSetup(names, distinct, five_tuple);
  auto recs = s->batch.records();
  const std::vector<uint32_t>& keys = s->keys;
  // Warm-up: every key inserted.
  for (size_t j = 0; j < keys.size(); ++j) {
    FlowRecord* r = &recs[j % kRecords];
    kSet(r, keys[j]);
    s->agg->Add(*r, s->batch);
  }
  size_t i = 0, j = 0;
  for (auto _ : state) {
    FlowRecord* r = &recs[i];
    kSet(r, keys[j]);
    benchmark::DoNotOptimize(s->agg->Add(*r, s->batch));
    if (++i == kRecords) i = 0;
    if (++j == keys.size()) j = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["aggregates"] = static_cast<double>(s->agg->size());
}

void BM_AddFiveTuple(benchmark::State& state) {
  RunAdd<SetFiveTuple>(
      state, {"src_host", "dst_host", "src_port", "dst_port", "proto"}, true);
}
BENCHMARK(BM_AddFiveTuple)->Arg(100)->Arg(10'000)->Arg(1'000'000);

void BM_AddTrafficMatrix(benchmark::State& state) {
  RunAdd<SetTrafficMatrix>(
      state, {"in_iface", "peer_src_ip", "peer_dst_ip", "peer_dst_as"}, false);
}
BENCHMARK(BM_AddTrafficMatrix)->Arg(10'000)->Arg(1'000'000);

// AddAll over a batch: the keys of all kRecords records are rewritten (as a
// decoder would fill a batch), then the batch is added with AddAll, which
// prefetches the next record's slot while adding the current one.
template <void (*kSet)(FlowRecord*, uint32_t)>
void RunAddAll(benchmark::State& state, const std::vector<const char*>& names,
               bool five_tuple) {
  const size_t distinct = static_cast<size_t>(state.range(0));
  auto s = MakeSetup(names, distinct, five_tuple);
  auto recs = s->batch.records();
  const std::vector<uint32_t>& keys = s->keys;
  size_t j = 0;
  auto fill = [&] {
    for (size_t i = 0; i < kRecords; ++i) {
      kSet(&recs[i], keys[j]);
      if (++j == keys.size()) j = 0;
    }
  };
  for (size_t round = 0; round * kRecords < keys.size(); ++round) {
    fill();
    s->agg->AddAll(s->batch, 0);
  }
  for (auto _ : state) {
    fill();
    benchmark::DoNotOptimize(s->agg->AddAll(s->batch, 0));
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.counters["aggregates"] = static_cast<double>(s->agg->size());
}

void BM_AddAllFiveTuple(benchmark::State& state) {
  RunAddAll<SetFiveTuple>(
      state, {"src_host", "dst_host", "src_port", "dst_port", "proto"}, true);
}
BENCHMARK(BM_AddAllFiveTuple)->Arg(100)->Arg(10'000)->Arg(1'000'000);

void BM_AddAllTrafficMatrix(benchmark::State& state) {
  RunAddAll<SetTrafficMatrix>(
      state, {"in_iface", "peer_src_ip", "peer_dst_ip", "peer_dst_as"}, false);
}
BENCHMARK(BM_AddAllTrafficMatrix)->Arg(10'000)->Arg(1'000'000);

// Flush + Snapshot::Get of every row (the sink side), 10k aggregates.
void BM_FlushAndRead(benchmark::State& state) {
  auto s = MakeSetup({"src_host", "dst_host", "src_port", "dst_port", "proto"},
                     10'000, true);
  auto recs = s->batch.records();
  AggregateRow row;
  int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t j = 0; j < s->keys.size(); ++j) {
      FlowRecord* r = &recs[j % kRecords];
      SetFiveTuple(r, s->keys[j]);
      s->agg->Add(*r, s->batch);
    }
    state.ResumeTiming();
    auto snap = s->agg->Flush(kT0, FlushReason::kRefresh);
    for (size_t i = 0; i < snap->size(); ++i) {
      snap->Get(i, &row);
      benchmark::DoNotOptimize(row.record.bytes);
    }
    rows += static_cast<int64_t>(snap->size());
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_FlushAndRead);

}  // namespace
}  // namespace flowacct
