// File: tests/bench/rib_table_gen.h
//
// Synthetic full BGP tables for the RIB benchmarks (rib_bench.cc,
// rib_scale_bench.cc). Deterministic: the same arguments give the same
// tables on every machine.
//
// Model of "realistic attribute diversity" (figures from public
// routing-table reports, e.g. CIDR report / bgp.potaroo.net, 2024):
//   - Prefixes: IPv4 lengths follow the real table (about 60% /24, 10% /23,
//     12% /22, then /21../8 tapering; a few longer than /24); IPv6 lengths
//     about 45% /48, 12% /32, 8% /44, 6% /40, the rest spread /29../64.
//     Prefixes are clustered: IPv4 ones fall into ~45 k routed /16s, IPv6
//     ones into ~35 k /32 allocations under 2000::/4, so the trie has the
//     real table's shape (dense clusters, long sparse tails).
//   - Origins: ~75 k origin ASes, Zipf-like (a few originate thousands of
//     prefixes, most a handful). A cluster (/16, /32) mostly belongs to one
//     origin; ~30% of its prefixes are originated by other ASes
//     (customers, deaggregation).
//   - Peers are iBGP edge routers of one AS. Every peer sees every prefix.
//     For each origin a peer uses the AS's common best path (variant 0) for
//     ~75% of origins and one of two local alternatives otherwise, so AS
//     paths are largely shared across peers but not entirely.
//   - AS path: [upstream (one of 24 neighbour ASes), transit ASes...,
//     origin]; length 1..10 with mean ~4.5; ~1% end in an AS_SET;
//     occasional prepending.
//   - Next hop: per peer and upstream: either the edge router's loopback
//     (next-hop-self) or the eBGP neighbour's address.
//   - Communities: 0..10 per route (mean ~3): a set determined by
//     (upstream, origin) (the upstream's geo/relationship tags), plus for
//     ~25% of prefixes one prefix-specific tag; ~10% of routes carry one
//     large community and ~5% an extended community.
//   - LOCAL_PREF per upstream class; MED on ~30% of upstreams.
//   - UPDATEs: routes with identical attributes are packed together (at
//     most 400 NLRI per UPDATE, as a speaker's update packing would), and
//     the UPDATEs are sent in a pseudo-random order.
// Resulting per-peer distinct attribute sets: low hundreds of thousands
// for 1.0 M IPv4 + 0.2 M IPv6 prefixes (the tool prints the figure).

#ifndef FLOWACCT_TESTS_BENCH_RIB_TABLE_GEN_H_
#define FLOWACCT_TESTS_BENCH_RIB_TABLE_GEN_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <unordered_set>
#include <utility>
#include <vector>

#include "flowacct/bgp/path_attributes.h"

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

namespace flowacct::bgp::benchgen {

inline uint64_t Mix(uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t x = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) ^
               (c * 0xc2b2ae3d27d4eb4full);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 29;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 32;
  return x;
}

struct GenPrefix {
  Prefix prefix;
  uint32_t origin;  // origin AS
  uint32_t salt;    // per-prefix randomness
};

struct Table {
  std::vector<GenPrefix> v4;
  std::vector<GenPrefix> v6;
};

inline int PickLength(std::mt19937_64& rng, bool v6) {
  // Cumulative per-mille distributions.
  static const std::pair<int, int> kV4[] = {
      {8, 1},    {10, 2},   {12, 4},   {13, 6},   {14, 9},
      {15, 13},  {16, 27},  {17, 35},  {18, 48},  {19, 73},
      {20, 118}, {21, 168}, {22, 288}, {23, 388}, {24, 993},
      {25, 995}, {26, 997}, {28, 998}, {29, 999}, {32, 1000}};
  static const std::pair<int, int> kV6[] = {
      {19, 2},   {20, 5},   {24, 10},  {28, 20},  {29, 50},  {30, 55},
      {31, 58},  {32, 178}, {33, 195}, {34, 210}, {35, 220}, {36, 260},
      {38, 275}, {40, 335}, {41, 345}, {42, 360}, {43, 370}, {44, 450},
      {45, 465}, {46, 500}, {47, 530}, {48, 980}, {56, 990}, {64, 1000}};
  int r = static_cast<int>(rng() % 1000);
  if (v6) {
    for (auto [len, cum] : kV6) {
      if (r < cum) return len;
    }
    return 48;
  }
  for (auto [len, cum] : kV4) {
    if (r < cum) return len;
  }
  return 24;
}

// Zipf-like origin: index i with weight ~1/(i+10).
inline uint32_t PickOrigin(uint64_t h, uint32_t n_origins) {
  double u = static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
  double k = 10.0 * std::pow((n_origins + 10.0) / 10.0, u) - 10.0;
  uint32_t i = std::min<uint32_t>(static_cast<uint32_t>(k), n_origins - 1);
  // Two-octet ASNs first, then four-octet ones (RFC 6793).
  return i < 45000 ? 2000 + i : 196608 + i;
}

inline Table MakeTable(size_t n_v4, size_t n_v6, uint64_t seed = 1) {
  Table t;
  std::mt19937_64 rng(seed);
  const uint32_t kOrigins = 75000;
  // Routed clusters.
  std::vector<uint32_t> v4_clusters;  // /16 values
  for (uint32_t i = 0; v4_clusters.size() < 45000; ++i) {
    uint32_t c = static_cast<uint32_t>(Mix(seed, i, 16) % (223 * 256 - 256)) +
                 256;  // 1.0/16 .. 223.255/16
    v4_clusters.push_back(c);
  }
  std::vector<uint64_t> v6_clusters;  // top 32 bits
  for (uint32_t i = 0; v6_clusters.size() < 35000; ++i) {
    v6_clusters.push_back(0x20000000ull | (Mix(seed, i, 32) & 0x0fffffffull));
  }
  auto cluster_origin = [&](uint64_t cluster, uint64_t salt) {
    uint64_t h = Mix(cluster, 99);
    if (salt % 10 < 3) h = Mix(cluster, salt);  // a customer's prefix
    return PickOrigin(h, kOrigins);
  };
  std::unordered_set<uint64_t> seen;
  seen.reserve((n_v4 + n_v6) * 2);
  while (t.v4.size() < n_v4) {
    int len = PickLength(rng, false);
    // Big clusters get more prefixes (Zipf over clusters).
    uint64_t ci = static_cast<uint64_t>(
        std::pow(static_cast<double>(rng() % 1000000) / 1e6, 1.7) *
        v4_clusters.size());
    uint32_t cluster = v4_clusters[ci];
    uint32_t addr = (cluster << 16) | static_cast<uint32_t>(rng() & 0xffff);
    if (len < 16)
      addr = static_cast<uint32_t>(rng() % (223u << 24)) + (1u << 24);
    uint32_t mask = ~uint32_t{0} << (32 - len);
    addr &= mask;
    uint64_t key = (uint64_t{addr} << 8) | static_cast<uint64_t>(len);
    if (!seen.insert(key).second) continue;
    uint32_t salt = static_cast<uint32_t>(rng());
    GenPrefix g;
    g.prefix.address = IpAddress::V4(addr);
    g.prefix.length = static_cast<uint8_t>(len);
    g.origin = cluster_origin(cluster, salt);
    g.salt = salt;
    t.v4.push_back(g);
  }
  while (t.v6.size() < n_v6) {
    int len = PickLength(rng, true);
    uint64_t ci = static_cast<uint64_t>(
        std::pow(static_cast<double>(rng() % 1000000) / 1e6, 1.7) *
        v6_clusters.size());
    uint64_t cluster = v6_clusters[ci];
    uint64_t hi = (cluster << 32) | (rng() & 0xffffffffull);
    if (len < 32) hi = (0x2000ull << 48) | (rng() & 0x0fffffffffffffffull);
    if (len < 64) hi &= ~uint64_t{0} << (64 - len);
    uint64_t key = Mix(hi, static_cast<uint64_t>(len), 6);
    if (!seen.insert(key).second) continue;
    uint8_t raw[16] = {};
    for (int i = 0; i < 8; ++i)
      raw[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    uint32_t salt = static_cast<uint32_t>(rng());
    GenPrefix g;
    g.prefix.address = IpAddress::V6Bytes(raw);
    g.prefix.length = static_cast<uint8_t>(len);
    g.origin = cluster_origin(cluster, salt);
    g.salt = salt;
    t.v6.push_back(g);
  }
  return t;
}

// The attributes peer `peer` has for prefix `g` (see the model above).
inline PathAttributes AttributesFor(const GenPrefix& g, uint32_t peer,
                                    bool v6) {
  constexpr uint32_t kLocalAs = 64496;
  uint64_t op = Mix(g.origin, peer, 1);
  uint32_t variant = op % 4 == 0 ? 1 + static_cast<uint32_t>(op >> 8) % 2 : 0;
  uint64_t pv = Mix(g.origin, variant, 2);
  uint32_t upstream = static_cast<uint32_t>(pv % 24);
  PathAttributes a;
  a.origin = (pv >> 5) % 10 == 0 ? Origin::kIncomplete : Origin::kIgp;
  // Length 1..10, mean ~4.5.
  static const int kLenCum[] = {30,  150, 380, 600, 770,
                                880, 940, 975, 992, 1000};
  int r = static_cast<int>((pv >> 10) % 1000);
  int len = 1;
  while (len < 10 && r >= kLenCum[len - 1]) ++len;
  AsPathSegment seq;
  seq.type = AsSegmentType::kSequence;
  seq.asns.push_back(174 + upstream * 1000);  // the neighbour AS
  for (int i = 1; i < len - 1; ++i) {
    seq.asns.push_back(static_cast<uint32_t>(Mix(pv, i, 3) % 400) + 1000);
  }
  if (len > 1) seq.asns.push_back(g.origin);
  if ((pv >> 20) % 20 == 0) seq.asns.push_back(seq.asns.back());  // prepend
  a.as_path.push_back(std::move(seq));
  if ((pv >> 24) % 100 == 0) {
    a.as_path.push_back(
        AsPathSegment{AsSegmentType::kSet, {g.origin + 1, g.origin + 2}});
  }
  // Next hop: loopback of the edge router, or the eBGP neighbour.
  bool nh_self = upstream % 2 == 0;
  if (v6) {
    uint8_t raw[16] = {0x20, 0x01, 0x0d, 0xb8};
    raw[5] = static_cast<uint8_t>(peer);
    raw[6] = static_cast<uint8_t>(peer >> 8);
    raw[15] = nh_self ? 1 : static_cast<uint8_t>(10 + upstream);
    a.next_hop = IpAddress::V6Bytes(raw);
  } else {
    a.next_hop =
        IpAddress::V4(0x0a000000 | (peer << 8) | (nh_self ? 1 : 10 + upstream));
  }
  a.local_pref = upstream < 8 ? 200 : upstream < 20 ? 100 : 80;
  if (upstream % 3 == 0) a.med = static_cast<uint32_t>(Mix(g.origin, 5) % 50);
  // Communities: (upstream, origin) set + sometimes a prefix-specific one.
  uint64_t cs = Mix(g.origin, upstream, 4);
  static const int kCommCum[] = {150, 300, 450, 600, 700, 780,
                                 850, 900, 950, 980, 1000};
  int cr = static_cast<int>(cs % 1000);
  int n = 0;
  while (n < 10 && cr >= kCommCum[n]) ++n;
  for (int i = 0; i < n; ++i) {
    a.communities.push_back(((kLocalAs & 0xffff) << 16) |
                            static_cast<uint32_t>(Mix(cs, i) % 2000));
  }
  if (g.salt % 4 == 0 && !a.communities.empty()) {
    a.communities.back() = (kLocalAs << 16) | (3000 + g.salt % 64);
  }
  if ((cs >> 16) % 10 == 0) {
    a.large_communities.push_back(
        LargeCommunity{kLocalAs, upstream, static_cast<uint32_t>(cs % 100)});
  }
  if ((cs >> 24) % 20 == 0) {
    a.ext_communities.push_back(0x0002000000000000ull | (cs & 0xffffffff));
  }
  return a;
}

// One UPDATE: attributes and the NLRI sharing them.
struct Update {
  PathAttributes attributes;
  std::vector<Nlri> nlri;
};

// The UPDATEs peer `peer` sends for `table`, packed and shuffled.
inline std::vector<Update> UpdatesFor(const Table& table, uint32_t peer) {
  std::vector<Update> out;
  absl::flat_hash_map<uint64_t, std::vector<size_t>> by_attrs;
  auto add = [&](const GenPrefix& g, bool v6) {
    PathAttributes a = AttributesFor(g, peer, v6);
    // Key on content (hash of the fields that vary).
    uint64_t h = absl::HashOf(
        a.as_path.size(), a.as_path[0].asns, a.next_hop, a.local_pref, a.med,
        a.communities, a.large_communities.size(), a.ext_communities.size(),
        static_cast<int>(a.origin.value_or(Origin::kIgp)));
    auto& list = by_attrs[h];
    if (list.empty() || out[list.back()].nlri.size() >= 400) {
      list.push_back(out.size());
      out.push_back(Update{std::move(a), {}});
    }
    Nlri n;
    n.key.family = v6 ? kIpv6Unicast : kIpv4Unicast;
    n.key.prefix = g.prefix;
    out[list.back()].nlri.push_back(n);
  };
  for (const GenPrefix& g : table.v4) add(g, false);
  for (const GenPrefix& g : table.v6) add(g, true);
  std::mt19937_64 rng(Mix(peer, 77));
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

}  // namespace flowacct::bgp::benchgen

#endif  // FLOWACCT_TESTS_BENCH_RIB_TABLE_GEN_H_
