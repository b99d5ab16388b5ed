#include "flowacct/config/daemon_config.h"

#include <cctype>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>

#include "libflowacct/config/config_text.h"

#include <arpa/inet.h>

namespace flowacct {

using internal::ConfigLine;
using internal::ParseBool;
using internal::ParseHistoryText;
using internal::ParseUint32;
using internal::ToLower;
using internal::Trim;

std::string ConfigSource::ToString() const {
  if (line == 0) return file.empty() ? "command line" : file;
  return file + ":" + std::to_string(line);
}

namespace {

constexpr uint16_t kDefaultNetflowPort = 2100;
constexpr uint16_t kDefaultSflowPort = 6343;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// ---------------------------------------------------------------------------
// Plugin types. The one place that says which `plugins:` types flowacctd
// runs; lift a type from kNotYet when its sink lands.

Status CheckPluginType(std::string_view type) {
  static constexpr std::string_view kImplemented[] = {
      "print", "memory", "sqlite3", "mysql", "pgsql", "amqp", "kafka"};
  static constexpr std::string_view kNotYet[] = {"tee"};
  for (std::string_view t : kImplemented) {
    if (t == type) return Status::Ok();
  }
  for (std::string_view t : kNotYet) {
    if (t == type) {
      return InvalidArgumentError("plugin type " + std::string(type) +
                                  " is not implemented yet");
    }
  }
  if (type == "nfprobe" || type == "sfprobe") {
    return InvalidArgumentError(
        "plugin type " + std::string(type) +
        " is not supported by flowacctd (pmacct runs it in pmacctd/uacctd "
        "only)");
  }
  return InvalidArgumentError("unknown plugin type " + Quote(type));
}

// `plugins: print[a], memory[b], print` -> PluginConfigs (types checked,
// names unique). Error messages carry no location.
Result<std::vector<PluginConfig>> ParsePluginList(std::string_view value) {
  const std::string_view whole = value;
  std::vector<PluginConfig> plugins;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view item = Trim(value.substr(0, comma));
    if (item.empty()) {
      return InvalidArgumentError("plugins: empty entry in " + Quote(whole));
    }
    ConfigLine parsed;
    if (Status s = internal::SplitKey(item, &parsed); !s.ok()) {
      return InvalidArgumentError("plugins: bad entry " + Quote(item) +
                                  " (expected type or type[name])");
    }
    if (Status s = CheckPluginType(parsed.key); !s.ok()) return s;
    PluginConfig plugin;
    plugin.type = parsed.key;
    plugin.name = parsed.bound ? parsed.name : "default";
    for (const PluginConfig& p : plugins) {
      if (p.name == plugin.name) {
        return InvalidArgumentError("plugins: plugin name " +
                                    Quote(plugin.name) + " is used twice");
      }
    }
    plugins.push_back(std::move(plugin));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return plugins;
}

// ---------------------------------------------------------------------------
// Values.

Result<std::vector<std::string>> ParseList(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view item = Trim(value.substr(0, comma));
    if (item.empty()) {
      return InvalidArgumentError("empty entry in the comma-separated list");
    }
    if (item.find_first_of(" \t") != std::string_view::npos) {
      return InvalidArgumentError("expected a comma-separated list, got " +
                                  Quote(item));
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

Status CheckOneOf(std::string_view value,
                  std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (std::string_view a : allowed) {
    if (a == value) return Status::Ok();
    if (!list.empty()) list += ", ";
    list += a;
  }
  return InvalidArgumentError("expected one of " + list + ", got " +
                              Quote(value));
}

bool IsIpLiteral(std::string_view value) {
  const std::string v(value);
  unsigned char buf[16];
  return inet_pton(AF_INET, v.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, v.c_str(), buf) == 1;
}

Status CheckHostPort(std::string_view value) {
  size_t colon = value.rfind(':');
  auto bad = [&] {
    return InvalidArgumentError(
        "expected host:port (e.g. 127.0.0.1:9469 or [::1]:9469) or false, "
        "got " +
        Quote(value));
  };
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = value.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
    if (!IsIpLiteral(host)) return bad();
  } else if (host.find(':') != std::string_view::npos) {
    return bad();
  }
  if (!ParseUint32(value.substr(colon + 1), 1, 65535).ok()) return bad();
  return Status::Ok();
}

// Assigns helpers: parse or return the error.
#define FLOWACCT_ASSIGN_OR_RETURN(lhs, expr)    \
  do {                                          \
    auto result_ = (expr);                      \
    if (!result_.ok()) return result_.status(); \
    lhs = std::move(*result_);                  \
  } while (0)

// ---------------------------------------------------------------------------
// Global keys.

struct ListenerKeys {
  std::optional<std::string> ip;
  std::optional<uint16_t> port;
  std::optional<std::string> allow_file;
  std::optional<uint32_t> pipe_size;
  ConfigSource port_source;
  bool any() const { return ip || port || allow_file || pipe_size; }
};

struct GlobalState {
  DaemonConfig* config;
  ListenerKeys netflow;
  ListenerKeys sflow;
  std::vector<ConfigWarning>* warnings;
  // The lines that set *_as / *_net (checked against bgp_daemon and
  // bmp_daemon once every line is read), and bgp_daemon_id.
  ConfigSource as_source;
  std::string as_key;
  ConfigSource net_source;
  std::string net_key;
  std::optional<uint32_t> bgp_id;
  // The lines of the bgp_*_type keys that take a map, and of the maps
  // (checked against each other once every line is read).
  ConfigSource peer_src_as_type;
  ConfigSource src_local_pref_type;
  ConfigSource src_med_type;
  ConfigSource peer_src_as_map;
  ConfigSource src_local_pref_map;
  ConfigSource src_med_map;
};

using GlobalSetter =
    std::function<Status(std::string_view key, std::string_view value,
                         const ConfigSource& source, GlobalState* state)>;

Status SetNetSource(std::string_view value, std::string* out) {
  const std::string v = ToLower(value);
  if (v == "igp" || v == "bgp-ls") {
    return InvalidArgumentError(
        Quote(v) +
        " is not supported by flowacctd (no IGP or BGP-LS source); use "
        "netflow, sflow, mask, file, longest, bgp or bmp");
  }
  if (Status s = CheckOneOf(
          v, {"netflow", "sflow", "mask", "file", "longest", "bgp", "bmp"});
      !s.ok()) {
    return s;
  }
  *out = v == "sflow" ? "netflow" : v;
  return Status::Ok();
}

Status SetAsSource(std::string_view value, std::string* out) {
  const std::string v = ToLower(value);
  if (Status s =
          CheckOneOf(v, {"netflow", "sflow", "file", "longest", "bgp", "bmp"});
      !s.ok()) {
    return s;
  }
  *out = v == "sflow" ? "netflow" : v;
  return Status::Ok();
}

// *_as / *_net setters that remember the line for the bgp/bmp check.
GlobalSetter AsSourceKey() {
  return [](std::string_view key, std::string_view value,
            const ConfigSource& source, GlobalState* st) -> Status {
    if (Status s = SetAsSource(value, &st->config->as_source); !s.ok()) {
      return s;
    }
    st->as_source = source;
    st->as_key = std::string(key);
    return Status::Ok();
  };
}

GlobalSetter NetSourceKey() {
  return [](std::string_view key, std::string_view value,
            const ConfigSource& source, GlobalState* st) -> Status {
    if (Status s = SetNetSource(value, &st->config->net_source); !s.ok()) {
      return s;
    }
    st->net_source = source;
    st->net_key = std::string(key);
    return Status::Ok();
  };
}

// Setters for members of DaemonConfig::bgp / ::bmp.
template <typename S>
GlobalSetter SubString(S DaemonConfig::*outer, std::string S::*inner) {
  return [outer, inner](std::string_view, std::string_view value,
                        const ConfigSource&, GlobalState* st) -> Status {
    (st->config->*outer).*inner = std::string(value);
    return Status::Ok();
  };
}

template <typename S>
GlobalSetter SubBool(S DaemonConfig::*outer, bool S::*inner) {
  return [outer, inner](std::string_view, std::string_view value,
                        const ConfigSource&, GlobalState* st) -> Status {
    FLOWACCT_ASSIGN_OR_RETURN((st->config->*outer).*inner, ParseBool(value));
    return Status::Ok();
  };
}

template <typename S>
GlobalSetter SubUint(S DaemonConfig::*outer, uint32_t S::*inner, uint32_t min,
                     uint32_t max) {
  return
      [outer, inner, min, max](std::string_view, std::string_view value,
                               const ConfigSource&, GlobalState* st) -> Status {
        FLOWACCT_ASSIGN_OR_RETURN((st->config->*outer).*inner,
                                  ParseUint32(value, min, max));
        return Status::Ok();
      };
}

template <typename S>
GlobalSetter SubPort(S DaemonConfig::*outer, uint16_t S::*inner) {
  return [outer, inner](std::string_view, std::string_view value,
                        const ConfigSource&, GlobalState* st) -> Status {
    uint32_t port = 0;
    FLOWACCT_ASSIGN_OR_RETURN(port, ParseUint32(value, 1, 65535));
    (st->config->*outer).*inner = static_cast<uint16_t>(port);
    return Status::Ok();
  };
}

template <typename S>
GlobalSetter SubIp(S DaemonConfig::*outer, std::string S::*inner) {
  return [outer, inner](std::string_view, std::string_view value,
                        const ConfigSource&, GlobalState* st) -> Status {
    if (!IsIpLiteral(value)) {
      return InvalidArgumentError("expected an IPv4 or IPv6 address, got " +
                                  Quote(value));
    }
    (st->config->*outer).*inner = std::string(value);
    return Status::Ok();
  };
}

// *_output keys of the BGP/BMP logs and dumps: json only.
template <typename S>
GlobalSetter SubJsonOutput(S DaemonConfig::*outer, std::string S::*inner) {
  return [outer, inner](std::string_view, std::string_view value,
                        const ConfigSource&, GlobalState* st) -> Status {
    const std::string v = ToLower(value);
    if (v == "avro" || v == "avro_json") {
      return InvalidArgumentError(Quote(v) +
                                  " is not supported by flowacctd (json only)");
    }
    if (Status s = CheckOneOf(v, {"json"}); !s.ok()) return s;
    (st->config->*outer).*inner = v;
    return Status::Ok();
  };
}

// bgp_src_*_type and bgp_peer_src_as_type: `allowed` values; `line`, when
// given, keeps the line for the map check of FinishRoutingKeys.
GlobalSetter BgpSourceType(std::string BgpDaemonConfig::*inner,
                           std::initializer_list<std::string_view> allowed,
                           ConfigSource GlobalState::*line = nullptr) {
  std::vector<std::string_view> list(allowed);
  return [inner, list, line](std::string_view, std::string_view value,
                             const ConfigSource& source,
                             GlobalState* st) -> Status {
    const std::string v = ToLower(value);
    std::string names;
    for (std::string_view a : list) {
      if (a == v) {
        st->config->bgp.*inner = v == "sflow" ? "netflow" : v;
        if (line != nullptr) st->*line = source;
        return Status::Ok();
      }
      if (!names.empty()) names += ", ";
      names += a;
    }
    return InvalidArgumentError("expected one of " + names + ", got " +
                                Quote(value));
  };
}

// bgp_peer_src_as_map, bgp_src_local_pref_map, bgp_src_med_map: a path,
// its line kept for FinishRoutingKeys.
GlobalSetter SourceMap(std::string BgpDaemonConfig::*inner,
                       ConfigSource GlobalState::*line) {
  return [inner, line](std::string_view, std::string_view value,
                       const ConfigSource& source, GlobalState* st) -> Status {
    st->config->bgp.*inner = std::string(value);
    st->*line = source;
    return Status::Ok();
  };
}

Result<uint32_t> ParseIpv4(std::string_view value) {
  const std::string v(Trim(value));
  in_addr a{};
  if (inet_pton(AF_INET, v.c_str(), &a) != 1) {
    return InvalidArgumentError("expected an IPv4 address, got " +
                                Quote(value));
  }
  return ntohl(a.s_addr);
}

// The bgp_* and bmp_* keys flowacctd implements.
void AddRoutingKeys(std::vector<std::pair<std::string_view, GlobalSetter>>* k) {
  using B = BgpDaemonConfig;
  using M = BmpDaemonConfig;
  constexpr auto bgp = &DaemonConfig::bgp;
  constexpr auto bmp = &DaemonConfig::bmp;
  k->insert(
      k->end(),
      {
          {"bgp_daemon", SubBool(bgp, &B::enabled)},
          {"bgp_daemon_ip", SubIp(bgp, &B::ip)},
          {"bgp_daemon_port", SubPort(bgp, &B::port)},
          {"bgp_daemon_max_peers", SubUint(bgp, &B::max_peers, 1, 65535)},
          {"bgp_daemon_allow_file", SubString(bgp, &B::allow_file)},
          {"bgp_daemon_md5_file", SubString(bgp, &B::md5_file)},
          {"bgp_daemon_as", SubUint(bgp, &B::local_as, 0, UINT32_MAX)},
          {"bgp_daemon_id",
           [](std::string_view, std::string_view value, const ConfigSource&,
              GlobalState* st) -> Status {
             uint32_t id = 0;
             FLOWACCT_ASSIGN_OR_RETURN(id, ParseIpv4(value));
             if (id == 0) {
               return InvalidArgumentError(
                   "the BGP identifier cannot be 0.0.0.0");
             }
             st->bgp_id = id;
             return Status::Ok();
           }},
          {"bgp_daemon_add_path_ignore", SubBool(bgp, &B::add_path_ignore)},
          {"bgp_daemon_pipe_size", SubUint(bgp, &B::pipe_size, 1, INT32_MAX)},
          {"bgp_agent_map", SubString(bgp, &B::agent_map)},
          {"bgp_table_dump_file", SubString(bgp, &B::table_dump_file)},
          {"bgp_table_dump_refresh_time",
           SubUint(bgp, &B::table_dump_refresh_time, 60, 86400)},
          {"bgp_table_dump_output", SubJsonOutput(bgp, &B::table_dump_output)},
          {"bgp_table_dump_latest_file",
           SubString(bgp, &B::table_dump_latest_file)},
          {"bgp_daemon_msglog_file", SubString(bgp, &B::msglog_file)},
          {"bgp_daemon_msglog_output", SubJsonOutput(bgp, &B::msglog_output)},
          {"bgp_peer_src_as_type",
           BgpSourceType(&B::peer_src_as_type,
                         {"netflow", "sflow", "map", "bgp"},
                         &GlobalState::peer_src_as_type)},
          {"bgp_peer_src_as_map",
           SourceMap(&B::peer_src_as_map, &GlobalState::peer_src_as_map)},
          {"bgp_src_local_pref_map",
           SourceMap(&B::src_local_pref_map, &GlobalState::src_local_pref_map)},
          {"bgp_src_med_map",
           SourceMap(&B::src_med_map, &GlobalState::src_med_map)},
          {"bgp_src_as_path_type",
           BgpSourceType(&B::src_as_path_type, {"bgp"})},
          {"bgp_src_std_comm_type",
           BgpSourceType(&B::src_std_comm_type, {"bgp"})},
          {"bgp_src_ext_comm_type",
           BgpSourceType(&B::src_ext_comm_type, {"bgp"})},
          {"bgp_src_lrg_comm_type",
           BgpSourceType(&B::src_lrg_comm_type, {"bgp"})},
          {"bgp_src_local_pref_type",
           BgpSourceType(&B::src_local_pref_type, {"map", "bgp"},
                         &GlobalState::src_local_pref_type)},
          {"bgp_src_med_type", BgpSourceType(&B::src_med_type, {"map", "bgp"},
                                             &GlobalState::src_med_type)},
          {"bgp_follow_default",
           SubUint(bgp, &B::follow_default, 0, UINT32_MAX)},
          {"bgp_aspath_radius", SubUint(bgp, &B::aspath_radius, 0, 65535)},
          {"bgp_stdcomm_pattern", SubString(bgp, &B::stdcomm_pattern)},
          {"bgp_extcomm_pattern", SubString(bgp, &B::extcomm_pattern)},
          {"bgp_lrgcomm_pattern", SubString(bgp, &B::lrgcomm_pattern)},
          {"bmp_daemon", SubBool(bmp, &M::enabled)},
          {"bmp_daemon_ip", SubIp(bmp, &M::ip)},
          {"bmp_daemon_port", SubPort(bmp, &M::port)},
          {"bmp_daemon_max_peers", SubUint(bmp, &M::max_peers, 1, 65535)},
          {"bmp_daemon_allow_file", SubString(bmp, &M::allow_file)},
          {"bmp_daemon_pipe_size", SubUint(bmp, &M::pipe_size, 1, INT32_MAX)},
          {"bmp_agent_map", SubString(bmp, &M::agent_map)},
          {"bmp_daemon_msglog_file", SubString(bmp, &M::msglog_file)},
          {"bmp_daemon_msglog_output", SubJsonOutput(bmp, &M::msglog_output)},
          {"bmp_dump_file", SubString(bmp, &M::dump_file)},
          {"bmp_dump_refresh_time",
           SubUint(bmp, &M::dump_refresh_time, 60, 86400)},
          {"bmp_dump_output", SubJsonOutput(bmp, &M::dump_output)},
          {"bmp_dump_latest_file", SubString(bmp, &M::dump_latest_file)},
      });
}

// After every line: *_as / *_net bgp|bmp need their daemon; the router id
// and dump refresh defaults.
Status FinishRoutingKeys(GlobalState* st) {
  DaemonConfig& c = *st->config;
  auto check = [&](const std::string& value, const ConfigSource& source,
                   const std::string& key) -> Status {
    if (value == "bgp" && !c.bgp.enabled) {
      return InvalidArgumentError(source.ToString() + ": " + key +
                                  ": 'bgp' needs bgp_daemon: true");
    }
    if (value == "bmp" && !c.bmp.enabled) {
      return InvalidArgumentError(source.ToString() + ": " + key +
                                  ": 'bmp' needs bmp_daemon: true");
    }
    return Status::Ok();
  };
  if (Status s = check(c.as_source, st->as_source, st->as_key); !s.ok()) {
    return s;
  }
  if (Status s = check(c.net_source, st->net_source, st->net_key); !s.ok()) {
    return s;
  }
  // *_type: map needs its map; a map without *_type: map is unused (as in
  // nfacctd, which exits on the first and ignores the second).
  struct SourceMapKeys {
    const char* type_key;
    const std::string& type;
    const ConfigSource& type_line;
    const char* map_key;
    const std::string& map;
    const ConfigSource& map_line;
  };
  const SourceMapKeys source_maps[] = {
      {"bgp_peer_src_as_type", c.bgp.peer_src_as_type, st->peer_src_as_type,
       "bgp_peer_src_as_map", c.bgp.peer_src_as_map, st->peer_src_as_map},
      {"bgp_src_local_pref_type", c.bgp.src_local_pref_type,
       st->src_local_pref_type, "bgp_src_local_pref_map",
       c.bgp.src_local_pref_map, st->src_local_pref_map},
      {"bgp_src_med_type", c.bgp.src_med_type, st->src_med_type,
       "bgp_src_med_map", c.bgp.src_med_map, st->src_med_map},
  };
  for (const SourceMapKeys& k : source_maps) {
    if (k.type == "map" && k.map.empty()) {
      return InvalidArgumentError(k.type_line.ToString() + ": " + k.type_key +
                                  ": 'map' needs " + k.map_key);
    }
    if (st->warnings == nullptr) continue;
    if (!k.map.empty() && k.type != "map") {
      st->warnings->push_back({k.map_line, std::string("key '") + k.map_key +
                                               "' is unused: " + k.type_key +
                                               " is not 'map'"});
    } else if (!k.map.empty() && !c.bgp.enabled && !c.bmp.enabled) {
      st->warnings->push_back(
          {k.map_line, std::string("key '") + k.map_key +
                           "' is unused without bgp_daemon or bmp_daemon"});
    }
  }
  if (st->bgp_id) {
    c.bgp.router_id = *st->bgp_id;
  } else if (Result<uint32_t> ip = ParseIpv4(c.bgp.ip); ip.ok() && *ip != 0) {
    c.bgp.router_id = *ip;
  }
  if (!c.bgp.table_dump_file.empty() && c.bgp.table_dump_refresh_time == 0) {
    c.bgp.table_dump_refresh_time = 60;
  }
  if (!c.bmp.dump_file.empty() && c.bmp.dump_refresh_time == 0) {
    c.bmp.dump_refresh_time = 60;
  }
  return Status::Ok();
}

GlobalSetter StringMember(std::string DaemonConfig::*member) {
  return [member](std::string_view, std::string_view value, const ConfigSource&,
                  GlobalState* st) -> Status {
    st->config->*member = std::string(value);
    return Status::Ok();
  };
}

GlobalSetter BoolMember(bool DaemonConfig::*member) {
  return [member](std::string_view, std::string_view value, const ConfigSource&,
                  GlobalState* st) -> Status {
    FLOWACCT_ASSIGN_OR_RETURN(st->config->*member, ParseBool(value));
    return Status::Ok();
  };
}

GlobalSetter ListenerIp(ListenerKeys GlobalState::*which) {
  return [which](std::string_view, std::string_view value, const ConfigSource&,
                 GlobalState* st) -> Status {
    if (!IsIpLiteral(value)) {
      return InvalidArgumentError("expected an IPv4 or IPv6 address, got " +
                                  Quote(value));
    }
    (st->*which).ip = std::string(value);
    return Status::Ok();
  };
}

GlobalSetter ListenerPort(ListenerKeys GlobalState::*which) {
  return [which](std::string_view, std::string_view value,
                 const ConfigSource& source, GlobalState* st) -> Status {
    uint32_t port = 0;
    FLOWACCT_ASSIGN_OR_RETURN(port, ParseUint32(value, 1, 65535));
    (st->*which).port = static_cast<uint16_t>(port);
    (st->*which).port_source = source;
    return Status::Ok();
  };
}

GlobalSetter ListenerAllow(ListenerKeys GlobalState::*which) {
  return [which](std::string_view, std::string_view value, const ConfigSource&,
                 GlobalState* st) -> Status {
    (st->*which).allow_file = std::string(value);
    return Status::Ok();
  };
}

GlobalSetter ListenerPipe(ListenerKeys GlobalState::*which) {
  return [which](std::string_view, std::string_view value, const ConfigSource&,
                 GlobalState* st) -> Status {
    uint32_t bytes = 0;
    FLOWACCT_ASSIGN_OR_RETURN(bytes, ParseUint32(value, 1, UINT32_MAX));
    (st->*which).pipe_size = bytes;
    return Status::Ok();
  };
}

const std::vector<std::pair<std::string_view, GlobalSetter>>& GlobalKeys() {
  static const auto* keys = [] {
    auto* k = new std::vector<std::pair<std::string_view, GlobalSetter>>{
        {"aggregate_primitives",
         StringMember(&DaemonConfig::aggregate_primitives)},
        {"pre_tag_map", StringMember(&DaemonConfig::pre_tag_map)},
        {"sampling_map", StringMember(&DaemonConfig::sampling_map)},
        {"networks_file", StringMember(&DaemonConfig::networks_file)},
        {"ports_file", StringMember(&DaemonConfig::ports_file)},
        {"nfacctd_templates_file", StringMember(&DaemonConfig::templates_file)},
        {"nfacctd_renormalize", BoolMember(&DaemonConfig::renormalize)},
        {"sfacctd_renormalize", BoolMember(&DaemonConfig::renormalize)},
        {"nfacctd_time_new", BoolMember(&DaemonConfig::time_new)},
        {"sfacctd_time_new", BoolMember(&DaemonConfig::time_new)},
        {"nfacctd_ignore_exporter_address",
         BoolMember(&DaemonConfig::ignore_exporter_address)},
        {"sfacctd_ignore_exporter_address",
         BoolMember(&DaemonConfig::ignore_exporter_address)},
        {"maps_refresh", BoolMember(&DaemonConfig::maps_refresh)},
        {"timestamps_secs", BoolMember(&DaemonConfig::timestamps_secs)},
        {"timestamps_utc", BoolMember(&DaemonConfig::timestamps_utc)},
        {"timestamps_since_epoch",
         BoolMember(&DaemonConfig::timestamps_since_epoch)},
        {"pcap_savefile", StringMember(&DaemonConfig::pcap_savefile)},
        {"logfile", StringMember(&DaemonConfig::logfile)},
        {"pidfile", StringMember(&DaemonConfig::pidfile)},
        {"daemonize", BoolMember(&DaemonConfig::daemonize)},
        {"debug", BoolMember(&DaemonConfig::debug)},
        {"maps_entries",
         [](std::string_view, std::string_view value, const ConfigSource&,
            GlobalState* st) -> Status {
           FLOWACCT_ASSIGN_OR_RETURN(st->config->maps_entries,
                                     ParseUint32(value, 1, UINT32_MAX));
           return Status::Ok();
         }},
        {"nfacctd_net", NetSourceKey()},
        {"sfacctd_net", NetSourceKey()},
        {"nfacctd_as", AsSourceKey()},
        {"sfacctd_as", AsSourceKey()},
        {"nfacctd_as_new",
         [](std::string_view, std::string_view value, const ConfigSource& src,
            GlobalState* st) {
           if (st->warnings != nullptr) {
             st->warnings->push_back(
                 {src,
                  "key 'nfacctd_as_new' is the old spelling of "
                  "'nfacctd_as'"});
           }
           return AsSourceKey()("nfacctd_as_new", value, src, st);
         }},
        {"sfacctd_as_new",
         [](std::string_view, std::string_view value, const ConfigSource& src,
            GlobalState* st) {
           if (st->warnings != nullptr) {
             st->warnings->push_back(
                 {src,
                  "key 'sfacctd_as_new' is the old spelling of "
                  "'sfacctd_as'"});
           }
           return AsSourceKey()("sfacctd_as_new", value, src, st);
         }},
        {"nfacctd_ip", ListenerIp(&GlobalState::netflow)},
        {"nfacctd_port", ListenerPort(&GlobalState::netflow)},
        {"nfacctd_allow_file", ListenerAllow(&GlobalState::netflow)},
        {"nfacctd_pipe_size", ListenerPipe(&GlobalState::netflow)},
        {"sfacctd_ip", ListenerIp(&GlobalState::sflow)},
        {"sfacctd_port", ListenerPort(&GlobalState::sflow)},
        {"sfacctd_allow_file", ListenerAllow(&GlobalState::sflow)},
        {"sfacctd_pipe_size", ListenerPipe(&GlobalState::sflow)},
        {"flowacct_templates_by_port",
         BoolMember(&DaemonConfig::templates_by_port)},
        {"flowacct_rib_huge_pages", BoolMember(&DaemonConfig::rib_huge_pages)},
        {"flowacct_workers",
         [](std::string_view, std::string_view value, const ConfigSource&,
            GlobalState* st) -> Status {
           FLOWACCT_ASSIGN_OR_RETURN(st->config->workers,
                                     ParseUint32(value, 0, 1024));
           return Status::Ok();
         }},
        {"flowacct_metrics_listen",
         [](std::string_view, std::string_view value, const ConfigSource&,
            GlobalState* st) -> Status {
           const std::string v = ToLower(value);
           if (v == "false" || v == "none" || v == "off") {
             st->config->metrics_listen.clear();
             return Status::Ok();
           }
           if (Status s = CheckHostPort(value); !s.ok()) return s;
           st->config->metrics_listen = std::string(value);
           return Status::Ok();
         }},
    };
    AddRoutingKeys(k);
    return k;
  }();
  return *keys;
}

const GlobalSetter* FindGlobal(std::string_view key) {
  for (const auto& [name, setter] : GlobalKeys()) {
    if (name == key) return &setter;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Plugin keys.

using PluginSetter =
    std::function<Status(std::string_view value, PluginConfig* plugin)>;

enum class Binding { kAny, kMustBind };

struct PluginKey {
  PluginSetter setter;  // null: raw only
  Binding binding = Binding::kAny;
};

PluginSetter PluginString(std::string PluginConfig::*member) {
  return [member](std::string_view value, PluginConfig* p) {
    p->*member = std::string(value);
    return Status::Ok();
  };
}

PluginSetter PluginBool(bool PluginConfig::*member) {
  return [member](std::string_view value, PluginConfig* p) -> Status {
    FLOWACCT_ASSIGN_OR_RETURN(p->*member, ParseBool(value));
    return Status::Ok();
  };
}

PluginSetter PluginUint(uint32_t PluginConfig::*member, uint32_t min) {
  return [member, min](std::string_view value, PluginConfig* p) -> Status {
    FLOWACCT_ASSIGN_OR_RETURN(p->*member, ParseUint32(value, min, UINT32_MAX));
    return Status::Ok();
  };
}

// The sum_* modes (sum_host, sum_net, sum_as, sum_port, sum_mac) count a
// record under its source and its destination value: they must be the only
// primitive of `aggregate` (the counters flows, packets and bytes may come
// along). pmacct 1.7.7 warns instead and drops most other primitives.
Status CheckSumMode(const std::vector<std::string>& aggregate) {
  auto lower = [](std::string s) {
    for (char& c : s) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
  };
  std::string sum;
  for (const std::string& name : aggregate) {
    std::string n = lower(name);
    if (n == "sum_host" || n == "sum_net" || n == "sum_as" || n == "sum_port" ||
        n == "sum_mac") {
      sum = n;
      break;
    }
  }
  if (sum.empty()) return Status::Ok();
  for (const std::string& name : aggregate) {
    std::string n = lower(name);
    if (n == sum || n == "flows" || n == "packets" || n == "bytes") continue;
    return InvalidArgumentError(Quote(sum) + " cannot be combined with " +
                                Quote(name) +
                                ": a sum_* primitive must be used alone "
                                "(only flows may come along)");
  }
  return Status::Ok();
}

const std::vector<std::pair<std::string, PluginKey>>& PluginKeys() {
  static const auto* keys = [] {
    auto* k = new std::vector<std::pair<std::string, PluginKey>>;
    k->push_back(
        {"aggregate", {[](std::string_view value, PluginConfig* p) -> Status {
           FLOWACCT_ASSIGN_OR_RETURN(p->aggregate, ParseList(value));
           return CheckSumMode(p->aggregate);
         }}});
    k->push_back(
        {"pre_tag_filter",
         {PluginString(&PluginConfig::pre_tag_filter), Binding::kMustBind}});
    k->push_back(
        {"pre_tag2_filter",
         {PluginString(&PluginConfig::pre_tag2_filter), Binding::kMustBind}});
    k->push_back({"pre_tag_label_filter",
                  {PluginString(&PluginConfig::pre_tag_label_filter),
                   Binding::kMustBind}});
    // Settings every pmacct cache plugin shares, one spelling per type.
    for (const char* family : {"print", "sql", "amqp", "kafka"}) {
      const std::string f = family;
      k->push_back(
          {f + "_refresh_time", {PluginUint(&PluginConfig::refresh_time, 1)}});
      k->push_back({f + "_history",
                    {[](std::string_view value, PluginConfig* p) -> Status {
                      FLOWACCT_ASSIGN_OR_RETURN(p->history,
                                                ParseHistoryText(value));
                      return Status::Ok();
                    }}});
      k->push_back({f + "_history_roundoff",
                    {[](std::string_view value, PluginConfig* p) -> Status {
                      if (Status s =
                              CheckOneOf(value, {"m", "h", "d", "w", "M"});
                          !s.ok()) {
                        return s;
                      }
                      p->history_roundoff = std::string(value);
                      return Status::Ok();
                    }}});
      k->push_back({f + "_cache_entries",
                    {PluginUint(&PluginConfig::cache_entries, 1)}});
      k->push_back(
          {f + "_num_protos", {PluginBool(&PluginConfig::num_protos)}});
    }
    for (const char* family : {"print", "amqp", "kafka"}) {
      k->push_back({std::string(family) + "_markers",
                    {PluginBool(&PluginConfig::markers)}});
    }
    k->push_back({"print_output",
                  {[](std::string_view value, PluginConfig* p) -> Status {
                    const std::string v = ToLower(value);
                    if (v == "avro" || v == "avro_json" ||
                        v == "event_formatted" || v == "event_csv" ||
                        v == "custom") {
                      return InvalidArgumentError(
                          Quote(v) +
                          " is not supported by flowacctd (formatted, csv, "
                          "json, protobuf)");
                    }
                    if (Status s = CheckOneOf(
                            v, {"formatted", "csv", "json", "protobuf"});
                        !s.ok()) {
                      return s;
                    }
                    p->output = v;
                    return Status::Ok();
                  }}});
    k->push_back(
        {"print_output_file", {PluginString(&PluginConfig::output_file)}});
    k->push_back({"print_output_file_append",
                  {PluginBool(&PluginConfig::output_file_append)}});
    k->push_back(
        {"print_latest_file", {PluginString(&PluginConfig::latest_file)}});
    k->push_back(
        {"print_trigger_exec", {PluginString(&PluginConfig::trigger_exec)}});
    k->push_back({"print_output_separator",
                  {[](std::string_view value, PluginConfig* p) -> Status {
                    if (value == "\\t") {
                      p->output_separator = "\t";
                    } else if (value == "\\s") {
                      p->output_separator = " ";
                    } else if (value.size() == 1) {
                      p->output_separator = std::string(value);
                    } else {
                      return InvalidArgumentError(
                          "expected one character, \\t or \\s, got " +
                          Quote(value));
                    }
                    return Status::Ok();
                  }}});
    k->push_back({"print_write_empty_file",
                  {PluginBool(&PluginConfig::write_empty_file)}});
    k->push_back({"imt_path", {PluginString(&PluginConfig::imt_path)}});
    k->push_back({"imt_buckets", {PluginUint(&PluginConfig::imt_buckets, 1)}});
    k->push_back({"imt_mem_pools_number",
                  {PluginUint(&PluginConfig::imt_mem_pools_number, 0)}});
    k->push_back({"imt_mem_pools_size",
                  {PluginUint(&PluginConfig::imt_mem_pools_size, 1)}});
    return k;
  }();
  return *keys;
}

const PluginKey* FindPluginKey(std::string_view key) {
  static const PluginKey kRawOnly{};
  for (const auto& [name, spec] : PluginKeys()) {
    if (name == key) return &spec;
  }
  if (internal::IsRawOnlyPluginKey(key)) return &kRawOnly;
  return nullptr;
}

// ---------------------------------------------------------------------------

struct Entry {
  ConfigLine line;
  const PluginKey* plugin_key = nullptr;  // null: global key
  bool command_line = false;
};

std::string Where(const ConfigSource& source) {
  return source.ToString() + ": ";
}

Status Located(const ConfigSource& source, std::string_view key,
               const Status& s) {
  return InvalidArgumentError(Where(source) + std::string(key) + ": " +
                              s.message());
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseConfigOverride(
    std::string_view text) {
  const size_t sep = text.find_first_of(":=");
  if (sep == std::string_view::npos) {
    return InvalidArgumentError("expected key: value or key=value, got " +
                                Quote(text));
  }
  ConfigLine line;
  if (Status s = internal::SplitKey(text.substr(0, sep), &line); !s.ok()) {
    return s;
  }
  const std::string_view value = Trim(text.substr(sep + 1));
  if (value.empty()) {
    return InvalidArgumentError("key " + Quote(line.key) + " has no value");
  }
  std::string key = line.key;
  if (line.bound) key += "[" + line.name + "]";
  return std::make_pair(std::move(key), std::string(value));
}

Result<DaemonConfig> ParseDaemonConfig(
    std::string_view text, std::string_view filename,
    const std::vector<std::pair<std::string, std::string>>& overrides,
    std::vector<ConfigWarning>* warnings) {
  Result<std::vector<ConfigLine>> split =
      internal::SplitConfigText(text, filename);
  if (!split.ok()) return split.status();

  std::vector<Entry> entries;
  for (ConfigLine& line : *split) {
    entries.push_back({std::move(line), nullptr, false});
  }
  for (const auto& [key, value] : overrides) {
    Entry e;
    e.command_line = true;
    e.line.source.file = "command line";
    if (Status s = internal::SplitKey(key, &e.line); !s.ok()) {
      return InvalidArgumentError("command line: " + s.message());
    }
    e.line.value = std::string(Trim(value));
    if (e.line.value.empty()) {
      return InvalidArgumentError("command line: key " + Quote(e.line.key) +
                                  " has no value");
    }
    entries.push_back(std::move(e));
  }

  DaemonConfig config;
  config.config_file = std::string(filename);

  // plugins: first, so that [name]s can be checked whatever the line order.
  // The last `plugins` wins (the command line's -P over the file).
  const Entry* plugins_entry = nullptr;
  for (const Entry& e : entries) {
    if (e.line.key == "plugins") plugins_entry = &e;
  }
  if (plugins_entry != nullptr) {
    if (plugins_entry->line.bound) {
      return InvalidArgumentError(Where(plugins_entry->line.source) +
                                  "key 'plugins' cannot be bound to a plugin");
    }
    Result<std::vector<PluginConfig>> plugins =
        ParsePluginList(plugins_entry->line.value);
    if (!plugins.ok()) {
      return InvalidArgumentError(Where(plugins_entry->line.source) +
                                  plugins.status().message());
    }
    config.plugins = std::move(*plugins);
  } else {
    PluginConfig p;
    p.type = "print";
    p.name = "default";
    config.plugins.push_back(std::move(p));
  }
  for (PluginConfig& p : config.plugins) p.aggregate = {"src_host"};

  // Classify every entry (in line order, so the first bad line is reported)
  // and apply global keys.
  GlobalState state{&config, {}, {}, warnings, {}, {}, {}, {},
                    {},      {}, {}, {},       {}, {}, {}};
  std::vector<const Entry*> plugin_entries;
  for (Entry& e : entries) {
    const ConfigLine& l = e.line;
    if (l.key == "plugins") continue;
    if (l.bound) {
      bool found = false;
      for (const PluginConfig& p : config.plugins) found |= p.name == l.name;
      if (!found) {
        return InvalidArgumentError(
            Where(l.source) + "key " + Quote(l.key + "[" + l.name + "]") +
            ": no plugin named " + Quote(l.name) + " in plugins");
      }
    }
    if (const GlobalSetter* setter = FindGlobal(l.key)) {
      if (l.bound) {
        return InvalidArgumentError(
            Where(l.source) + "key " + Quote(l.key) +
            " is global in flowacctd and cannot be bound to plugin " +
            Quote(l.name));
      }
      if (Status s = (*setter)(l.key, l.value, l.source, &state); !s.ok()) {
        return Located(l.source, l.key, s);
      }
      continue;
    }
    if (const PluginKey* spec = FindPluginKey(l.key)) {
      if (spec->binding == Binding::kMustBind && !l.bound) {
        return InvalidArgumentError(Where(l.source) + "key " + Quote(l.key) +
                                    " must be bound to a plugin (" + l.key +
                                    "[name]: ...)");
      }
      e.plugin_key = spec;
      plugin_entries.push_back(&e);
      continue;
    }
    if (const char* reason = internal::IgnoredKeyReason(l.key)) {
      if (warnings != nullptr) {
        warnings->push_back(
            {l.source, "key " + Quote(l.key) + " is ignored: " + reason});
      }
      continue;
    }
    if (internal::IsUnsupportedPmacctKey(l.key)) {
      return InvalidArgumentError(Where(l.source) + "key " + Quote(l.key) +
                                  " is not supported by flowacctd");
    }
    return InvalidArgumentError(Where(l.source) + "unknown key " +
                                Quote(l.key));
  }

  // Plugin keys: per plugin, unbound file keys, then bound file keys, then
  // the same two for the command line; a later setting wins, so a key bound
  // to a plugin beats the unbound one whatever the line order.
  for (PluginConfig& plugin : config.plugins) {
    for (int pass = 0; pass < 4; ++pass) {
      const bool command_line = pass >= 2;
      const bool bound = pass % 2 == 1;
      for (const Entry* e : plugin_entries) {
        const ConfigLine& l = e->line;
        if (e->command_line != command_line || l.bound != bound) continue;
        if (bound && l.name != plugin.name) continue;
        if (e->plugin_key->setter) {
          if (Status s = e->plugin_key->setter(l.value, &plugin); !s.ok()) {
            return Located(l.source, l.key, s);
          }
        }
        if (l.key == "aggregate") plugin.aggregate_source = l.source;
        plugin.raw.push_back({l.key, l.value, l.source});
      }
    }
  }

  if (Status s = FinishRoutingKeys(&state); !s.ok()) return s;

  // Listeners.
  auto make_listener = [](const ListenerKeys& k, uint16_t default_port) {
    ListenerConfig listener;
    listener.address = k.ip.value_or("");
    listener.port = k.port.value_or(default_port);
    listener.allow_file = k.allow_file.value_or("");
    listener.rcvbuf_bytes = k.pipe_size.value_or(0);
    return listener;
  };
  if (state.netflow.any() || !state.sflow.any()) {
    config.listeners.push_back(
        make_listener(state.netflow, kDefaultNetflowPort));
  }
  if (state.sflow.any()) {
    config.listeners.push_back(make_listener(state.sflow, kDefaultSflowPort));
    if (config.listeners.size() == 2 &&
        config.listeners[0].port == config.listeners[1].port &&
        config.listeners[0].address == config.listeners[1].address) {
      const ConfigSource& src = state.sflow.port_source.line != 0 ||
                                        !state.sflow.port_source.file.empty()
                                    ? state.sflow.port_source
                                    : state.netflow.port_source;
      return InvalidArgumentError(
          Where(src) + "nfacctd and sfacctd listeners are both on port " +
          std::to_string(config.listeners[0].port) +
          " (every listener decodes NetFlow, IPFIX and sFlow: one is enough)");
    }
  }
  return config;
}

Result<DaemonConfig> LoadDaemonConfig(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& overrides,
    std::vector<ConfigWarning>* warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot open config file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return InvalidArgumentError("cannot read config file " + path);
  }
  return ParseDaemonConfig(text.str(), path, overrides, warnings);
}

}  // namespace flowacct
