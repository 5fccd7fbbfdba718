// SPDX-License-Identifier: GPL-2.0-only
/*
 * net.bpf.c - network enforcement: cgroup connect and sendmsg programs on
 * pinfold's parent cgroup judge every destination an instance reaches.
 *
 * sendmsg4/6 run only for datagrams sent with an explicit address, so UDP
 * without connect is judged per datagram, by the send right; a connected
 * socket was judged at connect, by the connect right. IPv4-mapped IPv6
 * destinations match the IPv4 rules. Source routes (an IPv6 routing header,
 * IPv4 options) would send packets to a first hop other than the judged
 * address: setsockopt refuses them. Inbound packets pass only as replies to
 * what an instance was allowed to do, so an agent cannot serve anyone.
 * Creating an IPv4 or IPv6 socket needs its kind among the instance's
 * socket kinds (pf_instance.sockets); other families are judged by BPF LSM.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/pinfold.h"
#include "bpf/common.bpf.h"
#include "bpf/decide.h"

char LICENSE[] SEC("license") = "GPL";

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#ifndef SOCK_STREAM
#define SOCK_STREAM 1
#endif
#ifndef SOCK_DGRAM
#define SOCK_DGRAM 2
#endif
#ifndef SOCK_RAW
#define SOCK_RAW 3
#endif

#define SOL_IP 0
#define SOL_IPV6 41
#define IP_OPTIONS 4
#define IPV6_2292RTHDR 5
#define IPV6_RTHDR 57
#define IP_RECVERR 11
#define IP_RECVERR_RFC4884 26
#define IPV6_RECVERR 25
#define IPV6_RECVERR_RFC4884 31
#define TCP_LISTEN 10
#define PF_PAGE_SIZE 4096
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

/* cgroup sock_addr and sockopt verdicts: the kernel maps DENY to EPERM */
#define SOCK_ALLOW 1
#define SOCK_DENY 0

/* A datagram peer an unconnected socket sent to: its replies may come in. */
struct pf_peer {
	__u8 addr[16];
	__u16 port;
	__u16 pad;
};

struct pf_peers {
	__u32 next; /* slot the next peer overwrites */
	__u32 pad;
	struct pf_peer peer[PF_PEERS];
};

/* pf_peers: per socket, the peers its allowed sendmsg calls named */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);               /* the socket */
	__type(value, struct pf_peers); /* its latest peers */
} pf_peers SEC(".maps");

/*
 * pf_whoami for the programs of a task's socket calls (connect, sendmsg,
 * socket), which run only for sockets of pinfold's parent's cgroups: the
 * caller is almost always an instance, so its entry is looked up first, by
 * the cgroup id read through the task's BTF pointer. On this machine's
 * kernel (make bench, the connect row) each helper call costs about as
 * much as the floor's whole program: bpf_get_current_cgroup_id and
 * bpf_get_current_ancestor_cgroup_id took some 45 ns each, reading
 * task->cgroups->dfl_cgrp->kn->id 20 ns. The verdict is pf_whoami's: a
 * cgroup with an entry is an instance's, made below the parent by pinfold
 * (cgroup ids are never reused, and a cgroup cannot move to another
 * parent); any other is judged by pf_whoami itself.
 * NEEDSWORK: the pf_instances lookup and the pf_net lookup are two map
 * calls; issue 7's target (twice the floor's cost) needs one of them gone,
 * for example the instance's value in cgroup local storage (19 ns less
 * than this lookup, measured; Linux 6.2 and later), which changes how
 * instances are written and switched.
 */
static __always_inline int pf_whoami_sock(struct pf_instance *inst, __u64 *cgid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pf_config *cfg;
	struct pf_instance *v;
	__u32 zero = 0;
	__u64 id;

	cfg = bpf_map_lookup_elem(&pf_config, &zero);
	if (!cfg || !cfg->parent_cgroup_id)
		return PF_WHO_OUTSIDE;
	/* a read that faults gives 0: no entry, and pf_whoami decides */
	id = task->cgroups->dfl_cgrp->kn->id;
	v = id ? bpf_map_lookup_elem(&pf_instances, &id) : NULL;
	if (!v)
		return pf_whoami(inst, cgid);
	*cgid = id;
	*inst = *v;
	return PF_WHO_INSTANCE;
}

/*
 * The rule of the instance (slot and generation) giving need for port/proto
 * to addr, or NULL.
 */
static __always_inline const struct pf_port_rule *
pf_net_match(const struct pf_instance *inst, const __u8 *addr, __u16 port, __u8 proto, __u32 need)
{
	struct pf_net_key key = {
		.prefixlen = 64 + 128,
		.slot = bpf_htonl(inst->slot),
		.gen = bpf_htonl(inst->gen),
	};
	struct pf_net_rules *rules;

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	rules = bpf_map_lookup_elem(&pf_net, &key);
	if (!rules)
		return NULL;
	return pf_decide_port(rules, port, proto, need);
}

/* Remember that ctx's socket sent to addr:port, so that replies may come. */
static __always_inline void pf_peer_remember(struct bpf_sock_addr *ctx, const __u8 *addr,
					     __u16 port)
{
	struct bpf_sock *sk = ctx->sk;
	struct pf_peers *peers;
	__u32 i;

	if (!sk)
		return;
	peers = bpf_sk_storage_get(&pf_peers, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!peers)
		return;
	i = peers->next++ % PF_PEERS;
	__builtin_memcpy(peers->peer[i].addr, addr, 16);
	peers->peer[i].port = port;
}

/*
 * Judge one destination; addr is IPv6 or IPv4-mapped. A connect needs
 * PF_ACCESS_CONNECT, a datagram sent with its address PF_ACCESS_SEND.
 */
static __always_inline int pf_net_decide(struct bpf_sock_addr *ctx, const __u8 *addr, __u8 family,
					 __u16 action)
{
	__u32 need = action == PF_ACT_SENDMSG ? PF_ACCESS_SEND : PF_ACCESS_CONNECT;
	const struct pf_port_rule *rule = NULL;
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u8 proto = (__u8)ctx->protocol;
	struct pf_instance inst = {};
	__u8 reason, decision;
	struct pf_event *ev;
	__u64 cgid = 0;

	switch (pf_whoami_sock(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return SOCK_ALLOW;
	case PF_WHO_UNKNOWN:
		return SOCK_DENY;
	}

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		rule = pf_net_match(&inst, addr, port, proto, need);
	reason = pf_decide_net_reason(proto, rule);
	decision = pf_decide_decision(reason);
	/* a datagram that goes out, denied or not, may have its replies */
	if ((rule || pf_lenient(&inst)) && action == PF_ACT_SENDMSG)
		pf_peer_remember(ctx, addr, port);
	if (rule && !(rule->audited & need) && !pf_records_all(&inst))
		return SOCK_ALLOW;

	ev = pf_event_reserve_short(&inst, cgid, action, decision, reason,
				    rule ? rule->rule_id : PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		ev->family = family;
		ev->proto = proto;
		ev->port = port;
		__builtin_memcpy(ev->addr, addr, sizeof(ev->addr));
		if (rule)
			ev->object = rule->object;
		else if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return rule || pf_lenient(&inst) ? SOCK_ALLOW : SOCK_DENY;
}

static __always_inline void pf_addr4(struct bpf_sock_addr *ctx, __u8 *addr)
{
	__u32 ip = ctx->user_ip4;

	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(addr + 12, &ip, 4);
}

/* user_ip6 must be read 4 bytes at a time (context access rules) */
static __always_inline void pf_addr6(struct bpf_sock_addr *ctx, __u8 *addr)
{
	__u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1];
	__u32 w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];

	__builtin_memcpy(addr, &w0, 4);
	__builtin_memcpy(addr + 4, &w1, 4);
	__builtin_memcpy(addr + 8, &w2, 4);
	__builtin_memcpy(addr + 12, &w3, 4);
}

/* The IPv4 address the socket is bound to, as stored (network order); 0 for none. */
static __always_inline __u32 pf_sk_src4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	return sk ? sk->src_ip4 : 0;
}

/* Whether the socket is bound to an IPv4-mapped IPv6 address. */
static __always_inline __u8 pf_sk_src_mapped(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (!sk)
		return 0;
	return !sk->src_ip6[0] && !sk->src_ip6[1] && sk->src_ip6[2] == bpf_htonl(0xffff);
}

/*
 * A new IPv4 or IPv6 socket, of a task's (the kernel's own sockets do not
 * come here): its kind must be among the instance's. Denied, socket(2)
 * fails with EPERM. The event carries the socket's type in port and its
 * protocol in proto, in full in ino (MPTCP's 262 does not fit a byte).
 */
SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *ctx)
{
	__u32 family = ctx->family, type = ctx->type, protocol = ctx->protocol;
	struct pf_instance inst = {};
	struct pf_event *ev;
	__u32 kind;
	__u64 cgid = 0;
	bool allowed;

	if (family != AF_INET && family != AF_INET6)
		return SOCK_ALLOW;
	switch (pf_whoami_sock(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return SOCK_ALLOW;
	case PF_WHO_UNKNOWN:
		return SOCK_DENY;
	}

	kind = pf_decide_sock_kind(family, type, protocol);
	allowed = kind && (inst.sockets & kind);
	if (allowed && !pf_records_all(&inst))
		return SOCK_ALLOW;

	ev = pf_event_reserve_short(&inst, cgid, PF_ACT_SOCKET,
				    allowed ? PF_DECISION_ALLOW : PF_DECISION_DENY,
				    allowed ? PF_REASON_RULE : PF_REASON_SOCKET_KIND, PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		ev->family = family;
		ev->proto = protocol;
		ev->port = type;
		ev->ino = protocol;
		if (!allowed && pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return allowed || pf_lenient(&inst) ? SOCK_ALLOW : SOCK_DENY;
}

/*
 * Each program judges the destination the kernel will use, not the one
 * asked for: an unspecified address means this host (pf_decide_dest).
 */
SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];

	pf_addr4(ctx, addr);
	pf_decide_dest(addr, pf_sk_src4(ctx), 0);
	return pf_net_decide(ctx, addr, AF_INET, PF_ACT_CONNECT);
}

/* ::ffff:0.0.0.0 is connected over IPv4, from the socket's IPv4 source */
SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];

	pf_addr6(ctx, addr);
	pf_decide_dest(addr, pf_sk_src4(ctx), pf_sk_src_mapped(ctx));
	return pf_net_decide(ctx, addr, AF_INET6, PF_ACT_CONNECT);
}

/* the source: the bound address, or the one IP_PKTINFO names for this datagram */
SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];

	pf_addr4(ctx, addr);
	pf_decide_dest(addr, ctx->msg_src_ip4, 0);
	return pf_net_decide(ctx, addr, AF_INET, PF_ACT_SENDMSG);
}

/* :: always goes to ::1; an IPv4-mapped destination is sent, and judged, by sendmsg4 */
SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];

	pf_addr6(ctx, addr);
	pf_decide_dest(addr, 0, 0);
	return pf_net_decide(ctx, addr, AF_INET6, PF_ACT_SENDMSG);
}

/*
 * Whether an option is refused, with its name and the reason: a source
 * route would send packets to a first hop no rule judged; an error queue
 * (IP_RECVERR) would hand the agent bytes that any host put in an ICMP
 * error, which no inbound check sees. Literal stores: no helper needed.
 */
static __always_inline bool pf_sockopt_refused(int level, int optname, char *name, __u8 *reason)
{
	*reason = PF_REASON_SOURCE_ROUTE;
	if (level == SOL_IPV6 && optname == IPV6_RTHDR) {
		__builtin_memcpy(name, "IPV6_RTHDR", sizeof("IPV6_RTHDR"));
	} else if (level == SOL_IPV6 && optname == IPV6_2292RTHDR) {
		__builtin_memcpy(name, "IPV6_2292RTHDR", sizeof("IPV6_2292RTHDR"));
	} else if (level == SOL_IP && optname == IP_OPTIONS) {
		__builtin_memcpy(name, "IP_OPTIONS", sizeof("IP_OPTIONS"));
	} else if (level == SOL_IP && (optname == IP_RECVERR || optname == IP_RECVERR_RFC4884)) {
		__builtin_memcpy(name, "IP_RECVERR", sizeof("IP_RECVERR"));
		*reason = PF_REASON_ICMP_ERRORS;
	} else if (level == SOL_IPV6 &&
		   (optname == IPV6_RECVERR || optname == IPV6_RECVERR_RFC4884)) {
		__builtin_memcpy(name, "IPV6_RECVERR", sizeof("IPV6_RECVERR"));
		*reason = PF_REASON_ICMP_ERRORS;
	} else {
		return false;
	}
	return true;
}

/*
 * Refuse the options pf_sockopt_refused names. Clearing a source route
 * (optlen 0) is fine; an error queue is refused whatever the value.
 */
SEC("cgroup/setsockopt")
int setsockopt(struct bpf_sockopt *ctx)
{
	struct pf_instance inst = {};
	char name[16] = {};
	struct pf_event *ev;
	__u64 cgid = 0;
	__u8 reason;

	if (!pf_sockopt_refused(ctx->level, ctx->optname, name, &reason) ||
	    (reason == PF_REASON_SOURCE_ROUTE && ctx->optlen == 0))
		goto allow;
	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		goto allow;
	case PF_WHO_UNKNOWN:
		return SOCK_DENY;
	}

	ev = pf_event_reserve(&inst, cgid, PF_ACT_SETSOCKOPT, PF_DECISION_DENY, reason,
			      PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		ev->family = ctx->level == SOL_IPV6 ? AF_INET6 : AF_INET;
		__builtin_memcpy(ev->path, name, sizeof(name));
		if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	if (pf_lenient(&inst))
		goto allow;
	return SOCK_DENY;

allow:
	/* Only a page of a longer value is copied in: hand the kernel the
	 * caller's own buffer, or it fails the call with EFAULT. */
	if (ctx->optlen > PF_PAGE_SIZE)
		ctx->optlen = 0;
	return SOCK_ALLOW;
}

/* An inbound packet's source, read from its headers. */
struct pf_source {
	__u8 addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	__u16 port;    /* host byte order */
	__u8 proto;
	__u8 family;
	__u8 tcp_flags;
};

/*
 * Read the source of skb, whose data starts at its network header. IPv6
 * extension headers are not walked: their packets show neither TCP nor UDP
 * and are dropped. -1 when the headers cannot be read.
 */
static __always_inline int pf_source_read(struct __sk_buff *skb, struct pf_source *src)
{
	__u8 ports_flags[14];
	__u32 off;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return -1;
		__builtin_memset(src->addr, 0, 10);
		src->addr[10] = 0xff;
		src->addr[11] = 0xff;
		__builtin_memcpy(src->addr + 12, &ip.saddr, 4);
		src->proto = ip.protocol;
		src->family = AF_INET;
		off = ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return -1;
		__builtin_memcpy(src->addr, &ip6.saddr, 16);
		src->proto = ip6.nexthdr;
		src->family = AF_INET6;
		off = sizeof(ip6);
	} else {
		return -1;
	}
	if (src->proto != IPPROTO_TCP && src->proto != IPPROTO_UDP)
		return 0;
	/* source port, and for TCP the flags byte 13 bytes in */
	if (bpf_skb_load_bytes(skb, off, ports_flags,
			       src->proto == IPPROTO_TCP ? sizeof(ports_flags) : 2))
		return -1;
	src->port = (__u16)ports_flags[0] << 8 | ports_flags[1];
	src->tcp_flags = src->proto == IPPROTO_TCP ? ports_flags[13] : 0;
	return 0;
}

static __always_inline bool pf_addr_eq(const __u8 *a, const __u8 *b)
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, b + 8, 8);
	return a0 == b0 && a1 == b1;
}

/* Did the unconnected socket sk send to src's address and port? */
static __always_inline bool pf_peer_known(struct bpf_sock *sk, const struct pf_source *src)
{
	struct pf_peers *peers = bpf_sk_storage_get(&pf_peers, sk, NULL, 0);
	__u32 i;

	if (!peers)
		return false;
	for (i = 0; i < PF_PEERS; i++)
		if (peers->peer[i].port == src->port && pf_addr_eq(peers->peer[i].addr, src->addr))
			return true;
	return false;
}

/*
 * Whether a packet is a reply to something the instance was allowed to
 * do. A TCP segment to a socket that is not listening reaches only one
 * whose four addresses it matches, one that connected (judged at connect);
 * a bare SYN, or anything for a listener, asks to open a connection to the
 * agent and is refused. A
 * datagram reaches a connected UDP socket only from its peer (judged at
 * connect); an unconnected one takes datagrams only from a peer it sent to
 * (judged at sendmsg). Nothing else comes in.
 */
static __always_inline bool pf_is_reply(struct __sk_buff *skb, const struct pf_source *src)
{
	struct bpf_sock *sk;

	if (src->proto != IPPROTO_TCP && src->proto != IPPROTO_UDP)
		return false;
	sk = skb->sk;
	if (!sk)
		return false;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return false;
	/* a listener takes only new connections, by SYN or by a SYN cookie's
	 * ACK (which a reuseport peer outside pinfold may have handed out) */
	if (src->proto == IPPROTO_TCP)
		return sk->state != TCP_LISTEN &&
		       (src->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN;
	if (sk->dst_port)
		return true;
	return pf_peer_known(sk, src);
}

/*
 * Let an instance's sockets receive only replies; each refused SYN or
 * datagram is one event (let through in audit and record modes). Replies
 * are not reported, in record mode neither: they were judged as the
 * connect or datagram they answer. The hook runs in softirq context for the
 * receiving socket's cgroup: its events name no task.
 */
SEC("cgroup_skb/ingress")
int ingress(struct __sk_buff *skb)
{
	struct pf_source src = {};
	struct pf_instance inst, *v;
	struct pf_event *ev;
	__u64 cgid = bpf_skb_cgroup_id(skb);

	v = bpf_map_lookup_elem(&pf_instances, &cgid);
	if (!v) {
		pf_count(PF_STAT_UNKNOWN);
		return SOCK_DENY;
	}
	inst = *v; /* one read per decision, as pf_whoami */
	if (pf_source_read(skb, &src))
		return SOCK_DENY;
	if (pf_is_reply(skb, &src))
		return SOCK_ALLOW;

	ev = pf_event_reserve_short(&inst, cgid, PF_ACT_RECEIVE, PF_DECISION_DENY,
				    PF_REASON_INBOUND, PF_RULE_NONE);
	if (ev) {
		ev->family = src.family;
		ev->proto = src.proto;
		ev->port = src.port;
		__builtin_memcpy(ev->addr, src.addr, sizeof(ev->addr));
		if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return pf_lenient(&inst) ? SOCK_ALLOW : SOCK_DENY;
}

/* IPv4 option types that route a packet (RFC 791) and IPv6 extension headers */
#define PF_IPOPT_END 0
#define PF_IPOPT_NOOP 1
#define PF_IPOPT_LSRR 0x83
#define PF_IPOPT_SSRR 0x89
#define PF_NEXTHDR_HOP 0
#define PF_NEXTHDR_ROUTING 43
#define PF_NEXTHDR_DEST 60
#define PF_IPV4_OPTS_MAX 40

/* A walk of IPv4 options; the buffer is larger than any options, so that
 * masked indexes stay inside it. */
struct pf_ipopts {
	__u8 opts[64];
	__u32 i, len;
	bool routed;
};

/* One option: a bpf_loop callback, verified once for any position. */
static long pf_ipopt_step(__u32 n, void *data)
{
	struct pf_ipopts *w = data;
	__u8 type, olen;

	if (w->i >= w->len)
		return 1;
	type = w->opts[w->i & 63];
	if (type == PF_IPOPT_END)
		return 1;
	if (type == PF_IPOPT_LSRR || type == PF_IPOPT_SSRR) {
		w->routed = true;
		return 1;
	}
	if (type == PF_IPOPT_NOOP) {
		w->i++;
		return 0;
	}
	olen = w->opts[(w->i + 1) & 63];
	if (olen < 2) { /* malformed: the kernel built it from the caller's bytes */
		w->routed = true;
		return 1;
	}
	w->i += olen;
	return 0;
}

/* Whether IPv4 options (len bytes at skb offset 20) hold a source route. */
static __always_inline bool pf_ipv4_routed(struct __sk_buff *skb, __u32 len)
{
	struct pf_ipopts w = {.len = len};

	/* (len - 1) & 63 + 1: the verifier sees a size of at least one byte */
	if (len < 4 || len > PF_IPV4_OPTS_MAX ||
	    bpf_skb_load_bytes(skb, 20, w.opts, ((len - 1) & 63) + 1))
		return true; /* unreadable: refused */
	bpf_loop(PF_IPV4_OPTS_MAX, pf_ipopt_step, &w, 0);
	return w.routed;
}

/*
 * Whether an IPv6 packet carries a routing header, among the hop-by-hop
 * and destination options that may come before it. *proto is set to the
 * upper-layer protocol when it is reached.
 */
static __always_inline bool pf_ipv6_routed(struct __sk_buff *skb, __u8 nexthdr, __u8 *proto)
{
	__u32 off = sizeof(struct ipv6hdr), n;
	__u8 ext[2];

	for (n = 0; n < 4; n++) {
		if (nexthdr == PF_NEXTHDR_ROUTING)
			return true;
		if (nexthdr != PF_NEXTHDR_HOP && nexthdr != PF_NEXTHDR_DEST) {
			*proto = nexthdr;
			return false;
		}
		if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
			return true;
		nexthdr = ext[0];
		off += ((__u32)ext[1] + 1) * 8;
	}
	return true; /* four option headers in a row: refused, not walked further */
}

/*
 * The last word on source routes. setsockopt refuses them as options of a
 * socket, but a datagram can carry one of its own (an IP_RETOPTS or
 * IPV6_RTHDR control message to sendmsg), and the packet goes to its first
 * hop, which sendmsg4/6 never judged. So every packet an instance's socket
 * sends is looked at here, whichever call made it, and one with a source
 * route is dropped: the sender gets EPERM. Like ingress, this runs for the
 * socket's cgroup, not always in the sender's context: its events name no
 * task. The address is the packet's destination: with an IPv4 source route
 * that is the first hop.
 */
SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb)
{
	struct pf_instance inst, *v;
	struct pf_event *ev;
	__u64 cgid = bpf_skb_cgroup_id(skb);
	__u8 addr[16] = {}, family, proto = 0;
	bool routed;

	v = bpf_map_lookup_elem(&pf_instances, &cgid);
	if (!v) {
		pf_count(PF_STAT_UNKNOWN); /* as ingress: below the parent, no instance */
		return SOCK_DENY;
	}
	inst = *v;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return SOCK_DENY;
		if (ip.ihl <= 5)
			return SOCK_ALLOW;
		routed = pf_ipv4_routed(skb, ip.ihl * 4 - 20);
		addr[10] = 0xff;
		addr[11] = 0xff;
		__builtin_memcpy(addr + 12, &ip.daddr, 4);
		family = AF_INET;
		proto = ip.protocol;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return SOCK_DENY;
		if (ip6.nexthdr != PF_NEXTHDR_HOP && ip6.nexthdr != PF_NEXTHDR_DEST &&
		    ip6.nexthdr != PF_NEXTHDR_ROUTING)
			return SOCK_ALLOW;
		routed = pf_ipv6_routed(skb, ip6.nexthdr, &proto);
		__builtin_memcpy(addr, &ip6.daddr, 16);
		family = AF_INET6;
	} else {
		return SOCK_ALLOW;
	}
	if (!routed)
		return SOCK_ALLOW;

	ev = pf_event_reserve_short(&inst, cgid, PF_ACT_SENDMSG, PF_DECISION_DENY,
				    PF_REASON_SOURCE_ROUTE, PF_RULE_NONE);
	if (ev) {
		ev->family = family;
		ev->proto = proto;
		__builtin_memcpy(ev->addr, addr, sizeof(ev->addr));
		if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return pf_lenient(&inst) ? SOCK_ALLOW : SOCK_DENY;
}
