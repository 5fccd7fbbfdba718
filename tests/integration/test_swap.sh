#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_swap.sh - live policy swap on the host: the real kernel, real
# cgroups, real sockets; network rules only (file rules need BPF LSM).
#
# Three loopback listeners: A is allowed by both policies, B by neither, C
# by policy 2 only. The agent, under pinfold run, connects to A as fast as
# it can in one thread and to B and C a few hundred times a second in
# another, while the test swaps policy 1 and policy 2 (written elsewhere in
# the directory, renamed into place) $SWAPS times. It checks:
#   - every connect to A succeeded, every one to B failed with EPERM, C both
#     (and flipped): no decision saw a half-applied policy;
#   - one policy-applied record per swap, generations 2..SWAPS+1 in order,
#     odd ones with policy 1's SHA-256 and even ones with policy 2's;
#   - every decision record is consistent with its generation: C allowed
#     only in even ones, described by policy 2's backend and family (both
#     policies hold the same ids for different names, so a record described
#     by the wrong generation's policy names the wrong ones); no record of A;
#   - only the generation in force has rules in the kernel;
#   - an invalid policy and one without the agent are rejected with a record
#     naming the error's place, and change nothing; an identical rewrite
#     changes nothing either;
#   - the private temporary directory: TMPDIR, 0700, owned by the agent's
#     user, gone after the run; what a killed run left on the slot is removed
#     first, without following the links in it;
#   - the guard: pinfold run refuses to watch (exit 2, one line, the agent
#     not started) a policy the agent could change: where its rules let it
#     write, create or rename (with BPF LSM), or where its uid could by
#     file permissions (without), or any policy of an agent running as root
#     without BPF LSM; it runs with --no-watch, and watches a policy the
#     agent may only read. A swap to a policy the agent could then change
#     is rejected.
#
# Without BPF LSM an agent running as root could rewrite any policy, and
# pinfold runs the agent with its own credentials: so the swaps run under a
# copy of pinfold given the capabilities it needs as file capabilities,
# started as nobody. The agent then runs as nobody, without capabilities.
# Where the bounding set withholds those capabilities, the test skips after
# the checks that need none.
#
#   tests/integration/test_swap.sh        (root; after make tests)
#   PF_SWAPS=N                            swaps (default 200)
#
# It fails for a swap that is not atomic: a copy of the tree whose
# switch_to (userspace/swap.c) deletes the old generation's rules before
# instance_switch, built and given as PINFOLD=copy/build/pinfold, fails the
# A checks (38 connects refused in 411518, in one run). What it cannot show
# is the grace period instance_purge_gen waits for: without it, only a
# decision in flight across the switch would miss its rules.
# SC2317: applied_ge and rejected_ge are called through pf_wait; SC2016: the
# agent's sh -c scripts expand their own $0
# shellcheck disable=SC2317,SC2016
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

SWAPS=${PF_SWAPS:-200}

# ---- listeners: A, B, C, and D (named by policy 1 only, never connected to)

cat >"$PF_TMP/listen.py" <<'PY'
import os, socket, sys, threading, time
ready, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
socks = []
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p))
    s.listen(4096)
    socks.append(s)
def serve(s):
    while True:
        c, _ = s.accept()
        c.close()
for s in socks:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
open(ready + ".tmp", "w").close()
os.rename(ready + ".tmp", ready)
time.sleep(600)
PY

started=0
for _ in 1 2 3 4 5; do
	BASE=$(pf_free_ports 4) || break
	rm -f "$PF_TMP/listen.ready"
	python3 "$PF_TMP/listen.py" "$PF_TMP/listen.ready" "$BASE" $((BASE + 1)) $((BASE + 2)) \
		$((BASE + 3)) 2>"$PF_TMP/listen.log" &
	LISTEN_PID=$!
	if pf_wait 5 test -e "$PF_TMP/listen.ready"; then
		PF_PIDS+=("$LISTEN_PID")
		started=1
		break
	fi
	kill "$LISTEN_PID" 2>/dev/null
	wait "$LISTEN_PID" 2>/dev/null
done
[ $started = 1 ] || { echo "FAIL setup: cannot listen: $(cat "$PF_TMP/listen.log")"; exit 1; }
PA=$BASE PB=$((BASE + 1)) PC=$((BASE + 2)) PD=$((BASE + 3))

# ---- the two policies, with the same ids for different names

POLDIR=$PF_TMP/policy
mkdir -p "$POLDIR"
POLICY=$POLDIR/policy.yaml
# what the agent (nobody) reads and writes; the rest of PF_TMP only root may
AGENT_DIR=$PF_TMP/agent
mkdir -p "$AGENT_DIR"
chown 65534:65534 "$AGENT_DIR"
chmod 0711 "$PF_TMP"
cat >"$PF_TMP/p1.yaml" <<EOF
version: 1
backends:
  svc-a:
    destinations:
      - { to: 127.0.0.1, port: $PA, proto: tcp }
  svc-x:
    destinations:
      - { to: 127.0.0.1, port: $PD, proto: tcp }
families:
  one:
    grants:
      - { backend: svc-a, actions: [connect] }
      - { backend: svc-x, actions: [connect], audit: true }
agents:
  looper:
    families: [runtime, runtime-programs, one]
    files:
      - { path: $AGENT_DIR, access: read-write }
EOF
cat >"$PF_TMP/p2.yaml" <<EOF
version: 1
backends:
  svc-a:
    destinations:
      - { to: 127.0.0.1, port: $PA, proto: tcp }
  svc-c:
    destinations:
      - { to: 127.0.0.1, port: $PC, proto: tcp }
families:
  two:
    grants:
      - { backend: svc-a, actions: [connect] }
      - { backend: svc-c, actions: [connect], audit: true }
agents:
  looper:
    families: [runtime, runtime-programs, two]
    files:
      - { path: $AGENT_DIR, access: read-write }
EOF
printf 'version: 1\nagents:\n  looper: [\n' >"$PF_TMP/bad-syntax.yaml"
printf 'version: 1\nagents:\n  other:\n    families: []\n' >"$PF_TMP/no-agent.yaml"

# put FILE: make FILE the policy, as a deployment would: write, then rename
put()
{
	cp "$1" "$POLDIR/.policy.yaml.new" && mv -f "$POLDIR/.policy.yaml.new" "$POLICY"
}

put "$PF_TMP/p1.yaml"

# ---- the agent: A as fast as it can, B and C every few milliseconds

cat >"$AGENT_DIR/looper.py" <<'PY'
import errno, json, os, signal, socket, struct, sys, threading, time
pa, pb, pc, out, ready = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
linger = struct.pack("ii", 1, 0)  # close with a reset: no TIME_WAIT pile-up

def attempt(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__
    finally:
        s.close()

counts = {"a": {}, "b": {}, "c": {}}
flips = [0]

def count(k, r):
    counts[k][r] = counts[k].get(r, 0) + 1

def hammer():
    while not stop.is_set():
        count("a", attempt(pa))

def sample():
    last = None
    while not stop.is_set():
        count("b", attempt(pb))
        r = attempt(pc)
        count("c", r)
        if last is not None and (r == "ok") != (last == "ok"):
            flips[0] += 1
        last = r
        if not os.path.exists(ready):
            open(ready, "w").close()
        time.sleep(0.003)

threads = [threading.Thread(target=hammer), threading.Thread(target=sample)]
for t in threads:
    t.start()
while not stop.is_set():
    stop.wait(0.5)
for t in threads:
    t.join()
tmp = os.environ.get("TMPDIR", "")
try:
    st = os.stat(tmp)
    tmp_stat = [oct(st.st_mode & 0o7777), st.st_uid, os.getuid()]
except OSError as e:
    tmp_stat = [str(e)]
with open(out + ".tmp", "w") as f:
    json.dump({"counts": counts, "c_flips": flips[0], "tmpdir": tmp, "tmp_stat": tmp_stat}, f)
os.rename(out + ".tmp", out)
PY

# ---- the guard: a policy the agent could change is not watched

if pf_bpf_lsm; then LSM=1; else LSM=0; fi

# A copy of pinfold with the capabilities it needs as file capabilities
# (security.capability, revision 2, effective), which only root and nobody
# may run: started as nobody, it runs the agent as nobody, without them.
CAPBIN=$PF_TMP/capbin
if ! { mkdir "$CAPBIN" && cp "$PINFOLD" "$CAPBIN/pinfold" &&
	chown 0:65534 "$CAPBIN" "$CAPBIN/pinfold" && chmod 0750 "$CAPBIN" "$CAPBIN/pinfold"; }; then
	echo "FAIL setup: cannot copy pinfold to $CAPBIN"
	exit 1
fi
python3 - "$CAPBIN/pinfold" <<'PY' || { echo "FAIL setup: cannot set file capabilities"; exit 1; }
import os, struct, sys
# chown 0, dac_override 1, fowner 3, kill 5, net_admin 12, sys_admin 21, perfmon 38, bpf 39
caps = [0, 1, 3, 5, 12, 21, 38, 39]
lo = sum(1 << c for c in caps if c < 32)
hi = sum(1 << (c - 32) for c in caps if c >= 32)
os.setxattr(sys.argv[1], "security.capability", struct.pack("<IIIII", 0x02000001, lo, 0, hi, 0))
PY
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups "$CAPBIN/pinfold")
# the system's python, which nobody may run (root's python3 may be a private shim)
AGENT_PYTHON=/usr/bin/python3
[ -x "$AGENT_PYTHON" ] || AGENT_PYTHON=$(command -v python3)

# the guard's policies: agent guard may write its own directory only,
# agent writer also the directory open, which nobody may write too
GDIR=$PF_TMP/guard
mkdir -p "$GDIR/ro/policy.d" "$GDIR/open"
chmod 0777 "$GDIR/open"
cat >"$PF_TMP/guard.yaml" <<END
version: 1
agents:
  guard:
    families: [runtime, runtime-programs]
    files:
      - { path: $AGENT_DIR, access: read-write }
  writer:
    families: [runtime, runtime-programs]
    files:
      - { path: $AGENT_DIR, access: read-write }
      - { path: $GDIR/open, access: read-write }
END
for f in ro/policy.yaml ro/policy.d/agents.yaml ro/owned.yaml open/policy.yaml; do
	cp "$PF_TMP/guard.yaml" "$GDIR/$f"
done
chown 65534 "$GDIR/ro/owned.yaml"
ln -s "$GDIR/ro/policy.yaml" "$GDIR/open/link.yaml"
MARK=$AGENT_DIR/ran
GAUDIT=$PF_TMP/guard.jsonl

# refused NAME PATTERN PINFOLD-RUN...: pinfold run, given the rest of its
# arguments, refuses to watch: exit 2, the agent not started, and one line
# on stderr saying so, which matches PATTERN (grep -E)
refused()
{
	local name=$1 pattern=$2 n
	shift 2

	rm -f "$MARK"
	pf_exec "$@" --audit "$GAUDIT" --allow-degraded -- sh -c ': >"$0"' "$MARK"
	n=$(grep -c '^pinfold: refusing to watch policy ' "$PF_ERR")
	check "$name: exit 2" "exit $PF_RC; stderr: $(pf_stderr)" [ "$PF_RC" = 2 ]
	check "$name: agent not started" "$MARK exists" [ ! -e "$MARK" ]
	check "$name: one line says why" "want one line matching '$pattern'; stderr: $(pf_stderr)" \
		[ "$n" = 1 ] && grep -qE "^pinfold: refusing to watch policy $pattern" "$PF_ERR"
}

# runs NAME WATCHED PINFOLD-RUN...: the agent runs, the policy watched or not
runs()
{
	local name=$1 watched=$2 n
	shift 2

	rm -f "$MARK" "$GAUDIT"
	pf_exec "$@" --audit "$GAUDIT" --allow-degraded -- sh -c ': >"$0"' "$MARK"
	n=$(pf_audit_count "$GAUDIT" kind=instance-start watched="$watched")
	check "$name: runs" "exit $PF_RC; stderr: $(pf_stderr)" [ "$PF_RC" = 0 -a -e "$MARK" ]
	check "$name: watched $watched" "$(pf_audit_show "$GAUDIT")" [ "$n" = 1 ]
}

if [ $LSM = 1 ]; then
	refused "policy the agent's rules let it write" \
		"$GDIR/open/policy.yaml: agent writer may .*own files rule $GDIR/open" \
		"$PINFOLD" run --policy "$GDIR/open/policy.yaml" --agent writer
	runs "policy the agent's rules let it write, --no-watch" false \
		"$PINFOLD" run --policy "$GDIR/open/policy.yaml" --agent writer --no-watch
else
	refused "agent runs as root, no BPF LSM" "$GDIR/ro/policy.yaml: .*agent guard runs as root" \
		"$PINFOLD" run --policy "$GDIR/ro/policy.yaml" --agent guard
	runs "agent runs as root, no BPF LSM, --no-watch" false \
		"$PINFOLD" run --policy "$GDIR/ro/policy.yaml" --agent guard --no-watch
fi

# the agent as nobody
pf_exec "${AS_NOBODY[@]}" run --policy "$GDIR/ro/policy.yaml" --agent guard --no-watch \
	--audit "$GAUDIT" --allow-degraded -- true
if [ "$PF_RC" != 0 ]; then
	# a bounding set without these capabilities, say: nothing below can run
	pf_skip "pinfold with file capabilities cannot run as nobody here (exit $PF_RC: $(pf_stderr))"
fi
if [ $LSM = 0 ]; then
	refused "policy in a directory the agent's uid may write" \
		"$GDIR/open/policy.yaml: .*agent guard \\(uid 65534\\) may create files in $GDIR/open" \
		"${AS_NOBODY[@]}" run --policy "$GDIR/open/policy.yaml" --agent guard
	refused "policy file the agent's uid owns" \
		"$GDIR/ro/owned.yaml: .*agent guard \\(uid 65534\\) owns $GDIR/ro/owned.yaml" \
		"${AS_NOBODY[@]}" run --policy "$GDIR/ro/owned.yaml" --agent guard
	refused "policy reached through a link the agent's uid may rename" \
		"$GDIR/open/link.yaml: .*agent guard \\(uid 65534\\) may delete or rename $GDIR/open/link.yaml" \
		"${AS_NOBODY[@]}" run --policy "$GDIR/open/link.yaml" --agent guard
	runs "policy in a directory the agent's uid may write, --no-watch" false \
		"${AS_NOBODY[@]}" run --policy "$GDIR/open/policy.yaml" --agent guard --no-watch
fi
runs "policy file the agent may only read" true \
	"${AS_NOBODY[@]}" run --policy "$GDIR/ro/policy.yaml" --agent guard
runs "policy directory the agent may only read" true \
	"${AS_NOBODY[@]}" run --policy "$GDIR/ro/policy.d" --agent guard

# What a killed run would leave: a tmp dir for every slot, each holding a
# link out of it. The run removes its own slot's, and follows no link.
mkdir -p "$PF_TMP/outside" /run/pinfold/tmp
echo keep >"$PF_TMP/outside/file"
STALE=()
for ((s = 0; s < 64; s++)); do
	d=/run/pinfold/tmp/$s.stale-test.$$
	mkdir -p "$d/sub" && ln -s "$PF_TMP/outside" "$d/sub/link" && STALE+=("$d")
done
trap 'rm -rf "${STALE[@]}"; pf_cleanup' EXIT

AUDIT=$PF_TMP/audit.jsonl
RESULT=$AGENT_DIR/looper.json
READY=$AGENT_DIR/looper.ready
"${AS_NOBODY[@]}" run --policy "$POLICY" --agent looper --audit "$AUDIT" --allow-degraded \
	-- "$AGENT_PYTHON" "$AGENT_DIR/looper.py" "$PA" "$PB" "$PC" "$RESULT" "$READY" \
	>"$PF_TMP/run.out" 2>"$PF_TMP/run.err" &
RUN_PID=$!
PF_PIDS+=("$RUN_PID")
if ! pf_wait 20 test -e "$READY"; then
	echo "FAIL setup: the agent did not start: $(head -c 600 "$PF_TMP/run.err")"
	exit 1
fi

# applied, rejected: how many policy-applied (-rejected) records the audit file holds;
# applied_ge N, rejected_ge N: at least N
applied() { grep -c '"kind":"policy-applied"' "$AUDIT"; }
rejected() { grep -c '"kind":"policy-rejected"' "$AUDIT"; }
applied_ge() { [ "$(applied)" -ge "$1" ]; }
rejected_ge() { [ "$(rejected)" -ge "$1" ]; }

# ---- the swaps

T0=$(date +%s.%N)
swapped=0
for ((i = 1; i <= SWAPS; i++)); do
	if ((i % 2)); then put "$PF_TMP/p2.yaml"; else put "$PF_TMP/p1.yaml"; fi
	if ! pf_wait 10 applied_ge "$i"; then
		fail "swap $i" "no policy-applied record within 10 s (stderr: $(tail -c 400 "$PF_TMP/run.err" | tr '\n' '|'))"
		break
	fi
	swapped=$i
	# a few rounds of B and C under each generation
	sleep 0.02
done
T1=$(date +%s.%N)
check "$SWAPS swaps applied" "$swapped applied" [ "$swapped" = "$SWAPS" ]
echo "note: $swapped swaps in $(python3 -c "print('%.1f' % ($T1 - $T0))") s"
GEN=$((swapped + 1))

# ---- only the generation in force has rules in the kernel

SLOT=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "instance-start":
        print(r["slot"]); break' "$AUDIT")
if command -v bpftool >/dev/null; then
	gens=$(bpftool -j map dump pinned /sys/fs/bpf/pinfold/pf_net 2>/dev/null | python3 -c '
import json, sys
slot = int(sys.argv[1])
gens = set()
for e in json.load(sys.stdin):
    k = bytes(int(b, 16) for b in e["key"])
    if int.from_bytes(k[4:8], "big") == slot:
        gens.add(int.from_bytes(k[8:12], "big"))
print(" ".join(map(str, sorted(gens))))' "$SLOT")
	check "kernel holds generation $GEN only" "slot $SLOT has rules of generations '$gens'" \
		[ "$gens" = "$GEN" ]
else
	echo "note: bpftool missing, the kernel's generations are not checked"
fi

# ---- rejections change nothing

# the policy in force now, and the other one
if ((GEN % 2)); then CUR=$PF_TMP/p1.yaml OTHER=$PF_TMP/p2.yaml; else CUR=$PF_TMP/p2.yaml OTHER=$PF_TMP/p1.yaml; fi

put "$PF_TMP/bad-syntax.yaml"
pf_wait 10 rejected_ge 1
n=$(pf_audit_count "$AUDIT" kind=policy-rejected generation="$GEN" line column message)
check "invalid policy rejected with its place" "$(grep policy-rejected "$AUDIT" | head -c 600)" \
	[ "$n" = 1 ]
check "rejection said on stderr" "$(tail -c 400 "$PF_TMP/run.err")" \
	grep -q "^pinfold: policy change rejected, generation $GEN stays in force: .*policy.yaml:[0-9]*:[0-9]*: error: " \
	"$PF_TMP/run.err"
sleep 0.3

put "$PF_TMP/no-agent.yaml"
pf_wait 10 rejected_ge 2
n=$(pf_audit_count "$AUDIT" kind=policy-rejected generation="$GEN" \
	message="no agent looper in the policy")
check "policy without the agent rejected" "$(grep policy-rejected "$AUDIT" | tail -n 1)" [ "$n" = 1 ]
sleep 0.3

# back to the policy in force: loads, but is no change
put "$CUR"
sleep 0.5
check "identical policy applies nothing" "$(applied) applied" [ "$(applied)" = "$swapped" ]
check "no further rejection" "$(rejected) rejected" [ "$(rejected)" = 2 ]

# a policy the agent could then change is rejected: with BPF LSM, one whose
# rules let it write the policy's directory; without, any once nobody may
# write that directory
if [ $LSM = 1 ]; then
	sed "s|^      - { path: $AGENT_DIR, access: read-write }\$|&\n      - { path: $POLDIR, access: read-write }|" \
		"$OTHER" >"$PF_TMP/self-write.yaml"
	put "$PF_TMP/self-write.yaml"
	want="agent looper may .*own files rule $POLDIR"
else
	chmod 0777 "$POLDIR"
	put "$OTHER"
	want="agent looper \\(uid 65534\\) may create files in $POLDIR"
fi
pf_wait 10 rejected_ge 3
last=$(grep '"kind":"policy-rejected"' "$AUDIT" | tail -n 1)
n=$(pf_audit_count "$AUDIT" kind=policy-rejected generation="$GEN")
check "a policy the agent could change is rejected" "$n rejections; last: $(head -c 600 <<<"$last")" \
	[ "$n" = 3 ] && grep -qE "$want" <<<"$last"
check "that rejection said on stderr" "$(tail -c 400 "$PF_TMP/run.err")" \
	grep -qE "^pinfold: policy change rejected, generation $GEN stays in force: .*$want" \
	"$PF_TMP/run.err"
check "nothing applied meanwhile" "$(applied) applied" [ "$(applied)" = "$swapped" ]
chmod 0755 "$POLDIR"
sleep 0.3

put "$OTHER"
pf_wait 10 applied_ge $((swapped + 1))
GEN=$((GEN + 1))
n=$(pf_audit_count "$AUDIT" kind=policy-applied generation="$GEN")
check "a valid policy after rejections applies" "$(applied) applied" [ "$n" = 1 ]
sleep 0.3

# ---- stop the agent: pinfold passes SIGTERM on

kill -TERM "$RUN_PID"
wait "$RUN_PID"
rc=$?
check "pinfold run exits with the agent's status" "exit $rc; stderr: $(tail -c 400 "$PF_TMP/run.err")" \
	[ "$rc" = 0 ]
check "audit file valid" "$(pf_audit_valid "$AUDIT")" pf_audit_valid "$AUDIT"

# ---- what the agent saw

python3 - "$RESULT" <<'PY' >"$PF_TMP/looper.check"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counts"]
def n(k, v): return c[k].get(v, 0)
def others(k, v): return {x: y for x, y in c[k].items() if x != v}
print("a", n("a", "ok"), json.dumps(others("a", "ok")))
print("b", n("b", "EPERM"), json.dumps(others("b", "EPERM")))
print("c", n("c", "ok"), n("c", "EPERM"), json.dumps({x: y for x, y in c["c"].items() if x not in ("ok", "EPERM")}), r["c_flips"])
print("tmp", r["tmpdir"], *r["tmp_stat"])
PY
read -r _ a_ok a_bad < <(grep '^a ' "$PF_TMP/looper.check")
read -r _ b_eperm b_bad < <(grep '^b ' "$PF_TMP/looper.check")
read -r _ c_ok c_eperm c_bad c_flips < <(grep '^c ' "$PF_TMP/looper.check")
read -r _ tmpdir tmp_mode tmp_uid agent_uid < <(grep '^tmp ' "$PF_TMP/looper.check")
echo "note: A connected $a_ok times; B refused $b_eperm times; C $c_ok ok, $c_eperm refused, $c_flips flips"
check "every connect to A succeeded" "$a_ok ok, others $a_bad" [ "$a_bad" = "{}" -a "$a_ok" -gt 1000 ]
check "every connect to B refused with EPERM" "$b_eperm EPERM, others $b_bad" \
	[ "$b_bad" = "{}" -a "$b_eperm" -gt 100 ]
check "C allowed and refused, nothing else" "$c_ok ok, $c_eperm EPERM, others $c_bad" \
	[ "$c_bad" = "{}" -a "$c_ok" -gt 50 -a "$c_eperm" -gt 50 ]
check "C flipped with the swaps" "$c_flips flips in $swapped swaps" [ "$c_flips" -ge $((swapped / 4)) ]

# ---- what the audit file says

python3 - "$AUDIT" "$PA" "$PB" "$PC" "$swapped" <<'PY' >"$PF_TMP/audit.check"
import json, sys
path, pa, pb, pc, swaps = sys.argv[1], *map(int, sys.argv[2:])
recs = [json.loads(l) for l in open(path)]
start = [r for r in recs if r["kind"] == "instance-start"]
applied = [r for r in recs if r["kind"] == "policy-applied"]
problems, late, seen = [], 0, {"b": 0, "c-allow": 0, "c-deny": 0}
gens = [r["generation"] for r in applied]
if gens != list(range(2, len(applied) + 2)):
    problems.append("applied generations out of order: %s" % gens[:10])
sha = {1: start[0]["policy_sha256"]} if start else {}
for r in applied:
    sha[r["generation"]] = r["policy_sha256"]
odd = {v for g, v in sha.items() if g % 2}
even = {v for g, v in sha.items() if g % 2 == 0}
if len(odd) != 1 or len(even) != 1 or odd == even:
    problems.append("sha256 does not alternate: odd %s even %s" % (odd, even))
current = 1
for r in recs:
    if r["kind"] == "policy-applied":
        current = r["generation"]
        continue
    if r["kind"] != "decision":
        continue
    g, port, obj = r.get("generation"), r.get("port"), r.get("object")
    if g is None or g < 1:
        problems.append("no generation: %s" % obj)
        continue
    late += g < current
    for bad in ("bad_event", "policy_unknown"):
        if bad in r:
            problems.append("%s in %s" % (bad, json.dumps(r)[:300]))
    if port == pa:
        problems.append("A recorded: %s" % json.dumps(r)[:300])
    elif port == pb:
        seen["b"] += 1
        if r["decision"] != "deny" or "rule" in r:
            problems.append("B not denied: %s" % json.dumps(r)[:300])
    elif port == pc and r["decision"] == "allow":
        seen["c-allow"] += 1
        if g % 2 or r.get("backend") != "svc-c" or r.get("family") != "two" \
                or "port %d tcp" % pc not in r.get("destination", "") \
                or "family two" not in r.get("rule", ""):
            problems.append("C allowed, generation %d: %s" % (g, json.dumps(r)[:400]))
    elif port == pc:
        seen["c-deny"] += 1
        if g % 2 == 0 or r.get("reason_code") != "no-rule" or "backend" in r:
            problems.append("C denied, generation %d: %s" % (g, json.dumps(r)[:400]))
    else:
        problems.append("unexpected record: %s" % json.dumps(r)[:300])
print("applied", len(applied))
print("seen", seen["b"], seen["c-allow"], seen["c-deny"], late)
for p in problems[:5]:
    print("problem", p)
print("problems", len(problems))
PY
n_applied=$(awk '$1 == "applied" { print $2 }' "$PF_TMP/audit.check")
read -r _ seen_b seen_ca seen_cd late < <(grep '^seen ' "$PF_TMP/audit.check")
problems=$(awk '$1 == "problems" { print $2 }' "$PF_TMP/audit.check")
echo "note: records: $seen_b of B, $seen_ca C allowed, $seen_cd C refused; $late recorded after the next generation took over; $(pf_audit_lost "$AUDIT") lost"
check "one policy-applied record per swap" "$n_applied records for $((swapped + 1)) swaps" \
	[ "$n_applied" = $((swapped + 1)) ]
check "every record consistent with its generation" \
	"$problems problems: $(grep '^problem' "$PF_TMP/audit.check" | tr '\n' '|')" [ "$problems" = 0 ]
check "records of B and of C both ways" "$seen_b B, $seen_ca C allowed, $seen_cd C refused" \
	[ "$seen_b" -gt 0 -a "$seen_ca" -gt 0 -a "$seen_cd" -gt 0 ]
n=$(pf_audit_count "$AUDIT" kind=instance-start generation=1 watched=true private_tmp="$tmpdir")
check "instance-start names generation 1, the watch and the private tmp" \
	"$(head -n 1 "$AUDIT" | head -c 600)" [ "$n" = 1 ]

# ---- the private temporary directory

check "a killed run's tmp dir on the slot removed" "/run/pinfold/tmp/$SLOT.stale-test.$$ is left" \
	[ ! -e "/run/pinfold/tmp/$SLOT.stale-test.$$" ]
check "removal follows no link" "$PF_TMP/outside/file is gone" [ -e "$PF_TMP/outside/file" ]

check "TMPDIR is the private tmp below /run/pinfold/tmp" "TMPDIR '$tmpdir'" \
	[ "${tmpdir#/run/pinfold/tmp/}" != "$tmpdir" ]
check "private tmp is 0700, owned by the agent's user" "mode $tmp_mode, owner $tmp_uid, agent $agent_uid" \
	[ "$tmp_mode" = 0o700 -a "$tmp_uid" = "$agent_uid" ]
check "private tmp removed at exit" "$tmpdir still exists" [ ! -e "$tmpdir" ]

pf_finish
