/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * show.h - `pinfold show`: print who may do what under a policy, per agent,
 * as text for a terminal or as one JSON document for tools.
 */
#ifndef PINFOLD_SHOW_H
#define PINFOLD_SHOW_H

#include <stdio.h>

#include <json-c/json.h>

#include "policy/policy.h"

/*
 * Write the agents of p (only agent only, when it is not NULL) to f as text:
 * one block per agent with its mode, its trees sorted by path, its
 * destinations in policy order, each with its place, and a closing line of
 * counts. Returns 0 or a negative errno.
 */
int show_text(FILE *f, const struct policy *p, const struct policy_agent *only);

/*
 * The same content as one JSON object (member names in docs/policy.md),
 * to be released with json_object_put. NULL with errno ENOMEM.
 */
struct json_object *show_json(const struct policy *p, const struct policy_agent *only);

/* `pinfold show --policy P [--agent A] [--json]`: exit 0, or 2 for a usage or policy error. */
int show_main(int argc, char **argv);

#endif /* PINFOLD_SHOW_H */
