// File: flowacct/model/record_batch.h
//
// RecordBatch: a recyclable container of decoded records. Decoders append to
// a batch; the pipeline hands whole batches between threads and clears them
// for reuse. Storage (records, counter records, the byte arena for
// variable-length values, custom primitive values) is kept across Clear(), so
// once a batch has grown to the size of the traffic it carries, decoding into
// it allocates nothing.
//
//   RecordBatch batch(1024);
//   decoder->Decode(datagram, &batch);
//   for (const FlowRecord& r : batch.records()) {
//     std::string_view ifname = batch.bytes(r.in_iface_name);
//   }
//   batch.Clear();
//
// Capacity is a hint, not a limit: appending past it grows the batch (the
// pipeline flushes a batch once full() after a datagram). A datagram is never
// split across batches.
//
// Thread-safety: thread-compatible (one thread at a time).

#ifndef FLOWACCT_MODEL_RECORD_BATCH_H_
#define FLOWACCT_MODEL_RECORD_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "flowacct/model/flow_record.h"

namespace flowacct {

// The value of one custom primitive (aggregate_primitives) on one record.
struct CustomValue {
  uint16_t primitive = 0;  // PrimitiveId of the custom primitive
  ByteRef value;           // raw bytes as exported (network order)
};

class RecordBatch {
 public:
  // Reserves room for `capacity` records and capacity * 64 arena bytes.
  explicit RecordBatch(size_t capacity = 1024);

  RecordBatch(const RecordBatch&) = delete;
  RecordBatch& operator=(const RecordBatch&) = delete;
  RecordBatch(RecordBatch&&) = default;
  RecordBatch& operator=(RecordBatch&&) = default;

  // Drops all content, keeps the storage.
  void Clear();

  // Appends a default-initialised FlowRecord and returns it. The pointer is
  // valid until the next Append*/Clear.
  FlowRecord* AppendRecord();
  // Appends a copy of `prototype` and returns it (same validity). Decoders
  // fill one prototype per set or datagram with what all its records share
  // (exporter, arrival, header fields) and start every record from it: one
  // copy instead of default construction plus a dozen stores. The
  // prototype's custom_begin/custom_count are ignored (the copy has none).
  FlowRecord* AppendRecord(const FlowRecord& prototype) {
    FlowRecord* r = &records_.emplace_back(prototype);
    r->custom_begin = 0;
    r->custom_count = 0;
    return r;
  }
  // Removes the last appended record (a decoder that gives up on a record
  // half-way). Its arena bytes are not reclaimed.
  void PopRecord();
  CounterRecord* AppendCounter();

  // Copies `bytes` into the arena and returns where they are.
  ByteRef StoreBytes(std::span<const uint8_t> bytes);
  ByteRef StoreBytes(std::string_view bytes);
  // Adds a custom primitive value to the record most recently appended.
  void AddCustom(FlowRecord* record, uint16_t primitive,
                 std::span<const uint8_t> value);

  std::span<FlowRecord> records() { return records_; }
  std::span<const FlowRecord> records() const { return records_; }
  std::span<const CounterRecord> counters() const { return counters_; }

  // The bytes `ref` points at. REQUIRES: ref was produced by this batch since
  // the last Clear().
  std::string_view bytes(ByteRef ref) const {
    return std::string_view(
        reinterpret_cast<const char*>(arena_.data()) + ref.offset, ref.length);
  }
  std::span<const CustomValue> customs(const FlowRecord& r) const {
    return std::span<const CustomValue>(customs_).subspan(r.custom_begin,
                                                          r.custom_count);
  }

  size_t size() const { return records_.size(); }
  size_t counter_size() const { return counters_.size(); }
  size_t capacity() const { return capacity_; }
  bool empty() const { return records_.empty() && counters_.empty(); }
  // True once size() + counter_size() reached capacity().
  bool full() const { return records_.size() + counters_.size() >= capacity_; }

 private:
  size_t capacity_;
  std::vector<FlowRecord> records_;
  std::vector<CounterRecord> counters_;
  std::vector<uint8_t> arena_;
  std::vector<CustomValue> customs_;
};

}  // namespace flowacct

#endif  // FLOWACCT_MODEL_RECORD_BATCH_H_
