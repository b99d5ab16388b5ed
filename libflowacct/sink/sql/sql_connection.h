// SqlConnection: the little the SQL sink needs from a database client
// library — connect, run a statement with parameters, report affected rows,
// bulk-load — with errors classified so the delivery queue knows whether to
// retry. One implementation per backend: sqlite3 (libsqlite3), mysql
// (libmariadb), pgsql (libpq). Private to libflowacct.
//
// Statements are written by the SQL writer (sql_writer.h) with `?` for every
// parameter; a backend that numbers its parameters (libpq: $1, $2...)
// rewrites them. Values from the wire only ever reach the database as
// parameters or through the client library's own escaping, never pasted
// into SQL text.
//
// Error classes (the whole point of this interface):
//   kUnavailable      the server cannot be reached, the connection broke,
//                     the database is locked/busy, a deadlock or
//                     serialization failure: retry later (the connection
//                     is closed; the next call reconnects)
//   kInvalidArgument  the statement is wrong for this table (syntax, unknown
//                     column, constraint violation, bad value): retrying
//                     cannot help
//   kIoError          anything else from the client library
//
// Thread-safety: one thread at a time (the delivery thread).

#ifndef FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_CONNECTION_H_
#define FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/status.h"

namespace flowacct::internal {

enum class SqlDialect : uint8_t { kSqlite, kMysql, kPgsql };

// A statement parameter: NULL, an integer or text.
struct SqlValue {
  enum class Type : uint8_t { kNull, kInt, kText };
  Type type = Type::kNull;
  int64_t i = 0;
  std::string text;

  static SqlValue Null() { return SqlValue(); }
  static SqlValue Int(int64_t v) {
    SqlValue s;
    s.type = Type::kInt;
    s.i = v;
    return s;
  }
  static SqlValue Text(std::string v) {
    SqlValue s;
    s.type = Type::kText;
    s.text = std::move(v);
    return s;
  }
  friend bool operator==(const SqlValue&, const SqlValue&) = default;
};

// Where to connect (pmacct's sql_* keys).
struct SqlConnectionOptions {
  // sqlite3: the database file (sql_db). mysql/pgsql: the database name.
  std::string db;
  std::string host = "127.0.0.1";  // mysql/pgsql; a path = unix socket dir
  uint16_t port = 0;               // 0: the backend's default (3306, 5432)
  std::string user = "pmacct";
  std::string password = "arealsmartpwd";
  int connect_timeout_seconds = 5;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  virtual SqlDialect dialect() const = 0;

  // Connects unless connected. kUnavailable when the server cannot be
  // reached or refuses the login (a wrong password is kUnavailable too: the
  // operator may fix it while rows wait in the spool).
  virtual Status Connect() = 0;
  virtual bool connected() const = 0;
  virtual void Disconnect() = 0;

  // Runs one statement without parameters (DDL, BEGIN, COMMIT, ROLLBACK).
  virtual Status Execute(const std::string& sql) = 0;

  // Runs one statement with `?` placeholders bound to `params` in order,
  // and returns the number of rows it changed — for UPDATE, the rows it
  // matched (mysql connects with CLIENT_FOUND_ROWS), so an UPDATE that adds
  // 0 to a row still counts it. Implementations cache prepared statements by
  // SQL text.
  virtual Result<uint64_t> ExecuteParams(const std::string& sql,
                                         std::span<const SqlValue> params) = 0;

  // Bulk insert of `rows` (each columns.size() values) into `table`
  // (already quoted; `columns` are plain names, quoted by Copy) — pgsql COPY
  // FROM STDIN (sql_use_copy). Others: kUnimplemented.
  virtual Status Copy(const std::string& table,
                      const std::vector<std::string>& columns,
                      const std::vector<std::vector<SqlValue>>& rows) {
    (void)table;
    (void)columns;
    (void)rows;
    return UnimplementedError("COPY is a PostgreSQL feature");
  }

  // An identifier quoted for this dialect: "name" (sqlite3, pgsql),
  // `name` (mysql); embedded quote characters doubled.
  virtual std::string QuoteIdentifier(std::string_view name) const = 0;
};

// `name` between `quote` characters, each `quote` inside it doubled: the
// standard SQL way ("..." for sqlite3 and pgsql, `...` for mysql).
inline std::string QuoteSqlIdentifier(std::string_view name, char quote) {
  std::string out(1, quote);
  for (char c : name) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

// Factories; kUnimplemented when flowacct was built without that client
// library.
Result<std::unique_ptr<SqlConnection>> CreateSqliteConnection(
    const SqlConnectionOptions& options);
Result<std::unique_ptr<SqlConnection>> CreateMysqlConnection(
    const SqlConnectionOptions& options);
Result<std::unique_ptr<SqlConnection>> CreatePgsqlConnection(
    const SqlConnectionOptions& options);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_CONNECTION_H_
