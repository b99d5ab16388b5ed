// File: flowacct/sink/broker_message.h
//
// How the message-broker sinks (amqp_sink.h, kafka_sink.h) turn a snapshot
// into messages: the settings both share. Options only; the sinks document
// where each message goes.
//
// Encodings (`amqp_output` / `kafka_output`):
//   json      pmacct's: one JSON object per aggregate, the print plugin's
//             JSON row (flowacct/sink/print_sink.h: "event_type": "purge",
//             the view's primitives by their pmacct JSON keys,
//             stamp_inserted/stamp_updated when the view has time bins, then
//             flows, packets, bytes) followed by "writer_id":
//             "<plugin name>/<pid>" as pmacct's amqp and kafka plugins add
//             it. With multi_values = N > 0, up to N objects per message,
//             separated by '\n' (pmacct: *_multi_values). Content type
//             application/json.
//   protobuf  flowacct extension: one serialised flowacct.v1.Snapshot
//             (libflowacct/sink/proto/flowacct.proto, docs/protobuf.md)
//             per message, holding up to multi_values aggregates (0: 1000)
//             that go to the same routing key / topic and partition key.
//             No length prefix: a message is one protobuf message. Content
//             type application/x-protobuf.
//   pmacct's avro and avro_json are not supported (kInvalidArgument at
//   configuration time).
//
// Markers (amqp_markers / kafka_markers, json only): before the rows of a
// snapshot a message {"event_type": "purge_init", "writer_id": ...}, after
// them {"event_type": "purge_close", "writer_id": ..., "purged_entries": N,
// "total_entries": N, "duration": 0}, both to the routing key / topic
// rendered without a row (variables render as "0").
//
// Thread-safety: a value type.

#ifndef FLOWACCT_SINK_BROKER_MESSAGE_H_
#define FLOWACCT_SINK_BROKER_MESSAGE_H_

#include <cstdint>

namespace flowacct {

enum class BrokerEncoding : uint8_t {
  kJson,      // pmacct's JSON rows (default)
  kProtobuf,  // flowacct.v1.Snapshot
};

struct BrokerMessageOptions {
  BrokerEncoding encoding = BrokerEncoding::kJson;
  // *_multi_values: aggregates per message; 0 = json: one, protobuf: 1000.
  uint32_t multi_values = 0;
  // *_markers: purge_init / purge_close messages (json only).
  bool markers = false;
  // *_num_protos: ip_proto as a number ("6") instead of a name ("tcp").
  bool num_protos = false;
  // pmacct's global timestamps_utc / timestamps_since_epoch keys: how
  // stamps and timestamp_* values are written, and the time zone of
  // strftime conversions in routing keys and topics.
  bool timestamps_utc = false;
  bool timestamps_since_epoch = false;
  // Values of $post_tag / $post_tag2 (pmacct's post_tag / post_tag2 keys).
  uint64_t post_tag = 0;
  uint64_t post_tag2 = 0;
  // Values of $ref (the refresh time) and $hst (the history, seconds).
  uint64_t refresh_seconds = 0;
  uint64_t history_seconds = 0;
};

}  // namespace flowacct

#endif  // FLOWACCT_SINK_BROKER_MESSAGE_H_
