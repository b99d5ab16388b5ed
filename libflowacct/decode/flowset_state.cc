#include "libflowacct/decode/flowset_state.h"

#include <algorithm>
#include <utility>

#include "libflowacct/decode/decoder_state.h"

namespace flowacct::internal {
namespace {

void CountNoTemplate(DecoderState& state, const IpAddress& exporter) {
  ++state.stats.exporters[exporter]
        .errors[static_cast<int>(DecodeError::kNoTemplate)];
}

}  // namespace

FlowSetState::FlowSetState(const DecoderOptions& options)
    : max_bytes_per_exporter_(options.pending_max_bytes_per_exporter),
      max_bytes_(options.pending_max_bytes),
      max_age_ns_(options.pending_max_age_ns),
      enabled_(options.pending_max_bytes_per_exporter > 0 &&
               options.pending_max_bytes > 0) {}

FlowSetState::~FlowSetState() = default;

bool FlowSetState::IsLive(const OrderEntry& e) const {
  auto it = pending_.find(e.key);
  // Sets of one key are in serial order and only leave from the front
  // (eviction, expiry) or all at once (TakePending).
  return it != pending_.end() && !it->second.empty() &&
         it->second.front().serial <= e.serial;
}

void FlowSetState::DropStale() {
  while (!order_.empty() && !IsLive(order_.front())) {
    order_.pop_front();
    if (stale_entries_ > 0) --stale_entries_;
  }
  if (stale_entries_ > 1024 && stale_entries_ > total_sets_) {
    std::deque<OrderEntry> live;
    for (const OrderEntry& e : order_) {
      if (IsLive(e)) live.push_back(e);
    }
    order_.swap(live);
    stale_entries_ = 0;
  }
}

void FlowSetState::Account(const TemplateKey& key, size_t bytes, bool add) {
  if (add) {
    exporter_bytes_[key.exporter.address] += bytes;
    total_bytes_ += bytes;
    ++total_sets_;
    return;
  }
  auto it = exporter_bytes_.find(key.exporter.address);
  if (it != exporter_bytes_.end()) {
    it->second -= std::min(it->second, bytes);
    if (it->second == 0) exporter_bytes_.erase(it);
  }
  total_bytes_ -= std::min(total_bytes_, bytes);
  if (total_sets_ > 0) --total_sets_;
}

bool FlowSetState::EvictOldest(DecoderState& state) {
  DropStale();
  if (order_.empty()) return false;
  const OrderEntry e = order_.front();
  order_.pop_front();
  auto it = pending_.find(e.key);
  // DropStale() guarantees the entry is live, hence the front of its key.
  std::deque<PendingSet>& q = it->second;
  Account(e.key, q.front().body.size(), /*add=*/false);
  q.pop_front();
  if (q.empty()) pending_.erase(it);
  CountNoTemplate(state, e.key.exporter.address);
  return true;
}

void FlowSetState::Expire(DecoderState& state, int64_t now_ns) {
  if (max_age_ns_ <= 0) return;
  for (;;) {
    DropStale();
    if (order_.empty()) return;
    // Arrival times may go backwards (pcap replay, clock steps); an entry
    // "from the future" is simply not old.
    if (now_ns - order_.front().arrival_ns <= max_age_ns_) return;
    EvictOldest(state);
  }
}

bool FlowSetState::AddPending(DecoderState& state, const TemplateKey& key,
                              const PendingSet& meta,
                              std::span<const uint8_t> body, int64_t now_ns) {
  if (!enabled_) return false;
  Expire(state, now_ns);
  const size_t n = body.size();
  if (n > max_bytes_per_exporter_ || n > max_bytes_) return false;
  auto eb = exporter_bytes_.find(key.exporter.address);
  const size_t used = eb == exporter_bytes_.end() ? 0 : eb->second;
  if (used + n > max_bytes_per_exporter_) return false;
  while (total_bytes_ + n > max_bytes_) {
    if (!EvictOldest(state)) break;
  }
  PendingSet p;
  p.time = meta.time;
  p.export_seqno = meta.export_seqno;
  p.exporter_port = meta.exporter_port;
  p.arrival_ns = meta.arrival_ns;
  p.body.assign(body.begin(), body.end());
  p.serial = next_serial_++;
  order_.push_back(OrderEntry{key, p.serial, p.arrival_ns});
  pending_[key].push_back(std::move(p));
  Account(key, n, /*add=*/true);
  return true;
}

void FlowSetState::TakePending(DecoderState& state, const TemplateKey& key,
                               int64_t now_ns, std::vector<PendingSet>* out) {
  out->clear();
  Expire(state, now_ns);
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  for (PendingSet& p : it->second) {
    Account(key, p.body.size(), /*add=*/false);
    ++stale_entries_;
    out->push_back(std::move(p));
  }
  pending_.erase(it);
  DropStale();
}

void FlowSetState::ForgetExporter(const IpAddress& exporter) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->first.exporter.address == exporter) {
      for (const PendingSet& p : it->second) {
        Account(it->first, p.body.size(), /*add=*/false);
        ++stale_entries_;
      }
      pending_.erase(it++);
    } else {
      ++it;
    }
  }
  DropStale();
  for (auto it = sys_init_.begin(); it != sys_init_.end();) {
    if (it->first.first == exporter) {
      sys_init_.erase(it++);
    } else {
      ++it;
    }
  }
}

void FlowSetState::LearnSysInit(const IpAddress& exporter, uint32_t domain,
                                uint64_t ms) {
  if (ms == 0) return;
  const auto key = std::make_pair(exporter, domain);
  auto it = sys_init_.find(key);
  if (it != sys_init_.end()) {
    it->second = ms;
  } else if (sys_init_.size() < kMaxSysInitEntries) {
    sys_init_.emplace(key, ms);
  }
}

std::optional<uint64_t> FlowSetState::SysInit(const IpAddress& exporter,
                                              uint32_t domain) const {
  if (sys_init_.empty()) return std::nullopt;
  auto it = sys_init_.find(std::make_pair(exporter, domain));
  if (it == sys_init_.end()) return std::nullopt;
  return it->second;
}

}  // namespace flowacct::internal
