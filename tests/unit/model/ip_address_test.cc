#include "flowacct/model/ip_address.h"

#include <string>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

std::string Canon(const std::string& text) {
  Result<IpAddress> a = IpAddress::Parse(text);
  if (!a.ok()) return "ERR";
  return a->ToString();
}

TEST_CASE("IpAddress parses and prints IPv4") {
  CHECK(Canon("192.0.2.1") == "192.0.2.1");
  CHECK(Canon("0.0.0.0") == "0.0.0.0");
  CHECK(Canon("255.255.255.255") == "255.255.255.255");
  CHECK(IpAddress::Parse("10.1.2.3")->v4_host_order() == 0x0a010203);
  CHECK(IpAddress::V4(0x7f000001).ToString() == "127.0.0.1");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3",
                          "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1.2.3.-4"}) {
    INFO(bad);
    CHECK_FALSE(IpAddress::Parse(bad).ok());
    CHECK(IpAddress::Parse(bad).status().code() ==
          StatusCode::kInvalidArgument);
  }
}

TEST_CASE("IpAddress prints IPv6 in RFC 5952 canonical form") {
  // §4.1 leading zeros, §4.2 longest run compressed, >= 2 groups only,
  // first run on ties, §4.3 lower case.
  CHECK(Canon("2001:0DB8:0000:0000:0000:0000:0000:0001") == "2001:db8::1");
  CHECK(Canon("2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1");
  CHECK(Canon("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1");
  CHECK(Canon("2001:0:0:1:0:0:0:1") == "2001:0:0:1::1");
  CHECK(Canon("::") == "::");
  CHECK(Canon("::1") == "::1");
  CHECK(Canon("1::") == "1::");
  CHECK(Canon("fe80::") == "fe80::");
  CHECK(Canon("1:0:0:0:0:0:0:0") == "1::");
  CHECK(Canon("0:0:0:0:0:0:0:1") == "::1");
  CHECK(Canon("1:2:3:4:5:6:7:8") == "1:2:3:4:5:6:7:8");
  CHECK(Canon("::ffff:192.0.2.1") == "::ffff:192.0.2.1");  // §5
  CHECK(Canon("64:ff9b::192.0.2.33") == "64:ff9b::c000:221");
  CHECK(Canon("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789") ==
        "abcd:ef01:2345:6789:abcd:ef01:2345:6789");
}

TEST_CASE("IpAddress rejects malformed IPv6") {
  for (const char* bad :
       {":", ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "g::1",
        "1:2:3:4:5:6:7:8::", "::1.2.3", "::1.2.3.4:5",
        "1:2:3:4:5:6:7:1.2.3.4"}) {
    INFO(bad);
    CHECK_FALSE(IpAddress::Parse(bad).ok());
  }
}

TEST_CASE("IpAddress round-trips and compares") {
  IpAddress a = *IpAddress::Parse("2001:db8::1");
  IpAddress b = *IpAddress::Parse(a.ToString());
  CHECK(a == b);
  CHECK(a.is_v6());
  CHECK(a.size() == 16);
  CHECK_FALSE(*IpAddress::Parse("0.0.0.0") == IpAddress());
  CHECK(IpAddress().ToString().empty());
  std::string s = "x=";
  a.AppendTo(&s);
  CHECK(s == "x=2001:db8::1");
}

TEST_CASE("MacAddress, Prefix and Endpoint text") {
  const uint8_t mac[6] = {0x00, 0x1A, 0x2b, 0xff, 0x00, 0x09};
  CHECK(MacAddress::FromBytes(mac).ToString() == "00:1a:2b:ff:00:09");
  CHECK(MacAddress().ToString() == "00:00:00:00:00:00");
  CHECK((Prefix{*IpAddress::Parse("192.0.2.0"), 24}).ToString() ==
        "192.0.2.0/24");
  CHECK((Prefix{*IpAddress::Parse("2001:db8::"), 32}).ToString() ==
        "2001:db8::/32");
  CHECK((Endpoint{*IpAddress::Parse("192.0.2.1"), 2055}).ToString() ==
        "192.0.2.1:2055");
  CHECK((Endpoint{*IpAddress::Parse("2001:db8::1"), 4739}).ToString() ==
        "[2001:db8::1]:4739");
}

}  // namespace
}  // namespace flowacct
