/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h - the policy language: parse and validate a YAML policy, and
 * describe its rules for explanations and audit records.
 *
 * A policy names data classes (sets of file trees), backends (sets of
 * destinations, less exceptions), permission families (grants of actions on
 * classes and backends) and agents (which name families, may add their own
 * files and network rules, and have a mode). Everything not granted is
 * denied. See docs/policy.md.
 */
#ifndef PINFOLD_POLICY_H
#define PINFOLD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a policy value was written, and what was wrong with it. */
struct policy_error {
	char file[256];
	unsigned line;   /* 1-based; 0 when the error has no place */
	unsigned column; /* 1-based */
	char msg[256];
};

/*
 * Actions, as bits: the same values as PF_ACCESS_* in bpf/pinfold.h (read,
 * write, create, delete, exec on data classes and file trees; connect and
 * send on backends and destinations). An agent's own files rule written
 * "read-write" holds POLICY_ACCESS_READ_WRITE.
 */
#define POLICY_READ (1u << 0)
#define POLICY_WRITE (1u << 1)
#define POLICY_CREATE (1u << 2)
#define POLICY_DELETE (1u << 3)
#define POLICY_EXEC (1u << 4)
#define POLICY_CONNECT (1u << 5)
#define POLICY_SEND (1u << 6)
#define POLICY_FILE_ACTIONS                                                                        \
	(POLICY_READ | POLICY_WRITE | POLICY_CREATE | POLICY_DELETE | POLICY_EXEC)
#define POLICY_NET_ACTIONS (POLICY_CONNECT | POLICY_SEND)
#define POLICY_ACCESS_READ POLICY_READ
#define POLICY_ACCESS_READ_WRITE (POLICY_READ | POLICY_WRITE | POLICY_CREATE | POLICY_DELETE)

/* Where something was written: file is one of struct policy's files. */
struct policy_place {
	const char *file;
	unsigned line, column; /* 1-based; line 0 for what pinfold ships */
};

/* A file tree: of a data class, or an agent's own files rule. */
struct policy_tree {
	char *path;      /* absolute, as written */
	unsigned access; /* own rules: POLICY_* file actions; class trees: 0 */
	bool audited;    /* own rules: allowed uses are recorded too */
	bool optional;   /* shipped trees: skipped where the path does not exist */
	struct policy_place at;
};

/* A destination: of a backend, or an agent's own network rule. */
struct policy_dest {
	char *text; /* the "to" value as written */
	/*
	 * A hostname, as written, that the compiler resolves; NULL for an
	 * address or CIDR. When set, addr and prefix are zero and unused.
	 */
	char *host;
	uint8_t addr[16];          /* IPv4 as ::ffff:a.b.c.d, host bits cleared */
	unsigned prefix;           /* in IPv6 bits: IPv4 /n is 96 + n */
	uint16_t port_lo, port_hi; /* inclusive */
	uint8_t proto;             /* IPPROTO_TCP or IPPROTO_UDP */
	unsigned access;           /* own rules: POLICY_CONNECT and/or POLICY_SEND; backends: 0 */
	bool audited;              /* own rules */
	struct policy_place at;
};

/* One address range a backend carves out of its destinations. */
struct policy_except {
	char *text;       /* as written: an address, a CIDR, or a named range */
	uint8_t addr[16]; /* as in policy_dest */
	unsigned prefix;
	struct policy_place at; /* of the item; a named range gives several */
};

/* A data class: a named set of file trees. */
struct policy_class {
	char *name; /* "phi.clinical" */
	char *description;
	struct policy_tree *trees;
	size_t n_trees;
	/*
	 * The instance's private temporary directory (runtime.tmp): it has
	 * no trees in the policy; pinfold run creates and tags one per
	 * instance.
	 */
	bool private_tmp;
	bool shipped; /* built into pinfold, not written in the policy */
	/* audit: required: every access is recorded; one that cannot be is denied */
	bool audit_required;
	/* log_paths: keyed-hash: records keep a keyed hash of the path, not the path */
	bool hash_paths;
	struct policy_place at;
};

/* A backend: a named set of destinations, less its exceptions. */
struct policy_backend {
	char *name; /* "ehr-fhir" */
	char *description;
	struct policy_dest *dests;
	size_t n_dests;
	struct policy_except *excepts; /* apply to every destination of this backend */
	size_t n_excepts;
	struct policy_place at;
};

/* What a grant is on. */
enum policy_target {
	POLICY_ON_CLASS = 1,
	POLICY_ON_BACKEND = 2,
};

/* One entry of a family: actions on one class or backend. */
struct policy_grant {
	unsigned actions;  /* POLICY_* file actions on a class, net actions on a backend */
	unsigned on;       /* enum policy_target */
	size_t target;     /* index into policy.classes or policy.backends */
	bool audited;      /* allowed uses are recorded too */
	char *approved_by; /* who approved the grant, as the policy says; NULL: not said */
	struct policy_place at;
};

/* A permission family: a named bundle of grants. */
struct policy_family {
	char *name; /* "clinical-read" */
	char *description;
	struct policy_grant *grants;
	size_t n_grants;
	bool shipped;
	struct policy_place at;
};

/* How an agent's decisions take effect. */
enum policy_mode {
	POLICY_MODE_ENFORCE = 0, /* "enforce": denials are applied */
	POLICY_MODE_AUDIT = 1,   /* "audit": denials are recorded, not applied */
	POLICY_MODE_RECORD = 2,  /* "record": every decision recorded, none applied */
};

/* An agent's use of a family, where it was written. */
struct policy_family_ref {
	size_t family; /* index into policy.families */
	struct policy_place at;
};

struct policy_agent {
	char *name;
	unsigned mode;    /* enum policy_mode */
	unsigned sockets; /* PF_SOCK_* (bpf/pinfold.h): the kinds of socket it may create */
	struct policy_family_ref *families;
	size_t n_families;
	struct policy_tree *trees; /* own files rules */
	size_t n_trees;
	struct policy_dest *dests; /* own network rules */
	size_t n_dests;
	struct policy_place at;
};

/* Something legal that is probably a mistake; reported, not fatal. */
struct policy_warning {
	struct policy_place at;
	char msg[256];
};

struct policy {
	char *file;   /* the file or directory given */
	char **files; /* the files read, in order: what policy_place.file points to */
	size_t n_files;
	/* shipped classes and families first, then the policy's, in order */
	struct policy_class *classes;
	size_t n_classes;
	struct policy_backend *backends;
	size_t n_backends;
	struct policy_family *families;
	size_t n_families;
	struct policy_agent *agents;
	size_t n_agents;
	struct policy_warning *warnings;
	size_t n_warnings;
	char sha256[65]; /* of the files parsed (names and bytes), in hex: names this version */
};

/*
 * Ids of rules and objects, as kernel maps and events carry them
 * (pf_tree.object and .rule[], pf_port_rule.object and .rule_id): a kind
 * and two indexes into the policy, so that the policy alone describes them.
 *   objects  POLICY_ID_CLASS_TREE   class c, tree t of it
 *            POLICY_ID_BACKEND_DEST backend b, destination d of it
 *            POLICY_ID_OWN_TREE     agent's files rule i (minor), major 0
 *            POLICY_ID_OWN_DEST     agent's network rule j (minor), major 0
 *   rules    POLICY_ID_GRANT        family f, grant g of it
 *            POLICY_ID_OWN_TREE / _OWN_DEST: an own rule is its own grant
 */
enum policy_id_kind {
	POLICY_ID_CLASS_TREE = 1,
	POLICY_ID_BACKEND_DEST = 2,
	POLICY_ID_OWN_TREE = 3,
	POLICY_ID_OWN_DEST = 4,
	POLICY_ID_GRANT = 5,
};
#define POLICY_ID_MINOR_BITS 14
#define POLICY_ID_INDEX_MAX ((1u << POLICY_ID_MINOR_BITS) - 1)
#define POLICY_ID(kind, major, minor)                                                              \
	((uint32_t)(kind) << 28 | (uint32_t)(major) << POLICY_ID_MINOR_BITS | (uint32_t)(minor))
#define POLICY_ID_KIND(id) ((uint32_t)(id) >> 28)
#define POLICY_ID_MAJOR(id) (((uint32_t)(id) >> POLICY_ID_MINOR_BITS) & POLICY_ID_INDEX_MAX)
#define POLICY_ID_MINOR(id) ((uint32_t)(id)&POLICY_ID_INDEX_MAX)

/* Limits policy_load enforces: every index fits POLICY_ID_INDEX_MAX. */
#define POLICY_MAX_RULES 4096 /* trees, destinations, grants, own rules of one list */
#define POLICY_MAX_AGENTS 4096
#define POLICY_MAX_NAMES 4096 /* classes, backends, families */
#define POLICY_HOST_MAX 253   /* bytes of a hostname in to */
#define POLICY_NAME_MAX 63    /* bytes of a class, backend, family or agent name */

/*
 * Parse and validate the policy in path: a YAML file, or a directory whose
 * *.yaml files (not below it), read in name order, together make one
 * policy. Returns 0, or -EINVAL with err filled in (file, line, column,
 * message), or another negative errno when a file cannot be read (err
 * names it too). On failure *p is empty. Warnings are in p->warnings.
 */
int policy_load(const char *path, struct policy *p, struct policy_error *err);

/* The same from a buffer; name is used in errors. */
int policy_load_buffer(const char *name, const char *buf, size_t len, struct policy *p,
		       struct policy_error *err);

void policy_release(struct policy *p);

/* "enforce", "audit" or "record"; NULL for an unknown mode */
const char *policy_mode_name(unsigned mode);

/* The agent, class, backend or family called name, or NULL. */
const struct policy_agent *policy_find_agent(const struct policy *p, const char *name);
const struct policy_class *policy_find_class(const struct policy *p, const char *name);
const struct policy_backend *policy_find_backend(const struct policy *p, const char *name);
const struct policy_family *policy_find_family(const struct policy *p, const char *name);

/* "read", "write", ... for one POLICY_* bit; NULL otherwise */
const char *policy_action_name(unsigned action);

/* "read, write, create" for a set of POLICY_* bits into buf; returns buf */
const char *policy_actions_format(unsigned actions, char *buf, size_t len);

/* "tcp, udp, unix" for a set of PF_SOCK_* bits into buf ("" for none); returns buf */
const char *policy_sockets_format(unsigned sockets, char *buf, size_t len);

/*
 * One line naming rule or object id of agent a, with its place, e.g.
 *   "families.yaml:12:9 family billing grants read on phi.billing"
 *   "agents.yaml:20:9 agent crm files /srv/x read-write"
 *   "agents.yaml:24:9 agent crm network localhost port 8443 tcp"
 *   "classes.yaml:3:7 class phi.clinical tree /srv/ehr/charts"
 *   "backends.yaml:8:9 backend ehr-fhir 127.0.0.1/32 port 8443 tcp"
 *   "(shipped) class runtime.libraries tree /usr/lib"
 * Returns the snprintf length, or -ENOENT for an id not in the policy.
 */
int policy_id_describe(const struct policy *p, const struct policy_agent *a, uint32_t id, char *buf,
		       size_t len);

/* "file:line:column" of at, or "(shipped)" for line 0, into buf; returns buf */
const char *policy_place_format(const struct policy_place *at, char *buf, size_t len);

/* addr as text: "127.0.0.1" when IPv4-mapped, "::1" otherwise; len >= INET6_ADDRSTRLEN. */
void policy_addr_format(const uint8_t addr[16], char *buf, size_t len);

/*
 * addr/prefix (prefix in IPv6 bits) as text: "10.0.0.0/8" for IPv4-mapped
 * addresses with a prefix of 96 or more, "fd00::/8" otherwise. Returns the
 * snprintf length.
 */
int policy_net_format(const uint8_t addr[16], unsigned prefix, char *buf, size_t len);

/*
 * Set err's place (line 0: none) and printf-style message; err->file is
 * kept. Returns -EINVAL, for "return policy_error_set(...)".
 */
__attribute__((format(printf, 4, 5))) int policy_error_set(struct policy_error *err, unsigned line,
							   unsigned column, const char *fmt, ...);

/* "policy.yaml:3:5: warning: ..." into buf */
void policy_warning_format(const struct policy_warning *w, char *buf, size_t len);

/* "policy.yaml:3:5: error: expected ..." into buf */
void policy_error_format(const struct policy_error *err, char *buf, size_t len);

/*
 * FNV-1a, for the hash indexes of the reader and the compiler (hsearch_r
 * wants string keys): h is POLICY_FNV_INIT or what an earlier call gave.
 */
#define POLICY_FNV_INIT 14695981039346656037ULL

static inline uint64_t policy_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 1099511628211ULL;
	return h;
}

#endif /* PINFOLD_POLICY_H */
