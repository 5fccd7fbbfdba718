#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_audit_full.sh - the audit log's filesystem fills up mid-run and later
# gets space back. The log is on a real 1 MiB tmpfs; the agent makes denied
# connects in three phases: before the test fills the tmpfs with another file,
# while it is full, and after that file is deleted. Then:
#   - the writer said, once, that it cannot write, and later that it can;
#   - nothing was lost: every denial the agent counted is a record (the
#     writer held them in memory meanwhile), unless the kernel counted it
#     lost in an events-lost record;
#   - no line is cut or holds parts of two records, and the chain verifies;
#   - one audit-blocked record says when writing stopped and why.
# The writer's reserve (--audit-reserve-bytes) is off here: this is the path
# of a write that fails; test_audit_required.sh (VM) covers the reserve.
#
#   tests/integration/test_audit_full.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

n1=20
n2=300
n3=20
mnt=$PF_TMP/full
sync=$PF_TMP/sync
audit=$mnt/audit.jsonl
mkdir -p "$mnt" "$sync" || exit 1
mount -t tmpfs -o size=1m,mode=0700 pinfold-test "$mnt" ||
	{ echo "FAIL setup: cannot mount a tmpfs on $mnt"; exit 1; }
trap 'umount "$mnt" 2>/dev/null; pf_cleanup' EXIT

port=$(pf_free_ports 3) || { echo "FAIL setup: no free ports"; exit 1; }
cat >"$PF_TMP/policy.yaml" <<YAML
version: 1
agents:
  flood:
    files:
      - {path: /, access: read}
      - {path: $sync, access: read-write}
YAML

# The agent: ARGV sync-dir base-port n1 n2 n3. Phase k connects n_k times to
# port base+k-1; it prints how many connects were denied (EPERM) in all.
cat >"$PF_TMP/agent.py" <<'PY'
import os, sys, time
sys.path.insert(0, os.environ["PF_INTEGRATION"])
from denied_connects import deny

sync, port = sys.argv[1], int(sys.argv[2])
counts = [int(a) for a in sys.argv[3:6]]

def mark(name):
    open(os.path.join(sync, name), "w").close()

def wait_for(name):
    for _ in range(1200):
        if os.path.exists(os.path.join(sync, name)):
            return
        time.sleep(0.05)
    print("agent: gave up waiting for %s" % name, file=sys.stderr)
    sys.exit(3)

denied = deny(port, counts[0])
mark("phase1")
wait_for("full")
denied += deny(port + 1, counts[1])
mark("phase2")
wait_for("freed")
denied += deny(port + 2, counts[2])
print(denied)
PY

# wait_for SECONDS CMD...: poll CMD every 0.1 s
wait_for()
{
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

records_for() { pf_audit_count "$audit" kind=decision port="$1"; }
# these three are called through wait_for and check
# shellcheck disable=SC2317
phase1_written() { [ "$(records_for "$port")" -ge "$n1" ]; }
# each event the writer handled printed a denial line, written or not
# shellcheck disable=SC2317
phase2_handled() { [ "$(grep -c "127\.0\.0\.1:$((port + 1))/tcp" "$PF_TMP/run.err")" -ge "$n2" ]; }
# shellcheck disable=SC2317
disk_full() { python3 -c 'import os, sys; sys.exit(os.statvfs(sys.argv[1]).f_bavail != 0)' "$mnt"; }

"$PINFOLD" audit keygen --key "$PF_TMP/key.pem" >/dev/null ||
	{ echo "FAIL setup: pinfold audit keygen"; exit 1; }
"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent flood --allow-degraded --no-watch --audit "$audit" \
	--audit-key "$PF_TMP/key.pem" --audit-reserve-bytes 0 -- env PF_INTEGRATION="$PF_ROOT/tests/integration" \
	python3 "$PF_TMP/agent.py" "$sync" "$port" "$n1" "$n2" "$n3" \
	>"$PF_TMP/agent.out" 2>"$PF_TMP/run.err" &
run=$!
PF_PIDS+=("$run")

wait_for 60 test -e "$sync/phase1" ||
	{ echo "FAIL setup: agent did not finish phase 1: $(head -c 400 "$PF_TMP/run.err")"; exit 1; }
wait_for 20 phase1_written ||
	{ echo "FAIL setup: phase 1 records not written: $(pf_audit_show "$audit")"; exit 1; }

# fill the tmpfs: dd stops at ENOSPC
dd if=/dev/zero of="$mnt/filler" bs=4096 2>/dev/null
check disk-filled "the tmpfs still has space after filling it" disk_full
touch "$sync/full"
wait_for 60 test -e "$sync/phase2" || { echo "FAIL setup: agent did not finish phase 2"; exit 1; }
# the writer holds them: each handled printed its denial line
wait_for 20 phase2_handled || echo "note: not all phase 2 denials handled yet"
rm -f "$mnt/filler"
touch "$sync/freed"

wait "$run"
rc=$?
PF_ERR=$PF_TMP/run.err
grep -v "denied connect" "$PF_TMP/run.err" | head -20
check agent-exit "pinfold run exited $rc (stderr: $(pf_stderr))" test "$rc" = 0

denied=$(head -n 1 "$PF_TMP/agent.out")
check all-denied "agent counted '$denied' denials of $((n1 + n2 + n3)) connects" \
	test "$denied" = $((n1 + n2 + n3))
recorded=$(pf_audit_count "$audit" kind=decision action=connect decision=deny)
lost=$(pf_audit_lost "$audit")
echo "denied $denied, recorded $recorded, lost $lost"

check blocked-said "no line saying the log cannot be written: $(pf_stderr)" \
	grep -q "cannot write to the audit log $audit: No space left on device" "$PF_TMP/run.err"
check resumed-said "no line saying the log takes records again: $(pf_stderr)" \
	grep -q "the audit log $audit takes records again" "$PF_TMP/run.err"
check nothing-lost "$recorded recorded + $lost lost != $denied denied" \
	test $((recorded + lost)) = "$denied"
check lines-valid "a line of the log is not one JSON object" pf_audit_valid "$audit"
check blocked-record "expected one audit-blocked record naming the error" \
	test "$(pf_audit_count "$audit" kind=audit-blocked "error=No space left on device")" = 1
check instance-notes "instance-start or instance-exit missing" \
	test "$(pf_audit_count "$audit" kind=instance-start)$(pf_audit_count "$audit" \
		kind=instance-exit)" = 11
check phase2-written "phase 2 records missing: held records were not written" \
	test "$(records_for $((port + 1)))" -gt 0
check chain-verifies "pinfold audit verify: $("$PINFOLD" audit verify --log "$audit" \
	--key "$PF_TMP/key.pub.pem" 2>&1)" \
	"$PINFOLD" audit verify --log "$audit" --key "$PF_TMP/key.pub.pem"

pf_finish
