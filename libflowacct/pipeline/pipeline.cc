#include "flowacct/pipeline/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "flowacct/io/template_file.h"

#include "libflowacct/pipeline/bounded_queue.h"

#include "absl/hash/hash.h"

namespace flowacct {
namespace {

using internal::BoundedQueue;

// Datagrams copied out of a receiver's buffers, for one worker.
struct DatagramBatch {
  struct Entry {
    uint32_t offset = 0;
    uint32_t length = 0;
    Endpoint exporter;
    int64_t arrival_ns = 0;
  };
  std::vector<uint8_t> bytes;
  std::vector<Entry> entries;

  void Clear() {
    bytes.clear();
    entries.clear();
  }

  // Appends `other`'s datagrams if that keeps this batch within
  // `max_datagrams` datagrams and its byte capacity (no reallocation).
  bool Absorb(const DatagramBatch& other, size_t max_datagrams) {
    if (entries.size() + other.entries.size() > max_datagrams ||
        bytes.size() + other.bytes.size() > bytes.capacity()) {
      return false;
    }
    const auto base = static_cast<uint32_t>(bytes.size());
    bytes.insert(bytes.end(), other.bytes.begin(), other.bytes.end());
    for (Entry e : other.entries) {
      e.offset += base;
      entries.push_back(e);
    }
    return true;
  }
};

struct WorkItem {
  enum class Type : uint8_t { kNone, kData, kFlush, kTick, kStop };
  Type type = Type::kNone;
  std::unique_ptr<DatagramBatch> batch;
  int view = -1;  // kFlush: the view, or -1 for all views
  uint64_t epoch = 0;
  int64_t now = 0;
  FlushReason reason = FlushReason::kRefresh;
};

struct SinkItem {
  enum class Type : uint8_t { kNone, kPartial, kUrgent, kReopen, kEnd };
  Type type = Type::kNone;
  uint64_t epoch = 0;
  std::unique_ptr<Snapshot> snapshot;  // null: the partial was dropped
};

// Reads the observation domain (v9 source id, IPFIX domain, v5 engine) from
// a datagram header without decoding it, for sharding. 0 if not found.
uint32_t PeekDomain(std::span<const uint8_t> p) {
  if (p.size() < 4) return 0;
  const uint16_t version = static_cast<uint16_t>(p[0] << 8 | p[1]);
  auto be32 = [&](size_t at) {
    return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 |
           uint32_t{p[at + 2]} << 8 | uint32_t{p[at + 3]};
  };
  if (version == 9 && p.size() >= 20) return be32(16);   // RFC 3954 §5.1
  if (version == 10 && p.size() >= 16) return be32(12);  // RFC 7011 §3.1
  if (version == 5 && p.size() >= 22) return p[20] << 8 | p[21];  // engine
  return 0;
}

int64_t WallClock() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t AlignUp(int64_t now, int64_t period) {
  return (now / period + 1) * period;
}

constexpr int64_t kNsPerSecond = 1'000'000'000;

}  // namespace

// Per view: the sink thread and its queue.
struct ViewRuntime {
  ViewOptions options;
  BoundedQueue<SinkItem> queue;
  std::thread thread;
  uint64_t next_epoch = 1;
  int64_t next_refresh = 0;  // ns; 0 until the first Tick
  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> filtered{0};
  std::atomic<uint64_t> cache_full_flushes{0};
  std::atomic<uint64_t> snapshots_dropped{0};
  std::atomic<uint64_t> rows_dropped{0};

  ViewRuntime(ViewOptions o, size_t queue_capacity)
      : options(std::move(o)), queue(queue_capacity) {}
};

// One decode worker: owns a decoder and one aggregator per view.
struct Worker {
  std::unique_ptr<Decoder> decoder;
  std::vector<std::unique_ptr<Aggregator>> aggregators;
  BoundedQueue<WorkItem> queue;
  std::thread thread;
  RecordBatch records{1024};
  EnrichFunction enrich;
  uint64_t enrich_version = 0;
  uint64_t batches_since_publish = 0;

  // Published for stats() (copied under the mutex).
  mutable std::mutex stats_mu;
  DecodeStats published;

  explicit Worker(size_t queue_capacity) : queue(queue_capacity) {}
};

struct Pipeline::Impl {
  const PrimitiveRegistry* registry = nullptr;
  PipelineOptions options;
  std::vector<std::unique_ptr<ViewRuntime>> views;
  std::vector<std::unique_ptr<Worker>> workers;

  std::mutex enrich_mu;
  EnrichFunction enrich;
  std::atomic<uint64_t> enrich_version{0};

  std::mutex pool_mu;
  std::vector<std::unique_ptr<DatagramBatch>> pool;

  std::atomic<uint64_t> datagrams{0};
  std::atomic<uint64_t> queue_drops{0};
  std::atomic<uint64_t> decoded_datagrams{0};
  std::atomic<uint64_t> records{0};

  std::mutex control_mu;  // Tick / Stop
  bool started = false;
  bool stopped = false;

  std::unique_ptr<DatagramBatch> TakeBatch() {
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        auto b = std::move(pool.back());
        pool.pop_back();
        return b;
      }
    }
    auto b = std::make_unique<DatagramBatch>();
    b->bytes.reserve(options.batch_datagrams * 1500);
    b->entries.reserve(options.batch_datagrams);
    return b;
  }

  void ReturnBatch(std::unique_ptr<DatagramBatch> b) {
    b->Clear();
    std::lock_guard<std::mutex> lock(pool_mu);
    pool.push_back(std::move(b));
  }

  // Hands a full or flushed batch to worker `w`; counts its datagrams as
  // dropped when the queue is full (not lossless). A partial batch (the
  // receiver flushes whenever its socket runs dry) is appended to the last
  // batch still waiting in the queue when it fits, so the queue's bound of
  // worker_queue_batches holds up to that many full batches of datagrams
  // however the input trickles in; a busy worker then rides out a stall
  // of worker_queue_batches * batch_datagrams datagrams, not of as many
  // small hand-overs.
  void Hand(size_t w, std::unique_ptr<DatagramBatch> batch) {
    WorkItem item;
    item.type = WorkItem::Type::kData;
    const size_t n = batch->entries.size();
    item.batch = std::move(batch);
    if (options.lossless) {
      workers[w]->queue.Push(std::move(item));
      return;
    }
    const size_t max_datagrams = options.batch_datagrams;
    bool merged = false;
    const bool queued = workers[w]->queue.TryPushOrMerge(
        item, [&](WorkItem& back, const WorkItem& piece) {
          merged = back.type == WorkItem::Type::kData &&
                   back.batch->Absorb(*piece.batch, max_datagrams);
          return merged;
        });
    if (merged) {
      ReturnBatch(std::move(item.batch));
    } else if (!queued) {
      queue_drops.fetch_add(n, std::memory_order_relaxed);
      ReturnBatch(std::move(item.batch));
    }
  }

  void SendToSink(ViewRuntime& view, SinkItem item) {
    if (options.lossless) {
      view.queue.Push(std::move(item));
      return;
    }
    if (view.queue.TryPush(item)) return;
    view.snapshots_dropped.fetch_add(1, std::memory_order_relaxed);
    if (item.snapshot != nullptr) {
      view.rows_dropped.fetch_add(item.snapshot->size(),
                                  std::memory_order_relaxed);
      item.snapshot.reset();
    }
    // A refresh partial must still arrive (empty) so the merge completes.
    if (item.type == SinkItem::Type::kPartial) {
      view.queue.ForcePush(std::move(item));
    }
  }

  void WorkerLoop(Worker* w);
  void ProcessRecords(Worker* w, int64_t now);
  void FlushView(Worker* w, size_t v, uint64_t epoch, int64_t now,
                 FlushReason reason);
  void PublishStats(Worker* w);
  void SinkLoop(ViewRuntime* view);
};

void Pipeline::Impl::PublishStats(Worker* w) {
  std::lock_guard<std::mutex> lock(w->stats_mu);
  w->published = w->decoder->stats();
}

void Pipeline::Impl::ProcessRecords(Worker* w, int64_t now) {
  RecordBatch& batch = w->records;
  if (batch.size() == 0) return;
  const uint64_t version = enrich_version.load(std::memory_order_acquire);
  if (version != w->enrich_version) {
    std::lock_guard<std::mutex> lock(enrich_mu);
    w->enrich = enrich;
    w->enrich_version = version;
  }
  if (w->enrich) w->enrich(&batch);
  size_t flow_records = 0;  // not options records
  for (const FlowRecord& r : batch.records()) {
    flow_records += r.kind != RecordKind::kOptions;
  }
  for (size_t v = 0; v < views.size(); ++v) {
    ViewRuntime& view = *views[v];
    Aggregator& agg = *w->aggregators[v];
    auto cache_full = [&] {
      view.cache_full_flushes.fetch_add(1, std::memory_order_relaxed);
      SinkItem item;
      item.type = SinkItem::Type::kUrgent;
      item.snapshot = agg.Flush(now, FlushReason::kCacheFull);
      SendToSink(view, std::move(item));
    };
    if (!view.options.filter) {
      // The whole batch: AddAll prefetches the next record's slot.
      size_t next = 0;
      while ((next = agg.AddAll(batch, next)) < batch.size()) cache_full();
      view.records.fetch_add(flow_records, std::memory_order_relaxed);
      continue;
    }
    uint64_t added = 0;
    uint64_t filtered = 0;
    for (const FlowRecord& r : batch.records()) {
      if (r.kind == RecordKind::kOptions) continue;
      if (!view.options.filter(r, batch)) {
        ++filtered;
        continue;
      }
      if (!agg.Add(r, batch)) {
        cache_full();
        agg.Add(r, batch);  // an empty table always has room
      }
      ++added;
    }
    view.records.fetch_add(added, std::memory_order_relaxed);
    view.filtered.fetch_add(filtered, std::memory_order_relaxed);
  }
  batch.Clear();
}

void Pipeline::Impl::FlushView(Worker* w, size_t v, uint64_t epoch, int64_t now,
                               FlushReason reason) {
  SinkItem item;
  item.type = SinkItem::Type::kPartial;
  item.epoch = epoch;
  item.snapshot = w->aggregators[v]->Flush(now, reason);
  SendToSink(*views[v], std::move(item));
}

void Pipeline::Impl::WorkerLoop(Worker* w) {
  int64_t latest = 0;
  for (;;) {
    WorkItem item = w->queue.Pop();
    switch (item.type) {
      case WorkItem::Type::kData: {
        DatagramBatch& b = *item.batch;
        size_t decoded_records = 0;
        for (const DatagramBatch::Entry& e : b.entries) {
          Datagram d;
          d.payload =
              std::span<const uint8_t>(b.bytes.data() + e.offset, e.length);
          d.exporter = e.exporter;
          d.arrival_ns = e.arrival_ns;
          latest = std::max(latest, e.arrival_ns);
          decoded_records += w->decoder->Decode(d, &w->records).records;
          if (w->records.full()) ProcessRecords(w, latest);
        }
        ProcessRecords(w, latest);
        decoded_datagrams.fetch_add(b.entries.size(),
                                    std::memory_order_relaxed);
        records.fetch_add(decoded_records, std::memory_order_relaxed);
        ReturnBatch(std::move(item.batch));
        if (++w->batches_since_publish >= 64) {
          w->batches_since_publish = 0;
          PublishStats(w);
        }
        break;
      }
      case WorkItem::Type::kFlush:
        if (item.view >= 0) {
          FlushView(w, static_cast<size_t>(item.view), item.epoch, item.now,
                    item.reason);
        } else {
          for (size_t v = 0; v < views.size(); ++v) {
            FlushView(w, v, item.epoch, item.now, item.reason);
          }
        }
        break;
      case WorkItem::Type::kTick:
        w->decoder->Tick(item.now);
        PublishStats(w);
        break;
      case WorkItem::Type::kStop:
        PublishStats(w);
        return;
      case WorkItem::Type::kNone:
        break;
    }
  }
}

void Pipeline::Impl::SinkLoop(ViewRuntime* view) {
  Sink& sink = *view->options.sink;
  const size_t parts = workers.size();
  // Partials of refresh epochs, until every worker's has arrived.
  std::map<uint64_t, std::pair<size_t, std::vector<std::unique_ptr<Snapshot>>>>
      pending;
  for (;;) {
    SinkItem item = view->queue.Pop();
    switch (item.type) {
      case SinkItem::Type::kUrgent:
        if (item.snapshot != nullptr) (void)sink.Write(*item.snapshot);
        break;
      case SinkItem::Type::kPartial: {
        auto& [count, snaps] = pending[item.epoch];
        ++count;
        if (item.snapshot != nullptr) snaps.push_back(std::move(item.snapshot));
        if (count < parts) break;
        std::vector<std::unique_ptr<Snapshot>> ready = std::move(snaps);
        pending.erase(item.epoch);
        if (ready.empty()) break;  // every partial was dropped
        std::unique_ptr<Snapshot> merged;
        if (ready.size() == 1) {
          merged = std::move(ready.front());
        } else {
          Result<std::unique_ptr<Snapshot>> m =
              Snapshot::Merge(std::move(ready));
          if (!m.ok()) break;  // same options by construction
          merged = std::move(m).value();
        }
        (void)sink.Write(*merged);
        break;
      }
      case SinkItem::Type::kReopen:
        (void)sink.Reopen();
        break;
      case SinkItem::Type::kEnd:
        (void)sink.Close();
        return;
      case SinkItem::Type::kNone:
        break;
    }
  }
}

// ---------------------------------------------------------------------------

struct InputPort::Impl {
  Pipeline::Impl* pipeline = nullptr;
  std::vector<std::unique_ptr<DatagramBatch>> staging;  // one per worker
};

InputPort::InputPort(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

InputPort::~InputPort() { Flush(); }

bool InputPort::Submit(const Datagram& datagram) {
  Pipeline::Impl& p = *impl_->pipeline;
  p.datagrams.fetch_add(1, std::memory_order_relaxed);
  size_t w = 0;
  if (p.workers.size() > 1) {
    w = absl::HashOf(datagram.exporter.address, PeekDomain(datagram.payload)) %
        p.workers.size();
  }
  std::unique_ptr<DatagramBatch>& b = impl_->staging[w];
  if (b == nullptr) b = p.TakeBatch();
  DatagramBatch::Entry e;
  e.offset = static_cast<uint32_t>(b->bytes.size());
  e.length = static_cast<uint32_t>(datagram.payload.size());
  e.exporter = datagram.exporter;
  e.arrival_ns = datagram.arrival_ns;
  b->bytes.insert(b->bytes.end(), datagram.payload.begin(),
                  datagram.payload.end());
  b->entries.push_back(e);
  if (b->entries.size() >= p.options.batch_datagrams) {
    const uint64_t drops_before = p.queue_drops.load(std::memory_order_relaxed);
    p.Hand(w, std::move(b));
    return p.queue_drops.load(std::memory_order_relaxed) == drops_before;
  }
  return true;
}

void InputPort::Flush() {
  if (impl_ == nullptr) return;
  Pipeline::Impl& p = *impl_->pipeline;
  for (size_t w = 0; w < impl_->staging.size(); ++w) {
    if (impl_->staging[w] != nullptr && !impl_->staging[w]->entries.empty()) {
      p.Hand(w, std::move(impl_->staging[w]));
    }
  }
}

// ---------------------------------------------------------------------------

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pipeline::~Pipeline() { (void)Stop(); }

Result<std::unique_ptr<Pipeline>> Pipeline::Create(
    const PrimitiveRegistry* registry, PipelineOptions options,
    std::vector<ViewOptions> views, EnrichFunction enrich) {
  if (registry == nullptr) return InvalidArgumentError("pipeline: no registry");
  if (options.workers == 0) {
    return InvalidArgumentError("pipeline: workers must be at least 1");
  }
  if (views.empty()) return InvalidArgumentError("pipeline: no views");
  if (options.batch_datagrams == 0 || options.worker_queue_batches == 0 ||
      options.sink_queue_snapshots == 0) {
    return InvalidArgumentError("pipeline: queue sizes must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->registry = registry;
  impl->options = options;
  impl->enrich = std::move(enrich);
  impl->enrich_version = 1;
  for (ViewOptions& v : views) {
    if (v.sink == nullptr) {
      return InvalidArgumentError("pipeline: view '" + v.aggregator.view +
                                  "' has no sink");
    }
    impl->views.push_back(std::make_unique<ViewRuntime>(
        std::move(v), options.sink_queue_snapshots));
  }
  for (size_t i = 0; i < options.workers; ++i) {
    auto w = std::make_unique<Worker>(options.worker_queue_batches);
    Result<std::unique_ptr<Decoder>> d =
        Decoder::Create(options.decoder, registry);
    if (!d.ok()) return d.status();
    w->decoder = std::move(d).value();
    if (!options.templates_file.empty()) {
      Status loaded = LoadTemplateFile(options.templates_file,
                                       &w->decoder->templates(), WallClock());
      if (!loaded.ok() && loaded.code() != StatusCode::kNotFound) {
        return loaded;
      }
    }
    for (const auto& v : impl->views) {
      Result<std::unique_ptr<Aggregator>> a =
          Aggregator::Create(registry, v->options.aggregator);
      if (!a.ok()) {
        return InvalidArgumentError("view '" + v->options.aggregator.view +
                                    "': " + a.status().message());
      }
      w->aggregators.push_back(std::move(a).value());
    }
    impl->workers.push_back(std::move(w));
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

Status Pipeline::Start() {
  std::lock_guard<std::mutex> lock(impl_->control_mu);
  if (impl_->started) return FailedPreconditionError("pipeline: started twice");
  impl_->started = true;
  Impl* impl = impl_.get();
  for (auto& v : impl->views) {
    ViewRuntime* view = v.get();
    view->thread = std::thread([impl, view] { impl->SinkLoop(view); });
  }
  for (auto& w : impl->workers) {
    Worker* worker = w.get();
    worker->thread = std::thread([impl, worker] { impl->WorkerLoop(worker); });
  }
  return Status::Ok();
}

std::unique_ptr<InputPort> Pipeline::NewInputPort() {
  auto impl = std::make_unique<InputPort::Impl>();
  impl->pipeline = impl_.get();
  impl->staging.resize(impl_->workers.size());
  return std::unique_ptr<InputPort>(new InputPort(std::move(impl)));
}

void Pipeline::Tick(int64_t now) {
  std::lock_guard<std::mutex> lock(impl_->control_mu);
  if (!impl_->started || impl_->stopped) return;
  for (size_t v = 0; v < impl_->views.size(); ++v) {
    ViewRuntime& view = *impl_->views[v];
    if (view.options.refresh_seconds == 0) continue;
    const int64_t period = int64_t{view.options.refresh_seconds} * kNsPerSecond;
    if (view.next_refresh == 0) {
      view.next_refresh = AlignUp(now, period);
      continue;
    }
    if (now < view.next_refresh) continue;
    const uint64_t epoch = view.next_epoch++;
    for (auto& w : impl_->workers) {
      WorkItem item;
      item.type = WorkItem::Type::kFlush;
      item.view = static_cast<int>(v);
      item.epoch = epoch;
      item.now = now;
      item.reason = FlushReason::kRefresh;
      w->queue.ForcePush(std::move(item));
    }
    view.next_refresh = AlignUp(now, period);
  }
  for (auto& w : impl_->workers) {
    WorkItem item;
    item.type = WorkItem::Type::kTick;
    item.now = now;
    w->queue.ForcePush(std::move(item));
  }
}

void Pipeline::ReloadEnrichment(EnrichFunction enrich) {
  std::lock_guard<std::mutex> lock(impl_->enrich_mu);
  impl_->enrich = std::move(enrich);
  impl_->enrich_version.fetch_add(1, std::memory_order_release);
}

void Pipeline::ReopenSinks() {
  std::lock_guard<std::mutex> lock(impl_->control_mu);
  if (!impl_->started || impl_->stopped) return;
  for (auto& v : impl_->views) {
    SinkItem item;
    item.type = SinkItem::Type::kReopen;
    v->queue.ForcePush(std::move(item));
  }
}

Status Pipeline::Stop(int64_t now) {
  std::lock_guard<std::mutex> lock(impl_->control_mu);
  if (!impl_->started || impl_->stopped) {
    impl_->stopped = true;
    return Status::Ok();
  }
  impl_->stopped = true;
  if (now == 0) now = WallClock();
  // Every worker drains its queue, flushes every view with one shared epoch
  // per view, then stops.
  std::vector<uint64_t> epochs;
  for (auto& v : impl_->views) epochs.push_back(v->next_epoch++);
  for (auto& w : impl_->workers) {
    for (size_t v = 0; v < impl_->views.size(); ++v) {
      WorkItem item;
      item.type = WorkItem::Type::kFlush;
      item.view = static_cast<int>(v);
      item.epoch = epochs[v];
      item.now = now;
      item.reason = FlushReason::kShutdown;
      w->queue.ForcePush(std::move(item));
    }
    WorkItem stop;
    stop.type = WorkItem::Type::kStop;
    w->queue.ForcePush(std::move(stop));
  }
  for (auto& w : impl_->workers) w->thread.join();
  for (auto& v : impl_->views) {
    SinkItem end;
    end.type = SinkItem::Type::kEnd;
    v->queue.ForcePush(std::move(end));
  }
  for (auto& v : impl_->views) v->thread.join();
  if (impl_->options.templates_file.empty()) return Status::Ok();
  // Every worker's templates in one file (workers own disjoint exporters).
  TemplateCache merged(impl_->options.decoder.templates, impl_->registry);
  for (auto& w : impl_->workers) {
    Status s = merged.Restore(w->decoder->templates().Serialize(), now);
    if (!s.ok()) return s;
  }
  return SaveTemplateFile(merged, impl_->options.templates_file);
}

PipelineStats Pipeline::stats() const {
  PipelineStats s;
  s.datagrams = impl_->datagrams.load(std::memory_order_relaxed);
  s.queue_drops = impl_->queue_drops.load(std::memory_order_relaxed);
  s.decoded_datagrams =
      impl_->decoded_datagrams.load(std::memory_order_relaxed);
  s.records = impl_->records.load(std::memory_order_relaxed);
  for (const auto& w : impl_->workers) {
    std::lock_guard<std::mutex> lock(w->stats_mu);
    s.decode.Merge(w->published);
  }
  for (const auto& v : impl_->views) {
    ViewStats vs;
    vs.name = v->options.aggregator.view;
    vs.records = v->records.load(std::memory_order_relaxed);
    vs.filtered = v->filtered.load(std::memory_order_relaxed);
    vs.cache_full_flushes =
        v->cache_full_flushes.load(std::memory_order_relaxed);
    vs.snapshots_dropped = v->snapshots_dropped.load(std::memory_order_relaxed);
    vs.rows_dropped = v->rows_dropped.load(std::memory_order_relaxed);
    vs.sink = v->options.sink->stats();
    s.views.push_back(std::move(vs));
  }
  return s;
}

}  // namespace flowacct
