// flowacctd: the reference daemon. Reads a pmacct-style config file (and
// nfacctd's command-line switches), then runs the pipeline until the capture
// is consumed or SIGTERM/SIGINT. See docs/daemon.md.

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "flowacct/config/daemon_config.h"
#include "flowacct/model/primitive_registry.h"

#include "daemon/flowacctd/command_line.h"
#include "daemon/flowacctd/daemon.h"
#include "daemon/flowacctd/log.h"
#include <unistd.h>

namespace {

constexpr char kVersion[] = "flowacctd 0.3.0 (libflowacct)";

int ListPrimitives() {
  auto registry = flowacct::PrimitiveRegistry::CreateWithBuiltins();
  for (const flowacct::PrimitiveInfo* p : registry->all()) {
    std::printf("%-24s %s\n", p->name.c_str(), p->description.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using flowacct::daemon::Log;
  using flowacct::daemon::LogLevel;

  auto cl = flowacct::daemon::ParseCommandLine(argc, argv);
  if (!cl.ok()) {
    std::fprintf(stderr, "flowacctd: %s\n", cl.status().message().c_str());
    return 2;
  }
  if (cl->help) {
    std::fputs(flowacct::daemon::UsageText().c_str(), stdout);
    return 0;
  }
  if (cl->version) {
    std::printf("%s\n", kVersion);
    return 0;
  }
  if (cl->list_primitives) return ListPrimitives();

  std::vector<flowacct::ConfigWarning> warnings;
  flowacct::Result<flowacct::DaemonConfig> config =
      cl->config_file.empty()
          ? flowacct::ParseDaemonConfig("", "(no config file)", cl->overrides,
                                        &warnings)
          : flowacct::LoadDaemonConfig(cl->config_file, cl->overrides,
                                       &warnings);
  if (!config.ok()) {
    std::fprintf(stderr, "flowacctd: %s\n", config.status().message().c_str());
    return 2;
  }
  if (!flowacct::daemon::OpenLog(config->logfile, config->debug)) {
    std::fprintf(stderr, "flowacctd: cannot open logfile '%s'\n",
                 config->logfile.c_str());
    return 2;
  }
  Log(LogLevel::kInfo, "core", "starting", {{"version", kVersion}});
  for (const flowacct::ConfigWarning& w : warnings) {
    Log(LogLevel::kWarning, "config", w.message,
        {{"source", w.source.ToString()}});
  }
  if (config->daemonize && daemon(0, 0) != 0) {
    Log(LogLevel::kError, "core", "cannot daemonize");
    return 1;
  }
  const std::string pidfile = config->pidfile;
  if (!pidfile.empty()) {
    std::ofstream(pidfile) << getpid() << "\n";
  }
  auto d = flowacct::daemon::Daemon::Create(std::move(config).value());
  if (!d.ok()) {
    Log(LogLevel::kError, "core", "cannot start",
        {{"error", d.status().message()}});
    std::fprintf(stderr, "flowacctd: %s\n", d.status().message().c_str());
    if (!pidfile.empty()) unlink(pidfile.c_str());
    return 2;
  }
  const int rc = (*d)->Run();
  d->reset();
  if (!pidfile.empty()) unlink(pidfile.c_str());
  Log(LogLevel::kInfo, "core", "exit", {{"code", std::to_string(rc)}});
  return rc;
}
