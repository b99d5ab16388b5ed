// UdpReceiver over loopback: sources, payloads, batches, truncation, the
// allow list, kernel drop accounting and Wake/Stop.

#include "flowacct/io/udp_receiver.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flowacct {
namespace {

using std::chrono::milliseconds;

// A UDP sender bound to a loopback address (so the source port is known).
class Sender {
 public:
  explicit Sender(bool v6) : v6_(v6) {
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_storage ss{};
    socklen_t len = Loopback(0, &ss);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    len = sizeof(ss);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
    port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ~Sender() { ::close(fd_); }

  void Send(uint16_t to_port, const std::string& payload) {
    sockaddr_storage ss{};
    socklen_t len = Loopback(to_port, &ss);
    ssize_t n = ::sendto(fd_, payload.data(), payload.size(), 0,
                         reinterpret_cast<sockaddr*>(&ss), len);
    REQUIRE(n == static_cast<ssize_t>(payload.size()));
  }
  uint16_t port() const { return port_; }

 private:
  socklen_t Loopback(uint16_t port, sockaddr_storage* ss) {
    if (v6_) {
      auto* s = reinterpret_cast<sockaddr_in6*>(ss);
      s->sin6_family = AF_INET6;
      s->sin6_addr = in6addr_loopback;
      s->sin6_port = htons(port);
      return sizeof(*s);
    }
    auto* s = reinterpret_cast<sockaddr_in*>(ss);
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->sin_port = htons(port);
    return sizeof(*s);
  }

  bool v6_;
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::unique_ptr<UdpReceiver> OpenOrFail(UdpReceiverOptions o) {
  auto r = UdpReceiver::Open(o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(*r);
}

// Receives until `want` datagrams arrived (bounded number of calls).
std::vector<std::pair<Endpoint, std::string>> ReceiveN(UdpReceiver* r,
                                                       size_t want) {
  std::vector<std::pair<Endpoint, std::string>> got;
  for (int i = 0; i < 200 && got.size() < want; ++i) {
    auto batch = r->Receive(milliseconds(50));
    REQUIRE(batch.ok());
    for (const Datagram& d : *batch) {
      got.emplace_back(d.exporter,
                       std::string(d.payload.begin(), d.payload.end()));
      CHECK(d.arrival_ns > int64_t{1'600'000'000} * 1'000'000'000);
    }
  }
  return got;
}

TEST_CASE("UdpReceiver receives IPv4 datagrams with their source") {
  UdpReceiverOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  auto r = OpenOrFail(o);
  REQUIRE(r->port() != 0);
  CHECK(r->local_endpoint().address.ToString() == "127.0.0.1");
  CHECK(r->receive_buffer_bytes() > 0);

  Sender s(false);
  s.Send(r->port(), "hello");
  s.Send(r->port(), std::string(1400, 'x'));
  auto got = ReceiveN(r.get(), 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].first.address.ToString() == "127.0.0.1");
  CHECK(got[0].first.address.is_v4());
  CHECK(got[0].first.port == s.port());
  CHECK(got[0].second == "hello");
  CHECK(got[1].second == std::string(1400, 'x'));
  UdpReceiverStats st = r->stats();
  CHECK(st.datagrams == 2);
  CHECK(st.bytes == 1405);
  CHECK(st.kernel_drops == 0);
}

TEST_CASE("UdpReceiver receives IPv6 datagrams") {
  UdpReceiverOptions o;
  o.address = "::1";
  o.port = 0;
  auto r = OpenOrFail(o);
  Sender s(true);
  s.Send(r->port(), "six");
  auto got = ReceiveN(r.get(), 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].first.address.ToString() == "::1");
  CHECK(got[0].first.port == s.port());
  CHECK(got[0].second == "six");
}

TEST_CASE("UdpReceiver dual-stack socket reports IPv4 senders as IPv4") {
  UdpReceiverOptions o;
  o.address = "::";
  o.port = 0;
  auto r = OpenOrFail(o);
  Sender s4(false), s6(true);
  s4.Send(r->port(), "four");
  s6.Send(r->port(), "six");
  auto got = ReceiveN(r.get(), 2);
  REQUIRE(got.size() == 2);
  int seen = 0;
  for (const auto& [from, payload] : got) {
    if (payload == "four") {
      CHECK(from.address.is_v4());
      CHECK(from.address.ToString() == "127.0.0.1");
      CHECK(from.port == s4.port());
      seen |= 1;
    } else {
      CHECK(payload == "six");
      CHECK(from.address.ToString() == "::1");
      seen |= 2;
    }
  }
  CHECK(seen == 3);
}

TEST_CASE("UdpReceiver returns queued datagrams in batches") {
  UdpReceiverOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.batch_size = 8;
  auto r = OpenOrFail(o);
  Sender s(false);
  for (int i = 0; i < 20; ++i) s.Send(r->port(), "d" + std::to_string(i));
  std::vector<size_t> sizes;
  std::vector<std::string> payloads;
  for (int i = 0; i < 100 && payloads.size() < 20; ++i) {
    auto batch = r->Receive(milliseconds(50));
    REQUIRE(batch.ok());
    if (batch->empty()) continue;
    sizes.push_back(batch->size());
    for (const Datagram& d : *batch) {
      payloads.emplace_back(d.payload.begin(), d.payload.end());
    }
  }
  REQUIRE(payloads.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(payloads[i] == "d" + std::to_string(i));
  // Everything was queued before the first call: full batches of 8.
  REQUIRE(sizes.size() == 3);
  CHECK(sizes[0] == 8);
  CHECK(sizes[1] == 8);
  CHECK(sizes[2] == 4);
}

TEST_CASE("UdpReceiver counts truncated datagrams and drops them") {
  UdpReceiverOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.max_datagram_bytes = 100;
  auto r = OpenOrFail(o);
  Sender s(false);
  s.Send(r->port(), std::string(101, 'a'));
  s.Send(r->port(), std::string(100, 'b'));
  auto got = ReceiveN(r.get(), 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].second == std::string(100, 'b'));
  CHECK(r->stats().truncated == 1);
  CHECK(r->stats().datagrams == 1);
}

TEST_CASE("UdpReceiver allow list denies and counts") {
  UdpReceiverOptions o;
  o.address = "::";
  o.port = 0;
  std::vector<std::string> asked;
  o.allow = [&asked](const IpAddress& a) {
    asked.push_back(a.ToString());
    return a.is_v6();
  };
  auto r = OpenOrFail(o);
  Sender s4(false), s6(true);
  s4.Send(r->port(), "denied");
  s6.Send(r->port(), "allowed");
  s4.Send(r->port(), "denied too");
  std::vector<std::string> payloads;
  for (int i = 0; i < 100 && r->stats().denied + payloads.size() < 3; ++i) {
    auto batch = r->Receive(milliseconds(50));
    REQUIRE(batch.ok());
    for (const Datagram& d : *batch) {
      payloads.emplace_back(d.payload.begin(), d.payload.end());
    }
  }
  REQUIRE(payloads.size() == 1);
  CHECK(payloads[0] == "allowed");
  CHECK(r->stats().denied == 2);
  CHECK(r->stats().datagrams == 1);
  // The callback sees IPv4 senders as IPv4, not ::ffff:127.0.0.1.
  CHECK(std::count(asked.begin(), asked.end(), "127.0.0.1") == 2);
}

TEST_CASE("UdpReceiver counts kernel drops when the buffer overflows") {
  UdpReceiverOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.receive_buffer_bytes = 8192;  // room for a few datagrams only
  auto r = OpenOrFail(o);
  Sender s(false);
  constexpr uint64_t kSent = 2000;
  for (uint64_t i = 0; i < kSent; ++i) s.Send(r->port(), std::string(200, 'z'));
  // Loopback delivery is synchronous in sendto: every datagram is queued or
  // dropped by now.
  uint64_t received = 0;
  for (int i = 0; i < 1000; ++i) {
    auto batch = r->Receive(milliseconds(0));
    REQUIRE(batch.ok());
    if (batch->empty()) break;
    received += batch->size();
  }
  UdpReceiverStats st = r->stats();
  INFO("received " << received << " kernel_drops " << st.kernel_drops
                   << " rcvbuf " << r->receive_buffer_bytes());
  CHECK(received > 0);
  CHECK(st.kernel_drops > 0);
  CHECK(received + st.kernel_drops == kSent);
  CHECK(st.datagrams == received);

  // Later drops are counted as deltas, not again from zero.
  for (uint64_t i = 0; i < kSent; ++i) s.Send(r->port(), std::string(200, 'y'));
  for (int i = 0; i < 1000; ++i) {
    auto batch = r->Receive(milliseconds(0));
    REQUIRE(batch.ok());
    if (batch->empty()) break;
    received += batch->size();
  }
  st = r->stats();
  CHECK(received + st.kernel_drops == 2 * kSent);
}

TEST_CASE("UdpReceiver Stop wakes a blocked Receive") {
  UdpReceiverOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  auto r = OpenOrFail(o);
  std::atomic<bool> returned{false};
  size_t size = 99;
  std::thread t([&] {
    // Without Stop() this would wait for a minute.
    auto batch = r->Receive(milliseconds(60'000));
    size = batch.ok() ? batch->size() : 100;
    returned = true;
  });
  r->Stop();
  t.join();
  CHECK(returned);
  CHECK(size == 0);
  CHECK(r->stopped());
  auto again = r->Receive(milliseconds(60'000));
  REQUIRE(again.ok());
  CHECK(again->empty());
}

TEST_CASE("UdpReceiver Wake returns an empty batch once") {
  UdpReceiverOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  auto r = OpenOrFail(o);
  r->Wake();
  auto batch = r->Receive(milliseconds(60'000));
  REQUIRE(batch.ok());
  CHECK(batch->empty());
  CHECK_FALSE(r->stopped());
  Sender s(false);
  s.Send(r->port(), "after wake");
  auto got = ReceiveN(r.get(), 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].second == "after wake");
}

TEST_CASE("UdpReceiver Open errors") {
  UdpReceiverOptions o;
  o.address = "not an address";
  CHECK(UdpReceiver::Open(o).status().code() == StatusCode::kInvalidArgument);
  o.address = "127.0.0.1";
  o.port = 0;
  o.batch_size = 0;
  CHECK(UdpReceiver::Open(o).status().code() == StatusCode::kInvalidArgument);
  o.batch_size = 4;
  auto first = OpenOrFail(o);
  o.port = first->port();
  CHECK(UdpReceiver::Open(o).status().code() == StatusCode::kIoError);
}

}  // namespace
}  // namespace flowacct
