// File: flowacct/model/ip_address.h
//
// Small value types for network addresses: IpAddress (IPv4 or IPv6, or
// unset), MacAddress, Prefix and Endpoint (address + port). All are trivially
// copyable, fixed-size and cheap to hash, so they can live inside FlowRecord
// and aggregation keys without allocation.
//
// IPv4 addresses are stored as IPv4 (not v4-mapped IPv6); two addresses are
// equal only when both family and bytes are equal.
//
// Thread-safety: value types.

#ifndef FLOWACCT_MODEL_IP_ADDRESS_H_
#define FLOWACCT_MODEL_IP_ADDRESS_H_

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "flowacct/status.h"

namespace flowacct {

class IpAddress {
 public:
  enum class Family : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

  // The unset address (family kNone). Prints as "" (pmacct prints "0.0.0.0"
  // for unset v4 primitives; formatters decide).
  constexpr IpAddress() = default;

  // From an IPv4 address in host byte order (0x7f000001 is 127.0.0.1).
  static IpAddress V4(uint32_t host_order) {
    IpAddress a;
    a.family_ = Family::kV4;
    a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes_[3] = static_cast<uint8_t>(host_order);
    return a;
  }
  // From 4 bytes in network order.
  static IpAddress V4Bytes(const uint8_t* network_order) {
    IpAddress a;
    a.family_ = Family::kV4;
    std::memcpy(a.bytes_.data(), network_order, 4);
    return a;
  }
  // From 16 bytes in network order.
  static IpAddress V6Bytes(const uint8_t* network_order) {
    IpAddress a;
    a.family_ = Family::kV6;
    std::memcpy(a.bytes_.data(), network_order, 16);
    return a;
  }

  // Set *this in place to the IPv4 / IPv6 address at `network_order` (4 or
  // 16 bytes). Equivalent to `*this = V4Bytes(p)` / `V6Bytes(p)` without the
  // temporary, which matters on per-field decode paths.
  void AssignV4Bytes(const uint8_t* network_order) {
    family_ = Family::kV4;
    std::memcpy(bytes_.data(), network_order, 4);
    std::memset(bytes_.data() + 4, 0, 12);
  }
  void AssignV6Bytes(const uint8_t* network_order) {
    family_ = Family::kV6;
    std::memcpy(bytes_.data(), network_order, 16);
  }

  // Parses dotted-quad IPv4 or RFC 4291/5952 IPv6 text.
  // Returns kInvalidArgument for anything else.
  static Result<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_set() const { return family_ != Family::kNone; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }

  // 4 (v4), 16 (v6) or 0 (unset).
  int size() const {
    return family_ == Family::kV4 ? 4 : family_ == Family::kV6 ? 16 : 0;
  }
  // Network-order bytes; size() of them are meaningful, the rest are zero.
  const uint8_t* data() const { return bytes_.data(); }

  // REQUIRES: is_v4().
  uint32_t v4_host_order() const {
    return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) |
           (uint32_t{bytes_[2]} << 8) | uint32_t{bytes_[3]};
  }

  // "192.0.2.1", "2001:db8::1" (RFC 5952 canonical), or "" when unset.
  std::string ToString() const;
  // Appends ToString() to *out without a temporary.
  void AppendTo(std::string* out) const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), a.family_, a.bytes_);
  }

 private:
  Family family_ = Family::kNone;
  std::array<uint8_t, 16> bytes_{};
};

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  static MacAddress FromBytes(const uint8_t* p) {
    MacAddress m;
    std::memcpy(m.bytes.data(), p, 6);
    return m;
  }
  // "00:11:22:aa:bb:cc" (lower case, as pmacct prints it).
  std::string ToString() const;

  friend bool operator==(const MacAddress&, const MacAddress&) = default;
  friend auto operator<=>(const MacAddress&, const MacAddress&) = default;
};

struct Prefix {
  IpAddress address;  // host bits are zero
  uint8_t length = 0;

  // "192.0.2.0/24".
  std::string ToString() const;
  friend bool operator==(const Prefix&, const Prefix&) = default;
};

// A transport endpoint: who sent a datagram.
struct Endpoint {
  IpAddress address;
  uint16_t port = 0;

  // "192.0.2.1:2055", "[2001:db8::1]:2055".
  std::string ToString() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.address, e.port);
  }
};

}  // namespace flowacct

#endif  // FLOWACCT_MODEL_IP_ADDRESS_H_
