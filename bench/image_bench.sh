#!/usr/bin/env bash
# The whole imaging job (issue 6's speed figures), called by bench/run.sh
# (`make bench`); usable alone: bench/image_bench.sh BUILD.
#
# The same VDI chain on the same loopback Swift, in the same run:
#   ours  `vhdsm image create` through vhdsmd: snapshot, the chain streamed
#         as one VHD, gzip on all cores, 100 MiB SLO segments, manifest
#         verified; timed from the call to `done`;
#   peer  the anchor pipeline: `tar -cz` of the chain's files piped to
#         `swift upload --use-slo --segment-size 100M` (python-swiftclient).
# Both sides pay for their whole job; the SR and the container are reset
# between runs, untimed. Also printed: the task's peak RSS (VmHWM of a fresh
# vhdsmd per run), against 64 MiB + the in-flight segment buffers.
#
# The chain: a 4 GiB VDI (IMAGE_BENCH_MIB) whose blocks are half unallocated,
# half disk-like data (bench/upload_make_image.py: system files and random
# bytes); the base copy holds half of the data, the VDI (its child) the other
# half, and a user snapshot hangs off the base as well. The image is
# downloaded once at the end and its guest view compared with the source.
# Knobs: IMAGE_BENCH_MIB (default 4096), RUNS (default 3).
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
MIB=${IMAGE_BENCH_MIB:-4096}
B=$BUILD/bin
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vhdsm-image-bench.XXXXXX")
export SAIO_ROOT="$WORK/saio" SAIO_WATCH_PID=$$ VHDSM_STATE_DIR="$WORK/state"
DAEMON_PID=""
cleanup() {
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  "$SRC/scripts/saio.sh" stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SRC/scripts/saio.sh" start >/dev/null
eval "$("$SRC/scripts/saio.sh" env)"
SWIFT=(swift -A "$ST_AUTH" -U "$ST_USER" -K "$ST_KEY")
printf '%s' "$ST_KEY" >"$WORK/key"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---- the chain ---------------------------------------------------------------
"$PY" "$SRC/bench/upload_make_image.py" "$WORK/disk.raw" $((MIB << 20))
mkdir "$WORK/pristine"
V=$("$B/vhdsm" vdi create "$WORK/pristine" "${MIB}M" --name bench | awk '{print $2}')
# Data sits in runs of two 2 MiB blocks every 8 MiB; even runs go to the
# base, odd runs to the VDI after the snapshot.
write_runs() {  # parity
  local n=$((MIB / 8)) i
  for ((i = $1; i < n; i += 2)); do
    dd if="$WORK/disk.raw" of="$WORK/run" bs=4M skip=$((i * 2 + 1)) count=1 status=none
    "$B/vhdsm-util" write -n "$WORK/pristine/$V.vhd" -i "$WORK/run" -o $(((i * 8 + 4) << 20))
  done
}
write_runs 0
"$B/vhdsm" vdi snapshot "$WORK/pristine" "$V" >/dev/null
write_runs 1
rm -f "$WORK/run"
chain_bytes=$(du -cb "$WORK"/pristine/*.vhd | tail -1 | cut -f1)

reset_state() {
  rm -rf "$WORK/sr" "$WORK/state"
  cp -a "$WORK/pristine" "$WORK/sr"
  "${SWIFT[@]}" delete bench >/dev/null 2>&1 || true
  "${SWIFT[@]}" delete bench_segments >/dev/null 2>&1 || true
  sync
}

start_daemon() {
  VHDSM_GC=thread "$B/vhdsmd" --socket "$WORK/d.sock" --foreground 2>"$WORK/d.log" &
  DAEMON_PID=$!
  for _ in $(seq 100); do [ -S "$WORK/d.sock" ] && return 0; sleep 0.05; done
  echo "image_bench: vhdsmd did not start" >&2
  cat "$WORK/d.log" >&2
  return 1
}

stop_daemon() {
  kill "$DAEMON_PID" && wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}

ours_run() {  # prints "seconds peak_rss_kib"
  reset_state
  start_daemon
  local t0 t1 hwm
  t0=$(now)
  "$B/vhdsm" --socket "$WORK/d.sock" image create "$WORK/sr" "$V" --container bench \
    --object image.vhd.gz --auth-url "$ST_AUTH" --allow-insecure --user "$ST_USER" --key-file "$WORK/key" \
    --segment-size 100M >/dev/null
  t1=$(now)
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$DAEMON_PID/status")
  stop_daemon
  echo "$(secs "$t0" "$t1") $hwm"
}

peer_run() {
  reset_state
  local t0 t1
  t0=$(now)
  tar -cz -C "$WORK/sr" --exclude=.vhdsm . |
    "${SWIFT[@]}" upload --use-slo --segment-size 100M bench - --object-name image.tgz >/dev/null
  t1=$(now)
  secs "$t0" "$t1"
}

ours=() peer=() rss=()
ours_run >/dev/null  # warm-up, discarded
for _ in $(seq "$RUNS"); do
  read -r t h < <(ours_run)
  ours+=("$t")
  rss+=("$h")
  peer+=("$(peer_run)")
done

# The last upload, downloaded and read back: the image is the VDI.
reset_state >/dev/null 2>&1 || true
start_daemon
"$B/vhdsm" --socket "$WORK/d.sock" image create "$WORK/sr" "$V" --container bench \
  --object image.vhd.gz --auth-url "$ST_AUTH" --allow-insecure --user "$ST_USER" --key-file "$WORK/key" \
  --segment-size 100M >/dev/null
stop_daemon
"${SWIFT[@]}" download bench image.vhd.gz -o - | gzip -dc >"$WORK/image.vhd"
"$B/vhdsm-util" export -n "$WORK/image.vhd" -o "$WORK/image.raw"
cmp -s "$WORK/image.raw" "$WORK/disk.raw" || { echo "image_bench: the image differs!" >&2; exit 1; }

mo=$(median "${ours[@]}")
mp=$(median "${peer[@]}")
mr=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
awk -v a="$mo" -v b="$mp" -v v="$MIB" -v c="$chain_bytes" 'BEGIN {
  printf "%-44s ours %8.2f s                 peer %8.2f s                 ratio %.2f (goal >= 5)\n",
         sprintf("image_create, %.1f GiB chain (%.1f GiB files)", v / 1024, c / 2^30), a, b, b / a }'
awk -v r="$mr" 'BEGIN {
  printf "%-44s ours %8.1f MiB                limit %5.0f MiB (64 MiB + 3 x 100 MiB segment buffers)\n",
         "image task peak RSS (vhdsmd VmHWM)", r / 1024, 64 + 300 }'
