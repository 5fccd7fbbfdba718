#!/bin/sh
# Install the Debian 12 packages pinfold needs to build, test and demo.
# Idempotent: installs only what is missing.
set -eu

PKGS="make clang llvm gcc libc6-dev pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
libyaml-dev libjson-c-dev libssl-dev libcmocka-dev qemu-system-x86 busybox-static cpio
nftables iproute2 python3 kmod liburing-dev strace"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run as root (sudo make deps)" >&2
	exit 1
fi
echo "deps: installing$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
