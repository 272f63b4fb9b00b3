#!/usr/bin/env bash
# make fuzz: builds every libFuzzer target tests/fuzz/<component>_*_fuzz.cc
# with clang (fuzzer + ASan + UBSan) and runs each for FUZZ_SECONDS
# (default 60) over its seed corpus tests/fuzz/corpus/<target>/ and its
# regression inputs tests/fuzz/regressions/<target>/ (new inputs go to a
# scratch copy, not the repo). A crash fails the run and leaves the
# reproducer in build-fuzz/<name>-crash-*; add it to the regressions (and
# fix the bug): every `make test` replays them (build/fuzz/*_replay).
#
# The component's sources are compiled by the top-level Makefile into
# build-fuzz/ (clang, -fsanitize=fuzzer-no-link plus the sanitizers), so a
# second run only rebuilds what changed.
#
# Knobs: FUZZ_SECONDS (per target), FUZZ_TARGETS (space-separated target
# names, default all), FUZZ_TIMEOUT (seconds one input may take, 10),
# FUZZ_STATS (a file to which one line per target is appended:
# "<target> executions=N seconds=S crashes=K"), FUZZ_CXX (clang++).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=build-fuzz
mkdir -p "$OUT"
CXX=${FUZZ_CXX:-clang++}
FLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I. -Ihost/include
       -D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE $(pkg-config --cflags libxml-2.0))
NPROC=$(nproc 2>/dev/null || echo 2)

# The component libraries, instrumented for coverage (fuzzer-no-link).
libs_built=""
build_libs() {
  local want=("$@")
  [ "$libs_built" = "${want[*]}" ] && return 0
  make --no-print-directory -j"$NPROC" BUILD="$OUT" CXX="$CXX" SAN=1 \
    OPT="-O1 -g -fsanitize=fuzzer-no-link" WARN="-Wall -Wextra" \
    "${want[@]/#/$OUT/lib/}" >"$OUT/build.log" 2>&1 ||
    { tail -30 "$OUT/build.log" >&2; echo "fuzz: library build failed" >&2;
      exit 1; }
  libs_built="${want[*]}"
}

status=0
for src in tests/fuzz/*_fuzz.cc; do
  [ -f "$src" ] || continue
  name=$(basename "$src" .cc)
  target=${name%_fuzz}
  component=${name%%_*}
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $target "* ]]; then
    continue
  fi
  case "$component" in
    vhd)
      build_libs libvhdcore.a libvhdsm-base.a
      link=("$OUT/lib/libvhdcore.a" "$OUT/lib/libvhdsm-base.a" -luuid) ;;
    util)
      # vhdsm-util's commands (all but main.cc), instrumented like the rest.
      build_libs libvhdcore.a libvhdsm-base.a
      util_srcs=$(ls vhd/util/*.cc | grep -v '/main\.cc$')
      link=($util_srcs "$OUT/lib/libvhdcore.a" "$OUT/lib/libvhdsm-base.a"
            -luuid) ;;
    xmlrpc)
      build_libs libvhdsm-xmlrpc.a libvhdsm-base.a
      link=("$OUT/lib/libvhdsm-xmlrpc.a" "$OUT/lib/libvhdsm-base.a" -lxml2 -lmicrohttpd -lcurl -pthread) ;;
    plugin|sr)
      archives=(libvhdsm-host.a libvhdsm-image.a libvhdsm-sm.a
                libvhdsm-upload.a libvhdsm-xmlrpc.a libvhdcore.a
                libvhdsm-base.a)
      build_libs "${archives[@]}"
      link=(-Wl,--whole-archive "$OUT/lib/libvhdsm-host.a"
            -Wl,--no-whole-archive -Wl,--start-group
            "${archives[@]/#/$OUT/lib/}" -Wl,--end-group
            -lxml2 -lmicrohttpd -luuid -linih -lisal -lcurl -lssl -lcrypto -lz
            -pthread) ;;
    *) echo "fuzz: unknown component for $src" >&2; exit 1 ;;
  esac
  echo "=== building $name"
  "$CXX" "${FLAGS[@]}" "$src" "${link[@]}" -o "$OUT/$name"
  scratch="$OUT/corpus-$target"
  rm -rf "$scratch"; mkdir -p "$scratch"
  dirs=()
  for d in "tests/fuzz/corpus/$target" "tests/fuzz/regressions/$target"; do
    [ -d "$d" ] && dirs+=("../$d")
  done
  rm -f "$OUT/$name"-crash-* "$OUT/$name"-leak-* "$OUT/$name"-timeout-* \
        "$OUT/$name"-oom-*
  echo "=== running $name for ${SECONDS_EACH}s"
  t0=$SECONDS
  (cd "$OUT" && ./"$name" -max_total_time="$SECONDS_EACH" \
     -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1 \
     -artifact_prefix="$PWD/$name"- "corpus-$target" "${dirs[@]}" \
     >"$name.log" 2>&1) || true
  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-|Done' \
    "$OUT/$name.log" || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$name.log" |
          tail -1)
  crashes=0
  if ls "$OUT/$name"-crash-* "$OUT/$name"-leak-* "$OUT/$name"-timeout-* \
        "$OUT/$name"-oom-* >/dev/null 2>&1; then
    crashes=$(ls "$OUT/$name"-crash-* "$OUT/$name"-leak-* \
              "$OUT/$name"-timeout-* "$OUT/$name"-oom-* 2>/dev/null | wc -l)
    echo "fuzz: $name found a failure (see $OUT/$name-* and $OUT/$name.log)" >&2
    status=1
  elif [ -z "$execs" ]; then
    # No final stats and no artifact: the fuzzer did not run properly.
    echo "fuzz: $name did not finish (see $OUT/$name.log)" >&2
    tail -5 "$OUT/$name.log" >&2
    status=1
  fi
  if [ -n "${FUZZ_STATS:-}" ]; then
    echo "$target executions=${execs:-0} seconds=$((SECONDS - t0)) crashes=$crashes" \
      >>"$FUZZ_STATS"
  fi
done
exit $status
