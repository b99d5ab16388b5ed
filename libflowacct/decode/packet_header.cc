#include "libflowacct/decode/packet_header.h"

#include "libflowacct/common/byte_reader.h"

namespace flowacct::internal {
namespace {

// IEEE 802 EtherTypes (IANA ieee-802-numbers).
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kEtherTypeVlan = 0x8100;     // IEEE 802.1Q C-tag
constexpr uint16_t kEtherTypeSvlan = 0x88A8;    // IEEE 802.1ad S-tag
constexpr uint16_t kEtherTypeQinQ = 0x9100;     // pre-standard QinQ
constexpr uint16_t kEtherTypeMpls = 0x8847;     // RFC 3032 §5
constexpr uint16_t kEtherTypeMplsMc = 0x8848;   // RFC 5332
constexpr uint16_t kEtherTypeMinimum = 0x0600;  // below: 802.3 length

// IANA protocol numbers.
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIpv6HopByHop = 0;
constexpr uint8_t kProtoIpv6Routing = 43;
constexpr uint8_t kProtoIpv6Fragment = 44;
constexpr uint8_t kProtoAh = 51;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoIpv6DestOpts = 60;
constexpr uint8_t kProtoSctp = 132;

constexpr uint16_t kVxlanPort = 4789;  // RFC 7348 §5

// Writes `value` into `member` unless the caller already filled field `f`.
template <typename T, typename V>
void SetIfAbsent(FlowRecord* r, FlowField f, T& member, V value) {
  if (r->fields.has(f)) return;
  member = static_cast<T>(value);
  r->fields.set(f);
}

class HeaderParser {
 public:
  HeaderParser(std::span<const uint8_t> bytes, int max_depth, FlowRecord* r)
      : in_(bytes), max_depth_(max_depth), r_(r) {}

  HeaderParseResult Run(HeaderProtocol first) {
    switch (first) {
      case HeaderProtocol::kEthernet:
        Ethernet();
        break;
      case HeaderProtocol::kMpls:
        etype_ = kEtherTypeMpls;
        Mpls();
        break;
      case HeaderProtocol::kIpv4:
        etype_ = kEtherTypeIpv4;
        Ipv4();
        break;
      case HeaderProtocol::kIpv6:
        etype_ = kEtherTypeIpv6;
        Ipv6();
        break;
    }
    if (etype_ != 0) SetIfAbsent(r_, FlowField::kEtype, r_->etype, etype_);
    return result_;
  }

 private:
  bool Truncated() {
    result_.truncated = true;
    return false;
  }
  bool Unsupported() {
    result_.unsupported = true;
    return false;
  }
  // Counts one encapsulation layer; false when the cap is reached.
  bool EnterLayer() {
    if (result_.depth >= max_depth_) return Unsupported();
    ++result_.depth;
    return true;
  }

  // IEEE 802.3 §3.2 / Ethernet II: dst(6) src(6) type(2).
  void Ethernet() {
    std::span<const uint8_t> mac;
    if (in_.remaining() < 14) {
      Truncated();
      return;
    }
    in_.ReadBytes(6, &mac);
    SetIfAbsent(r_, FlowField::kDstMac, r_->dst_mac,
                MacAddress::FromBytes(mac.data()));
    in_.ReadBytes(6, &mac);
    SetIfAbsent(r_, FlowField::kSrcMac, r_->src_mac,
                MacAddress::FromBytes(mac.data()));
    uint16_t type = 0;
    in_.ReadU16(&type);
    EtherType(type);
  }

  // Dispatches on an EtherType, walking VLAN tags (IEEE 802.1Q §9.6: TCI =
  // PCP(3) DEI(1) VID(12), then the next EtherType).
  void EtherType(uint16_t type) {
    int tags = 0;
    while (type == kEtherTypeVlan || type == kEtherTypeSvlan ||
           type == kEtherTypeQinQ) {
      etype_ = type;
      if (!EnterLayer()) return;
      uint16_t tci = 0;
      if (!in_.ReadU16(&tci) || !in_.ReadU16(&type)) {
        Truncated();
        return;
      }
      if (tags == 0) {
        SetIfAbsent(r_, FlowField::kInVlan, r_->in_vlan, tci & 0x0FFF);
        SetIfAbsent(r_, FlowField::kCos, r_->cos, tci >> 13);
      } else if (tags == 1) {
        SetIfAbsent(r_, FlowField::kInCvlan, r_->in_cvlan, tci & 0x0FFF);
      }
      ++tags;
    }
    etype_ = type;
    if (type < kEtherTypeMinimum) {
      // IEEE 802.3 length field followed by LLC: not an IP frame we parse.
      Unsupported();
      return;
    }
    switch (type) {
      case kEtherTypeIpv4:
        Ipv4();
        return;
      case kEtherTypeIpv6:
        Ipv6();
        return;
      case kEtherTypeMpls:
      case kEtherTypeMplsMc:
        Mpls();
        return;
      default:
        Unsupported();  // ARP, LLDP, ...: etype is recorded, nothing else
        return;
    }
  }

  // RFC 3032 §2.1 label stack entry: label(20) TC(3) S(1) TTL(8). The
  // payload type is not signalled; the first nibble after the bottom of
  // the stack is the IP version for IP payloads (RFC 4928 §1).
  void Mpls() {
    std::array<uint32_t, 10> labels{};
    uint8_t count = 0;
    bool bottom = false;
    while (!bottom) {
      if (!EnterLayer()) break;
      uint32_t entry = 0;
      if (!in_.ReadU32(&entry)) {
        Truncated();
        break;
      }
      // Stored as IE 70..79 carry it: the top 3 bytes (label, TC, S).
      if (count < labels.size()) labels[count++] = entry >> 8;
      bottom = (entry & 0x100) != 0;
    }
    if (count > 0 && !r_->fields.has(FlowField::kMplsLabels)) {
      r_->mpls_labels = labels;
      r_->mpls_label_count = count;
      r_->fields.set(FlowField::kMplsLabels);
    }
    if (!bottom) return;
    if (in_.empty()) {
      Truncated();
      return;
    }
    switch (in_.data()[0] >> 4) {
      case 4:
        etype_ = kEtherTypeIpv4;
        Ipv4();
        return;
      case 6:
        etype_ = kEtherTypeIpv6;
        Ipv6();
        return;
      default:
        Unsupported();  // pseudowire control word, Ethernet over MPLS...
        return;
    }
  }

  // RFC 791 §3.1.
  void Ipv4() {
    const uint8_t* h = in_.data();
    if (in_.remaining() < 20) {
      Truncated();
      return;
    }
    const uint8_t version = h[0] >> 4;
    const size_t ihl = static_cast<size_t>(h[0] & 0x0F) * 4;
    if (version != 4 || ihl < 20) {
      Unsupported();
      return;
    }
    SetIfAbsent(r_, FlowField::kIpVersion, r_->ip_version, 4);
    SetIfAbsent(r_, FlowField::kTos, r_->tos, h[1]);
    SetIfAbsent(r_, FlowField::kProto, r_->proto, h[9]);
    SetIfAbsent(r_, FlowField::kSrcHost, r_->src_host,
                IpAddress::V4Bytes(h + 12));
    SetIfAbsent(r_, FlowField::kDstHost, r_->dst_host,
                IpAddress::V4Bytes(h + 16));
    const uint16_t fragment_offset = LoadBe16(h + 6) & 0x1FFF;
    const uint8_t proto = h[9];
    if (!in_.Skip(ihl)) {
      Truncated();  // options cut off: addresses are kept, no L4
      return;
    }
    if (fragment_offset != 0) return;  // no L4 header in this fragment
    Transport(proto);
  }

  // RFC 8200 §3: version(4) traffic class(8) flow label(20), payload
  // length(16), next header(8), hop limit(8), src(16), dst(16).
  void Ipv6() {
    const uint8_t* h = in_.data();
    if (in_.remaining() < 40) {
      Truncated();
      return;
    }
    const uint32_t first_word = LoadBe32(h);
    if ((first_word >> 28) != 6) {
      Unsupported();
      return;
    }
    SetIfAbsent(r_, FlowField::kIpVersion, r_->ip_version, 6);
    SetIfAbsent(r_, FlowField::kTos, r_->tos, (first_word >> 20) & 0xFF);
    SetIfAbsent(r_, FlowField::kFlowLabel, r_->flow_label,
                first_word & 0xFFFFF);
    SetIfAbsent(r_, FlowField::kSrcHost, r_->src_host,
                IpAddress::V6Bytes(h + 8));
    SetIfAbsent(r_, FlowField::kDstHost, r_->dst_host,
                IpAddress::V6Bytes(h + 24));
    uint8_t next = h[6];
    in_.Skip(40);
    // Extension headers (RFC 8200 §4). Each is at least 8 bytes, so the
    // loop ends within remaining()/8 iterations.
    for (;;) {
      if (next == kProtoIpv6HopByHop || next == kProtoIpv6Routing ||
          next == kProtoIpv6DestOpts || next == kProtoAh) {
        if (in_.remaining() < 2) break;
        const uint8_t* e = in_.data();
        // AH (RFC 4302 §2.2) counts 4-byte words minus 2; the others
        // count 8-byte units beyond the first (RFC 8200 §4.3).
        const size_t len =
            next == kProtoAh ? (size_t{e[1]} + 2) * 4 : (size_t{e[1]} + 1) * 8;
        const uint8_t following = e[0];
        if (!in_.Skip(len)) break;
        next = following;
        continue;
      }
      if (next == kProtoIpv6Fragment) {
        // RFC 8200 §4.5: next(8) reserved(8) offset(13) res(2) M(1) id(32).
        if (in_.remaining() < 8) break;
        const uint8_t* e = in_.data();
        const uint8_t following = e[0];
        const uint16_t offset = LoadBe16(e + 2) >> 3;
        in_.Skip(8);
        SetIfAbsent(r_, FlowField::kProto, r_->proto, following);
        if (offset != 0) return;  // not the first fragment: no L4 header
        next = following;
        continue;
      }
      SetIfAbsent(r_, FlowField::kProto, r_->proto, next);
      Transport(next);
      return;
    }
    // The extension header chain ran past the sampled bytes. The upper
    // layer protocol is unknown: proto is the extension header's number.
    SetIfAbsent(r_, FlowField::kProto, r_->proto, next);
    Truncated();
  }

  void Transport(uint8_t proto) {
    const uint8_t* l4 = in_.data();
    const size_t n = in_.remaining();
    switch (proto) {
      case kProtoTcp:
        // RFC 9293 §3.1: ports at 0 and 2, flags in byte 13.
        if (n < 4) {
          Truncated();
          return;
        }
        SetIfAbsent(r_, FlowField::kSrcPort, r_->src_port, LoadBe16(l4));
        SetIfAbsent(r_, FlowField::kDstPort, r_->dst_port, LoadBe16(l4 + 2));
        if (n < 14) {
          Truncated();
          return;
        }
        SetIfAbsent(r_, FlowField::kTcpFlags, r_->tcp_flags, l4[13]);
        return;
      case kProtoUdp: {
        // RFC 768.
        if (n < 4) {
          Truncated();
          return;
        }
        const uint16_t dst_port = LoadBe16(l4 + 2);
        SetIfAbsent(r_, FlowField::kSrcPort, r_->src_port, LoadBe16(l4));
        SetIfAbsent(r_, FlowField::kDstPort, r_->dst_port, dst_port);
        if (dst_port == kVxlanPort) Vxlan();
        return;
      }
      case kProtoSctp:
        // RFC 9260 §3.1: common header starts with the two ports.
        if (n < 4) {
          Truncated();
          return;
        }
        SetIfAbsent(r_, FlowField::kSrcPort, r_->src_port, LoadBe16(l4));
        SetIfAbsent(r_, FlowField::kDstPort, r_->dst_port, LoadBe16(l4 + 2));
        return;
      case kProtoIcmp:
      case kProtoIcmpv6:
        // RFC 792 / RFC 4443 §2.1: type(8) code(8).
        if (n < 2) {
          Truncated();
          return;
        }
        SetIfAbsent(r_, FlowField::kIcmpType, r_->icmp_type, l4[0]);
        SetIfAbsent(r_, FlowField::kIcmpCode, r_->icmp_code, l4[1]);
        return;
      default:
        return;  // other protocols: proto is all there is
    }
  }

  // RFC 7348 §5: after the 8-byte UDP header, flags(8) with the I bit
  // (0x08), reserved(24), VNI(24), reserved(8). The inner frame is not
  // parsed (see packet_header.h).
  void Vxlan() {
    if (in_.remaining() < 16) {
      Truncated();
      return;
    }
    const uint8_t* v = in_.data() + 8;
    if ((v[0] & 0x08) == 0) return;  // VNI not valid: not VXLAN after all
    if (!EnterLayer()) return;
    SetIfAbsent(r_, FlowField::kVxlanVni, r_->vxlan_vni, LoadBe24(v + 4));
  }

  ByteReader in_;
  const int max_depth_;
  FlowRecord* const r_;
  uint16_t etype_ = 0;
  HeaderParseResult result_;
};

}  // namespace

HeaderParseResult ParsePacketHeader(std::span<const uint8_t> bytes,
                                    HeaderProtocol first, int max_depth,
                                    FlowRecord* r) {
  HeaderParser parser(bytes, max_depth, r);
  return parser.Run(first);
}

}  // namespace flowacct::internal
