// SqlConnection for PostgreSQL (libpq) and MariaDB (libmariadb) against real
// servers: each test case starts its own server on 127.0.0.1 in a temp dir
// through tests/support/sql_servers.py and stops it at the end. The
// interface has no query API, so values are read back with the server's
// command-line client (psql / mariadb), as hex to compare bytes exactly.
// Skipped (with a warning) when the server binaries or the client library
// are missing.

#include "libflowacct/sink/sql/sql_connection.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace flowacct::internal {
namespace {

constexpr char kPassword[] = "arealsmartpwd";

// The hostile string: SQL metacharacters, an injection attempt, escapes
// that matter to COPY and to MySQL's string literals, placeholders, and
// multi-byte UTF-8 (2, 3 and 4 bytes). No NUL.
const std::string kHostile =
    "O'Reilly \"q\" back\\slash \\' \\\\' '; DROP TABLE x; -- tab\there "
    "nl\nthere cr\rthere ? $1 %s \\N `tick` \xc3\xbc \xe2\x82\xac "
    "\xf0\x9f\x98\x80 end";

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs `command` through the shell; captures stdout (stderr passes
// through to the test's stderr).
CommandResult Run(const std::string& command) {
  CommandResult r;
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Hex(const std::string& s) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The integer value of "key" in a flat JSON object, or -1.
int JsonInt(const std::string& json, const std::string& key) {
  size_t pos = json.find("\"" + key + "\":");
  if (pos == std::string::npos) return -1;
  pos += key.size() + 3;
  while (pos < json.size() && json[pos] == ' ') ++pos;
  int v = 0;
  bool any = false;
  while (pos < json.size() && json[pos] >= '0' && json[pos] <= '9') {
    v = v * 10 + (json[pos++] - '0');
    any = true;
  }
  return any ? v : -1;
}

// A TCP port on 127.0.0.1 that nothing listens on (just released).
uint16_t UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// A real server in a temp dir, started by the harness; stopped and its
// directory removed on destruction (also when a REQUIRE fails).
class TestServer {
 public:
  // kind: "pgsql" or "mysql".
  explicit TestServer(std::string kind) : kind_(std::move(kind)) {}

  // False (with the reason in skip_reason()) when the server cannot be run
  // on this machine; REQUIREs that the harness starts it otherwise.
  bool Start() {
    const char* server_binary = kind_ == "pgsql"
                                    ? "/usr/lib/postgresql/15/bin/postgres"
                                    : "/usr/sbin/mariadbd";
    const char* client =
        kind_ == "pgsql" ? "/usr/bin/psql" : "/usr/bin/mariadb";
    for (const char* path : {"/usr/bin/python3", server_binary, client}) {
      if (access(path, X_OK) != 0) {
        skip_reason_ = std::string(path) + " is not installed";
        return false;
      }
    }
    char tmpl[] = "/tmp/flowacct-sql-XXXXXX";
    char* dir = mkdtemp(tmpl);
    REQUIRE(dir != nullptr);
    dir_ = dir;
    CommandResult r = Harness("start");
    INFO("harness output: " << r.out);
    REQUIRE(r.exit_code == 0);
    port_ = JsonInt(r.out, "port");
    REQUIRE(port_ > 0);
    started_ = true;
    return true;
  }

  ~TestServer() {
    if (dir_.empty()) return;
    if (started_) (void)Harness("stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // "kill" (SIGKILL), "start" (again, same port and data), "stop".
  void Do(const std::string& action) {
    CommandResult r = Harness(action);
    INFO("harness " << action << ": " << r.out);
    REQUIRE(r.exit_code == 0);
  }

  // Runs one SQL statement with the command-line client as pmacct over
  // TCP; returns its output (tab-separated, no headers), REQUIREs success.
  std::string Query(const std::string& sql) {
    std::string command;
    if (kind_ == "pgsql") {
      command = "PGPASSWORD=" + std::string(kPassword) +
                " /usr/bin/psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 "
                "-p " +
                std::to_string(port_) + " -U pmacct -d pmacct -c " +
                ShellQuote(sql);
    } else {
      command = "MYSQL_PWD=" + std::string(kPassword) +
                " /usr/bin/mariadb --no-defaults -N -B --protocol=tcp "
                "-h 127.0.0.1 -P " +
                std::to_string(port_) + " -u pmacct pmacct -e " +
                ShellQuote(sql);
    }
    CommandResult r = Run(command);
    INFO("query: " << sql);
    REQUIRE(r.exit_code == 0);
    return Trimmed(r.out);
  }

  SqlConnectionOptions Options() const {
    SqlConnectionOptions o;
    o.db = "pmacct";
    o.host = "127.0.0.1";
    o.port = static_cast<uint16_t>(port_);
    o.user = "pmacct";
    o.password = kPassword;
    o.connect_timeout_seconds = 5;
    return o;
  }

  const std::string& skip_reason() const { return skip_reason_; }

 private:
  static std::string ShellQuote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out.push_back(c);
      }
    }
    out.push_back('\'');
    return out;
  }

  CommandResult Harness(const std::string& action) {
    return Run("/usr/bin/python3 " FLOWACCT_SOURCE_DIR
               "/tests/support/sql_servers.py " +
               action + " " + kind_ + " --dir " + dir_);
  }

  std::string kind_;
  std::string dir_;
  std::string skip_reason_;
  int port_ = 0;
  bool started_ = false;
};

using Factory =
    Result<std::unique_ptr<SqlConnection>> (*)(const SqlConnectionOptions&);

// The connection, or null (with a warning) when the backend is not built.
std::unique_ptr<SqlConnection> MakeConnection(Factory factory,
                                              const SqlConnectionOptions& o) {
  auto conn = factory(o);
  if (!conn.ok() && conn.status().code() == StatusCode::kUnimplemented) {
    WARN("skipped: " << conn.status().ToString());
    return nullptr;
  }
  REQUIRE(conn.ok());
  return std::move(*conn);
}

void RequireOk(const Status& s) {
  INFO(s.ToString());
  REQUIRE(s.ok());
}

uint64_t RequireRows(const Result<uint64_t>& r) {
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

// The checks both servers share; `conn` is connected to `server`.
void CheckCommon(TestServer& server, SqlConnection& conn) {
  RequireOk(conn.Execute(
      "CREATE TABLE acct (k INT PRIMARY KEY, packets BIGINT NOT NULL, "
      "s VARCHAR(200), note VARCHAR(50))"));

  // Inserts with affected-row counts; NULL parameter.
  const std::string insert =
      "INSERT INTO acct (k, packets, s) VALUES (?, ?, ?)";
  std::vector<SqlValue> row1 = {SqlValue::Int(1), SqlValue::Int(10),
                                SqlValue::Text("plain")};
  CHECK(RequireRows(conn.ExecuteParams(insert, row1)) == 1);
  std::vector<SqlValue> row2 = {SqlValue::Int(2), SqlValue::Int(20),
                                SqlValue::Null()};
  CHECK(RequireRows(conn.ExecuteParams(insert, row2)) == 1);
  std::vector<SqlValue> big = {SqlValue::Int(3),
                               SqlValue::Int(INT64_C(9007199254740993)),
                               SqlValue::Text("")};
  CHECK(RequireRows(conn.ExecuteParams(insert, big)) == 1);
  CHECK(server.Query("SELECT packets FROM acct WHERE k = 3") ==
        "9007199254740993");
  CHECK(server.Query("SELECT COUNT(*) FROM acct WHERE s IS NULL") == "1");

  // UPDATE: counts matched rows, also when adding 0 changes nothing.
  const std::string update =
      "UPDATE acct SET packets = packets + ? WHERE k = ?";
  std::vector<SqlValue> add5 = {SqlValue::Int(5), SqlValue::Int(1)};
  CHECK(RequireRows(conn.ExecuteParams(update, add5)) == 1);
  std::vector<SqlValue> add0 = {SqlValue::Int(0), SqlValue::Int(1)};
  CHECK(RequireRows(conn.ExecuteParams(update, add0)) == 1);
  std::vector<SqlValue> none = {SqlValue::Int(1), SqlValue::Int(99)};
  CHECK(RequireRows(conn.ExecuteParams(update, none)) == 0);
  std::vector<SqlValue> all_rows = {SqlValue::Int(0)};
  CHECK(RequireRows(conn.ExecuteParams(
            "UPDATE acct SET packets = packets + ? WHERE k < 3", all_rows)) ==
        2);
  CHECK(server.Query("SELECT packets FROM acct WHERE k = 1") == "15");

  // A `?` inside a literal is not a placeholder.
  std::vector<SqlValue> k2 = {SqlValue::Int(2)};
  CHECK(RequireRows(conn.ExecuteParams(
            "UPDATE acct SET note = 'why?' WHERE k = ?", k2)) == 1);
  CHECK(server.Query("SELECT note FROM acct WHERE k = 2") == "why?");

  // The hostile string goes in as a parameter and comes back byte-exact.
  std::vector<SqlValue> hostile = {SqlValue::Int(4), SqlValue::Int(1),
                                   SqlValue::Text(kHostile)};
  CHECK(RequireRows(conn.ExecuteParams(insert, hostile)) == 1);
  std::vector<SqlValue> hostile_update = {SqlValue::Text(kHostile),
                                          SqlValue::Int(1)};
  CHECK(RequireRows(conn.ExecuteParams("UPDATE acct SET s = ? WHERE k = ?",
                                       hostile_update)) == 1);
  std::string hex_sql = conn.dialect() == SqlDialect::kPgsql
                            ? "SELECT upper(encode(convert_to(s, 'UTF8'), "
                              "'hex')) FROM acct WHERE k = "
                            : "SELECT HEX(s) FROM acct WHERE k = ";
  CHECK(server.Query(hex_sql + "4") == Hex(kHostile));
  CHECK(server.Query(hex_sql + "1") == Hex(kHostile));
  CHECK(server.Query("SELECT COUNT(*) FROM acct") == "4");

  // Transactions.
  std::vector<SqlValue> row5 = {SqlValue::Int(5), SqlValue::Int(50),
                                SqlValue::Text("rolled back")};
  RequireOk(conn.Execute("BEGIN"));
  CHECK(RequireRows(conn.ExecuteParams(insert, row5)) == 1);
  RequireOk(conn.Execute("ROLLBACK"));
  CHECK(server.Query("SELECT COUNT(*) FROM acct WHERE k = 5") == "0");
  RequireOk(conn.Execute("BEGIN"));
  CHECK(RequireRows(conn.ExecuteParams(insert, row5)) == 1);
  RequireOk(conn.Execute("COMMIT"));
  CHECK(server.Query("SELECT COUNT(*) FROM acct WHERE k = 5") == "1");

  // Statements wrong for the table: kInvalidArgument, connection kept.
  Status syntax = conn.Execute("CREATE TABLE oops (");
  CHECK(syntax.code() == StatusCode::kInvalidArgument);
  CHECK(conn.connected());
  auto unknown_table =
      conn.ExecuteParams("INSERT INTO no_such_table (k) VALUES (?)", k2);
  CHECK(unknown_table.status().code() == StatusCode::kInvalidArgument);
  auto unknown_column =
      conn.ExecuteParams("UPDATE acct SET nope = 1 WHERE k = ?", k2);
  CHECK(unknown_column.status().code() == StatusCode::kInvalidArgument);
  auto duplicate = conn.ExecuteParams(insert, row1);
  CHECK(duplicate.status().code() == StatusCode::kInvalidArgument);
  std::vector<SqlValue> too_few = {SqlValue::Int(6)};
  CHECK(conn.ExecuteParams(insert, too_few).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(conn.connected());
  // Still usable after those errors.
  CHECK(RequireRows(conn.ExecuteParams(update, add0)) == 1);

  // Identifier quoting, used for real.
  CHECK(conn.QuoteIdentifier("plain") ==
        (conn.dialect() == SqlDialect::kPgsql ? "\"plain\"" : "`plain`"));
  std::string odd = conn.QuoteIdentifier("we\"ird`name");
  CHECK(odd == (conn.dialect() == SqlDialect::kPgsql ? "\"we\"\"ird`name\""
                                                     : "`we\"ird``name`"));
  RequireOk(conn.Execute("CREATE TABLE " + odd + " (k INT)"));
  CHECK(RequireRows(conn.ExecuteParams("INSERT INTO " + odd + " (k) VALUES (?)",
                                       k2)) == 1);

  // Outage: SIGKILL the server; the next call is kUnavailable and the
  // connection is closed; calls while it is down stay kUnavailable.
  server.Do("kill");
  auto lost = conn.ExecuteParams(update, add0);
  INFO(lost.status().ToString());
  CHECK(lost.status().code() == StatusCode::kUnavailable);
  CHECK_FALSE(conn.connected());
  Status down = conn.Execute("BEGIN");
  INFO(down.ToString());
  CHECK(down.code() == StatusCode::kUnavailable);
  CHECK_FALSE(conn.connected());

  // Restart: the next call reconnects, prepares again, data is still there.
  server.Do("start");
  CHECK(RequireRows(conn.ExecuteParams(update, add5)) == 1);
  CHECK(conn.connected());
  CHECK(server.Query("SELECT packets FROM acct WHERE k = 1") == "20");
  CHECK(server.Query("SELECT COUNT(*) FROM acct") == "5");

  // A wrong password is kUnavailable (the operator may fix it).
  SqlConnectionOptions bad = server.Options();
  bad.password = "wrong";
  auto bad_conn =
      (conn.dialect() == SqlDialect::kPgsql ? CreatePgsqlConnection
                                            : CreateMysqlConnection)(bad);
  REQUIRE(bad_conn.ok());
  Status denied = (*bad_conn)->Connect();
  INFO(denied.ToString());
  CHECK(denied.code() == StatusCode::kUnavailable);
  CHECK_FALSE((*bad_conn)->connected());
}

void CheckWrongPort(Factory factory) {
  SqlConnectionOptions o;
  o.db = "pmacct";
  o.port = UnusedPort();
  o.connect_timeout_seconds = 2;
  auto conn = MakeConnection(factory, o);
  if (conn == nullptr) return;
  Status s = conn->Connect();
  INFO(s.ToString());
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK_FALSE(conn->connected());
  std::vector<SqlValue> one = {SqlValue::Int(1)};
  CHECK(conn->ExecuteParams("SELECT ?", one).status().code() ==
        StatusCode::kUnavailable);
}

TEST_CASE("pgsql connection against a real PostgreSQL server",
          "[sql_connection]") {
  TestServer server("pgsql");
  if (!server.Start()) {
    WARN("skipped: " << server.skip_reason());
    return;
  }
  auto conn = MakeConnection(CreatePgsqlConnection, server.Options());
  if (conn == nullptr) return;
  CHECK(conn->dialect() == SqlDialect::kPgsql);
  CHECK_FALSE(conn->connected());
  RequireOk(conn->Connect());
  CHECK(conn->connected());

  // NUL cannot be stored in PostgreSQL text: refused, not truncated.
  std::vector<SqlValue> nul = {SqlValue::Text(std::string("a\0b", 3))};
  CHECK(conn->ExecuteParams("SELECT ?::text", nul).status().code() ==
        StatusCode::kInvalidArgument);

  // COPY FROM STDIN: NULL, escapes, the hostile string.
  RequireOk(conn->Execute(
      "CREATE TABLE copied (k INT PRIMARY KEY, packets BIGINT, s TEXT)"));
  std::vector<std::vector<SqlValue>> rows;
  rows.push_back({SqlValue::Int(1), SqlValue::Int(100), SqlValue::Text("a")});
  rows.push_back(
      {SqlValue::Int(2), SqlValue::Null(), SqlValue::Text(kHostile)});
  rows.push_back({SqlValue::Int(3), SqlValue::Int(-7), SqlValue::Null()});
  rows.push_back({SqlValue::Int(4), SqlValue::Int(0),
                  SqlValue::Text("\\N")});  // the text, not NULL
  for (int k = 5; k < 3000; ++k) {          // more than one COPY chunk
    rows.push_back({SqlValue::Int(k), SqlValue::Int(k),
                    SqlValue::Text(std::string(40, 'x'))});
  }
  RequireOk(
      conn->Copy(conn->QuoteIdentifier("copied"), {"k", "packets", "s"}, rows));
  CHECK(server.Query("SELECT COUNT(*) FROM copied") == "2999");
  CHECK(server.Query("SELECT packets FROM copied WHERE k = 1") == "100");
  CHECK(server.Query("SELECT packets IS NULL FROM copied WHERE k = 2") == "t");
  CHECK(server.Query("SELECT upper(encode(convert_to(s, 'UTF8'), 'hex')) "
                     "FROM copied WHERE k = 2") == Hex(kHostile));
  CHECK(server.Query("SELECT s IS NULL FROM copied WHERE k = 3") == "t");
  CHECK(server.Query("SELECT s FROM copied WHERE k = 4") == "\\N");
  // A duplicate key fails the whole COPY: kInvalidArgument, nothing added.
  std::vector<std::vector<SqlValue>> dup = {
      {SqlValue::Int(9000), SqlValue::Int(1), SqlValue::Null()},
      {SqlValue::Int(1), SqlValue::Int(1), SqlValue::Null()}};
  Status dup_status =
      conn->Copy(conn->QuoteIdentifier("copied"), {"k", "packets", "s"}, dup);
  INFO(dup_status.ToString());
  CHECK(dup_status.code() == StatusCode::kInvalidArgument);
  CHECK(server.Query("SELECT COUNT(*) FROM copied") == "2999");
  // A row of the wrong width is refused before anything is sent.
  std::vector<std::vector<SqlValue>> narrow = {{SqlValue::Int(1)}};
  CHECK(
      conn->Copy(conn->QuoteIdentifier("copied"), {"k", "packets", "s"}, narrow)
          .code() == StatusCode::kInvalidArgument);
  CHECK(conn->connected());

  CheckCommon(server, *conn);
}

TEST_CASE("mysql connection against a real MariaDB server",
          "[sql_connection]") {
  TestServer server("mysql");
  if (!server.Start()) {
    WARN("skipped: " << server.skip_reason());
    return;
  }
  auto conn = MakeConnection(CreateMysqlConnection, server.Options());
  if (conn == nullptr) return;
  CHECK(conn->dialect() == SqlDialect::kMysql);
  CHECK_FALSE(conn->connected());
  RequireOk(conn->Connect());
  CHECK(conn->connected());
  CHECK(conn->Copy("`t`", {"k"}, {}).code() == StatusCode::kUnimplemented);
  CheckCommon(server, *conn);
}

TEST_CASE("pgsql connection to a port nobody listens on is unavailable",
          "[sql_connection]") {
  CheckWrongPort(CreatePgsqlConnection);
}

TEST_CASE("mysql connection to a port nobody listens on is unavailable",
          "[sql_connection]") {
  CheckWrongPort(CreateMysqlConnection);
}

}  // namespace
}  // namespace flowacct::internal
