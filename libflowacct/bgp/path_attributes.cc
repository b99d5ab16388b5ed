// Text forms of the shared BGP value types (pmacct-compatible).

#include "flowacct/bgp/path_attributes.h"

#include <cstdint>
#include <string>

#include "libflowacct/model/value_format.h"

namespace flowacct::bgp {
namespace {

std::string_view SafiName(Safi safi) {
  switch (safi) {
    case Safi::kUnicast:
      return "unicast";
    case Safi::kMulticast:
      return "multicast";
    case Safi::kLabeledUnicast:
      return "labeled-unicast";
    case Safi::kMplsVpn:
      return "mpls-vpn";
  }
  return "safi-unknown";
}

}  // namespace

std::string Family::ToString() const {
  std::string s;
  switch (afi) {
    case Afi::kIpv4:
      s = "ipv4";
      break;
    case Afi::kIpv6:
      s = "ipv6";
      break;
    default:
      s = "afi-" + std::to_string(static_cast<unsigned>(afi));
      break;
  }
  s += ' ';
  std::string_view name = SafiName(safi);
  if (name == "safi-unknown") {
    s += "safi-" + std::to_string(static_cast<unsigned>(safi));
  } else {
    s += name;
  }
  return s;
}

bool RouteDistinguisher::is_set() const {
  for (uint8_t b : bytes) {
    if (b != 0) return true;
  }
  return false;
}

// RFC 4364 §4.2: type 0 = 2-octet AS : 4-octet number; type 1 = IPv4 :
// 2-octet number; type 2 = 4-octet AS : 2-octet number.
std::string RouteDistinguisher::ToString() const {
  std::string s;
  internal::AppendRd(bytes, &s);  // the same text as the flow outputs'
  return s;
}

uint32_t PathAttributes::FirstAs() const {
  for (const AsPathSegment& seg : as_path) {
    if (seg.type == AsSegmentType::kConfedSequence ||
        seg.type == AsSegmentType::kConfedSet) {
      continue;
    }
    if (seg.type == AsSegmentType::kSequence && !seg.asns.empty()) {
      return seg.asns.front();
    }
    return 0;
  }
  return 0;
}

uint32_t PathAttributes::OriginAs() const {
  for (auto it = as_path.rbegin(); it != as_path.rend(); ++it) {
    if (it->type == AsSegmentType::kConfedSequence ||
        it->type == AsSegmentType::kConfedSet) {
      continue;
    }
    if (it->type == AsSegmentType::kSequence && !it->asns.empty()) {
      return it->asns.back();
    }
    return 0;  // AS_SET (or empty segment) at the end
  }
  return 0;
}

std::string PathAttributes::AsPathString() const {
  std::string s;
  for (const AsPathSegment& seg : as_path) {
    if (!s.empty()) s += ' ';
    const char* open = "";
    const char* close = "";
    char sep = ' ';
    switch (seg.type) {
      case AsSegmentType::kSet:
        open = "{", close = "}", sep = ',';
        break;
      case AsSegmentType::kSequence:
        break;
      case AsSegmentType::kConfedSequence:
        open = "(", close = ")";
        break;
      case AsSegmentType::kConfedSet:
        open = "[", close = "]", sep = ',';
        break;
    }
    s += open;
    for (size_t i = 0; i < seg.asns.size(); ++i) {
      if (i > 0) s += sep;
      s += std::to_string(seg.asns[i]);
    }
    s += close;
  }
  return s;
}

}  // namespace flowacct::bgp
