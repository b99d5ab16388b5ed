// The amqp sink's delivery backend (flowacct/sink/amqp_sink.h) over
// rabbitmq-c (librabbitmq). Built only when librabbitmq is found.
//
// Protocol: AMQP 0-9-1 with RabbitMQ's publisher confirms extension
// (confirm.select on the channel; the server answers every basic.publish
// with basic.ack or basic.nack carrying the message's delivery tag, counted
// from 1 per channel, possibly with multiple=true covering lower tags).

#include "flowacct/sink/amqp_sink.h"

#include <memory>
#include <string>
#include <utility>

#include "libflowacct/sink/broker_common.h"
#include "libflowacct/sink/delivery_queue.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>
#include <time.h>

namespace flowacct {
namespace {

constexpr amqp_channel_t kChannel = 1;

int64_t NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct timeval ToTimeval(int64_t ms) {
  if (ms < 0) ms = 0;
  struct timeval tv {};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

amqp_bytes_t Bytes(const std::string& s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

std::string ReplyText(const amqp_bytes_t& b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

// A failed RPC (login, channel.open, exchange.declare, confirm.select) as
// text.
std::string RpcError(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "missing RPC reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "connection closed by the server: " +
               std::to_string(m->reply_code) + " " + ReplyText(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "channel closed by the server: " +
               std::to_string(m->reply_code) + " " + ReplyText(m->reply_text);
      }
      return "server exception, method " + std::to_string(r.reply.id);
  }
  return "unknown reply";
}

// Thread-safety: only used by the delivery queue's thread.
class AmqpBackend : public internal::DeliveryBackend {
 public:
  explicit AmqpBackend(const AmqpSinkOptions& options)
      : options_(options),
        what_("amqp[" + options.name + "] " + options.host + ":" +
              std::to_string(options.port)),
        content_type_(internal::BrokerContentType(options.message.encoding)) {}

  ~AmqpBackend() override { Disconnect(/*graceful=*/true); }

  Status Deliver(const internal::Envelope& envelope) override {
    if (conn_ == nullptr) {
      if (Status s = Connect(); !s.ok()) {
        Disconnect(false);
        return s;
      }
    }
    Status s = Publish(envelope);
    if (s.code() == StatusCode::kUnavailable) Disconnect(false);
    return s;
  }

  void Shutdown() override { Disconnect(/*graceful=*/true); }

 private:
  Status Unavailable(const std::string& why) const {
    return UnavailableError(what_ + ": " + why);
  }

  Status Connect() {
    conn_ = amqp_new_connection();
    if (conn_ == nullptr) return Unavailable("out of memory");
    amqp_socket_t* socket = amqp_tcp_socket_new(conn_);
    if (socket == nullptr) return Unavailable("cannot create a socket");
    struct timeval tv = ToTimeval(options_.timeout_ms);
    int rc = amqp_socket_open_noblock(socket, options_.host.c_str(),
                                      options_.port, &tv);
    if (rc != AMQP_STATUS_OK) {
      return Unavailable(std::string("connect: ") + amqp_error_string2(rc));
    }
    amqp_set_handshake_timeout(conn_, &tv);
    amqp_set_rpc_timeout(conn_, &tv);
    amqp_rpc_reply_t r = amqp_login(
        conn_, options_.vhost.c_str(), 0, static_cast<int>(options_.frame_max),
        static_cast<int>(options_.heartbeat_interval), AMQP_SASL_METHOD_PLAIN,
        options_.user.c_str(), options_.password.c_str());
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      return Unavailable("login as '" + options_.user + "' to vhost '" +
                         options_.vhost + "': " + RpcError(r));
    }
    amqp_channel_open(conn_, kChannel);
    r = amqp_get_rpc_reply(conn_);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      return Unavailable("channel.open: " + RpcError(r));
    }
    amqp_exchange_declare(conn_, kChannel, Bytes(options_.exchange),
                          Bytes(options_.exchange_type), /*passive=*/0,
                          /*durable=*/1, /*auto_delete=*/0, /*internal=*/0,
                          amqp_empty_table);
    r = amqp_get_rpc_reply(conn_);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      return Unavailable("declaring exchange '" + options_.exchange + "' (" +
                         options_.exchange_type + ", durable): " + RpcError(r));
    }
    amqp_confirm_select(conn_, kChannel);
    r = amqp_get_rpc_reply(conn_);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      return Unavailable("confirm.select: " + RpcError(r));
    }
    next_tag_ = 1;
    open_ = true;
    return Status::Ok();
  }

  void Disconnect(bool graceful) {
    if (conn_ == nullptr) return;
    if (graceful && open_) {
      amqp_channel_close(conn_, kChannel, AMQP_REPLY_SUCCESS);
      amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(conn_);
    conn_ = nullptr;
    open_ = false;
  }

  // Publishes every message of the envelope (a batch: broker_common.h),
  // then waits until the server has confirmed them all (publisher
  // confirms). A nack or a lost connection makes the whole envelope
  // kUnavailable: retried, at least once (message_id "<name>/<seq>/<i>"
  // lets consumers drop duplicates).
  Status Publish(const internal::Envelope& envelope) {
    std::vector<std::string_view> messages;
    if (!internal::SplitFramedMessages(envelope.payload, &messages)) {
      return InvalidArgumentError(what_ + ": malformed envelope");
    }
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                   AMQP_BASIC_APP_ID_FLAG;
    props.content_type = amqp_cstring_bytes(content_type_);
    props.app_id = amqp_cstring_bytes("flowacctd");
    if (options_.persistent) {
      props._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
      props.delivery_mode = 2;
    }
    const uint64_t first_tag = next_tag_;
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string message_id = options_.name + "/" +
                                     std::to_string(envelope.seq) + "/" +
                                     std::to_string(i);
      props.message_id = Bytes(message_id);
      ++next_tag_;
      amqp_bytes_t body;
      body.len = messages[i].size();
      body.bytes = const_cast<char*>(messages[i].data());
      int rc = amqp_basic_publish(conn_, kChannel, Bytes(options_.exchange),
                                  Bytes(envelope.destination),
                                  /*mandatory=*/0, /*immediate=*/0, &props,
                                  body);
      if (rc != AMQP_STATUS_OK) {
        return Unavailable(std::string("basic.publish: ") +
                           amqp_error_string2(rc));
      }
    }
    return WaitConfirms(first_tag, next_tag_ - 1);
  }

  // Reads frames until the server confirms every tag in [first, last]
  // (basic.ack, single or `multiple`) or refuses one.
  Status WaitConfirms(uint64_t first, uint64_t last) {
    if (last < first) return Status::Ok();
    std::vector<bool> confirmed(last - first + 1, false);
    size_t left_to_confirm = confirmed.size();
    auto mark = [&](uint64_t tag, bool multiple) {
      const uint64_t lo = multiple ? first : std::max(first, tag);
      const uint64_t hi = std::min(last, tag);
      for (uint64_t t = lo; t <= hi; ++t) {
        if (!confirmed[t - first]) {
          confirmed[t - first] = true;
          --left_to_confirm;
        }
      }
    };
    const int64_t deadline = NowMs() + options_.timeout_ms;
    while (left_to_confirm > 0) {
      const int64_t left = deadline - NowMs();
      if (left <= 0) {
        return Unavailable("no publisher confirm within " +
                           std::to_string(options_.timeout_ms) + " ms");
      }
      amqp_maybe_release_buffers(conn_);
      amqp_frame_t frame;
      struct timeval tv = ToTimeval(left);
      int rc = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
      if (rc == AMQP_STATUS_TIMEOUT) continue;
      if (rc != AMQP_STATUS_OK) {
        return Unavailable(std::string("waiting for a publisher confirm: ") +
                           amqp_error_string2(rc));
      }
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      const amqp_method_t& m = frame.payload.method;
      if (m.id == AMQP_BASIC_ACK_METHOD) {
        auto* ack = static_cast<amqp_basic_ack_t*>(m.decoded);
        mark(ack->delivery_tag, ack->multiple != 0);
      } else if (m.id == AMQP_BASIC_NACK_METHOD) {
        auto* nack = static_cast<amqp_basic_nack_t*>(m.decoded);
        if (nack->delivery_tag >= first) {
          return Unavailable("the server refused a message (basic.nack)");
        }
      } else if (m.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* close = static_cast<amqp_channel_close_t*>(m.decoded);
        const std::string why = "channel closed by the server: " +
                                std::to_string(close->reply_code) + " " +
                                ReplyText(close->reply_text);
        amqp_channel_close_ok_t ok{};
        amqp_send_method(conn_, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD,
                         &ok);
        open_ = false;
        Disconnect(false);
        // 406 PRECONDITION_FAILED on publish: the message itself is refused
        // (larger than max_message_size); retrying cannot help.
        if (close->reply_code == AMQP_PRECONDITION_FAILED) {
          return InvalidArgumentError(what_ + ": " + why);
        }
        return UnavailableError(what_ + ": " + why);
      } else if (m.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* close = static_cast<amqp_connection_close_t*>(m.decoded);
        return Unavailable("connection closed by the server: " +
                           std::to_string(close->reply_code) + " " +
                           ReplyText(close->reply_text));
      } else if (m.id == AMQP_CONNECTION_BLOCKED_METHOD) {
        continue;  // resource alarm: acks come once it clears (or timeout)
      }
    }
    return Status::Ok();
  }

  AmqpSinkOptions options_;
  std::string what_;
  const char* content_type_;
  amqp_connection_state_t conn_ = nullptr;
  bool open_ = false;
  uint64_t next_tag_ = 1;
};

}  // namespace

Result<std::unique_ptr<Sink>> CreateAmqpSink(
    const AmqpSinkOptions& options, const PrimitiveRegistry* registry) {
  const std::string what = "amqp[" + options.name + "]";
  if (registry == nullptr) return InvalidArgumentError("no primitive registry");
  if (options.name.empty()) return InvalidArgumentError("empty plugin name");
  if (options.exchange.empty()) {
    return InvalidArgumentError(what + ": empty exchange");
  }
  if (options.exchange_type != "direct" && options.exchange_type != "fanout" &&
      options.exchange_type != "topic") {
    return InvalidArgumentError(what + ": exchange type '" +
                                options.exchange_type +
                                "' (direct, fanout or topic)");
  }
  if (options.host.empty() || options.port == 0) {
    return InvalidArgumentError(what + ": no host or port");
  }
  if (options.timeout_ms <= 0) {
    return InvalidArgumentError(what + ": timeout_ms must be positive");
  }
  auto builder = std::make_unique<internal::MessageBuilder>(
      options.message, options.name, options.routing_key, "amqp_routing_key",
      std::string(), registry);
  return internal::CreateBrokerSink("amqp", options.name, std::move(builder),
                                    options.delivery,
                                    std::make_unique<AmqpBackend>(options));
}

}  // namespace flowacct
