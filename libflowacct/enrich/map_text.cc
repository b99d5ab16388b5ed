#include "libflowacct/enrich/map_text.h"

#include <cstdio>
#include <memory>

namespace flowacct::enrich_internal {

Status LineError(StatusCode code, std::string_view filename, size_t line,
                 std::string_view message) {
  return Status(code, Cat(filename, ":", line, ": ", message));
}

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Status ForEachKeyValueRow(
    std::string_view text, std::string_view filename, uint32_t max_length,
    uint32_t max_rows,
    const std::function<Status(size_t, const std::vector<KeyValue>&)>& fn) {
  std::vector<KeyValue> kvs;
  uint32_t rows = 0;
  return ForEachLine(
      text, filename, max_length,
      [&](size_t line, std::string_view text_row) -> Status {
        std::string split_error = SplitKeyValues(text_row, &kvs);
        if (!split_error.empty()) {
          return LineError(StatusCode::kInvalidArgument, filename, line,
                           split_error);
        }
        if (rows >= max_rows) {
          return LineError(StatusCode::kResourceExhausted, filename, line,
                           Cat("more than ", max_rows, " rows (maps_entries)"));
        }
        ++rows;
        return fn(line, kvs);
      });
}

Status ForEachLine(std::string_view text, std::string_view filename,
                   uint32_t max_length,
                   const std::function<Status(size_t, std::string_view)>& fn) {
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_length) {
      return LineError(StatusCode::kInvalidArgument, filename, line_number,
                       Cat("line is ", line.size(),
                           " bytes long, the limit is ", max_length));
    }
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return LineError(StatusCode::kInvalidArgument, filename, line_number,
                         Cat("control byte ", static_cast<unsigned>(u),
                             " (decimal) at column ",
                             static_cast<size_t>(&c - line.data()) + 1,
                             " (not a text map file?)"));
      }
    }
    line = Trim(line);
    if (line.empty() || line.front() == '!') continue;
    Status s = fn(line_number, line);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ReadMapFile(const std::string& path, std::string* out) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"),
                                          &std::fclose);
  if (!f) return IoError(Cat(path, ": cannot open"));
  out->clear();
  char buf[65536];
  while (true) {
    size_t n = std::fread(buf, 1, sizeof buf, f.get());
    if (n > 0) {
      if (out->size() + n > kMaxMapFileBytes) {
        return IoError(
            Cat(path, ": larger than ", kMaxMapFileBytes >> 20, " MiB"));
      }
      out->append(buf, n);
    }
    if (n < sizeof buf) {
      if (std::ferror(f.get())) return IoError(Cat(path, ": read error"));
      break;
    }
  }
  return Status::Ok();
}

std::string SplitKeyValues(std::string_view line, std::vector<KeyValue>* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i >= line.size()) break;
    const size_t key_start = i;
    while (i < line.size() && line[i] != '=' && !IsBlank(line[i])) ++i;
    std::string_view key = line.substr(key_start, i - key_start);
    if (i >= line.size() || line[i] != '=') {
      return Cat("'", key, "' is not key=value (no blanks around '=')");
    }
    if (key.empty()) return "'=' without a key";
    ++i;  // '='
    std::string_view value;
    if (i < line.size() && (line[i] == '\'' || line[i] == '"')) {
      const char quote = line[i++];
      const size_t value_start = i;
      while (i < line.size() && line[i] != quote) ++i;
      if (i >= line.size()) {
        return Cat("unterminated quote in the value of '", key, "'");
      }
      value = line.substr(value_start, i - value_start);
      ++i;
    } else {
      const size_t value_start = i;
      while (i < line.size() && !IsBlank(line[i])) ++i;
      value = line.substr(value_start, i - value_start);
    }
    if (value.empty()) return Cat("'", key, "' has an empty value");
    out->push_back({key, value});
  }
  return std::string();
}

IpAddress MaskAddress(const IpAddress& address, int length) {
  if (!address.is_set()) return address;
  uint8_t bytes[16] = {};
  const int size = address.size();
  const uint8_t* p = address.data();
  for (int i = 0; i < size; ++i) {
    const int bits = length - i * 8;
    if (bits >= 8) {
      bytes[i] = p[i];
    } else if (bits > 0) {
      bytes[i] = static_cast<uint8_t>(p[i] & (0xff << (8 - bits)));
    }
  }
  return address.is_v4() ? IpAddress::V4Bytes(bytes)
                         : IpAddress::V6Bytes(bytes);
}

std::optional<Prefix> ParsePrefix(std::string_view text) {
  const size_t slash = text.find('/');
  Result<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) return std::nullopt;
  const int max_length = address->is_v4() ? 32 : 128;
  int length = max_length;
  if (slash != std::string_view::npos) {
    if (!ParseUnsigned(text.substr(slash + 1), &length) ||
        length > max_length) {
      return std::nullopt;
    }
  }
  Prefix p;
  p.address = MaskAddress(*address, length);
  p.length = static_cast<uint8_t>(length);
  return p;
}

bool PrefixContains(const Prefix& prefix, const IpAddress& address) {
  if (address.family() != prefix.address.family()) return false;
  const uint8_t* a = address.data();
  const uint8_t* p = prefix.address.data();
  const int full = prefix.length / 8;
  for (int i = 0; i < full; ++i) {
    if (a[i] != p[i]) return false;
  }
  const int rest = prefix.length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == p[full];
}

IpAddress UnmapV4(const IpAddress& address) {
  if (!address.is_v6()) return address;
  const uint8_t* p = address.data();
  for (int i = 0; i < 10; ++i) {
    if (p[i] != 0) return address;
  }
  if (p[10] != 0xff || p[11] != 0xff) return address;
  return IpAddress::V4Bytes(p + 12);
}

bool ParseMac(std::string_view text, MacAddress* out) {
  if (text.size() != 17) return false;
  MacAddress mac;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':' && text[i * 3 - 1] != '-') {
      return false;
    }
    const char* begin = text.data() + i * 3;
    auto [end, ec] = std::from_chars(begin, begin + 2, mac.bytes[i], 16);
    if (ec != std::errc() || end != begin + 2) return false;
  }
  *out = mac;
  return true;
}

bool ExporterMatch::Parse(const KeyValue& kv, std::string* error) {
  if (kv.key == "ip") {
    std::optional<Prefix> p = ParsePrefix(kv.value);
    if (!p) {
      *error = Cat("ip='", kv.value, "' is not an IP address or prefix");
    } else {
      ip = *p;
      has_ip = true;
    }
    return true;
  }
  if (kv.key == "in" || kv.key == "out") {
    if (!(kv.key == "in" ? in : out).Parse(kv.value)) {
      *error = Cat(kv.key, "='", kv.value, "' is not an interface index");
    }
    return true;
  }
  return false;
}

}  // namespace flowacct::enrich_internal
