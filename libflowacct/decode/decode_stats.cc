#include "flowacct/decode/decode_stats.h"

namespace flowacct {

std::string_view DecodeErrorName(DecodeError e) {
  switch (e) {
    case DecodeError::kShortDatagram: return "short_datagram";
    case DecodeError::kUnknownVersion: return "unknown_version";
    case DecodeError::kV5CountMismatch: return "v5_count_mismatch";
    case DecodeError::kMessageLength: return "message_length";
    case DecodeError::kSetTooShort: return "set_too_short";
    case DecodeError::kSetOverrun: return "set_overrun";
    case DecodeError::kReservedSetId: return "reserved_set_id";
    case DecodeError::kTemplateIdReserved: return "template_id_reserved";
    case DecodeError::kTemplateTruncated: return "template_truncated";
    case DecodeError::kTemplateZeroLength: return "template_zero_length";
    case DecodeError::kTemplateTooLong: return "template_too_long";
    case DecodeError::kTemplateBadScope: return "template_bad_scope";
    case DecodeError::kTemplateCapReached: return "template_cap_reached";
    case DecodeError::kWithdrawalIgnored: return "withdrawal_ignored";
    case DecodeError::kNoTemplate: return "no_template";
    case DecodeError::kVarLenOverrun: return "varlen_overrun";
    case DecodeError::kFieldLength: return "field_length";
    case DecodeError::kTrailingBytes: return "trailing_bytes";
    case DecodeError::kStructuredData: return "structured_data";
    case DecodeError::kTimeAnomaly: return "time_anomaly";
    case DecodeError::kSflowAgentAddress: return "sflow_agent_address";
    case DecodeError::kSflowSampleCount: return "sflow_sample_count";
    case DecodeError::kSflowSampleOverrun: return "sflow_sample_overrun";
    case DecodeError::kSflowRecordOverrun: return "sflow_record_overrun";
    case DecodeError::kSflowMisaligned: return "sflow_misaligned";
    case DecodeError::kSflowUnknownSample: return "sflow_unknown_sample";
    case DecodeError::kSflowUnknownRecord: return "sflow_unknown_record";
    case DecodeError::kSflowHeaderProtocol: return "sflow_header_protocol";
    case DecodeError::kSflowHeaderLength: return "sflow_header_length";
    case DecodeError::kSflowHeaderTruncated: return "sflow_header_truncated";
    case DecodeError::kSflowGatewayOverrun: return "sflow_gateway_overrun";
    case DecodeError::kSflowZeroSamplingRate: return "sflow_zero_sampling_rate";
    case DecodeError::kCount: break;
  }
  return "unknown";
}

bool DecodeErrorIsNotice(DecodeError e) {
  switch (e) {
    case DecodeError::kWithdrawalIgnored:
    case DecodeError::kSflowUnknownSample:
    case DecodeError::kSflowUnknownRecord:
    case DecodeError::kSflowHeaderTruncated:
      return true;
    default:
      return false;
  }
}

uint64_t ExporterStats::total_errors() const {
  uint64_t n = 0;
  for (int i = 0; i < kDecodeErrorCount; ++i) {
    if (!DecodeErrorIsNotice(static_cast<DecodeError>(i))) n += errors[i];
  }
  return n;
}

uint64_t ExporterStats::total_notices() const {
  uint64_t n = 0;
  for (int i = 0; i < kDecodeErrorCount; ++i) {
    if (DecodeErrorIsNotice(static_cast<DecodeError>(i))) n += errors[i];
  }
  return n;
}

void ExporterStats::Add(const ExporterStats& s) {
  datagrams += s.datagrams;
  bytes += s.bytes;
  records += s.records;
  options_records += s.options_records;
  counter_records += s.counter_records;
  templates += s.templates;
  options_templates += s.options_templates;
  pending_records += s.pending_records;
  sflow_samples_lost += s.sflow_samples_lost;
  sflow_agent_drops += s.sflow_agent_drops;
  sequence.expected += s.sequence.expected;
  sequence.received += s.sequence.received;
  sequence.lost += s.sequence.lost;
  sequence.resets += s.sequence.resets;
  sequence.reordered += s.sequence.reordered;
  for (int i = 0; i < kDecodeErrorCount; ++i) errors[i] += s.errors[i];
}

ExporterStats DecodeStats::Total() const {
  ExporterStats t;
  for (const auto& [addr, s] : exporters) t.Add(s);
  return t;
}

void DecodeStats::Merge(const DecodeStats& other) {
  for (const auto& [addr, s] : other.exporters) exporters[addr].Add(s);
}

}  // namespace flowacct
