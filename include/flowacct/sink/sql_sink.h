// File: flowacct/sink/sql_sink.h
//
// The SQL sinks (pmacct's `sqlite3`, `mysql` and `pgsql` plugins): every
// aggregate of a snapshot becomes a row of a table, with pmacct's column
// names, schemas and write semantics (pmacct.md §1(b), §6.3), so the
// queries and reports written for pmacct's tables run unchanged.
//
//   Result<SqlSinkOptions> o = SqlSinkOptions::FromConfig(plugin, daemon);
//   Result<std::unique_ptr<Sink>> sink = CreateSqlSink(*o, registry);
//   (*sink)->Write(*snapshot);   // queued; delivered by the sink's thread
//
// Tables
// - `table` is a template like print_output_file's: strftime conversions
//   rendered with the row's time bin (stamp_inserted) when the view has
//   time bins, else with the flush time (local time unless timestamps_utc),
//   then $peer_src_ip, $tag, $tag2, $post_tag, $post_tag2 replaced by the
//   row's value reduced to [A-Za-z0-9_-], and $ref, $hst, $tzone as in
//   pmacct. So `tm-%Y%m%d_%H%M` gives one
//   table per 5-minute bin. Table names are always quoted as identifiers.
// - Columns. Without optimize_clauses, the columns of pmacct's table
//   version `table_version` (1..9; `table_type` bgp: pmacct's acct_bgp
//   layout), every column filled: primitives not aggregated get pmacct's
//   neutral values (0, '0.0.0.0', '0:0:0:0:0:0', class_id 'unknown'). A
//   primitive the version has no column for is kInvalidArgument at
//   Create() (use optimize_clauses). With optimize_clauses, exactly the
//   view's primitives (their SQL column names, docs/primitives.md), then
//   packets, bytes, [flows,] and stamp_inserted, stamp_updated when the view
//   has time bins.
// - Creation. When a rendered table is first used, `table_schema` (a file
//   of SQL statements; strftime and $ variables substituted like the table
//   name, pmacct's sql_table_schema) is run if set; otherwise, unless
//   create_tables is false, flowacct runs CREATE TABLE IF NOT EXISTS with
//   the columns above, pmacct's types for the backend and a primary key of
//   every key column plus stamp_inserted.
//
// Writes (per envelope = the rows of one snapshot for one table, in one
// transaction)
// - Default (pmacct): UPDATE t SET packets=packets+?, bytes=bytes+?,
//   [flows=flows+?,] stamp_updated=? WHERE <every key column>=? [AND
//   stamp_inserted=?]; when it matched no row, INSERT. So a bin written by
//   two flushes (or two daemons) adds up.
// - dont_try_update: INSERT only; multi_values > 0 (mysql, sqlite3): rows
//   grouped into multi-row INSERTs of at most that many bytes of SQL;
//   use_copy (pgsql): COPY FROM STDIN.
// - Exactly once: unless delivery_table is empty, the transaction also
//   records (writer, envelope sequence number) in that table
//   (default "flowacct_delivery", created automatically), and an envelope
//   whose record is already there is not applied again. A batch whose COMMIT
//   was sent just before the connection broke is retried without being
//   counted twice.
// - Stamps: stamp_inserted is the bin start, stamp_updated the flush time,
//   as 'YYYY-MM-DD HH:MM:SS' in local time (UTC with timestamps_utc), or
//   epoch seconds (integers) with timestamps_since_epoch. Without time bins
//   pmacct writes neither; nor does flowacct (the columns keep their
//   defaults).
// - Values: addresses and MACs as text (pgsql inet/macaddr accept it),
//   ip_proto as a name ('tcp') for mysql/sqlite3 and a number for pgsql, or
//   numbers everywhere with num_protos (pmacct: sql_num_protos). Every value
//   is a bound parameter or escaped by the client library.
//
// Delivery: snapshots never wait for the database; see
// flowacct/sink/delivery.h (queue, spool, retries, counters in SinkStats).
//
// Thread-safety: as Sink.

#ifndef FLOWACCT_SINK_SQL_SINK_H_
#define FLOWACCT_SINK_SQL_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/config/daemon_config.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/delivery.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

namespace flowacct {

enum class SqlBackend : uint8_t { kSqlite3, kMysql, kPgsql };

struct SqlSinkOptions {
  SqlBackend backend = SqlBackend::kSqlite3;
  std::string name = "default";  // plugin name; the writer id of markers

  // Connection (pmacct defaults). sqlite3: `db` is the database file
  // (default /tmp/pmacct.db). mysql/pgsql: the database name (pmacct).
  std::string db;
  std::string host = "127.0.0.1";  // sql_host; a path: unix socket dir
  uint16_t port = 0;               // sql_port; 0: 3306 / 5432
  std::string user = "pmacct";
  std::string password = "arealsmartpwd";

  // Tables.
  std::string table = "acct";  // sql_table (template)
  uint32_t table_version = 1;  // sql_table_version 1..9
  bool table_type_bgp = false;  // sql_table_type: bgp
  std::string table_schema;     // sql_table_schema file; empty: none
  bool optimize_clauses = false;  // sql_optimize_clauses
  bool create_tables = true;      // flowacct_sql_create_tables

  // Writes.
  bool dont_try_update = false;  // sql_dont_try_update
  uint32_t multi_values = 0;     // sql_multi_values (bytes); 0: off
  bool use_copy = false;         // sql_use_copy (pgsql)
  std::string delivery_table = "flowacct_delivery";  // "" disables

  // Values (daemon-wide timestamps_* keys, sql_num_protos).
  bool num_protos = false;
  bool timestamps_utc = false;
  bool timestamps_since_epoch = false;
  uint64_t post_tag = 0;
  uint64_t post_tag2 = 0;
  uint64_t refresh_seconds = 0;  // $ref in sql_table
  uint64_t history_seconds = 0;  // $hst in sql_table

  DeliveryOptions delivery;

  // The view's aggregate primitive names (plugin aggregate), checked against
  // the table layout at CreateSqlSink so a primitive the table version
  // cannot hold fails at startup. Empty: checked at the first Write().
  std::vector<std::string> aggregate;

  // From a plugin's config (sql_* and flowacct_* keys; plugin.type picks the
  // backend) and the daemon-wide keys. A bad value, or a sql_* key flowacct
  // does not implement, is kInvalidArgument naming file:line.
  static Result<SqlSinkOptions> FromConfig(const PluginConfig& plugin,
                                           const DaemonConfig& daemon);
};

// Creates an SQL sink and starts its delivery thread. `registry` is
// borrowed and must outlive the sink. kInvalidArgument for bad options (a
// primitive the table version cannot hold, an unreadable table_schema),
// kUnimplemented when flowacct was built without the backend's client
// library, kIoError when the spool directory cannot be used. The database
// is not contacted here: a server that is down delays rows, never startup.
Result<std::unique_ptr<Sink>> CreateSqlSink(const SqlSinkOptions& options,
                                            const PrimitiveRegistry* registry);

}  // namespace flowacct

#endif  // FLOWACCT_SINK_SQL_SINK_H_
