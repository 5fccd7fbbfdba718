/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy_int.h - what the parts of the policy module share, and nothing
 * else may use.
 *
 * The module is one .c file per job: policy.c reads files and their
 * sections, policy_net.c the network values in them, policy_check.c checks
 * the merged policy, policy_text.c looks things up and describes them. The
 * public interface stays policy.h; this header only lets the parts call
 * each other.
 */
#ifndef PINFOLD_POLICY_INT_H
#define PINFOLD_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "yaml_tree.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define Q_SIZE YNODE_QUOTE_SIZE
#define PLACE_TEXT_MAX 300 /* bytes of a place in a message: "classes.yaml:3:7" */
#define N_ACTIONS 7        /* POLICY_READ .. POLICY_SEND, one bit each */
#define NAMED_NETS_MAX 5   /* ranges of one named range in an except ("private") */

struct source; /* one file of the policy, while it is read: policy.c */

/* The state of one policy_load: the policy so far, its error, the file being read. */
struct parser {
	struct policy *p;
	struct policy_error *err;
	struct source *src; /* one per p->files[i] */
	const char *file;   /* of the nodes being read: one of p->files */
};

/* An error at node n of the file being read; returns -EINVAL. */
#define fail_node(ps, n, ...) policy_error_set((ps)->err, (n)->line, (n)->column, __VA_ARGS__)

/* policy.c */

/* "read", "write", ... indexed by bit number: the action names a policy may write. */
extern const char *const action_names[N_ACTIONS];

/* The place of node n in the file being read. */
struct policy_place place_of(const struct parser *ps, const struct ynode *n);

/* An error at at, which may be in another file than the one being read; returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int
fail_at(struct policy_error *err, const struct policy_place *at, const char *fmt, ...);

/* Where first is, as seen from now: "3:7", "classes.yaml:3:7" or "shipped"; returns buf. */
const char *first_at(char *buf, size_t size, const struct policy_place *first,
		     const struct policy_place *now);

/* policy_net.c */

/* to of a destination: an address, a CIDR, any, or a hostname, into d. */
int parse_to(struct parser *ps, const struct ynode *n, struct policy_dest *d);

/* port of a destination: a port or a range lo-hi, into d. */
int parse_port(struct parser *ps, const struct ynode *n, struct policy_dest *d);

/* proto of a destination: tcp or udp, into d. */
int parse_proto(struct parser *ps, const struct ynode *n, struct policy_dest *d);

/* An error for two of dests (what: "destination", "network rule") that are the same. */
int check_duplicate_dests(struct parser *ps, const struct policy_dest *dests, size_t n,
			  const char *what);

/* One except item appended to b->excepts, which has room for NAMED_NETS_MAX more. */
int parse_except(struct parser *ps, const struct ynode *n, struct policy_backend *b);

/* An error for an exception of b that can never match or never apply. */
int check_excepts(struct parser *ps, const struct policy_backend *b);

/* policy_check.c */

/* An error for one path in two classes, or in a class and an own files rule. */
int check_trees(struct policy_error *err, struct policy *p);

/* p->warnings: what is legal in p but probably a mistake. 0 or -ENOMEM. */
int find_warnings(struct policy *p);

#endif /* PINFOLD_POLICY_INT_H */
