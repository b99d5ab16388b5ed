// SqlWriter: the SQL sink's DeliveryBackend — applies one envelope (the rows
// of one snapshot for one table, an encoded SqlBatch) to the database in one
// transaction with pmacct's write semantics, exactly once. Private to
// libflowacct.
//
// Per envelope:
//   1. connect if needed; create the delivery table once per connection;
//   2. the first time a table is seen on this connection, run the
//      envelope's creation statements (Envelope::key: sql_table_schema
//      rendered for this table, or flowacct's CREATE TABLE IF NOT EXISTS);
//   3. BEGIN; claim (writer_id, seq) in the delivery table — when it is
//      already claimed the envelope was committed before (a COMMIT whose
//      answer was lost): ROLLBACK and report it delivered;
//   4. the rows: UPDATE ... then INSERT when no row matched, or INSERT only
//      (dont_try_update: multi-row INSERTs of at most multi_values bytes, or
//      COPY with use_copy on pgsql);
//   5. COMMIT.
// A kUnavailable error anywhere rolls back and disconnects; the delivery
// queue retries the same envelope later. Any other error rolls back and
// is returned (the envelope is rejected).
//
// The delivery table holds one row per writer: (writer, seq) of the last
// envelope committed. Envelopes are delivered in seq order, so "seq <=
// stored seq" means "already applied".
//
// Thread-safety: the delivery thread only.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_WRITER_H_
#define FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_WRITER_H_

#include <memory>
#include <set>
#include <string>

#include "flowacct/sink/sql_sink.h"
#include "libflowacct/sink/delivery_queue.h"
#include "libflowacct/sink/sql/sql_batch.h"
#include "libflowacct/sink/sql/sql_connection.h"

namespace flowacct::internal {

class SqlWriter : public DeliveryBackend {
 public:
  SqlWriter(const SqlSinkOptions& options,
            std::unique_ptr<SqlConnection> connection, std::string writer_id);

  Status Deliver(const Envelope& envelope) override;
  void Shutdown() override;

  // The statements, for tests.
  static std::string UpdateSql(const std::string& table,
                               const SqlBatch& batch,
                               const SqlConnection& quoting);
  static std::string InsertSql(const std::string& table,
                               const SqlBatch& batch, size_t rows,
                               const SqlConnection& quoting);

 private:
  Status Apply(const Envelope& envelope, const SqlBatch& batch,
               bool* already);
  Status EnsureTables(const Envelope& envelope);
  Status WriteRows(const std::string& table, const SqlBatch& batch);
  Status Fail(Status s);

  SqlSinkOptions options_;
  std::unique_ptr<SqlConnection> db_;
  std::string writer_id_;
  bool delivery_table_ready_ = false;
  std::set<std::string> known_tables_;
};

// Splits SQL text into statements at ';' outside quotes and comments
// (for sql_table_schema files). Empty statements are dropped.
std::vector<std::string> SplitSqlStatements(std::string_view text);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_WRITER_H_
