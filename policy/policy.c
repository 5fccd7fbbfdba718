// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy.c - parse and validate YAML policies; see docs/policy.md.
 *
 * yaml_tree.c reads the text into nodes, literally; this file checks them
 * against the policy schema. Every error carries the line and column of the
 * node it is about.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "policy.h"
#include "yaml_tree.h"

enum {
	QUOTE_MAX = 48, /* bytes of a value quoted in a message */
	AGENT_NAME_MAX = 63,
	FIELDS_MAX = 8, /* keys of one schema mapping */
	POLICY_FILE_MAX = 1 << 20,
};

/* One key a mapping may hold. */
struct field {
	const char *key;
	bool required;
};

static const struct field policy_fields[] = {{"version", true}, {"agents", true}};
static const struct field agent_fields[] = {{"network", false}, {"files", false}, {"mode", false}};
static const struct field dest_fields[] = {
	{"to", true}, {"port", true}, {"proto", true}, {"audit", false}};
static const struct field tree_fields[] = {{"path", true}, {"access", true}, {"audit", false}};

#define N_FIELDS(a) (sizeof(a) / sizeof((a)[0]))

#define fail_node(err, n, ...) policy_error_set(err, (n)->line, (n)->column, __VA_ARGS__)

/* s as a double-quoted, escaped string of at most QUOTE_MAX bytes, in buf */
static const char *quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == QUOTE_MAX) {
			o += snprintf(buf + o, size - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += snprintf(buf + o, size - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* What a node is, for "found ..." in messages. */
static const char *found(char *buf, size_t size, const struct ynode *n)
{
	if (n->kind == YNODE_MAPPING)
		return "a mapping";
	if (n->kind == YNODE_SEQUENCE)
		return "a sequence";
	if (n->plain && n->len == 0)
		return "an empty value";
	return quote(buf, size, n->text, n->len);
}

/* ---- schema ---- */

/* The scalar node n, or an error saying what was expected instead. */
static int need_scalar(struct policy_error *err, const struct ynode *n, const char *what)
{
	char q[QUOTE_MAX + 16];

	if (n->kind != YNODE_SCALAR || (n->plain && n->len == 0))
		return fail_node(err, n, "expected %s, found %s", what, found(q, sizeof(q), n));
	return 0;
}

static void field_list(char *buf, size_t size, const struct field *fields, size_t n_fields)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n_fields && o < size; i++)
		o += snprintf(buf + o, size - o, "%s%s", i ? ", " : "", fields[i].key);
}

/*
 * Check that map is a mapping holding only the given keys, each at most
 * once, and all the required ones; vals[i] is the value of fields[i] or NULL.
 */
static int get_fields(struct policy_error *err, const struct ynode *map, const char *what,
		      const struct field *fields, size_t n_fields, const struct ynode **vals)
{
	const struct ynode *keys[FIELDS_MAX] = {0};
	char q[QUOTE_MAX + 16], list[128];
	size_t i, f;

	if (n_fields > FIELDS_MAX)
		return -E2BIG;
	if (map->kind != YNODE_MAPPING)
		return fail_node(err, map, "expected a mapping for %s, found %s", what,
				 found(q, sizeof(q), map));
	for (f = 0; f < n_fields; f++)
		vals[f] = NULL;

	for (i = 0; i + 1 < map->n_kids; i += 2) {
		const struct ynode *key = map->kids[i];

		if (key->kind != YNODE_SCALAR)
			return fail_node(err, key, "expected a key in %s, found %s", what,
					 found(q, sizeof(q), key));
		for (f = 0; f < n_fields; f++)
			if (!strcmp(key->text, fields[f].key))
				break;
		if (f == n_fields) {
			field_list(list, sizeof(list), fields, n_fields);
			return fail_node(err, key, "unknown key %s in %s: expected one of %s",
					 quote(q, sizeof(q), key->text, key->len), what, list);
		}
		if (vals[f])
			return fail_node(err, key, "duplicate key \"%s\" in %s, first at %u:%u",
					 fields[f].key, what, keys[f]->line, keys[f]->column);
		keys[f] = key;
		vals[f] = map->kids[i + 1];
	}

	for (f = 0; f < n_fields; f++)
		if (fields[f].required && !vals[f])
			return fail_node(err, map, "missing key \"%s\" in %s", fields[f].key, what);
	return 0;
}

static int parse_bool(struct policy_error *err, const struct ynode *n, const char *key, bool *out)
{
	char q[QUOTE_MAX + 16];

	if (n->kind == YNODE_SCALAR && n->plain && !strcmp(n->text, "true")) {
		*out = true;
		return 0;
	}
	if (n->kind == YNODE_SCALAR && n->plain && !strcmp(n->text, "false")) {
		*out = false;
		return 0;
	}
	return fail_node(err, n, "expected true or false for %s, found %s", key,
			 found(q, sizeof(q), n));
}

static bool is_mapped_v4(const uint8_t addr[16])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(addr, prefix, sizeof(prefix));
}

void policy_addr_format(const uint8_t addr[16], char *buf, size_t len)
{
	if (is_mapped_v4(addr))
		inet_ntop(AF_INET, addr + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
}

int policy_net_format(const uint8_t addr[16], unsigned prefix, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];

	if (prefix >= 96 && is_mapped_v4(addr)) {
		policy_addr_format(addr, text, sizeof(text));
		return snprintf(buf, len, "%s/%u", text, prefix - 96);
	}
	inet_ntop(AF_INET6, addr, text, sizeof(text));
	return snprintf(buf, len, "%s/%u", text, prefix);
}

/* Clear the bits of addr after the first prefix; true if any was set. */
static bool clear_host_bits(uint8_t addr[16], unsigned prefix)
{
	bool had = false;
	unsigned i;

	for (i = 0; i < 16; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = (uint8_t)(0xff00 >> keep);

		had |= (addr[i] & ~mask) != 0;
		addr[i] &= mask;
	}
	return had;
}

/*
 * Decimal digits only, at most max_digits of them, and no leading zero
 * (YAML 1.1 readers take 010 for octal 8: a reviewer must not guess); -1
 * otherwise.
 */
static long parse_decimal(const char *s, size_t len, size_t max_digits)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > max_digits || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether to's value (before any /prefix) is meant as an address: a ':', or digits and dots only. */
static bool looks_like_address(const char *s, size_t len)
{
	size_t i;

	if (memchr(s, ':', len))
		return true;
	for (i = 0; i < len; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '.')
			return false;
	return true;
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* Why s is not an RFC 1123 hostname, or NULL when it is one. */
static const char *host_problem(const char *s, size_t len)
{
	size_t i, label = 0, digits = 0;

	if (len > POLICY_HOST_MAX)
		return "longer than 253 bytes";
	if (memchr(s, '*', len))
		return "wildcards are not supported: name each host";
	for (i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';

		if (c == '.') {
			if (!label)
				return "empty label: expected labels separated by single dots, without a final dot";
			if (s[i - 1] == '-')
				return "a label ends with '-'";
			if (i == len && digits == label)
				return "the last label is all digits";
			label = digits = 0;
			continue;
		}
		if (!is_ldh(c))
			return "expected only letters, digits, '-' and '.'";
		if (!label && c == '-')
			return "a label starts with '-'";
		if (++label > 63)
			return "a label is longer than 63 bytes";
		digits += c >= '0' && c <= '9';
	}
	return NULL;
}

/* to as a hostname, resolved when the policy is compiled. */
static int parse_host(struct policy_error *err, const struct ynode *n, size_t alen,
		      struct policy_dest *d)
{
	char q[QUOTE_MAX + 16];
	const char *why;

	why = host_problem(n->text, alen);
	if (why)
		return fail_node(err, n, "invalid hostname %s: %s",
				 quote(q, sizeof(q), n->text, n->len), why);
	if (alen < n->len)
		return fail_node(
			err, n,
			"prefix length with hostname %s: a name stands for its own addresses, write an address for a CIDR",
			quote(q, sizeof(q), n->text, n->len));
	d->host = strdup(n->text);
	d->text = strdup(n->text);
	return d->host && d->text ? 0 : -ENOMEM;
}

static int parse_to(struct policy_error *err, const struct ynode *n, struct policy_dest *d)
{
	char q[QUOTE_MAX + 16], text[INET6_ADDRSTRLEN + 8], net[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t alen;
	bool v4 = false;
	long plen;
	int rc;

	rc = need_scalar(err, n, "an address, CIDR or hostname for to");
	if (rc)
		return rc;
	slash = strchr(n->text, '/');
	alen = slash ? (size_t)(slash - n->text) : n->len;
	if (!looks_like_address(n->text, alen))
		return parse_host(err, n, alen, d);
	if (alen >= INET6_ADDRSTRLEN)
		goto bad_address;
	memcpy(text, n->text, alen);
	text[alen] = '\0';

	memset(d->addr, 0, sizeof(d->addr));
	if (inet_pton(AF_INET, text, d->addr + 12) == 1) {
		v4 = true;
		d->addr[10] = 0xff;
		d->addr[11] = 0xff;
	} else if (inet_pton(AF_INET6, text, d->addr) != 1) {
		goto bad_address;
	}

	if (slash) {
		plen = parse_decimal(slash + 1, n->len - alen - 1, 3);
		if (plen < 0 || plen > (v4 ? 32 : 128))
			return fail_node(
				err, n,
				"invalid prefix length in %s: expected /0 to /%d, without leading zeros",
				quote(q, sizeof(q), n->text, n->len), v4 ? 32 : 128);
	} else {
		plen = v4 ? 32 : 128;
	}
	d->prefix = (unsigned)plen + (v4 ? 96 : 0);

	if (clear_host_bits(d->addr, d->prefix)) {
		policy_net_format(d->addr, d->prefix, net, sizeof(net));
		return fail_node(err, n, "host bits set in %s: the network address is %s",
				 quote(q, sizeof(q), n->text, n->len), net);
	}
	d->text = strdup(n->text);
	return d->text ? 0 : -ENOMEM;

bad_address:
	return fail_node(
		err, n,
		"invalid address %s: expected an IPv4 or IPv6 address, optionally with /prefix",
		quote(q, sizeof(q), n->text, n->len));
}

static int parse_port(struct policy_error *err, const struct ynode *n, struct policy_dest *d)
{
	char q[QUOTE_MAX + 16];
	const char *dash;
	long lo, hi;
	int rc;

	rc = need_scalar(err, n, "a port or a range lo-hi for port");
	if (rc)
		return rc;
	dash = strchr(n->text, '-');
	if (dash) {
		lo = parse_decimal(n->text, (size_t)(dash - n->text), 9);
		hi = parse_decimal(dash + 1, strlen(dash + 1), 9);
	} else {
		lo = hi = parse_decimal(n->text, n->len, 9);
	}
	if (lo < 0 || hi < 0)
		return fail_node(
			err, n,
			"invalid port %s: expected a number or a range lo-hi, without leading zeros",
			quote(q, sizeof(q), n->text, n->len));
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535)
		return fail_node(err, n, "port out of range: expected 1 to 65535, found %s",
				 quote(q, sizeof(q), n->text, n->len));
	if (lo > hi)
		return fail_node(err, n, "empty port range %s: lo is above hi",
				 quote(q, sizeof(q), n->text, n->len));
	d->port_lo = (uint16_t)lo;
	d->port_hi = (uint16_t)hi;
	return 0;
}

static int parse_proto(struct policy_error *err, const struct ynode *n, struct policy_dest *d)
{
	char q[QUOTE_MAX + 16];
	int rc;

	rc = need_scalar(err, n, "tcp or udp for proto");
	if (rc)
		return rc;
	if (!strcmp(n->text, "tcp"))
		d->proto = IPPROTO_TCP;
	else if (!strcmp(n->text, "udp"))
		d->proto = IPPROTO_UDP;
	else
		return fail_node(err, n, "unknown proto %s: expected tcp or udp",
				 quote(q, sizeof(q), n->text, n->len));
	return 0;
}

static int parse_dest(struct policy_error *err, const struct ynode *n, struct policy_dest *d)
{
	const struct ynode *v[N_FIELDS(dest_fields)];
	int rc;

	rc = get_fields(err, n, "a network rule", dest_fields, N_FIELDS(dest_fields), v);
	if (rc)
		return rc;
	d->line = n->line;
	d->column = n->column;
	rc = parse_to(err, v[0], d);
	if (!rc)
		rc = parse_port(err, v[1], d);
	if (!rc)
		rc = parse_proto(err, v[2], d);
	if (!rc && v[3])
		rc = parse_bool(err, v[3], "audit", &d->audited);
	return rc;
}

static bool has_dotdot(const char *path)
{
	const char *c = path;

	while ((c = strstr(c, "..")) != NULL) {
		if ((c == path || c[-1] == '/') && (c[2] == '/' || c[2] == '\0'))
			return true;
		c += 2;
	}
	return false;
}

static int parse_path(struct policy_error *err, const struct ynode *n, struct policy_tree *t)
{
	char q[QUOTE_MAX + 16];

	if (n->kind != YNODE_SCALAR || n->len == 0)
		return fail_node(err, n, "expected an absolute path for path, found %s",
				 n->kind == YNODE_SCALAR ? "an empty value"
							 : found(q, sizeof(q), n));
	if (n->text[0] != '/')
		return fail_node(err, n, "relative path %s: expected an absolute path",
				 quote(q, sizeof(q), n->text, n->len));
	if (has_dotdot(n->text))
		return fail_node(err, n, "path %s contains \"..\": expected the tree's own path",
				 quote(q, sizeof(q), n->text, n->len));
	if (n->len >= PATH_MAX)
		return fail_node(err, n, "path too long: expected at most %d bytes", PATH_MAX - 1);
	t->path = strdup(n->text);
	return t->path ? 0 : -ENOMEM;
}

static int parse_access(struct policy_error *err, const struct ynode *n, struct policy_tree *t)
{
	char q[QUOTE_MAX + 16];
	int rc;

	rc = need_scalar(err, n, "read or read-write for access");
	if (rc)
		return rc;
	if (!strcmp(n->text, "read"))
		t->access = POLICY_ACCESS_READ;
	else if (!strcmp(n->text, "read-write"))
		t->access = POLICY_ACCESS_READ_WRITE;
	else
		return fail_node(err, n, "unknown access %s: expected read or read-write",
				 quote(q, sizeof(q), n->text, n->len));
	return 0;
}

static int parse_tree(struct policy_error *err, const struct ynode *n, struct policy_tree *t)
{
	const struct ynode *v[N_FIELDS(tree_fields)];
	int rc;

	rc = get_fields(err, n, "a files rule", tree_fields, N_FIELDS(tree_fields), v);
	if (rc)
		return rc;
	t->line = n->line;
	t->column = n->column;
	rc = parse_path(err, v[0], t);
	if (!rc)
		rc = parse_access(err, v[1], t);
	if (!rc && v[2])
		rc = parse_bool(err, v[2], "audit", &t->audited);
	return rc;
}

/* The items of a rule list: a sequence of at most POLICY_MAX_RULES. */
static int need_rules(struct policy_error *err, const struct ynode *n, const char *key)
{
	char q[QUOTE_MAX + 16];

	if (n->kind != YNODE_SEQUENCE)
		return fail_node(err, n, "expected a sequence of rules for %s, found %s", key,
				 found(q, sizeof(q), n));
	if (n->n_kids > POLICY_MAX_RULES)
		return fail_node(err, n, "too many %s rules: at most %d per agent", key,
				 POLICY_MAX_RULES);
	return 0;
}

/* Two rules naming the same destination, ports and protocol. */
static int check_duplicate_dests(struct policy_error *err, const struct policy_agent *a)
{
	size_t i, j;

	for (j = 1; j < a->n_dests; j++) {
		const struct policy_dest *d = &a->dests[j];

		for (i = 0; i < j; i++) {
			const struct policy_dest *e = &a->dests[i];

			if (!d->host != !e->host)
				continue;
			if (d->host ? strcasecmp(d->host, e->host) != 0
				    : d->prefix != e->prefix || memcmp(d->addr, e->addr, 16) != 0)
				continue;
			if (d->port_lo == e->port_lo && d->port_hi == e->port_hi &&
			    d->proto == e->proto)
				return policy_error_set(
					err, d->line, d->column,
					"duplicate network rule: same destination, port and proto as the rule at %u:%u",
					e->line, e->column);
		}
	}
	return 0;
}

static const char *const mode_names[] = {
	[POLICY_MODE_ENFORCE] = "enforce",
	[POLICY_MODE_AUDIT] = "audit",
	[POLICY_MODE_RECORD] = "record",
};

const char *policy_mode_name(unsigned mode)
{
	return mode < N_FIELDS(mode_names) ? mode_names[mode] : NULL;
}

static int parse_mode(struct policy_error *err, const struct ynode *n, struct policy_agent *a)
{
	char q[QUOTE_MAX + 16];
	unsigned m;
	int rc;

	rc = need_scalar(err, n, "enforce, audit or record for mode");
	if (rc)
		return rc;
	for (m = 0; m < N_FIELDS(mode_names); m++) {
		if (!strcmp(n->text, mode_names[m])) {
			a->mode = m;
			return 0;
		}
	}
	return fail_node(err, n, "unknown mode %s: expected enforce, audit or record",
			 quote(q, sizeof(q), n->text, n->len));
}

static bool valid_agent_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > AGENT_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		bool ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			  (i > 0 && (s[i] == '_' || s[i] == '-'));

		if (!ok)
			return false;
	}
	return true;
}

static int parse_agent(struct policy_error *err, const struct ynode *key, const struct ynode *val,
		       struct policy_agent *a)
{
	const struct ynode *v[N_FIELDS(agent_fields)];
	char what[AGENT_NAME_MAX + 16];
	size_t i;
	int rc;

	a->name = strdup(key->text);
	if (!a->name)
		return -ENOMEM;
	a->line = key->line;
	a->column = key->column;

	snprintf(what, sizeof(what), "agent %s", a->name);
	if (val->kind == YNODE_SCALAR && val->plain && val->len == 0)
		return fail_node(
			err, val,
			"expected a mapping for %s, found an empty value (write {} for an agent with no rules)",
			what);
	rc = get_fields(err, val, what, agent_fields, N_FIELDS(agent_fields), v);
	if (rc)
		return rc;

	if (v[0]) {
		rc = need_rules(err, v[0], "network");
		if (rc)
			return rc;
		a->dests = calloc(v[0]->n_kids ? v[0]->n_kids : 1, sizeof(*a->dests));
		if (!a->dests)
			return -ENOMEM;
		for (i = 0; i < v[0]->n_kids; i++) {
			a->n_dests++; /* counted first, so that a half-parsed rule is freed */
			rc = parse_dest(err, v[0]->kids[i], &a->dests[i]);
			if (rc)
				return rc;
		}
	}
	if (v[1]) {
		rc = need_rules(err, v[1], "files");
		if (rc)
			return rc;
		a->trees = calloc(v[1]->n_kids ? v[1]->n_kids : 1, sizeof(*a->trees));
		if (!a->trees)
			return -ENOMEM;
		for (i = 0; i < v[1]->n_kids; i++) {
			a->n_trees++; /* counted first, so that a half-parsed rule is freed */
			rc = parse_tree(err, v[1]->kids[i], &a->trees[i]);
			if (rc)
				return rc;
		}
	}
	if (v[2]) {
		rc = parse_mode(err, v[2], a);
		if (rc)
			return rc;
	}
	return check_duplicate_dests(err, a);
}

/* An agent name: a scalar, well formed, not used before in p. */
static int check_agent_name(struct policy_error *err, const struct ynode *key,
			    const struct policy *p)
{
	char q[QUOTE_MAX + 16];
	size_t i;

	if (key->kind != YNODE_SCALAR)
		return fail_node(err, key, "expected an agent name, found %s",
				 found(q, sizeof(q), key));
	if (!valid_agent_name(key->text, key->len))
		return fail_node(
			err, key,
			"invalid agent name %s: expected 1 to 63 of a-z 0-9 _ -, starting with a letter or digit",
			quote(q, sizeof(q), key->text, key->len));
	for (i = 0; i < p->n_agents; i++)
		if (!strcmp(p->agents[i].name, key->text))
			return fail_node(err, key, "duplicate agent %s, first at %u:%u",
					 quote(q, sizeof(q), key->text, key->len),
					 p->agents[i].line, p->agents[i].column);
	return 0;
}

static int parse_agents(struct policy_error *err, const struct ynode *n, struct policy *p)
{
	char q[QUOTE_MAX + 16];
	size_t i;
	int rc;

	if (n->kind != YNODE_MAPPING)
		return fail_node(err, n, "expected a mapping of agent names for agents, found %s",
				 found(q, sizeof(q), n));
	if (n->n_kids / 2 > POLICY_MAX_AGENTS)
		return fail_node(err, n, "too many agents: at most %d", POLICY_MAX_AGENTS);
	p->agents = calloc(n->n_kids / 2 + 1, sizeof(*p->agents));
	if (!p->agents)
		return -ENOMEM;

	for (i = 0; i + 1 < n->n_kids; i += 2) {
		rc = check_agent_name(err, n->kids[i], p);
		if (rc)
			return rc;
		/* counted first, so that policy_release frees a half-parsed agent */
		p->n_agents++;
		rc = parse_agent(err, n->kids[i], n->kids[i + 1], &p->agents[p->n_agents - 1]);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_policy(struct policy_error *err, const struct ynode *root, struct policy *p)
{
	const struct ynode *v[N_FIELDS(policy_fields)];
	char q[QUOTE_MAX + 16];
	int rc;

	rc = get_fields(err, root, "the policy", policy_fields, N_FIELDS(policy_fields), v);
	if (rc)
		return rc;
	if (v[0]->kind == YNODE_SCALAR && v[0]->plain && v[0]->len && strcmp(v[0]->text, "1"))
		return fail_node(err, v[0], "unsupported version %s: expected 1",
				 quote(q, sizeof(q), v[0]->text, v[0]->len));
	if (v[0]->kind != YNODE_SCALAR || !v[0]->plain || strcmp(v[0]->text, "1"))
		return fail_node(err, v[0], "expected version 1 as an unquoted number, found %s",
				 found(q, sizeof(q), v[0]));
	return parse_agents(err, v[1], p);
}

/* ---- public ---- */

int policy_error_set(struct policy_error *err, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* SHA-256 of buf in hex into out (65 bytes); 0 or -ENOMEM. */
static int digest(const char *buf, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;

	if (!EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32)
		return -ENOMEM;
	for (i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int policy_load_buffer(const char *name, const char *buf, size_t len, struct policy *p,
		       struct policy_error *err)
{
	struct ynode *root = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", name);

	rc = ynode_read(buf, len, &root, err);
	if (rc)
		goto out;

	if (!root) {
		rc = policy_error_set(err, 1, 1,
				      "empty policy: expected a mapping with version and agents");
		goto out;
	}
	p->file = strdup(name);
	if (!p->file) {
		rc = -ENOMEM;
		goto out;
	}
	rc = parse_policy(err, root, p);
	if (!rc)
		rc = digest(buf, len, p->sha256);
out:
	if (rc == -ENOMEM)
		policy_error_set(err, 0, 0, "out of memory");
	if (rc)
		policy_release(p);
	else
		memset(err, 0, sizeof(*err));
	ynode_free(root);
	return rc;
}

int policy_load(const char *path, struct policy *p, struct policy_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);

	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		policy_error_set(err, 0, 0, "cannot open policy: %s", strerror(-rc));
		return rc;
	}
	buf = malloc(POLICY_FILE_MAX + 1);
	if (!buf) {
		rc = -ENOMEM;
		policy_error_set(err, 0, 0, "out of memory");
		goto out;
	}
	errno = 0;
	len = fread(buf, 1, POLICY_FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		policy_error_set(err, 0, 0, "cannot read policy: %s", strerror(-rc));
		goto out;
	}
	if (len > POLICY_FILE_MAX) {
		rc = -EFBIG;
		policy_error_set(err, 0, 0, "policy too large: at most %d bytes", POLICY_FILE_MAX);
		goto out;
	}
	rc = policy_load_buffer(path, buf, len, p, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

void policy_release(struct policy *p)
{
	size_t i, j;

	for (i = 0; i < p->n_agents; i++) {
		struct policy_agent *a = &p->agents[i];

		for (j = 0; j < a->n_trees; j++)
			free(a->trees[j].path);
		for (j = 0; j < a->n_dests; j++) {
			free(a->dests[j].text);
			free(a->dests[j].host);
		}
		free(a->trees);
		free(a->dests);
		free(a->name);
	}
	free(p->agents);
	free(p->file);
	memset(p, 0, sizeof(*p));
}

const struct policy_agent *policy_find_agent(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_agents; i++)
		if (!strcmp(p->agents[i].name, name))
			return &p->agents[i];
	return NULL;
}

int policy_rule_describe(const struct policy *p, const struct policy_agent *a, uint32_t rule_id,
			 char *buf, size_t len)
{
	const char *file = p->file ? p->file : "(policy)";
	char net[POLICY_HOST_MAX + 1], port[16];
	const struct policy_dest *d;
	const struct policy_tree *t;

	if (rule_id & POLICY_RULE_NET_BIT) {
		uint32_t j = rule_id & ~POLICY_RULE_NET_BIT;

		if (j >= a->n_dests)
			return -ENOENT;
		d = &a->dests[j];
		if (d->host)
			snprintf(net, sizeof(net), "%s", d->host);
		else
			policy_net_format(d->addr, d->prefix, net, sizeof(net));
		if (d->port_lo == d->port_hi)
			snprintf(port, sizeof(port), "%u", d->port_lo);
		else
			snprintf(port, sizeof(port), "%u-%u", d->port_lo, d->port_hi);
		return snprintf(buf, len, "%s:%u:%u network %s port %s %s", file, d->line,
				d->column, net, port, d->proto == IPPROTO_UDP ? "udp" : "tcp");
	}
	if (rule_id >= a->n_trees)
		return -ENOENT;
	t = &a->trees[rule_id];
	return snprintf(buf, len, "%s:%u:%u files %s %s", file, t->line, t->column, t->path,
			t->access == POLICY_ACCESS_READ_WRITE ? "read-write" : "read");
}

void policy_error_format(const struct policy_error *err, char *buf, size_t len)
{
	if (err->line)
		snprintf(buf, len, "%s:%u:%u: error: %s", err->file, err->line, err->column,
			 err->msg);
	else
		snprintf(buf, len, "%s: error: %s", err->file, err->msg);
}
