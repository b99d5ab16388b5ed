// File: flowacct/sink/sink.h
//
// Sink: where a view's snapshots go — files (print), the in-memory table
// (memory), SQL databases (sql_sink.h) and message brokers (amqp_sink.h,
// kafka_sink.h); the last two deliver through a queue and spool of their
// own (delivery.h), and fill the delivery fields of SinkStats. Each
// configured plugin is one Sink; the pipeline runs one sink thread per view
// that calls Write() with every snapshot of that view, in flush order.
//
// A sink never stalls decoding: the pipeline's queue in front of it is
// bounded, and what cannot be queued is counted as dropped there. A sink
// that cannot deliver a snapshot returns an error from Write() and counts it
// (SinkStats); it does not retry forever inside Write().
//
// Thread-safety: Write(), Reopen() and Close() are called from one thread
// (the view's sink thread); stats() may be called from any thread.

#ifndef FLOWACCT_SINK_SINK_H_
#define FLOWACCT_SINK_SINK_H_

#include <cstdint>
#include <string>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/status.h"

namespace flowacct {

struct SinkStats {
  uint64_t snapshots = 0;       // snapshots written successfully
  uint64_t rows = 0;            // rows written successfully
  uint64_t failed_snapshots = 0;  // Write() returned an error
  uint64_t failed_rows = 0;       // rows of those snapshots

  // Sinks that deliver to a server (SQL, brokers) through a delivery queue
  // (docs/sinks.md "Nothing lost"). For them `rows` counts rows accepted
  // into the queue; what happened next is below. Every accepted row ends
  // as exactly one of delivered, dropped or rejected, or is still pending
  // (queued in memory or in the spool). Zero for print and memory.
  uint64_t delivered_rows = 0;  // acknowledged by the server
  uint64_t spooled_rows = 0;    // written to the on-disk spool (cumulative)
  uint64_t retries = 0;         // failed delivery attempts later retried
  uint64_t dropped_rows = 0;    // lost: queue full without spool, spool full
  uint64_t rejected_rows = 0;   // the server refused them for good (bad SQL,
                                // message too large): never retried
  uint64_t pending_rows = 0;    // gauge: queued in memory or spooled now
  uint64_t spool_bytes = 0;     // gauge: bytes in the spool now
  bool backend_up = true;       // gauge: the last delivery attempt succeeded
  // The last delivery error (a failed attempt, or "rejected: ..." for rows
  // the server refused), with the server's message; empty if none yet.
  std::string last_error;
};

class Sink {
 public:
  virtual ~Sink() = default;

  // The plugin type ("print", "memory") and name ("forensics").
  virtual const std::string& type() const = 0;
  virtual const std::string& name() const = 0;

  // Writes one snapshot. An error is also counted in stats().
  virtual Status Write(const Snapshot& snapshot) = 0;

  // SIGHUP: reopen whatever files the sink keeps open (log rotation).
  virtual Status Reopen() { return Status::Ok(); }

  // Called once, after the last Write() (shutdown): flush and release.
  virtual Status Close() { return Status::Ok(); }

  virtual SinkStats stats() const = 0;
};

}  // namespace flowacct

#endif  // FLOWACCT_SINK_SINK_H_
