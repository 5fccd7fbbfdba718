// SPDX-License-Identifier: GPL-2.0-only
/*
 * compile.c - one agent's view of a policy as pf_trees and pf_net entries
 * for one instance slot and generation.
 *
 * The matching rules these entries serve are in bpf/pinfold.h. Trees are
 * keyed by the inode of their root, so paths are resolved here, once; every
 * class tree is tagged whether the agent may use it or not, so that the
 * deepest tree decides. Each network prefix (of a destination or of an
 * exception) gets one entry holding the port rules of every destination
 * containing it, less those its backend excepts there, so that the kernel's
 * longest-prefix match alone decides. Hostnames are resolved here too,
 * once, each address becoming a host destination of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "compile.h"

_Static_assert(POLICY_READ == PF_ACCESS_READ && POLICY_WRITE == PF_ACCESS_WRITE &&
		       POLICY_CREATE == PF_ACCESS_CREATE && POLICY_DELETE == PF_ACCESS_DELETE &&
		       POLICY_EXEC == PF_ACCESS_EXEC && POLICY_CONNECT == PF_ACCESS_CONNECT &&
		       POLICY_SEND == PF_ACCESS_SEND,
	       "policy actions are the kernel's access bits");
_Static_assert(POLICY_MAX_RULES <= POLICY_ID_INDEX_MAX && POLICY_MAX_NAMES <= POLICY_ID_INDEX_MAX,
	       "every index fits an id");

/* bits 0 .. COMPILE_ACTIONS - 1: every POLICY_* action */
#define COMPILE_ACTIONS 7

/*
 * What an agent holds on one class or backend through its families: the
 * union of the actions granted, per action the first grant giving it, and
 * the actions some audited grant gives.
 */
struct holding {
	unsigned access;
	unsigned audited;
	uint32_t rule[COMPILE_ACTIONS];
};

/* What an own rule holds: its own access, every right granted by itself (id). */
static struct holding own_holding(unsigned access, bool audited, uint32_t id)
{
	struct holding h = {.access = access, .audited = audited ? access : 0};
	unsigned k;

	for (k = 0; k < COMPILE_ACTIONS; k++)
		h.rule[k] = id;
	return h;
}

/* Everything one compile_agent call works with. */
struct compiler {
	const struct policy *p;
	const struct policy_agent *a;
	const struct compile_env *env;
	struct compiled *out;
	struct policy_error *err;
	struct holding *classes;  /* by class index */
	struct holding *backends; /* by backend index */
	size_t *backend_order;    /* backends a holds, in the order of their first grant */
	size_t n_backend_order;
	bool *class_used; /* tagged at all: policy classes, and shipped ones some agent uses */
	size_t cap_anchors;
};

static int grow(void **v, size_t *cap, size_t n, size_t size);

/* The file an error at place at names: its own, or the policy's for what pinfold ships. */
static const char *place_file(const struct compiler *c, const struct policy_place *at)
{
	if (at && at->file)
		return at->file;
	return c->p->file ? c->p->file : "(policy)";
}

/*
 * Set err to a message at place at (its file, line and column); a place of
 * line 0 (shipped) has none. Returns -EINVAL.
 */
__attribute__((format(printf, 3, 4))) static int
fail_at(struct compiler *c, const struct policy_place *at, const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err->file, sizeof(c->err->file), "%s", place_file(c, at));
	return policy_error_set(c->err, at ? at->line : 0, at ? at->column : 0, "%s", msg);
}

/*
 * " at LINE:COL" of place at, naming its file too when that is not the
 * file of the error at place here; "" for what pinfold ships.
 */
static const char *place_ref(const struct compiler *c, const struct policy_place *at,
			     const struct policy_place *here, char *buf, size_t len)
{
	if (!at || !at->line)
		snprintf(buf, len, "%s", "");
	else if (strcmp(place_file(c, at), place_file(c, here)))
		snprintf(buf, len, " at %s:%u:%u", place_file(c, at), at->line, at->column);
	else
		snprintf(buf, len, " at %u:%u", at->line, at->column);
	return buf;
}

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

static unsigned action_index(unsigned bit)
{
	unsigned i;

	for (i = 0; i < COMPILE_ACTIONS; i++)
		if (bit == 1u << i)
			return i;
	return 0;
}

/* Add grant (family f, grant g) to what it is on. */
static void hold_grant(struct compiler *c, size_t f, size_t g)
{
	const struct policy_grant *gr = &c->p->families[f].grants[g];
	unsigned i, actions;
	struct holding *h;

	if (gr->on == POLICY_ON_CLASS && gr->target < c->p->n_classes) {
		h = &c->classes[gr->target];
		actions = gr->actions & POLICY_FILE_ACTIONS;
	} else if (gr->on == POLICY_ON_BACKEND && gr->target < c->p->n_backends) {
		h = &c->backends[gr->target];
		actions = gr->actions & POLICY_NET_ACTIONS;
		if (!h->access && actions)
			c->backend_order[c->n_backend_order++] = gr->target;
	} else {
		return;
	}
	for (i = 0; i < COMPILE_ACTIONS; i++)
		if ((actions & (1u << i)) && !(h->access & (1u << i)))
			h->rule[i] = POLICY_ID(POLICY_ID_GRANT, f, g);
	h->access |= actions;
	if (gr->audited)
		h->audited |= actions;
}

/*
 * Which classes are tagged: every class of the policy, and each shipped
 * class only when some agent names a family granting on it (see
 * docs/policy.md): a policy that uses none keeps its own rules on /usr.
 */
static void mark_used_classes(struct compiler *c)
{
	const struct policy *p = c->p;
	size_t i, j, k;

	for (i = 0; i < p->n_classes; i++)
		c->class_used[i] = !p->classes[i].shipped;
	for (i = 0; i < p->n_agents; i++) {
		for (j = 0; j < p->agents[i].n_families; j++) {
			size_t f = p->agents[i].families[j].family;

			if (f >= p->n_families)
				continue;
			for (k = 0; k < p->families[f].n_grants; k++) {
				const struct policy_grant *g = &p->families[f].grants[k];

				if (g->on == POLICY_ON_CLASS && g->target < p->n_classes)
					c->class_used[g->target] = true;
			}
		}
	}
}

static int compiler_init(struct compiler *c)
{
	const struct policy *p = c->p;
	size_t i, g;

	c->classes = calloc(p->n_classes + 1, sizeof(*c->classes));
	c->class_used = calloc(p->n_classes + 1, sizeof(*c->class_used));
	c->backends = calloc(p->n_backends + 1, sizeof(*c->backends));
	c->backend_order = calloc(p->n_backends + 1, sizeof(*c->backend_order));
	if (!c->classes || !c->class_used || !c->backends || !c->backend_order)
		return -ENOMEM;

	mark_used_classes(c);
	/* families in the agent's order, grants in family order: the first grant wins */
	for (i = 0; i < c->a->n_families; i++) {
		size_t f = c->a->families[i].family;

		if (f >= p->n_families)
			continue;
		for (g = 0; g < p->families[f].n_grants; g++)
			hold_grant(c, f, g);
	}
	return 0;
}

static void compiler_release(struct compiler *c)
{
	free(c->classes);
	free(c->class_used);
	free(c->backends);
	free(c->backend_order);
}

/* ---- files ---- */

/* Where a tagged tree came from, for the error about two trees on one inode. */
struct tree_origin {
	const char *path;
	const struct policy_place *at;
	const struct policy_class *class; /* NULL for an own files rule */
};

struct tree_set {
	struct tree_origin *origin; /* parallel to out->trees */
	size_t cap;
};

/* The pf_trees value for access held as h (NULL: none) on a tree tagged object. */
static void tree_value(struct pf_tree *v, uint32_t object, const struct holding *h)
{
	unsigned i;

	memset(v, 0, sizeof(*v));
	v->object = object;
	for (i = 0; i < PF_FILE_ACCESSES; i++)
		v->rule[i] = PF_RULE_NONE;
	if (!h)
		return;
	v->access = h->access & POLICY_FILE_ACTIONS;
	v->audited = h->audited & v->access;
	for (i = 0; i < PF_FILE_ACCESSES; i++)
		if (v->access & PF_ACCESS_BIT(i))
			v->rule[i] = h->rule[i];
}

/* Anchor the name (dev, ino) for a tree tagged object, once. */
static int anchor(struct compiler *c, uint64_t dev, uint64_t ino, uint32_t object)
{
	struct compiled *out = c->out;
	struct compiled_anchor *a;
	size_t i;

	for (i = 0; i < out->n_anchors; i++)
		if (out->anchors[i].key.dev == dev && out->anchors[i].key.ino == ino)
			return 0;
	if (grow((void **)&out->anchors, &c->cap_anchors, out->n_anchors, sizeof(*a)))
		return -ENOMEM;
	a = &out->anchors[out->n_anchors++];
	memset(a, 0, sizeof(*a));
	a->key.slot = out->slot;
	a->key.gen = out->gen;
	a->key.dev = dev;
	a->key.ino = ino;
	a->object = object;
	return 0;
}

/*
 * Anchor each directory of path (written at at) above its last component,
 * but /: each through the environment's resolver (or stat(2)), or, when
 * links_only, just the symbolic links among them and path itself, with
 * lstat(2).
 */
static int anchor_prefixes(struct compiler *c, const char *path, const struct policy_place *at,
			   uint32_t object, bool links_only)
{
	char prefix[PATH_MAX];
	uint64_t dev, ino;
	struct stat st;
	size_t k, len = strlen(path);
	int rc;

	if (len >= sizeof(prefix))
		return fail_at(c, at, "path too long: %s", path);
	for (k = 1; k <= len; k++) {
		if (k < len && path[k] != '/')
			continue;
		if (path[k - 1] == '/')
			continue;
		memcpy(prefix, path, k);
		prefix[k] = '\0';
		if (links_only) {
			if (lstat(prefix, &st) || !S_ISLNK(st.st_mode))
				continue;
			dev = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
			ino = st.st_ino;
		} else {
			if (k == len)
				break; /* the tree root itself: the caller's */
			rc = c->env->resolve
				     ? c->env->resolve(prefix, &dev, &ino, c->env->resolve_ctx)
				     : compile_resolve_stat(prefix, &dev, &ino, NULL);
			if (rc)
				return fail_at(c, at, "cannot resolve %s, above tree %s: %s",
					       prefix, path, strerror(rc < 0 ? -rc : EIO));
		}
		rc = anchor(c, dev, ino, object);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Anchor the tree root (dev, ino) at path, tagged object, and every name
 * on the way to it (see compile_agent): none of them may move.
 */
static int anchor_tree(struct compiler *c, const char *path, const struct policy_place *at,
		       uint64_t dev, uint64_t ino, uint32_t object)
{
	char real[PATH_MAX];
	int rc;

	rc = anchor(c, dev, ino, object);
	if (rc || c->env->resolve)
		return rc ?: anchor_prefixes(c, path, at, object, false);
	/* NEEDSWORK: a symbolic link met inside another link's target is not anchored; renaming
	 * it redirects the path at the next apply */
	if (!realpath(path, real))
		return fail_at(c, at, "cannot resolve tree %s: %s", path, strerror(errno));
	rc = anchor_prefixes(c, real, at, object, false);
	return rc ?: anchor_prefixes(c, path, at, object, true);
}

/*
 * Tag the tree at path (written at at, of class cl or an own rule) as
 * object. A missing optional tree is skipped; two shipped trees on one
 * inode (/lib and /usr/lib) are tagged once; any other two trees on one
 * inode are an error at the second.
 */
static int tag_tree(struct compiler *c, struct tree_set *s, const char *path,
		    const struct policy_place *at, bool optional, const struct policy_class *cl,
		    uint32_t object, const struct holding *h)
{
	struct compiled *out = c->out;
	struct compiled_tree *t;
	uint64_t dev = 0, ino = 0;
	char ref[300];
	size_t j;
	int rc;

	/* NEEDSWORK: resolved at apply; a re-created tree root is untagged until the next apply
	 * (a nested one is judged by its enclosing class meanwhile: docs/limitations.md) */
	rc = c->env->resolve ? c->env->resolve(path, &dev, &ino, c->env->resolve_ctx)
			     : compile_resolve_stat(path, &dev, &ino, NULL);
	if ((rc == -ENOENT || rc == -ENOTDIR) && optional)
		return 0;
	if (rc == -ENOENT || rc == -ENOTDIR)
		return fail_at(c, at, "tree does not exist: %s: %s", path, strerror(-rc));
	if (rc)
		return fail_at(c, at, "cannot resolve tree %s: %s", path,
			       strerror(rc < 0 ? -rc : EIO));

	for (j = 0; j < out->n_trees; j++) {
		const struct tree_origin *o = &s->origin[j];

		if (out->trees[j].key.dev != dev || out->trees[j].key.ino != ino)
			continue;
		if (cl && cl->shipped && o->class && o->class->shipped)
			return anchor_tree(c, path, at, dev, ino, out->trees[j].val.object);
		place_ref(c, o->at, at, ref, sizeof(ref));
		if (o->class)
			return fail_at(c, at, "tree %s is the same inode as %s of class %s%s", path,
				       o->path, o->class->name, ref);
		return fail_at(c, at, "tree %s is the same inode as %s%s", path, o->path, ref);
	}

	if (out->n_trees == s->cap)
		return -ENOMEM; /* the caller counted every tree: cannot happen */
	t = &out->trees[out->n_trees];
	t->key.slot = out->slot;
	t->key.gen = out->gen;
	t->key.dev = dev;
	t->key.ino = ino;
	tree_value(&t->val, object, h);
	/* held or not: an access the kernel cannot record is denied */
	if (cl && cl->audit_required)
		t->val.audited |= PF_AUDIT_REQUIRED;
	s->origin[out->n_trees] = (struct tree_origin){.path = path, .at = at, .class = cl};
	out->n_trees++;
	return anchor_tree(c, path, at, dev, ino, object);
}

/* Tag the trees of class ci: its own, or for runtime.tmp the instance's directory. */
static int tag_class(struct compiler *c, struct tree_set *s, size_t ci)
{
	const struct policy_class *cl = &c->p->classes[ci];
	const struct holding *h = &c->classes[ci];
	size_t t;
	int rc;

	if (cl->private_tmp) {
		if (!c->env->private_tmp)
			return 0;
		/* the class has no trees of its own: tree 0 names its directory */
		return tag_tree(c, s, c->env->private_tmp, &cl->at, false, cl,
				POLICY_ID(POLICY_ID_CLASS_TREE, ci, 0), h);
	}
	for (t = 0; t < cl->n_trees; t++) {
		const struct policy_tree *tr = &cl->trees[t];

		rc = tag_tree(c, s, tr->path, &tr->at, tr->optional, cl,
			      POLICY_ID(POLICY_ID_CLASS_TREE, ci, t), h);
		if (rc)
			return rc;
	}
	return 0;
}

static int compile_trees(struct compiler *c)
{
	const struct policy *p = c->p;
	const struct policy_agent *a = c->a;
	struct tree_set s = {0};
	size_t i;
	int rc = 0;

	for (i = 0; i < p->n_classes; i++)
		if (c->class_used[i])
			s.cap += p->classes[i].private_tmp ? 1 : p->classes[i].n_trees;
	s.cap += a->n_trees;
	if (!s.cap)
		return 0;
	c->out->trees = calloc(s.cap, sizeof(*c->out->trees));
	s.origin = calloc(s.cap, sizeof(*s.origin));
	if (!c->out->trees || !s.origin) {
		rc = -ENOMEM;
		goto out;
	}

	for (i = 0; !rc && i < p->n_classes; i++)
		if (c->class_used[i])
			rc = tag_class(c, &s, i);
	for (i = 0; !rc && i < a->n_trees; i++) {
		const struct policy_tree *t = &a->trees[i];
		uint32_t id = POLICY_ID(POLICY_ID_OWN_TREE, 0, i);
		struct holding h = own_holding(t->access, t->audited, id);

		rc = tag_tree(c, &s, t->path, &t->at, false, NULL, id, &h);
	}
out:
	free(s.origin);
	return rc;
}

/* ---- network ---- */

/* One port rule of one address range, before it is pushed into prefixes. */
struct net_rule {
	uint8_t addr[16];
	unsigned prefix;
	struct pf_port_rule rule;
	size_t backend; /* whose exceptions apply; SIZE_MAX for an own rule */
};

/* An address range: addr/prefix, in IPv6 bits. */
struct net_prefix {
	uint8_t addr[16];
	unsigned prefix;
};

/* A prefix that gets an entry: of a destination or of an exception. */
struct net_key {
	struct net_prefix net;
	const struct policy_place *at;
};

/* An exception of a backend. */
struct net_except {
	const uint8_t *addr;
	unsigned prefix;
	size_t backend;
};

struct net_set {
	struct net_rule *rules;
	size_t n_rules, cap_rules;
	struct net_key *keys;
	size_t n_keys, cap_keys;
	/* keys' indexes + 1 by hash of (addr, prefix), 0 empty; twice cap_keys slots */
	uint32_t *key_index;
	size_t n_index;
	struct net_except *excepts;
	size_t n_excepts, cap_excepts;
};

/* Grow *v (of *cap elements of size each) to hold n + 1. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, want * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = want;
	return 0;
}

/* A key's hash: its address and prefix. */
static size_t key_hash(const uint8_t addr[16], unsigned prefix)
{
	return (size_t)policy_fnv(policy_fnv(POLICY_FNV_INIT, addr, 16), &prefix, sizeof(prefix));
}

/*
 * The slot of (addr, prefix) in index (n slots, a power of two, each the
 * index + 1 of one of the elements of stride bytes at elems, each starting
 * with its struct net_prefix; 0 empty): where it is, or the empty one
 * where it would go. Open addressing, linear probing: a policy of 10 000
 * destinations made the linear search of every earlier key the larger
 * part of compiling it. (hsearch_r wants string keys.)
 */
static size_t prefix_slot(const uint32_t *index, size_t n, const void *elems, size_t stride,
			  const uint8_t addr[16], unsigned prefix)
{
	size_t i = key_hash(addr, prefix) & (n - 1);
	const struct net_prefix *e;

	while (index[i]) {
		e = (const struct net_prefix *)((const char *)elems + (index[i] - 1) * stride);
		if (e->prefix == prefix && !memcmp(e->addr, addr, 16))
			break;
		i = (i + 1) & (n - 1);
	}
	return i;
}

static size_t key_slot(const struct net_set *s, const uint8_t addr[16], unsigned prefix)
{
	return prefix_slot(s->key_index, s->n_index, s->keys, sizeof(*s->keys), addr, prefix);
}

/* Keep the index at twice the keys' capacity: rebuilt when the keys grow. */
static int index_keys(struct net_set *s)
{
	size_t want = s->cap_keys * 2, i;
	uint32_t *idx;

	if (s->n_index >= want)
		return 0;
	idx = calloc(want, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	free(s->key_index);
	s->key_index = idx;
	s->n_index = want;
	for (i = 0; i < s->n_keys; i++)
		s->key_index[key_slot(s, s->keys[i].net.addr, s->keys[i].net.prefix)] =
			(uint32_t)i + 1;
	return 0;
}

static int add_key(struct net_set *s, const uint8_t addr[16], unsigned prefix,
		   const struct policy_place *at)
{
	size_t slot;

	if (grow((void **)&s->keys, &s->cap_keys, s->n_keys, sizeof(*s->keys)) || index_keys(s))
		return -ENOMEM;
	slot = key_slot(s, addr, prefix);
	if (s->key_index[slot])
		return 0;
	memcpy(s->keys[s->n_keys].net.addr, addr, 16);
	s->keys[s->n_keys].net.prefix = prefix;
	s->keys[s->n_keys].at = at;
	s->key_index[slot] = (uint32_t)++s->n_keys;
	return 0;
}

/*
 * The port rules of destination d at addr/prefix: one for each grant that
 * is first to give some of the actions h holds, with those actions.
 */
static int add_rules(struct net_set *s, const struct policy_dest *d, const uint8_t addr[16],
		     unsigned prefix, const struct holding *h, uint32_t object, size_t backend)
{
	size_t first = s->n_rules, k;
	unsigned bit;

	for (bit = PF_ACCESS_CONNECT; bit <= PF_ACCESS_SEND; bit <<= 1) {
		uint32_t rule_id = h->rule[action_index(bit)];
		struct net_rule *r = NULL;

		if (!(h->access & bit))
			continue;
		for (k = first; k < s->n_rules; k++)
			if (s->rules[k].rule.rule_id == rule_id)
				r = &s->rules[k];
		if (!r) {
			if (grow((void **)&s->rules, &s->cap_rules, s->n_rules, sizeof(*s->rules)))
				return -ENOMEM;
			r = &s->rules[s->n_rules++];
			memset(r, 0, sizeof(*r));
			memcpy(r->addr, addr, 16);
			r->prefix = prefix;
			r->backend = backend;
			r->rule.port_lo = d->port_lo;
			r->rule.port_hi = d->port_hi;
			r->rule.proto = d->proto;
			r->rule.rule_id = rule_id;
			r->rule.object = object;
		}
		r->rule.access |= (uint8_t)bit;
		if (h->audited & bit)
			r->rule.audited |= (uint8_t)bit;
	}
	return 0;
}

/* Resolve the hostname of destination d (tagged object) into out->names. */
static int resolve_dest(struct compiler *c, const struct policy_dest *d, uint32_t object,
			const struct compiled_name **name)
{
	struct compiled_name *nm = &c->out->names[c->out->n_names];
	char why[128] = "";
	int n;

	/*
	 * NEEDSWORK: a name is resolved once, when the policy is applied; an
	 * address it gains later is denied, and one it loses stays allowed,
	 * until the policy is applied again.
	 */
	if (c->env->resolve_name)
		n = c->env->resolve_name(d->host, nm->addrs, COMPILE_NAME_ADDRS_MAX, why,
					 sizeof(why), c->env->name_ctx);
	else
		n = compile_resolve_getaddrinfo(d->host, nm->addrs, COMPILE_NAME_ADDRS_MAX, why,
						sizeof(why), NULL);
	if (n < 0)
		return fail_at(c, &d->at, "cannot resolve %s: %s", d->host,
			       why[0] ? why : strerror(-n));
	if (n == 0)
		return fail_at(c, &d->at, "cannot resolve %s: no IPv4 or IPv6 address", d->host);
	if (n > COMPILE_NAME_ADDRS_MAX)
		return fail_at(c, &d->at, "%s resolves to %d addresses: at most %d per name",
			       d->host, n, COMPILE_NAME_ADDRS_MAX);
	nm->object = object;
	nm->host = d->host;
	nm->n_addrs = (size_t)n;
	c->out->n_names++;
	*name = nm;
	return 0;
}

/* Destination d, tagged object, held as h: its rules and its prefix (or its addresses). */
static int add_dest(struct compiler *c, struct net_set *s, const struct policy_dest *d,
		    uint32_t object, const struct holding *h, size_t backend)
{
	const struct compiled_name *nm = NULL;
	size_t i;
	int rc;

	if (!d->host) {
		rc = add_rules(s, d, d->addr, d->prefix, h, object, backend);
		return rc ?: add_key(s, d->addr, d->prefix, &d->at);
	}
	rc = resolve_dest(c, d, object, &nm);
	for (i = 0; !rc && i < nm->n_addrs; i++) {
		/* a host: /32 for IPv4 as ::ffff:a.b.c.d */
		rc = add_rules(s, d, nm->addrs[i], 128, h, object, backend);
		rc = rc ?: add_key(s, nm->addrs[i], 128, &d->at);
	}
	return rc;
}

/* Backend b, held as h: its destinations, and its exceptions as prefixes of their own. */
static int add_backend(struct compiler *c, struct net_set *s, size_t b)
{
	const struct policy_backend *be = &c->p->backends[b];
	const struct holding *h = &c->backends[b];
	size_t i;
	int rc;

	if (!(h->access & POLICY_NET_ACTIONS))
		return 0;
	for (i = 0; i < be->n_dests; i++) {
		rc = add_dest(c, s, &be->dests[i], POLICY_ID(POLICY_ID_BACKEND_DEST, b, i), h, b);
		if (rc)
			return rc;
	}
	for (i = 0; i < be->n_excepts; i++) {
		const struct policy_except *e = &be->excepts[i];

		if (grow((void **)&s->excepts, &s->cap_excepts, s->n_excepts, sizeof(*s->excepts)))
			return -ENOMEM;
		s->excepts[s->n_excepts++] =
			(struct net_except){.addr = e->addr, .prefix = e->prefix, .backend = b};
		rc = add_key(s, e->addr, e->prefix, &e->at);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The rules and the exceptions of one prefix (its address masked to its
 * length), chained in the order they were added: a key finds every rule
 * and exception whose prefix holds it by one lookup per prefix length in
 * use, instead of trying every rule (a policy of 10 000 destinations took
 * 300 ms to compile that way; see docs/benchmarks.md, the compile row).
 */
struct net_group {
	struct net_prefix net;        /* its address masked to its length */
	uint32_t rule, last_rule;     /* first and last rule index + 1; 0 none */
	uint32_t except, last_except; /* likewise, of exceptions */
};

/* The groups of a net_set, and what compile_prefix needs beside them. */
struct net_groups {
	struct net_group *v;
	size_t n, cap;
	uint32_t *index; /* groups' indexes + 1 by hash of (addr, prefix), 0 empty */
	size_t n_index;  /* a power of two, at least twice cap */
	uint32_t *rule_next, *except_next;   /* the chains: next index + 1, 0 the end */
	bool rule_len[129], except_len[129]; /* prefix lengths in use */
	uint32_t *excepting;                 /* by backend: the key (index + 1) it excepts now */
};

/* addr's first plen bits, the rest zero. */
static void mask_addr(uint8_t out[16], const uint8_t addr[16], unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	memcpy(out, addr, full);
	memset(out + full, 0, 16 - full);
	if (rest)
		out[full] = addr[full] & (uint8_t)(0xff00 >> rest);
}

static size_t group_slot(const struct net_groups *g, const uint8_t addr[16], unsigned prefix)
{
	return prefix_slot(g->index, g->n_index, g->v, sizeof(*g->v), addr, prefix);
}

/* The group of addr/prefix, made if new; NULL when out of memory. */
static struct net_group *group_of(struct net_groups *g, const uint8_t addr[16], unsigned prefix)
{
	uint8_t m[16];
	size_t slot;

	mask_addr(m, addr, prefix);
	slot = group_slot(g, m, prefix);
	if (g->index[slot])
		return &g->v[g->index[slot] - 1];
	if (g->n == g->cap)
		return NULL; /* cap counts every rule and exception: cannot happen */
	memset(&g->v[g->n], 0, sizeof(g->v[g->n]));
	memcpy(g->v[g->n].net.addr, m, 16);
	g->v[g->n].net.prefix = prefix;
	g->index[slot] = (uint32_t)++g->n;
	return &g->v[g->n - 1];
}

/* The group holding exactly addr masked to plen, or NULL. */
static const struct net_group *group_find(const struct net_groups *g, const uint8_t addr[16],
					  unsigned plen)
{
	uint8_t m[16];
	size_t slot;

	mask_addr(m, addr, plen);
	slot = group_slot(g, m, plen);
	return g->index[slot] ? &g->v[g->index[slot] - 1] : NULL;
}

/* Append element i to the chain from *first to *last, linked through next (indexes + 1). */
static void chain(uint32_t *first, uint32_t *last, uint32_t *next, size_t i)
{
	if (*last)
		next[*last - 1] = (uint32_t)i + 1;
	else
		*first = (uint32_t)i + 1;
	*last = (uint32_t)i + 1;
}

/* Chain every rule and exception of s into the group of its prefix, in the order added. */
static int group_rules(const struct net_set *s, size_t n_backends, struct net_groups *g)
{
	struct net_group *e;
	size_t i;

	g->cap = s->n_rules + s->n_excepts;
	for (g->n_index = 16; g->n_index < 2 * g->cap; g->n_index *= 2)
		;
	g->v = calloc(g->cap + 1, sizeof(*g->v));
	g->index = calloc(g->n_index, sizeof(*g->index));
	g->rule_next = calloc(s->n_rules + 1, sizeof(*g->rule_next));
	g->except_next = calloc(s->n_excepts + 1, sizeof(*g->except_next));
	g->excepting = calloc(n_backends + 1, sizeof(*g->excepting));
	if (!g->v || !g->index || !g->rule_next || !g->except_next || !g->excepting)
		return -ENOMEM;
	for (i = 0; i < s->n_rules; i++) {
		e = group_of(g, s->rules[i].addr, s->rules[i].prefix);
		if (!e)
			return -ENOMEM;
		chain(&e->rule, &e->last_rule, g->rule_next, i);
		g->rule_len[s->rules[i].prefix] = true;
	}
	for (i = 0; i < s->n_excepts; i++) {
		e = group_of(g, s->excepts[i].addr, s->excepts[i].prefix);
		if (!e)
			return -ENOMEM;
		chain(&e->except, &e->last_except, g->except_next, i);
		g->except_len[s->excepts[i].prefix] = true;
	}
	return 0;
}

static void groups_release(struct net_groups *g)
{
	free(g->v);
	free(g->index);
	free(g->rule_next);
	free(g->except_next);
	free(g->excepting);
}

/*
 * The entry for key k (index ki of s->keys): the rules of every
 * destination whose prefix holds it, less those whose backend excepts it,
 * longest prefix first, then in the order they were added.
 */
static int compile_prefix(struct compiler *c, const struct net_set *s, struct net_groups *g,
			  size_t ki, struct compiled_net *n)
{
	const struct net_key *k = &s->keys[ki];
	const uint32_t mark = (uint32_t)ki + 1;
	size_t idx[PF_PORTS_PER_PREFIX];
	const struct net_group *e;
	size_t i, count = 0;
	unsigned len;
	uint32_t j;
	char net[64];

	/* the backends excepting k: those of every exception whose prefix holds it */
	for (len = 0; len <= k->net.prefix; len++) {
		if (!g->except_len[len] || !(e = group_find(g, k->net.addr, len)))
			continue;
		for (j = e->except; j; j = g->except_next[j - 1])
			g->excepting[s->excepts[j - 1].backend] = mark;
	}

	/* longest prefix first; a group's rules are in the order they were added */
	for (len = k->net.prefix + 1; len-- > 0;) {
		if (!g->rule_len[len] || !(e = group_find(g, k->net.addr, len)))
			continue;
		for (j = e->rule; j; j = g->rule_next[j - 1]) {
			const struct net_rule *r = &s->rules[j - 1];

			if (r->backend != SIZE_MAX && g->excepting[r->backend] == mark)
				continue;
			if (count == PF_PORTS_PER_PREFIX) {
				policy_net_format(k->net.addr, k->net.prefix, net, sizeof(net));
				return fail_at(
					c, k->at,
					"too many port rules for %s: at most %d, counting those of shorter prefixes that contain it",
					net, PF_PORTS_PER_PREFIX);
			}
			idx[count++] = j - 1;
		}
	}

	memset(n, 0, sizeof(*n));
	n->key.prefixlen = 64 + k->net.prefix;
	n->key.slot = htonl(c->out->slot);
	n->key.gen = htonl(c->out->gen);
	memcpy(n->key.addr, k->net.addr, sizeof(n->key.addr));
	n->val.count = (uint32_t)count;
	for (i = 0; i < count; i++)
		n->val.rules[i] = s->rules[idx[i]].rule;
	return 0;
}

/* How many hostname destinations a may use, for out->names. */
static size_t count_hosts(const struct compiler *c)
{
	size_t i, j, n = 0;

	for (i = 0; i < c->n_backend_order; i++) {
		const struct policy_backend *b = &c->p->backends[c->backend_order[i]];

		for (j = 0; j < b->n_dests; j++)
			n += b->dests[j].host != NULL;
	}
	for (j = 0; j < c->a->n_dests; j++)
		n += c->a->dests[j].host != NULL;
	return n;
}

static int compile_nets(struct compiler *c)
{
	const struct policy_agent *a = c->a;
	struct net_set s = {0};
	struct net_groups g = {0};
	size_t i, n_hosts = count_hosts(c);
	int rc = 0;

	if (n_hosts) {
		c->out->names = calloc(n_hosts, sizeof(*c->out->names));
		if (!c->out->names)
			return -ENOMEM;
	}
	for (i = 0; !rc && i < c->n_backend_order; i++)
		rc = add_backend(c, &s, c->backend_order[i]);
	for (i = 0; !rc && i < a->n_dests; i++) {
		const struct policy_dest *d = &a->dests[i];
		uint32_t id = POLICY_ID(POLICY_ID_OWN_DEST, 0, i);
		struct holding h = own_holding(d->access, d->audited, id);

		rc = add_dest(c, &s, d, id, &h, SIZE_MAX);
	}
	if (rc || !s.n_keys)
		goto out;

	c->out->nets = calloc(s.n_keys, sizeof(*c->out->nets));
	if (!c->out->nets) {
		rc = -ENOMEM;
		goto out;
	}
	rc = group_rules(&s, c->p->n_backends, &g);
	for (i = 0; !rc && i < s.n_keys; i++) {
		rc = compile_prefix(c, &s, &g, i, &c->out->nets[i]);
		if (!rc)
			c->out->n_nets++;
	}
out:
	groups_release(&g);
	free(s.rules);
	free(s.keys);
	free(s.key_index);
	free(s.excepts);
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

int compile_agent(const struct policy *p, const struct policy_agent *a, uint32_t slot, uint32_t gen,
		  const struct compile_env *env, struct compiled *out, struct policy_error *err)
{
	static const struct compile_env defaults;
	struct compiler c = {.p = p, .a = a, .env = env ? env : &defaults, .out = out, .err = err};
	int rc;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", p->file ? p->file : "(policy)");
	out->slot = slot;
	out->gen = gen;

	if (slot >= PF_MAX_INSTANCES) {
		rc = policy_error_set(err, 0, 0, "instance slot %u out of range: at most %d", slot,
				      PF_MAX_INSTANCES - 1);
		goto out;
	}
	rc = compiler_init(&c);
	if (!rc)
		rc = compile_trees(&c);
	if (!rc)
		rc = compile_nets(&c);
out:
	compiler_release(&c);
	if (rc == -ENOMEM) {
		snprintf(err->file, sizeof(err->file), "%s", p->file ? p->file : "(policy)");
		policy_error_set(err, 0, 0, "out of memory");
	}
	if (rc) {
		compiled_release(out);
	} else {
		memset(err, 0, sizeof(*err));
	}
	return rc;
}

int compile_policy_check(const struct policy *p, const struct compile_env *env,
			 struct policy_error *err)
{
	struct compiled c;
	size_t i;
	int rc;

	memset(err, 0, sizeof(*err));
	for (i = 0; i < p->n_agents; i++) {
		rc = compile_agent(p, &p->agents[i], 0, 1, env, &c, err);
		compiled_release(&c);
		if (rc)
			return rc;
	}
	return 0;
}

void compiled_release(struct compiled *c)
{
	free(c->trees);
	free(c->anchors);
	free(c->nets);
	free(c->names);
	memset(c, 0, sizeof(*c));
}
