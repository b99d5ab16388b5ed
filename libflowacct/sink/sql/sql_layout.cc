#include "libflowacct/sink/sql/sql_layout.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <utility>
#include <string_view>

#include "libflowacct/model/value_format.h"
#include "libflowacct/sink/row_format.h"

namespace flowacct::internal {
namespace {

SqlColumnKind KindOf(const PrimitiveInfo& p) {
  switch (p.type) {
    case PrimitiveType::kUint:
      return SqlColumnKind::kInt;
    case PrimitiveType::kIp:
      return SqlColumnKind::kIp;
    case PrimitiveType::kMac:
      return SqlColumnKind::kMac;
    case PrimitiveType::kProto:
      return SqlColumnKind::kProto;
    case PrimitiveType::kTimestamp:
      return SqlColumnKind::kTimestamp;
    case PrimitiveType::kHex:
    case PrimitiveType::kString:
    case PrimitiveType::kRaw:
    case PrimitiveType::kAsPath:
    case PrimitiveType::kCommunities:
    case PrimitiveType::kExtCommunities:
    case PrimitiveType::kLargeCommunities:
    case PrimitiveType::kMplsStack:
    case PrimitiveType::kRd:
    case PrimitiveType::kDirection:
      return SqlColumnKind::kText;
  }
  return SqlColumnKind::kText;
}

// One column of pmacct's fixed table layouts (sql/pmacct-create-*_v<N>.*):
// its name, the aggregate primitive that fills it, its kind, and the
// versions that have it.
struct VersionColumn {
  const char* name;
  const char* primitive;
  SqlColumnKind kind;
  uint32_t min_version;
  uint32_t max_version;
};

// In table order (pmacct.md §6.3).
constexpr VersionColumn kOriginalColumns[] = {
    {"agent_id", "tag", SqlColumnKind::kInt, 2, 8},
    {"tag", "tag", SqlColumnKind::kInt, 9, 9},
    {"class_id", "class", SqlColumnKind::kText, 5, 9},
    {"mac_src", "src_mac", SqlColumnKind::kMac, 1, 9},
    {"mac_dst", "dst_mac", SqlColumnKind::kMac, 1, 9},
    {"vlan", "vlan", SqlColumnKind::kInt, 2, 9},
    {"as_src", "src_as", SqlColumnKind::kInt, 6, 9},
    {"as_dst", "dst_as", SqlColumnKind::kInt, 6, 9},
    {"ip_src", "src_host", SqlColumnKind::kIp, 1, 9},
    {"ip_dst", "dst_host", SqlColumnKind::kIp, 1, 9},
    {"src_port", "src_port", SqlColumnKind::kInt, 1, 7},
    {"dst_port", "dst_port", SqlColumnKind::kInt, 1, 7},
    {"port_src", "src_port", SqlColumnKind::kInt, 8, 9},
    {"port_dst", "dst_port", SqlColumnKind::kInt, 8, 9},
    {"tcp_flags", "tcpflags", SqlColumnKind::kInt, 7, 9},
    {"ip_proto", "proto", SqlColumnKind::kProto, 1, 9},
    {"tos", "tos", SqlColumnKind::kInt, 3, 9},
};

// pmacct's acct_bgp (sql_table_type: bgp).
constexpr VersionColumn kBgpColumns[] = {
    {"agent_id", "tag", SqlColumnKind::kInt, 1, 1},
    {"as_src", "src_as", SqlColumnKind::kInt, 1, 1},
    {"as_dst", "dst_as", SqlColumnKind::kInt, 1, 1},
    {"peer_as_src", "peer_src_as", SqlColumnKind::kInt, 1, 1},
    {"peer_as_dst", "peer_dst_as", SqlColumnKind::kInt, 1, 1},
    {"peer_ip_src", "peer_src_ip", SqlColumnKind::kIp, 1, 1},
    {"peer_ip_dst", "peer_dst_ip", SqlColumnKind::kIp, 1, 1},
    {"comms", "std_comm", SqlColumnKind::kText, 1, 1},
    {"as_path", "as_path", SqlColumnKind::kText, 1, 1},
    {"local_pref", "local_pref", SqlColumnKind::kInt, 1, 1},
    {"med", "med", SqlColumnKind::kInt, 1, 1},
};

// Primitives only the bgp layout holds: asking for one selects it, as
// pmacct does ("sql_table_type set to 'bgp'").
bool IsBgpOnly(std::string_view name) {
  for (std::string_view n : {"peer_src_as", "peer_dst_as", "peer_src_ip",
                             "peer_dst_ip", "std_comm", "as_path",
                             "local_pref", "med"}) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

Result<SqlLayout> SqlLayout::Create(const SqlSinkOptions& options,
                                    SqlDialect dialect,
                                    const std::vector<PrimitiveId>& primitives,
                                    bool has_time_bins,
                                    const PrimitiveRegistry& registry) {
  SqlLayout layout(options, dialect, registry);
  std::vector<PrimitiveId> keys;
  bool has_flows = false;
  for (PrimitiveId id : primitives) {
    const PrimitiveInfo& p = registry.Get(id);
    if (IsCounter(p)) {
      has_flows |= p.field == FlowField::kFlows;
      continue;
    }
    keys.push_back(id);
  }
  auto primitive_column = [&](const PrimitiveInfo& p, std::string name,
                              SqlColumnKind kind) {
    SqlColumnSpec c;
    c.name = std::move(name);
    c.kind = kind;
    c.source = SqlColumnSpec::Source::kPrimitive;
    c.primitive = p.id;
    c.role = p.field == FlowField::kTcpFlags ? SqlColumnRole::kOr
                                             : SqlColumnRole::kKey;
    c.integer_value = kind == SqlColumnKind::kInt;
    c.class_id = p.name == "class";
    return c;
  };

  if (options.optimize_clauses) {
    for (PrimitiveId id : keys) {
      const PrimitiveInfo& p = registry.Get(id);
      layout.columns_.push_back(primitive_column(p, p.sql_column, KindOf(p)));
    }
  } else {
    bool bgp = options.table_type_bgp;
    for (PrimitiveId id : keys) bgp |= IsBgpOnly(registry.Get(id).name);
    const uint32_t version = bgp ? 1 : options.table_version;
    std::span<const VersionColumn> table =
        bgp ? std::span<const VersionColumn>(kBgpColumns)
            : std::span<const VersionColumn>(kOriginalColumns);
    std::vector<bool> used(keys.size(), false);
    // v1-v5 keep ASNs in ip_src / ip_dst (pmacct.md §6.3).
    const bool as_in_ip = !bgp && version < 6;
    for (const VersionColumn& vc : table) {
      if (version < vc.min_version || version > vc.max_version) continue;
      SqlColumnSpec c;
      c.name = vc.name;
      c.kind = vc.kind;
      c.source = SqlColumnSpec::Source::kNeutral;
      c.class_id = c.name == "class_id";
      c.role = c.name == "tcp_flags" ? SqlColumnRole::kOr : SqlColumnRole::kKey;
      std::vector<std::string_view> wanted = {vc.primitive};
      if (as_in_ip && c.name == "ip_src") wanted.push_back("src_as");
      if (as_in_ip && c.name == "ip_dst") wanted.push_back("dst_as");
      int found = -1;
      for (size_t i = 0; i < keys.size(); ++i) {
        for (std::string_view w : wanted) {
          if (registry.Get(keys[i]).name != w) continue;
          if (found >= 0) {
            return InvalidArgumentError(
                "sql_table_version " + std::to_string(version) +
                " keeps " + registry.Get(keys[found]).name + " and " +
                std::string(w) + " in one column (" + c.name +
                "); use sql_table_version 6 or later, or "
                "sql_optimize_clauses");
          }
          found = static_cast<int>(i);
        }
      }
      if (found >= 0) {
        used[found] = true;
        const PrimitiveInfo& p = registry.Get(keys[found]);
        SqlColumnSpec pc = primitive_column(p, c.name, c.kind);
        // An ASN in ip_src is a number printed as text.
        if (c.kind == SqlColumnKind::kIp && KindOf(p) == SqlColumnKind::kInt) {
          pc.integer_value = false;
        }
        pc.role = c.role;
        layout.columns_.push_back(std::move(pc));
      } else {
        layout.columns_.push_back(std::move(c));
      }
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      if (used[i]) continue;
      const std::string table_name =
          bgp ? std::string("acct_bgp")
              : "table version " + std::to_string(version);
      return InvalidArgumentError(
          "aggregate primitive '" + registry.Get(keys[i]).name +
          "' has no column in pmacct's " + table_name +
          "; set sql_optimize_clauses: true (with sql_table_schema, or let "
          "flowacct create the table)");
    }
    if (has_flows && !bgp && version < 4) {
      return InvalidArgumentError(
          "aggregate primitive 'flows' needs sql_table_version 4 or later, or "
          "sql_optimize_clauses");
    }
  }

  auto counter = [&](const char* name, SqlColumnSpec::Source source) {
    SqlColumnSpec c;
    c.name = name;
    c.role = SqlColumnRole::kAdd;
    c.kind = SqlColumnKind::kCounter;
    c.source = source;
    c.integer_value = true;
    layout.columns_.push_back(std::move(c));
  };
  counter("packets", SqlColumnSpec::Source::kPackets);
  counter("bytes", SqlColumnSpec::Source::kBytes);
  if (has_flows) {
    counter("flows", SqlColumnSpec::Source::kFlows);
  } else if (!options.optimize_clauses) {
    bool bgp = options.table_type_bgp;
    for (PrimitiveId id : keys) bgp |= IsBgpOnly(registry.Get(id).name);
    if (bgp || options.table_version >= 4) {
      // pmacct's tables have flows (v4+, acct_bgp), NOT NULL without a
      // default in its MySQL scripts: nfacctd writes 0 when `flows` is not
      // aggregated, and so does flowacctd.
      counter("flows", SqlColumnSpec::Source::kNeutral);
    }
  }
  const bool fixed_table = !options.optimize_clauses;
  {
    SqlColumnSpec inserted;
    inserted.name = "stamp_inserted";
    inserted.role = SqlColumnRole::kKey;
    inserted.kind = SqlColumnKind::kStamp;
    inserted.source = SqlColumnSpec::Source::kStampInserted;
    SqlColumnSpec updated = inserted;
    updated.name = "stamp_updated";
    updated.role = SqlColumnRole::kSet;
    updated.source = SqlColumnSpec::Source::kStampUpdated;
    if (has_time_bins) {
      layout.columns_.push_back(inserted);
      layout.columns_.push_back(updated);
    } else if (fixed_table) {
      // pmacct writes no stamps without sql_history; its tables still have
      // the columns (stamp_inserted in the primary key, with a default).
      layout.ddl_only_.push_back(inserted);
      layout.ddl_only_.push_back(updated);
    }
  }
  return layout;
}

std::vector<SqlColumn> SqlLayout::BatchColumns() const {
  std::vector<SqlColumn> out;
  out.reserve(columns_.size());
  for (const SqlColumnSpec& c : columns_) out.push_back({c.name, c.role});
  return out;
}

std::string SqlLayout::SqlType(const SqlColumnSpec& c) const {
  const bool my = dialect_ == SqlDialect::kMysql;
  const bool pg = dialect_ == SqlDialect::kPgsql;
  switch (c.kind) {
    case SqlColumnKind::kInt:
    case SqlColumnKind::kCounter:
      return my ? "BIGINT UNSIGNED" : "BIGINT";
    case SqlColumnKind::kIp:
      if (pg && c.integer_value) return "BIGINT";
      return pg ? "inet" : (my ? "VARCHAR(45)" : "CHAR(45)");
    case SqlColumnKind::kMac:
      return pg ? "macaddr" : "CHAR(17)";
    case SqlColumnKind::kProto:
      if (pg || num_protos_) return "SMALLINT";
      return "CHAR(6)";
    case SqlColumnKind::kText:
      return my ? "VARCHAR(255)" : "TEXT";
    case SqlColumnKind::kTimestamp:
      if (since_epoch_) return my ? "DOUBLE" : (pg ? "DOUBLE PRECISION" : "REAL");
      return my ? "DATETIME(6)" : (pg ? "timestamp(6) without time zone"
                                      : "TEXT");
    case SqlColumnKind::kStamp:
      if (since_epoch_) return "BIGINT";
      return pg ? "timestamp without time zone" : "DATETIME";
  }
  return "TEXT";
}

std::string SqlLayout::CreateTableSql(const std::string& quoted_table,
                                      const SqlConnection& quoting) const {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + quoted_table + " (";
  std::vector<std::string> key;
  size_t key_bytes = 0;  // InnoDB's limit, utf8mb4: 4 bytes a character
  // pmacct's column order: keys, packets, bytes, flows, stamps.
  auto rank = [](const SqlColumnSpec& c) {
    if (c.kind == SqlColumnKind::kCounter) {
      return c.name == "packets" ? 1 : c.name == "bytes" ? 2 : 3;
    }
    switch (c.source) {
      case SqlColumnSpec::Source::kStampInserted: return 4;
      case SqlColumnSpec::Source::kStampUpdated: return 5;
      default: return 0;
    }
  };
  std::vector<std::pair<const SqlColumnSpec*, bool>> all;  // spec, written
  for (const SqlColumnSpec& c : columns_) all.push_back({&c, true});
  for (const SqlColumnSpec& c : ddl_only_) all.push_back({&c, false});
  std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
    return rank(*a.first) < rank(*b.first);
  });
  for (size_t i = 0; i < all.size(); ++i) {
    const SqlColumnSpec& c = *all[i].first;
    const bool written = all[i].second;
    if (i > 0) sql += ", ";
    sql += quoting.QuoteIdentifier(c.name) + " " + SqlType(c);
    if (c.source == SqlColumnSpec::Source::kStampUpdated) continue;
    sql += " NOT NULL";
    if (!written) {
      // Not written by this view: pmacct's defaults.
      const SqlValue v = Neutral(c);
      sql += " DEFAULT ";
      sql += v.type == SqlValue::Type::kInt ? std::to_string(v.i)
             : c.kind == SqlColumnKind::kStamp && !since_epoch_
                 ? (dialect_ == SqlDialect::kPgsql
                        ? std::string("'1970-01-01 00:00:00'")
                        : std::string("'0000-00-00 00:00:00'"))
                 : "'" + v.text + "'";
    }
    if (c.role == SqlColumnRole::kKey) {
      key.push_back(quoting.QuoteIdentifier(c.name));
      switch (c.kind) {
        case SqlColumnKind::kIp: key_bytes += 45 * 4; break;
        case SqlColumnKind::kMac: key_bytes += 17 * 4; break;
        case SqlColumnKind::kProto: key_bytes += 6 * 4; break;
        case SqlColumnKind::kText: key_bytes += 255 * 4; break;
        default: key_bytes += 8; break;
      }
    }
  }
  const bool fits = dialect_ != SqlDialect::kMysql || key_bytes <= 3072;
  if (!key.empty() && fits) {
    sql += ", PRIMARY KEY (";
    for (size_t i = 0; i < key.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += key[i];
    }
    sql += ")";
  }
  sql += ")";
  return sql;
}

SqlValue SqlLayout::Stamp(int64_t ns) const {
  if (since_epoch_) return SqlValue::Int(FloorSeconds(ns));
  std::string text;
  AppendStamp(ns, utc_, false, &text);
  return SqlValue::Text(std::move(text));
}

SqlValue SqlLayout::Neutral(const SqlColumnSpec& c) const {
  switch (c.kind) {
    case SqlColumnKind::kInt:
    case SqlColumnKind::kCounter:
      return SqlValue::Int(0);
    case SqlColumnKind::kIp:
      if (c.integer_value) return SqlValue::Int(0);
      return SqlValue::Text("0.0.0.0");
    case SqlColumnKind::kMac:
      return SqlValue::Text("0:0:0:0:0:0");
    case SqlColumnKind::kProto:
      if (dialect_ == SqlDialect::kPgsql || num_protos_) return SqlValue::Int(0);
      return SqlValue::Text("ip");
    case SqlColumnKind::kText:
      return SqlValue::Text(c.class_id ? "unknown" : "");
    case SqlColumnKind::kTimestamp: {
      FormatOptions f;
      f.timestamps_utc = utc_;
      f.timestamps_since_epoch = since_epoch_;
      std::string text;
      AppendTimestamp(0, f, &text);
      return SqlValue::Text(std::move(text));
    }
    case SqlColumnKind::kStamp:
      return Stamp(0);
  }
  return SqlValue::Null();
}

void SqlLayout::RowValues(const AggregateRow& row, const RecordBatch& arena,
                          int64_t stamp_updated,
                          std::vector<SqlValue>* out) const {
  out->clear();
  FormatOptions f;
  f.numeric_protocols = num_protos_ || dialect_ == SqlDialect::kPgsql;
  f.timestamps_utc = utc_;
  f.timestamps_since_epoch = since_epoch_;
  std::string text;
  for (const SqlColumnSpec& c : columns_) {
    switch (c.source) {
      case SqlColumnSpec::Source::kNeutral:
        out->push_back(Neutral(c));
        break;
      case SqlColumnSpec::Source::kPackets:
        out->push_back(SqlValue::Int(static_cast<int64_t>(row.record.packets)));
        break;
      case SqlColumnSpec::Source::kBytes:
        out->push_back(SqlValue::Int(static_cast<int64_t>(row.record.bytes)));
        break;
      case SqlColumnSpec::Source::kFlows:
        out->push_back(SqlValue::Int(static_cast<int64_t>(row.record.flows)));
        break;
      case SqlColumnSpec::Source::kStampInserted:
        out->push_back(Stamp(row.stamp_inserted));
        break;
      case SqlColumnSpec::Source::kStampUpdated:
        out->push_back(Stamp(stamp_updated));
        break;
      case SqlColumnSpec::Source::kPrimitive: {
        text.clear();
        ValueKind k =
            registry_->FormatValue(c.primitive, row.record, arena, f, &text);
        if (k == ValueKind::kAbsent ||
            (c.kind == SqlColumnKind::kIp && text.empty())) {
          out->push_back(Neutral(c));
          break;
        }
        const bool numeric =
            c.integer_value ||
            (c.kind == SqlColumnKind::kProto && f.numeric_protocols);
        if (numeric) {
          uint64_t v = 0;
          auto [p, ec] =
              std::from_chars(text.data(), text.data() + text.size(), v);
          if (ec == std::errc() && p == text.data() + text.size()) {
            out->push_back(SqlValue::Int(static_cast<int64_t>(v)));
            break;
          }
        }
        out->push_back(SqlValue::Text(text));
        break;
      }
    }
  }
}

}  // namespace flowacct::internal
