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
// or, faster for whole batches (same result):
//
//   for (size_t i = agg->AddAll(batch); i < batch.size();
//        i = agg->AddAll(batch, i)) {
//     sink_queue.push(agg->Flush(now, FlushReason::kCacheFull));
//   }
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
// are (start, start + length]: a flow starting exactly at 12:05:00 counts
// in the 12:00 bin of a 5m view, as in pmacct 1.7.7, and one starting at
// 12:05:00.320 in the 12:05 bin (pmacct agrees for NetFlow v5/v9 times,
// which it rounds up to the second; it drops the milliseconds of absolute
// IPFIX times first and puts that flow in 12:00: docs/pmacct-parity.md §4,
// exception E9). Bins are
// `history` long. Second/minute/hour/day bins are multiples of their
// length from `history_origin` (default: the Unix epoch, UTC); week bins
// start on Mondays 00:00 UTC (multi-week bins count from Monday 1970-01-05);
// month bins on the 1st 00:00 UTC (multi-month bins count from 1970-01).
//
// pmacct 1.7.7 (observed with `nfacctd`, docs/pmacct-parity.md) aligns bins
// on its start time rounded off per *_history_roundoff (to the minute when
// unset), stepping by the history length. For lengths that divide the
// roundoff unit (5m with roundoff h, 1h with h, 1d with d, 1w with w) that
// is the epoch alignment used here; for other lengths (e.g. 7m) pass the
// rounded-off start time as history_origin for identical bins.
//
// Key primitives: every primitive of the registry can be a key except the
// counters (packets, bytes, flows, reverse_*). `none` is the grand total
// (empty key; must be alone).
//
// The sum_* modes (sum_host, sum_net, sum_as, sum_port, sum_mac) count
// every record twice: once under its source value and once under its
// destination value (src_host and dst_host for sum_host), so a host's row
// holds the traffic it sent plus the traffic it received; a record whose
// source and destination values are equal adds twice to that row (as in
// pmacct 1.7.7). A sum_* mode must be the view's only primitive (`flows`,
// asking for the FLOWS column, may come along). Snapshot rows carry the
// value in the source field, and Snapshot::primitives() names the source
// primitive (src_host for sum_host), so sinks print it under SRC_IP /
// ip_src like pmacct. sum_net keys on src_net and dst_net as the enrich
// step computed them (pmacct 1.7.7 counts the source network twice
// instead: docs/pmacct-parity.md, E11).
// Primitives nobody fills yet (Accessor "not decoded", e.g. med) are
// accepted and contribute nothing to the key. A primitive a record does not
// carry counts as zero / empty (as in pmacct), so "absent" and "0" share an
// aggregate; custom primitives are the exception (absent and present-empty
// differ). Snapshot rows carry the field bits of all key primitives.
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
#include <string_view>
#include <vector>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/flow_record.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct {

// A time-bin length, pmacct `*_history` syntax: "5m", "1h", "1d", "1w", "1M".
struct HistorySpec {
  enum class Unit : uint8_t {
    kNone,
    kSecond,
    kMinute,
    kHour,
    kDay,
    kWeek,
    kMonth
  };
  Unit unit = Unit::kNone;  // kNone: no time bins
  uint32_t count = 0;       // e.g. 5 for "5m"

  bool enabled() const { return unit != Unit::kNone && count > 0; }
  // "5m" -> {kMinute, 5}: a decimal count 1..999999999 followed by one of
  // s m h d w M. kInvalidArgument for anything else ("", "0m", "5x", "-1h",
  // "5"). Seconds are accepted whatever the count (pmacct 1.7.7 ignores,
  // with a warning, second counts that are not whole minutes; later pmacct
  // versions take sub-minute bins for Kafka): the config layer decides.
  // Bin length in seconds for s/m/h/d/w units; 0 for kNone and kMonth.
  int64_t seconds() const;
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
  // Origin of second/minute/hour/day bins, ns since the epoch: bins are
  // [origin + k * length, origin + (k + 1) * length). 0 = epoch-aligned.
  int64_t history_origin = 0;
  bool bin_by_arrival = false;  // nfacctd_time_new / sfacctd_time_new
  // timestamps_secs: the time primitives of the key (timestamp_start,
  // timestamp_end, timestamp_export, timestamp_arrival) are floored to the
  // whole second before aggregation, so records of the same second share
  // an aggregate and rows carry no sub-second part (printed ".000000", as
  // nfacctd 1.7.7 does). Time bins still use the exact time.
  bool timestamps_secs = false;
  // Maximum number of aggregates held before Add() reports full. pmacct's
  // print_cache_entries (default 16411) counts hash buckets with an average
  // chain of 10, so the config layer passes print_cache_entries * 10.
  // 0 = unlimited.
  size_t max_entries = 164110;
};

class Aggregator {
 public:
  // kInvalidArgument when `registry` is null, a primitive id is unknown to
  // it, or `none` or a sum_* mode is combined with other primitives.
  // kUnimplemented for reverse_bytes / reverse_packets.
  // `registry` is borrowed and must outlive the aggregator and its snapshots.
  static Result<std::unique_ptr<Aggregator>> Create(
      const PrimitiveRegistry* registry, AggregatorOptions options);

  virtual ~Aggregator() = default;

  // Adds one record (its counters to the aggregate of its key and bin):
  // bytes += record.bytes, packets += record.packets, flows += record.flows
  // (1 when the record has no kFlows). Event records (kEvent: NAT/firewall
  // events) are added like flows. `batch` is the batch holding `record`
  // (its variable-length and custom values are read from it).
  // Returns false, adding nothing, when the record needs a new aggregate and
  // max_entries are held: Flush(…, kCacheFull) and Add again. Records of
  // kind kOptions are ignored (return true).
  virtual bool Add(const FlowRecord& record, const RecordBatch& batch) = 0;

  // Adds batch.records()[begin..] in order, like Add() on each (the same
  // result), but overlaps the table lookups of consecutive records, which
  // is faster on large tables. Returns the index of the first record not
  // added because the table is full (Flush(…, kCacheFull) and call again
  // from there), or batch.size() when all were added.
  virtual size_t AddAll(const RecordBatch& batch, size_t begin = 0) = 0;

  // Everything accumulated since the last flush, as a snapshot; the
  // aggregator is empty afterwards. stamp_updated of every row is `now`.
  virtual std::unique_ptr<Snapshot> Flush(int64_t now, FlushReason reason) = 0;

  // Number of aggregates held.
  virtual size_t size() const = 0;
  virtual const AggregatorOptions& options() const = 0;

  // Start of the bin `t` (ns since the epoch) falls in, per the rule above
  // (BinStart(12:05:00.5) is 12:00 with 5m bins); `t` itself when the view
  // has no bins.
  virtual int64_t BinStart(int64_t t) const = 0;
};

}  // namespace flowacct

#endif  // FLOWACCT_AGGREGATE_AGGREGATOR_H_
