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

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "flowacct/decode/decode_stats.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/templates/template_cache.h"

#include "libflowacct/common/byte_reader.h"
#include "libflowacct/decode/information_elements.h"

namespace flowacct::internal {

// Message-level values a record's relative timestamps are resolved against.
struct RecordTimeBase {
  ExportProtocol protocol = ExportProtocol::kUnknown;
  int64_t export_time_ns = 0;  // v9 unix_secs / IPFIX export time
  // v9 only: header sysUptime (ms) at export_time_ns; FIRST/LAST_SWITCHED
  // (IE 21/22) are relative to it (RFC 3954 §5.1).
  uint32_t sys_uptime_ms = 0;
  bool has_sys_uptime = false;
  // IPFIX only: systemInitTimeMilliseconds (IE 160) the exporter announced
  // for this observation domain in options data (Cisco IOS-XE). IE 21/22 of
  // templates without their own IE 160 are relative to it.
  uint64_t sys_init_ms = 0;
  bool has_sys_init = false;
  // Let a non-zero exporterIPv4/IPv6Address (IE 130/131) in a record replace
  // FlowRecord::exporter (DecoderOptions::use_exporter_address_element).
  bool use_exporter_address_element = true;
};

// What DecodeDataRecord found wrong in a record it still kept.
struct RecordIssues {
  bool field_length = false;  // kFieldLength (NF-11)
  bool time_anomaly = false;  // kTimeAnomaly (NF-26)
  // Not an issue: a non-zero systemInitTimeMilliseconds (IE 160) the record
  // carried, for the caller to learn from options data; 0 when none.
  uint64_t sys_init_ms = 0;
};

// What one step does. A switch over this small enum runs each field; no
// virtual call per field.
enum class FieldOp : uint8_t {
  kSkip,       // unknown / unmapped / repeated element (or custom only)
  kBadLength,  // typed element with an impossible length (NF-11)
  kU8,
  kU16,
  kU32,
  kU64,
  // The same with the usual wire width (no length dispatch per record).
  kU8From1,
  kU16From2,
  kU32From4,
  kU64From4,
  kU64From8,
  kIpv4,
  kIpv6,
  kMac,
  kRd,
  kBytes,
  kIcmpTypeCode,
  kMplsLabel,
  kTimeSeconds,
  kTimeMilliseconds,
  kTimeNtp,
  kSysUpStart,           // IE 22, resolved after the record
  kSysUpEnd,             // IE 21, resolved after the record
  kSysInitTime,          // IE 160
  kObservationTime,      // IE 323 into the start
  kPacketInterval,       // IE 305
  kPacketSpace,          // IE 306
  kPacketSection,        // IE 315 / v9 104
  kExporterAddress,      // IE 130 / 131, resolved in Finish
  kMplsTopLabelAddress,  // IE 47, peer_dst_ip fallback resolved in Finish
};

inline constexpr uint16_t kNoCustom = 0xFFFF;

// FieldStep::aux bit for address steps: store only a non-zero address. Used
// when IPv4 and IPv6 elements share a member (a template with both
// sourceIPv4Address and sourceIPv6Address fills one per record, the other
// is zero) and for the exporter address elements.
inline constexpr uint8_t kAuxNonZeroOnly = 0x80;

// One template field, compiled.
struct FieldStep {
  FieldOp op = FieldOp::kSkip;
  uint8_t aux = 0;              // kMplsLabel: stack index
  uint16_t length = 0;          // wire length, or kVariableLength
  uint16_t offset = 0;          // offset in the record (fixed-length templates)
  uint16_t custom = kNoCustom;  // custom PrimitiveId to store, if any
  MemberRef member;             // target member
};

// A fixed-offset field stored into a record member as is (exact-width
// unsigned integer or address), run without a per-field switch. See
// FieldProgram::copies.
struct FieldCopy {
  uint16_t offset = 0;  // in the record
  MemberRef member;     // target member, of the copy's kind
};

// The kinds of FieldCopy, in the order FieldProgram::copies is grouped by:
// wire width -> member width.
enum class CopyKind : uint8_t {
  kU8From1,
  kU16From1,
  kU16From2,
  kU32From2,
  kU32From4,
  kU64From4,
  kU64From8,
  kIpv4,
  kIpv6,
  kCount,  // not a kind
};
inline constexpr int kCopyKindCount = static_cast<int>(CopyKind::kCount);

// A template compiled for DecodeDataRecord. Built by CompileFieldProgram,
// immutable afterwards.
struct FieldProgram {
  // Flags for the work done after the fields (Finish).
  enum Flag : uint32_t {
    kResolveSysUpStart = 1u << 0,
    kResolveSysUpEnd = 1u << 1,
    kHasSysInit = 1u << 2,
    kResolvePacketSampling = 1u << 3,
    kDeriveIpVersion = 1u << 4,
    kDefaultFlows = 1u << 5,
    kCheckTimes = 1u << 6,
    kPacketSection = 1u << 7,
    kExporterAddress = 1u << 8,
    kMplsTopLabelAddress = 1u << 9,
    kNatEventFromFwEvent = 1u << 10,
  };

  // Every field of a template with variable-length fields (kSkip included,
  // to advance) except skipped ones before the first variable-length field;
  // for all-fixed templates only the steps that do something and are not in
  // `copies`.
  std::vector<FieldStep> steps;
  // Templates with variable-length fields: the fields before the first of
  // them have known offsets, are bounds-checked once per record and take
  // the first fixed_prefix_steps steps.
  uint32_t fixed_prefix_length = 0;
  uint32_t fixed_prefix_steps = 0;
  // All-fixed templates without custom primitives in which no two steps
  // write the same member (the usual case, so the order of the stores does
  // not matter): the plain stores, grouped by kind and run before `steps`.
  // Kind k occupies copies[copies_end[k - 1] (0 for k = 0), copies_end[k]).
  std::vector<FieldCopy> copies;
  std::array<uint32_t, kCopyKindCount> copies_end{};
  bool variable_length = false;
  uint32_t record_length = 0;  // fixed templates: bytes per record
  RecordKind kind = RecordKind::kFlow;
  uint16_t template_id = 0;
  uint32_t flags = 0;
  uint8_t mpls_label_count = 0;
  bool has_customs = false;  // some step stores a custom primitive
  // FlowField bits every decoded record carries.
  FieldSet fields;
};

// Compiles `fields` (template `template_id` of `kind`) into *program. The
// caller (Template::Create) has validated the template shape. `registry` may
// be null (no custom primitives). The first `v9_scope_fields` fields are
// NetFlow v9 options scope fields, whose types are scope kinds (RFC 3954
// §6.1: 1 System, 2 Interface, 3 Line Card, 4 Cache, 5 Template), not
// information elements.
void CompileFieldProgram(uint16_t template_id, bool options,
                         std::span<const TemplateField> fields,
                         const PrimitiveRegistry* registry,
                         FieldProgram* program, size_t v9_scope_fields = 0);

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

// The two halves of DecodeDataRecord, for callers that decode many records
// of one template (the set walker): PrepareRecordPrototype sets in
// *prototype what every record of `tmpl` carries whatever its bytes (kind,
// template_id, the template's field bits, the export time when the record
// has none, flows = 1 when the template has no flow count), once per set;
// DecodeDataRecordFields then does the per-record work on a record that
// starts as a copy of that prototype (same `tmpl` and `time`), with the
// contract of DecodeDataRecord.
void PrepareRecordPrototype(const Template& tmpl, const RecordTimeBase& time,
                            FlowRecord* prototype);
bool DecodeDataRecordFields(const Template& tmpl, const RecordTimeBase& time,
                            ByteReader* set, RecordBatch* batch,
                            FlowRecord* record, RecordIssues* issues);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_FIELD_PROGRAM_H_
