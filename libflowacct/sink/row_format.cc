#include "libflowacct/sink/row_format.h"

#include <algorithm>
#include <string>
#include <utility>

#include "libflowacct/model/value_format.h"

#include <time.h>

namespace flowacct::internal {

bool IsCounter(const PrimitiveInfo& p) {
  return p.field == FlowField::kBytes || p.field == FlowField::kPackets ||
         p.field == FlowField::kFlows;
}

namespace {

bool IsVariableLength(const PrimitiveInfo& p) {
  if (p.is_custom) return p.length == kVariableLength;
  switch (p.type) {
    case PrimitiveType::kString:
    case PrimitiveType::kAsPath:
    case PrimitiveType::kCommunities:
    case PrimitiveType::kExtCommunities:
    case PrimitiveType::kLargeCommunities:
    case PrimitiveType::kMplsStack:
      return true;
    default:
      return false;
  }
}

// pmacct's formatted column width (header or value plus padding) by
// primitive, as observed (docs/pmacct-parity.md §3).
struct WidthRule {
  const char* name;
  size_t total;
};
constexpr WidthRule kWidths[] = {
    {"tag", 12},
    {"tag2", 12},
    {"class", 18},
    {"src_mac", 19},
    {"dst_mac", 19},
    {"vlan", 7},
    {"in_vlan", 9},
    {"out_vlan", 10},
    {"cos", 4},
    {"etype", 7},
    {"src_as", 12},
    {"dst_as", 12},
    {"peer_src_as", 12},
    {"peer_dst_as", 12},
    {"local_pref", 9},
    {"src_local_pref", 9},
    {"med", 8},
    {"src_med", 8},
    {"src_roa", 8},
    {"dst_roa", 8},
    {"in_iface", 12},
    {"out_iface", 12},
    {"mpls_vpn_rd", 20},
    {"mpls_pw_id", 12},
    {"src_mask", 10},
    {"dst_mask", 10},
    {"src_port", 10},
    {"dst_port", 10},
    {"tcpflags", 11},
    {"proto", 12},
    {"tos", 7},
    {"sampling_rate", 14},
    {"sampling_direction", 19},
    {"post_nat_src_port", 19},
    {"post_nat_dst_port", 19},
    {"nat_event", 10},
    {"mpls_label_top", 16},
    {"mpls_label_bottom", 19},
    {"mpls_stack_depth", 18},
    {"export_proto_seqno", 20},
    {"export_proto_version", 22},
    {"export_proto_sysid", 20},
};

// Width (value padded to it) and gap (spaces after) of a formatted column.
void ColumnWidth(const PrimitiveInfo& p, size_t* width, size_t* gap) {
  *gap = 2;
  size_t total = 0;
  for (const WidthRule& r : kWidths) {
    if (p.name == r.name) total = r.total;
  }
  if (total == 0) {
    switch (p.type) {
      case PrimitiveType::kIp:
        total = 47;
        break;
      case PrimitiveType::kMac:
        total = 19;
        break;
      case PrimitiveType::kTimestamp:
        total = 31;
        *gap = 1;
        break;
      default:
        total = IsCounter(p) ? 22 : 12;
        break;
    }
  }
  *width = std::max(total - *gap, p.csv_header.size());
}

// Output position of a primitive: its registry position, except where
// pmacct's CSV (and formatted) or JSON order differs from the registry's
// (docs/pmacct-parity.md §1).
double Rank(const PrimitiveRegistry& registry,
            const std::vector<PrimitiveId>& primitives, PrimitiveId id,
            OutputFormat format) {
  const std::string& name = registry.Get(id).name;
  auto at = [&](const char* anchor, double offset) {
    const PrimitiveInfo* a = registry.Find(anchor);
    return a == nullptr ? static_cast<double>(id) : a->id + offset;
  };
  const PrimitiveInfo& info = registry.Get(id);
  if (info.is_custom) {
    // After every built-in, in the order the view lists them (pmacct prints
    // custom primitives in `aggregate` order, not aggregate_primitives order).
    auto pos = std::find(primitives.begin(), primitives.end(), id);
    return static_cast<double>(registry.all().size()) +
           static_cast<double>(pos - primitives.begin());
  }
  // TCP_FLAGS, PROTOCOL, TOS follow DST_PORT in both CSV and JSON.
  if (name == "tcpflags") return at("dst_port", 0.1);
  if (name == "proto") return at("dst_port", 0.2);
  if (name == "tos") return at("dst_port", 0.3);
  if (format == OutputFormat::kJson) {
    if (name == "timestamp_export") return at("export_proto_sysid", 0.5);
    return id;
  }
  if (name == "src_std_comm") return at("lrg_comm", 0.1);
  if (name == "src_ext_comm") return at("lrg_comm", 0.2);
  if (name == "src_lrg_comm") return at("lrg_comm", 0.3);
  if (name == "src_as_path") return at("as_path", 0.1);
  if (name == "src_local_pref") return at("local_pref", 0.1);
  if (name == "src_med") return at("med", 0.1);
  if (name == "src_roa") return at("dst_roa", -0.1);
  return id;
}

// What a key the record lacks prints as (docs/pmacct-parity.md §2, §8).
KeyValue ZeroValue(const PrimitiveInfo& p, OutputFormat format) {
  if (p.is_custom) {  // always JSON strings
    switch (p.type) {
      case PrimitiveType::kUint:
      case PrimitiveType::kHex:
        return {"0", false};
      case PrimitiveType::kIp:
        return {p.length == 16 ? "::" : "0.0.0.0", false};
      case PrimitiveType::kMac:
        return {"00:00:00:00:00:00", false};
      // kRaw: empty, as nfacctd 1.7.7 printed for akvorado-nf5 (parity
      // custom-primitives; docs/pmacct-parity.md §8 says "00" per byte, not
      // seen in the suite).
      default:
        return {"", false};
    }
  }
  switch (p.type) {
    case PrimitiveType::kUint:
      return {"0", true};
    case PrimitiveType::kIp:
      // pmacct: empty in CSV / JSON, "::" in formatted output.
      return {format == OutputFormat::kFormatted ? "::" : "", false};
    case PrimitiveType::kMac:
      return {"00:00:00:00:00:00", false};
    case PrimitiveType::kHex:
    case PrimitiveType::kProto:
      return {"0", false};
    case PrimitiveType::kTimestamp:
      return {"0000-00-00 00:00:00.000000", false};
    default:
      return {"", false};
  }
}

void AppendUint(uint64_t v, std::string* out) {
  out->append(std::to_string(v));
}

}  // namespace

RowFormatter::RowFormatter(const PrimitiveRegistry* registry,
                           const std::vector<PrimitiveId>& primitives,
                           OutputFormat format, RowLayout layout,
                           char csv_separator, const FormatOptions& values,
                           bool timestamps_since_epoch, bool timestamps_utc)
    : registry_(registry),
      format_(format),
      layout_(layout),
      sep_(csv_separator),
      values_(values),
      since_epoch_(timestamps_since_epoch),
      utc_(timestamps_utc) {
  const PrimitiveInfo* packets = registry->Find("packets");
  const PrimitiveInfo* flows = registry->Find("flows");
  const PrimitiveInfo* bytes = registry->Find("bytes");
  std::vector<PrimitiveId> ordered = primitives;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](PrimitiveId a, PrimitiveId b) {
                     return Rank(*registry, primitives, a, format) <
                            Rank(*registry, primitives, b, format);
                   });
  for (PrimitiveId id : ordered) {
    const PrimitiveInfo& p = registry->Get(id);
    if (IsCounter(p)) {
      if (p.field == FlowField::kFlows) has_flows_ = true;
      continue;
    }
    if (format_ == OutputFormat::kFormatted && IsVariableLength(p) &&
        check_.ok()) {
      check_ = InvalidArgumentError(
          "primitive \"" + p.name +
          "\" is variable-length; formatted output cannot print it (use csv "
          "or json)");
    }
    keys_.push_back(id);
    Column c{p.json_key, p.csv_header};
    ColumnWidth(p, &c.width, &c.gap);
    columns_.push_back(std::move(c));
  }
  // Counters in CSV/formatted: PACKETS, [FLOWS,] BYTES (both layouts).
  auto add_counter = [&](const PrimitiveInfo* p, const char* key,
                         const char* header) {
    Column c{key, header, 20, 2};
    if (p != nullptr) ColumnWidth(*p, &c.width, &c.gap);
    columns_.push_back(std::move(c));
  };
  add_counter(packets, "packets", "PACKETS");
  if (has_flows_) add_counter(flows, "flows", "FLOWS");
  add_counter(bytes, "bytes", "BYTES");
}

Status RowFormatter::Check() const { return check_; }

void RowFormatter::FormatKeys(const FlowRecord& record,
                              const RecordBatch& batch,
                              std::vector<KeyValue>* out) const {
  out->resize(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) {
    KeyValue& v = (*out)[i];
    v.text.clear();
    ValueKind kind =
        registry_->FormatValue(keys_[i], record, batch, values_, &v.text);
    const PrimitiveInfo& p = registry_->Get(keys_[i]);
    // Snapshot rows carry every key field; a time of 0 is a time the
    // records did not have (pmacct prints 0000-00-00 00:00:00.000000).
    if (p.type == PrimitiveType::kTimestamp && p.field != FlowField::kCount &&
        internal::TimestampField(record, p.field) == 0) {
      kind = ValueKind::kAbsent;
    }
    if (kind == ValueKind::kAbsent) {
      v = ZeroValue(p, format_);
    } else {
      // pmacct prints ip_proto as a string even when numeric ("0", "6").
      v.number = kind == ValueKind::kNumber && p.type != PrimitiveType::kProto;
    }
    // ... and tcp_flags always as a string ("24").
    if (p.field == FlowField::kTcpFlags) v.number = false;
  }
}

void RowFormatter::AppendCell(const Column& c, std::string_view text, bool last,
                              std::string* out) const {
  if (format_ == OutputFormat::kCsv) {
    if (text.find(sep_) == std::string_view::npos &&
        text.find('"') == std::string_view::npos) {
      out->append(text);
    } else {
      out->push_back('"');
      for (char ch : text) {
        if (ch == '"') out->push_back('"');
        out->push_back(ch);
      }
      out->push_back('"');
    }
    out->push_back(last ? '\n' : sep_);
    return;
  }
  out->append(text);
  if (last) {
    out->push_back('\n');
    return;
  }
  size_t pad = text.size() < c.width ? c.width - text.size() : 0;
  out->append(pad + c.gap, ' ');
}

void RowFormatter::AppendHeader(std::string* out) const {
  if (format_ == OutputFormat::kJson) return;
  for (size_t i = 0; i < columns_.size(); ++i) {
    AppendCell(columns_[i], columns_[i].header, i + 1 == columns_.size(), out);
  }
}

void RowFormatter::AppendStamp(int64_t ns, std::string* out) const {
  internal::AppendStamp(ns, utc_, since_epoch_, out);
}

void RowFormatter::AppendRow(const std::vector<KeyValue>& keys, bool stamps,
                             int64_t stamp_inserted, int64_t stamp_updated,
                             const RowCounters& counters,
                             std::string* out) const {
  if (format_ != OutputFormat::kJson) {
    for (size_t i = 0; i < keys.size() && i < keys_.size(); ++i) {
      AppendCell(columns_[i], keys[i].text, false, out);
    }
    size_t c = keys_.size();
    std::string n = std::to_string(counters.packets);
    AppendCell(columns_[c++], n, false, out);
    if (has_flows_) {
      n = std::to_string(counters.flows);
      AppendCell(columns_[c++], n, false, out);
    }
    n = std::to_string(counters.bytes);
    AppendCell(columns_[c], n, true, out);
    return;
  }
  // JSON with pmacct's (Jansson's) ", " and ": " separators.
  out->push_back('{');
  bool first = true;
  auto key = [&](std::string_view k) {
    if (!first) out->append(", ");
    first = false;
    out->push_back('"');
    out->append(k);
    out->append("\": ");
  };
  if (layout_ == RowLayout::kPrint) {
    key("event_type");
    out->append("\"purge\"");
  }
  for (size_t i = 0; i < keys.size() && i < keys_.size(); ++i) {
    key(columns_[i].json_key);
    if (keys[i].number) {
      out->append(keys[i].text);
    } else {
      out->push_back('"');
      AppendJsonEscaped(keys[i].text, out);
      out->push_back('"');
    }
  }
  if (stamps) {
    key("stamp_inserted");
    out->push_back('"');
    AppendStamp(stamp_inserted, out);
    out->push_back('"');
    key("stamp_updated");
    out->push_back('"');
    AppendStamp(stamp_updated, out);
    out->push_back('"');
  }
  if (layout_ == RowLayout::kPrint) {
    // pmacct: no flows/packets/bytes for event records (NEL / NSEL events;
    // nfacctd 1.7.7 drops `flows` too, even when aggregated). Snapshot rows
    // do not carry the record kind yet, so a row with 0 packets and 0 bytes
    // is taken as one too (stopgap; NSEL flows with bytes but no packets
    // keep their keys, as in nfacctd 1.7.7).
    if (counters.event || (counters.packets == 0 && counters.bytes == 0)) {
      out->append("}\n");
      return;
    }
    if (has_flows_) {
      key("flows");
      AppendUint(counters.flows, out);
    }
    key("packets");
    AppendUint(counters.packets, out);
  } else {
    key("packets");
    AppendUint(counters.packets, out);
    if (has_flows_) {
      key("flows");
      AppendUint(counters.flows, out);
    }
  }
  key("bytes");
  AppendUint(counters.bytes, out);
  out->append("}\n");
}

const RowFormatter& RowFormatterCache::For(
    const std::vector<PrimitiveId>& primitives) {
  if (!formatter_ || primitives_ != primitives) {
    primitives_ = primitives;
    FormatOptions values;
    values.numeric_protocols = settings_.num_protos;
    values.timestamps_since_epoch = settings_.timestamps_since_epoch;
    values.timestamps_utc = settings_.timestamps_utc;
    formatter_ = std::make_unique<RowFormatter>(
        registry_, primitives_, settings_.format, RowLayout::kPrint,
        settings_.csv_separator, values, settings_.timestamps_since_epoch,
        settings_.timestamps_utc);
  }
  return *formatter_;
}

}  // namespace flowacct::internal
