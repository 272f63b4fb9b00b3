#!/usr/bin/env bash
# The layering check: components depend downward only,
#   base <- vhd <- xmlrpc <- upload <- sm <- image <- host
# and the programs inside a component (vhd/util/, upload/cli/) may use their
# own component and those below it, while nothing includes a program.
#
#   scripts/check-layers.sh [ROOT]      (default: the tree this script is in)
#
# Reads every #include "X/..." (and <X/...>) in the sources and headers of
# each component folder under ROOT, where X is a component (vhdsm/ is host's
# public header directory, host/include/vhdsm/) or tests/ or bench/. Prints
# each include that points up or sideways as FILE:LINE: C includes X/... and
# exits 1; exits 0 when there is none. tests/ and bench/ are not checked:
# they may use any component.
set -euo pipefail

ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}

# Includes that point up today and are being removed (issue 15): image/
# reads the host's configuration, and smapi.cc names the image service. Each
# entry is "FILE -> INCLUDE". An entry that no longer matches an include in
# the tree fails the check too, so that the list only shrinks: delete it.
KNOWN_VIOLATIONS=(
)

# The components, lowest first; a file may include its own component and any
# component before its own here. A program folder (vhd/util/, upload/cli/)
# ranks with its component, and only its own files may include it.
LAYERS="base vhd xmlrpc upload sm image host"
PROGRAMS="vhd/util upload/cli"

cd "$ROOT"
layer_dirs=()
for l in $LAYERS; do
  if [ -d "$l" ]; then layer_dirs+=("$l"); fi
done
if [ ${#layer_dirs[@]} -eq 0 ]; then
  echo "check-layers: no component folders under $ROOT" >&2
  exit 2
fi

# FILE:LINE:TEXT of every include that names a project folder.
# (grep finding none is no error.)
{
  grep -rnHE --include='*.cc' --include='*.h' \
    '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](base|vhd|xmlrpc|upload|sm|image|host|vhdsm|tests|bench)/' \
    "${layer_dirs[@]}" || [ $? -eq 1 ]
} | sort -t: -k1,1 -k2,2n |
  awk -v layers="$LAYERS" -v programs="$PROGRAMS" \
      -v known="$(printf '%s\n' "${KNOWN_VIOLATIONS[@]}")" '
    function component(path,   i) {
      for (i = 1; i <= np; ++i)
        if (index(path, prog[i] "/") == 1) return prog[i]
      sub(/\/.*/, "", path)
      return path
    }
    function allowed(from, to,   f) {
      if (from == to) return 1
      # A program folder is no layer (not in rank): only its own files.
      f = from
      sub(/\/.*/, "", f)
      return (to in rank) && rank[to] <= rank[f]
    }
    BEGIN {
      n = split(layers, l, " ")
      for (i = 1; i <= n; ++i) rank[l[i]] = i
      np = split(programs, prog, " ")
      nk = split(known, k, "\n")
      for (i = 1; i <= nk; ++i) if (k[i] != "") is_known[k[i]] = 1
    }
    {
      file = $0; sub(/:.*/, "", file)
      line = $0; sub(/^[^:]*:/, "", line); sub(/:.*/, "", line)
      inc = $0; sub(/^[^<"]*[<"]/, "", inc); sub(/[">].*/, "", inc)
      from = component(file)
      to = inc ~ /^vhdsm\// ? "host" : component(inc)
      if (allowed(from, to)) next
      if ((file " -> " inc) in is_known) { seen[file " -> " inc] = 1; next }
      printf "%s:%s: %s includes %s\n", file, line, from, inc
      ++bad
    }
    END {
      for (e in is_known) {
        if (!(e in seen)) {
          print "known violation gone, delete it from scripts/check-layers.sh: " e
          ++bad
        }
      }
      if (bad) {
        printf "check-layers: %d problem(s); order: %s\n", bad, layers > "/dev/stderr"
        exit 1
      }
      print "check-layers: OK"
    }'
