#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# File names an agent chooses, in its audit records, with BPF LSM, inside the
# test VM (tests/vm/run.sh; tests/vm/check_audit_names.sh runs it and checks
# the log on the host with python3). Decision records are written as text
# (userspace/audit.c) and the text after seq is reused while the next event
# differs only in time and number: names with quotes, backslashes, newlines,
# control characters, DEL, invalid UTF-8, 255-byte names and deep paths must
# each read back as the bytes named, and a flood alternating two names that
# differ in one byte must give each record its own name. The log must verify.
# The log is printed base64-encoded between AUDIT-NAMES-BEGIN/END lines.
set -u
SUITE=test_audit_names
POLICY=tests/vm/files-policy.yaml
AUDIT=/tmp/pf-audit/names.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

need_bpf_lsm
rm -rf $D
mkdir -p $D/ehr/sealed $D/ehr/psych $D/ref $D/secret $D/audited $D/bin $D/rbin $D/ledger \
	$D/shred $D/inbox $D/drop $D/rt/work/x/secret
S=$D/ehr/sealed
: > $AUDIT
# the names, one per line of /tmp/names (newlines in a name as the two bytes \n,
# decoded by the host check), and created here, unconfined
long=$(printf '%0255d' 0 | tr 0 L)
deep=$S
i=0
while [ $i -lt 60 ]; do deep=$deep/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd; i=$((i + 1)); done
mkdir -p "$deep"
for spec in 'q\042b\134c' 'nl\nx' 'ctl\001\033[31m\177' 'bad\377\376\300\257' \
	'half\303' 'surr\355\240\200' 'ok\303\251' 'sl\134u0000' "$long"; do
	name=$(printf "$spec.")
	name=${name%.}
	: > "$S/$name"
	$PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE write "$S/$name" \
		>/dev/null 2>>/tmp/stderr
done
: > "$deep/f"
$PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE write "$deep/f" >/dev/null 2>>/tmp/stderr
# a flood of one shell alternating two names that differ in their last byte
: > $S/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1
: > $S/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2
$PF run --policy $POLICY --agent clerk-shell --audit $AUDIT -- /bin/sh -c "
	i=0
	while [ \$i -lt 300 ]; do
		echo > $S/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1
		echo > $S/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1
		echo > $S/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2
		i=\$((i + 1))
	done 2>/dev/null" >/dev/null 2>/dev/null
if $PF audit verify --log $AUDIT > /tmp/verify.out 2>&1; then
	ok verify
else
	bad verify "$(head -c 600 /tmp/verify.out)"
fi
$PF audit show --log $AUDIT > /tmp/show.out 2>&1
echo AUDIT-NAMES-BEGIN
base64 $AUDIT
echo AUDIT-NAMES-END
echo SHOW-NAMES-BEGIN
base64 /tmp/show.out
echo SHOW-NAMES-END
finish
