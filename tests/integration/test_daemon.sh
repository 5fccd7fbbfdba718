#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_daemon.sh - pinfold as a service (issue 6), on this host's kernel:
# network rules enforced by the real cgroup programs, agents confined
# through the daemon's control socket.
#   - run through the daemon, as another user: rules, exit status, records;
#   - SIGKILL of the daemon: enforcement goes on, events wait in the ring,
#     and a restarted daemon adopts the pinned state and writes them, each
#     event number exactly once;
#   - reloads: by SIGHUP, by a change of the file, by `pinfold reload`;
#     an invalid policy is rejected and the one in force stays; many at
#     once end in the last valid one;
#   - who may change things: a non-admin is refused, and the refusal is a
#     record with its uid; a member of the admin group may;
#   - attach, status, unload (refused while agents run, --force ends them).
# BPF LSM is refused on this host: agents ask for --allow-degraded. The
# kernel guard of pinfold's own objects is tested in the VM (test_selfguard).

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
pf_init

NOBODY=65534
ADMIN_GROUP=pf-test-admin
DPID=

cleanup_daemon()
{
	pf_daemon_stop
	"$PINFOLD" unload --force >/dev/null 2>&1
	getent group "$ADMIN_GROUP" >/dev/null && groupdel "$ADMIN_GROUP"
	pf_cleanup
}
trap cleanup_daemon EXIT

# No daemon may run already: this suite starts its own.
if [ -S /run/pinfold/control.sock ] && "$PINFOLD" status >/dev/null 2>&1; then
	echo "FAIL setup: a pinfold daemon runs already; stop it first"
	exit 1
fi
getent group "$ADMIN_GROUP" >/dev/null && groupdel "$ADMIN_GROUP"
groupadd "$ADMIN_GROUP" || { echo "FAIL setup: groupadd"; exit 1; }
ADMIN_GID=$(getent group "$ADMIN_GROUP" | cut -d: -f3)

# what another user runs: copies it can reach
chmod 0711 "$PF_TMP"
mkdir -m 0755 "$PF_TMP/bin" "$PF_TMP/pol"
cp "$PINFOLD" "$PF_PROBE" "$PF_TMP/bin/"
PF=$PF_TMP/bin/pinfold
PROBE=$PF_TMP/bin/pf-probe
mkdir -m 0700 "$PF_TMP/log"
LOG=$PF_TMP/log/audit.jsonl
POL=$PF_TMP/pol/policy.yaml

start_servers()
{
	pf_serve_start srv --addr 127.0.0.1 --tcp "$B" --tcp $((B + 1)) --tcp $((B + 2))
}
pf_serve_on_free_ports 3 start_servers
P0=$B P1=$((B + 1)) P2=$((B + 2))

# policy ALLOWED-PORT...: agent web may connect to these ports
policy()
{
	local p
	{
		echo "version: 1"
		echo "agents:"
		echo "  web:"
		echo "    network:"
		for p in "$@"; do
			printf '      - to: 127.0.0.1\n        port: %s\n        proto: tcp\n' "$p"
		done
		# an agent with other rights, which web must not become
		printf '  other:\n    network:\n      - { to: 127.0.0.1, port: %s, proto: tcp }\n' "$P1"
	} >"$POL.new" && mv "$POL.new" "$POL"
}
policy "$P0"

start_daemon()
{
	"$PINFOLD" daemon --policy "$POL" --audit "$LOG" --admin-group "$ADMIN_GROUP" \
		>>"$PF_TMP/daemon.log" 2>&1 &
	DPID=$!
	pf_wait 10 "$PINFOLD" status >/dev/null 2>&1
}

# as_nobody CMD...: run CMD as uid/gid 65534, no groups
as_nobody()
{
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"
}

# records KIND [JQ-LIKE PYTHON EXPR]: how many records of the log match
records()
{
	"$PINFOLD" audit show --log "$LOG" --json 2>/dev/null | python3 -c '
import json, sys
kind, cond = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "True"
n = 0
for line in sys.stdin:
    r = json.loads(line)
    if r.get("kind") == kind and eval(cond, {}, {"r": r}):
        n += 1
print(n)' "$@"
}

status_json()
{
	"$PINFOLD" status --json 2>/dev/null
}

# status_get PYTHON-EXPR over s (the status reply)
status_get()
{
	status_json | python3 -c 'import json, sys; s = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# the systemd unit that ships: systemd's own check, with the binary where it is
if command -v systemd-analyze >/dev/null; then
	sed "s|@SBIN@|$(dirname "$PINFOLD")|" "$PF_ROOT/userspace/pinfold.service" >"$PF_TMP/pinfold.service"
	pf_exec systemd-analyze verify "$PF_TMP/pinfold.service"
	check unit-verifies "systemd-analyze verify accepts pinfold.service (exit $PF_RC; $(pf_stderr))" \
		sh -c "[ $PF_RC = 0 ] && [ ! -s '$PF_ERR' ]"
else
	echo "SKIP unit-verifies: systemd-analyze is not installed"
fi
check unit-keeps-agents "the unit's stop and restart leave the agents confined (KillMode=process, Restart=always)" \
	sh -c "grep -qx 'KillMode=process' '$PF_ROOT/userspace/pinfold.service' && grep -qx 'Restart=always' '$PF_ROOT/userspace/pinfold.service'"

start_daemon || { echo "FAIL setup: the daemon did not start: $(cat "$PF_TMP/daemon.log")"; exit 1; }
pass "daemon starts and answers status"

check status-programs "status lists the attached programs" \
	[ "$(status_get 'len(s["programs"]) > 0 and all("name" in p for p in s["programs"])')" = True ]
check status-features "status names the BPF LSM state, BTF and the cgroup2 mount" \
	[ "$(status_get 's["features"]["cgroup2"] is not None and "bpf_lsm" in s["features"]')" = True ]

# each program's own cost, counted by the kernel while bpf_stats_enabled is 1
STATS0=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 >/proc/sys/kernel/bpf_stats_enabled
pf_exec as_nobody "$PF" run --agent web --allow-degraded -- "$PROBE" connect 127.0.0.1 "$P1" tcp
echo "$STATS0" >/proc/sys/kernel/bpf_stats_enabled
check status-program-cost "status gives connect4's runs and run time (kernel BPF statistics)" \
	[ "$(status_get '[p for p in s["programs"] if p.get("name") == "connect4" and p["run_cnt"] >= 1 and p["run_time_ns"] > 0] != []')" = True ]
check status-program-cost-line "status prints connect4's cost per run ($("$PINFOLD" status | grep connect4))" \
	sh -c "'$PINFOLD' status | grep -q 'connect4 .* ns/run over [0-9]* runs'"

# ---- run through the daemon, as another user ----

expect "run: allowed port" "ok pong" as_nobody "$PF" run --agent web --allow-degraded -- \
	"$PROBE" connect 127.0.0.1 "$P0" tcp
expect "run: denied port" "err EPERM" as_nobody "$PF" run --agent web --allow-degraded -- \
	"$PROBE" connect 127.0.0.1 "$P1" tcp
pf_exec as_nobody "$PF" run --agent web --allow-degraded -- sh -c 'exit 7'
check run-status "run exits with the agent's status (got $PF_RC)" [ "$PF_RC" = 7 ]
pf_wait 5 sh -c "[ \"\$(\"$PINFOLD\" status --json | grep -c '\"instance\"')\" = 0 ]"
check run-start-record "instance-start names the launching uid" \
	[ "$(records instance-start 'r.get("launched_by_uid") == 65534')" -ge 3 ]
check run-exit-record "instance-exit carries the status the launcher reported" \
	[ "$(records instance-exit 'r.get("status") == 7')" = 1 ]
check run-denial-record "the denial is a record of the daemon's log" \
	[ "$(records decision "r.get(\"action\") == \"connect\" and r.get(\"decision\") == \"deny\" and r.get(\"port\") == $P1")" -ge 1 ]
pf_exec as_nobody "$PF" run --policy /etc/hostname --agent web --allow-degraded -- true
check run-other-policy "a run naming another policy is refused (exit $PF_RC)" \
	sh -c "[ $PF_RC = 2 ] && grep -q 'enforces policy' '$PF_ERR'"
pf_exec "$PINFOLD" run --agent web --allow-degraded --audit "$PF_TMP/other.jsonl" -- true
check run-audit-options "--audit through the daemon is refused (exit $PF_RC)" [ "$PF_RC" = 2 ]

# an agent must not become another: it would choose its own rules
pf_exec as_nobody "$PF" run --agent web --allow-degraded -- \
	"$PF" run --agent other --allow-degraded -- "$PROBE" connect 127.0.0.1 "$P1" tcp
check hop "an agent cannot start an instance of another agent (exit $PF_RC; $(pf_stderr))" \
	sh -c "[ $PF_RC = 2 ] && ! grep -q 'ok pong' '$PF_OUT'"
check hop-record "the attempt is a record" \
	[ "$(records control 'r.get("op") == "run" and r.get("allowed") is False and r.get("requested_by_uid") == 65534')" = 1 ]
pf_exec "$PINFOLD" run --agent web --allow-degraded --no-watch -- \
	"$PINFOLD" run --standalone --policy "$POL" --agent other --allow-degraded --no-watch \
	--audit "$PF_TMP/log/hop.jsonl" -- "$PROBE" connect 127.0.0.1 "$P1" tcp
check hop-standalone "nor standalone (exit $PF_RC; $(pf_stderr))" \
	sh -c "[ $PF_RC = 2 ] && ! grep -q 'ok pong' '$PF_OUT'"
pf_exec as_nobody "$PF" run --agent web --allow-degraded --no-watch -- true
check nowatch-nonadmin "a non-admin may not keep its policy against reloads (exit $PF_RC)" \
	[ "$PF_RC" = 2 ]

# idle connections of one user keep neither root nor others out
/usr/bin/python3 - "$NOBODY" <<'EOF' &
import os, socket, sys, time
os.setgid(int(sys.argv[1])); os.setgroups([]); os.setuid(int(sys.argv[1]))
held = []
for _ in range(2000):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect("/run/pinfold/control.sock")
        held.append(s)
    except OSError:
        break
time.sleep(8)
EOF
FLOOD=$!
sleep 2
pf_exec "$PINFOLD" status
check conn-flood-root "root still gets an answer while a user holds idle connections (exit $PF_RC)" \
	[ "$PF_RC" = 0 ]
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null

# ---- SIGKILL: enforcement and records survive, a restart adopts ----

# The agent connects to P1 (denied) and P0 (allowed) in rounds, each round
# when the test touches go.N; it writes what it got to out.N.
mkdir -m 0777 "$PF_TMP/rounds"
R=$PF_TMP/rounds
as_nobody "$PF" run --agent web --allow-degraded -- sh -c '
	i=0
	while [ $i -lt 40 ]; do
		while [ ! -e "$0/go.$i" ]; do sleep 0.02; done
		"$1" connect 127.0.0.1 "$2" tcp >"$0/out.$i.p1" 2>&1
		"$1" connect 127.0.0.1 "$3" tcp >"$0/out.$i.p0" 2>&1
		touch "$0/done.$i"
		[ -e "$0/stop" ] && exit 0
		i=$((i + 1))
	done' "$R" "$PROBE" "$P1" "$P0" >"$PF_TMP/agent.out" 2>&1 &
AGENT=$!
PF_PIDS+=("$AGENT")
round()
{
	touch "$R/go.$1"
	pf_wait 10 test -e "$R/done.$1"
}
round 0
check kill-before "before the kill: P1 denied, P0 allowed" \
	sh -c "grep -q EPERM '$R/out.0.p1' && grep -q 'ok pong' '$R/out.0.p0'"
links_before=$(status_get 'sorted(p["link"] for p in s["programs"])')
slot_before=$(status_get 's["instances"][0]["slot"]')
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
for i in 1 2 3 4 5; do round $i; done
ok=1
for i in 1 2 3 4 5; do
	grep -q EPERM "$R/out.$i.p1" && grep -q 'ok pong' "$R/out.$i.p0" || ok=0
done
check kill-enforced "with the daemon killed, P1 stays denied and P0 allowed (5 rounds)" [ $ok = 1 ]
check kill-bpffs "the pins stay" test -e /sys/fs/bpf/pinfold/pf_instances
start_daemon
check restart "a restarted daemon answers" [ -n "$DPID" ]
check adopt-instance "the instance is adopted, in its slot" \
	[ "$(status_get '[(i["adopted"], i["slot"]) for i in s["instances"]]')" = "[(True, $slot_before)]" ]
check adopt-links "the same links are attached, none reloaded" \
	[ "$(status_get 'sorted(p["link"] for p in s["programs"])')" = "$links_before" ]
check adopt-record "the adoption is a record" \
	[ "$(records daemon 'r.get("event") == "adopt"')" = 1 ]
round 6
check adopt-enforced "after the restart: P1 denied, P0 allowed" \
	sh -c "grep -q EPERM '$R/out.6.p1' && grep -q 'ok pong' '$R/out.6.p0'"
sleep 1.2 # the writer's next flush
# 7 rounds of 2 connects each: every one is a record, none lost, once each
n_deny=$(records decision "r.get(\"instance\") == \"$(status_get 's["instances"][0]["instance"]')\" and r.get(\"port\") == $P1 and r.get(\"decision\") == \"deny\"")
check downtime-records "the 7 denials, 5 made while no daemon ran, are records (got $n_deny)" \
	[ "$n_deny" = 7 ]
lost=$(records events-lost)
check no-loss "no event was lost across the kill (events-lost records: $lost)" [ "$lost" = 0 ]
"$PINFOLD" audit show --log "$LOG" --json | python3 -c '
import json, sys
want = sys.argv[1]
seqs = {}
for line in sys.stdin:
    r = json.loads(line)
    if "seq" in r and r.get("instance") == want:
        seqs[r["seq"]] = seqs.get(r["seq"], 0) + 1
# every number from 0 to the highest once, exactly
top = max(seqs)
bad = [s for s in range(top + 1) if seqs.get(s) != 1]
print("seq", top + 1, "bad", bad[:5])
sys.exit(1 if bad else 0)' "$(status_get 's["instances"][0]["instance"]')" >"$PF_TMP/seq.out" 2>&1
check seq-once "every event number of the instance is a record exactly once ($(cat "$PF_TMP/seq.out"))" \
	[ $? = 0 ]

# ---- reloads ----

gen() { status_get 's["instances"][0]["generation"]'; }
g0=$(gen)
policy "$P0" "$P1"
kill -HUP "$DPID"
pf_wait 5 sh -c "[ \"\$(\"$PINFOLD\" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"instances\"][0][\"generation\"])')\" != $g0 ]"
round 7
check reload-sighup "after SIGHUP with P1 allowed, the running agent reaches P1" \
	grep -q 'ok pong' "$R/out.7.p1"
check reload-record "the SIGHUP reload is a record" \
	[ "$(records daemon 'r.get("event") == "reload" and r.get("via") == "SIGHUP"')" = 1 ]
check reload-applied "the instance records policy-applied" \
	[ "$(records policy-applied)" -ge 1 ]

sha_before=$(status_get 's["policy_sha256"]')
printf 'version: 1\nagents:\n  web:\n    network:\n      - to: 127.0.0.1\n        port: [oops\n' >"$POL.new"
mv "$POL.new" "$POL"
pf_wait 5 sh -c "[ \"\$(\"$PINFOLD\" audit show --log '$LOG' --kind policy-rejected --json | wc -l)\" -ge 1 ]"
check invalid-rejected "an invalid policy written to the file is rejected, with file:line:column" \
	sh -c "\"$PINFOLD\" audit show --log '$LOG' --kind policy-rejected --json | grep -q 'policy.yaml:[0-9]*:[0-9]*'"
check invalid-keeps "the policy in force stays" [ "$(status_get 's["policy_sha256"]')" = "$sha_before" ]
round 8
check invalid-enforced "the agent still reaches P1 under the policy in force" grep -q 'ok pong' "$R/out.8.p1"
pf_exec "$PINFOLD" reload
check invalid-reload-cmd "pinfold reload of the invalid policy fails, naming the place (exit $PF_RC)" \
	sh -c "[ $PF_RC = 2 ] && grep -q 'policy.yaml:[0-9]*:[0-9]*' '$PF_ERR'"

# many reloads at once, by every way; the file ends allowing P0 only
RELOADS=()
for i in $(seq 1 12); do
	case $((i % 3)) in
	0)
		"$PINFOLD" reload >/dev/null 2>&1 &
		RELOADS+=($!)
		;;
	1) kill -HUP "$DPID" ;;
	2) if [ $((i % 2)) = 0 ]; then policy "$P0" "$P2"; else policy "$P0" "$P1" "$P2"; fi ;;
	esac
done
wait "${RELOADS[@]}" 2>/dev/null
policy "$P0"
"$PINFOLD" reload >/dev/null 2>&1
# the policy's digest (policy.c): name, NUL, size (8 bytes, big-endian), text
want_sha=$(python3 -c '
import hashlib, os, sys
b = open(sys.argv[1], "rb").read()
print(hashlib.sha256(os.path.basename(sys.argv[1]).encode() + b"\0" + len(b).to_bytes(8, "big") + b).hexdigest())' "$POL")
check concurrent-alive "the daemon survives concurrent reloads" kill -0 "$DPID"
check concurrent-final "the last valid policy is in force" \
	[ "$(status_get 's["policy_sha256"]')" = "$want_sha" ]
round 9
check concurrent-enforced "and enforced: P1 denied again, P0 allowed" \
	sh -c "grep -q EPERM '$R/out.9.p1' && grep -q 'ok pong' '$R/out.9.p0'"

# ---- who may change things ----

pf_exec as_nobody "$PF" reload
check nonadmin-reload "a non-admin's reload is refused (exit $PF_RC)" \
	sh -c "[ $PF_RC = 2 ] && grep -q refused '$PF_ERR'"
check nonadmin-record "the refusal is a record with the requester's uid" \
	[ "$(records control 'r.get("op") == "reload" and r.get("allowed") is False and r.get("requested_by_uid") == 65534')" = 1 ]
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups sleep 300 &
VICTIM=$!
PF_PIDS+=("$VICTIM")
pf_wait 5 grep -q '^Name:.*sleep' "/proc/$VICTIM/status"
pf_exec as_nobody "$PF" attach --agent web --allow-degraded "$VICTIM"
check nonadmin-attach "a non-admin's attach is refused (exit $PF_RC)" [ "$PF_RC" = 2 ]
check nonadmin-attach-record "and recorded" \
	[ "$(records control 'r.get("op") == "attach" and r.get("allowed") is False and r.get("requested_by_uid") == 65534')" = 1 ]
check nonadmin-untouched "the process stays where it was" \
	sh -c "! grep -q pinfold /proc/$VICTIM/cgroup"
pf_exec setpriv --reuid=$NOBODY --regid=$NOBODY --groups="$ADMIN_GID" "$PF" reload
check admin-group "a member of the admin group may reload (exit $PF_RC)" [ "$PF_RC" = 0 ]
check admin-record "recorded with its uid" \
	[ "$(records control 'r.get("op") == "reload" and r.get("allowed") is True and r.get("requested_by_uid") == 65534')" = 1 ]
pf_exec as_nobody "$PF" status
check nonadmin-status "anyone may read the status (exit $PF_RC)" [ "$PF_RC" = 0 ]

# ---- attach ----

pf_exec "$PINFOLD" attach --agent web --allow-degraded "$VICTIM"
check attach "root attaches a running process (exit $PF_RC; $(pf_stderr))" \
	sh -c "[ $PF_RC = 0 ] && grep -q '/pinfold/web\\.' /proc/$VICTIM/cgroup"
check attach-record "the attach is a record with the requester's uid" \
	[ "$(records control 'r.get("op") == "attach" and r.get("allowed") is True and r.get("requested_by_uid") == 0')" = 1 ]
pf_exec "$PINFOLD" attach --agent web --allow-degraded "$VICTIM"
check attach-twice "a confined process is not attached again (exit $PF_RC)" [ "$PF_RC" = 2 ]

# ---- a state file changed while no daemon ran: never trusted ----

mkdir -p "$PF_TMP/victim"
touch "$PF_TMP/victim/keep"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$PF" run --agent web --allow-degraded -- \
	sleep 300 >/dev/null 2>&1 &
ORPHAN=$!
PF_PIDS+=("$ORPHAN")
pf_wait 5 grep -q "/pinfold/web.$ORPHAN" "/proc/$ORPHAN/cgroup"
oslot=$(status_get "[i['slot'] for i in s['instances'] if i['instance'] == 'web.$ORPHAN'][0]")
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
/usr/bin/python3 - "/run/pinfold/daemon/$oslot.json" "$PF_TMP/victim" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
st["tmp"] = "/run/pinfold/tmp/../../.." + sys.argv[2]
json.dump(st, open(sys.argv[1], "w"))
EOF
start_daemon
check tamper-tmp "a state file's tmp outside /run/pinfold/tmp is not removed" \
	test -e "$PF_TMP/victim/keep"
check tamper-unadopted "its instance is listed as not adopted" \
	[ "$(status_get "[u['instance'] for u in s['unadopted']]")" = "['web.$ORPHAN']" ]
check tamper-confined "and stays confined" grep -q "/pinfold/web.$ORPHAN" "/proc/$ORPHAN/cgroup"

# ---- unload ----

pf_exec "$PINFOLD" unload
check unload-refused "unload is refused while agents run (exit $PF_RC)" \
	sh -c "[ $PF_RC != 0 ] && [ -e /sys/fs/bpf/pinfold/pf_instances ]"
touch "$R/stop"
round 10
wait "$AGENT" 2>/dev/null
pf_exec "$PINFOLD" unload --force
pf_wait 5 sh -c "! kill -0 $VICTIM 2>/dev/null && ! kill -0 $ORPHAN 2>/dev/null"
check unload-force "unload --force ends the agents, the unadopted one too, and unpins (exit $PF_RC)" \
	sh -c "[ $PF_RC = 0 ] && ! kill -0 $VICTIM 2>/dev/null && ! kill -0 $ORPHAN 2>/dev/null"
pf_wait 5 sh -c "! kill -0 $DPID 2>/dev/null"
check unload-gone "the daemon exits and nothing stays pinned" \
	sh -c "! kill -0 $DPID 2>/dev/null && [ -z \"\$(ls /sys/fs/bpf/pinfold 2>/dev/null)\" ]"
wait "$DPID" 2>/dev/null
DPID=
check unload-record "the unload is a record" \
	[ "$(records control 'r.get("op") == "unload" and r.get("outcome") == "done"')" = 1 ]
pf_exec "$PINFOLD" audit verify --log "$LOG"
check verify "the daemon's log verifies (exit $PF_RC: $(head -c 300 "$PF_OUT" "$PF_ERR" | tr '\n' '|'))" \
	[ "$PF_RC" = 0 ]

# ---- unload --force with the daemon dead: its agents end, none runs free ----

start_daemon
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$PF" run --agent web --allow-degraded -- \
	sleep 300 >/dev/null 2>&1 &
LEFT=$!
PF_PIDS+=("$LEFT")
pf_wait 5 grep -q "/pinfold/web.$LEFT" "/proc/$LEFT/cgroup"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
pf_exec "$PINFOLD" unload
check dead-unload "unload without --force is refused while its agent runs (exit $PF_RC)" \
	sh -c "[ $PF_RC != 0 ] && kill -0 $LEFT"
pf_exec "$PINFOLD" unload --force
pf_wait 5 sh -c "! kill -0 $LEFT 2>/dev/null"
check dead-unload-force "unload --force ends a dead daemon's agent (exit $PF_RC; $(pf_stderr))" \
	sh -c "[ $PF_RC = 0 ] && ! kill -0 $LEFT 2>/dev/null && [ -z \"\$(ls /sys/fs/bpf/pinfold 2>/dev/null)\" ]"

# ---- without a daemon, run works standalone ----

expect "standalone: denied" "err EPERM" "$PINFOLD" run --policy "$POL" --agent web \
	--allow-degraded --no-watch --audit "$PF_TMP/log/alone.jsonl" -- \
	"$PROBE" connect 127.0.0.1 "$P1" tcp

pf_finish
