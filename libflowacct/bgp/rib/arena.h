// File: libflowacct/bgp/rib/arena.h
//
// Arena: memory for the RIB structures that lookups read at random (trie
// nodes, per-peer route words, attribute records), carved from 2 MiB
// blocks. Optionally (RibOptions::huge_pages) the kernel is asked to back
// them with transparent huge pages (madvise(MADV_HUGEPAGE); honoured when
// /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise"):
// a full-table lookup touches a handful of cache lines spread over a few
// hundred MiB, and with 4 KiB pages each of them may also miss the TLB.
// Not by default: a fresh huge page can cost the writer a memory
// compaction on first touch (docs/performance.md, "BGP: codec and RIB").
//
// Objects are 64-byte aligned (one cache line starts each) and sized in
// 64-byte units; sizes up to kMaxBytes. Freed objects go to a free list of
// their size and are reused for the next object of that size; blocks go
// back to the system only when the Arena is destroyed, so the RIB's
// footprint is its high-water mark (what a full-table RIB reaches once
// anyway).
//
// Thread-safety: Allocate and Free from any thread (one spin lock).

#ifndef FLOWACCT_LIBFLOWACCT_BGP_RIB_ARENA_H_
#define FLOWACCT_LIBFLOWACCT_BGP_RIB_ARENA_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "libflowacct/bgp/rib/spin_lock.h"

namespace flowacct::bgp::rib_internal {

class Arena {
 public:
  static constexpr size_t kUnit = 64;
  static constexpr size_t kBlockBytes = size_t{2} << 20;
  static constexpr size_t kMaxBytes = size_t{256} << 10;

  // huge_pages: madvise(MADV_HUGEPAGE) each block.
  explicit Arena(bool huge_pages = false) : huge_pages_(huge_pages) {}
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Uninitialised memory for `bytes` (1..kMaxBytes), 64-byte aligned.
  // Aborts (like operator new) when the system has no memory left.
  void* Allocate(size_t bytes);
  // REQUIRES: p came from Allocate(bytes) with the same `bytes`.
  void Free(void* p, size_t bytes);

  // `bytes` as the arena accounts it (rounded up to 64-byte units).
  static size_t Rounded(size_t bytes) {
    return (bytes + kUnit - 1) & ~(kUnit - 1);
  }
  // Blocks taken from the system, and the part of them on free lists or
  // never handed out.
  size_t reserved_bytes() const {
    return blocks_count_.load(std::memory_order_relaxed) * kBlockBytes;
  }
  size_t idle_bytes() const { return idle_.load(std::memory_order_relaxed); }

 private:
  struct FreeObject {
    FreeObject* next;
  };
  static constexpr size_t kClasses = kMaxBytes / kUnit + 1;

  const bool huge_pages_;
  SpinLock mu_;  // free_, blocks_, bump_ (a few instructions held)
  std::vector<void*> blocks_;
  char* bump_ = nullptr;  // inside the newest block
  char* bump_end_ = nullptr;
  FreeObject* free_[kClasses] = {};
  std::atomic<size_t> blocks_count_{0};
  std::atomic<size_t> idle_{0};
};

// A zeroed array of `bytes` for the RIB's fixed arrays (the index roots),
// 2 MiB aligned and huge-page backed when it is at least 2 MiB / 2 (smaller
// ones: 64-byte aligned). Free with FreeHugeArray(p, same bytes).
void* AllocateHugeArray(size_t bytes);
void FreeHugeArray(void* p, size_t bytes);

// Address space for a large, sparsely written array (the flat IPv4 index
// root): `bytes` of zeros; a page costs memory only once something is
// stored in it. Small pages: asking for huge ones made the kernel compact
// memory on first touch, which cost up to 0.7 CPU-s per 64 MiB on a
// fragmented host, more than the TLB misses they save the lookups. Free
// with ReleaseReservedArray(p, same bytes).
void* ReserveZeroedArray(size_t bytes);
void ReleaseReservedArray(void* p, size_t bytes);
// Backs [p, p + bytes) of such an array (page aligned) with writable
// pages in one call (MADV_POPULATE_WRITE, Linux 5.14) instead of a page
// fault per 4 KiB on first write. Best effort: without it, the faults.
void PopulateArray(void* p, size_t bytes);

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_ARENA_H_
