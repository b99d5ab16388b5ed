// SqlLayout: which columns a view's rows fill in an SQL table, where each
// value comes from, and the CREATE TABLE for them (pmacct.md §6.3).
// Private to libflowacct.
//
// Two shapes, as pmacct:
// - optimize_clauses: exactly the view's primitives (registry SQL column
//   names, in the view's order), then packets, bytes, [flows], and the
//   stamps when the view has time bins.
// - otherwise: the columns of pmacct's table version 1..9 (or its acct_bgp
//   layout), the ones the view does not aggregate filled with pmacct's
//   neutral values ('0:0:0:0:0:0', '0.0.0.0', 0, class_id 'unknown').
//
// Thread-safety: immutable after Create; const methods may run
// concurrently.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_LAYOUT_H_
#define FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/sql_sink.h"
#include "flowacct/status.h"
#include "libflowacct/sink/sql/sql_batch.h"
#include "libflowacct/sink/sql/sql_connection.h"

namespace flowacct::internal {

// The kind of value a column holds, for its SQL type and neutral value.
enum class SqlColumnKind : uint8_t {
  kInt,        // unsigned integers (ports, ASNs, tags, tcp_flags...)
  kIp,         // address text
  kMac,        // MAC text
  kProto,      // ip_proto: a name (mysql/sqlite3) or a number (pgsql)
  kText,       // strings, as_path, communities, hex, RDs
  kTimestamp,  // timestamp_* primitives
  kCounter,    // packets, bytes, flows
  kStamp,      // stamp_inserted, stamp_updated
};

struct SqlColumnSpec {
  enum class Source : uint8_t {
    kPrimitive,  // the view's primitive `primitive`
    kNeutral,    // not aggregated: pmacct's neutral value
    kPackets,
    kBytes,
    kFlows,
    kStampInserted,
    kStampUpdated,
  };
  std::string name;
  SqlColumnRole role = SqlColumnRole::kKey;
  SqlColumnKind kind = SqlColumnKind::kInt;
  Source source = Source::kNeutral;
  PrimitiveId primitive = 0;
  bool integer_value = false;  // custom u_int and built-in numbers
  bool class_id = false;       // neutral value 'unknown'
};

class SqlLayout {
 public:
  // kInvalidArgument naming the primitive when the table version has no
  // column for it (use sql_optimize_clauses), or when a v1-v5 table is asked
  // to hold both src_host and src_as (they share ip_src there).
  static Result<SqlLayout> Create(const SqlSinkOptions& options,
                                  SqlDialect dialect,
                                  const std::vector<PrimitiveId>& primitives,
                                  bool has_time_bins,
                                  const PrimitiveRegistry& registry);

  const std::vector<SqlColumnSpec>& columns() const { return columns_; }
  std::vector<SqlColumn> BatchColumns() const;

  // CREATE TABLE IF NOT EXISTS <table> (...) with pmacct's types for the
  // dialect and a primary key of every key column (mysql: only when it fits
  // InnoDB's 3072-byte key limit). `table` is already quoted.
  std::string CreateTableSql(const std::string& quoted_table,
                             const SqlConnection& quoting) const;

  // The values of one aggregate, in columns() order.
  void RowValues(const AggregateRow& row, const RecordBatch& arena,
                 int64_t stamp_updated, std::vector<SqlValue>* out) const;

 private:
  SqlLayout(const SqlSinkOptions& options, SqlDialect dialect,
            const PrimitiveRegistry& registry)
      : dialect_(dialect),
        registry_(&registry),
        num_protos_(options.num_protos),
        utc_(options.timestamps_utc),
        since_epoch_(options.timestamps_since_epoch) {}

  SqlValue Stamp(int64_t ns) const;
  SqlValue Neutral(const SqlColumnSpec& c) const;
  std::string SqlType(const SqlColumnSpec& c) const;

  SqlDialect dialect_;
  const PrimitiveRegistry* registry_;
  bool num_protos_;
  bool utc_;
  bool since_epoch_;
  std::vector<SqlColumnSpec> columns_;
  // Columns of pmacct's fixed tables this view does not write (flows,
  // stamps): in CREATE TABLE only, so the table equals pmacct's.
  std::vector<SqlColumnSpec> ddl_only_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_LAYOUT_H_
