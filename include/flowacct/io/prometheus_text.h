// File: flowacct/io/prometheus_text.h
//
// PrometheusText: builds a metrics page in the Prometheus text exposition
// format, version 0.0.4 (served as `text/plain; version=0.0.4`). It writes
// the `# HELP` / `# TYPE` lines of each metric family and its samples, with
// label values and help text escaped as the format requires, so callers
// never assemble the syntax by hand.
//
//   PrometheusText page;
//   page.Family("flowacct_input_datagrams_total", MetricType::kCounter,
//               "UDP datagrams received.");
//   page.Sample("flowacct_input_datagrams_total",
//               {{"listener", "[::]:2100"}, {"exporter", "192.0.2.1"}}, 1234);
//   page.Gauge("flowacct_aggregator_entries", "Entries in the cache.", 42);
//   std::string body = page.Take();
//
// Names follow the conventions in the project's ecosystem notes: a
// `flowacct_` prefix, counters ending in `_total`, base units (seconds,
// bytes). Metric and label names must match the format's grammar
// ([a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*); a character outside
// it is written as '_' so the page always parses. Label values are any
// UTF-8 text: backslash, double quote and line feed are escaped (\\, \",
// \n). Help text escapes backslash and line feed.
//
// Contract: all samples of one family are written right after its Family()
// call, and each family appears once per page (the format requires it; the
// builder does not check).
//
// Thread-safety: thread-compatible (build one page per thread).

#ifndef FLOWACCT_IO_PROMETHEUS_TEXT_H_
#define FLOWACCT_IO_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace flowacct {

enum class MetricType { kCounter, kGauge, kUntyped };

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

class PrometheusText {
 public:
  // The content type to serve the page with.
  static constexpr std::string_view kContentType =
      "text/plain; version=0.0.4; charset=utf-8";

  // Starts a family: `# HELP name help` (omitted when help is empty) and
  // `# TYPE name type`.
  void Family(std::string_view name, MetricType type, std::string_view help);

  // One sample line `name{labels} value` (any arithmetic value). Integers
  // are written exactly; floating-point values in the shortest form that
  // reads back the same, NaN as "NaN", infinities as "+Inf" / "-Inf".
  template <typename T>
  requires std::is_arithmetic_v<T>
  void Sample(std::string_view name, std::span<const MetricLabel> labels,
              T value) {
    BeginSample(name, labels);
    if constexpr (std::is_floating_point_v<T>) {
      AppendDouble(static_cast<double>(value));
    } else if constexpr (std::is_signed_v<T>) {
      AppendInt(static_cast<int64_t>(value));
    } else {
      AppendUint(static_cast<uint64_t>(value));
    }
    text_ += '\n';
  }
  template <typename T>
  requires std::is_arithmetic_v<T>
  void Sample(std::string_view name, std::initializer_list<MetricLabel> labels,
              T value) {
    Sample(name, std::span<const MetricLabel>(labels.begin(), labels.size()),
           value);
  }

  // A family with one unlabelled sample.
  void Counter(std::string_view name, std::string_view help, uint64_t value);
  template <typename T>
  requires std::is_arithmetic_v<T>
  void Gauge(std::string_view name, std::string_view help, T value) {
    Family(name, MetricType::kGauge, help);
    Sample(name, {}, value);
  }

  const std::string& text() const { return text_; }
  // Returns the page and leaves the builder empty.
  std::string Take();

  // Appends `value` escaped as a label value (without quotes) to *out.
  static void AppendEscapedLabelValue(std::string_view value, std::string* out);

 private:
  void AppendName(std::string_view name, bool label);
  void BeginSample(std::string_view name, std::span<const MetricLabel> labels);
  void AppendInt(int64_t v);
  void AppendUint(uint64_t v);
  void AppendDouble(double v);

  std::string text_;
};

}  // namespace flowacct

#endif  // FLOWACCT_IO_PROMETHEUS_TEXT_H_
