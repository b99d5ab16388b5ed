// File: libflowacct/bgp/rib/spin_lock.h
//
// SpinLock: a lock for critical sections of a few dozen instructions that
// are rarely contended (the Arena's free lists, the EpochDomain's retire
// queue). Uncontended, lock() + unlock() is one atomic exchange and one
// store; std::mutex (glibc) costs about 70 instructions for the pair,
// which a full-table ingest paid about a million times. A waiter spins on
// a plain load with a pause, then yields its core, so a holder that lost
// its CPU is not starved on a small machine. Meets BasicLockable
// (std::lock_guard works); TSan understands it through std::atomic.

#ifndef FLOWACCT_LIBFLOWACCT_BGP_RIB_SPIN_LOCK_H_
#define FLOWACCT_LIBFLOWACCT_BGP_RIB_SPIN_LOCK_H_

#include <atomic>
#include <thread>

namespace flowacct::bgp::rib_internal {

class SpinLock {
 public:
  SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() {
    while (held_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; held_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
          Pause();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() { return !held_.exchange(true, std::memory_order_acquire); }
  void unlock() { held_.store(false, std::memory_order_release); }

 private:
  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::atomic<bool> held_{false};
};

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_SPIN_LOCK_H_
