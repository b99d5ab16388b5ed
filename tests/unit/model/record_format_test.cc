#include "flowacct/model/record_format.h"

#include <string>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

struct Fixture {
  std::unique_ptr<PrimitiveRegistry> reg =
      PrimitiveRegistry::CreateWithBuiltins();
  RecordBatch batch{8};

  FlowRecord* Flow() {
    FlowRecord* r = batch.AppendRecord();
    r->protocol = ExportProtocol::kNetflowV5;
    r->exporter = *IpAddress::Parse("192.0.2.1");
    r->fields.set(FlowField::kSrcHost);
    r->src_host = *IpAddress::Parse("10.0.0.1");
    r->fields.set(FlowField::kDstHost);
    r->dst_host = *IpAddress::Parse("2001:db8::2");
    r->fields.set(FlowField::kSrcPort);
    r->src_port = 443;
    r->fields.set(FlowField::kProto);
    r->proto = 6;
    r->fields.set(FlowField::kPackets);
    r->packets = 2;
    r->fields.set(FlowField::kBytes);
    r->bytes = 120;
    return r;
  }
  std::vector<PrimitiveId> Cols(const char* list) {
    auto c = RecordFormatter::ParseColumns(*reg, list);
    REQUIRE(c.ok());
    return *c;
  }
};

TEST_CASE("RecordFormatter JSON: keys of present primitives, in order") {
  Fixture f;
  FlowRecord* r = f.Flow();
  RecordFormatter json(f.reg.get(), RecordFormatter::AllColumns(*f.reg),
                       OutputFormat::kJson, {});
  std::string out;
  json.AppendHeader(&out);
  CHECK(out.empty());
  json.AppendRecord(*r, f.batch, &out);
  CHECK(out ==
        "{\"sample_type\":\"flow\",\"peer_ip_src\":\"192.0.2.1\","
        "\"ip_src\":\"10.0.0.1\",\"ip_dst\":\"2001:db8::2\",\"port_src\":443,"
        "\"ip_proto\":\"tcp\",\"export_proto_version\":5,\"packets\":2,"
        "\"bytes\":120}\n");
  r->kind = RecordKind::kOptions;
  out.clear();
  json.AppendRecord(*r, f.batch, &out);
  CHECK(out.rfind("{\"sample_type\":\"option\",", 0) == 0);
}

TEST_CASE("RecordFormatter JSON escapes strings") {
  Fixture f;
  FlowRecord* r = f.Flow();
  r->fields.set(FlowField::kVrfName);
  r->vrf_name = f.batch.StoreBytes(std::string_view("a\"b\\c\nd"));
  RecordFormatter json(f.reg.get(), f.Cols("vrf_name"), OutputFormat::kJson,
                       {});
  std::string out;
  json.AppendRecord(*r, f.batch, &out);
  // '\' and '\n' were sanitised to \x5c / \x0a, then JSON-escaped.
  CHECK(out ==
        "{\"sample_type\":\"flow\",\"vrf_name\":\"a\\\"b\\\\x5cc\\\\x0ad\"}\n");
}

TEST_CASE("RecordFormatter CSV: header, empty absent values, quoting") {
  Fixture f;
  FlowRecord* r = f.Flow();
  r->fields.set(FlowField::kInIfaceName);
  r->in_iface_name = f.batch.StoreBytes(std::string_view("Gi0/0, \"core\""));
  RecordFormatter csv(f.reg.get(),
                      f.Cols("src_host,dst_host,dst_port,proto,in_iface_name,"
                             "packets,bytes"),
                      OutputFormat::kCsv, {});
  std::string out;
  csv.AppendHeader(&out);
  CHECK(out == "SRC_IP,DST_IP,DST_PORT,PROTOCOL,IN_IFACE_NAME,PACKETS,BYTES\n");
  out.clear();
  csv.AppendRecord(*r, f.batch, &out);
  CHECK(out == "10.0.0.1,2001:db8::2,,tcp,\"Gi0/0, \"\"core\"\"\",2,120\n");
}

TEST_CASE("RecordFormatter formatted: aligned columns") {
  Fixture f;
  FlowRecord* r = f.Flow();
  RecordFormatter fmt(f.reg.get(), f.Cols("src_port,proto,bytes"),
                      OutputFormat::kFormatted, {});
  std::string header, row;
  fmt.AppendHeader(&header);
  fmt.AppendRecord(*r, f.batch, &row);
  // Each value starts where its header starts.
  CHECK(header.find("PROTOCOL") == row.find("tcp"));
  CHECK(header.find("BYTES") == row.find("120"));
  CHECK(row.rfind("443", 0) == 0);
}

TEST_CASE("ParseColumns accepts names and JSON keys, rejects unknown") {
  Fixture f;
  auto c = RecordFormatter::ParseColumns(*f.reg, "src_host, ip_dst,bytes");
  REQUIRE(c.ok());
  REQUIRE(c->size() == 3);
  CHECK(f.reg->Get((*c)[1]).name == "dst_host");
  auto bad = RecordFormatter::ParseColumns(*f.reg, "src_host,nonsense");
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("nonsense"));
  CHECK_FALSE(RecordFormatter::ParseColumns(*f.reg, ",,").ok());
}

TEST_CASE("Counter samples print as event_type counters with sFlow names") {
  CounterRecord c;
  c.agent = *IpAddress::Parse("192.0.2.7");
  c.datagram_seqno = 9;
  c.source_id = (0u << 24) | 3;
  c.blocks = CounterRecord::kGeneric;
  c.if_index = 3;
  c.if_in_octets = 1000;
  std::string out;
  RecordFormatter::AppendCounterJson(c, {}, &out);
  CHECK(out.rfind("{\"event_type\":\"counters\",\"peer_ip_src\":\"192.0.2.7\"",
                  0) == 0);
  CHECK_THAT(out, Catch::Contains("\"seq\":9"));
  CHECK_THAT(out, Catch::Contains("\"ifIndex\":3"));
  CHECK_THAT(out, Catch::Contains("\"ifInOctets\":1000"));
  CHECK_THAT(out, !Catch::Contains("dot3Stats"));
  CHECK(out.back() == '\n');
}

}  // namespace
}  // namespace flowacct
