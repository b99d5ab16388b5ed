// End to end: PcapReader -> Decoder -> Aggregator -> print sink, compared with
// what nfacctd 1.7.7 printed for the same capture and aggregate (rows sorted:
// neither pmacct nor flowacct promise a row order).

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/print_sink.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flowacct {
namespace {

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  if (!lines.empty()) std::sort(lines.begin() + 1, lines.end());
  return lines;
}

// Decodes a corpus capture and aggregates it with `aopts`; the snapshot is
// flushed at the latest arrival time.
std::unique_ptr<Snapshot> AggregateCapture(const PrimitiveRegistry* registry,
                                           const AggregatorOptions& aopts,
                                           const std::string& capture) {
  auto aggregator = Aggregator::Create(registry, aopts);
  REQUIRE(aggregator.ok());
  auto reader =
      PcapReader::Open(std::string(FLOWACCT_CORPUS_DIR) + "/" + capture, {});
  REQUIRE(reader.ok());
  auto decoder = Decoder::Create(DecoderOptions{}, registry);
  REQUIRE(decoder.ok());
  RecordBatch batch(256);
  PcapReader::Packet p;
  int64_t last = 0;
  for (int i = 0; i < 100000 && (*reader)->Next(&p); ++i) {
    batch.Clear();
    (*decoder)->Decode(p.datagram, &batch);
    for (const FlowRecord& r : batch.records()) {
      (*aggregator)->Add(r, batch);
      last = std::max(last, r.timestamp_arrival);
    }
  }
  auto snapshot = (*aggregator)->Flush(last, FlushReason::kShutdown);
  REQUIRE(snapshot != nullptr);
  return snapshot;
}

std::string Run(OutputFormat format) {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  AggregatorOptions aopts;
  aopts.view = "a";
  for (const char* p : {"src_host", "dst_host", "proto"}) {
    aopts.primitives.push_back(registry->Find(p)->id);
  }
  auto snapshot = AggregateCapture(registry.get(), aopts,
                                   "netflow9/graylog-nf9-pmacctd.pcap");

  char path[] = "/tmp/flowacct-print-pipeline-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  PrintSinkOptions opts;
  opts.format = format;
  opts.out_fd = fd;
  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  REQUIRE((*sink)->Write(*snapshot).ok());
  close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path);
  return ss.str();
}

bool HaveCorpus() {
  struct stat st {};
  std::string path =
      std::string(FLOWACCT_CORPUS_DIR) + "/netflow9/graylog-nf9-pmacctd.pcap";
  return stat(path.c_str(), &st) == 0;
}

TEST_CASE("print pipeline: graylog-nf9-pmacctd as nfacctd 1.7.7 prints it") {
  if (!HaveCorpus()) {
    WARN("corpus not found at " FLOWACCT_CORPUS_DIR ", skipped");
    return;
  }
  // nfacctd -f with aggregate src_host, dst_host, proto; print_output csv.
  CHECK(SortedLines(Run(OutputFormat::kCsv)) ==
        SortedLines("SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n"
                    "172.17.0.2,192.168.65.1,0,2,114\n"
                    "192.168.65.1,172.17.0.2,0,2,158\n"
                    "93.184.216.34,172.17.0.2,0,6,1824\n"
                    "172.17.0.2,93.184.216.34,0,7,375\n"
                    "8.8.4.4,172.17.0.2,0,1,84\n"
                    "172.17.0.2,8.8.4.4,0,1,68\n"));
  // The same with print_output json (no header line: sort everything).
  std::vector<std::string> json = SortedLines("\n" + Run(OutputFormat::kJson));
  std::vector<std::string> expected = SortedLines(
      "\n"
      "{\"event_type\": \"purge\", \"ip_src\": \"172.17.0.2\", \"ip_dst\": "
      "\"192.168.65.1\", \"ip_proto\": \"0\", \"packets\": 2, \"bytes\": "
      "114}\n"
      "{\"event_type\": \"purge\", \"ip_src\": \"192.168.65.1\", \"ip_dst\": "
      "\"172.17.0.2\", \"ip_proto\": \"0\", \"packets\": 2, \"bytes\": 158}\n"
      "{\"event_type\": \"purge\", \"ip_src\": \"93.184.216.34\", \"ip_dst\": "
      "\"172.17.0.2\", \"ip_proto\": \"0\", \"packets\": 6, \"bytes\": "
      "1824}\n"
      "{\"event_type\": \"purge\", \"ip_src\": \"172.17.0.2\", \"ip_dst\": "
      "\"93.184.216.34\", \"ip_proto\": \"0\", \"packets\": 7, \"bytes\": "
      "375}\n"
      "{\"event_type\": \"purge\", \"ip_src\": \"8.8.4.4\", \"ip_dst\": "
      "\"172.17.0.2\", \"ip_proto\": \"0\", \"packets\": 1, \"bytes\": 84}\n"
      "{\"event_type\": \"purge\", \"ip_src\": \"172.17.0.2\", \"ip_dst\": "
      "\"8.8.4.4\", \"ip_proto\": \"0\", \"packets\": 1, \"bytes\": 68}\n");
  CHECK(json == expected);
}

}  // namespace
}  // namespace flowacct

#include <map>

#include <dirent.h>

namespace flowacct {
namespace {

// File name -> "rows:bytes" of every file in `dir`.
std::map<std::string, std::string> Summarise(const std::string& dir) {
  std::map<std::string, std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::ifstream in(dir + "/" + name);
    std::string line;
    std::getline(in, line);  // header
    uint64_t rows = 0, bytes = 0;
    while (std::getline(in, line)) {
      ++rows;
      bytes += std::stoull(line.substr(line.rfind(',') + 1));
    }
    out[name] = std::to_string(rows) + ":" + std::to_string(bytes);
  }
  closedir(d);
  return out;
}

TEST_CASE("print pipeline: one file per 1m bin as nfacctd 1.7.7 writes") {
  if (!HaveCorpus()) {
    WARN("corpus not found at " FLOWACCT_CORPUS_DIR ", skipped");
    return;
  }
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  AggregatorOptions aopts;
  aopts.view = "a";
  for (const char* p :
       {"src_host", "dst_host", "src_port", "dst_port", "proto"}) {
    aopts.primitives.push_back(registry->Find(p)->id);
  }
  aopts.history = *HistorySpec::Parse("1m");
  auto snapshot = AggregateCapture(registry.get(), aopts,
                                   "netflow9/graylog-nf9-nprobe-3.pcap");

  char tmpl[] = "/tmp/flowacct-print-bins-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  PrintSinkOptions opts;
  opts.format = OutputFormat::kCsv;
  opts.timestamps_utc = true;  // nfacctd ran with TZ=UTC
  opts.output_file = dir + "/%Y%m%d-%H%M.csv";
  auto sink = CreatePrintSink(opts, registry.get());
  REQUIRE(sink.ok());
  REQUIRE((*sink)->Write(*snapshot).ok());
  // nfacctd 1.7.7, aggregate src_host, dst_host, src_port, dst_port, proto,
  // print_history 1m: file -> rows:bytes.
  std::map<std::string, std::string> expected = {
      {"20170808-1107.csv", "40:11410"}, {"20170808-1108.csv", "48:13712"},
      {"20170808-1109.csv", "44:12574"}, {"20170808-1110.csv", "44:12563"},
      {"20170808-1111.csv", "48:13717"}, {"20170808-1112.csv", "44:12569"},
      {"20170808-1113.csv", "48:13706"}, {"20170808-1114.csv", "44:12553"},
      {"20170808-1115.csv", "48:13718"}, {"20170808-1116.csv", "44:12570"},
      {"20170808-1117.csv", "56:12646"}, {"20170808-1118.csv", "66:14241"},
      {"20170808-1119.csv", "66:14236"}, {"20170808-1120.csv", "72:15535"},
      {"20170808-1121.csv", "66:14245"}, {"20170808-1122.csv", "66:14248"},
      {"20170808-1123.csv", "48:10350"}};
  CHECK(Summarise(dir) == expected);
  std::string cmd = "rm -rf '" + dir + "'";
  CHECK(system(cmd.c_str()) == 0);
}

}  // namespace
}  // namespace flowacct
