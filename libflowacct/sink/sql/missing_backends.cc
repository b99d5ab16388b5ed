// Factories for the SQL backends flowacct was built without: each returns
// kUnimplemented naming the missing client library. The real factories live
// in sink/sqlite3/, sink/mysql/ and sink/pgsql/, which are compiled only
// when their library is found (libflowacct/CMakeLists.txt defines
// FLOWACCT_HAVE_<BACKEND> then).

#include <memory>

#include "flowacct/status.h"

#include "libflowacct/sink/sql/sql_connection.h"

namespace flowacct::internal {

#if !defined(FLOWACCT_HAVE_SQLITE3)
Result<std::unique_ptr<SqlConnection>> CreateSqliteConnection(
    const SqlConnectionOptions& /*options*/) {
  return UnimplementedError("flowacct was built without libsqlite3");
}
#endif

#if !defined(FLOWACCT_HAVE_MYSQL)
Result<std::unique_ptr<SqlConnection>> CreateMysqlConnection(
    const SqlConnectionOptions& /*options*/) {
  return UnimplementedError("flowacct was built without libmariadb");
}
#endif

#if !defined(FLOWACCT_HAVE_PGSQL)
Result<std::unique_ptr<SqlConnection>> CreatePgsqlConnection(
    const SqlConnectionOptions& /*options*/) {
  return UnimplementedError("flowacct was built without libpq");
}
#endif

}  // namespace flowacct::internal
