// TcpStreams: reassembles the TCP byte streams of a capture file, for tests
// that parse stream protocols (BGP, BMP) out of real captures.
//
// pcap and pcapng (through libpcap), optionally gzip-compressed (".gz",
// decompressed with `gzip -dc`). Link types: Ethernet (802.1Q tags), Linux
// SLL/SLL2, raw IP, and anything else by locating the IPv4/IPv6 header
// heuristically (PPP, Cisco HDLC, Frame Relay, Juniper encapsulations).
// IPv4 fragments are not reassembled (such frames are counted as skipped).
//
// Each direction of each connection (4-tuple) is one stream; its segments
// are put in sequence-number order, retransmitted bytes dropped, and holes
// recorded (the bytes after a hole are still appended).
//
// Thread-safety: free functions; results are plain values.

#ifndef FLOWACCT_TESTS_SUPPORT_TCP_STREAMS_H_
#define FLOWACCT_TESTS_SUPPORT_TCP_STREAMS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct::testing {

struct TcpStream {
  Endpoint source;
  Endpoint destination;
  std::vector<uint8_t> bytes;  // payload in sequence order
  size_t segments = 0;         // segments with payload
  size_t holes = 0;            // missing byte ranges
  size_t first_frame = 0;      // index of the first frame of the stream
};

struct TcpStreamStats {
  size_t frames = 0;
  size_t tcp_segments = 0;
  size_t skipped = 0;  // not TCP, fragments, truncated
};

// Reads `path` and returns its TCP streams in order of first appearance.
// `port`: keep only segments from or to this port (0: all).
Result<std::vector<TcpStream>> ReadTcpStreams(const std::string& path,
                                              uint16_t port = 0,
                                              TcpStreamStats* stats = nullptr);

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_TCP_STREAMS_H_
