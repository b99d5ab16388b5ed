#include "daemon/flowacctd/views.h"

#include <cctype>
#include <utility>

#include "flowacct/enrich/enricher.h"
#include "flowacct/enrich/networks_file.h"
#include "flowacct/enrich/ports_file.h"
#include "flowacct/enrich/pre_tag_map.h"
#include "flowacct/enrich/sampling_map.h"
#include "flowacct/enrich/tag_filter.h"
#include "flowacct/sink/amqp_sink.h"
#include "flowacct/sink/kafka_sink.h"
#include "flowacct/sink/memory_sink.h"
#include "flowacct/sink/print_sink.h"
#include "flowacct/sink/sql_sink.h"

#include "daemon/flowacctd/bgp_enrichment.h"

namespace flowacct::daemon {
namespace {

// pmacct's default cache sizes (buckets); the aggregator holds up to ten
// entries per bucket before it purges early (pmacct.md §1(h)).
constexpr uint32_t kPrintCacheEntries = 16411;
constexpr uint32_t kSqlCacheEntries = 32771;
constexpr size_t kEntriesPerBucket = 10;

Result<std::unique_ptr<Sink>> CreateSink(const PluginConfig& plugin,
                                         const DaemonConfig& config,
                                         const PrimitiveRegistry& registry) {
  if (plugin.type == "print") {
    Result<PrintSinkOptions> o = PrintSinkOptions::FromConfig(plugin, config);
    if (!o.ok()) return o.status();
    return CreatePrintSink(*o, &registry);
  }
  if (plugin.type == "memory") {
    return CreateMemorySink(MemorySinkOptions::FromConfig(plugin, config),
                            &registry);
  }
  if (plugin.type == "sqlite3" || plugin.type == "mysql" ||
      plugin.type == "pgsql") {
    Result<SqlSinkOptions> o = SqlSinkOptions::FromConfig(plugin, config);
    if (!o.ok()) return o.status();
    return CreateSqlSink(*o, &registry);
  }
  if (plugin.type == "amqp") {
    Result<AmqpSinkOptions> o = AmqpSinkOptions::FromConfig(plugin, config);
    if (!o.ok()) return o.status();
    return CreateAmqpSink(*o, &registry);
  }
  if (plugin.type == "kafka") {
    Result<KafkaSinkOptions> o = KafkaSinkOptions::FromConfig(plugin, config);
    if (!o.ok()) return o.status();
    return CreateKafkaSink(*o, &registry);
  }
  return UnimplementedError("plugin type '" + plugin.type +
                            "' is not implemented");
}

Result<ViewFilter> BuildFilter(const PluginConfig& plugin) {
  Result<TagFilter> tag = TagFilter::Parse(plugin.pre_tag_filter);
  if (!tag.ok()) {
    return InvalidArgumentError("pre_tag_filter[" + plugin.name +
                                "]: " + tag.status().message());
  }
  Result<TagFilter> tag2 = TagFilter::Parse(plugin.pre_tag2_filter);
  if (!tag2.ok()) {
    return InvalidArgumentError("pre_tag2_filter[" + plugin.name +
                                "]: " + tag2.status().message());
  }
  Result<LabelFilter> label = LabelFilter::Parse(plugin.pre_tag_label_filter);
  if (!label.ok()) {
    return InvalidArgumentError("pre_tag_label_filter[" + plugin.name +
                                "]: " + label.status().message());
  }
  if (tag->empty() && tag2->empty() && label->empty()) return ViewFilter();
  return ViewFilter([tag = *tag, tag2 = *tag2, label = *label](
                        const FlowRecord& r, const RecordBatch& batch) {
    if (!tag.empty() && !tag.Matches(r.tag)) return false;
    if (!tag2.empty() && !tag2.Matches(r.tag2)) return false;
    if (!label.empty()) {
      std::string_view l =
          r.has(FlowField::kLabel) ? batch.bytes(r.label) : std::string_view();
      if (!label.Matches(l)) return false;
    }
    return true;
  });
}

}  // namespace

Result<EnrichFunction> BuildEnrichment(const DaemonConfig& config,
                                       const RoutingFeeds& feeds) {
  EnrichOptions o;
  // BGP/BMP: nfacctd_as / nfacctd_net bgp|bmp, bgp_agent_map, bgp_src_*.
  Result<std::shared_ptr<const BgpCorrelator>> bgp =
      BuildBgpCorrelator(config, feeds);
  if (!bgp.ok()) return bgp.status();
  o.bgp = std::move(bgp).value();
  if (!config.pre_tag_map.empty()) {
    PreTagMapOptions mo;
    mo.max_entries = config.maps_entries;
    auto m = PreTagMap::LoadFile(config.pre_tag_map, mo);
    if (!m.ok()) return m.status();
    o.pre_tag_map = std::move(m).value();
  }
  if (!config.sampling_map.empty()) {
    SamplingMapOptions so;
    so.max_entries = config.maps_entries;
    auto m = SamplingMap::LoadFile(config.sampling_map, so);
    if (!m.ok()) return m.status();
    o.sampling_map = std::move(m).value();
  }
  if (!config.networks_file.empty()) {
    auto m = NetworksFile::LoadFile(config.networks_file);
    if (!m.ok()) return m.status();
    o.networks = std::move(m).value();
  }
  if (!config.ports_file.empty()) {
    auto m = PortsFile::LoadFile(config.ports_file);
    if (!m.ok()) return m.status();
    o.ports = std::move(m).value();
  }
  o.renormalize = config.renormalize;
  o.fill_nets = false;
  for (const PluginConfig& plugin : config.plugins) {
    for (const std::string& name : plugin.aggregate) {
      if (name == "src_net" || name == "dst_net" || name == "sum_net") {
        o.fill_nets = true;
      }
    }
  }
  Result<NetSource> net = ParseNetSource(config.net_source);
  if (!net.ok()) return net.status();
  o.net_source = *net;
  Result<AsSource> as = ParseAsSource(config.as_source);
  if (!as.ok()) return as.status();
  o.as_source = *as;
  auto enricher = std::make_shared<const Enricher>(std::move(o));
  return EnrichFunction(
      [enricher](RecordBatch* batch) { enricher->Process(batch); });
}

Result<std::vector<ViewOptions>> BuildViews(const DaemonConfig& config,
                                            const PrimitiveRegistry& registry) {
  std::vector<ViewOptions> views;
  for (const PluginConfig& plugin : config.plugins) {
    ViewOptions v;
    AggregatorOptions& a = v.aggregator;
    a.view = plugin.name;
    for (const std::string& name : plugin.aggregate) {
      std::string lower = name;  // custom names are lower-cased, as pmacct
      for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const PrimitiveInfo* info = registry.Find(lower);
      if (info == nullptr) {
        return InvalidArgumentError(plugin.aggregate_source.ToString() +
                                    ": aggregate[" + plugin.name +
                                    "]: unknown primitive '" + name + "'");
      }
      a.primitives.push_back(info->id);
    }
    a.history = plugin.history;
    a.history_roundoff = plugin.history_roundoff;
    a.bin_by_arrival = config.time_new;
    a.timestamps_secs = config.timestamps_secs;
    const bool sql = plugin.type == "sqlite3" || plugin.type == "mysql" ||
                     plugin.type == "pgsql";
    const uint32_t buckets =
        plugin.cache_entries != 0
            ? plugin.cache_entries
            : (sql ? kSqlCacheEntries : kPrintCacheEntries);
    a.max_entries = size_t{buckets} * kEntriesPerBucket;
    Result<ViewFilter> filter = BuildFilter(plugin);
    if (!filter.ok()) return filter.status();
    v.filter = std::move(filter).value();
    v.refresh_seconds = plugin.refresh_time;
    Result<std::unique_ptr<Sink>> sink = CreateSink(plugin, config, registry);
    if (!sink.ok()) {
      return InvalidArgumentError("plugin " + plugin.type + "[" + plugin.name +
                                  "]: " + sink.status().message());
    }
    v.sink = std::move(sink).value();
    views.push_back(std::move(v));
  }
  return views;
}

Result<std::shared_ptr<AllowListHolder>> AllowListHolder::Load(
    const std::string& path) {
  auto holder = std::make_shared<AllowListHolder>();
  holder->path_ = path;
  Status s = holder->Reload();
  if (!s.ok()) return s;
  return holder;
}

bool AllowListHolder::Allows(const IpAddress& address) const {
  std::shared_ptr<const AllowList> list;
  {
    std::lock_guard<std::mutex> lock(mu_);
    list = list_;
  }
  return list != nullptr && list->Allows(address);
}

Status AllowListHolder::Reload() {
  auto list = AllowList::LoadFile(path_);
  if (!list.ok()) return list.status();
  std::lock_guard<std::mutex> lock(mu_);
  list_ = std::move(list).value();
  return Status::Ok();
}

}  // namespace flowacct::daemon
