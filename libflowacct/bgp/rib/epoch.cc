#include "libflowacct/bgp/rib/epoch.h"

#include <utility>

namespace flowacct::bgp::rib_internal {

EpochDomain::~EpochDomain() { DrainAll(); }

void EpochDomain::DrainAll() {
  std::lock_guard<std::mutex> run(run_mu_);
  for (;;) {
    std::deque<Retired> all;
    {
      std::lock_guard<SpinLock> lock(mu_);
      all.swap(retired_);
      pending_count_.store(0, std::memory_order_relaxed);
    }
    if (all.empty()) return;
    for (const Retired& r : all) r.deleter(r.ctx, r.object, r.arg);
  }
}

EpochSlot* EpochDomain::Register() {
  std::lock_guard<SpinLock> lock(mu_);
  for (auto& s : slots_) {
    if (!s->in_use_) {
      s->in_use_ = true;
      return s.get();
    }
  }
  slots_.push_back(std::unique_ptr<EpochSlot>(new EpochSlot(this)));
  slots_.back()->in_use_ = true;
  return slots_.back().get();
}

void EpochDomain::Unregister(EpochSlot* slot) {
  slot->Exit();
  std::lock_guard<SpinLock> lock(mu_);
  slot->in_use_ = false;
}

void EpochDomain::Retire(Deleter deleter, void* ctx, void* object,
                         uint64_t arg) {
  std::lock_guard<SpinLock> lock(mu_);
  // Read after the caller's unlink (program order + seq_cst load).
  uint64_t e = epoch_.load(std::memory_order_seq_cst);
  retired_.push_back(Retired{e, deleter, ctx, object, arg});
  pending_count_.fetch_add(1, std::memory_order_relaxed);
}

bool EpochDomain::TryAdvanceLocked(uint64_t e) {
  for (const auto& s : slots_) {
    uint64_t local = s->local_.load(std::memory_order_seq_cst);
    if (local != 0 && local != e) return false;
  }
  uint64_t expected = e;
  return epoch_.compare_exchange_strong(expected, e + 1,
                                        std::memory_order_seq_cst);
}

size_t EpochDomain::Reclaim() {
  if (pending_count_.load(std::memory_order_relaxed) == 0) return 0;
  // Deleters must run in retirement order (a peer's side slots are freed
  // before the peer), so one thread runs them at a time; others skip.
  std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
  if (!run.owns_lock()) return 0;
  std::deque<Retired> ready;
  {
    std::lock_guard<SpinLock> lock(mu_);
    // Two advances at most are useful: anything older than E-2 is ready.
    for (int i = 0; i < 2; ++i) {
      uint64_t e = epoch_.load(std::memory_order_seq_cst);
      if (retired_.empty() || retired_.front().epoch + 2 <= e) break;
      if (!TryAdvanceLocked(e)) break;
    }
    uint64_t e = epoch_.load(std::memory_order_seq_cst);
    while (!retired_.empty() && retired_.front().epoch + 2 <= e) {
      ready.push_back(retired_.front());
      retired_.pop_front();
    }
    pending_count_.fetch_sub(ready.size(), std::memory_order_relaxed);
  }
  for (const Retired& r : ready) r.deleter(r.ctx, r.object, r.arg);
  return ready.size();
}

}  // namespace flowacct::bgp::rib_internal
