#include "libflowacct/decode/information_elements.h"

#include <cstdint>

#include "flowacct/model/primitive_registry.h"

#include "absl/container/flat_hash_map.h"

namespace flowacct::internal {
namespace {

using F = FlowField;
using R = FlowRecord;
using T = IeType;
using C = Converter;

constexpr InformationElement E(uint16_t id, std::string_view name, IeType type,
                               Converter converter, MemberRef member,
                               FlowField field, uint8_t rank = 0,
                               FlowField field2 = F::kCount, uint8_t aux = 0,
                               uint32_t pen = 0) {
  InformationElement ie;
  ie.pen = pen;
  ie.id = id;
  ie.name = name;
  ie.type = type;
  ie.converter = converter;
  ie.member = member;
  ie.field = field;
  ie.field2 = field2;
  ie.rank = rank;
  ie.aux = aux;
  return ie;
}
// An unsigned element into an integer member.
constexpr InformationElement U(uint16_t id, std::string_view name, IeType type,
                               MemberRef member, FlowField field,
                               uint8_t rank = 0) {
  return E(id, name, type, C::kUint, member, field, rank);
}
// A known element without a FlowRecord member.
constexpr InformationElement K(uint16_t id, std::string_view name,
                               IeType type) {
  return E(id, name, type, C::kNone, MemberRef(), F::kCount);
}
constexpr InformationElement Mpls(uint16_t id, std::string_view name,
                                  uint8_t index) {
  // No FlowField: each stack position is its own member (kMplsLabels is set
  // from the compiled label count).
  return E(id, name, T::kOctetArray, C::kMplsLabel, MemberRef(), F::kCount, 0,
           F::kCount, index);
}
// RFC 5103 reverse element.
constexpr InformationElement Rev(uint16_t id, std::string_view name,
                                 MemberRef member, FlowField field,
                                 uint8_t rank) {
  return E(id, name, T::kUnsigned64, C::kUint, member, field, rank, F::kCount,
           0, kReversePen);
}

// Numbers, names and types from the IANA IPFIX registry (RFC 7012 §4 and
// later additions), NetFlow v9 from RFC 3954 §8, NSEL from Cisco's "ASA
// NetFlow Implementation Guide".
constexpr InformationElement kTable[] = {
    U(1, "octetDeltaCount", T::kUnsigned64, &R::bytes, F::kBytes, 0),
    U(2, "packetDeltaCount", T::kUnsigned64, &R::packets, F::kPackets, 0),
    U(3, "deltaFlowCount", T::kUnsigned64, &R::flows, F::kFlows),
    U(4, "protocolIdentifier", T::kUnsigned8, &R::proto, F::kProto),
    U(5, "ipClassOfService", T::kUnsigned8, &R::tos, F::kTos),
    U(6, "tcpControlBits", T::kUnsigned16, &R::tcp_flags, F::kTcpFlags),
    U(7, "sourceTransportPort", T::kUnsigned16, &R::src_port, F::kSrcPort),
    E(8, "sourceIPv4Address", T::kIpv4Address, C::kIpv4, &R::src_host,
      F::kSrcHost),
    U(9, "sourceIPv4PrefixLength", T::kUnsigned8, &R::src_mask, F::kSrcMask),
    U(10, "ingressInterface", T::kUnsigned32, &R::in_iface, F::kInIface, 0),
    U(11, "destinationTransportPort", T::kUnsigned16, &R::dst_port,
      F::kDstPort),
    E(12, "destinationIPv4Address", T::kIpv4Address, C::kIpv4, &R::dst_host,
      F::kDstHost),
    U(13, "destinationIPv4PrefixLength", T::kUnsigned8, &R::dst_mask,
      F::kDstMask),
    U(14, "egressInterface", T::kUnsigned32, &R::out_iface, F::kOutIface, 0),
    E(15, "ipNextHopIPv4Address", T::kIpv4Address, C::kIpv4, &R::ip_next_hop,
      F::kIpNextHop),
    U(16, "bgpSourceAsNumber", T::kUnsigned32, &R::src_as, F::kSrcAs),
    U(17, "bgpDestinationAsNumber", T::kUnsigned32, &R::dst_as, F::kDstAs),
    E(18, "bgpNextHopIPv4Address", T::kIpv4Address, C::kIpv4, &R::bgp_next_hop,
      F::kBgpNextHop),
    // v9 LAST_SWITCHED / FIRST_SWITCHED (RFC 3954 §8): sysUptime ms.
    E(21, "flowEndSysUpTime", T::kUnsigned32, C::kSysUpTime, &R::timestamp_end,
      F::kTimestampEnd, 1),
    E(22, "flowStartSysUpTime", T::kUnsigned32, C::kSysUpTime,
      &R::timestamp_start, F::kTimestampStart, 1),
    // v9 OUT_BYTES / OUT_PKTS: used only without IE 1/2 (peers Q41).
    U(23, "postOctetDeltaCount", T::kUnsigned64, &R::bytes, F::kBytes, 3),
    U(24, "postPacketDeltaCount", T::kUnsigned64, &R::packets, F::kPackets, 3),
    E(27, "sourceIPv6Address", T::kIpv6Address, C::kIpv6, &R::src_host,
      F::kSrcHost),
    E(28, "destinationIPv6Address", T::kIpv6Address, C::kIpv6, &R::dst_host,
      F::kDstHost),
    U(29, "sourceIPv6PrefixLength", T::kUnsigned8, &R::src_mask, F::kSrcMask),
    U(30, "destinationIPv6PrefixLength", T::kUnsigned8, &R::dst_mask,
      F::kDstMask),
    U(31, "flowLabelIPv6", T::kUnsigned32, &R::flow_label, F::kFlowLabel),
    E(32, "icmpTypeCodeIPv4", T::kUnsigned16, C::kIcmpTypeCode, MemberRef(),
      F::kIcmpType, 0, F::kIcmpCode),
    U(34, "samplingInterval", T::kUnsigned32, &R::sampling_rate,
      F::kSamplingRate, 0),
    K(35, "samplingAlgorithm", T::kUnsigned8),
    U(38, "engineType", T::kUnsigned8, &R::engine_type, F::kEngineType),
    U(39, "engineId", T::kUnsigned8, &R::engine_id, F::kEngineId),
    // samplerId is unsigned8 in RFC 3954/IANA, but exporters send 2 and 4
    // bytes (v9 FLOW_SAMPLER_ID); accept up to 4.
    // The BGP next hop of MPLS-switched flows (Cisco): pmacct's peer_dst_ip
    // when bgpNextHopIPv4Address (18) is absent or 0.0.0.0.
    E(47, "mplsTopLabelIPv4Address", T::kIpv4Address, C::kMplsTopLabelAddress,
      MemberRef(), F::kCount),
    U(48, "samplerId", T::kUnsigned32, &R::sampler_id, F::kSamplerId, 0),
    K(49, "samplerMode", T::kUnsigned8),
    U(50, "samplerRandomInterval", T::kUnsigned32, &R::sampling_rate,
      F::kSamplingRate, 1),
    E(56, "sourceMacAddress", T::kMacAddress, C::kMac, &R::src_mac, F::kSrcMac),
    U(58, "vlanId", T::kUnsigned16, &R::in_vlan, F::kInVlan, 0),
    U(59, "postVlanId", T::kUnsigned16, &R::out_vlan, F::kOutVlan, 0),
    U(60, "ipVersion", T::kUnsigned8, &R::ip_version, F::kIpVersion),
    U(61, "flowDirection", T::kUnsigned8, &R::direction, F::kDirection),
    E(62, "ipNextHopIPv6Address", T::kIpv6Address, C::kIpv6, &R::ip_next_hop,
      F::kIpNextHop),
    E(63, "bgpNextHopIPv6Address", T::kIpv6Address, C::kIpv6, &R::bgp_next_hop,
      F::kBgpNextHop),
    Mpls(70, "mplsTopLabelStackSection", 0),
    Mpls(71, "mplsLabelStackSection2", 1),
    Mpls(72, "mplsLabelStackSection3", 2),
    Mpls(73, "mplsLabelStackSection4", 3),
    Mpls(74, "mplsLabelStackSection5", 4),
    Mpls(75, "mplsLabelStackSection6", 5),
    Mpls(76, "mplsLabelStackSection7", 6),
    Mpls(77, "mplsLabelStackSection8", 7),
    Mpls(78, "mplsLabelStackSection9", 8),
    Mpls(79, "mplsLabelStackSection10", 9),
    E(80, "destinationMacAddress", T::kMacAddress, C::kMac, &R::dst_mac,
      F::kDstMac),
    E(82, "interfaceName", T::kString, C::kBytes, &R::in_iface_name,
      F::kInIfaceName),
    E(83, "interfaceDescription", T::kString, C::kBytes, &R::out_iface_name,
      F::kOutIfaceName),
    U(85, "octetTotalCount", T::kUnsigned64, &R::bytes, F::kBytes, 1),
    U(86, "packetTotalCount", T::kUnsigned64, &R::packets, F::kPackets, 1),
    // unsigned8 in RFC 7012, unsigned32 since the IANA revision
    // (draft-ietf-opsawg-ipfix-fixes); both widths are seen (peers Q8).
    U(89, "forwardingStatus", T::kUnsigned32, &R::fwd_status, F::kFwdStatus),
    E(90, "mplsVpnRouteDistinguisher", T::kOctetArray, C::kRouteDistinguisher,
      &R::mpls_vpn_rd, F::kMplsVpnRd),
    E(95, "applicationId", T::kOctetArray, C::kBytes, &R::application_id,
      F::kApplicationId),
    // v9 layer2packetSection (Cisco Catalyst "NetFlow Lite", peers Q13).
    E(104, "layer2packetSectionData", T::kOctetArray, C::kPacketSection,
      MemberRef(), F::kCount),
    U(128, "bgpNextAdjacentAsNumber", T::kUnsigned32, &R::peer_dst_as,
      F::kPeerDstAs),
    U(129, "bgpPrevAdjacentAsNumber", T::kUnsigned32, &R::peer_src_as,
      F::kPeerSrcAs),
    E(130, "exporterIPv4Address", T::kIpv4Address, C::kExporterAddress,
      &R::exporter, F::kCount),
    E(131, "exporterIPv6Address", T::kIpv6Address, C::kExporterAddress,
      &R::exporter, F::kCount),
    E(139, "icmpTypeCodeIPv6", T::kUnsigned16, C::kIcmpTypeCode, MemberRef(),
      F::kIcmpType, 0, F::kIcmpCode),
    E(150, "flowStartSeconds", T::kDateTimeSeconds, C::kTimeSeconds,
      &R::timestamp_start, F::kTimestampStart),
    E(151, "flowEndSeconds", T::kDateTimeSeconds, C::kTimeSeconds,
      &R::timestamp_end, F::kTimestampEnd),
    E(152, "flowStartMilliseconds", T::kDateTimeMilliseconds,
      C::kTimeMilliseconds, &R::timestamp_start, F::kTimestampStart),
    E(153, "flowEndMilliseconds", T::kDateTimeMilliseconds,
      C::kTimeMilliseconds, &R::timestamp_end, F::kTimestampEnd),
    E(154, "flowStartMicroseconds", T::kDateTimeMicroseconds, C::kTimeNtp,
      &R::timestamp_start, F::kTimestampStart),
    E(155, "flowEndMicroseconds", T::kDateTimeMicroseconds, C::kTimeNtp,
      &R::timestamp_end, F::kTimestampEnd),
    E(156, "flowStartNanoseconds", T::kDateTimeNanoseconds, C::kTimeNtp,
      &R::timestamp_start, F::kTimestampStart),
    E(157, "flowEndNanoseconds", T::kDateTimeNanoseconds, C::kTimeNtp,
      &R::timestamp_end, F::kTimestampEnd),
    E(160, "systemInitTimeMilliseconds", T::kDateTimeMilliseconds,
      C::kSysInitTime, MemberRef(), F::kCount),
    U(176, "icmpTypeIPv4", T::kUnsigned8, &R::icmp_type, F::kIcmpType, 1),
    U(177, "icmpCodeIPv4", T::kUnsigned8, &R::icmp_code, F::kIcmpCode, 1),
    U(178, "icmpTypeIPv6", T::kUnsigned8, &R::icmp_type, F::kIcmpType, 1),
    U(179, "icmpCodeIPv6", T::kUnsigned8, &R::icmp_code, F::kIcmpCode, 1),
    E(225, "postNATSourceIPv4Address", T::kIpv4Address, C::kIpv4,
      &R::post_nat_src_host, F::kPostNatSrcHost),
    E(226, "postNATDestinationIPv4Address", T::kIpv4Address, C::kIpv4,
      &R::post_nat_dst_host, F::kPostNatDstHost),
    U(227, "postNAPTSourceTransportPort", T::kUnsigned16, &R::post_nat_src_port,
      F::kPostNatSrcPort),
    U(228, "postNAPTDestinationTransportPort", T::kUnsigned16,
      &R::post_nat_dst_port, F::kPostNatDstPort),
    U(230, "natEvent", T::kUnsigned8, &R::nat_event, F::kNatEvent),
    // Cisco ASA (peers Q1): initiator = forward, responder = reverse.
    U(231, "initiatorOctets", T::kUnsigned64, &R::bytes, F::kBytes, 2),
    U(232, "responderOctets", T::kUnsigned64, &R::reverse_bytes,
      F::kReverseBytes, 2),
    U(233, "firewallEvent", T::kUnsigned8, &R::fw_event, F::kFwEvent, 0),
    U(234, "ingressVRFID", T::kUnsigned32, &R::ingress_vrf_id,
      F::kIngressVrfId),
    U(235, "egressVRFID", T::kUnsigned32, &R::egress_vrf_id, F::kEgressVrfId),
    E(236, "VRFname", T::kString, C::kBytes, &R::vrf_name, F::kVrfName),
    U(243, "dot1qVlanId", T::kUnsigned16, &R::in_vlan, F::kInVlan, 1),
    U(244, "dot1qPriority", T::kUnsigned8, &R::cos, F::kCos),
    U(245, "dot1qCustomerVlanId", T::kUnsigned16, &R::in_cvlan, F::kInCvlan),
    U(249, "pseudoWireId", T::kUnsigned32, &R::mpls_pw_id, F::kMplsPwId),
    U(252, "ingressPhysicalInterface", T::kUnsigned32, &R::in_iface,
      F::kInIface, 1),
    U(253, "egressPhysicalInterface", T::kUnsigned32, &R::out_iface,
      F::kOutIface, 1),
    U(254, "postDot1qVlanId", T::kUnsigned16, &R::out_vlan, F::kOutVlan, 1),
    U(255, "postDot1qCustomerVlanId", T::kUnsigned16, &R::out_cvlan,
      F::kOutCvlan),
    U(256, "ethernetType", T::kUnsigned16, &R::etype, F::kEtype),
    E(281, "postNATSourceIPv6Address", T::kIpv6Address, C::kIpv6,
      &R::post_nat_src_host, F::kPostNatSrcHost),
    E(282, "postNATDestinationIPv6Address", T::kIpv6Address, C::kIpv6,
      &R::post_nat_dst_host, F::kPostNatDstHost),
    // RFC 6313 structured data: skipped whole, never recursed into (NF-22).
    E(291, "basicList", T::kList, C::kOpaqueList, MemberRef(), F::kCount),
    E(292, "subTemplateList", T::kList, C::kOpaqueList, MemberRef(), F::kCount),
    E(293, "subTemplateMultiList", T::kList, C::kOpaqueList, MemberRef(),
      F::kCount),
    U(298, "initiatorPackets", T::kUnsigned64, &R::packets, F::kPackets, 2),
    U(299, "responderPackets", T::kUnsigned64, &R::reverse_packets,
      F::kReversePackets, 2),
    U(302, "selectorId", T::kUnsigned64, &R::sampler_id, F::kSamplerId, 1),
    E(305, "samplingPacketInterval", T::kUnsigned32, C::kPacketInterval,
      MemberRef(), F::kCount),
    E(306, "samplingPacketSpace", T::kUnsigned32, C::kPacketSpace, MemberRef(),
      F::kCount),
    E(315, "dataLinkFrameSection", T::kOctetArray, C::kPacketSection,
      MemberRef(), F::kCount),
    // NSEL / NEL event time (NF_F_EVENT_TIME_MSEC): the start when nothing
    // better is in the record. An event has no end: timestamp_end stays
    // absent, as in pmacct.
    E(323, "observationTimeMilliseconds", T::kDateTimeMilliseconds,
      C::kObservationTime, MemberRef(), F::kTimestampStart, 2),
    // Cisco ASA NSEL v9 types (peers Q1).
    K(33000, "NF_F_INGRESS_ACL_ID", T::kOctetArray),
    K(33001, "NF_F_EGRESS_ACL_ID", T::kOctetArray),
    K(33002, "NF_F_FW_EXT_EVENT", T::kUnsigned16),
    K(40000, "NF_F_USERNAME", T::kString),
    E(40001, "NF_F_XLATE_SRC_ADDR_IPV4", T::kIpv4Address, C::kIpv4,
      &R::post_nat_src_host, F::kPostNatSrcHost, 1),
    E(40002, "NF_F_XLATE_DST_ADDR_IPV4", T::kIpv4Address, C::kIpv4,
      &R::post_nat_dst_host, F::kPostNatDstHost, 1),
    U(40003, "NF_F_XLATE_SRC_PORT", T::kUnsigned16, &R::post_nat_src_port,
      F::kPostNatSrcPort, 1),
    U(40004, "NF_F_XLATE_DST_PORT", T::kUnsigned16, &R::post_nat_dst_port,
      F::kPostNatDstPort, 1),
    U(40005, "NF_F_FW_EVENT", T::kUnsigned8, &R::fw_event, F::kFwEvent, 1),
    // RFC 5103 reverse counters.
    Rev(1, "reverseOctetDeltaCount", &R::reverse_bytes, F::kReverseBytes, 0),
    Rev(2, "reversePacketDeltaCount", &R::reverse_packets, F::kReversePackets,
        0),
    Rev(85, "reverseOctetTotalCount", &R::reverse_bytes, F::kReverseBytes, 1),
    Rev(86, "reversePacketTotalCount", &R::reverse_packets, F::kReversePackets,
        1),
};

uint64_t Key(uint32_t pen, uint16_t id) { return (uint64_t{pen} << 16) | id; }

const absl::flat_hash_map<uint64_t, const InformationElement*>& Index() {
  static const auto* index = [] {
    auto* m = new absl::flat_hash_map<uint64_t, const InformationElement*>();
    for (const InformationElement& ie : kTable) {
      m->emplace(Key(ie.pen, ie.id), &ie);
    }
    return m;
  }();
  return *index;
}

}  // namespace

const InformationElement* FindInformationElement(uint32_t pen, uint16_t id,
                                                 bool reverse) {
  if (reverse && pen == 0) pen = kReversePen;
  const auto& index = Index();
  auto it = index.find(Key(pen, id));
  return it == index.end() ? nullptr : it->second;
}

std::span<const InformationElement> InformationElements() { return kTable; }

bool IsValidLength(const InformationElement& ie, uint16_t length) {
  if (length == kVariableLength) {
    return ie.type == T::kString || ie.type == T::kOctetArray ||
           ie.type == T::kList;
  }
  switch (ie.type) {
    case T::kUnsigned8:
      return length == 1;
    case T::kUnsigned16:
      return length >= 1 && length <= 2;
    case T::kUnsigned32:
      return length >= 1 && length <= 4;
    case T::kUnsigned64:
      return length >= 1 && length <= 8;
    case T::kIpv4Address:
      return length == 4;
    case T::kIpv6Address:
      return length == 16;
    case T::kMacAddress:
      return length == 6;
    // RFC 7011 §6.1.7/§6.1.8 fix 4 and 8 bytes; reduced and widened
    // encodings are read as unsigned integers all the same.
    case T::kDateTimeSeconds:
    case T::kDateTimeMilliseconds:
      return length >= 1 && length <= 8;
    case T::kDateTimeMicroseconds:
    case T::kDateTimeNanoseconds:
      return length == 8;
    case T::kString:
    case T::kOctetArray:
    case T::kList:
      break;
  }
  // Octet arrays with a fixed shape.
  switch (ie.converter) {
    case C::kMplsLabel:
      return length >= 1 && length <= 4;  // 3 on the wire (RFC 7012)
    case C::kRouteDistinguisher:
      return length == 8;
    default:
      return true;
  }
}

}  // namespace flowacct::internal
