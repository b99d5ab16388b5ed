#include "libflowacct/sink/proto_encoding.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/io/coded_stream.h>

#include "flowacct/model/record_batch.h"
#include "flowacct/sink/print_sink.h"

#include "libflowacct/sink/proto/flowacct.pb.h"

#include "tests/unit/sink/test_snapshot.h"
#include <stdlib.h>
#include <unistd.h>

namespace flowacct {
namespace {

using internal::AppendLengthDelimited;
using internal::EncodeSnapshotProto;
using testing::TestSnapshot;

constexpr int64_t kSec = 1000000000;

std::string Bytes(std::initializer_list<uint8_t> b) {
  return std::string(b.begin(), b.end());
}

// Splits length-delimited messages; fails the test on a truncated stream.
std::vector<v1::Snapshot> ParseDelimited(const std::string& data) {
  std::vector<v1::Snapshot> out;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(data.data()),
      static_cast<int>(data.size()));
  while (in.CurrentPosition() < static_cast<int>(data.size())) {
    uint32_t size = 0;
    REQUIRE(in.ReadVarint32(&size));
    auto limit = in.PushLimit(static_cast<int>(size));
    v1::Snapshot s;
    REQUIRE(s.ParseFromCodedStream(&in));
    REQUIRE(in.ConsumedEntireMessage());
    in.PopLimit(limit);
    out.push_back(std::move(s));
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The index of `name` in the snapshot's key_names (-1 if missing).
int KeyIndex(const v1::Snapshot& s, const std::string& name) {
  for (int i = 0; i < s.key_names_size(); ++i) {
    if (s.key_names(i) == name) return i;
  }
  return -1;
}

class ShutdownSnapshot : public TestSnapshot {
 public:
  using TestSnapshot::TestSnapshot;
  FlushReason reason() const override { return FlushReason::kShutdown; }
};

TEST_CASE("proto: every value type round-trips", "[proto]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  for (const char* line : {"name=c_uint field_type=9:100 len=4 semantics=u_int",
                           "name=c_hex field_type=9:101 len=2 semantics=hex",
                           "name=c_ip field_type=9:102 len=16 semantics=ip",
                           "name=c_mac field_type=9:103 len=6 semantics=mac",
                           "name=c_str field_type=9:104 len=vlen semantics=str",
                           "name=c_raw field_type=9:105 len=3 semantics=raw"}) {
    auto spec = PrimitiveRegistry::ParseCustomLine(line);
    REQUIRE(spec.ok());
    REQUIRE(registry->AddCustom(*spec).ok());
  }
  const std::vector<std::string> primitives = {"src_host",
                                               "dst_host",
                                               "proto",
                                               "src_port",
                                               "etype",
                                               "src_mac",
                                               "as_path",
                                               "std_comm",
                                               "timestamp_start",
                                               "timestamp_end",
                                               "label",
                                               "class",
                                               "post_nat_src_host",
                                               "sampling_direction",
                                               "peer_src_ip",
                                               "tcpflags",
                                               "mpls_vpn_rd",
                                               "vlan",
                                               "flows",
                                               "packets",
                                               "bytes",
                                               "c_uint",
                                               "c_hex",
                                               "c_ip",
                                               "c_mac",
                                               "c_str",
                                               "c_raw"};
  ShutdownSnapshot snap(*registry, primitives, true);
  snap.flush_time_ = 1700000300 * kSec;
  snap.stamp_updated_ = 1700000300 * kSec;

  // Row 0: every key set.
  FlowRecord* r =
      snap.Add("192.0.2.1", "2001:db8::1", 17, 10, 1500, 3, 1700000000 * kSec);
  r->src_port = 53;
  r->fields.set(FlowField::kSrcPort);
  r->etype = 0x86dd;
  r->fields.set(FlowField::kEtype);
  r->src_mac = MacAddress::FromBytes(
      reinterpret_cast<const uint8_t*>("\x00\x1b\x21\xaa\xbb\xcc"));
  r->fields.set(FlowField::kSrcMac);
  const uint8_t path[] = {0, 0, 0xfd, 0xe8, 0, 0, 0, 0x0f};  // 65000 15
  r->as_path = snap.batch_.StoreBytes(std::span<const uint8_t>(path));
  r->fields.set(FlowField::kAsPath);
  const uint8_t comm[] = {0xfd, 0xe8, 0, 0x64};  // 65000:100
  r->std_comm = snap.batch_.StoreBytes(std::span<const uint8_t>(comm));
  r->fields.set(FlowField::kStdComm);
  r->timestamp_start = 1700000000 * kSec + 123456789;
  r->fields.set(FlowField::kTimestampStart);
  r->fields.set(FlowField::kTimestampEnd);  // 0: the records had none
  r->label = snap.batch_.StoreBytes(std::string_view("gold\x01"));
  r->fields.set(FlowField::kLabel);
  const uint8_t app[] = {0x03, 0x00, 0x50};
  r->application_id = snap.batch_.StoreBytes(std::span<const uint8_t>(app));
  r->fields.set(FlowField::kApplicationId);
  r->fields.set(FlowField::kPostNatSrcHost);  // unset address: absent
  r->direction = 1;
  r->fields.set(FlowField::kDirection);
  r->exporter = IpAddress::Parse("198.51.100.7").value();
  r->tcp_flags = 0x1b;
  r->fields.set(FlowField::kTcpFlags);
  r->mpls_vpn_rd = {0, 0, 0xfd, 0xe8, 0, 0, 0, 7};
  r->fields.set(FlowField::kMplsVpnRd);
  r->in_vlan = 42;
  r->fields.set(FlowField::kInVlan);
  const PrimitiveId c_uint = registry->Find("c_uint")->id;
  const uint8_t u[] = {0, 1, 0, 2};
  snap.batch_.AddCustom(r, c_uint, u);
  const uint8_t h[] = {0x08, 0x00};
  snap.batch_.AddCustom(r, registry->Find("c_hex")->id, h);
  const uint8_t ip6[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                         0,    0,    0,    0,    0, 0, 0, 9};
  snap.batch_.AddCustom(r, registry->Find("c_ip")->id, ip6);
  const uint8_t mac[] = {2, 0, 0, 0, 0, 1};
  snap.batch_.AddCustom(r, registry->Find("c_mac")->id, mac);
  const uint8_t str[] = {'e', 't', 'h', '0'};
  snap.batch_.AddCustom(r, registry->Find("c_str")->id, str);
  const uint8_t raw[] = {0xde, 0xad, 0x00};
  snap.batch_.AddCustom(r, registry->Find("c_raw")->id, raw);

  // Row 1: only the addresses and counters; IPv6 source.
  snap.Add("2001:db8::2", "203.0.113.9", 6, 1, 60, 1, 1700000000 * kSec);

  std::string encoded;
  EncodeSnapshotProto(snap, *registry, {}, &encoded);
  v1::Snapshot s;
  REQUIRE(s.ParseFromString(encoded));

  CHECK(s.view() == "test");
  CHECK(s.flush_time_ns() == 1700000300 * kSec);
  CHECK(s.has_time_bins());
  CHECK(s.has_flows());
  CHECK(s.reason() == v1::FLUSH_REASON_SHUTDOWN);
  // Counters are not keys; order is the view's.
  REQUIRE(s.key_names_size() == static_cast<int>(primitives.size()) - 3);
  REQUIRE(s.json_keys_size() == s.key_names_size());
  CHECK(s.key_names(0) == "src_host");
  CHECK(s.json_keys(0) == "ip_src");
  CHECK(s.key_names(1) == "dst_host");
  CHECK(s.json_keys(1) == "ip_dst");
  CHECK(KeyIndex(s, "packets") == -1);
  CHECK(KeyIndex(s, "flows") == -1);
  CHECK(s.key_names(s.key_names_size() - 1) == "c_raw");
  CHECK(s.json_keys(s.key_names_size() - 1) == "c_raw");
  REQUIRE(s.aggregates_size() == 2);

  const v1::Aggregate& a = s.aggregates(0);
  REQUIRE(a.keys_size() == s.key_names_size());
  CHECK(a.packets() == 10);
  CHECK(a.bytes() == 1500);
  CHECK(a.flows() == 3);
  CHECK(a.stamp_inserted_ns() == 1700000000 * kSec);
  CHECK(a.stamp_updated_ns() == 1700000300 * kSec);
  auto key = [&](const v1::Aggregate& agg, const char* name) {
    int i = KeyIndex(s, name);
    REQUIRE(i >= 0);
    return agg.keys(i);
  };
  CHECK(key(a, "src_host").ip() == Bytes({192, 0, 2, 1}));
  CHECK(key(a, "dst_host").ip() ==
        Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  CHECK(key(a, "proto").uint() == 17);  // a number, not "udp"
  CHECK(key(a, "src_port").uint() == 53);
  CHECK(key(a, "etype").uint() == 0x86dd);
  CHECK(key(a, "src_mac").mac() == Bytes({0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc}));
  CHECK(key(a, "as_path").text() == "65000_15");
  CHECK(key(a, "std_comm").text() == "65000:100");
  CHECK(key(a, "timestamp_start").time_ns() == 1700000000 * kSec + 123456789);
  CHECK(key(a, "timestamp_end").kind_case() == v1::Value::KIND_NOT_SET);
  CHECK(key(a, "label").text() == "gold\\x01");  // sanitised, valid UTF-8
  CHECK(key(a, "class").raw() == Bytes({0x03, 0x00, 0x50}));
  CHECK(key(a, "post_nat_src_host").kind_case() == v1::Value::KIND_NOT_SET);
  CHECK(key(a, "sampling_direction").text() == "e");
  CHECK(key(a, "peer_src_ip").ip() == Bytes({198, 51, 100, 7}));
  CHECK(key(a, "tcpflags").uint() == 0x1b);
  CHECK(key(a, "mpls_vpn_rd").text() == "0:65000:7");
  CHECK(key(a, "vlan").uint() == 42);
  CHECK(key(a, "c_uint").uint() == 0x00010002);
  CHECK(key(a, "c_hex").uint() == 0x0800);
  CHECK(key(a, "c_ip").ip() == std::string(ip6, ip6 + 16));
  CHECK(key(a, "c_mac").mac() == Bytes({2, 0, 0, 0, 0, 1}));
  CHECK(key(a, "c_str").text() == "eth0");
  CHECK(key(a, "c_raw").raw() == Bytes({0xde, 0xad, 0x00}));

  const v1::Aggregate& b = s.aggregates(1);
  REQUIRE(b.keys_size() == s.key_names_size());
  CHECK(b.packets() == 1);
  CHECK(b.bytes() == 60);
  CHECK(key(b, "src_host").ip() ==
        Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}));
  CHECK(key(b, "dst_host").ip() == Bytes({203, 0, 113, 9}));
  CHECK(key(b, "proto").uint() == 6);
  for (const char* absent :
       {"src_mac", "as_path", "timestamp_start", "label", "class",
        "peer_src_ip", "mpls_vpn_rd", "c_uint", "c_ip", "c_str", "c_raw"}) {
    INFO(absent);
    CHECK(key(b, absent).kind_case() == v1::Value::KIND_NOT_SET);
  }
}

TEST_CASE("proto: a subset of rows, no bins, no flows", "[proto]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TestSnapshot snap(*registry, {"dst_host", "src_host"}, false);
  snap.flush_time_ = 5 * kSec;
  snap.Add("10.0.0.1", "10.0.0.2", 6, 1, 40);
  snap.Add("10.0.0.3", "10.0.0.4", 6, 2, 80);
  snap.Add("10.0.0.5", "10.0.0.6", 6, 3, 120);
  const size_t rows[] = {2, 0};
  std::string encoded = "prefix";
  EncodeSnapshotProto(snap, *registry, rows, &encoded);
  REQUIRE(encoded.rfind("prefix", 0) == 0);  // appended
  v1::Snapshot s;
  REQUIRE(s.ParseFromString(encoded.substr(6)));
  CHECK(s.reason() == v1::FLUSH_REASON_REFRESH);
  CHECK_FALSE(s.has_time_bins());
  CHECK_FALSE(s.has_flows());
  REQUIRE(s.key_names_size() == 2);
  CHECK(s.key_names(0) == "dst_host");
  CHECK(s.key_names(1) == "src_host");
  REQUIRE(s.aggregates_size() == 2);
  CHECK(s.aggregates(0).bytes() == 120);
  CHECK(s.aggregates(0).keys(0).ip() == Bytes({10, 0, 0, 6}));
  CHECK(s.aggregates(0).keys(1).ip() == Bytes({10, 0, 0, 5}));
  CHECK(s.aggregates(0).stamp_inserted_ns() == 0);
  CHECK(s.aggregates(1).bytes() == 40);
}

TEST_CASE("proto: length-delimited framing", "[proto]") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{300},
                   size_t{70000}}) {
    INFO(n);
    std::string message(n, 'x');
    std::string framed;
    AppendLengthDelimited(message, &framed);
    const size_t prefix = n < 128 ? 1 : n < 16384 ? 2 : 3;
    REQUIRE(framed.size() == prefix + n);
    google::protobuf::io::CodedInputStream in(
        reinterpret_cast<const uint8_t*>(framed.data()),
        static_cast<int>(framed.size()));
    uint32_t size = 0;
    REQUIRE(in.ReadVarint32(&size));
    CHECK(size == n);
    CHECK(in.CurrentPosition() == static_cast<int>(prefix));
  }
  std::string framed;
  AppendLengthDelimited(std::string(300, 'x'), &framed);
  CHECK(static_cast<uint8_t>(framed[0]) == 0xac);  // 300 = 0b10_0101100
  CHECK(static_cast<uint8_t>(framed[1]) == 0x02);
}

TEST_CASE("proto: print sink writes length-delimited snapshots", "[proto]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  char tmpl[] = "/tmp/flowacct-proto-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;

  PluginConfig plugin;
  plugin.name = "pb";
  plugin.output = "protobuf";
  plugin.markers = true;  // ignored for protobuf
  DaemonConfig daemon;
  auto opts = PrintSinkOptions::FromConfig(plugin, daemon);
  REQUIRE(opts.ok());
  CHECK(opts->protobuf);
  opts->timestamps_utc = true;

  TestSnapshot snap(*registry, {"src_host", "flows"}, true);
  snap.flush_time_ = 1501508580 * kSec;
  snap.stamp_updated_ = snap.flush_time_;
  snap.Add("10.0.0.1", "10.0.0.2", 6, 2, 114, 1, 1501508280 * kSec);
  snap.Add("10.0.0.2", "10.0.0.2", 6, 3, 200, 2, 1501508280 * kSec);
  snap.Add("10.0.0.3", "10.0.0.2", 6, 4, 300, 1, 1501508580 * kSec);

  SECTION("files per bin, appended") {
    opts->output_file = dir + "/%H%M.pb";
    opts->output_file_append = true;
    auto sink = CreatePrintSink(*opts, registry.get());
    REQUIRE(sink.ok());
    REQUIRE((*sink)->Write(snap).ok());
    REQUIRE((*sink)->Write(snap).ok());
    std::vector<v1::Snapshot> first =
        ParseDelimited(ReadFile(dir + "/1338.pb"));
    REQUIRE(first.size() == 2);  // one message per Write
    for (const v1::Snapshot& s : first) {
      CHECK(s.view() == "test");  // the snapshot's view
      CHECK(s.has_flows());
      REQUIRE(s.aggregates_size() == 2);
      CHECK(s.aggregates(0).keys(0).ip() == Bytes({10, 0, 0, 1}));
      CHECK(s.aggregates(1).flows() == 2);
    }
    std::vector<v1::Snapshot> second =
        ParseDelimited(ReadFile(dir + "/1343.pb"));
    REQUIRE(second.size() == 2);
    REQUIRE(second[0].aggregates_size() == 1);
    CHECK(second[0].aggregates(0).bytes() == 300);
    CHECK(second[0].aggregates(0).stamp_inserted_ns() == 1501508580 * kSec);
  }
  SECTION("stdout: one message per Write, no markers") {
    std::string path = dir + "/out";
    FILE* f = fopen(path.c_str(), "w+");
    REQUIRE(f != nullptr);
    opts->out_fd = fileno(f);
    auto sink = CreatePrintSink(*opts, registry.get());
    REQUIRE(sink.ok());
    REQUIRE((*sink)->Write(snap).ok());
    fclose(f);
    std::vector<v1::Snapshot> all = ParseDelimited(ReadFile(path));
    REQUIRE(all.size() == 1);
    CHECK(all[0].aggregates_size() == 3);
  }
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

}  // namespace
}  // namespace flowacct
