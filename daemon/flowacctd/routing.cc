#include "daemon/flowacctd/routing.h"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "flowacct/bgp/rib.h"
#include "flowacct/bgp/rib_dump.h"
#include "flowacct/bgp/speaker.h"
#include "flowacct/bmp/collector.h"
#include "flowacct/bmp/msglog.h"
#include "flowacct/io/prometheus_text.h"
#include "flowacct/io/tcp_server.h"

#include "daemon/flowacctd/log.h"
#include "daemon/flowacctd/views.h"
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flowacct::daemon {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
// Open message-log files kept at once (names with strftime variables
// leave old ones behind; they are closed when this many are open).
constexpr size_t kMaxOpenLogFiles = 256;

int64_t WallNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RouterIdText(uint32_t id) {
  return std::to_string(id >> 24) + "." + std::to_string((id >> 16) & 0xFF) +
         "." + std::to_string((id >> 8) & 0xFF) + "." +
         std::to_string(id & 0xFF);
}

// Creates the directories of `path` (mode 0700), like the print sink.
void MakeParentDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    (void)mkdir(path.substr(0, slash).c_str(), 0700);
  }
}

FILE* OpenAppend(const std::string& path) {
  MakeParentDirs(path);
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  FILE* f = fdopen(fd, "a");
  if (f == nullptr) close(fd);
  return f;
}

// Points `link` at `target` (absolute), replacing it atomically.
void UpdateLink(const std::string& link, const std::string& target) {
  std::string abs = target;
  if (abs.empty() || abs[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) != nullptr) abs = std::string(cwd) + "/" + abs;
  }
  const std::string tmp = link + ".tmp-" + std::to_string(getpid());
  (void)unlink(tmp.c_str());
  MakeParentDirs(link);
  if (symlink(abs.c_str(), tmp.c_str()) != 0) return;
  if (rename(tmp.c_str(), link.c_str()) != 0) (void)unlink(tmp.c_str());
}

}  // namespace

struct Routing::Impl {
  BgpDaemonConfig bgp_config;
  BmpDaemonConfig bmp_config;
  bool utc = false;

  std::unique_ptr<bgp::Rib> rib;
  std::unique_ptr<bgp::Speaker> speaker;
  std::unique_ptr<bmp::Collector> collector;
  std::vector<TcpServerOptions::Md5Key> md5_keys;
  std::shared_ptr<AllowListHolder> bgp_allow;
  std::shared_ptr<AllowListHolder> bmp_allow;
  std::unique_ptr<TcpServer> bgp_server;
  std::unique_ptr<TcpServer> bmp_server;
  std::thread bgp_thread;
  std::thread bmp_thread;
  bool started = false;

  // pmacct numbers message-log lines and dumps from one counter.
  std::atomic<uint64_t> seq{0};

  // Message logs (BGP and BMP threads; ReopenFiles from the main thread).
  std::mutex log_mu;
  std::map<std::string, FILE*> log_files;
  std::unique_ptr<bgp::RibReader> server_reader;  // BGP thread only
  std::string line;                               // BGP thread only
  // The BMP message log numbers its lines on its own, from 0 (pmbmpd).
  uint64_t bmp_log_seq = 0;  // BMP thread only
  std::string bmp_line;      // BMP thread only

  // Dumps.
  std::thread dump_thread;
  std::mutex dump_mu;
  std::condition_variable dump_cv;
  bool dump_stop = false;
  bool dump_now = false;

  ~Impl() { CloseLogFiles(); }

  void CloseLogFiles() {
    std::lock_guard<std::mutex> lock(log_mu);
    for (auto& [path, f] : log_files) std::fclose(f);
    log_files.clear();
  }

  // Appends `text` to the message log file `path`, kept open (both
  // daemons' logs share the cache of open files).
  void AppendToLogFile(const std::string& path, std::string_view text,
                       std::string_view component) {
    std::lock_guard<std::mutex> lock(log_mu);
    auto it = log_files.find(path);
    if (it == log_files.end()) {
      if (log_files.size() >= kMaxOpenLogFiles) {
        for (auto& [p, f] : log_files) std::fclose(f);
        log_files.clear();
      }
      FILE* f = OpenAppend(path);
      if (f == nullptr) {
        Log(LogLevel::kError, component, "cannot open message log",
            {{"file", path}});
        return;
      }
      it = log_files.emplace(path, f).first;
    }
    std::fwrite(text.data(), 1, text.size(), it->second);
    std::fflush(it->second);
  }

  void WriteLog(const IpAddress& peer, int64_t now, std::string_view text) {
    Result<std::string> path =
        bgp::RenderPeerFileName(bgp_config.msglog_file, now, peer, utc);
    if (!path.ok()) return;
    AppendToLogFile(*path, text, "bgp");
  }

  void OnSpeakerEvent(const bgp::SpeakerEvent& e) {
    using Kind = bgp::SpeakerEvent::Kind;
    const std::string peer = e.peer.address.ToString();
    switch (e.kind) {
      case Kind::kPeerUp:
        Log(LogLevel::kInfo, "bgp", "peer up",
            {{"peer", e.peer.ToString()},
             {"as", std::to_string(e.peer_as)},
             {"router_id", RouterIdText(e.router_id)}});
        break;
      case Kind::kPeerDown:
        Log(LogLevel::kWarning, "bgp", "peer down",
            {{"peer", e.peer.ToString()},
             {"reason", e.detail},
             {"routes",
              e.routes_kept ? "kept stale (graceful restart)" : "dropped"}});
        break;
      case Kind::kRejected:
        Log(LogLevel::kWarning, "bgp", "peer rejected",
            {{"peer", e.peer.ToString()},
             {"reason",
              e.detail.empty() ? "bgp_daemon_max_peers reached" : e.detail}});
        break;
      case Kind::kStaleSwept:
        if (e.count > 0) {
          Log(LogLevel::kInfo, "bgp", "stale routes swept",
              {{"peer", e.peer.ToString()},
               {"family", e.family.ToString()},
               {"paths", std::to_string(e.count)}});
        }
        break;
      case Kind::kEndOfRib:
        Log(LogLevel::kDebug, "bgp", "end of rib",
            {{"peer", e.peer.ToString()}, {"family", e.family.ToString()}});
        break;
      case Kind::kUpdate:
      case Kind::kStaleSweep:
        break;
    }
    if (bgp_config.msglog_file.empty()) return;
    const int64_t now = WallNow();
    const std::string stamp = bgp::FormatBgpTimestamp(now, utc, true);
    bgp::BgpLineHeader h;
    h.timestamp = stamp;
    h.peer = e.peer;
    line.clear();
    // nfacctd numbers the lines from 0.
    const auto next_seq = [&] { return seq.fetch_add(1); };
    // Lines for the peer's routes still in the RIB: all of them (`family`
    // unset), or those of `family` marked stale.
    const auto delete_lines = [&](const bgp::Family* family) {
      if (server_reader == nullptr) server_reader = rib->NewReader();
      bgp::RibReader::Section section = server_reader->Enter();
      section.ForEachRoute(e.peer_id, [&](const bgp::RouteEntry& r) {
        if (family != nullptr && !(r.stale && r.key.family == *family)) {
          return;
        }
        h.seq = next_seq();
        bgp::AppendLogRibRoute(h, "delete", r, e.add_path, &line);
      });
    };
    switch (e.kind) {
      case Kind::kPeerUp:
        h.seq = next_seq();
        bgp::AppendLogEvent(h, "log_init", &line);
        break;
      case Kind::kPeerDown:
        // nfacctd writes a "delete" per route of a peer that went away;
        // routes kept for a graceful restart get theirs when swept.
        if (!e.routes_kept) delete_lines(nullptr);
        h.seq = next_seq();
        bgp::AppendLogEvent(h, "log_close", &line);
        break;
      case Kind::kStaleSweep:
        delete_lines(&e.family);
        break;
      case Kind::kUpdate: {
        if (e.update == nullptr) break;
        // A withdrawal's line has the attributes the route had, as in
        // nfacctd (the speaker reads them before removing the route); just
        // the key when the peer had no such route.
        const bgp::AttributesText none;
        for (size_t i = 0; i < e.update->withdrawn.size(); ++i) {
          std::optional<bgp::AttributesText> had;
          if (i < e.withdrawn_attributes.size() && e.withdrawn_attributes[i]) {
            had.emplace(*e.withdrawn_attributes[i]);
          }
          h.seq = next_seq();
          bgp::AppendLogRoute(h, "withdraw", e.update->withdrawn[i],
                              had ? *had : none, e.add_path, &line);
        }
        if (e.update->announced.empty()) break;
        const bgp::AttributesText attributes(e.update->attributes);
        for (const bgp::Nlri& n : e.update->announced) {
          h.seq = next_seq();
          bgp::AppendLogRoute(h, "update", n, attributes, e.add_path, &line);
        }
        break;
      }
      case Kind::kEndOfRib:
        h.seq = next_seq();
        bgp::AppendLogEndOfRib(h, e.family, &line);
        break;
      case Kind::kStaleSwept:
      case Kind::kRejected:
        break;
    }
    if (!line.empty()) WriteLog(e.peer.address, now, line);
  }

  void OnCollectorEvent(const bmp::CollectorEvent& e) {
    using Kind = bmp::CollectorEvent::Kind;
    switch (e.kind) {
      case Kind::kRouterUp:
        Log(LogLevel::kInfo, "bmp", "router up",
            {{"router", e.router.ToString()}});
        break;
      case Kind::kRouterDown:
        Log(LogLevel::kWarning, "bmp", "router down",
            {{"router", e.router.ToString()}, {"reason", e.detail}});
        break;
      case Kind::kRejected:
        Log(LogLevel::kWarning, "bmp", "router rejected",
            {{"router", e.router.ToString()},
             {"reason", "bmp_daemon_max_peers reached"}});
        break;
      case Kind::kMessage:
        break;
    }
    if (bmp_config.msglog_file.empty()) return;
    // bmp_daemon_msglog_file: the lines of the message (bmp/msglog.h).
    const std::string arrival = bgp::FormatBgpTimestamp(WallNow(), utc, true);
    bmp::MsglogContext context;
    context.arrival = arrival;
    context.utc = utc;
    bmp_line.clear();
    bmp::AppendCollectorEvent(context, e, &bmp_log_seq, &bmp_line);
    if (bmp_line.empty()) return;
    Result<std::string> path =
        bmp::RenderMsglogFileName(bmp_config.msglog_file, e.router);
    if (!path.ok()) return;
    AppendToLogFile(*path, bmp_line, "bmp");
  }

  // --- Dumps ---------------------------------------------------------------

  bool BgpDumps() const {
    return speaker != nullptr && !bgp_config.table_dump_file.empty();
  }
  bool BmpDumps() const {
    return collector != nullptr && !bmp_config.dump_file.empty();
  }

  // BGP table dumps and BMP dumps, each on its refresh period (aligned to
  // it, as nfacctd stamps its dumps), both at once on DumpNow().
  void DumpLoop() {
    std::unique_ptr<bgp::RibReader> reader = rib->NewReader();
    constexpr int64_t kNever = INT64_MAX;
    const int64_t bgp_period =
        BgpDumps() ? int64_t{bgp_config.table_dump_refresh_time} * kNsPerSecond
                   : 0;
    const int64_t bmp_period =
        BmpDumps() ? int64_t{bmp_config.dump_refresh_time} * kNsPerSecond : 0;
    const int64_t start = WallNow();
    int64_t next_bgp =
        bgp_period > 0 ? (start / bgp_period + 1) * bgp_period : kNever;
    int64_t next_bmp =
        bmp_period > 0 ? (start / bmp_period + 1) * bmp_period : kNever;
    std::unique_lock<std::mutex> lock(dump_mu);
    for (;;) {
      const int64_t next = std::min(next_bgp, next_bmp);
      auto ready = [&] { return dump_stop || dump_now; };
      if (next == kNever) {
        dump_cv.wait(lock, ready);
      } else {
        const auto deadline = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(next)));
        dump_cv.wait_until(lock, deadline, ready);
      }
      if (dump_stop) return;
      const int64_t now = WallNow();
      int64_t bgp_when = 0, bmp_when = 0;
      if (dump_now) {
        dump_now = false;
        const int64_t when = now - now % kNsPerSecond;
        if (BgpDumps()) bgp_when = when;
        if (BmpDumps()) bmp_when = when;
      }
      if (now >= next_bgp) {
        if (bgp_when == 0) bgp_when = next_bgp;
        while (next_bgp <= now) next_bgp += bgp_period;
      }
      if (now >= next_bmp) {
        if (bmp_when == 0) bmp_when = next_bmp;
        while (next_bmp <= now) next_bmp += bmp_period;
      }
      if (bgp_when == 0 && bmp_when == 0) continue;
      lock.unlock();
      if (bgp_when != 0) WriteDumps(bgp_when, reader.get());
      if (bmp_when != 0) WriteBmpDumps(bmp_when, reader.get());
      lock.lock();
    }
  }

  // Writes `buf` to path via a temp file renamed into place.
  static bool WriteFileAtomically(const std::string& path,
                                  const std::string& buf) {
    const std::string tmp = path + ".tmp-" + std::to_string(getpid());
    MakeParentDirs(path);
    const int fd =
        open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE* f = fd < 0 ? nullptr : fdopen(fd, "w");
    if (f == nullptr) {
      if (fd >= 0) close(fd);
      return false;
    }
    std::fwrite(buf.data(), 1, buf.size(), f);
    const bool ok = std::fflush(f) == 0 && std::ferror(f) == 0;
    std::fclose(f);
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
      (void)unlink(tmp.c_str());
      return false;
    }
    return true;
  }

  // bmp_dump_file: per BMP router, every route of each of its views; a
  // router without views gets its dump_init / dump_close, as in pmbmpd.
  void WriteBmpDumps(int64_t when, bgp::RibReader* reader) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<bmp::RouterStatus> connected = collector->Routers();
    const std::vector<bmp::ViewStatus> views = collector->Views();
    // Routers by file (a name without $peer_src_ip holds every router),
    // each with its views.
    struct RouterDump {
      Endpoint router;
      std::vector<const bmp::ViewStatus*> views;
    };
    std::map<std::string, std::map<std::string, RouterDump>> files;
    auto router_dump = [&](const Endpoint& router) -> RouterDump* {
      Result<std::string> path = bgp::RenderPeerFileName(
          bmp_config.dump_file, when, router.address, utc);
      if (!path.ok()) {
        Log(LogLevel::kError, "bmp", "bmp dump not written",
            {{"error", path.status().message()}});
        return nullptr;
      }
      RouterDump& d = files[*path][router.ToString()];
      d.router = router;
      return &d;
    };
    for (const bmp::RouterStatus& r : connected) {
      if (router_dump(r.router) == nullptr) return;
    }
    for (const bmp::ViewStatus& v : views) {
      RouterDump* d = router_dump(v.router);
      if (d == nullptr) return;
      d->views.push_back(&v);
    }
    const std::string stamp = bgp::FormatBgpTimestamp(when, utc, false);
    // One seq for every router of this dump, as pmbmpd writes it.
    const uint64_t dump_seq = seq.fetch_add(1);
    uint64_t total = 0;
    std::string buf;
    for (const auto& [path, routers] : files) {
      buf.clear();
      for (const auto& [name, router] : routers) {
        bgp::BgpLineHeader h;
        h.seq = dump_seq;
        h.timestamp = stamp;
        h.peer = router.router;
        bgp::AppendBmpDumpInit(h, bmp_config.dump_refresh_time, &buf);
        uint64_t entries = 0;
        for (const bmp::ViewStatus* v : router.views) {
          bgp::BmpViewFields f;
          f.peer_ip = v->peer.address;
          f.peer_type = static_cast<uint8_t>(v->peer.type);
          if (v->peer.distinguisher.is_set()) {
            f.rd = v->peer.distinguisher.ToString();
          }
          f.is_post = v->peer.post_policy;
          f.is_out = v->peer.adj_rib_out;
          f.is_loc = v->peer.type == bmp::PeerType::kLocRib;
          f.is_filtered = v->peer.loc_rib_filtered;
          f.add_path = v->add_path;
          bgp::RibReader::Section section = reader->Enter();
          section.ForEachRoute(v->peer_id, [&](const bgp::RouteEntry& r) {
            bgp::AppendBmpDumpRoute(h, f, r, &buf);
            ++entries;
          });
        }
        bgp::AppendBmpDumpClose(h, &buf);
        total += entries;
      }
      if (!WriteFileAtomically(path, buf)) {
        Log(LogLevel::kError, "bmp", "cannot write bmp dump", {{"file", path}});
        continue;
      }
      if (!bmp_config.dump_latest_file.empty()) {
        Result<std::string> link = bgp::RenderPeerFileName(
            bmp_config.dump_latest_file, when,
            routers.begin()->second.router.address, utc);
        if (link.ok() && *link != path) UpdateLink(*link, path);
      }
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    Log(collector->Routers().empty() ? LogLevel::kDebug : LogLevel::kInfo,
        "bmp", "bmp dump written",
        {{"views", std::to_string(views.size())},
         {"files", std::to_string(files.size())},
         {"entries", std::to_string(total)},
         {"elapsed_ms", std::to_string(ms)}});
  }

  void WriteDumps(int64_t when, bgp::RibReader* reader) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<bgp::PeerStatus> peers = speaker->Peers();
    // Peers by file: a name without $peer_src_ip holds every peer.
    std::map<std::string, std::vector<const bgp::PeerStatus*>> files;
    for (const bgp::PeerStatus& p : peers) {
      Result<std::string> path = bgp::RenderPeerFileName(
          bgp_config.table_dump_file, when, p.address.address, utc);
      if (!path.ok()) {
        Log(LogLevel::kError, "bgp", "table dump not written",
            {{"error", path.status().message()}});
        return;
      }
      files[*path].push_back(&p);
    }
    const std::string stamp = bgp::FormatBgpTimestamp(when, utc, false);
    // One seq for every peer of this dump, taken even when there is none,
    // as nfacctd does.
    const uint64_t dump_seq = seq.fetch_add(1);
    uint64_t total = 0;
    std::string buf;
    for (const auto& [path, file_peers] : files) {
      const std::string tmp = path + ".tmp-" + std::to_string(getpid());
      MakeParentDirs(path);
      const int fd =
          open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      FILE* f = fd < 0 ? nullptr : fdopen(fd, "w");
      if (f == nullptr) {
        if (fd >= 0) close(fd);
        Log(LogLevel::kError, "bgp", "cannot write table dump",
            {{"file", tmp}});
        continue;
      }
      for (const bgp::PeerStatus* p : file_peers) {
        bgp::BgpLineHeader h;
        h.seq = dump_seq;
        h.timestamp = stamp;
        h.peer = p->address;
        buf.clear();
        bgp::AppendDumpInit(h, bgp_config.table_dump_refresh_time, &buf);
        uint64_t entries = 0;
        {
          bgp::RibReader::Section section = reader->Enter();
          section.ForEachRoute(p->peer_id, [&](const bgp::RouteEntry& r) {
            bgp::AppendDumpRoute(h, r, p->add_path, &buf);
            ++entries;
            if (buf.size() >= (1u << 20)) {
              std::fwrite(buf.data(), 1, buf.size(), f);
              buf.clear();
            }
          });
        }
        bgp::AppendDumpClose(h, entries, 1, &buf);
        std::fwrite(buf.data(), 1, buf.size(), f);
        total += entries;
      }
      const bool ok = std::fflush(f) == 0 && std::ferror(f) == 0;
      std::fclose(f);
      if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
        (void)unlink(tmp.c_str());
        Log(LogLevel::kError, "bgp", "cannot write table dump",
            {{"file", path}});
        continue;
      }
      if (!bgp_config.table_dump_latest_file.empty()) {
        Result<std::string> link =
            bgp::RenderPeerFileName(bgp_config.table_dump_latest_file, when,
                                    file_peers.front()->address.address, utc);
        if (link.ok() && *link != path) UpdateLink(*link, path);
      }
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    Log(peers.empty() ? LogLevel::kDebug : LogLevel::kInfo, "bgp",
        "table dump written",
        {{"peers", std::to_string(peers.size())},
         {"files", std::to_string(files.size())},
         {"entries", std::to_string(total)},
         {"elapsed_ms", std::to_string(ms)}});
  }

  // --- Servers -------------------------------------------------------------

  Result<std::unique_ptr<TcpServer>> OpenServer(
      std::string_view what, const std::string& ip, uint16_t port,
      const std::string& allow_file, uint32_t pipe_size,
      std::shared_ptr<AllowListHolder>* allow, TcpServer::Handler* handler,
      bool md5) {
    TcpServerOptions o;
    o.address = ip;
    o.port = port;
    o.receive_buffer_bytes = static_cast<int>(pipe_size);
    if (md5) o.md5_keys = md5_keys;
    if (!allow_file.empty()) {
      Result<std::shared_ptr<AllowListHolder>> a =
          AllowListHolder::Load(allow_file);
      if (!a.ok()) return a.status();
      *allow = std::move(a).value();
      std::shared_ptr<AllowListHolder> holder = *allow;
      std::string component(what);
      o.allow = [holder, component](const IpAddress& peer) {
        if (holder->Allows(peer)) return true;
        Log(LogLevel::kWarning, component, "peer refused by the allow file",
            {{"peer", peer.ToString()}});
        return false;
      };
    }
    Result<std::unique_ptr<TcpServer>> s = TcpServer::Open(o, handler);
    if (!s.ok()) {
      return IoError(std::string(what) + " listener " +
                     (ip.empty() ? "[::]" : ip) + ":" + std::to_string(port) +
                     ": " + s.status().message());
    }
    return s;
  }
};

Routing::Routing(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Routing::~Routing() { Stop(); }

Result<std::unique_ptr<Routing>> Routing::Create(const DaemonConfig& config) {
  if (!config.bgp.enabled && !config.bmp.enabled) {
    return std::unique_ptr<Routing>();
  }
  auto impl = std::make_unique<Impl>();
  Impl* d = impl.get();
  d->bgp_config = config.bgp;
  d->bmp_config = config.bmp;
  d->utc = config.timestamps_utc;
  bgp::RibOptions rib_options;
  rib_options.huge_pages = config.rib_huge_pages;
  Result<std::unique_ptr<bgp::Rib>> rib = bgp::Rib::Create(rib_options);
  if (!rib.ok()) return rib.status();
  d->rib = std::move(rib).value();
  if (config.bgp.enabled) {
    if (!config.bgp.md5_file.empty()) {
      Result<std::vector<TcpServerOptions::Md5Key>> keys =
          LoadMd5KeyFile(config.bgp.md5_file);
      if (!keys.ok()) return keys.status();
      d->md5_keys = std::move(keys).value();
    }
    bgp::SpeakerOptions so;
    so.session.router_id = config.bgp.router_id;
    so.session.local_as = config.bgp.local_as;
    so.session.add_path_receive = !config.bgp.add_path_ignore;
    so.max_peers = config.bgp.max_peers;
    // The message log's withdraw lines carry the route's last attributes.
    so.report_withdrawn_attributes = !config.bgp.msglog_file.empty();
    d->speaker = std::make_unique<bgp::Speaker>(
        d->rib.get(), so,
        [d](const bgp::SpeakerEvent& e) { d->OnSpeakerEvent(e); });
  }
  if (config.bmp.enabled) {
    bmp::CollectorOptions co;
    co.max_routers = config.bmp.max_peers;
    d->collector = std::make_unique<bmp::Collector>(
        d->rib.get(), co,
        [d](const bmp::CollectorEvent& e) { d->OnCollectorEvent(e); });
  }
  return std::unique_ptr<Routing>(new Routing(std::move(impl)));
}

RoutingFeeds Routing::feeds() const {
  return {impl_->rib.get(), impl_->speaker.get(), impl_->collector.get()};
}

Status Routing::Start() {
  Impl& d = *impl_;
  if (d.speaker != nullptr) {
    Result<std::unique_ptr<TcpServer>> s = d.OpenServer(
        "bgp", d.bgp_config.ip, d.bgp_config.port, d.bgp_config.allow_file,
        d.bgp_config.pipe_size, &d.bgp_allow, d.speaker.get(), true);
    if (!s.ok()) return s.status();
    d.bgp_server = std::move(s).value();
  }
  if (d.collector != nullptr) {
    Result<std::unique_ptr<TcpServer>> s = d.OpenServer(
        "bmp", d.bmp_config.ip, d.bmp_config.port, d.bmp_config.allow_file,
        d.bmp_config.pipe_size, &d.bmp_allow, d.collector.get(), false);
    if (!s.ok()) return s.status();
    d.bmp_server = std::move(s).value();
  }
  d.started = true;
  if (d.bgp_server != nullptr) {
    Log(LogLevel::kInfo, "bgp", "listening",
        {{"address", d.bgp_server->local_endpoint().ToString()},
         {"max_peers", std::to_string(d.bgp_config.max_peers)},
         {"router_id", RouterIdText(d.bgp_config.router_id)}});
    d.bgp_thread = std::thread([&d] {
      Status s = d.bgp_server->Run();
      if (!s.ok()) {
        Log(LogLevel::kError, "bgp", "server failed", {{"error", s.message()}});
      }
    });
  }
  if (d.bmp_server != nullptr) {
    Log(LogLevel::kInfo, "bmp", "listening",
        {{"address", d.bmp_server->local_endpoint().ToString()},
         {"max_peers", std::to_string(d.bmp_config.max_peers)}});
    d.bmp_thread = std::thread([&d] {
      Status s = d.bmp_server->Run();
      if (!s.ok()) {
        Log(LogLevel::kError, "bmp", "server failed", {{"error", s.message()}});
      }
    });
  }
  if ((d.bgp_server != nullptr && d.BgpDumps()) ||
      (d.bmp_server != nullptr && d.BmpDumps())) {
    d.dump_thread = std::thread([&d] { d.DumpLoop(); });
  }
  return Status::Ok();
}

void Routing::Stop() {
  Impl& d = *impl_;
  if (!d.started) return;
  d.started = false;
  {
    std::lock_guard<std::mutex> lock(d.dump_mu);
    d.dump_stop = true;
  }
  d.dump_cv.notify_all();
  if (d.dump_thread.joinable()) d.dump_thread.join();
  if (d.bgp_server != nullptr) d.bgp_server->Stop();
  if (d.bmp_server != nullptr) d.bmp_server->Stop();
  if (d.bgp_thread.joinable()) d.bgp_thread.join();
  if (d.bmp_thread.joinable()) d.bmp_thread.join();
  d.server_reader.reset();
  d.CloseLogFiles();
}

void Routing::DumpNow() {
  Impl& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.dump_mu);
    d.dump_now = true;
  }
  d.dump_cv.notify_all();
}

void Routing::ReloadAllowFiles() {
  for (const auto& [what, holder] : {std::pair{"bgp", impl_->bgp_allow},
                                     std::pair{"bmp", impl_->bmp_allow}}) {
    if (holder == nullptr) continue;
    Status s = holder->Reload();
    if (!s.ok()) {
      Log(LogLevel::kError, what, "allow file reload failed",
          {{"error", s.message()}});
    }
  }
}

void Routing::ReopenFiles() { impl_->CloseLogFiles(); }

void Routing::LogStats() const {
  const Impl& d = *impl_;
  if (d.speaker != nullptr) {
    for (const bgp::PeerStatus& p : d.speaker->Peers()) {
      Log(LogLevel::kInfo, "bgp", "peer statistics",
          {{"peer", p.address.ToString()},
           {"as", std::to_string(p.peer_as)},
           {"state", p.state},
           {"routes", std::to_string(p.routes)},
           {"paths", std::to_string(p.paths)},
           {"updates", std::to_string(p.updates)}});
    }
  }
  if (d.collector != nullptr) {
    for (const bmp::RouterStatus& r : d.collector->Routers()) {
      Log(LogLevel::kInfo, "bmp", "router statistics",
          {{"router", r.router.ToString()},
           {"sys_name", r.sys_name},
           {"views", std::to_string(r.views)},
           {"bytes", std::to_string(r.stream.bytes)}});
    }
  }
}

std::string Routing::RenderMetrics() const {
  const Impl& d = *impl_;
  PrometheusText t;
  if (d.speaker != nullptr) {
    const std::vector<bgp::PeerStatus> peers = d.speaker->Peers();
    std::map<std::string, uint64_t> states = {{"established", 0}};
    for (const bgp::PeerStatus& p : peers) ++states[p.state];
    t.Family("flowacct_bgp_peers", MetricType::kGauge,
             "BGP peers (bgp_daemon), by session state");
    for (const auto& [state, n] : states) {
      t.Sample("flowacct_bgp_peers", {{"state", state}}, n);
    }
    t.Family("flowacct_bgp_rib_prefixes", MetricType::kGauge,
             "prefixes with a route in the peer's RIB view");
    for (const bgp::PeerStatus& p : peers) {
      t.Sample("flowacct_bgp_rib_prefixes",
               {{"peer", p.address.address.ToString()}}, p.routes);
    }
    t.Family("flowacct_bgp_rib_paths", MetricType::kGauge,
             "paths in the peer's RIB view (ADD-PATH counts each)");
    for (const bgp::PeerStatus& p : peers) {
      t.Sample("flowacct_bgp_rib_paths",
               {{"peer", p.address.address.ToString()}}, p.paths);
    }
    t.Family("flowacct_bgp_updates_total", MetricType::kCounter,
             "UPDATE messages received in the peer's current session");
    for (const bgp::PeerStatus& p : peers) {
      t.Sample("flowacct_bgp_updates_total",
               {{"peer", p.address.address.ToString()}}, p.updates);
    }
    const bgp::SpeakerStats s = d.speaker->stats();
    t.Family("flowacct_bgp_update_errors_total", MetricType::kCounter,
             "problems found in UPDATEs (RFC 7606), by reason");
    for (size_t i = 0; i < s.update_problems.size(); ++i) {
      if (s.update_problems[i] == 0) continue;
      t.Sample("flowacct_bgp_update_errors_total",
               {{"reason",
                 bgp::UpdateProblemName(static_cast<bgp::UpdateProblem>(i))}},
               s.update_problems[i]);
    }
    t.Family("flowacct_bgp_connections_refused_total", MetricType::kCounter,
             "BGP connections refused: allow file, or max peers");
    const uint64_t denied =
        d.bgp_server != nullptr ? d.bgp_server->stats().denied : 0;
    t.Sample("flowacct_bgp_connections_refused_total",
             {{"reason", "allow_file"}}, denied);
    t.Sample("flowacct_bgp_connections_refused_total",
             {{"reason", "max_peers"}}, s.connections_rejected);
  }
  t.Family("flowacct_bgp_rib_bytes", MetricType::kGauge,
           "memory held by the shared BGP/BMP RIB");
  t.Sample("flowacct_bgp_rib_bytes", {}, d.rib->GetStats().total_bytes());
  if (d.collector != nullptr) {
    const std::vector<bmp::RouterStatus> routers = d.collector->Routers();
    t.Family("flowacct_bmp_routers", MetricType::kGauge,
             "routers streaming BMP (bmp_daemon)");
    t.Sample("flowacct_bmp_routers", {}, routers.size());
    std::array<uint64_t, 7> messages{};
    std::array<uint64_t, bmp::kBmpProblemCount> problems{};
    for (const bmp::RouterStatus& r : routers) {
      for (size_t i = 0; i < messages.size(); ++i) {
        messages[i] += r.stream.messages[i];
      }
      for (size_t i = 0; i < problems.size(); ++i) {
        problems[i] += r.stream.problems[i];
      }
    }
    t.Family("flowacct_bmp_messages_total", MetricType::kCounter,
             "BMP messages from the routers connected now, by type");
    for (size_t i = 0; i < messages.size(); ++i) {
      t.Sample(
          "flowacct_bmp_messages_total",
          {{"type", bmp::MessageTypeName(static_cast<bmp::MessageType>(i))}},
          messages[i]);
    }
    const bmp::CollectorStats cs = d.collector->stats();
    t.Family("flowacct_bmp_errors_total", MetricType::kCounter,
             "BMP problems, by reason (stream: framing lost, connection "
             "closed)");
    for (size_t i = 0; i < problems.size(); ++i) {
      if (problems[i] == 0) continue;
      t.Sample(
          "flowacct_bmp_errors_total",
          {{"reason", bmp::BmpProblemName(static_cast<bmp::BmpProblem>(i))}},
          problems[i]);
    }
    t.Sample("flowacct_bmp_errors_total", {{"reason", "stream"}},
             cs.stream_errors);
    t.Sample("flowacct_bmp_errors_total", {{"reason", "rejected"}},
             cs.routers_rejected);
  }
  // BM-8: a router outpacing us (its TCP window closing) is what makes it
  // declare the station stuck; the same for a BGP peer's full table.
  t.Family("flowacct_routing_receive_queue_full_total", MetricType::kCounter,
           "times a BGP/BMP connection's socket receive queue was found "
           "nearly full (the sender outpaces flowacctd; raise "
           "*_daemon_pipe_size or find the slow part)");
  if (d.bgp_server != nullptr) {
    t.Sample("flowacct_routing_receive_queue_full_total", {{"daemon", "bgp"}},
             d.bgp_server->stats().receive_queue_full);
  }
  if (d.bmp_server != nullptr) {
    t.Sample("flowacct_routing_receive_queue_full_total", {{"daemon", "bmp"}},
             d.bmp_server->stats().receive_queue_full);
  }
  return t.Take();
}

}  // namespace flowacct::daemon
