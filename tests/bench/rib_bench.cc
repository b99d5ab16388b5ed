// rib_bench: BGP RIB micro-benchmarks.
//
//   BM_Lookup/<family>/<pattern>/<ingest>/<batched>  ns per longest-prefix
//       lookup on a
//       full table (1.0 M IPv4 + 0.2 M IPv6 prefixes, 4 peers, model in
//       rib_table_gen.h). pattern: 0 = uniform random addresses inside
//       announced prefixes (cold caches: the worst case), 1 = Zipf-skewed
//       destinations (traffic-like), 2 = misses (addresses no peer
//       covers), 3 = a hot set of 2048 prefixes (warm caches: the cost of
//       the lookup code itself). ingest = 1: another thread keeps ingesting and
//       removing a full-table peer meanwhile. batched = 1: the 64 lookups
//       of a section go through one LookupMany() call instead of 64
//       Lookup() calls.
//   BM_Ingest/<index_exists>  ns per route announced (UPDATEs with their
//       NLRI, attributes interned once per UPDATE) on a 200 k + 40 k table;
//       index_exists = 0 includes building the shared index.

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "flowacct/bgp/rib.h"

#include "tests/bench/rib_table_gen.h"

namespace flowacct::bgp {
namespace {

constexpr int kPeers = 4;

struct FullTable {
  benchgen::Table table = benchgen::MakeTable(1000000, 200000);
  std::unique_ptr<Rib> rib = std::move(*Rib::Create({}));
  std::vector<std::unique_ptr<PeerWriter>> peers;
  std::vector<benchgen::Update> extra_updates;

  FullTable() {
    for (int p = 1; p <= kPeers; ++p) {
      auto w = std::move(*rib->AddPeer({}));
      for (const benchgen::Update& u : benchgen::UpdatesFor(table, p)) {
        auto h = w->Intern(u.attributes);
        (void)w->Announce(std::span<const Nlri>(u.nlri), *h);
      }
      peers.push_back(std::move(w));
    }
    extra_updates = benchgen::UpdatesFor(table, 999);
  }
};

FullTable& Shared() {
  static FullTable* t = new FullTable();
  return *t;
}

std::vector<IpAddress> Addresses(const benchgen::Table& t, bool v6, int pattern,
                                 size_t n) {
  std::mt19937_64 rng(v6 * 10 + pattern);
  const auto& ps = v6 ? t.v6 : t.v4;
  std::vector<IpAddress> out;
  for (size_t i = 0; i < n; ++i) {
    uint8_t raw[16] = {};
    if (pattern == 2) {  // outside every generated prefix
      if (v6) {
        raw[0] = 0x3f;
        raw[1] = 0xff;
        for (int b = 2; b < 16; ++b) raw[b] = static_cast<uint8_t>(rng());
      } else {
        raw[0] = static_cast<uint8_t>(240 + rng() % 15);
        for (int b = 1; b < 4; ++b) raw[b] = static_cast<uint8_t>(rng());
      }
    } else {
      size_t k;
      if (pattern == 3) {
        k = benchgen::Mix(rng() % 2048, 5) % ps.size();
      } else if (pattern == 1) {  // Zipf-like: rank r with weight ~1/r
        double u = static_cast<double>(rng() >> 11) / 9007199254740992.0;
        k = static_cast<size_t>(std::pow(static_cast<double>(ps.size()), u)) -
            1;
        k = benchgen::Mix(k, 3) % ps.size();  // hot prefixes spread out
      } else {
        k = rng() % ps.size();
      }
      const Prefix& p = ps[k].prefix;
      std::memcpy(raw, p.address.data(), 16);
      for (int b = p.length; b < (v6 ? 128 : 32); ++b) {
        if (rng() & 1) raw[b / 8] |= static_cast<uint8_t>(0x80 >> (b % 8));
      }
    }
    out.push_back(v6 ? IpAddress::V6Bytes(raw) : IpAddress::V4Bytes(raw));
  }
  return out;
}

void BM_Lookup(benchmark::State& state) {
  bool v6 = state.range(0) != 0;
  int pattern = static_cast<int>(state.range(1));
  bool ingest = state.range(2) != 0;
  bool batched = state.range(3) != 0;
  FullTable& ft = Shared();
  std::vector<IpAddress> addrs = Addresses(ft.table, v6, pattern, 1 << 20);
  std::vector<PeerId> ids;
  for (auto& p : ft.peers) ids.push_back(p->id());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ingested{0};
  std::thread writer;
  if (ingest) {
    writer = std::thread([&] {
      while (!stop.load()) {
        auto w = std::move(*ft.rib->AddPeer({}));
        for (const benchgen::Update& u : ft.extra_updates) {
          if (stop.load(std::memory_order_relaxed)) break;
          auto h = w->Intern(u.attributes);
          (void)w->Announce(std::span<const Nlri>(u.nlri), *h);
          ingested.fetch_add(u.nlri.size(), std::memory_order_relaxed);
        }
      }
    });
  }
  auto reader = ft.rib->NewReader();
  size_t i = 0;
  uint64_t hits = 0;
  std::vector<LookupRequest> requests(64);
  std::vector<std::optional<RouteMatch>> results(64);
  for (auto _ : state) {
    auto section = reader->Enter();
    if (batched) {
      for (int k = 0; k < 64; ++k, ++i) {
        requests[k].peer = ids[i % kPeers];
        requests[k].address = addrs[i & ((1 << 20) - 1)];
      }
      section.LookupMany(requests, results);
      for (const auto& m : results) {
        if (m) hits += m->attributes.origin_as() != 0;
      }
      benchmark::DoNotOptimize(results.data());
      continue;
    }
    for (int k = 0; k < 64; ++k, ++i) {
      auto m = section.Lookup(ids[i % kPeers], addrs[i & ((1 << 20) - 1)]);
      if (m) hits += m->attributes.origin_as() != 0;
      benchmark::DoNotOptimize(m);
    }
  }
  stop.store(true);
  if (writer.joinable()) writer.join();
  state.SetItemsProcessed(state.iterations() * 64);
  state.counters["ns_per_lookup"] = benchmark::Counter(
      static_cast<double>(state.iterations() * 64),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["hit_ratio"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations() * 64);
  state.counters["routes_ingested"] = static_cast<double>(ingested.load());
}
// family (0 v4, 1 v6) x pattern (0 uniform, 1 zipf, 2 miss, 3 hot set)
// x ingest x batched.
BENCHMARK(BM_Lookup)
    ->ArgsProduct({{0, 1}, {0, 1, 2, 3}, {0, 1}, {0, 1}})
    ->UseRealTime()
    ->MinTime(0.3);

void BM_Ingest(benchmark::State& state) {
  bool index_exists = state.range(0) != 0;
  static benchgen::Table* table =
      new benchgen::Table(benchgen::MakeTable(200000, 40000, 2));
  static std::vector<benchgen::Update>* ups =
      new std::vector<benchgen::Update>(benchgen::UpdatesFor(*table, 1));
  static std::vector<benchgen::Update>* other =
      new std::vector<benchgen::Update>(benchgen::UpdatesFor(*table, 2));
  uint64_t routes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto rib = std::move(*Rib::Create({}));
    std::unique_ptr<PeerWriter> warm;
    if (index_exists) {
      warm = std::move(*rib->AddPeer({}));
      for (const benchgen::Update& u : *other) {
        auto h = warm->Intern(u.attributes);
        (void)warm->Announce(std::span<const Nlri>(u.nlri), *h);
      }
    }
    auto w = std::move(*rib->AddPeer({}));
    state.ResumeTiming();
    for (const benchgen::Update& u : *ups) {
      auto h = w->Intern(u.attributes);
      (void)w->Announce(std::span<const Nlri>(u.nlri), *h);
      routes += u.nlri.size();
    }
    state.PauseTiming();
    w.reset();
    warm.reset();
    rib.reset();
    state.ResumeTiming();
  }
  state.counters["ns_per_route"] = benchmark::Counter(
      static_cast<double>(routes),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Ingest)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace flowacct::bgp
