// Snapshots as flowacct.v1 protobuf messages (libflowacct/sink/proto/
// flowacct.proto, docs/protobuf.md), for the print sink's `protobuf` output
// and the binary transports. Private to libflowacct.
//
// Key values are taken from PrimitiveRegistry::FormatValue, the accessor the
// text outputs use, so a protobuf aggregate carries exactly what the CSV and
// JSON outputs print for it: integers and addresses are turned back into
// their typed form, structured values (as_path, communities, RDs...) stay
// text. Timestamps and custom primitive values are read directly (no
// precision is lost to the text format).
//
// The wire format is written directly, not through protoc's generated
// classes: those would register flowacct.v1 in protobuf's process-wide
// descriptor pool and clash with an embedder's own generated code for the
// same schema. The tests decode with the generated classes.
//
// Thread-safety: free functions; the registry and snapshot are only read.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_PROTO_ENCODING_H_
#define FLOWACCT_LIBFLOWACCT_SINK_PROTO_ENCODING_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/primitive_registry.h"

namespace flowacct::internal {

// Appends the serialised flowacct.v1.Snapshot holding rows `rows` of
// `snapshot` (indices for Snapshot::Get, in that order; an empty span means
// every row) to *out. Key columns are the snapshot's primitives without the
// counters (packets, bytes, flows), in primitives() order. REQUIRES: every
// index < snapshot.size(); every primitive id is valid in `registry`.
void EncodeSnapshotProto(const Snapshot& snapshot,
                         const PrimitiveRegistry& registry,
                         std::span<const size_t> rows, std::string* out);

// Appends `message` preceded by its length as a base-128 varint (protobuf's
// length-delimited framing: writeDelimitedTo, Python's _VarintBytes) to *out.
void AppendLengthDelimited(std::string_view message, std::string* out);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_PROTO_ENCODING_H_
