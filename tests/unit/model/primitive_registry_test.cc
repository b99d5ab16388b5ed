#include "flowacct/model/primitive_registry.h"

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

struct Fixture {
  std::unique_ptr<PrimitiveRegistry> reg =
      PrimitiveRegistry::CreateWithBuiltins();
  RecordBatch batch{16};
  FormatOptions opts;

  // The value of primitive `name` for `r`, "<absent>" if absent; the JSON
  // kind in *kind.
  std::string Value(const std::string& name, const FlowRecord& r,
                    ValueKind* kind = nullptr) {
    const PrimitiveInfo* p = reg->Find(name);
    REQUIRE(p != nullptr);
    std::string out;
    ValueKind k = reg->FormatValue(p->id, r, batch, opts, &out);
    if (kind) *kind = k;
    if (k == ValueKind::kAbsent) {
      CHECK(out.empty());
      return "<absent>";
    }
    return out;
  }
};

TEST_CASE("Built-in table: every pmacct primitive, unique names, order") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  const std::vector<std::string> pmacct = {// pmacct.md §1(c), every group.
                                           "src_mac",
                                           "dst_mac",
                                           "vlan",
                                           "in_vlan",
                                           "out_vlan",
                                           "in_cvlan",
                                           "out_cvlan",
                                           "cos",
                                           "etype",
                                           "src_host",
                                           "dst_host",
                                           "src_net",
                                           "dst_net",
                                           "src_mask",
                                           "dst_mask",
                                           "proto",
                                           "tos",
                                           "flow_label",
                                           "src_port",
                                           "dst_port",
                                           "tcpflags",
                                           "sum_host",
                                           "sum_net",
                                           "sum_as",
                                           "sum_port",
                                           "sum_mac",
                                           "src_as",
                                           "dst_as",
                                           "as_path",
                                           "std_comm",
                                           "ext_comm",
                                           "lrg_comm",
                                           "local_pref",
                                           "med",
                                           "peer_src_as",
                                           "peer_dst_as",
                                           "peer_dst_ip",
                                           "src_as_path",
                                           "src_std_comm",
                                           "src_ext_comm",
                                           "src_lrg_comm",
                                           "src_local_pref",
                                           "src_med",
                                           "src_roa",
                                           "dst_roa",
                                           "peer_src_ip",
                                           "in_iface",
                                           "out_iface",
                                           "in_iface_name",
                                           "out_iface_name",
                                           "sampling_rate",
                                           "sampling_direction",
                                           "export_proto_seqno",
                                           "export_proto_version",
                                           "export_proto_sysid",
                                           "fwd_status",
                                           "nat_event",
                                           "fw_event",
                                           "post_nat_src_host",
                                           "post_nat_dst_host",
                                           "post_nat_src_port",
                                           "post_nat_dst_port",
                                           "mpls_label_top",
                                           "mpls_label_bottom",
                                           "mpls_label_stack",
                                           "mpls_vpn_rd",
                                           "mpls_pw_id",
                                           "vrf_name",
                                           "ingress_vrf_name",
                                           "egress_vrf_name",
                                           "tunnel_src_mac",
                                           "tunnel_dst_mac",
                                           "tunnel_src_host",
                                           "tunnel_dst_host",
                                           "tunnel_proto",
                                           "tunnel_tos",
                                           "tunnel_src_port",
                                           "tunnel_dst_port",
                                           "tunnel_tcpflags",
                                           "tunnel_flow_label",
                                           "vxlan",
                                           "nvgre",
                                           "srv6_seg_ipv6_list",
                                           "timestamp_start",
                                           "timestamp_end",
                                           "timestamp_arrival",
                                           "timestamp_export",
                                           "timestamp_min",
                                           "timestamp_max",
                                           "path_delay_avg_usec",
                                           "path_delay_min_usec",
                                           "path_delay_max_usec",
                                           "tag",
                                           "tag2",
                                           "label",
                                           "class",
                                           "src_host_country",
                                           "dst_host_country",
                                           "src_host_pocode",
                                           "dst_host_pocode",
                                           "src_host_coords",
                                           "dst_host_coords",
                                           "flows",
                                           "packets",
                                           "bytes",
                                           "none"};
  for (const std::string& name : pmacct) {
    INFO(name);
    CHECK(reg->Find(name) != nullptr);
  }
  std::set<std::string> names, keys, headers;
  for (size_t i = 0; i < reg->all().size(); ++i) {
    const PrimitiveInfo* p = reg->all()[i];
    INFO(p->name);
    CHECK(p->id == i);
    CHECK(names.insert(p->name).second);
    CHECK(keys.insert(p->json_key).second);
    CHECK(headers.insert(p->csv_header).second);
    CHECK_FALSE(p->sql_column.empty());
    CHECK_FALSE(p->sources.empty());
    CHECK_FALSE(p->is_custom);
  }
  // §6.1 names.
  CHECK(reg->Find("src_host")->json_key == "ip_src");
  CHECK(reg->Find("src_host")->csv_header == "SRC_IP");
  CHECK(reg->Find("src_port")->sql_column == "port_src");
  CHECK(reg->Find("proto")->json_key == "ip_proto");
  CHECK(reg->Find("proto")->csv_header == "PROTOCOL");
  CHECK(reg->Find("local_pref")->csv_header == "PREF");
  CHECK(reg->Find("class")->sql_column == "class_id");
  CHECK(reg->Find("ingress_vrf_name")->sql_column == "vrf_name_ingress");
  CHECK(reg->FindByJsonKey("peer_ip_src")->name == "peer_src_ip");
  CHECK(reg->FindByJsonKey("tcp_flags")->name == "tcpflags");
  CHECK(reg->Find("ip_src") == nullptr);
  CHECK(reg->Find("src_host")->field == FlowField::kSrcHost);
  CHECK(reg->Find("src_net")->field == FlowField::kSrcNet);
  CHECK(reg->Find("med")->field == FlowField::kMed);  // from the BGP RIB
  CHECK(reg->Find("dst_roa")->field == FlowField::kCount);  // not yet
  // Output order: tags first, counters last (packets, flows, bytes), the
  // pmacct sequence in between.
  auto pos = [&](const char* n) { return reg->Find(n)->id; };
  CHECK(pos("tag") == 0);
  CHECK(pos("tag") < pos("tag2"));
  CHECK(pos("label") < pos("class"));
  CHECK(pos("class") < pos("src_mac"));
  CHECK(pos("dst_mac") < pos("vlan"));
  CHECK(pos("vlan") < pos("peer_src_ip"));
  CHECK(pos("peer_src_ip") < pos("src_host"));
  CHECK(pos("src_host") < pos("dst_host"));
  CHECK(pos("dst_host") < pos("src_port"));
  CHECK(pos("src_port") < pos("dst_port"));
  CHECK(pos("dst_port") < pos("tcpflags"));
  CHECK(pos("tcpflags") < pos("proto"));
  CHECK(pos("proto") < pos("tos"));
  CHECK(pos("tos") < pos("timestamp_start"));
  size_t n = reg->all().size();
  CHECK(reg->all()[n - 3]->name == "packets");
  CHECK(reg->all()[n - 2]->name == "flows");
  CHECK(reg->all()[n - 1]->name == "bytes");
}

TEST_CASE("ParseCustomLine accepts pmacct aggregate_primitives lines") {
  auto s = PrimitiveRegistry::ParseCustomLine(
      "name=app_name field_type=9:12235 len=vlen semantics=str");
  REQUIRE(s.ok());
  CHECK(s->name == "app_name");
  CHECK(s->element == ElementId{9, 12235});
  CHECK(s->length == kVariableLength);
  CHECK(s->type == PrimitiveType::kString);

  s = PrimitiveRegistry::ParseCustomLine(
      "  name = nat_port   field_type = 227 len=2 semantics=u_int ! comment");
  REQUIRE(s.ok());
  CHECK(s->name == "nat_port");
  CHECK(s->element == ElementId{0, 227});
  CHECK(s->length == 2);
  CHECK(s->type == PrimitiveType::kUint);

  s = PrimitiveRegistry::ParseCustomLine(
      "name=x field_type=PEN:9:1 len=16 semantics=ip");
  REQUIRE(s.ok());
  CHECK(s->element == ElementId{9, 1});
  CHECK(PrimitiveRegistry::ParseCustomLine(
            "name=m field_type=56 len=6 semantics=mac")
            ->type == PrimitiveType::kMac);
  CHECK(PrimitiveRegistry::ParseCustomLine(
            "name=h field_type=256 len=2 semantics=hex")
            ->type == PrimitiveType::kHex);
  CHECK(PrimitiveRegistry::ParseCustomLine(
            "name=r field_type=315 len=vlen semantics=raw")
            ->type == PrimitiveType::kRaw);
}

TEST_CASE("ParseCustomLine: comments, blanks and errors with reasons") {
  CHECK(PrimitiveRegistry::ParseCustomLine("").status().code() ==
        StatusCode::kNotFound);
  CHECK(PrimitiveRegistry::ParseCustomLine("   ").status().code() ==
        StatusCode::kNotFound);
  CHECK(PrimitiveRegistry::ParseCustomLine("! a comment").status().code() ==
        StatusCode::kNotFound);
  CHECK(PrimitiveRegistry::ParseCustomLine("# another").status().code() ==
        StatusCode::kNotFound);
  struct Case {
    const char* line;
    const char* reason;
  };
  for (Case c : std::vector<Case>{
           {"field_type=1 len=4 semantics=u_int", "missing name"},
           {"name=a len=4 semantics=u_int", "missing field_type"},
           {"name=a field_type=1 semantics=u_int", "missing len"},
           {"name=a field_type=1 len=4", "missing semantics"},
           {"name=a field_type=1 len=4 semantics=float", "semantics"},
           {"name=a field_type=70000 len=4 semantics=u_int", "element id"},
           {"name=a field_type=x:1 len=4 semantics=u_int", "enterprise"},
           {"name=a field_type=1 len=0 semantics=u_int", "len"},
           {"name=a field_type=1 len=abc semantics=u_int", "len"},
           {"name=a field_type=1 len=3 semantics=ip", "ip needs len 4 or 16"},
           {"name=a field_type=1 len=4 semantics=mac", "mac needs len 6"},
           {"name=a field_type=1 len=vlen semantics=u_int", "u_int/hex"},
           {"name=a field_type=1 len=16 semantics=u_int", "u_int/hex"},
           {"name=a b field_type=1 len=4 semantics=u_int", "key=value"},
           {"name=a field_type=1 len=4 semantics=u_int colour=red",
            "unknown key"},
           {"name=bad$name field_type=1 len=4 semantics=u_int", "name"},
       }) {
    INFO(c.line);
    auto r = PrimitiveRegistry::ParseCustomLine(c.line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains(c.reason));
  }
  CHECK(PrimitiveRegistry::ParseCustomLine(
            "name=a packet_ptr=l3 len=4 semantics=u_int")
            .status()
            .code() == StatusCode::kUnimplemented);
}

TEST_CASE("AddCustom: ids, name clashes, the 64 limit") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  size_t builtins = reg->all().size();
  CustomPrimitiveSpec spec{"app", ElementId{9, 1}, kVariableLength,
                           PrimitiveType::kString};
  Result<PrimitiveId> id = reg->AddCustom(spec);
  REQUIRE(id.ok());
  CHECK(*id == builtins);
  const PrimitiveInfo& p = reg->Get(*id);
  CHECK(p.is_custom);
  CHECK(p.json_key == "app");
  CHECK(p.element == ElementId{9, 1});
  CHECK(reg->customs().size() == 1);
  CHECK(reg->Find("app") == &p);
  // Clashes with itself, a built-in name, a built-in JSON key.
  CHECK(reg->AddCustom(spec).status().code() == StatusCode::kInvalidArgument);
  spec.name = "src_host";
  CHECK(reg->AddCustom(spec).status().code() == StatusCode::kInvalidArgument);
  spec.name = "ip_src";
  CHECK(reg->AddCustom(spec).status().code() == StatusCode::kInvalidArgument);
  for (int i = 1; i < 64; ++i) {
    spec.name = "c" + std::to_string(i);
    REQUIRE(reg->AddCustom(spec).ok());
  }
  spec.name = "one_too_many";
  CHECK(reg->AddCustom(spec).status().code() == StatusCode::kResourceExhausted);
  CHECK(reg->customs().size() == 64);
}

TEST_CASE("Custom primitive names are lower-cased, as pmacct") {
  auto spec = PrimitiveRegistry::ParseCustomLine(
      "name=Flow_End_Reason field_type=136 len=1 semantics=u_int");
  REQUIRE(spec.ok());
  CHECK(spec->name == "flow_end_reason");
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  // AddCustom lower-cases a mixed-case spec built by hand too.
  CustomPrimitiveSpec by_hand{"Dir_X", ElementId{0, 61}, 1,
                              PrimitiveType::kUint};
  Result<PrimitiveId> id = reg->AddCustom(by_hand);
  REQUIRE(id.ok());
  const PrimitiveInfo& p = reg->Get(*id);
  CHECK(p.name == "dir_x");
  CHECK(p.json_key == "dir_x");
  CHECK(p.csv_header == "dir_x");
  CHECK(reg->Find("dir_x") == &p);
  CHECK(reg->Find("Dir_X") == nullptr);  // lookups take the lower-case name
  // A name differing only in case clashes.
  by_hand.name = "DIR_X";
  CHECK(reg->AddCustom(by_hand).status().code() ==
        StatusCode::kInvalidArgument);
  by_hand.name = "SRC_HOST";
  CHECK(reg->AddCustom(by_hand).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("FormatValue: pmacct value formats") {
  Fixture f;
  FlowRecord r;
  ValueKind kind;
  CHECK(f.Value("src_host", r) == "<absent>");

  r.fields.set(FlowField::kSrcHost);
  r.src_host = *IpAddress::Parse("2001:db8::1");
  CHECK(f.Value("src_host", r, &kind) == "2001:db8::1");
  CHECK(kind == ValueKind::kString);

  r.fields.set(FlowField::kProto);
  r.proto = 6;
  CHECK(f.Value("proto", r, &kind) == "tcp");
  CHECK(kind == ValueKind::kString);
  r.proto = 58;
  CHECK(f.Value("proto", r) == "ipv6-icmp");
  r.proto = 253;
  CHECK(f.Value("proto", r) == "253");
  f.opts.numeric_protocols = true;
  r.proto = 17;
  CHECK(f.Value("proto", r, &kind) == "17");
  CHECK(kind == ValueKind::kNumber);

  r.fields.set(FlowField::kEtype);
  r.etype = 0x0800;
  CHECK(f.Value("etype", r, &kind) == "800");
  CHECK(kind == ValueKind::kString);
  r.etype = 0x86dd;
  CHECK(f.Value("etype", r) == "86dd");

  r.fields.set(FlowField::kTcpFlags);
  r.tcp_flags = 0x1b;
  CHECK(f.Value("tcpflags", r, &kind) == "27");
  CHECK(kind == ValueKind::kNumber);

  r.fields.set(FlowField::kSrcMac);
  const uint8_t mac[6] = {0xAA, 0xBB, 0, 1, 2, 0xFF};
  r.src_mac = MacAddress::FromBytes(mac);
  CHECK(f.Value("src_mac", r) == "aa:bb:00:01:02:ff");
  CHECK(f.Value("dst_mac", r) == "<absent>");

  r.fields.set(FlowField::kTimestampStart);
  r.timestamp_start = int64_t{1683632885} * 1'000'000'000 + 123456789;
  CHECK(f.Value("timestamp_start", r) == "2023-05-09 11:48:05.123456");
  f.opts.timestamps_since_epoch = true;
  CHECK(f.Value("timestamp_start", r) == "1683632885.123456");
  f.opts.timestamps_since_epoch = false;

  r.fields.set(FlowField::kDirection);
  r.direction = 1;
  CHECK(f.Value("sampling_direction", r) == "e");
  r.direction = 0;
  CHECK(f.Value("sampling_direction", r) == "i");

  r.fields.set(FlowField::kMplsVpnRd);
  r.mpls_vpn_rd = {0, 0, 0xff, 0xe8, 0, 0, 0, 1};  // type 0, 65512:1
  CHECK(f.Value("mpls_vpn_rd", r) == "0:65512:1");
  r.mpls_vpn_rd = {0, 1, 192, 0, 2, 1, 0, 7};
  CHECK(f.Value("mpls_vpn_rd", r) == "1:192.0.2.1:7");
  r.mpls_vpn_rd = {0, 2, 0, 1, 0, 0, 0, 9};
  CHECK(f.Value("mpls_vpn_rd", r) == "2:65536:9");

  r.fields.set(FlowField::kMplsLabels);
  r.mpls_labels[0] = (16001u << 4) | (5 << 1);
  r.mpls_labels[1] = (24305u << 4) | 1;
  r.mpls_label_count = 2;
  CHECK(f.Value("mpls_label_stack", r) == "16001-5,24305-0");
  CHECK(f.Value("mpls_label_top", r) == "16001");
  CHECK(f.Value("mpls_label_bottom", r) == "24305");

  r.fields.set(FlowField::kAsPath);
  const uint8_t path[] = {0, 0, 0xfd, 0xe8, 0, 0, 0, 1};
  r.as_path = f.batch.StoreBytes(std::span<const uint8_t>(path));
  CHECK(f.Value("as_path", r) == "65000_1");
  r.fields.set(FlowField::kStdComm);
  const uint8_t comm[] = {0xfd, 0xe8, 0, 100, 0, 1, 0, 2};
  r.std_comm = f.batch.StoreBytes(std::span<const uint8_t>(comm));
  CHECK(f.Value("std_comm", r) == "65000:100_1:2");

  r.exporter = *IpAddress::Parse("192.0.2.9");
  r.protocol = ExportProtocol::kIpfix;
  CHECK(f.Value("peer_src_ip", r) == "192.0.2.9");
  CHECK(f.Value("export_proto_version", r, &kind) == "10");
  CHECK(kind == ValueKind::kNumber);
  CHECK(f.Value("src_net", r) == "<absent>");  // computed later
  CHECK(f.Value("timestamp_arrival", r) == "<absent>");
  r.timestamp_arrival = int64_t{1} * 1'000'000'000;
  CHECK(f.Value("timestamp_arrival", r) == "1970-01-01 00:00:01.000000");

  r.fields.set(FlowField::kInVlan);
  r.fields.set(FlowField::kOutVlan);
  r.in_vlan = 0;
  r.out_vlan = 20;
  CHECK(f.Value("vlan", r) == "20");
  r.in_vlan = 10;
  CHECK(f.Value("vlan", r) == "10");

  r.fields.set(FlowField::kPackets);
  r.fields.set(FlowField::kBytes);
  r.packets = 3;
  r.bytes = uint64_t{1} << 40;
  CHECK(f.Value("packets", r) == "3");
  CHECK(f.Value("bytes", r) == "1099511627776");
  CHECK(f.Value("flows", r) == "<absent>");
}

TEST_CASE("FormatValue: hostile strings never reach output raw") {
  Fixture f;
  FlowRecord r;
  r.fields.set(FlowField::kInIfaceName);
  // Control bytes, a quote, invalid UTF-8, valid UTF-8, NUL padding.
  std::string hostile = std::string("Gi0/1\x1b[2J\"\xff\xc3\xa9", 13) +
                        std::string("\0\0junk", 6);
  r.in_iface_name = f.batch.StoreBytes(std::string_view(hostile));
  std::string v = f.Value("in_iface_name", r);
  CHECK(v == "Gi0/1\\x1b[2J\"\\xff\xc3\xa9");
  for (char c : v) CHECK(static_cast<unsigned char>(c) >= 0x20);
  // Overlong and surrogate encodings are invalid UTF-8 too.
  r.in_iface_name =
      f.batch.StoreBytes(std::string_view("\xc0\xaf\xed\xa0\x80"));
  CHECK(f.Value("in_iface_name", r) == "\\xc0\\xaf\\xed\\xa0\\x80");
}

TEST_CASE("FormatValue: custom primitives by semantics") {
  Fixture f;
  auto add = [&](const char* line) {
    auto spec = PrimitiveRegistry::ParseCustomLine(line);
    REQUIRE(spec.ok());
    auto id = f.reg->AddCustom(*spec);
    REQUIRE(id.ok());
    return *id;
  };
  PrimitiveId u = add("name=cu field_type=1000 len=4 semantics=u_int");
  PrimitiveId h = add("name=ch field_type=1001 len=2 semantics=hex");
  PrimitiveId ip = add("name=cip field_type=1002 len=16 semantics=ip");
  PrimitiveId mac = add("name=cmac field_type=1003 len=6 semantics=mac");
  PrimitiveId str = add("name=cstr field_type=9:1 len=vlen semantics=str");
  PrimitiveId raw = add("name=craw field_type=1005 len=vlen semantics=raw");
  FlowRecord* r = f.batch.AppendRecord();
  const uint8_t vu[] = {0, 1, 0, 0};
  const uint8_t vh[] = {0x08, 0x00};
  uint8_t vip[16] = {0x20, 0x01, 0x0d, 0xb8};
  vip[15] = 5;
  const uint8_t vmac[] = {1, 2, 3, 4, 5, 6};
  const uint8_t vstr[] = {'h', 'i', 0x07};
  const uint8_t vraw[] = {0xde, 0xad};
  f.batch.AddCustom(r, u, vu);
  f.batch.AddCustom(r, h, vh);
  f.batch.AddCustom(r, ip, vip);
  f.batch.AddCustom(r, mac, vmac);
  f.batch.AddCustom(r, str, vstr);
  f.batch.AddCustom(r, raw, vraw);
  ValueKind kind;
  CHECK(f.Value("cu", *r, &kind) == "65536");
  CHECK(kind == ValueKind::kString);  // pmacct: customs are JSON strings
  CHECK(f.Value("ch", *r) == "800");
  CHECK(f.Value("cip", *r) == "2001:db8::5");
  CHECK(f.Value("cmac", *r) == "01:02:03:04:05:06");
  CHECK(f.Value("cstr", *r) == "hi\\x07");
  CHECK(f.Value("craw", *r) == "DEAD");  // pmacct: upper-case per byte
  FlowRecord other;
  CHECK(f.Value("cu", other) == "<absent>");
}

}  // namespace
}  // namespace flowacct
