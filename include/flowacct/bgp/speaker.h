// File: flowacct/bgp/speaker.h
//
// Speaker: pmacct's BGP daemon (bgp_daemon) as a library piece. It is the
// TcpServer::Handler that turns accepted TCP connections into passive BGP
// sessions (bgp/session.h) and applies what each peer announces to its view
// in a shared Rib (bgp/rib.h): one PeerWriter per peer, all on the server's
// thread. Flow enrichment then finds a peer's view with FindPeer() from any
// thread and looks routes up through its own RibReader.
//
//   auto rib = bgp::Rib::Create({});
//   bgp::Speaker speaker(rib->get(), bgp::SpeakerOptions{});
//   TcpServerOptions o;  o.port = 179;
//   auto server = TcpServer::Open(o, &speaker);
//   std::thread t([&] { (void)(*server)->Run(); });
//
// Peers:
//   - A peer is named by its address (the TCP source address). At most
//     max_peers sessions; one more is refused with a NOTIFICATION Cease /
//     Connection Rejected (RFC 4486 §4 subcode 5). A second connection from
//     an address that already has a session replaces it (the old one is
//     closed: the peer restarted).
//   - When a session ends, the peer's routes are dropped — unless the peer
//     negotiated graceful restart (RFC 4724) and the session ended without
//     a NOTIFICATION (or with the N bit and a Hard Reset, RFC 8538): then
//     its routes stay, marked stale, for the restart time it advertised
//     (capped by SpeakerOptions::max_restart_time_s). If it comes back
//     within that time, each family's stale routes are swept at its
//     End-of-RIB (or when stale_routes_time_s runs out); otherwise they
//     all go when the restart timer fires.
//   - RFC 7606 outcomes are applied as the UPDATE parser reports them:
//     treat-as-withdraw withdraws, AFI/SAFI disable drops the family,
//     session reset closes with the NOTIFICATION given.
//
// Thread-safety: the Handler callbacks run on the TcpServer's thread (the
// only writer of the Rib for these peers). FindPeer(), Peers() and stats()
// may be called from any thread.

#ifndef FLOWACCT_BGP_SPEAKER_H_
#define FLOWACCT_BGP_SPEAKER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flowacct/bgp/message.h"
#include "flowacct/bgp/rib.h"
#include "flowacct/bgp/session.h"
#include "flowacct/io/tcp_server.h"
#include "flowacct/model/ip_address.h"

namespace flowacct::bgp {

struct SpeakerOptions {
  SessionOptions session;
  // bgp_daemon_max_peers (pmacct documents 10).
  size_t max_peers = 10;
  // Upper bound on how long a restarting peer's routes are kept, whatever
  // restart time it advertised (RFC 4724 §4.2: a local policy).
  uint16_t max_restart_time_s = 360;
  // After a restarted peer is back: how long its stale routes may wait for
  // the End-of-RIB (RFC 4724 §4.2 "selection deferral"; pmacct has none).
  uint16_t stale_routes_time_s = 360;
  // The clock for session and restart timers (monotonic nanoseconds).
  // Empty: std::chrono::steady_clock. Tests inject their own.
  std::function<int64_t()> clock;
  // Read each withdrawn route's attributes before removing it and report
  // them with the UPDATE (SpeakerEvent::withdrawn_attributes): what the
  // message log writes on a withdraw line, as nfacctd does. Costs an exact
  // RIB read and a copy per withdrawn NLRI.
  bool report_withdrawn_attributes = false;
};

// What happened to a peer, for logs and the message log
// (bgp_daemon_msglog_*). Updates are reported after they were applied.
struct SpeakerEvent {
  enum class Kind : uint8_t {
    kPeerUp,    // session established
    kPeerDown,  // session ended; routes dropped or kept stale
    kUpdate,    // an UPDATE applied (update is set)
    kEndOfRib,  // family
    // family: its stale paths (RouteEntry::stale) are about to be removed
    // (End-of-RIB after a restart, or a timer ran out): the last moment
    // the observer can read them from the RIB. kStaleSwept follows.
    kStaleSweep,
    kStaleSwept,  // family; count = paths removed
    kRejected,    // a connection refused (too many peers)
  };
  Kind kind = Kind::kPeerUp;
  Endpoint peer;
  uint32_t peer_as = 0;
  uint32_t router_id = 0;
  PeerId peer_id = 0;
  Family family;
  uint64_t count = 0;
  // kPeerDown: why, and whether the routes were kept for a restart.
  std::string detail;
  bool routes_kept = false;
  const ParsedUpdate* update = nullptr;  // kUpdate, valid during the call
  // kUpdate with report_withdrawn_attributes: for each of update->withdrawn,
  // the attributes the peer's route had (nullopt: it had no such route).
  // Valid during the call.
  std::span<const std::optional<PathAttributes>> withdrawn_attributes;
  // The families whose NLRI carry path ids (ADD-PATH receive, RFC 7911) on
  // the peer's session (its last one once it is down). Valid during the
  // call.
  std::span<const Family> add_path;
};

// One peer as seen now.
struct PeerStatus {
  Endpoint address;
  PeerId peer_id = 0;
  uint32_t peer_as = 0;
  uint32_t router_id = 0;
  std::string state;    // "established", "open_wait", "restarting"...
  uint64_t routes = 0;  // prefixes with a route
  uint64_t paths = 0;
  uint64_t updates = 0;             // UPDATEs received in this session
  uint64_t withdrawn_by_error = 0;  // NLRI treat-as-withdraw'n (RFC 7606)
  // The families whose routes carry path ids (ADD-PATH receive on the
  // peer's last session).
  std::vector<Family> add_path;
};

struct SpeakerStats {
  uint64_t sessions_established = 0;
  uint64_t sessions_closed = 0;
  uint64_t connections_rejected = 0;  // over max_peers
  uint64_t updates = 0;
  uint64_t announced = 0;  // NLRI
  uint64_t withdrawn = 0;  // NLRI (including treat-as-withdraw)
  uint64_t end_of_ribs = 0;
  uint64_t stale_swept = 0;
  uint64_t rib_errors = 0;  // Announce/Intern failures (caps)
  // RFC 7606 and parser findings, by UpdateProblem.
  std::array<uint64_t, 32> update_problems{};
  // By UpdateAction (kOk, treat-as-withdraw, AFI/SAFI disable, reset).
  std::array<uint64_t, 4> update_actions{};
};

class Speaker : public TcpServer::Handler {
 public:
  // `rib` is borrowed and must outlive the speaker. `observer`, if set, is
  // called on the server thread for every SpeakerEvent.
  Speaker(Rib* rib, SpeakerOptions options,
          std::function<void(const SpeakerEvent&)> observer = nullptr);
  ~Speaker() override;
  Speaker(const Speaker&) = delete;
  Speaker& operator=(const Speaker&) = delete;

  // The RIB view of the peer with this session address or BGP router id
  // (pmacct matches both), established or restarting; nullopt if none.
  // `port` 0 matches any source port. Any thread.
  std::optional<PeerId> FindPeer(const IpAddress& address,
                                 uint16_t port = 0) const;

  std::vector<PeerStatus> Peers() const;  // any thread
  SpeakerStats stats() const;             // any thread

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

}  // namespace flowacct::bgp

#endif  // FLOWACCT_BGP_SPEAKER_H_
