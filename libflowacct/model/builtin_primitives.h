// The built-in primitive table (pmacct.md §1(c) and §6.1), as data.
//
// Each row gives a primitive's pmacct names, its type, the FlowRecord field
// behind it (FlowField::kCount when the record has no field of its own) and
// how the formatter reads it (Accessor). Rows are in pmacct's JSON/CSV output
// order (plugin_cmn_json / print plugin): tags, class, L2, BGP, exporter,
// interfaces, MPLS VPN, L3, GeoIP, sampling, NAT, MPLS labels, tunnel, L4
// flags/proto/tos, timestamps, export metadata, telemetry, counters.

#ifndef FLOWACCT_LIBFLOWACCT_MODEL_BUILTIN_PRIMITIVES_H_
#define FLOWACCT_LIBFLOWACCT_MODEL_BUILTIN_PRIMITIVES_H_

#include <cstdint>
#include <span>

#include "flowacct/model/primitive_registry.h"

namespace flowacct::internal {

// How FormatValue reaches a primitive's value.
enum class Accessor : uint8_t {
  kField,             // the FlowRecord member of `field`, if has(field)
  kVlan,              // in_vlan if non-zero, else out_vlan
  kMplsTop,           // label (20 bits) of the first stack entry
  kMplsBottom,        // label of the last stack entry
  kExporter,          // FlowRecord::exporter (always present when set)
  kExportVersion,     // 5 / 9 / 10 / 5 (sFlow) from FlowRecord::protocol
  kTimestampArrival,  // FlowRecord::timestamp_arrival (no field bit)
  kNotDecoded,        // filled by later enrichment (BGP, maps, GeoIP...)
};

struct BuiltinPrimitive {
  const char* name;
  const char* json_key;
  const char* csv_header;
  const char* sql_column;
  PrimitiveType type;
  FlowField field;
  Accessor accessor;
  const char* sources;
  const char* description;
};

std::span<const BuiltinPrimitive> BuiltinPrimitives();

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_MODEL_BUILTIN_PRIMITIVES_H_
