/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * explain_int.h - what explain.c (the wording) and explain_walk.c (the
 * lookups and the file walk) share inside `pinfold explain`: the result of
 * one file walk, and the calls that produce it. Not for other modules.
 */
#ifndef PINFOLD_EXPLAIN_INT_H
#define PINFOLD_EXPLAIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bpf/decide.h"
#include "policy/compile.h"

/* Whether the first bits of addr are those of net. */
static inline bool prefix_holds(const uint8_t *net, unsigned bits, const uint8_t *addr)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(net, addr, whole))
		return false;
	if (!rest)
		return true;
	return ((net[whole] ^ addr[whole]) & (0xff << (8 - rest))) == 0;
}

/* Where the walk of one object's ancestry ended. */
struct explain_walk {
	const struct pf_tree *tree; /* the deepest tree met within PF_WALK_STEPS, or NULL */
	const struct pf_tree *next; /* the next tree met after the walk ended, or NULL */
	bool too_deep;              /* no tree within PF_WALK_STEPS */
	bool met;                   /* a dentry with an inode was met: last_dev is set */
	unsigned steps;
	uint64_t last_dev;
};

/* One file access to judge. */
struct explain_file {
	uint16_t action;   /* PF_ACT_* */
	uint32_t need;     /* PF_ACCESS_* */
	const char *given; /* the path as given */
	char *object;      /* the path the kernel judges, resolved; malloc'ed */
	char *suggest;     /* the path an own rule would name; malloc'ed */
	struct explain_walk w;
};

/*
 * Walk for a new name (create) or the removal of one (delete) in e->given,
 * filling e->object, e->suggest and e->w. 0, or -errno with a message printed.
 */
int explain_walk_name(const struct compiled *c, struct explain_file *e);

/*
 * Walk for an open or exec of the existing path e->given, filling
 * e->object, e->suggest and e->w. 0, or -errno with a message printed.
 */
int explain_walk_object(const struct compiled *c, struct explain_file *e);

/*
 * Whether a mount showing only a subdirectory of its filesystem (a bind
 * mount) holds the resolved path real; its mount point into mp when so.
 */
bool explain_partial_mount(const char *real, char *mp, size_t len);

#endif /* PINFOLD_EXPLAIN_INT_H */
