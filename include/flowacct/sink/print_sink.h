// File: flowacct/sink/print_sink.h
//
// The print sink (pmacct's `print` plugin): writes every snapshot of a view
// as text, to standard output or to files, in pmacct's layouts
// (pmacct.md §1(b), §1(h), §6.1):
//
//   json       {"event_type": "purge", "ip_src": "10.0.0.1", ...,
//               "stamp_inserted": "...", "stamp_updated": "...",
//               "flows": 1, "packets": 2, "bytes": 114}
//              (stamps only when the view has time bins; flows only when
//              `flows` is aggregated; ", " and ": " separators as pmacct)
//   csv        SRC_IP,DST_IP,PROTOCOL,PACKETS,[FLOWS,]BYTES header row, then
//              one row per aggregate; no stamp columns (pmacct puts the bin in
//              the file name instead); separator print_output_separator
//   formatted  the same columns, space-aligned with pmacct's column widths
//              (IP 45, counters 20, ...); variable-length primitives (label,
//              as_path, ...) are rejected like pmacct does
//   protobuf   (not in pmacct) binary: length-delimited flowacct.v1.Snapshot
//              messages (schema: share/flowacct/proto/flowacct/v1/
//              flowacct.proto; docs/protobuf.md). Each Write() appends one
//              message per output file (holding that file's rows) or, without
//              output_file, one message to out_fd. Each message is preceded
//              by its length as a base-128 varint (protobuf's
//              writeDelimitedTo framing). Typed values: addresses as bytes,
//              integers as numbers (ip_proto too, whatever num_protos says),
//              times in ns. No header and no markers (print_markers is
//              ignored); csv_separator and the timestamps_* options do not
//              apply. With output_file_append, messages are appended to the
//              file, so a file holds every flush that went to it.
//
//   PrintSinkOptions opts = PrintSinkOptions::FromConfig(plugin, daemon);
//   Result<std::unique_ptr<Sink>> sink = CreatePrintSink(opts, registry);
//   (*sink)->Write(*snapshot);
//
// Files (output_file non-empty):
// - The name is a template: strftime conversions (%Y %m %d %H %M %S %s %z
//   ...) are rendered with the row's time bin start (stamp_inserted) when
//   the view has time bins, else with the snapshot's flush time; in local
//   time unless timestamps_utc (pmacct renders file names in local time).
//   Then the variables $peer_src_ip, $tag, $tag2, $post_tag, $post_tag2 are
//   replaced by the row's value (post tags: the configured constants), $ref
//   by print_refresh_time, $hst by print_history in seconds and $tzone by
//   the rendered time's UTC offset ("Z", "+02:00"), as nfacctd 1.7.7. Rows
//   are split into one file per distinct rendered name (per time bin, per
//   exporter, ...). Variable values are reduced to [A-Za-z0-9_-] (every
//   other byte becomes '_', so "10.0.0.1" gives "10_0_0_1", as pmacct), so
//   a value can never add a '/', "..", or a control byte to the path.
// - Missing directories are created like `mkdir -p` (mode 0700).
// - Files appear whole: the content goes to a temporary file in the same
//   directory (".<name>.XXXXXX"), is fsync'ed and renamed over the target;
//   a reader never sees a partial file, and a previous file of the same name
//   is replaced (pmacct overwrites too). With output_file_append the rows
//   are appended instead, and the header is written only when the file is
//   new or empty.
// - latest_file: a symlink pointing at the newest file written; it is moved
//   only to a name that sorts after (or equal to) its current target
//   (lexicographic comparison, as pmacct).
// - trigger_exec: after each Write() that wrote output (files or out_fd;
//   pmacct runs it after every purge), the program is started with
//   posix_spawn (argv = {trigger_exec, trigger_args...}; pmacct passes no
//   arguments; never through a shell, no word splitting). Write() does not
//   wait for it; finished children are reaped (non-blocking) on every
//   Write() and Close().
// - An empty snapshot writes nothing, unless write_empty_file (then a file
//   with just the header, named after the flush time; protobuf: a Snapshot
//   message with no aggregates).
// Without output_file everything goes to `out_fd` (default 1, stdout).
//
// Markers (print_markers): csv/formatted write "--START (<pid>)--" before
// and "--END (<pid>)--" after the rows of each file; json writes
// {"event_type": "purge_init", "writer_id": "<name>/<pid>"} and
// {"event_type": "purge_close", "writer_id": ..., "purged_entries": N,
// "total_entries": N, "duration": 0}.
//
// Errors from Write(): kIoError naming the path and errno text (directory,
// temporary file, write, fsync, rename, symlink); kInvalidArgument when the
// rendered name is empty. A failed trigger start is kIoError too, but the
// files were written.
//
// Thread-safety: as Sink (one writer thread; stats() from any thread).

#ifndef FLOWACCT_SINK_PRINT_SINK_H_
#define FLOWACCT_SINK_PRINT_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowacct/config/daemon_config.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_format.h"
#include "flowacct/sink/sink.h"
#include "flowacct/status.h"

namespace flowacct {

struct PrintSinkOptions {
  std::string name = "default";  // plugin name (writer_id in markers)
  // The text layout; ignored when `protobuf` is set.
  OutputFormat format = OutputFormat::kFormatted;
  // print_output: protobuf. Write length-delimited flowacct.v1.Snapshot
  // messages instead of text (see above).
  bool protobuf = false;
  std::string output_file;  // template; empty = out_fd
  bool output_file_append = false;
  std::string latest_file;
  std::string trigger_exec;               // program path; empty = none
  std::vector<std::string> trigger_args;  // extra argv (not in pmacct)
  char csv_separator = ',';
  bool num_protos = false;
  bool markers = false;
  bool write_empty_file = false;
  // pmacct's global timestamps_* keys. timestamps_secs is applied before
  // aggregation (AggregatorOptions::timestamps_secs floors the timestamp_*
  // key values to the second, which then print ".000000" as in nfacctd
  // 1.7.7); stamps never carry a fraction. The sink keeps the flag for
  // reference only.
  bool timestamps_utc = false;
  bool timestamps_secs = false;
  bool timestamps_since_epoch = false;
  // Values of $post_tag / $post_tag2, $ref (print_refresh_time) and $hst
  // (print_history in seconds; a month counts 30 days) in file names.
  uint64_t post_tag = 0;
  uint64_t post_tag2 = 0;
  uint64_t refresh_seconds = 0;
  uint64_t history_seconds = 0;
  // Where output goes without output_file. Not owned, not closed.
  int out_fd = 1;

  // From a plugin's config (print_* keys) and the daemon-wide timestamps_*
  // keys. print_output is formatted, csv, json or protobuf (which sets
  // `protobuf`); anything else, or a print_output_separator that is not one
  // character, is kInvalidArgument.
  static Result<PrintSinkOptions> FromConfig(const PluginConfig& plugin,
                                             const DaemonConfig& daemon);
};

// Creates a print sink. `registry` is borrowed and must outlive the sink.
// kInvalidArgument for bad options (empty name, format/primitives mismatch
// is only known at Write()).
Result<std::unique_ptr<Sink>> CreatePrintSink(
    const PrintSinkOptions& options, const PrimitiveRegistry* registry);

}  // namespace flowacct

#endif  // FLOWACCT_SINK_PRINT_SINK_H_
