// File helpers of the print sink: mkdir -p, whole-file replacement,
// appending, the latest-file symlink, trigger programs. Private to
// libflowacct.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_FILE_UTIL_H_
#define FLOWACCT_LIBFLOWACCT_SINK_FILE_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include "flowacct/status.h"

#include <sys/types.h>

namespace flowacct::internal {

// Creates `dir` and its missing parents (mode 0700). kIoError naming the
// component that failed (also when it exists but is not a directory).
Status MakeDirs(const std::string& dir);

// Writes `content` to a temporary file beside `path`, fsyncs it and renames
// it over `path`. On failure the temporary file is removed. Creates the
// directory first.
Status ReplaceFile(const std::string& path, std::string_view content);

// Appends `prefix`, then `header` only when the file is new or empty, then
// `content` to `path` (created 0600 if missing), in one write.
Status AppendFile(const std::string& path, std::string_view prefix,
                  std::string_view header, std::string_view content);

// Points the symlink `link` at `target` (made absolute against the working
// directory) unless its current target sorts after it. Replaces the link
// atomically (temporary link + rename).
Status UpdateLatestLink(const std::string& link, const std::string& target);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// Starts `program` with argv {program, args...} (no shell) and returns its
// pid. kIoError when it cannot be started.
Result<pid_t> SpawnProgram(const std::string& program,
                           const std::vector<std::string>& args);

// Reaps those of `pids` that have exited (never blocks); removes them.
void ReapChildren(std::vector<pid_t>* pids);

// A value reduced to [A-Za-z0-9_-]; every other byte becomes '_'. Empty
// input gives "0".
std::string SanitizePathValue(std::string_view value);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_FILE_UTIL_H_
