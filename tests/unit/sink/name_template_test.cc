// Dynamic names (print_output_file, sql_table, topics, routing keys): the
// values nfacctd 1.7.7 gives $ref, $hst and $tzone were observed with
// print_output_file "x-$ref-$hst-$tzone-%H%M.csv": x-300-300-Z-1103.csv in
// UTC, x-300-300--04:00-0703.csv with TZ=America/New_York.

#include "libflowacct/sink/name_template.h"

#include <stdlib.h>
#include <time.h>

#include <catch2/catch.hpp>

#include "flowacct/model/ip_address.h"

namespace flowacct::internal {
namespace {

constexpr int64_t kSecond = 1000000000;
// 2017-08-08 11:03:00 UTC
constexpr int64_t kTime = int64_t{1502190180} * kSecond;

TEST_CASE("name template: $ref, $hst and $tzone as nfacctd renders them",
          "[name]") {
  NameTemplate t("x-$ref-$hst-$tzone-%H%M.csv", "print_output_file", true,
                 {0, 0, 300, 300});
  CHECK(*t.Render(kTime, nullptr) == "x-300-300-Z-1103.csv");

  HistorySpec h = *HistorySpec::Parse("1w");
  CHECK(HistoryNameSeconds(h) == 604800);
  CHECK(HistoryNameSeconds(*HistorySpec::Parse("2M")) == 2 * 2592000);
  CHECK(HistoryNameSeconds(HistorySpec()) == 0);

  // Local time: the offset of the rendered time.
  const char* old = getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  setenv("TZ", "America/New_York", 1);
  tzset();
  NameTemplate local("x-$tzone-%H%M", "print_output_file", false);
  CHECK(*local.Render(kTime, nullptr) == "x--04:00-0703");
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST_CASE("name template: row values are reduced to [A-Za-z0-9_-]",
          "[name]") {
  NameTemplate t("/data/$peer_src_ip/$tag-$post_tag.csv", "print_output_file",
                 true, {7, 0, 0, 0});
  FlowRecord r;
  r.exporter = IpAddress::Parse("2001:db8::1").value();
  r.tag = 42;
  CHECK(*t.Render(0, &r) == "/data/2001_db8__1/42-7.csv");
  CHECK(*t.Render(0, nullptr) == "/data/0/0-7.csv");
  NameTemplate literal("cost$5", "sql_table", true);
  CHECK(*literal.Render(0, nullptr) == "cost$5");
}

}  // namespace
}  // namespace flowacct::internal
