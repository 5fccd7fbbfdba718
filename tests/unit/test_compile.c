// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_compile.c - one agent's rules as kernel map entries: the network
 * pushdown (checked both as entries and as decisions through a reference
 * longest-prefix lookup), tree resolution through a fake resolver, rule ids.
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

#include "policy/compile.h"

/* A fake file system: path -> (dev, ino), or an errno. */
struct fake_file {
	const char *path;
	uint64_t dev, ino;
	int err;
};

static const struct fake_file fake_fs[] = {
	{"/srv/ehr", 0x800001, 100, 0},         {"/srv/ehr/archive", 0x800001, 200, 0},
	{"/srv/link-to-ehr", 0x800001, 100, 0}, {"/srv/other-dev", 0x800002, 100, 0},
	{"/srv/secret", 0, 0, EACCES},          {NULL, 0, 0, 0},
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

/* Load text (which must be valid) and compile agent "a" for slot. */
static int compile_text(const char *text, uint32_t slot, struct policy *p, struct compiled *c,
			struct policy_error *err)
{
	char msg[600];
	int rc;

	rc = policy_load_buffer("p.yaml", text, strlen(text), p, err);
	if (rc) {
		policy_error_format(err, msg, sizeof(msg));
		fail_msg("test policy does not load: %s", msg);
	}
	return compile_agent(p, policy_find_agent(p, "a"), slot, fake_resolve, (void *)fake_fs, c,
			     err);
}

static void compile_ok(const char *text, uint32_t slot, struct policy *p, struct compiled *c)
{
	struct policy_error err;
	char msg[600];

	if (compile_text(text, slot, p, c, &err)) {
		policy_error_format(&err, msg, sizeof(msg));
		fail_msg("expected the agent to compile, got %s", msg);
	}
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

/* The entry whose key is exactly (slot, addr/prefix), prefix in IPv6 bits. */
static const struct compiled_net *find_key(const struct compiled *c, uint32_t slot,
					   const char *addr, unsigned prefix)
{
	uint8_t a[16];
	size_t i;

	addr16(addr, a);
	for (i = 0; i < c->n_nets; i++)
		if (c->nets[i].key.prefixlen == 32 + prefix && c->nets[i].key.slot == htonl(slot) &&
		    !memcmp(c->nets[i].key.addr, a, 16))
			return &c->nets[i];
	return NULL;
}

/* Reference BPF_MAP_TYPE_LPM_TRIE lookup: the longest key whose first prefixlen bits match. */
static const struct compiled_net *lpm_lookup(const struct compiled *c, uint32_t slot,
					     const char *addr)
{
	const struct compiled_net *best = NULL;
	uint8_t data[20], key[20];
	size_t i;
	unsigned b;

	slot = htonl(slot);
	memcpy(data, &slot, 4);
	addr16(addr, data + 4);
	for (i = 0; i < c->n_nets; i++) {
		const struct compiled_net *n = &c->nets[i];

		memcpy(key, &n->key.slot, 4);
		memcpy(key + 4, n->key.addr, 16);
		for (b = 0; b < n->key.prefixlen; b++)
			if ((key[b / 8] ^ data[b / 8]) & (0x80 >> (b % 8)))
				break;
		if (b == n->key.prefixlen && (!best || n->key.prefixlen > best->key.prefixlen))
			best = n;
	}
	return best;
}

/* The rule id that allows a connection, or PF_RULE_NONE. */
static uint32_t decide(const struct compiled *c, uint32_t slot, const char *addr, uint16_t port,
		       uint8_t proto)
{
	const struct compiled_net *n = lpm_lookup(c, slot, addr);
	uint32_t i;

	if (!n)
		return PF_RULE_NONE;
	assert_true(n->val.count <= PF_PORTS_PER_PREFIX);
	for (i = 0; i < n->val.count; i++) {
		const struct pf_port_rule *r = &n->val.rules[i];

		if (r->proto == proto && r->port_lo <= port && port <= r->port_hi)
			return r->rule_id;
	}
	return PF_RULE_NONE;
}

static void assert_rule(const struct pf_port_rule *r, uint16_t lo, uint16_t hi, uint8_t proto,
			uint32_t rule_id)
{
	assert_int_equal(r->port_lo, lo);
	assert_int_equal(r->port_hi, hi);
	assert_int_equal(r->proto, proto);
	assert_int_equal(r->rule_id, rule_id);
}

static void release(struct policy *p, struct compiled *c)
{
	compiled_release(c);
	policy_release(p);
}

static const char example[] = "version: 1\nagents:\n  a:\n    network:\n"
			      "      - {to: 10.0.0.0/8, port: 53, proto: udp}\n"
			      "      - {to: 10.1.2.3/32, port: 443, proto: tcp}\n";

static void test_worked_example_entries(void **state)
{
	const struct compiled_net *n;
	struct compiled c;
	struct policy p;

	(void)state;
	compile_ok(example, 5, &p, &c);
	assert_int_equal(c.n_nets, 2);

	n = find_key(&c, 5, "10.1.2.3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_rule(&n->val.rules[0], 443, 443, IPPROTO_TCP, POLICY_RULE_NET(1));
	assert_rule(&n->val.rules[1], 53, 53, IPPROTO_UDP, POLICY_RULE_NET(0));

	n = find_key(&c, 5, "10.0.0.0", 104);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_rule(&n->val.rules[0], 53, 53, IPPROTO_UDP, POLICY_RULE_NET(0));
	release(&p, &c);
}

static void test_worked_example_decisions(void **state)
{
	struct compiled c;
	struct policy p;

	(void)state;
	compile_ok(example, 5, &p, &c);
	assert_int_equal(decide(&c, 5, "10.1.2.3", 53, IPPROTO_UDP), POLICY_RULE_NET(0));
	assert_int_equal(decide(&c, 5, "10.1.2.3", 443, IPPROTO_TCP), POLICY_RULE_NET(1));
	assert_int_equal(decide(&c, 5, "10.9.9.9", 443, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 5, "10.9.9.9", 53, IPPROTO_UDP), POLICY_RULE_NET(0));
	assert_int_equal(decide(&c, 5, "10.1.2.3", 53, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 5, "11.0.0.1", 53, IPPROTO_UDP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 5, "::ffff:10.1.2.3", 53, IPPROTO_UDP), POLICY_RULE_NET(0));
	/* another slot's rules are not this slot's */
	assert_int_equal(decide(&c, 6, "10.1.2.3", 53, IPPROTO_UDP), PF_RULE_NONE);
	release(&p, &c);
}

static void test_nested_prefixes_hold_every_containing_rule(void **state)
{
	static const struct {
		const char *addr;
		unsigned prefix;
		uint32_t rules[4];
		uint32_t count;
	} want[] = {
		{"10.0.0.0", 104, {0}, 1},          {"10.1.0.0", 112, {1, 0}, 2},
		{"10.1.2.0", 120, {2, 6, 1, 0}, 4}, {"10.1.2.3", 128, {3, 2, 6, 1}, 4 + 1},
		{"10.2.0.0", 112, {4, 0}, 2},       {"192.168.0.0", 112, {5}, 1},
	};
	const struct compiled_net *n;
	struct compiled c;
	struct policy p;
	size_t i, k;

	(void)state;
	compile_ok("version: 1\nagents:\n  a:\n    network:\n"
		   "      - {to: 10.0.0.0/8, port: 1, proto: tcp}\n"
		   "      - {to: 10.1.0.0/16, port: 2, proto: tcp}\n"
		   "      - {to: 10.1.2.0/24, port: 3, proto: tcp}\n"
		   "      - {to: 10.1.2.3, port: 4, proto: tcp}\n"
		   "      - {to: 10.2.0.0/16, port: 5, proto: tcp}\n"
		   "      - {to: 192.168.0.0/16, port: 6, proto: tcp}\n"
		   "      - {to: 10.1.2.0/24, port: 7, proto: udp}\n",
		   1, &p, &c);
	assert_int_equal(c.n_nets, 6);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		n = find_key(&c, 1, want[i].addr, want[i].prefix);
		assert_non_null(n);
		assert_int_equal(n->val.count, want[i].count);
		/* longest prefix first; equal prefixes in policy order */
		for (k = 0; k < want[i].count && k < 4; k++)
			assert_int_equal(n->val.rules[k].rule_id,
					 POLICY_RULE_NET(want[i].rules[k]));
	}
	assert_int_equal(decide(&c, 1, "10.1.2.3", 1, IPPROTO_TCP), POLICY_RULE_NET(0));
	assert_int_equal(decide(&c, 1, "10.1.2.3", 7, IPPROTO_UDP), POLICY_RULE_NET(6));
	assert_int_equal(decide(&c, 1, "10.1.2.9", 4, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 1, "10.2.7.7", 2, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 1, "10.2.7.7", 5, IPPROTO_TCP), POLICY_RULE_NET(4));
	release(&p, &c);
}

static void test_v4_mapped_form_is_the_v4_prefix(void **state)
{
	const struct compiled_net *n;
	struct compiled c4, c6;
	struct policy p4, p6;

	(void)state;
	compile_ok("version: 1\nagents:\n  a:\n    network:\n"
		   "      - {to: '::ffff:10.1.2.0/120', port: 80, proto: tcp}\n"
		   "      - {to: 10.1.2.0/24, port: 81, proto: tcp}\n",
		   0, &p4, &c4);
	assert_int_equal(c4.n_nets, 1);
	n = find_key(&c4, 0, "10.1.2.0", 96 + 24);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_rule(&n->val.rules[0], 80, 80, IPPROTO_TCP, POLICY_RULE_NET(0));
	assert_rule(&n->val.rules[1], 81, 81, IPPROTO_TCP, POLICY_RULE_NET(1));

	compile_ok("version: 1\nagents:\n  a:\n    network:\n"
		   "      - {to: 10.1.2.0/24, port: 80, proto: tcp}\n",
		   0, &p6, &c6);
	assert_int_equal(c6.n_nets, 1);
	assert_memory_equal(&c6.nets[0].key, &c4.nets[0].key, sizeof(c4.nets[0].key));
	release(&p4, &c4);
	release(&p6, &c6);
}

static void test_ipv6_prefix_covers_v4_mapped_space(void **state)
{
	const struct compiled_net *n;
	struct compiled c;
	struct policy p;

	(void)state;
	compile_ok("version: 1\nagents:\n  a:\n    network:\n"
		   "      - {to: '::/0', port: 443, proto: tcp}\n"
		   "      - {to: 127.0.0.1, port: 80, proto: tcp}\n"
		   "      - {to: 'fd00::/8', port: 53, proto: udp}\n",
		   2, &p, &c);
	assert_int_equal(c.n_nets, 3);
	n = find_key(&c, 2, "127.0.0.1", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_rule(&n->val.rules[0], 80, 80, IPPROTO_TCP, POLICY_RULE_NET(1));
	assert_rule(&n->val.rules[1], 443, 443, IPPROTO_TCP, POLICY_RULE_NET(0));
	n = find_key(&c, 2, "fd00::", 8);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_int_equal(decide(&c, 2, "8.8.8.8", 443, IPPROTO_TCP), POLICY_RULE_NET(0));
	assert_int_equal(decide(&c, 2, "fd12::1", 443, IPPROTO_TCP), POLICY_RULE_NET(0));
	assert_int_equal(decide(&c, 2, "fd12::1", 53, IPPROTO_UDP), POLICY_RULE_NET(2));
	assert_int_equal(decide(&c, 2, "2001:db8::1", 53, IPPROTO_UDP), PF_RULE_NONE);
	release(&p, &c);
}

static void test_port_ranges_and_audit_flags(void **state)
{
	const struct compiled_net *n;
	struct compiled c;
	struct policy p;

	(void)state;
	compile_ok("version: 1\nagents:\n  a:\n    network:\n"
		   "      - {to: 127.0.0.1, port: 8000-8100, proto: tcp, audit: true}\n"
		   "      - {to: 127.0.0.1, port: 9000, proto: udp}\n",
		   3, &p, &c);
	n = find_key(&c, 3, "127.0.0.1", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_rule(&n->val.rules[0], 8000, 8100, IPPROTO_TCP, POLICY_RULE_NET(0));
	assert_int_equal(n->val.rules[0].flags, PF_RULE_AUDITED);
	assert_int_equal(n->val.rules[1].flags, 0);
	assert_int_equal(n->val.rules[0].pad, 0);
	assert_int_equal(n->val.pad, 0);
	assert_int_equal(decide(&c, 3, "127.0.0.1", 7999, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 3, "127.0.0.1", 8000, IPPROTO_TCP), POLICY_RULE_NET(0));
	assert_int_equal(decide(&c, 3, "127.0.0.1", 8100, IPPROTO_TCP), POLICY_RULE_NET(0));
	assert_int_equal(decide(&c, 3, "127.0.0.1", 8101, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 3, "127.0.0.1", 9000, IPPROTO_UDP), POLICY_RULE_NET(1));
	release(&p, &c);
}

/* rules for one /8 with ports 1..n_wide, then one /32 inside it */
static char *overflow_policy(int n_wide)
{
	size_t size = 256 + 64 * (size_t)n_wide, o;
	char *text = malloc(size);
	int i;

	assert_non_null(text);
	o = (size_t)snprintf(text, size, "version: 1\nagents:\n  a:\n    network:\n");
	for (i = 1; i <= n_wide; i++)
		o += (size_t)snprintf(text + o, size - o,
				      "      - {to: 10.0.0.0/8, port: %d, proto: tcp}\n", i);
	snprintf(text + o, size - o, "      - {to: 10.1.2.3, port: 443, proto: tcp}\n");
	return text;
}

static void test_too_many_rules_for_a_prefix_is_an_error(void **state)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;
	char *text;

	(void)state;
	/* 15 + 1 fill the /32 exactly */
	text = overflow_policy(PF_PORTS_PER_PREFIX - 1);
	compile_ok(text, 0, &p, &c);
	assert_int_equal(find_key(&c, 0, "10.1.2.3", 128)->val.count, PF_PORTS_PER_PREFIX);
	release(&p, &c);
	free(text);

	/* 16 fit the /8, but 16 + 1 pushed into the /32 do not */
	text = overflow_policy(PF_PORTS_PER_PREFIX);
	assert_int_equal(compile_text(text, 0, &p, &c, &err), -EINVAL);
	assert_int_equal(err.line, 5 + PF_PORTS_PER_PREFIX);
	assert_int_equal(err.column, 9);
	assert_string_equal(err.file, "p.yaml");
	assert_non_null(strstr(err.msg, "too many port rules for 10.1.2.3/32"));
	assert_null(c.nets);
	assert_int_equal(c.n_nets, 0);
	policy_release(&p);
	free(text);
}

static const char trees[] = "version: 1\nagents:\n  a:\n    files:\n"
			    "      - path: /srv/ehr\n"
			    "        access: read-write\n"
			    "        audit: true\n"
			    "      - path: /srv/ehr/archive\n"
			    "        access: read\n"
			    "      - path: /srv/other-dev\n"
			    "        access: read\n";

static void test_trees_resolve_through_the_resolver(void **state)
{
	struct compiled c;
	struct policy p;
	size_t i;

	(void)state;
	compile_ok(trees, 7, &p, &c);
	assert_int_equal(c.n_trees, 3);
	assert_int_equal(c.n_nets, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(c.trees[i].key.slot, 7);
		assert_int_equal(c.trees[i].key.pad, 0);
		assert_int_equal(c.trees[i].val.rule_id, POLICY_RULE_FILE(i));
	}
	assert_int_equal(c.trees[0].key.dev, 0x800001);
	assert_int_equal(c.trees[0].key.ino, 100);
	assert_int_equal(c.trees[0].val.access, PF_ACCESS_READ | PF_ACCESS_WRITE | PF_RULE_AUDITED);
	assert_int_equal(c.trees[1].key.ino, 200);
	assert_int_equal(c.trees[1].val.access, PF_ACCESS_READ);
	/* same inode number on another device is another tree */
	assert_int_equal(c.trees[2].key.dev, 0x800002);
	assert_int_equal(c.trees[2].key.ino, 100);
	release(&p, &c);
}

static void test_missing_tree_is_an_error_at_its_rule(void **state)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;

	(void)state;
	assert_int_equal(compile_text("version: 1\nagents:\n  a:\n    files:\n"
				      "      - {path: /srv/ehr, access: read}\n"
				      "      - {path: /srv/gone, access: read}\n",
				      0, &p, &c, &err),
			 -EINVAL);
	assert_int_equal(err.line, 6);
	assert_int_equal(err.column, 9);
	assert_string_equal(err.msg, "tree does not exist: /srv/gone: No such file or directory");
	assert_null(c.trees);
	policy_release(&p);
}

static void test_unresolvable_tree_reports_errno(void **state)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;

	(void)state;
	assert_int_equal(compile_text("version: 1\nagents:\n  a:\n    files:\n"
				      "      - {path: /srv/secret, access: read}\n",
				      0, &p, &c, &err),
			 -EINVAL);
	assert_int_equal(err.line, 5);
	assert_string_equal(err.msg, "cannot resolve tree /srv/secret: Permission denied");
	policy_release(&p);
}

static void test_two_trees_on_one_inode_is_an_error(void **state)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;

	(void)state;
	assert_int_equal(compile_text("version: 1\nagents:\n  a:\n    files:\n"
				      "      - {path: /srv/ehr, access: read}\n"
				      "      - {path: /srv/ehr/archive, access: read}\n"
				      "      - {path: /srv/link-to-ehr, access: read-write}\n",
				      0, &p, &c, &err),
			 -EINVAL);
	assert_int_equal(err.line, 7);
	assert_int_equal(err.column, 9);
	assert_string_equal(err.msg, "tree /srv/link-to-ehr is the same inode as /srv/ehr at 5:9");
	assert_null(c.trees);
	policy_release(&p);
}

static void test_rule_ids_describe_their_rules(void **state)
{
	static const char text[] = "version: 1\nagents:\n  a:\n    network:\n"
				   "      - {to: 10.0.0.0/8, port: 53, proto: udp}\n"
				   "      - {to: 10.1.2.3/32, port: 443, proto: tcp}\n"
				   "    files:\n"
				   "      - {path: /srv/ehr, access: read}\n"
				   "      - {path: /srv/ehr/archive, access: read-write}\n";
	const struct policy_agent *a;
	const struct compiled_net *n;
	struct compiled c;
	struct policy p;
	char buf[256];

	(void)state;
	compile_ok(text, 0, &p, &c);
	a = policy_find_agent(&p, "a");
	n = find_key(&c, 0, "10.1.2.3", 128);
	assert_non_null(n);
	policy_rule_describe(&p, a, n->val.rules[0].rule_id, buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:6:9 network 10.1.2.3/32 port 443 tcp");
	policy_rule_describe(&p, a, n->val.rules[1].rule_id, buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:5:9 network 10.0.0.0/8 port 53 udp");
	policy_rule_describe(&p, a, c.trees[1].val.rule_id, buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:9:9 files /srv/ehr/archive read-write");
	release(&p, &c);
}

static void test_agent_without_rules_compiles_to_nothing(void **state)
{
	struct compiled c;
	struct policy p;

	(void)state;
	compile_ok("version: 1\nagents:\n  a: {}\n", 0, &p, &c);
	assert_int_equal(c.n_trees, 0);
	assert_int_equal(c.n_nets, 0);
	release(&p, &c);
	compiled_release(&c);
}

static void test_slot_out_of_range_is_rejected(void **state)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;

	(void)state;
	assert_int_equal(compile_text(example, PF_MAX_INSTANCES, &p, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "slot"));
	assert_int_equal(c.n_nets, 0);
	policy_release(&p);
}

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

static int compile_names_text(const char *text, struct policy *p, struct compiled *c,
			      struct policy_error *err)
{
	char msg[600];

	if (policy_load_buffer("p.yaml", text, strlen(text), p, err)) {
		policy_error_format(err, msg, sizeof(msg));
		fail_msg("test policy does not load: %s", msg);
	}
	return compile_agent_names(p, policy_find_agent(p, "a"), 2, fake_resolve, (void *)fake_fs,
				   fake_resolve_name, (void *)fake_dns, c, err);
}

static void test_hostname_becomes_host_entries_of_its_rule(void **state)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;
	const struct compiled_net *n;
	uint8_t a[16];

	(void)state;
	assert_int_equal(
		compile_names_text("version: 1\n"
				   "agents:\n"
				   "  a:\n"
				   "    network:\n"
				   "      - {to: 10.0.0.0/8, port: 53, proto: udp}\n"
				   "      - {to: dual.example.internal, port: 443, proto: tcp,"
				   " audit: true}\n",
				   &p, &c, &err),
		0);
	/* 10.0.0.0/8, then one /32 or /128 per address of the name */
	assert_int_equal(c.n_nets, 4);
	n = find_key(&c, 2, "10.9.0.1", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 2);
	assert_rule(&n->val.rules[0], 443, 443, IPPROTO_TCP, POLICY_RULE_NET(1));
	assert_int_equal(n->val.rules[0].flags, PF_RULE_AUDITED);
	assert_rule(&n->val.rules[1], 53, 53, IPPROTO_UDP, POLICY_RULE_NET(0));
	assert_int_equal(n->val.rules[1].flags, 0);
	assert_non_null(find_key(&c, 2, "10.9.0.2", 128));
	n = find_key(&c, 2, "2001:db8::1", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_rule(&n->val.rules[0], 443, 443, IPPROTO_TCP, POLICY_RULE_NET(1));

	assert_int_equal(decide(&c, 2, "10.9.0.2", 443, IPPROTO_TCP), POLICY_RULE_NET(1));
	assert_int_equal(decide(&c, 2, "2001:db8::1", 443, IPPROTO_TCP), POLICY_RULE_NET(1));
	assert_int_equal(decide(&c, 2, "10.9.0.3", 443, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 2, "10.9.0.1", 444, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(decide(&c, 2, "2001:db8::2", 443, IPPROTO_TCP), PF_RULE_NONE);

	/* what the name resolved to, for the audit trail */
	assert_int_equal(c.n_names, 1);
	assert_int_equal(c.names[0].rule_id, POLICY_RULE_NET(1));
	assert_string_equal(c.names[0].host, "dual.example.internal");
	assert_int_equal(c.names[0].n_addrs, 3);
	addr16("10.9.0.1", a);
	assert_memory_equal(c.names[0].addrs[0], a, 16);
	addr16("2001:db8::1", a);
	assert_memory_equal(c.names[0].addrs[2], a, 16);
	compiled_release(&c);
	policy_release(&p);
}

static void test_names_sharing_an_address_share_its_entry(void **state)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;
	const struct compiled_net *n;

	(void)state;
	assert_int_equal(compile_names_text(
				 "version: 1\n"
				 "agents:\n"
				 "  a:\n"
				 "    network:\n"
				 "      - {to: ehr.example.internal, port: 443, proto: tcp}\n"
				 "      - {to: billing.example.internal, port: 5432, proto: tcp}\n"
				 "      - {to: 10.1.2.3, port: 22, proto: tcp}\n",
				 &p, &c, &err),
			 0);
	assert_int_equal(c.n_nets, 2); /* 10.1.2.3/32 and fd00::3/128 */
	n = find_key(&c, 2, "10.1.2.3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 3);
	assert_rule(&n->val.rules[0], 443, 443, IPPROTO_TCP, POLICY_RULE_NET(0));
	assert_rule(&n->val.rules[1], 5432, 5432, IPPROTO_TCP, POLICY_RULE_NET(1));
	assert_rule(&n->val.rules[2], 22, 22, IPPROTO_TCP, POLICY_RULE_NET(2));
	n = find_key(&c, 2, "fd00::3", 128);
	assert_non_null(n);
	assert_int_equal(n->val.count, 1);
	assert_int_equal(decide(&c, 2, "fd00::3", 5432, IPPROTO_TCP), PF_RULE_NONE);
	assert_int_equal(c.n_names, 2);
	assert_int_equal(c.names[1].rule_id, POLICY_RULE_NET(1));
	compiled_release(&c);
	policy_release(&p);
}

static void expect_name_error(const char *host, const char *want)
{
	struct policy_error err;
	struct compiled c;
	struct policy p;
	char text[512];

	snprintf(text, sizeof(text),
		 "version: 1\n"
		 "agents:\n"
		 "  a:\n"
		 "    network:\n"
		 "      - {to: 10.0.0.1, port: 80, proto: tcp}\n"
		 "      - to: %s\n"
		 "        port: 80\n"
		 "        proto: tcp\n",
		 host);
	assert_int_equal(compile_names_text(text, &p, &c, &err), -EINVAL);
	assert_string_equal(err.file, "p.yaml");
	assert_int_equal(err.line, 6);
	assert_int_equal(err.column, 9);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not say \"%s\"", err.msg, want);
	assert_int_equal(c.n_nets, 0);
	assert_null(c.names);
	policy_release(&p);
}

static void test_unresolvable_names_are_errors_at_their_rule(void **state)
{
	(void)state;
	expect_name_error("nowhere.invalid", "cannot resolve nowhere.invalid: no such name");
	expect_name_error("empty.example.internal", "cannot resolve empty.example.internal: no");
	expect_name_error("huge.example.internal", "resolves to 17 addresses: at most 16");
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
		cmocka_unit_test(test_worked_example_entries),
		cmocka_unit_test(test_worked_example_decisions),
		cmocka_unit_test(test_nested_prefixes_hold_every_containing_rule),
		cmocka_unit_test(test_v4_mapped_form_is_the_v4_prefix),
		cmocka_unit_test(test_ipv6_prefix_covers_v4_mapped_space),
		cmocka_unit_test(test_port_ranges_and_audit_flags),
		cmocka_unit_test(test_too_many_rules_for_a_prefix_is_an_error),
		cmocka_unit_test(test_trees_resolve_through_the_resolver),
		cmocka_unit_test(test_missing_tree_is_an_error_at_its_rule),
		cmocka_unit_test(test_unresolvable_tree_reports_errno),
		cmocka_unit_test(test_two_trees_on_one_inode_is_an_error),
		cmocka_unit_test(test_rule_ids_describe_their_rules),
		cmocka_unit_test(test_agent_without_rules_compiles_to_nothing),
		cmocka_unit_test(test_slot_out_of_range_is_rejected),
		cmocka_unit_test(test_resolve_stat_follows_symlinks),
		cmocka_unit_test(test_hostname_becomes_host_entries_of_its_rule),
		cmocka_unit_test(test_names_sharing_an_address_share_its_entry),
		cmocka_unit_test(test_unresolvable_names_are_errors_at_their_rule),
		cmocka_unit_test(test_getaddrinfo_resolves_localhost_from_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
