#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_explain.sh - the explain-versus-kernel table, network rows, on the
# host: every "connect" row of tests/explain-table.txt is judged by `pinfold
# explain` and for real by pf-probe under `pinfold run`, against pf-serve on
# loopback; both must give the row's verdict. Any disagreement fails the test
# and prints the row. The file rows run in the VM (tests/vm/test_explain.sh).
#
#   tests/integration/test_explain.sh        (root; after make tests)
#
# Servers, from a free base port B (Pn = B + n), so that every row's
# destination listens and only pinfold can refuse it:
#   127.0.0.1 tcp P0 P1 P2 P3 P4, udp P0 P1;  127.0.0.2 tcp P0, udp P1;
#   ::1 tcp P0 P5, udp P5
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init
TABLE=$PF_ROOT/tests/explain-table.txt

start_servers()
{
	local _

	for _ in 1 2 3 4 5; do
		B=$(pf_free_ports 6) || break
		if pf_serve_start v4 --addr 127.0.0.1 --tcp "$B" --tcp $((B + 1)) \
			--tcp $((B + 2)) --tcp $((B + 3)) --tcp $((B + 4)) \
			--udp "$B" --udp $((B + 1)) &&
			pf_serve_start v4b --addr 127.0.0.2 --tcp "$B" --udp $((B + 1)) &&
			pf_serve_start v6 --addr ::1 --tcp "$B" --tcp $((B + 5)) \
				--udp $((B + 5)); then
			return 0
		fi
		pf_serve_stop v4
		pf_serve_stop v4b
		pf_serve_stop v6
	done
	return 1
}

if ! start_servers; then
	echo "FAIL setup: cannot start pf-serve on loopback: $(cat "$PF_TMP"/v*.log 2>/dev/null)"
	exit 1
fi
ports=()
for n in 0 1 2 3 4 5; do
	ports+=("P$n=$((B + n))")
done
POLICY=$PF_TMP/explain-net.yaml
pf_policy "$PF_ROOT/tests/integration/policies/explain-net.yaml" "$POLICY" "${ports[@]}" ||
	{ echo "FAIL setup: cannot write $POLICY"; exit 1; }

# port TEMPLATE: @Pn@ as the port number
port()
{
	local n=${1#@P}

	n=${n%@}
	case $n in
	[0-5]) echo $((B + n)) ;;
	*) echo "$1" ;;
	esac
}

# explain_verdict ADDR PORT PROTO: allow, deny, or "error (exit N)"
explain_verdict()
{
	local dest=$1 rc

	[[ $dest == *:* ]] && dest="[$dest]"
	"$PINFOLD" explain --policy "$POLICY" --agent table --connect "$dest:$2/$3" \
		>"$PF_TMP/explain.out" 2>&1
	rc=$?
	case $rc in
	0) echo allow ;;
	1) echo deny ;;
	*) echo "error (exit $rc)" ;;
	esac
}

# kernel_verdict ADDR PORT PROTO: allow, deny, or what the probe said
kernel_verdict()
{
	local out

	out=$("$PINFOLD" run --policy "$POLICY" --agent table --audit "$PF_TMP/audit.jsonl" \
		--allow-degraded -- "$PF_PROBE" connect "$1" "$2" "$3" 2>"$PF_TMP/kernel.err")
	case $out in
	"ok pong"*) echo allow ;;
	"err EPERM") echo deny ;;
	*) echo "error: probe said '$out': $(head -c 300 "$PF_TMP/kernel.err")" ;;
	esac
}

rows=0
while read -r kind addr tport proto want extra; do
	[ "$kind" = connect ] || continue
	rows=$((rows + 1))
	row="connect $addr $tport $proto $want"
	if [ -n "$extra" ] || [[ $proto != tcp && $proto != udp ]] ||
		[[ $want != allow && $want != deny ]]; then
		fail "bad row" "$row $extra"
		continue
	fi
	p=$(port "$tport")
	e=$(explain_verdict "$addr" "$p" "$proto")
	k=$(kernel_verdict "$addr" "$p" "$proto")
	if [ "$e" = "$want" ] && [ "$k" = "$want" ]; then
		pass "$row"
	else
		fail "$row" "explain says $e, kernel says $k; explain: $(head -c 600 "$PF_TMP/explain.out")"
	fi
done <"$TABLE"
check "the table has connect rows" "only $rows" [ "$rows" -ge 10 ]
pf_finish
