// SPDX-License-Identifier: GPL-2.0-only
/*
 * auditshow.c - audit records for a person: the times and filters of
 * `pinfold audit show` and `tail`, and one readable line per record.
 *
 * A record is judged as it is: whatever wrote it, a member missing or of
 * another type is left out of the line, never trusted to be there. What a
 * record says is untrusted text (file names, command names, command lines):
 * every string goes through text_put_escaped before it reaches a terminal.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "auditshow.h"
#include "text.h"

#define USEC_PER_SEC 1000000LL

/* ---- times ---- */

/* n decimal digits at *p into *v, moving *p past them */
static bool take_digits(const char **p, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/* ".123456" at *p as microseconds (digits past the sixth are dropped) */
static bool take_fraction(const char **p, int64_t *us)
{
	int64_t frac = 0, scale = 100000;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		frac += (*s - '0') * scale;
		scale /= 10;
	}
	*p = s;
	*us = frac;
	return true;
}

/* "Z", "+HH:MM" or "-HH:MM" at *p, as seconds east of UTC; none is UTC */
static bool take_zone(const char **p, int *east)
{
	int sign, h, m;

	*east = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return true;
	}
	if (**p != '+' && **p != '-')
		return true;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (!take_digits(p, 2, &h) || **p != ':')
		return false;
	(*p)++;
	if (!take_digits(p, 2, &m) || h > 23 || m > 59)
		return false;
	*east = sign * (h * 3600 + m * 60);
	return true;
}

/* "HH:MM[:SS[.frac]][zone]" at p into tm, *frac and *east; the whole of p */
static bool take_clock(const char *p, struct tm *tm, int64_t *frac, int *east)
{
	if (!take_digits(&p, 2, &tm->tm_hour) || *p != ':')
		return false;
	p++;
	if (!take_digits(&p, 2, &tm->tm_min))
		return false;
	if (*p == ':') {
		p++;
		if (!take_digits(&p, 2, &tm->tm_sec))
			return false;
		if (*p == '.') {
			p++;
			if (!take_fraction(&p, frac))
				return false;
		}
	}
	if (!take_zone(&p, east) || *p)
		return false;
	if (tm->tm_sec == 60)
		tm->tm_sec = 59; /* a leap second: close enough to order records */
	return tm->tm_hour <= 23 && tm->tm_min <= 59 && tm->tm_sec <= 59;
}

/* RFC 3339, or a date alone (its midnight), as us since the epoch; 0 or -EINVAL */
static int parse_absolute(const char *s, int64_t *us)
{
	int y, mon, day, east = 0;
	struct tm tm = {0};
	int64_t frac = 0;
	const char *p = s;
	time_t t;

	if (!take_digits(&p, 4, &y) || *p != '-')
		return -EINVAL;
	p++;
	if (!take_digits(&p, 2, &mon) || *p != '-')
		return -EINVAL;
	p++;
	if (!take_digits(&p, 2, &day))
		return -EINVAL;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -EINVAL;
		if (!take_clock(p + 1, &tm, &frac, &east))
			return -EINVAL;
	}
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	t = timegm(&tm);
	/* timegm moves 2026-02-30 to March: such a date does not exist */
	if (tm.tm_mday != day || tm.tm_mon != mon - 1)
		return -EINVAL;
	*us = ((int64_t)t - east) * USEC_PER_SEC + frac;
	return 0;
}

int auditshow_parse_time(const char *s, int64_t now_us, int64_t *us)
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	size_t digits = strspn(s, "0123456789"), i;
	unsigned long long n;

	if (!s || !*s)
		return -EINVAL;
	if (digits == 0 || digits > 9 || !s[digits] || s[digits + 1])
		return parse_absolute(s, us);
	n = strtoull(s, NULL, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit == s[digits]) {
			*us = now_us - (int64_t)n * units[i].seconds * USEC_PER_SEC;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- records ---- */

/* rec's member key when it has type type, else NULL */
static struct json_object *member(struct json_object *rec, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static const char *str_member(struct json_object *rec, const char *key)
{
	struct json_object *v = member(rec, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

/* Whether rec's member key is the string want (no NUL hidden inside). */
static bool str_is(struct json_object *rec, const char *key, const char *want)
{
	struct json_object *v = member(rec, key, json_type_string);

	return v && (size_t)json_object_get_string_len(v) == strlen(want) &&
	       strcmp(json_object_get_string(v), want) == 0;
}

uint64_t auditshow_record_id(struct json_object *rec)
{
	struct json_object *v = member(rec, "id", json_type_int);

	return v && json_object_get_int64(v) > 0 ? json_object_get_uint64(v) : 0;
}

/* The record's time in us since the epoch; false when it has no readable one. */
static bool record_time(struct json_object *rec, int64_t *us)
{
	const char *t = str_member(rec, "time");

	return t && parse_absolute(t, us) == 0;
}

struct json_object *auditshow_parse_record(const char *line, size_t len, size_t *colp)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end, dummy;
	size_t *col = colp ? colp : &dummy;

	*col = strlen(line) + 1;
	if (len >= INT32_MAX || strlen(line) != len)
		return NULL; /* a NUL inside */
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* an object ends at its '}': a line that ends before is not one */
	obj = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	*col = end + 1;
	if (obj) {
		end += strspn(line + end, " \t\r");
		if (!json_object_is_type(obj, json_type_object) || end < len) {
			*col = end + 1;
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

static bool in_list(struct json_object *rec, const char *key, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (str_is(rec, key, list[i]))
			return true;
	return false;
}

bool auditshow_match(struct json_object *rec, const struct auditshow_filter *f)
{
	int64_t t;

	if (f->agent && !str_is(rec, "agent", f->agent))
		return false;
	if (f->instance && !str_is(rec, "instance", f->instance))
		return false;
	if (f->denied && !str_is(rec, "decision", "deny"))
		return false;
	if (f->n_actions && !in_list(rec, "action", f->actions, f->n_actions))
		return false;
	if (f->n_kinds && !in_list(rec, "kind", f->kinds, f->n_kinds))
		return false;
	if (f->has_since || f->has_until) {
		if (!record_time(rec, &t))
			return false;
		if ((f->has_since && t < f->since_us) || (f->has_until && t >= f->until_us))
			return false;
	}
	return true;
}

/* ---- the readable line ---- */

/* A line being written: words separated by spaces, details after ": " by ", ". */
struct line {
	FILE *f;
	struct json_object *rec;
	bool started;
	bool detailed;
};

static void sep(struct line *l)
{
	if (l->started)
		fputc(' ', l->f);
	l->started = true;
}

/* Start the next detail: ": " before the first, ", " before the others. */
static void detail(struct line *l)
{
	fputs(l->detailed ? ", " : ": ", l->f);
	l->detailed = true;
	l->started = false; /* its first word needs no space */
}

static void put_esc(FILE *f, struct json_object *str)
{
	text_put_escaped(f, json_object_get_string(str), (size_t)json_object_get_string_len(str),
			 false);
}

/* A word of pinfold's own (trusted) text. */
static void word(struct line *l, const char *s)
{
	sep(l);
	fputs(s, l->f);
}

/* "LABEL VALUE" for string member key, escaped, when the record has it; whether it did */
static bool word_str(struct line *l, const char *label, const char *key)
{
	struct json_object *v = member(l->rec, key, json_type_string);

	if (!v)
		return false;
	sep(l);
	if (label)
		fprintf(l->f, "%s ", label);
	put_esc(l->f, v);
	return true;
}

/* "LABEL N" for integer member key, when the record has it; whether it did */
static bool word_int(struct line *l, const char *label, const char *key)
{
	struct json_object *v = member(l->rec, key, json_type_int);

	if (!v)
		return false;
	sep(l);
	if (label)
		fprintf(l->f, "%s ", label);
	fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), l->f);
	return true;
}

/* A detail "LABEL VALUE" from string member key, when the record has it. */
static void detail_str(struct line *l, const char *label, const char *key)
{
	if (!member(l->rec, key, json_type_string))
		return;
	detail(l);
	word_str(l, label, key);
}

static void detail_int(struct line *l, const char *label, const char *key)
{
	if (!member(l->rec, key, json_type_int))
		return;
	detail(l);
	word_int(l, label, key);
}

/* "YYYY-MM-DD HH:MM:SS.mmmZ", or the time as written when it does not parse, then "#ID" */
static void put_head(struct line *l)
{
	struct json_object *t = member(l->rec, "time", json_type_string), *id, *schema;
	char buf[64];
	int64_t us;
	time_t sec;
	struct tm tm;

	if (t && record_time(l->rec, &us)) {
		sec = (time_t)(us / USEC_PER_SEC - (us % USEC_PER_SEC < 0));
		if (gmtime_r(&sec, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm)) {
			word(l, buf);
			fprintf(l->f, ".%03dZ",
				(int)(((us % USEC_PER_SEC) + USEC_PER_SEC) % USEC_PER_SEC / 1000));
		}
	} else if (t) {
		sep(l);
		put_esc(l->f, t);
	}
	id = member(l->rec, "id", json_type_int);
	schema = member(l->rec, "schema", json_type_int);
	if (id) {
		sep(l);
		fprintf(l->f, "#%s", json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN));
	} else if (schema && json_object_get_int64(schema) >= 3) {
		word(l, "#?"); /* every record of schema 3 has one */
	}
}

/* "agent A (INSTANCE)" and "for WHO task T" where the record names them */
static void put_agent(struct line *l)
{
	word_str(l, "agent", "agent");
	if (member(l->rec, "instance", json_type_string)) {
		sep(l);
		fputc('(', l->f);
		put_esc(l->f, member(l->rec, "instance", json_type_string));
		fputc(')', l->f);
	}
}

static void put_behalf(struct line *l)
{
	word_str(l, "for", "on_behalf_of");
	word_str(l, "task", "task");
}

/* "[PLACE]": where the grant that allowed is written, else the tree or destination that decided */
static void put_place(struct line *l)
{
	const char *at = str_member(l->rec, "rule_at");
	const char *text = str_member(l->rec, "rule");
	size_t n;

	if (!at && !text)
		text = str_member(l->rec, "decided_by");
	if (!at && !text)
		return;
	if (!at) {
		at = text;
		n = strcspn(text, " ");
	} else {
		n = strlen(at);
	}
	sep(l);
	fputc('[', l->f);
	text_put_escaped(l->f, at, n, false);
	fputc(']', l->f);
}

static void put_decision(struct line *l)
{
	const char *decision = str_member(l->rec, "decision");
	struct json_object *applied = member(l->rec, "applied", json_type_boolean);

	if (str_is(l->rec, "decision", "deny"))
		word(l, applied && !json_object_get_boolean(applied) ? "WOULD-DENY" : "DENY");
	else if (decision)
		word_str(l, NULL, "decision");
	else
		word(l, "decision");
	word_str(l, NULL, "action");
	word_str(l, NULL, "object");
	put_agent(l);
	if (str_is(l->rec, "action", "receive")) {
		word(l, "inbound"); /* judged where no task acts: pid and uid are 0 */
	} else {
		word_int(l, "pid", "pid");
		if (str_member(l->rec, "comm") && *str_member(l->rec, "comm"))
			word_str(l, NULL, "comm");
		word_int(l, "uid", "uid");
	}
	put_behalf(l);
	detail_str(l, NULL, "reason");
	put_place(l);
	if (member(l->rec, "approved_by", json_type_string)) {
		sep(l);
		fputs("(approved by ", l->f);
		put_esc(l->f, member(l->rec, "approved_by", json_type_string));
		fputc(')', l->f);
	}
	if (member(l->rec, "bad_event", json_type_string)) {
		sep(l);
		fputs("(bad event: ", l->f);
		put_esc(l->f, member(l->rec, "bad_event", json_type_string));
		fputc(')', l->f);
	}
}

/* The command line of an instance-start, its words escaped, those with spaces quoted. */
static void detail_command(struct line *l)
{
	struct json_object *cmd = member(l->rec, "command", json_type_array), *w;
	const char *s;
	size_t i, n;

	if (!cmd)
		return;
	detail(l);
	fputs("command", l->f);
	for (i = 0; i < json_object_array_length(cmd); i++) {
		w = json_object_array_get_idx(cmd, i);
		if (!json_object_is_type(w, json_type_string)) {
			fputs(" ?", l->f);
			continue;
		}
		s = json_object_get_string(w);
		n = (size_t)json_object_get_string_len(w);
		if (n && !memchr(s, ' ', n) && !memchr(s, '"', n)) {
			fputc(' ', l->f);
			text_put_escaped(l->f, s, n, false);
		} else {
			fputs(" \"", l->f);
			text_put_escaped(l->f, s, n, true);
			fputc('"', l->f);
		}
	}
}

static void put_instance_start(struct line *l)
{
	detail_str(l, "policy", "policy");
	detail_int(l, "generation", "generation");
	detail_str(l, "mode", "mode");
	detail_int(l, "launched by uid", "launched_by_uid");
	if (member(l->rec, "sudo_user", json_type_string)) {
		fputs(" (sudo ", l->f);
		put_esc(l->f, member(l->rec, "sudo_user", json_type_string));
		fputc(')', l->f);
	}
	detail_str(l, "file rules not enforced:", "files_unenforced_because");
	detail_command(l);
}

static void put_instance_exit(struct line *l)
{
	struct json_object *st = member(l->rec, "status", json_type_int);
	int64_t status;

	detail_int(l, "status", "status");
	status = st ? json_object_get_int64(st) : 0;
	if (status > 128 && status < 128 + 65)
		fprintf(l->f, " (signal %d)", (int)(status - 128));
}

static void put_events_lost(struct line *l)
{
	detail(l);
	if (member(l->rec, "count", json_type_int)) {
		word_int(l, NULL, "count");
		fputs(" events lost", l->f);
	} else {
		fputs("events lost (how many is not said)", l->f);
	}
	if (member(l->rec, "first_seq", json_type_int) && member(l->rec, "last_seq", json_type_int))
		fprintf(l->f, " (seq %s..%s)",
			json_object_to_json_string(member(l->rec, "first_seq", json_type_int)),
			json_object_to_json_string(member(l->rec, "last_seq", json_type_int)));
	if (str_is(l->rec, "cause", "kernel")) {
		detail(l);
		fputs("the kernel could not queue them", l->f);
	} else if (str_is(l->rec, "cause", "writer")) {
		detail(l);
		fputs("the writer could not hold them", l->f);
	} else {
		detail_str(l, "cause", "cause");
	}
}

/* The log could not take records for a while: from when to when, and why. */
static void put_audit_blocked(struct line *l)
{
	detail(l);
	fputs("the log could not take records", l->f);
	l->started = true;
	word_str(l, "from", "since");
	word_str(l, "until", "until");
	detail_str(l, NULL, "error");
}

/* The members the head and agent parts show, or no reader needs in a line. */
static const char *const shown_everywhere[] = {
	"schema", "id",       "prev",     "retain",       "kind", "time",
	"agent",  "instance", "enforced", "on_behalf_of", "task", "signature",
};

static bool shown(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(shown_everywhere) / sizeof(shown_everywhere[0]); i++)
		if (!strcmp(key, shown_everywhere[i]))
			return true;
	return false;
}

/* A kind this version does not know: its strings, numbers and booleans as "KEY VALUE". */
static void put_other(struct line *l)
{
	json_object_object_foreach(l->rec, key, val)
	{
		enum json_type t = json_object_get_type(val);

		if (shown(key) || (t != json_type_string && t != json_type_int &&
				   t != json_type_double && t != json_type_boolean))
			continue;
		detail(l);
		text_put_escaped(l->f, key, strlen(key), false);
		fputc(' ', l->f);
		if (t == json_type_string)
			put_esc(l->f, val);
		else
			fputs(json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN), l->f);
	}
}

int auditshow_put_line(FILE *f, struct json_object *rec)
{
	struct line l = {.f = f, .rec = rec};
	const char *kind = str_member(rec, "kind");

	put_head(&l);
	if (str_is(rec, "kind", "decision")) {
		put_decision(&l);
	} else if (str_is(rec, "kind", "checkpoint")) {
		word(&l, "checkpoint");
		if (!word_str(&l, "signed by key", "key"))
			word(&l, "without a key");
		detail_str(&l, NULL, "why");
		detail_int(&l, "writer pid", "writer_pid");
	} else if (str_is(rec, "kind", "chain-break")) {
		/* a writer found the log's end unproven by its head: say it loudly */
		word(&l, "CHAIN-BREAK");
		detail_str(&l, NULL, "detail");
		detail_int(&l, "writer pid", "writer_pid");
	} else if (str_is(rec, "kind", "pruned")) {
		word(&l, "record pruned");
		if (member(rec, "retain", json_type_string)) {
			fputs(" (retention ", f);
			put_esc(f, member(rec, "retain", json_type_string));
			fputc(')', f);
		}
	} else {
		if (kind)
			word_str(&l, NULL, "kind");
		else
			word(&l, "(no kind)");
		put_agent(&l);
		put_behalf(&l);
		if (str_is(rec, "kind", "instance-start")) {
			put_instance_start(&l);
		} else if (str_is(rec, "kind", "instance-exit")) {
			put_instance_exit(&l);
		} else if (str_is(rec, "kind", "events-lost")) {
			put_events_lost(&l);
		} else if (str_is(rec, "kind", "audit-blocked")) {
			put_audit_blocked(&l);
		} else if (str_is(rec, "kind", "policy-applied")) {
			detail_int(&l, "generation", "generation");
			detail_str(&l, "policy", "policy");
			detail_str(&l, "mode", "mode");
		} else if (str_is(rec, "kind", "policy-rejected")) {
			detail_int(&l, "generation", "generation");
			if (member(rec, "generation", json_type_int))
				fputs(" stays in force", f);
			detail_str(&l, NULL, "error");
		} else {
			put_other(&l);
		}
	}
	return ferror(f) ? -EIO : 0;
}
