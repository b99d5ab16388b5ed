#include "libflowacct/model/value_format.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace flowacct::internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendEscapedByte(uint8_t b, std::string* out) {
  out->append("\\x");
  out->push_back(kHexDigits[b >> 4]);
  out->push_back(kHexDigits[b & 0xf]);
}

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629 §4), or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  size_t n;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  }
  uint8_t c1 = b(i + 1);
  if (c == 0xe0 && c1 < 0xa0) return 0;  // overlong
  if (c == 0xed && c1 > 0x9f) return 0;  // surrogates
  if (c == 0xf0 && c1 < 0x90) return 0;  // overlong
  if (c == 0xf4 && c1 > 0x8f) return 0;  // > U+10FFFF
  return n;
}

}  // namespace

void AppendHex(std::span<const uint8_t> bytes, std::string* out) {
  for (uint8_t b : bytes) {
    out->push_back(kHexDigits[b >> 4]);
    out->push_back(kHexDigits[b & 0xf]);
  }
}

void AppendHexTrimmed(std::span<const uint8_t> bytes, std::string* out) {
  bool started = false;
  for (uint8_t b : bytes) {
    for (int shift = 4; shift >= 0; shift -= 4) {
      int d = (b >> shift) & 0xf;
      if (d != 0 || started) {
        out->push_back(kHexDigits[d]);
        started = true;
      }
    }
  }
  if (!started) out->push_back('0');
}

void AppendSanitized(std::string_view text, std::string* out) {
  size_t nul = text.find('\0');
  if (nul != std::string_view::npos) text = text.substr(0, nul);
  for (size_t i = 0; i < text.size();) {
    uint8_t c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f || c == '\\') {
        AppendEscapedByte(c, out);
      } else {
        out->push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      AppendEscapedByte(c, out);
      ++i;
      continue;
    }
    out->append(text.substr(i, n));
    i += n;
  }
}

void AppendTimestamp(int64_t ns, const FormatOptions& options,
                     std::string* out) {
  int64_t sec = ns / 1'000'000'000;
  int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --sec;
  }
  int64_t usec = rem / 1000;
  char buf[64];
  if (options.timestamps_since_epoch) {
    std::snprintf(buf, sizeof(buf), "%lld.%06lld", static_cast<long long>(sec),
                  static_cast<long long>(usec));
    out->append(buf);
    return;
  }
  const std::tm tm =
      CalendarTime(sec * 1'000'000'000, options.timestamps_utc);
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06lld",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(usec));
  out->append(buf);
}

int64_t FloorSeconds(int64_t ns) {
  int64_t secs = ns / 1'000'000'000;
  if (ns < 0 && ns % 1'000'000'000 != 0) --secs;
  return secs;
}

std::tm CalendarTime(int64_t ns, bool utc) {
  const std::time_t t = static_cast<std::time_t>(FloorSeconds(ns));
  std::tm tm{};
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  return tm;
}

void AppendStamp(int64_t ns, bool utc, bool since_epoch, std::string* out) {
  if (since_epoch) {
    out->append(std::to_string(FloorSeconds(ns)));
    return;
  }
  const std::tm tm = CalendarTime(ns, utc);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  out->append(buf, n);
}

void AppendProtocolName(uint8_t proto, std::string* out) {
  // IANA "Assigned Internet Protocol Numbers" keywords, lower case.
  const char* name = nullptr;
  switch (proto) {
    case 1:
      name = "icmp";
      break;
    case 2:
      name = "igmp";
      break;
    case 4:
      name = "ipencap";
      break;
    case 6:
      name = "tcp";
      break;
    case 8:
      name = "egp";
      break;
    case 9:
      name = "igp";
      break;
    case 17:
      name = "udp";
      break;
    case 27:
      name = "rdp";
      break;
    case 29:
      name = "iso-tp4";
      break;
    case 33:
      name = "dccp";
      break;
    case 41:
      name = "ipv6";
      break;
    case 43:
      name = "ipv6-route";
      break;
    case 44:
      name = "ipv6-frag";
      break;
    case 46:
      name = "rsvp";
      break;
    case 47:
      name = "gre";
      break;
    case 50:
      name = "esp";
      break;
    case 51:
      name = "ah";
      break;
    case 58:
      name = "ipv6-icmp";
      break;
    case 59:
      name = "ipv6-nonxt";
      break;
    case 60:
      name = "ipv6-opts";
      break;
    case 88:
      name = "eigrp";
      break;
    case 89:
      name = "ospf";
      break;
    case 94:
      name = "ipip";
      break;
    case 97:
      name = "etherip";
      break;
    case 98:
      name = "encap";
      break;
    case 103:
      name = "pim";
      break;
    case 108:
      name = "ipcomp";
      break;
    case 112:
      name = "vrrp";
      break;
    case 115:
      name = "l2tp";
      break;
    case 124:
      name = "isis";
      break;
    case 132:
      name = "sctp";
      break;
    case 135:
      name = "mobility-header";
      break;
    case 136:
      name = "udplite";
      break;
    case 137:
      name = "mpls-in-ip";
      break;
    default:
      break;
  }
  if (name != nullptr) {
    out->append(name);
  } else {
    out->append(std::to_string(proto));
  }
}

void AppendMplsStack(std::span<const uint32_t> entries, std::string* out) {
  bool first = true;
  for (uint32_t e : entries) {
    if (!first) out->push_back(',');
    first = false;
    out->append(std::to_string((e >> 4) & 0xfffff));
    out->push_back('-');
    out->append(std::to_string((e >> 1) & 0x7));
  }
}

void AppendExtCommunities(std::span<const uint8_t> v, std::string* out,
                          char separator) {
  const auto be16 = [&](size_t i) { return uint32_t{v[i]} << 8 | v[i + 1]; };
  const auto be32 = [&](size_t i) { return be16(i) << 16 | be16(i + 2); };
  for (size_t i = 0; i + 8 <= v.size(); i += 8) {
    if (i > 0) out->push_back(separator);
    const bool iana = (v[i] & 0x80) == 0;
    const uint8_t type = v[i] & 0x3f;  // without the transitive bit
    const uint8_t subtype = v[i + 1];
    const char* kind = subtype == 0x02 ? "RT:" : subtype == 0x03 ? "SoO:" : "";
    if (*kind != 0 && iana && type <= 0x02) {
      out->append(kind);
      if (type == 0x00) {  // two-octet AS : four-octet value
        out->append(std::to_string(be16(i + 2)));
        out->push_back(':');
        out->append(std::to_string(be32(i + 4)));
      } else if (type == 0x01) {  // IPv4 address : two-octet value
        IpAddress::V4Bytes(v.data() + i + 2).AppendTo(out);
        out->push_back(':');
        out->append(std::to_string(be16(i + 6)));
      } else {  // four-octet AS : two-octet value
        out->append(std::to_string(be32(i + 2)));
        out->push_back(':');
        out->append(std::to_string(be16(i + 6)));
      }
      continue;
    }
    out->append("0x");
    AppendHex(v.subspan(i, 8), out);
  }
}

void AppendLargeCommunities(std::span<const uint8_t> v, std::string* out,
                            char separator) {
  const auto be32 = [&](size_t i) {
    return uint32_t{v[i]} << 24 | uint32_t{v[i + 1]} << 16 |
           uint32_t{v[i + 2]} << 8 | v[i + 3];
  };
  for (size_t i = 0; i + 12 <= v.size(); i += 12) {
    if (i > 0) out->push_back(separator);
    out->append(std::to_string(be32(i)));
    out->push_back(':');
    out->append(std::to_string(be32(i + 4)));
    out->push_back(':');
    out->append(std::to_string(be32(i + 8)));
  }
}

void AppendRd(const std::array<uint8_t, 8>& rd, std::string* out) {
  const auto be16 = [&](int i) { return uint32_t{rd[i]} << 8 | rd[i + 1]; };
  const auto be32 = [&](int i) { return be16(i) << 16 | be16(i + 2); };
  uint32_t type = be16(0);
  out->append(std::to_string(type));
  out->push_back(':');
  switch (type) {
    case 0:  // 2-byte ASN : 4-byte number
      out->append(std::to_string(be16(2)));
      out->push_back(':');
      out->append(std::to_string(be32(4)));
      break;
    case 1:  // IPv4 address : 2-byte number
      IpAddress::V4Bytes(rd.data() + 2).AppendTo(out);
      out->push_back(':');
      out->append(std::to_string(be16(6)));
      break;
    case 2:  // 4-byte ASN : 2-byte number
      out->append(std::to_string(be32(2)));
      out->push_back(':');
      out->append(std::to_string(be16(6)));
      break;
    default:
      AppendHex(std::span<const uint8_t>(rd.data() + 2, 6), out);
      break;
  }
}

void AppendJsonEscaped(std::string_view text, std::string* out) {
  for (char ch : text) {
    uint8_t c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(ch);
        }
    }
  }
}

int64_t TimestampField(const FlowRecord& r, FlowField f) {
  switch (f) {
    case FlowField::kTimestampStart:
      return r.timestamp_start;
    case FlowField::kTimestampEnd:
      return r.timestamp_end;
    case FlowField::kTimestampExport:
      return r.timestamp_export;
    default:
      return 0;
  }
}

}  // namespace flowacct::internal
