#!/usr/bin/env bash
# scripts/check-layers.sh: passes on the tree as it is, and on a copy of the
# tree catches an include that points up (or into a program folder) with its
# file and line, tolerates only the listed known violations, and fails when a
# listed one is gone.
set -euo pipefail
SRC=${VHDSM_SRC:?}
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$SRC/scripts/check-layers.sh" "$SRC" >/dev/null || fail "the tree itself"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fresh() {  # a clean copy of the components and the script in $TMP/t
  rm -rf "$TMP/t" && mkdir -p "$TMP/t/scripts"
  (cd "$SRC" && git ls-files -z base vhd xmlrpc upload sm image host |
     xargs -0 cp --parents -t "$TMP/t")
  cp "$SRC/scripts/check-layers.sh" "$TMP/t/scripts/"
}
check() { bash "$TMP/t/scripts/check-layers.sh" "$TMP/t" >"$TMP/out" 2>&1; }
# The first .cc (or, with h, .h) file directly in a component folder: the
# files themselves may be renamed, the check is about folders.
pick() { (cd "$SRC" && git ls-files "$1/*.${2:-cc}" | grep -v "^$1/.*/" | head -1); }
# Appends an include line to a file of the copy; prints its line number.
add_include() {
  echo "#include $2" >>"$TMP/t/$1"
  wc -l <"$TMP/t/$1"
}
expect_fail() {  # expect_fail WHAT PATTERN
  if check; then fail "$1: passed"; fi
  grep -q -- "$2" "$TMP/out" || fail "$1: $(cat "$TMP/out")"
}

fresh
check || fail "clean copy: $(cat "$TMP/out")"

# Upward: base/ names host/.
f=$(pick base)
n=$(add_include "$f" '"host/host.h"')
expect_fail "base -> host" "^$f:$n: base includes host/host.h"

# Upward by one layer, in a header, with angle brackets.
fresh
f=$(pick xmlrpc h)
n=$(add_include "$f" '<upload/x.h>')
expect_fail "xmlrpc -> upload" "^$f:$n: xmlrpc includes upload/x.h"

# The public C header counts as host/.
fresh
add_include "$(pick sm)" '"vhdsm/plugin.h"' >/dev/null
expect_fail "sm -> vhdsm/" "sm includes vhdsm/plugin.h"

# Program folders: nothing else includes them, not even their component.
fresh
add_include "$(pick vhd)" '"vhd/util/commands.h"' >/dev/null
expect_fail "vhd -> vhd/util" "vhd includes vhd/util/commands.h"
fresh
add_include "$(pick host)" '"upload/cli/x.h"' >/dev/null
expect_fail "host -> upload/cli" "host includes upload/cli/x.h"

# Tests are not a component to depend on.
fresh
add_include "$(pick image)" '"tests/util/test_util.h"' >/dev/null
expect_fail "image -> tests" "image includes tests/util/test_util.h"

# Downward and within a program folder: fine.
fresh
add_include "$(pick host)" '"base/x.h"' >/dev/null
add_include "$(pick vhd/util)" '"vhd/x.h"' >/dev/null
add_include "$(pick vhd/util)" '"base/x.h"' >/dev/null
add_include "$(pick upload/cli)" '"upload/x.h"' >/dev/null
check || fail "downward includes: $(cat "$TMP/out")"

# The list of known violations: a listed one passes; a listed one that is
# gone fails, so the list can only shrink.
f=$(pick base)
list() {
  sed -i "s|^KNOWN_VIOLATIONS=(|&\\n  \"$f -> sm/x.h\"|" "$TMP/t/scripts/check-layers.sh"
}
fresh
list
add_include "$f" '"sm/x.h"' >/dev/null
check || fail "listed violation: $(cat "$TMP/out")"
add_include "$f" '"image/x.h"' >/dev/null
expect_fail "unlisted beside listed" "base includes image/x.h"
fresh
list
expect_fail "stale entry" "known violation gone.*$f -> sm/x.h"

echo "check-layers: OK"
