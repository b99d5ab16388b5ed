// BgpCorrelator: flows get their routing view from a RIB — AS numbers by
// nfacctd_as, nets by nfacctd_net, AS paths, communities, local_pref and med
// of the destination route, src_* of the source route, the exporter mapped
// to a peer directly or through bgp_agent_map, ADD-PATH by next hop,
// default routes followed, patterns and radius applied; printed as pmacct.

#include "flowacct/enrich/bgp_correlator.h"

#include <string>

#include <catch2/catch.hpp>

#include "flowacct/enrich/enricher.h"
#include "flowacct/model/primitive_registry.h"

namespace flowacct {
namespace {

IpAddress Ip(const char* text) { return IpAddress::Parse(text).value(); }

bgp::Nlri Route(const char* prefix, uint32_t path_id = 0) {
  std::string s(prefix);
  const size_t slash = s.find('/');
  bgp::Nlri n;
  n.key.prefix.address = Ip(s.substr(0, slash).c_str());
  n.key.prefix.length = static_cast<uint8_t>(std::stoi(s.substr(slash + 1)));
  n.key.family =
      n.key.prefix.address.is_v4() ? bgp::kIpv4Unicast : bgp::kIpv6Unicast;
  n.key.path_id = path_id;
  return n;
}

bgp::PathAttributes Attrs(std::vector<uint32_t> path, const char* next_hop) {
  bgp::PathAttributes a;
  a.origin = bgp::Origin::kIgp;
  if (!path.empty()) {
    a.as_path.push_back({bgp::AsSegmentType::kSequence, std::move(path)});
  }
  a.next_hop = Ip(next_hop);
  return a;
}

// A RIB with two peers: 192.0.2.1 (the exporter's router, full view) and
// 192.0.2.2 (reached by the first one's default route).
struct World {
  World() {
    rib = std::move(bgp::Rib::Create({}).value());
    edge = std::move(rib->AddPeer({.name = "edge"}).value());
    core = std::move(rib->AddPeer({.name = "core"}).value());
    bgp::PathAttributes customer = Attrs({64500, 64510}, "192.0.2.11");
    customer.communities = {64500u << 16 | 100, 64500u << 16 | 200,
                            65000u << 16 | 1};
    customer.ext_communities = {0x0002fde800000064ull};  // RT:65000:100
    customer.large_communities = {{64500, 1, 2}};
    customer.local_pref = 200;
    customer.med = 50;
    Announce(edge.get(), customer, {Route("203.0.113.0/24")});
    Announce(edge.get(), Attrs({64501, 64520, 64530}, "192.0.2.12"),
             {Route("198.51.100.0/24")});
    Announce(edge.get(), Attrs({64502}, "192.0.2.13"),
             {Route("2001:db8::/32")});
    // ADD-PATH: two paths for one prefix, different next hops.
    Announce(edge.get(), Attrs({64600}, "192.0.2.21"),
             {Route("100.64.0.0/16", 1)});
    Announce(edge.get(), Attrs({64700}, "192.0.2.22"),
             {Route("100.64.0.0/16", 2)});
    // Default route towards core, which knows 10.9.0.0/16.
    Announce(edge.get(), Attrs({}, "192.0.2.2"), {Route("0.0.0.0/0")});
    Announce(core.get(), Attrs({64900, 64901}, "192.0.2.99"),
             {Route("10.9.0.0/16")});
  }
  static void Announce(bgp::PeerWriter* w, const bgp::PathAttributes& a,
                       const std::vector<bgp::Nlri>& routes) {
    auto h = w->Intern(a);
    REQUIRE(h.ok());
    REQUIRE(w->Announce(routes, *h).ok());
  }
  BgpPeerResolver Resolver() {
    return [this](const IpAddress& a, uint16_t) -> std::optional<bgp::PeerId> {
      if (a == Ip("192.0.2.1")) return edge->id();
      if (a == Ip("192.0.2.2")) return core->id();
      return std::nullopt;
    };
  }
  std::unique_ptr<bgp::Rib> rib;
  std::unique_ptr<bgp::PeerWriter> edge;
  std::unique_ptr<bgp::PeerWriter> core;
};

FieldSet AllBgpFields() {
  FieldSet f;
  for (FlowField x :
       {FlowField::kSrcAs, FlowField::kDstAs, FlowField::kPeerDstAs,
        FlowField::kPeerSrcAs, FlowField::kBgpNextHop, FlowField::kAsPath,
        FlowField::kStdComm, FlowField::kExtComm, FlowField::kLrgComm,
        FlowField::kLocalPref, FlowField::kMed, FlowField::kSrcNet,
        FlowField::kDstNet, FlowField::kSrcMask, FlowField::kDstMask,
        FlowField::kSrcAsPath, FlowField::kSrcStdComm, FlowField::kSrcLocalPref,
        FlowField::kSrcMed}) {
    f.set(x);
  }
  return f;
}

FlowRecord* Add(RecordBatch* batch, const char* exporter, const char* src,
                const char* dst) {
  FlowRecord* r = batch->AppendRecord();
  r->kind = RecordKind::kFlow;
  r->exporter = Ip(exporter);
  r->src_host = Ip(src);
  r->dst_host = Ip(dst);
  r->fields.set(FlowField::kSrcHost);
  r->fields.set(FlowField::kDstHost);
  r->src_as = 1;  // as exported
  r->dst_as = 2;
  r->fields.set(FlowField::kSrcAs);
  r->fields.set(FlowField::kDstAs);
  return r;
}

// A primitive of record i as the print plugin writes it.
std::string Text(const RecordBatch& batch, size_t i, const char* primitive) {
  static const auto registry = PrimitiveRegistry::CreateWithBuiltins();
  const PrimitiveInfo* info = registry->Find(primitive);
  REQUIRE(info != nullptr);
  std::string out;
  (void)registry->FormatValue(info->id, batch.records()[i], batch,
                              FormatOptions{}, &out);
  return out;
}

TEST_CASE("enrich/bgp: nfacctd_as bgp fills AS numbers, paths, communities") {
  World w;
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kBgp;
  o.net_source = NetSource::kBgp;
  o.peer_src_as_from_bgp = true;
  o.src_as_path = true;
  o.src_local_pref = true;
  o.wanted = AllBgpFields();
  BgpCorrelator c(w.rib.get(), w.Resolver(), nullptr, o);
  REQUIRE(c.active());
  RecordBatch batch(16);
  Add(&batch, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  Add(&batch, "192.0.2.1", "2001:db8::1", "2001:db8::2");
  Add(&batch, "192.0.2.77", "198.51.100.7", "203.0.113.9");  // no peer
  c.Apply(&batch, 0, batch.size());

  const FlowRecord& r = batch.records()[0];
  CHECK(r.dst_as == 64510);
  CHECK(r.peer_dst_as == 64500);
  CHECK(r.bgp_next_hop == Ip("192.0.2.11"));
  CHECK(r.src_as == 64530);
  CHECK(r.peer_src_as == 64501);
  CHECK(r.dst_net == Ip("203.0.113.0"));
  CHECK(r.dst_mask == 24);
  CHECK(r.local_pref == 200);
  CHECK(r.med == 50);
  CHECK(Text(batch, 0, "as_path") == "64500_64510");
  CHECK(Text(batch, 0, "std_comm") == "64500:100_64500:200_65000:1");
  CHECK(Text(batch, 0, "ext_comm") == "RT:65000:100");
  CHECK(Text(batch, 0, "lrg_comm") == "64500:1:2");
  CHECK(Text(batch, 0, "src_as_path") == "64501_64520_64530");
  CHECK(Text(batch, 0, "src_local_pref") == "0");
  // IPv6 both ways.
  CHECK(batch.records()[1].dst_as == 64502);
  CHECK(batch.records()[1].dst_mask == 32);
  // Unknown exporter: left as exported.
  CHECK(batch.records()[2].dst_as == 2);
  CHECK(batch.records()[2].src_as == 1);
  CHECK(c.stats().no_peer == 1);
}

// nfacctd 1.7.7 (tests/parity/bgp_correlation_test.py, cases netflow-*,
// as-*-net-*, longest-ipfix): the BGP attributes, peer_dst_as and
// peer_src_as come with the AS (nfacctd_as), peer_dst_ip with the net
// (nfacctd_net); with netflow nothing of the RIB is used.
TEST_CASE("enrich/bgp: netflow sources keep the exported values, no BGP") {
  World w;
  BgpCorrelatorOptions o;  // nfacctd_as / nfacctd_net: netflow
  o.peer_src_as_from_bgp = true;
  o.src_as_path = true;
  o.wanted = AllBgpFields();
  BgpCorrelator c(w.rib.get(), w.Resolver(), nullptr, o);
  CHECK_FALSE(c.active());
  RecordBatch batch(4);
  Add(&batch, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  c.Apply(&batch, 0, batch.size());
  const FlowRecord& r = batch.records()[0];
  CHECK(r.dst_as == 2);
  CHECK(r.src_as == 1);
  CHECK_FALSE(r.has(FlowField::kPeerDstAs));
  CHECK_FALSE(r.has(FlowField::kPeerSrcAs));
  CHECK_FALSE(r.has(FlowField::kAsPath));
  CHECK_FALSE(r.has(FlowField::kLocalPref));
  CHECK_FALSE(r.has(FlowField::kSrcAsPath));
  CHECK_FALSE(r.has(FlowField::kBgpNextHop));
}

TEST_CASE(
    "enrich/bgp: peer_dst_ip goes with nfacctd_net, attributes with _as") {
  World w;
  BgpCorrelatorOptions as_only;
  as_only.as_source = AsSource::kBgp;
  as_only.wanted = AllBgpFields();
  BgpCorrelator a(w.rib.get(), w.Resolver(), nullptr, as_only);
  RecordBatch b1(2);
  FlowRecord* r1 = Add(&b1, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  r1->bgp_next_hop = Ip("10.0.0.1");  // as exported
  r1->fields.set(FlowField::kBgpNextHop);
  a.Apply(&b1, 0, b1.size());
  CHECK(b1.records()[0].dst_as == 64510);
  CHECK(b1.records()[0].peer_dst_as == 64500);
  CHECK(b1.records()[0].bgp_next_hop == Ip("10.0.0.1"));
  CHECK(Text(b1, 0, "as_path") == "64500_64510");

  BgpCorrelatorOptions net_only;
  net_only.net_source = NetSource::kBgp;
  net_only.wanted = AllBgpFields();
  BgpCorrelator n(w.rib.get(), w.Resolver(), nullptr, net_only);
  RecordBatch b2(2);
  Add(&b2, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  n.Apply(&b2, 0, b2.size());
  CHECK(b2.records()[0].bgp_next_hop == Ip("192.0.2.11"));
  CHECK(b2.records()[0].dst_mask == 24);
  CHECK(b2.records()[0].dst_as == 2);  // as exported
  CHECK_FALSE(b2.records()[0].has(FlowField::kPeerDstAs));
  CHECK_FALSE(b2.records()[0].has(FlowField::kAsPath));
}

TEST_CASE("enrich/bgp: communities sorted and unique, as nfacctd prints them") {
  auto rib = std::move(bgp::Rib::Create({}).value());
  auto peer = std::move(rib->AddPeer({.name = "p"}).value());
  bgp::PathAttributes a = Attrs({64500}, "192.0.2.11");
  a.communities = {65000u << 16 | 1, 64999u << 16 | 9, 65000u << 16 | 1};
  a.ext_communities = {0x0202fa56ea010002ull,   // RT:4200000001:2
                       0x0002fde800000066ull};  // RT:65000:102
  a.large_communities = {{4200000001u, 1, 9}, {65000, 9, 10}};
  World::Announce(peer.get(), a, {Route("203.0.113.0/24")});
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kBgp;
  o.wanted = AllBgpFields();
  BgpCorrelator c(
      rib.get(),
      [&](const IpAddress&, uint16_t) -> std::optional<bgp::PeerId> {
        return peer->id();
      },
      nullptr, o);
  RecordBatch batch(2);
  Add(&batch, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  c.Apply(&batch, 0, batch.size());
  CHECK(Text(batch, 0, "std_comm") == "64999:9_65000:1");
  CHECK(Text(batch, 0, "ext_comm") == "RT:65000:102_RT:4200000001:2");
  CHECK(Text(batch, 0, "lrg_comm") == "65000:9:10_4200000001:1:9");
}

TEST_CASE("enrich/bgp: longest picks the RIB when its prefix is longer") {
  World w;
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kLongest;
  o.net_source = NetSource::kLongest;
  o.wanted = AllBgpFields();
  BgpCorrelator c(w.rib.get(), w.Resolver(), nullptr, o);
  RecordBatch batch(4);
  FlowRecord* shorter = Add(&batch, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  shorter->dst_mask = 16;
  shorter->fields.set(FlowField::kDstMask);
  FlowRecord* longer = Add(&batch, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  longer->dst_mask = 28;
  longer->fields.set(FlowField::kDstMask);
  c.Apply(&batch, 0, batch.size());
  CHECK(batch.records()[0].dst_as == 64510);  // RIB /24 beats the /16
  CHECK(batch.records()[0].dst_mask == 24);
  CHECK(batch.records()[1].dst_as == 2);  // the exported /28 wins
  CHECK(batch.records()[1].dst_mask == 28);
  // ... and then nfacctd fills no BGP attribute either.
  CHECK(Text(batch, 0, "as_path") == "64500_64510");
  CHECK_FALSE(batch.records()[1].has(FlowField::kAsPath));
  CHECK_FALSE(batch.records()[1].has(FlowField::kPeerDstAs));
}

TEST_CASE("enrich/bgp: ADD-PATH by the flow's next hop, default followed") {
  World w;
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kBgp;
  o.follow_default = 1;
  o.wanted = AllBgpFields();
  BgpCorrelator c(w.rib.get(), w.Resolver(), nullptr, o);
  RecordBatch batch(4);
  FlowRecord* second = Add(&batch, "192.0.2.1", "198.51.100.7", "100.64.1.1");
  second->bgp_next_hop = Ip("192.0.2.22");
  second->fields.set(FlowField::kBgpNextHop);
  Add(&batch, "192.0.2.1", "198.51.100.7", "100.64.1.1");  // no next hop
  Add(&batch, "192.0.2.1", "198.51.100.7", "10.9.1.1");    // via default
  c.Apply(&batch, 0, batch.size());
  CHECK(batch.records()[0].dst_as == 64700);
  CHECK(batch.records()[1].dst_as == 64600);  // the first path
  CHECK(batch.records()[2].dst_as == 64901);
  CHECK(Text(batch, 2, "as_path") == "64900_64901");
  CHECK(c.stats().followed_default == 1);

  BgpCorrelatorOptions no_follow = o;
  no_follow.follow_default = 0;
  BgpCorrelator plain(w.rib.get(), w.Resolver(), nullptr, no_follow);
  RecordBatch b2(2);
  Add(&b2, "192.0.2.1", "198.51.100.7", "10.9.1.1");
  plain.Apply(&b2, 0, b2.size());
  CHECK(b2.records()[0].dst_as == 0);  // the default route has no AS path
}

TEST_CASE("enrich/bgp: bgp_agent_map, patterns and radius") {
  World w;
  auto map = BgpAgentMap::Load("bgp_ip=192.0.2.1 ip=10.0.0.0/8\n", "a.map");
  REQUIRE(map.ok());
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kBgp;
  o.aspath_radius = 1;
  o.stdcomm_pattern = "64500:1., 65000:";
  o.wanted = AllBgpFields();
  BgpCorrelator c(w.rib.get(), w.Resolver(), *map, o);
  RecordBatch batch(2);
  Add(&batch, "10.1.2.3", "198.51.100.7", "203.0.113.9");
  c.Apply(&batch, 0, batch.size());
  CHECK(batch.records()[0].dst_as == 64510);
  CHECK(Text(batch, 0, "as_path") == "64500");
  CHECK(Text(batch, 0, "std_comm") == "64500:100_65000:1");
}

TEST_CASE("enrich/bgp: the Enricher runs it before the pre_tag_map") {
  World w;
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kBgp;
  o.wanted = AllBgpFields();
  auto tags = PreTagMap::Load("set_tag=7 ip=192.0.2.1 dst_as=64510\n", "t.map",
                              PreTagMapOptions{});
  REQUIRE(tags.ok());
  EnrichOptions e;
  e.pre_tag_map = *tags;
  e.as_source = AsSource::kBgp;
  e.bgp =
      std::make_shared<BgpCorrelator>(w.rib.get(), w.Resolver(), nullptr, o);
  Enricher enricher(e);
  RecordBatch batch(2);
  Add(&batch, "192.0.2.1", "198.51.100.7", "203.0.113.9");
  enricher.Process(&batch);
  CHECK(batch.records()[0].tag == 7);
}

std::shared_ptr<const BgpSourceMap> SourceMap(const char* text) {
  auto map = BgpSourceMap::Load(text, "src.map");
  INFO(map.status().message());
  REQUIRE(map.ok());
  return *map;
}

// bgp_*_type: map (nfacctd 1.7.7, tests/parity/bgp_correlation_test.py
// cases src-maps*): the first matching row sets the value, whatever
// nfacctd_as says and with or without a BGP peer; no row: 0; `bgp` rows
// take the source route's value; bgp_nexthop / peer_dst_as rows match on
// the source route.
TEST_CASE("enrich/bgp: source maps set peer_src_as, src_local_pref, src_med") {
  World w;
  BgpCorrelatorOptions o;  // nfacctd_as / nfacctd_net: netflow
  o.peer_src_as_map = SourceMap(
      "id=100 ip=192.0.2.1 in=7\n"
      "id=200 ip=192.0.2.1 bgp_nexthop=192.0.2.12\n"
      "id=bgp ip=192.0.2.1 in=9\n"
      "id=300 ip=192.0.2.99\n");
  o.src_local_pref_map = SourceMap("id=bgp ip=0.0.0.0/0\n");
  o.src_med_map = SourceMap(
      "id=77 ip=192.0.2.0/24 peer_dst_as=64500\n"
      "id=bgp ip=192.0.2.1 in=9\n");
  o.wanted.set(FlowField::kPeerSrcAs);
  o.wanted.set(FlowField::kSrcLocalPref);
  o.wanted.set(FlowField::kSrcMed);
  BgpCorrelator c(w.rib.get(), w.Resolver(), nullptr, o);
  REQUIRE(c.active());
  RecordBatch batch(8);
  Add(&batch, "192.0.2.1", "203.0.113.5", "10.0.0.1")->in_iface = 7;
  Add(&batch, "192.0.2.1", "198.51.100.1", "10.0.0.1")->in_iface = 8;
  Add(&batch, "192.0.2.1", "203.0.113.9", "10.0.0.1")->in_iface = 9;
  Add(&batch, "192.0.2.99", "203.0.113.9", "10.0.0.1")->in_iface = 9;
  Add(&batch, "192.0.2.1", "10.1.1.1", "10.0.0.1")->in_iface = 9;
  Add(&batch, "192.0.2.1", "2001:db8::5", "2001:db8::6")->in_iface = 8;
  c.Apply(&batch, 0, batch.size());
  const auto& r = batch.records();
  // The port row; the source route's LOCAL_PREF; its neighbour AS 64500.
  CHECK(r[0].peer_src_as == 100);
  CHECK(r[0].src_local_pref == 200);
  CHECK(r[0].src_med == 77);
  // Matched by the source route's next hop; a route without LOCAL_PREF;
  // no MED row: 0.
  CHECK(r[1].peer_src_as == 200);
  CHECK(r[1].src_local_pref == 0);
  CHECK(r[1].src_med == 0);
  // `bgp` rows: the route's neighbour AS and MED.
  CHECK(r[2].peer_src_as == 64500);
  CHECK(r[2].src_med == 77);
  // No BGP peer for 192.0.2.99: fixed rows apply, `bgp` gives 0, route
  // rows do not match.
  CHECK(r[3].peer_src_as == 300);
  CHECK(r[3].src_local_pref == 0);
  CHECK(r[3].src_med == 0);
  CHECK(r[3].has(FlowField::kPeerSrcAs));
  // The default route (empty AS path) is the route: neighbour AS 0.
  CHECK(r[4].peer_src_as == 0);
  CHECK(r[4].src_med == 0);
  // IPv6: no row of the peer map matches.
  CHECK(r[5].peer_src_as == 0);
  CHECK(r[5].has(FlowField::kPeerSrcAs));
  for (const FlowRecord& x : r) {
    CHECK(x.has(FlowField::kSrcLocalPref));
    CHECK(x.has(FlowField::kSrcMed));
    CHECK(x.src_as == 1);  // nfacctd_as netflow: as exported
  }
  CHECK(c.stats().no_peer == 1);
  CHECK(c.stats().src_found == 5);
}

TEST_CASE("enrich/bgp: a source map wins over bgp, across lookup chunks") {
  World w;
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kBgp;
  o.peer_src_as_from_bgp = true;  // the map wins
  o.src_med = true;               // no map: from the RIB
  o.peer_src_as_map = SourceMap(
      "id=5 ip=192.0.2.1 in=1\n"
      "id=bgp ip=192.0.2.1 in=-1\n");
  o.wanted.set(FlowField::kPeerSrcAs);
  o.wanted.set(FlowField::kSrcMed);
  o.wanted.set(FlowField::kSrcAs);
  BgpCorrelator c(w.rib.get(), w.Resolver(), nullptr, o);
  RecordBatch batch(256);
  for (int i = 0; i < 200; ++i) {
    FlowRecord* x = Add(&batch, i % 7 == 3 ? "192.0.2.99" : "192.0.2.1",
                        i % 2 ? "203.0.113.1" : "198.51.100.1", "10.0.0.1");
    x->in_iface = static_cast<uint32_t>(i % 3);
  }
  c.Apply(&batch, 0, batch.size());
  for (int i = 0; i < 200; ++i) {
    INFO("record " << i);
    const FlowRecord& x = batch.records()[static_cast<size_t>(i)];
    if (i % 7 == 3) {  // no peer: left as exported, but the map applies
      CHECK(x.peer_src_as == 0);
      CHECK(x.src_as == 1);
      CHECK_FALSE(x.has(FlowField::kSrcMed));
      continue;
    }
    const bool customer = i % 2 == 1;
    CHECK(x.src_as == (customer ? 64510u : 64530u));
    CHECK(x.src_med == (customer ? 50u : 0u));
    CHECK(x.peer_src_as == (i % 3 == 1 ? 5u : customer ? 64500u : 64501u));
  }
  // A map for a field no view wants does nothing.
  BgpCorrelatorOptions unwanted;
  unwanted.src_local_pref_map = SourceMap("id=1 ip=0.0.0.0/0\n");
  unwanted.wanted.set(FlowField::kPeerSrcAs);
  CHECK_FALSE(
      BgpCorrelator(w.rib.get(), w.Resolver(), nullptr, unwanted).active());
}

TEST_CASE("enrich/bgp: nothing wanted, nothing done") {
  World w;
  BgpCorrelatorOptions o;
  o.as_source = AsSource::kBgp;
  BgpCorrelator c(w.rib.get(), w.Resolver(), nullptr, o);
  CHECK_FALSE(c.active());
}

}  // namespace
}  // namespace flowacct
