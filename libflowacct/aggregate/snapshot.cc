#include "flowacct/aggregate/snapshot.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "libflowacct/aggregate/snapshot_impl.h"

namespace flowacct {
namespace internal {

SnapshotImpl::SnapshotImpl(std::shared_ptr<const KeyLayout> layout,
                           std::string view, FlushReason reason,
                           int64_t flush_time, const AggTable& table,
                           const InternPool& pool)
    : layout_(std::move(layout)),
      view_(std::move(view)),
      reason_(reason),
      flush_time_(flush_time),
      stride_(table.stride()),
      count_(table.size()),
      refs_(pool.refs().begin(), pool.refs().end()),
      arena_(0) {
  table.CopyRows(&rows_);
  // The interned values go first, so refs_ (offsets into the pool's byte
  // buffer) are valid in the arena as they are.
  if (!pool.bytes().empty()) arena_.StoreBytes(pool.bytes());
  if (layout_->has_customs()) {
    custom_begin_.resize(count_);
    custom_count_.resize(count_);
    for (size_t i = 0; i < count_; ++i) {
      const uint8_t* key = reinterpret_cast<const uint8_t*>(row(i));
      FlowRecord holder;
      for (const KeyOp& op : layout_->custom_ops()) {
        uint32_t id;
        std::memcpy(&id, key + op.key_offset, sizeof(id));
        if (id == 0) continue;
        arena_.AddCustom(&holder, op.primitive, pool.Get(id));
      }
      custom_begin_[i] = holder.custom_begin;
      custom_count_[i] = holder.custom_count;
    }
  }
}

void SnapshotImpl::Get(size_t i, AggregateRow* out) const {
  const uint64_t* r = row(i);
  FlowRecord& rec = out->record;
  rec = FlowRecord();
  layout_->Unpack(r, refs_, arena_, &rec);
  const uint64_t* counters = r + layout_->words();
  rec.packets = counters[0];
  rec.bytes = counters[1];
  rec.flows = counters[2];
  rec.fields.set(FlowField::kPackets);
  rec.fields.set(FlowField::kBytes);
  rec.fields.set(FlowField::kFlows);
  if (layout_->or_tcp_flags()) {
    rec.tcp_flags = static_cast<uint16_t>(counters[3]);
    rec.fields.set(FlowField::kTcpFlags);
  }
  if (!custom_begin_.empty()) {
    rec.custom_begin = custom_begin_[i];
    rec.custom_count = custom_count_[i];
  }
  out->stamp_inserted = layout_->has_bins() ? static_cast<int64_t>(r[0]) : 0;
  out->stamp_updated = flush_time_;
}

}  // namespace internal

Result<std::unique_ptr<Snapshot>> Snapshot::Merge(
    std::vector<std::unique_ptr<Snapshot>> partials) {
  using internal::SnapshotImpl;
  if (partials.empty()) {
    return InvalidArgumentError("Snapshot::Merge: no snapshots");
  }
  std::vector<const SnapshotImpl*> parts;
  parts.reserve(partials.size());
  size_t total = 0;
  int64_t flush_time = 0;
  for (const auto& p : partials) {
    const auto* s = dynamic_cast<const SnapshotImpl*>(p.get());
    if (s == nullptr) {
      return InvalidArgumentError(
          "Snapshot::Merge: not a snapshot from an Aggregator");
    }
    const SnapshotImpl* first = parts.empty() ? s : parts[0];
    if (s->view() != first->view() || !s->layout().SameAs(first->layout())) {
      return InvalidArgumentError(
          "Snapshot::Merge: snapshots of different views or options (\"" +
          s->view() + "\", \"" + partials[0]->view() + "\")");
    }
    parts.push_back(s);
    total += s->size();
    flush_time = std::max(flush_time, s->flush_time());
  }
  if (partials.size() == 1) return std::move(partials[0]);

  const internal::KeyLayout& layout = parts[0]->layout();
  const size_t words = layout.words();
  internal::AggTable table(words, std::max<size_t>(total, 16));
  internal::InternPool pool;
  std::vector<uint64_t> key(words);
  std::vector<uint32_t> remap;
  for (const SnapshotImpl* s : parts) {
    const bool reintern = !layout.intern_offsets().empty();
    if (reintern) {
      remap.assign(s->interned_count() + 1, 0);
      for (size_t id = 1; id <= s->interned_count(); ++id) {
        remap[id] = pool.Intern(s->interned(static_cast<uint32_t>(id)));
      }
    }
    for (size_t i = 0; i < s->size(); ++i) {
      const uint64_t* row = s->row(i);
      std::memcpy(key.data(), row, words * 8);
      if (reintern) {
        uint8_t* k = reinterpret_cast<uint8_t*>(key.data());
        for (uint16_t off : layout.intern_offsets()) {
          uint32_t id;
          std::memcpy(&id, k + off, sizeof(id));
          id = remap[id];
          std::memcpy(k + off, &id, sizeof(id));
        }
      }
      uint64_t* c = table.FindOrInsert(key.data(),
                                       internal::HashKey(key.data(), words), 0);
      const uint64_t* add = row + words;
      c[0] += add[0];
      c[1] += add[1];
      c[2] += add[2];
      c[3] |= add[3];
    }
  }
  std::unique_ptr<Snapshot> merged = std::make_unique<SnapshotImpl>(
      parts[0]->shared_layout(), parts[0]->view(), parts[0]->reason(),
      flush_time, table, pool);
  return merged;
}

}  // namespace flowacct
