#include "flowacct/io/pcap_reader.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/bytes_builder.h"
#include <unistd.h>

namespace flowacct {
namespace {

using testing::BytesBuilder;

std::string CorpusPath(const std::string& rel) {
  return std::string(FLOWACCT_CORPUS_DIR) + "/" + rel;
}

// A temp file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes) {
    char name[] = "/tmp/flowacct_pcap_test_XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, bytes.data(), bytes.size()) ==
            static_cast<ssize_t>(bytes.size()));
    close(fd);
    path_ = name;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Little-endian helpers for pcap file headers.
void Le32(std::vector<uint8_t>* v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v->push_back(uint8_t(x >> (8 * i)));
}
void Le16(std::vector<uint8_t>* v, uint16_t x) {
  v->push_back(uint8_t(x));
  v->push_back(uint8_t(x >> 8));
}

struct Frame {
  std::vector<uint8_t> bytes;
  uint32_t sec = 1700000000;
  uint32_t frac = 0;      // µs or ns
  uint32_t orig_len = 0;  // 0: same as captured
};

std::vector<uint8_t> Pcap(uint32_t linktype, const std::vector<Frame>& frames,
                          bool nanos = false) {
  std::vector<uint8_t> f;
  Le32(&f, nanos ? 0xa1b23c4d : 0xa1b2c3d4);
  Le16(&f, 2);
  Le16(&f, 4);
  Le32(&f, 0);
  Le32(&f, 0);
  Le32(&f, 65535);
  Le32(&f, linktype);
  for (const Frame& fr : frames) {
    Le32(&f, fr.sec);
    Le32(&f, fr.frac);
    Le32(&f, uint32_t(fr.bytes.size()));
    Le32(&f, fr.orig_len ? fr.orig_len : uint32_t(fr.bytes.size()));
    f.insert(f.end(), fr.bytes.begin(), fr.bytes.end());
  }
  return f;
}

// IPv4 header + UDP (checksums zero). `frag` is the flags/offset word;
// `l4` the bytes after the IP header.
std::vector<uint8_t> Ipv4(const std::vector<uint8_t>& l4, uint16_t frag = 0,
                          uint16_t id = 1, uint8_t proto = 17) {
  BytesBuilder b;
  b.U8(0x45).U8(0).U16(20 + l4.size()).U16(id).U16(frag).U8(64).U8(proto);
  b.U16(0).Ip4(192, 0, 2, 1).Ip4(198, 51, 100, 1);
  b.Bytes(l4);
  return b.Take();
}

std::vector<uint8_t> Udp(uint16_t sport, uint16_t dport,
                         const std::vector<uint8_t>& payload) {
  BytesBuilder b;
  b.U16(sport).U16(dport).U16(8 + payload.size()).U16(0).Bytes(payload);
  return b.Take();
}

std::vector<uint8_t> Ether(uint16_t ethertype, const std::vector<uint8_t>& l3,
                           std::vector<uint16_t> tags = {}) {
  BytesBuilder b;
  b.Bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  for (size_t i = 0; i < tags.size(); ++i) {
    b.U16(i == 0 && tags.size() > 1 ? 0x88a8 : 0x8100).U16(tags[i]);
  }
  b.U16(ethertype).Bytes(l3);
  return b.Take();
}

// A datagram copied out of the reader (whose buffers are reused).
struct Owned {
  std::vector<uint8_t> bytes;
  PcapReader::Packet packet;  // payload re-pointed at `bytes`
};

std::vector<Owned> ReadAll(const std::string& path,
                           PcapReaderStats* stats = nullptr,
                           Status* status = nullptr,
                           PcapReaderOptions opts = {}) {
  auto r = PcapReader::Open(path, opts);
  REQUIRE(r.ok());
  std::vector<Owned> out;
  PcapReader::Packet p;
  for (int i = 0; i < 100000 && (*r)->Next(&p); ++i) {
    out.push_back(Owned{std::vector<uint8_t>(p.datagram.payload.begin(),
                                             p.datagram.payload.end()),
                        p});
  }
  out.shrink_to_fit();
  for (Owned& o : out) o.packet.datagram.payload = o.bytes;
  if (stats) *stats = (*r)->stats();
  if (status) *status = (*r)->status();
  return out;
}

TEST_CASE("PcapReader returns every datagram of every flow corpus file") {
  std::ifstream manifest(CorpusPath("manifest.tsv"));
  REQUIRE(manifest.good());
  std::string line;
  int files = 0;
  while (std::getline(manifest, line)) {
    std::istringstream fields(line);
    std::string path, proto, packets;
    std::getline(fields, path, '\t');
    std::getline(fields, proto, '\t');
    std::getline(fields, packets, '\t');
    if (path.rfind("netflow5/", 0) != 0 && path.rfind("netflow9/", 0) != 0 &&
        path.rfind("ipfix/", 0) != 0 && path.rfind("sflow/", 0) != 0) {
      continue;
    }
    INFO(path);
    ++files;
    auto r = PcapReader::Open(CorpusPath(path), {});
    REQUIRE(r.ok());
    PcapReader::Packet p;
    uint64_t n = 0;
    uint64_t sflow_v5 = 0;
    while (n < 100000 && (*r)->Next(&p)) {
      ++n;
      REQUIRE(p.datagram.payload.size() >= 4);
      CHECK(p.datagram.arrival_ns > 0);
      uint16_t v16 =
          uint16_t(p.datagram.payload[0] << 8 | p.datagram.payload[1]);
      if (path.rfind("ipfix/", 0) == 0) CHECK(v16 == 10);
      if (path.rfind("netflow5/", 0) == 0) CHECK(v16 == 5);
      if (path.rfind("netflow9/", 0) == 0) CHECK((v16 == 9 || v16 == 5));
      // sFlow version 5 (32-bit); one capture also has other UDP to 6343.
      if (p.datagram.payload[3] == 5) ++sflow_v5;
    }
    if (path.rfind("sflow/", 0) == 0) CHECK(sflow_v5 > 0);
    CHECK((*r)->status().ok());
    CHECK(n == std::stoull(packets));
    CHECK((*r)->stats().datagrams == n);
  }
  CHECK(files == 104);
}

TEST_CASE("PcapReader reads an RFC 5655 IPFIX file message by message") {
  auto pkts = ReadAll(CorpusPath("ipfix/ipfixcol2-example-flows.ipfix"));
  REQUIRE(pkts.size() == 68);
  // arrival time = export time of the message (RFC 7011 §3.1 offset 4).
  const auto& d = pkts[0].packet.datagram;
  int64_t export_time = (int64_t{d.payload[4]} << 24) | (d.payload[5] << 16) |
                        (d.payload[6] << 8) | d.payload[7];
  CHECK(d.arrival_ns == export_time * 1'000'000'000);
  CHECK(d.payload.size() == size_t((d.payload[2] << 8) | d.payload[3]));
}

TEST_CASE("PcapReader: truncated IPFIX file stops with an error") {
  BytesBuilder b;
  b.U16(10).U16(20).U32(1700000000).U32(1).U32(0).U32(0);  // 20-byte message
  b.U16(10).U16(40).U32(1700000001).U32(2).U32(0);         // cut short
  TempFile f(b.Take());
  PcapReaderStats stats;
  Status status;
  auto pkts = ReadAll(f.path(), &stats, &status);
  CHECK(pkts.size() == 1);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(stats.truncated == 1);
}

TEST_CASE("PcapReader: Ethernet with QinQ, padding and µs timestamps") {
  std::vector<uint8_t> payload = {0, 5, 0, 1, 9, 9};
  Frame fr;
  fr.bytes = Ether(0x0800, Ipv4(Udp(50000, 2055, payload)), {100, 200});
  fr.bytes.insert(fr.bytes.end(), 10, 0);  // Ethernet padding
  fr.frac = 123456;
  TempFile f(Pcap(1, {fr}));
  auto pkts = ReadAll(f.path());
  REQUIRE(pkts.size() == 1);
  const auto& p = pkts[0].packet;
  CHECK(std::vector<uint8_t>(p.datagram.payload.begin(),
                             p.datagram.payload.end()) == payload);
  CHECK(p.datagram.exporter.address == IpAddress::V4(0xc0000201));
  CHECK(p.datagram.exporter.port == 50000);
  CHECK(p.destination.port == 2055);
  CHECK(p.datagram.arrival_ns ==
        int64_t{1700000000} * 1'000'000'000 + int64_t{123456} * 1000);
}

TEST_CASE("PcapReader: nanosecond pcap keeps nanoseconds") {
  Frame fr;
  fr.bytes = Ether(0x0800, Ipv4(Udp(1, 2, {1, 2, 3, 4})));
  fr.frac = 987654321;
  TempFile f(Pcap(1, {fr}, /*nanos=*/true));
  auto pkts = ReadAll(f.path());
  REQUIRE(pkts.size() == 1);
  CHECK(pkts[0].packet.datagram.arrival_ns ==
        int64_t{1700000000} * 1'000'000'000 + 987654321);
}

TEST_CASE("PcapReader: malformed and foreign frames are skipped and counted") {
  std::vector<Frame> frames(7);
  // 0: frame cut by snaplen (orig_len larger; IP total length > captured).
  std::vector<uint8_t> full = Ether(0x0800, Ipv4(Udp(1, 2055, {1, 2, 3, 4})));
  frames[0].bytes.assign(full.begin(), full.begin() + 30);
  frames[0].orig_len = uint32_t(full.size());
  // 1: ARP.
  frames[1].bytes = Ether(0x0806, std::vector<uint8_t>(28, 0));
  // 2: TCP.
  frames[2].bytes = Ether(0x0800, Ipv4(std::vector<uint8_t>(20, 0), 0, 1, 6));
  // 3: UDP length larger than the IP payload.
  std::vector<uint8_t> bad_udp = Udp(1, 2055, {1, 2, 3, 4});
  bad_udp[5] = 200;
  frames[3].bytes = Ether(0x0800, Ipv4(bad_udp));
  // 4: IHL below 5.
  frames[4].bytes = Ether(0x0800, Ipv4(Udp(1, 2055, {1})));
  frames[4].bytes[14] = 0x44;
  // 5: a 3-byte frame.
  frames[5].bytes = {1, 2, 3};
  // 6: a good one.
  frames[6].bytes = Ether(0x0800, Ipv4(Udp(1, 2055, {7, 7})));
  TempFile f(Pcap(1, frames));
  PcapReaderStats stats;
  Status status;
  auto pkts = ReadAll(f.path(), &stats, &status);
  CHECK(status.ok());
  REQUIRE(pkts.size() == 1);
  CHECK(pkts[0].packet.datagram.payload.size() == 2);
  CHECK(stats.frames == 7);
  CHECK(stats.not_udp == 2);
  CHECK(stats.truncated == 4);
}

TEST_CASE("PcapReader: a capture file cut mid-record reports an error") {
  Frame fr;
  fr.bytes = Ether(0x0800, Ipv4(Udp(1, 2055, {7, 7})));
  std::vector<uint8_t> file = Pcap(1, {fr, fr});
  file.resize(file.size() - 5);
  TempFile f(file);
  Status status;
  auto pkts = ReadAll(f.path(), nullptr, &status);
  CHECK(pkts.size() == 1);
  CHECK_FALSE(status.ok());
}

TEST_CASE("PcapReader: IPv4 fragments are reassembled, in any order") {
  std::vector<uint8_t> payload(100);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i);
  std::vector<uint8_t> udp = Udp(4000, 4739, payload);  // 108 bytes
  std::vector<uint8_t> a(udp.begin(), udp.begin() + 48);
  std::vector<uint8_t> b(udp.begin() + 48, udp.end());
  Frame f1, f2, other;
  f1.bytes = Ether(0x0800, Ipv4(a, 0x2000, 77));  // MF, offset 0
  f2.bytes = Ether(0x0800, Ipv4(b, 48 / 8, 77));  // last, offset 48
  other.bytes = Ether(0x0800, Ipv4(Udp(1, 2, {5}), 0, 78));
  TempFile f(Pcap(1, {f2, other, f1}));
  PcapReaderStats stats;
  auto pkts = ReadAll(f.path(), &stats);
  REQUIRE(pkts.size() == 2);
  CHECK(pkts[0].packet.datagram.payload.size() == 1);
  CHECK(std::vector<uint8_t>(pkts[1].packet.datagram.payload.begin(),
                             pkts[1].packet.datagram.payload.end()) == payload);
  CHECK(pkts[1].packet.destination.port == 4739);
  CHECK(stats.fragments_reassembled == 1);
}

TEST_CASE("PcapReader: an incomplete fragment never yields a datagram") {
  std::vector<uint8_t> udp = Udp(4000, 4739, std::vector<uint8_t>(100, 1));
  std::vector<uint8_t> a(udp.begin(), udp.begin() + 48);
  Frame f1;
  f1.bytes = Ether(0x0800, Ipv4(a, 0x2000, 5));
  Frame f2 = f1;
  f2.sec += 60;  // a different datagram (same id) a minute later
  TempFile f(Pcap(1, {f1, f2}));
  PcapReaderStats stats;
  auto pkts = ReadAll(f.path(), &stats);
  CHECK(pkts.empty());
  CHECK(stats.fragments_dropped == 1);  // the first expired after 30 s
}

std::vector<uint8_t> Ipv6Udp(const std::vector<uint8_t>& ext_then_udp,
                             uint8_t first_next) {
  BytesBuilder b;
  b.U32(0x60000000).U16(ext_then_udp.size()).U8(first_next).U8(64);
  b.Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  b.Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  b.Bytes(ext_then_udp);
  return b.Take();
}

TEST_CASE("PcapReader: raw IPv6 with extension headers and fragments") {
  std::vector<uint8_t> udp = Udp(7000, 6343, std::vector<uint8_t>(40, 0xab));
  // Hop-by-hop (8 bytes, next = fragment), fragment header, UDP part.
  auto frag = [&](size_t off, bool more, size_t from, size_t to) {
    BytesBuilder b;
    b.U8(44).U8(0).Zeros(6);  // hop-by-hop, next=44
    b.U8(17).U8(0).U16(uint16_t((off / 8) << 3 | (more ? 1 : 0))).U32(99);
    b.Bytes(std::span<const uint8_t>(udp.data() + from, to - from));
    return Ipv6Udp(b.Take(), 0);
  };
  Frame f1, f2, whole;
  f1.bytes = frag(0, true, 0, 24);
  f2.bytes = frag(24, false, 24, udp.size());
  BytesBuilder dst_opts;
  dst_opts.U8(17).U8(0).Zeros(6).Bytes(udp);
  whole.bytes = Ipv6Udp(dst_opts.Take(), 60);
  TempFile f(Pcap(101, {f1, f2, whole}));  // LINKTYPE_RAW
  auto pkts = ReadAll(f.path());
  REQUIRE(pkts.size() == 2);
  for (const auto& o : pkts) {
    const PcapReader::Packet& p = o.packet;
    CHECK(p.datagram.payload.size() == 40);
    CHECK(p.datagram.exporter.address.is_v6());
    CHECK(p.datagram.exporter.port == 7000);
    CHECK(p.destination.port == 6343);
  }
}

TEST_CASE("PcapReader: Linux cooked (SLL, SLL2) and BSD null link types") {
  std::vector<uint8_t> ip = Ipv4(Udp(1, 9995, {1, 2, 3}));
  BytesBuilder sll;
  sll.U16(0).U16(1).U16(6).Zeros(8).U16(0x0800).Bytes(ip);
  BytesBuilder sll2;
  sll2.U16(0x0800).U16(0).U32(2).U16(1).U8(0).U8(6).Zeros(8).Bytes(ip);
  BytesBuilder null;
  null.Bytes({2, 0, 0, 0}).Bytes(ip);
  for (auto [dlt, bytes] :
       {std::pair{113u, sll.Take()}, std::pair{276u, sll2.Take()},
        std::pair{0u, null.Take()}, std::pair{108u, std::vector<uint8_t>{}}}) {
    INFO(dlt);
    if (dlt == 108) {
      BytesBuilder loop;
      loop.U32(2).Bytes(ip);
      bytes = loop.Take();
    }
    Frame fr;
    fr.bytes = bytes;
    TempFile f(Pcap(dlt, {fr}));
    auto pkts = ReadAll(f.path());
    REQUIRE(pkts.size() == 1);
    CHECK(pkts[0].packet.datagram.payload.size() == 3);
    CHECK(pkts[0].packet.destination.port == 9995);
  }
}

TEST_CASE("PcapReader: udp_ports filters on the destination port") {
  Frame a, b;
  a.bytes = Ether(0x0800, Ipv4(Udp(1, 2055, {1})));
  b.bytes = Ether(0x0800, Ipv4(Udp(1, 6343, {1})));
  TempFile f(Pcap(1, {a, b, a}));
  PcapReaderOptions opts;
  opts.udp_ports = {6343};
  PcapReaderStats stats;
  auto pkts = ReadAll(f.path(), &stats, nullptr, opts);
  CHECK(pkts.size() == 1);
  CHECK(stats.filtered == 2);
}

// pcapng (little-endian): section header, one interface with if_tsresol=9
// (nanoseconds), enhanced packet blocks.
std::vector<uint8_t> Pcapng(uint16_t linktype,
                            const std::vector<std::vector<uint8_t>>& frames,
                            uint64_t ts_ns) {
  std::vector<uint8_t> f;
  auto block = [&](uint32_t type, const std::vector<uint8_t>& body) {
    uint32_t len = uint32_t(12 + body.size());
    Le32(&f, type);
    Le32(&f, len);
    f.insert(f.end(), body.begin(), body.end());
    Le32(&f, len);
  };
  std::vector<uint8_t> shb;
  Le32(&shb, 0x1a2b3c4d);
  Le16(&shb, 1);
  Le16(&shb, 0);
  Le32(&shb, 0xffffffff);
  Le32(&shb, 0xffffffff);
  block(0x0a0d0d0a, shb);
  std::vector<uint8_t> idb;
  Le16(&idb, linktype);
  Le16(&idb, 0);
  Le32(&idb, 65535);
  Le16(&idb, 9);  // if_tsresol
  Le16(&idb, 1);
  idb.insert(idb.end(), {9, 0, 0, 0});
  Le16(&idb, 0);  // opt_endofopt
  Le16(&idb, 0);
  block(1, idb);
  for (const auto& fr : frames) {
    std::vector<uint8_t> epb;
    Le32(&epb, 0);
    Le32(&epb, uint32_t(ts_ns >> 32));
    Le32(&epb, uint32_t(ts_ns));
    Le32(&epb, uint32_t(fr.size()));
    Le32(&epb, uint32_t(fr.size()));
    epb.insert(epb.end(), fr.begin(), fr.end());
    while (epb.size() % 4 != 0) epb.push_back(0);
    block(6, epb);
  }
  return f;
}

TEST_CASE("PcapReader reads pcapng with nanosecond timestamps") {
  uint64_t ts = uint64_t{1700000000} * 1'000'000'000 + 123456789;
  std::vector<uint8_t> payload = {0, 10, 0, 16, 1, 2, 3};
  TempFile f(Pcapng(1,
                    {Ether(0x0800, Ipv4(Udp(3000, 4739, payload))),
                     Ether(0x0806, std::vector<uint8_t>(28, 0))},
                    ts));
  PcapReaderStats stats;
  Status status;
  auto pkts = ReadAll(f.path(), &stats, &status);
  CHECK(status.ok());
  REQUIRE(pkts.size() == 1);
  CHECK(pkts[0].bytes == payload);
  CHECK(pkts[0].packet.datagram.arrival_ns == int64_t(ts));
  CHECK(stats.frames == 2);
  CHECK(stats.not_udp == 1);
  CHECK(stats.file_offset == stats.file_size);
}

TEST_CASE("PcapReader: Ethernet with too many VLAN tags is not parsed") {
  Frame fr;
  fr.bytes = Ether(0x0800, Ipv4(Udp(1, 2055, {1})), {1, 2, 3, 4, 5});
  TempFile f(Pcap(1, {fr}));
  PcapReaderStats stats;
  auto pkts = ReadAll(f.path(), &stats);
  CHECK(pkts.empty());
  CHECK(stats.not_udp == 1);
}

TEST_CASE("PcapReader::Open rejects what it cannot read") {
  auto missing = PcapReader::Open("/nonexistent/x.pcap", {});
  CHECK(missing.status().code() == StatusCode::kIoError);
  TempFile junk(std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n'});
  CHECK(PcapReader::Open(junk.path(), {}).status().code() ==
        StatusCode::kInvalidArgument);
  TempFile empty(std::vector<uint8_t>{});
  CHECK(PcapReader::Open(empty.path(), {}).status().code() ==
        StatusCode::kInvalidArgument);
  Frame fr;
  fr.bytes = {1, 2, 3};
  TempFile wifi(Pcap(105, {fr}));  // 802.11: unsupported
  CHECK(PcapReader::Open(wifi.path(), {}).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flowacct
