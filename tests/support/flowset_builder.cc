#include "tests/support/flowset_builder.h"

#include <cstdlib>

namespace flowacct::testing {

FlowSetBuilder FlowSetBuilder::V9(uint32_t source_id, uint32_t sequence,
                                  uint32_t unix_secs, uint32_t uptime_ms) {
  FlowSetBuilder m(false);
  m.b_.U16(9).U16(0).U32(uptime_ms).U32(unix_secs).U32(sequence).U32(source_id);
  return m;
}

FlowSetBuilder FlowSetBuilder::Ipfix(uint32_t domain, uint32_t sequence,
                                     uint32_t export_time) {
  FlowSetBuilder m(true);
  m.b_.U16(10).U16(0).U32(export_time).U32(sequence).U32(domain);
  return m;
}

void FlowSetBuilder::FieldSpec(const Field& f) {
  if (ipfix_ && f.pen != 0) {
    b_.U16(0x8000 | f.id).U16(f.length).U32(f.pen);
  } else {
    b_.U16(f.id).U16(f.length);
  }
}

FlowSetBuilder& FlowSetBuilder::BeginSet(uint16_t set_id) {
  if (in_set_) EndSet();
  set_start_ = b_.Mark();
  b_.U16(set_id).U16(0);
  in_set_ = true;
  ++sets_;
  return *this;
}

FlowSetBuilder& FlowSetBuilder::EndSet(std::optional<uint16_t> length) {
  if (!in_set_) std::abort();
  b_.PatchU16(set_start_ + 2, length.value_or(b_.size() - set_start_));
  in_set_ = false;
  return *this;
}

FlowSetBuilder& FlowSetBuilder::SetHeader(uint16_t set_id, uint16_t length) {
  if (in_set_) EndSet();
  b_.U16(set_id).U16(length);
  ++sets_;
  return *this;
}

FlowSetBuilder& FlowSetBuilder::TemplateRecord(
    uint16_t id, const std::vector<Field>& fields) {
  b_.U16(id).U16(fields.size());
  for (const Field& f : fields) FieldSpec(f);
  return *this;
}

FlowSetBuilder& FlowSetBuilder::OptionsTemplateRecord(
    uint16_t id, const std::vector<Field>& scope,
    const std::vector<Field>& options) {
  if (ipfix_) {
    b_.U16(id).U16(scope.size() + options.size()).U16(scope.size());
  } else {
    b_.U16(id).U16(scope.size() * 4).U16(options.size() * 4);
  }
  for (const Field& f : scope) FieldSpec(f);
  for (const Field& f : options) FieldSpec(f);
  return *this;
}

FlowSetBuilder& FlowSetBuilder::Template(uint16_t id,
                                         const std::vector<Field>& fields) {
  BeginSet(ipfix_ ? 2 : 0);
  TemplateRecord(id, fields);
  return EndSet();
}

FlowSetBuilder& FlowSetBuilder::OptionsTemplate(
    uint16_t id, const std::vector<Field>& scope,
    const std::vector<Field>& options) {
  BeginSet(ipfix_ ? 3 : 1);
  OptionsTemplateRecord(id, scope, options);
  // Pad to 4 bytes (v9 options template records are 6 + 4n long).
  while ((b_.size() - set_start_) % 4 != 0) b_.U8(0);
  return EndSet();
}

FlowSetBuilder& FlowSetBuilder::DataSet(uint16_t id,
                                        const BytesBuilder& records,
                                        size_t padding) {
  BeginSet(id);
  b_.Bytes(records.bytes());
  b_.Zeros(padding);
  return EndSet();
}

FlowSetBuilder& FlowSetBuilder::Withdrawal(uint16_t id) {
  BeginSet(2);
  b_.U16(id).U16(0);
  return EndSet();
}

FlowSetBuilder& FlowSetBuilder::Raw(std::span<const uint8_t> bytes) {
  b_.Bytes(bytes);
  return *this;
}

FlowSetBuilder& FlowSetBuilder::Zeros(size_t n) {
  b_.Zeros(n);
  return *this;
}

FlowSetBuilder& FlowSetBuilder::Count(uint16_t count) {
  count_ = count;
  return *this;
}

FlowSetBuilder& FlowSetBuilder::MessageLength(uint16_t length) {
  length_ = length;
  return *this;
}

std::vector<uint8_t> FlowSetBuilder::Build() const {
  BytesBuilder out = b_;
  if (in_set_) {
    // An unterminated set gets its real length.
    out.PatchU16(set_start_ + 2, out.size() - set_start_);
  }
  if (ipfix_) {
    out.PatchU16(2, length_.value_or(out.size()));
  } else {
    out.PatchU16(2, count_.value_or(sets_));
  }
  return out.Take();
}

void FlowSetBuilder::VarLen(BytesBuilder& b, std::span<const uint8_t> value,
                            bool long_form) {
  if (long_form || value.size() >= 255) {
    b.U8(255).U16(value.size());
  } else {
    b.U8(value.size());
  }
  b.Bytes(value);
}

std::vector<FlowSetBuilder::Field> SimpleFlowFields() {
  return {{8, 4}, {12, 4}, {1, 4}, {2, 4}, {4, 1}};
}

void AppendSimpleFlow(BytesBuilder& b, uint8_t src_last, uint32_t bytes,
                      uint32_t packets, uint8_t proto) {
  b.Ip4(10, 0, 0, src_last).Ip4(10, 0, 1, 1).U32(bytes).U32(packets).U8(proto);
}

DecoderHarness::DecoderHarness(DecoderOptions options)
    : exporter_{IpAddress::V4(0xc0000201), 2055} {
  auto d = Decoder::Create(options, nullptr);
  if (!d.ok()) std::abort();
  decoder_ = std::move(d).value();
}

DecodeSummary DecoderHarness::Feed(const std::vector<uint8_t>& bytes) {
  now_ns_ += 1'000'000;
  return FeedFrom(bytes, exporter_, now_ns_);
}

DecodeSummary DecoderHarness::FeedFrom(const std::vector<uint8_t>& bytes,
                                       const Endpoint& exporter,
                                       int64_t now_ns) {
  Datagram d{std::span<const uint8_t>(bytes), exporter, now_ns};
  return decoder_->Decode(d, &batch_);
}

ExporterStats DecoderHarness::stats() const {
  auto it = decoder_->stats().exporters.find(exporter_.address);
  if (it == decoder_->stats().exporters.end()) return ExporterStats{};
  return it->second;
}

}  // namespace flowacct::testing
