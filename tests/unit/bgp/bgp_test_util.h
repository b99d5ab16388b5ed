// Helpers for the BGP codec tests: hand-written message bytes.

#ifndef FLOWACCT_TESTS_UNIT_BGP_BGP_TEST_UTIL_H_
#define FLOWACCT_TESTS_UNIT_BGP_BGP_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "flowacct/bgp/message.h"

namespace flowacct::bgp::test {

using Bytes = std::vector<uint8_t>;

inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Bytes U16(uint32_t v) {
  return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}
inline Bytes U32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

// A message: marker, length, type, body.
inline Bytes Message(uint8_t type, const Bytes& body) {
  Bytes out(16, 0xff);
  const size_t len = 19 + body.size();
  out.push_back(static_cast<uint8_t>(len >> 8));
  out.push_back(static_cast<uint8_t>(len));
  out.push_back(type);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A path attribute; the extended-length flag is added when needed (or
// forced with ext = true).
inline Bytes Attr(uint8_t flags, uint8_t type, const Bytes& value,
                  bool ext = false) {
  if (value.size() > 255) ext = true;
  Bytes out = {static_cast<uint8_t>(ext ? (flags | 0x10) : flags), type};
  if (ext) {
    out.push_back(static_cast<uint8_t>(value.size() >> 8));
  }
  out.push_back(static_cast<uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

inline Bytes Update(const Bytes& withdrawn, const Bytes& attrs,
                    const Bytes& nlri) {
  return Message(2, Cat({U16(withdrawn.size()), withdrawn, U16(attrs.size()),
                         attrs, nlri}));
}

inline Bytes OriginAttr(uint8_t v = 0) { return Attr(0x40, 1, {v}); }
// AS_PATH with one AS_SEQUENCE of 4-octet ASNs.
inline Bytes AsPath4(std::initializer_list<uint32_t> asns) {
  Bytes v = {2, static_cast<uint8_t>(asns.size())};
  for (uint32_t a : asns) {
    Bytes b = U32(a);
    v.insert(v.end(), b.begin(), b.end());
  }
  return Attr(0x40, 2, v);
}
inline Bytes AsPath2(std::initializer_list<uint32_t> asns) {
  Bytes v = {2, static_cast<uint8_t>(asns.size())};
  for (uint32_t a : asns) {
    Bytes b = U16(a);
    v.insert(v.end(), b.begin(), b.end());
  }
  return Attr(0x40, 2, v);
}
inline Bytes NextHop(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return Attr(0x40, 3, {a, b, c, d});
}
inline Bytes BaseAttrs() {
  return Cat({OriginAttr(), AsPath4({65001}), NextHop(192, 0, 2, 1)});
}
// 10.0.0.0/8 style NLRI entries.
inline Bytes Nlri4(uint8_t len, std::initializer_list<uint8_t> bytes) {
  Bytes out = {len};
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

inline SessionParams Params(bool four_octet = true) {
  SessionParams p;
  p.four_octet_as = four_octet;
  p.families = {kIpv4Unicast,
                {Afi::kIpv4, Safi::kLabeledUnicast},
                {Afi::kIpv4, Safi::kMplsVpn},
                kIpv6Unicast,
                {Afi::kIpv6, Safi::kLabeledUnicast},
                {Afi::kIpv6, Safi::kMplsVpn}};
  std::sort(p.families.begin(), p.families.end());
  p.ibgp = true;
  p.local_as = p.peer_as = 65001;
  return p;
}

inline bool HasIssue(const ParsedUpdate& u, UpdateProblem problem,
                     uint8_t type = 0) {
  for (const UpdateIssue& i : u.issues) {
    if (i.problem == problem && (type == 0 || i.attribute_type == type)) {
      return true;
    }
  }
  return false;
}

inline Prefix P4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t len) {
  Prefix p;
  p.address = IpAddress::V4((uint32_t{a} << 24) | (uint32_t{b} << 16) |
                            (uint32_t{c} << 8) | d);
  p.length = len;
  return p;
}

}  // namespace flowacct::bgp::test

#endif  // FLOWACCT_TESTS_UNIT_BGP_BGP_TEST_UTIL_H_
