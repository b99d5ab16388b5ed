// Shared helpers for the decoder fuzz targets (not part of libflowacct).
//
// Each target keeps one Decoder for the whole process (created on first use),
// as a collector does: template and sequence state accumulate across inputs,
// which is what lets the fuzzer reach data-set decoding at all. Time only
// moves forward (one simulated second per input) and Tick() runs every 64
// inputs so expiry and pending-buffer paths are exercised too.

#ifndef FLOWACCT_FUZZ_FUZZ_COMMON_H_
#define FLOWACCT_FUZZ_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "flowacct/decode/decoder.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

namespace flowacct::fuzz {

inline constexpr int64_t kStartNs = int64_t{1'700'000'000} * 1'000'000'000;
inline constexpr int64_t kSecondNs = 1'000'000'000;

// Small caps so eviction, expiry and the pending buffer are reachable by a
// fuzzer within seconds.
inline DecoderOptions FuzzDecoderOptions() {
  DecoderOptions options;
  options.templates.max_templates_per_exporter = 64;
  options.templates.max_templates = 256;
  options.templates.idle_timeout_ns = 600 * kSecondNs;
  options.pending_max_bytes_per_exporter = 16 * 1024;
  options.pending_max_bytes = 64 * 1024;
  options.pending_max_age_ns = 60 * kSecondNs;
  return options;
}

// A process-wide decoder plus its registry and an output batch.
class FuzzDecoder {
 public:
  FuzzDecoder() : registry_(PrimitiveRegistry::CreateWithBuiltins()) {
    auto decoder = Decoder::Create(FuzzDecoderOptions(), registry_.get());
    if (!decoder.ok()) std::abort();  // options above are valid
    decoder_ = std::move(*decoder);
  }

  // Decodes `data` as one datagram from `exporter`. Checks the invariants
  // the decoder promises whatever the input.
  void DecodeOne(std::span<const uint8_t> data, const Endpoint& exporter) {
    now_ns_ += kSecondNs;
    if (++inputs_ % 64 == 0) decoder_->Tick(now_ns_);
    batch_.Clear();
    Datagram datagram{data, exporter, now_ns_};
    DecodeSummary summary = decoder_->Decode(datagram, &batch_);
    // A problem counted must be named.
    if (summary.errors > 0 && summary.first_error == DecodeError::kCount) {
      std::abort();
    }
  }

  Decoder& decoder() { return *decoder_; }
  int64_t now_ns() const { return now_ns_; }

 private:
  std::unique_ptr<PrimitiveRegistry> registry_;
  std::unique_ptr<Decoder> decoder_;
  RecordBatch batch_{256};
  int64_t now_ns_ = kStartNs;
  uint64_t inputs_ = 0;
};

inline Endpoint FuzzExporter(uint8_t last_octet = 1) {
  return Endpoint{IpAddress::V4(0xC0000200u | last_octet), 2055};
}

}  // namespace flowacct::fuzz

#endif  // FLOWACCT_FUZZ_FUZZ_COMMON_H_
