#include "libflowacct/config/config_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>

namespace flowacct::internal {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Every pmacct key outside the families covered by kUnsupportedFamilies, as
// listed in pmacct's CONFIG-KEYS (1.7.7) and the 1.8 additions in
// reference/pmacct.md. Sorted (binary search). Includes keys flowacct
// implements: callers ask about those first.
constexpr std::string_view kPmacctKeys[] = {
    "aggregate",
    "aggregate_filter",
    "aggregate_primitives",
    "aggregate_unknown_etype",
    "amqp_avro_schema_refresh_time",
    "amqp_avro_schema_routing_key",
    "amqp_cache_entries",
    "amqp_exchange",
    "amqp_exchange_type",
    "amqp_frame_max",
    "amqp_heartbeat_interval",
    "amqp_history",
    "amqp_history_offset",
    "amqp_history_roundoff",
    "amqp_host",
    "amqp_markers",
    "amqp_max_writers",
    "amqp_multi_values",
    "amqp_num_protos",
    "amqp_output",
    "amqp_passwd",
    "amqp_persistent_msg",
    "amqp_preprocess",
    "amqp_preprocess_type",
    "amqp_refresh_time",
    "amqp_routing_key",
    "amqp_routing_key_rr",
    "amqp_startup_delay",
    "amqp_trigger_exec",
    "amqp_user",
    "amqp_vhost",
    "as_path_encode_as_array",
    "avro_buffer_size",
    "avro_schema_file",
    "avro_schema_output_file",
    "cluster_id",
    "cluster_name",
    "core_proc_name",
    "daemonize",
    "debug",
    "debug_internal_msg",
    "dry_run",
    "dtls_path",
    "files_gid",
    "files_uid",
    "files_umask",
    "flow_to_rd_map",
    "imt_buckets",
    "imt_mem_pools_number",
    "imt_mem_pools_size",
    "imt_passwd",
    "imt_path",
    "kafka_avro_schema_refresh_time",
    "kafka_avro_schema_registry",
    "kafka_avro_schema_topic",
    "kafka_broker_host",
    "kafka_broker_port",
    "kafka_cache_entries",
    "kafka_config_file",
    "kafka_history",
    "kafka_history_offset",
    "kafka_history_roundoff",
    "kafka_markers",
    "kafka_max_writers",
    "kafka_multi_values",
    "kafka_num_protos",
    "kafka_output",
    "kafka_partition",
    "kafka_partition_dynamic",
    "kafka_partition_key",
    "kafka_preprocess",
    "kafka_preprocess_type",
    "kafka_refresh_time",
    "kafka_startup_delay",
    "kafka_topic",
    "kafka_topic_rr",
    "kafka_trigger_exec",
    "log_stderr_tstamp",
    "logfile",
    "maps_entries",
    "maps_index",
    "maps_refresh",
    "maps_row_len",
    "networks_cache_entries",
    "networks_file",
    "networks_file_filter",
    "networks_file_no_lpm",
    "networks_mask",
    "networks_no_mask_if_zero",
    "nfacctd_account_options",
    "nfacctd_allow_file",
    "nfacctd_as",
    "nfacctd_as_new",
    "nfacctd_disable_checks",
    "nfacctd_disable_opt_scope_check",
    "nfacctd_dtls_port",
    "nfacctd_ext_sampling_rate",
    "nfacctd_ignore_exporter_address",
    "nfacctd_interface",
    "nfacctd_ip",
    "nfacctd_ipv6_only",
    "nfacctd_kafka_broker_host",
    "nfacctd_kafka_broker_port",
    "nfacctd_kafka_config_file",
    "nfacctd_kafka_topic",
    "nfacctd_mcast_groups",
    "nfacctd_net",
    "nfacctd_peer_as",
    "nfacctd_pipe_size",
    "nfacctd_port",
    "nfacctd_pre_processing_checks",
    "nfacctd_pro_rating",
    "nfacctd_renormalize",
    "nfacctd_rp_ebpf_prog",
    "nfacctd_stitching",
    "nfacctd_templates_file",
    "nfacctd_templates_port",
    "nfacctd_templates_receiver",
    "nfacctd_time_new",
    "nfacctd_time_secs",
    "nfacctd_zmq_address",
    "pcap_arista_trailer_flag_value",
    "pcap_arista_trailer_offset",
    "pcap_direction",
    "pcap_filter",
    "pcap_ifindex",
    "pcap_interface",
    "pcap_interface_wait",
    "pcap_interfaces_map",
    "pcap_protocol",
    "pcap_savefile",
    "pcap_savefile_delay",
    "pcap_savefile_replay",
    "pcap_savefile_wait",
    "pidfile",
    "plugin_buffer_size",
    "plugin_exit_any",
    "plugin_pipe_size",
    "plugin_pipe_zmq",
    "plugin_pipe_zmq_hwm",
    "plugin_pipe_zmq_profile",
    "plugin_pipe_zmq_retry",
    "plugins",
    "ports_file",
    "post_tag",
    "post_tag2",
    "pre_tag_filter",
    "pre_tag_label_encode_as_map",
    "pre_tag_label_filter",
    "pre_tag_map",
    "pre_tag_map_dont_recirculate",
    "print_cache_entries",
    "print_history",
    "print_history_offset",
    "print_history_roundoff",
    "print_latest_file",
    "print_markers",
    "print_max_writers",
    "print_num_protos",
    "print_output",
    "print_output_custom_cfg_file",
    "print_output_custom_lib",
    "print_output_file",
    "print_output_file_append",
    "print_output_lock_file",
    "print_output_separator",
    "print_preprocess",
    "print_preprocess_type",
    "print_refresh_time",
    "print_startup_delay",
    "print_trigger_exec",
    "print_trigger_exec_async",
    "print_write_empty_file",
    "proc_priority",
    "promisc",
    "propagate_signals",
    "sampling_map",
    "sampling_rate",
    "sfacctd_allow_file",
    "sfacctd_as",
    "sfacctd_as_new",
    "sfacctd_counter_amqp_exchange",
    "sfacctd_counter_amqp_exchange_type",
    "sfacctd_counter_amqp_frame_max",
    "sfacctd_counter_amqp_heartbeat_interval",
    "sfacctd_counter_amqp_host",
    "sfacctd_counter_amqp_passwd",
    "sfacctd_counter_amqp_persistent_msg",
    "sfacctd_counter_amqp_retry",
    "sfacctd_counter_amqp_routing_key",
    "sfacctd_counter_amqp_user",
    "sfacctd_counter_amqp_vhost",
    "sfacctd_counter_file",
    "sfacctd_counter_kafka_broker_host",
    "sfacctd_counter_kafka_broker_port",
    "sfacctd_counter_kafka_config_file",
    "sfacctd_counter_kafka_partition",
    "sfacctd_counter_kafka_partition_key",
    "sfacctd_counter_kafka_retry",
    "sfacctd_counter_kafka_topic",
    "sfacctd_counter_output",
    "sfacctd_counter_persistent_msg",
    "sfacctd_disable_checks",
    "sfacctd_ext_sampling_rate",
    "sfacctd_ignore_exporter_address",
    "sfacctd_interface",
    "sfacctd_ip",
    "sfacctd_ipv6_only",
    "sfacctd_kafka_broker_host",
    "sfacctd_kafka_broker_port",
    "sfacctd_kafka_config_file",
    "sfacctd_kafka_topic",
    "sfacctd_mcast_groups",
    "sfacctd_net",
    "sfacctd_peer_as",
    "sfacctd_pipe_size",
    "sfacctd_port",
    "sfacctd_renormalize",
    "sfacctd_rp_ebpf_prog",
    "sfacctd_stitching",
    "sfacctd_time_new",
    "sfacctd_zmq_address",
    "snaplen",
    "sql_backup_host",
    "sql_cache_entries",
    "sql_conn_ca_file",
    "sql_data",
    "sql_db",
    "sql_delimiter",
    "sql_dont_try_update",
    "sql_history",
    "sql_history_offset",
    "sql_history_roundoff",
    "sql_host",
    "sql_locking_style",
    "sql_max_writers",
    "sql_multi_values",
    "sql_num_hosts",
    "sql_num_protos",
    "sql_optimize_clauses",
    "sql_passwd",
    "sql_port",
    "sql_preprocess",
    "sql_preprocess_type",
    "sql_recovery_backup_host",
    "sql_refresh_time",
    "sql_startup_delay",
    "sql_table",
    "sql_table_schema",
    "sql_table_type",
    "sql_table_version",
    "sql_trigger_exec",
    "sql_trigger_time",
    "sql_use_copy",
    "sql_user",
    "syslog",
    "syslog_ident",
    "thread_stack",
    "timestamps_rfc3339",
    "timestamps_rfc9557",
    "timestamps_secs",
    "timestamps_since_epoch",
    "timestamps_utc",
    "tmp_asa_bi_flow",
    "tmp_bgp_daemon_origin_type_int",
    "tmp_bgp_daemon_route_refresh",
    "tmp_bgp_lookup_compare_ports",
    "tos_encode_as_dscp",
    "tunnel_0",
    "use_ip_next_hop"};

static_assert(std::is_sorted(std::begin(kPmacctKeys), std::end(kPmacctKeys)));

constexpr std::array<std::string_view, 13> kUnsupportedFamilies = {
    "bgp_",     "bmp_",     "telemetry_", "isis_",       "rpki_",
    "nfprobe_", "sfprobe_", "tee_",       "classifier_", "pmacctd_",
    "uacctd_",  "redis_",   "geoip"};

struct IgnoredKey {
  std::string_view key;
  const char* reason;
};

constexpr const char kQueueReason[] =
    "flowacctd has no core-to-plugin pipe (workers hand batches over "
    "in-process queues)";
constexpr const char kWritersReason[] =
    "flowacctd writes from one sink thread per plugin, no writer processes";

constexpr IgnoredKey kIgnoredKeys[] = {
    {"amqp_max_writers", kWritersReason},
    {"core_proc_name", "flowacctd sets no process titles"},
    {"debug_internal_msg", "there is no core-to-plugin messaging to debug"},
    {"files_gid", "output files are created with the daemon's group"},
    {"files_uid", "output files are created with the daemon's user"},
    {"files_umask", "output files follow the process umask"},
    {"kafka_max_writers", kWritersReason},
    {"log_stderr_tstamp", "log lines always carry a timestamp"},
    {"maps_index", "maps are always indexed"},
    {"maps_row_len", "map rows have no length limit"},
    {"nfacctd_disable_checks",
     "sequence checks only count (flowacctd never logs per datagram)"},
    {"pcap_savefile_wait",
     "flowacctd exits after replaying a pcap_savefile and flushing"},
    {"plugin_buffer_size", kQueueReason},
    {"plugin_exit_any", "plugins are threads of one process"},
    {"plugin_pipe_size", kQueueReason},
    {"plugin_pipe_zmq", kQueueReason},
    {"plugin_pipe_zmq_hwm", kQueueReason},
    {"plugin_pipe_zmq_profile", kQueueReason},
    {"plugin_pipe_zmq_retry", kQueueReason},
    {"print_max_writers", kWritersReason},
    {"proc_priority", "use nice(1) or the service manager"},
    {"promisc", "pmacctd only (no packet capture in flowacctd)"},
    {"propagate_signals", "plugins are threads of one process"},
    {"sfacctd_disable_checks",
     "sequence checks only count (flowacctd never logs per datagram)"},
    {"snaplen", "pmacctd only (no packet capture in flowacctd)"},
    {"sql_max_writers", kWritersReason},
    {"syslog",
     "flowacctd logs to logfile or stderr (use the service manager's "
     "journal)"},
    {"syslog_ident", "flowacctd logs to logfile or stderr"},
    {"thread_stack", "flowacctd sizes its own thread stacks"},
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status SplitKey(std::string_view text, ConfigLine* line) {
  text = Trim(text);
  std::string_view key = text;
  line->bound = false;
  line->name.clear();
  const size_t open = text.find('[');
  if (open != std::string_view::npos) {
    const size_t close = text.find(']', open);
    if (close == std::string_view::npos ||
        !Trim(text.substr(close + 1)).empty()) {
      return InvalidArgumentError("bad key " + Quote(text) +
                                  " (expected key or key[name])");
    }
    const std::string_view name = Trim(text.substr(open + 1, close - open - 1));
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return InvalidArgumentError("bad plugin name " + Quote(name) +
                                  " in key " + Quote(text));
    }
    line->name = std::string(name);
    line->bound = true;
    key = Trim(text.substr(0, open));
  }
  line->key = ToLower(key);
  if (line->key.empty() ||
      !std::all_of(line->key.begin(), line->key.end(), IsKeyChar)) {
    return InvalidArgumentError("bad key " + Quote(text));
  }
  return Status::Ok();
}

Result<std::vector<ConfigLine>> SplitConfigText(std::string_view text,
                                                std::string_view filename) {
  std::vector<ConfigLine> lines;
  std::string logical;
  int logical_start = 0;
  bool continuing = false;
  int line_number = 0;
  auto where = [&](int n) {
    return std::string(filename) + ":" + std::to_string(n) + ": ";
  };
  auto finish = [&]() -> Status {
    const std::string_view body = Trim(logical);
    const size_t colon = body.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError(where(logical_start) +
                                  "expected 'key: value', got " + Quote(body));
    }
    ConfigLine line;
    if (Status s = SplitKey(body.substr(0, colon), &line); !s.ok()) {
      return InvalidArgumentError(where(logical_start) + s.message());
    }
    line.value = std::string(Trim(body.substr(colon + 1)));
    if (line.value.empty()) {
      return InvalidArgumentError(where(logical_start) + "key " +
                                  Quote(line.key) + " has no value");
    }
    line.source.file = std::string(filename);
    line.source.line = logical_start;
    lines.push_back(std::move(line));
    return Status::Ok();
  };
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view physical = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view()
                                         : text.substr(eol + 1);
    ++line_number;
    std::string_view content = Trim(physical);
    if (!continuing) {
      if (content.empty() || content.front() == '!' || content.front() == '#') {
        continue;
      }
      logical.clear();
      logical_start = line_number;
    }
    const bool more = !content.empty() && content.back() == '\\';
    if (more) content.remove_suffix(1);
    logical.append(content);
    continuing = more;
    if (!continuing) {
      if (Status s = finish(); !s.ok()) return s;
    }
  }
  if (continuing) {
    // A trailing backslash on the last line: end the logical line there.
    if (Status s = finish(); !s.ok()) return s;
  }
  return lines;
}

Result<bool> ParseBool(std::string_view value) {
  const std::string v = ToLower(Trim(value));
  if (v == "true" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "no" || v == "0") return false;
  return InvalidArgumentError("expected true or false, got " + Quote(value));
}

Result<uint32_t> ParseUint32(std::string_view value, uint32_t min,
                             uint32_t max) {
  const std::string_view v = Trim(value);
  uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n < min ||
      n > max) {
    std::string expected;
    if (min == 1 && max == UINT32_MAX) {
      expected = "a positive integer";
    } else if (min == 0 && max == UINT32_MAX) {
      expected = "a non-negative integer";
    } else {
      expected = "an integer from " + std::to_string(min) + " to " +
                 std::to_string(max);
    }
    return InvalidArgumentError("expected " + expected + ", got " +
                                Quote(value));
  }
  return static_cast<uint32_t>(n);
}

Result<HistorySpec> ParseHistoryText(std::string_view value) {
  // One rule for what a bin length is: the aggregator's.
  Result<HistorySpec> spec = HistorySpec::Parse(Trim(value));
  if (!spec.ok()) {
    return InvalidArgumentError(
        "expected a time-bin length like 5m, 300s, 1h, 1d, 1w or 1M, got " +
        Quote(value));
  }
  return spec;
}

const char* IgnoredKeyReason(std::string_view key) {
  for (const IgnoredKey& k : kIgnoredKeys) {
    if (k.key == key) return k.reason;
  }
  return nullptr;
}

bool IsUnsupportedPmacctKey(std::string_view key) {
  for (std::string_view family : kUnsupportedFamilies) {
    if (StartsWith(key, family)) return true;
  }
  return std::binary_search(std::begin(kPmacctKeys), std::end(kPmacctKeys),
                            key);
}

// flowacct's own per-plugin keys that sinks read from PluginConfig::raw
// (flowacct/sink/delivery.h, sql_sink.h).
constexpr std::string_view kFlowacctPluginKeys[] = {
    "amqp_port",  // flowacct's; pmacct's amqp plugin always uses 5672
    "flowacct_close_timeout",      "flowacct_queue_entries",
    "flowacct_spool_dir",          "flowacct_spool_max_mb",
    "flowacct_sql_create_tables",  "flowacct_sql_delivery_table",
};

bool IsRawOnlyPluginKey(std::string_view key) {
  for (std::string_view k : kFlowacctPluginKeys) {
    if (k == key) return true;
  }
  if (!(StartsWith(key, "sql_") || StartsWith(key, "amqp_") ||
        StartsWith(key, "kafka_") || StartsWith(key, "avro_"))) {
    return false;
  }
  return std::binary_search(std::begin(kPmacctKeys), std::end(kPmacctKeys),
                            key);
}

}  // namespace flowacct::internal
