// File: flowacct/bgp/rib.h
//
// The BGP RIB: every peer's Adj-RIB-In (full tables included), held as
// per-peer views over ONE shared prefix index, with path attributes
// interned once across all peers and prefixes. Flow enrichment asks it
// "which route of peer P covers address A?" from many threads at once,
// without ever blocking on the BGP/BMP writer threads.
//
//   auto rib = flowacct::bgp::Rib::Create({});
//   auto peer = (*rib)->AddPeer({.name = "192.0.2.1"});      // writer thread
//   auto attrs = (*peer)->Intern(update.attributes);          // once/UPDATE
//   for (const Nlri& n : update.announced) (*peer)->Announce(n, *attrs);
//
//   auto reader = (*rib)->NewReader();                        // reader thread
//   {
//     RibReader::Section section = reader->Enter();
//     std::optional<RouteMatch> m = section.Lookup(peer_id, flow.dst);
//     if (m) use(m->prefix, m->attributes.origin_as());      // valid here
//     // Many at once (a batch of flow records): the same answers, their
//     // cache misses overlapped.
//     std::vector<LookupRequest> batch = ...;
//     std::vector<std::optional<RouteMatch>> found(batch.size());
//     section.LookupMany(batch, found);
//   }                                                         // not here
//
// Structure (details in libflowacct/bgp/rib/*.h):
//   - Tables: one per (AFI, SAFI) among unicast, labeled unicast (RFC 8277),
//     multicast and MPLS VPN (RFC 4364/4659). A VPN prefix is indexed with
//     its 8-octet route distinguisher in front of the address, so one VPN
//     table holds every RD and a lookup never crosses RDs.
//   - Shared prefix index per table: each prefix any peer announced gets a
//     dense id; a popcount-compressed multibit trie (8-bit strides) maps an
//     address to the longest indexed prefix, and each prefix links to its
//     longest covering indexed prefix. IPv4 and IPv6 roots are one 32-bit
//     word per /24 (DIR-24: an IPv4 lookup up to /24 reads two words, a /24
//     is inserted by storing one), 64 MiB of address space per table whose
//     pages cost memory only where /17../24 prefixes exist (a full IPv4
//     table: all of it, once for all peers); VPN tables a 16-bit root.
//   - Per-peer view: per table, an array indexed by prefix id of one 32-bit
//     route word (the interned attribute-set id, or a reference to a side
//     entry holding ADD-PATH paths and MPLS labels). 4 bytes per route.
//   - Interned attributes: a 64-byte record per distinct attribute set,
//     pointing at separately interned AS paths, community lists and rare
//     attributes. Reference counted; freed when the last route and handle
//     let go.
//   - Memory: trie nodes, route words and attribute records are carved
//     from 2 MiB blocks, which the kernel can be asked to back with
//     transparent huge pages (RibOptions::huge_pages); RibStats reports
//     them.
//   - Reclamation: epoch based. Readers and writers announce a read
//     section; memory unlinked by a writer (trie nodes, side entries,
//     attribute records and blobs, peer arrays) is freed only after every
//     section that could have seen it has ended. Freeing is done by
//     writers, opportunistically, after their calls.
//
// Thread-safety summary:
//   - Rib: thread-safe (AddPeer, NewReader, GetStats from any thread).
//   - PeerWriter: one per peer, used by one thread at a time (the peer's
//     session thread). Different peers' writers may run concurrently.
//   - RibReader: one per reader thread; its Section and everything obtained
//     through it (RouteMatch, AttributesView) are valid only on that thread
//     until the Section ends.
//   - AttrHandle: a value; may be copied, moved and destroyed on any
//     thread.
//
// Time: the RIB reads no clock. Graceful restart (RFC 4724) timers belong
// to the session; it calls MarkStale() when the session drops and
// SweepStale() at End-of-RIB or when its restart timer fires.
//
// Known limits: prefixes are never removed from the shared index (a prefix
// no peer has any more costs its index entry, ~9-30 bytes, until the Rib
// is destroyed); reclamation stalls while a reader stays inside a section.

#ifndef FLOWACCT_BGP_RIB_H_
#define FLOWACCT_BGP_RIB_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "flowacct/bgp/path_attributes.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct::bgp {

namespace rib_internal {
class RibCore;
class PeerCore;
struct AttrRecord;
class EpochSlot;
}  // namespace rib_internal

// Names a peer inside one Rib. Ids are small and dense and are reused only
// after a removed peer's memory has been reclaimed.
using PeerId = uint32_t;

struct RibOptions {
  // Peer ids are 0 .. max_peers-1. Each costs 8 bytes up front.
  uint32_t max_peers = 4096;
  // Writers try to free retired memory after this many retirements.
  uint32_t reclaim_every = 256;
  // Ask the kernel to back the RIB's 2 MiB blocks (trie nodes, route
  // words, attribute records) with transparent huge pages
  // (madvise(MADV_HUGEPAGE)), for fewer TLB misses on lookups. Off by
  // default: where the kernel must compact memory to find a free 2 MiB
  // page on first touch (THP "defrag" set to "madvise", a long-running or
  // virtualised host), that took 0.2 CPU-s of a full table's ingest and
  // slowed a second peer's ingest by a third, with no lookup gain
  // measurable on such a host. Where huge pages come cheap, uniform
  // lookups over 20 full tables were 7-34% faster for 0.06 CPU-s more per
  // table (docs/performance.md, "BGP: codec and RIB"). flowacctd:
  // flowacct_rib_huge_pages.
  bool huge_pages = false;
};

struct PeerOptions {
  // For the caller's bookkeeping and stats only.
  std::string name;
};

// One segment of an interned AS path.
struct AsPathSegmentView {
  AsSegmentType type = AsSegmentType::kSequence;
  std::span<const uint32_t> asns;
};

// Read-only view of an interned attribute set. Cheap to copy (one
// pointer). Valid while the read section (or the AttrHandle / PeerWriter
// call) it came from lasts. A default-constructed view is empty: all
// accessors return "absent".
class AttributesView {
 public:
  AttributesView() = default;

  bool valid() const { return rec_ != nullptr; }

  std::optional<Origin> origin() const;
  // NEXT_HOP or the MP_REACH next hop (global for 32-octet IPv6).
  IpAddress next_hop() const;
  std::optional<uint32_t> med() const;
  std::optional<uint32_t> local_pref() const;
  bool atomic_aggregate() const;

  // The neighbour AS: first AS of the first AS_SEQUENCE, 0 when none.
  uint32_t first_as() const;
  // The origin AS: last AS of the last AS_SEQUENCE, 0 when the path ends
  // with an AS_SET or is empty (pmacct's rule).
  uint32_t origin_as() const;
  // All ASNs of all segments, in order.
  std::span<const uint32_t> as_path_asns() const;
  size_t as_path_segment_count() const;
  // REQUIRES: i < as_path_segment_count(). O(i).
  AsPathSegmentView as_path_segment(size_t i) const;

  std::span<const uint32_t> communities() const;              // RFC 1997
  std::span<const uint64_t> ext_communities() const;          // RFC 4360
  std::span<const LargeCommunity> large_communities() const;  // RFC 8092

  // Every attribute as a value (the rare ones too): for dumps and tests.
  // Allocates.
  PathAttributes ToPathAttributes() const;

  // Identity of the interned set: equal views have equal ids while both are
  // valid. Ids are reused after a set is freed.
  uint32_t set_id() const { return id_; }

 private:
  friend class rib_internal::RibCore;
  friend class AttrHandle;
  AttributesView(const rib_internal::AttrRecord* rec, uint32_t id)
      : rec_(rec), id_(id) {}
  const rib_internal::AttrRecord* rec_ = nullptr;
  uint32_t id_ = 0;
};

// A reference to an interned attribute set: what PeerWriter::Intern()
// returns and Announce() takes. Holding it keeps the set alive. Copying
// takes another reference; destruction drops one.
class AttrHandle {
 public:
  AttrHandle() = default;
  AttrHandle(const AttrHandle& other);
  AttrHandle& operator=(const AttrHandle& other);
  AttrHandle(AttrHandle&& other) noexcept;
  AttrHandle& operator=(AttrHandle&& other) noexcept;
  ~AttrHandle();

  bool valid() const { return id_ != 0; }
  uint32_t set_id() const { return id_; }
  // The attributes; valid as long as this handle holds them.
  AttributesView view() const;
  // References currently held on the set (routes + handles): for tests.
  uint32_t ref_count() const;

 private:
  friend class PeerWriter;
  AttrHandle(rib_internal::RibCore* core, uint32_t id) : core_(core), id_(id) {}
  rib_internal::RibCore* core_ = nullptr;
  uint32_t id_ = 0;
};

// What a lookup found.
struct RouteMatch {
  Prefix prefix;          // the peer's longest prefix covering the address
  uint32_t path_id = 0;   // ADD-PATH path id (RFC 7911), 0 without
  RouteDistinguisher rd;  // VPN lookups: the RD asked for
  std::optional<uint32_t> mpls_label;
  bool stale = false;  // marked stale by graceful restart
  AttributesView attributes;
};

struct LookupOptions {
  // kUnicast also falls back to labeled unicast when the peer has no
  // unicast route (as pmacct does). kMplsVpn needs `rd`.
  Safi safi = Safi::kUnicast;
  RouteDistinguisher rd;
  // With ADD-PATH, the path whose next hop equals this address wins (the
  // flow's BGP next hop, pmacct's rule); unset or no match: the first path
  // the peer announced for the prefix.
  IpAddress bgp_next_hop;
};

// One lookup of a batch (RibReader::Section::LookupMany).
struct LookupRequest {
  PeerId peer = 0;
  IpAddress address;
  LookupOptions options;
};

// One route of a peer, as iteration reports it.
struct RouteEntry {
  RouteKey key;
  std::optional<uint32_t> mpls_label;
  bool stale = false;
  AttributesView attributes;
};

// Sizes, by structure. Byte figures count what the RIB allocated (payloads
// and array chunks), not allocator overhead.
struct RibStats {
  uint32_t peers = 0;
  uint64_t prefixes = 0;  // indexed prefixes, all tables
  uint64_t routes = 0;    // (peer, prefix) pairs with a route
  uint64_t paths = 0;     // routes + extra ADD-PATH paths
  uint64_t attribute_sets = 0;
  uint64_t as_paths = 0;
  uint64_t community_sets = 0;
  uint64_t rare_attribute_sets = 0;
  uint64_t index_nodes = 0;

  uint64_t index_node_bytes = 0;     // trie roots + nodes
  uint64_t index_record_bytes = 0;   // per-prefix address/length/parent
  uint64_t route_array_bytes = 0;    // per-peer route words
  uint64_t side_bytes = 0;           // ADD-PATH / label side entries
  uint64_t attribute_set_bytes = 0;  // 64-byte records (slab), ref counts
  uint64_t as_path_bytes = 0;
  uint64_t community_bytes = 0;
  uint64_t rare_attribute_bytes = 0;
  uint64_t intern_table_bytes = 0;  // hash tables of the interners
  uint64_t pending_reclaim = 0;     // retired objects awaiting a grace period
  // The 2 MiB blocks the RIB took from the system for nodes, route words
  // and attribute records, and the part of them not in use (free lists,
  // block tails). Not in total_bytes(): the figures above count what is in
  // use.
  uint64_t arena_reserved_bytes = 0;
  uint64_t arena_idle_bytes = 0;

  uint64_t total_bytes() const {
    return index_node_bytes + index_record_bytes + route_array_bytes +
           side_bytes + attribute_set_bytes + as_path_bytes + community_bytes +
           rare_attribute_bytes + intern_table_bytes;
  }
};

class PeerWriter;
class RibReader;

// The RIB. Owns the shared index, the interned attributes and every peer's
// routes. Must outlive its PeerWriters, RibReaders and AttrHandles.
// Thread-safe.
class Rib {
 public:
  // kInvalidArgument when max_peers is 0 or above 2^20.
  static Result<std::unique_ptr<Rib>> Create(const RibOptions& options);
  ~Rib();
  Rib(const Rib&) = delete;
  Rib& operator=(const Rib&) = delete;

  // Adds a peer with no routes. The returned writer is the only way to
  // change the peer's routes; destroying it removes the peer and all its
  // routes. kResourceExhausted when max_peers peers exist.
  Result<std::unique_ptr<PeerWriter>> AddPeer(const PeerOptions& options);

  // A reader for one thread (registers a reclamation slot).
  std::unique_ptr<RibReader> NewReader() const;

  // A snapshot of sizes (counters read without stopping writers).
  RibStats GetStats() const;

  // Runs pending reclamation (writers do this on their own; useful for
  // tests and before reading stats). Returns the number of objects freed.
  size_t Reclaim();

 private:
  explicit Rib(std::unique_ptr<rib_internal::RibCore> core);
  std::unique_ptr<rib_internal::RibCore> core_;
};

// The write side of one peer. Not thread-safe: one thread at a time (the
// peer's session thread). Calls never block readers; they may briefly wait
// for other writers (index insertion, attribute interning).
class PeerWriter {
 public:
  // Removes the peer: drops all its routes.
  ~PeerWriter();
  PeerWriter(const PeerWriter&) = delete;
  PeerWriter& operator=(const PeerWriter&) = delete;

  PeerId id() const { return id_; }

  // Interns the attributes of one UPDATE; pass the handle to every
  // Announce() of its NLRI. kInvalidArgument for an AS path of more than
  // 65535 ASNs; kResourceExhausted when 2^28 distinct sets exist.
  Result<AttrHandle> Intern(const PathAttributes& attributes);

  // Adds or replaces the route nlri.key with `attributes` (and the NLRI's
  // MPLS label). A re-announcement clears the stale mark. Host bits of the
  // prefix are ignored (cleared). Routes with path id 0 and no label cost
  // one 32-bit word; others live in a side entry (~24 bytes + 16 per path).
  // kInvalidArgument: prefix family does not match key.family.afi, length
  // out of range, unsupported SAFI, invalid handle (default-constructed or
  // from another Rib).
  // kResourceExhausted: the index (2^26 prefixes per table) or the peer's
  // side table is full.
  Status Announce(const Nlri& nlri, const AttrHandle& attributes);
  // Announce() for every NLRI of one UPDATE; stops at the first error.
  Status Announce(std::span<const Nlri> nlri, const AttrHandle& attributes);

  // Removes the route; false when the peer had no such route.
  bool Withdraw(const RouteKey& key);

  // The attributes of this peer's route `key` (exact prefix, path id and
  // RD), as a value; nullopt when it has no such route. What a message log
  // writes for a withdrawal, read before Withdraw(). Allocates.
  std::optional<PathAttributes> Attributes(const RouteKey& key) const;

  // Graceful restart (RFC 4724 §4.2): marks every route of `family` stale.
  // For kMplsVpn all RDs. Returns the number of paths marked.
  size_t MarkStale(const Family& family);
  // Removes the routes of `family` still stale (End-of-RIB, or restart
  // timer expiry). Returns the number of paths removed.
  size_t SweepStale(const Family& family);

  // Removes every route (the peer stays).
  void Clear();

  uint64_t route_count() const;  // prefixes with at least one path
  uint64_t path_count() const;

 private:
  friend class Rib;
  PeerWriter(rib_internal::RibCore* core, PeerId id);
  rib_internal::RibCore* core_;
  PeerId id_;
  rib_internal::EpochSlot* slot_;
};

// The read side for one thread. Not thread-safe; create one per thread.
class RibReader {
 public:
  ~RibReader();
  RibReader(const RibReader&) = delete;
  RibReader& operator=(const RibReader&) = delete;

  // A read section: while it lives, everything it returns stays valid and
  // writers free nothing it may see. Keep sections short (a batch of
  // lookups); a section held forever stops reclamation. Sections of one
  // reader do not nest.
  class Section {
   public:
    ~Section();
    Section(const Section&) = delete;
    Section& operator=(const Section&) = delete;

    // The peer's longest-prefix match for `address`: the longest indexed
    // prefix containing it for which the peer has a route. nullopt when
    // the peer has none (or does not exist). Never blocks.
    std::optional<RouteMatch> Lookup(PeerId peer, const IpAddress& address,
                                     const LookupOptions& options = {}) const;

    // Lookup() for each request: results[i] answers requests[i] (only the
    // first min(sizes) are done). Same answers, faster per lookup when
    // there are many: up to 64 lookups go stage by stage together (index
    // root, trie nodes, route word), each stage prefetching what the next
    // reads for all of them, so their cache misses overlap instead of
    // adding up, and the trie steps have no data-dependent branches
    // (figures in docs/performance.md). Use it for a batch of flow records;
    // it is fastest when a batch asks about one peer's unicast routes.
    // Never blocks.
    void LookupMany(std::span<const LookupRequest> requests,
                    std::span<std::optional<RouteMatch>> results) const;

    // The peer's route `key` exactly (prefix, path id and, for VPN, RD; not
    // a longest-prefix match), nullopt when it has none.
    std::optional<RouteEntry> Find(PeerId peer, const RouteKey& key) const;

    // Calls fn for every path of the peer, all families, in no particular
    // order. Routes changed concurrently may or may not be reported.
    void ForEachRoute(PeerId peer,
                      const std::function<void(const RouteEntry&)>& fn) const;

   private:
    friend class RibReader;
    explicit Section(const RibReader* reader);
    const RibReader* reader_;
  };

  Section Enter() const;

 private:
  friend class Rib;
  RibReader(rib_internal::RibCore* core, rib_internal::EpochSlot* slot);
  rib_internal::RibCore* core_;
  rib_internal::EpochSlot* slot_;
};

}  // namespace flowacct::bgp

#endif  // FLOWACCT_BGP_RIB_H_
