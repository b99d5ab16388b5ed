// Every BMP capture of corpus/bmp/, its TCP streams reassembled and fed to
// bmp::Stream: the message count must equal corpus/manifest.tsv (tshark's
// count), with no framing error, and the routes announced per capture are
// reported (and checked against the captures' known content).

#include <filesystem>
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "flowacct/bmp/bmp.h"

#include "tests/support/corpus_manifest.h"
#include "tests/support/tcp_streams.h"

namespace flowacct::bmp {
namespace {

namespace fs = std::filesystem;

struct Counter : StreamHandler {
  size_t peer_ups = 0;
  size_t route_monitoring = 0;
  size_t end_of_ribs = 0;
  void OnPeerUp(const PeerUp&) override { ++peer_ups; }
  void OnRouteMonitoring(const PeerHeader&,
                         const bgp::ParsedUpdate& u) override {
    ++route_monitoring;
    if (u.end_of_rib) ++end_of_ribs;
  }
};

struct Result {
  size_t messages = 0;
  size_t problems = 0;
  uint64_t announced = 0;
  uint64_t withdrawn = 0;
  bool framing_error = false;
  Counter counter;
};

Result Replay(const fs::path& capture) {
  Result r;
  auto streams = testing::ReadTcpStreams(capture.string());
  REQUIRE(streams.ok());
  for (const testing::TcpStream& s : *streams) {
    if (s.bytes.empty()) continue;
    Stream stream;
    if (!stream.Feed(s.bytes, &r.counter).ok()) r.framing_error = true;
    for (uint64_t n : stream.stats().messages) r.messages += n;
    for (uint64_t n : stream.stats().problems) r.problems += n;
    // Decoded with defaults because the capture starts after Peer Up: not
    // a problem of the capture.
    r.problems -=
        stream.stats()
            .problems[static_cast<size_t>(BmpProblem::kPeerWithoutPeerUp)];
    r.announced += stream.stats().announced;
    r.withdrawn += stream.stats().withdrawn;
  }
  return r;
}

TEST_CASE("bmp corpus: message counts equal the manifest's") {
  const fs::path corpus = FLOWACCT_CORPUS_DIR;
  if (!fs::exists(corpus / "manifest.tsv")) {
    WARN("corpus not found: " << corpus);
    return;
  }
  const auto manifest = testing::ReadManifestCounts(corpus, "bmp");
  REQUIRE(manifest.size() == 20);
  uint64_t total_announced = 0;
  for (const auto& [rel, expected] : manifest) {
    INFO(rel);
    Result r = Replay(corpus / rel);
    CHECK_FALSE(r.framing_error);
    CHECK(r.messages == expected);
    CHECK(r.problems == 0);
    total_announced += r.announced;
    UNSCOPED_INFO(rel << ": " << r.messages << " messages, " << r.announced
                      << " announced, " << r.withdrawn << " withdrawn");
  }
  CHECK(total_announced > 0);
}

TEST_CASE("bmp corpus: known content of single-message captures") {
  const fs::path corpus = fs::path(FLOWACCT_CORPUS_DIR) / "bmp";
  if (!fs::exists(corpus)) return;
  Result up = Replay(corpus / "akvorado-bmp-peers-up.pcap");
  CHECK(up.counter.peer_ups == 4);
  Result eor = Replay(corpus / "akvorado-bmp-eor.pcap");
  CHECK(eor.counter.end_of_ribs >= 1);
  Result addpath = Replay(corpus / "akvorado-bmp-reach-addpath.pcap");
  CHECK(addpath.counter.route_monitoring == 1);
}

}  // namespace
}  // namespace flowacct::bmp
