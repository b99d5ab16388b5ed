#include "flowacct/enrich/bgp_correlator.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "libflowacct/enrich/map_text.h"
#include "libflowacct/model/value_format.h"

namespace flowacct {
namespace {

void PutBe32(uint32_t v, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(v >> 24));
  out->push_back(static_cast<uint8_t>(v >> 16));
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

std::vector<std::string> SplitPatterns(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string p = text.substr(start, comma - start);
    p.erase(0, p.find_first_not_of(" \t"));
    p.erase(p.find_last_not_of(" \t") + 1);
    if (!p.empty()) out.push_back(std::move(p));
    start = comma + 1;
  }
  return out;
}

// A community's text starts with the pattern; '.' matches any character.
bool Matches(std::string_view text, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    if (p.size() > text.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < p.size() && ok; ++i) {
      ok = p[i] == '.' || p[i] == text[i];
    }
    if (ok) return true;
  }
  return false;
}

// The two sides of a record.
struct Side {
  IpAddress* host;
  uint8_t* mask;
  IpAddress* net;
  uint32_t* as;
  FlowField mask_field;
  FlowField net_field;
  FlowField as_field;
};

}  // namespace

struct BgpCorrelator::Impl {
  const bgp::Rib* rib = nullptr;
  BgpPeerResolver resolver;
  std::shared_ptr<const BgpAgentMap> agent_map;
  BgpCorrelatorOptions options;
  std::vector<std::string> std_patterns, ext_patterns, lrg_patterns;

  bool want_dst = false;
  bool want_src = false;
  // The source maps filling a wanted field (null: none or not wanted), and
  // the bgp_*_type: bgp flags they leave (a map wins over its flag).
  const BgpSourceMap* peer_src_as_map = nullptr;
  const BgpSourceMap* src_local_pref_map = nullptr;
  const BgpSourceMap* src_med_map = nullptr;
  bool want_maps = false;        // one of the three is set
  bool maps_need_route = false;  // ... and one needs the source route
  bool peer_src_as_bgp = false;
  bool src_local_pref_bgp = false;
  bool src_med_bgp = false;

  mutable std::mutex readers_mu;
  mutable std::map<std::thread::id, std::unique_ptr<bgp::RibReader>> readers;

  mutable std::atomic<uint64_t> records{0}, no_peer{0}, dst_found{0},
      src_found{0}, followed_default{0};

  bool Wants(FlowField f) const { return options.wanted.has(f); }

  bgp::RibReader* Reader() const {
    std::lock_guard<std::mutex> lock(readers_mu);
    std::unique_ptr<bgp::RibReader>& r = readers[std::this_thread::get_id()];
    if (r == nullptr) r = const_cast<bgp::Rib*>(rib)->NewReader();
    return r.get();
  }

  // `m` (the route of `peer` for `address`), after following default
  // routes (bgp_follow_default): a default route's next hop names the
  // peer to ask next.
  std::optional<bgp::RouteMatch> FollowDefault(
      const bgp::RibReader::Section& section, bgp::PeerId peer,
      const IpAddress& address, const bgp::LookupOptions& lookup,
      std::optional<bgp::RouteMatch> m) const {
    for (uint32_t hop = 0;
         m && m->prefix.length == 0 && hop < options.follow_default; ++hop) {
      std::optional<bgp::PeerId> next = resolver(m->attributes.next_hop(), 0);
      if (!next || *next == peer) break;
      std::optional<bgp::RouteMatch> followed =
          section.Lookup(*next, address, lookup);
      if (!followed) break;
      followed_default.fetch_add(1, std::memory_order_relaxed);
      peer = *next;
      m = followed;
    }
    return m;
  }

  // The RIB lookup options of a record: its BGP next hop (ADD-PATH path
  // choice) and its RD (VPN lookups).
  static bgp::LookupOptions LookupFor(const FlowRecord& r) {
    bgp::LookupOptions lookup;
    if (r.has(FlowField::kBgpNextHop)) lookup.bgp_next_hop = r.bgp_next_hop;
    if (r.has(FlowField::kMplsVpnRd)) {
      std::copy(r.mpls_vpn_rd.begin(), r.mpls_vpn_rd.end(),
                lookup.rd.bytes.begin());
      if (lookup.rd.is_set()) lookup.safi = bgp::Safi::kMplsVpn;
    }
    return lookup;
  }

  ByteRef StorePath(const bgp::AttributesView& a, RecordBatch* batch,
                    std::vector<uint8_t>* scratch) const {
    scratch->clear();
    std::span<const uint32_t> asns = a.as_path_asns();
    if (options.aspath_radius > 0 && asns.size() > options.aspath_radius) {
      asns = asns.first(options.aspath_radius);
    }
    for (uint32_t as : asns) PutBe32(as, scratch);
    return batch->StoreBytes(*scratch);
  }

  ByteRef StoreCommunities(const bgp::AttributesView& a, RecordBatch* batch,
                           std::vector<uint8_t>* scratch,
                           std::string* text) const {
    scratch->clear();
    // nfacctd prints communities sorted and without duplicates, whatever
    // the order on the wire (all three kinds).
    std::vector<uint32_t> sorted(a.communities().begin(),
                                 a.communities().end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (uint32_t c : sorted) {
      if (!std_patterns.empty()) {
        text->clear();
        text->append(std::to_string(c >> 16));
        text->push_back(':');
        text->append(std::to_string(c & 0xffff));
        if (!Matches(*text, std_patterns)) continue;
      }
      PutBe32(c, scratch);
    }
    return batch->StoreBytes(*scratch);
  }

  ByteRef StoreExtCommunities(const bgp::AttributesView& a, RecordBatch* batch,
                              std::vector<uint8_t>* scratch,
                              std::string* text) const {
    scratch->clear();
    std::vector<uint64_t> sorted(a.ext_communities().begin(),
                                 a.ext_communities().end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (uint64_t c : sorted) {
      uint8_t bytes[8];
      for (int i = 0; i < 8; ++i)
        bytes[i] = static_cast<uint8_t>(c >> (56 - 8 * i));
      if (!ext_patterns.empty()) {
        text->clear();
        internal::AppendExtCommunities(std::span<const uint8_t>(bytes, 8),
                                       text);
        if (!Matches(*text, ext_patterns)) continue;
      }
      scratch->insert(scratch->end(), bytes, bytes + 8);
    }
    return batch->StoreBytes(*scratch);
  }

  ByteRef StoreLargeCommunities(const bgp::AttributesView& a,
                                RecordBatch* batch,
                                std::vector<uint8_t>* scratch,
                                std::string* text) const {
    scratch->clear();
    std::vector<bgp::LargeCommunity> sorted(a.large_communities().begin(),
                                            a.large_communities().end());
    const auto key = [](const bgp::LargeCommunity& c) {
      return std::tuple(c.global_admin, c.local1, c.local2);
    };
    std::sort(sorted.begin(), sorted.end(),
              [&](const bgp::LargeCommunity& x, const bgp::LargeCommunity& y) {
                return key(x) < key(y);
              });
    sorted.erase(std::unique(sorted.begin(), sorted.end(),
                             [&](const bgp::LargeCommunity& x,
                                 const bgp::LargeCommunity& y) {
                               return key(x) == key(y);
                             }),
                 sorted.end());
    for (const bgp::LargeCommunity& c : sorted) {
      if (!lrg_patterns.empty()) {
        text->clear();
        text->append(std::to_string(c.global_admin) + ":" +
                     std::to_string(c.local1) + ":" + std::to_string(c.local2));
        if (!Matches(*text, lrg_patterns)) continue;
      }
      PutBe32(c.global_admin, scratch);
      PutBe32(c.local1, scratch);
      PutBe32(c.local2, scratch);
    }
    return batch->StoreBytes(*scratch);
  }

  // Which of a side's values come from the RIB.
  struct FromRib {
    bool net = false;  // net, mask (and, for the destination, peer_dst_ip)
    bool as = false;   // AS, peer AS and the BGP attributes
  };

  // Net and AS of one side from the route (per net_source / as_source).
  // What nfacctd 1.7.7 does (tests/parity/bgp_correlation_test.py): bgp
  // (or bmp) takes the RIB's values, no route giving 0 and 0.0.0.0/0;
  // longest takes them when the RIB's prefix is at least as long as the
  // exported mask (none exported: 0).
  FromRib FillSide(FlowRecord* r, const Side& side,
                   const std::optional<bgp::RouteMatch>& m) const {
    const int exported = r->has(side.mask_field) ? *side.mask : 0;
    const int rib_length = m ? m->prefix.length : -1;
    const bool rib_wins = rib_length >= 0 && rib_length >= exported;
    FromRib from;
    const NetSource ns = options.net_source;
    from.net = ns == NetSource::kBgp || ns == NetSource::kBmp ||
               (ns == NetSource::kLongest && rib_wins);
    if (from.net) {
      const int length = std::max(rib_length, 0);
      *side.net = enrich_internal::MaskAddress(*side.host, length);
      *side.mask = static_cast<uint8_t>(length);
      r->fields.set(side.net_field);
      r->fields.set(side.mask_field);
    }
    const AsSource as = options.as_source;
    from.as = as == AsSource::kBgp || as == AsSource::kBmp ||
              (as == AsSource::kLongest && rib_wins);
    if (from.as) {
      *side.as = m ? m->attributes.origin_as() : 0;
      r->fields.set(side.as_field);
    }
    return from;
  }

  // Whether a record's destination / source is looked up.
  bool LooksUpDst(const FlowRecord& r) const {
    return want_dst && r.dst_host.is_set();
  }
  bool LooksUpSrc(const FlowRecord& r) const {
    return (want_src || maps_need_route) && r.src_host.is_set();
  }

  // peer_src_as, src_local_pref and src_med from the source maps: the
  // first matching row's id, its `bgp` meaning the route's own value; no
  // row: 0. `m`: the source route (null: none, or no BGP peer).
  void ApplyMaps(FlowRecord* r, const bgp::RouteMatch* m) const {
    BgpSourceRoute route;
    if (m != nullptr) {
      route.found = true;
      route.next_hop = m->attributes.next_hop();
      route.first_as = m->attributes.first_as();
    }
    const auto apply = [&](const BgpSourceMap* map, auto bgp_value,
                           uint32_t* out, FlowField field) {
      if (map == nullptr) return;
      std::optional<BgpSourceValue> v = map->Lookup(*r, route);
      *out = !v ? 0 : !v->from_bgp ? v->value : m ? bgp_value() : 0;
      r->fields.set(field);
    };
    apply(
        peer_src_as_map, [&] { return route.first_as; }, &r->peer_src_as,
        FlowField::kPeerSrcAs);
    apply(
        src_local_pref_map,
        [&] { return m->attributes.local_pref().value_or(0); },
        &r->src_local_pref, FlowField::kSrcLocalPref);
    apply(
        src_med_map, [&] { return m->attributes.med().value_or(0); },
        &r->src_med, FlowField::kSrcMed);
  }

  // Fills the record from the routes found for its destination and source
  // (dst_route / src_route: what LookupMany answered with `lookup`, the
  // record's LookupFor() taken before any field changed; used only when
  // LooksUpDst / LooksUpSrc).
  void ApplyOne(FlowRecord* r, RecordBatch* batch,
                const bgp::RibReader::Section& section, bgp::PeerId peer,
                const bgp::LookupOptions& lookup,
                const std::optional<bgp::RouteMatch>& dst_route,
                const std::optional<bgp::RouteMatch>& src_route,
                std::vector<uint8_t>* scratch, std::string* text) const {
    if (LooksUpDst(*r)) {
      std::optional<bgp::RouteMatch> m =
          FollowDefault(section, peer, r->dst_host, lookup, dst_route);
      if (m) dst_found.fetch_add(1, std::memory_order_relaxed);
      const Side dst{&r->dst_host,     &r->dst_mask,        &r->dst_net,
                     &r->dst_as,       FlowField::kDstMask, FlowField::kDstNet,
                     FlowField::kDstAs};
      const FromRib from = FillSide(r, dst, m);
      // peer_dst_ip goes with the net (nfacctd_net), peer_dst_as with the
      // AS (nfacctd_as), as in nfacctd.
      if (from.net && m) {
        r->bgp_next_hop = m->attributes.next_hop();
        r->fields.set(FlowField::kBgpNextHop);
      }
      if (from.as) {
        r->peer_dst_as = m ? m->attributes.first_as() : 0;
        r->fields.set(FlowField::kPeerDstAs);
      }
      // The BGP attributes only when the AS comes from the RIB: nfacctd
      // leaves them empty with nfacctd_as: netflow, and with longest when
      // the exported mask is longer.
      if (m && from.as) {
        const bgp::AttributesView& a = m->attributes;
        if (Wants(FlowField::kAsPath)) {
          r->as_path = StorePath(a, batch, scratch);
          r->fields.set(FlowField::kAsPath);
        }
        if (Wants(FlowField::kStdComm)) {
          r->std_comm = StoreCommunities(a, batch, scratch, text);
          r->fields.set(FlowField::kStdComm);
        }
        if (Wants(FlowField::kExtComm)) {
          r->ext_comm = StoreExtCommunities(a, batch, scratch, text);
          r->fields.set(FlowField::kExtComm);
        }
        if (Wants(FlowField::kLrgComm)) {
          r->lrg_comm = StoreLargeCommunities(a, batch, scratch, text);
          r->fields.set(FlowField::kLrgComm);
        }
        if (Wants(FlowField::kLocalPref)) {
          r->local_pref = a.local_pref().value_or(0);
          r->fields.set(FlowField::kLocalPref);
        }
        if (Wants(FlowField::kMed)) {
          r->med = a.med().value_or(0);
          r->fields.set(FlowField::kMed);
        }
      }
    }
    std::optional<bgp::RouteMatch> m;
    if (LooksUpSrc(*r)) {
      m = FollowDefault(section, peer, r->src_host, lookup, src_route);
      if (m) src_found.fetch_add(1, std::memory_order_relaxed);
    }
    if (want_src && r->src_host.is_set()) {
      const Side src{&r->src_host,     &r->src_mask,        &r->src_net,
                     &r->src_as,       FlowField::kSrcMask, FlowField::kSrcNet,
                     FlowField::kSrcAs};
      const FromRib from = FillSide(r, src, m);
      // Like the destination: peer_src_as and the src_* attributes only
      // when the source AS comes from the RIB.
      if (peer_src_as_bgp && from.as) {
        r->peer_src_as = m ? m->attributes.first_as() : 0;
        r->fields.set(FlowField::kPeerSrcAs);
      }
      if (m && from.as) {
        const bgp::AttributesView& a = m->attributes;
        if (options.src_as_path && Wants(FlowField::kSrcAsPath)) {
          r->src_as_path = StorePath(a, batch, scratch);
          r->fields.set(FlowField::kSrcAsPath);
        }
        if (options.src_std_comm && Wants(FlowField::kSrcStdComm)) {
          r->src_std_comm = StoreCommunities(a, batch, scratch, text);
          r->fields.set(FlowField::kSrcStdComm);
        }
        if (options.src_ext_comm && Wants(FlowField::kSrcExtComm)) {
          r->src_ext_comm = StoreExtCommunities(a, batch, scratch, text);
          r->fields.set(FlowField::kSrcExtComm);
        }
        if (options.src_lrg_comm && Wants(FlowField::kSrcLrgComm)) {
          r->src_lrg_comm = StoreLargeCommunities(a, batch, scratch, text);
          r->fields.set(FlowField::kSrcLrgComm);
        }
        if (src_local_pref_bgp && Wants(FlowField::kSrcLocalPref)) {
          r->src_local_pref = a.local_pref().value_or(0);
          r->fields.set(FlowField::kSrcLocalPref);
        }
        if (src_med_bgp && Wants(FlowField::kSrcMed)) {
          r->src_med = a.med().value_or(0);
          r->fields.set(FlowField::kSrcMed);
        }
      }
    }
    if (want_maps) ApplyMaps(r, m ? &*m : nullptr);
  }
};

BgpCorrelator::BgpCorrelator(const bgp::Rib* rib, BgpPeerResolver resolver,
                             std::shared_ptr<const BgpAgentMap> agent_map,
                             BgpCorrelatorOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.rib = rib;
  s.resolver = std::move(resolver);
  s.agent_map = std::move(agent_map);
  s.options = std::move(options);
  s.std_patterns = SplitPatterns(s.options.stdcomm_pattern);
  s.ext_patterns = SplitPatterns(s.options.extcomm_pattern);
  s.lrg_patterns = SplitPatterns(s.options.lrgcomm_pattern);
  const auto rib_source = [](auto src) {
    return src == decltype(src)::kBgp || src == decltype(src)::kBmp ||
           src == decltype(src)::kLongest;
  };
  const FieldSet& w = s.options.wanted;
  const bool as_rib = rib_source(s.options.as_source);
  const bool net_rib = rib_source(s.options.net_source);
  // The BGP attributes and peer ASes need the AS from the RIB; with
  // longest, the mask fields decide whether it does, so they count too.
  s.want_dst =
      (as_rib && (w.has(FlowField::kDstAs) || w.has(FlowField::kPeerDstAs) ||
                  w.has(FlowField::kAsPath) || w.has(FlowField::kStdComm) ||
                  w.has(FlowField::kExtComm) || w.has(FlowField::kLrgComm) ||
                  w.has(FlowField::kLocalPref) || w.has(FlowField::kMed))) ||
      (net_rib && (w.has(FlowField::kDstNet) || w.has(FlowField::kDstMask) ||
                   w.has(FlowField::kBgpNextHop)));
  const BgpCorrelatorOptions& o = s.options;
  // A source map wins over its bgp_*_type: bgp flag; it fills its field
  // only when some view wants it.
  const auto map_for = [&](const std::shared_ptr<const BgpSourceMap>& map,
                           FlowField field) -> const BgpSourceMap* {
    return map != nullptr && w.has(field) ? map.get() : nullptr;
  };
  s.peer_src_as_map = map_for(o.peer_src_as_map, FlowField::kPeerSrcAs);
  s.src_local_pref_map =
      map_for(o.src_local_pref_map, FlowField::kSrcLocalPref);
  s.src_med_map = map_for(o.src_med_map, FlowField::kSrcMed);
  for (const BgpSourceMap* map :
       {s.peer_src_as_map, s.src_local_pref_map, s.src_med_map}) {
    s.want_maps = s.want_maps || map != nullptr;
    s.maps_need_route =
        s.maps_need_route || (map != nullptr && map->needs_route());
  }
  s.peer_src_as_bgp = o.peer_src_as_from_bgp && o.peer_src_as_map == nullptr;
  s.src_local_pref_bgp = o.src_local_pref && o.src_local_pref_map == nullptr;
  s.src_med_bgp = o.src_med && o.src_med_map == nullptr;
  s.want_src =
      (net_rib && (w.has(FlowField::kSrcNet) || w.has(FlowField::kSrcMask))) ||
      (as_rib && (w.has(FlowField::kSrcAs) ||
                  (s.peer_src_as_bgp && w.has(FlowField::kPeerSrcAs)) ||
                  (o.src_as_path && w.has(FlowField::kSrcAsPath)) ||
                  (o.src_std_comm && w.has(FlowField::kSrcStdComm)) ||
                  (o.src_ext_comm && w.has(FlowField::kSrcExtComm)) ||
                  (o.src_lrg_comm && w.has(FlowField::kSrcLrgComm)) ||
                  (s.src_local_pref_bgp && w.has(FlowField::kSrcLocalPref)) ||
                  (s.src_med_bgp && w.has(FlowField::kSrcMed))));
}

BgpCorrelator::~BgpCorrelator() = default;

bool BgpCorrelator::active() const {
  return impl_->rib != nullptr &&
         (impl_->want_dst || impl_->want_src || impl_->want_maps);
}

const BgpCorrelatorOptions& BgpCorrelator::options() const {
  return impl_->options;
}

BgpCorrelator::Stats BgpCorrelator::stats() const {
  Stats s;
  s.records = impl_->records.load(std::memory_order_relaxed);
  s.no_peer = impl_->no_peer.load(std::memory_order_relaxed);
  s.dst_found = impl_->dst_found.load(std::memory_order_relaxed);
  s.src_found = impl_->src_found.load(std::memory_order_relaxed);
  s.followed_default = impl_->followed_default.load(std::memory_order_relaxed);
  return s;
}

void BgpCorrelator::Apply(RecordBatch* batch, size_t begin, size_t end) const {
  const Impl& s = *impl_;
  if (!active() || begin >= end) return;
  bgp::RibReader* reader = s.Reader();
  // Exporter -> peer, per call (a batch holds few exporters; the resolver
  // takes a lock).
  struct Cached {
    IpAddress address;
    uint16_t port;
    std::optional<bgp::PeerId> peer;
  };
  std::vector<Cached> cache;
  std::vector<uint8_t> scratch;
  std::string text;
  uint64_t records = 0, no_peer = 0;
  // Records go in chunks: first every RIB lookup of the chunk in one
  // LookupMany (their cache misses overlap), then each record is filled.
  constexpr size_t kChunk = 64;
  struct Pending {
    FlowRecord* record;
    bgp::PeerId peer;
    bgp::LookupOptions lookup;
    int dst = -1;  // index into requests / routes, -1: no lookup
    int src = -1;
  };
  std::vector<Pending> pending;
  std::vector<bgp::LookupRequest> requests;
  std::vector<std::optional<bgp::RouteMatch>> routes;
  pending.reserve(kChunk);
  requests.reserve(2 * kChunk);
  const std::optional<bgp::RouteMatch> none;
  bgp::RibReader::Section section = reader->Enter();
  const auto flush = [&] {
    routes.resize(requests.size());
    section.LookupMany(requests, routes);
    for (const Pending& p : pending) {
      s.ApplyOne(p.record, batch, section, p.peer, p.lookup,
                 p.dst >= 0 ? routes[p.dst] : none,
                 p.src >= 0 ? routes[p.src] : none, &scratch, &text);
    }
    pending.clear();
    requests.clear();
  };
  for (size_t i = begin; i < end; ++i) {
    FlowRecord* r = &batch->records()[i];
    if (r->kind == RecordKind::kOptions) continue;
    ++records;
    IpAddress address = enrich_internal::UnmapV4(r->exporter);
    uint16_t port = 0;
    if (s.agent_map != nullptr) {
      if (std::optional<BgpAgent> agent = s.agent_map->Lookup(*r)) {
        address = agent->address;
        port = agent->port;
      }
    }
    const Cached* hit = nullptr;
    for (const Cached& c : cache) {
      if (c.address == address && c.port == port) hit = &c;
    }
    if (hit == nullptr) {
      cache.push_back({address, port, s.resolver(address, port)});
      hit = &cache.back();
    }
    if (!hit->peer) {
      ++no_peer;
      // The maps still apply; rows needing a route do not match.
      if (s.want_maps) s.ApplyMaps(r, nullptr);
      continue;
    }
    Pending p{r, *hit->peer, Impl::LookupFor(*r)};
    if (s.LooksUpDst(*r)) {
      p.dst = static_cast<int>(requests.size());
      requests.push_back({p.peer, r->dst_host, p.lookup});
    }
    if (s.LooksUpSrc(*r)) {
      p.src = static_cast<int>(requests.size());
      requests.push_back({p.peer, r->src_host, p.lookup});
    }
    pending.push_back(p);
    if (pending.size() == kChunk) flush();
  }
  if (!pending.empty()) flush();
  s.records.fetch_add(records, std::memory_order_relaxed);
  s.no_peer.fetch_add(no_peer, std::memory_order_relaxed);
}

}  // namespace flowacct
