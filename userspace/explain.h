/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * explain.h - `pinfold explain`: judge one access of an agent in userspace,
 * with the kernel's decision steps (bpf/decide.h) over the map entries that
 * `pinfold run` would load, and say why in one sentence: which data class
 * (and which of its trees) or backend holds the object, which family's grant
 * or own rule decides, and, for a denial, which grant would allow it.
 */
#ifndef PINFOLD_EXPLAIN_H
#define PINFOLD_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/compile.h"

/*
 * The entry of c's pf_net entries for slot, under c's generation, that the
 * kernel's longest-prefix lookup of addr (IPv4 as ::ffff:a.b.c.d) finds, or
 * NULL.
 */
const struct pf_net_rules *explain_net_lookup(const struct compiled *c, uint32_t slot,
					      const uint8_t addr[16]);

/* The pf_trees value of c for (slot, c's generation, dev, ino), or NULL. */
const struct pf_tree *explain_tree_lookup(const struct compiled *c, uint32_t slot, uint64_t dev,
					  uint64_t ino);

/* What lets an agent do something to a path, as explain_may finds it. */
struct explain_right {
	uint32_t object; /* the tree that decided (POLICY_ID_CLASS_TREE or _OWN_TREE) */
	uint32_t rule;   /* the grant or own rule that gives the right */
};

/*
 * Whether the agent compiled as c (for c's slot and generation) may, by
 * the kernel's walk: PF_ACT_OPEN_WRITE the file path (symlinks followed);
 * PF_ACT_UNLINK the name path (not followed; renaming it away needs the
 * same right, delete); PF_ACT_CREATE a new name in the directory path.
 * 1 with *r set when it may, 0 when not, -errno when path cannot be
 * resolved or walked (-EINVAL for PF_ACT_UNLINK of "/", "." or "..").
 */
int explain_may(const struct compiled *c, uint16_t action, const char *path,
		struct explain_right *r);

/*
 * For a connect or datagram of agent a under p that no rule allowed: when
 * a backend on which a's families grant need (PF_ACCESS_CONNECT or _SEND)
 * holds the destination but excepts addr, write "backend B excepts E (at
 * P)" to f, as explain words it, and return true; else write nothing and
 * return false. A hostname destination holds only its addresses in names:
 * nothing is looked up.
 */
bool explain_put_excepted(FILE *f, const struct policy *p, const struct policy_agent *a,
			  const struct compiled_name *names, size_t n_names, const uint8_t addr[16],
			  uint16_t port, uint8_t proto, uint32_t need);

/*
 * `pinfold explain --policy P --agent A ACCESS`, ACCESS one of --open PATH
 * [--write], --exec PATH, --create PATH, --delete PATH, --connect
 * HOST:PORT[/udp|/tcp], --send HOST:PORT[/udp]: exit 0 allowed, 1 denied (for
 * a hostname: allowed only when every address it resolves to is), 2 usage or
 * policy error.
 */
int explain_main(int argc, char **argv);

#endif /* PINFOLD_EXPLAIN_H */
