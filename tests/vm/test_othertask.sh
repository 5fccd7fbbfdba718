#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Actions on other tasks with BPF LSM, inside the test VM (tests/vm/run.sh):
# a confined root agent tries to change the scheduling, I/O priority and
# limits of a task outside its instance, and to aim SIGIO at it through
# F_SETOWN. Each is refused (reason other-task) with exactly one record and
# leaves the target as it was; each has an allowed twin on a child of the
# agent, inside its instance. The outside target is pf-probe await-signal,
# unconfined, which says whether a SIGIO (sent as SIGUSR1) reached it.
set -u
SUITE=test_othertask
POLICY=tests/vm/tamper-policy.yaml
AUDIT=/tmp/pf-audit/othertask.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

# check NAME EXPECT ACTION RECORDS MATCH: the confined probe said EXPECT ($out),
# the audit file holds RECORDS deny records of ACTION that contain MATCH, each
# with reason other-task, and no other denial
check()
{
	name=$1 expect=$2 action=$3 want=$4 match=$5
	n=$(grep -F "\"action\":\"$action\"" $AUDIT | grep -F "$match" |
		grep -F '"reason_code":"other-task"' | grep -cF '"decision":"deny"')
	all=$(grep -cF '"decision":"deny"' $AUDIT)
	if [ "$out" != "$expect" ]; then
		bad "$name" "probe said '$out', expected '$expect'; $(cat /tmp/stderr)"
	elif [ "$n" != "$want" ] || [ "$all" != "$want" ]; then
		bad "$name" "$n other-task deny records of $action with $match ($all denials in \
all), expected $want: $(cat $AUDIT)"
	else
		ok "$name"
	fi
}

# confined PROBE-ARGS...: the probe as a root agent, fresh audit file; its answer in $out
confined()
{
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent rooted --audit $AUDIT --no-watch -- $PROBE "$@" \
		2>/tmp/stderr)
}

# outsider: start an unconfined target, its pid in $T
outsider()
{
	k=$((k + 1))
	$PROBE await-signal 120 > /tmp/target-$k &
	T=$!
	eval "out_$T=/tmp/target-$k"
}

# answer PID: stop the target (in this shell: only it can wait) and put what it
# said in $said ("ok none": no SIGIO came)
answer()
{
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	said=$(eval "cat \$out_$1")
}

# same NAME WHAT WANT GOT: an unconfined look after a case (WHAT) found WANT
same()
{
	[ "$4" = "$3" ] && ok "$1" || bad "$1" "$2 is '$4', expected '$3'"
}

need_bpf_lsm
[ "$(id -u)" = 0 ] || {
	echo "SKIP $SUITE: the agent must run as root (as root, DAC lets it reach any task)"
	exit 77
}
mkdir -p /srv/tamper
k=0

outsider
nice0=$(awk '{print $19}' /proc/$T/stat)
nofile0=$(awk '/^Max open files/ {print $4}' /proc/$T/limits)

# --- scheduling and limits --------------------------------------------------------
# op ACTION: each on the target (refused) and on a child (allowed)
for pair in setnice:setnice ioprio:setioprio setsched:setscheduler \
	setaffinity:setscheduler prlimit:setrlimit; do
	op=${pair%%:*} action=${pair#*:}
	confined $op $T
	check $op-outside-denied "err EPERM" $action 1 "\"target_pid\":$T,"
	confined $op child
	check $op-own-child-allowed ok $action 0 '"object"'
done
same setnice-outside-unchanged "nice of $T" "$nice0" "$(awk '{print $19}' /proc/$T/stat)"
same prlimit-outside-unchanged "RLIMIT_NOFILE of $T" "$nofile0" \
	"$(awk '/^Max open files/ {print $4}' /proc/$T/limits)"
# setpgid reaches only the caller's children, which are inside its instance:
# the kernel refuses an outsider first (ESRCH), with nothing for pinfold to judge
confined setpgid $T
check setpgid-outside-refused-by-kernel "err ESRCH" setpgid 0 '"object"'
confined setpgid child
check setpgid-own-child-allowed ok setpgid 0 '"object"'
# move_pages checks ptrace access before the LSM's movememory hook: the
# refusal is the ptrace one
confined move-pages $T
check move-pages-outside-denied "err EPERM" ptrace 1 "\"target_pid\":$T,"
confined move-pages child
check move-pages-own-child-allowed ok ptrace 0 '"object"'
answer $T
same scheduling-sent-no-signal "what the target got" "ok none" "$said"

# --- SIGIO aimed by F_SETOWN -------------------------------------------------------
# the owner is recorded without a check; the signal is sent when the pipe
# becomes readable, by the agent's write: the probe cannot tell, the target can
for how in setown setown-ex fiosetown; do
	outsider
	confined sigio $T $how
	check sigio-$how-outside-denied ok signal 1 "\"target_pid\":$T,"
	answer $T
	same sigio-$how-outside-not-delivered "what $T got" "ok none" "$said"
	confined sigio child $how
	check sigio-$how-own-child-allowed ok signal 0 '"object"'
done
# a negative owner is a process group: every member would get it. setsid
# makes the target lead a group of its own (busybox execs in place when the
# caller does not lead its group, as a background job here does not)
setsid $PROBE await-signal 120 > /tmp/target-pg &
T=$!
eval "out_$T=/tmp/target-pg"
sleep 0.2
if [ "$(awk '{print $5}' /proc/$T/stat 2>/dev/null)" = "$T" ]; then
	confined sigio -$T setown
	check sigio-pgrp-outside-denied ok signal 1 "\"target_pid\":$T,"
	answer $T
	same sigio-pgrp-outside-not-delivered "what group $T got" "ok none" "$said"
else
	kill -TERM $T 2>/dev/null
	echo "SKIP sigio-pgrp: setsid did not make $T a group leader"
fi

finish
