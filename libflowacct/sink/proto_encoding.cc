#include "libflowacct/sink/proto_encoding.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "libflowacct/model/builtin_primitives.h"
#include "libflowacct/model/value_format.h"

namespace flowacct::internal {
namespace {

// --- protobuf wire format (protobuf.dev/programming-guides/encoding) --------
// The messages are written by hand rather than through the classes protoc
// generates: those register flowacct.v1 in protobuf's global descriptor
// pool, which would clash with an embedder's own generated code for the same
// schema. Field numbers are flowacct.proto's.

enum WireType : uint32_t { kVarint = 0, kLengthDelimited = 2 };

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutTag(uint32_t field, WireType type, std::string* out) {
  PutVarint(uint64_t{field} << 3 | type, out);
}

// A scalar field with implicit presence: left out when 0 (proto3).
void PutScalar(uint32_t field, uint64_t v, std::string* out) {
  if (v == 0) return;
  PutTag(field, kVarint, out);
  PutVarint(v, out);
}

// int64: two's complement as a 10-byte varint when negative.
void PutInt64(uint32_t field, int64_t v, std::string* out) {
  PutScalar(field, static_cast<uint64_t>(v), out);
}

// A string/bytes/message field, always written (oneof members and repeated
// elements are written even when empty).
void PutBytes(uint32_t field, std::string_view v, std::string* out) {
  PutTag(field, kLengthDelimited, out);
  PutVarint(v.size(), out);
  out->append(v);
}

// Field numbers of flowacct.v1 (flowacct.proto).
namespace value_field {
constexpr uint32_t kUint = 1, kIp = 2, kMac = 3, kText = 4, kRaw = 5,
                   kTimeNs = 6;
}  // namespace value_field
namespace aggregate_field {
constexpr uint32_t kKeys = 1, kPackets = 2, kBytes = 3, kFlows = 4,
                   kStampInserted = 5, kStampUpdated = 6;
}  // namespace aggregate_field
namespace snapshot_field {
constexpr uint32_t kView = 1, kKeyNames = 2, kJsonKeys = 3, kFlushTime = 4,
                   kHasTimeBins = 5, kReason = 6, kAggregates = 7,
                   kHasFlows = 8;
}  // namespace snapshot_field

// flowacct.v1.FlushReason values.
constexpr uint64_t kReasonUnspecified = 0, kReasonRefresh = 1,
                   kReasonCacheFull = 2, kReasonShutdown = 3;

// One flowacct.v1.Value being written: at most one set_*() call (the oneof
// member); none leaves the Value empty (key absent).
class ValueWriter {
 public:
  explicit ValueWriter(std::string* out) : out_(out) { out_->clear(); }
  void set_uint(uint64_t v) {
    PutTag(value_field::kUint, kVarint, out_);
    PutVarint(v, out_);
  }
  void set_time_ns(int64_t v) {
    PutTag(value_field::kTimeNs, kVarint, out_);
    PutVarint(static_cast<uint64_t>(v), out_);
  }
  void set_ip(std::string_view v) { PutBytes(value_field::kIp, v, out_); }
  void set_mac(std::string_view v) { PutBytes(value_field::kMac, v, out_); }
  void set_text(std::string_view v) { PutBytes(value_field::kText, v, out_); }
  void set_raw(std::string_view v) { PutBytes(value_field::kRaw, v, out_); }

 private:
  std::string* out_;
};

// How one key column is turned into a flowacct.v1.Value.
enum class ValueSource : uint8_t {
  kDecimal,      // FormatValue text, a decimal number -> uint
  kHex,          // FormatValue text, a hex number -> uint
  kIp,           // FormatValue text, an address -> ip
  kMac,          // FormatValue text, "aa:bb:cc:dd:ee:ff" -> mac
  kHexBytes,     // FormatValue text, lower-case hex per byte -> raw
  kText,         // FormatValue text -> text
  kTimeField,    // FlowRecord time member of `field` -> time_ns
  kTimeArrival,  // FlowRecord::timestamp_arrival -> time_ns
  kCustom,       // the custom value's bytes, by the primitive's semantics
  kNever,        // nothing fills it (primitives computed by later stages)
};

struct KeyColumn {
  const PrimitiveInfo* info = nullptr;
  ValueSource source = ValueSource::kText;
};

bool IsCounter(const PrimitiveInfo& p) {
  return !p.is_custom &&
         (p.field == FlowField::kBytes || p.field == FlowField::kPackets ||
          p.field == FlowField::kFlows);
}

ValueSource SourceOf(const PrimitiveInfo& p) {
  if (p.is_custom) return ValueSource::kCustom;
  std::span<const BuiltinPrimitive> builtins = BuiltinPrimitives();
  if (p.id >= builtins.size()) return ValueSource::kNever;
  const Accessor accessor = builtins[p.id].accessor;
  if (accessor == Accessor::kNotDecoded) return ValueSource::kNever;
  switch (p.type) {
    case PrimitiveType::kUint:
    case PrimitiveType::kProto:  // printed as a number (numeric_protocols)
      return ValueSource::kDecimal;
    case PrimitiveType::kHex:
      return ValueSource::kHex;
    case PrimitiveType::kIp:
      return ValueSource::kIp;
    case PrimitiveType::kMac:
      return ValueSource::kMac;
    case PrimitiveType::kRaw:
      return ValueSource::kHexBytes;
    case PrimitiveType::kTimestamp:
      if (accessor == Accessor::kTimestampArrival) {
        return ValueSource::kTimeArrival;
      }
      return p.field == FlowField::kCount ? ValueSource::kNever
                                          : ValueSource::kTimeField;
    default:
      return ValueSource::kText;
  }
}

bool ParseUint(std::string_view text, int base, uint64_t* v) {
  if (text.empty()) return false;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *v, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "0a1b..." (two digits per byte, `separator` between bytes when not 0) ->
// bytes. False on anything else.
bool ParseHexBytes(std::string_view text, char separator, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    if (!out->empty() && separator != 0) {
      if (text[i] != separator) return false;
      ++i;
    }
    if (i + 2 > text.size()) return false;
    int hi = HexDigit(text[i]);
    int lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return true;
}

// A custom primitive's value (pmacct aggregate_primitives semantics).
void SetCustom(const PrimitiveInfo& p, std::string_view bytes,
               ValueWriter* value) {
  switch (p.type) {
    case PrimitiveType::kUint:
    case PrimitiveType::kHex:
      if (!bytes.empty() && bytes.size() <= 8) {
        uint64_t x = 0;
        for (char b : bytes) x = x << 8 | static_cast<uint8_t>(b);
        value->set_uint(x);
      } else {
        value->set_raw(bytes);
      }
      return;
    case PrimitiveType::kIp:
      if (bytes.size() == 4 || bytes.size() == 16) {
        value->set_ip(bytes);
      } else {
        value->set_raw(bytes);
      }
      return;
    case PrimitiveType::kMac:
      if (bytes.size() == 6) {
        value->set_mac(bytes);
      } else {
        value->set_raw(bytes);
      }
      return;
    case PrimitiveType::kString: {
      std::string text;
      AppendSanitized(bytes, &text);
      value->set_text(text);
      return;
    }
    default:
      value->set_raw(bytes);
      return;
  }
}

class KeyEncoder {
 public:
  KeyEncoder(const PrimitiveRegistry& registry, const RecordBatch& arena)
      : registry_(registry), arena_(arena) {
    // Integers as numbers (ip_proto 6, not "tcp"); times are read directly.
    options_.numeric_protocols = true;
  }

  void Encode(const KeyColumn& column, const FlowRecord& record,
              ValueWriter* value) {
    const PrimitiveInfo& p = *column.info;
    switch (column.source) {
      case ValueSource::kNever:
        return;
      case ValueSource::kTimeField: {
        if (!record.has(p.field)) return;
        // A time of 0 is one the records did not carry (as the text outputs).
        const int64_t t = TimestampField(record, p.field);
        if (t != 0) value->set_time_ns(t);
        return;
      }
      case ValueSource::kTimeArrival:
        if (record.timestamp_arrival != 0) {
          value->set_time_ns(record.timestamp_arrival);
        }
        return;
      case ValueSource::kCustom:
        for (const CustomValue& cv : arena_.customs(record)) {
          if (cv.primitive == p.id) {
            SetCustom(p, arena_.bytes(cv.value), value);
            return;
          }
        }
        return;
      default:
        break;
    }

    text_.clear();
    if (registry_.FormatValue(p.id, record, arena_, options_, &text_) ==
        ValueKind::kAbsent) {
      return;
    }
    switch (column.source) {
      case ValueSource::kDecimal:
      case ValueSource::kHex: {
        uint64_t v = 0;
        if (ParseUint(text_, column.source == ValueSource::kHex ? 16 : 10,
                      &v)) {
          value->set_uint(v);
          return;
        }
        break;
      }
      case ValueSource::kIp: {
        Result<IpAddress> a = IpAddress::Parse(text_);
        if (a.ok() && a->is_set()) {
          value->set_ip(std::string_view(
              reinterpret_cast<const char*>(a->data()), a->size()));
          return;
        }
        break;
      }
      case ValueSource::kMac:
        if (ParseHexBytes(text_, ':', &bytes_) && bytes_.size() == 6) {
          value->set_mac(bytes_);
          return;
        }
        break;
      case ValueSource::kHexBytes:
        if (ParseHexBytes(text_, 0, &bytes_)) {
          value->set_raw(bytes_);
          return;
        }
        break;
      default:
        break;
    }
    // kText, or a formatter output the typed form cannot hold: keep the text
    // (FormatValue output is printable UTF-8).
    value->set_text(text_);
  }

 private:
  const PrimitiveRegistry& registry_;
  const RecordBatch& arena_;
  FormatOptions options_;
  std::string text_;
  std::string bytes_;
};

uint64_t ReasonOf(FlushReason reason) {
  switch (reason) {
    case FlushReason::kRefresh:
      return kReasonRefresh;
    case FlushReason::kCacheFull:
      return kReasonCacheFull;
    case FlushReason::kShutdown:
      return kReasonShutdown;
  }
  return kReasonUnspecified;
}

}  // namespace

void EncodeSnapshotProto(const Snapshot& snapshot,
                         const PrimitiveRegistry& registry,
                         std::span<const size_t> rows, std::string* out) {
  namespace sf = snapshot_field;
  namespace af = aggregate_field;
  if (!snapshot.view().empty()) PutBytes(sf::kView, snapshot.view(), out);

  std::vector<KeyColumn> columns;
  bool has_flows = false;
  for (PrimitiveId id : snapshot.primitives()) {
    const PrimitiveInfo& p = registry.Get(id);
    if (IsCounter(p)) {
      if (p.field == FlowField::kFlows) has_flows = true;
      continue;
    }
    if (!p.is_custom && p.name == "none") continue;  // a mode, not a key
    columns.push_back(KeyColumn{&p, SourceOf(p)});
  }
  for (const KeyColumn& c : columns) PutBytes(sf::kKeyNames, c.info->name, out);
  for (const KeyColumn& c : columns) {
    PutBytes(sf::kJsonKeys, c.info->json_key, out);
  }
  PutInt64(sf::kFlushTime, snapshot.flush_time(), out);
  PutScalar(sf::kHasTimeBins, snapshot.has_time_bins() ? 1 : 0, out);
  PutScalar(sf::kReason, ReasonOf(snapshot.reason()), out);

  const size_t count = rows.empty() ? snapshot.size() : rows.size();
  KeyEncoder encoder(registry, snapshot.arena());
  AggregateRow row;
  std::string aggregate;
  std::string value;
  for (size_t n = 0; n < count; ++n) {
    snapshot.Get(rows.empty() ? n : rows[n], &row);
    aggregate.clear();
    for (const KeyColumn& column : columns) {
      ValueWriter writer(&value);
      encoder.Encode(column, row.record, &writer);
      PutBytes(af::kKeys, value, &aggregate);
    }
    PutScalar(af::kPackets, row.record.packets, &aggregate);
    PutScalar(af::kBytes, row.record.bytes, &aggregate);
    PutScalar(af::kFlows, row.record.flows, &aggregate);
    PutInt64(af::kStampInserted, row.stamp_inserted, &aggregate);
    PutInt64(af::kStampUpdated, row.stamp_updated, &aggregate);
    PutBytes(sf::kAggregates, aggregate, out);
  }
  PutScalar(sf::kHasFlows, has_flows ? 1 : 0, out);
}

void AppendLengthDelimited(std::string_view message, std::string* out) {
  PutVarint(message.size(), out);
  out->append(message);
}

}  // namespace flowacct::internal
