// File: flowacct/enrich/bgp_correlator.h
//
// BgpCorrelator: the step that gives flow records their BGP view — what
// pmacct does with bgp_daemon (or bmp_daemon) and nfacctd_as / nfacctd_net:
// bgp. For each record it finds the BGP peer that speaks for the record's
// exporter, then the peer's routes towards the destination and the source
// addresses, and fills the primitives from them:
//
//   destination route  dst_as (origin AS), peer_dst_as (neighbour AS),
//                      peer_dst_ip (BGP next hop), as_path, std_comm,
//                      ext_comm, lrg_comm, local_pref, med, dst_net/dst_mask
//   source route       src_as, peer_src_as (bgp_peer_src_as_type: bgp),
//                      src_as_path, src_std_comm, src_ext_comm,
//                      src_lrg_comm, src_local_pref, src_med
//                      (bgp_src_*_type: bgp), src_net/src_mask
//   source maps        peer_src_as, src_local_pref, src_med
//                      (bgp_*_type: map; flowacct/enrich/bgp_source_map.h)
//
// Rules (pmacct's, see docs/bgp.md):
//   - The peer: bgp_agent_map's row for the exporter, else the exporter's
//     own address, resolved by the PeerResolver (a BGP session's address or
//     router id, or a BMP router). No peer: the record is left as exported.
//   - Verified against nfacctd 1.7.7 (tests/parity/bgp_correlation_test.py,
//     docs/pmacct-parity.md "BGP correlation"). Per side, the AS comes
//     from the RIB when nfacctd_as is bgp (no route: 0), or longest and
//     the RIB's prefix is at least as long as the exported mask; the net
//     and mask likewise with nfacctd_net (no route: 0.0.0.0/0).
//   - peer_dst_as, peer_src_as (bgp_peer_src_as_type: bgp) and the BGP
//     attributes (as_path, communities, local_pref, med, and the src_*
//     ones with bgp_src_*_type: bgp) are filled only on a side whose AS
//     comes from the RIB: with nfacctd_as netflow they stay as exported
//     (empty). peer_dst_ip (the route's next hop) goes with the net.
//     as_path is cut to bgp_aspath_radius ASNs; communities are sorted,
//     without duplicates, and kept only when they match a
//     bgp_*comm_pattern (when one is set). A default route is a route.
//   - With a source map (peer_src_as_map, src_local_pref_map,
//     src_med_map) its first matching row sets the value on every record,
//     whatever nfacctd_as says and whether or not the exporter has a BGP
//     peer; no row: 0. `id=bgp` rows take the source route's value
//     (neighbour AS, LOCAL_PREF, MED; no route: 0). The source address is
//     looked up when a row needs its route (bgp_nexthop, peer_dst_as, bgp).
//   - The lookup: the flow's BGP next hop picks among ADD-PATH paths; a
//     record carrying an RD (mplsVpnRouteDistinguisher) looks in the VPN
//     table; a default route (0/0 or ::/0) is followed to the peer named
//     by its next hop, bgp_follow_default times at most.
//
// Only the fields in `wanted` are computed: lookups and copies cost, and a
// view that aggregates on none of them pays nothing.
//
// Thread-safety: immutable after construction; Apply may run concurrently
// from many threads (each thread gets its own RibReader, created on first
// use). The Rib and the resolver's owner must outlive the correlator.

#ifndef FLOWACCT_ENRICH_BGP_CORRELATOR_H_
#define FLOWACCT_ENRICH_BGP_CORRELATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flowacct/bgp/rib.h"
#include "flowacct/enrich/bgp_agent_map.h"
#include "flowacct/enrich/bgp_source_map.h"
#include "flowacct/enrich/networks_file.h"
#include "flowacct/model/flow_record.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/status.h"

namespace flowacct {

// Finds the RIB view for a BGP peer (session address or router id; port 0:
// any) — bgp::Speaker::FindPeer — or for a BMP router —
// bmp::Collector::FindRouterView. Called from any thread.
using BgpPeerResolver =
    std::function<std::optional<bgp::PeerId>(const IpAddress&, uint16_t)>;

struct BgpCorrelatorOptions {
  NetSource net_source = NetSource::kNetflow;  // nfacctd_net
  AsSource as_source = AsSource::kNetflow;     // nfacctd_as
  bool peer_src_as_from_bgp = false;           // bgp_peer_src_as_type: bgp
  // bgp_src_{as_path,std_comm,ext_comm,lrg_comm,local_pref,med}_type: bgp
  bool src_as_path = false;
  bool src_std_comm = false;
  bool src_ext_comm = false;
  bool src_lrg_comm = false;
  bool src_local_pref = false;
  bool src_med = false;
  // bgp_peer_src_as_type / bgp_src_local_pref_type / bgp_src_med_type: map,
  // with bgp_peer_src_as_map / bgp_src_local_pref_map / bgp_src_med_map.
  // Null: no map. A map replaces the matching `bgp` flag above (the map
  // wins when both are set).
  std::shared_ptr<const BgpSourceMap> peer_src_as_map;
  std::shared_ptr<const BgpSourceMap> src_local_pref_map;
  std::shared_ptr<const BgpSourceMap> src_med_map;
  uint32_t follow_default = 0;  // bgp_follow_default
  uint32_t aspath_radius = 0;   // bgp_aspath_radius; 0: whole path
  // bgp_stdcomm_pattern / bgp_extcomm_pattern / bgp_lrgcomm_pattern:
  // comma-separated patterns; a community is kept when its text starts
  // with one of them, '.' matching any one character ("65000:." keeps
  // 65000:1 .. 65000:9 and 65000:10...). Empty: keep all.
  std::string stdcomm_pattern;
  std::string extcomm_pattern;
  std::string lrgcomm_pattern;
  // The fields any view (or the pre_tag_map) uses; nothing else is looked
  // up or filled.
  FieldSet wanted;
};

class BgpCorrelator {
 public:
  // `rib` is borrowed. `agent_map` may be null.
  BgpCorrelator(const bgp::Rib* rib, BgpPeerResolver resolver,
                std::shared_ptr<const BgpAgentMap> agent_map,
                BgpCorrelatorOptions options);
  ~BgpCorrelator();
  BgpCorrelator(const BgpCorrelator&) = delete;
  BgpCorrelator& operator=(const BgpCorrelator&) = delete;

  // Looks up and fills the records [begin, end) of `batch` (options records
  // are skipped). Values such as AS paths go to the batch's arena.
  void Apply(RecordBatch* batch, size_t begin, size_t end) const;

  // True when the options make Apply do anything at all.
  bool active() const;
  const BgpCorrelatorOptions& options() const;

  // Counters since creation (relaxed; for /metrics).
  struct Stats {
    uint64_t records = 0;         // records looked at
    uint64_t no_peer = 0;         // exporter with no BGP/BMP view
    uint64_t dst_found = 0;       // destination route found
    uint64_t src_found = 0;       // source route found
    uint64_t followed_default = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_BGP_CORRELATOR_H_
