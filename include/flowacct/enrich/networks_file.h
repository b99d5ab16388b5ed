// File: flowacct/enrich/networks_file.h
//
// NetworksFile: pmacct's networks_file. One network per line, optionally
// with the AS and BGP data that go with it:
//
//   [<label>,][<nexthop>,][[<peer_as>_]<origin_as>,]<prefix>/<len>
//
//   192.0.2.0/24
//   64500,198.51.100.0/24
//   64496_64500,203.0.113.0/25
//   10.0.0.1,64500,2001:db8::/32
//   cust1,,,192.0.2.128/25          (label, empty nexthop and AS)
//
// IPv4 and IPv6 rows may be mixed. Lookups are longest-prefix matches. The
// label column is accepted and ignored (flowacct has no per-network label
// primitive). Apply fills a record's src_net / dst_net, masks, AS numbers,
// peer_dst_as and peer_dst_ip (bgp_next_hop) according to the configured
// sources (pmacct's nfacctd_net / nfacctd_as).
//
// Thread-safety: immutable after Load; const methods are safe concurrently.

#ifndef FLOWACCT_ENRICH_NETWORKS_FILE_H_
#define FLOWACCT_ENRICH_NETWORKS_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct {

// Where src_net/dst_net and the masks come from (pmacct's *_net).
enum class NetSource : uint8_t {
  kNetflow,  // the host masked with the exported mask (default)
  kMask,     // same as kNetflow (pmacct's `mask`)
  kFile,     // the networks_file prefix; no match: 0.0.0.0/0 (or ::/0)
  kLongest,  // the longer of the exported mask and the file prefix
             // (equal lengths: the exported mask); with BGP or BMP also
             // the RIB's prefix (bgp_correlator.h)
  kBgp,      // the BGP RIB's matching prefix (bgp_daemon); no route: 0/0
  kBmp,      // the same, from the BMP views (bmp_daemon)
};
// Where src_as/dst_as (and peer_dst_as, peer_dst_ip) come from (*_as).
enum class AsSource : uint8_t {
  kNetflow,  // as exported; the networks file is not used (default)
  kFile,     // the networks_file row; no match: 0 / unset
  kLongest,  // the file row when its prefix is longer than the exported
             // mask, else as exported; with BGP or BMP also the RIB's route
  kBgp,      // the BGP RIB's route (origin AS); no route: 0
  kBmp,      // the same, from the BMP views
};

// "netflow", "sflow" (same as netflow), "mask", "file", "longest", "bgp",
// "bmp". Errors: kInvalidArgument, kUnimplemented for pmacct's igp and
// bgp-ls (no IGP correlation).
Result<NetSource> ParseNetSource(std::string_view text);
// "netflow", "sflow", "file", "longest", "bgp", "bmp"; errors as
// ParseNetSource.
Result<AsSource> ParseAsSource(std::string_view text);

// One networks_file row.
struct NetworksEntry {
  Prefix prefix;
  uint32_t origin_as = 0;  // 0 when the row has none
  uint32_t peer_as = 0;    // 0 when the row has none
  IpAddress nexthop;       // unset when the row has none
};

class NetworksFile {
 public:
  // Errors ("<filename>:<line>: ..."): kInvalidArgument (bad prefix, AS or
  // next hop, too many columns, control bytes, line over 256 bytes).
  // Duplicate prefixes: the last row wins.
  static Result<std::shared_ptr<const NetworksFile>> Load(
      std::string_view text, std::string_view filename);
  // Errors: kIoError if `path` cannot be read, else as Load.
  static Result<std::shared_ptr<const NetworksFile>> LoadFile(
      const std::string& path);

  // The row with the longest prefix containing `address`, or nullptr.
  // The pointer lives as long as this NetworksFile.
  const NetworksEntry* Lookup(const IpAddress& address) const;

  // Fills the record's net / mask / AS fields from this file according to
  // the sources (see NetSource, AsSource). Records without src_host /
  // dst_host are left alone on that side.
  void Apply(FlowRecord* record, NetSource net_source,
             AsSource as_source) const;

  size_t size() const;

  ~NetworksFile();
  NetworksFile(const NetworksFile&) = delete;
  NetworksFile& operator=(const NetworksFile&) = delete;

 private:
  struct Impl;
  explicit NetworksFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sets src_net / dst_net to the host masked by src_mask / dst_mask (a mask
// of 0, or no mask, gives 0.0.0.0 / ::), the NetSource::kNetflow behaviour
// without a networks file. Sides without a host are left alone.
void FillNetsFromMasks(FlowRecord* record);

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_NETWORKS_FILE_H_
