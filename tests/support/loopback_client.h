// Small helpers for tests that talk TCP to a server on loopback (the BGP
// speaker, the BMP collector, TcpServer): a client socket bound to a chosen
// 127.0.0.N source (so the server sees distinct peers), optionally TCP-MD5
// signed, and a bounded wait for a condition.

#ifndef FLOWACCT_TESTS_SUPPORT_LOOPBACK_CLIENT_H_
#define FLOWACCT_TESTS_SUPPORT_LOOPBACK_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flowacct::testing {

// True as soon as `cond` holds, polling every 10 ms for at most
// `timeout_ms`; then one last try.
inline bool Eventually(const std::function<bool()>& cond,
                       int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// A blocking TCP connection from `source` (an IPv4 loopback address) to
// 127.0.0.1:`port`, signed with `md5` when not empty. Sends, receives and
// the connect itself give up after `timeout_ms` (a SYN the server drops,
// e.g. an unsigned one towards an MD5 peer, is otherwise retried for
// minutes). Returns the socket, or -1 when it cannot connect.
inline int ConnectFrom(const char* source, uint16_t port,
                       const std::string& md5 = "", int timeout_ms = 5000) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) == 0;
  if (ok && !md5.empty()) {
    tcp_md5sig sig{};
    std::memcpy(&sig.tcpm_addr, &dst, sizeof(dst));
    sig.tcpm_keylen = static_cast<uint16_t>(md5.size());
    std::memcpy(sig.tcpm_key, md5.data(), md5.size());
    ok = ::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) == 0;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (!ok ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Writes all of `bytes`; false on a socket error.
inline bool SendAll(int fd, std::span<const uint8_t> bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n =
        ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_LOOPBACK_CLIENT_H_
