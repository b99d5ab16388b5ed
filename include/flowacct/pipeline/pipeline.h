// File: flowacct/pipeline/pipeline.h
//
// Pipeline: the threads and queues that turn datagrams into written views —
// what flowacctd runs (DESIGN.md §2, §4). Embedders may use it as is, or
// compose decoders, aggregators and sinks themselves.
//
//   input threads ──InputPort::Submit──► N decode workers ──partial
//   snapshots──► one sink thread per view (UDP receivers,   (datagrams sharded
//   (decode, enrich,                        (merge the N partials,
//    pcap reader)      by exporter+domain)   filter, aggregate per view)
//    Sink::Write)
//
// - Datagrams are copied into per-worker batches by an InputPort (one per
//   input thread) and handed over in whole batches through bounded queues.
//   Sharding by (exporter address, observation domain / source id) gives each
//   worker its exporters' templates and sequence state without locks.
// - Each worker owns a Decoder and one Aggregator per view (shared nothing).
//   On a refresh (Tick) or at Stop, every worker flushes its partial and the
//   view's sink thread merges the partials into one Snapshot and writes it.
//   A full aggregator flushes early (FlushReason::kCacheFull, pmacct's
//   purge-on-full); that partial is written on its own.
// - Nothing blocks decoding in live mode: when a worker queue is full the
//   batch is dropped and counted (queue_drops); when a sink queue is full the
//   snapshot is dropped and its rows counted. With `lossless` (replaying a
//   capture) producers wait instead.
//
// Thread-safety: Create/Start/Stop from one controlling thread. Each
// InputPort is used by one thread at a time. Tick, ReloadEnrichment and
// stats() may be called from any thread (normally the controlling one).

#ifndef FLOWACCT_PIPELINE_PIPELINE_H_
#define FLOWACCT_PIPELINE_PIPELINE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/decode/decode_stats.h"
#include "flowacct/decode/decoder.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

namespace flowacct {

// Runs on every decoded batch before aggregation (tagging, sampling
// renormalisation, networks). Called concurrently from all workers: it must
// be thread-safe (const). Null: records are aggregated as decoded.
using EnrichFunction = std::function<void(RecordBatch*)>;

// Decides whether a record belongs to a view (pre_tag_filter...). Called
// concurrently from all workers. Null: every record.
using ViewFilter = std::function<bool(const FlowRecord&, const RecordBatch&)>;

struct ViewOptions {
  AggregatorOptions aggregator;  // aggregator.view is the view name
  ViewFilter filter;
  // Seconds between flushes in live mode (*_refresh_time). Flushes happen
  // at multiples of it since the epoch, like pmacct's.
  uint32_t refresh_seconds = 60;
  std::unique_ptr<Sink> sink;  // owned by the pipeline from Create on
};

struct PipelineOptions {
  size_t workers = 1;
  DecoderOptions decoder;
  // Datagrams per batch handed to a worker, and batches a worker queue holds.
  size_t batch_datagrams = 256;
  size_t worker_queue_batches = 128;
  // Snapshots a view's sink queue holds before dropping.
  size_t sink_queue_snapshots = 16;
  // Producers wait on full queues instead of dropping (capture replay).
  bool lossless = false;
  // nfacctd_templates_file: v9/IPFIX templates read into every worker's
  // decoder at Create (a missing file is fine), and every worker's
  // templates written back at Stop (io/template_file.h format), so a
  // restart decodes data that arrives before the exporters resend their
  // templates.
  std::string templates_file;
};

struct ViewStats {
  std::string name;
  uint64_t records = 0;   // records added to the view
  uint64_t filtered = 0;  // records the view's filter rejected
  uint64_t cache_full_flushes = 0;
  uint64_t snapshots_dropped = 0;  // sink queue full
  uint64_t rows_dropped = 0;
  SinkStats sink;
};

struct PipelineStats {
  uint64_t datagrams = 0;  // submitted to InputPorts
  uint64_t queue_drops =
      0;  // datagrams dropped because a worker queue was full
  uint64_t decoded_datagrams = 0;
  uint64_t records = 0;  // flow/event records decoded
  DecodeStats decode;    // merged over workers
  std::vector<ViewStats> views;
};

class Pipeline;

// Where one input thread hands datagrams to the pipeline.
class InputPort {
 public:
  ~InputPort();
  // Copies the datagram into the batch of the worker that owns its exporter;
  // full batches are handed over. Returns false if it was dropped (queue
  // full, not lossless) — also counted in PipelineStats::queue_drops.
  bool Submit(const Datagram& datagram);
  // Hands over every partial batch (call when the input goes idle, so
  // datagrams do not wait for a batch to fill).
  void Flush();

 private:
  friend class Pipeline;
  struct Impl;
  explicit InputPort(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Pipeline {
 public:
  // `registry` is borrowed and must outlive the pipeline. kInvalidArgument
  // for bad options (no views, a view without a sink, workers == 0...).
  static Result<std::unique_ptr<Pipeline>> Create(
      const PrimitiveRegistry* registry, PipelineOptions options,
      std::vector<ViewOptions> views, EnrichFunction enrich);

  ~Pipeline();  // Stop()s if still running.

  // Starts the worker and sink threads.
  Status Start();

  // A new input. InputPorts must be destroyed before Stop().
  std::unique_ptr<InputPort> NewInputPort();

  // Advances the clock (ns since the epoch): views whose refresh time has
  // come are flushed (FlushReason::kRefresh); decoders expire templates.
  // Live mode calls it about once a second with the wall clock.
  void Tick(int64_t now);

  // Replaces the enrich step (SIGUSR2 map reload). Workers pick it up at
  // their next batch.
  void ReloadEnrichment(EnrichFunction enrich);

  // Drains the queues, flushes every view (FlushReason::kShutdown) at
  // `now` (0: the wall clock), waits for the sinks to write and closes
  // them, then writes the templates file if one is configured (its error,
  // if any, is returned). Idempotent.
  Status Stop(int64_t now = 0);

  PipelineStats stats() const;

  // The sinks, for the daemon's SIGHUP (Reopen) — called from the
  // controlling thread while sink threads run: Reopen is forwarded to the
  // sink thread, not called here.
  void ReopenSinks();

  struct Impl;

 private:
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_PIPELINE_PIPELINE_H_
