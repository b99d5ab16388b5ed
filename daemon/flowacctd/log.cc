#include "daemon/flowacctd/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace flowacct::daemon {
namespace {

std::mutex g_mu;
FILE* g_out = nullptr;  // nullptr: stderr
std::string g_path;
bool g_debug = false;

void AppendValue(std::string_view v, std::string* out) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool OpenLog(const std::string& path, bool debug) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_debug = debug;
  if (g_out != nullptr) {
    std::fclose(g_out);
    g_out = nullptr;
  }
  g_path = path;
  if (path.empty()) return true;
  g_out = std::fopen(path.c_str(), "a");
  return g_out != nullptr;
}

void Log(LogLevel level, std::string_view component, std::string_view message,
         std::initializer_list<LogField> fields) {
  Log(level, component, message,
      std::span<const LogField>(fields.begin(), fields.size()));
}

void Log(LogLevel level, std::string_view component, std::string_view message,
         std::span<const LogField> fields) {
  if (level == LogLevel::kDebug && !g_debug) return;
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = stamp;
  line += " level=";
  line += LevelName(level);
  line += " component=";
  AppendValue(component, &line);
  line += " msg=";
  AppendValue(message, &line);
  for (const auto& [key, value] : fields) {
    line.push_back(' ');
    line.append(key);
    line.push_back('=');
    AppendValue(value, &line);
  }
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_mu);
  FILE* out = g_out != nullptr ? g_out : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace flowacct::daemon
