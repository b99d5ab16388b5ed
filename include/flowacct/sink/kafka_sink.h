// File: flowacct/sink/kafka_sink.h
//
// The Kafka sink (pmacct's `kafka` plugin): produces every aggregate of a
// snapshot to a Kafka topic, in pmacct's JSON or as flowacct.v1 protobuf
// (flowacct/sink/broker_message.h), so consumers written for pmacct's
// kafka plugin keep working (pmacct.md §1(b), §6.1). The client is
// librdkafka.
//
//   Result<KafkaSinkOptions> o = KafkaSinkOptions::FromConfig(plugin, daemon);
//   Result<std::unique_ptr<Sink>> sink = CreateKafkaSink(*o, registry);
//   (*sink)->Write(*snapshot);   // queued; produced by the sink's thread
//
// Where messages go
// - Topic `topic`, a template: strftime conversions rendered with the row's
//   time bin (or the flush time), then $peer_src_ip, $tag, $tag2, $post_tag,
//   $post_tag2 replaced by the row's value reduced to [A-Za-z0-9_-], as for
//   pmacct's dynamic names.
// - Partition `partition`, or with -1 librdkafka's partitioner (by default
//   consistent_random: messages with the same key go to the same
//   partition, messages without one are spread at random).
// - Message key `partition_key` (pmacct: kafka_partition_key), a template
//   of the variables $peer_src_ip, $tag, $tag2, $post_tag, $post_tag2,
//   $src_host, $dst_host, $src_port, $dst_port, $proto (the protocol
//   number) and $in_iface, replaced by the row's values as text ("10.0.0.1",
//   not reduced). So `$peer_src_ip` keeps each exporter's aggregates on one
//   partition, in order. Empty: no key. Rows with different rendered topics
//   or keys go into different messages.
// - Each message carries a header "flowacct-id" =
//   "<name>/<sequence>/<index>" (the delivery queue's envelope number and
//   the message's place in that batch of up to 1000 messages, all produced
//   before their delivery reports are awaited), so a consumer can drop the
//   rare duplicate described below.
//
// Delivery. Write() never talks to the brokers: messages go into the sink's
// delivery queue (flowacct/sink/delivery.h: memory, then an on-disk spool
// while the cluster is unreachable; counters in SinkStats). One producer is
// created with the sink and lives as long as it. The producer is
// idempotent (enable.idempotence=true unless the config file says
// otherwise): librdkafka retries by itself without duplicating or
// reordering. A message counts as delivered only when its delivery report
// says so; the delivery thread waits for it up to message_timeout_ms (the
// producer's message.timeout.ms) plus 5 s. A failed report is retried later
// (kUnavailable: broker down, timeouts, leader changes — every transport
// error) or rejected for good (kInvalidArgument: the message is larger than
// the broker accepts, the topic does not exist and is not created, the
// topic name is invalid, authorization denied). A message that timed out
// while a broker may already have written it can be delivered twice; the
// flowacct-id header tells.
//
// Testing note: Debian packages no Kafka broker; flowacct's tests run
// against librdkafka's built-in mock cluster (docs/sinks-brokers.md).
//
// Thread-safety: as Sink.

#ifndef FLOWACCT_SINK_KAFKA_SINK_H_
#define FLOWACCT_SINK_KAFKA_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/config/daemon_config.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/broker_message.h"
#include "flowacct/sink/delivery.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

namespace flowacct {

// One line of kafka_config_file: a librdkafka configuration property
// (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md).
struct KafkaConfigSetting {
  bool topic = false;  // "topic" scope (topic conf); false: "global"
  std::string key;
  std::string value;
  std::string source;  // "file:line", for errors
};

struct KafkaSinkOptions {
  std::string name = "default";  // plugin name: writer_id, flowacct-id

  // Cluster (pmacct's keys and defaults). `brokers` is kafka_broker_host, a
  // comma-separated list; an entry without ":port" gets `port`
  // (kafka_broker_port). Becomes librdkafka's bootstrap.servers.
  std::string brokers = "127.0.0.1";
  uint16_t port = 9092;

  std::string topic = "pmacct.acct";  // kafka_topic (template)
  int32_t partition = -1;             // kafka_partition; -1: partitioner
  std::string partition_key;          // kafka_partition_key (template)

  // Encoding: kafka_output, kafka_multi_values, kafka_markers,
  // kafka_num_protos and the daemon-wide timestamps_* keys.
  BrokerMessageOptions message;

  // librdkafka's message.timeout.ms unless the config file sets it: how
  // long librdkafka keeps retrying one message before reporting it failed
  // (then the delivery queue retries or spools it). flowacct default 30 s.
  int64_t message_timeout_ms = 30000;

  // kafka_config_file, parsed (the file's path in config_file). Applied
  // after flowacct's own settings (bootstrap.servers,
  // enable.idempotence=true, message.timeout.ms, client.id), so the file
  // may override them.
  std::string config_file;
  std::vector<KafkaConfigSetting> settings;

  DeliveryOptions delivery;

  // From a plugin's config (kafka_* and flowacct_* keys) and the daemon-wide
  // keys; reads kafka_config_file: lines `global, key, value` or
  // `topic, key, value` (pmacct's format; blank lines and lines starting
  // with '!' or '#' are skipped; the value is the rest of the line). A bad
  // value, a malformed config file line (naming file:line), an unreadable
  // file, or a kafka_* key flowacct does not implement (kafka_topic_rr,
  // kafka_avro_schema_registry...) is kInvalidArgument naming file:line.
  // Keys every plugin shares (kafka_refresh_time, kafka_history, ...) are
  // parsed into PluginConfig by the config parser and accepted here.
  static Result<KafkaSinkOptions> FromConfig(const PluginConfig& plugin,
                                             const DaemonConfig& daemon);
};

// Creates a Kafka sink: creates its producer (librdkafka connects in the
// background) and starts its delivery thread. `registry` is borrowed and
// must outlive the sink. kInvalidArgument for bad options or a property
// librdkafka refuses (naming the config file line), kUnimplemented when
// flowacct was built without librdkafka, kIoError when the spool directory
// cannot be used. A cluster that is down delays messages, never startup.
Result<std::unique_ptr<Sink>> CreateKafkaSink(
    const KafkaSinkOptions& options, const PrimitiveRegistry* registry);

}  // namespace flowacct

#endif  // FLOWACCT_SINK_KAFKA_SINK_H_
