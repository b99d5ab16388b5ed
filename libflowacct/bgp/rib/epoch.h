// File: libflowacct/bgp/rib/epoch.h
//
// EpochDomain: the RIB's memory reclamation. Readers (and writers, while they
// walk shared structures without a lock) enter a read section on their own
// Slot; memory a writer unlinks is Retire()d with the epoch current at that
// moment and freed only once every section that could still see it has left.
//
// The scheme is classic epoch-based reclamation (Fraser, "Practical lock
// freedom", 2004):
//   - a global epoch E (starts at 1);
//   - each slot publishes the epoch it observed on Enter(), 0 when outside;
//   - Retire(x) tags x with the E read after x was unlinked;
//   - E advances from e to e+1 only when every active slot shows e;
//   - x tagged t is freed once E >= t + 2: a section that could see x
//     entered with an epoch <= t, and two advances prove it has left.
// All epoch and slot accesses are seq_cst, so a reader whose Enter() was not
// seen by a scan is ordered after the unlink that preceded the scan.
//
// Thread-safety: EpochSlot::Enter/Exit are called by the slot's owner thread
// only; everything else is thread-safe. Reclaim() runs deleters on the calling
// thread, which must hold no RIB lock (deleters may take the intern mutex).

#ifndef FLOWACCT_LIBFLOWACCT_BGP_RIB_EPOCH_H_
#define FLOWACCT_LIBFLOWACCT_BGP_RIB_EPOCH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "libflowacct/bgp/rib/spin_lock.h"

namespace flowacct::bgp::rib_internal {

class EpochDomain;

// One read-side participant. Obtained from EpochDomain::Register(),
// returned with Unregister(). Sections do not nest. One cache line each:
// a reader and a writer entering sections on two cores must not write
// the same line.
class alignas(64) EpochSlot {
 public:
  inline void Enter();
  void Exit() { local_.store(0, std::memory_order_release); }
  bool active() const { return local_.load(std::memory_order_relaxed) != 0; }

 private:
  friend class EpochDomain;
  explicit EpochSlot(EpochDomain* domain) : domain_(domain) {}
  EpochDomain* domain_;
  std::atomic<uint64_t> local_{0};
  bool in_use_ = false;
};

class EpochDomain {
 public:
  using Deleter = void (*)(void* ctx, void* object, uint64_t arg);

  EpochDomain() = default;
  EpochDomain(const EpochDomain&) = delete;
  EpochDomain& operator=(const EpochDomain&) = delete;
  // Runs every pending deleter. REQUIRES: no slot is inside a section.
  ~EpochDomain();

  EpochSlot* Register();
  void Unregister(EpochSlot* slot);

  // Queues deleter(ctx, object, arg) to run after a grace period. The caller
  // has already made `object` unreachable for new sections.
  void Retire(Deleter deleter, void* ctx, void* object, uint64_t arg = 0);

  // Tries to advance the epoch and runs the deleters whose grace period has
  // passed. Cheap when nothing is pending. Returns how many ran.
  size_t Reclaim();
  // Runs every pending deleter now. REQUIRES: no section is active and
  // none will start (teardown).
  void DrainAll();

  // Deleters waiting for a grace period.
  size_t pending() const {
    return pending_count_.load(std::memory_order_relaxed);
  }
  uint64_t epoch() const { return epoch_.load(std::memory_order_relaxed); }

 private:
  struct Retired {
    uint64_t epoch;
    Deleter deleter;
    void* ctx;
    void* object;
    uint64_t arg;
  };

  friend class EpochSlot;
  bool TryAdvanceLocked(uint64_t e);

  // Every section's Enter reads epoch_; Retire writes the members after
  // it (on every node or record a writer replaces): separate lines.
  alignas(64) std::atomic<uint64_t> epoch_{1};
  alignas(64) std::atomic<size_t> pending_count_{0};
  SpinLock mu_;        // slots_ and retired_ (short sections)
  std::mutex run_mu_;  // serialises deleter runs (they run in FIFO order)
  std::deque<std::unique_ptr<EpochSlot>> slots_;  // never shrinks
  std::deque<Retired> retired_;                   // ordered by epoch
};

inline void EpochSlot::Enter() {
  uint64_t e = domain_->epoch_.load(std::memory_order_seq_cst);
  local_.store(e, std::memory_order_seq_cst);
  // If the epoch moved between the load and the store, publish the newer
  // one so this section does not hold the next advance back needlessly.
  uint64_t again = domain_->epoch_.load(std::memory_order_seq_cst);
  if (again != e) local_.store(again, std::memory_order_seq_cst);
}

// RAII read section on a slot.
class SectionGuard {
 public:
  explicit SectionGuard(EpochSlot* slot) : slot_(slot) { slot_->Enter(); }
  ~SectionGuard() { slot_->Exit(); }
  SectionGuard(const SectionGuard&) = delete;
  SectionGuard& operator=(const SectionGuard&) = delete;

 private:
  EpochSlot* slot_;
};

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_EPOCH_H_
