#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_audit_rt.sh - what an agent controls that ends up in its records, and
# records at the agent's exit and at a slow trickle, since the writer is
# woken only per 256 KiB of ring and looks every 10 ms (docs/audit.md, "How
# soon a record is written") and decision records are written as text:
#  - comms with quotes, backslashes, control characters, DEL, bytes >= 0x80
#    and invalid UTF-8: every line is JSON, comm reads back as the kernel's
#    bytes decoded (U+FFFD for a bad byte, comm_hex then), verify passes, and
#    audit show prints no raw control character;
#  - N denied connects then an immediate exit: N records, all before the
#    instance-exit record;
#  - one denied connect, then silence: its record is in the file within
#    200 ms (10 ms and a sync);
#  - SIGTERM to pinfold run in a flood: every event a record or counted lost.
#
#   tests/integration/test_audit_rt.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

KEY=$PF_TMP/keys/sign.pem
PUB=$PF_TMP/keys/sign.pub.pem
mkdir -p "$PF_TMP/keys"
"$PINFOLD" audit keygen --key "$KEY" >/dev/null || { echo "FAIL setup: keygen"; exit 1; }
port=$(pf_free_ports 1) || { echo "FAIL setup: no free port"; exit 1; }
cat >"$PF_TMP/policy.yaml" <<'YAML'
version: 1
agents:
  rt: {}
YAML

# run LOG SCRIPT: a confined python3 agent running SCRIPT (port in argv[1])
run()
{
	"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent rt --allow-degraded --no-watch \
		--audit "$1" --audit-key "$KEY" -- python3 -c "$2" "$port" \
		>>"$PF_TMP/run.out" 2>>"$PF_TMP/run.err" </dev/null
}

# ---- comms ----
cat >"$PF_TMP/comms.py" <<'PY'
import ctypes, socket, sys
port = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
comms = [b'a"b\\c', b'\n{"kind":"x"}', b'\x1b[31mred', b'del\x7f\x08\x0c\r\t', b'\xff\xfe\xc3',
         b'\xc3\xa9t\xc3', b'\xe2\x80', b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'/\\/\\u0000',
         b'x' * 15, b'\xc0\xaf', b'\x01\x02\x1f']
for c in comms:
    libc.prctl(15, ctypes.c_char_p(c), 0, 0, 0)  # PR_SET_NAME
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass
    s.close()
open("/proc/self/comm", "wb").write(b'w\xffq"\n')
s = socket.socket()
try:
    s.connect(("127.0.0.1", port))
except OSError:
    pass
PY
run "$PF_TMP/comm.jsonl" "$(cat "$PF_TMP/comms.py")"
check comm-valid "the audit file is not valid JSON Lines" pf_audit_valid "$PF_TMP/comm.jsonl"
check comm-readback "a comm does not read back" python3 - "$PF_TMP/comm.jsonl" <<'PY'
import json, sys
want = [b'a"b\\c', b'\n{"kind":"x"}', b'\x1b[31mred', b'del\x7f\x08\x0c\r\t', b'\xff\xfe\xc3',
        b'\xc3\xa9t\xc3', b'\xe2\x80', b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'/\\/\\u0000',
        b'x' * 15, b'\xc0\xaf', b'\x01\x02\x1f', b'w\xffq"\n']
got = [r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))
       if r.get("kind") == "decision" and r.get("action") == "connect"]
ok = len(got) == len(want)
if not ok:
    print("    %d connect records, %d comms" % (len(got), len(want)))
for r, w in zip(got, want):
    w = w[:15]
    if "comm_hex" in r and bytes.fromhex(r["comm_hex"]) != w:
        print("    comm_hex %r for %r" % (r["comm_hex"], w)); ok = False
    try:
        w.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    if valid and (r["comm"] != w.decode() or "comm_hex" in r):
        print("    comm %r for %r" % (r["comm"], w)); ok = False
    if not valid and "comm_hex" not in r:
        print("    no comm_hex for %r (%r)" % (w, r["comm"])); ok = False
    if r.get("kind") != "decision" or "object" not in r:
        print("    record changed: %r" % r); ok = False
sys.exit(0 if ok else 1)
PY
vrc=0
"$PINFOLD" audit verify --log "$PF_TMP/comm.jsonl" --key "$PUB" >"$PF_TMP/verify.out" 2>&1 || vrc=$?
check comm-verify "verify exit $vrc: $(head -c 400 "$PF_TMP/verify.out")" test "$vrc" = 0
"$PINFOLD" audit show --log "$PF_TMP/comm.jsonl" >"$PF_TMP/show.out" 2>&1
check comm-show-no-control "audit show printed a raw control character" python3 - \
	"$PF_TMP/show.out" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
bad = [(i, data[i]) for i in range(len(data)) if (data[i] < 0x20 and data[i] != 0x0a) or data[i] == 0x7f]
lines = data.count(b"\n")
if bad:
    print("    raw bytes at %r" % bad[:8])
sys.exit(1 if bad else 0)
PY

# ---- exit right after N denials: every record, before instance-exit ----
for n in 1 7 300 5000; do
	log=$PF_TMP/exit$n.jsonl
	run "$log" "
import socket, sys
for _ in range($n):
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', int(sys.argv[1])))
    except OSError:
        pass
    s.close()
"
	check "exit-$n-records" "records: $(pf_audit_count "$log" kind=decision action=connect) + lost $(pf_audit_lost "$log") of $n" \
		test "$(($(pf_audit_count "$log" kind=decision action=connect) + $(pf_audit_lost "$log")))" = "$n"
	check "exit-$n-before-exit" "a decision record after instance-exit" python3 -c '
import json, sys
kinds = [json.loads(l)["kind"] for l in open(sys.argv[1])]
sys.exit(0 if "instance-exit" in kinds and "decision" not in kinds[kinds.index("instance-exit"):] else 1)' "$log"
done

# ---- one denial, then silence: its record within 200 ms ----
log=$PF_TMP/trickle.jsonl
run "$log" "
import socket, sys, time, os
time.sleep(0.3)
for i in range(5):
    s = socket.socket()
    t = time.time()
    try:
        s.connect(('127.0.0.1', int(sys.argv[1])))
    except OSError:
        pass
    s.close()
    deadline = t + 0.2
    while time.time() < deadline:
        if open('$log').read().count('\"decision\"') > i:
            break
        time.sleep(0.002)
    print('trickle', i, round((time.time() - t) * 1000, 1), flush=True)
    time.sleep(0.5)
"
check trickle-within-200ms "$(grep trickle "$PF_TMP/run.out" | tr '\n' ' ')" \
	python3 -c '
import sys
ms = [float(l.split()[2]) for l in open(sys.argv[1]) if l.startswith("trickle")]
sys.exit(0 if len(ms) == 5 and max(ms) < 200 else 1)' "$PF_TMP/run.out"

# ---- SIGTERM in a flood: records + lost = events numbered ----
log=$PF_TMP/term.jsonl
"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent rt --allow-degraded --no-watch \
	--audit "$log" --audit-key "$KEY" -- python3 -c "
import socket, sys
n = 0
try:
    while True:
        s = socket.socket()
        try:
            s.connect(('127.0.0.1', $port))
        except OSError:
            pass
        s.close()
        n += 1
finally:
    open('$PF_TMP/term.n', 'w').write(str(n))
" >/dev/null 2>>"$PF_TMP/run.err" </dev/null &
rp=$!
for _ in $(seq 100); do grep -q decision "$log" 2>/dev/null && break; sleep 0.05; done
sleep 0.5
kill -TERM "$rp"
wait "$rp"
check term-valid "the audit file is not valid JSON Lines" pf_audit_valid "$log"
check term-exit-record "no instance-exit after SIGTERM" grep -q instance-exit "$log"
check term-seq-covered "event numbers not covered: $(python3 - "$log" 2>&1 <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
seqs = sorted(r["seq"] for r in recs if r["kind"] == "decision")
lost = sum(r.get("count", 0) for r in recs if r["kind"] == "events-lost")
print("decisions %d lost %d max seq %s" % (len(seqs), lost, seqs[-1] if seqs else None))
PY
)" python3 - "$log" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
seqs = sorted(r["seq"] for r in recs if r["kind"] == "decision")
lost = sum(r.get("count", 0) for r in recs if r["kind"] == "events-lost")
sys.exit(0 if seqs and len(set(seqs)) == len(seqs) and len(seqs) + lost >= seqs[-1] else 1)
PY
vrc=0
"$PINFOLD" audit verify --log "$log" --key "$PUB" >"$PF_TMP/verify.out" 2>&1 || vrc=$?
check term-verify "verify exit $vrc: $(head -c 400 "$PF_TMP/verify.out")" test "$vrc" = 0

pf_finish
