#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_audit_rt_daemon.sh - two instances of different agents flood one
# daemon's log with denied connects (the writer woken per 256 KiB of ring,
# looking every 10 ms; the text of a record after seq reused per thread for
# every instance the daemon writes); the daemon is SIGKILLed in the flood and
# restarted (adoption reads what waited in the rings), then stopped with
# SIGTERM while the agents still flood, restarted again, and the agents end:
#  - every line is JSON, and the log verifies;
#  - every decision record names its own instance's agent, cgroup, port and
#    rule text (agent a1 denies port PA, a2 port PB, each allowed another);
#  - per instance, every event number is one record or inside an
#    events-lost range, and none comes after its instance-exit.
#
#   tests/integration/test_audit_rt_daemon.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
pf_init

DPID=
cleanup_daemon()
{
	pf_daemon_stop
	"$PINFOLD" unload --force >/dev/null 2>&1
	pf_cleanup
}
trap cleanup_daemon EXIT
if [ -S /run/pinfold/control.sock ] && "$PINFOLD" status >/dev/null 2>&1; then
	echo "FAIL setup: a pinfold daemon runs already; stop it first"
	exit 1
fi

B=$(pf_free_ports 3) || { echo "FAIL setup: no free ports"; exit 1; }
PA=$B PB=$((B + 1)) PC=$((B + 2))
# the agents run as nobody (a root agent could change the watched policy)
chmod 0711 "$PF_TMP"
mkdir -m 0755 "$PF_TMP/bin" "$PF_TMP/pol"
mkdir -m 0777 "$PF_TMP/rw"
cp "$PINFOLD" "$PF_TMP/bin/"
PF=$PF_TMP/bin/pinfold
RW=$PF_TMP/rw
mkdir -m 0700 "$PF_TMP/log"
LOG=$PF_TMP/log/audit.jsonl
POL=$PF_TMP/pol/policy.yaml
cat >"$POL" <<YAML
version: 1
agents:
  a1:
    network:
      - { to: 127.0.0.1, port: $PC, proto: tcp }
  a2:
    network:
      - { to: "::1", port: $PC, proto: tcp }
YAML
start_daemon()
{
	"$PINFOLD" daemon --policy "$POL" --audit "$LOG" >>"$PF_TMP/daemon.log" 2>&1 &
	DPID=$!
	pf_wait 10 "$PINFOLD" status >/dev/null 2>&1
}
start_daemon || { echo "FAIL setup: daemon: $(cat "$PF_TMP/daemon.log")"; exit 1; }

# ---- a trickle through the daemon: one denial, its record within 200 ms ----
setpriv --reuid=65534 --regid=65534 --clear-groups "$PF" run --agent a1 --allow-degraded -- \
	python3 -c "
import socket, time
for i in range(5):
    time.sleep(0.5)
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', $PA))
    except OSError:
        pass
    s.close()
    open('$RW/t.%d' % i, 'w').close()
time.sleep(0.5)
" >/dev/null 2>&1 </dev/null &
T=$!
late=
for i in 0 1 2 3 4; do
	pf_wait 10 test -e "$RW/t.$i"
	t0=$(date +%s%N)
	while [ "$(grep -c '"kind":"decision"' "$LOG")" -le "$i" ] && \
		[ $(($(date +%s%N) - t0)) -lt 1000000000 ]; do
		sleep 0.002
	done
	late="$late $((($(date +%s%N) - t0) / 1000000))"
done
wait "$T"
echo "    trickle: record in the file after$late ms"
check daemon-trickle "a record took more than 200 ms:$late" \
	sh -c "for ms in $late; do [ \$ms -lt 200 ] || exit 1; done"
sleep 0.5

flood()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PF" run --agent "$1" --allow-degraded -- python3 -c "
import os, socket, sys
n = 0
while not os.path.exists('$RW/stop'):
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', $2))
    except OSError:
        pass
    s.close()
    n += 1
open('$RW/n.$1', 'w').write(str(n))
" >/dev/null 2>"$RW/err.$1" </dev/null &
}
flood a1 "$PA"
A1=$!
flood a2 "$PB"
A2=$!
sleep 1.5
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
sleep 0.3
start_daemon || echo "    restart 1 failed: $(tail -3 "$PF_TMP/daemon.log")"
sleep 1
pf_daemon_stop
sleep 0.3
start_daemon || echo "    restart 2 failed: $(tail -3 "$PF_TMP/daemon.log")"
sleep 1
touch "$RW/stop"
wait "$A1" "$A2"
sleep 1.5 # the instances end when their cgroups empty
pf_daemon_stop
echo "agents made $(cat "$RW/n.a1" 2>/dev/null) and $(cat "$RW/n.a2" 2>/dev/null) connects"

check valid "the audit file is not valid JSON Lines" pf_audit_valid "$LOG"
# the log rotates in the flood: every file's records, oldest first
"$PINFOLD" audit show --log "$LOG" --json >"$PF_TMP/all.jsonl" 2>"$PF_TMP/show.err"
check show-all "audit show --json failed: $(head -c 300 "$PF_TMP/show.err")" test -s "$PF_TMP/all.jsonl"
check all-valid "audit show --json is not valid JSON Lines" pf_audit_valid "$PF_TMP/all.jsonl"
vrc=0
"$PINFOLD" audit verify --log "$LOG" >"$PF_TMP/verify.out" 2>&1 || vrc=$?
# a SIGKILL between a batch and its head is a chain-break, as documented
# (docs/audit.md, "The chain"); nothing else may be wrong
check verify "verify exit $vrc: $(head -c 400 "$PF_TMP/verify.out")" python3 -c '
import re, sys
faults = [l for l in open(sys.argv[1]) if re.search(r": record [0-9]+: ", l)]
sys.exit(0 if all("chain-break: the writer that continued here found records after the head" in l
                  for l in faults) else 1)' "$PF_TMP/verify.out"
check records-own "records mixed between instances" python3 - "$PF_TMP/all.jsonl" "$PA" "$PB" <<'PY'
import json, sys
pa, pb = int(sys.argv[2]), int(sys.argv[3])
inst_cg, bad, n = {}, 0, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") != "decision":
        continue
    a = r.get("agent")
    n[a] = n.get(a, 0) + 1
    port = {"a1": pa, "a2": pb}.get(a)
    if inst_cg.setdefault(r["instance"], r["cgroup_id"]) != r["cgroup_id"] or \
       r.get("port") != port or not r["instance"].startswith(a + ".") or \
       ("agent %s" % a) not in r.get("reason", "") or r.get("decision") != "deny":
        bad += 1
        if bad < 4:
            print("    wrong record: %s" % line[:400])
print("    decision records by agent: %r" % n)
sys.exit(1 if bad or len(n) != 2 else 0)
PY
check seq-covered "event numbers not covered" python3 - "$PF_TMP/all.jsonl" <<'PY'
import json, sys
seqs, lost, exited, after = {}, {}, set(), 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    i = r.get("instance")
    if r["kind"] == "decision":
        if i in exited:
            after += 1
        seqs.setdefault(i, []).append(r["seq"])
    elif r["kind"] == "events-lost" and "first_seq" in r:
        lost.setdefault(i, set()).update(range(r["first_seq"], r["last_seq"] + 1))
    elif r["kind"] == "instance-exit":
        exited.add(i)
ok = after == 0
if after:
    print("    %d decision records after their instance-exit" % after)
for i, s in seqs.items():
    cov = sorted(s) + sorted(lost.get(i, ()))
    dup = len(s) - len(set(s))
    top = max(cov)
    missing = set(range(0, top + 1)) - set(cov)
    print("    %s: %d records, %d lost, max seq %d, %d missing, %d twice, exit %s" %
          (i, len(s), len(lost.get(i, ())), top, len(missing), dup, i in exited))
    if dup or (missing - {0}) or i not in exited:
        ok = False
sys.exit(0 if ok and len(seqs) == 3 else 1)
PY
pf_finish
