// Private: the aggregation table. Open addressing with linear probing over a
// power-of-two number of slots, at most 70% full. Each slot is a fixed-stride
// row of 64-bit words held inline (the packed key, KeyLayout, followed by the
// counters packets, bytes, flows), so a lookup touches one row; a parallel
// byte per slot (0 = empty, else 0x80 | 7 bits of the hash) rejects most
// mismatches and empties without touching rows. Clear() keeps all storage:
// once the table has grown to the traffic, Add allocates nothing.

#ifndef FLOWACCT_LIBFLOWACCT_AGGREGATE_AGG_TABLE_H_
#define FLOWACCT_LIBFLOWACCT_AGGREGATE_AGG_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "libflowacct/aggregate/key_layout.h"

namespace flowacct::internal {

// packets, bytes, flows, and the OR of the TCP flags.
inline constexpr size_t kCounterWords = 4;

class AggTable {
 public:
  explicit AggTable(size_t key_words, size_t initial_rows = 256)
      : key_words_(key_words), stride_(key_words + kCounterWords) {
    size_t slots = 64;
    while (slots * 7 < initial_rows * 10) slots *= 2;
    Allocate(slots);
  }

  size_t size() const { return count_; }
  size_t key_words() const { return key_words_; }
  size_t stride() const { return stride_; }

  // Appends the rows (size() * stride() words, in slot order) to *out.
  void CopyRows(std::vector<uint64_t>* out) const {
    out->reserve(out->size() + count_ * stride_);
    for (size_t i = 0; i < ctrl_.size(); ++i) {
      if (ctrl_[i] == 0) continue;
      const uint64_t* row = slots_.data() + i * stride_;
      out->insert(out->end(), row, row + stride_);
    }
  }

  // Starts loading the cache lines a lookup of `hash` will touch first.
  void Prefetch(uint64_t hash) const {
    const size_t pos = hash & mask_;
    __builtin_prefetch(ctrl_.data() + pos);
    __builtin_prefetch(slots_.data() + pos * stride_);
  }

  // The counters (packets, bytes, flows) of `key`'s row, inserting a zeroed
  // row when new; nullptr when new and size() >= max_rows (max_rows 0 =
  // unlimited). `hash` is HashKey(key). kWords > 0: key_words() == kWords.
  template <size_t kWords = 0>
  uint64_t* FindOrInsert(const uint64_t* key, uint64_t hash, size_t max_rows) {
    const size_t words = kWords != 0 ? kWords : key_words_;
    const size_t stride = words + kCounterWords;
    const uint8_t tag = static_cast<uint8_t>(0x80 | (hash >> 57));
    size_t pos = hash & mask_;
    while (true) {
      const uint8_t c = ctrl_[pos];
      if (c == 0) break;
      if (c == tag) {
        uint64_t* row = slots_.data() + pos * stride;
        uint64_t diff = 0;
#pragma GCC unroll 8
        for (size_t i = 0; i < words; ++i) diff |= row[i] ^ key[i];
        if (diff == 0) return row + words;
      }
      pos = (pos + 1) & mask_;
    }
    return Insert(key, hash, pos, max_rows);
  }

  void Clear() {
    if (count_ == 0) return;
    std::memset(ctrl_.data(), 0, ctrl_.size());
    count_ = 0;
  }

 private:
  void Allocate(size_t slots) {
    ctrl_.assign(slots, 0);
    slots_.assign(slots * stride_, 0);
    mask_ = slots - 1;
  }

  // Puts `key` into the empty slot `pos` (growing first when needed).
  uint64_t* Insert(const uint64_t* key, uint64_t hash, size_t pos,
                   size_t max_rows) {
    if (max_rows != 0 && count_ >= max_rows) return nullptr;
    if ((count_ + 1) * 10 > ctrl_.size() * 7) {
      Grow();
      pos = hash & mask_;
      while (ctrl_[pos] != 0) pos = (pos + 1) & mask_;
    }
    ctrl_[pos] = static_cast<uint8_t>(0x80 | (hash >> 57));
    uint64_t* row = slots_.data() + pos * stride_;
    std::memcpy(row, key, key_words_ * 8);
    row[key_words_] = row[key_words_ + 1] = row[key_words_ + 2] = 0;
    row[key_words_ + 3] = 0;
    ++count_;
    return row + key_words_;
  }

  void Grow() {
    std::vector<uint8_t> old_ctrl;
    std::vector<uint64_t> old_slots;
    old_ctrl.swap(ctrl_);
    old_slots.swap(slots_);
    Allocate(old_ctrl.size() * 2);
    for (size_t i = 0; i < old_ctrl.size(); ++i) {
      if (old_ctrl[i] == 0) continue;
      const uint64_t* row = old_slots.data() + i * stride_;
      const uint64_t h = HashKey(row, key_words_);
      size_t pos = h & mask_;
      while (ctrl_[pos] != 0) pos = (pos + 1) & mask_;
      ctrl_[pos] = old_ctrl[i];
      std::memcpy(slots_.data() + pos * stride_, row, stride_ * 8);
    }
  }

  size_t key_words_;
  size_t stride_;
  size_t count_ = 0;
  std::vector<uint8_t> ctrl_;
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_AGGREGATE_AGG_TABLE_H_
