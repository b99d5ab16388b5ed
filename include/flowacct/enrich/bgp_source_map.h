// File: flowacct/enrich/bgp_source_map.h
//
// BgpSourceMap: pmacct's bgp_peer_src_as_map, bgp_src_local_pref_map and
// bgp_src_med_map — one map type for the three files. Each says what a
// flow's source-side value is (the neighbour AS traffic came in from, its
// local preference, its MED) when a RIB lookup of the source address
// cannot tell: the traffic is not symmetric, the peering is an IXP or a
// private interconnect. Used with `bgp_peer_src_as_type: map`,
// `bgp_src_local_pref_type: map`, `bgp_src_med_type: map`.
//
// Rows of `key=value` pairs, first match wins:
//
//   ! private peering with AS 12345 on router 192.0.2.1, ifIndex 7
//   id=12345  ip=192.0.2.1    in=7
//   ! an IXP port: who sent it, told by the source route's BGP next hop
//   ! (or its neighbour AS), else the exchange's own AS
//   id=34567  ip=192.0.2.2    in=9  bgp_nexthop=198.51.100.1
//   id=45678  ip=192.0.2.2    in=9  peer_dst_as=64510
//   id=64999  ip=192.0.2.2    in=9
//   ! ... or by the source MAC address and VLAN
//   id=56789  ip=192.0.2.2    in=9  src_mac=00:11:22:33:44:55 vlan=100
//   ! everything else on 10.0.0.0/8 routers: ask the RIB
//   id=bgp    ip=10.0.0.0/8
//
// SET `id`: the value (1..4294967295: an ASN, a local preference, a MED;
// nfacctd ignores id=0 rows, flowacct refuses them) or `bgp`: the value of
// the source address's route in the exporter's RIB, as `bgp_*_type: bgp`
// would give it (0 without a route or without a BGP peer for the
// exporter).
//
// MATCH (all given keys must match; `ip` is required, as in nfacctd 1.7.7):
//   ip           the exporter (peer_src_ip): address or prefix
//   in, out      input / output interface index; `-N` negates
//   bgp_nexthop  the BGP next hop of the source address's route (RPF-like:
//                the RIB's, not the flow's own next hop); IPv4 or IPv6
//   peer_dst_as  the first ASN of that route's AS path
//   src_mac      the flow's source MAC address (IE 56; a record without
//                one matches no src_mac row)
//   vlan         the flow's VLAN (IE 58; IE 59 when 58 is 0; none: 0);
//                `-N` negates
// Rows with bgp_nexthop or peer_dst_as never match a record that has no
// source route. pmacct's `filter` (a BPF expression) is not supported:
// such a row is an error naming it.
//
// No matching row: the value is 0 (nfacctd 1.7.7 does the same). The map
// applies whatever nfacctd_as says, also to exporters without a BGP peer
// (only `bgp` values and route matches need one). docs/bgp.md tells the
// whole story, docs/pmacct-parity.md §15 the differences from nfacctd.
//
// Thread-safety: immutable after Load; const methods are safe concurrently.

#ifndef FLOWACCT_ENRICH_BGP_SOURCE_MAP_H_
#define FLOWACCT_ENRICH_BGP_SOURCE_MAP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct {

struct BgpSourceMapOptions {
  uint32_t max_entries = 384;     // maps_entries
  uint32_t max_row_length = 256;  // maps_row_len
};

// What the RIB says about a flow's source address, for the bgp_nexthop and
// peer_dst_as columns. `found` false: no route (or no BGP peer).
struct BgpSourceRoute {
  bool found = false;
  IpAddress next_hop;     // the route's BGP next hop
  uint32_t first_as = 0;  // first ASN of its AS path; 0: empty path
};

// The `id` of the row that matched.
struct BgpSourceValue {
  bool from_bgp = false;  // id=bgp: take the source route's own value
  uint32_t value = 0;     // the value, when !from_bgp
  friend bool operator==(const BgpSourceValue&,
                         const BgpSourceValue&) = default;
};

class BgpSourceMap {
 public:
  // Errors ("<filename>:<line>: ..."): kInvalidArgument (syntax, unknown,
  // unsupported or repeated key, missing id or ip, bad value, overlong
  // line), kResourceExhausted (more than max_entries rows).
  static Result<std::shared_ptr<const BgpSourceMap>> Load(
      std::string_view text, std::string_view filename,
      const BgpSourceMapOptions& options = {});
  // Errors: kIoError if `path` cannot be read, else as Load.
  static Result<std::shared_ptr<const BgpSourceMap>> LoadFile(
      const std::string& path, const BgpSourceMapOptions& options = {});

  // The `id` of the first row matching the record and its source route;
  // nullopt when no row matches (the caller's value is then 0).
  std::optional<BgpSourceValue> Lookup(const FlowRecord& record,
                                       const BgpSourceRoute& route) const;

  // Whether some row needs the source route: it matches on bgp_nexthop or
  // peer_dst_as, or its id is `bgp`. When false, Lookup ignores `route`
  // and the caller may skip the RIB lookup.
  bool needs_route() const;

  size_t size() const;

  ~BgpSourceMap();
  BgpSourceMap(const BgpSourceMap&) = delete;
  BgpSourceMap& operator=(const BgpSourceMap&) = delete;

 private:
  struct Impl;
  explicit BgpSourceMap(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_BGP_SOURCE_MAP_H_
