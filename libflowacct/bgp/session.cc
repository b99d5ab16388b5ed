// The passive BGP-4 FSM (RFC 4271 §8), sans I/O.

#include "flowacct/bgp/session.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "libflowacct/bgp/wire.h"

namespace flowacct::bgp {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// RFC 6608 FSM error subcodes.
constexpr uint8_t kFsmUnexpectedInOpenSent = 1;
constexpr uint8_t kFsmUnexpectedInOpenConfirm = 2;
constexpr uint8_t kFsmUnexpectedInEstablished = 3;

Notification Make(uint8_t code, uint8_t sub) {
  Notification n;
  n.code = code;
  n.subcode = sub;
  return n;
}

}  // namespace

std::string_view SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kOpenWait:
      return "open-wait";
    case SessionState::kOpenConfirm:
      return "open-confirm";
    case SessionState::kEstablished:
      return "established";
    case SessionState::kClosed:
      return "closed";
  }
  return "unknown";
}

std::string_view CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kNone:
      return "none";
    case CloseReason::kNotificationReceived:
      return "notification-received";
    case CloseReason::kProtocolError:
      return "protocol-error";
    case CloseReason::kHoldTimerExpired:
      return "hold-timer-expired";
    case CloseReason::kConnectionClosed:
      return "connection-closed";
    case CloseReason::kLocalShutdown:
      return "local-shutdown";
  }
  return "unknown";
}

Session::Session(SessionOptions options, int64_t now_ns)
    : options_(std::move(options)) {
  // RFC 4271 §4.2: a hold time of 1 or 2 seconds is not allowed.
  if (options_.hold_time_s == 1 || options_.hold_time_s == 2) {
    options_.hold_time_s = 3;
  }
  hold_deadline_ns_ =
      options_.open_wait_ns > 0 ? now_ns + options_.open_wait_ns : kNever;
}

size_t Session::max_message_size() const {
  return state_ == SessionState::kOpenWait ? kMaxMessageSize
                                           : params_.max_message_size();
}

int64_t Session::NextTimerNs() const {
  if (state_ == SessionState::kClosed) return kNever;
  return std::min(hold_deadline_ns_, keepalive_deadline_ns_);
}

void Session::RestartHoldTimer(int64_t now_ns) {
  if (state_ == SessionState::kOpenWait) return;  // the OPEN wait stands
  hold_deadline_ns_ =
      hold_time_s_ == 0 ? kNever : now_ns + int64_t{hold_time_s_} * kSecondNs;
}

void Session::Feed(std::span<const uint8_t> bytes, int64_t now_ns,
                   SessionOutput* out) {
  while (state_ != SessionState::kClosed) {
    if (!pending_.empty()) {
      // Complete the carried-over message first, copying only its bytes.
      Frame f = FindMessage(pending_, max_message_size());
      if (f.kind == Frame::Kind::kError) {
        SendAndClose(f.error, CloseReason::kProtocolError,
                     "message header error", out);
        return;
      }
      if (f.kind == Frame::Kind::kMessage) {
        Process(f.type, f.message, now_ns, out);
        pending_.clear();
        continue;
      }
      if (bytes.empty()) return;
      const size_t want =
          pending_.size() < kHeaderSize
              ? kHeaderSize - pending_.size()
              : wire::LoadU16(pending_.data() + 16) - pending_.size();
      const size_t take = std::min(want, bytes.size());
      pending_.insert(pending_.end(), bytes.begin(), bytes.begin() + take);
      bytes = bytes.subspan(take);
      continue;
    }
    if (bytes.empty()) return;
    Frame f = FindMessage(bytes, max_message_size());
    if (f.kind == Frame::Kind::kError) {
      SendAndClose(f.error, CloseReason::kProtocolError, "message header error",
                   out);
      return;
    }
    if (f.kind == Frame::Kind::kNeedMore) {
      pending_.assign(bytes.begin(), bytes.end());
      return;
    }
    const size_t n = f.message.size();
    Process(f.type, f.message, now_ns, out);
    bytes = bytes.subspan(n);
  }
}

void Session::Process(MessageType type, std::span<const uint8_t> message,
                      int64_t now_ns, SessionOutput* out) {
  if (type == MessageType::kNotification) {
    SessionEvent& e = out->events.emplace_back();
    e.kind = SessionEvent::Kind::kNotificationReceived;
    (void)ParseNotification(message, &e.notification, options_.limits);
    Notification received = e.notification;
    Close(CloseReason::kNotificationReceived, received.ToString(), out,
          &received);
    return;
  }
  switch (state_) {
    case SessionState::kOpenWait:
      if (type == MessageType::kOpen) {
        OnOpen(message, now_ns, out);
      } else {
        SendAndClose(Make(error_code::kFsm, kFsmUnexpectedInOpenSent),
                     CloseReason::kProtocolError, "message before OPEN", out);
      }
      return;
    case SessionState::kOpenConfirm:
      if (type == MessageType::kKeepalive) {
        state_ = SessionState::kEstablished;
        RestartHoldTimer(now_ns);
        SessionEvent& e = out->events.emplace_back();
        e.kind = SessionEvent::Kind::kEstablished;
        e.params = params_;
        e.peer_open = peer_open_;
      } else {
        SendAndClose(Make(error_code::kFsm, kFsmUnexpectedInOpenConfirm),
                     CloseReason::kProtocolError,
                     "unexpected message in OpenConfirm", out);
      }
      return;
    case SessionState::kEstablished:
      break;
    case SessionState::kClosed:
      return;
  }
  RestartHoldTimer(now_ns);
  switch (type) {
    case MessageType::kKeepalive:
      return;
    case MessageType::kUpdate: {
      size_t index = 0;
      ParsedUpdate* u = out->NextUpdate(&index);
      ParseUpdate(message, params_, u, options_.limits);
      SessionEvent& e = out->events.emplace_back();
      e.update_index = index;
      if (u->end_of_rib) {
        e.kind = SessionEvent::Kind::kEndOfRib;
        e.family = *u->end_of_rib;
        return;
      }
      e.kind = SessionEvent::Kind::kUpdate;
      if (u->action == UpdateAction::kAfiSafiDisable) {
        // RFC 4760 §7: stop accepting the family from this peer.
        std::erase_if(params_.families, [u](const Family& f) {
          const auto& d = u->disabled_families;
          return std::find(d.begin(), d.end(), f) != d.end();
        });
      } else if (u->action == UpdateAction::kSessionReset) {
        const Notification n = u->notification;
        SendAndClose(n, CloseReason::kProtocolError, "UPDATE error", out);
      }
      return;
    }
    case MessageType::kRouteRefresh: {
      RouteRefresh rr;
      Notification error;
      if (!ParseRouteRefresh(message, &rr, &error).ok()) {
        SendAndClose(error, CloseReason::kProtocolError, "ROUTE-REFRESH error",
                     out);
        return;
      }
      SessionEvent& e = out->events.emplace_back();
      e.kind = SessionEvent::Kind::kRouteRefresh;
      Family f;
      if (wire::ToFamily(rr.afi, rr.safi, &f)) e.family = f;
      return;
    }
    case MessageType::kOpen:
    default:
      SendAndClose(Make(error_code::kFsm, kFsmUnexpectedInEstablished),
                   CloseReason::kProtocolError,
                   "unexpected message in Established", out);
      return;
  }
}

void Session::OnOpen(std::span<const uint8_t> message, int64_t now_ns,
                     SessionOutput* out) {
  Notification error;
  Status s = ParseOpen(message, &peer_open_, &error, options_.limits);
  if (!s.ok()) {
    SendAndClose(error, CloseReason::kProtocolError, s.message(), out);
    return;
  }
  const uint32_t peer_as = peer_open_.AsNumber();
  const uint32_t local_as =
      options_.local_as != 0 ? options_.local_as : peer_as;
  // RFC 6286 §2.2: identical identifiers are only an error within an AS.
  if (local_as == peer_as && peer_open_.bgp_id == options_.router_id) {
    SendAndClose(Make(error_code::kOpenMessage, subcode::kBadBgpIdentifier),
                 CloseReason::kProtocolError, "peer BGP identifier equals ours",
                 out);
    return;
  }

  OpenMessage& o = local_open_;
  o = OpenMessage();
  o.version = 4;
  o.hold_time_s = options_.hold_time_s;
  o.bgp_id = options_.router_id;
  SetAsNumber(local_as, &o);
  Capabilities& c = o.capabilities;
  c.multiprotocol = options_.families;
  c.route_refresh = true;
  c.extended_message = options_.extended_message;
  if (options_.add_path_receive) {
    for (const Family& f : options_.families) {
      c.add_path.push_back({f, /*send=*/false, /*receive=*/true});
    }
  }
  if (options_.graceful_restart_helper) {
    c.graceful_restart = GracefulRestart();
  }
  params_ = Negotiate(local_open_, peer_open_);

  // RFC 4271 §4.2: the smaller hold time; 0 means no keepalives.
  hold_time_s_ = std::min(options_.hold_time_s, peer_open_.hold_time_s);
  const size_t before = out->to_send.size();
  if (Status e = AppendOpen(local_open_, &out->to_send); !e.ok()) {
    out->to_send.resize(before);
    SendAndClose(Make(error_code::kCease, subcode::kOutOfResources),
                 CloseReason::kProtocolError, e.message(), out);
    return;
  }
  AppendKeepalive(&out->to_send);
  state_ = SessionState::kOpenConfirm;
  RestartHoldTimer(now_ns);
  keepalive_deadline_ns_ = hold_time_s_ == 0
                               ? kNever
                               : now_ns + int64_t{hold_time_s_} * kSecondNs / 3;
}

void Session::OnTimer(int64_t now_ns, SessionOutput* out) {
  if (state_ == SessionState::kClosed) return;
  if (now_ns >= hold_deadline_ns_) {
    if (state_ == SessionState::kOpenWait) {
      SendAndClose(Make(error_code::kHoldTimerExpired, 0),
                   CloseReason::kHoldTimerExpired, "no OPEN received", out);
    } else {
      SendAndClose(Make(error_code::kHoldTimerExpired, 0),
                   CloseReason::kHoldTimerExpired, "hold timer expired", out);
    }
    return;
  }
  if (now_ns >= keepalive_deadline_ns_) {
    AppendKeepalive(&out->to_send);
    const int64_t interval = int64_t{hold_time_s_} * kSecondNs / 3;
    keepalive_deadline_ns_ = now_ns + std::max<int64_t>(interval, 1);
  }
}

void Session::OnConnectionClosed(int64_t /*now_ns*/, SessionOutput* out) {
  if (state_ == SessionState::kClosed) return;
  Close(CloseReason::kConnectionClosed, "connection closed", out);
}

void Session::Shutdown(std::string_view communication, SessionOutput* out) {
  if (state_ == SessionState::kClosed) return;
  SendAndClose(AdministrativeShutdown(communication),
               CloseReason::kLocalShutdown, "administrative shutdown", out);
}

void Session::SendAndClose(const Notification& n, CloseReason reason,
                           std::string detail, SessionOutput* out) {
  AppendNotification(n, &out->to_send);
  Close(reason, std::move(detail), out, &n);
}

void Session::Close(CloseReason reason, std::string detail, SessionOutput* out,
                    const Notification* notification) {
  state_ = SessionState::kClosed;
  pending_.clear();
  pending_.shrink_to_fit();
  hold_deadline_ns_ = kNever;
  keepalive_deadline_ns_ = kNever;
  SessionEvent& e = out->events.emplace_back();
  e.kind = SessionEvent::Kind::kClosed;
  e.close_reason = reason;
  e.detail = std::move(detail);
  if (notification != nullptr) e.notification = *notification;
}

}  // namespace flowacct::bgp
