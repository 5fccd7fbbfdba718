/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * launch.h - one confined agent instance from policy to exit: its slot,
 * rules, cgroup, private temporary directory and audit writer.
 *
 * `pinfold run` launches one instance for itself and supervises it; the
 * daemon (daemon.h) launches many, for the processes that ask it over the
 * control socket, and adopts those a killed daemon left. Both go through
 * these steps:
 *   launch_prepare  read and compile the policy, take a slot, bring up or
 *                   adopt the kernel side, refuse what cannot be enforced
 *                   or guarded;
 *   launch_up       open the audit log, create the cgroup, install the
 *                   rules and the ring, write instance-start;
 *   launch_end      the instance's tasks are gone: remove its cgroup and
 *                   temporary directory, drain the ring, write instance-exit;
 *   launch_release  undo whatever was done.
 * Each refusal and error is said, in one line, on l->err.
 */
#ifndef PINFOLD_LAUNCH_H
#define PINFOLD_LAUNCH_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "guard.h"
#include "instance.h"
#include "loader.h"
#include "policy/compile.h"
#include "run.h"
#include "swap.h"
#include "writer.h"

struct json_object;

struct launch {
	struct run_opts o;
	struct swap sw; /* the policy in force, earlier ones, and the watch */
	int watch_err;  /* why the policy is not watched, when it is not */
	bool watched;   /* the policy is watched elsewhere (the daemon): guard it anyway */
	struct compiled comp;
	struct pf_kernel *k; /* opened by launch_prepare when not yet */
	struct instance in;
	struct writer w;
	char cg[PATH_MAX];         /* the instance cgroup, while it exists */
	char path_key[PATH_MAX];   /* the audit log's key of hashed paths */
	const char *audit_keys[2]; /* the signing key and the path key */
	char name[128];            /* the instance's name */
	int procs_fd;
	FILE *err;                     /* where refusals and errors are said */
	pid_t launcher;                /* whose descriptors the agent inherits */
	uid_t uid;                     /* the agent's credentials */
	gid_t gid;                     /* ... */
	const struct guard_cred *cred; /* for the guards; NULL: pinfold's own */
};

#define LAUNCH_INIT                                                                                \
	{                                                                                          \
		.sw = SWAP_INIT, .in = INSTANCE_INIT, .o.log = AUDITLOG_OPTS_INIT,                 \
		.o.reserve_bytes = WRITER_RESERVE_DEFAULT, .procs_fd = -1                          \
	}

/* Each returns 0, or the exit status (run.h) to end with. */
int launch_prepare(struct launch *l);
int launch_up(struct launch *l);

/*
 * Take over an instance a killed daemon left: l->in (slot taken, cgroup
 * id, flags, generation gen, ring) and l->name, l->cg are set. Reads the
 * policy as generation gen, compiles it for the names it resolved, and
 * opens the writer on the ring: the events that waited there are written
 * from the next read on. 0 or an exit status.
 */
int launch_adopt(struct launch *l, uint32_t gen);

/* A changed policy is due (swap.h): apply it between two reads of the ring. */
void launch_swap(struct launch *l);

/*
 * The instance's tasks are gone: end it; detail (owned; may be NULL) goes
 * into its instance-exit record.
 */
void launch_end(struct launch *l, struct json_object *detail);

void launch_release(struct launch *l);

/*
 * Let go of the instance and leave it to the kernel: its rules, ring,
 * cgroup and private tmp stay, its writer is closed and its slot's lock
 * released (a daemon that stops, or cannot adopt it).
 */
void launch_detach(struct launch *l);

#endif /* PINFOLD_LAUNCH_H */
