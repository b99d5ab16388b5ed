// NetFlow v5 decoder: field mapping, times, sampling, sequence tracking and
// the hostile inputs N5-1..N5-6 of hostile-inputs.md §1.2.

#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/decode/decoder.h"

#include "tests/support/netflow_v5_builder.h"

namespace flowacct {
namespace {

using testing::NetflowV5Builder;
using testing::V5Record;

constexpr int64_t kArrival = int64_t{1'700'000'005} * 1'000'000'000;
const Endpoint kExporter{IpAddress::V4(0xc0000201), 40000};

struct Harness {
  explicit Harness(DecoderOptions opts = {}) {
    auto d = Decoder::Create(opts, nullptr);
    REQUIRE(d.ok());
    decoder = std::move(*d);
  }
  DecodeSummary Decode(const std::vector<uint8_t>& bytes,
                       Endpoint from = kExporter) {
    return decoder->Decode(Datagram{bytes, from, kArrival}, &batch);
  }
  const ExporterStats& stats() {
    return decoder->stats().exporters.at(kExporter.address);
  }
  uint64_t error(DecodeError e) { return stats().error(e); }

  std::unique_ptr<Decoder> decoder;
  RecordBatch batch;
};

V5Record SampleRecord() {
  V5Record r;
  r.src = 0x0a000001;
  r.dst = 0xc6336401;
  r.nexthop = 0x0a0000fe;
  r.input = 3;
  r.output = 7;
  r.packets = 12;
  r.octets = 9000;
  r.first = 3'500'000;
  r.last = 3'590'000;
  r.src_port = 51234;
  r.dst_port = 443;
  r.tcp_flags = 0x1b;
  r.proto = 6;
  r.tos = 0x20;
  r.src_as = 64500;
  r.dst_as = 65001;
  r.src_mask = 24;
  r.dst_mask = 16;
  return r;
}

TEST_CASE("v5: every record field is mapped") {
  Harness h;
  NetflowV5Builder b;
  b.header.sys_uptime_ms = 3'600'000;
  b.header.unix_secs = 1'700'000'000;
  b.header.unix_nsecs = 250'000'000;
  b.header.flow_sequence = 4242;
  b.header.engine_type = 1;
  b.header.engine_id = 2;
  b.AddRecord(SampleRecord());
  const DecodeSummary s = h.Decode(b.Build());
  CHECK(s.protocol == ExportProtocol::kNetflowV5);
  REQUIRE(s.records == 1);
  CHECK(s.errors == 0);
  const FlowRecord& r = h.batch.records()[0];
  CHECK(r.protocol == ExportProtocol::kNetflowV5);
  CHECK(r.exporter == kExporter.address);
  CHECK(r.exporter_port == 40000);
  CHECK(r.src_host.ToString() == "10.0.0.1");
  CHECK(r.dst_host.ToString() == "198.51.100.1");
  CHECK(r.ip_next_hop.ToString() == "10.0.0.254");
  CHECK(r.has(FlowField::kIpNextHop));
  CHECK(r.ip_version == 4);
  CHECK(r.in_iface == 3);
  CHECK(r.out_iface == 7);
  CHECK(r.packets == 12);
  CHECK(r.bytes == 9000);
  CHECK(r.flows == 1);
  CHECK(r.src_port == 51234);
  CHECK(r.dst_port == 443);
  CHECK(r.tcp_flags == 0x1b);
  CHECK(r.proto == 6);
  CHECK(r.tos == 0x20);
  CHECK(r.src_as == 64500);
  CHECK(r.dst_as == 65001);
  CHECK(r.src_mask == 24);
  CHECK(r.dst_mask == 16);
  CHECK(r.engine_type == 1);
  CHECK(r.engine_id == 2);
  CHECK(r.observation_domain == 0x0102);
  CHECK(r.export_seqno == 4242);
  CHECK_FALSE(r.has(FlowField::kIcmpType));
  // Times: export = 1.7e9 s + 0.25 s; First is 100 s before sysUptime.
  const int64_t export_ns =
      int64_t{1'700'000'000} * 1'000'000'000 + 250'000'000;
  CHECK(r.timestamp_export == export_ns);
  CHECK(r.timestamp_start == export_ns - int64_t{100'000} * 1'000'000);
  CHECK(r.timestamp_end == export_ns - int64_t{10'000} * 1'000'000);
  CHECK(r.timestamp_arrival == kArrival);
  CHECK(h.stats().records == 1);
}

TEST_CASE("v5: ICMP type and code come from dstport") {
  Harness h;
  NetflowV5Builder b;
  V5Record r = SampleRecord();
  r.proto = 1;
  r.src_port = 0;
  r.dst_port = 0x0303;  // destination unreachable / port unreachable
  b.AddRecord(r);
  h.Decode(b.Build());
  REQUIRE(h.batch.size() == 1);
  CHECK(h.batch.records()[0].icmp_type == 3);
  CHECK(h.batch.records()[0].icmp_code == 3);
  CHECK(h.batch.records()[0].dst_port == 0x0303);
}

TEST_CASE("v5: sampling interval from the header") {
  SECTION("mode bits are masked off") {
    Harness h;
    NetflowV5Builder b;
    b.header.sampling = (1u << 14) | 100;  // deterministic, 1:100
    b.AddRecord(SampleRecord());
    h.Decode(b.Build());
    CHECK(h.batch.records()[0].sampling_rate == 100);
    CHECK(h.batch.records()[0].has(FlowField::kSamplingRate));
  }
  SECTION("Q15: Juniper 16-bit interval option") {
    DecoderOptions opts;
    opts.v5_sampling_16bit_interval = true;
    Harness h(opts);
    NetflowV5Builder b;
    b.header.sampling = 50000;  // 0xC350: mode bits would say 3
    b.AddRecord(SampleRecord());
    h.Decode(b.Build());
    CHECK(h.batch.records()[0].sampling_rate == 50000);
  }
  SECTION("Q15 without the option reads 14 bits") {
    Harness h;
    NetflowV5Builder b;
    b.header.sampling = 50000;
    b.AddRecord(SampleRecord());
    h.Decode(b.Build());
    CHECK(h.batch.records()[0].sampling_rate == (50000 & 0x3FFF));
  }
}

TEST_CASE("N5-1: datagram shorter than the header is dropped") {
  Harness h;
  NetflowV5Builder b;
  std::vector<uint8_t> d = b.Build();
  d.resize(20);
  const DecodeSummary s = h.Decode(d);
  CHECK(s.records == 0);
  CHECK(h.error(DecodeError::kShortDatagram) == 1);
}

TEST_CASE("N5-2: count beyond the records present") {
  Harness h;
  NetflowV5Builder b;
  for (int i = 0; i < 30; ++i) b.AddRecord(SampleRecord());
  b.header.count = 55582;  // as in malformed/logstash-netflow5-test-invalid01
  const DecodeSummary s = h.Decode(b.Build());
  CHECK(s.records == 30);
  CHECK(h.error(DecodeError::kV5CountMismatch) == 1);
  CHECK(s.errors == 1);
}

TEST_CASE("N5-2: count above 30 with all records present") {
  Harness h;
  NetflowV5Builder b;
  for (int i = 0; i < 31; ++i) b.AddRecord(SampleRecord());
  const DecodeSummary s = h.Decode(b.Build());
  CHECK(s.records == 31);
  CHECK(h.error(DecodeError::kV5CountMismatch) == 1);
}

TEST_CASE("N5-2: partial trailing record and extra bytes") {
  SECTION("a cut record is not decoded") {
    Harness h;
    NetflowV5Builder b;
    b.AddRecord(SampleRecord()).AddRecord(SampleRecord());
    std::vector<uint8_t> d = b.Build();
    d.resize(d.size() - 10);
    const DecodeSummary s = h.Decode(d);
    CHECK(s.records == 1);
    CHECK(h.error(DecodeError::kV5CountMismatch) == 1);
  }
  SECTION("trailing bytes after count records") {
    Harness h;
    NetflowV5Builder b;
    b.AddRecord(SampleRecord());
    const DecodeSummary s = h.Decode(b.Build(/*extra=*/7));
    CHECK(s.records == 1);
    CHECK(h.error(DecodeError::kV5CountMismatch) == 1);
  }
  SECTION("count 0 with a record present decodes nothing") {
    Harness h;
    NetflowV5Builder b;
    b.AddRecord(SampleRecord());
    b.header.count = 0;
    CHECK(h.Decode(b.Build()).records == 0);
    CHECK(h.error(DecodeError::kV5CountMismatch) == 1);
  }
  SECTION("an exact datagram counts nothing") {
    Harness h;
    NetflowV5Builder b;
    for (int i = 0; i < 30; ++i) b.AddRecord(SampleRecord());
    CHECK(h.Decode(b.Build()).errors == 0);
  }
}

TEST_CASE("N5-3: other versions are dispatched or dropped") {
  Harness h;
  NetflowV5Builder b;
  b.header.version = 7;
  b.AddRecord(SampleRecord());
  const DecodeSummary s = h.Decode(b.Build());
  CHECK(s.records == 0);
  CHECK(h.error(DecodeError::kUnknownVersion) == 1);
}

TEST_CASE("N5-4: sampling interval 0 is unknown, never divided by") {
  Harness h;
  NetflowV5Builder b;
  b.header.sampling = 0x8000;  // random mode, interval 0
  b.AddRecord(SampleRecord());
  const DecodeSummary s = h.Decode(b.Build());
  REQUIRE(s.records == 1);
  CHECK(s.errors == 0);
  CHECK(h.batch.records()[0].sampling_rate == 0);
  CHECK_FALSE(h.batch.records()[0].has(FlowField::kSamplingRate));
}

TEST_CASE("N5-5: sysUptime wrap, Last after sysUptime, garbage times") {
  const int64_t export_ns = int64_t{1'700'000'000} * 1'000'000'000;
  SECTION("First before the 49.7-day wrap, sysUptime after it") {
    Harness h;
    NetflowV5Builder b;
    b.header.sys_uptime_ms = 5'000;
    V5Record r = SampleRecord();
    r.first = 0xFFFFFFFFu - 9'999;  // 15 s before export, across the wrap
    r.last = 1'000;                 // 4 s before export
    b.AddRecord(r);
    const DecodeSummary s = h.Decode(b.Build());
    CHECK(s.errors == 0);
    const FlowRecord& f = h.batch.records()[0];
    CHECK(f.timestamp_start == export_ns - int64_t{15'000} * 1'000'000);
    CHECK(f.timestamp_end == export_ns - int64_t{4'000} * 1'000'000);
  }
  SECTION("Q4 CSCei12353: Last 120 s after sysUptime is kept") {
    Harness h;
    NetflowV5Builder b;
    b.header.sys_uptime_ms = 1'000'000;
    V5Record r = SampleRecord();
    r.first = 990'000;
    r.last = 1'120'000;
    b.AddRecord(r);
    const DecodeSummary s = h.Decode(b.Build());
    CHECK(s.errors == 0);
    CHECK(h.batch.records()[0].timestamp_end ==
          export_ns + int64_t{120'000} * 1'000'000);
  }
  SECTION("a time far after sysUptime is clamped and counted") {
    Harness h;
    NetflowV5Builder b;
    b.header.sys_uptime_ms = 1'000'000;
    V5Record r = SampleRecord();
    r.first = 900'000;
    r.last = 500'000'000;  // 5.8 days in the future
    b.AddRecord(r);
    h.Decode(b.Build());
    CHECK(h.error(DecodeError::kTimeAnomaly) == 1);
    const FlowRecord& f = h.batch.records()[0];
    CHECK(f.timestamp_end == export_ns);
    CHECK(f.timestamp_start == export_ns - int64_t{100'000} * 1'000'000);
  }
  SECTION("Last before First is clamped and counted") {
    Harness h;
    NetflowV5Builder b;
    V5Record r = SampleRecord();
    r.first = 3'590'000;
    r.last = 3'500'000;
    b.AddRecord(r);
    h.Decode(b.Build());
    CHECK(h.error(DecodeError::kTimeAnomaly) == 1);
    const FlowRecord& f = h.batch.records()[0];
    CHECK(f.timestamp_start == f.timestamp_end);
  }
  SECTION("unix_nsecs >= 1e9 is clamped and counted once") {
    Harness h;
    NetflowV5Builder b;
    b.header.unix_nsecs = 2'000'000'000;
    b.AddRecord(SampleRecord()).AddRecord(SampleRecord());
    h.Decode(b.Build());
    CHECK(h.error(DecodeError::kTimeAnomaly) == 1);
    CHECK(h.batch.records()[0].timestamp_export == export_ns + 999'999'999);
  }
}

TEST_CASE("N5-6: flow_sequence counts flows; backwards is a reset") {
  Harness h;
  auto send = [&](uint32_t seq, int n, uint8_t engine_id = 0) {
    NetflowV5Builder b;
    b.header.flow_sequence = seq;
    b.header.engine_id = engine_id;
    for (int i = 0; i < n; ++i) b.AddRecord(SampleRecord());
    h.Decode(b.Build());
  };
  send(1000, 30);
  send(1030, 30);  // in order
  CHECK(h.stats().sequence.lost == 0);
  send(1090, 10);  // 30 flows missing
  CHECK(h.stats().sequence.lost == 30);
  // A second engine has its own sequence.
  send(5, 3, /*engine_id=*/1);
  send(8, 3, /*engine_id=*/1);
  CHECK(h.stats().sequence.lost == 30);
  // Exporter restart: far backwards is a reset, not loss.
  send(0, 5);
  CHECK(h.stats().sequence.resets == 1);
  CHECK(h.stats().sequence.lost == 30);
  // Jump by 2^31: reset too.
  send(5u + (1u << 31), 5);
  CHECK(h.stats().sequence.resets == 2);
  CHECK(h.stats().sequence.lost == 30);
}

TEST_CASE("v5: exporters are kept apart") {
  Harness h;
  NetflowV5Builder b;
  b.AddRecord(SampleRecord());
  const Endpoint other{IpAddress::V4(0xc0000202), 2055};
  h.Decode(b.Build());
  h.Decode(b.Build(), other);
  CHECK(h.decoder->stats().exporters.size() == 2);
  CHECK(h.batch.records()[1].exporter == other.address);
}

}  // namespace
}  // namespace flowacct
