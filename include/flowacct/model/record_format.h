// File: flowacct/model/record_format.h
//
// RecordFormatter: writes FlowRecords as text the way pmacct's print plugin
// does (pmacct.md §6.1): one JSON object per line, CSV rows under an
// upper-case header row, or space-aligned "formatted" columns. Which
// primitives are printed, and in which order, is a list of PrimitiveIds; the
// names and value formats come from the PrimitiveRegistry.
//
//   auto registry = PrimitiveRegistry::CreateWithBuiltins();
//   RecordFormatter json(registry.get(),
//   RecordFormatter::AllColumns(*registry),
//                        OutputFormat::kJson, {});
//   std::string line;
//   json.AppendRecord(record, batch, &line);  // {"sample_type":"flow",...}\n
//
// JSON prints only the primitives a record carries; CSV and formatted print
// every column, leaving absent values empty. Every value is sanitised (no
// control byte or invalid UTF-8 reaches the output, see PrimitiveRegistry::
// FormatValue), JSON strings are escaped per RFC 8259 §7 and CSV fields that
// contain the separator or a quote are quoted per RFC 4180.
//
// sFlow counter samples (CounterRecord) have their own JSON shape:
// {"event_type":"counters","peer_ip_src":...,"ifIndex":...} with the sFlow
// v5 counter names (sFlow v5 §5, "counters_sample" structures).
//
// The registry is borrowed and must outlive the formatter. Thread-safety:
// const methods may run concurrently.

#ifndef FLOWACCT_MODEL_RECORD_FORMAT_H_
#define FLOWACCT_MODEL_RECORD_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct {

enum class OutputFormat : uint8_t { kJson, kCsv, kFormatted };

struct RecordFormatOptions {
  FormatOptions values;
  char csv_separator = ',';
  // JSON: start each flow object with "sample_type": "flow"|"event"|"option".
  bool json_sample_type = true;
};

class RecordFormatter {
 public:
  // `columns` are printed in the given order. REQUIRES: every id is valid in
  // `registry`.
  RecordFormatter(const PrimitiveRegistry* registry,
                  std::vector<PrimitiveId> columns, OutputFormat format,
                  const RecordFormatOptions& options);

  // Every primitive of the registry, in its output order (for JSON).
  static std::vector<PrimitiveId> AllColumns(const PrimitiveRegistry& registry);

  // Parses a comma-separated list of primitive names (aggregate names or
  // JSON keys, e.g. "src_host,dst_host,proto,bytes"). kInvalidArgument
  // naming the first unknown one.
  static Result<std::vector<PrimitiveId>> ParseColumns(
      const PrimitiveRegistry& registry, std::string_view list);

  // CSV: "SRC_IP,DST_IP,...\n"; formatted: padded header line; JSON: nothing.
  void AppendHeader(std::string* out) const;

  // One record, terminated by '\n'.
  void AppendRecord(const FlowRecord& record, const RecordBatch& batch,
                    std::string* out) const;

  // One sFlow counter sample as a JSON line (whatever the format).
  static void AppendCounterJson(const CounterRecord& counters,
                                const FormatOptions& options, std::string* out);

  const std::vector<PrimitiveId>& columns() const { return columns_; }
  OutputFormat format() const { return format_; }

 private:
  void AppendJson(const FlowRecord& record, const RecordBatch& batch,
                  std::string* out) const;
  void AppendDelimited(const FlowRecord& record, const RecordBatch& batch,
                       std::string* out) const;

  const PrimitiveRegistry* registry_;
  std::vector<PrimitiveId> columns_;
  OutputFormat format_;
  RecordFormatOptions options_;
  std::vector<size_t> widths_;  // formatted output column widths
};

}  // namespace flowacct

#endif  // FLOWACCT_MODEL_RECORD_FORMAT_H_
