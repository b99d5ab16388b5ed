// RowFormatter: aggregates (snapshot rows, memory table entries) as text in
// pmacct's print plugin and IMT client layouts (pmacct.md §6.1; observed
// with nfacctd/pmacct 1.7.7, docs/pmacct-parity.md). Private to libflowacct.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_ROW_FORMAT_H_
#define FLOWACCT_LIBFLOWACCT_SINK_ROW_FORMAT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/model/record_format.h"
#include "flowacct/status.h"

namespace flowacct::internal {

// packets, bytes and flows: counters, never keys.
bool IsCounter(const PrimitiveInfo& p);

// One printed key value.
struct KeyValue {
  std::string text;
  bool number = false;  // JSON: unquoted

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

enum class RowLayout : uint8_t {
  // print plugin: JSON rows start with "event_type": "purge", counters are
  // flows, packets, bytes; stamps in JSON when the view has time bins.
  kPrint,
  // pmacct client output of the memory table: no event_type, counters are
  // packets, flows, bytes.
  kImt,
};

struct RowCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t flows = 0;
  // An event record (NEL/NSEL without counters): print JSON leaves out
  // flows, packets and bytes, as pmacct; so does a row with 0 packets and 0
  // bytes (snapshot rows do not carry the record kind).
  bool event = false;
};

class RowFormatter {
 public:
  // `primitives`: the view's primitives (counters among them are dropped
  // from the keys; `flows` among them turns the flows counter on). keys()
  // are in the format's output order, which differs between CSV and JSON
  // for a few primitives.
  RowFormatter(const PrimitiveRegistry* registry,
               const std::vector<PrimitiveId>& primitives, OutputFormat format,
               RowLayout layout, char csv_separator,
               const FormatOptions& values, bool timestamps_since_epoch,
               bool timestamps_utc);

  // kInvalidArgument when the format is formatted and a key primitive is
  // variable-length (pmacct refuses those too).
  Status Check() const;

  const std::vector<PrimitiveId>& keys() const { return keys_; }
  bool has_flows() const { return has_flows_; }

  // The values of the key primitives of `record`, in keys() order. A key the
  // record does not carry prints as pmacct prints it: "0" for numbers, ""
  // for addresses ("::" in formatted output), custom primitives "0",
  // "0.0.0.0", "00:00:00:00:00:00", "" for raw and str. Custom
  // primitives follow the built-ins in `primitives` order; tcp_flags and
  // custom values are JSON strings.
  void FormatKeys(const FlowRecord& record, const RecordBatch& batch,
                  std::vector<KeyValue>* out) const;

  // csv / formatted header line; nothing for json.
  void AppendHeader(std::string* out) const;

  // One row, '\n'-terminated. `stamps`: print stamp_inserted/_updated (JSON
  // only, as pmacct).
  void AppendRow(const std::vector<KeyValue>& keys, bool stamps,
                 int64_t stamp_inserted, int64_t stamp_updated,
                 const RowCounters& counters, std::string* out) const;

  // "YYYY-MM-DD HH:MM:SS" (local or UTC), or epoch seconds.
  void AppendStamp(int64_t ns, std::string* out) const;

 private:
  struct Column {
    std::string json_key;
    std::string header;
    size_t width = 10;  // formatted: value padded to this
    size_t gap = 2;     // then this many spaces
  };
  void AppendCell(const Column& c, std::string_view text, bool last,
                  std::string* out) const;

  const PrimitiveRegistry* registry_;
  OutputFormat format_;
  RowLayout layout_;
  char sep_;
  FormatOptions values_;
  bool since_epoch_;
  bool utc_;
  std::vector<PrimitiveId> keys_;
  std::vector<Column> columns_;  // keys, then the counters
  bool has_flows_ = false;
  Status check_;
};

// The RowFormatter a sink prints a view's snapshots with, built once and
// again only when the view's primitives change. Thread-safety: one thread.
class RowFormatterCache {
 public:
  struct Settings {
    OutputFormat format = OutputFormat::kJson;
    char csv_separator = ',';
    bool num_protos = false;
    bool timestamps_since_epoch = false;
    bool timestamps_utc = false;
  };
  RowFormatterCache(const PrimitiveRegistry* registry, const Settings& settings)
      : registry_(registry), settings_(settings) {}

  const RowFormatter& For(const std::vector<PrimitiveId>& primitives);
  // The formatter For() built last. REQUIRES: For() was called.
  const RowFormatter& current() const { return *formatter_; }

 private:
  const PrimitiveRegistry* registry_;
  Settings settings_;
  std::vector<PrimitiveId> primitives_;
  std::unique_ptr<RowFormatter> formatter_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_ROW_FORMAT_H_
