#include "libflowacct/io/socket_address.h"

#include <cerrno>
#include <cstring>

#include <netinet/in.h>

namespace flowacct::internal {

std::string Errno(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

Endpoint FromSockaddr(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    e.address.AssignV4Bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
    e.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    const uint8_t* b = sin6->sin6_addr.s6_addr;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                            0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0) {
      e.address.AssignV4Bytes(b + 12);
    } else {
      e.address.AssignV6Bytes(b);
    }
    e.port = ntohs(sin6->sin6_port);
  }
  return e;
}

sockaddr_storage ToSockaddr(const IpAddress& address, uint16_t port,
                            int family) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    if (address.is_v4()) std::memcpy(&sin->sin_addr, address.data(), 4);
    sin->sin_port = htons(port);
    return ss;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  if (address.is_v4()) {
    sin6->sin6_addr.s6_addr[10] = 0xff;
    sin6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(sin6->sin6_addr.s6_addr + 12, address.data(), 4);
  } else if (address.is_v6()) {
    std::memcpy(sin6->sin6_addr.s6_addr, address.data(), 16);
  }
  return ss;
}

Result<ListenAddress> ResolveListenAddress(const std::string& address,
                                           uint16_t port) {
  ListenAddress out;
  if (address.empty() || address == "::") {
    out.storage = ToSockaddr(IpAddress(), port, AF_INET6);
    out.length = sizeof(sockaddr_in6);
    out.dual_stack = true;
    return out;
  }
  Result<IpAddress> ip = IpAddress::Parse(address);
  if (!ip.ok()) {
    return InvalidArgumentError("bad listen address \"" + address + "\"");
  }
  const int family = ip->is_v4() ? AF_INET : AF_INET6;
  out.storage = ToSockaddr(*ip, port, family);
  out.length = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  return out;
}

}  // namespace flowacct::internal
