// TcpServer on Linux: one non-blocking listening socket, epoll for the
// listener, the connections and an eventfd (Stop), the tick as the epoll
// timeout.

#include "flowacct/io/tcp_server.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "libflowacct/enrich/map_text.h"
#include "libflowacct/io/socket_address.h"

#include "absl/container/flat_hash_map.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace flowacct {
namespace {

using internal::Errno;

// epoll data for the two fds that are not connections.
constexpr uint64_t kListenTag = 0;
constexpr uint64_t kWakeTag = 1;
constexpr uint64_t kFirstConnectionId = 2;

constexpr size_t kReadChunk = 64 * 1024;
// Reads per readiness event, so one busy peer cannot starve the others.
constexpr int kReadsPerEvent = 16;

int64_t MonotonicMs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

struct Connection {
  int fd = -1;
  std::vector<uint8_t> out;  // queued output, written from out_offset
  size_t out_offset = 0;
  bool want_write = false;  // EPOLLOUT armed
  bool closing = false;
  std::string close_reason;

  size_t pending() const { return out.size() - out_offset; }
};

}  // namespace

struct TcpServer::Impl {
  TcpServerOptions options;
  Handler* handler = nullptr;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  int family = AF_INET6;
  Endpoint local;
  uint64_t next_id = kFirstConnectionId;
  absl::flat_hash_map<ConnectionId, std::unique_ptr<Connection>> connections;
  std::vector<ConnectionId> to_close;  // Close()d or failed, not yet reaped
  std::vector<uint8_t> read_buffer = std::vector<uint8_t>(kReadChunk);
  std::atomic<bool> stop{false};

  std::atomic<uint64_t> accepted{0}, denied{0}, open{0}, bytes_in{0},
      bytes_out{0}, accept_errors{0}, receive_queue_full{0};

  ~Impl() {
    for (auto& [id, c] : connections) ::close(c->fd);
    if (listen_fd >= 0) ::close(listen_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void MarkClosing(ConnectionId id, Connection& c, std::string_view reason) {
    if (c.closing) return;
    c.closing = true;
    c.close_reason = std::string(reason);
    to_close.push_back(id);
  }

  void SetWriteInterest(ConnectionId id, Connection& c, bool want) {
    if (c.want_write == want) return;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? uint32_t{EPOLLOUT} : 0u);
    ev.data.u64 = id;
    (void)::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = want;
  }

  // Writes as much queued output as the socket takes. False on a socket
  // error (the connection is marked closing).
  bool Flush(ConnectionId id, Connection& c) {
    while (c.pending() > 0) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_offset, c.pending(),
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_offset += static_cast<size_t>(n);
        bytes_out.fetch_add(static_cast<uint64_t>(n),
                            std::memory_order_relaxed);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      MarkClosing(id, c, Errno("send"));
      c.out.clear();
      c.out_offset = 0;
      return false;
    }
    if (c.pending() == 0) {
      c.out.clear();
      c.out_offset = 0;
    } else if (c.out_offset > c.out.size() / 2) {
      c.out.erase(c.out.begin(),
                  c.out.begin() + static_cast<ptrdiff_t>(c.out_offset));
      c.out_offset = 0;
    }
    if (!c.closing) SetWriteInterest(id, c, c.pending() > 0);
    return true;
  }

  void Reap(TcpServer& server) {
    // OnClose may Close() other connections: loop until nothing is left.
    while (!to_close.empty()) {
      std::vector<ConnectionId> batch;
      batch.swap(to_close);
      for (ConnectionId id : batch) {
        auto it = connections.find(id);
        if (it == connections.end()) continue;
        std::unique_ptr<Connection> c = std::move(it->second);
        connections.erase(it);
        // Best effort: what the socket takes now (a NOTIFICATION before
        // the close); the rest is lost with the connection.
        if (c->pending() > 0) {
          (void)::send(c->fd, c->out.data() + c->out_offset, c->pending(),
                       MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        (void)::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
        ::close(c->fd);
        open.fetch_sub(1, std::memory_order_relaxed);
        handler->OnClose(server, id, c->close_reason);
      }
    }
  }

  void AcceptAll(TcpServer& server) {
    for (;;) {
      sockaddr_storage peer{};
      socklen_t len = sizeof(peer);
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer),
                               &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          accept_errors.fetch_add(1, std::memory_order_relaxed);
        }
        return;
      }
      const Endpoint remote = internal::FromSockaddr(peer);
      if (options.allow && !options.allow(remote.address)) {
        denied.fetch_add(1, std::memory_order_relaxed);
        ::close(fd);
        continue;
      }
      if (options.receive_buffer_bytes > 0) {
        int want = options.receive_buffer_bytes;
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
      }
      int one = 1;
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      sockaddr_storage mine{};
      socklen_t mine_len = sizeof(mine);
      Endpoint local_end = local;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&mine), &mine_len) ==
          0) {
        local_end = internal::FromSockaddr(mine);
      }
      const ConnectionId id = next_id++;
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = id;
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        accept_errors.fetch_add(1, std::memory_order_relaxed);
        ::close(fd);
        continue;
      }
      connections.emplace(id, std::move(c));
      accepted.fetch_add(1, std::memory_order_relaxed);
      open.fetch_add(1, std::memory_order_relaxed);
      handler->OnOpen(server, id, remote, local_end);
      Reap(server);
    }
  }

  // BM-8 ("station stuck"): the peer sends faster than the Handler takes
  // its bytes. When we come to read and the socket's receive queue is
  // nearly full, the peer's window has closed (or is about to): count it,
  // so an operator sees the collector is the bottleneck before the router
  // gives up on it. Payload fits in about half of SO_RCVBUF (the kernel
  // doubles the requested size for its overhead); "nearly full" is 3/4 of
  // that.
  void CheckBacklog(const Connection& c) {
    int queued = 0;
    int rcvbuf = 0;
    socklen_t len = sizeof(rcvbuf);
    if (::ioctl(c.fd, FIONREAD, &queued) != 0 ||
        ::getsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) != 0 ||
        rcvbuf <= 0) {
      return;
    }
    if (static_cast<int64_t>(queued) * 8 >= static_cast<int64_t>(rcvbuf) * 3) {
      receive_queue_full.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void Readable(TcpServer& server, ConnectionId id) {
    if (auto it = connections.find(id); it != connections.end()) {
      CheckBacklog(*it->second);
    }
    for (int i = 0; i < kReadsPerEvent; ++i) {
      auto it = connections.find(id);
      if (it == connections.end() || it->second->closing) return;
      Connection& c = *it->second;
      const ssize_t n =
          ::recv(c.fd, read_buffer.data(), read_buffer.size(), MSG_DONTWAIT);
      if (n > 0) {
        bytes_in.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        handler->OnData(server, id,
                        std::span<const uint8_t>(read_buffer.data(),
                                                 static_cast<size_t>(n)));
        Reap(server);
        if (static_cast<size_t>(n) < read_buffer.size()) return;
        continue;
      }
      if (n == 0) {
        MarkClosing(id, c, "peer closed the connection");
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        MarkClosing(id, c, Errno("recv"));
      }
      Reap(server);
      return;
    }
  }
};

Result<std::vector<TcpServerOptions::Md5Key>> ParseMd5Keys(
    std::string_view text, std::string_view filename) {
  constexpr size_t kMaxKeys = 8192;
  std::vector<TcpServerOptions::Md5Key> keys;
  Status s = enrich_internal::ForEachLine(
      text, filename, 512, [&](size_t line, std::string_view row) -> Status {
        auto error = [&](std::string_view msg) {
          return enrich_internal::LineError(StatusCode::kInvalidArgument,
                                            filename, line, msg);
        };
        const size_t comma = row.find(',');
        if (comma == std::string_view::npos) {
          return error("expected '<peer address>, <key>'");
        }
        auto trim = [](std::string_view v) {
          while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
            v.remove_prefix(1);
          }
          while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
            v.remove_suffix(1);
          }
          return v;
        };
        const std::string_view address = trim(row.substr(0, comma));
        const std::string_view key = trim(row.substr(comma + 1));
        Result<IpAddress> peer = IpAddress::Parse(address);
        if (!peer.ok()) {
          return error("'" + std::string(address) + "' is not an IP address");
        }
        if (key.empty()) return error("empty key");
        if (key.size() > TCP_MD5SIG_MAXKEYLEN) {
          return error("key longer than " +
                       std::to_string(TCP_MD5SIG_MAXKEYLEN) + " bytes");
        }
        for (const auto& k : keys) {
          if (k.peer == *peer) {
            return error("a second key for " + peer->ToString());
          }
        }
        if (keys.size() >= kMaxKeys) {
          return error("more than " + std::to_string(kMaxKeys) + " keys");
        }
        keys.push_back({*peer, std::string(key)});
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return keys;
}

Result<std::vector<TcpServerOptions::Md5Key>> LoadMd5KeyFile(
    const std::string& path) {
  std::string text;
  Status s = enrich_internal::ReadMapFile(path, &text);
  if (!s.ok()) return s;
  return ParseMd5Keys(text, path);
}

TcpServer::TcpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpServer::~TcpServer() = default;

Result<std::unique_ptr<TcpServer>> TcpServer::Open(
    const TcpServerOptions& options, Handler* handler) {
  if (handler == nullptr) return InvalidArgumentError("tcp server: no handler");
  for (const TcpServerOptions::Md5Key& k : options.md5_keys) {
    if (k.key.size() > TCP_MD5SIG_MAXKEYLEN) {
      return InvalidArgumentError(
          "tcp server: MD5 key for " + k.peer.ToString() + " is longer than " +
          std::to_string(TCP_MD5SIG_MAXKEYLEN) + " bytes");
    }
    if (!k.peer.is_set()) {
      return InvalidArgumentError("tcp server: MD5 key without a peer");
    }
  }
  Result<internal::ListenAddress> listen =
      internal::ResolveListenAddress(options.address, options.port);
  if (!listen.ok()) return listen.status();

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = handler;
  impl->family = listen->storage.ss_family;
  impl->listen_fd =
      ::socket(impl->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (impl->listen_fd < 0) return IoError(Errno("socket"));
  const int fd = impl->listen_fd;
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return IoError(Errno("setsockopt(SO_REUSEADDR)"));
  }
  if (impl->family == AF_INET6) {
    int v6only = listen->dual_stack ? 0 : 1;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) !=
        0) {
      return IoError(Errno("setsockopt(IPV6_V6ONLY)"));
    }
  }
  for (const TcpServerOptions::Md5Key& k : options.md5_keys) {
    // Keys set on the listening socket apply to the connections it
    // accepts from that peer (an IPv4 peer on a v6 socket in mapped form).
    if (impl->family == AF_INET && !k.peer.is_v4()) continue;
    tcp_md5sig sig{};
    sig.tcpm_addr = internal::ToSockaddr(k.peer, 0, impl->family);
    sig.tcpm_keylen = static_cast<uint16_t>(k.key.size());
    std::memcpy(sig.tcpm_key, k.key.data(), k.key.size());
    if (::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
      return IoError(Errno("setsockopt(TCP_MD5SIG) for " + k.peer.ToString()));
    }
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&listen->storage),
             listen->length) != 0) {
    return IoError(
        Errno("bind " + options.address + ":" + std::to_string(options.port)));
  }
  if (::listen(fd, 128) != 0) return IoError(Errno("listen"));
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return IoError(Errno("getsockname"));
  }
  impl->local = internal::FromSockaddr(bound);

  impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl->epoll_fd < 0) return IoError(Errno("epoll_create1"));
  impl->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->wake_fd < 0) return IoError(Errno("eventfd"));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenTag;
  if (::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return IoError(Errno("epoll_ctl"));
  }
  ev.data.u64 = kWakeTag;
  if (::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->wake_fd, &ev) != 0) {
    return IoError(Errno("epoll_ctl"));
  }
  return std::unique_ptr<TcpServer>(new TcpServer(std::move(impl)));
}

Status TcpServer::Run() {
  Impl& s = *impl_;
  const int64_t tick_ms = std::max<int64_t>(1, s.options.tick.count());
  int64_t next_tick = MonotonicMs() + tick_ms;
  epoll_event events[64];
  while (!s.stop.load(std::memory_order_acquire)) {
    const int64_t wait = std::max<int64_t>(0, next_tick - MonotonicMs());
    const int n = ::epoll_wait(s.epoll_fd, events, 64, static_cast<int>(wait));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(Errno("epoll_wait"));
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kListenTag) {
        s.AcceptAll(*this);
        continue;
      }
      if (tag == kWakeTag) {
        uint64_t v;
        while (::read(s.wake_fd, &v, sizeof(v)) == sizeof(v)) {
        }
        continue;
      }
      auto it = s.connections.find(tag);
      if (it == s.connections.end()) continue;
      if (events[i].events & EPOLLOUT) {
        (void)s.Flush(tag, *it->second);
        s.Reap(*this);
      }
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        s.Readable(*this, tag);
      }
    }
    if (MonotonicMs() >= next_tick) {
      s.handler->OnTick(*this);
      s.Reap(*this);
      next_tick = MonotonicMs() + tick_ms;
    }
  }
  for (auto& [id, c] : s.connections) s.MarkClosing(id, *c, "server stopped");
  s.Reap(*this);
  return Status::Ok();
}

void TcpServer::Stop() {
  impl_->stop.store(true, std::memory_order_release);
  const uint64_t one = 1;
  (void)!::write(impl_->wake_fd, &one, sizeof(one));
}

void TcpServer::Send(ConnectionId id, std::span<const uint8_t> bytes) {
  auto it = impl_->connections.find(id);
  if (it == impl_->connections.end() || bytes.empty()) return;
  Connection& c = *it->second;
  if (c.closing) {
    // Still written by Reap (a NOTIFICATION queued just before Close).
    c.out.insert(c.out.end(), bytes.begin(), bytes.end());
    return;
  }
  if (c.pending() + bytes.size() > impl_->options.max_pending_output_bytes) {
    impl_->MarkClosing(id, c, "output queue full (peer not reading)");
    return;
  }
  c.out.insert(c.out.end(), bytes.begin(), bytes.end());
  (void)impl_->Flush(id, c);
}

void TcpServer::Close(ConnectionId id, std::string_view reason) {
  auto it = impl_->connections.find(id);
  if (it == impl_->connections.end()) return;
  impl_->MarkClosing(id, *it->second, reason);
}

Endpoint TcpServer::local_endpoint() const { return impl_->local; }

TcpServerStats TcpServer::stats() const {
  TcpServerStats s;
  s.accepted = impl_->accepted.load(std::memory_order_relaxed);
  s.denied = impl_->denied.load(std::memory_order_relaxed);
  s.open = impl_->open.load(std::memory_order_relaxed);
  s.bytes_in = impl_->bytes_in.load(std::memory_order_relaxed);
  s.bytes_out = impl_->bytes_out.load(std::memory_order_relaxed);
  s.accept_errors = impl_->accept_errors.load(std::memory_order_relaxed);
  s.receive_queue_full =
      impl_->receive_queue_full.load(std::memory_order_relaxed);
  return s;
}

}  // namespace flowacct
