#include "flowacct/bmp/collector.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

namespace flowacct::bmp {
namespace {

// What tells one monitored-peer view from another within a router.
struct ViewKey {
  PeerType type = PeerType::kGlobal;
  bgp::RouteDistinguisher distinguisher;
  IpAddress address;
  bool post_policy = false;
  bool adj_rib_out = false;

  static ViewKey Of(const PeerHeader& h) {
    return {h.type, h.distinguisher, h.address, h.post_policy, h.adj_rib_out};
  }
  friend auto operator<=>(const ViewKey&, const ViewKey&) = default;
};

std::string Printable(const std::string& raw) {
  return bgp::EscapeForLog(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
}

}  // namespace

struct Collector::Impl {
  bgp::Rib* rib = nullptr;
  CollectorOptions options;
  std::function<void(const CollectorEvent&)> observer;

  struct View {
    PeerHeader peer;
    std::unique_ptr<bgp::PeerWriter> writer;
    uint64_t order = 0;  // creation order, for the answering-view rule
    std::vector<bgp::Family> add_path;  // ViewStatus::add_path
  };

  // What the last Peer Up of a monitored peer said about path ids, for its
  // views (some are created later, at their first Route Monitoring).
  struct PeerPaths {
    PeerHeader peer;
    std::vector<bgp::Family> in;
    std::vector<bgp::Family> out;
  };

  struct Router : StreamHandler {
    Impl* impl = nullptr;
    Endpoint address;
    Stream stream;
    std::string sys_name;
    std::string sys_descr;
    std::map<ViewKey, View> views;
    std::vector<PeerPaths> peer_paths;
    uint64_t next_order = 0;
    bool terminated = false;  // a Termination message was read

    CollectorEvent Event(MessageType type) const {
      CollectorEvent e;
      e.kind = CollectorEvent::Kind::kMessage;
      e.router = address;
      e.message_type = type;
      return e;
    }

    View* ViewFor(const PeerHeader& peer, bool create) {
      const ViewKey key = ViewKey::Of(peer);
      auto it = views.find(key);
      if (it != views.end()) return &it->second;
      if (!create) return nullptr;
      Result<std::unique_ptr<bgp::PeerWriter>> w = impl->rib->AddPeer(
          {.name = address.address.ToString() + "/" + peer.address.ToString()});
      if (!w.ok()) {
        impl->CountRibError();
        return nullptr;
      }
      View& v = views[key];
      v.peer = peer;
      v.writer = std::move(w).value();
      v.order = next_order++;
      for (const PeerPaths& p : peer_paths) {
        if (p.peer.SamePeer(peer)) v.add_path = peer.adj_rib_out ? p.out : p.in;
      }
      return &v;
    }

    void OnInitiation(const Initiation& init) override {
      for (const InformationTlv& t : init.information) {
        if (t.type == 1) sys_descr = Printable(t.value);
        if (t.type == 2) sys_name = Printable(t.value);
      }
      CollectorEvent e = Event(MessageType::kInitiation);
      e.initiation = &init;
      impl->Emit(e);
    }
    void OnTermination(const Termination& term) override {
      terminated = true;
      CollectorEvent e = Event(MessageType::kTermination);
      e.termination = &term;
      impl->Emit(e);
    }
    void OnPeerUp(const PeerUp& up) override {
      auto paths = std::find_if(
          peer_paths.begin(), peer_paths.end(),
          [&](const PeerPaths& p) { return p.peer.SamePeer(up.peer); });
      if (paths == peer_paths.end()) {
        paths = peer_paths.insert(peer_paths.end(), PeerPaths{up.peer, {}, {}});
      }
      paths->in = up.add_path_in;
      paths->out = up.add_path_out;
      // A Peer Up for a view we already hold (the router re-announces):
      // its routes are about to be re-sent, start clean.
      View* v = ViewFor(up.peer, true);
      if (v != nullptr) {
        v->peer = up.peer;
        v->writer->Clear();
      }
      for (auto& [key, view] : views) {
        if (!view.peer.SamePeer(up.peer)) continue;
        view.add_path =
            view.peer.adj_rib_out ? up.add_path_out : up.add_path_in;
        // The same peer's other views (post-policy, Adj-RIB-Out) restart too.
        if (&view != v) view.writer->Clear();
      }
      CollectorEvent e = Event(MessageType::kPeerUp);
      e.peer = &up.peer;
      e.peer_up = &up;
      impl->Emit(e);
      impl->Publish();
    }
    void OnPeerDown(const PeerDown& down) override {
      std::erase_if(peer_paths, [&](const PeerPaths& p) {
        return p.peer.SamePeer(down.peer);
      });
      // Every view of that peer (pre/post policy, in/out) goes.
      for (auto it = views.begin(); it != views.end();) {
        if (it->second.peer.SamePeer(down.peer)) {
          it = views.erase(it);
        } else {
          ++it;
        }
      }
      CollectorEvent e = Event(MessageType::kPeerDown);
      e.peer = &down.peer;
      e.peer_down = &down;
      impl->Emit(e);
      impl->Publish();
    }
    void OnStatistics(const StatisticsReport& report) override {
      CollectorEvent e = Event(MessageType::kStatisticsReport);
      e.peer = &report.peer;
      e.statistics = &report;
      impl->Emit(e);
    }
    void OnRouteMonitoring(const PeerHeader& peer,
                           const bgp::ParsedUpdate& u) override {
      const bool created = ViewFor(peer, false) == nullptr;
      View* v = ViewFor(peer, true);
      if (v != nullptr) {
        bgp::PeerWriter& w = *v->writer;
        if (u.action != bgp::UpdateAction::kSessionReset) {
          for (const bgp::Nlri& n : u.withdrawn) (void)w.Withdraw(n.key);
          if (u.action == bgp::UpdateAction::kAfiSafiDisable) {
            for (const bgp::Family& f : u.disabled_families) {
              w.MarkStale(f);
              w.SweepStale(f);
            }
          }
          if (!u.announced.empty()) {
            Result<bgp::AttrHandle> h = w.Intern(u.attributes);
            if (!h.ok() || !w.Announce(u.announced, *h).ok()) {
              impl->CountRibError();
            }
          }
        }
      }
      CollectorEvent e = Event(MessageType::kRouteMonitoring);
      e.peer = &peer;
      e.update = &u;
      if (v != nullptr) e.add_path = v->add_path;
      impl->Emit(e);
      if (created) impl->Publish();
    }
  };

  std::map<TcpServer::ConnectionId, std::unique_ptr<Router>> routers;

  mutable std::mutex mu;
  CollectorStats stats;
  struct Answer {
    IpAddress router;
    bgp::PeerId id = 0;
  };
  std::vector<Answer> answers;
  std::vector<RouterStatus> router_status;
  std::vector<ViewStatus> view_status;

  void Emit(const CollectorEvent& e) {
    if (observer) observer(e);
  }
  void CountRibError() {
    std::lock_guard<std::mutex> lock(mu);
    ++stats.rib_errors;
  }

  // The view answering for a router's flows: Loc-RIB, else the first
  // announced peer's post-policy Adj-RIB-In, else its pre-policy one.
  static const View* Answering(const Router& r) {
    const View* best = nullptr;
    int best_rank = 99;
    for (const auto& [key, v] : r.views) {
      int rank = 99;
      if (v.peer.type == PeerType::kLocRib) {
        rank = 0;
      } else if (!v.peer.adj_rib_out) {
        rank = v.peer.post_policy ? 1 : 2;
      }
      if (rank < best_rank ||
          (rank == best_rank && best != nullptr && v.order < best->order)) {
        best = &v;
        best_rank = rank;
      }
    }
    return best_rank < 99 ? best : nullptr;
  }

  void Publish() {
    std::vector<Answer> a;
    std::vector<RouterStatus> rs;
    std::vector<ViewStatus> vs;
    for (const auto& [id, r] : routers) {
      if (const View* v = Answering(*r)) {
        a.push_back({r->address.address, v->writer->id()});
      }
      RouterStatus s;
      s.router = r->address;
      s.sys_name = r->sys_name;
      s.sys_descr = r->sys_descr;
      s.stream = r->stream.stats();
      s.views = r->views.size();
      rs.push_back(std::move(s));
      for (const auto& [key, v] : r->views) {
        vs.push_back({r->address, v.peer, v.writer->id(),
                      v.writer->route_count(), v.writer->path_count(),
                      v.add_path});
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    answers = std::move(a);
    router_status = std::move(rs);
    view_status = std::move(vs);
  }
};

Collector::Collector(bgp::Rib* rib, CollectorOptions options,
                     std::function<void(const CollectorEvent&)> observer)
    : impl_(std::make_unique<Impl>()) {
  impl_->rib = rib;
  impl_->options = std::move(options);
  impl_->observer = std::move(observer);
}

Collector::~Collector() = default;

std::optional<bgp::PeerId> Collector::FindRouterView(
    const IpAddress& router) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const Impl::Answer& a : impl_->answers) {
    if (a.router == router) return a.id;
  }
  return std::nullopt;
}

std::vector<RouterStatus> Collector::Routers() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->router_status;
}

std::vector<ViewStatus> Collector::Views() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->view_status;
}

CollectorStats Collector::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

void Collector::OnOpen(TcpServer& server, TcpServer::ConnectionId id,
                       const Endpoint& peer, const Endpoint& local) {
  Impl& s = *impl_;
  if (s.routers.size() >= s.options.max_routers) {
    server.Close(id, "bmp_daemon_max_peers reached");
    {
      std::lock_guard<std::mutex> lock(s.mu);
      ++s.stats.routers_rejected;
    }
    CollectorEvent e;
    e.kind = CollectorEvent::Kind::kRejected;
    e.router = peer;
    s.Emit(e);
    return;
  }
  auto r = std::make_unique<Impl::Router>();
  r->impl = &s;
  r->address = peer;
  r->stream = Stream(s.options.stream);
  s.routers.emplace(id, std::move(r));
  {
    std::lock_guard<std::mutex> lock(s.mu);
    ++s.stats.routers_connected;
  }
  CollectorEvent e;
  e.kind = CollectorEvent::Kind::kRouterUp;
  e.router = peer;
  s.Emit(e);
  s.Publish();
}

void Collector::OnData(TcpServer& server, TcpServer::ConnectionId id,
                       std::span<const uint8_t> bytes) {
  auto it = impl_->routers.find(id);
  if (it == impl_->routers.end()) return;
  Impl::Router& r = *it->second;
  Status s = r.stream.Feed(bytes, &r);
  if (!s.ok()) {
    // BM-1: the framing is lost; only closing resynchronises.
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      ++impl_->stats.stream_errors;
    }
    server.Close(id, s.message());
  } else if (r.terminated) {
    // RFC 7854 §4.5: the station MUST close the session after a
    // Termination message.
    server.Close(id, "termination message");
  }
}

void Collector::OnClose(TcpServer& server, TcpServer::ConnectionId id,
                        std::string_view reason) {
  auto it = impl_->routers.find(id);
  if (it == impl_->routers.end()) return;
  CollectorEvent e;
  e.kind = CollectorEvent::Kind::kRouterDown;
  e.router = it->second->address;
  e.detail = std::string(reason);
  impl_->routers.erase(it);  // its views and their routes go
  impl_->Emit(e);
  impl_->Publish();
}

void Collector::OnTick(TcpServer& server) { impl_->Publish(); }

}  // namespace flowacct::bmp
