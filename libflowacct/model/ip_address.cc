#include "flowacct/model/ip_address.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace flowacct {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Parses a dotted quad into 4 bytes; false on anything else (no leading
// zeros beyond a single "0", values <= 255, exactly four parts).
bool ParseV4(std::string_view s, uint8_t* out) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + unsigned(s[i] - '0');
      if (v > 255 || i - start >= 3) return false;
      ++i;
    }
    if (i - start > 1 && s[start] == '0') return false;  // "01" is ambiguous
    out[part++] = static_cast<uint8_t>(v);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4291 §2.2 text forms, including "::" and a trailing dotted quad.
bool ParseV6(std::string_view s, uint8_t* out) {
  std::array<uint16_t, 8> groups{};
  int n = 0;     // groups written
  int gap = -1;  // group index where "::" stands
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    if (n == 8) return false;
    // A dotted quad may end the address, in place of two groups.
    size_t end = s.find(':', i);
    std::string_view token =
        s.substr(i, end == std::string_view::npos ? s.size() - i : end - i);
    if (end == std::string_view::npos &&
        token.find('.') != std::string_view::npos) {
      if (n > 6) return false;
      uint8_t v4[4];
      if (!ParseV4(token, v4)) return false;
      groups[n++] = uint16_t(v4[0] << 8 | v4[1]);
      groups[n++] = uint16_t(v4[2] << 8 | v4[3]);
      i = s.size();
      break;
    }
    if (token.empty() || token.size() > 4) return false;
    unsigned v = 0;
    for (char c : token) {
      int h = HexValue(c);
      if (h < 0) return false;
      v = v << 4 | unsigned(h);
    }
    groups[n++] = static_cast<uint16_t>(v);
    i += token.size();
    if (i == s.size()) break;
    // s[i] == ':'
    if (i + 1 < s.size() && s[i + 1] == ':') {
      if (gap >= 0) return false;  // two "::"
      gap = n;
      i += 2;
    } else {
      ++i;
      if (i == s.size()) return false;  // trailing single ':'
    }
  }
  if (gap < 0 && n != 8) return false;
  if (gap >= 0 && n == 8) return false;  // "::" must stand for >= 1 group
  std::array<uint16_t, 8> full{};
  if (gap < 0) {
    full = groups;
  } else {
    int tail = n - gap;
    for (int k = 0; k < gap; ++k) full[k] = groups[k];
    for (int k = 0; k < tail; ++k) full[8 - tail + k] = groups[gap + k];
  }
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k]);
  }
  return true;
}

void AppendDecimal(unsigned v, std::string* out) {
  char buf[4];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out->push_back(buf[--n]);
}

void AppendV4(const uint8_t* b, std::string* out) {
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out->push_back('.');
    AppendDecimal(b[i], out);
  }
}

// RFC 5952 §4: lower case, no leading zeros, the longest run (>= 2) of zero
// groups replaced by "::", the first one on ties. IPv4-mapped addresses
// (::ffff:0:0/96) keep their dotted-quad tail (§5).
void AppendV6(const uint8_t* b, std::string* out) {
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = uint16_t(b[2 * i] << 8 | b[2 * i + 1]);
  bool mapped = g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 &&
                g[5] == 0xffff;
  int groups = mapped ? 6 : 8;
  int best_start = -1, best_len = 0;
  for (int i = 0; i < groups;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < groups && g[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = -1;
  for (int i = 0; i < groups; ++i) {
    if (i == best_start) {
      out->append("::");
      i += best_len - 1;
      continue;
    }
    if (i > 0 && i != best_start + best_len) out->push_back(':');
    uint16_t v = g[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int d = (v >> shift) & 0xf;
      if (d != 0 || started || shift == 0) {
        out->push_back(kHex[d]);
        started = true;
      }
    }
  }
  if (mapped) {
    out->push_back(':');
    AppendV4(b + 12, out);
  }
}

}  // namespace

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  uint8_t bytes[16];
  if (text.find(':') != std::string_view::npos) {
    if (ParseV6(text, bytes)) return IpAddress::V6Bytes(bytes);
    return InvalidArgumentError("not an IPv6 address: \"" + std::string(text) +
                                "\"");
  }
  if (ParseV4(text, bytes)) return IpAddress::V4Bytes(bytes);
  return InvalidArgumentError("not an IP address: \"" + std::string(text) +
                              "\"");
}

std::string IpAddress::ToString() const {
  std::string s;
  AppendTo(&s);
  return s;
}

void IpAddress::AppendTo(std::string* out) const {
  if (family_ == Family::kV4) {
    AppendV4(bytes_.data(), out);
  } else if (family_ == Family::kV6) {
    AppendV6(bytes_.data(), out);
  }
}

std::string MacAddress::ToString() const {
  std::string s;
  s.reserve(17);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) s.push_back(':');
    s.push_back(kHex[bytes[i] >> 4]);
    s.push_back(kHex[bytes[i] & 0xf]);
  }
  return s;
}

std::string Prefix::ToString() const {
  std::string s = address.ToString();
  s.push_back('/');
  AppendDecimal(length, &s);
  return s;
}

std::string Endpoint::ToString() const {
  std::string s;
  if (address.is_v6()) {
    s.push_back('[');
    address.AppendTo(&s);
    s.push_back(']');
  } else if (address.is_v4()) {
    address.AppendTo(&s);
  }
  s.push_back(':');
  s.append(std::to_string(port));
  return s;
}

}  // namespace flowacct
