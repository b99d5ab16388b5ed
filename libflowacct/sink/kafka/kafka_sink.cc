// The kafka sink's delivery backend (flowacct/sink/kafka_sink.h) over
// librdkafka's C API. Built only when librdkafka is found.
//
// One idempotent producer per sink. Deliver() produces one message and
// serves librdkafka's callbacks (rd_kafka_poll) on the delivery thread
// until that message's delivery report arrives; the report decides
// delivered / retry later / rejected.

#include "flowacct/sink/kafka_sink.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "libflowacct/sink/broker_common.h"
#include "libflowacct/sink/delivery_queue.h"

#include <librdkafka/rdkafka.h>
// librdkafka's RD_KAFKA_V_* macros type-check their arguments with GNU
// statement expressions, which -Wpedantic reports under clang.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
#include <time.h>

namespace flowacct {
namespace {

// Slack on top of message.timeout.ms before Deliver() gives up waiting for
// a delivery report (librdkafka always reports within message.timeout.ms,
// plus its internal timer granularity).
constexpr int64_t kReportSlackMs = 5000;

int64_t NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// "host" → "host:port", "::1" → "[::1]:port"; entries with a port (and
// an optional "proto://" prefix) are kept.
std::string BootstrapServers(const std::string& brokers, uint16_t port) {
  std::string out;
  size_t start = 0;
  while (start <= brokers.size()) {
    size_t comma = brokers.find(',', start);
    if (comma == std::string::npos) comma = brokers.size();
    std::string entry = brokers.substr(start, comma - start);
    start = comma + 1;
    if (entry.empty()) continue;
    std::string hostport = entry;
    size_t scheme = hostport.find("://");
    if (scheme != std::string::npos) hostport = hostport.substr(scheme + 3);
    bool has_port = false;
    if (!hostport.empty() && hostport[0] == '[') {
      has_port = hostport.find("]:") != std::string::npos;
    } else {
      const size_t colons = std::count(hostport.begin(), hostport.end(), ':');
      if (colons == 1) {
        has_port = true;
      } else if (colons > 1) {  // a bare IPv6 address
        entry = entry.substr(0, entry.size() - hostport.size()) + "[" +
                hostport + "]";
      }
    }
    if (!has_port) entry += ":" + std::to_string(port);
    if (!out.empty()) out.push_back(',');
    out += entry;
  }
  return out;
}

// Delivery report errors that retrying cannot fix: the message is
// rejected (counted) instead of retried.
bool IsPermanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

// Thread-safety: Deliver/Shutdown only from the delivery queue's thread;
// librdkafka calls OnReport from rd_kafka_poll on that same thread.
class KafkaBackend : public internal::DeliveryBackend {
 public:
  explicit KafkaBackend(const KafkaSinkOptions& options)
      : options_(options), what_("kafka[" + options.name + "]") {}

  ~KafkaBackend() override { Destroy(); }

  // Creates the producer. kInvalidArgument for a refused property.
  Status Start() { return CreateProducer(); }

  // Produces every message of the envelope (a batch: broker_common.h), then
  // serves delivery reports until each has one. Any retriable failure makes
  // the whole envelope kUnavailable (retried: at least once, duplicates
  // carry the same flowacct-id header); a permanent one rejects it.
  Status Deliver(const internal::Envelope& envelope) override {
    if (rk_ == nullptr) {
      if (Status s = CreateProducer(); !s.ok()) {
        return UnavailableError(s.message());
      }
    }
    std::vector<std::string_view> messages;
    if (!internal::SplitFramedMessages(envelope.payload, &messages)) {
      return InvalidArgumentError(what_ + ": malformed envelope");
    }
    const int32_t partition =
        options_.partition < 0 ? RD_KAFKA_PARTITION_UA : options_.partition;
    const int64_t deadline =
        NowMs() + options_.message_timeout_ms + kReportSlackMs;
    std::vector<uint64_t> ids;
    ids.reserve(messages.size());
    auto forget = [&] {
      for (uint64_t id : ids) reports_.erase(id);
    };
    for (size_t i = 0; i < messages.size(); ++i) {
      const uint64_t id = next_id_++;
      reports_[id] = Report{};
      ids.push_back(id);
      const std::string header = options_.name + "/" +
                                 std::to_string(envelope.seq) + "/" +
                                 std::to_string(i);
      rd_kafka_resp_err_t err;
      for (;;) {
        err = rd_kafka_producev(
            rk_, RD_KAFKA_V_TOPIC(envelope.destination.c_str()),
            RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(const_cast<char*>(messages[i].data()),
                             messages[i].size()),
            RD_KAFKA_V_KEY(
                envelope.key.empty() ? nullptr : envelope.key.data(),
                envelope.key.size()),
            RD_KAFKA_V_HEADER("flowacct-id", header.data(),
                              static_cast<ssize_t>(header.size())),
            RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(id)), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || NowMs() >= deadline) break;
        rd_kafka_poll(rk_, 100);  // make room: serve delivery reports
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        reports_.erase(id);
        ids.pop_back();
        // What was produced stays with librdkafka; its late reports are
        // ignored, and the retry may duplicate it (same flowacct-id).
        forget();
        return Failure(err, "produce to '" + envelope.destination + "'");
      }
    }
    auto all_done = [&] {
      for (uint64_t id : ids) {
        if (!reports_[id].done) return false;
      }
      return true;
    };
    while (!all_done() && NowMs() < deadline) rd_kafka_poll(rk_, 100);
    rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    bool missing = false;
    for (uint64_t id : ids) {
      const Report& r = reports_[id];
      if (!r.done) missing = true;
      if (r.done && r.err != RD_KAFKA_RESP_ERR_NO_ERROR &&
          (first_error == RD_KAFKA_RESP_ERR_NO_ERROR || !IsPermanent(r.err))) {
        first_error = r.err;  // a retriable error wins: retry the envelope
      }
    }
    forget();
    if (first_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Failure(first_error,
                     "delivery to '" + envelope.destination + "'");
    }
    if (missing) {
      return UnavailableError(
          what_ + ": no delivery report for a message to '" +
          envelope.destination + "' within " +
          std::to_string(options_.message_timeout_ms + kReportSlackMs) + " ms");
    }
    return Status::Ok();
  }

  void Shutdown() override {
    if (rk_ != nullptr) rd_kafka_flush(rk_, 1000);
  }

 private:
  struct Report {
    bool done = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  };

  static void OnReport(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<KafkaBackend*>(opaque);
    auto it = self->reports_.find(reinterpret_cast<uint64_t>(m->_private));
    if (it == self->reports_.end()) return;  // abandoned after a timeout
    it->second.done = true;
    it->second.err = m->err;
  }

  Status Failure(rd_kafka_resp_err_t err, const std::string& what) {
    std::string text = what_ + ": " + what + ": " + rd_kafka_err2str(err);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char reason[512];
      rd_kafka_resp_err_t fatal =
          rd_kafka_fatal_error(rk_, reason, sizeof(reason));
      text += std::string(" (") + rd_kafka_err2str(fatal) + ": " + reason +
              "); the producer is recreated";
      Destroy();
      return UnavailableError(text);
    }
    if (IsPermanent(err)) return InvalidArgumentError(text);
    return UnavailableError(text);
  }

  Status CreateProducer() {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
    auto set = [&](const std::string& key, const std::string& value, bool topic,
                   const std::string& source) -> Status {
      rd_kafka_conf_res_t r =
          topic ? rd_kafka_topic_conf_set(tconf, key.c_str(), value.c_str(),
                                          errstr, sizeof(errstr))
                : rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr,
                                    sizeof(errstr));
      if (r != RD_KAFKA_CONF_OK) {
        return InvalidArgumentError(source + ": librdkafka property '" + key +
                                    "' = '" + value + "': " + errstr);
      }
      return Status::Ok();
    };
    Status s =
        set("bootstrap.servers",
            BootstrapServers(options_.brokers, options_.port), false, what_);
    if (s.ok()) s = set("enable.idempotence", "true", false, what_);
    if (s.ok()) {
      s = set("message.timeout.ms", std::to_string(options_.message_timeout_ms),
              false, what_);
    }
    if (s.ok())
      s = set("client.id", "flowacctd-" + options_.name, false, what_);
    for (const KafkaConfigSetting& k : options_.settings) {
      if (!s.ok()) break;
      s = set(k.key, k.value, k.topic, k.source);
      if (s.ok() && !k.topic && k.key == "message.timeout.ms") {
        options_.message_timeout_ms = std::stoll(k.value);
      }
    }
    if (!s.ok()) {
      rd_kafka_topic_conf_destroy(tconf);
      rd_kafka_conf_destroy(conf);
      return s;
    }
    bool topic_settings = false;
    for (const KafkaConfigSetting& k : options_.settings) {
      topic_settings = topic_settings || k.topic;
    }
    if (topic_settings) {
      rd_kafka_conf_set_default_topic_conf(conf, tconf);  // owns tconf now
    } else {
      rd_kafka_topic_conf_destroy(tconf);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaBackend::OnReport);
    rd_kafka_conf_set_opaque(conf, this);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgumentError(what_ + ": creating the producer: " + errstr);
    }
    return Status::Ok();
  }

  void Destroy() {
    if (rk_ == nullptr) return;
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_, 0);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    reports_.clear();
  }

  KafkaSinkOptions options_;
  std::string what_;
  rd_kafka_t* rk_ = nullptr;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Report> reports_;
};

}  // namespace

Result<std::unique_ptr<Sink>> CreateKafkaSink(
    const KafkaSinkOptions& options, const PrimitiveRegistry* registry) {
  const std::string what = "kafka[" + options.name + "]";
  if (registry == nullptr) return InvalidArgumentError("no primitive registry");
  if (options.name.empty()) return InvalidArgumentError("empty plugin name");
  if (options.brokers.empty()) {
    return InvalidArgumentError(what + ": no broker");
  }
  if (options.message_timeout_ms <= 0) {
    return InvalidArgumentError(what + ": message_timeout_ms must be positive");
  }
  for (const KafkaConfigSetting& k : options.settings) {
    if (!k.topic && k.key == "message.timeout.ms") {
      char* end = nullptr;
      long long v = std::strtoll(k.value.c_str(), &end, 10);
      if (end == k.value.c_str() || *end != '\0' || v <= 0) {
        return InvalidArgumentError(k.source +
                                    ": message.timeout.ms must be a positive "
                                    "integer");
      }
    }
  }
  auto backend = std::make_unique<KafkaBackend>(options);
  if (Status s = backend->Start(); !s.ok()) return s;
  auto builder = std::make_unique<internal::MessageBuilder>(
      options.message, options.name, options.topic, "kafka_topic",
      options.partition_key, registry);
  return internal::CreateBrokerSink("kafka", options.name, std::move(builder),
                                    options.delivery, std::move(backend));
}

}  // namespace flowacct
