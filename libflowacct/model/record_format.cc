#include "flowacct/model/record_format.h"

#include <algorithm>
#include <string>
#include <utility>

#include "libflowacct/model/value_format.h"

namespace flowacct {
namespace {

size_t TypicalWidth(const PrimitiveInfo& p) {
  switch (p.type) {
    case PrimitiveType::kIp:
      return 39;  // longest IPv6 text
    case PrimitiveType::kMac:
      return 17;
    case PrimitiveType::kTimestamp:
      return 26;
    case PrimitiveType::kProto:
      return 10;
    case PrimitiveType::kString:
    case PrimitiveType::kAsPath:
    case PrimitiveType::kCommunities:
    case PrimitiveType::kExtCommunities:
    case PrimitiveType::kLargeCommunities:
    case PrimitiveType::kMplsStack:
      return 22;
    case PrimitiveType::kRd:
      return 21;
    default:
      if (p.field == FlowField::kBytes || p.field == FlowField::kPackets) {
        return 20;
      }
      return 10;
  }
}

const char* SampleType(RecordKind kind) {
  switch (kind) {
    case RecordKind::kEvent:
      return "event";
    case RecordKind::kOptions:
      return "option";
    default:
      return "flow";
  }
}

void AppendCsvField(std::string_view v, char sep, std::string* out) {
  if (v.find(sep) == std::string_view::npos &&
      v.find('"') == std::string_view::npos) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void JsonKey(std::string_view key, bool* first, std::string* out) {
  if (!*first) out->push_back(',');
  *first = false;
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

void JsonUint(std::string_view key, uint64_t v, bool* first, std::string* out) {
  JsonKey(key, first, out);
  out->append(std::to_string(v));
}

}  // namespace

RecordFormatter::RecordFormatter(const PrimitiveRegistry* registry,
                                 std::vector<PrimitiveId> columns,
                                 OutputFormat format,
                                 const RecordFormatOptions& options)
    : registry_(registry),
      columns_(std::move(columns)),
      format_(format),
      options_(options) {
  for (PrimitiveId id : columns_) {
    const PrimitiveInfo& p = registry_->Get(id);
    widths_.push_back(std::max(p.csv_header.size(), TypicalWidth(p)));
  }
}

std::vector<PrimitiveId> RecordFormatter::AllColumns(
    const PrimitiveRegistry& registry) {
  std::vector<PrimitiveId> ids;
  for (const PrimitiveInfo* p : registry.all()) ids.push_back(p->id);
  return ids;
}

Result<std::vector<PrimitiveId>> RecordFormatter::ParseColumns(
    const PrimitiveRegistry& registry, std::string_view list) {
  std::vector<PrimitiveId> ids;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view()
                                           : list.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) continue;
    const PrimitiveInfo* p = registry.Find(name);
    if (p == nullptr) p = registry.FindByJsonKey(name);
    if (p == nullptr) {
      return InvalidArgumentError("unknown primitive \"" + std::string(name) +
                                  "\"");
    }
    ids.push_back(p->id);
  }
  if (ids.empty()) return InvalidArgumentError("empty primitive list");
  return ids;
}

void RecordFormatter::AppendHeader(std::string* out) const {
  if (format_ == OutputFormat::kJson) return;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const std::string& h = registry_->Get(columns_[i]).csv_header;
    if (format_ == OutputFormat::kCsv) {
      if (i > 0) out->push_back(options_.csv_separator);
      out->append(h);
    } else {
      out->append(h);
      if (i + 1 < columns_.size()) {
        out->append(widths_[i] - h.size() + 2, ' ');
      }
    }
  }
  out->push_back('\n');
}

void RecordFormatter::AppendRecord(const FlowRecord& record,
                                   const RecordBatch& batch,
                                   std::string* out) const {
  if (format_ == OutputFormat::kJson) {
    AppendJson(record, batch, out);
  } else {
    AppendDelimited(record, batch, out);
  }
}

void RecordFormatter::AppendJson(const FlowRecord& record,
                                 const RecordBatch& batch,
                                 std::string* out) const {
  out->push_back('{');
  bool first = true;
  if (options_.json_sample_type) {
    JsonKey("sample_type", &first, out);
    out->push_back('"');
    out->append(SampleType(record.kind));
    out->push_back('"');
  }
  std::string value;
  for (PrimitiveId id : columns_) {
    value.clear();
    ValueKind kind =
        registry_->FormatValue(id, record, batch, options_.values, &value);
    if (kind == ValueKind::kAbsent) continue;
    JsonKey(registry_->Get(id).json_key, &first, out);
    if (kind == ValueKind::kNumber) {
      out->append(value);
    } else {
      out->push_back('"');
      internal::AppendJsonEscaped(value, out);
      out->push_back('"');
    }
  }
  out->append("}\n");
}

void RecordFormatter::AppendDelimited(const FlowRecord& record,
                                      const RecordBatch& batch,
                                      std::string* out) const {
  std::string value;
  for (size_t i = 0; i < columns_.size(); ++i) {
    value.clear();
    registry_->FormatValue(columns_[i], record, batch, options_.values, &value);
    if (format_ == OutputFormat::kCsv) {
      if (i > 0) out->push_back(options_.csv_separator);
      AppendCsvField(value, options_.csv_separator, out);
    } else {
      out->append(value);
      if (i + 1 < columns_.size()) {
        size_t pad = value.size() < widths_[i] ? widths_[i] - value.size() : 0;
        out->append(pad + 2, ' ');
      }
    }
  }
  out->push_back('\n');
}

void RecordFormatter::AppendCounterJson(const CounterRecord& c,
                                        const FormatOptions& options,
                                        std::string* out) {
  out->append("{\"event_type\":\"counters\"");
  bool first = false;
  if (c.agent.is_set()) {
    JsonKey("peer_ip_src", &first, out);
    out->push_back('"');
    c.agent.AppendTo(out);
    out->push_back('"');
  }
  JsonUint("sub_agent_id", c.sub_agent_id, &first, out);
  JsonUint("seq", c.datagram_seqno, &first, out);
  JsonUint("sample_seq", c.sample_seqno, &first, out);
  JsonUint("source_id_type", c.source_id >> 24, &first, out);
  JsonUint("source_id_index", c.source_id & 0xffffff, &first, out);
  if (c.timestamp_arrival != 0) {
    JsonKey("timestamp_arrival", &first, out);
    out->push_back('"');
    internal::AppendTimestamp(c.timestamp_arrival, options, out);
    out->push_back('"');
  }
  if (c.blocks & CounterRecord::kGeneric) {
    JsonUint("ifIndex", c.if_index, &first, out);
    JsonUint("ifType", c.if_type, &first, out);
    JsonUint("ifSpeed", c.if_speed, &first, out);
    JsonUint("ifDirection", c.if_direction, &first, out);
    JsonUint("ifStatus", c.if_status, &first, out);
    JsonUint("ifInOctets", c.if_in_octets, &first, out);
    JsonUint("ifInUcastPkts", c.if_in_ucast_pkts, &first, out);
    JsonUint("ifInMulticastPkts", c.if_in_multicast_pkts, &first, out);
    JsonUint("ifInBroadcastPkts", c.if_in_broadcast_pkts, &first, out);
    JsonUint("ifInDiscards", c.if_in_discards, &first, out);
    JsonUint("ifInErrors", c.if_in_errors, &first, out);
    JsonUint("ifInUnknownProtos", c.if_in_unknown_protos, &first, out);
    JsonUint("ifOutOctets", c.if_out_octets, &first, out);
    JsonUint("ifOutUcastPkts", c.if_out_ucast_pkts, &first, out);
    JsonUint("ifOutMulticastPkts", c.if_out_multicast_pkts, &first, out);
    JsonUint("ifOutBroadcastPkts", c.if_out_broadcast_pkts, &first, out);
    JsonUint("ifOutDiscards", c.if_out_discards, &first, out);
    JsonUint("ifOutErrors", c.if_out_errors, &first, out);
    JsonUint("ifPromiscuousMode", c.if_promiscuous_mode, &first, out);
  }
  if (c.blocks & CounterRecord::kEthernet) {
    JsonUint("dot3StatsAlignmentErrors", c.dot3_alignment_errors, &first, out);
    JsonUint("dot3StatsFCSErrors", c.dot3_fcs_errors, &first, out);
    JsonUint("dot3StatsSingleCollisionFrames", c.dot3_single_collision_frames,
             &first, out);
    JsonUint("dot3StatsMultipleCollisionFrames",
             c.dot3_multiple_collision_frames, &first, out);
    JsonUint("dot3StatsSQETestErrors", c.dot3_sqe_test_errors, &first, out);
    JsonUint("dot3StatsDeferredTransmissions", c.dot3_deferred_transmissions,
             &first, out);
    JsonUint("dot3StatsLateCollisions", c.dot3_late_collisions, &first, out);
    JsonUint("dot3StatsExcessiveCollisions", c.dot3_excessive_collisions,
             &first, out);
    JsonUint("dot3StatsInternalMacTransmitErrors",
             c.dot3_internal_mac_transmit_errors, &first, out);
    JsonUint("dot3StatsCarrierSenseErrors", c.dot3_carrier_sense_errors, &first,
             out);
    JsonUint("dot3StatsFrameTooLongs", c.dot3_frame_too_longs, &first, out);
    JsonUint("dot3StatsInternalMacReceiveErrors",
             c.dot3_internal_mac_receive_errors, &first, out);
    JsonUint("dot3StatsSymbolErrors", c.dot3_symbol_errors, &first, out);
  }
  if (c.blocks & CounterRecord::kVlan) {
    JsonUint("vlan_id", c.vlan_id, &first, out);
    JsonUint("vlan_octets", c.vlan_octets, &first, out);
    JsonUint("vlan_ucastPkts", c.vlan_ucast_pkts, &first, out);
    JsonUint("vlan_multicastPkts", c.vlan_multicast_pkts, &first, out);
    JsonUint("vlan_broadcastPkts", c.vlan_broadcast_pkts, &first, out);
    JsonUint("vlan_discards", c.vlan_discards, &first, out);
  }
  if (c.blocks & CounterRecord::kProcessor) {
    JsonUint("cpu_5s", c.cpu_5s_percent, &first, out);
    JsonUint("cpu_1m", c.cpu_1m_percent, &first, out);
    JsonUint("cpu_5m", c.cpu_5m_percent, &first, out);
    JsonUint("total_memory", c.total_memory, &first, out);
    JsonUint("free_memory", c.free_memory, &first, out);
  }
  if (c.unknown_blocks != 0) {
    JsonUint("unknown_blocks", c.unknown_blocks, &first, out);
  }
  out->append("}\n");
}

}  // namespace flowacct
