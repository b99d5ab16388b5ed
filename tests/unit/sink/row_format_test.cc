// RowFormatter: pmacct 1.7.7 column order and value rendering details
// (docs/pmacct-parity.md §1, §2, §8).

#include "libflowacct/sink/row_format.h"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/model/ip_address.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

namespace flowacct {
namespace {

using internal::KeyValue;
using internal::RowCounters;
using internal::RowFormatter;
using internal::RowLayout;

struct Fixture {
  std::unique_ptr<PrimitiveRegistry> reg =
      PrimitiveRegistry::CreateWithBuiltins();
  RecordBatch batch{16};

  PrimitiveId Id(const std::string& name) {
    const PrimitiveInfo* p = reg->Find(name);
    REQUIRE(p != nullptr);
    return p->id;
  }
  std::vector<PrimitiveId> Ids(const std::vector<std::string>& names) {
    std::vector<PrimitiveId> ids;
    for (const std::string& n : names) ids.push_back(Id(n));
    return ids;
  }
  void AddCustom(const char* line) {
    auto spec = PrimitiveRegistry::ParseCustomLine(line);
    REQUIRE(spec.ok());
    REQUIRE(reg->AddCustom(*spec).ok());
  }
  RowFormatter Formatter(const std::vector<std::string>& names,
                         OutputFormat format) {
    return RowFormatter(reg.get(), Ids(names), format, RowLayout::kPrint, ',',
                        FormatOptions{}, false, true);
  }
  std::string Header(const std::vector<std::string>& names,
                     OutputFormat format) {
    std::string out;
    Formatter(names, format).AppendHeader(&out);
    return out;
  }
  std::string Row(const std::vector<std::string>& names, OutputFormat format,
                  const FlowRecord& r, RowCounters counters = {1, 40, 1}) {
    RowFormatter f = Formatter(names, format);
    std::vector<KeyValue> keys;
    f.FormatKeys(r, batch, &keys);
    std::string out;
    f.AppendRow(keys, false, 0, 0, counters, &out);
    return out;
  }
};

TEST_CASE("RowFormatter: TCP_FLAGS, PROTOCOL, TOS follow DST_PORT") {
  Fixture f;
  const std::vector<std::string> agg = {
      "post_nat_src_host", "sampling_rate", "tos",     "proto",
      "tcpflags",          "dst_port",      "src_host"};
  CHECK(f.Header(agg, OutputFormat::kCsv) ==
        "SRC_IP,DST_PORT,TCP_FLAGS,PROTOCOL,TOS,SAMPLING_RATE,POST_NAT_SRC_IP,"
        "PACKETS,BYTES\n");
  FlowRecord* r = f.batch.AppendRecord();
  r->proto = 6;
  r->fields.set(FlowField::kProto);
  r->tcp_flags = 24;
  r->fields.set(FlowField::kTcpFlags);
  r->sampling_rate = 1;
  r->fields.set(FlowField::kSamplingRate);
  // JSON: same relative order; tcp_flags is a string as in pmacct.
  CHECK(f.Row(agg, OutputFormat::kJson, *r) ==
        "{\"event_type\": \"purge\", \"ip_src\": \"\", \"port_dst\": 0, "
        "\"tcp_flags\": \"24\", \"ip_proto\": \"tcp\", \"tos\": 0, "
        "\"sampling_rate\": 1, \"post_nat_ip_src\": \"\", \"packets\": 1, "
        "\"bytes\": 40}\n");
  CHECK(f.Row(agg, OutputFormat::kCsv, *r) == ",0,24,tcp,0,1,,1,40\n");
}

TEST_CASE("RowFormatter: tcp_flags absent is the JSON string \"0\"") {
  Fixture f;
  FlowRecord* r = f.batch.AppendRecord();
  CHECK(f.Row({"tcpflags"}, OutputFormat::kJson, *r) ==
        "{\"event_type\": \"purge\", \"tcp_flags\": \"0\", \"packets\": 1, "
        "\"bytes\": 40}\n");
}

TEST_CASE("RowFormatter: a time of 0 in a row prints as pmacct's zero time") {
  // Snapshot rows set every key field; records without an end time give 0.
  Fixture f;
  FlowRecord* r = f.batch.AppendRecord();
  r->fields.set(FlowField::kTimestampStart);
  r->fields.set(FlowField::kTimestampEnd);
  r->timestamp_start = int64_t{1'685'435'862} * 1'000'000'000;
  r->timestamp_end = 0;
  CHECK(f.Row({"timestamp_start", "timestamp_end"}, OutputFormat::kCsv, *r) ==
        "2023-05-30 08:37:42.000000,0000-00-00 00:00:00.000000,1,40\n");
}

TEST_CASE("RowFormatter: absent addresses are empty, '::' in formatted") {
  Fixture f;
  FlowRecord* r = f.batch.AppendRecord();
  r->src_host = IpAddress::Parse("10.0.0.1").value();
  r->fields.set(FlowField::kSrcHost);
  const std::vector<std::string> agg = {"peer_dst_ip", "src_host",
                                        "post_nat_dst_host"};
  CHECK(f.Row(agg, OutputFormat::kCsv, *r) == ",10.0.0.1,,1,40\n");
  CHECK(f.Row(agg, OutputFormat::kJson, *r) ==
        "{\"event_type\": \"purge\", \"peer_ip_dst\": \"\", \"ip_src\": "
        "\"10.0.0.1\", \"post_nat_ip_dst\": \"\", \"packets\": 1, \"bytes\": "
        "40}\n");
  const std::string row = f.Row(agg, OutputFormat::kFormatted, *r);
  CHECK(row.rfind("::" + std::string(45 + 2 - 2, ' ') + "10.0.0.1", 0) == 0);
  CHECK(row.find("10.0.0.1" + std::string(45 + 2 - 8, ' ') + "::") !=
        std::string::npos);
}

TEST_CASE(
    "RowFormatter: custom primitives in aggregate order, after "
    "built-ins") {
  Fixture f;
  f.AddCustom("name=direction field_type=61 len=1 semantics=u_int");
  f.AddCustom("name=Flow_End_Reason field_type=136 len=1 semantics=u_int");
  f.AddCustom("name=src_hex field_type=8 len=4 semantics=hex");
  const std::vector<std::string> agg = {"src_hex", "direction", "src_host",
                                        "flow_end_reason",
                                        "export_proto_sysid"};
  CHECK(f.Header(agg, OutputFormat::kCsv) ==
        "SRC_IP,EXPORT_PROTO_SYSID,src_hex,direction,flow_end_reason,PACKETS,"
        "BYTES\n");
  std::vector<std::string> reversed(agg.rbegin(), agg.rend());
  CHECK(f.Header(reversed, OutputFormat::kCsv) ==
        "SRC_IP,EXPORT_PROTO_SYSID,flow_end_reason,direction,src_hex,PACKETS,"
        "BYTES\n");
}

TEST_CASE("RowFormatter: absent custom values print as pmacct's zeros") {
  Fixture f;
  f.AddCustom("name=cu field_type=61 len=1 semantics=u_int");
  f.AddCustom("name=ch field_type=8 len=4 semantics=hex");
  f.AddCustom("name=cip field_type=15 len=4 semantics=ip");
  f.AddCustom("name=cmac field_type=56 len=6 semantics=mac");
  f.AddCustom("name=craw field_type=5 len=2 semantics=raw");
  f.AddCustom("name=cstr field_type=9:1 len=vlen semantics=str");
  const std::vector<std::string> agg = {"cu",   "ch",   "cip",
                                        "cmac", "craw", "cstr"};
  FlowRecord* r = f.batch.AppendRecord();
  CHECK(f.Row(agg, OutputFormat::kCsv, *r) ==
        "0,0,0.0.0.0,00:00:00:00:00:00,,,1,40\n");
  CHECK(f.Row(agg, OutputFormat::kJson, *r) ==
        "{\"event_type\": \"purge\", \"cu\": \"0\", \"ch\": \"0\", \"cip\": "
        "\"0.0.0.0\", \"cmac\": \"00:00:00:00:00:00\", \"craw\": \"\", "
        "\"cstr\": \"\", \"packets\": 1, \"bytes\": 40}\n");
  // Present values: raw in upper-case hex.
  const uint8_t raw[] = {0xb8, 0x00};
  f.batch.AddCustom(r, f.Id("craw"), raw);
  CHECK(f.Row({"craw"}, OutputFormat::kCsv, *r) == "B800,1,40\n");
}

TEST_CASE("RowFormatter: event records have no JSON flows/packets/bytes") {
  Fixture f;
  FlowRecord* r = f.batch.AppendRecord();
  RowCounters c{0, 0, 1, true};
  CHECK(f.Row({"tag"}, OutputFormat::kJson, *r, c) ==
        "{\"event_type\": \"purge\", \"tag\": 0}\n");
  CHECK(f.Row({"tag"}, OutputFormat::kCsv, *r, c) == "0,0,0\n");
  // Snapshot rows lose the record kind: 0 packets and 0 bytes is taken as
  // an event, whose `flows` nfacctd 1.7.7 drops as well (observed on
  // akvorado-nf9-nat-nel and logstash-nf9-macaddr with `flows` aggregated);
  // an NSEL flow row with bytes but no packets keeps both keys.
  RowCounters zero{0, 0, 1, false};
  CHECK(f.Row({"tag", "flows"}, OutputFormat::kJson, *r, zero) ==
        "{\"event_type\": \"purge\", \"tag\": 0}\n");
  CHECK(f.Row({"tag", "flows"}, OutputFormat::kCsv, *r, zero) == "0,0,1,0\n");
  RowCounters nsel{0, 112, 1, false};
  CHECK(f.Row({"tag"}, OutputFormat::kJson, *r, nsel) ==
        "{\"event_type\": \"purge\", \"tag\": 0, \"packets\": 0, "
        "\"bytes\": 112}\n");
  // The memory client's JSON keeps them.
  RowFormatter imt(f.reg.get(), f.Ids({"tag"}), OutputFormat::kJson,
                   RowLayout::kImt, ',', FormatOptions{}, false, true);
  std::vector<KeyValue> keys;
  imt.FormatKeys(*r, f.batch, &keys);
  std::string out;
  imt.AppendRow(keys, false, 0, 0, zero, &out);
  CHECK(out == "{\"tag\": 0, \"packets\": 0, \"bytes\": 0}\n");
}

}  // namespace
}  // namespace flowacct
