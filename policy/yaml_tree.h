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

/*
 * Helpers for schema checkers: each error names the node's place and says
 * what was expected and what was found.
 */
#define YNODE_QUOTE_MAX 48 /* bytes of a value quoted in a message */
#define YNODE_QUOTE_SIZE (YNODE_QUOTE_MAX + 16)
#define YNODE_FIELDS_MAX 8 /* keys of one schema mapping */

/* One key a schema mapping may hold. */
struct ynode_field {
	const char *key;
	bool required;
};

/* s as a double-quoted, escaped string of at most YNODE_QUOTE_MAX bytes, in buf */
const char *ynode_quote(char *buf, size_t size, const char *s, size_t len);

/* What n is, for "found ..." in messages: "a mapping", "an empty value", "\"x\"" */
const char *ynode_found(char *buf, size_t size, const struct ynode *n);

/* Whether n is a plain empty scalar (YAML's null written as nothing). */
bool ynode_is_empty(const struct ynode *n);

/* 0 when n is a non-empty scalar; otherwise an error "expected WHAT, found ..." */
int ynode_need_scalar(struct policy_error *err, const struct ynode *n, const char *what);

/*
 * Check that map is a mapping holding only the given keys, each at most
 * once, and all the required ones; vals[i] is the value of fields[i] or
 * NULL. what names the mapping in messages ("agent crm").
 */
int ynode_get_fields(struct policy_error *err, const struct ynode *map, const char *what,
		     const struct ynode_field *fields, size_t n_fields, const struct ynode **vals);

/* A plain true or false for key. */
int ynode_bool(struct policy_error *err, const struct ynode *n, const char *key, bool *out);

#endif /* PINFOLD_YAML_TREE_H */
