// The RIB proper: tables, per-peer route words, side entries, lookups.
// See flowacct/bgp/rib.h for the contract and the private headers beside
// this file for the index, the interning and the reclamation.

#include "flowacct/bgp/rib.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "libflowacct/bgp/rib/arena.h"
#include "libflowacct/bgp/rib/attr_store.h"
#include "libflowacct/bgp/rib/chunked_array.h"
#include "libflowacct/bgp/rib/epoch.h"
#include "libflowacct/bgp/rib/prefix_index.h"

namespace flowacct::bgp {
namespace rib_internal {
namespace {

enum TableId : int {
  kV4Unicast = 0,
  kV6Unicast,
  kV4Labeled,
  kV6Labeled,
  kV4Multicast,
  kV6Multicast,
  kV4Vpn,
  kV6Vpn,
  kNumTables,
};

bool IsVpnTable(int t) { return t == kV4Vpn || t == kV6Vpn; }

// Returns -1 for a SAFI the RIB does not keep.
int TableFor(Afi afi, Safi safi) {
  int v6 = afi == Afi::kIpv6 ? 1 : 0;
  switch (safi) {
    case Safi::kUnicast:
      return kV4Unicast + v6;
    case Safi::kLabeledUnicast:
      return kV4Labeled + v6;
    case Safi::kMulticast:
      return kV4Multicast + v6;
    case Safi::kMplsVpn:
      return kV4Vpn + v6;
  }
  return -1;
}

Family FamilyOf(int t) {
  Afi afi = (t & 1) ? Afi::kIpv6 : Afi::kIpv4;
  switch (t / 2) {
    case 0:
      return {afi, Safi::kUnicast};
    case 1:
      return {afi, Safi::kLabeledUnicast};
    case 2:
      return {afi, Safi::kMulticast};
    default:
      return {afi, Safi::kMplsVpn};
  }
}

// Route word (one per peer and prefix id):
//   0                      no route
//   kSide | index          side entry `index` (ADD-PATH paths, labels)
//   [kStale |] attr id     one path, path id 0, no label
constexpr uint32_t kSide = 0x80000000u;
constexpr uint32_t kStale = 0x40000000u;
constexpr uint32_t kAttrMask = 0x3fffffffu;
constexpr uint32_t kSideMask = 0x7fffffffu;

struct SidePath {
  uint32_t path_id;
  uint32_t attr;
  uint32_t label;
  uint8_t has_label;
  uint8_t stale;
  uint8_t pad[2];
};

// Immutable once published; replaced whole (copy-on-write).
struct SideEntry {
  uint32_t n;
  uint32_t pad;
  SidePath* paths() { return reinterpret_cast<SidePath*>(this + 1); }
  const SidePath* paths() const {
    return reinterpret_cast<const SidePath*>(this + 1);
  }
  static size_t Bytes(size_t n) {
    return sizeof(SideEntry) + n * sizeof(SidePath);
  }
};

SideEntry* NewSide(const std::vector<SidePath>& paths) {
  void* raw = ::operator new(SideEntry::Bytes(paths.size()));
  SideEntry* e = new (raw) SideEntry{};
  e->n = static_cast<uint32_t>(paths.size());
  std::memcpy(e->paths(), paths.data(), paths.size() * sizeof(SidePath));
  return e;
}

}  // namespace

// One peer's routes in one table.
struct PeerTable {
  using SideArray = ChunkedArray<std::atomic<SideEntry*>, 14, 12>;

  explicit PeerTable(Arena* arena) : words(arena) {}

  ChunkedArray<std::atomic<uint32_t>, 16, 10> words;  // huge pages
  std::atomic<SideArray*> side{nullptr};
  // Writer only.
  uint32_t side_next = 0;
  // Side indexes whose grace period has passed (pushed by reclamation).
  std::mutex free_mu;
  std::vector<uint32_t> side_free;

  ~PeerTable() {
    SideArray* s = side.load(std::memory_order_relaxed);
    if (s != nullptr) {
      s->ForEachChunk([](uint32_t, std::atomic<SideEntry*>* chunk) {
        for (uint32_t i = 0; i < SideArray::kChunkSize; ++i) {
          ::operator delete(chunk[i].load(std::memory_order_relaxed));
        }
      });
      delete s;
    }
  }
  size_t bytes() const {
    SideArray* s = side.load(std::memory_order_relaxed);
    return words.bytes() + (s ? s->bytes() : 0);
  }
};

class PeerCore {
 public:
  PeerCore(std::string name, Arena* arena)
      : name_(std::move(name)), arena_(arena) {}
  ~PeerCore() {
    for (auto& t : tables_) delete t.load(std::memory_order_relaxed);
  }

  PeerTable* table(int t) const {
    return tables_[t].load(std::memory_order_acquire);
  }
  PeerTable* GetOrCreateTable(int t) {
    PeerTable* pt = tables_[t].load(std::memory_order_relaxed);
    if (pt == nullptr) {
      pt = new PeerTable(arena_);
      tables_[t].store(pt, std::memory_order_release);
    }
    return pt;
  }

  std::string name_;
  Arena* const arena_;
  std::atomic<PeerTable*> tables_[kNumTables] = {};  // read by lookups
  // Counted on every announcement: a line of their own.
  alignas(64) std::atomic<uint64_t> routes_{0};
  std::atomic<uint64_t> paths_{0};
  std::atomic<uint64_t> side_bytes_{0};
};

class RibCore {
 public:
  explicit RibCore(const RibOptions& options)
      : options_(options),
        arena_(options.huge_pages),
        attrs_(&domain_, &arena_),
        peers_(new std::atomic<PeerCore*>[options.max_peers]) {
    for (uint32_t i = 0; i < options.max_peers; ++i) peers_[i].store(nullptr);
  }
  ~RibCore() {
    domain_.DrainAll();
    for (uint32_t i = 0; i < options_.max_peers; ++i) {
      delete peers_[i].load(std::memory_order_relaxed);
    }
    for (auto& t : tables_) delete t.load(std::memory_order_relaxed);
  }

  // --- peers ---------------------------------------------------------
  Result<PeerId> AddPeer(const PeerOptions& options) {
    std::lock_guard<std::mutex> lock(peers_mu_);
    PeerId id;
    if (!free_peer_ids_.empty()) {
      id = free_peer_ids_.back();
      free_peer_ids_.pop_back();
    } else if (next_peer_id_ < options_.max_peers) {
      id = next_peer_id_++;
    } else {
      return ResourceExhaustedError("bgp rib: max_peers peers exist");
    }
    peers_[id].store(new PeerCore(options.name, &arena_),
                     std::memory_order_release);
    ++peer_count_;
    return id;
  }
  void RemovePeer(PeerId id) {
    PeerCore* peer = peers_[id].load(std::memory_order_relaxed);
    peers_[id].store(nullptr, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(peers_mu_);
      --peer_count_;
    }
    domain_.Retire(
        [](void* ctx, void* p, uint64_t peer_id) {
          RibCore* self = static_cast<RibCore*>(ctx);
          delete static_cast<PeerCore*>(p);
          std::lock_guard<std::mutex> lock(self->peers_mu_);
          self->free_peer_ids_.push_back(static_cast<PeerId>(peer_id));
        },
        this, peer, id);
  }
  PeerCore* FindPeer(PeerId id) const {
    if (id >= options_.max_peers) return nullptr;
    return peers_[id].load(std::memory_order_acquire);
  }

  // --- tables --------------------------------------------------------
  PrefixIndex* table(int t) const {
    return tables_[t].load(std::memory_order_acquire);
  }
  PrefixIndex* GetOrCreateTable(int t) {
    PrefixIndex* idx = table(t);
    if (idx != nullptr) return idx;
    std::lock_guard<std::mutex> lock(tables_mu_);
    idx = tables_[t].load(std::memory_order_relaxed);
    if (idx == nullptr) {
      int bytes = (t & 1) ? 16 : 4;
      if (IsVpnTable(t)) bytes += 8;
      idx = new PrefixIndex(bytes, &domain_, &arena_);
      tables_[t].store(idx, std::memory_order_release);
    }
    return idx;
  }

  // Builds the index key of a route: [RD] + address, and its index length.
  static Status KeyBytes(const RouteKey& key, int* table, uint8_t* out,
                         int* len) {
    const char* error = MakeKey(key, table, out, len);
    return error == nullptr ? Status::Ok() : InvalidArgumentError(error);
  }
  // KeyBytes without a Status on the way (announcing a route runs it once
  // per NLRI): nullptr, or what is wrong with the key.
  static const char* MakeKey(const RouteKey& key, int* table, uint8_t* out,
                             int* len) {
    const IpAddress& a = key.prefix.address;
    const int t = TableFor(key.family.afi, key.family.safi);
    if (t < 0) return "bgp rib: unsupported SAFI";
    const bool v6 = key.family.afi == Afi::kIpv6;
    if ((v6 && !a.is_v6()) || (!v6 && !a.is_v4())) {
      return "bgp rib: prefix address family does not match the AFI";
    }
    const int l = key.prefix.length;
    if (l > (v6 ? 128 : 32)) return "bgp rib: prefix length out of range";
    int off = 0;
    if (IsVpnTable(t)) {
      std::memcpy(out, key.rd.bytes.data(), 8);
      off = 8;
    }
    // Host bits cleared (the index requires canonical prefixes).
    if (!v6) {
      const uint32_t w = MaskedV4(a.data(), l);
      std::memcpy(out + off, &w, 4);
    } else {
      uint8_t raw[16];
      std::memcpy(raw, a.data(), 16);
      ClearHostBits(raw, l);
      std::memcpy(out + off, raw, 16);
    }
    *table = t;
    *len = l + off * 8;
    return nullptr;
  }

  // --- writes --------------------------------------------------------
  Status Announce(PeerCore* peer, const Nlri& nlri, uint32_t attr) {
    int t;
    int len;
    uint8_t key[24];
    Status s = KeyBytes(nlri.key, &t, key, &len);
    if (!s.ok()) return s;
    return AnnounceKeyed(peer, nlri, t, key, len, 0, attr);
  }

  // Announce() for the NLRI of one UPDATE: the index lookups of up to 16
  // at a time run interleaved (PrefixIndex::FindExactBatch), the prefixes
  // not indexed yet are inserted together (InsertMissing: one lock, the
  // lookups' walks reused), their route words are prefetched, then each
  // is announced in order. Stops at the first error, as one-by-one calls
  // would (nothing after it is indexed).
  Status AnnounceMany(PeerCore* peer, std::span<const Nlri> nlri,
                      uint32_t attr) {
    constexpr size_t kChunk = 16;
    struct Keyed {
      const char* error;  // MakeKey's
      int t;
      int len;
      uint8_t key[24];
    };
    Keyed keyed[kChunk];  // no initializers: each use sets them first
    PrefixIndex::ExactQuery q[kChunk];
    // New single-path routes take their attribute reference and count
    // once per UPDATE, not three atomic read-modify-writes (each a full
    // fence on x86) per route.
    uint32_t added = 0;
    const auto flush = [&] {
      if (added == 0) return;
      attrs_.AddRef(attr, added);
      peer->routes_.fetch_add(added, std::memory_order_relaxed);
      peer->paths_.fetch_add(added, std::memory_order_relaxed);
      added = 0;
    };
    for (size_t base = 0; base < nlri.size(); base += kChunk) {
      const size_t n = std::min(kChunk, nlri.size() - base);
      for (size_t i = 0; i < n; ++i) {
        Keyed& k = keyed[i];
        k.error = MakeKey(nlri[base + i].key, &k.t, k.key, &k.len);
        q[i].index = k.error == nullptr ? GetOrCreateTable(k.t) : nullptr;
        q[i].addr = k.key;
        q[i].len = k.len;
      }
      PrefixIndex::FindExactBatch(q, n);
      size_t valid = 0;  // before the first bad key
      while (valid < n && keyed[valid].error == nullptr) ++valid;
      // Each index's missing prefixes go in together at its first one (an
      // UPDATE carries one family, so one call); later queries of that
      // index are then found (or the index is full).
      for (size_t i = 0; i < valid; ++i) {
        if (q[i].id == 0) q[i].index->InsertMissing(q, valid);
      }
      for (size_t i = 0; i < n; ++i) {
        if (q[i].id == 0) continue;
        if (const PeerTable* pt = peer->table(keyed[i].t)) {
          if (const auto* w = pt->words.Get(q[i].id)) __builtin_prefetch(w);
        }
      }
      for (size_t i = 0; i < n; ++i) {
        const Keyed& k = keyed[i];
        if (k.error != nullptr) {
          flush();
          return InvalidArgumentError(k.error);
        }
        // A found or inserted id stays valid (prefixes are never
        // removed); 0 (the index was full) tries again, and reports it.
        Status s = AnnounceKeyed(peer, nlri[base + i], k.t, k.key, k.len,
                                 q[i].id, attr, &added);
        if (!s.ok()) {
          flush();
          return s;
        }
      }
    }
    flush();
    return Status::Ok();
  }

  // Announce() once the index key is known; `pid` the prefix's index id
  // when already looked up, 0 to find or insert it. With `added`, a new
  // single-path route is counted there, its attribute reference and
  // route/path counts left to the caller (added before it returns); a
  // route replaced takes and drops its references at once, so the set the
  // caller holds never reaches zero.
  Status AnnounceKeyed(PeerCore* peer, const Nlri& nlri, int t,
                       const uint8_t* key, int len, uint32_t pid, uint32_t attr,
                       uint32_t* added = nullptr) {
    PrefixIndex* idx = GetOrCreateTable(t);
    if (pid == 0) pid = idx->FindOrInsert(key, len);
    if (pid == 0) return ResourceExhaustedError("bgp rib: prefix index full");
    PeerTable* pt = peer->GetOrCreateTable(t);
    std::atomic<uint32_t>* w = pt->words.GetOrCreate(pid);
    uint32_t old = w->load(std::memory_order_relaxed);
    bool side = nlri.key.path_id != 0 || nlri.mpls_label.has_value() ||
                (old & kSide) != 0;
    if (!side) {
      if (old == 0 && added != nullptr) {
        w->store(attr, std::memory_order_release);
        ++*added;
        return Status::Ok();
      }
      attrs_.AddRef(attr);
      w->store(attr, std::memory_order_release);
      if (old != 0) {
        attrs_.Release(old & kAttrMask);
      } else {
        peer->routes_.fetch_add(1, std::memory_order_relaxed);
        peer->paths_.fetch_add(1, std::memory_order_relaxed);
      }
      return Status::Ok();
    }
    // Side entry: copy, change, publish.
    PeerTable::SideArray* sa = GetOrCreateSideArray(pt);
    const SideEntry* prev = nullptr;
    std::vector<SidePath> paths;
    if (old & kSide) {
      prev = sa->Get(old & kSideMask)->load(std::memory_order_relaxed);
      paths.assign(prev->paths(), prev->paths() + prev->n);
    } else if (old != 0) {
      paths.push_back(SidePath{0,
                               old & kAttrMask,
                               0,
                               0,
                               static_cast<uint8_t>((old & kStale) ? 1 : 0),
                               {}});
    }
    SidePath fresh{nlri.key.path_id,
                   attr,
                   nlri.mpls_label.value_or(0),
                   static_cast<uint8_t>(nlri.mpls_label ? 1 : 0),
                   0,
                   {}};
    uint32_t released = 0;
    auto it = std::find_if(paths.begin(), paths.end(), [&](const SidePath& p) {
      return p.path_id == fresh.path_id;
    });
    if (it != paths.end()) {
      released = it->attr;
      *it = fresh;
    } else {
      paths.push_back(fresh);
    }
    uint32_t slot_index;
    if (prev != nullptr) {
      slot_index = old & kSideMask;
    } else {
      slot_index = AllocSide(pt);
      if (slot_index == UINT32_MAX) {
        return ResourceExhaustedError("bgp rib: side table full");
      }
    }
    if (released == 0) {  // a new path (and a new route if none before)
      peer->paths_.fetch_add(1, std::memory_order_relaxed);
      if (old == 0) peer->routes_.fetch_add(1, std::memory_order_relaxed);
    }
    attrs_.AddRef(attr);
    PublishSide(peer, pt, sa, slot_index, prev, paths);
    if (prev == nullptr)
      w->store(kSide | slot_index, std::memory_order_release);
    if (released != 0) attrs_.Release(released);
    return Status::Ok();
  }

  // The peer's route `rk` exactly (prefix, path id, RD): its attributes
  // and label, or nullopt. For the writer and readers inside a section.
  std::optional<RouteEntry> FindRoute(const PeerCore* peer,
                                      const RouteKey& rk) const {
    int t;
    int len;
    uint8_t key[24];
    if (peer == nullptr || !KeyBytes(rk, &t, key, &len).ok()) return {};
    const PrefixIndex* idx = table(t);
    const PeerTable* pt = peer->table(t);
    if (idx == nullptr || pt == nullptr) return {};
    const uint32_t pid = idx->FindExact(key, len);
    if (pid == 0) return {};
    const std::atomic<uint32_t>* w = pt->words.Get(pid);
    if (w == nullptr) return {};
    const uint32_t v = w->load(std::memory_order_acquire);
    if (v == 0) return {};
    RouteEntry entry;
    entry.key = rk;
    if (!IsVpnTable(t)) entry.key.rd = {};
    // The key as stored: host bits cleared.
    SetMasked(rk.prefix.address, rk.prefix.length, &entry.key.prefix);
    if ((v & kSide) == 0) {
      if (rk.path_id != 0) return {};
      entry.attributes = View(v & kAttrMask);
      entry.stale = (v & kStale) != 0;
      return entry;
    }
    const SideEntry* e = LoadSide(pt, v);
    if (e == nullptr) return {};
    for (uint32_t k = 0; k < e->n; ++k) {
      const SidePath& path = e->paths()[k];
      if (path.path_id != rk.path_id) continue;
      entry.attributes = View(path.attr);
      entry.stale = path.stale != 0;
      if (path.has_label) entry.mpls_label = path.label;
      return entry;
    }
    return {};
  }

  bool Withdraw(PeerCore* peer, const RouteKey& rk) {
    int t;
    int len;
    uint8_t key[24];
    if (!KeyBytes(rk, &t, key, &len).ok()) return false;
    PrefixIndex* idx = table(t);
    PeerTable* pt = peer->table(t);
    if (idx == nullptr || pt == nullptr) return false;
    uint32_t pid = idx->FindExact(key, len);
    if (pid == 0) return false;
    std::atomic<uint32_t>* w = pt->words.Get(pid);
    if (w == nullptr) return false;
    uint32_t old = w->load(std::memory_order_relaxed);
    if (old == 0) return false;
    if ((old & kSide) == 0) {
      if (rk.path_id != 0) return false;
      w->store(0, std::memory_order_release);
      attrs_.Release(old & kAttrMask);
      peer->routes_.fetch_sub(1, std::memory_order_relaxed);
      peer->paths_.fetch_sub(1, std::memory_order_relaxed);
      return true;
    }
    PeerTable::SideArray* sa = pt->side.load(std::memory_order_relaxed);
    uint32_t slot_index = old & kSideMask;
    const SideEntry* prev =
        sa->Get(slot_index)->load(std::memory_order_relaxed);
    std::vector<SidePath> paths(prev->paths(), prev->paths() + prev->n);
    auto it = std::find_if(paths.begin(), paths.end(), [&](const SidePath& p) {
      return p.path_id == rk.path_id;
    });
    if (it == paths.end()) return false;
    uint32_t released = it->attr;
    paths.erase(it);
    RewriteSide(peer, pt, w, slot_index, prev, paths);
    attrs_.Release(released);
    return true;
  }

  // Marks (stale=true) or sweeps (stale=false) the routes of table t.
  size_t StaleOp(PeerCore* peer, int t, bool mark) {
    PeerTable* pt = peer->table(t);
    if (pt == nullptr) return 0;
    PeerTable::SideArray* sa = pt->side.load(std::memory_order_relaxed);
    size_t count = 0;
    std::vector<SidePath> paths;
    pt->words.ForEachChunk([&](uint32_t, std::atomic<uint32_t>* chunk) {
      for (uint32_t i = 0; i < 65536; ++i) {
        std::atomic<uint32_t>* w = &chunk[i];
        uint32_t v = w->load(std::memory_order_relaxed);
        if (v == 0) continue;
        if ((v & kSide) == 0) {
          if (mark) {
            if ((v & kStale) == 0)
              w->store(v | kStale, std::memory_order_release);
            ++count;
          } else if (v & kStale) {
            w->store(0, std::memory_order_release);
            attrs_.Release(v & kAttrMask);
            peer->routes_.fetch_sub(1, std::memory_order_relaxed);
            peer->paths_.fetch_sub(1, std::memory_order_relaxed);
            ++count;
          }
          continue;
        }
        uint32_t slot_index = v & kSideMask;
        const SideEntry* prev =
            sa->Get(slot_index)->load(std::memory_order_relaxed);
        paths.assign(prev->paths(), prev->paths() + prev->n);
        std::vector<uint32_t> released;
        if (mark) {
          for (SidePath& p : paths) p.stale = 1;
          count += paths.size();
        } else {
          auto keep =
              std::partition(paths.begin(), paths.end(),
                             [](const SidePath& p) { return !p.stale; });
          for (auto it = keep; it != paths.end(); ++it) {
            released.push_back(it->attr);
          }
          if (released.empty()) continue;
          paths.erase(keep, paths.end());
          count += released.size();
        }
        RewriteSide(peer, pt, w, slot_index, prev, paths);
        for (uint32_t a : released) attrs_.Release(a);
      }
    });
    return count;
  }

  void ClearPeer(PeerCore* peer) {
    for (int t = 0; t < kNumTables; ++t) {
      PeerTable* pt = peer->table(t);
      if (pt == nullptr) continue;
      PeerTable::SideArray* sa = pt->side.load(std::memory_order_relaxed);
      pt->words.ForEachChunk([&](uint32_t, std::atomic<uint32_t>* chunk) {
        for (uint32_t i = 0; i < 65536; ++i) {
          uint32_t v = chunk[i].load(std::memory_order_relaxed);
          if (v == 0) continue;
          chunk[i].store(0, std::memory_order_release);
          if ((v & kSide) == 0) {
            attrs_.Release(v & kAttrMask);
            continue;
          }
          uint32_t slot_index = v & kSideMask;
          const SideEntry* prev =
              sa->Get(slot_index)->load(std::memory_order_relaxed);
          std::vector<uint32_t> released;
          for (uint32_t k = 0; k < prev->n; ++k) {
            released.push_back(prev->paths()[k].attr);
          }
          std::vector<SidePath> none;
          RewriteSide(peer, pt, &chunk[i], slot_index, prev, none);
          for (uint32_t a : released) attrs_.Release(a);
        }
      });
    }
    peer->routes_.store(0, std::memory_order_relaxed);
    peer->paths_.store(0, std::memory_order_relaxed);
  }

  // --- reads ---------------------------------------------------------
  std::optional<RouteMatch> Lookup(PeerId peer_id, const IpAddress& address,
                                   const LookupOptions& options) const {
    const PeerCore* peer = FindPeer(peer_id);
    if (peer == nullptr || !address.is_set()) return std::nullopt;
    Afi afi = address.is_v6() ? Afi::kIpv6 : Afi::kIpv4;
    int t = TableFor(afi, options.safi);
    if (t < 0) return std::nullopt;
    std::optional<RouteMatch> m = LookupIn(peer, t, address, options);
    if (!m && options.safi == Safi::kUnicast) {
      m = LookupIn(peer, TableFor(afi, Safi::kLabeledUnicast), address,
                   options);
    }
    return m;
  }

  std::optional<RouteMatch> LookupIn(const PeerCore* peer, int t,
                                     const IpAddress& address,
                                     const LookupOptions& options) const {
    const PrefixIndex* idx = table(t);
    const PeerTable* pt = peer->table(t);
    if (idx == nullptr || pt == nullptr) return std::nullopt;
    uint8_t key[24];
    LookupKey(t, address, options, key);
    int len;
    uint32_t pid = idx->Lookup(key, &len);
    std::optional<RouteMatch> m(std::in_place);
    if (!Resolve(t, idx, pt, pid, len, address, options, &*m)) m.reset();
    return m;
  }

  // The index key of a lookup: [RD] + address.
  static void LookupKey(int t, const IpAddress& address,
                        const LookupOptions& options, uint8_t* key) {
    int off = 0;
    if (IsVpnTable(t)) {
      std::memcpy(key, options.rd.bytes.data(), 8);
      off = 8;
    }
    std::memcpy(key + off, address.data(), address.size());
  }

  // The peer's route at index prefix `pid` (the longest index match, of
  // length `len`), or at the nearest covering prefix the peer has, written
  // into the default-constructed *m (in place: building a RouteMatch and
  // copying it costs more than the lookup when caches are warm). False
  // when the peer has none.
  bool Resolve(int t, const PrefixIndex* idx, const PeerTable* pt, uint32_t pid,
               int len, const IpAddress& address, const LookupOptions& options,
               RouteMatch* m) const {
    const int off = IsVpnTable(t) ? 8 : 0;
    for (; pid != 0; pid = idx->Parent(pid), len = -1) {
      const std::atomic<uint32_t>* w = pt->words.Get(pid);
      if (w == nullptr) continue;
      uint32_t v = w->load(std::memory_order_acquire);
      if (v == 0) continue;
      if ((v & kSide) == 0) {
        m->attributes = View(v & kAttrMask);
        m->stale = (v & kStale) != 0;
      } else {
        const SideEntry* e = LoadSide(pt, v);
        // The route went while we read it (a withdrawal clears the slot
        // before retiring the entry): as if the lookup came after it.
        if (e == nullptr) continue;
        const SidePath* chosen = &e->paths()[0];
        if (options.bgp_next_hop.is_set() && e->n > 1) {
          for (uint32_t k = 0; k < e->n; ++k) {
            if (View(e->paths()[k].attr).next_hop() == options.bgp_next_hop) {
              chosen = &e->paths()[k];
              break;
            }
          }
        }
        m->attributes = View(chosen->attr);
        m->path_id = chosen->path_id;
        m->stale = chosen->stale != 0;
        if (chosen->has_label) m->mpls_label = chosen->label;
      }
      if (len < 0) {
        m->prefix = PrefixOf(idx, t, pid);  // a covering prefix: read it
      } else {
        SetMasked(address, len - off * 8, &m->prefix);  // no record access
      }
      if (off != 0) m->rd = options.rd;
      return true;
    }
    return false;
  }

  static const void* RecordOf(const AttributesView& v) { return v.rec_; }

  // Lookup() for every request: see LookupManyImpl below.
  void LookupMany(std::span<const LookupRequest> requests,
                  std::span<std::optional<RouteMatch>> results) const;

  // What a LookupMany lane needs to walk a request's index: false for a
  // request off the common path (no peer, no table), which Lookup() then
  // answers.
  bool PrepareLookup(const LookupRequest& r, int* t, const PrefixIndex** idx,
                     const PeerTable** pt) const {
    const PeerCore* peer = FindPeer(r.peer);
    if (peer == nullptr || !r.address.is_set()) return false;
    Afi afi = r.address.is_v6() ? Afi::kIpv6 : Afi::kIpv4;
    *t = TableFor(afi, r.options.safi);
    if (*t < 0) return false;
    *idx = table(*t);
    *pt = peer->table(*t);
    return *idx != nullptr && *pt != nullptr;
  }
  // After a unicast lookup found nothing: the labeled-unicast answer, as
  // Lookup() gives it.
  std::optional<RouteMatch> LabeledFallback(const LookupRequest& r) const {
    const PeerCore* peer = FindPeer(r.peer);
    if (peer == nullptr || r.options.safi != Safi::kUnicast) return {};
    Afi afi = r.address.is_v6() ? Afi::kIpv6 : Afi::kIpv4;
    return LookupIn(peer, TableFor(afi, Safi::kLabeledUnicast), r.address,
                    r.options);
  }

  void ForEachRoute(PeerId peer_id,
                    const std::function<void(const RouteEntry&)>& fn) const {
    const PeerCore* peer = FindPeer(peer_id);
    if (peer == nullptr) return;
    for (int t = 0; t < kNumTables; ++t) {
      const PrefixIndex* idx = table(t);
      const PeerTable* pt = peer->table(t);
      if (idx == nullptr || pt == nullptr) continue;
      uint32_t limit = idx->id_limit();
      Family family = FamilyOf(t);
      pt->words.ForEachChunk([&](uint32_t base, std::atomic<uint32_t>* chunk) {
        for (uint32_t i = 0; i < 65536; ++i) {
          uint32_t pid = base + i;
          if (pid >= limit) return;
          uint32_t v = chunk[i].load(std::memory_order_acquire);
          if (v == 0) continue;
          RouteEntry entry;
          entry.key.family = family;
          entry.key.prefix = PrefixOf(idx, t, pid);
          if (IsVpnTable(t)) {
            uint8_t raw[24];
            idx->CopyAddress(pid, raw);
            std::memcpy(entry.key.rd.bytes.data(), raw, 8);
          }
          if ((v & kSide) == 0) {
            entry.attributes = View(v & kAttrMask);
            entry.stale = (v & kStale) != 0;
            fn(entry);
            continue;
          }
          const SideEntry* e = LoadSide(pt, v);
          if (e == nullptr) continue;  // withdrawn meanwhile
          for (uint32_t k = 0; k < e->n; ++k) {
            const SidePath& p = e->paths()[k];
            entry.key.path_id = p.path_id;
            entry.mpls_label =
                p.has_label ? std::optional<uint32_t>(p.label) : std::nullopt;
            entry.stale = p.stale != 0;
            entry.attributes = View(p.attr);
            fn(entry);
          }
        }
      });
    }
  }

  // The side entry a route word refers to, or nullptr when a writer has
  // cleared its slot (or emptied it) since the word was read. Readers
  // only; the entry stays valid for the read section.
  static const SideEntry* LoadSide(const PeerTable* pt, uint32_t v) {
    const PeerTable::SideArray* sa = pt->side.load(std::memory_order_acquire);
    if (sa == nullptr) return nullptr;
    const auto* slot = sa->Get(v & kSideMask);
    if (slot == nullptr) return nullptr;
    const SideEntry* e = slot->load(std::memory_order_acquire);
    return e != nullptr && e->n > 0 ? e : nullptr;
  }

  AttributesView View(uint32_t id) const {
    return AttributesView(attrs_.Get(id), id);
  }

  // *out = address/len, host bits cleared.
  static void SetMasked(const IpAddress& address, int len, Prefix* out) {
    if (address.is_v4()) {
      const uint32_t a = MaskedV4(address.data(), len);
      out->address.AssignV4Bytes(reinterpret_cast<const uint8_t*>(&a));
      out->length = static_cast<uint8_t>(len);
      return;
    }
    uint8_t raw[16];
    std::memcpy(raw, address.data(), 16);
    ClearHostBits(raw, len);
    out->address.AssignV6Bytes(raw);
    out->length = static_cast<uint8_t>(len);
  }

  // The 4 network-order bytes at `p` with the bits after the first `len`
  // cleared, as they are stored: one 32-bit mask, no branch (len 0..32).
  static uint32_t MaskedV4(const uint8_t* p, int len) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    const uint32_t mask =
        static_cast<uint32_t>(~uint64_t{0} << (32 - std::clamp(len, 0, 32)));
    return __builtin_bswap32(__builtin_bswap32(w) & mask);
  }
  // Clears the bits after the first `len` of a 16-byte address (IPv4: its
  // 4 bytes first, the rest zero): two big-endian 64-bit halves, masked
  // with shifts.
  static void ClearHostBits(uint8_t* raw, int len) {
    uint64_t hi, lo;
    std::memcpy(&hi, raw, 8);
    std::memcpy(&lo, raw + 8, 8);
    hi = __builtin_bswap64(hi);
    lo = __builtin_bswap64(lo);
    // IPv4 is bytes 0-3 (the top of `hi`), the rest zero.
    const int keep_hi = std::clamp(len, 0, 64);
    const int keep_lo = std::clamp(len - 64, 0, 64);
    hi &= keep_hi == 0 ? 0 : ~uint64_t{0} << (64 - keep_hi);
    lo &= keep_lo == 0 ? 0 : ~uint64_t{0} << (64 - keep_lo);
    hi = __builtin_bswap64(hi);
    lo = __builtin_bswap64(lo);
    std::memcpy(raw, &hi, 8);
    std::memcpy(raw + 8, &lo, 8);
  }

  static Prefix PrefixOf(const PrefixIndex* idx, int t, uint32_t pid) {
    uint8_t raw[24];
    idx->CopyAddress(pid, raw);
    int off = IsVpnTable(t) ? 8 : 0;
    Prefix p;
    p.address =
        (t & 1) ? IpAddress::V6Bytes(raw + off) : IpAddress::V4Bytes(raw + off);
    p.length = static_cast<uint8_t>(idx->Length(pid) - off * 8);
    return p;
  }

  RibStats Stats() const {
    RibStats s;
    {
      std::lock_guard<std::mutex> lock(peers_mu_);
      s.peers = peer_count_;
    }
    s.arena_reserved_bytes = arena_.reserved_bytes();
    s.arena_idle_bytes = arena_.idle_bytes();
    for (int t = 0; t < kNumTables; ++t) {
      const PrefixIndex* idx = table(t);
      if (idx == nullptr) continue;
      s.prefixes += idx->size();
      s.index_nodes += idx->node_count();
      s.index_node_bytes += idx->node_bytes();
      s.index_record_bytes += idx->record_bytes();
    }
    for (uint32_t i = 0; i < options_.max_peers; ++i) {
      const PeerCore* p = peers_[i].load(std::memory_order_acquire);
      if (p == nullptr) continue;
      s.routes += p->routes_.load(std::memory_order_relaxed);
      s.paths += p->paths_.load(std::memory_order_relaxed);
      s.side_bytes += p->side_bytes_.load(std::memory_order_relaxed);
      for (int t = 0; t < kNumTables; ++t) {
        const PeerTable* pt = p->table(t);
        if (pt != nullptr) s.route_array_bytes += pt->bytes();
      }
    }
    s.route_array_bytes += options_.max_peers * sizeof(void*);
    AttrStore::Counts c = attrs_.GetCounts();
    s.attribute_sets = c.sets;
    s.as_paths = c.as_paths;
    s.community_sets = c.comm_sets;
    s.rare_attribute_sets = c.extras;
    s.attribute_set_bytes = c.set_bytes;
    s.as_path_bytes = c.as_path_bytes;
    s.community_bytes = c.comm_bytes;
    s.rare_attribute_bytes = c.extra_bytes;
    s.intern_table_bytes = c.table_bytes;
    s.pending_reclaim = domain_.pending();
    return s;
  }

  void MaybeReclaim() {
    if (domain_.pending() >= options_.reclaim_every) domain_.Reclaim();
  }

  const RibOptions options_;  // read by every lookup (FindPeer)
  // Before everything that allocates from it (destroyed after them).
  // Writers change it (and the members below) all the time: from here
  // on, what lookups read and what writers write start new cache lines.
  alignas(64) Arena arena_;
  EpochDomain domain_;
  AttrStore attrs_;

 private:
  PeerTable::SideArray* GetOrCreateSideArray(PeerTable* pt) {
    PeerTable::SideArray* sa = pt->side.load(std::memory_order_relaxed);
    if (sa == nullptr) {
      sa = new PeerTable::SideArray;
      pt->side.store(sa, std::memory_order_release);
    }
    return sa;
  }

  uint32_t AllocSide(PeerTable* pt) {
    {
      std::lock_guard<std::mutex> lock(pt->free_mu);
      if (!pt->side_free.empty()) {
        uint32_t i = pt->side_free.back();
        pt->side_free.pop_back();
        return i;
      }
    }
    if (pt->side_next >= PeerTable::SideArray::kCapacity) return UINT32_MAX;
    return pt->side_next++;
  }

  void PublishSide(PeerCore* peer, PeerTable* pt, PeerTable::SideArray* sa,
                   uint32_t slot_index, const SideEntry* prev,
                   const std::vector<SidePath>& paths) {
    SideEntry* e = NewSide(paths);
    peer->side_bytes_.fetch_add(SideEntry::Bytes(paths.size()),
                                std::memory_order_relaxed);
    sa->GetOrCreate(slot_index)->store(e, std::memory_order_release);
    if (prev != nullptr) RetireSide(peer, prev);
  }

  void RetireSide(PeerCore* peer, const SideEntry* e) {
    peer->side_bytes_.fetch_sub(SideEntry::Bytes(e->n),
                                std::memory_order_relaxed);
    domain_.Retire([](void*, void* p, uint64_t) { ::operator delete(p); },
                   nullptr, const_cast<SideEntry*>(e));
  }

  // Replaces side entry `slot_index` (word *w) by `paths`; an empty list
  // removes the route and frees the slot after a grace period.
  void RewriteSide(PeerCore* peer, PeerTable* pt, std::atomic<uint32_t>* w,
                   uint32_t slot_index, const SideEntry* prev,
                   const std::vector<SidePath>& paths) {
    size_t before = prev->n;
    if (paths.empty()) {
      w->store(0, std::memory_order_release);
      PeerTable::SideArray* sa = pt->side.load(std::memory_order_relaxed);
      sa->Get(slot_index)->store(nullptr, std::memory_order_release);
      RetireSide(peer, prev);
      domain_.Retire(
          [](void* ctx, void*, uint64_t index) {
            PeerTable* table = static_cast<PeerTable*>(ctx);
            std::lock_guard<std::mutex> lock(table->free_mu);
            table->side_free.push_back(static_cast<uint32_t>(index));
          },
          pt, nullptr, slot_index);
      peer->routes_.fetch_sub(1, std::memory_order_relaxed);
    } else {
      PublishSide(peer, pt, pt->side.load(std::memory_order_relaxed),
                  slot_index, prev, paths);
    }
    peer->paths_.fetch_sub(before - paths.size(), std::memory_order_relaxed);
  }

  alignas(64) std::atomic<PrefixIndex*> tables_[kNumTables] = {};
  std::mutex tables_mu_;
  std::unique_ptr<std::atomic<PeerCore*>[]> peers_;
  mutable std::mutex peers_mu_;
  std::vector<PeerId> free_peer_ids_;
  PeerId next_peer_id_ = 0;
  uint32_t peer_count_ = 0;
};

namespace {

// The lookups of a batch, in groups of up to 64 taken stage by stage:
// every lookup of the group takes a stage before any takes the next, and
// each stage prefetches what the next reads (index walks in
// PrefixIndex::LongestMatchBatch, then the peers' route words, then the
// attribute records the caller reads), so a stage's cache misses overlap
// across the group instead of each lookup paying its chain of misses in
// turn. The common case (one path, no covering-prefix walk) is answered
// inline; the rest (no peer or table, side entries, covering prefixes, the
// labeled fallback) by the one-by-one code.
void LookupManyImpl(const RibCore& core,
                    std::span<const LookupRequest> requests,
                    std::span<std::optional<RouteMatch>> results) {
  constexpr size_t kGroup = PrefixIndex::kMaxLongestBatch;
  struct Pending {
    size_t req;
    int t;
    const PeerTable* pt;
    const std::atomic<uint32_t>* word;
    uint8_t vpn_key[24];  // route distinguisher + address, VPN tables
  };
  PrefixIndex::LongestQuery queries[kGroup];
  Pending pending[kGroup];
  const size_t total = std::min(requests.size(), results.size());
  // A batch mostly asks about one peer's unicast routes (the records of
  // one exporter's datagram): those skip PrepareLookup.
  const PrefixIndex* const unicast[2] = {core.table(kV4Unicast),
                                         core.table(kV6Unicast)};
  PeerId last_id = 0;
  const PeerCore* last_peer = core.FindPeer(0);
  for (size_t base = 0; base < total; base += kGroup) {
    const size_t end = std::min(total, base + kGroup);
    size_t n = 0;
    for (size_t i = base; i < end; ++i) {
      const LookupRequest& r = requests[i];
      Pending& p = pending[n];
      PrefixIndex::LongestQuery& q = queries[n];
      if (r.peer != last_id) {
        last_id = r.peer;
        last_peer = core.FindPeer(r.peer);
      }
      if (last_peer != nullptr && r.options.safi == Safi::kUnicast &&
          r.address.is_set()) {
        const int v6 = r.address.is_v6() ? 1 : 0;
        p.t = kV4Unicast + v6;
        q.index = unicast[v6];
        p.pt = last_peer->table(p.t);
        if (q.index != nullptr && p.pt != nullptr) {
          q.key = r.address.data();
          p.req = i;
          ++n;
          continue;
        }
      }
      if (!core.PrepareLookup(r, &p.t, &q.index, &p.pt)) {
        results[i] = core.Lookup(r.peer, r.address, r.options);
        continue;
      }
      if (IsVpnTable(p.t)) {
        RibCore::LookupKey(p.t, r.address, r.options, p.vpn_key);
        q.key = p.vpn_key;
      } else {
        q.key = r.address.data();
      }
      p.req = i;
      ++n;
    }
    PrefixIndex::LongestMatchBatch(queries, n);
    for (size_t k = 0; k < n; ++k) {
      Pending& p = pending[k];
      p.word = queries[k].id != 0 ? p.pt->words.Get(queries[k].id) : nullptr;
      __builtin_prefetch(p.word);
    }
    for (size_t k = 0; k < n; ++k) {
      const Pending& p = pending[k];
      const PrefixIndex::LongestQuery& q = queries[k];
      const LookupRequest& r = requests[p.req];
      std::optional<RouteMatch>& out = results[p.req];
      RouteMatch& m = out.emplace();
      const uint32_t v =
          p.word != nullptr ? p.word->load(std::memory_order_acquire) : 0;
      if (v != 0 && (v & kSide) == 0 && !IsVpnTable(p.t)) {
        // The peer has the longest match, one path: no further reads.
        m.attributes = core.View(v & kAttrMask);
        m.stale = (v & kStale) != 0;
        RibCore::SetMasked(r.address, q.length, &m.prefix);
      } else if (!core.Resolve(p.t, q.index, p.pt, q.id, q.length, r.address,
                               r.options, &m)) {
        out = core.LabeledFallback(r);
        continue;
      }
      __builtin_prefetch(RibCore::RecordOf(m.attributes));
    }
  }
}

}  // namespace

void RibCore::LookupMany(std::span<const LookupRequest> requests,
                         std::span<std::optional<RouteMatch>> results) const {
  LookupManyImpl(*this, requests, results);
}

}  // namespace rib_internal

using rib_internal::AttrRecord;
using rib_internal::RibCore;
using rib_internal::SectionGuard;

// --- AttributesView ----------------------------------------------------

std::optional<Origin> AttributesView::origin() const {
  if (rec_ == nullptr || (rec_->flags & rib_internal::kHasOrigin) == 0) {
    return std::nullopt;
  }
  return static_cast<Origin>(rec_->origin);
}
IpAddress AttributesView::next_hop() const {
  if (rec_ == nullptr) return IpAddress();
  if (rec_->flags & rib_internal::kNextHopV4) {
    return IpAddress::V4Bytes(rec_->next_hop);
  }
  if (rec_->flags & rib_internal::kNextHopV6) {
    return IpAddress::V6Bytes(rec_->next_hop);
  }
  return IpAddress();
}
std::optional<uint32_t> AttributesView::med() const {
  if (rec_ == nullptr || (rec_->flags & rib_internal::kHasMed) == 0) {
    return std::nullopt;
  }
  return rec_->med;
}
std::optional<uint32_t> AttributesView::local_pref() const {
  if (rec_ == nullptr || (rec_->flags & rib_internal::kHasLocalPref) == 0) {
    return std::nullopt;
  }
  return rec_->local_pref;
}
bool AttributesView::atomic_aggregate() const {
  return rec_ != nullptr && (rec_->flags & rib_internal::kAtomicAggregate);
}
uint32_t AttributesView::first_as() const { return rec_ ? rec_->first_as : 0; }
uint32_t AttributesView::origin_as() const {
  return rec_ ? rec_->origin_as : 0;
}
std::span<const uint32_t> AttributesView::as_path_asns() const {
  if (rec_ == nullptr || rec_->as_path == nullptr) return {};
  return {rec_->as_path->asns(), rec_->as_path->n_asns};
}
size_t AttributesView::as_path_segment_count() const {
  return rec_ && rec_->as_path ? rec_->as_path->n_segments : 0;
}
AsPathSegmentView AttributesView::as_path_segment(size_t i) const {
  const rib_internal::AsPathBlob* p = rec_->as_path;
  size_t offset = 0;
  for (size_t k = 0; k < i; ++k) offset += p->seg_len()[k];
  return {static_cast<AsSegmentType>(p->seg_type()[i]),
          {p->asns() + offset, p->seg_len()[i]}};
}
std::span<const uint32_t> AttributesView::communities() const {
  if (rec_ == nullptr || rec_->comms == nullptr) return {};
  return {rec_->comms->std_comms(), rec_->comms->n_std};
}
std::span<const uint64_t> AttributesView::ext_communities() const {
  if (rec_ == nullptr || rec_->comms == nullptr) return {};
  return {rec_->comms->ext(), rec_->comms->n_ext};
}
std::span<const LargeCommunity> AttributesView::large_communities() const {
  if (rec_ == nullptr || rec_->comms == nullptr) return {};
  return {rec_->comms->large(), rec_->comms->n_large};
}
PathAttributes AttributesView::ToPathAttributes() const {
  PathAttributes a;
  if (rec_ == nullptr) return a;
  if (rec_->extra != nullptr) a = rec_->extra->rest;
  a.origin = origin();
  for (size_t i = 0; i < as_path_segment_count(); ++i) {
    AsPathSegmentView seg = as_path_segment(i);
    a.as_path.push_back(
        AsPathSegment{seg.type, {seg.asns.begin(), seg.asns.end()}});
  }
  a.next_hop = next_hop();
  a.med = med();
  a.local_pref = local_pref();
  a.atomic_aggregate = atomic_aggregate();
  auto c = communities();
  a.communities.assign(c.begin(), c.end());
  auto e = ext_communities();
  a.ext_communities.assign(e.begin(), e.end());
  auto l = large_communities();
  a.large_communities.assign(l.begin(), l.end());
  return a;
}

// --- AttrHandle --------------------------------------------------------

AttrHandle::AttrHandle(const AttrHandle& other)
    : core_(other.core_), id_(other.id_) {
  if (id_ != 0) core_->attrs_.AddRef(id_);
}
AttrHandle& AttrHandle::operator=(const AttrHandle& other) {
  if (this != &other) {
    AttrHandle copy(other);
    *this = std::move(copy);
  }
  return *this;
}
AttrHandle::AttrHandle(AttrHandle&& other) noexcept
    : core_(other.core_), id_(std::exchange(other.id_, 0)) {}
AttrHandle& AttrHandle::operator=(AttrHandle&& other) noexcept {
  if (this != &other) {
    if (id_ != 0) core_->attrs_.Release(id_);
    core_ = other.core_;
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}
AttrHandle::~AttrHandle() {
  if (id_ != 0) core_->attrs_.Release(id_);
}
AttributesView AttrHandle::view() const {
  if (id_ == 0) return AttributesView();
  return core_->View(id_);
}
uint32_t AttrHandle::ref_count() const {
  return id_ == 0 ? 0 : core_->attrs_.RefCount(id_);
}

// --- Rib ---------------------------------------------------------------

Result<std::unique_ptr<Rib>> Rib::Create(const RibOptions& options) {
  if (options.max_peers == 0 || options.max_peers > (1u << 20)) {
    return InvalidArgumentError("bgp rib: max_peers must be in 1..2^20");
  }
  return std::unique_ptr<Rib>(new Rib(std::make_unique<RibCore>(options)));
}

Rib::Rib(std::unique_ptr<RibCore> core) : core_(std::move(core)) {}
Rib::~Rib() = default;

Result<std::unique_ptr<PeerWriter>> Rib::AddPeer(const PeerOptions& options) {
  Result<PeerId> id = core_->AddPeer(options);
  if (!id.ok()) return id.status();
  return std::unique_ptr<PeerWriter>(new PeerWriter(core_.get(), *id));
}

std::unique_ptr<RibReader> Rib::NewReader() const {
  return std::unique_ptr<RibReader>(
      new RibReader(core_.get(), core_->domain_.Register()));
}

RibStats Rib::GetStats() const { return core_->Stats(); }

size_t Rib::Reclaim() {
  size_t n = 0;
  for (int i = 0; i < 3; ++i) n += core_->domain_.Reclaim();
  return n;
}

// --- PeerWriter --------------------------------------------------------

PeerWriter::PeerWriter(RibCore* core, PeerId id)
    : core_(core), id_(id), slot_(core->domain_.Register()) {}

PeerWriter::~PeerWriter() {
  {
    SectionGuard guard(slot_);
    core_->ClearPeer(core_->FindPeer(id_));
    core_->RemovePeer(id_);
  }
  core_->domain_.Unregister(slot_);
  core_->MaybeReclaim();
}

Result<AttrHandle> PeerWriter::Intern(const PathAttributes& attributes) {
  size_t n_asns = 0;
  for (const AsPathSegment& seg : attributes.as_path) {
    n_asns += seg.asns.size();
  }
  if (n_asns > 0xffff || attributes.as_path.size() > 0xffff) {
    return InvalidArgumentError("bgp rib: AS path longer than 65535 ASNs");
  }
  uint32_t id = core_->attrs_.Intern(attributes);
  if (id == 0) {
    return ResourceExhaustedError("bgp rib: attribute set store full");
  }
  return AttrHandle(core_, id);
}

Status PeerWriter::Announce(const Nlri& nlri, const AttrHandle& attributes) {
  if (!attributes.valid() || attributes.core_ != core_) {
    return InvalidArgumentError("bgp rib: invalid attribute handle");
  }
  Status s;
  {
    SectionGuard guard(slot_);
    s = core_->Announce(core_->FindPeer(id_), nlri, attributes.id_);
  }
  core_->MaybeReclaim();
  return s;
}

Status PeerWriter::Announce(std::span<const Nlri> nlri,
                            const AttrHandle& attributes) {
  if (!attributes.valid() || attributes.core_ != core_) {
    return InvalidArgumentError("bgp rib: invalid attribute handle");
  }
  Status s;
  {
    SectionGuard guard(slot_);
    s = core_->AnnounceMany(core_->FindPeer(id_), nlri, attributes.id_);
  }
  core_->MaybeReclaim();
  return s;
}

std::optional<PathAttributes> PeerWriter::Attributes(
    const RouteKey& key) const {
  SectionGuard guard(slot_);
  std::optional<RouteEntry> route = core_->FindRoute(core_->FindPeer(id_), key);
  if (!route) return std::nullopt;
  return route->attributes.ToPathAttributes();
}

std::optional<RouteEntry> RibReader::Section::Find(PeerId peer,
                                                   const RouteKey& key) const {
  return reader_->core_->FindRoute(reader_->core_->FindPeer(peer), key);
}

bool PeerWriter::Withdraw(const RouteKey& key) {
  bool removed;
  {
    SectionGuard guard(slot_);
    removed = core_->Withdraw(core_->FindPeer(id_), key);
  }
  core_->MaybeReclaim();
  return removed;
}

namespace {
std::vector<int> TablesOf(const Family& family) {
  int t = rib_internal::TableFor(family.afi, family.safi);
  if (t < 0) return {};
  return {t};
}
}  // namespace

size_t PeerWriter::MarkStale(const Family& family) {
  size_t n = 0;
  {
    SectionGuard guard(slot_);
    for (int t : TablesOf(family))
      n += core_->StaleOp(core_->FindPeer(id_), t, true);
  }
  core_->MaybeReclaim();
  return n;
}

size_t PeerWriter::SweepStale(const Family& family) {
  size_t n = 0;
  {
    SectionGuard guard(slot_);
    for (int t : TablesOf(family)) {
      n += core_->StaleOp(core_->FindPeer(id_), t, false);
    }
  }
  core_->MaybeReclaim();
  return n;
}

void PeerWriter::Clear() {
  {
    SectionGuard guard(slot_);
    core_->ClearPeer(core_->FindPeer(id_));
  }
  core_->MaybeReclaim();
}

uint64_t PeerWriter::route_count() const {
  return core_->FindPeer(id_)->routes_.load(std::memory_order_relaxed);
}
uint64_t PeerWriter::path_count() const {
  return core_->FindPeer(id_)->paths_.load(std::memory_order_relaxed);
}

// --- RibReader ---------------------------------------------------------

RibReader::RibReader(RibCore* core, rib_internal::EpochSlot* slot)
    : core_(core), slot_(slot) {}
RibReader::~RibReader() { core_->domain_.Unregister(slot_); }

RibReader::Section RibReader::Enter() const { return Section(this); }

RibReader::Section::Section(const RibReader* reader) : reader_(reader) {
  reader_->slot_->Enter();
}
RibReader::Section::~Section() { reader_->slot_->Exit(); }

std::optional<RouteMatch> RibReader::Section::Lookup(
    PeerId peer, const IpAddress& address, const LookupOptions& options) const {
  return reader_->core_->Lookup(peer, address, options);
}

void RibReader::Section::LookupMany(
    std::span<const LookupRequest> requests,
    std::span<std::optional<RouteMatch>> results) const {
  reader_->core_->LookupMany(requests, results);
}

void RibReader::Section::ForEachRoute(
    PeerId peer, const std::function<void(const RouteEntry&)>& fn) const {
  reader_->core_->ForEachRoute(peer, fn);
}

}  // namespace flowacct::bgp
