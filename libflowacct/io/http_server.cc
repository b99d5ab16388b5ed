// HttpServer: one thread, poll() on the listening socket and an eventfd
// (Stop), one connection at a time with deadlines on reads and writes.

#include "flowacct/io/http_server.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "flowacct/io/prometheus_text.h"
#include "flowacct/model/ip_address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flowacct {
namespace {

using Clock = std::chrono::steady_clock;

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

HttpResponse Plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

struct HttpServer::Impl {
  Options options;
  Handlers handlers;
  int listen_fd = -1;
  int stop_fd = -1;
  uint16_t port = 0;
  std::thread thread;
  std::once_flag stop_once;
  std::atomic<uint64_t> requests{0};

  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (stop_fd >= 0) ::close(stop_fd);
  }

  // Waits until `fd` is ready for `events` or the deadline / Stop. True
  // when ready.
  bool WaitFor(int fd, short events, Clock::time_point deadline) {
    for (int i = 0; i < 1000; ++i) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
      int r = ::poll(fds, 2, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      if (fds[1].revents) return false;  // stopping
      return true;
    }
    return false;
  }

  void Run() {
    for (;;) {
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
      int r = ::poll(fds, 2, -1);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 || fds[1].revents) return;
      if (!(fds[0].revents & POLLIN)) continue;
      int conn =
          ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (conn < 0) continue;  // EAGAIN, ECONNABORTED, EMFILE: next time
      Serve(conn);
      ::close(conn);
    }
  }

  void Serve(int conn) {
    const auto deadline = Clock::now() + options.io_timeout;
    std::string request;
    bool complete = false, too_large = false;
    char buf[2048];
    while (!complete && !too_large) {
      if (!WaitFor(conn, POLLIN, deadline)) return;
      ssize_t n = ::recv(conn, buf, sizeof(buf), 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return;  // error or closed before a full request
      request.append(buf, static_cast<size_t>(n));
      size_t end = request.find("\r\n\r\n");
      if (end == std::string::npos) end = request.find("\n\n");
      if (end != std::string::npos) {
        complete = end < options.max_request_bytes;
        too_large = !complete;
      } else if (request.size() > options.max_request_bytes) {
        too_large = true;
      }
    }
    requests.fetch_add(1, std::memory_order_relaxed);
    HttpResponse response;
    bool head = false;
    if (too_large) {
      response = Plain(431, "request too large\n");
    } else {
      response = Handle(request, &head);
    }
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                      std::string(Reason(response.status)) + "\r\n";
    out += "Content-Type: " + response.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    if (!head) out += response.body;
    size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n =
          ::send(conn, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!WaitFor(conn, POLLOUT, deadline)) return;
        continue;
      }
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
    ::shutdown(conn, SHUT_WR);
  }

  HttpResponse Handle(const std::string& request, bool* head) {
    // Request line: METHOD SP target SP HTTP/x.y (RFC 9112 §3).
    size_t eol = request.find('\n');
    std::string_view line(request.data(), eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos ||
        line.substr(sp2 + 1).substr(0, 5) != "HTTP/") {
      return Plain(400, "bad request\n");
    }
    HttpRequest req;
    req.method = std::string(line.substr(0, sp1));
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (target.empty() || target[0] != '/') return Plain(400, "bad target\n");
    size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos)
      req.query = std::string(target.substr(q + 1));
    auto it = handlers.find(req.path);
    if (it == handlers.end()) return Plain(404, "not found\n");
    if (req.method == "HEAD") {
      *head = true;
    } else if (req.method != "GET") {
      return Plain(405, "only GET and HEAD\n");
    }
    return it->second(req);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const Options& options,
                                                      Handlers handlers) {
  Result<IpAddress> ip = IpAddress::Parse(options.address);
  if (!ip.ok()) {
    return InvalidArgumentError("bad HTTP listen address \"" + options.address +
                                "\"");
  }
  sockaddr_storage addr{};
  socklen_t len;
  if (ip->is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&addr);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, ip->data(), 4);
    sin->sin_port = htons(options.port);
    len = sizeof(*sin);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&addr);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, ip->data(), 16);
    sin6->sin6_port = htons(options.port);
    len = sizeof(*sin6);
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handlers = std::move(handlers);
  impl->listen_fd =
      ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (impl->listen_fd < 0) return IoError(Errno("socket"));
  int one = 1;
  (void)::setsockopt(impl->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
                     sizeof(one));
  if (::bind(impl->listen_fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return IoError(
        Errno("bind " + options.address + ":" + std::to_string(options.port)));
  }
  if (::listen(impl->listen_fd, 16) != 0) return IoError(Errno("listen"));
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&bound),
                    &bound_len) != 0) {
    return IoError(Errno("getsockname"));
  }
  impl->port = ntohs(bound.ss_family == AF_INET
                         ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                         : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  impl->stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->stop_fd < 0) return IoError(Errno("eventfd"));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

uint64_t HttpServer::requests() const {
  return impl_->requests.load(std::memory_order_relaxed);
}

void HttpServer::Stop() {
  std::call_once(impl_->stop_once, [this] {
    uint64_t one = 1;
    ssize_t r = ::write(impl_->stop_fd, &one, sizeof(one));
    (void)r;
    if (impl_->thread.joinable()) impl_->thread.join();
  });
}

HttpHandler MetricsHandler(std::function<std::string()> page) {
  return [page = std::move(page)](const HttpRequest&) {
    HttpResponse r;
    r.content_type = std::string(PrometheusText::kContentType);
    r.body = page();
    return r;
  };
}

HttpHandler HealthHandler(std::function<std::optional<std::string>()> problem) {
  return [problem = std::move(problem)](const HttpRequest&) {
    std::optional<std::string> p = problem();
    if (!p) return Plain(200, "ok\n");
    return Plain(503, *p + "\n");
  };
}

}  // namespace flowacct
