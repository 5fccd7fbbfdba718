// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_decide.c - the decision steps both the BPF programs and `pinfold
 * explain` compile (bpf/decide.h): the worked examples of bpf/pinfold.h's
 * top comment, file access verdicts, port ranges, protocol mismatches, and
 * the same examples through the compiler and explain's longest-prefix lookup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "bpf/decide.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "userspace/explain.h"

static const struct pf_port_rule rule_443_tcp = {
	.port_lo = 443, .port_hi = 443, .proto = PF_PROTO_TCP, .rule_id = 1};
static const struct pf_port_rule rule_53_udp = {
	.port_lo = 53, .port_hi = 53, .proto = PF_PROTO_UDP, .rule_id = 0};

/* pinfold.h: key ::ffff:10.1.2.3/128 -> { 443/tcp rule 1, 53/udp rule 0 } */
static void test_worked_example_host_entry(void **state)
{
	struct pf_net_rules host = {.count = 2, .rules = {rule_443_tcp, rule_53_udp}};
	const struct pf_port_rule *r;

	(void)state;
	/* connect 10.1.2.3:53/udp -> longest match /128, entry 2 allows (rule 0) */
	r = pf_decide_port(&host, 53, PF_PROTO_UDP);
	assert_non_null(r);
	assert_int_equal(r->rule_id, 0);
	assert_int_equal(pf_decide_net_reason(PF_PROTO_UDP, r), PF_REASON_RULE);
	assert_int_equal(pf_decide_decision(PF_REASON_RULE), PF_DECISION_ALLOW);

	r = pf_decide_port(&host, 443, PF_PROTO_TCP);
	assert_non_null(r);
	assert_int_equal(r->rule_id, 1);
}

/* pinfold.h: connect 10.9.9.9:443/tcp -> longest match /104, no entry -> denied */
static void test_worked_example_prefix_entry(void **state)
{
	struct pf_net_rules net = {.count = 1, .rules = {rule_53_udp}};
	const struct pf_port_rule *r;

	(void)state;
	r = pf_decide_port(&net, 443, PF_PROTO_TCP);
	assert_null(r);
	assert_int_equal(pf_decide_net_reason(PF_PROTO_TCP, r), PF_REASON_NO_RULE);
	assert_int_equal(pf_decide_decision(PF_REASON_NO_RULE), PF_DECISION_DENY);
}

static void test_port_range_bounds_are_inclusive(void **state)
{
	struct pf_net_rules net = {
		.count = 1,
		.rules = {{.port_lo = 8000, .port_hi = 8010, .proto = PF_PROTO_TCP, .rule_id = 7}}};

	(void)state;
	assert_null(pf_decide_port(&net, 7999, PF_PROTO_TCP));
	assert_non_null(pf_decide_port(&net, 8000, PF_PROTO_TCP));
	assert_non_null(pf_decide_port(&net, 8005, PF_PROTO_TCP));
	assert_non_null(pf_decide_port(&net, 8010, PF_PROTO_TCP));
	assert_null(pf_decide_port(&net, 8011, PF_PROTO_TCP));
}

static void test_protocol_mismatch_denies(void **state)
{
	struct pf_net_rules net = {.count = 1, .rules = {rule_443_tcp}};
	const struct pf_port_rule *r = pf_decide_port(&net, 443, PF_PROTO_UDP);

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
	assert_null(pf_decide_port(&net, 443, PF_PROTO_TCP));
	full.rules[PF_PORTS_PER_PREFIX - 1] = rule_443_tcp;
	assert_non_null(pf_decide_port(&full, 443, PF_PROTO_TCP));
}

static void test_need_by_action(void **state)
{
	(void)state;
	assert_int_equal(pf_decide_need(PF_ACT_OPEN_READ), PF_ACCESS_READ);
	assert_int_equal(pf_decide_need(PF_ACT_OPEN_WRITE), PF_ACCESS_WRITE);
	assert_int_equal(pf_decide_need(PF_ACT_TRUNCATE), PF_ACCESS_WRITE);
	assert_int_equal(pf_decide_need(PF_ACT_CREATE), PF_ACCESS_WRITE);
	assert_int_equal(pf_decide_need(PF_ACT_UNLINK), PF_ACCESS_WRITE);
	assert_int_equal(pf_decide_need(PF_ACT_RENAME), PF_ACCESS_WRITE);
	assert_int_equal(pf_decide_need(PF_ACT_LINK), PF_ACCESS_WRITE);
}

/* pinfold.h: trees /srv/ehr rw (rule 0) and /srv/ehr/archive r (rule 1) */
static void test_worked_example_trees(void **state)
{
	struct pf_tree ehr = {.rule_id = 0, .access = PF_ACCESS_READ | PF_ACCESS_WRITE};
	struct pf_tree archive = {.rule_id = 1, .access = PF_ACCESS_READ};

	(void)state;
	/* open /srv/ehr/a/chart.txt O_RDWR -> /srv/ehr decides: allowed */
	assert_int_equal(pf_decide_file(&ehr, 0, PF_ACT_OPEN_WRITE), PF_REASON_RULE);
	/* open /srv/ehr/archive/2019.txt O_WRONLY -> archive decides: denied */
	assert_int_equal(pf_decide_file(&archive, 0, PF_ACT_OPEN_WRITE), PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file(&archive, 0, PF_ACT_OPEN_READ), PF_REASON_RULE);
	/* open /etc/passwd O_RDONLY -> no tree: denied */
	assert_int_equal(pf_decide_file(NULL, 1, PF_ACT_OPEN_READ), PF_REASON_NO_RULE);
}

static void test_access_verdicts(void **state)
{
	struct pf_tree audited_read = {.access = PF_ACCESS_READ | PF_RULE_AUDITED};
	struct pf_tree write_only = {.access = PF_ACCESS_WRITE};

	(void)state;
	/* the audit flag grants nothing */
	assert_int_equal(pf_decide_file(&audited_read, 0, PF_ACT_UNLINK), PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file(&audited_read, 0, PF_ACT_OPEN_READ), PF_REASON_RULE);
	assert_int_equal(pf_decide_file(&write_only, 0, PF_ACT_OPEN_READ), PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file(&write_only, 0, PF_ACT_CREATE), PF_REASON_RULE);
	/* a walk that ran out of steps denies, never allows */
	assert_int_equal(pf_decide_file(NULL, 0, PF_ACT_OPEN_READ), PF_REASON_TOO_DEEP);
	assert_int_equal(pf_decide_decision(PF_REASON_TOO_DEEP), PF_DECISION_DENY);
	assert_int_equal(pf_decide_decision(PF_REASON_ACCESS), PF_DECISION_DENY);
	assert_int_equal(pf_decide_decision(PF_REASON_NO_RULE), PF_DECISION_DENY);
}

static const char net_example[] = "version: 1\n"
				  "agents:\n"
				  "  a:\n"
				  "    network:\n"
				  "      - to: 10.0.0.0/8\n"
				  "        port: 53\n"
				  "        proto: udp\n"
				  "      - to: 10.1.2.3\n"
				  "        port: 443\n"
				  "        proto: tcp\n"
				  "      - to: \"fd00::/8\"\n"
				  "        port: 1000-2000\n"
				  "        proto: tcp\n";

/* The decision for addr (IPv4 given as 4 bytes) through compile and explain's lookup. */
static uint32_t judge(const struct compiled *c, uint32_t slot, const uint8_t *a4, const uint8_t *a6,
		      uint16_t port, uint8_t proto)
{
	uint8_t addr[16] = {[10] = 0xff, [11] = 0xff};
	const struct pf_net_rules *rules;
	const struct pf_port_rule *r = NULL;

	if (a4)
		memcpy(addr + 12, a4, 4);
	else
		memcpy(addr, a6, 16);
	rules = explain_net_lookup(c, slot, addr);
	if (rules)
		r = pf_decide_port(rules, port, proto);
	return r ? r->rule_id : PF_RULE_NONE;
}

static void test_worked_example_through_compiler(void **state)
{
	static const uint8_t h123[4] = {10, 1, 2, 3}, h999[4] = {10, 9, 9, 9},
			     other[4] = {11, 0, 0, 1};
	static const uint8_t fd5[16] = {0xfd, [15] = 5}, fe5[16] = {0xfe, [15] = 5};
	struct policy_error err = {};
	struct compiled c = {};
	struct policy p = {};

	(void)state;
	assert_int_equal(policy_load_buffer("t.yaml", net_example, strlen(net_example), &p, &err),
			 0);
	assert_int_equal(compile_agent(&p, &p.agents[0], 3, NULL, NULL, &c, &err), 0);

	assert_int_equal(judge(&c, 3, h123, NULL, 53, PF_PROTO_UDP), POLICY_RULE_NET(0));
	assert_int_equal(judge(&c, 3, h123, NULL, 443, PF_PROTO_TCP), POLICY_RULE_NET(1));
	assert_int_equal(judge(&c, 3, h999, NULL, 443, PF_PROTO_TCP), PF_RULE_NONE);
	assert_int_equal(judge(&c, 3, h999, NULL, 53, PF_PROTO_UDP), POLICY_RULE_NET(0));
	assert_int_equal(judge(&c, 3, h999, NULL, 53, PF_PROTO_TCP), PF_RULE_NONE);
	assert_int_equal(judge(&c, 3, other, NULL, 53, PF_PROTO_UDP), PF_RULE_NONE);
	assert_int_equal(judge(&c, 3, NULL, fd5, 1500, PF_PROTO_TCP), POLICY_RULE_NET(2));
	assert_int_equal(judge(&c, 3, NULL, fd5, 2001, PF_PROTO_TCP), PF_RULE_NONE);
	assert_int_equal(judge(&c, 3, NULL, fe5, 1500, PF_PROTO_TCP), PF_RULE_NONE);
	/* another slot's entries are never found */
	assert_int_equal(judge(&c, 4, h123, NULL, 443, PF_PROTO_TCP), PF_RULE_NONE);

	compiled_release(&c);
	policy_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example_host_entry),
		cmocka_unit_test(test_worked_example_prefix_entry),
		cmocka_unit_test(test_port_range_bounds_are_inclusive),
		cmocka_unit_test(test_protocol_mismatch_denies),
		cmocka_unit_test(test_rules_past_count_are_ignored),
		cmocka_unit_test(test_need_by_action),
		cmocka_unit_test(test_worked_example_trees),
		cmocka_unit_test(test_access_verdicts),
		cmocka_unit_test(test_worked_example_through_compiler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
