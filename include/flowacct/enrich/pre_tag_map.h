// File: flowacct/enrich/pre_tag_map.h
//
// PreTagMap: pmacct's pre_tag_map. A text file of rows, each a set of
// space-separated `key=value` pairs: MATCH keys that all must hold for the
// row to match a record, and SET keys saying what a matching row does
// (set_tag / set_tag2 / set_label / set_tos, plus the flow-control keys
// label / jeq / return / stack). Rows are evaluated top to bottom and the
// first matching row wins, unless it carries `jeq=<label>`, which continues
// the evaluation at the first later row marked `label=<label>` (or at the
// next row with `jeq=next`). See docs/maps.md for every key, the value
// syntax and the differences from pmacct.
//
//   ! comment
//   set_tag=10 ip=192.0.2.1 in=3
//   set_tag=20 ip=192.0.2.0/24 src_net=-10.0.0.0/8 jeq=out
//   set_tag2=5 out=7 label=out
//
// A map is built once (Load / LoadFile) and is immutable afterwards: workers
// share it through std::shared_ptr<const PreTagMap>. Reloading (SIGUSR2) is
// a new Load and a pointer swap by the caller.
//
// Thread-safety: all const methods may be called concurrently. Rows using
// the auto-increment form `set_tag=N++` keep an atomic counter per row.

#ifndef FLOWACCT_ENRICH_PRE_TAG_MAP_H_
#define FLOWACCT_ENRICH_PRE_TAG_MAP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct {

struct PreTagMapOptions {
  // pmacct's maps_entries: the most rows a map may hold (comment and blank
  // lines do not count). More rows fail the load with kResourceExhausted.
  uint32_t max_entries = 384;
  // pmacct's maps_row_len: the longest line accepted, in bytes (without the
  // line break). Longer lines fail the load with kInvalidArgument.
  uint32_t max_row_length = 256;
};

class PreTagMap {
 public:
  // Parses map text. `filename` is used only in error messages, which read
  // "<filename>:<line>: <what>".
  // Errors: kInvalidArgument (syntax, bad value, unknown key, negation where
  //           not allowed, jeq without a later target, control bytes,
  //           overlong line),
  //         kUnimplemented (a key flowacct recognises but cannot evaluate:
  //           filter (BPF), BGP RIB keys, sFlow <ent>:<fmt> sample types ...),
  //         kResourceExhausted (more than options.max_entries rows).
  static Result<std::shared_ptr<const PreTagMap>> Load(
      std::string_view text, std::string_view filename,
      const PreTagMapOptions& options);
  // Reads `path` and calls Load. Errors: kIoError when the file cannot be
  // read, else as Load.
  static Result<std::shared_ptr<const PreTagMap>> LoadFile(
      const std::string& path, const PreTagMapOptions& options);

  ~PreTagMap();
  PreTagMap(const PreTagMap&) = delete;
  PreTagMap& operator=(const PreTagMap&) = delete;

  // Evaluates the map for `*record` and writes the result into it: tag and
  // tag2 (FlowField::kTag / kTag2), label (kLabel, bytes stored in `batch`'s
  // arena, several set_label results joined with ',') and tos (set_tos).
  // Fields no matching row sets are left as they were; a record no row
  // matches is unchanged. `record` need not live in `batch`.
  //
  // Apply never appends records: rows with `return=true` behave as with
  // return=false here. Use ApplyAt for pmacct's return=true copies.
  void Apply(FlowRecord* record, RecordBatch* batch) const;

  // As Apply, for the record at `index` in `batch`, and honouring
  // `return=true`: each matching row with return=true and a jeq hands a copy
  // of the record, tagged as it is at that point, to the plugins; ApplyAt
  // appends those copies to the end of `batch` (custom primitive values are
  // shared with the original) and returns how many it appended. Pointers
  // into `batch` are invalidated when it returns non-zero.
  // REQUIRES: index < batch->size().
  size_t ApplyAt(RecordBatch* batch, size_t index) const;

  // True when some row has return=true (ApplyAt may append to the batch).
  bool may_append() const;

  // Number of rows.
  size_t size() const;

 private:
  struct Impl;
  explicit PreTagMap(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_PRE_TAG_MAP_H_
