/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * decide.h - the pure decision steps, compiled both into the BPF programs
 * and into userspace (pinfold explain, unit tests), so that both judge
 * alike by construction. No helpers, no kernel types: only the __u types
 * and the structs of bpf/pinfold.h. The matching rules are in pinfold.h.
 */
#ifndef PINFOLD_DECIDE_H
#define PINFOLD_DECIDE_H

#include "bpf/pinfold.h"

/* IPPROTO_TCP and IPPROTO_UDP, whose headers differ between the two sides */
#define PF_PROTO_TCP 6
#define PF_PROTO_UDP 17

/* Socket families, types and protocols, whose headers differ between the two sides */
#define PF_AF_UNIX 1
#define PF_AF_INET 2
#define PF_AF_INET6 10
#define PF_AF_NETLINK 16
#define PF_AF_PACKET 17
#define PF_TYPE_STREAM 1
#define PF_TYPE_DGRAM 2
#define PF_TYPE_RAW 3
#define PF_PROTO_ICMP 1
#define PF_PROTO_ICMPV6 58
#define PF_PROTO_MPTCP 262
#define PF_NETLINK_ROUTE 0

/*
 * The PF_SOCK_* kind of a socket; 0 for one no policy may allow (SCTP,
 * UDP-Lite, vsock, netlink but NETLINK_ROUTE, ...). The kernel judges IPv4
 * and IPv6 sockets in a cgroup sock_create program (net.bpf.c), the other
 * families in the LSM socket_create hook (files.bpf.c); the audit writer
 * names the kind with this too. Protocol 0 (the default of a type) counts
 * as the type's usual protocol.
 */
static inline __u32 pf_decide_sock_kind(__u32 family, __u32 type, __u32 protocol)
{
	if (family == PF_AF_INET || family == PF_AF_INET6) {
		if (type == PF_TYPE_STREAM &&
		    (!protocol || protocol == PF_PROTO_TCP || protocol == PF_PROTO_MPTCP))
			return PF_SOCK_TCP;
		if (type == PF_TYPE_DGRAM && (!protocol || protocol == PF_PROTO_UDP))
			return PF_SOCK_UDP;
		if (type == PF_TYPE_DGRAM &&
		    (protocol == PF_PROTO_ICMP || protocol == PF_PROTO_ICMPV6))
			return PF_SOCK_PING;
		return type == PF_TYPE_RAW ? PF_SOCK_RAW : 0;
	}
	if (family == PF_AF_UNIX)
		return PF_SOCK_UNIX;
	if (family == PF_AF_NETLINK)
		return protocol == PF_NETLINK_ROUTE ? PF_SOCK_NETLINK_ROUTE : 0;
	return family == PF_AF_PACKET ? PF_SOCK_PACKET : 0;
}

/*
 * The rule of the longest prefix's entry rules that gives need (one
 * PF_ACCESS_CONNECT or PF_ACCESS_SEND) for port/proto, or NULL. The loop is
 * bounded by PF_PORTS_PER_PREFIX for the verifier, and by rules->count,
 * which the compiler never sets higher.
 */
static inline const struct pf_port_rule *pf_decide_port(const struct pf_net_rules *rules,
							__u16 port, __u8 proto, __u32 need)
{
	__u32 i;

	for (i = 0; i < PF_PORTS_PER_PREFIX; i++) {
		const struct pf_port_rule *r = &rules->rules[i];

		if (i >= rules->count)
			break;
		if (r->proto == proto && (r->access & need) && port >= r->port_lo &&
		    port <= r->port_hi)
			return r;
	}
	return NULL;
}

/* The reason of a network decision: PF_REASON_PROTOCOL, _RULE or _NO_RULE. */
static inline __u8 pf_decide_net_reason(__u8 proto, const struct pf_port_rule *rule)
{
	if (proto != PF_PROTO_TCP && proto != PF_PROTO_UDP)
		return PF_REASON_PROTOCOL;
	return rule ? PF_REASON_RULE : PF_REASON_NO_RULE;
}

/*
 * The destination the kernel really sends to, which is what is judged and
 * recorded: it reads an unspecified destination as "this host" only after
 * the cgroup programs have judged it. 0.0.0.0 (and ::ffff:0.0.0.0) goes to
 * the socket's IPv4 source address src4 (as stored in the address, network
 * byte order; 0 for none: unbound, no IP_PKTINFO) or else to 127.0.0.1; ::
 * goes to ::1, or to ::ffff:127.0.0.1 when connecting a socket bound to an
 * IPv4-mapped address (src_mapped; a datagram to :: always goes to ::1).
 * The rest of 0.0.0.0/8 is routed as written (without a route for it:
 * ENETUNREACH), so it stays. Returns 1 when addr (IPv4 as ::ffff:a.b.c.d)
 * was replaced, else 0.
 */
static inline int pf_decide_dest(__u8 addr[16], __u32 src4, __u8 src_mapped)
{
	__u32 i;

	for (i = 0; i < 16; i++)
		if (addr[i] && i != 10 && i != 11)
			return 0;
	if (addr[10] == 0xff && addr[11] == 0xff) {
		if (src4) {
			__builtin_memcpy(addr + 12, &src4, 4); /* as stored: network order */
		} else {
			addr[12] = 127;
			addr[15] = 1;
		}
		return 1;
	}
	if (addr[10] || addr[11])
		return 0;
	if (src_mapped) {
		addr[10] = addr[11] = 0xff;
		addr[12] = 127;
	}
	addr[15] = 1;
	return 1;
}

/*
 * The one PF_ACCESS_* right a file action needs on side (enum pf_side) of
 * its object; the table is in bpf/pinfold.h, "File matching".
 */
static inline __u32 pf_decide_need(__u16 action, __u8 side)
{
	switch (action) {
	case PF_ACT_OPEN_READ:
	case PF_ACT_RECEIVE_FD:
		return PF_ACCESS_READ;
	case PF_ACT_EXEC:
	case PF_ACT_MAP_EXEC:
		return PF_ACCESS_EXEC;
	case PF_ACT_CREATE:
		return PF_ACCESS_CREATE;
	case PF_ACT_UNLINK:
		return PF_ACCESS_DELETE;
	case PF_ACT_RENAME:
		return side == PF_SIDE_SOURCE ? PF_ACCESS_DELETE : PF_ACCESS_CREATE;
	case PF_ACT_LINK:
		return side == PF_SIDE_SOURCE ? PF_ACCESS_WRITE : PF_ACCESS_CREATE;
	default: /* PF_ACT_OPEN_WRITE, PF_ACT_TRUNCATE, PF_ACT_SETATTR */
		return PF_ACCESS_WRITE;
	}
}

/* The index i of need = PF_ACCESS_BIT(i) in pf_tree.rule, for a file right. */
static inline __u32 pf_decide_index(__u32 need)
{
	__u32 i;

	for (i = 0; i < PF_FILE_ACCESSES; i++)
		if (need == PF_ACCESS_BIT(i))
			return i;
	return 0;
}

/*
 * The reason of a file decision, given the deepest tree the walk met
 * (NULL for none) and, when none, whether the walk reached its end:
 * PF_REASON_RULE allows; PF_REASON_ACCESS, _NO_RULE and _TOO_DEEP deny.
 */
static inline __u8 pf_decide_file(const struct pf_tree *tree, __u8 complete, __u32 need)
{
	if (tree)
		return (tree->access & need) ? PF_REASON_RULE : PF_REASON_ACCESS;
	return complete ? PF_REASON_NO_RULE : PF_REASON_TOO_DEEP;
}

/* The grant that allowed need on tree, or PF_RULE_NONE. */
static inline __u32 pf_decide_file_rule(const struct pf_tree *tree, __u32 need)
{
	if (!tree || !(tree->access & need))
		return PF_RULE_NONE;
	return tree->rule[pf_decide_index(need) % PF_FILE_ACCESSES];
}

/* PF_DECISION_ALLOW for PF_REASON_RULE, else PF_DECISION_DENY. */
static inline __u8 pf_decide_decision(__u8 reason)
{
	return reason == PF_REASON_RULE ? PF_DECISION_ALLOW : PF_DECISION_DENY;
}

#endif /* PINFOLD_DECIDE_H */
