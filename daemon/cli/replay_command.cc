// `flowacct replay`: sends the UDP payloads of a capture (or synthetic
// NetFlow v9 / IPFIX datagrams) to a collector, with sendmmsg batches and an
// optional rate limit, and prints exactly what was sent.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

#include "daemon/cli/commands.h"
#include "daemon/cli/synthetic_flows.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace flowacct::cli {
namespace {

constexpr char kReplayUsage[] =
    "usage: flowacct replay FILE [options]\n"
    "       flowacct replay --synthetic ipfix|v9 --records N [options]\n"
    "\n"
    "Sends the UDP payloads of FILE (pcap, pcapng or RFC 5655 IPFIX file) to\n"
    "a collector, in capture order, or generates valid NetFlow v9 / IPFIX\n"
    "datagrams. Prints the datagrams, records and bytes sent on stdout.\n"
    "\n"
    "options:\n"
    "      --to HOST:PORT        destination (default 127.0.0.1:2100;\n"
    "                            [v6addr]:port for IPv6)\n"
    "      --rate PPS            datagrams per second (default 0: as fast as\n"
    "                            possible)\n"
    "      --duration SECONDS    stop after this long (default: no limit)\n"
    "      --batch N             datagrams per sendmmsg call (default 64)\n"
    "  capture replay:\n"
    "      --loop N              send the capture N times (default 1)\n"
    "      --udp-port N          only datagrams to UDP port N (repeatable)\n"
    "      --single-socket       send everything from one socket; by default\n"
    "                            each exporter of the capture gets its own\n"
    "                            socket (its own source port; on an IPv4\n"
    "                            loopback destination its own 127.0.0.0/8\n"
    "                            source address) so the collector keeps\n"
    "                            their templates apart\n"
    "      --sequence-rewrite    with --loop: shift NetFlow v5/v9, IPFIX and\n"
    "                            sFlow sequence numbers in each further pass\n"
    "                            so the loops read as one continuous stream\n"
    "                            per exporter (no resets, no loss)\n"
    "  synthetic traffic:\n"
    "      --synthetic ipfix|v9  generate datagrams instead of reading FILE\n"
    "      --records N           data records to send (required)\n"
    "      --flows-per-datagram K  records per datagram (default 20)\n"
    "      --template-refresh M  resend the template every M datagrams\n"
    "                            (default 100; 0 = first datagram only)\n"
    "      --distinct-flows N    distinct flow keys (default 65536)\n"
    "      --seed S              PRNG seed (default 1)\n"
    "      --domain ID           IPFIX observation domain / v9 source id\n"
    "                            (default 1)\n"
    "  -h, --help                this text\n"
    "\n"
    "Records are counted as the flowacct decoder counts them (flow and\n"
    "options records; sFlow counter samples apart). A datagram counts as sent\n"
    "once the kernel accepted it; on loopback that means it reached the\n"
    "receiver's socket buffer or was dropped there (see the collector's\n"
    "kernel drop counter).\n"
    "\n"
    "exit status: 0 ok, 1 usage error, 2 the input cannot be read or a send\n"
    "failed\n";

struct Args {
  std::string file;
  std::string to = "127.0.0.1:2100";
  double rate = 0;
  double duration = 0;
  size_t batch = 64;
  uint64_t loops = 1;
  std::vector<uint16_t> udp_ports;
  bool single_socket = false;
  bool sequence_rewrite = false;
  bool synthetic = false;
  SyntheticOptions synth;
  uint64_t records = 0;
};

int Usage(const std::string& error) {
  std::fprintf(stderr, "flowacct replay: %s\n\n%s", error.c_str(),
               kReplayUsage);
  return kExitUsage;
}

bool ParseU64(const std::string& s, uint64_t* out) {
  if (s.empty() || s[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (*end != '\0' || errno != 0) return false;
  *out = v;
  return true;
}

bool ParseDouble(const std::string& s, double* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= 0)) return false;
  *out = v;
  return true;
}

int ParseArgs(const std::vector<std::string>& args, Args* a) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string v;
    auto value = [&]() {
      if (i + 1 >= args.size()) return false;
      v = args[++i];
      return true;
    };
    uint64_t n = 0;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kReplayUsage, stdout);
      return kExitOk;
    } else if (arg == "--to") {
      if (!value()) return Usage(arg + " needs a value");
      a->to = v;
    } else if (arg == "--rate") {
      if (!value() || !ParseDouble(v, &a->rate)) return Usage("bad --rate");
    } else if (arg == "--duration") {
      if (!value() || !ParseDouble(v, &a->duration)) {
        return Usage("bad --duration");
      }
    } else if (arg == "--batch") {
      if (!value() || !ParseU64(v, &n) || n < 1 || n > 1024) {
        return Usage("--batch must be 1..1024");
      }
      a->batch = n;
    } else if (arg == "--loop") {
      if (!value() || !ParseU64(v, &a->loops) || a->loops < 1) {
        return Usage("--loop must be >= 1");
      }
    } else if (arg == "--udp-port") {
      if (!value() || !ParseU64(v, &n) || n < 1 || n > 65535) {
        return Usage("bad --udp-port");
      }
      a->udp_ports.push_back(static_cast<uint16_t>(n));
    } else if (arg == "--single-socket") {
      a->single_socket = true;
    } else if (arg == "--sequence-rewrite") {
      a->sequence_rewrite = true;
    } else if (arg == "--synthetic") {
      if (!value()) return Usage(arg + " needs a value");
      if (v == "ipfix") {
        a->synth.ipfix = true;
      } else if (v == "v9") {
        a->synth.ipfix = false;
      } else {
        return Usage("--synthetic takes ipfix or v9");
      }
      a->synthetic = true;
    } else if (arg == "--records") {
      if (!value() || !ParseU64(v, &a->records) || a->records < 1) {
        return Usage("--records must be >= 1");
      }
    } else if (arg == "--flows-per-datagram") {
      if (!value() || !ParseU64(v, &n) || n < 1 || n > 1000) {
        return Usage("--flows-per-datagram must be 1..1000");
      }
      a->synth.flows_per_datagram = n;
    } else if (arg == "--template-refresh") {
      if (!value() || !ParseU64(v, &n) || n > 0xffffffffu) {
        return Usage("bad --template-refresh");
      }
      a->synth.template_refresh = static_cast<uint32_t>(n);
    } else if (arg == "--distinct-flows") {
      if (!value() || !ParseU64(v, &n) || n < 1) {
        return Usage("--distinct-flows must be >= 1");
      }
      a->synth.distinct_flows = n;
    } else if (arg == "--seed") {
      if (!value() || !ParseU64(v, &a->synth.seed)) return Usage("bad --seed");
    } else if (arg == "--domain") {
      if (!value() || !ParseU64(v, &n) || n > 0xffffffffu) {
        return Usage("bad --domain");
      }
      a->synth.observation_domain = static_cast<uint32_t>(n);
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage("unknown option \"" + arg + "\"");
    } else if (a->file.empty()) {
      a->file = arg;
    } else {
      return Usage("more than one FILE given");
    }
  }
  if (a->synthetic) {
    if (!a->file.empty())
      return Usage("FILE and --synthetic exclude each other");
    if (a->records == 0) return Usage("--synthetic needs --records N");
  } else if (a->file.empty()) {
    return Usage("no FILE given (or use --synthetic)");
  }
  return -1;
}

// "127.0.0.1:2100", "[::1]:2100".
bool ParseDestination(const std::string& text, sockaddr_storage* ss,
                      socklen_t* len, IpAddress* ip) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  uint64_t p = 0;
  if (!ParseU64(port, &p) || p < 1 || p > 65535) return false;
  Result<IpAddress> addr = IpAddress::Parse(host);
  if (!addr.ok()) return false;
  *ip = *addr;
  std::memset(ss, 0, sizeof(*ss));
  if (addr->is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, addr->data(), 4);
    sin->sin_port = htons(static_cast<uint16_t>(p));
    *len = sizeof(*sin);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, addr->data(), 16);
    sin6->sin6_port = htons(static_cast<uint16_t>(p));
    *len = sizeof(*sin6);
  }
  return true;
}

// Paces sends at `rate` datagrams/s (0: unlimited) from the start time: the
// n-th datagram is not sent before start + n / rate.
class Pacer {
 public:
  Pacer(double rate, double duration_s)
      : rate_(rate),
        start_(std::chrono::steady_clock::now()),
        has_deadline_(duration_s > 0),
        deadline_(
            start_ +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(duration_s))) {}

  // How many of the next `want` datagrams may go now (>= 1 after waiting),
  // or 0 when the duration is over.
  size_t Acquire(size_t want, uint64_t sent) {
    for (int i = 0; i < 1'000'000; ++i) {
      auto now = std::chrono::steady_clock::now();
      if (has_deadline_ && now >= deadline_) return 0;
      if (rate_ <= 0) return want;
      double elapsed = std::chrono::duration<double>(now - start_).count();
      double allowed = elapsed * rate_ + 1 - static_cast<double>(sent);
      if (allowed >= 1) {
        return std::min(want, static_cast<size_t>(allowed));
      }
      double wait_s = (1 - allowed) / rate_;
      std::this_thread::sleep_for(
          std::chrono::duration<double>(std::min(wait_s, 0.1)));
    }
    return 0;
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

 private:
  double rate_;
  std::chrono::steady_clock::time_point start_;
  bool has_deadline_;
  std::chrono::steady_clock::time_point deadline_;
};

struct Totals {
  uint64_t datagrams = 0;
  uint64_t records = 0;
  uint64_t counter_records = 0;
  uint64_t bytes = 0;
  uint64_t send_errors = 0;
};

// Sends `count` prepared messages on `fd`, retrying partial sendmmsg calls.
// Returns how many were accepted; stops at a hard error.
size_t SendAll(int fd, mmsghdr* msgs, size_t count, std::string* error) {
  size_t done = 0;
  int busy = 0;
  while (done < count) {
    int n = ::sendmmsg(fd, msgs + done, static_cast<unsigned>(count - done), 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
      busy = 0;
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) &&
        busy++ < 1000) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    *error = std::string("sendmmsg: ") + std::strerror(errno);
    break;
  }
  return done;
}

int64_t NowMs() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

int OpenSocket(int family, const IpAddress* bind_to, std::string* error) {
  int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int sndbuf = 4 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  if (bind_to != nullptr && bind_to->is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, bind_to->data(), 4);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
      *error = "bind " + bind_to->ToString() + ": " + std::strerror(errno);
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

void PrintTotals(const Totals& t, double seconds) {
  std::printf(
      "sent %llu datagrams, %llu records, %llu counter records, %llu bytes "
      "in %.3f s (%.0f datagrams/s, %.0f records/s)\n",
      (unsigned long long)t.datagrams, (unsigned long long)t.records,
      (unsigned long long)t.counter_records, (unsigned long long)t.bytes,
      seconds, seconds > 0 ? t.datagrams / seconds : 0.0,
      seconds > 0 ? t.records / seconds : 0.0);
  if (t.send_errors > 0) {
    std::printf("send errors: %llu datagrams not sent\n",
                (unsigned long long)t.send_errors);
  }
  std::fflush(stdout);
}

int RunSynthetic(const Args& a, const sockaddr_storage& dest,
                 socklen_t dest_len) {
  std::string error;
  int fd = OpenSocket(dest.ss_family, nullptr, &error);
  if (fd < 0) {
    std::fprintf(stderr, "flowacct replay: %s\n", error.c_str());
    return kExitInput;
  }
  SyntheticFlowGenerator gen(a.synth);
  const size_t per = a.synth.flows_per_datagram;
  std::vector<std::vector<uint8_t>> bufs(a.batch);
  std::vector<iovec> iovs(a.batch);
  std::vector<mmsghdr> msgs(a.batch);
  std::vector<size_t> recs(a.batch);
  Totals t;
  Pacer pacer(a.rate, a.duration);
  int rc = kExitOk;
  uint64_t generated = 0;
  while (generated < a.records) {
    size_t n = pacer.Acquire(a.batch, t.datagrams);
    if (n == 0) break;
    const int64_t now_ms = NowMs();
    size_t k = 0;
    for (; k < n && generated < a.records; ++k) {
      size_t r =
          static_cast<size_t>(std::min<uint64_t>(per, a.records - generated));
      gen.Next(r, now_ms, &bufs[k]);
      generated += r;
      recs[k] = r;
      iovs[k] = {bufs[k].data(), bufs[k].size()};
      std::memset(&msgs[k], 0, sizeof(msgs[k]));
      msgs[k].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&dest);
      msgs[k].msg_hdr.msg_namelen = dest_len;
      msgs[k].msg_hdr.msg_iov = &iovs[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    size_t sent = SendAll(fd, msgs.data(), k, &error);
    for (size_t i = 0; i < sent; ++i) {
      ++t.datagrams;
      t.records += recs[i];
      t.bytes += bufs[i].size();
    }
    if (sent < k) {
      t.send_errors += k - sent;
      std::fprintf(stderr, "flowacct replay: %s\n", error.c_str());
      rc = kExitInput;
      break;
    }
  }
  ::close(fd);
  PrintTotals(t, pacer.elapsed());
  return rc;
}

struct Prepared {
  std::vector<uint8_t> payload;
  size_t sender = 0;  // index into the sockets
  uint32_t records = 0;
  uint32_t counter_records = 0;
  // --sequence-rewrite: where the 32-bit sequence number sits (0: none),
  // its value in the capture and the stream it belongs to.
  size_t seq_offset = 0;
  uint32_t seq = 0;
  size_t stream = 0;
};

// One sequence-numbered stream: exporter + version + engine / source id /
// observation domain / sFlow sub-agent, as collectors track them.
struct StreamKey {
  Endpoint exporter;
  uint32_t version = 0;
  uint32_t id = 0;
  friend auto operator<=>(const StreamKey&, const StreamKey&) = default;
};
struct StreamSpan {
  uint32_t first = 0;
  uint32_t next = 0;  // the sequence number after the stream's last message
};

uint32_t Be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) |
         (uint32_t{b[at + 2]} << 8) | b[at + 3];
}
uint16_t Be16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
void PutBe32(std::vector<uint8_t>* b, size_t at, uint32_t v) {
  (*b)[at] = uint8_t(v >> 24);
  (*b)[at + 1] = uint8_t(v >> 16);
  (*b)[at + 2] = uint8_t(v >> 8);
  (*b)[at + 3] = uint8_t(v);
}

// Finds the sequence number of a v5/v9/IPFIX/sFlow v5 datagram: sets
// item->seq_offset/seq, *key's version and id, and *increment (what the
// message adds to the stream's counter). False for anything else.
bool LocateSequence(Prepared* item, StreamKey* key, uint32_t* increment) {
  const std::vector<uint8_t>& b = item->payload;
  if (b.size() < 4) return false;
  uint16_t version = Be16(b, 0);
  if (version == 5 && b.size() >= 24) {
    // Cisco v5 header: flow_sequence at 16 counts flows (header count).
    item->seq_offset = 16;
    key->id = Be16(b, 20);  // engine type + id
    *increment = Be16(b, 2);
  } else if (version == 9 && b.size() >= 20) {
    // RFC 3954 §5.1: sequence at 12 counts export packets; source id at 16.
    item->seq_offset = 12;
    key->id = Be32(b, 16);
    *increment = 1;
  } else if (version == 10 && b.size() >= 16) {
    // RFC 7011 §3.1: sequence at 8 counts data records; domain at 12.
    item->seq_offset = 8;
    key->id = Be32(b, 12);
    *increment = item->records;
  } else if (version == 0 && Be32(b, 0) == 5 && b.size() >= 28) {
    // sFlow v5: version, address type, agent address, sub-agent id, then
    // the datagram sequence number (+1 per datagram).
    uint32_t type = Be32(b, 4);
    size_t addr_len = type == 1 ? 4 : type == 2 ? 16 : 0;
    if (addr_len == 0 || b.size() < 16 + addr_len) return false;
    key->id = Be32(b, 8 + addr_len);
    item->seq_offset = 12 + addr_len;
    *increment = 1;
  } else {
    return false;
  }
  key->version = version == 0 ? 5 : version;
  item->seq = Be32(b, item->seq_offset);
  return true;
}

int RunCapture(const Args& a, const sockaddr_storage& dest, socklen_t dest_len,
               const IpAddress& dest_ip) {
  PcapReaderOptions ro;
  ro.udp_ports = a.udp_ports;
  auto reader = PcapReader::Open(a.file, ro);
  if (!reader.ok()) {
    std::fprintf(stderr, "flowacct replay: %s\n",
                 reader.status().ToString().c_str());
    return kExitInput;
  }
  // Read everything first (loops resend it), count records with a decoder.
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  auto decoder = Decoder::Create(DecoderOptions{}, registry.get());
  if (!decoder.ok()) {
    std::fprintf(stderr, "flowacct replay: %s\n",
                 decoder.status().ToString().c_str());
    return kExitInput;
  }
  std::map<Endpoint, size_t> exporters;
  std::vector<Prepared> items;
  std::map<StreamKey, size_t> streams;
  std::vector<StreamSpan> spans;
  RecordBatch batch;
  PcapReader::Packet p;
  constexpr uint64_t kMaxBytes = uint64_t{2} << 30;
  uint64_t total_bytes = 0;
  while ((*reader)->Next(&p)) {
    total_bytes += p.datagram.payload.size();
    if (total_bytes > kMaxBytes) {
      std::fprintf(stderr,
                   "flowacct replay: capture holds more than 2 GiB "
                   "of payload; not supported\n");
      return kExitInput;
    }
    Prepared item;
    item.payload.assign(p.datagram.payload.begin(), p.datagram.payload.end());
    auto [it, inserted] =
        exporters.emplace(p.datagram.exporter, exporters.size());
    item.sender = a.single_socket ? 0 : it->second;
    batch.Clear();
    DecodeSummary s = (*decoder)->Decode(p.datagram, &batch);
    item.records = static_cast<uint32_t>(s.records);
    item.counter_records = static_cast<uint32_t>(s.counter_records);
    if (a.sequence_rewrite) {
      StreamKey key;
      key.exporter = p.datagram.exporter;
      uint32_t increment = 0;
      if (LocateSequence(&item, &key, &increment)) {
        auto [st, is_new] = streams.emplace(key, streams.size());
        if (is_new) spans.push_back({item.seq, item.seq});
        item.stream = st->second;
        spans[item.stream].next = item.seq + increment;
      } else {
        item.seq_offset = 0;
      }
    }
    items.push_back(std::move(item));
  }
  if (!(*reader)->status().ok()) {
    std::fprintf(stderr,
                 "flowacct replay: %s (sending the %zu datagrams read)\n",
                 (*reader)->status().ToString().c_str(), items.size());
  }

  // One socket per exporter (or one). On an IPv4 loopback destination each
  // gets its own source address 127.1.x.y so exporters stay distinct by
  // address, as a collector keys them.
  size_t n_sockets =
      a.single_socket ? 1 : std::max<size_t>(exporters.size(), 1);
  if (n_sockets > 60000) {
    std::fprintf(stderr,
                 "flowacct replay: too many exporters (%zu); use "
                 "--single-socket\n",
                 n_sockets);
    return kExitInput;
  }
  bool loopback_v4 = dest_ip.is_v4() && (dest_ip.v4_host_order() >> 24) == 127;
  std::vector<int> sockets;
  std::string error;
  for (size_t i = 0; i < n_sockets; ++i) {
    IpAddress src = IpAddress::V4(0x7f010000u + 1 + static_cast<uint32_t>(i));
    int fd =
        OpenSocket(dest.ss_family,
                   loopback_v4 && !a.single_socket ? &src : nullptr, &error);
    if (fd < 0) {
      std::fprintf(stderr, "flowacct replay: %s\n", error.c_str());
      for (int s : sockets) ::close(s);
      return kExitInput;
    }
    sockets.push_back(fd);
  }
  if (!a.single_socket && exporters.size() > 1) {
    std::fprintf(stderr, "flowacct replay: %zu exporters, one socket each\n",
                 exporters.size());
  }

  // Per-socket pending batches, flushed when full, before waiting for the
  // pacer and at the end.
  struct Pending {
    std::vector<mmsghdr> msgs;
    std::vector<iovec> iovs;
    std::vector<const Prepared*> items;
  };
  std::vector<Pending> pending(n_sockets);
  for (Pending& pd : pending) {
    pd.msgs.resize(a.batch);
    pd.iovs.resize(a.batch);
    pd.items.reserve(a.batch);
  }
  Totals t;
  bool failed = false;
  auto flush = [&](size_t s) {
    Pending& pd = pending[s];
    if (pd.items.empty()) return;
    size_t k = pd.items.size();
    size_t sent = SendAll(sockets[s], pd.msgs.data(), k, &error);
    for (size_t i = 0; i < sent; ++i) {
      ++t.datagrams;
      t.records += pd.items[i]->records;
      t.counter_records += pd.items[i]->counter_records;
      t.bytes += pd.items[i]->payload.size();
    }
    if (sent < k) {
      t.send_errors += k - sent;
      if (!failed) std::fprintf(stderr, "flowacct replay: %s\n", error.c_str());
      failed = true;
    }
    pd.items.clear();
  };
  auto flush_all = [&] {
    for (size_t s = 0; s < n_sockets; ++s) flush(s);
  };

  Pacer pacer(a.rate, a.duration);
  uint64_t queued = 0;  // datagrams handed to batches
  size_t allowance = 0;
  bool stop = false;
  for (uint64_t loop = 0; loop < a.loops && !stop && !failed; ++loop) {
    if (a.sequence_rewrite && loop > 0) {
      // Payloads are rewritten in place: nothing of the last pass may still
      // be waiting in a batch.
      flush_all();
      for (Prepared& item : items) {
        if (item.seq_offset == 0) continue;
        const StreamSpan& sp = spans[item.stream];
        uint32_t shift = static_cast<uint32_t>(loop) * (sp.next - sp.first);
        PutBe32(&item.payload, item.seq_offset, item.seq + shift);
      }
    }
    for (const Prepared& item : items) {
      if (allowance == 0) {
        flush_all();
        if (failed) break;
        allowance = pacer.Acquire(a.batch, queued);
        if (allowance == 0) {
          stop = true;
          break;
        }
      }
      --allowance;
      ++queued;
      Pending& pd = pending[item.sender];
      size_t k = pd.items.size();
      pd.iovs[k] = {const_cast<uint8_t*>(item.payload.data()),
                    item.payload.size()};
      std::memset(&pd.msgs[k], 0, sizeof(pd.msgs[k]));
      pd.msgs[k].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&dest);
      pd.msgs[k].msg_hdr.msg_namelen = dest_len;
      pd.msgs[k].msg_hdr.msg_iov = &pd.iovs[k];
      pd.msgs[k].msg_hdr.msg_iovlen = 1;
      pd.items.push_back(&item);
      if (pd.items.size() == a.batch) flush(item.sender);
      if (failed) break;
    }
  }
  flush_all();
  for (int s : sockets) ::close(s);
  PrintTotals(t, pacer.elapsed());
  return failed ? kExitInput : kExitOk;
}

}  // namespace

int ReplayCommand(const std::vector<std::string>& args) {
  Args a;
  int rc = ParseArgs(args, &a);
  if (rc >= 0) return rc;
  sockaddr_storage dest;
  socklen_t dest_len = 0;
  IpAddress dest_ip;
  if (!ParseDestination(a.to, &dest, &dest_len, &dest_ip)) {
    return Usage("bad --to \"" + a.to + "\" (HOST:PORT or [V6]:PORT)");
  }
  return a.synthetic ? RunSynthetic(a, dest, dest_len)
                     : RunCapture(a, dest, dest_len, dest_ip);
}

}  // namespace flowacct::cli
