#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Agent modes with BPF LSM, inside the test VM (tests/vm/run.sh): three
# agents with the same file rules, one per mode (tests/vm/modes-policy.yaml).
# A read outside the rules is refused in enforce mode, and goes through in
# audit and record modes with one deny record marked "applied":false; record
# mode records an allowed read too, which the other modes do not. A bind
# mount, which agents may never make, follows the same rule.
set -u
SUITE=test_modes
POLICY=tests/vm/modes-policy.yaml
AUDIT=/tmp/pf-audit/modes.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

# count ACTION OBJECT DECISION [MORE]: decision records matching all, MORE a literal JSON member
count()
{
	grep -F '"kind":"decision"' $AUDIT | grep -F "\"action\":\"$1\"" |
		grep -F "\"object\":\"$2\"" | grep -F "\"decision\":\"$3\"" | grep -cF "${4:-\"decision\"}"
}

# run AGENT PROBE-ARGS...: the probe confined, its output in $out, stderr in /tmp/stderr
run()
{
	agent=$1
	shift
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent "$agent" --audit $AUDIT --no-watch -- $PROBE "$@" 2>/tmp/stderr)
}

# denied_read NAME AGENT MODE EXPECT: a read of the secret file gives EXPECT,
# with one deny record of MODE, applied unless in enforce mode, and one line
denied_read()
{
	name=$1 agent=$2 mode=$3 expect=$4
	run "$agent" read $D/secret/s.txt
	case "$out" in
	"$expect"*) ;;
	*) bad "$name" "probe said '$out', expected '$expect'; stderr: $(cat /tmp/stderr)"; return ;;
	esac
	all=$(count open-read $D/secret/s.txt deny)
	n=$(count open-read $D/secret/s.txt deny "\"mode\":\"$mode\"")
	na=$(count open-read $D/secret/s.txt deny '"applied":false')
	head="pinfold: would deny"
	want_na=1
	if [ "$mode" = enforce ]; then
		head="pinfold: denied"
		want_na=0
	fi
	if [ "$all" != 1 ] || [ "$n" != 1 ] || [ "$na" != $want_na ]; then
		bad "$name" "$all deny records, $n in mode $mode, $na not applied: $(cat $AUDIT)"
		return
	fi
	if [ "$(grep -c "^$head open-read $D/secret/s.txt " /tmp/stderr)" != 1 ]; then
		bad "$name" "no single '$head' line: $(cat /tmp/stderr)"
		return
	fi
	ok "$name"
}

need_bpf_lsm
rm -rf $D
mkdir -p $D/ehr $D/secret
echo chart > $D/ehr/a.txt
echo secret > $D/secret/s.txt

denied_read enforce-read-denied enforcer enforce "err EACCES"
denied_read audit-read-not-denied auditor audit "ok"
denied_read record-read-not-denied recorder record "ok"

# The allowed read: recorded in record mode only.
for pair in enforcer:enforce auditor:audit recorder:record; do
	agent=${pair%%:*} mode=${pair#*:}
	run "$agent" read $D/ehr/a.txt
	n=$(count open-read $D/ehr/a.txt allow "\"mode\":\"$mode\"")
	want=0
	[ "$mode" = record ] && want=1
	if [ "${out%% *}" != ok ] || [ "$n" != $want ]; then
		bad "$mode-allowed-read" "probe said '$out', $n allow records, want $want: $(cat $AUDIT)"
	else
		ok "$mode-allowed-read"
	fi
done

# record mode records everything the agent opened, the probe itself (its exec) included
run recorder read $D/ehr/a.txt
n=$(count exec $PROBE allow)
if [ "$n" -ge 1 ] && [ "$(grep -c '"applied"' $AUDIT)" = 0 ]; then
	ok record-mode-records-every-open
else
	bad record-mode-records-every-open "$n records of the probe's own open: $(head -c 2000 $AUDIT)"
fi

# Never allowed, yet not applied in audit mode: the mount is made.
mkdir -p $D/ehr/mnt
run enforcer bind /srv $D/ehr/mnt
n=$(count mount $D/ehr/mnt deny)
if [ "$out" = "err EPERM" ] && [ "$n" = 1 ]; then
	ok enforce-mount-denied
else
	bad enforce-mount-denied "probe said '$out', $n mount records: $(cat $AUDIT)"
fi
run auditor bind /srv $D/ehr/mnt
n=$(count mount $D/ehr/mnt deny '"applied":false')
if [ "${out%% *}" = ok ] && [ "$n" = 1 ] && umount $D/ehr/mnt; then
	ok audit-mount-not-denied
else
	bad audit-mount-not-denied "probe said '$out', $n not-applied mount records: $(cat $AUDIT)"
fi

finish
