#!/usr/bin/env bash
# saio.sh: a private OpenStack Swift all-in-one on 127.0.0.1, for tests and
# benchmarks (Debian's swift packages; `make deps` installs them).
#
#   saio.sh start                 configs, rings, memcached + account +
#                                 container + object servers + proxy;
#                                 returns when Swift answers (healthchecks,
#                                 a v1.0 auth round-trip, an account HEAD)
#   saio.sh stop                  stops every daemon by its recorded PID
#   saio.sh status                one line per daemon; exit 0 iff all run
#   saio.sh env                   prints the shell exports (ST_AUTH, ST_USER,
#                                 ST_KEY, SAIO_STORAGE_URL, SAIO_REPLICAS...)
#   saio.sh stop-daemon NAME      SIGTERM to NAME: memcached, proxy, one
#                                 server (object2) or a kind (object: every
#                                 object server)
#   saio.sh kill-daemon NAME      SIGKILL to NAME, as a crash would
#   saio.sh start-daemon NAME     starts NAME again; returns once it answers
#   saio.sh replicate [KIND...]   runs the object and container (or only
#                                 KIND's) replicators of every running node
#                                 once (ssync/HTTP, no rsync)
#   saio.sh fault SPEC|clear      proxy fault injection (JSON spec, see
#                                 scripts/saio/saio_fault.py); `fault hits`
#                                 prints how many requests it hit
#
# Everything lives under $SAIO_ROOT (default $TMPDIR/vhdsm-saio-$UID): etc/
# (configs, rings), srv/N/dN (node N's device), run/ (PIDs, ports, faults),
# log/<name>.log (each daemon's stderr). Ports are picked free at start, so
# instances with different roots run side by side. `start` wipes its own root but refuses a
# non-empty directory it did not create (no .saio marker).
#
# Servers: with one replica (the default) they are named account, container
# and object. With SAIO_REPLICAS=N there are N nodes as in production: node i
# runs account<i>, container<i> and object<i> on its own device srv/i/di, and
# every ring holds N replicas, one per node, each node in its own zone. Swift
# then answers a PUT once a majority (2 of 3) has stored it.
#
# Knobs (environment, read by `start`):
#   SAIO_REPLICAS                replicas and nodes, 1 to 5 (default 1)
#   SAIO_PROXY_PORT              pin the proxy port
#   SAIO_MAX_FILE_SIZE           swift.conf max_file_size (default 5 GiB + 2)
#   SAIO_TOKEN_LIFE              tempauth token lifetime, s (default 86400)
#   SAIO_SLO_MAX_SEGMENTS        slo max_manifest_segments (default 1000)
#   SAIO_SLO_RATE_LIMIT_AFTER    slo and dlo rate_limit_after_segment
#                                (default 10, as upstream; tests that GET
#                                large objects of many small segments raise it)
#   SAIO_WATCH_PID               stop Swift by itself once this PID is gone
#                                (a test that crashes leaves nothing behind)
#
# Users (tempauth): test:tester / testing (.admin), test2:tester2 / testing2.
set -euo pipefail

ROOT=${SAIO_ROOT:-${TMPDIR:-/tmp}/vhdsm-saio-$(id -u)}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
KINDS=(account container object)
# Swift's modules live in Debian's python3; take the interpreter the packaged
# tools use (a python3 earlier on PATH may not be able to import swift).
PY=$(head -1 /usr/bin/swift-ring-builder 2>/dev/null | sed -n 's/^#! *//p')
PY=${PY:-/usr/bin/python3}

die() { echo "saio: $*" >&2; exit 1; }

port_of() { sed -n "s/^$1=//p" "$ROOT/run/ports"; }

# This root's daemons in start order (run/ports lists them): memcached, the
# account, container and object servers, proxy.
daemons() { sed -n 's/=.*//p' "$ROOT/run/ports"; }
servers() { daemons | grep -Ev '^(memcached|proxy)$'; }
kind_of() { echo "${1%%[0-9]*}"; }  # object2 -> object
node_of() {                          # object2 -> 2, object -> 1
  local n=${1##*[a-z]}
  echo "${n:-1}"
}

# The daemons NAME stands for: itself, or every server of a kind.
resolve() {
  local name=$1 d
  [ -f "$ROOT/run/ports" ] || die "not set up; run start first"
  if daemons | grep -qx -- "$name"; then
    echo "$name"
    return
  fi
  if [[ " ${KINDS[*]} " == *" $name "* ]]; then
    for d in $(servers); do
      [ "$(kind_of "$d")" = "$name" ] && echo "$d"
    done
    return
  fi
  die "unknown daemon '$name' (have: $(daemons | tr '\n' ' '))"
}

# Is PID alive, not a zombie, and ours (its command line names our root)?
# After SIGTERM the daemons are reparented to PID 1, which may reap lazily:
# a zombie counts as stopped.
is_ours() {
  local pid=$1 stat
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  stat=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  [ -n "$stat" ] && [[ $stat != Z* ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$ROOT"
}

pid_of() { cat "$ROOT/run/$1.pid" 2>/dev/null || true; }

free_ports() {  # N free TCP ports on 127.0.0.1
  "$PY" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    socks.append(s)
print(' '.join(str(s.getsockname()[1]) for s in socks))
PY
}

write_configs() {
  local user etc=$ROOT/etc
  user=$(id -un)
  cat >"$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = saio-prefix
swift_hash_path_suffix = saio-suffix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
max_file_size = ${SAIO_MAX_FILE_SIZE:-5368709122}
EOF
  local name kind node
  for name in $(servers); do
    kind=$(kind_of "$name")
    node=$(node_of "$name")
    cat >"$etc/$name-server.conf" <<EOF
[DEFAULT]
devices = $ROOT/srv/$node
mount_check = false
disable_fallocate = true
fallocate_reserve = 0
bind_ip = 127.0.0.1
bind_port = $(port_of "$name")
workers = 0
user = $user
swift_dir = $etc
recon_cache_path = $ROOT/cache/$node
log_name = $name-server
eventlet_debug = false

[pipeline:main]
pipeline = healthcheck $kind-server

[app:$kind-server]
use = egg:swift#$kind
EOF
    if [ "$kind" = object ]; then
      # The container update after an object PUT is synchronous unless it
      # takes longer than this; a late one becomes an async_pending that
      # nothing here replays, and the object would be missing from listings.
      echo "container_update_timeout = 10" >>"$etc/$name-server.conf"
    fi
    printf '\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n' \
      >>"$etc/$name-server.conf"
    # `replicate` runs these once. Objects go over ssync, the object
    # servers' own HTTP verb, so no rsync daemon is needed; containers merge
    # rows over HTTP (rsync only for a database a node lacks entirely).
    case $kind in
      object) printf '\n[object-replicator]\nsync_method = ssync\n' ;;
      container) printf '\n[container-replicator]\n' ;;
      *) printf '\n[account-replicator]\n' ;;
    esac >>"$etc/$name-server.conf"
  done
  local rl=${SAIO_SLO_RATE_LIMIT_AFTER:-10}
  cat >"$etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $(port_of proxy)
workers = 0
user = $user
swift_dir = $etc
log_name = proxy-server
eventlet_debug = false

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging saio_fault cache listing_formats bulk tempurl ratelimit tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
# After 10 errors a backend is skipped for this many seconds (default 60: a
# minute of 503s after a restarted object server). Short for fault tests.
error_suppression_interval = 1

[filter:saio_fault]
use = call:saio_fault:filter_factory
fault_file = $ROOT/run/fault.json
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$(port_of memcached)
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:ratelimit]
use = egg:swift#ratelimit
[filter:tempauth]
use = egg:swift#tempauth
token_life = ${SAIO_TOKEN_LIFE:-86400}
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test2_tester2 = testing2 .admin
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
max_manifest_segments = ${SAIO_SLO_MAX_SEGMENTS:-1000}
max_manifest_size = 8388608
yield_frequency = 10
rate_limit_after_segment = $rl
[filter:dlo]
use = egg:swift#dlo
rate_limit_after_segment = $rl
[filter:versioned_writes]
use = egg:swift#versioned_writes
[filter:symlink]
use = egg:swift#symlink
EOF
  local proxy
  proxy=$(port_of proxy)
  cat >"$ROOT/saio.env" <<EOF
export SAIO_ROOT=$ROOT
export SAIO_PROXY_PORT=$proxy
export ST_AUTH=http://127.0.0.1:$proxy/auth/v1.0
export ST_USER=test:tester
export ST_KEY=testing
export SAIO_STORAGE_URL=http://127.0.0.1:$proxy/v1/AUTH_test
export SAIO_REPLICAS=$REPLICAS
EOF
}

spawn_daemon() {  # NAME
  local name=$1 log=$ROOT/log/$1.log pid
  if is_ours "$(pid_of "$name")"; then return 0; fi
  if [ "$name" = memcached ]; then
    local as_root=()
    [ "$(id -u)" -eq 0 ] && as_root=(-u root)  # it refuses root without -u
    # exec -a puts our root into its command line, which is_ours checks.
    ( exec -a "memcached-saio:$ROOT" memcached "${as_root[@]}" -U 0 \
        -l 127.0.0.1 -p "$(port_of memcached)" -m 64 -c 1024 \
        </dev/null >>"$log" 2>&1 ) &
  else
    PYTHONWARNINGS=ignore "$PY" "$HERE/saio/launch.py" "$ROOT/etc" \
      "$(kind_of "$name")" "$ROOT/etc/$name-server.conf" </dev/null \
      >>"$log" 2>&1 &
  fi
  pid=$!
  echo "$pid" >"$ROOT/run/$name.pid"
}

http_code() {  # curl args...; prints the status code (000 if no answer)
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true
}

wait_daemon() {  # NAME [deadline seconds]
  local name=$1 until=$((SECONDS + ${2:-60})) port
  port=$(port_of "$name")
  while ((SECONDS < until)); do
    is_ours "$(pid_of "$name")" || die "$name exited; see $ROOT/log/$name.log"
    if [ "$name" = memcached ]; then
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    elif [ "$(http_code "http://127.0.0.1:$port/healthcheck")" = 200 ]; then
      return 0
    fi
    sleep 0.1
  done
  die "$name not ready after ${2:-60}s; see $ROOT/log/$name.log"
}

# Ready = every healthcheck, then an auth round-trip (proxy + memcached +
# tempauth) and an account HEAD (proxy -> account server). The 60 s for the
# round-trip start once every daemon answers: on a loaded machine eleven
# daemons (3 replicas) can take most of a minute to come up.
wait_ready() {
  local d proxy until headers token url code
  for d in $(daemons); do wait_daemon "$d" 60; done
  until=$((SECONDS + 60))
  proxy=$(port_of proxy)
  while ((SECONDS < until)); do
    headers=$(curl -s -D - -o /dev/null --max-time 5 \
      -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' \
      "http://127.0.0.1:$proxy/auth/v1.0" | tr -d '\r' || true)
    token=$(sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p' <<<"$headers")
    url=$(sed -n 's/^[Xx]-[Ss]torage-[Uu]rl: //p' <<<"$headers")
    if [ -n "$token" ] && [ -n "$url" ]; then
      code=$(http_code -I -H "X-Auth-Token: $token" "$url")
      [[ $code == 2?? ]] && return 0
    fi
    sleep 0.2
  done
  die "auth/account not ready after 60s; see $ROOT/log/proxy.log"
}

stop_pid() {  # PID: SIGTERM, then SIGKILL after 5 s
  local pid=$1 i
  is_ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    is_ours "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 20); do
    is_ours "$pid" || return 0
    sleep 0.1
  done
  echo "saio: PID $pid did not stop" >&2
  return 1
}

kill_pid() {  # PID: SIGKILL, as a crash would
  local pid=$1 i
  is_ours "$pid" || return 0
  kill -KILL "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    is_ours "$pid" || return 0
    sleep 0.1
  done
  echo "saio: PID $pid did not die" >&2
  return 1
}

cmd_stop_daemon() {  # NAME [kill]
  local names name rc=0
  names=$(resolve "$1") || exit 1
  for name in $names; do
    if [ "${2:-}" = kill ]; then
      kill_pid "$(pid_of "$name")" || rc=1
    else
      stop_pid "$(pid_of "$name")" || rc=1
    fi
    rm -f "$ROOT/run/$name.pid"
  done
  return $rc
}

cmd_start_daemon() {
  local names name
  names=$(resolve "$1") || exit 1
  for name in $names; do spawn_daemon "$name"; done
  for name in $names; do wait_daemon "$name" 60; done
}

# One pass of the replicators of every running node, each run to completion
# (Swift's `once` mode): KINDS (object, container), default both, in order.
cmd_replicate() {
  local kind name pids rc=0 pid kinds=("$@")
  [ -f "$ROOT/run/ports" ] || die "not set up; run start first"
  [ ${#kinds[@]} -gt 0 ] || kinds=(object container)
  for kind in "${kinds[@]}"; do
    [[ $kind == object || $kind == container ]] || die "cannot replicate '$kind'"
    pids=()
    for name in $(servers); do
      [ "$(kind_of "$name")" = "$kind" ] || continue
      is_ours "$(pid_of "$name")" || continue
      PYTHONWARNINGS=ignore "$PY" "$HERE/saio/launch.py" "$ROOT/etc" \
        "$kind-replicator" "$ROOT/etc/$name-server.conf" </dev/null \
        >>"$ROOT/log/$name-replicator.log" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  done
  [ $rc -eq 0 ] || die "a replicator failed; see $ROOT/log/*-replicator.log"
}

start_watchdog() {  # PID: stop everything once PID is gone
  local owner=$1
  ( trap '' HUP INT
    while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    SAIO_ROOT="$ROOT" SAIO_IN_WATCHDOG=1 "$SELF" stop
  ) </dev/null >>"$ROOT/log/watchdog.log" 2>&1 &
  echo $! >"$ROOT/run/watchdog.pid"
}

cmd_start() {
  REPLICAS=${SAIO_REPLICAS:-1}
  [[ $REPLICAS =~ ^[1-5]$ ]] || die "SAIO_REPLICAS must be 1 to 5"
  command -v memcached >/dev/null || die "memcached missing: run make deps"
  [ -x /usr/bin/swift-ring-builder ] || die "swift missing: run make deps"
  if [ -d "$ROOT" ] && [ -n "$(ls -A "$ROOT")" ] && [ ! -f "$ROOT/.saio" ]; then
    die "$ROOT is not empty and was not made by saio.sh; refusing to wipe it"
  fi
  if [ -f "$ROOT/.saio" ]; then cmd_stop >/dev/null 2>&1 || true; fi
  local t0=$SECONDS
  mkdir -p "$ROOT"
  touch "$ROOT/.saio"
  rm -rf "${ROOT:?}"/{srv,etc,run,log,cache}
  mkdir -p "$ROOT"/{etc,run,log,cache}
  local ports kind n i=1 suffix ring_args=()
  read -r -a ports <<<"$(free_ports $((2 + 3 * REPLICAS)))"
  {
    echo "memcached=${ports[0]}"
    for kind in "${KINDS[@]}"; do
      local list=()
      for n in $(seq "$REPLICAS"); do
        suffix=$n
        [ "$REPLICAS" -eq 1 ] && suffix=""
        echo "$kind$suffix=${ports[i]}"
        list+=("${ports[i]}")
        i=$((i + 1))
      done
      ring_args+=("$(IFS=,; echo "${list[*]}")")
    done
    echo "proxy=${SAIO_PROXY_PORT:-${ports[i]}}"
  } >"$ROOT/run/ports"
  for n in $(seq "$REPLICAS"); do
    mkdir -p "$ROOT/srv/$n/d$n" "$ROOT/cache/$n"
  done
  write_configs
  "$PY" "$HERE/saio/make_rings.py" "$ROOT/etc" "$REPLICAS" "${ring_args[@]}" \
    >"$ROOT/log/rings.log" 2>&1 ||
    die "ring build failed; see $ROOT/log/rings.log"
  local d
  for d in $(daemons); do spawn_daemon "$d"; done
  if [ -n "${SAIO_WATCH_PID:-}" ]; then start_watchdog "$SAIO_WATCH_PID"; fi
  if ! wait_ready; then cmd_stop >/dev/null 2>&1; exit 1; fi
  echo "saio: ready on http://127.0.0.1:$(port_of proxy) in $((SECONDS - t0))s (env: $ROOT/saio.env)"
}

cmd_stop() {
  [ -d "$ROOT/run" ] || return 0
  local d rc=0
  if [ -z "${SAIO_IN_WATCHDOG:-}" ]; then
    local w
    w=$(cat "$ROOT/run/watchdog.pid" 2>/dev/null || true)
    # The watchdog is a bash subshell of this script (its command line does
    # not name the root); check it is one before signalling.
    if [ -n "$w" ] && tr '\0' ' ' <"/proc/$w/cmdline" 2>/dev/null |
        grep -q 'saio.sh'; then
      kill -TERM "$w" 2>/dev/null || true
    fi
    rm -f "$ROOT/run/watchdog.pid"
  fi
  [ -f "$ROOT/run/ports" ] || return 0
  for d in $(daemons | tac); do
    stop_pid "$(pid_of "$d")" || rc=1
    rm -f "$ROOT/run/$d.pid"
  done
  return $rc
}

cmd_status() {
  local d rc=0
  [ -f "$ROOT/run/ports" ] || die "not set up; run start first"
  for d in $(daemons); do
    if is_ours "$(pid_of "$d")"; then
      echo "$d running (pid $(pid_of "$d"), port $(port_of "$d"))"
    else
      echo "$d stopped"
      rc=1
    fi
  done
  return $rc
}

cmd_fault() {
  [ -d "$ROOT/run" ] || die "not set up; run start first"
  case "$1" in
    clear) rm -f "$ROOT/run/fault.json" "$ROOT/run/fault.hits" ;;
    hits) echo "$(cat "$ROOT/run/fault.hits" 2>/dev/null || echo 0)" ;;
    *)
      rm -f "$ROOT/run/fault.hits"
      printf '%s\n' "$1" >"$ROOT/run/fault.json.tmp"
      mv "$ROOT/run/fault.json.tmp" "$ROOT/run/fault.json"
      ;;
  esac
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cat "$ROOT/saio.env" ;;
  stop-daemon) cmd_stop_daemon "${2:?daemon name}" ;;
  kill-daemon) cmd_stop_daemon "${2:?daemon name}" kill ;;
  replicate) shift; cmd_replicate "$@" ;;
  start-daemon) cmd_start_daemon "${2:?daemon name}" ;;
  fault) cmd_fault "${2:?spec, clear or hits}" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
