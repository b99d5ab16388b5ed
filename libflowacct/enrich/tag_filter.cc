#include "flowacct/enrich/tag_filter.h"

#include "libflowacct/enrich/map_text.h"

namespace flowacct {
namespace {

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Calls fn(item) for each comma-separated item; stops at the first error.
template <typename Fn>
Status ForEachItem(std::string_view text, Fn fn) {
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view item = TrimBlanks(text.substr(
        pos, comma == std::string_view::npos ? std::string_view::npos
                                             : comma - pos));
    Status s = fn(item);
    if (!s.ok()) return s;
    if (comma == std::string_view::npos) return Status::Ok();
    pos = comma + 1;
  }
}

}  // namespace

Result<TagFilter> TagFilter::Parse(std::string_view text) {
  TagFilter filter;
  if (TrimBlanks(text).empty()) return filter;
  Status s = ForEachItem(text, [&](std::string_view item) -> Status {
    const std::string_view original = item;
    Item parsed;
    if (!item.empty() && item.front() == '-') {
      parsed.negated = true;
      item.remove_prefix(1);
    }
    if (item.empty()) {
      return InvalidArgumentError(
          enrich_internal::Cat("tag filter: empty item in '", text, "'"));
    }
    const size_t dash = item.find('-');
    bool ok;
    if (dash == std::string_view::npos) {
      ok = enrich_internal::ParseUnsigned(item, &parsed.low);
      parsed.high = parsed.low;
    } else {
      ok = enrich_internal::ParseUnsigned(item.substr(0, dash), &parsed.low) &&
           enrich_internal::ParseUnsigned(item.substr(dash + 1), &parsed.high);
    }
    if (!ok) {
      return InvalidArgumentError(enrich_internal::Cat(
          "tag filter: '", original, "' is not a tag, range or negation"));
    }
    if (parsed.low > parsed.high) {
      return InvalidArgumentError(
          enrich_internal::Cat("tag filter: range '", original, "' is empty"));
    }
    if (!parsed.negated) filter.has_positive_ = true;
    filter.items_.push_back(parsed);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return filter;
}

bool TagFilter::Matches(uint64_t tag) const {
  bool positive_hit = false;
  for (const Item& item : items_) {
    const bool hit = tag >= item.low && tag <= item.high;
    if (!hit) continue;
    if (item.negated) return false;
    positive_hit = true;
  }
  return positive_hit || !has_positive_;
}

Result<LabelFilter> LabelFilter::Parse(std::string_view text) {
  LabelFilter filter;
  if (TrimBlanks(text).empty()) return filter;
  Status s = ForEachItem(text, [&](std::string_view item) -> Status {
    Item parsed;
    if (!item.empty() && item.front() == '-') {
      parsed.negated = true;
      item.remove_prefix(1);
    }
    if (item.empty()) {
      return InvalidArgumentError(
          enrich_internal::Cat("label filter: empty item in '", text, "'"));
    }
    if (item != "null") parsed.label = std::string(item);
    if (!parsed.negated) filter.has_positive_ = true;
    filter.items_.push_back(std::move(parsed));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return filter;
}

bool LabelFilter::ItemMatches(const Item& item, std::string_view label) const {
  if (item.label.empty()) return label.empty();
  size_t pos = 0;
  while (pos <= label.size()) {
    size_t comma = label.find(',', pos);
    if (comma == std::string_view::npos) comma = label.size();
    if (label.substr(pos, comma - pos) == item.label) return true;
    pos = comma + 1;
  }
  return false;
}

bool LabelFilter::Matches(std::string_view label) const {
  bool positive_hit = false;
  for (const Item& item : items_) {
    if (!ItemMatches(item, label)) continue;
    if (item.negated) return false;
    positive_hit = true;
  }
  return positive_hit || !has_positive_;
}

}  // namespace flowacct
