// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_text.c - a loaded policy, looked up and put in words: the
 * policy_find_* lookups, and the format and describe functions that name
 * actions, addresses, places, rules, warnings and errors.
 *
 * These serve the callers of a loaded policy (explain, show, run, the audit
 * records), not the parser: nothing here reads YAML or fails but for an id
 * not in the policy, so it is kept apart from the code that builds the
 * policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "policy_int.h"

/* ---- lookups ---- */

const struct policy_agent *policy_find_agent(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_agents; i++)
		if (!strcmp(p->agents[i].name, name))
			return &p->agents[i];
	return NULL;
}

const struct policy_class *policy_find_class(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_classes; i++)
		if (!strcmp(p->classes[i].name, name))
			return &p->classes[i];
	return NULL;
}

const struct policy_backend *policy_find_backend(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_backends; i++)
		if (!strcmp(p->backends[i].name, name))
			return &p->backends[i];
	return NULL;
}

const struct policy_family *policy_find_family(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_families; i++)
		if (!strcmp(p->families[i].name, name))
			return &p->families[i];
	return NULL;
}

/* ---- actions and addresses ---- */

const char *policy_actions_format(unsigned actions, char *buf, size_t len)
{
	size_t i, o = 0;

	if (len)
		buf[0] = '\0';
	if (!actions)
		snprintf(buf, len, "none");
	for (i = 0; i < N_OF(action_names) && o < len; i++)
		if (actions & 1u << i)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
					      action_names[i]);
	return buf;
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

/* ---- places, rules, warnings and errors ---- */

const char *policy_place_format(const struct policy_place *at, char *buf, size_t len)
{
	if (!at->line)
		snprintf(buf, len, "(shipped)");
	else
		snprintf(buf, len, "%s:%u:%u", at->file ? at->file : "(policy)", at->line,
			 at->column);
	return buf;
}

/* "127.0.0.1/32 port 8443 tcp", or with the hostname as written */
static void dest_format(const struct policy_dest *d, char *buf, size_t len)
{
	char net[POLICY_HOST_MAX + 1], port[16];

	if (d->host)
		snprintf(net, sizeof(net), "%s", d->host);
	else
		policy_net_format(d->addr, d->prefix, net, sizeof(net));
	if (d->port_lo == d->port_hi)
		snprintf(port, sizeof(port), "%u", d->port_lo);
	else
		snprintf(port, sizeof(port), "%u-%u", d->port_lo, d->port_hi);
	snprintf(buf, len, "%s port %s %s", net, port, d->proto == IPPROTO_UDP ? "udp" : "tcp");
}

/* An own files rule's access as written: read, read-write, or its actions. */
static const char *access_format(unsigned access, char *buf, size_t len)
{
	if (access == POLICY_ACCESS_READ)
		snprintf(buf, len, "read");
	else if (access == POLICY_ACCESS_READ_WRITE)
		snprintf(buf, len, "read-write");
	else
		policy_actions_format(access, buf, len);
	return buf;
}

int policy_id_describe(const struct policy *p, const struct policy_agent *a, uint32_t id, char *buf,
		       size_t len)
{
	uint32_t major = POLICY_ID_MAJOR(id), minor = POLICY_ID_MINOR(id);
	char at[PLACE_TEXT_MAX], what[POLICY_HOST_MAX + 64], acts[96];
	const struct policy_grant *g;

	switch (POLICY_ID_KIND(id)) {
	case POLICY_ID_CLASS_TREE:
		if (major >= p->n_classes || minor >= p->classes[major].n_trees)
			return -ENOENT;
		return snprintf(
			buf, len, "%s class %s tree %s",
			policy_place_format(&p->classes[major].trees[minor].at, at, sizeof(at)),
			p->classes[major].name, p->classes[major].trees[minor].path);
	case POLICY_ID_BACKEND_DEST:
		if (major >= p->n_backends || minor >= p->backends[major].n_dests)
			return -ENOENT;
		dest_format(&p->backends[major].dests[minor], what, sizeof(what));
		return snprintf(
			buf, len, "%s backend %s %s",
			policy_place_format(&p->backends[major].dests[minor].at, at, sizeof(at)),
			p->backends[major].name, what);
	case POLICY_ID_OWN_TREE:
		if (!a || major || minor >= a->n_trees)
			return -ENOENT;
		return snprintf(buf, len, "%s agent %s files %s %s",
				policy_place_format(&a->trees[minor].at, at, sizeof(at)), a->name,
				a->trees[minor].path,
				access_format(a->trees[minor].access, acts, sizeof(acts)));
	case POLICY_ID_OWN_DEST:
		if (!a || major || minor >= a->n_dests)
			return -ENOENT;
		dest_format(&a->dests[minor], what, sizeof(what));
		return snprintf(buf, len, "%s agent %s network %s%s%s",
				policy_place_format(&a->dests[minor].at, at, sizeof(at)), a->name,
				what, a->dests[minor].access == POLICY_NET_ACTIONS ? "" : " ",
				a->dests[minor].access == POLICY_NET_ACTIONS
					? ""
					: policy_actions_format(a->dests[minor].access, acts,
								sizeof(acts)));
	case POLICY_ID_GRANT:
		if (major >= p->n_families || minor >= p->families[major].n_grants)
			return -ENOENT;
		g = &p->families[major].grants[minor];
		return snprintf(buf, len, "%s family %s grants %s on %s",
				policy_place_format(&g->at, at, sizeof(at)),
				p->families[major].name,
				policy_actions_format(g->actions, acts, sizeof(acts)),
				g->on == POLICY_ON_CLASS ? p->classes[g->target].name
							 : p->backends[g->target].name);
	}
	return -ENOENT;
}

void policy_warning_format(const struct policy_warning *w, char *buf, size_t len)
{
	if (w->at.line)
		snprintf(buf, len, "%s:%u:%u: warning: %s", w->at.file ? w->at.file : "(policy)",
			 w->at.line, w->at.column, w->msg);
	else
		snprintf(buf, len, "%s: warning: %s", w->at.file ? w->at.file : "(policy)", w->msg);
}

void policy_error_format(const struct policy_error *err, char *buf, size_t len)
{
	if (err->line)
		snprintf(buf, len, "%s:%u:%u: error: %s", err->file, err->line, err->column,
			 err->msg);
	else
		snprintf(buf, len, "%s: error: %s", err->file, err->msg);
}
