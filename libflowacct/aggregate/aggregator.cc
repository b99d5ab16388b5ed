#include "flowacct/aggregate/aggregator.h"

#include <chrono>
#include <cstring>
#include <limits>
#include <span>
#include <utility>

#include "libflowacct/aggregate/agg_table.h"
#include "libflowacct/aggregate/key_layout.h"
#include "libflowacct/aggregate/snapshot_impl.h"

namespace flowacct {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86400;
// 1970-01-01 was a Thursday; the first Monday is 1970-01-05.
constexpr int64_t kFirstMondayNs = 4 * kSecondsPerDay * kNsPerSecond;

// floor(a / b) for b > 0.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b) != 0 && a < 0) --q;
  return q;
}

int64_t MonthBinStart(int64_t t, uint32_t count) {
  using namespace std::chrono;
  const int64_t day = FloorDiv(t, kSecondsPerDay * kNsPerSecond);
  const year_month_day ymd{sys_days{days{day}}};
  const int64_t months_since_1970 =
      (static_cast<int64_t>(static_cast<int>(ymd.year())) - 1970) * 12 +
      static_cast<int64_t>(static_cast<unsigned>(ymd.month())) - 1;
  const int64_t bin = FloorDiv(months_since_1970, count) * count;
  const int64_t y = 1970 + FloorDiv(bin, 12);
  const unsigned m = static_cast<unsigned>(bin - FloorDiv(bin, 12) * 12) + 1;
  const sys_days start{year{static_cast<int>(y)} / month{m} / 1};
  return static_cast<int64_t>(start.time_since_epoch().count()) *
         kSecondsPerDay * kNsPerSecond;
}

// kWords > 0: the view's key is kWords long (hash and compare unrolled).
// kSum: a sum_* view (KeyLayout::sum()); every record counts twice, under
// its source and its destination value.
template <size_t kWords, bool kSum = false>
class AggregatorImpl final : public Aggregator {
 public:
  AggregatorImpl(AggregatorOptions options,
                 std::shared_ptr<const internal::KeyLayout> layout)
      : options_(std::move(options)),
        layout_(std::move(layout)),
        words_(layout_->words()),
        has_bins_(layout_->has_bins()),
        bin_ns_(options_.history.seconds() * kNsPerSecond),
        table_(words_),
        key_(words_ + 1, 0),
        key2_(words_ + 1, 0) {}

  bool Add(const FlowRecord& r, const RecordBatch& batch) override {
    if (r.kind == RecordKind::kOptions) return true;
    uint64_t* key = key_.data();
    MakeKey(r, batch, key);
    if constexpr (kSum) return CountSum(r, key);
    return Count(r, key, internal::HashKey<kWords>(key, words_));
  }

  size_t AddAll(const RecordBatch& batch, size_t begin) override {
    std::span<const FlowRecord> recs = batch.records();
    if constexpr (kSum) {
      for (size_t i = begin; i < recs.size(); ++i) {
        if (!Add(recs[i], batch)) return i;
      }
      return recs.size();
    }
    // Two key buffers: the next record's key is packed, hashed and its slot
    // prefetched before the current one is looked up.
    uint64_t* cur = key_.data();
    uint64_t* next = key2_.data();
    size_t i = begin;
    while (i < recs.size() && recs[i].kind == RecordKind::kOptions) ++i;
    if (i >= recs.size()) return recs.size();
    MakeKey(recs[i], batch, cur);
    uint64_t cur_hash = internal::HashKey<kWords>(cur, words_);
    while (true) {
      size_t j = i + 1;
      while (j < recs.size() && recs[j].kind == RecordKind::kOptions) ++j;
      uint64_t next_hash = 0;
      if (j < recs.size()) {
        MakeKey(recs[j], batch, next);
        next_hash = internal::HashKey<kWords>(next, words_);
        table_.Prefetch(next_hash);
      }
      if (!Count(recs[i], cur, cur_hash)) return i;
      if (j >= recs.size()) return recs.size();
      std::swap(cur, next);
      cur_hash = next_hash;
      i = j;
    }
  }

  std::unique_ptr<Snapshot> Flush(int64_t now, FlushReason reason) override {
    auto snapshot = std::make_unique<internal::SnapshotImpl>(
        layout_, options_.view, reason, now, table_, pool_);
    table_.Clear();
    pool_.Clear();
    return snapshot;
  }

  size_t size() const override { return table_.size(); }
  const AggregatorOptions& options() const override { return options_; }

  int64_t BinStart(int64_t t) const override {
    if (!has_bins_) return t;
    // Bins are (start, start + length]: the boundary instant itself belongs
    // to the bin before, as in pmacct 1.7.7 (docs/pmacct-parity.md §4, E9).
    t -= 1;
    switch (options_.history.unit) {
      case HistorySpec::Unit::kMonth:
        return MonthBinStart(t, options_.history.count);
      case HistorySpec::Unit::kWeek:
        return FloorDiv(t - kFirstMondayNs, bin_ns_) * bin_ns_ + kFirstMondayNs;
      default: {
        const int64_t origin = options_.history_origin;
        return FloorDiv(t - origin, bin_ns_) * bin_ns_ + origin;
      }
    }
  }

 private:
  // Writes the key (bin word and primitives) of `r` into key[0..words_].
  void MakeKey(const FlowRecord& r, const RecordBatch& batch, uint64_t* key) {
    if (has_bins_) {
      int64_t t;
      if (options_.bin_by_arrival) {
        t = r.timestamp_arrival;
      } else if (r.has(FlowField::kTimestampStart) && r.timestamp_start != 0) {
        t = r.timestamp_start;
      } else if (r.has(FlowField::kTimestampEnd) && r.timestamp_end != 0) {
        t = r.timestamp_end;
      } else {
        t = r.timestamp_arrival;
      }
      key[0] = static_cast<uint64_t>(BinStart(t));
    }
    // Pack writes every key byte but the padding, which stays zero.
    layout_->Pack(r, batch, &pool_, key);
  }

  // Adds r's counters to the aggregate of `key`; false when full.
  bool Count(const FlowRecord& r, const uint64_t* key, uint64_t hash,
             size_t max_entries) {
    uint64_t* c = table_.template FindOrInsert<kWords>(key, hash, max_entries);
    if (c == nullptr) return false;
    c[0] += r.packets;
    c[1] += r.bytes;
    c[2] += r.has(FlowField::kFlows) ? r.flows : 1;
    c[3] |= r.tcp_flags;
    return true;
  }
  bool Count(const FlowRecord& r, const uint64_t* key, uint64_t hash) {
    return Count(r, key, hash, options_.max_entries);
  }

  // sum_* views: `key` holds the source half (MakeKey); counts r under it
  // and under its destination half. Only the first insertion honours
  // max_entries, so a record is added whole or not at all (the table may
  // hold one entry more than max_entries).
  bool CountSum(const FlowRecord& r, const uint64_t* key) {
    if (!Count(r, key, internal::HashKey<kWords>(key, words_))) return false;
    uint64_t* dst = key2_.data();
    if (has_bins_) dst[0] = key[0];
    layout_->PackSumDst(r, dst);
    Count(r, dst, internal::HashKey<kWords>(dst, words_), 0);
    return true;
  }

  AggregatorOptions options_;
  std::shared_ptr<const internal::KeyLayout> layout_;
  size_t words_;
  bool has_bins_;
  int64_t bin_ns_;
  internal::AggTable table_;
  internal::InternPool pool_;
  std::vector<uint64_t> key_;
  std::vector<uint64_t> key2_;
};

}  // namespace

int64_t HistorySpec::seconds() const {
  int64_t unit = 0;
  switch (this->unit) {
    case Unit::kSecond:
      unit = 1;
      break;
    case Unit::kMinute:
      unit = 60;
      break;
    case Unit::kHour:
      unit = 3600;
      break;
    case Unit::kDay:
      unit = kSecondsPerDay;
      break;
    case Unit::kWeek:
      unit = 7 * kSecondsPerDay;
      break;
    default:
      return 0;
  }
  return unit * count;
}

Result<HistorySpec> HistorySpec::Parse(std::string_view text) {
  auto bad = [&]() -> Status {
    return InvalidArgumentError(
        "history: \"" + std::string(text) +
        "\" is not <count><unit> with count 1-999999999 and unit one of "
        "s m h d w M (e.g. 5m, 1h, 1d)");
  };
  if (text.size() < 2 || text.size() > 10) return bad();
  uint64_t count = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return bad();
    count = count * 10 + static_cast<uint64_t>(c - '0');
  }
  if (count == 0) return bad();
  HistorySpec spec;
  spec.count = static_cast<uint32_t>(count);
  switch (text.back()) {
    case 's':
      spec.unit = Unit::kSecond;
      break;
    case 'm':
      spec.unit = Unit::kMinute;
      break;
    case 'h':
      spec.unit = Unit::kHour;
      break;
    case 'd':
      spec.unit = Unit::kDay;
      break;
    case 'w':
      spec.unit = Unit::kWeek;
      break;
    case 'M':
      spec.unit = Unit::kMonth;
      break;
    default:
      return bad();
  }
  // Bins must fit in int64 nanoseconds (about 292 years).
  if (spec.unit != Unit::kMonth &&
      spec.seconds() > std::numeric_limits<int64_t>::max() / kNsPerSecond / 2) {
    return bad();
  }
  if (spec.unit == Unit::kMonth && spec.count > 12 * 200) return bad();
  return spec;
}

Result<std::unique_ptr<Aggregator>> Aggregator::Create(
    const PrimitiveRegistry* registry, AggregatorOptions options) {
  if (registry == nullptr) {
    return InvalidArgumentError("Aggregator::Create: no primitive registry");
  }
  if (options.history.unit != HistorySpec::Unit::kNone &&
      options.history.count == 0) {
    return InvalidArgumentError("Aggregator::Create: history count is 0");
  }
  Result<internal::KeyLayout> layout =
      internal::KeyLayout::Build(*registry, options);
  if (!layout.ok()) return layout.status();
  auto shared =
      std::make_shared<const internal::KeyLayout>(std::move(layout).value());
  std::unique_ptr<Aggregator> agg;
  if (shared->sum()) {
    agg = std::make_unique<AggregatorImpl<0, true>>(std::move(options), shared);
    return agg;
  }
  switch (shared->words()) {
    case 1:
      agg = std::make_unique<AggregatorImpl<1>>(std::move(options), shared);
      break;
    case 2:
      agg = std::make_unique<AggregatorImpl<2>>(std::move(options), shared);
      break;
    case 3:
      agg = std::make_unique<AggregatorImpl<3>>(std::move(options), shared);
      break;
    case 4:
      agg = std::make_unique<AggregatorImpl<4>>(std::move(options), shared);
      break;
    case 5:
      agg = std::make_unique<AggregatorImpl<5>>(std::move(options), shared);
      break;
    case 6:
      agg = std::make_unique<AggregatorImpl<6>>(std::move(options), shared);
      break;
    case 7:
      agg = std::make_unique<AggregatorImpl<7>>(std::move(options), shared);
      break;
    case 8:
      agg = std::make_unique<AggregatorImpl<8>>(std::move(options), shared);
      break;
    default:
      agg = std::make_unique<AggregatorImpl<0>>(std::move(options), shared);
      break;
  }
  return agg;
}

}  // namespace flowacct
