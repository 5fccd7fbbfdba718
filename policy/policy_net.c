// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_net.c - the values of network rules: addresses and CIDRs,
 * hostnames, ports and protocols of destinations, and the exceptions of a
 * backend with their named ranges (private, link-local, loopback).
 *
 * policy.c reads the sections and hands each to, port, proto and except
 * value here. These are the strictest values of the language (no leading
 * zeros, no host bits, RFC 1123 names, no exception that cannot work), and
 * they stand apart from the YAML layout: a reviewer of what reaches the
 * network reads them here, alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "policy_int.h"
#include "yaml_tree.h"

/* ---- addresses, hostnames, ports ---- */

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

/* Whether outer/olen holds every address of inner/ilen. */
static bool net_contains(const uint8_t outer[16], unsigned olen, const uint8_t inner[16],
			 unsigned ilen)
{
	uint8_t a[16], b[16];

	if (olen > ilen)
		return false;
	memcpy(a, outer, 16);
	memcpy(b, inner, 16);
	clear_host_bits(a, olen);
	clear_host_bits(b, olen);
	return !memcmp(a, b, 16);
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

enum cidr_problem {
	CIDR_OK,
	CIDR_BAD_ADDRESS,
	CIDR_BAD_PREFIX,
	CIDR_HOST_BITS,
};

/* s (an address, optionally /prefix) into addr/prefix, IPv4 mapped; *v4 says which. */
static enum cidr_problem cidr_parse(const char *s, size_t len, uint8_t addr[16], unsigned *prefix,
				    bool *v4)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	long plen;

	if (alen >= INET6_ADDRSTRLEN)
		return CIDR_BAD_ADDRESS;
	memcpy(text, s, alen);
	text[alen] = '\0';
	memset(addr, 0, 16);
	*v4 = false;
	if (inet_pton(AF_INET, text, addr + 12) == 1) {
		*v4 = true;
		addr[10] = 0xff;
		addr[11] = 0xff;
	} else if (inet_pton(AF_INET6, text, addr) != 1) {
		return CIDR_BAD_ADDRESS;
	}

	plen = *v4 ? 32 : 128;
	if (slash) {
		plen = parse_decimal(slash + 1, len - alen - 1, 3);
		if (plen < 0 || plen > (*v4 ? 32 : 128))
			return CIDR_BAD_PREFIX;
	}
	*prefix = (unsigned)plen + (*v4 ? 96 : 0);
	return clear_host_bits(addr, *prefix) ? CIDR_HOST_BITS : CIDR_OK;
}

/* n as an address or CIDR, or an error naming what is wrong with it. */
static int parse_cidr(struct parser *ps, const struct ynode *n, uint8_t addr[16], unsigned *prefix)
{
	char q[Q_SIZE], net[INET6_ADDRSTRLEN + 8];
	bool v4;

	switch (cidr_parse(n->text, n->len, addr, prefix, &v4)) {
	case CIDR_OK:
		return 0;
	case CIDR_BAD_PREFIX:
		return fail_node(
			ps, n,
			"invalid prefix length in %s: expected /0 to /%d, without leading zeros",
			ynode_quote(q, sizeof(q), n->text, n->len), v4 ? 32 : 128);
	case CIDR_HOST_BITS:
		policy_net_format(addr, *prefix, net, sizeof(net));
		return fail_node(ps, n, "host bits set in %s: the network address is %s",
				 ynode_quote(q, sizeof(q), n->text, n->len), net);
	default:
		return fail_node(
			ps, n,
			"invalid address %s: expected an IPv4 or IPv6 address, optionally with /prefix",
			ynode_quote(q, sizeof(q), n->text, n->len));
	}
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

/*
 * An error when n (alen bytes before any /prefix) is an IPv4 address in
 * another form than four decimal numbers: one number, two or three parts,
 * octal or hexadecimal parts. inet_aton(3) reads all of these, and glibc's
 * resolver with it, so such a "hostname" (0x7f000001) would reach the
 * address it spells (127.0.0.1) while a reviewer reads a name. One rule
 * for to and except alike: what inet_aton takes is an address, and is
 * written the one way inet_pton(3) takes.
 */
static int check_v4_form(struct parser *ps, const struct ynode *n, size_t alen)
{
	char text[POLICY_HOST_MAX + 2], canon[INET_ADDRSTRLEN], q[Q_SIZE];
	struct in_addr a;

	/* longer is no hostname either, and says so */
	if (alen >= sizeof(text))
		return 0;
	memcpy(text, n->text, alen);
	text[alen] = '\0';
	if (inet_pton(AF_INET, text, &a) == 1 || !inet_aton(text, &a))
		return 0;
	inet_ntop(AF_INET, &a, canon, sizeof(canon));
	return fail_node(
		ps, n,
		"invalid address %s: inet_aton(3) reads it as %s; write an IPv4 address as four decimal numbers",
		ynode_quote(q, sizeof(q), n->text, n->len), canon);
}

/* to as a hostname, resolved when the policy is compiled. */
static int parse_host(struct parser *ps, const struct ynode *n, size_t alen, struct policy_dest *d)
{
	char q[Q_SIZE];
	const char *why;

	why = host_problem(n->text, alen);
	if (why)
		return fail_node(ps, n, "invalid hostname %s: %s",
				 ynode_quote(q, sizeof(q), n->text, n->len), why);
	if (alen < n->len)
		return fail_node(
			ps, n,
			"prefix length with hostname %s: a name stands for its own addresses, write an address for a CIDR",
			ynode_quote(q, sizeof(q), n->text, n->len));
	d->host = strdup(n->text);
	return d->host ? 0 : -ENOMEM;
}

/* to: an address, a CIDR, any (every address), or a hostname. */
int parse_to(struct parser *ps, const struct ynode *n, struct policy_dest *d)
{
	const char *slash;
	size_t alen;
	int rc;

	rc = ynode_need_scalar(ps->err, n, "an address, CIDR or hostname for to");
	if (rc)
		return rc;
	d->text = strdup(n->text);
	if (!d->text)
		return -ENOMEM;
	if (!strcmp(n->text, "any")) {
		/* ::/0 holds ::ffff:0:0/96, so IPv4 too */
		memset(d->addr, 0, sizeof(d->addr));
		d->prefix = 0;
		return 0;
	}
	slash = strchr(n->text, '/');
	alen = slash ? (size_t)(slash - n->text) : n->len;
	rc = check_v4_form(ps, n, alen);
	if (rc)
		return rc;
	if (!looks_like_address(n->text, alen))
		return parse_host(ps, n, alen, d);
	return parse_cidr(ps, n, d->addr, &d->prefix);
}

int parse_port(struct parser *ps, const struct ynode *n, struct policy_dest *d)
{
	char q[Q_SIZE];
	const char *dash;
	long lo, hi;
	int rc;

	rc = ynode_need_scalar(ps->err, n, "a port or a range lo-hi for port");
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
			ps, n,
			"invalid port %s: expected a number or a range lo-hi, without leading zeros",
			ynode_quote(q, sizeof(q), n->text, n->len));
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535)
		return fail_node(ps, n, "port out of range: expected 1 to 65535, found %s",
				 ynode_quote(q, sizeof(q), n->text, n->len));
	if (lo > hi)
		return fail_node(ps, n, "empty port range %s: lo is above hi",
				 ynode_quote(q, sizeof(q), n->text, n->len));
	d->port_lo = (uint16_t)lo;
	d->port_hi = (uint16_t)hi;
	return 0;
}

int parse_proto(struct parser *ps, const struct ynode *n, struct policy_dest *d)
{
	char q[Q_SIZE];
	int rc;

	rc = ynode_need_scalar(ps->err, n, "tcp or udp for proto");
	if (rc)
		return rc;
	if (!strcmp(n->text, "tcp"))
		d->proto = IPPROTO_TCP;
	else if (!strcmp(n->text, "udp"))
		d->proto = IPPROTO_UDP;
	else
		return fail_node(ps, n, "unknown proto %s: expected tcp or udp",
				 ynode_quote(q, sizeof(q), n->text, n->len));
	return 0;
}

/* ---- destinations ---- */

static bool same_dest(const struct policy_dest *d, const struct policy_dest *e)
{
	if (!d->host != !e->host)
		return false;
	if (d->host ? strcasecmp(d->host, e->host) != 0
		    : d->prefix != e->prefix || memcmp(d->addr, e->addr, 16) != 0)
		return false;
	return d->port_lo == e->port_lo && d->port_hi == e->port_hi && d->proto == e->proto;
}

/* A hash of what same_dest compares (a hostname without its case). */
static size_t dest_hash(const struct policy_dest *d)
{
	uint64_t h = POLICY_FNV_INIT;
	const char *c;
	uint8_t lower;

	if (d->host) {
		for (c = d->host; *c; c++) {
			lower = (uint8_t)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
			h = policy_fnv(h, &lower, 1);
		}
	} else {
		h = policy_fnv(h, d->addr, sizeof(d->addr));
		h = policy_fnv(h, &d->prefix, sizeof(d->prefix));
	}
	h = policy_fnv(h, &d->port_lo, sizeof(d->port_lo));
	h = policy_fnv(h, &d->port_hi, sizeof(d->port_hi));
	return (size_t)policy_fnv(h, &d->proto, sizeof(d->proto));
}

/*
 * The first of dests[0 .. j - 1] that is the same as dests[j], found
 * through seen (the index + 1 of each first such rule, by hash; n_seen
 * slots, a power of two), where dests[j] goes when it is new; or, with
 * no seen, by comparing every earlier rule. SIZE_MAX: none.
 */
static size_t earlier_dest(const struct policy_dest *dests, size_t j, uint32_t *seen, size_t n_seen)
{
	size_t i;

	if (!seen) {
		for (i = 0; i < j; i++)
			if (same_dest(&dests[j], &dests[i]))
				return i;
		return SIZE_MAX;
	}
	for (i = dest_hash(&dests[j]) & (n_seen - 1); seen[i]; i = (i + 1) & (n_seen - 1))
		if (same_dest(&dests[j], &dests[seen[i] - 1]))
			return seen[i] - 1;
	seen[i] = (uint32_t)j + 1;
	return SIZE_MAX;
}

/*
 * Two rules naming the same destination, ports and protocol. A hash of
 * the rules seen: comparing each with every earlier one was half the time
 * of reading a policy of 10 000 destinations (the compile row of make
 * bench). Short of memory, every pair is compared, as before.
 */
int check_duplicate_dests(struct parser *ps, const struct policy_dest *dests, size_t n,
			  const char *what)
{
	char at[PLACE_TEXT_MAX];
	size_t i, j, n_seen = 16;
	uint32_t *seen;
	int rc = 0;

	while (n_seen < 2 * n)
		n_seen *= 2;
	seen = n > 1 ? calloc(n_seen, sizeof(*seen)) : NULL;
	for (j = 0; j < n; j++) {
		i = earlier_dest(dests, j, seen, n_seen);
		if (i == SIZE_MAX)
			continue;
		rc = fail_at(ps->err, &dests[j].at,
			     "duplicate %s: same destination, port and proto as the %s at %s", what,
			     !strcmp(what, "network rule") ? "rule" : what,
			     first_at(at, sizeof(at), &dests[i].at, &dests[j].at));
		break;
	}
	free(seen);
	return rc;
}

/* ---- exceptions ---- */

/* Named address ranges an except may use. */
struct named_range {
	const char *name;
	const char *nets[NAMED_NETS_MAX + 1]; /* NULL-terminated */
};

static const struct named_range named_ranges[] = {
	{"private", {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"}},
	{"link-local", {"169.254.0.0/16", "fe80::/10"}},
	{"loopback", {"127.0.0.0/8", "::1/128"}},
};

/* One except item: an address, a CIDR, or a named range (several entries). */
int parse_except(struct parser *ps, const struct ynode *n, struct policy_backend *b)
{
	struct policy_except *e;
	char q[Q_SIZE];
	size_t r, k;
	bool v4;
	int rc;

	rc = ynode_need_scalar(ps->err, n, "an address, a CIDR, private, link-local or loopback");
	if (rc)
		return rc;
	for (r = 0; r < N_OF(named_ranges); r++) {
		if (strcmp(n->text, named_ranges[r].name))
			continue;
		for (k = 0; named_ranges[r].nets[k]; k++) {
			const char *net = named_ranges[r].nets[k];

			e = &b->excepts[b->n_excepts++];
			e->at = place_of(ps, n);
			e->text = strdup(n->text);
			if (!e->text)
				return -ENOMEM;
			if (cidr_parse(net, strlen(net), e->addr, &e->prefix, &v4) != CIDR_OK)
				return -EFAULT; /* the table above is wrong */
		}
		return 0;
	}
	rc = check_v4_form(ps, n, strcspn(n->text, "/"));
	if (rc)
		return rc;
	if (!looks_like_address(n->text, strcspn(n->text, "/")))
		return fail_node(
			ps, n,
			"hostname %s in except: expected an address, a CIDR, private, link-local or loopback",
			ynode_quote(q, sizeof(q), n->text, n->len));

	e = &b->excepts[b->n_excepts++];
	e->at = place_of(ps, n);
	e->text = strdup(n->text);
	if (!e->text)
		return -ENOMEM;
	return parse_cidr(ps, n, e->addr, &e->prefix);
}

/*
 * Exceptions that cannot work: a destination inside one (it can never
 * match) and an item outside every destination (it can never apply). A
 * named range applies when any of its ranges does. Hostname destinations
 * are only known when compiled: an except of such a backend may apply.
 */
int check_excepts(struct parser *ps, const struct policy_backend *b)
{
	char net[INET6_ADDRSTRLEN + 8], at[PLACE_TEXT_MAX];
	bool has_host = false, applies;
	size_t i, j, k;

	for (i = 0; i < b->n_dests; i++) {
		const struct policy_dest *d = &b->dests[i];

		has_host |= d->host != NULL;
		for (j = 0; !d->host && j < b->n_excepts; j++) {
			const struct policy_except *e = &b->excepts[j];

			if (!net_contains(e->addr, e->prefix, d->addr, d->prefix))
				continue;
			policy_net_format(e->addr, e->prefix, net, sizeof(net));
			return fail_at(
				ps->err, &d->at,
				"destination %s of backend %s lies inside its exception %s (%s) at %s: it can never match",
				d->text, b->name, e->text, net,
				first_at(at, sizeof(at), &e->at, &d->at));
		}
	}
	if (has_host)
		return 0;
	for (j = 0; j < b->n_excepts; j = k) {
		applies = false;
		for (k = j; k < b->n_excepts && b->excepts[k].at.line == b->excepts[j].at.line &&
			    b->excepts[k].at.column == b->excepts[j].at.column;
		     k++)
			for (i = 0; i < b->n_dests; i++)
				applies |= net_contains(b->dests[i].addr, b->dests[i].prefix,
							b->excepts[k].addr, b->excepts[k].prefix);
		if (!applies)
			return fail_at(
				ps->err, &b->excepts[j].at,
				"exception %s lies outside every destination of backend %s: it can never apply",
				b->excepts[j].text, b->name);
	}
	return 0;
}
