// File: flowacct/sink/sink.h
//
// Sink: where a view's snapshots go — files (print), the in-memory table
// (memory), and with later work SQL databases and message brokers. Each
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
