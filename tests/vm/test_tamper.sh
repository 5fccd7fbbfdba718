#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Tamper resistance with BPF LSM, inside the test VM (tests/vm/run.sh): an
# agent running as root tries to leave its cgroup, unpin pinfold's
# programs, call bpf(), signal or trace tasks outside its instance and load
# kernel code. Each attempt must fail with its errno and leave exactly one
# audit record (and no other denial); each has an allowed twin, confined
# or not, so that a rule denying everything, or a call that fails anyway,
# fails the suite.
set -u
SUITE=test_tamper
POLICY=tests/vm/tamper-policy.yaml
AUDIT=/tmp/tamper-audit.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

TAMPER=/pinfold/build/tests/pf-tamper
S=/srv/tamper
PINS=/sys/fs/bpf/pinfold

# records ACTION DECISION: records in the audit file with that action and decision
records()
{
	grep -F "\"action\":\"$1\"" $AUDIT | grep -cF "\"decision\":\"$2\""
}

# check NAME EXPECT ACTION RECORDS MATCH: the last run said EXPECT, left RECORDS
# deny records of ACTION that hold the text MATCH, and no other denial
check()
{
	name=$1 expect=$2 action=$3 want=$4 match=$5
	if [ "$out" != "$expect" ]; then
		bad "$name" "said '$out', expected '$expect'; stderr: $(cat /tmp/stderr)"
		return
	fi
	n=$(grep -F "\"action\":\"$action\"" $AUDIT | grep -F "$match" |
		grep -cF '"decision":"deny"')
	all=$(grep -cF '"decision":"deny"' $AUDIT)
	if [ "$n" != "$want" ] || [ "$all" != "$want" ]; then
		bad "$name" "$n deny records of $action with $match, $all in all, expected $want:
$(cat $AUDIT)"
		return
	fi
	ok "$name"
}

# confined AGENT CMD...: run CMD as AGENT with a fresh audit file; its output in $out
confined()
{
	agent=$1
	shift
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent "$agent" --audit $AUDIT --no-watch -- "$@" \
		2>/tmp/stderr)
}

need_bpf_lsm
rm -rf $S
mkdir -p $S
echo data > $S/a.txt
echo data > $S/b.txt
printf 'not a module' > $S/dummy.ko
[ "$(id -u)" = 0 ] || {
	echo "SKIP $SUITE: the agent must run as root"
	exit 77
}

# --- leaving the cgroup -----------------------------------------------------
# cgroupfs is in no class: neither cgroup.procs nor a new cgroup can be written
confined rooted $TAMPER join-cgroup /sys/fs/cgroup/cgroup.procs
check cgroup-procs-write-denied "err EACCES" open-write 1 '"object":"/sys/fs/cgroup/cgroup.procs"'
confined rooted $PROBE mkdir /sys/fs/cgroup/escape
check cgroup-mkdir-denied "err EACCES" create 1 '"object":"/sys/fs/cgroup/escape"'
[ ! -e /sys/fs/cgroup/escape ] && ok cgroup-mkdir-made-nothing ||
	bad cgroup-mkdir-made-nothing "/sys/fs/cgroup/escape exists"
confined rooted $PROBE write $S/a.txt
check scratch-write-allowed ok open-write 0 '"object"'
out=$($TAMPER join-cgroup /sys/fs/cgroup/cgroup.procs)
[ "$out" = ok ] && ok cgroup-procs-write-unconfined-works ||
	bad cgroup-procs-write-unconfined-works "said '$out': the test proves nothing"

# --- unpinning --------------------------------------------------------------
# pinfold's maps and links stay pinned between runs: no agent removes them
pin=$PINS/pf_config
if [ -e $pin ]; then
	confined rooted $PROBE unlink $pin
	check pin-unlink-denied "err EACCES" unlink 1 "\"object\":\"$pin\""
	confined rooted $PROBE rename $pin $PINS/moved
	check pin-rename-denied "err EACCES" rename 1 "\"object\":\"$pin\""
	[ -e $pin ] && [ ! -e $PINS/moved ] && ok pin-still-there ||
		bad pin-still-there "$(ls $PINS)"
	confined rooted $PROBE unlink $S/b.txt
	check scratch-unlink-allowed ok unlink 0 '"object"'
else
	bad pins-present "no $pin after a run: $(ls $PINS 2>&1)"
fi

# --- bpf() ------------------------------------------------------------------
confined rooted $TAMPER bpf-next-id -
check bpf-prog-next-id-denied "err EPERM" bpf 1 '"object":"bpf()"'
confined rooted $TAMPER bpf-map-fd 1
check bpf-map-fd-by-id-denied "err EPERM" bpf 1 '"object":"bpf()"'
out=$($TAMPER bpf-next-id -)
[ "$out" = ok ] && ok bpf-unconfined-works ||
	bad bpf-unconfined-works "said '$out': the test proves nothing"
# audit mode reports it and lets it through
confined rooted-audit $TAMPER bpf-next-id -
n=$(grep -F '"action":"bpf"' $AUDIT | grep -cF '"applied":false')
[ "$out" = ok ] && [ "$n" = 1 ] && ok bpf-audit-mode-reported ||
	bad bpf-audit-mode-reported "said '$out', $n not-applied bpf records: $(cat $AUDIT)"

# --- signals ----------------------------------------------------------------
sleep 1000 &
outside=$!
for sig in 0 15 9; do
	confined rooted $TAMPER kill $outside $sig
	check signal-$sig-outside-denied "err EPERM" signal 1 "\"target_pid\":$outside,"
done
kill -0 $outside 2>/dev/null && ok signalled-task-alive ||
	bad signalled-task-alive "pid $outside is gone"
n=$(grep -cF '"signal":9' $AUDIT)
[ "$n" = 1 ] && ok signal-number-recorded || bad signal-number-recorded "$(cat $AUDIT)"
confined rooted $TAMPER kill-child 15
check signal-own-child-allowed ok signal 0 '"object"'
# the agent's parent is pinfold run itself: it lives on and records the exit
confined rooted-shell /bin/sh -c "$TAMPER kill \$PPID 15"
check signal-launcher-denied "err EPERM" signal 1 '"object":"pid '
grep -qF '"kind":"instance-exit"' $AUDIT && ok launcher-survived-signal ||
	bad launcher-survived-signal "no instance-exit record: $(cat $AUDIT)"

# --- ptrace and another task's memory ----------------------------------------
confined rooted $TAMPER ptrace $outside
check ptrace-outside-denied "err EPERM" ptrace 1 "\"target_pid\":$outside,"
confined rooted $TAMPER ptrace-child -
check ptrace-own-child-allowed ok ptrace 0 '"object"'
confined rooted $TAMPER vm-read $outside 400000
check vm-read-outside-denied "err EPERM" ptrace 1 "\"target_pid\":$outside,"
# /proc is in no class: the open is refused as a file
confined rooted $PROBE read /proc/$outside/mem
check proc-mem-outside-denied-as-file "err EACCES" open-read 1 "\"object\":\"/proc/$outside/mem\""
# with /proc readable, the open reaches the ptrace check; the agent's own
# memory opens (reading address 0 then fails: nothing is mapped there)
confined proc-reader $PROBE read /proc/$outside/mem
check proc-mem-outside-denied-as-ptrace "err EACCES" ptrace 1 "\"target_pid\":$outside,"
confined proc-reader $PROBE read /proc/self/mem
check proc-mem-own-opens "err EIO" ptrace 0 '"object"'
kill $outside
wait $outside 2>/dev/null

# --- kernel code -------------------------------------------------------------
confined rooted $TAMPER finit-module $S/dummy.ko
check finit-module-denied "err EPERM" load-module 1 "\"object\":\"$S/dummy.ko\""
confined rooted $TAMPER init-module -
check init-module-denied "err EPERM" load-module 1 '"object":"kernel module"'
out=$($TAMPER finit-module $S/dummy.ko)
case "$out" in
"err EPERM" | ok) bad finit-module-unconfined-reaches-check "said '$out'" ;;
*) ok finit-module-unconfined-reaches-check ;;
esac

finish
