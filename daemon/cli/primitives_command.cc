// `flowacct primitives`: the primitive table as Markdown (docs/primitives.md
// is this command's output).

#include <cstdio>
#include <string>
#include <vector>

#include "flowacct/model/primitive_registry.h"

#include "daemon/cli/commands.h"

namespace flowacct::cli {
namespace {

const char* TypeName(PrimitiveType t) {
  switch (t) {
    case PrimitiveType::kUint:
      return "u_int";
    case PrimitiveType::kHex:
      return "hex";
    case PrimitiveType::kIp:
      return "ip";
    case PrimitiveType::kMac:
      return "mac";
    case PrimitiveType::kString:
      return "str";
    case PrimitiveType::kRaw:
      return "raw";
    case PrimitiveType::kTimestamp:
      return "timestamp";
    case PrimitiveType::kAsPath:
      return "as_path";
    case PrimitiveType::kCommunities:
      return "communities";
    case PrimitiveType::kExtCommunities:
      return "ext_communities";
    case PrimitiveType::kLargeCommunities:
      return "large_communities";
    case PrimitiveType::kMplsStack:
      return "mpls_stack";
    case PrimitiveType::kRd:
      return "rd";
    case PrimitiveType::kProto:
      return "proto";
    case PrimitiveType::kDirection:
      return "direction";
  }
  return "?";
}

// FlowRecord member names, in FlowField order.
constexpr const char* kFieldNames[] = {"exporter_port",
                                       "observation_domain",
                                       "export_seqno",
                                       "template_id",
                                       "engine_type",
                                       "engine_id",
                                       "sampler_id",
                                       "sampling_rate",
                                       "direction",
                                       "src_mac",
                                       "dst_mac",
                                       "in_vlan",
                                       "out_vlan",
                                       "in_cvlan",
                                       "out_cvlan",
                                       "cos",
                                       "etype",
                                       "ip_version",
                                       "src_host",
                                       "dst_host",
                                       "src_mask",
                                       "dst_mask",
                                       "src_net",
                                       "dst_net",
                                       "proto",
                                       "tos",
                                       "flow_label",
                                       "ip_next_hop",
                                       "bgp_next_hop",
                                       "src_port",
                                       "dst_port",
                                       "tcp_flags",
                                       "icmp_type",
                                       "icmp_code",
                                       "src_as",
                                       "dst_as",
                                       "peer_src_as",
                                       "peer_dst_as",
                                       "in_iface",
                                       "out_iface",
                                       "fwd_status",
                                       "local_pref",
                                       "as_path",
                                       "std_comm",
                                       "nat_event",
                                       "fw_event",
                                       "post_nat_src_host",
                                       "post_nat_dst_host",
                                       "post_nat_src_port",
                                       "post_nat_dst_port",
                                       "mpls_labels",
                                       "mpls_vpn_rd",
                                       "mpls_pw_id",
                                       "ingress_vrf_id",
                                       "egress_vrf_id",
                                       "vxlan_vni",
                                       "timestamp_start",
                                       "timestamp_end",
                                       "timestamp_export",
                                       "bytes",
                                       "packets",
                                       "flows",
                                       "reverse_bytes",
                                       "reverse_packets",
                                       "application_id",
                                       "in_iface_name",
                                       "out_iface_name",
                                       "vrf_name",
                                       "sample_seqno",
                                       "source_id",
                                       "sample_pool",
                                       "drops",
                                       "tag",
                                       "tag2",
                                       "label",
                                       "med",
                                       "ext_comm",
                                       "lrg_comm",
                                       "src_as_path",
                                       "src_std_comm",
                                       "src_ext_comm",
                                       "src_lrg_comm",
                                       "src_local_pref",
                                       "src_med"};
static_assert(std::size(kFieldNames) == kFlowFieldCount,
              "kFieldNames must follow FlowField");

std::string FieldName(const PrimitiveInfo& p) {
  if (p.field == FlowField::kCount) {
    if (p.name == "peer_src_ip") return "`exporter`";
    if (p.name == "timestamp_arrival") return "`timestamp_arrival`";
    if (p.name == "export_proto_version") return "`protocol`";
    if (p.name == "vlan") return "`in_vlan` / `out_vlan`";
    return "-";
  }
  return std::string("`") + kFieldNames[static_cast<int>(p.field)] + "`";
}

std::string Cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\";
    out += c;
  }
  return out;
}

}  // namespace

int PrimitivesCommand(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      std::fputs(
          "usage: flowacct primitives\n\nPrints every built-in primitive "
          "(names in pmacct's outputs, type, FlowRecord field, sources) as a "
          "Markdown table.\n",
          stdout);
      return kExitOk;
    }
    std::fprintf(stderr, "flowacct primitives: unexpected argument \"%s\"\n",
                 a.c_str());
    return kExitUsage;
  }
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::string out;
  out +=
      "# Primitives\n\n"
      "<!-- Generated by `flowacct primitives`; do not edit by hand. -->\n\n"
      "Every aggregation primitive flowacct knows, in output order (the order "
      "of JSON keys and of `PrimitiveRegistry::all()`). Names follow pmacct "
      "(`aggregate` name, JSON key, CSV/formatted header, SQL column). "
      "\"FlowRecord field\" is the member of `flowacct::FlowRecord` that "
      "carries the value; `-` means the value is computed by a later stage "
      "(BGP, networks file, GeoIP, maps, aggregation) and decoders leave it "
      "absent.\n\n"
      "| # | primitive | JSON key | CSV header | SQL column | type | "
      "FlowRecord field | sources | description |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  for (const PrimitiveInfo* p : registry->all()) {
    out += "| " + std::to_string(p->id) + " | `" + p->name + "` | `" +
           p->json_key + "` | " + p->csv_header + " | `" + p->sql_column +
           "` | " + TypeName(p->type) + " | " + FieldName(*p) + " | " +
           Cell(p->sources) + " | " + Cell(p->description) + " |\n";
  }
  out +=
      "\nCustom primitives (pmacct `aggregate_primitives` lines, "
      "`name=... field_type=[PEN:]id len=N|vlen "
      "semantics=u_int|hex|ip|mac|str|raw`) are appended after these, at most "
      "64; their JSON key, CSV header and SQL column are their name, and "
      "their JSON values are always strings.\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace flowacct::cli
