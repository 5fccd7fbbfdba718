// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_policy.c - the policy parser: every YAML file in tests/policies/good
 * loads, every one in tests/policies/bad fails at the place and with the
 * message its first line names ("# expect: LINE:COL substring"), and the
 * parsed values and descriptions are what the text says.
 *
 * The data directory is $PF_TEST_DATA, or tests/policies from the repo root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const char *data_dir(void)
{
	const char *d = getenv("PF_TEST_DATA");

	return d && *d ? d : "tests/policies";
}

static int is_yaml(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && !strcmp(e->d_name + n - 5, ".yaml");
}

/* The *.yaml files of data_dir()/sub, sorted; fails the test if none. */
static int list_policies(const char *sub, struct dirent ***names)
{
	char dir[512];
	int n;

	snprintf(dir, sizeof(dir), "%s/%s", data_dir(), sub);
	n = scandir(dir, names, is_yaml, alphasort);
	if (n < 0)
		fail_msg("cannot list %s: %s (run from the repo root or set PF_TEST_DATA)", dir,
			 strerror(errno));
	return n;
}

static void free_names(struct dirent **names, int n)
{
	while (n-- > 0)
		free(names[n]);
	free(names);
}

static int load_text(const char *text, struct policy *p, struct policy_error *err)
{
	return policy_load_buffer("p.yaml", text, strlen(text), p, err);
}

/* Load text that must be valid, failing with the formatted error if not. */
static void load_ok(const char *text, struct policy *p)
{
	struct policy_error err;
	char msg[600];

	if (load_text(text, p, &err)) {
		policy_error_format(&err, msg, sizeof(msg));
		fail_msg("expected a valid policy, got %s", msg);
	}
}

static void test_good_policies_load(void **state)
{
	struct dirent **names;
	struct policy_error err;
	struct policy p;
	char path[768], msg[600];
	int i, n, rc;

	(void)state;
	n = list_policies("good", &names);
	assert_true(n >= 4);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/good/%s", data_dir(), names[i]->d_name);
		rc = policy_load(path, &p, &err);
		if (rc) {
			policy_error_format(&err, msg, sizeof(msg));
			fail_msg("%s should load, got %d: %s", path, rc, msg);
		}
		assert_string_equal(p.file, path);
		assert_true(p.n_agents >= 1);
		policy_release(&p);
	}
	free_names(names, n);
}

/* Check one bad file against its "# expect: LINE:COL text" line; 0 if it matched. */
static int check_bad_policy(const char *path)
{
	unsigned line, column;
	char first[512], want[512], msg[600];
	struct policy_error err;
	struct policy p;
	FILE *f;
	int rc;

	f = fopen(path, "r");
	if (!f || !fgets(first, sizeof(first), f))
		fail_msg("cannot read %s", path);
	fclose(f);
	if (sscanf(first, "# expect: %u:%u %511[^\n]", &line, &column, want) != 3)
		fail_msg("%s: first line is not \"# expect: LINE:COL message\"", path);

	rc = policy_load(path, &p, &err);
	policy_error_format(&err, msg, sizeof(msg));
	if (rc != -EINVAL) {
		print_error("%s: expected -EINVAL, got %d (%s)\n", path, rc, msg);
		return 1;
	}
	if (p.n_agents || p.agents || p.file) {
		print_error("%s: policy not empty after a failed load\n", path);
		return 1;
	}
	if (strcmp(err.file, path) || err.line != line || err.column != column ||
	    !strstr(err.msg, want)) {
		print_error("%s: expected %u:%u \"%s\"\n  got %s\n", path, line, column, want, msg);
		return 1;
	}
	return 0;
}

static void test_bad_policies_fail_where_expected(void **state)
{
	struct dirent **names;
	char path[768];
	int i, n, failed = 0;

	(void)state;
	n = list_policies("bad", &names);
	assert_true(n >= 20);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/bad/%s", data_dir(), names[i]->d_name);
		failed += check_bad_policy(path);
	}
	free_names(names, n);
	assert_int_equal(failed, 0);
}

static void test_healthcare_example_reads_as_written(void **state)
{
	static const uint8_t lo[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	static const char *const names[] = {"scheduling", "billing", "crm"};
	static const char *const trees[] = {"/srv/pinfold-demo/ehr", "/srv/pinfold-demo/billing",
					    "/srv/pinfold-demo/crm"};
	struct policy_error err;
	struct policy p;
	char path[768];
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/good/healthcare.yaml", data_dir());
	assert_int_equal(policy_load(path, &p, &err), 0);
	assert_int_equal(p.n_agents, 3);
	for (i = 0; i < 3; i++) {
		const struct policy_agent *a = policy_find_agent(&p, names[i]);

		assert_non_null(a);
		assert_int_equal(a->n_dests, 1);
		assert_memory_equal(a->dests[0].addr, lo, 16);
		assert_int_equal(a->dests[0].prefix, 128);
		assert_int_equal(a->dests[0].port_lo, 18081 + i);
		assert_int_equal(a->dests[0].port_hi, 18081 + i);
		assert_int_equal(a->dests[0].proto, IPPROTO_TCP);
		assert_int_equal(a->n_trees, 1);
		assert_string_equal(a->trees[0].path, trees[i]);
		assert_int_equal(a->trees[0].access,
				 i == 0 ? POLICY_ACCESS_READ : POLICY_ACCESS_READ_WRITE);
		assert_int_equal(a->dests[0].audited, i == 1);
		assert_int_equal(a->trees[0].audited, i == 1);
	}
	policy_release(&p);
}

static void test_ipv4_is_stored_v4_mapped(void **state)
{
	static const uint8_t want[16] = {[10] = 0xff, [11] = 0xff, [12] = 10};
	struct policy p;

	(void)state;
	load_ok("version: 1\nagents:\n  a:\n    network:\n"
		"      - {to: 10.0.0.0/8, port: 53, proto: udp}\n",
		&p);
	assert_memory_equal(p.agents[0].dests[0].addr, want, 16);
	assert_int_equal(p.agents[0].dests[0].prefix, 96 + 8);
	assert_int_equal(p.agents[0].dests[0].proto, IPPROTO_UDP);
	assert_string_equal(p.agents[0].dests[0].text, "10.0.0.0/8");
	policy_release(&p);
}

static void test_v4_mapped_ipv6_equals_ipv4(void **state)
{
	struct policy p4, p6;

	(void)state;
	load_ok("version: 1\nagents:\n  a:\n    network:\n"
		"      - {to: 192.168.1.0/24, port: 80, proto: tcp}\n",
		&p4);
	load_ok("version: 1\nagents:\n  a:\n    network:\n"
		"      - {to: '::ffff:192.168.1.0/120', port: 80, proto: tcp}\n",
		&p6);
	assert_memory_equal(p4.agents[0].dests[0].addr, p6.agents[0].dests[0].addr, 16);
	assert_int_equal(p4.agents[0].dests[0].prefix, p6.agents[0].dests[0].prefix);
	policy_release(&p4);
	policy_release(&p6);
}

static void test_ipv6_prefix_and_host_address(void **state)
{
	static const uint8_t fd00[16] = {0xfd};
	static const uint8_t one[16] = {[15] = 1};
	struct policy p;

	(void)state;
	load_ok("version: 1\nagents:\n  a:\n    network:\n"
		"      - {to: 'fd00::/8', port: 443, proto: tcp}\n"
		"      - {to: '::1', port: 443, proto: tcp}\n",
		&p);
	assert_memory_equal(p.agents[0].dests[0].addr, fd00, 16);
	assert_int_equal(p.agents[0].dests[0].prefix, 8);
	assert_memory_equal(p.agents[0].dests[1].addr, one, 16);
	assert_int_equal(p.agents[0].dests[1].prefix, 128);
	policy_release(&p);
}

static void test_port_numbers_and_ranges(void **state)
{
	struct policy p;
	const struct policy_dest *d;

	(void)state;
	load_ok("version: 1\nagents:\n  a:\n    network:\n"
		"      - {to: 127.0.0.1, port: 8443, proto: tcp}\n"
		"      - {to: 127.0.0.1, port: 8000-8100, proto: tcp}\n"
		"      - {to: 127.0.0.1, port: \"1-65535\", proto: udp}\n",
		&p);
	d = p.agents[0].dests;
	assert_int_equal(d[0].port_lo, 8443);
	assert_int_equal(d[0].port_hi, 8443);
	assert_int_equal(d[1].port_lo, 8000);
	assert_int_equal(d[1].port_hi, 8100);
	assert_int_equal(d[2].port_lo, 1);
	assert_int_equal(d[2].port_hi, 65535);
	policy_release(&p);
}

static void test_optional_keys_default_to_empty_and_unaudited(void **state)
{
	struct policy p;

	(void)state;
	load_ok("version: 1\nagents:\n  idle: {}\n  a:\n    files:\n"
		"      - {path: /srv/x, access: read}\n",
		&p);
	assert_int_equal(p.n_agents, 2);
	assert_int_equal(p.agents[0].n_trees, 0);
	assert_int_equal(p.agents[0].n_dests, 0);
	assert_int_equal(p.agents[1].n_dests, 0);
	assert_false(p.agents[1].trees[0].audited);
	assert_int_equal(p.agents[1].trees[0].access, POLICY_ACCESS_READ);
	policy_release(&p);
}

static void test_agent_mode_defaults_to_enforce(void **state)
{
	struct policy_error err;
	struct policy p;

	(void)state;
	assert_int_equal(load_text("version: 1\nagents:\n  a: {}\n  b: {mode: audit}\n"
				   "  c: {mode: record}\n  d: {mode: \"enforce\"}\n",
				   &p, &err),
			 0);
	assert_int_equal(p.agents[0].mode, POLICY_MODE_ENFORCE);
	assert_int_equal(p.agents[1].mode, POLICY_MODE_AUDIT);
	assert_int_equal(p.agents[2].mode, POLICY_MODE_RECORD);
	assert_int_equal(p.agents[3].mode, POLICY_MODE_ENFORCE);
	assert_string_equal(policy_mode_name(POLICY_MODE_AUDIT), "audit");
	assert_null(policy_mode_name(3));
	policy_release(&p);
}

static void test_rule_describe_names_place_and_rule(void **state)
{
	const struct policy_agent *a;
	struct policy p;
	char buf[256];
	int n;

	(void)state;
	load_ok("version: 1\n"
		"agents:\n"
		"  a:\n"
		"    files:\n"
		"      - path: /srv/ehr\n"
		"        access: read-write\n"
		"    network:\n"
		"      - to: 127.0.0.1\n"
		"        port: 8443\n"
		"        proto: tcp\n"
		"      - to: ::ffff:10.1.0.0/112\n"
		"        port: 8000-8100\n"
		"        proto: udp\n"
		"      - to: fd00::/8\n"
		"        port: 53\n"
		"        proto: udp\n",
		&p);
	a = policy_find_agent(&p, "a");
	assert_non_null(a);

	n = policy_rule_describe(&p, a, POLICY_RULE_FILE(0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:5:9 files /srv/ehr read-write");
	assert_int_equal(n, strlen(buf));
	policy_rule_describe(&p, a, POLICY_RULE_NET(0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:8:9 network 127.0.0.1/32 port 8443 tcp");
	policy_rule_describe(&p, a, POLICY_RULE_NET(1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:11:9 network 10.1.0.0/16 port 8000-8100 udp");
	policy_rule_describe(&p, a, POLICY_RULE_NET(2), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:14:9 network fd00::/8 port 53 udp");
	policy_release(&p);
}

static void test_hostnames_parse_as_written(void **state)
{
	static const uint8_t zero[16];
	char text[1024], name[256], buf[512];
	const struct policy_agent *a;
	struct policy_error err;
	struct policy p;
	size_t i;

	(void)state;
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes: the longest name allowed */
	memset(name, 0, sizeof(name));
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	snprintf(text, sizeof(text),
		 "version: 1\n"
		 "agents:\n"
		 "  a:\n"
		 "    network:\n"
		 "      - {to: localhost, port: 80, proto: tcp}\n"
		 "      - {to: ehr-1.Example.internal, port: 443, proto: udp, audit: true}\n"
		 "      - {to: %s, port: 1-9, proto: tcp}\n"
		 "      - {to: 3com.example, port: 80, proto: tcp}\n"
		 "      - {to: '::/0', port: 80, proto: tcp}\n",
		 name);
	load_ok(text, &p);
	a = policy_find_agent(&p, "a");
	assert_non_null(a);
	assert_int_equal(a->n_dests, 5);
	assert_string_equal(a->dests[0].host, "localhost");
	assert_string_equal(a->dests[0].text, "localhost");
	assert_string_equal(a->dests[1].host, "ehr-1.Example.internal");
	assert_true(a->dests[1].audited);
	assert_int_equal(a->dests[1].proto, IPPROTO_UDP);
	assert_int_equal(strlen(a->dests[2].host), 253);
	assert_string_equal(a->dests[3].host, "3com.example");
	assert_null(a->dests[4].host);
	for (i = 0; i < 4; i++) {
		assert_memory_equal(a->dests[i].addr, zero, 16);
		assert_int_equal(a->dests[i].prefix, 0);
	}

	policy_rule_describe(&p, a, POLICY_RULE_NET(0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:5:9 network localhost port 80 tcp");
	policy_rule_describe(&p, a, POLICY_RULE_NET(1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:6:9 network ehr-1.Example.internal port 443 udp");
	policy_rule_describe(&p, a, POLICY_RULE_NET(4), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:9:9 network ::/0 port 80 tcp");
	policy_release(&p);

	/* one character more is too long */
	name[253] = 'a';
	snprintf(
		text, sizeof(text),
		"version: 1\nagents:\n  a:\n    network:\n      - {to: %s, port: 80, proto: tcp}\n",
		name);
	assert_int_equal(load_text(text, &p, &err), -EINVAL);
	assert_int_equal(err.line, 5);
	assert_non_null(strstr(err.msg, "longer than 253 bytes"));
}

static void test_rule_describe_rejects_unknown_ids(void **state)
{
	struct policy p;
	char buf[256];

	(void)state;
	load_ok("version: 1\nagents:\n  a:\n    files:\n      - {path: /x, access: read}\n", &p);
	assert_int_equal(
		policy_rule_describe(&p, &p.agents[0], POLICY_RULE_FILE(1), buf, sizeof(buf)),
		-ENOENT);
	assert_int_equal(
		policy_rule_describe(&p, &p.agents[0], POLICY_RULE_NET(0), buf, sizeof(buf)),
		-ENOENT);
	assert_int_equal(policy_rule_describe(&p, &p.agents[0], 0xffffffffu, buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(
		policy_rule_describe(&p, &p.agents[0], POLICY_RULE_NET_BIT << 1, buf, sizeof(buf)),
		-ENOENT);
	policy_release(&p);
}

static void test_error_format_with_and_without_place(void **state)
{
	struct policy_error err = {.file = "p.yaml", .line = 3, .column = 5, .msg = "bad thing"};
	char buf[600];

	(void)state;
	policy_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:3:5: error: bad thing");
	err.line = 0;
	policy_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml: error: bad thing");
}

static void test_find_agent_by_name(void **state)
{
	struct policy p;

	(void)state;
	load_ok("version: 1\nagents: {a: {}, b-2: {}}\n", &p);
	assert_ptr_equal(policy_find_agent(&p, "b-2"), &p.agents[1]);
	assert_ptr_equal(policy_find_agent(&p, "a"), &p.agents[0]);
	assert_null(policy_find_agent(&p, "c"));
	assert_null(policy_find_agent(&p, "b"));
	policy_release(&p);
}

static void test_missing_file_is_an_errno_error(void **state)
{
	struct policy_error err;
	struct policy p;

	(void)state;
	assert_int_equal(policy_load("/nonexistent/pinfold.yaml", &p, &err), -ENOENT);
	assert_string_equal(err.file, "/nonexistent/pinfold.yaml");
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.msg, "cannot open policy"));
	assert_null(p.agents);
}

static void test_failed_load_leaves_policy_empty(void **state)
{
	struct policy_error err;
	struct policy p;

	(void)state;
	/* the error is in the second agent, after the first was built */
	assert_int_equal(load_text("version: 1\nagents:\n"
				   "  a: {files: [{path: /x, access: read}]}\n"
				   "  b: {files: [{path: /y, access: rw}]}\n",
				   &p, &err),
			 -EINVAL);
	assert_int_equal(err.line, 4);
	assert_null(p.agents);
	assert_int_equal(p.n_agents, 0);
	assert_null(p.file);
}

static void test_length_bounds_the_buffer(void **state)
{
	static const char text[] = "version: 1\nagents: {a: {}}\nextra: key\n";
	struct policy_error err;
	struct policy p;

	(void)state;
	assert_int_equal(policy_load_buffer("p.yaml", text, strlen("version: 1\nagents: {a: {}}\n"),
					    &p, &err),
			 0);
	policy_release(&p);
	assert_int_equal(load_text(text, &p, &err), -EINVAL);
}

static void test_rule_count_is_bounded(void **state)
{
	size_t i, size = 64 + (POLICY_MAX_RULES + 1) * 64, o;
	struct policy_error err;
	struct policy p;
	char *text = malloc(size);

	(void)state;
	assert_non_null(text);
	o = (size_t)snprintf(text, size, "version: 1\nagents:\n  a:\n    files:\n");
	for (i = 0; i <= POLICY_MAX_RULES; i++)
		o += (size_t)snprintf(text + o, size - o, "    - {path: /t/%zu, access: read}\n",
				      i);
	assert_int_equal(load_text(text, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too many files rules"));
	free(text);
}

static void test_messages_escape_odd_bytes(void **state)
{
	struct policy_error err;
	struct policy p;

	(void)state;
	assert_int_equal(load_text("version: 1\nagents:\n  a:\n    files:\n"
				   "      - {path: /x, access: \"re\\tad\\\"\"}\n",
				   &p, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "\"re\\x09ad\\\"\""));
}

/* Every prefix of a valid policy, and every one-byte change, loads or fails cleanly. */
static void test_damaged_input_fails_cleanly(void **state)
{
	static const char odd[] = {'\0', '\n', ' ', '-', ':', '{', '[', '&', '*', '!', '"', '\xff'};
	struct dirent **names;
	struct policy_error err;
	struct policy p;
	char path[768], buf[4096];
	size_t len, i, k;
	FILE *f;
	int n, rc;

	(void)state;
	n = list_policies("good", &names);
	assert_true(n > 0);
	snprintf(path, sizeof(path), "%s/good/%s", data_dir(), names[0]->d_name);
	free_names(names, n);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);

	for (i = 0; i <= len; i++) {
		rc = policy_load_buffer("p.yaml", buf, i, &p, &err);
		assert_true(rc == 0 || (rc == -EINVAL && err.line > 0 && err.msg[0]));
		policy_release(&p);
	}
	for (i = 0; i < len; i++) {
		char keep = buf[i];

		for (k = 0; k < sizeof(odd); k++) {
			buf[i] = odd[k];
			rc = policy_load_buffer("p.yaml", buf, len, &p, &err);
			assert_true(rc == 0 || (rc == -EINVAL && err.line > 0 && err.msg[0]));
			policy_release(&p);
		}
		buf[i] = keep;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_policies_load),
		cmocka_unit_test(test_bad_policies_fail_where_expected),
		cmocka_unit_test(test_healthcare_example_reads_as_written),
		cmocka_unit_test(test_ipv4_is_stored_v4_mapped),
		cmocka_unit_test(test_v4_mapped_ipv6_equals_ipv4),
		cmocka_unit_test(test_ipv6_prefix_and_host_address),
		cmocka_unit_test(test_port_numbers_and_ranges),
		cmocka_unit_test(test_optional_keys_default_to_empty_and_unaudited),
		cmocka_unit_test(test_agent_mode_defaults_to_enforce),
		cmocka_unit_test(test_rule_describe_names_place_and_rule),
		cmocka_unit_test(test_hostnames_parse_as_written),
		cmocka_unit_test(test_rule_describe_rejects_unknown_ids),
		cmocka_unit_test(test_error_format_with_and_without_place),
		cmocka_unit_test(test_find_agent_by_name),
		cmocka_unit_test(test_missing_file_is_an_errno_error),
		cmocka_unit_test(test_failed_load_leaves_policy_empty),
		cmocka_unit_test(test_length_bounds_the_buffer),
		cmocka_unit_test(test_rule_count_is_bounded),
		cmocka_unit_test(test_messages_escape_odd_bytes),
		cmocka_unit_test(test_damaged_input_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
