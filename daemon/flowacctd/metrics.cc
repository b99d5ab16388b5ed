#include "daemon/flowacctd/metrics.h"

#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "flowacct/decode/decode_stats.h"
#include "flowacct/io/http_server.h"
#include "flowacct/io/prometheus_text.h"

namespace flowacct::daemon {
namespace {

std::string_view DecodeErrorLabel(int i) {
  return DecodeErrorName(static_cast<DecodeError>(i));
}

}  // namespace

std::string RenderPrometheus(const PipelineStats& s,
                             const std::vector<ListenerMetrics>& listeners) {
  PrometheusText t;
  t.Family("flowacct_input_datagrams_total", MetricType::kCounter,
           "UDP datagrams received, per listener");
  for (const ListenerMetrics& l : listeners) {
    t.Sample("flowacct_input_datagrams_total", {{"listener", l.address}},
             l.stats.datagrams);
  }
  t.Family("flowacct_input_bytes_total", MetricType::kCounter,
           "UDP payload bytes received, per listener");
  for (const ListenerMetrics& l : listeners) {
    t.Sample("flowacct_input_bytes_total", {{"listener", l.address}},
             l.stats.bytes);
  }
  t.Family("flowacct_input_socket_drops_total", MetricType::kCounter,
           "datagrams the kernel dropped because the socket buffer was full "
           "(SO_RXQ_OVFL)");
  for (const ListenerMetrics& l : listeners) {
    t.Sample("flowacct_input_socket_drops_total", {{"listener", l.address}},
             l.stats.kernel_drops);
  }
  t.Family("flowacct_input_denied_total", MetricType::kCounter,
           "datagrams refused by the allow file");
  for (const ListenerMetrics& l : listeners) {
    t.Sample("flowacct_input_denied_total", {{"listener", l.address}},
             l.stats.denied);
  }
  t.Family("flowacct_queue_dropped_datagrams_total", MetricType::kCounter,
           "datagrams dropped because a decode worker queue was full");
  t.Sample("flowacct_queue_dropped_datagrams_total", {}, s.queue_drops);

  t.Family("flowacct_exporter_datagrams_total", MetricType::kCounter,
           "datagrams decoded, per exporter");
  for (const auto& [address, e] : s.decode.exporters) {
    t.Sample("flowacct_exporter_datagrams_total",
             {{"exporter", address.ToString()}}, e.datagrams);
  }
  t.Family("flowacct_records_total", MetricType::kCounter,
           "flow and event records decoded, per exporter");
  for (const auto& [address, e] : s.decode.exporters) {
    t.Sample("flowacct_records_total", {{"exporter", address.ToString()}},
             e.records);
  }
  t.Family("flowacct_sequence_gaps_total", MetricType::kCounter,
           "units (flows, packets or records, per protocol) missing according "
           "to the exporters' sequence numbers");
  for (const auto& [address, e] : s.decode.exporters) {
    t.Sample("flowacct_sequence_gaps_total", {{"exporter", address.ToString()}},
             e.sequence.lost);
  }
  t.Family("flowacct_decode_errors_total", MetricType::kCounter,
           "decode problems, per exporter and reason");
  for (const auto& [address, e] : s.decode.exporters) {
    for (int i = 0; i < kDecodeErrorCount; ++i) {
      if (e.errors[i] == 0) continue;
      t.Sample(
          "flowacct_decode_errors_total",
          {{"exporter", address.ToString()}, {"reason", DecodeErrorLabel(i)}},
          e.errors[i]);
    }
  }
  t.Family("flowacct_view_records_total", MetricType::kCounter,
           "records aggregated into a view (plugin)");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_view_records_total", {{"view", v.name}}, v.records);
  }
  t.Family("flowacct_view_filtered_records_total", MetricType::kCounter,
           "records a view's pre_tag filters rejected");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_view_filtered_records_total", {{"view", v.name}},
             v.filtered);
  }
  t.Family("flowacct_aggregator_evictions_total", MetricType::kCounter,
           "early flushes because a view's cache was full");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_aggregator_evictions_total",
             {{"view", v.name}, {"reason", "cache_full"}},
             v.cache_full_flushes);
  }
  t.Family("flowacct_sink_records_total", MetricType::kCounter,
           "rows written by a sink");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_records_total", {{"sink", v.name}}, v.sink.rows);
  }
  t.Family("flowacct_sink_errors_total", MetricType::kCounter,
           "snapshots a sink failed to write");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_errors_total", {{"sink", v.name}},
             v.sink.failed_snapshots);
  }
  t.Family("flowacct_sink_dropped_records_total", MetricType::kCounter,
           "rows lost: sink queue full, delivery spool full (or no spool), "
           "or rejected by the server");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_dropped_records_total",
             {{"sink", v.name}, {"reason", "queue_full"}}, v.rows_dropped);
    t.Sample("flowacct_sink_dropped_records_total",
             {{"sink", v.name}, {"reason", "spool_full"}},
             v.sink.dropped_rows);
    t.Sample("flowacct_sink_dropped_records_total",
             {{"sink", v.name}, {"reason", "rejected"}},
             v.sink.rejected_rows);
  }
  // Delivery to servers (sqlite3, mysql, pgsql, amqp, kafka; zero for print
  // and memory): flowacct/sink/delivery.h.
  t.Family("flowacct_sink_delivered_records_total", MetricType::kCounter,
           "rows the server acknowledged");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_delivered_records_total", {{"sink", v.name}},
             v.sink.delivered_rows);
  }
  t.Family("flowacct_sink_spooled_records_total", MetricType::kCounter,
           "rows written to the on-disk spool while the server was down");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_spooled_records_total", {{"sink", v.name}},
             v.sink.spooled_rows);
  }
  t.Family("flowacct_sink_retries_total", MetricType::kCounter,
           "failed delivery attempts that were retried");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_retries_total", {{"sink", v.name}},
             v.sink.retries);
  }
  t.Family("flowacct_sink_queue_depth", MetricType::kGauge,
           "rows waiting for delivery (in memory or in the spool)");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_queue_depth", {{"sink", v.name}},
             v.sink.pending_rows);
  }
  t.Family("flowacct_sink_spool_bytes", MetricType::kGauge,
           "bytes in the delivery spool");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_spool_bytes", {{"sink", v.name}},
             v.sink.spool_bytes);
  }
  t.Family("flowacct_sink_up", MetricType::kGauge,
           "1 when the last delivery attempt to the server succeeded");
  for (const ViewStats& v : s.views) {
    t.Sample("flowacct_sink_up", {{"sink", v.name}},
             v.sink.backend_up ? 1 : 0);
  }
  return t.Take();
}

struct MetricsEndpoint::Impl {
  std::string host;
  std::unique_ptr<HttpServer> server;
  std::atomic<int> reload_ok{1};
  std::atomic<int64_t> reload_time{0};
};

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
MetricsEndpoint::~MetricsEndpoint() = default;

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, std::function<std::string()> render) {
  // "host:port" or "[v6]:port".
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return InvalidArgumentError(
        "flowacct_metrics_listen: expected host:port, "
        "got '" +
        listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) {
      return InvalidArgumentError("flowacct_metrics_listen: bad port in '" +
                                  listen + "'");
    }
    port = port * 10 + (c - '0');
  }
  if (port > 65535) {
    return InvalidArgumentError("flowacct_metrics_listen: bad port in '" +
                                listen + "'");
  }
  auto impl = std::make_unique<Impl>();
  Impl* raw = impl.get();
  HttpServer::Options o;
  o.address = host;
  o.port = static_cast<uint16_t>(port);
  HttpServer::Handlers handlers;
  handlers["/metrics"] = MetricsHandler([raw, render = std::move(render)] {
    std::string text = render();
    PrometheusText t;
    t.Family("flowacct_config_last_reload_successful", MetricType::kGauge,
             "1 if the last map reload (SIGUSR2) succeeded");
    t.Sample("flowacct_config_last_reload_successful", {},
             static_cast<uint64_t>(raw->reload_ok.load()));
    text += t.Take();
    return text;
  });
  handlers["/healthz"] = HealthHandler(
      []() -> std::optional<std::string> { return std::nullopt; });
  Result<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(o, std::move(handlers));
  if (!server.ok()) return server.status();
  impl->host = host;
  impl->server = std::move(server).value();
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(impl)));
}

std::string MetricsEndpoint::address() const {
  const std::string& h = impl_->host;
  const bool v6 = h.find(':') != std::string::npos;
  return (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->server->port());
}

void MetricsEndpoint::SetReloadResult(bool ok, int64_t when_ns) {
  impl_->reload_ok = ok ? 1 : 0;
  impl_->reload_time = when_ns;
}

}  // namespace flowacct::daemon
