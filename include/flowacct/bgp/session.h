// File: flowacct/bgp/session.h
//
// Session: the passive BGP-4 finite state machine (RFC 4271 §8) for one
// accepted TCP connection, sans I/O. The caller owns the socket and the
// clock: it feeds received bytes with the current time, calls OnTimer() at
// (or after) NextTimerNs(), writes SessionOutput::to_send to the socket, and
// consumes SessionOutput::events (updates to apply to the RIB, End-of-RIB,
// session up and down).
//
// Behaviour, modelled on pmacct's BGP daemon:
//   - It waits for the peer's OPEN, then answers with its own OPEN and a
//     KEEPALIVE (AS: SessionOptions::local_as, or the peer's AS when 0,
//     which makes an iBGP session like pmacct's default).
//   - Once the peer's KEEPALIVE arrives the session is established; it then
//     sends a KEEPALIVE every negotiated hold time / 3 and never sends an
//     UPDATE. ROUTE-REFRESH requests are accepted and ignored.
//   - Errors send the NOTIFICATION RFC 4271 / RFC 7606 prescribes and close
//     the session (a kClosed event; the caller then closes the socket).
//   - Framing is independent of how the byte stream is split into reads:
//     any split yields the same events (BG-3).
//
//   bgp::Session session(options, now_ns);
//   bgp::SessionOutput out;
//   // on readable:
//   out.Clear();
//   session.Feed(bytes, now_ns, &out);
//   write(fd, out.to_send);
//   for (const bgp::SessionEvent& e : out.events) { ... }
//   if (session.state() == bgp::SessionState::kClosed) close(fd);
//
// Ownership: a Session owns a copy of its options and at most one partial
// message between Feed() calls; it keeps no reference to caller memory. A
// SessionOutput owns its bytes, events and ParsedUpdates; references into it
// stay valid until its next Clear() or the next Feed()/OnTimer() into it.
//
// Thread-safety: thread-compatible (one thread drives a Session; distinct
// Sessions are independent). SessionOutput likewise.

#ifndef FLOWACCT_BGP_SESSION_H_
#define FLOWACCT_BGP_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/bgp/message.h"
#include "flowacct/bgp/path_attributes.h"

namespace flowacct::bgp {

struct SessionOptions {
  // Our BGP identifier (host order). pmacct's default is 1.2.3.4.
  uint32_t router_id = 0x01020304;
  // Our AS; 0 mirrors the peer's AS (iBGP, pmacct's default).
  uint32_t local_as = 0;
  // The hold time we offer, seconds (0 or >= 3; 1 and 2 are raised to 3).
  // The session uses the smaller of ours and the peer's; 0 disables hold
  // and keepalive timers.
  uint16_t hold_time_s = 90;
  // Families we accept (multiprotocol capabilities we send).
  std::vector<Family> families = {
      kIpv4Unicast,
      kIpv6Unicast,
      {Afi::kIpv4, Safi::kLabeledUnicast},
      {Afi::kIpv6, Safi::kLabeledUnicast},
      {Afi::kIpv4, Safi::kMplsVpn},
      {Afi::kIpv6, Safi::kMplsVpn},
  };
  // Advertise ADD-PATH receive for every family above (pmacct:
  // bgp_daemon_add_path_ignore false).
  bool add_path_receive = true;
  // Advertise RFC 8654 extended messages.
  bool extended_message = true;
  // Advertise the graceful restart capability as a receiving (helper)
  // speaker (RFC 4724 §3: no families, restart time 0).
  bool graceful_restart_helper = true;
  // How long to wait for the peer's OPEN after the connection was accepted
  // (RFC 4271 §8.2.2 suggests a 4-minute hold timer in OpenSent).
  int64_t open_wait_ns = int64_t{240} * 1'000'000'000;
  // Caps for the message parsers.
  MessageLimits limits;
};

enum class SessionState : uint8_t {
  kOpenWait,     // connection accepted, waiting for the peer's OPEN
  kOpenConfirm,  // our OPEN + KEEPALIVE sent, waiting for a KEEPALIVE
  kEstablished,
  kClosed,  // terminal; the caller closes the socket
};
std::string_view SessionStateName(SessionState state);

enum class CloseReason : uint8_t {
  kNone = 0,
  kNotificationReceived,  // the peer sent a NOTIFICATION
  kProtocolError,         // we sent a NOTIFICATION (header, OPEN, UPDATE,
                          // FSM, ROUTE-REFRESH error)
  kHoldTimerExpired,      // we sent Hold Timer Expired
  kConnectionClosed,      // OnConnectionClosed()
  kLocalShutdown,         // Shutdown()
};
std::string_view CloseReasonName(CloseReason reason);

struct SessionEvent {
  enum class Kind : uint8_t {
    kEstablished,           // params / peer_open are set
    kUpdate,                // SessionOutput::update(update_index)
    kEndOfRib,              // family; update(update_index) is the marker
    kNotificationReceived,  // notification (a kClosed event follows)
    kRouteRefresh,          // a request (family set if supported); ignored
    kClosed,                // close_reason, notification (sent, if any)
  };
  Kind kind = Kind::kUpdate;
  size_t update_index = 0;
  Family family;
  Notification notification;
  CloseReason close_reason = CloseReason::kNone;
  std::string detail;  // kClosed: why, for logs
  // kEstablished only.
  SessionParams params;
  OpenMessage peer_open;
};

// What one Feed()/OnTimer() call produced. Reusable: Clear() keeps the
// capacity of every buffer, including the pool of ParsedUpdates, so a
// long-lived SessionOutput parses a full table without per-UPDATE
// allocation in steady state.
class SessionOutput {
 public:
  // Bytes to write to the peer, in order.
  std::vector<uint8_t> to_send;
  std::vector<SessionEvent> events;

  size_t update_count() const { return used_; }
  // REQUIRES: i < update_count().
  const ParsedUpdate& update(size_t i) const { return updates_[i]; }

  void Clear() {
    to_send.clear();
    events.clear();
    used_ = 0;
  }

 private:
  friend class Session;
  ParsedUpdate* NextUpdate(size_t* index) {
    if (used_ == updates_.size()) updates_.emplace_back();
    *index = used_;
    return &updates_[used_++];
  }
  std::vector<ParsedUpdate> updates_;
  size_t used_ = 0;
};

class Session {
 public:
  // `now_ns`: when the TCP connection was accepted (any monotonic clock,
  // nanoseconds; the same clock for every later call).
  Session(SessionOptions options, int64_t now_ns);

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Consumes received bytes (any amount, any split). Appends to *out.
  void Feed(std::span<const uint8_t> bytes, int64_t now_ns, SessionOutput* out);
  // Runs due timers: the hold timer (Hold Timer Expired NOTIFICATION and
  // close, or the OPEN wait) and the keepalive timer. Appends to *out.
  void OnTimer(int64_t now_ns, SessionOutput* out);
  // The peer closed the connection (or it failed).
  void OnConnectionClosed(int64_t now_ns, SessionOutput* out);
  // Closes with Cease / Administrative Shutdown and an RFC 9003
  // communication (may be empty).
  void Shutdown(std::string_view communication, SessionOutput* out);

  // When OnTimer() should next run; INT64_MAX when no timer is armed.
  int64_t NextTimerNs() const;

  SessionState state() const { return state_; }
  // Valid from kOpenConfirm on.
  const SessionParams& params() const { return params_; }
  const OpenMessage& peer_open() const { return peer_open_; }
  const OpenMessage& local_open() const { return local_open_; }
  // Negotiated hold time, seconds (valid from kOpenConfirm on).
  uint16_t hold_time_s() const { return hold_time_s_; }

 private:
  void Process(MessageType type, std::span<const uint8_t> message,
               int64_t now_ns, SessionOutput* out);
  void OnOpen(std::span<const uint8_t> message, int64_t now_ns,
              SessionOutput* out);
  void SendAndClose(const Notification& n, CloseReason reason,
                    std::string detail, SessionOutput* out);
  void Close(CloseReason reason, std::string detail, SessionOutput* out,
             const Notification* notification = nullptr);
  void RestartHoldTimer(int64_t now_ns);
  size_t max_message_size() const;

  SessionOptions options_;
  SessionState state_ = SessionState::kOpenWait;
  SessionParams params_;
  OpenMessage peer_open_;
  OpenMessage local_open_;
  uint16_t hold_time_s_ = 0;
  int64_t hold_deadline_ns_ = std::numeric_limits<int64_t>::max();
  int64_t keepalive_deadline_ns_ = std::numeric_limits<int64_t>::max();
  // A partial message carried over between Feed() calls (at most one
  // message: bounded by the maximum message size).
  std::vector<uint8_t> pending_;
};

}  // namespace flowacct::bgp

#endif  // FLOWACCT_BGP_SESSION_H_
