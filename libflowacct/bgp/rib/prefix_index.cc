#include "libflowacct/bgp/rib/prefix_index.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

namespace flowacct::bgp::rib_internal {

namespace {
constexpr size_t kFlatEntries = size_t{1} << 24;
constexpr size_t kFlatBytes = kFlatEntries * sizeof(std::atomic<uint32_t>);
constexpr size_t kRootEntries = size_t{1} << 16;
}  // namespace

PrefixIndex::PrefixIndex(int addr_bytes, EpochDomain* domain, Arena* arena)
    : addr_bytes_(addr_bytes),
      root_bits_(addr_bytes == 4 || addr_bytes == 16 ? 24 : 16),
      domain_(domain),
      arena_(arena),
      ext_(arena),
      addr_dir_(new std::atomic<uint8_t*>[1024]) {
  for (int i = 0; i < 1024; ++i) addr_dir_[i].store(nullptr);
  if (root_bits_ == 24) {
    // Zero pages are zero words: no construction pass (it would touch
    // every page).
    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
    flat_ = static_cast<std::atomic<uint32_t>*>(ReserveZeroedArray(kFlatBytes));
    flat_groups_.reset(new uint8_t[kFlatEntries / 32 / 8]());
    upper_ = static_cast<std::atomic<uint32_t>*>(
        AllocateHugeArray(kRootEntries * sizeof(uint32_t)));
    return;
  }
  root_ = static_cast<RootEntry*>(
      AllocateHugeArray(kRootEntries * sizeof(RootEntry)));
  for (size_t i = 0; i < kRootEntries; ++i) new (&root_[i]) RootEntry{};
}

size_t PrefixIndex::root_bytes() const {
  if (flat_ == nullptr) return kRootEntries * sizeof(RootEntry);
  return static_cast<size_t>(
             std::popcount(flat_pages_.load(std::memory_order_relaxed))) *
             (size_t{4} << kFlatPageShift) +
         ext_.bytes() + kRootEntries * sizeof(uint32_t) + kFlatEntries / 32 / 8;
}

void PrefixIndex::InsertRoot(const uint8_t* addr, int len, uint32_t id) {
  const uint32_t leaf = MakeLeaf(id, len, 0);
  const uint32_t ri = RootIndex(addr);
  // Slots whose own prefix is shorter than `len` (or none) take `leaf`,
  // and what lies below them (longer prefixes, child nodes) gets `id` as
  // its new cover; a slot under a longer prefix keeps it, and that
  // prefix's chain gets `id` instead.
  uint32_t last = 0;
  const auto cover = [&](uint32_t cur, const TrieNode* child) {
    if (cur != 0) {
      if (cur != last) FixChain(cur, len, id);
      last = cur;
    } else if (child != nullptr) {
      FixSubtree(child, len, id);
    }
  };
  if (flat_ == nullptr) {
    const uint32_t span = uint32_t{1} << (root_bits_ - len);
    for (uint32_t s = ri; s < ri + span; ++s) {
      const TrieNode* child = root_[s].child.load(std::memory_order_relaxed);
      uint32_t cur = LeafId(root_[s].leaf.load(std::memory_order_relaxed));
      if (cur == 0 || Length(cur) < len) {
        root_[s].leaf.store(leaf, std::memory_order_release);
        cover(0, child);
      } else {
        cover(cur, nullptr);
      }
    }
    return;
  }
  if (len > 16) {
    MarkFlatPage(ri);  // the span lies inside one 2 MiB piece
    const uint32_t span = uint32_t{1} << (24 - len);
    MarkFlatGroups(ri, span);  // every word of the span ends non-zero
    // Run by run of equal words (mostly one: the span lies under one
    // shorter prefix, or none): one decision and one record read per
    // run. A word referring to an ext entry is a run of its own.
    for (uint32_t s = ri, end = ri + span; s < end;) {
      const uint32_t e = flat_[s].load(std::memory_order_relaxed);
      uint32_t t = s + 1;
      if (e & kRootExt) {
        const TrieNode* child;
        const uint32_t cur = LeafId(FlatLeaf(e, &child));
        if (cur == 0 || Length(cur) < len) {
          SetFlatLeaf(s, leaf);
          cover(0, child);
        } else {
          cover(cur, nullptr);
        }
      } else {
        const uint32_t cur = LeafId(e);
        const bool take = cur == 0 || Length(cur) < len;
        if (take) {
          flat_[s].store(leaf, std::memory_order_release);
        } else {
          cover(cur, nullptr);
        }
        for (; t < end && flat_[t].load(std::memory_order_relaxed) == e; ++t) {
          if (take) flat_[t].store(leaf, std::memory_order_release);
        }
      }
      s = t;
    }
    return;
  }
  // /0../16: upper_, then the flat slots below each slot it took (their
  // /17../24 prefixes and children), skipping 2 MiB pieces never written.
  const uint32_t span = uint32_t{1} << (16 - len);
  for (uint32_t u = ri >> 8; u < (ri >> 8) + span; ++u) {
    uint32_t cur = LeafId(upper_[u].load(std::memory_order_relaxed));
    if (cur != 0 && Length(cur) >= len) {
      cover(cur, nullptr);
      continue;
    }
    upper_[u].store(leaf, std::memory_order_release);
    // The groups of 32 words below this /16 that hold something (one
    // byte of flat_groups_); in those, words eight at a time, most being
    // zero. Plain reads: only the (serialised) writer stores to flat_.
    for (unsigned groups = flat_groups_[u]; groups != 0; groups &= groups - 1) {
      const uint32_t first = (u << 8) | (std::countr_zero(groups) << 5);
      for (uint32_t s = first; s < first + 32; s += 8) {
        uint32_t e[8];
        std::memcpy(e, &flat_[s], sizeof(e));
        uint32_t any = 0;
        for (const uint32_t x : e) any |= x;
        if (any == 0) continue;
        // The words that start a run of equal non-zero words, as a mask
        // built without branches (runs have any length: a branch per word
        // mispredicted about one time in three); a word equal to the one
        // before it holds the same prefix (ext words are all different).
        unsigned starts = 0;
        uint32_t before = 0;
        for (unsigned k = 0; k < 8; ++k) {
          starts |= static_cast<unsigned>(e[k] != 0 && e[k] != before) << k;
          before = e[k];
        }
        for (; starts != 0; starts &= starts - 1) {
          const TrieNode* child;
          const uint32_t flat_cur =
              LeafId(FlatLeaf(e[std::countr_zero(starts)], &child));
          cover(flat_cur, child);
        }
      }
    }
  }
}

void PrefixIndex::MarkFlatPage(uint32_t ri) {
  const uint64_t bit = uint64_t{1} << (ri >> kFlatPageShift);
  if ((flat_pages_.load(std::memory_order_relaxed) & bit) == 0) {
    // Back the whole piece in one call before its first write: page by
    // page, a full IPv4 table took 16 k page faults here (on this VM a
    // quarter of the first peer's ingest time), and twice that where a
    // walk had read the page first (zero page, then copy on write).
    PopulateArray(&flat_[(ri >> kFlatPageShift) << kFlatPageShift],
                  sizeof(uint32_t) << kFlatPageShift);
    flat_pages_.fetch_or(bit, std::memory_order_relaxed);
  }
}

std::atomic<TrieNode*>* PrefixIndex::RootChildSlotForInsert(uint32_t ri) {
  if (flat_ == nullptr) return &root_[ri].child;
  MarkFlatPage(ri);
  const uint32_t e = flat_[ri].load(std::memory_order_relaxed);
  if (e & kRootExt) return &ext_.Get(e & ~kRootExt)->child;
  // The slot gets its ext entry (leaf moved there), published last.
  const uint32_t i = ext_count_++;
  RootEntry* x = ext_.GetOrCreate(i);
  x->leaf.store(e, std::memory_order_relaxed);
  x->child.store(nullptr, std::memory_order_relaxed);
  MarkFlatGroups(ri, 1);
  flat_[ri].store(kRootExt | i, std::memory_order_release);
  return &x->child;
}

FLOWACCT_POPCNT_CLONES
void PrefixIndex::FreeTree(TrieNode* node) {
  if (node == nullptr) return;
  for (int i = 0; i < node->n_children(); ++i) {
    FreeTree(node->children()[i].load(std::memory_order_relaxed));
  }
  arena_->Free(node, node->bytes());
}

PrefixIndex::~PrefixIndex() {
  if (flat_ != nullptr) {
    for (uint32_t i = 0; i < ext_count_; ++i) {
      FreeTree(ext_.Get(i)->child.load(std::memory_order_relaxed));
    }
    ReleaseReservedArray(flat_, kFlatBytes);
    FreeHugeArray(upper_, kRootEntries * sizeof(uint32_t));
  } else {
    for (size_t i = 0; i < kRootEntries; ++i) {
      FreeTree(root_[i].child.load(std::memory_order_relaxed));
      root_[i].~RootEntry();
    }
    FreeHugeArray(root_, kRootEntries * sizeof(RootEntry));
  }
  for (int i = 0; i < 1024; ++i) delete[] addr_dir_[i].load();
}

void PrefixIndex::CopyAddress(uint32_t id, uint8_t* out) const {
  const uint8_t* chunk = addr_dir_[id >> 16].load(std::memory_order_acquire);
  std::memcpy(out, chunk + size_t{id & 0xffff} * addr_bytes_, addr_bytes_);
}

FLOWACCT_POPCNT_CLONES
uint32_t PrefixIndex::Descend(const uint8_t* addr, int max_len,
                              int* length) const {
  const TrieNode* node;
  uint32_t best = ReadRootUnfaulted(RootIndex(addr), &node);
  int best_depth = 0;
  int byte = root_bits_ / 8;
  // A node at depth 8*byte holds lengths up to 8*byte+8; visit only those
  // that can hold max_len or shorter.
  while (node != nullptr && byte * 8 < max_len) {
    unsigned s = addr[byte++];
    uint32_t leaf = node->LeafAt(s);
    if (leaf != 0) {
      best = leaf;
      best_depth = (byte - 1) * 8;
    }
    node = node->ChildAt(s);
  }
  *length = LeafLength(best, best_depth);
  return LeafId(best);
}

uint32_t PrefixIndex::Lookup(const uint8_t* addr, int* length) const {
  return Descend(addr, max_length(), length);
}

uint32_t PrefixIndex::AtMost(uint32_t best, int len, int* best_len) const {
  // Longer than `len`: follow covering links (reads prefix records).
  while (best != 0 && *best_len > len) {
    best = Parent(best);
    *best_len = best != 0 ? Length(best) : 0;
  }
  return best;
}

uint32_t PrefixIndex::FindExact(const uint8_t* addr, int len) const {
  int found_len;
  uint32_t id = WalkAtMost(addr, len, &found_len);
  return id != 0 && found_len == len ? id : 0;
}

FLOWACCT_POPCNT_CLONES
void PrefixIndex::FindExactBatch(ExactQuery* q, size_t n) {
  Walk walks[kMaxBatch];
  uint8_t active[kMaxBatch];
  uint8_t at_root[kMaxBatch];
  uint32_t roots[kMaxBatch];
  size_t n_active = 0, n_root = 0;
  n = std::min(n, kMaxBatch);
  // From the longest index prefix on query x's path (best, of best_len
  // bits): x's exact id, or 0 and the parent to insert x under.
  const auto settle = [](ExactQuery& x, uint32_t best, int best_len) {
    const uint32_t id = x.index->AtMost(best, x.len, &best_len);
    x.id = id != 0 && best_len == x.len ? id : 0;
    x.parent = id;
  };
  for (size_t i = 0; i < n; ++i) {
    q[i].id = 0;
    q[i].parent = 0;
    const PrefixIndex* index = q[i].index;
    if (index == nullptr) continue;
    q[i].seen = index->inserts_done_.load(std::memory_order_acquire);
    if (q[i].len <= index->root_bits_) {
      // No longer than the root (most of an IPv4 table): the root word
      // answers, without a walk.
      roots[i] = index->RootIndex(q[i].addr);
      __builtin_prefetch(index->RootAddress(roots[i]));
      at_root[n_root++] = static_cast<uint8_t>(i);
      continue;
    }
    walks[i].Start(index, q[i].addr, q[i].len);
    active[n_active++] = static_cast<uint8_t>(i);
  }
  for (size_t k = 0; k < n_root; ++k) {
    const size_t i = at_root[k];
    const PrefixIndex* index = q[i].index;
    const TrieNode* child;
    const uint32_t leaf = index->ReadRootUnfaulted(roots[i], &child);
    settle(q[i], LeafId(leaf), LeafLength(leaf, 0));
  }
  while (n_active > 0) {
    size_t still = 0;
    for (size_t k = 0; k < n_active; ++k) {
      const size_t i = active[k];
      if (walks[i].Step()) {
        settle(q[i], walks[i].id(), walks[i].length());
      } else {
        active[still++] = static_cast<uint8_t>(i);
      }
    }
    n_active = still;
  }
}

FLOWACCT_POPCNT_CLONES
void PrefixIndex::LongestMatchBatch(LongestQuery* q, size_t n) {
  // The walks' state, one array per field (a step touches each once).
  // Every walk still active at step t reads its key byte root_bits/8 + t,
  // so the depth of the best leaf so far need not be kept per walk: best
  // holds the leaf and, above it, 0 for a root leaf or t + 1 for a leaf of
  // step t.
  static const std::atomic<TrieNode*> kNoChild{nullptr};
  const TrieNode* node[kMaxLongestBatch];
  const uint8_t* key[kMaxLongestBatch];  // the byte after the root's
  const uint32_t* leaf[kMaxLongestBatch];
  const std::atomic<TrieNode*>* child[kMaxLongestBatch];
  uint64_t best[kMaxLongestBatch];
  uint32_t roots[kMaxLongestBatch];
  uint8_t active[kMaxLongestBatch];
  n = std::min(n, kMaxLongestBatch);
  for (size_t i = 0; i < n; ++i) {
    const PrefixIndex* index = q[i].index;
    roots[i] = index->RootIndex(q[i].key);
    __builtin_prefetch(index->RootAddress(roots[i]));
  }
  size_t n_active = 0;
  for (size_t i = 0; i < n; ++i) {
    const PrefixIndex* index = q[i].index;
    best[i] = index->ReadRoot(roots[i], &node[i]);
    key[i] = q[i].key + (static_cast<unsigned>(index->root_bits_) >> 3);
    TrieNode::Prefetch(node[i]);
    active[n_active] = static_cast<uint8_t>(i);
    n_active += node[i] != nullptr;
  }
  for (uint64_t t = 0; n_active > 0; ++t) {
    // The header lines are (being) fetched: locate each slot's leaf and
    // child, and fetch those.
    for (size_t k = 0; k < n_active; ++k) {
      const size_t i = active[k];
      const unsigned s = key[i][t];
      leaf[i] = node[i]->LeafSlot(s);
      child[i] = node[i]->ChildSlotOr(s, &kNoChild);
      __builtin_prefetch(leaf[i]);
      __builtin_prefetch(child[i]);
    }
    const uint64_t step = (t + 1) << 32;
    size_t still = 0;
    for (size_t k = 0; k < n_active; ++k) {
      const size_t i = active[k];
      const uint32_t l = *leaf[i];
      best[i] = Select(l != 0, step | l, best[i]);
      node[i] = child[i]->load(std::memory_order_acquire);
      TrieNode::Prefetch(node[i]);
      active[still] = static_cast<uint8_t>(i);
      still += node[i] != nullptr;
    }
    n_active = still;
  }
  for (size_t i = 0; i < n; ++i) {
    const uint32_t l = static_cast<uint32_t>(best[i]);
    const int t = static_cast<int>(best[i] >> 32);  // 0: the root's
    const int depth = Select(t != 0, q[i].index->root_bits_ + 8 * (t - 1), 0);
    q[i].id = LeafId(l);
    q[i].length = LeafLength(l, depth);
  }
}

void PrefixIndex::InsertMissing(ExactQuery* q, size_t n) {
  n = std::min(n, kMaxBatch);
  // Whether an insertion made here may cover a later query (and so change
  // its walk's answer): a prefix of at least `grain` bits covers only
  // addresses with its first `grain` bits, so each marks a bucket of a
  // 64-bit filter by those bits; a shorter one (rare) makes every later
  // query walk again. A false positive costs one walk.
  const int grain = addr_bytes_ == 16 ? 32 : 16;  // VPN keys: the RD's
  uint64_t buckets = 0;
  bool short_done = false;
  const auto bucket = [&](const uint8_t* addr) {
    uint32_t top;
    std::memcpy(&top, addr, 4);
    top = __builtin_bswap32(top) >> (32 - grain);
    return (top * 0x9e3779b9u) >> 26;  // 0..63
  };
  std::lock_guard<std::mutex> lock(insert_mu_);
  const uint32_t start = inserts_done_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    if (q[i].index != this || q[i].id != 0) continue;
    const unsigned b = bucket(q[i].addr);
    uint32_t parent = q[i].parent;
    if (q[i].seen != start || short_done || ((buckets >> b) & 1) != 0) {
      int found_len;
      parent = WalkAtMost(q[i].addr, q[i].len, &found_len);
      if (parent != 0 && found_len == q[i].len) {
        q[i].id = parent;
        continue;
      }
    }
    q[i].id = Insert(q[i].addr, q[i].len, parent);
    BumpUnderLock(&inserts_done_, 1u, std::memory_order_release);
    if (q[i].len < grain) {
      short_done = true;
    } else {
      buckets |= uint64_t{1} << b;
    }
  }
}

uint32_t PrefixIndex::FindOrInsert(const uint8_t* addr, int len) {
  // One walk gives the prefix, or, when absent, its parent for Insert;
  // walk again under the lock only if an insertion finished since the walk
  // began (insertions finish under the lock, after publishing).
  const uint32_t seen = inserts_done_.load(std::memory_order_acquire);
  int found_len;
  uint32_t best = WalkAtMost(addr, len, &found_len);
  if (best != 0 && found_len == len) return best;
  std::lock_guard<std::mutex> lock(insert_mu_);
  if (inserts_done_.load(std::memory_order_relaxed) != seen) {
    best = WalkAtMost(addr, len, &found_len);
    if (best != 0 && found_len == len) return best;
  }
  uint32_t id = Insert(addr, len, best);
  BumpUnderLock(&inserts_done_, 1u, std::memory_order_release);
  return id;
}

TrieNode* PrefixIndex::AllocNode(size_t bytes) {
  TrieNode* node = new (arena_->Allocate(bytes)) TrieNode{};
  BumpUnderLock(&node_bytes_, Arena::Rounded(bytes));
  BumpUnderLock(&node_count_, size_t{1});
  return node;
}

FLOWACCT_POPCNT_CLONES
TrieNode* PrefixIndex::WithSpan(const TrieNode* node, unsigned s, unsigned span,
                                int len, uint32_t id, int depth) {
  const unsigned e = s + span;  // one past the span, <= 256
  const uint32_t leaf = MakeLeaf(id, len, depth);
  const uint32_t* old_leaves = node->leaves();
  // The span run by run (a /33 spans 128 slots, mostly in a few runs):
  // each old run's part keeps its leaf (a prefix at least as long) or
  // takes `leaf`. Segments: where the span's value changes.
  struct Segment {
    unsigned from;
    uint32_t value;
  };
  Segment segs[257];
  int n_segs = 0;
  bool taken = false;
  uint32_t last = 0;
  int r = static_cast<int>(node->LeafSlot(s) - old_leaves);  // s's run
  for (unsigned t = s; t < e; ++r) {
    const unsigned next = std::min(node->NextRunStart(t + 1), e);
    const uint32_t old = old_leaves[r];
    const uint32_t cur = LeafId(old);
    uint32_t value = old;
    if (cur == 0 || Length(cur) < len) {
      value = leaf;
      taken = true;
      // What hangs below these slots gets id as its cover.
      for (unsigned c = node->NextChild(t); c < next;
           c = node->NextChild(c + 1)) {
        FixSubtree(node->ChildAt(c), len, id);
      }
    } else {
      if (cur != last) FixChain(cur, len, id);
      last = cur;
    }
    if (n_segs == 0 || segs[n_segs - 1].value != value) {
      segs[n_segs++] = {t, value};
    }
    t = next;
  }
  // Longer prefixes fill the span: the node stays as it is (their chains
  // now lead to id).
  if (!taken) return nullptr;
  // Run starts: unchanged outside [s, e], inside at the segments (runs
  // stay maximal: a slot starts one when its leaf differs from the
  // previous slot's).
  TrieNode::Words w[4];
  std::copy(std::begin(node->w), std::end(node->w), w);
  const auto set_bit = [&w](unsigned t, bool on) {
    const uint64_t bit = uint64_t{1} << (t & 63);
    w[t >> 6].run_bits =
        on ? (w[t >> 6].run_bits | bit) : (w[t >> 6].run_bits & ~bit);
  };
  for (unsigned t = s; t < e;) {  // clear [s, e), a word at a time
    const unsigned end = std::min(e, (t | 63) + 1);
    const unsigned n = end - t;
    const uint64_t mask = (n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1)
                          << (t & 63);
    w[t >> 6].run_bits &= ~mask;
    t = end;
  }
  set_bit(s, s == 0 || node->LeafAt(s - 1) != segs[0].value);
  for (int k = 1; k < n_segs; ++k) set_bit(segs[k].from, true);
  const uint32_t after = e < 256 ? node->LeafAt(e) : 0;
  if (e < 256) set_bit(e, after != segs[n_segs - 1].value);

  int new_runs = 0;
  for (const TrieNode::Words& x : w) new_runs += Popcount(x.run_bits);
  const int n_children = node->n_children();
  TrieNode* fresh = AllocNode(TrieNode::Bytes(n_children, new_runs));
  std::copy(std::begin(w), std::end(w), fresh->w);
  fresh->Seal();
  // Leaves: the runs starting before s, those starting in [s, e], then
  // the old runs starting after e.
  const int old_runs = node->n_runs();
  uint32_t* out = std::copy(old_leaves, old_leaves + node->RunsBeforeSlot(s),
                            fresh->leaves());
  for (int k = 0; k < n_segs; ++k) {
    const unsigned t = segs[k].from;
    if ((w[t >> 6].run_bits >> (t & 63)) & 1) *out++ = segs[k].value;
  }
  if (e < 256) {
    if ((w[e >> 6].run_bits >> (e & 63)) & 1) *out++ = after;
    const int from =
        e + 1 < 256 ? node->RunsBeforeSlot(e + 1) : old_runs;  // starts <= e
    out = std::copy(old_leaves + from, old_leaves + old_runs, out);
  }
  const std::atomic<TrieNode*>* from_children = node->children();
  auto* to = reinterpret_cast<std::atomic<TrieNode*>*>(
      reinterpret_cast<char*>(fresh + 1) + TrieNode::LeavesBytes(new_runs));
  for (int c = 0; c < n_children; ++c) {
    new (&to[c]) std::atomic<TrieNode*>(
        from_children[c].load(std::memory_order_relaxed));
  }
  return fresh;
}

FLOWACCT_POPCNT_CLONES
TrieNode* PrefixIndex::WithLeaf(const TrieNode* node, unsigned s,
                                uint32_t leaf) {
  // Slot s lies in run [a, b] of value `old`. Afterwards: [a, s-1] keeps
  // `old` (if a < s), [s, s] holds `leaf`, [s+1, b] holds `old` again (if
  // s < b). So s starts a run, and s+1 does when it was inside [a, b].
  const unsigned i = s >> 6;
  const uint64_t bit = uint64_t{1} << (s & 63);
  const bool starts = (node->w[i].run_bits & bit) != 0;
  const bool tail =
      s + 1 < 256 &&
      ((node->w[(s + 1) >> 6].run_bits >> ((s + 1) & 63)) & 1) == 0;
  const uint32_t* old_leaves = node->leaves();
  const int r = static_cast<int>(node->LeafSlot(s) - old_leaves);  // s's run
  const uint32_t old = old_leaves[r];
  const int n_runs = node->n_runs();
  const int n_children = node->n_children();
  const int new_runs = n_runs + (starts ? 0 : 1) + (tail ? 1 : 0);

  const size_t bytes = TrieNode::Bytes(n_children, new_runs);
  TrieNode* fresh = AllocNode(bytes);
  std::copy(std::begin(node->w), std::end(node->w), fresh->w);
  fresh->w[i].run_bits |= bit;
  if (tail) fresh->w[(s + 1) >> 6].run_bits |= uint64_t{1} << ((s + 1) & 63);
  fresh->Seal();
  uint32_t* out = fresh->leaves();
  // Runs before s's run, and s's run itself when it starts before s.
  const int keep = starts ? r : r + 1;
  out = std::copy(old_leaves, old_leaves + keep, out);
  *out++ = leaf;
  if (tail) *out++ = old;
  std::copy(old_leaves + r + 1, old_leaves + n_runs, out);
  const std::atomic<TrieNode*>* from = node->children();
  auto* to = reinterpret_cast<std::atomic<TrieNode*>*>(
      reinterpret_cast<char*>(fresh + 1) + TrieNode::LeavesBytes(new_runs));
  for (int c = 0; c < n_children; ++c) {
    new (&to[c])
        std::atomic<TrieNode*>(from[c].load(std::memory_order_relaxed));
  }
  return fresh;
}

FLOWACCT_POPCNT_CLONES
TrieNode* PrefixIndex::WithChild(const TrieNode* node, unsigned s,
                                 TrieNode* child) {
  const unsigned i = s >> 6;
  const uint64_t bit = uint64_t{1} << (s & 63);
  const int n_runs = node->n_runs();
  const int n_children = node->n_children();
  // Children before s keep their place; s's goes next.
  const int before =
      node->ChildrenBefore(i) + Popcount(node->w[i].child_bits & (bit - 1));
  const size_t bytes = TrieNode::Bytes(n_children + 1, n_runs);
  TrieNode* fresh = AllocNode(bytes);
  std::copy(std::begin(node->w), std::end(node->w), fresh->w);
  fresh->w[i].child_bits |= bit;
  fresh->Seal();
  std::copy(node->leaves(), node->leaves() + n_runs, fresh->leaves());
  const std::atomic<TrieNode*>* from = node->children();
  auto* to = reinterpret_cast<std::atomic<TrieNode*>*>(
      reinterpret_cast<char*>(fresh + 1) + TrieNode::LeavesBytes(n_runs));
  for (int c = 0, k = 0; c <= n_children; ++c) {
    TrieNode* p =
        c == before ? child : from[k++].load(std::memory_order_relaxed);
    new (&to[c]) std::atomic<TrieNode*>(p);
  }
  return fresh;
}

FLOWACCT_POPCNT_CLONES
void PrefixIndex::RetireNode(TrieNode* node) {
  const size_t bytes = node->bytes();
  BumpUnderLock(&node_bytes_, -Arena::Rounded(bytes));
  BumpUnderLock(&node_count_, ~size_t{0});  // minus one
  domain_->Retire(
      [](void* arena, void* p, uint64_t size) {
        static_cast<Arena*>(arena)->Free(p, size);
      },
      arena_, node, bytes);
}

void PrefixIndex::FixChain(uint32_t leaf, int len, uint32_t id) {
  uint32_t c = leaf;
  if (c == 0 || c == id) return;
  for (;;) {
    uint32_t p = Parent(c);
    if (p == id) return;
    if (p == 0 || Length(p) <= len) {
      SetParent(c, id);
      return;
    }
    c = p;
  }
}

FLOWACCT_POPCNT_CLONES
void PrefixIndex::FixSubtree(const TrieNode* node, int len, uint32_t id) {
  // Each prefix stored here: its chain covers its slots and what hangs
  // below them. Then the children below slots that hold none.
  const uint32_t* leaves = node->leaves();
  const int n_runs = node->n_runs();
  uint32_t last = 0;
  for (int r = 0; r < n_runs; ++r) {
    const uint32_t leaf = LeafId(leaves[r]);
    if (leaf != 0 && leaf != last) FixChain(leaf, len, id);
    last = leaf;
  }
  for (unsigned i = 0; i < 4; ++i) {
    for (uint64_t bits = node->w[i].child_bits; bits != 0; bits &= bits - 1) {
      const unsigned s = i * 64 + std::countr_zero(bits);
      if (LeafId(node->LeafAt(s)) == 0) FixSubtree(node->ChildAt(s), len, id);
    }
  }
}

FLOWACCT_POPCNT_CLONES
uint32_t PrefixIndex::Insert(const uint8_t* addr, int len, uint32_t parent) {
  uint32_t n = count_.load(std::memory_order_relaxed);
  if (n >= kMaxIds) return 0;
  uint32_t id = n + 1;
  *length_.GetOrCreate(id) = static_cast<uint8_t>(len);
  std::atomic<uint8_t*>& dir = addr_dir_[id >> 16];
  uint8_t* chunk = dir.load(std::memory_order_relaxed);
  if (chunk == nullptr) {
    chunk = new uint8_t[static_cast<size_t>(addr_bytes_) << 16]();
    dir.store(chunk, std::memory_order_release);
    addr_chunks_.fetch_add(1, std::memory_order_relaxed);
  }
  uint8_t* const to = chunk + size_t{id & 0xffff} * addr_bytes_;
  if (addr_bytes_ == 4) {  // fixed sizes: a move, not a call
    std::memcpy(to, addr, 4);
  } else if (addr_bytes_ == 16) {
    std::memcpy(to, addr, 16);
  } else {
    std::memcpy(to, addr, addr_bytes_);
  }
  parent_.GetOrCreate(id)->store(parent, std::memory_order_relaxed);
  count_.store(id, std::memory_order_release);

  if (len <= root_bits_) {
    InsertRoot(addr, len, id);
    return id;
  }

  // Walk to the node at the depth holding `len`. Where the path ends
  // before it, the rest is built bottom-up (NewChain) and published with
  // one store: none of its nodes is copied on the way down.
  const int target_byte = (len - 1) / 8;  // node at depth 8*target_byte
  std::atomic<TrieNode*>* slot = RootChildSlotForInsert(RootIndex(addr));
  for (int byte = root_bits_ / 8;; ++byte) {
    TrieNode* node = slot->load(std::memory_order_relaxed);
    if (node == nullptr) {
      slot->store(NewChain(addr, len, id, byte, target_byte),
                  std::memory_order_release);
      return id;
    }
    unsigned s = addr[byte];
    if (byte == target_byte) {
      int depth = byte * 8;
      unsigned span = 1u << (depth + 8 - len);
      if (span == 1 && (LeafId(node->LeafAt(s)) == 0 ||
                        Length(LeafId(node->LeafAt(s))) < len)) {
        // One slot (/24, /32, /48...), the common case: splice the leaf
        // into the packed node instead of expanding and rebuilding it.
        if (const TrieNode* child = node->ChildAt(s)) {
          FixSubtree(child, len, id);
        }
        TrieNode* fresh = WithLeaf(node, s, MakeLeaf(id, len, depth));
        slot->store(fresh, std::memory_order_release);
        RetireNode(node);
        return id;
      }
      TrieNode* fresh = WithSpan(node, s, span, len, id, depth);
      if (fresh == nullptr) return id;
      slot->store(fresh, std::memory_order_release);
      RetireNode(node);
      return id;
    }
    std::atomic<TrieNode*>* next = node->ChildSlot(s);
    if (next == nullptr) {
      TrieNode* fresh =
          WithChild(node, s, NewChain(addr, len, id, byte + 1, target_byte));
      slot->store(fresh, std::memory_order_release);
      RetireNode(node);
      return id;
    }
    slot = next;
  }
}

FLOWACCT_POPCNT_CLONES
TrieNode* PrefixIndex::NewChain(const uint8_t* addr, int len, uint32_t id,
                                int from_byte, int target_byte) {
  // The node holding the prefix: its slots [s, s + span) hold the leaf,
  // the others none (s is span-aligned: the host bits of addr are zero).
  const int depth = target_byte * 8;
  const unsigned s = addr[target_byte];
  const unsigned span = 1u << (depth + 8 - len);
  const bool before = s > 0, after = s + span < 256;
  const auto start_run = [](TrieNode* n, unsigned t) {
    n->w[t >> 6].run_bits |= uint64_t{1} << (t & 63);
  };
  TrieNode* node = AllocNode(TrieNode::Bytes(0, before + 1 + after));
  uint32_t* out = node->leaves();
  if (before) {
    start_run(node, 0);
    *out++ = 0;
  }
  start_run(node, s);
  *out++ = MakeLeaf(id, len, depth);
  if (after) {
    start_run(node, s + span);
    *out = 0;
  }
  node->Seal();
  // Above it, nodes with no prefix and one child.
  for (int byte = target_byte - 1; byte >= from_byte; --byte) {
    TrieNode* parent = AllocNode(TrieNode::Bytes(1, 1));
    start_run(parent, 0);
    parent->leaves()[0] = 0;
    const unsigned c = addr[byte];
    parent->w[c >> 6].child_bits |= uint64_t{1} << (c & 63);
    parent->Seal();
    new (parent->children()) std::atomic<TrieNode*>(node);
    node = parent;
  }
  return node;
}

}  // namespace flowacct::bgp::rib_internal
