// File: flowacct/io/udp_receiver.h
//
// UdpReceiver: one UDP listening socket that flow exporters send NetFlow,
// IPFIX and sFlow datagrams to. It receives in batches (recvmmsg) into
// buffers allocated once at Open(), so the receive path allocates nothing per
// datagram, and hands out Datagram views that feed Decoder::Decode directly.
//
//   UdpReceiverOptions o;
//   o.address = "::";   // dual-stack: IPv4 and IPv6 exporters
//   o.port = 2100;
//   auto r = UdpReceiver::Open(o);
//   if (!r.ok()) ...
//   while (!(*r)->stopped()) {
//     Result<std::span<const Datagram>> batch =
//         (*r)->Receive(std::chrono::milliseconds(500));
//     if (!batch.ok()) break;                 // socket error
//     for (const Datagram& d : *batch) decoder->Decode(d, &records);
//   }
//   // another thread: (*r)->Stop();  -> Receive returns promptly
//
// What it does for the daemon (DESIGN.md §4):
//   - a large SO_RCVBUF (SO_RCVBUFFORCE when the process may, so the
//     net.core.rmem_max cap does not apply; SO_RCVBUF otherwise); the value
//     the kernel granted is reported by receive_buffer_bytes();
//   - kernel drop accounting: datagrams the kernel dropped because the socket
//     buffer was full, read from the SO_RXQ_OVFL control message and from
//     SO_MEMINFO when the queue is empty, reported as a cumulative counter;
//   - arrival time from SO_TIMESTAMPNS (the kernel's receive time), else the
//     realtime clock read once per batch;
//   - IPv4-mapped IPv6 sources (::ffff:a.b.c.d, seen on dual-stack sockets)
//     reported as IPv4, so an exporter has one identity whichever family it
//     uses;
//   - an optional allow list applied per datagram (denied ones are counted
//     and never returned).
//
// Lifetime: the span returned by Receive() and the payloads it points to are
// owned by the receiver and valid until the next Receive() call or the
// receiver's destruction.
//
// Thread-safety: Receive() must be called from one thread at a time (one
// thread per receiver). stats(), Wake(), Stop() and stopped() may be called
// from any thread at any time.

#ifndef FLOWACCT_IO_UDP_RECEIVER_H_
#define FLOWACCT_IO_UDP_RECEIVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "flowacct/decode/decoder.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct {

struct UdpReceiverOptions {
  // Address to bind: an IPv4 or IPv6 literal. "" and "::" bind every IPv4
  // and IPv6 address (one dual-stack socket, IPV6_V6ONLY off); "0.0.0.0"
  // binds every IPv4 address only.
  std::string address = "::";
  // UDP port; 0 picks an ephemeral port (see UdpReceiver::port()).
  uint16_t port = 2100;

  // Socket receive buffer to request, in bytes (the kernel doubles the value
  // for bookkeeping and reports the doubled figure). A large buffer absorbs
  // bursts while decode workers are busy. 0 leaves the system default.
  int receive_buffer_bytes = 32 * 1024 * 1024;

  // Datagrams read per recvmmsg call, and the largest datagram accepted.
  // Memory held: batch_size * max_datagram_bytes. A longer datagram is
  // truncated by the kernel; it is counted in stats().truncated and not
  // returned.
  size_t batch_size = 64;
  size_t max_datagram_bytes = 65535;

  // SO_REUSEPORT, so several receivers (threads) can share one port and the
  // kernel spreads exporters across them by source address hash.
  bool reuse_port = false;

  // Called for each datagram's source address (already converted from
  // IPv4-mapped IPv6); false denies it: it is counted in stats().denied and
  // not returned. Called on the receiving thread. Empty allows everything.
  std::function<bool(const IpAddress&)> allow;
};

// Cumulative counters since Open(). Datagrams read from the socket are
// exactly datagrams + denied + truncated.
struct UdpReceiverStats {
  uint64_t datagrams = 0;       // datagrams returned by Receive()
  uint64_t bytes = 0;           // payload bytes of those datagrams
  uint64_t kernel_drops = 0;    // dropped by the kernel, socket buffer full
  uint64_t denied = 0;          // refused by the allow list
  uint64_t truncated = 0;       // longer than max_datagram_bytes (MSG_TRUNC)
  uint64_t receive_errors = 0;  // failed recvmmsg calls (not EAGAIN/EINTR)
};

class UdpReceiver {
 public:
  // Creates, configures and binds the socket and allocates the batch
  // buffers. kInvalidArgument for an unparsable address or a zero
  // batch_size / max_datagram_bytes (or above 65535); kIoError when the
  // socket cannot be created or bound (e.g. the port is in use), with the
  // system error in the message.
  static Result<std::unique_ptr<UdpReceiver>> Open(
      const UdpReceiverOptions& options);

  ~UdpReceiver();
  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

  // Waits up to `timeout` for datagrams and returns those received, at most
  // batch_size. Returns without waiting when datagrams are already queued.
  // An empty span means the timeout expired, Wake() or Stop() was called,
  // or every datagram read was denied or truncated. After Stop() it returns
  // an empty span immediately. kIoError if the socket fails (counted in
  // stats().receive_errors); the receiver stays usable.
  Result<std::span<const Datagram>> Receive(std::chrono::milliseconds timeout);

  // Makes a Receive() blocked in another thread (or the next one) return
  // promptly with what it has. Async-signal-safe.
  void Wake();
  // Wake() for good: every later Receive() returns an empty span at once.
  void Stop();
  bool stopped() const;

  // The bound address and port (the ephemeral port when options.port was 0).
  Endpoint local_endpoint() const;
  uint16_t port() const { return local_endpoint().port; }
  // The socket receive buffer size the kernel reports (SO_RCVBUF), bytes.
  int receive_buffer_bytes() const;

  // A consistent-enough snapshot (each counter is read atomically).
  UdpReceiverStats stats() const;

 private:
  struct Impl;
  explicit UdpReceiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_IO_UDP_RECEIVER_H_
