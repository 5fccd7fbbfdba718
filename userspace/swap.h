/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * swap.h - apply a changed policy to a running instance, all at once.
 *
 * `pinfold run` watches its policy (a file or a directory) and, when it
 * changes, loads and validates it, compiles the agent under the next
 * generation and applies it (see "Generations" in bpf/pinfold.h). A policy
 * that does not load, lacks the agent or does not compile is rejected, and
 * the one in force stays. Each outcome is an audit record. The policies of
 * earlier generations are kept, so that events they decided, still queued
 * when the next one took over, are described by the policy that decided.
 */
#ifndef PINFOLD_SWAP_H
#define PINFOLD_SWAP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "audit.h"
#include "instance.h"
#include "loader.h"
#include "policy/compile.h"
#include "policy/policy.h"

/* Generations whose policies are kept, the one in force included. */
#define SWAP_KEEP 64
/* Quiet time after the last change before the policy is read: editors write in steps. */
#define SWAP_SETTLE_MS 50

struct json_object;

/* Where a swap's outcome goes: the instance's audit records. */
typedef void (*swap_note_fn)(void *ctx, const char *kind, struct json_object *detail);

struct swap {
	const char *path;  /* --policy, as given */
	const char *agent; /* the agent's name */
	/* gens[0] is in force, then older ones, newest first; policies owned */
	struct policy *policies[SWAP_KEEP];
	struct audit_generation gens[SWAP_KEEP];
	/* what each one's hostnames resolved to (as gens), for denial lines; owned */
	struct compiled_name *names[SWAP_KEEP];
	size_t n_names[SWAP_KEEP];
	size_t n_gens;
	int inotify_fd; /* -1: not watching */
	bool pending;   /* a change waits for the quiet time to pass */
	bool force;     /* the next change applies even an unchanged policy */
	struct timespec due;
	char last_rejection[768]; /* not repeated while the policy stays the same */
};

#define SWAP_INIT                                                                                  \
	{                                                                                          \
		.inotify_fd = -1                                                                   \
	}

/* What applying a policy touches. */
struct swap_target {
	const struct pf_kernel *k;
	struct instance *in;
	const char *private_tmp; /* for compile_env */
	struct audit_instance *who;
	swap_note_fn note; /* takes the detail's reference */
	void *note_ctx;
	/* the audit log and its keys, which no policy may let the agent reach */
	const char *audit_log;
	const char *const *audit_keys;
	size_t n_audit_keys;
};

/*
 * Start with p, loaded from path, as generation gen in force for agent;
 * sw takes p (malloc'ed) over.
 */
void swap_init(struct swap *sw, const char *path, const char *agent, struct policy *p,
	       uint32_t gen);

/* Forget every generation kept; p (taken over) is in force as gen. The watch stays. */
void swap_reset(struct swap *sw, struct policy *p, uint32_t gen);

/* The policy in force, and its agent. */
const struct policy *swap_policy(const struct swap *sw);
const struct policy_agent *swap_agent(const struct swap *sw);

/* Keep what the hostnames of the policy in force resolved to, as c says. 0 or -ENOMEM. */
int swap_keep_names(struct swap *sw, const struct compiled *c);

/*
 * The policy, agent and resolved hostnames of generation gen, while it is
 * kept; false when it is not.
 */
bool swap_generation(const struct swap *sw, uint32_t gen, const struct policy **p,
		     const struct policy_agent **a, const struct compiled_name **names,
		     size_t *n_names);

/* Point who at the generation in force and at the older ones kept. */
void swap_describe(const struct swap *sw, struct audit_instance *who);

/*
 * Watch the policy: its directory, or the directory holding its file, so
 * that a file renamed into place or replaced by an editor is seen. 0 or
 * -errno.
 */
int swap_watch(struct swap *sw);

/* The descriptor to poll for changes; -1 when not watching. */
int swap_fd(const struct swap *sw);

/* Milliseconds until a change is due to be read; -1 when none is pending. */
int swap_timeout_ms(const struct swap *sw);

/*
 * Read the policy at the next swap_run_due, now: a reload was asked for.
 * force: apply it even when it is the one in force (a restarted daemon
 * adopts rules it did not write, whatever policy they came from).
 */
void swap_request(struct swap *sw, bool force);

/* Take the watch's notifications (when swap_fd is readable). */
void swap_on_change(struct swap *sw);

/*
 * When a change is due, read the policy and, if it differs from the one in
 * force, apply it or reject it (also when swap_guard, in guard.h, finds
 * that the agent could change it): with an audit record either way, and a
 * line on stderr. Returns 1 when a new generation took effect, else 0.
 */
int swap_run_due(struct swap *sw, const struct swap_target *t);

void swap_release(struct swap *sw);

#endif /* PINFOLD_SWAP_H */
