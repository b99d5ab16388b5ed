// decode_capture: the smallest useful embedding of libflowacct.
//
// Reads a capture file, decodes every NetFlow/IPFIX/sFlow datagram in it and
// prints, per exporter, how many flow records it sent and the bytes they
// account for. Shows the three pieces an application composes: a
// PrimitiveRegistry (what can be decoded), a Decoder (state per exporter) and
// RecordBatches (recycled storage for records).
//
//   decode_capture ../shared/corpus/netflow9/logstash-nf9-cisco-asr9k.pcap

#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>

#include "flowacct/decode/decoder.h"
#include "flowacct/io/pcap_reader.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
    return 1;
  }
  auto registry = flowacct::PrimitiveRegistry::CreateWithBuiltins();
  auto decoder = flowacct::Decoder::Create(flowacct::DecoderOptions{},
                                           registry.get());
  if (!decoder.ok()) {
    std::fprintf(stderr, "%s\n", decoder.status().ToString().c_str());
    return 1;
  }
  auto reader = flowacct::PcapReader::Open(argv[1], {});
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
    return 2;
  }

  struct Totals {
    uint64_t records = 0;
    uint64_t bytes = 0;
  };
  std::map<std::string, Totals> per_exporter;
  flowacct::RecordBatch batch(1024);
  flowacct::PcapReader::Packet packet;
  while ((*reader)->Next(&packet)) {
    (*decoder)->Decode(packet.datagram, &batch);
    if (!batch.full()) continue;
    for (const flowacct::FlowRecord& r : batch.records()) {
      Totals& t = per_exporter[r.exporter.ToString()];
      ++t.records;
      t.bytes += r.bytes;
    }
    batch.Clear();
  }
  for (const flowacct::FlowRecord& r : batch.records()) {
    Totals& t = per_exporter[r.exporter.ToString()];
    ++t.records;
    t.bytes += r.bytes;
  }
  for (const auto& [exporter, t] : per_exporter) {
    std::printf("%-40s records=%" PRIu64 " bytes=%" PRIu64 "\n",
                exporter.c_str(), t.records, t.bytes);
  }
  const flowacct::ExporterStats total = (*decoder)->stats().Total();
  std::printf("datagrams=%" PRIu64 " errors=%" PRIu64 "\n", total.datagrams,
              total.total_errors());
  return (*reader)->status().ok() ? 0 : 2;
}
