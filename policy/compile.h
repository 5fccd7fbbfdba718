/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compile.h - turn one agent's rules into kernel map entries for one slot.
 *
 * Pure logic except for resolving tree paths to (device, inode) and
 * hostnames to addresses, which go through resolver callbacks so that tests
 * can supply their own.
 */
#ifndef PINFOLD_COMPILE_H
#define PINFOLD_COMPILE_H

#include "../bpf/pinfold.h"
#include "policy.h"

struct compiled_tree {
	struct pf_tree_key key;
	struct pf_tree val;
};

struct compiled_net {
	struct pf_net_key key;
	struct pf_net_rules val;
};

/* At most this many addresses per hostname; a name with more is an error. */
#define COMPILE_NAME_ADDRS_MAX 16

/* What the hostname of one network rule resolved to. */
struct compiled_name {
	uint32_t rule_id;                          /* POLICY_RULE_NET(j) */
	const char *host;                          /* the rule's, as written */
	size_t n_addrs;                            /* at least 1, no duplicates */
	uint8_t addrs[COMPILE_NAME_ADDRS_MAX][16]; /* IPv4 as ::ffff:a.b.c.d */
};

struct compiled {
	struct compiled_tree *trees;
	size_t n_trees;
	struct compiled_net *nets;
	size_t n_nets;
	struct compiled_name *names; /* one per hostname rule, in rule order */
	size_t n_names;
};

/* Resolve path to the kernel's (dev, ino) of its inode; 0 or -errno. */
typedef int (*compile_resolve_fn)(const char *path, uint64_t *dev, uint64_t *ino, void *ctx);

/* stat(2)-based resolver: follows symlinks, converts st_dev to MAJOR << 20 | MINOR */
int compile_resolve_stat(const char *path, uint64_t *dev, uint64_t *ino, void *ctx);

/*
 * Resolve host to at most max addresses (IPv4 as ::ffff:a.b.c.d) into addrs.
 * Returns how many (more than max if there were more), or a negative errno
 * with why (a short reason, such as gai_strerror's) filled in.
 */
typedef int (*compile_resolve_name_fn)(const char *host, uint8_t (*addrs)[16], size_t max,
				       char *why, size_t why_len, void *ctx);

/* getaddrinfo(3) with AF_UNSPEC: IPv4 and IPv6 addresses, duplicates dropped */
int compile_resolve_getaddrinfo(const char *host, uint8_t (*addrs)[16], size_t max, char *why,
				size_t why_len, void *ctx);

/*
 * Compile agent a of policy p for instance slot, resolving hostnames with
 * resolve_name. Each address a name resolves to becomes a /32 or /128
 * destination with the rule's ports, protocol, audit flag and rule id, and
 * out->names records them. A name that does not resolve is an error at its
 * rule's place.
 */
int compile_agent_names(const struct policy *p, const struct policy_agent *a, uint32_t slot,
			compile_resolve_fn resolve, void *ctx, compile_resolve_name_fn resolve_name,
			void *name_ctx, struct compiled *out, struct policy_error *err);

/*
 * Compile agent a of policy p for instance slot; hostnames are resolved
 * with compile_resolve_getaddrinfo. Network rules are pushed
 * down into every longer prefix they contain (see bpf/pinfold.h). Errors
 * (a tree that does not exist, two trees on one inode, more than
 * PF_PORTS_PER_PREFIX rules covering one prefix) return -EINVAL with err
 * naming the rule's place.
 */
int compile_agent(const struct policy *p, const struct policy_agent *a, uint32_t slot,
		  compile_resolve_fn resolve, void *ctx, struct compiled *out,
		  struct policy_error *err);

void compiled_release(struct compiled *c);

#endif /* PINFOLD_COMPILE_H */
