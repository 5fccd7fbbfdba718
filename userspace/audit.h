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

/*
 * The "events-lost" note: count events of the instance that the kernel
 * could not queue (its pf_lost counter) since the last such note.
 * malloc'ed; NULL with errno on failure.
 */
char *audit_format_events_lost(const struct audit_instance *inst, uint64_t count);

/*
 * Where records go: a descriptor opened with O_APPEND, which other writers
 * may share. broken: the last line written there was cut short by a failing
 * write, and is ended with a newline before the next record.
 */
struct audit_sink {
	int fd;
	bool broken;
	long long end; /* the file's size after our last whole record; -1: unknown */
};

#define AUDIT_SINK_INIT                                                                            \
	{                                                                                          \
		.fd = -1, .end = -1                                                                \
	}

/*
 * Make s write to fd, which it owns from now on. A regular file that ends
 * inside a line, as a run on a full disk may leave it, starts broken.
 */
void audit_sink_init(struct audit_sink *s, int fd);

/*
 * Append line and a newline to s with one write(2), after ending a broken
 * line. 0 when the whole record landed (a newline that did not fit is
 * written before the next record); else -errno, and of the record either
 * nothing landed or only its start, alone on its line. -EINVAL for a line
 * holding '\n'.
 */
int audit_write_line(struct audit_sink *s, const char *line);

/* End a broken line if there is room for it now, and close the descriptor. */
void audit_sink_release(struct audit_sink *s);

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

#endif /* PINFOLD_AUDIT_H */
