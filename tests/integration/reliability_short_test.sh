#!/usr/bin/env bash
# The reliability harness's short version, part of every `make test`: real
# kills, full disks, stress, fuzz replays, valgrind and security checks,
# bounded to a few minutes; it fails if anything is lost or corrupted.
# `make reliability` runs the full version (scripts/reliability.sh).
set -euo pipefail
exec "$VHDSM_SRC/scripts/reliability.sh" --short "$VHDSM_BUILD"
