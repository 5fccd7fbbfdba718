#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_hostnames.sh - network destinations named by hostname, on the host:
# the real kernel, real cgroups, real sockets. `localhost` resolves from
# /etc/hosts, so no DNS query is made. pf-serve listens on 127.0.0.1 (and
# ::1 when the host has IPv6 loopback); an agent allowed `to: localhost`
# port P0 connects to what localhost resolves to on P0, is denied P1, and
# the instance-start record lists the addresses, compared with what Python's
# own getaddrinfo says. A name that cannot resolve (under the reserved
# .invalid TLD) makes run and check exit 2 naming the rule's place; those
# runs are in a fresh network namespace, so the lookup sends nothing out.
#
#   tests/integration/test_hostnames.sh        (root; after make tests)

# SC2317: functions are called through expect and pf_exec
# shellcheck disable=SC2317
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

# What localhost resolves to, by an independent resolver: one address a line.
WANT_ADDRS=$(python3 -c '
import socket
seen = []
for ai in socket.getaddrinfo("localhost", None, socket.AF_UNSPEC, socket.SOCK_STREAM):
    a = ai[4][0]
    if a not in seen:
        seen.append(a)
print("\n".join(seen))')
[ -n "$WANT_ADDRS" ] || { echo "FAIL setup: localhost does not resolve here"; exit 1; }
echo "localhost is: $(echo "$WANT_ADDRS" | tr '\n' ' ')"
has_addr()
{
	echo "$WANT_ADDRS" | grep -qx -- "$1"
}

HAVE_V6=0
python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' \
	2>/dev/null && HAVE_V6=1

# the listeners, on ports from $B on
servers()
{
	pf_serve_start v4 --addr 127.0.0.1 --tcp "$B" --tcp $((B + 1)) &&
		{ [ $HAVE_V6 = 0 ] ||
			pf_serve_start v6 --addr ::1 --banner pong6 --tcp "$B" \
				--tcp $((B + 1)); }
}

pf_serve_on_free_ports 2 servers
P0=$B P1=$((B + 1))

POLICY=$PF_TMP/hosts.yaml
cat >"$POLICY" <<EOF
version: 1
agents:
  byname:
    network:
      - to: localhost
        port: $P0
        proto: tcp
EOF
echo "ports $P0 $P1, policy $POLICY"

RUNS=0

# confined CMD...: CMD as agent byname, with a fresh audit file, $AUDIT
confined()
{
	RUNS=$((RUNS + 1))
	AUDIT=$PF_TMP/audit.$RUNS.jsonl
	"$PINFOLD" run --policy "$POLICY" --agent byname --audit "$AUDIT" --allow-degraded --no-watch -- "$@"
}

# ---- baseline: unconfined, the servers answer ----

expect "baseline tcp 127.0.0.1:$P0" "ok pong" "$PF_PROBE" connect 127.0.0.1 "$P0" tcp
expect "baseline tcp 127.0.0.1:$P1" "ok pong" "$PF_PROBE" connect 127.0.0.1 "$P1" tcp
[ $HAVE_V6 = 1 ] &&
	expect "baseline tcp [::1]:$P0" "ok pong6" "$PF_PROBE" connect ::1 "$P0" tcp

# ---- allowed by name, denied on another port ----

if has_addr 127.0.0.1; then
	expect "localhost:$P0 allows 127.0.0.1:$P0" "ok pong" confined \
		"$PF_PROBE" connect 127.0.0.1 "$P0" tcp
	n=$(pf_audit_count "$AUDIT" decision)
	check "127.0.0.1:$P0: no decision record" "$(pf_audit_show "$AUDIT")" [ "$n" = 0 ]
else
	expect "localhost is not 127.0.0.1: $P0 denied" "err EPERM" confined \
		"$PF_PROBE" connect 127.0.0.1 "$P0" tcp
fi

expect "localhost:$P0 denies 127.0.0.1:$P1" "err EPERM" confined \
	"$PF_PROBE" connect 127.0.0.1 "$P1" tcp
n=$(pf_audit_count "$AUDIT" decision=deny action=connect object="127.0.0.1:$P1/tcp" \
	agent=byname reason_code=no-rule)
check "127.0.0.1:$P1: one deny record" "$(pf_audit_show "$AUDIT")" [ "$n" = 1 ]

if [ $HAVE_V6 = 1 ]; then
	if has_addr ::1; then
		expect "localhost:$P0 allows [::1]:$P0" "ok pong6" confined \
			"$PF_PROBE" connect ::1 "$P0" tcp
	else
		# the name stands for its addresses only, not for loopback at large
		expect "localhost is not ::1 here: [::1]:$P0 denied" "err EPERM" confined \
			"$PF_PROBE" connect ::1 "$P0" tcp
	fi
	expect "localhost:$P0 denies [::1]:$P1" "err EPERM" confined \
		"$PF_PROBE" connect ::1 "$P1" tcp
fi

# ---- the instance-start record lists what the name resolved to ----

got=$(python3 - "$AUDIT" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if rec.get("kind") == "instance-start":
        # keyed by destination: the union of those naming localhost
        addrs = []
        for dest, got in rec.get("resolved", {}).items():
            if " localhost " in dest:
                addrs += [a for a in got if a not in addrs]
        print("\n".join(addrs))
PY
)
check "instance-start resolved localhost" \
	"want '$(echo "$WANT_ADDRS" | tr '\n' ' ')', got '$(echo "$got" | tr '\n' ' ')'" \
	[ "$(echo "$got" | sort)" = "$(echo "$WANT_ADDRS" | sort)" ]
n=$(pf_audit_count "$AUDIT" kind=instance-start)
check "one instance-start record" "$(pf_audit_show "$AUDIT")" [ "$n" = 1 ]

# ---- a name that does not resolve ----

BAD=$PF_TMP/unresolvable.yaml
cat >"$BAD" <<EOF
version: 1
agents:
  byname:
    network:
      - to: 127.0.0.1
        port: $P0
        proto: tcp
      - to: nowhere.pinfold-test.invalid
        port: $P0
        proto: tcp
EOF
marker=$PF_TMP/unresolvable-ran
pf_exec unshare --net -- "$PINFOLD" run --policy "$BAD" --agent byname \
	--audit "$PF_TMP/unresolvable.jsonl" --allow-degraded --no-watch -- "$PF_PROBE" create "$marker"
check "unresolvable name: run exits 2" "exit $PF_RC, stderr: $(pf_stderr)" [ "$PF_RC" = 2 ]
check "unresolvable name: error at the rule's place" "stderr: $(pf_stderr)" \
	grep -qF "$BAD:8:9: error: cannot resolve nowhere.pinfold-test.invalid: " "$PF_ERR"
check "unresolvable name: command not run" "$marker exists" [ ! -e "$marker" ]

pf_exec unshare --net -- "$PINFOLD" check "$BAD"
check "unresolvable name: check exits 2" "exit $PF_RC, stderr: $(pf_stderr)" [ "$PF_RC" = 2 ]
check "unresolvable name: check names the place" "stderr: $(pf_stderr)" \
	grep -qF "$BAD:8:9: error: cannot resolve nowhere.pinfold-test.invalid" "$PF_ERR"

pf_exec "$PINFOLD" check "$POLICY"
check "check resolves localhost" "exit $PF_RC, stderr: $(pf_stderr)" [ "$PF_RC" = 0 ]

pf_finish
