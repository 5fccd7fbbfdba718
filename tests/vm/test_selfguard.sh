#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guard with BPF LSM, inside the test VM (tests/vm/run.sh): while an agent
# runs, a root process that is not pinfold (this shell, pf-guard, pf-probe,
# pf-tamper, bpftool, a copy of the pinfold binary) tries to reach pinfold's
# kernel objects: descriptors by id, its pins (directly, through a bind
# mount, through symbolic links), unlinking or renaming them, unmounting
# their bpffs, and a pinfold process's descriptors and memory. Each attempt
# must fail; each has a twin on an object of the test's own that succeeds,
# so that a call failing anyway passes nothing. Then the agent is still
# denied what its policy denies, pinfold adopts its state in a second run
# and unloads it, and only then do the same calls reach the kernel.
set -u
SUITE=test_selfguard
POLICY=tests/vm/tamper-policy.yaml
AUDIT=/tmp/pf-audit/selfguard.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

GUARD=/pinfold/build/tests/pf-guard
TAMPER=/pinfold/build/tests/pf-tamper
BPFFS=/sys/fs/bpf
PINS=$BPFFS/pinfold
OWN=$BPFFS/pf-guard-own
S=/srv/tamper
SECRET=/srv/selfguard/secret

# expect NAME WANT CMD...: CMD's line of output is WANT
expect()
{
	name=$1 want=$2
	shift 2
	out=$("$@" 2>&1)
	[ "$out" = "$want" ] && ok "$name" || bad "$name" "said '$out', expected '$want'"
}

# field KEY: the value of KEY=VALUE in $out
field()
{
	echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# at_least NAME KEY MIN [KEY2 WANT2]: $out is "ok ..." with KEY >= MIN (and KEY2 = WANT2)
at_least()
{
	v=$(field "$2")
	if [ "${out%% *}" = ok ] && [ "${v:-0}" -ge "$3" ] &&
		{ [ $# -lt 5 ] || [ "$(field "$4")" = "$5" ]; }; then
		ok "$1"
	else
		bad "$1" "said '$out', expected $2 >= $3${4:+ and $4=${5:-}}"
	fi
}

# pins: the names in the pin directory, "ok" when none (reading it is not
# guarded, looking a name up is: ls looks up each)
pins()
{
	$GUARD list $PINS 2>&1
}

# wait_agent: the pid of the background agent (sleep 1001), in $A; 0 when it never came
wait_agent()
{
	A=0
	i=0
	while [ $i -lt 300 ]; do
		for d in /proc/[0-9]*; do
			[ "$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null)" = "sleep 1001 " ] || continue
			A=${d#/proc/}
			return
		done
		usleep 100000
		i=$((i + 1))
	done
}

need_bpf_lsm
[ "$(id -u)" = 0 ] || {
	echo "SKIP $SUITE: the test must run as root"
	exit 77
}
rm -rf $S /srv/selfguard
mkdir -p $S /srv/selfguard
echo data > $S/a.txt
echo secret > $SECRET

# --- pinfold runs an agent ---------------------------------------------------------
: > $AUDIT
$PF run --policy $POLICY --agent rooted-shell --audit $AUDIT --no-watch -- sleep 1001 \
	2>/tmp/bg.err &
L=$!
wait_agent
if [ "$A" = 0 ]; then
	bad agent-started "no agent after 30 s: $(cat /tmp/bg.err)"
	finish
	exit
fi
ok agent-started
sleep 1000 &
outside=$!

# --- descriptors by id ---------------------------------------------------------------
# every object of the VM is pinfold's until the test makes its own
for kind in map prog link; do
	out=$($GUARD scan $kind)
	at_least $kind-ids-refused refused 10 opened 0
	eval "first_$kind=\$(field first)"
	eval "count_$kind=\$(field refused)"
done
out=$($GUARD own-pin $OWN)
own=${out#ok }
[ "${out%% *}" = ok ] && ok own-map-pinned || bad own-map-pinned "said '$out'"
out=$($GUARD scan map)
if [ "$(field opened)" = 1 ] && [ "$(field names)" = pf_guard_own ] &&
	[ "$(field refused)" = "$count_map" ]; then
	ok own-map-opened-by-id
else
	bad own-map-opened-by-id "said '$out': the scan proves nothing"
fi
expect map-fd-by-id-refused "err EPERM" $GUARD get-fd map "$first_map"
expect prog-fd-by-id-refused "err EPERM" $GUARD get-fd prog "$first_prog"
expect link-fd-by-id-refused "err EPERM" $GUARD get-fd link "$first_link"
expect own-map-fd-by-id "ok" $GUARD get-fd map "$own"

if command -v bpftool > /dev/null; then
	for kind in map prog link; do
		eval "id=\$first_$kind"
		if [ "$id" = 0 ] || out=$(bpftool $kind show id "$id" 2>&1); then
			bad bpftool-$kind-show-refused "id $id: $out"
		else
			ok bpftool-$kind-show-refused
		fi
	done
	if out=$(bpftool map dump pinned $PINS/pf_config 2>&1); then
		bad bpftool-pin-dump-refused "$out"
	else
		ok bpftool-pin-dump-refused
	fi
	out=$(bpftool map show id "$own" 2>&1) && echo "$out" | grep -q pf_guard_own &&
		ok bpftool-own-map-shown || bad bpftool-own-map-shown "$out"
else
	echo "SKIP bpftool checks: bpftool is not in the image"
fi

# --- pins --------------------------------------------------------------------------
expect pin-map-get-refused "err EPERM" $GUARD obj-get $PINS/pf_config
expect pin-link-get-refused "err EPERM" $GUARD obj-get $PINS/link_inode_permission
expect own-pin-get "ok" $GUARD obj-get $OWN
# naming pinfold's binary as our executable, without running it
expect exe-as-pinfold-refused "err EPERM" $GUARD exe-as /pinfold/$PF $PINS/pf_config
# (while pinfold is loaded no task may rename its executable; the same
# call succeeds once it is unloaded: below)
mkdir -p /mnt/bpf
mount -o bind $BPFFS /mnt/bpf
expect pin-get-through-bind-mount-refused "err EPERM" $GUARD obj-get /mnt/bpf/pinfold/pf_config
expect own-pin-get-through-bind-mount "ok" $GUARD obj-get /mnt/bpf/pf-guard-own
ln -s $PINS /tmp/pins-dir
ln -s $PINS/pf_config /tmp/pin-file
ln -s $OWN /tmp/own-pin
expect pin-get-through-dir-symlink-refused "err EPERM" $GUARD obj-get /tmp/pins-dir/pf_config
expect pin-get-through-symlink-refused "err EPERM" $GUARD obj-get /tmp/pin-file
expect own-pin-get-through-symlink "ok" $GUARD obj-get /tmp/own-pin

before=$(pins)
case " $before " in
*" link_inode_permission "*" pf_config "*) ok pins-listed ;;
*) bad pins-listed "$before" ;;
esac
expect pin-unlink-refused "err EPERM" $PROBE unlink $PINS/pf_config
expect pin-unlink-through-bind-mount-refused "err EPERM" $PROBE unlink /mnt/bpf/pinfold/pf_trees
expect pin-rename-refused "err EPERM" $PROBE rename $PINS/pf_config $PINS/moved
expect pin-rename-out-refused "err EPERM" $PROBE rename $PINS/pf_config $BPFFS/moved
expect pin-create-refused "err EPERM" $PROBE mkdir $PINS/new
expect pin-dir-rename-refused "err EPERM" $PROBE rename $PINS $BPFFS/pinfold-moved
rm -rf $PINS 2>/dev/null
[ "$(pins)" = "$before" ] && ok pins-all-there || bad pins-all-there "before: $before; now: $(pins)"
expect own-pin-rename "ok" $PROBE rename $OWN $BPFFS/pf-guard-moved
expect own-pin-rename-back "ok" $PROBE rename $BPFFS/pf-guard-moved $OWN
mkdir $BPFFS/own-dir
expect own-dir-rename "ok" $PROBE rename $BPFFS/own-dir $BPFFS/own-dir2
rmdir $BPFFS/own-dir2

# --- unmounting ----------------------------------------------------------------------
expect bpffs-umount-refused "err EPERM" $GUARD umount $BPFFS now
expect bpffs-umount-detach-refused "err EPERM" $GUARD umount $BPFFS detach
expect bpffs-bind-umount-refused "err EPERM" $GUARD umount /mnt/bpf now
expect sys-umount-detach-refused "err EPERM" $GUARD umount /sys detach
mkdir -p /tmp/t2
mount -t tmpfs tmpfs /tmp/t2
mkdir -p /tmp/t2/b
mount -o bind $BPFFS /tmp/t2/b
expect tree-holding-bpffs-umount-detach-refused "err EPERM" $GUARD umount /tmp/t2 detach
grep -q " $BPFFS bpf " /proc/mounts && ok bpffs-still-mounted ||
	bad bpffs-still-mounted "$(cat /proc/mounts)"
mkdir -p /tmp/ownbpf /tmp/t1
mount -t bpf bpf /tmp/ownbpf
expect own-bpffs-umount "ok" $GUARD umount /tmp/ownbpf now
mount -t tmpfs tmpfs /tmp/t1
mkdir -p /tmp/t1/sub
mount -t tmpfs tmpfs /tmp/t1/sub
expect own-tree-umount-detach "ok" $GUARD umount /tmp/t1 detach

# --- a pinfold process -----------------------------------------------------------------
expect ptrace-pinfold-refused "err EPERM" $TAMPER ptrace $L
expect ptrace-outside "ok" $TAMPER ptrace $outside
expect vm-read-pinfold-refused "err EPERM" $TAMPER vm-read $L 400000
out=$($TAMPER vm-read $outside 400000)
[ "$out" != "err EPERM" ] && ok vm-read-outside-reaches-memory || bad vm-read-outside-reaches-memory "said '$out'"
expect proc-mem-pinfold-refused "err EACCES" $PROBE read /proc/$L/mem
expect proc-mem-outside-opens "err EIO" $PROBE read /proc/$outside/mem
$GUARD hold - > /tmp/hold.out &
H=$!
i=0
while [ ! -s /tmp/hold.out ] && [ $i -lt 50 ]; do
	usleep 100000
	i=$((i + 1))
done
hold_fd=$(sed -n 's/^ok //p' /tmp/hold.out)
out=$($GUARD proc-fds $L)
at_least proc-fd-links-pinfold-refused refused 5 links 0
out=$($GUARD proc-fds $H)
at_least proc-fd-links-own maps 1
expect proc-fd-open-pinfold-refused "err EACCES" $GUARD proc-open $L 3
out=$($GUARD proc-open $H "$hold_fd")
[ "$out" != "err EACCES" ] && ok proc-fd-open-own-reaches-open || bad proc-fd-open-own-reaches-open "said '$out'"
out=$($GUARD getfds $L)
at_least pidfd-getfd-pinfold-refused refused 256 got 0
out=$($GUARD getfds $H)
at_least pidfd-getfd-own maps 1
kill $H $outside
wait $H $outside 2>/dev/null

# --- what pinfold enforces stays, and stays pinfold's -------------------------------------
# a second run, the agent's first still running, adopts the pinned state: no
# program is loaded twice
out=$($PF run --policy $POLICY --agent rooted --audit $AUDIT --no-watch -- $PROBE read $SECRET \
	2>/tmp/stderr)
[ "$out" = "err EACCES" ] && ok agent-still-denied || bad agent-still-denied "said '$out': $(cat /tmp/stderr)"
out=$($PF run --policy $POLICY --agent rooted --audit $AUDIT --no-watch -- $PROBE read $S/a.txt \
	2>/tmp/stderr)
[ "$out" = ok ] && ok agent-still-allowed || bad agent-still-allowed "said '$out': $(cat /tmp/stderr)"
out=$($GUARD scan prog)
[ "$(field refused)" = "$count_prog" ] && [ "$(field opened)" = 0 ] && ok second-run-adopted ||
	bad second-run-adopted "said '$out', $count_prog programs before"

# another binary, the same build: not pinfold
cp $PF /tmp/pinfold-copy
out=$(/tmp/pinfold-copy run --policy $POLICY --agent rooted --audit $AUDIT --no-watch -- \
	$PROBE read $S/a.txt 2>&1)
status=$?
[ $status -ne 0 ] && echo "$out" | grep -q "guarded for the pinfold binary that loaded it" &&
	ok copy-run-refused || bad copy-run-refused "exit $status: $out"
out=$(/tmp/pinfold-copy unload 2>&1)
status=$?
[ $status -ne 0 ] && [ "$(pins)" = "$before" ] && ok copy-unload-refused ||
	bad copy-unload-refused "exit $status: $out; pins: $(pins)"

kill "$A"
wait $L
# the instance's ring was among the maps refused, and went with its slot
out=$($GUARD scan map)
[ "$(field refused)" = $((count_map - 1)) ] && [ "$(field opened)" = 1 ] && ok ring-was-guarded ||
	bad ring-was-guarded "said '$out', $count_map refused while the agent ran"
out=$($PF unload 2>&1)
status=$?
[ $status = 0 ] && [ "$(pins)" = ok ] && ok unload-works || bad unload-works "exit $status: $out; pins: $(pins)"

# --- the guard went with pinfold's programs ---------------------------------------------
# the maps go once the programs that use them are freed, after a grace period
i=0
while :; do
	out=$($GUARD scan map)
	[ "$(field names)" = pf_guard_own ] || [ $i -ge 50 ] && break
	usleep 100000
	i=$((i + 1))
done
[ "$(field refused)" = 0 ] && [ "$(field names)" = pf_guard_own ] && ok ids-free-after-unload ||
	bad ids-free-after-unload "said '$out'"
expect umount-after-unload "ok" $GUARD umount /tmp/t2 detach
expect exe-as-after-unload "ok" $GUARD exe-as /pinfold/$PF $OWN
# the copy now loads, and the guard trusts it and not build/pinfold
out=$(/tmp/pinfold-copy run --policy $POLICY --agent rooted --audit $AUDIT --no-watch -- \
	$PROBE read $S/a.txt 2>/tmp/stderr)
[ "$out" = ok ] && ok copy-loads-once-unloaded || bad copy-loads-once-unloaded "said '$out': $(cat /tmp/stderr)"
out=$($PF unload 2>&1)
status=$?
[ $status -ne 0 ] && [ "$(pins)" != ok ] && ok original-unload-refused-for-copy ||
	bad original-unload-refused-for-copy "exit $status: $out; pins: $(pins)"
out=$(/tmp/pinfold-copy unload 2>&1)
status=$?
[ $status = 0 ] && [ "$(pins)" = ok ] && ok copy-unloads || bad copy-unloads "exit $status: $out"
expect own-pin-unlink "ok" $PROBE unlink $OWN

finish
