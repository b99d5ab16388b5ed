// bgp/rib SpinLock (libflowacct/bgp/rib/spin_lock.h): mutual exclusion
// under contention, try_lock. Run under TSan too (FLOWACCT_TSAN=ON), which
// would report the plain counter below if the lock did not order it.

#include "libflowacct/bgp/rib/spin_lock.h"

#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct::bgp::rib_internal {
namespace {

TEST_CASE("bgp/rib: SpinLock excludes, and try_lock fails while held") {
  SpinLock lock;
  uint64_t counter = 0;  // plain: only the lock orders the increments
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard<SpinLock> guard(lock);
        ++counter;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(counter == uint64_t{kThreads} * kRounds);

  REQUIRE(lock.try_lock());
  CHECK_FALSE(lock.try_lock());
  bool other_got_it = true;
  std::thread([&] { other_got_it = lock.try_lock(); }).join();
  CHECK_FALSE(other_got_it);
  lock.unlock();
  CHECK(lock.try_lock());
  lock.unlock();
}

}  // namespace
}  // namespace flowacct::bgp::rib_internal
