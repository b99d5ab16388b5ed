// Private: the aggregation table. Aggregates are stored densely, in insertion
// order, as fixed-stride rows of 64-bit words: the packed key (KeyLayout)
// followed by the counters packets, bytes, flows. An open-addressing index
// (linear probing, power-of-two size, at most 70% full) maps keys to rows;
// each index slot holds 32 bits of the key's hash and the row number + 1, so
// most mismatches are rejected without touching the row. Clear() keeps all
// storage: once the table has grown to the traffic, Add allocates nothing.

#ifndef FLOWACCT_LIBFLOWACCT_AGGREGATE_AGG_TABLE_H_
#define FLOWACCT_LIBFLOWACCT_AGGREGATE_AGG_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "libflowacct/aggregate/key_layout.h"

namespace flowacct::internal {

inline constexpr size_t kCounterWords = 3;  // packets, bytes, flows

class AggTable {
 public:
  explicit AggTable(size_t key_words, size_t initial_rows = 256)
      : key_words_(key_words), stride_(key_words + kCounterWords) {
    size_t slots = 64;
    while (slots * 7 < initial_rows * 10) slots *= 2;
    index_.assign(slots, 0);
    mask_ = slots - 1;
    rows_.resize(initial_rows * stride_);
  }

  size_t size() const { return count_; }
  size_t key_words() const { return key_words_; }
  size_t stride() const { return stride_; }
  // The rows: size() * stride() words.
  const uint64_t* rows() const { return rows_.data(); }

  // The counters (packets, bytes, flows) of `key`'s row, inserting a zeroed
  // row when new; nullptr when new and size() >= max_rows (max_rows 0 =
  // unlimited).
  // kWords > 0: key_words() == kWords (unrolled compare).
  template <size_t kWords = 0>
  uint64_t* FindOrInsert(const uint64_t* key, uint64_t hash, size_t max_rows) {
    const size_t words = kWords != 0 ? kWords : key_words_;
    const size_t stride = words + kCounterWords;
    const uint64_t tag = hash >> 32;
    size_t pos = hash & mask_;
    while (true) {
      const uint64_t slot = index_[pos];
      if (slot == 0) break;
      if ((slot >> 32) == tag) {
        uint64_t* row =
            rows_.data() + (static_cast<uint32_t>(slot) - 1) * stride;
        uint64_t diff = 0;
        for (size_t i = 0; i < words; ++i) diff |= row[i] ^ key[i];
        if (diff == 0) return row + words;
      }
      pos = (pos + 1) & mask_;
    }
    return Insert(key, tag, pos, max_rows);
  }

  void Clear() {
    if (count_ == 0) return;
    std::memset(index_.data(), 0, index_.size() * sizeof(uint64_t));
    count_ = 0;
  }

 private:
  uint64_t* Insert(const uint64_t* key, uint64_t tag, size_t pos,
                   size_t max_rows) {
    if (max_rows != 0 && count_ >= max_rows) return nullptr;
    if ((count_ + 1) * stride_ > rows_.size()) {
      rows_.resize(rows_.size() * 2);
    }
    uint64_t* row = rows_.data() + count_ * stride_;
    std::memcpy(row, key, key_words_ * 8);
    row[key_words_] = row[key_words_ + 1] = row[key_words_ + 2] = 0;
    ++count_;
    index_[pos] = tag << 32 | count_;
    if (count_ * 10 > index_.size() * 7) GrowIndex();
    return row + key_words_;
  }

  void GrowIndex() {
    index_.assign(index_.size() * 2, 0);
    mask_ = index_.size() - 1;
    for (size_t i = 0; i < count_; ++i) {
      const uint64_t h = HashKey(rows_.data() + i * stride_, key_words_);
      size_t pos = h & mask_;
      while (index_[pos] != 0) pos = (pos + 1) & mask_;
      index_[pos] = (h >> 32) << 32 | (i + 1);
    }
  }

  size_t key_words_;
  size_t stride_;
  size_t count_ = 0;
  std::vector<uint64_t> rows_;
  std::vector<uint64_t> index_;
  size_t mask_ = 0;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_AGGREGATE_AGG_TABLE_H_
