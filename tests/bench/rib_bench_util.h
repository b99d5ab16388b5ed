// File: tests/bench/rib_bench_util.h
//
// What the RIB benchmarks (rib_scale_bench.cc, rib_cost_bench.cc) share:
// the thread's CPU clock and lookup addresses drawn from a generated table.

#ifndef FLOWACCT_TESTS_BENCH_RIB_BENCH_UTIL_H_
#define FLOWACCT_TESTS_BENCH_RIB_BENCH_UTIL_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "flowacct/model/ip_address.h"

#include "tests/bench/rib_table_gen.h"
#include <time.h>

namespace flowacct::bgp::benchutil {

// CPU time of the calling thread, in seconds: on a shared machine it is
// inflated less by other load than wall time.
inline double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Random addresses inside the table's prefixes: over all of them
// uniformly (the worst case: every lookup a cache miss), with a Zipf-like
// popularity (rank r drawn with weight ~1/r, hot prefixes spread over the
// table: traffic's usual shape), or over 512 of them only (caches warm:
// what the lookup code itself costs).
enum class Spread { kUniform, kZipf, kHot };
inline std::vector<IpAddress> LookupAddresses(const benchgen::Table& t, bool v6,
                                              size_t n, Spread spread) {
  constexpr size_t kHot = 512;
  std::mt19937_64 rng(v6 ? 6 : 4);
  const auto& ps = v6 ? t.v6 : t.v4;
  std::vector<IpAddress> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    size_t k;
    if (spread == Spread::kHot) {
      k = ((rng() % kHot) * 2654435761u) % ps.size();  // spread over the table
    } else if (spread == Spread::kZipf) {
      double u = static_cast<double>(rng() >> 11) / 9007199254740992.0;
      k = static_cast<size_t>(std::pow(static_cast<double>(ps.size()), u)) - 1;
      k = benchgen::Mix(k, 3) % ps.size();
    } else {
      k = rng() % ps.size();
    }
    const Prefix& p = ps[k].prefix;
    uint8_t raw[16];
    std::memcpy(raw, p.address.data(), 16);
    int bits = v6 ? 128 : 32;
    for (int b = p.length; b < bits; ++b) {
      if (rng() & 1) raw[b / 8] |= static_cast<uint8_t>(0x80 >> (b % 8));
    }
    out.push_back(v6 ? IpAddress::V6Bytes(raw) : IpAddress::V4Bytes(raw));
  }
  return out;
}

}  // namespace flowacct::bgp::benchutil

#endif  // FLOWACCT_TESTS_BENCH_RIB_BENCH_UTIL_H_
