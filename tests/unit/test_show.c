// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_show.c - `pinfold show`'s formatters: the table of who may do what,
 * each agent's grants with the family that gives them and their place, own
 * rules, what an agent holds nothing on, classes with their trees, backends
 * with destinations (hostnames with what they resolve to), exceptions, and
 * families with their users; shipped classes and families only where used;
 * the JSON document, parsed back, holds the same content.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/compile.h"
#include "policy/policy.h"
#include "userspace/show.h"

/* Line numbers are checked below: keep them. */
static const char policy_text[] =
	"version: 1\n"                                                           /* 1 */
	"classes:\n"                                                             /* 2 */
	"  phi.clinical:\n"                                                      /* 3 */
	"    description: Charts\n"                                              /* 4 */
	"    trees: [/srv/ehr/charts, /srv/ehr/notes]\n"                         /* 5 */
	"  phi.psych:\n"                                                         /* 6 */
	"    trees: [/srv/ehr/charts/psych]\n"                                   /* 7 */
	"  billing:\n"                                                           /* 8 */
	"    trees: [/srv/billing]\n"                                            /* 9 */
	"backends:\n"                                                            /* 10 */
	"  ehr:\n"                                                               /* 11 */
	"    description: EHR API\n"                                             /* 12 */
	"    destinations:\n"                                                    /* 13 */
	"      - { to: 127.0.0.1, port: 8443, proto: tcp }\n"                    /* 14 */
	"      - { to: ehr.test, port: 443-444, proto: tcp }\n"                  /* 15 */
	"  web:\n"                                                               /* 16 */
	"    destinations:\n"                                                    /* 17 */
	"      - { to: any, port: 443, proto: tcp }\n"                           /* 18 */
	"    except: [private, 203.0.113.7]\n"                                   /* 19 */
	"families:\n"                                                            /* 20 */
	"  clinical-read:\n"                                                     /* 21 */
	"    grants:\n"                                                          /* 22 */
	"      - { class: phi.clinical, actions: [read] }\n"                     /* 23 */
	"      - { backend: ehr, actions: connect }\n"                           /* 24 */
	"  clinical-write:\n"                                                    /* 25 */
	"    description: Update charts\n"                                       /* 26 */
	"    grants:\n"                                                          /* 27 */
	"      - { class: phi.clinical, actions: [read, write], audit: true }\n" /* 28 */
	"  browse:\n"                                                            /* 29 */
	"    grants:\n"                                                          /* 30 */
	"      - { backend: web, actions: [connect] }\n"                         /* 31 */
	"  unused:\n"                                                            /* 32 */
	"    grants:\n"                                                          /* 33 */
	"      - { class: billing, actions: read }\n"                            /* 34 */
	"agents:\n"                                                              /* 35 */
	"  scheduling:\n"                                                        /* 36 */
	"    families: [runtime, clinical-read, clinical-write]\n"               /* 37 */
	"    files:\n"                                                           /* 38 */
	"      - { path: /srv/scratch, access: [read, write, create] }\n"        /* 39 */
	"    network:\n"                                                         /* 40 */
	"      - { to: dns.test, port: 53, proto: udp, actions: [send] }\n"      /* 41 */
	"  idle: {}\n"                                                           /* 42 */
	"  learner:\n"                                                           /* 43 */
	"    mode: record\n"                                                     /* 44 */
	"    families: [browse]\n"                                               /* 45 */
	"    network:\n"                                                         /* 46 */
	"      - { to: gone.test, port: 80, proto: tcp, audit: true }\n";        /* 47 */

/* The test resolver: ehr.test and dns.test have fixed addresses, anything else fails. */
static int fake_resolve(const char *host, uint8_t (*addrs)[16], size_t max, char *why,
			size_t why_len, void *ctx)
{
	static const uint8_t ehr4[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 10};
	static const uint8_t ehr6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	static const uint8_t dns4[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 53};

	(void)ctx;
	if (!strcmp(host, "ehr.test") && max >= 2) {
		memcpy(addrs[0], ehr4, 16);
		memcpy(addrs[1], ehr6, 16);
		return 2;
	}
	if (!strcmp(host, "dns.test") && max >= 1) {
		memcpy(addrs[0], dns4, 16);
		return 1;
	}
	snprintf(why, why_len, "Name or service not known");
	return -ENOENT;
}

static const struct compile_env env = {.resolve_name = fake_resolve};

static void load_text(struct policy *p, const char *text)
{
	struct policy_error err;
	char msg[600];

	if (policy_load_buffer("t.yaml", text, strlen(text), p, &err)) {
		policy_error_format(&err, msg, sizeof(msg));
		fail_msg("test policy does not load: %s", msg);
	}
}

static void load(struct policy *p)
{
	load_text(p, policy_text);
}

/* show_text of p (only one agent when only is set), malloc'ed */
static char *text_of(const struct policy *p, const struct policy_agent *only)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(show_text(f, p, only, &env), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* show_json of p serialised and parsed back, as a tool reading stdout would */
static struct json_object *json_of(const struct policy *p, const struct policy_agent *only)
{
	struct json_object *o = show_json(p, only, &env), *back;

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

/* Whether some line of text starts with start. */
static bool has_line_start(const char *text, const char *start)
{
	const char *s;

	for (s = text; (s = strstr(s, start)); s++)
		if (s == text || s[-1] == '\n')
			return true;
	return false;
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

	if (!json_object_is_type(v, json_type_string))
		fail_msg("member \"%s\" is not a string in %s", key, json_object_to_json_string(o));
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

/* The element of array arr whose member key is the string value, or a failure. */
static struct json_object *find(struct json_object *arr, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *v;

		if (json_object_object_get_ex(e, key, &v) &&
		    json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), value))
			return e;
	}
	fail_msg("no element with %s \"%s\" in %s", key, value, json_object_to_json_string(arr));
	return NULL;
}

/* The strings of array arr joined by ",", into buf. */
static const char *joined(struct json_object *arr, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(arr); i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? "," : "",
			      json_object_get_string(json_object_array_get_idx(arr, i)));
	return buf;
}

static void test_table_shows_actions_by_agent(void **state)
{
	struct policy p = {};
	char *t;

	(void)state;
	load(&p);
	t = text_of(&p, NULL);

	assert_has_line(t, "who may do what (classes: r read, w write, c create, d delete, x exec; "
			   "backends: c connect, s send)");
	/* the first column fits "class runtime.certificates" and two blanks */
	assert_has_line(t, "                              scheduling  idle   learner");
	assert_has_line(t, "  class phi.clinical          rw---       -----  -----");
	assert_has_line(t, "  class phi.psych             -----       -----  -----");
	assert_has_line(t, "  class runtime.libraries     r---x       -----  -----");
	assert_has_line(t, "  class runtime.tmp           rwcd-       -----  -----");
	assert_has_line(t, "  backend ehr                 c-          --     --");
	assert_has_line(t, "  backend web                 --          --     c-");
	/* shipped classes appear where used: the runtime family holds none on programs */
	assert_null(strstr(t, "runtime.programs"));
	free(t);
	policy_release(&p);
}

static void test_agent_block_names_each_grant_and_family(void **state)
{
	struct policy p = {};
	char *t;

	(void)state;
	load(&p);
	t = text_of(&p, NULL);

	assert_has_line(t, "agent scheduling, mode enforce (at t.yaml:36:3)");
	assert_has_line(t,
			"  families: runtime (at t.yaml:37:16), clinical-read (at t.yaml:37:25), "
			"clinical-write (at t.yaml:37:40)");
	assert_has_line(t, "  class phi.clinical: read from family clinical-read (at t.yaml:23:9)");
	assert_has_line(t, "  class phi.clinical: read, write from family clinical-write "
			   "(at t.yaml:28:9), audited");
	assert_has_line(t, "  class runtime.libraries: read, exec from family runtime "
			   "(shipped with pinfold)");
	assert_has_line(t, "  backend ehr: connect from family clinical-read (at t.yaml:24:9)");
	assert_has_line(t, "  own files /srv/scratch: read, write, create (at t.yaml:39:9)");
	assert_has_line(t, "  own network dns.test port 53 udp: send (at t.yaml:41:9), "
			   "resolves to 192.0.2.53");
	assert_has_line(t, "  nothing on: class phi.psych, class billing, backend web");
	assert_has_line(t, "  scheduling: 9 grants, 2 own rules; everything else is denied");
	free(t);
	policy_release(&p);
}

static void test_agents_without_grants_and_lenient_modes(void **state)
{
	struct policy p = {};
	char *t;

	(void)state;
	load(&p);
	t = text_of(&p, NULL);

	assert_has_line(t, "agent idle, mode enforce (at t.yaml:42:3)");
	assert_has_line(t, "  families: none");
	assert_has_line(t, "  nothing on: class phi.clinical, class phi.psych, class billing, "
			   "backend ehr, backend web");
	assert_has_line(t, "  idle: 0 grants, 0 own rules; everything else is denied");
	assert_has_line(t, "  own network gone.test port 80 tcp: connect, send (at t.yaml:47:9), "
			   "does not resolve here: Name or service not known, audited");
	assert_has_line(t, "  learner: 1 grant, 1 own rule; everything else would be denied "
			   "(mode record: every use recorded, no denial applied)");
	free(t);
	policy_release(&p);
}

static void test_classes_backends_and_families(void **state)
{
	struct policy p = {};
	char *t;

	(void)state;
	load(&p);
	t = text_of(&p, NULL);

	assert_has_line(t, "class phi.clinical (at t.yaml:3:3): Charts");
	assert_has_line(t, "  tree /srv/ehr/charts (at t.yaml:5:13)");
	assert_has_line(t, "  tree /srv/ehr/notes (at t.yaml:5:30)");
	assert_true(has_line_start(t, "class runtime.libraries (shipped with pinfold)"));
	assert_has_line(t, "  tree /usr/lib, skipped where missing");
	assert_true(has_line_start(t, "class runtime.tmp (shipped with pinfold)"));
	assert_has_line(t, "  no trees: pinfold run makes one directory for each instance");

	assert_has_line(t, "backend ehr (at t.yaml:11:3): EHR API");
	assert_has_line(t, "  to 127.0.0.1 port 8443 tcp (at t.yaml:14:9)");
	assert_has_line(t,
			"  to ehr.test port 443-444 tcp (at t.yaml:15:9), resolves to 192.0.2.10, "
			"2001:db8::10");
	assert_has_line(t, "  to any port 443 tcp (at t.yaml:18:9)");
	assert_has_line(t, "  except private = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
			   "100.64.0.0/10, fc00::/7 (at t.yaml:19:14)");
	assert_has_line(t, "  except 203.0.113.7 (at t.yaml:19:23)");

	assert_has_line(t, "family clinical-write (at t.yaml:25:3): Update charts");
	assert_has_line(t, "  read, write on class phi.clinical (at t.yaml:28:9), audited");
	assert_has_line(t, "  used by scheduling");
	assert_has_line(t, "family unused (at t.yaml:32:3)");
	assert_has_line(t, "  used by no agent");
	assert_true(has_line_start(t, "family runtime (shipped with pinfold)"));
	assert_has_line(t, "  read, exec on class runtime.libraries");
	assert_null(strstr(t, "family runtime-programs"));
	free(t);
	policy_release(&p);
}

static void test_one_agent_names_only_it(void **state)
{
	struct policy p = {};
	char *t;

	(void)state;
	load(&p);
	t = text_of(&p, policy_find_agent(&p, "learner"));

	assert_true(has_line_start(t, "agent learner,"));
	assert_false(has_line_start(t, "agent scheduling"));
	assert_false(has_line_start(t, "agent idle"));
	assert_has_line(t, "                      learner");
	/* the shipped runtime is used by scheduling only */
	assert_null(strstr(t, "runtime.libraries"));
	assert_false(has_line_start(t, "family runtime "));
	/* the policy's own classes, backends and families are all listed */
	assert_true(has_line_start(t, "class phi.psych"));
	assert_true(has_line_start(t, "backend ehr"));
	assert_true(has_line_start(t, "family unused"));
	free(t);
	policy_release(&p);
}

static void test_text_escapes_control_bytes(void **state)
{
	static const char text[] = "version: 1\n"
				   "classes:\n"
				   "  c:\n"
				   "    description: \"a\\e[2Jb\"\n"
				   "    trees: [\"/srv/x\\e[2Jy\\nz\"]\n"
				   "agents:\n"
				   "  a:\n"
				   "    files:\n"
				   "      - {path: \"/srv/o\\e]0;t\\a\", access: read}\n";
	struct policy p = {};
	char *t;

	(void)state;
	load_text(&p, text);
	t = text_of(&p, NULL);

	assert_null(strchr(t, '\x1b'));
	assert_null(strchr(t, '\a'));
	assert_has_line(t, "class c (at t.yaml:3:3): a\\x1b[2Jb");
	assert_has_line(t, "  tree /srv/x\\x1b[2Jy\\nz (at t.yaml:5:13)");
	assert_has_line(t, "  own files /srv/o\\x1b]0;t\\x07: read (at t.yaml:9:9)");
	free(t);
	policy_release(&p);
}

static void test_json_agents(void **state)
{
	struct json_object *doc, *a, *g, *may, *own;
	struct policy p = {};
	char buf[256];

	(void)state;
	load(&p);
	doc = json_of(&p, NULL);

	assert_string_equal(str_member(doc, "policy"), "t.yaml");
	assert_string_equal(str_member(doc, "sha256"), p.sha256);
	assert_string_equal(joined(member(doc, "files"), buf, sizeof(buf)), "t.yaml");
	assert_int_equal(json_object_array_length(member(doc, "agents")), 3);
	a = find(member(doc, "agents"), "name", "scheduling");
	assert_string_equal(str_member(a, "mode"), "enforce");
	assert_true(bool_member(a, "denials_applied"));
	assert_string_equal(str_member(a, "file"), "t.yaml");
	assert_int_equal(int_member(a, "line"), 36);
	assert_int_equal(int_member(a, "column"), 3);
	assert_string_equal(joined(member(a, "families"), buf, sizeof(buf)),
			    "runtime,clinical-read,clinical-write");

	g = find(member(a, "grants"), "family", "clinical-write");
	assert_string_equal(str_member(g, "class"), "phi.clinical");
	assert_string_equal(joined(member(g, "actions"), buf, sizeof(buf)), "read,write");
	assert_true(bool_member(g, "audited"));
	assert_int_equal(int_member(g, "line"), 28);
	assert_int_equal(int_member(g, "rule_id"),
			 POLICY_ID(POLICY_ID_GRANT,
				   policy_find_family(&p, "clinical-write") - p.families, 0));
	g = find(member(a, "grants"), "backend", "ehr");
	assert_string_equal(str_member(g, "family"), "clinical-read");
	g = find(member(a, "grants"), "class", "runtime.libraries");
	assert_null(member(g, "file"));
	assert_int_equal(int_member(g, "line"), 0);

	may = member(a, "may");
	assert_string_equal(
		joined(member(member(may, "classes"), "phi.clinical"), buf, sizeof(buf)),
		"read,write");
	assert_string_equal(joined(member(member(may, "backends"), "ehr"), buf, sizeof(buf)),
			    "connect");
	assert_string_equal(joined(member(member(a, "nothing_on"), "classes"), buf, sizeof(buf)),
			    "phi.psych,billing");

	own = json_object_array_get_idx(member(a, "own_files"), 0);
	assert_string_equal(str_member(own, "path"), "/srv/scratch");
	assert_string_equal(joined(member(own, "actions"), buf, sizeof(buf)), "read,write,create");
	assert_int_equal(int_member(own, "rule_id"), POLICY_ID(POLICY_ID_OWN_TREE, 0, 0));
	own = json_object_array_get_idx(member(a, "own_network"), 0);
	assert_string_equal(str_member(own, "host"), "dns.test");
	assert_null(member(own, "net"));
	assert_string_equal(joined(member(own, "addresses"), buf, sizeof(buf)), "192.0.2.53");
	assert_string_equal(joined(member(own, "actions"), buf, sizeof(buf)), "send");
	assert_string_equal(str_member(own, "proto"), "udp");

	a = find(member(doc, "agents"), "name", "learner");
	assert_false(bool_member(a, "denials_applied"));
	own = json_object_array_get_idx(member(a, "own_network"), 0);
	assert_null(member(own, "addresses"));
	assert_string_equal(str_member(own, "resolve_error"), "Name or service not known");
	assert_true(bool_member(own, "audited"));
	json_object_put(doc);
	policy_release(&p);
}

static void test_json_classes_backends_families(void **state)
{
	struct json_object *doc, *c, *b, *d, *f;
	struct policy p = {};
	char buf[256];

	(void)state;
	load(&p);
	doc = json_of(&p, NULL);

	c = find(member(doc, "classes"), "name", "phi.clinical");
	assert_string_equal(str_member(c, "description"), "Charts");
	assert_false(bool_member(c, "shipped"));
	assert_string_equal(str_member(json_object_array_get_idx(member(c, "trees"), 1), "path"),
			    "/srv/ehr/notes");
	c = find(member(doc, "classes"), "name", "runtime.tmp");
	assert_true(bool_member(c, "private_tmp"));
	assert_int_equal(json_object_array_length(member(c, "trees")), 0);

	b = find(member(doc, "backends"), "name", "ehr");
	d = json_object_array_get_idx(member(b, "destinations"), 0);
	assert_string_equal(str_member(d, "net"), "127.0.0.1/32");
	assert_null(member(d, "host"));
	assert_int_equal(int_member(d, "port_lo"), 8443);
	d = json_object_array_get_idx(member(b, "destinations"), 1);
	assert_string_equal(joined(member(d, "addresses"), buf, sizeof(buf)),
			    "192.0.2.10,2001:db8::10");
	assert_int_equal(int_member(d, "port_hi"), 444);
	b = find(member(doc, "backends"), "name", "web");
	d = find(member(b, "except"), "net", "10.0.0.0/8");
	assert_string_equal(str_member(d, "text"), "private");
	d = find(member(b, "except"), "text", "203.0.113.7");
	assert_string_equal(str_member(d, "net"), "203.0.113.7/32");
	assert_int_equal(int_member(d, "column"), 23);

	f = find(member(doc, "families"), "name", "unused");
	assert_int_equal(json_object_array_length(member(f, "agents")), 0);
	f = find(member(doc, "families"), "name", "clinical-read");
	assert_string_equal(joined(member(f, "agents"), buf, sizeof(buf)), "scheduling");
	assert_string_equal(
		str_member(json_object_array_get_idx(member(f, "grants"), 1), "backend"), "ehr");
	json_object_put(doc);
	policy_release(&p);
}

static void test_json_of_one_agent(void **state)
{
	struct json_object *doc, *arr;
	struct policy p = {};
	size_t i;

	(void)state;
	load(&p);
	doc = json_of(&p, policy_find_agent(&p, "idle"));

	arr = member(doc, "agents");
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(str_member(json_object_array_get_idx(arr, 0), "name"), "idle");
	assert_int_equal(
		json_object_array_length(member(json_object_array_get_idx(arr, 0), "grants")), 0);
	/* idle uses nothing shipped: no shipped class or family is listed */
	arr = member(doc, "classes");
	for (i = 0; i < json_object_array_length(arr); i++)
		assert_false(bool_member(json_object_array_get_idx(arr, i), "shipped"));
	arr = member(doc, "families");
	for (i = 0; i < json_object_array_length(arr); i++)
		assert_false(bool_member(json_object_array_get_idx(arr, i), "shipped"));
	json_object_put(doc);
	policy_release(&p);
}

static void test_granting_names_every_family(void **state)
{
	struct policy p = {};
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	(void)state;
	load(&p);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	n = show_put_granting(f, &p, POLICY_ON_CLASS,
			      (size_t)(policy_find_class(&p, "phi.clinical") - p.classes),
			      POLICY_READ, "> ");
	assert_int_equal(show_put_granting(f, &p, POLICY_ON_CLASS,
					   (size_t)(policy_find_class(&p, "phi.psych") - p.classes),
					   POLICY_READ, "never "),
			 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(n, 2);
	assert_string_equal(buf, "> family clinical-read grants read on class phi.clinical "
				 "(at t.yaml:23:9), family clinical-write grants read on class "
				 "phi.clinical (at t.yaml:28:9)");
	free(buf);
	policy_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_shows_actions_by_agent),
		cmocka_unit_test(test_agent_block_names_each_grant_and_family),
		cmocka_unit_test(test_agents_without_grants_and_lenient_modes),
		cmocka_unit_test(test_classes_backends_and_families),
		cmocka_unit_test(test_one_agent_names_only_it),
		cmocka_unit_test(test_text_escapes_control_bytes),
		cmocka_unit_test(test_json_agents),
		cmocka_unit_test(test_json_classes_backends_families),
		cmocka_unit_test(test_json_of_one_agent),
		cmocka_unit_test(test_granting_names_every_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
