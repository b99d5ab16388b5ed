#!/usr/bin/env bash
# Quick start: installs dependencies, builds flowacct and decodes a bundled
# capture, printing every record and a summary.
#
#   scripts/quickstart.sh [CAPTURE]
#
# Idempotent: rerunning reuses the installed packages and the build in
# build-release/ (shared with scripts/test.sh). CAPTURE defaults to
# examples/captures/logstash-ipfix-two-messages.pcap.
set -euo pipefail

cd "$(dirname "$0")/.."
CAPTURE=${1:-examples/captures/logstash-ipfix-two-messages.pcap}
BUILD=${FLOWACCT_BUILD_PREFIX:-build-}release
JOBS=${JOBS:-$(nproc)}

bash scripts/install_deps.sh

LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "${LAUNCHER[@]}" > /dev/null

# The user tool: `flowacct decode FILE` prints each record (pmacct field
# names, one JSON object per line) and a per-exporter summary.
ninja -C "$BUILD" -j "$JOBS" flowacct_cli
echo "==== flowacct decode $CAPTURE"
"$BUILD/daemon/flowacct" decode "$CAPTURE"
