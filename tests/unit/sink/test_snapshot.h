// A Snapshot over a RecordBatch for the sink tests.

#ifndef FLOWACCT_TESTS_UNIT_SINK_TEST_SNAPSHOT_H_
#define FLOWACCT_TESTS_UNIT_SINK_TEST_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

namespace flowacct::testing {

class TestSnapshot : public Snapshot {
 public:
  TestSnapshot(const PrimitiveRegistry& registry,
               const std::vector<std::string>& primitives, bool bins)
      : bins_(bins) {
    for (const std::string& p : primitives) {
      primitives_.push_back(registry.Find(p)->id);
    }
  }

  // Adds a row with src/dst hosts, protocol and counters.
  FlowRecord* Add(const char* src, const char* dst, uint8_t proto,
                  uint64_t packets, uint64_t bytes, uint64_t flows = 1,
                  int64_t stamp_inserted = 0) {
    FlowRecord* r = batch_.AppendRecord();
    r->src_host = IpAddress::Parse(src).value();
    r->fields.set(FlowField::kSrcHost);
    r->dst_host = IpAddress::Parse(dst).value();
    r->fields.set(FlowField::kDstHost);
    r->proto = proto;
    r->fields.set(FlowField::kProto);
    r->packets = packets;
    r->fields.set(FlowField::kPackets);
    r->bytes = bytes;
    r->fields.set(FlowField::kBytes);
    r->flows = flows;
    r->fields.set(FlowField::kFlows);
    stamps_.push_back(stamp_inserted);
    return r;
  }

  const std::string& view() const override { return view_; }
  const std::vector<PrimitiveId>& primitives() const override {
    return primitives_;
  }
  bool has_time_bins() const override { return bins_; }
  FlushReason reason() const override { return FlushReason::kRefresh; }
  int64_t flush_time() const override { return flush_time_; }
  size_t size() const override { return batch_.size(); }
  void Get(size_t i, AggregateRow* row) const override {
    row->record = batch_.records()[i];
    row->stamp_inserted = stamps_[i];
    row->stamp_updated = stamp_updated_;
  }
  const RecordBatch& arena() const override { return batch_; }

  int64_t flush_time_ = 0;
  int64_t stamp_updated_ = 0;
  RecordBatch batch_;

 private:
  std::string view_ = "test";
  std::vector<PrimitiveId> primitives_;
  bool bins_;
  std::vector<int64_t> stamps_;
};

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_UNIT_SINK_TEST_SNAPSHOT_H_
