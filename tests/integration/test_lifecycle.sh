#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_lifecycle.sh - what happens around an instance on the host: a killed
# `pinfold run` takes its agent down with it (no agent runs without its
# audit writer), and the next run that takes the same slot kills and removes
# whatever the killed instance left behind; a normal exit removes the cgroup.
#
#   tests/integration/test_lifecycle.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

policy=$PF_TMP/policy.yaml
cat > "$policy" <<'YAML'
version: 1
agents:
  sleeper: {}
YAML
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
parent=$cg2/pinfold

# wait_for COND_CMD...: up to 5 s
wait_for()
{
	local i
	for i in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }

# 1. The agent's shell starts a background sleep, then waits; kill -9 the launcher.
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded --no-watch \
	--audit "$PF_TMP/a1.jsonl" -- sh -c "sleep 300 & echo \$! > $PF_TMP/bg; exec sleep 301" \
	2>"$PF_TMP/run1.err" &
run1=$!
wait_for test -s "$PF_TMP/bg" || { echo "FAIL setup: agent did not start"; cat "$PF_TMP/run1.err"; exit 1; }
bg=$(cat "$PF_TMP/bg")
fg=$(pgrep -P "$run1" -x sleep)
cg=$(sed -n 's/^0:://p' "/proc/$bg/cgroup")
check bg-in-instance-cgroup "background task is in $cg" test -n "$cg" -a "${cg#/pinfold/sleeper.}" != "$cg"

kill -9 "$run1"
wait "$run1" 2>/dev/null
check agent-dies-with-launcher "agent pid $fg outlived its killed launcher" wait_for dead "$fg"
check orphan-still-confined "background task $bg left its cgroup" \
	test "$(sed -n 's/^0:://p' "/proc/$bg/cgroup" 2>/dev/null)" = "$cg"

# 2. The next run on the same slot reaps what the killed one left.
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded --no-watch \
	--audit "$PF_TMP/a2.jsonl" -- true 2>"$PF_TMP/run2.err"
rc=$?
check next-run-ok "second run exited $rc: $(cat "$PF_TMP/run2.err")" test "$rc" = 0
check orphan-reaped "task $bg of the killed instance still runs" wait_for dead "$bg"
check orphan-cgroup-removed "cgroup $cg still exists" test ! -d "$cg2$cg"
check reap-said "no message about the reaped instance: $(cat "$PF_TMP/run2.err")" \
	grep -q "removed 1 instance cgroup" "$PF_TMP/run2.err"

# 3. An unload while an agent runs: refused without --force; with it, the
# agent stays confined (its launcher holds the links). A connect to a port
# nobody listens on says which: EPERM when judged, ECONNREFUSED when not.
port=$(pf_free_ports 1)
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded --no-watch --audit "$PF_TMP/a3.jsonl" \
	-- sh -c "while [ ! -e $PF_TMP/go ]; do sleep 0.1; done; $PF_PROBE connect 127.0.0.1 $port tcp" \
	>"$PF_TMP/run3.out" 2>"$PF_TMP/run3.err" &
run3=$!
wait_for grep -q instance-start "$PF_TMP/a3.jsonl"
"$PINFOLD" unload 2>"$PF_TMP/unload.err"
rc=$?
check unload-refused-while-confined "plain unload exited $rc: $(cat "$PF_TMP/unload.err")" \
	test "$rc" = 1
"$PINFOLD" unload --force 2>"$PF_TMP/unload.err"
rc=$?
check unload-force-ok "unload --force exited $rc: $(cat "$PF_TMP/unload.err")" test "$rc" = 0
touch "$PF_TMP/go"
wait "$run3"
check still-confined-after-unload "agent after unload --force: $(cat "$PF_TMP/run3.out")" \
	grep -qx "err EPERM" "$PF_TMP/run3.out"
check denial-recorded-after-unload "$(pf_audit_show "$PF_TMP/a3.jsonl")" \
	test "$(pf_audit_count "$PF_TMP/a3.jsonl" action=connect decision=deny)" = 1
out=$("$PF_PROBE" connect 127.0.0.1 "$port" tcp)
check probe-unconfined-refused "unconfined probe said '$out'" test "$out" = "err ECONNREFUSED"

# 4. No agent starts without its audit trail.
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded --no-watch --audit /dev/full \
	-- touch "$PF_TMP/started" 2>"$PF_TMP/run4.err"
rc=$?
# /dev/full is no regular file: the log is refused at open (exit 2)
check unwritable-audit-refused "exit $rc: $(cat "$PF_TMP/run4.err")" test "$rc" = 2
check unwritable-audit-agent-not-run "the agent ran" test ! -e "$PF_TMP/started"

# 5. Inherited descriptors above 2 are closed, unless kept with --keep-fd.
exec 7>"$PF_TMP/inherited"
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded --no-watch --audit "$PF_TMP/a5.jsonl" \
	-- sh -c 'echo leaked >&7' 2>/dev/null
check inherited-fd-closed "the agent wrote through fd 7" test ! -s "$PF_TMP/inherited"
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded --no-watch --audit "$PF_TMP/a5.jsonl" \
	--keep-fd 7 -- sh -c 'echo kept >&7' 2>/dev/null
check kept-fd-passed "fd 7 was not passed with --keep-fd 7" grep -qx kept "$PF_TMP/inherited"
exec 7>&-

# 6. After a normal exit, no cgroup of this test's instances is left.
left=$(find "$parent" -mindepth 1 -maxdepth 1 -name 'sleeper.*' -type d)
check no-cgroup-left "left behind: $left" test -z "$left"

pf_finish
