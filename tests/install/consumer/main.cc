// Install-package smoke test: an application that only sees the installed
// headers and library. Decodes one hand-built NetFlow v5 datagram (Cisco
// NetFlow v5 format: 24-byte header, 48-byte records) and checks the record.
// Exit status 0 on success; prints what went wrong otherwise.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "flowacct/decode/decoder.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

namespace {

void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

void Put32(std::vector<uint8_t>* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v));
}

// One NetFlow v5 datagram with one flow 10.0.0.1:1234 -> 10.0.0.2:80, TCP,
// 3 packets, 180 bytes.
std::vector<uint8_t> NetflowV5Datagram() {
  std::vector<uint8_t> d;
  Put16(&d, 5);           // version
  Put16(&d, 1);           // count
  Put32(&d, 100000);      // sys_uptime (ms)
  Put32(&d, 1700000000);  // unix_secs
  Put32(&d, 0);           // unix_nsecs
  Put32(&d, 42);          // flow_sequence
  d.push_back(0);         // engine_type
  d.push_back(0);         // engine_id
  Put16(&d, 0);           // sampling_interval
  Put32(&d, 0x0a000001);  // srcaddr
  Put32(&d, 0x0a000002);  // dstaddr
  Put32(&d, 0);           // nexthop
  Put16(&d, 1);           // input
  Put16(&d, 2);           // output
  Put32(&d, 3);           // dPkts
  Put32(&d, 180);         // dOctets
  Put32(&d, 90000);       // first (sys_uptime ms)
  Put32(&d, 99000);       // last
  Put16(&d, 1234);        // srcport
  Put16(&d, 80);          // dstport
  d.push_back(0);         // pad1
  d.push_back(0x18);      // tcp_flags
  d.push_back(6);         // prot
  d.push_back(0);         // tos
  Put16(&d, 64500);       // src_as
  Put16(&d, 64501);       // dst_as
  d.push_back(24);        // src_mask
  d.push_back(24);        // dst_mask
  Put16(&d, 0);           // pad2
  return d;
}

}  // namespace

int main() {
  auto registry = flowacct::PrimitiveRegistry::CreateWithBuiltins();
  auto decoder =
      flowacct::Decoder::Create(flowacct::DecoderOptions{}, registry.get());
  if (!decoder.ok()) {
    std::fprintf(stderr, "Decoder::Create: %s\n",
                 decoder.status().ToString().c_str());
    return 1;
  }
  const std::vector<uint8_t> payload = NetflowV5Datagram();
  flowacct::RecordBatch batch;
  flowacct::Datagram datagram{
      payload, flowacct::Endpoint{flowacct::IpAddress::V4(0xc0000201), 2055},
      int64_t{1700000000} * 1000000000};
  flowacct::DecodeSummary summary = (*decoder)->Decode(datagram, &batch);
  std::printf("consumer: protocol=%d records=%zu errors=%zu\n",
              static_cast<int>(summary.protocol), summary.records,
              summary.errors);
  if (summary.protocol != flowacct::ExportProtocol::kNetflowV5 ||
      summary.records != 1 || summary.errors != 0 || batch.size() != 1) {
    std::fprintf(stderr, "consumer: expected 1 NetFlow v5 record, no errors\n");
    return 1;
  }
  std::printf("consumer: OK\n");
  return 0;
}
