#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_audit_sync.sh - the audit log's sync policy and rotation by age, as
# docs/audit.md "Sync policy and loss window" states them. The writer's own
# system calls are traced (strace) while an agent makes denied connects:
#   batch   fdatasync of the log before each replacement of the head (a
#           record whose batch returned is on disk), not one per record;
#   always  an fdatasync for every record written;
#   none    no fdatasync or fsync at all.
# Then --audit-rotate-seconds 1 with a pause in the agent rotates the log into
# a .gz file, and the log, across both files, verifies.
#
#   tests/integration/test_audit_sync.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init
command -v strace >/dev/null || pf_skip "strace is not installed (tests/deps.sh installs it)"

port=$(pf_free_ports 1) || { echo "FAIL setup: no free port"; exit 1; }
n=60
KEY=$PF_TMP/key.pem
"$PINFOLD" audit keygen --key "$KEY" >/dev/null || { echo "FAIL setup: keygen"; exit 1; }
cat >"$PF_TMP/policy.yaml" <<'YAML'
version: 1
agents:
  sync: {}
YAML

# traced POLICY-SYNC LOG: run the agent under strace; the writer's trace in LOG.trace
traced()
{
	local sync=$1 log=$2
	strace -f -qq -e trace=fdatasync,fsync,rename,write -o "$log.strace" \
		"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent sync --allow-degraded --no-watch \
		--audit "$log" --audit-key "$KEY" --audit-sync "$sync" \
		-- python3 "$PF_ROOT/tests/integration/denied_connects.py" "$n" "$port" \
		>"$log.out" 2>"$log.err"
	# the writer is the first process strace saw
	local writer
	writer=$(head -n 1 "$log.strace" | cut -d' ' -f1)
	grep "^$writer " "$log.strace" >"$log.trace"
}

# count LOG CALL: how many of the writer's calls were CALL
count() { grep -c " $2(" "$1.trace"; }

# synced_before_head LOG: each rename of the head follows an fdatasync made
# since the rename before it
synced_before_head()
{
	awk '/ fdatasync\(/ { synced = 1 }
		/ rename\(.*\.head\.tmp/ { if (!synced) bad = 1; synced = 0; heads++ }
		END { exit bad || !heads }' "$1.trace"
}

for sync in batch always none; do
	log=$PF_TMP/$sync/audit.jsonl
	mkdir -p "$PF_TMP/$sync"
	traced "$sync" "$log"
	records=$(wc -l <"$log")
	denied=$(pf_audit_count "$log" kind=decision decision=deny)
	datasyncs=$(count "$log" fdatasync)
	fsyncs=$(count "$log" fsync)
	echo "sync $sync: $records records ($denied denials), fdatasync $datasyncs, fsync $fsyncs"
	check "$sync-all-recorded" "$denied denial records, expected $n: $(head -c 300 "$log.err")" \
		test "$denied" = "$n"
	check "$sync-verifies" "$("$PINFOLD" audit verify --log "$log" --key "$PF_TMP/key.pub.pem" 2>&1)" \
		"$PINFOLD" audit verify --log "$log" --key "$PF_TMP/key.pub.pem"
	case $sync in
	batch)
		check batch-synced-before-head "a head was replaced without an fdatasync of the log before it" \
			synced_before_head "$log"
		check batch-not-per-record "$datasyncs fdatasync calls for $records records" \
			test "$datasyncs" -lt "$records"
		;;
	always)
		check always-per-record "$datasyncs fdatasync calls for $records records" \
			test "$datasyncs" -ge "$records"
		;;
	none)
		check none-no-sync "$datasyncs fdatasync and $fsyncs fsync calls, expected none" \
			test "$((datasyncs + fsyncs))" = 0
		;;
	esac
done

# rotation by age: the current file's first record is over a second old
log=$PF_TMP/age/audit.jsonl
mkdir -p "$PF_TMP/age"
"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent sync --allow-degraded --no-watch \
	--audit "$log" --audit-key "$KEY" --audit-rotate-seconds 1 \
	-- python3 -c "
import sys, time
sys.path.insert(0, '$PF_ROOT/tests/integration')
from denied_connects import deny
deny($port, 3); time.sleep(1.5); deny($port, 3)" >/dev/null 2>"$PF_TMP/age.err"
rotated=$(find "$PF_TMP/age" -name 'audit.jsonl.*.gz' | wc -l)
check age-rotated "no rotated file after a second: $(ls "$PF_TMP/age")" test "$rotated" -ge 1
check age-verifies "$("$PINFOLD" audit verify --log "$log" --key "$PF_TMP/key.pub.pem" 2>&1)" \
	"$PINFOLD" audit verify --log "$log" --key "$PF_TMP/key.pub.pem"
check age-all-shown "$("$PINFOLD" audit show --log "$log" --denied 2>&1 | wc -l) denials shown across the files, expected 6" \
	test "$("$PINFOLD" audit show --log "$log" --denied | wc -l)" = 6

pf_finish
