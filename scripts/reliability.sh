#!/usr/bin/env bash
# make reliability: the reliability harness (tests/reliability/), ending with
# its table (tests/reliability/report.py). `--short` is the version every
# `make test` runs (tests/integration/reliability_short_test.sh).
#
#   scripts/reliability.sh [--short] [--seed N] [BUILD]
#
# Parts, each a program that can also run alone (see its --help):
#   kills     SR operations as real processes, SIGKILLed at random moments
#             and at syscall crash points; recovery and every check after
#   fulldisk  an SR on a small tmpfs: no-space faults change nothing
#   stress    8 concurrent clients through vhdsmd, against a model
#   replicas  an object server SIGKILLed during image_create, restarted:
#             the task ends done, the object reads as the VDI, and after
#             replication the restarted server alone serves it
#   fuzz      libFuzzer targets for a bounded time (full), corpora and
#             regression inputs replayed (both)
#   valgrind  memcheck over VHDSR on a sample of requests
#   security  socket mode and SO_PEERCRED, leaving the SR, no shell,
#             credentials in logs, records and faults
#   hostile_store  image tasks against a hostile object store (bad bodies,
#             statuses, stalls, resets): vhdsmd stays up, tasks fail with a code
# One loopback Swift (scripts/saio.sh) serves every part, started here and
# stopped on exit. It runs as production does: three nodes, each with its
# own object, container and account server and device, and rings of 3
# replicas (SAIO_REPLICAS, default 3). Results go to $BUILD/reliability/
# (one JSON per part).
# Exits non-zero if any part fails or anything was lost or corrupted.
#
# Knobs: VHDSM_REL_SEED (seed, default 1), FUZZ_SECONDS (full: per target,
# default 60), VHDSM_REL_PARTS (space-separated subset of the parts).
set -uo pipefail
cd "$(dirname "$0")/.."

mode=full
seed=${VHDSM_REL_SEED:-1}
build=build
while [ $# -gt 0 ]; do
  case "$1" in
    --short) mode=short ;;
    --seed) seed=$2; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) build=$1 ;;
  esac
  shift
done
export VHDSM_BUILD=$(cd "$build" && pwd)
export VHDSM_SRC=$(pwd)
export VHDSM_REL_SEED=$seed
export VHDSM_REL_OUT=$VHDSM_BUILD/reliability
PY=/usr/bin/python3  # the interpreter with pyvhdi and swiftclient
parts=${VHDSM_REL_PARTS:-kills fulldisk stress replicas fuzz valgrind security hostile_store}
short=(); [ "$mode" = short ] && short=(--short)

rm -rf "$VHDSM_REL_OUT"
mkdir -p "$VHDSM_REL_OUT"
t_start=$SECONDS
echo "=== reliability ($mode, seed $seed, build $VHDSM_BUILD)"

# The loopback Swift, for image tasks (kills, fulldisk, stress, valgrind,
# security). Stopped on exit, and by its watchdog should this script die.
export SAIO_ROOT=$VHDSM_REL_OUT/saio
export SAIO_WATCH_PID=$$
export SAIO_SLO_RATE_LIMIT_AFTER=100000
export SAIO_REPLICAS=${SAIO_REPLICAS:-3}
stop_swift() { scripts/saio.sh stop >/dev/null 2>&1 || true; }
trap stop_swift EXIT
if ! scripts/saio.sh start >"$VHDSM_REL_OUT/saio-start.log" 2>&1; then
  cat "$VHDSM_REL_OUT/saio-start.log" >&2
  echo "reliability: the loopback Swift did not start" >&2
  exit 1
fi
eval "$(scripts/saio.sh env)"
export ST_AUTH ST_USER ST_KEY

failed=()
for part in $parts; do
  t0=$SECONDS
  echo "=== $part"
  if ! "$PY" "tests/reliability/$part.py" "${short[@]}"; then
    failed+=("$part")
  fi
  echo "--- $part: $((SECONDS - t0))s"
done

"$PY" tests/reliability/report.py "$VHDSM_REL_OUT" --mode "$mode" --seed "$seed" \
  --replicas "$SAIO_REPLICAS" |
  tee "$VHDSM_REL_OUT/table.txt"
report=${PIPESTATUS[0]}
echo "reliability: $mode run took $((SECONDS - t_start))s"
if [ ${#failed[@]} -gt 0 ] || [ "$report" -ne 0 ]; then
  echo "reliability: FAILED (${failed[*]:-see the table})" >&2
  exit 1
fi
