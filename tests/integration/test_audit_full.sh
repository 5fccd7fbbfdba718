#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_audit_full.sh - the audit file's filesystem fills up mid-run and later
# gets space back. The audit file is on a real 64 KiB tmpfs; the agent makes
# denied connects in three phases: before the test fills the tmpfs with
# another file, while it is full, and after that file is deleted. Then:
#   - no line holds parts of two records: each line is one JSON object, or
#     the start of a record cut by the full disk, alone on its line;
#   - the count of unwritten records printed at the end is exact: the
#     denials the agent itself counted, minus the decision records in the
#     file, minus those the kernel reported lost;
#   - writing resumed once there was space again.
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
mount -t tmpfs -o size=64k,mode=0700 pinfold-test "$mnt" ||
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

"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent flood --allow-degraded --no-watch --audit "$audit" \
	-- env PF_INTEGRATION="$PF_ROOT/tests/integration" \
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
# a few events may be lost in the ring: then the count falls short, go on
wait_for 20 phase2_handled || echo "note: not all phase 2 denials handled yet"
rm -f "$mnt/filler"
touch "$sync/freed"

wait "$run"
rc=$?
PF_ERR=$PF_TMP/run.err
check agent-exit "pinfold run exited $rc (stderr: $(pf_stderr))" test "$rc" = 0

denied=$(head -n 1 "$PF_TMP/agent.out")
check all-denied "agent counted '$denied' denials of $((n1 + n2 + n3)) connects" \
	test "$denied" = $((n1 + n2 + n3))
unwritten=$(sed -n 's/^pinfold: \([0-9]*\) audit records could not be written to .*/\1/p' \
	"$PF_TMP/run.err")
unwritten=${unwritten:-0}

# Sort the lines: whole records go to audit.whole; a cut record is a line
# that is not JSON, starts like a record and holds the start of no other.
python3 - "$audit" "$PF_TMP/audit.whole" >"$PF_TMP/lines" <<'PY'
import json, sys
head = b'{"schema":2,"kind":"'
data = open(sys.argv[1], "rb").read()
cut = merged = 0
with open(sys.argv[2], "wb") as whole:
    for line in data.split(b"\n")[:-1]:
        try:
            ok = isinstance(json.loads(line.decode("utf-8")), dict)
        except ValueError:
            ok = False
        if ok:
            whole.write(line + b"\n")
        elif line.count(b'{"schema":') <= 1 and (line.startswith(head) or head.startswith(line)) \
                and line:
            cut += 1
            print("cut record: %r" % line[:80], file=sys.stderr)
        else:
            merged += 1
            print("bad line: %r" % line[:160], file=sys.stderr)
    if data and not data.endswith(b"\n"):
        merged += 1
        print("no newline at the end: %r" % data[-80:], file=sys.stderr)
print(cut, merged)
PY
read -r cut merged <"$PF_TMP/lines"

recorded=$(pf_audit_count "$audit" kind=decision action=connect decision=deny)
lost=$(pf_audit_lost "$PF_TMP/audit.whole")
echo "denied $denied, recorded $recorded, lost $lost, unwritten $unwritten, cut lines $cut"

check writes-failed "no write failed: the full disk was not hit, the test proves nothing" \
	test "$unwritten" -gt 0
check no-merged-lines "$merged lines hold parts of two records or end without a newline" \
	test "$merged" = 0
check cut-lines-counted "$cut cut records but only $unwritten counted unwritten" \
	test "$cut" -le "$unwritten"
check whole-lines-valid "the other lines are not all JSON objects" \
	pf_audit_valid "$PF_TMP/audit.whole"
check unwritten-exact "$unwritten unwritten != $denied denied - $recorded recorded - $lost lost" \
	test "$unwritten" = $((denied - recorded - lost))
check instance-notes "instance-start or instance-exit missing" \
	test "$(pf_audit_count "$audit" kind=instance-start)$(pf_audit_count "$audit" \
		kind=instance-exit)" = 11
check resumed-after-space "no phase 3 record: writing did not resume" \
	test "$(records_for $((port + 2)))" -gt 0

pf_finish
