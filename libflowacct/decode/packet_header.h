// ParsePacketHeader: the bounded parser for sampled packet headers -- the
// first bytes of a packet as an sFlow agent (sFlow v5 "sampled_header",
// flow record 0:1) or an IPFIX exporter (IE 315 dataLinkFrameSection,
// RFC 7133 §4.8) copied them.
//
// What it walks, outermost first:
//   Ethernet II (IEEE 802.3 with an LLC header stops the walk)
//   802.1Q / 802.1ad (0x88a8) / legacy QinQ (0x9100) tags
//   MPLS label stacks (RFC 3032), followed by IPv4 or IPv6 guessed from the
//     first nibble after the bottom-of-stack entry (RFC 4385 note)
//   IPv4 (RFC 791), IPv6 (RFC 8200) with hop-by-hop, routing, destination
//     options, fragment (RFC 8200 §4) and AH (RFC 4302) extension headers
//   TCP, UDP, SCTP ports; TCP flags; ICMP / ICMPv6 type and code
//   VXLAN (RFC 7348) on UDP destination port 4789: the VNI is recorded.
//
// Tunnels (decision): the record describes the OUTER packet, the one the
// sampling device forwarded. A VXLAN header only adds `vxlan_vni`; IP-in-IP,
// GRE and the frame inside VXLAN are not parsed, because mixing inner ports
// with outer addresses in one record would describe no real flow. An
// IPv4 fragment with a non-zero offset (or an IPv6 fragment header with a
// non-zero offset) has no L4 header: ports/flags stay unset.
//
// Bounds: every read is checked against `bytes`; nothing past its end is
// read. Each VLAN tag, each MPLS label entry and a VXLAN header is one
// encapsulation layer;
// at most `max_depth` of them are walked (SF-10). Progress through IPv6
// extension headers is bounded by the bytes themselves (each is >= 8 bytes).
//
// Thread-safety: a pure function.

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_PACKET_HEADER_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_PACKET_HEADER_H_

#include <cstdint>
#include <span>

#include "flowacct/model/flow_record.h"

namespace flowacct::internal {

// What the first byte of `bytes` is.
enum class HeaderProtocol : uint8_t { kEthernet, kIpv4, kIpv6, kMpls };

struct HeaderParseResult {
  // The bytes ended inside a header the parser needed (SF-10). Fields from
  // the complete headers before it are set.
  bool truncated = false;
  // The walk stopped at something it does not parse: a non-IP ethertype
  // (ARP, LLC), a bad IP version / header length, an MPLS payload that is
  // neither IPv4 nor IPv6, or more than `max_depth` encapsulation layers.
  bool unsupported = false;
  // Encapsulation layers walked (VLAN tags + MPLS label entries + VXLAN).
  int depth = 0;
};

// Parses a sampled packet header starting with protocol `first`, walking at
// most `max_depth` encapsulation layers. Sets only FlowRecord fields that
// are NOT already present in r->fields (callers may pre-fill, e.g. from
// sFlow extended records), and marks each field it sets. Fields it may set:
// src_mac, dst_mac, in_vlan (outer tag), in_cvlan (second tag), cos (PCP of
// the outer tag), etype (ethertype of the innermost L3 header reached, or
// the last ethertype seen when no L3 header follows), mpls_labels /
// mpls_label_count (top first, at most 10 kept), ip_version, src_host,
// dst_host, proto, tos (IPv4 TOS / IPv6 traffic class), flow_label,
// src_port, dst_port, tcp_flags, icmp_type, icmp_code, vxlan_vni.
// Never reads outside `bytes`; never allocates.
HeaderParseResult ParsePacketHeader(std::span<const uint8_t> bytes,
                                    HeaderProtocol first, int max_depth,
                                    FlowRecord* r);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_PACKET_HEADER_H_
