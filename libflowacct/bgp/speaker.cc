#include "flowacct/bgp/speaker.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <utility>

namespace flowacct::bgp {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

// RFC 4486 §4: Cease subcodes.
constexpr uint8_t kCease = 6;
constexpr uint8_t kCeaseConnectionRejected = 5;
constexpr uint8_t kCeaseHardReset = 9;  // RFC 8538 §3

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Speaker::Impl {
  Rib* rib = nullptr;
  SpeakerOptions options;
  std::function<void(const SpeakerEvent&)> observer;
  // ApplyUpdate's scratch for report_withdrawn_attributes (server thread).
  std::vector<std::optional<PathAttributes>> withdrawn_attributes;

  // A peer's RIB view and what survives its sessions.
  struct Peer {
    Endpoint endpoint;
    std::unique_ptr<PeerWriter> writer;
    uint32_t peer_as = 0;
    uint32_t router_id = 0;
    std::optional<TcpServer::ConnectionId> connection;
    bool restarting = false;
    int64_t restart_deadline = 0;  // restarting: drop everything then
    std::vector<Family> stale;     // families awaiting End-of-RIB
    int64_t stale_deadline = 0;
    uint64_t updates = 0;
    uint64_t withdrawn_by_error = 0;
    std::vector<Family> add_path;  // ADD-PATH receive of the last session
  };

  struct Connection {
    Endpoint peer;
    std::unique_ptr<Session> session;
    SessionOutput out;
    bool established = false;
    bool notification_received = false;
    bool hard_reset = false;
    SessionParams params;
  };

  std::map<TcpServer::ConnectionId, Connection> connections;
  std::map<IpAddress, Peer> peers;  // by session address

  // Read by other threads.
  mutable std::mutex mu;
  SpeakerStats stats;
  // address / router id -> peer; port 0 when any.
  struct DirectoryEntry {
    IpAddress address;
    uint16_t port = 0;
    IpAddress router_id;
    PeerId id = 0;
  };
  std::vector<DirectoryEntry> directory;
  std::vector<PeerStatus> status;

  int64_t Now() const { return options.clock ? options.clock() : SteadyNs(); }

  void Emit(const SpeakerEvent& e) {
    if (observer) observer(e);
  }

  SpeakerEvent EventFor(SpeakerEvent::Kind kind, const Peer& p) const {
    SpeakerEvent e;
    e.kind = kind;
    e.peer = p.endpoint;
    e.peer_as = p.peer_as;
    e.router_id = p.router_id;
    e.peer_id = p.writer ? p.writer->id() : 0;
    e.add_path = p.add_path;
    return e;
  }

  // Rebuilds what other threads read (peers change rarely).
  void Publish() {
    std::vector<DirectoryEntry> dir;
    std::vector<PeerStatus> st;
    for (const auto& [address, p] : peers) {
      if (!p.writer) continue;
      dir.push_back({address, p.endpoint.port, IpAddress::V4(p.router_id),
                     p.writer->id()});
      PeerStatus s;
      s.address = p.endpoint;
      s.peer_id = p.writer->id();
      s.peer_as = p.peer_as;
      s.router_id = p.router_id;
      s.state = p.restarting      ? "restarting"
                : p.stale.empty() ? "established"
                                  : "established_stale";
      s.routes = p.writer->route_count();
      s.paths = p.writer->path_count();
      s.updates = p.updates;
      s.withdrawn_by_error = p.withdrawn_by_error;
      s.add_path = p.add_path;
      st.push_back(std::move(s));
    }
    std::lock_guard<std::mutex> lock(mu);
    directory = std::move(dir);
    status = std::move(st);
  }

  void Established(Connection& c, const SessionEvent& e) {
    c.established = true;
    c.params = e.params;
    Peer& p = peers[c.peer.address];
    p.endpoint = c.peer;
    p.peer_as = e.peer_open.AsNumber();
    p.router_id = e.peer_open.bgp_id;
    p.add_path = c.params.add_path_receive;
    if (!p.writer) {
      Result<std::unique_ptr<PeerWriter>> w =
          rib->AddPeer({.name = c.peer.ToString()});
      if (!w.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        ++stats.rib_errors;
        return;
      }
      p.writer = std::move(w).value();
    }
    const int64_t now = Now();
    if (p.restarting) {
      // RFC 4724 §4.2: the peer is back; its stale routes wait for the
      // End-of-RIB of their family.
      p.restarting = false;
      p.stale_deadline =
          now + int64_t{options.stale_routes_time_s} * kNsPerSecond;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.sessions_established;
    }
    Publish();
    Emit(EventFor(SpeakerEvent::Kind::kPeerUp, p));
  }

  void ApplyUpdate(Connection& c, const ParsedUpdate& u) {
    auto it = peers.find(c.peer.address);
    if (it == peers.end() || !it->second.writer) return;
    Peer& p = it->second;
    PeerWriter& w = *p.writer;
    ++p.updates;
    uint64_t rib_errors = 0;
    withdrawn_attributes.clear();
    if (u.action != UpdateAction::kSessionReset) {
      for (const Nlri& n : u.withdrawn) {
        if (options.report_withdrawn_attributes) {
          withdrawn_attributes.push_back(w.Attributes(n.key));
        }
        (void)w.Withdraw(n.key);
      }
      if (u.action == UpdateAction::kAfiSafiDisable) {
        for (const Family& f : u.disabled_families) {
          w.MarkStale(f);
          w.SweepStale(f);
        }
      }
      if (!u.announced.empty()) {
        Result<AttrHandle> h = w.Intern(u.attributes);
        if (!h.ok()) {
          ++rib_errors;
        } else {
          for (const Nlri& n : u.announced) {
            if (!w.Announce(n, *h).ok()) ++rib_errors;
          }
        }
      }
      if (u.action == UpdateAction::kTreatAsWithdraw) {
        p.withdrawn_by_error += u.withdrawn.size();
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.updates;
      stats.announced += u.announced.size();
      stats.withdrawn += u.withdrawn.size();
      stats.rib_errors += rib_errors;
      const auto action = static_cast<size_t>(u.action);
      if (action < stats.update_actions.size()) ++stats.update_actions[action];
      for (const UpdateIssue& issue : u.issues) {
        const auto problem = static_cast<size_t>(issue.problem);
        if (problem < stats.update_problems.size()) {
          ++stats.update_problems[problem];
        }
      }
    }
    SpeakerEvent e = EventFor(SpeakerEvent::Kind::kUpdate, p);
    e.update = &u;
    e.withdrawn_attributes = withdrawn_attributes;
    Emit(e);
  }

  void Sweep(Peer& p, const Family& f) {
    auto stale = std::find(p.stale.begin(), p.stale.end(), f);
    if (stale == p.stale.end()) return;
    p.stale.erase(stale);
    SpeakerEvent before = EventFor(SpeakerEvent::Kind::kStaleSweep, p);
    before.family = f;
    Emit(before);
    const size_t n = p.writer ? p.writer->SweepStale(f) : 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      stats.stale_swept += n;
    }
    SpeakerEvent e = EventFor(SpeakerEvent::Kind::kStaleSwept, p);
    e.family = f;
    e.count = n;
    Emit(e);
  }

  void EndOfRib(Connection& c, const Family& f) {
    auto it = peers.find(c.peer.address);
    if (it == peers.end()) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.end_of_ribs;
    }
    SpeakerEvent e = EventFor(SpeakerEvent::Kind::kEndOfRib, it->second);
    e.family = f;
    Emit(e);
    Sweep(it->second, f);
  }

  // The session of `c` ended.
  void Down(TcpServer::ConnectionId id, Connection& c, const SessionEvent& e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.sessions_closed;
    }
    if (!c.established) return;
    auto it = peers.find(c.peer.address);
    if (it == peers.end()) return;
    Peer& p = it->second;
    if (p.connection && *p.connection != id) return;  // replaced
    p.connection.reset();
    const std::optional<GracefulRestart>& gr = c.params.peer_graceful_restart;
    // RFC 4724 §4.2: routes are retained when the session drops without a
    // NOTIFICATION; RFC 8538 §4: also after one, when both sides set the N
    // bit, unless it is a Hard Reset.
    bool keep = gr.has_value() && gr->restart_time_s > 0;
    if (keep && c.notification_received) {
      keep = gr->notification && c.params.peer_graceful_restart.has_value() &&
             !c.hard_reset;
    }
    SpeakerEvent down = EventFor(SpeakerEvent::Kind::kPeerDown, p);
    down.detail = e.detail.empty()
                      ? std::string(CloseReasonName(e.close_reason))
                      : e.detail;
    if (keep && p.writer) {
      p.restarting = true;
      p.restart_deadline =
          Now() +
          int64_t{std::min(gr->restart_time_s, options.max_restart_time_s)} *
              kNsPerSecond;
      p.stale = c.params.families;
      for (const Family& f : p.stale) p.writer->MarkStale(f);
      down.routes_kept = true;
      Publish();
      Emit(down);
      return;
    }
    Emit(down);
    peers.erase(it);  // destroys the writer: the routes go
    Publish();
  }

  void Handle(TcpServer& server, TcpServer::ConnectionId id, Connection& c) {
    if (!c.out.to_send.empty()) server.Send(id, c.out.to_send);
    for (const SessionEvent& e : c.out.events) {
      switch (e.kind) {
        case SessionEvent::Kind::kEstablished: {
          Established(c, e);
          auto it = peers.find(c.peer.address);
          if (it != peers.end()) it->second.connection = id;
          break;
        }
        case SessionEvent::Kind::kUpdate:
          ApplyUpdate(c, c.out.update(e.update_index));
          break;
        case SessionEvent::Kind::kEndOfRib:
          EndOfRib(c, e.family);
          break;
        case SessionEvent::Kind::kNotificationReceived:
          c.notification_received = true;
          c.hard_reset = e.notification.code == kCease &&
                         e.notification.subcode == kCeaseHardReset;
          break;
        case SessionEvent::Kind::kRouteRefresh:
          break;
        case SessionEvent::Kind::kClosed:
          Down(id, c, e);
          server.Close(id, e.detail.empty()
                               ? std::string(CloseReasonName(e.close_reason))
                               : e.detail);
          break;
      }
    }
    c.out.Clear();
  }
};

Speaker::Speaker(Rib* rib, SpeakerOptions options,
                 std::function<void(const SpeakerEvent&)> observer)
    : impl_(std::make_unique<Impl>()) {
  impl_->rib = rib;
  impl_->options = std::move(options);
  impl_->observer = std::move(observer);
}

Speaker::~Speaker() = default;

std::optional<PeerId> Speaker::FindPeer(const IpAddress& address,
                                        uint16_t port) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const Impl::DirectoryEntry& d : impl_->directory) {
    if (d.address == address && (port == 0 || d.port == port)) return d.id;
  }
  for (const Impl::DirectoryEntry& d : impl_->directory) {
    if (d.router_id == address) return d.id;
  }
  return std::nullopt;
}

std::vector<PeerStatus> Speaker::Peers() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->status;
}

SpeakerStats Speaker::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

void Speaker::OnOpen(TcpServer& server, TcpServer::ConnectionId id,
                     const Endpoint& peer, const Endpoint& local) {
  Impl& s = *impl_;
  // A new connection from an address with a session: the peer restarted
  // and the old TCP connection is dead (or a collision, which a passive
  // speaker resolves the same way: the newest wins).
  for (auto& [other_id, c] : s.connections) {
    if (c.peer.address == peer.address &&
        c.session->state() != SessionState::kClosed) {
      c.out.Clear();
      c.session->OnConnectionClosed(s.Now(), &c.out);
      s.Handle(server, other_id, c);
    }
  }
  size_t live = 0;
  for (const auto& [other_id, c] : s.connections) {
    if (c.session->state() != SessionState::kClosed) ++live;
  }
  if (live >= s.options.max_peers) {
    Notification n;
    n.code = kCease;
    n.subcode = kCeaseConnectionRejected;
    std::vector<uint8_t> bytes;
    AppendNotification(n, &bytes);
    server.Send(id, bytes);
    server.Close(id, "bgp_daemon_max_peers reached");
    {
      std::lock_guard<std::mutex> lock(s.mu);
      ++s.stats.connections_rejected;
    }
    SpeakerEvent e;
    e.kind = SpeakerEvent::Kind::kRejected;
    e.peer = peer;
    s.Emit(e);
    return;
  }
  Impl::Connection& c = s.connections[id];
  c.peer = peer;
  c.session = std::make_unique<Session>(s.options.session, s.Now());
}

void Speaker::OnData(TcpServer& server, TcpServer::ConnectionId id,
                     std::span<const uint8_t> bytes) {
  auto it = impl_->connections.find(id);
  if (it == impl_->connections.end()) return;
  Impl::Connection& c = it->second;
  if (c.session->state() == SessionState::kClosed) return;
  c.session->Feed(bytes, impl_->Now(), &c.out);
  impl_->Handle(server, id, c);
}

void Speaker::OnClose(TcpServer& server, TcpServer::ConnectionId id,
                      std::string_view reason) {
  auto it = impl_->connections.find(id);
  if (it == impl_->connections.end()) return;
  Impl::Connection& c = it->second;
  if (c.session->state() != SessionState::kClosed) {
    c.session->OnConnectionClosed(impl_->Now(), &c.out);
    impl_->Handle(server, id, c);
  }
  impl_->connections.erase(it);
}

void Speaker::OnTick(TcpServer& server) {
  Impl& s = *impl_;
  const int64_t now = s.Now();
  for (auto& [id, c] : s.connections) {
    if (c.session->state() == SessionState::kClosed) continue;
    if (now >= c.session->NextTimerNs()) {
      c.session->OnTimer(now, &c.out);
      s.Handle(server, id, c);
    }
  }
  for (auto it = s.peers.begin(); it != s.peers.end();) {
    Impl::Peer& p = it->second;
    if (p.restarting && now >= p.restart_deadline) {
      // RFC 4724 §4.2: the peer did not come back in time.
      for (const Family& f : std::vector<Family>(p.stale)) s.Sweep(p, f);
      it = s.peers.erase(it);
      continue;
    }
    if (!p.restarting && !p.stale.empty() && now >= p.stale_deadline) {
      for (const Family& f : std::vector<Family>(p.stale)) s.Sweep(p, f);
    }
    ++it;
  }
  s.Publish();  // route counts for Peers()
}

}  // namespace flowacct::bgp
