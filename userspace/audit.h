/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * audit.h - turn kernel decision events into audit records.
 *
 * A record is one JSON object on one line (JSON Lines). Every string in it
 * is valid UTF-8 whatever bytes the kernel reported: see docs/audit.md.
 * The formatters never print; the caller writes and logs.
 */
#ifndef PINFOLD_AUDIT_H
#define PINFOLD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../bpf/pinfold.h"
#include "../policy/compile.h"
#include "../policy/policy.h"

/*
 * One generation of an instance's policy. Events carry the generation that
 * decided them, and each is described by that generation's policy, not by
 * the one in force when the writer gets to it: a policy applied meanwhile
 * may have moved, renamed or removed the rule that decided.
 */
struct audit_generation {
	uint32_t gen;
	const struct policy *policy;
	const struct policy_agent *policy_agent;
	unsigned mode; /* enum policy_mode of that generation */
};

/* What the writer knows about the instance an event came from. */
struct audit_instance {
	const char *agent;    /* agent name in the policy */
	const char *instance; /* instance name, e.g. "billing.3f2a" */
	/* the policy of generation gen, the one in force */
	const struct policy *policy;
	const struct policy_agent *policy_agent;
	bool files_unenforced; /* BPF LSM absent: file rules not enforced */
	unsigned mode;         /* enum policy_mode: enforce when zero */
	/* 0: policy describes every event, whatever generation it carries */
	uint32_t gen;
	/* earlier generations the writer still holds, in any order */
	const struct audit_generation *older;
	size_t n_older;
	/* the instance's private temporary directory (runtime.tmp), or NULL */
	const char *private_tmp;
	/* whom the instance acts for (pinfold run --on-behalf-of), and its
	 * task (--task): in every record, when given */
	const char *on_behalf_of;
	const char *task;
	/* the key of keyed hashes of paths (log_paths: keyed-hash); NULL: none */
	const unsigned char *path_key;
	size_t path_key_len;
};

/* CLOCK_REALTIME minus CLOCK_BOOTTIME, in ns, to date events. */
int64_t audit_boot_to_realtime_offset(void);

/*
 * real_ns (ns since the epoch, UTC) as RFC 3339 with microseconds, e.g.
 * "2026-12-04T15:49:43.123456Z", into buf (28 bytes); 0, or -ENOSPC when
 * len is short, -EOVERFLOW when the year does not fit.
 */
int audit_format_time(int64_t real_ns, char *buf, size_t len);

/* "open-read", "connect", ...; NULL for an unknown action */
const char *audit_action_name(unsigned action);

/*
 * The JSON record for ev, without a trailing newline, in a malloc'ed
 * string. Returns NULL and sets errno on failure. Bad event data (an
 * unknown action, an unterminated path) still yields a valid record that
 * says what was wrong.
 */
char *audit_format_event(const struct pf_event *ev, const struct audit_instance *inst,
			 int64_t boot_to_real_ns);

/*
 * Forget the text audit_format_event keeps of this thread's last event
 * (struct audit_again), before the policies an instance names are freed:
 * a new policy at the same address could not be told from the old one.
 */
void audit_format_forget(void);

/*
 * The same text again. A flood of events is mostly one event over and
 * over, differing only in its time and number (boot_ns, seq): a formatter
 * keeps the text it made of the rest, with the event and the instance it
 * made it from, and uses it again while both are the same (the event
 * compared whole but for those two and what its path holds after the NUL;
 * the instance member by member, its policies by address: a new policy
 * comes with a new generation). audit_format_event keeps one, the writer
 * one for its denial lines.
 */
struct audit_again {
	bool valid;
	struct pf_event ev; /* boot_ns and seq 0, the path's tail zeroed */
	struct audit_instance inst;
	char *text;
	size_t len, cap;
};

/* The text kept for ev and inst (its length in *len), or NULL. */
const char *audit_again_find(const struct audit_again *a, const struct pf_event *ev,
			     const struct audit_instance *inst, size_t *len);
/* Keep text[0..len) for ev and inst (nothing kept when memory runs out). */
void audit_again_keep(struct audit_again *a, const struct pf_event *ev,
		      const struct audit_instance *inst, const char *text, size_t len);
void audit_again_free(struct audit_again *a);

/*
 * One readable line for a denial, for the agent's stderr, for example
 *   pinfold: denied open-write /srv/ehr/a.txt (agent scheduling, pid 42,
 *   python3): tree /srv/ehr of class phi.clinical (classes.yaml:4:5) gives
 *   this agent read, not write; allow with: {class: phi.clinical, actions:
 *   [write]} among the grants of a family of agent scheduling
 * A denial the instance's mode did not apply (PF_EVENT_NOT_APPLIED) starts
 * "pinfold: would deny" instead.
 * Control characters and invalid UTF-8 are shown escaped (\n, \x1b).
 * malloc'ed, no trailing newline; NULL with errno on failure (EINVAL for
 * an event that is not a denial).
 */
char *audit_format_denial(const struct pf_event *ev, const struct audit_instance *inst);

/*
 * A record about the instance itself (kind "instance-start",
 * "instance-exit", "events-lost", "policy-applied", "policy-rejected"),
 * with detail as extra members given as a JSON object text or NULL.
 * malloc'ed; NULL with errno on failure: EINVAL for another kind, or a
 * detail that is not one JSON object or that would replace a member every
 * record has.
 */
char *audit_format_note(const char *kind, const struct audit_instance *inst,
			const char *detail_json);

#define AUDIT_SEQ_UNKNOWN UINT64_MAX

/*
 * The "events-lost" note: count events of the instance that were never
 * written, their event numbers first_seq to last_seq (AUDIT_SEQ_UNKNOWN
 * when not known), and the cause: "kernel" (the instance's ring was full)
 * or "writer" (the log could not take them, and the writer's queue was
 * full). malloc'ed; NULL with errno on failure.
 */
char *audit_format_events_lost(const struct audit_instance *inst, uint64_t count,
			       uint64_t first_seq, uint64_t last_seq, const char *cause);

/*
 * The retention class of ev's record (docs/audit.md, "Retention"): "phi"
 * for a decision about an object of a PHI class, "routine" for another
 * allowed one, "decision" for another denial.
 */
const char *audit_event_retain(const struct pf_event *ev, const struct audit_instance *inst);

/* hex digits of a keyed hash of a path, NUL included */
#define AUDIT_HMAC_HEX 65

/*
 * HMAC-SHA256 of the n bytes of path under key, as lowercase hex: what a
 * record keeps of a path of a class with log_paths: keyed-hash. 0, or
 * -ENOKEY without a key, -EIO when libcrypto fails.
 */
int audit_path_hmac(const unsigned char *key, size_t key_len, const char *path, size_t n,
		    char hex[AUDIT_HMAC_HEX]);

struct json_object;

/*
 * Add val to o under key, taking val's reference (NULL when its allocation
 * failed); val is released when adding fails. 0 or -ENOMEM. The one way
 * pinfold's records and reports add members.
 */
int audit_json_add(struct json_object *o, const char *key, struct json_object *val);

/*
 * What each hostname destination resolved to, keyed by the destination's
 * description in policy p for agent a (policy_id_describe), e.g.
 *   {"backends.yaml:8:9 backend ehr localhost port 8443 tcp": ["127.0.0.1", "::1"]}
 * NULL when memory runs out.
 */
struct json_object *audit_resolved_json(const struct policy *p, const struct policy_agent *a,
					const struct compiled_name *names, size_t n);

/*
 * Every grant agent a holds under policy p, its families' grants then its
 * own rules, each {"grant": TEXT} (policy_id_describe) with "approved_by"
 * when the policy names who approved it, e.g.
 *   [{"grant": "families.yaml:12:9 family billing grants read on phi.billing",
 *     "approved_by": "dr-lee (CHG-2291)"}]
 * NULL when memory runs out.
 */
struct json_object *audit_grants_json(const struct policy *p, const struct policy_agent *a);

#endif /* PINFOLD_AUDIT_H */
