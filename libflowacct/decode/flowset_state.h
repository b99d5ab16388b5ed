// FlowSetState: what the NetFlow v9 / IPFIX decoders keep between datagrams
// besides templates (TemplateCache) and sequence numbers (SequenceTracker):
//
//   - the data-before-template buffer: data sets whose template is not known
//     yet (RFC 3954 §9 "SHOULD store", RFC 7011 §8 "MAY buffer"; peers.md
//     Q40: some exporters put the data set before the template set of the
//     same datagram). Each set is copied with what is needed to decode it
//     later, and decoded as soon as its template arrives. Bounded by
//     DecoderOptions::pending_max_bytes_per_exporter (a new set that does not
//     fit is refused), pending_max_bytes (the oldest sets of any exporter are
//     evicted to make room) and pending_max_age_ns (older sets are dropped by
//     Expire and before every insertion / lookup). Every set refused, evicted
//     or expired is counted as DecodeError::kNoTemplate on its exporter.
//   - the sampling table (sampling_table.h);
//   - IPFIX systemInitTimeMilliseconds (IE 160) announced in options data
//     (Cisco IOS-XE), per exporter address (without port, like sampling) and
//     observation domain: the base of later records' IE 21/22. At most
//     kMaxSysInitEntries pairs; announcements beyond that are ignored.
//
// Memory: bytes held are bounded by pending_max_bytes plus a small per-set
// overhead; allocation happens only when a set is buffered (never on the
// steady-state path where templates are known).
//
// Thread-safety: thread-compatible (owned by one Decoder's DecoderState).

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_STATE_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_STATE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "flowacct/decode/decoder.h"
#include "flowacct/templates/template_cache.h"

#include "libflowacct/decode/field_program.h"
#include "libflowacct/decode/sampling_table.h"

namespace flowacct::internal {

struct DecoderState;

// One buffered data set and the message context it came with.
struct PendingSet {
  RecordTimeBase time;         // header times of its message
  uint32_t export_seqno = 0;   // header sequence number of its message
  uint16_t exporter_port = 0;  // UDP source port of its datagram
  int64_t arrival_ns = 0;      // arrival of its datagram
  std::vector<uint8_t> body;   // set content after the 4-byte set header
  uint64_t serial = 0;         // insertion order (internal)
};

class FlowSetState {
 public:
  explicit FlowSetState(const DecoderOptions& options);
  ~FlowSetState();

  FlowSetState(const FlowSetState&) = delete;
  FlowSetState& operator=(const FlowSetState&) = delete;

  // True when data sets can be buffered at all (both byte limits > 0).
  bool buffering_enabled() const { return enabled_; }

  // Buffers a copy of `body` for `key` (whose exporter port the caller has
  // already cleared when templates ignore ports). Returns false when the set
  // is refused (buffering disabled, or the exporter's budget is full): the
  // caller counts kNoTemplate for it. Sets of other exporters evicted to
  // respect the global budget are counted on their exporters in
  // state.stats. `meta.body` is ignored.
  bool AddPending(DecoderState& state, const TemplateKey& key,
                  const PendingSet& meta, std::span<const uint8_t> body,
                  int64_t now_ns);

  // Cheap test used after every template record.
  bool HasPending(const TemplateKey& key) const {
    return !pending_.empty() && pending_.contains(key);
  }

  // Moves every set buffered for `key`, oldest first, into *out (cleared
  // first); sets older than the age limit at now_ns are dropped and counted
  // instead.
  void TakePending(DecoderState& state, const TemplateKey& key, int64_t now_ns,
                   std::vector<PendingSet>* out);

  // Drops pending data older than the limits at now_ns (kNoTemplate).
  void Expire(DecoderState& state, int64_t now_ns);

  // Forgets the pending sets of one exporter (all domains), uncounted.
  void ForgetExporter(const IpAddress& exporter);

  size_t pending_bytes() const { return total_bytes_; }
  size_t pending_sets() const { return total_sets_; }

  SamplingTable& sampling() { return sampling_; }
  const SamplingTable& sampling() const { return sampling_; }

  static constexpr size_t kMaxSysInitEntries = 65536;

  // Records the systemInitTimeMilliseconds an options data record of
  // `exporter` announced for `domain` (a later announcement replaces it:
  // the exporter restarted). ms 0 is ignored.
  void LearnSysInit(const IpAddress& exporter, uint32_t domain, uint64_t ms);
  // The last announced init time of `exporter` / `domain`, if any.
  std::optional<uint64_t> SysInit(const IpAddress& exporter,
                                  uint32_t domain) const;

  // Reused storage for the field specifiers of the template record being
  // parsed, so that template refreshes allocate nothing.
  std::vector<TemplateField>& template_fields() { return template_fields_; }

 private:
  struct OrderEntry {
    TemplateKey key;
    uint64_t serial = 0;
    int64_t arrival_ns = 0;
  };
  // Removes the globally oldest live set, counting it as kNoTemplate.
  // Returns false when nothing is left.
  bool EvictOldest(DecoderState& state);
  // True when the order entry still names a buffered set.
  bool IsLive(const OrderEntry& e) const;
  // Pops stale order entries (sets already taken) from the front, and
  // compacts order_ when stale entries outnumber live ones.
  void DropStale();
  void Account(const TemplateKey& key, size_t bytes, bool add);

  size_t max_bytes_per_exporter_;
  size_t max_bytes_;
  int64_t max_age_ns_;
  bool enabled_;

  absl::flat_hash_map<TemplateKey, std::deque<PendingSet>> pending_;
  std::deque<OrderEntry> order_;  // insertion order over all keys
  absl::flat_hash_map<IpAddress, size_t> exporter_bytes_;
  size_t total_bytes_ = 0;
  size_t total_sets_ = 0;
  size_t stale_entries_ = 0;  // order_ entries whose set was taken
  uint64_t next_serial_ = 1;

  SamplingTable sampling_;
  absl::flat_hash_map<std::pair<IpAddress, uint32_t>, uint64_t> sys_init_;
  std::vector<TemplateField> template_fields_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_STATE_H_
