#include "flowacct/config/daemon_config.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

using Overrides = std::vector<std::pair<std::string, std::string>>;

DaemonConfig MustParse(std::string_view text, const Overrides& overrides = {},
                       std::vector<ConfigWarning>* warnings = nullptr) {
  Result<DaemonConfig> config =
      ParseDaemonConfig(text, "t.conf", overrides, warnings);
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  return std::move(config).value();
}

std::string ErrorOf(std::string_view text, const Overrides& overrides = {}) {
  Result<DaemonConfig> config =
      ParseDaemonConfig(text, "t.conf", overrides, nullptr);
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == StatusCode::kInvalidArgument);
  return config.status().message();
}

const PluginConfig& Plugin(const DaemonConfig& config, std::string_view name) {
  for (const PluginConfig& p : config.plugins) {
    if (p.name == name) return p;
  }
  FAIL("no plugin " << name);
  return config.plugins.front();
}

using Strings = std::vector<std::string>;

TEST_CASE("empty config: defaults") {
  DaemonConfig c = MustParse("");
  REQUIRE(c.plugins.size() == 1);
  CHECK(c.plugins[0].type == "print");
  CHECK(c.plugins[0].name == "default");
  CHECK(c.plugins[0].aggregate == Strings{"src_host"});
  CHECK(c.plugins[0].refresh_time == 60);
  CHECK_FALSE(c.plugins[0].history.enabled());
  CHECK(c.plugins[0].output == "formatted");
  CHECK(c.plugins[0].output_separator == ",");
  CHECK(c.plugins[0].imt_buckets == 32771);
  CHECK(c.plugins[0].raw.empty());
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0].address.empty());
  CHECK(c.listeners[0].port == 2100);
  CHECK(c.listeners[0].allow_file.empty());
  CHECK(c.listeners[0].rcvbuf_bytes == 0);
  CHECK(c.config_file == "t.conf");
  CHECK(c.maps_refresh);
  CHECK(c.maps_entries == 384);
  CHECK(c.net_source == "netflow");
  CHECK(c.as_source == "netflow");
  CHECK(c.metrics_listen == "127.0.0.1:9469");
  CHECK(c.workers == 0);
}

TEST_CASE("comments, blank lines, CRLF and continuation lines") {
  DaemonConfig c = MustParse(
      "! pmacct comment\n"
      "   ! indented comment\n"
      "# hash comment\n"
      "\n"
      "plugins: print[p]\r\n"
      "aggregate[p]: src_host, dst_host, \\\n"
      "              src_port,\\\n"
      "  dst_port, proto\n"
      "print_output_file[p]: /var/log/\\\n"
      "   flows.json\n");
  const PluginConfig& p = Plugin(c, "p");
  CHECK(p.aggregate ==
        Strings{"src_host", "dst_host", "src_port", "dst_port", "proto"});
  CHECK(p.aggregate_source.ToString() == "t.conf:6");
  CHECK(p.output_file == "/var/log/flows.json");
  // Sources name the first physical line of a continued line.
  REQUIRE(p.raw.size() == 2);
  CHECK(p.raw[0].key == "aggregate");
  CHECK(p.raw[0].source.ToString() == "t.conf:6");
  CHECK(p.raw[1].source.ToString() == "t.conf:9");
}

TEST_CASE("keys are case-insensitive, values keep their case") {
  DaemonConfig c = MustParse(
      "PLUGINS: Print[Mixed]\n"
      "Aggregate[Mixed]: src_host, myCustomPrim\n"
      "PRINT_OUTPUT[Mixed]: JSON\n"
      "Print_Output_File[Mixed]: /tmp/Out.JSON\n"
      "NfAcctd_Port: 2055\n");
  const PluginConfig& p = Plugin(c, "Mixed");
  CHECK(p.type == "print");
  CHECK(p.aggregate == Strings{"src_host", "myCustomPrim"});
  CHECK(p.output == "json");
  CHECK(p.output_file == "/tmp/Out.JSON");
  CHECK(p.raw[0].key == "aggregate");
  CHECK(c.listeners[0].port == 2055);
}

TEST_CASE("plugins: names, default name, order of lines does not matter") {
  DaemonConfig c = MustParse(
      "aggregate[b]: dst_host\n"
      "imt_buckets[b]: 65537\n"
      "plugins: print[a] , memory [b]\n");
  REQUIRE(c.plugins.size() == 2);
  CHECK(c.plugins[0].type == "print");
  CHECK(c.plugins[0].name == "a");
  CHECK(c.plugins[1].type == "memory");
  CHECK(c.plugins[1].name == "b");
  CHECK(Plugin(c, "a").aggregate == Strings{"src_host"});
  CHECK(Plugin(c, "b").aggregate == Strings{"dst_host"});
  CHECK(Plugin(c, "b").imt_buckets == 65537);
  CHECK(Plugin(c, "a").imt_buckets == 32771);

  DaemonConfig d = MustParse("plugins: memory\n");
  CHECK(d.plugins[0].name == "default");
  CHECK(d.plugins[0].type == "memory");
}

TEST_CASE("plugins: server sink types parse, their keys land in raw") {
  DaemonConfig d = MustParse(
      "plugins: sqlite3[a], mysql[b], pgsql[c], amqp[d], kafka[e]\n"
      "sql_table[a]: tm-%Y%m%d_%H%M\n"
      "flowacct_spool_dir[a]: /tmp/spool\n");
  REQUIRE(d.plugins.size() == 5);
  CHECK(d.plugins[0].type == "sqlite3");
  CHECK(d.plugins[4].type == "kafka");
  bool table = false, spool = false;
  for (const PluginConfig::RawKey& k : d.plugins[0].raw) {
    table |= k.key == "sql_table" && k.value == "tm-%Y%m%d_%H%M";
    spool |= k.key == "flowacct_spool_dir" && k.source.line == 3;
  }
  CHECK(table);
  CHECK(spool);
}

TEST_CASE("plugins: errors") {
  CHECK(ErrorOf("plugins: print, memory\n") ==
        "t.conf:1: plugins: plugin name 'default' is used twice");
  CHECK(ErrorOf("\nplugins: print[a], print[a]\n") ==
        "t.conf:2: plugins: plugin name 'a' is used twice");
  CHECK(ErrorOf("plugins: print[a], tee[b]\n") ==
        "t.conf:1: plugin type tee is not implemented yet");
  CHECK(ErrorOf("plugins: nfprobe\n") ==
        "t.conf:1: plugin type nfprobe is not supported by flowacctd (pmacct "
        "runs it in pmacctd/uacctd only)");
  CHECK(ErrorOf("plugins: printer[a]\n") ==
        "t.conf:1: unknown plugin type 'printer'");
  CHECK(ErrorOf("plugins: print[a],\n") ==
        "t.conf:1: plugins: empty entry in 'print[a],'");
  CHECK(ErrorOf("plugins: print[a b]\n") ==
        "t.conf:1: plugins: bad entry 'print[a b]' (expected type or "
        "type[name])");
  CHECK(ErrorOf("plugins[a]: print[a]\n") ==
        "t.conf:1: key 'plugins' cannot be bound to a plugin");
}

TEST_CASE("unbound plugin keys apply to every plugin; bound keys win") {
  DaemonConfig c = MustParse(
      "plugins: print[a], print[b], memory[c]\n"
      "print_refresh_time[b]: 300\n"  // bound line before the global one
      "print_refresh_time: 120\n"
      "aggregate: src_host, dst_host\n"
      "aggregate[c]: proto\n");
  CHECK(Plugin(c, "a").refresh_time == 120);
  CHECK(Plugin(c, "b").refresh_time == 300);
  CHECK(Plugin(c, "c").refresh_time == 120);
  CHECK(Plugin(c, "a").aggregate == Strings{"src_host", "dst_host"});
  CHECK(Plugin(c, "b").aggregate == Strings{"src_host", "dst_host"});
  CHECK(Plugin(c, "c").aggregate == Strings{"proto"});
  // raw holds every key applied, unbound first.
  const PluginConfig& b = Plugin(c, "b");
  REQUIRE(b.raw.size() == 3);
  CHECK(b.raw[0].key == "print_refresh_time");
  CHECK(b.raw[0].value == "120");
  CHECK(b.raw[1].key == "aggregate");
  CHECK(b.raw[2].value == "300");
  CHECK(b.raw[2].source.ToString() == "t.conf:2");
}

TEST_CASE("a [name] that no plugin has is an error") {
  CHECK(ErrorOf("plugins: print[a]\n"
                "!\n"
                "aggregate[nope]: src_host\n") ==
        "t.conf:3: key 'aggregate[nope]': no plugin named 'nope' in plugins");
  // Without plugins: the only plugin is print[default].
  CHECK(ErrorOf("aggregate[x]: src_host\n") ==
        "t.conf:1: key 'aggregate[x]': no plugin named 'x' in plugins");
  DaemonConfig c = MustParse("aggregate[default]: dst_host\n");
  CHECK(c.plugins[0].aggregate == Strings{"dst_host"});
}

TEST_CASE("refresh, history, cache: every plugin family spelling") {
  DaemonConfig c = MustParse(
      "plugins: print[a], print[b], print[c], memory[d]\n"
      "print_refresh_time[a]: 10\n"
      "sql_refresh_time[b]: 20\n"
      "amqp_refresh_time[c]: 30\n"
      "kafka_refresh_time[d]: 40\n"
      "print_history[a]: 5m\n"
      "sql_history[b]: 300s\n"
      "kafka_history[c]: 1M\n"
      "amqp_history[d]: 2h\n"
      "print_history_roundoff[a]: m\n"
      "sql_history_roundoff[b]: M\n"
      "print_cache_entries[a]: 259991\n"
      "kafka_cache_entries[c]: 7\n");
  CHECK(Plugin(c, "a").refresh_time == 10);
  CHECK(Plugin(c, "b").refresh_time == 20);
  CHECK(Plugin(c, "c").refresh_time == 30);
  CHECK(Plugin(c, "d").refresh_time == 40);
  const HistorySpec& a = Plugin(c, "a").history;
  CHECK(a.unit == HistorySpec::Unit::kMinute);
  CHECK(a.count == 5);
  CHECK(Plugin(c, "b").history.unit == HistorySpec::Unit::kSecond);
  CHECK(Plugin(c, "b").history.count == 300);
  CHECK(Plugin(c, "c").history.unit == HistorySpec::Unit::kMonth);
  CHECK(Plugin(c, "d").history.unit == HistorySpec::Unit::kHour);
  CHECK(Plugin(c, "d").history.count == 2);
  CHECK(Plugin(c, "a").history_roundoff == "m");
  CHECK(Plugin(c, "b").history_roundoff == "M");
  CHECK(Plugin(c, "a").cache_entries == 259991);
  CHECK(Plugin(c, "b").cache_entries == 0);
  CHECK(Plugin(c, "c").cache_entries == 7);
}

TEST_CASE("bad values name file, line and key") {
  CHECK(ErrorOf("print_refresh_time: abc\n") ==
        "t.conf:1: print_refresh_time: expected a positive integer, got "
        "'abc'");
  CHECK(ErrorOf("print_refresh_time: 0\n") ==
        "t.conf:1: print_refresh_time: expected a positive integer, got '0'");
  CHECK(ErrorOf("print_refresh_time: -5\n") ==
        "t.conf:1: print_refresh_time: expected a positive integer, got "
        "'-5'");
  CHECK(ErrorOf("print_refresh_time: 99999999999\n") ==
        "t.conf:1: print_refresh_time: expected a positive integer, got "
        "'99999999999'");
  CHECK(ErrorOf("\n\nnfacctd_port: 70000\n") ==
        "t.conf:3: nfacctd_port: expected an integer from 1 to 65535, got "
        "'70000'");
  CHECK(ErrorOf("nfacctd_port: 0\n") ==
        "t.conf:1: nfacctd_port: expected an integer from 1 to 65535, got "
        "'0'");
  CHECK(ErrorOf("nfacctd_ip: 10.0.0.256\n") ==
        "t.conf:1: nfacctd_ip: expected an IPv4 or IPv6 address, got "
        "'10.0.0.256'");
  CHECK(ErrorOf("nfacctd_renormalize: maybe\n") ==
        "t.conf:1: nfacctd_renormalize: expected true or false, got 'maybe'");
  CHECK(ErrorOf("print_history: 5x\n") ==
        "t.conf:1: print_history: expected a time-bin length like 5m, 300s, "
        "1h, 1d, 1w or 1M, got '5x'");
  CHECK_THAT(ErrorOf("print_history: 0m\n"),
             Catch::StartsWith("t.conf:1: print_history: expected"));
  CHECK_THAT(ErrorOf("print_history: m\n"),
             Catch::StartsWith("t.conf:1: print_history: expected"));
  // Bins must fit the aggregator's nanosecond clock.
  CHECK_THAT(ErrorOf("print_history: 1000000w\n"),
             Catch::StartsWith("t.conf:1: print_history: expected"));
  CHECK_THAT(ErrorOf("print_history: 5\n"),
             Catch::StartsWith("t.conf:1: print_history: expected"));
  CHECK(ErrorOf("print_history_roundoff: x\n") ==
        "t.conf:1: print_history_roundoff: expected one of m, h, d, w, M, got "
        "'x'");
  CHECK(ErrorOf("print_output: avro\n") ==
        "t.conf:1: print_output: 'avro' is not supported by flowacctd "
        "(formatted, csv, json, protobuf)");
  CHECK(ErrorOf("print_output: xml\n") ==
        "t.conf:1: print_output: expected one of formatted, csv, json, "
        "protobuf, got "
        "'xml'");
  CHECK(ErrorOf("print_cache_entries: 0\n") ==
        "t.conf:1: print_cache_entries: expected a positive integer, got '0'");
  CHECK(ErrorOf("print_output_separator: ;;\n") ==
        "t.conf:1: print_output_separator: expected one character, \\t or "
        "\\s, got ';;'");
  CHECK(ErrorOf("aggregate: src_host,,dst_host\n") ==
        "t.conf:1: aggregate: empty entry in the comma-separated list");
  CHECK(ErrorOf("aggregate: src_host dst_host\n") ==
        "t.conf:1: aggregate: expected a comma-separated list, got 'src_host "
        "dst_host'");
  CHECK(ErrorOf("nfacctd_net: igp\n") ==
        "t.conf:1: nfacctd_net: 'igp' is not supported by flowacctd (no IGP "
        "or BGP-LS source); use netflow, sflow, mask, file, longest, bgp or "
        "bmp");
  CHECK(ErrorOf("nfacctd_as: igp\n") ==
        "t.conf:1: nfacctd_as: expected one of netflow, sflow, file, longest, "
        "bgp, bmp, got 'igp'");
  CHECK(ErrorOf("maps_entries: 0\n") ==
        "t.conf:1: maps_entries: expected a positive integer, got '0'");
  CHECK(ErrorOf("flowacct_workers: 5000\n") ==
        "t.conf:1: flowacct_workers: expected an integer from 0 to 1024, got "
        "'5000'");
  CHECK_THAT(ErrorOf("flowacct_metrics_listen: localhost\n"),
             Catch::StartsWith("t.conf:1: flowacct_metrics_listen: expected "
                               "host:port"));
  CHECK(ErrorOf("imt_buckets: 0\n") ==
        "t.conf:1: imt_buckets: expected a positive integer, got '0'");
}

TEST_CASE("syntax errors name file and line") {
  CHECK(ErrorOf("! c\nplugins print\n") ==
        "t.conf:2: expected 'key: value', got 'plugins print'");
  CHECK(ErrorOf("aggregate:\n") == "t.conf:1: key 'aggregate' has no value");
  CHECK(ErrorOf("aggregate[: x\n") ==
        "t.conf:1: bad key 'aggregate[' (expected key or key[name])");
  CHECK(ErrorOf("aggregate[]: x\n") ==
        "t.conf:1: bad plugin name '' in key 'aggregate[]'");
  CHECK(ErrorOf("aggregate[a]x: y\n") ==
        "t.conf:1: bad key 'aggregate[a]x' (expected key or key[name])");
  CHECK(ErrorOf("my-key: y\n") == "t.conf:1: bad key 'my-key'");
  // The error names the first physical line of a continued line.
  CHECK(ErrorOf("\nprint_refresh_time: \\\n  abc\n") ==
        "t.conf:2: print_refresh_time: expected a positive integer, got "
        "'abc'");
}

TEST_CASE("unknown and unsupported keys") {
  CHECK(ErrorOf("plugins: print\nagregate: src_host\n") ==
        "t.conf:2: unknown key 'agregate'");
  CHECK(ErrorOf("bgp_daemon_lg: true\n") ==
        "t.conf:1: key 'bgp_daemon_lg' is not supported by flowacctd");
  CHECK(ErrorOf("BGP_Daemon_Something_New: 1\n") ==
        "t.conf:1: key 'bgp_daemon_something_new' is not supported by "
        "flowacctd");
  CHECK(ErrorOf("nfacctd_stitching: true\n") ==
        "t.conf:1: key 'nfacctd_stitching' is not supported by flowacctd");
  CHECK(ErrorOf("print_history_offset: 60\n") ==
        "t.conf:1: key 'print_history_offset' is not supported by flowacctd");
  CHECK(ErrorOf("post_tag: 1\n") ==
        "t.conf:1: key 'post_tag' is not supported by flowacctd");
  CHECK(ErrorOf("tee_receivers: /x\n") ==
        "t.conf:1: key 'tee_receivers' is not supported by flowacctd");
  CHECK(ErrorOf("timestamps_rfc3339: true\n") ==
        "t.conf:1: key 'timestamps_rfc3339' is not supported by flowacctd");
  // The keys docs/configuration.md names.
  for (const char* key : {"aggregate_filter",
                          "post_tag2",
                          "nfacctd_pro_rating",
                          "print_startup_delay",
                          "print_preprocess",
                          "print_output_lock_file",
                          "networks_mask",
                          "pcap_savefile_replay",
                          "flow_to_rd_map",
                          "timestamps_rfc9557",
                          "telemetry_daemon",
                          "isis_daemon",
                          "rpki_roas_file",
                          "nfprobe_receiver",
                          "sfprobe_receiver",
                          "classifier_num_roots",
                          "pmacctd_flow_buffer_size",
                          "uacctd_group",
                          "redis_host",
                          "geoipv2_file",
                          "nfacctd_time_secs",
                          "sfacctd_counter_file"}) {
    CHECK(ErrorOf(std::string(key) + ": 1\n") ==
          std::string("t.conf:1: key '") + key +
              "' is not supported by flowacctd");
  }
  // Their storage spellings go to raw.
  CHECK(MustParse("sql_startup_delay: 5\n").plugins[0].raw.size() == 1);
}

TEST_CASE("storage and broker keys go to raw") {
  DaemonConfig c = MustParse(
      "plugins: print[a]\n"
      "sql_table[a]: acct_v9\n"
      "kafka_topic: pmacct.acct\n");
  const PluginConfig& a = Plugin(c, "a");
  REQUIRE(a.raw.size() == 2);
  CHECK(a.raw[0].key == "kafka_topic");
  CHECK(a.raw[1].key == "sql_table");
  CHECK(a.raw[1].value == "acct_v9");
  CHECK(ErrorOf("sql_tabel: x\n") == "t.conf:1: unknown key 'sql_tabel'");
}

TEST_CASE("deliberately ignored keys warn with file:line") {
  std::vector<ConfigWarning> warnings;
  DaemonConfig c = MustParse(
      "plugins: print[a]\n"
      "plugin_pipe_size: 10240000\n"
      "plugin_buffer_size[a]: 10240\n"
      "print_max_writers: 5\n"
      "maps_row_len: 1024\n"
      "syslog: daemon\n",
      {}, &warnings);
  REQUIRE(warnings.size() == 5);
  CHECK(warnings[0].source.ToString() == "t.conf:2");
  CHECK(warnings[0].message ==
        "key 'plugin_pipe_size' is ignored: flowacctd has no core-to-plugin "
        "pipe (workers hand batches over in-process queues)");
  CHECK(warnings[1].source.ToString() == "t.conf:3");
  CHECK(warnings[3].message.rfind("key 'maps_row_len' is ignored: ", 0) == 0);
  CHECK(warnings[4].source.line == 6);
  CHECK(Plugin(c, "a").raw.empty());
  // A [name] on an ignored key is still checked.
  CHECK(ErrorOf("plugin_pipe_size[zz]: 1\n") ==
        "t.conf:1: key 'plugin_pipe_size[zz]': no plugin named 'zz' in "
        "plugins");
  // No warnings vector: still parses.
  CHECK(ParseDaemonConfig("plugin_pipe_size: 1\n", "t.conf", {}, nullptr).ok());
}

TEST_CASE("binding rules: global keys, filters that must be bound") {
  CHECK(ErrorOf("plugins: print[a]\nnetworks_file[a]: /n\n") ==
        "t.conf:2: key 'networks_file' is global in flowacctd and cannot be "
        "bound to plugin 'a'");
  CHECK(ErrorOf("pre_tag_filter: 10\n") ==
        "t.conf:1: key 'pre_tag_filter' must be bound to a plugin "
        "(pre_tag_filter[name]: ...)");
  DaemonConfig c = MustParse(
      "plugins: print[a], print[b]\n"
      "pre_tag_filter[a]: 10-20,-15\n"
      "pre_tag2_filter[b]: 0\n"
      "pre_tag_label_filter[b]: -null\n");
  CHECK(Plugin(c, "a").pre_tag_filter == "10-20,-15");
  CHECK(Plugin(c, "b").pre_tag_filter.empty());
  CHECK(Plugin(c, "b").pre_tag2_filter == "0");
  CHECK(Plugin(c, "b").pre_tag_label_filter == "-null");
}

TEST_CASE("global maps and knobs") {
  std::vector<ConfigWarning> warnings;
  DaemonConfig c = MustParse(
      "aggregate_primitives: /etc/pmacct/primitives.lst\n"
      "pre_tag_map: /etc/pmacct/pretag.map\n"
      "sampling_map: /etc/pmacct/sampling.map\n"
      "networks_file: /etc/pmacct/networks.lst\n"
      "ports_file: /etc/pmacct/ports.lst\n"
      "nfacctd_templates_file: /var/lib/templates.json\n"
      "nfacctd_renormalize: TRUE\n"
      "nfacctd_time_new: yes\n"
      "nfacctd_net: longest\n"
      "nfacctd_as_new: file\n"
      "nfacctd_ignore_exporter_address: 1\n"
      "maps_refresh: false\n"
      "maps_entries: 10000\n"
      "timestamps_secs: true\n"
      "timestamps_utc: true\n"
      "timestamps_since_epoch: true\n"
      "logfile: /var/log/flowacctd.log\n"
      "pidfile: /run/flowacctd.pid\n"
      "daemonize: true\n"
      "debug: true\n"
      "flowacct_workers: 4\n"
      "flowacct_templates_by_port: true\n"
      "flowacct_rib_huge_pages: true\n"
      "flowacct_metrics_listen: [::1]:9000\n",
      {}, &warnings);
  CHECK(c.aggregate_primitives == "/etc/pmacct/primitives.lst");
  CHECK(c.pre_tag_map == "/etc/pmacct/pretag.map");
  CHECK(c.sampling_map == "/etc/pmacct/sampling.map");
  CHECK(c.networks_file == "/etc/pmacct/networks.lst");
  CHECK(c.ports_file == "/etc/pmacct/ports.lst");
  CHECK(c.templates_file == "/var/lib/templates.json");
  CHECK(c.renormalize);
  CHECK(c.time_new);
  CHECK(c.net_source == "longest");
  CHECK(c.as_source == "file");
  CHECK(c.ignore_exporter_address);
  CHECK_FALSE(c.maps_refresh);
  CHECK(c.maps_entries == 10000);
  CHECK(c.timestamps_secs);
  CHECK(c.timestamps_utc);
  CHECK(c.timestamps_since_epoch);
  CHECK(c.logfile == "/var/log/flowacctd.log");
  CHECK(c.pidfile == "/run/flowacctd.pid");
  CHECK(c.daemonize);
  CHECK(c.debug);
  CHECK(c.workers == 4);
  CHECK(c.templates_by_port);
  CHECK(c.rib_huge_pages);
  CHECK(c.metrics_listen == "[::1]:9000");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].source.line == 10);
  CHECK(warnings[0].message ==
        "key 'nfacctd_as_new' is the old spelling of 'nfacctd_as'");

  DaemonConfig s = MustParse(
      "sfacctd_renormalize: true\nsfacctd_net: sflow\nsfacctd_as: sflow\n"
      "sfacctd_time_new: true\nflowacct_metrics_listen: false\n");
  CHECK(s.renormalize);
  CHECK(s.time_new);
  CHECK(s.net_source == "netflow");
  CHECK(s.as_source == "netflow");
  CHECK(s.metrics_listen.empty());
}

TEST_CASE("print and memory plugin keys") {
  DaemonConfig c = MustParse(
      "plugins: print[p], memory[m]\n"
      "print_output[p]: csv\n"
      "print_output_file[p]: /var/log/flows/%Y%m%d-%H%M.csv\n"
      "print_output_file_append[p]: true\n"
      "print_latest_file[p]: /var/log/flows/latest\n"
      "print_trigger_exec[p]: /usr/local/bin/ship.sh\n"
      "print_output_separator[p]: \\t\n"
      "print_num_protos[p]: true\n"
      "print_markers[p]: true\n"
      "print_write_empty_file[p]: true\n"
      "imt_path[m]: /run/flowacct.pipe\n"
      "imt_buckets[m]: 65537\n"
      "imt_mem_pools_number[m]: 0\n"
      "imt_mem_pools_size[m]: 65536\n");
  const PluginConfig& p = Plugin(c, "p");
  CHECK(p.output == "csv");
  CHECK(p.output_file == "/var/log/flows/%Y%m%d-%H%M.csv");
  CHECK(p.output_file_append);
  CHECK(p.latest_file == "/var/log/flows/latest");
  CHECK(p.trigger_exec == "/usr/local/bin/ship.sh");
  CHECK(p.output_separator == "\t");
  CHECK(p.num_protos);
  CHECK(p.markers);
  CHECK(p.write_empty_file);
  const PluginConfig& m = Plugin(c, "m");
  CHECK(m.imt_path == "/run/flowacct.pipe");
  CHECK(m.imt_buckets == 65537);
  CHECK(m.imt_mem_pools_number == 0);
  CHECK(m.imt_mem_pools_size == 65536);
  CHECK(
      MustParse("print_output_separator: \\s\n").plugins[0].output_separator ==
      " ");
  CHECK(MustParse("print_output_separator: |\n").plugins[0].output_separator ==
        "|");
}

TEST_CASE("listeners") {
  SECTION("nfacctd only") {
    DaemonConfig c = MustParse(
        "nfacctd_ip: 192.0.2.1\nnfacctd_port: 2055\n"
        "nfacctd_allow_file: /etc/allow\nnfacctd_pipe_size: 33554432\n");
    REQUIRE(c.listeners.size() == 1);
    CHECK(c.listeners[0].address == "192.0.2.1");
    CHECK(c.listeners[0].port == 2055);
    CHECK(c.listeners[0].allow_file == "/etc/allow");
    CHECK(c.listeners[0].rcvbuf_bytes == 33554432);
  }
  SECTION("sfacctd only: no NetFlow listener") {
    DaemonConfig c = MustParse("sfacctd_port: 6343\nsfacctd_ip: ::\n");
    REQUIRE(c.listeners.size() == 1);
    CHECK(c.listeners[0].address == "::");
    CHECK(c.listeners[0].port == 6343);
  }
  SECTION("sfacctd_allow_file alone opens sfacctd's default port") {
    DaemonConfig c = MustParse("sfacctd_allow_file: /etc/allow\n");
    REQUIRE(c.listeners.size() == 1);
    CHECK(c.listeners[0].port == 6343);
    CHECK(c.listeners[0].allow_file == "/etc/allow");
  }
  SECTION("both") {
    DaemonConfig c = MustParse("sfacctd_port: 6343\nnfacctd_port: 2055\n");
    REQUIRE(c.listeners.size() == 2);
    CHECK(c.listeners[0].port == 2055);
    CHECK(c.listeners[1].port == 6343);
  }
  SECTION("both on the same port") {
    CHECK(ErrorOf("nfacctd_port: 9000\n!\nsfacctd_port: 9000\n") ==
          "t.conf:3: nfacctd and sfacctd listeners are both on port 9000 "
          "(every listener decodes NetFlow, IPFIX and sFlow: one is enough)");
  }
  SECTION("pcap_savefile keeps the listeners (the daemon ignores them)") {
    DaemonConfig c = MustParse("pcap_savefile: /tmp/x.pcap\n");
    CHECK(c.pcap_savefile == "/tmp/x.pcap");
    CHECK(c.listeners.size() == 1);
  }
}

TEST_CASE("command-line overrides apply after the file") {
  DaemonConfig c = MustParse(
      "plugins: print[a], print[b]\n"
      "aggregate[a]: src_host\n"
      "nfacctd_port: 2055\n"
      "print_refresh_time: 60\n",
      {{"nfacctd_port", "9995"},
       {"print_refresh_time", "10"},
       {"AGGREGATE[b]", "dst_host, proto"}});
  CHECK(c.listeners[0].port == 9995);
  // An unbound command-line key beats a bound file key.
  CHECK(Plugin(c, "a").refresh_time == 10);
  CHECK(Plugin(c, "b").refresh_time == 10);
  CHECK(Plugin(c, "a").aggregate == Strings{"src_host"});
  CHECK(Plugin(c, "b").aggregate == Strings{"dst_host", "proto"});
  const PluginConfig& b = Plugin(c, "b");
  CHECK(b.raw.back().key == "aggregate");
  CHECK(b.raw.back().source.ToString() == "command line");
  CHECK(b.raw.back().source.line == 0);

  // -P replaces the file's plugins.
  DaemonConfig p = MustParse("plugins: print[a]\n", {{"plugins", "memory[m]"}});
  REQUIRE(p.plugins.size() == 1);
  CHECK(p.plugins[0].name == "m");

  CHECK(ErrorOf("", {{"nfacctd_port", "x"}}) ==
        "command line: nfacctd_port: expected an integer from 1 to 65535, got "
        "'x'");
  CHECK(ErrorOf("", {{"nope", "1"}}) == "command line: unknown key 'nope'");
  CHECK(ErrorOf("", {{"aggregate[zz]", "src_host"}}) ==
        "command line: key 'aggregate[zz]': no plugin named 'zz' in plugins");
  CHECK(ErrorOf("", {{"aggregate", ""}}) ==
        "command line: key 'aggregate' has no value");
}

TEST_CASE("ParseConfigOverride") {
  auto kv = ParseConfigOverride("print_refresh_time=30");
  REQUIRE(kv.ok());
  CHECK(kv->first == "print_refresh_time");
  CHECK(kv->second == "30");
  kv = ParseConfigOverride("Aggregate[Foo]: src_host, dst_host");
  REQUIRE(kv.ok());
  CHECK(kv->first == "aggregate[Foo]");
  CHECK(kv->second == "src_host, dst_host");
  kv = ParseConfigOverride("nfacctd_ip: ::1");
  REQUIRE(kv.ok());
  CHECK(kv->second == "::1");
  CHECK_FALSE(ParseConfigOverride("novalue").ok());
  CHECK_FALSE(ParseConfigOverride("k=").ok());
  CHECK_FALSE(ParseConfigOverride("bad key=1").ok());
}

// A traffic matrix and a forensics view, pmacct QUICKSTART style.
constexpr char kTrafficMatrix[] =
    "! nfacctd configuration: traffic matrix + forensics\n"
    "daemonize: false\n"
    "pidfile: /var/run/nfacctd.pid\n"
    "logfile: /var/log/nfacctd.log\n"
    "!\n"
    "nfacctd_port: 2100\n"
    "nfacctd_ip: 0.0.0.0\n"
    "nfacctd_time_new: true\n"
    "nfacctd_renormalize: true\n"
    "nfacctd_net: netflow\n"
    "nfacctd_as: netflow\n"
    "!\n"
    "plugins: print[tm], print[forensics], memory[live]\n"
    "!\n"
    "aggregate[tm]: in_iface, peer_src_ip, peer_dst_ip, peer_dst_as\n"
    "print_refresh_time[tm]: 300\n"
    "print_history[tm]: 5m\n"
    "print_history_roundoff[tm]: m\n"
    "print_output[tm]: csv\n"
    "print_output_file[tm]: /var/lib/pmacct/tm-%Y%m%d_%H%M.csv\n"
    "print_output_file_append[tm]: true\n"
    "print_cache_entries[tm]: 259991\n"
    "!\n"
    "aggregate[forensics]: src_host, dst_host, src_port, dst_port, \\\n"
    "                      proto, tos, tcpflags\n"
    "print_refresh_time[forensics]: 60\n"
    "print_history[forensics]: 1m\n"
    "print_output[forensics]: json\n"
    "print_output_file[forensics]: /var/lib/pmacct/f-%Y%m%d_%H%M.json\n"
    "print_latest_file[forensics]: /var/lib/pmacct/f-latest\n"
    "!\n"
    "aggregate[live]: src_as, dst_as\n"
    "imt_path[live]: /tmp/collect.pipe\n"
    "!\n"
    "timestamps_utc: true\n"
    "plugin_pipe_size: 10240000\n"
    "plugin_buffer_size: 10240\n";

TEST_CASE("realistic pmacct traffic-matrix config") {
  std::vector<ConfigWarning> warnings;
  DaemonConfig c = MustParse(kTrafficMatrix, {}, &warnings);
  CHECK(warnings.size() == 2);
  CHECK(c.pidfile == "/var/run/nfacctd.pid");
  CHECK(c.time_new);
  CHECK(c.renormalize);
  CHECK(c.timestamps_utc);
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0].address == "0.0.0.0");
  CHECK(c.listeners[0].port == 2100);
  REQUIRE(c.plugins.size() == 3);
  const PluginConfig& tm = Plugin(c, "tm");
  CHECK(tm.aggregate ==
        Strings{"in_iface", "peer_src_ip", "peer_dst_ip", "peer_dst_as"});
  CHECK(tm.refresh_time == 300);
  CHECK(tm.history.unit == HistorySpec::Unit::kMinute);
  CHECK(tm.history.count == 5);
  CHECK(tm.history_roundoff == "m");
  CHECK(tm.output == "csv");
  CHECK(tm.output_file_append);
  CHECK(tm.cache_entries == 259991);
  const PluginConfig& f = Plugin(c, "forensics");
  CHECK(f.aggregate == Strings{"src_host", "dst_host", "src_port", "dst_port",
                               "proto", "tos", "tcpflags"});
  CHECK(f.output == "json");
  CHECK(f.history.count == 1);
  CHECK(f.latest_file == "/var/lib/pmacct/f-latest");
  CHECK_FALSE(f.output_file_append);
  const PluginConfig& live = Plugin(c, "live");
  CHECK(live.type == "memory");
  CHECK(live.aggregate == Strings{"src_as", "dst_as"});
  CHECK(live.refresh_time == 60);
}

TEST_CASE("LoadDaemonConfig reads a file") {
  const std::string path = "/tmp/flowacct_config_test_" +
                           std::to_string(reinterpret_cast<uintptr_t>(&path)) +
                           ".conf";
  {
    std::ofstream out(path);
    out << kTrafficMatrix;
  }
  std::vector<ConfigWarning> warnings;
  Result<DaemonConfig> c = LoadDaemonConfig(path, {}, &warnings);
  std::remove(path.c_str());
  REQUIRE(c.ok());
  CHECK(c->config_file == path);
  CHECK(c->plugins.size() == 3);
  CHECK(warnings[0].source.file == path);

  Result<DaemonConfig> missing =
      LoadDaemonConfig("/nonexistent/flowacct.conf", {}, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        "cannot open config file /nonexistent/flowacct.conf");
}

TEST_CASE("bgp_daemon and bmp_daemon: defaults") {
  DaemonConfig c = MustParse("");
  CHECK_FALSE(c.bgp.enabled);
  CHECK(c.bgp.ip.empty());
  CHECK(c.bgp.port == 179);
  CHECK(c.bgp.max_peers == 10);
  CHECK(c.bgp.local_as == 0);
  CHECK(c.bgp.router_id == 0x01020304);  // 1.2.3.4
  CHECK_FALSE(c.bgp.add_path_ignore);
  CHECK_FALSE(c.rib_huge_pages);
  CHECK(c.bgp.pipe_size == 0);
  CHECK(c.bgp.table_dump_file.empty());
  CHECK(c.bgp.table_dump_refresh_time == 0);
  CHECK(c.bgp.table_dump_output == "json");
  CHECK(c.bgp.msglog_output == "json");
  CHECK(c.bgp.peer_src_as_type == "netflow");
  CHECK(c.bgp.src_as_path_type.empty());
  CHECK(c.bgp.src_med_type.empty());
  CHECK(c.bgp.follow_default == 0);
  CHECK(c.bgp.aspath_radius == 0);
  CHECK_FALSE(c.bmp.enabled);
  CHECK(c.bmp.port == 1790);
  CHECK(c.bmp.max_peers == 10);
  CHECK(c.bmp.dump_refresh_time == 0);
  CHECK(c.bmp.dump_output == "json");
  CHECK(c.bmp.msglog_output == "json");
}

TEST_CASE("bgp_daemon keys") {
  DaemonConfig c = MustParse(
      "bgp_daemon: true\n"
      "bgp_daemon_ip: 192.0.2.10\n"
      "bgp_daemon_port: 1179\n"
      "bgp_daemon_max_peers: 100\n"
      "bgp_daemon_allow_file: /etc/pmacct/bgp.allow\n"
      "bgp_daemon_md5_file: /etc/pmacct/bgp.md5\n"
      "bgp_daemon_as: 4200000000\n"
      "bgp_daemon_add_path_ignore: true\n"
      "bgp_daemon_pipe_size: 8388608\n"
      "bgp_agent_map: /etc/pmacct/bgp_agent.map\n"
      "bgp_table_dump_file: /var/lib/bgp-$peer_src_ip-%H%M.txt\n"
      "bgp_table_dump_refresh_time: 300\n"
      "bgp_table_dump_output: JSON\n"
      "bgp_table_dump_latest_file: /var/lib/bgp-$peer_src_ip.latest\n"
      "bgp_daemon_msglog_file: /var/log/bgp-$peer_src_ip.log\n"
      "bgp_daemon_msglog_output: json\n"
      "bgp_peer_src_as_type: bgp\n"
      "bgp_src_as_path_type: bgp\n"
      "bgp_src_std_comm_type: bgp\n"
      "bgp_src_ext_comm_type: bgp\n"
      "bgp_src_lrg_comm_type: bgp\n"
      "bgp_src_local_pref_type: bgp\n"
      "bgp_src_med_type: BGP\n"
      "bgp_follow_default: 1\n"
      "bgp_aspath_radius: 3\n"
      "bgp_stdcomm_pattern: 65000:.\n"
      "bgp_extcomm_pattern: RT:65000\n"
      "bgp_lrgcomm_pattern: 65000:1:\n"
      "nfacctd_as: bgp\n"
      "nfacctd_net: bgp\n");
  CHECK(c.bgp.enabled);
  CHECK(c.bgp.ip == "192.0.2.10");
  CHECK(c.bgp.port == 1179);
  CHECK(c.bgp.max_peers == 100);
  CHECK(c.bgp.allow_file == "/etc/pmacct/bgp.allow");
  CHECK(c.bgp.md5_file == "/etc/pmacct/bgp.md5");
  CHECK(c.bgp.local_as == 4200000000u);
  // No bgp_daemon_id: bgp_daemon_ip (IPv4) is the identifier.
  CHECK(c.bgp.router_id == 0xC000020A);
  CHECK(c.bgp.add_path_ignore);
  CHECK(c.bgp.pipe_size == 8388608);
  CHECK(c.bgp.agent_map == "/etc/pmacct/bgp_agent.map");
  CHECK(c.bgp.table_dump_file == "/var/lib/bgp-$peer_src_ip-%H%M.txt");
  CHECK(c.bgp.table_dump_refresh_time == 300);
  CHECK(c.bgp.table_dump_output == "json");
  CHECK(c.bgp.table_dump_latest_file == "/var/lib/bgp-$peer_src_ip.latest");
  CHECK(c.bgp.msglog_file == "/var/log/bgp-$peer_src_ip.log");
  CHECK(c.bgp.msglog_output == "json");
  CHECK(c.bgp.peer_src_as_type == "bgp");
  CHECK(c.bgp.src_as_path_type == "bgp");
  CHECK(c.bgp.src_std_comm_type == "bgp");
  CHECK(c.bgp.src_ext_comm_type == "bgp");
  CHECK(c.bgp.src_lrg_comm_type == "bgp");
  CHECK(c.bgp.src_local_pref_type == "bgp");
  CHECK(c.bgp.src_med_type == "bgp");
  CHECK(c.bgp.follow_default == 1);
  CHECK(c.bgp.aspath_radius == 3);
  CHECK(c.bgp.stdcomm_pattern == "65000:.");
  CHECK(c.bgp.extcomm_pattern == "RT:65000");
  CHECK(c.bgp.lrgcomm_pattern == "65000:1:");
  CHECK(c.as_source == "bgp");
  CHECK(c.net_source == "bgp");

  // bgp_daemon_id beats bgp_daemon_ip; an IPv6 bgp_daemon_ip keeps 1.2.3.4.
  CHECK(MustParse("bgp_daemon_ip: 192.0.2.10\nbgp_daemon_id: 10.0.0.1\n")
            .bgp.router_id == 0x0A000001);
  CHECK(MustParse("bgp_daemon_ip: ::1\n").bgp.router_id == 0x01020304);
  CHECK(MustParse("bgp_daemon_ip: 0.0.0.0\n").bgp.router_id == 0x01020304);
  // A dump file without a refresh time dumps every 60 s.
  CHECK(MustParse("bgp_table_dump_file: /x\n").bgp.table_dump_refresh_time ==
        60);
  CHECK(MustParse("bgp_peer_src_as_type: sflow\n").bgp.peer_src_as_type ==
        "netflow");
}

TEST_CASE("bgp_*_type: map with bgp_peer_src_as_map, bgp_src_*_map") {
  std::vector<ConfigWarning> warnings;
  DaemonConfig c = MustParse(
      "bgp_daemon: true\n"
      "bgp_src_med_map: /etc/pmacct/med.map\n"
      "bgp_peer_src_as_type: map\n"
      "bgp_peer_src_as_map: /etc/pmacct/peers.map\n"
      "bgp_src_local_pref_type: map\n"
      "bgp_src_local_pref_map: /etc/pmacct/lpref.map\n"
      "bgp_src_med_type: Map\n",
      {}, &warnings);
  CHECK(warnings.empty());
  CHECK(c.bgp.peer_src_as_type == "map");
  CHECK(c.bgp.src_local_pref_type == "map");
  CHECK(c.bgp.src_med_type == "map");
  CHECK(c.bgp.peer_src_as_map == "/etc/pmacct/peers.map");
  CHECK(c.bgp.src_local_pref_map == "/etc/pmacct/lpref.map");
  CHECK(c.bgp.src_med_map == "/etc/pmacct/med.map");

  // A map without its *_type: map is unused (nfacctd ignores it too); so
  // is one without a BGP or BMP daemon.
  warnings.clear();
  MustParse(
      "bgp_daemon: true\n"
      "bgp_peer_src_as_type: bgp\n"
      "bgp_peer_src_as_map: /p\n",
      {}, &warnings);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].source.ToString() == "t.conf:3");
  CHECK(warnings[0].message ==
        "key 'bgp_peer_src_as_map' is unused: bgp_peer_src_as_type is not "
        "'map'");
  warnings.clear();
  MustParse("bgp_src_med_type: map\nbgp_src_med_map: /m\n", {}, &warnings);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].source.ToString() == "t.conf:2");
  CHECK(warnings[0].message ==
        "key 'bgp_src_med_map' is unused without bgp_daemon or bmp_daemon");
  warnings.clear();
  MustParse("bmp_daemon: true\nbgp_src_med_type: map\nbgp_src_med_map: /m\n",
            {}, &warnings);
  CHECK(warnings.empty());
}

TEST_CASE("bmp_daemon keys") {
  DaemonConfig c = MustParse(
      "bmp_daemon: true\n"
      "bmp_daemon_ip: ::\n"
      "bmp_daemon_port: 11019\n"
      "bmp_daemon_max_peers: 3\n"
      "bmp_daemon_allow_file: /etc/pmacct/bmp.allow\n"
      "bmp_daemon_pipe_size: 1048576\n"
      "bmp_agent_map: /etc/pmacct/bmp_agent.map\n"
      "bmp_daemon_msglog_file: /var/log/bmp.log\n"
      "bmp_daemon_msglog_output: json\n"
      "bmp_dump_file: /var/lib/bmp-%H%M.txt\n"
      "bmp_dump_refresh_time: 86400\n"
      "bmp_dump_output: json\n"
      "bmp_dump_latest_file: /var/lib/bmp.latest\n"
      "sfacctd_as: bmp\n"
      "sfacctd_net: bmp\n");
  CHECK(c.bmp.enabled);
  CHECK(c.bmp.ip == "::");
  CHECK(c.bmp.port == 11019);
  CHECK(c.bmp.max_peers == 3);
  CHECK(c.bmp.allow_file == "/etc/pmacct/bmp.allow");
  CHECK(c.bmp.pipe_size == 1048576);
  CHECK(c.bmp.agent_map == "/etc/pmacct/bmp_agent.map");
  CHECK(c.bmp.msglog_file == "/var/log/bmp.log");
  CHECK(c.bmp.dump_file == "/var/lib/bmp-%H%M.txt");
  CHECK(c.bmp.dump_refresh_time == 86400);
  CHECK(c.bmp.dump_latest_file == "/var/lib/bmp.latest");
  CHECK(c.as_source == "bmp");
  CHECK(c.net_source == "bmp");
  CHECK(MustParse("bmp_dump_file: /x\n").bmp.dump_refresh_time == 60);
}

TEST_CASE("bgp and bmp key errors name file:line") {
  CHECK(ErrorOf("bgp_daemon: maybe\n") ==
        "t.conf:1: bgp_daemon: expected true or false, got 'maybe'");
  CHECK(ErrorOf("\nbgp_daemon_ip: bgp.example\n") ==
        "t.conf:2: bgp_daemon_ip: expected an IPv4 or IPv6 address, got "
        "'bgp.example'");
  CHECK(ErrorOf("bgp_daemon_port: 0\n") ==
        "t.conf:1: bgp_daemon_port: expected an integer from 1 to 65535, got "
        "'0'");
  CHECK(ErrorOf("bgp_daemon_max_peers: 0\n") ==
        "t.conf:1: bgp_daemon_max_peers: expected an integer from 1 to 65535, "
        "got '0'");
  CHECK(ErrorOf("bgp_daemon_id: 2001:db8::1\n") ==
        "t.conf:1: bgp_daemon_id: expected an IPv4 address, got "
        "'2001:db8::1'");
  CHECK(ErrorOf("bgp_daemon_id: 0.0.0.0\n") ==
        "t.conf:1: bgp_daemon_id: the BGP identifier cannot be 0.0.0.0");
  CHECK(ErrorOf("bgp_daemon_as: -1\n") ==
        "t.conf:1: bgp_daemon_as: expected a non-negative integer, got '-1'");
  CHECK(ErrorOf("bgp_table_dump_refresh_time: 59\n") ==
        "t.conf:1: bgp_table_dump_refresh_time: expected an integer from 60 "
        "to 86400, got '59'");
  CHECK(ErrorOf("bmp_dump_refresh_time: 86401\n") ==
        "t.conf:1: bmp_dump_refresh_time: expected an integer from 60 to "
        "86400, got '86401'");
  CHECK(ErrorOf("bgp_table_dump_output: avro\n") ==
        "t.conf:1: bgp_table_dump_output: 'avro' is not supported by "
        "flowacctd (json only)");
  CHECK(ErrorOf("bgp_daemon_msglog_output: avro_json\n") ==
        "t.conf:1: bgp_daemon_msglog_output: 'avro_json' is not supported by "
        "flowacctd (json only)");
  CHECK(ErrorOf("bmp_dump_output: csv\n") ==
        "t.conf:1: bmp_dump_output: expected one of json, got 'csv'");
  CHECK(ErrorOf("\n\nbgp_peer_src_as_type: map\n") ==
        "t.conf:3: bgp_peer_src_as_type: 'map' needs bgp_peer_src_as_map");
  CHECK(ErrorOf("bgp_src_med_type: map\nbgp_src_local_pref_map: /x\n") ==
        "t.conf:1: bgp_src_med_type: 'map' needs bgp_src_med_map");
  CHECK(ErrorOf("bgp_src_med_map: /m\nbgp_src_local_pref_type: MAP\n") ==
        "t.conf:2: bgp_src_local_pref_type: 'map' needs "
        "bgp_src_local_pref_map");
  CHECK(ErrorOf("bgp_src_as_path_type: map\n") ==
        "t.conf:1: bgp_src_as_path_type: expected one of bgp, got 'map'");
  CHECK(ErrorOf("bgp_src_std_comm_type: netflow\n") ==
        "t.conf:1: bgp_src_std_comm_type: expected one of bgp, got "
        "'netflow'");
  CHECK(ErrorOf("bgp_peer_src_as_type: file\n") ==
        "t.conf:1: bgp_peer_src_as_type: expected one of netflow, sflow, map, "
        "bgp, got 'file'");
  CHECK(ErrorOf("bgp_daemon[p]: true\nplugins: print[p]\n") ==
        "t.conf:1: key 'bgp_daemon' is global in flowacctd and cannot be "
        "bound to plugin 'p'");
  // Keys of the families flowacctd does not implement stay errors.
  for (const char* key :
       {"bgp_daemon_lg", "bgp_daemon_interface", "bgp_neighbors_file",
        "bgp_table_dump_kafka_topic", "bgp_daemon_msglog_kafka_topic",
        "bgp_daemon_tag_map", "bgp_follow_nexthop", "bmp_daemon_ha",
        "bmp_dump_kafka_topic", "bmp_daemon_parse_proxy_header"}) {
    CHECK(ErrorOf(std::string("\n") + key + ": 1\n") ==
          std::string("t.conf:2: key '") + key +
              "' is not supported by flowacctd");
  }
}

TEST_CASE("*_as and *_net bgp/bmp need their daemon, whatever the order") {
  CHECK(ErrorOf("plugins: print\nnfacctd_as: bgp\n") ==
        "t.conf:2: nfacctd_as: 'bgp' needs bgp_daemon: true");
  CHECK(ErrorOf("sfacctd_net: bmp\nbgp_daemon: true\n") ==
        "t.conf:1: sfacctd_net: 'bmp' needs bmp_daemon: true");
  CHECK(ErrorOf("nfacctd_net: bgp\nbgp_daemon: false\n") ==
        "t.conf:1: nfacctd_net: 'bgp' needs bgp_daemon: true");
  CHECK(ErrorOf("bmp_daemon: true\n\n\nnfacctd_as_new: bgp\n") ==
        "t.conf:4: nfacctd_as_new: 'bgp' needs bgp_daemon: true");
  CHECK(ErrorOf("bgp_daemon: true\n", {{"nfacctd_net", "bmp"}}) ==
        "command line: nfacctd_net: 'bmp' needs bmp_daemon: true");
  // The daemon line may come after the source line.
  DaemonConfig c = MustParse("nfacctd_as: bmp\nbmp_daemon: true\n");
  CHECK(c.as_source == "bmp");
  // A later line that does not use bgp clears the requirement.
  CHECK(MustParse("nfacctd_as: bgp\nnfacctd_as: netflow\n").as_source ==
        "netflow");
}

TEST_CASE("aggregate: a sum_* primitive must be alone") {
  DaemonConfig ok = MustParse(
      "plugins: print[a], print[b]\n"
      "aggregate[a]: sum_host\n"
      "aggregate[b]: SUM_PORT, flows\n");
  CHECK(Plugin(ok, "a").aggregate == Strings{"sum_host"});
  CHECK(Plugin(ok, "b").aggregate == Strings{"SUM_PORT", "flows"});
  // pmacct 1.7.7 warns ("SUM aggregation is to be used alone. Resetting
  // other aggregation methods.") and drops most of the others; flowacctd
  // refuses the line.
  CHECK(ErrorOf("plugins: print[a]\n"
                "\n"
                "aggregate[a]: sum_host, src_port\n") ==
        "t.conf:3: aggregate: 'sum_host' cannot be combined with 'src_port': "
        "a sum_* primitive must be used alone (only flows may come along)");
  CHECK(ErrorOf("aggregate: src_as, sum_as\n") ==
        "t.conf:1: aggregate: 'sum_as' cannot be combined with 'src_as': a "
        "sum_* primitive must be used alone (only flows may come along)");
  CHECK(ErrorOf("aggregate: sum_net, sum_mac\n") ==
        "t.conf:1: aggregate: 'sum_net' cannot be combined with 'sum_mac': a "
        "sum_* primitive must be used alone (only flows may come along)");
  CHECK(ErrorOf("aggregate: sum_host, tcpflags\n").find("tcpflags") !=
        std::string::npos);
}

}  // namespace
}  // namespace flowacct
