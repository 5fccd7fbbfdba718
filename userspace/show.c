// SPDX-License-Identifier: GPL-2.0-only
/*
 * show.c - `pinfold show`: who may do what under a policy. The policy is
 * shown as written and validated by policy_load; it is not compiled, so
 * trees need not exist and nothing touches the kernel. Hostnames are
 * resolved, as `pinfold run` would resolve them now, so that a reviewer
 * sees the addresses an agent would reach.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "audit.h"
#include "policy/policy.h"
#include "run.h"
#include "show.h"
#include "text.h"

/* What one hostname destination resolved to. */
struct show_name {
	const struct policy_dest *dest;
	size_t n_addrs; /* 0: it did not resolve, why says why */
	uint8_t addrs[COMPILE_NAME_ADDRS_MAX][16];
	char why[128];
};

/* The policy, the agents shown, and every hostname resolved once. */
struct show_ctx {
	const struct policy *p;
	const struct policy_agent *only;
	struct show_name *names;
	size_t n_names;
};

void show_put_escaped(FILE *f, const char *s)
{
	text_put_escaped(f, s, strlen(s), false);
}

void show_put_yaml(FILE *f, const char *s)
{
	size_t plain =
		strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-");

	if (*s && !s[plain] && *s != '-' && *s != '.') {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	text_put_escaped(f, s, strlen(s), true);
	fputc('"', f);
}

void show_put_place(FILE *f, const struct policy_place *at)
{
	if (!at->line) {
		fputs("shipped with pinfold", f);
		return;
	}
	fputs("at ", f);
	show_put_escaped(f, at->file ? at->file : "(policy)");
	fprintf(f, ":%u:%u", at->line, at->column);
}

void show_put_at(FILE *f, const struct policy_place *at)
{
	fputs(" (", f);
	show_put_place(f, at);
	fputc(')', f);
}

void show_net_format(const uint8_t addr[16], unsigned prefix, char *buf, size_t len)
{
	if (prefix == 128)
		policy_addr_format(addr, buf, len);
	else
		policy_net_format(addr, prefix, buf, len);
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

void show_put_dest(FILE *f, const struct policy_dest *d)
{
	char net[64];

	if (d->host) {
		show_put_escaped(f, d->host);
	} else if (!d->prefix) {
		fputs("any", f);
	} else {
		show_net_format(d->addr, d->prefix, net, sizeof(net));
		fputs(net, f);
	}
	if (d->port_lo == d->port_hi)
		fprintf(f, " port %u %s", d->port_lo, proto_name(d->proto));
	else
		fprintf(f, " port %u-%u %s", d->port_lo, d->port_hi, proto_name(d->proto));
}

unsigned show_agent_actions(const struct policy *p, const struct policy_agent *a, unsigned on,
			    size_t target)
{
	unsigned acts = 0;
	size_t i, g;

	for (i = 0; i < a->n_families; i++) {
		const struct policy_family *f = &p->families[a->families[i].family];

		for (g = 0; g < f->n_grants; g++)
			if (f->grants[g].on == on && f->grants[g].target == target)
				acts |= f->grants[g].actions;
	}
	return acts;
}

static const char *target_name(const struct policy *p, unsigned on, size_t target)
{
	return on == POLICY_ON_CLASS ? p->classes[target].name : p->backends[target].name;
}

static const char *target_kind(unsigned on)
{
	return on == POLICY_ON_CLASS ? "class" : "backend";
}

size_t show_put_granting(FILE *f, const struct policy *p, unsigned on, size_t target,
			 unsigned action, const char *prefix)
{
	size_t i, g, n = 0;

	for (i = 0; i < p->n_families; i++) {
		const struct policy_family *fam = &p->families[i];

		for (g = 0; g < fam->n_grants; g++) {
			const struct policy_grant *gr = &fam->grants[g];

			if (gr->on != on || gr->target != target || !(gr->actions & action))
				continue;
			fputs(n++ ? ", " : prefix, f);
			fprintf(f, "family %s grants %s on %s %s", fam->name,
				policy_action_name(action), target_kind(on),
				target_name(p, on, target));
			show_put_at(f, &gr->at);
			break;
		}
	}
	return n;
}

static bool shown(const struct show_ctx *x, const struct policy_agent *a)
{
	return !x->only || x->only == a;
}

/* Whether a shown agent names family i. */
static bool family_used(const struct show_ctx *x, size_t i)
{
	size_t k, j;

	for (k = 0; k < x->p->n_agents; k++) {
		if (!shown(x, &x->p->agents[k]))
			continue;
		for (j = 0; j < x->p->agents[k].n_families; j++)
			if (x->p->agents[k].families[j].family == i)
				return true;
	}
	return false;
}

/* Whether class or backend target is listed: written in the policy, or used by a shown agent. */
static bool target_listed(const struct show_ctx *x, unsigned on, size_t target)
{
	size_t k;

	if (on == POLICY_ON_BACKEND || !x->p->classes[target].shipped)
		return true;
	for (k = 0; k < x->p->n_agents; k++)
		if (shown(x, &x->p->agents[k]) &&
		    show_agent_actions(x->p, &x->p->agents[k], on, target))
			return true;
	return false;
}

/* The resolution of hostname destination d; NULL for an address. */
static const struct show_name *name_of(const struct show_ctx *x, const struct policy_dest *d)
{
	size_t i;

	for (i = 0; d->host && i < x->n_names; i++)
		if (x->names[i].dest == d)
			return &x->names[i];
	return NULL;
}

static int resolve_one(struct show_ctx *x, const struct policy_dest *d,
		       const struct compile_env *env)
{
	compile_resolve_name_fn resolve =
		env && env->resolve_name ? env->resolve_name : compile_resolve_getaddrinfo;
	struct show_name *nm, *grown;
	int n;

	if (!d->host)
		return 0;
	grown = realloc(x->names, (x->n_names + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	x->names = grown;
	nm = &x->names[x->n_names++];
	memset(nm, 0, sizeof(*nm));
	nm->dest = d;
	n = resolve(d->host, nm->addrs, COMPILE_NAME_ADDRS_MAX, nm->why, sizeof(nm->why),
		    env ? env->name_ctx : NULL);
	if (n > COMPILE_NAME_ADDRS_MAX)
		snprintf(nm->why, sizeof(nm->why), "%d addresses: at most %d per name", n,
			 COMPILE_NAME_ADDRS_MAX);
	else if (n > 0)
		nm->n_addrs = (size_t)n;
	else if (!nm->why[0])
		snprintf(nm->why, sizeof(nm->why), "%s",
			 n ? strerror(-n) : "no IPv4 or IPv6 address");
	return 0;
}

/* Resolve every hostname of every backend and of the shown agents' own rules. */
static int show_resolve(struct show_ctx *x, const struct compile_env *env)
{
	size_t i, j;
	int err = 0;

	for (i = 0; !err && i < x->p->n_backends; i++)
		for (j = 0; !err && j < x->p->backends[i].n_dests; j++)
			err = resolve_one(x, &x->p->backends[i].dests[j], env);
	for (i = 0; !err && i < x->p->n_agents; i++)
		for (j = 0; !err && shown(x, &x->p->agents[i]) && j < x->p->agents[i].n_dests; j++)
			err = resolve_one(x, &x->p->agents[i].dests[j], env);
	return err;
}

/* ", resolves to A, B" or ", does not resolve here: WHY" after a hostname destination */
static void put_resolved(FILE *f, const struct show_ctx *x, const struct policy_dest *d)
{
	const struct show_name *nm = name_of(x, d);
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	if (!nm)
		return;
	if (!nm->n_addrs) {
		fputs(", does not resolve here: ", f);
		show_put_escaped(f, nm->why);
		return;
	}
	fputs(", resolves to", f);
	for (i = 0; i < nm->n_addrs; i++) {
		policy_addr_format(nm->addrs[i], addr, sizeof(addr));
		fprintf(f, "%s %s", i ? "," : "", addr);
	}
}

/*
 * Letters for the table: rwcdx on a class, cs on a backend, '-' for what is
 * not held; after *pad spaces owed by the column before, so that no line
 * ends in blanks. Sets *pad to what this column owes.
 */
static void put_letters(FILE *f, unsigned on, unsigned acts, int width, int *pad)
{
	static const char cls[] = "rwcdx", net[] = "cs";
	const char *letters = on == POLICY_ON_CLASS ? cls : net;
	unsigned first = on == POLICY_ON_CLASS ? POLICY_READ : POLICY_CONNECT;
	int i;

	fprintf(f, "%*s", *pad, "");
	for (i = 0; letters[i]; i++)
		fputc(acts & (first << i) ? letters[i] : '-', f);
	*pad = width - i;
}

/* The width of agent a's column in the table. */
static int column_width(const struct policy_agent *a)
{
	int w = (int)strlen(a->name);

	return (w < 5 ? 5 : w) + 2;
}

static void put_table_row(FILE *f, const struct show_ctx *x, unsigned on, size_t target, int first)
{
	const char *kind = target_kind(on), *name = target_name(x->p, on, target);
	int pad = first - (int)(strlen(kind) + 1 + strlen(name));
	size_t k;

	if (!target_listed(x, on, target))
		return;
	fprintf(f, "  %s %s", kind, name);
	for (k = 0; k < x->p->n_agents; k++)
		if (shown(x, &x->p->agents[k]))
			put_letters(f, on, show_agent_actions(x->p, &x->p->agents[k], on, target),
				    column_width(&x->p->agents[k]), &pad);
	fputc('\n', f);
}

/* The table of who may do what: classes and backends against agents. */
static void put_table(FILE *f, const struct show_ctx *x)
{
	int first = 20, w;
	size_t i;

	/* "class NAME" or "backend NAME", and two blanks */
	for (i = 0; i < x->p->n_classes; i++) {
		w = (int)strlen("class ") + (int)strlen(x->p->classes[i].name) + 2;
		if (target_listed(x, POLICY_ON_CLASS, i) && w > first)
			first = w;
	}
	for (i = 0; i < x->p->n_backends; i++) {
		w = (int)strlen("backend ") + (int)strlen(x->p->backends[i].name) + 2;
		if (w > first)
			first = w;
	}
	fputs("who may do what (classes: r read, w write, c create, d delete, x exec; backends: c connect, s send)\n",
	      f);
	w = first + 2;
	for (i = 0; i < x->p->n_agents; i++) {
		if (!shown(x, &x->p->agents[i]))
			continue;
		fprintf(f, "%*s%s", w, "", x->p->agents[i].name);
		w = column_width(&x->p->agents[i]) - (int)strlen(x->p->agents[i].name);
	}
	fputc('\n', f);
	for (i = 0; i < x->p->n_classes; i++)
		put_table_row(f, x, POLICY_ON_CLASS, i, first);
	for (i = 0; i < x->p->n_backends; i++)
		put_table_row(f, x, POLICY_ON_BACKEND, i, first);
}

/* What becomes of a denial in a mode that does not apply it, or NULL in enforce mode. */
static const char *unapplied(unsigned mode)
{
	switch (mode) {
	case POLICY_MODE_AUDIT:
		return "mode audit: denials recorded, not applied";
	case POLICY_MODE_RECORD:
		return "mode record: every use recorded, no denial applied";
	default:
		return NULL;
	}
}

/* ", audited", ", approved by WHO" as the grant says, and the line's end */
static void put_grant_tail(FILE *f, const struct policy_grant *gr)
{
	if (gr->audited)
		fputs(", audited", f);
	if (gr->approved_by) {
		fputs(", approved by ", f);
		show_put_escaped(f, gr->approved_by);
	}
	fputc('\n', f);
}

/* "  class C: read, write from family F (at P), audited" for each grant a holds on target */
static size_t put_agent_grants(FILE *f, const struct show_ctx *x, const struct policy_agent *a,
			       unsigned on, size_t target)
{
	char acts[128];
	size_t i, g, n = 0;

	for (i = 0; i < a->n_families; i++) {
		const struct policy_family *fam = &x->p->families[a->families[i].family];

		for (g = 0; g < fam->n_grants; g++) {
			const struct policy_grant *gr = &fam->grants[g];

			if (gr->on != on || gr->target != target)
				continue;
			fprintf(f, "  %s %s: %s from family %s", target_kind(on),
				target_name(x->p, on, target),
				policy_actions_format(gr->actions, acts, sizeof(acts)), fam->name);
			show_put_at(f, &gr->at);
			put_grant_tail(f, gr);
			n++;
		}
	}
	return n;
}

/* "  nothing on: class A, backend B" for the policy's classes and backends a holds nothing on */
static void put_nothing_on(FILE *f, const struct show_ctx *x, const struct policy_agent *a)
{
	size_t i, n = 0;

	for (i = 0; i < x->p->n_classes; i++) {
		if (x->p->classes[i].shipped || show_agent_actions(x->p, a, POLICY_ON_CLASS, i))
			continue;
		fprintf(f, "%sclass %s", n++ ? ", " : "  nothing on: ", x->p->classes[i].name);
	}
	for (i = 0; i < x->p->n_backends; i++) {
		if (show_agent_actions(x->p, a, POLICY_ON_BACKEND, i))
			continue;
		fprintf(f, "%sbackend %s", n++ ? ", " : "  nothing on: ", x->p->backends[i].name);
	}
	if (n)
		fputc('\n', f);
}

static void put_own_rules(FILE *f, const struct show_ctx *x, const struct policy_agent *a)
{
	char acts[128];
	size_t i;

	for (i = 0; i < a->n_trees; i++) {
		fputs("  own files ", f);
		show_put_escaped(f, a->trees[i].path);
		fprintf(f, ": %s", policy_actions_format(a->trees[i].access, acts, sizeof(acts)));
		show_put_at(f, &a->trees[i].at);
		fputs(a->trees[i].audited ? ", audited\n" : "\n", f);
	}
	for (i = 0; i < a->n_dests; i++) {
		fputs("  own network ", f);
		show_put_dest(f, &a->dests[i]);
		fprintf(f, ": %s", policy_actions_format(a->dests[i].access, acts, sizeof(acts)));
		show_put_at(f, &a->dests[i].at);
		put_resolved(f, x, &a->dests[i]);
		fputs(a->dests[i].audited ? ", audited\n" : "\n", f);
	}
}

static void put_agent(FILE *f, const struct show_ctx *x, const struct policy_agent *a)
{
	const char *mode = policy_mode_name(a->mode), *why = unapplied(a->mode);
	char sockets[128];
	size_t i, grants = 0;

	fprintf(f, "\nagent %s, mode %s", a->name, mode ? mode : "unknown");
	show_put_at(f, &a->at);
	fputs(a->n_families ? "\n  families: " : "\n  families: none", f);
	for (i = 0; i < a->n_families; i++) {
		fprintf(f, "%s%s", i ? ", " : "", x->p->families[a->families[i].family].name);
		show_put_at(f, &a->families[i].at);
	}
	policy_sockets_format(a->sockets, sockets, sizeof(sockets));
	fprintf(f, "\n  sockets: %s\n", a->sockets ? sockets : "none");
	for (i = 0; i < x->p->n_classes; i++)
		grants += put_agent_grants(f, x, a, POLICY_ON_CLASS, i);
	for (i = 0; i < x->p->n_backends; i++)
		grants += put_agent_grants(f, x, a, POLICY_ON_BACKEND, i);
	put_own_rules(f, x, a);
	put_nothing_on(f, x, a);
	fprintf(f, "  %s: %zu %s, %zu own %s; ", a->name, grants, grants == 1 ? "grant" : "grants",
		a->n_trees + a->n_dests, a->n_trees + a->n_dests == 1 ? "rule" : "rules");
	if (why)
		fprintf(f, "everything else would be denied (%s)\n", why);
	else
		fputs("everything else is denied\n", f);
}

/* "class C (at P): DESCRIPTION" and its trees */
static void put_class(FILE *f, const struct policy_class *c)
{
	size_t i;

	fprintf(f, "\nclass %s", c->name);
	show_put_at(f, &c->at);
	if (c->description) {
		fputs(": ", f);
		show_put_escaped(f, c->description);
	}
	fputc('\n', f);
	if (c->audit_required)
		fputs("  audit: required: every access is recorded, and refused when it cannot be\n",
		      f);
	if (c->hash_paths)
		fputs("  log_paths: keyed-hash: the audit log keeps keyed hashes of its paths\n",
		      f);
	if (c->private_tmp)
		fputs("  no trees: pinfold run makes one directory for each instance\n", f);
	for (i = 0; i < c->n_trees; i++) {
		fputs("  tree ", f);
		show_put_escaped(f, c->trees[i].path);
		if (c->trees[i].at.line)
			show_put_at(f, &c->trees[i].at);
		fputs(c->trees[i].optional ? ", skipped where missing\n" : "\n", f);
	}
}

/*
 * "  except NET (at P)", or for a named range, whose prefixes follow one
 * another with the same text and place, "  except NAME = NET, NET (at P)"
 */
static void put_except(FILE *f, const struct policy_backend *b, size_t i)
{
	const struct policy_except *e = &b->excepts[i], *prev = i ? e - 1 : NULL;
	const struct policy_except *next = i + 1 < b->n_excepts ? e + 1 : NULL;
	char net[64];

	show_net_format(e->addr, e->prefix, net, sizeof(net));
	if (prev && !strcmp(prev->text, e->text) && prev->at.line == e->at.line &&
	    prev->at.column == e->at.column) {
		fprintf(f, ", %s", net);
	} else {
		fputs("  except ", f);
		if (strcmp(net, e->text)) {
			show_put_escaped(f, e->text);
			fputs(" = ", f);
		}
		fputs(net, f);
	}
	if (next && !strcmp(next->text, e->text) && next->at.line == e->at.line &&
	    next->at.column == e->at.column)
		return;
	show_put_at(f, &e->at);
	fputc('\n', f);
}

static void put_backend(FILE *f, const struct show_ctx *x, const struct policy_backend *b)
{
	size_t i;

	fprintf(f, "\nbackend %s", b->name);
	show_put_at(f, &b->at);
	if (b->description) {
		fputs(": ", f);
		show_put_escaped(f, b->description);
	}
	fputc('\n', f);
	for (i = 0; i < b->n_dests; i++) {
		fputs("  to ", f);
		show_put_dest(f, &b->dests[i]);
		show_put_at(f, &b->dests[i].at);
		put_resolved(f, x, &b->dests[i]);
		fputc('\n', f);
	}
	for (i = 0; i < b->n_excepts; i++)
		put_except(f, b, i);
}

static void put_family(FILE *f, const struct show_ctx *x, size_t i)
{
	const struct policy_family *fam = &x->p->families[i];
	char acts[128];
	size_t g, k, n = 0;

	fprintf(f, "\nfamily %s", fam->name);
	show_put_at(f, &fam->at);
	if (fam->description) {
		fputs(": ", f);
		show_put_escaped(f, fam->description);
	}
	fputc('\n', f);
	for (g = 0; g < fam->n_grants; g++) {
		const struct policy_grant *gr = &fam->grants[g];

		fprintf(f, "  %s on %s %s", policy_actions_format(gr->actions, acts, sizeof(acts)),
			target_kind(gr->on), target_name(x->p, gr->on, gr->target));
		if (gr->at.line)
			show_put_at(f, &gr->at);
		put_grant_tail(f, gr);
	}
	for (k = 0; k < x->p->n_agents; k++) {
		const struct policy_agent *a = &x->p->agents[k];
		size_t j;

		for (j = 0; j < a->n_families; j++)
			if (a->families[j].family == i)
				break;
		if (j < a->n_families)
			fprintf(f, "%s%s", n++ ? ", " : "  used by ", a->name);
	}
	fputs(n ? "\n" : "  used by no agent\n", f);
}

static void show_ctx_release(struct show_ctx *x)
{
	free(x->names);
	memset(x, 0, sizeof(*x));
}

int show_text(FILE *f, const struct policy *p, const struct policy_agent *only,
	      const struct compile_env *env)
{
	struct show_ctx x = {.p = p, .only = only};
	size_t i;
	int err;

	err = show_resolve(&x, env);
	if (err)
		goto out;
	fputs("policy ", f);
	show_put_escaped(f, p->file ? p->file : "(policy)");
	fprintf(f, ", sha256 %s, %zu %s\n\n", p->sha256, p->n_agents,
		p->n_agents == 1 ? "agent" : "agents");
	put_table(f, &x);
	for (i = 0; i < p->n_agents; i++)
		if (shown(&x, &p->agents[i]))
			put_agent(f, &x, &p->agents[i]);
	for (i = 0; i < p->n_classes; i++)
		if (target_listed(&x, POLICY_ON_CLASS, i))
			put_class(f, &p->classes[i]);
	for (i = 0; i < p->n_backends; i++)
		put_backend(f, &x, &p->backends[i]);
	for (i = 0; i < p->n_families; i++)
		if (!p->families[i].shipped || family_used(&x, i))
			put_family(f, &x, i);
	err = ferror(f) ? -EIO : 0;
out:
	show_ctx_release(&x);
	return err;
}

/* s, or JSON null when s is NULL */
static int add_string(struct json_object *o, const char *key, const char *s)
{
	if (s)
		return audit_json_add(o, key, json_object_new_string(s));
	return json_object_object_add(o, key, NULL) ? -ENOMEM : 0;
}

static int add_int(struct json_object *o, const char *key, int64_t v)
{
	return audit_json_add(o, key, json_object_new_int64(v));
}

static int add_bool(struct json_object *o, const char *key, bool v)
{
	return audit_json_add(o, key, json_object_new_boolean(v));
}

/* file (null for what pinfold ships), line and column */
static int add_place(struct json_object *o, const struct policy_place *at)
{
	return add_string(o, "file", at->line ? at->file : NULL) | add_int(o, "line", at->line) |
	       add_int(o, "column", at->column);
}

/* Append val to arr, taking its reference; -ENOMEM when val is NULL or appending fails. */
static int append(struct json_object *arr, struct json_object *val)
{
	if (!arr || !val) {
		json_object_put(val);
		return -ENOMEM;
	}
	if (json_object_array_add(arr, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* ["read", "write"] for a set of POLICY_* bits */
static struct json_object *actions_json(unsigned acts)
{
	struct json_object *arr = json_object_new_array();
	unsigned bit;
	int err = 0;

	for (bit = 1; bit <= POLICY_SEND; bit <<= 1)
		if (acts & bit)
			err |= append(arr, json_object_new_string(policy_action_name(bit)));
	if (err) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

/* o, or NULL (with o released) when err says a member could not be added */
static struct json_object *done(struct json_object *o, int err)
{
	if (!err && o)
		return o;
	json_object_put(o);
	errno = ENOMEM;
	return NULL;
}

/* to, host, net, addresses, resolve_error, port_lo, port_hi, proto of a destination */
static int add_dest(struct json_object *o, const struct show_ctx *x, const struct policy_dest *d)
{
	const struct show_name *nm = name_of(x, d);
	struct json_object *addrs = NULL;
	char net[64], addr[INET6_ADDRSTRLEN];
	size_t i;
	int err = 0;

	policy_net_format(d->addr, d->prefix, net, sizeof(net));
	if (nm && nm->n_addrs) {
		addrs = json_object_new_array();
		for (i = 0; i < nm->n_addrs; i++) {
			policy_addr_format(nm->addrs[i], addr, sizeof(addr));
			err |= append(addrs, json_object_new_string(addr));
		}
	}
	if (err) {
		json_object_put(addrs);
		return -ENOMEM;
	}
	err = add_string(o, "to", d->text) | add_string(o, "host", d->host) |
	      add_string(o, "net", d->host ? NULL : net);
	if (addrs)
		err |= audit_json_add(o, "addresses", addrs);
	else
		err |= json_object_object_add(o, "addresses", NULL) ? -ENOMEM : 0;
	return err | add_string(o, "resolve_error", nm && !nm->n_addrs ? nm->why : NULL) |
	       add_int(o, "port_lo", d->port_lo) | add_int(o, "port_hi", d->port_hi) |
	       add_string(o, "proto", proto_name(d->proto));
}

/* class or backend (by name), actions, audited and place of one grant */
static int add_grant(struct json_object *o, const struct policy *p, const struct policy_grant *gr)
{
	return add_string(o, target_kind(gr->on), target_name(p, gr->on, gr->target)) |
	       audit_json_add(o, "actions", actions_json(gr->actions)) |
	       add_bool(o, "audited", gr->audited) | add_string(o, "approved_by", gr->approved_by) |
	       add_place(o, &gr->at);
}

/* The grants agent a holds, through its families, in the order show_text lists them. */
static struct json_object *agent_grants_json(const struct show_ctx *x, const struct policy_agent *a)
{
	struct json_object *arr = json_object_new_array(), *o;
	size_t i, g;
	int err = 0;

	for (i = 0; !err && i < a->n_families; i++) {
		size_t fi = a->families[i].family;
		const struct policy_family *fam = &x->p->families[fi];

		for (g = 0; !err && g < fam->n_grants; g++) {
			o = json_object_new_object();
			err = append(arr,
				     done(o, !o || add_grant(o, x->p, &fam->grants[g]) |
							     add_string(o, "family", fam->name) |
							     add_int(o, "rule_id",
								     POLICY_ID(POLICY_ID_GRANT, fi,
									       g))));
		}
	}
	return done(arr, err);
}

/* {"classes": {NAME: actions}, "backends": {NAME: actions}}: what a may do on each */
static struct json_object *may_json(const struct show_ctx *x, const struct policy_agent *a)
{
	struct json_object *o = json_object_new_object(), *cls = json_object_new_object(),
			   *net = json_object_new_object();
	unsigned acts;
	size_t i;
	int err = !o || !cls || !net;

	for (i = 0; !err && i < x->p->n_classes; i++) {
		acts = show_agent_actions(x->p, a, POLICY_ON_CLASS, i);
		if (acts)
			err |= audit_json_add(cls, x->p->classes[i].name, actions_json(acts));
	}
	for (i = 0; !err && i < x->p->n_backends; i++) {
		acts = show_agent_actions(x->p, a, POLICY_ON_BACKEND, i);
		if (acts)
			err |= audit_json_add(net, x->p->backends[i].name, actions_json(acts));
	}
	if (err) {
		json_object_put(cls);
		json_object_put(net);
		return done(o, err);
	}
	return done(o, audit_json_add(o, "classes", cls) | audit_json_add(o, "backends", net));
}

/* {"classes": [...], "backends": [...]}: the policy's classes and backends a holds nothing on */
static struct json_object *nothing_on_json(const struct show_ctx *x, const struct policy_agent *a)
{
	struct json_object *o = json_object_new_object(), *cls = json_object_new_array(),
			   *net = json_object_new_array();
	size_t i;
	int err = !o || !cls || !net;

	for (i = 0; !err && i < x->p->n_classes; i++)
		if (!x->p->classes[i].shipped && !show_agent_actions(x->p, a, POLICY_ON_CLASS, i))
			err |= append(cls, json_object_new_string(x->p->classes[i].name));
	for (i = 0; !err && i < x->p->n_backends; i++)
		if (!show_agent_actions(x->p, a, POLICY_ON_BACKEND, i))
			err |= append(net, json_object_new_string(x->p->backends[i].name));
	if (err) {
		json_object_put(cls);
		json_object_put(net);
		return done(o, err);
	}
	return done(o, audit_json_add(o, "classes", cls) | audit_json_add(o, "backends", net));
}

static struct json_object *own_files_json(const struct policy_agent *a)
{
	struct json_object *arr = json_object_new_array(), *o;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < a->n_trees; i++) {
		const struct policy_tree *t = &a->trees[i];

		o = json_object_new_object();
		err = append(arr,
			     done(o, !o || add_string(o, "path", t->path) |
						     audit_json_add(o, "actions",
								    actions_json(t->access)) |
						     add_bool(o, "audited", t->audited) |
						     add_int(o, "rule_id",
							     POLICY_ID(POLICY_ID_OWN_TREE, 0, i)) |
						     add_place(o, &t->at)));
	}
	return done(arr, err);
}

static struct json_object *own_network_json(const struct show_ctx *x, const struct policy_agent *a)
{
	struct json_object *arr = json_object_new_array(), *o;
	size_t j;
	int err = 0;

	for (j = 0; !err && j < a->n_dests; j++) {
		const struct policy_dest *d = &a->dests[j];

		o = json_object_new_object();
		err = append(arr,
			     done(o, !o || add_dest(o, x, d) |
						     audit_json_add(o, "actions",
								    actions_json(d->access)) |
						     add_bool(o, "audited", d->audited) |
						     add_int(o, "rule_id",
							     POLICY_ID(POLICY_ID_OWN_DEST, 0, j)) |
						     add_place(o, &d->at)));
	}
	return done(arr, err);
}

static struct json_object *agent_json(const struct show_ctx *x, const struct policy_agent *a)
{
	struct json_object *o = json_object_new_object(), *fams = json_object_new_array();
	struct json_object *socks = json_object_new_array();
	const char *mode = policy_mode_name(a->mode);
	char kind[32];
	size_t i;
	int err = !o;

	for (i = 0; i < a->n_families; i++)
		err |= append(fams,
			      json_object_new_string(x->p->families[a->families[i].family].name));
	for (i = 0; i < 32; i++)
		if (a->sockets & 1u << i)
			err |= append(socks, json_object_new_string(policy_sockets_format(
						     1u << i, kind, sizeof(kind))));
	if (err || !fams || !socks) {
		json_object_put(fams);
		json_object_put(socks);
		return done(o, -ENOMEM);
	}
	err = add_string(o, "name", a->name) | add_string(o, "mode", mode ? mode : "unknown") |
	      add_bool(o, "denials_applied", a->mode == POLICY_MODE_ENFORCE) |
	      add_place(o, &a->at) | audit_json_add(o, "families", fams) |
	      audit_json_add(o, "sockets", socks) |
	      audit_json_add(o, "grants", agent_grants_json(x, a)) |
	      audit_json_add(o, "may", may_json(x, a)) |
	      audit_json_add(o, "own_files", own_files_json(a)) |
	      audit_json_add(o, "own_network", own_network_json(x, a)) |
	      audit_json_add(o, "nothing_on", nothing_on_json(x, a));
	return done(o, err);
}

static struct json_object *class_json(const struct policy_class *c)
{
	struct json_object *o = json_object_new_object(), *trees = json_object_new_array(), *t;
	size_t i;
	int err = !o;

	for (i = 0; !err && i < c->n_trees; i++) {
		t = json_object_new_object();
		err = append(trees,
			     done(t, !t || add_string(t, "path", c->trees[i].path) |
						     add_bool(t, "optional", c->trees[i].optional) |
						     add_place(t, &c->trees[i].at)));
	}
	if (err || !trees) {
		json_object_put(trees);
		return done(o, -ENOMEM);
	}
	return done(o, add_string(o, "name", c->name) |
			       add_string(o, "description", c->description) |
			       add_bool(o, "shipped", c->shipped) |
			       add_bool(o, "private_tmp", c->private_tmp) |
			       add_string(o, "audit", c->audit_required ? "required" : "optional") |
			       add_string(o, "log_paths", c->hash_paths ? "keyed-hash" : "plain") |
			       audit_json_add(o, "trees", trees) | add_place(o, &c->at));
}

static struct json_object *backend_json(const struct show_ctx *x, const struct policy_backend *b)
{
	struct json_object *o = json_object_new_object(), *dests = json_object_new_array(),
			   *exc = json_object_new_array(), *e;
	char net[64];
	size_t i;
	int err = !o;

	for (i = 0; !err && i < b->n_dests; i++) {
		e = json_object_new_object();
		err = append(dests, done(e, !e || add_dest(e, x, &b->dests[i]) |
							    add_place(e, &b->dests[i].at)));
	}
	for (i = 0; !err && i < b->n_excepts; i++) {
		policy_net_format(b->excepts[i].addr, b->excepts[i].prefix, net, sizeof(net));
		e = json_object_new_object();
		err = append(exc, done(e, !e || add_string(e, "text", b->excepts[i].text) |
							  add_string(e, "net", net) |
							  add_place(e, &b->excepts[i].at)));
	}
	if (err || !dests || !exc) {
		json_object_put(dests);
		json_object_put(exc);
		return done(o, -ENOMEM);
	}
	return done(o, add_string(o, "name", b->name) |
			       add_string(o, "description", b->description) |
			       audit_json_add(o, "destinations", dests) |
			       audit_json_add(o, "except", exc) | add_place(o, &b->at));
}

static struct json_object *family_json(const struct show_ctx *x, size_t fi)
{
	const struct policy_family *fam = &x->p->families[fi];
	struct json_object *o = json_object_new_object(), *grants = json_object_new_array(),
			   *users = json_object_new_array(), *g;
	size_t i, j;
	int err = !o;

	for (i = 0; !err && i < fam->n_grants; i++) {
		g = json_object_new_object();
		err = append(grants, done(g, !g || add_grant(g, x->p, &fam->grants[i])));
	}
	for (i = 0; !err && i < x->p->n_agents; i++)
		for (j = 0; !err && j < x->p->agents[i].n_families; j++)
			if (x->p->agents[i].families[j].family == fi) {
				err = append(users, json_object_new_string(x->p->agents[i].name));
				break;
			}
	if (err || !grants || !users) {
		json_object_put(grants);
		json_object_put(users);
		return done(o, -ENOMEM);
	}
	return done(o, add_string(o, "name", fam->name) |
			       add_string(o, "description", fam->description) |
			       add_bool(o, "shipped", fam->shipped) |
			       audit_json_add(o, "grants", grants) |
			       audit_json_add(o, "agents", users) | add_place(o, &fam->at));
}

/* The document's arrays: agents, classes, backends, families, as show_text lists them. */
static int show_json_lists(struct json_object *o, const struct show_ctx *x)
{
	struct json_object *agents = json_object_new_array(), *classes = json_object_new_array(),
			   *backends = json_object_new_array(), *families = json_object_new_array();
	const struct policy *p = x->p;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < p->n_agents; i++)
		if (shown(x, &p->agents[i]))
			err = append(agents, agent_json(x, &p->agents[i]));
	for (i = 0; !err && i < p->n_classes; i++)
		if (target_listed(x, POLICY_ON_CLASS, i))
			err = append(classes, class_json(&p->classes[i]));
	for (i = 0; !err && i < p->n_backends; i++)
		err = append(backends, backend_json(x, &p->backends[i]));
	for (i = 0; !err && i < p->n_families; i++)
		if (!p->families[i].shipped || family_used(x, i))
			err = append(families, family_json(x, i));
	if (err || !agents || !classes || !backends || !families) {
		json_object_put(agents);
		json_object_put(classes);
		json_object_put(backends);
		json_object_put(families);
		return -ENOMEM;
	}
	return audit_json_add(o, "agents", agents) | audit_json_add(o, "classes", classes) |
	       audit_json_add(o, "backends", backends) | audit_json_add(o, "families", families);
}

struct json_object *show_json(const struct policy *p, const struct policy_agent *only,
			      const struct compile_env *env)
{
	struct show_ctx x = {.p = p, .only = only};
	struct json_object *o = NULL, *files = NULL;
	size_t i;
	int err;

	err = show_resolve(&x, env);
	if (!err) {
		o = json_object_new_object();
		files = json_object_new_array();
	}
	for (i = 0; !err && i < p->n_files; i++)
		err = append(files, json_object_new_string(p->files[i]));
	if (err || !o || !files) {
		json_object_put(files);
		show_ctx_release(&x);
		return done(o, -ENOMEM);
	}
	err = add_string(o, "policy", p->file ? p->file : "(policy)") |
	      add_string(o, "sha256", p->sha256) | audit_json_add(o, "files", files) |
	      show_json_lists(o, &x);
	show_ctx_release(&x);
	return done(o, err);
}

/* "no agent 'x' in P; its agents: a, b" on stderr */
static void unknown_agent(const struct policy *p, const char *path, const char *name)
{
	size_t i;

	fputs("pinfold: no agent '", stderr);
	show_put_escaped(stderr, name);
	fputs("' in ", stderr);
	show_put_escaped(stderr, path);
	fputs(p->n_agents ? "; its agents: " : "; it has no agents", stderr);
	for (i = 0; i < p->n_agents; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", p->agents[i].name);
	fputc('\n', stderr);
}

static int show_print(const struct policy *p, const struct policy_agent *only, bool json)
{
	struct json_object *o;
	int err = 0;

	if (!json)
		return show_text(stdout, p, only, NULL);
	o = show_json(p, only, NULL);
	if (!o)
		return -errno;
	if (puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		err = -EIO;
	json_object_put(o);
	return err;
}

static int show_usage(void)
{
	fprintf(stderr, "usage: pinfold show --policy P [--agent NAME] [--json]\n");
	return RUN_EXIT_USAGE;
}

int show_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"agent", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *policy = NULL, *agent = NULL;
	const struct policy_agent *only = NULL;
	struct policy_error perr = {};
	struct policy p = {};
	bool json = false;
	char msg[600];
	int opt, rc = RUN_EXIT_USAGE, err;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p')
			policy = optarg;
		else if (opt == 'a')
			agent = optarg;
		else if (opt == 'j')
			json = true;
		else
			return show_usage();
	}
	if (!policy || optind != argc)
		return show_usage();

	if (policy_load(policy, &p, &perr)) {
		policy_error_format(&perr, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return RUN_EXIT_USAGE;
	}
	if (agent) {
		only = policy_find_agent(&p, agent);
		if (!only) {
			unknown_agent(&p, policy, agent);
			goto out;
		}
	}

	err = show_print(&p, only, json);
	if (!err && fflush(stdout))
		err = -errno;
	if (err) {
		fprintf(stderr, "pinfold: cannot write the policy: %s\n", strerror(-err));
		rc = EXIT_FAILURE;
		goto out;
	}
	rc = EXIT_SUCCESS;
out:
	policy_release(&p);
	return rc;
}
