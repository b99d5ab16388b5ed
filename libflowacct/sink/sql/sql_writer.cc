#include "libflowacct/sink/sql/sql_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace flowacct::internal {
namespace {

// Parameters per statement stay under every backend's limit (sqlite3
// 32766, mysql and pgsql 65535).
constexpr size_t kMaxParams = 30000;

size_t ValueBytes(const SqlValue& v) {
  return v.type == SqlValue::Type::kText ? v.text.size() + 3 : 21;
}

}  // namespace

std::vector<std::string> SplitSqlStatements(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      cur.push_back(c);
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      quote = c;
      cur.push_back(c);
      continue;
    }
    if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      while (i < text.size() && text[i] != '\n') ++i;
      cur.push_back('\n');
      continue;
    }
    if (c == ';') {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  out.push_back(cur);
  std::vector<std::string> kept;
  for (std::string& s : out) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) continue;
    size_t e = s.find_last_not_of(" \t\r\n");
    kept.push_back(s.substr(b, e - b + 1));
  }
  return kept;
}

SqlWriter::SqlWriter(const SqlSinkOptions& options,
                     std::unique_ptr<SqlConnection> connection,
                     std::string writer_id)
    : options_(options),
      db_(std::move(connection)),
      writer_id_(std::move(writer_id)) {}

std::string SqlWriter::UpdateSql(const std::string& table,
                                 const SqlBatch& batch,
                                 const SqlConnection& q) {
  std::string set;
  std::string where;
  for (const SqlColumn& c : batch.columns) {
    const std::string n = q.QuoteIdentifier(c.name);
    switch (c.role) {
      case SqlColumnRole::kKey:
        where += where.empty() ? " WHERE " : " AND ";
        where += n + " = ?";
        break;
      case SqlColumnRole::kAdd:
        set += (set.empty() ? "" : ", ") + n + " = " + n + " + ?";
        break;
      case SqlColumnRole::kOr:
        set += (set.empty() ? "" : ", ") + n + " = " + n + " | ?";
        break;
      case SqlColumnRole::kSet:
        set += (set.empty() ? "" : ", ") + n + " = ?";
        break;
    }
  }
  return "UPDATE " + table + " SET " + set + where;
}

std::string SqlWriter::InsertSql(const std::string& table,
                                 const SqlBatch& batch, size_t rows,
                                 const SqlConnection& q) {
  std::string sql = "INSERT INTO " + table + " (";
  std::string one = "(";
  for (size_t i = 0; i < batch.columns.size(); ++i) {
    if (i > 0) {
      sql += ", ";
      one += ", ";
    }
    sql += q.QuoteIdentifier(batch.columns[i].name);
    one += "?";
  }
  sql += ") VALUES ";
  one += ")";
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ", ";
    sql += one;
  }
  return sql;
}

Status SqlWriter::Fail(Status s) {
  // Best effort: a broken connection cannot roll back, and the server
  // drops the transaction anyway.
  if (db_->connected()) (void)db_->Execute("ROLLBACK");
  if (s.code() == StatusCode::kUnavailable) db_->Disconnect();
  return s;
}

Status SqlWriter::EnsureTables(const Envelope& envelope) {
  if (!delivery_table_ready_ && !options_.delivery_table.empty()) {
    const std::string t = db_->QuoteIdentifier(options_.delivery_table);
    const char* text_type =
        db_->dialect() == SqlDialect::kMysql ? "VARCHAR(128)" : "TEXT";
    Status s = db_->Execute("CREATE TABLE IF NOT EXISTS " + t +
                            " (writer " + text_type +
                            " NOT NULL PRIMARY KEY, seq BIGINT NOT NULL)");
    if (!s.ok()) return s;
    delivery_table_ready_ = true;
  }
  if (known_tables_.count(envelope.destination) != 0) return Status::Ok();
  for (const std::string& statement : SplitSqlStatements(envelope.key)) {
    Status s = db_->Execute(statement);
    if (s.code() == StatusCode::kUnavailable) return s;
    if (!s.ok()) {
      // pmacct runs sql_table_schema blindly too: an existing table makes
      // CREATE TABLE fail, and that is fine. A real problem shows up in
      // the statements that follow.
      continue;
    }
  }
  known_tables_.insert(envelope.destination);
  return Status::Ok();
}

Status SqlWriter::WriteRows(const std::string& table, const SqlBatch& batch) {
  const size_t ncols = batch.columns.size();
  if (!options_.dont_try_update) {
    const std::string update = UpdateSql(table, batch, *db_);
    const std::string insert = InsertSql(table, batch, 1, *db_);
    // UPDATE binds the SET values first, then the WHERE keys.
    std::vector<size_t> update_order;
    for (size_t i = 0; i < ncols; ++i) {
      if (batch.columns[i].role != SqlColumnRole::kKey) {
        update_order.push_back(i);
      }
    }
    for (size_t i = 0; i < ncols; ++i) {
      if (batch.columns[i].role == SqlColumnRole::kKey) {
        update_order.push_back(i);
      }
    }
    std::vector<SqlValue> params(ncols);
    for (const std::vector<SqlValue>& row : batch.rows) {
      for (size_t i = 0; i < ncols; ++i) params[i] = row[update_order[i]];
      Result<uint64_t> n = db_->ExecuteParams(update, params);
      if (!n.ok()) return n.status();
      if (*n > 0) continue;
      Result<uint64_t> m = db_->ExecuteParams(insert, row);
      if (!m.ok()) return m.status();
    }
    return Status::Ok();
  }
  if (options_.use_copy && db_->dialect() == SqlDialect::kPgsql) {
    std::vector<std::string> names;  // Copy() quotes them itself
    for (const SqlColumn& c : batch.columns) names.push_back(c.name);
    return db_->Copy(table, names, batch.rows);
  }
  const size_t max_rows = std::max<size_t>(1, kMaxParams / ncols);
  std::vector<SqlValue> params;
  for (size_t first = 0; first < batch.rows.size();) {
    size_t rows = 1;
    if (options_.multi_values > 0) {
      size_t bytes = 0;
      rows = 0;
      while (first + rows < batch.rows.size() && rows < max_rows) {
        size_t row_bytes = 0;
        for (const SqlValue& v : batch.rows[first + rows]) {
          row_bytes += ValueBytes(v);
        }
        if (rows > 0 && bytes + row_bytes > options_.multi_values) break;
        bytes += row_bytes;
        ++rows;
      }
    }
    params.clear();
    for (size_t r = first; r < first + rows; ++r) {
      params.insert(params.end(), batch.rows[r].begin(), batch.rows[r].end());
    }
    Result<uint64_t> n =
        db_->ExecuteParams(InsertSql(table, batch, rows, *db_), params);
    if (!n.ok()) return n.status();
    first += rows;
  }
  return Status::Ok();
}

Status SqlWriter::Apply(const Envelope& envelope, const SqlBatch& batch,
                        bool* already) {
  *already = false;
  const char* begin =
      db_->dialect() == SqlDialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN";
  if (Status s = db_->Execute(begin); !s.ok()) return s;
  if (!options_.delivery_table.empty()) {
    const std::string t = db_->QuoteIdentifier(options_.delivery_table);
    const SqlValue seq = SqlValue::Int(static_cast<int64_t>(envelope.seq));
    const SqlValue writer = SqlValue::Text(writer_id_);
    const SqlValue claim[] = {seq, writer, seq};
    Result<uint64_t> n = db_->ExecuteParams(
        "UPDATE " + t + " SET seq = ? WHERE writer = ? AND seq < ?", claim);
    if (!n.ok()) return n.status();
    if (*n == 0) {
      // No row for this writer yet, or it already holds this seq or a
      // later one. The INSERT tells which.
      const SqlValue row[] = {writer, seq};
      Result<uint64_t> m = db_->ExecuteParams(
          "INSERT INTO " + t + " (writer, seq) VALUES (?, ?)", row);
      if (!m.ok()) {
        if (m.status().code() == StatusCode::kInvalidArgument) {
          *already = true;  // the primary key says: applied before
          return Status::Ok();
        }
        return m.status();
      }
    }
  }
  if (Status s = WriteRows(db_->QuoteIdentifier(envelope.destination), batch);
      !s.ok()) {
    return s;
  }
  return db_->Execute("COMMIT");
}

Status SqlWriter::Deliver(const Envelope& envelope) {
  Result<SqlBatch> batch = SqlBatch::Decode(envelope.payload);
  if (!batch.ok()) return batch.status();
  if (batch->rows.empty()) return Status::Ok();
  if (Status s = db_->Connect(); !s.ok()) return Fail(s);
  if (Status s = EnsureTables(envelope); !s.ok()) return Fail(s);
  bool already = false;
  Status s = Apply(envelope, *batch, &already);
  if (!s.ok()) return Fail(s);
  if (already) (void)db_->Execute("ROLLBACK");
  return Status::Ok();
}

void SqlWriter::Shutdown() { db_->Disconnect(); }

}  // namespace flowacct::internal
