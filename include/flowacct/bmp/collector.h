// File: flowacct/bmp/collector.h
//
// Collector: pmacct's BMP daemon (bmp_daemon) as a library piece. It is the
// TcpServer::Handler for routers that stream BMP (RFC 7854) to us: one
// bmp::Stream per connection, and per monitored peer view a PeerWriter in
// the shared bgp::Rib, so flows can be enriched from BMP exactly as from
// BGP sessions (nfacctd_as / nfacctd_net: bmp).
//
//   auto rib = bgp::Rib::Create({});
//   bmp::Collector collector(rib->get(), {});
//   TcpServerOptions o;  o.port = 1790;
//   auto server = TcpServer::Open(o, &collector);
//
// Views: a router reports several RIBs per monitored peer; each distinct
// (router, peer type, peer distinguisher, peer address, pre/post policy,
// Adj-RIB-In/Out) is its own view, created at Peer Up (or at the first
// Route Monitoring message, BM-4) and dropped at Peer Down or when the
// router's connection ends. The collector closes a router's connection on
// a framing error (BM-1) and after its Termination message (RFC 7854
// §4.5).
//
// Which view answers for a router's flows (FindRouterView): the router's
// Loc-RIB (RFC 9069) when it sends one — the routes it selected, what a
// flow actually follows — else the post-policy Adj-RIB-In of the first peer
// it announced, else its pre-policy Adj-RIB-In. bmp_agent_map can name the
// router for an exporter (enrich/bgp_agent_map.h).
//
// Thread-safety: the Handler callbacks run on the TcpServer's thread (the
// only writer of these views). FindRouterView(), Routers() and stats() may
// be called from any thread.

#ifndef FLOWACCT_BMP_COLLECTOR_H_
#define FLOWACCT_BMP_COLLECTOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flowacct/bgp/rib.h"
#include "flowacct/bmp/bmp.h"
#include "flowacct/io/tcp_server.h"
#include "flowacct/model/ip_address.h"

namespace flowacct::bmp {

struct CollectorOptions {
  StreamOptions stream;
  // Routers connected at once (bmp_daemon_max_peers; pmacct: 10). One
  // more is closed at once and counted.
  size_t max_routers = 10;
};

// What happened, for logs and the BMP message log (bmp_daemon_msglog_*:
// bmp::AppendCollectorEvent in bmp/msglog.h writes an event's lines): a
// router's connection opening and ending, and each message it sends,
// decoded. References are valid during the call only.
struct CollectorEvent {
  enum class Kind : uint8_t {
    kRouterUp,    // a router connected
    kRouterDown,  // its connection ended: its views are gone
    kMessage,     // one decoded BMP message (see message_type)
    kRejected,    // a router refused (max_routers)
  };
  Kind kind = Kind::kMessage;
  Endpoint router;
  MessageType message_type = MessageType::kRouteMonitoring;
  const PeerHeader* peer = nullptr;           // per-peer messages
  const bgp::ParsedUpdate* update = nullptr;  // kRouteMonitoring
  // kRouteMonitoring: the families whose routes carry a path id in the
  // peer's view (ADD-PATH, as ViewStatus::add_path). Valid during the call.
  std::span<const bgp::Family> add_path;
  const PeerUp* peer_up = nullptr;
  const PeerDown* peer_down = nullptr;
  const StatisticsReport* statistics = nullptr;
  const Initiation* initiation = nullptr;
  const Termination* termination = nullptr;
  std::string detail;  // kRouterDown: why
};

// One monitored peer view, as seen now.
struct ViewStatus {
  Endpoint router;
  PeerHeader peer;  // identity and flags of the view
  bgp::PeerId peer_id = 0;
  uint64_t routes = 0;
  uint64_t paths = 0;
  // Families whose routes carry a path id (ADD-PATH, from the peer's Peer
  // Up; PeerUp::add_path_in or add_path_out by the view's direction).
  std::vector<bgp::Family> add_path;
};

struct RouterStatus {
  Endpoint router;
  std::string sys_name;  // from the Initiation message, escaped
  std::string sys_descr;
  StreamStats stream;
  size_t views = 0;
};

struct CollectorStats {
  uint64_t routers_connected = 0;
  uint64_t routers_rejected = 0;
  uint64_t stream_errors = 0;  // framing lost (BM-1): connection closed
  uint64_t rib_errors = 0;     // Announce/Intern failures (caps)
};

class Collector : public TcpServer::Handler {
 public:
  // `rib` is borrowed and must outlive the collector; `observer` (optional)
  // runs on the server thread.
  Collector(bgp::Rib* rib, CollectorOptions options,
            std::function<void(const CollectorEvent&)> observer = nullptr);
  ~Collector() override;
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // The view that answers for flows of `router` (its BMP source address),
  // per the rule above; nullopt when it has none. Any thread.
  std::optional<bgp::PeerId> FindRouterView(const IpAddress& router) const;

  std::vector<RouterStatus> Routers() const;  // any thread
  std::vector<ViewStatus> Views() const;      // any thread
  CollectorStats stats() const;               // any thread

  // TcpServer::Handler.
  void OnOpen(TcpServer& server, TcpServer::ConnectionId id,
              const Endpoint& peer, const Endpoint& local) override;
  void OnData(TcpServer& server, TcpServer::ConnectionId id,
              std::span<const uint8_t> bytes) override;
  void OnClose(TcpServer& server, TcpServer::ConnectionId id,
               std::string_view reason) override;
  void OnTick(TcpServer& server) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct::bmp

#endif  // FLOWACCT_BMP_COLLECTOR_H_
