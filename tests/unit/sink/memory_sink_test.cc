#include "flowacct/sink/memory_sink.h"

#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/sink/test_snapshot.h"
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace flowacct {
namespace {

using testing::TestSnapshot;

std::string MakeTempDir() {
  char tmpl[] = "/tmp/flowacct-imt-test-XXXXXX";
  char* dir = mkdtemp(tmpl);
  REQUIRE(dir != nullptr);
  return dir;
}

std::string Query(const std::string& path, const MemoryQuery& q) {
  Result<std::string> r = QueryMemorySink(path, q);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("memory sink: sums snapshots and answers queries on its socket") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  MemorySinkOptions opts;
  opts.name = "mem";
  opts.socket_path = dir + "/imt.sock";
  auto sink = CreateMemorySink(opts, registry.get());
  REQUIRE(sink.ok());
  CHECK((*sink)->type() == "memory");

  MemoryQuery dump;
  dump.format = "csv";
  // An empty table.
  CHECK(Query(opts.socket_path, dump).empty());

  TestSnapshot a(*registry, {"src_host", "dst_host", "proto"}, false);
  a.Add("10.0.0.1", "10.0.0.2", 6, 2, 100);
  a.Add("10.0.0.3", "10.0.0.2", 17, 1, 50);
  TestSnapshot b(*registry, {"src_host", "dst_host", "proto"}, false);
  b.Add("10.0.0.1", "10.0.0.2", 6, 3, 200);
  b.Add("2001:db8::1", "10.0.0.1", 1, 9, 30);
  REQUIRE((*sink)->Write(a).ok());
  REQUIRE((*sink)->Write(b).ok());
  CHECK((*sink)->stats().snapshots == 2);
  CHECK((*sink)->stats().rows == 4);

  SECTION("dump, three formats") {
    CHECK(Query(opts.socket_path, dump) ==
          "SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n"
          "10.0.0.1,10.0.0.2,tcp,5,300\n"
          "10.0.0.3,10.0.0.2,udp,1,50\n"
          "2001:db8::1,10.0.0.1,icmp,9,30\n");
    dump.format = "json";
    CHECK(Query(opts.socket_path, dump) ==
          "{\"ip_src\": \"10.0.0.1\", \"ip_dst\": \"10.0.0.2\", \"ip_proto\": "
          "\"tcp\", \"packets\": 5, \"bytes\": 300}\n"
          "{\"ip_src\": \"10.0.0.3\", \"ip_dst\": \"10.0.0.2\", \"ip_proto\": "
          "\"udp\", \"packets\": 1, \"bytes\": 50}\n"
          "{\"ip_src\": \"2001:db8::1\", \"ip_dst\": \"10.0.0.1\", "
          "\"ip_proto\": \"icmp\", \"packets\": 9, \"bytes\": 30}\n");
    dump.format = "formatted";
    std::string out = Query(opts.socket_path, dump);
    CHECK(out.starts_with("SRC_IP   "));
    CHECK(out.ends_with("\n\nFor a total of: 3 entries\n"));
    dump.format = "xml";
    CHECK(QueryMemorySink(opts.socket_path, dump).status().code() ==
          StatusCode::kInvalidArgument);
  }
  SECTION("top N") {
    dump.top = "bytes";
    dump.top_n = 2;
    CHECK(Query(opts.socket_path, dump) ==
          "SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n"
          "10.0.0.1,10.0.0.2,tcp,5,300\n"
          "10.0.0.3,10.0.0.2,udp,1,50\n");
    dump.top = "packets";
    dump.top_n = 1;
    CHECK(Query(opts.socket_path, dump) ==
          "SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n"
          "2001:db8::1,10.0.0.1,icmp,9,30\n");
  }
  SECTION("match and counters") {
    MemoryQuery m;
    m.op = MemoryQuery::Op::kMatch;
    m.format = "csv";
    m.columns = {"dst_host", "proto"};
    m.match = {"10.0.0.2,17", "10.0.0.1,icmp"};
    CHECK(Query(opts.socket_path, m) ==
          "SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n"
          "10.0.0.3,10.0.0.2,udp,1,50\n"
          "2001:db8::1,10.0.0.1,icmp,9,30\n");
    // IPv6 text in another spelling still matches.
    m.columns = {"src_host"};
    m.match = {"2001:DB8:0::1"};
    CHECK(Query(opts.socket_path, m) ==
          "SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n"
          "2001:db8::1,10.0.0.1,icmp,9,30\n");

    MemoryQuery n;
    n.op = MemoryQuery::Op::kCounters;
    n.columns = {"dst_host"};
    n.match = {"10.0.0.2", "10.0.0.1", "192.0.2.1"};
    CHECK(Query(opts.socket_path, n) == "350\n30\n0\n");
    n.counter = "all";
    n.match = {"10.0.0.2"};
    CHECK(Query(opts.socket_path, n) == "6 350 3\n");

    n.columns = {"src_port"};
    Result<std::string> bad = QueryMemorySink(opts.socket_path, n);
    CHECK(bad.status().code() == StatusCode::kInvalidArgument);
    CHECK(bad.status().message().find("not aggregated") != std::string::npos);
    n.columns = {"src_host", "dst_host"};
    CHECK_FALSE(QueryMemorySink(opts.socket_path, n).ok());  // 1 value for 2
  }
  SECTION("erase and status") {
    MemoryQuery status;
    status.op = MemoryQuery::Op::kStatus;
    CHECK(Query(opts.socket_path, status) ==
          "entries: 3\nmax_entries: unlimited\ndropped_rows: 0\nprimitives: "
          "src_host,dst_host,proto\n");
    MemoryQuery erase;
    erase.op = MemoryQuery::Op::kErase;
    CHECK(Query(opts.socket_path, erase) == "OK: Clearing stats.\n");
    CHECK(Query(opts.socket_path, status) ==
          "entries: 0\nmax_entries: unlimited\ndropped_rows: 0\nprimitives: "
          "src_host,dst_host,proto\n");
    CHECK(Query(opts.socket_path, dump) ==
          "SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n");
  }
  SECTION("a malformed request gets an error, the server keeps serving") {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, opts.socket_path.c_str());
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    const char req[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    REQUIRE(write(fd, req, sizeof(req)) == sizeof(req));
    char resp[256];
    ssize_t got = 0;
    for (int i = 0; i < 100; ++i) {
      ssize_t n = read(fd, resp + got, sizeof(resp) - static_cast<size_t>(got));
      if (n <= 0) break;
      got += n;
    }
    close(fd);
    REQUIRE(got > 5);
    CHECK(resp[4] == '1');
    CHECK(
        std::string(resp + 5, static_cast<size_t>(got - 5)).find("malformed") !=
        std::string::npos);
    CHECK(Query(opts.socket_path, dump).starts_with("SRC_IP,"));
  }

  REQUIRE((*sink)->Close().ok());
  struct stat st {};
  CHECK(stat(opts.socket_path.c_str(), &st) != 0);  // socket removed
  CHECK(QueryMemorySink(opts.socket_path, dump).status().code() ==
        StatusCode::kIoError);
  rmdir(dir.c_str());
}

TEST_CASE("memory sink: time bins are part of the key") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  MemorySinkOptions opts;
  opts.socket_path = dir + "/imt.sock";
  opts.timestamps_utc = true;
  auto sink = CreateMemorySink(opts, registry.get());
  REQUIRE(sink.ok());
  constexpr int64_t kBin = int64_t{1501508280} * 1000000000;
  TestSnapshot a(*registry, {"src_host", "flows"}, true);
  a.stamp_updated_ = kBin;
  a.Add("10.0.0.1", "10.0.0.2", 6, 2, 100, 1, kBin);
  a.Add("10.0.0.1", "10.0.0.2", 6, 2, 100, 1, kBin + 300000000000);
  REQUIRE((*sink)->Write(a).ok());
  REQUIRE((*sink)->Write(a).ok());
  MemoryQuery dump;
  dump.format = "json";
  CHECK(Query(opts.socket_path, dump) ==
        "{\"ip_src\": \"10.0.0.1\", \"stamp_inserted\": \"2017-07-31 "
        "13:38:00\", \"stamp_updated\": \"2017-07-31 13:38:00\", \"packets\": "
        "4, \"flows\": 2, \"bytes\": 200}\n"
        "{\"ip_src\": \"10.0.0.1\", \"stamp_inserted\": \"2017-07-31 "
        "13:43:00\", \"stamp_updated\": \"2017-07-31 13:38:00\", \"packets\": "
        "4, \"flows\": 2, \"bytes\": 200}\n");
  // A snapshot of another shape is refused while the table holds rows.
  TestSnapshot other(*registry, {"dst_host"}, false);
  other.Add("10.0.0.1", "10.0.0.2", 6, 2, 100);
  CHECK((*sink)->Write(other).code() == StatusCode::kInvalidArgument);
  CHECK((*sink)->stats().failed_snapshots == 1);
  REQUIRE((*sink)->Close().ok());
  rmdir(dir.c_str());
}

TEST_CASE("memory sink: a full table drops rows with new keys") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  MemorySinkOptions opts;
  opts.socket_path = dir + "/imt.sock";
  opts.max_entries = 2;
  auto sink = CreateMemorySink(opts, registry.get());
  REQUIRE(sink.ok());
  TestSnapshot a(*registry, {"src_host"}, false);
  a.Add("10.0.0.1", "10.0.0.2", 6, 1, 10);
  a.Add("10.0.0.2", "10.0.0.2", 6, 1, 20);
  a.Add("10.0.0.3", "10.0.0.2", 6, 1, 30);  // no room
  a.Add("10.0.0.1", "10.0.0.2", 6, 1, 40);  // existing key: added
  CHECK((*sink)->Write(a).code() == StatusCode::kResourceExhausted);
  CHECK((*sink)->stats().failed_snapshots == 1);
  MemoryQuery dump;
  dump.format = "csv";
  CHECK(Query(opts.socket_path, dump) ==
        "SRC_IP,PACKETS,BYTES\n10.0.0.1,2,50\n10.0.0.2,1,20\n");
  MemoryQuery status;
  status.op = MemoryQuery::Op::kStatus;
  CHECK(Query(opts.socket_path, status) ==
        "entries: 2\nmax_entries: 2\ndropped_rows: 1\nprimitives: "
        "src_host\n");
  REQUIRE((*sink)->Close().ok());
  rmdir(dir.c_str());

  PluginConfig plugin;
  DaemonConfig daemon;
  CHECK(MemorySinkOptions::FromConfig(plugin, daemon).max_entries == 2621);
  plugin.imt_mem_pools_number = 0;
  CHECK(MemorySinkOptions::FromConfig(plugin, daemon).max_entries == 0);
}

TEST_CASE("memory sink: bad socket paths") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  MemorySinkOptions opts;
  opts.socket_path = "/tmp/" + std::string(200, 'x');
  CHECK(CreateMemorySink(opts, registry.get()).status().code() ==
        StatusCode::kInvalidArgument);
  opts.socket_path = "/nonexistent-flowacct-dir/imt.sock";
  CHECK(CreateMemorySink(opts, registry.get()).status().code() ==
        StatusCode::kIoError);

  std::string dir = MakeTempDir();
  // A regular file at the path is not removed.
  opts.socket_path = dir + "/file";
  FILE* f = fopen(opts.socket_path.c_str(), "w");
  REQUIRE(f != nullptr);
  fclose(f);
  CHECK(CreateMemorySink(opts, registry.get()).status().code() ==
        StatusCode::kIoError);
  struct stat st {};
  CHECK(stat(opts.socket_path.c_str(), &st) == 0);
  unlink(opts.socket_path.c_str());
  // A served socket is not taken over; a stale one is replaced.
  opts.socket_path = dir + "/imt.sock";
  auto first = CreateMemorySink(opts, registry.get());
  REQUIRE(first.ok());
  CHECK(CreateMemorySink(opts, registry.get()).status().code() ==
        StatusCode::kIoError);
  REQUIRE((*first)->Close().ok());
  int stale = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, opts.socket_path.c_str());
  REQUIRE(bind(stale, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  close(stale);  // the file stays, nobody listens
  auto second = CreateMemorySink(opts, registry.get());
  CHECK(second.ok());
  if (second.ok()) CHECK((*second)->Close().ok());
  rmdir(dir.c_str());
}

TEST_CASE("memory query: encode and decode round trip") {
  MemoryQuery q;
  q.op = MemoryQuery::Op::kCounters;
  q.format = "json";
  q.top = "flows";
  q.top_n = 5;
  q.columns = {"src_host", "proto"};
  q.match = {"10.0.0.1,tcp", "10.0.0.2,udp"};
  q.counter = "all";
  auto d = MemoryQuery::Decode(q.Encode());
  REQUIRE(d.ok());
  CHECK(d->op == q.op);
  CHECK(d->format == q.format);
  CHECK(d->top == q.top);
  CHECK(d->top_n == 5);
  CHECK(d->columns == q.columns);
  CHECK(d->match == q.match);
  CHECK(d->counter == q.counter);
  CHECK_FALSE(MemoryQuery::Decode("format=json\n").ok());  // no op
  CHECK_FALSE(MemoryQuery::Decode("op=drop\n").ok());
  CHECK_FALSE(MemoryQuery::Decode("op=dump\nevil=1\n").ok());
  CHECK_FALSE(MemoryQuery::Decode("op=dump\ntop_n=-1\n").ok());
  q.match = {"a\nop=erase"};
  CHECK(QueryMemorySink("/tmp/none", q).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flowacct
