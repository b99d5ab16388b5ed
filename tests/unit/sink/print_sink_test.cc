#include "flowacct/sink/print_sink.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "libflowacct/sink/file_util.h"

#include "tests/unit/sink/test_snapshot.h"
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flowacct {
namespace {

using testing::TestSnapshot;

constexpr int64_t kSec = 1000000000;
constexpr int64_t kBin1338 =
    int64_t{1501508280} * kSec;  // 2017-07-31 13:38 UTC
constexpr int64_t kBin1343 = kBin1338 + 300 * kSec;

std::string MakeTempDir() {
  char tmpl[] = "/tmp/flowacct-sink-test-XXXXXX";
  char* dir = mkdtemp(tmpl);
  REQUIRE(dir != nullptr);
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.insert(n);
  }
  closedir(d);
  return names;
}

std::string Pad(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

// Runs one Write() into a temporary file used as out_fd; returns the output.
std::string WriteToFd(PrintSinkOptions opts, const Snapshot& snapshot,
                      const PrimitiveRegistry* registry) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/out";
  FILE* f = fopen(path.c_str(), "w+");
  REQUIRE(f != nullptr);
  opts.out_fd = fileno(f);
  auto sink = CreatePrintSink(opts, registry);
  REQUIRE(sink.ok());
  Status s = (*sink)->Write(snapshot);
  REQUIRE(s.ok());
  fclose(f);
  std::string out = ReadFile(path);
  unlink(path.c_str());
  rmdir(dir.c_str());
  return out;
}

TEST_CASE("print sink: json rows in pmacct's layout") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  PrintSinkOptions opts;
  opts.format = OutputFormat::kJson;
  opts.timestamps_utc = true;

  SECTION("no bins, no flows") {
    TestSnapshot snap(*registry, {"src_host", "dst_host", "proto"}, false);
    snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114);
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", \"ip_dst\": "
          "\"10.0.0.2\", \"ip_proto\": \"tcp\", \"packets\": 2, \"bytes\": "
          "114}\n");
  }
  SECTION("bins and flows: stamps before flows, packets, bytes") {
    TestSnapshot snap(*registry, {"src_host", "dst_host", "proto", "flows"},
                      true);
    snap.stamp_updated_ = kBin1338 + 60 * kSec;
    snap.Add("10.0.0.1", "10.0.0.2", 17, 2, 114, 3, kBin1338);
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", \"ip_dst\": "
          "\"10.0.0.2\", \"ip_proto\": \"udp\", \"stamp_inserted\": "
          "\"2017-07-31 13:38:00\", \"stamp_updated\": \"2017-07-31 "
          "13:39:00\", \"flows\": 3, \"packets\": 2, \"bytes\": 114}\n");
  }
  SECTION("since epoch stamps and numeric protocols") {
    opts.timestamps_since_epoch = true;
    opts.num_protos = true;
    TestSnapshot snap(*registry, {"proto"}, true);
    snap.stamp_updated_ = kBin1338;
    snap.Add("10.0.0.1", "10.0.0.2", 6, 1, 40, 1, kBin1338);
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "{\"event_type\": \"purge\", \"ip_proto\": \"6\", "
          "\"stamp_inserted\": \"1501508280\", \"stamp_updated\": "
          "\"1501508280\", \"packets\": 1, \"bytes\": 40}\n");
  }
  SECTION("markers") {
    opts.markers = true;
    opts.name = "fx";
    TestSnapshot snap(*registry, {"src_host"}, false);
    snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114);
    std::string pid = std::to_string(getpid());
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "{\"event_type\": \"purge_init\", \"writer_id\": \"fx/" + pid +
              "\"}\n{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", "
              "\"packets\": 2, \"bytes\": 114}\n{\"event_type\": "
              "\"purge_close\", \"writer_id\": \"fx/" +
              pid +
              "\", \"purged_entries\": 1, \"total_entries\": 1, "
              "\"duration\": 0}\n");
  }
}

TEST_CASE("print sink: csv and formatted rows") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TestSnapshot snap(*registry, {"src_host", "dst_host", "proto", "flows"},
                    true);
  snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114, 1, kBin1338);
  snap.Add("2001:db8::1", "10.0.0.3", 1, 7, 375, 2, kBin1338);
  PrintSinkOptions opts;

  SECTION("csv: no stamps, FLOWS between PACKETS and BYTES") {
    opts.format = OutputFormat::kCsv;
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "SRC_IP,DST_IP,PROTOCOL,PACKETS,FLOWS,BYTES\n"
          "10.0.0.1,10.0.0.2,tcp,2,1,114\n"
          "2001:db8::1,10.0.0.3,icmp,7,2,375\n");
  }
  SECTION("csv separator and markers") {
    opts.format = OutputFormat::kCsv;
    opts.csv_separator = ';';
    opts.markers = true;
    std::string pid = std::to_string(getpid());
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "--START (" + pid +
              ")--\nSRC_IP;DST_IP;PROTOCOL;PACKETS;FLOWS;BYTES\n"
              "10.0.0.1;10.0.0.2;tcp;2;1;114\n"
              "2001:db8::1;10.0.0.3;icmp;7;2;375\n--END (" +
              pid + ")--\n");
  }
  SECTION("formatted: pmacct column widths, no trailing blanks") {
    opts.format = OutputFormat::kFormatted;
    std::string expected = Pad("SRC_IP", 47) + Pad("DST_IP", 47) +
                           Pad("PROTOCOL", 12) + Pad("PACKETS", 22) +
                           Pad("FLOWS", 22) + "BYTES\n" + Pad("10.0.0.1", 47) +
                           Pad("10.0.0.2", 47) + Pad("tcp", 12) + Pad("2", 22) +
                           Pad("1", 22) + "114\n" + Pad("2001:db8::1", 47) +
                           Pad("10.0.0.3", 47) + Pad("icmp", 12) +
                           Pad("7", 22) + Pad("2", 22) + "375\n";
    CHECK(WriteToFd(opts, snap, registry.get()) == expected);
  }
}

TEST_CASE("print sink: formatted output refuses variable-length primitives") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TestSnapshot snap(*registry, {"src_host", "label"}, false);
  snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114);
  PrintSinkOptions opts;
  opts.output_file = "/nonexistent-flowacct/x";
  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  Status s = (*sink)->Write(snap);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK((*sink)->stats().failed_snapshots == 1);
  CHECK((*sink)->stats().failed_rows == 1);
}

TEST_CASE("print sink: file names from the bin and $peer_src_ip") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  TestSnapshot snap(*registry, {"peer_src_ip", "src_host"}, true);
  FlowRecord* r = snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114, 1, kBin1338);
  r->exporter = IpAddress::Parse("192.0.2.1").value();
  r = snap.Add("10.0.0.5", "10.0.0.2", 6, 1, 50, 1, kBin1343);
  r->exporter = IpAddress::Parse("192.0.2.1").value();
  r = snap.Add("10.0.0.7", "10.0.0.2", 6, 4, 60, 1, kBin1338);
  r->exporter = IpAddress::Parse("2001:db8::9").value();

  PrintSinkOptions opts;
  opts.format = OutputFormat::kCsv;
  opts.timestamps_utc = true;
  opts.output_file = dir + "/$peer_src_ip/sub dir/out-%Y%m%d-%H%M.csv";
  const std::string f1 = dir + "/192_0_2_1/sub dir/out-20170731-1338.csv";
  const std::string f2 = dir + "/192_0_2_1/sub dir/out-20170731-1343.csv";
  const std::string f3 = dir + "/2001_db8__9/sub dir/out-20170731-1338.csv";
  REQUIRE_FALSE(Exists(f1));

  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  REQUIRE((*sink)->Write(snap).ok());
  CHECK(ReadFile(f1) ==
        "PEER_SRC_IP,SRC_IP,PACKETS,BYTES\n192.0.2.1,10.0.0.1,2,114\n");
  CHECK(ReadFile(f2) ==
        "PEER_SRC_IP,SRC_IP,PACKETS,BYTES\n192.0.2.1,10.0.0.5,1,50\n");
  CHECK(ReadFile(f3) ==
        "PEER_SRC_IP,SRC_IP,PACKETS,BYTES\n2001:db8::9,10.0.0.7,4,60\n");
  // No temporary files left behind.
  CHECK(
      ListDir(dir + "/192_0_2_1/sub dir") ==
      std::set<std::string>{"out-20170731-1338.csv", "out-20170731-1343.csv"});
  CHECK(ListDir(dir) == std::set<std::string>{"192_0_2_1", "2001_db8__9"});
  CHECK((*sink)->stats().snapshots == 1);
  CHECK((*sink)->stats().rows == 3);
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_CASE("print sink: variable values cannot escape the directory") {
  CHECK(internal::SanitizePathValue("../../etc") == "______etc");
  CHECK(internal::SanitizePathValue("a/b\x01\n..") == "a_b____");
  CHECK(internal::SanitizePathValue("") == "0");
  CHECK(internal::SanitizePathValue("192.0.2.1") == "192_0_2_1");
  CHECK(internal::SanitizePathValue("fe80::1%eth0") == "fe80__1_eth0");
  std::string hostile = internal::SanitizePathValue("..\\/%s$tag");
  CHECK(hostile.find('/') == std::string::npos);
  CHECK(hostile.find("..") == std::string::npos);
  CHECK(hostile.find('%') == std::string::npos);
  CHECK(hostile.find('$') == std::string::npos);
}

TEST_CASE("print sink: flush time names files without bins; $tag") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  TestSnapshot snap(*registry, {"tag", "src_host"}, false);
  snap.flush_time_ = kBin1343 + 17 * kSec;
  FlowRecord* r = snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114);
  r->tag = 42;
  r->fields.set(FlowField::kTag);
  PrintSinkOptions opts;
  opts.format = OutputFormat::kJson;
  opts.timestamps_utc = true;
  opts.post_tag = 7;
  opts.output_file = dir + "/t$tag-p$post_tag-%H%M%S.json";
  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  REQUIRE((*sink)->Write(snap).ok());
  CHECK(ReadFile(dir + "/t42-p7-134317.json") ==
        "{\"event_type\": \"purge\", \"tag\": 42, \"ip_src\": \"10.0.0.1\", "
        "\"packets\": 2, \"bytes\": 114}\n");
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_CASE("print sink: replace, append with one header, empty snapshots") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  PrintSinkOptions opts;
  opts.format = OutputFormat::kCsv;
  opts.output_file = dir + "/out.csv";
  TestSnapshot snap(*registry, {"src_host"}, false);
  snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114);
  TestSnapshot empty(*registry, {"src_host"}, false);

  SECTION("replace") {
    auto sink = CreatePrintSink(opts, registry.get());
    REQUIRE(sink.ok());
    REQUIRE((*sink)->Write(snap).ok());
    REQUIRE((*sink)->Write(snap).ok());
    CHECK(ReadFile(opts.output_file) ==
          "SRC_IP,PACKETS,BYTES\n10.0.0.1,2,114\n");
    REQUIRE((*sink)->Write(empty).ok());  // nothing written
    CHECK(ReadFile(opts.output_file) ==
          "SRC_IP,PACKETS,BYTES\n10.0.0.1,2,114\n");
  }
  SECTION("append") {
    opts.output_file_append = true;
    auto sink = CreatePrintSink(opts, registry.get());
    REQUIRE(sink.ok());
    REQUIRE((*sink)->Write(snap).ok());
    REQUIRE((*sink)->Write(snap).ok());
    CHECK(ReadFile(opts.output_file) ==
          "SRC_IP,PACKETS,BYTES\n10.0.0.1,2,114\n10.0.0.1,2,114\n");
  }
  SECTION("write_empty_file") {
    opts.write_empty_file = true;
    auto sink = CreatePrintSink(opts, registry.get());
    REQUIRE(sink.ok());
    REQUIRE((*sink)->Write(empty).ok());
    CHECK(ReadFile(opts.output_file) == "SRC_IP,PACKETS,BYTES\n");
  }
  CHECK(ListDir(dir).size() <= 1);
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_CASE("print sink: latest file moves only forward") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  PrintSinkOptions opts;
  opts.format = OutputFormat::kCsv;
  opts.timestamps_utc = true;
  opts.output_file = dir + "/%H%M.csv";
  opts.latest_file = dir + "/latest";
  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  auto write_bin = [&](int64_t bin) {
    TestSnapshot snap(*registry, {"src_host"}, true);
    snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114, 1, bin);
    REQUIRE((*sink)->Write(snap).ok());
  };
  auto target = [&]() {
    char buf[4096];
    ssize_t n = readlink(opts.latest_file.c_str(), buf, sizeof(buf));
    REQUIRE(n > 0);
    return std::string(buf, static_cast<size_t>(n));
  };
  write_bin(kBin1338);
  CHECK(target() == dir + "/1338.csv");
  write_bin(kBin1343);
  CHECK(target() == dir + "/1343.csv");
  write_bin(kBin1338);  // a late row for an older bin
  CHECK(target() == dir + "/1343.csv");
  CHECK(ListDir(dir) ==
        std::set<std::string>{"1338.csv", "1343.csv", "latest"});
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_CASE("print sink: trigger program runs without a shell") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  std::string script_dir = dir + "/a b;c";
  REQUIRE(mkdir(script_dir.c_str(), 0700) == 0);
  std::string script = script_dir + "/trigger $x.sh";
  std::string marker = dir + "/marker";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > '" << marker
        << ".tmp'\nmv '" << marker << ".tmp' '" << marker << "'\n";
  }
  REQUIRE(chmod(script.c_str(), 0700) == 0);

  PrintSinkOptions opts;
  opts.format = OutputFormat::kCsv;
  opts.output_file = dir + "/out.csv";
  opts.trigger_exec = script;
  opts.trigger_args = {"x; touch " + dir + "/pwned", "$(id)", "two words"};
  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  TestSnapshot snap(*registry, {"src_host"}, false);
  snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114);
  REQUIRE((*sink)->Write(snap).ok());
  // Wait (bounded) for the script to finish.
  for (int i = 0; i < 1000 && !Exists(marker); ++i) usleep(10000);
  REQUIRE(Exists(marker));
  CHECK(ReadFile(marker) ==
        script + "\nx; touch " + dir + "/pwned\n$(id)\ntwo words\n");
  CHECK_FALSE(Exists(dir + "/pwned"));
  CHECK((*sink)->Close().ok());

  SECTION("a program that cannot start is an error") {
    opts.trigger_exec = dir + "/missing";
    auto bad = CreatePrintSink(opts, registry.get());
    REQUIRE(bad.ok());
    CHECK((*bad)->Write(snap).code() == StatusCode::kIoError);
  }
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_CASE("print sink: options from the config") {
  PluginConfig plugin;
  plugin.type = "print";
  plugin.name = "fx";
  plugin.output = "csv";
  plugin.output_separator = "\\t";
  plugin.output_file = "/x/%Y.csv";
  DaemonConfig daemon;
  daemon.timestamps_utc = true;
  auto opts = PrintSinkOptions::FromConfig(plugin, daemon);
  REQUIRE(opts.ok());
  CHECK(opts->format == OutputFormat::kCsv);
  CHECK(opts->csv_separator == '\t');
  CHECK(opts->timestamps_utc);
  CHECK(opts->name == "fx");
  plugin.output = "avro";
  CHECK(PrintSinkOptions::FromConfig(plugin, daemon).status().code() ==
        StatusCode::kInvalidArgument);
  plugin.output = "json";
  plugin.output_separator = ";;";
  CHECK_FALSE(PrintSinkOptions::FromConfig(plugin, daemon).ok());
}

}  // namespace
}  // namespace flowacct

namespace flowacct {
namespace {

using testing::TestSnapshot;

// The first row of nfacctd 1.7.7's output for graylog-nf9-pmacctd.pcap
// (tag, label, peer_src_ip, in_iface, src_host, dst_host, proto,
// timestamp_start, flows; print_history 5m), as a snapshot row.
void AddPmacctRow(TestSnapshot* snap) {
  FlowRecord* r = snap->Add("172.17.0.2", "192.168.65.1", 0, 2, 114, 1,
                            int64_t{1501508280} * 1000000000);
  r->exporter = IpAddress::Parse("127.0.0.1").value();
  r->fields.set(FlowField::kTag);
  r->fields.set(FlowField::kInIface);
  r->fields.set(FlowField::kSrcPort);
  r->timestamp_start = int64_t{1501508283209} * 1000000;
  r->fields.set(FlowField::kTimestampStart);
  snap->stamp_updated_ = int64_t{1795727005} * 1000000000;
}

TEST_CASE("print sink: byte-for-byte nfacctd 1.7.7 output") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  PrintSinkOptions opts;
  opts.timestamps_utc = true;

  SECTION("json") {
    TestSnapshot snap(*registry,
                      {"tag", "label", "peer_src_ip", "in_iface", "src_host",
                       "dst_host", "proto", "timestamp_start", "flows"},
                      true);
    AddPmacctRow(&snap);
    opts.format = OutputFormat::kJson;
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "{\"event_type\": \"purge\", \"tag\": 0, \"label\": \"\", "
          "\"peer_ip_src\": \"127.0.0.1\", \"iface_in\": 0, \"ip_src\": "
          "\"172.17.0.2\", \"ip_dst\": \"192.168.65.1\", \"ip_proto\": \"0\", "
          "\"timestamp_start\": \"2017-07-31 13:38:03.209000\", "
          "\"stamp_inserted\": \"2017-07-31 13:38:00\", \"stamp_updated\": "
          "\"2026-11-26 21:03:25\", \"flows\": 1, \"packets\": 2, \"bytes\": "
          "114}\n");
    opts.format = OutputFormat::kCsv;
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "TAG,LABEL,PEER_SRC_IP,IN_IFACE,SRC_IP,DST_IP,PROTOCOL,TIMESTAMP_"
          "START,PACKETS,FLOWS,BYTES\n0,,127.0.0.1,0,172.17.0.2,192.168.65.1,"
          "0,2017-07-31 13:38:03.209000,2,1,114\n");
  }
  SECTION("formatted") {
    TestSnapshot snap(*registry,
                      {"tag", "peer_src_ip", "in_iface", "src_host", "dst_host",
                       "src_port", "proto", "timestamp_start", "flows"},
                      true);
    AddPmacctRow(&snap);
    opts.format = OutputFormat::kFormatted;
    CHECK(WriteToFd(opts, snap, registry.get()) ==
          "TAG         PEER_SRC_IP                                    "
          "IN_IFACE    SRC_IP                                         DST_IP   "
          "                                      SRC_PORT  PROTOCOL    "
          "TIMESTAMP_START                PACKETS               FLOWS          "
          "       BYTES\n"
          "0           127.0.0.1                                      0       "
          "    172.17.0.2                                     192.168.65.1    "
          "                               0         0           2017-07-31 "
          "13:38:03.209000     2                     1                     "
          "114\n");
  }
}

TEST_CASE("print sink: append keeps pmacct's marker/header order") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string dir = MakeTempDir();
  PrintSinkOptions opts;
  opts.format = OutputFormat::kCsv;
  opts.markers = true;
  opts.output_file_append = true;
  opts.output_file = dir + "/static.csv";
  TestSnapshot snap(*registry, {"src_host"}, false);
  snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114);
  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  REQUIRE((*sink)->Write(snap).ok());
  REQUIRE((*sink)->Write(snap).ok());
  std::string pid = std::to_string(getpid());
  CHECK(ReadFile(opts.output_file) ==
        "--START (" + pid +
            ")--\nSRC_IP,PACKETS,BYTES\n10.0.0.1,2,114\n--END (" + pid +
            ")--\n--START (" + pid + ")--\n10.0.0.1,2,114\n--END (" + pid +
            ")--\n");
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_CASE("print sink: event records, absent addresses, column orders") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  PrintSinkOptions opts;
  opts.format = OutputFormat::kJson;
  TestSnapshot snap(*registry, {"src_host", "post_nat_src_host", "nat_event"},
                    false);
  FlowRecord* r = snap.Add("10.0.0.1", "10.0.0.2", 6, 0, 0);
  r->kind = RecordKind::kEvent;
  r->nat_event = 1;
  r->fields.set(FlowField::kNatEvent);
  // JSON leaves out packets and bytes of event records; a missing address
  // is an empty string.
  CHECK(WriteToFd(opts, snap, registry.get()) ==
        "{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", "
        "\"post_nat_ip_src\": \"\", \"nat_event\": 1}\n");
  opts.format = OutputFormat::kCsv;
  CHECK(WriteToFd(opts, snap, registry.get()) ==
        "SRC_IP,POST_NAT_SRC_IP,NAT_EVENT,PACKETS,BYTES\n10.0.0.1,,1,0,0\n");

  // CSV interleaves the src_* BGP columns; JSON puts them after the peers.
  TestSnapshot bgp(*registry, {"as_path", "src_as_path", "peer_src_ip"}, false);
  bgp.Add("10.0.0.1", "10.0.0.2", 6, 1, 1);
  std::string csv = WriteToFd(opts, bgp, registry.get());
  CHECK(csv.substr(0, csv.find('\n')) ==
        "AS_PATH,SRC_AS_PATH,PEER_SRC_IP,PACKETS,BYTES");
  opts.format = OutputFormat::kJson;
  std::string json = WriteToFd(opts, bgp, registry.get());
  CHECK(json.find("\"as_path\"") < json.find("\"peer_ip_src\""));
  CHECK(json.find("\"peer_ip_src\"") < json.find("\"as_path_src\""));
}

}  // namespace
}  // namespace flowacct
