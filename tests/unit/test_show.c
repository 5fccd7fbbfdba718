// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_show.c - `pinfold show`'s formatters: the text names every agent
 * with its mode, its trees sorted by path, its destinations, the place of
 * each rule and a closing line of counts, and says "nothing" for empty
 * lists; the JSON document, parsed back, holds the same content.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/policy.h"
#include "userspace/show.h"

/* Three agents; line and column of each rule are checked below. */
static const char policy_text[] = "version: 1\n"
				  "agents:\n"
				  "  clerk:\n"
				  "    files:\n"
				  "      - path: /srv/zeta\n"
				  "        access: read\n"
				  "      - path: /srv/alpha\n"
				  "        access: read-write\n"
				  "        audit: true\n"
				  "    network:\n"
				  "      - to: 10.0.0.0/8\n"
				  "        port: 53\n"
				  "        proto: udp\n"
				  "      - to: fd00::1\n"
				  "        port: 8000-8100\n"
				  "        proto: tcp\n"
				  "        audit: true\n"
				  "  idle: {}\n"
				  "  learner:\n"
				  "    mode: record\n"
				  "    files:\n"
				  "      - {path: /tmp, access: read}\n";

static void load(struct policy *p)
{
	struct policy_error err;
	char msg[600];

	if (policy_load_buffer("t.yaml", policy_text, strlen(policy_text), p, &err)) {
		policy_error_format(&err, msg, sizeof(msg));
		fail_msg("test policy does not load: %s", msg);
	}
}

/* show_text of p (only one agent when only is set), malloc'ed */
static char *text_of(const struct policy *p, const struct policy_agent *only)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(show_text(f, p, only), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* show_json of p serialised and parsed back, as a tool reading stdout would */
static struct json_object *json_of(const struct policy *p, const struct policy_agent *only)
{
	struct json_object *o = show_json(p, only), *back;

	assert_non_null(o);
	back = json_tokener_parse(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	assert_non_null(back);
	return back;
}

static void assert_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *s;

	for (s = text; (s = strstr(s, line)); s++) {
		if ((s == text || s[-1] == '\n') && s[n] == '\n')
			return;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no member \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static int64_t int_member(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static bool bool_member(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static void test_text_lists_sorted_trees_and_destinations(void **state)
{
	struct policy p = {};
	char *t, *alpha, *zeta;

	(void)state;
	load(&p);
	t = text_of(&p, NULL);

	assert_has_line(t, "agent clerk, mode enforce  at t.yaml:3:3");
	assert_has_line(t, "    read-write  /srv/alpha  audited  at t.yaml:7:9");
	assert_has_line(t, "    read        /srv/zeta  at t.yaml:5:9");
	alpha = strstr(t, "/srv/alpha");
	zeta = strstr(t, "/srv/zeta");
	assert_true(alpha && zeta && alpha < zeta);
	assert_has_line(t, "    udp  10.0.0.0/8 port 53  at t.yaml:11:9");
	assert_has_line(t, "    tcp  fd00::1/128 port 8000-8100  audited  at t.yaml:14:9");
	assert_has_line(t,
			"  clerk: 2 trees (1 read, 1 read-write), 2 destinations (1 tcp, 1 udp), "
			"2 audited; everything else is denied");
	free(t);
	policy_release(&p);
}

static void test_text_says_nothing_for_empty_lists(void **state)
{
	struct policy p = {};
	char *t;

	(void)state;
	load(&p);
	t = text_of(&p, NULL);

	assert_has_line(t, "agent idle, mode enforce  at t.yaml:18:3");
	assert_has_line(t, "  files: nothing, no tree is allowed");
	assert_has_line(t, "  network: nothing, no destination is allowed");
	assert_has_line(t, "  idle: 0 trees (0 read, 0 read-write), 0 destinations (0 tcp, 0 udp), "
			   "0 audited; everything else is denied");
	assert_has_line(t,
			"  learner: 1 tree (1 read, 0 read-write), 0 destinations (0 tcp, 0 udp), "
			"0 audited; everything else would be denied (mode record: every use "
			"recorded, no denial applied)");
	free(t);
	policy_release(&p);
}

static void test_text_of_one_agent_names_only_it(void **state)
{
	struct policy p = {};
	char *t;

	(void)state;
	load(&p);
	t = text_of(&p, policy_find_agent(&p, "idle"));

	assert_non_null(strstr(t, "agent idle,"));
	assert_null(strstr(t, "agent clerk"));
	assert_null(strstr(t, "agent learner"));
	assert_null(strstr(t, "/srv/"));
	free(t);
	policy_release(&p);
}

static void test_text_escapes_control_bytes(void **state)
{
	static const char text[] = "version: 1\nagents:\n  a:\n    files:\n"
				   "      - {path: \"/srv/x\\e[2Jy\\nz\", access: read}\n";
	struct policy_error err;
	struct policy p = {};
	char *t;

	(void)state;
	assert_int_equal(policy_load_buffer("t.yaml", text, strlen(text), &p, &err), 0);
	t = text_of(&p, NULL);

	assert_null(strchr(t, '\x1b'));
	assert_has_line(t, "    read        /srv/x\\x1b[2Jy\\nz  at t.yaml:5:9");
	free(t);
	policy_release(&p);
}

static void test_json_holds_the_same_content(void **state)
{
	struct json_object *doc, *agents, *clerk, *files, *net, *r, *counts;
	struct policy p = {};

	(void)state;
	load(&p);
	doc = json_of(&p, NULL);

	assert_string_equal(str_member(doc, "policy"), "t.yaml");
	assert_string_equal(str_member(doc, "sha256"), p.sha256);
	agents = member(doc, "agents");
	assert_int_equal(json_object_array_length(agents), 3);
	clerk = json_object_array_get_idx(agents, 0);
	assert_string_equal(str_member(clerk, "name"), "clerk");
	assert_string_equal(str_member(clerk, "mode"), "enforce");
	assert_true(bool_member(clerk, "denials_applied"));
	assert_int_equal(int_member(clerk, "line"), 3);

	files = member(clerk, "files");
	assert_int_equal(json_object_array_length(files), 2);
	r = json_object_array_get_idx(files, 0);
	assert_string_equal(str_member(r, "path"), "/srv/alpha");
	assert_string_equal(str_member(r, "access"), "read-write");
	assert_true(bool_member(r, "audited"));
	assert_int_equal(int_member(r, "rule_id"), POLICY_RULE_FILE(1));
	assert_string_equal(str_member(r, "rule"), "t.yaml:7:9 files /srv/alpha read-write");
	assert_int_equal(int_member(r, "line"), 7);
	assert_int_equal(int_member(r, "column"), 9);
	r = json_object_array_get_idx(files, 1);
	assert_string_equal(str_member(r, "path"), "/srv/zeta");
	assert_string_equal(str_member(r, "access"), "read");
	assert_false(bool_member(r, "audited"));
	assert_int_equal(int_member(r, "rule_id"), POLICY_RULE_FILE(0));

	net = member(clerk, "network");
	assert_int_equal(json_object_array_length(net), 2);
	r = json_object_array_get_idx(net, 1);
	assert_string_equal(str_member(r, "to"), "fd00::1");
	assert_string_equal(str_member(r, "net"), "fd00::1/128");
	assert_null(member(r, "host"));
	assert_int_equal(int_member(r, "port_lo"), 8000);
	assert_int_equal(int_member(r, "port_hi"), 8100);
	assert_string_equal(str_member(r, "proto"), "tcp");
	assert_true(bool_member(r, "audited"));
	assert_int_equal(int_member(r, "rule_id"), POLICY_RULE_NET(1));
	assert_string_equal(str_member(r, "rule"),
			    "t.yaml:14:9 network fd00::1/128 port 8000-8100 tcp");

	counts = member(clerk, "counts");
	assert_int_equal(int_member(counts, "trees"), 2);
	assert_int_equal(int_member(counts, "read"), 1);
	assert_int_equal(int_member(counts, "read_write"), 1);
	assert_int_equal(int_member(counts, "destinations"), 2);
	assert_int_equal(int_member(counts, "tcp"), 1);
	assert_int_equal(int_member(counts, "udp"), 1);
	assert_int_equal(int_member(counts, "audited"), 2);
	json_object_put(doc);
	policy_release(&p);
}

static void test_json_of_empty_and_recording_agents(void **state)
{
	struct json_object *doc, *agents, *a;
	struct policy p = {};

	(void)state;
	load(&p);
	doc = json_of(&p, policy_find_agent(&p, "learner"));

	agents = member(doc, "agents");
	assert_int_equal(json_object_array_length(agents), 1);
	a = json_object_array_get_idx(agents, 0);
	assert_string_equal(str_member(a, "name"), "learner");
	assert_string_equal(str_member(a, "mode"), "record");
	assert_false(bool_member(a, "denials_applied"));
	assert_int_equal(json_object_array_length(member(a, "files")), 1);
	assert_true(json_object_is_type(member(a, "network"), json_type_array));
	assert_int_equal(json_object_array_length(member(a, "network")), 0);
	json_object_put(doc);

	doc = json_of(&p, policy_find_agent(&p, "idle"));
	a = json_object_array_get_idx(member(doc, "agents"), 0);
	assert_int_equal(json_object_array_length(member(a, "files")), 0);
	assert_int_equal(int_member(member(a, "counts"), "trees"), 0);
	json_object_put(doc);
	policy_release(&p);
}

static void test_host_names_are_shown_as_written(void **state)
{
	static const char text[] = "version: 1\nagents:\n  a:\n    network:\n"
				   "      - {to: db.example, port: 5432, proto: tcp}\n";
	struct json_object *doc, *r;
	struct policy_error err;
	struct policy p = {};
	char *t;

	(void)state;
	assert_int_equal(policy_load_buffer("t.yaml", text, strlen(text), &p, &err), 0);
	t = text_of(&p, NULL);
	assert_has_line(t,
			"    tcp  db.example port 5432  host name, resolved by run  at t.yaml:5:9");
	free(t);

	doc = json_of(&p, NULL);
	r = json_object_array_get_idx(
		member(json_object_array_get_idx(member(doc, "agents"), 0), "network"), 0);
	assert_string_equal(str_member(r, "host"), "db.example");
	assert_null(member(r, "net"));
	json_object_put(doc);
	policy_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_lists_sorted_trees_and_destinations),
		cmocka_unit_test(test_text_says_nothing_for_empty_lists),
		cmocka_unit_test(test_text_of_one_agent_names_only_it),
		cmocka_unit_test(test_text_escapes_control_bytes),
		cmocka_unit_test(test_json_holds_the_same_content),
		cmocka_unit_test(test_json_of_empty_and_recording_agents),
		cmocka_unit_test(test_host_names_are_shown_as_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
