#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# io_uring with BPF LSM, inside the test VM (tests/vm/run.sh): the file
# operations a ring performs for the agent (IORING_OP_OPENAT, UNLINKAT,
# RENAMEAT, MKDIRAT, LINKAT, SYMLINKAT) and the sockets it makes
# (IORING_OP_SOCKET) are judged exactly like the system calls: the same errno,
# the same one record. Each runs in three modes: issued inline at submission,
# forced into an io-wq worker (--async), and submitted by the ring's SQPOLL
# kernel thread (--sqpoll). Each denial has an allowed twin.
set -u
SUITE=test_uring
POLICY=tests/vm/files-policy.yaml
AUDIT=/tmp/pf-audit/uring.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

URING=/pinfold/build/tests/pf-uring

setup()
{
	rm -rf $D
	# every tree files-policy.yaml names must exist
	mkdir -p $D/ehr/sealed $D/ehr/psych $D/ref $D/secret $D/audited $D/bin $D/rbin \
		$D/ledger $D/shred $D/inbox $D/drop $D/rt/work/x/secret
	echo chart > $D/ehr/a.txt
	echo chart > $D/ehr/b.txt
	echo chart > $D/ehr/gone.txt
	echo chart > $D/ehr/m.txt
	echo ref > $D/ref/r.txt
	echo secret > $D/secret/s.txt
}

# count_records ACTION OBJECT: deny records in the audit file for ACTION on OBJECT
count_records()
{
	grep -F "\"action\":\"$1\"" $AUDIT | grep -F "\"object\":\"$2\"" |
		grep -cF '"decision":"deny"'
}

# case_ NAME EXPECT ACTION OBJECT RECORDS -- PF-URING-ARGS...: pf-uring confined
# as clerk says EXPECT ("ok" or "err ENAME"); the audit file holds RECORDS (0
# or 1) deny records, the one for ACTION on OBJECT if 1, and a denial line
case_()
{
	name=$1 expect=$2 action=$3 object=$4 records=$5
	shift 6
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $URING "$@" 2>/tmp/stderr)
	if [ "$out" != "$expect" ]; then
		bad "$name" "pf-uring said '$out', expected '$expect'; stderr: $(cat /tmp/stderr)"
		return
	fi
	n=$(count_records "$action" "$object")
	all=$(grep -c '"kind":"decision"' $AUDIT)
	if [ "$n" != "$records" ] || [ "$all" != "$records" ]; then
		bad "$name" "$n deny records for $action $object ($all decisions in all), \
expected $records: $(cat $AUDIT)"
		return
	fi
	if [ "$records" = 1 ] && ! grep -q "pinfold: denied $action $object" /tmp/stderr; then
		bad "$name" "no denial line on stderr: $(cat /tmp/stderr)"
		return
	fi
	ok "$name"
}

need_bpf_lsm

# The ring works here at all, unconfined, in each mode; else every case below
# would prove nothing.
setup
for mode in "" --sqpoll --async; do
	out=$($URING $mode open $D/secret/s.txt r 2>&1)
	if [ "$out" != ok ]; then
		bad "baseline${mode:+ $mode}" "unconfined pf-uring $mode open said '$out'"
		finish
		exit 1
	fi
	ok "baseline${mode:+ $mode}"
done

for mode in "" --sqpoll --async; do
	m=${mode:+$mode }
	setup
	case_ "${m}open-read-allowed" "ok" open-read $D/ehr/a.txt 0 -- \
		$mode open $D/ehr/a.txt r
	case_ "${m}open-read-denied" "err EACCES" open-read $D/secret/s.txt 1 -- \
		$mode open $D/secret/s.txt r
	case_ "${m}open-write-allowed" "ok" open-write $D/ehr/a.txt 0 -- \
		$mode open $D/ehr/a.txt w
	case_ "${m}open-write-denied" "err EACCES" open-write $D/ref/r.txt 1 -- \
		$mode open $D/ref/r.txt w
	case_ "${m}unlinkat-allowed" "ok" unlink $D/ehr/gone.txt 0 -- \
		$mode unlink $D/ehr/gone.txt
	case_ "${m}unlinkat-denied" "err EACCES" unlink $D/ref/r.txt 1 -- \
		$mode unlink $D/ref/r.txt
	case_ "${m}renameat-allowed" "ok" rename $D/ehr/c.txt 0 -- \
		$mode rename $D/ehr/b.txt $D/ehr/c.txt
	case_ "${m}renameat-out-denied" "err EACCES" rename $D/ref/moved.txt 1 -- \
		$mode rename $D/ehr/m.txt $D/ref/moved.txt
	case_ "${m}renameat-in-denied" "err EACCES" rename $D/secret/s.txt 1 -- \
		$mode rename $D/secret/s.txt $D/ehr/s.txt
	case_ "${m}mkdirat-allowed" "ok" create $D/ehr/dir 0 -- $mode mkdir $D/ehr/dir
	case_ "${m}mkdirat-denied" "err EACCES" create $D/ref/dir 1 -- $mode mkdir $D/ref/dir
	case_ "${m}linkat-allowed" "ok" link $D/ehr/a.txt 0 -- \
		$mode link $D/ehr/a.txt $D/ehr/a2.txt
	case_ "${m}linkat-in-denied" "err EACCES" link $D/secret/s.txt 1 -- \
		$mode link $D/secret/s.txt $D/ehr/s-link
	case_ "${m}linkat-readonly-denied" "err EACCES" link $D/ref/r.txt 1 -- \
		$mode link $D/ref/r.txt $D/ehr/r-link
	case_ "${m}symlinkat-allowed" "ok" create $D/ehr/sl 0 -- \
		$mode symlink $D/ehr/a.txt $D/ehr/sl
	case_ "${m}symlinkat-denied" "err EACCES" create $D/ref/sl 1 -- \
		$mode symlink $D/ehr/a.txt $D/ref/sl
	# the LSM socket_create program judges kinds beyond IPv4 and IPv6
	case_ "${m}socket-tcp-allowed" "ok" socket "inet stream tcp" 0 -- $mode socket tcp
	case_ "${m}socket-packet-denied" "err EPERM" socket "packet raw 768" 1 -- \
		$mode socket packet

	# what the denials must have left in place
	if [ -e $D/ref/r.txt ] && [ ! -e $D/ref/moved.txt ] && [ -e $D/secret/s.txt ] &&
		[ ! -e $D/ehr/s.txt ] && [ ! -e $D/ref/dir ] && [ ! -e $D/ehr/s-link ] &&
		[ ! -e $D/ehr/r-link ] && [ ! -e $D/ref/sl ] && [ "$(cat $D/ref/r.txt)" = ref ]; then
		ok "${m}denials-changed-nothing"
	else
		bad "${m}denials-changed-nothing" "$(ls -lR $D/ref $D/secret $D/ehr)"
	fi
done

finish
