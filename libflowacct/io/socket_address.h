// Socket address helpers shared by the io/ servers and receivers (private to
// libflowacct): errno text, IpAddress/port <-> sockaddr, and the listen
// address convention of every flowacct listener ("" and "::" bind every IPv4
// and IPv6 address on one dual-stack socket).
//
// Thread-safety: stateless functions.

#ifndef FLOWACCT_LIBFLOWACCT_IO_SOCKET_ADDRESS_H_
#define FLOWACCT_LIBFLOWACCT_IO_SOCKET_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct::internal {

// "<what>: <strerror(errno)>".
std::string Errno(std::string_view what);

// The endpoint in `ss`; IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291
// §2.5.5.2, seen on dual-stack sockets) is reported as IPv4, so a peer has
// one identity whichever family it uses.
Endpoint FromSockaddr(const sockaddr_storage& ss);

// A resolved listen address.
struct ListenAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool dual_stack = false;  // "" or "::": IPV6_V6ONLY off
};

// Parses a listener's address text: "" or "::" (dual stack), an IPv4 or an
// IPv6 literal. kInvalidArgument for anything else.
Result<ListenAddress> ResolveListenAddress(const std::string& address,
                                           uint16_t port);

// `address` as the sockaddr a socket of `family` (AF_INET or AF_INET6)
// uses for it: an IPv4 address on an AF_INET6 socket becomes ::ffff:a.b.c.d.
sockaddr_storage ToSockaddr(const IpAddress& address, uint16_t port,
                            int family);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_IO_SOCKET_ADDRESS_H_
