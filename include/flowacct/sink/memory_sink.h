// File: flowacct/sink/memory_sink.h
//
// The memory sink (pmacct's `memory` plugin, the "IMT"): keeps the running
// sum of every snapshot of a view in a table, and answers queries about it on
// a unix stream socket (imt_path), like pmacct's IMT queried by the `pmacct`
// client. `flowacct query` is the client (QueryMemorySink below).
//
//   MemorySinkOptions opts = MemorySinkOptions::FromConfig(plugin, daemon);
//   Result<std::unique_ptr<Sink>> sink = CreateMemorySink(opts, registry);
//   (*sink)->Write(*snapshot);           // rows are added up
//   Result<std::string> text = QueryMemorySink(opts.socket_path, request);
//
// The table: one entry per distinct (key primitive values, stamp_inserted),
// holding packets, bytes and flows. Key values are kept as their printed text
// (pmacct.md §6.1 value formats, rendered when the row arrives), so entries
// do not depend on any snapshot's arena.
//
// Query protocol (flowacct's own, not pmacct's binary one). Every message is
// a 4-byte big-endian length followed by that many bytes; one request and one
// response per connection.
//   request:  lines "key=value\n"; keys:
//     op=dump|match|counters|erase|status        (required)
//     format=formatted|csv|json                  (dump, match; default
//                                                 formatted)
//     top=bytes|packets|flows   top_n=<N>        (dump, match: sort by the
//                                                 counter, descending, keep
//                                                 N; N=0: all)
//     columns=<primitive>,<primitive>            (match, counters)
//     match=<value>,<value>                      (match, counters; repeat the
//                                                 key for several requests)
//     counter=bytes|packets|flows|all            (counters; default bytes)
//   response: one status byte ('0' ok, '1' error) followed by text: the
//     output to print, or the error message.
// Outputs (as pmacct's client): dump/match print the table in the format, a
// formatted table is followed by "\nFor a total of: N entries\n"; counters
// prints one line per match request with the sum of the counter over the
// matching entries ("packets bytes flows" for all); erase empties the table
// and prints "OK: Clearing stats.\n"; status prints "entries: N",
// "max_entries: N|unlimited", "dropped_rows: N" and "primitives: a,b" lines.
//
// Requests are limited to 1 MiB; a connection that sends nothing for
// 5 seconds is dropped. The socket file is created with the process umask
// and removed by Close(). A stale socket at imt_path is replaced; a path
// that is not a socket, or a socket another process still serves, makes
// CreateMemorySink fail (kIoError).
//
// Thread-safety: Write() and Close() from the sink thread; the query server
// runs in its own thread; a mutex guards the table. stats() from any thread.

#ifndef FLOWACCT_SINK_MEMORY_SINK_H_
#define FLOWACCT_SINK_MEMORY_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/config/daemon_config.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

namespace flowacct {

struct MemorySinkOptions {
  std::string name = "default";
  std::string socket_path = "/tmp/collect.pipe";  // imt_path
  // Most entries the table holds; 0 = no limit. Rows that would add an
  // entry to a full table are dropped: Write() applies the rest and returns
  // kResourceExhausted, the status query shows dropped_rows. FromConfig
  // derives it from imt_mem_pools_number x imt_mem_pools_size / 50 bytes
  // (pmacct's defaults hold about 2,600 aggregates; imt_mem_pools_number 0
  // means no limit, as in pmacct).
  uint64_t max_entries = 0;
  bool num_protos = false;
  bool timestamps_utc = false;
  // Applied before aggregation (AggregatorOptions::timestamps_secs); kept
  // here for reference only.
  bool timestamps_secs = false;
  bool timestamps_since_epoch = false;

  static MemorySinkOptions FromConfig(const PluginConfig& plugin,
                                      const DaemonConfig& daemon);
};

// Creates the sink and starts its query server (binds socket_path).
// kInvalidArgument for a path longer than a unix socket address allows;
// kIoError when the socket cannot be created or bound.
Result<std::unique_ptr<Sink>> CreateMemorySink(
    const MemorySinkOptions& options, const PrimitiveRegistry* registry);

// One query as the client sends it (see the protocol above).
struct MemoryQuery {
  enum class Op { kDump, kMatch, kCounters, kErase, kStatus };
  Op op = Op::kDump;
  std::string format = "formatted";
  std::string top;  // "", bytes, packets, flows
  uint64_t top_n = 0;
  std::vector<std::string> columns;
  std::vector<std::string> match;  // each "v1,v2,..." for `columns`
  std::string counter = "bytes";

  std::string Encode() const;  // the request body (without the length)
  static Result<MemoryQuery> Decode(const std::string& body);
};

// Connects to a memory sink's socket, sends `query`, returns the text to
// print. kIoError when the socket cannot be reached; kInvalidArgument or
// kNotFound carrying the server's message when the server refused the query.
Result<std::string> QueryMemorySink(const std::string& socket_path,
                                    const MemoryQuery& query);

}  // namespace flowacct

#endif  // FLOWACCT_SINK_MEMORY_SINK_H_
