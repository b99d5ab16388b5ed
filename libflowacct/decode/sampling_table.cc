#include "libflowacct/decode/sampling_table.h"

namespace flowacct::internal {

void SamplingTable::Learn(const IpAddress& exporter, uint32_t domain,
                          std::optional<uint32_t> sampler_id, uint32_t rate) {
  if (rate == 0) return;
  auto it = exporters_.find(exporter);
  if (it == exporters_.end()) {
    if (exporters_.size() >= kMaxExporters) return;
    it = exporters_.emplace(exporter, ExporterRates{}).first;
  }
  ExporterRates& e = it->second;
  const RateKey key{domain, sampler_id.value_or(0), sampler_id.has_value()};
  auto r = e.rates.find(key);
  if (r == e.rates.end()) {
    if (e.rates.size() >= kMaxEntriesPerExporter) return;
    e.rates.emplace(key, rate);
  } else if (r->second == rate) {
    if (sampler_id) e.by_sampler[*sampler_id] = rate;
    return;  // a refresh: nothing changes
  } else {
    r->second = rate;
  }
  if (sampler_id) {
    if (e.by_sampler.size() < kMaxEntriesPerExporter ||
        e.by_sampler.contains(*sampler_id)) {
      e.by_sampler[*sampler_id] = rate;
    }
  }
  // Recompute the exporter-wide rate (bounded by kMaxEntriesPerExporter, and
  // only when a rate changed).
  uint32_t unique = 0;
  for (const auto& [k, v] : e.rates) {
    if (unique == 0) {
      unique = v;
    } else if (unique != v) {
      unique = 0;
      break;
    }
  }
  e.unique_rate = unique;
}

void SamplingTable::LearnFromOptions(const IpAddress& exporter, uint32_t domain,
                                     const FlowRecord& options_record) {
  if (!options_record.has(FlowField::kSamplingRate)) return;
  std::optional<uint32_t> sampler;
  if (options_record.has(FlowField::kSamplerId)) {
    sampler = options_record.sampler_id;
  }
  Learn(exporter, domain, sampler, options_record.sampling_rate);
}

uint32_t SamplingTable::Lookup(const IpAddress& exporter, uint32_t domain,
                               std::optional<uint32_t> sampler_id) const {
  auto it = exporters_.find(exporter);
  if (it == exporters_.end()) return 0;
  const ExporterRates& e = it->second;
  if (sampler_id) {
    auto r = e.rates.find(RateKey{domain, *sampler_id, true});
    if (r != e.rates.end()) return r->second;
    auto s = e.by_sampler.find(*sampler_id);
    if (s != e.by_sampler.end()) return s->second;
  }
  auto d = e.rates.find(RateKey{domain, 0, false});
  if (d != e.rates.end()) return d->second;
  return e.unique_rate;
}

bool SamplingTable::Apply(const IpAddress& exporter, uint32_t domain,
                          FlowRecord* record) const {
  if (record->has(FlowField::kSamplingRate) && record->sampling_rate != 0) {
    return false;
  }
  if (exporters_.empty()) return false;
  std::optional<uint32_t> sampler;
  if (record->has(FlowField::kSamplerId)) sampler = record->sampler_id;
  const uint32_t rate = Lookup(exporter, domain, sampler);
  if (rate == 0) return false;
  record->sampling_rate = rate;
  record->fields.set(FlowField::kSamplingRate);
  return true;
}

void SamplingTable::ForgetExporter(const IpAddress& exporter) {
  exporters_.erase(exporter);
}

}  // namespace flowacct::internal
