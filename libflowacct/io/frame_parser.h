// FrameParser: from one captured link-layer frame to the UDP datagram inside
// it, for PcapReader. Handles Ethernet (802.1Q / 802.1ad / QinQ tags), Linux
// cooked captures (SLL, SLL2), raw IPv4/IPv6 and BSD null/loopback framing;
// IPv4 (options, total length, fragments) and IPv6 (extension-header chain,
// fragment header); UDP (length checked against what was captured).
//
// Fragments (IPv4 RFC 791, IPv6 RFC 8200 §4.5) are reassembled in a bounded
// table: at most kMaxInFlight datagrams, each at most 65535 bytes, evicted
// after kMaxAge of capture time. Overlapping fragments simply overwrite.
//
// Thread-safety: thread-compatible.

#ifndef FLOWACCT_LIBFLOWACCT_IO_FRAME_PARSER_H_
#define FLOWACCT_LIBFLOWACCT_IO_FRAME_PARSER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowacct/io/pcap_reader.h"

namespace flowacct::internal {

enum class LinkType : uint8_t {
  kUnsupported,
  kEthernet,
  kLinuxSll,
  kLinuxSll2,
  kRawIp,  // first nibble says 4 or 6
  kNull,   // 4-byte address family (either byte order), then IP
  kLoop,   // same, network byte order
};

// Maps a libpcap DLT_* value to a LinkType.
LinkType LinkTypeFromDlt(int dlt);

class FrameParser {
 public:
  static constexpr size_t kMaxInFlight = 64;
  static constexpr int64_t kMaxAgeNs = int64_t{30} * 1'000'000'000;
  static constexpr size_t kMaxDatagram = 65535;

  FrameParser(LinkType link, std::vector<uint16_t> udp_ports);

  // Parses `frame` (captured bytes; `snapped` when the capture cut it). On a
  // UDP datagram that passes the port filter fills *packet (payload points
  // into `frame` or into this parser's buffer, valid until the next call) and
  // returns true. Otherwise counts the reason in *stats and returns false.
  bool Parse(std::span<const uint8_t> frame, bool snapped, int64_t ts_ns,
             PcapReader::Packet* packet, PcapReaderStats* stats);

 private:
  struct FragKey {
    uint8_t family = 0;
    std::array<uint8_t, 16> src{};
    std::array<uint8_t, 16> dst{};
    uint32_t id = 0;
    uint8_t proto = 0;
    bool operator==(const FragKey&) const = default;
  };
  struct FragSlot {
    bool used = false;
    FragKey key;
    int64_t first_ns = 0;
    size_t total = 0;           // 0 until the last fragment is seen
    size_t max_end = 0;         // highest byte end received
    std::vector<uint8_t> data;  // reassembly buffer
    std::vector<uint8_t> have;  // one flag per 8-byte block
  };

  bool ParseIp(std::span<const uint8_t> ip, bool snapped, int64_t ts_ns,
               PcapReader::Packet* packet, PcapReaderStats* stats);
  bool ParseIpv4(std::span<const uint8_t> ip, bool snapped, int64_t ts_ns,
                 PcapReader::Packet* packet, PcapReaderStats* stats);
  bool ParseIpv6(std::span<const uint8_t> ip, bool snapped, int64_t ts_ns,
                 PcapReader::Packet* packet, PcapReaderStats* stats);
  // `udp` is the UDP header + payload (a whole, reassembled L4 datagram).
  bool ParseUdp(std::span<const uint8_t> udp, const IpAddress& src,
                const IpAddress& dst, int64_t ts_ns, PcapReader::Packet* packet,
                PcapReaderStats* stats);
  // Adds a fragment; returns the completed L4 payload (into reassembled_) or
  // an empty span while incomplete.
  std::span<const uint8_t> AddFragment(const FragKey& key, size_t offset,
                                       bool more, std::span<const uint8_t> data,
                                       int64_t ts_ns, PcapReaderStats* stats);

  LinkType link_;
  std::vector<uint16_t> udp_ports_;
  std::vector<FragSlot> slots_;
  std::vector<uint8_t> reassembled_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_IO_FRAME_PARSER_H_
