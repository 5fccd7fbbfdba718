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
[ -x "$PINFOLD" ] || { echo "FAIL setup: $PINFOLD not built (make)"; exit 1; }

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
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded \
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
"$PINFOLD" run --policy "$policy" --agent sleeper --allow-degraded \
	--audit "$PF_TMP/a2.jsonl" -- true 2>"$PF_TMP/run2.err"
rc=$?
check next-run-ok "second run exited $rc: $(cat "$PF_TMP/run2.err")" test "$rc" = 0
check orphan-reaped "task $bg of the killed instance still runs" wait_for dead "$bg"
check orphan-cgroup-removed "cgroup $cg still exists" test ! -d "$cg2$cg"
check reap-said "no message about the reaped instance: $(cat "$PF_TMP/run2.err")" \
	grep -q "removed 1 instance cgroup" "$PF_TMP/run2.err"

# 3. After a normal exit, no cgroup of this test's instances is left.
left=$(find "$parent" -mindepth 1 -maxdepth 1 -name 'sleeper.*' -type d)
check no-cgroup-left "left behind: $left" test -z "$left"

pf_finish
