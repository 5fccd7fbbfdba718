/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compile.h - turn one agent's rules into kernel map entries for one slot.
 *
 * Pure logic except for resolving tree paths to (device, inode), which
 * goes through a resolver callback so that tests can supply their own.
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

struct compiled {
	struct compiled_tree *trees;
	size_t n_trees;
	struct compiled_net *nets;
	size_t n_nets;
};

/* Resolve path to the kernel's (dev, ino) of its inode; 0 or -errno. */
typedef int (*compile_resolve_fn)(const char *path, uint64_t *dev, uint64_t *ino, void *ctx);

/* stat(2)-based resolver: follows symlinks, converts st_dev to MAJOR << 20 | MINOR */
int compile_resolve_stat(const char *path, uint64_t *dev, uint64_t *ino, void *ctx);

/*
 * Compile agent a of policy p for instance slot. Network rules are pushed
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
