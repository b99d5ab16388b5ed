#include "daemon/flowacctd/bgp_enrichment.h"

#include "flowacct/bgp/speaker.h"
#include "flowacct/bmp/collector.h"
#include "flowacct/model/primitive_registry.h"

namespace flowacct::daemon {
namespace {

// The record fields of every primitive the plugins aggregate on.
FieldSet WantedFields(const DaemonConfig& config) {
  FieldSet wanted;
  const auto registry = PrimitiveRegistry::CreateWithBuiltins();
  for (const PluginConfig& plugin : config.plugins) {
    for (const std::string& name : plugin.aggregate) {
      const PrimitiveInfo* info = registry->Find(name);
      if (info != nullptr && info->field != FlowField::kCount) {
        wanted.set(info->field);
      }
      // Computed, not decoded: the nets and their masks.
      if (name == "src_net" || name == "src_mask") {
        wanted.set(FlowField::kSrcNet);
        wanted.set(FlowField::kSrcMask);
      }
      if (name == "dst_net" || name == "dst_mask") {
        wanted.set(FlowField::kDstNet);
        wanted.set(FlowField::kDstMask);
      }
    }
  }
  if (!config.pre_tag_map.empty()) {
    // The map may match on any BGP-derived key (src_as, comms, local_pref...).
    for (FlowField f :
         {FlowField::kSrcAs, FlowField::kDstAs, FlowField::kPeerSrcAs,
          FlowField::kPeerDstAs, FlowField::kBgpNextHop, FlowField::kStdComm,
          FlowField::kLocalPref, FlowField::kSrcStdComm,
          FlowField::kSrcLocalPref, FlowField::kMplsVpnRd}) {
      wanted.set(f);
    }
  }
  return wanted;
}

}  // namespace

Result<std::shared_ptr<const BgpCorrelator>> BuildBgpCorrelator(
    const DaemonConfig& config, const RoutingFeeds& feeds) {
  if (feeds.rib == nullptr) return std::shared_ptr<const BgpCorrelator>();
  BgpCorrelatorOptions o;
  Result<NetSource> net = ParseNetSource(config.net_source);
  if (!net.ok()) return net.status();
  o.net_source = *net;
  Result<AsSource> as = ParseAsSource(config.as_source);
  if (!as.ok()) return as.status();
  o.as_source = *as;
  const BgpDaemonConfig& b = config.bgp;
  o.peer_src_as_from_bgp = b.peer_src_as_type == "bgp";
  o.src_as_path = b.src_as_path_type == "bgp";
  o.src_std_comm = b.src_std_comm_type == "bgp";
  o.src_ext_comm = b.src_ext_comm_type == "bgp";
  o.src_lrg_comm = b.src_lrg_comm_type == "bgp";
  o.src_local_pref = b.src_local_pref_type == "bgp";
  o.src_med = b.src_med_type == "bgp";
  o.follow_default = b.follow_default;
  o.aspath_radius = b.aspath_radius;
  o.stdcomm_pattern = b.stdcomm_pattern;
  o.extcomm_pattern = b.extcomm_pattern;
  o.lrgcomm_pattern = b.lrgcomm_pattern;
  o.wanted = WantedFields(config);

  // bgp_*_type: map. Loaded here, so SIGUSR2 (which rebuilds the enrich
  // step) reloads them with the other maps.
  BgpSourceMapOptions so;
  so.max_entries = config.maps_entries;
  const struct {
    const std::string& type;
    const std::string& path;
    std::shared_ptr<const BgpSourceMap>* out;
  } source_maps[] = {
      {b.peer_src_as_type, b.peer_src_as_map, &o.peer_src_as_map},
      {b.src_local_pref_type, b.src_local_pref_map, &o.src_local_pref_map},
      {b.src_med_type, b.src_med_map, &o.src_med_map},
  };
  for (const auto& m : source_maps) {
    if (m.type != "map" || m.path.empty()) continue;
    Result<std::shared_ptr<const BgpSourceMap>> map =
        BgpSourceMap::LoadFile(m.path, so);
    if (!map.ok()) return map.status();
    *m.out = std::move(map).value();
  }

  std::shared_ptr<const BgpAgentMap> agents;
  const std::string& agent_file =
      !b.agent_map.empty() ? b.agent_map : config.bmp.agent_map;
  if (!agent_file.empty()) {
    BgpAgentMapOptions mo;
    mo.max_entries = config.maps_entries;
    Result<std::shared_ptr<const BgpAgentMap>> m =
        BgpAgentMap::LoadFile(agent_file, mo);
    if (!m.ok()) return m.status();
    agents = std::move(m).value();
  }
  // BGP sessions answer first; a BMP router's chosen view otherwise
  // (pmacct treats the two as alternative sources).
  bgp::Speaker* speaker = feeds.speaker;
  bmp::Collector* collector = feeds.collector;
  BgpPeerResolver resolver = [speaker, collector](
                                 const IpAddress& address,
                                 uint16_t port) -> std::optional<bgp::PeerId> {
    if (speaker != nullptr) {
      if (std::optional<bgp::PeerId> p = speaker->FindPeer(address, port)) {
        return p;
      }
    }
    if (collector != nullptr) return collector->FindRouterView(address);
    return std::nullopt;
  };
  auto correlator = std::make_shared<const BgpCorrelator>(
      feeds.rib, std::move(resolver), std::move(agents), std::move(o));
  if (!correlator->active()) return std::shared_ptr<const BgpCorrelator>();
  return std::shared_ptr<const BgpCorrelator>(std::move(correlator));
}

}  // namespace flowacct::daemon
