// Aggregator and Snapshot: keys per primitive type, counters, time bins,
// cache-full handling, flush, merge, variable-length values, and no
// allocation per Add after warm-up.
//
// This binary counts operator new (for the steady-state test), so it
// replaces the global operator new/delete like tests/unit/steady_state.

#include "flowacct/aggregate/aggregator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/aggregate/snapshot.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/model/record_batch.h"

#include "tests/support/allocation_counter.h"

namespace flowacct {
namespace {

constexpr int64_t kSec = 1'000'000'000;
// 2024-05-15 12:34:56 UTC (a Wednesday).
constexpr int64_t kT0 = int64_t{1715776496} * kSec;

PrimitiveId Id(const PrimitiveRegistry& reg, const char* name) {
  const PrimitiveInfo* p = reg.Find(name);
  REQUIRE(p != nullptr);
  return p->id;
}

std::unique_ptr<Aggregator> Make(const PrimitiveRegistry& reg,
                                 std::vector<std::string> names,
                                 std::string history = "",
                                 size_t max_entries = 0,
                                 bool by_arrival = false) {
  AggregatorOptions o;
  o.view = "test";
  for (const auto& n : names) o.primitives.push_back(Id(reg, n.c_str()));
  if (!history.empty()) {
    auto h = HistorySpec::Parse(history);
    REQUIRE(h.ok());
    o.history = *h;
  }
  o.max_entries = max_entries;
  o.bin_by_arrival = by_arrival;
  auto agg = Aggregator::Create(&reg, o);
  REQUIRE(agg.ok());
  return std::move(agg).value();
}

FlowRecord* NewFlow(RecordBatch* batch, uint64_t bytes = 100,
                    uint64_t packets = 2) {
  FlowRecord* r = batch->AppendRecord();
  r->protocol = ExportProtocol::kIpfix;
  r->exporter = IpAddress::V4(0xC0000201);
  r->timestamp_arrival = kT0;
  r->bytes = bytes;
  r->packets = packets;
  r->fields.set(FlowField::kBytes);
  r->fields.set(FlowField::kPackets);
  return r;
}

std::string Fmt(const PrimitiveRegistry& reg, PrimitiveId id,
                const FlowRecord& r, const RecordBatch& b) {
  FormatOptions fo;
  fo.numeric_protocols = true;
  std::string out;
  ValueKind k = reg.FormatValue(id, r, b, fo, &out);
  return k == ValueKind::kAbsent ? "<absent>" : out;
}

// All rows as "v1|v2|...|bin" -> {packets, bytes, flows}.
using RowMap = std::map<std::string, std::array<uint64_t, 3>>;
RowMap Rows(const PrimitiveRegistry& reg, const Snapshot& s) {
  RowMap m;
  AggregateRow row;
  for (size_t i = 0; i < s.size(); ++i) {
    s.Get(i, &row);
    std::string k;
    // Keys spelled in registry order (primitives() keeps the config order).
    std::vector<PrimitiveId> ids = s.primitives();
    std::sort(ids.begin(), ids.end());
    for (PrimitiveId id : ids) {
      k += Fmt(reg, id, row.record, s.arena()) + "|";
    }
    k += std::to_string(row.stamp_inserted);
    auto [it, inserted] = m.emplace(
        k, std::array<uint64_t, 3>{row.record.packets, row.record.bytes,
                                   row.record.flows});
    REQUIRE(inserted);  // no duplicate keys in a snapshot
  }
  return m;
}

TEST_CASE("HistorySpec::Parse", "[aggregate]") {
  auto p = HistorySpec::Parse("5m");
  REQUIRE(p.ok());
  CHECK(p->unit == HistorySpec::Unit::kMinute);
  CHECK(p->count == 5);
  CHECK(p->seconds() == 300);
  CHECK(HistorySpec::Parse("1h")->seconds() == 3600);
  CHECK(HistorySpec::Parse("30s")->seconds() == 30);
  CHECK(HistorySpec::Parse("1d")->seconds() == 86400);
  CHECK(HistorySpec::Parse("2w")->seconds() == 14 * 86400);
  CHECK(HistorySpec::Parse("1M")->unit == HistorySpec::Unit::kMonth);
  CHECK(HistorySpec::Parse("1M")->seconds() == 0);
  for (const char* bad : {"", "m", "0m", "5x", "-1h", "5", "5mm", " 5m", "1.5h",
                          "99999999999m", "5H"}) {
    INFO(bad);
    CHECK(HistorySpec::Parse(bad).status().code() ==
          StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(HistorySpec{}.enabled());
}

TEST_CASE("Create rejects bad primitive sets", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto make = [&](std::vector<const char*> names) {
    AggregatorOptions o;
    for (auto n : names) o.primitives.push_back(Id(*reg, n));
    return Aggregator::Create(reg.get(), o).status().code();
  };
  CHECK(make({"src_host", "dst_host"}) == StatusCode::kOk);
  CHECK(make({"sum_host"}) == StatusCode::kOk);
  CHECK(make({"sum_host", "flows"}) == StatusCode::kOk);
  // A sum_* mode must be alone (counters aside).
  CHECK(make({"sum_host", "src_host"}) == StatusCode::kInvalidArgument);
  CHECK(make({"sum_port", "proto"}) == StatusCode::kInvalidArgument);
  CHECK(make({"sum_as", "timestamp_start"}) == StatusCode::kInvalidArgument);
  CHECK(make({"sum_host", "tcpflags"}) == StatusCode::kInvalidArgument);
  CHECK(make({"sum_host", "sum_port"}) == StatusCode::kInvalidArgument);
  CHECK(make({"sum_mac", "none"}) == StatusCode::kInvalidArgument);
  // Counters in `aggregate` are accepted (pmacct's `flows` asks for the
  // FLOWS column) but are no key: see the counters test.
  CHECK(make({"flows"}) == StatusCode::kOk);
  CHECK(make({"none", "src_host"}) == StatusCode::kInvalidArgument);
  CHECK(make({"reverse_bytes"}) == StatusCode::kUnimplemented);
  AggregatorOptions o;
  o.primitives = {60000};
  CHECK(Aggregator::Create(reg.get(), o).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(Aggregator::Create(nullptr, AggregatorOptions{}).status().code() ==
        StatusCode::kInvalidArgument);
}

// One case per primitive type: two records differing only in the primitive
// form two aggregates, equal ones one; the snapshot row prints the same
// value as the original record.
struct KeyCase {
  const char* primitive;
  void (*set)(FlowRecord*, RecordBatch*, int variant);
};

const KeyCase kKeyCases[] = {
    {"src_host",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->src_host = v ? IpAddress::Parse("2001:db8::1").value()
                       : IpAddress::V4(0x0A000001);
       r->fields.set(FlowField::kSrcHost);
     }},
    {"dst_net",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->dst_net = IpAddress::V4(0x0A000000 + (v << 8));
       r->fields.set(FlowField::kDstNet);
     }},
    {"src_mac",
     [](FlowRecord* r, RecordBatch*, int v) {
       uint8_t m[6] = {0, 1, 2, 3, 4, static_cast<uint8_t>(5 + v)};
       r->src_mac = MacAddress::FromBytes(m);
       r->fields.set(FlowField::kSrcMac);
     }},
    {"proto",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->proto = v ? 17 : 6;
       r->fields.set(FlowField::kProto);
     }},
    {"src_port",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->src_port = static_cast<uint16_t>(443 + v);
       r->fields.set(FlowField::kSrcPort);
     }},
    {"src_as",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->src_as = 4200000000u + v;
       r->fields.set(FlowField::kSrcAs);
     }},
    {"tag",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->tag = (uint64_t{1} << 40) + v;
       r->fields.set(FlowField::kTag);
     }},
    {"etype",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->etype = v ? 0x86dd : 0x800;
       r->fields.set(FlowField::kEtype);
     }},
    {"timestamp_start",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->timestamp_start = kT0 + v * 1000;
       r->fields.set(FlowField::kTimestampStart);
     }},
    {"mpls_vpn_rd",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->mpls_vpn_rd = {0, 0, 0xfd, 0xe8, 0, 0, 0, static_cast<uint8_t>(v)};
       r->fields.set(FlowField::kMplsVpnRd);
     }},
    {"vlan",
     [](FlowRecord* r, RecordBatch*, int v) {
       // variant 0: ingress 10; variant 1: no ingress, egress 20.
       if (v == 0) {
         r->in_vlan = 10;
         r->fields.set(FlowField::kInVlan);
       }
       r->out_vlan = 20;
       r->fields.set(FlowField::kOutVlan);
     }},
    {"mpls_label_top",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->mpls_labels[0] = (100u + v) << 4;
       r->mpls_labels[1] = (200u << 4) | 1;
       r->mpls_label_count = 2;
       r->fields.set(FlowField::kMplsLabels);
     }},
    {"mpls_label_bottom",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->mpls_labels[0] = 100u << 4;
       r->mpls_labels[1] = ((200u + v) << 4) | 1;
       r->mpls_label_count = 2;
       r->fields.set(FlowField::kMplsLabels);
     }},
    {"mpls_label_stack",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->mpls_labels[0] = 100u << 4;
       r->mpls_labels[1] = ((200u + v) << 4) | 1;
       r->mpls_label_count = 2;
       r->fields.set(FlowField::kMplsLabels);
     }},
    {"peer_src_ip", [](FlowRecord* r, RecordBatch*,
                       int v) { r->exporter = IpAddress::V4(0xC0000201 + v); }},
    {"export_proto_version",
     [](FlowRecord* r, RecordBatch*, int v) {
       r->protocol = v ? ExportProtocol::kNetflowV9 : ExportProtocol::kIpfix;
     }},
    {"timestamp_arrival", [](FlowRecord* r, RecordBatch*,
                             int v) { r->timestamp_arrival = kT0 + v * kSec; }},
    {"as_path",
     [](FlowRecord* r, RecordBatch* b, int v) {
       const uint8_t path[] = {0, 0, 0xfd, 0xe8,
                               0, 0, 0x0b, static_cast<uint8_t>(0xb8 + v)};
       r->as_path = b->StoreBytes(std::span<const uint8_t>(path));
       r->fields.set(FlowField::kAsPath);
     }},
    {"label",
     [](FlowRecord* r, RecordBatch* b, int v) {
       r->label = b->StoreBytes(std::string_view(v ? "blue" : "red"));
       r->fields.set(FlowField::kLabel);
     }},
    {"in_iface_name",
     [](FlowRecord* r, RecordBatch* b, int v) {
       r->in_iface_name =
           b->StoreBytes(std::string_view(v ? "xe-0/0/1" : "xe-0/0/0"));
       r->fields.set(FlowField::kInIfaceName);
     }},
    {"class",
     [](FlowRecord* r, RecordBatch* b, int v) {
       const uint8_t app[] = {3, 0, 0, static_cast<uint8_t>(80 + v)};
       r->application_id = b->StoreBytes(std::span<const uint8_t>(app));
       r->fields.set(FlowField::kApplicationId);
     }},
};

TEST_CASE("keys: equal values share an aggregate, different ones do not",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  for (const KeyCase& kc : kKeyCases) {
    INFO(kc.primitive);
    auto agg = Make(*reg, {kc.primitive});
    RecordBatch batch(16);
    // Two records of variant 0 (with noise in other fields), one of 1.
    FlowRecord* a = NewFlow(&batch, 100, 1);
    kc.set(a, &batch, 0);
    FlowRecord* a2 = NewFlow(&batch, 50, 2);
    kc.set(a2, &batch, 0);
    a2->dst_port = 9999;  // not a key primitive here
    a2->fields.set(FlowField::kDstPort);
    FlowRecord* b = NewFlow(&batch, 7, 3);
    kc.set(b, &batch, 1);
    for (const FlowRecord& r : batch.records()) REQUIRE(agg->Add(r, batch));
    REQUIRE(agg->size() == 2);
    const PrimitiveId id = Id(*reg, kc.primitive);
    const std::string va = Fmt(*reg, id, batch.records()[0], batch);
    const std::string vb = Fmt(*reg, id, batch.records()[2], batch);
    REQUIRE(va != vb);
    auto snap = agg->Flush(kT0, FlushReason::kRefresh);
    RowMap rows = Rows(*reg, *snap);
    REQUIRE(rows.size() == 2);
    CHECK(rows[va + "|0"] == std::array<uint64_t, 3>{3, 150, 2});
    CHECK(rows[vb + "|0"] == std::array<uint64_t, 3>{3, 7, 1});
  }
}

TEST_CASE("keys: a multi-primitive key and absent values", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"src_host", "dst_host", "src_port", "dst_port",
                         "proto", "in_vlan", "vlan"});
  RecordBatch batch(8);
  FlowRecord* r = NewFlow(&batch);
  r->src_host = IpAddress::V4(1);
  r->dst_host = IpAddress::V4(2);
  r->src_port = 1;
  r->dst_port = 2;
  r->proto = 6;
  for (FlowField f :
       {FlowField::kSrcHost, FlowField::kDstHost, FlowField::kSrcPort,
        FlowField::kDstPort, FlowField::kProto}) {
    r->fields.set(f);
  }
  r->out_vlan = 30;
  r->fields.set(FlowField::kOutVlan);
  // Same, but the port value without its field bit: counts as 0.
  FlowRecord* r2 = NewFlow(&batch);
  *r2 = *r;
  r2->fields.clear(FlowField::kDstPort);
  FlowRecord* r3 = NewFlow(&batch);
  *r3 = *r;
  r3->dst_port = 0;
  for (const FlowRecord& x : batch.records()) REQUIRE(agg->Add(x, batch));
  CHECK(agg->size() == 2);  // r2 and r3 share (dst_port absent == 0)
  auto snap = agg->Flush(kT0, FlushReason::kShutdown);
  CHECK(snap->reason() == FlushReason::kShutdown);
  CHECK(snap->view() == "test");
  CHECK_FALSE(snap->has_time_bins());
  RowMap rows = Rows(*reg, *snap);
  // Printed in registry order: in_vlan/vlan (L2) come before L3.
  // vlan falls back to out_vlan.
  CHECK(rows.count("30|0|0.0.0.1|0.0.0.2|1|2|6|0") == 1);
  CHECK(rows.count("30|0|0.0.0.1|0.0.0.2|1|0|6|0") == 1);
}

TEST_CASE("snapshot primitives keep the configured order", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto custom = reg->AddCustom(*PrimitiveRegistry::ParseCustomLine(
      "name=cust_a field_type=400 len=4 semantics=u_int"));
  REQUIRE(custom.ok());
  AggregatorOptions o;
  o.view = "order";
  // pmacct prints custom primitives in `aggregate` order: the sinks need it.
  o.primitives = {Id(*reg, "dst_port"), *custom, Id(*reg, "src_host"),
                  Id(*reg, "dst_port"), Id(*reg, "flows")};
  auto agg = std::move(Aggregator::Create(reg.get(), o)).value();
  auto snap = agg->Flush(kT0, FlushReason::kRefresh);
  REQUIRE(snap != nullptr);
  CHECK(snap->primitives() ==
        std::vector<PrimitiveId>{Id(*reg, "dst_port"), *custom,
                                 Id(*reg, "src_host"), Id(*reg, "flows")});
}

TEST_CASE("custom primitives survive into the snapshot", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto vlen = reg->AddCustom(*PrimitiveRegistry::ParseCustomLine(
      "name=app field_type=PEN:9:12235 len=vlen semantics=str"));
  auto fixed = reg->AddCustom(*PrimitiveRegistry::ParseCustomLine(
      "name=cust_u32 field_type=400 len=4 semantics=u_int"));
  REQUIRE(vlen.ok());
  REQUIRE(fixed.ok());
  AggregatorOptions o;
  o.view = "c";
  o.primitives = {*vlen, *fixed, Id(*reg, "src_port")};
  auto agg = std::move(Aggregator::Create(reg.get(), o)).value();
  RecordBatch batch(8);
  auto add = [&](const char* app, uint32_t u, bool with_app) {
    FlowRecord* r = NewFlow(&batch, 10, 1);
    if (with_app) {
      batch.AddCustom(r, *vlen,
                      std::span<const uint8_t>(
                          reinterpret_cast<const uint8_t*>(app), strlen(app)));
    }
    const uint8_t be[4] = {
        static_cast<uint8_t>(u >> 24), static_cast<uint8_t>(u >> 16),
        static_cast<uint8_t>(u >> 8), static_cast<uint8_t>(u)};
    batch.AddCustom(r, *fixed, be);
  };
  add("https", 7, true);
  add("https", 7, true);
  add("a-much-longer-application-name-than-a-key-slot", 7, true);
  add("", 7, false);
  for (const FlowRecord& x : batch.records()) REQUIRE(agg->Add(x, batch));
  auto snap = agg->Flush(kT0, FlushReason::kRefresh);
  // The aggregator is reused with other values: the snapshot must not
  // depend on its storage.
  batch.Clear();
  add("zzz", 9, true);
  REQUIRE(agg->Add(batch.records()[0], batch));
  RowMap rows = Rows(*reg, *snap);
  CHECK(rows.size() == 3);
  CHECK(rows["0|https|7|0"] == std::array<uint64_t, 3>{2, 20, 2});
  CHECK(rows.count("0|a-much-longer-application-name-than-a-key-slot|7|0") ==
        1);
  CHECK(rows.count("0|<absent>|7|0") == 1);
  // customs(row.record) works on the snapshot's arena.
  AggregateRow row;
  bool found = false;
  for (size_t i = 0; i < snap->size(); ++i) {
    snap->Get(i, &row);
    for (const CustomValue& cv : snap->arena().customs(row.record)) {
      if (cv.primitive == *vlen && snap->arena().bytes(cv.value) == "https") {
        found = true;
      }
    }
  }
  CHECK(found);
}

TEST_CASE("tcpflags are OR-ed per aggregate, not keyed (as nfacctd)",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"src_host", "tcpflags"});
  auto partial = Make(*reg, {"src_host", "tcpflags"});
  RecordBatch batch(8);
  FlowRecord* a = NewFlow(&batch, 100, 1);
  a->tcp_flags = 0x10;  // ACK
  a->fields.set(FlowField::kTcpFlags);
  FlowRecord* b = NewFlow(&batch, 200, 2);
  b->tcp_flags = 0x1b;  // FIN SYN PSH ACK
  b->fields.set(FlowField::kTcpFlags);
  REQUIRE(agg->Add(*a, batch));
  REQUIRE(partial->Add(*b, batch));
  CHECK(agg->size() == 1);
  std::vector<std::unique_ptr<Snapshot>> parts;
  parts.push_back(agg->Flush(kT0, FlushReason::kRefresh));
  parts.push_back(partial->Flush(kT0, FlushReason::kRefresh));
  auto merged = Snapshot::Merge(std::move(parts));
  REQUIRE(merged.ok());
  REQUIRE((*merged)->size() == 1);
  AggregateRow row;
  (*merged)->Get(0, &row);
  CHECK(row.record.has(FlowField::kTcpFlags));
  CHECK(row.record.tcp_flags == 0x1b);
  CHECK(row.record.bytes == 300);
}

TEST_CASE("counters: bytes, packets, flows; events; options ignored",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"none"});
  RecordBatch batch(8);
  NewFlow(&batch, 1000, 10);                // flows defaults to 1
  FlowRecord* f = NewFlow(&batch, 500, 5);  // flows from the record
  f->flows = 4;
  f->fields.set(FlowField::kFlows);
  FlowRecord* e = NewFlow(&batch, 0, 0);  // NAT event
  e->kind = RecordKind::kEvent;
  e->fields = FieldSet();
  FlowRecord* o = NewFlow(&batch, 99999, 9);  // options data: ignored
  o->kind = RecordKind::kOptions;
  for (const FlowRecord& x : batch.records()) REQUIRE(agg->Add(x, batch));
  REQUIRE(agg->size() == 1);
  auto snap = agg->Flush(kT0 + 5, FlushReason::kRefresh);
  REQUIRE(snap->size() == 1);
  AggregateRow row;
  snap->Get(0, &row);
  CHECK(row.record.bytes == 1500);
  CHECK(row.record.packets == 15);
  CHECK(row.record.flows == 6);
  CHECK(row.record.has(FlowField::kBytes));
  CHECK(row.record.has(FlowField::kPackets));
  CHECK(row.record.has(FlowField::kFlows));
  CHECK_FALSE(row.record.has(FlowField::kSrcHost));
  CHECK(row.stamp_inserted == 0);
  CHECK(row.stamp_updated == kT0 + 5);
  CHECK(snap->flush_time() == kT0 + 5);
}

int64_t At(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  sys_days day{year{y} / month{static_cast<unsigned>(mo)} /
               static_cast<unsigned>(d)};
  return (static_cast<int64_t>(day.time_since_epoch().count()) * 86400 +
          h * 3600 + mi * 60 + s) *
         kSec;
}

TEST_CASE("bins: BinStart for s/m/h/d/w/M", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  const int64_t t = At(2024, 5, 15, 12, 34, 56) + 123;  // Wednesday
  REQUIRE(t - 123 == kT0);
  struct Case {
    const char* history;
    int64_t at, want;
  } cases[] = {
      {"30s", t, At(2024, 5, 15, 12, 34, 30)},
      {"5m", t, At(2024, 5, 15, 12, 30)},
      // Bins are (start, end]: the boundary instant belongs to the bin
      // before, any later instant to the next (pmacct's uptime-relative
      // times, docs/pmacct-parity.md §4 and E9).
      {"5m", At(2024, 5, 15, 12, 35), At(2024, 5, 15, 12, 30)},
      {"5m", At(2024, 5, 15, 12, 35) + 1, At(2024, 5, 15, 12, 35)},
      {"5m", At(2024, 5, 15, 12, 35) + kSec - 1, At(2024, 5, 15, 12, 35)},
      {"5m", At(2024, 5, 15, 12, 35, 1), At(2024, 5, 15, 12, 35)},
      {"5m", At(2024, 5, 15, 12, 35) - 1, At(2024, 5, 15, 12, 30)},
      {"1h", t, At(2024, 5, 15, 12)},
      {"1h", At(2024, 5, 15, 13) - 1, At(2024, 5, 15, 12)},
      {"1d", t, At(2024, 5, 15)},
      {"1d", At(2024, 5, 16) - 1, At(2024, 5, 15)},
      {"1w", t, At(2024, 5, 13)},  // Monday
      {"1w", At(2024, 5, 13), At(2024, 5, 6)},
      {"1w", At(2024, 5, 13, 0, 0, 1), At(2024, 5, 13)},
      {"1w", At(2024, 5, 13) - 1, At(2024, 5, 6)},
      {"1w", At(2024, 5, 19, 23, 59, 59), At(2024, 5, 13)},
      {"1M", t, At(2024, 5, 1)},
      {"1M", At(2024, 3, 1) - 1, At(2024, 2, 1)},  // leap year February
      {"1M", At(2024, 12, 31, 23, 59, 59), At(2024, 12, 1)},
      {"1M", At(2025, 1, 1), At(2024, 12, 1)},
      {"1M", At(2025, 1, 1, 0, 0, 1), At(2025, 1, 1)},
      {"1d", At(2024, 5, 16), At(2024, 5, 15)},
      {"1d", At(2024, 5, 16, 0, 0, 1), At(2024, 5, 16)},
      {"3M", t, At(2024, 4, 1)},
      {"1M", At(1969, 12, 31, 23), At(1969, 12, 1)},  // before the epoch
      {"5m", -1, -300 * kSec},
  };
  for (const Case& c : cases) {
    INFO(c.history << " at " << c.at);
    auto agg = Make(*reg, {"none"}, c.history);
    CHECK(agg->BinStart(c.at) == c.want);
  }
  // No history: identity.
  auto plain = Make(*reg, {"none"});
  CHECK(plain->BinStart(t) == t);
  // history_origin shifts second/minute/hour/day bins (pmacct's start-time
  // alignment for lengths that do not divide the roundoff unit).
  AggregatorOptions o;
  o.primitives = {Id(*reg, "none")};
  o.history = *HistorySpec::Parse("7m");
  o.history_origin = At(2024, 5, 15, 12);
  auto shifted = std::move(Aggregator::Create(reg.get(), o)).value();
  CHECK(shifted->BinStart(t) == At(2024, 5, 15, 12, 28));
  CHECK(shifted->BinStart(At(2024, 5, 15, 11, 59)) == At(2024, 5, 15, 11, 53));
}

TEST_CASE("bins: rows are binned by start time, else end, else arrival",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  for (bool by_arrival : {false, true}) {
    INFO("by_arrival " << by_arrival);
    auto agg = Make(*reg, {"proto"}, "5m", 0, by_arrival);
    RecordBatch batch(8);
    FlowRecord* a = NewFlow(&batch);  // start 12:29:59, arrival 12:34:56
    a->timestamp_start = At(2024, 5, 15, 12, 29, 59);
    a->fields.set(FlowField::kTimestampStart);
    a->timestamp_end = At(2024, 5, 15, 12, 33);
    a->fields.set(FlowField::kTimestampEnd);
    FlowRecord* b = NewFlow(&batch);  // end only: 12:25:00 (-> 12:20 bin)
    b->timestamp_end = At(2024, 5, 15, 12, 25);
    b->fields.set(FlowField::kTimestampEnd);
    NewFlow(&batch);  // arrival only: 12:34:56
    for (const FlowRecord& x : batch.records()) REQUIRE(agg->Add(x, batch));
    auto snap = agg->Flush(kT0, FlushReason::kRefresh);
    CHECK(snap->has_time_bins());
    std::map<int64_t, uint64_t> flows_per_bin;
    AggregateRow row;
    for (size_t i = 0; i < snap->size(); ++i) {
      snap->Get(i, &row);
      CHECK(row.stamp_updated == kT0);
      flows_per_bin[row.stamp_inserted] += row.record.flows;
    }
    if (by_arrival) {
      CHECK(flows_per_bin ==
            std::map<int64_t, uint64_t>{{At(2024, 5, 15, 12, 30), 3}});
    } else {
      CHECK(flows_per_bin ==
            std::map<int64_t, uint64_t>{{At(2024, 5, 15, 12, 20), 1},
                                        {At(2024, 5, 15, 12, 25), 1},
                                        {At(2024, 5, 15, 12, 30), 1}});
    }
  }
}

// --- sum_* modes -------------------------------------------------------------

struct SumCase {
  const char* mode;
  const char* src;  // the primitive rows print as
  void (*set)(FlowRecord*, int src, int dst);
};

const SumCase kSumCases[] = {
    {"sum_host", "src_host",
     [](FlowRecord* r, int s, int d) {
       r->src_host = IpAddress::V4(0x0A000000 + s);
       r->dst_host = IpAddress::V4(0x0A000000 + d);
       r->fields.set(FlowField::kSrcHost);
       r->fields.set(FlowField::kDstHost);
     }},
    {"sum_net", "src_net",
     [](FlowRecord* r, int s, int d) {
       r->src_net = IpAddress::V4(0x0A000000 + (s << 8));
       r->dst_net = IpAddress::V4(0x0A000000 + (d << 8));
       r->fields.set(FlowField::kSrcNet);
       r->fields.set(FlowField::kDstNet);
     }},
    {"sum_as", "src_as",
     [](FlowRecord* r, int s, int d) {
       r->src_as = static_cast<uint32_t>(64500 + s);
       r->dst_as = static_cast<uint32_t>(64500 + d);
       r->fields.set(FlowField::kSrcAs);
       r->fields.set(FlowField::kDstAs);
     }},
    {"sum_port", "src_port",
     [](FlowRecord* r, int s, int d) {
       r->src_port = static_cast<uint16_t>(1000 + s);
       r->dst_port = static_cast<uint16_t>(1000 + d);
       r->fields.set(FlowField::kSrcPort);
       r->fields.set(FlowField::kDstPort);
     }},
    {"sum_mac", "src_mac",
     [](FlowRecord* r, int s, int d) {
       uint8_t a[6] = {2, 0, 0, 0, 0, static_cast<uint8_t>(s)};
       uint8_t b[6] = {2, 0, 0, 0, 0, static_cast<uint8_t>(d)};
       r->src_mac = MacAddress::FromBytes(a);
       r->dst_mac = MacAddress::FromBytes(b);
       r->fields.set(FlowField::kSrcMac);
       r->fields.set(FlowField::kDstMac);
     }},
};

// Value `v` of a sum case as its source primitive prints it.
std::string SumValue(const PrimitiveRegistry& reg, const SumCase& sc, int v) {
  RecordBatch b(1);
  FlowRecord* r = b.AppendRecord();
  sc.set(r, v, v);
  return Fmt(reg, Id(reg, sc.src), *r, b);
}

TEST_CASE("sum modes: a record counts under its source and its destination",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  for (const SumCase& sc : kSumCases) {
    INFO(sc.mode);
    for (bool add_all : {false, true}) {
      INFO("AddAll " << add_all);
      auto agg = Make(*reg, {sc.mode});
      RecordBatch batch(16);
      // 1 -> 2: 100 bytes, 2 packets; 2 -> 3: 10 bytes, 1 packet, 4 flows;
      // 3 -> 3 (source equals destination): 1000 bytes, 5 packets.
      FlowRecord* a = NewFlow(&batch, 100, 2);
      sc.set(a, 1, 2);
      FlowRecord* b = NewFlow(&batch, 10, 1);
      sc.set(b, 2, 3);
      b->flows = 4;
      b->fields.set(FlowField::kFlows);
      FlowRecord* c = NewFlow(&batch, 1000, 5);
      sc.set(c, 3, 3);
      batch.AppendRecord()->kind = RecordKind::kOptions;  // ignored
      if (add_all) {
        REQUIRE(agg->AddAll(batch) == batch.size());
      } else {
        for (const FlowRecord& r : batch.records()) REQUIRE(agg->Add(r, batch));
      }
      CHECK(agg->size() == 3);
      auto snap = agg->Flush(kT0, FlushReason::kRefresh);
      // Rows print under the source primitive (pmacct: SRC_IP for sum_host).
      REQUIRE(snap->primitives() == std::vector<PrimitiveId>{Id(*reg, sc.src)});
      RowMap rows = Rows(*reg, *snap);
      REQUIRE(rows.size() == 3);
      const std::string v1 = SumValue(*reg, sc, 1) + "|0";
      const std::string v2 = SumValue(*reg, sc, 2) + "|0";
      const std::string v3 = SumValue(*reg, sc, 3) + "|0";
      CHECK(rows[v1] == std::array<uint64_t, 3>{2, 100, 1});
      CHECK(rows[v2] == std::array<uint64_t, 3>{3, 110, 5});
      // The 3 -> 3 record adds twice to its row, as in nfacctd 1.7.7.
      CHECK(rows[v3] == std::array<uint64_t, 3>{1 + 10, 10 + 2000, 4 + 2});
      uint64_t bytes = 0;
      for (const auto& [k, v] : rows) bytes += v[1];
      CHECK(bytes == 2 * (100 + 10 + 1000));  // every record counted twice
    }
  }
}

TEST_CASE("sum modes: flows in aggregate is no key", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"sum_port", "flows"});
  RecordBatch batch(4);
  FlowRecord* r = NewFlow(&batch, 10, 1);
  kSumCases[3].set(r, 1, 2);
  REQUIRE(agg->Add(*r, batch));
  CHECK(agg->size() == 2);
  auto snap = agg->Flush(kT0, FlushReason::kRefresh);
  CHECK(snap->primitives() ==
        std::vector<PrimitiveId>{Id(*reg, "src_port"), Id(*reg, "flows")});
}

TEST_CASE("sum modes: absent values count as zero; bins apply to both halves",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"sum_as"}, "5m");
  RecordBatch batch(8);
  FlowRecord* a = NewFlow(&batch, 100, 1);  // no AS at all
  a->timestamp_start = kT0;
  a->fields.set(FlowField::kTimestampStart);
  FlowRecord* b = NewFlow(&batch, 7, 1);  // source AS only, a later bin
  b->src_as = 65000;
  b->fields.set(FlowField::kSrcAs);
  b->timestamp_start = kT0 + 300 * kSec;
  b->fields.set(FlowField::kTimestampStart);
  for (const FlowRecord& r : batch.records()) REQUIRE(agg->Add(r, batch));
  const int64_t bin0 = agg->BinStart(kT0);
  const int64_t bin1 = agg->BinStart(kT0 + 300 * kSec);
  REQUIRE(bin0 != bin1);
  auto snap = agg->Flush(kT0, FlushReason::kRefresh);
  RowMap rows = Rows(*reg, *snap);
  REQUIRE(rows.size() == 3);
  CHECK(rows["0|" + std::to_string(bin0)] ==
        std::array<uint64_t, 3>{2, 200, 2});
  CHECK(rows["65000|" + std::to_string(bin1)] ==
        std::array<uint64_t, 3>{1, 7, 1});
  CHECK(rows["0|" + std::to_string(bin1)] == std::array<uint64_t, 3>{1, 7, 1});
}

TEST_CASE("sum modes: a record is added whole or not at all when full",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"sum_port"}, "", /*max_entries=*/3);
  RecordBatch batch(64);
  for (int i = 0; i < 30; ++i) {
    FlowRecord* r = NewFlow(&batch, 1, 1);
    r->src_port = static_cast<uint16_t>(i);
    r->dst_port = static_cast<uint16_t>(100 + i % 3);
    r->fields.set(FlowField::kSrcPort);
    r->fields.set(FlowField::kDstPort);
  }
  std::vector<std::unique_ptr<Snapshot>> snaps;
  for (size_t i = agg->AddAll(batch); i < batch.size();
       i = agg->AddAll(batch, i)) {
    CHECK(agg->size() <= 4);  // the destination half may go one over
    snaps.push_back(agg->Flush(kT0, FlushReason::kCacheFull));
  }
  snaps.push_back(agg->Flush(kT0, FlushReason::kShutdown));
  CHECK(snaps.size() > 1);
  uint64_t bytes = 0, flows = 0;
  for (const auto& s : snaps) {
    AggregateRow row;
    for (size_t i = 0; i < s->size(); ++i) {
      s->Get(i, &row);
      bytes += row.record.bytes;
      flows += row.record.flows;
    }
  }
  CHECK(bytes == 60);
  CHECK(flows == 60);
}

TEST_CASE("sum modes: snapshots merge, but not with a plain view",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  RecordBatch batch(4);
  FlowRecord* r = NewFlow(&batch, 10, 1);
  kSumCases[0].set(r, 1, 2);
  auto a = Make(*reg, {"sum_host"});
  auto b = Make(*reg, {"sum_host"});
  REQUIRE(a->Add(*r, batch));
  REQUIRE(b->Add(*r, batch));
  std::vector<std::unique_ptr<Snapshot>> parts;
  parts.push_back(a->Flush(kT0, FlushReason::kRefresh));
  parts.push_back(b->Flush(kT0, FlushReason::kRefresh));
  auto merged = Snapshot::Merge(std::move(parts));
  REQUIRE(merged.ok());
  RowMap rows = Rows(*reg, **merged);
  CHECK(rows["10.0.0.1|0"] == std::array<uint64_t, 3>{2, 20, 2});
  CHECK(rows["10.0.0.2|0"] == std::array<uint64_t, 3>{2, 20, 2});
  auto plain = Make(*reg, {"src_host"});
  auto sum = Make(*reg, {"sum_host"});
  REQUIRE(plain->Add(*r, batch));
  REQUIRE(sum->Add(*r, batch));
  std::vector<std::unique_ptr<Snapshot>> mixed;
  mixed.push_back(plain->Flush(kT0, FlushReason::kRefresh));
  mixed.push_back(sum->Flush(kT0, FlushReason::kRefresh));
  CHECK(Snapshot::Merge(std::move(mixed)).status().code() ==
        StatusCode::kInvalidArgument);
}

// --- timestamps_secs ---------------------------------------------------------

TEST_CASE("timestamps_secs: time keys are floored to the second first",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  for (bool secs : {false, true}) {
    INFO("timestamps_secs " << secs);
    AggregatorOptions o;
    for (const char* n : {"timestamp_start", "timestamp_end",
                          "timestamp_export", "timestamp_arrival"}) {
      o.primitives.push_back(Id(*reg, n));
    }
    o.timestamps_secs = secs;
    auto created = Aggregator::Create(reg.get(), o);
    REQUIRE(created.ok());
    auto agg = std::move(created).value();
    RecordBatch batch(8);
    // Two flows in the same second (.088 and .576), one in the next.
    for (int64_t ms : {88, 576, 1200}) {
      FlowRecord* r = NewFlow(&batch, 10, 1);
      r->timestamp_start = kT0 + ms * 1'000'000;
      r->timestamp_end = kT0 + 5 * kSec + ms * 1'000'000;
      r->timestamp_export = kT0 + 9 * kSec;
      r->timestamp_arrival = kT0 + 9 * kSec + 123'456'789;
      r->fields.set(FlowField::kTimestampStart);
      r->fields.set(FlowField::kTimestampEnd);
      r->fields.set(FlowField::kTimestampExport);
    }
    FlowRecord* early = NewFlow(&batch, 1, 1);
    early->timestamp_start = -kSec / 2;  // 1969-12-31 23:59:59.5
    early->fields.set(FlowField::kTimestampStart);
    for (const FlowRecord& r : batch.records()) REQUIRE(agg->Add(r, batch));
    auto snap = agg->Flush(kT0, FlushReason::kRefresh);
    CHECK(snap->size() == (secs ? 3u : 4u));
    AggregateRow row;
    std::map<int64_t, uint64_t> bytes_by_start;
    for (size_t i = 0; i < snap->size(); ++i) {
      snap->Get(i, &row);
      bytes_by_start[row.record.timestamp_start] += row.record.bytes;
      CHECK(row.record.has(FlowField::kTimestampStart));
      if (secs) {
        CHECK(row.record.timestamp_start % kSec == 0);
        CHECK(row.record.timestamp_end % kSec == 0);
        CHECK(row.record.timestamp_arrival % kSec == 0);
      }
      if (secs && row.record.timestamp_start == kT0) {
        CHECK(row.record.timestamp_end == kT0 + 5 * kSec);
        CHECK(row.record.timestamp_export == kT0 + 9 * kSec);
        CHECK(row.record.timestamp_arrival == kT0 + 9 * kSec);
        CHECK(Fmt(*reg, Id(*reg, "timestamp_start"), row.record,
                  snap->arena()) == "2024-05-15 12:34:56.000000");
      }
    }
    if (secs) {
      CHECK(bytes_by_start[kT0] == 20);
      CHECK(bytes_by_start[kT0 + kSec] == 10);
      CHECK(bytes_by_start[-kSec] == 1);  // floored, not toward zero
    } else {
      CHECK(bytes_by_start[kT0 + 88'000'000] == 10);
      CHECK(bytes_by_start[-kSec / 2] == 1);
    }
  }
}

TEST_CASE("timestamps_secs: bins still use the exact time", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  AggregatorOptions o;
  o.primitives = {Id(*reg, "timestamp_start")};
  o.history = *HistorySpec::Parse("1m");
  o.timestamps_secs = true;
  auto agg = std::move(Aggregator::Create(reg.get(), o)).value();
  RecordBatch batch(4);
  // 12:35:00.250 falls in the 12:35 bin (bins are (start, end]) and prints
  // as 12:35:00.000000.
  const int64_t minute = (kT0 / (60 * kSec) + 1) * 60 * kSec;
  FlowRecord* r = NewFlow(&batch, 10, 1);
  r->timestamp_start = minute + 250'000'000;
  r->fields.set(FlowField::kTimestampStart);
  REQUIRE(agg->Add(*r, batch));
  auto snap = agg->Flush(kT0, FlushReason::kRefresh);
  REQUIRE(snap->size() == 1);
  AggregateRow row;
  snap->Get(0, &row);
  CHECK(row.record.timestamp_start == minute);
  CHECK(row.stamp_inserted == minute);
}

TEST_CASE("cache full: Add says no, nothing is lost after flush and re-add",
          "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"src_port"}, "", /*max_entries=*/3);
  RecordBatch batch(64);
  for (int i = 0; i < 40; ++i) {
    FlowRecord* r = NewFlow(&batch, 10 + i, 1);
    r->src_port = static_cast<uint16_t>(i % 5);
    r->fields.set(FlowField::kSrcPort);
  }
  std::vector<std::unique_ptr<Snapshot>> snaps;
  int refusals = 0;
  for (const FlowRecord& r : batch.records()) {
    if (!agg->Add(r, batch)) {
      ++refusals;
      CHECK(agg->size() == 3);
      snaps.push_back(agg->Flush(kT0, FlushReason::kCacheFull));
      CHECK(agg->size() == 0);
      REQUIRE(agg->Add(r, batch));
    }
  }
  snaps.push_back(agg->Flush(kT0, FlushReason::kShutdown));
  CHECK(refusals > 0);
  uint64_t bytes = 0, flows = 0;
  for (const auto& s : snaps) {
    CHECK(s->size() <= 3);
    AggregateRow row;
    for (size_t i = 0; i < s->size(); ++i) {
      s->Get(i, &row);
      bytes += row.record.bytes;
      flows += row.record.flows;
    }
  }
  CHECK(flows == 40);
  CHECK(bytes == 40 * 10 + 39 * 40 / 2);
  // Existing aggregates still take records when full.
  auto full = Make(*reg, {"src_port"}, "", 1);
  REQUIRE(full->Add(batch.records()[0], batch));
  CHECK(full->Add(batch.records()[5], batch));  // same port 0
  CHECK_FALSE(full->Add(batch.records()[1], batch));
}

TEST_CASE("flush empties the aggregator", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto agg = Make(*reg, {"src_port", "as_path"});
  RecordBatch batch(8);
  FlowRecord* r = NewFlow(&batch);
  r->src_port = 1;
  r->fields.set(FlowField::kSrcPort);
  REQUIRE(agg->Add(*r, batch));
  CHECK(agg->size() == 1);
  auto s1 = agg->Flush(kT0, FlushReason::kRefresh);
  CHECK(s1->size() == 1);
  CHECK(agg->size() == 0);
  auto s2 = agg->Flush(kT0 + kSec, FlushReason::kRefresh);
  CHECK(s2->size() == 0);
  REQUIRE(agg->Add(*r, batch));
  auto s3 = agg->Flush(kT0, FlushReason::kRefresh);
  AggregateRow row;
  s3->Get(0, &row);
  CHECK(row.record.bytes == 100);  // not 200: the first flush reset it
}

// Random records over a small domain, including variable-length values.
void RandomRecords(std::mt19937_64* rng, RecordBatch* batch, size_t n,
                   PrimitiveId custom) {
  static const char* const kNames[] = {"ge-0", "ge-1", "xe-1/2/3", ""};
  for (size_t i = 0; i < n; ++i) {
    FlowRecord* r = NewFlow(batch, (*rng)() % 1500, 1 + (*rng)() % 3);
    r->src_host = ((*rng)() % 2) ? IpAddress::V4(0x0A000000 + (*rng)() % 6)
                                 : IpAddress::Parse("2001:db8::5").value();
    r->fields.set(FlowField::kSrcHost);
    if ((*rng)() % 4) {
      r->dst_port = static_cast<uint16_t>((*rng)() % 4);
      r->fields.set(FlowField::kDstPort);
    }
    const char* name = kNames[(*rng)() % 4];
    if (*name) {
      r->in_iface_name = batch->StoreBytes(std::string_view(name));
      r->fields.set(FlowField::kInIfaceName);
    }
    uint8_t path[12];
    size_t len = 4 * ((*rng)() % 4);
    for (size_t k = 0; k < len; ++k) path[k] = static_cast<uint8_t>(k % 2);
    if (len) {
      r->as_path = batch->StoreBytes(std::span<const uint8_t>(path, len));
      r->fields.set(FlowField::kAsPath);
    }
    if ((*rng)() % 3) {
      std::string v(1 + (*rng)() % 3, 'x');
      batch->AddCustom(
          r, custom,
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                                   v.size()));
    }
    r->timestamp_start = kT0 + static_cast<int64_t>((*rng)() % 900) * kSec;
    r->fields.set(FlowField::kTimestampStart);
    if ((*rng)() % 5 == 0) {
      r->flows = 3;
      r->fields.set(FlowField::kFlows);
    }
  }
}

TEST_CASE("merge of partial snapshots equals one aggregator", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto custom = reg->AddCustom(*PrimitiveRegistry::ParseCustomLine(
      "name=vl field_type=PEN:9:1 len=vlen semantics=str"));
  REQUIRE(custom.ok());
  AggregatorOptions o;
  o.view = "m";
  o.primitives = {Id(*reg, "src_host"), Id(*reg, "dst_port"),
                  Id(*reg, "in_iface_name"), Id(*reg, "as_path"), *custom};
  o.history = *HistorySpec::Parse("5m");
  for (uint64_t seed : {1u, 2u, 3u, 42u}) {
    for (size_t parts : {2u, 3u}) {
      INFO("seed " << seed << " parts " << parts);
      std::mt19937_64 rng(seed);
      RecordBatch batch(2048);
      RandomRecords(&rng, &batch, 1500, *custom);
      auto single = std::move(Aggregator::Create(reg.get(), o)).value();
      std::vector<std::unique_ptr<Aggregator>> workers;
      for (size_t p = 0; p < parts; ++p) {
        workers.push_back(std::move(Aggregator::Create(reg.get(), o)).value());
      }
      for (const FlowRecord& r : batch.records()) {
        REQUIRE(single->Add(r, batch));
        REQUIRE(workers[rng() % parts]->Add(r, batch));
      }
      std::vector<std::unique_ptr<Snapshot>> partials;
      for (size_t p = 0; p < parts; ++p) {
        partials.push_back(workers[p]->Flush(kT0 + static_cast<int64_t>(p),
                                             FlushReason::kRefresh));
      }
      auto merged = Snapshot::Merge(std::move(partials));
      REQUIRE(merged.ok());
      CHECK((*merged)->flush_time() == kT0 + static_cast<int64_t>(parts) - 1);
      auto want = single->Flush(kT0, FlushReason::kRefresh);
      RowMap a = Rows(*reg, *want);
      RowMap b = Rows(*reg, **merged);
      CHECK(a.size() > 20);
      CHECK(a == b);
    }
  }
}

TEST_CASE("AddAll equals Add record by record, also when full", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto custom = reg->AddCustom(*PrimitiveRegistry::ParseCustomLine(
      "name=vl field_type=PEN:9:1 len=vlen semantics=str"));
  REQUIRE(custom.ok());
  AggregatorOptions o;
  o.view = "a";
  o.primitives = {Id(*reg, "src_host"), Id(*reg, "dst_port"),
                  Id(*reg, "as_path"), *custom};
  o.history = *HistorySpec::Parse("5m");
  for (size_t max_entries : {size_t{0}, size_t{7}}) {
    INFO("max_entries " << max_entries);
    o.max_entries = max_entries;
    std::mt19937_64 rng(99);
    RecordBatch batch(512);
    RandomRecords(&rng, &batch, 400, *custom);
    batch.records()[17].kind = RecordKind::kOptions;  // skipped by both
    batch.records()[399].kind = RecordKind::kOptions;
    auto one = std::move(Aggregator::Create(reg.get(), o)).value();
    auto all = std::move(Aggregator::Create(reg.get(), o)).value();
    std::vector<std::unique_ptr<Snapshot>> a, b;
    for (const FlowRecord& r : batch.records()) {
      if (!one->Add(r, batch)) {
        a.push_back(one->Flush(kT0, FlushReason::kCacheFull));
        REQUIRE(one->Add(r, batch));
      }
    }
    a.push_back(one->Flush(kT0, FlushReason::kRefresh));
    size_t next = 0;
    for (int guard = 0; guard < 1000; ++guard) {
      next = all->AddAll(batch, next);
      if (next == batch.size()) break;
      REQUIRE(next < batch.size());
      CHECK(all->size() == 7);
      b.push_back(all->Flush(kT0, FlushReason::kCacheFull));
    }
    REQUIRE(next == batch.size());
    b.push_back(all->Flush(kT0, FlushReason::kRefresh));
    REQUIRE(a.size() == b.size());
    CHECK((max_entries == 0 ? a.size() == 1 : a.size() > 3));
    for (size_t k = 0; k < a.size(); ++k) {
      CHECK(Rows(*reg, *a[k]) == Rows(*reg, *b[k]));
    }
  }
  // Empty batch and a batch of options only.
  auto agg = std::move(Aggregator::Create(reg.get(), o)).value();
  RecordBatch empty(4);
  CHECK(agg->AddAll(empty, 0) == 0);
  FlowRecord* opt = NewFlow(&empty);
  opt->kind = RecordKind::kOptions;
  CHECK(agg->AddAll(empty, 0) == 1);
  CHECK(agg->size() == 0);
}

TEST_CASE("merge rejects mismatched snapshots", "[aggregate]") {
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto a = Make(*reg, {"src_port"});
  auto b = Make(*reg, {"dst_port"});
  auto c = Make(*reg, {"src_port"}, "5m");
  std::vector<std::unique_ptr<Snapshot>> v;
  v.push_back(a->Flush(0, FlushReason::kRefresh));
  v.push_back(b->Flush(0, FlushReason::kRefresh));
  CHECK(Snapshot::Merge(std::move(v)).status().code() ==
        StatusCode::kInvalidArgument);
  v.clear();
  v.push_back(a->Flush(0, FlushReason::kRefresh));
  v.push_back(c->Flush(0, FlushReason::kRefresh));
  CHECK(Snapshot::Merge(std::move(v)).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(Snapshot::Merge({}).status().code() == StatusCode::kInvalidArgument);
  v.clear();
  v.push_back(a->Flush(0, FlushReason::kRefresh));
  v.push_back(nullptr);
  CHECK(Snapshot::Merge(std::move(v)).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("steady state: Add allocates nothing after warm-up", "[aggregate]") {
  if (!testing::kCountingAllocations) {
    WARN("allocation counting is off under AddressSanitizer; skipped");
    return;
  }
  auto reg = PrimitiveRegistry::CreateWithBuiltins();
  auto custom = reg->AddCustom(*PrimitiveRegistry::ParseCustomLine(
      "name=vl field_type=PEN:9:1 len=vlen semantics=str"));
  REQUIRE(custom.ok());
  AggregatorOptions o;
  o.primitives = {Id(*reg, "src_host"), Id(*reg, "dst_port"),
                  Id(*reg, "in_iface_name"), Id(*reg, "as_path"), *custom};
  o.history = *HistorySpec::Parse("5m");
  auto agg = std::move(Aggregator::Create(reg.get(), o)).value();
  std::mt19937_64 rng(7);
  RecordBatch batch(4096);
  RandomRecords(&rng, &batch, 3000, *custom);
  // Warm-up: one pass, a flush, another pass.
  for (const FlowRecord& r : batch.records()) REQUIRE(agg->Add(r, batch));
  const size_t distinct = agg->size();
  auto s = agg->Flush(kT0, FlushReason::kRefresh);
  for (const FlowRecord& r : batch.records()) REQUIRE(agg->Add(r, batch));
  s = agg->Flush(kT0, FlushReason::kRefresh);
  const uint64_t before = testing::AllocationCount();
  for (int round = 0; round < 3; ++round) {
    for (const FlowRecord& r : batch.records()) REQUIRE(agg->Add(r, batch));
    REQUIRE(agg->AddAll(batch, 0) == batch.size());
  }
  const uint64_t after = testing::AllocationCount();
  CHECK(after - before == 0);
  CHECK(agg->size() == distinct);
  // Get is allocation-free too.
  s = agg->Flush(kT0, FlushReason::kRefresh);
  AggregateRow row;
  const uint64_t before_get = testing::AllocationCount();
  for (size_t i = 0; i < s->size(); ++i) s->Get(i, &row);
  CHECK(testing::AllocationCount() - before_get == 0);
}

}  // namespace
}  // namespace flowacct
