// Shared parts of the amqp and kafka sinks (broker_common.h) and their
// FromConfig functions, built whether or not librabbitmq / librdkafka are.

#include "libflowacct/sink/broker_common.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flowacct/sink/amqp_sink.h"
#include "flowacct/sink/kafka_sink.h"

#include "libflowacct/model/value_format.h"
#include "libflowacct/sink/proto_encoding.h"
#include "libflowacct/sink/sink_counters.h"

#include <unistd.h>

namespace flowacct {
namespace internal {

const char* BrokerContentType(BrokerEncoding encoding) {
  return encoding == BrokerEncoding::kProtobuf ? "application/x-protobuf"
                                               : "application/json";
}

// ---------------------------------------------------------------------------
// PartitionKeyTemplate

PartitionKeyTemplate::PartitionKeyTemplate(std::string text, uint64_t post_tag,
                                           uint64_t post_tag2)
    : text_(std::move(text)), post_tag_(post_tag), post_tag2_(post_tag2) {}

namespace {

std::string AddressText(const FlowRecord* row, const IpAddress& a) {
  if (row == nullptr || !a.is_set()) return "";
  return a.ToString();
}

}  // namespace

std::string PartitionKeyTemplate::Render(const FlowRecord* row) const {
  // Longer names first where one is a prefix of another.
  struct Variable {
    std::string_view name;
    int id;
  };
  static constexpr Variable kVariables[] = {
      {"peer_src_ip", 0}, {"post_tag2", 1}, {"post_tag", 2},  {"tag2", 3},
      {"tag", 4},         {"src_host", 5},  {"dst_host", 6},  {"src_port", 7},
      {"dst_port", 8},    {"proto", 9},     {"in_iface", 10},
  };
  std::string out;
  out.reserve(text_.size() + 16);
  for (size_t i = 0; i < text_.size();) {
    if (text_[i] != '$') {
      out.push_back(text_[i++]);
      continue;
    }
    std::string_view rest = std::string_view(text_).substr(i + 1);
    const Variable* found = nullptr;
    for (const Variable& v : kVariables) {
      if (rest.starts_with(v.name)) {
        found = &v;
        break;
      }
    }
    if (found == nullptr) {
      out.push_back(text_[i++]);  // a literal '$'
      continue;
    }
    switch (found->id) {
      case 0:
        out += AddressText(row, row != nullptr ? row->exporter : IpAddress());
        break;
      case 1:
        out += std::to_string(post_tag2_);
        break;
      case 2:
        out += std::to_string(post_tag_);
        break;
      case 3:
        out += std::to_string(row != nullptr ? row->tag2 : 0);
        break;
      case 4:
        out += std::to_string(row != nullptr ? row->tag : 0);
        break;
      case 5:
        out += AddressText(row, row != nullptr ? row->src_host : IpAddress());
        break;
      case 6:
        out += AddressText(row, row != nullptr ? row->dst_host : IpAddress());
        break;
      case 7:
        out += std::to_string(row != nullptr ? row->src_port : 0);
        break;
      case 8:
        out += std::to_string(row != nullptr ? row->dst_port : 0);
        break;
      case 9:
        out += std::to_string(row != nullptr ? row->proto : 0);
        break;
      default:
        out += std::to_string(row != nullptr ? row->in_iface : 0);
        break;
    }
    i += 1 + found->name.size();
  }
  return out;
}

// ---------------------------------------------------------------------------
// MessageBuilder

MessageBuilder::MessageBuilder(const BrokerMessageOptions& options,
                               std::string writer_name, std::string destination,
                               std::string what, std::string partition_key,
                               const PrimitiveRegistry* registry)
    : options_(options),
      destination_(std::move(destination), std::move(what),
                   options.timestamps_utc,
                   {options.post_tag, options.post_tag2,
                    options.refresh_seconds, options.history_seconds}),
      partition_key_(std::move(partition_key), options.post_tag,
                     options.post_tag2),
      registry_(registry),
      formatters_(registry, {OutputFormat::kJson, ',', options.num_protos,
                             options.timestamps_since_epoch,
                             options.timestamps_utc}) {
  AppendJsonEscaped(writer_name + "/" + std::to_string(getpid()),
                    &writer_id_json_);
}

Status MessageBuilder::Check() const {
  if (destination_.text().empty()) {
    return InvalidArgumentError("empty routing key / topic");
  }
  if (options_.markers && options_.encoding != BrokerEncoding::kJson) {
    return InvalidArgumentError("markers need the json output");
  }
  if (registry_ == nullptr) return InvalidArgumentError("no registry");
  return Status::Ok();
}

void MessageBuilder::AppendJsonRow(const Snapshot& snapshot, size_t i,
                                   std::string* out) {
  const RowFormatter& f = formatters_.current();
  AggregateRow row;
  snapshot.Get(i, &row);
  f.FormatKeys(row.record, snapshot.arena(), &keys_);
  RowCounters c{row.record.packets, row.record.bytes, row.record.flows,
                row.record.kind == RecordKind::kEvent};
  const size_t start = out->size();
  f.AppendRow(keys_, snapshot.has_time_bins(), row.stamp_inserted,
              row.stamp_updated, c, out);
  // The print row ends with "}\n"; pmacct's amqp and kafka plugins add
  // writer_id after every other key.
  while (out->size() > start && (out->back() == '\n' || out->back() == '}')) {
    out->pop_back();
  }
  out->append(", \"writer_id\": \"");
  out->append(writer_id_json_);
  out->append("\"}");
}

std::string MessageBuilder::Marker(bool close, size_t purged,
                                   size_t total) const {
  std::string m = "{\"event_type\": \"";
  m += close ? "purge_close" : "purge_init";
  m += "\", \"writer_id\": \"" + writer_id_json_ + "\"";
  if (close) {
    m += ", \"purged_entries\": " + std::to_string(purged) +
         ", \"total_entries\": " + std::to_string(total) + ", \"duration\": 0";
  }
  m += "}";
  return m;
}

void AppendFramedMessage(std::string_view message, std::string* payload) {
  uint64_t n = message.size();
  while (n >= 0x80) {
    payload->push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  payload->push_back(static_cast<char>(n));
  payload->append(message);
}

bool SplitFramedMessages(std::string_view payload,
                         std::vector<std::string_view>* messages) {
  messages->clear();
  while (!payload.empty()) {
    uint64_t n = 0;
    int shift = 0;
    for (;;) {
      if (payload.empty() || shift > 63) return false;
      const auto b = static_cast<uint8_t>(payload.front());
      payload.remove_prefix(1);
      n |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) break;
      shift += 7;
    }
    if (n > payload.size()) return false;
    messages->push_back(payload.substr(0, n));
    payload.remove_prefix(n);
  }
  return true;
}

Status MessageBuilder::Build(const Snapshot& snapshot,
                             std::vector<Envelope>* out) {
  const size_t total = snapshot.size();
  std::string flush_destination;
  if (options_.markers) {
    Result<std::string> d = destination_.Render(snapshot.flush_time(), nullptr);
    if (!d.ok()) return d.status();
    if (d->empty()) {
      return InvalidArgumentError("\"" + destination_.text() +
                                  "\" renders to an empty name");
    }
    flush_destination = *d;
    Envelope e;
    e.destination = flush_destination;
    AppendFramedMessage(Marker(false, 0, total), &e.payload);
    out->push_back(std::move(e));
  }
  if (total > 0) {
    if (options_.encoding == BrokerEncoding::kJson) {
      formatters_.For(snapshot.primitives());
    }

    // Group rows by (destination, key), in order of first appearance.
    struct Group {
      std::string destination;
      std::string key;
      std::vector<size_t> rows;
    };
    std::vector<Group> groups;
    std::unordered_map<std::string, size_t> index;
    const bool per_row =
        destination_.has_variables() ||
        (destination_.has_time() && snapshot.has_time_bins()) ||
        !partition_key_.empty();
    AggregateRow row;
    for (size_t i = 0; i < total; ++i) {
      if (!per_row && !groups.empty()) {
        groups[0].rows.push_back(i);
        continue;
      }
      snapshot.Get(i, &row);
      const int64_t t =
          snapshot.has_time_bins() ? row.stamp_inserted : snapshot.flush_time();
      Result<std::string> d = destination_.Render(t, &row.record);
      if (!d.ok()) return d.status();
      if (d->empty()) {
        return InvalidArgumentError("\"" + destination_.text() +
                                    "\" renders to an empty name");
      }
      std::string key = partition_key_.empty()
                            ? std::string()
                            : partition_key_.Render(&row.record);
      std::string id = *d;
      id.push_back('\0');
      id += key;
      auto [it, inserted] = index.try_emplace(std::move(id), groups.size());
      if (inserted) groups.push_back(Group{std::move(*d), std::move(key), {}});
      groups[it->second].rows.push_back(i);
    }

    std::string message;
    for (const Group& g : groups) {
      size_t per_message = options_.multi_values;
      if (per_message == 0) {
        per_message = options_.encoding == BrokerEncoding::kJson
                          ? 1
                          : kDefaultProtobufRows;
      }
      Envelope e;
      size_t messages = 0;
      auto flush = [&] {
        if (messages == 0) return;
        out->push_back(std::move(e));
        e = Envelope();
        messages = 0;
      };
      for (size_t first = 0; first < g.rows.size(); first += per_message) {
        const size_t n = std::min(per_message, g.rows.size() - first);
        std::span<const size_t> rows(g.rows.data() + first, n);
        message.clear();
        if (options_.encoding == BrokerEncoding::kJson) {
          for (size_t k = 0; k < n; ++k) {
            if (k > 0) message.push_back('\n');
            AppendJsonRow(snapshot, rows[k], &message);
          }
        } else {
          EncodeSnapshotProto(snapshot, *registry_, rows, &message);
        }
        if (messages > 0 &&
            (messages == kMaxMessagesPerEnvelope ||
             e.payload.size() + message.size() > kMaxEnvelopeBytes)) {
          flush();
        }
        e.destination = g.destination;
        e.key = g.key;
        e.rows += n;
        AppendFramedMessage(message, &e.payload);
        ++messages;
      }
      flush();
    }
  }
  if (options_.markers) {
    Envelope e;
    e.destination = flush_destination;
    AppendFramedMessage(Marker(true, total, total), &e.payload);
    out->push_back(std::move(e));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// BrokerSink

namespace {

// Thread-safety: as Sink (Write/Close from the sink thread; stats() from
// any thread: the counters are atomic and the queue's FillStats is
// thread-safe).
class BrokerSink : public Sink {
 public:
  BrokerSink(std::string type, std::string name,
             std::unique_ptr<MessageBuilder> builder,
             std::unique_ptr<DeliveryQueue> queue)
      : type_(std::move(type)),
        name_(std::move(name)),
        builder_(std::move(builder)),
        queue_(std::move(queue)) {}

  ~BrokerSink() override { (void)queue_->Close(); }

  const std::string& type() const override { return type_; }
  const std::string& name() const override { return name_; }

  Status Write(const Snapshot& snapshot) override {
    envelopes_.clear();
    Status s = builder_->Build(snapshot, &envelopes_);
    if (!s.ok()) {
      counters_.Failed(snapshot.size());
      return Status(s.code(), type_ + "[" + name_ + "]: " + s.message());
    }
    // Every row is now accepted: from here on the queue counts it as
    // delivered, dropped or rejected (SinkStats).
    counters_.Written(snapshot.size());
    uint64_t dropped = 0;
    for (Envelope& e : envelopes_) {
      const uint64_t rows = e.rows;
      if (!queue_->Push(std::move(e))) dropped += rows;
    }
    envelopes_.clear();
    if (dropped > 0) {
      return ResourceExhaustedError(
          type_ + "[" + name_ + "]: " + std::to_string(dropped) +
          " rows dropped: delivery queue and spool full");
    }
    return Status::Ok();
  }

  Status Close() override { return queue_->Close(); }

  SinkStats stats() const override {
    SinkStats s = counters_.Get();
    queue_->FillStats(&s);
    return s;
  }

 private:
  std::string type_;
  std::string name_;
  std::unique_ptr<MessageBuilder> builder_;
  std::unique_ptr<DeliveryQueue> queue_;
  std::vector<Envelope> envelopes_;
  SinkCounters counters_;
};

}  // namespace

Result<std::unique_ptr<Sink>> CreateBrokerSink(
    std::string type, std::string name, std::unique_ptr<MessageBuilder> builder,
    const DeliveryOptions& delivery, std::unique_ptr<DeliveryBackend> backend) {
  if (Status s = builder->Check(); !s.ok()) {
    return InvalidArgumentError(type + "[" + name + "]: " + s.message());
  }
  Result<std::unique_ptr<DeliveryQueue>> queue = DeliveryQueue::Create(
      type + "[" + name + "]", delivery, std::move(backend));
  if (!queue.ok()) return queue.status();
  return std::unique_ptr<Sink>(new BrokerSink(
      std::move(type), std::move(name), std::move(builder), std::move(*queue)));
}

// ---------------------------------------------------------------------------
// kafka_config_file

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<std::vector<KafkaConfigSetting>> ParseKafkaConfigFile(
    std::string_view content, const std::string& path) {
  std::vector<KafkaConfigSetting> out;
  int line_no = 0;
  while (!content.empty()) {
    ++line_no;
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content.remove_prefix(nl == std::string_view::npos ? content.size()
                                                       : nl + 1);
    line = Trim(line);
    if (line.empty() || line.front() == '!' || line.front() == '#') continue;
    const std::string where = path + ":" + std::to_string(line_no);
    size_t c1 = line.find(',');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string_view::npos) {
      return InvalidArgumentError(
          where + ": expected 'global|topic, key, value', got '" +
          std::string(line) + "'");
    }
    std::string_view scope = Trim(line.substr(0, c1));
    std::string_view key = Trim(line.substr(c1 + 1, c2 - c1 - 1));
    std::string_view value = Trim(line.substr(c2 + 1));
    KafkaConfigSetting s;
    if (scope == "global") {
      s.topic = false;
    } else if (scope == "topic") {
      s.topic = true;
    } else {
      return InvalidArgumentError(where +
                                  ": scope must be 'global' or "
                                  "'topic', got '" +
                                  std::string(scope) + "'");
    }
    if (key.empty() || value.empty()) {
      return InvalidArgumentError(where + ": empty key or value");
    }
    s.key = std::string(key);
    s.value = std::string(value);
    s.source = where;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace internal

// ---------------------------------------------------------------------------
// FromConfig

namespace {

using RawKey = PluginConfig::RawKey;

Status BadValue(const RawKey& raw, std::string_view expected) {
  return InvalidArgumentError(raw.source.ToString() + ": " + raw.key +
                              ": expected " + std::string(expected) +
                              ", got '" + raw.value + "'");
}

Status NotSupported(const RawKey& raw) {
  return InvalidArgumentError(raw.source.ToString() + ": key '" + raw.key +
                              "' is not supported by flowacctd");
}

bool ParseUint(std::string_view text, uint64_t min, uint64_t max,
               uint64_t* out) {
  text = internal::Trim(text);
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (v < min || v > max) return false;
  *out = v;
  return true;
}

bool ParseBool(std::string_view text, bool* out) {
  std::string v(internal::Trim(text));
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "yes" || v == "1") {
    *out = true;
  } else if (v == "false" || v == "no" || v == "0") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

// The suffixes of keys every plugin type shares, parsed into PluginConfig
// members by the config parser.
bool IsSharedSuffix(std::string_view suffix) {
  static constexpr std::string_view kShared[] = {
      "refresh_time",  "history",    "history_roundoff", "history_offset",
      "cache_entries", "num_protos", "markers",
  };
  return std::find(std::begin(kShared), std::end(kShared), suffix) !=
         std::end(kShared);
}

// Keys of both sinks: output, multi_values; post_tag / post_tag2.
// Returns true when handled (or *status set to an error).
bool ParseMessageKey(const RawKey& raw, std::string_view suffix,
                     BrokerMessageOptions* m, Status* status) {
  if (suffix == "output") {
    std::string v(internal::Trim(raw.value));
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (v == "json") {
      m->encoding = BrokerEncoding::kJson;
    } else if (v == "protobuf") {
      m->encoding = BrokerEncoding::kProtobuf;
    } else if (v == "avro" || v == "avro_json") {
      *status = InvalidArgumentError(raw.source.ToString() + ": " + raw.key +
                                     ": '" + v +
                                     "' is not supported by flowacctd "
                                     "(json, protobuf)");
    } else {
      *status = BadValue(raw, "json or protobuf");
    }
    return true;
  }
  if (suffix == "multi_values") {
    uint64_t n = 0;
    if (!ParseUint(raw.value, 0, 1000000, &n)) {
      *status = BadValue(raw, "a non-negative integer");
    } else {
      m->multi_values = static_cast<uint32_t>(n);
    }
    return true;
  }
  return false;
}

void ApplyCommon(const PluginConfig& plugin, const DaemonConfig& daemon,
                 BrokerMessageOptions* m, Status* status) {
  m->markers = plugin.markers;
  m->num_protos = plugin.num_protos;
  m->timestamps_utc = daemon.timestamps_utc;
  m->timestamps_since_epoch = daemon.timestamps_since_epoch;
  m->refresh_seconds = plugin.refresh_time;
  m->history_seconds = internal::HistoryNameSeconds(plugin.history);
  for (const RawKey& raw : plugin.raw) {
    if (raw.key != "post_tag" && raw.key != "post_tag2") continue;
    uint64_t v = 0;
    if (!ParseUint(raw.value, 0, std::numeric_limits<uint64_t>::max(), &v)) {
      *status = BadValue(raw, "a non-negative integer");
      return;
    }
    (raw.key == "post_tag" ? m->post_tag : m->post_tag2) = v;
  }
}

std::string Host(std::string_view v) {
  std::string h(internal::Trim(v));
  if (h == "localhost") return "127.0.0.1";
  return h;
}

}  // namespace

Result<AmqpSinkOptions> AmqpSinkOptions::FromConfig(
    const PluginConfig& plugin, const DaemonConfig& daemon) {
  AmqpSinkOptions o;
  o.name = plugin.name;
  Status status;
  ApplyCommon(plugin, daemon, &o.message, &status);
  if (!status.ok()) return status;
  for (const RawKey& raw : plugin.raw) {
    if (!raw.key.starts_with("amqp_")) continue;
    std::string_view suffix = std::string_view(raw.key).substr(5);
    uint64_t n = 0;
    std::string value(internal::Trim(raw.value));
    if (IsSharedSuffix(suffix)) continue;
    if (ParseMessageKey(raw, suffix, &o.message, &status)) {
      if (!status.ok()) return status;
    } else if (suffix == "host") {
      if (value.empty()) return BadValue(raw, "a host name or address");
      o.host = Host(value);
    } else if (suffix == "port") {
      if (!ParseUint(value, 1, 65535, &n)) return BadValue(raw, "a port");
      o.port = static_cast<uint16_t>(n);
    } else if (suffix == "vhost") {
      if (value.empty()) return BadValue(raw, "a virtual host");
      o.vhost = value;
    } else if (suffix == "user") {
      o.user = value;
    } else if (suffix == "passwd") {
      o.password = value;
    } else if (suffix == "exchange") {
      if (value.empty()) return BadValue(raw, "an exchange name");
      o.exchange = value;
    } else if (suffix == "exchange_type") {
      std::string t = value;
      std::transform(t.begin(), t.end(), t.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (t != "direct" && t != "fanout" && t != "topic") {
        return BadValue(raw, "direct, fanout or topic");
      }
      o.exchange_type = t;
    } else if (suffix == "routing_key") {
      if (value.empty()) return BadValue(raw, "a routing key");
      o.routing_key = value;
    } else if (suffix == "persistent_msg") {
      if (!ParseBool(value, &o.persistent)) return BadValue(raw, "true/false");
    } else if (suffix == "frame_max") {
      if (!ParseUint(value, 4096, std::numeric_limits<uint32_t>::max() >> 1,
                     &n)) {
        return BadValue(raw, "an integer >= 4096 (bytes)");
      }
      o.frame_max = static_cast<uint32_t>(n);
    } else if (suffix == "heartbeat_interval") {
      if (!ParseUint(value, 0, 65535, &n)) {
        return BadValue(raw, "0..65535 (seconds)");
      }
      o.heartbeat_interval = static_cast<uint32_t>(n);
    } else {
      return NotSupported(raw);
    }
  }
  Result<DeliveryOptions> delivery = DeliveryOptions::FromConfig(plugin);
  if (!delivery.ok()) return delivery.status();
  o.delivery = std::move(*delivery);
  return o;
}

Result<KafkaSinkOptions> KafkaSinkOptions::FromConfig(
    const PluginConfig& plugin, const DaemonConfig& daemon) {
  KafkaSinkOptions o;
  o.name = plugin.name;
  Status status;
  ApplyCommon(plugin, daemon, &o.message, &status);
  if (!status.ok()) return status;
  const RawKey* dynamic = nullptr;
  bool partition_dynamic = false;
  const RawKey* partition_raw = nullptr;
  for (const RawKey& raw : plugin.raw) {
    if (!raw.key.starts_with("kafka_")) continue;
    std::string_view suffix = std::string_view(raw.key).substr(6);
    std::string value(internal::Trim(raw.value));
    uint64_t n = 0;
    if (IsSharedSuffix(suffix)) continue;
    if (ParseMessageKey(raw, suffix, &o.message, &status)) {
      if (!status.ok()) return status;
    } else if (suffix == "broker_host") {
      if (value.empty()) return BadValue(raw, "host[,host...]");
      std::string hosts;
      std::stringstream ss(value);
      std::string h;
      while (std::getline(ss, h, ',')) {
        std::string t = Host(h);
        if (t.empty()) return BadValue(raw, "host[,host...]");
        if (!hosts.empty()) hosts.push_back(',');
        hosts += t;
      }
      o.brokers = hosts;
    } else if (suffix == "broker_port") {
      if (!ParseUint(value, 1, 65535, &n)) return BadValue(raw, "a port");
      o.port = static_cast<uint16_t>(n);
    } else if (suffix == "topic") {
      if (value.empty()) return BadValue(raw, "a topic name");
      o.topic = value;
    } else if (suffix == "partition") {
      if (value == "-1") {
        o.partition = -1;
      } else if (ParseUint(value, 0, std::numeric_limits<int32_t>::max(), &n)) {
        o.partition = static_cast<int32_t>(n);
      } else {
        return BadValue(raw, "-1 or a partition number");
      }
      partition_raw = &raw;
    } else if (suffix == "partition_key") {
      o.partition_key = value;
    } else if (suffix == "partition_dynamic") {
      if (!ParseBool(value, &partition_dynamic)) {
        return BadValue(raw, "true/false");
      }
      dynamic = &raw;
    } else if (suffix == "config_file") {
      if (value.empty()) return BadValue(raw, "a file name");
      std::ifstream in(value, std::ios::binary);
      if (!in) {
        return InvalidArgumentError(raw.source.ToString() + ": " + raw.key +
                                    ": cannot read '" + value + "'");
      }
      std::stringstream content;
      content << in.rdbuf();
      Result<std::vector<KafkaConfigSetting>> settings =
          internal::ParseKafkaConfigFile(content.str(), value);
      if (!settings.ok()) return settings.status();
      o.config_file = value;
      o.settings = std::move(*settings);
    } else {
      return NotSupported(raw);
    }
  }
  if (partition_dynamic && o.partition_key.empty()) {
    return InvalidArgumentError(dynamic->source.ToString() +
                                ": kafka_partition_dynamic needs "
                                "kafka_partition_key");
  }
  if (partition_dynamic && o.partition >= 0) {
    return InvalidArgumentError(
        partition_raw->source.ToString() +
        ": kafka_partition cannot be combined with kafka_partition_dynamic");
  }
  Result<DeliveryOptions> delivery = DeliveryOptions::FromConfig(plugin);
  if (!delivery.ok()) return delivery.status();
  o.delivery = std::move(*delivery);
  return o;
}

}  // namespace flowacct
