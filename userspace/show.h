/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * show.h - `pinfold show`: who may do what under a policy, as text for a
 * terminal or as one JSON document for tools; and the wording of policy
 * parts that `pinfold explain` shares.
 */
#ifndef PINFOLD_SHOW_H
#define PINFOLD_SHOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "policy/compile.h"
#include "policy/policy.h"

/*
 * Write p to f as text (only agent only, when it is not NULL):
 *   - a table of who may do what: one row per class and backend, one column
 *     per agent, its actions as letters (rwcdx on classes, cs on backends);
 *   - one block per agent: its mode and families, each grant it holds with
 *     the family that gives it and the grant's place, its own rules, what it
 *     holds nothing on, and a closing line;
 *   - classes with their trees, backends with their destinations (hostnames
 *     with the addresses they resolve to now, through env's resolver) and
 *     exceptions, families with their grants and the agents that use them.
 * Shipped classes and families appear only where a shown agent uses them.
 * env may be NULL (getaddrinfo). Returns 0 or a negative errno.
 */
int show_text(FILE *f, const struct policy *p, const struct policy_agent *only,
	      const struct compile_env *env);

/*
 * The same content as one JSON object, to be released with
 * json_object_put; NULL with errno ENOMEM. Members:
 *   policy, sha256, files[]
 *   agents[]: name, mode, denials_applied, file, line, column, families[],
 *     grants[] {class | backend, actions[], family, audited, rule_id, file,
 *       line, column},
 *     may {classes {NAME: actions[]}, backends {NAME: actions[]}},
 *     own_files[] {path, actions[], audited, rule_id, file, line, column},
 *     own_network[] {to, host, net, addresses[], resolve_error, port_lo,
 *       port_hi, proto, actions[], audited, rule_id, file, line, column},
 *     nothing_on {classes[], backends[]}
 *   classes[]: name, description, shipped, private_tmp, trees[] {path,
 *     optional, file, line, column}, file, line, column
 *   backends[]: name, description, destinations[] {to, host, net,
 *     addresses[], resolve_error, port_lo, port_hi, proto, file, line,
 *     column}, except[] {text, net, file, line, column}, file, line, column
 *   families[]: name, description, shipped, grants[] {class | backend,
 *     actions[], audited, file, line, column}, agents[], file, line, column
 * file is null for what pinfold ships (line 0); net is null and addresses
 * hold what the name resolves to for a hostname, addresses is null and
 * resolve_error says why when it does not resolve; rule_id is the id audit
 * records carry.
 */
struct json_object *show_json(const struct policy *p, const struct policy_agent *only,
			      const struct compile_env *env);

/* `pinfold show --policy P [--agent A] [--json]`: exit 0, or 2 for a usage or policy error. */
int show_main(int argc, char **argv);

/* Wording shared with `pinfold explain`. */

/* s, with whatever could act on a terminal escaped */
void show_put_escaped(FILE *f, const char *s);

/* s as a YAML scalar: as it is when plainly safe, else double-quoted and escaped */
void show_put_yaml(FILE *f, const char *s);

/* "at FILE:LINE:COLUMN", or "shipped with pinfold" for line 0 */
void show_put_place(FILE *f, const struct policy_place *at);

/* " (at FILE:LINE:COLUMN)", or " (shipped with pinfold)" */
void show_put_at(FILE *f, const struct policy_place *at);

/* addr/prefix as text, a host without its /32 or /128 */
void show_net_format(const uint8_t addr[16], unsigned prefix, char *buf, size_t len);

/* "127.0.0.0/8 port 80-90 tcp" or "localhost port 443 tcp" */
void show_put_dest(FILE *f, const struct policy_dest *d);

/* What agent a's families grant on class or backend target (on: enum policy_target). */
unsigned show_agent_actions(const struct policy *p, const struct policy_agent *a, unsigned on,
			    size_t target);

/*
 * prefix, then "family F grants ACTION on class|backend T (at P)" for each
 * family of p with a grant of action on target, joined by ", "; nothing when
 * there is none. Returns how many.
 */
size_t show_put_granting(FILE *f, const struct policy *p, unsigned on, size_t target,
			 unsigned action, const char *prefix);

#endif /* PINFOLD_SHOW_H */
