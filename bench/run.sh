#!/usr/bin/env bash
# make bench: each benchmark prints our figure and the peer's figure from the
# same run, and the ratio. Timings are whole processes under /usr/bin/time,
# followed by `sync` (both sides pay for getting their output to disk), one
# discarded warm-up run, then the median of $RUNS runs, alternating sides.
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
RUNS=${RUNS:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vhdsm-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
UTIL="$BUILD/bin/vhdsm-util"

# Seconds taken by a command (and a sync), as a decimal string.
timeit() {
  sync
  /usr/bin/time -f "%e" -o "$WORK/t" bash -c "$1 && sync" >/dev/null
  cat "$WORK/t"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Compares command A (ours) with command B (the peer) over `units` (MiB).
compare() {
  local title=$1 units=$2 ours=$3 peer=$4 before=${5:-true}
  local a=() b=()
  eval "$before"; timeit "$ours" >/dev/null
  eval "$before"; timeit "$peer" >/dev/null
  for _ in $(seq "$RUNS"); do
    eval "$before"; a+=("$(timeit "$ours")")
    eval "$before"; b+=("$(timeit "$peer")")
  done
  local ma mb
  ma=$(median "${a[@]}")
  mb=$(median "${b[@]}")
  awk -v t="$title" -v u="$units" -v a="$ma" -v b="$mb" 'BEGIN {
    ra = u / a; rb = u / b;
    printf "%-44s ours %8.1f MiB/s (%5.2f s)   peer %8.1f MiB/s (%5.2f s)   ratio %.2f\n",
           t, ra, a, rb, b, ra / rb }'
}

echo "vhdsm benchmarks ($(nproc) cores, median of $RUNS, $(date -u +%FT%TZ))"

# 1. Export a 1 GiB dynamic VHD, half its blocks random, to raw.
/usr/bin/python3 - "$WORK/src.raw" <<'PY'
import os, sys
with open(sys.argv[1], 'wb') as f:
    f.truncate(1 << 30)
    for b in range(0, 512, 2):
        f.seek(b * (2 << 20)); f.write(os.urandom(2 << 20))
PY
"$UTIL" create -n "$WORK/half.vhd" -s 1024
"$UTIL" write -n "$WORK/half.vhd" -i "$WORK/src.raw"
compare "export 1 GiB dynamic (half random) to raw" 1024 \
  "$UTIL export -n $WORK/half.vhd -o $WORK/ours.raw" \
  "qemu-img convert -f vpc -O raw $WORK/half.vhd $WORK/peer.raw" \
  "rm -f $WORK/ours.raw $WORK/peer.raw"
"$UTIL" export -n "$WORK/half.vhd" -o "$WORK/ours.raw"
cmp -s "$WORK/ours.raw" "$WORK/src.raw" || { echo "export differs!" >&2; exit 1; }
rm -f "$WORK"/*.raw

# Benchmarks of other components register here.
for extra in "$SRC"/bench/*_bench.sh; do
  [ -f "$extra" ] && bash "$extra" "$BUILD"
done
exit 0
