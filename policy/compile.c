// SPDX-License-Identifier: GPL-2.0-only
/*
 * compile.c - one agent's rules as pf_trees and pf_net entries for a slot.
 *
 * The matching rules these entries serve are in bpf/pinfold.h. Trees are
 * keyed by the inode of their root, so paths are resolved here, once. Each
 * network prefix gets one entry holding its own port rules and those of every
 * shorter prefix containing it, so that the kernel's longest-prefix match
 * alone decides. Hostnames are resolved here too, once, each address
 * becoming a host destination of its rule.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "compile.h"

_Static_assert(POLICY_MAX_RULES < POLICY_RULE_NET_BIT, "rule indexes must not reach the net bit");

int compile_resolve_stat(const char *path, uint64_t *dev, uint64_t *ino, void *ctx)
{
	struct stat st;

	(void)ctx;
	if (stat(path, &st))
		return -errno;
	/* the kernel's internal dev_t, as in its inodes: MAJOR << 20 | MINOR */
	*dev = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
	*ino = st.st_ino;
	return 0;
}

static int compile_trees(const struct policy_agent *a, uint32_t slot, compile_resolve_fn resolve,
			 void *ctx, struct compiled *out, struct policy_error *err)
{
	size_t i, j;

	if (!a->n_trees)
		return 0;
	out->trees = calloc(a->n_trees, sizeof(*out->trees));
	if (!out->trees)
		return -ENOMEM;

	for (i = 0; i < a->n_trees; i++) {
		const struct policy_tree *t = &a->trees[i];
		struct compiled_tree *c = &out->trees[i];
		uint64_t dev = 0, ino = 0;
		int rc;

		/* NEEDSWORK: resolved once; a re-created tree is denied until recompiled */
		rc = resolve(t->path, &dev, &ino, ctx);
		if (rc == -ENOENT || rc == -ENOTDIR)
			return policy_error_set(err, t->line, t->column,
						"tree does not exist: %s: %s", t->path,
						strerror(-rc));
		if (rc)
			return policy_error_set(err, t->line, t->column,
						"cannot resolve tree %s: %s", t->path,
						strerror(rc < 0 ? -rc : EIO));

		for (j = 0; j < i; j++)
			if (out->trees[j].key.dev == dev && out->trees[j].key.ino == ino)
				return policy_error_set(err, t->line, t->column,
							"tree %s is the same inode as %s at %u:%u",
							t->path, a->trees[j].path, a->trees[j].line,
							a->trees[j].column);

		c->key.slot = slot;
		c->key.dev = dev;
		c->key.ino = ino;
		c->val.rule_id = POLICY_RULE_FILE(i);
		c->val.access = PF_ACCESS_READ;
		if (t->access == POLICY_ACCESS_READ_WRITE)
			c->val.access |= PF_ACCESS_WRITE;
		if (t->audited)
			c->val.access |= PF_RULE_AUDITED;
		out->n_trees++;
	}
	return 0;
}

/* Whether the prefix net/plen holds addr (both in IPv6 bits). */
static bool prefix_holds(const uint8_t net[16], unsigned plen, const uint8_t addr[16])
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(net, addr, full))
		return false;
	if (!rest)
		return true;
	return ((net[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

static bool same_prefix(const struct policy_dest *a, const struct policy_dest *b)
{
	return a->prefix == b->prefix && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* The agent's destinations with every hostname replaced by its addresses. */
struct dest_list {
	struct policy_dest *d; /* copies: only addr, prefix, ports, proto, audited, place */
	uint32_t *rule_id;
	size_t n;
};

/*
 * The entry for the prefix of destination o: every destination whose prefix
 * holds it, longest prefix first, then in policy order.
 */
static int compile_prefix(const struct dest_list *l, size_t o, uint32_t slot,
			  struct compiled_net *c, struct policy_error *err)
{
	const struct policy_dest *key = &l->d[o];
	size_t idx[PF_PORTS_PER_PREFIX];
	size_t i, j, n = 0;
	char net[64];

	for (i = 0; i < l->n; i++) {
		const struct policy_dest *d = &l->d[i];

		if (d->prefix > key->prefix || !prefix_holds(d->addr, d->prefix, key->addr))
			continue;
		if (n == PF_PORTS_PER_PREFIX) {
			policy_net_format(key->addr, key->prefix, net, sizeof(net));
			return policy_error_set(
				err, key->line, key->column,
				"too many port rules for %s: at most %d, counting those of shorter prefixes that contain it",
				net, PF_PORTS_PER_PREFIX);
		}
		idx[n++] = i;
	}

	/* stable insertion sort, longest prefix first: at most 16 entries */
	for (i = 1; i < n; i++) {
		size_t v = idx[i];

		for (j = i; j > 0 && l->d[idx[j - 1]].prefix < l->d[v].prefix; j--)
			idx[j] = idx[j - 1];
		idx[j] = v;
	}

	c->key.prefixlen = 32 + key->prefix;
	c->key.slot = htonl(slot);
	memcpy(c->key.addr, key->addr, sizeof(c->key.addr));
	c->val.count = (uint32_t)n;
	for (i = 0; i < n; i++) {
		const struct policy_dest *d = &l->d[idx[i]];
		struct pf_port_rule *r = &c->val.rules[i];

		r->port_lo = d->port_lo;
		r->port_hi = d->port_hi;
		r->proto = d->proto;
		r->flags = d->audited ? PF_RULE_AUDITED : 0;
		r->rule_id = l->rule_id[idx[i]];
	}
	return 0;
}

/* Resolve the hostname of rule j into out->names[out->n_names]. */
static int resolve_rule(const struct policy_agent *a, size_t j,
			compile_resolve_name_fn resolve_name, void *name_ctx, struct compiled *out,
			struct policy_error *err)
{
	const struct policy_dest *d = &a->dests[j];
	struct compiled_name *nm = &out->names[out->n_names];
	char why[128] = "";
	int n;

	/*
	 * NEEDSWORK: a name is resolved once, when the policy is applied; an
	 * address it gains later is denied, and one it loses stays allowed,
	 * until the agent is run again.
	 */
	n = resolve_name(d->host, nm->addrs, COMPILE_NAME_ADDRS_MAX, why, sizeof(why), name_ctx);
	if (n < 0)
		return policy_error_set(err, d->line, d->column, "cannot resolve %s: %s", d->host,
					why[0] ? why : strerror(-n));
	if (n == 0)
		return policy_error_set(err, d->line, d->column,
					"cannot resolve %s: no IPv4 or IPv6 address", d->host);
	if (n > COMPILE_NAME_ADDRS_MAX)
		return policy_error_set(err, d->line, d->column,
					"%s resolves to %d addresses: at most %d per name", d->host,
					n, COMPILE_NAME_ADDRS_MAX);
	nm->rule_id = POLICY_RULE_NET(j);
	nm->host = d->host;
	nm->n_addrs = (size_t)n;
	out->n_names++;
	return 0;
}

/* The destinations of a, hostnames resolved, into l. */
static int expand_dests(const struct policy_agent *a, compile_resolve_name_fn resolve_name,
			void *name_ctx, struct compiled *out, struct dest_list *l,
			struct policy_error *err)
{
	size_t i, j, n_hosts = 0, cap;
	int rc;

	for (i = 0; i < a->n_dests; i++)
		n_hosts += a->dests[i].host != NULL;
	cap = a->n_dests + n_hosts * (COMPILE_NAME_ADDRS_MAX - 1);
	l->d = calloc(cap, sizeof(*l->d));
	l->rule_id = calloc(cap, sizeof(*l->rule_id));
	if (n_hosts)
		out->names = calloc(n_hosts, sizeof(*out->names));
	if (!l->d || !l->rule_id || (n_hosts && !out->names))
		return -ENOMEM;

	for (i = 0; i < a->n_dests; i++) {
		const struct policy_dest *d = &a->dests[i];
		const struct compiled_name *nm;

		if (!d->host) {
			l->d[l->n] = *d;
			l->rule_id[l->n++] = POLICY_RULE_NET(i);
			continue;
		}
		if (!resolve_name)
			return policy_error_set(err, d->line, d->column,
						"cannot resolve %s: no resolver", d->host);
		rc = resolve_rule(a, i, resolve_name, name_ctx, out, err);
		if (rc)
			return rc;
		nm = &out->names[out->n_names - 1];
		for (j = 0; j < nm->n_addrs; j++) {
			struct policy_dest *e = &l->d[l->n];

			*e = *d;
			e->host = NULL;
			memcpy(e->addr, nm->addrs[j], sizeof(e->addr));
			e->prefix = 128; /* a host: /32 for IPv4 as ::ffff:a.b.c.d */
			l->rule_id[l->n++] = POLICY_RULE_NET(i);
		}
	}
	return 0;
}

static int compile_nets(const struct policy_agent *a, uint32_t slot,
			compile_resolve_name_fn resolve_name, void *name_ctx, struct compiled *out,
			struct policy_error *err)
{
	struct dest_list l = {0};
	size_t i, j;
	int rc;

	if (!a->n_dests)
		return 0;
	rc = expand_dests(a, resolve_name, name_ctx, out, &l, err);
	if (rc)
		goto out;
	out->nets = calloc(l.n ? l.n : 1, sizeof(*out->nets));
	if (!out->nets) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		/* one entry per distinct prefix, made for its first rule */
		for (j = 0; j < i; j++)
			if (same_prefix(&l.d[i], &l.d[j]))
				break;
		if (j < i)
			continue;
		rc = compile_prefix(&l, i, slot, &out->nets[out->n_nets], err);
		if (rc)
			goto out;
		out->n_nets++;
	}
out:
	free(l.d);
	free(l.rule_id);
	return rc;
}

int compile_resolve_getaddrinfo(const char *host, uint8_t (*addrs)[16], size_t max, char *why,
				size_t why_len, void *ctx)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	size_t n = 0, i;
	int rc;

	(void)ctx;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM; /* one result per address, not one per socket type */
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		snprintf(why, why_len, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return rc == EAI_MEMORY ? -ENOMEM : rc == EAI_SYSTEM && errno ? -errno : -ENOENT;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		uint8_t a[16] = {0};

		if (ai->ai_family == AF_INET) {
			a[10] = a[11] = 0xff;
			memcpy(a + 12, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			memcpy(a, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		for (i = 0; i < n && i < max; i++)
			if (!memcmp(addrs[i], a, 16))
				break;
		if (i < n && i < max)
			continue;
		if (n < max)
			memcpy(addrs[n], a, 16);
		n++;
	}
	freeaddrinfo(res);
	return (int)n;
}

int compile_agent(const struct policy *p, const struct policy_agent *a, uint32_t slot,
		  compile_resolve_fn resolve, void *ctx, struct compiled *out,
		  struct policy_error *err)
{
	return compile_agent_names(p, a, slot, resolve, ctx, compile_resolve_getaddrinfo, NULL, out,
				   err);
}

int compile_agent_names(const struct policy *p, const struct policy_agent *a, uint32_t slot,
			compile_resolve_fn resolve, void *ctx, compile_resolve_name_fn resolve_name,
			void *name_ctx, struct compiled *out, struct policy_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", p->file ? p->file : "(policy)");

	if (slot >= PF_MAX_INSTANCES) {
		rc = policy_error_set(err, 0, 0, "instance slot %u out of range: at most %d", slot,
				      PF_MAX_INSTANCES - 1);
		goto out;
	}
	rc = compile_trees(a, slot, resolve, ctx, out, err);
	if (!rc)
		rc = compile_nets(a, slot, resolve_name, name_ctx, out, err);
out:
	if (rc == -ENOMEM)
		policy_error_set(err, 0, 0, "out of memory");
	if (rc)
		compiled_release(out);
	else
		memset(err, 0, sizeof(*err));
	return rc;
}

void compiled_release(struct compiled *c)
{
	free(c->trees);
	free(c->nets);
	free(c->names);
	memset(c, 0, sizeof(*c));
}
