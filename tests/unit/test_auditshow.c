// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_auditshow.c - reading an audit log for a person: times given on the
 * command line (RFC 3339, a date, 10m 2h 3d), each filter of `pinfold
 * audit show` on schema-3 record lines, the readable line of each kind of
 * record, escaping of what a record holds, records with members missing or
 * of the wrong type; and the reader below it: a log's files in order, gzip
 * and plain, file and line numbers, a last line without '\n', long lines,
 * corrupt gzip, following a file that grows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "userspace/auditread.h"
#include "userspace/auditshow.h"

#define US 1000000LL
#define T_20261204_154943 1796399383LL /* 2026-12-04T15:49:43Z */
#define T_20261204 1796342400LL        /* 2026-12-04T00:00:00Z */

/* ---- times ---- */

static int64_t parse_ok(const char *s)
{
	int64_t us = -1;

	assert_int_equal(auditshow_parse_time(s, 0, &us), 0);
	return us;
}

static void test_time_rfc3339(void **state)
{
	(void)state;
	assert_true(parse_ok("2026-12-04T15:49:43Z") == T_20261204_154943 * US);
	assert_true(parse_ok("2026-12-04t15:49:43z") == T_20261204_154943 * US);
	assert_true(parse_ok("2026-12-04 15:49:43") == T_20261204_154943 * US);
	assert_true(parse_ok("2026-12-04T15:49:43.123456Z") == T_20261204_154943 * US + 123456);
	/* a fraction shorter or longer than microseconds */
	assert_true(parse_ok("2026-12-04T15:49:43.5Z") == T_20261204_154943 * US + 500000);
	assert_true(parse_ok("2026-12-04T15:49:43.1234569Z") == T_20261204_154943 * US + 123456);
	/* an offset east of UTC is earlier in UTC */
	assert_true(parse_ok("2026-12-04T17:49:43+02:00") == T_20261204_154943 * US);
	assert_true(parse_ok("2026-12-04T10:19:43-05:30") == T_20261204_154943 * US);
	/* seconds may be left out */
	assert_true(parse_ok("2026-12-04T15:49Z") == (T_20261204_154943 - 43) * US);
}

static void test_time_date(void **state)
{
	(void)state;
	assert_true(parse_ok("2026-12-04") == T_20261204 * US);
	assert_true(parse_ok("2024-02-29") == 1709164800LL * US);
	assert_true(parse_ok("1970-01-01") == 0);
}

static void test_time_relative(void **state)
{
	int64_t now = 1800000000LL * US, us;

	(void)state;
	assert_int_equal(auditshow_parse_time("10m", now, &us), 0);
	assert_true(us == now - 600 * US);
	assert_int_equal(auditshow_parse_time("2h", now, &us), 0);
	assert_true(us == now - 7200 * US);
	assert_int_equal(auditshow_parse_time("3d", now, &us), 0);
	assert_true(us == now - 3 * 86400 * US);
	assert_int_equal(auditshow_parse_time("30s", now, &us), 0);
	assert_true(us == now - 30 * US);
	assert_int_equal(auditshow_parse_time("1w", now, &us), 0);
	assert_true(us == now - 7 * 86400 * US);
	assert_int_equal(auditshow_parse_time("0m", now, &us), 0);
	assert_true(us == now);
}

static void test_time_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"10",
		"10x",
		"m",
		"-5m",
		"10mm",
		"1 h",
		"yesterday",
		"2026-02-29",
		"2026-13-01",
		"2026-00-10",
		"2026-12-32",
		"2026-12-4",
		"2026-12-04X",
		"2026-12-04T",
		"2026-12-04T25:00:00Z",
		"2026-12-04T15:60Z",
		"2026-12-04T15:49:61Z",
		"2026-12-04T15:49:43.Z",
		"2026-12-04T15:49:43+2",
		"2026-12-04T15:49:43+02",
		"2026-12-04T15:49:43+24:00",
		"2026-12-04T15:49:43Z ",
		"2026-12-04T15:49:43ZZ",
	};
	int64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (auditshow_parse_time(bad[i], 0, &us) != -EINVAL)
			fail_msg("'%s' was accepted as a time", bad[i]);
	}
}

/* ---- records and filters ---- */

static const char deny_line[] =
	"{\"schema\":3,\"id\":4567,\"prev\":\"" /* */
	"0000000000000000000000000000000000000000000000000000000000000000\","
	"\"retain\":\"phi\",\"kind\":\"decision\",\"time\":\"2026-12-04T15:49:43.123456Z\","
	"\"agent\":\"billing\",\"instance\":\"billing.3f2a\",\"on_behalf_of\":\"alice\","
	"\"task\":\"T-17\",\"seq\":12,\"pid\":42,\"uid\":1000,\"comm\":\"python3\","
	"\"cgroup_id\":77,\"action\":\"open-write\",\"object\":\"/srv/ehr/archive/2019.txt\","
	"\"path\":\"/srv/ehr/archive/2019.txt\",\"dev\":\"8:1\",\"ino\":131,"
	"\"decision\":\"deny\",\"reason\":\"write access into tree /srv/ehr/archive of class "
	"phi.archive, where agent billing holds read\",\"reason_code\":\"access\","
	"\"generation\":1,\"class\":\"phi.archive\",\"tree\":\"/srv/ehr/archive\","
	"\"decided_by_id\":268566528,\"decided_by\":\"classes.yaml:7:13 class phi.archive "
	"tree /srv/ehr/archive\",\"mode\":\"enforce\","
	"\"enforced\":{\"network\":true,\"files\":true}}";

static const char allow_line[] =
	"{\"schema\":3,\"id\":4568,\"prev\":\"ab\",\"retain\":\"routine\",\"kind\":\"decision\","
	"\"time\":\"2026-12-04T16:00:00.5Z\",\"agent\":\"crm\",\"instance\":\"crm.01\","
	"\"seq\":13,\"pid\":43,\"uid\":1001,\"comm\":\"curl\",\"action\":\"connect\","
	"\"object\":\"127.0.0.1:18082/tcp\",\"address\":\"127.0.0.1\",\"port\":18082,"
	"\"protocol\":\"tcp\",\"decision\":\"allow\",\"reason\":\"allowed by rule\","
	"\"reason_code\":\"rule\",\"generation\":3,\"backend\":\"crm-api\","
	"\"decided_by\":\"backends.yaml:11:9 backend crm-api 127.0.0.1/32 port 18082 tcp\","
	"\"rule\":\"families.yaml:17:9 family crm grants connect on crm-api\","
	"\"family\":\"crm\",\"rule_at\":\"families.yaml:17:9\",\"mode\":\"enforce\","
	"\"enforced\":{\"network\":true,\"files\":true}}";

/* an agent in audit mode: denied, not applied */
static const char would_deny_line[] =
	"{\"schema\":3,\"id\":4569,\"prev\":\"ab\",\"retain\":\"decision\",\"kind\":\"decision\","
	"\"time\":\"2026-12-05T00:00:00Z\",\"agent\":\"crm\",\"instance\":\"crm.01\","
	"\"pid\":43,\"uid\":1001,\"comm\":\"curl\",\"action\":\"connect\","
	"\"object\":\"127.0.0.1:18083/tcp\",\"decision\":\"deny\","
	"\"reason\":\"no rule of agent crm covers it\",\"reason_code\":\"no-rule\","
	"\"mode\":\"audit\",\"applied\":false}";

static const char start_line[] =
	"{\"schema\":3,\"id\":5,\"prev\":\"ab\",\"retain\":\"lifecycle\","
	"\"kind\":\"instance-start\",\"time\":\"2026-12-04T16:05:53.361511Z\","
	"\"agent\":\"billing\",\"instance\":\"billing.3f2a\",\"on_behalf_of\":\"alice\","
	"\"task\":\"T-17\",\"policy\":\"/etc/pinfold/policy\",\"policy_sha256\":\"e4\","
	"\"files\":[\"/etc/pinfold/policy/agents.yaml\"],\"generation\":1,\"watched\":true,"
	"\"mode\":\"enforce\",\"command\":[\"./billing-agent\",\"--queue\",\"claims now\"],"
	"\"host\":\"agents-01\",\"launched_by_uid\":0,\"sudo_user\":\"alice\","
	"\"files_unenforced_because\":\"BPF LSM is not among the kernel's active LSMs\","
	"\"enforced\":{\"network\":true,\"files\":false}}";

static const char lost_line[] =
	"{\"schema\":3,\"id\":8,\"prev\":\"ab\",\"retain\":\"lifecycle\",\"kind\":\"events-lost\","
	"\"time\":\"2026-12-04T16:09:53.361523Z\",\"agent\":\"billing\","
	"\"instance\":\"billing.3f2a\",\"count\":12,\"first_seq\":100,\"last_seq\":111}";

static const char checkpoint_line[] =
	"{\"schema\":3,\"id\":10,\"prev\":\"ab\",\"retain\":\"checkpoint\",\"kind\":\"checkpoint\","
	"\"time\":\"2026-12-04T16:09:54.000001Z\",\"writer_pid\":4242,\"why\":\"rotate\","
	"\"key\":\"0123456789abcdef\",\"signature\":\"aa\"}";

static const char pruned_line[] = "{\"schema\":3,\"id\":11,\"prev\":\"ab\",\"retain\":\"routine\","
				  "\"kind\":\"pruned\",\"line_sha256\":\"ab\"}";

static struct json_object *rec_of(const char *line)
{
	struct json_object *rec = auditshow_parse_record(line, strlen(line), NULL);

	assert_non_null(rec);
	return rec;
}

/* Whether line passes f. */
static bool passes(const char *line, const struct auditshow_filter *f)
{
	struct json_object *rec = rec_of(line);
	bool ok = auditshow_match(rec, f);

	json_object_put(rec);
	return ok;
}

static void test_filter_none_passes_all(void **state)
{
	struct auditshow_filter f = {0};

	(void)state;
	assert_true(passes(deny_line, &f));
	assert_true(passes(pruned_line, &f));
	assert_true(passes("{}", &f));
}

static void test_filter_agent_and_instance(void **state)
{
	struct auditshow_filter f = {.agent = "billing"};

	(void)state;
	assert_true(passes(deny_line, &f));
	assert_false(passes(allow_line, &f));
	assert_false(passes(checkpoint_line, &f)); /* no agent */
	f.agent = "bill";
	assert_false(passes(deny_line, &f)); /* whole names only */

	f = (struct auditshow_filter){.instance = "crm.01"};
	assert_true(passes(allow_line, &f));
	assert_false(passes(deny_line, &f));
	/* a NUL hidden in the name does not make it equal */
	assert_false(passes("{\"instance\":\"crm.01\\u0000x\"}", &f));
}

static void test_filter_since_until(void **state)
{
	struct auditshow_filter f = {.has_since = true, .since_us = T_20261204_154943 * US};

	(void)state;
	assert_true(passes(deny_line, &f)); /* 15:49:43.123456, just after */
	f.since_us += 123457;
	assert_false(passes(deny_line, &f));
	assert_true(passes(allow_line, &f));
	/* no time: not known to be in the range */
	assert_false(passes(pruned_line, &f));
	assert_false(passes("{\"time\":\"yesterday\"}", &f));
	assert_false(passes("{\"time\":1796399383}", &f));

	/* until: before it, not at it */
	f = (struct auditshow_filter){.has_until = true,
				      .until_us = T_20261204_154943 * US + 123456};
	assert_false(passes(deny_line, &f));
	f.until_us++;
	assert_true(passes(deny_line, &f));
	assert_false(passes(allow_line, &f));

	/* both: a window */
	f = (struct auditshow_filter){.has_since = true,
				      .since_us = T_20261204 * US,
				      .has_until = true,
				      .until_us = (T_20261204 + 86400) * US};
	assert_true(passes(deny_line, &f));
	assert_true(passes(allow_line, &f));
	assert_false(passes(would_deny_line, &f)); /* 2026-12-05T00:00:00Z */
}

static void test_filter_denied(void **state)
{
	struct auditshow_filter f = {.denied = true};

	(void)state;
	assert_true(passes(deny_line, &f));
	assert_true(passes(would_deny_line, &f)); /* not applied, still a denial */
	assert_false(passes(allow_line, &f));
	assert_false(passes(lost_line, &f));
	assert_false(passes("{\"decision\":\"DENY\"}", &f));
}

static void test_filter_action_and_kind(void **state)
{
	struct auditshow_filter f = {.actions = {"connect"}, .n_actions = 1};

	(void)state;
	assert_true(passes(allow_line, &f));
	assert_false(passes(deny_line, &f));
	assert_false(passes(start_line, &f));
	f.actions[1] = "open-write";
	f.n_actions = 2;
	assert_true(passes(deny_line, &f)); /* any of those given */

	f = (struct auditshow_filter){.kinds = {"events-lost", "checkpoint"}, .n_kinds = 2};
	assert_true(passes(lost_line, &f));
	assert_true(passes(checkpoint_line, &f));
	assert_false(passes(deny_line, &f));
	assert_false(passes("{\"kind\":[\"checkpoint\"]}", &f));
}

static void test_filter_combined(void **state)
{
	struct auditshow_filter f = {.agent = "crm", .denied = true};

	(void)state;
	assert_true(passes(would_deny_line, &f));
	assert_false(passes(allow_line, &f)); /* crm, but allowed */
	assert_false(passes(deny_line, &f));  /* denied, but billing */
	f.actions[0] = "connect";
	f.n_actions = 1;
	f.has_since = true;
	f.since_us = (T_20261204 + 86400) * US;
	assert_true(passes(would_deny_line, &f));
	f.since_us++;
	assert_false(passes(would_deny_line, &f));
}

/* ---- readable lines ---- */

/* The readable line of record text line, malloc'ed. */
static char *line_of(const char *line)
{
	struct json_object *rec = rec_of(line);
	char *out = NULL;
	size_t size;
	FILE *f;

	f = open_memstream(&out, &size);
	assert_non_null(f);
	assert_int_equal(auditshow_put_line(f, rec), 0);
	assert_int_equal(fclose(f), 0);
	json_object_put(rec);
	assert_null(strchr(out, '\n'));
	return out;
}

static void expect_line(const char *record, const char *want)
{
	char *got = line_of(record);

	assert_string_equal(got, want);
	free(got);
}

static void test_line_denial(void **state)
{
	(void)state;
	expect_line(deny_line,
		    "2026-12-04 15:49:43.123Z #4567 DENY open-write /srv/ehr/archive/2019.txt "
		    "agent billing (billing.3f2a) pid 42 python3 uid 1000 for alice task T-17: "
		    "write access into tree /srv/ehr/archive of class phi.archive, where agent "
		    "billing holds read [classes.yaml:7:13]");
	expect_line(would_deny_line,
		    "2026-12-05 00:00:00.000Z #4569 WOULD-DENY connect 127.0.0.1:18083/tcp agent "
		    "crm (crm.01) pid 43 curl uid 1001: no rule of agent crm covers it");
}

static void test_line_allowed(void **state)
{
	(void)state;
	expect_line("{\"kind\":\"decision\",\"decision\":\"allow\",\"action\":\"open-read\","
		    "\"object\":\"/srv/x\",\"reason\":\"allowed by rule\","
		    "\"rule\":\"f.yaml:3:9 family f grants read on c\",\"approved_by\":\"dr-lee\"}",
		    "allow open-read /srv/x: allowed by rule [f.yaml:3:9] (approved by dr-lee)");
	/* the grant's place, not the destination's */
	expect_line(allow_line, "2026-12-04 16:00:00.500Z #4568 allow connect 127.0.0.1:18082/tcp "
				"agent crm (crm.01) pid 43 curl uid 1001: allowed by rule "
				"[families.yaml:17:9]");
}

static void test_line_inbound(void **state)
{
	(void)state;
	expect_line(
		"{\"schema\":3,\"id\":3,\"kind\":\"decision\",\"time\":\"2026-12-04T15:49:43Z\","
		"\"agent\":\"a\",\"instance\":\"a.1\",\"pid\":0,\"uid\":0,\"comm\":\"\","
		"\"action\":\"receive\",\"object\":\"127.0.0.1:5555/tcp\",\"decision\":\"deny\","
		"\"reason\":\"inbound packets pass only as replies from an allowed destination\","
		"\"bad_event\":\"unknown side 7\"}",
		"2026-12-04 15:49:43.000Z #3 DENY receive 127.0.0.1:5555/tcp agent a (a.1) "
		"inbound: inbound packets pass only as replies from an allowed destination "
		"(bad event: unknown side 7)");
}

static void test_line_instance_records(void **state)
{
	(void)state;
	expect_line(start_line,
		    "2026-12-04 16:05:53.361Z #5 instance-start agent billing (billing.3f2a) for "
		    "alice task T-17: policy /etc/pinfold/policy, generation 1, mode enforce, "
		    "launched by uid 0 (sudo alice), file rules not enforced: BPF LSM is not among "
		    "the kernel's active LSMs, command ./billing-agent --queue \"claims now\"");
	expect_line("{\"schema\":3,\"id\":9,\"kind\":\"instance-exit\","
		    "\"time\":\"2026-12-04T16:09:53.36153Z\",\"agent\":\"billing\","
		    "\"instance\":\"billing.3f2a\",\"task\":\"T-17\",\"status\":137}",
		    "2026-12-04 16:09:53.361Z #9 instance-exit agent billing (billing.3f2a) task "
		    "T-17: status 137 (signal 9)");
	expect_line("{\"schema\":3,\"id\":7,\"kind\":\"policy-applied\","
		    "\"time\":\"2026-12-04T16:07:40Z\",\"agent\":\"billing\",\"instance\":\"b.1\","
		    "\"generation\":2,\"policy\":\"/etc/p\",\"mode\":\"audit\"}",
		    "2026-12-04 16:07:40.000Z #7 policy-applied agent billing (b.1): generation 2, "
		    "policy /etc/p, mode audit");
	expect_line("{\"schema\":3,\"id\":6,\"kind\":\"policy-rejected\","
		    "\"time\":\"2026-12-04T16:07:12Z\",\"agent\":\"billing\",\"instance\":\"b.1\","
		    "\"generation\":1,\"error\":\"a.yaml:4:16: error: undefined family x\"}",
		    "2026-12-04 16:07:12.000Z #6 policy-rejected agent billing (b.1): generation 1 "
		    "stays in force, a.yaml:4:16: error: undefined family x");
}

static void test_line_gap(void **state)
{
	(void)state;
	expect_line(lost_line, "2026-12-04 16:09:53.361Z #8 events-lost agent billing "
			       "(billing.3f2a): 12 events lost (seq 100..111)");
	expect_line("{\"schema\":3,\"id\":9,\"kind\":\"events-lost\",\"agent\":\"a\","
		    "\"count\":2,\"first_seq\":7,\"last_seq\":8,\"cause\":\"kernel\"}",
		    "#9 events-lost agent a: 2 events lost (seq 7..8), the kernel could not queue "
		    "them");
	expect_line("{\"schema\":3,\"id\":9,\"kind\":\"events-lost\",\"count\":5,"
		    "\"cause\":\"writer\"}",
		    "#9 events-lost: 5 events lost, the writer could not hold them");
	/* a writer that knows only the count */
	expect_line("{\"schema\":3,\"id\":8,\"kind\":\"events-lost\",\"count\":3}",
		    "#8 events-lost: 3 events lost");
}

static void test_line_audit_blocked(void **state)
{
	(void)state;
	expect_line("{\"schema\":3,\"id\":30,\"kind\":\"audit-blocked\","
		    "\"time\":\"2026-12-04T16:10:00Z\",\"agent\":\"a\",\"instance\":\"a.1\","
		    "\"since\":\"2026-12-04T16:09:00.000001Z\",\"until\":\"2026-12-04T16:10:00Z\","
		    "\"error\":\"No space left on device\"}",
		    "2026-12-04 16:10:00.000Z #30 audit-blocked agent a (a.1): the log could not "
		    "take records from 2026-12-04T16:09:00.000001Z until 2026-12-04T16:10:00Z, No "
		    "space left on device");
}

static void test_line_checkpoint_and_pruned(void **state)
{
	(void)state;
	expect_line(checkpoint_line, "2026-12-04 16:09:54.000Z #10 checkpoint signed by key "
				     "0123456789abcdef: rotate, writer pid 4242");
	expect_line(pruned_line, "#11 record pruned (retention routine)");
	expect_line(
		"{\"schema\":3,\"id\":5,\"prev\":\"ab\",\"retain\":\"lifecycle\","
		"\"kind\":\"chain-break\",\"time\":\"2026-12-04T16:09:55Z\","
		"\"writer_pid\":4242,\"found\":\"head-missing\",\"head_id\":0,"
		"\"log_last_id\":4,\"detail\":\"the head is missing, and the log holds "
		"records up to 4\"}",
		"2026-12-04 16:09:55.000Z #5 CHAIN-BREAK: the head is missing, and the log holds "
		"records up to 4, writer pid 4242");
}

static void test_line_unknown_kind(void **state)
{
	(void)state;
	/* members shown as they are, those of every record left out */
	expect_line("{\"schema\":3,\"id\":12,\"prev\":\"ab\",\"retain\":\"lifecycle\","
		    "\"kind\":\"writer-start\",\"time\":\"2026-12-04T16:09:55Z\","
		    "\"writer_pid\":4243,\"host\":\"agents-01\",\"sync\":true,\"list\":[1]}",
		    "2026-12-04 16:09:55.000Z #12 writer-start: writer_pid 4243, host agents-01, "
		    "sync true");
}

static void test_line_escapes_terminal_controls(void **state)
{
	(void)state;
	/* ESC, newline, NUL, RLO (U+202E), LRI (U+2066), C1 (U+009B), a byte not UTF-8 */
	expect_line(
		"{\"schema\":3,\"id\":14,\"kind\":\"decision\",\"time\":\"2026-12-04T15:49:43Z\","
		"\"agent\":\"a\\u001b[31mb\",\"instance\":\"i\\u009b2J\",\"pid\":1,"
		"\"comm\":\"c\\u0000d\",\"action\":\"open-read\","
		"\"object\":\"/x/\\u202eevil\\ntxt\xff\",\"decision\":\"deny\","
		"\"reason\":\"r\\u2066\\\\\",\"on_behalf_of\":\"\\r\\t\"}",
		"2026-12-04 15:49:43.000Z #14 DENY open-read /x/\\u202eevil\\ntxt\\xff agent "
		"a\\x1b[31mb (i\\u009b2J) pid 1 c\\x00d for \\r\\t: r\\u2066\\\\");
	/* the time and kind as written, when they are not what they should be */
	expect_line("{\"time\":\"\\u001b]0;x\\u0007\",\"kind\":\"\\u202ex\"}",
		    "\\x1b]0;x\\x07 \\u202ex");
}

static void test_line_malformed_members(void **state)
{
	/* each must give a line, and not crash */
	static const char *const odd[] = {
		"{}",
		"{\"kind\":\"decision\"}",
		"{\"kind\":null,\"agent\":null,\"instance\":null}",
		"{\"schema\":3,\"id\":\"x\",\"time\":5,\"kind\":\"decision\",\"agent\":[1],"
		"\"pid\":\"42\",\"decision\":7,\"object\":{\"a\":1},\"action\":true}",
		"{\"schema\":3,\"id\":-4,\"kind\":\"instance-start\",\"command\":[1,null,\"\"],"
		"\"generation\":\"one\",\"sudo_user\":1}",
		"{\"schema\":3,\"id\":1e3,\"kind\":\"events-lost\",\"count\":\"12\","
		"\"first_seq\":1}",
		"{\"kind\":\"instance-exit\",\"status\":-1}",
		"{\"kind\":\"checkpoint\",\"key\":{},\"why\":[]}",
		"{\"kind\":\"pruned\",\"retain\":5}",
		"{\"kind\":\"decision\",\"rule_at\":\"\",\"decided_by\":\"\",\"rule\":7}",
		"{\"kind\":\"writer-stop\",\"a\":{\"b\":[{}]},\"c\":1.5}",
		"{\"time\":\"9999-12-31T23:59:59.999999Z\",\"id\":18446744073709551615}",
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		got = line_of(odd[i]);
		assert_true(strlen(got) > 0);
		free(got);
	}
	expect_line("{}", "(no kind)");
	expect_line("{\"schema\":3,\"kind\":\"decision\"}", "#? decision");
	expect_line(odd[3], "#? decision");
	expect_line(odd[5], "#? events-lost: events lost (how many is not said)");
	expect_line(odd[11], "9999-12-31 23:59:59.999Z #18446744073709551615 (no kind)");
}

static void test_parse_record_rejects_non_objects(void **state)
{
	static const char *const bad[] = {
		"", "[1,2]", "\"x\"", "12", "{\"schema\":3,\"kind\":", "{} {}", "{}x", "not json",
	};
	struct json_object *rec;
	size_t i, col;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (auditshow_parse_record(bad[i], strlen(bad[i]), &col))
			fail_msg("'%s' was taken for a record", bad[i]);
	}
	/* where reading stopped: the bad byte, the end of a cut line, what follows */
	assert_null(auditshow_parse_record("{\"a\":1,}", 8, &col));
	assert_int_equal(col, 8);
	assert_null(auditshow_parse_record("{\"a\":", 5, &col));
	assert_int_equal(col, 6);
	assert_null(auditshow_parse_record("{}  x", 5, &col));
	assert_int_equal(col, 5);
	assert_null(auditshow_parse_record("{}\0{}", 5, &col));
	assert_int_equal(col, 3);
	/* white space after it is fine, a CR too */
	rec = rec_of("{\"a\":1} \r");
	json_object_put(rec);
	/* an id that is not a positive integer is none */
	rec = rec_of("{\"id\":\"4\"}");
	assert_int_equal(auditshow_record_id(rec), 0);
	json_object_put(rec);
	rec = rec_of("{\"id\":0}");
	assert_int_equal(auditshow_record_id(rec), 0);
	json_object_put(rec);
	rec = rec_of("{\"id\":4567}");
	assert_int_equal(auditshow_record_id(rec), 4567);
	json_object_put(rec);
}

/* ---- the reader ---- */

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_auditshow.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *name, const char *text)
{
	char path[128];
	gzFile gz;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	gz = gzopen(path, "wb");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
	assert_int_equal(gzclose(gz), Z_OK);
}

struct got {
	const char *line, *file;
	size_t len;
	unsigned long lineno;
	bool whole;
};

static int next(struct auditread *r, struct got *g)
{
	return auditread_next(r, &g->line, &g->len, &g->file, &g->lineno, &g->whole);
}

/* The next line is want, whole or not, from file name (in dir) at lineno. */
static void expect_next(struct auditread *r, const char *want, const char *name,
			unsigned long lineno, bool whole)
{
	char path[128];
	struct got g;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(next(r, &g), 1);
	assert_string_equal(g.line, want);
	assert_int_equal(g.len, strlen(want));
	assert_string_equal(g.file, path);
	assert_int_equal(g.lineno, lineno);
	assert_int_equal(g.whole, whole);
}

static struct auditread *open_log(void)
{
	struct auditread *r;
	char base[128], err[256];

	snprintf(base, sizeof(base), "%s/a.jsonl", dir);
	assert_int_equal(auditread_open(&r, base, err, sizeof(err)), 0);
	return r;
}

/* auditread_files of log a.jsonl: the names want, in order */
static void expect_files(const char *const *want)
{
	char base[128], path[160];
	char **files;
	size_t i;

	snprintf(base, sizeof(base), "%s/a.jsonl", dir);
	files = auditread_files(base);
	assert_non_null(files);
	for (i = 0; want[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, want[i]);
		assert_non_null(files[i]);
		assert_string_equal(files[i], path);
	}
	assert_null(files[i]);
	auditread_files_free(files);
}

static void test_read_files_in_order(void **state)
{
	struct auditread *r;
	struct got g;

	(void)state;
	/* rotated by number, not by name, plain (not yet compressed) or gzip; others are not the
	 * log's */
	write_gz("a.jsonl.000000000010.gz", "ten\neleven\n");
	write_gz("a.jsonl.000000000002.gz", "two\n\nfour\n");
	write_gz("a.jsonl.000000000003.gz.tmp", "tmp\n");
	write_gz("a.jsonl.5.gz", "short number\n");
	write_gz("b.jsonl.000000000001.gz", "other log\n");
	write_file("a.jsonl.000000000001", "one\n", 4);
	write_file("a.jsonl.000000000001x", "not the log's\n", 14);
	write_file("a.jsonl", "twelve\nthirteen", 15);

	expect_files((const char *[]){"a.jsonl.000000000001", "a.jsonl.000000000002.gz",
				      "a.jsonl.000000000010.gz", "a.jsonl", NULL});

	r = open_log();
	expect_next(r, "one", "a.jsonl.000000000001", 1, true);
	expect_next(r, "two", "a.jsonl.000000000002.gz", 1, true);
	expect_next(r, "", "a.jsonl.000000000002.gz", 2, true);
	expect_next(r, "four", "a.jsonl.000000000002.gz", 3, true);
	expect_next(r, "ten", "a.jsonl.000000000010.gz", 1, true);
	expect_next(r, "eleven", "a.jsonl.000000000010.gz", 2, true);
	expect_next(r, "twelve", "a.jsonl", 1, true);
	expect_next(r, "thirteen", "a.jsonl", 2, false); /* no '\n' at the end */
	assert_int_equal(next(r, &g), 0);
	assert_int_equal(next(r, &g), 0);
	auditread_close(r);
}

/*
 * A rotated file there plain and compressed (a compressor died between its
 * rename and its unlink) is read once, plain; one compressed after it was
 * listed is read from its gzip copy.
 */
static void test_read_rotated_plain_and_gz(void **state)
{
	char path[160];
	struct auditread *r;
	struct got g;

	(void)state;
	write_file("a.jsonl.000000000001", "one\ntwo\n", 8);
	write_gz("a.jsonl.000000000001.gz", "one\n");
	write_file("a.jsonl.000000000003", "three\n", 6);
	write_file("a.jsonl", "four\n", 5);

	expect_files(
		(const char *[]){"a.jsonl.000000000001", "a.jsonl.000000000003", "a.jsonl", NULL});

	r = open_log();
	/* compressed meanwhile */
	write_gz("a.jsonl.000000000003.gz", "three\n");
	snprintf(path, sizeof(path), "%s/a.jsonl.000000000003", dir);
	assert_int_equal(unlink(path), 0);
	expect_next(r, "one", "a.jsonl.000000000001", 1, true);
	expect_next(r, "two", "a.jsonl.000000000001", 2, true);
	expect_next(r, "three", "a.jsonl.000000000003.gz", 1, true);
	expect_next(r, "four", "a.jsonl", 1, true);
	assert_int_equal(next(r, &g), 0);
	auditread_close(r);
}

static void test_read_no_log(void **state)
{
	struct auditread *r = NULL;
	char base[128], err[256];
	char **files;

	(void)state;
	snprintf(base, sizeof(base), "%s/none.jsonl", dir);
	assert_int_equal(auditread_open(&r, base, err, sizeof(err)), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err, "none.jsonl"));
	files = auditread_files(base);
	assert_non_null(files);
	assert_null(files[0]);
	auditread_files_free(files);
	snprintf(base, sizeof(base), "%s/nodir/a.jsonl", dir);
	assert_null(auditread_files(base));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(auditread_rotated_number("a", "a.000000000007.gz"), 7);
	assert_int_equal(auditread_rotated_number("a", "a.99999999999999999999.gz"), 0);
	assert_int_equal(auditread_rotated_number("a", "a.000000000007.gz.tmp"), 0);
}

static void test_read_corrupt_gzip(void **state)
{
	static const char junk[] = "\x1f\x8b\x08\x00garbage that is no deflate stream\n";
	struct auditread *r;
	char path[128];
	struct got g;
	gzFile gz;
	FILE *f;
	long size;

	(void)state;
	/* a gzip header, then garbage */
	write_file("a.jsonl.000000000001.gz", junk, sizeof(junk) - 1);
	/* text that is not gzip at all, under a .gz name */
	write_file("a.jsonl.000000000002.gz", "{\"plain\":1}\n", 12);
	/* a gzip cut short: its first line is there, then the stream ends early */
	snprintf(path, sizeof(path), "%s/a.jsonl.000000000003.gz", dir);
	gz = gzopen(path, "wb");
	assert_non_null(gz);
	gzwrite(gz, "first\n", 6);
	gzflush(gz, Z_SYNC_FLUSH);
	gzwrite(gz, "second line that is lost\n", 25);
	assert_int_equal(gzclose(gz), Z_OK);
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	assert_int_equal(ftruncate(fileno(f), size - 12), 0);
	fclose(f);
	write_file("a.jsonl", "last\n", 5);

	r = open_log();
	assert_int_equal(next(r, &g), -EBADMSG);
	assert_non_null(strstr(g.file, "a.jsonl.000000000001.gz"));
	assert_int_equal(next(r, &g), -EBADMSG);
	assert_non_null(strstr(g.file, "a.jsonl.000000000002.gz"));
	expect_next(r, "first", "a.jsonl.000000000003.gz", 1, true);
	assert_int_equal(next(r, &g), -EBADMSG);
	/* the reader goes on with the next file */
	expect_next(r, "last", "a.jsonl", 1, true);
	assert_int_equal(next(r, &g), 0);
	auditread_close(r);
}

static void test_read_long_lines(void **state)
{
	size_t big = 200 << 10, huge = AUDITREAD_MAX_LINE + 10;
	char *data = malloc(big + 1 + huge + 1 + 4);
	struct auditread *r;
	struct got g;

	(void)state;
	assert_non_null(data);
	memset(data, 'a', big);
	data[big] = '\n';
	memset(data + big + 1, 'b', huge);
	data[big + 1 + huge] = '\n';
	memcpy(data + big + 1 + huge + 1, "end\n", 4);
	write_file("a.jsonl", data, big + 1 + huge + 1 + 4);

	r = open_log();
	assert_int_equal(next(r, &g), 1);
	assert_int_equal(g.len, big);
	assert_true(g.line[0] == 'a' && g.line[big - 1] == 'a' && g.line[big] == '\0');
	assert_int_equal(next(r, &g), -EMSGSIZE);
	assert_int_equal(g.lineno, 2);
	expect_next(r, "end", "a.jsonl", 3, true);
	assert_int_equal(next(r, &g), 0);
	auditread_close(r);
	free(data);
}

static void test_read_nul_inside_line(void **state)
{
	struct auditread *r;
	struct got g;

	(void)state;
	write_file("a.jsonl", "{}\0{}\nnext\n", 11);
	r = open_log();
	assert_int_equal(next(r, &g), 1);
	assert_int_equal(g.len, 5); /* the NUL counts */
	assert_null(auditshow_parse_record(g.line, g.len, NULL));
	expect_next(r, "next", "a.jsonl", 2, true);
	auditread_close(r);
}

static void test_read_follow_holds_cut_line(void **state)
{
	struct auditread *r;
	char path[128];
	struct got g;
	int fd;

	(void)state;
	write_file("a.jsonl", "one\ntw", 6);
	r = open_log();
	auditread_set_follow(r, true);
	expect_next(r, "one", "a.jsonl", 1, true);
	assert_int_equal(next(r, &g), 0); /* "tw" is held */

	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "o\nthree\n", 8), 8);
	expect_next(r, "two", "a.jsonl", 2, true);
	expect_next(r, "three", "a.jsonl", 3, true);
	assert_int_equal(next(r, &g), 0);
	assert_int_equal(write(fd, "fo", 2), 2);
	close(fd);
	assert_int_equal(next(r, &g), 0);
	/* no longer followed: the cut line is handed out */
	auditread_set_follow(r, false);
	expect_next(r, "fo", "a.jsonl", 4, false);
	assert_int_equal(next(r, &g), 0);
	auditread_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_rfc3339),
		cmocka_unit_test(test_time_date),
		cmocka_unit_test(test_time_relative),
		cmocka_unit_test(test_time_invalid),
		cmocka_unit_test(test_filter_none_passes_all),
		cmocka_unit_test(test_filter_agent_and_instance),
		cmocka_unit_test(test_filter_since_until),
		cmocka_unit_test(test_filter_denied),
		cmocka_unit_test(test_filter_action_and_kind),
		cmocka_unit_test(test_filter_combined),
		cmocka_unit_test(test_line_denial),
		cmocka_unit_test(test_line_allowed),
		cmocka_unit_test(test_line_inbound),
		cmocka_unit_test(test_line_instance_records),
		cmocka_unit_test(test_line_gap),
		cmocka_unit_test(test_line_audit_blocked),
		cmocka_unit_test(test_line_checkpoint_and_pruned),
		cmocka_unit_test(test_line_unknown_kind),
		cmocka_unit_test(test_line_escapes_terminal_controls),
		cmocka_unit_test(test_line_malformed_members),
		cmocka_unit_test(test_parse_record_rejects_non_objects),
		cmocka_unit_test_setup_teardown(test_read_files_in_order, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_read_rotated_plain_and_gz, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_read_no_log, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_read_corrupt_gzip, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_read_long_lines, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_read_nul_inside_line, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_read_follow_holds_cut_line, make_dir,
						remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
