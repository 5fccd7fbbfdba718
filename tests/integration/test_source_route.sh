#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_source_route.sh - a source route must not carry a datagram past the
# rules. An agent allowed only [fd99::5]:40000/udp sets an IPv6 routing
# header naming fd99::77 and sends "to" fd99::5: the kernel would deliver it
# to fd99::77 first. Likewise IPv4 loose source routing (IP_OPTIONS). The
# same routes per message, as control data of one sendmsg (IP_RETOPTS,
# IPV6_RTHDR, IPV6_2292RTHDR), no sockopt program sees: the egress program
# must drop the datagram (EPERM) with one record; and io_uring's setsockopt,
# which must meet the sockopt program. Two network namespaces
# joined by veth, made and removed here; no traffic leaves them. The same
# sender unconfined shows the route is real. 32-bit system calls, which the
# kernel's sockopt hook never sees, are refused outright.
#
#   tests/integration/test_source_route.sh        (root; after make tests)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

PF_URING=$PF_ROOT/build/tests/pf-uring
[ -x "$PF_URING" ] ||
	{ echo "FAIL setup: $PF_URING not built (make deps tests: it needs liburing-dev)"; exit 1; }

nsA=pfsrA$$
nsB=pfsrB$$
cleanup_ns() { ip netns del "$nsA" 2>/dev/null; ip netns del "$nsB" 2>/dev/null; }
trap 'cleanup_ns; pf_cleanup' EXIT

ip netns add "$nsA" && ip netns add "$nsB" || pf_skip "cannot create network namespaces"
ip link add pfsr0 netns "$nsA" type veth peer name pfsr1 netns "$nsB" ||
	pf_skip "cannot create a veth pair"
ip -n "$nsA" link set lo up
ip -n "$nsB" link set lo up
ip -n "$nsA" addr add fd99::1/64 dev pfsr0 nodad
ip -n "$nsB" addr add fd99::77/64 dev pfsr1 nodad
ip -n "$nsA" addr add 10.99.0.1/24 dev pfsr0
ip -n "$nsB" addr add 10.99.0.77/24 dev pfsr1
ip -n "$nsA" link set pfsr0 up
ip -n "$nsB" link set pfsr1 up
ip netns exec "$nsB" sysctl -qw net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.pfsr1.seg6_enabled=1
# static neighbours: no datagram waits on neighbour discovery past a count
mac=$(ip -n "$nsB" link show pfsr1 | awk '/link\/ether/ { print $2 }')
ip -n "$nsA" neigh replace fd99::77 lladdr "$mac" dev pfsr0 nud permanent
ip -n "$nsA" neigh replace 10.99.0.77 lladdr "$mac" dev pfsr0 nud permanent

policy=$PF_TMP/policy.yaml
cat > "$policy" <<'YAML'
version: 1
agents:
  router:
    network:
      - {to: "fd99::5", port: 40000, proto: udp}
      - {to: 10.99.0.5, port: 40000, proto: udp}
YAML

# B counts every UDP datagram to port 40000 that reaches it, whatever its
# destination address: with a source route it arrives at B first.
command -v nft >/dev/null || pf_skip "nft missing (make deps)"
ip netns exec "$nsB" nft -f - <<'NFT' || pf_skip "nftables unusable in a namespace"
table inet pfsr {
	counter hits { }
	chain pre {
		type filter hook prerouting priority 0;
		udp dport 40000 counter name hits
	}
}
NFT

# The sender in A: prints "ok -" or "err ENAME" for setsockopt + sendto.
cat > "$PF_TMP/send.py" <<'PY'
import errno, socket, sys
kind = sys.argv[1]
try:
    if kind == 'rthdr':
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_UDP, 101, 1)  # UDP_NO_CHECK6_TX
        srh = bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, 'fd99::77')
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, srh)
        s.sendto(b'MARK srh', ('fd99::5', 40000))
    elif kind == 'lsrr':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        lsrr = bytes([1, 0x83, 7, 4]) + socket.inet_aton('10.99.0.77')
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, lsrr)
        s.sendto(b'MARK lsrr', ('10.99.0.5', 40000))
    elif kind.endswith('-cmsg'):
        # per message: the route rides in the control data of one sendmsg,
        # which no sockopt program sees
        if kind in ('lsrr-cmsg', 'ssrr-cmsg'):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            srr = bytes([1, 0x83 if kind == 'lsrr-cmsg' else 0x89, 7, 4]) + \
                socket.inet_aton('10.99.0.77')
            s.sendmsg([b'MARK ' + kind.encode()], [(socket.IPPROTO_IP, socket.IP_RETOPTS, srr)],
                      0, ('10.99.0.5', 40000))
        else:
            # rthdrT-cmsg (IPV6_RTHDR) or rthdrT-2292-cmsg (IPV6_2292RTHDR), T the
            # routing header type: 0 (deprecated), 2 (mobile IPv6), 4 (SRH)
            rtype = int(kind[5])
            opt = 5 if '-2292-' in kind else socket.IPV6_RTHDR  # IPV6_2292RTHDR
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_UDP, 101, 1)  # UDP_NO_CHECK6_TX
            hop = socket.inet_pton(socket.AF_INET6, 'fd99::77')
            if rtype == 4:
                rt = bytes([0, 2, 4, 0, 0, 0, 0, 0]) + hop
            else:
                rt = bytes([0, 2, rtype, 1, 0, 0, 0, 0]) + hop
            s.sendmsg([b'MARK ' + kind.encode()], [(socket.IPPROTO_IPV6, opt, rt)], 0,
                      ('fd99::5', 40000))
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, b'')
        print('ok -')
        sys.exit(0)
    print('ok -')
except OSError as e:
    print('err', errno.errorcode.get(e.errno, e.errno))
PY

hits() { ip netns exec "$nsB" nft list counter inet pfsr hits | awk '/packets/ { print $2 }'; }

# received KIND CONFINED: the sender's verdict, and how many datagrams reached B
# (uring-lsrr, uring-srh and their --sqpoll twins: pf-uring route, the route
# set by io_uring's own setsockopt)
received()
{
	local kind=$1 confined=$2 out before
	local -a sender=(python3 "$PF_TMP/send.py" "$kind")

	case $kind in
	uring-lsrr) sender=("$PF_URING" route 10.99.0.5 40000 10.99.0.77) ;;
	uring-srh) sender=("$PF_URING" route fd99::5 40000 fd99::77) ;;
	sqpoll-uring-lsrr) sender=("$PF_URING" --sqpoll route 10.99.0.5 40000 10.99.0.77) ;;
	sqpoll-uring-srh) sender=("$PF_URING" --sqpoll route fd99::5 40000 fd99::77) ;;
	esac
	before=$(hits)
	if [ "$confined" = yes ]; then
		out=$("$PINFOLD" run --policy "$policy" --agent router --allow-degraded --no-watch \
			--audit "$PF_TMP/audit.jsonl" -- ip netns exec "$nsA" "${sender[@]}" \
			2>>"$PF_TMP/stderr")
	else
		out=$(ip netns exec "$nsA" "${sender[@]}")
	fi
	sleep 0.5
	echo "$out $(($(hits) - before))"
}

for kind in rthdr lsrr; do
	opt=IPV6_RTHDR
	[ $kind = lsrr ] && opt=IP_OPTIONS
	read -r verdict err n <<<"$(received $kind no)"
	if [ "$verdict" != ok ] || [ "$n" = 0 ]; then
		echo "SKIP-CASE $kind: this kernel does not deliver the route unconfined ($verdict $err, $n)"
	else
		pass "$kind-route-is-real-unconfined"
	fi
	: >"$PF_TMP/audit.jsonl"
	read -r verdict err n <<<"$(received $kind yes)"
	check "$kind-refused" "confined setsockopt said '$verdict $err'" test "$verdict $err" = "err EPERM"
	check "$kind-not-delivered" "$n datagrams reached the other namespace" test "${n:-1}" = 0
	check "$kind-one-record" "$(pf_audit_show "$PF_TMP/audit.jsonl")" \
		test "$(pf_audit_count "$PF_TMP/audit.jsonl" action=setsockopt object=$opt \
			decision=deny reason_code=source-route)" = 1
done

# Per message: the route in a cmsg of one sendmsg. No sockopt program sees it;
# the egress program must drop the datagram (EPERM) and record it once. The
# kernel refuses some kinds itself (an IPv6 routing header in a cmsg must be
# type 2, and needs CONFIG_IPV6_MIP6): those are noted, not tried confined.
for kind in lsrr-cmsg ssrr-cmsg rthdr0-cmsg rthdr2-cmsg rthdr4-cmsg rthdr0-2292-cmsg \
	rthdr2-2292-cmsg rthdr4-2292-cmsg; do
	read -r verdict err n <<<"$(received $kind no)"
	if [ "$verdict" != ok ] || [ "$n" = 0 ]; then
		echo "SKIP-CASE $kind: this kernel does not deliver the route unconfined ($verdict $err, $n)"
		continue
	fi
	pass "$kind-route-is-real-unconfined"
	: >"$PF_TMP/audit.jsonl"
	read -r verdict err n <<<"$(received $kind yes)"
	check "$kind-refused" "confined sendmsg said '$verdict $err'" test "$verdict $err" = "err EPERM"
	check "$kind-not-delivered" "$n datagrams reached the other namespace" test "${n:-1}" = 0
	check "$kind-one-record" "$(pf_audit_show "$PF_TMP/audit.jsonl")" \
		test "$(pf_audit_count "$PF_TMP/audit.jsonl" kind=decision decision=deny \
			action=sendmsg reason_code=source-route)" = 1 -a \
		"$(pf_audit_count "$PF_TMP/audit.jsonl" kind=decision)" = 1
done

# io_uring's own setsockopt (IORING_OP_URING_CMD, kernel 6.7) must meet the
# sockopt program as setsockopt(2) does: refused there, with one record.
for kind in uring-lsrr uring-srh sqpoll-uring-lsrr sqpoll-uring-srh; do
	opt=IPV6_RTHDR
	case $kind in *lsrr) opt=IP_OPTIONS ;; esac
	read -r verdict err n <<<"$(received $kind no)"
	if [ "$verdict" != ok ] || [ "$n" = 0 ]; then
		echo "SKIP-CASE $kind: this kernel does not deliver the route unconfined ($verdict $err, $n)"
		continue
	fi
	pass "$kind-route-is-real-unconfined"
	: >"$PF_TMP/audit.jsonl"
	read -r verdict err n <<<"$(received $kind yes)"
	check "$kind-refused" "confined pf-uring route said '$verdict $err'" \
		test "$verdict $err" = "err EPERM"
	check "$kind-not-delivered" "$n datagrams reached the other namespace" test "${n:-1}" = 0
	check "$kind-one-record" "$(pf_audit_show "$PF_TMP/audit.jsonl")" \
		test "$(pf_audit_count "$PF_TMP/audit.jsonl" kind=decision decision=deny \
			action=setsockopt object=$opt reason_code=source-route)" = 1 -a \
		"$(pf_audit_count "$PF_TMP/audit.jsonl" kind=decision)" = 1
done

# The kernel runs no sockopt program for 32-bit calls (int $0x80): the agent
# gets no foreign ABI at all. Any call shows it; getpid is harmless.
if [ "$(uname -m)" = x86_64 ]; then
	out=$("$PF_PROBE" compat-getpid -)
	check compat-abi-unconfined-works "unconfined int \$0x80 getpid said '$out'" test "$out" = ok
	out=$("$PINFOLD" run --policy "$policy" --agent router --allow-degraded --no-watch \
		--audit "$PF_TMP/audit.jsonl" -- "$PF_PROBE" compat-getpid - 2>/dev/null)
	check compat-abi-refused "confined int \$0x80 getpid said '$out'" test "$out" = "err EPERM"
fi

out=$("$PINFOLD" run --policy "$policy" --agent router --allow-degraded --no-watch \
	--audit "$PF_TMP/audit.jsonl" -- ip netns exec "$nsA" python3 "$PF_TMP/send.py" other \
	2>/dev/null)
check other-options-allowed "other socket options and clearing a route: '$out'" test "$out" = "ok -"

pf_finish
