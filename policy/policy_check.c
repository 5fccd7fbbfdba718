// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_check.c - checks and warnings on the whole policy, once every
 * file is parsed: one path in two classes (or in a class and an own
 * files rule), and what is legal but probably a mistake (an agent with no
 * families, a family no agent uses, a tree nested in its own class, the
 * same grant through two families).
 *
 * These look at the merged struct policy, not at YAML nodes, and run after
 * every section of every file is read; they are kept apart from the parser
 * so that the rules across sections can be read on their own.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_int.h"

/* ---- paths ---- */

/*
 * path without repeated slashes, "." steps or a final slash, so that two
 * ways of writing one path compare equal ("/srv//x/./" is "/srv/x").
 */
static char *path_normal(const char *path)
{
	char *out = malloc(strlen(path) + 2);
	size_t o = 0;
	const char *c = path;

	if (!out)
		return NULL;
	while (*c) {
		while (*c == '/')
			c++;
		if (c[0] == '.' && (c[1] == '/' || c[1] == '\0')) {
			c++;
			continue;
		}
		if (!*c)
			break;
		out[o++] = '/';
		while (*c && *c != '/')
			out[o++] = *c++;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* Whether normal path a lies below normal path b. */
static bool path_below(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (!strcmp(b, "/"))
		return strcmp(a, "/") != 0;
	return !strncmp(a, b, n) && a[n] == '/';
}

/* ---- whole-policy checks and warnings ---- */

/* Whether some agent names a family that grants on class c. */
static bool class_in_use(const struct policy *p, size_t c)
{
	size_t a, r, g;

	for (a = 0; a < p->n_agents; a++)
		for (r = 0; r < p->agents[a].n_families; r++) {
			const struct policy_family *f =
				&p->families[p->agents[a].families[r].family];

			for (g = 0; g < f->n_grants; g++)
				if (f->grants[g].on == POLICY_ON_CLASS && f->grants[g].target == c)
					return true;
		}
	return false;
}

/* A tree of a class or an agent's own files rule, for the same-path check. */
struct tree_ref {
	char *norm;
	const struct policy_tree *t;
	size_t order; /* shipped classes, classes, own rules: as written */
	size_t owner; /* class index, or agent index for own rules */
	bool own;
};

static int tree_ref_cmp(const void *x, const void *y)
{
	const struct tree_ref *a = x, *b = y;
	int c = strcmp(a->norm, b->norm);

	return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

/* Whether two trees on one path cannot both be tagged (a is written first). */
static bool trees_conflict(const struct tree_ref *a, const struct tree_ref *b)
{
	/* own rules of two agents are each tagged for their own agent */
	return !(a->own && b->own && a->owner != b->owner);
}

/* The error for conflicting trees a and b, at b. */
static int trees_conflict_error(struct policy_error *err, const struct policy *p,
				const struct tree_ref *a, const struct tree_ref *b)
{
	const char *path = b->t->path;
	char at[PLACE_TEXT_MAX];

	first_at(at, sizeof(at), &a->t->at, &b->t->at);
	if (b->own && a->own)
		return fail_at(err, &b->t->at, "duplicate files rule on \"%s\", first at %s", path,
			       at);
	if (b->own)
		return fail_at(
			err, &b->t->at,
			"files rule on \"%s\": the tree is in class %s (%s); grant the class through a family instead",
			path, p->classes[a->owner].name, at);
	if (a->owner == b->owner)
		return fail_at(err, &b->t->at, "duplicate tree \"%s\" in class %s, first at %s",
			       path, p->classes[a->owner].name, at);
	return fail_at(err, &b->t->at,
		       "tree \"%s\" is already in class %s (%s): a tree belongs to one class", path,
		       p->classes[a->owner].name, at);
}

/*
 * One path in two classes, or in a class and an own rule, cannot say which
 * decides: refuse it. Shipped classes count only when the policy uses them;
 * otherwise a policy's own rules may name /usr/lib as before.
 */
int check_trees(struct policy_error *err, struct policy *p)
{
	struct tree_ref *refs;
	size_t n = 0, cap = 0, i, j, k, order = 0, best = SIZE_MAX, best_i = 0, best_j = 0;
	int rc = 0;

	for (i = 0; i < p->n_classes; i++)
		cap += p->classes[i].n_trees;
	for (i = 0; i < p->n_agents; i++)
		cap += p->agents[i].n_trees;
	refs = calloc(cap + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (i = 0; i < p->n_classes; i++) {
		if (p->classes[i].shipped && !class_in_use(p, i)) {
			order += p->classes[i].n_trees;
			continue;
		}
		for (j = 0; j < p->classes[i].n_trees; j++)
			refs[n++] = (struct tree_ref){
				.t = &p->classes[i].trees[j], .order = order++, .owner = i};
	}
	for (i = 0; i < p->n_agents; i++)
		for (j = 0; j < p->agents[i].n_trees; j++)
			refs[n++] = (struct tree_ref){.t = &p->agents[i].trees[j],
						      .order = order++,
						      .owner = i,
						      .own = true};
	for (i = 0; i < n; i++) {
		refs[i].norm = path_normal(refs[i].t->path);
		if (!refs[i].norm) {
			rc = -ENOMEM;
			goto out;
		}
	}
	qsort(refs, n, sizeof(*refs), tree_ref_cmp);

	/* report the conflict written last-but-earliest: the one a reader meets first */
	for (i = 0; i < n; i = k) {
		for (k = i + 1; k < n && !strcmp(refs[k].norm, refs[i].norm); k++)
			;
		for (j = i + 1; j < k; j++) {
			size_t a;

			for (a = i; a < j && refs[j].order < best; a++) {
				if (!trees_conflict(&refs[a], &refs[j]))
					continue;
				best = refs[j].order;
				best_i = a;
				best_j = j;
				break;
			}
		}
	}
	if (best != SIZE_MAX)
		rc = trees_conflict_error(err, p, &refs[best_i], &refs[best_j]);
out:
	for (i = 0; i < n; i++)
		free(refs[i].norm);
	free(refs);
	return rc;
}

__attribute__((format(printf, 3, 4))) static int
warn(struct policy *p, const struct policy_place *at, const char *fmt, ...)
{
	struct policy_warning *w;
	va_list ap;

	w = realloc(p->warnings, (p->n_warnings + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	p->warnings = w;
	w = &p->warnings[p->n_warnings++];
	w->at = *at;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return 0;
}

/* A class tree below another tree of the same class adds nothing. */
static int warn_nested_trees(struct policy *p)
{
	char at[PLACE_TEXT_MAX];
	size_t c, i, j;
	int rc = 0;

	for (c = 0; !rc && c < p->n_classes; c++) {
		const struct policy_class *cl = &p->classes[c];

		for (i = 0; !rc && i < cl->n_trees; i++) {
			char *a = path_normal(cl->trees[i].path);

			for (j = 0; a && !rc && j < cl->n_trees; j++) {
				char *b = path_normal(cl->trees[j].path);

				if (b && path_below(a, b))
					rc = warn(
						p, &cl->trees[i].at,
						"tree \"%s\" of class %s is inside its tree \"%s\" (%s): redundant",
						cl->trees[i].path, cl->name, cl->trees[j].path,
						first_at(at, sizeof(at), &cl->trees[j].at,
							 &cl->trees[i].at));
				rc = rc ? rc : b ? 0 : -ENOMEM;
				free(b);
			}
			rc = rc ? rc : a ? 0 : -ENOMEM;
			free(a);
		}
	}
	return rc;
}

/* The same action on the same class or backend from two of an agent's families. */
static int warn_repeated_grants(struct policy *p, const struct policy_agent *a)
{
	size_t nt = p->n_classes + p->n_backends, r, g, t;
	const struct policy_family_ref **first;
	unsigned *seen;
	char acts[96], at[PLACE_TEXT_MAX];
	int rc = 0;

	seen = calloc(nt + 1, sizeof(*seen));
	first = calloc(nt + 1, sizeof(*first));
	if (!seen || !first) {
		rc = -ENOMEM;
		goto out;
	}
	for (r = 0; !rc && r < a->n_families; r++) {
		const struct policy_family_ref *ref = &a->families[r];
		const struct policy_family *f = &p->families[ref->family];

		for (g = 0; !rc && g < f->n_grants; g++) {
			const struct policy_grant *gr = &f->grants[g];
			bool on_class = gr->on == POLICY_ON_CLASS;
			unsigned both;

			t = on_class ? gr->target : p->n_classes + gr->target;
			both = seen[t] & gr->actions;
			if (both)
				rc = warn(
					p, &ref->at,
					"agent %s is granted %s on %s %s twice: by family %s and by family %s (%s)",
					a->name, policy_actions_format(both, acts, sizeof(acts)),
					on_class ? "class" : "backend",
					on_class ? p->classes[gr->target].name
						 : p->backends[gr->target].name,
					f->name, p->families[first[t]->family].name,
					first_at(at, sizeof(at), &first[t]->at, &ref->at));
			if (!first[t])
				first[t] = ref;
			seen[t] |= gr->actions;
		}
	}
out:
	free(seen);
	free(first);
	return rc;
}

int find_warnings(struct policy *p)
{
	size_t i, j, r;
	int rc = 0;

	for (i = 0; !rc && i < p->n_agents; i++) {
		const struct policy_agent *a = &p->agents[i];

		if (!a->n_families)
			rc = warn(p, &a->at,
				  "agent %s names no families: it has only its own rules", a->name);
		if (!rc)
			rc = warn_repeated_grants(p, a);
	}
	for (j = 0; !rc && j < p->n_families; j++) {
		bool used = p->families[j].shipped;

		for (i = 0; !used && i < p->n_agents; i++)
			for (r = 0; r < p->agents[i].n_families; r++)
				used |= p->agents[i].families[r].family == j;
		if (!used)
			rc = warn(p, &p->families[j].at, "family %s is not used by any agent",
				  p->families[j].name);
	}
	if (!rc)
		rc = warn_nested_trees(p);
	return rc;
}
