#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_loss.sh - no silent loss: an agent makes far more denied connects than
# its ring buffer holds, while its writer is stopped; every one is either a
# decision record or counted in the instance's events-lost record, and the
# two add up exactly.
#
#   tests/integration/test_loss.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

attempts=100000 # a ring holds about 35 000 network events (PF_RINGBUF_SIZE)
port=$(pf_free_ports 1) || { echo "FAIL setup: no free port"; exit 1; }
cat >"$PF_TMP/policy.yaml" <<'YAML'
version: 1
agents:
  flood: {}
YAML

# The writer is stopped while the agent floods, so that the ring must
# overflow however fast the machine; it drains the ring when continued.
"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent flood --allow-degraded --no-watch \
	--audit "$PF_TMP/audit.jsonl" -- sh -c "while [ ! -e $PF_TMP/go ]; do sleep 0.05; done;
		python3 $PF_ROOT/tests/integration/denied_connects.py $attempts $port > $PF_TMP/denied" 2>/dev/null &
run=$!
for _ in $(seq 100); do grep -q instance-start "$PF_TMP/audit.jsonl" 2>/dev/null && break; sleep 0.05; done
kill -STOP "$run"
touch "$PF_TMP/go"
for _ in $(seq 600); do [ -s "$PF_TMP/denied" ] && break; sleep 0.05; done
kill -CONT "$run"
wait "$run"
denied=$(cat "$PF_TMP/denied")
check all-denied "$denied of $attempts connects denied" test "$denied" = "$attempts"

recorded=$(pf_audit_count "$PF_TMP/audit.jsonl" kind=decision action=connect decision=deny)
lost=$(pf_audit_lost "$PF_TMP/audit.jsonl")
echo "recorded $recorded, counted lost $lost"
check ring-overflowed "only $lost lost: the flood did not exceed the ring, the test proves nothing" \
	test "$lost" -gt 0
check records-plus-lost-exact "$recorded records + $lost lost != $attempts" \
	test $((recorded + lost)) = "$attempts"
check audit-valid "the audit file is not valid JSON Lines" pf_audit_valid "$PF_TMP/audit.jsonl"
# every event number is one decision record or inside one lost range, once
check seq-covered "event numbers not covered exactly once" python3 - "$PF_TMP/audit.jsonl" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["kind"] == "decision":
        nums = [r["seq"]]
    elif r["kind"] == "events-lost":
        assert r["cause"] == "kernel", r
        nums = range(r["first_seq"], r["last_seq"] + 1)
        assert len(nums) == r["count"], r
    else:
        continue
    for n in nums:
        seen[n] = seen.get(n, 0) + 1
total = max(seen) + 1
bad = [n for n in range(total) if seen.get(n) != 1]
print("%d event numbers, %d not covered exactly once %s" % (total, len(bad), bad[:10]))
sys.exit(1 if bad else 0)
PY

pf_finish
