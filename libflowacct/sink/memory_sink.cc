#include "flowacct/sink/memory_sink.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flowacct/model/ip_address.h"

#include "libflowacct/model/value_format.h"
#include "libflowacct/sink/file_util.h"
#include "libflowacct/sink/row_format.h"
#include "libflowacct/sink/sink_counters.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace flowacct {
namespace {

using internal::KeyValue;
using internal::RowCounters;
using internal::RowFormatter;

constexpr uint32_t kMaxRequest = 1 << 20;
constexpr int kIoTimeoutSeconds = 5;
// pmacct's default memory (16 pools x 8192 bytes) holds about 2,600
// aggregates (pmacct.md §1(b)): about 50 bytes per entry.
constexpr uint64_t kBytesPerEntry = 50;

Status SocketError(const std::string& what, const std::string& path, int err) {
  return IoError(what + " " + path + ": " + strerror(err));
}

Status MakeAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) {
    return InvalidArgumentError(
        "unix socket path \"" + path + "\" is empty or longer than " +
        std::to_string(sizeof(addr->sun_path) - 1) + " bytes");
  }
  std::memcpy(addr->sun_path, path.data(), path.size());
  return Status::Ok();
}

void SetTimeouts(int fd, int seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// Reads exactly n bytes; false on EOF, error or timeout.
bool ReadFull(int fd, char* buf, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool SendMessage(int fd, std::string_view body) {
  uint32_t n = static_cast<uint32_t>(body.size());
  char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                 static_cast<char>(n >> 8), static_cast<char>(n)};
  std::string msg(len, 4);
  msg.append(body);
  while (!msg.empty()) {
    ssize_t w = send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    msg.erase(0, static_cast<size_t>(w));
  }
  return true;
}

// Reads one length-prefixed message of at most `max` bytes.
bool ReceiveMessage(int fd, uint32_t max, std::string* body) {
  unsigned char len[4];
  if (!ReadFull(fd, reinterpret_cast<char*>(len), 4)) return false;
  uint32_t n = (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) |
               (uint32_t{len[2]} << 8) | uint32_t{len[3]};
  if (n > max) return false;
  body->resize(n);
  return n == 0 || ReadFull(fd, body->data(), n);
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (true) {
    size_t p = s.find(sep);
    std::string_view part = s.substr(0, p);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    out.emplace_back(part);
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

struct Entry {
  std::vector<KeyValue> keys;
  int64_t stamp_inserted = 0;
  int64_t stamp_updated = 0;
  RowCounters counters;
};

class MemorySink : public Sink {
 public:
  MemorySink(const MemorySinkOptions& options,
             const PrimitiveRegistry* registry)
      : options_(options), registry_(registry), type_("memory") {
    values_.numeric_protocols = options.num_protos;
    values_.timestamps_since_epoch = options.timestamps_since_epoch;
    values_.timestamps_utc = options.timestamps_utc;
  }

  ~MemorySink() override { (void)Close(); }

  Status Start() {
    sockaddr_un addr;
    if (Status s = MakeAddress(options_.socket_path, &addr); !s.ok()) return s;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
      return SocketError("cannot create pipe for", options_.socket_path, errno);
    }
    wake_read_ = pipefd[0];
    wake_write_ = pipefd[1];
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
      return SocketError("cannot create socket", options_.socket_path, errno);
    }
    // A stale socket from an earlier run is replaced (pmacct too); anything
    // else at the path, or a socket someone still serves, is left alone.
    struct stat st {};
    if (lstat(options_.socket_path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return IoError(options_.socket_path + " exists and is not a socket");
      }
      int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      bool live =
          probe >= 0 &&
          connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      if (probe >= 0) close(probe);
      if (live) {
        return IoError(options_.socket_path +
                       " is in use by another running table");
      }
      unlink(options_.socket_path.c_str());
    }
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
        0) {
      return SocketError("cannot bind", options_.socket_path, errno);
    }
    bound_ = true;
    if (listen(listen_fd_, 16) != 0) {
      return SocketError("cannot listen on", options_.socket_path, errno);
    }
    server_ = std::thread([this] { Serve(); });
    return Status::Ok();
  }

  const std::string& type() const override { return type_; }
  const std::string& name() const override { return options_.name; }

  Status Write(const Snapshot& snapshot) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!formatter_ || primitives_ != snapshot.primitives()) {
      if (formatter_ && !entries_.empty()) {
        counters_.Failed(snapshot.size());
        return InvalidArgumentError(
            "memory table \"" + options_.name +
            "\": snapshot primitives differ from the table's");
      }
      primitives_ = snapshot.primitives();
      formatter_ = MakeFormatter(OutputFormat::kJson);
      has_bins_ = snapshot.has_time_bins();
    }
    AggregateRow row;
    std::vector<KeyValue> keys;
    std::string key;
    uint64_t dropped = 0;
    for (size_t i = 0; i < snapshot.size(); ++i) {
      snapshot.Get(i, &row);
      formatter_->FormatKeys(row.record, snapshot.arena(), &keys);
      key.clear();
      for (const KeyValue& k : keys) {
        key.append(k.text);
        key.push_back('\0');
      }
      key.append(std::to_string(row.stamp_inserted));
      auto found = index_.find(key);
      if (found == index_.end() && options_.max_entries != 0 &&
          entries_.size() >= options_.max_entries) {
        ++dropped;
        continue;
      }
      auto [it, inserted] = index_.try_emplace(key, entries_.size());
      if (inserted) {
        Entry e;
        e.keys = keys;
        e.stamp_inserted = row.stamp_inserted;
        entries_.push_back(std::move(e));
      }
      Entry& e = entries_[it->second];
      e.stamp_updated = row.stamp_updated;
      e.counters.packets += row.record.packets;
      e.counters.bytes += row.record.bytes;
      e.counters.flows += row.record.flows;
    }
    if (dropped != 0) {
      dropped_rows_ += dropped;
      counters_.Failed(snapshot.size());
      return ResourceExhaustedError("memory table \"" + options_.name +
                                    "\" is full (" +
                                    std::to_string(options_.max_entries) +
                                    " entries): " + std::to_string(dropped) +
                                    " rows with new keys dropped");
    }
    counters_.Written(snapshot.size());
    return Status::Ok();
  }

  Status Close() override {
    if (server_.joinable()) {
      char c = 1;
      ssize_t w = write(wake_write_, &c, 1);
      (void)w;
      server_.join();
    }
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_read_ >= 0) close(wake_read_);
    if (wake_write_ >= 0) close(wake_write_);
    listen_fd_ = wake_read_ = wake_write_ = -1;
    if (bound_) unlink(options_.socket_path.c_str());
    bound_ = false;
    return Status::Ok();
  }

  SinkStats stats() const override { return counters_.Get(); }

 private:
  std::unique_ptr<RowFormatter> MakeFormatter(OutputFormat format) const {
    return std::make_unique<RowFormatter>(
        registry_, primitives_, format, internal::RowLayout::kImt, ',', values_,
        options_.timestamps_since_epoch, options_.timestamps_utc);
  }

  void Serve() {
    // Every loop pass handles one connection or ends on the wake pipe.
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
      int n = poll(fds, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      SetTimeouts(fd, kIoTimeoutSeconds);
      std::string body;
      if (ReceiveMessage(fd, kMaxRequest, &body)) {
        std::string response;
        Result<MemoryQuery> q = MemoryQuery::Decode(body);
        if (!q.ok()) {
          response = "1" + q.status().message();
        } else {
          Result<std::string> out = Handle(*q);
          response = out.ok() ? "0" + *out : "1" + out.status().message();
        }
        (void)SendMessage(fd, response);
      }
      close(fd);
    }
  }

  // The table's key index of primitive `name`.
  Result<size_t> KeyIndex(const std::string& name) const {
    const PrimitiveInfo* p = registry_->Find(name);
    if (p == nullptr) p = registry_->FindByJsonKey(name);
    if (p == nullptr) {
      return InvalidArgumentError("unknown primitive \"" + name + "\"");
    }
    const std::vector<PrimitiveId>& keys = formatter_->keys();
    auto it = std::find(keys.begin(), keys.end(), p->id);
    if (it == keys.end()) {
      return InvalidArgumentError("primitive \"" + name +
                                  "\" is not aggregated by this table");
    }
    return static_cast<size_t>(it - keys.begin());
  }

  // A value typed by the user, in the table's text form.
  std::string Normalize(size_t key, const std::string& value) const {
    const PrimitiveInfo& p = registry_->Get(formatter_->keys()[key]);
    if (p.type == PrimitiveType::kIp) {
      Result<IpAddress> ip = IpAddress::Parse(value);
      if (ip.ok()) return ip->ToString();
    } else if (p.type == PrimitiveType::kProto) {
      bool numeric = !value.empty() && value.size() <= 3 &&
                     std::all_of(value.begin(), value.end(),
                                 [](char c) { return c >= '0' && c <= '9'; });
      if (numeric && !options_.num_protos && std::stoi(value) < 256) {
        std::string name;
        internal::AppendProtocolName(static_cast<uint8_t>(std::stoi(value)),
                                     &name);
        return name;
      }
      if (!numeric && options_.num_protos) {
        for (int n = 0; n < 256; ++n) {
          std::string name;
          internal::AppendProtocolName(static_cast<uint8_t>(n), &name);
          if (name == value) return std::to_string(n);
        }
      }
    }
    return value;
  }

  uint64_t Counter(const Entry& e, const std::string& which) const {
    if (which == "packets") return e.counters.packets;
    if (which == "flows") return e.counters.flows;
    return e.counters.bytes;
  }

  // Indices of the entries matching each request (one vector per request).
  Result<std::vector<std::vector<size_t>>> Match(const MemoryQuery& q) const {
    if (q.columns.empty()) {
      return InvalidArgumentError("matching needs primitives (-c)");
    }
    if (q.match.empty()) return InvalidArgumentError("no values to match");
    std::vector<size_t> cols;
    for (const std::string& c : q.columns) {
      Result<size_t> k = KeyIndex(c);
      if (!k.ok()) return k.status();
      cols.push_back(*k);
    }
    std::vector<std::vector<size_t>> out;
    for (const std::string& request : q.match) {
      std::vector<std::string> values = Split(request, ',');
      if (values.size() != cols.size()) {
        return InvalidArgumentError(
            "\"" + request + "\" has " + std::to_string(values.size()) +
            " values for " + std::to_string(cols.size()) + " primitives");
      }
      for (size_t i = 0; i < values.size(); ++i) {
        values[i] = Normalize(cols[i], values[i]);
      }
      std::vector<size_t> hits;
      for (size_t e = 0; e < entries_.size(); ++e) {
        bool ok = true;
        for (size_t i = 0; i < cols.size() && ok; ++i) {
          ok = entries_[e].keys[cols[i]].text == values[i];
        }
        if (ok) hits.push_back(e);
      }
      out.push_back(std::move(hits));
    }
    return out;
  }

  Result<std::string> Handle(const MemoryQuery& q) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    if (q.op == MemoryQuery::Op::kErase) {
      entries_.clear();
      index_.clear();
      return std::string("OK: Clearing stats.\n");
    }
    if (q.op == MemoryQuery::Op::kStatus) {
      out = "entries: " + std::to_string(entries_.size()) + "\nmax_entries: " +
            (options_.max_entries == 0 ? std::string("unlimited")
                                       : std::to_string(options_.max_entries)) +
            "\ndropped_rows: " + std::to_string(dropped_rows_) +
            "\nprimitives: ";
      if (formatter_) {
        for (size_t i = 0; i < primitives_.size(); ++i) {
          if (i > 0) out.push_back(',');
          out.append(registry_->Get(primitives_[i]).name);
        }
      }
      out.append("\n");
      return out;
    }
    OutputFormat format;
    if (q.format == "formatted") {
      format = OutputFormat::kFormatted;
    } else if (q.format == "csv") {
      format = OutputFormat::kCsv;
    } else if (q.format == "json") {
      format = OutputFormat::kJson;
    } else {
      return InvalidArgumentError("unknown output format \"" + q.format +
                                  "\" (formatted, csv, json)");
    }
    if (!q.top.empty() && q.top != "bytes" && q.top != "packets" &&
        q.top != "flows") {
      return InvalidArgumentError("unknown top-N counter \"" + q.top +
                                  "\" (bytes, packets, flows)");
    }
    if (q.op != MemoryQuery::Op::kDump && !formatter_) {
      return InvalidArgumentError("the table is empty: no primitives yet");
    }
    std::vector<size_t> rows;
    if (q.op == MemoryQuery::Op::kDump) {
      rows.resize(entries_.size());
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    } else {
      Result<std::vector<std::vector<size_t>>> m = Match(q);
      if (!m.ok()) return m.status();
      if (q.op == MemoryQuery::Op::kCounters) {
        for (const std::vector<size_t>& hits : *m) {
          RowCounters sum;
          for (size_t e : hits) {
            sum.packets += entries_[e].counters.packets;
            sum.bytes += entries_[e].counters.bytes;
            sum.flows += entries_[e].counters.flows;
          }
          if (q.counter == "all") {
            out += std::to_string(sum.packets) + " " +
                   std::to_string(sum.bytes) + " " + std::to_string(sum.flows);
          } else if (q.counter == "packets") {
            out += std::to_string(sum.packets);
          } else if (q.counter == "flows") {
            out += std::to_string(sum.flows);
          } else if (q.counter == "bytes") {
            out += std::to_string(sum.bytes);
          } else {
            return InvalidArgumentError("unknown counter \"" + q.counter +
                                        "\" (bytes, packets, flows, all)");
          }
          out.push_back('\n');
        }
        return out;
      }
      std::vector<bool> seen(entries_.size(), false);
      for (const std::vector<size_t>& hits : *m) {
        for (size_t e : hits) {
          if (!seen[e]) rows.push_back(e);
          seen[e] = true;
        }
      }
    }
    if (!q.top.empty()) {
      auto greater = [&](size_t a, size_t b) {
        return Counter(entries_[a], q.top) > Counter(entries_[b], q.top);
      };
      size_t n =
          q.top_n == 0 ? rows.size() : std::min<size_t>(rows.size(), q.top_n);
      std::partial_sort(rows.begin(), rows.begin() + static_cast<long>(n),
                        rows.end(), greater);
      rows.resize(n);
    }
    if (!formatter_) {
      if (format == OutputFormat::kFormatted) {
        out = "\nFor a total of: 0 entries\n";
      }
      return out;
    }
    std::unique_ptr<RowFormatter> f = MakeFormatter(format);
    f->AppendHeader(&out);
    // Entries hold the keys in JSON order; the format's order may differ.
    std::vector<size_t> from;
    for (PrimitiveId id : f->keys()) {
      const std::vector<PrimitiveId>& stored = formatter_->keys();
      from.push_back(static_cast<size_t>(
          std::find(stored.begin(), stored.end(), id) - stored.begin()));
    }
    std::vector<KeyValue> keys(from.size());
    for (size_t e : rows) {
      const Entry& entry = entries_[e];
      for (size_t i = 0; i < from.size(); ++i) keys[i] = entry.keys[from[i]];
      f->AppendRow(keys, has_bins_, entry.stamp_inserted, entry.stamp_updated,
                   entry.counters, &out);
    }
    if (format == OutputFormat::kFormatted) {
      out += "\nFor a total of: " + std::to_string(rows.size()) + " entries\n";
    }
    return out;
  }

  MemorySinkOptions options_;
  const PrimitiveRegistry* registry_;
  std::string type_;
  FormatOptions values_;

  std::mutex mu_;  // guards everything below up to the fds
  std::vector<PrimitiveId> primitives_;
  std::unique_ptr<RowFormatter> formatter_;  // json layout, for keys
  bool has_bins_ = false;
  uint64_t dropped_rows_ = 0;  // rows refused because the table was full
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;

  int listen_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  bool bound_ = false;
  std::thread server_;
  internal::SinkCounters counters_;
};

const char* OpName(MemoryQuery::Op op) {
  switch (op) {
    case MemoryQuery::Op::kDump:
      return "dump";
    case MemoryQuery::Op::kMatch:
      return "match";
    case MemoryQuery::Op::kCounters:
      return "counters";
    case MemoryQuery::Op::kErase:
      return "erase";
    case MemoryQuery::Op::kStatus:
      return "status";
  }
  return "dump";
}

}  // namespace

MemorySinkOptions MemorySinkOptions::FromConfig(const PluginConfig& plugin,
                                                const DaemonConfig& daemon) {
  MemorySinkOptions o;
  o.name = plugin.name;
  o.socket_path = plugin.imt_path;
  o.max_entries = plugin.imt_mem_pools_number == 0
                      ? 0
                      : uint64_t{plugin.imt_mem_pools_number} *
                            plugin.imt_mem_pools_size / kBytesPerEntry;
  o.num_protos = plugin.num_protos;
  o.timestamps_utc = daemon.timestamps_utc;
  o.timestamps_secs = daemon.timestamps_secs;
  o.timestamps_since_epoch = daemon.timestamps_since_epoch;
  return o;
}

Result<std::unique_ptr<Sink>> CreateMemorySink(
    const MemorySinkOptions& options, const PrimitiveRegistry* registry) {
  if (registry == nullptr) return InvalidArgumentError("no primitive registry");
  auto sink = std::make_unique<MemorySink>(options, registry);
  if (Status s = sink->Start(); !s.ok()) return s;
  return std::unique_ptr<Sink>(std::move(sink));
}

std::string MemoryQuery::Encode() const {
  std::string out = "op=" + std::string(OpName(op)) + "\n";
  out += "format=" + format + "\n";
  if (!top.empty()) {
    out += "top=" + top + "\n";
    out += "top_n=" + std::to_string(top_n) + "\n";
  }
  if (!columns.empty()) {
    out += "columns=";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) out.push_back(',');
      out += columns[i];
    }
    out.push_back('\n');
  }
  for (const std::string& m : match) out += "match=" + m + "\n";
  out += "counter=" + counter + "\n";
  return out;
}

Result<MemoryQuery> MemoryQuery::Decode(const std::string& body) {
  MemoryQuery q;
  bool have_op = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    std::string line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return InvalidArgumentError("malformed request line \"" + line + "\"");
    }
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    if (key == "op") {
      have_op = true;
      if (value == "dump") {
        q.op = Op::kDump;
      } else if (value == "match") {
        q.op = Op::kMatch;
      } else if (value == "counters") {
        q.op = Op::kCounters;
      } else if (value == "erase") {
        q.op = Op::kErase;
      } else if (value == "status") {
        q.op = Op::kStatus;
      } else {
        return InvalidArgumentError("unknown op \"" + value + "\"");
      }
    } else if (key == "format") {
      q.format = value;
    } else if (key == "top") {
      q.top = value;
    } else if (key == "top_n") {
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(),
                       [](char c) { return c >= '0' && c <= '9'; })) {
        return InvalidArgumentError("bad top_n \"" + value + "\"");
      }
      q.top_n = std::stoull(value);
    } else if (key == "columns") {
      q.columns = Split(value, ',');
    } else if (key == "match") {
      q.match.push_back(value);
    } else if (key == "counter") {
      q.counter = value;
    } else {
      return InvalidArgumentError("unknown request key \"" + key + "\"");
    }
  }
  if (!have_op) return InvalidArgumentError("request without op");
  return q;
}

Result<std::string> QueryMemorySink(const std::string& socket_path,
                                    const MemoryQuery& query) {
  auto has_newline = [](const std::string& s) {
    return s.find('\n') != std::string::npos;
  };
  if (has_newline(query.format) || has_newline(query.top) ||
      has_newline(query.counter) ||
      std::any_of(query.columns.begin(), query.columns.end(), has_newline) ||
      std::any_of(query.match.begin(), query.match.end(), has_newline)) {
    return InvalidArgumentError("query values must not contain newlines");
  }
  sockaddr_un addr;
  if (Status s = MakeAddress(socket_path, &addr); !s.ok()) return s;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return SocketError("cannot create socket for", socket_path, errno);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(fd);
    return SocketError("cannot connect to", socket_path, err);
  }
  SetTimeouts(fd, 30);
  std::string response;
  bool ok = SendMessage(fd, query.Encode()) &&
            ReceiveMessage(fd, UINT32_MAX, &response);
  close(fd);
  if (!ok || response.empty()) {
    return IoError("no answer from " + socket_path);
  }
  if (response[0] != '0') return InvalidArgumentError(response.substr(1));
  return response.substr(1);
}

}  // namespace flowacct
