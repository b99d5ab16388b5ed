// File: flowacct/io/http_server.h
//
// HttpServer: a small HTTP/1.1 server for the daemon's operational endpoints
// (`/metrics` for Prometheus, `/healthz`, later `/readyz` and `/debug/...`).
// It is not a general web server: it runs one thread, serves one connection
// at a time, answers GET and HEAD only, closes the connection after each
// response, and bounds what a client can make it hold (request size, time).
// That suits a scraper polling every few seconds; it is not meant to face
// the internet (bind to loopback, the default, or a management network).
//
//   HttpServer::Options o;            // 127.0.0.1, port 9100
//   HttpServer::Handlers h;
//   h["/metrics"] = MetricsHandler([&] { return BuildMetricsPage(); });
//   h["/healthz"] = HealthHandler([&]() -> std::optional<std::string> {
//     return receivers_ok ? std::nullopt : std::optional("no listener");
//   });
//   auto server = HttpServer::Start(o, std::move(h));
//   ... (*server)->port() ...
//   (*server)->Stop();                // or destroy it
//
// Responses: a registered path (query string ignored) calls its handler;
// another path gets 404, another method 405, a request line or header block
// longer than max_request_bytes 431, a malformed request 400. A client that
// sends nothing for io_timeout is dropped.
//
// Thread-safety: Start/Stop/port are thread-safe. Handlers run on the
// server's thread, one at a time; they must be safe to call concurrently
// with the rest of the program (e.g. read atomics or take a lock).

#ifndef FLOWACCT_IO_HTTP_SERVER_H_
#define FLOWACCT_IO_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "flowacct/status.h"

namespace flowacct {

struct HttpRequest {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // "/metrics" (no query string)
  std::string query;   // "limit=1" (without '?'), or ""
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  struct Options {
    // IPv4 or IPv6 literal; "::" or "0.0.0.0" to listen everywhere (the
    // endpoints are unauthenticated: prefer loopback).
    std::string address = "127.0.0.1";
    uint16_t port = 9100;  // 0 picks an ephemeral port, see port()
    // Largest request (request line + headers) accepted.
    size_t max_request_bytes = 8192;
    // Longest wait for a client to send its request or read the response.
    std::chrono::milliseconds io_timeout{5000};
  };
  // Path ("/metrics") to handler.
  using Handlers = std::map<std::string, HttpHandler>;

  // Binds, listens and starts the server thread. kInvalidArgument for a bad
  // address; kIoError when the socket cannot be bound (port in use, ...).
  static Result<std::unique_ptr<HttpServer>> Start(const Options& options,
                                                   Handlers handlers);

  // Stops and joins the thread (Stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the ephemeral one when Options::port was 0).
  uint16_t port() const;

  // Stops accepting, finishes or abandons the current connection (within
  // io_timeout) and joins the server thread. Idempotent.
  void Stop();

  // Requests served (any status), for the server's own metrics.
  uint64_t requests() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A `/metrics` handler: 200 with `page()` as the body, content type
// `text/plain; version=0.0.4` (PrometheusText::kContentType).
HttpHandler MetricsHandler(std::function<std::string()> page);

// A `/healthz` handler: `problem()` returns nullopt when healthy (200 "ok"),
// or a reason (503 with the reason as the body).
HttpHandler HealthHandler(std::function<std::optional<std::string>()> problem);

}  // namespace flowacct

#endif  // FLOWACCT_IO_HTTP_SERVER_H_
