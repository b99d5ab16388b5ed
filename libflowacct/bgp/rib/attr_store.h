// File: libflowacct/bgp/rib/attr_store.h
//
// AttrStore: interning of path attributes across all peers and prefixes.
//
// An interned attribute set is an AttrRecord, a fixed 64-byte record in a
// slab indexed by a 32-bit id (route words store that id). The record keeps
// the per-set scalars inline (origin, MED, LOCAL_PREF, next hop) and points
// to separately interned, immutable, variable-size sub-parts:
//   - AsPathBlob:  the AS path (segments; first and origin AS precomputed),
//   - CommBlob:    standard + extended + large communities together,
//   - ExtraBlob:   everything rare (aggregator, originator/cluster list, OTC,
//                  AIGP, link-local next hop, unknown attributes).
// iBGP edge routers of one AS announce the same AS paths and communities
// with different next hops, so sub-parts are shared even when sets are not.
//
// Reference counts: atomic, in an array of their own indexed by id (every
// route announced or withdrawn changes one, and readers on other cores
// read the records: a count inside the record line would take that line
// from their caches on every change). A caller may increment one
// only while it already holds a reference (AttrHandle, or a route). The
// 1 -> 0 transition and every lookup-and-increment of the intern tables
// happen under `mu_`, so a set is never resurrected after it was erased.
// Sub-part counts are plain integers guarded by `mu_`. Erased records and
// blobs are retired to the EpochDomain: readers that loaded the id before
// the last route went away can keep reading it until they leave their
// section; the id is reused only after that.
//
// Thread-safety: all methods are thread-safe. Get()/blob accessors from any
// thread inside a read section.

#ifndef FLOWACCT_LIBFLOWACCT_BGP_RIB_ATTR_STORE_H_
#define FLOWACCT_LIBFLOWACCT_BGP_RIB_ATTR_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "flowacct/bgp/path_attributes.h"

#include "libflowacct/bgp/rib/chunked_array.h"
#include "libflowacct/bgp/rib/epoch.h"

#include "absl/container/flat_hash_set.h"

namespace flowacct::bgp::rib_internal {

// Variable-size immutable blobs: a header followed by `bytes` of payload.
struct BlobHeader {
  uint32_t refs;  // guarded by AttrStore::mu_
  uint32_t hash;
  uint32_t bytes;  // payload size
  uint32_t pad;
};

// Payload: uint32_t asns[n_asns]; uint16_t seg_len[n_segments];
//          uint8_t seg_type[n_segments].
struct AsPathBlob {
  BlobHeader h;
  uint32_t first_as;
  uint32_t origin_as;
  uint16_t n_segments;
  uint16_t n_asns;
  uint32_t pad;

  const uint32_t* asns() const {
    return reinterpret_cast<const uint32_t*>(this + 1);
  }
  const uint16_t* seg_len() const {
    return reinterpret_cast<const uint16_t*>(asns() + n_asns);
  }
  const uint8_t* seg_type() const {
    return reinterpret_cast<const uint8_t*>(seg_len() + n_segments);
  }
};

// Payload: uint64_t ext[n_ext]; LargeCommunity large[n_large];
//          uint32_t std[n_std].
struct CommBlob {
  BlobHeader h;
  uint32_t n_std;
  uint32_t n_ext;
  uint32_t n_large;
  uint32_t pad;

  const uint64_t* ext() const {
    return reinterpret_cast<const uint64_t*>(this + 1);
  }
  const LargeCommunity* large() const {
    return reinterpret_cast<const LargeCommunity*>(ext() + n_ext);
  }
  const uint32_t* std_comms() const {
    return reinterpret_cast<const uint32_t*>(large() + n_large);
  }
};

// The rare attributes, as a value (interned by content).
struct ExtraBlob {
  BlobHeader h;
  PathAttributes rest;  // only the "rare" members are set
};

enum AttrFlags : uint8_t {
  kHasMed = 1,
  kHasLocalPref = 2,
  kAtomicAggregate = 4,
  kHasOrigin = 8,
  kNextHopV4 = 16,
  kNextHopV6 = 32,
};

// One cache line. first_as/origin_as are copied from the AS path so the
// common enrichment reads touch only this line.
struct AttrRecord {
  // RecordHash of the other fields, kept so that the id set's resizes do
  // not compute it again (the reference count is in AttrStore::refs_).
  uint32_t hash = 0;
  uint32_t first_as = 0;
  const AsPathBlob* as_path = nullptr;  // nullptr: empty path
  const CommBlob* comms = nullptr;      // nullptr: no communities
  const ExtraBlob* extra = nullptr;     // nullptr: none of the rare ones
  uint32_t med = 0;
  uint32_t local_pref = 0;
  uint32_t origin_as = 0;
  uint8_t flags = 0;
  uint8_t origin = 0;
  uint8_t next_hop[16] = {};
};
static_assert(sizeof(AttrRecord) == 64);

// Content hash of a record but its `hash` field (blob pointers stand for
// their interned content).
uint32_t RecordHash(const AttrRecord& r);

class AttrStore {
 public:
  static constexpr uint32_t kMaxId = (uint32_t{1} << 28) - 1;

  // Records live in `arena` (64-byte aligned: one cache line each), which
  // must outlive the store.
  AttrStore(EpochDomain* domain, Arena* arena);
  ~AttrStore();
  AttrStore(const AttrStore&) = delete;
  AttrStore& operator=(const AttrStore&) = delete;

  // Interns `attrs` and returns its id holding one reference, or 0 when
  // the store is full (kMaxId sets) or the AS path is too long (> 65535).
  uint32_t Intern(const PathAttributes& attrs);
  // REQUIRES: the caller holds a reference to `id`.
  void AddRef(uint32_t id, uint32_t n = 1) {
    refs_.Get(id)->fetch_add(n, std::memory_order_relaxed);
  }
  // Drops one reference; the last one erases and retires the set.
  void Release(uint32_t id);

  const AttrRecord* Get(uint32_t id) const { return slab_.Get(id); }
  uint32_t RefCount(uint32_t id) const {
    return refs_.Get(id)->load(std::memory_order_relaxed);
  }

  struct Counts {
    size_t sets = 0, as_paths = 0, comm_sets = 0, extras = 0;
    size_t set_bytes = 0, as_path_bytes = 0, comm_bytes = 0, extra_bytes = 0;
    size_t table_bytes = 0;
  };
  Counts GetCounts() const;

 private:
  template <typename Blob>
  struct BlobSet {
    struct Hash {
      size_t operator()(const Blob* b) const { return b->h.hash; }
    };
    struct Eq {
      bool operator()(const Blob* a, const Blob* b) const;
    };
    absl::flat_hash_set<Blob*, Hash, Eq> set;
    size_t bytes = 0;
  };
  struct IdHash {
    using is_transparent = void;
    const AttrStore* store;
    // Both read the stored hash (a probe's is set before it probes).
    size_t operator()(uint32_t id) const { return store->Get(id)->hash; }
    size_t operator()(const AttrRecord* r) const { return r->hash; }
  };
  struct IdEq {
    using is_transparent = void;
    const AttrStore* store;
    static bool Same(const AttrRecord& a, const AttrRecord& b);
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, const AttrRecord* b) const {
      return Same(*store->Get(a), *b);
    }
    bool operator()(const AttrRecord* a, uint32_t b) const {
      return Same(*a, *store->Get(b));
    }
  };

  // Returns the interned blob (ref taken) equal to the candidate. A heap
  // candidate is consumed; a scratch one is copied to the heap if new.
  // REQUIRES: mu_ held.
  template <typename Blob>
  Blob* InternBlob(BlobSet<Blob>* set, Blob* candidate, bool in_scratch);
  template <typename Blob>
  void ReleaseBlob(BlobSet<Blob>* set, const Blob* blob);
  uint32_t AllocId();
  static void FreeId(void* ctx, void* unused, uint64_t id);

  EpochDomain* const domain_;
  // Read by every lookup; written only when a chunk is added.
  alignas(64) ChunkedArray<AttrRecord, 12, 16> slab_;
  ChunkedArray<std::atomic<uint32_t>, 16, 12> refs_;  // by id
  // What interning writes, on lines of its own.
  alignas(64) mutable std::mutex mu_;
  absl::flat_hash_set<uint32_t, IdHash, IdEq> sets_;
  BlobSet<AsPathBlob> as_paths_;
  BlobSet<CommBlob> comms_;
  BlobSet<ExtraBlob> extras_;
  std::vector<uint32_t> free_ids_;
  uint32_t next_id_ = 1;
};

}  // namespace flowacct::bgp::rib_internal

#endif  // FLOWACCT_LIBFLOWACCT_BGP_RIB_ATTR_STORE_H_
