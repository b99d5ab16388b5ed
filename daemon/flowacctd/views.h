// From DaemonConfig to pipeline pieces: the enrich step (maps), one view
// per plugin (aggregator options, filters, sink), and allow lists that can be
// reloaded in place.

#ifndef FLOWACCT_DAEMON_FLOWACCTD_VIEWS_H_
#define FLOWACCT_DAEMON_FLOWACCTD_VIEWS_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flowacct/config/daemon_config.h"
#include "flowacct/enrich/allow_list.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/pipeline/pipeline.h"
#include "flowacct/status.h"

#include "daemon/flowacctd/routing_feeds.h"

namespace flowacct::daemon {

// Loads pre_tag_map, sampling_map, networks_file and ports_file and returns
// the enrich step for the pipeline (errors name file:line). `feeds`: the
// BGP/BMP RIB, speaker and collector (null members when off), for
// nfacctd_as / nfacctd_net: bgp|bmp and bgp_agent_map; they outlive the
// returned function.
Result<EnrichFunction> BuildEnrichment(const DaemonConfig& config,
                                       const RoutingFeeds& feeds = {});

// One view per plugin, with its sink. Unknown primitives in `aggregate` are
// errors naming the config line.
Result<std::vector<ViewOptions>> BuildViews(const DaemonConfig& config,
                                            const PrimitiveRegistry& registry);

// A *_allow_file that SIGUSR2 reloads. Thread-safety: Allows may be called
// from the receiving thread while Reload runs in the main thread.
class AllowListHolder {
 public:
  static Result<std::shared_ptr<AllowListHolder>> Load(const std::string& path);
  bool Allows(const IpAddress& address) const;
  Status Reload();

 private:
  std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const AllowList> list_;
};

}  // namespace flowacct::daemon

#endif  // FLOWACCT_DAEMON_FLOWACCTD_VIEWS_H_
