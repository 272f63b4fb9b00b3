#!/usr/bin/env bash
# Installs every Debian package that the build, the tests and the benchmarks
# need. Quick when everything is already there: apt-get runs only for what is
# missing.
set -euo pipefail

packages=(
  # build
  g++ make pkg-config clang clang-format
  libgtest-dev libbenchmark-dev
  libxml2-dev libcurl4-openssl-dev libssl-dev zlib1g-dev uuid-dev
  nlohmann-json3-dev libinih-dev libsystemd-dev
  # independent VHD readers used as test oracles
  qemu-utils libvhdi-utils libvhdi-dev python3-libvhdi fuse3
  # real clients and tools the tests drive
  python3 time
  # the reliability harness (scripts/reliability.sh): crash points (strace),
  # memcheck over VHDSR (valgrind)
  strace valgrind
  # packaging
  rpm cpio
  # systemd-analyze: tests/integration/systemd_unit_test.py scores and
  # expands rpm/vhdsmd.service with it (the package is systemd)
  systemd
  # xmlrpc/: HTTP server library and a second real XML-RPC client (xmlrpc-c)
  libmicrohttpd-dev xmlrpc-api-utils
  # upload/: ISA-L (igzip) deflate, JSON, libdeflate (benchmark only)
  libisal-dev nlohmann-json3-dev libdeflate-dev
  # upload/ tests and bench: a real Swift all-in-one (scripts/saio.sh),
  # python-swiftclient as the independent client, curl, pigz as a peer
  swift swift-proxy swift-account swift-container swift-object
  python3-swiftclient memcached curl pigz openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
