// End to end: PcapReader -> Decoder -> RecordFormatter over corpus files, the
// path `flowacct decode` takes.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_format.h"

namespace flowacct {
namespace {

std::string CorpusPath(const std::string& rel) {
  return std::string(FLOWACCT_CORPUS_DIR) + "/" + rel;
}

struct Decoded {
  std::string text;
  size_t records = 0;
  size_t counters = 0;
};

Decoded DecodeFile(const std::string& rel, OutputFormat format,
                   const std::string& columns = "") {
  auto registry = PrimitiveRegistry::CreateWithBuiltins();
  std::vector<PrimitiveId> cols = RecordFormatter::AllColumns(*registry);
  if (!columns.empty()) {
    auto parsed = RecordFormatter::ParseColumns(*registry, columns);
    REQUIRE(parsed.ok());
    cols = *parsed;
  }
  RecordFormatter formatter(registry.get(), cols, format, {});
  auto reader = PcapReader::Open(CorpusPath(rel), {});
  REQUIRE(reader.ok());
  auto decoder = Decoder::Create(DecoderOptions{}, registry.get());
  REQUIRE(decoder.ok());
  Decoded out;
  formatter.AppendHeader(&out.text);
  RecordBatch batch(256);
  PcapReader::Packet p;
  for (int i = 0; i < 100000 && (*reader)->Next(&p); ++i) {
    batch.Clear();
    (*decoder)->Decode(p.datagram, &batch);
    for (const FlowRecord& r : batch.records()) {
      formatter.AppendRecord(r, batch, &out.text);
      ++out.records;
    }
    for (const CounterRecord& c : batch.counters()) {
      RecordFormatter::AppendCounterJson(c, {}, &out.text);
      ++out.counters;
    }
  }
  CHECK((*reader)->status().ok());
  return out;
}

TEST_CASE("Pipeline: NetFlow v5 capture to pmacct-style CSV") {
  Decoded d = DecodeFile("netflow5/graylog-nf5.pcap", OutputFormat::kCsv,
                         "peer_src_ip,src_host,dst_host,src_port,dst_port,"
                         "proto,packets,bytes");
  CHECK(d.records == 4);
  CHECK(d.text ==
        "PEER_SRC_IP,SRC_IP,DST_IP,SRC_PORT,DST_PORT,PROTOCOL,PACKETS,BYTES\n"
        "192.168.1.1,192.168.1.100,192.168.1.1,0,2048,icmp,1,84\n"
        "192.168.1.1,192.168.1.100,239.255.255.250,53970,1900,udp,1,203\n"
        "192.168.1.1,192.168.1.20,224.0.0.251,5353,5353,udp,2,472\n"
        "192.168.1.1,172.217.17.142,192.168.1.100,443,65039,udp,1,58\n");
}

TEST_CASE("Pipeline: sFlow counter samples become counter JSON lines") {
  Decoded d = DecodeFile("sflow/tcpdump-sflow-multiple-counter-30pdus.pcap",
                         OutputFormat::kJson);
  CHECK(d.counters == 144);  // manifest: 144 samples, all counters
  size_t lines = 0, pos = 0;
  while ((pos = d.text.find("{\"event_type\":\"counters\"", pos)) !=
         std::string::npos) {
    ++lines;
    ++pos;
  }
  CHECK(lines == 144);
}

// Every JSON line from every flow capture in the corpus is one line, starts
// with '{', ends with '}', and carries no control byte or invalid UTF-8.
TEST_CASE("Pipeline: JSON output of the whole flow corpus is clean") {
  std::ifstream manifest(CorpusPath("manifest.tsv"));
  REQUIRE(manifest.good());
  std::string line;
  size_t files = 0, total_lines = 0;
  while (std::getline(manifest, line)) {
    std::string path = line.substr(0, line.find('\t'));
    bool flow_dir =
        path.rfind("netflow5/", 0) == 0 || path.rfind("netflow9/", 0) == 0 ||
        path.rfind("ipfix/", 0) == 0 || path.rfind("sflow/", 0) == 0;
    if (!flow_dir) continue;
    INFO(path);
    ++files;
    Decoded d = DecodeFile(path, OutputFormat::kJson);
    std::istringstream in(d.text);
    std::string json;
    while (std::getline(in, json)) {
      ++total_lines;
      REQUIRE(json.size() >= 2);
      CHECK(json.front() == '{');
      CHECK(json.back() == '}');
      size_t bad = 0;
      for (unsigned char c : json) bad += (c < 0x20 || c == 0x7f) ? 1 : 0;
      CHECK(bad == 0);
    }
  }
  CHECK(files == 104);
  CHECK(total_lines > 5000);
}

}  // namespace
}  // namespace flowacct
