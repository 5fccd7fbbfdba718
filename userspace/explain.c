// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain.c - `pinfold explain`: compile the agent exactly as `pinfold run`
 * does, then judge one open or connect in userspace with the decision steps
 * the kernel programs compile (bpf/decide.h), and print the verdict with
 * one sentence of why.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/decide.h"
#include "audit.h"
#include "explain.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "run.h"

#define EXPLAIN_ALLOWED 0
#define EXPLAIN_DENIED 1

/* the comm of explain's events: never shown, cut out of the denial line */
#define EXPLAIN_COMM "explain"

static bool prefix_holds(const uint8_t *net, unsigned bits, const uint8_t *addr)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(net, addr, whole))
		return false;
	if (!rest)
		return true;
	return ((net[whole] ^ addr[whole]) & (0xff << (8 - rest))) == 0;
}

const struct pf_net_rules *explain_net_lookup(const struct compiled *c, uint32_t slot,
					      const uint8_t addr[16])
{
	const struct compiled_net *best = NULL;
	size_t i;

	for (i = 0; i < c->n_nets; i++) {
		const struct compiled_net *n = &c->nets[i];

		/* the slot is the key's top 32 bits, and every entry covers all of them */
		if (n->key.prefixlen < 32 || ntohl(n->key.slot) != slot)
			continue;
		if (!prefix_holds(n->key.addr, n->key.prefixlen - 32, addr))
			continue;
		if (!best || n->key.prefixlen > best->key.prefixlen)
			best = n;
	}
	return best ? &best->val : NULL;
}

const struct pf_tree *explain_tree_lookup(const struct compiled *c, uint32_t slot, uint64_t dev,
					  uint64_t ino)
{
	size_t i;

	for (i = 0; i < c->n_trees; i++) {
		const struct pf_tree_key *k = &c->trees[i].key;

		if (k->slot == slot && k->dev == dev && k->ino == ino)
			return &c->trees[i].val;
	}
	return NULL;
}

/* Where the walk of one path ended. */
struct explain_walk {
	const struct pf_tree *tree; /* the deepest tree met, or NULL */
	uint8_t complete;           /* no tree, and the walk reached / */
	uint64_t dev, ino;          /* the object's */
};

/*
 * Walk the ancestors of the resolved path real as pf_match_step does:
 * deepest first, one step per dentry, up to PF_WALK_STEPS steps. Where the
 * device changes between a directory and its parent, the kernel also meets
 * the mount point's own dentry, hidden below the mount: that counts as a
 * step whose inode userspace cannot see (no tree can be compiled onto it
 * while the mount stands). Ordinary mounts give the same walk: stat of a
 * mount point's path returns the mounted root, which the kernel meets first.
 */
/* NEEDSWORK: a bind mount of a subdirectory ends the kernel's walk at its filesystem's root,
 * where this walk goes on through the mount point's parents; explain may allow what is denied
 * there, and only says so (explain_partial_mount) */
/* NEEDSWORK: btrfs subvolumes change st_dev without a mount; the step count may differ by one */
static int explain_walk_path(const struct compiled *c, uint32_t slot, const char *real,
			     struct explain_walk *w)
{
	char cur[PATH_MAX];
	uint64_t dev, ino, prev_dev = 0;
	unsigned steps = 0;
	bool first = true;
	char *slash;
	int err;

	if (strlen(real) >= sizeof(cur))
		return -ENAMETOOLONG;
	strcpy(cur, real);
	memset(w, 0, sizeof(*w));
	for (;;) {
		err = compile_resolve_stat(cur, &dev, &ino, NULL);
		if (err)
			return err;
		if (first) {
			w->dev = dev;
			w->ino = ino;
		} else if (dev != prev_dev) {
			steps++; /* the hidden mount point's dentry */
		}
		if (steps >= PF_WALK_STEPS)
			return 0;
		steps++;
		w->tree = explain_tree_lookup(c, slot, dev, ino);
		if (w->tree)
			return 0;
		if (!strcmp(cur, "/")) {
			w->complete = 1;
			return 0;
		}
		slash = strrchr(cur, '/');
		if (slash == cur)
			slash[1] = '\0';
		else
			*slash = '\0';
		prev_dev = dev;
		first = false;
	}
}

/* s with mountinfo's octal escapes (\040 for a space) decoded, in place */
static void mountinfo_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The mount point of a mount that shows only a subdirectory of its
 * filesystem (a bind mount) and holds real, into mp; false when there is
 * none or mountinfo cannot be read. There the kernel's walk differs.
 */
static bool explain_partial_mount(const char *real, char *mp, size_t len)
{
	char *line = NULL, root[PATH_MAX], point[PATH_MAX];
	bool found = false;
	size_t size = 0, n;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (!found && getline(&line, &size, f) > 0) {
		if (strlen(line) >= sizeof(root) ||
		    sscanf(line, "%*s %*s %*s %s %s", root, point) != 2)
			continue;
		mountinfo_unescape(root);
		mountinfo_unescape(point);
		n = strlen(point);
		if (!strcmp(root, "/") || (strcmp(point, "/") && (strncmp(real, point, n) ||
								  (real[n] && real[n] != '/'))))
			continue;
		snprintf(mp, len, "%s", point);
		found = true;
	}
	free(line);
	fclose(f);
	return found;
}

/* "HOST:PORT[/udp|/tcp]", HOST a.b.c.d or [IPv6]; 0 or -EINVAL */
static int parse_dest(const char *s, uint8_t addr[16], uint8_t *family, uint16_t *port,
		      uint8_t *proto)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon, *slash;
	unsigned long v;
	struct in_addr a4;
	size_t n;

	*proto = PF_PROTO_TCP;
	slash = strchr(s, '/');
	if (slash && !strcmp(slash, "/udp"))
		*proto = PF_PROTO_UDP;
	else if (slash && strcmp(slash, "/tcp"))
		return -EINVAL;
	colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	if (s[0] == '[')
		colon++;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || end != (slash ? slash : colon + strlen(colon)) ||
	    v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;

	n = s[0] == '[' ? (size_t)(colon - s) - 2 : (size_t)(colon - s);
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s[0] == '[' ? s + 1 : s, n);
	host[n] = '\0';
	if (s[0] != '[' && inet_pton(AF_INET, host, &a4) == 1) {
		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &a4, 4);
		*family = AF_INET;
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* The deny line's text after its head "pinfold: denied X (agent A, pid 0, explain): " */
static char *denial_text(const struct pf_event *ev, const struct audit_instance *inst)
{
	char *line = audit_format_denial(ev, inst), *why, *out;

	if (!line)
		return NULL;
	why = strstr(line, ", pid 0, " EXPLAIN_COMM "): ");
	out = strdup(why ? why + strlen(", pid 0, " EXPLAIN_COMM "): ") : line);
	free(line);
	return out;
}

/* Print ev's verdict for agent a; EXPLAIN_ALLOWED, _DENIED, or RUN_EXIT_INTERNAL. */
static int explain_print(const struct pf_event *ev, const struct policy *p,
			 const struct policy_agent *a, const char *object, const char *via)
{
	struct audit_instance inst = {
		.agent = a->name, .policy = p, .policy_agent = a, .mode = a->mode};
	const char *action = audit_action_name(ev->action);
	char rule[600], *why;

	printf("%s: agent %s %s %s %s", ev->decision == PF_DECISION_ALLOW ? "allowed" : "denied",
	       a->name, ev->decision == PF_DECISION_ALLOW ? "may" : "may not", action, object);
	if (via)
		printf(" (through %s)", via);
	if (ev->decision == PF_DECISION_ALLOW) {
		if (policy_rule_describe(p, a, ev->rule_id, rule, sizeof(rule)) < 0)
			snprintf(rule, sizeof(rule), "%u", ev->rule_id);
		printf(": rule %s%s allows it\n", rule,
		       ev->action == PF_ACT_CONNECT ? "" : ", the deepest tree holding it,");
		return EXPLAIN_ALLOWED;
	}

	why = denial_text(ev, &inst);
	if (!why) {
		fprintf(stderr, "pinfold: cannot format the denial: %s\n", strerror(errno));
		return RUN_EXIT_INTERNAL;
	}
	printf(": %s\n", why);
	free(why);
	if (ev->rule_id != PF_RULE_NONE &&
	    policy_rule_describe(p, a, ev->rule_id, rule, sizeof(rule)) >= 0)
		printf("deciding rule (the deepest tree holding it): %s\n", rule);
	if (a->mode != POLICY_MODE_ENFORCE)
		printf("note: agent %s runs in %s mode: the denial would be reported but not applied\n",
		       a->name, policy_mode_name(a->mode));
	return EXPLAIN_DENIED;
}

static int explain_connect(const struct compiled *c, const char *dest, struct pf_event *ev)
{
	const struct pf_net_rules *rules;
	const struct pf_port_rule *rule = NULL;

	if (parse_dest(dest, ev->addr, &ev->family, &ev->port, &ev->proto))
		return -EINVAL;
	ev->action = PF_ACT_CONNECT;
	rules = explain_net_lookup(c, 0, ev->addr);
	if (rules)
		rule = pf_decide_port(rules, ev->port, ev->proto);
	ev->reason = pf_decide_net_reason(ev->proto, rule);
	ev->decision = pf_decide_decision(ev->reason);
	ev->rule_id = rule ? rule->rule_id : PF_RULE_NONE;
	return 0;
}

/* Judge opening real (resolved); -errno when it cannot be walked. */
static int explain_open(const struct compiled *c, const char *real, bool write, struct pf_event *ev)
{
	struct explain_walk w;
	int err;

	err = explain_walk_path(c, 0, real, &w);
	if (err)
		return err;
	ev->action = write ? PF_ACT_OPEN_WRITE : PF_ACT_OPEN_READ;
	ev->dev = w.dev;
	ev->ino = w.ino;
	ev->reason = pf_decide_file(w.tree, w.complete, ev->action);
	ev->decision = pf_decide_decision(ev->reason);
	ev->rule_id = w.tree ? w.tree->rule_id : PF_RULE_NONE;
	if (strlen(real) >= sizeof(ev->path))
		ev->path_truncated = PF_PATH_CUT;
	snprintf(ev->path, sizeof(ev->path), "%s", real);
	return 0;
}

static void explain_usage(void)
{
	fprintf(stderr,
		"usage: pinfold explain --policy FILE --agent NAME --open PATH [--write]\n"
		"       pinfold explain --policy FILE --agent NAME --connect HOST:PORT[/udp]\n");
}

/* Parse argv into the named pointers; 0, or -EINVAL after printing usage. */
static int explain_args(int argc, char **argv, const char **policy, const char **agent,
			const char **open, bool *write, const char **connect)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},  {"agent", required_argument, NULL, 'a'},
		{"open", required_argument, NULL, 'o'},    {"write", no_argument, NULL, 'w'},
		{"connect", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			*policy = optarg;
			break;
		case 'a':
			*agent = optarg;
			break;
		case 'o':
			*open = optarg;
			break;
		case 'w':
			*write = true;
			break;
		case 'c':
			*connect = optarg;
			break;
		default:
			explain_usage();
			return -EINVAL;
		}
	}
	if (optind != argc || !*policy || !*agent || !*open == !*connect || (*write && !*open)) {
		explain_usage();
		return -EINVAL;
	}
	return 0;
}

int explain_main(int argc, char **argv)
{
	const char *policy = NULL, *agent = NULL, *open = NULL, *connect = NULL;
	const struct policy_agent *a;
	struct policy_error perr = {};
	struct pf_event ev = {.comm = EXPLAIN_COMM};
	struct compiled c = {};
	struct policy p = {};
	char msg[600], mp[PATH_MAX], *real = NULL;
	bool write = false;
	int rc = RUN_EXIT_USAGE, err;

	if (explain_args(argc, argv, &policy, &agent, &open, &write, &connect))
		return RUN_EXIT_USAGE;
	if (policy_load(policy, &p, &perr)) {
		policy_error_format(&perr, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return RUN_EXIT_USAGE;
	}
	a = policy_find_agent(&p, agent);
	if (!a) {
		fprintf(stderr, "pinfold: no agent '%s' in %s\n", agent, policy);
		goto out;
	}
	/* as `pinfold run` compiles it, for slot 0 */
	if (compile_agent(&p, a, 0, compile_resolve_stat, NULL, &c, &perr)) {
		policy_error_format(&perr, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		goto out;
	}
	ev.decision = PF_DECISION_DENY;

	if (connect) {
		if (explain_connect(&c, connect, &ev)) {
			fprintf(stderr,
				"pinfold: bad destination '%s': want A.B.C.D:PORT or [IPV6]:PORT\n",
				connect);
			goto out;
		}
		inet_ntop(ev.family, ev.family == AF_INET ? (void *)(ev.addr + 12) : ev.addr, msg,
			  sizeof(msg));
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " port %u %s", ev.port,
			 ev.proto == PF_PROTO_UDP ? "udp" : "tcp");
		rc = explain_print(&ev, &p, a, msg, NULL);
		goto out;
	}

	/* a symlink's target is what the kernel judges */
	real = realpath(open, NULL);
	if (!real) {
		/* NEEDSWORK: explain judges existing files only; a create is not explained */
		fprintf(stderr, "pinfold: cannot resolve %s: %s\n", open, strerror(errno));
		goto out;
	}
	err = explain_open(&c, real, write, &ev);
	if (err) {
		fprintf(stderr, "pinfold: cannot walk %s: %s\n", real, strerror(-err));
		goto out;
	}
	rc = explain_print(&ev, &p, a, real, strcmp(real, open) ? open : NULL);
	if (explain_partial_mount(real, mp, sizeof(mp)))
		printf("note: %s is a bind mount of a subdirectory: the kernel may judge otherwise\n",
		       mp);
out:
	free(real);
	compiled_release(&c);
	policy_release(&p);
	return rc;
}
