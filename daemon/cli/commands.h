// Subcommands of the `flowacct` tool. Each takes the arguments after its
// name and returns the process exit code.

#ifndef FLOWACCT_DAEMON_CLI_COMMANDS_H_
#define FLOWACCT_DAEMON_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace flowacct::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitInput = 2;

int DecodeCommand(const std::vector<std::string>& args);
int PrimitivesCommand(const std::vector<std::string>& args);
int QueryCommand(const std::vector<std::string>& args);
int ReplayCommand(const std::vector<std::string>& args);

}  // namespace flowacct::cli

#endif  // FLOWACCT_DAEMON_CLI_COMMANDS_H_
