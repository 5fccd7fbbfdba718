#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Attribute changes and received descriptors with BPF LSM, inside the test VM
# (tests/vm/run.sh). chmod and chown need write where the file is; a
# descriptor passed in over SCM_RIGHTS is judged as the open it stands for.
# Each denial has an allowed twin, and each case checks the audit file holds
# exactly the one record it should leave.
set -u
SUITE=test_attrs
POLICY=tests/vm/files-policy.yaml
AUDIT=/tmp/pf-audit/attrs.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

# in a class granted write: connecting to a unix socket by path needs it
SOCK=$D/ehr/attrs.sock

# records ACTION OBJECT DECISION: records in the audit file matching all three
records()
{
	grep -F "\"action\":\"$1\"" $AUDIT | grep -F "\"object\":\"$2\"" |
		grep -cF "\"decision\":\"$3\""
}

# check NAME EXPECT ACTION OBJECT RECORDS OUT: OUT is what the confined probe
# said; RECORDS the deny records for ACTION on OBJECT, and the only ones
check()
{
	name=$1 expect=$2 action=$3 object=$4 want=$5 out=$6
	n=$(records "$action" "$object" deny)
	all=$(grep -cF '"decision":"deny"' $AUDIT)
	if [ "$out" != "$expect" ]; then
		bad "$name" "probe said '$out', expected '$expect'; $(cat /tmp/stderr)"
	elif [ "$n" != "$want" ] || [ "$all" != "$want" ]; then
		bad "$name" "$n deny records for $action $object ($all in all), expected $want: \
$(cat $AUDIT)"
	elif [ "$want" = 1 ] && ! grep -q "pinfold: denied $action $object" /tmp/stderr; then
		bad "$name" "no denial line on stderr: $(cat /tmp/stderr)"
	else
		ok "$name"
	fi
}

# attr NAME EXPECT OBJECT RECORDS -- PROBE-ARGS...: one confined chmod or chown
attr()
{
	name=$1 expect=$2 object=$3 want=$4
	shift 5
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE "$@" 2>/tmp/stderr)
	check "$name" "$expect" setattr "$object" "$want" "$out"
}

# pass NAME EXPECT ACTION OBJECT RECORDS MODE: an unconfined sender passes
# OBJECT open for MODE (r or w) to the confined receiver
pass()
{
	name=$1 expect=$2 action=$3 object=$4 want=$5 mode=$6
	: > $AUDIT
	rm -f $SOCK
	$PROBE send-fd $SOCK "$object" "$mode" > /tmp/sender &
	sender=$!
	out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE recv-fd $SOCK \
		2>/tmp/stderr)
	wait $sender
	if [ "$(cat /tmp/sender)" != ok ]; then
		bad "$name" "the sender said '$(cat /tmp/sender)': the test proves nothing"
		return
	fi
	check "$name" "$expect" "$action" "$object" "$want" "$out"
}

need_bpf_lsm
rm -rf $D
# every tree files-policy.yaml names must exist
mkdir -p $D/ehr/sealed $D/ehr/psych $D/ref $D/secret $D/audited $D/bin $D/rbin $D/ledger \
	$D/shred $D/inbox $D/drop $D/rt/work/x/secret
echo chart > $D/ehr/a.txt
echo ref > $D/ref/r.txt
echo secret > $D/secret/s.txt

# chmod and chown need write: refused in a class granted read alone
attr chmod-readonly-denied "err EACCES" $D/ref/r.txt 1 -- chmod $D/ref/r.txt 600
[ "$(stat -c %a $D/ref/r.txt)" = 644 ] && ok chmod-readonly-unchanged ||
	bad chmod-readonly-unchanged "mode is now $(stat -c %a $D/ref/r.txt)"
attr chmod-writable-allowed "ok" $D/ehr/a.txt 0 -- chmod $D/ehr/a.txt 600
[ "$(stat -c %a $D/ehr/a.txt)" = 600 ] && ok chmod-writable-changed ||
	bad chmod-writable-changed "mode is $(stat -c %a $D/ehr/a.txt)"
attr chown-readonly-denied "err EACCES" $D/ref/r.txt 1 -- chown $D/ref/r.txt 1000 1000
[ "$(stat -c %u $D/ref/r.txt)" = 0 ] && ok chown-readonly-unchanged ||
	bad chown-readonly-unchanged "owner is now $(stat -c %u $D/ref/r.txt)"
attr chown-writable-allowed "ok" $D/ehr/a.txt 0 -- chown $D/ehr/a.txt 1000 1000
[ "$(stat -c %u:%g $D/ehr/a.txt)" = 1000:1000 ] && ok chown-writable-changed ||
	bad chown-writable-changed "owner is $(stat -c %u:%g $D/ehr/a.txt)"
attr chmod-outside-denied "err EACCES" $D/secret/s.txt 1 -- chmod $D/secret/s.txt 777

# descriptors passed in: the kernel drops a refused one and says MSG_CTRUNC
pass receive-fd-denied refused receive-fd $D/secret/s.txt 1 r
pass receive-fd-allowed ok receive-fd $D/ehr/a.txt 0 r
pass receive-fd-readonly-class-allowed ok receive-fd $D/ref/r.txt 0 r
pass receive-fd-write-readonly-denied refused open-write $D/ref/r.txt 1 w
pass receive-fd-write-writable-allowed ok open-write $D/ehr/a.txt 0 w

finish
