// Private helpers of the pmacct-syntax config parser (daemon_config.cc):
// splitting text into `key[name]: value` lines, value converters and the
// tables of pmacct keys flowacct does not implement or ignores.

#ifndef FLOWACCT_LIBFLOWACCT_CONFIG_CONFIG_TEXT_H_
#define FLOWACCT_LIBFLOWACCT_CONFIG_CONFIG_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/config/daemon_config.h"
#include "flowacct/status.h"

namespace flowacct::internal {

// One logical config line.
struct ConfigLine {
  std::string key;     // lower-cased
  std::string name;    // plugin name inside [...]; empty when unbound
  bool bound = false;  // the key had [name]
  std::string value;   // trimmed, case kept
  ConfigSource source;
};

// Splits "key" or "key[name]" (no value). kInvalidArgument with a message
// without location ("bad key 'x'").
Status SplitKey(std::string_view text, ConfigLine* line);

// Splits config text into logical lines: `\` continuation, `!` and `#`
// comment lines, blank lines skipped. Errors are "file:line: why".
Result<std::vector<ConfigLine>> SplitConfigText(std::string_view text,
                                                std::string_view filename);

std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);

// Value converters. Errors carry no location and no key: "expected ...,
// got 'x'".
Result<bool> ParseBool(std::string_view value);
Result<uint32_t> ParseUint32(std::string_view value, uint32_t min,
                             uint32_t max);
// pmacct *_history: "<count><unit>", unit one of s m h d w M
// (HistorySpec::Parse, with a message naming the expected form).
Result<HistorySpec> ParseHistoryText(std::string_view value);

// Keys flowacctd accepts and ignores (with a warning); returns the reason,
// or nullptr for any other key.
const char* IgnoredKeyReason(std::string_view key);

// True for pmacct keys (CONFIG-KEYS, pmacct 1.7.7 to 1.8.x) flowacctd does
// not implement, and for every key of a pmacct family flowacctd implements
// little or none of (bgp_*, bmp_* — callers ask about the implemented ones
// first —, telemetry_*, isis_*, rpki_*, nfprobe_*, sfprobe_*, tee_*,
// classifier_*, pmacctd_*, uacctd_*, redis_*, geoip*).
bool IsUnsupportedPmacctKey(std::string_view key);

// sql_*, amqp_*, kafka_* (and avro_*) keys of pmacct's storage and broker
// plugins that flowacct has no typed member for: accepted into
// PluginConfig::raw for the sinks that will read them.
bool IsRawOnlyPluginKey(std::string_view key);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_CONFIG_CONFIG_TEXT_H_
