// File: flowacct/model/primitive_registry.h
//
// The primitive registry: every aggregation primitive flowacct knows,
// described once, as data. A primitive is what pmacct calls an `aggregate`
// item (src_host, peer_dst_as, in_iface...). Its description carries every
// name it has in pmacct's outputs (JSON key, CSV/formatted header, SQL
// column), its value type, and which protocol elements fill it (IPFIX IE,
// NetFlow v9 field, sFlow structure), so that output formats, aggregation
// keys, SQL schemas and documentation are all derived from one table.
//
// Custom primitives (pmacct's `aggregate_primitives` file) are added at run
// time and decoded from any IPFIX / NetFlow v9 element, enterprise ones
// included:
//
//   auto registry = PrimitiveRegistry::CreateWithBuiltins();
//   Result<CustomPrimitiveSpec> spec = PrimitiveRegistry::ParseCustomLine(
//       "name=app_name field_type=PEN:9:12235 len=vlen semantics=str");
//   Result<PrimitiveId> id = registry->AddCustom(*spec);
//
// There is no global registry: the embedder owns one and passes it (by
// pointer, borrowed) to decoders and formatters.
//
// Thread-safety: const methods are safe to call concurrently; AddCustom must
// not run concurrently with anything else (call it before decoding starts).

#ifndef FLOWACCT_MODEL_PRIMITIVE_REGISTRY_H_
#define FLOWACCT_MODEL_PRIMITIVE_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct {

using PrimitiveId = uint16_t;

// An information element: IANA IE number plus private enterprise number
// (0 for IANA elements). NetFlow v9 field types < 128 equal the IPFIX IEs;
// v9 types >= 32768 (Cisco ASA NSEL 33000+, 40000+) are kept as-is with
// pen 0 so they never collide with IANA numbers (which are < 32768).
struct ElementId {
  uint32_t pen = 0;
  uint16_t id = 0;
  friend bool operator==(const ElementId&, const ElementId&) = default;
};

// How a value is typed and printed. Mirrors pmacct's custom primitive
// semantics (u_int, hex, ip, mac, str, raw) plus the built-in shapes.
enum class PrimitiveType : uint8_t {
  kUint,         // unsigned integer, printed in decimal (JSON number)
  kHex,          // unsigned integer printed in hex (JSON string), e.g. etype
  kIp,           // IPv4/IPv6 address
  kMac,          // 48-bit MAC address
  kString,       // text; non-printable bytes are escaped when printed
  kRaw,          // opaque bytes printed as hex
  kTimestamp,    // ns since epoch, printed "YYYY-MM-DD HH:MM:SS.ffffff"
  kAsPath,       // list of ASNs printed "_"-separated
  kCommunities,  // list of communities printed "_"-separated "asn:value"
  // RFC 4360 extended communities (8 octets each) printed "_"-separated as
  // pmacct does: "RT:65000:100", "SoO:192.0.2.1:7", "RT:4200000000:1".
  kExtCommunities,
  // RFC 8092 large communities (12 octets each): "65000:1:2", "_"-separated.
  kLargeCommunities,
  kMplsStack,    // label stack printed "label-exp,label-exp"
  kRd,           // route distinguisher printed "type:admin:value"
  kProto,        // IP protocol: name ("tcp") unless numeric output is asked
  kDirection,    // "i"/"e"/"u"
};

// The description of one primitive.
struct PrimitiveInfo {
  PrimitiveId id = 0;
  std::string name;        // pmacct aggregate name: "src_host"
  std::string json_key;    // pmacct JSON / Avro key: "ip_src"
  std::string csv_header;  // pmacct CSV / formatted header: "SRC_IP"
  std::string sql_column;  // pmacct SQL column: "ip_src"
  PrimitiveType type = PrimitiveType::kUint;
  // The FlowRecord field behind a built-in primitive (kCount for custom
  // primitives and for primitives that are computed later, e.g. src_net).
  FlowField field = FlowField::kCount;
  // Where the value comes from, for documentation and `flowacct primitives`:
  // e.g. "IPFIX 8/27, NetFlow v9 8/27, v5 srcaddr, sFlow sampled header".
  std::string sources;
  std::string description;

  // Custom primitives only.
  bool is_custom = false;
  ElementId element;    // the element decoded into it
  uint16_t length = 0;  // bytes, or kVariableLength
};

inline constexpr uint16_t kVariableLength = 0xFFFF;

// One row of an aggregate_primitives file:
//   name=<name> field_type=[<PEN>:]<id> len=<bytes>|vlen semantics=<sem>
// (pmacct also accepts packet_ptr / offset for pmacctd, not supported here).
struct CustomPrimitiveSpec {
  std::string name;
  ElementId element;
  uint16_t length = 0;                        // or kVariableLength for "vlen"
  PrimitiveType type = PrimitiveType::kUint;  // u_int, hex, ip, mac, str, raw
};

// How a formatted value should be quoted in JSON.
enum class ValueKind : uint8_t { kAbsent, kNumber, kString };

struct FormatOptions {
  bool numeric_protocols = false;       // print_num_protos: 6 instead of "tcp"
  bool timestamps_since_epoch = false;  // "1683632885.000000"
  bool timestamps_utc = true;           // pmacct defaults to local time
};

class PrimitiveRegistry {
 public:
  // A registry holding all built-in primitives (pmacct.md §1(c), §6.1).
  static std::unique_ptr<PrimitiveRegistry> CreateWithBuiltins();

  PrimitiveRegistry(const PrimitiveRegistry&) = delete;
  PrimitiveRegistry& operator=(const PrimitiveRegistry&) = delete;
  ~PrimitiveRegistry();

  // Parses one aggregate_primitives line. Comments ('!' or '#') and blank
  // lines are kNotFound; malformed lines kInvalidArgument with the reason.
  static Result<CustomPrimitiveSpec> ParseCustomLine(std::string_view line);

  // Adds a custom primitive under its name lower-cased, as pmacct
  // (`Flow_End_Reason` is found, printed and keyed as `flow_end_reason`;
  // ParseCustomLine lower-cases too). kAlreadyExists-style conflicts (name
  // taken by a built-in or custom primitive) are kInvalidArgument; more than 64
  // custom primitives is kResourceExhausted.
  Result<PrimitiveId> AddCustom(const CustomPrimitiveSpec& spec);

  // Lookup by aggregate name ("src_host") or JSON key ("ip_src"); nullptr if
  // unknown.
  const PrimitiveInfo* Find(std::string_view name) const;
  const PrimitiveInfo* FindByJsonKey(std::string_view key) const;
  const PrimitiveInfo& Get(PrimitiveId id) const { return *all_[id]; }

  // Every primitive, built-ins first, in pmacct's output order.
  std::span<const PrimitiveInfo* const> all() const { return all_; }
  // Custom primitives only (decoders use this to map elements).
  std::span<const PrimitiveInfo* const> customs() const { return customs_; }

  // Appends the value of primitive `id` for `record` to *out, and says how
  // to quote it. kAbsent (nothing appended) when the record does not carry
  // the primitive (primitives computed by later stages, e.g. src_net, are
  // always absent in decoded records). Formats follow pmacct (pmacct.md §6.1
  // "Value formats"): addresses as text (IPv6 per RFC 5952), MACs lower case,
  // etype in hex ("800"), ip_proto as a name ("tcp") unless
  // options.numeric_protocols, timestamps "YYYY-MM-DD HH:MM:SS.ffffff",
  // as_path / comms "_"-separated, RDs "type:admin:value". String values from
  // the wire are cut at the first NUL and every control byte, DEL, backslash
  // and invalid UTF-8 byte is written as "\xNN", so the result is printable
  // UTF-8 (hostile-inputs.md NF-25); callers still escape for their format
  // (JSON quotes, CSV separators). Custom primitives are printed by their
  // semantics (raw as upper-case hex per byte, "B8") and are always
  // kString, as in pmacct's JSON.
  ValueKind FormatValue(PrimitiveId id, const FlowRecord& record,
                        const RecordBatch& batch, const FormatOptions& options,
                        std::string* out) const;

 private:
  PrimitiveRegistry();

  std::vector<std::unique_ptr<PrimitiveInfo>> storage_;
  std::vector<const PrimitiveInfo*> all_;
  std::vector<const PrimitiveInfo*> customs_;
};

}  // namespace flowacct

#endif  // FLOWACCT_MODEL_PRIMITIVE_REGISTRY_H_
