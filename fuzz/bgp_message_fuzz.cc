// libFuzzer target: the BGP message codec (bgp/message.h) and the passive
// session FSM (bgp/session.h).
//
// Input: one selector octet, then bytes. The selector picks the session
// parameters the UPDATE parser runs under (4-octet AS, extended messages,
// ADD-PATH on every family, iBGP, a narrow family list) and how the bytes
// are used:
//   - framed as a BGP byte stream; every message found goes to its parser
//     (OPEN, UPDATE, NOTIFICATION, ROUTE-REFRESH);
//   - wrapped as the body of one message of a selector-chosen type, so the
//     parsers are reached even when the header would be rejected;
//   - fed to a Session (after a valid OPEN + KEEPALIVE when the selector
//     says so) in two chunks split at a selector-derived point, then its
//     timers run.
// Every parser gets an exactly-sized copy so ASan catches over-reads.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowacct/bgp/message.h"
#include "flowacct/bgp/session.h"

namespace {

using flowacct::bgp::Afi;
using flowacct::bgp::Family;
using flowacct::bgp::Safi;
namespace bgp = flowacct::bgp;

bgp::SessionParams ParamsFor(uint8_t selector) {
  bgp::SessionParams p;
  p.four_octet_as = (selector & 1) != 0;
  p.extended_message = (selector & 2) != 0;
  p.ibgp = (selector & 8) != 0;
  if (selector & 16) {
    p.families = {bgp::kIpv4Unicast};
  } else {
    p.families = {bgp::kIpv4Unicast,
                  {Afi::kIpv4, Safi::kMulticast},
                  {Afi::kIpv4, Safi::kLabeledUnicast},
                  {Afi::kIpv4, Safi::kMplsVpn},
                  bgp::kIpv6Unicast,
                  {Afi::kIpv6, Safi::kLabeledUnicast},
                  {Afi::kIpv6, Safi::kMplsVpn}};
  }
  if (selector & 4) p.add_path_receive = p.families;
  return p;
}

void ParseOne(bgp::MessageType type, std::span<const uint8_t> message,
              const bgp::SessionParams& params, bgp::ParsedUpdate* update) {
  // Exactly-sized copy.
  std::vector<uint8_t> copy(message.begin(), message.end());
  bgp::Notification error;
  switch (type) {
    case bgp::MessageType::kOpen: {
      bgp::OpenMessage open;
      if (bgp::ParseOpen(copy, &open, &error).ok()) {
        std::vector<uint8_t> out;
        (void)bgp::AppendOpen(open, &out);
        (void)bgp::Negotiate(open, open);
      }
      break;
    }
    case bgp::MessageType::kUpdate: {
      bgp::ParseUpdate(copy, params, update);
      // Re-encode what was decoded (the builder must not crash on it).
      if (update->action == bgp::UpdateAction::kOk &&
          !update->announced.empty()) {
        bgp::UpdateBuilder builder(params);
        const bgp::Family f = update->announced.front().key.family;
        std::vector<bgp::Nlri> same;
        for (const bgp::Nlri& n : update->announced) {
          if (n.key.family == f) same.push_back(n);
        }
        (void)builder.Build(update->attributes, same, {});
      }
      (void)update->attributes.AsPathString();
      (void)update->attributes.OriginAs();
      break;
    }
    case bgp::MessageType::kNotification: {
      bgp::Notification n;
      if (bgp::ParseNotification(copy, &n).ok()) (void)n.ToString();
      break;
    }
    case bgp::MessageType::kRouteRefresh: {
      bgp::RouteRefresh rr;
      (void)bgp::ParseRouteRefresh(copy, &rr, &error);
      break;
    }
    case bgp::MessageType::kKeepalive:
      break;
  }
}

std::vector<uint8_t> ValidOpenAndKeepalive() {
  bgp::OpenMessage o;
  o.hold_time_s = 90;
  o.bgp_id = 0x0a000001;
  bgp::SetAsNumber(65001, &o);
  o.capabilities.multiprotocol = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
  o.capabilities.add_path = {{bgp::kIpv4Unicast, true, false}};
  o.capabilities.extended_message = true;
  std::vector<uint8_t> out;
  (void)bgp::AppendOpen(o, &out);
  bgp::AppendKeepalive(&out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  const bgp::SessionParams params = ParamsFor(selector);
  static bgp::ParsedUpdate* update = new bgp::ParsedUpdate();

  // 1. As a stream of messages.
  std::span<const uint8_t> rest = bytes;
  while (!rest.empty()) {
    bgp::Frame f = bgp::FindMessage(rest, params.max_message_size());
    if (f.kind != bgp::Frame::Kind::kMessage) break;
    ParseOne(f.type, f.message, params, update);
    rest = rest.subspan(f.message.size());
  }

  // 2. As the body of one message of a chosen type.
  {
    const auto type = static_cast<bgp::MessageType>(1 + (selector >> 5) % 5);
    const size_t body = std::min(bytes.size(), params.max_message_size() - 19);
    std::vector<uint8_t> m(16, 0xff);
    const size_t len = 19 + body;
    m.push_back(static_cast<uint8_t>(len >> 8));
    m.push_back(static_cast<uint8_t>(len));
    m.push_back(static_cast<uint8_t>(type));
    m.insert(m.end(), bytes.begin(), bytes.begin() + body);
    ParseOne(type, m, params, update);
  }

  // 3. Through the session FSM.
  {
    constexpr int64_t kSec = 1'000'000'000;
    bgp::SessionOptions options;
    options.hold_time_s = 9;
    bgp::Session session(options, 0);
    bgp::SessionOutput out;
    if (selector & 0x80) {
      const std::vector<uint8_t> hello = ValidOpenAndKeepalive();
      session.Feed(hello, kSec, &out);
    }
    const size_t cut = bytes.empty() ? 0 : (selector * 31u) % bytes.size();
    const std::vector<uint8_t> a(bytes.begin(), bytes.begin() + cut);
    const std::vector<uint8_t> b(bytes.begin() + cut, bytes.end());
    session.Feed(a, 2 * kSec, &out);
    session.Feed(b, 3 * kSec, &out);
    for (size_t i = 0; i < out.update_count(); ++i) {
      (void)out.update(i).attributes.AsPathString();
    }
    session.OnTimer(
        session.NextTimerNs() == INT64_MAX ? 4 * kSec : session.NextTimerNs(),
        &out);
    session.OnTimer(100 * kSec, &out);
    session.OnConnectionClosed(101 * kSec, &out);
  }
  return 0;
}
