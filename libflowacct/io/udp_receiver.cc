// UdpReceiver on Linux: recvmmsg into preallocated buffers, poll on the
// socket and an eventfd (Wake/Stop), SO_RXQ_OVFL + SO_MEMINFO for drops.

#include "flowacct/io/udp_receiver.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sock_diag.h>  // SK_MEMINFO_DROPS
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libflowacct/io/socket_address.h"

namespace flowacct {
namespace {

using internal::Errno;
using internal::FromSockaddr;

// Room for SCM_TIMESTAMPNS and SO_RXQ_OVFL, with slack for anything else
// the kernel may attach.
constexpr size_t kControlBytes =
    CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)) + 64;

}  // namespace

struct UdpReceiver::Impl {
  UdpReceiverOptions options;
  int fd = -1;
  int event_fd = -1;
  Endpoint local;
  int rcvbuf = 0;

  std::vector<uint8_t> payloads;  // batch_size * max_datagram_bytes
  std::vector<uint8_t> control;   // batch_size * kControlBytes
  std::vector<sockaddr_storage> sources;
  std::vector<iovec> iovs;
  std::vector<mmsghdr> headers;
  std::vector<Datagram> out;

  // Last SO_RXQ_OVFL / SK_MEMINFO_DROPS value seen (the kernel's 32-bit
  // cumulative sk_drops), and whether one was seen.
  uint32_t last_drop_counter = 0;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> datagrams{0}, bytes{0}, kernel_drops{0}, denied{0},
      truncated{0}, receive_errors{0};

  ~Impl() {
    if (fd >= 0) ::close(fd);
    if (event_fd >= 0) ::close(event_fd);
  }

  // Accounts a new reading of the kernel's cumulative drop counter. Readings
  // stamped on queued datagrams may be older than one taken with
  // SO_MEMINFO, so only forward movement (mod 2^32) counts.
  void ObserveDropCounter(uint32_t value) {
    int32_t delta = static_cast<int32_t>(value - last_drop_counter);
    if (delta > 0) {
      kernel_drops.fetch_add(static_cast<uint32_t>(delta),
                             std::memory_order_relaxed);
      last_drop_counter = value;
    }
  }

  void PollDropCounter() {
    uint32_t info[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof(info);
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) == 0 &&
        len > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
      ObserveDropCounter(info[SK_MEMINFO_DROPS]);
    }
  }

  void DrainEvent() {
    uint64_t v;
    while (::read(event_fd, &v, sizeof(v)) == sizeof(v)) {
    }
  }

  void ResetHeaders(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      msghdr& h = headers[i].msg_hdr;
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_controllen = kControlBytes;
      h.msg_flags = 0;
      headers[i].msg_len = 0;
    }
  }
};

UdpReceiver::UdpReceiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UdpReceiver::~UdpReceiver() = default;

Result<std::unique_ptr<UdpReceiver>> UdpReceiver::Open(
    const UdpReceiverOptions& options) {
  if (options.batch_size == 0 || options.batch_size > 1024) {
    return InvalidArgumentError("batch_size must be 1..1024");
  }
  if (options.max_datagram_bytes == 0 || options.max_datagram_bytes > 65535) {
    return InvalidArgumentError("max_datagram_bytes must be 1..65535");
  }
  if (options.receive_buffer_bytes < 0) {
    return InvalidArgumentError("receive_buffer_bytes must be >= 0");
  }
  Result<internal::ListenAddress> listen =
      internal::ResolveListenAddress(options.address, options.port);
  if (!listen.ok()) return listen.status();
  const sockaddr_storage& bind_addr = listen->storage;
  const socklen_t bind_len = listen->length;
  const bool dual_stack = listen->dual_stack;

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->fd = ::socket(bind_addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (impl->fd < 0) return IoError(Errno("socket"));
  int fd = impl->fd;
  int one = 1;
  if (bind_addr.ss_family == AF_INET6) {
    int v6only = dual_stack ? 0 : 1;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) !=
        0) {
      return IoError(Errno("setsockopt(IPV6_V6ONLY)"));
    }
  }
  if (options.reuse_port &&
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return IoError(Errno("setsockopt(SO_REUSEPORT)"));
  }
  if (options.receive_buffer_bytes > 0) {
    int want = options.receive_buffer_bytes;
    // SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it, SO_RCVBUF (capped at
    // net.core.rmem_max).
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) !=
            0 &&
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) != 0) {
      return IoError(Errno("setsockopt(SO_RCVBUF)"));
    }
  }
  // Both are best effort: without them drops are read with SO_MEMINFO only
  // and arrival time comes from the clock.
  (void)::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
  (void)::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

  if (::bind(fd, reinterpret_cast<const sockaddr*>(&bind_addr), bind_len) !=
      0) {
    return IoError(
        Errno(("bind " + options.address + ":" + std::to_string(options.port))
                  .c_str()));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return IoError(Errno("getsockname"));
  }
  impl->local = FromSockaddr(bound);
  if (dual_stack) impl->local.address = IpAddress::V6Bytes(in6addr_any.s6_addr);
  socklen_t rl = sizeof(impl->rcvbuf);
  (void)::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &impl->rcvbuf, &rl);

  impl->event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->event_fd < 0) return IoError(Errno("eventfd"));

  const size_t n = options.batch_size;
  impl->payloads.resize(n * options.max_datagram_bytes);
  impl->control.resize(n * kControlBytes);
  impl->sources.resize(n);
  impl->iovs.resize(n);
  impl->headers.resize(n);
  impl->out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    impl->iovs[i].iov_base =
        impl->payloads.data() + i * options.max_datagram_bytes;
    impl->iovs[i].iov_len = options.max_datagram_bytes;
    msghdr& h = impl->headers[i].msg_hdr;
    std::memset(&h, 0, sizeof(h));
    h.msg_name = &impl->sources[i];
    h.msg_iov = &impl->iovs[i];
    h.msg_iovlen = 1;
    h.msg_control = impl->control.data() + i * kControlBytes;
  }
  impl->PollDropCounter();  // normally 0; keeps later deltas right
  impl->kernel_drops.store(0, std::memory_order_relaxed);
  return std::unique_ptr<UdpReceiver>(new UdpReceiver(std::move(impl)));
}

Result<std::span<const Datagram>> UdpReceiver::Receive(
    std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (s.stop.load(std::memory_order_acquire)) {
    return std::span<const Datagram>();
  }
  const size_t n = s.options.batch_size;
  s.ResetHeaders(n);
  int got = ::recvmmsg(s.fd, s.headers.data(), static_cast<unsigned>(n),
                       MSG_DONTWAIT, nullptr);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    // Queue empty: catch up on drops of datagrams never queued, then wait.
    s.PollDropCounter();
    pollfd fds[2] = {{s.fd, POLLIN, 0}, {s.event_fd, POLLIN, 0}};
    int64_t ms = std::max<int64_t>(0, timeout.count());
    int ready =
        ::poll(fds, 2, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (ready < 0 && errno != EINTR) {
      s.receive_errors.fetch_add(1, std::memory_order_relaxed);
      return IoError(Errno("poll"));
    }
    if (ready > 0 && (fds[1].revents & POLLIN)) s.DrainEvent();
    if (ready <= 0 || !(fds[0].revents & (POLLIN | POLLERR)) ||
        s.stop.load(std::memory_order_acquire)) {
      return std::span<const Datagram>();
    }
    s.ResetHeaders(n);
    got = ::recvmmsg(s.fd, s.headers.data(), static_cast<unsigned>(n),
                     MSG_DONTWAIT, nullptr);
    if (got < 0 &&
        (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return std::span<const Datagram>();
    }
  }
  if (got < 0) {
    s.receive_errors.fetch_add(1, std::memory_order_relaxed);
    return IoError(Errno("recvmmsg"));
  }

  int64_t batch_clock_ns = -1;
  size_t kept = 0;
  uint64_t bytes = 0, denied = 0, truncated = 0;
  for (int i = 0; i < got; ++i) {
    msghdr& h = s.headers[i].msg_hdr;
    int64_t arrival_ns = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_TIMESTAMPNS &&
          c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        arrival_ns = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
      } else if (c->cmsg_type == SO_RXQ_OVFL &&
                 c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
        uint32_t drops;
        std::memcpy(&drops, CMSG_DATA(c), sizeof(drops));
        s.ObserveDropCounter(drops);
      }
    }
    if (h.msg_flags & MSG_TRUNC) {
      ++truncated;
      continue;
    }
    Endpoint source = FromSockaddr(s.sources[i]);
    if (s.options.allow && !s.options.allow(source.address)) {
      ++denied;
      continue;
    }
    if (arrival_ns < 0) {
      if (batch_clock_ns < 0) {
        timespec now;
        ::clock_gettime(CLOCK_REALTIME, &now);
        batch_clock_ns = int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
      }
      arrival_ns = batch_clock_ns;
    }
    Datagram& d = s.out[kept++];
    d.payload = std::span<const uint8_t>(
        static_cast<const uint8_t*>(s.iovs[i].iov_base), s.headers[i].msg_len);
    d.exporter = source;
    d.arrival_ns = arrival_ns;
    bytes += s.headers[i].msg_len;
  }
  if (static_cast<size_t>(got) < n) s.PollDropCounter();
  s.datagrams.fetch_add(kept, std::memory_order_relaxed);
  s.bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (denied) s.denied.fetch_add(denied, std::memory_order_relaxed);
  if (truncated) s.truncated.fetch_add(truncated, std::memory_order_relaxed);
  return std::span<const Datagram>(s.out.data(), kept);
}

void UdpReceiver::Wake() {
  uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable.
  ssize_t r = ::write(impl_->event_fd, &one, sizeof(one));
  (void)r;
}

void UdpReceiver::Stop() {
  impl_->stop.store(true, std::memory_order_release);
  Wake();
}

bool UdpReceiver::stopped() const {
  return impl_->stop.load(std::memory_order_acquire);
}

Endpoint UdpReceiver::local_endpoint() const { return impl_->local; }

int UdpReceiver::receive_buffer_bytes() const { return impl_->rcvbuf; }

UdpReceiverStats UdpReceiver::stats() const {
  const Impl& s = *impl_;
  UdpReceiverStats st;
  st.datagrams = s.datagrams.load(std::memory_order_relaxed);
  st.bytes = s.bytes.load(std::memory_order_relaxed);
  st.kernel_drops = s.kernel_drops.load(std::memory_order_relaxed);
  st.denied = s.denied.load(std::memory_order_relaxed);
  st.truncated = s.truncated.load(std::memory_order_relaxed);
  st.receive_errors = s.receive_errors.load(std::memory_order_relaxed);
  return st;
}

}  // namespace flowacct
