// Structured log lines for flowacctd:
//
//   2026-11-26T21:04:05Z level=info component=core msg="reading capture"
//   file=/x.pcap
//
// One line per event, logfmt (key=value, values quoted when they contain
// spaces, quotes or '='), UTC timestamps. Written to stderr or to `logfile`
// (reopened on SIGHUP for log rotation).
//
// Thread-safety: every function may be called from any thread.

#ifndef FLOWACCT_DAEMON_FLOWACCTD_LOG_H_
#define FLOWACCT_DAEMON_FLOWACCTD_LOG_H_

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace flowacct::daemon {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Opens `path` for appending ("" = stderr). Safe to call again (SIGHUP).
bool OpenLog(const std::string& path, bool debug);

using LogField = std::pair<std::string_view, std::string>;

void Log(LogLevel level, std::string_view component, std::string_view message,
         std::initializer_list<LogField> fields = {});
void Log(LogLevel level, std::string_view component, std::string_view message,
         std::span<const LogField> fields);

}  // namespace flowacct::daemon

#endif  // FLOWACCT_DAEMON_FLOWACCTD_LOG_H_
