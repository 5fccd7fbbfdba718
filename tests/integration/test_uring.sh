#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_uring.sh - io_uring and TCP fast open are judged exactly like the
# direct system calls, on the host (cgroup socket programs). pf-uring makes
# the socket (IORING_OP_SOCKET), connects (IORING_OP_CONNECT) and sends
# (IORING_OP_SENDMSG, SENDMSG_ZC, SEND with an address) through a ring, in
# three modes: requests issued inline at submission, forced into an io-wq
# worker (--async), and submitted by the ring's SQPOLL kernel thread
# (--sqpoll). TCP fast open connects inside sendto(MSG_FASTOPEN) or defers
# the connect to the first send (TCP_FASTOPEN_CONNECT); the destination must
# still be judged as a connect. Each denial gives EPERM and exactly one deny
# record; its allowed twin gives the reply and no record.
#
#   tests/integration/test_uring.sh        (root; after make tests)
#
# Ports from a free base B: 127.0.0.1 tcp and udp P0 (allowed) and P1
# (denied); ::1 tcp and udp P2 (denied). Client fast open is switched on for
# the run (net.ipv4.tcp_fastopen bit 1) and the old value put back.

# SC2317: confined is called through pf_exec and expect
# shellcheck disable=SC2317
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

PF_URING=$PF_ROOT/build/tests/pf-uring
[ -x "$PF_URING" ] ||
	{ echo "FAIL setup: $PF_URING not built (make deps tests: it needs liburing-dev)"; exit 1; }

servers()
{
	pf_serve_start v4 --addr 127.0.0.1 --tcp "$B" --tcp $((B + 1)) --udp "$B" \
		--udp $((B + 1)) &&
		pf_serve_start v6 --addr ::1 --banner pong6 --tcp $((B + 2)) --udp $((B + 2))
}

pf_serve_on_free_ports 3 servers
P0=$B P1=$((B + 1)) P2=$((B + 2))
POLICY=$PF_TMP/uring.yaml
cat >"$POLICY" <<YAML
version: 1
agents:
  ringer:
    network:
      - {to: 127.0.0.1, port: $P0, proto: tcp}
      - {to: 127.0.0.1, port: $P0, proto: udp}
YAML
echo "ports $P0-$P2, policy $POLICY"

# Client TFO for the whole run, restored on exit
TFO_SYSCTL=/proc/sys/net/ipv4/tcp_fastopen
TFO_OLD=$(cat "$TFO_SYSCTL")
trap 'echo "$TFO_OLD" >"$TFO_SYSCTL"; pf_cleanup' EXIT
echo $((TFO_OLD | 1)) >"$TFO_SYSCTL" ||
	{ echo "FAIL setup: cannot enable client TCP fast open"; exit 1; }

RUNS=0

# confined CMD...: CMD as agent ringer with a fresh audit file, $AUDIT
confined()
{
	RUNS=$((RUNS + 1))
	AUDIT=$PF_TMP/audit.$RUNS.jsonl
	"$PINFOLD" run --policy "$POLICY" --agent ringer --audit "$AUDIT" --allow-degraded \
		--no-watch -- "$@"
}

# allowed NAME WANT ARGS...: confined pf-uring ARGS prints WANT; no decision record
allowed()
{
	local name=$1 want=$2 n
	shift 2

	expect "$name" "$want" confined "$PF_URING" "$@"
	n=$(pf_audit_count "$AUDIT" kind=decision)
	check "$name: no record" "$n decision records: $(pf_audit_show "$AUDIT")" [ "$n" = 0 ]
}

# denied NAME FILTER... -- ARGS...: confined pf-uring ARGS prints "err EPERM";
# the audit file holds one decision record, the deny record matching each FILTER
denied()
{
	local name=$1 n all
	local -a filters=()
	shift

	while [ "$1" != -- ]; do
		filters+=("$1")
		shift
	done
	shift
	expect "$name" "err EPERM" confined "$PF_URING" "$@"
	n=$(pf_audit_count "$AUDIT" kind=decision decision=deny mode=enforce "${filters[@]}")
	all=$(pf_audit_count "$AUDIT" kind=decision)
	check "$name: one deny record" \
		"$n matching (${filters[*]}), $all in all: $(pf_audit_show "$AUDIT")" \
		[ "$n" = 1 -a "$all" = 1 ]
}

# ---- baseline: unconfined, every way reaches every server ----

for mode in "" --sqpoll --async; do
	m=${mode:+$mode }
	for p in $P0 $P1; do
		expect "baseline ${m}connect 127.0.0.1:$p" "ok pong" "$PF_URING" $mode connect 127.0.0.1 "$p"
		for op in sendmsg sendmsg-zc sendto; do
			expect "baseline ${m}$op 127.0.0.1:$p" "ok pong" "$PF_URING" $mode $op 127.0.0.1 "$p"
		done
	done
	expect "baseline ${m}connect [::1]:$P2" "ok pong6" "$PF_URING" $mode connect ::1 "$P2"
	expect "baseline ${m}sendmsg [::1]:$P2" "ok pong6" "$PF_URING" $mode sendmsg ::1 "$P2"
	expect "baseline ${m}socket raw" "ok" "$PF_URING" $mode socket raw
done
for how in sendto connect uring; do
	expect "baseline fastopen $how 127.0.0.1:$P1" "ok pong" "$PF_URING" fastopen 127.0.0.1 "$P1" $how
done

# ---- io_uring, in each mode ----

for mode in "" --sqpoll --async; do
	m=${mode:+$mode }
	allowed "${m}connect 127.0.0.1:$P0" "ok pong" $mode connect 127.0.0.1 "$P0"
	allowed "${m}connect [::ffff:127.0.0.1]:$P0" "ok pong" $mode connect ::ffff:127.0.0.1 "$P0"
	denied "${m}connect 127.0.0.1:$P1" action=connect object="127.0.0.1:$P1/tcp" \
		reason_code=no-rule -- $mode connect 127.0.0.1 "$P1"
	denied "${m}connect [::ffff:127.0.0.1]:$P1" action=connect object="127.0.0.1:$P1/tcp" \
		reason_code=no-rule -- $mode connect ::ffff:127.0.0.1 "$P1"
	denied "${m}connect [::1]:$P2" action=connect object="[::1]:$P2/tcp" reason_code=no-rule -- \
		$mode connect ::1 "$P2"

	for op in sendmsg sendmsg-zc sendto; do
		allowed "${m}$op 127.0.0.1:$P0" "ok pong" $mode $op 127.0.0.1 "$P0"
		denied "${m}$op 127.0.0.1:$P1" action=sendmsg object="127.0.0.1:$P1/udp" \
			reason_code=no-rule -- $mode $op 127.0.0.1 "$P1"
	done
	denied "${m}sendmsg [::ffff:127.0.0.1]:$P1" action=sendmsg object="127.0.0.1:$P1/udp" \
		reason_code=no-rule -- $mode sendmsg ::ffff:127.0.0.1 "$P1"
	denied "${m}sendmsg [::1]:$P2" action=sendmsg object="[::1]:$P2/udp" reason_code=no-rule -- \
		$mode sendmsg ::1 "$P2"

	allowed "${m}socket tcp" "ok" $mode socket tcp
	allowed "${m}socket udp" "ok" $mode socket udp
	denied "${m}socket raw" action=socket reason_code=socket-kind object="inet raw icmp" -- \
		$mode socket raw
	denied "${m}socket raw6" action=socket reason_code=socket-kind object="inet6 raw icmpv6" -- \
		$mode socket raw6
done

# ---- TCP fast open: the connect inside sendto or deferred to the first send ----

for how in sendto connect uring; do
	allowed "fastopen $how 127.0.0.1:$P0" "ok pong" fastopen 127.0.0.1 "$P0" $how
	denied "fastopen $how 127.0.0.1:$P1" action=connect object="127.0.0.1:$P1/tcp" \
		reason_code=no-rule -- fastopen 127.0.0.1 "$P1" $how
	denied "fastopen $how [::1]:$P2" action=connect object="[::1]:$P2/tcp" reason_code=no-rule -- \
		fastopen ::1 "$P2" $how
done

pf_finish
