// Private helpers shared by the enrich map parsers: line splitting with
// file:line errors, key=value tokenising, numbers, prefixes, and a
// longest-prefix-match table.

#ifndef FLOWACCT_LIBFLOWACCT_ENRICH_MAP_TEXT_H_
#define FLOWACCT_LIBFLOWACCT_ENRICH_MAP_TEXT_H_

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct::enrich_internal {

// String concatenation of text and integers (absl::StrCat without the
// absl::string_view / std::string_view mismatch of older Abseil builds).
inline void CatOne(std::string* out, std::string_view v) { out->append(v); }
inline void CatOne(std::string* out, const char* v) { out->append(v); }
inline void CatOne(std::string* out, const std::string& v) { out->append(v); }
template <typename T>
requires std::is_integral_v<T>
void CatOne(std::string* out, T v) { out->append(std::to_string(v)); }
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (CatOne(&out, args), ...);
  return out;
}

// Longest line any map accepts when the map has no option for it.
inline constexpr uint32_t kDefaultMaxRowLength = 256;
// Biggest map file LoadFile reads.
inline constexpr size_t kMaxMapFileBytes = size_t{64} << 20;

// "<filename>:<line>: <message>" with `code`.
Status LineError(StatusCode code, std::string_view filename, size_t line,
                 std::string_view message);

// Calls `fn(line_number, line)` for every non-blank, non-comment line of
// `text` (comments start with '!' after optional blanks; '\r' before '\n' is
// dropped; leading/trailing blanks are trimmed). Lines over `max_length`
// bytes and lines holding control bytes (other than tab) fail with
// kInvalidArgument naming the line. Stops at the first error `fn` returns.
Status ForEachLine(std::string_view text, std::string_view filename,
                   uint32_t max_length,
                   const std::function<Status(size_t, std::string_view)>& fn);

// Reads a whole file (at most kMaxMapFileBytes). kIoError on failure.
Status ReadMapFile(const std::string& path, std::string* out);

// Reads `path` and parses it with Map::Load(text, path, args...): the
// LoadFile() of every map and list type.
template <typename Map, typename... Args>
auto LoadMapFile(const std::string& path, const Args&... args)
    -> decltype(Map::Load(std::string_view(), std::string_view(), args...)) {
  std::string text;
  Status s = ReadMapFile(path, &text);
  if (!s.ok()) return s;
  return Map::Load(text, path, args...);
}

struct KeyValue {
  std::string_view key;
  std::string_view value;  // quotes removed for 'quoted' values
};
// Splits "k1=v1 k2='v 2'" at blanks into key/value pairs. Returns an error
// message (empty on success) for tokens without '=', empty keys or values,
// and unterminated quotes.
std::string SplitKeyValues(std::string_view line, std::vector<KeyValue>* out);

// True when pairs[i]'s key already appears in pairs[0..i): a row naming
// a key twice, which the map loaders refuse ("key 'k' given twice";
// nfacctd drops such rows).
inline bool RepeatsEarlierKey(const std::vector<KeyValue>& pairs, size_t i) {
  for (size_t j = 0; j < i; ++j) {
    if (pairs[j].key == pairs[i].key) return true;
  }
  return false;
}

// ForEachLine for key=value maps (pre_tag_map, sampling_map): splits each
// line with SplitKeyValues (a malformed line is kInvalidArgument naming it)
// and refuses the line after `max_rows` rows with kResourceExhausted
// ("more than N rows (maps_entries)"); then calls `fn(line_number, pairs)`,
// which adds one row.
Status ForEachKeyValueRow(
    std::string_view text, std::string_view filename, uint32_t max_length,
    uint32_t max_rows,
    const std::function<Status(size_t, const std::vector<KeyValue>&)>& fn);

// Unsigned decimal (or 0x hex when allow_hex) fitting T; whole text.
template <typename T>
bool ParseUnsigned(std::string_view text, T* out, bool allow_hex = false) {
  int base = 10;
  if (allow_hex && text.size() > 2 && text[0] == '0' &&
      (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return false;
  T value{};
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  *out = value;
  return true;
}

// An `in=N` / `out=N` column: absent matches everything; `-N` negates.
struct IfaceMatch {
  bool present = false;
  bool negated = false;
  uint32_t value = 0;

  // Parses "N" or "-N"; false if not an interface index.
  bool Parse(std::string_view text) {
    negated = !text.empty() && text.front() == '-';
    if (negated) text.remove_prefix(1);
    present = ParseUnsigned(text, &value);
    return present;
  }
  bool Matches(uint32_t iface) const {
    return !present || ((iface == value) != negated);
  }
};

// `address` with all bits past `length` cleared.
IpAddress MaskAddress(const IpAddress& address, int length);
// "a.b.c.d", "a.b.c.d/n", "v6", "v6/n". Host bits are cleared.
std::optional<Prefix> ParsePrefix(std::string_view text);
// True when `address` has the prefix's family and lies inside it.
bool PrefixContains(const Prefix& prefix, const IpAddress& address);
// ::ffff:a.b.c.d -> a.b.c.d; other addresses unchanged.
IpAddress UnmapV4(const IpAddress& address);
// "00:11:22:aa:bb:cc" (or '-' separated, either case).
bool ParseMac(std::string_view text, MacAddress* out);

// The exporter columns of sampling_map and bgp_agent_map rows: `ip` (an
// address or prefix, required), `in` and `out` (interfaces, `-N` negates).
struct ExporterMatch {
  Prefix ip;
  bool has_ip = false;
  IfaceMatch in;
  IfaceMatch out;

  // Takes `kv` when it is one of these columns: true, with *error set
  // (non-empty) when its value is bad. False for any other key.
  bool Parse(const KeyValue& kv, std::string* error);
  // Whether the row matches the record's exporter (IPv4-mapped IPv6
  // unmapped) and interfaces.
  template <typename Record>
  bool Matches(const Record& r) const {
    return PrefixContains(ip, UnmapV4(r.exporter)) && in.Matches(r.in_iface) &&
           out.Matches(r.out_iface);
  }
};

// Longest-prefix match from prefixes to values of type V: one sorted table
// per (family, length), probed from the longest length present down.
template <typename V>
class PrefixTable {
 public:
  // Adds or replaces (same prefix: last wins). Call Build() afterwards.
  void Insert(const Prefix& prefix, V value) {
    pending_.push_back({prefix, std::move(value)});
  }
  void Build();
  // The value of the longest prefix containing `address`, or nullptr.
  const V* Lookup(const IpAddress& address) const;
  // The prefix length of that match (valid when Lookup returned non-null).
  const V* Lookup(const IpAddress& address, int* length) const;
  size_t size() const { return count_; }

 private:
  struct Key {
    uint64_t hi = 0;
    uint64_t lo = 0;
    friend auto operator<=>(const Key&, const Key&) = default;
    friend bool operator==(const Key&, const Key&) = default;
  };
  static Key KeyOf(const IpAddress& a) {
    Key k;
    const uint8_t* p = a.data();
    for (int i = 0; i < 8; ++i) k.hi = (k.hi << 8) | p[i];
    for (int i = 8; i < 16; ++i) k.lo = (k.lo << 8) | p[i];
    return k;
  }
  static Key MaskKey(Key k, int length) {
    if (length <= 0) return Key{};
    if (length < 64) {
      k.hi &= ~uint64_t{0} << (64 - length);
      k.lo = 0;
    } else if (length == 64) {
      k.lo = 0;
    } else if (length < 128) {
      k.lo &= ~uint64_t{0} << (128 - length);
    }
    return k;
  }
  struct Level {
    int length = 0;
    std::vector<Key> keys;  // sorted, unique
    std::vector<V> values;  // parallel to keys
  };
  struct Family {
    std::vector<Level> levels;  // longest first, only non-empty lengths
  };
  const Family& FamilyOf(const IpAddress& a) const {
    return a.is_v4() ? v4_ : v6_;
  }

  std::vector<std::pair<Prefix, V>> pending_;
  Family v4_;
  Family v6_;
  size_t count_ = 0;
};

template <typename V>
void PrefixTable<V>::Build() {
  v4_ = Family{};
  v6_ = Family{};
  count_ = 0;
  // buckets[family][length]: (key, index in pending_), in row order.
  std::vector<std::vector<std::pair<Key, size_t>>> buckets[2];
  buckets[0].resize(33);
  buckets[1].resize(129);
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Prefix& p = pending_[i].first;
    if (!p.address.is_set()) continue;
    const int fam = p.address.is_v4() ? 0 : 1;
    buckets[fam][p.length].push_back({MaskKey(KeyOf(p.address), p.length), i});
  }
  for (int fam = 0; fam < 2; ++fam) {
    Family& family = fam == 0 ? v4_ : v6_;
    for (int len = static_cast<int>(buckets[fam].size()) - 1; len >= 0; --len) {
      auto& entries = buckets[fam][static_cast<size_t>(len)];
      if (entries.empty()) continue;
      // Stable: for equal keys the later row stays last, and wins below.
      std::stable_sort(
          entries.begin(), entries.end(),
          [](const auto& a, const auto& b) { return a.first < b.first; });
      Level level;
      level.length = len;
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i + 1 < entries.size() &&
            entries[i + 1].first == entries[i].first) {
          continue;
        }
        level.keys.push_back(entries[i].first);
        level.values.push_back(pending_[entries[i].second].second);
      }
      count_ += level.keys.size();
      family.levels.push_back(std::move(level));
    }
  }
  pending_.clear();
  pending_.shrink_to_fit();
}

template <typename V>
const V* PrefixTable<V>::Lookup(const IpAddress& address, int* length) const {
  if (!address.is_set()) return nullptr;
  const Family& family = FamilyOf(address);
  const Key key = KeyOf(address);
  for (const Level& level : family.levels) {
    const Key masked = MaskKey(key, level.length);
    auto it = std::lower_bound(level.keys.begin(), level.keys.end(), masked);
    if (it != level.keys.end() && *it == masked) {
      if (length != nullptr) *length = level.length;
      return &level.values[static_cast<size_t>(it - level.keys.begin())];
    }
  }
  return nullptr;
}

template <typename V>
const V* PrefixTable<V>::Lookup(const IpAddress& address) const {
  return Lookup(address, nullptr);
}

}  // namespace flowacct::enrich_internal

#endif  // FLOWACCT_LIBFLOWACCT_ENRICH_MAP_TEXT_H_
