#include "flowacct/sink/print_sink.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "libflowacct/model/value_format.h"
#include "libflowacct/sink/file_util.h"
#include "libflowacct/sink/name_template.h"
#include "libflowacct/sink/proto_encoding.h"
#include "libflowacct/sink/row_format.h"
#include "libflowacct/sink/sink_counters.h"

#include <unistd.h>

namespace flowacct {
namespace {

using internal::KeyValue;
using internal::RowCounters;
using internal::RowFormatter;

class PrintSink : public Sink {
 public:
  PrintSink(const PrintSinkOptions& options, const PrimitiveRegistry* registry)
      : options_(options),
        registry_(registry),
        type_("print"),
        formatters_(registry, {options.format, options.csv_separator,
                               options.num_protos,
                               options.timestamps_since_epoch,
                               options.timestamps_utc}),
        path_template_(options.output_file, "print_output_file",
                       options.timestamps_utc,
                       {options.post_tag, options.post_tag2,
                        options.refresh_seconds, options.history_seconds}) {}

  ~PrintSink() override { internal::ReapChildren(&children_); }

  const std::string& type() const override { return type_; }
  const std::string& name() const override { return options_.name; }

  Status Write(const Snapshot& snapshot) override {
    Status s = WriteSnapshot(snapshot);
    if (s.ok()) {
      counters_.Written(snapshot.size());
    } else {
      counters_.Failed(snapshot.size());
    }
    return s;
  }

  Status Close() override {
    internal::ReapChildren(&children_);
    return Status::Ok();
  }

  SinkStats stats() const override { return counters_.Get(); }

 private:
  const RowFormatter& FormatterFor(const Snapshot& snapshot) {
    return formatters_.For(snapshot.primitives());
  }

  // The file name template rendered for one row (or for the flush when
  // `row` is null).
  Result<std::string> RenderPath(int64_t time_ns, const FlowRecord* row) {
    Result<std::string> out = path_template_.Render(time_ns, row);
    if (!out.ok()) return out;
    if (out->empty() || out->back() == '/') {
      return InvalidArgumentError(
          "print_output_file \"" + options_.output_file +
          "\" renders to a directory name \"" + *out + "\"");
    }
    return out;
  }

  void AppendMarkerStart(std::string* out) const {
    if (!options_.markers || options_.protobuf) return;
    if (options_.format == OutputFormat::kJson) {
      out->append("{\"event_type\": \"purge_init\", \"writer_id\": \"");
      out->append(WriterId());
      out->append("\"}\n");
    } else {
      out->append("--START (" + std::to_string(getpid()) + ")--\n");
    }
  }

  void AppendMarkerEnd(size_t purged, size_t total, std::string* out) const {
    if (!options_.markers || options_.protobuf) return;
    if (options_.format == OutputFormat::kJson) {
      out->append("{\"event_type\": \"purge_close\", \"writer_id\": \"");
      out->append(WriterId());
      out->append("\", \"purged_entries\": " + std::to_string(purged) +
                  ", \"total_entries\": " + std::to_string(total) +
                  ", \"duration\": 0}\n");
    } else {
      out->append("--END (" + std::to_string(getpid()) + ")--\n");
    }
  }

  std::string WriterId() const {
    std::string id = options_.name + "/" + std::to_string(getpid());
    std::string escaped;
    internal::AppendJsonEscaped(id, &escaped);
    return escaped;
  }

  void AppendRows(const Snapshot& snapshot, const RowFormatter& f,
                  const std::vector<size_t>& rows, std::string* out) {
    if (options_.protobuf) {
      // One length-delimited flowacct.v1.Snapshot holding these rows.
      message_.clear();
      internal::EncodeSnapshotProto(snapshot, *registry_, rows, &message_);
      internal::AppendLengthDelimited(message_, out);
      return;
    }
    AggregateRow row;
    for (size_t i : rows) {
      snapshot.Get(i, &row);
      f.FormatKeys(row.record, snapshot.arena(), &keys_);
      RowCounters c{row.record.packets, row.record.bytes, row.record.flows,
                    row.record.kind == RecordKind::kEvent};
      f.AppendRow(keys_, snapshot.has_time_bins(), row.stamp_inserted,
                  row.stamp_updated, c, out);
    }
  }

  Status WriteSnapshot(const Snapshot& snapshot) {
    internal::ReapChildren(&children_);
    const RowFormatter& f = FormatterFor(snapshot);
    if (Status s = f.Check(); !s.ok()) return s;
    const size_t total = snapshot.size();
    if (total == 0 && !options_.write_empty_file) return Status::Ok();

    std::string header;
    if (!options_.protobuf) f.AppendHeader(&header);

    if (options_.output_file.empty()) {
      std::vector<size_t> all(total);
      for (size_t i = 0; i < total; ++i) all[i] = i;
      std::string out;
      AppendMarkerStart(&out);
      out.append(header);
      AppendRows(snapshot, f, all, &out);
      AppendMarkerEnd(total, total, &out);
      if (Status s = internal::WriteAll(options_.out_fd, out, "output");
          !s.ok()) {
        return s;
      }
      return RunTrigger();
    }

    // Group rows by rendered file name.
    std::map<std::string, std::vector<size_t>> files;
    if (total == 0) {
      Result<std::string> path = RenderPath(snapshot.flush_time(), nullptr);
      if (!path.ok()) return path.status();
      files[*path];
    } else {
      const bool per_row = snapshot.has_time_bins() ||
                           options_.output_file.find('$') != std::string::npos;
      AggregateRow row;
      std::string single;
      for (size_t i = 0; i < total; ++i) {
        if (!per_row && !single.empty()) {
          files[single].push_back(i);
          continue;
        }
        snapshot.Get(i, &row);
        int64_t t = snapshot.has_time_bins() ? row.stamp_inserted
                                             : snapshot.flush_time();
        Result<std::string> path = RenderPath(t, &row.record);
        if (!path.ok()) return path.status();
        if (!per_row) single = *path;
        files[*path].push_back(i);
      }
    }

    for (auto& [path, rows] : files) {
      std::string start;
      AppendMarkerStart(&start);
      std::string body;
      AppendRows(snapshot, f, rows, &body);
      AppendMarkerEnd(rows.size(), total, &body);
      if (options_.output_file_append) {
        // pmacct: the start marker, the header only into a new file, rows.
        if (Status s = internal::AppendFile(path, start, header, body);
            !s.ok()) {
          return s;
        }
      } else {
        if (Status s = internal::ReplaceFile(path, start + header + body);
            !s.ok()) {
          return s;
        }
      }
    }

    if (!options_.latest_file.empty()) {
      const std::string& newest = files.rbegin()->first;
      if (Status s = internal::UpdateLatestLink(options_.latest_file, newest);
          !s.ok()) {
        return s;
      }
    }
    return RunTrigger();
  }

  // pmacct runs print_trigger_exec after every purge, files or not.
  Status RunTrigger() {
    if (options_.trigger_exec.empty()) return Status::Ok();
    Result<pid_t> pid =
        internal::SpawnProgram(options_.trigger_exec, options_.trigger_args);
    if (!pid.ok()) return pid.status();
    children_.push_back(*pid);
    return Status::Ok();
  }

  PrintSinkOptions options_;
  const PrimitiveRegistry* registry_;
  std::string type_;
  internal::RowFormatterCache formatters_;
  std::vector<KeyValue> keys_;
  std::string message_;  // protobuf: one encoded Snapshot
  std::vector<pid_t> children_;
  internal::NameTemplate path_template_;
  internal::SinkCounters counters_;
};

}  // namespace

Result<PrintSinkOptions> PrintSinkOptions::FromConfig(
    const PluginConfig& plugin, const DaemonConfig& daemon) {
  PrintSinkOptions o;
  o.name = plugin.name;
  if (plugin.output == "formatted") {
    o.format = OutputFormat::kFormatted;
  } else if (plugin.output == "csv") {
    o.format = OutputFormat::kCsv;
  } else if (plugin.output == "json") {
    o.format = OutputFormat::kJson;
  } else if (plugin.output == "protobuf") {
    o.format = OutputFormat::kCsv;  // not used for the rows
    o.protobuf = true;
  } else {
    return InvalidArgumentError(
        "print_output \"" + plugin.output +
        "\" is not supported (formatted, csv, json, protobuf)");
  }
  o.output_file = plugin.output_file;
  o.output_file_append = plugin.output_file_append;
  o.latest_file = plugin.latest_file;
  o.trigger_exec = plugin.trigger_exec;
  std::string sep = plugin.output_separator;
  if (sep == "\\t") sep = "\t";
  if (sep.size() != 1) {
    return InvalidArgumentError("print_output_separator \"" +
                                plugin.output_separator +
                                "\" must be one character");
  }
  o.csv_separator = sep[0];
  o.num_protos = plugin.num_protos;
  o.markers = plugin.markers;
  o.write_empty_file = plugin.write_empty_file;
  o.timestamps_utc = daemon.timestamps_utc;
  o.timestamps_secs = daemon.timestamps_secs;
  o.timestamps_since_epoch = daemon.timestamps_since_epoch;
  o.refresh_seconds = plugin.refresh_time;
  o.history_seconds = internal::HistoryNameSeconds(plugin.history);
  return o;
}

Result<std::unique_ptr<Sink>> CreatePrintSink(
    const PrintSinkOptions& options, const PrimitiveRegistry* registry) {
  if (registry == nullptr) return InvalidArgumentError("no primitive registry");
  if (options.name.empty()) return InvalidArgumentError("empty plugin name");
  if (options.output_file.empty() && options.out_fd < 0) {
    return InvalidArgumentError("no output file and no output descriptor");
  }
  return std::unique_ptr<Sink>(new PrintSink(options, registry));
}

}  // namespace flowacct
