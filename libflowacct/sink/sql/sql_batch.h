// SqlBatch: the rows of one snapshot for one table, as the SQL sink hands
// them to its delivery queue (the Envelope payload), and its byte encoding
// (what the spool stores). Private to libflowacct.
//
// Encoding (little-endian varints, LEB128): "FSB1", column count, then per
// column its role byte and name (varint length + bytes), then row count,
// then every cell: 0 = NULL, 1 = integer (zig-zag varint), 2 = text
// (varint length + bytes). Decode() rejects anything malformed.
//
// Thread-safety: value types.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_BATCH_H_
#define FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_BATCH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/status.h"
#include "libflowacct/sink/sql/sql_connection.h"

namespace flowacct::internal {

// What a column does in pmacct's UPDATE/INSERT pair.
enum class SqlColumnRole : uint8_t {
  kKey = 0,  // WHERE col = ?; inserted (stamp_inserted is a key)
  kAdd = 1,  // SET col = col + ?; inserted (packets, bytes, flows)
  kOr = 2,   // SET col = col | ?; inserted (tcp_flags)
  kSet = 3,  // SET col = ?; inserted (stamp_updated)
};

struct SqlColumn {
  std::string name;
  SqlColumnRole role = SqlColumnRole::kKey;
  friend bool operator==(const SqlColumn&, const SqlColumn&) = default;
};

struct SqlBatch {
  std::vector<SqlColumn> columns;
  std::vector<std::vector<SqlValue>> rows;  // each columns.size() cells

  void Encode(std::string* out) const;
  static Result<SqlBatch> Decode(std::string_view bytes);
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_SQL_SQL_BATCH_H_
