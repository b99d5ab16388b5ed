// NetFlow v5 and sFlow v5 decoding throughput: records/s for full v5
// datagrams (30 records) and sFlow datagrams of raw-header flow samples
// with extended switch/router records. The batch is reused (cleared per
// iteration), as in the pipeline, so steady state allocates nothing.

#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "flowacct/decode/decoder.h"

#include "tests/support/bytes_builder.h"

namespace flowacct {
namespace {

using testing::BytesBuilder;

std::vector<uint8_t> V5Datagram(uint32_t sequence) {
  BytesBuilder b;
  b.U16(5).U16(30).U32(3'600'000).U32(1'700'000'000).U32(0).U32(sequence);
  b.U8(0).U8(1).U16(0x4000 | 100);
  for (uint32_t i = 0; i < 30; ++i) {
    b.U32(0x0a000000 + i).U32(0xc6336400 + i).U32(0x0a0000fe);
    b.U16(1 + i % 4).U16(5).U32(10 + i).U32(1500 * (10 + i));
    b.U32(3'500'000).U32(3'590'000).U16(40000 + i).U16(443);
    b.U8(0).U8(0x18).U8(6).U8(0).U16(64500).U16(65001);
    b.U8(24).U8(16).U16(0);
  }
  return b.Take();
}

// One flow sample: raw Ethernet/802.1Q/IPv4/TCP header (128 bytes sampled)
// plus extended switch and extended router.
void AppendFlowSample(BytesBuilder& b, uint32_t seq) {
  BytesBuilder header;
  header.Bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}).U16(0x8100);
  header.U16(100).U16(0x0800);
  header.U8(0x45).U8(0).U16(1500).U32(0).U8(64).U8(6).U16(0);
  header.U32(0x0a000001 + seq % 256).U32(0x0a000002);
  header.U16(40000).U16(443).U32(1).U32(0).U8(0x50).U8(0x18).U16(0).U32(0);
  while (header.size() < 128) header.U8(0);

  BytesBuilder s;
  s.U32(seq).U32(3).U32(1024).U32(seq * 1024).U32(0).U32(3).U32(9);
  s.U32(3);  // records
  s.U32(1).U32(16 + 128).U32(1).U32(1518).U32(4).U32(128);
  s.Bytes(header.bytes());
  s.U32(1001).U32(16).U32(100).U32(0).U32(200).U32(0);
  s.U32(1002).U32(16).U32(1).U32(0x0a0000fe).U32(24).U32(16);
  b.U32(1).U32(s.size()).Bytes(s.bytes());
}

std::vector<uint8_t> SflowDatagram(uint32_t sequence, int samples) {
  BytesBuilder b;
  b.U32(5).U32(1).Ip4(192, 0, 2, 1).U32(0).U32(sequence).U32(1000);
  b.U32(samples);
  for (int i = 0; i < samples; ++i) {
    AppendFlowSample(b, sequence * samples + i);
  }
  return b.Take();
}

void BM_DecodeNetflowV5(benchmark::State& state) {
  auto decoder = std::move(*Decoder::Create(DecoderOptions{}, nullptr));
  const std::vector<uint8_t> d = V5Datagram(1000);
  const Endpoint from{IpAddress::V4(0xc0000201), 2055};
  RecordBatch batch(1024);
  int64_t records = 0;
  for (auto _ : state) {
    batch.Clear();
    const DecodeSummary s = decoder->Decode(Datagram{d, from, 1}, &batch);
    records += static_cast<int64_t>(s.records);
    benchmark::DoNotOptimize(batch.records().data());
  }
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(records),
                                                   benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(d.size()));
}
BENCHMARK(BM_DecodeNetflowV5);

void BM_DecodeSflowRawHeader(benchmark::State& state) {
  auto decoder = std::move(*Decoder::Create(DecoderOptions{}, nullptr));
  const int samples = static_cast<int>(state.range(0));
  const std::vector<uint8_t> d = SflowDatagram(1, samples);
  const Endpoint from{IpAddress::V4(0xc0000201), 6343};
  RecordBatch batch(1024);
  int64_t records = 0;
  for (auto _ : state) {
    batch.Clear();
    const DecodeSummary s = decoder->Decode(Datagram{d, from, 1}, &batch);
    records += static_cast<int64_t>(s.records);
    benchmark::DoNotOptimize(batch.records().data());
  }
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(records),
                                                   benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(d.size()));
}
BENCHMARK(BM_DecodeSflowRawHeader)->Arg(1)->Arg(7);

}  // namespace
}  // namespace flowacct
