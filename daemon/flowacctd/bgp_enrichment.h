// The BGP/BMP part of flowacctd's enrich step: a BgpCorrelator built from
// the config (nfacctd_as / nfacctd_net, bgp_agent_map or bmp_agent_map,
// bgp_peer_src_as_type, bgp_src_*_type, bgp_peer_src_as_map,
// bgp_src_local_pref_map, bgp_src_med_map, bgp_follow_default,
// bgp_aspath_radius, bgp_*comm_pattern) over the running feeds.

#ifndef FLOWACCT_DAEMON_FLOWACCTD_BGP_ENRICHMENT_H_
#define FLOWACCT_DAEMON_FLOWACCTD_BGP_ENRICHMENT_H_

#include <memory>

#include "flowacct/config/daemon_config.h"
#include "flowacct/enrich/bgp_correlator.h"
#include "flowacct/status.h"

#include "daemon/flowacctd/routing_feeds.h"

namespace flowacct::daemon {

// Null when no feed runs. The fields it fills are those the plugins
// aggregate on (every BGP field when a pre_tag_map may match on them).
// Errors: a bad bgp_agent_map or source map (file:line).
Result<std::shared_ptr<const BgpCorrelator>> BuildBgpCorrelator(
    const DaemonConfig& config, const RoutingFeeds& feeds);

}  // namespace flowacct::daemon

#endif  // FLOWACCT_DAEMON_FLOWACCTD_BGP_ENRICHMENT_H_
