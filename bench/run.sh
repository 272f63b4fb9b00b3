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

# 2. Coalesce a 2 GiB child, half its blocks random, into a 2 GiB parent that
#    holds the other half: 1 GiB of dirty data. Anchors: cp of 1 GiB, and
#    qemu-img commit of the equivalent qcow2 chain. The child holds only its
#    own blocks, written one by one as a guest would (writing the whole raw
#    image would also write zeros over the parent's blocks, which the child
#    must then shadow: 2 GiB to merge, and a different result).
/usr/bin/python3 - "$WORK" "$UTIL" <<'PY'
import os, subprocess, sys
w, util = sys.argv[1], sys.argv[2]; blk = 2 << 20
with open(w + "/parent.raw", "wb") as p, open(w + "/child.raw", "wb") as c, \
     open(w + "/dirty.bin", "wb") as d:
    p.truncate(2 << 30); c.truncate(2 << 30)
    for b in range(1024):
        data = os.urandom(blk)
        if b % 2: p.seek(b * blk); p.write(data)
        else: c.seek(b * blk); c.write(data); d.write(data)
subprocess.run([util, "create", "-n", w + "/parent.vhd", "-s", "2048"], check=True)
subprocess.run([util, "write", "-n", w + "/parent.vhd", "-i", w + "/parent.raw"], check=True)
subprocess.run([util, "snapshot", "-n", w + "/child.vhd", "-p", w + "/parent.vhd"], check=True)
with open(w + "/dirty.bin", "rb") as d:
    for b in range(0, 1024, 2):
        with open(w + "/block", "wb") as one:
            one.write(d.read(blk))
        subprocess.run([util, "write", "-n", w + "/child.vhd", "-i", w + "/block",
                        "-o", str(b * blk)], check=True)
os.unlink(w + "/block")
PY
test "$("$UTIL" query -a -n "$WORK/child.vhd")" = 512 || { echo "child holds other than 512 blocks" >&2; exit 1; }
cp "$WORK/parent.vhd" "$WORK/parent.pristine"
qemu-img convert -f raw -O qcow2 "$WORK/parent.raw" "$WORK/base.qcow2"
qemu-img convert -f raw -O qcow2 "$WORK/child.raw" "$WORK/top.qcow2"
qemu-img rebase -u -b "$WORK/base.qcow2" -F qcow2 "$WORK/top.qcow2"
cp "$WORK/base.qcow2" "$WORK/base.pristine"
rm -f "$WORK/parent.raw" "$WORK/child.raw"
restore="cp $WORK/parent.pristine $WORK/parent.vhd && cp $WORK/base.pristine $WORK/base.qcow2 && rm -f $WORK/copy.bin"
compare "coalesce 1 GiB dirty (peer: cp of 1 GiB)" 1024 \
  "$UTIL coalesce -n $WORK/child.vhd >/dev/null" \
  "cp $WORK/dirty.bin $WORK/copy.bin" "$restore"
compare "coalesce 1 GiB dirty (peer: qemu-img commit)" 1024 \
  "$UTIL coalesce -n $WORK/child.vhd >/dev/null" \
  "qemu-img commit -q -f qcow2 -d $WORK/top.qcow2" "$restore"
# Both merged the same data: the parents read the same.
"$UTIL" coalesce -n "$WORK/child.vhd" >/dev/null
"$UTIL" export -n "$WORK/parent.vhd" -o "$WORK/a.raw"
qemu-img convert -f qcow2 -O raw "$WORK/base.qcow2" "$WORK/b.raw"
cmp -s "$WORK/a.raw" "$WORK/b.raw" || { echo "coalesce result differs from qemu's!" >&2; exit 1; }
"$UTIL" export -n "$WORK/child.vhd" -o "$WORK/b.raw"
cmp -s "$WORK/a.raw" "$WORK/b.raw" || { echo "coalesce result differs!" >&2; exit 1; }
rm -f "$WORK"/*.raw "$WORK"/*.pristine "$WORK"/*.qcow2 "$WORK"/*.vhd "$WORK"/*.bin

# 3. Snapshot of a 2040 GiB (the VHD maximum) disk: milliseconds per call,
#    whole processes, median of 21 calls. VHD's BAT for 2 TiB is 4 MiB; we
#    write it to the disk before linking the file (no cache flush, as
#    vhd-util's O_DIRECT writes); the anchor, qemu-img create -b, writes a
#    32 KiB qcow2 table and does not wait for the disk.
"$UTIL" create -n "$WORK/big.vhd" -s $((2040 * 1024))
qemu-img create -q -f qcow2 "$WORK/big.qcow2" 2040G
per_call_ms() {  # command template with @N@ for the run number
  local t0 t1 i times=()
  eval "${1//@N@/warm}"
  for i in $(seq 21); do
    t0=$EPOCHREALTIME
    eval "${1//@N@/$i}"
    t1=$EPOCHREALTIME
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1e3 }')")
  done
  median "${times[@]}"
}
ms_ours=$(per_call_ms "$UTIL snapshot -n $WORK/snap@N@.vhd -p $WORK/big.vhd")
ms_peer=$(per_call_ms "qemu-img create -q -f qcow2 -b $WORK/big.qcow2 -F qcow2 $WORK/snap@N@.qcow2")
awk -v a="$ms_ours" -v b="$ms_peer" 'BEGIN {
  printf "%-44s ours %8.2f ms/call           peer %8.2f ms/call           ratio %.2f\n",
         "snapshot of a 2040 GiB disk (qemu-img -b)", a, b, b / a }'
"$UTIL" check -n "$WORK/snap1.vhd" >/dev/null || { echo "snapshot is not valid!" >&2; exit 1; }

# 3b. Opening a large disk: sm runs `query -vsafp` on every disk of every
#     scan. Per call (median of 21) on the 2040 GiB disk and on a 16 MiB
#     one: the BAT (4 MiB) is summarized a chunk at a time, not loaded.
#     Peer: blktap's vhd-util when there is one ($VHD_UTIL, default
#     /work/tools/vhd-util), else qemu-img info as an anchor.
"$UTIL" create -n "$WORK/small.vhd" -s 16
VHD_UTIL=${VHD_UTIL:-/work/tools/vhd-util}
row_ms() {  # title, ours, peer, peer name
  local a b
  a=$(per_call_ms "$2 >/dev/null")
  b=$(per_call_ms "$3 >/dev/null")
  awk -v t="$1" -v a="$a" -v b="$b" -v n="$4" 'BEGIN {
    printf "%-44s ours %8.2f ms/call           %-9s %6.2f ms/call ratio %.2f\n",
           t, a, n, b, b / a }'
}
if [ -x "$VHD_UTIL" ]; then
  row_ms "query -vsafp, 2040 GiB disk" "$UTIL query -vsafp -n $WORK/big.vhd" \
    "$VHD_UTIL query -vsafp -n $WORK/big.vhd" vhd-util
  row_ms "query -vsafp, 16 MiB disk" "$UTIL query -vsafp -n $WORK/small.vhd" \
    "$VHD_UTIL query -vsafp -n $WORK/small.vhd" vhd-util
  row_ms "check -n -B, 2040 GiB disk" "$UTIL check -n $WORK/big.vhd -B" \
    "$VHD_UTIL check -n $WORK/big.vhd -B" vhd-util
else
  row_ms "query -vsafp, 2040 GiB disk" "$UTIL query -vsafp -n $WORK/big.vhd" \
    "qemu-img info $WORK/big.vhd" qemu-img
  row_ms "query -vsafp, 16 MiB disk" "$UTIL query -vsafp -n $WORK/small.vhd" \
    "qemu-img info $WORK/small.vhd" qemu-img
  row_ms "check -n -B, 2040 GiB disk" "$UTIL check -n $WORK/big.vhd -B" \
    "qemu-img check $WORK/big.vhd" qemu-img
fi
rm -f "$WORK"/snap* "$WORK"/big.* "$WORK"/small.vhd

# 4. Export a depth-3 chain of a 2 GiB disk, half holes (layers hold 25 %,
#    15 % and 10 % of the blocks). Anchor: qemu-img convert of the same
#    chain as qcow2.
#    Each layer holds only its own blocks (a write of zeros over a parent's
#    data would shadow it in both formats), written through vhdsm-util.
#    Second line: the disk's floor, a cp of just the chain's 1 GiB of data
#    (both must get those bytes to the disk; the holes cost nothing).
/usr/bin/python3 - "$WORK" "$UTIL" <<'PY'
import os, random, subprocess, sys
w, util = sys.argv[1], sys.argv[2]; blk = 2 << 20; rnd = random.Random(3)
blocks = list(range(1024)); rnd.shuffle(blocks)
parts = [blocks[:256], blocks[256:410], blocks[410:512]]
subprocess.run([util, "create", "-n", w + "/l0.vhd", "-s", "2048"], check=True)
for i, part in enumerate(parts):
    vhd = "%s/l%d.vhd" % (w, i)
    if i:
        subprocess.run([util, "snapshot", "-e", "-n", vhd, "-p",
                        "%s/l%d.vhd" % (w, i - 1)], check=True)
    with open("%s/l%d.raw" % (w, i), "wb") as f:
        f.truncate(2 << 30)
        for b in sorted(part):
            data = os.urandom(blk)
            f.seek(b * blk); f.write(data)
            with open(w + "/data.bin", "ab") as all_data:
                all_data.write(data)
            with open(w + "/block", "wb") as one:
                one.write(data)
            subprocess.run([util, "write", "-n", vhd, "-i", w + "/block",
                            "-o", str(b * blk)], check=True)
os.unlink(w + "/block")
PY
for i in 0 1 2; do
  qemu-img convert -f raw -O qcow2 "$WORK/l$i.raw" "$WORK/l$i.qcow2"
  rm -f "$WORK/l$i.raw"
done
qemu-img rebase -u -b "$WORK/l0.qcow2" -F qcow2 "$WORK/l1.qcow2"
qemu-img rebase -u -b "$WORK/l1.qcow2" -F qcow2 "$WORK/l2.qcow2"
compare "export depth-3 chain, half holes, to raw" 2048 \
  "$UTIL export -n $WORK/l2.vhd -o $WORK/ours.raw" \
  "qemu-img convert -f qcow2 -O raw $WORK/l2.qcow2 $WORK/peer.raw" \
  "rm -f $WORK/ours.raw $WORK/peer.raw"
compare "export depth-3 chain (floor: cp of its data)" 2048 \
  "$UTIL export -n $WORK/l2.vhd -o $WORK/ours.raw" \
  "cp $WORK/data.bin $WORK/copy.bin" \
  "rm -f $WORK/ours.raw $WORK/copy.bin"
"$UTIL" export -n "$WORK/l2.vhd" -o "$WORK/ours.raw"
qemu-img convert -f qcow2 -O raw "$WORK/l2.qcow2" "$WORK/peer.raw"
cmp -s "$WORK/ours.raw" "$WORK/peer.raw" || { echo "chain export differs!" >&2; exit 1; }
rm -f "$WORK"/*

# Benchmarks of other components register here.
for extra in "$SRC"/bench/*_bench.sh; do
  [ -f "$extra" ] && bash "$extra" "$BUILD"
done
exit 0
