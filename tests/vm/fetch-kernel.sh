#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Fetch Debian's generic 6.1 kernel for the test VM, without installing it.
#
#   tests/vm/fetch-kernel.sh
#
# Picks the newest linux-image-6.1.0-N-amd64 that apt knows (never -cloud or -rt,
# which lack drivers or change scheduling), downloads the .deb into build/vm/ with
# `apt-get download` and extracts only boot/vmlinuz-*, boot/config-* and the few modules
# that network tests in the guest need (veth, dummy: built as modules in Debian) with
# dpkg-deb. Results: build/vm/vmlinuz, build/vm/config (the kernel's .config),
# build/vm/modules/*.ko, build/vm/kernel-version (e.g. "6.1.0-57-amd64 6.1.192-3").
# Cached: does nothing when build/vm/vmlinuz exists; delete it to fetch again.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/build/vm"

[ -s "$out/vmlinuz" ] && exit 0

candidates()
{
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		cut -d' ' -f1 | sort -rV
}

pkgs=$(candidates)
if [ -z "$pkgs" ]; then
	echo "fetch-kernel: no linux-image-6.1.0-*-amd64 known to apt, running apt-get update" >&2
	apt-get update -qq
	pkgs=$(candidates)
fi
if [ -z "$pkgs" ]; then
	echo "fetch-kernel: no linux-image-6.1.0-*-amd64 package found" >&2
	exit 1
fi

mkdir -p "$out/deb"
tmp=$(mktemp -d "$out/extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Newest first; fall back to an older one if a download fails (a mirror mid-update).
for pkg in $pkgs; do
	rm -f "$out"/deb/*.deb
	# apt warns when its _apt user cannot write here; the download still works.
	(cd "$out/deb" && apt-get download -q "$pkg") 2>&1 |
		grep -v '^W: Download is performed unsandboxed' >&2 || true
	deb=
	for f in "$out"/deb/"$pkg"_*.deb; do
		[ -e "$f" ] && deb=$f
	done
	[ -n "$deb" ] && break
	echo "fetch-kernel: download of $pkg failed, trying an older one" >&2
done
if [ -z "${deb:-}" ]; then
	echo "fetch-kernel: could not download any linux-image-6.1.0-*-amd64" >&2
	exit 1
fi

kver=${pkg#linux-image-}
moddir=./lib/modules/$kver/kernel/drivers/net
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/vmlinuz-$kver" "./boot/config-$kver" \
	"$moddir/veth.ko" "$moddir/dummy.ko"
debver=$(dpkg-deb -f "$deb" Version)

mv "$tmp/boot/config-$kver" "$out/config"
rm -rf "$out/modules"
mkdir -p "$out/modules"
mv "$tmp/$moddir"/*.ko "$out/modules/"
echo "$kver $debver" > "$out/kernel-version"
# vmlinuz last: its presence marks a complete fetch.
mv "$tmp/boot/vmlinuz-$kver" "$out/vmlinuz"
rm -f "$deb"
echo "fetch-kernel: $kver ($debver) in $out/vmlinuz" >&2
