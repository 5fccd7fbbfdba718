#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Build the initramfs of the pinfold test VM.
#
#   tests/vm/mkinitramfs.sh OUT.cpio.gz SCRIPT [FILE...]
#
# The image (newc cpio, gzip) holds:
#   /init                  tests/vm/init
#   busybox                busybox-static and /bin/sh; /init adds the applet symlinks
#   /pinfold/build/        build/pinfold and every executable in build/tests/
#   /pinfold/tests/        the tests/ tree without C sources (scripts, policies)
#   SCRIPT and FILEs       a path inside the repository goes to /pinfold/<same relative
#                          path>, any other path to the same absolute path; a directory
#                          is copied whole
#   shared libraries       what ldd lists for every ELF file above, the dynamic loader
#                          included, with the host's symlinks (/lib -> usr/lib, ...) kept
#   /lib/modules/pf/*.ko   build/vm/modules/ (veth, dummy), loaded by /init
#   /etc                   minimal passwd, group, hosts, nsswitch.conf
# Needs no root: the console node comes from devtmpfs at boot.
# shellcheck disable=SC3043 # local: dash and busybox sh have it
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 OUT.cpio.gz SCRIPT [FILE...]" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
shift

work=$(mktemp -d "${TMPDIR:-/tmp}/pf-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/root
elfs=$work/elfs
mkdir "$stage"
: > "$elfs"

die()
{
	echo "mkinitramfs: $*" >&2
	exit 1
}

is_elf()
{
	[ -f "$1" ] && [ "$(head -c 4 "$1" | tail -c 3)" = ELF ]
}

# Copy host path $1 to the same path in the image. Every symlink met on the way
# (/lib -> usr/lib, /lib64/ld-linux-x86-64.so.2 -> /lib/...) is recreated and its target
# copied too, so the guest resolves the path as the host does. Only physical host paths
# (no symlink in them) are written under $stage, so no write can escape through an
# absolute symlink created in the image. Recursive: needs `local` (dash, busybox sh).
seen='|'
put_host()
{
	local _p _dir _pp _x _t

	_p=$1
	case "$seen" in
	*"|$_p|"*) return 0 ;;
	esac
	seen="$seen$_p|"
	[ "$_p" = / ] && return 0
	_dir=${_p%/*}
	[ -n "$_dir" ] || _dir=/
	put_host "$_dir"
	_pp=$(cd "$_dir" && pwd -P)
	[ "$_pp" = / ] && _pp=
	_x="$_pp/${_p##*/}"
	if [ -L "$_x" ]; then
		_t=$(readlink "$_x")
		[ -L "$stage$_x" ] || ln -s "$_t" "$stage$_x"
		case "$_t" in
		/*) put_host "$_t" ;;
		*) put_host "$_pp/$_t" ;;
		esac
	elif [ -d "$_x" ]; then
		mkdir -p "$stage$_x"
	elif [ -e "$_x" ]; then
		rm -f "$stage$_x"
		cp -p "$_x" "$stage$_x"
	else
		die "$_p: no such file"
	fi
	return 0
}

# Copy file or directory $1 (host path) to guest path $2, following symlinks.
put_as()
{
	mkdir -p "$stage$(dirname "$2")"
	rm -rf "$stage$2"
	cp -RLp "$1" "$stage$2"
	if [ -d "$1" ]; then
		# "if", not "&&": the loop's status is its last command's, and
		# a last file that is not ELF must not fail the pipeline (set -e)
		find -L "$1" -type f | while read -r f; do
			if is_elf "$f"; then echo "$f" >> "$elfs"; fi
		done
	else
		is_elf "$1" && echo "$1" >> "$elfs"
	fi
	return 0
}

# A path inside the repository goes to /pinfold/<relative path>; any other keeps its path.
put_arg()
{
	local _abs

	[ -e "$1" ] || die "$1: no such file"
	_abs=$(realpath "$1")
	case "$_abs" in
	"$root"/*) put_as "$_abs" "/pinfold/${_abs#"$root"/}" ;;
	*)
		put_host "$_abs"
		is_elf "$_abs" && echo "$_abs" >> "$elfs"
		;;
	esac
	return 0
}

# busybox, laid out like the host (merged /usr or not). /init makes the applet symlinks
# at boot with busybox --install -s: 400 ln calls here would cost more than the boot.
bb=$(command -v busybox) || die "busybox not found (install busybox-static)"
ldd "$bb" >/dev/null 2>&1 && die "$bb is dynamically linked (install busybox-static)"
for d in /bin /sbin /lib /lib64 /usr/bin /usr/sbin /usr/lib; do
	if [ -e "$d" ]; then
		put_host "$d"
	fi
done
put_host "$bb"
[ -e "$stage/bin/busybox" ] || ln -s "$bb" "$stage/bin/busybox"
[ -e "$stage/bin/sh" ] || ln -s /bin/busybox "$stage/bin/sh"

mkdir -p "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/srv" "$stage/run" \
	"$stage/root" "$stage/etc" "$stage/pinfold/build"
cp "$root/tests/vm/init" "$stage/init"
chmod 0755 "$stage/init"

cat > "$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
agent:x:1000:1000:pinfold test agent:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$stage/etc/group" <<'EOF'
root:x:0:
agent:x:1000:
nogroup:x:65534:
EOF
cat > "$stage/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
printf 'passwd: files\ngroup: files\nhosts: files\n' > "$stage/etc/nsswitch.conf"

# The project: build outputs that exist (pinfold may not build yet), and tests/.
if [ -x "$root/build/pinfold" ]; then
	put_as "$root/build/pinfold" /pinfold/build/pinfold
else
	echo "mkinitramfs: warning: build/pinfold not built, image has none" >&2
fi
if [ -d "$root/build/tests" ]; then
	for f in "$root"/build/tests/*; do
		[ -f "$f" ] && [ -x "$f" ] && put_as "$f" "/pinfold/build/tests/$(basename "$f")"
	done
fi
(cd "$root" && find tests -type f ! -name '*.c' ! -name '*.h' ! -name '*.o') |
	while read -r f; do
		mkdir -p "$stage/pinfold/$(dirname "$f")"
		cp -p "$root/$f" "$stage/pinfold/$f"
	done

if [ -d "$root/build/vm/modules" ]; then
	mkdir -p "$stage/lib/modules/pf"
	cp "$root"/build/vm/modules/*.ko "$stage/lib/modules/pf/" 2>/dev/null || true
fi

for f in "$@"; do
	put_arg "$f"
done

# Shared libraries of every ELF file, the dynamic loader included. ldd lists the whole
# closure, so libraries need no ldd of their own.
for f in $(sort -u "$elfs"); do
	libs=$(ldd "$f" 2>/dev/null) || continue
	if echo "$libs" | grep -q 'not found'; then
		die "$f: $(echo "$libs" | grep 'not found' | tr -s ' \t' ' ' | tr '\n' ';')"
	fi
	for lib in $(echo "$libs" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
		put_host "$lib"
	done
done

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 > "$out.tmp"
mv "$out.tmp" "$out"
