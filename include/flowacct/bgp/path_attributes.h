// File: flowacct/bgp/path_attributes.h
//
// The decoded value types BGP and BMP share: address families, route keys
// (prefix + ADD-PATH path id + route distinguisher) and the path attributes
// of a route. The message codec (bgp/message.h) produces them; the RIB
// (bgp/rib.h) interns them; the enrich step reads them.
//
// Everything here is a plain value type in host byte order, with 4-octet
// AS numbers throughout (AS_PATH and AS4_PATH already merged per RFC 6793
// §4.2.3 by the codec).
//
// Thread-safety: value types; distinct objects may be used concurrently.

#ifndef FLOWACCT_BGP_PATH_ATTRIBUTES_H_
#define FLOWACCT_BGP_PATH_ATTRIBUTES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flowacct/model/ip_address.h"

namespace flowacct::bgp {

// RFC 4760 address family and subsequent address family.
enum class Afi : uint16_t { kIpv4 = 1, kIpv6 = 2 };
enum class Safi : uint8_t {
  kUnicast = 1,
  kMulticast = 2,
  kLabeledUnicast = 4,  // RFC 8277
  kMplsVpn = 128,       // RFC 4364 (VPNv4) / RFC 4659 (VPNv6)
};

struct Family {
  Afi afi = Afi::kIpv4;
  Safi safi = Safi::kUnicast;

  // "ipv4 unicast", "ipv6 mpls-vpn"...
  std::string ToString() const;
  friend bool operator==(const Family&, const Family&) = default;
  friend auto operator<=>(const Family&, const Family&) = default;
};

inline constexpr Family kIpv4Unicast{Afi::kIpv4, Safi::kUnicast};
inline constexpr Family kIpv6Unicast{Afi::kIpv6, Safi::kUnicast};

// RFC 4364 §4.2 route distinguisher: type (2 octets) + value (6), kept in
// wire order. All zero: none.
struct RouteDistinguisher {
  std::array<uint8_t, 8> bytes{};

  bool is_set() const;
  // pmacct's text: "0:65000:1" (type 0), "1:192.0.2.1:1", "2:4200000000:1".
  std::string ToString() const;
  friend bool operator==(const RouteDistinguisher&,
                         const RouteDistinguisher&) = default;
  friend auto operator<=>(const RouteDistinguisher&,
                          const RouteDistinguisher&) = default;
};

// What names one route of a peer: the family, the prefix, the ADD-PATH
// path identifier (RFC 7911; 0 without ADD-PATH) and, for VPN families,
// the route distinguisher.
struct RouteKey {
  Family family;
  Prefix prefix;
  uint32_t path_id = 0;
  RouteDistinguisher rd;

  friend bool operator==(const RouteKey&, const RouteKey&) = default;
};

// One announced or withdrawn route as the NLRI carries it: its key and,
// for labeled-unicast and VPN families, the first MPLS label of the stack
// (a 20-bit value; pmacct's `mpls_label`). Labels stay per route because
// routers often allocate one per prefix.
struct Nlri {
  RouteKey key;
  std::optional<uint32_t> mpls_label;

  friend bool operator==(const Nlri&, const Nlri&) = default;
};

enum class Origin : uint8_t { kIgp = 0, kEgp = 1, kIncomplete = 2 };

// RFC 4271 §4.3 AS_PATH segment types (3 and 4: RFC 5065 confederations).
enum class AsSegmentType : uint8_t {
  kSet = 1,
  kSequence = 2,
  kConfedSequence = 3,
  kConfedSet = 4,
};

struct AsPathSegment {
  AsSegmentType type = AsSegmentType::kSequence;
  std::vector<uint32_t> asns;

  friend bool operator==(const AsPathSegment&, const AsPathSegment&) = default;
};

// RFC 8092.
struct LargeCommunity {
  uint32_t global_admin = 0;
  uint32_t local1 = 0;
  uint32_t local2 = 0;

  friend bool operator==(const LargeCommunity&,
                         const LargeCommunity&) = default;
  friend auto operator<=>(const LargeCommunity&,
                          const LargeCommunity&) = default;
};

// An attribute the codec does not interpret (or discarded as malformed is
// NOT kept here): flags, type code and value, stored opaque and never
// re-parsed. Values are capped (see MessageLimits in bgp/message.h).
struct UnknownAttribute {
  uint8_t flags = 0;
  uint8_t type = 0;
  std::vector<uint8_t> value;

  friend bool operator==(const UnknownAttribute&,
                         const UnknownAttribute&) = default;
};

// The path attributes of a route, decoded. Optional members are absent
// when the UPDATE did not carry them (or RFC 7606 discarded them).
struct PathAttributes {
  std::optional<Origin> origin;
  std::vector<AsPathSegment> as_path;  // AS4_PATH merged in
  // NEXT_HOP (IPv4 unicast) or the MP_REACH_NLRI next hop of the route's
  // family; for a 32-octet IPv6 next hop the global one, with the
  // link-local one beside it.
  IpAddress next_hop;
  IpAddress next_hop_link_local;
  std::optional<uint32_t> med;
  std::optional<uint32_t> local_pref;
  bool atomic_aggregate = false;
  std::optional<uint32_t> aggregator_as;
  IpAddress aggregator_address;
  std::vector<uint32_t> communities;           // RFC 1997, wire order
  std::vector<uint64_t> ext_communities;       // RFC 4360, 8 octets each
  std::vector<LargeCommunity> large_communities;  // RFC 8092
  std::optional<uint32_t> originator_id;       // RFC 4456
  std::vector<uint32_t> cluster_list;          // RFC 4456
  std::optional<uint32_t> otc;                 // RFC 9234 Only-to-Customer
  std::optional<uint64_t> aigp;                // RFC 7311 AIGP metric TLV
  std::vector<UnknownAttribute> unknown;

  // The neighbour AS (first AS of the first AS_SEQUENCE), 0 when none.
  uint32_t FirstAs() const;
  // The origin AS (last AS of the last AS_SEQUENCE; an AS_SET at the end
  // gives 0, as pmacct does), 0 when the path is empty.
  uint32_t OriginAs() const;
  // pmacct's text: "64496 64497 {64498,64499}" (confederation segments in
  // parentheses / brackets per RFC 5065 notation).
  std::string AsPathString() const;

  friend bool operator==(const PathAttributes&,
                         const PathAttributes&) = default;
};

}  // namespace flowacct::bgp

#endif  // FLOWACCT_BGP_PATH_ATTRIBUTES_H_
