// FieldProgram: a v9/IPFIX template compiled into per-field decode steps,
// and DecodeDataRecord, which runs it over one data record.
//
// Split of work inside libflowacct/decode:
//   netflow_v9.cc / ipfix.cc  walk messages and sets, parse template records
//                             into Template::Create + TemplateCache::Put,
//                             buffer data without templates, track sampling
//                             and sequence numbers;
//   field_program.{h,cc}      turn one data record into one FlowRecord.
//
// Thread-safety: FieldProgram is immutable after Template::Create and may be
// shared between threads.

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_FIELD_PROGRAM_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_FIELD_PROGRAM_H_

#include <cstdint>

#include "flowacct/decode/decode_stats.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/templates/template_cache.h"
#include "libflowacct/common/byte_reader.h"

namespace flowacct::internal {

// Message-level values a record's relative timestamps are resolved against.
struct RecordTimeBase {
  ExportProtocol protocol = ExportProtocol::kUnknown;
  int64_t export_time_ns = 0;  // v9 unix_secs / IPFIX export time
  // v9 only: header sysUptime (ms) at export_time_ns; FIRST/LAST_SWITCHED
  // (IE 21/22) are relative to it (RFC 3954 §5.1).
  uint32_t sys_uptime_ms = 0;
  bool has_sys_uptime = false;
};

// What DecodeDataRecord found wrong in a record it still kept.
struct RecordIssues {
  bool field_length = false;   // kFieldLength (NF-11)
  bool time_anomaly = false;   // kTimeAnomaly (NF-26)
};

// Decodes the data record at the start of *set using `tmpl` into *record
// (already appended to *batch, pre-filled with exporter/arrival by the
// caller) and advances *set past it. Sets `kind`, `template_id` and every
// field the template carries; variable-length and custom values go into the
// batch arena. Returns false -- *set unchanged, record content unspecified
// (the caller pops it) -- when the record does not fit in *set (a fixed
// part or a variable-length field runs past the end: kVarLenOverrun).
bool DecodeDataRecord(const Template& tmpl, const RecordTimeBase& time,
                      ByteReader* set, RecordBatch* batch, FlowRecord* record,
                      RecordIssues* issues);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_FIELD_PROGRAM_H_
