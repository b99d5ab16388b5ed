// flowacctd's routing feeds: the BGP daemon (bgp_daemon: a bgp::Speaker on
// a TcpServer) and the BMP daemon (bmp_daemon: a bmp::Collector on another
// TcpServer), both writing one shared bgp::Rib, each on its own thread;
// plus what pmacct writes from them: the BGP and BMP message logs
// (bgp_daemon_msglog_file, bmp_daemon_msglog_file, written on the BGP and
// BMP threads) and the periodic
// table dumps (bgp_table_dump_file) and BMP dumps (bmp_dump_file), on a
// dump thread. Log lines for peers
// coming up, going down and being refused. See docs/daemon.md.
//
// Lifetime: Create() (no sockets yet) -> feeds() for the enrichment ->
// Start() (binds, starts threads) -> Stop() (closes every session, joins).
// Must outlive the pipeline whose enrichment uses feeds().
//
// Thread-safety: Create, Start, Stop, DumpNow, ReloadAllowFiles,
// ReopenFiles and LogStats from the main thread; RenderMetrics from any
// thread (the metrics endpoint's).

#ifndef FLOWACCT_DAEMON_FLOWACCTD_ROUTING_H_
#define FLOWACCT_DAEMON_FLOWACCTD_ROUTING_H_

#include <memory>
#include <string>

#include "flowacct/config/daemon_config.h"
#include "flowacct/status.h"

#include "daemon/flowacctd/routing_feeds.h"

namespace flowacct::daemon {

class Routing {
 public:
  // Null when neither bgp_daemon nor bmp_daemon is on. Reads the MD5 file;
  // errors name the file (and line).
  static Result<std::unique_ptr<Routing>> Create(const DaemonConfig& config);
  ~Routing();

  RoutingFeeds feeds() const;

  // Loads the allow files, binds the listening sockets and starts the
  // threads. kIoError naming the address when a socket cannot be opened.
  Status Start();
  // Stops the servers (sessions are closed: peers see the TCP connection
  // go), writes the message-log lines for it and joins every thread.
  // Idempotent.
  void Stop();

  // SIGUSR1: writes the table dumps now (on the dump thread), whatever the
  // refresh time, besides the periodic ones.
  void DumpNow();
  // SIGUSR2: reloads bgp_daemon_allow_file / bmp_daemon_allow_file (new
  // connections only).
  void ReloadAllowFiles();
  // SIGHUP: reopens the message-log files.
  void ReopenFiles();
  // SIGUSR1: one log line per peer and router.
  void LogStats() const;
  // Prometheus text of the flowacct_bgp_* and flowacct_bmp_* families.
  std::string RenderMetrics() const;

  struct Impl;

 private:
  explicit Routing(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct::daemon

#endif  // FLOWACCT_DAEMON_FLOWACCTD_ROUTING_H_
