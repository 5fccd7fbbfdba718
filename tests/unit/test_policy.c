// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_policy.c - the policy parser: every YAML file and every directory
 * (NAME.d) in tests/policies/good loads, every one in tests/policies/bad
 * fails at the place and with the message its "# expect: LINE:COL substring"
 * first line names (in a directory, the one file that has such a line), and
 * the parsed values, warnings and descriptions are what the text says.
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
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/pinfold.h"
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

/* A directory policy: NAME.d */
static int is_policy_dir(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 2 && !strcmp(e->d_name + n - 2, ".d");
}

/* The *.yaml files (or with dirs, the NAME.d directories) of data_dir()/sub, sorted. */
static int list_entries(const char *sub, bool dirs, struct dirent ***names)
{
	char dir[512];
	int n;

	snprintf(dir, sizeof(dir), "%s/%s", data_dir(), sub);
	n = scandir(dir, names, dirs ? is_policy_dir : is_yaml, alphasort);
	if (n < 0)
		fail_msg("cannot list %s: %s (run from the repo root or set PF_TEST_DATA)", dir,
			 strerror(errno));
	return n;
}

static int list_policies(const char *sub, struct dirent ***names)
{
	return list_entries(sub, false, names);
}

static void free_names(struct dirent **names, int n)
{
	while (n-- > 0)
		free(names[n]);
	free(names);
}

/* The policy's own classes, backends and families come after the shipped ones. */
static const char sections_text[] = "version: 1\n"
				    "classes:\n"
				    "  phi.clinical:\n"
				    "    description: Charts and visit notes\n"
				    "    trees: [/srv/ehr/charts, /srv/ehr/notes]\n"
				    "backends:\n"
				    "  ehr-fhir:\n"
				    "    description: EHR FHIR API\n"
				    "    destinations:\n"
				    "      - { to: 127.0.0.1, port: 18081, proto: tcp }\n"
				    "      - { to: ehr.internal, port: 443, proto: tcp }\n"
				    "  web:\n"
				    "    destinations:\n"
				    "      - { to: any, port: 443, proto: tcp }\n"
				    "    except: [private, 203.0.113.0/24]\n"
				    "families:\n"
				    "  clinical-read:\n"
				    "    grants:\n"
				    "      - { class: phi.clinical, actions: [read] }\n"
				    "      - { backend: ehr-fhir, actions: connect, audit: true }\n"
				    "agents:\n"
				    "  scheduling:\n"
				    "    families: [runtime, clinical-read]\n"
				    "    mode: audit\n";

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

/* path must load; returns 1 (and prints why) if it does not. */
static int check_good_policy(const char *path)
{
	struct policy_error err;
	struct policy p;
	char msg[600];
	int rc;

	rc = policy_load(path, &p, &err);
	if (rc) {
		policy_error_format(&err, msg, sizeof(msg));
		print_error("%s should load, got %d: %s\n", path, rc, msg);
		return 1;
	}
	rc = strcmp(p.file, path) != 0 || p.n_agents < 1 || p.n_files < 1;
	if (rc)
		print_error("%s: loaded as %s with %zu agents\n", path, p.file, p.n_agents);
	policy_release(&p);
	return rc;
}

static void test_good_policies_load(void **state)
{
	struct dirent **names;
	char path[768];
	int i, n, failed = 0;
	bool dirs;

	(void)state;
	for (dirs = false;; dirs = true) {
		n = list_entries("good", dirs, &names);
		assert_true(n >= (dirs ? 1 : 4));
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/good/%s", data_dir(), names[i]->d_name);
			failed += check_good_policy(path);
		}
		free_names(names, n);
		if (dirs)
			break;
	}
	assert_int_equal(failed, 0);
}

/* The "# expect: LINE:COL text" first line of file, if it has one. */
static bool read_expect(const char *file, unsigned *line, unsigned *column, char want[512])
{
	char first[512];
	bool ok;
	FILE *f;

	f = fopen(file, "r");
	if (!f)
		fail_msg("cannot read %s", file);
	ok = fgets(first, sizeof(first), f) &&
	     sscanf(first, "# expect: %u:%u %511[^\n]", line, column, want) == 3;
	fclose(f);
	return ok;
}

/*
 * Check one bad policy against its expectation; 0 if it matched. path is
 * a file, or a directory one of whose files holds the expectation (and is
 * where the error must be).
 */
static int check_bad_policy(const char *path, bool dir)
{
	unsigned line = 0, column = 0;
	char want[512], msg[600], where[1100];
	struct dirent **names;
	struct policy_error err;
	struct policy p;
	int rc, i, n, found = 0;

	if (!dir) {
		snprintf(where, sizeof(where), "%s", path);
		found = read_expect(path, &line, &column, want);
	} else {
		n = scandir(path, &names, is_yaml, alphasort);
		assert_true(n > 0);
		for (i = 0; i < n; i++) {
			char file[1100];

			snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
			if (read_expect(file, &line, &column, want)) {
				snprintf(where, sizeof(where), "%s", file);
				found++;
			}
		}
		free_names(names, n);
	}
	if (found != 1)
		fail_msg("%s: expected one first line \"# expect: LINE:COL message\"", path);

	rc = policy_load(path, &p, &err);
	policy_error_format(&err, msg, sizeof(msg));
	if (rc != -EINVAL) {
		print_error("%s: expected -EINVAL, got %d (%s)\n", path, rc, msg);
		return 1;
	}
	if (p.n_agents || p.agents || p.file || p.classes || p.files || p.warnings) {
		print_error("%s: policy not empty after a failed load\n", path);
		return 1;
	}
	if (strcmp(err.file, where) || err.line != line || err.column != column ||
	    !strstr(err.msg, want)) {
		print_error("%s: expected %u:%u \"%s\"\n  got %s\n", where, line, column, want,
			    msg);
		return 1;
	}
	return 0;
}

static void test_bad_policies_fail_where_expected(void **state)
{
	struct dirent **names;
	char path[768];
	int i, n, failed = 0;
	bool dirs;

	(void)state;
	for (dirs = false;; dirs = true) {
		n = list_entries("bad", dirs, &names);
		assert_true(n >= (dirs ? 3 : 20));
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/bad/%s", data_dir(), names[i]->d_name);
			failed += check_bad_policy(path, dirs);
		}
		free_names(names, n);
		if (dirs)
			break;
	}
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

static void test_agent_sockets_default_and_as_written(void **state)
{
	struct policy_error err;
	struct policy p;
	char buf[128];

	(void)state;
	assert_int_equal(load_text("version: 1\nagents:\n  a: {}\n  b: {sockets: []}\n"
				   "  c: {sockets: [raw, packet, ping]}\n"
				   "  d: {sockets: [tcp, udp, unix, netlink-route]}\n",
				   &p, &err),
			 0);
	/* absent: what ordinary programs need; [] allows nothing */
	assert_int_equal(p.agents[0].sockets, PF_SOCK_DEFAULT);
	assert_int_equal(p.agents[1].sockets, 0);
	assert_int_equal(p.agents[2].sockets, PF_SOCK_RAW | PF_SOCK_PACKET | PF_SOCK_PING);
	assert_int_equal(p.agents[3].sockets, PF_SOCK_DEFAULT);
	assert_string_equal(policy_sockets_format(p.agents[0].sockets, buf, sizeof(buf)),
			    "tcp, udp, unix, netlink-route");
	assert_string_equal(policy_sockets_format(p.agents[2].sockets, buf, sizeof(buf)),
			    "ping, raw, packet");
	assert_string_equal(policy_sockets_format(0, buf, sizeof(buf)), "");
	policy_release(&p);
}

static void test_id_describe_own_rules(void **state)
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
		"      - {path: /srv/bin, access: [read, exec]}\n"
		"    network:\n"
		"      - to: 127.0.0.1\n"
		"        port: 8443\n"
		"        proto: tcp\n"
		"      - to: ::ffff:10.1.0.0/112\n"
		"        port: 8000-8100\n"
		"        proto: udp\n"
		"      - to: fd00::/8\n"
		"        port: 53\n"
		"        proto: udp\n"
		"        actions: send\n",
		&p);
	a = policy_find_agent(&p, "a");
	assert_non_null(a);

	n = policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_TREE, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:5:9 agent a files /srv/ehr read-write");
	assert_int_equal(n, strlen(buf));
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_TREE, 0, 1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:7:9 agent a files /srv/bin read, exec");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:9:9 agent a network 127.0.0.1/32 port 8443 tcp");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, 1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:12:9 agent a network 10.1.0.0/16 port 8000-8100 udp");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, 2), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:15:9 agent a network fd00::/8 port 53 udp send");
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

	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:5:9 agent a network localhost port 80 tcp");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, 1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:6:9 agent a network ehr-1.Example.internal port 443 udp");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, 4), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:9:9 agent a network ::/0 port 80 tcp");
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

static void test_id_describe_rejects_unknown_ids(void **state)
{
	struct policy p;
	char buf[256];
	const struct policy_agent *a;

	(void)state;
	load_ok("version: 1\nagents:\n  a:\n    files:\n      - {path: /x, access: read}\n", &p);
	a = &p.agents[0];
	assert_int_equal(
		policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_TREE, 0, 1), buf, sizeof(buf)),
		-ENOENT);
	assert_int_equal(
		policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_TREE, 1, 0), buf, sizeof(buf)),
		-ENOENT);
	assert_int_equal(
		policy_id_describe(&p, NULL, POLICY_ID(POLICY_ID_OWN_TREE, 0, 0), buf, sizeof(buf)),
		-ENOENT);
	assert_int_equal(
		policy_id_describe(&p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, 0), buf, sizeof(buf)),
		-ENOENT);
	assert_int_equal(policy_id_describe(&p, a, POLICY_ID(POLICY_ID_BACKEND_DEST, 0, 0), buf,
					    sizeof(buf)),
			 -ENOENT);
	assert_int_equal(policy_id_describe(&p, a, POLICY_ID(POLICY_ID_CLASS_TREE, p.n_classes, 0),
					    buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(policy_id_describe(&p, a, POLICY_ID(POLICY_ID_GRANT, p.n_families, 0), buf,
					    sizeof(buf)),
			 -ENOENT);
	assert_int_equal(policy_id_describe(&p, a, 0, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(policy_id_describe(&p, a, 0xffffffffu, buf, sizeof(buf)), -ENOENT);
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
	assert_non_null(strstr(err.msg, "too many rules for files"));
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

/* Every prefix of text, and every one-byte change, loads or fails cleanly. */
static void damage(char *buf, size_t len)
{
	static const char odd[] = {'\0', '\n', ' ', '-', ':', '{', '[', '&', '*', '!', '"', '\xff'};
	struct policy_error err;
	struct policy p;
	size_t i, k;
	int rc;

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

static void test_damaged_input_fails_cleanly(void **state)
{
	struct dirent **names;
	char path[768], buf[4096];
	size_t len;
	FILE *f;
	int n;

	(void)state;
	n = list_policies("good", &names);
	assert_true(n > 0);
	snprintf(path, sizeof(path), "%s/good/%s", data_dir(), names[0]->d_name);
	free_names(names, n);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	damage(buf, len);

	/* the same for classes, backends, families and references between them */
	len = strlen(sections_text);
	memcpy(buf, sections_text, len);
	damage(buf, len);
}

/* Index of the class, backend or family called name, failing if there is none. */
static size_t class_index(const struct policy *p, const char *name)
{
	const struct policy_class *c = policy_find_class(p, name);

	if (!c)
		fail_msg("no class %s", name);
	return (size_t)(c - p->classes);
}

static size_t family_index(const struct policy *p, const char *name)
{
	const struct policy_family *f = policy_find_family(p, name);

	if (!f)
		fail_msg("no family %s", name);
	return (size_t)(f - p->families);
}

static void test_sections_read_as_written(void **state)
{
	static const uint8_t lo[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	static const uint8_t zero[16];
	static const uint8_t ten[16] = {[10] = 0xff, [11] = 0xff, [12] = 10};
	static const uint8_t fc00[16] = {0xfc};
	const struct policy_class *c;
	const struct policy_backend *b;
	const struct policy_family *f;
	const struct policy_agent *a;
	struct policy p;

	(void)state;
	load_ok(sections_text, &p);
	assert_int_equal(p.n_files, 1);
	assert_string_equal(p.files[0], "p.yaml");

	c = policy_find_class(&p, "phi.clinical");
	assert_ptr_equal(c, &p.classes[p.n_classes - 1]);
	assert_false(c->shipped);
	assert_string_equal(c->description, "Charts and visit notes");
	assert_int_equal(c->n_trees, 2);
	assert_string_equal(c->trees[1].path, "/srv/ehr/notes");
	assert_int_equal(c->trees[1].at.line, 5);
	assert_int_equal(c->trees[1].at.column, 30);
	assert_ptr_equal(c->trees[1].at.file, p.files[0]);
	assert_int_equal(c->at.line, 3);
	assert_int_equal(c->at.column, 3);

	assert_int_equal(p.n_backends, 2);
	b = policy_find_backend(&p, "ehr-fhir");
	assert_ptr_equal(b, &p.backends[0]);
	assert_int_equal(b->n_dests, 2);
	assert_memory_equal(b->dests[0].addr, lo, 16);
	assert_int_equal(b->dests[0].prefix, 128);
	assert_int_equal(b->dests[0].access, 0);
	assert_string_equal(b->dests[1].host, "ehr.internal");
	assert_int_equal(b->n_excepts, 0);

	b = policy_find_backend(&p, "web");
	assert_string_equal(b->dests[0].text, "any");
	assert_null(b->dests[0].host);
	assert_memory_equal(b->dests[0].addr, zero, 16);
	assert_int_equal(b->dests[0].prefix, 0);
	/* private is five ranges, each naming the item it came from */
	assert_int_equal(b->n_excepts, 6);
	assert_string_equal(b->excepts[0].text, "private");
	assert_memory_equal(b->excepts[0].addr, ten, 16);
	assert_int_equal(b->excepts[0].prefix, 96 + 8);
	assert_memory_equal(b->excepts[4].addr, fc00, 16);
	assert_int_equal(b->excepts[4].prefix, 7);
	assert_int_equal(b->excepts[4].at.line, 15);
	assert_int_equal(b->excepts[4].at.column, 14);
	assert_string_equal(b->excepts[5].text, "203.0.113.0/24");
	assert_int_equal(b->excepts[5].prefix, 96 + 24);

	f = policy_find_family(&p, "clinical-read");
	assert_ptr_equal(f, &p.families[p.n_families - 1]);
	assert_int_equal(f->n_grants, 2);
	assert_int_equal(f->grants[0].on, POLICY_ON_CLASS);
	assert_int_equal(f->grants[0].target, class_index(&p, "phi.clinical"));
	assert_int_equal(f->grants[0].actions, POLICY_READ);
	assert_false(f->grants[0].audited);
	assert_int_equal(f->grants[1].on, POLICY_ON_BACKEND);
	assert_int_equal(f->grants[1].target, 0);
	assert_int_equal(f->grants[1].actions, POLICY_CONNECT);
	assert_true(f->grants[1].audited);

	a = policy_find_agent(&p, "scheduling");
	assert_int_equal(a->mode, POLICY_MODE_AUDIT);
	assert_int_equal(a->n_families, 2);
	assert_int_equal(a->families[0].family, family_index(&p, "runtime"));
	assert_int_equal(a->families[1].family, family_index(&p, "clinical-read"));
	assert_int_equal(a->families[1].at.line, 23);
	assert_int_equal(a->families[1].at.column, 25);
	assert_int_equal(p.n_warnings, 0);
	policy_release(&p);
}

static void test_shipped_classes_and_families(void **state)
{
	static const char *const names[] = {
		"runtime.libraries", "runtime.loader",   "runtime.certificates", "runtime.locale",
		"runtime.devices",   "runtime.programs", "runtime.tmp"};
	static const char *const libs[] = {"/usr/lib", "/usr/lib64", "/lib", "/lib64",
					   "/usr/local/lib"};
	const struct policy_family *f;
	const struct policy_class *c;
	struct policy p;
	size_t i;

	(void)state;
	load_ok("version: 1\nagents: {a: {}}\n", &p);
	assert_int_equal(p.n_classes, 7);
	for (i = 0; i < 7; i++) {
		assert_string_equal(p.classes[i].name, names[i]);
		assert_true(p.classes[i].shipped);
		assert_int_equal(p.classes[i].at.line, 0);
		assert_non_null(p.classes[i].description);
	}
	c = &p.classes[0];
	assert_int_equal(c->n_trees, 5);
	for (i = 0; i < 5; i++) {
		assert_string_equal(c->trees[i].path, libs[i]);
		assert_true(c->trees[i].optional);
		assert_int_equal(c->trees[i].access, 0);
	}
	assert_string_equal(p.classes[1].trees[0].path, "/etc/ld.so.cache");
	assert_int_equal(p.classes[2].n_trees, 3);
	assert_int_equal(p.classes[3].n_trees, 4);
	assert_string_equal(p.classes[3].trees[3].path, "/usr/lib/locale");
	assert_int_equal(p.classes[4].n_trees, 5);
	assert_string_equal(p.classes[4].trees[4].path, "/dev/urandom");
	assert_int_equal(p.classes[5].n_trees, 4);
	assert_string_equal(p.classes[5].trees[3].path, "/sbin");
	assert_int_equal(p.classes[6].n_trees, 0);
	assert_true(p.classes[6].private_tmp);
	for (i = 0; i < 6; i++)
		assert_false(p.classes[i].private_tmp);

	assert_int_equal(p.n_families, 2);
	f = &p.families[0];
	assert_string_equal(f->name, "runtime");
	assert_true(f->shipped);
	assert_int_equal(f->n_grants, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(f->grants[i].on, POLICY_ON_CLASS);
		assert_int_equal(f->grants[i].target, i == 5 ? 6 : i);
		assert_false(f->grants[i].audited);
	}
	assert_int_equal(f->grants[0].actions, POLICY_READ | POLICY_EXEC);
	assert_int_equal(f->grants[1].actions, POLICY_READ);
	assert_int_equal(f->grants[2].actions, POLICY_READ);
	assert_int_equal(f->grants[3].actions, POLICY_READ);
	assert_int_equal(f->grants[4].actions, POLICY_READ | POLICY_WRITE);
	assert_int_equal(f->grants[5].actions, POLICY_ACCESS_READ_WRITE);
	f = &p.families[1];
	assert_string_equal(f->name, "runtime-programs");
	assert_int_equal(f->n_grants, 1);
	assert_int_equal(f->grants[0].target, 5);
	assert_int_equal(f->grants[0].actions, POLICY_READ | POLICY_EXEC);
	policy_release(&p);
}

static void test_action_forms(void **state)
{
	const struct policy_family *f;
	const struct policy_agent *a;
	struct policy p;

	(void)state;
	load_ok("version: 1\n"
		"classes:\n"
		"  x: {trees: [/x]}\n"
		"  y: {trees: [/y]}\n"
		"  z: {trees: [/z]}\n"
		"backends:\n"
		"  b: {destinations: [{to: 10.0.0.0/8, port: 1, proto: udp}]}\n"
		"families:\n"
		"  f:\n"
		"    grants:\n"
		"      - {class: x, actions: exec}\n"
		"      - {class: y, actions: read-write}\n"
		"      - {class: z, actions: [delete, create]}\n"
		"      - {backend: b, actions: [send, connect]}\n"
		"agents:\n"
		"  a:\n"
		"    families: [f]\n"
		"    files:\n"
		"      - {path: /o, access: [exec]}\n"
		"    network:\n"
		"      - {to: 127.0.0.1, port: 1, proto: tcp}\n"
		"      - {to: 127.0.0.1, port: 2, proto: tcp, actions: connect}\n"
		"      - {to: 127.0.0.1, port: 3, proto: udp, actions: [send]}\n",
		&p);
	f = policy_find_family(&p, "f");
	assert_int_equal(f->grants[0].actions, POLICY_EXEC);
	assert_int_equal(f->grants[1].actions, POLICY_ACCESS_READ_WRITE);
	assert_int_equal(f->grants[2].actions, POLICY_CREATE | POLICY_DELETE);
	assert_int_equal(f->grants[3].actions, POLICY_NET_ACTIONS);
	a = policy_find_agent(&p, "a");
	assert_int_equal(a->trees[0].access, POLICY_EXEC);
	assert_int_equal(a->dests[0].access, POLICY_CONNECT | POLICY_SEND);
	assert_int_equal(a->dests[1].access, POLICY_CONNECT);
	assert_int_equal(a->dests[2].access, POLICY_SEND);
	policy_release(&p);
}

static void test_action_names_and_sets(void **state)
{
	static const char *const names[] = {"read", "write",   "create", "delete",
					    "exec", "connect", "send"};
	char buf[128];
	unsigned i;

	(void)state;
	for (i = 0; i < 7; i++)
		assert_string_equal(policy_action_name(1u << i), names[i]);
	assert_null(policy_action_name(0));
	assert_null(policy_action_name(POLICY_READ | POLICY_WRITE));
	assert_null(policy_action_name(1u << 7));
	assert_string_equal(policy_actions_format(POLICY_ACCESS_READ_WRITE, buf, sizeof(buf)),
			    "read, write, create, delete");
	assert_string_equal(policy_actions_format(POLICY_EXEC | POLICY_SEND, buf, sizeof(buf)),
			    "exec, send");
	assert_string_equal(policy_actions_format(0, buf, sizeof(buf)), "none");
	policy_actions_format(POLICY_FILE_ACTIONS, buf, 8);
	assert_string_equal(buf, "read, w");
}

static void test_id_describe_objects_and_grants(void **state)
{
	const struct policy_agent *a;
	struct policy p;
	size_t cl, fam;
	char buf[256];

	(void)state;
	load_ok(sections_text, &p);
	a = policy_find_agent(&p, "scheduling");
	cl = class_index(&p, "phi.clinical");
	fam = family_index(&p, "clinical-read");

	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_CLASS_TREE, cl, 1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:5:30 class phi.clinical tree /srv/ehr/notes");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_CLASS_TREE, 0, 2), buf, sizeof(buf));
	assert_string_equal(buf, "(shipped) class runtime.libraries tree /lib");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_BACKEND_DEST, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:10:9 backend ehr-fhir 127.0.0.1/32 port 18081 tcp");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_BACKEND_DEST, 0, 1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:11:9 backend ehr-fhir ehr.internal port 443 tcp");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_BACKEND_DEST, 1, 0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:14:9 backend web ::/0 port 443 tcp");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_GRANT, fam, 0), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:19:9 family clinical-read grants read on phi.clinical");
	policy_id_describe(&p, a, POLICY_ID(POLICY_ID_GRANT, fam, 1), buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:20:9 family clinical-read grants connect on ehr-fhir");
	/* ids of shared objects need no agent */
	policy_id_describe(&p, NULL, POLICY_ID(POLICY_ID_GRANT, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "(shipped) family runtime grants read, exec on runtime.libraries");
	assert_int_equal(
		policy_id_describe(&p, a, POLICY_ID(POLICY_ID_GRANT, fam, 2), buf, sizeof(buf)),
		-ENOENT);
	policy_release(&p);
}

static void test_place_and_warning_format(void **state)
{
	struct policy_place at = {.file = "d/a.yaml", .line = 3, .column = 5};
	struct policy_warning w = {.at = at, .msg = "odd"};
	char buf[300];

	(void)state;
	assert_string_equal(policy_place_format(&at, buf, sizeof(buf)), "d/a.yaml:3:5");
	at.line = 0;
	at.file = NULL;
	assert_string_equal(policy_place_format(&at, buf, sizeof(buf)), "(shipped)");
	policy_warning_format(&w, buf, sizeof(buf));
	assert_string_equal(buf, "d/a.yaml:3:5: warning: odd");
}

/* Load text, which must be valid and give exactly one warning, and return it formatted. */
static void one_warning(const char *text, char *buf, size_t len)
{
	struct policy p;
	size_t i;

	load_ok(text, &p);
	for (i = 0; i < p.n_warnings && p.n_warnings != 1; i++) {
		policy_warning_format(&p.warnings[i], buf, len);
		print_error("%s\n", buf);
	}
	assert_int_equal(p.n_warnings, 1);
	policy_warning_format(&p.warnings[0], buf, len);
	policy_release(&p);
}

static void test_warning_agent_without_families(void **state)
{
	char buf[300];

	(void)state;
	one_warning("version: 1\nagents:\n  a: {families: [runtime]}\n  b:\n"
		    "    files: [{path: /srv/b, access: read}]\n",
		    buf, sizeof(buf));
	assert_string_equal(
		buf, "p.yaml:4:3: warning: agent b names no families: it has only its own rules");
	one_warning("version: 1\nagents:\n  b: {families: []}\n", buf, sizeof(buf));
	assert_string_equal(
		buf, "p.yaml:3:3: warning: agent b names no families: it has only its own rules");
}

static void test_warning_family_nobody_uses(void **state)
{
	char buf[300];

	(void)state;
	one_warning("version: 1\n"
		    "classes: {x: {trees: [/x]}}\n"
		    "families:\n"
		    "  used: {grants: [{class: x, actions: read}]}\n"
		    "  spare: {grants: [{class: x, actions: read-write}]}\n"
		    "agents:\n"
		    "  a: {families: [used]}\n",
		    buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:5:3: warning: family spare is not used by any agent");
}

static void test_warning_class_tree_inside_its_own_tree(void **state)
{
	char buf[300];

	(void)state;
	one_warning("version: 1\n"
		    "classes:\n"
		    "  x: {trees: [/srv/x/sub/, /srv/y, /srv/x]}\n"
		    "  y: {trees: [/srv/y/inner]}\n"
		    "families:\n"
		    "  f: {grants: [{class: x, actions: read}, {class: y, actions: read}]}\n"
		    "agents:\n"
		    "  a: {families: [f]}\n",
		    buf, sizeof(buf));
	assert_string_equal(
		buf,
		"p.yaml:3:15: warning: tree \"/srv/x/sub/\" of class x is inside its tree \"/srv/x\" (3:36): redundant");
}

static void test_warning_same_grant_through_two_families(void **state)
{
	char buf[300];

	(void)state;
	one_warning("version: 1\n"
		    "classes: {x: {trees: [/x]}}\n"
		    "families:\n"
		    "  reader: {grants: [{class: x, actions: [read, exec]}]}\n"
		    "  writer: {grants: [{class: x, actions: read-write}]}\n"
		    "agents:\n"
		    "  a:\n"
		    "    families: [reader, writer]\n",
		    buf, sizeof(buf));
	assert_string_equal(
		buf,
		"p.yaml:8:24: warning: agent a is granted read on class x twice: by family writer and by family reader (8:16)");
	/* runtime grants read on runtime.loader, and so does this family */
	one_warning("version: 1\n"
		    "families:\n"
		    "  cache: {grants: [{class: runtime.loader, actions: read}]}\n"
		    "agents:\n"
		    "  a: {families: [runtime, cache]}\n",
		    buf, sizeof(buf));
	assert_string_equal(
		buf,
		"p.yaml:5:27: warning: agent a is granted read on class runtime.loader twice: by family cache and by family runtime (5:18)");
}

/* Without a family granting on them, shipped trees are no one's: own rules may name them. */
static void test_own_rules_on_unused_shipped_trees(void **state)
{
	struct policy p;

	(void)state;
	load_ok("version: 1\nagents:\n  a:\n    files:\n"
		"      - {path: /usr/lib, access: [read, exec]}\n"
		"      - {path: /etc/ssl/certs, access: read}\n",
		&p);
	policy_release(&p);
}

/* A hostname destination may resolve anywhere: its backend's exceptions may apply. */
static void test_except_with_hostname_destination(void **state)
{
	struct policy p;

	(void)state;
	load_ok("version: 1\n"
		"backends:\n"
		"  api:\n"
		"    destinations: [{to: api.example.com, port: 443, proto: tcp}]\n"
		"    except: [private, loopback]\n"
		"agents: {a: {}}\n",
		&p);
	assert_int_equal(p.backends[0].n_excepts, 7);
	policy_release(&p);
}

static void test_single_file_digest(void **state)
{
	struct policy p;

	(void)state;
	/* sha256("p.yaml" NUL, size as 8 bytes big-endian, bytes), from Python's hashlib */
	load_ok("version: 1\nagents: {a: {}}\n", &p);
	assert_string_equal(p.sha256,
			    "0e4c420d52305ecf84bb648eaf664c69bd2626f8916bf909745a552c0863523f");
	policy_release(&p);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A scratch directory under $TMPDIR, removed with rm_dir. */
static void make_dir(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/pf-policy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static void rm_dir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_directory_policy_merges_files_in_name_order(void **state)
{
	char dir[256], path[512], buf[300];
	struct policy_error err;
	struct policy p;
	int rc;

	(void)state;
	make_dir(dir, sizeof(dir));
	/* b.yaml defines the class a.yaml's family grants on: order does not matter */
	write_file(dir, "b.yaml", "version: 1\nclasses: {x: {trees: [/x]}}\n");
	write_file(dir, "a.yaml", "version: 1\nagents: {a: {}}\n");
	write_file(dir, "A.yaml",
		   "version: 1\nfamilies: {f: {grants: [{class: x, actions: read}]}}\n");
	/* none of these is read: hidden, not *.yaml, a directory */
	write_file(dir, ".hidden.yaml", "not: [a policy\n");
	write_file(dir, "notes.txt", "not a policy\n");
	snprintf(path, sizeof(path), "%s/sub.yaml", dir);
	assert_int_equal(mkdir(path, 0700), 0);

	rc = policy_load(dir, &p, &err);
	policy_error_format(&err, buf, sizeof(buf));
	assert_int_equal(rc, 0);
	assert_string_equal(p.file, dir);
	assert_int_equal(p.n_files, 3);
	snprintf(path, sizeof(path), "%s/A.yaml", dir);
	assert_string_equal(p.files[0], path);
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	assert_string_equal(p.files[1], path);
	assert_ptr_equal(p.agents[0].at.file, p.files[1]);
	assert_ptr_equal(p.families[2].at.file, p.files[0]);
	assert_ptr_equal(p.classes[7].at.file, p.files[2]);
	assert_int_equal(p.families[2].grants[0].target, 7);
	policy_release(&p);

	/* across all files at least one agent */
	assert_int_equal(unlink(path), 0);
	rc = policy_load(dir, &p, &err);
	policy_error_format(&err, buf, sizeof(buf));
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.file, dir);
	assert_string_equal(buf + strlen(dir),
			    ": error: no agents: a policy needs at least one agent under agents");
	rm_dir(dir);
}

static void test_directory_digest_names_files(void **state)
{
	char dir[256];
	struct policy_error err;
	struct policy p;

	(void)state;
	make_dir(dir, sizeof(dir));
	write_file(dir, "a.yaml", "version: 1\nagents: {a: {}}\n");
	write_file(dir, "b.yaml", "version: 1\nclasses: {x: {trees: [/x]}}\n");
	assert_int_equal(policy_load(dir, &p, &err), 0);
	/* sha256 over "a.yaml" NUL size bytes, "b.yaml" NUL size bytes, from Python */
	assert_string_equal(p.sha256,
			    "9b982d6eb97c783ec682e483eec5f7c54df61fb57a3dd5af7511025c87443fcb");
	policy_release(&p);
	rm_dir(dir);
}

static void test_directory_errors_name_their_file(void **state)
{
	char dir[256], path[512];
	struct policy_error err;
	struct policy p;

	(void)state;
	make_dir(dir, sizeof(dir));
	assert_int_equal(policy_load(dir, &p, &err), -EINVAL);
	assert_string_equal(err.file, dir);
	assert_non_null(strstr(err.msg, "no policy files in directory"));
	assert_null(p.file);

	write_file(dir, "1.yaml", "version: 1\nagents: {a: {}}\n");
	write_file(dir, "2.yaml", "version: 1\nagents:\n  a: {}\n");
	assert_int_equal(policy_load(dir, &p, &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/2.yaml", dir);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 3);
	assert_string_equal(err.msg, "duplicate agent \"a\", first at 1.yaml:2:10");
	assert_null(p.files);
	rm_dir(dir);
}

/* A policy path that must be refused at once, naming file: load runs under an alarm. */
static void assert_not_regular(const char *path, const char *file, const char *kind)
{
	struct policy_error err;
	struct policy p;
	int rc;

	/* a blocking open would hang here: the alarm ends the test instead */
	alarm(10);
	rc = policy_load(path, &p, &err);
	alarm(0);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err.file, file);
	assert_int_equal(err.line, 0);
	if (!strstr(err.msg, "not a regular file") || !strstr(err.msg, kind))
		fail_msg("%s: expected \"not a regular file\" and \"%s\", got \"%s\"", path, kind,
			 err.msg);
	assert_null(p.files);
	assert_null(p.agents);
}

static void test_fifo_policy_is_refused_without_blocking(void **state)
{
	char dir[256], path[512], sub[512], file[600];

	(void)state;
	make_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_not_regular(path, path, "a FIFO");

	/* a symbolic link is followed, and what it leads to is judged */
	snprintf(file, sizeof(file), "%s/link.yaml", dir);
	assert_int_equal(symlink("p.yaml", file), 0);
	assert_not_regular(file, file, "a FIFO");

	/* in a directory: the FIFO is not skipped, it stops the load */
	snprintf(sub, sizeof(sub), "%s/pol.d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(sub, "a.yaml", "version: 1\nagents: {a: {}}\n");
	snprintf(file, sizeof(file), "%s/b.yaml", sub);
	assert_int_equal(mkfifo(file, 0600), 0);
	assert_not_regular(sub, file, "a FIFO");

	/* a device named *.yaml is refused too, not opened for reading */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(symlink("/dev/null", file), 0);
	assert_not_regular(sub, file, "a character device");
	rm_dir(dir);
}

static void test_symlinked_policy_files_are_read(void **state)
{
	char dir[256], path[512], link[512];
	struct policy_error err;
	struct policy p;

	(void)state;
	make_dir(dir, sizeof(dir));
	write_file(dir, "real.txt", "version: 1\nagents: {a: {}}\n");
	snprintf(link, sizeof(link), "%s/p.yaml", dir);
	assert_int_equal(symlink("real.txt", link), 0);
	assert_int_equal(policy_load(link, &p, &err), 0);
	assert_int_equal(p.n_agents, 1);
	policy_release(&p);

	/* a directory of links, as configuration tools write them */
	snprintf(path, sizeof(path), "%s/pol.d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(link, sizeof(link), "%s/pol.d/x.yaml", dir);
	assert_int_equal(symlink("../real.txt", link), 0);
	assert_int_equal(policy_load(path, &p, &err), 0);
	assert_int_equal(p.n_files, 1);
	assert_string_equal(p.files[0], link);
	policy_release(&p);
	rm_dir(dir);
}

static void test_policy_file_size_is_capped(void **state)
{
	char dir[256], path[512];
	struct policy_error err;
	struct policy p;
	FILE *f;

	(void)state;
	make_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("version: 1\nagents: {a: {}}\n", f);
	/* a sparse file larger than the cap: only the cap is read */
	assert_int_equal(fseek(f, 8 << 20, SEEK_SET), 0);
	fputc('\n', f);
	fclose(f);
	assert_int_equal(policy_load(path, &p, &err), -EFBIG);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, "policy too large"));
	rm_dir(dir);
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
		cmocka_unit_test(test_agent_sockets_default_and_as_written),
		cmocka_unit_test(test_id_describe_own_rules),
		cmocka_unit_test(test_hostnames_parse_as_written),
		cmocka_unit_test(test_id_describe_rejects_unknown_ids),
		cmocka_unit_test(test_error_format_with_and_without_place),
		cmocka_unit_test(test_find_agent_by_name),
		cmocka_unit_test(test_missing_file_is_an_errno_error),
		cmocka_unit_test(test_failed_load_leaves_policy_empty),
		cmocka_unit_test(test_length_bounds_the_buffer),
		cmocka_unit_test(test_rule_count_is_bounded),
		cmocka_unit_test(test_messages_escape_odd_bytes),
		cmocka_unit_test(test_damaged_input_fails_cleanly),
		cmocka_unit_test(test_sections_read_as_written),
		cmocka_unit_test(test_shipped_classes_and_families),
		cmocka_unit_test(test_action_forms),
		cmocka_unit_test(test_action_names_and_sets),
		cmocka_unit_test(test_id_describe_objects_and_grants),
		cmocka_unit_test(test_place_and_warning_format),
		cmocka_unit_test(test_warning_agent_without_families),
		cmocka_unit_test(test_warning_family_nobody_uses),
		cmocka_unit_test(test_warning_class_tree_inside_its_own_tree),
		cmocka_unit_test(test_warning_same_grant_through_two_families),
		cmocka_unit_test(test_own_rules_on_unused_shipped_trees),
		cmocka_unit_test(test_except_with_hostname_destination),
		cmocka_unit_test(test_single_file_digest),
		cmocka_unit_test(test_directory_policy_merges_files_in_name_order),
		cmocka_unit_test(test_directory_digest_names_files),
		cmocka_unit_test(test_directory_errors_name_their_file),
		cmocka_unit_test(test_fifo_policy_is_refused_without_blocking),
		cmocka_unit_test(test_symlinked_policy_files_are_read),
		cmocka_unit_test(test_policy_file_size_is_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
