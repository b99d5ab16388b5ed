// PrometheusText: text exposition format 0.0.4 writer.

#include "flowacct/io/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <utility>

namespace flowacct {
namespace {

bool NameChar(char c, bool first, bool label) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
    return true;
  }
  if (c == ':') return !label;
  return !first && c >= '0' && c <= '9';
}

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

}  // namespace

void PrometheusText::AppendName(std::string_view name, bool label) {
  if (name.empty()) {
    text_ += '_';
    return;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    text_ += NameChar(name[i], i == 0, label) ? name[i] : '_';
  }
}

void PrometheusText::AppendEscapedLabelValue(std::string_view value,
                                             std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '"':
        *out += "\\\"";
        break;
      case '\n':
        *out += "\\n";
        break;
      default:
        *out += c;
    }
  }
}

void PrometheusText::Family(std::string_view name, MetricType type,
                            std::string_view help) {
  if (!help.empty()) {
    text_ += "# HELP ";
    AppendName(name, false);
    text_ += ' ';
    for (char c : help) {
      if (c == '\\') {
        text_ += "\\\\";
      } else if (c == '\n') {
        text_ += "\\n";
      } else {
        text_ += c;
      }
    }
    text_ += '\n';
  }
  text_ += "# TYPE ";
  AppendName(name, false);
  text_ += ' ';
  text_ += TypeName(type);
  text_ += '\n';
}

void PrometheusText::BeginSample(std::string_view name,
                                 std::span<const MetricLabel> labels) {
  AppendName(name, false);
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const MetricLabel& l : labels) {
      if (!first) text_ += ',';
      first = false;
      AppendName(l.name, true);
      text_ += "=\"";
      AppendEscapedLabelValue(l.value, &text_);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
}

void PrometheusText::AppendInt(int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  text_.append(buf, r.ptr);
}

void PrometheusText::AppendUint(uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  text_.append(buf, r.ptr);
}

void PrometheusText::AppendDouble(double v) {
  if (std::isnan(v)) {
    text_ += "NaN";
  } else if (std::isinf(v)) {
    text_ += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    text_.append(buf, r.ptr);
  }
}

void PrometheusText::Counter(std::string_view name, std::string_view help,
                             uint64_t value) {
  Family(name, MetricType::kCounter, help);
  Sample(name, {}, value);
}

std::string PrometheusText::Take() {
  std::string out = std::move(text_);
  text_.clear();
  return out;
}

}  // namespace flowacct
