#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_inbound.sh - a confined agent serves no one: it may listen, but a
# connection or a datagram from anywhere other than an allowed destination
# never reaches it, and each attempt is one audit record. Its replies from
# allowed destinations still arrive (test_net.sh covers those throughout).
#
#   tests/integration/test_inbound.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init
[ -x "$PINFOLD" ] || { echo "FAIL setup: $PINFOLD not built (make)"; exit 1; }

base=$(pf_free_ports 2) || { echo "FAIL setup: no free ports"; exit 1; }
port=$base
allowed=$((base + 1))
cat >"$PF_TMP/policy.yaml" <<YAML
version: 1
agents:
  server:
    network:
      - {to: 127.0.0.1, port: $allowed, proto: tcp}
YAML

# The agent listens on 127.0.0.1:$port, tcp and udp, for a few seconds.
"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent server --allow-degraded \
	--audit "$PF_TMP/audit.jsonl" -- "$PF_SERVE" --addr 127.0.0.1 --tcp "$port" --udp "$port" \
	--ready-file "$PF_TMP/ready" --timeout 6 2>"$PF_TMP/stderr" &
run=$!
for _ in $(seq 50); do [ -s "$PF_TMP/ready" ] && break; sleep 0.1; done
check agent-listening "the confined server never got ready: $(cat "$PF_TMP/stderr")" \
	test -s "$PF_TMP/ready"

out=$(timeout 2 "$PF_PROBE" connect 127.0.0.1 "$port" tcp)
check tcp-connect-in-refused "an outside client got '$out' from the confined server" \
	test "${out#ok}" = "$out"
out=$("$PF_PROBE" sendto 127.0.0.1 "$port" udp)
check udp-datagram-in-dropped "an outside sender got '$out' from the confined server" \
	test "$out" = "ok noreply"
wait "$run"

n=$(pf_audit_count "$PF_TMP/audit.jsonl" action=receive decision=deny reason_code=inbound \
	protocol=tcp)
check tcp-attempt-recorded "$n records of the inbound SYN: $(pf_audit_show "$PF_TMP/audit.jsonl")" \
	test "$n" -ge 1
n=$(pf_audit_count "$PF_TMP/audit.jsonl" action=receive decision=deny reason_code=inbound \
	protocol=udp)
check udp-datagram-recorded "$n records of the datagram, expected 1" test "$n" = 1
check denial-line "no denial line on stderr: $(cat "$PF_TMP/stderr")" \
	grep -q "pinfold: denied receive 127.0.0.1:[0-9]*/udp (agent server, inbound)" \
	"$PF_TMP/stderr"

pf_finish
