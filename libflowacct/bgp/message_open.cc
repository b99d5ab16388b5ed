// OPEN (RFC 4271 §4.2, §6.2), optional parameters (RFC 5492, RFC 9072),
// capabilities, and session parameter negotiation.

#include <algorithm>
#include <cstdint>
#include <string>

#include "flowacct/bgp/message.h"

#include "libflowacct/bgp/wire.h"

namespace flowacct::bgp {
namespace {

using wire::Reader;

constexpr uint8_t kCapMultiprotocol = 1;
constexpr uint8_t kCapRouteRefresh = 2;
constexpr uint8_t kCapExtendedNextHop = 5;
constexpr uint8_t kCapExtendedMessage = 6;
constexpr uint8_t kCapRole = 9;
constexpr uint8_t kCapGracefulRestart = 64;
constexpr uint8_t kCapFourOctetAs = 65;
constexpr uint8_t kCapAddPath = 69;
constexpr uint8_t kCapEnhancedRouteRefresh = 70;
constexpr uint8_t kCapLongLivedGr = 71;
constexpr uint8_t kCapFqdn = 73;
constexpr uint8_t kCapSoftwareVersion = 75;
constexpr uint8_t kCapCiscoRouteRefresh = 128;

void AddUnknown(Capabilities* caps, uint8_t code, size_t len,
                const MessageLimits& limits) {
  if (caps->unknown.size() < limits.max_unknown_capabilities) {
    caps->unknown.push_back({code, static_cast<uint16_t>(len)});
  }
}

// Parses one capability value. Malformed values make the capability count
// as absent (recorded in caps->unknown); they never fail the OPEN.
void ParseCapability(uint8_t code, std::span<const uint8_t> v,
                     Capabilities* caps, const MessageLimits& limits) {
  Reader r(v);
  switch (code) {
    case kCapMultiprotocol: {
      uint16_t afi = 0;
      uint8_t reserved = 0, safi = 0;
      if (v.size() != 4 || !r.U16(&afi) || !r.U8(&reserved) || !r.U8(&safi)) {
        break;
      }
      Family f;
      if (wire::ToFamily(afi, safi, &f)) {
        if (std::find(caps->multiprotocol.begin(), caps->multiprotocol.end(),
                      f) == caps->multiprotocol.end()) {
          caps->multiprotocol.push_back(f);
        }
      } else if (caps->other_multiprotocol.size() < 64) {
        caps->other_multiprotocol.push_back((uint32_t{afi} << 8) | safi);
      }
      return;  // BG-8: unknown AFI/SAFI ignored
    }
    case kCapRouteRefresh:
    case kCapCiscoRouteRefresh:
      caps->route_refresh = true;
      return;
    case kCapEnhancedRouteRefresh:
      caps->enhanced_route_refresh = true;
      return;
    case kCapExtendedMessage:
      if (!v.empty()) break;
      caps->extended_message = true;
      return;
    case kCapFourOctetAs: {
      uint32_t as = 0;
      if (v.size() != 4 || !r.U32(&as)) break;  // BG-10: treat as absent
      caps->four_octet_as = as;
      return;
    }
    case kCapRole:
      if (v.size() != 1) break;
      caps->role = v[0];
      return;
    case kCapAddPath: {
      if (v.size() % 4 != 0) break;
      while (!r.empty()) {
        uint16_t afi = 0;
        uint8_t safi = 0, mode = 0;
        (void)r.U16(&afi);
        (void)r.U8(&safi);
        (void)r.U8(&mode);
        Family f;
        if (!wire::ToFamily(afi, safi, &f) || mode < 1 || mode > 3) continue;
        // RFC 7911 §4: 1 receive, 2 send, 3 both.
        AddPathFamily ap{f, (mode & 2) != 0, (mode & 1) != 0};
        auto it =
            std::find_if(caps->add_path.begin(), caps->add_path.end(),
                         [&](const AddPathFamily& a) { return a.family == f; });
        if (it == caps->add_path.end()) caps->add_path.push_back(ap);
      }
      return;
    }
    case kCapGracefulRestart: {
      uint16_t flags_time = 0;
      if (v.size() < 2 || (v.size() - 2) % 4 != 0 || !r.U16(&flags_time)) {
        break;
      }
      GracefulRestart gr;
      gr.restart_state = (flags_time & 0x8000) != 0;
      gr.notification = (flags_time & 0x4000) != 0;
      gr.restart_time_s = flags_time & 0x0fff;
      while (!r.empty()) {
        uint16_t afi = 0;
        uint8_t safi = 0, flags = 0;
        (void)r.U16(&afi);
        (void)r.U8(&safi);
        (void)r.U8(&flags);
        Family f;
        if (!wire::ToFamily(afi, safi, &f) || gr.families.size() >= 64) {
          continue;
        }
        gr.families.push_back({f, (flags & 0x80) != 0});
      }
      caps->graceful_restart = std::move(gr);
      return;
    }
    case kCapLongLivedGr: {
      if (v.size() % 7 != 0) break;
      LongLivedGracefulRestart llgr;
      while (!r.empty()) {
        uint16_t afi = 0;
        uint8_t safi = 0, flags = 0;
        uint32_t stale = 0;
        (void)r.U16(&afi);
        (void)r.U8(&safi);
        (void)r.U8(&flags);
        (void)r.U24(&stale);
        Family f;
        if (!wire::ToFamily(afi, safi, &f) || llgr.families.size() >= 64) {
          continue;
        }
        llgr.families.push_back({f, (flags & 0x80) != 0, stale});
      }
      caps->long_lived_graceful_restart = std::move(llgr);
      return;
    }
    case kCapExtendedNextHop: {
      if (v.size() % 6 != 0) break;
      while (!r.empty()) {
        uint16_t afi = 0, safi = 0, nh_afi = 0;
        (void)r.U16(&afi);
        (void)r.U16(&safi);
        (void)r.U16(&nh_afi);
        Family f;
        if (safi > 255 ||
            !wire::ToFamily(afi, static_cast<uint8_t>(safi), &f) ||
            (nh_afi != 1 && nh_afi != 2) ||
            caps->extended_next_hop.size() >= 64) {
          continue;
        }
        caps->extended_next_hop.push_back({f, static_cast<Afi>(nh_afi)});
      }
      return;
    }
    case kCapFqdn: {
      // Hostname length (1) + hostname + domain length (1) + domain.
      uint8_t hlen = 0, dlen = 0;
      std::span<const uint8_t> host, domain;
      if (!r.U8(&hlen) || !r.Take(hlen, &host) || !r.U8(&dlen) ||
          !r.Take(dlen, &domain)) {
        break;  // BG-11: bounded, treat as absent
      }
      caps->hostname = EscapeForLog(host, 255);
      caps->domain_name = EscapeForLog(domain, 255);
      return;
    }
    case kCapSoftwareVersion: {
      uint8_t len = 0;
      std::span<const uint8_t> text;
      if (!r.U8(&len) || !r.Take(len, &text)) break;  // BG-11
      caps->software_version = EscapeForLog(text, 255);
      return;
    }
    default:
      break;
  }
  AddUnknown(caps, code, v.size(), limits);
}

Notification OpenError(uint8_t subcode, std::vector<uint8_t> data = {}) {
  Notification n;
  n.code = error_code::kOpenMessage;
  n.subcode = subcode;
  n.data = std::move(data);
  return n;
}

}  // namespace

Status ParseOpen(std::span<const uint8_t> message, OpenMessage* out,
                 Notification* error, const MessageLimits& limits) {
  *out = OpenMessage();
  auto fail = [&](uint8_t subcode, std::string why,
                  std::vector<uint8_t> data = {}) {
    *error = OpenError(subcode, std::move(data));
    return InvalidArgumentError("OPEN: " + why);
  };
  if (message.size() < 29) {
    return fail(subcode::kOpenUnspecific, "shorter than 29 octets");
  }
  Reader r(message.subspan(kHeaderSize));
  uint8_t opt_len = 0;
  (void)r.U8(&out->version);
  (void)r.U16(&out->my_as);
  (void)r.U16(&out->hold_time_s);
  (void)r.U32(&out->bgp_id);
  (void)r.U8(&opt_len);

  // RFC 4271 §6.2 checks, in the order the RFC lists them.
  if (out->version != 4) {
    return fail(subcode::kUnsupportedVersionNumber,
                "version " + std::to_string(out->version), {0, 4});
  }
  if (out->hold_time_s == 1 || out->hold_time_s == 2) {
    return fail(subcode::kUnacceptableHoldTime, "hold time 1 or 2 seconds");
  }
  if (out->bgp_id == 0 && limits.check_identity) {
    return fail(subcode::kBadBgpIdentifier, "BGP identifier 0");
  }

  // Optional parameters: RFC 4271 (1-octet lengths) or RFC 9072 extended
  // form (Non-Ext OP Len 255, Non-Ext OP Type 255, 2-octet lengths).
  bool extended = false;
  size_t params_len = opt_len;
  if (opt_len == 255 && r.remaining() >= 1 && r.current()[0] == 255) {
    uint8_t marker = 0;
    uint16_t ext_len = 0;
    (void)r.U8(&marker);
    if (!r.U16(&ext_len)) {
      return fail(subcode::kOpenUnspecific,
                  "truncated extended optional parameters length");
    }
    extended = true;
    params_len = ext_len;
  }
  if (params_len != r.remaining()) {
    return fail(subcode::kOpenUnspecific,
                "optional parameters length " + std::to_string(params_len) +
                    " != remaining " + std::to_string(r.remaining()));
  }
  while (!r.empty()) {
    uint8_t type = 0;
    uint16_t len = 0;
    if (!r.U8(&type)) break;
    if (extended) {
      if (!r.U16(&len)) {
        return fail(subcode::kOpenUnspecific, "truncated parameter header");
      }
    } else {
      uint8_t len8 = 0;
      if (!r.U8(&len8)) {
        return fail(subcode::kOpenUnspecific, "truncated parameter header");
      }
      len = len8;
    }
    std::span<const uint8_t> value;
    if (!r.Take(len, &value)) {
      return fail(subcode::kOpenUnspecific, "parameter overruns the OPEN");
    }
    if (type != 2) {
      return fail(subcode::kUnsupportedOptionalParameter,
                  "optional parameter type " + std::to_string(type));
    }
    // RFC 5492: capabilities are code (1), length (1), value. BG-7: a
    // capability overrunning its parameter is an OPEN error.
    Reader cr(value);
    while (!cr.empty()) {
      uint8_t code = 0, clen = 0;
      std::span<const uint8_t> cvalue;
      if (!cr.U8(&code) || !cr.U8(&clen) || !cr.Take(clen, &cvalue)) {
        return fail(subcode::kOpenUnspecific,
                    "capability overruns its parameter");
      }
      ParseCapability(code, cvalue, &out->capabilities, limits);
    }
  }

  // AS checks after capabilities (RFC 7607: AS 0; RFC 6793: AS_TRANS).
  const auto& four = out->capabilities.four_octet_as;
  if (out->my_as == 0 && limits.check_identity) {
    return fail(subcode::kBadPeerAs, "AS 0", {0, 0});
  }
  if (four.has_value() &&
      ((*four == 0 && limits.check_identity) || *four == kAsTrans)) {
    return fail(subcode::kBadPeerAs,
                "4-octet AS capability carries AS " + std::to_string(*four));
  }
  if (!four.has_value() && out->my_as == kAsTrans) {
    return fail(subcode::kBadPeerAs,
                "AS_TRANS without the 4-octet AS capability",
                {static_cast<uint8_t>(kAsTrans >> 8),
                 static_cast<uint8_t>(kAsTrans & 0xff)});
  }
  return Status::Ok();
}

void SetAsNumber(uint32_t as, OpenMessage* open) {
  open->my_as = as > 0xffff ? kAsTrans : static_cast<uint16_t>(as);
  open->capabilities.four_octet_as = as;
}

Status AppendOpen(const OpenMessage& open, std::vector<uint8_t>* out) {
  // Capabilities first, into a scratch buffer, each as its own
  // capability (code, length, value).
  std::vector<uint8_t> caps;
  auto cap = [&caps](uint8_t code, const std::vector<uint8_t>& value) {
    wire::PutU8(&caps, code);
    wire::PutU8(&caps, static_cast<uint32_t>(value.size()));
    caps.insert(caps.end(), value.begin(), value.end());
  };
  const Capabilities& c = open.capabilities;
  std::vector<uint8_t> v;
  for (const Family& f : c.multiprotocol) {
    v.clear();
    wire::PutU16(&v, static_cast<uint16_t>(f.afi));
    wire::PutU8(&v, 0);
    wire::PutU8(&v, static_cast<uint8_t>(f.safi));
    cap(kCapMultiprotocol, v);
  }
  if (c.route_refresh) cap(kCapRouteRefresh, {});
  if (c.enhanced_route_refresh) cap(kCapEnhancedRouteRefresh, {});
  if (c.extended_message) cap(kCapExtendedMessage, {});
  if (c.four_octet_as) {
    v.clear();
    wire::PutU32(&v, *c.four_octet_as);
    cap(kCapFourOctetAs, v);
  }
  if (!c.add_path.empty()) {
    v.clear();
    for (const AddPathFamily& a : c.add_path) {
      wire::PutU16(&v, static_cast<uint16_t>(a.family.afi));
      wire::PutU8(&v, static_cast<uint8_t>(a.family.safi));
      wire::PutU8(&v, (a.receive ? 1 : 0) | (a.send ? 2 : 0));
    }
    if (v.size() > 255) return InvalidArgumentError("ADD-PATH too long");
    cap(kCapAddPath, v);
  }
  if (c.graceful_restart) {
    const GracefulRestart& gr = *c.graceful_restart;
    v.clear();
    wire::PutU16(&v, (gr.restart_state ? 0x8000 : 0) |
                         (gr.notification ? 0x4000 : 0) |
                         (gr.restart_time_s & 0x0fff));
    for (const auto& f : gr.families) {
      wire::PutU16(&v, static_cast<uint16_t>(f.family.afi));
      wire::PutU8(&v, static_cast<uint8_t>(f.family.safi));
      wire::PutU8(&v, f.forwarding_preserved ? 0x80 : 0);
    }
    if (v.size() > 255) return InvalidArgumentError("GR too long");
    cap(kCapGracefulRestart, v);
  }
  if (c.long_lived_graceful_restart) {
    v.clear();
    for (const auto& f : c.long_lived_graceful_restart->families) {
      wire::PutU16(&v, static_cast<uint16_t>(f.family.afi));
      wire::PutU8(&v, static_cast<uint8_t>(f.family.safi));
      wire::PutU8(&v, f.forwarding_preserved ? 0x80 : 0);
      wire::PutU24(&v, f.stale_time_s & 0xffffff);
    }
    if (v.size() > 255) return InvalidArgumentError("LLGR too long");
    cap(kCapLongLivedGr, v);
  }
  if (!c.extended_next_hop.empty()) {
    v.clear();
    for (const auto& e : c.extended_next_hop) {
      wire::PutU16(&v, static_cast<uint16_t>(e.family.afi));
      wire::PutU16(&v, static_cast<uint8_t>(e.family.safi));
      wire::PutU16(&v, static_cast<uint16_t>(e.next_hop_afi));
    }
    if (v.size() > 255) return InvalidArgumentError("ENH too long");
    cap(kCapExtendedNextHop, v);
  }
  if (c.role) cap(kCapRole, {*c.role});
  if (c.hostname) {
    const std::string& h = *c.hostname;
    const std::string d = c.domain_name.value_or("");
    if (h.size() > 255 || d.size() > 255 || h.size() + d.size() + 2 > 255) {
      return InvalidArgumentError("hostname capability too long");
    }
    v.assign(1, static_cast<uint8_t>(h.size()));
    v.insert(v.end(), h.begin(), h.end());
    v.push_back(static_cast<uint8_t>(d.size()));
    v.insert(v.end(), d.begin(), d.end());
    cap(kCapFqdn, v);
  }
  if (c.software_version) {
    const std::string& s = *c.software_version;
    if (s.size() > 254)
      return InvalidArgumentError("software version too long");
    v.assign(1, static_cast<uint8_t>(s.size()));
    v.insert(v.end(), s.begin(), s.end());
    cap(kCapSoftwareVersion, v);
  }

  const size_t start = wire::BeginMessage(out, 1);
  wire::PutU8(out, open.version);
  wire::PutU16(out, open.my_as);
  wire::PutU16(out, open.hold_time_s);
  wire::PutU32(out, open.bgp_id);
  if (caps.empty()) {
    wire::PutU8(out, 0);
  } else if (caps.size() + 2 <= 255) {
    wire::PutU8(out, static_cast<uint32_t>(caps.size() + 2));
    wire::PutU8(out, 2);
    wire::PutU8(out, static_cast<uint32_t>(caps.size()));
    out->insert(out->end(), caps.begin(), caps.end());
  } else {
    // RFC 9072 §2: one capabilities parameter with a 2-octet length.
    wire::PutU8(out, 255);
    wire::PutU8(out, 255);
    wire::PutU16(out, static_cast<uint32_t>(caps.size() + 3));
    wire::PutU8(out, 2);
    wire::PutU16(out, static_cast<uint32_t>(caps.size()));
    out->insert(out->end(), caps.begin(), caps.end());
  }
  if (out->size() - start > kMaxMessageSize) {
    out->resize(start);
    return InvalidArgumentError("OPEN longer than 4096 octets");
  }
  wire::FinishMessage(out, start);
  return Status::Ok();
}

bool SessionParams::HasFamily(Family f) const {
  return std::find(families.begin(), families.end(), f) != families.end();
}

bool SessionParams::HasAddPath(Family f) const {
  return std::find(add_path_receive.begin(), add_path_receive.end(), f) !=
         add_path_receive.end();
}

SessionParams Negotiate(const OpenMessage& ours, const OpenMessage& theirs) {
  SessionParams p;
  const Capabilities& a = ours.capabilities;
  const Capabilities& b = theirs.capabilities;
  p.four_octet_as = a.four_octet_as.has_value() && b.four_octet_as.has_value();
  p.extended_message = a.extended_message && b.extended_message;
  p.local_as = ours.AsNumber();
  p.peer_as = theirs.AsNumber();
  p.ibgp = p.local_as == p.peer_as;
  // RFC 4760 §8: no multiprotocol capability means IPv4 unicast only.
  static const std::vector<Family> kV4Only = {kIpv4Unicast};
  const std::vector<Family>& fa =
      a.multiprotocol.empty() ? kV4Only : a.multiprotocol;
  const std::vector<Family>& fb =
      b.multiprotocol.empty() ? kV4Only : b.multiprotocol;
  for (const Family& f : fa) {
    if (std::find(fb.begin(), fb.end(), f) != fb.end()) {
      p.families.push_back(f);
    }
  }
  std::sort(p.families.begin(), p.families.end());
  p.families.erase(std::unique(p.families.begin(), p.families.end()),
                   p.families.end());
  for (const AddPathFamily& theirs_ap : b.add_path) {
    if (!theirs_ap.send || !p.HasFamily(theirs_ap.family)) continue;
    for (const AddPathFamily& ours_ap : a.add_path) {
      if (ours_ap.family == theirs_ap.family && ours_ap.receive) {
        p.add_path_receive.push_back(theirs_ap.family);
      }
    }
  }
  std::sort(p.add_path_receive.begin(), p.add_path_receive.end());
  p.add_path_receive.erase(
      std::unique(p.add_path_receive.begin(), p.add_path_receive.end()),
      p.add_path_receive.end());
  p.peer_graceful_restart = b.graceful_restart;
  return p;
}

}  // namespace flowacct::bgp
