#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_explain.sh - the explain-versus-kernel table, network rows, on the
# host: every connect and send row of tests/explain-table.txt is judged by
# `pinfold explain` and for real by pf-probe under `pinfold run`, against
# pf-serve on loopback; both must give the row's verdict, and explain's
# output must hold the row's TEXT when it has one. A row whose HOST is a
# name is explained as that name and tried for real at every address it
# resolves to. Any disagreement fails the test and prints the row. The file
# rows run in the VM (tests/vm/test_explain.sh).
#
#   tests/integration/test_explain.sh        (root; after make tests)
#
# Servers, from a free base port B (Pn = B + n), so that every row's
# destination listens and only pinfold can refuse it:
#   127.0.0.1 tcp P0 P1 P2 P3 P4 P6, udp P0 P1 P6 P7;  127.0.0.2 tcp P0, udp P1;
#   ::1 tcp P0 P5 P6, udp P5 P6
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init
TABLE=$PF_ROOT/tests/explain-table.txt

# the listeners, on ports from $B on
servers()
{
	pf_serve_start v4 --addr 127.0.0.1 --tcp "$B" --tcp $((B + 1)) \
		--tcp $((B + 2)) --tcp $((B + 3)) --tcp $((B + 4)) --tcp $((B + 6)) \
		--udp "$B" --udp $((B + 1)) --udp $((B + 6)) --udp $((B + 7)) &&
		pf_serve_start v4b --addr 127.0.0.2 --tcp "$B" --udp $((B + 1)) &&
		pf_serve_start v6 --addr ::1 --tcp "$B" --tcp $((B + 5)) --tcp $((B + 6)) \
			--udp $((B + 5)) --udp $((B + 6))
}

pf_serve_on_free_ports 8 servers
vars=("TESTS=$PF_ROOT/build/tests")
for n in 0 1 2 3 4 5 6 7; do
	vars+=("P$n=$((B + n))")
done
POLICY=$PF_TMP/explain-net.yaml
pf_policy "$PF_ROOT/tests/integration/policies/explain-net.yaml" "$POLICY" "${vars[@]}" ||
	{ echo "FAIL setup: cannot write $POLICY"; exit 1; }

# subst TEXT: the table's placeholders @Pn@ replaced
subst()
{
	local s=$1 n

	for n in 0 1 2 3 4 5 6 7; do
		s=${s//@P$n@/$((B + n))}
	done
	echo "$s"
}

# addresses HOST: HOST itself when it is an address, else what it resolves to, one a line
addresses()
{
	python3 -c '
import ipaddress, socket, sys
try:
    print(ipaddress.ip_address(sys.argv[1]))
except ValueError:
    seen = []
    for ai in socket.getaddrinfo(sys.argv[1], None, socket.AF_UNSPEC, socket.SOCK_STREAM):
        if ai[4][0] not in seen:
            seen.append(ai[4][0])
    print("\n".join(seen))' "$1"
}

# explain_verdict ACTION HOST PORT PROTO: allow, deny, or "error (exit N)"
explain_verdict()
{
	local host=$2 rc

	[[ $host == *:* ]] && host="[$host]"
	"$PINFOLD" explain --policy "$POLICY" --agent table "--$1" "$host:$3/$4" \
		>"$PF_TMP/explain.out" 2>&1
	rc=$?
	case $rc in
	0) echo allow ;;
	1) echo deny ;;
	*) echo "error (exit $rc)" ;;
	esac
}

# kernel_verdict ACTION ADDR PORT PROTO: allow, deny, or what the probe said
kernel_verdict()
{
	local op=connect out

	[ "$1" = send ] && op=sendto
	# --no-watch: without BPF LSM the agent, as root, could rewrite a watched policy
	out=$("$PINFOLD" run --policy "$POLICY" --agent table --audit "$PF_TMP/audit.jsonl" \
		--allow-degraded --no-watch -- "$PF_PROBE" "$op" "$2" "$3" "$4" 2>"$PF_TMP/kernel.err")
	case $out in
	"ok pong"*) echo allow ;;
	# a datagram sent: whether a reply comes back is not the row's question
	"ok noreply") [ "$1" = send ] && echo allow || echo "error: probe said '$out'" ;;
	"err EPERM") echo deny ;;
	*) echo "error: probe said '$out': $(head -c 300 "$PF_TMP/kernel.err")" ;;
	esac
}

# kernel_verdicts ACTION HOST PORT PROTO: the verdict at every address of HOST,
# when they agree; else each address with its verdict
kernel_verdicts()
{
	local addr v all=() first=

	while read -r addr; do
		v=$(kernel_verdict "$1" "$addr" "$3" "$4")
		all+=("$addr: $v")
		[ -z "$first" ] && first=$v
		[ "$v" = "$first" ] || first=mixed
	done < <(addresses "$2")
	if [ -n "$first" ] && [ "$first" != mixed ]; then
		echo "$first"
	else
		echo "${all[*]:-no address}"
	fi
}

rows=0
sends=0
while read -r line; do
	[[ $line == connect\ * || $line == send\ * ]] || continue
	rows=$((rows + 1))
	text=
	[[ $line == *" | "* ]] && text=$(subst "${line#* | }")
	row=${line%% | *}
	read -r action host tport proto want extra <<<"$row"
	if [ -n "$extra" ] || [[ $proto != tcp && $proto != udp ]] ||
		[[ $want != allow && $want != deny ]]; then
		fail "bad row" "$line"
		continue
	fi
	[ "$action" = send ] && sends=$((sends + 1))
	p=$(subst "$tport")
	e=$(explain_verdict "$action" "$host" "$p" "$proto")
	k=$(kernel_verdicts "$action" "$host" "$p" "$proto")
	# an exception that explain blames, the denial line of pinfold run names alike
	except=$(grep -oP ', but \Kbackend [^ ]+ excepts .*\(at [^)]*\)' "$PF_TMP/explain.out" |
		head -n 1)
	if [ "$e" != "$want" ] || [ "$k" != "$want" ]; then
		fail "$row" "explain says $e, kernel says $k; explain: $(head -c 800 "$PF_TMP/explain.out")"
	elif [ -n "$text" ] && ! grep -qF -- "$text" "$PF_TMP/explain.out"; then
		fail "$row" "explain does not say '$text': $(head -c 800 "$PF_TMP/explain.out")"
	elif [ -n "$except" ] && [ "$want" = deny ] &&
		! grep -qF -- "covers it: $except; allow with: " "$PF_TMP/kernel.err"; then
		fail "$row" "the denial line does not say '$except': $(head -c 800 "$PF_TMP/kernel.err")"
	else
		pass "$row"
	fi
done <"$TABLE"
check "the table has network rows" "only $rows" [ "$rows" -ge 20 ]
check "the table has send rows" "only $sends" [ "$sends" -ge 4 ]

# a name is explained at each address it resolves to, as the compiler resolves it
"$PINFOLD" explain --policy "$POLICY" --agent table --connect "localhost:$((B + 6))" \
	>"$PF_TMP/explain.out" 2>&1
n_addrs=$(addresses localhost | wc -l)
n_verdicts=$(grep -c '^allowed: agent table may connect to .* (localhost) port ' "$PF_TMP/explain.out")
check "a hostname is judged per address" "$n_addrs addresses, $n_verdicts verdicts: $(cat "$PF_TMP/explain.out")" \
	test "$n_addrs" = "$n_verdicts" -a "$n_addrs" -gt 0
pf_finish
