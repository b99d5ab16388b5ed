// SqlConnection over libpq (PostgreSQL).
//
// Statements are prepared once per SQL text (PQprepare, names "flowacct_N")
// and run with text-format parameters; `?` placeholders are rewritten to
// $1..$n. Bulk loads use COPY ... FROM STDIN in text format.
//
// Error classes follow the SQLSTATE of the failure (PostgreSQL manual,
// Appendix A "PostgreSQL Error Codes"):
//   class 08 (connection exception), 53 (insufficient resources),
//   57P01..57P03 (admin/crash shutdown, cannot connect now),
//   55P03 (lock not available), 40001 (serialization failure),
//   40P01 (deadlock), or a connection that libpq reports as
//   CONNECTION_BAD                                    -> kUnavailable
//   class XX (internal error), 58 (system error)      -> kIoError
//   any other SQLSTATE (42 syntax/undefined object, 22 data exception,
//   23 integrity constraint, ...)                      -> kInvalidArgument
//   no SQLSTATE, connection still fine                 -> kIoError
// Every kUnavailable closes the connection (an open transaction is rolled
// back by the server); the next call reconnects and prepares again.

#include <charconv>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flowacct/status.h"

#include "libflowacct/sink/sql/sql_connection.h"

#include <libpq-fe.h>

namespace flowacct::internal {
namespace {

// Beyond this many cached statements the cache is dropped (DEALLOCATE ALL):
// the SQL writer uses a handful; this only bounds a misbehaving caller.
constexpr size_t kMaxPreparedStatements = 256;
// COPY data is sent in chunks of about this size.
constexpr size_t kCopyChunkBytes = 64 * 1024;

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* res) const { PQclear(res); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// libpq prints NOTICEs ("table exists, skipping") to stderr by default.
void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// Drops trailing newlines/spaces from a libpq message.
std::string Trim(const char* message) {
  std::string s = message == nullptr ? "" : message;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool IsTransientSqlState(std::string_view state) {
  if (state.size() != 5) return false;
  std::string_view cls = state.substr(0, 2);
  return cls == "08" || cls == "53" || state == "57P01" || state == "57P02" ||
         state == "57P03" || state == "55P03" || state == "40001" ||
         state == "40P01";
}

// Rewrites `?` to $1..$n outside quoted literals and identifiers ('...'
// and "..."; a doubled quote inside either just toggles twice). Returns the
// number of placeholders in *count.
std::string RewritePlaceholders(const std::string& sql, size_t* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  char quote = 0;
  size_t n = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?') {
      out.push_back('$');
      out += std::to_string(++n);
    } else {
      out.push_back(c);
    }
  }
  *count = n;
  return out;
}

// Appends `text` escaped for COPY text format: backslash, tab, newline and
// carriage return become two-character escapes.
void AppendCopyText(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        out->push_back(c);
    }
  }
}

bool HasNul(const SqlValue& v) {
  return v.type == SqlValue::Type::kText &&
         v.text.find('\0') != std::string::npos;
}

// Thread-safety: none; one thread at a time (see SqlConnection).
class PgsqlConnection final : public SqlConnection {
 public:
  explicit PgsqlConnection(SqlConnectionOptions options)
      : options_(std::move(options)) {}
  ~PgsqlConnection() override { Disconnect(); }

  PgsqlConnection(const PgsqlConnection&) = delete;
  PgsqlConnection& operator=(const PgsqlConnection&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPgsql; }

  Status Connect() override {
    if (conn_ != nullptr) return Status::Ok();
    std::string port =
        std::to_string(options_.port == 0 ? 5432 : options_.port);
    std::string timeout = std::to_string(options_.connect_timeout_seconds > 0
                                             ? options_.connect_timeout_seconds
                                             : 0);
    const char* keys[] = {"host",
                          "port",
                          "dbname",
                          "user",
                          "password",
                          "connect_timeout",
                          "client_encoding",
                          "application_name",
                          nullptr};
    const char* values[] = {options_.host.c_str(),
                            port.c_str(),
                            options_.db.c_str(),
                            options_.user.c_str(),
                            options_.password.c_str(),
                            timeout.c_str(),
                            "UTF8",
                            "flowacct",
                            nullptr};
    // expand_dbname = 0: every value is taken literally.
    PgConnPtr conn(PQconnectdbParams(keys, values, 0));
    if (conn == nullptr) return UnavailableError("pgsql: out of memory");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      return UnavailableError("pgsql: cannot connect to " + options_.host +
                              ":" + port + ": " +
                              Trim(PQerrorMessage(conn.get())));
    }
    PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
    conn_ = std::move(conn);
    prepared_.clear();
    next_statement_id_ = 0;
    return Status::Ok();
  }

  bool connected() const override { return conn_ != nullptr; }

  void Disconnect() override {
    conn_.reset();
    prepared_.clear();
  }

  Status Execute(const std::string& sql) override {
    if (Status s = Connect(); !s.ok()) return s;
    PgResultPtr res(PQexec(conn_.get(), sql.c_str()));
    return CheckResult(res.get(), PGRES_COMMAND_OK);
  }

  Result<uint64_t> ExecuteParams(const std::string& sql,
                                 std::span<const SqlValue> params) override {
    for (const SqlValue& v : params) {
      if (HasNul(v)) {
        return InvalidArgumentError(
            "pgsql: a text value contains a NUL byte, which PostgreSQL "
            "cannot store");
      }
    }
    if (Status s = Connect(); !s.ok()) return s;
    Result<const std::string*> name = Prepare(sql, params.size());
    if (!name.ok()) return name.status();

    std::vector<std::string> ints;
    ints.reserve(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t k = 0; k < params.size(); ++k) {
      const SqlValue& v = params[k];
      switch (v.type) {
        case SqlValue::Type::kNull:
          break;
        case SqlValue::Type::kInt:
          ints.push_back(std::to_string(v.i));
          values[k] = ints.back().c_str();
          break;
        case SqlValue::Type::kText:
          values[k] = v.text.c_str();
          break;
      }
    }
    // `ints` was reserved up front, so the c_str() pointers stay valid.
    PgResultPtr res(PQexecPrepared(conn_.get(), (*name)->c_str(),
                                   static_cast<int>(params.size()),
                                   values.data(), nullptr, nullptr,
                                   /*resultFormat=*/0));
    ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    Status s = CheckResult(
        res.get(), st == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK);
    if (!s.ok()) return s;
    return ParseCount(PQcmdTuples(res.get()));
  }

  Status Copy(const std::string& table, const std::vector<std::string>& columns,
              const std::vector<std::vector<SqlValue>>& rows) override {
    if (columns.empty()) return InvalidArgumentError("pgsql COPY: no columns");
    for (const auto& row : rows) {
      if (row.size() != columns.size()) {
        return InvalidArgumentError(
            "pgsql COPY: a row has " + std::to_string(row.size()) +
            " values for " + std::to_string(columns.size()) + " columns");
      }
      for (const SqlValue& v : row) {
        if (HasNul(v)) {
          return InvalidArgumentError(
              "pgsql COPY: a text value contains a NUL byte");
        }
      }
    }
    if (Status s = Connect(); !s.ok()) return s;

    std::string sql = "COPY " + table + " (";
    for (size_t k = 0; k < columns.size(); ++k) {
      if (k > 0) sql += ", ";
      sql += QuoteIdentifier(columns[k]);
    }
    sql += ") FROM STDIN";
    {
      PgResultPtr res(PQexec(conn_.get(), sql.c_str()));
      if (Status s = CheckResult(res.get(), PGRES_COPY_IN); !s.ok()) return s;
    }

    std::string buf;
    buf.reserve(kCopyChunkBytes + 1024);
    for (const auto& row : rows) {
      for (size_t k = 0; k < row.size(); ++k) {
        if (k > 0) buf.push_back('\t');
        const SqlValue& v = row[k];
        switch (v.type) {
          case SqlValue::Type::kNull:
            buf += "\\N";
            break;
          case SqlValue::Type::kInt:
            buf += std::to_string(v.i);
            break;
          case SqlValue::Type::kText:
            AppendCopyText(v.text, &buf);
            break;
        }
      }
      buf.push_back('\n');
      if (buf.size() >= kCopyChunkBytes) {
        if (Status s = PutCopyData(buf); !s.ok()) return s;
        buf.clear();
      }
    }
    if (!buf.empty()) {
      if (Status s = PutCopyData(buf); !s.ok()) return s;
    }
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) {
      return ConnectionError("COPY end");
    }
    // The outcome of the COPY, then the end of the results.
    Status result = Status::Ok();
    bool first = true;
    while (conn_ != nullptr) {
      PgResultPtr res(PQgetResult(conn_.get()));
      if (res == nullptr) break;
      if (first) {
        result = CheckResult(res.get(), PGRES_COMMAND_OK);
        first = false;
      }
    }
    if (first && result.ok()) return ConnectionError("COPY result");
    return result;
  }

  std::string QuoteIdentifier(std::string_view name) const override {
    return QuoteSqlIdentifier(name, '"');
  }


 private:
  // The cached statement name for `sql`, preparing it if needed.
  Result<const std::string*> Prepare(const std::string& sql,
                                     size_t param_count) {
    auto it = prepared_.find(sql);
    if (it != prepared_.end()) {
      if (it->second.param_count != param_count) {
        return CountMismatch(it->second.param_count, param_count);
      }
      return &it->second.name;
    }
    size_t count = 0;
    std::string rewritten = RewritePlaceholders(sql, &count);
    if (count != param_count) return CountMismatch(count, param_count);
    if (prepared_.size() >= kMaxPreparedStatements) {
      PgResultPtr res(PQexec(conn_.get(), "DEALLOCATE ALL"));
      if (Status s = CheckResult(res.get(), PGRES_COMMAND_OK); !s.ok()) {
        return s;
      }
      prepared_.clear();
    }
    std::string name = "flowacct_" + std::to_string(next_statement_id_++);
    PgResultPtr res(PQprepare(conn_.get(), name.c_str(), rewritten.c_str(),
                              static_cast<int>(count), nullptr));
    if (Status s = CheckResult(res.get(), PGRES_COMMAND_OK); !s.ok()) return s;
    auto [pos, inserted] =
        prepared_.emplace(sql, PreparedStatement{std::move(name), count});
    return &pos->second.name;
  }

  static Status CountMismatch(size_t placeholders, size_t params) {
    return InvalidArgumentError(
        "pgsql: statement has " + std::to_string(placeholders) +
        " placeholders but " + std::to_string(params) + " parameters");
  }

  Status PutCopyData(const std::string& buf) {
    if (PQputCopyData(conn_.get(), buf.data(), static_cast<int>(buf.size())) !=
        1) {
      return ConnectionError("COPY data");
    }
    return Status::Ok();
  }

  // A failure without a result: the connection is the suspect.
  Status ConnectionError(const char* what) {
    std::string message = Trim(PQerrorMessage(conn_.get()));
    bool bad = PQstatus(conn_.get()) == CONNECTION_BAD;
    if (bad) {
      Disconnect();
      return UnavailableError(std::string("pgsql: ") + what +
                              ": connection lost: " + message);
    }
    return IoError(std::string("pgsql: ") + what + ": " + message);
  }

  // Classifies `res` (may be null); OK when its status is `expected`.
  Status CheckResult(PGresult* res, ExecStatusType expected) {
    if (res == nullptr) return ConnectionError("no result");
    ExecStatusType st = PQresultStatus(res);
    if (st == expected) return Status::Ok();
    const char* state_field = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    std::string state = state_field == nullptr ? "" : state_field;
    std::string message = Trim(PQresultErrorMessage(res));
    if (message.empty()) {
      message = std::string("unexpected result ") + PQresStatus(st);
    }
    if (!state.empty()) message = "[" + state + "] " + message;
    message = "pgsql: " + message;
    // A lost connection shows as CONNECTION_BAD, often without SQLSTATE.
    if (PQstatus(conn_.get()) == CONNECTION_BAD || IsTransientSqlState(state)) {
      Disconnect();
      return UnavailableError(std::move(message));
    }
    if (state.empty() || state.starts_with("XX") || state.starts_with("58")) {
      return IoError(std::move(message));
    }
    return InvalidArgumentError(std::move(message));
  }

  static Result<uint64_t> ParseCount(const char* text) {
    std::string_view s = text == nullptr ? "" : text;
    uint64_t n = 0;
    if (s.empty()) return n;  // not an INSERT/UPDATE/DELETE/COPY...
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc()) {
      return IoError("pgsql: bad affected-row count '" + std::string(s) + "'");
    }
    return n;
  }

  struct PreparedStatement {
    std::string name;
    size_t param_count = 0;
  };

  const SqlConnectionOptions options_;
  PgConnPtr conn_;
  std::unordered_map<std::string, PreparedStatement> prepared_;
  uint64_t next_statement_id_ = 0;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> CreatePgsqlConnection(
    const SqlConnectionOptions& options) {
  if (options.connect_timeout_seconds < 0) {
    return InvalidArgumentError("pgsql: connect timeout must be >= 0");
  }
  return std::unique_ptr<SqlConnection>(
      std::make_unique<PgsqlConnection>(options));
}

}  // namespace flowacct::internal
