#!/usr/bin/env bash
# SM plugin benchmarks (issue 5): our figure, the anchor from the same run,
# the ratio, one line each. The anchors are issue 4's Python floors.
#
#   bench/plugin_bench.sh [BUILD]        (BUILD defaults to build/)
#
# 1. VHDSR exec latency of sr_get_driver_info, ms per call, against the
#    Python floor (/usr/bin/python3 -c parsing argv[1] with
#    xmlrpc.client.loads and printing a nil response) given the same request
#    (bench/plugin_exec_bench.py; calls alternate between the sides).
# 2. VHDSR vdi_snapshot of a 100 GiB-virtual VDI, ms per call (only the
#    snapshot is timed; vdi_delete and sr_gc run between calls to keep the
#    chain short), against the same floor given the snapshot request.
# 3. vhdsmd throughput of vdi_snapshot + vdi_delete pairs, pairs/s, from 4
#    concurrent keep-alive clients (bench/plugin_pair_load.cc, libcurl), each
#    on its own 100 GiB VDIs, the daemon's GC running as in production;
#    against Python's floor of the same round trip: CPython's xmlrpc.server
#    answering a trivial method (bench/xmlrpc_py_server.py) to the same 4
#    clients of build/bench/xmlrpc-http-load, counted as pairs (2 calls each).
#
# Environment: PLUGIN_BENCH_CALLS (1., default 100), PLUGIN_BENCH_SNAPSHOTS
# (2., default 50), PLUGIN_BENCH_SECONDS (3., per side, default 4).
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
VHDSR=$BUILD/bin/VHDSR
VHDSMD=$BUILD/bin/vhdsmd
HTTP_LOAD=$BUILD/bench/xmlrpc-http-load
CALLS=${PLUGIN_BENCH_CALLS:-100}
SNAPSHOTS=${PLUGIN_BENCH_SNAPSHOTS:-50}
SECONDS_PER_RUN=${PLUGIN_BENCH_SECONDS:-4}

for f in "$VHDSR" "$VHDSMD" "$HTTP_LOAD" "$BUILD/lib/libvhdsm-xmlrpc.a"; do
  [ -e "$f" ] || { echo "plugin_bench: missing $f (run make)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vhdsm-plugin-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
unset VHDSM_XAPI_SOCKET  # no toolstack callbacks: the plugin's own cost

PAIR_LOAD=$BUILD/bench/plugin-pair-load  # host/module.mk builds it
[ -x "$PAIR_LOAD" ] || { echo "plugin_bench: missing $PAIR_LOAD (run make)" >&2; exit 1; }

# ---- 1. and 2.: exec mode ---------------------------------------------------
"$PY" "$SRC/bench/plugin_exec_bench.py" driver-info "$VHDSR" "$CALLS"
mkdir "$WORK/sr-exec"
"$PY" "$SRC/bench/plugin_exec_bench.py" snapshot "$VHDSR" "$SNAPSHOTS" "$WORK/sr-exec"
rm -rf "$WORK/sr-exec"

# ---- 3. vhdsmd pairs ----------------------------------------------------------
# Starts "$@" in the background; waits for its port line (vhdsmd prints
# "tcp_port=N", the Python server "READY tcp_port=N"); sets SERVER_PID and
# SERVER_PORT.
start_server() {
  local out=$WORK/ready.$RANDOM
  "$@" >"$out" 2>"$WORK/stderr" &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  for _ in $(seq 100); do
    if grep -q 'tcp_port=' "$out" 2>/dev/null; then
      SERVER_PORT=$(sed -n 's/^.*tcp_port=//p' "$out")
      return 0
    fi
    sleep 0.1
  done
  echo "plugin_bench: server did not start: $*" >&2
  cat "$WORK/stderr" >&2
  return 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

mkdir "$WORK/sr"
# Calls come over TCP: the SR must lie inside sr_roots.
printf '[daemon]\nsr_roots = %s\n' "$WORK" > "$WORK/vhdsm.conf"
VHDSM_GC=thread start_server "$VHDSMD" --config "$WORK/vhdsm.conf" \
  --socket "$WORK/vhdsmd.sock" --tcp-port 0 --foreground
# 16 VDIs, 4 per client, 25 pairs each at most: every pair leaves a base copy
# until the GC folds it away, and 25 stays under the chain limit of 30
# whether or not the GC keeps up.
VDIS=$("$PY" - "$SERVER_PORT" "$WORK/sr" <<'PY'
import sys, xmlrpc.client
px = xmlrpc.client.ServerProxy("http://127.0.0.1:%s/" % sys.argv[1])
p = {"command": "vdi_create", "args": [str(100 << 30), "bench"],
     "device_config": {"location": sys.argv[2], "SRmaster": "true"},
     "sr_uuid": "5e1b7a4e-0000-4000-8000-0000000be4c4"}
print(",".join(px.vdi_create(p)["uuid"] for _ in range(16)))
PY
)
line=$("$PAIR_LOAD" --url "http://127.0.0.1:$SERVER_PORT/" --sr "$WORK/sr" --vdis "$VDIS" \
         --clients 4 --seconds "$SECONDS_PER_RUN" --pairs-per-vdi 25)
ours=$(sed -n 's/.*pairs_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
stop_server
rm -rf "$WORK/sr"

start_server "$PY" "$SRC/bench/xmlrpc_py_server.py"
pyline=$("$HTTP_LOAD" --url "http://127.0.0.1:$SERVER_PORT/RPC2" --method ping --clients 4 \
           --seconds "$SECONDS_PER_RUN")
py_calls=$(sed -n 's/.*calls_per_s=\([0-9]*\).*/\1/p' <<<"$pyline")
stop_server

title="plugin vhdsmd snapshot+delete"
echo "$title: vhdsmd ${ours} pairs/s (4 keep-alive clients, 100 GiB VDIs; $line)"
awk -v t="$title" -v c="$py_calls" -v l="$pyline" 'BEGIN {
  printf "%s: python xmlrpc.server floor %.1f pairs/s (trivial method, 2 calls a pair; %s)\n",
         t, c / 2, l }'
awk -v t="$title" -v a="$ours" -v c="$py_calls" 'BEGIN {
  printf "%s: ratio %.3f (vhdsmd pairs/s / python floor pairs/s)\n", t, a / (c > 0 ? c / 2 : 1) }'
