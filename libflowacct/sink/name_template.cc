#include "libflowacct/sink/name_template.h"

#include <stdio.h>
#include <time.h>

#include <utility>
#include <vector>

#include "libflowacct/model/value_format.h"
#include "libflowacct/sink/file_util.h"

namespace flowacct::internal {
namespace {

std::string TzoneOf(const struct tm& tm) {
  long off = tm.tm_gmtoff;
  if (off == 0) return "Z";
  char buf[32];
  const char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  off %= 100 * 3600;  // UTC offsets are within +-26 h
  snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, off / 3600,
           off / 60 % 60);
  return buf;
}

}  // namespace

std::string NameTemplate::TzoneAt(int64_t time_ns) const {
  return TzoneOf(CalendarTime(time_ns, utc_));
}

NameTemplate::NameTemplate(std::string text, std::string what, bool utc,
                           NameConstants constants)
    : text_(std::move(text)),
      what_(std::move(what)),
      utc_(utc),
      constants_(constants),
      has_time_(text_.find('%') != std::string::npos),
      has_variables_(text_.find('$') != std::string::npos) {}

Result<std::string> NameTemplate::Render(int64_t time_ns,
                                         const FlowRecord* row) {
  std::string timed;
  if (has_time_ && time_ns == cached_time_ && !cached_timed_.empty()) {
    timed = cached_timed_;
  } else if (has_time_) {
    const struct tm tm = CalendarTime(time_ns, utc_);
    std::vector<char> buf(text_.size() * 4 + 256);
    size_t n = strftime(buf.data(), buf.size(), text_.c_str(), &tm);
    if (n == 0 || n > 4096) {
      return InvalidArgumentError(what_ + " \"" + text_ +
                                  "\" renders to an empty or too long name");
    }
    timed.assign(buf.data(), n);
    cached_time_ = time_ns;
    cached_timed_ = timed;
    cached_tzone_ = TzoneOf(tm);
  } else {
    timed = text_;
  }
  if (!has_variables_) return timed;
  std::string out;
  out.reserve(timed.size());
  for (size_t i = 0; i < timed.size();) {
    if (timed[i] != '$') {
      out.push_back(timed[i++]);
      continue;
    }
    std::string_view rest = std::string_view(timed).substr(i + 1);
    std::string value;
    size_t len = 0;
    if (rest.starts_with("peer_src_ip")) {
      len = 11;
      if (row != nullptr && row->exporter.is_set()) {
        value = row->exporter.ToString();
      }
    } else if (rest.starts_with("post_tag2")) {
      len = 9;
      value = std::to_string(constants_.post_tag2);
    } else if (rest.starts_with("post_tag")) {
      len = 8;
      value = std::to_string(constants_.post_tag);
    } else if (rest.starts_with("ref")) {
      len = 3;
      value = std::to_string(constants_.refresh_seconds);
    } else if (rest.starts_with("hst")) {
      len = 3;
      value = std::to_string(constants_.history_seconds);
    } else if (rest.starts_with("tzone")) {
      // Not from the wire: kept as is ("+02:00").
      out.append(has_time_ ? cached_tzone_ : TzoneAt(time_ns));
      i += 1 + 5;
      continue;
    } else if (rest.starts_with("tag2")) {
      len = 4;
      value = std::to_string(row != nullptr ? row->tag2 : 0);
    } else if (rest.starts_with("tag")) {
      len = 3;
      value = std::to_string(row != nullptr ? row->tag : 0);
    } else {
      out.push_back(timed[i++]);  // not a variable: literal '$'
      continue;
    }
    out.append(SanitizePathValue(value));
    i += 1 + len;
  }
  return out;
}

}  // namespace flowacct::internal
