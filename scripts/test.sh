#!/usr/bin/env bash
# The flowacct test suite, as CI runs it (.ci/run calls exactly this).
#
#   scripts/test.sh
#
# 1. installs missing Debian packages (scripts/install_deps.sh),
# 2. RelWithDebInfo build in build-release/ and every CTest test: unit tests,
#    fuzz seed replays, corpus / tshark oracle tests, the install-package test,
# 3. ASan+UBSan build in build-asan/ (-DFLOWACCT_SANITIZE=ON, no benchmarks)
#    and every test again except the install test,
# 4. ThreadSanitizer build in build-tsan/ (-DFLOWACCT_TSAN=ON): the library
#    and the unit tests (the pipeline, delivery queue and sinks are
#    multi-threaded; DESIGN.md §4: TSan clean), except the Kafka tests:
#    librdkafka's mock-cluster threads (C11 thrd_create in an uninstrumented
#    library) crash the TSan runtime,
# 5. clang 14 build in build-clang/ (the issue requires GCC 12 and clang 14):
#    the library, unit tests and fuzz seed replays (no tools, examples,
#    benchmarks; ~3 min cold on 2 cores),
# then prints CTest's summary lines and exits non-zero if anything failed.
#
# Tests that need the shared capture corpus look for ../shared/corpus beside
# the repository and are skipped, with a message, when it is absent.
#
# Environment: JOBS (default: number of CPUs), FLOWACCT_SKIP_ASAN=1 to skip
# step 3, FLOWACCT_SKIP_TSAN=1 to skip step 4, FLOWACCT_SKIP_CLANG=1 to skip
# step 5 (also skipped with a message
# when clang++-14 is not installed), FLOWACCT_BUILD_PREFIX (default: build-)
# for the build directories.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-$(nproc)}
PREFIX=${FLOWACCT_BUILD_PREFIX:-build-}
LOG_DIR="$ROOT/${PREFIX}logs"
START=$(date +%s)
failed=()

step() { printf '\n==== %s (%ss)\n' "$*" "$(($(date +%s) - START))"; }

step "dependencies"
bash scripts/install_deps.sh || { echo "test.sh: dependency install failed"; exit 1; }
mkdir -p "$LOG_DIR"

LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

if [ -d "$ROOT/../shared/corpus" ]; then
  echo "corpus: $(cd "$ROOT/../shared/corpus" && pwd)"
else
  echo "corpus: ../shared/corpus not found; corpus and oracle tests will be skipped"
fi

# build_and_test NAME BUILD_DIR CTEST_ARGS... -- CMAKE_ARGS...
build_and_test() {
  local name=$1 dir=$2
  shift 2
  local ctest_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do ctest_args+=("$1"); shift; done
  shift
  step "$name: configure ($dir)"
  if ! cmake -S . -B "$dir" -G Ninja "${LAUNCHER[@]}" "$@" \
      > "$LOG_DIR/$name-configure.log" 2>&1; then
    tail -40 "$LOG_DIR/$name-configure.log"
    failed+=("$name: configure")
    return
  fi
  step "$name: build"
  # -k 0: build everything that can be built, so one broken target does not
  # hide the results of every other test.
  if ! ninja -C "$dir" -j "$JOBS" -k 0 > "$LOG_DIR/$name-build.log" 2>&1; then
    grep -E "^FAILED|error:|undefined reference" "$LOG_DIR/$name-build.log" |
      head -40
    failed+=("$name: build")
    echo "test.sh: $name build failed (log: $LOG_DIR/$name-build.log);" \
         "running the tests that did build"
  fi
  step "$name: ctest"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" "${ctest_args[@]}") \
    2>&1 | tee "$LOG_DIR/$name-ctest.log"
  if [ "${PIPESTATUS[0]}" -ne 0 ]; then failed+=("$name: tests"); fi
}

build_and_test release "${PREFIX}release" -- \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [ "${FLOWACCT_SKIP_ASAN:-0}" != 1 ]; then
  # ASan+UBSan: unit tests, fuzz replays and corpus tests; the install test
  # is a packaging check, not a memory check, and runs in the release build.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  build_and_test asan "${PREFIX}asan" -LE install -- \
    -DCMAKE_BUILD_TYPE=Debug -DFLOWACCT_SANITIZE=ON \
    -DFLOWACCT_BUILD_BENCHMARKS=OFF -DFLOWACCT_INSTALL=OFF
fi

if [ "${FLOWACCT_SKIP_TSAN:-0}" != 1 ]; then
  unset ASAN_OPTIONS UBSAN_OPTIONS
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
  build_and_test tsan "${PREFIX}tsan" -E kafka -- \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWACCT_TSAN=ON \
    -DFLOWACCT_BUILD_TOOLS=OFF -DFLOWACCT_BUILD_EXAMPLES=OFF \
    -DFLOWACCT_BUILD_BENCHMARKS=OFF -DFLOWACCT_BUILD_FUZZ_REPLAY=OFF \
    -DFLOWACCT_INSTALL=OFF
  unset TSAN_OPTIONS
fi

if [ "${FLOWACCT_SKIP_CLANG:-0}" != 1 ]; then
  if command -v clang++-14 >/dev/null 2>&1; then
    # Sanitizer variables from step 3 must not leak into this build's tests.
    unset ASAN_OPTIONS UBSAN_OPTIONS
    CC=clang-14 CXX=clang++-14 build_and_test clang "${PREFIX}clang" -- \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWACCT_BUILD_TOOLS=OFF \
      -DFLOWACCT_BUILD_EXAMPLES=OFF -DFLOWACCT_BUILD_BENCHMARKS=OFF \
      -DFLOWACCT_INSTALL=OFF
  else
    echo "clang++-14 not found: clang build skipped (apt-get install clang-14)"
  fi
fi

step "summary"
for name in release asan tsan clang; do
  log="$LOG_DIR/$name-ctest.log"
  [ -f "$log" ] || continue
  echo "[$name]"
  grep -E "tests passed|tests failed out of|Total Test time" "$log" || true
  sed -n '/The following tests FAILED/,$p' "$log"
done
echo "wall time: $(($(date +%s) - START))s"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "ALL OK"
