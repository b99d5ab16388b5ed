// Private: how an Aggregator packs a record's key primitives into fixed-width
// words, and how a Snapshot unpacks them into a FlowRecord again.
//
// A packed key is `words()` uint64 words: the time bin (int64, when the view
// has bins) first, then one fixed-width slot per key primitive. Addresses
// take 17 bytes (IpAddress: family + 16 bytes), MACs 6, integers their
// member's size, timestamps 8. Variable-length values (as_path, std_comm,
// class, interface and VRF names, label, the MPLS label stack, custom
// primitives) are interned in an InternPool and stored as a uint32 id (0 =
// absent). Unused bytes are zero, so equal keys have equal words.

#ifndef FLOWACCT_LIBFLOWACCT_AGGREGATE_KEY_LAYOUT_H_
#define FLOWACCT_LIBFLOWACCT_AGGREGATE_KEY_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/model/flow_record.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct::internal {

// Interned byte strings: bytes -> uint32 id (1, 2, ...), per aggregator.
// Clear() keeps the storage.
class InternPool {
 public:
  InternPool();
  // The id of `bytes` (interning it when new). Never 0.
  uint32_t Intern(std::span<const uint8_t> bytes);
  // REQUIRES: 1 <= id <= size().
  std::span<const uint8_t> Get(uint32_t id) const {
    const ByteRef& r = refs_[id - 1];
    return std::span<const uint8_t>(bytes_.data() + r.offset, r.length);
  }
  size_t size() const { return refs_.size(); }
  // All interned bytes back to back; refs()[id - 1] locates value `id`.
  std::span<const uint8_t> bytes() const { return bytes_; }
  std::span<const ByteRef> refs() const { return refs_; }
  void Clear();

 private:
  void Grow();

  std::vector<uint8_t> bytes_;
  std::vector<ByteRef> refs_;
  std::vector<uint64_t> index_;  // (hash >> 32) << 32 | id; 0 = empty
  size_t mask_ = 0;
};

enum class KeyOpKind : uint8_t {
  kCopy1,          // 1-byte member
  kCopy2,          // 2-byte member
  kCopy4,          // 4-byte member
  kCopy8,          // 8-byte member (u64 counters/tags, timestamps)
  kCopy6,          // MacAddress
  kCopy17,         // IpAddress
  kRd,             // mpls_vpn_rd (8 bytes)
  kBytes,          // ByteRef member -> intern id (empty = 0)
  kMplsStack,      // label stack -> intern id of the entries (0 = none)
  kCustom,         // custom primitive -> intern id (absent = 0)
  kVlan,           // u16: in_vlan if non-zero, else out_vlan
  kMplsTop,        // u32: 20-bit label of the first entry
  kMplsBottom,     // u32: 20-bit label of the last entry
  kExporter,       // 17 bytes: FlowRecord::exporter
  kExportVersion,  // u8: 5 / 9 / 10
  kArrival,        // 8 bytes: timestamp_arrival
  kSeconds,        // int64 ns member floored to the second (timestamps_secs)
};

struct KeyOp {
  KeyOpKind kind = KeyOpKind::kCopy1;
  FlowField field = FlowField::kCount;  // presence bit (kCount: none)
  uint8_t presence_word = 0;            // FieldSet word holding `field`
  uint64_t presence_mask = 0;           // its bit; 0 = always present
  uint16_t record_offset = 0;           // member offset in FlowRecord
  uint16_t key_offset = 0;              // byte offset in the packed key
  PrimitiveId primitive = 0;            // custom primitives
};

// A plain copy from the record into the key, zeros when the record lacks
// the field. Addresses (17 bytes) are copied exactly. Narrower members (up
// to 8 bytes): 8 bytes are read at record_offset, masked to the member's
// width and written at key_offset; the spill past the width is zeros and
// lands on later slots (written afterwards: address slots come first in a
// key, narrower copies run in ascending order, special ops after all
// copies), padding, or the key buffer's slack word.
struct CopyOp {
  uint16_t record_offset = 0;
  uint16_t key_offset = 0;
  uint8_t presence_word = 2;   // index into {bits0, bits1, ~0}
  uint64_t presence_mask = 1;  // bit that must be set
  uint64_t value_mask = 0;     // narrow copies: the member's bytes
};

class KeyLayout {
 public:
  // Compiles the view's primitives. Errors as Aggregator::Create.
  static Result<KeyLayout> Build(const PrimitiveRegistry& registry,
                                 const AggregatorOptions& options);

  // Key width in 64-bit words (at least 1). Pack needs a buffer of
  // words() + 1 words (the last is slack for CopyOp spills).
  size_t words() const { return words_; }
  bool has_bins() const { return has_bins_; }
  // The view aggregates `tcpflags`: OR-ed into the row's flags word, not
  // part of the key (pmacct semantics).
  bool or_tcp_flags() const { return or_tcp_flags_; }
  bool has_customs() const { return has_customs_; }
  // The view is a sum_* mode (sum_host, sum_net, sum_as, sum_port,
  // sum_mac): its only key slot holds the source value (Pack) or the
  // destination value (PackSumDst) of the pair, and every record counts
  // once under each.
  bool sum() const { return sum_; }
  // The view's primitives in configured order, without duplicates. A sum_*
  // mode appears as its source primitive (sum_host as src_host): rows
  // carry the value in the source field and print under its column, as
  // pmacct prints them (SRC_IP / ip_src).
  const std::vector<PrimitiveId>& primitives() const { return primitives_; }
  // Key offsets (bytes) of intern ids (uint32), for re-interning in Merge.
  const std::vector<uint16_t>& intern_offsets() const {
    return intern_offsets_;
  }
  // Custom ops: (primitive, key offset of its intern id).
  const std::vector<KeyOp>& custom_ops() const { return custom_ops_; }

  // Writes the key of `record` (without the bin word) into key[0..words()).
  // Every byte of a primitive's slot is written (zeros when the record does
  // not carry it); padding bytes are never written, so a buffer that starts
  // zeroed can be reused without clearing. Interns variable-length values
  // into *pool.
  void Pack(const FlowRecord& record, const RecordBatch& batch,
            InternPool* pool, uint64_t* key) const;

  // sum() views: writes the key of the destination half of `record` (its
  // dst_* value in the slot where Pack puts the src_* value; the bin word
  // is not written).
  void PackSumDst(const FlowRecord& record, uint64_t* key) const;

  // Restores the key primitives of `key` into *record (which must be
  // default-initialised): values and field bits. refs[id - 1] is where
  // intern id `id` lives in `arena`. Custom values are not restored (the
  // snapshot stores them per row).
  void Unpack(const uint64_t* key, std::span<const ByteRef> refs,
              const RecordBatch& arena, FlowRecord* record) const;

  // True when both layouts come from equal options (same key and bins).
  bool SameAs(const KeyLayout& other) const;

 private:
  void PackSpecial(const FlowRecord& record, const RecordBatch& batch,
                   InternPool* pool, const uint64_t* bits, uint64_t* key) const;

  size_t words_ = 1;
  bool has_bins_ = false;
  bool or_tcp_flags_ = false;
  bool has_customs_ = false;
  bool sum_ = false;
  bool timestamps_secs_ = false;
  bool view_has_in_vlan_ = false;
  bool view_has_out_vlan_ = false;
  bool view_has_mpls_stack_ = false;
  bool view_has_mpls_top_ = false;
  std::vector<PrimitiveId> primitives_;
  std::vector<KeyOp> ops_;          // all, for Unpack
  std::vector<CopyOp> copies17_;    // Pack: addresses
  std::vector<CopyOp> copies_;      // Pack: narrow copies, ascending offsets
  std::vector<KeyOp> special_ops_;  // Pack: the rest, after the copies
  std::vector<CopyOp> sum_dst17_;   // PackSumDst: the dst half (sum() only)
  std::vector<CopyOp> sum_dst_;
  std::vector<KeyOp> custom_ops_;
  std::vector<uint16_t> intern_offsets_;
  // For SameAs.
  HistorySpec history_;
  int64_t history_origin_ = 0;
  bool bin_by_arrival_ = false;
};

__extension__ using Uint128 = unsigned __int128;

// A fast hash of `n` key words: one multiply per word, then a 64x64->128
// multiply folded (as in wyhash-like hashes) so high and low bits mix.
// kWords > 0: the key is kWords long (unrolled); 0: `n` words.
template <size_t kWords = 0>
inline uint64_t HashKey(const uint64_t* key, size_t n) {
  constexpr uint64_t kMul1 = 0x9E3779B97F4A7C15ull;
  constexpr uint64_t kMul2 = 0xD6E8FEB86659FD93ull;
  const size_t words = kWords != 0 ? kWords : n;
  uint64_t h = 0x243F6A8885A308D3ull ^ words;
#pragma GCC unroll 8
  for (size_t i = 0; i < words; ++i) {
    h = (h ^ key[i]) * kMul1;
    h ^= h >> 29;
  }
  Uint128 p = static_cast<Uint128>(h) * kMul2;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

uint64_t HashBytes(std::span<const uint8_t> bytes);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_AGGREGATE_KEY_LAYOUT_H_
