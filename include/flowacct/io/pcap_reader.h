// File: flowacct/io/pcap_reader.h
//
// PcapReader: reads flow-export datagrams out of capture files, for offline
// replay (`flowacct decode FILE`, `flowacctd -I FILE`, tests, benchmarks).
//
// Accepted inputs:
//   - pcap and pcapng files (through libpcap; microsecond and nanosecond
//     timestamps) with link types Ethernet (with 802.1Q / 802.1ad / QinQ
//     tags, at most 4), Linux cooked (SLL, SLL2), raw IPv4/IPv6 and BSD
//     loopback/null. IPv4 (RFC 791: options, total length, Ethernet padding
//     trimmed) and IPv6 (RFC 8200: extension headers walked) carrying UDP.
//     IPv4 and IPv6 fragments are reassembled (bounded: at most 64 datagrams
//     in flight, 64 KiB each, dropped after 30 s of capture time). The
//     datagram's exporter is the IP/UDP source, arrival_ns the capture time.
//   - RFC 5655 IPFIX files: a plain concatenation of IPFIX messages,
//     recognised by a first 16-bit word of 10 (each message becomes one
//     datagram from exporter 0.0.0.0:0 at its export time, RFC 7011 §3.1).
// Anything else in a capture (TCP, ARP, fragments never completed, frames
// cut by the snaplen, bad IP/UDP lengths) is skipped and counted in stats().
// A file that ends inside a record stops Next() with a non-OK status() after
// the complete records before it were returned.
//
//   Result<std::unique_ptr<PcapReader>> r = PcapReader::Open(path, {});
//   PcapReader::Packet p;
//   while ((*r)->Next(&p)) {
//     decoder->Decode(p.datagram, &batch);
//   }
//   if (!(*r)->status().ok()) ...
//
// Lifetime: the Datagram returned by Next() points into the reader's buffer
// and is valid until the next call to Next() or the reader's destruction.
//
// Thread-safety: thread-compatible.

#ifndef FLOWACCT_IO_PCAP_READER_H_
#define FLOWACCT_IO_PCAP_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/decode/decoder.h"
#include "flowacct/status.h"

namespace flowacct {

struct PcapReaderOptions {
  // Only UDP datagrams to one of these destination ports are returned; empty
  // means every UDP datagram.
  std::vector<uint16_t> udp_ports;
};

struct PcapReaderStats {
  uint64_t frames = 0;          // frames (or IPFIX-file messages) read
  uint64_t datagrams = 0;       // UDP datagrams returned
  uint64_t bytes = 0;           // payload bytes returned
  uint64_t not_udp = 0;         // frames that were not IPv4/IPv6 UDP
  uint64_t filtered = 0;        // UDP to a port not in udp_ports
  uint64_t truncated = 0;       // frames cut by the capture snaplen or bad
                                // IP/UDP lengths
  uint64_t fragments_reassembled = 0;
  uint64_t fragments_dropped = 0;
  uint64_t file_size = 0;       // bytes, for progress reporting
  uint64_t file_offset = 0;     // bytes consumed so far (approximate: the
                                // stdio read position)
};

class PcapReader {
 public:
  struct Packet {
    Datagram datagram;    // payload, source endpoint, capture time
    Endpoint destination;  // UDP destination
  };

  // Opens `path` (pcap, pcapng or RFC 5655 IPFIX file, detected from its
  // first bytes). kIoError if it cannot be read, kInvalidArgument if it is
  // none of these formats or has an unsupported link type.
  static Result<std::unique_ptr<PcapReader>> Open(
      const std::string& path, const PcapReaderOptions& options);

  virtual ~PcapReader() = default;

  // Fills *packet with the next UDP datagram; false at the end of the file
  // or on a read error (then status() says which).
  virtual bool Next(Packet* packet) = 0;

  // OK, or why Next() stopped early.
  virtual Status status() const = 0;
  virtual const PcapReaderStats& stats() const = 0;
};

}  // namespace flowacct

#endif  // FLOWACCT_IO_PCAP_READER_H_
