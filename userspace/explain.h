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

#include <stdint.h>

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

/*
 * `pinfold explain --policy P --agent A ACCESS`, ACCESS one of --open PATH
 * [--write], --exec PATH, --create PATH, --delete PATH, --connect
 * HOST:PORT[/udp|/tcp], --send HOST:PORT[/udp]: exit 0 allowed, 1 denied (for
 * a hostname: allowed only when every address it resolves to is), 2 usage or
 * policy error.
 */
int explain_main(int argc, char **argv);

#endif /* PINFOLD_EXPLAIN_H */
