#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_modes.sh - agent modes on the host: the real kernel, real cgroups,
# real sockets. One agent per mode (enforce, audit, record), each allowed
# 127.0.0.1 P0/tcp; pf-serve listens on P0 and P1. For each mode the agent
# connects to both and sets an IPv4 source route, and the checks compare
# what the kernel let through and what the audit file and stderr say:
#   enforce  P1 and the source route get EPERM; one deny record each
#   audit    both go through; one deny record each, "applied": false, and
#            a "would deny" line; the allowed connect is not recorded
#   record   as audit, and the allowed connect is recorded too
#
#   tests/integration/test_modes.sh        (root; after make tests)
# SC2317: confined is called through expect and pf_exec
# shellcheck disable=SC2317
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

started=0
for _ in 1 2 3 4 5; do
	B=$(pf_free_ports 2) || break
	if pf_serve_start v4 --addr 127.0.0.1 --tcp "$B" --tcp $((B + 1)); then
		started=1
		break
	fi
done
[ $started = 1 ] || { echo "FAIL setup: cannot start pf-serve: $(cat "$PF_TMP/v4.log")"; exit 1; }
P0=$B P1=$((B + 1))
POLICY=$PF_TMP/modes.yaml
pf_policy "$PF_ROOT/tests/integration/policies/modes.yaml" "$POLICY" P0="$P0" P1="$P1" ||
	{ echo "FAIL setup: cannot write $POLICY"; exit 1; }

# An IPv4 loose source route on a UDP socket: "ok -" or "err ENAME".
cat >"$PF_TMP/lsrr.py" <<'PY'
import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([1, 0x83, 7, 4, 127, 0, 0, 2]))
    print('ok -')
except OSError as e:
    print('err', errno.errorcode.get(e.errno, e.errno))
PY

RUNS=0

# confined AGENT CMD...: CMD under pinfold with a fresh audit file, $AUDIT
confined()
{
	local agent=$1
	shift

	RUNS=$((RUNS + 1))
	AUDIT=$PF_TMP/audit.$RUNS.jsonl
	"$PINFOLD" run --policy "$POLICY" --agent "$agent" --audit "$AUDIT" --allow-degraded --no-watch \
		-- "$@"
}

# lines PATTERN: how many lines of the last run's stderr start with PATTERN
lines() { grep -c "^$1" "$PF_ERR"; }

# one_denial NAME MODE ACTION OBJECT REASON: the last run's audit file holds
# exactly one decision record, a denial of OBJECT in MODE, applied only in
# enforce mode, and stderr says so once
one_denial()
{
	local name=$1 mode=$2 action=$3 object=$4 reason=$5 n all applied=() head="pinfold: denied"

	if [ "$mode" != enforce ]; then
		applied=(applied=false)
		head="pinfold: would deny"
	fi
	n=$(pf_audit_count "$AUDIT" kind=decision decision=deny action="$action" object="$object" \
		reason_code="$reason" mode="$mode" "${applied[@]}")
	all=$(pf_audit_count "$AUDIT" kind=decision action!=socket)
	check "$name: one deny record" "$n matching, $all in all: $(pf_audit_show "$AUDIT")" \
		[ "$n" = 1 -a "$all" = 1 ]
	if [ "$mode" = enforce ]; then
		n=$(pf_audit_count "$AUDIT" applied)
		check "$name: no applied member" "$(pf_audit_show "$AUDIT")" [ "$n" = 0 ]
	fi
	n=$(lines "$head $action ")
	check "$name: one '$head' line" "stderr: $(pf_stderr)" [ "$n" = 1 ]
	n=$(lines "pinfold: \(denied\|would deny\)")
	check "$name: no other denial line" "stderr: $(pf_stderr)" [ "$n" = 1 ]
}

expect "baseline tcp 127.0.0.1:$P1" "ok pong" "$PF_PROBE" connect 127.0.0.1 "$P1" tcp
pf_exec python3 "$PF_TMP/lsrr.py"
check "baseline source route unconfined" "got '$(pf_got)'" [ "$(pf_got)" = "ok -" ]

for mode in enforce audit record; do
	case $mode in
	enforce) agent=enforcing ;;
	audit) agent=auditing ;;
	record) agent=recording ;;
	esac

	# the allowed connect: recorded in record mode only
	expect "$mode: allowed connect" "ok pong" confined "$agent" \
		"$PF_PROBE" connect 127.0.0.1 "$P0" tcp
	n=$(pf_audit_count "$AUDIT" kind=instance-start mode="$mode")
	check "$mode: instance-start says the mode" "$(pf_audit_show "$AUDIT")" [ "$n" = 1 ]
	# record mode records each socket the agent creates too; counted apart
	all=$(pf_audit_count "$AUDIT" kind=decision action!=socket)
	if [ $mode = record ]; then
		n=$(pf_audit_count "$AUDIT" kind=decision decision=allow action=socket \
			socket_kind=tcp mode=record)
		check "$mode: the socket the connect used is recorded" \
			"$n matching: $(pf_audit_show "$AUDIT")" [ "$n" = 1 ]
		n=$(pf_audit_count "$AUDIT" kind=decision decision=allow action=connect \
			object="127.0.0.1:$P0/tcp" reason_code=rule mode=record)
		check "$mode: allowed connect recorded" "$n matching, $all in all: $(pf_audit_show "$AUDIT")" \
			[ "$n" = 1 -a "$all" = 1 ]
		n=$(pf_audit_count "$AUDIT" applied)
		check "$mode: an allowed access has no applied member" "$(pf_audit_show "$AUDIT")" \
			[ "$n" = 0 ]
	else
		check "$mode: allowed connect not recorded" "$(pf_audit_show "$AUDIT")" [ "$all" = 0 ]
	fi
	n=$(lines "pinfold: agent $agent runs in $mode mode")
	if [ $mode = enforce ]; then
		check "$mode: no mode line" "stderr: $(pf_stderr)" [ "$n" = 0 ]
	else
		check "$mode: one mode line" "stderr: $(pf_stderr)" [ "$n" = 1 ]
	fi

	# the denied connect
	want="ok pong"
	[ $mode = enforce ] && want="err EPERM"
	expect "$mode: denied connect" "$want" confined "$agent" \
		"$PF_PROBE" connect 127.0.0.1 "$P1" tcp
	one_denial "$mode: denied connect" "$mode" connect "127.0.0.1:$P1/tcp" no-rule

	# the source route
	want="ok -"
	[ $mode = enforce ] && want="err EPERM"
	pf_exec confined "$agent" python3 "$PF_TMP/lsrr.py"
	check "$mode: source route" "want '$want', got '$(pf_got)' (stderr: $(pf_stderr))" \
		[ "$(pf_got)" = "$want" ]
	one_denial "$mode: source route" "$mode" setsockopt IP_OPTIONS source-route
done

pf_finish
