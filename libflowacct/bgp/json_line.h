// Private helpers for pmacct's JSON lines (flowacct/bgp/rib_dump.h,
// flowacct/bmp/msglog.h): one key and its value at a time, each with its
// leading ", " (pmacct's separators). Keys are ours and never escaped;
// values given as text are written as they are (callers escape what needs
// it). Not part of the public API.
//
// Thread-safety: free functions without state.

#ifndef FLOWACCT_LIBFLOWACCT_BGP_JSON_LINE_H_
#define FLOWACCT_LIBFLOWACCT_BGP_JSON_LINE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "flowacct/model/ip_address.h"

namespace flowacct::bgp::json_line {

inline void AppendUint(uint64_t v, std::string* out) {
  out->append(std::to_string(v));
}

// ", \"key\": "
inline void AppendKey(std::string_view key, std::string* out) {
  out->append(", \"");
  out->append(key);
  out->append("\": ");
}

// ", \"key\": \"value\""
inline void AppendQuoted(std::string_view key, std::string_view value,
                         std::string* out) {
  AppendKey(key, out);
  out->push_back('"');
  out->append(value);
  out->push_back('"');
}

// ", \"key\": 123"
inline void AppendNumber(std::string_view key, uint64_t value,
                         std::string* out) {
  AppendKey(key, out);
  AppendUint(value, out);
}

// ", \"key\": \"192.0.2.1\""
inline void AppendAddress(std::string_view key, const IpAddress& a,
                          std::string* out) {
  AppendKey(key, out);
  out->push_back('"');
  a.AppendTo(out);
  out->push_back('"');
}

}  // namespace flowacct::bgp::json_line

#endif  // FLOWACCT_LIBFLOWACCT_BGP_JSON_LINE_H_
