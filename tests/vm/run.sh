#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run one test script inside the pinfold test VM and exit with its status.
#
#   tests/vm/run.sh SCRIPT [FILE...]
#
# Fetches Debian's 6.1 kernel once (fetch-kernel.sh), builds the smoke test's BPF
# loader (smoke.mk), rebuilds the initramfs every run so that it holds the current
# build/pinfold and build/tests/* (mkinitramfs.sh; FILEs are added to it, bpftool too),
# boots it under qemu TCG (never KVM: it hangs on the CI hosts) with BPF LSM enabled,
# and runs SCRIPT there under busybox sh, from /pinfold, as root, with PF_VM=1.
# Inside the repository SCRIPT and FILEs appear at /pinfold/<relative path>.
# The guest console streams to stdout and, once the VM is gone, is in build/vm/last.log
# (the last run to end wins when several run at once).
#
# Exit status: the script's, read from the guest's "PF-VM-EXIT <status>" line; 124 when
# the VM times out; 125 when the VM cannot be built or booted or ends without that
# line. Environment: PF_VM_TIMEOUT seconds for the boot and the script (default 300),
# PF_VM_MEM megabytes of guest memory (default 1024), PF_VM_APPEND extra kernel
# arguments (for example "loglevel=7" to see the boot).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/vm"
timeout_s=${PF_VM_TIMEOUT:-300}

die()
{
	echo "vm: $*" >&2
	exit 125
}

[ $# -ge 1 ] || {
	echo "usage: $0 SCRIPT [FILE...]" >&2
	exit 2
}
script=$(realpath "$1") || die "$1: no such file"
[ -f "$script" ] || die "$1: no such file"
case "$script" in
*[[:space:]]*) die "$script: the path goes on the kernel command line, it cannot hold spaces" ;;
esac
shift
case "$script" in
"$root"/*) guest_script=/pinfold/${script#"$root"/} ;;
*) guest_script=$script ;;
esac

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (make deps)"
"$here/fetch-kernel.sh" || die "cannot fetch the kernel"

extra=()
if make -s -C "$root" -f tests/vm/smoke.mk >&2; then
	extra+=("$out/vm_lsm_smoke")
else
	echo "vm: warning: cannot build the smoke test's loader, image has none" >&2
fi
bpftool=$(command -v bpftool) && extra+=("$bpftool")

# Per-run files, so that runs at the same time do not mix; the log is copied to
# build/vm/last.log at the end.
run=$(mktemp -d "$out/run.XXXXXX") || die "cannot make a run directory in $out"
trap 'rm -rf "$run"' EXIT
initrd="$run/initramfs.cpio.gz"
log="$run/console.log"
"$here/mkinitramfs.sh" "$initrd" "$script" "${extra[@]}" "$@" || die "cannot build the initramfs"

echo "vm: booting $(cut -d' ' -f1 "$out/kernel-version") for $guest_script (timeout ${timeout_s}s)" >&2
start=$(date +%s)
# -cpu max under TCG, -m/-smp small enough for CI; no network device: tests use
# loopback and network namespaces. The serial console goes to stdout and to the log.
# -display none rather than -nographic: with -nographic SeaBIOS also writes to the
# serial port, terminal resets included.
# timeout runs qemu in a process group of its own, which a ^C or the TERM of an outer
# timeout does not reach: pass those on, or qemu would outlive us.
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
	-machine q35 -accel tcg -cpu max -m "${PF_VM_MEM:-1024}" -smp 2 \
	-nodefaults -no-user-config -display none -no-reboot \
	-chardev "stdio,id=con,signal=off,logfile=$log" -serial chardev:con -monitor none \
	-kernel "$out/vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 lsm=lockdown,capability,landlock,bpf panic=-1 quiet pf.script=$guest_script ${PF_VM_APPEND:-}" \
	</dev/null &
qemu=$!
trap 'kill -TERM $qemu 2>/dev/null; wait $qemu; rm -rf "$run"; exit 130' INT TERM HUP
wait $qemu
qemu_status=$?
trap - INT TERM HUP
secs=$(($(date +%s) - start))
cp "$log" "$out/last.log.$$" && mv "$out/last.log.$$" "$out/last.log"
log="$out/last.log"

if [ $qemu_status -eq 124 ]; then
	echo "vm: timed out after ${timeout_s}s (PF_VM_TIMEOUT), see $log" >&2
	exit 124
fi
status=$(tr -d '\r' < "$log" | sed -n 's/^PF-VM-EXIT \([0-9][0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$status" ]; then
	echo "vm: the guest ended without a PF-VM-EXIT line (qemu exit $qemu_status, ${secs}s)," \
		"see $log" >&2
	exit 125
fi
echo "vm: $guest_script exited $status after ${secs}s" >&2
exit "$status"
