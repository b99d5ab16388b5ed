// flowacct: the user tool. `flowacct decode FILE` prints the flow records in
// a capture; `flowacct primitives` prints the primitive table.

#include <cstdio>
#include <string>
#include <vector>

#include "daemon/cli/commands.h"

namespace {

constexpr char kUsage[] =
    "usage: flowacct <command> [options]\n"
    "\n"
    "commands:\n"
    "  decode FILE      print the flow records in a pcap/pcapng/IPFIX file\n"
    "  primitives       print every primitive as a Markdown table\n"
    "  query            query a memory plugin's table (pmacct client)\n"
    "  replay FILE      send a capture's (or synthetic) flow datagrams to a\n"
    "                   collector over UDP\n"
    "\n"
    "`flowacct <command> --help` describes a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return flowacct::cli::kExitUsage;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return flowacct::cli::kExitOk;
  }
  if (command == "decode") return flowacct::cli::DecodeCommand(args);
  if (command == "primitives") return flowacct::cli::PrimitivesCommand(args);
  if (command == "query") return flowacct::cli::QueryCommand(args);
  if (command == "replay") return flowacct::cli::ReplayCommand(args);
  std::fprintf(stderr, "flowacct: unknown command \"%s\"\n\n%s",
               command.c_str(), kUsage);
  return flowacct::cli::kExitUsage;
}
