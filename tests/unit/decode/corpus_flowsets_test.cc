// Every NetFlow v9 and IPFIX capture of the shared corpus through
// flowacct::Decoder: record counts (flow + options data records) against
// manifest.tsv (tshark 4.0 count, or the independent walker's count when the
// manifest carries `independent-count=N`), and no unexpected errors.

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"

namespace flowacct {
namespace {

struct ManifestRow {
  std::string path;
  std::string protocol;
  long records = -1;
  std::string features;
};

std::vector<ManifestRow> ReadManifest(const std::string& dir) {
  std::vector<ManifestRow> rows;
  std::ifstream in(dir + "/manifest.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() < 4) continue;
    ManifestRow r;
    r.path = cols[0];
    r.protocol = cols[1];
    r.records = cols[3].empty() ? -1 : std::stol(cols[3]);
    r.features = cols.size() > 4 ? cols[4] : "";
    rows.push_back(r);
  }
  return rows;
}

long ExpectedRecords(const ManifestRow& row) {
  const std::string tag = "independent-count=";
  auto at = row.features.find(tag);
  if (at != std::string::npos) {
    const std::string v = row.features.substr(at + tag.size());
    if (v.rfind("None", 0) == 0) return 0;
    return std::stol(v);
  }
  return row.records;
}

struct Outcome {
  long records = 0;
  ExporterStats total;
  bool opened = false;
};

Outcome DecodeFile(const std::string& path) {
  Outcome o;
  auto reader = PcapReader::Open(path, {});
  if (!reader.ok()) return o;
  o.opened = true;
  auto decoder = Decoder::Create(DecoderOptions{}, nullptr);
  REQUIRE(decoder.ok());
  RecordBatch batch;
  PcapReader::Packet p;
  int guard = 0;
  while ((*reader)->Next(&p) && ++guard < 1'000'000) {
    DecodeSummary s = (*decoder)->Decode(p.datagram, &batch);
    // All records: the manifest counts cflow records, v5 included (one
    // capture mixes v5 and v9).
    o.records += static_cast<long>(s.records);
    batch.Clear();
  }
  o.total = (*decoder)->stats().Total();
  return o;
}

// Where our count legitimately differs from the manifest, with the reason.
struct KnownDifference {
  long ours;
  const char* why;
};
const std::map<std::string, KnownDifference>& KnownDifferences() {
  static const auto* m = new std::map<std::string, KnownDifference>{
      // Data sets that arrive before their template are buffered and
      // decoded when it arrives (NF-20); tshark reports "no template found".
      {"netflow9/akvorado-nf9-data-before-template.pcap",
       {22, "+11 records of the 660-byte set 257 sent before its template"}},
      {"netflow9/graylog-nf9-nprobe-4.pcap",
       {16, "+14 records of two 372-byte sets 257 sent before the template"}},
      {"ipfix/logstash-ipfix-citrix-netscaler-data-before-template.pcap",
       {6, "+3 records of sets 257/258 of frame 1, templates in frame 2"}},
      // The IPFIX message length (290) is authoritative (RFC 7011 §3.1): the
      // last set runs 2 bytes past it and is dropped (kSetOverrun); tshark
      // and telegraf decode it from the longer UDP payload.
      {"malformed/telegraf-ipfix-issue14370-length-mismatch.pcap",
       {1, "last set overruns the 290-byte message"}},
  };
  return *m;
}

// Files whose errors are expected (malformed on purpose or by the exporter).
bool ErrorsExpected(const ManifestRow& row) {
  return row.path.rfind("malformed/", 0) == 0 ||
         row.features.find("tshark-malformed-frames") != std::string::npos;
}

// Record-level notices raised by the field program (not by set walking) on
// otherwise well-formed captures: exporter clocks (kTimeAnomaly).
// Everything else must be zero.
const std::map<std::string, std::map<DecodeError, uint64_t>>&
ToleratedErrors() {
  static const auto* m =
      new std::map<std::string, std::map<DecodeError, uint64_t>>{
          {"netflow9/logstash-nf9-fortigate-fortios521.pcap",
           {{DecodeError::kTimeAnomaly, 1}}},
          {"netflow9/logstash-nf9-nprobe-dpi.pcap",
           {{DecodeError::kTimeAnomaly, 1}}},
          {"netflow9/telegraf-nf9-example.pcap",
           {{DecodeError::kTimeAnomaly, 8}}},
          {"ipfix/akvorado-ipfix-ipfixprobe-biflow.pcap",
           {{DecodeError::kTimeAnomaly, 4}}},
      };
  return *m;
}

TEST_CASE("corpus: v9 and IPFIX captures decode to the manifest counts") {
  const std::string dir = FLOWACCT_CORPUS_DIR;
  if (!std::filesystem::exists(dir + "/manifest.tsv")) {
    WARN("corpus not found at " << dir << "; skipped");
    return;
  }
  int files = 0;
  for (const ManifestRow& row : ReadManifest(dir)) {
    if (row.protocol != "netflow9" && row.protocol != "ipfix") continue;
    const bool ours = row.path.rfind("netflow9/", 0) == 0 ||
                      row.path.rfind("ipfix/", 0) == 0 ||
                      row.path.rfind("malformed/", 0) == 0;
    if (!ours) continue;
    ++files;
    INFO(row.path);
    Outcome o = DecodeFile(dir + "/" + row.path);
    REQUIRE(o.opened);
    long expected = ExpectedRecords(row);
    auto known = KnownDifferences().find(row.path);
    if (known != KnownDifferences().end()) {
      INFO("manifest " << expected << ", ours differs: " << known->second.why);
      expected = known->second.ours;
    }
    CHECK(o.records == expected);
    if (!ErrorsExpected(row)) {
      std::string errors;
      auto tolerated = ToleratedErrors().find(row.path);
      for (int e = 0; e < kDecodeErrorCount; ++e) {
        if (tolerated != ToleratedErrors().end()) {
          auto t = tolerated->second.find(static_cast<DecodeError>(e));
          if (t != tolerated->second.end() && t->second == o.total.errors[e]) {
            o.total.errors[e] = 0;
          }
        }
        if (o.total.errors[e] != 0) {
          errors += std::string(DecodeErrorName(static_cast<DecodeError>(e))) +
                    "=" + std::to_string(o.total.errors[e]) + " ";
        }
      }
      INFO("errors: " << errors);
      CHECK(o.total.total_errors() == 0);
    }
  }
  CHECK(files >= 70);
}

}  // namespace
}  // namespace flowacct
