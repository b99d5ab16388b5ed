#include "daemon/flowacctd/daemon.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "flowacct/config/aggregate_primitives.h"
#include "flowacct/io/pcap_reader.h"
#include "flowacct/io/udp_receiver.h"
#include "flowacct/pipeline/pipeline.h"

#include "daemon/flowacctd/log.h"
#include "daemon/flowacctd/metrics.h"
#include "daemon/flowacctd/routing.h"
#include "daemon/flowacctd/views.h"
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace flowacct::daemon {
namespace {

// Datagrams per recvmmsg call.
constexpr size_t kReceiveBatch = 64;

int64_t WallNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The signals the main thread handles; every other thread blocks them.
sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

struct Daemon::Impl {
  DaemonConfig config;
  std::unique_ptr<PrimitiveRegistry> registry;
  // bgp_daemon / bmp_daemon. Declared before `pipeline` so that it outlives
  // the enrichment that uses its feeds.
  std::unique_ptr<Routing> routing;
  RoutingFeeds feeds;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<MetricsEndpoint> metrics;

  struct Listener {
    ListenerConfig config;
    std::unique_ptr<UdpReceiver> receiver;
    std::thread thread;
    std::shared_ptr<AllowListHolder> allow;
  };
  std::vector<Listener> listeners;
  std::atomic<bool> stopping{false};
  // WatchSinks' view of each view's sink at the last check.
  std::map<std::string, SinkStats> watched;

  Status Setup();
  Status OpenListeners();
  int RunCapture();
  int RunLive();
  void StopPipeline();
  void ReceiveLoop(Listener* listener);
  // Returns true when the signal asks to stop.
  bool HandleSignal(int sig);
  void LogStats();
  // Logs a server sink going down or coming back, and rows the server
  // rejected, once per change (called every second while live).
  void WatchSinks();
  void ReloadMaps();
  std::string RenderMetrics() const;
};

Status Daemon::Impl::Setup() {
  registry = PrimitiveRegistry::CreateWithBuiltins();
  if (!config.aggregate_primitives.empty()) {
    Result<std::string> text = ReadFile(config.aggregate_primitives);
    if (!text.ok()) return text.status();
    Status s =
        AddCustomPrimitives(*text, config.aggregate_primitives, registry.get());
    if (!s.ok()) return s;
  }
  // The routing feeds exist (no sockets yet) before the enrichment that
  // looks routes up in them is built.
  Result<std::unique_ptr<Routing>> r = Routing::Create(config);
  if (!r.ok()) return r.status();
  routing = std::move(r).value();
  if (routing != nullptr) feeds = routing->feeds();

  Result<EnrichFunction> enrich = BuildEnrichment(config, feeds);
  if (!enrich.ok()) return enrich.status();

  Result<std::vector<ViewOptions>> views = BuildViews(config, *registry);
  if (!views.ok()) return views.status();

  PipelineOptions options;
  const bool capture = !config.pcap_savefile.empty();
  size_t workers = config.workers;
  if (workers == 0) {
    // One core is left to the receivers (or the capture reader): on two
    // cores one worker decodes faster than two competing with the reader.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    workers = std::max(1u, cores - 1);
  }
  options.workers = workers;
  options.lossless = capture;
  // A capture reader waits for the workers instead of dropping, so a deep
  // queue buys nothing there: a few batches keep the reader ahead while
  // the same (cache-warm) buffers are reused.
  if (capture) options.worker_queue_batches = 4;
  options.templates_file = config.templates_file;
  options.decoder.templates.ignore_exporter_port = !config.templates_by_port;
  options.decoder.use_exporter_address_element =
      !config.ignore_exporter_address;
  Result<std::unique_ptr<Pipeline>> p =
      Pipeline::Create(registry.get(), options, std::move(views).value(),
                       std::move(enrich).value());
  if (!p.ok()) return p.status();
  pipeline = std::move(p).value();
  return Status::Ok();
}

Status Daemon::Impl::OpenListeners() {
  for (const ListenerConfig& lc : config.listeners) {
    Listener l;
    l.config = lc;
    UdpReceiverOptions o;
    o.address = lc.address.empty() ? "::" : lc.address;
    o.port = lc.port;
    o.batch_size = kReceiveBatch;
    if (lc.rcvbuf_bytes != 0) {
      o.receive_buffer_bytes = static_cast<int>(lc.rcvbuf_bytes);
    }
    if (!lc.allow_file.empty()) {
      Result<std::shared_ptr<AllowListHolder>> allow =
          AllowListHolder::Load(lc.allow_file);
      if (!allow.ok()) return allow.status();
      l.allow = std::move(allow).value();
      std::shared_ptr<AllowListHolder> holder = l.allow;
      o.allow = [holder](const IpAddress& a) { return holder->Allows(a); };
    }
    Result<std::unique_ptr<UdpReceiver>> r = UdpReceiver::Open(o);
    if (!r.ok()) {
      return IoError("listener " + o.address + ":" + std::to_string(o.port) +
                     ": " + r.status().message());
    }
    l.receiver = std::move(r).value();
    Log(LogLevel::kInfo, "core", "listening",
        {{"address", l.receiver->local_endpoint().ToString()},
         {"rcvbuf", std::to_string(l.receiver->receive_buffer_bytes())}});
    listeners.push_back(std::move(l));
  }
  return Status::Ok();
}

void Daemon::Impl::ReceiveLoop(Listener* listener) {
  std::unique_ptr<InputPort> port = pipeline->NewInputPort();
  while (!stopping.load(std::memory_order_relaxed)) {
    Result<std::span<const Datagram>> got =
        listener->receiver->Receive(std::chrono::milliseconds(200));
    if (!got.ok()) continue;  // counted by the receiver
    for (const Datagram& d : *got) port->Submit(d);
    // Under load recvmmsg returns full batches: let the worker batches
    // fill up (fewer, larger hand-overs, more datagrams queued before a
    // drop). When the socket runs dry, hand over what there is.
    if (got->size() < kReceiveBatch) port->Flush();
  }
  port->Flush();
}

void Daemon::Impl::LogStats() {
  PipelineStats s = pipeline->stats();
  Log(LogLevel::kInfo, "core", "statistics",
      {{"datagrams", std::to_string(s.datagrams)},
       {"queue_drops", std::to_string(s.queue_drops)},
       {"records", std::to_string(s.records)}});
  for (const Listener& l : listeners) {
    UdpReceiverStats r = l.receiver->stats();
    Log(LogLevel::kInfo, "core", "listener statistics",
        {{"address", l.receiver->local_endpoint().ToString()},
         {"datagrams", std::to_string(r.datagrams)},
         {"kernel_drops", std::to_string(r.kernel_drops)},
         {"denied", std::to_string(r.denied)},
         {"truncated", std::to_string(r.truncated)}});
  }
  for (const auto& [address, e] : s.decode.exporters) {
    Log(LogLevel::kInfo, "core", "exporter statistics",
        {{"exporter", address.ToString()},
         {"datagrams", std::to_string(e.datagrams)},
         {"bytes", std::to_string(e.bytes)},
         {"records", std::to_string(e.records)},
         {"seq_expected", std::to_string(e.sequence.expected)},
         {"seq_lost", std::to_string(e.sequence.lost)},
         {"seq_reordered", std::to_string(e.sequence.reordered)},
         {"seq_resets", std::to_string(e.sequence.resets)},
         {"errors", std::to_string(e.total_errors())}});
  }
  for (const ViewStats& v : s.views) {
    std::vector<LogField> fields = {
        {"view", v.name},
        {"records", std::to_string(v.records)},
        {"filtered", std::to_string(v.filtered)},
        {"snapshots", std::to_string(v.sink.snapshots)},
        {"rows", std::to_string(v.sink.rows)},
        {"rows_dropped", std::to_string(v.rows_dropped)},
        {"failed_snapshots", std::to_string(v.sink.failed_snapshots)}};
    const SinkStats& d = v.sink;
    if (d.delivered_rows + d.spooled_rows + d.retries + d.pending_rows +
            d.dropped_rows + d.rejected_rows >
        0) {
      // Sinks that deliver to a server (flowacct/sink/delivery.h).
      fields.insert(fields.end(),
                    {{"delivered_rows", std::to_string(d.delivered_rows)},
                     {"spooled_rows", std::to_string(d.spooled_rows)},
                     {"retries", std::to_string(d.retries)},
                     {"pending_rows", std::to_string(d.pending_rows)},
                     {"delivery_dropped_rows", std::to_string(d.dropped_rows)},
                     {"rejected_rows", std::to_string(d.rejected_rows)}});
      if (!d.last_error.empty()) fields.push_back({"last_error", d.last_error});
    }
    Log(LogLevel::kInfo, "core", "view statistics", fields);
  }
}

void Daemon::Impl::WatchSinks() {
  for (const ViewStats& v : pipeline->stats().views) {
    const SinkStats& now = v.sink;
    SinkStats& was = watched[v.name];
    if (was.backend_up && !now.backend_up) {
      Log(LogLevel::kWarning, "sink", "delivery failing, rows are spooled",
          {{"view", v.name}, {"error", now.last_error}});
    } else if (!was.backend_up && now.backend_up) {
      Log(LogLevel::kInfo, "sink", "delivery recovered",
          {{"view", v.name},
           {"pending_rows", std::to_string(now.pending_rows)}});
    }
    if (now.rejected_rows > was.rejected_rows) {
      Log(LogLevel::kError, "sink", "rows rejected by the server",
          {{"view", v.name},
           {"rows", std::to_string(now.rejected_rows - was.rejected_rows)},
           {"error", now.last_error}});
    }
    if (now.dropped_rows > was.dropped_rows) {
      Log(LogLevel::kError, "sink", "rows dropped: delivery spool full",
          {{"view", v.name},
           {"rows", std::to_string(now.dropped_rows - was.dropped_rows)}});
    }
    was = now;
  }
}

void Daemon::Impl::ReloadMaps() {
  if (routing != nullptr) routing->ReloadAllowFiles();
  Result<EnrichFunction> enrich = BuildEnrichment(config, feeds);
  if (!enrich.ok()) {
    Log(LogLevel::kError, "core", "map reload failed, keeping the old maps",
        {{"error", enrich.status().message()}});
    if (metrics != nullptr) metrics->SetReloadResult(false, WallNow());
    return;
  }
  for (Listener& l : listeners) {
    if (l.allow == nullptr) continue;
    Status s = l.allow->Reload();
    if (!s.ok()) {
      Log(LogLevel::kError, "core", "allow file reload failed",
          {{"error", s.message()}});
    }
  }
  pipeline->ReloadEnrichment(std::move(enrich).value());
  if (metrics != nullptr) metrics->SetReloadResult(true, WallNow());
  Log(LogLevel::kInfo, "core", "maps reloaded");
}

bool Daemon::Impl::HandleSignal(int sig) {
  switch (sig) {
    case SIGTERM:
    case SIGINT:
      Log(LogLevel::kInfo, "core", "stopping",
          {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      return true;
    case SIGHUP:
      OpenLog(config.logfile, config.debug);
      pipeline->ReopenSinks();
      if (routing != nullptr) routing->ReopenFiles();
      Log(LogLevel::kInfo, "core", "log and output files reopened");
      return false;
    case SIGUSR1:
      LogStats();
      if (routing != nullptr) {
        routing->LogStats();
        routing->DumpNow();  // bgp_table_dump_file: a dump right now
      }
      return false;
    case SIGUSR2:
      ReloadMaps();
      return false;
    default:
      return false;
  }
}

std::string Daemon::Impl::RenderMetrics() const {
  std::vector<ListenerMetrics> ls;
  for (const Listener& l : listeners) {
    ls.push_back(
        {l.receiver->local_endpoint().ToString(), l.receiver->stats()});
  }
  std::string text = RenderPrometheus(pipeline->stats(), ls);
  if (routing != nullptr) text += routing->RenderMetrics();
  return text;
}

int Daemon::Impl::RunCapture() {
  PcapReaderOptions ro;
  Result<std::unique_ptr<PcapReader>> reader =
      PcapReader::Open(config.pcap_savefile, ro);
  if (!reader.ok()) {
    Log(LogLevel::kError, "core", "cannot open capture",
        {{"file", config.pcap_savefile}, {"error", reader.status().message()}});
    return 1;
  }
  Log(LogLevel::kInfo, "core", "reading capture",
      {{"file", config.pcap_savefile}});
  const sigset_t handled = HandledSignals();
  std::unique_ptr<InputPort> port = pipeline->NewInputPort();
  PcapReader::Packet packet;
  uint64_t n = 0;
  bool stop = false;
  while (!stop && (*reader)->Next(&packet)) {
    port->Submit(packet.datagram);
    if ((++n & 1023) == 0) {
      timespec zero{0, 0};
      const int sig = sigtimedwait(&handled, nullptr, &zero);
      if (sig > 0) stop = HandleSignal(sig);
    }
  }
  port.reset();
  if (!(*reader)->status().ok()) {
    Log(LogLevel::kWarning, "core", "capture ended with an error",
        {{"error", (*reader)->status().message()}});
  }
  StopPipeline();
  return 0;
}

void Daemon::Impl::StopPipeline() {
  Status s = pipeline->Stop(WallNow());
  if (!s.ok()) {
    Log(LogLevel::kError, "core", "templates file not written",
        {{"file", config.templates_file}, {"error", s.message()}});
  }
  WatchSinks();
  LogStats();
}

int Daemon::Impl::RunLive() {
  Status s = routing != nullptr ? routing->Start() : Status::Ok();
  if (!s.ok()) {
    Log(LogLevel::kError, "core", "cannot open the BGP/BMP listeners",
        {{"error", s.message()}});
    (void)pipeline->Stop(WallNow());
    return 1;
  }
  s = OpenListeners();
  if (!s.ok()) {
    Log(LogLevel::kError, "core", "cannot open listeners",
        {{"error", s.message()}});
    (void)pipeline->Stop(WallNow());
    return 1;
  }
  for (Listener& l : listeners) {
    Listener* lp = &l;
    l.thread = std::thread([this, lp] { ReceiveLoop(lp); });
  }
  const sigset_t handled = HandledSignals();
  pipeline->Tick(WallNow());
  for (;;) {
    timespec second{1, 0};
    const int sig = sigtimedwait(&handled, nullptr, &second);
    if (sig > 0 && HandleSignal(sig)) break;
    pipeline->Tick(WallNow());
    WatchSinks();
  }
  stopping = true;
  // BGP/BMP sessions end first (their message-log lines are written), then
  // the flow inputs, then the pipeline flushes.
  if (routing != nullptr) routing->Stop();
  for (Listener& l : listeners) l.receiver->Stop();
  for (Listener& l : listeners) l.thread.join();
  StopPipeline();
  return 0;
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::Create(DaemonConfig config) {
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  Status s = impl->Setup();
  if (!s.ok()) return s;
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

int Daemon::Run() {
  Impl& d = *impl_;
  // Block the handled signals before any thread starts, so they are
  // delivered to sigtimedwait in this thread only.
  const sigset_t handled = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Status s = d.pipeline->Start();
  if (!s.ok()) {
    Log(LogLevel::kError, "core", "cannot start", {{"error", s.message()}});
    return 1;
  }
  if (!d.config.metrics_listen.empty()) {
    Impl* impl = impl_.get();
    Result<std::unique_ptr<MetricsEndpoint>> m = MetricsEndpoint::Start(
        d.config.metrics_listen, [impl] { return impl->RenderMetrics(); });
    if (!m.ok()) {
      Log(LogLevel::kWarning, "core", "metrics endpoint not started",
          {{"listen", d.config.metrics_listen},
           {"error", m.status().message()}});
    } else {
      d.metrics = std::move(m).value();
      Log(LogLevel::kInfo, "core", "metrics endpoint",
          {{"listen", d.metrics->address()}});
    }
  }
  const int rc = d.config.pcap_savefile.empty() ? d.RunLive() : d.RunCapture();
  d.metrics.reset();
  return rc;
}

}  // namespace flowacct::daemon
