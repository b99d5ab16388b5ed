// Corpus smoke test: every NetFlow v5 and sFlow capture in the shared
// corpus (and the malformed ones) decoded through Decoder, counts compared
// with /work/shared/corpus/manifest.tsv (tshark 4.0 / independent walker).
//
// Conventions (corpus MANIFEST.md): NetFlow v5 `records` is the header
// count, or `independent-count=N` when the header lies; sFlow `records` is
// the number of samples (flow + counter + other samples).

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
  uint64_t packets = 0;
  uint64_t records = 0;
  std::string features;
};

std::vector<ManifestRow> ReadManifest() {
  std::vector<ManifestRow> rows;
  std::ifstream in(std::string(FLOWACCT_CORPUS_DIR) + "/manifest.tsv");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() < 4 || cols[0] == "path") continue;
    ManifestRow r;
    r.path = cols[0];
    r.protocol = cols[1];
    // Mixed captures hold "cflow:N;bgp:M": not ours, left at 0.
    auto number = [](const std::string& v) -> uint64_t {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        return 0;
      return std::stoull(v);
    };
    r.packets = number(cols[2]);
    r.records = number(cols[3]);
    if (cols.size() > 4) r.features = cols[4];
    rows.push_back(r);
  }
  return rows;
}

// Expected record count: independent-count=N wins over tshark's count.
uint64_t Expected(const ManifestRow& row) {
  const std::string key = "independent-count=";
  const size_t at = row.features.find(key);
  if (at == std::string::npos) return row.records;
  return std::stoull(row.features.substr(at + key.size()));
}

struct Totals {
  uint64_t datagrams = 0;
  uint64_t v5_datagrams = 0;
  uint64_t sflow_datagrams = 0;
  uint64_t v5_records = 0;
  uint64_t sflow_flow_records = 0;
  uint64_t sflow_counter_records = 0;
  uint64_t sflow_unknown_samples = 0;
  uint64_t errors = 0;
  std::map<DecodeError, uint64_t> by_error;
};

Totals DecodeCapture(const std::string& path) {
  Totals t;
  auto reader = PcapReader::Open(path, PcapReaderOptions{});
  REQUIRE(reader.ok());
  auto decoder = Decoder::Create(DecoderOptions{}, nullptr);
  REQUIRE(decoder.ok());
  RecordBatch batch;
  PcapReader::Packet p;
  for (int guard = 0; guard < 1'000'000 && (*reader)->Next(&p); ++guard) {
    batch.Clear();
    const DecodeSummary s = (*decoder)->Decode(p.datagram, &batch);
    ++t.datagrams;
    if (s.protocol == ExportProtocol::kNetflowV5) {
      ++t.v5_datagrams;
      t.v5_records += s.records;
    } else if (s.protocol == ExportProtocol::kSflowV5) {
      ++t.sflow_datagrams;
      t.sflow_flow_records += s.records;
      t.sflow_counter_records += s.counter_records;
    }
  }
  const ExporterStats total = (*decoder)->stats().Total();
  t.sflow_unknown_samples = total.error(DecodeError::kSflowUnknownSample);
  for (int e = 0; e < kDecodeErrorCount; ++e) {
    if (total.errors[e] != 0) {
      t.by_error[static_cast<DecodeError>(e)] = total.errors[e];
    }
  }
  t.errors = total.total_errors();
  return t;
}

std::string ErrorList(const Totals& t) {
  std::string s;
  for (const auto& [e, n] : t.by_error) {
    s += std::string(DecodeErrorName(e)) + "=" + std::to_string(n) + " ";
  }
  return s;
}

uint64_t Err(const Totals& t, DecodeError e) {
  auto it = t.by_error.find(e);
  return it == t.by_error.end() ? 0 : it->second;
}

bool IsV5(const ManifestRow& r) { return r.protocol == "netflow5"; }
bool IsSflow(const ManifestRow& r) { return r.protocol == "sflow"; }

TEST_CASE("corpus: NetFlow v5 captures decode to the manifest counts") {
  int files = 0;
  for (const ManifestRow& row : ReadManifest()) {
    if (!IsV5(row)) continue;
    ++files;
    INFO(row.path);
    const Totals t =
        DecodeCapture(std::string(FLOWACCT_CORPUS_DIR) + "/" + row.path);
    INFO("errors: " << ErrorList(t));
    CHECK(t.v5_datagrams == row.packets);
    CHECK(t.v5_records == Expected(row));
    if (row.path.find("malformed/") == 0) {
      // N5-2: count beyond the records present, counted once per datagram.
      CHECK(Err(t, DecodeError::kV5CountMismatch) == t.v5_datagrams);
    } else {
      CHECK(Err(t, DecodeError::kV5CountMismatch) == 0);
      CHECK(Err(t, DecodeError::kShortDatagram) == 0);
    }
  }
  CHECK(files == 10);
}

TEST_CASE("corpus: sFlow captures decode to the manifest sample counts") {
  int files = 0;
  for (const ManifestRow& row : ReadManifest()) {
    if (!IsSflow(row)) continue;
    ++files;
    INFO(row.path);
    const Totals t =
        DecodeCapture(std::string(FLOWACCT_CORPUS_DIR) + "/" + row.path);
    INFO("errors: " << ErrorList(t) << " flow=" << t.sflow_flow_records
                    << " counter=" << t.sflow_counter_records << " unknown="
                    << t.sflow_unknown_samples << " v5=" << t.v5_datagrams);
    const uint64_t samples = t.sflow_flow_records + t.sflow_counter_records +
                             t.sflow_unknown_samples;
    CHECK(samples == Expected(row));
    // The multiple-counter capture carries 5 NetFlow v5 datagrams sent to
    // the sFlow port; they decode as v5.
    CHECK(t.sflow_datagrams + t.v5_datagrams == row.packets);
    if (row.path.find("multiple-counter") != std::string::npos) {
      CHECK(t.v5_datagrams == 5);
    } else {
      CHECK(t.v5_datagrams == 0);
    }
    // Nothing in the real captures is structurally broken.
    CHECK(Err(t, DecodeError::kSflowSampleOverrun) == 0);
    CHECK(Err(t, DecodeError::kSflowRecordOverrun) == 0);
    CHECK(Err(t, DecodeError::kSflowMisaligned) == 0);
  }
  CHECK(files == 20);
}

TEST_CASE("corpus: sFlow captures, selected field values") {
  auto first = [](const std::string& rel, RecordBatch* batch) {
    auto reader = PcapReader::Open(std::string(FLOWACCT_CORPUS_DIR) + "/" + rel,
                                   PcapReaderOptions{});
    REQUIRE(reader.ok());
    auto decoder = Decoder::Create(DecoderOptions{}, nullptr);
    REQUIRE(decoder.ok());
    PcapReader::Packet p;
    for (int i = 0; i < 100 && (*reader)->Next(&p); ++i) {
      (*decoder)->Decode(p.datagram, batch);
    }
  };
  SECTION("VXLAN") {
    RecordBatch b;
    first("sflow/akvorado-sflow-encap-vxlan.pcap", &b);
    REQUIRE(b.size() == 1);
    CHECK(b.records()[0].has(FlowField::kVxlanVni));
    CHECK(b.records()[0].dst_port == 4789);
  }
  SECTION("QinQ") {
    RecordBatch b;
    first("sflow/akvorado-sflow-qinq.pcap", &b);
    REQUIRE(b.size() == 1);
    CHECK(b.records()[0].has(FlowField::kInVlan));
    CHECK(b.records()[0].has(FlowField::kInCvlan));
  }
  SECTION("discarded output interface") {
    RecordBatch b;
    first("sflow/akvorado-sflow-discard-interface.pcap", &b);
    REQUIRE(b.size() == 1);
    CHECK(b.records()[0].out_iface_format == 1);
  }
  SECTION("multiple output interfaces") {
    RecordBatch b;
    first("sflow/akvorado-sflow-multiple-interfaces.pcap", &b);
    REQUIRE(b.size() == 1);
    CHECK(b.records()[0].out_iface_format == 2);
  }
  SECTION("extended gateway") {
    RecordBatch b;
    first("sflow/akvorado-sflow-1140.pcap", &b);
    REQUIRE(b.size() == 5);
    bool any_path = false;
    for (const FlowRecord& r : b.records())
      any_path |= r.has(FlowField::kAsPath);
    CHECK(any_path);
  }
}

}  // namespace
}  // namespace flowacct
