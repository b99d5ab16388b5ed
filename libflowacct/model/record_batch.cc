#include "flowacct/model/record_batch.h"

namespace flowacct {

RecordBatch::RecordBatch(size_t capacity) : capacity_(capacity) {
  records_.reserve(capacity);
  arena_.reserve(capacity * 64);
}

void RecordBatch::Clear() {
  records_.clear();
  counters_.clear();
  arena_.clear();
  customs_.clear();
}

FlowRecord* RecordBatch::AppendRecord() { return &records_.emplace_back(); }

void RecordBatch::PopRecord() {
  if (records_.empty()) return;
  // A record without customs has no range of its own (custom_begin is not
  // meaningful): only drop the values the popped record added.
  if (records_.back().custom_count != 0) {
    customs_.resize(records_.back().custom_begin);
  }
  records_.pop_back();
}

CounterRecord* RecordBatch::AppendCounter() {
  return &counters_.emplace_back();
}

ByteRef RecordBatch::StoreBytes(std::span<const uint8_t> bytes) {
  ByteRef ref{static_cast<uint32_t>(arena_.size()),
              static_cast<uint32_t>(bytes.size())};
  arena_.insert(arena_.end(), bytes.begin(), bytes.end());
  return ref;
}

ByteRef RecordBatch::StoreBytes(std::string_view bytes) {
  return StoreBytes(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

void RecordBatch::AddCustom(FlowRecord* record, uint16_t primitive,
                            std::span<const uint8_t> value) {
  if (record->custom_count == 0) {
    record->custom_begin = static_cast<uint32_t>(customs_.size());
  }
  customs_.push_back(CustomValue{primitive, StoreBytes(value)});
  ++record->custom_count;
}

}  // namespace flowacct
