// bgp::Speaker over loopback TCP: a scripted peer (our own codec on a
// client socket) opens a session, announces and withdraws routes, and goes
// away; the RIB must follow, graceful restart must keep and sweep routes,
// and bgp_daemon_max_peers must refuse with Cease / Connection Rejected.

#include "flowacct/bgp/speaker.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/loopback_client.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flowacct::bgp {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;

// A fake monotonic clock the test moves forward (GR timers).
struct FakeClock {
  std::atomic<int64_t> now{int64_t{1000} * 1'000'000'000};
  void Advance(int seconds) { now += int64_t{seconds} * 1'000'000'000; }
};

// Rib + Speaker + TcpServer on a thread, for one test.
struct Collector {
  explicit Collector(SpeakerOptions options = {}) {
    rib = std::move(Rib::Create({}).value());
    observer_reader = rib->NewReader();
    options.clock = [this] { return clock.now.load(); };
    speaker = std::make_unique<Speaker>(
        rib.get(), std::move(options),
        [this](const SpeakerEvent& e) { OnEvent(e); });
    TcpServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.tick = milliseconds(10);
    server = std::move(TcpServer::Open(o, speaker.get()).value());
    thread = std::thread([this] { (void)server->Run(); });
    reader = rib->NewReader();
  }
  ~Collector() {
    server->Stop();
    thread.join();
  }
  uint16_t port() const { return server->local_endpoint().port; }

  // On the server thread. Before a sweep, the routes about to go are still
  // in the RIB, marked stale (what the message log writes "delete" for).
  void OnEvent(const SpeakerEvent& e) {
    std::vector<std::string> stale;
    if (e.kind == SpeakerEvent::Kind::kStaleSweep) {
      RibReader::Section section = observer_reader->Enter();
      section.ForEachRoute(e.peer_id, [&](const RouteEntry& r) {
        if (r.stale && r.key.family == e.family) {
          stale.push_back(r.key.prefix.ToString());
        }
      });
    }
    // With report_withdrawn_attributes: "prefix first-AS" per withdrawn
    // NLRI, "prefix -" when the peer had no such route.
    std::vector<std::string> gone;
    for (size_t i = 0; i < e.withdrawn_attributes.size(); ++i) {
      const auto& a = e.withdrawn_attributes[i];
      gone.push_back(e.update->withdrawn[i].key.prefix.ToString() + " " +
                     (a && !a->as_path.empty()
                          ? std::to_string(a->as_path[0].asns[0])
                          : "-"));
    }
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e.kind);
    sweeping.insert(sweeping.end(), stale.begin(), stale.end());
    withdrawn.insert(withdrawn.end(), gone.begin(), gone.end());
  }
  std::vector<std::string> Withdrawn() {
    std::lock_guard<std::mutex> lock(mu);
    return withdrawn;
  }
  std::vector<std::string> Sweeping() {
    std::lock_guard<std::mutex> lock(mu);
    return sweeping;
  }

  // The peer's route covering `address`, as text "prefix as_path", or "".
  std::string Route(const char* peer_address, const char* address) {
    std::optional<PeerId> id =
        speaker->FindPeer(IpAddress::Parse(peer_address).value());
    if (!id) return "";
    RibReader::Section section = reader->Enter();
    std::optional<RouteMatch> m =
        section.Lookup(*id, IpAddress::Parse(address).value());
    if (!m) return "";
    std::string path;
    for (uint32_t as : m->attributes.as_path_asns()) {
      path += (path.empty() ? "" : " ") + std::to_string(as);
    }
    return m->prefix.ToString() + " " + path + (m->stale ? " stale" : "");
  }
  size_t Count(SpeakerEvent::Kind kind) {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<size_t>(std::count(events.begin(), events.end(), kind));
  }

  FakeClock clock;
  std::unique_ptr<Rib> rib;
  std::unique_ptr<RibReader> observer_reader;  // server thread
  std::unique_ptr<Speaker> speaker;
  std::unique_ptr<TcpServer> server;
  std::thread thread;
  std::unique_ptr<RibReader> reader;
  std::mutex mu;
  std::vector<SpeakerEvent::Kind> events;
  std::vector<std::string> sweeping;   // stale routes seen at kStaleSweep
  std::vector<std::string> withdrawn;  // see OnEvent
};

// A BGP peer scripted with the codec, on a blocking socket.
class ScriptedPeer {
 public:
  ScriptedPeer(const char* source, uint16_t port)
      : fd_(testing::ConnectFrom(source, port)) {
    REQUIRE(fd_ >= 0);
  }
  ~ScriptedPeer() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void Send(const std::vector<uint8_t>& bytes) {
    REQUIRE(testing::SendAll(fd_, bytes));
  }

  // Reads one whole BGP message; its type, or 0 on EOF/timeout.
  int Receive(std::vector<uint8_t>* message = nullptr) {
    for (;;) {
      Frame f = FindMessage(buffer_, kMaxExtendedMessageSize);
      if (f.kind == Frame::Kind::kMessage) {
        if (message) message->assign(f.message.begin(), f.message.end());
        const int type = static_cast<int>(f.type);
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(
                                                             f.message.size()));
        return type;
      }
      uint8_t chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return 0;
      buffer_.insert(buffer_.end(), chunk, chunk + n);
    }
  }

  // OPEN, then the speaker's OPEN + KEEPALIVE, then our KEEPALIVE.
  // `add_path`: families the peer sends path ids for (RFC 7911).
  void Establish(uint32_t as, uint32_t router_id, bool graceful_restart,
                 std::vector<Family> add_path = {}) {
    OpenMessage open;
    SetAsNumber(as, &open);
    open.hold_time_s = 90;
    open.bgp_id = router_id;
    open.capabilities.multiprotocol = {kIpv4Unicast, kIpv6Unicast};
    for (const Family& f : add_path) {
      open.capabilities.add_path.push_back({f, true, false});
    }
    if (graceful_restart) {
      GracefulRestart gr;
      gr.restart_time_s = 120;
      gr.families = {{kIpv4Unicast, true}, {kIpv6Unicast, true}};
      open.capabilities.graceful_restart = gr;
    }
    std::vector<uint8_t> bytes;
    REQUIRE(AppendOpen(open, &bytes).ok());
    Send(bytes);
    std::vector<uint8_t> their_open;
    REQUIRE(Receive(&their_open) == static_cast<int>(MessageType::kOpen));
    OpenMessage theirs;
    Notification error;
    REQUIRE(ParseOpen(their_open, &theirs, &error).ok());
    params_ = Negotiate(open, theirs);
    REQUIRE(Receive() == static_cast<int>(MessageType::kKeepalive));
    bytes.clear();
    AppendKeepalive(&bytes);
    Send(bytes);
  }

  void Announce(const std::vector<uint32_t>& path,
                const std::vector<const char*>& prefixes,
                const std::vector<const char*>& withdrawn = {}) {
    PathAttributes a;
    a.origin = Origin::kIgp;
    if (!path.empty()) {
      a.as_path.push_back({AsSegmentType::kSequence, path});
    }
    a.next_hop = IpAddress::Parse("192.0.2.254").value();
    std::vector<Nlri> add, del;
    for (const char* p : prefixes) add.push_back(ToNlri(p));
    for (const char* p : withdrawn) del.push_back(ToNlri(p));
    auto update = UpdateBuilder(params_).Build(a, add, del);
    REQUIRE(update.ok());
    Send(*update);
  }
  void EndOfRib(Family f) { Send(UpdateBuilder::EndOfRib(f)); }

 private:
  static Nlri ToNlri(const char* text) {
    std::string s(text);
    const size_t slash = s.find('/');
    Nlri n;
    n.key.prefix.address = IpAddress::Parse(s.substr(0, slash)).value();
    n.key.prefix.length = static_cast<uint8_t>(std::stoi(s.substr(slash + 1)));
    n.key.family = n.key.prefix.address.is_v4() ? kIpv4Unicast : kIpv6Unicast;
    return n;
  }

  int fd_ = -1;
  std::vector<uint8_t> buffer_;
  SessionParams params_;
};

TEST_CASE("bgp/speaker: withdrawn routes' attributes, read before removal") {
  SpeakerOptions options;
  options.report_withdrawn_attributes = true;
  Collector c(options);
  ScriptedPeer peer("127.0.0.6", c.port());
  peer.Establish(65001, 0x0a000006, false);
  peer.Announce({65001, 64999}, {"10.6.0.0/16"});
  REQUIRE(Eventually([&] { return c.speaker->stats().announced == 1; }));
  // The second was never announced: reported without attributes.
  peer.Announce({65001}, {}, {"10.6.0.0/16", "10.7.0.0/16"});
  REQUIRE(Eventually([&] { return c.Withdrawn().size() == 2; }));
  CHECK(c.Withdrawn() ==
        std::vector<std::string>{"10.6.0.0/16 65001", "10.7.0.0/16 -"});
  CHECK(c.Route("127.0.0.6", "10.6.0.1").empty());
}

TEST_CASE("bgp/speaker: withdrawn attributes are not read unless asked") {
  Collector c;
  ScriptedPeer peer("127.0.0.7", c.port());
  peer.Establish(65001, 0x0a000007, false);
  peer.Announce({65001}, {"10.6.0.0/16"});
  REQUIRE(Eventually([&] { return c.speaker->stats().announced == 1; }));
  peer.Announce({65001}, {}, {"10.6.0.0/16"});
  REQUIRE(Eventually([&] { return c.speaker->stats().withdrawn == 1; }));
  CHECK(c.Withdrawn().empty());
}

TEST_CASE("bgp/speaker: a session fills the peer's RIB view and empties it") {
  Collector c;
  {
    ScriptedPeer peer("127.0.0.2", c.port());
    peer.Establish(65001, 0x0a000002, false);
    REQUIRE(
        Eventually([&] { return c.Count(SpeakerEvent::Kind::kPeerUp) == 1; }));
    peer.Announce({65001, 65010}, {"10.0.0.0/8", "10.1.0.0/16"});
    peer.Announce({65001, 65020, 65030}, {"2001:db8::/32"});
    REQUIRE(Eventually([&] { return c.speaker->stats().announced == 3; }));
    CHECK(c.Route("127.0.0.2", "10.1.2.3") == "10.1.0.0/16 65001 65010");
    CHECK(c.Route("127.0.0.2", "10.2.2.3") == "10.0.0.0/8 65001 65010");
    CHECK(c.Route("127.0.0.2", "2001:db8::1") ==
          "2001:db8::/32 65001 65020 65030");
    // The router id names the same view (pmacct matches both).
    CHECK(c.Route("10.0.0.2", "10.1.2.3") == "10.1.0.0/16 65001 65010");
    CHECK(c.Route("127.0.0.9", "10.1.2.3").empty());
    // Withdraw: the /16 goes, the /8 covers.
    peer.Announce({65001, 65010}, {}, {"10.1.0.0/16"});
    REQUIRE(Eventually([&] { return c.speaker->stats().withdrawn == 1; }));
    CHECK(c.Route("127.0.0.2", "10.1.2.3") == "10.0.0.0/8 65001 65010");
    std::vector<PeerStatus> peers = c.speaker->Peers();
    REQUIRE(Eventually([&] {
      peers = c.speaker->Peers();
      return peers.size() == 1 && peers[0].routes == 2;
    }));
    CHECK(peers[0].peer_as == 65001);
    CHECK(peers[0].state == "established");
  }
  // No graceful restart: the routes go with the session (the peer-down
  // event comes first, while the routes are still there for the message
  // log).
  REQUIRE(
      Eventually([&] { return c.Count(SpeakerEvent::Kind::kPeerDown) == 1; }));
  CHECK(Eventually([&] { return c.speaker->Peers().empty(); }));
  CHECK(c.Route("127.0.0.2", "10.2.2.3").empty());
}

TEST_CASE("bgp/speaker: graceful restart keeps routes stale until End-of-RIB") {
  Collector c;
  {
    ScriptedPeer peer("127.0.0.3", c.port());
    peer.Establish(65001, 0x0a000003, true);
    peer.Announce({65001}, {"10.0.0.0/8", "10.1.0.0/16"});
    REQUIRE(Eventually([&] { return c.speaker->stats().announced == 2; }));
  }  // TCP drops without a NOTIFICATION
  REQUIRE(
      Eventually([&] { return c.Count(SpeakerEvent::Kind::kPeerDown) == 1; }));
  CHECK(c.Route("127.0.0.3", "10.1.0.1") == "10.1.0.0/16 65001 stale");
  {
    ScriptedPeer peer("127.0.0.3", c.port());
    peer.Establish(65001, 0x0a000003, true);
    // Re-announces only the /8, then End-of-RIB: the /16 is swept.
    peer.Announce({65001, 65002}, {"10.0.0.0/8"});
    peer.EndOfRib(kIpv4Unicast);
    REQUIRE(Eventually(
        [&] { return c.Count(SpeakerEvent::Kind::kStaleSwept) >= 1; }));
    CHECK(c.Route("127.0.0.3", "10.1.0.1") == "10.0.0.0/8 65001 65002");
    CHECK(c.speaker->stats().stale_swept == 1);
    // kStaleSweep came first, with the /16 still readable (stale).
    CHECK(c.Sweeping() == std::vector<std::string>{"10.1.0.0/16"});
    CHECK(c.Count(SpeakerEvent::Kind::kStaleSweep) == 1);
  }
}

TEST_CASE("bgp/speaker: the ADD-PATH families of a session") {
  // Events and Peers() say which families carry path ids (the message log
  // and dumps write "as_path_id" for every route of those, 0 included).
  Collector c;
  ScriptedPeer peer("127.0.0.5", c.port());
  peer.Establish(65001, 0x0a000005, false, {kIpv6Unicast});
  REQUIRE(Eventually([&] {
    std::vector<PeerStatus> peers = c.speaker->Peers();
    return peers.size() == 1 && peers[0].state == "established";
  }));
  CHECK(c.speaker->Peers()[0].add_path == std::vector<Family>{kIpv6Unicast});
}

TEST_CASE(
    "bgp/speaker: a restarting peer that does not return loses its routes") {
  Collector c;
  {
    ScriptedPeer peer("127.0.0.4", c.port());
    peer.Establish(65001, 0x0a000004, true);
    peer.Announce({65001}, {"10.0.0.0/8"});
    REQUIRE(Eventually([&] { return c.speaker->stats().announced == 1; }));
  }
  REQUIRE(
      Eventually([&] { return c.Count(SpeakerEvent::Kind::kPeerDown) == 1; }));
  CHECK(c.Route("127.0.0.4", "10.0.0.1") == "10.0.0.0/8 65001 stale");
  c.clock.Advance(119);
  std::this_thread::sleep_for(milliseconds(50));
  CHECK_FALSE(c.Route("127.0.0.4", "10.0.0.1").empty());
  c.clock.Advance(2);  // past the advertised 120 s
  REQUIRE(Eventually([&] { return c.Route("127.0.0.4", "10.0.0.1").empty(); }));
  // The peer goes once every family is swept (the speaker's thread; the
  // route check above can pass between the two).
  CHECK(Eventually([&] { return c.speaker->Peers().empty(); }));
  // Each family's sweep is announced while its routes are readable.
  CHECK(Eventually([&] {
    return c.Count(SpeakerEvent::Kind::kStaleSweep) == 2;  // IPv4, IPv6
  }));
  CHECK(c.Sweeping() == std::vector<std::string>{"10.0.0.0/8"});
}

TEST_CASE("bgp/speaker: bgp_daemon_max_peers refuses with Cease/5") {
  SpeakerOptions o;
  o.max_peers = 1;
  Collector c(o);
  ScriptedPeer first("127.0.0.5", c.port());
  first.Establish(65001, 1, false);
  ScriptedPeer second("127.0.0.6", c.port());
  std::vector<uint8_t> m;
  REQUIRE(second.Receive(&m) == static_cast<int>(MessageType::kNotification));
  Notification n;
  REQUIRE(ParseNotification(m, &n).ok());
  CHECK(n.code == 6);
  CHECK(n.subcode == 5);
  CHECK(second.Receive() == 0);  // closed
  CHECK(c.speaker->stats().connections_rejected == 1);
}

TEST_CASE("bgp/speaker: hold timer expiry closes the session") {
  Collector c;
  ScriptedPeer peer("127.0.0.7", c.port());
  peer.Establish(65001, 7, false);
  REQUIRE(
      Eventually([&] { return c.Count(SpeakerEvent::Kind::kPeerUp) == 1; }));
  c.clock.Advance(91);
  // Keepalives may come first; then the NOTIFICATION (4/0) and EOF.
  int type = 0;
  std::vector<uint8_t> m;
  while ((type = peer.Receive(&m)) ==
         static_cast<int>(MessageType::kKeepalive)) {
  }
  REQUIRE(type == static_cast<int>(MessageType::kNotification));
  Notification n;
  REQUIRE(ParseNotification(m, &n).ok());
  CHECK(n.code == 4);
  REQUIRE(
      Eventually([&] { return c.Count(SpeakerEvent::Kind::kPeerDown) == 1; }));
}

}  // namespace
}  // namespace flowacct::bgp
