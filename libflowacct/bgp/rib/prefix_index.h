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
// it touches one root entry and one node per 8 further bits. A node's
// header (the two bitmaps) is one 64-byte-aligned cache line, so a node
// costs a lookup two lines: the header, then the slot's leaf (and child
// pointer). IPv4 /24: root entry + two lines.
//
// Memory: nodes come from the Rib's Arena (huge pages, 64-byte aligned);
// the root array is huge-page backed too.
//
// Batched lookups: Walk is the lookup cut into one step per memory access,
// each step prefetching the next, so that RibCore::LookupMany can keep
// many walks in flight and overlap their cache misses.
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
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "libflowacct/bgp/rib/arena.h"
#include "libflowacct/bgp/rib/chunked_array.h"
#include "libflowacct/bgp/rib/epoch.h"

namespace flowacct::bgp::rib_internal {

// Hot-path helpers are always inlined so that they take the POPCNT
// instruction inside the clones below.
#define FLOWACCT_HOT inline __attribute__((always_inline))

FLOWACCT_HOT int Popcount(uint64_t x) { return __builtin_popcountll(x); }

// The read paths are compiled twice, with and without the POPCNT
// instruction (every x86-64 CPU since 2008 has it, the default x86-64
// baseline does not assume it), and the loader picks one; elsewhere the
// compiler's own popcount is used. GCC only (clang 14 names the clones
// differently unless every declaration carries the attribute), and not
// under sanitizers: the loader runs the chooser (an ifunc resolver) before
// their runtime is up.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define FLOWACCT_NO_IFUNC 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define FLOWACCT_NO_IFUNC 1
#endif
#if defined(__x86_64__) && !defined(__POPCNT__) && defined(__ELF__) && \
    !defined(__clang__) && !defined(FLOWACCT_NO_IFUNC)
#define FLOWACCT_POPCNT_CLONES \
  __attribute__((target_clones("popcnt", "default")))
#else
#define FLOWACCT_POPCNT_CLONES
#endif

// The layout (see the file comment). The header is the two 256-bit
// vectors, word by word, and nothing else: exactly one cache line (nodes
// are 64-byte aligned, from the Arena), so a lookup step reads one header
// line, then one leaf or child line. Rank bases (how many runs / children
// the earlier words hold) are popcounts of the earlier words of the same
// line. Followed in memory by uint32_t leaves[n_runs] (padded to 8 bytes)
// and std::atomic<TrieNode*> children[n_children].
struct TrieNode {
  struct Words {
    uint64_t child_bits;
    uint64_t run_bits;
  } w[4];

  // Branch free: the word index is unpredictable.
  FLOWACCT_HOT int RunsBefore(unsigned i) const {
    return (i > 0 ? Popcount(w[0].run_bits) : 0) +
           (i > 1 ? Popcount(w[1].run_bits) : 0) +
           (i > 2 ? Popcount(w[2].run_bits) : 0) +
           (i > 3 ? Popcount(w[3].run_bits) : 0);
  }
  FLOWACCT_HOT int ChildrenBefore(unsigned i) const {
    return (i > 0 ? Popcount(w[0].child_bits) : 0) +
           (i > 1 ? Popcount(w[1].child_bits) : 0) +
           (i > 2 ? Popcount(w[2].child_bits) : 0) +
           (i > 3 ? Popcount(w[3].child_bits) : 0);
  }
  FLOWACCT_HOT int n_runs() const { return RunsBefore(4); }
  int n_children() const { return ChildrenBefore(4); }

  FLOWACCT_HOT static size_t LeavesBytes(int n_runs) {
    return (n_runs * sizeof(uint32_t) + 7) & ~size_t{7};
  }
  FLOWACCT_HOT const uint32_t* leaves() const {
    return reinterpret_cast<const uint32_t*>(this + 1);
  }
  uint32_t* leaves() { return reinterpret_cast<uint32_t*>(this + 1); }
  std::atomic<TrieNode*>* children() {
    return reinterpret_cast<std::atomic<TrieNode*>*>(
        reinterpret_cast<char*>(this + 1) + LeavesBytes(n_runs()));
  }
  const std::atomic<TrieNode*>* children() const {
    return reinterpret_cast<const std::atomic<TrieNode*>*>(
        reinterpret_cast<const char*>(this + 1) + LeavesBytes(n_runs()));
  }
  static size_t Bytes(int n_children, int n_runs) {
    return sizeof(TrieNode) + LeavesBytes(n_runs) +
           n_children * sizeof(std::atomic<TrieNode*>);
  }
  size_t bytes() const { return Bytes(n_children(), n_runs()); }

  // Where the leaf of slot s is (the leaf of the run s falls in).
  FLOWACCT_HOT const uint32_t* LeafSlot(unsigned s) const {
    unsigned i = s >> 6, b = s & 63;
    uint64_t mask = (uint64_t{2} << b) - 1;  // bits 0..b (b == 63: all)
    return &leaves()[RunsBefore(i) + Popcount(w[i].run_bits & mask) - 1];
  }
  FLOWACCT_HOT uint32_t LeafAt(unsigned s) const { return *LeafSlot(s); }
  // The child slot of s, nullptr when s has no child.
  FLOWACCT_HOT const std::atomic<TrieNode*>* ChildSlotAt(unsigned s) const {
    unsigned i = s >> 6, b = s & 63;
    if (((w[i].child_bits >> b) & 1) == 0) return nullptr;
    uint64_t mask = (uint64_t{1} << b) - 1;
    // Children follow the leaves: both counts come from this line.
    const char* base =
        reinterpret_cast<const char*>(this + 1) + LeavesBytes(n_runs());
    return reinterpret_cast<const std::atomic<TrieNode*>*>(base) +
           ChildrenBefore(i) + Popcount(w[i].child_bits & mask);
  }
  FLOWACCT_HOT TrieNode* ChildAt(unsigned s) const {
    const std::atomic<TrieNode*>* slot = ChildSlotAt(s);
    return slot == nullptr ? nullptr : slot->load(std::memory_order_acquire);
  }
  std::atomic<TrieNode*>* ChildSlot(unsigned s) {
    return const_cast<std::atomic<TrieNode*>*>(ChildSlotAt(s));
  }
  // Writer side: the 256 leaves and children, uncompressed.
  void Expand(uint32_t* leaves_out, TrieNode** children_out) const {
    const uint32_t* lv = leaves();
    const std::atomic<TrieNode*>* ch = children();
    int run = -1;
    for (unsigned s = 0; s < 256; ++s) {
      run += static_cast<int>((w[s >> 6].run_bits >> (s & 63)) & 1);
      leaves_out[s] = lv[run];
      children_out[s] = nullptr;
    }
    int child = 0;
    for (unsigned i = 0; i < 4; ++i) {
      for (uint64_t bits = w[i].child_bits; bits != 0; bits &= bits - 1) {
        children_out[i * 64 + std::countr_zero(bits)] =
            ch[child++].load(std::memory_order_relaxed);
      }
    }
  }
};
static_assert(sizeof(TrieNode) == 64);

class PrefixIndex {
 private:
  struct RootEntry;

 public:
  // addr_bytes: 4, 16, or 12 / 24 for VPN tables, where the 8-byte route
  // distinguisher leads the address. root_bits: 8 or 16. Trie nodes come
  // from `arena`, which must outlive the index.
  PrefixIndex(int addr_bytes, int root_bits, EpochDomain* domain, Arena* arena);
  ~PrefixIndex();
  PrefixIndex(const PrefixIndex&) = delete;
  PrefixIndex& operator=(const PrefixIndex&) = delete;

  int addr_bytes() const { return addr_bytes_; }
  int max_length() const { return addr_bytes_ * 8; }

  // Longest index prefix containing `addr` (addr_bytes() network-order
  // bytes), 0 when none; its length in *length (from the trie leaf, so
  // the prefix record is not touched).
  uint32_t Lookup(const uint8_t* addr, int* length) const;
  // A lookup that advances one memory access per Step(), so that a caller
  // can interleave many (RibCore::LookupMany): each Step() reads what the
  // previous one prefetched and prefetches what the next one reads, and
  // the cache misses of all walks in flight overlap. Same answer as
  // Lookup(). Both `index` and `key` must outlive the walk.
  class Walk {
   public:
    // max_len: stop below the nodes that hold only longer prefixes (as
    // WalkAtMost does; the answer may then be longer than max_len: see
    // PrefixIndex::ExactFromWalk).
    void Start(const PrefixIndex* index, const uint8_t* key,
               int max_len = 255) {
      index_ = index;
      key_ = key;
      max_len_ = max_len;
      root_ = &index->root_[index->RootIndex(key)];
      phase_ = kRoot;
      __builtin_prefetch(root_);
    }
    // True when the walk is over (id() and length() are its answer).
    FLOWACCT_HOT bool Step();
    uint32_t id() const { return LeafId(best_); }
    int length() const { return LeafLength(best_, best_depth_); }
    const PrefixIndex* index() const { return index_; }

   private:
    enum Phase : uint8_t { kRoot, kHeader, kSlot };
    const PrefixIndex* index_ = nullptr;
    const uint8_t* key_ = nullptr;
    union {
      const RootEntry* root_;
      const TrieNode* node_;
    };
    const uint32_t* leaf_ = nullptr;
    const std::atomic<TrieNode*>* child_ = nullptr;
    uint32_t best_ = 0;
    int best_depth_ = 0;
    int byte_ = 0;
    int max_len_ = 255;
    Phase phase_ = kRoot;
  };

  // The id of exactly key/len from a walk started with max_len = len, as
  // FindExact gives it (0: not indexed).
  uint32_t ExactFromWalk(const Walk& walk, int len) const;

  // FindExact for up to kMaxBatch prefixes at once (any mix of indexes; a
  // null index answers 0), their walks interleaved so that their cache
  // misses overlap: the index half of announcing an UPDATE's NLRI.
  struct ExactQuery {
    const PrefixIndex* index = nullptr;
    const uint8_t* addr = nullptr;
    int len = 0;
    uint32_t id = 0;  // out
  };
  static constexpr size_t kMaxBatch = 32;
  static void FindExactBatch(ExactQuery* queries, size_t n);

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

  size_t root_bytes() const { return root_bytes_for(root_bits_); }
  static size_t root_bytes_for(int root_bits) {
    return (size_t{1} << root_bits) * sizeof(RootEntry);
  }
  void FreeTree(TrieNode* node);
  uint32_t RootIndex(const uint8_t* addr) const {
    return root_bits_ == 16 ? (uint32_t{addr[0]} << 8) | addr[1] : addr[0];
  }
  // The LPM of addr restricted to prefixes stored at depths < len, then
  // followed down parent links to a length <= len (*found_len).
  uint32_t WalkAtMost(const uint8_t* addr, int len, int* found_len) const;
  // The longest index prefix on addr's path through the nodes that can
  // hold lengths <= max_len (it may be longer than max_len: see AtMost).
  uint32_t Descend(const uint8_t* addr, int max_len, int* length) const;
  // Follows covering links from `best` (of length *best_len) down to a
  // length <= len.
  uint32_t AtMost(uint32_t best, int len, int* best_len) const;
  // Inserts addr/len, whose longest covering index prefix is `parent`.
  uint32_t Insert(const uint8_t* addr, int len, uint32_t parent);
  // Points the top of each chain below `id` (inside its range) to `id`.
  void FixChain(uint32_t leaf, int len, uint32_t id);
  void FixSubtree(const TrieNode* node, int len, uint32_t id);
  TrieNode* NewNode(const uint32_t* leaves, TrieNode* const* children);
  // A zeroed node header with room for `bytes`, counted in the stats.
  TrieNode* AllocNode(size_t bytes);
  // A copy of `node` with slot s's leaf set to `leaf` (runs split as
  // needed), built from the packed form.
  TrieNode* WithLeaf(const TrieNode* node, unsigned s, uint32_t leaf);
  // A copy of `node` with `child` added at slot s (which has none).
  TrieNode* WithChild(const TrieNode* node, unsigned s, TrieNode* child);
  // A node with no prefix and no child.
  TrieNode* NewEmptyNode();
  void RetireNode(TrieNode* node);
  void SetParent(uint32_t id, uint32_t parent) {
    parent_.Get(id)->store(parent, std::memory_order_release);
  }

  const int addr_bytes_;
  const int root_bits_;
  EpochDomain* const domain_;
  Arena* const arena_;
  // Leaf and child side by side: one cache line per root step.
  struct RootEntry {
    std::atomic<uint32_t> leaf{0};
    std::atomic<TrieNode*> child{nullptr};
  };
  RootEntry* const root_;  // huge-page backed (AllocateHugeArray)
  ChunkedArray<std::atomic<uint32_t>, 16, 10> parent_;
  ChunkedArray<uint8_t, 16, 10> length_;
  // Addresses: addr_bytes_ per id, network order, in chunks of 2^16 ids.
  std::unique_ptr<std::atomic<uint8_t*>[]> addr_dir_;
  std::atomic<size_t> addr_chunks_{0};
  std::atomic<uint32_t> count_{0};
  std::atomic<uint32_t> inserts_done_{0};  // written under insert_mu_
  std::atomic<size_t> node_bytes_{0};
  std::atomic<size_t> node_count_{0};
  std::mutex insert_mu_;
};

FLOWACCT_HOT bool PrefixIndex::Walk::Step() {
  switch (phase_) {
    case kRoot: {
      best_ = root_->leaf.load(std::memory_order_acquire);
      best_depth_ = 0;
      byte_ = index_->root_bits_ / 8;
      node_ = root_->child.load(std::memory_order_acquire);
      if (node_ == nullptr || byte_ * 8 >= max_len_) return true;
      __builtin_prefetch(node_);
      phase_ = kHeader;
      return false;
    }
    case kHeader: {
      // The header line is here: locate the slot's leaf and child.
      unsigned s = key_[byte_];
      leaf_ = node_->LeafSlot(s);
      child_ = node_->ChildSlotAt(s);
      __builtin_prefetch(leaf_);
      if (child_ != nullptr) __builtin_prefetch(child_);
      phase_ = kSlot;
      return false;
    }
    case kSlot: {
      uint32_t leaf = *leaf_;
      if (leaf != 0) {
        best_ = leaf;
        best_depth_ = byte_ * 8;
      }
      ++byte_;
      if (child_ == nullptr || byte_ * 8 >= max_len_) return true;
      node_ = child_->load(std::memory_order_acquire);
      if (node_ == nullptr) return true;
      __builtin_prefetch(node_);
      phase_ = kHeader;
      return false;
    }
  }
  return true;
}

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_PREFIX_INDEX_H_
