// DeliveryQueue: what stands between a sink that talks to a server (SQL
// databases, RabbitMQ, Kafka) and that server, so that a backend outage
// loses nothing and never stalls the sink thread (docs/sinks.md "Nothing
// lost"). Private to libflowacct.
//
//   sink thread ──Push(envelope)──► in-memory FIFO ──► delivery thread
//                                       │                 │ Deliver()
//                                       ▼                 ▼
//                               on-disk spool ◄── on kUnavailable
//
// - The sink turns each snapshot into envelopes (a batch of SQL rows for one
//   table, a message for one topic...) and Push()es them. Push never waits
//   for the backend.
// - One delivery thread hands envelopes to the backend in Push order.
//   A kUnavailable error (server down, connection lost, timeout) means
//   "retry": the envelope stays at the head, the queue backs off
//   (retry_min_ms doubling up to retry_max_ms) and tries again, so order
//   is kept. Any other error means the envelope can never be delivered (bad
//   statement, oversized message): it is counted as rejected and skipped.
// - Spool (spool_dir set): when a delivery fails with kUnavailable, every
//   envelope in memory is moved to the spool, and while the spool is not
//   empty new envelopes go straight to it, so the spool always holds the
//   oldest envelopes and the order is kept. Spool files are written to a
//   temporary name, fsync'ed and renamed (crash-safe), one file per
//   envelope, named by its sequence number; they are deleted once
//   delivered. Envelopes found in spool_dir at Create() (left by a crash or
//   by a Close() that timed out) are delivered first. When the spool would
//   exceed spool_max_bytes (or cannot be written) the new envelope is
//   dropped and counted. With a spool, a full in-memory queue also moves
//   its envelopes to the spool (the new one after them). Spool writes are
//   done by the calling thread, so Push() may wait for the disk (fsync),
//   never for the backend.
//   Delivery is at-least-once: a crash between the server's acknowledgement
//   and the deletion of the spool file delivers that envelope again.
//   The spool file format: delivery_queue.cc.
// - A spool file that is truncated or fails its CRC-32 is renamed to
//   <name>.bad, not delivered, and its rows are counted as dropped (the rows
//   of its header when the header is intact, else 0). Temporary files left
//   by a crash (<name>.tmp) are deleted at Create().
// - Without a spool, a full in-memory queue drops the new envelope (counted).
// Options: flowacct/sink/delivery.h.
// - Close(): stops accepting, keeps delivering for up to close_timeout_ms,
//   then spools what is left (or drops it, counted, without a spool).
//
// Every row pushed ends up counted exactly once as delivered, dropped or
// rejected, or is still pending (in memory or in the spool). Rows loaded
// from the spool at Create() count as pending (then delivered, dropped or
// rejected) without having been pushed.
//
// Thread-safety: Push, WaitIdle, Close and FillStats may be called from any
// thread (one mutex guards the state). Backend::Deliver is only ever called
// from the delivery thread; Backend::Shutdown from Close(), after that
// thread has ended.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_DELIVERY_QUEUE_H_
#define FLOWACCT_LIBFLOWACCT_SINK_DELIVERY_QUEUE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "flowacct/sink/delivery.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

namespace flowacct::internal {

// One unit of delivery.
struct Envelope {
  // Assigned by the queue in Push order, unique and increasing for the
  // spool's lifetime (continues after the highest number found in the spool
  // at Create). Backends may use it to make redelivery idempotent.
  uint64_t seq = 0;
  std::string destination;  // table, topic or routing key (rendered)
  std::string key;          // partition key (Kafka); may be empty
  std::string payload;      // backend-specific bytes
  uint64_t rows = 0;        // aggregates it carries (for the counters)
};

// The part that talks to the server. Called from the delivery thread only.
class DeliveryBackend {
 public:
  virtual ~DeliveryBackend() = default;
  // Delivers one envelope and returns once the server has acknowledged it.
  // kUnavailable: transient, the queue retries the same envelope later
  // (the backend should reconnect on its next call). Any other error: the
  // envelope is rejected for good.
  virtual Status Deliver(const Envelope& envelope) = 0;
  // Called when the queue shuts down, after the last Deliver().
  virtual void Shutdown() {}
};

class DeliveryQueue {
 public:
  // Loads the envelopes found in options.spool_dir (kIoError if it cannot
  // be created or read, or is in use by another queue: it is locked with
  // flock on <spool_dir>/.lock; a spool file that does not parse is renamed
  // to <name>.bad and left for the operator) and starts the delivery
  // thread.
  // kInvalidArgument for a null backend or memory_envelopes == 0.
  // `name` ("sqlite3[tm]") prefixes error messages.
  static Result<std::unique_ptr<DeliveryQueue>> Create(
      std::string name, DeliveryOptions options,
      std::unique_ptr<DeliveryBackend> backend);

  virtual ~DeliveryQueue() = default;  // Close()s if still open.

  // Queues an envelope (its seq is assigned here). Never waits for the
  // backend. Returns false when it was dropped (counted) or after Close()
  // has begun (not counted).
  virtual bool Push(Envelope envelope) = 0;

  // Blocks until nothing is pending (everything pushed so far delivered,
  // dropped or rejected) or `timeout_ms` passed; true if nothing is pending.
  // For capture replay and tests.
  virtual bool WaitIdle(int64_t timeout_ms) = 0;

  // See above. Idempotent (later calls return the first result); releases
  // the spool lock. Returns kResourceExhausted naming the count when rows
  // were dropped during the queue's life (the message also names what was
  // left in the spool), else kUnavailable naming the rows left in the spool,
  // else OK.
  virtual Status Close() = 0;

  // Fills the delivery fields of SinkStats (delivered_rows ... backend_up).
  virtual void FillStats(SinkStats* stats) const = 0;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_DELIVERY_QUEUE_H_
