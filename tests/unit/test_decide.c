// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_decide.c - the decision steps that both the BPF programs and
 * `pinfold explain` compile (bpf/decide.h): the right each file action
 * needs on each side, the grant reported per right, the worked examples of
 * bpf/pinfold.h's top comment, port rules by range, protocol and access.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "bpf/decide.h"

#define ALL_FILE_RIGHTS                                                                            \
	(PF_ACCESS_READ | PF_ACCESS_WRITE | PF_ACCESS_CREATE | PF_ACCESS_DELETE | PF_ACCESS_EXEC)

/* The table of bpf/pinfold.h, "File matching", for every action and side. */
static void test_need_by_action_and_side(void **state)
{
	static const struct {
		__u16 action;
		__u8 side;
		__u32 need;
	} table[] = {
		{PF_ACT_OPEN_READ, PF_SIDE_OBJECT, PF_ACCESS_READ},
		{PF_ACT_OPEN_WRITE, PF_SIDE_OBJECT, PF_ACCESS_WRITE},
		{PF_ACT_TRUNCATE, PF_SIDE_OBJECT, PF_ACCESS_WRITE},
		{PF_ACT_EXEC, PF_SIDE_OBJECT, PF_ACCESS_EXEC},
		{PF_ACT_MAP_EXEC, PF_SIDE_OBJECT, PF_ACCESS_EXEC},
		{PF_ACT_CREATE, PF_SIDE_OBJECT, PF_ACCESS_CREATE},
		/* an exchange's new name at the source */
		{PF_ACT_CREATE, PF_SIDE_SOURCE, PF_ACCESS_CREATE},
		{PF_ACT_UNLINK, PF_SIDE_OBJECT, PF_ACCESS_DELETE},
		/* the victim of a rename over an existing name */
		{PF_ACT_UNLINK, PF_SIDE_TARGET, PF_ACCESS_DELETE},
		{PF_ACT_RENAME, PF_SIDE_SOURCE, PF_ACCESS_DELETE},
		{PF_ACT_RENAME, PF_SIDE_TARGET, PF_ACCESS_CREATE},
		{PF_ACT_LINK, PF_SIDE_SOURCE, PF_ACCESS_WRITE},
		{PF_ACT_LINK, PF_SIDE_TARGET, PF_ACCESS_CREATE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		__u32 need = pf_decide_need(table[i].action, table[i].side);

		if (need != table[i].need)
			fail_msg("action %u side %u needs %#x, expected %#x", table[i].action,
				 table[i].side, need, table[i].need);
	}
}

/* Whatever the action, the need is one file right: the kernel looks up one rule for it. */
static void test_every_need_is_one_file_right(void **state)
{
	__u16 action;
	__u8 side;

	(void)state;
	for (action = 0; action <= PF_ACT_MAX; action++) {
		for (side = PF_SIDE_OBJECT; side <= PF_SIDE_TARGET; side++) {
			__u32 need = pf_decide_need(action, side);

			assert_true(need & ALL_FILE_RIGHTS);
			assert_int_equal(need & (need - 1), 0);
			assert_int_equal(PF_ACCESS_BIT(pf_decide_index(need)), need);
		}
	}
}

static void test_index_of_each_right(void **state)
{
	__u32 i;

	(void)state;
	assert_int_equal(pf_decide_index(PF_ACCESS_READ), 0);
	assert_int_equal(pf_decide_index(PF_ACCESS_WRITE), 1);
	assert_int_equal(pf_decide_index(PF_ACCESS_CREATE), 2);
	assert_int_equal(pf_decide_index(PF_ACCESS_DELETE), 3);
	assert_int_equal(pf_decide_index(PF_ACCESS_EXEC), 4);
	for (i = 0; i < PF_FILE_ACCESSES; i++)
		assert_int_equal(pf_decide_index(PF_ACCESS_BIT(i)), i);
	/* not a file right: an index that stays inside pf_tree.rule */
	assert_true(pf_decide_index(PF_ACCESS_CONNECT) < PF_FILE_ACCESSES);
	assert_true(pf_decide_index(0) < PF_FILE_ACCESSES);
}

/* Each right reports the grant that gives it; a right not held reports none. */
static void test_rule_per_right(void **state)
{
	const struct pf_tree t = {
		.object = 77,
		.access = PF_ACCESS_READ | PF_ACCESS_WRITE | PF_ACCESS_EXEC,
		.rule = {10, 11, PF_RULE_NONE, PF_RULE_NONE, 14},
	};
	/* a stale rule without its access bit is never reported */
	const struct pf_tree stale = {.access = PF_ACCESS_READ, .rule = {20, 21, 22, 23, 24}};

	(void)state;
	assert_int_equal(pf_decide_file_rule(&t, PF_ACCESS_READ), 10);
	assert_int_equal(pf_decide_file_rule(&t, PF_ACCESS_WRITE), 11);
	assert_int_equal(pf_decide_file_rule(&t, PF_ACCESS_EXEC), 14);
	assert_int_equal(pf_decide_file_rule(&t, PF_ACCESS_CREATE), PF_RULE_NONE);
	assert_int_equal(pf_decide_file_rule(&t, PF_ACCESS_DELETE), PF_RULE_NONE);
	assert_int_equal(pf_decide_file_rule(&stale, PF_ACCESS_READ), 20);
	assert_int_equal(pf_decide_file_rule(&stale, PF_ACCESS_WRITE), PF_RULE_NONE);
	assert_int_equal(pf_decide_file_rule(&stale, PF_ACCESS_EXEC), PF_RULE_NONE);
	assert_int_equal(pf_decide_file_rule(NULL, PF_ACCESS_READ), PF_RULE_NONE);
	/* the rule follows the need of the action and side */
	assert_int_equal(pf_decide_file_rule(&t, pf_decide_need(PF_ACT_LINK, PF_SIDE_SOURCE)), 11);
	assert_int_equal(pf_decide_file_rule(&t, pf_decide_need(PF_ACT_EXEC, PF_SIDE_OBJECT)), 14);
	assert_int_equal(pf_decide_file_rule(&t, pf_decide_need(PF_ACT_RENAME, PF_SIDE_SOURCE)),
			 PF_RULE_NONE);
}

/*
 * pinfold.h: classes phi.clinical /srv/ehr, phi.psych /srv/ehr/psych; the
 * agent may read phi.clinical. The walk hands the deepest tree it met.
 */
static void test_worked_example_trees(void **state)
{
	const struct pf_tree clinical = {
		.object = 1,
		.access = PF_ACCESS_READ,
		.rule = {5, PF_RULE_NONE, PF_RULE_NONE, PF_RULE_NONE, PF_RULE_NONE}};
	const struct pf_tree psych = {
		.object = 2,
		.access = 0,
		.rule = {PF_RULE_NONE, PF_RULE_NONE, PF_RULE_NONE, PF_RULE_NONE, PF_RULE_NONE}};
	__u32 read = pf_decide_need(PF_ACT_OPEN_READ, PF_SIDE_OBJECT);

	(void)state;
	/* open /srv/ehr/a/chart.txt O_RDONLY -> phi.clinical decides: allowed */
	assert_int_equal(pf_decide_file(&clinical, 0, read), PF_REASON_RULE);
	assert_int_equal(pf_decide_decision(PF_REASON_RULE), PF_DECISION_ALLOW);
	assert_int_equal(pf_decide_file_rule(&clinical, read), 5);
	/* open /srv/ehr/psych/n.txt O_RDONLY -> phi.psych decides: denied */
	assert_int_equal(pf_decide_file(&psych, 0, read), PF_REASON_ACCESS);
	assert_int_equal(pf_decide_decision(PF_REASON_ACCESS), PF_DECISION_DENY);
	/* open /etc/passwd O_RDONLY -> no tree: denied */
	assert_int_equal(pf_decide_file(NULL, 1, read), PF_REASON_NO_RULE);
	assert_int_equal(pf_decide_decision(PF_REASON_NO_RULE), PF_DECISION_DENY);
}

/* Each right stands alone: none implies another. */
static void test_rights_are_independent(void **state)
{
	__u32 held, need;

	(void)state;
	for (held = 0; held < PF_FILE_ACCESSES; held++) {
		const struct pf_tree t = {.access = PF_ACCESS_BIT(held)};

		for (need = 0; need < PF_FILE_ACCESSES; need++)
			assert_int_equal(pf_decide_file(&t, 0, PF_ACCESS_BIT(need)),
					 held == need ? PF_REASON_RULE : PF_REASON_ACCESS);
	}
}

static void test_file_actions_need_their_own_right(void **state)
{
	const struct pf_tree read_only = {.access = PF_ACCESS_READ, .audited = ALL_FILE_RIGHTS};
	const struct pf_tree write_only = {.access = PF_ACCESS_WRITE};
	const struct pf_tree drop_box = {.access = PF_ACCESS_CREATE};
	const struct pf_tree shredder = {.access = PF_ACCESS_DELETE};
	const struct pf_tree programs = {.access = PF_ACCESS_READ | PF_ACCESS_EXEC};

	(void)state;
	/* reading a program is not running it, nor the other way round */
	assert_int_equal(pf_decide_file(&read_only, 0, pf_decide_need(PF_ACT_EXEC, 0)),
			 PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file(&programs, 0, pf_decide_need(PF_ACT_EXEC, 0)),
			 PF_REASON_RULE);
	/* the audit bits grant nothing */
	assert_int_equal(pf_decide_file(&read_only, 0, pf_decide_need(PF_ACT_UNLINK, 0)),
			 PF_REASON_ACCESS);
	/* write lets a file change, not appear or go */
	assert_int_equal(pf_decide_file(&write_only, 0, pf_decide_need(PF_ACT_TRUNCATE, 0)),
			 PF_REASON_RULE);
	assert_int_equal(pf_decide_file(&write_only, 0, pf_decide_need(PF_ACT_CREATE, 0)),
			 PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file(&write_only, 0, pf_decide_need(PF_ACT_UNLINK, 0)),
			 PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file(&write_only, 0, pf_decide_need(PF_ACT_OPEN_READ, 0)),
			 PF_REASON_ACCESS);
	/* a drop box takes new names, a rename's target included, and gives none away */
	assert_int_equal(
		pf_decide_file(&drop_box, 0, pf_decide_need(PF_ACT_RENAME, PF_SIDE_TARGET)),
		PF_REASON_RULE);
	assert_int_equal(
		pf_decide_file(&drop_box, 0, pf_decide_need(PF_ACT_RENAME, PF_SIDE_SOURCE)),
		PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file(&drop_box, 0, pf_decide_need(PF_ACT_LINK, PF_SIDE_TARGET)),
			 PF_REASON_RULE);
	assert_int_equal(pf_decide_file(&drop_box, 0, pf_decide_need(PF_ACT_LINK, PF_SIDE_SOURCE)),
			 PF_REASON_ACCESS);
	/* overwriting by rename needs delete on the victim too */
	assert_int_equal(
		pf_decide_file(&drop_box, 0, pf_decide_need(PF_ACT_UNLINK, PF_SIDE_TARGET)),
		PF_REASON_ACCESS);
	assert_int_equal(
		pf_decide_file(&shredder, 0, pf_decide_need(PF_ACT_UNLINK, PF_SIDE_TARGET)),
		PF_REASON_RULE);
	assert_int_equal(
		pf_decide_file(&shredder, 0, pf_decide_need(PF_ACT_RENAME, PF_SIDE_SOURCE)),
		PF_REASON_RULE);
}

static void test_walk_without_a_tree_denies(void **state)
{
	(void)state;
	/* a walk that ran out of steps denies, never allows */
	assert_int_equal(pf_decide_file(NULL, 0, PF_ACCESS_READ), PF_REASON_TOO_DEEP);
	assert_int_equal(pf_decide_decision(PF_REASON_TOO_DEEP), PF_DECISION_DENY);
	assert_int_equal(pf_decide_file(NULL, 1, PF_ACCESS_EXEC), PF_REASON_NO_RULE);
}

/* ---- network ---- */

static const struct pf_port_rule rule_443_tcp = {.port_lo = 443,
						 .port_hi = 443,
						 .proto = PF_PROTO_TCP,
						 .access = PF_ACCESS_CONNECT,
						 .rule_id = 1,
						 .object = 101};
static const struct pf_port_rule rule_53_udp = {.port_lo = 53,
						.port_hi = 53,
						.proto = PF_PROTO_UDP,
						.access = PF_ACCESS_CONNECT | PF_ACCESS_SEND,
						.rule_id = 0,
						.object = 100};

/* pinfold.h: key ::ffff:10.1.2.3/128 -> { 443/tcp rule 1, 53/udp rule 0 } */
static void test_worked_example_host_entry(void **state)
{
	const struct pf_net_rules host = {.count = 2, .rules = {rule_443_tcp, rule_53_udp}};
	const struct pf_port_rule *r;

	(void)state;
	/* connect 10.1.2.3:53/udp -> longest match /128, entry 2 allows (rule 0) */
	r = pf_decide_port(&host, 53, PF_PROTO_UDP, PF_ACCESS_CONNECT);
	assert_non_null(r);
	assert_int_equal(r->rule_id, 0);
	assert_int_equal(r->object, 100);
	assert_int_equal(pf_decide_net_reason(PF_PROTO_UDP, r), PF_REASON_RULE);
	assert_int_equal(pf_decide_decision(PF_REASON_RULE), PF_DECISION_ALLOW);
	r = pf_decide_port(&host, 53, PF_PROTO_UDP, PF_ACCESS_SEND);
	assert_non_null(r);
	assert_int_equal(r->rule_id, 0);

	r = pf_decide_port(&host, 443, PF_PROTO_TCP, PF_ACCESS_CONNECT);
	assert_non_null(r);
	assert_int_equal(r->rule_id, 1);
}

/* pinfold.h: connect 10.9.9.9:443/tcp -> longest match /104, no entry -> denied */
static void test_worked_example_prefix_entry(void **state)
{
	const struct pf_net_rules net = {.count = 1, .rules = {rule_53_udp}};
	const struct pf_port_rule *r;

	(void)state;
	r = pf_decide_port(&net, 443, PF_PROTO_TCP, PF_ACCESS_CONNECT);
	assert_null(r);
	assert_int_equal(pf_decide_net_reason(PF_PROTO_TCP, r), PF_REASON_NO_RULE);
	assert_int_equal(pf_decide_decision(PF_REASON_NO_RULE), PF_DECISION_DENY);
}

/* A rule gives only the accesses it holds; the first rule giving the need decides. */
static void test_port_rule_needs_its_access(void **state)
{
	const struct pf_net_rules net = {.count = 3,
					 .rules = {
						 {.port_lo = 53,
						  .port_hi = 53,
						  .proto = PF_PROTO_UDP,
						  .access = PF_ACCESS_CONNECT,
						  .rule_id = 7},
						 {.port_lo = 1,
						  .port_hi = 65535,
						  .proto = PF_PROTO_UDP,
						  .access = PF_ACCESS_SEND,
						  .rule_id = 8},
						 {.port_lo = 53,
						  .port_hi = 53,
						  .proto = PF_PROTO_UDP,
						  .access = PF_ACCESS_CONNECT | PF_ACCESS_SEND,
						  .rule_id = 9},
					 }};
	const struct pf_net_rules none = {
		.count = 1,
		.rules = {{.port_lo = 80, .port_hi = 80, .proto = PF_PROTO_TCP, .access = 0}}};

	(void)state;
	assert_int_equal(pf_decide_port(&net, 53, PF_PROTO_UDP, PF_ACCESS_CONNECT)->rule_id, 7);
	assert_int_equal(pf_decide_port(&net, 53, PF_PROTO_UDP, PF_ACCESS_SEND)->rule_id, 8);
	assert_int_equal(pf_decide_port(&net, 54, PF_PROTO_UDP, PF_ACCESS_SEND)->rule_id, 8);
	assert_null(pf_decide_port(&net, 54, PF_PROTO_UDP, PF_ACCESS_CONNECT));
	/* a file right is never a network one */
	assert_null(pf_decide_port(&net, 53, PF_PROTO_UDP, PF_ACCESS_READ));
	/* a rule without accesses gives nothing */
	assert_null(pf_decide_port(&none, 80, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	assert_null(pf_decide_port(&none, 80, PF_PROTO_TCP, PF_ACCESS_SEND));
}

static void test_port_range_bounds_are_inclusive(void **state)
{
	const struct pf_net_rules net = {.count = 1,
					 .rules = {{.port_lo = 8000,
						    .port_hi = 8010,
						    .proto = PF_PROTO_TCP,
						    .access = PF_ACCESS_CONNECT,
						    .rule_id = 7}}};

	(void)state;
	assert_null(pf_decide_port(&net, 7999, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	assert_non_null(pf_decide_port(&net, 8000, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	assert_non_null(pf_decide_port(&net, 8005, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	assert_non_null(pf_decide_port(&net, 8010, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	assert_null(pf_decide_port(&net, 8011, PF_PROTO_TCP, PF_ACCESS_CONNECT));
}

static void test_protocol_mismatch_denies(void **state)
{
	const struct pf_net_rules net = {.count = 1, .rules = {rule_443_tcp}};
	const struct pf_port_rule *r = pf_decide_port(&net, 443, PF_PROTO_UDP, PF_ACCESS_CONNECT);

	(void)state;
	assert_null(r);
	assert_int_equal(pf_decide_net_reason(PF_PROTO_UDP, r), PF_REASON_NO_RULE);
	/* neither tcp nor udp (sctp 132): its own reason, whatever the ports */
	assert_int_equal(pf_decide_net_reason(132, NULL), PF_REASON_PROTOCOL);
	assert_int_equal(pf_decide_decision(PF_REASON_PROTOCOL), PF_DECISION_DENY);
}

/* entries past count are stale and never match */
static void test_rules_past_count_are_ignored(void **state)
{
	struct pf_net_rules net = {.count = 1, .rules = {rule_53_udp, rule_443_tcp}};
	struct pf_net_rules full = {.count = PF_PORTS_PER_PREFIX};

	(void)state;
	assert_null(pf_decide_port(&net, 443, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	full.rules[PF_PORTS_PER_PREFIX - 1] = rule_443_tcp;
	assert_non_null(pf_decide_port(&full, 443, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	/* a count past the array is bounded by it */
	full.count = PF_PORTS_PER_PREFIX + 5;
	assert_non_null(pf_decide_port(&full, 443, PF_PROTO_TCP, PF_ACCESS_CONNECT));
	assert_null(pf_decide_port(&full, 444, PF_PROTO_TCP, PF_ACCESS_CONNECT));
}

/* addr16 of "a.b.c.d" as ::ffff:a.b.c.d, or of an IPv6 text */
static void dest_of(const char *text, __u8 out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

/* pf_decide_dest(text, src4 as text or NULL, src_mapped) must give want (NULL: unchanged). */
static void expect_dest(const char *text, const char *src, __u8 src_mapped, const char *want)
{
	__u8 addr[16], expect[16];
	struct in_addr s4 = {0};

	if (src)
		assert_int_equal(inet_pton(AF_INET, src, &s4), 1);
	dest_of(text, addr);
	dest_of(want ? want : text, expect);
	assert_int_equal(pf_decide_dest(addr, s4.s_addr, src_mapped), want ? 1 : 0);
	if (memcmp(addr, expect, 16))
		fail_msg("%s from %s%s: not judged as %s", text, src ? src : "unbound",
			 src_mapped ? " (mapped)" : "", want ? want : text);
}

/* The kernel sends to an unspecified address on this host: that is what is judged. */
static void test_unspecified_destination_is_this_host(void **state)
{
	(void)state;
	expect_dest("0.0.0.0", NULL, 0, "127.0.0.1");
	expect_dest("::ffff:0.0.0.0", NULL, 0, "127.0.0.1");
	expect_dest("::", NULL, 0, "::1");
	/* from a bound socket, 0.0.0.0 goes to its own address */
	expect_dest("0.0.0.0", "127.0.0.5", 0, "127.0.0.5");
	expect_dest("0.0.0.0", "192.0.2.7", 0, "192.0.2.7");
	/* a socket bound to an IPv4-mapped address connects :: over IPv4 */
	expect_dest("::", NULL, 1, "::ffff:127.0.0.1");
	/* the rest of 0.0.0.0/8, and real addresses, are routed as written */
	expect_dest("0.0.0.1", NULL, 0, NULL);
	expect_dest("0.1.2.3", "127.0.0.5", 0, NULL);
	expect_dest("127.0.0.1", NULL, 0, NULL);
	expect_dest("::1", NULL, 1, NULL);
	expect_dest("::2", NULL, 0, NULL);
	expect_dest("1::", NULL, 0, NULL);
	expect_dest("::ffff:0:0:0", NULL, 0, NULL);
	expect_dest("::fffe:0.0.0.0", NULL, 0, NULL);
	expect_dest("::ff:0.0.0.0", NULL, 0, NULL);
}

/* Every kind of socket, as both kernel programs and the audit writer name it. */
static void test_socket_kinds(void **state)
{
	static const struct {
		__u32 family, type, protocol, kind;
	} cases[] = {
		{PF_AF_INET, PF_TYPE_STREAM, 0, PF_SOCK_TCP},
		{PF_AF_INET6, PF_TYPE_STREAM, PF_PROTO_TCP, PF_SOCK_TCP},
		{PF_AF_INET, PF_TYPE_STREAM, PF_PROTO_MPTCP, PF_SOCK_TCP},
		{PF_AF_INET, PF_TYPE_STREAM, 132, 0}, /* SCTP */
		{PF_AF_INET, PF_TYPE_DGRAM, 0, PF_SOCK_UDP},
		{PF_AF_INET6, PF_TYPE_DGRAM, PF_PROTO_UDP, PF_SOCK_UDP},
		{PF_AF_INET, PF_TYPE_DGRAM, 136, 0}, /* UDP-Lite */
		{PF_AF_INET, PF_TYPE_DGRAM, PF_PROTO_ICMP, PF_SOCK_PING},
		{PF_AF_INET6, PF_TYPE_DGRAM, PF_PROTO_ICMPV6, PF_SOCK_PING},
		{PF_AF_INET, PF_TYPE_RAW, PF_PROTO_ICMP, PF_SOCK_RAW},
		{PF_AF_INET6, PF_TYPE_RAW, 0, PF_SOCK_RAW},
		{PF_AF_INET, 5, 0, 0}, /* SOCK_SEQPACKET */
		{PF_AF_UNIX, PF_TYPE_STREAM, 0, PF_SOCK_UNIX},
		{PF_AF_UNIX, PF_TYPE_DGRAM, 0, PF_SOCK_UNIX},
		{PF_AF_NETLINK, PF_TYPE_RAW, PF_NETLINK_ROUTE, PF_SOCK_NETLINK_ROUTE},
		{PF_AF_NETLINK, PF_TYPE_RAW, 9, 0},  /* NETLINK_AUDIT */
		{PF_AF_NETLINK, PF_TYPE_RAW, 15, 0}, /* NETLINK_KOBJECT_UEVENT */
		{PF_AF_PACKET, PF_TYPE_RAW, 768, PF_SOCK_PACKET},
		{40, PF_TYPE_STREAM, 0, 0}, /* AF_VSOCK */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u32 kind = pf_decide_sock_kind(cases[i].family, cases[i].type, cases[i].protocol);

		if (kind != cases[i].kind)
			fail_msg("family %u type %u protocol %u: kind %#x, want %#x",
				 cases[i].family, cases[i].type, cases[i].protocol, kind,
				 cases[i].kind);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unspecified_destination_is_this_host),
		cmocka_unit_test(test_need_by_action_and_side),
		cmocka_unit_test(test_every_need_is_one_file_right),
		cmocka_unit_test(test_index_of_each_right),
		cmocka_unit_test(test_rule_per_right),
		cmocka_unit_test(test_worked_example_trees),
		cmocka_unit_test(test_rights_are_independent),
		cmocka_unit_test(test_file_actions_need_their_own_right),
		cmocka_unit_test(test_walk_without_a_tree_denies),
		cmocka_unit_test(test_worked_example_host_entry),
		cmocka_unit_test(test_worked_example_prefix_entry),
		cmocka_unit_test(test_port_rule_needs_its_access),
		cmocka_unit_test(test_port_range_bounds_are_inclusive),
		cmocka_unit_test(test_protocol_mismatch_denies),
		cmocka_unit_test(test_rules_past_count_are_ignored),
		cmocka_unit_test(test_socket_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
