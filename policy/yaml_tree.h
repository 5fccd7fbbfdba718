/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * yaml_tree.h - one YAML document as a tree of nodes, read literally.
 *
 * The reader refuses what would make the text mean more than it shows:
 * anchors, aliases, tags, and a second document. Every node keeps its
 * 1-based line and column. It knows nothing of the policy schema; that is
 * policy.c.
 */
#ifndef PINFOLD_YAML_TREE_H
#define PINFOLD_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define YNODE_NEST_MAX 16 /* levels; a valid policy needs 6 */

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQUENCE,
	YNODE_MAPPING,
};

struct ynode {
	enum ynode_kind kind;
	unsigned line, column;
	char *text; /* scalar, NUL-terminated, with no NUL inside */
	size_t len;
	bool plain;          /* scalar written without quotes */
	struct ynode **kids; /* sequence items; mapping keys and values, alternating */
	size_t n_kids, cap;
};

/*
 * Read the one document in buf into *root, NULL when the text holds no
 * document. Returns 0, -EINVAL with err's place and message set (err->file
 * is left alone), or -ENOMEM.
 */
int ynode_read(const char *buf, size_t len, struct ynode **root, struct policy_error *err);

/* Free n and everything below it; NULL is fine. */
void ynode_free(struct ynode *n);

#endif /* PINFOLD_YAML_TREE_H */
