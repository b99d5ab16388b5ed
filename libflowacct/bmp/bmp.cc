#include "flowacct/bmp/bmp.h"

#include <algorithm>
#include <utility>

#include "libflowacct/common/byte_reader.h"

namespace flowacct::bmp {
namespace {

using internal::ByteReader;
using internal::LoadBe16;
using internal::LoadBe32;

// Families a Route Monitoring PDU may carry when no Peer Up told us what was
// negotiated (BM-4): every family the BGP codec decodes.
const std::vector<bgp::Family>& AllFamilies() {
  static const auto* families = new std::vector<bgp::Family>{
      {bgp::Afi::kIpv4, bgp::Safi::kUnicast},
      {bgp::Afi::kIpv4, bgp::Safi::kMulticast},
      {bgp::Afi::kIpv4, bgp::Safi::kLabeledUnicast},
      {bgp::Afi::kIpv4, bgp::Safi::kMplsVpn},
      {bgp::Afi::kIpv6, bgp::Safi::kUnicast},
      {bgp::Afi::kIpv6, bgp::Safi::kMulticast},
      {bgp::Afi::kIpv6, bgp::Safi::kLabeledUnicast},
      {bgp::Afi::kIpv6, bgp::Safi::kMplsVpn},
  };
  return *families;
}

bgp::SessionParams DefaultParams(bool legacy_as_path) {
  bgp::SessionParams p;
  p.four_octet_as = !legacy_as_path;
  p.extended_message = true;
  p.families = AllFamilies();
  return p;
}

// What a peer's Route Monitoring PDUs are decoded with, from what its Peer
// Up OPENs negotiated: the AS number size and ADD-PATH, as negotiated (they
// change how the PDU reads), but every family the codec decodes. The
// station records what the router reports: each MP_REACH / MP_UNREACH names
// its family, and routers report families their OPENs do not list (Huawei
// sends one Loc-RIB Peer Up per family, RFC 9069 §5.2 OPENs being
// fabricated; 6WIND/FRR post-policy views carry IPv4 unicast on a session
// that negotiated labeled unicast only: corpus pmacct-200, pmacct-205).
bgp::SessionParams DecodeParams(bgp::SessionParams negotiated) {
  negotiated.families = AllFamilies();
  negotiated.extended_message = true;  // BMP frames carry the length
  return negotiated;
}

// Appends to `to` the families of `from` it lacks.
void AddFamilies(const std::vector<bgp::Family>& from,
                 std::vector<bgp::Family>* to) {
  for (const bgp::Family& f : from) {
    if (std::find(to->begin(), to->end(), f) == to->end()) to->push_back(f);
  }
}

// RFC 7854 §4.2: 42 octets.
bool ReadPeerHeader(ByteReader* r, PeerHeader* h,
                    std::optional<BmpProblem>* problem) {
  std::span<const uint8_t> b;
  if (!r->ReadBytes(kPeerHeaderSize, &b)) {
    *problem = BmpProblem::kTruncatedPeerHeader;
    return false;
  }
  if (b[0] > static_cast<uint8_t>(PeerType::kLocRib)) {
    *problem = BmpProblem::kUnknownPeerType;
    return false;
  }
  h->type = static_cast<PeerType>(b[0]);
  h->flags = b[1];
  if (h->type == PeerType::kLocRib) {
    h->loc_rib_filtered = (b[1] & 0x80) != 0;  // RFC 9069 §4.2 F flag
  } else {
    h->ipv6 = (b[1] & 0x80) != 0;
    h->post_policy = (b[1] & 0x40) != 0;
    h->legacy_as_path = (b[1] & 0x20) != 0;
    h->adj_rib_out = (b[1] & 0x10) != 0;
  }
  std::copy(b.begin() + 2, b.begin() + 10, h->distinguisher.bytes.begin());
  if (h->ipv6) {
    h->address = IpAddress::V6Bytes(b.data() + 10);
  } else {
    h->address = IpAddress::V4Bytes(b.data() + 22);  // last 4 of 16 octets
  }
  h->as = LoadBe32(b.data() + 26);
  h->bgp_id = LoadBe32(b.data() + 30);
  const uint32_t sec = LoadBe32(b.data() + 34);
  const uint32_t usec = LoadBe32(b.data() + 38);
  h->timestamp_ns =
      int64_t{sec} * 1'000'000'000 + int64_t{std::min(usec, 999'999u)} * 1000;
  return true;
}

// Type-length-value list (2-octet type, 2-octet length) up to the end.
bool ReadTlvs(ByteReader r, std::vector<InformationTlv>* out) {
  while (!r.empty()) {
    uint16_t type = 0, length = 0;
    std::span<const uint8_t> value;
    if (!r.ReadU16(&type) || !r.ReadU16(&length) ||
        !r.ReadBytes(length, &value)) {
      return false;  // BM-6
    }
    out->push_back({type, std::string(value.begin(), value.end())});
  }
  return true;
}

// Parses a Peer Up OPEN for its capabilities. The station is not the
// router's BGP peer, so the identity checks that make a session fail (AS 0,
// BGP identifier 0) do not apply: some routers (6WIND/FRR, corpus
// pmacct-205/208) fabricate those OPENs with zeros there. Anything else
// wrong still fails (BM-5).
bool ParsePeerUpOpen(std::span<const uint8_t> message, bgp::OpenMessage* out,
                     bgp::MessageLimits limits) {
  limits.check_identity = false;
  bgp::Notification error;
  return bgp::ParseOpen(message, out, &error, limits).ok();
}

// One whole BGP message inside a BMP message: its BGP length must equal
// what is left of the BMP message (BM-2).
bool ReadInnerBgp(ByteReader* r, std::span<const uint8_t>* message,
                  bgp::MessageType* type) {
  if (r->remaining() < bgp::kHeaderSize) return false;
  const std::span<const uint8_t> rest = r->rest();
  for (size_t i = 0; i < 16; ++i) {
    if (rest[i] != 0xff) return false;
  }
  const uint16_t length = LoadBe16(rest.data() + 16);
  if (length < bgp::kHeaderSize || length > rest.size()) return false;
  *type = static_cast<bgp::MessageType>(rest[18]);
  return r->ReadBytes(length, message);
}

}  // namespace

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kRouteMonitoring:
      return "route_monitor";
    case MessageType::kStatisticsReport:
      return "stats";
    case MessageType::kPeerDown:
      return "peer_down";
    case MessageType::kPeerUp:
      return "peer_up";
    case MessageType::kInitiation:
      return "init";
    case MessageType::kTermination:
      return "term";
    case MessageType::kRouteMirroring:
      return "route_mirror";
  }
  return "unknown";
}

std::string_view BmpProblemName(BmpProblem problem) {
  switch (problem) {
    case BmpProblem::kTruncatedPeerHeader:
      return "truncated_peer_header";
    case BmpProblem::kUnknownPeerType:
      return "unknown_peer_type";
    case BmpProblem::kBadInnerBgpMessage:
      return "bad_inner_bgp_message";
    case BmpProblem::kInnerNotUpdate:
      return "inner_not_update";
    case BmpProblem::kBadPeerUp:
      return "bad_peer_up";
    case BmpProblem::kBadPeerDown:
      return "bad_peer_down";
    case BmpProblem::kBadTlv:
      return "bad_tlv";
    case BmpProblem::kUnknownMessageType:
      return "unknown_message_type";
    case BmpProblem::kRouteMirroring:
      return "route_mirroring";
    case BmpProblem::kPeerWithoutPeerUp:
      return "peer_without_peer_up";
    case BmpProblem::kTooManyPeers:
      return "too_many_peers";
  }
  return "unknown";
}

bool PeerHeader::SamePeer(const PeerHeader& other) const {
  return type == other.type && distinguisher == other.distinguisher &&
         address == other.address;
}

namespace {

// The message decoder and what it remembers between messages.
struct DecoderState {
  StreamOptions options;
  StreamStats stats;

  // What Peer Up told us about each monitored peer: the parameters to
  // decode its Adj-RIB-In (and Loc-RIB) PDUs and its Adj-RIB-Out PDUs.
  struct PeerState {
    PeerHeader peer;
    bgp::SessionParams in;
    bgp::SessionParams out;
  };
  std::vector<PeerState> peers;
  bgp::ParsedUpdate update;  // reused

  PeerState* Find(const PeerHeader& h) {
    for (PeerState& p : peers) {
      if (p.peer.SamePeer(h)) return &p;
    }
    return nullptr;
  }

  // Decodes one whole message; body problems are returned (the message is
  // skipped), never fatal.
  std::optional<BmpProblem> Decode(std::span<const uint8_t> message,
                                   StreamHandler* handler);
};

}  // namespace

struct Stream::Impl {
  DecoderState state;
  std::vector<uint8_t> buffer;
  size_t consumed = 0;
  bool dead = false;
};

std::optional<BmpProblem> DecoderState::Decode(std::span<const uint8_t> message,
                                               StreamHandler* handler) {
  const auto type = static_cast<MessageType>(message[5]);
  ByteReader r(message.subspan(kCommonHeaderSize));
  std::optional<BmpProblem> problem;
  switch (type) {
    case MessageType::kInitiation: {
      Initiation init;
      if (!ReadTlvs(r, &init.information)) return BmpProblem::kBadTlv;
      handler->OnInitiation(init);
      return std::nullopt;
    }
    case MessageType::kTermination: {
      Termination term;
      if (!ReadTlvs(r, &term.information)) return BmpProblem::kBadTlv;
      for (const InformationTlv& t : term.information) {
        if (t.type == 1 && t.value.size() == 2) {
          term.reason =
              LoadBe16(reinterpret_cast<const uint8_t*>(t.value.data()));
        }
      }
      handler->OnTermination(term);
      return std::nullopt;
    }
    case MessageType::kRouteMirroring:
      return BmpProblem::kRouteMirroring;
    case MessageType::kRouteMonitoring:
    case MessageType::kStatisticsReport:
    case MessageType::kPeerDown:
    case MessageType::kPeerUp:
      break;
    default:
      return BmpProblem::kUnknownMessageType;
  }

  PeerHeader peer;
  if (!ReadPeerHeader(&r, &peer, &problem)) return problem;

  switch (type) {
    case MessageType::kRouteMonitoring: {
      std::span<const uint8_t> pdu;
      bgp::MessageType inner = bgp::MessageType::kKeepalive;
      // BM-2: the inner length must fit the BMP length. Bytes after the PDU
      // are only accepted as well-formed TLVs (draft-ietf-grow-bmp-tlv;
      // Huawei sends an enterprise TLV there), and ignored.
      std::vector<InformationTlv> trailing;
      if (!ReadInnerBgp(&r, &pdu, &inner) || !ReadTlvs(r, &trailing)) {
        return BmpProblem::kBadInnerBgpMessage;
      }
      if (inner != bgp::MessageType::kUpdate) {
        return BmpProblem::kInnerNotUpdate;
      }
      PeerState* state = Find(peer);
      bgp::SessionParams defaults;
      const bgp::SessionParams* params = nullptr;
      if (state != nullptr) {
        params = peer.adj_rib_out ? &state->out : &state->in;
      } else {
        // BM-4: no Peer Up seen (we connected mid-stream or the router
        // skipped it): decode with what the per-peer header says.
        ++stats.problems[static_cast<size_t>(BmpProblem::kPeerWithoutPeerUp)];
        defaults = DefaultParams(peer.legacy_as_path);
        params = &defaults;
      }
      // The router holds these routes whatever their next hop: a missing or
      // martian one is recorded, not turned into a withdrawal (RFC 9069 §5
      // locally originated Loc-RIB routes; corpus pmacct-205).
      bgp::MessageLimits limits = options.bgp_limits;
      limits.check_next_hop = false;
      bgp::ParseUpdate(pdu, *params, &update, limits);
      stats.announced += update.announced.size();
      stats.withdrawn += update.withdrawn.size();
      handler->OnRouteMonitoring(peer, update);
      return std::nullopt;
    }
    case MessageType::kStatisticsReport: {
      StatisticsReport report;
      report.peer = peer;
      uint32_t count = 0;
      if (!r.ReadU32(&count)) return BmpProblem::kBadTlv;
      for (uint32_t i = 0; i < count; ++i) {
        uint16_t stat_type = 0, length = 0;
        std::span<const uint8_t> v;
        if (!r.ReadU16(&stat_type) || !r.ReadU16(&length) ||
            !r.ReadBytes(length, &v)) {
          return BmpProblem::kBadTlv;  // BM-6: count overruns the message
        }
        Statistic s;
        s.type = stat_type;
        s.length = length;
        if (length == 4) {
          s.value = LoadBe32(v.data());
        } else if (length == 8) {
          s.value = internal::LoadBe64(v.data());
        } else if (length == 11) {
          // AFI (2) + SAFI (1) + 64-bit gauge (RFC 7854 types 9/10, 8671).
          s.family = bgp::Family{static_cast<bgp::Afi>(LoadBe16(v.data())),
                                 static_cast<bgp::Safi>(v[2])};
          s.value = internal::LoadBe64(v.data() + 3);
        } else {
          continue;  // unknown layout: skipped, the rest still parses
        }
        report.statistics.push_back(s);
      }
      handler->OnStatistics(report);
      return std::nullopt;
    }
    case MessageType::kPeerDown: {
      PeerDown down;
      down.peer = peer;
      if (!r.ReadU8(&down.reason)) return BmpProblem::kBadPeerDown;
      if (down.reason == 1 || down.reason == 3) {
        std::span<const uint8_t> pdu;
        bgp::MessageType inner = bgp::MessageType::kKeepalive;
        if (!ReadInnerBgp(&r, &pdu, &inner) ||
            inner != bgp::MessageType::kNotification) {
          return BmpProblem::kBadPeerDown;
        }
        bgp::Notification n;
        if (!bgp::ParseNotification(pdu, &n, options.bgp_limits).ok()) {
          return BmpProblem::kBadPeerDown;
        }
        down.notification = n;
      } else if (down.reason == 2) {
        uint16_t event = 0;
        if (!r.ReadU16(&event)) return BmpProblem::kBadPeerDown;
        down.fsm_event = event;
      }
      peers.erase(std::remove_if(peers.begin(), peers.end(),
                                 [&](const PeerState& p) {
                                   return p.peer.SamePeer(peer);
                                 }),
                  peers.end());
      handler->OnPeerDown(down);
      return std::nullopt;
    }
    case MessageType::kPeerUp: {
      PeerUp up;
      up.peer = peer;
      std::span<const uint8_t> local;
      if (!r.ReadBytes(16, &local) || !r.ReadU16(&up.local_port) ||
          !r.ReadU16(&up.remote_port)) {
        return BmpProblem::kBadPeerUp;
      }
      // RFC 7854 §4.10: IPv4 addresses sit in the last 4 octets.
      up.local_address = peer.ipv6 ? IpAddress::V6Bytes(local.data())
                                   : IpAddress::V4Bytes(local.data() + 12);
      std::span<const uint8_t> sent, received;
      bgp::MessageType t1 = bgp::MessageType::kKeepalive;
      bgp::MessageType t2 = bgp::MessageType::kKeepalive;
      // BM-5: both OPENs must be there and parse; otherwise the peer's
      // capabilities are unknown and nothing is guessed.
      if (!ReadInnerBgp(&r, &sent, &t1) || t1 != bgp::MessageType::kOpen ||
          !ReadInnerBgp(&r, &received, &t2) || t2 != bgp::MessageType::kOpen ||
          !ParsePeerUpOpen(sent, &up.sent_open, options.bgp_limits) ||
          !ParsePeerUpOpen(received, &up.received_open, options.bgp_limits)) {
        return BmpProblem::kBadPeerUp;
      }
      if (!ReadTlvs(r, &up.information)) return BmpProblem::kBadTlv;
      up.params = bgp::Negotiate(up.sent_open, up.received_open);
      up.params.extended_message = true;  // BMP frames carry the length
      PeerState* state = Find(peer);
      bgp::SessionParams in = DecodeParams(up.params);
      bgp::SessionParams out =
          DecodeParams(bgp::Negotiate(up.received_open, up.sent_open));
      if (state == nullptr) {
        if (peers.size() >= options.max_peers) {
          return BmpProblem::kTooManyPeers;  // BM-7
        }
        peers.push_back(PeerState{peer, {}, {}});
        state = &peers.back();
      } else if (peer.type == PeerType::kLocRib) {
        // RFC 9069 §5.2: a Loc-RIB's OPENs are fabricated, listing only
        // what its Route Monitoring uses; routers send one Peer Up per
        // family (Huawei, Cisco: corpus pmacct-200, pmacct-208). The
        // ADD-PATH families add up instead of replacing each other.
        AddFamilies(state->in.add_path_receive, &in.add_path_receive);
        AddFamilies(state->out.add_path_receive, &out.add_path_receive);
      }
      state->peer = peer;
      state->in = std::move(in);
      state->out = std::move(out);
      up.add_path_in = state->in.add_path_receive;
      up.add_path_out = state->out.add_path_receive;
      handler->OnPeerUp(up);
      return std::nullopt;
    }
    default:
      return BmpProblem::kUnknownMessageType;
  }
}

Stream::Stream(StreamOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->state.options = options;
}
Stream::~Stream() = default;
Stream::Stream(Stream&&) noexcept = default;
Stream& Stream::operator=(Stream&&) noexcept = default;

Status Stream::Feed(std::span<const uint8_t> bytes, StreamHandler* handler) {
  Impl& s = *impl_;
  if (s.dead) return InvalidArgumentError("bmp: stream framing lost");
  s.state.stats.bytes += bytes.size();
  s.buffer.insert(s.buffer.end(), bytes.begin(), bytes.end());
  for (;;) {
    const size_t have = s.buffer.size() - s.consumed;
    if (have < kCommonHeaderSize) break;
    const uint8_t* p = s.buffer.data() + s.consumed;
    const uint32_t length = LoadBe32(p + 1);
    if (p[0] != kVersion) {
      s.dead = true;
      return InvalidArgumentError("bmp: version " + std::to_string(p[0]) +
                                  ", expected 3");
    }
    if (length < kCommonHeaderSize ||
        length > s.state.options.max_message_bytes) {
      s.dead = true;
      return InvalidArgumentError("bmp: message length " +
                                  std::to_string(length) + " out of range");
    }
    if (have < length) break;
    const std::span<const uint8_t> message(p, length);
    const uint8_t type = p[5];
    StreamStats& stats = s.state.stats;
    if (type < stats.messages.size()) ++stats.messages[type];
    std::optional<BmpProblem> problem = s.state.Decode(message, handler);
    if (problem) ++stats.problems[static_cast<size_t>(*problem)];
    s.consumed += length;
  }
  if (s.consumed == s.buffer.size()) {
    s.buffer.clear();
    s.consumed = 0;
  } else if (s.consumed > s.buffer.size() / 2) {
    s.buffer.erase(s.buffer.begin(),
                   s.buffer.begin() + static_cast<ptrdiff_t>(s.consumed));
    s.consumed = 0;
  }
  return Status::Ok();
}

size_t Stream::buffered() const {
  return impl_->buffer.size() - impl_->consumed;
}
const StreamStats& Stream::stats() const { return impl_->state.stats; }

Status DecodeMessage(std::span<const uint8_t> message, StreamHandler* handler,
                     std::optional<BmpProblem>* problem,
                     const StreamOptions& options) {
  problem->reset();
  if (message.size() < kCommonHeaderSize || message[0] != kVersion ||
      LoadBe32(message.data() + 1) != message.size()) {
    return InvalidArgumentError("bmp: bad common header");
  }
  DecoderState state;
  state.options = options;
  *problem = state.Decode(message, handler);
  return Status::Ok();
}

}  // namespace flowacct::bmp
