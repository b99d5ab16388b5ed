// File: libflowacct/bgp/rib/prefix_index.h
//
// PrefixIndex: the shared prefix index of one table (address family + SAFI
// + route distinguisher). Every prefix any peer announced gets a dense
// 32-bit id (1, 2, ...); per-peer route arrays are indexed by it.
//
// Lookup structure: a multibit trie. The root is a flat array indexed by the
// first 16 or 24 address bits; below it every node has an 8-bit stride and
// is stored popcount-compressed (as in Poptrie, Asai & Ohara, SIGCOMM 2015):
//   - child_bits: 256-bit vector, bit s set when slot s has a child node;
//     children are packed in slot order.
//   - run_bits: 256-bit vector, bit s set when a new leaf run starts at slot
//     s; leaves (prefix ids) are packed per run.
// A node at depth d holds, in each slot, the longest index prefix whose
// length is in (d, d+8] covering that slot, or 0. The root holds lengths
// [0, root_bits]. A lookup keeps the last non-zero leaf on its way down, so
// it touches one root entry and one node per 8 further bits. A node's
// header is the two bitmaps (one 64-byte-aligned cache line) and where
// each bitmap word's leaves and children begin (the next line, with the
// first leaves), so a node costs a lookup one popcount per bitmap and two
// steps of memory: the header lines, then the slot's leaf and child
// pointer.
//
// Roots, two layouts:
//   - IPv4 and IPv6 (4- and 16-byte keys): 24 bits, one 32-bit word per
//     /24 (the DIR-24 scheme of Gupta, Lin & McKeown, INFOCOM 1998)
//     holding the /17../24 leaf, or, when the slot has a child (a prefix
//     longer than /24 below it), kRootExt | i, and ext_[i] holds that leaf
//     and the child; where it is 0, the /0../16 leaf of upper_ (one word
//     per /16, 256 KiB) applies. flat_ is 64 MiB of address space, backed
//     2 MiB at a time (small pages, one call each) as /17../24 prefixes
//     arrive: a full IPv4 table backs all of it, once for all peers, IPv6
//     a few MiB (2000::/3); short prefixes (a default route) none.
//     Inserting a /0../16 visits the flat words below it through a
//     bitmap of the 32-word groups that hold something. An IPv4 lookup
//     up to /24 reads two words, an IPv6 /48 the word, its ext entry and
//     three nodes; no node is copied to insert a prefix of /24 or
//     shorter: words are stored in place.
//   - VPN (RD + address): 16 bits, a RootEntry {leaf, child} per slot.
//
// Memory: nodes come from the Rib's Arena (huge pages, 64-byte aligned).
//
// Batched lookups: LongestMatchBatch walks up to 64 keys in lockstep, one
// trie level at a time, prefetching for all of them before reading; Walk
// is the same cut into one step per memory access for interleaved exact
// finds (FindExactBatch). An UPDATE's prefixes that those finds miss are
// inserted together (InsertMissing), under one lock, each under the
// parent its find walked to unless an insertion since may have changed it.
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
// section; FindOrInsert / InsertMissing from any writer thread inside a
// read section (they serialise insertions on an internal mutex).

#ifndef FLOWACCT_LIBFLOWACCT_BGP_RIB_PREFIX_INDEX_H_
#define FLOWACCT_LIBFLOWACCT_BGP_RIB_PREFIX_INDEX_H_

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
// All ones when c, else zero: selects written as masks, which the compiler
// keeps branch free (it turns `c ? a : b` into a branch, and on a
// lookup's random slot that branch mispredicts half the time).
FLOWACCT_HOT uint64_t MaskIf(bool c) { return -static_cast<uint64_t>(c); }
template <typename T>
FLOWACCT_HOT T Select(bool c, T a, T b) {
  const uint64_t m = MaskIf(c);
  return static_cast<T>((static_cast<uint64_t>(a) & m) |
                        (static_cast<uint64_t>(b) & ~m));
}

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
// vectors, word by word (one cache line: nodes are 64-byte aligned, from
// the Arena), then where the leaves and children of each word's slots
// begin, so that locating a slot's leaf or child takes one popcount (of
// the slot's word) and not the seven of the earlier words. Followed in
// memory by uint32_t leaves[n_runs] (padded to 8 bytes) and
// std::atomic<TrieNode*> children[n_children]. The offsets sit in the
// line the first leaves share: a lookup step fetches both header lines
// at once, then the slot's leaf (often in that second line) and child.
struct TrieNode {
  struct Words {
    uint64_t child_bits;
    uint64_t run_bits;
  } w[4];
  // Byte offsets from the node: leaf_at[k] + 4 * (runs starting in word
  // k at or before slot s) is slot s's leaf (slot 0 always starts a run);
  // child_at[k] + 8 * (children in word k before s) is its child.
  // Written by Seal() once the bit vectors are final, before the node is
  // published.
  uint16_t leaf_at[4];
  uint16_t child_at[4];

  // Fetches both header lines (a null node: a no-op prefetch; the second
  // address is formed as an integer, so null + 64 is no pointer
  // arithmetic).
  FLOWACCT_HOT static void Prefetch(const TrieNode* node) {
    __builtin_prefetch(node);
    __builtin_prefetch(
        reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(node) + 64));
  }

  void Seal() {
    const int runs = n_runs();
    int r = 0, c = 0;
    for (int k = 0; k < 4; ++k) {
      leaf_at[k] = static_cast<uint16_t>(sizeof(TrieNode) + 4 * (r - 1));
      child_at[k] =
          static_cast<uint16_t>(sizeof(TrieNode) + LeavesBytes(runs) + 8 * c);
      r += Popcount(w[k].run_bits);
      c += Popcount(w[k].child_bits);
    }
  }

  // Branch free: the word index is unpredictable.
  FLOWACCT_HOT int RunsBefore(unsigned i) const {
    return Popcount(w[0].run_bits & MaskIf(i > 0)) +
           Popcount(w[1].run_bits & MaskIf(i > 1)) +
           Popcount(w[2].run_bits & MaskIf(i > 2)) +
           Popcount(w[3].run_bits & MaskIf(i > 3));
  }
  FLOWACCT_HOT int ChildrenBefore(unsigned i) const {
    return Popcount(w[0].child_bits & MaskIf(i > 0)) +
           Popcount(w[1].child_bits & MaskIf(i > 1)) +
           Popcount(w[2].child_bits & MaskIf(i > 2)) +
           Popcount(w[3].child_bits & MaskIf(i > 3));
  }
  // Runs starting at slots before s.
  int RunsBeforeSlot(unsigned s) const {
    const unsigned k = s >> 6;
    const uint64_t before = (uint64_t{1} << (s & 63)) - 1;
    return (leaf_at[k] - static_cast<int>(sizeof(TrieNode))) / 4 + 1 +
           Popcount(w[k].run_bits & before);
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

  // The first slot >= from where a run starts (256: none).
  unsigned NextRunStart(unsigned from) const {
    return NextBit(from, &Words::run_bits);
  }
  // The first slot >= from with a child (256: none).
  unsigned NextChild(unsigned from) const {
    return NextBit(from, &Words::child_bits);
  }
  unsigned NextBit(unsigned from, uint64_t Words::*bits) const {
    for (unsigned i = from >> 6; i < 4; ++i) {
      uint64_t b = w[i].*bits;
      if (i == from >> 6) b &= ~uint64_t{0} << (from & 63);
      if (b != 0) return i * 64 + std::countr_zero(b);
    }
    return 256;
  }
  // Where the leaf of slot s is (the leaf of the run s falls in): the
  // runs of s's word starting at or before s, counted in one mask
  // (2 << 63 wraps to 0, so slot 63's mask is all ones).
  FLOWACCT_HOT const uint32_t* LeafSlot(unsigned s) const {
    const unsigned k = s >> 6;
    const uint64_t upto = (uint64_t{2} << (s & 63)) - 1;
    return reinterpret_cast<const uint32_t*>(
        reinterpret_cast<const char*>(this) + leaf_at[k] +
        4 * Popcount(w[k].run_bits & upto));
  }
  FLOWACCT_HOT uint32_t LeafAt(unsigned s) const { return *LeafSlot(s); }
  // Where slot s's child is, if it has one.
  FLOWACCT_HOT const std::atomic<TrieNode*>* ChildSlotOf(unsigned s) const {
    const unsigned k = s >> 6;
    const uint64_t before = (uint64_t{1} << (s & 63)) - 1;
    return reinterpret_cast<const std::atomic<TrieNode*>*>(
        reinterpret_cast<const char*>(this) + child_at[k] +
        8 * Popcount(w[k].child_bits & before));
  }
  FLOWACCT_HOT bool HasChild(unsigned s) const {
    return ((w[s >> 6].child_bits >> (s & 63)) & 1) != 0;
  }
  // The child slot of s, nullptr when s has no child.
  FLOWACCT_HOT const std::atomic<TrieNode*>* ChildSlotAt(unsigned s) const {
    return HasChild(s) ? ChildSlotOf(s) : nullptr;
  }
  // ChildSlotAt without a branch: `none` when s has no child.
  FLOWACCT_HOT const std::atomic<TrieNode*>* ChildSlotOr(
      unsigned s, const std::atomic<TrieNode*>* none) const {
    return reinterpret_cast<const std::atomic<TrieNode*>*>(
        Select(HasChild(s), reinterpret_cast<uintptr_t>(ChildSlotOf(s)),
               reinterpret_cast<uintptr_t>(none)));
  }
  FLOWACCT_HOT TrieNode* ChildAt(unsigned s) const {
    const std::atomic<TrieNode*>* slot = ChildSlotAt(s);
    return slot == nullptr ? nullptr : slot->load(std::memory_order_acquire);
  }
  std::atomic<TrieNode*>* ChildSlot(unsigned s) {
    return const_cast<std::atomic<TrieNode*>*>(ChildSlotAt(s));
  }
};
static_assert(sizeof(TrieNode) == 80);

class PrefixIndex {
 private:
  struct RootEntry;

 public:
  // addr_bytes: 4, 16, or 12 / 24 for VPN tables, where the 8-byte route
  // distinguisher leads the address. The root takes 24 bits of IPv4 and
  // IPv6 keys, 16 of VPN ones. Trie nodes come from `arena`, which must
  // outlive the index.
  PrefixIndex(int addr_bytes, EpochDomain* domain, Arena* arena);
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
    // PrefixIndex::AtMost).
    void Start(const PrefixIndex* index, const uint8_t* key,
               int max_len = 255) {
      index_ = index;
      key_ = key;
      max_len_ = max_len;
      root_index_ = index->RootIndex(key);
      phase_ = kRoot;
      __builtin_prefetch(index->RootAddress(root_index_));
    }
    // True when the walk is over (id() and length() are its answer).
    FLOWACCT_HOT bool Step();
    uint32_t id() const { return LeafId(best_); }
    int length() const { return LeafLength(best_, best_depth_); }
    const PrefixIndex* index() const { return index_; }

   private:
    // No initializers: Start() sets what Step() reads first, and each
    // step what the next reads. (FindExactBatch keeps an array of walks
    // on the stack per call; initialising all of them cost more than the
    // walks it used.)
    enum Phase : uint8_t { kRoot, kHeader, kSlot };
    const PrefixIndex* index_;
    const uint8_t* key_;
    uint32_t root_index_;
    const TrieNode* node_;
    const uint32_t* leaf_;
    const std::atomic<TrieNode*>* child_;
    uint32_t best_;
    int best_depth_;
    int byte_;
    int max_len_;
    Phase phase_;
  };

  // Longest index match for many keys at once (any mix of indexes), in
  // lockstep: every walk takes its next step, each step first prefetching
  // for all walks, then reading what it prefetched, so one step's cache
  // misses overlap across the batch. No data-dependent branches in a step
  // (a walk that ends drops out of the active list without one): with the
  // lines in cache this is what a lookup costs in instructions. Same
  // answers as Lookup(). RibCore::LookupMany's index half.
  struct LongestQuery {
    // No initializers (a caller keeps an array of them per batch): the
    // caller sets index and key; LongestMatchBatch id and length.
    const PrefixIndex* index;  // not null
    const uint8_t* key;        // index->addr_bytes() bytes
    uint32_t id;               // out: 0 when no prefix covers key
    int length;                // out: the prefix's length
  };
  static constexpr size_t kMaxLongestBatch = 64;
  static void LongestMatchBatch(LongestQuery* queries, size_t n);

  // FindExact for up to kMaxBatch prefixes at once (any mix of indexes; a
  // null index answers 0), their walks interleaved so that their cache
  // misses overlap: the index half of announcing an UPDATE's NLRI.
  // No initializers (a caller keeps an array of them per UPDATE): the
  // caller sets index, addr and len; FindExactBatch the rest.
  struct ExactQuery {
    PrefixIndex* index;  // nullptr: answers 0
    const uint8_t* addr;
    int len;
    uint32_t id;  // out
    // Out, for InsertMissing: when id is 0, the longest index prefix
    // covering addr/len (0: none), as of `seen` insertions.
    uint32_t parent;
    uint32_t seen;
  };
  static constexpr size_t kMaxBatch = 32;
  static void FindExactBatch(ExactQuery* queries, size_t n);
  // FindOrInsert for the queries of this index that FindExactBatch did
  // not find (id 0), under one acquisition of the insertion lock; their
  // ids in id (0: the index is full). A query's walk is reused unless an
  // insertion since could have changed its answer (another writer's, or
  // one of these covering it); then it walks again.
  void InsertMissing(ExactQuery* queries, size_t n);

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
  static constexpr int kFlatPageShift = 19;  // flat_ pieces: 2 MiB of words
  // A trie leaf: prefix id in the low 26 bits, (length - node depth) in
  // the next 5 (root: 0..24, nodes: 1..8); the top bit is clear (a flat
  // root word with it set refers to ext_).
  static constexpr uint32_t kIdMask = (uint32_t{1} << 26) - 1;
  static constexpr uint32_t kRootExt = uint32_t{1} << 31;
  FLOWACCT_HOT static uint32_t LeafId(uint32_t leaf) { return leaf & kIdMask; }
  static uint32_t MakeLeaf(uint32_t id, int len, int depth) {
    return id | (static_cast<uint32_t>(len - depth) << 26);
  }
  FLOWACCT_HOT static int LeafLength(uint32_t leaf, int depth) {
    return depth + static_cast<int>(leaf >> 26);
  }

  size_t root_bytes() const;
  void FreeTree(TrieNode* node);
  FLOWACCT_HOT uint32_t RootIndex(const uint8_t* addr) const {
    const uint32_t top16 = (uint32_t{addr[0]} << 8) | addr[1];
    return flat_ != nullptr ? (top16 << 8) | addr[2] : top16;
  }
  FLOWACCT_HOT const void* RootAddress(uint32_t ri) const {
    return flat_ != nullptr ? static_cast<const void*>(&flat_[ri])
                            : static_cast<const void*>(&root_[ri]);
  }
  // Root slot ri: its leaf, and its child in *child (nullptr: none).
  FLOWACCT_HOT uint32_t ReadRoot(uint32_t ri, const TrieNode** child) const {
    if (flat_ == nullptr) {
      *child = root_[ri].child.load(std::memory_order_acquire);
      return root_[ri].leaf.load(std::memory_order_acquire);
    }
    uint32_t leaf = ReadFlat(ri, child);
    const uint32_t upper = upper_[ri >> 8].load(std::memory_order_acquire);
    return leaf != 0 ? leaf : upper;
  }
  // ReadRoot for writers (and single lookups): a flat_ piece never
  // written is not read (reading maps the zero page, and the piece's first
  // write then faults again). Batched lookups read without the check.
  FLOWACCT_HOT uint32_t ReadRootUnfaulted(uint32_t ri,
                                          const TrieNode** child) const {
    if (flat_ != nullptr && ((flat_pages_.load(std::memory_order_acquire) >>
                              (ri >> kFlatPageShift)) &
                             1) == 0) {
      *child = nullptr;
      return upper_[ri >> 8].load(std::memory_order_acquire);
    }
    return ReadRoot(ri, child);
  }
  // The /17../24 leaf of flat_ slot ri (0: none) and its child.
  FLOWACCT_HOT uint32_t ReadFlat(uint32_t ri, const TrieNode** child) const {
    return FlatLeaf(flat_[ri].load(std::memory_order_acquire), child);
  }
  // ReadFlat for a flat_ word already read.
  FLOWACCT_HOT uint32_t FlatLeaf(uint32_t e, const TrieNode** child) const {
    if ((e & kRootExt) == 0) {
      *child = nullptr;
      return e;
    }
    const RootEntry* x = ext_.Get(e & ~kRootExt);
    *child = x->child.load(std::memory_order_acquire);
    return x->leaf.load(std::memory_order_acquire);
  }
  // Writer side of the root. InsertRoot: id = addr/len, len <= root_bits.
  void InsertRoot(const uint8_t* addr, int len, uint32_t id);
  // MarkFlatPage(ri) and MarkFlatGroups(ri, ...) first.
  void SetFlatLeaf(uint32_t ri, uint32_t leaf) {
    const uint32_t e = flat_[ri].load(std::memory_order_relaxed);
    if (e & kRootExt) {
      ext_.Get(e & ~kRootExt)->leaf.store(leaf, std::memory_order_release);
      return;
    }
    flat_[ri].store(leaf, std::memory_order_release);
  }
  void MarkFlatPage(uint32_t ri);
  // *a += d (wrapping) for a counter only insert_mu_'s holder writes: a
  // load and a store, not a locked read-modify-write (a full fence on
  // x86; an insertion made up to five of them).
  template <typename T>
  static void BumpUnderLock(
      std::atomic<T>* a, T d,
      std::memory_order order = std::memory_order_relaxed) {
    a->store(static_cast<T>(a->load(std::memory_order_relaxed) + d), order);
  }
  // flat_groups_ for words [ri, ri + n).
  void MarkFlatGroups(uint32_t ri, uint32_t n) {
    for (uint32_t g = ri >> 5; g <= (ri + n - 1) >> 5; ++g) {
      flat_groups_[g >> 3] |= static_cast<uint8_t>(1u << (g & 7));
    }
  }
  std::atomic<TrieNode*>* RootChildSlotForInsert(uint32_t ri);
  // The LPM of addr restricted to prefixes stored at depths < len, then
  // followed down parent links to a length <= len (*found_len). Up to the
  // root's length the root word answers, inline; longer: Descend.
  FLOWACCT_HOT uint32_t WalkAtMost(const uint8_t* addr, int len,
                                   int* found_len) const {
    uint32_t best;
    if (len <= root_bits_) {
      const TrieNode* child;
      const uint32_t leaf = ReadRootUnfaulted(RootIndex(addr), &child);
      best = LeafId(leaf);
      *found_len = LeafLength(leaf, 0);
    } else {
      best = Descend(addr, len, found_len);
    }
    return AtMost(best, len, found_len);
  }
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
  // A copy of `node` where the slots [s, s + span) under no prefix or a
  // shorter one than `len` hold id's leaf (and what hangs below them gets
  // id as cover), built from the packed form; nullptr when no slot
  // changes (longer prefixes fill the span).
  TrieNode* WithSpan(const TrieNode* node, unsigned s, unsigned span, int len,
                     uint32_t id, int depth);
  // A zeroed node header with room for `bytes`, counted in the stats.
  TrieNode* AllocNode(size_t bytes);
  // A copy of `node` with slot s's leaf set to `leaf` (runs split as
  // needed), built from the packed form.
  TrieNode* WithLeaf(const TrieNode* node, unsigned s, uint32_t leaf);
  // A copy of `node` with `child` added at slot s (which has none).
  TrieNode* WithChild(const TrieNode* node, unsigned s, TrieNode* child);
  // The nodes from depth 8*from_byte down to the one holding addr/len
  // (depth 8*target_byte), holding only that prefix: built bottom-up,
  // unpublished; the caller publishes the top one.
  TrieNode* NewChain(const uint8_t* addr, int len, uint32_t id, int from_byte,
                     int target_byte);
  void RetireNode(TrieNode* node);
  void SetParent(uint32_t id, uint32_t parent) {
    parent_.Get(id)->store(parent, std::memory_order_release);
  }

  const int addr_bytes_;
  const int root_bits_;  // 24 (flat root) or 16
  EpochDomain* const domain_;
  Arena* const arena_;
  // Leaf and child side by side: one cache line per root step.
  struct RootEntry {
    std::atomic<uint32_t> leaf{0};
    std::atomic<TrieNode*> child{nullptr};
  };
  // One of the two root layouts (see the file comment).
  RootEntry* root_ = nullptr;               // 2^16, AllocateHugeArray
  std::atomic<uint32_t>* flat_ = nullptr;   // 2^24, ReserveZeroedArray
  std::atomic<uint32_t>* upper_ = nullptr;  // 2^16, AllocateHugeArray
  ChunkedArray<RootEntry, 12, 12> ext_;
  uint32_t ext_count_ = 0;               // under insert_mu_
  std::atomic<uint64_t> flat_pages_{0};  // 2 MiB pieces of flat_ written
  // Writer only (insert_mu_): bit g set when flat_ words [32g, 32g + 32)
  // may be non-zero, so that inserting a /0../16 visits only the groups
  // of words below it that hold something (a /8 spans 65 536 words).
  std::unique_ptr<uint8_t[]> flat_groups_;  // 2^19 bits
  ChunkedArray<std::atomic<uint32_t>, 16, 10> parent_;
  ChunkedArray<uint8_t, 16, 10> length_;
  // Addresses: addr_bytes_ per id, network order, in chunks of 2^16 ids.
  std::unique_ptr<std::atomic<uint8_t*>[]> addr_dir_;
  std::atomic<size_t> addr_chunks_{0};
  std::atomic<uint32_t> count_{0};
  // Written under insert_mu_ only, read anywhere (BumpUnderLock).
  std::atomic<uint32_t> inserts_done_{0};
  std::atomic<size_t> node_bytes_{0};
  std::atomic<size_t> node_count_{0};
  std::mutex insert_mu_;
};

FLOWACCT_HOT bool PrefixIndex::Walk::Step() {
  switch (phase_) {
    case kRoot: {
      best_ = index_->ReadRootUnfaulted(root_index_, &node_);
      best_depth_ = 0;
      byte_ = index_->root_bits_ / 8;
      if (node_ == nullptr || byte_ * 8 >= max_len_) return true;
      TrieNode::Prefetch(node_);
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
      TrieNode::Prefetch(node_);
      phase_ = kHeader;
      return false;
    }
  }
  return true;
}

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_PREFIX_INDEX_H_
