// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_compile.c - one agent's view of a policy as kernel map entries:
 * class trees tagged for every agent (deepest tree decides), shipped
 * classes only when used, the first grant per action, backends with their
 * exceptions carved out, connect and send, generations in every key, and
 * every compile error with its place. Policies are built by hand (the
 * parser's output, exactly as policy.h describes it); the network entries
 * are checked both as entries and as decisions through a reference
 * longest-prefix lookup and bpf/decide.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bpf/decide.h"
#include "policy/compile.h"

/* ---- a policy built by hand ---- */

static char *pb_files[] = {"p.yaml", "other.yaml"};

static void *pb_grow(void *v, size_t n, size_t size)
{
	void *r = realloc(v, (n + 1) * size);

	assert_non_null(r);
	memset((char *)r + n * size, 0, size);
	return r;
}

/* append a zeroed element to arr (of n), returning it */
#define PB_PUSH(arr, n) ((arr) = pb_grow((arr), (n), sizeof(*(arr))), &(arr)[(n)++])

static struct policy_place at_in(const char *file, unsigned line, unsigned column)
{
	return (struct policy_place){.file = file, .line = line, .column = column};
}

static struct policy_place at(unsigned line)
{
	return at_in("p.yaml", line, 7);
}

static struct policy *pb_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->file = "p.yaml";
	p->files = pb_files;
	p->n_files = 2;
	return p;
}

static size_t pb_class(struct policy *p, const char *name, struct policy_place where)
{
	struct policy_class *c = PB_PUSH(p->classes, p->n_classes);

	c->name = (char *)name;
	c->at = where;
	return p->n_classes - 1;
}

/* a class pinfold ships: no place, its trees optional */
static size_t pb_shipped(struct policy *p, const char *name, bool private_tmp)
{
	size_t i = pb_class(p, name, at_in(NULL, 0, 0));

	p->classes[i].shipped = true;
	p->classes[i].private_tmp = private_tmp;
	return i;
}

static void pb_tree(struct policy *p, size_t c, const char *path, struct policy_place where)
{
	struct policy_class *cl = &p->classes[c];
	struct policy_tree *t = PB_PUSH(cl->trees, cl->n_trees);

	t->path = (char *)path;
	t->optional = cl->shipped;
	t->at = cl->shipped ? at_in(NULL, 0, 0) : where;
}

/* "10.0.0.0/8", "10.1.2.3", "fd00::/8", "any" as addr/prefix; false for a hostname */
static bool pb_net(const char *text, uint8_t addr[16], unsigned *prefix)
{
	char buf[64];
	char *slash;
	bool v4;

	memset(addr, 0, 16);
	if (!strcmp(text, "any")) {
		*prefix = 0;
		return true;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	v4 = inet_pton(AF_INET, buf, addr + 12) == 1;
	if (v4)
		addr[10] = addr[11] = 0xff;
	else if (inet_pton(AF_INET6, buf, addr) != 1)
		return false;
	*prefix = slash ? (v4 ? 96 : 0) + (unsigned)atoi(slash + 1) : 128;
	return true;
}

static void pb_dest_fill(struct policy_dest *d, const char *to, uint16_t lo, uint16_t hi,
			 uint8_t proto, struct policy_place where)
{
	d->text = (char *)to;
	if (!pb_net(to, d->addr, &d->prefix))
		d->host = (char *)to;
	d->port_lo = lo;
	d->port_hi = hi;
	d->proto = proto;
	d->at = where;
}

static size_t pb_backend(struct policy *p, const char *name, struct policy_place where)
{
	struct policy_backend *b = PB_PUSH(p->backends, p->n_backends);

	b->name = (char *)name;
	b->at = where;
	return p->n_backends - 1;
}

static void pb_dest(struct policy *p, size_t b, const char *to, uint16_t port, uint8_t proto,
		    struct policy_place where)
{
	struct policy_backend *be = &p->backends[b];

	pb_dest_fill(PB_PUSH(be->dests, be->n_dests), to, port, port, proto, where);
}

static void pb_except(struct policy *p, size_t b, const char *net, struct policy_place where)
{
	struct policy_backend *be = &p->backends[b];
	struct policy_except *e = PB_PUSH(be->excepts, be->n_excepts);

	e->text = (char *)net;
	assert_true(pb_net(net, e->addr, &e->prefix));
	e->at = where;
}

static size_t pb_family(struct policy *p, const char *name, struct policy_place where)
{
	struct policy_family *f = PB_PUSH(p->families, p->n_families);

	f->name = (char *)name;
	f->at = where;
	return p->n_families - 1;
}

static void pb_grant(struct policy *p, size_t f, unsigned on, size_t target, unsigned actions,
		     bool audited, struct policy_place where)
{
	struct policy_family *fa = &p->families[f];
	struct policy_grant *g = PB_PUSH(fa->grants, fa->n_grants);

	g->on = on;
	g->target = target;
	g->actions = actions;
	g->audited = audited;
	g->at = where;
}

static size_t pb_agent(struct policy *p, const char *name)
{
	struct policy_agent *a = PB_PUSH(p->agents, p->n_agents);

	a->name = (char *)name;
	a->at = at(1);
	return p->n_agents - 1;
}

static void pb_uses(struct policy *p, size_t a, size_t f)
{
	struct policy_agent *ag = &p->agents[a];

	PB_PUSH(ag->families, ag->n_families)->family = f;
}

static void pb_own_tree(struct policy *p, size_t a, const char *path, unsigned access, bool audited,
			struct policy_place where)
{
	struct policy_agent *ag = &p->agents[a];
	struct policy_tree *t = PB_PUSH(ag->trees, ag->n_trees);

	t->path = (char *)path;
	t->access = access;
	t->audited = audited;
	t->at = where;
}

static void pb_own_dest(struct policy *p, size_t a, const char *to, uint16_t lo, uint16_t hi,
			uint8_t proto, unsigned access, bool audited, struct policy_place where)
{
	struct policy_agent *ag = &p->agents[a];
	struct policy_dest *d = PB_PUSH(ag->dests, ag->n_dests);

	pb_dest_fill(d, to, lo, hi, proto, where);
	d->access = access;
	d->audited = audited;
}

/* the builder's strings are literals: only the arrays are freed */
static void pb_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->n_classes; i++)
		free(p->classes[i].trees);
	for (i = 0; i < p->n_backends; i++) {
		free(p->backends[i].dests);
		free(p->backends[i].excepts);
	}
	for (i = 0; i < p->n_families; i++)
		free(p->families[i].grants);
	for (i = 0; i < p->n_agents; i++) {
		free(p->agents[i].families);
		free(p->agents[i].trees);
		free(p->agents[i].dests);
	}
	free(p->classes);
	free(p->backends);
	free(p->families);
	free(p->agents);
	free(p);
}

/* ---- the world: files and names ---- */

/* A fake file system: path -> (dev, ino), or an errno. */
struct fake_file {
	const char *path;
	uint64_t dev, ino;
	int err;
};

static const struct fake_file fake_fs[] = {
	/* the directories above the trees, for their anchors */
	{"/srv", 0x800001, 2, 0},
	{"/usr", 0x800003, 2, 0},
	{"/etc", 0x800003, 3, 0},
	{"/tmp", 0x800004, 2, 0},
	{"/dev", 0x5, 1, 0},
	{"/srv/ehr", 0x800001, 100, 0},
	{"/srv/ehr/psych", 0x800001, 101, 0},
	{"/srv/ehr/archive", 0x800001, 200, 0},
	{"/srv/link-to-ehr", 0x800001, 100, 0},
	{"/srv/other-dev", 0x800002, 100, 0},
	{"/srv/billing", 0x800001, 300, 0},
	{"/srv/secret", 0, 0, EACCES},
	{"/usr/lib", 0x800003, 10, 0},
	{"/lib", 0x800003, 10, 0}, /* merged /usr: the same directory */
	{"/etc/ld.so.cache", 0x800003, 20, 0},
	{"/usr/bin", 0x800003, 30, 0},
	{"/bin", 0x800003, 30, 0},
	{"/tmp/pf-tmp.1", 0x800004, 40, 0},
	{"/srv/tmp-alias", 0x800004, 40, 0},
	{"/srv/libs-alias", 0x800003, 10, 0},
	{"/dev/null", 0x5, 3, 0},
	{NULL, 0, 0, 0},
};

static int fake_resolve(const char *path, uint64_t *dev, uint64_t *ino, void *ctx)
{
	const struct fake_file *f;

	for (f = ctx; f->path; f++) {
		if (strcmp(f->path, path))
			continue;
		if (f->err)
			return -f->err;
		*dev = f->dev;
		*ino = f->ino;
		return 0;
	}
	return -ENOENT;
}

/* text is an IPv4 or IPv6 address; IPv4 comes back v4-mapped */
static void addr16(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

/* A fake name service: host -> up to four addresses, or an error. */
struct fake_name {
	const char *host;
	const char *addrs[4];
	int n; /* how many the resolver reports: may exceed the addresses listed */
};

static const struct fake_name fake_dns[] = {
	{"ehr.example.internal", {"10.1.2.3", "fd00::3"}, 2},
	{"billing.example.internal", {"10.1.2.3"}, 1},
	{"dual.example.internal", {"10.9.0.1", "10.9.0.2", "2001:db8::1"}, 3},
	{"rebind.example.internal", {"203.0.113.5", "10.7.7.7"}, 2},
	{"huge.example.internal", {"10.0.0.1"}, COMPILE_NAME_ADDRS_MAX + 1},
	{"empty.example.internal", {NULL}, 0},
	{NULL, {NULL}, 0},
};

static int fake_resolve_name(const char *host, uint8_t (*addrs)[16], size_t max, char *why,
			     size_t why_len, void *ctx)
{
	const struct fake_name *f;
	int i;

	for (f = ctx; f->host; f++) {
		if (strcmp(f->host, host))
			continue;
		for (i = 0; i < f->n && i < 4 && (size_t)i < max && f->addrs[i]; i++)
			addr16(f->addrs[i], addrs[i]);
		return f->n;
	}
	snprintf(why, why_len, "no such name in the fake");
	return -ENOENT;
}

static int compile_env(const struct policy *p, size_t agent, uint32_t slot, uint32_t gen,
		       const char *private_tmp, struct compiled *c, struct policy_error *err)
{
	const struct compile_env env = {
		.resolve = fake_resolve,
		.resolve_ctx = (void *)fake_fs,
		.resolve_name = fake_resolve_name,
		.name_ctx = (void *)fake_dns,
		.private_tmp = private_tmp,
	};

	return compile_agent(p, &p->agents[agent], slot, gen, &env, c, err);
}

static int compile_one(const struct policy *p, size_t agent, struct compiled *c,
		       struct policy_error *err)
{
	return compile_env(p, agent, 5, 1, NULL, c, err);
}

static void compile_ok(const struct policy *p, size_t agent, struct compiled *c)
{
	struct policy_error err;

	if (compile_one(p, agent, c, &err))
		fail_msg("expected agent %zu to compile, got %s:%u:%u: %s", agent, err.file,
			 err.line, err.column, err.msg);
}

/* Compiling must fail with msg at file:line:column, leaving nothing behind. */
static void compile_fails(const struct policy *p, size_t agent, const char *file, unsigned line,
			  unsigned column, const char *msg)
{
	struct policy_error err;
	struct compiled c;

	assert_int_equal(compile_one(p, agent, &c, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_string_equal(err.file, file);
	assert_int_equal(err.line, line);
	assert_int_equal(err.column, column);
	assert_null(c.trees);
	assert_null(c.nets);
	assert_null(c.names);
	assert_int_equal(c.n_trees + c.n_nets + c.n_names, 0);
}

/* ---- lookups as the kernel makes them ---- */

/* The pf_trees value of the tree at path (through the fake), or NULL when untagged. */
static const struct pf_tree *tree_of(const struct compiled *c, const char *path)
{
	uint64_t dev = 0, ino = 0;
	size_t i;

	assert_int_equal(fake_resolve(path, &dev, &ino, (void *)fake_fs), 0);
	for (i = 0; i < c->n_trees; i++) {
		const struct pf_tree_key *k = &c->trees[i].key;

		if (k->slot == c->slot && k->gen == c->gen && k->dev == dev && k->ino == ino)
			return &c->trees[i].val;
	}
	return NULL;
}

/* The entry whose key is exactly (slot, gen, addr/prefix), prefix in IPv6 bits. */
static const struct compiled_net *find_key(const struct compiled *c, const char *addr,
					   unsigned prefix)
{
	uint8_t a[16];
	size_t i;

	addr16(addr, a);
	for (i = 0; i < c->n_nets; i++)
		if (c->nets[i].key.prefixlen == 64 + prefix &&
		    c->nets[i].key.slot == htonl(c->slot) && c->nets[i].key.gen == htonl(c->gen) &&
		    !memcmp(c->nets[i].key.addr, a, 16))
			return &c->nets[i];
	return NULL;
}

/*
 * Reference BPF_MAP_TYPE_LPM_TRIE lookup of (slot, gen, addr): the longest
 * key whose first prefixlen bits match.
 */
static const struct compiled_net *lpm_lookup(const struct compiled *c, uint32_t slot, uint32_t gen,
					     const char *addr)
{
	const struct compiled_net *best = NULL;
	uint8_t data[24], key[24];
	size_t i;
	unsigned b;

	slot = htonl(slot);
	gen = htonl(gen);
	memcpy(data, &slot, 4);
	memcpy(data + 4, &gen, 4);
	addr16(addr, data + 8);
	for (i = 0; i < c->n_nets; i++) {
		const struct compiled_net *n = &c->nets[i];

		assert_true(n->key.prefixlen >= 64 && n->key.prefixlen <= 64 + 128);
		memcpy(key, &n->key.slot, 4);
		memcpy(key + 4, &n->key.gen, 4);
		memcpy(key + 8, n->key.addr, 16);
		for (b = 0; b < n->key.prefixlen; b++)
			if ((key[b / 8] ^ data[b / 8]) & (0x80 >> (b % 8)))
				break;
		if (b == n->key.prefixlen && (!best || n->key.prefixlen > best->key.prefixlen))
			best = n;
	}
	return best;
}

/* The port rule that gives need for addr:port/proto, with the kernel's steps; NULL: denied. */
static const struct pf_port_rule *net_rule_at(const struct compiled *c, uint32_t slot, uint32_t gen,
					      const char *addr, uint16_t port, uint8_t proto,
					      uint32_t need)
{
	const struct compiled_net *n = lpm_lookup(c, slot, gen, addr);

	if (!n)
		return NULL;
	assert_true(n->val.count <= PF_PORTS_PER_PREFIX);
	return pf_decide_port(&n->val, port, proto, need);
}

/* The grant that allows addr:port/proto for need, or PF_RULE_NONE. */
static uint32_t decide(const struct compiled *c, const char *addr, uint16_t port, uint8_t proto,
		       uint32_t need)
{
	const struct pf_port_rule *r = net_rule_at(c, c->slot, c->gen, addr, port, proto, need);

	return r ? r->rule_id : PF_RULE_NONE;
}

static uint32_t connect_tcp(const struct compiled *c, const char *addr, uint16_t port)
{
	return decide(c, addr, port, IPPROTO_TCP, PF_ACCESS_CONNECT);
}

#define GRANT(f, g) POLICY_ID(POLICY_ID_GRANT, f, g)
#define CLASS_TREE(c, t) POLICY_ID(POLICY_ID_CLASS_TREE, c, t)
#define BACKEND_DEST(b, d) POLICY_ID(POLICY_ID_BACKEND_DEST, b, d)
#define OWN_TREE(i) POLICY_ID(POLICY_ID_OWN_TREE, 0, i)
#define OWN_DEST(j) POLICY_ID(POLICY_ID_OWN_DEST, 0, j)
#define RW POLICY_ACCESS_READ_WRITE
#define ALL_FILE POLICY_FILE_ACTIONS

static void assert_tree(const struct pf_tree *t, uint32_t object, uint32_t access, uint32_t audited)
{
	unsigned i;

	assert_non_null(t);
	assert_int_equal(t->object, object);
	assert_int_equal(t->access, access);
	assert_int_equal(t->audited, audited);
	/* no rule where there is no access */
	for (i = 0; i < PF_FILE_ACCESSES; i++)
		if (!(access & PF_ACCESS_BIT(i)))
			assert_int_equal(t->rule[i], PF_RULE_NONE);
}

/* ---- files ---- */

/*
 * pinfold.h's example: classes phi.clinical /srv/ehr and phi.psych
 * /srv/ehr/psych, the agent may read phi.clinical: psych notes below the
 * clinical tree are judged by phi.psych alone.
 */
static void test_deepest_tree_decides_across_classes(void **state)
{
	struct policy *p = pb_new();
	const struct pf_tree *clinical, *psych;
	size_t cl, ps, f, a;
	struct compiled c;

	(void)state;
	cl = pb_class(p, "phi.clinical", at(3));
	pb_tree(p, cl, "/srv/ehr", at(4));
	ps = pb_class(p, "phi.psych", at(5));
	pb_tree(p, ps, "/srv/ehr/psych", at(6));
	f = pb_family(p, "clinical-read", at(8));
	pb_grant(p, f, POLICY_ON_CLASS, cl, POLICY_READ, false, at(9));
	a = pb_agent(p, "scheduling");
	pb_uses(p, a, f);

	compile_ok(p, a, &c);
	assert_int_equal(c.n_trees, 2);
	clinical = tree_of(&c, "/srv/ehr");
	psych = tree_of(&c, "/srv/ehr/psych");
	assert_tree(clinical, CLASS_TREE(cl, 0), PF_ACCESS_READ, 0);
	assert_int_equal(clinical->rule[0], GRANT(f, 0));
	assert_tree(psych, CLASS_TREE(ps, 0), 0, 0);

	/* open /srv/ehr/a/chart.txt O_RDONLY -> phi.clinical decides: allowed */
	assert_int_equal(pf_decide_file(clinical, 0, PF_ACCESS_READ), PF_REASON_RULE);
	assert_int_equal(pf_decide_file_rule(clinical, PF_ACCESS_READ), GRANT(f, 0));
	/* open /srv/ehr/psych/n.txt O_RDONLY -> phi.psych decides: denied */
	assert_int_equal(pf_decide_file(psych, 0, PF_ACCESS_READ), PF_REASON_ACCESS);
	assert_int_equal(pf_decide_file_rule(psych, PF_ACCESS_READ), PF_RULE_NONE);
	/* writing the chart is not granted */
	assert_int_equal(pf_decide_file(clinical, 0, PF_ACCESS_WRITE), PF_REASON_ACCESS);
	compiled_release(&c);
	pb_free(p);
}

/* Classification belongs to the data: an agent without any grant still gets every class tree. */
static void test_ungranted_class_trees_are_tagged_with_access_0(void **state)
{
	struct policy *p = pb_new();
	size_t ehr, bill, f, clerk, idle;
	struct compiled c;

	(void)state;
	ehr = pb_class(p, "phi.clinical", at(3));
	pb_tree(p, ehr, "/srv/ehr", at(4));
	pb_tree(p, ehr, "/srv/other-dev", at(5));
	bill = pb_class(p, "billing", at(6));
	pb_tree(p, bill, "/srv/billing", at(7));
	f = pb_family(p, "billing-rw", at(9));
	pb_grant(p, f, POLICY_ON_CLASS, bill, RW, true, at(10));
	clerk = pb_agent(p, "clerk");
	pb_uses(p, clerk, f);
	idle = pb_agent(p, "idle");

	compile_ok(p, idle, &c);
	assert_int_equal(c.n_trees, 3);
	assert_tree(tree_of(&c, "/srv/ehr"), CLASS_TREE(ehr, 0), 0, 0);
	assert_tree(tree_of(&c, "/srv/other-dev"), CLASS_TREE(ehr, 1), 0, 0);
	assert_tree(tree_of(&c, "/srv/billing"), CLASS_TREE(bill, 0), 0, 0);
	assert_int_equal(c.n_nets, 0);
	compiled_release(&c);

	compile_ok(p, clerk, &c);
	assert_int_equal(c.n_trees, 3);
	assert_tree(tree_of(&c, "/srv/ehr"), CLASS_TREE(ehr, 0), 0, 0);
	/* an audited grant reports every action it gives */
	assert_tree(tree_of(&c, "/srv/billing"), CLASS_TREE(bill, 0), RW, RW);
	compiled_release(&c);
	pb_free(p);
}

/* The first grant giving an action is its rule: families in the agent's order, then grants. */
static void test_first_grant_per_action(void **state)
{
	struct policy *p = pb_new();
	const struct pf_tree *t;
	size_t cl, f1, f2, a, b;
	struct compiled c;

	(void)state;
	cl = pb_class(p, "phi.intake", at(3));
	pb_tree(p, cl, "/srv/ehr", at(4));
	f1 = pb_family(p, "intake-read", at(6));
	pb_grant(p, f1, POLICY_ON_CLASS, cl, POLICY_READ, true, at(7));
	f2 = pb_family(p, "intake-rw", at(8));
	pb_grant(p, f2, POLICY_ON_CLASS, cl, POLICY_EXEC, false, at(9));
	pb_grant(p, f2, POLICY_ON_CLASS, cl, RW, false, at(10));
	a = pb_agent(p, "a");
	pb_uses(p, a, f1);
	pb_uses(p, a, f2);
	b = pb_agent(p, "b");
	pb_uses(p, b, f2);
	pb_uses(p, b, f1);

	compile_ok(p, a, &c);
	t = tree_of(&c, "/srv/ehr");
	assert_tree(t, CLASS_TREE(cl, 0), ALL_FILE, PF_ACCESS_READ);
	assert_int_equal(t->rule[0], GRANT(f1, 0)); /* read */
	assert_int_equal(t->rule[1], GRANT(f2, 1)); /* write */
	assert_int_equal(t->rule[2], GRANT(f2, 1)); /* create */
	assert_int_equal(t->rule[3], GRANT(f2, 1)); /* delete */
	assert_int_equal(t->rule[4], GRANT(f2, 0)); /* exec */
	assert_int_equal(pf_decide_file_rule(t, PF_ACCESS_EXEC), GRANT(f2, 0));
	compiled_release(&c);

	/* the other order: f2 reads first; f1's grant is still audited */
	compile_ok(p, b, &c);
	t = tree_of(&c, "/srv/ehr");
	assert_tree(t, CLASS_TREE(cl, 0), ALL_FILE, PF_ACCESS_READ);
	assert_int_equal(t->rule[0], GRANT(f2, 1));
	assert_int_equal(pf_decide_file_rule(t, PF_ACCESS_READ), GRANT(f2, 1));
	compiled_release(&c);
	pb_free(p);
}

static void test_own_rules_are_their_own_grants(void **state)
{
	struct policy *p = pb_new();
	const struct pf_tree *t;
	size_t cl, a, i;
	struct compiled c;

	(void)state;
	cl = pb_class(p, "phi.clinical", at(3));
	pb_tree(p, cl, "/srv/ehr", at(4));
	a = pb_agent(p, "a");
	pb_own_tree(p, a, "/srv/ehr/archive", POLICY_READ | POLICY_EXEC, true, at(12));
	pb_own_tree(p, a, "/srv/billing", RW, false, at(14));

	compile_ok(p, a, &c);
	assert_int_equal(c.n_trees, 3);
	/* class trees first, own rules last */
	assert_int_equal(c.trees[0].val.object, CLASS_TREE(cl, 0));
	t = tree_of(&c, "/srv/ehr/archive");
	assert_tree(t, OWN_TREE(0), PF_ACCESS_READ | PF_ACCESS_EXEC,
		    PF_ACCESS_READ | PF_ACCESS_EXEC);
	assert_int_equal(t->rule[0], OWN_TREE(0));
	assert_int_equal(t->rule[4], OWN_TREE(0));
	t = tree_of(&c, "/srv/billing");
	assert_tree(t, OWN_TREE(1), RW, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(t->rule[i], OWN_TREE(1));
	assert_int_equal(pf_decide_file(t, 0, PF_ACCESS_EXEC), PF_REASON_ACCESS);
	compiled_release(&c);
	pb_free(p);
}

/* The shipped classes and families, as policy.c puts them first. */
struct shipped {
	size_t libraries, loader, programs, tmp;
	size_t runtime, runtime_programs;
};

static void pb_runtime(struct policy *p, struct shipped *s)
{
	s->libraries = pb_shipped(p, "runtime.libraries", false);
	pb_tree(p, s->libraries, "/usr/lib", at(0));
	pb_tree(p, s->libraries, "/usr/lib64", at(0)); /* missing here */
	pb_tree(p, s->libraries, "/lib", at(0));       /* /usr/lib again */
	s->loader = pb_shipped(p, "runtime.loader", false);
	pb_tree(p, s->loader, "/etc/ld.so.cache", at(0));
	s->programs = pb_shipped(p, "runtime.programs", false);
	pb_tree(p, s->programs, "/usr/bin", at(0));
	pb_tree(p, s->programs, "/bin", at(0));
	s->tmp = pb_shipped(p, "runtime.tmp", true);

	s->runtime = pb_family(p, "runtime", at_in(NULL, 0, 0));
	p->families[s->runtime].shipped = true;
	pb_grant(p, s->runtime, POLICY_ON_CLASS, s->libraries, POLICY_READ | POLICY_EXEC, false,
		 at_in(NULL, 0, 0));
	pb_grant(p, s->runtime, POLICY_ON_CLASS, s->loader, POLICY_READ, false, at_in(NULL, 0, 0));
	pb_grant(p, s->runtime, POLICY_ON_CLASS, s->tmp, RW, false, at_in(NULL, 0, 0));
	s->runtime_programs = pb_family(p, "runtime-programs", at_in(NULL, 0, 0));
	p->families[s->runtime_programs].shipped = true;
	pb_grant(p, s->runtime_programs, POLICY_ON_CLASS, s->programs, POLICY_READ | POLICY_EXEC,
		 false, at_in(NULL, 0, 0));
}

/* A policy that uses no shipped class keeps its own rules on /usr, as before. */
static void test_shipped_classes_only_when_used(void **state)
{
	struct policy *p = pb_new();
	struct shipped s;
	struct compiled c;
	size_t a;

	(void)state;
	pb_runtime(p, &s);
	a = pb_agent(p, "old");
	pb_own_tree(p, a, "/usr/lib", POLICY_READ, false, at(5));
	pb_own_tree(p, a, "/usr/bin", POLICY_READ | POLICY_EXEC, false, at(7));

	compile_ok(p, a, &c);
	assert_int_equal(c.n_trees, 2);
	assert_tree(tree_of(&c, "/usr/lib"), OWN_TREE(0), PF_ACCESS_READ, 0);
	assert_tree(tree_of(&c, "/usr/bin"), OWN_TREE(1), PF_ACCESS_READ | PF_ACCESS_EXEC, 0);
	assert_null(tree_of(&c, "/etc/ld.so.cache"));
	compiled_release(&c);
	pb_free(p);
}

/* Once some agent uses a shipped class, it is tagged for every agent, once per inode. */
static void test_shipped_classes_used_by_one_agent_tag_all(void **state)
{
	struct policy *p = pb_new();
	const struct pf_tree *t;
	size_t user, other, i;
	struct shipped s;
	struct compiled c;

	(void)state;
	pb_runtime(p, &s);
	user = pb_agent(p, "user");
	pb_uses(p, user, s.runtime);
	other = pb_agent(p, "other");
	pb_own_tree(p, other, "/usr/bin", POLICY_READ, false, at(7));

	compile_ok(p, user, &c);
	/* /usr/lib (and /lib, the same inode, once; /usr/lib64 missing), the cache */
	assert_int_equal(c.n_trees, 2);
	t = tree_of(&c, "/usr/lib");
	assert_tree(t, CLASS_TREE(s.libraries, 0), PF_ACCESS_READ | PF_ACCESS_EXEC, 0);
	assert_int_equal(t->rule[4], GRANT(s.runtime, 0));
	assert_tree(tree_of(&c, "/etc/ld.so.cache"), CLASS_TREE(s.loader, 0), PF_ACCESS_READ, 0);
	/* runtime-programs is used by nobody: /usr/bin stays unclassified */
	assert_null(tree_of(&c, "/usr/bin"));
	compiled_release(&c);

	compile_ok(p, other, &c);
	assert_int_equal(c.n_trees, 3);
	assert_tree(tree_of(&c, "/usr/lib"), CLASS_TREE(s.libraries, 0), 0, 0);
	assert_tree(tree_of(&c, "/etc/ld.so.cache"), CLASS_TREE(s.loader, 0), 0, 0);
	assert_tree(tree_of(&c, "/usr/bin"), OWN_TREE(0), PF_ACCESS_READ, 0);
	for (i = 0; i < c.n_trees; i++)
		assert_int_equal(c.trees[i].key.slot, 5);
	compiled_release(&c);
	pb_free(p);
}

/* runtime.tmp has no trees: the instance's private directory is tagged as its tree 0. */
static void test_private_tmp_is_tagged_as_runtime_tmp(void **state)
{
	struct policy *p = pb_new();
	struct policy_error err;
	struct shipped s;
	struct compiled c;
	size_t a, b;

	(void)state;
	pb_runtime(p, &s);
	a = pb_agent(p, "a");
	pb_uses(p, a, s.runtime);
	b = pb_agent(p, "b");

	assert_int_equal(compile_env(p, a, 2, 9, "/tmp/pf-tmp.1", &c, &err), 0);
	assert_int_equal(c.n_trees, 3);
	assert_tree(tree_of(&c, "/tmp/pf-tmp.1"), CLASS_TREE(s.tmp, 0), RW, 0);
	assert_int_equal(tree_of(&c, "/tmp/pf-tmp.1")->rule[3], GRANT(s.runtime, 2));
	compiled_release(&c);

	/* another agent's instance: its directory is classified, not granted */
	assert_int_equal(compile_env(p, b, 3, 1, "/tmp/pf-tmp.1", &c, &err), 0);
	assert_tree(tree_of(&c, "/tmp/pf-tmp.1"), CLASS_TREE(s.tmp, 0), 0, 0);
	compiled_release(&c);

	/* no directory given (pinfold check): nothing to tag */
	assert_int_equal(compile_env(p, a, 2, 9, NULL, &c, &err), 0);
	assert_int_equal(c.n_trees, 2);
	compiled_release(&c);

	/* a directory that is not there is an error, not a silent skip */
	assert_int_equal(compile_env(p, a, 2, 9, "/tmp/pf-gone", &c, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "tree does not exist: /tmp/pf-gone: No such file or directory");
	assert_int_equal(c.n_trees, 0);
	pb_free(p);
}

/* Every key carries the slot and generation; entries of another generation are never found. */
static void test_generation_in_every_key(void **state)
{
	struct policy *p = pb_new();
	struct policy_error err;
	size_t cl, be, f, a, i;
	struct compiled c;

	(void)state;
	cl = pb_class(p, "phi.clinical", at(3));
	pb_tree(p, cl, "/srv/ehr", at(4));
	be = pb_backend(p, "ehr", at(6));
	pb_dest(p, be, "10.1.0.0/16", 443, IPPROTO_TCP, at(7));
	f = pb_family(p, "f", at(9));
	pb_grant(p, f, POLICY_ON_BACKEND, be, POLICY_CONNECT, false, at(10));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);

	assert_int_equal(compile_env(p, a, 7, 0x01020304, NULL, &c, &err), 0);
	assert_int_equal(c.slot, 7);
	assert_int_equal(c.gen, 0x01020304);
	assert_int_equal(c.n_trees, 1);
	assert_int_equal(c.trees[0].key.slot, 7);
	assert_int_equal(c.trees[0].key.gen, 0x01020304);
	assert_int_equal(c.trees[0].key.dev, 0x800001);
	assert_int_equal(c.trees[0].key.ino, 100);
	assert_int_equal(c.n_nets, 1);
	for (i = 0; i < c.n_nets; i++) {
		/* big-endian, so that slot and gen are the key's top 64 bits */
		assert_int_equal(c.nets[i].key.slot, htonl(7));
		assert_int_equal(c.nets[i].key.gen, htonl(0x01020304));
		assert_int_equal(c.nets[i].key.prefixlen, 64 + 96 + 16);
	}
	assert_int_equal(connect_tcp(&c, "10.1.9.9", 443), GRANT(f, 0));
	assert_null(
		net_rule_at(&c, 7, 0x01020303, "10.1.9.9", 443, IPPROTO_TCP, PF_ACCESS_CONNECT));
	assert_null(
		net_rule_at(&c, 7, 0x01020305, "10.1.9.9", 443, IPPROTO_TCP, PF_ACCESS_CONNECT));
	assert_null(
		net_rule_at(&c, 6, 0x01020304, "10.1.9.9", 443, IPPROTO_TCP, PF_ACCESS_CONNECT));
	compiled_release(&c);
	pb_free(p);
}

/* ---- network ---- */

/* pinfold.h's example: dns, ehr, any443 except 10.0.0.0/8. */
/*
 * Keys are found by a hash index (add_key): the same prefix from two
 * backends is one key, and 300 distinct ones, which rebuild the index as
 * it grows, all stay, each with its rule.
 */
static void test_keys_are_unique_across_index_growth(void **state)
{
	static char names[300][24];
	struct policy *p = pb_new();
	size_t b1, b2, f, a, i;
	struct compiled c;

	(void)state;
	b1 = pb_backend(p, "one", at(3));
	b2 = pb_backend(p, "two", at(4));
	for (i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "10.9.%zu.%zu", i / 200, i % 200);
		pb_dest(p, b1, names[i], 443, IPPROTO_TCP, at(5));
	}
	/* the same address, another port, in another backend: the same key */
	pb_dest(p, b2, names[17], 8443, IPPROTO_TCP, at(6));
	f = pb_family(p, "f", at(7));
	pb_grant(p, f, POLICY_ON_BACKEND, b1, POLICY_CONNECT, false, at(8));
	pb_grant(p, f, POLICY_ON_BACKEND, b2, POLICY_CONNECT, false, at(9));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);

	compile_ok(p, a, &c);
	assert_int_equal(c.n_nets, 300);
	for (i = 0; i < 300; i++)
		assert_int_equal(connect_tcp(&c, names[i], 443), GRANT(f, 0));
	assert_int_equal(connect_tcp(&c, names[17], 8443), GRANT(f, 1));
	assert_int_equal(find_key(&c, names[17], 128)->val.count, 2);
	compiled_release(&c);
	pb_free(p);
}

static void test_worked_example_with_an_exception(void **state)
{
	struct policy *p = pb_new();
	const struct compiled_net *n;
	size_t dns, ehr, any, f, a;
	struct compiled c;

	(void)state;
	dns = pb_backend(p, "dns", at(3));
	pb_dest(p, dns, "10.0.0.0/8", 53, IPPROTO_UDP, at(4));
	ehr = pb_backend(p, "ehr", at(5));
	pb_dest(p, ehr, "10.1.2.3/32", 443, IPPROTO_TCP, at(6));
	any = pb_backend(p, "any443", at(7));
	pb_dest(p, any, "any", 443, IPPROTO_TCP, at(8));
	pb_except(p, any, "10.0.0.0/8", at(9));
	f = pb_family(p, "f", at(11));
	pb_grant(p, f, POLICY_ON_BACKEND, dns, POLICY_CONNECT | POLICY_SEND, false, at(12));
	pb_grant(p, f, POLICY_ON_BACKEND, ehr, POLICY_CONNECT, false, at(13));
	pb_grant(p, f, POLICY_ON_BACKEND, any, POLICY_CONNECT, false, at(14));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);

	compile_ok(p, a, &c);
	assert_int_equal(c.n_nets, 3);
	/* key slot,gen,::ffff:10.1.2.3/128 -> { 443/tcp rule 1, 53/udp rule 0 } */
	n = find_key(&c, "10.1.2.3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_int_equal(n->val.rules[0].rule_id, GRANT(f, 1));
	assert_int_equal(n->val.rules[0].object, BACKEND_DEST(ehr, 0));
	assert_int_equal(n->val.rules[0].access, PF_ACCESS_CONNECT);
	assert_int_equal(n->val.rules[1].rule_id, GRANT(f, 0));
	assert_int_equal(n->val.rules[1].access, PF_ACCESS_CONNECT | PF_ACCESS_SEND);
	/* key slot,gen,::ffff:10.0.0.0/104 -> { 53/udp rule 0 } (rule 2 excepted) */
	n = find_key(&c, "10.0.0.0", 104);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_int_equal(n->val.rules[0].rule_id, GRANT(f, 0));
	/* key slot,gen,::/0 -> { 443/tcp rule 2 } */
	n = find_key(&c, "::", 0);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_int_equal(n->val.rules[0].rule_id, GRANT(f, 2));
	assert_int_equal(n->val.rules[0].object, BACKEND_DEST(any, 0));
	assert_int_equal(n->val.rules[0].port_lo, 443);
	assert_int_equal(n->val.rules[0].pad, 0);

	/* connect 10.1.2.3:53/udp -> longest match /128, entry 2 allows (rule 0) */
	assert_int_equal(decide(&c, "10.1.2.3", 53, IPPROTO_UDP, PF_ACCESS_CONNECT), GRANT(f, 0));
	/* connect 10.9.9.9:443/tcp -> longest match /104, no entry -> denied */
	assert_int_equal(connect_tcp(&c, "10.9.9.9", 443), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.1.2.3", 443), GRANT(f, 1));
	assert_int_equal(connect_tcp(&c, "8.8.8.8", 443), GRANT(f, 2));
	assert_int_equal(connect_tcp(&c, "2001:db8::1", 443), GRANT(f, 2));
	assert_int_equal(connect_tcp(&c, "8.8.8.8", 80), PF_RULE_NONE);
	compiled_release(&c);
	pb_free(p);
}

/* A /16 but one host: the host gets an entry of its own, without the backend's rule. */
static void test_exception_of_one_host_in_a_prefix(void **state)
{
	struct policy *p = pb_new();
	const struct compiled_net *n;
	size_t lan, wide, f, g, a, b;
	struct compiled c;

	(void)state;
	lan = pb_backend(p, "clinic-lan", at(3));
	pb_dest(p, lan, "10.1.0.0/16", 443, IPPROTO_TCP, at(4));
	pb_except(p, lan, "10.1.2.3", at(5));
	wide = pb_backend(p, "campus", at(6));
	pb_dest(p, wide, "10.0.0.0/8", 443, IPPROTO_TCP, at(7));
	f = pb_family(p, "lan", at(9));
	pb_grant(p, f, POLICY_ON_BACKEND, lan, POLICY_CONNECT, false, at(10));
	g = pb_family(p, "campus", at(11));
	pb_grant(p, g, POLICY_ON_BACKEND, wide, POLICY_CONNECT, false, at(12));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);
	/* b also holds a wider backend, which excepts nothing */
	b = pb_agent(p, "b");
	pb_uses(p, b, f);
	pb_uses(p, b, g);

	compile_ok(p, a, &c);
	assert_int_equal(c.n_nets, 2);
	n = find_key(&c, "10.1.2.3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 0);
	assert_int_equal(connect_tcp(&c, "10.1.2.3", 443), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.1.2.4", 443), GRANT(f, 0));
	assert_int_equal(connect_tcp(&c, "10.1.255.255", 443), GRANT(f, 0));
	assert_int_equal(connect_tcp(&c, "10.2.0.1", 443), PF_RULE_NONE);
	compiled_release(&c);

	compile_ok(p, b, &c);
	assert_int_equal(c.n_nets, 3);
	n = find_key(&c, "10.1.2.3", 128);
	assert_non_null(n);
	/* the other rules are pushed down, but not the excepting backend's */
	assert_int_equal(n->val.count, 1);
	assert_int_equal(n->val.rules[0].rule_id, GRANT(g, 0));
	assert_int_equal(n->val.rules[0].object, BACKEND_DEST(wide, 0));
	assert_int_equal(connect_tcp(&c, "10.1.2.3", 443), GRANT(g, 0));
	assert_int_equal(connect_tcp(&c, "10.1.2.4", 443), GRANT(f, 0));
	assert_int_equal(connect_tcp(&c, "10.2.0.1", 443), GRANT(g, 0));
	compiled_release(&c);
	pb_free(p);
}

/* any, but neither private nor link-local addresses (the cloud metadata address among them). */
static void test_exception_any_but_private_and_link_local(void **state)
{
	static const char *const ranges[] = {
		"10.0.0.0/8", "172.16.0.0/12",  "192.168.0.0/16", "100.64.0.0/10",
		"fc00::/7",   "169.254.0.0/16", "fe80::/10",
	};
	static const struct {
		const char *addr;
		bool allowed;
	} cases[] = {
		{"8.8.8.8", true},         {"2001:db8::1", true},      {"172.32.0.1", true},
		{"100.128.0.1", true},     {"10.1.2.3", false},        {"172.16.0.1", false},
		{"172.31.255.255", false}, {"192.168.1.1", false},     {"100.64.1.1", false},
		{"fd00::1", false},        {"169.254.169.254", false}, {"fe80::1", false},
	};
	struct policy *p = pb_new();
	size_t web, i, f, a;
	struct compiled c;

	(void)state;
	web = pb_backend(p, "public-web", at(3));
	pb_dest(p, web, "any", 443, IPPROTO_TCP, at(4));
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		pb_except(p, web, ranges[i], at_in("p.yaml", 5, 14 + (unsigned)i));
	f = pb_family(p, "web", at(7));
	pb_grant(p, f, POLICY_ON_BACKEND, web, POLICY_CONNECT, false, at(8));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);
	/* an own rule inside a private range keeps its address */
	pb_own_dest(p, a, "10.0.0.5", 443, 443, IPPROTO_TCP, POLICY_CONNECT, false, at(12));

	compile_ok(p, a, &c);
	/* ::/0, seven exceptions, the own host */
	assert_int_equal(c.n_nets, 9);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (connect_tcp(&c, cases[i].addr, 443) !=
		    (cases[i].allowed ? GRANT(f, 0) : PF_RULE_NONE))
			fail_msg("%s: expected %s", cases[i].addr,
				 cases[i].allowed ? "allowed" : "denied");
	assert_int_equal(connect_tcp(&c, "10.0.0.5", 443), OWN_DEST(0));
	assert_int_equal(connect_tcp(&c, "10.0.0.6", 443), PF_RULE_NONE);
	compiled_release(&c);
	pb_free(p);
}

/* connect and send are separate rights, each with its own first grant. */
static void test_connect_and_send_are_separate(void **state)
{
	struct policy *p = pb_new();
	const struct compiled_net *n;
	size_t dns, api, fc, fs, a, b;
	struct compiled c;

	(void)state;
	dns = pb_backend(p, "dns", at(3));
	pb_dest(p, dns, "10.0.0.53", 53, IPPROTO_UDP, at(4));
	api = pb_backend(p, "api", at(5));
	pb_dest(p, api, "10.0.0.80", 8080, IPPROTO_TCP, at(6));
	fc = pb_family(p, "dns-connect", at(8));
	pb_grant(p, fc, POLICY_ON_BACKEND, dns, POLICY_CONNECT, false, at(9));
	pb_grant(p, fc, POLICY_ON_BACKEND, api, POLICY_CONNECT, false, at(10));
	fs = pb_family(p, "dns-send", at(11));
	pb_grant(p, fs, POLICY_ON_BACKEND, dns, POLICY_SEND | POLICY_CONNECT, true, at(12));
	a = pb_agent(p, "a");
	pb_uses(p, a, fc);
	pb_uses(p, a, fs);
	b = pb_agent(p, "b");
	pb_own_dest(p, b, "10.0.0.53", 53, 53, IPPROTO_UDP, POLICY_SEND, true, at(20));

	compile_ok(p, a, &c);
	n = find_key(&c, "10.0.0.53", 128);
	assert_non_null(n);
	/* one port rule per first grant */
	assert_int_equal(n->val.count, 2);
	assert_int_equal(n->val.rules[0].rule_id, GRANT(fc, 0));
	assert_int_equal(n->val.rules[0].access, PF_ACCESS_CONNECT);
	assert_int_equal(n->val.rules[0].audited, PF_ACCESS_CONNECT); /* fs audits connect too */
	assert_int_equal(n->val.rules[1].rule_id, GRANT(fs, 0));
	assert_int_equal(n->val.rules[1].access, PF_ACCESS_SEND);
	assert_int_equal(n->val.rules[1].audited, PF_ACCESS_SEND);
	assert_int_equal(decide(&c, "10.0.0.53", 53, IPPROTO_UDP, PF_ACCESS_CONNECT), GRANT(fc, 0));
	assert_int_equal(decide(&c, "10.0.0.53", 53, IPPROTO_UDP, PF_ACCESS_SEND), GRANT(fs, 0));
	/* api: connect only */
	assert_int_equal(connect_tcp(&c, "10.0.0.80", 8080), GRANT(fc, 1));
	assert_int_equal(decide(&c, "10.0.0.80", 8080, IPPROTO_TCP, PF_ACCESS_SEND), PF_RULE_NONE);
	compiled_release(&c);

	/* ungranted backends give nothing; an own rule gives just its actions */
	compile_ok(p, b, &c);
	assert_int_equal(c.n_nets, 1);
	n = find_key(&c, "10.0.0.53", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_int_equal(n->val.rules[0].access, PF_ACCESS_SEND);
	assert_int_equal(n->val.rules[0].audited, PF_ACCESS_SEND);
	assert_int_equal(n->val.rules[0].object, OWN_DEST(0));
	assert_int_equal(decide(&c, "10.0.0.53", 53, IPPROTO_UDP, PF_ACCESS_SEND), OWN_DEST(0));
	assert_int_equal(decide(&c, "10.0.0.53", 53, IPPROTO_UDP, PF_ACCESS_CONNECT), PF_RULE_NONE);
	compiled_release(&c);
	pb_free(p);
}

static void test_nested_prefixes_hold_every_containing_rule(void **state)
{
	static const struct {
		const char *addr;
		unsigned prefix;
		uint32_t rules[5];
		uint32_t count;
	} want[] = {
		{"10.0.0.0", 104, {0}, 1},          {"10.1.0.0", 112, {1, 0}, 2},
		{"10.1.2.0", 120, {2, 6, 1, 0}, 4}, {"10.1.2.3", 128, {3, 2, 6, 1, 0}, 5},
		{"10.2.0.0", 112, {4, 0}, 2},       {"192.168.0.0", 112, {5}, 1},
	};
	static const struct {
		const char *to;
		uint16_t port;
		uint8_t proto;
	} rules[] = {
		{"10.0.0.0/8", 1, IPPROTO_TCP},  {"10.1.0.0/16", 2, IPPROTO_TCP},
		{"10.1.2.0/24", 3, IPPROTO_TCP}, {"10.1.2.3", 4, IPPROTO_TCP},
		{"10.2.0.0/16", 5, IPPROTO_TCP}, {"192.168.0.0/16", 6, IPPROTO_TCP},
		{"10.1.2.0/24", 7, IPPROTO_UDP},
	};
	struct policy *p = pb_new();
	const struct compiled_net *n;
	struct compiled c;
	size_t i, k, a;

	(void)state;
	a = pb_agent(p, "a");
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		pb_own_dest(p, a, rules[i].to, rules[i].port, rules[i].port, rules[i].proto,
			    POLICY_CONNECT | POLICY_SEND, false, at(5 + (unsigned)i));

	compile_ok(p, a, &c);
	assert_int_equal(c.n_nets, 6);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		n = find_key(&c, want[i].addr, want[i].prefix);
		assert_non_null(n);
		assert_int_equal(n->val.count, want[i].count);
		/* longest prefix first; equal prefixes in policy order */
		for (k = 0; k < want[i].count; k++)
			assert_int_equal(n->val.rules[k].rule_id, OWN_DEST(want[i].rules[k]));
	}
	assert_int_equal(connect_tcp(&c, "10.1.2.3", 1), OWN_DEST(0));
	assert_int_equal(decide(&c, "10.1.2.3", 7, IPPROTO_UDP, PF_ACCESS_SEND), OWN_DEST(6));
	assert_int_equal(connect_tcp(&c, "10.1.2.9", 4), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.2.7.7", 2), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.2.7.7", 5), OWN_DEST(4));
	assert_int_equal(connect_tcp(&c, "::ffff:10.2.7.7", 5), OWN_DEST(4));
	compiled_release(&c);
	pb_free(p);
}

/* One port rule as the compiler is meant to push it: where, whose, which. */
struct ref_rule {
	uint8_t addr[16];
	unsigned prefix;
	size_t backend; /* SIZE_MAX: an own rule */
	uint16_t port;
	uint32_t rule_id, object;
};

/* Whether net/plen holds addr, bit by bit. */
static bool ref_holds(const uint8_t net[16], unsigned plen, const uint8_t addr[16])
{
	unsigned b;

	for (b = 0; b < plen; b++)
		if ((net[b / 8] ^ addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

/*
 * Many keys, nested prefixes, exceptions of several backends (one backend
 * excepting what another allows), and a prefix given by two backends: every
 * entry holds exactly what trying every rule for every key gives (the
 * compiler's first design, kept here as the reference), longest prefix
 * first, then in the order the rules were added.
 */
static void test_pushed_down_rules_match_every_rule_tried_for_every_key(void **state)
{
	static char names[1200][48];
	static struct ref_rule ref[1200];
	struct policy *p = pb_new();
	size_t be[3], f, a, i, j, n_names = 0, n_ref = 0, x, y, z, checked = 0;
	const struct policy_backend *pbe;
	struct compiled c;

	(void)state;
#define NAME(...) (snprintf(names[n_names], sizeof(names[0]), __VA_ARGS__), names[n_names++])
	for (i = 0; i < 3; i++)
		be[i] = pb_backend(p, i == 0 ? "wide" : i == 1 ? "nets" : "hosts", at(2));
	/* wide: any, 10/8, 10.x/16; except 10.1.2.0/24, 10.3/16, 2001:db8::/32 */
	pb_dest(p, be[0], "any", 1, IPPROTO_TCP, at(3));
	pb_dest(p, be[0], "10.0.0.0/8", 2, IPPROTO_TCP, at(3));
	for (x = 0; x < 4; x++)
		pb_dest(p, be[0], NAME("10.%zu.0.0/16", x), (uint16_t)(10 + x), IPPROTO_TCP, at(3));
	pb_except(p, be[0], "10.1.2.0/24", at(4));
	pb_except(p, be[0], "10.3.0.0/16", at(4));
	pb_except(p, be[0], "2001:db8::/32", at(4));
	/* nets: 10.x.y.0/24, 10/8 again, 2001:db8:x::/48; except some hosts */
	pb_dest(p, be[1], "10.0.0.0/8", 3, IPPROTO_UDP, at(5));
	for (x = 0; x < 4; x++)
		for (y = 0; y < 4; y++)
			pb_dest(p, be[1], NAME("10.%zu.%zu.0/24", x, y),
				(uint16_t)(100 + 4 * x + y), IPPROTO_TCP, at(5));
	for (x = 0; x < 4; x++)
		pb_dest(p, be[1], NAME("2001:db8:%zx::/48", x), (uint16_t)(200 + x), IPPROTO_TCP,
			at(5));
	for (x = 0; x < 4; x++)
		pb_except(p, be[1], NAME("10.%zu.%zu.7", x, x), at(6));
	/* hosts: 10.x.y.z and 2001:db8:x::z; except 10.2/16 */
	for (x = 0; x < 4; x++)
		for (y = 0; y < 4; y++)
			for (z = 0; z < 40; z++)
				pb_dest(p, be[2], NAME("10.%zu.%zu.%zu", x, y, z * 3 + 1),
					(uint16_t)(1000 + z), IPPROTO_TCP, at(7));
	for (x = 0; x < 4; x++)
		for (z = 0; z < 20; z++)
			pb_dest(p, be[2], NAME("2001:db8:%zx::%zx", x, z), (uint16_t)(2000 + z),
				IPPROTO_TCP, at(7));
	pb_except(p, be[2], "10.2.0.0/16", at(8));
	f = pb_family(p, "f", at(9));
	for (i = 0; i < 3; i++)
		pb_grant(p, f, POLICY_ON_BACKEND, be[i], POLICY_CONNECT, false, at(10));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);
	/* own rules: a /16 inside the exceptions, a host, the IPv6 block */
	pb_own_dest(p, a, "10.3.0.0/16", 7, 7, IPPROTO_TCP, POLICY_CONNECT, false, at(11));
	pb_own_dest(p, a, "10.1.2.7", 8, 8, IPPROTO_TCP, POLICY_CONNECT, false, at(12));
	pb_own_dest(p, a, "2001:db8::/32", 9, 9, IPPROTO_TCP, POLICY_CONNECT, false, at(13));
#undef NAME

	/* the rules in the order the compiler adds them: backends by grant, then own */
	for (i = 0; i < 3; i++) {
		pbe = &p->backends[be[i]];
		for (j = 0; j < pbe->n_dests; j++) {
			memcpy(ref[n_ref].addr, pbe->dests[j].addr, 16);
			ref[n_ref].prefix = pbe->dests[j].prefix;
			ref[n_ref].backend = be[i];
			ref[n_ref].port = pbe->dests[j].port_lo;
			ref[n_ref].rule_id = GRANT(f, i);
			ref[n_ref++].object = BACKEND_DEST(be[i], j);
		}
	}
	for (j = 0; j < p->agents[a].n_dests; j++) {
		memcpy(ref[n_ref].addr, p->agents[a].dests[j].addr, 16);
		ref[n_ref].prefix = p->agents[a].dests[j].prefix;
		ref[n_ref].backend = SIZE_MAX;
		ref[n_ref].port = p->agents[a].dests[j].port_lo;
		ref[n_ref].rule_id = OWN_DEST(j);
		ref[n_ref++].object = OWN_DEST(j);
	}

	compile_ok(p, a, &c);
	assert_true(c.n_nets > 700);
	for (i = 0; i < c.n_nets; i++) {
		const struct compiled_net *n = &c.nets[i];
		unsigned kp = n->key.prefixlen - 64, len;
		size_t count = 0, e;

		/* longest prefix first; equal prefixes in the order added */
		for (len = 129; len-- > 0;) {
			for (j = 0; j < n_ref; j++) {
				const struct ref_rule *r = &ref[j];
				bool out = false;

				if (r->prefix != len || len > kp ||
				    !ref_holds(r->addr, len, n->key.addr))
					continue;
				pbe = r->backend == SIZE_MAX ? NULL : &p->backends[r->backend];
				for (e = 0; pbe && e < pbe->n_excepts; e++)
					out |= pbe->excepts[e].prefix <= kp &&
					       ref_holds(pbe->excepts[e].addr,
							 pbe->excepts[e].prefix, n->key.addr);
				if (out)
					continue;
				assert_true(count < n->val.count);
				assert_int_equal(n->val.rules[count].rule_id, r->rule_id);
				assert_int_equal(n->val.rules[count].object, r->object);
				assert_int_equal(n->val.rules[count].port_lo, r->port);
				count++;
				checked++;
			}
		}
		assert_int_equal(n->val.count, count);
	}
	assert_true(checked > c.n_nets);
	/* a host in 10.2/16: its own rule excepted; wide's any, /8, /16, nets' /8, /24 hold */
	assert_int_equal(find_key(&c, "10.2.1.4", 128)->val.count, 5);
	/* 10.1.2.7: wide excepts 10.1.2/24; 10.1.1.7: nets excepts it */
	assert_int_equal(connect_tcp(&c, "10.1.2.7", 8), OWN_DEST(1));
	assert_int_equal(connect_tcp(&c, "10.1.2.7", 106), GRANT(f, 1));
	assert_int_equal(connect_tcp(&c, "10.1.2.7", 11), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.1.1.7", 105), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.1.1.7", 11), GRANT(f, 0));
	assert_int_equal(connect_tcp(&c, "10.1.3.7", 11), GRANT(f, 0));
	compiled_release(&c);
	pb_free(p);
}

/*
 * A backend's hostname is resolved only for an agent that may use it; its
 * addresses are excepted like any other.
 */
static void test_backend_hostnames(void **state)
{
	struct policy *p = pb_new();
	const struct compiled_net *n;
	size_t ehr, web, gone, f, a;
	struct compiled c;
	uint8_t want[16];

	(void)state;
	ehr = pb_backend(p, "ehr", at(3));
	pb_dest(p, ehr, "dual.example.internal", 443, IPPROTO_TCP, at(4));
	pb_dest(p, ehr, "10.0.0.0/8", 53, IPPROTO_UDP, at(5));
	web = pb_backend(p, "web", at(6));
	pb_dest(p, web, "rebind.example.internal", 443, IPPROTO_TCP, at(7));
	pb_except(p, web, "10.0.0.0/8", at(8));
	gone = pb_backend(p, "gone", at(9));
	pb_dest(p, gone, "nowhere.invalid", 443, IPPROTO_TCP, at(10));
	f = pb_family(p, "f", at(12));
	pb_grant(p, f, POLICY_ON_BACKEND, ehr, POLICY_CONNECT, true, at(13));
	pb_grant(p, f, POLICY_ON_BACKEND, web, POLICY_CONNECT, false, at(14));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);

	/* "gone" is nobody's: its name is never looked up */
	compile_ok(p, a, &c);
	assert_int_equal(c.n_names, 2);
	assert_int_equal(c.names[0].object, BACKEND_DEST(ehr, 0));
	assert_string_equal(c.names[0].host, "dual.example.internal");
	assert_int_equal(c.names[0].n_addrs, 3);
	addr16("2001:db8::1", want);
	assert_memory_equal(c.names[0].addrs[2], want, 16);
	assert_int_equal(c.names[1].object, BACKEND_DEST(web, 0));

	n = find_key(&c, "10.9.0.1", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_int_equal(n->val.rules[0].object, BACKEND_DEST(ehr, 0));
	assert_int_equal(n->val.rules[0].audited, PF_ACCESS_CONNECT);
	assert_int_equal(n->val.rules[1].object, BACKEND_DEST(ehr, 1));
	assert_int_equal(connect_tcp(&c, "10.9.0.2", 443), GRANT(f, 0));
	assert_int_equal(connect_tcp(&c, "2001:db8::1", 443), GRANT(f, 0));
	assert_int_equal(connect_tcp(&c, "10.9.0.3", 443), PF_RULE_NONE);
	/* a name that also resolves into an exception gets only its other address */
	assert_int_equal(connect_tcp(&c, "203.0.113.5", 443), GRANT(f, 1));
	assert_int_equal(connect_tcp(&c, "10.7.7.7", 443), PF_RULE_NONE);
	compiled_release(&c);
	pb_free(p);
}

static void test_names_sharing_an_address_share_its_entry(void **state)
{
	struct policy *p = pb_new();
	const struct compiled_net *n;
	struct compiled c;
	size_t a;

	(void)state;
	a = pb_agent(p, "a");
	pb_own_dest(p, a, "ehr.example.internal", 443, 443, IPPROTO_TCP, POLICY_CONNECT, false,
		    at(5));
	pb_own_dest(p, a, "billing.example.internal", 5432, 5432, IPPROTO_TCP, POLICY_CONNECT,
		    false, at(6));
	pb_own_dest(p, a, "10.1.2.3", 22, 22, IPPROTO_TCP, POLICY_CONNECT, false, at(7));

	compile_ok(p, a, &c);
	assert_int_equal(c.n_nets, 2); /* 10.1.2.3/32 and fd00::3/128 */
	n = find_key(&c, "10.1.2.3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 3);
	assert_int_equal(n->val.rules[0].rule_id, OWN_DEST(0));
	assert_int_equal(n->val.rules[1].rule_id, OWN_DEST(1));
	assert_int_equal(n->val.rules[2].rule_id, OWN_DEST(2));
	n = find_key(&c, "fd00::3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_int_equal(connect_tcp(&c, "fd00::3", 5432), PF_RULE_NONE);
	assert_int_equal(c.n_names, 2);
	assert_int_equal(c.names[1].object, OWN_DEST(1));
	compiled_release(&c);
	pb_free(p);
}

static void test_agent_without_anything_compiles_to_nothing(void **state)
{
	struct policy *p = pb_new();
	struct compiled c;

	(void)state;
	compile_ok(p, pb_agent(p, "a"), &c);
	assert_int_equal(c.n_trees, 0);
	assert_int_equal(c.n_nets, 0);
	assert_int_equal(c.n_names, 0);
	compiled_release(&c);
	compiled_release(&c);
	pb_free(p);
}

/* ---- errors ---- */

static void test_missing_tree_is_an_error_at_its_place(void **state)
{
	struct policy *p = pb_new();
	size_t cl, a;

	(void)state;
	cl = pb_class(p, "phi.clinical", at(3));
	pb_tree(p, cl, "/srv/ehr", at(4));
	pb_tree(p, cl, "/srv/gone", at_in("other.yaml", 5, 9));
	a = pb_agent(p, "a");
	compile_fails(p, a, "other.yaml", 5, 9,
		      "tree does not exist: /srv/gone: No such file or directory");
	pb_free(p);

	p = pb_new();
	a = pb_agent(p, "a");
	pb_own_tree(p, a, "/srv/ehr", POLICY_READ, false, at(5));
	pb_own_tree(p, a, "/srv/gone", POLICY_READ, false, at_in("p.yaml", 6, 9));
	compile_fails(p, a, "p.yaml", 6, 9,
		      "tree does not exist: /srv/gone: No such file or directory");
	pb_free(p);
}

static void test_unresolvable_tree_reports_errno(void **state)
{
	struct policy *p = pb_new();
	size_t cl;

	(void)state;
	cl = pb_class(p, "secret", at(3));
	pb_tree(p, cl, "/srv/secret", at_in("p.yaml", 4, 11));
	compile_fails(p, pb_agent(p, "a"), "p.yaml", 4, 11,
		      "cannot resolve tree /srv/secret: Permission denied");
	pb_free(p);
}

static void test_two_trees_on_one_inode_are_an_error(void **state)
{
	struct policy *p;
	size_t x, y, a;

	(void)state;
	/* two classes */
	p = pb_new();
	x = pb_class(p, "phi.a", at(3));
	pb_tree(p, x, "/srv/ehr", at(4));
	y = pb_class(p, "phi.b", at(5));
	pb_tree(p, y, "/srv/link-to-ehr", at(6));
	compile_fails(p, pb_agent(p, "a"), "p.yaml", 6, 7,
		      "tree /srv/link-to-ehr is the same inode as /srv/ehr of class phi.a at 4:7");
	pb_free(p);

	/* ... across files: the first place names its file */
	p = pb_new();
	x = pb_class(p, "phi.a", at(3));
	pb_tree(p, x, "/srv/ehr", at(4));
	y = pb_class(p, "phi.b", at_in("other.yaml", 2, 3));
	pb_tree(p, y, "/srv/link-to-ehr", at_in("other.yaml", 3, 7));
	compile_fails(
		p, pb_agent(p, "a"), "other.yaml", 3, 7,
		"tree /srv/link-to-ehr is the same inode as /srv/ehr of class phi.a at p.yaml:4:7");
	pb_free(p);

	/* a class and an own rule */
	p = pb_new();
	x = pb_class(p, "phi.a", at(3));
	pb_tree(p, x, "/srv/ehr", at(4));
	a = pb_agent(p, "a");
	pb_own_tree(p, a, "/srv/link-to-ehr", RW, false, at_in("p.yaml", 9, 9));
	compile_fails(p, a, "p.yaml", 9, 9,
		      "tree /srv/link-to-ehr is the same inode as /srv/ehr of class phi.a at 4:7");
	pb_free(p);

	/* two own rules */
	p = pb_new();
	a = pb_agent(p, "a");
	pb_own_tree(p, a, "/srv/ehr", POLICY_READ, false, at_in("p.yaml", 5, 9));
	pb_own_tree(p, a, "/srv/ehr/archive", POLICY_READ, false, at_in("p.yaml", 6, 9));
	pb_own_tree(p, a, "/srv/link-to-ehr", RW, false, at_in("p.yaml", 7, 9));
	compile_fails(p, a, "p.yaml", 7, 9,
		      "tree /srv/link-to-ehr is the same inode as /srv/ehr at 5:9");
	pb_free(p);

	/* the private directory and a class */
	p = pb_new();
	{
		struct policy_error err;
		struct shipped s;
		struct compiled c;

		pb_runtime(p, &s);
		x = pb_class(p, "scratch", at(3));
		pb_tree(p, x, "/srv/tmp-alias", at(4));
		a = pb_agent(p, "a");
		pb_uses(p, a, s.runtime);
		assert_int_equal(compile_env(p, a, 1, 1, "/tmp/pf-tmp.1", &c, &err), -EINVAL);
		assert_string_equal(err.msg, "tree /srv/tmp-alias is the same inode as "
					     "/tmp/pf-tmp.1 of class runtime.tmp");
		assert_int_equal(err.line, 4);
	}
	pb_free(p);
}

/* A policy tree on a shipped class's tree is an error once the shipped class is used. */
static void test_policy_tree_on_a_used_shipped_tree_is_an_error(void **state)
{
	struct policy *p = pb_new();
	struct shipped s;
	struct compiled c;
	size_t libs, a, b;

	(void)state;
	pb_runtime(p, &s);
	libs = pb_class(p, "vendor-libs", at(3));
	pb_tree(p, libs, "/lib", at_in("p.yaml", 4, 9));
	a = pb_agent(p, "a");
	b = pb_agent(p, "b");
	pb_own_tree(p, b, "/bin", POLICY_READ, false, at_in("p.yaml", 8, 9));

	/* unused: both are fine */
	compile_ok(p, a, &c);
	compiled_release(&c);
	compile_ok(p, b, &c);
	compiled_release(&c);
	pb_uses(p, a, s.runtime);
	compile_fails(p, a, "p.yaml", 4, 9,
		      "tree /lib is the same inode as /usr/lib of class runtime.libraries");
	compile_fails(p, b, "p.yaml", 4, 9,
		      "tree /lib is the same inode as /usr/lib of class runtime.libraries");
	pb_free(p);

	p = pb_new();
	pb_runtime(p, &s);
	a = pb_agent(p, "a");
	pb_uses(p, a, s.runtime_programs);
	pb_own_tree(p, a, "/bin", POLICY_READ, false, at_in("p.yaml", 8, 9));
	compile_fails(p, a, "p.yaml", 8, 9,
		      "tree /bin is the same inode as /usr/bin of class runtime.programs");
	pb_free(p);
}

/* rules for one /8 with ports 1..n_wide, then one /32 inside it */
static struct policy *overflow_policy(int n_wide, bool by_except)
{
	struct policy *p = pb_new();
	size_t a = pb_agent(p, "a"), be, f;
	int i;

	for (i = 1; i <= n_wide; i++)
		pb_own_dest(p, a, "10.0.0.0/8", (uint16_t)i, (uint16_t)i, IPPROTO_TCP,
			    POLICY_CONNECT, false, at(4 + (unsigned)i));
	if (!by_except) {
		pb_own_dest(p, a, "10.1.2.3", 443, 443, IPPROTO_TCP, POLICY_CONNECT, false,
			    at_in("p.yaml", 5 + (unsigned)n_wide, 9));
		return p;
	}
	/* an exception of another backend is a key of its own, holding the /8's rules */
	be = pb_backend(p, "web", at(1));
	pb_dest(p, be, "any", 443, IPPROTO_TCP, at(2));
	pb_except(p, be, "10.1.2.0/24", at_in("other.yaml", 3, 14));
	f = pb_family(p, "f", at(3));
	pb_grant(p, f, POLICY_ON_BACKEND, be, POLICY_CONNECT, false, at(4));
	pb_uses(p, a, f);
	return p;
}

static void test_too_many_rules_for_a_prefix_is_an_error(void **state)
{
	const struct compiled_net *n;
	struct compiled c;
	struct policy *p;

	(void)state;
	/* 31 + 1 fill the /32 exactly */
	p = overflow_policy(PF_PORTS_PER_PREFIX - 1, false);
	compile_ok(p, 0, &c);
	n = find_key(&c, "10.1.2.3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, PF_PORTS_PER_PREFIX);
	compiled_release(&c);
	pb_free(p);

	/* 32 fit the /8, but 32 + 1 pushed into the /32 do not */
	p = overflow_policy(PF_PORTS_PER_PREFIX, false);
	compile_fails(p, 0, "p.yaml", 5 + PF_PORTS_PER_PREFIX, 9,
		      "too many port rules for 10.1.2.3/32: at most 32, counting those of "
		      "shorter prefixes that contain it");
	pb_free(p);

	/* 31 + the backend's ::/0 fill the /8; the exception's /24 drops ::/0 and fits */
	p = overflow_policy(PF_PORTS_PER_PREFIX - 1, true);
	compile_ok(p, 0, &c);
	assert_int_equal(find_key(&c, "10.0.0.0", 104)->val.count, PF_PORTS_PER_PREFIX);
	assert_int_equal(find_key(&c, "10.1.2.0", 120)->val.count, PF_PORTS_PER_PREFIX - 1);
	compiled_release(&c);
	pb_free(p);

	/* 32 + ::/0 overflow the /8 first; the error is at the /8's first rule */
	p = overflow_policy(PF_PORTS_PER_PREFIX, true);
	compile_fails(p, 0, "p.yaml", 5, 7,
		      "too many port rules for 10.0.0.0/8: at most 32, counting those of "
		      "shorter prefixes that contain it");
	pb_free(p);
}

/* An exception's entry drops its backend's rules; when it still overflows, the error is there. */
static void test_too_many_rules_at_an_exception_is_an_error(void **state)
{
	struct policy *p = pb_new();
	size_t a = pb_agent(p, "a"), be, f;
	struct compiled c;
	int i;

	(void)state;
	be = pb_backend(p, "web", at(1));
	pb_dest(p, be, "10.0.0.0/8", 443, IPPROTO_TCP, at(2));
	pb_except(p, be, "10.1.2.0/24", at_in("other.yaml", 3, 14));
	f = pb_family(p, "f", at(3));
	pb_grant(p, f, POLICY_ON_BACKEND, be, POLICY_CONNECT, false, at(4));
	pb_uses(p, a, f);
	/* 31 everywhere: with the backend's rule the /8 is full */
	for (i = 1; i <= PF_PORTS_PER_PREFIX - 1; i++)
		pb_own_dest(p, a, "any", (uint16_t)i, (uint16_t)i, IPPROTO_TCP, POLICY_CONNECT,
			    false, at(10 + (unsigned)i));
	/* the /24 holds one of its own instead of the backend's */
	pb_own_dest(p, a, "10.1.2.0/24", 1001, 1001, IPPROTO_TCP, POLICY_CONNECT, false, at(51));
	compile_ok(p, a, &c);
	assert_int_equal(find_key(&c, "10.0.0.0", 104)->val.count, PF_PORTS_PER_PREFIX);
	assert_int_equal(find_key(&c, "10.1.2.0", 120)->val.count, PF_PORTS_PER_PREFIX);
	assert_int_equal(connect_tcp(&c, "10.1.2.9", 443), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.1.2.9", 1001), OWN_DEST(PF_PORTS_PER_PREFIX - 1));
	compiled_release(&c);

	/* one more: the /24 is a key first as the exception, so the error is there */
	pb_own_dest(p, a, "10.1.2.0/24", 1002, 1002, IPPROTO_TCP, POLICY_CONNECT, false, at(52));
	compile_fails(p, a, "other.yaml", 3, 14,
		      "too many port rules for 10.1.2.0/24: at most 32, counting those of "
		      "shorter prefixes that contain it");
	pb_free(p);
}

static void expect_name_error(const char *host, const char *want)
{
	struct policy *p = pb_new();
	struct policy_error err;
	struct compiled c;
	size_t be, f, a;

	be = pb_backend(p, "b", at(3));
	pb_dest(p, be, "10.0.0.1", 80, IPPROTO_TCP, at(4));
	pb_dest(p, be, host, 80, IPPROTO_TCP, at_in("other.yaml", 6, 9));
	f = pb_family(p, "f", at(8));
	pb_grant(p, f, POLICY_ON_BACKEND, be, POLICY_CONNECT, false, at(9));
	a = pb_agent(p, "a");
	pb_uses(p, a, f);

	assert_int_equal(compile_one(p, a, &c, &err), -EINVAL);
	assert_string_equal(err.file, "other.yaml");
	assert_int_equal(err.line, 6);
	assert_int_equal(err.column, 9);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not say \"%s\"", err.msg, want);
	assert_int_equal(c.n_nets, 0);
	assert_null(c.names);
	pb_free(p);
}

static void test_unresolvable_names_are_errors_at_their_destination(void **state)
{
	(void)state;
	expect_name_error("nowhere.invalid", "cannot resolve nowhere.invalid: no such name");
	expect_name_error("empty.example.internal", "cannot resolve empty.example.internal: no");
	expect_name_error("huge.example.internal", "resolves to 17 addresses: at most 16");
}

static void test_slot_out_of_range_is_rejected(void **state)
{
	struct policy *p = pb_new();
	struct policy_error err;
	struct compiled c;

	(void)state;
	pb_own_dest(p, pb_agent(p, "a"), "10.0.0.1", 80, 80, IPPROTO_TCP, POLICY_CONNECT, false,
		    at(4));
	assert_int_equal(compile_env(p, 0, PF_MAX_INSTANCES, 1, NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "slot"));
	assert_int_equal(c.n_nets, 0);
	pb_free(p);
}

/* pinfold check compiles every agent, and reports the first error. */
static void test_policy_check_compiles_every_agent(void **state)
{
	const struct compile_env env = {.resolve = fake_resolve, .resolve_ctx = (void *)fake_fs};
	struct policy *p = pb_new();
	struct policy_error err;
	size_t cl, b;

	(void)state;
	cl = pb_class(p, "phi.a", at(3));
	pb_tree(p, cl, "/srv/ehr", at(4));
	pb_agent(p, "a");
	b = pb_agent(p, "b");
	assert_int_equal(compile_policy_check(p, &env, &err), 0);
	assert_int_equal(err.line, 0);

	pb_own_tree(p, b, "/srv/gone", POLICY_READ, false, at_in("p.yaml", 12, 9));
	pb_own_tree(p, b, "/srv/secret", POLICY_READ, false, at_in("p.yaml", 13, 9));
	assert_int_equal(compile_policy_check(p, &env, &err), -EINVAL);
	assert_string_equal(err.file, "p.yaml");
	assert_int_equal(err.line, 12);
	assert_string_equal(err.msg, "tree does not exist: /srv/gone: No such file or directory");
	pb_free(p);
}

/* ---- through the parser ---- */

static void load_ok(const char *text, struct policy *p)
{
	struct policy_error err;
	char msg[600];

	if (policy_load_buffer("p.yaml", text, strlen(text), p, &err)) {
		policy_error_format(&err, msg, sizeof(msg));
		fail_msg("test policy does not load: %s", msg);
	}
}

static size_t class_index(const struct policy *p, const char *name)
{
	const struct policy_class *c = policy_find_class(p, name);

	assert_non_null(c);
	return (size_t)(c - p->classes);
}

static size_t family_index(const struct policy *p, const char *name)
{
	const struct policy_family *f = policy_find_family(p, name);

	assert_non_null(f);
	return (size_t)(f - p->families);
}

static size_t backend_index(const struct policy *p, const char *name)
{
	const struct policy_backend *b = policy_find_backend(p, name);

	assert_non_null(b);
	return (size_t)(b - p->backends);
}

static const char yaml_model[] =
	"version: 1\n"
	"classes:\n"
	"  phi.clinical:\n"
	"    trees: [/srv/ehr]\n"
	"  phi.psych:\n"
	"    trees: [/srv/ehr/psych]\n"
	"backends:\n"
	"  ehr:\n"
	"    destinations:\n"
	"      - { to: 10.1.0.0/16, port: 443, proto: tcp }\n"
	"    except: [10.1.2.3]\n"
	"  web:\n"
	"    destinations:\n"
	"      - { to: any, port: 443, proto: tcp }\n"
	"    except: [private, link-local]\n"
	"families:\n"
	"  clinical-read:\n"
	"    grants:\n"
	"      - { class: phi.clinical, actions: [read, exec] }\n"
	"      - { backend: ehr, actions: connect }\n"
	"  browse:\n"
	"    grants:\n"
	"      - { backend: web, actions: [connect, send], audit: true }\n"
	"agents:\n"
	"  a:\n"
	"    families: [clinical-read, browse]\n"
	"    files:\n"
	"      - { path: /srv/billing, access: [read, write, create] }\n"
	"    network:\n"
	"      - { to: 10.0.0.5, port: 443, proto: tcp, actions: [send] }\n"
	"  b: {}\n";

/* The whole model, parsed: classes, backends with exceptions, families, own rules. */
static void test_parsed_policy_compiles_to_its_model(void **state)
{
	size_t clinical, psych, cr, browse, ehr, web;
	const struct compiled_net *n;
	const struct pf_tree *t;
	struct compiled c;
	struct policy p;

	(void)state;
	load_ok(yaml_model, &p);
	clinical = class_index(&p, "phi.clinical");
	psych = class_index(&p, "phi.psych");
	cr = family_index(&p, "clinical-read");
	browse = family_index(&p, "browse");
	ehr = backend_index(&p, "ehr");
	web = backend_index(&p, "web");

	compile_ok(&p, 0, &c);
	/* no shipped class is used: the policy's trees and the own rule only */
	assert_int_equal(c.n_trees, 3);
	t = tree_of(&c, "/srv/ehr");
	assert_tree(t, CLASS_TREE(clinical, 0), PF_ACCESS_READ | PF_ACCESS_EXEC, 0);
	assert_int_equal(t->rule[0], GRANT(cr, 0));
	assert_int_equal(t->rule[4], GRANT(cr, 0));
	assert_tree(tree_of(&c, "/srv/ehr/psych"), CLASS_TREE(psych, 0), 0, 0);
	assert_tree(tree_of(&c, "/srv/billing"), OWN_TREE(0),
		    PF_ACCESS_READ | PF_ACCESS_WRITE | PF_ACCESS_CREATE, 0);

	assert_int_equal(connect_tcp(&c, "10.1.2.4", 443), GRANT(cr, 1));
	assert_int_equal(connect_tcp(&c, "10.1.2.3", 443), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "8.8.8.8", 443), GRANT(browse, 0));
	assert_int_equal(decide(&c, "8.8.8.8", 443, IPPROTO_TCP, PF_ACCESS_SEND), GRANT(browse, 0));
	assert_int_equal(connect_tcp(&c, "169.254.169.254", 443), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "fd12::1", 443), PF_RULE_NONE);
	assert_int_equal(connect_tcp(&c, "10.0.0.5", 443), PF_RULE_NONE);
	assert_int_equal(decide(&c, "10.0.0.5", 443, IPPROTO_TCP, PF_ACCESS_SEND), OWN_DEST(0));
	n = find_key(&c, "::", 0);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_int_equal(n->val.rules[0].object, BACKEND_DEST(web, 0));
	assert_int_equal(n->val.rules[0].audited, PF_ACCESS_CONNECT | PF_ACCESS_SEND);
	n = find_key(&c, "10.1.0.0", 112);
	assert_non_null(n);
	assert_int_equal(n->val.rules[0].object, BACKEND_DEST(ehr, 0));
	compiled_release(&c);

	/* b holds nothing: the classes' trees only, no destination */
	compile_ok(&p, 1, &c);
	assert_int_equal(c.n_trees, 2);
	assert_tree(tree_of(&c, "/srv/ehr"), CLASS_TREE(clinical, 0), 0, 0);
	assert_int_equal(c.n_nets, 0);
	compiled_release(&c);
	policy_release(&p);
}

/* The shipped families, as pinfold ships them, on the fake's system directories. */
static void test_parsed_runtime_families(void **state)
{
	static const char text[] = "version: 1\n"
				   "agents:\n"
				   "  a:\n"
				   "    families: [runtime, runtime-programs]\n"
				   "  b: {}\n";
	size_t runtime, programs, libraries, tmp;
	struct policy_error err;
	const struct pf_tree *t;
	struct compiled c;
	struct policy p;

	(void)state;
	load_ok(text, &p);
	runtime = family_index(&p, "runtime");
	programs = family_index(&p, "runtime-programs");
	libraries = class_index(&p, "runtime.libraries");
	tmp = class_index(&p, "runtime.tmp");
	assert_true(p.families[runtime].shipped);
	assert_true(p.classes[tmp].private_tmp);

	assert_int_equal(compile_env(&p, 0, 4, 2, "/tmp/pf-tmp.1", &c, &err), 0);
	/* /usr/lib (and /lib, once), the loader's cache, /dev/null, /usr/bin (and /bin), tmp */
	assert_int_equal(c.n_trees, 5);
	t = tree_of(&c, "/usr/lib");
	assert_ptr_equal(tree_of(&c, "/lib"), t);
	assert_tree(t, CLASS_TREE(libraries, 0), PF_ACCESS_READ | PF_ACCESS_EXEC, 0);
	assert_int_equal(POLICY_ID_KIND(t->rule[4]), POLICY_ID_GRANT);
	assert_int_equal(POLICY_ID_MAJOR(t->rule[4]), runtime);
	t = tree_of(&c, "/etc/ld.so.cache");
	assert_tree(t, CLASS_TREE(class_index(&p, "runtime.loader"), 0), PF_ACCESS_READ, 0);
	t = tree_of(&c, "/dev/null");
	assert_tree(t, CLASS_TREE(class_index(&p, "runtime.devices"), 0),
		    PF_ACCESS_READ | PF_ACCESS_WRITE, 0);
	t = tree_of(&c, "/usr/bin");
	assert_tree(t, CLASS_TREE(class_index(&p, "runtime.programs"), 0),
		    PF_ACCESS_READ | PF_ACCESS_EXEC, 0);
	assert_int_equal(POLICY_ID_MAJOR(t->rule[4]), programs);
	t = tree_of(&c, "/tmp/pf-tmp.1");
	assert_tree(t, CLASS_TREE(tmp, 0), POLICY_ACCESS_READ_WRITE, 0);
	assert_int_equal(pf_decide_file(t, 0, PF_ACCESS_EXEC), PF_REASON_ACCESS);
	compiled_release(&c);

	/* b holds none of it, but the classes are in use: all tagged, nothing granted */
	assert_int_equal(compile_env(&p, 1, 5, 1, "/tmp/pf-tmp.1", &c, &err), 0);
	assert_int_equal(c.n_trees, 5);
	assert_tree(tree_of(&c, "/usr/lib"), CLASS_TREE(libraries, 0), 0, 0);
	assert_tree(tree_of(&c, "/tmp/pf-tmp.1"), CLASS_TREE(tmp, 0), 0, 0);
	compiled_release(&c);
	policy_release(&p);
}

/* What only compiling finds, reported at the place the parser recorded. */
static void test_parsed_policy_errors_have_places(void **state)
{
	static const char missing[] = "version: 1\n"
				      "classes:\n"
				      "  c:\n"
				      "    trees:\n"
				      "      - /srv/ehr\n"
				      "      - /srv/gone\n"
				      "agents:\n"
				      "  a: {}\n";
	static const char alias[] = "version: 1\n"
				    "classes:\n"
				    "  vendor:\n"
				    "    trees: [/srv/libs-alias]\n"
				    "agents:\n"
				    "  a:\n"
				    "    families: [runtime]\n";
	const struct compile_env env = {.resolve = fake_resolve, .resolve_ctx = (void *)fake_fs};
	struct policy_error err;
	struct policy p;

	(void)state;
	load_ok(missing, &p);
	assert_int_equal(compile_policy_check(&p, &env, &err), -EINVAL);
	assert_string_equal(err.file, "p.yaml");
	assert_int_equal(err.line, 6);
	assert_int_equal(err.column, 9);
	assert_string_equal(err.msg, "tree does not exist: /srv/gone: No such file or directory");
	policy_release(&p);

	load_ok(alias, &p);
	assert_int_equal(compile_policy_check(&p, &env, &err), -EINVAL);
	assert_string_equal(err.file, "p.yaml");
	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 13);
	assert_string_equal(
		err.msg,
		"tree /srv/libs-alias is the same inode as /usr/lib of class runtime.libraries");
	policy_release(&p);
}

/* The object anchored at path (through the fake), or PF_RULE_NONE when none. */
static uint32_t anchor_of(const struct compiled *c, const char *path)
{
	uint64_t dev = 0, ino = 0;
	size_t i;

	assert_int_equal(fake_resolve(path, &dev, &ino, (void *)fake_fs), 0);
	for (i = 0; i < c->n_anchors; i++) {
		const struct pf_tree_key *k = &c->anchors[i].key;

		if (k->slot == c->slot && k->gen == c->gen && k->dev == dev && k->ino == ino)
			return c->anchors[i].object;
	}
	return PF_RULE_NONE;
}

/*
 * Each tree root, and each directory above one but /, is anchored once,
 * with a tree it holds: classes granted or not, and own trees.
 */
static void test_tree_roots_and_their_directories_are_anchored(void **state)
{
	struct policy *p = pb_new();
	struct compiled c;
	size_t ehr, psych, a, i, j;

	(void)state;
	ehr = pb_class(p, "phi.ehr", at(3));
	pb_tree(p, ehr, "/srv/ehr", at(4));
	psych = pb_class(p, "phi.psych", at(5));
	pb_tree(p, psych, "/srv/ehr/psych", at(6));
	a = pb_agent(p, "a");
	pb_own_tree(p, a, "/srv/billing", POLICY_READ, false, at(9));
	compile_ok(p, a, &c);

	assert_int_equal(anchor_of(&c, "/srv/ehr/psych"),
			 POLICY_ID(POLICY_ID_CLASS_TREE, psych, 0));
	assert_int_equal(anchor_of(&c, "/srv/ehr"), POLICY_ID(POLICY_ID_CLASS_TREE, ehr, 0));
	assert_int_equal(anchor_of(&c, "/srv/billing"), POLICY_ID(POLICY_ID_OWN_TREE, 0, 0));
	/* /srv holds all three: the first tree met names it */
	assert_int_equal(anchor_of(&c, "/srv"), POLICY_ID(POLICY_ID_CLASS_TREE, ehr, 0));
	assert_int_equal(c.n_anchors, 4);
	for (i = 0; i < c.n_anchors; i++) {
		assert_int_equal(c.anchors[i].key.slot, 5);
		assert_int_equal(c.anchors[i].key.gen, 1);
		for (j = 0; j < i; j++)
			assert_false(c.anchors[i].key.dev == c.anchors[j].key.dev &&
				     c.anchors[i].key.ino == c.anchors[j].key.ino);
	}
	/* a directory holding no tree is not anchored */
	assert_int_equal(anchor_of(&c, "/srv/ehr/archive"), PF_RULE_NONE);
	compiled_release(&c);
	assert_null(c.anchors);
	pb_free(p);
}

/* ---- the world as it is ---- */

static void test_resolve_stat_follows_symlinks(void **state)
{
	char dir[] = "/tmp/pf-compile-XXXXXX", sub[64], link[64], gone[64];
	uint64_t dev, ino, ldev, lino;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/tree", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(gone, sizeof(gone), "%s/gone", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink(sub, link), 0);
	assert_int_equal(stat(sub, &st), 0);

	assert_int_equal(compile_resolve_stat(sub, &dev, &ino, NULL), 0);
	assert_int_equal(compile_resolve_stat(link, &ldev, &lino, NULL), 0);
	assert_int_equal(ino, st.st_ino);
	assert_int_equal(dev, ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev));
	assert_int_equal(ldev, dev);
	assert_int_equal(lino, ino);
	assert_int_equal(compile_resolve_stat(gone, &dev, &ino, NULL), -ENOENT);

	unlink(link);
	rmdir(sub);
	rmdir(dir);
}

/*
 * With stat(2), the anchors follow the real path of a tree, and the
 * symbolic links of its path as written are anchored too: renaming one
 * would redirect the path at the next apply.
 */
static void test_real_path_and_links_are_anchored(void **state)
{
	char dir[] = "/tmp/pf-compile-XXXXXX", real[64], deep[80], link[64], via[96];
	const char *names[] = {dir, real, deep, link};
	struct policy *p = pb_new();
	struct policy_error err;
	struct compiled c;
	struct stat st;
	size_t a, i, k;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(real, sizeof(real), "%s/real", dir);
	snprintf(deep, sizeof(deep), "%s/real/tree", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(via, sizeof(via), "%s/link/tree", dir);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(mkdir(deep, 0700), 0);
	assert_int_equal(symlink("real", link), 0);
	a = pb_agent(p, "a");
	pb_own_tree(p, a, via, POLICY_READ, false, at(5));
	assert_int_equal(compile_agent(p, &p->agents[a], 0, 1, NULL, &c, &err), 0);

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		assert_int_equal(lstat(names[k], &st), 0);
		for (i = 0; i < c.n_anchors; i++)
			if (c.anchors[i].key.ino == st.st_ino &&
			    c.anchors[i].key.dev ==
				    ((uint64_t)major(st.st_dev) << 20 | minor(st.st_dev)))
				break;
		if (i == c.n_anchors)
			fail_msg("%s is not anchored", names[k]);
		assert_int_equal(c.anchors[i].object, POLICY_ID(POLICY_ID_OWN_TREE, 0, 0));
	}
	compiled_release(&c);
	unlink(link);
	rmdir(deep);
	rmdir(real);
	rmdir(dir);
	pb_free(p);
}

/* A zeroed environment resolves trees with stat(2). */
static void test_default_environment_uses_stat(void **state)
{
	char dir[] = "/tmp/pf-compile-XXXXXX";
	struct policy *p = pb_new();
	struct policy_error err;
	struct compiled c;
	struct stat st;
	size_t a;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(stat(dir, &st), 0);
	a = pb_agent(p, "a");
	pb_own_tree(p, a, dir, POLICY_READ, false, at(5));
	assert_int_equal(compile_agent(p, &p->agents[a], 0, 1, NULL, &c, &err), 0);
	assert_int_equal(c.n_trees, 1);
	assert_int_equal(c.trees[0].key.ino, st.st_ino);
	compiled_release(&c);
	rmdir(dir);
	pb_free(p);
}

static void test_getaddrinfo_resolves_localhost_from_hosts(void **state)
{
	uint8_t addrs[COMPILE_NAME_ADDRS_MAX][16], v4[16], v6[16], other[16];
	char why[128] = "";
	int n, i, hits = 0;

	(void)state;
	/* /etc/hosts names localhost, so this needs no DNS */
	n = compile_resolve_getaddrinfo("localhost", addrs, COMPILE_NAME_ADDRS_MAX, why,
					sizeof(why), NULL);
	if (n <= 0)
		fail_msg("localhost does not resolve: %d %s", n, why);
	addr16("127.0.0.1", v4);
	addr16("::1", v6);
	for (i = 0; i < n; i++)
		hits += !memcmp(addrs[i], v4, 16) || !memcmp(addrs[i], v6, 16);
	assert_true(hits >= 1);

	/* a numeric host is its own single address, once despite several socket types */
	n = compile_resolve_getaddrinfo("192.0.2.7", addrs, COMPILE_NAME_ADDRS_MAX, why,
					sizeof(why), NULL);
	assert_int_equal(n, 1);
	addr16("192.0.2.7", other);
	assert_memory_equal(addrs[0], other, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deepest_tree_decides_across_classes),
		cmocka_unit_test(test_ungranted_class_trees_are_tagged_with_access_0),
		cmocka_unit_test(test_first_grant_per_action),
		cmocka_unit_test(test_keys_are_unique_across_index_growth),
		cmocka_unit_test(test_own_rules_are_their_own_grants),
		cmocka_unit_test(test_shipped_classes_only_when_used),
		cmocka_unit_test(test_shipped_classes_used_by_one_agent_tag_all),
		cmocka_unit_test(test_private_tmp_is_tagged_as_runtime_tmp),
		cmocka_unit_test(test_generation_in_every_key),
		cmocka_unit_test(test_tree_roots_and_their_directories_are_anchored),
		cmocka_unit_test(test_worked_example_with_an_exception),
		cmocka_unit_test(test_exception_of_one_host_in_a_prefix),
		cmocka_unit_test(test_exception_any_but_private_and_link_local),
		cmocka_unit_test(test_connect_and_send_are_separate),
		cmocka_unit_test(test_nested_prefixes_hold_every_containing_rule),
		cmocka_unit_test(test_pushed_down_rules_match_every_rule_tried_for_every_key),
		cmocka_unit_test(test_backend_hostnames),
		cmocka_unit_test(test_names_sharing_an_address_share_its_entry),
		cmocka_unit_test(test_agent_without_anything_compiles_to_nothing),
		cmocka_unit_test(test_missing_tree_is_an_error_at_its_place),
		cmocka_unit_test(test_unresolvable_tree_reports_errno),
		cmocka_unit_test(test_two_trees_on_one_inode_are_an_error),
		cmocka_unit_test(test_policy_tree_on_a_used_shipped_tree_is_an_error),
		cmocka_unit_test(test_too_many_rules_for_a_prefix_is_an_error),
		cmocka_unit_test(test_too_many_rules_at_an_exception_is_an_error),
		cmocka_unit_test(test_unresolvable_names_are_errors_at_their_destination),
		cmocka_unit_test(test_slot_out_of_range_is_rejected),
		cmocka_unit_test(test_policy_check_compiles_every_agent),
		cmocka_unit_test(test_parsed_policy_compiles_to_its_model),
		cmocka_unit_test(test_parsed_runtime_families),
		cmocka_unit_test(test_parsed_policy_errors_have_places),
		cmocka_unit_test(test_resolve_stat_follows_symlinks),
		cmocka_unit_test(test_real_path_and_links_are_anchored),
		cmocka_unit_test(test_default_environment_uses_stat),
		cmocka_unit_test(test_getaddrinfo_resolves_localhost_from_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
