// File: flowacct/decode/decoder.h
//
// Decoder: bytes in, records out. One Decoder accepts any datagram a flow
// exporter sends -- NetFlow v5, NetFlow v9 (RFC 3954), IPFIX (RFC 7011) and
// sFlow v5 -- tells them apart by their version field, and appends the flow
// records (and sFlow counter samples) it finds to a RecordBatch.
//
//   auto registry = PrimitiveRegistry::CreateWithBuiltins();
//   auto decoder = Decoder::Create(DecoderOptions{}, registry.get());
//   RecordBatch batch;
//   Datagram d{payload, Endpoint{exporter_ip, 2055}, arrival_ns};
//   DecodeSummary s = (*decoder)->Decode(d, &batch);
//
// State it keeps, per exporter: v9/IPFIX templates (TemplateCache), data sets
// that arrived before their template (a bounded buffer, decoded when the
// template shows up), sampling rates learnt from options data and the v5
// header, and sequence-number trackers. All of it is keyed by exporter, so a
// pipeline shards exporters across decode workers, one Decoder per worker.
//
// Robustness contract: Decode never throws, never reads outside the datagram,
// never loops without progress and never allocates in proportion to a count
// read from the wire. Malformed input is skipped at the smallest unit that
// can be skipped safely (record, sample, set, message) and counted by reason
// and exporter in stats(); everything else in the datagram still decodes.
//
// Time: the decoder never reads a clock. Datagram::arrival_ns drives template
// expiry, the pending-data buffer and timestamp_arrival.
//
// Thread-safety: thread-compatible; use one Decoder per thread.

#ifndef FLOWACCT_DECODE_DECODER_H_
#define FLOWACCT_DECODE_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "flowacct/decode/decode_stats.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"
#include "flowacct/templates/template_cache.h"

namespace flowacct {

// One received datagram. The payload is borrowed for the duration of the
// Decode call only.
struct Datagram {
  std::span<const uint8_t> payload;
  Endpoint exporter;       // UDP source of the datagram
  int64_t arrival_ns = 0;  // receive time, ns since the Unix epoch
};

struct DecoderOptions {
  TemplateCacheOptions templates;

  // Data-before-template buffer (RFC 3954 §9, RFC 7011 §8): data sets whose
  // template is unknown are kept, up to these bounds, and decoded when the
  // template arrives. Older or excess sets are dropped and counted as
  // kNoTemplate. 0 bytes disables buffering.
  size_t pending_max_bytes_per_exporter = 256 * 1024;
  size_t pending_max_bytes = 16 * 1024 * 1024;
  int64_t pending_max_age_ns = int64_t{120} * 1'000'000'000;

  // Use IPFIX exporterIPv4Address/exporterIPv6Address (IE 130/131) and the
  // sFlow agent address as FlowRecord::exporter instead of the datagram
  // source (pmacct's default; *_ignore_exporter_address turns it off).
  bool use_exporter_address_element = true;

  // IPFIX: resolve flowStart/EndSysUpTime (IE 21/22) of templates without
  // their own systemInitTimeMilliseconds (IE 160) against the IE 160 the
  // exporter announced for the domain in options data (Cisco IOS-XE), per
  // exporter address and domain. false = pmacct 1.7.7's behaviour, which
  // ignores it: such records get the export time as start and no end
  // (docs/decoding.md, Time).
  bool ipfix_options_system_init_time = true;

  // NetFlow v5: Juniper MX encodes intervals above 16383 using the two mode
  // bits too (peers.md Q15); read the sampling field as a 16-bit interval.
  bool v5_sampling_16bit_interval = false;

  // sFlow: decode counter samples into CounterRecords.
  bool sflow_counter_samples = true;
  // sFlow: most encapsulation layers (VLAN tags, MPLS labels, IP-in-IP,
  // VXLAN) walked in a sampled header before giving up (SF-10).
  int sflow_max_header_depth = 8;
};

// What one Decode call did.
struct DecodeSummary {
  ExportProtocol protocol = ExportProtocol::kUnknown;
  size_t records = 0;          // FlowRecords appended (incl. options data and
                               // records released from the pending buffer)
  size_t counter_records = 0;  // CounterRecords appended
  size_t errors = 0;           // problems counted (any reason)
  // The first problem met, kCount if none.
  DecodeError first_error = DecodeError::kCount;
};

// Notified of template changes, for tools and metrics. Optional.
class DecodeObserver {
 public:
  virtual ~DecodeObserver() = default;
  enum class TemplateEvent : uint8_t {
    kAdded,
    kRefreshed,
    kRedefined,
    kWithdrawn,
    kRejected
  };
  virtual void OnTemplate(const TemplateKey& key, TemplateEvent event) {}
};

namespace internal {
struct DecoderState;  // libflowacct/decode/decoder_state.h
}  // namespace internal

class Decoder {
 public:
  // `registry` is borrowed, must outlive the decoder, and supplies the custom
  // primitives to decode; null means built-in fields only.
  // kInvalidArgument for inconsistent options.
  static Result<std::unique_ptr<Decoder>> Create(
      const DecoderOptions& options, const PrimitiveRegistry* registry);

  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes one datagram, appending to *out. Never fails as a whole: every
  // problem is counted in stats() and summarised in the result.
  DecodeSummary Decode(const Datagram& datagram, RecordBatch* out);

  // Advances time without a datagram: expires idle templates and pending
  // data older than the limits at `now_ns` (counted as kNoTemplate).
  void Tick(int64_t now_ns);

  const DecodeStats& stats() const;
  TemplateCache& templates();
  const TemplateCache& templates() const;

  // Observer is borrowed; null to remove.
  void set_observer(DecodeObserver* observer);

 private:
  Decoder();
  std::unique_ptr<internal::DecoderState> state_;
};

}  // namespace flowacct

#endif  // FLOWACCT_DECODE_DECODER_H_
