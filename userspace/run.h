/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * run.h - `pinfold run`: launch one confined agent instance.
 */
#ifndef PINFOLD_RUN_H
#define PINFOLD_RUN_H

#include <stdbool.h>

#include "auditlog.h"

/* Exit statuses of pinfold itself; otherwise run exits with the agent's. */
enum {
	RUN_EXIT_USAGE = 2,      /* bad policy, bad options, or refused */
	RUN_EXIT_INTERNAL = 125, /* pinfold failed */
	RUN_EXIT_NOEXEC = 126,   /* the command could not be executed */
	RUN_EXIT_NOTFOUND = 127, /* the command was not found */
};

#define RUN_MAX_KEEP_FDS 16

struct run_opts {
	const char *policy;
	const char *agent;
	const char *audit;
	const char *on_behalf_of; /* whom the agent acts for, in every record */
	const char *task;         /* and on which task */
	struct auditlog_opts log;
	long long reserve_bytes; /* free bytes below which audit-required access is refused */
	bool allow_degraded;
	bool no_watch;                  /* apply no change of the policy while the agent runs */
	bool standalone;                /* not through the daemon, even when one runs */
	bool audit_given;               /* an --audit* option was given */
	int keep_fds[RUN_MAX_KEEP_FDS]; /* inherited fds above 2 to pass on, sorted */
	int n_keep_fds;
	char **argv;
};

/* --audit-sync's value; 0, or -EINVAL after saying why. */
int run_parse_sync(const char *arg, enum auditlog_sync *out);

/* A count of bytes or seconds (0: never) for option opt; 0, or -EINVAL after saying why. */
int run_parse_count(const char *opt, const char *arg, long long *out);

/* `pinfold run ARGS`; returns the exit status. */
int run_main(int argc, char **argv);

#endif /* PINFOLD_RUN_H */
