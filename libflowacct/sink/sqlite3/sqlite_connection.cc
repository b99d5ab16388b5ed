// SqlConnection over libsqlite3 (the sqlite3 plugin; the embedded default).

#include <sqlite3.h>

#include <map>
#include <string>
#include <utility>

#include "libflowacct/sink/sql/sql_connection.h"

namespace flowacct::internal {
namespace {

// How long a writer waits for a lock held by a reader or another writer
// before the attempt counts as unavailable (and is retried later).
constexpr int kBusyTimeoutMs = 5000;

// SQLITE_BUSY / LOCKED (another process holds the database), I/O errors,
// a full disk, a file that cannot be opened: all may clear up, so retry.
bool Transient(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
      return true;
    default:
      return false;
  }
}

class SqliteConnection : public SqlConnection {
 public:
  explicit SqliteConnection(SqlConnectionOptions options)
      : options_(std::move(options)) {}
  ~SqliteConnection() override { Disconnect(); }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Status Connect() override {
    if (db_ != nullptr) return Status::Ok();
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(options_.db.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      return UnavailableError("sqlite3: cannot open '" + options_.db +
                              "': " + msg);
    }
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    db_ = db;
    return Status::Ok();
  }

  bool connected() const override { return db_ != nullptr; }

  void Disconnect() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = nullptr;
  }

  Status Execute(const std::string& sql) override {
    if (Status s = Connect(); !s.ok()) return s;
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Error(rc, msg, sql);
  }

  Result<uint64_t> ExecuteParams(const std::string& sql,
                                 std::span<const SqlValue> params) override {
    if (Status s = Connect(); !s.ok()) return s;
    sqlite3_stmt* stmt = nullptr;
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v2(db_, sql.c_str(),
                                  static_cast<int>(sql.size()), &stmt,
                                  nullptr);
      if (rc != SQLITE_OK) return Error(rc, sqlite3_errmsg(db_), sql);
      // Statements for a one-off multi-row INSERT are not worth keeping.
      if (statements_.size() < 256) statements_.emplace(sql, stmt);
    }
    struct Reset {
      sqlite3_stmt* s;
      bool owned;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        if (owned) sqlite3_finalize(s);
      }
    } reset{stmt, statements_.count(sql) == 0};
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) !=
        params.size()) {
      return InvalidArgumentError("sqlite3: statement takes " +
                                  std::to_string(sqlite3_bind_parameter_count(
                                      stmt)) +
                                  " parameters, got " +
                                  std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int idx = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      switch (v.type) {
        case SqlValue::Type::kNull:
          rc = sqlite3_bind_null(stmt, idx);
          break;
        case SqlValue::Type::kInt:
          rc = sqlite3_bind_int64(stmt, idx, v.i);
          break;
        case SqlValue::Type::kText:
          rc = sqlite3_bind_text(stmt, idx, v.text.data(),
                                 static_cast<int>(v.text.size()),
                                 SQLITE_TRANSIENT);
          break;
      }
      if (rc != SQLITE_OK) return Error(rc, sqlite3_errmsg(db_), sql);
    }
    int rc = sqlite3_step(stmt);
    while (rc == SQLITE_ROW) rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return Error(rc, sqlite3_errmsg(db_), sql);
    return static_cast<uint64_t>(sqlite3_changes(db_));
  }

  std::string QuoteIdentifier(std::string_view name) const override {
    return QuoteSqlIdentifier(name, '"');
  }


 private:
  Status Error(int rc, const std::string& msg, const std::string& sql) {
    std::string text = "sqlite3 '" + options_.db + "': " + msg;
    if (sql.size() < 200) text += " (in: " + sql + ")";
    if (Transient(rc)) return UnavailableError(text);
    return InvalidArgumentError(text);
  }

  SqlConnectionOptions options_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> CreateSqliteConnection(
    const SqlConnectionOptions& options) {
  return std::unique_ptr<SqlConnection>(new SqliteConnection(options));
}

}  // namespace flowacct::internal
