// File: libflowacct/bgp/rib/prefix_index.h
//
// PrefixIndex: the shared prefix index of one table (address family + SAFI
// + route distinguisher). Every prefix any peer announced gets a dense
// 32-bit id (1, 2, ...); per-peer route arrays are indexed by it.
//
// Lookup structure: a multibit trie. The root is a flat array indexed by the
// first 8 or 16 address bits; below it every node has an 8-bit stride and is
// stored popcount-compressed (as in Poptrie, Asai & Ohara, SIGCOMM 2015):
//   - child_bits: 256-bit vector, bit s set when slot s has a child node;
//     children are packed in slot order.
//   - run_bits: 256-bit vector, bit s set when a new leaf run starts at slot
//     s; leaves (prefix ids) are packed per run.
// A node at depth d holds, in each slot, the longest index prefix whose
// length is in (d, d+8] covering that slot, or 0. The root holds lengths
// [0, root_bits]. A lookup keeps the last non-zero leaf on its way down, so
// it touches one root entry and one node per 8 further bits (IPv4 /24: two
// dependent loads).
//
// Covering links: each prefix records its parent, the longest index prefix
// strictly covering it. A per-peer lookup that finds the longest index match
// but no route of that peer there follows parent links, O(1) per step.
//
// Concurrency: nodes are immutable once published except their `children`
// entries (atomic pointers). Changing a node's leaves or adding a child
// builds a new node (copy-on-write), publishes it with a release store in
// the parent's slot and retires the old one to the EpochDomain. Parent links
// are atomic. Prefix records (address, length) are written before the id is
// published and never change. Prefixes are never removed (see rib.h, known
// limits).
//
// Thread-safety: Lookup/FindExact/accessors from any thread inside a read
// section; FindOrInsert from any writer thread inside a read section (it
// serialises insertions on an internal mutex).

#ifndef FLOWACCT_LIBFLOWACCT_BGP_RIB_PREFIX_INDEX_H_
#define FLOWACCT_LIBFLOWACCT_BGP_RIB_PREFIX_INDEX_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "libflowacct/bgp/rib/chunked_array.h"
#include "libflowacct/bgp/rib/epoch.h"

namespace flowacct::bgp::rib_internal {

struct TrieNode;

class PrefixIndex {
 public:
  // addr_bytes: 4, 16, or 12 / 24 for VPN tables, where the 8-byte route
  // distinguisher leads the address. root_bits: 8 or 16.
  PrefixIndex(int addr_bytes, int root_bits, EpochDomain* domain);
  ~PrefixIndex();
  PrefixIndex(const PrefixIndex&) = delete;
  PrefixIndex& operator=(const PrefixIndex&) = delete;

  int addr_bytes() const { return addr_bytes_; }
  int max_length() const { return addr_bytes_ * 8; }

  // Longest index prefix containing `addr` (addr_bytes() network-order
  // bytes), 0 when none; its length in *length (from the trie leaf, so
  // the prefix record is not touched).
  uint32_t Lookup(const uint8_t* addr, int* length) const;
  // The id of exactly addr/len, 0 when not indexed. `addr` host bits zero.
  uint32_t FindExact(const uint8_t* addr, int len) const;
  // FindExact, inserting when missing. 0 when the index is full.
  uint32_t FindOrInsert(const uint8_t* addr, int len);

  uint32_t Parent(uint32_t id) const {
    return parent_.Get(id)->load(std::memory_order_acquire);
  }
  int Length(uint32_t id) const { return *length_.Get(id); }
  // Copies the prefix's addr_bytes() address bytes to `out`.
  void CopyAddress(uint32_t id, uint8_t* out) const;

  uint32_t size() const { return count_.load(std::memory_order_acquire); }
  // Ids are 1..size(); ForEach-style iteration uses this bound.
  uint32_t id_limit() const { return size() + 1; }
  size_t node_bytes() const {
    return node_bytes_.load(std::memory_order_relaxed) + root_bytes();
  }
  size_t record_bytes() const {
    return parent_.bytes() + length_.bytes() +
           addr_chunks_.load(std::memory_order_relaxed) * addr_bytes_ *
               (size_t{1} << 16) +
           1024 * sizeof(void*);
  }
  size_t node_count() const {
    return node_count_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr uint32_t kMaxIds = (uint32_t{1} << 26) - 1;
  // A trie leaf: prefix id in the low 27 bits, (length - node depth) in the
  // top 5 (root: 0..16, nodes: 1..8).
  static constexpr uint32_t kIdMask = (uint32_t{1} << 27) - 1;
  static uint32_t LeafId(uint32_t leaf) { return leaf & kIdMask; }
  static uint32_t MakeLeaf(uint32_t id, int len, int depth) {
    return id | (static_cast<uint32_t>(len - depth) << 27);
  }
  static int LeafLength(uint32_t leaf, int depth) {
    return depth + static_cast<int>(leaf >> 27);
  }

  size_t root_bytes() const {
    return (size_t{1} << root_bits_) * sizeof(RootEntry);
  }
  uint32_t RootIndex(const uint8_t* addr) const {
    return root_bits_ == 16 ? (uint32_t{addr[0]} << 8) | addr[1] : addr[0];
  }
  // The LPM of addr restricted to prefixes stored at depths < len, then
  // followed down parent links to a length <= len (*found_len).
  uint32_t WalkAtMost(const uint8_t* addr, int len, int* found_len) const;
  uint32_t Insert(const uint8_t* addr, int len);
  // Points the top of each chain below `id` (inside its range) to `id`.
  void FixChain(uint32_t leaf, int len, uint32_t id);
  void FixSubtree(const TrieNode* node, int len, uint32_t id);
  TrieNode* NewNode(const uint32_t* leaves, TrieNode* const* children);
  void RetireNode(TrieNode* node);
  void SetParent(uint32_t id, uint32_t parent) {
    parent_.Get(id)->store(parent, std::memory_order_release);
  }

  const int addr_bytes_;
  const int root_bits_;
  EpochDomain* const domain_;
  // Leaf and child side by side: one cache line per root step.
  struct RootEntry {
    std::atomic<uint32_t> leaf;
    std::atomic<TrieNode*> child;
  };
  std::unique_ptr<RootEntry[]> root_;
  ChunkedArray<std::atomic<uint32_t>, 16, 10> parent_;
  ChunkedArray<uint8_t, 16, 10> length_;
  // Addresses: addr_bytes_ per id, network order, in chunks of 2^16 ids.
  std::unique_ptr<std::atomic<uint8_t*>[]> addr_dir_;
  std::atomic<size_t> addr_chunks_{0};
  std::atomic<uint32_t> count_{0};
  std::atomic<size_t> node_bytes_{0};
  std::atomic<size_t> node_count_{0};
  std::mutex insert_mu_;
};

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_PREFIX_INDEX_H_
