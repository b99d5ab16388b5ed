// v9/IPFIX data record throughput: DecodeDataRecord on a typical 18-field
// template (IPv4 5-tuple, tos, tcp flags, interfaces, ASes, masks, next hop,
// bytes, packets, first/last switched), whole datagrams of 25 such records
// through flowacct::Decoder with the template already learnt (also with a
// variable-length interfaceName added, the general decode path), and
// TemplateCache::Find. The batch is reused (cleared), as in the pipeline.

#include <cstdint>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "flowacct/decode/decoder.h"
#include "flowacct/model/record_batch.h"
#include "flowacct/templates/template_cache.h"

#include "libflowacct/decode/field_program.h"

#include "tests/support/bytes_builder.h"

namespace flowacct {
namespace {

using testing::BytesBuilder;

constexpr int kRecordsPerDatagram = 25;
constexpr uint16_t kTemplateId = 260;

// (IE, length) of the typical template.
constexpr uint16_t kFields[][2] = {{8, 4},  {12, 4}, {7, 2},  {11, 2}, {4, 1},
                                   {5, 1},  {6, 1},  {10, 4}, {14, 4}, {16, 4},
                                   {17, 4}, {9, 1},  {13, 1}, {15, 4}, {1, 4},
                                   {2, 4},  {22, 4}, {21, 4}};

std::vector<TemplateField> TypicalFields() {
  std::vector<TemplateField> fields;
  for (const auto& f : kFields) {
    TemplateField tf;
    tf.element.id = f[0];
    tf.length = f[1];
    fields.push_back(tf);
  }
  return fields;
}

void AppendRecord(BytesBuilder* b, uint32_t i) {
  b->Ip4(10, 0, uint8_t(i >> 8), uint8_t(i)).Ip4(192, 0, 2, uint8_t(i));
  b->U16(1024 + i).U16(443).U8(6).U8(0).U8(0x18).U32(3).U32(4);
  b->U32(64500).U32(64501).U8(24).U8(24).Ip4(10, 0, 0, 254);
  b->U32(1500 * (i + 1)).U32(i + 1).U32(90'000 + i).U32(99'000 + i);
}

void AppendTemplateRecord(BytesBuilder* b) {
  b->U16(kTemplateId).U16(std::size(kFields));
  for (const auto& f : kFields) b->U16(f[0]).U16(f[1]);
}

// The same template plus interfaceName (IE 82) as a variable-length field
// (RFC 7011 §7), which makes every record take the general per-field path.
void AppendVarLenTemplateRecord(BytesBuilder* b) {
  b->U16(kTemplateId).U16(std::size(kFields) + 1);
  for (const auto& f : kFields) b->U16(f[0]).U16(f[1]);
  b->U16(82).U16(65535);
}

void AppendVarLenRecord(BytesBuilder* b, uint32_t i) {
  AppendRecord(b, i);
  b->U8(8).Str("ge-0/0/1");
}

// A v9 datagram (RFC 3954 §5): header, optional template flowset, data.
std::vector<uint8_t> V9Datagram(bool with_template) {
  BytesBuilder b;
  b.U16(9).U16(kRecordsPerDatagram + (with_template ? 1 : 0));
  b.U32(100'000).U32(1'700'000'000).U32(1).U32(0);
  if (with_template) {
    const size_t at = b.Mark();
    b.U16(0).U16(0);
    AppendTemplateRecord(&b);
    b.PatchU16(at + 2, b.size() - at);
  }
  const size_t at = b.Mark();
  b.U16(kTemplateId).U16(0);
  for (int i = 0; i < kRecordsPerDatagram; ++i) AppendRecord(&b, i);
  while ((b.size() - at) % 4) b.U8(0);
  b.PatchU16(at + 2, b.size() - at);
  return b.Take();
}

// An IPFIX message (RFC 7011 §3): header, optional template set, data.
std::vector<uint8_t> IpfixMessage(bool with_template, bool var_len = false) {
  BytesBuilder b;
  b.U16(10).U16(0).U32(1'700'000'000).U32(0).U32(0);
  if (with_template) {
    const size_t at = b.Mark();
    b.U16(2).U16(0);
    if (var_len) {
      AppendVarLenTemplateRecord(&b);
    } else {
      AppendTemplateRecord(&b);
    }
    b.PatchU16(at + 2, b.size() - at);
  }
  const size_t at = b.Mark();
  b.U16(kTemplateId).U16(0);
  for (int i = 0; i < kRecordsPerDatagram; ++i) {
    if (var_len) {
      AppendVarLenRecord(&b, i);
    } else {
      AppendRecord(&b, i);
    }
  }
  b.PatchU16(at + 2, b.size() - at);
  b.PatchU16(2, b.size());
  return b.Take();
}

void BM_DecodeDataRecord(benchmark::State& state) {
  auto t = Template::Create(ExportProtocol::kNetflowV9, kTemplateId,
                            Template::Kind::kData, 0, TypicalFields(), nullptr);
  if (!t.ok()) {
    state.SkipWithError("template rejected");
    return;
  }
  BytesBuilder b;
  for (int i = 0; i < kRecordsPerDatagram; ++i) AppendRecord(&b, i);
  const std::vector<uint8_t> bytes = b.Take();
  internal::RecordTimeBase time;
  time.protocol = ExportProtocol::kNetflowV9;
  time.export_time_ns = int64_t{1'700'000'000} * 1'000'000'000;
  time.sys_uptime_ms = 100'000;
  time.has_sys_uptime = true;
  RecordBatch batch(kRecordsPerDatagram);
  for (auto _ : state) {
    batch.Clear();
    internal::ByteReader set(bytes.data(), bytes.size());
    for (int i = 0; i < kRecordsPerDatagram; ++i) {
      FlowRecord* r = batch.AppendRecord();
      internal::RecordIssues issues;
      if (!internal::DecodeDataRecord(**t, time, &set, &batch, r, &issues)) {
        state.SkipWithError("record did not decode");
        return;
      }
    }
    benchmark::DoNotOptimize(batch.records().data());
  }
  state.SetItemsProcessed(state.iterations() * kRecordsPerDatagram);
}
BENCHMARK(BM_DecodeDataRecord);

void DecodeDatagrams(benchmark::State& state, bool ipfix,
                     bool var_len = false) {
  auto decoder = Decoder::Create(DecoderOptions{}, nullptr);
  if (!decoder.ok()) {
    state.SkipWithError("Decoder::Create failed");
    return;
  }
  const std::vector<uint8_t> learn =
      ipfix ? IpfixMessage(true, var_len) : V9Datagram(true);
  const std::vector<uint8_t> data =
      ipfix ? IpfixMessage(false, var_len) : V9Datagram(false);
  const Endpoint exporter{IpAddress::V4(0xC0000201), 2055};
  const int64_t now = int64_t{1'700'000'000} * 1'000'000'000;
  RecordBatch batch(64);
  (*decoder)->Decode(Datagram{learn, exporter, now}, &batch);
  batch.Clear();
  DecodeSummary s = (*decoder)->Decode(Datagram{data, exporter, now}, &batch);
  if (s.records != kRecordsPerDatagram) {
    state.SkipWithError("set walker did not decode the datagram");
    return;
  }
  for (auto _ : state) {
    batch.Clear();
    s = (*decoder)->Decode(Datagram{data, exporter, now}, &batch);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * kRecordsPerDatagram);
  state.SetBytesProcessed(state.iterations() * data.size());
}

void BM_DecodeV9Datagram(benchmark::State& state) {
  DecodeDatagrams(state, false);
}
BENCHMARK(BM_DecodeV9Datagram);

void BM_DecodeIpfixDatagram(benchmark::State& state) {
  DecodeDatagrams(state, true);
}
BENCHMARK(BM_DecodeIpfixDatagram);

void BM_DecodeIpfixVarLenDatagram(benchmark::State& state) {
  DecodeDatagrams(state, true, /*var_len=*/true);
}
BENCHMARK(BM_DecodeIpfixVarLenDatagram);

void BM_TemplateCacheFind(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  TemplateCache cache(TemplateCacheOptions{});
  auto t = Template::Create(ExportProtocol::kIpfix, kTemplateId,
                            Template::Kind::kData, 0, TypicalFields(), nullptr);
  std::vector<TemplateKey> keys;
  for (int i = 0; i < n; ++i) {
    TemplateKey k;
    k.protocol = ExportProtocol::kIpfix;
    k.exporter = Endpoint{IpAddress::V4(0x0A000000u + (i % 64)), 4739};
    k.domain = static_cast<uint32_t>(i / 64);
    k.template_id = static_cast<uint16_t>(256 + i);
    cache.Put(k, *t, 0);
    keys.push_back(k);
  }
  size_t i = 0;
  int64_t now = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.Find(keys[i], ++now));
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TemplateCacheFind)->Arg(16)->Arg(4096);

}  // namespace
}  // namespace flowacct
