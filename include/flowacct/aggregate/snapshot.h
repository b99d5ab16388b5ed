// File: flowacct/aggregate/snapshot.h
//
// Snapshot: the immutable result of flushing an Aggregator — every aggregate
// (key primitives plus packet/byte/flow counters) of one view at one flush,
// with its time bin. Snapshots are what sinks write (sink/sink.h): the print
// plugin formats them, SQL sinks turn them into rows, the memory table adds
// them up.
//
// A row is handed out as a FlowRecord that carries only the view's key
// primitives and the counters (`bytes`, `packets`, `flows`), so the same
// formatters that print decoded records print aggregates:
//
//   AggregateRow row;
//   for (size_t i = 0; i < snapshot->size(); ++i) {
//     snapshot->Get(i, &row);
//     formatter.AppendRecord(row.record, snapshot->arena(), &out);
//   }
//
// Variable-length values of a row (as_path, label, interface names, custom
// primitives) point into arena(), which lives as long as the snapshot.
//
// Ownership: a snapshot is created by Aggregator::Flush or Snapshot::Merge
// and owned by whoever holds the unique_ptr (normally a sink thread).
// Thread-safety: immutable; const methods may run concurrently.

#ifndef FLOWACCT_AGGREGATE_SNAPSHOT_H_
#define FLOWACCT_AGGREGATE_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct {

// Why a snapshot was taken.
enum class FlushReason : uint8_t {
  kRefresh,    // *_refresh_time elapsed (the normal case)
  kCacheFull,  // *_cache_entries reached: pmacct's purge-on-full
  kShutdown,   // SIGTERM/SIGINT or end of a pcap_savefile run
};

// One aggregate of a snapshot.
struct AggregateRow {
  // Key primitives (fields set per the view's primitives) and counters
  // (kBytes, kPackets, kFlows always set).
  FlowRecord record;
  // Start of the row's time bin (ns since the epoch); 0 when the view has no
  // *_history (pmacct then prints no stamp_inserted).
  int64_t stamp_inserted = 0;
  // When the row was last written: the flush time, ns since the epoch
  // (pmacct's stamp_updated).
  int64_t stamp_updated = 0;
};

class Snapshot {
 public:
  virtual ~Snapshot() = default;

  // The view (plugin) name, e.g. "forensics".
  virtual const std::string& view() const = 0;
  // The view's aggregation primitives (registry ids), in the order the view
  // was configured with (AggregatorOptions::primitives, duplicates dropped).
  virtual const std::vector<PrimitiveId>& primitives() const = 0;
  // True when the view bins by time (*_history set).
  virtual bool has_time_bins() const = 0;
  virtual FlushReason reason() const = 0;
  // Flush time, ns since the epoch (the pipeline's clock: packet time when
  // replaying a capture, wall clock when live).
  virtual int64_t flush_time() const = 0;

  // Number of aggregates. Rows come in no particular order (sinks that
  // need one sort).
  virtual size_t size() const = 0;
  // Fills *row with aggregate i (overwriting all of it). Cheap and
  // allocation-free. REQUIRES: i < size().
  virtual void Get(size_t i, AggregateRow* row) const = 0;
  // Storage behind the ByteRefs and custom values of rows from Get().
  virtual const RecordBatch& arena() const = 0;

  // Adds up partial snapshots of the same view (one per decode worker) into
  // one: rows with equal keys and time bins are summed. All inputs must come
  // from Aggregators created with the same AggregatorOptions; otherwise
  // kInvalidArgument (also for an empty vector or a null element). The
  // inputs are consumed. The result's flush_time() is the latest of the
  // inputs', its reason() the first input's; rows come in no particular
  // order.
  static Result<std::unique_ptr<Snapshot>> Merge(
      std::vector<std::unique_ptr<Snapshot>> partials);
};

}  // namespace flowacct

#endif  // FLOWACCT_AGGREGATE_SNAPSHOT_H_
