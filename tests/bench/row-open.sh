#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# row-open.sh - the open() rows: what pinfold adds to open(2) and close(2)
# of an allowed file, against no program, the floor (a BPF LSM file_open
# program that returns 0) and Landlock, at 1, 100 and 10 000 rules, at
# depths 2, 8 and 24, for files opened once and for one file opened again
# and again. BPF LSM is off on the hosts: the measuring program
# (OUT/bench/openbench, from tests/bench/openbench.c, which says how it
# measures) runs in the test VM (tests/vm/run.sh: qemu TCG, Debian's 6.1
# kernel), with tests/bench/vm-open.sh as the guest's script. Its lines
# come back through the guest's console, prefixed with PF-BENCH; the rest
# of the console is progress, on stderr.
#
# Environment (besides bench.sh's): BENCH_OPEN_ROUNDS (rounds a phase,
# default 25), BENCH_OPEN_FIRST and BENCH_OPEN_REPEAT (opens a trial at
# each depth, default 300 each), BENCH_VM_TIMEOUT (seconds, default 360),
# BENCH_OPEN_RAW=1 (every trial's figures on stderr).
set -u
# shellcheck source=tests/bench/lib.sh
. "$PF_ROOT/tests/bench/lib.sh"

rounds=${BENCH_OPEN_ROUNDS:-25}
first=${BENCH_OPEN_FIRST:-300}
repeat=${BENCH_OPEN_REPEAT:-300}
ob=$BENCH_BIN/openbench

# guest_path FILE: where mkinitramfs.sh puts FILE in the image
guest_path()
{
	local abs

	abs=$(realpath "$1") || return 1
	case $abs in
	"$PF_ROOT"/*) echo "/pinfold/${abs#"$PF_ROOT"/}" ;;
	*) echo "$abs" ;;
	esac
}

[ -x "$ob" ] || bench_fail "open()" "$ob is not built (make bench builds it)"
[ -x "$PINFOLD" ] || bench_fail "open()" "$PINFOLD is not built"
command -v qemu-system-x86_64 >/dev/null ||
	bench_fail "open()" "qemu-system-x86_64 is missing (make deps): no VM, no BPF LSM"

lines=$BENCH_TMP/lines
PF_VM_TIMEOUT=${BENCH_VM_TIMEOUT:-360} \
	PF_VM_APPEND="pf.openbench=$(guest_path "$ob") pf.pinfold=$(guest_path "$PINFOLD") pf.open=$rounds,$first,$repeat,${BENCH_OPEN_RAW:-0}" \
	"$PF_ROOT/tests/vm/run.sh" "$PF_ROOT/tests/bench/vm-open.sh" "$ob" "$PINFOLD" </dev/null |
	tr -d '\r' | awk -v lines="$lines" '
	/^PF-BENCH\t/ { sub(/^PF-BENCH\t/, ""); print > lines; fflush(lines); next }
	{ print > "/dev/stderr"; fflush("/dev/stderr") }'
status=${PIPESTATUS[0]}
[ -f "$lines" ] && cat "$lines"
case $status in
0) exit 0 ;;
124) why="the VM timed out (BENCH_VM_TIMEOUT)" ;;
125) why="the VM could not be built or booted, or ended early (build/vm/last.log)" ;;
*) why="the guest's openbench exited $status" ;;
esac
grep -q $'^fail\t' "$lines" 2>/dev/null || bench_fail_row "open()" "$why"
exit 1
