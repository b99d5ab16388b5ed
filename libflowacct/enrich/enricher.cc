#include "flowacct/enrich/enricher.h"

#include <limits>

namespace flowacct {
namespace {

uint64_t SaturatingMul(uint64_t value, uint32_t factor) {
  uint64_t out = 0;
  if (__builtin_mul_overflow(value, uint64_t{factor}, &out)) {
    return std::numeric_limits<uint64_t>::max();
  }
  return out;
}

}  // namespace

Enricher::Enricher(EnrichOptions options) : options_(std::move(options)) {}

void Enricher::PostTag(FlowRecord* r) const {
  if (r->kind == RecordKind::kOptions) return;
  uint32_t rate = 0;
  if (options_.sampling_map != nullptr) {
    rate = options_.sampling_map->Lookup(*r);
    if (rate != 0) {
      r->sampling_rate = rate;
      r->fields.set(FlowField::kSamplingRate);
    }
  }
  if (rate == 0 && r->has(FlowField::kSamplingRate)) rate = r->sampling_rate;
  if (options_.renormalize && rate > 1) {
    r->packets = SaturatingMul(r->packets, rate);
    r->bytes = SaturatingMul(r->bytes, rate);
    r->reverse_packets = SaturatingMul(r->reverse_packets, rate);
    r->reverse_bytes = SaturatingMul(r->reverse_bytes, rate);
    r->sampling_rate = 1;
    r->fields.set(FlowField::kSamplingRate);
  }
  if (options_.ports != nullptr) options_.ports->Apply(r);
}

void Enricher::Networks(FlowRecord* r) const {
  if (r->kind == RecordKind::kOptions) return;
  if (options_.networks != nullptr) {
    options_.networks->Apply(r, options_.net_source, options_.as_source);
  } else if (options_.fill_nets) {
    FillNetsFromMasks(r);
  }
}

void Enricher::Process(RecordBatch* batch) const {
  const size_t n = batch->size();
  const PreTagMap* map = options_.pre_tag_map.get();
  const bool copies = map != nullptr && map->may_append();
  // With a routing feed, networks for the whole batch first, then the RIB
  // lookups (one read section per batch), before the pre_tag_map so that
  // its BGP keys (src_as, comms, local_pref...) see them. Without one, a
  // single pass.
  const bool routing = options_.bgp != nullptr && options_.bgp->active();
  if (routing) {
    for (size_t i = 0; i < n; ++i) Networks(&batch->records()[i]);
    options_.bgp->Apply(batch, 0, n);
  }
  for (size_t i = 0; i < n; ++i) {
    FlowRecord* r = &batch->records()[i];
    if (!routing) Networks(r);
    if (map != nullptr) {
      if (copies) {
        map->ApplyAt(batch, i);
        r = &batch->records()[i];
      } else {
        map->Apply(r, batch);
      }
    }
    PostTag(r);
  }
  // return=true copies were appended after the first n records; they went
  // through the networks step and the map already.
  for (size_t i = n; i < batch->size(); ++i) PostTag(&batch->records()[i]);
}

}  // namespace flowacct
