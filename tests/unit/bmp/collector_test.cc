// bmp::Collector over loopback TCP: real router streams from the corpus are
// replayed to it; the views it builds in the RIB hold the routes, the
// router's answering view is its Loc-RIB when it has one, a broken stream
// is closed, max routers is enforced, and a router's views go with its
// connection.

#include "flowacct/bmp/collector.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/loopback_client.h"
#include "tests/support/tcp_streams.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flowacct::bmp {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::Eventually;

// A connection from `source` that must succeed.
int Connect(const char* source, uint16_t port) {
  const int fd = testing::ConnectFrom(source, port);
  REQUIRE(fd >= 0);
  return fd;
}

void SendAll(int fd, const std::vector<uint8_t>& bytes) {
  REQUIRE(testing::SendAll(fd, bytes));
}

struct Station {
  explicit Station(CollectorOptions options = {}) {
    rib = std::move(bgp::Rib::Create({}).value());
    collector = std::make_unique<Collector>(rib.get(), options);
    TcpServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.tick = milliseconds(10);
    server = std::move(TcpServer::Open(o, collector.get()).value());
    thread = std::thread([this] { (void)server->Run(); });
  }
  ~Station() {
    server->Stop();
    thread.join();
  }
  std::unique_ptr<bgp::Rib> rib;
  std::unique_ptr<Collector> collector;
  std::unique_ptr<TcpServer> server;
  std::thread thread;
};

// The router-to-station stream of a corpus capture.
std::vector<uint8_t> RouterStream(const char* name) {
  const fs::path path = fs::path(FLOWACCT_CORPUS_DIR) / "bmp" / name;
  auto streams = testing::ReadTcpStreams(path.string());
  REQUIRE(streams.ok());
  for (const testing::TcpStream& s : *streams) {
    if (!s.bytes.empty()) return s.bytes;
  }
  FAIL("no stream in " << name);
  return {};
}

uint64_t TotalRoutes(const Collector& c) {
  uint64_t n = 0;
  for (const ViewStatus& v : c.Views()) n += v.paths;
  return n;
}

TEST_CASE("bmp/collector: a Huawei Loc-RIB stream answers from its Loc-RIB") {
  if (!fs::exists(FLOWACCT_CORPUS_DIR)) return;
  Station st;
  const std::vector<uint8_t> bytes =
      RouterStream("pmacct-200-bmp-huawei-locrib-instance.pcap");
  const int fd = Connect("127.0.0.2", st.server->local_endpoint().port);
  SendAll(fd, bytes);
  REQUIRE(Eventually([&] {
    auto routers = st.collector->Routers();
    if (routers.size() != 1) return false;
    uint64_t m = 0;
    for (uint64_t n : routers[0].stream.messages) m += n;
    return m == 103;  // the manifest's message count
  }));
  CHECK(TotalRoutes(*st.collector) > 0);
  std::vector<ViewStatus> views = st.collector->Views();
  bool has_loc_rib = false;
  for (const ViewStatus& v : views) {
    has_loc_rib |= v.peer.type == PeerType::kLocRib;
  }
  CHECK(has_loc_rib);
  std::optional<bgp::PeerId> answer =
      st.collector->FindRouterView(IpAddress::Parse("127.0.0.2").value());
  REQUIRE(answer);
  for (const ViewStatus& v : views) {
    if (v.peer_id == *answer) CHECK(v.peer.type == PeerType::kLocRib);
  }
  CHECK_FALSE(
      st.collector->FindRouterView(IpAddress::Parse("127.0.0.3").value()));
  // Every route of the answering view is found again by a lookup.
  auto reader = st.rib->NewReader();
  {
    bgp::RibReader::Section section = reader->Enter();
    size_t checked = 0;
    section.ForEachRoute(*answer, [&](const bgp::RouteEntry& e) {
      if (e.key.family.safi != bgp::Safi::kUnicast || checked >= 50) return;
      std::optional<bgp::RouteMatch> m =
          section.Lookup(*answer, e.key.prefix.address);
      REQUIRE(m);
      CHECK(m->prefix.length >= e.key.prefix.length);
      ++checked;
    });
  }
  ::close(fd);
  // The router's views go with its connection.
  REQUIRE(Eventually([&] { return st.collector->Views().empty(); }));
  CHECK_FALSE(
      st.collector->FindRouterView(IpAddress::Parse("127.0.0.2").value()));
}

TEST_CASE("bmp/collector: broken framing closes the router, max routers") {
  CollectorOptions o;
  o.max_routers = 1;
  Station st(o);
  const int a = Connect("127.0.0.2", st.server->local_endpoint().port);
  REQUIRE(Eventually([&] { return st.collector->Routers().size() == 1; }));
  const int b = Connect("127.0.0.3", st.server->local_endpoint().port);
  REQUIRE(
      Eventually([&] { return st.collector->stats().routers_rejected == 1; }));
  // Version 9: the stream is dead and closed (BM-1).
  SendAll(a, {9, 0, 0, 0, 6, 4});
  REQUIRE(Eventually([&] { return st.collector->stats().stream_errors == 1; }));
  REQUIRE(Eventually([&] { return st.collector->Routers().empty(); }));
  char c;
  CHECK(::recv(a, &c, 1, 0) == 0);  // EOF
  ::close(a);
  ::close(b);
}

TEST_CASE("bmp/collector: a Termination message closes the session") {
  // RFC 7854 §4.5: the station MUST close the session after a Termination
  // (pmbmpd does); the router's views go with it.
  Station st;
  const int fd = Connect("127.0.0.2", st.server->local_endpoint().port);
  SendAll(fd, RouterStream("akvorado-bmp-terminate.pcap"));
  REQUIRE(Eventually([&] { return st.collector->stats().routers_connected; }));
  REQUIRE(Eventually([&] { return st.collector->Routers().empty(); }));
  char c;
  CHECK(::recv(fd, &c, 1, 0) == 0);  // EOF
  ::close(fd);
}

}  // namespace
}  // namespace flowacct::bmp
