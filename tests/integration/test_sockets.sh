#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_sockets.sh - which IPv4 and IPv6 sockets an agent may create, on the
# host: the cgroup sock_create program judges them whether BPF LSM runs or
# not. pf-socket creates one socket per kind named and says what happened.
#   default (no sockets key)   tcp, udp allowed; raw, ping, SCTP, UDP-Lite
#                              denied (EPERM), one deny record each
#   sockets: [tcp, raw]        raw allowed, udp denied
#   sockets: [tcp, udp, ping]  ping allowed
#   sockets: []                tcp denied
#   mode audit                 raw created, its record says "applied": false
# Ping sockets need net.ipv4.ping_group_range to hold the caller's group:
# it is set only inside a network namespace made for the agent (unshare -n).
#
#   tests/integration/test_sockets.sh        (root; after make tests)
# SC2317: confined is called through pf_exec
# shellcheck disable=SC2317
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

PF_SOCKET=$PF_ROOT/build/tests/pf-socket
[ -x "$PF_SOCKET" ] || { echo "FAIL setup: $PF_SOCKET not built (make tests)"; exit 1; }
command -v unshare >/dev/null || { echo "FAIL setup: unshare missing"; exit 1; }
POLICY=$PF_ROOT/tests/integration/policies/sockets.yaml
RUNS=0

# IN_NETNS CMD...: CMD in a new network namespace where any group may ping
IN_NETNS=(unshare -n sh -c 'echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range && exec "$@"'
	sh)

# confined AGENT CMD...: CMD under pinfold with a fresh audit file, $AUDIT
confined()
{
	local agent=$1
	shift

	RUNS=$((RUNS + 1))
	AUDIT=$PF_TMP/audit.$RUNS.jsonl
	"$PINFOLD" run --policy "$POLICY" --agent "$agent" --audit "$AUDIT" --allow-degraded \
		--no-watch -- "$@"
}

# The kinds this kernel can create at all, unconfined: the others are noted
# and not tried confined (SCTP needs its module, MPTCP net.mptcp.enabled).
declare -A HAVE=()
pf_exec "${IN_NETNS[@]}" "$PF_SOCKET" tcp tcp6 mptcp udp udp6 ping ping6 raw raw6 sctp udplite
while read -r kind result why; do
	if [ "$result" = ok ]; then
		HAVE[$kind]=1
	else
		echo "note: this kernel cannot create $kind sockets unconfined ($result ${why:-}), not tried"
	fi
done <"$PF_OUT"
check "baseline tcp and udp" "got $(tr '\n' ' ' <"$PF_OUT")" \
	[ "${HAVE[tcp]:-0}${HAVE[udp]:-0}${HAVE[raw]:-0}${HAVE[ping]:-0}" = 1111 ]

# try NAME AGENT WANT KIND...: each KIND, confined as AGENT, gives WANT (ok or err ENAME)
try()
{
	local name=$1 agent=$2 want=$3 kind got netns=()
	shift 3

	for kind in "$@"; do
		[ "${HAVE[$kind]:-0}" = 1 ] || continue
		case $kind in ping*) netns=("${IN_NETNS[@]}") ;; *) netns=() ;; esac
		pf_exec confined "$agent" "${netns[@]}" "$PF_SOCKET" "$kind"
		got=$(pf_got)
		check "$name: $kind gives $want" "got '$got' (exit $PF_RC; stderr: $(pf_stderr))" \
			[ "$got" = "$kind $want" ]
		LAST_KIND=$kind
	done
}

# records NAME N FILTER...: the last run's audit file holds N decision
# records, each matching FILTER
records()
{
	local name=$1 want=$2 n all
	shift 2

	n=$(pf_audit_count "$AUDIT" kind=decision "$@")
	all=$(pf_audit_count "$AUDIT" kind=decision)
	check "$name" "$n matching, $all in all, want $want: $(pf_audit_show "$AUDIT")" \
		[ "$n" = "$want" -a "$all" = "$want" ]
}

# denied NAME AGENT KIND FAMILY TYPE PROTOCOL [SOCKET_KIND]: KIND is refused
# with EPERM, with one deny record naming it, and one denial line
denied()
{
	local name=$1 agent=$2 kind=$3 family=$4 type=$5 proto=$6 sk=${7:-} n filt=()

	[ "${HAVE[$kind]:-0}" = 1 ] || return 0
	try "$name" "$agent" "err EPERM" "$kind"
	if [ -n "$sk" ]; then
		filt=(socket_kind="$sk")
	else
		n=$(pf_audit_count "$AUDIT" kind=decision socket_kind)
		check "$name: no socket_kind member" "$(pf_audit_show "$AUDIT")" [ "$n" = 0 ]
	fi
	records "$name: one deny record" 1 decision=deny action=socket reason_code=socket-kind \
		family="$family" type="$type" protocol="$proto" object="$family $type $proto" \
		mode=enforce "${filt[@]}"
	n=$(grep -c "^pinfold: denied socket $family $type $proto (agent $agent, " "$PF_ERR")
	check "$name: one denial line" "stderr: $(pf_stderr)" [ "$n" = 1 ]
	n=$(grep -c "^pinfold: \(denied\|would deny\)" "$PF_ERR")
	check "$name: no other denial line" "stderr: $(pf_stderr)" [ "$n" = 1 ]
	if [ -n "$sk" ]; then
		n=$(grep -c "allow with: sockets: \[\([a-z-]*, \)*$sk\(, [a-z-]*\)*\] in agent $agent\$" "$PF_ERR")
		check "$name: the line says how to allow it" "stderr: $(pf_stderr)" [ "$n" = 1 ]
	else
		n=$(grep -c "no policy rule can allow it" "$PF_ERR")
		check "$name: the line says no rule can allow it" "stderr: $(pf_stderr)" [ "$n" = 1 ]
	fi
}

# the default kinds
try "default" plain ok tcp tcp-explicit tcp6 mptcp udp udp-explicit udp6
records "default: allowed sockets not recorded" 0
denied "default raw" plain raw inet raw icmp raw
denied "default raw6" plain raw6 inet6 raw icmpv6 raw
denied "default ping" plain ping inet dgram icmp ping
denied "default ping6" plain ping6 inet6 dgram icmpv6 ping
denied "default sctp" plain sctp inet stream sctp
denied "default udplite" plain udplite inet dgram udplite

# sockets: [tcp, raw]
try "tcp and raw" tcpraw ok tcp raw raw6
records "tcp and raw: allowed sockets not recorded" 0
denied "tcp and raw: udp" tcpraw udp inet dgram udp udp
denied "tcp and raw: ping" tcpraw ping inet dgram icmp ping

# sockets: [tcp, udp, ping]
try "ping" pinger ok ping ping6 udp
denied "ping: raw" pinger raw inet raw icmp raw

# sockets: []
denied "nothing: tcp" nothing tcp inet stream tcp tcp
denied "nothing: udp6" nothing udp6 inet6 dgram udp udp

# audit mode: let through, reported as not applied
try "audit mode" auditing ok raw
records "audit mode: one deny record, not applied" 1 decision=deny action=socket \
	reason_code=socket-kind object="inet raw icmp" mode=audit applied=false
n=$(grep -c "^pinfold: would deny socket inet raw icmp " "$PF_ERR")
check "audit mode: one 'would deny' line" "stderr: $(pf_stderr)" [ "$n" = 1 ]

pf_finish
