// File: flowacct/decode/decode_stats.h
//
// What decoders count. A malformed datagram, set, sample or record never
// stops the stream: it is skipped and counted here by reason and exporter
// (hostile-inputs.md §1), so operators can see exactly what was lost where.
//
// Thread-safety: value types. A Decoder's stats are read on its own thread
// (copy them out to publish elsewhere).

#ifndef FLOWACCT_DECODE_DECODE_STATS_H_
#define FLOWACCT_DECODE_DECODE_STATS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string_view>

#include "flowacct/model/ip_address.h"

namespace flowacct {

// Why something was skipped. Each value names what was dropped and the
// hostile-inputs.md case it covers.
enum class DecodeError : uint8_t {
  // Datagram level (whole datagram dropped).
  kShortDatagram,         // shorter than its header (N5-1, NF-1)
  kUnknownVersion,        // version not 5/9/10 or sFlow 5 (N5-3, SF-1)
  kV5CountMismatch,       // count > 30 or 24+48*count != length (N5-2)
  kMessageLength,         // IPFIX length < 16 or > datagram (NF-1)
  // Set level (rest of the message dropped unless noted).
  kSetTooShort,           // set length < 4 (NF-2)
  kSetOverrun,            // set length > bytes left (NF-3)
  kReservedSetId,         // set id 0/1 (IPFIX) or 4..255 (set skipped, NF-4)
  // Templates (the template record is rejected, the message goes on when its
  // length is known).
  kTemplateIdReserved,    // template id < 256 (NF-5)
  kTemplateTruncated,     // field count / PEN beyond the set (NF-6, NF-14)
  kTemplateZeroLength,    // record length 0 (NF-9)
  kTemplateTooLong,       // fixed lengths sum > 65535 (NF-10)
  kTemplateBadScope,      // options scope count 0 / > fields / len%4 (NF-16)
  kTemplateCapReached,    // a cap evicted or refused templates (NF-27)
  kWithdrawalIgnored,     // IPFIX withdrawal over UDP (NF-7, NF-8; notice)
  // Data.
  kNoTemplate,            // data set for an unknown template, not buffered
                          // or expired from the pending buffer (NF-20)
  kVarLenOverrun,         // variable-length field beyond record/set (NF-13)
  kFieldLength,           // typed IE with an impossible length; the value
                          // is ignored, the record kept (NF-11)
  kTrailingBytes,         // non-padding bytes after the last record (NF-21)
  kStructuredData,        // RFC 6313 list inconsistent (NF-22, NF-23)
  kTimeAnomaly,           // clamped time: uptime wrap, end<start (N5-5, NF-26)
  // sFlow.
  kSflowAgentAddress,     // agent address type not 1/2 (SF-1)
  kSflowSampleCount,      // more samples than bytes allow (SF-2)
  kSflowSampleOverrun,    // sample length beyond datagram (SF-3)
  kSflowRecordOverrun,    // record length beyond sample (SF-4)
  kSflowMisaligned,       // length not a multiple of 4 (SF-5)
  kSflowUnknownSample,    // unknown sample format, skipped (SF-7; notice)
  kSflowUnknownRecord,    // unknown record format, skipped (notice)
  kSflowHeaderProtocol,   // undefined sampled-header protocol (SF-8)
  kSflowHeaderLength,     // header_length > record, frame 0 (SF-9)
  kSflowHeaderTruncated,  // sampled packet cut inside L2-L4 (SF-10; notice,
                          // the record keeps what was parsed)
  kSflowGatewayOverrun,   // extended gateway counts beyond record (SF-11)
  kSflowZeroSamplingRate,  // sampling rate 0 (SF-12; record kept, rate
                           // unknown)

  kCount,  // not a reason
};

inline constexpr int kDecodeErrorCount = static_cast<int>(DecodeError::kCount);

// "short_datagram", "unknown_version", ... (stable metric label values).
std::string_view DecodeErrorName(DecodeError e);

// True for reasons that report something skipped on purpose in well-formed
// input, losing no flow data (an IPFIX withdrawal over UDP, an sFlow sample
// or record format flowacct does not decode, a sampled header shorter than
// its packet): kWithdrawalIgnored, kSflowUnknownSample, kSflowUnknownRecord,
// kSflowHeaderTruncated. Everything else is an error in the input.
bool DecodeErrorIsNotice(DecodeError e);

// Sequence-number accounting for one exporter (summed over its domains /
// sub-agents), with each protocol's semantics: v5 counts flows, v9 export
// packets per source id, IPFIX data records per observation domain, sFlow
// datagrams per agent+sub-agent (RFC 3954 §5.1, RFC 7011 §3.1, sFlow v5).
struct SequenceStats {
  uint64_t expected = 0;   // units the sequence numbers say were sent
  uint64_t received = 0;   // units seen
  uint64_t lost = 0;       // forward gaps (units)
  uint64_t resets = 0;     // big backward jumps: exporter restart (N5-6)
  uint64_t reordered = 0;  // small backward jumps / duplicates
};

struct ExporterStats {
  uint64_t datagrams = 0;
  uint64_t bytes = 0;              // datagram payload bytes
  uint64_t records = 0;            // flow / event records emitted
  uint64_t options_records = 0;    // options data records decoded
  uint64_t counter_records = 0;    // sFlow counter samples emitted
  uint64_t templates = 0;          // template records received
  uint64_t options_templates = 0;  // options template records received
  uint64_t pending_records = 0;    // records decoded late from the
                                   // data-before-template buffer
  // sFlow: sample-level sequence (per source id), and agent-side drops.
  uint64_t sflow_samples_lost = 0;
  uint64_t sflow_agent_drops = 0;
  SequenceStats sequence;
  std::array<uint64_t, kDecodeErrorCount> errors{};

  uint64_t error(DecodeError e) const {
    return errors[static_cast<int>(e)];
  }
  // Sum of errors[] over the reasons that are errors, and over notices
  // (DecodeErrorIsNotice).
  uint64_t total_errors() const;
  uint64_t total_notices() const;

  // Adds every counter of `other` to this one.
  void Add(const ExporterStats& other);
};

// Per-exporter counters, keyed by exporter address (not port: an exporter
// that changes source port is still the same exporter).
struct DecodeStats {
  std::map<IpAddress, ExporterStats> exporters;

  // Sum over all exporters.
  ExporterStats Total() const;

  // Adds `other` exporter by exporter (the pipeline merges its workers').
  void Merge(const DecodeStats& other);
};

}  // namespace flowacct

#endif  // FLOWACCT_DECODE_DECODE_STATS_H_
