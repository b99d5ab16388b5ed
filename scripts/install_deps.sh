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
  # tests, benchmarks, oracles
  catch2 libbenchmark-dev tshark python3
)

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
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
