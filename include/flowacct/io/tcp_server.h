// File: flowacct/io/tcp_server.h
//
// TcpServer: the listening side of the routing feeds — BGP sessions
// (bgp_daemon) and BMP streams (bmp_daemon) — as one epoll loop on one
// thread. It accepts connections, applies the allow list, installs TCP-MD5
// keys (RFC 2385) for the peers that have one, reads whatever arrives and
// hands the bytes to a Handler, and writes what the Handler queues. The
// protocol (framing, sessions, timers) is entirely the Handler's.
//
//   class Collector : public TcpServer::Handler { ... };
//   TcpServerOptions o;
//   o.address = "127.0.0.1";
//   o.port = 0;                         // ephemeral; see local_endpoint()
//   auto server = TcpServer::Open(o, &collector);
//   std::thread t([&] { (void)(*server)->Run(); });
//   ...
//   (*server)->Stop();                  // any thread; Run() returns
//   t.join();
//
// Connections refused by the allow list are closed at once and counted;
// the Handler never sees them. Anything else (how many peers to accept,
// what to send before closing) is for the Handler to decide in OnOpen.
//
// Thread-safety: Run() on one thread. Handler callbacks run on that thread,
// and Send()/Close() may only be called from inside them. Stop(),
// local_endpoint() and stats() may be called from any thread.

#ifndef FLOWACCT_IO_TCP_SERVER_H_
#define FLOWACCT_IO_TCP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct {

struct TcpServerOptions {
  // "" and "::" bind every IPv4 and IPv6 address (dual stack); otherwise an
  // IPv4 or IPv6 literal.
  std::string address = "::";
  uint16_t port = 179;  // 0: an ephemeral port

  // Called with each new peer's address (IPv4-mapped IPv6 already turned
  // into IPv4); false: the connection is closed at once and counted in
  // stats().denied. Empty allows everyone.
  std::function<bool(const IpAddress&)> allow;

  // TCP-MD5 signatures (RFC 2385) required from these peers (pmacct's
  // bgp_daemon_md5_file). Keys are at most 80 bytes (the kernel's limit).
  struct Md5Key {
    IpAddress peer;
    std::string key;
  };
  std::vector<Md5Key> md5_keys;

  // SO_RCVBUF for accepted connections (pmacct's *_pipe_size); 0 keeps the
  // system default.
  int receive_buffer_bytes = 0;

  // Output a connection may have queued (the peer not reading) before it
  // is closed as stuck.
  size_t max_pending_output_bytes = 4 * 1024 * 1024;

  // How often Handler::OnTick runs (timers: keepalives, hold timers).
  std::chrono::milliseconds tick = std::chrono::milliseconds(1000);
};

struct TcpServerStats {
  uint64_t accepted = 0;  // connections handed to the Handler
  uint64_t denied = 0;    // refused by the allow list
  uint64_t open = 0;      // currently open
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t accept_errors = 0;
  // Times a connection's socket receive queue was found nearly full when
  // the server came to read it: the peer outpaces the Handler and its TCP
  // window is closing (for BMP, what makes a router declare the station
  // stuck). Raise *_pipe_size (receive_buffer_bytes) or find the slow part.
  uint64_t receive_queue_full = 0;
};

// Parses pmacct's bgp_daemon_md5_file: one "<peer address>, <key>" per line
// (blanks around the comma are ignored; '!' starts a comment line). At most
// 8192 rows. Errors name "<filename>:<line>": kInvalidArgument for a bad
// address, an empty key or one over 80 bytes, a repeated peer.
Result<std::vector<TcpServerOptions::Md5Key>> ParseMd5Keys(
    std::string_view text, std::string_view filename);
// Reads and parses `path`; kIoError if it cannot be read.
Result<std::vector<TcpServerOptions::Md5Key>> LoadMd5KeyFile(
    const std::string& path);

class TcpServer {
 public:
  using ConnectionId = uint64_t;  // never reused within one server

  // What the protocol layer implements. Callbacks are never re-entered:
  // Close() inside a callback takes effect after it returns.
  class Handler {
   public:
    virtual ~Handler() = default;
    // A connection from `peer` to our `local` address was accepted.
    virtual void OnOpen(TcpServer& server, ConnectionId id,
                        const Endpoint& peer, const Endpoint& local) = 0;
    // Bytes arrived, in order; the span is valid during the call only.
    virtual void OnData(TcpServer& server, ConnectionId id,
                        std::span<const uint8_t> bytes) = 0;
    // The connection is gone: closed by the peer, a socket error, Close(),
    // or Stop(). `reason` is for logs. No callback names `id` afterwards.
    virtual void OnClose(TcpServer& server, ConnectionId id,
                         std::string_view reason) = 0;
    // Every options.tick.
    virtual void OnTick(TcpServer& server) = 0;
  };

  // Creates, binds and listens; `handler` is borrowed and must outlive the
  // server. kInvalidArgument for a bad address or an MD5 key over 80
  // bytes; kIoError when the socket cannot be set up (port in use, no
  // TCP-MD5 support...), with the system error in the message.
  static Result<std::unique_ptr<TcpServer>> Open(
      const TcpServerOptions& options, Handler* handler);

  ~TcpServer();  // closes every connection (OnClose is not called)
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Runs the loop on the calling thread until Stop(); then closes every
  // connection (OnClose with reason "server stopped") and returns.
  // kIoError if epoll itself fails.
  Status Run();
  // Makes Run() return promptly. Any thread; async-signal-safe.
  void Stop();

  // Queues `bytes` for `id` (written as the socket allows). Over
  // max_pending_output_bytes the connection is closed instead. Unknown ids
  // (already closed) are ignored. Only from Handler callbacks.
  void Send(ConnectionId id, std::span<const uint8_t> bytes);
  // Closes `id` once its queued output is written (or at once if the
  // socket cannot take it), then calls OnClose(reason). Only from Handler
  // callbacks.
  void Close(ConnectionId id, std::string_view reason);

  // The bound address and port (the ephemeral port when options.port was 0).
  Endpoint local_endpoint() const;
  TcpServerStats stats() const;

 private:
  struct Impl;
  explicit TcpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_IO_TCP_SERVER_H_
