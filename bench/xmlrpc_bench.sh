#!/usr/bin/env bash
# XML-RPC benchmarks (issue 4): our figure, the Python figure, the ratio.
#
#   bench/xmlrpc_bench.sh [BUILD]        (BUILD defaults to build/)
#
# 1. Exec mode, as xapi runs an SM driver: one process per call with the
#    request as argv[1]. build/bench/xmlrpc-exec-bench-driver (parse,
#    dispatch, print a nil response) against the floor of a Python driver:
#    /usr/bin/python3 parsing argv[1] with xmlrpc.client.loads and printing
#    a nil response. Both are run N times from the same bash loop.
#    Goal: >= 10x faster per call.
# 2. HTTP mode: calls/s of "ping" with 4 concurrent keep-alive clients
#    (build/bench/xmlrpc-http-load, libcurl), against our test server and
#    against CPython's xmlrpc.server (bench/xmlrpc_py_server.py, threaded,
#    HTTP/1.1) on this machine, the same client for both.
#
# Environment: XMLRPC_BENCH_CALLS (exec calls per side, default 200),
# XMLRPC_BENCH_SECONDS (HTTP run length per server, default 3).
set -euo pipefail

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
DRIVER=$BUILD/bench/xmlrpc-exec-bench-driver
LOAD=$BUILD/bench/xmlrpc-http-load
SERVER=$BUILD/tests/xmlrpc-test-server
PY=/usr/bin/python3
CALLS=${XMLRPC_BENCH_CALLS:-200}
SECONDS_PER_RUN=${XMLRPC_BENCH_SECONDS:-3}

for f in "$DRIVER" "$LOAD" "$SERVER"; do
  [ -x "$f" ] || { echo "xmlrpc_bench: missing $f (run make)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# ---- 1. exec mode -----------------------------------------------------------
# A call shaped like xapi's (SRTest.txt's struct), to the trivial method.
REQUEST='<methodCall><methodName>ping</methodName><params><param><value><struct><member><name>host_ref</name><value>OpaqueRef:NULL</value></member><member><name>command</name><value>ping</value></member><member><name>args</name><value><array><data/></array></value></member><member><name>device_config</name><value><struct/></value></member></struct></value></param></params></methodCall>'
PY_DRIVER='import sys, xmlrpc.client
xmlrpc.client.loads(sys.argv[1])
sys.stdout.write(xmlrpc.client.dumps((None,), methodresponse=True, allow_none=True))'

# Both must answer with a nil result before they are timed.
ours=$("$DRIVER" "$REQUEST")
theirs=$("$PY" -c "$PY_DRIVER" "$REQUEST")
[[ "$ours" == *"<value><nil/></value>"* ]] || { echo "driver answered: $ours" >&2; exit 1; }
[[ "$theirs" == *"<value><nil/></value>"* ]] || { echo "python answered: $theirs" >&2; exit 1; }

t0=$(now_ns)
for ((i = 0; i < CALLS; i++)); do "$DRIVER" "$REQUEST" >/dev/null; done
t1=$(now_ns)
for ((i = 0; i < CALLS; i++)); do "$PY" -c "$PY_DRIVER" "$REQUEST" >/dev/null; done
t2=$(now_ns)
ours_us=$(( (t1 - t0) / CALLS / 1000 ))
py_us=$(( (t2 - t1) / CALLS / 1000 ))
echo "xmlrpc exec: vhdsm driver ${ours_us} us/call, python floor ${py_us} us/call" \
     "($CALLS calls each)"
awk -v a="$py_us" -v b="$ours_us" 'BEGIN { printf "xmlrpc exec: ratio %.1fx faster (goal >= 10x)\n", a / (b > 0 ? b : 1) }'

# ---- 2. HTTP mode -------------------------------------------------------------
# Starts "$@" in the background and waits for its READY line; sets
# SERVER_PID and SERVER_PORT.
start_server() {
  local out=$tmp/ready.$RANDOM
  "$@" >"$out" 2>"$tmp/stderr" &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  for _ in $(seq 100); do
    if grep -q '^READY tcp_port=' "$out" 2>/dev/null; then
      SERVER_PORT=$(sed -n 's/^READY tcp_port=//p' "$out")
      return 0
    fi
    sleep 0.1
  done
  echo "xmlrpc_bench: server did not start: $*" >&2
  cat "$tmp/stderr" >&2
  return 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# One load run against port $1; sets RATE (calls/s) and prints the details.
rate() {
  local line
  line=$("$LOAD" --url "http://127.0.0.1:$1/RPC2" --method ping --clients 4 \
                 --seconds "$SECONDS_PER_RUN")
  echo "  $2: $line"
  RATE=$(sed -n 's/.*calls_per_s=\([0-9]*\).*/\1/p' <<<"$line")
}

start_server "$SERVER" --port 0 --threads 4
rate "$SERVER_PORT" "vhdsm (xmlrpc-test-server, libmicrohttpd)"
ours_rate=$RATE
stop_server

start_server "$PY" "$SRC/bench/xmlrpc_py_server.py"
rate "$SERVER_PORT" "python (xmlrpc.server, threaded, HTTP/1.1)"
py_rate=$RATE
stop_server

echo "xmlrpc http: vhdsm server ${ours_rate} calls/s, python xmlrpc.server" \
     "${py_rate} calls/s (4 keep-alive clients, ${SECONDS_PER_RUN}s each)"
awk -v a="$ours_rate" -v b="$py_rate" 'BEGIN { printf "xmlrpc http: ratio %.1fx\n", a / (b > 0 ? b : 1) }'
