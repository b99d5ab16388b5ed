#!/bin/bash
# Runs tests/bench/sink_bench (docs/performance.md, "Sinks") against real
# PostgreSQL, MariaDB and RabbitMQ servers started on 127.0.0.1 in a
# temporary directory by tests/support/sql_servers.py and
# tests/support/rabbitmq_server.py, and stops them afterwards (also on
# error or Ctrl-C). Kafka runs against librdkafka's mock cluster and SQLite
# against a temporary file: no server needed.
#
#   tests/bench/run_sink_bench.sh [--bin PATH] [benchmark flags...]
#
# --bin: the sink_bench binary (default build-release/tests/bench/sink_bench).
# Further arguments go to the benchmark (e.g. --benchmark_filter=Pgsql).
# A server that does not start is reported and its benchmarks are skipped.
# Bounded: the benchmark gets at most $SINK_BENCH_TIMEOUT seconds (default
# 1800), each server start or stop at most 180 s.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN="$ROOT/build-release/tests/bench/sink_bench"
if [ "${1:-}" = "--bin" ]; then
  BIN=$2
  shift 2
fi
PY=/usr/bin/python3
SQL="$ROOT/tests/support/sql_servers.py"
MQ="$ROOT/tests/support/rabbitmq_server.py"

if [ ! -x "$BIN" ]; then
  echo "run_sink_bench.sh: $BIN not found; build it: ninja -C <build> sink_bench" >&2
  exit 2
fi

DIR=$(mktemp -d /tmp/flowacct-sink-bench.XXXXXX) || exit 2
STARTED=()

cleanup() {
  for s in "${STARTED[@]}"; do
    case $s in
      pgsql|mysql) timeout 180 "$PY" "$SQL" stop "$s" --dir "$DIR" >/dev/null ;;
      amqp) timeout 180 "$PY" "$MQ" stop --dir "$DIR/rabbitmq" >/dev/null ;;
    esac || echo "run_sink_bench.sh: stopping $s failed (see $DIR)" >&2
  done
  STARTED=()
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "host:port" from a harness's JSON on stdin.
hostport() {
  "$PY" -c 'import json,sys; d=json.load(sys.stdin); print("%s:%d" % (d["host"], d["port"]))'
}

if out=$(timeout 180 "$PY" "$SQL" start pgsql --dir "$DIR"); then
  STARTED+=(pgsql)
  export FLOWACCT_BENCH_PGSQL=$(hostport <<<"$out")
  echo "PostgreSQL on $FLOWACCT_BENCH_PGSQL"
else
  echo "run_sink_bench.sh: PostgreSQL did not start; its benchmarks are skipped" >&2
fi
if out=$(timeout 180 "$PY" "$SQL" start mysql --dir "$DIR"); then
  STARTED+=(mysql)
  export FLOWACCT_BENCH_MYSQL=$(hostport <<<"$out")
  echo "MariaDB on $FLOWACCT_BENCH_MYSQL"
else
  echo "run_sink_bench.sh: MariaDB did not start; its benchmarks are skipped" >&2
fi
if out=$(timeout 180 "$PY" "$MQ" start --dir "$DIR/rabbitmq"); then
  STARTED+=(amqp)
  export FLOWACCT_BENCH_AMQP=$(hostport <<<"$out")
  echo "RabbitMQ on $FLOWACCT_BENCH_AMQP"
else
  echo "run_sink_bench.sh: RabbitMQ did not start; its benchmarks are skipped" >&2
fi

echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
TMPDIR="$DIR" timeout "${SINK_BENCH_TIMEOUT:-1800}" "$BIN" \
  --benchmark_format=console "$@"
rc=$?
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
