#!/usr/bin/env bash
# make demo: the main job end to end on this machine, with a private
# OpenStack Swift on 127.0.0.1 that the demo starts and stops itself.
#
#   an SR in a temporary directory, a VDI with data, snapshots (the chain as
#   a tree, base copies hidden), GC/coalesce, then an image of the VDI
#   uploaded in segments with a progress bar, downloaded again and proved
#   byte-identical to the VDI's guest view, read by an independent reader.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
B="$BUILD/bin"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/vhdsm-demo.XXXXXX")
export SAIO_ROOT="$DIR/swift" SAIO_WATCH_PID=$$ VHDSM_STATE_DIR="$DIR/state"
cleanup() {
  "$SRC/scripts/saio.sh" stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
cd "$DIR"
mkdir sr
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Start a private OpenStack Swift on 127.0.0.1"
"$SRC/scripts/saio.sh" start | tail -1
eval "$("$SRC/scripts/saio.sh" env)"

step "An SR (a directory) and a 2 GiB VDI with 256 MiB of data"
V=$("$B/vhdsm" vdi create "$DIR/sr" 2G --name web01-disk | awk '{print $2}')
echo "VDI $V"
head -c $((192 << 20)) /dev/urandom > data1
run "$B/vhdsm-util" write -n "sr/$V.vhd" -i data1
head -c $((64 << 20)) /dev/urandom > data2
"$B/vhdsm-util" write -n "sr/$V.vhd" -i data2 -o $((1 << 30))

step "Two snapshots while the VDI keeps changing"
run "$B/vhdsm" vdi snapshot "$DIR/sr" "$V"
"$B/vhdsm-util" write -n "sr/$V.vhd" -i data2 -o $((512 << 20))
run "$B/vhdsm" vdi snapshot "$DIR/sr" "$V"
"$B/vhdsm-util" write -n "sr/$V.vhd" -i data2 -o $((1536 << 20))
run "$B/vhdsm" sr scan "$DIR/sr"

step "Delete the first snapshot; the GC coalesces what it leaves behind"
S1=$("$B/vhdsm" --json sr scan "$DIR/sr" | /usr/bin/python3 -c '
import json, sys
v = [x for x in json.load(sys.stdin) if x["is_a_snapshot"] == "true"]
print(sorted(v, key=lambda x: x["uuid"])[0]["uuid"])')
run "$B/vhdsm" vdi delete "$DIR/sr" "$S1"
run "$B/vhdsm" sr gc "$DIR/sr"
run "$B/vhdsm" sr scan "$DIR/sr"

step "Image the VDI into Swift (coalesce, snapshot, compress, upload)"
printf '%s' "$ST_KEY" > key
run "$B/vhdsm" image create "$DIR/sr" "$V" --container images \
  --object web01.vhd.gz --auth-url "$ST_AUTH" --allow-insecure --user "$ST_USER" \
  --key-file key --segment-size 32M

step "Download it, decompress, and compare with the VDI"
/usr/bin/python3 - "$ST_AUTH" "$ST_USER" "$ST_KEY" <<'PY'
import gzip, sys, swiftclient
c = swiftclient.Connection(authurl=sys.argv[1], user=sys.argv[2], key=sys.argv[3])
headers, body = c.get_object("images", "web01.vhd.gz")
print("downloaded %d bytes (%s segments in images_segments)" % (
    len(body), len(c.get_container("images_segments")[1])))
open("image.vhd", "wb").write(gzip.decompress(body))
PY
run "$B/vhdsm-util" check -n image.vhd
"$B/vhdsm-util" export -n image.vhd -o image.raw
"$B/vhdsm-util" export -n "sr/$V.vhd" -o vdi.raw
run cmp image.raw vdi.raw && echo "the image is byte-identical to the VDI's guest view"
/usr/bin/python3 - <<'PY'
import hashlib, pyvhdi
f = pyvhdi.file(); f.open("image.vhd")
h = hashlib.sha256(); off = 0
while off < f.media_size:
    n = min(64 << 20, f.media_size - off); h.update(f.read_buffer_at_offset(n, off)); off += n
want = hashlib.sha256(open("vdi.raw", "rb").read()).hexdigest()
print("libvhdi reads the image:", "identical" if h.hexdigest() == want else "DIFFERENT")
raise SystemExit(h.hexdigest() != want)
PY
step "Done (Swift stopped, temporary files removed)"
