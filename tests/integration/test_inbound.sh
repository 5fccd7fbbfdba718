#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_inbound.sh - a confined agent serves no one: it may listen, but a
# connection or a datagram that is no reply never reaches it, even from an
# allowed destination's address and port, and each attempt is one audit
# record. Replies to what it was allowed to do still arrive (test_net.sh
# covers those, unconnected UDP included).
#
#   tests/integration/test_inbound.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

base=$(pf_free_ports 2) || { echo "FAIL setup: no free ports"; exit 1; }
port=$base
allowed=$((base + 1))
cat >"$PF_TMP/policy.yaml" <<YAML
version: 1
agents:
  server:
    network:
      - {to: 127.0.0.1, port: $allowed, proto: tcp}
      - {to: 127.0.0.1, port: $allowed, proto: udp}
YAML

# The agent listens on 127.0.0.1:$port, tcp and udp, for a few seconds.
"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent server --allow-degraded --no-watch \
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
# A peer cannot pass for a reply by sending from an allowed port.
cat >"$PF_TMP/from_port.py" <<'PY'
import socket, sys
kind, src, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", src))
s.settimeout(1.5)
try:
    if kind == "tcp":
        s.connect(("127.0.0.1", dst))
        s.sendall(b"ping\n")
    else:
        s.sendto(b"ping\n", ("127.0.0.1", dst))
    print("reply", s.recv(100).decode().strip())
except OSError as e:
    print("none", type(e).__name__)
PY
out=$(python3 "$PF_TMP/from_port.py" tcp "$allowed" "$port")
check tcp-from-allowed-port-refused "a peer sending from port $allowed got: $out" \
	test "${out%% *}" = none
out=$(python3 "$PF_TMP/from_port.py" udp "$allowed" "$port")
check udp-from-allowed-port-dropped "a peer sending from port $allowed got: $out" \
	test "${out%% *}" = none
wait "$run"

n=$(pf_audit_count "$PF_TMP/audit.jsonl" action=receive decision=deny reason_code=inbound \
	protocol=tcp)
check tcp-attempt-recorded "$n records of the inbound SYN: $(pf_audit_show "$PF_TMP/audit.jsonl")" \
	test "$n" -ge 1
n=$(pf_audit_count "$PF_TMP/audit.jsonl" action=receive decision=deny reason_code=inbound \
	protocol=udp)
check udp-datagrams-recorded "$n records of the 2 datagrams, expected 2" test "$n" = 2
check denial-line "no denial line on stderr: $(cat "$PF_TMP/stderr")" \
	grep -q "pinfold: denied receive 127.0.0.1:[0-9]*/udp (agent server, inbound)" \
	"$PF_TMP/stderr"

# ICMP errors bypass every inbound check; an error queue would hand their
# bytes, chosen by any host, to the agent.
recverr='import errno, socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).setsockopt(socket.IPPROTO_IP, 11, 1)
    print("ok")
except OSError as e:
    print("err", errno.errorcode[e.errno])'
out=$(python3 -c "$recverr")
check recverr-unconfined-works "unconfined IP_RECVERR said '$out'" test "$out" = ok
out=$("$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent server --allow-degraded --no-watch \
	--audit "$PF_TMP/recverr.jsonl" -- python3 -c "$recverr" 2>/dev/null)
check recverr-refused "confined IP_RECVERR said '$out'" test "$out" = "err EPERM"
n=$(pf_audit_count "$PF_TMP/recverr.jsonl" action=setsockopt object=IP_RECVERR \
	reason_code=icmp-errors decision=deny)
check recverr-recorded "$n records of the refused IP_RECVERR, expected 1" test "$n" = 1

pf_finish
