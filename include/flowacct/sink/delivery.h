// File: flowacct/sink/delivery.h
//
// DeliveryOptions: how a sink that writes to a server (sqlite3, mysql,
// pgsql, amqp, kafka) survives a slow or absent server without losing rows
// or stalling decoding (docs/sinks.md "Nothing lost").
//
// Each such sink turns a snapshot into envelopes (a batch of rows for one
// SQL table, one broker message) and queues them; a delivery thread of its
// own hands them to the server in order. While the server is down the
// envelopes go to an on-disk spool (one file per envelope, written to a
// temporary name, fsync'ed and renamed, so a crash never leaves half an
// envelope) and are delivered, oldest first, when it is back — also after a
// restart of the process, from the same spool directory. Rows are dropped
// only when the spool is full (or, without a spool, when the in-memory
// queue is full), and then counted exactly (SinkStats::dropped_rows).
//
// flowacctd keys (per plugin; flowacct extensions, pmacct has no spool):
//   flowacct_spool_dir[name]        the spool root: each plugin spools in
//                                   <root>/<type>-<name> (name reduced to
//                                   [A-Za-z0-9_-]); default root
//                                   /var/spool/flowacct; "none" disables
//                                   the spool
//   flowacct_spool_max_mb[name]     default 1024
//   flowacct_queue_entries[name]    default 64 envelopes in memory
//   flowacct_close_timeout[name]    default 10 (seconds; SIGTERM)
//
// Thread-safety: a value type.

#ifndef FLOWACCT_SINK_DELIVERY_H_
#define FLOWACCT_SINK_DELIVERY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "flowacct/config/daemon_config.h"
#include "flowacct/status.h"

namespace flowacct {

struct DeliveryOptions {
  // Envelopes held in memory while the delivery thread is busy.
  size_t memory_envelopes = 64;
  // The spool directory (created like mkdir -p, mode 0700; locked with
  // flock so two processes never share one). Empty: no spool — rows are
  // kept in memory only, and dropped when the queue is full or at Close().
  std::string spool_dir;
  // Spool size cap. An envelope that would exceed it is dropped (counted).
  uint64_t spool_max_bytes = uint64_t{1} << 30;
  // Back-off between delivery attempts while the server is unavailable:
  // starts at retry_min_ms, doubles up to retry_max_ms.
  int64_t retry_min_ms = 250;
  int64_t retry_max_ms = 10000;
  // At Close() (SIGTERM, end of a capture): how long to keep delivering
  // before what is left goes to the spool.
  int64_t close_timeout_ms = 10000;

  // From a plugin's flowacct_spool_dir / _spool_max_mb / _queue_entries /
  // _close_timeout keys (defaults above; spool_dir becomes
  // <flowacct_spool_dir or /var/spool/flowacct>/<type>-<name>). kInvalidArgument naming file:line
  // for a bad value.
  static Result<DeliveryOptions> FromConfig(const PluginConfig& plugin);
};

}  // namespace flowacct

#endif  // FLOWACCT_SINK_DELIVERY_H_
