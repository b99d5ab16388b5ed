// The SQL sink over a real SQLite database: layouts, values, write
// semantics, exactly-once redelivery, the spool through a locked database,
// and the batch encoding the spool stores.

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "flowacct/sink/sql_sink.h"
#include "libflowacct/sink/sql/sql_batch.h"
#include "libflowacct/sink/sql/sql_connection.h"
#include "libflowacct/sink/sql/sql_layout.h"
#include "libflowacct/sink/sql/sql_writer.h"
#include "tests/unit/sink/test_snapshot.h"

namespace flowacct {
namespace {

using internal::Envelope;
using internal::SqlBatch;
using internal::SqlColumnRole;
using internal::SqlValue;
using testing::TestSnapshot;

constexpr int64_t kSecond = 1000000000;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/flowacct-sql-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Rows of a query as text, "a|b|c" per row.
std::vector<std::string> Query(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  std::vector<std::string> rows;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    FAIL(sqlite3_errmsg(h));
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i > 0) row += "|";
      const unsigned char* t = sqlite3_column_text(st, i);
      row += t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
    }
    rows.push_back(row);
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

SqlSinkOptions Options(const TempDir& dir) {
  SqlSinkOptions o;
  o.backend = SqlBackend::kSqlite3;
  o.name = "t";
  o.db = dir.path() + "/t.db";
  o.timestamps_utc = true;
  o.delivery.spool_dir = dir.path() + "/spool";
  o.delivery.retry_min_ms = 5;
  o.delivery.retry_max_ms = 20;
  return o;
}

std::unique_ptr<Sink> MustCreate(const SqlSinkOptions& o,
                                 const PrimitiveRegistry& registry) {
  Result<std::unique_ptr<Sink>> sink = CreateSqlSink(o, &registry);
  INFO(sink.status().ToString());
  REQUIRE(sink.ok());
  return std::move(sink).value();
}

TEST_CASE("sql sink: pmacct v9 table, neutral values, no stamps without bins",
          "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.table = "acct_v9";
  o.table_version = 9;
  auto sink = MustCreate(o, *registry);
  TestSnapshot snap(*registry, {"src_host", "dst_host", "proto"}, false);
  snap.Add("10.0.0.1", "10.0.0.2", 6, 3, 300);
  snap.Add("2001:db8::1", "2001:db8::2", 17, 1, 100);
  REQUIRE(sink->Write(snap).ok());
  REQUIRE(sink->Close().ok());
  CHECK(Query(o.db, "SELECT tag, class_id, mac_src, vlan, ip_src, ip_dst, "
                    "port_src, ip_proto, packets, bytes, flows, "
                    "stamp_inserted, stamp_updated FROM acct_v9 "
                    "ORDER BY ip_src") ==
        std::vector<std::string>{
            "0|unknown|0:0:0:0:0:0|0|10.0.0.1|10.0.0.2|0|tcp|3|300|0|"
            "0000-00-00 00:00:00|NULL",
            "0|unknown|0:0:0:0:0:0|0|2001:db8::1|2001:db8::2|0|udp|1|100|0|"
            "0000-00-00 00:00:00|NULL"});
  SinkStats s = sink->stats();
  CHECK(s.rows == 2);
  CHECK(s.delivered_rows == 2);
  CHECK(s.pending_rows == 0);
}

TEST_CASE("sql sink: a second flush of a bin adds to it (UPDATE, then INSERT)",
          "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.optimize_clauses = true;
  o.table = "tm-%Y%m%d_%H%M";  // a dash: needs quoting
  auto sink = MustCreate(o, *registry);
  const int64_t bin = 1500000000 * kSecond;  // 2017-07-14 02:40:00 UTC
  for (int flush = 0; flush < 2; ++flush) {
    TestSnapshot snap(*registry, {"src_host", "proto", "flows"}, true);
    snap.flush_time_ = bin + (flush + 1) * 60 * kSecond;
    snap.Add("10.0.0.1", "10.0.0.9", 6, 2, 200, 1, bin);
    if (flush == 1) snap.Add("10.0.0.3", "10.0.0.9", 6, 1, 50, 1, bin);
    REQUIRE(sink->Write(snap).ok());
  }
  REQUIRE(sink->Close().ok());
  CHECK(Query(o.db, "SELECT ip_src, ip_proto, packets, bytes, flows, "
                    "stamp_inserted, stamp_updated FROM \"tm-20170714_0240\" "
                    "ORDER BY ip_src") ==
        std::vector<std::string>{
            "10.0.0.1|tcp|4|400|2|2017-07-14 02:40:00|2017-07-14 02:42:00",
            "10.0.0.3|tcp|1|50|1|2017-07-14 02:40:00|2017-07-14 02:42:00"});
}

TEST_CASE("sql sink: hostile values stay values; $tag cannot break the name",
          "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.optimize_clauses = true;
  o.table = "t_$tag";
  auto sink = MustCreate(o, *registry);
  TestSnapshot snap(*registry, {"tag", "label"}, false);
  FlowRecord* r = snap.Add("10.0.0.1", "10.0.0.2", 6, 1, 10);
  r->tag = 7;
  r->fields.set(FlowField::kTag);
  const std::string evil = "x'); DROP TABLE \"t_7\"; --";
  r->label = snap.batch_.StoreBytes(evil);
  r->fields.set(FlowField::kLabel);
  REQUIRE(sink->Write(snap).ok());
  REQUIRE(sink->Close().ok());
  CHECK(Query(o.db, "SELECT tag, label, packets FROM t_7") ==
        std::vector<std::string>{"7|" + evil + "|1"});
}

TEST_CASE("sql sink: a primitive the table version cannot hold fails Create",
          "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.table_version = 9;
  o.aggregate = {"src_host", "in_iface"};
  Result<std::unique_ptr<Sink>> sink = CreateSqlSink(o, registry.get());
  REQUIRE_FALSE(sink.ok());
  CHECK_THAT(sink.status().message(),
             Catch::Contains("'in_iface' has no column") &&
                 Catch::Contains("sql_optimize_clauses"));
  o.table_version = 5;
  o.aggregate = {"src_host", "src_as"};  // share ip_src before v6
  sink = CreateSqlSink(o, registry.get());
  REQUIRE_FALSE(sink.ok());
  CHECK_THAT(sink.status().message(), Catch::Contains("in one column"));
  o.aggregate = {"src_as", "dst_host"};  // fine: the ASN goes into ip_src
  CHECK(CreateSqlSink(o, registry.get()).ok());
}

TEST_CASE("sql sink: INSERT only, multi-row INSERTs", "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.dont_try_update = true;
  o.multi_values = 200;  // a few rows per statement
  o.table = "acct";
  auto sink = MustCreate(o, *registry);
  TestSnapshot snap(*registry, {"src_host", "dst_host"}, false);
  for (int i = 0; i < 50; ++i) {
    snap.Add(("10.0.1." + std::to_string(i)).c_str(), "10.0.0.1", 6, 1, 10);
  }
  REQUIRE(sink->Write(snap).ok());
  REQUIRE(sink->Close().ok());
  CHECK(Query(o.db, "SELECT COUNT(*), SUM(bytes) FROM acct") ==
        std::vector<std::string>{"50|500"});
}

TEST_CASE("sql writer: an envelope delivered twice is applied once", "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.optimize_clauses = true;
  o.table = "x";
  auto conn = internal::CreateSqliteConnection({.db = o.db});
  REQUIRE(conn.ok());
  internal::SqlWriter writer(o, std::move(conn).value(), "w1");
  SqlBatch batch;
  batch.columns = {{"k", SqlColumnRole::kKey}, {"bytes", SqlColumnRole::kAdd}};
  batch.rows = {{SqlValue::Text("a"), SqlValue::Int(5)}};
  Envelope e;
  e.destination = "x";
  e.key = "CREATE TABLE IF NOT EXISTS x (k TEXT, bytes BIGINT)";
  e.rows = 1;
  batch.Encode(&e.payload);
  e.seq = 1;
  REQUIRE(writer.Deliver(e).ok());
  REQUIRE(writer.Deliver(e).ok());  // the COMMIT's answer was "lost"
  CHECK(Query(o.db, "SELECT k, bytes FROM x") ==
        std::vector<std::string>{"a|5"});
  e.seq = 2;
  REQUIRE(writer.Deliver(e).ok());
  CHECK(Query(o.db, "SELECT k, bytes FROM x") ==
        std::vector<std::string>{"a|10"});
  CHECK(Query(o.db, "SELECT writer, seq FROM flowacct_delivery") ==
        std::vector<std::string>{"w1|2"});
  // Another writer's sequence numbers are its own.
  auto conn2 = internal::CreateSqliteConnection({.db = o.db});
  internal::SqlWriter other(o, std::move(conn2).value(), "w2");
  e.seq = 1;
  REQUIRE(other.Deliver(e).ok());
  CHECK(Query(o.db, "SELECT bytes FROM x") == std::vector<std::string>{"15"});
}

TEST_CASE("sql sink: a locked database spools, then everything arrives once",
          "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.optimize_clauses = true;
  o.table = "t";
  // Another process holds the write lock: every attempt is SQLITE_BUSY
  // after the busy timeout — kUnavailable, retried.
  sqlite3* locker = nullptr;
  REQUIRE(sqlite3_open(o.db.c_str(), &locker) == SQLITE_OK);
  REQUIRE(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  auto sink = MustCreate(o, *registry);
  for (int i = 0; i < 3; ++i) {
    TestSnapshot snap(*registry, {"src_host"}, false);
    snap.Add("10.0.0.1", "10.0.0.2", 6, 1, 100);
    REQUIRE(sink->Write(snap).ok());
  }
  // Wait (bounded) until the first attempt failed and the rows spooled.
  for (int i = 0; i < 400 && sink->stats().spooled_rows < 3; ++i) {
    usleep(25000);
  }
  SinkStats s = sink->stats();
  CHECK(s.spooled_rows == 3);
  CHECK_FALSE(s.backend_up);
  CHECK(s.retries >= 1);
  CHECK(std::distance(std::filesystem::directory_iterator(o.delivery.spool_dir),
                      {}) >= 3);
  sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(locker);
  REQUIRE(sink->Close().ok());
  s = sink->stats();
  CHECK(s.delivered_rows == 3);
  CHECK(s.pending_rows == 0);
  CHECK(s.dropped_rows == 0);
  CHECK(Query(o.db, "SELECT packets, bytes FROM t") ==
        std::vector<std::string>{"3|300"});
}

TEST_CASE("sql sink: rows left in the spool are delivered by the next process",
          "[sql]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TempDir dir;
  SqlSinkOptions o = Options(dir);
  o.optimize_clauses = true;
  o.table = "t";
  o.delivery.close_timeout_ms = 300;
  sqlite3* locker = nullptr;
  REQUIRE(sqlite3_open(o.db.c_str(), &locker) == SQLITE_OK);
  REQUIRE(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  {
    auto sink = MustCreate(o, *registry);
    TestSnapshot snap(*registry, {"src_host"}, false);
    snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 20);
    REQUIRE(sink->Write(snap).ok());
    Status closed = sink->Close();  // the database stays locked
    CHECK(closed.code() == StatusCode::kUnavailable);
    CHECK(sink->stats().pending_rows == 1);
  }
  sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(locker);
  auto sink = MustCreate(o, *registry);  // same spool: delivers it
  REQUIRE(sink->Close().ok());
  CHECK(sink->stats().delivered_rows == 1);
  CHECK(Query(o.db, "SELECT packets, bytes FROM t") ==
        std::vector<std::string>{"2|20"});
}

TEST_CASE("sql sink: FromConfig names file:line for unsupported keys", "[sql]") {
  PluginConfig p;
  p.type = "sqlite3";
  p.name = "x";
  p.raw.push_back({"sql_table_version", "12", {"a.conf", 4}});
  DaemonConfig d;
  Result<SqlSinkOptions> o = SqlSinkOptions::FromConfig(p, d);
  REQUIRE_FALSE(o.ok());
  CHECK_THAT(o.status().message(),
             Catch::StartsWith("a.conf:4: sql_table_version:"));
  p.raw = {{"sql_preprocess", "minp=10", {"a.conf", 7}}};
  o = SqlSinkOptions::FromConfig(p, d);
  REQUIRE_FALSE(o.ok());
  CHECK(o.status().message() ==
        "a.conf:7: key 'sql_preprocess' is not supported by flowacctd");
  p.raw = {{"sql_db", "/x/y.db", {"a.conf", 1}},
           {"sql_table", "acct_v9", {"a.conf", 2}},
           {"sql_table_version", "9", {"a.conf", 3}},
           {"sql_dont_try_update", "true", {"a.conf", 4}},
           {"flowacct_sql_delivery_table", "none", {"a.conf", 5}}};
  o = SqlSinkOptions::FromConfig(p, d);
  REQUIRE(o.ok());
  CHECK(o->db == "/x/y.db");
  CHECK(o->table == "acct_v9");
  CHECK(o->table_version == 9);
  CHECK(o->dont_try_update);
  CHECK(o->delivery_table.empty());
  p.type = "mysql";
  p.raw = {{"sql_use_copy", "true", {"a.conf", 1}}};
  CHECK_FALSE(SqlSinkOptions::FromConfig(p, d).ok());
}

TEST_CASE("sql batch: encoding round-trips; malformed input is rejected",
          "[sql]") {
  SqlBatch b;
  b.columns = {{"ip_src", SqlColumnRole::kKey},
               {"packets", SqlColumnRole::kAdd},
               {"tcp_flags", SqlColumnRole::kOr},
               {"stamp_updated", SqlColumnRole::kSet}};
  b.rows = {{SqlValue::Text("10.0.0.1"), SqlValue::Int(-5),
             SqlValue::Int(INT64_MAX), SqlValue::Null()},
            {SqlValue::Text(std::string("a\0b", 3)), SqlValue::Int(0),
             SqlValue::Int(INT64_MIN), SqlValue::Text("")}};
  std::string bytes;
  b.Encode(&bytes);
  Result<SqlBatch> d = SqlBatch::Decode(bytes);
  REQUIRE(d.ok());
  CHECK(d->columns == b.columns);
  CHECK(d->rows == b.rows);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_FALSE(SqlBatch::Decode(std::string_view(bytes).substr(0, cut)).ok());
  }
  std::string huge = "FSB1";
  huge += '\x01';  // one column
  huge += '\x00';
  huge += '\x01';
  huge += 'k';
  huge += "\xff\xff\xff\xff\x0f";  // 4 G rows claimed, none present
  CHECK_FALSE(SqlBatch::Decode(huge).ok());
}

TEST_CASE("sql: schema files split into statements", "[sql]") {
  using internal::SplitSqlStatements;
  CHECK(SplitSqlStatements("CREATE TABLE a (x INT);\n-- c; d\n"
                           "INSERT INTO a VALUES (';');  ;") ==
        std::vector<std::string>{"CREATE TABLE a (x INT)",
                                 "INSERT INTO a VALUES (';')"});
}

}  // namespace
}  // namespace flowacct
