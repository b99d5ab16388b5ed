#include "daemon/flowacctd/command_line.h"

#include <string_view>

namespace flowacct::daemon {
namespace {

struct Switch {
  char letter;
  const char* key;   // config key it sets
  bool takes_value;  // false: sets the key to "true"
};

constexpr Switch kSwitches[] = {
    {'I', "pcap_savefile", true},
    {'L', "nfacctd_ip", true},
    {'l', "nfacctd_port", true},
    {'c', "aggregate", true},
    {'P', "plugins", true},
    {'n', "networks_file", true},
    {'t', "ports_file", true},
    {'O', "print_output", true},
    {'o', "print_output_file", true},
    {'r', "print_refresh_time", true},
    {'A', "print_output_file_append", false},
    {'E', "print_output_separator", true},
    {'M', "print_markers", false},
    {'u', "print_num_protos", false},
    {'R', "nfacctd_renormalize", false},
    {'p', "imt_path", true},
    {'b', "imt_buckets", true},
    {'m', "imt_mem_pools_number", true},
    {'s', "imt_mem_pools_size", true},
    {'F', "pidfile", true},
    {'D', "daemonize", false},
    {'d', "debug", false},
};

const Switch* FindSwitch(char c) {
  for (const Switch& s : kSwitches) {
    if (s.letter == c) return &s;
  }
  return nullptr;
}

}  // namespace

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() != 2 || arg[0] != '-') {
      return InvalidArgumentError("unexpected argument '" + std::string(arg) +
                                  "' (see -h)");
    }
    const char c = arg[1];
    if (c == 'h') {
      cl.help = true;
      continue;
    }
    if (c == 'V') {
      cl.version = true;
      continue;
    }
    if (c == 'a') {
      cl.list_primitives = true;
      continue;
    }
    if (c == 'f') {
      if (i + 1 >= argc) return InvalidArgumentError("-f needs a file");
      cl.config_file = argv[++i];
      continue;
    }
    const Switch* s = FindSwitch(c);
    if (s == nullptr) {
      return InvalidArgumentError("unknown switch '" + std::string(arg) +
                                  "' (see -h)");
    }
    if (!s->takes_value) {
      cl.overrides.emplace_back(s->key, "true");
      continue;
    }
    if (i + 1 >= argc) {
      return InvalidArgumentError(std::string(arg) + " needs a value (" +
                                  s->key + ")");
    }
    cl.overrides.emplace_back(s->key, argv[++i]);
  }
  return cl;
}

std::string UsageText() {
  return R"(flowacctd: NetFlow v5/v9, IPFIX and sFlow v5 accounting daemon (pmacct compatible)
Usage: flowacctd [-f config_file] [switches]

  -f file  load the configuration (pmacct syntax: nfacctd/sfacctd keys)
  -I file  replay a capture (pcap_savefile), flush and exit
  -L ip    listen address (nfacctd_ip)     -l port  UDP port (nfacctd_port)
  -c list  aggregate primitives            -P list  plugins (print, memory)
  -n file  networks_file                   -t file  ports_file
  -O fmt   print_output (formatted, csv, json)
  -o file  print_output_file               -r secs  print_refresh_time
  -A       print_output_file_append        -E sep   print_output_separator
  -M       print_markers                   -u       print_num_protos
  -R       nfacctd_renormalize             -p path  imt_path (memory plugin)
  -b n     imt_buckets   -m n imt_mem_pools_number   -s n imt_mem_pools_size
  -F file  pidfile       -D   daemonize    -d       debug
  -a       list the aggregation primitives -V       version
  -h       this help

Signals: SIGUSR1 logs per-exporter statistics, SIGUSR2 reloads maps,
SIGHUP reopens log and output files, SIGTERM/SIGINT flush every view and exit.
See docs/daemon.md.
)";
}

}  // namespace flowacct::daemon
