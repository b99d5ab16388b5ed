// SequenceTracker: loss, reset and reordering accounting from export
// sequence numbers, for every protocol (hostile-inputs N5-6, NF-28, SF-13).
//
// Each stream (exporter, protocol, domain, sub-stream) has an expected next
// sequence number. Observe(seq, units) compares the received number with it,
// modulo 2^32:
//   equal                          in order
//   ahead by <= max_gap            gap: `lost += distance`
//   behind by <= reorder_window    late arrival of something counted lost:
//                                  `reordered++`, `lost -= units` (bounded)
//   anything else                  reset (exporter restart or wrap by 2^31):
//                                  resync, `resets++`, nothing counted lost
// The units are protocol-specific and chosen by the caller: v5 flows, v9
// export packets (1), IPFIX data records, sFlow datagrams or samples (1).
//
// Thread-safety: thread-compatible.

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_SEQUENCE_TRACKER_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_SEQUENCE_TRACKER_H_

#include <cstdint>

#include <absl/container/flat_hash_map.h>

#include "flowacct/decode/decode_stats.h"
#include "flowacct/model/flow_record.h"
#include "flowacct/model/ip_address.h"

namespace flowacct::internal {

struct SequenceKey {
  IpAddress exporter;
  ExportProtocol protocol = ExportProtocol::kUnknown;
  uint32_t domain = 0;  // source id / ODID / sFlow sub-agent
  uint32_t stream = 0;  // sFlow sample source id; 0 otherwise

  friend bool operator==(const SequenceKey&, const SequenceKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const SequenceKey& k) {
    return H::combine(std::move(h), k.exporter, k.protocol, k.domain,
                      k.stream);
  }
};

class SequenceTracker {
 public:
  enum class Outcome : uint8_t { kFirst, kInOrder, kGap, kReordered, kReset };

  struct Limits {
    uint32_t reorder_window = 64;   // units
    uint32_t max_gap = 1u << 24;    // units
  };

  // Records `units` received with sequence number `seq` on stream `key`,
  // updating *stats. `next_seq_offset` is how far the stream advances
  // (normally == units; v9 counts packets so units=records may differ).
  Outcome Observe(const SequenceKey& key, uint32_t seq, uint32_t advance,
                  const Limits& limits, SequenceStats* stats);

  // The next observation of `key` resynchronises without counting a gap
  // (used when a message had records we could not count, e.g. IPFIX data
  // sets without a template).
  void Desync(const SequenceKey& key);

  // Forgets every stream of one exporter.
  void ForgetExporter(const IpAddress& exporter);

  size_t size() const { return streams_.size(); }

 private:
  struct Stream {
    uint32_t next = 0;
    bool synced = false;
  };
  absl::flat_hash_map<SequenceKey, Stream> streams_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_SEQUENCE_TRACKER_H_
