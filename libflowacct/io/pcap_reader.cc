// PcapReader implementations: a libpcap-backed reader for pcap/pcapng files
// and a reader for RFC 5655 IPFIX files (concatenated IPFIX messages).

#include "flowacct/io/pcap_reader.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pcap/pcap.h>

#include "libflowacct/common/byte_reader.h"
#include "libflowacct/io/frame_parser.h"

namespace flowacct {
namespace {

using internal::FrameParser;
using internal::LinkType;

constexpr uint32_t kPcapMagicUs = 0xa1b2c3d4;
constexpr uint32_t kPcapMagicUsSwapped = 0xd4c3b2a1;
constexpr uint32_t kPcapMagicNs = 0xa1b23c4d;
constexpr uint32_t kPcapMagicNsSwapped = 0x4d3cb2a1;
constexpr uint32_t kPcapngMagic = 0x0a0d0d0a;
constexpr uint16_t kIpfixVersion = 10;
constexpr size_t kIpfixHeaderSize = 16;  // RFC 7011 §3.1

uint64_t FileSize(FILE* f) {
  long here = std::ftell(f);
  if (here < 0 || std::fseek(f, 0, SEEK_END) != 0) return 0;
  long end = std::ftell(f);
  std::fseek(f, here, SEEK_SET);
  return end < 0 ? 0 : static_cast<uint64_t>(end);
}

// pcap / pcapng through libpcap.
class LibpcapReader final : public PcapReader {
 public:
  LibpcapReader(pcap_t* pcap, LinkType link, const PcapReaderOptions& options,
                uint64_t file_size)
      : pcap_(pcap), parser_(link, options.udp_ports) {
    stats_.file_size = file_size;
  }
  ~LibpcapReader() override { pcap_close(pcap_); }

  bool Next(Packet* packet) override {
    for (;;) {
      if (done_) return false;
      pcap_pkthdr* header = nullptr;
      const u_char* data = nullptr;
      int rc = pcap_next_ex(pcap_, &header, &data);
      if (rc == PCAP_ERROR_BREAK) {  // end of file
        done_ = true;
        stats_.file_offset = stats_.file_size;
        return false;
      }
      if (rc < 0) {
        done_ = true;
        status_ =
            IoError(std::string("reading capture: ") + pcap_geterr(pcap_));
        return false;
      }
      if (rc == 0) continue;  // live capture timeout; not for files
      ++stats_.frames;
      // stdio's position: read-ahead makes it run slightly ahead of the
      // frames returned, which is fine for a progress bar.
      if (long pos = std::ftell(pcap_file(pcap_)); pos >= 0) {
        stats_.file_offset = std::min<uint64_t>(pos, stats_.file_size);
      }
      int64_t ts_ns = int64_t{header->ts.tv_sec} * 1'000'000'000 +
                      int64_t{header->ts.tv_usec};  // ns: opened with nano
      bool truncated_frame = header->caplen < header->len;
      if (parser_.Parse(std::span<const uint8_t>(data, header->caplen),
                        truncated_frame, ts_ns, packet, &stats_)) {
        ++stats_.datagrams;
        stats_.bytes += packet->datagram.payload.size();
        return true;
      }
    }
  }

  Status status() const override { return status_; }
  const PcapReaderStats& stats() const override { return stats_; }

 private:
  pcap_t* pcap_;
  FrameParser parser_;
  PcapReaderStats stats_;
  Status status_;
  bool done_ = false;
};

// RFC 5655: an IPFIX file is a sequence of IPFIX messages (RFC 7011 §3.1
// headers; the 16-bit length covers the whole message).
class IpfixFileReader final : public PcapReader {
 public:
  IpfixFileReader(FILE* file, uint64_t file_size) : file_(file) {
    stats_.file_size = file_size;
    buffer_.resize(65535);
  }
  ~IpfixFileReader() override { std::fclose(file_); }

  bool Next(Packet* packet) override {
    if (done_) return false;
    std::array<uint8_t, kIpfixHeaderSize> header;
    size_t got = std::fread(header.data(), 1, header.size(), file_);
    if (got == 0 && std::feof(file_)) {
      done_ = true;
      return false;
    }
    if (got < header.size()) {
      return Fail(got == 0 && std::ferror(file_)
                      ? IoError("reading IPFIX file")
                      : InvalidArgumentError(
                            "truncated IPFIX message header at offset " +
                            std::to_string(stats_.file_offset)));
    }
    uint16_t version = internal::LoadBe16(header.data());
    uint16_t length = internal::LoadBe16(header.data() + 2);
    if (version != kIpfixVersion || length < kIpfixHeaderSize) {
      return Fail(InvalidArgumentError("not an IPFIX message at offset " +
                                       std::to_string(stats_.file_offset) +
                                       " (version " + std::to_string(version) +
                                       ", length " + std::to_string(length) +
                                       ")"));
    }
    std::memcpy(buffer_.data(), header.data(), header.size());
    size_t body = length - kIpfixHeaderSize;
    if (std::fread(buffer_.data() + header.size(), 1, body, file_) != body) {
      ++stats_.truncated;
      return Fail(InvalidArgumentError("truncated IPFIX message at offset " +
                                       std::to_string(stats_.file_offset)));
    }
    ++stats_.frames;
    ++stats_.datagrams;
    stats_.bytes += length;
    stats_.file_offset += length;
    uint32_t export_time = internal::LoadBe32(header.data() + 4);
    packet->datagram.payload = std::span<const uint8_t>(buffer_.data(), length);
    packet->datagram.exporter = Endpoint{IpAddress::V4(0), 0};
    packet->datagram.arrival_ns = int64_t{export_time} * 1'000'000'000;
    packet->destination = Endpoint{IpAddress::V4(0), 0};
    return true;
  }

  Status status() const override { return status_; }
  const PcapReaderStats& stats() const override { return stats_; }

 private:
  bool Fail(Status s) {
    status_ = std::move(s);
    done_ = true;
    return false;
  }

  FILE* file_;
  std::vector<uint8_t> buffer_;
  PcapReaderStats stats_;
  Status status_;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<PcapReader>> PcapReader::Open(
    const std::string& path, const PcapReaderOptions& options) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return IoError("cannot open " + path + ": " + std::strerror(errno));
  }
  uint64_t size = FileSize(file);
  std::array<uint8_t, 4> magic{};
  size_t got = std::fread(magic.data(), 1, magic.size(), file);
  if (got < 2) {
    std::fclose(file);
    return InvalidArgumentError(path + ": too short to be a capture file");
  }
  if (internal::LoadBe16(magic.data()) == kIpfixVersion) {
    std::rewind(file);
    return std::unique_ptr<PcapReader>(new IpfixFileReader(file, size));
  }
  uint32_t m = got == 4 ? internal::LoadBe32(magic.data()) : 0;
  if (m != kPcapMagicUs && m != kPcapMagicUsSwapped && m != kPcapMagicNs &&
      m != kPcapMagicNsSwapped && m != kPcapngMagic) {
    std::fclose(file);
    return InvalidArgumentError(
        path + ": not a pcap, pcapng or IPFIX file (unknown magic)");
  }
  std::rewind(file);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // libpcap takes ownership of `file` on success.
  pcap_t* pcap = pcap_fopen_offline_with_tstamp_precision(
      file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (pcap == nullptr) {
    std::fclose(file);
    return InvalidArgumentError(path + ": " + errbuf);
  }
  int dlt = pcap_datalink(pcap);
  LinkType link = internal::LinkTypeFromDlt(dlt);
  if (link == LinkType::kUnsupported) {
    const char* name = pcap_datalink_val_to_name(dlt);
    pcap_close(pcap);
    return InvalidArgumentError(
        path + ": unsupported link type " + std::to_string(dlt) +
        (name != nullptr ? std::string(" (") + name + ")" : std::string()));
  }
  return std::unique_ptr<PcapReader>(
      new LibpcapReader(pcap, link, options, size));
}

}  // namespace flowacct
