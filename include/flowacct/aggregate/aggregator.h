// File: flowacct/aggregate/aggregator.h
//
// Aggregator: spatial and temporal aggregation of flow records for one view
// (one pmacct plugin). A view names its key primitives (`aggregate:
// src_host, dst_host, proto`); records with equal keys — and, when the view
// has time bins (`*_history`), equal bins — are added up into one aggregate
// holding packets, bytes and flows. Flush() hands everything accumulated
// so far out as an immutable Snapshot and starts empty again.
//
//   AggregatorOptions options;
//   options.view = "tm";
//   options.primitives = ...;        // registry ids of in_iface, peer_src_ip..
//   options.history.seconds = 300;   // 5-minute bins
//   auto agg = Aggregator::Create(registry.get(), options).value();
//   for (const FlowRecord& r : batch.records()) {
//     if (!agg->Add(r, batch)) {     // cache full: pmacct purges early
//       sink_queue.push(agg->Flush(now, FlushReason::kCacheFull));
//       agg->Add(r, batch);
//     }
//   }
//   sink_queue.push(agg->Flush(now, FlushReason::kRefresh));
//
// Keys are packed into fixed-width bytes (variable-length values such as
// as_path, label or vlen custom primitives are interned once per aggregator
// and referenced by number); the table is open addressing with counters
// updated in place. Add() allocates only when the table or the intern pool
// grows; after warm-up it allocates nothing.
//
// Time bins follow pmacct (pmacct.md §1(h)): a record is binned by its flow
// start time (timestamp_start, else timestamp_end, else arrival) unless
// bin_by_arrival (`nfacctd_time_new`), in which case by arrival time. Bins
// are `history` long, aligned on the Unix epoch in UTC for second/minute/
// hour/day lengths that divide a day, and on calendar weeks (Monday) or
// months for `w` / `M`.
//
// The aggregator reads no clock: `now` is passed in (packet time when
// replaying a capture).
//
// Thread-safety: thread-compatible. The pipeline gives each decode worker
// its own Aggregator per view (shared nothing) and merges their snapshots
// with Snapshot::Merge.

#ifndef FLOWACCT_AGGREGATE_AGGREGATOR_H_
#define FLOWACCT_AGGREGATE_AGGREGATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/flow_record.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct {

// A time-bin length, pmacct `*_history` syntax: "5m", "1h", "1d", "1w", "1M".
struct HistorySpec {
  enum class Unit : uint8_t { kNone, kSecond, kMinute, kHour, kDay, kWeek,
                              kMonth };
  Unit unit = Unit::kNone;  // kNone: no time bins
  uint32_t count = 0;       // e.g. 5 for "5m"

  bool enabled() const { return unit != Unit::kNone && count > 0; }
  // "5m" -> {kMinute, 5}. kInvalidArgument for anything else ("", "0m",
  // "5x", "-1h").
  static Result<HistorySpec> Parse(std::string_view text);
};

struct AggregatorOptions {
  std::string view;                     // plugin name, for snapshots and logs
  std::vector<PrimitiveId> primitives;  // key primitives (any order)
  HistorySpec history;                  // *_history; default: no bins
  // *_history_roundoff ("m", "h", "d", "w", "M"): pmacct aligns the first
  // bin to this unit. Bins here are always aligned (see above), so this only
  // matters for lengths that do not divide the unit; kept for fidelity.
  std::string history_roundoff;
  bool bin_by_arrival = false;          // nfacctd_time_new / sfacctd_time_new
  // Maximum number of aggregates held before Add() reports full. pmacct's
  // print_cache_entries (default 16411) counts hash buckets with an average
  // chain of 10, so the config layer passes print_cache_entries * 10.
  size_t max_entries = 164110;
};

class Aggregator {
 public:
  // kInvalidArgument when a primitive id is unknown to `registry` or the
  // options are inconsistent (e.g. "sum_host" with other primitives).
  // `registry` is borrowed and must outlive the aggregator and its snapshots.
  static Result<std::unique_ptr<Aggregator>> Create(
      const PrimitiveRegistry* registry, AggregatorOptions options);

  virtual ~Aggregator() = default;

  // Adds one record (its counters to the aggregate of its key and bin).
  // Returns false, adding nothing, when the record needs a new aggregate and
  // max_entries are held: Flush(…, kCacheFull) and Add again. Records of
  // kind kOptions are ignored (return true).
  virtual bool Add(const FlowRecord& record, const RecordBatch& batch) = 0;

  // Everything accumulated since the last flush, as a snapshot; the
  // aggregator is empty afterwards. stamp_updated of every row is `now`.
  virtual std::unique_ptr<Snapshot> Flush(int64_t now, FlushReason reason) = 0;

  // Number of aggregates held.
  virtual size_t size() const = 0;
  virtual const AggregatorOptions& options() const = 0;

  // Start of the bin `t` (ns since the epoch) falls in; `t` itself when the
  // view has no bins.
  virtual int64_t BinStart(int64_t t) const = 0;
};

}  // namespace flowacct

#endif  // FLOWACCT_AGGREGATE_AGGREGATOR_H_
