#!/usr/bin/env bash
# Runs every test suite against the build in $1 (default build/):
#   0. the layering check (scripts/check-layers.sh): components include
#      only their own and lower components' headers;
#   1. each GoogleTest binary $BUILD/tests/*_tests;
#   2. each integration test tests/integration/*_test.sh (and *_test.py, run
#      with the system /usr/bin/python3), with VHDSM_BUILD pointing at $BUILD.
# Services a test needs are started and stopped by the test itself.
# Exits non-zero if any suite fails; prints a summary either way.
set -uo pipefail

BUILD=${1:-build}
export VHDSM_BUILD=$(cd "$BUILD" && pwd)
export VHDSM_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$VHDSM_SRC"

failed=()
passed=()
start=$(date +%s)

run() {
  local name=$1; shift
  local t0=$(date +%s)
  echo "=== $name"
  if "$@"; then
    passed+=("$name ($(( $(date +%s) - t0 ))s)")
  else
    failed+=("$name")
    echo "!!! $name FAILED"
  fi
}

run check-layers bash scripts/check-layers.sh "$VHDSM_SRC"

for bin in "$VHDSM_BUILD"/tests/*_tests; do
  [ -x "$bin" ] || continue
  run "$(basename "$bin")" "$bin" --gtest_brief=1
done

for t in tests/integration/*_test.sh; do
  [ -f "$t" ] || continue
  run "$t" bash "$t"
done
for t in tests/integration/*_test.py; do
  [ -f "$t" ] || continue
  run "$t" /usr/bin/python3 "$t"
done

echo
echo "=== summary ($(( $(date +%s) - start ))s)"
for p in "${passed[@]}"; do echo "PASS $p"; done
for f in "${failed[@]}"; do echo "FAIL $f"; done
[ ${#failed[@]} -eq 0 ]
