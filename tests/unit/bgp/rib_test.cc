// bgp/rib: announce, withdraw, longest-prefix match per peer, ADD-PATH,
// VPN, interning, graceful restart, peer removal, iteration and stats.

#include "flowacct/bgp/rib.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct::bgp {
namespace {

IpAddress Ip(const std::string& text) { return *IpAddress::Parse(text); }

Prefix Pfx(const std::string& text) {
  size_t slash = text.find('/');
  Prefix p;
  p.address = Ip(text.substr(0, slash));
  p.length = static_cast<uint8_t>(std::stoi(text.substr(slash + 1)));
  return p;
}

Nlri Route(const std::string& prefix, uint32_t path_id = 0) {
  Nlri n;
  n.key.prefix = Pfx(prefix);
  n.key.family = n.key.prefix.address.is_v6() ? kIpv6Unicast : kIpv4Unicast;
  n.key.path_id = path_id;
  return n;
}

PathAttributes Attrs(std::vector<uint32_t> path, const std::string& next_hop,
                     uint32_t local_pref = 100) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path.push_back(AsPathSegment{AsSegmentType::kSequence, path});
  a.next_hop = Ip(next_hop);
  a.local_pref = local_pref;
  return a;
}

std::unique_ptr<Rib> NewRib() { return std::move(*Rib::Create({})); }

// Same answer, field by field (attributes by interned set).
void CheckSameMatch(const std::optional<RouteMatch>& got,
                    const std::optional<RouteMatch>& want) {
  REQUIRE(got.has_value() == want.has_value());
  if (!want) return;
  CHECK(got->prefix == want->prefix);
  CHECK(got->path_id == want->path_id);
  CHECK(got->rd == want->rd);
  CHECK(got->mpls_label == want->mpls_label);
  CHECK(got->stale == want->stale);
  CHECK(got->attributes.valid() == want->attributes.valid());
  CHECK(got->attributes.set_id() == want->attributes.set_id());
}

TEST_CASE("bgp/rib: announce, lookup, replace and withdraw") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({.name = "p1"}));
  auto reader = rib->NewReader();

  PathAttributes a1 = Attrs({64500, 64501, 64502}, "192.0.2.1");
  a1.med = 7;
  a1.communities = {0xfde80001, 0xfde80002};
  a1.ext_communities = {0x0002fde800000001ull};
  a1.large_communities = {LargeCommunity{64500, 1, 2}};
  auto h1 = peer->Intern(a1);
  REQUIRE(h1.ok());
  REQUIRE(peer->Announce(Route("10.0.0.0/8"), *h1).ok());
  REQUIRE(peer->Announce(Route("2001:db8::/32"), *h1).ok());
  CHECK(peer->route_count() == 2);

  {
    auto section = reader->Enter();
    auto m = section.Lookup(peer->id(), Ip("10.1.2.3"));
    REQUIRE(m.has_value());
    CHECK(m->prefix == Pfx("10.0.0.0/8"));
    CHECK(m->path_id == 0);
    CHECK_FALSE(m->mpls_label.has_value());
    const AttributesView& v = m->attributes;
    CHECK(v.first_as() == 64500);
    CHECK(v.origin_as() == 64502);
    CHECK(v.med() == std::optional<uint32_t>(7));
    CHECK(v.local_pref() == std::optional<uint32_t>(100));
    CHECK(v.next_hop() == Ip("192.0.2.1"));
    CHECK(v.origin() == std::optional<Origin>(Origin::kIgp));
    CHECK(std::vector<uint32_t>(v.communities().begin(),
                                v.communities().end()) == a1.communities);
    CHECK(v.ext_communities().size() == 1);
    CHECK(v.large_communities()[0] == LargeCommunity{64500, 1, 2});
    REQUIRE(v.as_path_segment_count() == 1);
    CHECK(v.as_path_segment(0).asns.size() == 3);
    CHECK(v.ToPathAttributes() == a1);

    auto m6 = section.Lookup(peer->id(), Ip("2001:db8:1::1"));
    REQUIRE(m6.has_value());
    CHECK(m6->prefix == Pfx("2001:db8::/32"));
    CHECK_FALSE(section.Lookup(peer->id(), Ip("11.0.0.1")).has_value());
    CHECK_FALSE(section.Lookup(peer->id(), Ip("2001:db9::1")).has_value());
    CHECK_FALSE(section.Lookup(peer->id() + 1, Ip("10.1.2.3")).has_value());
  }

  // Replace with other attributes.
  auto h2 = peer->Intern(Attrs({64600}, "192.0.2.2"));
  REQUIRE(peer->Announce(Route("10.0.0.0/8"), *h2).ok());
  CHECK(peer->route_count() == 2);
  {
    auto section = reader->Enter();
    auto m = section.Lookup(peer->id(), Ip("10.1.2.3"));
    REQUIRE(m.has_value());
    CHECK(m->attributes.origin_as() == 64600);
    CHECK(m->attributes.set_id() == h2->set_id());
  }

  CHECK(peer->Withdraw(Route("10.0.0.0/8").key));
  CHECK_FALSE(peer->Withdraw(Route("10.0.0.0/8").key));
  CHECK_FALSE(peer->Withdraw(Route("10.0.0.0/9").key));
  CHECK(peer->route_count() == 1);
  auto section = reader->Enter();
  CHECK_FALSE(section.Lookup(peer->id(), Ip("10.1.2.3")).has_value());
}

TEST_CASE("bgp/rib: invalid announcements are rejected") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h = peer->Intern(Attrs({1}, "192.0.2.1"));
  Nlri bad = Route("10.0.0.0/8");
  bad.key.family = kIpv6Unicast;
  CHECK(peer->Announce(bad, *h).code() == StatusCode::kInvalidArgument);
  Nlri long_prefix = Route("10.0.0.0/8");
  long_prefix.key.prefix.length = 33;
  CHECK(peer->Announce(long_prefix, *h).code() == StatusCode::kInvalidArgument);
  CHECK(peer->Announce(Route("10.0.0.0/8"), AttrHandle()).code() ==
        StatusCode::kInvalidArgument);
  // Host bits are cleared, not kept.
  REQUIRE(peer->Announce(Route("10.1.2.3/8"), *h).ok());
  auto reader = rib->NewReader();
  auto section = reader->Enter();
  auto m = section.Lookup(peer->id(), Ip("10.200.0.1"));
  REQUIRE(m.has_value());
  CHECK(m->prefix == Pfx("10.0.0.0/8"));
}

TEST_CASE("bgp/rib: an UPDATE's announcements stop at its first bad NLRI") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h = peer->Intern(Attrs({1}, "192.0.2.1"));
  std::vector<Nlri> nlri = {Route("10.0.0.0/24"), Route("10.0.1.0/24"),
                            Route("10.0.2.0/24"), Route("10.0.3.0/24")};
  nlri[2].key.prefix.length = 33;
  CHECK(peer->Announce(nlri, *h).code() == StatusCode::kInvalidArgument);
  // The two before it are in; nothing after it was indexed either.
  CHECK(peer->route_count() == 2);
  CHECK(rib->GetStats().prefixes == 2);
  auto reader = rib->NewReader();
  auto section = reader->Enter();
  CHECK(section.Lookup(peer->id(), Ip("10.0.1.1")).has_value());
  CHECK_FALSE(section.Lookup(peer->id(), Ip("10.0.3.1")).has_value());
}

TEST_CASE("bgp/rib: lookup falls back to the peer's shorter prefixes") {
  auto rib = NewRib();
  auto a = std::move(*rib->AddPeer({}));
  auto b = std::move(*rib->AddPeer({}));
  auto ha = a->Intern(Attrs({1}, "192.0.2.1"));
  auto hb = b->Intern(Attrs({2}, "192.0.2.2"));
  // Peer a: /8 and /24; peer b: /16 and /32 inside a's /24 and a /0.
  REQUIRE(a->Announce(Route("10.0.0.0/8"), *ha).ok());
  REQUIRE(a->Announce(Route("10.1.2.0/24"), *ha).ok());
  REQUIRE(b->Announce(Route("10.1.0.0/16"), *hb).ok());
  REQUIRE(b->Announce(Route("10.1.2.3/32"), *hb).ok());
  REQUIRE(b->Announce(Route("0.0.0.0/0"), *hb).ok());
  auto reader = rib->NewReader();
  auto s = reader->Enter();
  CHECK(s.Lookup(a->id(), Ip("10.1.2.3"))->prefix == Pfx("10.1.2.0/24"));
  CHECK(s.Lookup(b->id(), Ip("10.1.2.3"))->prefix == Pfx("10.1.2.3/32"));
  CHECK(s.Lookup(b->id(), Ip("10.1.2.4"))->prefix == Pfx("10.1.0.0/16"));
  CHECK(s.Lookup(a->id(), Ip("10.1.3.1"))->prefix == Pfx("10.0.0.0/8"));
  CHECK(s.Lookup(b->id(), Ip("10.2.0.1"))->prefix == Pfx("0.0.0.0/0"));
  CHECK_FALSE(s.Lookup(a->id(), Ip("11.0.0.1")).has_value());
  CHECK(s.Lookup(b->id(), Ip("11.0.0.1"))->prefix == Pfx("0.0.0.0/0"));
}

// Random prefixes of random lengths, clustered so that nesting is common.
std::vector<Prefix> RandomPrefixes(std::mt19937_64& rng, bool v6, size_t n) {
  std::vector<Prefix> out;
  std::set<std::pair<std::vector<uint8_t>, int>> seen;
  int bytes = v6 ? 16 : 4;
  int max_len = v6 ? 128 : 32;
  while (out.size() < n) {
    uint8_t raw[16] = {};
    // Few distinct leading bytes so prefixes overlap a lot.
    raw[0] = static_cast<uint8_t>(v6 ? 0x20 : 10 + rng() % 3);
    raw[1] = static_cast<uint8_t>(rng() % 4);
    for (int i = 2; i < bytes; ++i) {
      raw[i] = static_cast<uint8_t>(rng() % (v6 && i < 5 ? 4
                                             : i == 2    ? 16
                                                         : 256));
    }
    int len = static_cast<int>(rng() % (max_len + 1));
    if (rng() % 3 == 0) len = std::min(max_len, 8 * (1 + int(rng() % 4)));
    for (int i = 0; i < bytes; ++i) {
      int keep = std::clamp(len - i * 8, 0, 8);
      raw[i] &= static_cast<uint8_t>(0xff00u >> keep);
    }
    std::vector<uint8_t> key(raw, raw + bytes);
    if (!seen.insert({key, len}).second) continue;
    Prefix p;
    p.address = v6 ? IpAddress::V6Bytes(raw) : IpAddress::V4Bytes(raw);
    p.length = static_cast<uint8_t>(len);
    out.push_back(p);
  }
  return out;
}

bool Covers(const Prefix& p, const IpAddress& a) {
  if (p.address.family() != a.family()) return false;
  for (int i = 0; i < a.size(); ++i) {
    int keep = std::clamp(p.length - i * 8, 0, 8);
    uint8_t mask = static_cast<uint8_t>(0xff00u >> keep);
    if ((a.data()[i] & mask) != p.address.data()[i]) return false;
  }
  return true;
}

IpAddress RandomAddressNear(std::mt19937_64& rng, const std::vector<Prefix>& ps,
                            bool v6) {
  const Prefix& base = ps[rng() % ps.size()];
  uint8_t raw[16];
  std::memcpy(raw, base.address.data(), 16);
  int bytes = v6 ? 16 : 4;
  // Randomise the host part and sometimes a few network bits too.
  int from = std::max(0, base.length - static_cast<int>(rng() % 6));
  for (int bit = from; bit < bytes * 8; ++bit) {
    if (rng() & 1) raw[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  return v6 ? IpAddress::V6Bytes(raw) : IpAddress::V4Bytes(raw);
}

// The IPv4 and IPv6 index roots are one word per /24 (over one per /16 for
// /0../16 prefixes), with ext entries where longer prefixes hang below: the
// insertion orders and the covering links across those three levels.
TEST_CASE("bgp/rib: prefixes across the flat root's levels, any order") {
  std::vector<std::vector<std::string>> orders = {
      {"0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/17", "10.1.2.0/24",
       "10.1.2.128/25", "10.1.2.200/32"},
      {"10.1.2.200/32", "10.1.2.128/25", "10.1.2.0/24", "10.1.0.0/17",
       "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"},
      {"10.1.0.0/17", "0.0.0.0/0", "10.1.2.200/32", "10.0.0.0/8",
       "10.1.2.128/25", "10.1.0.0/16", "10.1.2.0/24"},
      {"2001:db8::/32", "2001:db8:100::/40", "2001:db8:100:1::/64", "2000::/3",
       "2001:d00::/24", "::/0", "2001:db8:180::/41"},
      {"2001:db8:180::/41", "::/0", "2001:d00::/24", "2000::/3",
       "2001:db8:100:1::/64", "2001:db8:100::/40", "2001:db8::/32"},
  };
  // And random ones: /8../28 over a few /16s of 10/8, each /16 with words
  // in several of its 32-word groups, so that a short prefix arriving
  // late has scattered /17../24 words and ext entries to cover.
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    std::mt19937_64 rng(seed);
    std::set<std::string> set;
    const int kLens[] = {8, 12, 15, 16, 17, 19, 20, 22, 23, 24, 25, 28};
    while (set.size() < 60) {
      const int len = kLens[rng() % std::size(kLens)];
      uint32_t a = (10u << 24) | ((rng() % 4) << 16) |
                   static_cast<uint32_t>(rng() & 0xffff);
      a &= ~uint32_t{0} << (32 - len);
      set.insert(IpAddress::V4(a).ToString() + "/" + std::to_string(len));
    }
    std::vector<std::string> order(set.begin(), set.end());
    std::shuffle(order.begin(), order.end(), rng);
    orders.push_back(order);
  }
  // IPv6: /20../56 in 2001:db8::/32, most not a multiple of 8 (they span
  // several slots of a node, partly over longer prefixes and children).
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    std::mt19937_64 rng(seed + 10);
    std::set<std::string> set;
    const int kLens[] = {20, 29, 32, 33, 36, 40, 41, 44, 46, 48, 52, 56};
    while (set.size() < 60) {
      const int len = kLens[rng() % std::size(kLens)];
      uint8_t raw[16] = {0x20, 0x01, 0x0d, 0xb8};
      raw[4] = static_cast<uint8_t>(rng() % 3);
      raw[5] = static_cast<uint8_t>(rng());
      raw[6] = static_cast<uint8_t>(rng() % 4);
      for (int b = len; b < 128; ++b) {
        raw[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
      }
      set.insert(IpAddress::V6Bytes(raw).ToString() + "/" +
                 std::to_string(len));
    }
    std::vector<std::string> order(set.begin(), set.end());
    std::shuffle(order.begin(), order.end(), rng);
    orders.push_back(order);
  }
  // Each order announced one prefix per UPDATE, and all in one UPDATE
  // (the batch inserts the missing prefixes together: later ones covered
  // by earlier ones, and a repeated one, must still find their place).
  for (const bool one_update : {false, true})
    for (const std::vector<std::string>& order : orders) {
      CAPTURE(order, one_update);
      auto rib = NewRib();
      // Peer `all` has every prefix; peer `odd` every second one of the
      // sorted list, so its lookups follow covering links past the others.
      auto all = std::move(*rib->AddPeer({}));
      auto odd = std::move(*rib->AddPeer({}));
      auto h_all = all->Intern(Attrs({1}, "192.0.2.1"));
      auto h_odd = odd->Intern(Attrs({2}, "192.0.2.2"));
      std::vector<Prefix> sorted;
      for (const std::string& p : order) sorted.push_back(Pfx(p));
      std::sort(
          sorted.begin(), sorted.end(),
          [](const Prefix& a, const Prefix& b) { return a.length < b.length; });
      std::set<std::string> odd_has;
      for (size_t k = 1; k < sorted.size(); k += 2) {
        odd_has.insert(sorted[k].ToString());
      }
      if (one_update) {
        std::vector<Nlri> to_all, to_odd;
        for (const std::string& p : order) {
          to_all.push_back(Route(p));
          if (odd_has.count(Pfx(p).ToString())) to_odd.push_back(Route(p));
        }
        to_all.push_back(Route(order.front()));  // again, in the same UPDATE
        REQUIRE(all->Announce(to_all, *h_all).ok());
        REQUIRE(odd->Announce(to_odd, *h_odd).ok());
        CHECK(rib->GetStats().prefixes == order.size());
      } else {
        for (const std::string& p : order) {
          REQUIRE(all->Announce(Route(p), *h_all).ok());
          if (odd_has.count(Pfx(p).ToString())) {
            REQUIRE(odd->Announce(Route(p), *h_odd).ok());
          }
        }
      }
      auto reader = rib->NewReader();
      auto s = reader->Enter();
      // Every prefix's first, last and middle address, and one past it.
      std::mt19937_64 rng(3);
      for (const Prefix& p : sorted) {
        for (int probe = 0; probe < 8; ++probe) {
          uint8_t raw[16];
          std::memcpy(raw, p.address.data(), 16);
          const int bits = p.address.is_v6() ? 128 : 32;
          for (int b = p.length; b < bits; ++b) {
            const bool one = probe == 1 || (probe > 1 && (rng() & 1));
            if (one) raw[b / 8] |= static_cast<uint8_t>(0x80 >> (b % 8));
          }
          IpAddress a = p.address.is_v6() ? IpAddress::V6Bytes(raw)
                                          : IpAddress::V4Bytes(raw);
          for (const auto* peer : {all.get(), odd.get()}) {
            const Prefix* want = nullptr;
            for (const Prefix& c : sorted) {
              if (peer == odd.get() && !odd_has.count(c.ToString())) continue;
              if (Covers(c, a) &&
                  (want == nullptr || c.length > want->length)) {
                want = &c;
              }
            }
            auto m = s.Lookup(peer->id(), a);
            std::vector<LookupRequest> batch(1);
            batch[0].peer = peer->id();
            batch[0].address = a;
            std::vector<std::optional<RouteMatch>> many(1);
            s.LookupMany(batch, many);
            CheckSameMatch(many[0], m);
            CAPTURE(a.ToString());
            if (want == nullptr) {
              CHECK_FALSE(m.has_value());
            } else {
              REQUIRE(m.has_value());
              CHECK(m->prefix == *want);
            }
          }
        }
      }
    }
}

TEST_CASE(
    "bgp/rib: short prefixes and a default route cost no flat root page") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h = peer->Intern(Attrs({1}, "192.0.2.1"));
  for (const char* p :
       {"0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "::/0", "2001::/16"}) {
    REQUIRE(peer->Announce(Route(p), *h).ok());
  }
  const uint64_t before = rib->GetStats().index_node_bytes;
  // The flat roots (64 MiB of address space each) are untouched: what is
  // counted is the /16 level and small things.
  CHECK(before < 4u << 20);
  REQUIRE(peer->Announce(Route("10.1.2.0/24"), *h).ok());
  const uint64_t after = rib->GetStats().index_node_bytes;
  // One 2 MiB piece of the IPv4 flat root now holds a word.
  CHECK(after >= before + (2u << 20));
  CHECK(after < before + (3u << 20));
  auto reader = rib->NewReader();
  auto s = reader->Enter();
  CHECK(s.Lookup(peer->id(), Ip("10.1.2.3"))->prefix == Pfx("10.1.2.0/24"));
  CHECK(s.Lookup(peer->id(), Ip("10.1.3.3"))->prefix == Pfx("10.1.0.0/16"));
  CHECK(s.Lookup(peer->id(), Ip("11.0.0.1"))->prefix == Pfx("0.0.0.0/0"));
  CHECK(s.Lookup(peer->id(), Ip("2001:0:1::1"))->prefix == Pfx("2001::/16"));
  CHECK(s.Lookup(peer->id(), Ip("3000::1"))->prefix == Pfx("::/0"));
}

TEST_CASE("bgp/rib: longest-prefix match equals brute force, many peers") {
  for (bool v6 : {false, true}) {
    std::mt19937_64 rng(v6 ? 42 : 7);
    // The IPv6 round with the arena on huge pages (the option changes only
    // how memory is backed: the answers must be the same).
    RibOptions options;
    options.huge_pages = v6;
    auto rib = std::move(*Rib::Create(options));
    constexpr int kPeers = 6;
    std::vector<std::unique_ptr<PeerWriter>> peers;
    std::vector<AttrHandle> handles;
    for (int i = 0; i < kPeers; ++i) {
      peers.push_back(std::move(*rib->AddPeer({})));
      handles.push_back(*peers.back()->Intern(
          Attrs({64500u + i}, v6 ? "2001:db8::1" : "192.0.2.1")));
    }
    std::vector<Prefix> prefixes = RandomPrefixes(rng, v6, 3000);
    // Each peer announces a different random subset, in random order.
    std::vector<std::vector<Prefix>> have(kPeers);
    for (int i = 0; i < kPeers; ++i) {
      for (const Prefix& p : prefixes) {
        if (rng() % 100 < static_cast<unsigned>(20 + 12 * i)) {
          have[i].push_back(p);
        }
      }
      std::shuffle(have[i].begin(), have[i].end(), rng);
    }
    for (size_t k = 0;; ++k) {  // interleave peers so the index grows mixed
      bool any = false;
      for (int i = 0; i < kPeers; ++i) {
        if (k < have[i].size()) {
          any = true;
          Nlri n;
          n.key.family = v6 ? kIpv6Unicast : kIpv4Unicast;
          n.key.prefix = have[i][k];
          REQUIRE(peers[i]->Announce(n, handles[i]).ok());
        }
      }
      if (!any) break;
    }
    // Withdraw a third of peer 0's routes.
    std::vector<Prefix> kept0;
    for (size_t k = 0; k < have[0].size(); ++k) {
      RouteKey key{v6 ? kIpv6Unicast : kIpv4Unicast, have[0][k], 0, {}};
      if (k % 3 == 0) {
        REQUIRE(peers[0]->Withdraw(key));
      } else {
        kept0.push_back(have[0][k]);
      }
    }
    have[0] = kept0;

    auto reader = rib->NewReader();
    auto section = reader->Enter();
    for (int q = 0; q < 20000; ++q) {
      IpAddress a = RandomAddressNear(rng, prefixes, v6);
      for (int i = 0; i < kPeers; ++i) {
        const Prefix* best = nullptr;
        for (const Prefix& p : have[i]) {
          if (Covers(p, a) && (best == nullptr || p.length > best->length)) {
            best = &p;
          }
        }
        auto m = section.Lookup(peers[i]->id(), a);
        // The batched path, one request at a time and among others.
        std::vector<LookupRequest> batch(3);
        batch[1].peer = peers[i]->id();
        batch[1].address = a;
        batch[0] = batch[2] = batch[1];
        batch[0].peer = peers[(i + 1) % kPeers]->id();
        std::vector<std::optional<RouteMatch>> many(3);
        section.LookupMany(batch, many);
        CheckSameMatch(many[1], m);
        CheckSameMatch(many[2], m);
        if (best == nullptr) {
          CHECK_FALSE(m.has_value());
        } else {
          REQUIRE(m.has_value());
          CHECK(m->prefix == *best);
          CHECK(m->attributes.first_as() == 64500u + i);
        }
      }
    }
  }
}

TEST_CASE("bgp/rib: LookupMany answers every request as Lookup does") {
  std::mt19937_64 rng(99);
  auto rib = NewRib();
  constexpr int kPeers = 5;
  std::vector<std::unique_ptr<PeerWriter>> peers;
  std::vector<std::vector<AttrHandle>> handles(kPeers);
  for (int i = 0; i < kPeers; ++i) {
    peers.push_back(std::move(*rib->AddPeer({})));
    for (int k = 0; k < 3; ++k) {
      handles[i].push_back(*peers[i]->Intern(
          Attrs({64500u + i, 65000u + k}, "192.0.2." + std::to_string(k + 1))));
    }
  }
  RouteDistinguisher rd;
  rd.bytes = {0, 0, 0xfd, 0xe8, 0, 0, 0, 7};
  std::vector<Prefix> v4 = RandomPrefixes(rng, false, 2000);
  std::vector<Prefix> v6 = RandomPrefixes(rng, true, 1000);
  for (int i = 0; i < kPeers; ++i) {
    for (const std::vector<Prefix>* ps : {&v4, &v6}) {
      for (const Prefix& p : *ps) {
        unsigned r = rng() % 100;
        if (r < 30) continue;  // not this peer's
        Nlri n;
        n.key.prefix = p;
        n.key.family = p.address.is_v6() ? kIpv6Unicast : kIpv4Unicast;
        const AttrHandle& h = handles[i][rng() % 3];
        if (r < 40) {  // ADD-PATH: two paths (side entry)
          n.key.path_id = 1;
          REQUIRE(peers[i]->Announce(n, h).ok());
          n.key.path_id = 2;
          REQUIRE(peers[i]->Announce(n, handles[i][(rng() % 2) + 1]).ok());
          continue;
        }
        if (r < 45) {  // labeled unicast only: the unicast fallback
          n.key.family.safi = Safi::kLabeledUnicast;
          n.mpls_label = 100 + i;
        } else if (r < 50 && !p.address.is_v6()) {  // VPN
          n.key.family = {Afi::kIpv4, Safi::kMplsVpn};
          n.key.rd = rd;
          n.mpls_label = 200 + i;
        }
        REQUIRE(peers[i]->Announce(n, h).ok());
      }
    }
  }
  // Withdrawals leave index prefixes some peers no longer have (covering
  // fallback); graceful restart marks some routes stale.
  for (size_t k = 0; k < v4.size(); k += 4) {
    peers[1]->Withdraw(RouteKey{kIpv4Unicast, v4[k], 0, {}});
  }
  peers[2]->MarkStale(kIpv6Unicast);
  // A peer with one unicast route and one labeled-unicast route: unicast
  // lookups outside the first fall back to the second.
  auto lu_peer = std::move(*rib->AddPeer({}));
  auto lu_attrs = *lu_peer->Intern(Attrs({64999}, "192.0.2.9"));
  REQUIRE(lu_peer->Announce(Route("198.18.0.0/15"), lu_attrs).ok());
  Nlri lu = Route("100.64.0.0/10");
  lu.key.family.safi = Safi::kLabeledUnicast;
  lu.mpls_label = 77;
  REQUIRE(lu_peer->Announce(lu, lu_attrs).ok());

  // Requests: each peer, a missing peer, unset addresses, every family,
  // with and without a BGP next hop, VPN with the RD and a wrong one.
  std::vector<LookupRequest> requests;
  for (int q = 0; q < 4003; ++q) {
    LookupRequest r;
    r.peer = static_cast<PeerId>(rng() % (kPeers + 1));  // kPeers: none
    unsigned kind = rng() % 20;
    if (kind == 0) {
      r.address = IpAddress();
    } else {
      r.address = RandomAddressNear(rng, kind % 2 ? v4 : v6, kind % 2 == 0);
    }
    if (rng() % 3 == 0) {
      r.options.bgp_next_hop = Ip("192.0.2." + std::to_string(rng() % 4));
    }
    if (kind == 3 || kind == 5) {
      r.options.safi = Safi::kMplsVpn;
      r.options.rd = rd;
      if (kind == 5) r.options.rd.bytes[7] = 8;
    } else if (kind == 7) {
      r.options.safi = Safi::kLabeledUnicast;
    }
    if (q % 10 == 0) {
      r.peer = lu_peer->id();
      r.address = Ip(q % 20 ? "100.64.1.1" : "198.19.0.1");
    }
    requests.push_back(r);
  }
  auto reader = rib->NewReader();
  auto section = reader->Enter();
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{15}, size_t{17}, requests.size()}) {
    std::vector<std::optional<RouteMatch>> got(n);
    // Stale contents must be overwritten.
    for (auto& g : got) g.emplace().path_id = 12345;
    section.LookupMany(std::span(requests).first(n), got);
    size_t found = 0;
    for (size_t i = 0; i < n; ++i) {
      const LookupRequest& r = requests[i];
      CheckSameMatch(got[i], section.Lookup(r.peer, r.address, r.options));
      found += got[i].has_value();
    }
    if (n == requests.size()) {
      CHECK(found > n / 3);  // the mix really finds routes
      CHECK(got[10]->mpls_label == std::optional<uint32_t>(77));
    }
  }
  // Results shorter than requests: only those are answered.
  std::vector<std::optional<RouteMatch>> two(2);
  section.LookupMany(requests, two);
  CheckSameMatch(two[1], section.Lookup(requests[1].peer, requests[1].address,
                                        requests[1].options));
}

TEST_CASE("bgp/rib: ADD-PATH chooses the path by BGP next hop") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h1 = peer->Intern(Attrs({1, 10}, "192.0.2.1"));
  auto h2 = peer->Intern(Attrs({2, 10}, "192.0.2.2"));
  auto h3 = peer->Intern(Attrs({3, 10}, "192.0.2.3"));
  REQUIRE(peer->Announce(Route("198.51.100.0/24", 1), *h1).ok());
  REQUIRE(peer->Announce(Route("198.51.100.0/24", 2), *h2).ok());
  REQUIRE(peer->Announce(Route("198.51.100.0/24", 3), *h3).ok());
  CHECK(peer->route_count() == 1);
  CHECK(peer->path_count() == 3);
  auto reader = rib->NewReader();
  {
    auto s = reader->Enter();
    auto first = s.Lookup(peer->id(), Ip("198.51.100.7"));
    REQUIRE(first.has_value());
    CHECK(first->path_id == 1);
    CHECK(first->attributes.first_as() == 1);
    LookupOptions o;
    o.bgp_next_hop = Ip("192.0.2.2");
    auto by_nh = s.Lookup(peer->id(), Ip("198.51.100.7"), o);
    REQUIRE(by_nh.has_value());
    CHECK(by_nh->path_id == 2);
    CHECK(by_nh->attributes.first_as() == 2);
    o.bgp_next_hop = Ip("192.0.2.99");
    CHECK(s.Lookup(peer->id(), Ip("198.51.100.7"), o)->path_id == 1);
  }
  // Replace path 2, withdraw path 1: path 2 comes first now.
  REQUIRE(peer->Announce(Route("198.51.100.0/24", 2), *h3).ok());
  CHECK(peer->Withdraw(Route("198.51.100.0/24", 1).key));
  CHECK_FALSE(peer->Withdraw(Route("198.51.100.0/24", 1).key));
  CHECK_FALSE(peer->Withdraw(Route("198.51.100.0/24", 0).key));
  CHECK(peer->path_count() == 2);
  {
    auto s = reader->Enter();
    auto m = s.Lookup(peer->id(), Ip("198.51.100.7"));
    REQUIRE(m.has_value());
    CHECK(m->path_id == 2);
    CHECK(m->attributes.first_as() == 3);
  }
  CHECK(peer->Withdraw(Route("198.51.100.0/24", 2).key));
  CHECK(peer->Withdraw(Route("198.51.100.0/24", 3).key));
  CHECK(peer->route_count() == 0);
  CHECK(peer->path_count() == 0);
  auto s = reader->Enter();
  CHECK_FALSE(s.Lookup(peer->id(), Ip("198.51.100.7")).has_value());
}

TEST_CASE("bgp/rib: plain route upgraded to ADD-PATH keeps its path") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h1 = peer->Intern(Attrs({1}, "192.0.2.1"));
  auto h2 = peer->Intern(Attrs({2}, "192.0.2.2"));
  REQUIRE(peer->Announce(Route("203.0.113.0/24"), *h1).ok());
  REQUIRE(peer->Announce(Route("203.0.113.0/24", 5), *h2).ok());
  CHECK(peer->path_count() == 2);
  auto reader = rib->NewReader();
  auto s = reader->Enter();
  LookupOptions o;
  o.bgp_next_hop = Ip("192.0.2.2");
  CHECK(s.Lookup(peer->id(), Ip("203.0.113.1"))->path_id == 0);
  CHECK(s.Lookup(peer->id(), Ip("203.0.113.1"), o)->path_id == 5);
}

TEST_CASE("bgp/rib: labeled unicast and VPN routes with RD and label") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h = peer->Intern(Attrs({65001}, "192.0.2.1"));
  auto h2 = peer->Intern(Attrs({65002}, "192.0.2.1"));
  RouteDistinguisher rd1;
  rd1.bytes = {0, 0, 0xfd, 0xe8, 0, 0, 0, 1};
  RouteDistinguisher rd2;
  rd2.bytes = {0, 0, 0xfd, 0xe8, 0, 0, 0, 2};
  Nlri v1;
  v1.key = {Family{Afi::kIpv4, Safi::kMplsVpn}, Pfx("10.0.0.0/8"), 0, rd1};
  v1.mpls_label = 1001;
  Nlri v2 = v1;
  v2.key.rd = rd2;
  v2.key.prefix = Pfx("10.1.0.0/16");
  v2.mpls_label = 1002;
  REQUIRE(peer->Announce(v1, *h).ok());
  REQUIRE(peer->Announce(v2, *h2).ok());
  Nlri lu;
  lu.key = {
      Family{Afi::kIpv4, Safi::kLabeledUnicast}, Pfx("172.16.0.0/12"), 0, {}};
  lu.mpls_label = 3000;
  REQUIRE(peer->Announce(lu, *h).ok());

  auto reader = rib->NewReader();
  auto s = reader->Enter();
  LookupOptions o;
  o.safi = Safi::kMplsVpn;
  o.rd = rd1;
  auto m1 = s.Lookup(peer->id(), Ip("10.1.2.3"), o);
  REQUIRE(m1.has_value());
  CHECK(m1->prefix == Pfx("10.0.0.0/8"));
  CHECK(m1->rd == rd1);
  CHECK(m1->mpls_label == std::optional<uint32_t>(1001));
  o.rd = rd2;
  auto m2 = s.Lookup(peer->id(), Ip("10.1.2.3"), o);
  REQUIRE(m2.has_value());
  CHECK(m2->prefix == Pfx("10.1.0.0/16"));
  CHECK(m2->mpls_label == std::optional<uint32_t>(1002));
  CHECK_FALSE(s.Lookup(peer->id(), Ip("10.2.0.1"), o).has_value());
  // Unicast lookups never see VPN routes, but fall back to labeled unicast.
  CHECK_FALSE(s.Lookup(peer->id(), Ip("10.1.2.3")).has_value());
  auto l = s.Lookup(peer->id(), Ip("172.16.5.5"));
  REQUIRE(l.has_value());
  CHECK(l->mpls_label == std::optional<uint32_t>(3000));

  int count = 0;
  s.ForEachRoute(peer->id(), [&](const RouteEntry& e) {
    ++count;
    if (e.key.family.safi == Safi::kMplsVpn && e.key.rd == rd2) {
      CHECK(e.key.prefix == Pfx("10.1.0.0/16"));
      CHECK(e.mpls_label == std::optional<uint32_t>(1002));
    }
  });
  CHECK(count == 3);
}

TEST_CASE("bgp/rib: exact reads of one route (Find, PeerWriter::Attributes)") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto other = std::move(*rib->AddPeer({}));
  auto h1 = *peer->Intern(Attrs({65001}, "192.0.2.1", 150));
  auto h2 = *peer->Intern(Attrs({65002}, "192.0.2.2"));
  REQUIRE(peer->Announce(Route("10.0.0.0/8"), h1).ok());
  REQUIRE(peer->Announce(Route("10.1.0.0/16", 7), h2).ok());
  REQUIRE(other
              ->Announce(Route("10.2.0.0/16"),
                         *other->Intern(Attrs({65003}, "192.0.2.3")))
              .ok());
  RouteDistinguisher rd;
  rd.bytes = {0, 0, 0xfd, 0xe8, 0, 0, 0, 1};
  Nlri vpn;
  vpn.key = {Family{Afi::kIpv4, Safi::kMplsVpn}, Pfx("10.0.0.0/8"), 0, rd};
  vpn.mpls_label = 1001;
  REQUIRE(peer->Announce(vpn, h2).ok());

  std::optional<PathAttributes> a = peer->Attributes(Route("10.0.0.0/8").key);
  REQUIRE(a.has_value());
  CHECK(a->local_pref == std::optional<uint32_t>(150));
  // Exact only: no longest match, no other path id, no other peer's route.
  CHECK_FALSE(peer->Attributes(Route("10.0.0.0/9").key).has_value());
  CHECK_FALSE(peer->Attributes(Route("10.1.0.0/16", 8).key).has_value());
  CHECK_FALSE(peer->Attributes(Route("10.1.0.0/16").key).has_value());
  CHECK(peer->Attributes(Route("10.1.0.0/16", 7).key).has_value());
  CHECK_FALSE(peer->Attributes(Route("10.2.0.0/16").key).has_value());

  auto reader = rib->NewReader();
  {
    auto section = reader->Enter();
    auto v = section.Find(peer->id(), vpn.key);
    REQUIRE(v.has_value());
    CHECK(v->key.rd == rd);
    CHECK(v->mpls_label == std::optional<uint32_t>(1001));
    CHECK(v->attributes.first_as() == 65002);
    RouteKey wrong_rd = vpn.key;
    wrong_rd.rd.bytes[7] = 2;
    CHECK_FALSE(section.Find(peer->id(), wrong_rd).has_value());
    auto p = section.Find(peer->id(), Route("10.1.0.0/16", 7).key);
    REQUIRE(p.has_value());
    CHECK(p->key.path_id == 7);
    CHECK(p->attributes.first_as() == 65002);
    CHECK_FALSE(section.Find(99, Route("10.0.0.0/8").key).has_value());
  }
  // Gone after the withdrawal.
  REQUIRE(peer->Withdraw(Route("10.0.0.0/8").key));
  CHECK_FALSE(peer->Attributes(Route("10.0.0.0/8").key).has_value());
}

TEST_CASE("bgp/rib: attributes are interned once and freed when unused") {
  auto rib = NewRib();
  std::vector<std::unique_ptr<PeerWriter>> peers;
  for (int i = 0; i < 4; ++i) peers.push_back(std::move(*rib->AddPeer({})));
  PathAttributes shared = Attrs({64500, 64501}, "192.0.2.1");
  shared.communities = {1, 2, 3};
  for (auto& p : peers) {
    auto h = p->Intern(shared);
    REQUIRE(p->Announce(Route("10.0.0.0/8"), *h).ok());
    REQUIRE(p->Announce(Route("10.1.0.0/16"), *h).ok());
    // Same path and communities, another next hop: a new set sharing the
    // interned AS path and community list.
    PathAttributes own = shared;
    own.next_hop = IpAddress::V4(0xc0000264 + static_cast<uint32_t>(p->id()));
    auto h2 = p->Intern(own);
    REQUIRE(p->Announce(Route("10.2.0.0/16"), *h2).ok());
  }
  RibStats st = rib->GetStats();
  CHECK(st.prefixes == 3);
  CHECK(st.routes == 12);
  CHECK(st.attribute_sets == 5);
  CHECK(st.as_paths == 1);
  CHECK(st.community_sets == 1);
  {
    auto h = peers[0]->Intern(shared);
    CHECK(h->ref_count() == 8 + 1);
  }
  for (auto& p : peers) {
    CHECK(p->Withdraw(Route("10.0.0.0/8").key));
    CHECK(p->Withdraw(Route("10.1.0.0/16").key));
  }
  st = rib->GetStats();
  CHECK(st.attribute_sets == 4);
  CHECK(st.as_paths == 1);
  peers.clear();  // removes the peers and their routes
  rib->Reclaim();
  st = rib->GetStats();
  CHECK(st.peers == 0);
  CHECK(st.routes == 0);
  CHECK(st.attribute_sets == 0);
  CHECK(st.as_paths == 0);
  CHECK(st.community_sets == 0);
  CHECK(st.pending_reclaim == 0);
  CHECK(st.as_path_bytes == 0);
}

TEST_CASE("bgp/rib: one UPDATE's references and counts, repeats included") {
  // AnnounceMany adds a new route's reference and counts once per UPDATE;
  // a repeated prefix and a replaced route in the same UPDATE must leave
  // exact counts (the set never drops to zero on the way).
  auto rib = NewRib();
  {
    auto peer = std::move(*rib->AddPeer({}));
    auto h1 = peer->Intern(Attrs({64500}, "192.0.2.1"));
    REQUIRE(peer->Announce(Route("10.9.0.0/16"), *h1).ok());
    auto h2 = peer->Intern(Attrs({64501}, "192.0.2.2"));
    std::vector<Nlri> update;
    for (int i = 0; i < 40; ++i) {  // several chunks of the batch
      update.push_back(Route("10.0." + std::to_string(i) + ".0/24"));
    }
    update.push_back(Route("10.0.3.0/24"));  // again
    update.push_back(Route("10.9.0.0/16"));  // replaces h1's route
    REQUIRE(peer->Announce(update, *h2).ok());
    RibStats st = rib->GetStats();
    CHECK(st.routes == 41);
    CHECK(st.paths == 41);
    CHECK(h2->ref_count() == 41 + 1);
    CHECK(h1->ref_count() == 1);
    // An UPDATE stopped by a bad NLRI still counts the routes before it.
    std::vector<Nlri> bad = {Route("10.1.0.0/24"), Route("10.1.1.0/24")};
    bad.back().key.prefix.length = 33;
    CHECK_FALSE(peer->Announce(bad, *h2).ok());
    CHECK(rib->GetStats().routes == 42);
    CHECK(h2->ref_count() == 42 + 1);
  }  // the peer and both handles go
  rib->Reclaim();
  const RibStats end = rib->GetStats();
  CHECK(end.routes == 0);
  CHECK(end.attribute_sets == 0);
}

TEST_CASE("bgp/rib: a handle keeps its set alive; ids are reused") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  uint32_t first_id;
  {
    auto h = peer->Intern(Attrs({1}, "192.0.2.1"));
    first_id = h->set_id();
    AttrHandle copy = *h;
    CHECK(copy.ref_count() == 2);
    REQUIRE(peer->Announce(Route("10.0.0.0/8"), copy).ok());
    CHECK(copy.ref_count() == 3);
  }
  CHECK(rib->GetStats().attribute_sets == 1);
  CHECK(peer->Withdraw(Route("10.0.0.0/8").key));
  CHECK(rib->GetStats().attribute_sets == 0);
  rib->Reclaim();
  auto h = peer->Intern(Attrs({2}, "192.0.2.1"));
  CHECK(h->set_id() == first_id);
}

TEST_CASE("bgp/rib: peer removal drops only that peer's routes") {
  auto rib = NewRib();
  auto a = std::move(*rib->AddPeer({}));
  auto b = std::move(*rib->AddPeer({}));
  auto ha = a->Intern(Attrs({1}, "192.0.2.1"));
  auto hb = b->Intern(Attrs({2}, "192.0.2.2"));
  REQUIRE(a->Announce(Route("10.0.0.0/8"), *ha).ok());
  REQUIRE(b->Announce(Route("10.0.0.0/8"), *hb).ok());
  REQUIRE(b->Announce(Route("2001:db8::/32", 4), *hb).ok());
  PeerId a_id = a->id();
  PeerId b_id = b->id();
  auto reader = rib->NewReader();
  b.reset();
  {
    auto s = reader->Enter();
    CHECK(s.Lookup(a_id, Ip("10.0.0.1")).has_value());
    CHECK_FALSE(s.Lookup(b_id, Ip("10.0.0.1")).has_value());
    CHECK_FALSE(s.Lookup(b_id, Ip("2001:db8::1")).has_value());
  }
  rib->Reclaim();
  RibStats st = rib->GetStats();
  CHECK(st.peers == 1);
  CHECK(st.routes == 1);
  // The removed peer's id is reused after reclamation.
  auto c = std::move(*rib->AddPeer({}));
  CHECK(c->id() == b_id);
  auto s = reader->Enter();
  CHECK_FALSE(s.Lookup(c->id(), Ip("10.0.0.1")).has_value());
}

TEST_CASE("bgp/rib: graceful restart marks stale and sweeps") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h = peer->Intern(Attrs({1}, "192.0.2.1"));
  for (int i = 0; i < 10; ++i) {
    REQUIRE(
        peer->Announce(Route("10." + std::to_string(i) + ".0.0/16"), *h).ok());
  }
  REQUIRE(peer->Announce(Route("192.0.2.0/24", 1), *h).ok());
  REQUIRE(peer->Announce(Route("192.0.2.0/24", 2), *h).ok());
  REQUIRE(peer->Announce(Route("2001:db8::/32"), *h).ok());
  CHECK(peer->MarkStale(kIpv4Unicast) == 12);
  auto reader = rib->NewReader();
  {
    auto s = reader->Enter();
    auto m = s.Lookup(peer->id(), Ip("10.3.0.1"));
    REQUIRE(m.has_value());  // stale routes still answer
    CHECK(m->stale);
    CHECK_FALSE(s.Lookup(peer->id(), Ip("2001:db8::1"))->stale);
  }
  // The session comes back and re-announces some routes.
  for (int i = 0; i < 4; ++i) {
    REQUIRE(
        peer->Announce(Route("10." + std::to_string(i) + ".0.0/16"), *h).ok());
  }
  REQUIRE(peer->Announce(Route("192.0.2.0/24", 2), *h).ok());
  CHECK(peer->SweepStale(kIpv4Unicast) == 7);
  CHECK(peer->route_count() == 4 + 1 + 1);
  CHECK(peer->path_count() == 4 + 1 + 1);
  auto s = reader->Enter();
  CHECK_FALSE(s.Lookup(peer->id(), Ip("10.3.0.1"))->stale);
  CHECK_FALSE(s.Lookup(peer->id(), Ip("10.5.0.1")).has_value());
  auto m = s.Lookup(peer->id(), Ip("192.0.2.1"));
  REQUIRE(m.has_value());
  CHECK(m->path_id == 2);
  CHECK(s.Lookup(peer->id(), Ip("2001:db8::1")).has_value());
}

TEST_CASE("bgp/rib: iteration and stats") {
  auto rib = NewRib();
  auto peer = std::move(*rib->AddPeer({}));
  auto h = peer->Intern(Attrs({1, 2}, "192.0.2.1"));
  std::set<std::string> announced;
  for (int i = 0; i < 300; ++i) {
    std::string p = "10." + std::to_string(i % 200) + "." +
                    std::to_string(i / 200) + ".0/24";
    announced.insert(p);
    REQUIRE(peer->Announce(Route(p), *h).ok());
  }
  REQUIRE(peer->Announce(Route("2001:db8::/48", 9), *h).ok());
  announced.insert("2001:db8::/48");
  std::set<std::string> seen;
  auto reader = rib->NewReader();
  {
    auto s = reader->Enter();
    s.ForEachRoute(peer->id(), [&](const RouteEntry& e) {
      seen.insert(e.key.prefix.ToString());
      CHECK(e.attributes.origin_as() == 2);
      if (e.key.family == kIpv6Unicast) CHECK(e.key.path_id == 9);
    });
  }
  CHECK(seen == announced);
  RibStats st = rib->GetStats();
  CHECK(st.prefixes == 301);
  CHECK(st.routes == 301);
  CHECK(st.paths == 301);
  CHECK(st.attribute_sets == 1);
  CHECK(st.index_node_bytes > 0);
  CHECK(st.route_array_bytes > 0);
  CHECK(st.side_bytes > 0);
  CHECK(st.total_bytes() > st.index_node_bytes);
}

}  // namespace
}  // namespace flowacct::bgp
