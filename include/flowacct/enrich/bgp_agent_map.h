// File: flowacct/enrich/bgp_agent_map.h
//
// BgpAgentMap: pmacct's bgp_agent_map (and bmp_agent_map). It says which
// BGP session's RIB answers for a flow exporter when the exporter is not
// itself the BGP peer — route reflectors, NAT in front of the collector,
// hub-and-spoke. Rows of `key=value` pairs, first match wins:
//
//   bgp_ip=192.0.2.1    ip=10.0.0.1           ! exporter 10.0.0.1 uses the
//                                             ! session of 192.0.2.1
//   bgp_ip=192.0.2.2    ip=10.0.1.0/24 in=3   ! ... on input interface 3
//   bmp_ip=192.0.2.9    ip=10.0.2.1           ! bmp_agent_map spelling
//
// `bgp_ip` (or `bmp_ip`) is the peer's session address or BGP router id;
// `bgp_port` optionally names its TCP source port (pmacct's
// tmp_bgp_lookup_compare_ports, for several sessions behind one NAT
// address). Matches: `ip` (the exporter, address or prefix, required),
// `in` and `out` (interface indexes, `-N` negates). pmacct's `filter`
// (a BPF expression) is not supported: such a row is an error naming it.
//
// Without a map (or with no matching row) flowacct does what pmacct does:
// the exporter's own address names the peer.
//
// Thread-safety: immutable after Load; const methods are safe concurrently.

#ifndef FLOWACCT_ENRICH_BGP_AGENT_MAP_H_
#define FLOWACCT_ENRICH_BGP_AGENT_MAP_H_

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

struct BgpAgentMapOptions {
  uint32_t max_entries = 384;     // maps_entries
  uint32_t max_row_length = 256;  // maps_row_len
};

// The BGP (or BMP) peer a row names. port 0: any session from `address`.
struct BgpAgent {
  IpAddress address;
  uint16_t port = 0;
  friend bool operator==(const BgpAgent&, const BgpAgent&) = default;
};

class BgpAgentMap {
 public:
  // Errors ("<filename>:<line>: ..."): kInvalidArgument (syntax, unknown or
  // unsupported key, missing bgp_ip or ip, bad address, overlong line),
  // kResourceExhausted (more than max_entries rows).
  static Result<std::shared_ptr<const BgpAgentMap>> Load(
      std::string_view text, std::string_view filename,
      const BgpAgentMapOptions& options = {});
  // Errors: kIoError if `path` cannot be read, else as Load.
  static Result<std::shared_ptr<const BgpAgentMap>> LoadFile(
      const std::string& path, const BgpAgentMapOptions& options = {});

  // The peer of the first row matching the record's exporter and
  // interfaces; nullopt when no row matches.
  std::optional<BgpAgent> Lookup(const FlowRecord& record) const;

  size_t size() const;

  ~BgpAgentMap();
  BgpAgentMap(const BgpAgentMap&) = delete;
  BgpAgentMap& operator=(const BgpAgentMap&) = delete;

 private:
  struct Impl;
  explicit BgpAgentMap(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_BGP_AGENT_MAP_H_
