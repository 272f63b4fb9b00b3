#!/usr/bin/env bash
# The RPM: built by `make rpm` from the committed tree; its file list,
# modes, dependencies and scriptlets; unpacked into a temporary root, the
# installed VHDSR answers sr_get_driver_info and the installed vhdsm-util
# creates, writes, reads and checks a VHD from there. Then the source RPM of
# `make srpm` (its BuildRequires under EL/Fedora names) is rebuilt from
# source with `rpmbuild --rebuild` (no prebuilt binaries: %build compiles the
# tarball, %check runs the base/ suite), and its binaries are used the same
# way.
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

# Unpacks RPM into the directory ROOT and uses the programs from there.
exercise() {
  local rpm=$1 root=$2
  mkdir -p "$root"
  (cd "$root" && rpm2cpio "$rpm" | cpio -idm --quiet)
  local req out
  req='<methodCall><methodName>sr_get_driver_info</methodName><params><param><value><struct><member><name>host_ref</name><value>OpaqueRef:NULL</value></member><member><name>command</name><value>sr_get_driver_info</value></member><member><name>args</name><value><array><data/></array></value></member><member><name>device_config</name><value><struct/></value></member></struct></value></param></params></methodCall>'
  out=$(LD_LIBRARY_PATH="$root/usr/lib64" VHDSM_GC=off "$root/opt/xensource/sm/VHDSR" "$req")
  grep -q '<name>name</name><value>vhdsm VHD</value>' <<<"$out" || fail "VHDSR: $out"
  grep -q '<name>required_api_version</name><value>1.0</value>' <<<"$out" || fail "api version"
  local util=$root/usr/bin/vhdsm-util
  "$util" create -n "$root/t.vhd" -s 64
  printf 'rpm-test-%s' "$rpm" >"$root/in.bin"
  "$util" write -n "$root/t.vhd" -i "$root/in.bin" -o 1048576
  [ "$("$util" read -n "$root/t.vhd" -R 1048576 -c "$(stat -c %s "$root/in.bin")")" = \
    "$(cat "$root/in.bin")" ] || fail "installed vhdsm-util: read back differs"
  [ "$("$util" check -n "$root/t.vhd")" = "$root/t.vhd is valid" ] ||
    fail "installed vhdsm-util check"
  LD_LIBRARY_PATH="$root/usr/lib64" "$root/usr/bin/vhdsm" config check \
    "$root/etc/vhdsm/vhdsm.conf" >/dev/null ||
    fail "the shipped configuration does not validate"
  LD_LIBRARY_PATH="$root/usr/lib64" "$root/usr/sbin/vhdsmd" --help 2>&1 |
    grep -q usage || fail "vhdsmd --help"
  # Installed, the programs find libvhdsm.so in LIBDIR (the spec's %{_libdir}).
  readelf -d "$root/usr/sbin/vhdsmd" | grep -q 'RUNPATH.*/usr/lib64' ||
    fail "vhdsmd's RUNPATH lacks /usr/lib64"
}

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
exercise "$RPM" "$SCRATCH/prebuilt"

# From source. `make srpm` into a build directory of its own, so that the
# SRPM is the one it makes, not make rpm's.
make -s -C "$SRC" srpm BUILD="$SCRATCH/b" >/dev/null
SRC_RPM="$SCRATCH/b/rpm/SRPMS/vhdsm-$VERSION-1.src.rpm"
[ -f "$SRC_RPM" ] || fail "make srpm made no $SRC_RPM"
breqs=$(rpm -qp --requires "$SRC_RPM")
for want in gcc-c++ make pkgconfig libxml2-devel libcurl-devel openssl-devel \
            zlib-devel libuuid-devel isa-l-devel libmicrohttpd-devel inih-devel \
            json-devel systemd-devel gtest-devel; do
  grep -qx "$want" <<<"$breqs" || fail "the SRPM does not BuildRequire $want"
done
# --nodeps: rpm's database on Debian holds none of the EL/Fedora packages the
# spec BuildRequires; `make deps` installed the Debian packages that provide
# the same libraries and pkg-config files.
if ! rpmbuild --rebuild --nodeps --define "_topdir $SCRATCH/top" "$SRC_RPM" \
     >"$SCRATCH/rebuild.log" 2>&1; then
  tail -40 "$SCRATCH/rebuild.log" >&2
  fail "rpmbuild --rebuild of the SRPM"
fi
# It compiled (no prebuilt binaries were there to copy) and %check ran.
grep -Eq '^g\+\+ .* -c vhd/[a-z_]+\.cc ' "$SCRATCH/rebuild.log" ||
  fail "the rebuild compiled nothing"
grep -q 'build/tests/base_tests' "$SCRATCH/rebuild.log" &&
  grep -q '^\[  PASSED  \]' "$SCRATCH/rebuild.log" || fail "%check did not pass"
exercise "$SCRATCH/top/RPMS/x86_64/vhdsm-$VERSION-1.x86_64.rpm" "$SCRATCH/source"
[ -f "$SCRATCH/top/RPMS/x86_64/vhdsm-devel-$VERSION-1.x86_64.rpm" ] ||
  fail "the rebuild made no devel package"
echo "rpm: OK ($(wc -l <<<"$files") files; rebuilt from source)"
