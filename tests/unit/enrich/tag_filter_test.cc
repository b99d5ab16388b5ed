#include "flowacct/enrich/tag_filter.h"

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

TagFilter MustTag(std::string_view text) {
  auto f = TagFilter::Parse(text);
  INFO(f.status().ToString());
  REQUIRE(f.ok());
  return *f;
}

LabelFilter MustLabel(std::string_view text) {
  auto f = LabelFilter::Parse(text);
  INFO(f.status().ToString());
  REQUIRE(f.ok());
  return *f;
}

TEST_CASE("TagFilter: values, lists, ranges", "[tag_filter]") {
  TagFilter one = MustTag("10");
  CHECK(one.Matches(10));
  CHECK_FALSE(one.Matches(11));
  CHECK_FALSE(one.Matches(0));

  TagFilter list = MustTag("10, 20");
  CHECK(list.Matches(10));
  CHECK(list.Matches(20));
  CHECK_FALSE(list.Matches(15));

  TagFilter range = MustTag("10-20");
  CHECK(range.Matches(10));
  CHECK(range.Matches(15));
  CHECK(range.Matches(20));
  CHECK_FALSE(range.Matches(9));
  CHECK_FALSE(range.Matches(21));
}

TEST_CASE("TagFilter: negation and untagged", "[tag_filter]") {
  TagFilter neg = MustTag("-5");
  CHECK(neg.Matches(4));
  CHECK(neg.Matches(0));
  CHECK_FALSE(neg.Matches(5));

  TagFilter untagged = MustTag("0");
  CHECK(untagged.Matches(0));
  CHECK_FALSE(untagged.Matches(1));

  TagFilter mixed = MustTag("1-100,-50");
  CHECK(mixed.Matches(1));
  CHECK(mixed.Matches(49));
  CHECK_FALSE(mixed.Matches(50));
  CHECK_FALSE(mixed.Matches(101));

  TagFilter neg_range = MustTag("-10-20");
  CHECK(neg_range.Matches(9));
  CHECK_FALSE(neg_range.Matches(15));
}

TEST_CASE("TagFilter: empty filter matches everything", "[tag_filter]") {
  TagFilter empty = MustTag("  ");
  CHECK(empty.empty());
  CHECK(empty.Matches(0));
  CHECK(empty.Matches(123));
  CHECK(TagFilter().Matches(7));
}

TEST_CASE("TagFilter: errors", "[tag_filter]") {
  CHECK_FALSE(TagFilter::Parse("abc").ok());
  CHECK_FALSE(TagFilter::Parse("10,,20").ok());
  CHECK_FALSE(TagFilter::Parse("20-10").ok());
  CHECK_FALSE(TagFilter::Parse("-").ok());
  CHECK_FALSE(TagFilter::Parse("1-2-3").ok());
  CHECK_FALSE(TagFilter::Parse("99999999999999999999999").ok());
  auto bad = TagFilter::Parse("10,x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("'x'") != std::string::npos);
}

TEST_CASE("LabelFilter", "[tag_filter]") {
  LabelFilter blabla = MustLabel("blabla");
  CHECK(blabla.Matches("blabla"));
  CHECK(blabla.Matches("blabla,blabla2"));
  CHECK(blabla.Matches("x,blabla"));
  CHECK_FALSE(blabla.Matches("blabla2"));
  CHECK_FALSE(blabla.Matches(""));

  LabelFilter either = MustLabel("blabla, other");
  CHECK(either.Matches("other"));
  CHECK(either.Matches("blabla"));
  CHECK_FALSE(either.Matches("third"));

  LabelFilter null = MustLabel("null");
  CHECK(null.Matches(""));
  CHECK_FALSE(null.Matches("a"));

  LabelFilter not_null = MustLabel("-null");
  CHECK(not_null.Matches("a"));
  CHECK_FALSE(not_null.Matches(""));

  LabelFilter not_a = MustLabel("-a");
  CHECK(not_a.Matches("b"));
  CHECK(not_a.Matches(""));
  CHECK_FALSE(not_a.Matches("b,a"));

  CHECK(MustLabel("").Matches("anything"));
  CHECK_FALSE(LabelFilter::Parse("a,,b").ok());
  CHECK_FALSE(LabelFilter::Parse("-").ok());
}

}  // namespace
}  // namespace flowacct
