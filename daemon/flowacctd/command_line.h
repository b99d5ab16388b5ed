// flowacctd's command line. The switches follow nfacctd's (`nfacctd -h`):
// each one is turned into the config key it stands for and applied after
// the config file, so `-I x.pcap` equals `pcap_savefile: x.pcap`.
//
//   -f file   config file            -I file  pcap_savefile
//   -L ip     nfacctd_ip             -l port  nfacctd_port
//   -c list   aggregate              -P list  plugins
//   -n file   networks_file          -t file  ports_file
//   -O fmt    print_output           -o file  print_output_file
//   -r secs   print_refresh_time     -A       print_output_file_append
//   -E sep    print_output_separator -M       print_markers
//   -u        print_num_protos       -R       nfacctd_renormalize
//   -p path   imt_path               -b n     imt_buckets
//   -m n      imt_mem_pools_number   -s n     imt_mem_pools_size
//   -F file   pidfile                -D       daemonize
//   -d        debug                  -a       list primitives and exit
//   -V        version and exit       -h       help and exit

#ifndef FLOWACCT_DAEMON_FLOWACCTD_COMMAND_LINE_H_
#define FLOWACCT_DAEMON_FLOWACCTD_COMMAND_LINE_H_

#include <string>
#include <utility>
#include <vector>

#include "flowacct/status.h"

namespace flowacct::daemon {

struct CommandLine {
  std::string config_file;
  std::vector<std::pair<std::string, std::string>> overrides;
  bool help = false;
  bool version = false;
  bool list_primitives = false;
};

// Parses argv (argv[0] is skipped). kInvalidArgument naming the switch.
Result<CommandLine> ParseCommandLine(int argc, const char* const* argv);

// The usage text printed by -h.
std::string UsageText();

}  // namespace flowacct::daemon

#endif  // FLOWACCT_DAEMON_FLOWACCTD_COMMAND_LINE_H_
