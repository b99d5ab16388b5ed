// SyntheticFlowGenerator: builds valid NetFlow v9 (RFC 3954) or IPFIX
// (RFC 7011) export datagrams full of made-up IPv4 flows, for `flowacct
// replay --synthetic` (benchmarks and loss-accounting tests).
//
// Each datagram holds `flows_per_datagram` data records of one fixed
// template (addresses, ports, protocol, ToS, TCP flags, interfaces, AS
// numbers, prefix lengths, packets, bytes, start/end times). The template
// set is sent in the first datagram and again every `template_refresh`
// datagrams, ahead of the data set. Sequence numbers follow each protocol's
// rule: v9 counts export packets (RFC 3954 §5.1), IPFIX counts data records
// sent before the message (RFC 7011 §3.1), so a collector that sees every
// datagram reports no loss.
//
// Flow keys are drawn from `distinct_flows` keys with a seeded PRNG: the same
// seed gives the same bytes (apart from the timestamps taken from `now_ms`).
//
// Thread-safety: thread-compatible.

#ifndef FLOWACCT_DAEMON_CLI_SYNTHETIC_FLOWS_H_
#define FLOWACCT_DAEMON_CLI_SYNTHETIC_FLOWS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace flowacct::cli {

struct SyntheticOptions {
  bool ipfix = true;                // false: NetFlow v9
  size_t flows_per_datagram = 20;   // 1..1000
  uint32_t template_refresh = 100;  // datagrams; 0 = template only once
  uint64_t seed = 1;
  uint64_t distinct_flows = 65536;  // >= 1
  uint32_t observation_domain = 1;  // IPFIX domain / v9 source id
  uint16_t template_id = 256;
};

class SyntheticFlowGenerator {
 public:
  explicit SyntheticFlowGenerator(const SyntheticOptions& options);

  // Builds the next datagram into *out (replacing its contents) with
  // `records` data records (0 < records <= flows_per_datagram; fewer lets a
  // caller stop at an exact total), timestamps relative to `now_ms` (Unix
  // epoch milliseconds).
  void Next(size_t records, uint64_t now_ms, std::vector<uint8_t>* out);

  // Bytes of one data record.
  size_t record_size() const;
  uint64_t datagrams() const { return datagrams_; }
  uint64_t records() const { return records_; }

 private:
  uint64_t Random();

  SyntheticOptions options_;
  uint64_t rng_;
  uint64_t datagrams_ = 0;
  uint64_t records_ = 0;
  uint64_t boot_ms_ = 0;  // v9 sysUpTime origin
};

}  // namespace flowacct::cli

#endif  // FLOWACCT_DAEMON_CLI_SYNTHETIC_FLOWS_H_
