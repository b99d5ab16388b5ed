#include "libflowacct/io/frame_parser.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "libflowacct/common/byte_reader.h"

namespace flowacct::internal {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint16_t kEtherTypeVlan = 0x8100;     // IEEE 802.1Q
constexpr uint16_t kEtherTypeQinQ = 0x88a8;     // IEEE 802.1ad
constexpr uint16_t kEtherTypeQinQOld = 0x9100;  // pre-standard QinQ
constexpr int kMaxVlanTags = 4;
constexpr int kMaxIpv6ExtHeaders = 16;
constexpr uint8_t kProtoUdp = 17;

// IPv6 extension headers (RFC 8200 §4, IANA "IPv6 Extension Header Types").
constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6Auth = 51;  // RFC 4302: length in 4-byte units - 2
constexpr uint8_t kIpv6DestOpts = 60;
constexpr uint8_t kIpv6Mobility = 135;
constexpr uint8_t kIpv6Hip = 139;
constexpr uint8_t kIpv6Shim6 = 140;

}  // namespace

LinkType LinkTypeFromDlt(int dlt) {
  switch (dlt) {
    case 1:  // DLT_EN10MB
      return LinkType::kEthernet;
    case 113:  // DLT_LINUX_SLL
      return LinkType::kLinuxSll;
    case 276:  // DLT_LINUX_SLL2
      return LinkType::kLinuxSll2;
    case 12:   // DLT_RAW on most platforms
    case 14:   // DLT_RAW on OpenBSD
    case 101:  // LINKTYPE_RAW
    case 228:  // DLT_IPV4
    case 229:  // DLT_IPV6
      return LinkType::kRawIp;
    case 0:  // DLT_NULL
      return LinkType::kNull;
    case 108:  // DLT_LOOP (OpenBSD loopback)
      return LinkType::kLoop;
    default:
      return LinkType::kUnsupported;
  }
}

FrameParser::FrameParser(LinkType link, std::vector<uint16_t> udp_ports)
    : link_(link), udp_ports_(std::move(udp_ports)) {
  slots_.resize(kMaxInFlight);
}

bool FrameParser::Parse(std::span<const uint8_t> frame, bool snapped,
                        int64_t ts_ns, PcapReader::Packet* packet,
                        PcapReaderStats* stats) {
  ByteReader r(frame);
  uint16_t ethertype = 0;
  switch (link_) {
    case LinkType::kEthernet: {
      if (!r.Skip(12) || !r.ReadU16(&ethertype)) {
        ++stats->truncated;
        return false;
      }
      for (int tags = 0;
           ethertype == kEtherTypeVlan || ethertype == kEtherTypeQinQ ||
           ethertype == kEtherTypeQinQOld;
           ++tags) {
        if (tags == kMaxVlanTags) {
          ++stats->not_udp;
          return false;
        }
        if (!r.Skip(2) || !r.ReadU16(&ethertype)) {
          ++stats->truncated;
          return false;
        }
      }
      break;
    }
    case LinkType::kLinuxSll:
      // 16 bytes; protocol (ethertype) in the last two.
      if (!r.Skip(14) || !r.ReadU16(&ethertype)) {
        ++stats->truncated;
        return false;
      }
      break;
    case LinkType::kLinuxSll2:
      // 20 bytes; protocol type first.
      if (!r.ReadU16(&ethertype) || !r.Skip(18)) {
        ++stats->truncated;
        return false;
      }
      break;
    case LinkType::kRawIp:
      break;
    case LinkType::kNull:
    case LinkType::kLoop:
      // The address family's value and byte order vary by OS; the IP version
      // nibble that follows says all we need.
      if (!r.Skip(4)) {
        ++stats->truncated;
        return false;
      }
      break;
    case LinkType::kUnsupported:
      ++stats->not_udp;
      return false;
  }
  if (ethertype != 0 && ethertype != kEtherTypeIpv4 &&
      ethertype != kEtherTypeIpv6) {
    ++stats->not_udp;
    return false;
  }
  return ParseIp(r.rest(), snapped, ts_ns, packet, stats);
}

bool FrameParser::ParseIp(std::span<const uint8_t> ip, bool snapped,
                          int64_t ts_ns, PcapReader::Packet* packet,
                          PcapReaderStats* stats) {
  if (ip.empty()) {
    ++stats->truncated;
    return false;
  }
  switch (ip[0] >> 4) {
    case 4:
      return ParseIpv4(ip, snapped, ts_ns, packet, stats);
    case 6:
      return ParseIpv6(ip, snapped, ts_ns, packet, stats);
    default:
      ++stats->not_udp;
      return false;
  }
}

// RFC 791 §3.1.
bool FrameParser::ParseIpv4(std::span<const uint8_t> ip, bool snapped,
                            int64_t ts_ns, PcapReader::Packet* packet,
                            PcapReaderStats* stats) {
  if (ip.size() < 20) {
    ++stats->truncated;
    return false;
  }
  size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  size_t total = LoadBe16(ip.data() + 2);
  if (ihl < 20 || total < ihl) {
    ++stats->truncated;  // bad header lengths
    return false;
  }
  if (total > ip.size()) {
    // Cut by the snaplen (or lying about its length).
    ++stats->truncated;
    return false;
  }
  ip = ip.first(total);  // drop Ethernet padding
  uint16_t frag = LoadBe16(ip.data() + 6);
  bool more = (frag & 0x2000) != 0;
  size_t offset = size_t{frag & 0x1fffu} * 8;
  uint8_t proto = ip[9];
  IpAddress src = IpAddress::V4Bytes(ip.data() + 12);
  IpAddress dst = IpAddress::V4Bytes(ip.data() + 16);
  std::span<const uint8_t> l4 = ip.subspan(ihl);
  if (proto != kProtoUdp) {
    ++stats->not_udp;
    return false;
  }
  if (more || offset != 0) {
    FragKey key;
    key.family = 4;
    std::memcpy(key.src.data(), ip.data() + 12, 4);
    std::memcpy(key.dst.data(), ip.data() + 16, 4);
    key.id = LoadBe16(ip.data() + 4);
    key.proto = proto;
    l4 = AddFragment(key, offset, more, l4, ts_ns, stats);
    if (l4.empty()) return false;
  }
  return ParseUdp(l4, src, dst, ts_ns, packet, stats);
}

// RFC 8200 §3 and §4.
bool FrameParser::ParseIpv6(std::span<const uint8_t> ip, bool snapped,
                            int64_t ts_ns, PcapReader::Packet* packet,
                            PcapReaderStats* stats) {
  if (ip.size() < 40) {
    ++stats->truncated;
    return false;
  }
  size_t payload_len = LoadBe16(ip.data() + 4);
  if (payload_len == 0 || 40 + payload_len > ip.size()) {
    // 0 is a jumbogram (RFC 2675): not something an exporter sends.
    ++stats->truncated;
    return false;
  }
  uint8_t next = ip[6];
  IpAddress src = IpAddress::V6Bytes(ip.data() + 8);
  IpAddress dst = IpAddress::V6Bytes(ip.data() + 24);
  ByteReader r(ip.data() + 40, payload_len);
  bool fragmented = false;
  size_t frag_offset = 0;
  bool frag_more = false;
  uint32_t frag_id = 0;
  for (int i = 0;; ++i) {
    if (i == kMaxIpv6ExtHeaders) {
      ++stats->not_udp;
      return false;
    }
    if (next == kIpv6Fragment) {
      uint8_t nh = 0, reserved = 0;
      uint16_t off_flags = 0;
      if (!r.ReadU8(&nh) || !r.ReadU8(&reserved) || !r.ReadU16(&off_flags) ||
          !r.ReadU32(&frag_id)) {
        ++stats->truncated;
        return false;
      }
      fragmented = true;
      frag_offset = static_cast<size_t>(off_flags >> 3) * 8;
      frag_more = (off_flags & 1) != 0;
      next = nh;
      continue;
    }
    if (next == kIpv6HopByHop || next == kIpv6Routing ||
        next == kIpv6DestOpts || next == kIpv6Mobility || next == kIpv6Hip ||
        next == kIpv6Shim6 || next == kIpv6Auth) {
      if (r.remaining() < 2) {
        ++stats->truncated;
        return false;
      }
      uint8_t nh = r.data()[0];
      size_t len = next == kIpv6Auth ? (size_t{r.data()[1]} + 2) * 4
                                     : (size_t{r.data()[1]} + 1) * 8;
      if (!r.Skip(len)) {
        ++stats->truncated;
        return false;
      }
      next = nh;
      continue;
    }
    break;
  }
  if (next != kProtoUdp) {
    ++stats->not_udp;
    return false;
  }
  std::span<const uint8_t> l4 = r.rest();
  if (fragmented && (frag_more || frag_offset != 0)) {
    FragKey key;
    key.family = 6;
    std::memcpy(key.src.data(), ip.data() + 8, 16);
    std::memcpy(key.dst.data(), ip.data() + 24, 16);
    key.id = frag_id;
    key.proto = next;
    l4 = AddFragment(key, frag_offset, frag_more, l4, ts_ns, stats);
    if (l4.empty()) return false;
  }
  return ParseUdp(l4, src, dst, ts_ns, packet, stats);
}

// RFC 768.
bool FrameParser::ParseUdp(std::span<const uint8_t> udp, const IpAddress& src,
                           const IpAddress& dst, int64_t ts_ns,
                           PcapReader::Packet* packet, PcapReaderStats* stats) {
  if (udp.size() < 8) {
    ++stats->truncated;
    return false;
  }
  uint16_t sport = LoadBe16(udp.data());
  uint16_t dport = LoadBe16(udp.data() + 2);
  size_t length = LoadBe16(udp.data() + 4);
  if (length < 8 || length > udp.size()) {
    ++stats->truncated;
    return false;
  }
  if (!udp_ports_.empty() && std::find(udp_ports_.begin(), udp_ports_.end(),
                                       dport) == udp_ports_.end()) {
    ++stats->filtered;
    return false;
  }
  packet->datagram.payload = udp.subspan(8, length - 8);
  packet->datagram.exporter = Endpoint{src, sport};
  packet->datagram.arrival_ns = ts_ns;
  packet->destination = Endpoint{dst, dport};
  return true;
}

std::span<const uint8_t> FrameParser::AddFragment(const FragKey& key,
                                                  size_t offset, bool more,
                                                  std::span<const uint8_t> data,
                                                  int64_t ts_ns,
                                                  PcapReaderStats* stats) {
  size_t end = offset + data.size();
  if (end > kMaxDatagram || (more && data.size() % 8 != 0)) {
    ++stats->fragments_dropped;
    return {};
  }
  // Expire old entries; find ours or a free (else the oldest) slot.
  FragSlot* slot = nullptr;
  FragSlot* free_slot = nullptr;
  FragSlot* oldest = nullptr;
  for (FragSlot& s : slots_) {
    if (s.used && ts_ns - s.first_ns > kMaxAgeNs) {
      s.used = false;
      ++stats->fragments_dropped;
    }
    if (s.used && s.key == key) {
      slot = &s;
    } else if (!s.used) {
      if (free_slot == nullptr) free_slot = &s;
    } else if (oldest == nullptr || s.first_ns < oldest->first_ns) {
      oldest = &s;
    }
  }
  if (slot == nullptr) {
    if (free_slot == nullptr) {
      free_slot = oldest;  // table full: evict the oldest
      ++stats->fragments_dropped;
    }
    slot = free_slot;
    slot->used = true;
    slot->key = key;
    slot->first_ns = ts_ns;
    slot->total = 0;
    slot->max_end = 0;
    slot->data.assign(kMaxDatagram, 0);  // capacity reused across datagrams
    slot->have.assign((kMaxDatagram + 7) / 8, 0);
  }
  if (!more) {
    if (slot->total != 0 && slot->total != end) {
      slot->used = false;  // two different "last" fragments
      ++stats->fragments_dropped;
      return {};
    }
    slot->total = end;
  }
  std::memcpy(slot->data.data() + offset, data.data(), data.size());
  for (size_t b = offset / 8; b * 8 < end; ++b) slot->have[b] = 1;
  slot->max_end = std::max(slot->max_end, end);
  if (slot->total == 0) return {};
  if (slot->max_end > slot->total) {
    slot->used = false;
    ++stats->fragments_dropped;
    return {};
  }
  for (size_t b = 0; b * 8 < slot->total; ++b) {
    if (slot->have[b] == 0) return {};
  }
  reassembled_.assign(slot->data.begin(), slot->data.begin() + slot->total);
  slot->used = false;
  ++stats->fragments_reassembled;
  return reassembled_;
}

}  // namespace flowacct::internal
