#include "flowacct/sink/sql_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <utility>
#include <vector>

#include "libflowacct/config/config_text.h"
#include "libflowacct/sink/delivery_queue.h"
#include "libflowacct/sink/file_util.h"
#include "libflowacct/sink/name_template.h"
#include "libflowacct/sink/sink_counters.h"
#include "libflowacct/sink/sql/sql_batch.h"
#include "libflowacct/sink/sql/sql_connection.h"
#include "libflowacct/sink/sql/sql_layout.h"
#include "libflowacct/sink/sql/sql_writer.h"

namespace flowacct {
namespace {

using internal::Envelope;
using internal::NameTemplate;
using internal::SqlBatch;
using internal::SqlConnection;
using internal::SqlDialect;
using internal::SqlLayout;
using internal::SqlValue;

SqlDialect DialectOf(SqlBackend b) {
  switch (b) {
    case SqlBackend::kSqlite3: return SqlDialect::kSqlite;
    case SqlBackend::kMysql: return SqlDialect::kMysql;
    case SqlBackend::kPgsql: return SqlDialect::kPgsql;
  }
  return SqlDialect::kSqlite;
}

const char* TypeName(SqlBackend b) {
  switch (b) {
    case SqlBackend::kSqlite3: return "sqlite3";
    case SqlBackend::kMysql: return "mysql";
    case SqlBackend::kPgsql: return "pgsql";
  }
  return "sql";
}

Result<std::unique_ptr<SqlConnection>> NewConnection(
    const SqlSinkOptions& o) {
  internal::SqlConnectionOptions c;
  c.db = o.db;
  c.host = o.host;
  c.port = o.port;
  c.user = o.user;
  c.password = o.password;
  switch (o.backend) {
    case SqlBackend::kSqlite3: return internal::CreateSqliteConnection(c);
    case SqlBackend::kMysql: return internal::CreateMysqlConnection(c);
    case SqlBackend::kPgsql: return internal::CreatePgsqlConnection(c);
  }
  return InvalidArgumentError("unknown SQL backend");
}

// The writer id of the exactly-once delivery table. Sequence numbers restart
// when a process starts on an empty spool, so the id must change then;
// when the spool still holds envelopes from an earlier process, it must stay
// (one of them may have been committed just before that process died, and
// the same id and sequence number tell the writer so). Kept in the spool
// directory.
Result<std::string> WriterId(const SqlSinkOptions& o) {
  std::random_device rd;
  char rnd[17];
  snprintf(rnd, sizeof rnd, "%08x%08x", rd(), rd());
  std::string fresh = o.name + ":" + rnd;
  if (o.delivery.spool_dir.empty()) return fresh;
  if (Status s = internal::MakeDirs(o.delivery.spool_dir); !s.ok()) return s;
  const std::string path = o.delivery.spool_dir + "/writer_id";
  bool spooled = false;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(o.delivery.spool_dir, ec)) {
    spooled |= e.path().extension() == ".env";
  }
  std::ifstream in(path);
  std::string id;
  if (spooled && in && std::getline(in, id) && !id.empty()) return id;
  if (Status s = internal::ReplaceFile(path, fresh + "\n"); !s.ok()) return s;
  return fresh;
}

class SqlSink : public Sink {
 public:
  SqlSink(const SqlSinkOptions& options, const PrimitiveRegistry* registry,
          std::unique_ptr<SqlConnection> quoting, std::string schema_text)
      : options_(options),
        registry_(registry),
        type_(TypeName(options.backend)),
        quoting_(std::move(quoting)),
        table_(options.table, "sql_table", options.timestamps_utc,
               Constants(options)),
        schema_(std::move(schema_text), "sql_table_schema",
                options.timestamps_utc, Constants(options)) {}

  ~SqlSink() override { (void)Close(); }

  Status Start(std::unique_ptr<internal::DeliveryBackend> backend) {
    Result<std::unique_ptr<internal::DeliveryQueue>> q =
        internal::DeliveryQueue::Create(type_ + "[" + options_.name + "]",
                                        options_.delivery, std::move(backend));
    if (!q.ok()) return q.status();
    queue_ = std::move(q).value();
    return Status::Ok();
  }

  const std::string& type() const override { return type_; }
  const std::string& name() const override { return options_.name; }

  static internal::NameConstants Constants(const SqlSinkOptions& o) {
    return {o.post_tag, o.post_tag2, o.refresh_seconds, o.history_seconds};
  }

  Status Write(const Snapshot& snapshot) override {
    Status s = WriteSnapshot(snapshot);
    if (!s.ok()) counters_.Failed(snapshot.size());
    return s;
  }

  Status Close() override {
    if (queue_ == nullptr) return Status::Ok();
    return queue_->Close();
  }

  SinkStats stats() const override {
    SinkStats s = counters_.Get();
    if (queue_ != nullptr) queue_->FillStats(&s);
    return s;
  }

 private:
  Status WriteSnapshot(const Snapshot& snapshot) {
    if (snapshot.size() == 0) return Status::Ok();
    if (!layout_ || primitives_ != snapshot.primitives() ||
        bins_ != snapshot.has_time_bins()) {
      primitives_ = snapshot.primitives();
      bins_ = snapshot.has_time_bins();
      Result<SqlLayout> layout =
          SqlLayout::Create(options_, DialectOf(options_.backend), primitives_,
                            bins_, *registry_);
      if (!layout.ok()) return layout.status();
      layout_ = std::make_unique<SqlLayout>(std::move(layout).value());
    }
    // Rows grouped by rendered table (one per time bin with a dynamic
    // name), each group one envelope.
    struct Group {
      SqlBatch batch;
      std::string create;
    };
    std::map<std::string, Group> groups;
    AggregateRow row;
    std::vector<SqlValue> values;
    const bool per_row = bins_ || table_.has_variables();
    std::string single;
    for (size_t i = 0; i < snapshot.size(); ++i) {
      snapshot.Get(i, &row);
      std::string table;
      if (!per_row && !single.empty()) {
        table = single;
      } else {
        const int64_t t = bins_ ? row.stamp_inserted : snapshot.flush_time();
        Result<std::string> name = table_.Render(t, &row.record);
        if (!name.ok()) return name.status();
        table = std::move(name).value();
        if (!per_row) single = table;
      }
      auto [it, fresh] = groups.try_emplace(table);
      Group& g = it->second;
      if (fresh) {
        g.batch.columns = layout_->BatchColumns();
        if (!options_.table_schema.empty()) {
          const int64_t t = bins_ ? row.stamp_inserted : snapshot.flush_time();
          Result<std::string> ddl = schema_.Render(t, &row.record);
          if (!ddl.ok()) return ddl.status();
          g.create = std::move(ddl).value();
        } else if (options_.create_tables) {
          g.create = layout_->CreateTableSql(quoting_->QuoteIdentifier(table),
                                             *quoting_);
        }
      }
      layout_->RowValues(row, snapshot.arena(), snapshot.flush_time(),
                         &values);
      g.batch.rows.push_back(values);
    }
    size_t rows = 0;
    for (auto& [table, g] : groups) {
      Envelope e;
      e.destination = table;
      e.key = std::move(g.create);
      e.rows = g.batch.rows.size();
      g.batch.Encode(&e.payload);
      // A dropped envelope is counted by the queue (dropped_rows).
      (void)queue_->Push(std::move(e));
      rows += g.batch.rows.size();
    }
    counters_.Written(rows);
    return Status::Ok();
  }

  SqlSinkOptions options_;
  const PrimitiveRegistry* registry_;
  std::string type_;
  std::unique_ptr<SqlConnection> quoting_;  // never connected
  NameTemplate table_;
  NameTemplate schema_;
  std::vector<PrimitiveId> primitives_;
  bool bins_ = false;
  std::unique_ptr<SqlLayout> layout_;
  std::unique_ptr<internal::DeliveryQueue> queue_;
  internal::SinkCounters counters_;
};

Status ParseKey(const PluginConfig::RawKey& k, SqlSinkOptions* o) {
  using internal::ParseBool;
  using internal::ParseUint32;
  const std::string& v = k.value;
  auto set_bool = [&](bool* out) -> Status {
    Result<bool> b = ParseBool(v);
    if (!b.ok()) return b.status();
    *out = *b;
    return Status::Ok();
  };
  if (k.key == "sql_db") {
    o->db = v;
  } else if (k.key == "sql_table") {
    o->table = v;
  } else if (k.key == "sql_table_version") {
    Result<uint32_t> n = ParseUint32(v, 1, 9);
    if (!n.ok()) return n.status();
    o->table_version = *n;
  } else if (k.key == "sql_table_type") {
    const std::string t = internal::ToLower(v);
    if (t != "original" && t != "bgp") {
      return InvalidArgumentError("expected original or bgp, got '" + v + "'");
    }
    o->table_type_bgp = t == "bgp";
  } else if (k.key == "sql_table_schema") {
    o->table_schema = v;
  } else if (k.key == "sql_optimize_clauses") {
    return set_bool(&o->optimize_clauses);
  } else if (k.key == "sql_dont_try_update") {
    return set_bool(&o->dont_try_update);
  } else if (k.key == "sql_multi_values") {
    Result<uint32_t> n = ParseUint32(v, 0, UINT32_MAX);
    if (!n.ok()) return n.status();
    o->multi_values = *n;
  } else if (k.key == "sql_use_copy") {
    return set_bool(&o->use_copy);
  } else if (k.key == "sql_host") {
    o->host = v;
  } else if (k.key == "sql_port") {
    Result<uint32_t> n = ParseUint32(v, 1, 65535);
    if (!n.ok()) return n.status();
    o->port = static_cast<uint16_t>(*n);
  } else if (k.key == "sql_user") {
    o->user = v;
  } else if (k.key == "sql_passwd") {
    o->password = v;
  } else if (k.key == "sql_locking_style" || k.key == "sql_max_writers") {
    // One writer thread per plugin, one transaction per table and flush:
    // pmacct's table/row locking choices have nothing to tune here.
  } else if (k.key == "flowacct_sql_create_tables") {
    return set_bool(&o->create_tables);
  } else if (k.key == "flowacct_sql_delivery_table") {
    o->delivery_table = v == "none" ? "" : v;
  } else if (k.key.starts_with("sql_") &&
             k.key != "sql_refresh_time" && k.key != "sql_history" &&
             k.key != "sql_history_roundoff" && k.key != "sql_cache_entries" &&
             k.key != "sql_num_protos") {
    return InvalidArgumentError("key '" + k.key +
                                "' is not supported by flowacctd");
  }
  return Status::Ok();
}

}  // namespace

Result<SqlSinkOptions> SqlSinkOptions::FromConfig(const PluginConfig& plugin,
                                                  const DaemonConfig& daemon) {
  SqlSinkOptions o;
  if (plugin.type == "sqlite3") {
    o.backend = SqlBackend::kSqlite3;
    o.db = "/tmp/pmacct.db";
  } else if (plugin.type == "mysql") {
    o.backend = SqlBackend::kMysql;
    o.db = "pmacct";
  } else if (plugin.type == "pgsql") {
    o.backend = SqlBackend::kPgsql;
    o.db = "pmacct";
  } else {
    return InvalidArgumentError("plugin type '" + plugin.type +
                                "' is not an SQL plugin");
  }
  o.name = plugin.name;
  for (const PluginConfig::RawKey& k : plugin.raw) {
    Status s = ParseKey(k, &o);
    if (!s.ok()) {
      std::string msg = s.message();
      if (!msg.starts_with("key '")) msg = k.key + ": " + msg;
      return InvalidArgumentError(k.source.ToString() + ": " + msg);
    }
  }
  o.num_protos = plugin.num_protos;
  o.aggregate = plugin.aggregate;
  o.refresh_seconds = plugin.refresh_time;
  o.history_seconds = internal::HistoryNameSeconds(plugin.history);
  o.timestamps_utc = daemon.timestamps_utc;
  o.timestamps_since_epoch = daemon.timestamps_since_epoch;
  Result<DeliveryOptions> d = DeliveryOptions::FromConfig(plugin);
  if (!d.ok()) return d.status();
  o.delivery = std::move(d).value();
  if (o.use_copy && o.backend != SqlBackend::kPgsql) {
    return InvalidArgumentError("sql_use_copy[" + o.name +
                                "]: COPY is a pgsql feature");
  }
  if (o.use_copy && !o.dont_try_update) {
    return InvalidArgumentError("sql_use_copy[" + o.name +
                                "] needs sql_dont_try_update: true (COPY only "
                                "inserts)");
  }
  return o;
}

Result<std::unique_ptr<Sink>> CreateSqlSink(
    const SqlSinkOptions& options, const PrimitiveRegistry* registry) {
  if (registry == nullptr) return InvalidArgumentError("no primitive registry");
  if (options.name.empty()) return InvalidArgumentError("empty plugin name");
  if (options.table.empty()) return InvalidArgumentError("empty sql_table");
  std::string schema;
  if (!options.table_schema.empty()) {
    std::ifstream in(options.table_schema);
    if (!in) {
      return InvalidArgumentError("sql_table_schema: cannot read '" +
                                  options.table_schema + "'");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    schema = ss.str();
  }
  if (!options.aggregate.empty()) {
    std::vector<PrimitiveId> ids;
    for (const std::string& name : options.aggregate) {
      const PrimitiveInfo* p = registry->Find(internal::ToLower(name));
      if (p == nullptr) {
        return InvalidArgumentError("unknown primitive '" + name + "'");
      }
      ids.push_back(p->id);
    }
    Result<SqlLayout> layout = SqlLayout::Create(
        options, DialectOf(options.backend), ids, true, *registry);
    if (!layout.ok()) return layout.status();
  }
  Result<std::unique_ptr<SqlConnection>> quoting = NewConnection(options);
  if (!quoting.ok()) return quoting.status();
  Result<std::unique_ptr<SqlConnection>> db = NewConnection(options);
  if (!db.ok()) return db.status();
  Result<std::string> writer = WriterId(options);
  if (!writer.ok()) return writer.status();
  auto sink = std::make_unique<SqlSink>(options, registry,
                                        std::move(quoting).value(), schema);
  Status s = sink->Start(std::make_unique<internal::SqlWriter>(
      options, std::move(db).value(), std::move(writer).value()));
  if (!s.ok()) return s;
  return std::unique_ptr<Sink>(std::move(sink));
}

}  // namespace flowacct
