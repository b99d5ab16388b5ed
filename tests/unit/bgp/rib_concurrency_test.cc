// bgp/rib: writers announce, withdraw, mark stale, sweep and remove peers
// while readers look up. Run under TSan too (FLOWACCT_TSAN=ON).

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/bgp/rib.h"

namespace flowacct::bgp {
namespace {

Prefix V4Prefix(uint32_t addr, int len) {
  Prefix p;
  uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  p.address = IpAddress::V4(addr & mask);
  p.length = static_cast<uint8_t>(len);
  return p;
}

bool Covers(const Prefix& p, uint32_t addr) {
  uint32_t mask = p.length == 0 ? 0 : ~uint32_t{0} << (32 - p.length);
  return (addr & mask) == p.address.v4_host_order();
}

PathAttributes Tagged(uint32_t tag, uint32_t version) {
  PathAttributes a;
  a.as_path.push_back(AsPathSegment{AsSegmentType::kSequence,
                                    {tag, 64512 + version % 50, tag}});
  a.next_hop = IpAddress::V4(0xc0000200 + version % 7);
  a.communities = {tag, version % 5};
  return a;
}

TEST_CASE("bgp/rib: concurrent writers and readers") {
  auto rib = std::move(*Rib::Create({.max_peers = 16, .reclaim_every = 32}));

  // A stable peer whose routes never change: readers check exact answers
  // while other writers grow the shared index around them.
  auto stable = std::move(*rib->AddPeer({.name = "stable"}));
  std::vector<Prefix> stable_prefixes;
  {
    auto h = stable->Intern(Tagged(1, 0));
    std::mt19937 rng(1);
    for (int i = 0; i < 400; ++i) {
      int len = 8 + static_cast<int>(rng() % 17);
      Prefix p = V4Prefix(0x0a000000 | (rng() & 0x00ffffff), len);
      Nlri n;
      n.key = {kIpv4Unicast, p, 0, {}};
      REQUIRE(stable->Announce(n, *h).ok());
      stable_prefixes.push_back(p);
    }
  }
  const PeerId stable_id = stable->id();

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0};
  std::atomic<int> errors{0};
  std::atomic<PeerId> churn_ids[3];
  for (auto& id : churn_ids) id.store(15);  // no such peer yet

  auto writer = [&](int w) {
    std::mt19937 rng(100 + w);
    uint32_t tag = 10 + w;
    auto peer = std::move(*rib->AddPeer({}));
    churn_ids[w].store(peer->id());
    for (int round = 0; round < 6; ++round) {
      for (int op = 0; op < 1500; ++op) {
        int len = 8 + static_cast<int>(rng() % 25);
        Prefix p = V4Prefix(0x0a000000 | (rng() & 0x00ffffff), len);
        Nlri n;
        n.key = {kIpv4Unicast,
                 p,
                 static_cast<uint32_t>(rng() % 3 == 0 ? rng() % 3 : 0),
                 {}};
        if (rng() % 4 == 0) {
          peer->Withdraw(n.key);
        } else {
          auto h =
              peer->Intern(Tagged(tag, static_cast<uint32_t>(rng() % 200)));
          if (!peer->Announce(n, *h).ok()) errors.fetch_add(1);
        }
        if (op % 500 == 499) {
          peer->MarkStale(kIpv4Unicast);
        }
        if (op % 500 == 250) peer->SweepStale(kIpv4Unicast);
      }
      if (round % 2 == 1) {  // drop the peer, come back as a new one
        peer.reset();
        peer = std::move(*rib->AddPeer({}));
        churn_ids[w].store(peer->id());
      }
    }
  };

  // Reader 0 looks up one by one, reader 1 in batches (LookupMany).
  auto reader_fn = [&](int r) {
    auto reader = rib->NewReader();
    std::mt19937 rng(1000 + r);
    std::vector<LookupRequest> requests(128);
    std::vector<std::optional<RouteMatch>> results(128);
    while (!stop.load(std::memory_order_relaxed)) {
      auto section = reader->Enter();
      for (int i = 0; i < 64; ++i) {
        uint32_t addr = 0x0a000000 | (rng() & 0x00ffffff);
        // Stable peer first, then one of the churning peers.
        requests[2 * i] = {stable_id, IpAddress::V4(addr), {}};
        LookupOptions o;
        if (rng() & 1) o.bgp_next_hop = IpAddress::V4(0xc0000200 + rng() % 7);
        requests[2 * i + 1] = {churn_ids[rng() % 3].load(), IpAddress::V4(addr),
                               o};
      }
      if (r == 1) {
        section.LookupMany(requests, results);
      } else {
        for (size_t k = 0; k < requests.size(); ++k) {
          results[k] = section.Lookup(requests[k].peer, requests[k].address,
                                      requests[k].options);
        }
      }
      for (int i = 0; i < 64; ++i) {
        uint32_t addr = requests[2 * i].address.v4_host_order();
        // Stable peer: exact answer.
        const Prefix* best = nullptr;
        for (const Prefix& p : stable_prefixes) {
          if (Covers(p, addr) && (!best || p.length > best->length)) best = &p;
        }
        const std::optional<RouteMatch>& m = results[2 * i];
        if (best == nullptr ? m.has_value()
                            : (!m || !(m->prefix == *best) ||
                               m->attributes.first_as() != 1)) {
          errors.fetch_add(1);
        }
        // Churning peers: whatever is found must be consistent.
        const std::optional<RouteMatch>& c = results[2 * i + 1];
        if (c) {
          uint32_t tag = c->attributes.first_as();
          if (!Covers(c->prefix, addr) || tag < 10 || tag > 12 ||
              c->attributes.origin_as() != tag ||
              c->attributes.communities().size() != 2 ||
              c->attributes.communities()[0] != tag) {
            errors.fetch_add(1);
          }
        }
        lookups.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };

  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) readers.emplace_back(reader_fn, r);
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) writers.emplace_back(writer, w);
  for (auto& t : writers) t.join();
  stop.store(true);
  for (auto& t : readers) t.join();

  CHECK(errors.load() == 0);
  CHECK(lookups.load() > 0);
  stable.reset();
  rib->Reclaim();
  RibStats st = rib->GetStats();
  CHECK(st.peers == 0);
  CHECK(st.routes == 0);
  CHECK(st.attribute_sets == 0);
  CHECK(st.as_paths == 0);
  CHECK(st.pending_reclaim == 0);
}

}  // namespace
}  // namespace flowacct::bgp
