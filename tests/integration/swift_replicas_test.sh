#!/usr/bin/env bash
# The upload and imaging tests against a Swift as production runs it: three
# object servers (and three account and container servers), each node with
# its own device, every ring with 3 replicas (scripts/saio.sh with
# SAIO_REPLICAS=3; each suite starts and stops its own).
#   1. upload_tests: the kill test (an object server SIGKILLed mid-upload
#      and restarted: the write quorum keeps the upload going, swiftclient
#      reads the image back, and after one replication pass the restarted
#      server alone serves it), one server down throughout, the basic round
#      trips, and the resume suite (listings from 3 container replicas).
#   2. image_task_test.py: image_create end to end through vhdsmd, and the
#      same kill during an image task.
# Fails if a suite fails or a test was skipped.
set -uo pipefail
SRC=${VHDSM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${VHDSM_BUILD:-$SRC/build}
export VHDSM_SRC=$SRC VHDSM_BUILD=$BUILD SAIO_REPLICAS=3
log=$(mktemp -d "${TMPDIR:-/tmp}/vhdsm-replicas-XXXXXX")
trap 'rm -rf "$log"' EXIT
rc=0

"$BUILD/tests/upload_tests" \
  --gtest_filter='Replicas.*:Resume.*:Upload.*:DeleteLargeObject.*:-Upload.MoreThanAThousandSegmentsNestSloManifests' \
  2>&1 | tee "$log/upload"
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
if grep -q '^\[  SKIPPED \]' "$log/upload"; then
  echo "swift_replicas: upload tests were skipped" >&2
  rc=1
fi

/usr/bin/python3 -W ignore::ResourceWarning "$SRC/tests/integration/image_task_test.py" \
  ImageTaskTest.test_vhd_slo_image_equals_the_vdi \
  ImageTaskTest.test_object_server_killed_mid_upload_quorum_keeps_the_image 2>&1 |
  tee "$log/image"
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
if grep -q 'skipped' "$log/image"; then
  echo "swift_replicas: image tests were skipped" >&2
  rc=1
fi
exit $rc
