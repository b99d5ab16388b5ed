// TcpServer over loopback: data in both directions, many connections, the
// allow list, Close from a handler (queued output still written), peers
// that go away, Stop, and TCP-MD5 (a peer without the key never connects).

#include "flowacct/io/tcp_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/loopback_client.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flowacct {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;

int Connect(const char* source, uint16_t port, const std::string& md5 = "",
            int timeout_ms = 3000) {
  return testing::ConnectFrom(source, port, md5, timeout_ms);
}

// Echoes every byte back in upper case; "bye" makes it answer "BYE" and
// close. Records what it saw (read by the test after Run returns, or under
// the mutex while it runs).
class EchoHandler : public TcpServer::Handler {
 public:
  void OnOpen(TcpServer&, TcpServer::ConnectionId id, const Endpoint& peer,
              const Endpoint&) override {
    std::lock_guard<std::mutex> lock(mu);
    peers[id] = peer;
  }
  void OnData(TcpServer& server, TcpServer::ConnectionId id,
              std::span<const uint8_t> bytes) override {
    std::string text(bytes.begin(), bytes.end());
    {
      std::lock_guard<std::mutex> lock(mu);
      received[id] += text;
    }
    for (char& ch : text) ch = static_cast<char>(std::toupper(ch));
    server.Send(
        id, std::span<const uint8_t>(
                reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    if (text.find("BYE") != std::string::npos) server.Close(id, "said bye");
  }
  void OnClose(TcpServer&, TcpServer::ConnectionId id,
               std::string_view reason) override {
    std::lock_guard<std::mutex> lock(mu);
    closed[id] = std::string(reason);
  }
  void OnTick(TcpServer&) override { ticks.fetch_add(1); }

  std::mutex mu;
  std::map<TcpServer::ConnectionId, Endpoint> peers;
  std::map<TcpServer::ConnectionId, std::string> received;
  std::map<TcpServer::ConnectionId, std::string> closed;
  std::atomic<int> ticks{0};

  size_t closed_count() {
    std::lock_guard<std::mutex> lock(mu);
    return closed.size();
  }
};

// Runs a server on its own thread for the scope.
class Running {
 public:
  Running(const TcpServerOptions& o, TcpServer::Handler* h) {
    auto s = TcpServer::Open(o, h);
    REQUIRE(s.ok());
    server = std::move(s).value();
    thread = std::thread([this] { run_status = server->Run(); });
  }
  ~Running() {
    server->Stop();
    thread.join();
  }
  uint16_t port() const { return server->local_endpoint().port; }

  std::unique_ptr<TcpServer> server;
  std::thread thread;
  Status run_status;
};

void SendText(int fd, const std::string& s) {
  REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(s.size()));
}

// Reads until `want` bytes arrived, EOF or timeout.
std::string ReadText(int fd, size_t want) {
  std::string out;
  char buf[4096];
  while (out.size() < want) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST_CASE("io/tcp server: bytes flow both ways on many connections") {
  EchoHandler h;
  TcpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.tick = milliseconds(20);
  Running r(o, &h);
  std::vector<int> fds;
  for (int i = 2; i < 7; ++i) {
    const std::string src = "127.0.0." + std::to_string(i);
    int fd = Connect(src.c_str(), r.port());
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    SendText(fds[i], "hello " + std::to_string(i));
    CHECK(ReadText(fds[i], 7) == "HELLO " + std::to_string(i));
  }
  CHECK(r.server->stats().accepted == 5);
  CHECK(r.server->stats().open == 5);
  {
    std::lock_guard<std::mutex> lock(h.mu);
    REQUIRE(h.peers.size() == 5);
    std::vector<std::string> sources;
    for (const auto& [id, peer] : h.peers) {
      sources.push_back(peer.address.ToString());
    }
    std::sort(sources.begin(), sources.end());
    CHECK(sources.front() == "127.0.0.2");
    CHECK(sources.back() == "127.0.0.6");
  }
  // A peer that goes away is reported once.
  ::close(fds[0]);
  CHECK(Eventually([&] { return h.closed_count() == 1; }));
  {
    std::lock_guard<std::mutex> lock(h.mu);
    CHECK(h.closed.begin()->second == "peer closed the connection");
  }
  CHECK(Eventually([&] { return h.ticks.load() >= 3; }));
  for (size_t i = 1; i < fds.size(); ++i) ::close(fds[i]);
  CHECK(Eventually([&] { return h.closed_count() == 5; }));
  CHECK(r.server->stats().open == 0);
}

TEST_CASE("io/tcp server: Close from the handler writes queued output first") {
  EchoHandler h;
  TcpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  Running r(o, &h);
  int fd = Connect("127.0.0.2", r.port());
  REQUIRE(fd >= 0);
  SendText(fd, "bye");
  // The answer arrives, then EOF.
  CHECK(ReadText(fd, 100) == "BYE");
  CHECK(Eventually([&] { return h.closed_count() == 1; }));
  {
    std::lock_guard<std::mutex> lock(h.mu);
    CHECK(h.closed.begin()->second == "said bye");
  }
  ::close(fd);
}

// Takes bytes slowly (sleeps per read) or at once; counts them.
class CountingHandler : public TcpServer::Handler {
 public:
  explicit CountingHandler(milliseconds per_read) : per_read_(per_read) {}
  void OnOpen(TcpServer&, TcpServer::ConnectionId, const Endpoint&,
              const Endpoint&) override {}
  void OnData(TcpServer&, TcpServer::ConnectionId,
              std::span<const uint8_t> bytes) override {
    std::this_thread::sleep_for(per_read_);
    received.fetch_add(bytes.size());
  }
  void OnClose(TcpServer&, TcpServer::ConnectionId, std::string_view) override {
  }
  void OnTick(TcpServer&) override {}

  std::atomic<size_t> received{0};

 private:
  milliseconds per_read_;
};

// Hostile input BM-8 ("station stuck"): the sender outpaces the handler.
// Nothing is lost (TCP holds the sender back) and the server counts how
// often it found the receive queue nearly full.
TEST_CASE("io/tcp server: BM-8 a sender outpacing the handler is counted") {
  TcpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.receive_buffer_bytes = 64 * 1024;
  CountingHandler slow(milliseconds(10));
  {
    Running r(o, &slow);
    int fd = Connect("127.0.0.2", r.port());
    REQUIRE(fd >= 0);
    const std::string block(64 * 1024, 'x');
    constexpr size_t kBlocks = 32;  // 2 MiB, blocking sends
    for (size_t i = 0; i < kBlocks; ++i) SendText(fd, block);
    CHECK(Eventually(
        [&] { return slow.received.load() == kBlocks * 64 * 1024; }, 20000));
    CHECK(r.server->stats().receive_queue_full > 0);
    ::close(fd);
  }
}

TEST_CASE("io/tcp server: the allow list refuses before the handler sees it") {
  EchoHandler h;
  TcpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.allow = [](const IpAddress& a) { return a.ToString() != "127.0.0.9"; };
  Running r(o, &h);
  int denied = Connect("127.0.0.9", r.port());
  REQUIRE(denied >= 0);  // TCP completes; the server closes at once
  CHECK(ReadText(denied, 1).empty());
  ::close(denied);
  int ok = Connect("127.0.0.3", r.port());
  REQUIRE(ok >= 0);
  SendText(ok, "x");
  CHECK(ReadText(ok, 1) == "X");
  ::close(ok);
  CHECK(Eventually([&] { return r.server->stats().denied == 1; }));
  CHECK(r.server->stats().accepted == 1);
}

TEST_CASE("io/tcp server: Stop closes every connection and Run returns") {
  EchoHandler h;
  TcpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  auto s = TcpServer::Open(o, &h);
  REQUIRE(s.ok());
  Status run;
  std::thread t([&] { run = (*s)->Run(); });
  int fd = Connect("127.0.0.2", (*s)->local_endpoint().port);
  REQUIRE(fd >= 0);
  SendText(fd, "a");
  CHECK(ReadText(fd, 1) == "A");
  (*s)->Stop();
  t.join();
  CHECK(run.ok());
  CHECK(h.closed_count() == 1);
  CHECK(h.closed.begin()->second == "server stopped");
  CHECK(ReadText(fd, 1).empty());  // EOF
  ::close(fd);
}

TEST_CASE("io/tcp server: TCP-MD5 keys admit only peers that sign") {
  EchoHandler h;
  TcpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.md5_keys.push_back({IpAddress::Parse("127.0.0.4").value(), "s3cret"});
  Running r(o, &h);
  // Unsigned SYNs from a keyed peer are dropped by the kernel.
  CHECK(Connect("127.0.0.4", r.port(), "", 1000) < 0);
  // A wrong key too.
  CHECK(Connect("127.0.0.4", r.port(), "wrong", 1000) < 0);
  int fd = Connect("127.0.0.4", r.port(), "s3cret");
  REQUIRE(fd >= 0);
  SendText(fd, "md5");
  CHECK(ReadText(fd, 3) == "MD5");
  ::close(fd);
  // Peers without a key are unaffected.
  int plain = Connect("127.0.0.5", r.port());
  REQUIRE(plain >= 0);
  ::close(plain);
}

TEST_CASE("io/tcp server: bgp_daemon_md5_file rows") {
  auto keys = ParseMd5Keys(
      "! peers\n192.0.2.1, s3cret\n2001:db8::1,other key\n", "md5.txt");
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  CHECK((*keys)[0].peer.ToString() == "192.0.2.1");
  CHECK((*keys)[0].key == "s3cret");
  CHECK((*keys)[1].key == "other key");
  auto bad = ParseMd5Keys("192.0.2.1 s3cret\n", "md5.txt");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("md5.txt:1:", 0) == 0);
  CHECK_FALSE(ParseMd5Keys("x.y, k\n", "m").ok());
  CHECK_FALSE(ParseMd5Keys("192.0.2.1,\n", "m").ok());
  CHECK_FALSE(
      ParseMd5Keys("192.0.2.1," + std::string(81, 'k') + "\n", "m").ok());
  CHECK_FALSE(ParseMd5Keys("192.0.2.1,a\n192.0.2.1,b\n", "m").ok());
}

TEST_CASE("io/tcp server: bad options are errors") {
  EchoHandler h;
  TcpServerOptions o;
  o.address = "not-an-address";
  CHECK(TcpServer::Open(o, &h).status().code() == StatusCode::kInvalidArgument);
  o.address = "127.0.0.1";
  o.port = 0;
  o.md5_keys.push_back(
      {IpAddress::Parse("127.0.0.4").value(), std::string(81, 'k')});
  CHECK(TcpServer::Open(o, &h).status().code() == StatusCode::kInvalidArgument);
  CHECK(TcpServer::Open(TcpServerOptions{}, nullptr).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flowacct
