/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h - the policy language: parse and validate a YAML policy, and
 * describe its rules for explanations and audit records.
 *
 * A policy names agents. Each agent lists the network destinations and the
 * file trees it may use; everything else is denied. See docs/policy.md.
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

enum policy_access {
	POLICY_ACCESS_READ = 1,       /* "read" */
	POLICY_ACCESS_READ_WRITE = 3, /* "read-write" */
};

struct policy_tree {
	char *path;      /* absolute, as written */
	unsigned access; /* enum policy_access */
	bool audited;
	unsigned line, column;
};

struct policy_dest {
	char *text; /* the "to" value as written */
	/*
	 * A hostname, as written, that compile_agent resolves; NULL for an
	 * address or CIDR. When set, addr and prefix are zero and unused.
	 */
	char *host;
	uint8_t addr[16];          /* IPv4 as ::ffff:a.b.c.d, host bits cleared */
	unsigned prefix;           /* in IPv6 bits: IPv4 /n is 96 + n */
	uint16_t port_lo, port_hi; /* inclusive */
	uint8_t proto;             /* IPPROTO_TCP or IPPROTO_UDP */
	bool audited;
	unsigned line, column;
};

/* How an agent's decisions take effect. */
enum policy_mode {
	POLICY_MODE_ENFORCE = 0, /* "enforce": denials are applied */
	POLICY_MODE_AUDIT = 1,   /* "audit": denials are recorded, not applied */
	POLICY_MODE_RECORD = 2,  /* "record": every decision recorded, none applied */
};

struct policy_agent {
	char *name;
	unsigned mode; /* enum policy_mode */
	struct policy_tree *trees;
	size_t n_trees;
	struct policy_dest *dests;
	size_t n_dests;
	unsigned line, column;
};

struct policy {
	char *file;
	struct policy_agent *agents;
	size_t n_agents;
	char sha256[65]; /* of the bytes parsed, in hex: names this version */
};

/*
 * Rule ids name one rule of one agent in kernel maps and events:
 * file tree i is POLICY_RULE_FILE(i), destination j is POLICY_RULE_NET(j).
 */
#define POLICY_RULE_NET_BIT 0x10000u
#define POLICY_RULE_FILE(i) ((uint32_t)(i))
#define POLICY_RULE_NET(j) (POLICY_RULE_NET_BIT | (uint32_t)(j))

/* Limits policy_load enforces; rules per list stay below POLICY_RULE_NET_BIT. */
#define POLICY_MAX_RULES 4096 /* network rules, and files rules, per agent */
#define POLICY_MAX_AGENTS 4096
#define POLICY_HOST_MAX 253 /* bytes of a hostname in to */

/*
 * Parse and validate the policy in path. Returns 0, or -EINVAL with err
 * filled in (file, line, column, message), or another negative errno when
 * the file cannot be read (err names it too). On failure *p is empty.
 */
int policy_load(const char *path, struct policy *p, struct policy_error *err);

/* The same from a buffer; name is used in errors. */
int policy_load_buffer(const char *name, const char *buf, size_t len, struct policy *p,
		       struct policy_error *err);

void policy_release(struct policy *p);

/* "enforce", "audit" or "record"; NULL for an unknown mode */
const char *policy_mode_name(unsigned mode);

/* The agent called name, or NULL. */
const struct policy_agent *policy_find_agent(const struct policy *p, const char *name);

/*
 * One line naming rule_id of agent a, for example
 *   "policy.yaml:12:9 files /srv/ehr read-write"
 *   "policy.yaml:20:9 network 127.0.0.1/32 port 8443 tcp"
 *   "policy.yaml:24:9 network localhost port 8443 tcp"  (a hostname as written)
 * Returns the snprintf length, or -ENOENT for an unknown id.
 */
int policy_rule_describe(const struct policy *p, const struct policy_agent *a, uint32_t rule_id,
			 char *buf, size_t len);

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

/* "policy.yaml:3:5: error: expected ..." into buf */
void policy_error_format(const struct policy_error *err, char *buf, size_t len);

#endif /* PINFOLD_POLICY_H */
