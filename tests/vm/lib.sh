# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-only
# lib.sh - what the VM suites share (busybox sh): where things are, PASS and
# FAIL counting, the skip when BPF LSM is not active, and the closing line.
# Set SUITE, POLICY and AUDIT, then source /pinfold/tests/vm/lib.sh.
cd /pinfold || exit 1
PF=build/pinfold
PROBE=/pinfold/build/tests/pf-probe
D=/srv/data
pass=0
# audit logs in a directory of root's only, as pinfold run requires; the
# signing key in /etc/pinfold, as on an installed host
mkdir -p -m 0700 /tmp/pf-audit
$PF audit keygen > /dev/null 2>&1
fail=0

ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

# need_bpf_lsm: skip the suite (exit 77) when the kernel runs no BPF LSM
need_bpf_lsm()
{
	if ! grep -qw bpf /sys/kernel/security/lsm; then
		echo "SKIP $SUITE: BPF LSM is not active in this kernel"
		exit 77
	fi
}

# check_denials NAME EXPECT ACTION RECORDS MATCH: the confined probe said EXPECT ($out),
# the audit file holds RECORDS deny records of ACTION that contain MATCH, and no
# other denial; a denial also leaves its line on stderr
check_denials()
{
	name=$1 expect=$2 action=$3 want=$4 match=$5
	n=$(grep -F "\"action\":\"$action\"" $AUDIT | grep -F "$match" |
		grep -cF '"decision":"deny"')
	all=$(grep -cF '"decision":"deny"' $AUDIT)
	if [ "$out" != "$expect" ]; then
		bad "$name" "probe said '$out', expected '$expect'; $(cat /tmp/stderr)"
	elif [ "$n" != "$want" ] || [ "$all" != "$want" ]; then
		bad "$name" "$n deny records of $action with $match ($all in all), expected $want: \
$(cat $AUDIT)"
	elif [ "$want" = 1 ] && ! grep -q "pinfold: denied $action " /tmp/stderr; then
		bad "$name" "no denial line on stderr: $(cat /tmp/stderr)"
	else
		ok "$name"
	fi
}

# finish: the closing line; fails when any check did
finish()
{
	echo "$SUITE: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
