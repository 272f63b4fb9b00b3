#!/usr/bin/env bash
# The RPM: built by `make rpm` from the committed tree; its file list,
# modes, dependencies and scriptlets; unpacked into a temporary root, the
# installed VHDSR answers sr_get_driver_info and the installed vhdsm-util
# creates and checks a VHD from there.
set -euo pipefail
SRC=${VHDSM_SRC:?}
BUILD=${VHDSM_BUILD:?}
fail() { echo "FAIL: $*" >&2; exit 1; }

make -s -C "$SRC" rpm BUILD="$BUILD" >/dev/null
VERSION=$(cat "$SRC/VERSION")
RPM="$BUILD/rpm/RPMS/x86_64/vhdsm-$VERSION-1.x86_64.rpm"
DEVEL="$BUILD/rpm/RPMS/x86_64/vhdsm-devel-$VERSION-1.x86_64.rpm"
SRPM="$BUILD/rpm/SRPMS/vhdsm-$VERSION-1.src.rpm"
for f in "$RPM" "$DEVEL" "$SRPM"; do [ -f "$f" ] || fail "missing $f"; done

# File list: everything promised, nothing of the build leaking in.
files=$(rpm -qpl "$RPM")
for want in /opt/xensource/sm/VHDSR /usr/lib64/libvhdsm.so.1 /usr/bin/vhdsm-util \
            /usr/bin/vhdsm /usr/sbin/vhdsmd /usr/lib/systemd/system/vhdsmd.service \
            /etc/vhdsm/vhdsm.conf /usr/share/man/man8/vhdsmd.8 \
            /usr/share/man/man8/vhdsm-util.8 /usr/share/man/man8/VHDSR.8 \
            /usr/share/man/man8/vhdsm.8 "/usr/share/licenses/vhdsm-$VERSION/LICENSE"; do
  grep -qx "$want" <<<"$files" || fail "$want not in the package"
done
if grep -E '/usr/lib64/libvhdsm.so$|plugin.h|/tests/|\.o$|\.a$' <<<"$files"; then
  fail "unexpected files in the main package"
fi
devel=$(rpm -qpl "$DEVEL")
grep -qx /usr/lib64/libvhdsm.so <<<"$devel" || fail "devel lacks the .so link"
grep -qx /usr/include/vhdsm/plugin.h <<<"$devel" || fail "devel lacks plugin.h"

# The configuration holds credentials: 0600, and kept on upgrade.
dump=$(rpm -qp --dump "$RPM" | grep '^/etc/vhdsm/vhdsm.conf ')
mode=$(awk '{print $5}' <<<"$dump")
[ "$mode" = 0100600 ] || fail "vhdsm.conf mode $mode"
rpm -qp --configfiles "$RPM" | grep -qx /etc/vhdsm/vhdsm.conf || fail "not %config"
rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM" |
  grep -q '^/etc/vhdsm/vhdsm.conf cn$' || fail "vhdsm.conf is not %config(noreplace)"

# Metadata.
[ "$(rpm -qp --qf '%{NAME} %{VERSION} %{LICENSE}' "$RPM")" = "vhdsm $VERSION Proprietary" ] ||
  fail "name/version/license"
reqs=$(rpm -qp --requires "$RPM")
for lib in libxml2.so.2 libcurl.so.4 libmicrohttpd.so.12 libinih.so.1 libuuid.so.1; do
  grep -q "^$lib" <<<"$reqs" || fail "does not require $lib"
done
scripts=$(rpm -qp --scripts "$RPM")
grep -q '/etc/xapi.conf.d/vhdsm.conf' <<<"$scripts" || fail "no xapi plugin-list scriptlet"
grep -q 'systemctl daemon-reload' <<<"$scripts" || fail "no daemon-reload"
grep -q 'never touched' <<<"$scripts" || fail "uninstall note missing"
if grep -E 'rm -rf|/srv|\.vhd' <<<"$scripts"; then fail "scriptlets touch data"; fi

# Install into a temporary root by unpacking, and use it from there.
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
(cd "$ROOT" && rpm2cpio "$RPM" | cpio -idm --quiet)
export LD_LIBRARY_PATH="$ROOT/usr/lib64"
req='<methodCall><methodName>sr_get_driver_info</methodName><params><param><value><struct><member><name>host_ref</name><value>OpaqueRef:NULL</value></member><member><name>command</name><value>sr_get_driver_info</value></member><member><name>args</name><value><array><data/></array></value></member><member><name>device_config</name><value><struct/></value></member></struct></value></param></params></methodCall>'
out=$(VHDSM_GC=off "$ROOT/opt/xensource/sm/VHDSR" "$req")
grep -q '<name>name</name><value>vhdsm VHD</value>' <<<"$out" || fail "VHDSR: $out"
grep -q '<name>required_api_version</name><value>1.0</value>' <<<"$out" || fail "api version"
"$ROOT/usr/bin/vhdsm-util" create -n "$ROOT/t.vhd" -s 64
[ "$("$ROOT/usr/bin/vhdsm-util" check -n "$ROOT/t.vhd")" = "$ROOT/t.vhd is valid" ] ||
  fail "installed vhdsm-util check"
"$ROOT/usr/bin/vhdsm" config check "$ROOT/etc/vhdsm/vhdsm.conf" >/dev/null ||
  fail "the shipped configuration does not validate"
"$ROOT/usr/sbin/vhdsmd" --help 2>&1 | grep -q usage || fail "vhdsmd --help"
echo "rpm: OK ($(wc -l <<<"$files") files)"
