#include "libflowacct/sink/row_format.h"

#include <algorithm>
#include <string>
#include <utility>

#include "libflowacct/model/value_format.h"

#include <time.h>

namespace flowacct::internal {
namespace {

bool IsCounter(const PrimitiveInfo& p) {
  return p.field == FlowField::kBytes || p.field == FlowField::kPackets ||
         p.field == FlowField::kFlows;
}

bool IsVariableLength(const PrimitiveInfo& p) {
  if (p.is_custom) return p.length == kVariableLength;
  switch (p.type) {
    case PrimitiveType::kString:
    case PrimitiveType::kAsPath:
    case PrimitiveType::kCommunities:
    case PrimitiveType::kMplsStack:
      return true;
    default:
      return false;
  }
}

// pmacct's formatted column: value width and gap (observed: "%-45s  " for
// addresses, "%-10u  " for most integers, "%-20lu  " for counters,
// "%-30s " for timestamps); never narrower than the header.
void ColumnWidth(const PrimitiveInfo& p, size_t* width, size_t* gap) {
  *gap = 2;
  switch (p.type) {
    case PrimitiveType::kIp:
      *width = 45;
      break;
    case PrimitiveType::kMac:
      *width = 17;
      break;
    case PrimitiveType::kTimestamp:
      *width = 30;
      *gap = 1;
      break;
    case PrimitiveType::kRd:
      *width = 18;
      break;
    default:
      *width = IsCounter(p) ? 20 : 10;
      if (p.name.ends_with("_port")) *width = 5;
      break;
  }
  *width = std::max(*width, p.csv_header.size());
}

// What a key the record lacks prints as.
KeyValue ZeroValue(const PrimitiveInfo& p) {
  if (p.is_custom) return {"", false};
  switch (p.type) {
    case PrimitiveType::kUint:
      return {"0", true};
    case PrimitiveType::kIp:
      return {"0.0.0.0", false};
    case PrimitiveType::kMac:
      return {"00:00:00:00:00:00", false};
    case PrimitiveType::kHex:
    case PrimitiveType::kProto:
      return {"0", false};
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
  for (PrimitiveId id : primitives) {
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
    c.width = std::max<size_t>(c.width, 20);
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
    if (kind == ValueKind::kAbsent) {
      v = ZeroValue(registry_->Get(keys_[i]));
    } else {
      // pmacct prints ip_proto as a string even when numeric ("0", "6").
      v.number = kind == ValueKind::kNumber &&
                 registry_->Get(keys_[i]).type != PrimitiveType::kProto;
    }
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
  int64_t secs = ns / 1000000000;
  if (ns < 0 && ns % 1000000000 != 0) --secs;
  if (since_epoch_) {
    out->append(std::to_string(secs));
    return;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  if (utc_) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  out->append(buf, n);
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

}  // namespace flowacct::internal
