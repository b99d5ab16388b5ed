// File: flowacct/sink/amqp_sink.h
//
// The AMQP sink (pmacct's `amqp` plugin): publishes every aggregate of a
// snapshot to a RabbitMQ exchange (AMQP 0-9-1), in pmacct's JSON or as
// flowacct.v1 protobuf (flowacct/sink/broker_message.h), so consumers
// written for pmacct's amqp plugin keep working (pmacct.md §1(b), §6.1).
//
//   Result<AmqpSinkOptions> o = AmqpSinkOptions::FromConfig(plugin, daemon);
//   Result<std::unique_ptr<Sink>> sink = CreateAmqpSink(*o, registry);
//   (*sink)->Write(*snapshot);   // queued; published by the sink's thread
//
// Where messages go
// - To `exchange` with routing key `routing_key`, a template: strftime
//   conversions rendered with the row's time bin (or the flush time), then
//   $peer_src_ip, $tag, $tag2, $post_tag, $post_tag2 replaced by the row's
//   value reduced to [A-Za-z0-9_-] ("10.0.0.1" gives "10_0_0_1", as for
//   pmacct's dynamic names). Rows with different rendered keys go into
//   different messages.
// - The exchange is declared (type `exchange_type`, durable, not
//   auto-deleted) on every connection, as pmacct does; an existing exchange
//   of another type or durability makes the connection fail (the server
//   closes the channel: PRECONDITION_FAILED). flowacct, like pmacct, never
//   declares queues: bind your own (durable, if messages must survive a
//   server restart).
// - Message properties: content_type (application/json or
//   application/x-protobuf), delivery_mode 2 with persistent (pmacct:
//   amqp_persistent_msg), message_id "<name>/<sequence>/<index>"
//   (flowacct: the delivery queue's envelope number — never reused for a
//   spool directory — and the message's place in that batch of up to 1000
//   messages, so a consumer can drop the rare redelivered duplicate),
//   app_id "flowacctd". A batch is published whole, then its confirms are
//   awaited once.
//
// Delivery: at least once. Write() never talks to the server: messages go
// into the sink's delivery queue (flowacct/sink/delivery.h: memory, then
// an on-disk spool while the server is unreachable; counters in SinkStats).
// The delivery thread publishes each message on a channel in publisher
// confirm mode (RabbitMQ's confirm.select extension) and counts it as
// delivered only when the server has acknowledged it (basic.ack; with
// persistent messages and durable queues RabbitMQ acknowledges after
// writing to disk). A basic.nack, a closed channel or connection, or no
// acknowledgement within `timeout_ms` means the connection is dropped and
// the message is retried later on a new connection — so a message whose
// acknowledgement was lost is published twice (same message_id). A message
// the server refuses for good (PRECONDITION_FAILED on publish, e.g. larger
// than its max_message_size) is counted as rejected.
//
// Thread-safety: as Sink.

#ifndef FLOWACCT_SINK_AMQP_SINK_H_
#define FLOWACCT_SINK_AMQP_SINK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "flowacct/config/daemon_config.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/broker_message.h"
#include "flowacct/sink/delivery.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

namespace flowacct {

struct AmqpSinkOptions {
  std::string name = "default";  // plugin name: writer_id, message_id

  // Connection (pmacct's keys and defaults).
  std::string host = "127.0.0.1";  // amqp_host ("localhost" = 127.0.0.1)
  uint16_t port = 5672;            // amqp_port
  std::string vhost = "/";         // amqp_vhost
  std::string user = "guest";      // amqp_user
  std::string password = "guest";  // amqp_passwd
  // amqp_frame_max: largest frame (bytes) proposed to the server; messages
  // larger than that are split into several body frames, never refused.
  uint32_t frame_max = 131072;
  // amqp_heartbeat_interval: seconds; 0 disables heartbeats (pmacct's
  // default). Heartbeats are only exchanged while a message is being
  // published, so an interval shorter than the gap between snapshots makes
  // the server drop an idle connection: the next message then costs one
  // retry (counted) and a reconnection.
  uint32_t heartbeat_interval = 0;

  // Routing.
  std::string exchange = "pmacct";       // amqp_exchange
  std::string exchange_type = "direct";  // amqp_exchange_type: direct,
                                         // fanout or topic
  std::string routing_key = "acct";      // amqp_routing_key (template)
  bool persistent = false;               // amqp_persistent_msg

  // Encoding: amqp_output, amqp_multi_values, amqp_markers,
  // amqp_num_protos and the daemon-wide timestamps_* keys.
  BrokerMessageOptions message;

  // flowacct: bound on connecting, logging in and waiting for one
  // acknowledgement, in milliseconds (no pmacct key; not configurable from
  // a config file).
  int64_t timeout_ms = 10000;

  DeliveryOptions delivery;

  // From a plugin's config (amqp_* and flowacct_* keys) and the daemon-wide
  // keys. A bad value, or an amqp_* key flowacct does not implement
  // (amqp_routing_key_rr, avro schema keys...), is kInvalidArgument naming
  // file:line. Keys every plugin shares (amqp_refresh_time, amqp_history,
  // amqp_history_roundoff, amqp_cache_entries) are parsed into PluginConfig
  // by the config parser and accepted here without effect.
  static Result<AmqpSinkOptions> FromConfig(const PluginConfig& plugin,
                                            const DaemonConfig& daemon);
};

// Creates an AMQP sink and starts its delivery thread. `registry` is
// borrowed and must outlive the sink. kInvalidArgument for bad options
// (empty exchange, unknown exchange type, protobuf with markers, a routing
// key template that is empty), kUnimplemented when flowacct was built
// without librabbitmq, kIoError when the spool directory cannot be used.
// The server is not contacted here: a server that is down delays messages,
// never startup.
Result<std::unique_ptr<Sink>> CreateAmqpSink(const AmqpSinkOptions& options,
                                             const PrimitiveRegistry* registry);

}  // namespace flowacct

#endif  // FLOWACCT_SINK_AMQP_SINK_H_
