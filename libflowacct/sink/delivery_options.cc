// DeliveryOptions::FromConfig (flowacct/sink/delivery.h).

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "flowacct/sink/delivery.h"

#include "libflowacct/sink/file_util.h"

namespace flowacct {
namespace {

constexpr char kDefaultSpoolRoot[] = "/var/spool/flowacct/";

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A decimal integer in [min, max] (digits only, no sign).
bool ParseUnsigned(std::string_view text, uint64_t min, uint64_t max,
                   uint64_t* out) {
  text = TrimBlanks(text);
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t value = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

Status BadValue(const PluginConfig::RawKey& raw, std::string_view expected) {
  return InvalidArgumentError(raw.source.ToString() + ": " + raw.key +
                              ": expected " + std::string(expected) +
                              ", got '" + raw.value + "'");
}

}  // namespace

Result<DeliveryOptions> DeliveryOptions::FromConfig(
    const PluginConfig& plugin) {
  DeliveryOptions options;
  // The spool of each plugin is <root>/<type>-<name>, so one
  // flowacct_spool_dir for every plugin never makes two share a directory.
  const std::string leaf = internal::SanitizePathValue(plugin.type) + "-" +
                           internal::SanitizePathValue(plugin.name);
  options.spool_dir = std::string(kDefaultSpoolRoot) + leaf;
  // `raw` is in precedence order: a later entry overrides an earlier one.
  for (const PluginConfig::RawKey& raw : plugin.raw) {
    if (raw.key == "flowacct_spool_dir") {
      std::string_view value = TrimBlanks(raw.value);
      if (value.empty()) {
        return BadValue(raw, "a directory or 'none'");
      }
      std::string root(value);
      while (root.size() > 1 && root.back() == '/') root.pop_back();
      options.spool_dir = value == "none" ? "" : root + "/" + leaf;
    } else if (raw.key == "flowacct_spool_max_mb") {
      uint64_t mb = 0;
      if (!ParseUnsigned(raw.value, 1,
                         std::numeric_limits<uint64_t>::max() >> 20, &mb)) {
        return BadValue(raw, "a positive integer (MiB)");
      }
      options.spool_max_bytes = mb << 20;
    } else if (raw.key == "flowacct_queue_entries") {
      uint64_t entries = 0;
      if (!ParseUnsigned(raw.value, 1, std::numeric_limits<uint32_t>::max(),
                         &entries)) {
        return BadValue(raw, "a positive integer");
      }
      options.memory_envelopes = static_cast<size_t>(entries);
    } else if (raw.key == "flowacct_close_timeout") {
      uint64_t seconds = 0;
      if (!ParseUnsigned(
              raw.value, 0,
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 1000),
              &seconds)) {
        return BadValue(raw, "a non-negative integer (seconds)");
      }
      options.close_timeout_ms = static_cast<int64_t>(seconds) * 1000;
    }
  }
  return options;
}

}  // namespace flowacct
