#!/usr/bin/env bash
# Upload-phase and compression benchmarks of upload/ (called by
# bench/run.sh, i.e. `make bench`; usable alone: bench/upload_bench.sh BUILD).
#
#   1. upload phase: the same compressed bytes (a disk-like image, half
#      zeros, gzip'd once beforehand) uploaded to the same local Swift as a
#      100 MiB-segment SLO by `vhdsm-upload --format raw` (ours) and by
#      `swift upload --use-slo --segment-size 100M` (python-swiftclient, its
#      default 10 segment threads); MB/s of compressed bytes, the ratio
#      (goal >= 1), and our peak RSS (/usr/bin/time).
#   2. compression: our parallel gzip (ISA-L, level 6, all cores) against
#      `gzip -6` and `pigz -6` on the raw image.
# Starts and stops its own Swift (scripts/saio.sh). MB = 10^6 bytes.
# Knobs: UPLOAD_BENCH_MIB (image size, default 1024), RUNS (default 3).
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
MIB=${UPLOAD_BENCH_MIB:-1024}
CLI="$BUILD/bin/vhdsm-upload"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vhdsm-upload-bench.XXXXXX")
export SAIO_ROOT="$WORK/saio"
cleanup() {
  "$SRC/scripts/saio.sh" stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

SAIO_WATCH_PID=$$ "$SRC/scripts/saio.sh" start >/dev/null
# shellcheck disable=SC1091
source "$SAIO_ROOT/saio.env"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

/usr/bin/python3 "$SRC/bench/upload_make_image.py" "$WORK/disk.img" $((MIB << 20))
"$CLI" --input "$WORK/disk.img" --compress-only "$WORK/disk.img.gz" >/dev/null
BYTES=$(stat -c %s "$WORK/disk.img.gz")
RAW=$(stat -c %s "$WORK/disk.img")

echo "upload benchmarks ($(nproc) cores, median of $RUNS): ${MIB} MiB disk-like image (half zeros) -> $((BYTES / 1000000)) MB gzip"

ours_upload() {  # run number -> seconds; peak RSS (KiB) into $WORK/rss
  local t0 t1
  t0=$(now)
  /usr/bin/time -f %M -o "$WORK/rss" "$CLI" --input "$WORK/disk.img.gz" \
    --format raw --auth-url "$ST_AUTH" --allow-insecure --user "$ST_USER" --key "$ST_KEY" \
    --container bench --object "ours$1" --segment-size 100M >/dev/null
  t1=$(now)
  secs "$t0" "$t1"
}
peer_upload() {
  local t0 t1
  t0=$(now)
  swift upload --use-slo --segment-size 100M bench "$WORK/disk.img.gz" \
    --object-name "peer$1" >/dev/null
  t1=$(now)
  secs "$t0" "$t1"
}
drop() { swift delete bench "$1" >/dev/null 2>&1 || true; }

a=() b=() rss=()
ours_upload warm >/dev/null; drop ourswarm
peer_upload warm >/dev/null; drop peerwarm
for i in $(seq "$RUNS"); do
  a+=("$(ours_upload "$i")"); rss+=("$(tail -1 "$WORK/rss")"); drop "ours$i"
  b+=("$(peer_upload "$i")"); drop "peer$i"
done
# The object really is there and whole: one more of ours, checked by HEAD.
ours_upload check >/dev/null
len=$(swift stat bench ourscheck | awk '/Content Length/ {print $3}')
[ "$len" = "$BYTES" ] || { echo "uploaded size $len != $BYTES" >&2; exit 1; }
ma=$(median "${a[@]}"); mb=$(median "${b[@]}"); mr=$(median "${rss[@]}")
awk -v t="upload phase, 100 MiB SLO segments (peer: swift upload)" \
    -v n="$BYTES" -v a="$ma" -v b="$mb" -v r="$mr" 'BEGIN {
  printf "%-58s ours %7.1f MB/s (%5.2f s)   peer %7.1f MB/s (%5.2f s)   ratio %.2f\n",
         t, n / a / 1e6, a, n / b / 1e6, b, b / a;
  printf "%-58s ours %7.1f MiB (3 segment buffers of 100 MiB allowed)\n",
         "peak RSS of the upload (/usr/bin/time)", r / 1024 }'

compress_time() {  # command... -> seconds
  local t0 t1
  t0=$(now)
  "$@" >/dev/null
  t1=$(now)
  secs "$t0" "$t1"
}
c=()
for i in $(seq "$RUNS"); do
  c+=("$(compress_time "$CLI" --input "$WORK/disk.img" --compress-only /dev/null)")
done
mc=$(median "${c[@]}")
# gzip is slow: one run.
mg=$(compress_time bash -c "gzip -6 -c '$WORK/disk.img' >/dev/null")
line() {
  awk -v t="$1" -v n="$RAW" -v a="$2" -v b="$3" 'BEGIN {
    printf "%-58s ours %7.1f MB/s (%5.2f s)   peer %7.1f MB/s (%5.2f s)   ratio %.2f\n",
           t, n / a / 1e6, a, n / b / 1e6, b, b / a }'
}
line "compression, parallel gzip level 6 (peer: gzip -6)" "$mc" "$mg"
if command -v pigz >/dev/null; then
  mp=$(compress_time bash -c "pigz -6 -c '$WORK/disk.img' >/dev/null")
  line "compression, parallel gzip level 6 (peer: pigz -6)" "$mc" "$mp"
fi
gz_ours=$BYTES
gz_peer=$(gzip -6 -c "$WORK/disk.img" | wc -c)
awk -v a="$gz_ours" -v b="$gz_peer" -v n="$RAW" 'BEGIN {
  printf "%-58s ours %7.3f            peer %7.3f            (+%.1f %%)\n",
         "compressed size / image size (peer: gzip -6)", a / n, b / n,
         (a / b - 1) * 100 }'
