// SqlConnection over MariaDB Connector/C (libmariadb), for MariaDB and MySQL
// servers.
//
// Values reach the server only as bound parameters of server-side prepared
// statements (mysql_stmt_*), one per SQL text, cached until the connection
// closes. The connection uses CLIENT_FOUND_ROWS, so an UPDATE reports the
// rows it matched, not only those whose value changed, and utf8mb4.
//
// Error classes (client error codes from errmsg.h, server codes from
// mysqld_error.h):
//   cannot connect / login refused (any Connect() failure), server gone or
//   lost, connection killed, server shutdown, too many connections, out of
//   resources, lock wait timeout, deadlock              -> kUnavailable
//   other server errors (syntax, unknown table/column, duplicate key, bad
//   value...)                                            -> kInvalidArgument
//   other client errors                                  -> kIoError
// Every kUnavailable closes the connection (the server rolls back an open
// transaction); the next call reconnects and prepares again.

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flowacct/status.h"

#include "libflowacct/sink/sql/sql_connection.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <sys/stat.h>

namespace flowacct::internal {
namespace {

// Timeout for each read and write on an established connection. Long enough
// for a large batch, short enough that a hung server is noticed.
constexpr unsigned int kReadWriteTimeoutSeconds = 60;
// Beyond this many cached statements the cache is dropped: the SQL writer
// uses a handful; this bounds a misbehaving caller (the server's
// max_prepared_stmt_count is global).
constexpr size_t kMaxPreparedStatements = 256;

// Client and server error numbers after which the connection is not usable
// or the statement should simply be retried later.
bool IsTransientError(unsigned int code) {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_HANDSHAKE_ERR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case ER_CON_COUNT_ERROR:
    case ER_OUT_OF_RESOURCES:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_LOCK_DEADLOCK:
    case ER_TOO_MANY_USER_CONNECTIONS:
    case ER_CONNECTION_KILLED:
      return true;
    default:
      return false;
  }
}

// mysql_library_init is not thread-safe; mysql_init would call it lazily.
void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

struct StmtCloser {
  void operator()(MYSQL_STMT* stmt) const { mysql_stmt_close(stmt); }
};
using StmtPtr = std::unique_ptr<MYSQL_STMT, StmtCloser>;

// Thread-safety: none; one thread at a time (see SqlConnection).
class MysqlConnection final : public SqlConnection {
 public:
  explicit MysqlConnection(SqlConnectionOptions options)
      : options_(std::move(options)) {}
  ~MysqlConnection() override { Disconnect(); }

  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kMysql; }

  Status Connect() override {
    if (mysql_ != nullptr) return Status::Ok();
    InitLibraryOnce();
    MYSQL* mysql = mysql_init(nullptr);
    if (mysql == nullptr) return UnavailableError("mysql: out of memory");

    unsigned int connect_timeout =
        static_cast<unsigned int>(options_.connect_timeout_seconds);
    unsigned int rw_timeout = kReadWriteTimeoutSeconds;
    unsigned int local_infile = 0;
    my_bool reconnect = 0;
    if (connect_timeout > 0) {
      mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    }
    mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    mysql_options(mysql, MYSQL_OPT_RECONNECT, &reconnect);
    mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");

    // A host that is a path names the unix socket: the socket file itself,
    // or a directory holding mysqld.sock.
    const char* host = options_.host.c_str();
    std::string socket_path;
    if (options_.host.starts_with("/")) {
      socket_path = options_.host;
      struct stat st;
      if (stat(socket_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        socket_path += "/mysqld.sock";
      }
      host = "localhost";
    }
    unsigned int port = options_.port == 0 ? 3306 : options_.port;
    if (mysql_real_connect(
            mysql, host, options_.user.c_str(), options_.password.c_str(),
            options_.db.empty() ? nullptr : options_.db.c_str(), port,
            socket_path.empty() ? nullptr : socket_path.c_str(),
            CLIENT_FOUND_ROWS) == nullptr) {
      std::string where = socket_path.empty()
                              ? options_.host + ":" + std::to_string(port)
                              : socket_path;
      Status s = UnavailableError("mysql: cannot connect to " + where + ": [" +
                                  std::to_string(mysql_errno(mysql)) + "] " +
                                  mysql_error(mysql));
      mysql_close(mysql);
      return s;
    }
    mysql_ = mysql;
    return Status::Ok();
  }

  bool connected() const override { return mysql_ != nullptr; }

  void Disconnect() override {
    // Statements first: they belong to the connection.
    statements_.clear();
    if (mysql_ != nullptr) {
      mysql_close(mysql_);
      mysql_ = nullptr;
    }
  }

  Status Execute(const std::string& sql) override {
    if (Status s = Connect(); !s.ok()) return s;
    if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
      return Classify(mysql_errno(mysql_), mysql_error(mysql_));
    }
    // Discard a result set, if the statement produced one.
    if (mysql_field_count(mysql_) > 0) {
      MYSQL_RES* res = mysql_store_result(mysql_);
      if (res == nullptr)
        return Classify(mysql_errno(mysql_), mysql_error(mysql_));
      mysql_free_result(res);
    }
    return Status::Ok();
  }

  Result<uint64_t> ExecuteParams(const std::string& sql,
                                 std::span<const SqlValue> params) override {
    if (Status s = Connect(); !s.ok()) return s;
    Result<MYSQL_STMT*> prepared = Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    MYSQL_STMT* stmt = *prepared;
    unsigned long count = mysql_stmt_param_count(stmt);
    if (count != params.size()) {
      return InvalidArgumentError(
          "mysql: statement has " + std::to_string(count) +
          " placeholders but " + std::to_string(params.size()) + " parameters");
    }

    std::vector<MYSQL_BIND> binds(params.size());
    std::vector<unsigned long> lengths(params.size(), 0);
    for (size_t k = 0; k < params.size(); ++k) {
      const SqlValue& v = params[k];
      MYSQL_BIND& b = binds[k];
      b = MYSQL_BIND{};
      switch (v.type) {
        case SqlValue::Type::kNull:
          b.buffer_type = MYSQL_TYPE_NULL;
          break;
        case SqlValue::Type::kInt:
          b.buffer_type = MYSQL_TYPE_LONGLONG;
          // The library only reads the buffer.
          b.buffer = const_cast<int64_t*>(&v.i);
          break;
        case SqlValue::Type::kText:
          b.buffer_type = MYSQL_TYPE_STRING;
          b.buffer = const_cast<char*>(v.text.data());
          lengths[k] = static_cast<unsigned long>(v.text.size());
          b.buffer_length = lengths[k];
          b.length = &lengths[k];
          break;
      }
    }
    if (!binds.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0) {
      return StmtError(stmt);
    }
    if (mysql_stmt_execute(stmt) != 0) return StmtError(stmt);
    uint64_t affected = mysql_stmt_affected_rows(stmt);
    if (mysql_stmt_field_count(stmt) > 0) {
      // Not expected from the SQL writer; drain so the connection stays in
      // sync.
      mysql_stmt_store_result(stmt);
      mysql_stmt_free_result(stmt);
      affected = 0;
    }
    if (affected == static_cast<uint64_t>(-1)) affected = 0;
    return affected;
  }

  std::string QuoteIdentifier(std::string_view name) const override {
    return QuoteSqlIdentifier(name, '`');
  }


 private:
  Result<MYSQL_STMT*> Prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second.get();
    if (statements_.size() >= kMaxPreparedStatements) statements_.clear();
    StmtPtr stmt(mysql_stmt_init(mysql_));
    if (stmt == nullptr)
      return Classify(mysql_errno(mysql_), mysql_error(mysql_));
    if (mysql_stmt_prepare(stmt.get(), sql.data(), sql.size()) != 0) {
      return StmtError(stmt.get());
    }
    MYSQL_STMT* raw = stmt.get();
    statements_.emplace(sql, std::move(stmt));
    return raw;
  }

  Status StmtError(MYSQL_STMT* stmt) {
    // Copy first: Classify may disconnect, which frees the statement.
    unsigned int code = mysql_stmt_errno(stmt);
    std::string message = mysql_stmt_error(stmt);
    return Classify(code, message);
  }

  Status Classify(unsigned int code, std::string message) {
    message = "mysql: [" + std::to_string(code) + "] " + message;
    if (IsTransientError(code)) {
      Disconnect();
      return UnavailableError(std::move(message));
    }
    if (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) {
      return IoError(std::move(message));
    }
    return InvalidArgumentError(std::move(message));
  }

  const SqlConnectionOptions options_;
  MYSQL* mysql_ = nullptr;
  std::unordered_map<std::string, StmtPtr> statements_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> CreateMysqlConnection(
    const SqlConnectionOptions& options) {
  if (options.connect_timeout_seconds < 0) {
    return InvalidArgumentError("mysql: connect timeout must be >= 0");
  }
  return std::unique_ptr<SqlConnection>(
      std::make_unique<MysqlConnection>(options));
}

}  // namespace flowacct::internal
