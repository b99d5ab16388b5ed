#include "flowacct/enrich/pre_tag_map.h"

#include <string>

#include <catch2/catch.hpp>

#include "flowacct/model/record_batch.h"

namespace flowacct {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

std::shared_ptr<const PreTagMap> MustLoad(std::string_view text,
                                          PreTagMapOptions options = {}) {
  auto map = PreTagMap::Load(text, "test.map", options);
  INFO(map.status().ToString());
  REQUIRE(map.ok());
  return *map;
}

Status LoadError(std::string_view text, PreTagMapOptions options = {}) {
  auto map = PreTagMap::Load(text, "test.map", options);
  REQUIRE_FALSE(map.ok());
  return map.status();
}

FlowRecord BaseRecord() {
  FlowRecord r;
  r.protocol = ExportProtocol::kNetflowV9;
  r.kind = RecordKind::kFlow;
  r.exporter = Ip("192.0.2.1");
  r.ip_version = 4;
  r.src_host = Ip("10.1.2.3");
  r.dst_host = Ip("198.51.100.7");
  r.fields.set(FlowField::kSrcHost);
  r.fields.set(FlowField::kDstHost);
  r.in_iface = 3;
  r.out_iface = 7;
  r.proto = 6;
  r.src_port = 40000;
  r.dst_port = 443;
  return r;
}

struct Tagged {
  uint64_t tag = 0;
  uint64_t tag2 = 0;
  std::string label;
  bool has_tag = false;
};

Tagged Run(const PreTagMap& map, const FlowRecord& input) {
  RecordBatch batch(4);
  FlowRecord r = input;
  map.Apply(&r, &batch);
  Tagged t;
  t.tag = r.tag;
  t.tag2 = r.tag2;
  t.has_tag = r.has(FlowField::kTag);
  if (r.has(FlowField::kLabel)) t.label = std::string(batch.bytes(r.label));
  return t;
}

TEST_CASE("pre_tag_map: ip, in, out; first match wins", "[pre_tag_map]") {
  auto map = MustLoad(
      "! comment\n"
      "\n"
      "set_tag=1\tip=192.0.2.9 in=3\n"
      "set_tag=10 ip=192.0.2.1 in=5 out=7\n"
      "set_tag=11 ip=192.0.2.1 in=3 out=7\n"
      "set_tag=12 ip=192.0.2.1 in=3\n"
      "set_tag=13 ip=192.0.2.0/24\n");
  CHECK(map->size() == 5);
  FlowRecord r = BaseRecord();
  Tagged t = Run(*map, r);
  CHECK(t.has_tag);
  CHECK(t.tag == 11);
  r.out_iface = 8;
  CHECK(Run(*map, r).tag == 12);
  r.in_iface = 4;
  CHECK(Run(*map, r).tag == 13);
  r.exporter = Ip("192.0.3.1");
  Tagged none = Run(*map, r);
  CHECK_FALSE(none.has_tag);
  CHECK(none.tag == 0);
}

TEST_CASE("pre_tag_map: rows without ip match every exporter, v4 and v6",
          "[pre_tag_map]") {
  auto map = MustLoad("set_tag=5 in=3\nset_tag=6 ip=2001:db8::/32\n");
  FlowRecord r = BaseRecord();
  r.exporter = Ip("2001:db8::1");
  CHECK(Run(*map, r).tag == 5);
  r.in_iface = 1;
  CHECK(Run(*map, r).tag == 6);
  r.exporter = Ip("::ffff:192.0.2.1");  // v4-mapped: checked as v4
  auto v4map = MustLoad("set_tag=7 ip=192.0.2.1\n");
  CHECK(Run(*v4map, r).tag == 7);
}

TEST_CASE("pre_tag_map: negation", "[pre_tag_map]") {
  auto map = MustLoad(
      "set_tag=1 in=-3\nset_tag=2 src_net=-10.0.0.0/8\nset_tag=3 "
      "dst_port=-80\n");
  FlowRecord r = BaseRecord();
  CHECK(Run(*map, r).tag == 3);  // in is 3, src in 10/8, dst_port 443 != 80
  r.in_iface = 4;
  CHECK(Run(*map, r).tag == 1);
  r.in_iface = 3;
  r.src_host = Ip("172.16.0.1");
  CHECK(Run(*map, r).tag == 2);
  r.src_host = Ip("10.0.0.1");
  r.dst_port = 80;
  CHECK_FALSE(Run(*map, r).has_tag);
}

TEST_CASE("pre_tag_map: each match key", "[pre_tag_map]") {
  FlowRecord r = BaseRecord();
  r.engine_type = 1;
  r.engine_id = 2;
  r.fields.set(FlowField::kEngineType);
  r.fields.set(FlowField::kEngineId);
  r.observation_domain = 77;
  r.template_id = 260;
  r.sampling_rate = 100;
  r.ip_next_hop = Ip("10.9.9.9");
  r.bgp_next_hop = Ip("10.8.8.8");
  r.direction = 1;
  r.fwd_status = 64;
  r.src_mac = MacAddress{{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}};
  r.dst_mac = MacAddress{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}};
  r.in_vlan = 100;
  r.in_cvlan = 200;
  r.out_cvlan = 300;
  r.tcp_flags = 0x12;
  r.mpls_pw_id = 9;
  r.ingress_vrf_id = 11;
  r.egress_vrf_id = 12;
  r.src_as = 64500;
  r.dst_as = 64501;
  r.peer_src_as = 64502;
  r.peer_dst_as = 64503;
  r.local_pref = 150;

  struct Case {
    const char* row;
    bool match;
  };
  const Case cases[] = {
      {"engine_type=1", true},
      {"engine_type=2", false},
      {"engine_id=2", true},
      {"engine_id=-2", false},
      {"source_id=77", true},
      {"source_id=78", false},
      {"agent_id=77", true},
      {"flowset_id=260", true},
      {"flowset_id=261", false},
      {"sample_type=flow", true},
      {"sample_type=flow-ipv4", true},
      {"sample_type=flow-ipv6", false},
      {"sample_type=flow-mpls-ipv4", false},
      {"sample_type=event", false},
      {"sample_type=option", false},
      {"sample_type=-option", true},
      {"sampling_rate=100", true},
      {"sampling_rate=10", false},
      {"nexthop=10.9.9.9", true},
      {"nexthop=10.9.0.0/16", true},
      {"nexthop=10.8.8.8", false},
      {"bgp_nexthop=10.8.8.8", true},
      {"direction=1", true},
      {"direction=0", false},
      {"fwd_status=64", true},
      {"src_mac=00:11:22:33:44:55", true},
      {"src_mac=00:11:22:33:44:56", false},
      {"dst_mac=AA:BB:CC:DD:EE:FF", true},
      {"vlan=100", true},
      {"vlan=101", false},
      {"cvlan=200", true},
      {"post_cvlan=300", true},
      {"src_net=10.1.0.0/16", true},
      {"src_net=10.2.0.0/16", false},
      {"dst_net=198.51.100.0/24", true},
      {"dst_net=198.51.100.8", false},
      {"ip_proto=6", true},
      {"ip_proto=tcp", true},
      {"proto=udp", false},
      {"src_port=40000", true},
      {"dst_port=443", true},
      {"dst_port=444", false},
      {"tcp_flags=0x12", true},
      {"tcp_flags=18", true},
      {"tcp_flags=0x02", false},
      {"is_multicast=false", true},
      {"is_multicast=true", false},
      {"is_bi_flow=false", true},
      {"is_nel=false", true},
      {"is_nsel=true", false},
      {"mpls_pw_id=9", true},
      {"mpls_vpn_id_in=11", true},
      {"mpls_vpn_id_out=12", true},
      {"src_as=64500", true},
      {"src_as=64501", false},
      {"dst_as=64501", true},
      {"peer_src_as=64502", true},
      {"peer_dst_as=64503", true},
      {"local_pref=150", true},
      {"local_pref=-150", false},
  };
  for (const Case& c : cases) {
    INFO(c.row);
    auto map = MustLoad(std::string("set_tag=42 ") + c.row + "\n");
    CHECK(Run(*map, r).has_tag == c.match);
  }
}

TEST_CASE("pre_tag_map: engine_type/engine_id from the v9 source id",
          "[pre_tag_map]") {
  FlowRecord r = BaseRecord();
  r.observation_domain = 0x00000305;  // engine type 3, engine id 5
  auto map = MustLoad("set_tag=1 engine_type=3 engine_id=5\n");
  CHECK(Run(*map, r).tag == 1);
  r.protocol = ExportProtocol::kIpfix;  // no such octets in IPFIX
  CHECK_FALSE(Run(*map, r).has_tag);
}

TEST_CASE("pre_tag_map: sample_type event and option", "[pre_tag_map]") {
  auto map =
      MustLoad("set_tag=1 sample_type=event\nset_tag=2 sample_type=option\n");
  FlowRecord r = BaseRecord();
  r.kind = RecordKind::kEvent;
  CHECK(Run(*map, r).tag == 1);
  r.kind = RecordKind::kOptions;
  CHECK(Run(*map, r).tag == 2);
}

TEST_CASE("pre_tag_map: comms against the record's standard communities",
          "[pre_tag_map]") {
  auto map = MustLoad("set_tag=100 comms=65000:1234,65000:2345\n");
  RecordBatch batch(4);
  FlowRecord r = BaseRecord();
  const uint8_t comms[] = {0xfd, 0xe8, 0x09, 0x29};  // 65000:2345
  r.std_comm = batch.StoreBytes(std::span<const uint8_t>(comms));
  r.fields.set(FlowField::kStdComm);
  map->Apply(&r, &batch);
  CHECK(r.tag == 100);
}

TEST_CASE("pre_tag_map: set_tag2, set_label, set_tos", "[pre_tag_map]") {
  auto map = MustLoad("set_tag=1 set_tag2=2 set_label=blue set_tos=46 in=3\n");
  RecordBatch batch(4);
  FlowRecord r = BaseRecord();
  map->Apply(&r, &batch);
  CHECK(r.tag == 1);
  CHECK(r.tag2 == 2);
  CHECK(r.has(FlowField::kTag2));
  CHECK(r.has(FlowField::kLabel));
  CHECK(batch.bytes(r.label) == "blue");
  CHECK(r.tos == 46);
  CHECK(r.has(FlowField::kTos));
}

TEST_CASE("pre_tag_map: jeq continues at the label; return defaults to false",
          "[pre_tag_map]") {
  auto map = MustLoad(
      "set_tag=1000 ip=192.0.2.1 in=1 jeq=eval_out\n"
      "set_tag=1003 ip=192.0.2.1 in=3 jeq=eval_out\n"
      "set_tag=9 ip=192.0.2.1\n"
      "set_tag2=2001 ip=192.0.2.1 out=1 label=eval_out\n"
      "set_tag2=2007 ip=192.0.2.1 out=7\n");
  FlowRecord r = BaseRecord();
  Tagged t = Run(*map, r);
  CHECK(t.tag == 1003);
  CHECK(t.tag2 == 2007);
  r.out_iface = 99;  // no later row matches: the jeq row's tag stays
  t = Run(*map, r);
  CHECK(t.tag == 1003);
  CHECK(t.tag2 == 0);
  r.in_iface = 2;  // no jeq row: row 3 wins and stops
  t = Run(*map, r);
  CHECK(t.tag == 9);
  CHECK(t.tag2 == 0);
}

TEST_CASE("pre_tag_map: jeq=next and stack=sum / stack=or", "[pre_tag_map]") {
  auto map = MustLoad(
      "set_tag=11000 in=3 jeq=eval_out\n"
      "set_tag=12000 in=4 jeq=eval_out\n"
      "set_tag=100 out=1 label=eval_out stack=sum\n"
      "set_tag=107 out=7 stack=sum\n");
  FlowRecord r = BaseRecord();
  CHECK(Run(*map, r).tag == 11107);
  auto or_map = MustLoad(
      "set_tag=1 in=3 jeq=next\n"
      "set_tag=4 out=7 stack=or jeq=next\n"
      "set_tag=16 stack=or\n");
  CHECK(Run(*or_map, r).tag == 21);
}

TEST_CASE("pre_tag_map: labels of several rows accumulate with a comma",
          "[pre_tag_map]") {
  auto map = MustLoad(
      "set_label=blabla ip=0.0.0.0/0 jeq=blabla2\n"
      "set_label=never ip=0.0.0.0/0\n"
      "set_label=blabla2 ip=0.0.0.0/0 label=blabla2\n");
  CHECK(Run(*map, BaseRecord()).label == "blabla,blabla2");
}

TEST_CASE("pre_tag_map: set_tag=N++ auto-increments", "[pre_tag_map]") {
  auto map = MustLoad("set_tag=5++ ip=0.0.0.0/0\n");
  FlowRecord r = BaseRecord();
  CHECK(Run(*map, r).tag == 5);
  CHECK(Run(*map, r).tag == 6);
  CHECK(Run(*map, r).tag == 7);
}

TEST_CASE("pre_tag_map: return=true appends tagged copies (ApplyAt)",
          "[pre_tag_map]") {
  auto map = MustLoad(
      "set_tag=1001 in=3 jeq=eval_out return=true\n"
      "set_tag=2007 out=7 label=eval_out\n");
  CHECK(map->may_append());
  RecordBatch batch(1);  // small: appending reallocates
  *batch.AppendRecord() = BaseRecord();
  const uint8_t custom[] = {1, 2};
  batch.AddCustom(&batch.records()[0], 5, std::span<const uint8_t>(custom));
  CHECK(map->ApplyAt(&batch, 0) == 1);
  REQUIRE(batch.size() == 2);
  CHECK(batch.records()[0].tag == 2007);
  CHECK(batch.records()[1].tag == 1001);
  CHECK(batch.customs(batch.records()[1]).size() == 1);
  // Apply never appends.
  FlowRecord r = BaseRecord();
  map->Apply(&r, &batch);
  CHECK(r.tag == 2007);
  CHECK(batch.size() == 2);
}

TEST_CASE("pre_tag_map: errors name file and line", "[pre_tag_map]") {
  Status s = LoadError("set_tag=1 ip=192.0.2.1\n\nset_tag=2 in=abc\n");
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("test.map:3:") == 0);
  CHECK(s.message().find("'in'") != std::string::npos);

  s = LoadError(
      "! x\nset_tag=15 ip=192.0.2.1 in=3 filter='src net 10.0.0.0/8'\n");
  CHECK(s.code() == StatusCode::kUnimplemented);
  CHECK(s.message().find("test.map:2:") == 0);
  CHECK(s.message().find("filter") != std::string::npos);

  CHECK(
      LoadError("set_tag=1 bogus=3\n").message().find("unknown key 'bogus'") !=
      std::string::npos);
  CHECK(LoadError("set_tag = 1\n").code() == StatusCode::kInvalidArgument);
  CHECK(LoadError("set_tag=0\n").message().find("test.map:1:") == 0);
  CHECK(LoadError("set_tag=-1\n").code() == StatusCode::kInvalidArgument);
  CHECK(LoadError("set_tag=1 ip=-192.0.2.1\n")
            .message()
            .find("cannot be negated") != std::string::npos);
  CHECK(LoadError("ip=192.0.2.1\n").message().find("sets nothing") !=
        std::string::npos);
  CHECK(LoadError("set_tag=1 in=1 in=2\n").message().find("twice") !=
        std::string::npos);
  s = LoadError("set_tag=1 label=x\nset_tag=2 jeq=x\n");  // backwards jump
  CHECK(s.message().find("test.map:2:") == 0);
  CHECK(LoadError("set_tag=1 stack=mul\n").code() ==
        StatusCode::kInvalidArgument);
  CHECK(LoadError("set_tag=1 sample_type=0:1\n").code() ==
        StatusCode::kUnimplemented);
  CHECK(LoadError("set_tag=1 filter='unterminated\n").code() ==
        StatusCode::kInvalidArgument);
  CHECK(LoadError("set_tag=1 src_mac=00:11:22\n").code() ==
        StatusCode::kInvalidArgument);
  CHECK(LoadError("set_tag=1 vlan=5000\n").code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("pre_tag_map: maps_entries cap", "[pre_tag_map]") {
  std::string text;
  for (int i = 1; i <= 385; ++i) text += "set_tag=" + std::to_string(i) + "\n";
  Status s = LoadError(text);
  CHECK(s.code() == StatusCode::kResourceExhausted);
  CHECK(s.message().find("test.map:385:") == 0);
  PreTagMapOptions bigger;
  bigger.max_entries = 385;
  CHECK(MustLoad(text, bigger)->size() == 385);
}

TEST_CASE("pre_tag_map: hostile input is a clear error", "[pre_tag_map]") {
  Status s =
      LoadError("set_tag=1\nset_tag=2 in=" + std::string(300, '1') + "\n");
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("test.map:2:") == 0);
  CHECK(s.message().find("limit is 256") != std::string::npos);

  std::string junk = "set_tag=1\n";
  junk += std::string(
      "\x7f"
      "ELF\x02\x01\x01\x00\x00",
      9);
  s = LoadError(junk);
  CHECK(s.message().find("test.map:2:") == 0);
  CHECK(s.message().find("control byte") != std::string::npos);

  // Every byte value, many lines: fails cleanly (no crash, no hang).
  std::string all;
  for (int round = 0; round < 64; ++round) {
    for (int b = 0; b < 256; ++b)
      all.push_back(static_cast<char>((b * 37 + round) & 0xff));
  }
  CHECK_FALSE(PreTagMap::Load(all, "junk", {}).ok());

  auto missing = PreTagMap::LoadFile("/nonexistent/flowacct/pretag.map", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kIoError);
}

TEST_CASE("pre_tag_map: CRLF line ends and tabs", "[pre_tag_map]") {
  auto map = MustLoad("set_tag=1\tip=192.0.2.1\tin=3\r\n");
  CHECK(Run(*map, BaseRecord()).tag == 1);
}

}  // namespace
}  // namespace flowacct

namespace flowacct {
namespace {

TEST_CASE("pre_tag_map: exporter index keeps order, prefixes and jumps",
          "[pre_tag_map]") {
  auto map = MustLoad(
      "set_tag=1 ip=192.0.2.1 in=1\n"
      "set_tag=2 ip=192.0.2.0/24 in=2 jeq=j\n"
      "set_tag=3 ip=192.0.2.2 in=2\n"
      "set_tag=4 in=4\n"
      "set_tag2=5 ip=192.0.2.1 label=j\n"
      "set_tag2=6 in=2 label=j2\n"
      "set_tag=7 ip=192.0.2.2\n"
      "set_tag=8 ip=192.0.2.0/24\n"
      "set_tag=9\n");
  FlowRecord r = BaseRecord();
  r.exporter = Ip("192.0.2.1");
  r.in_iface = 1;
  CHECK(Run(*map, r).tag == 1);
  r.in_iface = 2;  // row 2 jumps to row 5 (same exporter): tag2 5
  Tagged t = Run(*map, r);
  CHECK(t.tag == 2);
  CHECK(t.tag2 == 5);
  r.exporter = Ip("192.0.2.2");  // row 2 jumps; row 5 is not for it: row 6
  t = Run(*map, r);
  CHECK(t.tag == 2);
  CHECK(t.tag2 == 6);
  r.in_iface = 4;
  CHECK(Run(*map, r).tag == 4);
  r.in_iface = 0;
  CHECK(Run(*map, r).tag == 7);
  r.exporter = Ip("192.0.2.3");  // only prefix and ip-less rows apply
  CHECK(Run(*map, r).tag == 8);
  r.in_iface = 2;
  t = Run(*map, r);
  CHECK(t.tag == 2);
  CHECK(t.tag2 == 6);
  r.exporter = Ip("198.51.100.1");
  r.in_iface = 0;
  CHECK(Run(*map, r).tag == 9);
}

}  // namespace
}  // namespace flowacct
