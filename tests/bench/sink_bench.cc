// Write rate of the sinks that deliver to a server (docs/performance.md,
// "Sinks"): SQLite, PostgreSQL, MariaDB, Kafka (librdkafka's mock cluster)
// and RabbitMQ, in rows per second.
//
// Each iteration is what the daemon does at one flush of a view: one
// Write() of a snapshot of N aggregates of a 5-tuple view with time bins,
// then Close(), which returns once the delivery thread has handed every row
// to the server (checked: delivered_rows == N, else the benchmark fails).
// A new sink is created per iteration (Close() is final), outside the timed
// region, with a spool directory of its own (DeliveryOptions::spool_dir)
// and the default in-memory queue (64 envelopes). For the SQL sinks the
// timed region includes connecting and, for a fresh table, CREATE TABLE;
// for the brokers the connection is warmed up first (one row delivered
// before the timer starts), because producing the first message to
// librdkafka's mock cluster costs a metadata round of its own.
//
// Servers: PostgreSQL, MariaDB and RabbitMQ only when FLOWACCT_BENCH_PGSQL,
// FLOWACCT_BENCH_MYSQL, FLOWACCT_BENCH_AMQP = "host:port" are set (user
// pmacct / arealsmartpwd, database pmacct, as tests/support/sql_servers.py
// creates them; RabbitMQ guest/guest); tests/bench/run_sink_bench.sh starts
// them. Debian packages no Kafka broker: the Kafka benchmarks run against
// the mock cluster librdkafka starts inside the producer
// (test.mock.num.brokers=3), so they measure the sink and librdkafka over
// loopback, not a real broker's disk.
//
// Table names carry a random tag per run, so runs against the same server
// never meet each other's tables.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/sink/amqp_sink.h"
#include "flowacct/sink/kafka_sink.h"
#include "flowacct/sink/sink.h"
#include "flowacct/sink/sql_sink.h"

#include <stdlib.h>
#include <unistd.h>

namespace flowacct {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBinSeconds = 300;
constexpr int64_t kBin0 = int64_t{1715776200};  // a 5-minute boundary
const std::vector<std::string> kFiveTuple = {"src_host", "dst_host", "src_port",
                                             "dst_port", "proto"};

const PrimitiveRegistry& Registry() {
  static const auto* registry =
      PrimitiveRegistry::CreateWithBuiltins().release();
  return *registry;
}

// A random tag for this process's table names.
const std::string& RunTag() {
  static const std::string tag = [] {
    std::random_device rd;
    char buf[16];
    snprintf(buf, sizeof buf, "%06x", rd() & 0xffffff);
    return std::string(buf);
  }();
  return tag;
}

// A time bin (ns) never used before in this process: a fresh table.
int64_t FreshBin() {
  static std::atomic<int64_t> next{0};
  return (kBin0 + next.fetch_add(1) * kBinSeconds) * kSecond;
}

// N aggregates of the 5-tuple view (distinct keys), all in one time bin.
class BenchSnapshot : public Snapshot {
 public:
  explicit BenchSnapshot(size_t n) : batch_(n) {
    for (const std::string& p : kFiveTuple) {
      primitives_.push_back(Registry().Find(p)->id);
    }
    for (size_t i = 0; i < n; ++i) {
      FlowRecord* r = batch_.AppendRecord();
      r->src_host = IpAddress::V4(0x0A000000 + static_cast<uint32_t>(i / 64));
      r->dst_host = IpAddress::V4(0xC0A80000 + static_cast<uint32_t>(i % 64));
      r->src_port = static_cast<uint16_t>(1024 + i % 60000);
      r->dst_port = static_cast<uint16_t>(i % 3 == 0 ? 443 : 80);
      r->proto = i % 5 == 0 ? 17 : 6;
      r->packets = 1 + i % 7;
      r->bytes = 64 * r->packets + i % 1000;
      r->flows = 1;
      for (FlowField f :
           {FlowField::kSrcHost, FlowField::kDstHost, FlowField::kSrcPort,
            FlowField::kDstPort, FlowField::kProto, FlowField::kPackets,
            FlowField::kBytes, FlowField::kFlows}) {
        r->fields.set(f);
      }
    }
  }

  void set_bin(int64_t bin) { bin_ = bin; }

  const std::string& view() const override { return view_; }
  const std::vector<PrimitiveId>& primitives() const override {
    return primitives_;
  }
  bool has_time_bins() const override { return true; }
  FlushReason reason() const override { return FlushReason::kRefresh; }
  int64_t flush_time() const override { return bin_ + kBinSeconds * kSecond; }
  size_t size() const override { return batch_.size(); }
  void Get(size_t i, AggregateRow* row) const override {
    row->record = batch_.records()[i];
    row->stamp_inserted = bin_;
    row->stamp_updated = flush_time();
  }
  const RecordBatch& arena() const override { return batch_; }

 private:
  std::string view_ = "bench";
  std::vector<PrimitiveId> primitives_;
  RecordBatch batch_;
  int64_t bin_ = kBin0 * kSecond;
};

// A directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") +
                       "/flowacct-sink-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Delivery options for one sink: its own spool, and a Close() that waits
// long enough for every row to be delivered.
DeliveryOptions Delivery(const std::string& spool_dir) {
  DeliveryOptions d;
  d.spool_dir = spool_dir;
  d.retry_min_ms = 50;
  d.retry_max_ms = 1000;
  d.close_timeout_ms = 600'000;
  return d;
}

// "host:port" from the environment; false when unset or malformed.
bool ServerFromEnv(const char* var, std::string* host, uint16_t* port) {
  const char* v = getenv(var);
  if (v == nullptr || *v == '\0') return false;
  std::string s(v);
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const int p = atoi(s.c_str() + colon + 1);
  if (p <= 0 || p > 65535) return false;
  *host = s.substr(0, colon);
  *port = static_cast<uint16_t>(p);
  return true;
}

// Creates a sink whose spool is `spool_dir`; nullptr with *error set.
using SinkFactory = std::function<std::unique_ptr<Sink>(
    const std::string& spool_dir, std::string* error)>;

// Writes `snap` once (untimed) so its table exists and holds its keys.
bool Prefill(const SinkFactory& make, const std::string& spool_dir,
             const BenchSnapshot& snap, std::string* error) {
  std::unique_ptr<Sink> sink = make(spool_dir, error);
  if (sink == nullptr) return false;
  Status w = sink->Write(snap);
  Status c = sink->Close();
  const SinkStats st = sink->stats();
  if (!w.ok() || !c.ok() || st.delivered_rows != snap.size()) {
    *error = "prefill: " + (w.ok() ? c.ToString() : w.ToString());
    return false;
  }
  return true;
}

// Waits (bounded) until `rows` rows have been delivered.
bool WaitDelivered(const Sink& sink, uint64_t rows, int seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (sink.stats().delivered_rows < rows) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

enum class Bins {
  kFresh,  // a new table per iteration (first write of a bin: INSERT)
  kSame,   // the same, pre-filled table every iteration (UPDATE)
};

// The benchmark loop shared by every sink. `warm_up`: deliver one row
// before the timer starts (brokers: connection and metadata).
void RunWrites(benchmark::State& state, const SinkFactory& make, Bins bins,
               bool warm_up) {
  const size_t n = static_cast<size_t>(state.range(0));
  TempDir dir;
  if (dir.path().empty()) {
    state.SkipWithError("cannot create a temporary directory");
    return;
  }
  BenchSnapshot snap(n);
  BenchSnapshot one(1);
  std::string error;
  int spools = 0;
  auto next_spool = [&] {
    return dir.path() + "/spool-" + std::to_string(spools++);
  };
  if (bins == Bins::kSame) {
    snap.set_bin(FreshBin());
    if (!Prefill(make, next_spool(), snap, &error)) {
      state.SkipWithError(error.c_str());
      return;
    }
  }
  uint64_t spooled = 0;
  uint64_t retries = 0;
  double write_seconds = 0;  // in Write(): how long the sink thread waits
  for (auto _ : state) {
    state.PauseTiming();
    if (bins == Bins::kFresh) snap.set_bin(FreshBin());
    // A fresh spool directory, hence a fresh SQL writer id, per sink.
    std::unique_ptr<Sink> sink = make(next_spool(), &error);
    if (sink == nullptr) {
      state.SkipWithError(error.c_str());
      break;
    }
    uint64_t base = 0;
    if (warm_up) {
      one.set_bin(snap.flush_time());
      if (!sink->Write(one).ok() || !WaitDelivered(*sink, 1, 60)) {
        state.SkipWithError("warm-up row not delivered within 60 s");
        break;
      }
      base = 1;
    }
    state.ResumeTiming();

    const auto t0 = std::chrono::steady_clock::now();
    const Status w = sink->Write(snap);
    const auto t1 = std::chrono::steady_clock::now();
    const Status c = sink->Close();
    write_seconds += std::chrono::duration<double>(t1 - t0).count();

    state.PauseTiming();
    const SinkStats st = sink->stats();
    sink.reset();
    spooled += st.spooled_rows;
    retries += st.retries;
    if (!w.ok() || !c.ok() || st.delivered_rows != base + n) {
      error =
          "not delivered: write " + w.ToString() + ", close " + c.ToString() +
          ", delivered " + std::to_string(st.delivered_rows - base) + " of " +
          std::to_string(n) + ", rejected " + std::to_string(st.rejected_rows) +
          ", dropped " + std::to_string(st.dropped_rows);
      state.SkipWithError(error.c_str());
      break;
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["spooled_rows"] = benchmark::Counter(
      static_cast<double>(spooled), benchmark::Counter::kAvgIterations);
  state.counters["retries"] = benchmark::Counter(
      static_cast<double>(retries), benchmark::Counter::kAvgIterations);
  // Milliseconds per iteration spent in Write() alone (the sink thread is
  // blocked that long; the rest of Time is the delivery thread).
  state.counters["write_ms"] = benchmark::Counter(
      write_seconds * 1000, benchmark::Counter::kAvgIterations);
}

// ---------------------------------------------------------------------------
// SQL

struct SqlMode {
  Bins bins = Bins::kFresh;
  bool dont_try_update = false;
  uint32_t multi_values = 0;
  bool use_copy = false;
};

SinkFactory SqlFactory(SqlSinkOptions base) {
  return [base](const std::string& spool_dir,
                std::string* error) -> std::unique_ptr<Sink> {
    SqlSinkOptions o = base;
    o.delivery = Delivery(spool_dir);
    Result<std::unique_ptr<Sink>> s = CreateSqlSink(o, &Registry());
    if (!s.ok()) {
      *error = s.status().ToString();
      return nullptr;
    }
    return std::move(s).value();
  };
}

SqlSinkOptions SqlOptions(SqlBackend backend, const SqlMode& mode) {
  SqlSinkOptions o;
  o.backend = backend;
  o.name = "bench";
  o.table = "fb" + RunTag() + "_%Y%m%d_%H%M";  // one table per 5-minute bin
  o.optimize_clauses = true;
  o.aggregate = kFiveTuple;
  o.timestamps_utc = true;
  o.dont_try_update = mode.dont_try_update;
  o.multi_values = mode.multi_values;
  o.use_copy = mode.use_copy;
  return o;
}

void RunSqlite(benchmark::State& state, SqlMode mode) {
  TempDir db_dir;
  SqlSinkOptions o = SqlOptions(SqlBackend::kSqlite3, mode);
  o.db = db_dir.path() + "/bench.db";
  RunWrites(state, SqlFactory(o), mode.bins, false);
}

void RunServerSql(benchmark::State& state, SqlBackend backend, const char* env,
                  SqlMode mode) {
  SqlSinkOptions o = SqlOptions(backend, mode);
  if (!ServerFromEnv(env, &o.host, &o.port)) {
    state.SkipWithError(
        (std::string("set ") + env +
         "=host:port (tests/bench/run_sink_bench.sh starts the server)")
            .c_str());
    return;
  }
  o.db = "pmacct";
  o.user = "pmacct";
  o.password = "arealsmartpwd";
  RunWrites(state, SqlFactory(o), mode.bins, false);
}

constexpr uint32_t kMultiValuesBytes = 1'000'000;  // sql_multi_values

void BM_Sqlite_Insert(benchmark::State& state) { RunSqlite(state, {}); }
void BM_Sqlite_Update(benchmark::State& state) {
  RunSqlite(state, {.bins = Bins::kSame});
}
void BM_Sqlite_DontTryUpdateMultiValues(benchmark::State& state) {
  RunSqlite(state,
            {.dont_try_update = true, .multi_values = kMultiValuesBytes});
}

void BM_Pgsql_Insert(benchmark::State& state) {
  RunServerSql(state, SqlBackend::kPgsql, "FLOWACCT_BENCH_PGSQL", {});
}
void BM_Pgsql_Update(benchmark::State& state) {
  RunServerSql(state, SqlBackend::kPgsql, "FLOWACCT_BENCH_PGSQL",
               {.bins = Bins::kSame});
}
void BM_Pgsql_DontTryUpdate(benchmark::State& state) {
  RunServerSql(state, SqlBackend::kPgsql, "FLOWACCT_BENCH_PGSQL",
               {.dont_try_update = true});
}
void BM_Pgsql_UseCopy(benchmark::State& state) {
  RunServerSql(state, SqlBackend::kPgsql, "FLOWACCT_BENCH_PGSQL",
               {.dont_try_update = true, .use_copy = true});
}

void BM_Mysql_Insert(benchmark::State& state) {
  RunServerSql(state, SqlBackend::kMysql, "FLOWACCT_BENCH_MYSQL", {});
}
void BM_Mysql_Update(benchmark::State& state) {
  RunServerSql(state, SqlBackend::kMysql, "FLOWACCT_BENCH_MYSQL",
               {.bins = Bins::kSame});
}
void BM_Mysql_DontTryUpdateMultiValues(benchmark::State& state) {
  RunServerSql(state, SqlBackend::kMysql, "FLOWACCT_BENCH_MYSQL",
               {.dont_try_update = true, .multi_values = kMultiValuesBytes});
}

// 10k rows twice, 100k rows once: the binary runs in a few minutes even
// where a backend does one round trip per row.
#define SQL_BENCHMARK(f)              \
  BENCHMARK(f)                        \
      ->UseRealTime()                 \
      ->Unit(benchmark::kMillisecond) \
      ->ArgName("rows")               \
      ->Arg(10'000)                   \
      ->Iterations(2);                \
  BENCHMARK(f)                        \
      ->UseRealTime()                 \
      ->Unit(benchmark::kMillisecond) \
      ->ArgName("rows")               \
      ->Arg(100'000)                  \
      ->Iterations(1)

SQL_BENCHMARK(BM_Sqlite_Insert);
SQL_BENCHMARK(BM_Sqlite_Update);
SQL_BENCHMARK(BM_Sqlite_DontTryUpdateMultiValues);
SQL_BENCHMARK(BM_Pgsql_Insert);
SQL_BENCHMARK(BM_Pgsql_Update);
SQL_BENCHMARK(BM_Pgsql_DontTryUpdate);
SQL_BENCHMARK(BM_Pgsql_UseCopy);
SQL_BENCHMARK(BM_Mysql_Insert);
SQL_BENCHMARK(BM_Mysql_Update);
SQL_BENCHMARK(BM_Mysql_DontTryUpdateMultiValues);

// ---------------------------------------------------------------------------
// Brokers

struct BrokerMode {
  BrokerEncoding encoding = BrokerEncoding::kJson;
  uint32_t multi_values = 0;
  bool linger0 = false;  // kafka: linger.ms=0 (librdkafka's default is 5)
  // DeliveryOptions::memory_envelopes (flowacct_queue_entries); 0: the
  // default (64). A snapshot of more envelopes than that goes to the
  // spool, one fsync'ed file per envelope.
  size_t memory_envelopes = 0;
};

DeliveryOptions BrokerDelivery(const std::string& spool_dir,
                               const BrokerMode& mode) {
  DeliveryOptions d = Delivery(spool_dir);
  if (mode.memory_envelopes > 0) d.memory_envelopes = mode.memory_envelopes;
  return d;
}

void RunKafka(benchmark::State& state, BrokerMode mode) {
  KafkaSinkOptions base;
  base.name = "bench";
  base.topic = "flowacct.bench";
  base.message.encoding = mode.encoding;
  base.message.multi_values = mode.multi_values;
  base.message.timestamps_utc = true;
  // The mock cluster lives inside the producer (Debian has no broker).
  base.settings.push_back({false, "test.mock.num.brokers", "3", "bench:1"});
  base.settings.push_back({false, "log_level", "2", "bench:2"});
  if (mode.linger0) {
    base.settings.push_back({false, "linger.ms", "0", "bench:3"});
  }
  SinkFactory make = [base, mode](const std::string& spool_dir,
                                  std::string* error) -> std::unique_ptr<Sink> {
    KafkaSinkOptions o = base;
    o.delivery = BrokerDelivery(spool_dir, mode);
    Result<std::unique_ptr<Sink>> s = CreateKafkaSink(o, &Registry());
    if (!s.ok()) {
      *error = s.status().ToString();
      return nullptr;
    }
    return std::move(s).value();
  };
  RunWrites(state, make, Bins::kFresh, true);
}

void RunAmqp(benchmark::State& state, BrokerMode mode) {
  AmqpSinkOptions base;
  if (!ServerFromEnv("FLOWACCT_BENCH_AMQP", &base.host, &base.port)) {
    state.SkipWithError(
        "set FLOWACCT_BENCH_AMQP=host:port (tests/bench/run_sink_bench.sh "
        "starts RabbitMQ)");
    return;
  }
  base.name = "bench";
  base.exchange = "flowacct-bench";
  base.routing_key = "acct";
  base.message.encoding = mode.encoding;
  base.message.multi_values = mode.multi_values;
  base.message.timestamps_utc = true;
  SinkFactory make = [base, mode](const std::string& spool_dir,
                                  std::string* error) -> std::unique_ptr<Sink> {
    AmqpSinkOptions o = base;
    o.delivery = BrokerDelivery(spool_dir, mode);
    Result<std::unique_ptr<Sink>> s = CreateAmqpSink(o, &Registry());
    if (!s.ok()) {
      *error = s.status().ToString();
      return nullptr;
    }
    return std::move(s).value();
  };
  RunWrites(state, make, Bins::kFresh, true);
}

constexpr size_t kBigQueue = 1 << 20;

uint32_t MultiValues(const benchmark::State& state) {
  return static_cast<uint32_t>(state.range(1));
}

void BM_Kafka_Json(benchmark::State& state) {
  RunKafka(state, {.multi_values = MultiValues(state)});
}
void BM_Kafka_JsonLinger0(benchmark::State& state) {
  RunKafka(state, {.multi_values = MultiValues(state), .linger0 = true});
}
void BM_Kafka_JsonBigQueue(benchmark::State& state) {
  RunKafka(state,
           {.multi_values = MultiValues(state), .memory_envelopes = kBigQueue});
}
void BM_Kafka_JsonBigQueueLinger0(benchmark::State& state) {
  RunKafka(state, {.multi_values = MultiValues(state),
                   .linger0 = true,
                   .memory_envelopes = kBigQueue});
}
void BM_Kafka_Protobuf(benchmark::State& state) {
  RunKafka(state, {.encoding = BrokerEncoding::kProtobuf,
                   .multi_values = MultiValues(state)});
}
void BM_Amqp_Json(benchmark::State& state) {
  RunAmqp(state, {.multi_values = MultiValues(state)});
}
void BM_Amqp_JsonBigQueue(benchmark::State& state) {
  RunAmqp(state,
          {.multi_values = MultiValues(state), .memory_envelopes = kBigQueue});
}
void BM_Amqp_Protobuf(benchmark::State& state) {
  RunAmqp(state, {.encoding = BrokerEncoding::kProtobuf,
                  .multi_values = MultiValues(state)});
}

// {rows, multi_values}. One message per row costs milliseconds (see
// docs/performance.md), so those run with 1,000 rows.
void BrokerArgs(benchmark::internal::Benchmark* b) {
  b->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->ArgNames({"rows", "multi_values"})
      ->Iterations(2);
}

BENCHMARK(BM_Kafka_Json)
    ->Apply(BrokerArgs)
    ->Args({1'000, 0})
    ->Args({100'000, 0})
    ->Args({10'000, 100})
    ->Args({100'000, 100});
BENCHMARK(BM_Kafka_JsonLinger0)
    ->Apply(BrokerArgs)
    ->Args({1'000, 0})
    ->Args({100'000, 100});
BENCHMARK(BM_Kafka_JsonBigQueue)
    ->Apply(BrokerArgs)
    ->Args({1'000, 0})
    ->Args({100'000, 100});
BENCHMARK(BM_Kafka_JsonBigQueueLinger0)
    ->Apply(BrokerArgs)
    ->Args({1'000, 0})
    ->Args({100'000, 100});
// Protobuf with multi_values 0: 1000 rows per message (the default).
BENCHMARK(BM_Kafka_Protobuf)
    ->Apply(BrokerArgs)
    ->Args({10'000, 0})
    ->Args({100'000, 0})
    ->Args({100'000, 100});
BENCHMARK(BM_Amqp_Json)
    ->Apply(BrokerArgs)
    ->Args({1'000, 0})
    ->Args({100'000, 0})
    ->Args({10'000, 100})
    ->Args({100'000, 100});
BENCHMARK(BM_Amqp_JsonBigQueue)
    ->Apply(BrokerArgs)
    ->Args({1'000, 0})
    ->Args({100'000, 100});
BENCHMARK(BM_Amqp_Protobuf)
    ->Apply(BrokerArgs)
    ->Args({10'000, 0})
    ->Args({100'000, 0})
    ->Args({100'000, 100});

}  // namespace
}  // namespace flowacct
