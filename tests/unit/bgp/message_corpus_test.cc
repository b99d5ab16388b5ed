// Parses every BGP message of the captures in corpus/bgp/ and the BGP
// captures of corpus/malformed/, reassembling TCP streams, and checks the
// message counts against corpus/manifest.tsv (tshark's count).

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/bgp/message.h"

#include "tests/support/corpus_manifest.h"
#include "tests/support/tcp_streams.h"

namespace flowacct::bgp {
namespace {

namespace fs = std::filesystem;

struct CaptureResult {
  size_t messages = 0;
  size_t by_type[6] = {};
  size_t framing_errors = 0;
  size_t open_errors = 0;
  size_t notification_errors = 0;
  size_t route_refresh_errors = 0;
  size_t update_resets = 0;
  size_t update_withdraws = 0;
  size_t update_disables = 0;
  size_t nlri = 0;
  size_t holes = 0;
  std::string first_error;
};

// Parameters for the messages a stream's sender sends: negotiated from the
// two OPENs when both are in the capture, otherwise permissive (every
// supported family, the sender's own ADD-PATH send families, AS size from
// its OPEN, or guessed per UPDATE).
struct StreamParams {
  SessionParams params;
  bool guess_as_size = false;
};

std::optional<OpenMessage> FirstOpen(const std::vector<uint8_t>& bytes) {
  std::span<const uint8_t> rest(bytes);
  while (true) {
    Frame f = FindMessage(rest, kMaxExtendedMessageSize);
    if (f.kind != Frame::Kind::kMessage) return std::nullopt;
    if (f.type == MessageType::kOpen) {
      OpenMessage open;
      Notification error;
      if (ParseOpen(f.message, &open, &error).ok()) return open;
      return std::nullopt;
    }
    rest = rest.subspan(f.message.size());
  }
}

SessionParams Permissive() {
  SessionParams p;
  p.families = {kIpv4Unicast,
                {Afi::kIpv4, Safi::kMulticast},
                {Afi::kIpv4, Safi::kLabeledUnicast},
                {Afi::kIpv4, Safi::kMplsVpn},
                kIpv6Unicast,
                {Afi::kIpv6, Safi::kMulticast},
                {Afi::kIpv6, Safi::kLabeledUnicast},
                {Afi::kIpv6, Safi::kMplsVpn}};
  std::sort(p.families.begin(), p.families.end());
  p.extended_message = true;
  p.ibgp = true;
  return p;
}

CaptureResult ParseCapture(const fs::path& file) {
  CaptureResult r;
  auto streams = testing::ReadTcpStreams(file.string());
  REQUIRE(streams.ok());
  // The OPEN each endpoint sent, to negotiate the reverse direction.
  std::map<std::string, OpenMessage> opens;
  for (const testing::TcpStream& s : *streams) {
    if (auto open = FirstOpen(s.bytes))
      opens[s.source.ToString() + ">" + s.destination.ToString()] = *open;
  }
  ParsedUpdate update;
  for (const testing::TcpStream& s : *streams) {
    r.holes += s.holes;
    const std::string fwd =
        s.source.ToString() + ">" + s.destination.ToString();
    const std::string rev =
        s.destination.ToString() + ">" + s.source.ToString();
    StreamParams sp;
    auto theirs = opens.find(fwd);
    auto ours = opens.find(rev);
    if (theirs != opens.end() && ours != opens.end()) {
      sp.params = Negotiate(ours->second, theirs->second);
    } else {
      sp.params = Permissive();
      if (theirs != opens.end()) {
        sp.params.four_octet_as =
            theirs->second.capabilities.four_octet_as.has_value();
        for (const AddPathFamily& a : theirs->second.capabilities.add_path) {
          if (a.send) sp.params.add_path_receive.push_back(a.family);
        }
        std::sort(sp.params.add_path_receive.begin(),
                  sp.params.add_path_receive.end());
      } else {
        sp.guess_as_size = true;
      }
    }
    std::span<const uint8_t> rest(s.bytes);
    while (!rest.empty()) {
      Frame f = FindMessage(rest, kMaxExtendedMessageSize);
      if (f.kind == Frame::Kind::kNeedMore) break;  // capture cut
      if (f.kind == Frame::Kind::kError) {
        ++r.framing_errors;
        if (r.first_error.empty())
          r.first_error = "framing: " + f.error.ToString();
        break;
      }
      rest = rest.subspan(f.message.size());
      ++r.messages;
      ++r.by_type[static_cast<int>(f.type)];
      Notification error;
      switch (f.type) {
        case MessageType::kOpen: {
          OpenMessage open;
          if (!ParseOpen(f.message, &open, &error).ok()) {
            ++r.open_errors;
            if (r.first_error.empty())
              r.first_error = "open: " + error.ToString();
          }
          break;
        }
        case MessageType::kUpdate: {
          ParseUpdate(f.message, sp.params, &update);
          if (sp.guess_as_size && update.action != UpdateAction::kOk) {
            // No OPEN in the capture: try the other AS size and ADD-PATH
            // on every family (what a decoder without the OPEN must guess).
            for (int variant = 1; variant < 4; ++variant) {
              SessionParams alt = sp.params;
              alt.four_octet_as = (variant & 1) == 0;
              if (variant & 2) alt.add_path_receive = alt.families;
              ParsedUpdate retry;
              ParseUpdate(f.message, alt, &retry);
              if (retry.action < update.action) update = retry;
            }
          }
          r.nlri += update.announced.size() + update.withdrawn.size();
          switch (update.action) {
            case UpdateAction::kOk:
              break;
            case UpdateAction::kTreatAsWithdraw:
              ++r.update_withdraws;
              break;
            case UpdateAction::kAfiSafiDisable:
              ++r.update_disables;
              break;
            case UpdateAction::kSessionReset:
              ++r.update_resets;
              break;
          }
          if (update.action != UpdateAction::kOk && r.first_error.empty()) {
            r.first_error = std::string("update: ") +
                            std::string(UpdateActionName(update.action));
            for (const UpdateIssue& i : update.issues) {
              r.first_error += " " + std::string(UpdateProblemName(i.problem)) +
                               "/" + std::to_string(i.attribute_type);
            }
          }
          break;
        }
        case MessageType::kNotification: {
          Notification n;
          if (!ParseNotification(f.message, &n).ok()) ++r.notification_errors;
          break;
        }
        case MessageType::kRouteRefresh: {
          RouteRefresh rr;
          if (!ParseRouteRefresh(f.message, &rr, &error).ok()) {
            ++r.route_refresh_errors;
            if (r.first_error.empty())
              r.first_error = "route-refresh: " + error.ToString();
          }
          break;
        }
        case MessageType::kKeepalive:
          break;
      }
    }
  }
  return r;
}

TEST_CASE("bgp/corpus: every BGP message of every capture parses",
          "[bgp][corpus]") {
  const fs::path corpus = FLOWACCT_CORPUS_DIR;
  if (!fs::exists(corpus / "manifest.tsv")) {
    WARN("corpus not found at " << corpus << "; skipped");
    return;
  }
  const auto manifest = testing::ReadManifestCounts(corpus, "bgp");
  size_t total = 0, files = 0;
  for (const auto& [rel, expected] : manifest) {
    const fs::path file = corpus / rel;
    if (!fs::exists(file) || rel.find(".pcap") == std::string::npos) continue;
    ++files;
    CaptureResult r = ParseCapture(file);
    total += r.messages;
    // Captures meant to be malformed: corpus/malformed/, and the tcpdump
    // ADD-PATH test vector, whose single UPDATE carries two MP_REACH_NLRI
    // (and two MP_UNREACH_NLRI) attributes, a zero-length NEXT_HOP and MP
    // attributes flagged transitive: RFC 7606 §3g makes it a session reset.
    const bool malformed = rel.rfind("malformed/", 0) == 0 ||
                           rel == "bgp/tcpdump-bgp-addpath.pcap";
    if (rel == "bgp/tcpdump-bgp-addpath.pcap") {
      CHECK(r.update_resets == 1);
    }
    INFO(rel << ": messages " << r.messages << " expected " << expected
             << " holes " << r.holes << " framing " << r.framing_errors
             << " open " << r.open_errors << " withdraw " << r.update_withdraws
             << " disable " << r.update_disables << " reset " << r.update_resets
             << " rr " << r.route_refresh_errors << " nlri " << r.nlri
             << " first " << r.first_error);
    if (std::getenv("FLOWACCT_BGP_CORPUS_VERBOSE")) {
      std::printf(
          "%s msgs=%zu exp=%zu holes=%zu framing=%zu open=%zu taw=%zu dis=%zu "
          "reset=%zu rr=%zu nlri=%zu %s\n",
          rel.c_str(), r.messages, expected, r.holes, r.framing_errors,
          r.open_errors, r.update_withdraws, r.update_disables, r.update_resets,
          r.route_refresh_errors, r.nlri, r.first_error.c_str());
    }
    if (!malformed) {
      CHECK(r.messages == expected);
      CHECK(r.framing_errors == 0);
      CHECK(r.open_errors == 0);
      CHECK(r.update_resets == 0);
      CHECK(r.update_disables == 0);
      CHECK(r.update_withdraws == 0);
      CHECK(r.route_refresh_errors == 0);
    }
  }
  CHECK(files > 30);
  CHECK(total >= 800);
}

}  // namespace
}  // namespace flowacct::bgp
