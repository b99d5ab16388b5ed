// End to end: PcapReader -> Decoder -> Aggregator -> print sink, compared with
// what nfacctd 1.7.7 printed for the same capture and aggregate (rows sorted:
// neither pmacct nor flowacct promise a row order).

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/sink/print_sink.h"

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

std::string Run(OutputFormat format) {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  AggregatorOptions aopts;
  aopts.view = "a";
  for (const char* p : {"src_host", "dst_host", "proto"}) {
    aopts.primitives.push_back(registry->Find(p)->id);
  }
  auto aggregator = Aggregator::Create(registry.get(), aopts);
  REQUIRE(aggregator.ok());
  auto reader = PcapReader::Open(
      std::string(FLOWACCT_CORPUS_DIR) + "/netflow9/graylog-nf9-pmacctd.pcap",
      {});
  REQUIRE(reader.ok());
  auto decoder = Decoder::Create(DecoderOptions{}, registry.get());
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
