// SamplingTable: sampling rates announced by NetFlow v9 / IPFIX exporters in
// options data, applied to the flow records that do not carry their own.
//
// Exporters rarely put the sampling rate in every flow record. Instead they
// send it in options data records, either
//   - per sampler: a sampler table row with a sampler id (v9 FLOW_SAMPLER_ID
//     48 / IPFIX selectorId 302) and a rate (v9 FLOW_SAMPLER_RANDOM_INTERVAL
//     50, SAMPLING_INTERVAL 34, IPFIX samplingPacketInterval/Space 305+306),
//     while flow records carry only the sampler id (RFC 3954 §8, Cisco
//     Flexible NetFlow "sampler-table"); or
//   - per exporter and domain: an options record without a sampler id (the
//     system-scoped SAMPLING_INTERVAL of classic IOS, Juniper SRX).
//
// Rates are keyed by (exporter address WITHOUT port, domain, sampler id):
// options and flow data of one router often leave from different source ports
// (peers.md Q39). A flow record without its own rate takes, in this order:
//   1. the rate of its sampler id in its domain (Q6: NCS/ASR9k with several
//      samplers in ODID 0);
//   2. the rate of its sampler id learnt in another domain of the exporter
//      (Q5: Catalyst 9300 sends the sampler table with another source id);
//   3. the domain's default (a sampler-less options record);
//   4. the exporter's rate when exactly one distinct rate is known across all
//      its domains and samplers.
// A sampler id announced without a rate (Q7, ASR9010) teaches nothing: the
// record's rate stays 0 (unknown).
//
// Memory is bounded: at most kMaxEntriesPerExporter rates per exporter and
// kMaxExporters exporters; rows beyond that are ignored (an exporter cannot
// grow the table by spraying sampler ids).
//
// Thread-safety: thread-compatible (owned by one Decoder).

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_SAMPLING_TABLE_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_SAMPLING_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include <absl/container/flat_hash_map.h>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/ip_address.h"

namespace flowacct::internal {

class SamplingTable {
 public:
  static constexpr size_t kMaxEntriesPerExporter = 1024;
  static constexpr size_t kMaxExporters = 65536;

  // Records that `exporter` samples 1-in-`rate` in `domain`, for sampler
  // `sampler_id` (nullopt: the domain's default). rate 0 is ignored.
  void Learn(const IpAddress& exporter, uint32_t domain,
             std::optional<uint32_t> sampler_id, uint32_t rate);

  // Learns from a decoded options data record (kind kOptions) when it carries
  // a sampling rate; uses its sampler_id when present.
  void LearnFromOptions(const IpAddress& exporter, uint32_t domain,
                        const FlowRecord& options_record);

  // The rate for a flow record of `exporter` in `domain` with an optional
  // sampler id, by the rules above; 0 when unknown.
  uint32_t Lookup(const IpAddress& exporter, uint32_t domain,
                  std::optional<uint32_t> sampler_id) const;

  // Sets record->sampling_rate (and its field bit) from the table when the
  // record has no rate of its own. Returns true if it set one.
  bool Apply(const IpAddress& exporter, uint32_t domain,
             FlowRecord* record) const;

  // Drops everything known about one exporter.
  void ForgetExporter(const IpAddress& exporter);

  size_t exporter_count() const { return exporters_.size(); }

 private:
  struct RateKey {
    uint32_t domain = 0;
    uint32_t sampler_id = 0;
    bool has_sampler = false;
    friend bool operator==(const RateKey&, const RateKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const RateKey& k) {
      return H::combine(std::move(h), k.domain, k.sampler_id, k.has_sampler);
    }
  };
  struct ExporterRates {
    absl::flat_hash_map<RateKey, uint32_t> rates;
    // Last rate learnt for a sampler id, whatever its domain (rule 2).
    absl::flat_hash_map<uint32_t, uint32_t> by_sampler;
    // The only distinct rate across `rates`, or 0 when none or several.
    uint32_t unique_rate = 0;
  };

  absl::flat_hash_map<IpAddress, ExporterRates> exporters_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_SAMPLING_TABLE_H_
