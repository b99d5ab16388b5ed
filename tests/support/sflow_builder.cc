#include "tests/support/sflow_builder.h"

namespace flowacct::testing {

// --- PacketBuilder -----------------------------------------------------------

PacketBuilder& PacketBuilder::Ethernet(const Mac& dst, const Mac& src,
                                       uint16_t type) {
  b_.Bytes(dst).Bytes(src).U16(type);
  return *this;
}

PacketBuilder& PacketBuilder::Vlan(uint16_t tci, uint16_t next_type) {
  b_.U16(tci).U16(next_type);
  return *this;
}

PacketBuilder& PacketBuilder::Mpls(uint32_t label, uint8_t tc, bool bottom,
                                   uint8_t ttl) {
  b_.U32((label << 12) | (uint32_t{tc} << 9) | (bottom ? 0x100u : 0u) | ttl);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4(uint32_t src, uint32_t dst, uint8_t proto,
                                   uint8_t tos, uint16_t frag_offset,
                                   int options_words) {
  b_.U8(0x45 + options_words).U8(tos).U16(1500).U16(0x1234);
  b_.U16(frag_offset & 0x1FFF).U8(64).U8(proto).U16(0);
  b_.U32(src).U32(dst);
  b_.Zeros(size_t(options_words) * 4);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6(const Ip6& src, const Ip6& dst,
                                   uint8_t next_header, uint8_t traffic_class,
                                   uint32_t flow_label) {
  b_.U32((6u << 28) | (uint32_t{traffic_class} << 20) | (flow_label & 0xFFFFF));
  b_.U16(1000).U8(next_header).U8(64);
  b_.Bytes(src).Bytes(dst);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Ext(uint8_t next_header, uint8_t len_units) {
  b_.U8(next_header).U8(len_units).Zeros(6 + size_t(len_units) * 8);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Fragment(uint8_t next_header,
                                           uint16_t offset) {
  b_.U8(next_header).U8(0).U16(uint32_t(offset) << 3).U32(0xCAFE);
  return *this;
}

PacketBuilder& PacketBuilder::Tcp(uint16_t src, uint16_t dst, uint8_t flags) {
  b_.U16(src).U16(dst).U32(1).U32(0).U8(0x50).U8(flags).U16(65535);
  b_.U16(0).U16(0);
  return *this;
}

PacketBuilder& PacketBuilder::Udp(uint16_t src, uint16_t dst) {
  b_.U16(src).U16(dst).U16(100).U16(0);
  return *this;
}

PacketBuilder& PacketBuilder::Icmp(uint8_t type, uint8_t code) {
  b_.U8(type).U8(code).U16(0).U32(0);
  return *this;
}

PacketBuilder& PacketBuilder::Vxlan(uint32_t vni) {
  b_.U8(0x08).U24(0).U24(vni).U8(0);
  return *this;
}

PacketBuilder& PacketBuilder::Payload(size_t n) {
  for (size_t i = 0; i < n; ++i) b_.U8(uint8_t(i));
  return *this;
}

// --- SflowBuilder ------------------------------------------------------------

SflowBuilder& SflowBuilder::BeginFlowSample(const FlowSampleFields& f,
                                            bool expanded) {
  samples_.U32(expanded ? 3 : 1);
  sample_len_at_ = samples_.Mark();
  samples_.U32(0);
  samples_.U32(f.sequence);
  if (expanded) {
    samples_.U32(f.source_id_type).U32(f.source_id_index);
  } else {
    samples_.U32((f.source_id_type << 24) | (f.source_id_index & 0xFFFFFF));
  }
  samples_.U32(f.sampling_rate).U32(f.sample_pool).U32(f.drops);
  if (expanded) {
    samples_.U32(f.input_format).U32(f.input);
    samples_.U32(f.output_format).U32(f.output);
  } else {
    samples_.U32((f.input_format << 30) | (f.input & 0x3FFFFFFF));
    samples_.U32((f.output_format << 30) | (f.output & 0x3FFFFFFF));
  }
  record_count_at_ = samples_.Mark();
  samples_.U32(0);
  n_records_ = 0;
  open_ = true;
  return *this;
}

SflowBuilder& SflowBuilder::BeginCounterSample(const CounterSampleFields& f,
                                               bool expanded) {
  samples_.U32(expanded ? 4 : 2);
  sample_len_at_ = samples_.Mark();
  samples_.U32(0);
  samples_.U32(f.sequence);
  if (expanded) {
    samples_.U32(f.source_id_type).U32(f.source_id_index);
  } else {
    samples_.U32((f.source_id_type << 24) | (f.source_id_index & 0xFFFFFF));
  }
  record_count_at_ = samples_.Mark();
  samples_.U32(0);
  n_records_ = 0;
  open_ = true;
  return *this;
}

SflowBuilder& SflowBuilder::EndSample(int length_delta) {
  const size_t len = samples_.size() - sample_len_at_ - 4;
  samples_.PatchU32(sample_len_at_, uint32_t(int64_t(len) + length_delta));
  samples_.PatchU32(record_count_at_, n_records_);
  open_ = false;
  ++n_samples_;
  return *this;
}

SflowBuilder& SflowBuilder::RawSample(uint32_t format,
                                      std::span<const uint8_t> body,
                                      std::optional<uint32_t> length) {
  samples_.U32(format).U32(length ? *length : body.size()).Bytes(body);
  ++n_samples_;
  return *this;
}

SflowBuilder& SflowBuilder::Record(uint32_t format,
                                   std::span<const uint8_t> body,
                                   std::optional<uint32_t> length) {
  samples_.U32(format).U32(length ? *length : body.size()).Bytes(body);
  ++n_records_;
  return *this;
}

SflowBuilder& SflowBuilder::RawHeader(uint32_t protocol, uint32_t frame_length,
                                      uint32_t stripped,
                                      std::span<const uint8_t> header,
                                      std::optional<uint32_t> header_length) {
  BytesBuilder b;
  b.U32(protocol).U32(frame_length).U32(stripped);
  b.U32(header_length ? *header_length : header.size()).Bytes(header);
  while (b.size() % 4 != 0) b.U8(0);
  return Record(1, b.bytes());
}

SflowBuilder& SflowBuilder::EthernetData(uint32_t length, const Mac& src,
                                         const Mac& dst, uint32_t type) {
  BytesBuilder b;
  b.U32(length).Bytes(src).U16(0).Bytes(dst).U16(0).U32(type);
  return Record(2, b.bytes());
}

SflowBuilder& SflowBuilder::Ipv4Data(uint32_t length, uint32_t proto,
                                     uint32_t src, uint32_t dst,
                                     uint32_t src_port, uint32_t dst_port,
                                     uint32_t tcp_flags, uint32_t tos) {
  BytesBuilder b;
  b.U32(length).U32(proto).U32(src).U32(dst).U32(src_port).U32(dst_port);
  b.U32(tcp_flags).U32(tos);
  return Record(3, b.bytes());
}

SflowBuilder& SflowBuilder::Ipv6Data(uint32_t length, uint32_t proto,
                                     const Ip6& src, const Ip6& dst,
                                     uint32_t src_port, uint32_t dst_port,
                                     uint32_t tcp_flags, uint32_t priority) {
  BytesBuilder b;
  b.U32(length).U32(proto).Bytes(src).Bytes(dst).U32(src_port).U32(dst_port);
  b.U32(tcp_flags).U32(priority);
  return Record(4, b.bytes());
}

SflowBuilder& SflowBuilder::ExtendedSwitch(uint32_t src_vlan,
                                           uint32_t src_priority,
                                           uint32_t dst_vlan,
                                           uint32_t dst_priority) {
  BytesBuilder b;
  b.U32(src_vlan).U32(src_priority).U32(dst_vlan).U32(dst_priority);
  return Record(1001, b.bytes());
}

SflowBuilder& SflowBuilder::ExtendedRouter(uint32_t next_hop_v4,
                                           uint32_t src_mask,
                                           uint32_t dst_mask) {
  BytesBuilder b;
  b.U32(1).U32(next_hop_v4).U32(src_mask).U32(dst_mask);
  return Record(1002, b.bytes());
}

SflowBuilder& SflowBuilder::ExtendedGateway(
    uint32_t next_hop_v4, uint32_t router_as, uint32_t src_as,
    uint32_t src_peer_as, const std::vector<AsPathSegment>& path,
    const std::vector<uint32_t>& communities, uint32_t local_pref) {
  BytesBuilder b;
  b.U32(1).U32(next_hop_v4).U32(router_as).U32(src_as).U32(src_peer_as);
  b.U32(path.size());
  for (const AsPathSegment& s : path) {
    b.U32(s.type).U32(s.asns.size());
    for (uint32_t as : s.asns) b.U32(as);
  }
  b.U32(communities.size());
  for (uint32_t c : communities) b.U32(c);
  b.U32(local_pref);
  return Record(1003, b.bytes());
}

SflowBuilder& SflowBuilder::GenericCounters(uint32_t if_index, uint64_t speed,
                                            uint64_t in_octets,
                                            uint64_t out_octets) {
  BytesBuilder b;
  b.U32(if_index).U32(6).U64(speed).U32(1).U32(3).U64(in_octets);
  for (int i = 0; i < 6; ++i) b.U32(100 + i);
  b.U64(out_octets);
  for (int i = 0; i < 5; ++i) b.U32(200 + i);
  b.U32(0);  // promiscuous
  return Record(1, b.bytes());
}

SflowBuilder& SflowBuilder::ProcessorCounters(uint32_t cpu5s,
                                              uint64_t total_memory,
                                              uint64_t free_memory) {
  BytesBuilder b;
  b.U32(cpu5s).U32(cpu5s + 1).U32(cpu5s + 2).U64(total_memory).U64(free_memory);
  return Record(1001, b.bytes());
}

std::vector<uint8_t> SflowBuilder::Build() const {
  BytesBuilder b;
  b.U32(version).U32(agent_type);
  if (agent_type == 2) {
    b.Bytes(agent);
  } else if (agent_type == 1) {
    b.Bytes(std::span<const uint8_t>(agent.data(), 4));
  }
  b.U32(sub_agent_id).U32(sequence).U32(uptime_ms);
  b.U32(num_samples ? *num_samples : n_samples_);
  b.Bytes(samples_.bytes());
  return b.Take();
}

}  // namespace flowacct::testing
