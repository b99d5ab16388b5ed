// The routing feeds flowacctd runs (bgp_daemon, bmp_daemon), as the
// enrichment setup sees them: borrowed pointers, null when the feed is off.
// They are created before the pipeline and outlive it (daemon.cc), so an
// enrich step may keep them. Thread-safety: the pointed-to objects document
// theirs (Rib: thread-safe; Speaker::FindPeer / Collector::FindRouterView:
// any thread).

#ifndef FLOWACCT_DAEMON_FLOWACCTD_ROUTING_FEEDS_H_
#define FLOWACCT_DAEMON_FLOWACCTD_ROUTING_FEEDS_H_

namespace flowacct {
namespace bgp {
class Rib;
class Speaker;
}  // namespace bgp
namespace bmp {
class Collector;
}  // namespace bmp

namespace daemon {

struct RoutingFeeds {
  bgp::Rib* rib = nullptr;              // shared by BGP and BMP; null: neither
  bgp::Speaker* speaker = nullptr;      // bgp_daemon: true
  bmp::Collector* collector = nullptr;  // bmp_daemon: true
};

}  // namespace daemon
}  // namespace flowacct

#endif  // FLOWACCT_DAEMON_FLOWACCTD_ROUTING_FEEDS_H_
