// rib_cost_bench: the RIB's hot paths as separate functions, so that an
// instruction counter can measure each one alone. On a shared, noisy
// machine CPU time swings by tens of percent between runs; instruction
// counts (and simulated branch mispredictions) do not:
//
//   valgrind --tool=callgrind --branch-sim=yes --toggle-collect='*Phase*'
//       build-release/tests/bench/rib_cost_bench
//
// with Phase one of IngestFirstPeer, IngestSecondPeer, LookupManyV4,
// LookupManyV6; divide the totals by the printed counts. Without valgrind
// it prints each phase's thread CPU time.
//
//   rib_cost_bench [--v4=250000] [--v6=50000] [--lookups=64000]
//
// The table is rib_table_gen.h's model (a quarter of a full table by
// default, so that a callgrind run takes about a minute).

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "flowacct/bgp/rib.h"

#include "tests/bench/rib_bench_util.h"
#include "tests/bench/rib_table_gen.h"

namespace flowacct::bgp {
namespace {

void Feed(PeerWriter* peer, const std::vector<benchgen::Update>& ups) {
  for (const benchgen::Update& u : ups) {
    Result<AttrHandle> h = peer->Intern(u.attributes);
    if (!h.ok()) std::abort();
    if (!peer->Announce(std::span<const Nlri>(u.nlri), *h).ok()) std::abort();
  }
}

// What enrichment does with a batch: 64 lookups, then each hit's origin AS
// and prefix length.
uint64_t Lookups(RibReader* reader, PeerId peer,
                 const std::vector<IpAddress>& addrs) {
  std::vector<LookupRequest> requests(64);
  std::vector<std::optional<RouteMatch>> results(64);
  uint64_t sink = 0;
  for (size_t i = 0; i + 64 <= addrs.size(); i += 64) {
    auto section = reader->Enter();
    for (size_t k = 0; k < 64; ++k) {
      requests[k].peer = peer;
      requests[k].address = addrs[i + k];
    }
    section.LookupMany(requests, results);
    for (const auto& m : results) {
      if (m) sink += m->attributes.origin_as() + m->prefix.length;
    }
  }
  return sink;
}

// The phases, one symbol each for --toggle-collect (noipa: identical
// bodies must not be merged into one function).
__attribute__((noipa)) void PhaseIngestFirstPeer(
    PeerWriter* p, const std::vector<benchgen::Update>& u) {
  Feed(p, u);
}
__attribute__((noipa)) void PhaseIngestSecondPeer(
    PeerWriter* p, const std::vector<benchgen::Update>& u) {
  Feed(p, u);
}
__attribute__((noipa)) uint64_t PhaseLookupManyV4(
    RibReader* r, PeerId p, const std::vector<IpAddress>& a) {
  return Lookups(r, p, a);
}
__attribute__((noipa)) uint64_t PhaseLookupManyV6(
    RibReader* r, PeerId p, const std::vector<IpAddress>& a) {
  return Lookups(r, p, a);
}

int Main(int argc, char** argv) {
  size_t n_v4 = 250000, n_v6 = 50000, n_lookups = 64000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--v4=", 5) == 0) {
      n_v4 = std::strtoull(argv[i] + 5, nullptr, 10);
    } else if (std::strncmp(argv[i], "--v6=", 5) == 0) {
      n_v6 = std::strtoull(argv[i] + 5, nullptr, 10);
    } else if (std::strncmp(argv[i], "--lookups=", 10) == 0) {
      n_lookups = std::strtoull(argv[i] + 10, nullptr, 10) / 64 * 64;
    } else {
      std::fprintf(stderr, "usage: %s [--v4=N] [--v6=N] [--lookups=N]\n",
                   argv[0]);
      return 2;
    }
  }
  benchgen::Table table = benchgen::MakeTable(n_v4, n_v6);
  std::vector<benchgen::Update> first = benchgen::UpdatesFor(table, 1);
  std::vector<benchgen::Update> second = benchgen::UpdatesFor(table, 2);
  std::vector<IpAddress> v4 = benchutil::LookupAddresses(
      table, false, n_lookups, benchutil::Spread::kUniform);
  std::vector<IpAddress> v6 = benchutil::LookupAddresses(
      table, true, n_lookups, benchutil::Spread::kUniform);
  auto rib = std::move(*Rib::Create({}));
  auto a = std::move(*rib->AddPeer({}));
  auto b = std::move(*rib->AddPeer({}));
  auto reader = rib->NewReader();
  const double routes = static_cast<double>(n_v4 + n_v6);
  double t0 = benchutil::ThreadCpuSeconds();
  PhaseIngestFirstPeer(a.get(), first);
  double t1 = benchutil::ThreadCpuSeconds();
  PhaseIngestSecondPeer(b.get(), second);
  double t2 = benchutil::ThreadCpuSeconds();
  uint64_t sink = PhaseLookupManyV4(reader.get(), a->id(), v4);
  double t3 = benchutil::ThreadCpuSeconds();
  sink += PhaseLookupManyV6(reader.get(), a->id(), v6);
  double t4 = benchutil::ThreadCpuSeconds();
  std::printf("routes per peer: %.0f; lookups per family: %zu\n", routes,
              n_lookups);
  std::printf("IngestFirstPeer  %.3f CPU-s/M routes\n",
              (t1 - t0) * 1e6 / routes);
  std::printf("IngestSecondPeer %.3f CPU-s/M routes\n",
              (t2 - t1) * 1e6 / routes);
  std::printf("LookupManyV4     %.1f CPU-ns/lookup\n",
              (t3 - t2) * 1e9 / n_lookups);
  std::printf("LookupManyV6     %.1f CPU-ns/lookup (checksum %" PRIu64 ")\n",
              (t4 - t3) * 1e9 / n_lookups, sink);
  return 0;
}

}  // namespace
}  // namespace flowacct::bgp

int main(int argc, char** argv) { return flowacct::bgp::Main(argc, argv); }
