#include "libflowacct/bgp/rib/arena.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

namespace flowacct::bgp::rib_internal {

Arena::~Arena() {
  for (void* b : blocks_) std::free(b);
}

void* Arena::Allocate(size_t bytes) {
  const size_t size = Rounded(bytes == 0 ? 1 : bytes);
  if (size > kMaxBytes) std::abort();
  const size_t c = size / kUnit;
  std::lock_guard<SpinLock> lock(mu_);
  if (FreeObject* f = free_[c]; f != nullptr) {
    free_[c] = f->next;
    idle_.fetch_sub(size, std::memory_order_relaxed);
    return f;
  }
  if (static_cast<size_t>(bump_end_ - bump_) < size) {
    // The tail of the current block stays idle (counted): objects never
    // span blocks.
    void* block = std::aligned_alloc(kBlockBytes, kBlockBytes);
    if (block == nullptr) throw std::bad_alloc();
    // Best effort: without THP the memory is ordinary pages.
    if (huge_pages_) (void)madvise(block, kBlockBytes, MADV_HUGEPAGE);
    blocks_.push_back(block);
    blocks_count_.fetch_add(1, std::memory_order_relaxed);
    idle_.fetch_add(kBlockBytes, std::memory_order_relaxed);
    bump_ = static_cast<char*>(block);
    bump_end_ = bump_ + kBlockBytes;
  }
  void* p = bump_;
  bump_ += size;
  idle_.fetch_sub(size, std::memory_order_relaxed);
  return p;
}

void Arena::Free(void* p, size_t bytes) {
  if (p == nullptr) return;
  const size_t size = Rounded(bytes == 0 ? 1 : bytes);
  const size_t c = size / kUnit;
  std::lock_guard<SpinLock> lock(mu_);
  FreeObject* f = static_cast<FreeObject*>(p);
  f->next = free_[c];
  free_[c] = f;
  idle_.fetch_add(size, std::memory_order_relaxed);
}

void* AllocateHugeArray(size_t bytes) {
  const bool huge = bytes >= Arena::kBlockBytes / 2;
  const size_t align = huge ? Arena::kBlockBytes : Arena::kUnit;
  const size_t size = (bytes + align - 1) & ~(align - 1);
  void* p = std::aligned_alloc(align, size);
  if (p == nullptr) throw std::bad_alloc();
  if (huge) (void)madvise(p, size, MADV_HUGEPAGE);
  std::memset(p, 0, size);
  return p;
}

void FreeHugeArray(void* p, size_t /*bytes*/) { std::free(p); }

void* ReserveZeroedArray(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void ReleaseReservedArray(void* p, size_t bytes) { munmap(p, bytes); }

void PopulateArray(void* p, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  (void)madvise(p, bytes, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace flowacct::bgp::rib_internal
