// SPDX-License-Identifier: GPL-2.0-only
/*
 * audit.c - audit records (JSON Lines) and denial lines for decision events.
 *
 * Decision records are written as text here, notes built with json-c (see
 * struct rec); both escape control characters but copy bytes >= 0x80
 * unchecked, while paths and comms from the kernel are raw bytes: every
 * string is checked as UTF-8 here first, each byte outside a
 * valid sequence becomes U+FFFD, and the raw bytes of a path or comm that
 * needed that go into a "_hex" member as well. Schema: docs/audit.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "audit.h"
#include "bpf/decide.h"
#include "text.h"

#define AUDIT_SCHEMA 3
#define AUDIT_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define NSEC_PER_SEC 1000000000LL

enum {
	BAD_MAX = 512,  /* bytes of "bad_event" text */
	REC_KEYS = 64,  /* members of a record built as text */
	RULE_TEXT = 512 /* first guess at a rule description's length */
};

/* ---- the record builder ---- */

/*
 * A record being built: the first error sticks, later adds do nothing.
 * A decision record is written as text directly (rec_init): json-c's
 * objects, an allocation per member and a serialisation after, cost most
 * of a decision's time in the writer. A note, which merges members given
 * as JSON (rec_merge), is built with json-c (rec_init_json). Both write
 * the same bytes for the same members: keys in the order added, json-c's
 * escapes (rec_escape), no white space.
 */
struct rec {
	struct json_object *obj; /* a note's members; NULL: text in buf */
	char *buf;
	size_t len, cap;
	const char *keys[REC_KEYS]; /* text: the keys so far, none twice */
	unsigned n_keys;
	int err;
	char bad[BAD_MAX]; /* what was wrong with the event, "; "-separated */
};

int audit_json_add(struct json_object *o, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(o, key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* Record err, unless an earlier step failed already. */
static void rec_fail(struct rec *r, int err)
{
	if (!r->err)
		r->err = err;
}

/* Room for more bytes of text; false (and the error kept) when there is none. */
static bool rec_room(struct rec *r, size_t more)
{
	size_t cap;
	char *p;

	if (r->err)
		return false;
	if (r->len + more <= r->cap)
		return true;
	for (cap = r->cap ? r->cap : 1024; cap < r->len + more; cap *= 2)
		;
	p = realloc(r->buf, cap);
	if (!p) {
		rec_fail(r, -ENOMEM);
		return false;
	}
	r->buf = p;
	r->cap = cap;
	return true;
}

static void rec_raw(struct rec *r, const char *s, size_t n)
{
	if (rec_room(r, n)) {
		memcpy(r->buf + r->len, s, n);
		r->len += n;
	}
}

/* s[0..n), valid UTF-8, as a JSON string, escaped as json-c does */
static void rec_escape(struct rec *r, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	char *o;
	size_t i;

	/* at most 6 bytes for each (\u00XX), and the quotes */
	if (!rec_room(r, 6 * n + 2))
		return;
	o = r->buf + r->len;
	*o++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '\b':
			*o++ = 'b';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hexd[c >> 4];
			o[4] = hexd[c & 0xf];
			o += 5;
		}
	}
	*o++ = '"';
	r->len = (size_t)(o - r->buf);
}

/*
 * Text: start the member key, after a comma unless it is the first. A key
 * added twice is EINVAL: json-c would keep one, in the first one's place.
 */
static bool rec_key(struct rec *r, const char *key)
{
	unsigned i;

	if (r->err)
		return false;
	for (i = 0; i < r->n_keys; i++)
		if (r->keys[i] == key || (r->keys[i][0] == key[0] && !strcmp(r->keys[i], key))) {
			rec_fail(r, -EINVAL);
			return false;
		}
	if (r->n_keys == REC_KEYS) {
		rec_fail(r, -E2BIG);
		return false;
	}
	r->keys[r->n_keys++] = key;
	rec_raw(r, r->len ? "," : "{", 1);
	rec_escape(r, key, strlen(key));
	rec_raw(r, ":", 1);
	return !r->err;
}

/* Add a json-c value (a note's); takes val's reference */
static void rec_add(struct rec *r, const char *key, struct json_object *val)
{
	if (r->err) {
		json_object_put(val);
		return;
	}
	r->err = audit_json_add(r->obj, key, val);
}

/* A member printed by fmt, for numbers and literals */
__attribute__((format(printf, 3, 4))) static void rec_print(struct rec *r, const char *key,
							    const char *fmt, ...)
{
	char text[32];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (rec_key(r, key))
		rec_raw(r, text, (size_t)n);
}

/* Text: v in decimal, with a '-' when negative */
static void rec_decimal(struct rec *r, const char *key, uint64_t v, bool negative)
{
	char text[24], *o = text + sizeof(text);

	do
		*--o = (char)('0' + v % 10);
	while ((v /= 10));
	if (negative)
		*--o = '-';
	if (rec_key(r, key))
		rec_raw(r, o, (size_t)(text + sizeof(text) - o));
}

static void rec_int(struct rec *r, const char *key, int64_t v)
{
	if (r->obj)
		rec_add(r, key, json_object_new_int64(v));
	else
		rec_decimal(r, key, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

static void rec_uint(struct rec *r, const char *key, uint64_t v)
{
	if (r->obj)
		rec_add(r, key, json_object_new_uint64(v));
	else
		rec_decimal(r, key, v, false);
}

static void rec_bool(struct rec *r, const char *key, bool v)
{
	if (r->obj)
		rec_add(r, key, json_object_new_boolean(v));
	else
		rec_print(r, key, "%s", v ? "true" : "false");
}

/* clean[0..n), valid UTF-8, as a string member */
static void rec_clean(struct rec *r, const char *key, const char *clean, size_t n)
{
	if (r->obj)
		rec_add(r, key, json_object_new_string_len(clean, (int)n));
	else if (rec_key(r, key))
		rec_escape(r, clean, n);
}

/* Whether s[0..n) is ASCII, which is valid UTF-8 as it is. */
static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/*
 * Add s[0..n) as a UTF-8 string member; when a byte had to be replaced
 * and hex_key is given, add the raw bytes in hex under hex_key too.
 */
static void rec_bytes(struct rec *r, const char *key, const char *s, size_t n, const char *hex_key)
{
	bool replaced;
	char *clean;

	if (is_ascii(s, n) && memchr(s, '\0', n) == NULL) {
		rec_clean(r, key, s, n);
		return;
	}
	clean = text_utf8_sanitize(s, n, &replaced);
	if (!clean) {
		rec_fail(r, -ENOMEM);
		return;
	}
	rec_clean(r, key, clean, strlen(clean));
	free(clean);
	if (replaced && hex_key) {
		char *hex = text_hex(s, n);

		if (!hex) {
			rec_fail(r, -ENOMEM);
			return;
		}
		rec_clean(r, hex_key, hex, strlen(hex));
		free(hex);
	}
}

/* A string member, or null for a NULL s. */
static void rec_str(struct rec *r, const char *key, const char *s)
{
	if (s) {
		rec_bytes(r, key, s, strlen(s), NULL);
	} else if (r->obj) {
		/* json-c's null is the NULL pointer */
		if (!r->err && json_object_object_add(r->obj, key, NULL))
			r->err = -ENOMEM;
	} else if (rec_key(r, key)) {
		rec_raw(r, "null", 4);
	}
}

__attribute__((format(printf, 2, 3))) static void rec_bad(struct rec *r, const char *fmt, ...)
{
	size_t o = strlen(r->bad);
	va_list ap;

	if (o && o + 2 < sizeof(r->bad)) {
		memcpy(r->bad + o, "; ", 3);
		o += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->bad + o, sizeof(r->bad) - o, fmt, ap);
	va_end(ap);
}

/* A record built as text. */
static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
}

/* A record built with json-c. */
static int rec_init_json(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->obj = json_object_new_object();
	return r->obj ? 0 : -ENOMEM;
}

/* Text: the last members (bad_event), and the closing brace. */
static void rec_close(struct rec *r)
{
	if (r->bad[0])
		rec_str(r, "bad_event", r->bad);
	rec_raw(r, "}", 1);
}

/* Text, closed: the malloc'ed line, releasing the builder; NULL with errno. */
static char *rec_text_line(struct rec *r)
{
	char *line = NULL;
	int err;

	if (rec_room(r, 1))
		r->buf[r->len] = '\0';
	err = r->err;
	if (!err)
		line = r->buf;
	else
		free(r->buf);
	r->buf = NULL;
	if (err)
		errno = -err;
	return line;
}

/* The record as a malloc'ed line, releasing the builder; NULL with errno. */
static char *rec_finish(struct rec *r)
{
	const char *text;
	char *line = NULL;
	int err;

	if (!r->obj) {
		rec_close(r);
		return rec_text_line(r);
	}
	if (r->bad[0])
		rec_str(r, "bad_event", r->bad);
	err = r->err;
	if (!err) {
		text = json_object_to_json_string_ext(r->obj, AUDIT_JSON_FLAGS);
		line = text ? strdup(text) : NULL;
		if (!line)
			err = -ENOMEM;
	}
	json_object_put(r->obj);
	r->obj = NULL;
	if (err)
		errno = -err;
	return line;
}

/* ---- names and small formatting ---- */

static const char *const action_names[PF_ACT_MAX] = {
	[PF_ACT_OPEN_READ] = "open-read",
	[PF_ACT_OPEN_WRITE] = "open-write",
	[PF_ACT_CREATE] = "create",
	[PF_ACT_UNLINK] = "unlink",
	[PF_ACT_RENAME] = "rename",
	[PF_ACT_LINK] = "link",
	[PF_ACT_CONNECT] = "connect",
	[PF_ACT_SENDMSG] = "sendmsg",
	[PF_ACT_TRUNCATE] = "truncate",
	[PF_ACT_SETSOCKOPT] = "setsockopt",
	[PF_ACT_RECEIVE] = "receive",
	[PF_ACT_MOUNT] = "mount",
	[PF_ACT_USERNS] = "userns-create",
	[PF_ACT_PTRACE] = "ptrace",
	[PF_ACT_EXEC] = "exec",
	[PF_ACT_MAP_EXEC] = "map-exec",
	[PF_ACT_SOCKET] = "socket",
	[PF_ACT_BPF] = "bpf",
	[PF_ACT_SIGNAL] = "signal",
	[PF_ACT_MODULE] = "load-module",
	[PF_ACT_SETATTR] = "setattr",
	[PF_ACT_RECEIVE_FD] = "receive-fd",
	[PF_ACT_UNIX_CONNECT] = "unix-connect",
	[PF_ACT_UNIX_SEND] = "unix-send",
	[PF_ACT_SETXATTR] = "setxattr",
	[PF_ACT_SETNICE] = "setnice",
	[PF_ACT_SETIOPRIO] = "setioprio",
	[PF_ACT_SETSCHEDULER] = "setscheduler",
	[PF_ACT_SETRLIMIT] = "setrlimit",
	[PF_ACT_SETPGID] = "setpgid",
	[PF_ACT_MOVEMEMORY] = "movememory",
	[PF_ACT_IOCTL] = "ioctl",
};

const char *audit_action_name(unsigned action)
{
	return action < PF_ACT_MAX ? action_names[action] : NULL;
}

/* The action's name, or "unknown-N", in buf. */
static const char *action_label(unsigned action, char *buf, size_t len)
{
	const char *name = audit_action_name(action);

	if (name)
		return name;
	snprintf(buf, len, "unknown-%u", action);
	return buf;
}

static bool action_is_network(unsigned action)
{
	return action == PF_ACT_CONNECT || action == PF_ACT_SENDMSG || action == PF_ACT_RECEIVE;
}

/* Whether the action's object is another task (ino: its pid, path: its comm). */
static bool action_is_task(unsigned action)
{
	return action == PF_ACT_PTRACE || action == PF_ACT_SIGNAL ||
	       (action >= PF_ACT_SETNICE && action <= PF_ACT_MOVEMEMORY);
}

/*
 * Whether ev is about a network destination. An unknown action is judged
 * by its address family, so that its record still shows what it carried.
 */
static bool event_is_network(const struct pf_event *ev)
{
	if (audit_action_name(ev->action))
		return action_is_network(ev->action);
	return ev->family == AF_INET || ev->family == AF_INET6;
}

static bool addr_is_v4_mapped(const __u8 addr[16])
{
	static const __u8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(addr, prefix, sizeof(prefix)) == 0;
}

/*
 * An event's address as text (policy_addr_format). IPv4 is written here:
 * inet_ntop goes through sprintf, and an event's address is written three
 * times (object, address, denial line).
 */
static void event_addr_text(const __u8 addr[16], char *buf, size_t len)
{
	char *o = buf;
	int i;

	if (!addr_is_v4_mapped(addr) || len < INET_ADDRSTRLEN) {
		policy_addr_format(addr, buf, len);
		return;
	}
	for (i = 12; i < 16; i++) {
		unsigned v = addr[i];

		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 15 ? '.' : '\0';
	}
}

static const char *proto_label(unsigned proto, char *buf, size_t len)
{
	if (proto == IPPROTO_TCP)
		return "tcp";
	if (proto == IPPROTO_UDP)
		return "udp";
	snprintf(buf, len, "proto-%u", proto);
	return buf;
}

/* "ADDR:PORT/PROTO", IPv6 addresses in brackets, in buf. */
static void net_object(const struct pf_event *ev, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN], proto[16];
	bool v4 = addr_is_v4_mapped(ev->addr);

	event_addr_text(ev->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s%s%s:%u/%s", v4 ? "" : "[", addr, v4 ? "" : "]", ev->port,
		 proto_label(ev->proto, proto, sizeof(proto)));
}

/* ---- sockets ---- */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const socket_families[] = {
	[AF_UNIX] = "unix",       [AF_INET] = "inet",     [AF_INET6] = "inet6",
	[AF_NETLINK] = "netlink", [AF_PACKET] = "packet", [AF_BLUETOOTH] = "bluetooth",
	[AF_CAN] = "can",         [AF_ALG] = "alg",       [AF_VSOCK] = "vsock",
	[AF_XDP] = "xdp",
};

static const char *const socket_types[] = {
	[SOCK_STREAM] = "stream", [SOCK_DGRAM] = "dgram",         [SOCK_RAW] = "raw",
	[SOCK_RDM] = "rdm",       [SOCK_SEQPACKET] = "seqpacket", [SOCK_DCCP] = "dccp",
	[SOCK_PACKET] = "packet",
};

/* netlink protocols by number (linux/netlink.h) */
static const char *const netlink_protocols[] = {
	"route",         "unused",   "usersock", "firewall",       "sock-diag",  "nflog",
	"xfrm",          "selinux",  "iscsi",    "audit",          "fib-lookup", "connector",
	"netfilter",     "ip6-fw",   "dnrtmsg",  "kobject-uevent", "generic",    "dm",
	"scsitransport", "ecryptfs", "rdma",     "crypto",         "smc",
};

/* names[i], or PREFIX followed by i, into buf */
static const char *table_label(const char *const *names, size_t n, unsigned i, const char *prefix,
			       char *buf, size_t len)
{
	if (i < n && names[i])
		return names[i];
	snprintf(buf, len, "%s%u", prefix, i);
	return buf;
}

static const char *socket_protocol_label(unsigned family, unsigned protocol, char *buf, size_t len)
{
	if (family == AF_NETLINK)
		return table_label(netlink_protocols, N_OF(netlink_protocols), protocol, "", buf,
				   len);
	if (family != AF_INET && family != AF_INET6)
		return table_label(NULL, 0, protocol, "", buf, len);
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case 262:
		return "mptcp";
	}
	return table_label(NULL, 0, protocol, "", buf, len);
}

/* The socket an event is about: family, type and protocol (ev->ino holds it in full). */
struct socket_desc {
	char family[24], type[24], protocol[24];
	unsigned kind; /* PF_SOCK_*, 0 for none */
};

static void socket_describe(const struct pf_event *ev, struct socket_desc *d)
{
	const char *s;

	s = table_label(socket_families, N_OF(socket_families), ev->family, "family-", d->family,
			sizeof(d->family));
	if (s != d->family)
		snprintf(d->family, sizeof(d->family), "%s", s);
	s = table_label(socket_types, N_OF(socket_types), ev->port, "type-", d->type,
			sizeof(d->type));
	if (s != d->type)
		snprintf(d->type, sizeof(d->type), "%s", s);
	s = socket_protocol_label(ev->family, (unsigned)ev->ino, d->protocol, sizeof(d->protocol));
	if (s != d->protocol)
		snprintf(d->protocol, sizeof(d->protocol), "%s", s);
	d->kind = pf_decide_sock_kind(ev->family, ev->port, (unsigned)ev->ino);
}

/* Length of ev->path, at most PF_PATH_MAX: *unterminated when it is that. */
static size_t event_path_len(const struct pf_event *ev, bool *unterminated)
{
	size_t n = strnlen(ev->path, sizeof(ev->path));

	*unterminated = n == sizeof(ev->path);
	return n;
}

/* the second last written by audit_format_time, as text: records come many a second */
static __thread struct {
	bool valid;
	int64_t sec;
	char text[40];
	size_t len;
} time_again;

int audit_format_time(int64_t real_ns, char *buf, size_t len)
{
	int64_t sec = real_ns / NSEC_PER_SEC, ns = real_ns % NSEC_PER_SEC;
	unsigned us;
	time_t t;
	struct tm tm;
	size_t n;
	int i;

	if (ns < 0) {
		ns += NSEC_PER_SEC;
		sec--;
	}
	if (!time_again.valid || time_again.sec != sec) {
		time_again.valid = false;
		t = (time_t)sec;
		if (!gmtime_r(&t, &tm))
			return -EOVERFLOW;
		n = strftime(time_again.text, sizeof(time_again.text), "%Y-%m-%dT%H:%M:%S", &tm);
		if (!n)
			return -ENOSPC;
		time_again.sec = sec;
		time_again.len = n;
		time_again.valid = true;
	}
	n = time_again.len;
	/* the second, "." and 6 digits, "Z" and the NUL */
	if (len < n + 9)
		return -ENOSPC;
	memcpy(buf, time_again.text, n);
	buf[n] = '.';
	for (us = (unsigned)(ns / 1000), i = 6; i >= 1; i--, us /= 10)
		buf[n + i] = (char)('0' + us % 10);
	buf[n + 7] = 'Z';
	buf[n + 8] = '\0';
	return 0;
}

static int64_t timespec_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

/*
 * Sampled between two reads of CLOCK_BOOTTIME to halve the error. It moves
 * when the wall clock is set, so long-running callers refresh it.
 */
int64_t audit_boot_to_realtime_offset(void)
{
	struct timespec boot1, real, boot2;

	clock_gettime(CLOCK_BOOTTIME, &boot1);
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot2);
	return timespec_ns(&real) - (timespec_ns(&boot1) + timespec_ns(&boot2)) / 2;
}

/* A malloc'ed printf; NULL with errno ENOMEM. */
__attribute__((format(printf, 1, 2))) static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* ---- policy lookups ---- */

/*
 * What the policy of an event's generation says about it: which tree or
 * destination decided (ev->object) and which grant allowed (ev->rule_id).
 * Every index is checked: an event is data from the kernel, and the ids of
 * one generation need not exist in another.
 */
struct judged {
	const struct policy *p; /* NULL: no policy describes the event */
	const struct policy_agent *a;
	unsigned mode;  /* the generation's mode */
	bool forgotten; /* the generation is older than those the writer holds */
	bool newer;     /* the generation is past the one in force: a bad event */
	/* the object: a class tree or own files rule, or a destination */
	bool object_known;
	const struct policy_class *cls;
	const struct policy_tree *tree; /* NULL for the private temporary directory */
	const struct policy_backend *backend;
	const struct policy_dest *dest;
	/* the grant: a family's, or an own rule */
	bool rule_known;
	const struct policy_family *family;
	const struct policy_grant *grant; /* the family's grant; NULL for an own rule */
	const struct policy_place *rule_at;
};

/* The policy and mode of generation gen of inst into j. */
static void judge_generation(struct judged *j, uint32_t gen, const struct audit_instance *inst)
{
	size_t i;

	j->mode = inst->mode;
	if (!inst->gen || gen == inst->gen) {
		j->p = inst->policy;
		j->a = inst->policy_agent;
		return;
	}
	for (i = 0; i < inst->n_older; i++) {
		if (inst->older[i].gen != gen)
			continue;
		j->p = inst->older[i].policy;
		j->a = inst->older[i].policy_agent;
		j->mode = inst->older[i].mode;
		return;
	}
	/* generation 0 comes from no instance: no policy decided it */
	if (gen > inst->gen)
		j->newer = true;
	else if (gen)
		j->forgotten = true;
}

/* The class tree, own tree or destination id names, into j. */
static void judge_object(struct judged *j, uint32_t id)
{
	uint32_t major = POLICY_ID_MAJOR(id), minor = POLICY_ID_MINOR(id);
	const struct policy *p = j->p;
	const struct policy_agent *a = j->a;

	switch (POLICY_ID_KIND(id)) {
	case POLICY_ID_CLASS_TREE:
		if (major >= p->n_classes)
			return;
		/* the private temporary directory is no tree of the policy */
		if (minor >= p->classes[major].n_trees &&
		    !(p->classes[major].private_tmp && minor == 0))
			return;
		j->cls = &p->classes[major];
		if (minor < j->cls->n_trees)
			j->tree = &j->cls->trees[minor];
		break;
	case POLICY_ID_BACKEND_DEST:
		if (major >= p->n_backends || minor >= p->backends[major].n_dests)
			return;
		j->backend = &p->backends[major];
		j->dest = &j->backend->dests[minor];
		break;
	case POLICY_ID_OWN_TREE:
		if (major || minor >= a->n_trees)
			return;
		j->tree = &a->trees[minor];
		break;
	case POLICY_ID_OWN_DEST:
		if (major || minor >= a->n_dests)
			return;
		j->dest = &a->dests[minor];
		break;
	default:
		return;
	}
	j->object_known = true;
}

/* The grant id names, into j. */
static void judge_rule(struct judged *j, uint32_t id)
{
	uint32_t major = POLICY_ID_MAJOR(id), minor = POLICY_ID_MINOR(id);
	const struct policy *p = j->p;
	const struct policy_agent *a = j->a;

	switch (POLICY_ID_KIND(id)) {
	case POLICY_ID_GRANT:
		if (major >= p->n_families || minor >= p->families[major].n_grants)
			return;
		j->family = &p->families[major];
		j->grant = &j->family->grants[minor];
		j->rule_at = &j->grant->at;
		break;
	case POLICY_ID_OWN_TREE:
		if (major || minor >= a->n_trees)
			return;
		j->rule_at = &a->trees[minor].at;
		break;
	case POLICY_ID_OWN_DEST:
		if (major || minor >= a->n_dests)
			return;
		j->rule_at = &a->dests[minor].at;
		break;
	default:
		return;
	}
	j->rule_known = true;
}

static void judge(struct judged *j, const struct pf_event *ev, const struct audit_instance *inst)
{
	memset(j, 0, sizeof(*j));
	judge_generation(j, ev->gen, inst);
	if (!j->p || !j->a)
		return;
	if (ev->object != PF_RULE_NONE)
		judge_object(j, ev->object);
	if (ev->rule_id != PF_RULE_NONE)
		judge_rule(j, ev->rule_id);
}

/*
 * The accesses agent j->a holds on the tree that decided: what its
 * families grant on the tree's class, or what its own rule gives.
 */
static unsigned held_access(const struct judged *j)
{
	const struct policy_family *f;
	unsigned held = 0;
	size_t i, g, c;

	if (!j->cls)
		return j->tree ? j->tree->access : 0;
	c = (size_t)(j->cls - j->p->classes);
	for (i = 0; i < j->a->n_families; i++) {
		if (j->a->families[i].family >= j->p->n_families)
			continue;
		f = &j->p->families[j->a->families[i].family];
		for (g = 0; g < f->n_grants; g++)
			if (f->grants[g].on == POLICY_ON_CLASS && f->grants[g].target == c)
				held |= f->grants[g].actions;
	}
	return held & POLICY_FILE_ACTIONS;
}

/* The decided tree's path: as written, or the instance's private directory. */
static const char *tree_path(const struct judged *j, const struct audit_instance *inst)
{
	if (j->tree)
		return j->tree->path;
	if (j->cls && j->cls->private_tmp)
		return inst->private_tmp ? inst->private_tmp : "(private temporary directory)";
	return NULL;
}

/* "127.0.0.1/32 port 8443 tcp", "localhost ports 8000-8100 udp" into buf */
static void dest_text(const struct policy_dest *d, char *buf, size_t len)
{
	char to[POLICY_HOST_MAX + 1], other[16];
	const char *proto = proto_label(d->proto, other, sizeof(other));

	if (d->host)
		snprintf(to, sizeof(to), "%s", d->host);
	else
		policy_net_format(d->addr, d->prefix, to, sizeof(to));
	if (d->port_lo == d->port_hi)
		snprintf(buf, len, "%s port %u %s", to, d->port_lo, proto);
	else
		snprintf(buf, len, "%s ports %u-%u %s", to, d->port_lo, d->port_hi, proto);
}

/*
 * The description of id in j's policy, in a malloc'ed string: NULL with
 * errno ENOENT when the policy has no such id (or no policy is known),
 * ENOMEM.
 */
static char *id_text(const struct judged *j, uint32_t id)
{
	size_t len = RULE_TEXT;
	char *buf;
	int n;

	if (!j->p || !j->a) {
		errno = ENOENT;
		return NULL;
	}
	for (;;) {
		buf = malloc(len);
		if (!buf)
			return NULL;
		n = policy_id_describe(j->p, j->a, id, buf, len);
		if (n < 0) {
			free(buf);
			errno = -n;
			return NULL;
		}
		if ((size_t)n < len)
			return buf;
		free(buf);
		len = (size_t)n + 1;
	}
}

/* ---- event records ---- */

static const char *const reason_codes[] = {
	[PF_REASON_RULE] = "rule",
	[PF_REASON_NO_RULE] = "no-rule",
	[PF_REASON_ACCESS] = "access",
	[PF_REASON_NO_INSTANCE] = "no-instance",
	[PF_REASON_TOO_DEEP] = "too-deep",
	[PF_REASON_PROTOCOL] = "protocol",
	[PF_REASON_SOURCE_ROUTE] = "source-route",
	[PF_REASON_INBOUND] = "inbound",
	[PF_REASON_NEVER] = "never",
	[PF_REASON_ICMP_ERRORS] = "icmp-errors",
	[PF_REASON_OTHER_TASK] = "other-task",
	[PF_REASON_HOLDS_TREE] = "holds-tree",
	[PF_REASON_SOCKET_KIND] = "socket-kind",
	[PF_REASON_AUDIT] = "audit-unavailable",
};

static const char *reason_code(unsigned reason)
{
	if (reason < sizeof(reason_codes) / sizeof(reason_codes[0]))
		return reason_codes[reason];
	return NULL;
}

/* The one right ev's file action needs, as a POLICY_* bit (the same values). */
static unsigned event_need(const struct pf_event *ev)
{
	return pf_decide_need(ev->action, ev->side);
}

/* "read, exec" or "no access" for a set of accesses, into buf */
static const char *held_text(unsigned held, char *buf, size_t len)
{
	if (!held) {
		snprintf(buf, len, "no access");
		return buf;
	}
	return policy_actions_format(held, buf, len);
}

/*
 * Why a file action was refused on the deepest tree, which the agent holds
 * without the access needed, as a malloc'ed sentence (see reason_text).
 */
static char *access_text(const struct pf_event *ev, const struct audit_instance *inst,
			 const struct judged *j, bool for_line)
{
	const char *agent = inst->agent ? inst->agent : "(unknown)";
	const char *need = policy_action_name(event_need(ev));
	const char *path = tree_path(j, inst);
	char held[128], at[300], of[POLICY_NAME_MAX + 16] = "";

	if (!path)
		return str_printf("the deepest tree holding it lacks %s access", need);
	held_text(held_access(j), held, sizeof(held));
	if (j->cls)
		snprintf(of, sizeof(of), " of class %s", j->cls->name);
	if (!for_line)
		return str_printf("%s access into tree %s%s, where agent %s holds %s", need, path,
				  of, agent, held);
	if (j->tree)
		policy_place_format(&j->tree->at, at, sizeof(at));
	else
		policy_place_format(&j->cls->at, at, sizeof(at));
	return str_printf("tree %s%s (%s) gives this agent %s, not %s", path, of, at, held, need);
}

/*
 * Why a socket was refused, as a malloc'ed sentence (see reason_text): its
 * kind is not among the agent's, or it is of no kind a policy can allow.
 */
static char *socket_text(const struct pf_event *ev, const struct judged *j, const char *agent,
			 bool for_line)
{
	struct socket_desc d;
	char held[128] = "";

	socket_describe(ev, &d);
	if (!d.kind)
		return str_printf("%s %s sockets are of no kind a policy can allow", d.family,
				  d.type);
	policy_sockets_format(d.kind, d.family, sizeof(d.family));
	if (!j->a)
		return str_printf("socket kind %s is not among the agent's", d.family);
	policy_sockets_format(j->a->sockets, held, sizeof(held));
	if (for_line)
		return str_printf("socket kind %s is not among the agent's sockets (%s)", d.family,
				  j->a->sockets ? held : "none");
	return str_printf("socket kind %s is not among the sockets of agent %s (%s)", d.family,
			  agent, j->a->sockets ? held : "none");
}

/*
 * Why ev was decided as it was, as a malloc'ed sentence; for_line words it
 * for the denial line, which names the agent already and wants the place
 * of the rule. NULL with errno ENOMEM, or EINVAL for an unknown reason.
 */
static char *reason_text(const struct pf_event *ev, const struct audit_instance *inst,
			 const struct judged *j, bool for_line)
{
	const char *agent = inst->agent ? inst->agent : "(unknown)";
	bool net = event_is_network(ev);
	char *s;

	switch (ev->reason) {
	case PF_REASON_RULE:
		s = str_printf("allowed by rule");
		break;
	case PF_REASON_NO_RULE:
		if (for_line)
			s = str_printf(net ? "no network rule covers it"
					   : "no data class or files rule holds it");
		else
			s = str_printf("no rule of agent %s covers it", agent);
		break;
	case PF_REASON_ACCESS:
		s = access_text(ev, inst, j, for_line);
		break;
	case PF_REASON_NO_INSTANCE:
		s = str_printf(
			"its cgroup is below pinfold's parent cgroup but is not a confined instance");
		break;
	case PF_REASON_TOO_DEEP:
		s = str_printf("no tree within the %d nearest ancestors holds it", PF_WALK_STEPS);
		break;
	case PF_REASON_PROTOCOL:
		s = str_printf("protocol %u is neither tcp nor udp", ev->proto);
		break;
	case PF_REASON_SOURCE_ROUTE:
		s = str_printf("a source route would send packets to hosts no rule names");
		break;
	case PF_REASON_INBOUND:
		s = str_printf("inbound packets pass only as replies from an allowed destination");
		break;
	case PF_REASON_NEVER:
		s = str_printf(
			"agents may not mount filesystems, create user namespaces, call "
			"bpf(), load kernel code, make device nodes or type into a terminal");
		break;
	case PF_REASON_ICMP_ERRORS:
		s = str_printf("an error queue would let any host's ICMP errors carry bytes in");
		break;
	case PF_REASON_OTHER_TASK:
		s = str_printf("the task is not of the agent's instance");
		break;
	case PF_REASON_HOLDS_TREE:
		s = str_printf("it is or holds a tree the policy names, which must stay where "
			       "the policy names it");
		break;
	case PF_REASON_SOCKET_KIND:
		s = socket_text(ev, j, agent, for_line);
		break;
	case PF_REASON_AUDIT:
		s = str_printf("class %s is audit-required, and the audit log cannot take records",
			       j->cls ? j->cls->name : "(unknown)");
		break;
	default:
		errno = EINVAL;
		return NULL;
	}
	return s;
}

/* schema, kind, time, agent, instance: the members every record starts with */
static void rec_header(struct rec *r, const char *kind, const struct audit_instance *inst,
		       int64_t real_ns)
{
	char time[64];
	int err;

	rec_int(r, "schema", AUDIT_SCHEMA);
	rec_str(r, "kind", kind);
	err = audit_format_time(real_ns, time, sizeof(time));
	if (err)
		rec_fail(r, err);
	else
		rec_str(r, "time", time);
	rec_str(r, "agent", inst->agent);
	rec_str(r, "instance", inst->instance);
	if (inst->on_behalf_of)
		rec_str(r, "on_behalf_of", inst->on_behalf_of);
	if (inst->task)
		rec_str(r, "task", inst->task);
}

static void rec_enforced(struct rec *r, const struct audit_instance *inst)
{
	struct json_object *e;

	if (!r->obj) {
		const char *v = inst->files_unenforced ? "{\"network\":true,\"files\":false}"
						       : "{\"network\":true,\"files\":true}";

		if (rec_key(r, "enforced"))
			rec_raw(r, v, strlen(v));
		return;
	}
	e = json_object_new_object();
	if (!e || audit_json_add(e, "network", json_object_new_boolean(1)) ||
	    audit_json_add(e, "files", json_object_new_boolean(!inst->files_unenforced))) {
		json_object_put(e);
		rec_fail(r, -ENOMEM);
		return;
	}
	rec_add(r, "enforced", e);
}

/* object, path and the file members */
/*
 * object: the path, with an ellipsis where the kernel could not give all
 * of it, so that a truncated path never reads as a real one.
 */
static void rec_path_object(struct rec *r, const char *path, size_t n, unsigned truncated)
{
	static const char ellipsis[] = "\u2026";
	char obj[PF_PATH_MAX + 2 * sizeof(ellipsis)];
	size_t len = 0;

	if (truncated & PF_PATH_NO_ROOT) {
		memcpy(obj, ellipsis, sizeof(ellipsis) - 1);
		len = sizeof(ellipsis) - 1;
	}
	memcpy(obj + len, path, n);
	len += n;
	if (truncated & PF_PATH_CUT) {
		memcpy(obj + len, ellipsis, sizeof(ellipsis) - 1);
		len += sizeof(ellipsis) - 1;
	}
	rec_bytes(r, "object", obj, len, NULL);
}

/*
 * object and path_hmac for a path of a class whose log keeps keyed hashes
 * (log_paths: keyed-hash): the path itself never reaches the record.
 */
static void rec_hashed_path(struct rec *r, const struct pf_event *ev,
			    const struct audit_instance *inst, size_t n)
{
	char hex[AUDIT_HMAC_HEX], obj[AUDIT_HMAC_HEX + 16];

	if (audit_path_hmac(inst->path_key, inst->path_key_len, ev->path, n, hex)) {
		rec_str(r, "object", "(path withheld: no path key)");
		rec_bad(r, "class keeps keyed hashes of paths, and the writer has no path key");
		return;
	}
	snprintf(obj, sizeof(obj), "hmac-sha256:%s", hex);
	rec_str(r, "object", obj);
	rec_str(r, "path_hmac", hex);
}

static void rec_file_object(struct rec *r, const struct pf_event *ev,
			    const struct audit_instance *inst, const struct judged *j)
{
	char dev[32];
	bool unterminated;
	size_t n = event_path_len(ev, &unterminated);

	if (j->cls && j->cls->hash_paths) {
		rec_hashed_path(r, ev, inst, n);
	} else {
		rec_path_object(r, ev->path, n, ev->path_truncated);
		rec_bytes(r, "path", ev->path, n, "path_hex");
	}
	if (ev->dev) {
		snprintf(dev, sizeof(dev), "%llu:%llu", (unsigned long long)(ev->dev >> 20),
			 (unsigned long long)(ev->dev & 0xfffff));
		rec_str(r, "dev", dev);
	}
	if (ev->ino)
		rec_uint(r, "ino", ev->ino);

	if (ev->side == PF_SIDE_SOURCE)
		rec_str(r, "side", "source");
	else if (ev->side == PF_SIDE_TARGET)
		rec_str(r, "side", "target");
	else if (ev->side != PF_SIDE_OBJECT)
		rec_bad(r, "unknown side %u", ev->side);

	if (ev->path_truncated || unterminated)
		rec_bool(r, "path_truncated", 1);
	if (unterminated)
		rec_bad(r, "path not NUL-terminated within %d bytes", PF_PATH_MAX);
}

/* object: the option's name, and the protocol level it was set at */
static void rec_sockopt_object(struct rec *r, const struct pf_event *ev)
{
	bool unterminated;
	size_t n = event_path_len(ev, &unterminated);

	rec_bytes(r, "object", ev->path, n, NULL);
	rec_bytes(r, "option", ev->path, n, "option_hex");
	rec_str(r, "level", ev->family == AF_INET6 ? "ipv6" : "ip");
	if (unterminated)
		rec_bad(r, "option name not NUL-terminated within %d bytes", PF_PATH_MAX);
}

/* object "FAMILY TYPE PROTOCOL", each of them, and the kind the policy names it by */
static void rec_socket_object(struct rec *r, const struct pf_event *ev)
{
	struct socket_desc d;
	char obj[80], kind[32];

	socket_describe(ev, &d);
	snprintf(obj, sizeof(obj), "%s %s %s", d.family, d.type, d.protocol);
	rec_str(r, "object", obj);
	rec_str(r, "family", d.family);
	rec_str(r, "type", d.type);
	rec_str(r, "protocol", d.protocol);
	if (d.kind)
		rec_str(r, "socket_kind", policy_sockets_format(d.kind, kind, sizeof(kind)));
}

/* object: "pid N (COMM)" of the task reached for, and its pid */
static void rec_task_object(struct rec *r, const struct pf_event *ev)
{
	char obj[64], *comm;
	bool replaced;

	comm = text_utf8_sanitize(ev->path, strnlen(ev->path, 16), &replaced);
	snprintf(obj, sizeof(obj), "pid %llu (%s)", (unsigned long long)ev->ino, comm ? comm : "?");
	free(comm);
	rec_str(r, "object", obj);
	rec_int(r, "target_pid", (int64_t)ev->ino);
}

/* as rec_task_object, and the signal sent */
static void rec_signal_object(struct rec *r, const struct pf_event *ev)
{
	rec_task_object(r, ev);
	rec_int(r, "signal", ev->port);
}

/* object and the network members */
static void rec_net_object(struct rec *r, const struct pf_event *ev)
{
	char obj[INET6_ADDRSTRLEN + 32], addr[INET6_ADDRSTRLEN], proto[16];
	bool v4 = addr_is_v4_mapped(ev->addr);

	net_object(ev, obj, sizeof(obj));
	event_addr_text(ev->addr, addr, sizeof(addr));
	rec_str(r, "object", obj);
	rec_str(r, "address", addr);
	rec_int(r, "port", ev->port);
	rec_str(r, "protocol", proto_label(ev->proto, proto, sizeof(proto)));

	if (ev->family == AF_INET6 && v4)
		rec_str(r, "via", "ipv4-mapped-ipv6");
	else if (ev->family == AF_INET && !v4)
		rec_bad(r, "family AF_INET with an address that is not IPv4-mapped");
	else if (ev->family != AF_INET && ev->family != AF_INET6)
		rec_bad(r, "unknown address family %u", ev->family);
}

/* decision, reason, reason_code */
static void rec_verdict(struct rec *r, const struct pf_event *ev, const struct audit_instance *inst,
			const struct judged *j)
{
	char buf[32], *text;

	if (ev->decision == PF_DECISION_ALLOW || ev->decision == PF_DECISION_DENY) {
		rec_str(r, "decision", ev->decision == PF_DECISION_ALLOW ? "allow" : "deny");
	} else {
		snprintf(buf, sizeof(buf), "unknown-%u", ev->decision);
		rec_str(r, "decision", buf);
		rec_bad(r, "unknown decision %u", ev->decision);
	}

	text = reason_text(ev, inst, j, false);
	if (text) {
		rec_str(r, "reason", text);
		rec_str(r, "reason_code", reason_code(ev->reason));
		free(text);
	} else if (errno == EINVAL) {
		snprintf(buf, sizeof(buf), "unknown-%u", ev->reason);
		rec_str(r, "reason", "unknown reason");
		rec_str(r, "reason_code", buf);
		rec_bad(r, "unknown reason %u", ev->reason);
	} else {
		rec_fail(r, -ENOMEM);
	}
}

/* generation, and what is known of its policy */
static void rec_generation(struct rec *r, const struct pf_event *ev,
			   const struct audit_instance *inst, const struct judged *j)
{
	char *text;

	rec_int(r, "generation", ev->gen);
	if (j->newer)
		rec_bad(r, "generation %u is past the one in force (%u)", ev->gen, inst->gen);
	if (!j->forgotten)
		return;
	text = str_printf("the writer no longer holds the policy of generation %u; its "
			  "policy-applied record names it",
			  ev->gen);
	if (!text) {
		rec_fail(r, -ENOMEM);
		return;
	}
	rec_str(r, "policy_unknown", text);
	free(text);
}

/*
 * The description of id (rule or object) under key; a bad_event when j's
 * policy is known and lookup found no such id (say names which).
 */
static void rec_id_text(struct rec *r, const struct judged *j, const char *key, uint32_t id,
			bool known, const char *say)
{
	char *text = id_text(j, id);

	if (text) {
		rec_str(r, key, text);
		free(text);
	} else if (errno == ENOMEM) {
		rec_fail(r, -ENOMEM);
	}
	if (!known && j->p && j->a)
		rec_bad(r, "%s id %u is not in the agent's policy", say, id);
}

/* class, tree or backend, destination; decided_by_id, decided_by */
static void rec_decider(struct rec *r, const struct pf_event *ev, const struct audit_instance *inst,
			const struct judged *j)
{
	char dest[POLICY_HOST_MAX + 64];
	const char *path = tree_path(j, inst);

	if (ev->object == PF_RULE_NONE)
		return;
	if (j->cls)
		rec_str(r, "class", j->cls->name);
	if (path)
		rec_str(r, "tree", path);
	if (j->backend)
		rec_str(r, "backend", j->backend->name);
	if (j->dest) {
		dest_text(j->dest, dest, sizeof(dest));
		rec_str(r, "destination", dest);
	}
	rec_int(r, "decided_by_id", ev->object);
	rec_id_text(r, j, "decided_by", ev->object, j->object_known, "object");
}

/* rule_id, rule, family, rule_at: the grant that allowed */
static void rec_grant(struct rec *r, const struct pf_event *ev, const struct judged *j)
{
	char at[300];

	if (ev->rule_id == PF_RULE_NONE)
		return;
	rec_int(r, "rule_id", ev->rule_id);
	rec_id_text(r, j, "rule", ev->rule_id, j->rule_known, "rule");
	if (j->family)
		rec_str(r, "family", j->family->name);
	if (j->rule_at)
		rec_str(r, "rule_at", policy_place_format(j->rule_at, at, sizeof(at)));
	if (j->grant && j->grant->approved_by)
		rec_str(r, "approved_by", j->grant->approved_by);
}

/* mode, and applied: false for a denial the mode let pass */
static void rec_mode(struct rec *r, const struct pf_event *ev, unsigned mode_value)
{
	const char *mode = policy_mode_name(mode_value);
	char buf[32];

	if (!mode) {
		snprintf(buf, sizeof(buf), "unknown-%u", mode_value);
		mode = buf;
	}
	rec_str(r, "mode", mode);
	if (ev->flags & PF_EVENT_NOT_APPLIED)
		rec_bool(r, "applied", 0);
	if ((ev->flags & PF_EVENT_NOT_APPLIED) && ev->decision != PF_DECISION_DENY)
		rec_bad(r, "only a denial can be not applied");
	if (ev->flags & ~PF_EVENT_NOT_APPLIED)
		rec_bad(r, "unknown event flags 0x%x", ev->flags & ~PF_EVENT_NOT_APPLIED);
}

/* ---- the same text again ---- */

void audit_again_free(struct audit_again *a)
{
	free(a->text);
	memset(a, 0, sizeof(*a));
}

/* ev as a key: without its time and number, and nothing of its path after the NUL */
static void again_key(const struct pf_event *ev, struct pf_event *key)
{
	size_t n = strnlen(ev->path, sizeof(ev->path));

	memcpy(key, ev, offsetof(struct pf_event, path) + n);
	memset(key->path + n, 0, sizeof(key->path) - n);
	key->boot_ns = 0;
	key->seq = 0;
}

static bool inst_same(const struct audit_instance *a, const struct audit_instance *b)
{
	return a->agent == b->agent && a->instance == b->instance && a->policy == b->policy &&
	       a->policy_agent == b->policy_agent && a->files_unenforced == b->files_unenforced &&
	       a->mode == b->mode && a->gen == b->gen && a->older == b->older &&
	       a->n_older == b->n_older && a->private_tmp == b->private_tmp &&
	       a->on_behalf_of == b->on_behalf_of && a->task == b->task &&
	       a->path_key == b->path_key && a->path_key_len == b->path_key_len;
}

const char *audit_again_find(const struct audit_again *a, const struct pf_event *ev,
			     const struct audit_instance *inst, size_t *len)
{
	struct pf_event key;

	if (!a->valid || !inst_same(&a->inst, inst))
		return NULL;
	again_key(ev, &key);
	if (memcmp(&key, &a->ev, sizeof(key)))
		return NULL;
	*len = a->len;
	return a->text;
}

void audit_again_keep(struct audit_again *a, const struct pf_event *ev,
		      const struct audit_instance *inst, const char *text, size_t len)
{
	char *p;

	a->valid = false;
	if (len + 1 > a->cap) {
		p = realloc(a->text, len + 1);
		if (!p)
			return; /* nothing kept: made again next time */
		a->text = p;
		a->cap = len + 1;
	}
	memcpy(a->text, text, len);
	a->text[len] = '\0';
	a->len = len;
	again_key(ev, &a->ev);
	a->inst = *inst;
	a->valid = true;
}

/* the members of the last decision record from action on, of this thread's writer */
static __thread struct audit_again tail_again;

void audit_format_forget(void)
{
	tail_again.valid = false;
}

char *audit_format_event(const struct pf_event *ev, const struct audit_instance *inst,
			 int64_t boot_to_real_ns)
{
	const char *again;
	struct judged j;
	char action[32];
	size_t start, n;
	struct rec r;

	if (!ev || !inst) {
		errno = EINVAL;
		return NULL;
	}
	rec_init(&r);

	/* unsigned, so that a garbage boot_ns wraps instead of overflowing */
	rec_header(&r, "decision", inst, (int64_t)(ev->boot_ns + (uint64_t)boot_to_real_ns));
	rec_int(&r, "pid", ev->pid);
	rec_int(&r, "uid", ev->uid);
	rec_bytes(&r, "comm", ev->comm, strnlen(ev->comm, sizeof(ev->comm)), "comm_hex");
	rec_uint(&r, "cgroup_id", ev->cgroup_id);
	rec_uint(&r, "seq", ev->seq);

	/* the rest depends on neither the time nor the number: a flood's is one text */
	again = audit_again_find(&tail_again, ev, inst, &n);
	if (again) {
		rec_raw(&r, again, n);
		return rec_text_line(&r);
	}
	start = r.len;
	judge(&j, ev, inst);
	rec_str(&r, "action", action_label(ev->action, action, sizeof(action)));
	if (!audit_action_name(ev->action))
		rec_bad(&r, "unknown action %u", ev->action);
	if (event_is_network(ev))
		rec_net_object(&r, ev);
	else if (ev->action == PF_ACT_SETSOCKOPT)
		rec_sockopt_object(&r, ev);
	else if (ev->action == PF_ACT_SIGNAL)
		rec_signal_object(&r, ev);
	else if (action_is_task(ev->action))
		rec_task_object(&r, ev);
	else if (ev->action == PF_ACT_SOCKET)
		rec_socket_object(&r, ev);
	else
		rec_file_object(&r, ev, inst, &j);
	if (ev->action == PF_ACT_SETRLIMIT)
		rec_int(&r, "resource", ev->port);

	rec_verdict(&r, ev, inst, &j);
	rec_generation(&r, ev, inst, &j);
	rec_decider(&r, ev, inst, &j);
	rec_grant(&r, ev, &j);
	rec_mode(&r, ev, j.mode);
	rec_enforced(&r, inst);
	rec_close(&r);
	if (!r.err)
		audit_again_keep(&tail_again, ev, inst, r.buf + start, r.len - start);
	return rec_text_line(&r);
}

/* ---- denial lines ---- */

static void put_escaped_str(FILE *f, const char *s)
{
	text_put_escaped(f, s, strlen(s), false);
}

static bool yaml_plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("/._+-", c));
}

/* s[0..n) as a YAML flow scalar: plain when unambiguous, else quoted. */
static void put_yaml_scalar(FILE *f, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && yaml_plain_char(s[i]))
		i++;
	if (n && i == n && s[0] != '-') {
		fwrite(s, 1, n, f);
		return;
	}
	/* NEEDSWORK: YAML reads \xNN as U+00NN; hints for non-UTF-8 paths are wrong */
	fputc('"', f);
	text_put_escaped(f, s, n, true);
	fputc('"', f);
}

/*
 * Length of the parent directory of path[0..n): "/srv/x" for
 * "/srv/x/f.txt", "/" for "/f"; 0 when the path has no slash.
 */
static size_t parent_len(const char *path, size_t n)
{
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	return n;
}

/* What an own files rule needs to give need, as its access value. */
static const char *access_for(unsigned need)
{
	if (need == POLICY_READ)
		return "read";
	if (need == POLICY_EXEC)
		return "[read, exec]";
	return "read-write";
}

/*
 * The hint for a tree that lacks the access: a grant on its class, which
 * goes into a family (and so reaches every agent holding that family), or
 * the access of the agent's own rule.
 */
static void put_access_hint(FILE *f, const struct pf_event *ev, const struct audit_instance *inst,
			    const struct judged *j)
{
	unsigned need = event_need(ev);
	char actions[128], at[300];

	if (j->cls) {
		fputs("; allow with: {class: ", f);
		put_yaml_scalar(f, j->cls->name, strlen(j->cls->name));
		fprintf(f, ", actions: [%s]} among the grants of a family of agent ",
			policy_action_name(need));
		put_escaped_str(f, inst->agent ? inst->agent : "(unknown)");
		return;
	}
	if (j->tree) {
		policy_actions_format(j->tree->access | need, actions, sizeof(actions));
		fprintf(f, "; allow with: access: [%s] in the rule at ", actions);
		put_escaped_str(f, policy_place_format(&j->tree->at, at, sizeof(at)));
		return;
	}
	fprintf(f, "; allow with: %s access on the tree that decided (object id %u)",
		policy_action_name(need), ev->object);
}

/*
 * The hint for a refused socket: the agent's sockets key with the kind
 * added, or, for a socket of no kind, the kinds there are.
 */
static void put_socket_hint(FILE *f, const struct pf_event *ev, const struct audit_instance *inst,
			    const struct judged *j)
{
	struct socket_desc d;
	char kinds[128];

	socket_describe(ev, &d);
	if (!d.kind) {
		fputs("; no policy rule can allow it: the socket kinds are tcp, udp, ping and raw "
		      "(IPv4 and IPv6), unix, netlink-route and packet",
		      f);
		return;
	}
	policy_sockets_format((j->a ? j->a->sockets : 0) | d.kind, kinds, sizeof(kinds));
	fprintf(f, "; allow with: sockets: [%s] in agent ", kinds);
	put_escaped_str(f, inst->agent ? inst->agent : "(unknown)");
}

/*
 * The tail after WHY: what policy change would allow ev. An open names the
 * file itself, the narrowest tree (a tree root may be a file; it follows
 * that inode). Creating, unlinking, renaming and linking change names in a
 * directory, and the object may not exist yet: those name the parent
 * directory.
 */
static void put_hint(FILE *f, const struct pf_event *ev, const struct audit_instance *inst,
		     const struct judged *j)
{
	char addr[INET6_ADDRSTRLEN], proto[16];
	bool unterminated, is_open;
	size_t n, dir;

	switch (ev->reason) {
	case PF_REASON_ACCESS:
		put_access_hint(f, ev, inst, j);
		return;
	case PF_REASON_NO_RULE:
	case PF_REASON_TOO_DEEP:
		break;
	case PF_REASON_NO_INSTANCE:
		fputs("; no policy rule can allow it: keep the process in its instance's cgroup",
		      f);
		return;
	case PF_REASON_PROTOCOL:
		fputs("; no policy rule can allow it: pinfold allows tcp and udp only", f);
		return;
	case PF_REASON_SOURCE_ROUTE:
		fputs("; no policy rule can allow it: source routes are always refused", f);
		return;
	case PF_REASON_INBOUND:
		fputs("; no policy rule can allow it: agents accept no connections or datagrams "
		      "but replies",
		      f);
		return;
	case PF_REASON_NEVER:
	case PF_REASON_ICMP_ERRORS:
	case PF_REASON_OTHER_TASK:
	case PF_REASON_HOLDS_TREE:
		fputs("; no policy rule can allow it", f);
		return;
	case PF_REASON_SOCKET_KIND:
		put_socket_hint(f, ev, inst, j);
		return;
	default:
		return;
	}

	fputs("; allow with: ", f);
	if (event_is_network(ev)) {
		event_addr_text(ev->addr, addr, sizeof(addr));
		fputs("network: {to: ", f);
		put_yaml_scalar(f, addr, strlen(addr));
		fprintf(f, ", port: %u, proto: %s}", ev->port,
			proto_label(ev->proto, proto, sizeof(proto)));
		return;
	}
	n = event_path_len(ev, &unterminated);
	if (ev->path_truncated || unterminated) {
		fputs("a files rule for the tree that holds it (the path is incomplete)", f);
		return;
	}
	/* actions on an existing file name the file; the others its directory */
	is_open = ev->action == PF_ACT_OPEN_READ || ev->action == PF_ACT_OPEN_WRITE ||
		  ev->action == PF_ACT_TRUNCATE;
	dir = is_open ? n : parent_len(ev->path, n);
	fputs("files: {path: ", f);
	if (dir)
		put_yaml_scalar(f, ev->path, dir);
	else if (n)
		put_yaml_scalar(f, ev->path, n);
	else
		fputs(is_open ? "FILE" : "DIRECTORY", f);
	fprintf(f, ", access: %s}", access_for(event_need(ev)));
	if (!n)
		fputs(" (the kernel reported no path)", f);
}

/* "ACTION OBJECT (agent A, pid P, COMM): WHY", escaped */
static int put_denial_head(FILE *f, const struct pf_event *ev, const struct audit_instance *inst,
			   const struct judged *j)
{
	char action[32], obj[INET6_ADDRSTRLEN + 32], hmac[AUDIT_HMAC_HEX], *why;
	struct socket_desc d;
	bool unterminated;
	size_t n;

	why = reason_text(ev, inst, j, true);
	if (!why && errno == ENOMEM)
		return -ENOMEM;

	fprintf(f, "pinfold: %s %s ", (ev->flags & PF_EVENT_NOT_APPLIED) ? "would deny" : "denied",
		action_label(ev->action, action, sizeof(action)));
	if (event_is_network(ev)) {
		net_object(ev, obj, sizeof(obj));
		fputs(obj, f);
	} else if (ev->action == PF_ACT_SOCKET) {
		socket_describe(ev, &d);
		fprintf(f, "%s %s %s", d.family, d.type, d.protocol);
	} else if (action_is_task(ev->action)) {
		fprintf(f, "pid %llu (", (unsigned long long)ev->ino);
		text_put_escaped(f, ev->path, strnlen(ev->path, 16), false);
		fputc(')', f);
	} else if (j->cls && j->cls->hash_paths) {
		n = event_path_len(ev, &unterminated);
		if (audit_path_hmac(inst->path_key, inst->path_key_len, ev->path, n, hmac))
			fputs("(path withheld)", f);
		else
			fprintf(f, "hmac-sha256:%s", hmac);
	} else {
		n = event_path_len(ev, &unterminated);
		if (ev->path_truncated & PF_PATH_NO_ROOT)
			fputs("\u2026", f);
		text_put_escaped(f, ev->path, n, false);
		if ((ev->path_truncated & PF_PATH_CUT) || unterminated)
			fputs("\u2026", f);
	}
	fputs(" (", f);
	if (inst->agent) {
		fputs("agent ", f);
		put_escaped_str(f, inst->agent);
		fputs(", ", f);
	}
	if (ev->action == PF_ACT_RECEIVE) {
		/* judged in softirq context: no task acted */
		fputs("inbound", f);
	} else {
		fprintf(f, "pid %u, ", ev->pid);
		text_put_escaped(f, ev->comm, strnlen(ev->comm, sizeof(ev->comm)), false);
	}
	fputs("): ", f);
	if (why)
		put_escaped_str(f, why);
	else
		fprintf(f, "unknown reason %u", ev->reason);
	free(why);
	return 0;
}

char *audit_format_denial(const struct pf_event *ev, const struct audit_instance *inst)
{
	struct judged j;
	char *line = NULL;
	size_t size;
	FILE *f;
	int err;

	if (!ev || !inst || ev->decision != PF_DECISION_DENY) {
		errno = EINVAL;
		return NULL;
	}
	f = open_memstream(&line, &size);
	if (!f)
		return NULL;

	judge(&j, ev, inst);
	err = put_denial_head(f, ev, inst, &j);
	if (!err)
		put_hint(f, ev, inst, &j);
	if (!err && ferror(f))
		err = -ENOMEM;
	if (fclose(f) && !err)
		err = -errno;
	if (err) {
		free(line);
		errno = -err;
		return NULL;
	}
	return line;
}

/* ---- notes ---- */

static const char *const note_kinds[] = {"instance-start", "instance-exit",   "events-lost",
					 "policy-applied", "policy-rejected", "audit-blocked",
					 "daemon",         "control"};
static const char *const header_keys[] = {"schema",   "kind",         "time", "agent",
					  "instance", "on_behalf_of", "task", "enforced"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

#define IN_LIST(s, list) in_list(s, list, sizeof(list) / sizeof((list)[0]))

/*
 * detail_json parsed strictly as one JSON object, with nothing but white
 * space after it; NULL with errno EINVAL or ENOMEM. Invalid UTF-8 is let
 * through here (a caller may hold a command name in any encoding) and
 * replaced by json_clean.
 */
static struct json_object *parse_detail(const char *detail_json)
{
	size_t len = strlen(detail_json), end;
	struct json_tokener *tok;
	struct json_object *obj;

	if (len >= INT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		errno = ENOMEM;
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	obj = json_tokener_parse_ex(tok, detail_json, (int)len + 1);
	end = json_tokener_get_parse_end(tok);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
		    !json_object_is_type(obj, json_type_object) ||
		    end + strspn(detail_json + end, " \t\r\n") < len)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	if (!obj)
		errno = EINVAL;
	return obj;
}

static struct json_object *json_clean_string(const char *s, size_t n)
{
	struct json_object *str;
	bool replaced;
	char *clean;

	clean = text_utf8_sanitize(s, n, &replaced);
	if (!clean)
		return NULL;
	str = json_object_new_string(clean);
	free(clean);
	return str;
}

static int json_clean(struct json_object *v, struct json_object **out);

/* Clean copies of the members of object v into copy; 0 or -ENOMEM. */
static int json_clean_members(struct json_object *v, struct json_object *copy)
{
	struct json_object *kid;
	bool replaced;
	char *k;
	int err;

	json_object_object_foreach(v, key, val)
	{
		k = text_utf8_sanitize(key, strlen(key), &replaced);
		err = k ? json_clean(val, &kid) : -ENOMEM;
		/* json_object_object_add copies the key */
		if (!err && json_object_object_add(copy, k, kid)) {
			json_object_put(kid);
			err = -ENOMEM;
		}
		free(k);
		if (err)
			return err;
	}
	return 0;
}

/* Clean copies of the items of array v into copy; 0 or -ENOMEM. */
static int json_clean_items(struct json_object *v, struct json_object *copy)
{
	struct json_object *kid;
	size_t i;
	int err;

	for (i = 0; i < json_object_array_length(v); i++) {
		err = json_clean(json_object_array_get_idx(v, i), &kid);
		if (!err && json_object_array_add(copy, kid)) {
			json_object_put(kid);
			err = -ENOMEM;
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * A copy of v whose strings and keys are all valid UTF-8, into *out (NULL
 * for a JSON null); 0 or -ENOMEM. Recursion is bounded by the tokener's
 * depth limit.
 */
static int json_clean(struct json_object *v, struct json_object **out)
{
	struct json_object *copy;
	int err = 0;

	*out = NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		copy = json_clean_string(json_object_get_string(v),
					 (size_t)json_object_get_string_len(v));
		break;
	case json_type_array:
		copy = json_object_new_array();
		if (copy)
			err = json_clean_items(v, copy);
		break;
	case json_type_object:
		copy = json_object_new_object();
		if (copy)
			err = json_clean_members(v, copy);
		break;
	default:
		*out = json_object_get(v); /* null, numbers, booleans: shared */
		return 0;
	}
	if (!copy || err) {
		json_object_put(copy);
		return -ENOMEM;
	}
	*out = copy;
	return 0;
}

/* Copy detail's members into r, cleaned; replacing a header member is EINVAL. */
static void rec_merge(struct rec *r, struct json_object *detail)
{
	struct json_object *clean;

	if (json_clean(detail, &clean)) {
		rec_fail(r, -ENOMEM);
		return;
	}
	json_object_object_foreach(clean, key, val)
	{
		if (IN_LIST(key, header_keys)) {
			rec_fail(r, -EINVAL);
			break;
		}
		if (!r->err && json_object_object_add(r->obj, key, json_object_get(val))) {
			json_object_put(val);
			rec_fail(r, -ENOMEM);
		}
	}
	json_object_put(clean);
}

/* The note of kind with detail's members (owned, may be NULL) merged in. */
static char *format_note(const char *kind, const struct audit_instance *inst,
			 struct json_object *detail)
{
	struct timespec now;
	struct rec r;

	if (rec_init_json(&r)) {
		json_object_put(detail);
		errno = ENOMEM;
		return NULL;
	}

	clock_gettime(CLOCK_REALTIME, &now);
	rec_header(&r, kind, inst, timespec_ns(&now));
	if (detail)
		rec_merge(&r, detail);
	rec_enforced(&r, inst);
	json_object_put(detail);
	return rec_finish(&r);
}

char *audit_format_note(const char *kind, const struct audit_instance *inst,
			const char *detail_json)
{
	struct json_object *detail = NULL;

	if (!kind || !inst || !IN_LIST(kind, note_kinds)) {
		errno = EINVAL;
		return NULL;
	}
	if (detail_json) {
		detail = parse_detail(detail_json);
		if (!detail)
			return NULL;
	}
	return format_note(kind, inst, detail);
}

char *audit_format_events_lost(const struct audit_instance *inst, uint64_t count,
			       uint64_t first_seq, uint64_t last_seq, const char *cause)
{
	struct json_object *detail;

	if (!inst || !cause) {
		errno = EINVAL;
		return NULL;
	}
	detail = json_object_new_object();
	if (!detail || audit_json_add(detail, "count", json_object_new_uint64(count)) ||
	    (first_seq != AUDIT_SEQ_UNKNOWN &&
	     (audit_json_add(detail, "first_seq", json_object_new_uint64(first_seq)) ||
	      audit_json_add(detail, "last_seq", json_object_new_uint64(last_seq)))) ||
	    audit_json_add(detail, "cause", json_object_new_string(cause))) {
		json_object_put(detail);
		errno = ENOMEM;
		return NULL;
	}
	return format_note("events-lost", inst, detail);
}

/* The addresses of one resolved name as a JSON array; NULL when memory runs out. */
static struct json_object *addr_list(const struct compiled_name *nm)
{
	struct json_object *list = json_object_new_array(), *str;
	char text[INET6_ADDRSTRLEN];
	size_t k;

	for (k = 0; list && k < nm->n_addrs; k++) {
		policy_addr_format(nm->addrs[k], text, sizeof(text));
		str = json_object_new_string(text);
		if (!str || json_object_array_add(list, str)) {
			json_object_put(str);
			json_object_put(list);
			return NULL;
		}
	}
	return list;
}

struct json_object *audit_resolved_json(const struct policy *p, const struct policy_agent *a,
					const struct compiled_name *names, size_t n)
{
	struct json_object *res = json_object_new_object();
	char key[RULE_TEXT];
	size_t i;
	int len;

	for (i = 0; res && i < n; i++) {
		len = p && a ? policy_id_describe(p, a, names[i].object, key, sizeof(key)) : -1;
		if (len < 0 || (size_t)len >= sizeof(key))
			snprintf(key, sizeof(key), "object %u (%s)", names[i].object,
				 names[i].host ? names[i].host : "?");
		if (audit_json_add(res, key, addr_list(&names[i]))) {
			json_object_put(res);
			return NULL;
		}
	}
	return res;
}

/* ---- retention and keyed hashes ---- */

/* Whether a class holds protected health information: "phi", "phi.x". */
static bool class_is_phi(const struct policy_class *c)
{
	return !strncmp(c->name, "phi", 3) && (c->name[3] == '\0' || c->name[3] == '.');
}

const char *audit_event_retain(const struct pf_event *ev, const struct audit_instance *inst)
{
	struct judged j;

	judge(&j, ev, inst);
	if (j.cls && class_is_phi(j.cls))
		return "phi";
	return ev->decision == PF_DECISION_ALLOW ? "routine" : "decision";
}

int audit_path_hmac(const unsigned char *key, size_t key_len, const char *path, size_t n,
		    char hex[AUDIT_HMAC_HEX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (!key || !key_len)
		return -ENOKEY;
	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)path, n, mac, &len) ||
	    len != 32)
		return -EIO;
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

/* ---- grants ---- */

/* {"grant": TEXT, "approved_by": WHO} for rule id of agent a; NULL when memory runs out */
static struct json_object *grant_json(const struct policy *p, const struct policy_agent *a,
				      uint32_t id, const char *approved_by)
{
	struct json_object *o = json_object_new_object();
	char *text = id_text(&(struct judged){.p = p, .a = a}, id);

	if (!o || !text || audit_json_add(o, "grant", json_object_new_string(text)) ||
	    (approved_by &&
	     audit_json_add(o, "approved_by", json_object_new_string(approved_by)))) {
		json_object_put(o);
		o = NULL;
	}
	free(text);
	return o;
}

/* Append item (NULL: its making failed) to list; nonzero on failure. */
static int push(struct json_object *list, struct json_object *item)
{
	if (item && !json_object_array_add(list, item))
		return 0;
	json_object_put(item);
	return 1;
}

struct json_object *audit_grants_json(const struct policy *p, const struct policy_agent *a)
{
	struct json_object *list = json_object_new_array();
	size_t i, g;
	int err = !list;

	for (i = 0; !err && i < a->n_families; i++) {
		size_t f = a->families[i].family;
		const struct policy_family *fam = &p->families[f];

		for (g = 0; !err && g < fam->n_grants; g++)
			err = push(list, grant_json(p, a, POLICY_ID(POLICY_ID_GRANT, f, g),
						    fam->grants[g].approved_by));
	}
	for (i = 0; !err && i < a->n_trees; i++)
		err = push(list, grant_json(p, a, POLICY_ID(POLICY_ID_OWN_TREE, 0, i), NULL));
	for (i = 0; !err && i < a->n_dests; i++)
		err = push(list, grant_json(p, a, POLICY_ID(POLICY_ID_OWN_DEST, 0, i), NULL));
	if (err) {
		json_object_put(list);
		return NULL;
	}
	return list;
}
