#!/usr/bin/env bash
# Quick start: installs dependencies, builds flowacct and runs the main job:
# flowacctd on a bundled capture with examples/flowacctd/quickstart.conf,
# which writes an internal traffic matrix (in_iface, peer_src_ip,
# peer_dst_ip, peer_dst_as; 5-minute bins) into SQLite, one table per bin
# (tm-%Y%m%d_%H%M, as pmacct users name them), the same matrix as one CSV
# file per bin, and a micro-flow log (JSON lines), all under quickstart-out/,
# then shows them and runs a top-N query over the SQLite tables.
#
#   scripts/quickstart.sh [CAPTURE]
#
# Idempotent: rerunning reuses the installed packages and the build in
# build-release/ (shared with scripts/test.sh). CAPTURE defaults to
# examples/captures/graylog-nf9-nprobe-3.pcap (NetFlow v9, 898 flows over
# 17 minutes).
set -euo pipefail

cd "$(dirname "$0")/.."
CAPTURE=${1:-examples/captures/graylog-nf9-nprobe-3.pcap}
BUILD=${FLOWACCT_BUILD_PREFIX:-build-}release
JOBS=${JOBS:-$(nproc)}

bash scripts/install_deps.sh

LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "${LAUNCHER[@]}" > /dev/null

ninja -C "$BUILD" -j "$JOBS" flowacctd flowacct_cli

OUT=quickstart-out
rm -rf "$OUT"
echo "==== flowacctd -f examples/flowacctd/quickstart.conf -I $CAPTURE"
"$BUILD/daemon/flowacctd" -f examples/flowacctd/quickstart.conf -I "$CAPTURE"

DB="$OUT/flowacct.db"
echo
echo "==== SQLite ($DB): one table per 5-minute bin"
tables=$(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type = 'table'
                        AND name LIKE 'tm-%' ORDER BY name")
for t in $tables; do
  echo "---- $t"
  sqlite3 -header -column "$DB" "SELECT * FROM \"$t\""
done
# Top-N over every bin: the busiest (router, interface, next hop, AS)
# entries of the whole capture.
union=""
for t in $tables; do
  union+="${union:+ UNION ALL }SELECT * FROM \"$t\""
done
echo
echo "==== top 5 by bytes over all bins (SQL: SUM(bytes) ... GROUP BY ... ORDER BY ... LIMIT 5)"
sqlite3 -header -column "$DB" "
  SELECT peer_ip_src AS router, iface_in, peer_ip_dst AS next_hop,
         peer_as_dst, SUM(packets) AS packets, SUM(bytes) AS bytes,
         COUNT(*) AS bins
  FROM ($union)
  GROUP BY peer_ip_src, iface_in, peer_ip_dst, peer_as_dst
  ORDER BY bytes DESC LIMIT 5"

echo
echo "==== the same matrix as files, one CSV per bin ($OUT/tm-*.csv)"
for f in "$OUT"/tm-2*.csv; do
  echo "---- $f"
  column -s, -t < "$f" 2>/dev/null || cat "$f"
done
echo
flows=$(cat "$OUT"/flows-*.json | wc -l)
echo "==== micro-flow log: $flows flows in $OUT/flows-*.json; the first 3:"
head -n 3 "$OUT"/flows-*.json
