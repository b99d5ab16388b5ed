#include "flowacct/enrich/bgp_source_map.h"

#include <vector>

#include "libflowacct/enrich/map_text.h"

namespace flowacct {

using enrich_internal::Cat;
using enrich_internal::LineError;

namespace {

struct Row {
  BgpSourceValue id;
  enrich_internal::ExporterMatch exporter;  // ip, in, out
  std::optional<IpAddress> bgp_nexthop;
  std::optional<uint32_t> peer_dst_as;
  std::optional<MacAddress> src_mac;
  enrich_internal::IfaceMatch vlan;  // same shape: N or -N

  bool NeedsRoute() const {
    return id.from_bgp || bgp_nexthop.has_value() || peer_dst_as.has_value();
  }

  bool Matches(const FlowRecord& r, const BgpSourceRoute& route) const {
    if (!exporter.Matches(r)) return false;
    if (vlan.present &&
        !vlan.Matches(r.in_vlan != 0 ? r.in_vlan : r.out_vlan)) {
      return false;
    }
    if (src_mac && !(r.has(FlowField::kSrcMac) && r.src_mac == *src_mac)) {
      return false;
    }
    if (bgp_nexthop && !(route.found && enrich_internal::UnmapV4(
                                            route.next_hop) == *bgp_nexthop)) {
      return false;
    }
    if (peer_dst_as && !(route.found && route.first_as == *peer_dst_as)) {
      return false;
    }
    return true;
  }
};

constexpr std::string_view kKeys =
    "id, ip, in, out, bgp_nexthop, peer_dst_as, src_mac, vlan";

}  // namespace

struct BgpSourceMap::Impl {
  std::vector<Row> rows;
  bool needs_route = false;
};

BgpSourceMap::BgpSourceMap(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
BgpSourceMap::~BgpSourceMap() = default;

Result<std::shared_ptr<const BgpSourceMap>> BgpSourceMap::Load(
    std::string_view text, std::string_view filename,
    const BgpSourceMapOptions& options) {
  auto impl = std::make_unique<Impl>();
  Status s = enrich_internal::ForEachKeyValueRow(
      text, filename, options.max_row_length, options.max_entries,
      [&](size_t line,
          const std::vector<enrich_internal::KeyValue>& kvs) -> Status {
        auto error = [&](std::string_view msg) {
          return LineError(StatusCode::kInvalidArgument, filename, line, msg);
        };
        // nfacctd drops a row naming a key twice ("Multiple ... clauses");
        // flowacct refuses the file.
        for (size_t i = 0; i < kvs.size(); ++i) {
          if (enrich_internal::RepeatsEarlierKey(kvs, i)) {
            return error(Cat("key '", kvs[i].key, "' given twice"));
          }
        }
        Row row;
        bool has_id = false;
        for (const auto& kv : kvs) {
          if (kv.key == "id") {
            if (kv.value == "bgp") {
              row.id.from_bgp = true;
            } else if (!enrich_internal::ParseUnsigned(kv.value,
                                                       &row.id.value) ||
                       row.id.value == 0) {
              // nfacctd 1.7.7 ignores an id=0 row (a missing id to it);
              // no matching row gives 0 anyway.
              return error(Cat("id='", kv.value,
                               "' is neither 'bgp' nor a number from 1 to "
                               "4294967295"));
            }
            has_id = true;
          } else if (std::string bad; row.exporter.Parse(kv, &bad)) {
            if (!bad.empty()) return error(bad);
          } else if (kv.key == "bgp_nexthop") {
            Result<IpAddress> a = IpAddress::Parse(kv.value);
            if (!a.ok()) {
              return error(
                  Cat("bgp_nexthop='", kv.value, "' is not an IP address"));
            }
            row.bgp_nexthop = enrich_internal::UnmapV4(*a);
          } else if (kv.key == "peer_dst_as") {
            uint32_t as = 0;
            if (!enrich_internal::ParseUnsigned(kv.value, &as)) {
              return error(Cat("peer_dst_as='", kv.value,
                               "' is not an AS number (0..4294967295)"));
            }
            row.peer_dst_as = as;
          } else if (kv.key == "src_mac") {
            MacAddress mac;
            if (!enrich_internal::ParseMac(kv.value, &mac)) {
              return error(Cat("src_mac='", kv.value,
                               "' is not a MAC address (00:11:22:33:44:55)"));
            }
            row.src_mac = mac;
          } else if (kv.key == "vlan") {
            if (!row.vlan.Parse(kv.value) || row.vlan.value > 4095) {
              return error(
                  Cat("vlan='", kv.value, "' is not a VLAN id (0..4095)"));
            }
          } else if (kv.key == "filter") {
            return error(
                Cat("key 'filter' (a BPF expression) is not supported by "
                    "flowacct; match on ",
                    kKeys.substr(4)));
          } else {
            return error(Cat("unknown key '", kv.key, "' (keys: ", kKeys, ")"));
          }
        }
        if (!has_id) return error("row without id (the value to set)");
        if (!row.exporter.has_ip) {
          return error("row without ip (the exporter)");
        }
        impl->needs_route = impl->needs_route || row.NeedsRoute();
        impl->rows.push_back(row);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return std::shared_ptr<const BgpSourceMap>(new BgpSourceMap(std::move(impl)));
}

Result<std::shared_ptr<const BgpSourceMap>> BgpSourceMap::LoadFile(
    const std::string& path, const BgpSourceMapOptions& options) {
  return enrich_internal::LoadMapFile<BgpSourceMap>(path, options);
}

std::optional<BgpSourceValue> BgpSourceMap::Lookup(
    const FlowRecord& record, const BgpSourceRoute& route) const {
  for (const Row& row : impl_->rows) {
    if (row.Matches(record, route)) return row.id;
  }
  return std::nullopt;
}

bool BgpSourceMap::needs_route() const { return impl_->needs_route; }

size_t BgpSourceMap::size() const { return impl_->rows.size(); }

}  // namespace flowacct
