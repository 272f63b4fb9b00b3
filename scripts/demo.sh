#!/usr/bin/env bash
# make demo: the VHD chain work end to end, as an operator would do it with
# vhdsm-util, checked by an independent reader (libvhdi). (Until the imaging
# pipeline exists, this is the main job that can be shown.)
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
U="$BUILD/bin/vhdsm-util"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/vhdsm-demo.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Create a 1 GiB base image and write 64 MiB of data into it"
run "$U" create -n base.vhd -s 1024
head -c $((64 << 20)) /dev/urandom > data1.raw
run "$U" write -n base.vhd -i data1.raw -o 0
run "$U" query -n base.vhd -vsafpd

step "Snapshot: a differencing child takes the writes, the base is hidden"
run "$U" snapshot -n leaf.vhd -p base.vhd
run "$U" set -n base.vhd -f hidden -v 1
head -c $((8 << 20)) /dev/urandom > data2.raw
run "$U" write -n leaf.vhd -i data2.raw -o $((512 << 20))
run "$U" query -n leaf.vhd -vsafpd

step "Check both files as vhd-util would"
run "$U" check -n leaf.vhd -p

step "Export the guest view and compare with what was written"
run "$U" export -n leaf.vhd -o guest.raw
truncate -s 1G expected.raw
dd if=data1.raw of=expected.raw conv=notrunc status=none
dd if=data2.raw of=expected.raw bs=1M seek=512 conv=notrunc status=none
run cmp guest.raw expected.raw && echo "guest view is byte-identical"

step "Read the chain with an independent reader (libvhdi)"
/usr/bin/python3 - <<'PY'
import hashlib, pyvhdi
files = []
for p in ["base.vhd", "leaf.vhd"]:
    f = pyvhdi.file(); f.open(p)
    if files: f.set_parent(files[-1])
    files.append(f)
leaf = files[-1]; h = hashlib.sha256(); off = 0
while off < leaf.media_size:
    n = min(64 << 20, leaf.media_size - off)
    h.update(leaf.read_buffer_at_offset(n, off)); off += n
want = hashlib.sha256(open("expected.raw", "rb").read()).hexdigest()
print("libvhdi sha256", h.hexdigest(), "OK" if h.hexdigest() == want else "MISMATCH")
raise SystemExit(h.hexdigest() != want)
PY
step "Done"
