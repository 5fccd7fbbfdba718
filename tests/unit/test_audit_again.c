// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_audit_again.c - decision records written as text (userspace/audit.c,
 * audit_format_event) against json-c, and the text kept for "the same event
 * again" against a record made afresh.
 *
 * Events are random: random comms and paths (every byte value, NUL in the
 * middle, invalid UTF-8), every action, addresses IPv4-mapped or not. Each
 * record must parse with json-c and serialise back to the same bytes (the
 * text formatter claims json-c's escapes), and the record made right after
 * another event (the kept text possibly reused) must equal the one made
 * with nothing kept (audit_format_forget), whatever single byte of the
 * event differs from the one before.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "userspace/audit.h"

static const char policy_text[] = "version: 1\n"
				  "classes:\n"
				  "  phi.charts:\n"
				  "    trees: [/srv/ehr]\n"
				  "  phi.notes:\n"
				  "    trees: [/srv/notes]\n"
				  "    log_paths: keyed-hash\n"
				  "backends:\n"
				  "  ehr-api:\n"
				  "    destinations:\n"
				  "      - { to: 127.0.0.1, port: 18082, proto: tcp }\n"
				  "families:\n"
				  "  charts:\n"
				  "    grants:\n"
				  "      - { class: phi.charts, actions: read-write }\n"
				  "      - { class: phi.notes, actions: [read] }\n"
				  "      - { backend: ehr-api, actions: [connect] }\n"
				  "agents:\n"
				  "  billing:\n"
				  "    families: [charts]\n"
				  "    network:\n"
				  "      - { to: \"::1\", port: 53, proto: udp }\n";

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* a byte a comm or path may hold, biased toward the troublesome ones */
static char rnd_byte(void)
{
	static const char odd[] = {'"',        '\\',       '/',        '\n',      '\r', '\t',
				   '\b',       '\f',       0x7f,       0x1b,      0x01, (char)0xc3,
				   (char)0xa9, (char)0xff, (char)0xe2, (char)0x80};

	switch (rnd() % 4) {
	case 0:
		return odd[rnd() % sizeof(odd)];
	case 1:
		return (char)(rnd() % 256);
	default:
		return (char)('a' + rnd() % 26);
	}
}

static void rnd_event(struct pf_event *ev)
{
	size_t i, n;

	memset(ev, 0, sizeof(*ev));
	ev->boot_ns = rnd() % (1ull << 50);
	ev->seq = rnd() % 1000000;
	ev->cgroup_id = 1 + rnd() % 3;
	ev->pid = (uint32_t)(1 + rnd() % 5);
	ev->uid = (uint32_t)(rnd() % 3);
	ev->action = (uint16_t)(1 + rnd() % (PF_ACT_MAX - 1));
	ev->decision = (uint8_t)(1 + rnd() % 2);
	ev->reason = (uint8_t)(rnd() % 15);
	ev->side = (uint8_t)(rnd() % 3);
	ev->rule_id = rnd() % 2 ? PF_RULE_NONE : (uint32_t)(rnd() % 8);
	ev->object = rnd() % 2 ? PF_RULE_NONE : (uint32_t)(rnd() % 8);
	ev->family = rnd() % 2 ? AF_INET : AF_INET6;
	ev->proto = rnd() % 2 ? IPPROTO_TCP : IPPROTO_UDP;
	ev->port = (uint16_t)rnd();
	ev->ino = rnd() % 3 ? 0 : rnd();
	ev->dev = rnd() % 3 ? 0 : rnd() % (1ull << 32);
	for (i = 0; i < 16; i++)
		ev->addr[i] = (uint8_t)rnd();
	if (rnd() % 2) {
		memset(ev->addr, 0, 10);
		ev->addr[10] = ev->addr[11] = 0xff;
	}
	n = rnd() % 16;
	for (i = 0; i < n; i++)
		ev->comm[i] = rnd_byte();
	n = rnd() % 3 ? rnd() % 40 : rnd() % sizeof(ev->path);
	if (rnd() % 2 && n) {
		ev->path[0] = '/';
		for (i = 1; i < n; i++)
			ev->path[i] = rnd() % 5 ? rnd_byte() : '/';
	} else {
		memcpy(ev->path, rnd() % 2 ? "/srv/notes/a" : "/srv/ehr/x/y", n < 13 ? n : 13);
	}
	if (n && n < sizeof(ev->path) && rnd() % 8 == 0)
		ev->path[rnd() % n] = '\0'; /* a NUL in the middle */
}

/* what the record says of ev's number, task and address */
static void check_members(struct json_object *o, const struct pf_event *ev, const char *line)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct json_object *m;
	char want[INET6_ADDRSTRLEN];

	if (!json_object_object_get_ex(o, "seq", &m) || json_object_get_uint64(m) != ev->seq ||
	    !json_object_object_get_ex(o, "pid", &m) || json_object_get_int64(m) != ev->pid ||
	    !json_object_object_get_ex(o, "cgroup_id", &m) ||
	    json_object_get_uint64(m) != ev->cgroup_id)
		fail_msg("seq, pid or cgroup_id wrong: %s", line);
	if (!json_object_object_get_ex(o, "address", &m))
		return;
	if (!memcmp(ev->addr, mapped, 12))
		inet_ntop(AF_INET, ev->addr + 12, want, sizeof(want));
	else
		inet_ntop(AF_INET6, ev->addr, want, sizeof(want));
	if (strcmp(json_object_get_string(m), want))
		fail_msg("address %s, expected %s: %s", json_object_get_string(m), want, line);
}

/* the record must read back with json-c and serialise to the same bytes */
static void check_json(const char *line, const struct pf_event *ev)
{
	struct json_object *o = json_tokener_parse(line);
	const char *again;

	if (!o)
		fail_msg("json-c cannot parse %s", line);
	again = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (strcmp(again, line))
		fail_msg("not json-c's text:\n  made:   %s\n  json-c: %s", line, again);
	check_members(o, ev, line);
	json_object_put(o);
}

static void run(struct audit_instance *inst, unsigned rounds)
{
	struct pf_event prev, ev;
	char *kept, *fresh;
	unsigned i;

	rnd_event(&prev);
	audit_format_forget();
	free(audit_format_event(&prev, inst, 0));
	for (i = 0; i < rounds; i++) {
		if (rnd() % 8 == 0) {
			rnd_event(&ev);
		} else {
			/* the event before, with one byte changed (any byte:
			 * a field, padding, or the path after its NUL) */
			ev = prev;
			if (rnd() % 4)
				((unsigned char *)&ev)[rnd() % sizeof(ev)] ^=
					(unsigned char)(1u << rnd() % 8);
		}
		ev.boot_ns = rnd() % (1ull << 50);
		ev.seq++;
		kept = audit_format_event(&ev, inst, 0);
		audit_format_forget();
		fresh = audit_format_event(&ev, inst, 0);
		assert_non_null(kept);
		assert_non_null(fresh);
		if (strcmp(kept, fresh))
			fail_msg("round %u: the record after another differs from one made "
				 "afresh:\n  after:  %s\n  afresh: %s",
				 i, kept, fresh);
		check_json(fresh, &ev);
		check_json(kept, &ev);
		free(kept);
		free(fresh);
		/* leave this event's text kept for the next round */
		audit_format_forget();
		free(audit_format_event(&ev, inst, 0));
		prev = ev;
	}
}

static void test_random_events(void **state)
{
	static const unsigned char key[32] = {1, 2, 3};
	struct policy policy = {};
	struct policy_error err;
	struct audit_instance inst = {
		.agent = "billing",
		.instance = "billing.3f2a",
		.task = "t\"1\n\x7f",
		.on_behalf_of = "dr \\lee",
		.path_key = key,
		.path_key_len = sizeof(key),
	};

	(void)state;
	assert_int_equal(
		policy_load_buffer("again.yaml", policy_text, strlen(policy_text), &policy, &err),
		0);
	inst.policy = &policy;
	inst.policy_agent = policy_find_agent(&policy, "billing");
	assert_non_null(inst.policy_agent);
	run(&inst, 20000);
	inst.mode = 1;
	inst.files_unenforced = true;
	run(&inst, 5000);
	audit_format_forget();
	policy_release(&policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
