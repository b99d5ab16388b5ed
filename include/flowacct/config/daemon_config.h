// File: flowacct/config/daemon_config.h
//
// The daemon's configuration in pmacct's syntax (pmacct: CONFIG-KEYS), parsed
// into typed, validated structs. flowacctd reads nfacctd and sfacctd config
// files unchanged for everything flowacct implements (keys, defaults and
// pmacct equivalents: docs/configuration.md):
/*
     ! a comment                          (also '#')
     plugins: print[forensics], memory[mem]
     aggregate[forensics]: src_host, dst_host, \
                           src_port, dst_port, proto
     print_output_file[forensics]: /var/log/flows/%Y%m%d-%H%M.json
     nfacctd_port: 2055
*/
// Rules (pmacct's, unless marked):
// - `key: value`, or `key[name]: value` binding a key to one plugin; a key
//   without [name] applies to every plugin that does not set it itself.
//   The order of lines does not matter: `plugins:` may come last, and a
//   bound key beats the unbound one whatever comes first. Otherwise the
//   later line wins (a key given twice, or two spellings of one setting).
// - A trailing `\` continues a logical line on the next one; the leading
//   blanks of the continuation are dropped. Lines whose first non-blank
//   character is `!` or `#` are comments.
// - Keys are case-insensitive; values keep their case (print_output and the
//   *_net/*_as sources are lower-cased).
// - Per-plugin keys of the same meaning share one setting: print_refresh_time
//   and sql_refresh_time both set PluginConfig::refresh_time (bind per plugin).
// - flowacct: keys that are global here (networks_file, ports_file,
//   timestamps_*, every DaemonConfig member) cannot take a [name]; the
//   pre_tag_filter family must take one (pmacct: NO_GLOBAL).
// - `plugins:` types print, memory, sqlite3, mysql, pgsql, amqp and kafka
//   run; tee is rejected as "not implemented yet". sql_*, amqp_* and
//   kafka_* keys pmacct knows, and flowacct's per-plugin flowacct_spool_*,
//   flowacct_queue_entries, flowacct_close_timeout and flowacct_sql_* keys,
//   land in PluginConfig::raw; each sink reads and validates its own
//   (flowacct/sink/sql_sink.h, delivery.h, amqp_sink.h, kafka_sink.h).
// - An unknown key, a key flowacct does not implement, a bad value, or a
//   [name] that no plugin has is an error naming file:line (flowacct: pmacct
//   silently ignores some of these). Keys flowacct deliberately ignores
//   because they have no meaning here (plugin_pipe_size, plugin_buffer_size,
//   ...) are accepted with a warning naming file:line.
// - Command-line switches (nfacctd's -I, -L, -l, -P, -c, ...) are turned
//   into key/value pairs by the daemon and applied after the file, with the
//   source "command line".
//
// Thread-safety: value types; the parser functions are reentrant.

#ifndef FLOWACCT_CONFIG_DAEMON_CONFIG_H_
#define FLOWACCT_CONFIG_DAEMON_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowacct/aggregate/aggregator.h"
#include "flowacct/status.h"

namespace flowacct {

// Where a setting came from: "file.conf:12" or "command line".
struct ConfigSource {
  std::string file;
  int line = 0;  // 0 for the command line
  std::string ToString() const;
};

// A warning the caller should log (deliberately ignored keys, deprecated
// spellings).
struct ConfigWarning {
  ConfigSource source;
  std::string message;
};

// One `plugins:` entry and every key bound to it.
struct PluginConfig {
  std::string type;  // "print", "memory" (later sql/broker types)
  std::string name;  // "forensics"; pmacct's default name is "default"

  // aggregate: primitive names as written (validated against the primitive
  // registry by the daemon, after aggregate_primitives are loaded).
  std::vector<std::string> aggregate;  // default {"src_host"}
  ConfigSource aggregate_source;       // the line that set it; empty: default

  // Filters (enrich/tag_filter.h syntax), empty = no filter.
  std::string pre_tag_filter;
  std::string pre_tag2_filter;
  std::string pre_tag_label_filter;

  // Time and cache (print_*, sql_*, amqp_*, kafka_* spellings all land here).
  uint32_t refresh_time = 60;  // seconds
  HistorySpec history;         // *_history: "<n>s|m|h|d|w|M"; default: no bins
  std::string history_roundoff;  // "", or one of m h d w M
  uint32_t cache_entries = 0;    // 0: the plugin type's default
  // *_markers (print, amqp, kafka) and *_num_protos (all four) also land in
  // `markers` / `num_protos` below.

  // print plugin.
  std::string output = "formatted";  // formatted | csv | json
  std::string output_file;           // empty: stdout
  bool output_file_append = false;
  std::string latest_file;             // print_latest_file
  std::string trigger_exec;            // print_trigger_exec
  std::string output_separator = ",";  // print_output_separator
  bool num_protos = false;             // print_num_protos
  bool markers = false;                // print_markers
  bool write_empty_file = false;       // print_write_empty_file

  // memory plugin.
  std::string imt_path = "/tmp/collect.pipe";
  uint32_t imt_buckets = 32771;
  uint32_t imt_mem_pools_number = 16;
  uint32_t imt_mem_pools_size = 8192;

  // Every key bound to this plugin, as written (lower-cased key, value,
  // source), for sinks added later that read their own keys (sql_*, amqp_*,
  // kafka_*). Includes the keys parsed into the members above.
  struct RawKey {
    std::string key;
    std::string value;
    ConfigSource source;
  };
  std::vector<RawKey> raw;
};

// A UDP listener: nfacctd_ip/nfacctd_port or sfacctd_ip/sfacctd_port. One
// listener per daemon spelling that has any of *_ip, *_port, *_allow_file,
// *_pipe_size set (an unset port is nfacctd's 2100 / sfacctd's 6343); with
// none set, one listener on 2100. Both on the same address and port is an
// error.
struct ListenerConfig {
  std::string address;  // "" = any (IPv6 dual-stack "::" with v4 mapped)
  uint16_t port = 0;
  std::string allow_file;     // *_allow_file; empty = allow all
  uint32_t rcvbuf_bytes = 0;  // *_pipe_size; 0 = flowacct's default (16 MiB)
};

// The BGP daemon (pmacct: bgp_daemon*, bgp_table_dump_*, bgp_src_*; see
// docs/configuration.md). Inactive unless `enabled`. Other bgp_* keys are
// errors ("not supported by flowacctd").
struct BgpDaemonConfig {
  bool enabled = false;     // bgp_daemon (false)
  std::string ip;           // bgp_daemon_ip ("": every address, dual stack)
  uint16_t port = 179;      // bgp_daemon_port (179)
  uint32_t max_peers = 10;  // bgp_daemon_max_peers (10, as documented)
  std::string allow_file;   // bgp_daemon_allow_file ("": allow everyone)
  std::string md5_file;     // bgp_daemon_md5_file ("": no TCP-MD5)
  uint32_t local_as = 0;    // bgp_daemon_as (0: mirror the peer's AS, iBGP)
  // bgp_daemon_id, the BGP identifier we send, resolved: the key's IPv4
  // address; else bgp_daemon_ip when it is a (non-wildcard) IPv4 address;
  // else 1.2.3.4 (pmacct's rule). Host byte order.
  uint32_t router_id = 0x01020304;
  bool add_path_ignore = false;  // bgp_daemon_add_path_ignore (false)
  uint32_t pipe_size = 0;        // bgp_daemon_pipe_size (0: system default)
  std::string agent_map;         // bgp_agent_map (enrich/bgp_agent_map.h)
  // Periodic RIB dumps, one file per peer per dump (bgp_table_dump_file,
  // with $peer_src_ip and strftime variables). refresh: 60..86400 s
  // (pmacct's range); default 0 = unset, which with a dump file set means
  // 60.
  std::string table_dump_file;
  uint32_t table_dump_refresh_time = 0;
  std::string table_dump_output = "json";  // json only
  std::string table_dump_latest_file;      // symlink to the newest dump
  // Message log: every UPDATE / withdraw / End-of-RIB as one JSON line
  // (bgp_daemon_msglog_file, $peer_src_ip allowed).
  std::string msglog_file;
  std::string msglog_output = "json";  // json only
  // Where source-side BGP primitives come from. bgp_peer_src_as_type:
  // netflow (sflow is stored as netflow) | map | bgp; the bgp_src_*_type
  // keys: "" (unset) | bgp, and map for bgp_src_local_pref_type and
  // bgp_src_med_type. "map" needs its map file (else an error naming the
  // *_type line); a map file without "map" is unused (a warning).
  std::string peer_src_as_type = "netflow";
  std::string src_as_path_type;
  std::string src_std_comm_type;
  std::string src_ext_comm_type;
  std::string src_lrg_comm_type;
  std::string src_local_pref_type;
  std::string src_med_type;
  // bgp_peer_src_as_map, bgp_src_local_pref_map, bgp_src_med_map
  // (enrich/bgp_source_map.h); SIGUSR2 reloads them.
  std::string peer_src_as_map;
  std::string src_local_pref_map;
  std::string src_med_map;
  uint32_t follow_default = 0;  // bgp_follow_default (0: off)
  uint32_t aspath_radius = 0;   // bgp_aspath_radius (0: whole path)
  std::string stdcomm_pattern;  // bgp_stdcomm_pattern
  std::string extcomm_pattern;  // bgp_extcomm_pattern
  std::string lrgcomm_pattern;  // bgp_lrgcomm_pattern
};

// The BMP daemon (pmacct: bmp_daemon*, bmp_dump_*). Inactive unless
// `enabled`; it shares the RIB with the BGP daemon.
struct BmpDaemonConfig {
  bool enabled = false;     // bmp_daemon (false)
  std::string ip;           // bmp_daemon_ip ("": every address)
  uint16_t port = 1790;     // bmp_daemon_port (1790)
  uint32_t max_peers = 10;  // bmp_daemon_max_peers (10): routers at once
  std::string allow_file;   // bmp_daemon_allow_file
  uint32_t pipe_size = 0;   // bmp_daemon_pipe_size
  std::string agent_map;    // bmp_agent_map
  std::string msglog_file;  // bmp_daemon_msglog_file
  std::string msglog_output = "json";  // bmp_daemon_msglog_output: json
  std::string dump_file;               // bmp_dump_file
  uint32_t dump_refresh_time = 0;      // bmp_dump_refresh_time (60..86400)
  std::string dump_output = "json";    // bmp_dump_output: json
  std::string dump_latest_file;        // bmp_dump_latest_file
};

struct DaemonConfig {
  std::string config_file;  // as given to -f

  // Input. pcap_savefile (-I) replays a capture and exits after flushing;
  // otherwise the listeners are opened. With neither nfacctd_port nor
  // sfacctd_port set, one NetFlow/IPFIX listener on port 2100 (nfacctd's
  // default). Every listener decodes every protocol (the version field
  // tells), so one daemon may serve both NetFlow and sFlow.
  std::string pcap_savefile;
  std::vector<ListenerConfig> listeners;

  std::vector<PluginConfig> plugins;  // default: one print[default]

  // Global maps and knobs.
  std::string aggregate_primitives;  // file
  std::string pre_tag_map;
  std::string sampling_map;
  std::string networks_file;
  std::string ports_file;
  std::string templates_file;  // nfacctd_templates_file
  bool renormalize = false;    // nfacctd_renormalize / sfacctd_...
  bool time_new = false;       // nfacctd_time_new / sfacctd_time_new
  // nfacctd_net / sfacctd_net: netflow|mask|file|longest|bgp|bmp ("sflow"
  // is stored as "netflow": from the flow protocol); bgp needs bgp_daemon,
  // bmp needs bmp_daemon (else an error naming the line); igp and bgp-ls
  // are rejected.
  std::string net_source = "netflow";
  // nfacctd_as / sfacctd_as (old spelling *_as_new, with a warning):
  // netflow|file|longest|bgp|bmp ("sflow" -> "netflow"); bgp and bmp as
  // for net_source.
  std::string as_source = "netflow";

  BgpDaemonConfig bgp;
  BmpDaemonConfig bmp;
  bool ignore_exporter_address = false;  // nfacctd_ignore_exporter_address
  bool maps_refresh = true;
  uint32_t maps_entries = 384;

  // Output rendering (global in pmacct).
  bool timestamps_secs = false;
  bool timestamps_utc = false;  // pmacct default: local time
  bool timestamps_since_epoch = false;

  // Process.
  std::string logfile;  // empty: stderr
  std::string pidfile;
  bool daemonize = false;
  bool debug = false;

  // flowacct extensions (not in pmacct).
  // flowacct_templates_by_port: key v9/IPFIX templates by exporter address
  // and UDP source port (RFC 7011 §8 transport session). Default false:
  // by address only, as pmacct does, so exporters that send templates and
  // data from different source ports (line cards, pmacct-112) decode.
  bool templates_by_port = false;
  uint32_t workers = 0;  // flowacct_workers; 0 = cores - 1 (at least 1)
  // flowacct_rib_huge_pages: the BGP/BMP RIB's memory on transparent huge
  // pages (bgp::RibOptions::huge_pages): faster lookups with many
  // full-table peers, but a table's ingest can pay for memory compaction
  // on a fragmented host (docs/performance.md, BGP). Default false.
  bool rib_huge_pages = false;
  std::string metrics_listen = "127.0.0.1:9469";  // flowacct_metrics_listen;
                                                  // "" disables /metrics
};

// Parses config text (the content of `filename`). `overrides` are
// command-line key/value pairs applied after the file (plugin-bound keys as
// "key[name]"). Errors are kInvalidArgument "file:line: message" (the first
// physical line of a continued line; "command line: message" for an
// override); a value error names the key: "t.conf:3: print_refresh_time:
// expected a positive integer, got 'abc'". `warnings` may be null.
Result<DaemonConfig> ParseDaemonConfig(
    std::string_view text, std::string_view filename,
    const std::vector<std::pair<std::string, std::string>>& overrides,
    std::vector<ConfigWarning>* warnings);

// Splits one command-line override "key: value", "key=value",
// "key[name]: value" or "key[name]=value" into the pair ParseDaemonConfig
// takes ("key" or "key[name]" lower-cased, value trimmed). kInvalidArgument
// for a bad key or an empty value. For a generic `-o key=value` switch.
Result<std::pair<std::string, std::string>> ParseConfigOverride(
    std::string_view text);

// Reads and parses `path` (kNotFound / kInvalidArgument naming the path).
Result<DaemonConfig> LoadDaemonConfig(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& overrides,
    std::vector<ConfigWarning>* warnings);

}  // namespace flowacct

#endif  // FLOWACCT_CONFIG_DAEMON_CONFIG_H_
