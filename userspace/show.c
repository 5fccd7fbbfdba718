// SPDX-License-Identifier: GPL-2.0-only
/*
 * show.c - `pinfold show`: who may do what under a policy. The policy is
 * shown as written and validated by policy_load; it is not compiled, so
 * trees need not exist and nothing touches the kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "policy/policy.h"
#include "run.h"
#include "audit.h"
#include "show.h"
#include "text.h"

/* What one agent may do, counted for its closing line and "counts". */
struct show_counts {
	size_t read, read_write, tcp, udp, audited;
};

static void show_count(const struct policy_agent *a, struct show_counts *n)
{
	size_t i;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < a->n_trees; i++) {
		if (a->trees[i].access == POLICY_ACCESS_READ_WRITE)
			n->read_write++;
		else
			n->read++;
		n->audited += a->trees[i].audited;
	}
	for (i = 0; i < a->n_dests; i++) {
		if (a->dests[i].proto == IPPROTO_UDP)
			n->udp++;
		else
			n->tcp++;
		n->audited += a->dests[i].audited;
	}
}

static int tree_cmp(const void *x, const void *y)
{
	const struct policy_tree *a = *(const struct policy_tree *const *)x;
	const struct policy_tree *b = *(const struct policy_tree *const *)y;
	int c = strcmp(a->path, b->path);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/* a's trees sorted by path (then in policy order), malloc'ed; NULL with errno ENOMEM. */
static const struct policy_tree **sorted_trees(const struct policy_agent *a)
{
	const struct policy_tree **t = calloc(a->n_trees ? a->n_trees : 1, sizeof(*t));
	size_t i;

	if (!t)
		return NULL;
	for (i = 0; i < a->n_trees; i++)
		t[i] = &a->trees[i];
	qsort(t, a->n_trees, sizeof(*t), tree_cmp);
	return t;
}

static const char *access_name(unsigned access)
{
	return access == POLICY_ACCESS_READ_WRITE ? "read-write" : "read";
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static void port_format(const struct policy_dest *d, char *buf, size_t len)
{
	if (d->port_lo == d->port_hi)
		snprintf(buf, len, "%u", d->port_lo);
	else
		snprintf(buf, len, "%u-%u", d->port_lo, d->port_hi);
}

static void put_escaped(FILE *f, const char *s)
{
	text_put_escaped(f, s, strlen(s), false);
}

/* "  at FILE:LINE:COL", as policy_rule_describe and policy errors name places */
static void put_place(FILE *f, const struct policy *p, unsigned line, unsigned column)
{
	fputs("  at ", f);
	put_escaped(f, p->file ? p->file : "(policy)");
	fprintf(f, ":%u:%u\n", line, column);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* What becomes of a denial in a mode that does not apply it, or NULL in enforce mode. */
static const char *unapplied(unsigned mode)
{
	switch (mode) {
	case POLICY_MODE_AUDIT:
		return "mode audit: denials recorded, not applied";
	case POLICY_MODE_RECORD:
		return "mode record: every use recorded, no denial applied";
	default:
		return NULL;
	}
}

/* "    tcp  10.0.0.0/8 port 53  audited  at FILE:LINE:COL" */
static void put_dest(FILE *f, const struct policy *p, const struct policy_dest *d)
{
	char net[64], port[16];

	port_format(d, port, sizeof(port));
	fprintf(f, "    %-3s  ", proto_name(d->proto));
	if (d->host) {
		put_escaped(f, d->host);
	} else {
		policy_net_format(d->addr, d->prefix, net, sizeof(net));
		fputs(net, f);
	}
	fprintf(f, " port %s", port);
	/* NEEDSWORK: host names are not resolved; show lists no address run would allow */
	if (d->host)
		fputs("  host name, resolved by run", f);
	if (d->audited)
		fputs("  audited", f);
	put_place(f, p, d->line, d->column);
}

/* "  NAME: N trees (...), N destinations (...), N audited; everything else is denied" */
static void put_summary(FILE *f, const struct policy_agent *a)
{
	const char *why = unapplied(a->mode);
	struct show_counts n;

	show_count(a, &n);
	fputs("  ", f);
	put_escaped(f, a->name);
	fprintf(f, ": %zu %s (%zu read, %zu read-write), %zu %s (%zu tcp, %zu udp), %zu audited; ",
		a->n_trees, plural(a->n_trees, "tree", "trees"), n.read, n.read_write, a->n_dests,
		plural(a->n_dests, "destination", "destinations"), n.tcp, n.udp, n.audited);
	if (why)
		fprintf(f, "everything else would be denied (%s)\n", why);
	else
		fputs("everything else is denied\n", f);
}

static int show_agent_text(FILE *f, const struct policy *p, const struct policy_agent *a)
{
	const struct policy_tree **trees = sorted_trees(a);
	const char *mode = policy_mode_name(a->mode);
	size_t i;

	if (!trees)
		return -ENOMEM;

	fputs("agent ", f);
	put_escaped(f, a->name);
	fprintf(f, ", mode %s", mode ? mode : "unknown");
	put_place(f, p, a->line, a->column);

	if (!a->n_trees)
		fputs("  files: nothing, no tree is allowed\n", f);
	else
		fputs("  files (the deepest tree holding a file decides):\n", f);
	for (i = 0; i < a->n_trees; i++) {
		fprintf(f, "    %-10s  ", access_name(trees[i]->access));
		put_escaped(f, trees[i]->path);
		if (trees[i]->audited)
			fputs("  audited", f);
		put_place(f, p, trees[i]->line, trees[i]->column);
	}
	free(trees);

	if (!a->n_dests)
		fputs("  network: nothing, no destination is allowed\n", f);
	else
		fputs("  network:\n", f);
	for (i = 0; i < a->n_dests; i++)
		put_dest(f, p, &a->dests[i]);

	put_summary(f, a);
	return 0;
}

int show_text(FILE *f, const struct policy *p, const struct policy_agent *only)
{
	size_t i;
	int err;

	fputs("policy ", f);
	put_escaped(f, p->file ? p->file : "(policy)");
	fprintf(f, ", sha256 %s, %zu %s\n", p->sha256, p->n_agents,
		plural(p->n_agents, "agent", "agents"));
	for (i = 0; i < p->n_agents; i++) {
		if (only && &p->agents[i] != only)
			continue;
		fputc('\n', f);
		err = show_agent_text(f, p, &p->agents[i]);
		if (err)
			return err;
	}
	return ferror(f) ? -EIO : 0;
}

/* s, or JSON null when s is NULL */
static int add_string_or_null(struct json_object *o, const char *key, const char *s)
{
	if (s)
		return audit_json_add(o, key, json_object_new_string(s));
	return json_object_object_add(o, key, NULL) ? -ENOMEM : 0;
}

static int append(struct json_object *arr, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_array_add(arr, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* rule_id, rule (as in audit records), line and column of one rule */
static int add_rule(struct json_object *o, const struct policy *p, const struct policy_agent *a,
		    uint32_t id, unsigned line, unsigned column)
{
	char text[4096 + 512];

	if (policy_rule_describe(p, a, id, text, sizeof(text)) < 0)
		return -ENOENT;
	if (audit_json_add(o, "rule_id", json_object_new_int64(id)) ||
	    audit_json_add(o, "rule", json_object_new_string(text)) ||
	    audit_json_add(o, "line", json_object_new_int64(line)) ||
	    audit_json_add(o, "column", json_object_new_int64(column)))
		return -ENOMEM;
	return 0;
}

static struct json_object *tree_json(const struct policy *p, const struct policy_agent *a,
				     const struct policy_tree *t)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (audit_json_add(o, "path", json_object_new_string(t->path)) ||
	    audit_json_add(o, "access", json_object_new_string(access_name(t->access))) ||
	    audit_json_add(o, "audited", json_object_new_boolean(t->audited)) ||
	    add_rule(o, p, a, POLICY_RULE_FILE(t - a->trees), t->line, t->column)) {
		json_object_put(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

static struct json_object *dest_json(const struct policy *p, const struct policy_agent *a, size_t j)
{
	const struct policy_dest *d = &a->dests[j];
	struct json_object *o = json_object_new_object();
	char net[64];

	if (!o)
		return NULL;
	policy_net_format(d->addr, d->prefix, net, sizeof(net));
	if (audit_json_add(o, "to", json_object_new_string(d->text)) ||
	    add_string_or_null(o, "host", d->host) ||
	    add_string_or_null(o, "net", d->host ? NULL : net) ||
	    audit_json_add(o, "port_lo", json_object_new_int64(d->port_lo)) ||
	    audit_json_add(o, "port_hi", json_object_new_int64(d->port_hi)) ||
	    audit_json_add(o, "proto", json_object_new_string(proto_name(d->proto))) ||
	    audit_json_add(o, "audited", json_object_new_boolean(d->audited)) ||
	    add_rule(o, p, a, POLICY_RULE_NET(j), d->line, d->column)) {
		json_object_put(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

static struct json_object *counts_json(const struct policy_agent *a)
{
	struct json_object *o = json_object_new_object();
	struct show_counts n;

	if (!o)
		return NULL;
	show_count(a, &n);
	if (audit_json_add(o, "trees", json_object_new_int64(a->n_trees)) ||
	    audit_json_add(o, "read", json_object_new_int64(n.read)) ||
	    audit_json_add(o, "read_write", json_object_new_int64(n.read_write)) ||
	    audit_json_add(o, "destinations", json_object_new_int64(a->n_dests)) ||
	    audit_json_add(o, "tcp", json_object_new_int64(n.tcp)) ||
	    audit_json_add(o, "udp", json_object_new_int64(n.udp)) ||
	    audit_json_add(o, "audited", json_object_new_int64(n.audited))) {
		json_object_put(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

static int agent_rules_json(struct json_object *o, const struct policy *p,
			    const struct policy_agent *a)
{
	const struct policy_tree **trees = sorted_trees(a);
	struct json_object *files = json_object_new_array();
	struct json_object *network = json_object_new_array();
	size_t i;
	int err = 0;

	if (!trees || !files || !network)
		err = -ENOMEM;
	for (i = 0; !err && i < a->n_trees; i++)
		err = append(files, tree_json(p, a, trees[i]));
	for (i = 0; !err && i < a->n_dests; i++)
		err = append(network, dest_json(p, a, i));
	free(trees);
	if (err) {
		json_object_put(files);
		json_object_put(network);
		return err;
	}
	if (audit_json_add(o, "files", files)) {
		json_object_put(network);
		return -ENOMEM;
	}
	return audit_json_add(o, "network", network);
}

static struct json_object *agent_json(const struct policy *p, const struct policy_agent *a)
{
	struct json_object *o = json_object_new_object();
	const char *mode = policy_mode_name(a->mode);

	if (!o)
		return NULL;
	if (audit_json_add(o, "name", json_object_new_string(a->name)) ||
	    audit_json_add(o, "mode", json_object_new_string(mode ? mode : "unknown")) ||
	    audit_json_add(o, "denials_applied",
			   json_object_new_boolean(a->mode == POLICY_MODE_ENFORCE)) ||
	    audit_json_add(o, "line", json_object_new_int64(a->line)) ||
	    audit_json_add(o, "column", json_object_new_int64(a->column)) ||
	    agent_rules_json(o, p, a) || audit_json_add(o, "counts", counts_json(a))) {
		json_object_put(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

struct json_object *show_json(const struct policy *p, const struct policy_agent *only)
{
	struct json_object *o = json_object_new_object();
	struct json_object *agents = json_object_new_array();
	size_t i;
	int err = 0;

	if (!o || !agents)
		err = -ENOMEM;
	for (i = 0; !err && i < p->n_agents; i++) {
		if (!only || &p->agents[i] == only)
			err = append(agents, agent_json(p, &p->agents[i]));
	}
	if (err) {
		json_object_put(agents);
		goto fail;
	}
	if (audit_json_add(o, "policy", json_object_new_string(p->file ? p->file : "(policy)")) ||
	    audit_json_add(o, "sha256", json_object_new_string(p->sha256)) ||
	    audit_json_add(o, "agents", agents))
		goto fail;
	return o;
fail:
	json_object_put(o);
	errno = ENOMEM;
	return NULL;
}

/* "no agent 'x' in P; its agents: a, b" on stderr */
static void unknown_agent(const struct policy *p, const char *path, const char *name)
{
	size_t i;

	fputs("pinfold: no agent '", stderr);
	put_escaped(stderr, name);
	fputs("' in ", stderr);
	put_escaped(stderr, path);
	fputs(p->n_agents ? "; its agents: " : "; it has no agents", stderr);
	for (i = 0; i < p->n_agents; i++) {
		if (i)
			fputs(", ", stderr);
		put_escaped(stderr, p->agents[i].name);
	}
	fputc('\n', stderr);
}

static int show_print(const struct policy *p, const struct policy_agent *only, bool json)
{
	struct json_object *o;
	int err = 0;

	if (!json)
		return show_text(stdout, p, only);
	o = show_json(p, only);
	if (!o)
		return -errno;
	if (puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		err = -EIO;
	json_object_put(o);
	return err;
}

static int show_usage(void)
{
	fprintf(stderr, "usage: pinfold show --policy FILE [--agent NAME] [--json]\n");
	return RUN_EXIT_USAGE;
}

int show_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"agent", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *policy = NULL, *agent = NULL;
	const struct policy_agent *only = NULL;
	struct policy_error perr = {};
	struct policy p = {};
	bool json = false;
	char msg[600];
	int opt, rc = RUN_EXIT_USAGE, err;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p')
			policy = optarg;
		else if (opt == 'a')
			agent = optarg;
		else if (opt == 'j')
			json = true;
		else
			return show_usage();
	}
	if (!policy || optind != argc)
		return show_usage();

	if (policy_load(policy, &p, &perr)) {
		policy_error_format(&perr, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return RUN_EXIT_USAGE;
	}
	if (agent) {
		only = policy_find_agent(&p, agent);
		if (!only) {
			unknown_agent(&p, policy, agent);
			goto out;
		}
	}

	err = show_print(&p, only, json);
	if (!err && fflush(stdout))
		err = -errno;
	if (err) {
		fprintf(stderr, "pinfold: cannot write the policy: %s\n", strerror(-err));
		rc = EXIT_FAILURE;
		goto out;
	}
	rc = EXIT_SUCCESS;
out:
	policy_release(&p);
	return rc;
}
