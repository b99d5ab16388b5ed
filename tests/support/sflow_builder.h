// SflowBuilder: builds sFlow v5 datagrams (XDR) for tests and benchmarks,
// and PacketBuilder: sampled packet headers (Ethernet, 802.1Q, MPLS, IPv4,
// IPv6, TCP/UDP/ICMP, VXLAN) to put in raw-header flow records.
//
//   PacketBuilder p;
//   p.Ethernet(kDstMac, kSrcMac, 0x0800).Ipv4(0x0a000001, 0x0a000002, 6)
//       .Tcp(1234, 80, 0x12);
//   SflowBuilder s;
//   s.BeginFlowSample({.sequence = 1, .source_id = 3, .sampling_rate = 512})
//       .RawHeader(1, 1514, 4, p.bytes())
//       .ExtendedSwitch(10, 0, 20, 0)
//       .EndSample();
//   std::vector<uint8_t> d = s.Build();
//
// Lengths (sample, record, num_samples, record counts) are patched in
// automatically unless a test overrides them to build hostile input.

#ifndef FLOWACCT_TESTS_SUPPORT_SFLOW_BUILDER_H_
#define FLOWACCT_TESTS_SUPPORT_SFLOW_BUILDER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tests/support/bytes_builder.h"

namespace flowacct::testing {

using Mac = std::array<uint8_t, 6>;
using Ip6 = std::array<uint8_t, 16>;

class PacketBuilder {
 public:
  PacketBuilder& Ethernet(const Mac& dst, const Mac& src, uint16_t type);
  PacketBuilder& Vlan(uint16_t tci, uint16_t next_type);
  PacketBuilder& Mpls(uint32_t label, uint8_t tc, bool bottom, uint8_t ttl);
  // 20-byte header (ihl 5) unless `options_words` > 0.
  PacketBuilder& Ipv4(uint32_t src, uint32_t dst, uint8_t proto,
                      uint8_t tos = 0, uint16_t frag_offset = 0,
                      int options_words = 0);
  PacketBuilder& Ipv6(const Ip6& src, const Ip6& dst, uint8_t next_header,
                      uint8_t traffic_class = 0, uint32_t flow_label = 0);
  // Generic extension header of (len_units + 1) * 8 bytes.
  PacketBuilder& Ipv6Ext(uint8_t next_header, uint8_t len_units);
  PacketBuilder& Ipv6Fragment(uint8_t next_header, uint16_t offset);
  PacketBuilder& Tcp(uint16_t src, uint16_t dst, uint8_t flags);
  PacketBuilder& Udp(uint16_t src, uint16_t dst);
  PacketBuilder& Icmp(uint8_t type, uint8_t code);
  PacketBuilder& Vxlan(uint32_t vni);
  PacketBuilder& Payload(size_t n);

  const std::vector<uint8_t>& bytes() const { return b_.bytes(); }
  size_t size() const { return b_.size(); }

 private:
  BytesBuilder b_;
};

struct FlowSampleFields {
  uint32_t sequence = 1;
  uint32_t source_id_type = 0;
  uint32_t source_id_index = 1;
  uint32_t sampling_rate = 1000;
  uint32_t sample_pool = 1000;
  uint32_t drops = 0;
  uint32_t input_format = 0;
  uint32_t input = 1;
  uint32_t output_format = 0;
  uint32_t output = 2;
};

struct CounterSampleFields {
  uint32_t sequence = 1;
  uint32_t source_id_type = 0;
  uint32_t source_id_index = 1;
};

class SflowBuilder {
 public:
  // Datagram header fields.
  uint32_t version = 5;
  uint32_t agent_type = 1;  // 1 IPv4, 2 IPv6, else written as-is
  std::array<uint8_t, 16> agent{192, 0, 2, 1};
  uint32_t sub_agent_id = 0;
  uint32_t sequence = 1;
  uint32_t uptime_ms = 1000;
  std::optional<uint32_t> num_samples;  // default: samples added

  SflowBuilder& BeginFlowSample(const FlowSampleFields& f,
                                bool expanded = false);
  SflowBuilder& BeginCounterSample(const CounterSampleFields& f,
                                   bool expanded = false);
  // Closes the open sample, patching its length and record count.
  // `length_delta` is added to the patched sample length (hostile tests).
  SflowBuilder& EndSample(int length_delta = 0);
  // A whole sample with a raw body (unknown formats, hostile lengths).
  SflowBuilder& RawSample(uint32_t format, std::span<const uint8_t> body,
                          std::optional<uint32_t> length = std::nullopt);

  // Records inside the open sample.
  SflowBuilder& Record(uint32_t format, std::span<const uint8_t> body,
                       std::optional<uint32_t> length = std::nullopt);
  SflowBuilder& RawHeader(uint32_t protocol, uint32_t frame_length,
                          uint32_t stripped, std::span<const uint8_t> header,
                          std::optional<uint32_t> header_length = std::nullopt);
  SflowBuilder& EthernetData(uint32_t length, const Mac& src, const Mac& dst,
                             uint32_t type);
  SflowBuilder& Ipv4Data(uint32_t length, uint32_t proto, uint32_t src,
                         uint32_t dst, uint32_t src_port, uint32_t dst_port,
                         uint32_t tcp_flags, uint32_t tos);
  SflowBuilder& Ipv6Data(uint32_t length, uint32_t proto, const Ip6& src,
                         const Ip6& dst, uint32_t src_port, uint32_t dst_port,
                         uint32_t tcp_flags, uint32_t priority);
  SflowBuilder& ExtendedSwitch(uint32_t src_vlan, uint32_t src_priority,
                               uint32_t dst_vlan, uint32_t dst_priority);
  SflowBuilder& ExtendedRouter(uint32_t next_hop_v4, uint32_t src_mask,
                               uint32_t dst_mask);
  struct AsPathSegment {
    uint32_t type = 2;  // 1 AS_SET, 2 AS_SEQUENCE
    std::vector<uint32_t> asns;
  };
  SflowBuilder& ExtendedGateway(uint32_t next_hop_v4, uint32_t router_as,
                                uint32_t src_as, uint32_t src_peer_as,
                                const std::vector<AsPathSegment>& path,
                                const std::vector<uint32_t>& communities,
                                uint32_t local_pref);
  // Counter records.
  SflowBuilder& GenericCounters(uint32_t if_index, uint64_t speed,
                                uint64_t in_octets, uint64_t out_octets);
  SflowBuilder& ProcessorCounters(uint32_t cpu5s, uint64_t total_memory,
                                  uint64_t free_memory);

  std::vector<uint8_t> Build() const;

 private:
  BytesBuilder samples_;
  size_t n_samples_ = 0;
  // Open sample bookkeeping.
  bool open_ = false;
  size_t sample_len_at_ = 0;
  size_t record_count_at_ = 0;
  uint32_t n_records_ = 0;
};

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_SFLOW_BUILDER_H_
