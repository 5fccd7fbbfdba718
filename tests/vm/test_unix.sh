#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Unix sockets with BPF LSM, inside the test VM (tests/vm/run.sh). A socket
# bound to a path is a file: connecting to it (stream, seqpacket: unix-connect)
# or sending it a datagram (connect or sendto: unix-send) needs write on its
# class, as its DAC check does. An abstract name has no file: only a listener
# of the agent's own instance may be reached (others: reason other-task, object
# "@NAME"). An unnamed pair is not judged. Listeners outside the instance are
# pf-probe unix-listen, unconfined; each case checks the probe's answer, the
# listener's (nothing may arrive through a refusal) and the exact records.
set -u
SUITE=test_unix
POLICY=tests/vm/files-policy.yaml
AUDIT=/tmp/pf-audit/unix.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

# LSM refusals of another task's object are EPERM (pf_own_task), file-class ones EACCES
OTHER_TASK_ERR="err EPERM"


# confined PROBE-ARGS...: the probe run as the clerk with a fresh audit file; its answer in $out
confined()
{
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE "$@" 2>/tmp/stderr)
}

# listener NAME TYPE: an unconfined listener in the background, once it is bound
listener()
{
	$PROBE unix-listen "$1" "$2" > /tmp/listener 2>&1 &
	lpid=$!
	i=0
	while [ $i -lt 50 ]; do
		case "$1" in
		@*) grep -q " $1\$" /proc/net/unix && return ;;
		*) [ -S "$1" ] && return ;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
}

# heard NAME WANT: the listener got WANT ("ok ping"), or, for WANT "",
# nothing (it is stopped first: a refused peer never reaches it)
heard()
{
	[ -z "$2" ] && kill $lpid 2>/dev/null
	wait $lpid 2>/dev/null
	got=$(cat /tmp/listener)
	[ "$got" = "$2" ] && ok "$1" || bad "$1" "the listener said '$got', expected '$2'"
}

# peer NAME EXPECT ACTION RECORDS SOCK TYPE HEARD -- PROBE-ARGS...: a listener
# on SOCK, the confined probe against it, the records on object SOCK
peer()
{
	name=$1 expect=$2 action=$3 want=$4 sock=$5 type=$6 hear=$7
	shift 8
	listener "$sock" "$type"
	confined "$@"
	check_denials "$name" "$expect" "$action" "$want" "\"object\":\"$sock\""
	heard "$name-listener" "$hear"
}

need_bpf_lsm
rm -rf $D
# every tree files-policy.yaml names must exist
mkdir -p $D/ehr/sealed $D/ehr/psych $D/ref $D/secret $D/audited $D/bin $D/rbin $D/ledger \
	$D/shred $D/inbox $D/drop $D/rt/work/x/secret
W=$D/ehr/w.sock
R=$D/ref/r.sock
N=$D/secret/n.sock

# --- unnamed pairs: nothing to judge ------------------------------------------------
# first, as the first run also loads and pins pinfold's programs, which can
# take longer under TCG than a listener below waits for its peer
for type in stream dgram seqpacket; do
	confined unix-pair $type
	n=$(grep -cF '"decision":"deny"' $AUDIT)
	[ "$out" = ok ] && [ "$n" = 0 ] && ok socketpair-$type-allowed ||
		bad socketpair-$type-allowed "probe said '$out', $n deny records: $(cat $AUDIT)"
done

# --- stream and seqpacket to a path: unix-connect needs write ------------------
peer stream-write-class-allowed "ok pong" unix-connect 0 $W stream "ok ping" -- \
	unix-connect $W stream
peer stream-readonly-class-denied "err EACCES" unix-connect 1 $R stream "" -- \
	unix-connect $R stream
peer stream-no-class-denied "err EACCES" unix-connect 1 $N stream "" -- unix-connect $N stream
peer seqpacket-write-class-allowed "ok pong" unix-connect 0 $W seqpacket "ok ping" -- \
	unix-connect $W seqpacket
peer seqpacket-readonly-class-denied "err EACCES" unix-connect 1 $R seqpacket "" -- \
	unix-connect $R seqpacket

# --- datagrams to a path: unix-send needs write, connected or not -----------------
peer sendto-write-class-allowed ok unix-send 0 $W dgram "ok ping" -- unix-sendto $W
peer sendto-readonly-class-denied "err EACCES" unix-send 1 $R dgram "" -- unix-sendto $R
peer sendto-no-class-denied "err EACCES" unix-send 1 $N dgram "" -- unix-sendto $N
peer dgram-connect-write-class-allowed ok unix-send 0 $W dgram "ok ping" -- \
	unix-connect $W dgram
peer dgram-connect-readonly-class-denied "err EACCES" unix-send 1 $R dgram "" -- \
	unix-connect $R dgram

# --- abstract names: only the agent's own listeners --------------------------------
# a listener outside the instance (here an unconfined probe; on a real host a
# session bus, a container runtime, X11's @/tmp/.X11-unix) is out of reach
peer abstract-outside-stream-denied "$OTHER_TASK_ERR" unix-connect 1 @pf-out stream "" -- \
	unix-connect @pf-out stream
n=$(grep -F '"object":"@pf-out"' $AUDIT | grep -cF '"reason_code":"other-task"')
[ "$n" = 1 ] && ok abstract-outside-reason-other-task ||
	bad abstract-outside-reason-other-task "no other-task record: $(cat $AUDIT)"
peer abstract-outside-sendto-denied "$OTHER_TASK_ERR" unix-send 1 @pf-out-d dgram "" -- \
	unix-sendto @pf-out-d
peer abstract-outside-dgram-connect-denied "$OTHER_TASK_ERR" unix-send 1 @pf-out-c dgram "" -- \
	unix-connect @pf-out-c dgram
# the same names served by a child of the confined probe: inside the instance
confined unix-self @pf-in stream
check_denials abstract-inside-stream-allowed "ok pong" unix-connect 0 '"object"'
confined unix-self @pf-in-d dgram
check_denials abstract-inside-dgram-allowed ok unix-send 0 '"object"'
# and a path socket the agent binds itself where it may write
confined unix-self $D/ehr/self.sock stream
check_denials path-self-write-class-allowed "ok pong" unix-connect 0 '"object"'

finish
