// `flowacct query`: the client of a memory sink (pmacct's `pmacct` client
// for the in-memory table), with pmacct's switches. The table's socket is
// `imt_path` of the memory plugin (default /tmp/collect.pipe).

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "flowacct/sink/memory_sink.h"

#include "daemon/cli/commands.h"

namespace flowacct::cli {
namespace {

constexpr char kUsage[] =
    "usage: flowacct query [-p SOCKET] (-s | -M VALUES | -N VALUES | -e | -t)\n"
    "                      [-c PRIMITIVES] [-O formatted|csv|json]\n"
    "                      [-T bytes|packets|flows[,N]] [-n "
    "bytes|packets|flows|all]\n"
    "\n"
    "Queries the table of a memory plugin (pmacct's `pmacct` client).\n"
    "  -p SOCKET   the plugin's imt_path (default /tmp/collect.pipe)\n"
    "  -s          print the whole table\n"
    "  -c LIST     primitives to match on, comma-separated (for -M and -N)\n"
    "  -M VALUES   print the entries whose -c primitives have these values;\n"
    "              values comma-separated, several requests ';'-separated,\n"
    "              or 'file:PATH' with one request per line\n"
    "  -N VALUES   like -M but print only the summed counter per request\n"
    "  -n COUNTER  the counter -N prints: bytes (default), packets, flows,\n"
    "              all (\"packets bytes flows\")\n"
    "  -O FORMAT   formatted (default), csv or json (for -s and -M)\n"
    "  -T C[,N]    sort by counter C, descending, and keep the top N\n"
    "  -e          erase the table\n"
    "  -t          print the table status (number of entries, primitives)\n"
    "\n"
    "Exit status: 0 ok, 1 usage error, 2 the table could not be reached or\n"
    "refused the query.\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "flowacct query: %s\n\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

std::vector<std::string> SplitList(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t p = s.find(sep, start);
    if (p == std::string::npos) p = s.size();
    std::string part = s.substr(start, p - start);
    if (!part.empty()) out.push_back(part);
    start = p + 1;
  }
  return out;
}

// -M / -N argument: "v1,v2;v1,v2" or "file:PATH".
bool ParseRequests(const std::string& arg, std::vector<std::string>* out,
                   std::string* error) {
  if (arg.rfind("file:", 0) == 0) {
    std::string path = arg.substr(5);
    std::ifstream in(path);
    if (!in) {
      *error = "cannot read " + path;
      return false;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) out->push_back(line);
    }
  } else {
    *out = SplitList(arg, ';');
  }
  if (out->empty()) {
    *error = "no values to match";
    return false;
  }
  return true;
}

}  // namespace

int QueryCommand(const std::vector<std::string>& args) {
  std::string socket_path = "/tmp/collect.pipe";
  MemoryQuery q;
  int ops = 0;
  std::string requests;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "-p") {
      if (!value(&socket_path)) return Usage("-p needs a socket path");
    } else if (a == "-s") {
      q.op = MemoryQuery::Op::kDump;
      ++ops;
    } else if (a == "-e") {
      q.op = MemoryQuery::Op::kErase;
      ++ops;
    } else if (a == "-t") {
      q.op = MemoryQuery::Op::kStatus;
      ++ops;
    } else if (a == "-M" || a == "-N") {
      if (!value(&requests)) return Usage(a + " needs values");
      q.op = a == "-M" ? MemoryQuery::Op::kMatch : MemoryQuery::Op::kCounters;
      ++ops;
    } else if (a == "-c") {
      if (!value(&v)) return Usage("-c needs primitives");
      q.columns = SplitList(v, ',');
    } else if (a == "-O") {
      if (!value(&q.format)) return Usage("-O needs a format");
      if (q.format != "formatted" && q.format != "csv" && q.format != "json") {
        return Usage("unknown format \"" + q.format + "\"");
      }
    } else if (a == "-n") {
      if (!value(&q.counter)) return Usage("-n needs a counter");
      if (q.counter != "bytes" && q.counter != "packets" &&
          q.counter != "flows" && q.counter != "all") {
        return Usage("unknown counter \"" + q.counter + "\"");
      }
    } else if (a == "-T") {
      if (!value(&v)) return Usage("-T needs a counter");
      size_t comma = v.find(',');
      q.top = v.substr(0, comma);
      if (q.top != "bytes" && q.top != "packets" && q.top != "flows") {
        return Usage("unknown -T counter \"" + q.top + "\"");
      }
      if (comma != std::string::npos) {
        std::string n = v.substr(comma + 1);
        if (n.empty() || n.size() > 18 ||
            n.find_first_not_of("0123456789") != std::string::npos) {
          return Usage("bad -T count \"" + n + "\"");
        }
        q.top_n = std::stoull(n);
      }
    } else {
      return Usage("unknown option \"" + a + "\"");
    }
  }
  if (ops != 1) return Usage("give exactly one of -s, -M, -N, -e, -t");
  if (q.op == MemoryQuery::Op::kMatch || q.op == MemoryQuery::Op::kCounters) {
    if (q.columns.empty()) return Usage("-M and -N need -c PRIMITIVES");
    std::string error;
    if (!ParseRequests(requests, &q.match, &error)) return Usage(error);
  }
  Result<std::string> out = QueryMemorySink(socket_path, q);
  if (!out.ok()) {
    std::fprintf(stderr, "flowacct query: %s\n",
                 out.status().message().c_str());
    return kExitInput;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitInput;
}

}  // namespace flowacct::cli
