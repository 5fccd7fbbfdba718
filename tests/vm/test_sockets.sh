#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Socket kinds with BPF LSM, inside the test VM (tests/vm/run.sh): the
# socket_create program judges every family but IPv4 and IPv6, which the
# cgroup sock_create program judges (tests/integration/test_sockets.sh).
# Policy: tests/vm/sockets-policy.yaml.
#   default            unix and netlink route allowed; netlink audit and
#                      uevent, packet and vsock denied (EPERM), one deny
#                      record each
#   sockets: [packet]  packet allowed, unix denied
#   mode audit         packet created, its record says "applied": false
# vsock's module is not loaded here: the hook runs before the family is
# looked up, so a denial is EPERM where an allowed socket gets EAFNOSUPPORT.
set -u
SUITE=test_sockets
POLICY=tests/vm/sockets-policy.yaml
AUDIT=/tmp/pf-audit/sockets.jsonl
SOCK=/pinfold/build/tests/pf-socket
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

# run AGENT KIND: pf-socket KIND confined, its line in $out, stderr in /tmp/stderr
run()
{
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent "$1" --audit $AUDIT --no-watch -- $SOCK "$2" \
		2>/tmp/stderr)
}

# records [MEMBER...]: decision records holding every literal JSON MEMBER
records()
{
	n=$(grep -cF '"kind":"decision"' $AUDIT)
	for m in "$@"; do
		n=$(grep -F '"kind":"decision"' $AUDIT | grep -F "$m" | grep -c .)
		[ "$n" = 0 ] && break
	done
	echo "$n"
}

# allowed AGENT KIND: KIND created, nothing recorded
allowed()
{
	run "$1" "$2"
	all=$(records)
	if [ "$out" = "$2 ok" ] && [ "$all" = 0 ]; then
		ok "$1 $2 allowed"
	else
		bad "$1 $2 allowed" "pf-socket said '$out', $all records: $(cat $AUDIT) $(cat /tmp/stderr)"
	fi
}

# denied AGENT KIND OBJECT FAMILY [SOCKET_KIND]: EPERM, one deny record and one line
denied()
{
	agent=$1 kind=$2 object=$3 family=$4 sk=${5:-}
	run "$agent" "$kind"
	all=$(records)
	n=$(records '"action":"socket"' '"decision":"deny"' '"reason_code":"socket-kind"' \
		"\"object\":\"$object\"" "\"family\":\"$family\"" '"mode":"enforce"')
	lines=$(grep -c "^pinfold: denied socket $object (agent $agent, " /tmp/stderr)
	if [ -n "$sk" ]; then
		hint=$(grep -c "allow with: sockets: \[\([a-z-]*, \)*$sk\(, [a-z-]*\)*\] in agent $agent\$" /tmp/stderr)
		nk=$(records "\"socket_kind\":\"$sk\"")
	else
		hint=$(grep -c "no policy rule can allow it" /tmp/stderr)
		nk=$(grep -c '"socket_kind"' $AUDIT)
		nk=$((1 - nk))
	fi
	if [ "$out" = "$kind err EPERM" ] && [ "$all" = 1 ] && [ "$n" = 1 ] && [ "$lines" = 1 ] &&
		[ "$hint" = 1 ] && [ "$nk" = 1 ]; then
		ok "$agent $kind denied"
	else
		bad "$agent $kind denied" "pf-socket said '$out'; $n of $all records match, $lines lines, hint $hint, kind $nk: $(cat $AUDIT) $(cat /tmp/stderr)"
	fi
}

need_bpf_lsm

# unconfined, every kind but vsock (no module) can be made here
base=$($SOCK unix netlink-route netlink-audit netlink-uevent packet | tr '\n' ' ')
if [ "$base" = "unix ok netlink-route ok netlink-audit ok netlink-uevent ok packet ok " ]; then
	ok baseline
else
	bad baseline "pf-socket said '$base'"
fi

allowed plain unix
allowed plain unix-dgram
allowed plain netlink-route
allowed plain tcp
allowed plain udp6
denied plain netlink-audit "netlink raw audit" netlink
denied plain netlink-uevent "netlink dgram kobject-uevent" netlink
denied plain packet "packet raw 768" packet packet
denied plain vsock "vsock stream 0" vsock
denied plain raw "inet raw icmp" inet raw

allowed sniffer packet
denied sniffer unix "unix stream 0" unix unix
denied sniffer tcp "inet stream tcp" inet tcp

run auditor packet
n=$(records '"action":"socket"' '"decision":"deny"' '"object":"packet raw 768"' '"mode":"audit"' \
	'"applied":false')
if [ "$out" = "packet ok" ] && [ "$n" = 1 ] && [ "$(records)" = 1 ] &&
	[ "$(grep -c '^pinfold: would deny socket packet raw 768 ' /tmp/stderr)" = 1 ]; then
	ok "audit mode lets packet pass"
else
	bad "audit mode lets packet pass" "pf-socket said '$out', $n records: $(cat $AUDIT) $(cat /tmp/stderr)"
fi

finish
