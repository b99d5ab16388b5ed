// File: flowacct/model/flow_record.h
//
// FlowRecord: one decoded flow (NetFlow v5/v9 or IPFIX data record, sFlow
// flow sample) in flowacct's single information model, and CounterRecord: one
// sFlow counter sample. Every protocol fills the same fields; which fields a
// record carries is in its FieldSet (`record.has(FlowField::kSrcHost)`).
//
// Records are fixed-size and trivially copyable. Variable-length values
// (interface and VRF names, application ids, AS paths, custom primitives) are
// not stored inline: a ByteRef points into the arena of the RecordBatch that
// holds the record (see record_batch.h), so a FlowRecord is only meaningful
// together with its batch.
//
// Units: times are nanoseconds since the Unix epoch (UTC); counters are as
// exported (not renormalised by the sampling rate: `sampling_rate` says what
// the exporter sampled at, renormalisation is the aggregator's job).
//
// Thread-safety: value types.

#ifndef FLOWACCT_MODEL_FLOW_RECORD_H_
#define FLOWACCT_MODEL_FLOW_RECORD_H_

#include <array>
#include <cstdint>

#include "flowacct/model/ip_address.h"

namespace flowacct {

// Which protocol a record was decoded from.
enum class ExportProtocol : uint8_t {
  kUnknown = 0,
  kNetflowV5 = 5,
  kNetflowV9 = 9,
  kIpfix = 10,
  kSflowV5 = 105,
};

// pmacct's sample_type: what kind of data record this is.
enum class RecordKind : uint8_t {
  kFlow = 0,     // a traffic flow (or sFlow packet sample)
  kEvent = 1,    // a NAT (NEL) or firewall (NSEL) event without flow counters
  kOptions = 2,  // an options data record (sampler, interface, VRF tables...)
};

// One bit per FlowRecord field. Keep in the order of the members below.
enum class FlowField : uint8_t {
  // Export metadata.
  kExporterPort,
  kObservationDomain,
  kExportSeqno,
  kTemplateId,
  kEngineType,
  kEngineId,
  kSamplerId,
  kSamplingRate,
  kDirection,
  // L2.
  kSrcMac,
  kDstMac,
  kInVlan,
  kOutVlan,
  kInCvlan,
  kOutCvlan,
  kCos,
  kEtype,
  // L3.
  kIpVersion,
  kSrcHost,
  kDstHost,
  kSrcMask,
  kDstMask,
  kSrcNet,
  kDstNet,
  kProto,
  kTos,
  kFlowLabel,
  kIpNextHop,
  kBgpNextHop,
  // L4.
  kSrcPort,
  kDstPort,
  kTcpFlags,
  kIcmpType,
  kIcmpCode,
  // Routing as seen by the exporter.
  kSrcAs,
  kDstAs,
  kPeerSrcAs,
  kPeerDstAs,
  kInIface,
  kOutIface,
  kFwdStatus,
  kLocalPref,
  kAsPath,
  kStdComm,
  // NAT / firewall (NEL, NSEL).
  kNatEvent,
  kFwEvent,
  kPostNatSrcHost,
  kPostNatDstHost,
  kPostNatSrcPort,
  kPostNatDstPort,
  // MPLS / VPN.
  kMplsLabels,
  kMplsVpnRd,
  kMplsPwId,
  kIngressVrfId,
  kEgressVrfId,
  // Tunnels seen in sampled headers.
  kVxlanVni,
  // Time.
  kTimestampStart,
  kTimestampEnd,
  kTimestampExport,
  // Counters.
  kBytes,
  kPackets,
  kFlows,
  kReverseBytes,
  kReversePackets,
  // Classification and names (ByteRef values).
  kApplicationId,
  kInIfaceName,
  kOutIfaceName,
  kVrfName,
  // sFlow sample metadata.
  kSampleSeqno,
  kSourceId,
  kSamplePool,
  kDrops,
  // Tags (set by the tagger, not by decoders).
  kTag,
  kTag2,
  kLabel,
  // BGP attributes the enrich step copies from the RIB (bgp_daemon /
  // bmp_daemon): the destination's route beyond local_pref / as_path /
  // std_comm above, and the source address's route (src_*).
  kMed,
  kExtComm,
  kLrgComm,
  kSrcAsPath,
  kSrcStdComm,
  kSrcExtComm,
  kSrcLrgComm,
  kSrcLocalPref,
  kSrcMed,

  kCount,  // not a field
};

inline constexpr int kFlowFieldCount = static_cast<int>(FlowField::kCount);

// A set of FlowFields; one bit each.
class FieldSet {
 public:
  constexpr bool has(FlowField f) const {
    const int i = static_cast<int>(f);
    return (bits_[i >> 6] >> (i & 63)) & 1;
  }
  constexpr void set(FlowField f) {
    const int i = static_cast<int>(f);
    bits_[i >> 6] |= uint64_t{1} << (i & 63);
  }
  constexpr void clear(FlowField f) {
    const int i = static_cast<int>(f);
    bits_[i >> 6] &= ~(uint64_t{1} << (i & 63));
  }
  constexpr bool empty() const { return (bits_[0] | bits_[1]) == 0; }
  friend constexpr bool operator==(const FieldSet&, const FieldSet&) = default;

 private:
  static_assert(kFlowFieldCount <= 128);
  uint64_t bits_[2] = {0, 0};
};

// A byte range in the owning RecordBatch's arena. length 0 means empty.
struct ByteRef {
  uint32_t offset = 0;
  uint32_t length = 0;
};

// Sentinel ifIndex values used by sFlow (format bits are split off into
// FlowRecord::out_iface_format).
inline constexpr uint32_t kIfIndexUnknown = 0;

struct FlowRecord {
  FieldSet fields;  // which members below carry a value

  bool has(FlowField f) const { return fields.has(f); }

  // --- Export metadata -----------------------------------------------------
  ExportProtocol protocol = ExportProtocol::kUnknown;
  RecordKind kind = RecordKind::kFlow;
  IpAddress exporter;          // peer_src_ip: socket source or sFlow agent /
                               // IPFIX exporterIPv4/v6Address (IE 130/131)
  uint16_t exporter_port = 0;  // UDP source port of the datagram
  // v9 source id, IPFIX observation domain id, sFlow sub-agent id, v5
  // (engine_type << 8 | engine_id). pmacct: export_proto_sysid.
  uint32_t observation_domain = 0;
  uint32_t export_seqno = 0;   // header sequence number (export_proto_seqno)
  uint16_t template_id = 0;    // v9/IPFIX template that decoded the record
  uint8_t engine_type = 0;     // v5 header, v9 IE 38
  uint8_t engine_id = 0;       // v5 header, v9 IE 39
  uint32_t sampler_id = 0;     // IE 48 / 302 (selectorId)
  // Packets sampled 1-in-N as announced by the exporter (v5 header, IE 34/50,
  // 305/306, options data, sFlow sampling_rate). 0 = unknown, 1 = unsampled.
  uint32_t sampling_rate = 0;
  // IE 61 flowDirection: 0 ingress, 1 egress. sFlow: ingress unless set.
  uint8_t direction = 0;

  // --- L2 -----------------------------------------------------------------
  MacAddress src_mac;  // IE 56 (sourceMacAddress) / sampled Ethernet header
  MacAddress dst_mac;  // IE 80 (destinationMacAddress)
  uint16_t in_vlan = 0;    // IE 58 / sFlow extended switch src_vlan / header
  uint16_t out_vlan = 0;   // IE 59 / sFlow extended switch dst_vlan
  uint16_t in_cvlan = 0;   // IE 245 (dot1qCustomerVlanId) / inner 802.1Q tag
  uint16_t out_cvlan = 0;  // IE 255 (postDot1qCustomerVlanId)
  uint8_t cos = 0;         // IE 244 (dot1qPriority) / PCP of the outer tag
  uint16_t etype = 0;      // IE 256 (ethernetType) / sampled header

  // --- L3 -----------------------------------------------------------------
  uint8_t ip_version = 0;  // 4 or 6 (IE 60, or from the addresses)
  IpAddress src_host;      // IE 8 / 27
  IpAddress dst_host;      // IE 12 / 28
  uint8_t src_mask = 0;    // IE 9 / 29
  uint8_t dst_mask = 0;    // IE 13 / 30
  // src_host / dst_host masked to their prefix length. Not decoded: the
  // enrich step fills them (nfacctd_net / networks_file, later BGP).
  IpAddress src_net;
  IpAddress dst_net;
  uint8_t proto = 0;       // IE 4
  uint8_t tos = 0;         // IE 5
  uint32_t flow_label = 0;  // IE 31
  IpAddress ip_next_hop;    // IE 15 / 62 (v5 nexthop)
  IpAddress bgp_next_hop;   // IE 18 / 63 (pmacct: peer_dst_ip)

  // --- L4 -----------------------------------------------------------------
  uint16_t src_port = 0;  // IE 7
  uint16_t dst_port = 0;  // IE 11
  uint16_t tcp_flags = 0;  // IE 6 (1 or 2 bytes on the wire)
  uint8_t icmp_type = 0;   // IE 32 high byte / 176 / 178 / sampled header
  uint8_t icmp_code = 0;   // IE 32 low byte / 177 / 179 / sampled header

  // --- Routing as seen by the exporter ------------------------------------
  uint32_t src_as = 0;       // IE 16
  uint32_t dst_as = 0;       // IE 17
  uint32_t peer_src_as = 0;  // IE 129 (bgpPrevAdjacentAsNumber)
  uint32_t peer_dst_as = 0;  // IE 128 (bgpNextAdjacentAsNumber)
  uint32_t in_iface = 0;     // IE 10 (or 252 when 10 is absent)
  uint32_t out_iface = 0;    // IE 14 (or 253 when 14 is absent)
  // sFlow output interface format bits (0 single, 1 discarded, 2 multiple);
  // out_iface then holds the low 30 bits.
  uint8_t out_iface_format = 0;
  uint32_t fwd_status = 0;   // IE 89 (1 or 4 bytes)
  uint32_t local_pref = 0;   // sFlow extended gateway
  ByteRef as_path;           // big-endian uint32 ASNs, first = neighbour
  ByteRef std_comm;          // big-endian uint32 communities
  // From the BGP RIB (the enrich step), route of the destination address:
  uint32_t med = 0;
  ByteRef ext_comm;  // RFC 4360 extended communities, 8 octets each
  ByteRef lrg_comm;  // RFC 8092 large communities, 12 octets each
  // ... and of the source address (pmacct's src_* primitives), same
  // encodings as the destination side.
  uint32_t src_local_pref = 0;
  uint32_t src_med = 0;
  ByteRef src_as_path;
  ByteRef src_std_comm;
  ByteRef src_ext_comm;
  ByteRef src_lrg_comm;

  // --- NAT / firewall -------------------------------------------------------
  uint8_t nat_event = 0;     // IE 230 (natEvent)
  uint8_t fw_event = 0;      // IE 233 (firewallEvent) / Cisco 40005
  IpAddress post_nat_src_host;  // IE 225 / 281
  IpAddress post_nat_dst_host;  // IE 226 / 282
  uint16_t post_nat_src_port = 0;  // IE 227
  uint16_t post_nat_dst_port = 0;  // IE 228

  // --- MPLS / VPN -----------------------------------------------------------
  // Label stack entries as exported (IE 70..79: 20-bit label, 3 exp bits,
  // bottom-of-stack bit), top first. mpls_label_count of them are valid.
  std::array<uint32_t, 10> mpls_labels{};
  uint8_t mpls_label_count = 0;
  std::array<uint8_t, 8> mpls_vpn_rd{};  // IE 90 (RFC 4364 RD, type + value)
  uint32_t mpls_pw_id = 0;               // IE 249 (pseudoWireId)
  uint32_t ingress_vrf_id = 0;           // IE 234
  uint32_t egress_vrf_id = 0;            // IE 235

  // --- Tunnels --------------------------------------------------------------
  uint32_t vxlan_vni = 0;  // VXLAN header found in a sampled packet

  // --- Time (ns since the Unix epoch) -------------------------------------
  int64_t timestamp_start = 0;    // flow start (first packet)
  int64_t timestamp_end = 0;      // flow end (last packet)
  int64_t timestamp_export = 0;   // export header time
  int64_t timestamp_arrival = 0;  // datagram receive time (always set)

  // --- Counters (as exported) ---------------------------------------------
  uint64_t bytes = 0;    // IE 1 / 85 / 231 (ASA initiator); sFlow frame length
  uint64_t packets = 0;  // IE 2 / 86 / 298; sFlow: 1
  uint64_t flows = 0;    // IE 3, else 1 for flow records
  uint64_t reverse_bytes = 0;    // RFC 5103 reverse IE 1 / ASA responder 232
  uint64_t reverse_packets = 0;  // RFC 5103 reverse IE 2 / ASA 299

  // --- Classification and names (arena values) ----------------------------
  ByteRef application_id;  // IE 95 (classification engine id + selector)
  ByteRef in_iface_name;   // IE 82 (interfaceName) in data records
  ByteRef out_iface_name;  // IE 83 (interfaceDescription) in data records
  ByteRef vrf_name;        // IE 236 (VRFname)

  // --- sFlow sample metadata ------------------------------------------------
  uint32_t sample_seqno = 0;  // flow sample sequence number
  uint32_t source_id = 0;     // (source_id_type << 24) | source_id_index
  uint32_t sample_pool = 0;
  uint32_t drops = 0;

  // --- Tags (tagger) --------------------------------------------------------
  uint64_t tag = 0;
  uint64_t tag2 = 0;
  ByteRef label;

  // --- Custom primitives (aggregate_primitives) ---------------------------
  // custom_count entries starting at custom_begin in RecordBatch::customs().
  uint32_t custom_begin = 0;
  uint16_t custom_count = 0;
};

// An sFlow v5 counter sample (sFlow v5 §5 "counters_sample"), one per
// sample, with the blocks it carried. Non-zero `blocks` bits say which.
struct CounterRecord {
  enum Block : uint32_t {
    kGeneric = 1u << 0,   // counters format 1 (generic interface)
    kEthernet = 1u << 1,  // format 2
    kVlan = 1u << 2,      // format 5
    kProcessor = 1u << 3  // format 1001
  };

  IpAddress agent;
  uint32_t sub_agent_id = 0;
  uint32_t datagram_seqno = 0;
  uint32_t sample_seqno = 0;
  uint32_t source_id = 0;  // (source_id_type << 24) | source_id_index
  int64_t timestamp_arrival = 0;
  uint32_t blocks = 0;
  uint32_t unknown_blocks = 0;  // blocks with formats not decoded

  // Generic interface counters (format 1).
  uint32_t if_index = 0;
  uint32_t if_type = 0;
  uint64_t if_speed = 0;
  uint32_t if_direction = 0;
  uint32_t if_status = 0;
  uint64_t if_in_octets = 0;
  uint32_t if_in_ucast_pkts = 0;
  uint32_t if_in_multicast_pkts = 0;
  uint32_t if_in_broadcast_pkts = 0;
  uint32_t if_in_discards = 0;
  uint32_t if_in_errors = 0;
  uint32_t if_in_unknown_protos = 0;
  uint64_t if_out_octets = 0;
  uint32_t if_out_ucast_pkts = 0;
  uint32_t if_out_multicast_pkts = 0;
  uint32_t if_out_broadcast_pkts = 0;
  uint32_t if_out_discards = 0;
  uint32_t if_out_errors = 0;
  uint32_t if_promiscuous_mode = 0;

  // Ethernet (format 2).
  uint32_t dot3_alignment_errors = 0;
  uint32_t dot3_fcs_errors = 0;
  uint32_t dot3_single_collision_frames = 0;
  uint32_t dot3_multiple_collision_frames = 0;
  uint32_t dot3_sqe_test_errors = 0;
  uint32_t dot3_deferred_transmissions = 0;
  uint32_t dot3_late_collisions = 0;
  uint32_t dot3_excessive_collisions = 0;
  uint32_t dot3_internal_mac_transmit_errors = 0;
  uint32_t dot3_carrier_sense_errors = 0;
  uint32_t dot3_frame_too_longs = 0;
  uint32_t dot3_internal_mac_receive_errors = 0;
  uint32_t dot3_symbol_errors = 0;

  // VLAN (format 5).
  uint32_t vlan_id = 0;
  uint64_t vlan_octets = 0;
  uint32_t vlan_ucast_pkts = 0;
  uint32_t vlan_multicast_pkts = 0;
  uint32_t vlan_broadcast_pkts = 0;
  uint32_t vlan_discards = 0;

  // Processor (format 1001).
  uint32_t cpu_5s_percent = 0;
  uint32_t cpu_1m_percent = 0;
  uint32_t cpu_5m_percent = 0;
  uint64_t total_memory = 0;
  uint64_t free_memory = 0;
};

}  // namespace flowacct

#endif  // FLOWACCT_MODEL_FLOW_RECORD_H_
