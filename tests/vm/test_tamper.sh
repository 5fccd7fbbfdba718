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
AUDIT=/tmp/pf-audit/tamper.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

TAMPER=/pinfold/build/tests/pf-tamper
GUARD=/pinfold/build/tests/pf-guard
S=/srv/tamper
PINS=/sys/fs/bpf/pinfold

# records ACTION DECISION: records in the audit file with that action and decision
records()
{
	grep -F "\"action\":\"$1\"" $AUDIT | grep -cF "\"decision\":\"$2\""
}

# check NAME EXPECT ACTION RECORDS MATCH [MATCH2]: the last run said EXPECT, left
# RECORDS deny records of ACTION that hold the text MATCH (and MATCH2), and no
# other denial
check()
{
	name=$1 expect=$2 action=$3 want=$4 match=$5 match2=${6:-}
	if [ "$out" != "$expect" ]; then
		bad "$name" "said '$out', expected '$expect'; stderr: $(cat /tmp/stderr)"
		return
	fi
	n=$(grep -F "\"action\":\"$action\"" $AUDIT | grep -F "$match" | grep -F "$match2" |
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
# pinfold's maps and links stay pinned between runs: no agent removes them.
# The pin directory is read, not looked into: no task but pinfold looks up a
# name there (the guard, tests/vm/test_selfguard.sh)
pinned() { $GUARD list $PINS | tr ' ' '\n' | grep -qx "$1"; }
pin=$PINS/pf_config
if pinned pf_config; then
	confined rooted $PROBE unlink $pin
	check pin-unlink-denied "err EACCES" unlink 1 "\"object\":\"$pin\""
	confined rooted $PROBE rename $pin $PINS/moved
	check pin-rename-denied "err EACCES" rename 1 "\"object\":\"$pin\""
	pinned pf_config && ! pinned moved && ok pin-still-there ||
		bad pin-still-there "$($GUARD list $PINS)"
	confined rooted $PROBE unlink $S/b.txt
	check scratch-unlink-allowed ok unlink 0 '"object"'
else
	bad pins-present "no $pin after a run: $($GUARD list $PINS 2>&1)"
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

# --- device nodes -------------------------------------------------------------
# a device node opens the device wherever it is made, so no class makes one
# creatable: /dev/null's numbers are harmless, a loop device's are not
NEVER='"reason_code":"never"'
confined rooted $TAMPER mknod $S/null c 1 3
check mknod-char-denied "err EPERM" create 1 "\"object\":\"$S/null\"" "$NEVER"
[ ! -e $S/null ] && ok mknod-char-made-nothing || bad mknod-char-made-nothing "$(ls -l $S/null)"
confined rooted $TAMPER mknod $S/loop b 7 0
check mknod-block-denied "err EPERM" create 1 "\"object\":\"$S/loop\"" "$NEVER"
[ ! -e $S/loop ] && ok mknod-block-made-nothing || bad mknod-block-made-nothing "$(ls -l $S/loop)"
# a FIFO or a plain file is judged by create as before: allowed where writable...
confined rooted $TAMPER mknod $S/fifo p 0 0
check mknod-fifo-allowed ok create 0 '"object"'
[ -p $S/fifo ] && ok mknod-fifo-made || bad mknod-fifo-made "$(ls -l $S)"
confined rooted $TAMPER mknod $S/plain f 0 0
check mknod-regular-allowed ok create 0 '"object"'
# ...refused where the agent may only read, for want of create, not as never
confined rooted $TAMPER mknod /pinfold/build/tests/fifo p 0 0
check mknod-fifo-readonly-denied "err EACCES" create 1 '"object":"/pinfold/build/tests/fifo"'
if grep -qF "$NEVER" $AUDIT; then
	bad mknod-fifo-readonly-not-never "$(cat $AUDIT)"
else
	ok mknod-fifo-readonly-not-never
fi
out=$($TAMPER mknod $S/null2 c 1 3)
[ "$out" = ok ] && [ -c $S/null2 ] && ok mknod-char-unconfined-works ||
	bad mknod-char-unconfined-works "said '$out': the test proves nothing"
rm -f $S/null2 $S/fifo $S/plain

# --- the terminal ---------------------------------------------------------------
# TIOCSTI pushes input into the terminal the agent was started from, for the
# user's shell to run once the agent exits. pty-run gives the agent a terminal
# of its own as its controlling one and stdin, and says what was left there.
# tty AGENT OP TEXT: pf-tamper OP 0 TEXT as AGENT on such a terminal; its line in
# $out, the terminal's in $got
tty()
{
	: > $AUDIT
	all=$($TAMPER pty-run $PF run --policy $POLICY --agent $1 --audit $AUDIT \
		--no-watch -- $TAMPER $2 0 "$3" 2>/tmp/stderr)
	out=$(echo "$all" | sed -n 1p)
	got=$(echo "$all" | sed -n 2p)
}
# pushed NAME WHAT: the terminal held WHAT (a line, or "nothing") after the agent
pushed()
{
	[ "$got" = "pushed $2" ] && ok "$1" || bad "$1" "the terminal holds '$got'"
}
PTS='"object":"/dev/pts/'
tty rooted tiocsti "echo pwned"
check tiocsti-denied "err EPERM" ioctl 1 "$PTS" "$NEVER"
pushed tiocsti-pushed-nothing nothing
tty rooted tioclinux -
check tioclinux-denied "err EPERM" ioctl 1 "$PTS" "$NEVER"
# other ioctls on the terminal stay free (this one reads its settings)
tty rooted tcgets -
check tcgets-allowed ok ioctl 0 '"object"'
# audit mode reports the push and lets it through: one ioctl a byte, each
# reported (10 bytes and the newline)
tty rooted-audit tiocsti "echo pwned"
n=$(grep -F '"action":"ioctl"' $AUDIT | grep -cF '"applied":false')
[ "$out" = ok ] && [ "$n" = 11 ] && ok tiocsti-audit-mode-reported ||
	bad tiocsti-audit-mode-reported "said '$out', $n not-applied ioctl records: $(cat $AUDIT)"
pushed tiocsti-audit-mode-pushed "echo pwned"
out=$($TAMPER pty-run $TAMPER tiocsti 0 "echo pwned" | tr '\n' ,)
[ "$out" = "ok,pushed echo pwned," ] && ok tiocsti-unconfined-works ||
	bad tiocsti-unconfined-works "said '$out': the test proves nothing"
# TIOCLINUX works on a virtual console only: on a pty the kernel says ENOTTY
out=$($TAMPER pty-run $TAMPER tioclinux 0 - | sed -n 1p)
[ "$out" = "err ENOTTY" ] && ok tioclinux-unconfined-reaches-kernel ||
	bad tioclinux-unconfined-reaches-kernel "said '$out'"

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
