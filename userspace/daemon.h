/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon.h - `pinfold daemon`: pinfold as a service.
 *
 * The daemon brings the kernel side up (or adopts it where it is pinned),
 * launches agent instances for the processes that ask over the control
 * socket (control.h), writes their audit records, and applies a changed
 * policy to all of them: on SIGHUP, when the policy's files change, or
 * when an admin asks (`pinfold reload`).
 *
 * Killing it opens nothing. The programs stay attached by their pinned
 * links, each instance's rules and ring stay in the pinned maps, and its
 * events wait in its ring. What the daemon knows of an instance that the
 * kernel does not (its agent, name, launcher, private tmp) is kept in
 * INSTANCE_DAEMON_DIR/SLOT.json, and the number after the last event it
 * wrote in SLOT.seq; a restarted daemon adopts each instance from there
 * and writes the events that waited. SIGTERM stops the daemon the same
 * way, after draining every ring; `pinfold unload` is what ends it all.
 */
#ifndef PINFOLD_DAEMON_H
#define PINFOLD_DAEMON_H

#define DAEMON_LOCK "/run/pinfold/daemon.lock"
#define DAEMON_ADMIN_GROUP "pinfold-admin"

/* `pinfold daemon ARGS`; returns the exit status. */
int daemon_main(int argc, char **argv);

#endif /* PINFOLD_DAEMON_H */
