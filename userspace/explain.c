// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain.c - `pinfold explain`: compile the agent exactly as `pinfold run`
 * does, judge one file or network access in userspace with the decision
 * steps the kernel programs compile (bpf/decide.h), and print the verdict
 * with one sentence of why and, for a denial, the grant that would allow it.
 *
 * The verdict comes from the compiled entries alone, as in the kernel; the
 * policy is read only to put it in words. This file holds the wording and
 * the command; the lookups in the compiled entries and the walk over a
 * file's ancestors (the kernel's, step for step, through stat(2) of each
 * parent) are in explain_walk.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/decide.h"
#include "explain.h"
#include "explain_int.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "run.h"
#include "show.h"

#define EXPLAIN_ALLOWED 0
#define EXPLAIN_DENIED 1

/* what `pinfold run` would use for a first instance; any slot judges alike */
#define EXPLAIN_SLOT 0
#define EXPLAIN_GEN 1

/* The policy, the agent and its compiled entries, and hostnames resolved for the wording. */
struct explain_ctx {
	const struct policy *p;
	const struct policy_agent *a;
	struct compiled c;
	struct compile_env env;
	struct compiled_name *names; /* of destinations the agent may not use */
	size_t n_names;
	bool no_lookup; /* hostnames hold only the addresses of c.names */
};

/* the name of one PF_ACCESS_* (= POLICY_*) right */
static const char *right(uint32_t need)
{
	const char *s = policy_action_name(need);

	return s ? s : "?";
}

static void put(const char *s)
{
	show_put_escaped(stdout, s);
}

/*
 * "to allow it: family F grants NEED on KIND T (at P); add it to agent A's
 * families", naming every family that does; when none does, the grant a
 * new family would hold, as a line of YAML. A family the agent holds for
 * another job is not the place for it: every agent holding that family
 * would gain it.
 */
static void put_grant_remedy(const struct explain_ctx *x, unsigned on, size_t target, uint32_t need)
{
	const char *kind = on == POLICY_ON_CLASS ? "class" : "backend";
	const char *name =
		on == POLICY_ON_CLASS ? x->p->classes[target].name : x->p->backends[target].name;
	size_t n = show_put_granting(stdout, x->p, on, target, need, "to allow it: ");

	if (n) {
		printf("; add %s to agent %s's families\n", n == 1 ? "it" : "one of them",
		       x->a->name);
		return;
	}
	printf("to allow it: no family grants %s on %s %s; add a family with this grant to the "
	       "policy, and to agent %s's families:\n    - { %s: ",
	       right(need), kind, name, x->a->name, kind);
	show_put_yaml(stdout, name);
	printf(", actions: [%s] }\n", right(need));
}

/* "class C (tree T at P" or "agent A's own files rule T (at P" for a tree's object id */
static bool put_tree_holder(const struct explain_ctx *x, uint32_t object)
{
	uint32_t major = POLICY_ID_MAJOR(object), minor = POLICY_ID_MINOR(object);
	const struct policy_tree *t;

	if (POLICY_ID_KIND(object) == POLICY_ID_CLASS_TREE && major < x->p->n_classes &&
	    minor < x->p->classes[major].n_trees) {
		t = &x->p->classes[major].trees[minor];
		printf("class %s (tree ", x->p->classes[major].name);
	} else if (POLICY_ID_KIND(object) == POLICY_ID_OWN_TREE && minor < x->a->n_trees) {
		t = &x->a->trees[minor];
		printf("agent %s's own files rule ", x->a->name);
		put(t->path);
		fputs(" (", stdout);
	} else {
		printf("a tree the policy does not name (object %#x", object);
		return false;
	}
	if (POLICY_ID_KIND(object) == POLICY_ID_CLASS_TREE) {
		put(t->path);
		fputs(t->at.line ? " " : ", ", stdout);
	}
	show_put_place(stdout, &t->at);
	return true;
}

/* Whether trees a and b belong to different classes (an own rule is a class of its own). */
static bool other_holder(uint32_t a, uint32_t b)
{
	if (POLICY_ID_KIND(a) != POLICY_ID_KIND(b))
		return true;
	if (POLICY_ID_KIND(a) == POLICY_ID_CLASS_TREE)
		return POLICY_ID_MAJOR(a) != POLICY_ID_MAJOR(b);
	return a != b;
}

/* "it is in class C (tree T at P; the deepest tree decides, over tree U of class D)" */
static void put_file_holder(const struct explain_ctx *x, const struct explain_file *e)
{
	const struct pf_tree *next = e->w.next;

	fputs(POLICY_ID_KIND(e->w.tree->object) == POLICY_ID_OWN_TREE ? "it is under "
								      : "it is in ",
	      stdout);
	if (put_tree_holder(x, e->w.tree->object) && next &&
	    other_holder(e->w.tree->object, next->object)) {
		fputs("; the deepest tree decides, over ", stdout);
		if (POLICY_ID_KIND(next->object) == POLICY_ID_CLASS_TREE &&
		    POLICY_ID_MAJOR(next->object) < x->p->n_classes &&
		    POLICY_ID_MINOR(next->object) <
			    x->p->classes[POLICY_ID_MAJOR(next->object)].n_trees) {
			const struct policy_class *k =
				&x->p->classes[POLICY_ID_MAJOR(next->object)];

			fputs("tree ", stdout);
			put(k->trees[POLICY_ID_MINOR(next->object)].path);
			printf(" of class %s", k->name);
		} else if (POLICY_ID_KIND(next->object) == POLICY_ID_OWN_TREE &&
			   POLICY_ID_MINOR(next->object) < x->a->n_trees) {
			printf("agent %s's own files rule ", x->a->name);
			put(x->a->trees[POLICY_ID_MINOR(next->object)].path);
		} else {
			printf("object %#x", next->object);
		}
	}
	fputc(')', stdout);
}

/* ", and family F grants NEED on C (at P)" or ", which gives NEED" for the allowing rule */
static void put_file_grant(const struct explain_ctx *x, uint32_t rule, uint32_t need,
			   uint32_t object)
{
	uint32_t f = POLICY_ID_MAJOR(rule), g = POLICY_ID_MINOR(rule);

	if (POLICY_ID_KIND(rule) == POLICY_ID_GRANT && f < x->p->n_families &&
	    g < x->p->families[f].n_grants) {
		const struct policy_grant *gr = &x->p->families[f].grants[g];

		printf(", and family %s grants %s on %s", x->p->families[f].name, right(need),
		       gr->on == POLICY_ON_CLASS ? x->p->classes[gr->target].name : "?");
		show_put_at(stdout, &gr->at);
	} else if (rule == object) {
		printf(", which gives %s", right(need));
	} else {
		printf(", and rule %#x gives %s", rule, right(need));
	}
}

/* The union of what agent a's families grant on class or backend target. */
static unsigned held_on(const struct explain_ctx *x, unsigned on, size_t target)
{
	return show_agent_actions(x->p, x->a, on, target);
}

/* The denial's reason and remedy for a file whose deepest tree lacks the right. */
static void put_file_lacks(const struct explain_ctx *x, const struct explain_file *e)
{
	uint32_t object = e->w.tree->object, minor = POLICY_ID_MINOR(object);
	char acts[128];

	if (POLICY_ID_KIND(object) == POLICY_ID_OWN_TREE && minor < x->a->n_trees) {
		const struct policy_tree *t = &x->a->trees[minor];

		printf(", which gives only %s.\n",
		       policy_actions_format(t->access, acts, sizeof(acts)));
		printf("to allow it: add %s to the access of that rule\n", right(e->need));
		return;
	}
	if (POLICY_ID_KIND(object) != POLICY_ID_CLASS_TREE ||
	    POLICY_ID_MAJOR(object) >= x->p->n_classes) {
		printf(", which does not give %s.\n", right(e->need));
		return;
	}
	if (!e->w.tree->access)
		printf(", and no family of agent %s grants anything on %s.\n", x->a->name,
		       x->p->classes[POLICY_ID_MAJOR(object)].name);
	else
		printf(", and agent %s's families grant only %s on %s.\n", x->a->name,
		       policy_actions_format(e->w.tree->access, acts, sizeof(acts)),
		       x->p->classes[POLICY_ID_MAJOR(object)].name);
	put_grant_remedy(x, POLICY_ON_CLASS, POLICY_ID_MAJOR(object), e->need);
}

/*
 * A shipped class whose tree holds the resolved path object, or -1. Such a
 * class is tagged only when some agent's family grants on it (see
 * docs/policy.md), so a walk that met no tree may still pass one.
 */
static long idle_shipped_class(const struct explain_ctx *x, const char *object)
{
	char *real;
	size_t c, t, n;
	bool under;

	for (c = 0; c < x->p->n_classes; c++) {
		for (t = 0; x->p->classes[c].shipped && t < x->p->classes[c].n_trees; t++) {
			real = realpath(x->p->classes[c].trees[t].path, NULL);
			if (!real)
				continue;
			n = strlen(real);
			under = !strcmp(real, "/") ||
				(!strncmp(object, real, n) && (!object[n] || object[n] == '/'));
			free(real);
			if (under)
				return (long)c;
		}
	}
	return -1;
}

/* The denial's reason and remedy for a file no tree holds. */
static void put_file_untagged(const struct explain_ctx *x, const struct explain_file *e)
{
	long c;

	if (e->w.too_deep) {
		printf("no tree is within %d steps above it, as far as the kernel looks",
		       PF_WALK_STEPS);
		if (e->w.next) {
			fputs(" (the nearest is ", stdout);
			put_tree_holder(x, e->w.next->object);
			fputc(')', stdout);
		}
		fputs(".\nto allow it: tag a tree nearer to it, in a class or an own files rule\n",
		      stdout);
		return;
	}
	c = idle_shipped_class(x, e->object);
	if (c >= 0) {
		printf("shipped class %s holds it, but no family any agent names grants on that class, so pinfold tags none of its trees.\n",
		       x->p->classes[c].name);
		put_grant_remedy(x, POLICY_ON_CLASS, (size_t)c, e->need);
		return;
	}
	printf("it is in no class, and under no own files rule of agent %s.\n", x->a->name);
	printf("to allow it: give agent %s an own files rule {path: ", x->a->name);
	show_put_yaml(stdout, e->suggest);
	printf(", access: [%s]}, or add a tree holding it to a class and grant %s on that class\n",
	       right(e->need), right(e->need));
}

/* Print the verdict on e; EXPLAIN_ALLOWED or EXPLAIN_DENIED. */
static int explain_file_print(const struct explain_ctx *x, const struct explain_file *e,
			      uint8_t reason, uint32_t rule)
{
	bool allowed = pf_decide_decision(reason) == PF_DECISION_ALLOW;

	printf("%s: agent %s may%s %s ", allowed ? "allowed" : "denied", x->a->name,
	       allowed ? "" : " not", right(e->need));
	put(e->object);
	if (strcmp(e->object, e->given)) {
		fputs(" (given as ", stdout);
		put(e->given);
		fputc(')', stdout);
	}
	fputs(": ", stdout);
	if (!e->w.tree) {
		put_file_untagged(x, e);
		return EXPLAIN_DENIED;
	}
	put_file_holder(x, e);
	if (!allowed) {
		put_file_lacks(x, e);
		return EXPLAIN_DENIED;
	}
	put_file_grant(x, rule, e->need, e->w.tree->object);
	if (e->w.tree->audited & PF_AUDIT_REQUIRED)
		fputs("; each use is recorded, and refused when it cannot be (audit: required)",
		      stdout);
	else if (e->w.tree->audited & e->need)
		fputs("; each use is recorded (audit: true)", stdout);
	fputs(".\n", stdout);
	if (e->action == PF_ACT_CREATE && !(e->w.tree->access & PF_ACCESS_WRITE))
		printf("note: open(O_CREAT) also opens the new file for writing, which needs write: only mkdir, mknod and symlink can create here\n");
	return EXPLAIN_ALLOWED;
}

/* Judge and explain one file access; EXPLAIN_*, or RUN_EXIT_USAGE when it cannot be walked. */
static int explain_file(struct explain_ctx *x, uint16_t action, const char *path)
{
	struct explain_file e = {.action = action, .given = path};
	char mp[PATH_MAX];
	uint8_t reason;
	int rc = RUN_EXIT_USAGE, err;

	e.need = pf_decide_need(action, PF_SIDE_OBJECT);
	if (action == PF_ACT_CREATE || action == PF_ACT_UNLINK)
		err = explain_walk_name(&x->c, &e);
	else
		err = explain_walk_object(&x->c, &e);
	if (err)
		goto out;

	reason = pf_decide_file(e.w.tree, !e.w.tree && !e.w.too_deep, e.need);
	rc = explain_file_print(x, &e, reason, pf_decide_file_rule(e.w.tree, e.need));
	if (explain_partial_mount(e.object, mp, sizeof(mp))) {
		fputs("note: ", stdout);
		put(mp);
		fputs(" is a bind mount of a subdirectory: the kernel may judge otherwise\n",
		      stdout);
	}
out:
	free(e.object);
	free(e.suggest);
	return rc;
}

/* One network access to judge, for one address. */
struct explain_net {
	uint16_t action; /* PF_ACT_CONNECT or PF_ACT_SENDMSG */
	uint32_t need;   /* PF_ACCESS_CONNECT or PF_ACCESS_SEND */
	uint8_t addr[16];
	uint16_t port;
	uint8_t proto;
	const char *host; /* the hostname given, or NULL */
};

/* The addresses of hostname destination object: compiled's, else resolved now; NULL if none. */
static const struct compiled_name *name_of(struct explain_ctx *x, uint32_t object, const char *host)
{
	compile_resolve_name_fn resolve = x->env.resolve_name ?: compile_resolve_getaddrinfo;
	struct compiled_name *nm, *grown;
	char why[128];
	size_t i;
	int n;

	for (i = 0; i < x->c.n_names; i++)
		if (x->c.names[i].object == object)
			return &x->c.names[i];
	for (i = 0; i < x->n_names; i++)
		if (x->names[i].object == object)
			return x->names[i].n_addrs ? &x->names[i] : NULL;
	if (x->no_lookup)
		return NULL;
	grown = realloc(x->names, (x->n_names + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	x->names = grown;
	nm = &x->names[x->n_names++];
	memset(nm, 0, sizeof(*nm));
	nm->object = object;
	nm->host = host;
	n = resolve(host, nm->addrs, COMPILE_NAME_ADDRS_MAX, why, sizeof(why), x->env.name_ctx);
	nm->n_addrs = n < 0 ? 0 : n > COMPILE_NAME_ADDRS_MAX ? COMPILE_NAME_ADDRS_MAX : (size_t)n;
	return nm->n_addrs ? nm : NULL;
}

/* Whether destination d (object id object) holds the access's address, port and protocol. */
static bool dest_holds(struct explain_ctx *x, uint32_t object, const struct policy_dest *d,
		       const struct explain_net *n)
{
	const struct compiled_name *nm;
	size_t i;

	if (d->proto != n->proto || n->port < d->port_lo || n->port > d->port_hi)
		return false;
	if (!d->host)
		return prefix_holds(d->addr, d->prefix, n->addr);
	nm = name_of(x, object, d->host);
	for (i = 0; nm && i < nm->n_addrs; i++)
		if (!memcmp(nm->addrs[i], n->addr, 16))
			return true;
	return false;
}

/* Why no port rule allowed a network access: the nearest thing to an allowing rule. */
enum net_miss {
	NET_MISS_NOTHING = 0,   /* no destination holds it */
	NET_MISS_UNGRANTED_EXC, /* a backend the agent lacks the right on, which excepts it */
	NET_MISS_UNGRANTED,     /* a backend the agent lacks the right on */
	NET_MISS_OWN,           /* an own rule without the right */
	NET_MISS_EXCEPTED,      /* a backend the agent holds the right on excepts it */
};

struct net_why {
	enum net_miss miss;
	size_t b, d, e; /* backend, its destination, its exception */
	size_t j;       /* own rule */
};

/* The first exception of backend b holding addr, or b->n_excepts. */
static size_t excepting(const struct policy_backend *b, const uint8_t addr[16])
{
	size_t e;

	for (e = 0; e < b->n_excepts; e++)
		if (prefix_holds(b->excepts[e].addr, b->excepts[e].prefix, addr))
			break;
	return e;
}

static void net_why_find(struct explain_ctx *x, const struct explain_net *n, struct net_why *w)
{
	size_t b, d, e, j;

	memset(w, 0, sizeof(*w));
	for (b = 0; b < x->p->n_backends; b++) {
		const struct policy_backend *bk = &x->p->backends[b];
		bool granted = held_on(x, POLICY_ON_BACKEND, b) & n->need;

		for (d = 0; d < bk->n_dests; d++) {
			enum net_miss m;

			if (!dest_holds(x, POLICY_ID(POLICY_ID_BACKEND_DEST, b, d), &bk->dests[d],
					n))
				continue;
			e = excepting(bk, n->addr);
			if (granted)
				m = e < bk->n_excepts ? NET_MISS_EXCEPTED : NET_MISS_NOTHING;
			else
				m = e < bk->n_excepts ? NET_MISS_UNGRANTED_EXC : NET_MISS_UNGRANTED;
			if (m > w->miss)
				*w = (struct net_why){.miss = m, .b = b, .d = d, .e = e};
		}
	}
	for (j = 0; j < x->a->n_dests; j++) {
		if (w->miss < NET_MISS_OWN && !(x->a->dests[j].access & n->need) &&
		    dest_holds(x, POLICY_ID(POLICY_ID_OWN_DEST, 0, j), &x->a->dests[j], n))
			*w = (struct net_why){.miss = NET_MISS_OWN, .j = j};
	}
}

/* "destination D of backend B (at P)" */
static void put_backend_dest(const struct explain_ctx *x, size_t b, size_t d)
{
	const struct policy_backend *bk = &x->p->backends[b];

	fputs("destination ", stdout);
	show_put_dest(stdout, &bk->dests[d]);
	printf(" of backend %s", bk->name);
	show_put_at(stdout, &bk->dests[d].at);
}

/* "backend B excepts E (at P)" to f */
static void put_except(FILE *f, const struct explain_ctx *x, size_t b, size_t e)
{
	const struct policy_except *ex = &x->p->backends[b].excepts[e];
	char net[64];

	show_net_format(ex->addr, ex->prefix, net, sizeof(net));
	fputs("backend ", f);
	show_put_escaped(f, x->p->backends[b].name);
	fprintf(f, " excepts %s", net);
	if (strcmp(ex->text, net)) {
		fputs(" (", f);
		show_put_escaped(f, ex->text);
		fputc(')', f);
	}
	show_put_at(f, &ex->at);
}

bool explain_put_excepted(FILE *f, const struct policy *p, const struct policy_agent *a,
			  const struct compiled_name *names, size_t n_names, const uint8_t addr[16],
			  uint16_t port, uint8_t proto, uint32_t need)
{
	struct explain_ctx x = {.p = p, .a = a, .no_lookup = true};
	struct explain_net n = {.need = need, .port = port, .proto = proto};
	struct net_why w;

	/* only read: the names stay the caller's */
	x.c.names = (struct compiled_name *)names;
	x.c.n_names = n_names;
	memcpy(n.addr, addr, sizeof(n.addr));
	net_why_find(&x, &n, &w);
	if (w.miss != NET_MISS_EXCEPTED)
		return false;
	put_except(f, &x, w.b, w.e);
	return true;
}

/* lead, then "give agent A an own rule network: {...}" */
static void put_own_net_remedy(const struct explain_ctx *x, const struct explain_net *n,
			       const char *lead)
{
	char addr[INET6_ADDRSTRLEN];

	policy_addr_format(n->addr, addr, sizeof(addr));
	printf("%sgive agent %s an own rule network: {to: ", lead, x->a->name);
	show_put_yaml(stdout, addr);
	printf(", port: %u, proto: %s, actions: [%s]}", n->port,
	       n->proto == PF_PROTO_UDP ? "udp" : "tcp", right(n->need));
}

/* The reason and remedy of a network denial, after "denied: ...: ". */
static void put_net_denial(struct explain_ctx *x, const struct explain_net *n)
{
	struct net_why w;
	char acts[128];
	unsigned held;

	net_why_find(x, n, &w);
	switch (w.miss) {
	case NET_MISS_EXCEPTED:
		fputs("it is ", stdout);
		put_backend_dest(x, w.b, w.d);
		printf(", on which agent %s's families grant %s, but ", x->a->name, right(n->need));
		put_except(stdout, x, w.b, w.e);
		puts(".");
		printf("to allow it: drop the exception from backend %s, or ",
		       x->p->backends[w.b].name);
		put_own_net_remedy(x, n, "");
		puts(" (own rules have no exceptions)");
		return;
	case NET_MISS_OWN:
		printf("it matches agent %s's own network rule to ", x->a->name);
		show_put_dest(stdout, &x->a->dests[w.j]);
		show_put_at(stdout, &x->a->dests[w.j].at);
		printf(", which gives only %s.\n",
		       policy_actions_format(x->a->dests[w.j].access, acts, sizeof(acts)));
		printf("to allow it: add %s to that rule's actions\n", right(n->need));
		return;
	case NET_MISS_UNGRANTED:
	case NET_MISS_UNGRANTED_EXC:
		fputs("it is ", stdout);
		put_backend_dest(x, w.b, w.d);
		held = held_on(x, POLICY_ON_BACKEND, w.b);
		if (held)
			printf(", and agent %s's families grant only %s on it", x->a->name,
			       policy_actions_format(held, acts, sizeof(acts)));
		else
			printf(", and no family of agent %s grants anything on it", x->a->name);
		if (w.miss == NET_MISS_UNGRANTED_EXC) {
			fputs("; besides, ", stdout);
			put_except(stdout, x, w.b, w.e);
			puts(".");
			put_own_net_remedy(x, n, "to allow it: ");
			putchar('\n');
			return;
		}
		puts(".");
		put_grant_remedy(x, POLICY_ON_BACKEND, w.b, n->need);
		return;
	default:
		printf("no destination of any backend, and no own network rule of agent %s, holds it.\n",
		       x->a->name);
		put_own_net_remedy(x, n, "to allow it: ");
		printf(", or add it to a backend and grant %s on that backend\n", right(n->need));
	}
}

/* ": it is destination D of backend B (at P), and family F grants NEED on B (at P)." */
static void put_net_allowed(const struct explain_ctx *x, const struct explain_net *n,
			    const struct pf_port_rule *r)
{
	uint32_t b = POLICY_ID_MAJOR(r->object), d = POLICY_ID_MINOR(r->object);
	uint32_t f = POLICY_ID_MAJOR(r->rule_id), g = POLICY_ID_MINOR(r->rule_id);
	uint32_t j = POLICY_ID_MINOR(r->object);

	if (POLICY_ID_KIND(r->object) == POLICY_ID_BACKEND_DEST && b < x->p->n_backends &&
	    d < x->p->backends[b].n_dests && POLICY_ID_KIND(r->rule_id) == POLICY_ID_GRANT &&
	    f < x->p->n_families && g < x->p->families[f].n_grants) {
		fputs("it is ", stdout);
		put_backend_dest(x, b, d);
		printf(", and family %s grants %s on %s", x->p->families[f].name, right(n->need),
		       x->p->backends[b].name);
		show_put_at(stdout, &x->p->families[f].grants[g].at);
	} else if (POLICY_ID_KIND(r->object) == POLICY_ID_OWN_DEST && j < x->a->n_dests) {
		printf("it matches agent %s's own network rule to ", x->a->name);
		show_put_dest(stdout, &x->a->dests[j]);
		show_put_at(stdout, &x->a->dests[j].at);
		printf(", which gives %s", right(n->need));
	} else {
		printf("rule %#x (object %#x) gives %s", r->rule_id, r->object, right(n->need));
	}
	if (r->audited & n->need)
		fputs("; each use is recorded (audit: true)", stdout);
	puts(".");
}

/* Judge and explain one network access; EXPLAIN_ALLOWED or EXPLAIN_DENIED. */
static int explain_net_one(struct explain_ctx *x, const struct explain_net *n)
{
	const struct pf_net_rules *rules = explain_net_lookup(&x->c, EXPLAIN_SLOT, n->addr);
	const struct pf_port_rule *r = NULL;
	char addr[INET6_ADDRSTRLEN];
	bool allowed;

	if (rules)
		r = pf_decide_port(rules, n->port, n->proto, n->need);
	allowed = pf_decide_decision(pf_decide_net_reason(n->proto, r)) == PF_DECISION_ALLOW;

	policy_addr_format(n->addr, addr, sizeof(addr));
	printf("%s: agent %s may%s %s %s", allowed ? "allowed" : "denied", x->a->name,
	       allowed ? "" : " not", n->action == PF_ACT_CONNECT ? "connect to" : "send to", addr);
	if (n->host)
		printf(" (%s)", n->host);
	printf(" port %u %s: ", n->port, n->proto == PF_PROTO_UDP ? "udp" : "tcp");
	if (!allowed) {
		put_net_denial(x, n);
		return EXPLAIN_DENIED;
	}
	put_net_allowed(x, n, r);
	return EXPLAIN_ALLOWED;
}

/*
 * "HOST:PORT[/udp|/tcp]", HOST a.b.c.d, [IPv6] or a hostname, into host
 * (at least POLICY_HOST_MAX + 1 bytes), port and proto; 0 or -EINVAL.
 */
static int parse_dest(const char *s, char *host, uint16_t *port, uint8_t *proto)
{
	const char *colon, *slash = strchr(s, '/');
	char *end;
	unsigned long v;
	size_t n;

	if (slash && !strcmp(slash, "/udp"))
		*proto = PF_PROTO_UDP;
	else if (slash && !strcmp(slash, "/tcp"))
		*proto = PF_PROTO_TCP;
	else if (slash)
		return -EINVAL;
	colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	if (s[0] == '[')
		colon++;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || end != (slash ? slash : colon + strlen(colon)) ||
	    v > 65535 || colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	*port = (uint16_t)v;

	n = s[0] == '[' ? (size_t)(colon - s) - 2 : (size_t)(colon - s);
	if (!n || n > POLICY_HOST_MAX)
		return -EINVAL;
	memcpy(host, s[0] == '[' ? s + 1 : s, n);
	host[n] = '\0';
	return 0;
}

/* host as an address into addr (IPv4 as ::ffff:a.b.c.d); false when it is a name. */
static bool parse_addr(const char *host, bool bracketed, uint8_t addr[16])
{
	struct in_addr a4;

	if (bracketed)
		return inet_pton(AF_INET6, host, addr) == 1;
	if (inet_pton(AF_INET, host, &a4) != 1)
		return false;
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	memcpy(addr + 12, &a4, 4);
	return true;
}

/*
 * Judge a connect or send to dest; a hostname is resolved as the compiler
 * resolves destinations, and each address judged. EXPLAIN_ALLOWED when all
 * are allowed, EXPLAIN_DENIED, or RUN_EXIT_USAGE.
 */
static int explain_net(struct explain_ctx *x, uint16_t action, const char *dest)
{
	compile_resolve_name_fn resolve = x->env.resolve_name ?: compile_resolve_getaddrinfo;
	struct explain_net n = {.action = action, .proto = PF_PROTO_TCP};
	uint8_t addrs[COMPILE_NAME_ADDRS_MAX][16];
	char host[POLICY_HOST_MAX + 1], why[128] = "", text[INET6_ADDRSTRLEN];
	int count, i, rc = EXPLAIN_ALLOWED;

	n.need = action == PF_ACT_CONNECT ? PF_ACCESS_CONNECT : PF_ACCESS_SEND;
	if (action == PF_ACT_SENDMSG)
		n.proto = PF_PROTO_UDP;
	if (parse_dest(dest, host, &n.port, &n.proto)) {
		fprintf(stderr,
			"pinfold: bad destination '%s': want HOST:PORT[/udp], HOST an address, [IPV6] or a hostname\n",
			dest);
		return RUN_EXIT_USAGE;
	}
	if (action == PF_ACT_SENDMSG && n.proto != PF_PROTO_UDP) {
		fprintf(stderr,
			"pinfold: send is judged for UDP datagrams only; a TCP stream needs connect\n");
		return RUN_EXIT_USAGE;
	}
	if (parse_addr(host, dest[0] == '[', n.addr)) {
		/* an unspecified address is judged where the kernel sends it, named as given */
		if (pf_decide_dest(n.addr, 0, 0))
			n.host = host;
		return explain_net_one(x, &n);
	}
	if (dest[0] == '[') {
		fprintf(stderr, "pinfold: bad IPv6 address '%s'\n", host);
		return RUN_EXIT_USAGE;
	}

	count = resolve(host, addrs, COMPILE_NAME_ADDRS_MAX, why, sizeof(why), x->env.name_ctx);
	if (count <= 0) {
		fprintf(stderr, "pinfold: cannot resolve %s: %s\n", host,
			count ? (why[0] ? why : strerror(-count)) : "no IPv4 or IPv6 address");
		return RUN_EXIT_USAGE;
	}
	if (count > COMPILE_NAME_ADDRS_MAX)
		count = COMPILE_NAME_ADDRS_MAX;
	printf("%s resolves to", host);
	for (i = 0; i < count; i++) {
		policy_addr_format(addrs[i], text, sizeof(text));
		printf("%s %s", i ? "," : "", text);
	}
	puts(" here and now; each address is judged:");
	n.host = host;
	for (i = 0; i < count; i++) {
		memcpy(n.addr, addrs[i], 16);
		if (explain_net_one(x, &n) != EXPLAIN_ALLOWED)
			rc = EXPLAIN_DENIED;
	}
	return rc;
}

static void explain_usage(void)
{
	fprintf(stderr,
		"usage: pinfold explain --policy P --agent NAME ACCESS, ACCESS one of\n"
		"         --open PATH [--write]   --exec PATH   --create PATH   --delete PATH\n"
		"         --connect HOST:PORT[/udp]   --send HOST:PORT (UDP)\n");
}

/* What to explain, from the command line. */
struct explain_args {
	const char *policy, *agent;
	uint16_t action; /* PF_ACT_*; 0 before one is given */
	const char *target;
	bool write;
};

/* Parse argv into args; 0, or -EINVAL after printing usage. */
static int explain_args(int argc, char **argv, struct explain_args *o)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'}, {"agent", required_argument, NULL, 'a'},
		{"open", required_argument, NULL, 'o'},   {"write", no_argument, NULL, 'w'},
		{"exec", required_argument, NULL, 'x'},   {"create", required_argument, NULL, 'c'},
		{"delete", required_argument, NULL, 'd'}, {"connect", required_argument, NULL, 'n'},
		{"send", required_argument, NULL, 's'},   {NULL, 0, NULL, 0},
	};
	static const struct {
		int opt;
		uint16_t action;
	} acts[] = {
		{'o', PF_ACT_OPEN_READ}, {'x', PF_ACT_EXEC},    {'c', PF_ACT_CREATE},
		{'d', PF_ACT_UNLINK},    {'n', PF_ACT_CONNECT}, {'s', PF_ACT_SENDMSG},
	};
	int opt, bad = 0;
	size_t i;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p') {
			o->policy = optarg;
		} else if (opt == 'a') {
			o->agent = optarg;
		} else if (opt == 'w') {
			o->write = true;
		} else {
			for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
				if (acts[i].opt == opt)
					break;
			if (i == sizeof(acts) / sizeof(acts[0]) || o->action)
				bad = 1; /* unknown, or a second access */
			else
				o->action = acts[i].action, o->target = optarg;
		}
	}
	if (bad || optind != argc || !o->policy || !o->agent || !o->action ||
	    (o->write && o->action != PF_ACT_OPEN_READ)) {
		explain_usage();
		return -EINVAL;
	}
	if (o->write)
		o->action = PF_ACT_OPEN_WRITE;
	return 0;
}

/* Load the policy and compile the agent as `pinfold run` does; 0 or -errno, said. */
static int explain_load(const struct explain_args *o, struct policy *p, struct explain_ctx *x)
{
	struct policy_error perr = {};
	char msg[600];
	int err;

	err = policy_load(o->policy, p, &perr);
	if (!err) {
		x->p = p;
		x->a = policy_find_agent(p, o->agent);
		if (!x->a) {
			fprintf(stderr, "pinfold: no agent '%s' in %s\n", o->agent, o->policy);
			return -ENOENT;
		}
		/* NEEDSWORK: the instance's private runtime.tmp is not tagged; explain cannot
		 * judge files there */
		err = compile_agent(p, x->a, EXPLAIN_SLOT, EXPLAIN_GEN, &x->env, &x->c, &perr);
	}
	if (err) {
		policy_error_format(&perr, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
	}
	return err;
}

int explain_main(int argc, char **argv)
{
	struct explain_args o = {};
	struct explain_ctx x = {};
	struct policy p = {};
	int rc = RUN_EXIT_USAGE;

	if (explain_args(argc, argv, &o))
		return RUN_EXIT_USAGE;
	if (explain_load(&o, &p, &x))
		goto out;

	if (o.action == PF_ACT_CONNECT || o.action == PF_ACT_SENDMSG)
		rc = explain_net(&x, o.action, o.target);
	else
		rc = explain_file(&x, o.action, o.target);
	if (rc == EXPLAIN_DENIED && x.a->mode != POLICY_MODE_ENFORCE)
		printf("note: agent %s runs in %s mode: the denial would be reported but not applied\n",
		       x.a->name, policy_mode_name(x.a->mode));
	if ((rc == EXPLAIN_ALLOWED || rc == EXPLAIN_DENIED) && fflush(stdout)) {
		fprintf(stderr, "pinfold: cannot write: %s\n", strerror(errno));
		rc = RUN_EXIT_INTERNAL;
	}
out:
	free(x.names);
	compiled_release(&x.c);
	policy_release(&p);
	return rc;
}
