// libFuzzer target: the pmacct-syntax config parser
// (libflowacct/config/daemon_config.cc, config_text.cc).
//
// The input is split at the first NUL byte: before it, the config text;
// after it, newline-separated "key=value" command-line overrides (each
// through ParseConfigOverride). Every successful parse is checked for the
// invariants the daemon relies on.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowacct/config/daemon_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string text = input.substr(0, nul);
  std::vector<std::pair<std::string, std::string>> overrides;
  if (nul != std::string::npos) {
    std::string_view rest = std::string_view(input).substr(nul + 1);
    while (!rest.empty()) {
      const size_t eol = rest.find('\n');
      auto kv = flowacct::ParseConfigOverride(rest.substr(0, eol));
      if (kv.ok()) overrides.push_back(std::move(*kv));
      if (eol == std::string_view::npos) break;
      rest.remove_prefix(eol + 1);
    }
  }
  std::vector<flowacct::ConfigWarning> warnings;
  auto config =
      flowacct::ParseDaemonConfig(text, "fuzz.conf", overrides, &warnings);
  if (!config.ok()) {
    if (config.status().message().empty()) std::abort();
    return 0;
  }
  if (config->plugins.empty() || config->listeners.empty()) std::abort();
  for (const flowacct::PluginConfig& p : config->plugins) {
    if (p.name.empty() || p.aggregate.empty() || p.refresh_time == 0) {
      std::abort();
    }
  }
  for (const flowacct::ListenerConfig& l : config->listeners) {
    if (l.port == 0) std::abort();
  }
  return 0;
}
