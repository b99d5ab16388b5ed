// NetflowV5Builder: builds NetFlow v5 export datagrams for tests and
// benchmarks (24-byte header + 48-byte records, Cisco v5 layout).
//
//   NetflowV5Builder b;
//   b.header.flow_sequence = 100;
//   b.AddRecord({.src = 0x0a000001, .dst = 0x0a000002, .packets = 3});
//   std::vector<uint8_t> d = b.Build();

#ifndef FLOWACCT_TESTS_SUPPORT_NETFLOW_V5_BUILDER_H_
#define FLOWACCT_TESTS_SUPPORT_NETFLOW_V5_BUILDER_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace flowacct::testing {

struct V5Header {
  uint16_t version = 5;
  // Written as the header count unless set; defaults to records.size().
  std::optional<uint16_t> count;
  uint32_t sys_uptime_ms = 3'600'000;
  uint32_t unix_secs = 1'700'000'000;
  uint32_t unix_nsecs = 0;
  uint32_t flow_sequence = 0;
  uint8_t engine_type = 0;
  uint8_t engine_id = 0;
  uint16_t sampling = 0;  // mode(2 bits) | interval(14 bits)
};

struct V5Record {
  uint32_t src = 0;  // host order
  uint32_t dst = 0;
  uint32_t nexthop = 0;
  uint16_t input = 0;
  uint16_t output = 0;
  uint32_t packets = 1;
  uint32_t octets = 64;
  uint32_t first = 3'500'000;  // sysUptime ms
  uint32_t last = 3'590'000;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;
  uint8_t proto = 6;
  uint8_t tos = 0;
  uint16_t src_as = 0;
  uint16_t dst_as = 0;
  uint8_t src_mask = 0;
  uint8_t dst_mask = 0;
};

class NetflowV5Builder {
 public:
  V5Header header;
  std::vector<V5Record> records;

  NetflowV5Builder& AddRecord(const V5Record& r) {
    records.push_back(r);
    return *this;
  }
  // Header followed by every record; `extra` bytes of 0xAB appended.
  std::vector<uint8_t> Build(size_t extra = 0) const;
};

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_NETFLOW_V5_BUILDER_H_
