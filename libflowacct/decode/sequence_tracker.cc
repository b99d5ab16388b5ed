#include "libflowacct/decode/sequence_tracker.h"

#include <absl/container/flat_hash_set.h>

namespace flowacct::internal {

SequenceTracker::Outcome SequenceTracker::Observe(const SequenceKey& key,
                                                  uint32_t seq,
                                                  uint32_t advance,
                                                  const Limits& limits,
                                                  SequenceStats* stats) {
  Stream& s = streams_[key];
  stats->received += advance;
  if (!s.synced) {
    s.synced = true;
    s.next = seq + advance;
    stats->expected += advance;
    return Outcome::kFirst;
  }
  const uint32_t ahead = seq - s.next;   // modulo 2^32
  const uint32_t behind = s.next - seq;  // modulo 2^32
  if (ahead == 0) {
    s.next = seq + advance;
    stats->expected += advance;
    return Outcome::kInOrder;
  }
  if (ahead <= limits.max_gap) {
    stats->lost += ahead;
    stats->expected += uint64_t{ahead} + advance;
    s.next = seq + advance;
    return Outcome::kGap;
  }
  if (behind <= limits.reorder_window) {
    // Something we counted as lost arrived late (or a duplicate).
    ++stats->reordered;
    const uint64_t back = advance < stats->lost ? advance : stats->lost;
    stats->lost -= back;
    return Outcome::kReordered;
  }
  ++stats->resets;
  s.next = seq + advance;
  stats->expected += advance;
  return Outcome::kReset;
}

void SequenceTracker::Desync(const SequenceKey& key) {
  auto it = streams_.find(key);
  if (it != streams_.end()) it->second.synced = false;
}

void SequenceTracker::ForgetExporter(const IpAddress& exporter) {
  absl::erase_if(streams_, [&](const auto& kv) {
    return kv.first.exporter == exporter;
  });
}

}  // namespace flowacct::internal
