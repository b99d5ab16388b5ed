// NameTemplate: pmacct's dynamic names — print_output_file, sql_table,
// amqp_routing_key, kafka_topic — rendered for one row (pmacct.md §1(h)).
// strftime conversions first (%Y %m %d %H %M %S %s %z ...), with the row's
// time bin or the flush time, in local time unless `utc`; then the
// variables $peer_src_ip, $tag, $tag2, $post_tag, $post_tag2, and $ref (the
// refresh time in seconds), $hst (the history length in seconds, 0 without
// bins; a month counts as 30 days) and $tzone ("Z" when the rendered time's
// offset is 0, else "+02:00" / "-04:00"), as nfacctd 1.7.7 renders them
// (pmacct.md §1(h)). Row variable
// values are reduced to [A-Za-z0-9_-] (every other byte becomes '_', so
// "10.0.0.1" gives "10_0_0_1", as pmacct), so a value from the wire can
// never add a '/', "..", a quote or a control byte to a path, a table name
// or a routing key. A '$' that starts no variable is kept. Private to
// libflowacct.
//
// Thread-safety: Render() caches the last strftime result; one thread at a
// time.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_NAME_TEMPLATE_H_
#define FLOWACCT_LIBFLOWACCT_SINK_NAME_TEMPLATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/model/flow_record.h"
#include "flowacct/status.h"

namespace flowacct::internal {

// $hst of a history spec: its length in seconds, a month as 30 days, 0
// without bins.
inline uint64_t HistoryNameSeconds(const HistorySpec& h) {
  if (!h.enabled()) return 0;
  if (h.unit == HistorySpec::Unit::kMonth) return uint64_t{h.count} * 2592000;
  return static_cast<uint64_t>(h.seconds());
}

// The values of the variables that do not depend on the row.
struct NameConstants {
  uint64_t post_tag = 0;
  uint64_t post_tag2 = 0;
  uint64_t refresh_seconds = 0;  // $ref
  uint64_t history_seconds = 0;  // $hst
};

class NameTemplate {
 public:
  // `what` names the setting in errors ("print_output_file").
  NameTemplate(std::string text, std::string what, bool utc,
               NameConstants constants = NameConstants());

  const std::string& text() const { return text_; }
  bool has_time() const { return has_time_; }
  bool has_variables() const { return has_variables_; }

  // Renders with `time_ns` (ns since the epoch) and the values of `row`
  // (null: every row variable renders as if absent: "0"). kInvalidArgument
  // when strftime renders nothing or more than 4 KiB.
  Result<std::string> Render(int64_t time_ns, const FlowRecord* row);

 private:
  std::string TzoneAt(int64_t time_ns) const;

  std::string text_;
  std::string what_;
  bool utc_;
  NameConstants constants_;
  bool has_time_;
  bool has_variables_;
  int64_t cached_time_ = 0;
  std::string cached_timed_;
  std::string cached_tzone_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_NAME_TEMPLATE_H_
