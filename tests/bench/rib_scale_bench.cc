// rib_scale_bench: full-table scale figures for the BGP RIB.
//
// Generates a synthetic full table (model: tests/bench/rib_table_gen.h),
// feeds it to 1..N peers (each an iBGP edge router seeing every prefix with
// partly shared paths) and reports, at each checkpoint:
//   - RIB bytes by structure (the RIB's own accounting) and process RSS,
//     and both per additional peer;
//   - ingest CPU-seconds per million routes (thread CPU time of the writer,
//     table generation excluded). By default a peer's routes arrive as BGP
//     UPDATE messages back to back in one buffer, and ingest is what the
//     speaker does with each: ParseUpdate into one reused ParsedUpdate,
//     Intern, Announce. --input=decoded feeds the RIB the generator's
//     decoded updates instead: no parsing, but the writer then reads
//     C++ objects scattered over the heap (vectors of NLRI, AS path
//     segments and communities per update), several times the bytes of
//     the messages, through the caches the lookups share;
//   - longest-prefix lookup latency (uniform, Zipf-like and hot-set
//     addresses), idle and while another thread ingests
//     a further full-table peer.
// --huge-pages sets RibOptions::huge_pages.
//
//   rib_scale_bench [--peers=1,10,20] [--v4=1000000] [--v6=200000]
//                   [--lookups=2000000] [--input=wire|decoded]
//                   [--huge-pages]
//
// A plain executable (its own main), not a Google Benchmark binary.

#include <atomic>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "flowacct/bgp/message.h"
#include "flowacct/bgp/rib.h"

#include "tests/bench/rib_bench_util.h"
#include "tests/bench/rib_table_gen.h"
#include <malloc.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

namespace flowacct::bgp {
namespace {

double RssMiB() {
  malloc_trim(0);
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

double MiB(uint64_t bytes) { return bytes / 1048576.0; }

struct Ingested {
  double cpu_seconds = 0;
  uint64_t routes = 0;
  uint64_t updates = 0;
  // Of cpu_seconds, what the kernel spent (mostly page faults: fresh
  // memory is backed on first write), and the page faults taken.
  double sys_seconds = 0;
  uint64_t page_faults = 0;
};

// The calling thread's system CPU seconds and minor page faults so far.
struct KernelUse {
  double sys_seconds;
  uint64_t page_faults;
};
KernelUse ThreadKernelUse() {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return {ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6,
          static_cast<uint64_t>(ru.ru_minflt)};
}

// A peer's UPDATEs as its session delivers them: whole messages, back to
// back.
struct Wire {
  std::vector<uint8_t> bytes;
  std::vector<size_t> ends;  // of each message in `bytes`
};

// Both ends of the bench's sessions: 4-octet AS, IPv4 and IPv6 unicast.
SessionParams BenchSession() {
  SessionParams p;
  p.families = {kIpv4Unicast, kIpv6Unicast};
  p.ibgp = true;
  p.local_as = p.peer_as = 64500;
  return p;
}

// Encodes `ups`; an update too big for one message is split in halves.
void AppendWire(const UpdateBuilder& builder, const PathAttributes& attrs,
                std::span<const Nlri> nlri, Wire* out) {
  Result<std::vector<uint8_t>> m = builder.Build(attrs, nlri, {});
  if (!m.ok()) {
    if (nlri.size() < 2) std::abort();
    const size_t half = nlri.size() / 2;
    AppendWire(builder, attrs, nlri.first(half), out);
    AppendWire(builder, attrs, nlri.subspan(half), out);
    return;
  }
  out->bytes.insert(out->bytes.end(), m->begin(), m->end());
  out->ends.push_back(out->bytes.size());
}
Wire Encode(const std::vector<benchgen::Update>& ups) {
  const UpdateBuilder builder(BenchSession());
  Wire w;
  for (const benchgen::Update& u : ups) {
    AppendWire(builder, u.attributes, u.nlri, &w);
  }
  return w;
}

Ingested IngestWire(PeerWriter* peer, const Wire& wire) {
  const SessionParams params = BenchSession();
  Ingested r;
  ParsedUpdate update;
  size_t begin = 0;
  const KernelUse k0 = ThreadKernelUse();
  double t0 = benchutil::ThreadCpuSeconds();
  for (size_t end : wire.ends) {
    ParseUpdate(
        std::span<const uint8_t>(wire.bytes.data() + begin, end - begin),
        params, &update);
    begin = end;
    if (update.action != UpdateAction::kOk) std::abort();
    Result<AttrHandle> h = peer->Intern(update.attributes);
    if (!h.ok()) std::abort();
    if (!peer->Announce(update.announced, *h).ok()) std::abort();
    r.routes += update.announced.size();
  }
  r.cpu_seconds = benchutil::ThreadCpuSeconds() - t0;
  const KernelUse k1 = ThreadKernelUse();
  r.sys_seconds = k1.sys_seconds - k0.sys_seconds;
  r.page_faults = k1.page_faults - k0.page_faults;
  r.updates = wire.ends.size();
  return r;
}

Ingested Ingest(PeerWriter* peer, const std::vector<benchgen::Update>& ups) {
  Ingested r;
  const KernelUse k0 = ThreadKernelUse();
  double t0 = benchutil::ThreadCpuSeconds();
  for (const benchgen::Update& u : ups) {
    Result<AttrHandle> h = peer->Intern(u.attributes);
    if (!h.ok()) std::abort();
    if (!peer->Announce(std::span<const Nlri>(u.nlri), *h).ok()) std::abort();
    r.routes += u.nlri.size();
  }
  r.cpu_seconds = benchutil::ThreadCpuSeconds() - t0;
  const KernelUse k1 = ThreadKernelUse();
  r.sys_seconds = k1.sys_seconds - k0.sys_seconds;
  r.page_faults = k1.page_faults - k0.page_faults;
  r.updates = ups.size();
  return r;
}

// Mean ns per lookup over `addrs`, spreading lookups over `peers`;
// sections of 64 lookups (a decode worker's batch), made one by one with
// Lookup() or together with LookupMany(). Each hit's origin AS and prefix
// length are read, as enrichment would. Thread CPU time, so a busy shared
// machine inflates it less than wall time would.
double MeasureLookups(RibReader* reader, const std::vector<PeerId>& peers,
                      const std::vector<IpAddress>& addrs, size_t count,
                      bool batched, uint64_t* found) {
  // Which peer and address each lookup uses, precomputed so the loop does
  // no division (two per lookup cost ~20 ns, as much as a warm lookup).
  constexpr size_t kSchedule = 4096;
  std::vector<PeerId> peer_of(kSchedule);
  for (size_t k = 0; k < kSchedule; ++k) {
    peer_of[k] = peers[(k * 7) % peers.size()];
  }
  const size_t addr_mask = std::bit_floor(addrs.size()) - 1;
  double t0 = benchutil::ThreadCpuSeconds();
  size_t done = 0;
  uint64_t hits = 0;
  uint64_t sink = 0;
  size_t i = 0;
  std::vector<LookupRequest> requests(64);
  std::vector<std::optional<RouteMatch>> results(64);
  const auto use = [&](const std::optional<RouteMatch>& m) {
    if (m) {
      ++hits;
      sink += m->attributes.origin_as() + m->prefix.length;
    }
  };
  while (done < count) {
    auto section = reader->Enter();
    if (batched) {
      for (int k = 0; k < 64; ++k, ++i) {
        requests[k].address = addrs[i & addr_mask];
        requests[k].peer = peer_of[i & (kSchedule - 1)];
      }
      section.LookupMany(requests, results);
      for (const auto& m : results) use(m);
    } else {
      for (int k = 0; k < 64; ++k, ++i) {
        use(section.Lookup(peer_of[i & (kSchedule - 1)], addrs[i & addr_mask]));
      }
    }
    done += 64;
  }
  double ns = (benchutil::ThreadCpuSeconds() - t0) * 1e9;
  *found = hits + (sink == 42 ? 1 : 0);
  return ns / static_cast<double>(done);
}

std::vector<int> ParseList(const char* s) {
  std::vector<int> out;
  while (*s) {
    out.push_back(std::atoi(s));
    while (*s && *s != ',') ++s;
    if (*s == ',') ++s;
  }
  return out;
}

int Main(int argc, char** argv) {
  std::vector<int> checkpoints = {1, 10, 20};
  size_t n_v4 = 1000000, n_v6 = 200000, n_lookups = 2000000;
  bool wire_input = true;
  RibOptions rib_options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* flag) -> const char* {
      size_t l = std::strlen(flag);
      return a.compare(0, l, flag) == 0 ? argv[i] + l : nullptr;
    };
    if (const char* v = val("--peers=")) {
      checkpoints = ParseList(v);
    } else if (const char* v4 = val("--v4=")) {
      n_v4 = std::strtoull(v4, nullptr, 10);
    } else if (const char* v6 = val("--v6=")) {
      n_v6 = std::strtoull(v6, nullptr, 10);
    } else if (const char* lk = val("--lookups=")) {
      n_lookups = std::strtoull(lk, nullptr, 10);
    } else if (a == "--input=wire" || a == "--input=decoded") {
      wire_input = a == "--input=wire";
    } else if (a == "--huge-pages") {
      rib_options.huge_pages = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--peers=1,10,20] [--v4=N] [--v6=N] "
                   "[--lookups=N] [--input=wire|decoded] [--huge-pages]\n",
                   argv[0]);
      return 2;
    }
  }
  int max_peers = checkpoints.empty() ? 1 : checkpoints.back();

  std::printf("generating %zu IPv4 + %zu IPv6 prefixes...\n", n_v4, n_v6);
  std::printf("input: %s\n",
              wire_input ? "BGP UPDATE messages (parse + intern + announce)"
                         : "decoded updates (intern + announce)");
  // A peer's input, as --input asks.
  struct Input {
    std::vector<benchgen::Update> decoded;
    size_t decoded_bytes = 0;  // heap they took
    Wire wire;
  };
  const auto make_input = [&](const benchgen::Table& t, uint32_t peer) {
    Input in;
    const auto heap = [] {
      const struct mallinfo2 m = mallinfo2();
      return m.uordblks + m.hblkhd;  // in use: heap and mmapped chunks
    };
    const size_t heap_before = heap();
    in.decoded = benchgen::UpdatesFor(t, peer);
    in.decoded_bytes = heap() - heap_before;
    if (wire_input) {
      in.wire = Encode(in.decoded);
      in.decoded = {};
    }
    return in;
  };
  const auto ingest = [&](PeerWriter* w, const Input& in) {
    return wire_input ? IngestWire(w, in.wire) : Ingest(w, in.decoded);
  };
  benchgen::Table table = benchgen::MakeTable(n_v4, n_v6);
  std::vector<IpAddress> v4_addrs = benchutil::LookupAddresses(
      table, false, 1 << 18, benchutil::Spread::kUniform);
  std::vector<IpAddress> v6_addrs = benchutil::LookupAddresses(
      table, true, 1 << 18, benchutil::Spread::kUniform);
  std::vector<IpAddress> v4_zipf = benchutil::LookupAddresses(
      table, false, 1 << 18, benchutil::Spread::kZipf);
  std::vector<IpAddress> v6_zipf = benchutil::LookupAddresses(
      table, true, 1 << 18, benchutil::Spread::kZipf);
  std::vector<IpAddress> v4_hot = benchutil::LookupAddresses(
      table, false, 1 << 18, benchutil::Spread::kHot);
  std::vector<IpAddress> v6_hot =
      benchutil::LookupAddresses(table, true, 1 << 18, benchutil::Spread::kHot);

  auto rib = std::move(*Rib::Create(rib_options));
  auto reader = rib->NewReader();
  std::vector<std::unique_ptr<PeerWriter>> peers;
  std::vector<PeerId> ids;
  double rss_base = RssMiB();
  uint64_t bytes_one = 0;
  double rss_one = 0;
  double cpu_first = 0, cpu_rest = 0;
  uint64_t routes_first = 0, routes_rest = 0;
  uint64_t sets_before = 0;

  std::printf("baseline RSS (table generator + lookup sets): %.1f MiB\n\n",
              rss_base);
  for (int p = 1; p <= max_peers; ++p) {
    Input input = make_input(table, p);
    if (p == 1) {
      std::printf("a peer's input: decoded updates %.1f MiB of heap",
                  MiB(input.decoded_bytes));
      if (wire_input) {
        std::printf(", as %zu messages %.1f MiB", input.wire.ends.size(),
                    MiB(input.wire.bytes.size()));
      }
      std::printf("\n");
    }
    peers.push_back(std::move(*rib->AddPeer({})));
    Ingested in = ingest(peers.back().get(), input);
    ids.push_back(peers.back()->id());
    RibStats st = rib->GetStats();
    if (p == 1) {
      cpu_first = in.cpu_seconds;
      routes_first = in.routes;
    } else {
      cpu_rest += in.cpu_seconds;
      routes_rest += in.routes;
    }
    std::printf("peer %2d: %" PRIu64 " routes in %" PRIu64
                " UPDATEs, %.3f CPU-s (%.3f s/M routes; kernel %.3f s, %" PRIu64
                " page faults), new attribute sets %" PRIu64 "\n",
                p, in.routes, in.updates, in.cpu_seconds,
                in.cpu_seconds * 1e6 / in.routes, in.sys_seconds,
                in.page_faults, st.attribute_sets - sets_before);
    sets_before = st.attribute_sets;
    input = {};
    bool report = std::find(checkpoints.begin(), checkpoints.end(), p) !=
                  checkpoints.end();
    if (!report) continue;

    rib->Reclaim();
    st = rib->GetStats();
    double rss = RssMiB() - rss_base;
    if (p == 1) {
      bytes_one = st.total_bytes();
      rss_one = rss;
    }
    std::printf("\n=== %d peer(s) ===\n", p);
    std::printf("prefixes %" PRIu64 ", routes %" PRIu64 ", paths %" PRIu64
                ", attribute sets %" PRIu64 ", AS paths %" PRIu64
                ", community sets %" PRIu64 ", index nodes %" PRIu64 "\n",
                st.prefixes, st.routes, st.paths, st.attribute_sets,
                st.as_paths, st.community_sets, st.index_nodes);
    std::printf(
        "bytes (MiB): index nodes %.1f, index records %.1f, route arrays "
        "%.1f, side %.1f, attr sets %.1f, AS paths %.1f, communities %.1f, "
        "rare %.1f, intern tables %.1f => total %.1f\n",
        MiB(st.index_node_bytes), MiB(st.index_record_bytes),
        MiB(st.route_array_bytes), MiB(st.side_bytes),
        MiB(st.attribute_set_bytes), MiB(st.as_path_bytes),
        MiB(st.community_bytes), MiB(st.rare_attribute_bytes),
        MiB(st.intern_table_bytes), MiB(st.total_bytes()));
    std::printf(
        "RSS above baseline: %.1f MiB (arena%s: %.1f MiB reserved, %.1f "
        "idle)\n",
        rss, rib_options.huge_pages ? ", huge pages" : "",
        MiB(st.arena_reserved_bytes), MiB(st.arena_idle_bytes));
    if (p > 1) {
      std::printf(
          "per additional peer: %.1f MiB (RIB accounting), %.1f MiB (RSS)\n",
          MiB(st.total_bytes() - bytes_one) / (p - 1),
          (rss - rss_one) / (p - 1));
      std::printf(
          "ingest: first peer %.3f CPU-s/M routes (builds the index),"
          " later peers %.3f CPU-s/M routes\n",
          cpu_first * 1e6 / routes_first, cpu_rest * 1e6 / routes_rest);
    } else {
      std::printf("ingest: %.3f CPU-s/M routes (includes building the index)\n",
                  cpu_first * 1e6 / routes_first);
    }

    uint64_t found = 0;
    double idle[2][2];  // [batched][v6]
    for (int b = 0; b < 2; ++b) {
      idle[b][0] = MeasureLookups(reader.get(), ids, v4_addrs, n_lookups,
                                  b == 1, &found);
      idle[b][1] = MeasureLookups(reader.get(), ids, v6_addrs, n_lookups,
                                  b == 1, &found);
    }
    std::printf(
        "lookup idle (CPU ns): one by one IPv4 %.1f, IPv6 %.1f; "
        "LookupMany IPv4 %.1f, IPv6 %.1f\n",
        idle[0][0], idle[0][1], idle[1][0], idle[1][1]);
    double hot[2][2];  // [batched][v6]
    for (int b = 0; b < 2; ++b) {
      hot[b][0] =
          MeasureLookups(reader.get(), ids, v4_hot, n_lookups, b == 1, &found);
      hot[b][1] =
          MeasureLookups(reader.get(), ids, v6_hot, n_lookups, b == 1, &found);
    }
    std::printf(
        "lookup, hot set of 512 prefixes (CPU ns): one by one IPv4 %.1f, "
        "IPv6 %.1f; LookupMany IPv4 %.1f, IPv6 %.1f\n",
        hot[0][0], hot[0][1], hot[1][0], hot[1][1]);
    const double zipf_v4 =
        MeasureLookups(reader.get(), ids, v4_zipf, n_lookups, true, &found);
    const double zipf_v6 =
        MeasureLookups(reader.get(), ids, v6_zipf, n_lookups, true, &found);
    std::printf(
        "lookup, Zipf-like popularity (CPU ns): LookupMany IPv4 %.1f, IPv6 "
        "%.1f\n",
        zipf_v4, zipf_v6);

    // Lookups while another thread ingests one more full-table peer.
    const Input extra = make_input(table, 1000);
    std::atomic<bool> ingesting{true};
    std::atomic<bool> started{false};
    Ingested extra_in;
    std::thread writer([&] {
      auto w = std::move(*rib->AddPeer({}));
      started.store(true);
      extra_in = ingest(w.get(), extra);
      ingesting.store(false);
      // `w` goes out of scope here: removing the peer is part of the churn.
    });
    while (!started.load()) std::this_thread::yield();
    double busy[2][2] = {};
    double busy_zipf[2] = {};
    int rounds = 0;
    while (ingesting.load()) {
      for (int b = 0; b < 2; ++b) {
        busy[b][0] += MeasureLookups(reader.get(), ids, v4_addrs, 1 << 15,
                                     b == 1, &found);
        busy[b][1] += MeasureLookups(reader.get(), ids, v6_addrs, 1 << 15,
                                     b == 1, &found);
      }
      busy_zipf[0] +=
          MeasureLookups(reader.get(), ids, v4_zipf, 1 << 15, true, &found);
      busy_zipf[1] +=
          MeasureLookups(reader.get(), ids, v6_zipf, 1 << 15, true, &found);
      ++rounds;
    }
    writer.join();
    rib->Reclaim();
    if (rounds > 0) {
      std::printf(
          "lookup during ingest (%d rounds, CPU ns): one by one IPv4 %.1f, "
          "IPv6 %.1f; LookupMany IPv4 %.1f, IPv6 %.1f; Zipf-like, "
          "LookupMany IPv4 %.1f, IPv6 %.1f; concurrent ingest %.3f CPU-s/M "
          "routes\n",
          rounds, busy[0][0] / rounds, busy[0][1] / rounds, busy[1][0] / rounds,
          busy[1][1] / rounds, busy_zipf[0] / rounds, busy_zipf[1] / rounds,
          extra_in.cpu_seconds * 1e6 / extra_in.routes);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace flowacct::bgp

int main(int argc, char** argv) { return flowacct::bgp::Main(argc, argv); }
