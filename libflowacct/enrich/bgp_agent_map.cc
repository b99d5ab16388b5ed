#include "flowacct/enrich/bgp_agent_map.h"

#include <vector>

#include "libflowacct/enrich/map_text.h"

namespace flowacct {

using enrich_internal::Cat;
using enrich_internal::LineError;

namespace {

struct Row {
  BgpAgent agent;
  enrich_internal::ExporterMatch exporter;
};

}  // namespace

struct BgpAgentMap::Impl {
  std::vector<Row> rows;
};

BgpAgentMap::BgpAgentMap(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BgpAgentMap::~BgpAgentMap() = default;

Result<std::shared_ptr<const BgpAgentMap>> BgpAgentMap::Load(
    std::string_view text, std::string_view filename,
    const BgpAgentMapOptions& options) {
  auto impl = std::make_unique<Impl>();
  Status s = enrich_internal::ForEachKeyValueRow(
      text, filename, options.max_row_length, options.max_entries,
      [&](size_t line,
          const std::vector<enrich_internal::KeyValue>& kvs) -> Status {
        auto error = [&](std::string_view msg) {
          return LineError(StatusCode::kInvalidArgument, filename, line, msg);
        };
        Row row;
        bool has_peer = false;
        for (const auto& kv : kvs) {
          if (kv.key == "bgp_ip" || kv.key == "bmp_ip") {
            Result<IpAddress> a = IpAddress::Parse(kv.value);
            if (!a.ok()) {
              return error(
                  Cat(kv.key, "='", kv.value, "' is not an IP address"));
            }
            row.agent.address = *a;
            has_peer = true;
          } else if (kv.key == "bgp_port") {
            if (!enrich_internal::ParseUnsigned(kv.value, &row.agent.port) ||
                row.agent.port == 0) {
              return error(Cat("bgp_port='", kv.value,
                               "' is not a TCP port (1..65535)"));
            }
          } else if (std::string bad; row.exporter.Parse(kv, &bad)) {
            if (!bad.empty()) return error(bad);
          } else if (kv.key == "filter") {
            return error(
                "key 'filter' (a BPF expression) is not supported by "
                "flowacct; match on ip, in and out");
          } else {
            return error(Cat("unknown key '", kv.key,
                             "' (bgp_agent_map keys: bgp_ip, bmp_ip, "
                             "bgp_port, ip, in, out)"));
          }
        }
        if (!has_peer) return error("row without bgp_ip (the BGP peer)");
        if (!row.exporter.has_ip) {
          return error("row without ip (the exporter)");
        }
        impl->rows.push_back(row);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return std::shared_ptr<const BgpAgentMap>(new BgpAgentMap(std::move(impl)));
}

Result<std::shared_ptr<const BgpAgentMap>> BgpAgentMap::LoadFile(
    const std::string& path, const BgpAgentMapOptions& options) {
  return enrich_internal::LoadMapFile<BgpAgentMap>(path, options);
}

std::optional<BgpAgent> BgpAgentMap::Lookup(const FlowRecord& record) const {
  for (const Row& row : impl_->rows) {
    if (row.exporter.Matches(record)) return row.agent;
  }
  return std::nullopt;
}

size_t BgpAgentMap::size() const { return impl_->rows.size(); }

}  // namespace flowacct
