// SyntheticFlowGenerator: NetFlow v9 / IPFIX datagram writer.

#include "daemon/cli/synthetic_flows.h"

#include <algorithm>

namespace flowacct::cli {
namespace {

// One template field: IPFIX information element / v9 field type (RFC 3954
// §8 numbers are the same as IANA IPFIX IEs below 128) and length.
struct Field {
  uint16_t id;
  uint16_t length;
};

// Fields before the timestamps, then the timestamps, then the rest.
constexpr Field kHead[] = {
    {8, 4},   // sourceIPv4Address
    {12, 4},  // destinationIPv4Address
    {7, 2},   // sourceTransportPort
    {11, 2},  // destinationTransportPort
    {4, 1},   // protocolIdentifier
    {5, 1},   // ipClassOfService
    {6, 1},   // tcpControlBits
    {10, 4},  // ingressInterface
    {14, 4},  // egressInterface
    {2, 8},   // packetDeltaCount
    {1, 8},   // octetDeltaCount
};
constexpr Field kIpfixTimes[] = {{152, 8}, {153, 8}};  // flowStart/EndMillis
constexpr Field kV9Times[] = {{22, 4}, {21, 4}};       // FIRST/LAST_SWITCHED
constexpr Field kTail[] = {
    {16, 4},  // bgpSourceAsNumber
    {17, 4},  // bgpDestinationAsNumber
    {9, 1},   // sourceIPv4PrefixLength
    {13, 1},  // destinationIPv4PrefixLength
};

void Put(std::vector<uint8_t>* out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out->push_back(uint8_t(v >> (8 * i)));
}
void Patch16(std::vector<uint8_t>* out, size_t at, uint64_t v) {
  (*out)[at] = uint8_t(v >> 8);
  (*out)[at + 1] = uint8_t(v);
}

// splitmix64: a tiny, well-mixed PRNG; plenty for test traffic.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

SyntheticFlowGenerator::SyntheticFlowGenerator(const SyntheticOptions& options)
    : options_(options), rng_(options.seed) {
  options_.flows_per_datagram =
      std::clamp<size_t>(options_.flows_per_datagram, 1, 1000);
  options_.distinct_flows = std::max<uint64_t>(options_.distinct_flows, 1);
}

uint64_t SyntheticFlowGenerator::Random() {
  rng_ += 0x9e3779b97f4a7c15ULL;
  return Mix(rng_);
}

size_t SyntheticFlowGenerator::record_size() const {
  size_t n = 0;
  for (const Field& f : kHead) n += f.length;
  for (const Field& f : kTail) n += f.length;
  return n + (options_.ipfix ? 16 : 8);
}

void SyntheticFlowGenerator::Next(size_t records, uint64_t now_ms,
                                  std::vector<uint8_t>* out) {
  records = std::clamp<size_t>(records, 1, options_.flows_per_datagram);
  const bool ipfix = options_.ipfix;
  if (datagrams_ == 0) boot_ms_ = now_ms - 3'600'000;  // "up for an hour"
  const uint32_t uptime = static_cast<uint32_t>(now_ms - boot_ms_);
  const bool with_template =
      datagrams_ == 0 || (options_.template_refresh > 0 &&
                          datagrams_ % options_.template_refresh == 0);
  out->clear();

  // Header: RFC 7011 §3.1 (16 bytes) or RFC 3954 §5.1 (20 bytes).
  if (ipfix) {
    Put(out, 10, 2);
    Put(out, 0, 2);  // length, patched
    Put(out, now_ms / 1000, 4);
    Put(out, records_, 4);  // data records sent before this message
    Put(out, options_.observation_domain, 4);
  } else {
    Put(out, 9, 2);
    Put(out, records + (with_template ? 1 : 0), 2);  // records in packet
    Put(out, uptime, 4);
    Put(out, now_ms / 1000, 4);
    Put(out, datagrams_, 4);  // export packets sent before this one
    Put(out, options_.observation_domain, 4);
  }

  const Field* times = ipfix ? kIpfixTimes : kV9Times;
  if (with_template) {
    // Template set: id 2 (IPFIX) / flowset id 0 (v9), one template record.
    size_t set_at = out->size();
    Put(out, ipfix ? 2 : 0, 2);
    Put(out, 0, 2);
    Put(out, options_.template_id, 2);
    Put(out, std::size(kHead) + 2 + std::size(kTail), 2);
    for (const Field& f : kHead) Put(out, (uint32_t{f.id} << 16) | f.length, 4);
    for (int i = 0; i < 2; ++i) {
      Put(out, (uint32_t{times[i].id} << 16) | times[i].length, 4);
    }
    for (const Field& f : kTail) Put(out, (uint32_t{f.id} << 16) | f.length, 4);
    Patch16(out, set_at + 2, out->size() - set_at);
  }

  size_t set_at = out->size();
  Put(out, options_.template_id, 2);
  Put(out, 0, 2);
  for (size_t i = 0; i < records; ++i) {
    uint64_t key = Mix(Random() % options_.distinct_flows + options_.seed);
    uint64_t r = Random();
    Put(out, 0x0a000000 | (key & 0xffffff), 4);        // 10.x.y.z
    Put(out, 0xc0a80000 | ((key >> 24) & 0xffff), 4);  // 192.168.x.y
    Put(out, 1024 + ((key >> 40) % 64512), 2);         // src port
    static constexpr uint16_t kPorts[] = {80, 443, 53, 22, 123, 8080};
    Put(out, kPorts[(key >> 56) % std::size(kPorts)], 2);  // dst port
    Put(out, (key >> 60) & 1 ? 17 : 6, 1);                 // UDP / TCP
    Put(out, 0, 1);                                        // ToS
    Put(out, (key >> 60) & 1 ? 0 : 0x1b, 1);               // tcp flags
    Put(out, 1 + (key >> 48) % 8, 4);                      // in iface
    Put(out, 10 + (key >> 52) % 8, 4);                     // out iface
    uint64_t packets = 1 + r % 100;
    Put(out, packets, 8);
    Put(out, packets * (64 + (r >> 8) % 1400), 8);
    uint64_t duration_ms = (r >> 24) % 60'000;
    if (ipfix) {
      Put(out, now_ms - duration_ms, 8);
      Put(out, now_ms, 8);
    } else {
      Put(out, uptime - static_cast<uint32_t>(duration_ms), 4);
      Put(out, uptime, 4);
    }
    Put(out, 64512 + (key >> 16) % 1000, 4);  // private ASNs
    Put(out, 65000 + (key >> 32) % 500, 4);
    Put(out, 24, 1);
    Put(out, 16, 1);
  }
  // v9 data flowsets are padded to 32 bits (RFC 3954 §5.3); IPFIX sets may
  // be (RFC 7011 §3.3.1) and we leave them unpadded.
  if (!ipfix) {
    while ((out->size() - set_at) % 4 != 0) out->push_back(0);
  }
  Patch16(out, set_at + 2, out->size() - set_at);
  if (ipfix) Patch16(out, 2, out->size());

  ++datagrams_;
  records_ += records;
}

}  // namespace flowacct::cli
