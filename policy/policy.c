// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy.c - parse and validate YAML policies; see docs/policy.md.
 *
 * yaml_tree.c reads each file into nodes, literally; this file checks them
 * against the policy schema and merges the files of a directory into one
 * policy. Every error carries the file, line and column of the node it is
 * about.
 *
 * Sections are read kind by kind over all files (classes, backends,
 * families, agents), so that a family may name a class of any file and an
 * agent a family of any file. Checks that need the whole policy (a tree in
 * two classes, what no agent uses) run last.
 *
 * This file holds loading (files, directories, the digest), the sections
 * and the shipped classes and families. The values of network rules are
 * in policy_net.c, the whole-policy checks in policy_check.c, lookups and
 * descriptions in policy_text.c; policy_int.h is what they share.
 */
#define _GNU_SOURCE /* scandirat */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bpf/pinfold.h"
#include "policy.h"
#include "policy_int.h"
#include "yaml_tree.h"

enum {
	POLICY_FILE_MAX = 1 << 20, /* bytes of one file */
	POLICY_FILES_MAX = 256,    /* files of one directory */
};

/* The top-level sections of a file, in the order they are read. */
enum section {
	SEC_VERSION,
	SEC_CLASSES,
	SEC_BACKENDS,
	SEC_FAMILIES,
	SEC_AGENTS,
	SEC_COUNT,
};

static const struct ynode_field policy_fields[] = {{"version", true},
						   {"classes", false},
						   {"backends", false},
						   {"families", false},
						   {"agents", false}};
static const struct ynode_field class_fields[] = {
	{"description", false}, {"trees", true}, {"audit", false}, {"log_paths", false}};
static const struct ynode_field backend_fields[] = {
	{"description", false}, {"destinations", true}, {"except", false}};
static const struct ynode_field family_fields[] = {{"description", false}, {"grants", true}};
static const struct ynode_field grant_fields[] = {{"class", false},
						  {"backend", false},
						  {"actions", true},
						  {"audit", false},
						  {"approved_by", false}};
static const struct ynode_field agent_fields[] = {{"families", false},
						  {"mode", false},
						  {"files", false},
						  {"network", false},
						  {"sockets", false}};
/* own network rules take all five; backend destinations the first three */
static const struct ynode_field dest_fields[] = {
	{"to", true}, {"port", true}, {"proto", true}, {"actions", false}, {"audit", false}};
static const struct ynode_field tree_fields[] = {
	{"path", true}, {"access", true}, {"audit", false}};

/* One file of the policy, while it is read. */
struct source {
	char *buf;
	size_t len;
	struct ynode *root;
	const struct ynode *sec[SEC_COUNT];
};

/* ---- places and errors ---- */

static void set_file(struct parser *ps, size_t i)
{
	ps->file = ps->p->files[i];
	snprintf(ps->err->file, sizeof(ps->err->file), "%s", ps->file);
}

struct policy_place place_of(const struct parser *ps, const struct ynode *n)
{
	return (struct policy_place){.file = ps->file, .line = n->line, .column = n->column};
}

/* An error at at, which may be in another file than the one being read. */
int fail_at(struct policy_error *err, const struct policy_place *at, const char *fmt, ...)
{
	va_list ap;

	if (at->file)
		snprintf(err->file, sizeof(err->file), "%s", at->file);
	err->line = at->line;
	err->column = at->column;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * Where an earlier definition is, as seen from now: "3:7" in the same file,
 * "classes.yaml:3:7" in another, "shipped" for what pinfold ships.
 */
const char *first_at(char *buf, size_t size, const struct policy_place *first,
		     const struct policy_place *now)
{
	if (!first->line)
		snprintf(buf, size, "shipped");
	else if (first->file == now->file)
		snprintf(buf, size, "%u:%u", first->line, first->column);
	else
		snprintf(buf, size, "%s:%u:%u", base_name(first->file), first->line, first->column);
	return buf;
}

/* ---- actions ---- */

const char *const action_names[N_ACTIONS] = {"read", "write",   "create", "delete",
					     "exec", "connect", "send"};

const char *policy_action_name(unsigned action)
{
	unsigned i;

	for (i = 0; i < N_OF(action_names); i++)
		if (action == 1u << i)
			return action_names[i];
	return NULL;
}

/* What a set of actions is for, in messages: "a class", "a network rule". */
struct action_target {
	const char *kind;
	unsigned allowed;
	const char *takes; /* "read, write, create, delete, exec" */
};

static const struct action_target on_class = {"a class", POLICY_FILE_ACTIONS,
					      "read, write, create, delete, exec or read-write"};
static const struct action_target on_backend = {"a backend", POLICY_NET_ACTIONS, "connect, send"};
static const struct action_target on_files_rule = {"a files rule", POLICY_FILE_ACTIONS,
						   "read, write, create, delete, exec"};
static const struct action_target on_network_rule = {"a network rule", POLICY_NET_ACTIONS,
						     "connect, send"};

/* One action name (read-write too, when allowed) as bits; 0 with err set. */
static unsigned parse_action(struct parser *ps, const struct ynode *n,
			     const struct action_target *on, bool read_write_ok)
{
	char q[Q_SIZE];
	unsigned i;

	if (ynode_need_scalar(ps->err, n, "an action"))
		return 0;
	if (read_write_ok && !strcmp(n->text, "read-write")) {
		if (on->allowed & POLICY_READ)
			return POLICY_ACCESS_READ_WRITE;
		fail_node(ps, n, "action read-write does not apply to %s: it takes %s", on->kind,
			  on->takes);
		return 0;
	}
	for (i = 0; i < N_OF(action_names); i++) {
		if (strcmp(n->text, action_names[i]))
			continue;
		if (on->allowed & 1u << i)
			return 1u << i;
		fail_node(ps, n, "action %s does not apply to %s: it takes %s", action_names[i],
			  on->kind, on->takes);
		return 0;
	}
	fail_node(
		ps, n,
		"unknown action %s: expected read, write, create, delete, exec, connect, send or read-write",
		ynode_quote(q, sizeof(q), n->text, n->len));
	return 0;
}

/* A sequence of action names, each at most once, at least one. */
static int parse_action_list(struct parser *ps, const struct ynode *n,
			     const struct action_target *on, unsigned *out)
{
	char q[Q_SIZE];
	unsigned bit;
	size_t i;

	if (!n->n_kids)
		return fail_node(ps, n, "expected at least one action in the sequence");
	*out = 0;
	for (i = 0; i < n->n_kids; i++) {
		const struct ynode *k = n->kids[i];

		if (k->kind == YNODE_SCALAR && !strcmp(k->text, "read-write"))
			return fail_node(
				ps, k,
				"read-write in a sequence: write its actions read, write, create, delete");
		bit = parse_action(ps, k, on, false);
		if (!bit)
			return -EINVAL;
		if (*out & bit)
			return fail_node(ps, k, "duplicate action %s",
					 ynode_quote(q, sizeof(q), k->text, k->len));
		*out |= bit;
	}
	return 0;
}

/* actions: one action name, read-write, or a sequence of action names. */
static int parse_actions(struct parser *ps, const struct ynode *n, const struct action_target *on,
			 unsigned *out)
{
	char q[Q_SIZE];

	if (n->kind == YNODE_SEQUENCE)
		return parse_action_list(ps, n, on, out);
	if (n->kind != YNODE_SCALAR || ynode_is_empty(n))
		return fail_node(ps, n, "expected an action or a sequence of actions, found %s",
				 ynode_found(q, sizeof(q), n));
	*out = parse_action(ps, n, on, true);
	return *out ? 0 : -EINVAL;
}

/* ---- names ---- */

enum name_kind {
	NAME_CLASS,
	NAME_BACKEND,
	NAME_FAMILY,
	NAME_AGENT,
};

static const char *const kind_names[] = {"class", "backend", "family", "agent"};

/* 1..63 of a-z 0-9 _ - (and . for classes), starting with a letter or digit */
static bool valid_name(const char *s, size_t len, bool dots)
{
	size_t i;

	if (len == 0 || len > POLICY_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		bool ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			  (i > 0 && (s[i] == '_' || s[i] == '-' || (dots && s[i] == '.')));

		if (!ok)
			return false;
	}
	return true;
}

/* Where name of kind k was defined, or NULL. */
static const struct policy_place *defined_at(const struct policy *p, enum name_kind k,
					     const char *name)
{
	const void *hit;

	switch (k) {
	case NAME_CLASS:
		hit = policy_find_class(p, name);
		return hit ? &((const struct policy_class *)hit)->at : NULL;
	case NAME_BACKEND:
		hit = policy_find_backend(p, name);
		return hit ? &((const struct policy_backend *)hit)->at : NULL;
	case NAME_FAMILY:
		hit = policy_find_family(p, name);
		return hit ? &((const struct policy_family *)hit)->at : NULL;
	case NAME_AGENT:
		hit = policy_find_agent(p, name);
		return hit ? &((const struct policy_agent *)hit)->at : NULL;
	}
	return NULL;
}

/* A new name of kind k: a scalar, well formed, not reserved, not used before. */
static int check_name(struct parser *ps, const struct ynode *key, enum name_kind k)
{
	const char *kind = kind_names[k];
	struct policy_place here = place_of(ps, key);
	const struct policy_place *first;
	char q[Q_SIZE], at[PLACE_TEXT_MAX];

	if (key->kind != YNODE_SCALAR)
		return fail_node(ps, key, "expected %s %s name, found %s",
				 k == NAME_AGENT ? "an" : "a", kind,
				 ynode_found(q, sizeof(q), key));
	if (!valid_name(key->text, key->len, k == NAME_CLASS))
		return fail_node(
			ps, key,
			"invalid %s name %s: expected 1 to 63 of a-z 0-9 %s_ -, starting with a letter or digit",
			kind, ynode_quote(q, sizeof(q), key->text, key->len),
			k == NAME_CLASS ? ". " : "");
	if ((k == NAME_CLASS || k == NAME_FAMILY) && !strncmp(key->text, "runtime", 7))
		return fail_node(
			ps, key,
			"reserved %s name %s: names starting with runtime are pinfold's shipped classes and families",
			kind, ynode_quote(q, sizeof(q), key->text, key->len));
	first = defined_at(ps->p, k, key->text);
	if (first)
		return fail_node(ps, key, "duplicate %s %s, first at %s", kind,
				 ynode_quote(q, sizeof(q), key->text, key->len),
				 first_at(at, sizeof(at), first, &here));
	return 0;
}

/* An optional description: any string. */
static int parse_string(struct parser *ps, const struct ynode *n, const char *key, char **out)
{
	char what[64];
	int rc;

	if (!n)
		return 0;
	snprintf(what, sizeof(what), "a string for %s", key);
	rc = ynode_need_scalar(ps->err, n, what);
	if (rc)
		return rc;
	*out = strdup(n->text);
	return *out ? 0 : -ENOMEM;
}

static int parse_description(struct parser *ps, const struct ynode *n, char **out)
{
	return parse_string(ps, n, "description", out);
}

/* A list of items: a sequence of at most POLICY_MAX_RULES, non-empty if need_one. */
static int need_list(struct parser *ps, const struct ynode *n, const char *items, const char *key,
		     bool need_one)
{
	char q[Q_SIZE];

	if (n->kind != YNODE_SEQUENCE)
		return fail_node(ps, n, "expected a sequence of %s for %s, found %s", items, key,
				 ynode_found(q, sizeof(q), n));
	if (n->n_kids > POLICY_MAX_RULES)
		return fail_node(ps, n, "too many %s for %s: at most %d", items, key,
				 POLICY_MAX_RULES);
	if (need_one && !n->n_kids)
		return fail_node(ps, n, "empty %s: expected at least one of %s", key, items);
	return 0;
}

/* ---- paths ---- */

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

static int parse_path(struct parser *ps, const struct ynode *n, const char *key,
		      struct policy_tree *t)
{
	char q[Q_SIZE];

	if (n->kind != YNODE_SCALAR || n->len == 0)
		return fail_node(ps, n, "expected an absolute path for %s, found %s", key,
				 n->kind == YNODE_SCALAR ? "an empty value"
							 : ynode_found(q, sizeof(q), n));
	if (n->text[0] != '/')
		return fail_node(ps, n, "relative path %s: expected an absolute path",
				 ynode_quote(q, sizeof(q), n->text, n->len));
	if (has_dotdot(n->text))
		return fail_node(ps, n, "path %s contains \"..\": expected the tree's own path",
				 ynode_quote(q, sizeof(q), n->text, n->len));
	if (n->len >= PATH_MAX)
		return fail_node(ps, n, "path too long: expected at most %d bytes", PATH_MAX - 1);
	t->path = strdup(n->text);
	return t->path ? 0 : -ENOMEM;
}

/*
 * A scalar that must be one of names: *out its index. The error lists them:
 * "unknown mode enforcing: expected enforce, audit or record".
 */
static int parse_choice(struct parser *ps, const struct ynode *n, const char *key,
			const char *const *names, unsigned n_names, unsigned *out)
{
	char q[Q_SIZE], expected[160], what[200];
	size_t used = 0;
	unsigned i;
	int rc;

	for (i = 0; i < n_names && used < sizeof(expected); i++)
		used += snprintf(expected + used, sizeof(expected) - used, "%s%s",
				 i == 0             ? ""
				 : i + 1 == n_names ? " or "
						    : ", ",
				 names[i]);
	snprintf(what, sizeof(what), "%s for %s", expected, key);
	rc = ynode_need_scalar(ps->err, n, what);
	if (rc)
		return rc;
	for (i = 0; i < n_names; i++) {
		if (!strcmp(n->text, names[i])) {
			*out = i;
			return 0;
		}
	}
	return fail_node(ps, n, "unknown %s %s: expected %s", key,
			 ynode_quote(q, sizeof(q), n->text, n->len), expected);
}

/* ---- classes ---- */

/* a class's audit and log_paths, indexed by their values */
static const char *const class_audit_names[] = {"optional", "required"};
static const char *const class_log_paths_names[] = {"plain", "keyed-hash"};

static int parse_class(struct parser *ps, const struct ynode *key, const struct ynode *val)
{
	struct policy *p = ps->p;
	const struct ynode *v[N_OF(class_fields)];
	struct policy_class *c;
	char what[POLICY_NAME_MAX + 16];
	unsigned choice = 0;
	size_t i;
	int rc;

	rc = check_name(ps, key, NAME_CLASS);
	if (rc)
		return rc;
	c = &p->classes[p->n_classes++]; /* counted first, so that release frees it */
	c->name = strdup(key->text);
	if (!c->name)
		return -ENOMEM;
	c->at = place_of(ps, key);

	snprintf(what, sizeof(what), "class %s", c->name);
	rc = ynode_get_fields(ps->err, val, what, class_fields, N_OF(class_fields), v);
	if (!rc)
		rc = parse_description(ps, v[0], &c->description);
	if (!rc)
		rc = need_list(ps, v[1], "absolute paths", "trees", false);
	if (!rc && v[2])
		rc = parse_choice(ps, v[2], "audit", class_audit_names, N_OF(class_audit_names),
				  &choice);
	c->audit_required = v[2] && choice == 1;
	if (!rc && v[3])
		rc = parse_choice(ps, v[3], "log_paths", class_log_paths_names,
				  N_OF(class_log_paths_names), &choice);
	c->hash_paths = v[3] && choice == 1;
	if (rc)
		return rc;
	if (!v[1]->n_kids)
		return fail_node(ps, v[1],
				 "class %s has no trees: expected at least one absolute path",
				 c->name);
	c->trees = calloc(v[1]->n_kids, sizeof(*c->trees));
	if (!c->trees)
		return -ENOMEM;
	for (i = 0; i < v[1]->n_kids; i++) {
		struct policy_tree *t = &c->trees[c->n_trees++];

		t->at = place_of(ps, v[1]->kids[i]);
		rc = parse_path(ps, v[1]->kids[i], "a class tree", t);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- backends ---- */

/*
 * A destination: a backend's (to, port, proto) or an own network rule's
 * (the same, actions and audit too).
 */
static int parse_dest(struct parser *ps, const struct ynode *n, bool own, struct policy_dest *d)
{
	const struct ynode *v[N_OF(dest_fields)];
	int rc;

	rc = ynode_get_fields(ps->err, n, own ? "a network rule" : "a destination", dest_fields,
			      own ? N_OF(dest_fields) : 3, v);
	if (rc)
		return rc;
	d->at = place_of(ps, n);
	rc = parse_to(ps, v[0], d);
	if (!rc)
		rc = parse_port(ps, v[1], d);
	if (!rc)
		rc = parse_proto(ps, v[2], d);
	if (rc || !own)
		return rc;
	d->access = POLICY_NET_ACTIONS;
	if (v[3])
		rc = parse_actions(ps, v[3], &on_network_rule, &d->access);
	if (!rc && v[4])
		rc = ynode_bool(ps->err, v[4], "audit", &d->audited);
	return rc;
}

static int parse_backend(struct parser *ps, const struct ynode *key, const struct ynode *val)
{
	struct policy *p = ps->p;
	const struct ynode *v[N_OF(backend_fields)];
	struct policy_backend *b;
	char what[POLICY_NAME_MAX + 16];
	size_t i;
	int rc;

	rc = check_name(ps, key, NAME_BACKEND);
	if (rc)
		return rc;
	b = &p->backends[p->n_backends++];
	b->name = strdup(key->text);
	if (!b->name)
		return -ENOMEM;
	b->at = place_of(ps, key);

	snprintf(what, sizeof(what), "backend %s", b->name);
	rc = ynode_get_fields(ps->err, val, what, backend_fields, N_OF(backend_fields), v);
	if (!rc)
		rc = parse_description(ps, v[0], &b->description);
	if (!rc)
		rc = need_list(ps, v[1], "destinations", "destinations", false);
	if (!rc && v[2])
		rc = need_list(ps, v[2], "addresses or ranges", "except", false);
	if (rc)
		return rc;
	if (!v[1]->n_kids)
		return fail_node(
			ps, v[1],
			"backend %s has no destinations: expected at least one {to, port, proto}",
			b->name);

	b->dests = calloc(v[1]->n_kids, sizeof(*b->dests));
	if (!b->dests)
		return -ENOMEM;
	for (i = 0; i < v[1]->n_kids; i++) {
		rc = parse_dest(ps, v[1]->kids[i], false, &b->dests[b->n_dests++]);
		if (rc)
			return rc;
	}
	rc = check_duplicate_dests(ps, b->dests, b->n_dests, "destination");
	if (rc || !v[2])
		return rc;

	b->excepts = calloc(v[2]->n_kids * NAMED_NETS_MAX + 1, sizeof(*b->excepts));
	if (!b->excepts)
		return -ENOMEM;
	for (i = 0; i < v[2]->n_kids; i++) {
		rc = parse_except(ps, v[2]->kids[i], b);
		if (rc)
			return rc;
	}
	return check_excepts(ps, b);
}

/* ---- families ---- */

/* The index of the class or backend a grant names, or an error. */
static int grant_target(struct parser *ps, const struct ynode *n, enum name_kind k,
			struct policy_grant *g)
{
	const struct policy *p = ps->p;
	char q[Q_SIZE], what[32];
	const void *t;

	snprintf(what, sizeof(what), "a %s name", kind_names[k]);
	if (ynode_need_scalar(ps->err, n, what))
		return -EINVAL;
	if (k == NAME_CLASS) {
		t = policy_find_class(p, n->text);
		g->on = POLICY_ON_CLASS;
		g->target = t ? (size_t)((const struct policy_class *)t - p->classes) : 0;
	} else {
		t = policy_find_backend(p, n->text);
		g->on = POLICY_ON_BACKEND;
		g->target = t ? (size_t)((const struct policy_backend *)t - p->backends) : 0;
	}
	if (!t)
		return fail_node(ps, n, "undefined %s %s: define it under %s", kind_names[k],
				 ynode_quote(q, sizeof(q), n->text, n->len),
				 k == NAME_CLASS ? "classes" : "backends");
	return 0;
}

static int parse_grant(struct parser *ps, const struct ynode *n, struct policy_grant *g)
{
	const struct ynode *v[N_OF(grant_fields)];
	int rc;

	rc = ynode_get_fields(ps->err, n, "a grant", grant_fields, N_OF(grant_fields), v);
	if (rc)
		return rc;
	g->at = place_of(ps, n);
	if (v[0] && v[1])
		return fail_node(ps, n,
				 "a grant names exactly one of class or backend, found both");
	if (!v[0] && !v[1])
		return fail_node(ps, n, "missing key \"class\" or \"backend\" in a grant");
	rc = grant_target(ps, v[0] ? v[0] : v[1], v[0] ? NAME_CLASS : NAME_BACKEND, g);
	if (!rc)
		rc = parse_actions(ps, v[2], v[0] ? &on_class : &on_backend, &g->actions);
	if (!rc && v[3])
		rc = ynode_bool(ps->err, v[3], "audit", &g->audited);
	if (!rc)
		rc = parse_string(ps, v[4], "approved_by", &g->approved_by);
	return rc;
}

/* One family naming one class or backend twice: write one grant. */
static int check_duplicate_grants(struct parser *ps, const struct policy_family *f)
{
	const struct policy *p = ps->p;
	char at[PLACE_TEXT_MAX];
	size_t i, j;

	for (j = 1; j < f->n_grants; j++) {
		const struct policy_grant *g = &f->grants[j];

		for (i = 0; i < j; i++) {
			if (f->grants[i].on != g->on || f->grants[i].target != g->target)
				continue;
			return fail_at(
				ps->err, &g->at,
				"%s %s is granted twice in family %s, first at %s: write one grant with all its actions",
				g->on == POLICY_ON_CLASS ? "class" : "backend",
				g->on == POLICY_ON_CLASS ? p->classes[g->target].name
							 : p->backends[g->target].name,
				f->name, first_at(at, sizeof(at), &f->grants[i].at, &g->at));
		}
	}
	return 0;
}

static int parse_family(struct parser *ps, const struct ynode *key, const struct ynode *val)
{
	struct policy *p = ps->p;
	const struct ynode *v[N_OF(family_fields)];
	struct policy_family *f;
	char what[POLICY_NAME_MAX + 16];
	size_t i;
	int rc;

	rc = check_name(ps, key, NAME_FAMILY);
	if (rc)
		return rc;
	f = &p->families[p->n_families++];
	f->name = strdup(key->text);
	if (!f->name)
		return -ENOMEM;
	f->at = place_of(ps, key);

	snprintf(what, sizeof(what), "family %s", f->name);
	rc = ynode_get_fields(ps->err, val, what, family_fields, N_OF(family_fields), v);
	if (!rc)
		rc = parse_description(ps, v[0], &f->description);
	if (!rc)
		rc = need_list(ps, v[1], "grants", "grants", false);
	if (rc)
		return rc;
	if (!v[1]->n_kids)
		return fail_node(ps, v[1], "family %s has no grants: expected at least one grant",
				 f->name);
	f->grants = calloc(v[1]->n_kids, sizeof(*f->grants));
	if (!f->grants)
		return -ENOMEM;
	for (i = 0; i < v[1]->n_kids; i++) {
		rc = parse_grant(ps, v[1]->kids[i], &f->grants[f->n_grants++]);
		if (rc)
			return rc;
	}
	return check_duplicate_grants(ps, f);
}

/* ---- agents ---- */

static const char *const mode_names[] = {
	[POLICY_MODE_ENFORCE] = "enforce",
	[POLICY_MODE_AUDIT] = "audit",
	[POLICY_MODE_RECORD] = "record",
};

const char *policy_mode_name(unsigned mode)
{
	return mode < N_OF(mode_names) ? mode_names[mode] : NULL;
}

static int parse_mode(struct parser *ps, const struct ynode *n, struct policy_agent *a)
{
	return parse_choice(ps, n, "mode", mode_names, N_OF(mode_names), &a->mode);
}

/* sockets: the kinds as the policy names them, indexed by PF_SOCK_* bit */
static const char *const socket_kinds[] = {"tcp",  "udp", "unix",  "netlink-route",
					   "ping", "raw", "packet"};

const char *policy_sockets_format(unsigned sockets, char *buf, size_t len)
{
	size_t i, o = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < N_OF(socket_kinds) && o < len; i++)
		if (sockets & 1u << i)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
					      socket_kinds[i]);
	return buf;
}

/* sockets: a sequence of socket kinds, each once; [] allows none */
static int parse_sockets(struct parser *ps, const struct ynode *n, struct policy_agent *a)
{
	const struct ynode *k, *first[N_OF(socket_kinds)] = {0};
	char q[Q_SIZE], at[64];
	size_t i, j;
	int rc;

	rc = need_list(ps, n, "socket kinds", "sockets", false);
	if (rc)
		return rc;
	a->sockets = 0;
	for (i = 0; i < n->n_kids; i++) {
		k = n->kids[i];
		rc = ynode_need_scalar(ps->err, k, "a socket kind");
		if (rc)
			return rc;
		for (j = 0; j < N_OF(socket_kinds) && strcmp(k->text, socket_kinds[j]); j++)
			;
		if (j == N_OF(socket_kinds))
			return fail_node(
				ps, k,
				"unknown socket kind %s: expected tcp, udp, unix, netlink-route, ping, raw or packet",
				ynode_quote(q, sizeof(q), k->text, k->len));
		if (first[j]) {
			snprintf(at, sizeof(at), "%u:%u", first[j]->line, first[j]->column);
			return fail_node(ps, k, "duplicate socket kind %s, first at %s",
					 socket_kinds[j], at);
		}
		first[j] = k;
		a->sockets |= 1u << j;
	}
	return 0;
}

/* access: read, read-write, or a sequence of file actions */
static int parse_access(struct parser *ps, const struct ynode *n, struct policy_tree *t)
{
	char q[Q_SIZE];
	int rc;

	if (n->kind == YNODE_SEQUENCE)
		return parse_action_list(ps, n, &on_files_rule, &t->access);
	rc = ynode_need_scalar(ps->err, n, "read, read-write or a sequence of actions for access");
	if (rc)
		return rc;
	if (!strcmp(n->text, "read"))
		t->access = POLICY_ACCESS_READ;
	else if (!strcmp(n->text, "read-write"))
		t->access = POLICY_ACCESS_READ_WRITE;
	else
		return fail_node(
			ps, n,
			"unknown access %s: expected read or read-write, or a sequence of actions such as [read, exec]",
			ynode_quote(q, sizeof(q), n->text, n->len));
	return 0;
}

static int parse_tree(struct parser *ps, const struct ynode *n, struct policy_tree *t)
{
	const struct ynode *v[N_OF(tree_fields)];
	int rc;

	rc = ynode_get_fields(ps->err, n, "a files rule", tree_fields, N_OF(tree_fields), v);
	if (rc)
		return rc;
	t->at = place_of(ps, n);
	rc = parse_path(ps, v[0], "path", t);
	if (!rc)
		rc = parse_access(ps, v[1], t);
	if (!rc && v[2])
		rc = ynode_bool(ps->err, v[2], "audit", &t->audited);
	return rc;
}

/* families: a sequence of defined family names, each once. */
static int parse_family_refs(struct parser *ps, const struct ynode *n, struct policy_agent *a)
{
	const struct policy *p = ps->p;
	const struct policy_family *f;
	char q[Q_SIZE], at[PLACE_TEXT_MAX];
	size_t i, j;
	int rc;

	rc = need_list(ps, n, "family names", "families", false);
	if (rc)
		return rc;
	a->families = calloc(n->n_kids + 1, sizeof(*a->families));
	if (!a->families)
		return -ENOMEM;
	for (i = 0; i < n->n_kids; i++) {
		const struct ynode *k = n->kids[i];
		struct policy_family_ref *r = &a->families[a->n_families];

		rc = ynode_need_scalar(ps->err, k, "a family name");
		if (rc)
			return rc;
		f = policy_find_family(p, k->text);
		if (!f)
			return fail_node(ps, k, "undefined family %s: define it under families",
					 ynode_quote(q, sizeof(q), k->text, k->len));
		r->family = (size_t)(f - p->families);
		r->at = place_of(ps, k);
		for (j = 0; j < a->n_families; j++)
			if (a->families[j].family == r->family)
				return fail_node(
					ps, k, "family %s named twice, first at %s", f->name,
					first_at(at, sizeof(at), &a->families[j].at, &r->at));
		a->n_families++;
	}
	return 0;
}

static int parse_agent_rules(struct parser *ps, const struct ynode *files,
			     const struct ynode *network, struct policy_agent *a)
{
	size_t i;
	int rc;

	if (files) {
		rc = need_list(ps, files, "rules", "files", false);
		if (rc)
			return rc;
		a->trees = calloc(files->n_kids + 1, sizeof(*a->trees));
		if (!a->trees)
			return -ENOMEM;
		for (i = 0; i < files->n_kids; i++) {
			rc = parse_tree(ps, files->kids[i], &a->trees[a->n_trees++]);
			if (rc)
				return rc;
		}
	}
	if (network) {
		rc = need_list(ps, network, "rules", "network", false);
		if (rc)
			return rc;
		a->dests = calloc(network->n_kids + 1, sizeof(*a->dests));
		if (!a->dests)
			return -ENOMEM;
		for (i = 0; i < network->n_kids; i++) {
			rc = parse_dest(ps, network->kids[i], true, &a->dests[a->n_dests++]);
			if (rc)
				return rc;
		}
	}
	return check_duplicate_dests(ps, a->dests, a->n_dests, "network rule");
}

static int parse_agent(struct parser *ps, const struct ynode *key, const struct ynode *val)
{
	struct policy *p = ps->p;
	const struct ynode *v[N_OF(agent_fields)];
	struct policy_agent *a;
	char what[POLICY_NAME_MAX + 16];
	int rc;

	rc = check_name(ps, key, NAME_AGENT);
	if (rc)
		return rc;
	a = &p->agents[p->n_agents++];
	a->name = strdup(key->text);
	if (!a->name)
		return -ENOMEM;
	a->at = place_of(ps, key);
	a->sockets = PF_SOCK_DEFAULT;

	snprintf(what, sizeof(what), "agent %s", a->name);
	if (ynode_is_empty(val))
		return fail_node(
			ps, val,
			"expected a mapping for %s, found an empty value (write {} for an agent with no rules)",
			what);
	rc = ynode_get_fields(ps->err, val, what, agent_fields, N_OF(agent_fields), v);
	if (!rc && v[0])
		rc = parse_family_refs(ps, v[0], a);
	if (!rc && v[1])
		rc = parse_mode(ps, v[1], a);
	if (!rc)
		rc = parse_agent_rules(ps, v[2], v[3], a);
	if (!rc && v[4])
		rc = parse_sockets(ps, v[4], a);
	return rc;
}

/* ---- shipped classes and families ---- */

struct shipped_class {
	const char *name, *description;
	const char *trees[6];
	bool private_tmp;
};

static const struct shipped_class shipped_classes[] = {
	{.name = "runtime.libraries",
	 .description = "Shared libraries",
	 .trees = {"/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib"}},
	{.name = "runtime.loader",
	 .description = "The dynamic loader's cache",
	 .trees = {"/etc/ld.so.cache"}},
	{.name = "runtime.certificates",
	 .description = "Trusted CA certificates",
	 .trees = {"/etc/ssl/certs", "/usr/share/ca-certificates", "/etc/ca-certificates.conf"}},
	{.name = "runtime.locale",
	 .description = "Time zones and locales",
	 .trees = {"/usr/share/zoneinfo", "/etc/localtime", "/usr/share/locale",
		   "/usr/lib/locale"}},
	{.name = "runtime.devices",
	 .description = "The null, zero, full and random devices",
	 .trees = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}},
	{.name = "runtime.programs",
	 .description = "The system's programs",
	 .trees = {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}},
	{.name = "runtime.tmp",
	 .description = "The instance's private temporary directory",
	 .private_tmp = true},
};

struct shipped_family {
	const char *name, *description;
	struct {
		const char *class;
		unsigned actions;
	} grants[6];
};

static const struct shipped_family shipped_families[] = {
	{"runtime",
	 "What an ordinary dynamically linked program needs to start and run",
	 {{"runtime.libraries", POLICY_READ | POLICY_EXEC},
	  {"runtime.loader", POLICY_READ},
	  {"runtime.certificates", POLICY_READ},
	  {"runtime.locale", POLICY_READ},
	  {"runtime.devices", POLICY_READ | POLICY_WRITE},
	  {"runtime.tmp", POLICY_ACCESS_READ_WRITE}}},
	{"runtime-programs",
	 "Run the system's programs (for agents written as shell scripts)",
	 {{"runtime.programs", POLICY_READ | POLICY_EXEC}}},
};

static int add_shipped_class(struct policy *p, const struct shipped_class *s)
{
	struct policy_class *c = &p->classes[p->n_classes++];
	size_t n = 0;

	while (n < N_OF(s->trees) && s->trees[n])
		n++;
	c->name = strdup(s->name);
	c->description = strdup(s->description);
	c->trees = calloc(n + 1, sizeof(*c->trees));
	if (!c->name || !c->description || !c->trees)
		return -ENOMEM;
	c->shipped = true;
	c->private_tmp = s->private_tmp;
	for (; c->n_trees < n; c->n_trees++) {
		c->trees[c->n_trees].optional = true;
		c->trees[c->n_trees].path = strdup(s->trees[c->n_trees]);
		if (!c->trees[c->n_trees].path)
			return -ENOMEM;
	}
	return 0;
}

static int add_shipped_family(struct policy *p, const struct shipped_family *s)
{
	struct policy_family *f = &p->families[p->n_families++];
	const struct policy_class *c;
	size_t n = 0;

	while (n < N_OF(s->grants) && s->grants[n].class)
		n++;
	f->name = strdup(s->name);
	f->description = strdup(s->description);
	f->grants = calloc(n, sizeof(*f->grants));
	if (!f->name || !f->description || !f->grants)
		return -ENOMEM;
	f->shipped = true;
	for (; f->n_grants < n; f->n_grants++) {
		c = policy_find_class(p, s->grants[f->n_grants].class);
		if (!c)
			return -EFAULT; /* the tables above disagree */
		f->grants[f->n_grants].on = POLICY_ON_CLASS;
		f->grants[f->n_grants].target = (size_t)(c - p->classes);
		f->grants[f->n_grants].actions = s->grants[f->n_grants].actions;
	}
	return 0;
}

static int add_shipped(struct policy *p)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < N_OF(shipped_classes); i++)
		rc = add_shipped_class(p, &shipped_classes[i]);
	for (i = 0; !rc && i < N_OF(shipped_families); i++)
		rc = add_shipped_family(p, &shipped_families[i]);
	return rc;
}

/* ---- the whole policy ---- */

static const char *const section_items[SEC_COUNT] = {[SEC_CLASSES] = "class names",
						     [SEC_BACKENDS] = "backend names",
						     [SEC_FAMILIES] = "family names",
						     [SEC_AGENTS] = "agent names"};

/* The top level of one file: version 1 and sections that are mappings. */
static int parse_top(struct parser *ps, struct source *s)
{
	const struct ynode *v[SEC_COUNT];
	char q[Q_SIZE];
	int i, rc;

	if (!s->root)
		return policy_error_set(
			ps->err, 1, 1,
			"empty policy: expected a mapping with version and agents, classes, backends or families");
	rc = ynode_get_fields(ps->err, s->root, "the policy", policy_fields, N_OF(policy_fields),
			      v);
	if (rc)
		return rc;
	if (v[0]->kind == YNODE_SCALAR && v[0]->plain && v[0]->len && strcmp(v[0]->text, "1"))
		return fail_node(ps, v[0], "unsupported version %s: expected 1",
				 ynode_quote(q, sizeof(q), v[0]->text, v[0]->len));
	if (v[0]->kind != YNODE_SCALAR || !v[0]->plain || strcmp(v[0]->text, "1"))
		return fail_node(ps, v[0], "expected version 1 as an unquoted number, found %s",
				 ynode_found(q, sizeof(q), v[0]));
	for (i = SEC_CLASSES; i < SEC_COUNT; i++) {
		if (v[i] && v[i]->kind != YNODE_MAPPING)
			return fail_node(ps, v[i], "expected a mapping of %s for %s, found %s",
					 section_items[i], policy_fields[i].key,
					 ynode_found(q, sizeof(q), v[i]));
		s->sec[i] = v[i];
	}
	return 0;
}

/* Room for every definition of every file, shipped ones first. */
static int make_room(struct parser *ps)
{
	struct policy *p = ps->p;
	/* the shipped names count against the limits too */
	size_t n[SEC_COUNT] = {
		[SEC_CLASSES] = N_OF(shipped_classes), [SEC_FAMILIES] = N_OF(shipped_families)};
	size_t f;
	int i;

	for (f = 0; f < p->n_files; f++) {
		set_file(ps, f);
		for (i = SEC_CLASSES; i < SEC_COUNT; i++) {
			const struct ynode *s = ps->src[f].sec[i];
			size_t max = i == SEC_AGENTS ? POLICY_MAX_AGENTS : POLICY_MAX_NAMES;

			n[i] += s ? s->n_kids / 2 : 0;
			if (n[i] > max)
				return fail_node(ps, s, "too many %s: at most %zu",
						 policy_fields[i].key, max);
		}
	}
	p->classes = calloc(n[SEC_CLASSES], sizeof(*p->classes));
	p->backends = calloc(n[SEC_BACKENDS] + 1, sizeof(*p->backends));
	p->families = calloc(n[SEC_FAMILIES], sizeof(*p->families));
	p->agents = calloc(n[SEC_AGENTS] + 1, sizeof(*p->agents));
	if (!p->classes || !p->backends || !p->families || !p->agents)
		return -ENOMEM;
	return 0;
}

typedef int (*parse_one_fn)(struct parser *ps, const struct ynode *key, const struct ynode *val);

/* Every entry of section sec, file by file. */
static int parse_section(struct parser *ps, enum section sec, parse_one_fn one)
{
	size_t f, i;
	int rc;

	for (f = 0; f < ps->p->n_files; f++) {
		const struct ynode *n = ps->src[f].sec[sec];

		set_file(ps, f);
		for (i = 0; n && i + 1 < n->n_kids; i += 2) {
			rc = one(ps, n->kids[i], n->kids[i + 1]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int parse_all(struct parser *ps)
{
	struct policy *p = ps->p;
	size_t f;
	int rc;

	for (f = 0; f < p->n_files; f++) {
		set_file(ps, f);
		rc = parse_top(ps, &ps->src[f]);
		if (rc)
			return rc;
	}
	rc = make_room(ps);
	if (!rc)
		rc = add_shipped(p);
	if (!rc)
		rc = parse_section(ps, SEC_CLASSES, parse_class);
	if (!rc)
		rc = parse_section(ps, SEC_BACKENDS, parse_backend);
	if (!rc)
		rc = parse_section(ps, SEC_FAMILIES, parse_family);
	if (!rc)
		rc = parse_section(ps, SEC_AGENTS, parse_agent);
	if (rc)
		return rc;
	if (!p->n_agents) {
		if (p->n_files == 1) {
			set_file(ps, 0);
			return fail_node(
				ps, ps->src[0].root,
				"no agents: a policy needs at least one agent under agents");
		}
		snprintf(ps->err->file, sizeof(ps->err->file), "%s", p->file);
		return policy_error_set(
			ps->err, 0, 0, "no agents: a policy needs at least one agent under agents");
	}
	rc = check_trees(ps->err, p);
	if (!rc)
		rc = find_warnings(p);
	return rc;
}

/* ---- loading ---- */

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

/*
 * SHA-256 over each file: its base name, a NUL, its size as 8 bytes
 * big-endian, its bytes. Names count so that renaming a file (which
 * changes the merge order) changes the hash.
 */
static int digest(const struct policy *p, const struct source *src, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE], size[8];
	unsigned int md_len = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;
	size_t f;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (f = 0; ok && f < p->n_files; f++) {
		const char *name = base_name(p->files[f]);

		for (i = 0; i < 8; i++)
			size[i] = (unsigned char)((uint64_t)src[f].len >> (56 - 8 * i));
		ok = EVP_DigestUpdate(ctx, name, strlen(name) + 1) &&
		     EVP_DigestUpdate(ctx, size, sizeof(size)) &&
		     EVP_DigestUpdate(ctx, src[f].buf, src[f].len);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -ENOMEM;
	for (i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Parse the files of p (names in p->files, texts in src) into p. */
static int load_sources(struct policy *p, struct source *src, struct policy_error *err)
{
	struct parser ps = {.p = p, .err = err, .src = src};
	size_t f;
	int rc = 0;

	for (f = 0; !rc && f < p->n_files; f++) {
		set_file(&ps, f);
		rc = ynode_read(src[f].buf, src[f].len, &src[f].root, err);
	}
	if (!rc)
		rc = parse_all(&ps);
	if (!rc)
		rc = digest(p, src, p->sha256);
	if (rc == -ENOMEM)
		policy_error_set(err, 0, 0, "out of memory");
	else if (rc == -EFAULT)
		policy_error_set(err, 0, 0, "internal error: shipped tables are inconsistent");
	for (f = 0; f < p->n_files; f++)
		ynode_free(src[f].root);
	return rc;
}

/* p->file and room for n file names. */
static int start_policy(struct policy *p, const char *path, size_t n)
{
	p->file = strdup(path);
	p->files = calloc(n + 1, sizeof(*p->files));
	return p->file && p->files ? 0 : -ENOMEM;
}

int policy_load_buffer(const char *name, const char *buf, size_t len, struct policy *p,
		       struct policy_error *err)
{
	struct source src = {.buf = (char *)buf, .len = len};
	int rc;

	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", name);

	rc = start_policy(p, name, 1);
	if (!rc) {
		p->files[0] = strdup(name);
		rc = p->files[0] ? 0 : -ENOMEM;
		p->n_files = !rc;
	}
	if (rc)
		policy_error_set(err, 0, 0, "out of memory");
	else
		rc = load_sources(p, &src, err);
	if (rc)
		policy_release(p);
	else
		memset(err, 0, sizeof(*err));
	return rc;
}

/*
 * Every policy file and directory is opened so that the open itself cannot
 * block or act: an agent that may write where its policy lies could put a
 * FIFO (an open for reading waits for a writer), a terminal or another
 * device there, and pinfold run's watcher would hang in it, its audit
 * records with it. What the open gave is then judged with fstat, on the
 * descriptor: a check on the name before it would be a race.
 *
 * Symbolic links are followed: configuration tools and Kubernetes volumes
 * publish files as links, and the object a link leads to is judged all the
 * same. A link cannot widen what an agent that can write there can do to
 * the policy already.
 */
#define POLICY_OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* "a FIFO", ...: the kind of file of mode m, for messages. */
static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a known kind of file";
}

/*
 * name below dirfd opened with POLICY_OPEN_FLAGS when it is a regular file
 * or a directory, its status in st: a descriptor, or -errno (-EINVAL with
 * err set for any other kind of file, err->file naming path).
 */
static int open_policy(int dirfd, const char *name, const char *path, struct stat *st,
		       struct policy_error *err)
{
	int fd, rc;

	snprintf(err->file, sizeof(err->file), "%s", path);
	/* not even opened when plainly a device: opening some has effects */
	if (fstatat(dirfd, name, st, 0) == 0 && !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		goto refuse;
	fd = openat(dirfd, name, POLICY_OPEN_FLAGS);
	if (fd < 0) {
		rc = -errno;
		policy_error_set(err, 0, 0, "cannot open policy: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, st) < 0) {
		rc = -errno;
		close(fd);
		policy_error_set(err, 0, 0, "cannot open policy: %s", strerror(-rc));
		return rc;
	}
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))
		return fd;
	close(fd);
refuse:
	return policy_error_set(err, 0, 0,
				"cannot read policy: it is %s, not a regular file or a directory",
				file_kind(st->st_mode));
}

/* The regular file open as fd, of size hint, into s; at most POLICY_FILE_MAX bytes. */
static int read_policy(int fd, off_t hint, struct source *s, struct policy_error *err)
{
	size_t cap = hint > 0 && hint < POLICY_FILE_MAX ? (size_t)hint + 1 : POLICY_FILE_MAX + 1;
	ssize_t n;
	char *grown;

	s->len = 0;
	s->buf = malloc(cap);
	if (!s->buf)
		goto nomem;
	for (;;) {
		if (s->len == cap) {
			/* the file grew since fstat: read on, up to one byte past the cap */
			if (cap > POLICY_FILE_MAX)
				break;
			cap = 2 * cap > POLICY_FILE_MAX + 1 ? POLICY_FILE_MAX + 1 : 2 * cap;
			grown = realloc(s->buf, cap);
			if (!grown)
				goto nomem;
			s->buf = grown;
		}
		n = read(fd, s->buf + s->len, cap - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			policy_error_set(err, 0, 0, "cannot read policy: %s", strerror((int)-n));
			return (int)n;
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
	}
	if (s->len > POLICY_FILE_MAX) {
		policy_error_set(err, 0, 0, "policy too large: at most %d bytes", POLICY_FILE_MAX);
		return -EFBIG;
	}
	return 0;
nomem:
	policy_error_set(err, 0, 0, "out of memory");
	return -ENOMEM;
}

/* A policy file of a directory: NAME.yaml, not hidden. */
static int is_policy_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".yaml");
}

/* Byte order, whatever the locale (alphasort follows LC_COLLATE). */
static int byte_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* path/name, malloc'ed; NULL when out of memory. */
static char *join(const char *path, const char *name)
{
	size_t size = strlen(path) + strlen(name) + 2;
	char *file = malloc(size);

	if (file)
		snprintf(file, size, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
			 name);
	return file;
}

/*
 * The *.yaml files of the directory open as dirfd (path for messages), in
 * byte order, into p->files and *srcp. Subdirectories are skipped; any
 * other file that is not regular is an error, not skipped: a policy must
 * not lose a file's rules silently.
 */
static int read_dir(int dirfd, const char *path, struct policy *p, struct source **srcp,
		    struct policy_error *err)
{
	struct dirent **names = NULL;
	struct stat st;
	int n, i, fd, rc = 0;

	n = scandirat(dirfd, ".", &names, is_policy_file, byte_order);
	if (n < 0) {
		rc = -errno;
		policy_error_set(err, 0, 0, "cannot read policy directory: %s", strerror(-rc));
		return rc;
	}
	if (n > POLICY_FILES_MAX) {
		rc = policy_error_set(err, 0, 0, "too many policy files: at most %d",
				      POLICY_FILES_MAX);
		goto out;
	}
	rc = start_policy(p, path, (size_t)n);
	*srcp = calloc((size_t)n + 1, sizeof(**srcp));
	if (!rc && !*srcp)
		rc = -ENOMEM;
	if (rc) {
		policy_error_set(err, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; !rc && i < n; i++) {
		char *file = join(path, names[i]->d_name);

		if (!file) {
			policy_error_set(err, 0, 0, "out of memory");
			rc = -ENOMEM;
			break;
		}
		fd = open_policy(dirfd, names[i]->d_name, file, &st, err);
		if (fd >= 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			free(file);
			continue;
		}
		if (fd < 0) {
			free(file);
			rc = fd;
			break;
		}
		p->files[p->n_files] = file;
		rc = read_policy(fd, st.st_size, &(*srcp)[p->n_files++], err);
		close(fd);
	}
	if (!rc && !p->n_files) {
		snprintf(err->file, sizeof(err->file), "%s", path);
		rc = policy_error_set(err, 0, 0,
				      "no policy files in directory: expected files named *.yaml");
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int policy_load(const char *path, struct policy *p, struct policy_error *err)
{
	struct source *src = NULL;
	struct stat st;
	size_t f;
	int fd, rc;

	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));

	fd = open_policy(AT_FDCWD, path, path, &st, err);
	if (fd < 0)
		return fd;
	if (S_ISDIR(st.st_mode)) {
		rc = read_dir(fd, path, p, &src, err);
	} else {
		rc = start_policy(p, path, 1);
		src = calloc(1, sizeof(*src));
		if (!rc && src) {
			p->files[0] = strdup(path);
			rc = p->files[0] ? 0 : -ENOMEM;
			p->n_files = !rc;
		}
		if (rc || !src) {
			policy_error_set(err, 0, 0, "out of memory");
			rc = -ENOMEM;
		}
		if (!rc)
			rc = read_policy(fd, st.st_size, &src[0], err);
	}
	close(fd);
	if (!rc)
		rc = load_sources(p, src, err);

	for (f = 0; src && f < p->n_files; f++)
		free(src[f].buf);
	free(src);
	if (rc)
		policy_release(p);
	else
		memset(err, 0, sizeof(*err));
	return rc;
}

static void tree_release(struct policy_tree *t)
{
	free(t->path);
}

static void dest_release(struct policy_dest *d)
{
	free(d->text);
	free(d->host);
}

void policy_release(struct policy *p)
{
	size_t i, j;

	for (i = 0; i < p->n_classes; i++) {
		for (j = 0; j < p->classes[i].n_trees; j++)
			tree_release(&p->classes[i].trees[j]);
		free(p->classes[i].trees);
		free(p->classes[i].name);
		free(p->classes[i].description);
	}
	for (i = 0; i < p->n_backends; i++) {
		for (j = 0; j < p->backends[i].n_dests; j++)
			dest_release(&p->backends[i].dests[j]);
		for (j = 0; j < p->backends[i].n_excepts; j++)
			free(p->backends[i].excepts[j].text);
		free(p->backends[i].dests);
		free(p->backends[i].excepts);
		free(p->backends[i].name);
		free(p->backends[i].description);
	}
	for (i = 0; i < p->n_families; i++) {
		for (j = 0; p->families[i].grants && j < p->families[i].n_grants; j++)
			free(p->families[i].grants[j].approved_by);
		free(p->families[i].grants);
		free(p->families[i].name);
		free(p->families[i].description);
	}
	for (i = 0; i < p->n_agents; i++) {
		struct policy_agent *a = &p->agents[i];

		for (j = 0; j < a->n_trees; j++)
			tree_release(&a->trees[j]);
		for (j = 0; j < a->n_dests; j++)
			dest_release(&a->dests[j]);
		free(a->trees);
		free(a->dests);
		free(a->families);
		free(a->name);
	}
	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p->classes);
	free(p->backends);
	free(p->families);
	free(p->agents);
	free(p->warnings);
	free(p->file);
	memset(p, 0, sizeof(*p));
}
