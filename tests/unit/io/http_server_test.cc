// HttpServer over loopback TCP, and PrometheusText output.

#include "flowacct/io/http_server.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "flowacct/io/prometheus_text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace flowacct {
namespace {

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{10, 0};  // a hung server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(port);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0);
  return fd;
}

// Sends `request` raw and returns everything the server sent back.
std::string Exchange(uint16_t port, const std::string& request) {
  int fd = Connect(port);
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n =
        ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on oversized requests
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (int i = 0; i < 10000; ++i) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string Get(uint16_t port, const std::string& path) {
  return Exchange(port, "GET " + path +
                            " HTTP/1.1\r\nHost: localhost\r\n"
                            "User-Agent: test\r\n\r\n");
}

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}
std::string Body(const std::string& response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

struct Fixture {
  std::atomic<int> scrapes{0};
  std::atomic<bool> healthy{true};
  std::unique_ptr<HttpServer> server;

  Fixture() {
    HttpServer::Options o;
    o.port = 0;
    o.max_request_bytes = 1024;
    o.io_timeout = std::chrono::milliseconds(500);
    HttpServer::Handlers h;
    h["/metrics"] = MetricsHandler([this] {
      PrometheusText p;
      p.Counter("flowacct_test_scrapes_total", "Scrapes.", ++scrapes);
      return p.Take();
    });
    h["/healthz"] = HealthHandler([this]() -> std::optional<std::string> {
      if (healthy) return std::nullopt;
      return std::string("listener 0.0.0.0:2100 not bound");
    });
    auto s = HttpServer::Start(o, std::move(h));
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    server = std::move(*s);
  }
};

TEST_CASE("HttpServer serves /metrics") {
  Fixture f;
  REQUIRE(f.server->port() != 0);
  std::string r = Get(f.server->port(), "/metrics");
  CHECK(StatusLine(r) == "HTTP/1.1 200 OK");
  CHECK(r.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(Body(r) ==
        "# HELP flowacct_test_scrapes_total Scrapes.\n"
        "# TYPE flowacct_test_scrapes_total counter\n"
        "flowacct_test_scrapes_total 1\n");
  CHECK(r.find("Content-Length: " + std::to_string(Body(r).size()) + "\r\n") !=
        std::string::npos);
  // The callback runs per request; a query string is ignored.
  r = Get(f.server->port(), "/metrics?x=1");
  CHECK(Body(r).find("flowacct_test_scrapes_total 2\n") != std::string::npos);
  CHECK(f.server->requests() == 2);
}

TEST_CASE("HttpServer /healthz reports ok or 503 with the reason") {
  Fixture f;
  std::string r = Get(f.server->port(), "/healthz");
  CHECK(StatusLine(r) == "HTTP/1.1 200 OK");
  CHECK(Body(r) == "ok\n");
  f.healthy = false;
  r = Get(f.server->port(), "/healthz");
  CHECK(StatusLine(r) == "HTTP/1.1 503 Service Unavailable");
  CHECK(Body(r) == "listener 0.0.0.0:2100 not bound\n");
}

TEST_CASE("HttpServer error statuses") {
  Fixture f;
  uint16_t port = f.server->port();
  CHECK(StatusLine(Get(port, "/nope")) == "HTTP/1.1 404 Not Found");
  CHECK(StatusLine(Exchange(port, "POST /metrics HTTP/1.1\r\n\r\n")) ==
        "HTTP/1.1 405 Method Not Allowed");
  CHECK(StatusLine(Exchange(port, "garbage\r\n\r\n")) ==
        "HTTP/1.1 400 Bad Request");
  std::string big =
      "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(4000, 'a') + "\r\n\r\n";
  CHECK(StatusLine(Exchange(port, big)) ==
        "HTTP/1.1 431 Request Header Fields Too Large");
  // HEAD: headers only.
  std::string head = Exchange(port, "HEAD /healthz HTTP/1.1\r\n\r\n");
  CHECK(StatusLine(head) == "HTTP/1.1 200 OK");
  CHECK(Body(head).empty());
  CHECK(head.find("Content-Length: 3\r\n") != std::string::npos);
}

TEST_CASE("HttpServer drops a silent client and keeps serving") {
  Fixture f;
  int idle = Connect(f.server->port());  // sends nothing
  // Served after the idle connection's io_timeout (500 ms) expires.
  std::string r = Get(f.server->port(), "/healthz");
  CHECK(StatusLine(r) == "HTTP/1.1 200 OK");
  char c;
  CHECK(::recv(idle, &c, 1, 0) == 0);  // the server closed it
  ::close(idle);
}

TEST_CASE("HttpServer Stop is prompt with a client connected, and idempotent") {
  Fixture f;
  int idle = Connect(f.server->port());
  f.server->Stop();
  f.server->Stop();
  ::close(idle);
  f.server.reset();
}

TEST_CASE("HttpServer Start errors") {
  HttpServer::Options o;
  o.address = "localhost";
  CHECK(HttpServer::Start(o, {}).status().code() ==
        StatusCode::kInvalidArgument);
  o.address = "127.0.0.1";
  o.port = 0;
  auto first = HttpServer::Start(o, {});
  REQUIRE(first.ok());
  o.port = (*first)->port();
  CHECK(HttpServer::Start(o, {}).status().code() == StatusCode::kIoError);
}

TEST_CASE("PrometheusText families, labels and escaping") {
  PrometheusText p;
  p.Family("flowacct_input_datagrams_total", MetricType::kCounter,
           "UDP datagrams\nreceived, see C:\\docs.");
  p.Sample("flowacct_input_datagrams_total",
           {{"listener", "[::]:2100"}, {"exporter", "192.0.2.1"}}, uint64_t{7});
  p.Sample("flowacct_input_datagrams_total",
           {{"listener", "a\"b\\c\nd"}, {"bad-label", "x"}},
           18446744073709551615u);
  p.Gauge("flowacct_sampling_rate", "", 0.25);
  p.Family("g", MetricType::kGauge, "h");
  p.Sample("g", {{"k", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  p.Sample("g", {{"k", "inf"}}, std::numeric_limits<double>::infinity());
  p.Sample("g", {{"k", "-inf"}}, -std::numeric_limits<double>::infinity());
  p.Sample("g", {{"k", "neg"}}, -3);
  p.Sample("9bad name", {}, 1e21);
  CHECK(p.text() ==
        "# HELP flowacct_input_datagrams_total UDP datagrams\\nreceived, see "
        "C:\\\\docs.\n"
        "# TYPE flowacct_input_datagrams_total counter\n"
        "flowacct_input_datagrams_total{listener=\"[::]:2100\",exporter="
        "\"192.0.2.1\"} 7\n"
        "flowacct_input_datagrams_total{listener=\"a\\\"b\\\\c\\nd\",bad_label="
        "\"x\"} 18446744073709551615\n"
        "# TYPE flowacct_sampling_rate gauge\n"
        "flowacct_sampling_rate 0.25\n"
        "# HELP g h\n"
        "# TYPE g gauge\n"
        "g{k=\"nan\"} NaN\n"
        "g{k=\"inf\"} +Inf\n"
        "g{k=\"-inf\"} -Inf\n"
        "g{k=\"neg\"} -3\n"
        "_bad_name 1e+21\n");
  std::string taken = p.Take();
  CHECK(!taken.empty());
  CHECK(p.text().empty());
}

}  // namespace
}  // namespace flowacct
