#include "tests/support/tcp_streams.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>

#include <pcap/pcap.h>

namespace flowacct::testing {
namespace {

uint16_t U16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t U32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

struct Segment {
  uint32_t seq;
  std::vector<uint8_t> data;
  size_t order;
};

struct Flow {
  Endpoint src, dst;
  std::vector<Segment> segments;
  size_t first_frame = 0;
  bool have_syn = false;
  uint32_t isn = 0;
};

using Key = std::tuple<Endpoint, Endpoint>;

// A plausible IPv4 header at p (checksum verified) or IPv6 header carrying
// TCP (possibly after extension headers).
bool LooksLikeIp(const uint8_t* p, size_t n) {
  if (n < 20) return false;
  if ((p[0] >> 4) == 4) {
    const size_t ihl = (p[0] & 0xf) * 4u;
    if (ihl < 20 || n < ihl) return false;
    const size_t total = U16(p + 2);
    if (total < ihl || total > n) return false;
    uint32_t sum = 0;
    for (size_t i = 0; i < ihl; i += 2) sum += U16(p + i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
  }
  if ((p[0] >> 4) == 6 && n >= 40) {
    return size_t{U16(p + 4)} + 40 <= n;
  }
  return false;
}

size_t LinkOffset(int linktype, const uint8_t* p, size_t n, bool* ok) {
  *ok = true;
  switch (linktype) {
    case DLT_EN10MB: {
      size_t off = 12;
      while (off + 2 <= n) {
        const uint16_t et = U16(p + off);
        if (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
          off += 4;
          continue;
        }
        if (et == 0x0800 || et == 0x86dd) return off + 2;
        break;
      }
      *ok = false;
      return 0;
    }
    case DLT_RAW:
    case 101:  // LINKTYPE_RAW
    case 14:
      return 0;
    case DLT_LINUX_SLL:
      return 16;
    case 276:  // SLL2
      return 20;
    default:
      for (size_t off = 0; off < 64 && off < n; ++off) {
        if (LooksLikeIp(p + off, n - off)) return off;
      }
      *ok = false;
      return 0;
  }
}

}  // namespace

Result<std::vector<TcpStream>> ReadTcpStreams(const std::string& path,
                                              uint16_t port,
                                              TcpStreamStats* stats_out) {
  TcpStreamStats stats;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap = nullptr;
  FILE* pipe = nullptr;
  std::vector<char> gunzipped;
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    // Decompress into memory; libpcap reads it through fmemopen() and
    // closes that FILE itself.
    pipe = popen(("gzip -dc '" + path + "'").c_str(), "r");
    if (pipe == nullptr) return IoError("cannot run gzip for " + path);
    char chunk[65536];
    size_t got = 0;
    while ((got = fread(chunk, 1, sizeof(chunk), pipe)) > 0) {
      gunzipped.insert(gunzipped.end(), chunk, chunk + got);
    }
    pclose(pipe);
    pipe = nullptr;
    if (gunzipped.empty()) return InvalidArgumentError(path + ": empty");
    FILE* mem = fmemopen(gunzipped.data(), gunzipped.size(), "rb");
    if (mem == nullptr) return IoError("fmemopen failed");
    pcap = pcap_fopen_offline(mem, errbuf);
  } else {
    pcap = pcap_open_offline(path.c_str(), errbuf);
  }
  if (pcap == nullptr) {
    return InvalidArgumentError(path + ": " + errbuf);
  }
  const int linktype = pcap_datalink(pcap);
  std::map<Key, Flow> flows;
  std::vector<Key> order;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  size_t frame = 0;
  while (pcap_next_ex(pcap, &hdr, &data) == 1) {
    ++stats.frames;
    const size_t index = frame++;
    const uint8_t* p = data;
    size_t n = hdr->caplen;
    bool ok = false;
    const size_t off = LinkOffset(linktype, p, n, &ok);
    if (!ok || off >= n) {
      ++stats.skipped;
      continue;
    }
    p += off;
    n -= off;
    Endpoint src, dst;
    const uint8_t* tcp = nullptr;
    size_t tcp_len = 0;
    if (n >= 20 && (p[0] >> 4) == 4) {
      const size_t ihl = (p[0] & 0xf) * 4u;
      const size_t total = U16(p + 2);
      const uint16_t frag = U16(p + 6);
      if (ihl < 20 || total < ihl || total > n || p[9] != 6 ||
          (frag & 0x3fff) != 0) {
        ++stats.skipped;
        continue;
      }
      src.address = IpAddress::V4Bytes(p + 12);
      dst.address = IpAddress::V4Bytes(p + 16);
      tcp = p + ihl;
      tcp_len = total - ihl;
    } else if (n >= 40 && (p[0] >> 4) == 6) {
      const size_t payload = U16(p + 4);
      if (payload + 40 > n) {
        ++stats.skipped;
        continue;
      }
      uint8_t next = p[6];
      size_t pos = 40;
      while (next != 6 && (next == 0 || next == 43 || next == 60) &&
             pos + 8 <= 40 + payload) {
        next = p[pos];
        pos += (size_t{p[pos + 1]} + 1) * 8;
      }
      if (next != 6 || pos > 40 + payload) {
        ++stats.skipped;
        continue;
      }
      src.address = IpAddress::V6Bytes(p + 8);
      dst.address = IpAddress::V6Bytes(p + 24);
      tcp = p + pos;
      tcp_len = 40 + payload - pos;
    } else {
      ++stats.skipped;
      continue;
    }
    if (tcp_len < 20) {
      ++stats.skipped;
      continue;
    }
    src.port = U16(tcp);
    dst.port = U16(tcp + 2);
    const uint32_t seq = U32(tcp + 4);
    const size_t doff = (tcp[12] >> 4) * 4u;
    const uint8_t flags = tcp[13];
    if (doff < 20 || doff > tcp_len) {
      ++stats.skipped;
      continue;
    }
    if (port != 0 && src.port != port && dst.port != port) continue;
    ++stats.tcp_segments;
    const Key key{src, dst};
    auto [it, inserted] = flows.try_emplace(key);
    Flow& f = it->second;
    if (inserted) {
      f.src = src;
      f.dst = dst;
      f.first_frame = index;
      order.push_back(key);
    }
    if (flags & 0x02) {  // SYN
      f.have_syn = true;
      f.isn = seq + 1;
    }
    if (tcp_len > doff) {
      f.segments.push_back(
          {seq, std::vector<uint8_t>(tcp + doff, tcp + tcp_len), index});
    }
  }
  pcap_close(pcap);

  std::vector<TcpStream> out;
  for (const Key& key : order) {
    Flow& f = flows[key];
    if (f.segments.empty()) continue;
    // Offsets relative to the ISN (or the first segment), signed so that a
    // segment seen out of order before the first one sorts first.
    const uint32_t base = f.have_syn ? f.isn : f.segments.front().seq;
    auto rel = [base](uint32_t seq) {
      return int64_t{static_cast<int32_t>(seq - base)};
    };
    std::stable_sort(f.segments.begin(), f.segments.end(),
                     [&](const Segment& a, const Segment& b) {
                       return rel(a.seq) < rel(b.seq);
                     });
    TcpStream s;
    s.source = f.src;
    s.destination = f.dst;
    s.first_frame = f.first_frame;
    int64_t next = rel(f.segments.front().seq);
    for (const Segment& seg : f.segments) {
      const int64_t start = rel(seg.seq);
      const int64_t end = start + static_cast<int64_t>(seg.data.size());
      if (end <= next) continue;  // retransmission
      if (start > next) ++s.holes;
      const size_t skip = start < next ? static_cast<size_t>(next - start) : 0;
      s.bytes.insert(s.bytes.end(), seg.data.begin() + skip, seg.data.end());
      ++s.segments;
      next = end;
    }
    out.push_back(std::move(s));
  }
  if (stats_out != nullptr) *stats_out = stats;
  return out;
}

}  // namespace flowacct::testing
