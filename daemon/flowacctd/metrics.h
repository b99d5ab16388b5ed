// flowacctd's operator surface: Prometheus text at /metrics and a liveness
// answer at /healthz, on a loopback address by default
// (flowacct_metrics_listen). Metric names follow docs/metrics.md (flowacct_
// prefix, _total counters).

#ifndef FLOWACCT_DAEMON_FLOWACCTD_METRICS_H_
#define FLOWACCT_DAEMON_FLOWACCTD_METRICS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/io/udp_receiver.h"
#include "flowacct/pipeline/pipeline.h"
#include "flowacct/status.h"

namespace flowacct::daemon {

struct ListenerMetrics {
  std::string address;
  UdpReceiverStats stats;
};

// Renders the pipeline's and listeners' counters in the Prometheus text
// exposition format (version 0.0.4).
std::string RenderPrometheus(const PipelineStats& stats,
                             const std::vector<ListenerMetrics>& listeners);

// The HTTP endpoint. Thread-safety: the render callback runs on the
// server's thread; SetReloadResult may be called from any thread.
class MetricsEndpoint {
 public:
  static Result<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::function<std::string()> render);
  ~MetricsEndpoint();
  std::string address() const;
  void SetReloadResult(bool ok, int64_t when_ns);

  struct Impl;

 private:
  explicit MetricsEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct::daemon

#endif  // FLOWACCT_DAEMON_FLOWACCTD_METRICS_H_
