#!/usr/bin/env bash
# Installs everything flowacct needs to build, test and fuzz on Debian 12
# (bookworm). Idempotent: when every package is already installed it does not
# touch apt at all. Needs root (or sudo) only when something is missing.
#
#   scripts/install_deps.sh
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  clang-14 libclang-rt-14-dev clang-format clang-tidy
  # library dependencies
  libabsl-dev libprotobuf-dev protobuf-compiler libfmt-dev libpcap-dev
  # sink backends' client libraries (each sink is built only when its
  # library is found)
  libsqlite3-dev libmariadb-dev libpq-dev librabbitmq-dev librdkafka-dev
  # tests, benchmarks, oracles
  catch2 libbenchmark-dev tshark python3
  # pmacct parity suite (tests/parity: nfacctd is the reference) and the live
  # exporter for daemon tests (softflowd); their services are kept stopped
  pmacct softflowd
  # real servers for the sink tests (started on loopback in a temp dir by the
  # tests themselves, kept stopped otherwise) and their command-line clients;
  # python3-protobuf reads the flowacct.v1 protobuf output in tests
  sqlite3 mariadb-server mariadb-client postgresql postgresql-client
  rabbitmq-server python3-protobuf
  # real BGP peers for the BGP speaker tests (tests/support/bgp_peers.py
  # starts them on 127.0.0.N in a temp dir; their services are kept stopped)
  frr bird2 gobgpd exabgp
)

# Services shipped by those packages; never left running or enabled (they
# would take the NetFlow/sFlow ports or BGP's port 179).
SERVICES=(nfacctd pmacctd sfacctd softflowd mariadb postgresql rabbitmq-server
          frr bird gobgpd exabgp)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install_deps: missing ${missing[*]} and not root (no sudo)" >&2
    exit 1
  fi
fi

echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" up front so the
# install never waits for input.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
  "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -q
# Forbid service starts during the install (Debian's policy-rc.d: exit 101 =
# action not allowed) unless the machine already has its own policy.
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
  own_policy=1
  trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
if [ "$own_policy" -eq 1 ]; then
  "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
  trap - EXIT
fi
# With systemd (not in containers): disable and stop the packaged services.
# Without a running systemd, `systemctl disable` still removes the enable
# links offline, so a later boot does not start them either.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for svc in "${SERVICES[@]}"; do
    "${SUDO[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
elif command -v systemctl >/dev/null 2>&1; then
  for svc in "${SERVICES[@]}"; do
    "${SUDO[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
  done
fi
