// The information model: the IPFIX information elements (RFC 7012 and the
// IANA "IPFIX Information Elements" registry) and NetFlow v9 field types
// (RFC 3954 §8; types < 128 equal the IPFIX IEs) that flowacct maps onto
// FlowRecord members, as a compiled-in table.
//
// Each entry says how the element is typed on the wire, which FlowRecord
// member it fills, with which converter, and -- when several elements can
// fill the same member -- its precedence rank (lower wins; equal ranks: the
// first occurrence in the template wins). Template compilation
// (field_program.cc) reads the table once per template; nothing here runs per
// record.
//
// Elements not in the table are skipped by length (and still available to
// custom primitives). Cisco ASA NSEL v9 types >= 32768 are looked up with
// pen 0 and their v9 number; RFC 5103 reverse elements with PEN 29305.
//
// Thread-safety: the table is immutable; all functions are safe to call
// concurrently.

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_INFORMATION_ELEMENTS_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_INFORMATION_ELEMENTS_H_

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "flowacct/model/flow_record.h"

namespace flowacct::internal {

// RFC 5103 §6: reverse information elements use this enterprise number with
// the forward element's id.
inline constexpr uint32_t kReversePen = 29305;

// IANA abstract data types (RFC 7012 §3.1) as far as decoding cares.
enum class IeType : uint8_t {
  kUnsigned8,
  kUnsigned16,
  kUnsigned32,
  kUnsigned64,
  kIpv4Address,
  kIpv6Address,
  kMacAddress,
  kString,
  kOctetArray,
  kDateTimeSeconds,
  kDateTimeMilliseconds,
  kDateTimeMicroseconds,  // NTP 64-bit format (RFC 7011 §6.1.9)
  kDateTimeNanoseconds,   // NTP 64-bit format (RFC 7011 §6.1.10)
  kList,                  // RFC 6313 basicList / subTemplate(Multi)List
};

// How a wire value becomes a FlowRecord value.
enum class Converter : uint8_t {
  kNone,  // known element without a FlowRecord member: skipped
  kUint,  // reduced-size unsigned (RFC 7011 §6.2) into an integer
  kIpv4,  // 4 bytes into an IpAddress
  kIpv6,  // 16 bytes into an IpAddress
  kMac,   // 6 bytes into a MacAddress
  kRouteDistinguisher,  // 8 bytes into mpls_vpn_rd
  kBytes,               // any length into a ByteRef (batch arena)
  kIcmpTypeCode,        // IE 32/139: type << 8 | code
  kMplsLabel,           // IE 70..79: label stack entry `aux` (0 = top)
  kTimeSeconds,         // dateTimeSeconds into an int64 ns member
  kTimeMilliseconds,    // dateTimeMilliseconds into an int64 ns member
  kTimeNtp,             // dateTimeMicro/Nanoseconds (NTP format) into ns
  kSysUpTime,           // IE 21/22: ms since exporter init (relative)
  kSysInitTime,         // IE 160: absolute ms of exporter init
  kObservationTime,     // IE 323: ms; fills the start (NSEL event time)
  kPacketInterval,      // IE 305 samplingPacketInterval
  kPacketSpace,         // IE 306 samplingPacketSpace
  kPacketSection,       // IE 315 / v9 104: raw frame bytes, parsed as Ethernet
  kExporterAddress,     // IE 130/131: replaces FlowRecord::exporter if non-zero
  kMplsTopLabelAddress,  // IE 47: bgp_next_hop when IE 18 is absent or zero
  kOpaqueList,           // IE 291..293 (RFC 6313): skipped, never recursed into
};

// A FlowRecord member, as a typed member pointer.
struct MemberRef {
  enum class Kind : uint8_t {
    kNone,
    kU8,
    kU16,
    kU32,
    kU64,
    kI64,
    kIp,
    kMac,
    kRef,
    kRd
  };
  Kind kind = Kind::kNone;
  union {
    uint8_t FlowRecord::*u8;
    uint16_t FlowRecord::*u16;
    uint32_t FlowRecord::*u32;
    uint64_t FlowRecord::*u64;
    int64_t FlowRecord::*i64;
    IpAddress FlowRecord::*ip;
    MacAddress FlowRecord::*mac;
    ByteRef FlowRecord::*ref;
    std::array<uint8_t, 8> FlowRecord::*rd;
  };
  constexpr MemberRef() : u8(nullptr) {}
  constexpr MemberRef(uint8_t FlowRecord::*m) : kind(Kind::kU8), u8(m) {}
  constexpr MemberRef(uint16_t FlowRecord::*m) : kind(Kind::kU16), u16(m) {}
  constexpr MemberRef(uint32_t FlowRecord::*m) : kind(Kind::kU32), u32(m) {}
  constexpr MemberRef(uint64_t FlowRecord::*m) : kind(Kind::kU64), u64(m) {}
  constexpr MemberRef(int64_t FlowRecord::*m) : kind(Kind::kI64), i64(m) {}
  constexpr MemberRef(IpAddress FlowRecord::*m) : kind(Kind::kIp), ip(m) {}
  constexpr MemberRef(MacAddress FlowRecord::*m) : kind(Kind::kMac), mac(m) {}
  constexpr MemberRef(ByteRef FlowRecord::*m) : kind(Kind::kRef), ref(m) {}
  constexpr MemberRef(std::array<uint8_t, 8> FlowRecord::*m)
      : kind(Kind::kRd), rd(m) {}
};

struct InformationElement {
  uint32_t pen = 0;
  uint16_t id = 0;
  std::string_view name;  // IANA name ("sourceIPv4Address") or NSEL name
  IeType type = IeType::kOctetArray;
  Converter converter = Converter::kNone;
  MemberRef member;  // target (kind kNone for converters that need none)
  // The FlowField bit the element fills (kCount: none), and a second one for
  // elements that fill two members (IE 32: icmp type and code; IE 323: start
  // and end).
  FlowField field = FlowField::kCount;
  FlowField field2 = FlowField::kCount;
  // Precedence among elements filling the same FlowField: lower wins.
  uint8_t rank = 0;
  uint8_t aux = 0;  // kMplsLabel: stack index
};

// The element for (pen, id), or null when flowacct does not know it.
// `reverse` (RFC 5103) looks up (kReversePen, id) when pen is 0.
const InformationElement* FindInformationElement(uint32_t pen, uint16_t id,
                                                 bool reverse = false);

// The whole table (for documentation and `flowacct elements`).
std::span<const InformationElement> InformationElements();

// Whether `length` bytes is a valid wire length for an element of `type`
// (RFC 7011 §6.2 reduced-size encoding for unsigned types; exact sizes for
// addresses; 8 bytes for NTP times). Variable length (65535) is valid only
// for string / octetArray / list types.
bool IsValidLength(const InformationElement& ie, uint16_t length);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_INFORMATION_ELEMENTS_H_
