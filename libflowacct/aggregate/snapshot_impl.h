// Private: the Snapshot produced by Aggregator::Flush and Snapshot::Merge.
// It owns a copy of the aggregator's rows (packed keys + counters) and its
// interned values, stored in a RecordBatch that serves as the rows' arena;
// Get() unpacks one row into a FlowRecord.

#ifndef FLOWACCT_LIBFLOWACCT_AGGREGATE_SNAPSHOT_IMPL_H_
#define FLOWACCT_LIBFLOWACCT_AGGREGATE_SNAPSHOT_IMPL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/aggregate/snapshot.h"

#include "libflowacct/aggregate/agg_table.h"
#include "libflowacct/aggregate/key_layout.h"

namespace flowacct::internal {

class SnapshotImpl final : public Snapshot {
 public:
  SnapshotImpl(std::shared_ptr<const KeyLayout> layout, std::string view,
               FlushReason reason, int64_t flush_time, const AggTable& table,
               const InternPool& pool);

  const std::string& view() const override { return view_; }
  const std::vector<PrimitiveId>& primitives() const override {
    return layout_->primitives();
  }
  bool has_time_bins() const override { return layout_->has_bins(); }
  FlushReason reason() const override { return reason_; }
  int64_t flush_time() const override { return flush_time_; }
  size_t size() const override { return count_; }
  void Get(size_t i, AggregateRow* row) const override;
  const RecordBatch& arena() const override { return arena_; }

  const KeyLayout& layout() const { return *layout_; }
  const std::shared_ptr<const KeyLayout>& shared_layout() const {
    return layout_;
  }
  size_t stride() const { return stride_; }
  const uint64_t* row(size_t i) const { return rows_.data() + i * stride_; }
  // The bytes of intern id `id` (>= 1).
  std::span<const uint8_t> interned(uint32_t id) const {
    std::string_view v = arena_.bytes(refs_[id - 1]);
    return {reinterpret_cast<const uint8_t*>(v.data()), v.size()};
  }
  size_t interned_count() const { return refs_.size(); }

 private:
  std::shared_ptr<const KeyLayout> layout_;
  std::string view_;
  FlushReason reason_;
  int64_t flush_time_;
  size_t stride_;
  size_t count_;
  std::vector<uint64_t> rows_;
  std::vector<ByteRef> refs_;  // intern id - 1 -> bytes in arena_
  std::vector<uint32_t> custom_begin_;
  std::vector<uint16_t> custom_count_;
  RecordBatch arena_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_AGGREGATE_SNAPSHOT_IMPL_H_
