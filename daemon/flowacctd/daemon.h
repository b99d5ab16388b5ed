// flowacctd's wiring: a DaemonConfig turned into a running Pipeline with
// its views and sinks, inputs (a capture or UDP listeners), the metrics
// endpoint, and signal handling. Everything here is composition of
// libflowacct components; no protocol or aggregation logic lives here.
//
// Signals (pmacct's semantics, docs/daemon.md): SIGUSR1 logs per-exporter
// statistics; SIGUSR2 reloads the maps (pre_tag_map, sampling_map,
// networks_file, ports_file, bgp_agent_map, the bgp_*_map source maps,
// allow files) without touching the sockets;
// SIGHUP reopens the log file and the sinks' files; SIGTERM and SIGINT flush
// every view and exit 0.
//
// Thread-safety: Create and Run from the main thread only.

#ifndef FLOWACCT_DAEMON_FLOWACCTD_DAEMON_H_
#define FLOWACCT_DAEMON_FLOWACCTD_DAEMON_H_

#include <memory>

#include "flowacct/config/daemon_config.h"
#include "flowacct/status.h"

namespace flowacct::daemon {

class Daemon {
 public:
  // Loads custom primitives and maps, creates sinks and the pipeline. The
  // first problem is returned (file:line for map and config errors).
  static Result<std::unique_ptr<Daemon>> Create(DaemonConfig config);

  ~Daemon();

  // Runs until the capture is consumed (pcap_savefile) or SIGTERM/SIGINT,
  // then flushes every view. Returns the process exit code.
  int Run();

  struct Impl;

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct::daemon

#endif  // FLOWACCT_DAEMON_FLOWACCTD_DAEMON_H_
