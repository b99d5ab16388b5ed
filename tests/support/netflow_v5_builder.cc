#include "tests/support/netflow_v5_builder.h"

#include "tests/support/bytes_builder.h"

namespace flowacct::testing {

std::vector<uint8_t> NetflowV5Builder::Build(size_t extra) const {
  BytesBuilder b;
  b.U16(header.version)
      .U16(header.count ? *header.count : records.size())
      .U32(header.sys_uptime_ms)
      .U32(header.unix_secs)
      .U32(header.unix_nsecs)
      .U32(header.flow_sequence)
      .U8(header.engine_type)
      .U8(header.engine_id)
      .U16(header.sampling);
  for (const V5Record& r : records) {
    b.U32(r.src).U32(r.dst).U32(r.nexthop);
    b.U16(r.input).U16(r.output);
    b.U32(r.packets).U32(r.octets).U32(r.first).U32(r.last);
    b.U16(r.src_port).U16(r.dst_port);
    b.U8(0).U8(r.tcp_flags).U8(r.proto).U8(r.tos);
    b.U16(r.src_as).U16(r.dst_as);
    b.U8(r.src_mask).U8(r.dst_mask).U16(0);
  }
  for (size_t i = 0; i < extra; ++i) b.U8(0xAB);
  return b.Take();
}

}  // namespace flowacct::testing
