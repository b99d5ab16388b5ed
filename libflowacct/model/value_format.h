// Text renderings of primitive values shared by PrimitiveRegistry and the
// record formatters (pmacct.md §6.1 "Value formats").

#ifndef FLOWACCT_LIBFLOWACCT_MODEL_VALUE_FORMAT_H_
#define FLOWACCT_LIBFLOWACCT_MODEL_VALUE_FORMAT_H_

#include <array>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

#include "flowacct/model/primitive_registry.h"

namespace flowacct::internal {

// Lower-case hex, two digits per byte.
void AppendHex(std::span<const uint8_t> bytes, std::string* out);
// The bytes as one big-endian number in hex without leading zeros ("800").
void AppendHexTrimmed(std::span<const uint8_t> bytes, std::string* out);

// Text from the wire made safe for any output: stops at the first NUL
// (fixed-width fields are NUL-padded), keeps valid printable UTF-8, and
// writes every control byte, DEL and invalid UTF-8 byte as "\xNN".
void AppendSanitized(std::string_view text, std::string* out);

// "YYYY-MM-DD HH:MM:SS.ffffff" (UTC or local time), or "sec.ffffff" since
// the epoch, per `options`.
void AppendTimestamp(int64_t ns, const FormatOptions& options,
                     std::string* out);

// Whole seconds since the epoch of `ns`, rounded down (also before 1970).
int64_t FloorSeconds(int64_t ns);
// The calendar time of `ns` (its whole second) in UTC or local time.
std::tm CalendarTime(int64_t ns, bool utc);
// "YYYY-MM-DD HH:MM:SS" in UTC or local time, or the epoch seconds with
// `since_epoch`: pmacct's stamp_inserted / stamp_updated.
void AppendStamp(int64_t ns, bool utc, bool since_epoch, std::string* out);

// IANA protocol keyword in lower case ("tcp", "udp", "ipv6-icmp"), or the
// decimal number when the protocol has no well-known name.
void AppendProtocolName(uint8_t proto, std::string* out);

// MPLS label stack entries (label << 4 | exp << 1 | bos) as
// "label-exp,label-exp".
void AppendMplsStack(std::span<const uint32_t> entries, std::string* out);

// RFC 4360 extended communities (8 octets each, wire order) as pmacct
// prints them, `separator`-separated ("_" in flow outputs, " " in BGP
// dumps): route target and route origin of the IANA two-octet AS (type
// 0x00), IPv4 (0x01) and four-octet AS (0x02, RFC 5668) kinds as
// "RT:65000:100" / "SoO:192.0.2.1:7"; any other community as "0x" and its
// 16 hex digits. A trailing partial value is ignored.
void AppendExtCommunities(std::span<const uint8_t> values, std::string* out,
                          char separator = '_');
// RFC 8092 large communities (12 octets each) as "65000:1:2",
// `separator`-separated.
void AppendLargeCommunities(std::span<const uint8_t> values, std::string* out,
                            char separator = '_');

// RFC 4364 §4.2 route distinguisher as "type:admin:value".
void AppendRd(const std::array<uint8_t, 8>& rd, std::string* out);

// Appends `text` escaped for a JSON string body (RFC 8259 §7).
void AppendJsonEscaped(std::string_view text, std::string* out);

// The value of a time field (kTimestampStart/End/Export) of `r`, ns since
// the epoch; 0 for any other field.
int64_t TimestampField(const FlowRecord& r, FlowField f);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_MODEL_VALUE_FORMAT_H_
