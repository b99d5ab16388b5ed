// Micro-benchmarks for the BGP UPDATE parser (bgp/message.h): full-table
// style UPDATEs, reported as NLRI/s ("items_per_second").
//
//   ninja -C build tests/bench/bgp_message_bench && \
//     build/tests/bench/bgp_message_bench --benchmark_min_time=1

#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "flowacct/bgp/message.h"

namespace flowacct::bgp {
namespace {

SessionParams Params() {
  SessionParams p;
  p.four_octet_as = true;
  p.families = {kIpv4Unicast, kIpv6Unicast, {Afi::kIpv4, Safi::kMplsVpn}};
  p.ibgp = true;
  return p;
}

PathAttributes Attributes(bool v6) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = {{AsSegmentType::kSequence, {64500, 3356, 1299, 2914, 65010}}};
  a.next_hop =
      v6 ? IpAddress::Parse("2001:db8::1").value() : IpAddress::V4(0xc0000201);
  a.med = 100;
  a.local_pref = 100;
  a.communities = {0xfde80001, 0xfde80002, 0x0d1c0064};
  a.large_communities = {{64500, 1, 2}};
  return a;
}

std::vector<uint8_t> Build(const SessionParams& p, const PathAttributes& a,
                           const std::vector<Nlri>& routes) {
  auto wire = UpdateBuilder(p).Build(a, routes, {});
  return wire.ok() ? std::move(*wire) : std::vector<uint8_t>{};
}

void Run(benchmark::State& state, const SessionParams& p,
         const std::vector<uint8_t>& wire, size_t nlri) {
  ParsedUpdate update;
  for (auto _ : state) {
    ParseUpdate(wire, p, &update);
    benchmark::DoNotOptimize(update.announced.data());
  }
  if (update.announced.size() != nlri) state.SkipWithError("bad parse");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * nlri));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * wire.size()));
}

// 1 attribute set + 100 IPv4 /24 NLRI (classic fields).
void BM_UpdateIpv4Unicast100(benchmark::State& state) {
  SessionParams p = Params();
  std::vector<Nlri> routes;
  for (uint32_t i = 0; i < 100; ++i) {
    Nlri n;
    n.key.prefix = {IpAddress::V4(0x0a000000 | (i << 8)), 24};
    routes.push_back(n);
  }
  Run(state, p, Build(p, Attributes(false), routes), routes.size());
}
BENCHMARK(BM_UpdateIpv4Unicast100);

// IPv6 unicast in MP_REACH_NLRI, 50 /48 NLRI.
void BM_UpdateIpv6MpReach50(benchmark::State& state) {
  SessionParams p = Params();
  std::vector<Nlri> routes;
  for (uint32_t i = 0; i < 50; ++i) {
    uint8_t b[16] = {0x20,
                     0x01,
                     0x0d,
                     0xb8,
                     static_cast<uint8_t>(i >> 8),
                     static_cast<uint8_t>(i)};
    Nlri n;
    n.key.family = kIpv6Unicast;
    n.key.prefix = {IpAddress::V6Bytes(b), 48};
    routes.push_back(n);
  }
  Run(state, p, Build(p, Attributes(true), routes), routes.size());
}
BENCHMARK(BM_UpdateIpv6MpReach50);

// ADD-PATH IPv4: 100 /24 with path identifiers.
void BM_UpdateIpv4AddPath100(benchmark::State& state) {
  SessionParams p = Params();
  p.add_path_receive = {kIpv4Unicast};
  std::vector<Nlri> routes;
  for (uint32_t i = 0; i < 100; ++i) {
    Nlri n;
    n.key.prefix = {IpAddress::V4(0x0a000000 | (i << 8)), 24};
    n.key.path_id = i + 1;
    routes.push_back(n);
  }
  Run(state, p, Build(p, Attributes(false), routes), routes.size());
}
BENCHMARK(BM_UpdateIpv4AddPath100);

// VPNv4: 100 NLRI with label + RD.
void BM_UpdateVpnv4_100(benchmark::State& state) {
  SessionParams p = Params();
  std::vector<Nlri> routes;
  for (uint32_t i = 0; i < 100; ++i) {
    Nlri n;
    n.key.family = {Afi::kIpv4, Safi::kMplsVpn};
    n.key.prefix = {IpAddress::V4(0x0a000000 | (i << 8)), 24};
    n.key.rd.bytes = {0, 0, 0xfd, 0xe8, 0, 0, 0, 1};
    n.mpls_label = 24000 + i;
    routes.push_back(n);
  }
  Run(state, p, Build(p, Attributes(false), routes), routes.size());
}
BENCHMARK(BM_UpdateVpnv4_100);

}  // namespace
}  // namespace flowacct::bgp
