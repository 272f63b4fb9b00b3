#!/usr/bin/env bash
# make fuzz: builds every libFuzzer target tests/fuzz/<component>_*_fuzz.cc
# with clang (fuzzer + ASan + UBSan), linking that component's sources, and
# runs each for FUZZ_SECONDS (default 60) over its seed corpus
# tests/fuzz/corpus/<target>/ (new inputs go to a scratch copy, not the repo).
# A crash fails the run and leaves the reproducer in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=build-fuzz
mkdir -p "$OUT"
CXX=${FUZZ_CXX:-clang++}
FLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I. -Iplugin/include
       -D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE $(pkg-config --cflags libxml-2.0))

status=0
for src in tests/fuzz/*_fuzz.cc; do
  [ -f "$src" ] || continue
  name=$(basename "$src" .cc)
  target=${name%_fuzz}
  component=${name%%_*}
  libs=()
  case "$component" in
    vhd) srcs=(vhd/*.cc); libs=(-luuid) ;;
    xmlrpc) srcs=(xmlrpc/*.cc); libs=(-lxml2 -lmicrohttpd -lcurl -pthread) ;;
    *) echo "fuzz: unknown component for $src" >&2; exit 1 ;;
  esac
  echo "=== building $name"
  "$CXX" "${FLAGS[@]}" "$src" "${srcs[@]}" "${libs[@]}" -o "$OUT/$name"
  scratch="$OUT/corpus-$target"
  rm -rf "$scratch"; mkdir -p "$scratch"
  seeds="tests/fuzz/corpus/$target"
  [ -d "$seeds" ] || seeds=""
  echo "=== running $name for ${SECONDS_EACH}s"
  if ! (cd "$OUT" && ./"$name" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix=./"$name"- "corpus-$target" ${seeds:+"../$seeds"} 2>&1 |
        grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-|Done'); then
    :
  fi
  if ls "$OUT/$name"-crash-* "$OUT/$name"-leak-* "$OUT/$name"-timeout-* >/dev/null 2>&1; then
    echo "fuzz: $name found a failure (see $OUT/$name-*)" >&2
    status=1
  fi
done
exit $status
