#include "libflowacct/sink/file_util.h"

#include <algorithm>
#include <string>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace flowacct::internal {
namespace {

Status ErrnoError(const std::string& what, const std::string& path, int err) {
  return IoError(what + " " + path + ": " + strerror(err));
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir == "." || dir == "/") return Status::Ok();
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    std::string prefix = dir.substr(0, pos);
    if (prefix.empty()) continue;
    if (mkdir(prefix.c_str(), 0700) == 0) continue;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && stat(prefix.c_str(), &st) == 0 &&
        S_ISDIR(st.st_mode)) {
      continue;
    }
    return ErrnoError("cannot create directory", prefix,
                      err == EEXIST ? ENOTDIR : err);
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status ReplaceFile(const std::string& path, std::string_view content) {
  const std::string dir = DirName(path);
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  std::string tmp = dir + "/." + BaseName(path) + ".XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot create temporary file", tmp, errno);
  Status s = WriteAll(fd, content, tmp);
  if (s.ok() && fsync(fd) != 0) s = ErrnoError("cannot fsync", tmp, errno);
  if (close(fd) != 0 && s.ok()) s = ErrnoError("cannot close", tmp, errno);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoError("cannot rename " + tmp + " to", path, errno);
  }
  if (!s.ok()) unlink(tmp.c_str());
  return s;
}

Status AppendFile(const std::string& path, std::string_view prefix,
                  std::string_view header, std::string_view content) {
  if (Status s = MakeDirs(DirName(path)); !s.ok()) return s;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  struct stat st {};
  Status s;
  if (fstat(fd, &st) != 0) {
    s = ErrnoError("cannot stat", path, errno);
  } else {
    std::string all(prefix);
    if (st.st_size == 0) all.append(header);
    all.append(content);
    s = WriteAll(fd, all, path);
  }
  if (close(fd) != 0 && s.ok()) s = ErrnoError("cannot close", path, errno);
  return s;
}

Status UpdateLatestLink(const std::string& link,
                        const std::string& target_path) {
  // A relative target would resolve against the link's directory.
  std::string target = target_path;
  if (!target.empty() && target[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) != nullptr) {
      target = std::string(cwd) + "/" + target;
    }
  }
  char buf[4096];
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n >= 0) {
    std::string current(buf, static_cast<size_t>(n));
    if (current == target || current > target) return Status::Ok();
  }
  if (Status s = MakeDirs(DirName(link)); !s.ok()) return s;
  std::string tmp = link + ".tmp." + std::to_string(getpid());
  unlink(tmp.c_str());
  if (symlink(target.c_str(), tmp.c_str()) != 0) {
    return ErrnoError("cannot create symlink", tmp, errno);
  }
  if (rename(tmp.c_str(), link.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoError("cannot rename symlink to", link, err);
  }
  return Status::Ok();
}

Result<pid_t> SpawnProgram(const std::string& program,
                           const std::vector<std::string>& args) {
  // posix_spawn implementations built on fork report a failed exec only
  // through the exit status; check first so the error is clear.
  if (access(program.c_str(), X_OK) != 0) {
    return ErrnoError("cannot execute", program, errno);
  }
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back(program);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(),
                        environ);
  if (err != 0) return ErrnoError("cannot start", program, err);
  return pid;
}

void ReapChildren(std::vector<pid_t>* pids) {
  pids->erase(std::remove_if(pids->begin(), pids->end(),
                             [](pid_t pid) {
                               int status = 0;
                               pid_t r = waitpid(pid, &status, WNOHANG);
                               // Gone (reaped now, or by someone else).
                               return r == pid || (r < 0 && errno == ECHILD);
                             }),
              pids->end());
}

std::string SanitizePathValue(std::string_view value) {
  if (value.empty()) return "0";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  return out;
}

}  // namespace flowacct::internal
