// "The receive path allocates nothing per datagram" (DESIGN.md §6) as a
// test: this binary counts every operator new; once a UdpReceiver is open,
// receiving batches (with an allow list, truncated datagrams and drop
// accounting) must not allocate at all.
//
// Its own binary because it replaces the global operator new/delete.

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/io/udp_receiver.h"

#include "tests/support/allocation_counter.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flowacct {
namespace {

TEST_CASE("UdpReceiver::Receive does not allocate") {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting disabled under sanitizers");
    return;
  }
  UdpReceiverOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.batch_size = 16;
  o.max_datagram_bytes = 1500;
  o.allow = [](const IpAddress& a) { return a.is_v4(); };
  auto opened = UdpReceiver::Open(o);
  REQUIRE(opened.ok());
  UdpReceiver& r = **opened;

  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(r.port());
  std::vector<uint8_t> payload(1200, 0xab);
  std::vector<uint8_t> too_long(2000, 0xcd);
  auto send = [&](const std::vector<uint8_t>& p) {
    return ::sendto(fd, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to),
                    sizeof(to)) == static_cast<ssize_t>(p.size());
  };

  // Warm-up round (first-use costs anywhere in the stack are not counted).
  REQUIRE(send(payload));
  for (int i = 0; i < 100 && r.stats().datagrams < 1; ++i) {
    REQUIRE(r.Receive(std::chrono::milliseconds(20)).ok());
  }
  REQUIRE(r.stats().datagrams == 1);

  constexpr int kDatagrams = 100;
  bool sent_all = true;
  for (int i = 0; i < kDatagrams; ++i) sent_all &= send(payload);
  sent_all &= send(too_long);
  REQUIRE(sent_all);

  uint64_t received = 0, bytes = 0;
  bool ok = true;
  const uint64_t before = testing::AllocationCount();
  for (int i = 0; i < 1000 && received < kDatagrams; ++i) {
    auto batch = r.Receive(std::chrono::milliseconds(20));
    ok &= batch.ok();
    if (!batch.ok()) break;
    for (const Datagram& d : *batch) {
      ++received;
      bytes += d.payload.size();
    }
  }
  (void)r.Receive(std::chrono::milliseconds(0));  // empty queue path
  const uint64_t allocations = testing::AllocationCount() - before;
  ::close(fd);

  REQUIRE(ok);
  CHECK(received == kDatagrams);
  CHECK(bytes == uint64_t{kDatagrams} * 1200);
  CHECK(r.stats().truncated == 1);
  CHECK(allocations == 0);
}

}  // namespace
}  // namespace flowacct
