// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_audit.c - audit records and denial lines (userspace/audit.c).
 *
 * Every record is parsed back with json-c and checked member by member;
 * UTF-8 validity is checked with iconv, independently of audit.c's own
 * decoder. Rule descriptions come from a real policy loaded from a buffer,
 * and from a second one standing for an earlier generation.
 */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "userspace/audit.h"

#define TEST_POLICY_NAME "test.yaml"
#define REAL_NS_EXAMPLE 1796399383123456789LL /* 2026-12-04T15:49:43.123456789Z */

/* classes, a backend, a family granting on them, and own rules of both kinds */
static const char test_policy[] = "version: 1\n"
				  "classes:\n"
				  "  phi.charts:\n"
				  "    trees: [/srv/ehr]\n"
				  "  phi.archive:\n"
				  "    trees: [/srv/ehr/archive]\n"
				  "backends:\n"
				  "  ehr-api:\n"
				  "    destinations:\n"
				  "      - { to: 127.0.0.1, port: 18082, proto: tcp }\n"
				  "      - { to: localhost, port: 8000-8100, proto: udp }\n"
				  "families:\n"
				  "  charts:\n"
				  "    grants:\n"
				  "      - { class: phi.charts, actions: read-write }\n"
				  "      - { class: phi.archive, actions: [read] }\n"
				  "      - { backend: ehr-api, actions: [connect], audit: true }\n"
				  "agents:\n"
				  "  billing:\n"
				  "    families: [charts]\n"
				  "    network:\n"
				  "      - { to: \"::1\", port: 53, proto: udp }\n"
				  "    files:\n"
				  "      - { path: /srv/own, access: read }\n";

/* an earlier generation: the same agent, other names */
static const char old_policy[] = "version: 1\n"
				 "classes:\n"
				 "  phi.old:\n"
				 "    trees: [/srv/old]\n"
				 "families:\n"
				 "  legacy:\n"
				 "    grants:\n"
				 "      - { class: phi.old, actions: [read] }\n"
				 "agents:\n"
				 "  billing:\n"
				 "    families: [legacy]\n";

/* classes whose records keep hashed paths, must be recorded, or are not PHI */
static const char log_policy[] =
	"version: 1\n"
	"classes:\n"
	"  phi.notes:\n"
	"    trees: [/srv/notes]\n"
	"    log_paths: keyed-hash\n"
	"    audit: required\n"
	"  scratch:\n"
	"    trees: [/srv/scratch]\n"
	"families:\n"
	"  notes:\n"
	"    grants:\n"
	"      - { class: phi.notes, actions: [read], approved_by: dr-lee }\n"
	"      - { class: scratch, actions: [read] }\n"
	"agents:\n"
	"  billing:\n"
	"    families: [notes]\n";

struct fixture {
	struct policy policy;
	struct audit_instance inst;
};

/* Describe events by policy text instead of the fixture's policy. */
static void use_policy(struct fixture *fx, const char *text)
{
	struct policy_error err;

	policy_release(&fx->policy);
	memset(&fx->policy, 0, sizeof(fx->policy));
	assert_int_equal(
		policy_load_buffer(TEST_POLICY_NAME, text, strlen(text), &fx->policy, &err), 0);
	fx->inst.policy = &fx->policy;
	fx->inst.policy_agent = policy_find_agent(&fx->policy, "billing");
	assert_non_null(fx->inst.policy_agent);
}

/* Index of the class, backend or family called name in the fixture's policy. */
static size_t class_index(const struct policy *p, const char *name)
{
	const struct policy_class *c = policy_find_class(p, name);

	assert_non_null(c);
	return (size_t)(c - p->classes);
}

static size_t backend_index(const struct policy *p, const char *name)
{
	const struct policy_backend *b = policy_find_backend(p, name);

	assert_non_null(b);
	return (size_t)(b - p->backends);
}

static size_t family_index(const struct policy *p, const char *name)
{
	const struct policy_family *f = policy_find_family(p, name);

	assert_non_null(f);
	return (size_t)(f - p->families);
}

/* Ids of the fixture's trees, destinations and grants. */
static uint32_t class_tree(const struct policy *p, const char *class, unsigned t)
{
	return POLICY_ID(POLICY_ID_CLASS_TREE, class_index(p, class), t);
}

static uint32_t backend_dest(const struct policy *p, const char *backend, unsigned d)
{
	return POLICY_ID(POLICY_ID_BACKEND_DEST, backend_index(p, backend), d);
}

static uint32_t grant(const struct policy *p, const char *family, unsigned g)
{
	return POLICY_ID(POLICY_ID_GRANT, family_index(p, family), g);
}

#define OWN_TREE(i) POLICY_ID(POLICY_ID_OWN_TREE, 0, i)
#define OWN_DEST(j) POLICY_ID(POLICY_ID_OWN_DEST, 0, j)

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct policy_error err;

	if (!fx)
		return -1;
	if (policy_load_buffer(TEST_POLICY_NAME, test_policy, strlen(test_policy), &fx->policy,
			       &err)) {
		free(fx);
		return -1;
	}
	fx->inst.agent = "billing";
	fx->inst.instance = "billing.3f2a";
	fx->inst.gen = 1;
	fx->inst.policy = &fx->policy;
	fx->inst.policy_agent = policy_find_agent(&fx->policy, "billing");
	if (!fx->inst.policy_agent) {
		policy_release(&fx->policy);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	policy_release(&fx->policy);
	free(fx);
	return 0;
}

/* ---- helpers ---- */

static void set_path(struct pf_event *ev, const char *path)
{
	memset(ev->path, 0, sizeof(ev->path));
	memcpy(ev->path, path, strlen(path));
}

static void set_comm(struct pf_event *ev, const char *comm)
{
	memset(ev->comm, 0, sizeof(ev->comm));
	memcpy(ev->comm, comm, strnlen(comm, sizeof(ev->comm)));
}

/* action on path denied for pid 42 "python3" (uid 1000): no rule covers it */
static struct pf_event file_event(unsigned action, const char *path)
{
	struct pf_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.boot_ns = 5000000000ULL;
	ev.cgroup_id = 4242;
	ev.dev = (8ULL << 20) | 3;
	ev.ino = 1234;
	ev.pid = 42;
	ev.uid = 1000;
	ev.rule_id = PF_RULE_NONE;
	ev.object = PF_RULE_NONE;
	ev.gen = 1;
	ev.action = (__u16)action;
	ev.decision = PF_DECISION_DENY;
	ev.reason = PF_REASON_NO_RULE;
	set_comm(&ev, "python3");
	set_path(&ev, path);
	return ev;
}

/* A denied network event to addr (16 bytes) port/proto, called as family. */
static struct pf_event net_event(unsigned action, const __u8 *addr, unsigned port, unsigned proto,
				 unsigned family)
{
	struct pf_event ev = file_event(action, "");

	ev.dev = 0;
	ev.ino = 0;
	memcpy(ev.addr, addr, 16);
	ev.port = (__u16)port;
	ev.proto = (__u8)proto;
	ev.family = (__u8)family;
	set_comm(&ev, "curl");
	return ev;
}

static const __u8 addr_v4_loopback[16] = {[10] = 0xff, [11] = 0xff, 127, 0, 0, 1};
static const __u8 addr_v6_loopback[16] = {[15] = 1};

/* Whether s[0..n) is valid UTF-8, by iconv (which refuses overlongs and surrogates). */
static bool valid_utf8(const char *s, size_t n)
{
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	char *in = (char *)s, *out;
	size_t in_left = n, out_left, rc;
	char *buf;

	assert_true(cd != (iconv_t)-1);
	buf = malloc(4 * n + 4);
	assert_non_null(buf);
	out = buf;
	out_left = 4 * n + 4;
	rc = iconv(cd, &in, &in_left, &out, &out_left);
	iconv_close(cd);
	free(buf);
	return rc != (size_t)-1 && in_left == 0;
}

/* line must be one line of valid UTF-8 holding exactly one JSON object: return it. */
static struct json_object *parse_record(const char *line)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t len;

	assert_non_null(line);
	len = strlen(line);
	assert_null(memchr(line, '\n', len));
	assert_null(memchr(line, '\r', len));
	assert_true(valid_utf8(line, len));

	tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len + 1);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	json_tokener_free(tok);
	assert_non_null(obj);
	assert_true(json_object_is_type(obj, json_type_object));
	return obj;
}

static struct json_object *format_record(const struct pf_event *ev,
					 const struct audit_instance *inst)
{
	char *line = audit_format_event(ev, inst, 0);
	struct json_object *obj = parse_record(line);

	free(line);
	return obj;
}

/* The string member key of obj, which must exist. */
static const char *str_member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		fail_msg("member \"%s\" missing", key);
	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static int64_t int_member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		fail_msg("member \"%s\" missing", key);
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static bool bool_member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		fail_msg("member \"%s\" missing", key);
	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static bool has_member(struct json_object *obj, const char *key)
{
	return json_object_object_get_ex(obj, key, NULL);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static char *hex_of(const char *s, size_t n)
{
	char *hex = malloc(2 * n + 1);
	size_t i;

	assert_non_null(hex);
	for (i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", (unsigned char)s[i]);
	hex[2 * n] = '\0';
	return hex;
}

static char *id_description(const struct policy *p, const char *agent, uint32_t id)
{
	char *buf = malloc(1024);

	assert_non_null(buf);
	assert_true(policy_id_describe(p, policy_find_agent(p, agent), id, buf, 1024) > 0);
	return buf;
}

static char *rule_description(const struct fixture *fx, uint32_t id)
{
	return id_description(&fx->policy, "billing", id);
}

/*
 * Load the denial hint "network: {...}" or "files: {...}" as the one rule
 * of a policy, so that the test proves the hint is a rule the loader takes.
 */
static void load_hint(const char *hint, struct policy *p)
{
	const char *colon = strchr(hint, ':');
	struct policy_error err;
	char yaml[4096];
	int rc;

	assert_non_null(colon);
	snprintf(yaml, sizeof(yaml), "version: 1\nagents:\n  t:\n    %.*s:\n      - %s\n",
		 (int)(colon - hint), hint, colon + 2);
	rc = policy_load_buffer("hint.yaml", yaml, strlen(yaml), p, &err);
	if (rc)
		fail_msg("hint does not load: %s: %u:%u %s", yaml, err.line, err.column, err.msg);
}

/* The text after "; allow with: " in a denial line. */
static const char *hint_of(const char *line)
{
	const char *h = strstr(line, "; allow with: ");

	assert_non_null(h);
	return h + strlen("; allow with: ");
}

/* ---- records ---- */

static void test_every_action_named(void **state)
{
	static const char *const names[PF_ACT_MAX] = {
		NULL,          "open-read",  "open-write", "create",        "unlink",
		"rename",      "link",       "connect",    "sendmsg",       "truncate",
		"setsockopt",  "receive",    "mount",      "userns-create", "ptrace",
		"exec",        "map-exec",   "socket",     "bpf",           "signal",
		"load-module", "setattr",    "receive-fd", "unix-connect",  "unix-send",
		"setxattr",    "setnice",    "setioprio",  "setscheduler",  "setrlimit",
		"setpgid",     "movememory", "ioctl",
	};
	struct fixture *fx = *state;
	unsigned a;

	for (a = PF_ACT_OPEN_READ; a < PF_ACT_MAX; a++) {
		struct pf_event ev = file_event(a, "/srv/x/f");
		struct json_object *rec;

		if (a == PF_ACT_CONNECT || a == PF_ACT_SENDMSG || a == PF_ACT_RECEIVE)
			ev = net_event(a, addr_v4_loopback, 80, IPPROTO_TCP, AF_INET);
		rec = format_record(&ev, &fx->inst);
		assert_string_equal(audit_action_name(a), names[a]);
		assert_string_equal(str_member(rec, "action"), names[a]);
		assert_int_equal(int_member(rec, "schema"), 3);
		assert_string_equal(str_member(rec, "kind"), "decision");
		assert_string_equal(str_member(rec, "agent"), "billing");
		assert_string_equal(str_member(rec, "instance"), "billing.3f2a");
		assert_int_equal(int_member(rec, "pid"), 42);
		assert_int_equal(int_member(rec, "uid"), 1000);
		assert_string_equal(str_member(rec, "decision"), "deny");
		assert_false(has_member(rec, "bad_event"));
		json_object_put(rec);
	}
	assert_null(audit_action_name(0));
	assert_null(audit_action_name(PF_ACT_MAX));
}

static void test_source_route_refusal(void **state)
{
	struct pf_event ev = file_event(PF_ACT_SETSOCKOPT, "IPV6_RTHDR");
	struct fixture *fx = *state;
	struct json_object *rec;
	char *line;

	ev.family = AF_INET6;
	ev.reason = PF_REASON_SOURCE_ROUTE;
	ev.dev = 0;
	ev.ino = 0;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "action"), "setsockopt");
	assert_string_equal(str_member(rec, "object"), "IPV6_RTHDR");
	assert_string_equal(str_member(rec, "option"), "IPV6_RTHDR");
	assert_string_equal(str_member(rec, "level"), "ipv6");
	assert_string_equal(str_member(rec, "reason_code"), "source-route");
	assert_false(has_member(rec, "path"));
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);

	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "pinfold: denied setsockopt IPV6_RTHDR (agent billing");
	assert_contains(line, "no policy rule can allow it: source routes are always refused");
	free(line);
}

/* A change to another task names it as ptrace does; setrlimit adds the resource. */
static void test_other_task_change(void **state)
{
	struct pf_event ev = file_event(PF_ACT_SETRLIMIT, "pinfold");
	struct fixture *fx = *state;
	struct json_object *rec;
	char *line;

	ev.reason = PF_REASON_OTHER_TASK;
	ev.dev = 0;
	ev.ino = 777;
	ev.port = 7; /* RLIMIT_NOFILE */
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "action"), "setrlimit");
	assert_string_equal(str_member(rec, "object"), "pid 777 (pinfold)");
	assert_int_equal(int_member(rec, "target_pid"), 777);
	assert_int_equal(int_member(rec, "resource"), 7);
	assert_string_equal(str_member(rec, "reason_code"), "other-task");
	assert_false(has_member(rec, "path"));
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);

	ev.action = PF_ACT_SETNICE;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "object"), "pid 777 (pinfold)");
	assert_false(has_member(rec, "resource"));
	json_object_put(rec);

	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "pinfold: denied setnice pid 777 (pinfold)");
	free(line);
}

/* An abstract unix name is the object, "@" first; no device or inode. */
static void test_unix_abstract_object(void **state)
{
	struct pf_event ev = file_event(PF_ACT_UNIX_CONNECT, "@dbus-session");
	struct fixture *fx = *state;
	struct json_object *rec;

	ev.reason = PF_REASON_OTHER_TASK;
	ev.dev = 0;
	ev.ino = 0;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "action"), "unix-connect");
	assert_string_equal(str_member(rec, "object"), "@dbus-session");
	assert_string_equal(str_member(rec, "reason_code"), "other-task");
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);
}

static void test_file_object_members(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_WRITE, "/srv/ehr/a.txt");
	struct fixture *fx = *state;
	struct json_object *rec;

	ev.dev = (259ULL << 20) | 65537; /* minors use 20 bits */
	ev.ino = 0xfffffffffffffff0ULL;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "object"), "/srv/ehr/a.txt");
	assert_string_equal(str_member(rec, "path"), "/srv/ehr/a.txt");
	assert_string_equal(str_member(rec, "dev"), "259:65537");
	assert_true(json_object_get_uint64(json_object_object_get(rec, "ino")) == ev.ino);
	assert_false(has_member(rec, "side"));
	assert_false(has_member(rec, "path_truncated"));
	assert_false(has_member(rec, "path_hex"));
	assert_false(has_member(rec, "address"));
	json_object_put(rec);

	ev.dev = 0;
	ev.ino = 0; /* e.g. a create: no inode yet */
	rec = format_record(&ev, &fx->inst);
	assert_false(has_member(rec, "dev"));
	assert_false(has_member(rec, "ino"));
	json_object_put(rec);
}

static void test_rename_and_link_sides(void **state)
{
	static const unsigned actions[] = {PF_ACT_RENAME, PF_ACT_LINK};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct pf_event ev = file_event(actions[i], "/srv/ehr/old");
		struct json_object *rec;

		ev.side = PF_SIDE_SOURCE;
		rec = format_record(&ev, &fx->inst);
		assert_string_equal(str_member(rec, "side"), "source");
		json_object_put(rec);

		ev.side = PF_SIDE_TARGET;
		rec = format_record(&ev, &fx->inst);
		assert_string_equal(str_member(rec, "side"), "target");
		json_object_put(rec);

		ev.side = 7;
		rec = format_record(&ev, &fx->inst);
		assert_false(has_member(rec, "side"));
		assert_contains(str_member(rec, "bad_event"), "unknown side 7");
		json_object_put(rec);
	}
}

static void test_ipv4_object(void **state)
{
	struct pf_event ev =
		net_event(PF_ACT_CONNECT, addr_v4_loopback, 8080, IPPROTO_TCP, AF_INET);
	struct fixture *fx = *state;
	struct json_object *rec = format_record(&ev, &fx->inst);

	assert_string_equal(str_member(rec, "object"), "127.0.0.1:8080/tcp");
	assert_string_equal(str_member(rec, "address"), "127.0.0.1");
	assert_int_equal(int_member(rec, "port"), 8080);
	assert_string_equal(str_member(rec, "protocol"), "tcp");
	assert_false(has_member(rec, "via"));
	assert_false(has_member(rec, "path"));
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);
}

static void test_ipv6_object(void **state)
{
	static const __u8 doc[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x42};
	struct pf_event ev =
		net_event(PF_ACT_SENDMSG, addr_v6_loopback, 8080, IPPROTO_UDP, AF_INET6);
	struct fixture *fx = *state;
	struct json_object *rec = format_record(&ev, &fx->inst);

	assert_string_equal(str_member(rec, "object"), "[::1]:8080/udp");
	assert_string_equal(str_member(rec, "address"), "::1");
	assert_string_equal(str_member(rec, "protocol"), "udp");
	assert_false(has_member(rec, "via"));
	json_object_put(rec);

	ev = net_event(PF_ACT_CONNECT, doc, 443, IPPROTO_TCP, AF_INET6);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "object"), "[2001:db8::42]:443/tcp");
	json_object_put(rec);
}

static void test_v4_mapped_says_via(void **state)
{
	struct pf_event ev =
		net_event(PF_ACT_CONNECT, addr_v4_loopback, 8080, IPPROTO_TCP, AF_INET6);
	struct fixture *fx = *state;
	struct json_object *rec = format_record(&ev, &fx->inst);

	assert_string_equal(str_member(rec, "object"), "127.0.0.1:8080/tcp");
	assert_string_equal(str_member(rec, "address"), "127.0.0.1");
	assert_string_equal(str_member(rec, "via"), "ipv4-mapped-ipv6");
	json_object_put(rec);

	/* AF_INET with a plain IPv6 address cannot come from the kernel */
	ev = net_event(PF_ACT_CONNECT, addr_v6_loopback, 80, IPPROTO_TCP, AF_INET);
	rec = format_record(&ev, &fx->inst);
	assert_contains(str_member(rec, "bad_event"), "AF_INET");
	json_object_put(rec);
}

static void test_other_protocol_named(void **state)
{
	struct pf_event ev = net_event(PF_ACT_SENDMSG, addr_v4_loopback, 9, 132, AF_INET);
	struct fixture *fx = *state;
	struct json_object *rec;

	ev.reason = PF_REASON_PROTOCOL;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "object"), "127.0.0.1:9/proto-132");
	assert_string_equal(str_member(rec, "reason_code"), "protocol");
	assert_contains(str_member(rec, "reason"), "132");
	json_object_put(rec);
}

static void test_hostile_names_round_trip(void **state)
{
	static const char *const names[] = {
		"/srv/\"quoted\" name",
		"/srv/new\nline/and\rreturn",
		"/srv/\x1b[31mred\x1b[0m",
		"/srv/ctl\x01\x02\x07\x08\x0b\x0c\x1f\x7f",
		"/srv/back\\slash/and/tab\t",
		/* "/srv/ünïcødé/日本/🙂"; \143 and \144 are c and d after a hex escape */
		"/srv/\xc3\xbcn\xc3\xaf\143\xc3\xb8\144\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x99\x82",
		/* U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+10000, U+10FFFF */
		"/\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
		"/srv/</script>\u2028\u2029",
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct pf_event ev = file_event(PF_ACT_CREATE, names[i]);
		struct json_object *rec = format_record(&ev, &fx->inst);

		assert_string_equal(str_member(rec, "path"), names[i]);
		assert_string_equal(str_member(rec, "object"), names[i]);
		assert_false(has_member(rec, "path_hex"));
		json_object_put(rec);
	}
}

static void test_invalid_utf8_replaced_and_kept_in_hex(void **state)
{
	static const struct {
		const char *raw, *clean;
	} cases[] = {
		{"/a\xff/b", "/a\xef\xbf\xbd/b"},
		{"/overlong\xc0\xaf", "/overlong\xef\xbf\xbd\xef\xbf\xbd"},
		{"/overlong3\xe0\x80\xaf", "/overlong3\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"/surrogate\xed\xa0\x80", "/surrogate\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"/big\xf4\x90\x80\x80", "/big\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"/f5\xf5\x80\x80\x80", "/f5\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"/cut\xe2\x82", "/cut\xef\xbf\xbd\xef\xbf\xbd"},
		{"/cut\xe2\x82x", "/cut\xef\xbf\xbd\xef\xbf\xbdx"},
		{"/lone\x80\xbf", "/lone\xef\xbf\xbd\xef\xbf\xbd"},
		{"/latin1-caf\xe9\n\"", "/latin1-caf\xef\xbf\xbd\n\""},
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pf_event ev = file_event(PF_ACT_OPEN_READ, cases[i].raw);
		struct json_object *rec = format_record(&ev, &fx->inst);
		char *hex = hex_of(cases[i].raw, strlen(cases[i].raw));

		assert_string_equal(str_member(rec, "path"), cases[i].clean);
		assert_string_equal(str_member(rec, "path_hex"), hex);
		free(hex);
		json_object_put(rec);
	}
}

static void test_comm_bounded_and_sanitized(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/after/comm");
	struct fixture *fx = *state;
	struct json_object *rec;

	memcpy(ev.comm, "abcdefghijklmnop", 16); /* all 16 bytes, no NUL */
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "comm"), "abcdefghijklmnop");
	assert_false(has_member(rec, "comm_hex"));
	json_object_put(rec);

	set_comm(&ev, "py\xff\x1b\n");
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "comm"), "py\xef\xbf\xbd\x1b\n");
	assert_string_equal(str_member(rec, "comm_hex"), "7079ff1b0a");
	json_object_put(rec);
}

static void test_truncated_path_flagged(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/very/long");
	struct fixture *fx = *state;
	struct json_object *rec;
	char *path;

	char *line;

	/* the top missing, the end cut: an ellipsis where the path is not whole */
	ev.path_truncated = PF_PATH_NO_ROOT | PF_PATH_CUT;
	rec = format_record(&ev, &fx->inst);
	assert_true(bool_member(rec, "path_truncated"));
	assert_string_equal(str_member(rec, "object"), "\u2026/srv/very/long\u2026");
	assert_string_equal(str_member(rec, "path"), "/srv/very/long");
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);

	/* and the denial line suggests no rule for a path that does not exist */
	ev.path_truncated = PF_PATH_NO_ROOT;
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "denied open-read \u2026/srv/very/long (agent");
	assert_contains(line, "the path is incomplete");
	assert_null(strstr(line, "{path:"));
	free(line);

	/* no NUL within PF_PATH_MAX: bounded, flagged, and said to be bad */
	ev.path_truncated = 0;
	memset(ev.path, 'a', sizeof(ev.path));
	ev.path[0] = '/';
	rec = format_record(&ev, &fx->inst);
	path = (char *)str_member(rec, "path");
	assert_int_equal(strlen(path), PF_PATH_MAX);
	assert_int_equal(path[0], '/');
	assert_true(bool_member(rec, "path_truncated"));
	assert_contains(str_member(rec, "bad_event"), "NUL");
	json_object_put(rec);
}

static void test_unknown_action_still_a_record(void **state)
{
	static const unsigned actions[] = {0, PF_ACT_MAX, 42, 65535};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		struct pf_event ev = file_event(actions[i], "/srv/x");
		struct json_object *rec = format_record(&ev, &fx->inst);
		char want[64];

		snprintf(want, sizeof(want), "unknown-%u", actions[i]);
		assert_string_equal(str_member(rec, "action"), want);
		snprintf(want, sizeof(want), "unknown action %u", actions[i]);
		assert_contains(str_member(rec, "bad_event"), want);
		assert_string_equal(str_member(rec, "object"), "/srv/x");
		json_object_put(rec);
	}
}

static void test_unknown_decision_and_reason(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/x");
	struct fixture *fx = *state;
	struct json_object *rec;

	ev.decision = 9;
	ev.reason = 99;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "decision"), "unknown-9");
	assert_string_equal(str_member(rec, "reason_code"), "unknown-99");
	assert_contains(str_member(rec, "bad_event"), "unknown decision 9");
	assert_contains(str_member(rec, "bad_event"), "unknown reason 99");
	json_object_put(rec);
}

static void test_time_formatting(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/x");
	struct fixture *fx = *state;
	struct json_object *rec;
	struct timespec boot, real;
	char buf[64], *line;
	int64_t off;

	assert_int_equal(audit_format_time(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	assert_int_equal(audit_format_time(REAL_NS_EXAMPLE, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-12-04T15:49:43.123456Z");
	assert_int_equal(audit_format_time(-1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
	assert_int_equal(audit_format_time(REAL_NS_EXAMPLE, buf, 27), -ENOSPC);
	assert_int_equal(audit_format_time(REAL_NS_EXAMPLE, buf, 28), 0);

	/* the record dates the event at boot_ns + offset */
	ev.boot_ns = 7000000999ULL;
	line = audit_format_event(&ev, &fx->inst, REAL_NS_EXAMPLE - 7000000000LL);
	rec = parse_record(line);
	assert_string_equal(str_member(rec, "time"), "2026-12-04T15:49:43.123457Z");
	json_object_put(rec);
	free(line);

	/* the offset maps boot time now to real time now, within a second */
	off = audit_boot_to_realtime_offset();
	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	assert_true(llabs((boot.tv_sec * 1000000000LL + boot.tv_nsec + off) -
			  (real.tv_sec * 1000000000LL + real.tv_nsec)) < 1000000000LL);
}

static void test_files_unenforced_said(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/x");
	struct fixture *fx = *state;
	struct json_object *rec, *enforced;

	rec = format_record(&ev, &fx->inst);
	assert_true(json_object_object_get_ex(rec, "enforced", &enforced));
	assert_true(bool_member(enforced, "network"));
	assert_true(bool_member(enforced, "files"));
	json_object_put(rec);

	fx->inst.files_unenforced = true;
	rec = format_record(&ev, &fx->inst);
	assert_true(json_object_object_get_ex(rec, "enforced", &enforced));
	assert_true(bool_member(enforced, "network"));
	assert_false(bool_member(enforced, "files"));
	json_object_put(rec);
}

static void test_mode_and_applied_members(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/etc/passwd");
	struct fixture *fx = *state;
	struct json_object *rec;

	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "mode"), "enforce");
	assert_false(has_member(rec, "applied"));
	json_object_put(rec);

	fx->inst.mode = POLICY_MODE_AUDIT;
	ev.flags = PF_EVENT_NOT_APPLIED;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "mode"), "audit");
	assert_string_equal(str_member(rec, "decision"), "deny");
	assert_false(bool_member(rec, "applied"));
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);

	fx->inst.mode = POLICY_MODE_RECORD;
	ev.flags = 0;
	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.rule_id = OWN_TREE(0);
	ev.object = OWN_TREE(0);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "mode"), "record");
	assert_string_equal(str_member(rec, "decision"), "allow");
	assert_false(has_member(rec, "applied"));
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);
}

static void test_mode_flags_checked(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/x");
	struct fixture *fx = *state;
	struct json_object *rec;

	ev.decision = PF_DECISION_ALLOW;
	ev.flags = PF_EVENT_NOT_APPLIED | 0x80;
	fx->inst.mode = 7;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "mode"), "unknown-7");
	assert_contains(str_member(rec, "bad_event"), "only a denial can be not applied");
	assert_contains(str_member(rec, "bad_event"), "unknown event flags 0x80");
	json_object_put(rec);
}

static void test_reasons_and_rules(void **state)
{
	struct fixture *fx = *state;
	const struct policy *p = &fx->policy;
	struct pf_event ev;
	struct json_object *rec;
	char *want;

	/* a class tree decides, a family's grant allows */
	ev = file_event(PF_ACT_OPEN_READ, "/srv/ehr/a.txt");
	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.object = class_tree(p, "phi.charts", 0);
	ev.rule_id = grant(p, "charts", 0);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "decision"), "allow");
	assert_string_equal(str_member(rec, "reason"), "allowed by rule");
	assert_string_equal(str_member(rec, "reason_code"), "rule");
	assert_int_equal(int_member(rec, "generation"), 1);
	assert_string_equal(str_member(rec, "class"), "phi.charts");
	assert_string_equal(str_member(rec, "tree"), "/srv/ehr");
	assert_int_equal(int_member(rec, "decided_by_id"), ev.object);
	want = rule_description(fx, ev.object);
	assert_string_equal(str_member(rec, "decided_by"), want);
	assert_contains(want, "phi.charts");
	free(want);
	assert_int_equal(int_member(rec, "rule_id"), ev.rule_id);
	want = rule_description(fx, ev.rule_id);
	assert_string_equal(str_member(rec, "rule"), want);
	free(want);
	assert_string_equal(str_member(rec, "family"), "charts");
	assert_string_equal(str_member(rec, "rule_at"), "test.yaml:15:9");
	assert_false(has_member(rec, "backend"));
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);

	/* the deepest tree lacks the access: no grant, the class named */
	ev = file_event(PF_ACT_OPEN_WRITE, "/srv/ehr/archive/2019.txt");
	ev.reason = PF_REASON_ACCESS;
	ev.object = class_tree(p, "phi.archive", 0);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "reason_code"), "access");
	assert_string_equal(
		str_member(rec, "reason"),
		"write access into tree /srv/ehr/archive of class phi.archive, where agent billing holds read");
	assert_string_equal(str_member(rec, "class"), "phi.archive");
	assert_string_equal(str_member(rec, "tree"), "/srv/ehr/archive");
	assert_false(has_member(rec, "rule"));
	assert_false(has_member(rec, "rule_id"));
	assert_false(has_member(rec, "family"));
	json_object_put(rec);

	/* a backend's destination decides */
	ev = net_event(PF_ACT_CONNECT, addr_v4_loopback, 18082, IPPROTO_TCP, AF_INET);
	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.object = backend_dest(p, "ehr-api", 0);
	ev.rule_id = grant(p, "charts", 2);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "backend"), "ehr-api");
	assert_string_equal(str_member(rec, "destination"), "127.0.0.1/32 port 18082 tcp");
	assert_false(has_member(rec, "class"));
	assert_false(has_member(rec, "tree"));
	want = rule_description(fx, ev.object);
	assert_string_equal(str_member(rec, "decided_by"), want);
	free(want);
	assert_string_equal(str_member(rec, "family"), "charts");
	json_object_put(rec);

	/* a hostname destination is named as written, with its port range */
	ev.object = backend_dest(p, "ehr-api", 1);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "destination"), "localhost ports 8000-8100 udp");
	json_object_put(rec);

	/* an own rule is its tree and its grant */
	ev = net_event(PF_ACT_SENDMSG, addr_v6_loopback, 53, IPPROTO_UDP, AF_INET6);
	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.object = OWN_DEST(0);
	ev.rule_id = OWN_DEST(0);
	rec = format_record(&ev, &fx->inst);
	assert_false(has_member(rec, "backend"));
	assert_false(has_member(rec, "family"));
	assert_string_equal(str_member(rec, "destination"), "::1/128 port 53 udp");
	want = rule_description(fx, ev.rule_id);
	assert_string_equal(str_member(rec, "rule"), want);
	assert_string_equal(str_member(rec, "decided_by"), want);
	free(want);
	assert_string_equal(str_member(rec, "rule_at"), "test.yaml:22:9");
	json_object_put(rec);

	ev = net_event(PF_ACT_CONNECT, addr_v4_loopback, 18083, IPPROTO_TCP, AF_INET);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "reason_code"), "no-rule");
	assert_string_equal(str_member(rec, "reason"), "no rule of agent billing covers it");
	assert_int_equal(int_member(rec, "generation"), 1);
	assert_false(has_member(rec, "rule"));
	assert_false(has_member(rec, "rule_id"));
	assert_false(has_member(rec, "decided_by"));
	assert_false(has_member(rec, "decided_by_id"));
	json_object_put(rec);

	ev.reason = PF_REASON_NO_INSTANCE;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "reason_code"), "no-instance");
	assert_contains(str_member(rec, "reason"), "not a confined instance");
	json_object_put(rec);

	ev = file_event(PF_ACT_OPEN_READ, "/deep/x");
	ev.reason = PF_REASON_TOO_DEEP;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "reason_code"), "too-deep");
	assert_contains(str_member(rec, "reason"), "256");
	json_object_put(rec);
}

/* The private temporary directory is runtime.tmp's tree, named by its path. */
static void test_private_tmp_tree(void **state)
{
	struct pf_event ev = file_event(PF_ACT_CREATE, "/run/pinfold/tmp/3.billing.42/f");
	struct fixture *fx = *state;
	struct json_object *rec;

	fx->inst.private_tmp = "/run/pinfold/tmp/3.billing.42";
	ev.object = class_tree(&fx->policy, "runtime.tmp", 0);
	ev.reason = PF_REASON_ACCESS;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "class"), "runtime.tmp");
	assert_string_equal(str_member(rec, "tree"), "/run/pinfold/tmp/3.billing.42");
	assert_string_equal(
		str_member(rec, "reason"),
		"create access into tree /run/pinfold/tmp/3.billing.42 of class runtime.tmp, where agent billing holds no access");
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);
}

static void test_rule_unknown_to_policy(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/x");
	struct fixture *fx = *state;
	struct json_object *rec;

	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.rule_id = 77; /* kind 0: no id */
	ev.object = POLICY_ID(POLICY_ID_CLASS_TREE, POLICY_ID_INDEX_MAX, 0);
	rec = format_record(&ev, &fx->inst);
	assert_int_equal(int_member(rec, "rule_id"), 77);
	assert_false(has_member(rec, "rule"));
	assert_false(has_member(rec, "class"));
	assert_false(has_member(rec, "decided_by"));
	assert_contains(str_member(rec, "bad_event"), "rule id 77");
	assert_contains(str_member(rec, "bad_event"), "object id");
	json_object_put(rec);

	/* a grant index past the family's grants */
	ev.rule_id = grant(&fx->policy, "charts", 3);
	ev.object = OWN_TREE(1);
	rec = format_record(&ev, &fx->inst);
	assert_false(has_member(rec, "rule"));
	assert_false(has_member(rec, "family"));
	assert_false(has_member(rec, "tree"));
	assert_contains(str_member(rec, "bad_event"), "is not in the agent's policy");
	json_object_put(rec);

	/* without a policy there is nothing to describe, and nothing wrong */
	fx->inst.policy = NULL;
	fx->inst.policy_agent = NULL;
	fx->inst.agent = NULL;
	ev.rule_id = 0;
	rec = format_record(&ev, &fx->inst);
	assert_false(has_member(rec, "rule"));
	assert_false(has_member(rec, "bad_event"));
	assert_true(json_object_is_type(json_object_object_get(rec, "agent"), json_type_null));
	json_object_put(rec);
}

/* Events are described by the policy of the generation they carry. */
static void test_generation_described_by_its_policy(void **state)
{
	struct fixture *fx = *state;
	struct audit_generation older[1];
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/old/a.txt");
	struct policy_error err;
	struct json_object *rec;
	struct policy old;
	char *want, *line;

	assert_int_equal(policy_load_buffer("old.yaml", old_policy, strlen(old_policy), &old, &err),
			 0);
	older[0] = (struct audit_generation){.gen = 1,
					     .policy = &old,
					     .policy_agent = policy_find_agent(&old, "billing"),
					     .mode = POLICY_MODE_AUDIT};
	fx->inst.gen = 2;
	fx->inst.older = older;
	fx->inst.n_older = 1;

	/* generation 1: the old policy's class and family, and its mode */
	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.object = class_tree(&old, "phi.old", 0);
	ev.rule_id = POLICY_ID(POLICY_ID_GRANT, family_index(&old, "legacy"), 0);
	rec = format_record(&ev, &fx->inst);
	assert_int_equal(int_member(rec, "generation"), 1);
	assert_string_equal(str_member(rec, "class"), "phi.old");
	assert_string_equal(str_member(rec, "family"), "legacy");
	want = id_description(&old, "billing", ev.rule_id);
	assert_string_equal(str_member(rec, "rule"), want);
	assert_contains(want, "old.yaml:");
	free(want);
	assert_string_equal(str_member(rec, "mode"), "audit");
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);

	/* the same ids under generation 2 are the current policy's */
	ev.gen = 2;
	ev.object = class_tree(&fx->policy, "phi.charts", 0);
	ev.rule_id = grant(&fx->policy, "charts", 0);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "class"), "phi.charts");
	assert_string_equal(str_member(rec, "family"), "charts");
	assert_string_equal(str_member(rec, "mode"), "enforce");
	json_object_put(rec);

	/* a denial line too names the generation's tree */
	ev = file_event(PF_ACT_OPEN_WRITE, "/srv/old/a.txt");
	ev.reason = PF_REASON_ACCESS;
	ev.object = class_tree(&old, "phi.old", 0);
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(
		line,
		"tree /srv/old of class phi.old (old.yaml:4:13) gives this agent read, not write");
	free(line);

	policy_release(&old);
}

/* A generation the writer no longer holds is said to be so; a future one is bad. */
static void test_generation_unknown(void **state)
{
	struct fixture *fx = *state;
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/ehr/a.txt");
	struct json_object *rec;

	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.object = class_tree(&fx->policy, "phi.charts", 0);
	ev.rule_id = grant(&fx->policy, "charts", 0);
	fx->inst.gen = 70;
	ev.gen = 3;
	rec = format_record(&ev, &fx->inst);
	assert_int_equal(int_member(rec, "generation"), 3);
	assert_contains(str_member(rec, "policy_unknown"), "generation 3");
	assert_false(has_member(rec, "class"));
	assert_false(has_member(rec, "rule"));
	assert_false(has_member(rec, "family"));
	assert_int_equal(int_member(rec, "rule_id"), ev.rule_id);
	assert_int_equal(int_member(rec, "decided_by_id"), ev.object);
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);

	ev.gen = 71;
	rec = format_record(&ev, &fx->inst);
	assert_false(has_member(rec, "policy_unknown"));
	assert_false(has_member(rec, "class"));
	assert_contains(str_member(rec, "bad_event"),
			"generation 71 is past the one in force (70)");
	json_object_put(rec);

	/* gen 0 in the writer: one policy describes every generation */
	fx->inst.gen = 0;
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "class"), "phi.charts");
	assert_false(has_member(rec, "bad_event"));
	json_object_put(rec);
}

static void test_random_events_stay_valid(void **state)
{
	struct fixture *fx = *state;
	unsigned seed = 12345, i;
	size_t b;

	for (i = 0; i < 3000; i++) {
		struct pf_event ev;
		struct json_object *rec;
		char *line;

		for (b = 0; b < sizeof(ev); b++)
			((unsigned char *)&ev)[b] = (unsigned char)rand_r(&seed);
		if (i % 3 == 0)
			ev.action = (__u16)(1 + i % (PF_ACT_MAX - 1));
		if (i % 5 == 0)
			ev.rule_id = PF_RULE_NONE;
		line = audit_format_event(&ev, &fx->inst, 0);
		rec = parse_record(line);
		json_object_put(rec);
		free(line);

		ev.decision = PF_DECISION_DENY;
		line = audit_format_denial(&ev, &fx->inst);
		assert_non_null(line);
		assert_true(valid_utf8(line, strlen(line)));
		for (b = 0; line[b]; b++)
			assert_true((unsigned char)line[b] >= 0x20 && line[b] != 0x7f);
		free(line);
	}
}

/* ---- denial lines ---- */

static void test_denial_network_no_rule(void **state)
{
	struct pf_event ev =
		net_event(PF_ACT_CONNECT, addr_v4_loopback, 18083, IPPROTO_TCP, AF_INET);
	struct fixture *fx = *state;
	const struct policy_dest *d;
	struct policy p;
	char *line;

	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_string_equal(
		line,
		"pinfold: denied connect 127.0.0.1:18083/tcp (agent billing, pid 42, curl): no network rule covers it; allow with: network: {to: 127.0.0.1, port: 18083, proto: tcp}");
	load_hint(hint_of(line), &p);
	d = &p.agents[0].dests[0];
	assert_int_equal(d->port_lo, 18083);
	assert_int_equal(d->proto, IPPROTO_TCP);
	assert_memory_equal(d->addr, addr_v4_loopback, 16);
	assert_int_equal(d->prefix, 128);
	policy_release(&p);
	free(line);

	ev = net_event(PF_ACT_SENDMSG, addr_v6_loopback, 5353, IPPROTO_UDP, AF_INET6);
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "denied sendmsg [::1]:5353/udp ");
	load_hint(hint_of(line), &p);
	d = &p.agents[0].dests[0];
	assert_int_equal(d->port_lo, 5353);
	assert_int_equal(d->proto, IPPROTO_UDP);
	assert_memory_equal(d->addr, addr_v6_loopback, 16);
	policy_release(&p);
	free(line);
}

static void test_denial_not_applied_would_deny(void **state)
{
	struct pf_event ev =
		net_event(PF_ACT_CONNECT, addr_v4_loopback, 18083, IPPROTO_TCP, AF_INET);
	struct fixture *fx = *state;
	char *line;

	fx->inst.mode = POLICY_MODE_AUDIT;
	ev.flags = PF_EVENT_NOT_APPLIED;
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_string_equal(
		line,
		"pinfold: would deny connect 127.0.0.1:18083/tcp (agent billing, pid 42, curl): no network rule covers it; allow with: network: {to: 127.0.0.1, port: 18083, proto: tcp}");
	free(line);

	ev.flags = 0;
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "pinfold: denied connect ");
	free(line);
}

static void test_denial_file_no_rule(void **state)
{
	static const struct {
		unsigned action;
		const char *path, *tree, *access;
	} cases[] = {
		{PF_ACT_OPEN_READ, "/srv/x/dir/f.txt", "/srv/x/dir/f.txt", "read"},
		{PF_ACT_OPEN_WRITE, "/srv/x/dir/f.txt", "/srv/x/dir/f.txt", "read-write"},
		{PF_ACT_CREATE, "/srv/x/dir/new.txt", "/srv/x/dir", "read-write"},
		{PF_ACT_UNLINK, "/srv/x/dir/", "/srv/x", "read-write"},
		{PF_ACT_RENAME, "/top", "/", "read-write"},
		{PF_ACT_LINK, "/srv/a b/it's \"here\", {x}: #1\n", "/srv/a b", "read-write"},
		{PF_ACT_OPEN_READ, "/srv/a b/it's \"here\", {x}: #1\n",
		 "/srv/a b/it's \"here\", {x}: #1\n", "read"},
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pf_event ev = file_event(cases[i].action, cases[i].path);
		char *line = audit_format_denial(&ev, &fx->inst);
		struct policy p;

		assert_non_null(line);
		assert_contains(
			line, ": no data class or files rule holds it; allow with: files: {path: ");
		assert_null(strchr(line, '\n'));
		load_hint(hint_of(line), &p);
		assert_string_equal(p.agents[0].trees[0].path, cases[i].tree);
		assert_int_equal(p.agents[0].trees[0].access, strcmp(cases[i].access, "read")
								      ? POLICY_ACCESS_READ_WRITE
								      : POLICY_ACCESS_READ);
		policy_release(&p);
		free(line);
	}
}

/*
 * Load the hint "{class: C, actions: [A]}" as a grant of a family of a
 * policy where C exists, so that the test proves the loader takes it.
 */
static void load_grant_hint(const char *hint, const char *class, struct policy *p)
{
	const char *among = strstr(hint, " among the grants");
	struct policy_error err;
	char yaml[1024];

	assert_non_null(among);
	snprintf(yaml, sizeof(yaml),
		 "version: 1\nclasses:\n  %s:\n    trees: [/srv/c]\nfamilies:\n  f:\n    grants:\n"
		 "      - %.*s\nagents:\n  t:\n    families: [f]\n",
		 class, (int)(among - hint), hint);
	if (policy_load_buffer("hint.yaml", yaml, strlen(yaml), p, &err))
		fail_msg("hint does not load: %s: %u:%u %s", yaml, err.line, err.column, err.msg);
}

static void test_denial_class_lacks_access(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_WRITE, "/srv/ehr/archive/2019.txt");
	struct fixture *fx = *state;
	const struct policy_class *c = policy_find_class(&fx->policy, "phi.archive");
	const struct policy_family *f;
	struct policy p;
	char want[512], *line;

	ev.reason = PF_REASON_ACCESS;
	ev.object = class_tree(&fx->policy, "phi.archive", 0);
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	snprintf(
		want, sizeof(want),
		"pinfold: denied open-write /srv/ehr/archive/2019.txt (agent billing, pid 42, python3): tree /srv/ehr/archive of class phi.archive (test.yaml:%u:%u) gives this agent read, not write; allow with: {class: phi.archive, actions: [write]} among the grants of a family of agent billing",
		c->trees[0].at.line, c->trees[0].at.column);
	assert_string_equal(line, want);
	assert_true(c->trees[0].at.line > 0);

	load_grant_hint(hint_of(line), "phi.archive", &p);
	f = policy_find_family(&p, "f");
	assert_non_null(f);
	assert_int_equal(f->grants[0].actions, POLICY_WRITE);
	policy_release(&p);
	free(line);

	/* exec needs exec: named as such */
	ev = file_event(PF_ACT_EXEC, "/srv/ehr/archive/tool");
	ev.reason = PF_REASON_ACCESS;
	ev.object = class_tree(&fx->policy, "phi.archive", 0);
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "gives this agent read, not exec; allow with: {class: phi.archive, "
			      "actions: [exec]}");
	free(line);
}

static void test_denial_own_rule_lacks_access(void **state)
{
	struct pf_event ev = file_event(PF_ACT_UNLINK, "/srv/own/old.txt");
	struct fixture *fx = *state;
	const struct policy_tree *t = &fx->inst.policy_agent->trees[0];
	char want[512], *line;

	ev.reason = PF_REASON_ACCESS;
	ev.object = OWN_TREE(0);
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	snprintf(
		want, sizeof(want),
		"pinfold: denied unlink /srv/own/old.txt (agent billing, pid 42, python3): tree /srv/own (test.yaml:%u:%u) gives this agent read, not delete; allow with: access: [read, delete] in the rule at test.yaml:%u:%u",
		t->at.line, t->at.column, t->at.line, t->at.column);
	assert_string_equal(line, want);
	assert_true(t->at.line > 0);
	free(line);
}

static void test_denial_escapes_controls(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/a\nb/\x1b[31mred/\xc2\x9b"
							  "1m/\xe2\x80\xae"
							  "txt.exe/\xff/c\\d/\x7f");
	struct fixture *fx = *state;
	char *line;
	size_t i;

	set_comm(&ev, "evil\x1b]0;x\x07");
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			fail_msg("control byte 0x%02x at %zu in %s", line[i], i, line);
	assert_true(valid_utf8(line, strlen(line)));
	assert_contains(
		line,
		"denied open-read /srv/a\\nb/\\x1b[31mred/\\u009b1m/\\u202etxt.exe/\\xff/c\\\\d/\\x7f (agent billing, pid 42, evil\\x1b]0;x\\x07): ");
	assert_null(strstr(line, "\xe2\x80\xae"));
	free(line);

	/* characters that show as nothing: two names must not look the same */
	ev = file_event(PF_ACT_OPEN_READ, "/srv/a\xe2\x80\x8b"
					  "b\xef\xbb\xbf\xc2\xad"
					  "c\xf3\xa0\x80\x81"
					  "d\xe3\x85\xa4");
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "/srv/a\\u200bb\\ufeff\\u00adc\\U000e0001d\\u3164 (agent");
	free(line);
}

static void test_denial_without_a_policy_rule(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/etc/passwd");
	struct fixture *fx = *state;
	char *line;

	ev.reason = PF_REASON_NO_INSTANCE;
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "not a confined instance; no policy rule can allow it");
	assert_null(strstr(line, "allow with"));
	free(line);

	ev = net_event(PF_ACT_SENDMSG, addr_v4_loopback, 9, 132, AF_INET);
	ev.reason = PF_REASON_PROTOCOL;
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(line, "denied sendmsg 127.0.0.1:9/proto-132 ");
	assert_contains(line, "protocol 132 is neither tcp nor udp; no policy rule can allow it");
	free(line);

	ev = file_event(PF_ACT_OPEN_READ, "/a/b/c");
	ev.reason = PF_REASON_TOO_DEEP;
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_contains(
		line,
		"no tree within the 256 nearest ancestors holds it; allow with: files: {path: /a/b/c, access: read}");
	free(line);
}

static void test_denial_refuses_allowed_events(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/ehr/a");
	struct fixture *fx = *state;

	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	errno = 0;
	assert_null(audit_format_denial(&ev, &fx->inst));
	assert_int_equal(errno, EINVAL);
}

/* ---- notes and writing ---- */

static void test_note_records(void **state)
{
	struct fixture *fx = *state;
	struct json_object *rec, *enforced;
	char *line;

	fx->inst.files_unenforced = true;
	line = audit_format_note(
		"instance-start", &fx->inst,
		"{\"pid\": 7, \"cgroup\": \"/sys/fs/cgroup/pinfold/billing.3f2a\"}\n");
	rec = parse_record(line);
	assert_int_equal(int_member(rec, "schema"), 3);
	assert_string_equal(str_member(rec, "kind"), "instance-start");
	assert_string_equal(str_member(rec, "agent"), "billing");
	assert_string_equal(str_member(rec, "instance"), "billing.3f2a");
	assert_int_equal(strlen(str_member(rec, "time")), strlen("2026-12-04T15:49:43.123456Z"));
	assert_int_equal(int_member(rec, "pid"), 7);
	assert_string_equal(str_member(rec, "cgroup"), "/sys/fs/cgroup/pinfold/billing.3f2a");
	assert_true(json_object_object_get_ex(rec, "enforced", &enforced));
	assert_false(bool_member(enforced, "files"));
	json_object_put(rec);
	free(line);

	line = audit_format_note("instance-exit", &fx->inst, NULL);
	rec = parse_record(line);
	assert_string_equal(str_member(rec, "kind"), "instance-exit");
	json_object_put(rec);
	free(line);

	line = audit_format_events_lost(&fx->inst, 7, 10, 16, "kernel");
	rec = parse_record(line);
	assert_string_equal(str_member(rec, "kind"), "events-lost");
	assert_int_equal(int_member(rec, "count"), 7);
	assert_int_equal(int_member(rec, "first_seq"), 10);
	assert_int_equal(int_member(rec, "last_seq"), 16);
	assert_string_equal(str_member(rec, "cause"), "kernel");
	json_object_put(rec);
	free(line);
	line = audit_format_events_lost(&fx->inst, 3, AUDIT_SEQ_UNKNOWN, 0, "writer");
	rec = parse_record(line);
	assert_false(has_member(rec, "first_seq"));
	assert_string_equal(str_member(rec, "cause"), "writer");
	json_object_put(rec);
	free(line);
}

/* The records of a policy change: applied, or rejected with the error's place. */
static void test_policy_change_notes(void **state)
{
	static const char *const kinds[] = {"policy-applied", "policy-rejected"};
	struct fixture *fx = *state;
	struct json_object *rec;
	char *line;
	size_t i;

	for (i = 0; i < 2; i++) {
		line = audit_format_note(kinds[i], &fx->inst,
					 "{\"generation\": 2, \"file\": \"p.yaml\", \"line\": 3}");
		rec = parse_record(line);
		assert_string_equal(str_member(rec, "kind"), kinds[i]);
		assert_int_equal(int_member(rec, "generation"), 2);
		assert_string_equal(str_member(rec, "file"), "p.yaml");
		json_object_put(rec);
		free(line);
	}
}

/* Resolved hostnames are keyed by the destination they belong to. */
static void test_resolved_keyed_by_destination(void **state)
{
	struct fixture *fx = *state;
	struct compiled_name names[2] = {
		{.object = backend_dest(&fx->policy, "ehr-api", 1),
		 .host = "localhost",
		 .n_addrs = 2},
		{.object = 0x0fffffff, .host = "gone.example", .n_addrs = 1},
	};
	struct json_object *res, *list;
	char *key;

	memcpy(names[0].addrs[0], addr_v4_loopback, 16);
	memcpy(names[0].addrs[1], addr_v6_loopback, 16);
	memcpy(names[1].addrs[0], addr_v6_loopback, 16);
	res = audit_resolved_json(&fx->policy, fx->inst.policy_agent, names, 2);
	assert_non_null(res);
	key = rule_description(fx, names[0].object);
	assert_true(json_object_object_get_ex(res, key, &list));
	assert_int_equal(json_object_array_length(list), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(list, 0)),
			    "127.0.0.1");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(list, 1)), "::1");
	free(key);
	/* an id the policy does not have still shows, by number and host */
	assert_true(json_object_object_get_ex(res, "object 268435455 (gone.example)", &list));
	json_object_put(res);
}

static void test_note_detail_made_valid_utf8(void **state)
{
	struct fixture *fx = *state;
	struct json_object *rec, *nested, *list;
	char *line;

	line = audit_format_note("instance-start", &fx->inst,
				 "{\"command\": \"caf\xe9\", \"n\": null, \"deep\": "
				 "{\"k\xff\": [\"\xc0\xaf\", 1, true, \"ok\\u00e9\"]}}");
	rec = parse_record(line);
	assert_string_equal(str_member(rec, "command"), "caf\xef\xbf\xbd");
	assert_true(has_member(rec, "n"));
	assert_true(json_object_object_get_ex(rec, "deep", &nested));
	assert_true(json_object_object_get_ex(nested, "k\xef\xbf\xbd", &list));
	assert_int_equal(json_object_array_length(list), 4);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(list, 0)),
			    "\xef\xbf\xbd\xef\xbf\xbd");
	assert_int_equal(json_object_get_int(json_object_array_get_idx(list, 1)), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(list, 3)),
			    "ok\xc3\xa9");
	json_object_put(rec);
	free(line);
}

static void test_note_rejects_bad_detail(void **state)
{
	static const char *const bad[] = {
		"", "{", "[1]", "42", "{} x", "{\"a\":1}{}", "{\"kind\": 1}", "{\"time\": \"now\"}",
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (audit_format_note("instance-start", &fx->inst, bad[i]))
			fail_msg("detail %s accepted", bad[i]);
		assert_int_equal(errno, EINVAL);
	}
	errno = 0;
	assert_null(audit_format_note("instance-paused", &fx->inst, NULL));
	assert_int_equal(errno, EINVAL);
}

/* A class with log_paths: keyed-hash: the record keeps HMAC-SHA256, never the path. */
static void test_keyed_hash_path(void **state)
{
	static const unsigned char key[32] = {1, 2, 3};
	struct pf_event ev = file_event(PF_ACT_OPEN_WRITE, "/srv/notes/jane-doe.txt");
	struct fixture *fx = *state;
	struct json_object *rec;
	char hex[AUDIT_HMAC_HEX], obj[100], *line;

	use_policy(fx, log_policy);
	ev.reason = PF_REASON_ACCESS;
	ev.object = class_tree(&fx->policy, "phi.notes", 0);
	/* no key: the path is withheld all the same */
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "object"), "(path withheld: no path key)");
	assert_false(has_member(rec, "path"));
	json_object_put(rec);

	fx->inst.path_key = key;
	fx->inst.path_key_len = sizeof(key);
	assert_int_equal(audit_path_hmac(key, sizeof(key), ev.path, strlen(ev.path), hex), 0);
	assert_int_equal(strlen(hex), 64);
	snprintf(obj, sizeof(obj), "hmac-sha256:%s", hex);
	line = audit_format_event(&ev, &fx->inst, 0);
	assert_non_null(line);
	assert_null(strstr(line, "jane-doe"));
	rec = parse_record(line);
	assert_string_equal(str_member(rec, "object"), obj);
	assert_string_equal(str_member(rec, "path_hmac"), hex);
	assert_false(has_member(rec, "path"));
	assert_string_equal(str_member(rec, "class"), "phi.notes");
	json_object_put(rec);
	free(line);
	line = audit_format_denial(&ev, &fx->inst);
	assert_non_null(line);
	assert_null(strstr(line, "jane-doe"));
	assert_non_null(strstr(line, obj));
	free(line);

	/* another key, another hash; the same key, the same hash */
	assert_int_equal(audit_path_hmac(key + 1, sizeof(key) - 1, ev.path, strlen(ev.path), obj),
			 0);
	assert_string_not_equal(obj, hex);
	assert_int_equal(audit_path_hmac(NULL, 0, ev.path, 3, obj), -ENOKEY);
}

/* Whom the instance acts for, and its task, are in every record. */
static void test_on_behalf_of_and_task(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/x");
	struct fixture *fx = *state;
	struct json_object *rec;
	char *line;

	fx->inst.on_behalf_of = "alice@clinic";
	fx->inst.task = "T-17";
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "on_behalf_of"), "alice@clinic");
	assert_string_equal(str_member(rec, "task"), "T-17");
	json_object_put(rec);
	line = audit_format_note("instance-exit", &fx->inst, NULL);
	rec = parse_record(line);
	assert_string_equal(str_member(rec, "task"), "T-17");
	json_object_put(rec);
	free(line);
	/* a detail may not replace them */
	assert_null(audit_format_note("instance-exit", &fx->inst, "{\"task\": \"other\"}"));
}

/* Retention classes: PHI decisions, routine allowed ones, other denials. */
static void test_retention_class(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/notes/a.txt");
	struct fixture *fx = *state;

	use_policy(fx, log_policy);
	ev.object = class_tree(&fx->policy, "phi.notes", 0);
	assert_string_equal(audit_event_retain(&ev, &fx->inst), "phi");
	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	assert_string_equal(audit_event_retain(&ev, &fx->inst), "phi");
	ev.object = class_tree(&fx->policy, "scratch", 0);
	assert_string_equal(audit_event_retain(&ev, &fx->inst), "routine");
	ev.decision = PF_DECISION_DENY;
	ev.reason = PF_REASON_ACCESS;
	assert_string_equal(audit_event_retain(&ev, &fx->inst), "decision");
	ev.object = PF_RULE_NONE;
	assert_string_equal(audit_event_retain(&ev, &fx->inst), "decision");
}

/* The sequence number, and the audit-unavailable refusal. */
static void test_seq_and_audit_unavailable(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/notes/a");
	struct fixture *fx = *state;
	struct json_object *rec;

	use_policy(fx, log_policy);
	ev.seq = 1234567;
	ev.reason = PF_REASON_AUDIT;
	ev.object = class_tree(&fx->policy, "phi.notes", 0);
	rec = format_record(&ev, &fx->inst);
	assert_true(json_object_get_uint64(json_object_object_get(rec, "seq")) == 1234567);
	assert_string_equal(str_member(rec, "reason_code"), "audit-unavailable");
	assert_non_null(strstr(str_member(rec, "reason"), "phi.notes is audit-required"));
	json_object_put(rec);
}

/* The grants an instance holds, with who approved each; and in a decision. */
static void test_grants_and_approval(void **state)
{
	struct pf_event ev = file_event(PF_ACT_OPEN_READ, "/srv/notes/a");
	struct fixture *fx = *state;
	struct json_object *list, *g, *rec;

	use_policy(fx, log_policy);
	list = audit_grants_json(&fx->policy, fx->inst.policy_agent);
	assert_non_null(list);
	assert_int_equal(json_object_array_length(list), 2);
	g = json_object_array_get_idx(list, 0);
	assert_contains(str_member(g, "grant"), "family notes grants read on phi.notes");
	assert_string_equal(str_member(g, "approved_by"), "dr-lee");
	assert_false(has_member(json_object_array_get_idx(list, 1), "approved_by"));
	json_object_put(list);

	ev.decision = PF_DECISION_ALLOW;
	ev.reason = PF_REASON_RULE;
	ev.object = class_tree(&fx->policy, "phi.notes", 0);
	ev.rule_id = grant(&fx->policy, "notes", 0);
	rec = format_record(&ev, &fx->inst);
	assert_string_equal(str_member(rec, "approved_by"), "dr-lee");
	json_object_put(rec);
	ev.rule_id = grant(&fx->policy, "notes", 1);
	rec = format_record(&ev, &fx->inst);
	assert_false(has_member(rec, "approved_by"));
	json_object_put(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_action_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_route_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_task_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_abstract_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_object_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_and_link_sides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v4_mapped_says_via, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_protocol_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_replaced_and_kept_in_hex, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_comm_bounded_and_sanitized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_path_flagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_action_still_a_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_decision_and_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_formatting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_unenforced_said, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_and_applied_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_flags_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reasons_and_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_tmp_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_unknown_to_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_described_by_its_policy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_generation_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_events_stay_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_network_no_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_not_applied_would_deny, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_denial_file_no_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_class_lacks_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_own_rule_lacks_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_escapes_controls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_without_a_policy_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_refuses_allowed_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_note_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_change_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolved_keyed_by_destination, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_note_detail_made_valid_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_note_rejects_bad_detail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyed_hash_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_behalf_of_and_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_class, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_and_audit_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grants_and_approval, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
