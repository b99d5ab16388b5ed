// File: libflowacct/bgp/rib/chunked_array.h
//
// ChunkedArray<T>: an array indexed by a dense 32-bit id whose storage is a
// fixed directory of lazily allocated chunks. Chunks never move, so readers
// index it without locks while the (single) writer appends chunks: the
// directory entry is published with a release store after the chunk is
// zero-initialised. Elements are expected to be std::atomic or written
// before being published elsewhere.
//
// Chunks come from an Arena (huge pages, 64-byte aligned) when one is
// given, else from operator new.
//
// Thread-safety: Get() from any thread; GetOrCreate() from one writer at a
// time (the caller serialises).

#ifndef FLOWACCT_LIBFLOWACCT_BGP_RIB_CHUNKED_ARRAY_H_
#define FLOWACCT_LIBFLOWACCT_BGP_RIB_CHUNKED_ARRAY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "libflowacct/bgp/rib/arena.h"

namespace flowacct::bgp::rib_internal {

template <typename T, int kChunkBits, int kDirBits>
class ChunkedArray {
 public:
  static constexpr uint32_t kChunkSize = uint32_t{1} << kChunkBits;
  static constexpr uint32_t kDirSize = uint32_t{1} << kDirBits;
  static constexpr uint64_t kCapacity = uint64_t{kChunkSize} * kDirSize;

  static constexpr size_t kChunkBytes = sizeof(T) * kChunkSize;
  static_assert(kChunkBytes <= Arena::kMaxBytes);

  explicit ChunkedArray(Arena* arena = nullptr)
      : arena_(arena), dir_(new std::atomic<T*>[kDirSize]) {
    for (uint32_t i = 0; i < kDirSize; ++i) dir_[i].store(nullptr);
  }
  ~ChunkedArray() {
    for (uint32_t i = 0; i < kDirSize; ++i) {
      T* c = dir_[i].load(std::memory_order_relaxed);
      if (c != nullptr) DeleteChunk(c);
    }
  }
  ChunkedArray(const ChunkedArray&) = delete;
  ChunkedArray& operator=(const ChunkedArray&) = delete;

  // nullptr when the chunk holding `id` was never created.
  T* Get(uint32_t id) const {
    T* c = dir_[id >> kChunkBits].load(std::memory_order_acquire);
    return c == nullptr ? nullptr : c + (id & (kChunkSize - 1));
  }
  // REQUIRES: id < kCapacity.
  T* GetOrCreate(uint32_t id) {
    std::atomic<T*>& slot = dir_[id >> kChunkBits];
    T* c = slot.load(std::memory_order_acquire);
    if (c == nullptr) {
      c = NewChunk();
      slot.store(c, std::memory_order_release);
      chunks_.fetch_add(1, std::memory_order_relaxed);
    }
    return c + (id & (kChunkSize - 1));
  }
  size_t bytes() const {
    return chunks_.load(std::memory_order_relaxed) * sizeof(T) * kChunkSize +
           kDirSize * sizeof(std::atomic<T*>);
  }
  // Calls fn(id, T&) for every element of every allocated chunk.
  template <typename Fn>
  void ForEachChunk(Fn&& fn) const {
    for (uint32_t i = 0; i < kDirSize; ++i) {
      T* c = dir_[i].load(std::memory_order_acquire);
      if (c != nullptr) fn(i << kChunkBits, c);
    }
  }

 private:
  T* NewChunk() {
    void* raw = arena_ != nullptr ? arena_->Allocate(kChunkBytes)
                                  : ::operator new(kChunkBytes);
    T* c = static_cast<T*>(raw);
    for (uint32_t i = 0; i < kChunkSize; ++i) new (c + i) T();
    return c;
  }
  void DeleteChunk(T* c) {
    for (uint32_t i = 0; i < kChunkSize; ++i) c[i].~T();
    if (arena_ != nullptr) {
      arena_->Free(c, kChunkBytes);
    } else {
      ::operator delete(c);
    }
  }

  Arena* const arena_;
  std::unique_ptr<std::atomic<T*>[]> dir_;
  std::atomic<size_t> chunks_{0};
};

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_CHUNKED_ARRAY_H_
