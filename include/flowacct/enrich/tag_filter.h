// File: flowacct/enrich/tag_filter.h
//
// The values of pmacct's per-plugin pre_tag_filter / pre_tag2_filter
// (TagFilter) and pre_tag_label_filter (LabelFilter) keys: which records a
// plugin accepts, by the tag / tag2 / label the pre_tag_map gave them.
//
// TagFilter syntax: a comma-separated list (spaces allowed around items) of
//   N        tag equals N            ("0" selects untagged records)
//   A-B      A <= tag <= B
//   -N, -A-B negation: records matching this item are rejected
// A record passes when no negated item matches it and, if there are
// positive items, at least one of them matches.
//   "10"  "10,20"  "10-20"  "-5"  "0"  "1-100,-50"
//
// LabelFilter syntax: a comma-separated list of labels; `null` selects
// records without a label, `-<label>` (and `-null`) negate. A record's label
// made of several comma-joined labels ("a,b", see pre_tag_map set_label)
// matches an item when any of its parts equals it. Same pass rule as above.
//
// Thread-safety: immutable value types; const methods are safe concurrently.

#ifndef FLOWACCT_ENRICH_TAG_FILTER_H_
#define FLOWACCT_ENRICH_TAG_FILTER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/status.h"

namespace flowacct {

class TagFilter {
 public:
  // The empty filter: matches everything.
  TagFilter() = default;

  // Parses a filter value. An empty or all-blank text gives the empty filter.
  // Errors: kInvalidArgument naming the offending item (not a number,
  // A > B, empty item).
  static Result<TagFilter> Parse(std::string_view text);

  // True when a record with this tag passes (0 = untagged).
  bool Matches(uint64_t tag) const;
  bool empty() const { return items_.empty(); }

 private:
  struct Item {
    uint64_t low = 0;
    uint64_t high = 0;
    bool negated = false;
  };
  std::vector<Item> items_;
  bool has_positive_ = false;
};

class LabelFilter {
 public:
  // The empty filter: matches everything.
  LabelFilter() = default;

  // Parses a filter value. Errors: kInvalidArgument for an empty item
  // ("a,,b") or a lone "-".
  static Result<LabelFilter> Parse(std::string_view text);

  // True when a record with this label passes ("" = no label).
  bool Matches(std::string_view label) const;
  bool empty() const { return items_.empty(); }

 private:
  struct Item {
    std::string label;  // "" for null
    bool negated = false;
  };
  bool ItemMatches(const Item& item, std::string_view label) const;
  std::vector<Item> items_;
  bool has_positive_ = false;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_TAG_FILTER_H_
