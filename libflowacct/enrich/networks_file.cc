#include "flowacct/enrich/networks_file.h"

#include <vector>

#include "libflowacct/enrich/map_text.h"

namespace flowacct {

using enrich_internal::LineError;

Result<NetSource> ParseNetSource(std::string_view text) {
  if (text == "netflow" || text == "sflow") return NetSource::kNetflow;
  if (text == "mask") return NetSource::kMask;
  if (text == "file") return NetSource::kFile;
  if (text == "longest") return NetSource::kLongest;
  if (text == "bgp") return NetSource::kBgp;
  if (text == "bmp") return NetSource::kBmp;
  if (text == "igp" || text == "bgp-ls") {
    return UnimplementedError(
        enrich_internal::Cat("net source '", text,
                             "' needs routing correlation, not supported yet"));
  }
  return InvalidArgumentError(enrich_internal::Cat(
      "net source '", text,
      "': expected netflow, sflow, mask, file, longest, bgp or bmp"));
}

Result<AsSource> ParseAsSource(std::string_view text) {
  if (text == "netflow" || text == "sflow") return AsSource::kNetflow;
  if (text == "file") return AsSource::kFile;
  if (text == "longest") return AsSource::kLongest;
  if (text == "bgp") return AsSource::kBgp;
  if (text == "bmp") return AsSource::kBmp;
  if (text == "igp" || text == "bgp-ls") {
    return UnimplementedError(enrich_internal::Cat(
        "AS source '", text, "' needs routing correlation, not supported yet"));
  }
  return InvalidArgumentError(enrich_internal::Cat(
      "AS source '", text,
      "': expected netflow, sflow, file, longest, bgp or bmp"));
}

struct NetworksFile::Impl {
  enrich_internal::PrefixTable<NetworksEntry> table;
};

NetworksFile::NetworksFile(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
NetworksFile::~NetworksFile() = default;

namespace {

// "<origin>" or "<peer>_<origin>".
bool ParseAsColumn(std::string_view text, NetworksEntry* entry) {
  const size_t underscore = text.find('_');
  if (underscore == std::string_view::npos) {
    return enrich_internal::ParseUnsigned(text, &entry->origin_as);
  }
  return enrich_internal::ParseUnsigned(text.substr(0, underscore),
                                        &entry->peer_as) &&
         enrich_internal::ParseUnsigned(text.substr(underscore + 1),
                                        &entry->origin_as);
}

}  // namespace

Result<std::shared_ptr<const NetworksFile>> NetworksFile::Load(
    std::string_view text, std::string_view filename) {
  auto impl = std::make_unique<Impl>();
  Status s = enrich_internal::ForEachLine(
      text, filename, enrich_internal::kDefaultMaxRowLength,
      [&](size_t line, std::string_view row) -> Status {
        auto error = [&](std::string_view msg) {
          return LineError(StatusCode::kInvalidArgument, filename, line, msg);
        };
        std::string_view columns[5];
        size_t count = 0;
        size_t pos = 0;
        while (true) {
          const size_t comma = row.find(',', pos);
          if (count == 4) {
            return error("too many columns (at most label,nexthop,AS,prefix)");
          }
          columns[count++] = row.substr(pos, comma == std::string_view::npos
                                                 ? std::string_view::npos
                                                 : comma - pos);
          if (comma == std::string_view::npos) break;
          pos = comma + 1;
        }
        NetworksEntry entry;
        // The last column is the prefix; before it, from the right: AS,
        // nexthop, label.
        std::string_view prefix_text = columns[count - 1];
        if (prefix_text.find('/') == std::string_view::npos) {
          return error(enrich_internal::Cat(
              "'", prefix_text, "' is not a prefix (<network>/<length>)"));
        }
        std::optional<Prefix> prefix =
            enrich_internal::ParsePrefix(prefix_text);
        if (!prefix) {
          return error(
              enrich_internal::Cat("'", prefix_text, "' is not a prefix"));
        }
        entry.prefix = *prefix;
        if (count >= 2 && !columns[count - 2].empty() &&
            !ParseAsColumn(columns[count - 2], &entry)) {
          return error(enrich_internal::Cat(
              "'", columns[count - 2],
              "' is not <origin AS> or <peer AS>_<origin AS>"));
        }
        if (count >= 3 && !columns[count - 3].empty()) {
          Result<IpAddress> nexthop = IpAddress::Parse(columns[count - 3]);
          if (!nexthop.ok()) {
            return error(enrich_internal::Cat(
                "'", columns[count - 3], "' is not a next-hop IP address"));
          }
          entry.nexthop = *nexthop;
        }
        // columns[0] of a 4-column row is the label: accepted, not used.
        impl->table.Insert(entry.prefix, entry);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  impl->table.Build();
  return std::shared_ptr<const NetworksFile>(new NetworksFile(std::move(impl)));
}

Result<std::shared_ptr<const NetworksFile>> NetworksFile::LoadFile(
    const std::string& path) {
  return enrich_internal::LoadMapFile<NetworksFile>(path);
}

const NetworksEntry* NetworksFile::Lookup(const IpAddress& address) const {
  return impl_->table.Lookup(address);
}

size_t NetworksFile::size() const { return impl_->table.size(); }

namespace {

IpAddress ZeroOfFamily(const IpAddress& a) {
  return enrich_internal::MaskAddress(a, 0);
}

struct Side {
  FlowField host_field, mask_field, net_field, as_field;
  const IpAddress* host;
  uint8_t* mask;
  IpAddress* net;
  uint32_t* as;
};

}  // namespace

void FillNetsFromMasks(FlowRecord* r) {
  if (r->src_host.is_set()) {
    r->src_net = enrich_internal::MaskAddress(
        r->src_host, r->has(FlowField::kSrcMask) ? r->src_mask : 0);
    r->fields.set(FlowField::kSrcNet);
  }
  if (r->dst_host.is_set()) {
    r->dst_net = enrich_internal::MaskAddress(
        r->dst_host, r->has(FlowField::kDstMask) ? r->dst_mask : 0);
    r->fields.set(FlowField::kDstNet);
  }
}

void NetworksFile::Apply(FlowRecord* r, NetSource net_source,
                         AsSource as_source) const {
  Side sides[2] = {
      {FlowField::kSrcHost, FlowField::kSrcMask, FlowField::kSrcNet,
       FlowField::kSrcAs, &r->src_host, &r->src_mask, &r->src_net, &r->src_as},
      {FlowField::kDstHost, FlowField::kDstMask, FlowField::kDstNet,
       FlowField::kDstAs, &r->dst_host, &r->dst_mask, &r->dst_net, &r->dst_as},
  };
  for (int i = 0; i < 2; ++i) {
    const Side& side = sides[i];
    if (!side.host->is_set()) continue;
    int file_length = 0;
    const NetworksEntry* entry = impl_->table.Lookup(*side.host, &file_length);
    const int exported_length = r->has(side.mask_field) ? *side.mask : 0;
    // Does the file win for this side?
    const bool longest_file = entry != nullptr && file_length > exported_length;

    bool net_from_file = false;
    switch (net_source) {
      case NetSource::kNetflow:
      case NetSource::kMask:
      case NetSource::kBgp:  // the RIB step decides (bgp_correlator.h)
      case NetSource::kBmp:
        break;
      case NetSource::kFile:
        net_from_file = true;
        break;
      case NetSource::kLongest:
        net_from_file = longest_file;
        break;
    }
    if (net_from_file) {
      if (entry != nullptr) {
        *side.net = entry->prefix.address;
        *side.mask = entry->prefix.length;
      } else {
        *side.net = ZeroOfFamily(*side.host);
        *side.mask = 0;
      }
      r->fields.set(side.mask_field);
    } else {
      *side.net = enrich_internal::MaskAddress(*side.host, exported_length);
    }
    r->fields.set(side.net_field);

    bool as_from_file = false;
    switch (as_source) {
      case AsSource::kNetflow:
      case AsSource::kBgp:  // the RIB step decides
      case AsSource::kBmp:
        break;
      case AsSource::kFile:
        as_from_file = true;
        break;
      case AsSource::kLongest:
        as_from_file = longest_file;
        break;
    }
    if (!as_from_file) continue;
    *side.as = entry != nullptr ? entry->origin_as : 0;
    r->fields.set(side.as_field);
    if (i == 1) {
      // Destination side: the row's peer AS and next hop are the BGP
      // peer_dst_as and peer_dst_ip.
      r->peer_dst_as = entry != nullptr ? entry->peer_as : 0;
      r->fields.set(FlowField::kPeerDstAs);
      if (entry != nullptr && entry->nexthop.is_set()) {
        r->bgp_next_hop = entry->nexthop;
        r->fields.set(FlowField::kBgpNextHop);
      } else {
        r->bgp_next_hop = IpAddress();
        r->fields.clear(FlowField::kBgpNextHop);
      }
    }
  }
}

}  // namespace flowacct
