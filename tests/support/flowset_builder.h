// FlowSetBuilder: builds NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages
// for tests: template and options template records (with enterprise / PEN
// fields), withdrawals, data sets, variable-length values, padding, raw
// garbage and deliberately wrong lengths.
//
//   FlowSetBuilder m = FlowSetBuilder::Ipfix(/*domain=*/1, /*seq=*/0, 1000);
//   m.Template(256, {{8, 4}, {12, 4}, {1, 8}});
//   BytesBuilder rec;
//   rec.Ip4(10, 0, 0, 1).Ip4(10, 0, 0, 2).U64(1500);
//   m.DataSet(256, rec);
//   std::vector<uint8_t> bytes = m.Build();
//
// DecoderHarness wraps a Decoder, one exporter and a RecordBatch.
//
// Thread-safety: none needed (test code).

#ifndef FLOWACCT_TESTS_SUPPORT_FLOWSET_BUILDER_H_
#define FLOWACCT_TESTS_SUPPORT_FLOWSET_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "flowacct/decode/decoder.h"
#include "flowacct/model/record_batch.h"

#include "tests/support/bytes_builder.h"

namespace flowacct::testing {

class FlowSetBuilder {
 public:
  // One field specifier. pen != 0 sets the IPFIX enterprise bit.
  struct Field {
    uint16_t id = 0;
    uint16_t length = 0;
    uint32_t pen = 0;
  };

  static FlowSetBuilder V9(uint32_t source_id, uint32_t sequence,
                           uint32_t unix_secs = 1'700'000'000,
                           uint32_t uptime_ms = 100'000);
  static FlowSetBuilder Ipfix(uint32_t domain, uint32_t sequence,
                              uint32_t export_time = 1'700'000'000);

  bool ipfix() const { return ipfix_; }

  // --- Whole sets ----------------------------------------------------------
  // A template set holding one template record.
  FlowSetBuilder& Template(uint16_t id, const std::vector<Field>& fields);
  // An options template set holding one record (v9: scope/option lengths in
  // bytes; IPFIX: field count + scope field count).
  FlowSetBuilder& OptionsTemplate(uint16_t id, const std::vector<Field>& scope,
                                  const std::vector<Field>& options);
  // A data set with the given record bytes and `padding` zero bytes.
  FlowSetBuilder& DataSet(uint16_t id, const BytesBuilder& records,
                          size_t padding = 0);
  // An IPFIX template withdrawal (field count 0) in a template set.
  FlowSetBuilder& Withdrawal(uint16_t id);

  // --- Building sets piece by piece --------------------------------------
  // Starts a set; its length is patched by EndSet unless overridden.
  FlowSetBuilder& BeginSet(uint16_t set_id);
  FlowSetBuilder& TemplateRecord(uint16_t id, const std::vector<Field>& fields);
  FlowSetBuilder& OptionsTemplateRecord(uint16_t id,
                                        const std::vector<Field>& scope,
                                        const std::vector<Field>& options);
  // Raw bytes inside the current set (or message).
  FlowSetBuilder& Raw(std::span<const uint8_t> bytes);
  FlowSetBuilder& Raw(const BytesBuilder& bytes) { return Raw(bytes.bytes()); }
  FlowSetBuilder& Zeros(size_t n);
  // Ends the set, writing its real length or `length_override`.
  FlowSetBuilder& EndSet(std::optional<uint16_t> length_override = {});
  // A set header with an arbitrary length and nothing else.
  FlowSetBuilder& SetHeader(uint16_t set_id, uint16_t length);

  // --- Header fields -------------------------------------------------------
  // v9 header count (default: number of sets added).
  FlowSetBuilder& Count(uint16_t count);
  // IPFIX header length (default: the real length).
  FlowSetBuilder& MessageLength(uint16_t length);

  std::vector<uint8_t> Build() const;

  // Appends a variable-length value (RFC 7011 §7): 1-byte length, or 255
  // followed by a 2-byte length when `long_form` or the value is >= 255.
  static void VarLen(BytesBuilder& b, std::span<const uint8_t> value,
                     bool long_form = false);

 private:
  FlowSetBuilder(bool ipfix) : ipfix_(ipfix) {}
  void FieldSpec(const Field& f);

  bool ipfix_;
  BytesBuilder b_;
  size_t set_start_ = 0;
  bool in_set_ = false;
  uint16_t sets_ = 0;
  std::optional<uint16_t> count_;
  std::optional<uint16_t> length_;
};

// A small flow template used by the tests: sourceIPv4Address (8) and
// destinationIPv4Address (12), octetDeltaCount (1) and packetDeltaCount (2)
// in 4 bytes each, protocolIdentifier (4) in 1: 17 bytes per record.
std::vector<FlowSetBuilder::Field> SimpleFlowFields();
inline constexpr size_t kSimpleFlowLength = 17;
// Appends one record for SimpleFlowFields(): 10.0.0.<src_last> -> 10.0.1.1.
void AppendSimpleFlow(BytesBuilder& b, uint8_t src_last, uint32_t bytes,
                      uint32_t packets = 1, uint8_t proto = 6);

// A Decoder fed from one exporter, with a batch to collect records.
class DecoderHarness {
 public:
  explicit DecoderHarness(DecoderOptions options = {});

  // Decodes `bytes` from `exporter` (default: 192.0.2.1:2055) at `now_ns`
  // (default: the harness clock, advanced by 1 ms per call).
  DecodeSummary Feed(const std::vector<uint8_t>& bytes);
  DecodeSummary FeedFrom(const std::vector<uint8_t>& bytes,
                         const Endpoint& exporter, int64_t now_ns);

  Decoder& decoder() { return *decoder_; }
  RecordBatch& batch() { return batch_; }
  const Endpoint& exporter() const { return exporter_; }
  int64_t now() const { return now_ns_; }
  void set_now(int64_t ns) { now_ns_ = ns; }

  // Stats of the default exporter (zeros when it sent nothing yet).
  ExporterStats stats() const;
  uint64_t errors(DecodeError e) const { return stats().error(e); }

 private:
  std::unique_ptr<Decoder> decoder_;
  RecordBatch batch_;
  Endpoint exporter_;
  int64_t now_ns_ = int64_t{1'700'000'000} * 1'000'000'000;
};

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_FLOWSET_BUILDER_H_
