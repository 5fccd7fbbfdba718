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

/* A name on the way to a tagged tree root (see pf_anchors in bpf/pinfold.h). */
struct compiled_anchor {
	struct pf_tree_key key;
	uint32_t object; /* a tree it is or holds */
};

struct compiled_net {
	struct pf_net_key key;
	struct pf_net_rules val;
};

/* At most this many addresses per hostname; a name with more is an error. */
#define COMPILE_NAME_ADDRS_MAX 16

/* What the hostname of one destination resolved to. */
struct compiled_name {
	uint32_t object;                           /* POLICY_ID_BACKEND_DEST or _OWN_DEST */
	const char *host;                          /* the destination's, as written */
	size_t n_addrs;                            /* at least 1, no duplicates */
	uint8_t addrs[COMPILE_NAME_ADDRS_MAX][16]; /* IPv4 as ::ffff:a.b.c.d */
};

struct compiled {
	uint32_t slot, gen;
	struct compiled_tree *trees; /* every tagged tree, granted or not */
	size_t n_trees;
	struct compiled_anchor *anchors; /* each tree root and each directory above one, once */
	size_t n_anchors;
	struct compiled_net *nets;
	size_t n_nets;
	struct compiled_name *names; /* one per hostname destination the agent may use */
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

/* What compiling needs from the world; zeroed, it uses stat and getaddrinfo. */
struct compile_env {
	compile_resolve_fn resolve; /* NULL: compile_resolve_stat */
	void *resolve_ctx;
	compile_resolve_name_fn resolve_name; /* NULL: compile_resolve_getaddrinfo */
	void *name_ctx;
	/* The instance's runtime.tmp directory, tagged as that class; NULL: none. */
	const char *private_tmp;
};

/*
 * Compile agent a of policy p for instance slot under generation gen.
 *
 * Files: every tree of every class of p (shipped classes too; a missing
 * optional tree is skipped) and every own files rule of a becomes one
 * pf_trees entry, tagged with its object id, holding the union of the
 * actions a's families and own rule grant there and, per action, the first
 * grant giving it (families in the agent's order, grants in family order;
 * own rules last). Each tagged tree root, and each directory on the way to
 * it (but /), becomes one anchor: with a zeroed environment, every component
 * of its real path and every symbolic link of its path as written; with a
 * resolver of the environment's, every component of the path as written.
 *
 * Network: every destination of every backend a holds a grant on, and
 * every own network rule, becomes port rules with its actions, grant and
 * object id; hostnames are resolved, each address a /32 or /128. Each
 * prefix, exceptions included, gets one pf_net entry with the port rules
 * of every destination whose prefix holds it, less those whose backend
 * excepts a prefix holding it, longest prefix first (see bpf/pinfold.h).
 *
 * Errors return -EINVAL with err naming the place: a tree that does not
 * exist, two trees on one inode, a name that does not resolve, more than
 * PF_PORTS_PER_PREFIX rules covering one prefix.
 */
int compile_agent(const struct policy *p, const struct policy_agent *a, uint32_t slot, uint32_t gen,
		  const struct compile_env *env, struct compiled *out, struct policy_error *err);

/*
 * Compile every agent of p (slot 0, generation 1) as pinfold check does:
 * the first error is returned, as compile_agent's.
 */
int compile_policy_check(const struct policy *p, const struct compile_env *env,
			 struct policy_error *err);

void compiled_release(struct compiled *c);

#endif /* PINFOLD_COMPILE_H */
