// Options and message building shared by the amqp and kafka sinks (no
// server needed).

#include "libflowacct/sink/broker_common.h"

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/sink/amqp_sink.h"
#include "flowacct/sink/kafka_sink.h"

#include "tests/unit/sink/test_snapshot.h"
#include <stdlib.h>
#include <unistd.h>

namespace flowacct {
namespace {

using internal::Envelope;
using internal::MessageBuilder;
using internal::SplitFramedMessages;
using testing::TestSnapshot;

PluginConfig Plugin(const std::string& type,
                    std::vector<std::pair<std::string, std::string>> keys) {
  PluginConfig p;
  p.type = type;
  p.name = "t";
  int line = 1;
  for (auto& [k, v] : keys) {
    p.raw.push_back({k, v, ConfigSource{"t.conf", line++}});
  }
  return p;
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos;
       p = s.find(what, p + 1)) {
    ++n;
  }
  return n;
}

TEST_CASE("AmqpSinkOptions::FromConfig defaults and keys", "[broker][amqp]") {
  DaemonConfig daemon;
  Result<AmqpSinkOptions> d =
      AmqpSinkOptions::FromConfig(Plugin("amqp", {}), daemon);
  REQUIRE(d.ok());
  CHECK(d->host == "127.0.0.1");
  CHECK(d->port == 5672);
  CHECK(d->vhost == "/");
  CHECK(d->user == "guest");
  CHECK(d->password == "guest");
  CHECK(d->exchange == "pmacct");
  CHECK(d->exchange_type == "direct");
  CHECK(d->routing_key == "acct");
  CHECK_FALSE(d->persistent);
  CHECK(d->frame_max == 131072);
  CHECK(d->message.encoding == BrokerEncoding::kJson);
  CHECK(d->delivery.spool_dir == "/var/spool/flowacct/amqp-t");

  daemon.timestamps_utc = true;
  PluginConfig p = Plugin("amqp", {{"amqp_host", "localhost"},
                                   {"amqp_port", "5673"},
                                   {"amqp_vhost", "/acct"},
                                   {"amqp_user", "u"},
                                   {"amqp_passwd", "p"},
                                   {"amqp_exchange", "x"},
                                   {"amqp_exchange_type", "Topic"},
                                   {"amqp_routing_key", "acct.$peer_src_ip"},
                                   {"amqp_persistent_msg", "true"},
                                   {"amqp_frame_max", "65536"},
                                   {"amqp_heartbeat_interval", "30"},
                                   {"amqp_output", "protobuf"},
                                   {"amqp_multi_values", "50"},
                                   {"amqp_refresh_time", "60"},
                                   {"amqp_history", "5m"},
                                   {"post_tag", "7"},
                                   {"flowacct_spool_dir", "none"}});
  p.num_protos = true;
  Result<AmqpSinkOptions> o = AmqpSinkOptions::FromConfig(p, daemon);
  REQUIRE(o.ok());
  CHECK(o->host == "127.0.0.1");
  CHECK(o->port == 5673);
  CHECK(o->vhost == "/acct");
  CHECK(o->user == "u");
  CHECK(o->password == "p");
  CHECK(o->exchange == "x");
  CHECK(o->exchange_type == "topic");
  CHECK(o->routing_key == "acct.$peer_src_ip");
  CHECK(o->persistent);
  CHECK(o->frame_max == 65536);
  CHECK(o->heartbeat_interval == 30);
  CHECK(o->message.encoding == BrokerEncoding::kProtobuf);
  CHECK(o->message.multi_values == 50);
  CHECK(o->message.num_protos);
  CHECK(o->message.timestamps_utc);
  CHECK(o->message.post_tag == 7);
  CHECK(o->delivery.spool_dir.empty());
}

TEST_CASE("AmqpSinkOptions::FromConfig errors name file:line",
          "[broker][amqp]") {
  DaemonConfig daemon;
  auto error = [&](std::vector<std::pair<std::string, std::string>> keys) {
    Result<AmqpSinkOptions> o =
        AmqpSinkOptions::FromConfig(Plugin("amqp", std::move(keys)), daemon);
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().code() == StatusCode::kInvalidArgument);
    return o.status().message();
  };
  CHECK(error({{"amqp_routing_key_rr", "2"}}) ==
        "t.conf:1: key 'amqp_routing_key_rr' is not supported by flowacctd");
  CHECK(error({{"amqp_host", "h"}, {"amqp_port", "0"}}) ==
        "t.conf:2: amqp_port: expected a port, got '0'");
  CHECK(error({{"amqp_output", "avro"}}).find("not supported by flowacctd") !=
        std::string::npos);
  CHECK(error({{"amqp_exchange_type", "headers"}}).starts_with("t.conf:1:"));
  CHECK(error({{"amqp_persistent_msg", "maybe"}}).starts_with("t.conf:1:"));
  CHECK(error({{"amqp_multi_values", "-1"}}).starts_with("t.conf:1:"));
}

TEST_CASE("KafkaSinkOptions::FromConfig keys and config file",
          "[broker][kafka]") {
  char tmpl[] = "/tmp/flowacct-kafka-conf-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  const std::string path = tmpl;
  {
    std::ofstream f(path);
    f << "! librdkafka settings\n"
         "global, queue.buffering.max.ms, 50\n"
         "\n"
         "topic, request.required.acks, all\n"
         "global, sasl.jaas.config, a,b,c\n";
  }
  DaemonConfig daemon;
  Result<KafkaSinkOptions> d =
      KafkaSinkOptions::FromConfig(Plugin("kafka", {}), daemon);
  REQUIRE(d.ok());
  CHECK(d->brokers == "127.0.0.1");
  CHECK(d->port == 9092);
  CHECK(d->topic == "pmacct.acct");
  CHECK(d->partition == -1);
  CHECK(d->partition_key.empty());

  Result<KafkaSinkOptions> o = KafkaSinkOptions::FromConfig(
      Plugin("kafka", {{"kafka_broker_host", "localhost, k2:9093"},
                       {"kafka_broker_port", "9094"},
                       {"kafka_topic", "acct.$tag"},
                       {"kafka_partition_key", "$peer_src_ip"},
                       {"kafka_partition_dynamic", "true"},
                       {"kafka_config_file", path},
                       {"kafka_multi_values", "10"},
                       {"kafka_cache_entries", "1000"}}),
      daemon);
  REQUIRE(o.ok());
  CHECK(o->brokers == "127.0.0.1,k2:9093");
  CHECK(o->port == 9094);
  CHECK(o->topic == "acct.$tag");
  CHECK(o->partition_key == "$peer_src_ip");
  CHECK(o->message.multi_values == 10);
  REQUIRE(o->settings.size() == 3);
  CHECK_FALSE(o->settings[0].topic);
  CHECK(o->settings[0].key == "queue.buffering.max.ms");
  CHECK(o->settings[0].value == "50");
  CHECK(o->settings[0].source == path + ":2");
  CHECK(o->settings[1].topic);
  CHECK(o->settings[1].key == "request.required.acks");
  CHECK(o->settings[2].value == "a,b,c");

  {
    std::ofstream f(path);
    f << "global, linger.ms, 5\nbroker, x, y\n";
  }
  Result<KafkaSinkOptions> bad = KafkaSinkOptions::FromConfig(
      Plugin("kafka", {{"kafka_config_file", path}}), daemon);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().starts_with(path + ":2: scope must be"));
  {
    std::ofstream f(path);
    f << "global linger.ms 5\n";
  }
  bad = KafkaSinkOptions::FromConfig(
      Plugin("kafka", {{"kafka_config_file", path}}), daemon);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().starts_with(path + ":1: expected"));
  unlink(path.c_str());

  bad = KafkaSinkOptions::FromConfig(Plugin("kafka", {{"kafka_topic_rr", "3"}}),
                                     daemon);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "t.conf:1: key 'kafka_topic_rr' is not supported by flowacctd");
  bad = KafkaSinkOptions::FromConfig(
      Plugin("kafka", {{"kafka_partition_dynamic", "true"}}), daemon);
  CHECK_FALSE(bad.ok());
  bad = KafkaSinkOptions::FromConfig(
      Plugin("kafka", {{"kafka_config_file", "/nonexistent/x.conf"}}), daemon);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().starts_with("t.conf:1: kafka_config_file"));
}

TEST_CASE("PartitionKeyTemplate renders row values", "[broker][kafka]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TestSnapshot snap(*registry, {"src_host", "dst_host", "proto"}, false);
  FlowRecord* r = snap.Add("10.0.0.1", "192.0.2.9", 6, 1, 100);
  r->exporter = IpAddress::Parse("198.51.100.7").value();
  r->src_port = 1234;
  r->dst_port = 443;
  r->in_iface = 12;
  r->tag = 5;
  internal::PartitionKeyTemplate t(
      "$peer_src_ip|$src_host|$dst_host|$src_port|$dst_port|$proto|"
      "$in_iface|$tag|$tag2|$post_tag|$post_tag2|$x",
      3, 4);
  CHECK(t.Render(r) ==
        "198.51.100.7|10.0.0.1|192.0.2.9|1234|443|6|12|5|0|3|4|$x");
  CHECK(t.Render(nullptr) == "|||0|0|0|0|0|0|3|4|$x");
}

TEST_CASE("MessageBuilder: pmacct JSON rows, destinations, multi_values",
          "[broker]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TestSnapshot snap(*registry, {"src_host", "dst_host", "proto"}, false);
  const char* exporters[] = {"192.0.2.1", "192.0.2.2"};
  for (int i = 0; i < 5; ++i) {
    std::string src = "10.0.0." + std::to_string(i + 1);
    FlowRecord* r = snap.Add(src.c_str(), "10.9.9.9", 17, i + 1, 100 * (i + 1));
    r->exporter = IpAddress::Parse(exporters[i % 2]).value();
  }
  const std::string writer =
      "\"writer_id\": \"w/" + std::to_string(getpid()) + "\"";

  // Messages of one envelope (a batch of messages with one destination
  // and partition key).
  auto messages = [](const Envelope& e) {
    std::vector<std::string_view> m;
    REQUIRE(SplitFramedMessages(e.payload, &m));
    return std::vector<std::string>(m.begin(), m.end());
  };

  SECTION("one row per message, routing key per exporter") {
    BrokerMessageOptions o;
    MessageBuilder b(o, "w", "acct.$peer_src_ip", "amqp_routing_key", "",
                     registry.get());
    REQUIRE(b.Check().ok());
    std::vector<Envelope> out;
    REQUIRE(b.Build(snap, &out).ok());
    // One envelope per destination, in order of first appearance; one
    // message per row.
    REQUIRE(out.size() == 2);
    CHECK(out[0].destination == "acct.192_0_2_1");
    CHECK(out[1].destination == "acct.192_0_2_2");
    CHECK(out[0].rows == 3);
    CHECK(out[1].rows == 2);
    const std::vector<std::string> m = messages(out[0]);
    REQUIRE(m.size() == 3);
    CHECK(m[0] ==
          "{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", "
          "\"ip_dst\": \"10.9.9.9\", \"ip_proto\": \"udp\", "
          "\"packets\": 1, \"bytes\": 100, " +
              writer + "}");
    for (const Envelope& e : out) {
      CHECK(e.key.empty());
      for (const std::string& one : messages(e)) {
        CHECK(one.find('\n') == std::string::npos);
      }
    }
  }

  SECTION("multi_values, partition key, markers") {
    BrokerMessageOptions o;
    o.multi_values = 2;
    o.markers = true;
    o.num_protos = true;
    MessageBuilder b(o, "w", "flows", "kafka_topic", "$peer_src_ip",
                     registry.get());
    std::vector<Envelope> out;
    REQUIRE(b.Build(snap, &out).ok());
    // purge_init, {[1,3] [5]} keyed .1, {[2,4]} keyed .2, purge_close
    REQUIRE(out.size() == 4);
    CHECK(messages(out[0]) ==
          std::vector<std::string>{"{\"event_type\": \"purge_init\", " +
                                   writer + "}"});
    CHECK(out[0].rows == 0);
    CHECK(out[1].key == "192.0.2.1");
    CHECK(out[1].rows == 3);
    const std::vector<std::string> m = messages(out[1]);
    REQUIRE(m.size() == 2);
    CHECK(Count(m[0], "\n") == 1);
    CHECK(Count(m[0], "\"ip_proto\": \"17\"") == 2);
    CHECK(Count(m[1], "\n") == 0);
    CHECK(out[2].key == "192.0.2.2");
    CHECK(out[2].rows == 2);
    CHECK(messages(out[2]).size() == 1);
    CHECK(messages(out[3]) ==
          std::vector<std::string>{"{\"event_type\": \"purge_close\", " +
                                   writer +
                                   ", \"purged_entries\": 5, "
                                   "\"total_entries\": 5, \"duration\": 0}"});
    for (const Envelope& e : out) CHECK(e.destination == "flows");
  }

  SECTION("protobuf: up to 1000 rows per message by default") {
    BrokerMessageOptions o;
    o.encoding = BrokerEncoding::kProtobuf;
    MessageBuilder b(o, "w", "acct.$peer_src_ip", "amqp_routing_key", "",
                     registry.get());
    std::vector<Envelope> out;
    REQUIRE(b.Build(snap, &out).ok());
    REQUIRE(out.size() == 2);
    CHECK(out[0].rows == 3);
    CHECK(out[1].rows == 2);
    CHECK(messages(out[0]).size() == 1);
    CHECK(out[0].payload.find("10.0.0.") == std::string::npos);  // binary

    o.markers = true;
    MessageBuilder bad(o, "w", "x", "amqp_routing_key", "", registry.get());
    CHECK_FALSE(bad.Check().ok());
  }
}

TEST_CASE("MessageBuilder: a large flush is cut into envelopes of at most "
          "1000 messages", "[broker]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  TestSnapshot snap(*registry, {"src_host"}, false);
  for (int i = 0; i < 2500; ++i) {
    std::string src = "10.1." + std::to_string(i / 256) + "." +
                      std::to_string(i % 256);
    snap.Add(src.c_str(), "10.9.9.9", 6, 1, 10);
  }
  BrokerMessageOptions o;
  MessageBuilder b(o, "w", "acct", "amqp_routing_key", "", registry.get());
  std::vector<Envelope> out;
  REQUIRE(b.Build(snap, &out).ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0].rows == 1000);
  CHECK(out[2].rows == 500);
  std::vector<std::string_view> m;
  REQUIRE(SplitFramedMessages(out[2].payload, &m));
  CHECK(m.size() == 500);
  CHECK_FALSE(SplitFramedMessages("\x05" "abc", &m));  // truncated
}

TEST_CASE("Broker sinks without a server: bad options", "[broker]") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  AmqpSinkOptions a;
  a.exchange_type = "headers";
  Result<std::unique_ptr<Sink>> s = CreateAmqpSink(a, registry.get());
  REQUIRE_FALSE(s.ok());
  if (s.status().code() != StatusCode::kUnimplemented) {  // librabbitmq
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  KafkaSinkOptions k;
  k.delivery.spool_dir.clear();
  k.settings.push_back({false, "no.such.property", "1", "k.conf:3"});
  s = CreateKafkaSink(k, registry.get());
  REQUIRE_FALSE(s.ok());
  if (s.status().code() != StatusCode::kUnimplemented) {
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK(s.status().message().starts_with("k.conf:3: librdkafka property"));
  }
}

}  // namespace
}  // namespace flowacct
