/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.h - the daemon's control socket, and the commands that use it.
 *
 * A unix SOCK_SEQPACKET socket: each message is one JSON object, a
 * request {"op": ...} or its reply {"ok": true|false, ...}. The daemon
 * knows who asks from the socket itself (SO_PEERCRED, SO_PEERGROUPS),
 * never from the message. Anyone may connect: reading the status and
 * confining oneself (run) change nothing of others; every other request
 * needs root or the admin group, and each one, refused or done, is an
 * audit record with the requester's uid.
 */
#ifndef PINFOLD_CONTROL_H
#define PINFOLD_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define CONTROL_SOCKET "/run/pinfold/control.sock"
#define CONTROL_MAX_MSG (64 * 1024)

/* A connection to the daemon: the descriptor, or -errno (-ENOENT, -ECONNREFUSED: none runs). */
int control_connect(void);

/* Is err the sign that no daemon runs? */
int control_no_daemon(int err);

/* Send one message; 0 or -errno. */
int control_send(int fd, struct json_object *msg);

/* Receive one message into *msg (owned by the caller); 0, -EPIPE at the end, or -errno. */
int control_recv(int fd, struct json_object **msg);

/* A message's string member, or NULL; its integer member, or dflt. */
const char *control_str(struct json_object *o, const char *key);
int64_t control_int(struct json_object *o, const char *key, int64_t dflt);

/* Send req (taken) and wait for the reply; NULL with errno set on failure. */
struct json_object *control_call(int fd, struct json_object *req);

/* `pinfold status|attach|reload` and `pinfold unload` through the daemon. */
int control_status_main(int argc, char **argv);
int control_attach_main(int argc, char **argv);
int control_reload_main(int argc, char **argv);

/*
 * Ask the daemon to unload; 0 done, -1 when no daemon runs (unload
 * alone), or an exit status after saying why.
 */
int control_unload(int force);

#endif /* PINFOLD_CONTROL_H */
