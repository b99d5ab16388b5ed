// `flowacct decode FILE`: reads a capture with PcapReader, decodes every
// datagram with one Decoder and prints the records with RecordFormatter.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fstream>
#include <sstream>

#include "flowacct/config/aggregate_primitives.h"
#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"
#include "flowacct/io/template_file.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/model/record_format.h"

#include "daemon/cli/commands.h"
#include <unistd.h>

namespace flowacct::cli {
namespace {

constexpr char kDecodeUsage[] =
    "usage: flowacct decode FILE [options]\n"
    "\n"
    "Decodes every NetFlow v5/v9, IPFIX and sFlow v5 datagram in FILE (pcap,\n"
    "pcapng or an RFC 5655 IPFIX file) and prints the records with pmacct's\n"
    "field names. A per-exporter summary goes to stderr at the end.\n"
    "\n"
    "options:\n"
    "  -O, --output FORMAT   json (default; one object per line), csv or\n"
    "                        formatted (aligned columns)\n"
    "  -c, --columns LIST    comma-separated primitives to print, e.g.\n"
    "                        src_host,dst_host,proto,bytes (default: all\n"
    "                        for json, a fixed set for csv/formatted)\n"
    "      --udp-port N      only datagrams to UDP port N (repeatable)\n"
    "      --num-protos      print IP protocols as numbers\n"
    "      --epoch           print timestamps as seconds since the epoch\n"
    "      --local-time      print timestamps in local time (default UTC)\n"
    "      --no-summary      do not print the summary\n"
    "      --summary-only    print only the summary, on stdout\n"
    "      --no-progress     never show the progress bar\n"
    "      --primitives FILE custom primitives (pmacct aggregate_primitives\n"
    "                        syntax) to decode and print\n"
    "      --templates-file FILE\n"
    "                        load v9/IPFIX templates from FILE before decoding\n"
    "                        (if it exists) and save them there after\n"
    "  -h, --help            this text\n"
    "\n"
    "exit status: 0 ok, 1 usage error, 2 the input cannot be read\n";

constexpr char kDefaultColumns[] =
    "peer_src_ip,in_iface,out_iface,src_host,dst_host,src_port,dst_port,"
    "proto,tos,tcpflags,timestamp_start,timestamp_end,packets,bytes";

constexpr uint64_t kProgressMinFileSize = 1 << 20;

struct Args {
  std::string file;
  OutputFormat format = OutputFormat::kJson;
  std::string columns;
  std::vector<uint16_t> udp_ports;
  bool numeric_protocols = false;
  bool epoch = false;
  bool local_time = false;
  bool summary = true;
  bool summary_only = false;
  bool progress = true;
  std::string primitives_file;
  std::string templates_file;
};

int Usage(const std::string& error) {
  std::fprintf(stderr, "flowacct decode: %s\n\n%s", error.c_str(),
               kDecodeUsage);
  return kExitUsage;
}

// Returns -1 on success, else the exit code.
int ParseArgs(const std::vector<std::string>& args, Args* a) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kDecodeUsage, stdout);
      return kExitOk;
    } else if (arg == "-O" || arg == "--output") {
      if (!value(&v)) return Usage(arg + " needs a value");
      if (v == "json") {
        a->format = OutputFormat::kJson;
      } else if (v == "csv") {
        a->format = OutputFormat::kCsv;
      } else if (v == "formatted") {
        a->format = OutputFormat::kFormatted;
      } else {
        return Usage("unknown output format \"" + v + "\"");
      }
    } else if (arg == "-c" || arg == "--columns") {
      if (!value(&a->columns)) return Usage(arg + " needs a value");
    } else if (arg == "--udp-port") {
      if (!value(&v)) return Usage(arg + " needs a value");
      char* end = nullptr;
      long port = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || port < 1 || port > 65535) {
        return Usage("bad UDP port \"" + v + "\"");
      }
      a->udp_ports.push_back(static_cast<uint16_t>(port));
    } else if (arg == "--num-protos") {
      a->numeric_protocols = true;
    } else if (arg == "--epoch") {
      a->epoch = true;
    } else if (arg == "--local-time") {
      a->local_time = true;
    } else if (arg == "--no-summary") {
      a->summary = false;
    } else if (arg == "--summary-only") {
      a->summary_only = true;
    } else if (arg == "--no-progress") {
      a->progress = false;
    } else if (arg == "--primitives") {
      if (!value(&a->primitives_file)) return Usage(arg + " needs a value");
    } else if (arg == "--templates-file") {
      if (!value(&a->templates_file)) return Usage(arg + " needs a value");
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      return Usage("unknown option \"" + arg + "\"");
    } else if (a->file.empty()) {
      a->file = arg;
    } else {
      return Usage("more than one FILE given");
    }
  }
  if (a->file.empty()) return Usage("no FILE given");
  return -1;
}

// A one-line progress bar on stderr, redrawn at most 10 times a second.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {
    start_ = last_ = std::chrono::steady_clock::now();
  }
  void Update(const PcapReaderStats& s, uint64_t records) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double frac = s.file_size > 0 ? double(s.file_offset) / s.file_size : 0;
    if (frac > 1) frac = 1;
    constexpr int kWidth = 30;
    int filled = static_cast<int>(frac * kWidth);
    std::fprintf(stderr, "\r[%.*s%*s] %3d%% %.1f/%.1f MB %.0f records/s ",
                 filled, "##############################", kWidth - filled, "",
                 static_cast<int>(frac * 100), s.file_offset / 1e6,
                 s.file_size / 1e6, secs > 0 ? records / secs : 0.0);
    drawn_ = true;
  }
  void Finish() {
    if (drawn_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

void PrintSummary(FILE* out, const std::string& file, const PcapReaderStats& rs,
                  const DecodeStats& stats) {
  std::fprintf(out,
               "# %s: %llu frames, %llu datagrams (%llu bytes); skipped: "
               "%llu not UDP, %llu other ports, %llu truncated; fragments: "
               "%llu reassembled, %llu dropped\n",
               file.c_str(), (unsigned long long)rs.frames,
               (unsigned long long)rs.datagrams, (unsigned long long)rs.bytes,
               (unsigned long long)rs.not_udp, (unsigned long long)rs.filtered,
               (unsigned long long)rs.truncated,
               (unsigned long long)rs.fragments_reassembled,
               (unsigned long long)rs.fragments_dropped);
  std::fprintf(out, "%-39s %9s %9s %8s %9s %9s %7s  %s\n", "exporter",
               "datagrams", "records", "options", "counters", "templates",
               "errors", "sequence expected/received/lost/resets/reordered");
  auto row = [&](const std::string& name, const ExporterStats& e) {
    std::fprintf(out,
                 "%-39s %9llu %9llu %8llu %9llu %9llu %7llu  %llu/%llu/"
                 "%llu/%llu/%llu\n",
                 name.c_str(), (unsigned long long)e.datagrams,
                 (unsigned long long)e.records,
                 (unsigned long long)e.options_records,
                 (unsigned long long)e.counter_records,
                 (unsigned long long)(e.templates + e.options_templates),
                 (unsigned long long)e.total_errors(),
                 (unsigned long long)e.sequence.expected,
                 (unsigned long long)e.sequence.received,
                 (unsigned long long)e.sequence.lost,
                 (unsigned long long)e.sequence.resets,
                 (unsigned long long)e.sequence.reordered);
    for (int i = 0; i < kDecodeErrorCount; ++i) {
      if (e.errors[i] == 0) continue;
      const DecodeError reason_code = static_cast<DecodeError>(i);
      std::string reason(DecodeErrorName(reason_code));
      // Notices (skipped on purpose, no flow data lost) are not errors.
      if (DecodeErrorIsNotice(reason_code)) reason += " (notice)";
      std::fprintf(out, "  %-37s %9llu\n", reason.c_str(),
                   (unsigned long long)e.errors[i]);
    }
  };
  for (const auto& [address, e] : stats.exporters) {
    row(address.is_set() ? address.ToString() : std::string("(file)"), e);
  }
  if (stats.exporters.size() > 1) row("total", stats.Total());
}

}  // namespace

int DecodeCommand(const std::vector<std::string>& argv) {
  Args args;
  if (int rc = ParseArgs(argv, &args); rc >= 0) return rc;

  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  if (!args.primitives_file.empty()) {
    std::ifstream in(args.primitives_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "flowacct decode: cannot read %s\n",
                   args.primitives_file.c_str());
      return kExitInput;
    }
    std::stringstream text;
    text << in.rdbuf();
    Status s = AddCustomPrimitives(text.str(), args.primitives_file,
                                   registry.get());
    if (!s.ok()) {
      std::fprintf(stderr, "flowacct decode: %s\n", s.message().c_str());
      return kExitUsage;
    }
  }
  std::vector<PrimitiveId> columns;
  if (!args.columns.empty()) {
    auto parsed = RecordFormatter::ParseColumns(*registry, args.columns);
    if (!parsed.ok()) return Usage(parsed.status().message());
    columns = *parsed;
  } else if (args.format == OutputFormat::kJson) {
    columns = RecordFormatter::AllColumns(*registry);
  } else {
    columns = *RecordFormatter::ParseColumns(*registry, kDefaultColumns);
  }
  RecordFormatOptions fmt_options;
  fmt_options.values.numeric_protocols = args.numeric_protocols;
  fmt_options.values.timestamps_since_epoch = args.epoch;
  fmt_options.values.timestamps_utc = !args.local_time;
  RecordFormatter formatter(registry.get(), columns, args.format, fmt_options);

  PcapReaderOptions reader_options;
  reader_options.udp_ports = args.udp_ports;
  auto reader = PcapReader::Open(args.file, reader_options);
  if (!reader.ok()) {
    std::fprintf(stderr, "flowacct decode: %s\n",
                 reader.status().ToString().c_str());
    return kExitInput;
  }
  auto decoder = Decoder::Create(DecoderOptions{}, registry.get());
  if (!decoder.ok()) {
    std::fprintf(stderr, "flowacct decode: %s\n",
                 decoder.status().ToString().c_str());
    return kExitUsage;
  }

  if (!args.templates_file.empty()) {
    // Time 0: restored templates count as used at the start of the capture.
    Status s = LoadTemplateFile(args.templates_file, &(*decoder)->templates(),
                                0);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      std::fprintf(stderr, "flowacct decode: %s\n", s.ToString().c_str());
      return kExitInput;
    }
  }

  const bool print_records = !args.summary_only;
  Progress progress(args.progress && isatty(STDERR_FILENO) &&
                    (*reader)->stats().file_size > kProgressMinFileSize);
  std::string out;
  if (print_records) formatter.AppendHeader(&out);
  RecordBatch batch(1024);
  PcapReader::Packet packet;
  uint64_t records = 0;
  while ((*reader)->Next(&packet)) {
    batch.Clear();
    (*decoder)->Decode(packet.datagram, &batch);
    records += batch.size() + batch.counter_size();
    if (print_records) {
      for (const FlowRecord& r : batch.records()) {
        formatter.AppendRecord(r, batch, &out);
      }
      if (args.format == OutputFormat::kJson) {
        for (const CounterRecord& c : batch.counters()) {
          RecordFormatter::AppendCounterJson(c, fmt_options.values, &out);
        }
      }
    }
    if (out.size() > (64 << 10)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
    progress.Update((*reader)->stats(), records);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  progress.Finish();

  if (!args.templates_file.empty()) {
    Status s = SaveTemplateFile((*decoder)->templates(), args.templates_file);
    if (!s.ok()) {
      std::fprintf(stderr, "flowacct decode: %s\n", s.ToString().c_str());
    }
  }

  Status read_status = (*reader)->status();
  if (args.summary || args.summary_only) {
    PrintSummary(args.summary_only ? stdout : stderr, args.file,
                 (*reader)->stats(), (*decoder)->stats());
  }
  if (!read_status.ok()) {
    std::fprintf(stderr, "flowacct decode: stopped early: %s\n",
                 read_status.ToString().c_str());
    return kExitInput;
  }
  return kExitOk;
}

}  // namespace flowacct::cli
