// libFuzzer target: one router's BMP byte stream (hostile-inputs.md §1.6,
// BM-1..BM-7) through bmp::Stream — framing, per-peer headers, Peer Up
// OPENs and the session parameters inferred from them, the BGP UPDATEs of
// Route Monitoring, statistics and TLVs.
//
// The input is fed in pieces whose sizes come from the input itself, so
// partial messages across Feed calls are exercised too. The handler touches
// every decoded value so sanitizers see any bad read.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "flowacct/bmp/bmp.h"

namespace {

using namespace flowacct;

struct Toucher : bmp::StreamHandler {
  size_t sink = 0;
  void OnInitiation(const bmp::Initiation& i) override {
    for (const auto& t : i.information) sink += t.value.size();
  }
  void OnTermination(const bmp::Termination& t) override {
    sink += t.information.size() + t.reason.value_or(0);
  }
  void OnPeerUp(const bmp::PeerUp& up) override {
    sink += up.params.families.size() + up.params.add_path_receive.size() +
            up.sent_open.AsNumber() + up.received_open.AsNumber() +
            up.peer.address.ToString().size();
  }
  void OnPeerDown(const bmp::PeerDown& d) override {
    if (d.notification) sink += d.notification->ToString().size();
  }
  void OnStatistics(const bmp::StatisticsReport& r) override {
    for (const auto& s : r.statistics) sink += s.value;
  }
  void OnRouteMonitoring(const bmp::PeerHeader& peer,
                         const bgp::ParsedUpdate& u) override {
    sink += peer.as + u.announced.size() + u.withdrawn.size() +
            u.attributes.AsPathString().size() + u.issues.size();
    for (const auto& n : u.announced) sink += n.key.prefix.length;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bmp::StreamOptions options;
  options.max_message_bytes = 1 << 17;
  options.max_peers = 8;
  bmp::Stream stream(options);
  Toucher handler;
  std::span<const uint8_t> rest(data, size);
  // The first byte picks the piece size (0: everything at once).
  size_t piece = 0;
  if (!rest.empty()) {
    piece = rest[0];
    rest = rest.subspan(1);
  }
  while (!rest.empty()) {
    const size_t n = piece == 0 ? rest.size() : std::min(piece, rest.size());
    if (!stream.Feed(rest.first(n), &handler).ok()) break;
    rest = rest.subspan(n);
  }
  return handler.sink == 42 ? 0 : 0;
}
