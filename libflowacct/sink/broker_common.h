// What the amqp and kafka sinks share, built whether or not their client
// libraries are: snapshot → messages (MessageBuilder), the partition key
// template, the Sink that feeds a DeliveryQueue (CreateBrokerSink), and the
// kafka_config_file parser. Private to libflowacct.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_BROKER_COMMON_H_
#define FLOWACCT_LIBFLOWACCT_SINK_BROKER_COMMON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/flow_record.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/broker_message.h"
#include "flowacct/sink/delivery.h"
#include "flowacct/sink/kafka_sink.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

#include "libflowacct/sink/delivery_queue.h"
#include "libflowacct/sink/name_template.h"
#include "libflowacct/sink/row_format.h"

namespace flowacct::internal {

// "application/json" or "application/x-protobuf".
const char* BrokerContentType(BrokerEncoding encoding);

// kafka_partition_key: $peer_src_ip $tag $tag2 $post_tag $post_tag2
// $src_host $dst_host $src_port $dst_port $proto $in_iface replaced by the
// row's values as text (not sanitised: a key is hashed, never a name). An
// absent address renders as "", an absent number as "0". A '$' that starts
// no variable is kept.
//
// Thread-safety: immutable after construction.
class PartitionKeyTemplate {
 public:
  PartitionKeyTemplate(std::string text, uint64_t post_tag, uint64_t post_tag2);
  bool empty() const { return text_.empty(); }
  // `row` null: every row variable renders as if absent.
  std::string Render(const FlowRecord* row) const;

 private:
  std::string text_;
  uint64_t post_tag_;
  uint64_t post_tag2_;
};

// Snapshot → envelopes (flowacct/sink/broker_message.h): rows grouped by
// rendered destination (routing key / topic) and partition key, in order of
// first appearance, cut into messages of multi_values rows.
//
// Thread-safety: one thread at a time (caches the formatter and the
// strftime result).
// Broker envelopes carry a batch of messages that share a destination and
// a partition key, so that one delivery publishes many messages and waits
// once (Kafka delivery reports, AMQP publisher confirms), and a flush of
// 150,000 one-row JSON messages is 150 envelopes, not 150,000. The payload
// is each message as a varint (LEB128) length and the bytes.
inline constexpr size_t kMaxMessagesPerEnvelope = 1000;
inline constexpr size_t kMaxEnvelopeBytes = size_t{8} << 20;
void AppendFramedMessage(std::string_view message, std::string* payload);
// The messages of an envelope payload; false when it is malformed.
bool SplitFramedMessages(std::string_view payload,
                         std::vector<std::string_view>* messages);

// protobuf messages hold at most this many rows when multi_values is 0
// (pmacct has no protobuf; a whole flush in one message would exceed the
// brokers' message size limits: Kafka's default is 1,000,000 bytes).
inline constexpr size_t kDefaultProtobufRows = 1000;

class MessageBuilder {
 public:
  // `what` names the destination setting in errors ("amqp_routing_key").
  // `writer_name` is the plugin name (writer_id "<name>/<pid>").
  MessageBuilder(const BrokerMessageOptions& options, std::string writer_name,
                 std::string destination, std::string what,
                 std::string partition_key, const PrimitiveRegistry* registry);

  // Checks the options: kInvalidArgument for an empty destination
  // template, or markers with protobuf.
  Status Check() const;

  // Appends the snapshot's envelopes (seq unset) to *out. An empty
  // snapshot gives none (markers: just purge_init and purge_close).
  // kInvalidArgument when a destination renders empty.
  Status Build(const Snapshot& snapshot, std::vector<Envelope>* out);

 private:
  void AppendJsonRow(const Snapshot& snapshot, size_t i, std::string* out);
  std::string Marker(bool close, size_t purged, size_t total) const;

  BrokerMessageOptions options_;
  std::string writer_id_json_;  // escaped "<name>/<pid>"
  NameTemplate destination_;
  PartitionKeyTemplate partition_key_;
  const PrimitiveRegistry* registry_;
  RowFormatterCache formatters_;
  std::vector<KeyValue> keys_;
};

// A Sink over a MessageBuilder and a DeliveryQueue with `backend`:
// Write() builds the envelopes and pushes them (never waits for the
// server); stats() adds the queue's counters; Close() closes the queue.
// kInvalidArgument from the builder's Check(); the queue's errors.
Result<std::unique_ptr<Sink>> CreateBrokerSink(
    std::string type, std::string name, std::unique_ptr<MessageBuilder> builder,
    const DeliveryOptions& delivery, std::unique_ptr<DeliveryBackend> backend);

// Parses kafka_config_file content (`path` for errors): `global|topic, key,
// value` per line. kInvalidArgument "path:line: ...".
Result<std::vector<KafkaConfigSetting>> ParseKafkaConfigFile(
    std::string_view content, const std::string& path);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_BROKER_COMMON_H_
