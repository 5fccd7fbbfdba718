// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon.c - `pinfold daemon`: daemon.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "cgroup.h"
#include "control.h"
#include "daemon.h"
#include "launch.h"
#include "run.h"

/* Connections open at once, and of one user other than root; more are
 * closed as they come. Runs hold theirs. */
#define DAEMON_MAX_CONNS 1024
#define DAEMON_MAX_CONNS_PER_UID 32

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* What epoll reports: which descriptor of whom. */
enum source_kind { SRC_LISTEN, SRC_SIGNAL, SRC_POLICY, SRC_CONN, SRC_RING, SRC_EVENTS };

struct source {
	enum source_kind kind;
	void *owner;
};

struct dinst;

/* One client connection; a run's stays open until its agent ends. */
struct conn {
	struct source src;
	int fd;
	int pidfd; /* the peer, opened at accept: whom a run moves */
	struct guard_cred cred;
	pid_t pid;
	bool admin;
	struct dinst *inst; /* the instance it launched */
	struct conn *next;
};

/* One instance the daemon keeps. */
struct dinst {
	struct launch l;
	struct source ring_src, events_src;
	int events_fd; /* cgroup.events: "populated 0" ends the instance */
	bool adopted;
	bool fixed; /* takes no reload (run --no-watch) */
	int status; /* the exit status its launcher reported; -1 none */
	struct conn *conn;
	char *agent, *on_behalf_of, *task; /* owned: l.o points here */
	char **argv;
	struct guard_cred cred;
	struct dinst *next;
};

/* An instance a killed daemon left that this one could not adopt. */
struct orphan {
	int slot;
	char name[128];
	char why[256];
	struct orphan *next;
};

struct daemon {
	const char *policy_path;
	char policy_real[PATH_MAX];
	struct swap sw; /* the policy in force, its watch */
	struct auditlog_opts log;
	const char *audit;
	long long reserve;
	const char *admin_group;
	gid_t admin_gid;
	bool have_admin_gid;
	struct pf_kernel k;
	struct writer w;      /* the daemon's own records */
	struct instance self; /* w's instance: none in the kernel */
	int ep, listen_fd, sig_fd, lock_fd;
	struct source listen_src, sig_src, policy_src;
	struct dinst *insts;
	struct orphan *orphans; /* confined still, unwatched: unload --force kills them */
	struct conn *conns;
	unsigned n_conns;
	unsigned reloads;
	char started[64];
	bool stop, unload;
};

static void json_add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static bool jbool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static int epoll_add(struct daemon *d, int fd, uint32_t events, struct source *src)
{
	struct epoll_event e = {.events = events, .data.ptr = src};

	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* A record of the daemon's own: kind "daemon" or "control", or a policy's rejection. */
static void note(struct daemon *d, const char *kind, struct json_object *detail)
{
	writer_note(&d->w, kind, detail);
	writer_flush(&d->w);
}

/* ---- instance state kept for a restarted daemon ---- */

static void state_path(char *buf, size_t len, int slot, const char *ext)
{
	snprintf(buf, len, "%s/%d.%s", INSTANCE_DAEMON_DIR, slot, ext);
}

/* Write what a restarted daemon needs to adopt di; 0 or -errno. */
static int state_save(const struct dinst *di)
{
	const struct launch *l = &di->l;
	struct json_object *o = json_object_new_object(), *groups;
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int i;
	const char *text;
	int fd, err = 0;
	size_t n;

	json_add(o, "slot", json_object_new_int(l->in.slot));
	json_add(o, "agent", json_object_new_string(l->o.agent));
	json_add(o, "instance", json_object_new_string(l->name));
	json_add(o, "cgroup", json_object_new_string(l->cg));
	json_add(o, "cgroup_id", json_object_new_uint64(l->in.cgroup_id));
	json_add(o, "tmp", json_object_new_string(l->in.tmp));
	json_add(o, "launcher", json_object_new_int(l->launcher));
	json_add(o, "uid", json_object_new_int64(l->uid));
	json_add(o, "gid", json_object_new_int64(l->gid));
	groups = json_object_new_array();
	for (i = 0; i < di->cred.n_groups; i++)
		json_object_array_add(groups, json_object_new_int64(di->cred.groups[i]));
	json_add(o, "groups", groups);
	json_add(o, "policy_sha256", json_object_new_string(swap_policy(&l->sw)->sha256));
	if (l->o.on_behalf_of)
		json_add(o, "on_behalf_of", json_object_new_string(l->o.on_behalf_of));
	json_add(o, "fixed", json_object_new_boolean(di->fixed));
	if (l->o.task)
		json_add(o, "task", json_object_new_string(l->o.task));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = strlen(text);
	state_path(path, sizeof(path), l->in.slot, "json");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) || rename(tmp, path))
		err = -errno;
	if (fd >= 0)
		close(fd);
	json_object_put(o);
	return err;
}

static void state_remove(int slot)
{
	char path[PATH_MAX];

	state_path(path, sizeof(path), slot, "json");
	unlink(path);
	state_path(path, sizeof(path), slot, "seq");
	unlink(path);
}

/*
 * Open SLOT.seq, where the writer keeps its place (writer.h cursor_fd):
 * the descriptor, or -errno. w, when given, continues from there.
 */
static int cursor_open(int slot, struct writer *w)
{
	uint64_t cursor[2] = {0, 0};
	char path[PATH_MAX];
	int fd;

	state_path(path, sizeof(path), slot, "seq");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (w && pread(fd, cursor, sizeof(cursor), 0) == sizeof(cursor)) {
		w->gaps.next = cursor[0];
		w->lost_reported = cursor[1];
	}
	return fd;
}

/* ---- instances ---- */

static void dinst_free(struct dinst *di)
{
	int i;

	free(di->agent);
	free(di->on_behalf_of);
	free(di->task);
	for (i = 0; di->argv && di->argv[i]; i++)
		free(di->argv[i]);
	free(di->argv);
	free(di);
}

/* Close what the daemon alone holds of di (its cgroup.events and cursor), and free it. */
static void dinst_close(struct dinst *di)
{
	if (di->events_fd >= 0)
		close(di->events_fd);
	if (di->l.w.cursor_fd >= 0)
		close(di->l.w.cursor_fd);
	dinst_free(di);
}

/* Remove di from the kernel and forget it: its state files go too. */
static void dinst_drop(struct dinst *di)
{
	int slot = di->l.in.slot;

	launch_release(&di->l);
	if (slot >= 0)
		state_remove(slot);
	dinst_close(di);
}

/* Leave di to the kernel and to the next daemon: its state files stay. */
static void dinst_forget(struct dinst *di)
{
	launch_detach(&di->l);
	dinst_close(di);
}

static struct dinst *dinst_new(struct daemon *d)
{
	struct dinst *di = calloc(1, sizeof(*di));

	if (!di)
		return NULL;
	di->l = (struct launch)LAUNCH_INIT;
	di->l.k = &d->k;
	di->l.err = stderr;
	di->l.o.policy = d->policy_path;
	di->l.o.audit = d->audit;
	di->l.o.log = d->log;
	di->l.o.reserve_bytes = d->reserve;
	/* the daemon watches the policy, for all of its instances */
	di->l.o.no_watch = true;
	di->l.watched = swap_fd(&d->sw) >= 0;
	di->l.w.cursor_fd = -1;
	di->events_fd = -1;
	di->status = -1;
	return di;
}

/* Watch the instance's ring and cgroup; 0 or -errno. */
static int dinst_watch(struct daemon *d, struct dinst *di)
{
	char path[PATH_MAX + 16];
	int err;

	di->ring_src = (struct source){SRC_RING, di};
	di->events_src = (struct source){SRC_EVENTS, di};
	snprintf(path, sizeof(path), "%s/cgroup.events", di->l.cg);
	di->events_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (di->events_fd < 0)
		return -errno;
	err = epoll_add(d, writer_ring_fd(&di->l.w), EPOLLIN, &di->ring_src);
	return err ?: epoll_add(d, di->events_fd, EPOLLPRI | EPOLLERR, &di->events_src);
}

/* Does the instance's cgroup still hold a task? */
static bool populated(struct dinst *di)
{
	char buf[256];
	ssize_t n;

	if (di->events_fd < 0)
		return false;
	n = pread(di->events_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !strstr(buf, "populated 0");
}

/* The instance's tasks are gone: end it, and forget it. */
static void dinst_end(struct daemon *d, struct dinst *di)
{
	struct json_object *detail = json_object_new_object();
	struct dinst **pp;

	if (di->status >= 0)
		json_add(detail, "status", json_object_new_int(di->status));
	else
		json_add(detail, "status", NULL);
	/* the launcher runs confined: its word is the agent's */
	json_add(detail, "status_from",
		 json_object_new_string(di->status >= 0 ? "launcher" : "unknown"));
	launch_end(&di->l, detail);
	if (di->conn)
		di->conn->inst = NULL;
	for (pp = &d->insts; *pp; pp = &(*pp)->next)
		if (*pp == di) {
			*pp = di->next;
			break;
		}
	dinst_drop(di);
}

/* The uid and gid of process pid, and its groups, from /proc; 0 or -errno. */
static int proc_cred(pid_t pid, struct guard_cred *c)
{
	char path[64], line[1024], *p, *end;
	unsigned long v;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	c->n_groups = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %u", &c->uid) == 1) {
			found |= 1;
		} else if (sscanf(line, "Gid: %u", &c->gid) == 1) {
			found |= 2;
		} else if (!strncmp(line, "Groups:", 7)) {
			for (p = line + 7; c->n_groups < GUARD_MAX_GROUPS; p = end) {
				v = strtoul(p, &end, 10);
				if (end == p)
					break;
				c->groups[c->n_groups++] = (gid_t)v;
			}
		}
	}
	fclose(f);
	return found == 3 ? 0 : -EINVAL;
}

/*
 * Move the peer process into the instance cgroup: pid, checked alive
 * through pidfd before and after, so that a pid reused meanwhile is never
 * moved in its place. 0 or -errno.
 */
static int move_task(struct dinst *di, pid_t pid, int pidfd)
{
	struct guard_cred now;
	char buf[32];
	int n, err = 0;

	if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	/* where the pidfd was opened from a pid, not the socket: the same user at least */
	if (proc_cred(pid, &now) || now.uid != di->cred.uid)
		return -ESRCH;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(di->l.procs_fd, buf, n) != n)
		err = -errno;
	if (!err && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		err = -ESRCH;
	return err;
}

/* ---- requests ---- */

/* A reply: ok, or the exit status code; said (may be NULL) is shown to the requester. */
static struct json_object *reply_new(bool ok, int code, const char *said)
{
	struct json_object *r = json_object_new_object();

	json_add(r, "ok", json_object_new_boolean(ok));
	if (!ok)
		json_add(r, "code", json_object_new_int(code));
	if (said)
		json_add(r, "said", json_object_new_string(said));
	return r;
}

/* A request's record: who asked what, and what came of it. */
static void note_control(struct daemon *d, const struct conn *c, const char *op, bool allowed,
			 const char *outcome, struct json_object *extra)
{
	struct json_object *o = extra ? extra : json_object_new_object();

	json_add(o, "op", json_object_new_string(op));
	json_add(o, "requested_by_uid", json_object_new_int64(c->cred.uid));
	json_add(o, "requested_by_gid", json_object_new_int64(c->cred.gid));
	json_add(o, "requested_by_pid", json_object_new_int(c->pid));
	json_add(o, "allowed", json_object_new_boolean(allowed));
	json_add(o, "outcome", json_object_new_string(outcome));
	note(d, "control", o);
}

/*
 * Launch an instance of agent for pid (the requester itself for run, any
 * process for attach) and move pid into it. The reply says what happened.
 */
static struct json_object *launch_for(struct daemon *d, struct conn *c, struct json_object *req,
				      pid_t pid, int pidfd, const struct guard_cred *cred,
				      bool attach)
{
	struct json_object *keep = json_object_object_get(req, "keep_fds"), *argv, *r;
	const char *agent = control_str(req, "agent");
	char *said = NULL;
	size_t said_len = 0, i, n;
	struct dinst *di;
	int code, err;

	if (!agent)
		return reply_new(false, RUN_EXIT_USAGE, "pinfold: the request names no agent\n");
	di = dinst_new(d);
	if (!di)
		return reply_new(false, RUN_EXIT_INTERNAL, "pinfold: daemon out of memory\n");
	di->l.err = open_memstream(&said, &said_len);
	di->agent = strdup(agent);
	di->on_behalf_of =
		control_str(req, "on_behalf_of") ? strdup(control_str(req, "on_behalf_of")) : NULL;
	di->task = control_str(req, "task") ? strdup(control_str(req, "task")) : NULL;
	di->cred = *cred;
	di->l.o.agent = di->agent;
	di->l.o.on_behalf_of = di->on_behalf_of;
	di->l.o.task = di->task;
	di->l.o.allow_degraded = jbool(req, "allow_degraded");
	/* run --no-watch: this instance keeps the policy it starts with */
	di->fixed = jbool(req, "no_watch");
	di->l.watched = di->l.watched && !di->fixed;
	di->l.launcher = pid;
	di->l.uid = cred->uid;
	di->l.gid = cred->gid;
	di->l.cred = &di->cred;
	n = keep && json_object_is_type(keep, json_type_array) ? json_object_array_length(keep) : 0;
	for (i = 0; i < n && i < RUN_MAX_KEEP_FDS; i++)
		di->l.o.keep_fds[di->l.o.n_keep_fds++] =
			json_object_get_int(json_object_array_get_idx(keep, i));
	argv = json_object_object_get(req, "argv");
	n = argv && json_object_is_type(argv, json_type_array) ? json_object_array_length(argv) : 0;
	di->argv = calloc(n + 1, sizeof(char *));
	for (i = 0; di->argv && i < n; i++)
		di->argv[i] =
			strdup(json_object_get_string(json_object_array_get_idx(argv, i)) ?: "");
	if (!di->l.err || !di->agent || !di->argv) {
		dinst_free(di);
		return reply_new(false, RUN_EXIT_INTERNAL, "pinfold: daemon out of memory\n");
	}
	di->l.o.argv = di->argv;

	code = launch_prepare(&di->l) ?: launch_up(&di->l);
	if (!code) {
		err = cursor_open(di->l.in.slot, NULL);
		di->l.w.cursor_fd = err;
		err = err < 0 ? err : state_save(di);
		err = err ?: dinst_watch(d, di);
		err = err ?: move_task(di, pid, pidfd);
		if (err) {
			fprintf(di->l.err, "pinfold: cannot %s process %d: %s\n",
				attach ? "attach" : "confine", (int)pid, strerror(-err));
			code = RUN_EXIT_INTERNAL;
		}
	}
	fflush(di->l.err);
	if (code) {
		/* an instance that started ends on record */
		if (di->l.cg[0] && di->l.w.rb)
			launch_end(&di->l, NULL);
		fclose(di->l.err);
		di->l.err = stderr;
		dinst_drop(di);
		r = reply_new(false, code, said);
		free(said);
		return r;
	}
	fclose(di->l.err);
	di->l.err = stderr;
	/* what was said to the requester is the daemon's to know too */
	if (said_len)
		fputs(said, stderr);
	r = reply_new(true, 0, said);
	free(said);
	json_add(r, "instance", json_object_new_string(di->l.name));
	json_add(r, "tmp", json_object_new_string(di->l.in.tmp));
	di->next = d->insts;
	d->insts = di;
	if (!attach) {
		di->conn = c;
		c->inst = di;
	}
	return r;
}

static struct json_object *op_run(struct daemon *d, struct conn *c, struct json_object *req)
{
	const char *policy = control_str(req, "policy");
	char said[PATH_MAX + 256];

	if (policy && strcmp(policy, d->policy_real)) {
		snprintf(said, sizeof(said),
			 "pinfold: the daemon enforces policy %s, not %s: drop --policy, or pass "
			 "--standalone to run without the daemon\n",
			 d->policy_real, policy);
		return reply_new(false, RUN_EXIT_USAGE, said);
	}
	if (jbool(req, "audit_options"))
		return reply_new(false, RUN_EXIT_USAGE,
				 "pinfold: the daemon writes the audit log with its own settings: "
				 "drop the --audit options, or pass --standalone\n");
	/* an agent that asked for another instance would choose its own rules */
	if (cgroup_pid_below(d->k.parent, c->pid) != 0) {
		note_control(d, c, "run", false, "refused: the requester is confined already",
			     NULL);
		return reply_new(false, RUN_EXIT_USAGE,
				 "pinfold: run: refused: this process is an agent already (or its "
				 "cgroup cannot be read); the refusal is recorded\n");
	}
	/* keeping a policy an admin may revoke is the admin's to allow */
	if (jbool(req, "no_watch") && !c->admin) {
		note_control(d, c, "run", false, "refused: --no-watch needs an admin", NULL);
		return reply_new(
			false, RUN_EXIT_USAGE,
			"pinfold: run: --no-watch through the daemon needs root or the "
			"admin group: an instance that keeps its policy keeps what an admin "
			"revokes\n");
	}
	return launch_for(d, c, req, c->pid, c->pidfd, &c->cred, false);
}

static struct json_object *op_attach(struct daemon *d, struct conn *c, struct json_object *req)
{
	pid_t pid = (pid_t)control_int(req, "pid", 0);
	struct guard_cred cred = {};
	char said[256];
	struct json_object *r;
	int pidfd, err;

	if (pid <= 1 || pid == getpid()) {
		snprintf(said, sizeof(said), "pinfold: cannot attach process %d\n", (int)pid);
		return reply_new(false, RUN_EXIT_USAGE, said);
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	err = pidfd < 0 ? -errno : proc_cred(pid, &cred);
	if (!err && cgroup_pid_below(d->k.parent, pid) == 1)
		err = -EALREADY;
	if (err) {
		snprintf(said, sizeof(said), "pinfold: cannot attach process %d: %s\n", (int)pid,
			 err == -EALREADY ? "it runs confined already" : strerror(-err));
		if (pidfd >= 0)
			close(pidfd);
		return reply_new(false, RUN_EXIT_USAGE, said);
	}
	/* NEEDSWORK: descriptors the process holds above 2 are named nowhere; they stay unjudged */
	r = launch_for(d, c, req, pid, pidfd, &cred, true);
	close(pidfd);
	return r;
}

/* Counters of pf_stats, by name. */
static struct json_object *counters_json(const struct daemon *d)
{
	static const char *const names[] = {
		"ringbuf_full", "no_ringbuf",   "unknown_task", "inbound",
		"fowners_full", "audit_denied", "guard_denied",
	};
	struct json_object *o = json_object_new_object();
	char name[32];
	uint64_t v;
	uint32_t i;

	for (i = 0; i < PF_STAT_MAX; i++) {
		if (loader_percpu_sum(d->k.stats_fd, i, &v))
			continue;
		if (i < sizeof(names) / sizeof(names[0]))
			snprintf(name, sizeof(name), "%s", names[i]);
		else
			snprintf(name, sizeof(name), "stat_%u", i);
		json_add(o, name, json_object_new_uint64(v));
	}
	return o;
}

/* Bytes queued in a ring and its size, from its two position pages. */
static void ring_fill(int ring_fd, long long *used, long long *size)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	unsigned long *cons, *prod;

	*used = *size = 0;
	if (bpf_obj_get_info_by_fd(ring_fd, &info, &len))
		return;
	*size = info.max_entries;
	cons = mmap(NULL, page, PROT_READ, MAP_SHARED, ring_fd, 0);
	prod = mmap(NULL, page, PROT_READ, MAP_SHARED, ring_fd, page);
	if (cons != MAP_FAILED && prod != MAP_FAILED)
		*used = (long long)(__atomic_load_n(prod, __ATOMIC_ACQUIRE) -
				    __atomic_load_n(cons, __ATOMIC_ACQUIRE));
	if (cons != MAP_FAILED)
		munmap(cons, page);
	if (prod != MAP_FAILED)
		munmap(prod, page);
}

/* Tasks in a cgroup. */
static long long task_count(const char *cg)
{
	char path[PATH_MAX + 16], line[64];
	long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static struct json_object *instances_json(const struct daemon *d)
{
	struct json_object *list = json_object_new_array(), *o;
	const struct dinst *di;
	long long used, size;
	uint64_t lost;

	for (di = d->insts; di; di = di->next) {
		const struct launch *l = &di->l;

		o = json_object_new_object();
		json_add(o, "instance", json_object_new_string(l->name));
		json_add(o, "agent", json_object_new_string(l->o.agent));
		json_add(o, "slot", json_object_new_int(l->in.slot));
		json_add(o, "generation", json_object_new_int64(l->in.gen));
		json_add(o, "mode",
			 json_object_new_string(policy_mode_name(swap_agent(&l->sw)->mode)));
		json_add(o, "uid", json_object_new_int64(l->uid));
		json_add(o, "launcher", json_object_new_int(l->launcher));
		json_add(o, "cgroup", json_object_new_string(l->cg));
		json_add(o, "tasks", json_object_new_int64(task_count(l->cg)));
		json_add(o, "adopted", json_object_new_boolean(di->adopted));
		json_add(o, "allowed", json_object_new_uint64(l->w.allowed));
		json_add(o, "denied", json_object_new_uint64(l->w.denied));
		if (loader_percpu_sum(d->k.lost_fd, l->in.slot, &lost))
			lost = 0;
		json_add(o, "lost", json_object_new_uint64(lost));
		ring_fill(l->in.ring_fd, &used, &size);
		json_add(o, "ring_used", json_object_new_int64(used));
		json_add(o, "ring_size", json_object_new_int64(size));
		if (l->o.on_behalf_of)
			json_add(o, "on_behalf_of", json_object_new_string(l->o.on_behalf_of));
		json_object_array_add(list, o);
	}
	return list;
}

/* The instances a killed daemon left that this one could not adopt. */
static struct json_object *orphans_json(const struct daemon *d)
{
	struct json_object *list = json_object_new_array(), *o;
	const struct orphan * or ;

	for (or = d->orphans; or ; or = or->next) {
		o = json_object_new_object();
		json_add(o, "slot", json_object_new_int(or->slot));
		json_add(o, "instance", json_object_new_string(or->name));
		json_add(o, "why", json_object_new_string(or->why));
		json_object_array_add(list, o);
	}
	return list;
}

/* The programs attached, by the links the daemon holds. */
static struct json_object *programs_json(const struct daemon *d)
{
	struct json_object *list = json_object_new_array(), *o;
	int i, fd;

	for (i = 0; i < d->k.n_links; i++) {
		struct bpf_link_info li = {};
		struct bpf_prog_info pi = {};
		uint32_t len = sizeof(li);

		if (bpf_obj_get_info_by_fd(d->k.link_fds[i], &li, &len))
			continue;
		o = json_object_new_object();
		json_add(o, "link", json_object_new_int64(li.id));
		json_add(o, "id", json_object_new_int64(li.prog_id));
		/* a cgroup link detached behind pinfold's back names no cgroup */
		if (li.type == BPF_LINK_TYPE_CGROUP)
			json_add(o, "attached", json_object_new_boolean(li.cgroup.cgroup_id != 0));
		fd = bpf_prog_get_fd_by_id(li.prog_id);
		len = sizeof(pi);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &pi, &len)) {
			json_add(o, "name", json_object_new_string(pi.name));
			/* counted only while kernel.bpf_stats_enabled is 1; the
			 * guard hides pinfold's programs from anyone else's tools */
			json_add(o, "run_cnt", json_object_new_int64((int64_t)pi.run_cnt));
			json_add(o, "run_time_ns", json_object_new_int64((int64_t)pi.run_time_ns));
		}
		if (fd >= 0)
			close(fd);
		json_object_array_add(list, o);
	}
	return list;
}

static struct json_object *op_status(struct daemon *d)
{
	struct json_object *r = reply_new(true, 0, NULL), *f = json_object_new_object();
	char mnt[PATH_MAX];

	json_add(r, "pid", json_object_new_int(getpid()));
	json_add(r, "started", json_object_new_string(d->started));
	json_add(r, "policy", json_object_new_string(d->policy_real));
	json_add(r, "policy_sha256", json_object_new_string(swap_policy(&d->sw)->sha256));
	json_add(r, "watched", json_object_new_boolean(swap_fd(&d->sw) >= 0));
	json_add(r, "reloads", json_object_new_int64(d->reloads));
	json_add(r, "audit", json_object_new_string(d->audit));
	json_add(r, "admin_group",
		 d->have_admin_gid ? json_object_new_string(d->admin_group) : NULL);
	json_add(f, "bpf_lsm", json_object_new_boolean(d->k.files_enforced));
	if (!d->k.files_enforced)
		json_add(f, "bpf_lsm_why", json_object_new_string(d->k.files_why));
	json_add(f, "btf", json_object_new_boolean(access("/sys/kernel/btf/vmlinux", R_OK) == 0));
	json_add(f, "cgroup2",
		 cgroup_find_mount(mnt, sizeof(mnt)) ? NULL : json_object_new_string(mnt));
	json_add(f, "parent", json_object_new_string(d->k.parent));
	json_add(r, "features", f);
	json_add(r, "programs", programs_json(d));
	json_add(r, "instances", instances_json(d));
	json_add(r, "unadopted", orphans_json(d));
	json_add(r, "counters", counters_json(d));
	return r;
}

/*
 * Read the policy again and, when it loads, checks and differs from the
 * one in force, apply it to every instance (each one's swap: all at once
 * for it, or not at all). One record says who asked and what came of it.
 * Returns the outcome in words; the error, when it was rejected, in err.
 */
static const char *reload(struct daemon *d, const char *via, int64_t uid, char *err, size_t len)
{
	struct json_object *detail = json_object_new_object(), *kept;
	struct policy_error perr = {};
	struct compile_env env = {};
	struct policy *p = calloc(1, sizeof(*p));
	struct dinst *di;

	err[0] = '\0';
	json_add(detail, "via", json_object_new_string(via));
	json_add(detail, "requested_by_uid", uid < 0 ? NULL : json_object_new_int64(uid));
	if (!p || policy_load(d->policy_path, p, &perr) ||
	    (compile_policy_check(p, &env, &perr) && (policy_release(p), true))) {
		if (p)
			policy_error_format(&perr, err, len);
		else
			snprintf(err, len, "%s", strerror(ENOMEM));
		free(p);
		fprintf(stderr, "pinfold: daemon: policy %s rejected, the one in force stays: %s\n",
			d->policy_path, err);
		json_add(detail, "error", json_object_new_string(err));
		json_add(detail, "policy", json_object_new_string(d->policy_real));
		note(d, "policy-rejected", detail);
		return "rejected";
	}
	if (!strcmp(p->sha256, swap_policy(&d->sw)->sha256)) {
		policy_release(p);
		free(p);
		json_object_put(detail);
		return "unchanged";
	}
	json_add(detail, "event", json_object_new_string("reload"));
	json_add(detail, "policy_sha256", json_object_new_string(p->sha256));
	/* the daemon's copy describes only its own records: keep no history */
	swap_reset(&d->sw, p, ++d->reloads + 1);
	fprintf(stderr, "pinfold: daemon: policy %s (sha256 %.12s) loaded; applying it to %s\n",
		d->policy_path, p->sha256, d->insts ? "every instance" : "new instances");
	kept = json_object_new_array();
	for (di = d->insts; di; di = di->next)
		if (di->fixed)
			json_object_array_add(kept, json_object_new_string(di->l.name));
	/* run --no-watch: they keep the generation they started with */
	json_add(detail, "kept_by_no_watch", kept);
	note(d, "daemon", detail);
	for (di = d->insts; di; di = di->next) {
		if (di->fixed)
			continue;
		swap_request(&di->l.sw, false);
		launch_swap(&di->l);
		writer_flush(&di->l.w);
		state_save(di);
	}
	return "applied";
}

static struct json_object *op_reload(struct daemon *d, struct conn *c)
{
	char err[768], said[900];
	const char *outcome = reload(d, "control", c->cred.uid, err, sizeof(err));
	struct json_object *r;

	if (err[0]) {
		snprintf(said, sizeof(said),
			 "pinfold: policy rejected, the one in force stays: %s\n", err);
		r = reply_new(false, RUN_EXIT_USAGE, said);
	} else {
		r = reply_new(true, 0, NULL);
	}
	json_add(r, "outcome", json_object_new_string(outcome));
	return r;
}

/* Does the kernel know any instance, the daemon's or not? */
static bool registered(const struct daemon *d)
{
	uint64_t key;

	return bpf_map_get_next_key(d->k.instances_fd, NULL, &key) == 0;
}

static struct json_object *op_unload(struct daemon *d, struct json_object *req)
{
	bool force = jbool(req, "force");
	struct dinst *di;
	struct orphan *o;
	int n;

	if (!force && (d->insts || d->orphans || registered(d)))
		return reply_new(false, 1,
				 "pinfold: agents are confined right now (pinfold status lists "
				 "them); --force ends the daemon's and those nobody holds, then "
				 "unloads\n");
	/* fail closed: no agent outlives the programs that confine it */
	while ((di = d->insts))
		dinst_end(d, di);
	n = instance_reap_unheld(&d->k);
	if (n > 0)
		fprintf(stderr, "pinfold: daemon: ended %d instance(s) nobody held\n", n);
	while ((o = d->orphans)) {
		d->orphans = o->next;
		free(o);
	}
	d->unload = true;
	d->stop = true;
	return reply_new(true, 0, NULL);
}

/* Is the peer root or in the admin group? */
static bool is_admin(const struct daemon *d, const struct guard_cred *c)
{
	int i;

	if (c->uid == 0)
		return true;
	if (!d->have_admin_gid)
		return false;
	if (c->gid == d->admin_gid)
		return true;
	for (i = 0; i < c->n_groups; i++)
		if (c->groups[i] == d->admin_gid)
			return true;
	return false;
}

/* What a failed reply said, without its last newline, or "failed". */
static void said_line(char *buf, size_t len, struct json_object *r)
{
	const char *said = control_str(r, "said");

	snprintf(buf, len, "failed: %s", said ? said : "");
	buf[strcspn(buf, "\n")] = '\0';
}

/* One request of connection c; the reply, or NULL when none is due. */
static struct json_object *handle(struct daemon *d, struct conn *c, struct json_object *req)
{
	const char *op = control_str(req, "op");
	struct json_object *r, *extra;
	char said[512];
	bool changes;

	if (!op)
		return reply_new(false, RUN_EXIT_USAGE, "pinfold: a request without an op\n");
	if (!strcmp(op, "status"))
		return op_status(d);
	if (!strcmp(op, "exit")) {
		/* from its launcher only, on the run's connection: one that a
		 * killed daemon broke is gone, and so is the status */
		if (c->inst)
			c->inst->status = (int)control_int(req, "status", -1);
		return NULL;
	}
	if (!strcmp(op, "run"))
		return c->inst ? reply_new(false, RUN_EXIT_USAGE,
					   "pinfold: one run per connection\n")
			       : op_run(d, c, req);
	changes = !strcmp(op, "reload") || !strcmp(op, "attach") || !strcmp(op, "unload");
	if (!changes) {
		snprintf(said, sizeof(said), "pinfold: unknown request '%.64s'\n", op);
		return reply_new(false, RUN_EXIT_USAGE, said);
	}
	extra = json_object_new_object();
	if (!strcmp(op, "attach")) {
		/* "agent" and "instance" are the record's own: of the daemon, none */
		json_add(extra, "target_agent",
			 control_str(req, "agent")
				 ? json_object_new_string(control_str(req, "agent"))
				 : NULL);
		json_add(extra, "target_pid", json_object_new_int64(control_int(req, "pid", 0)));
	}
	if (!c->admin) {
		note_control(d, c, op, false, "refused: not root or in the admin group", extra);
		snprintf(
			said, sizeof(said),
			"pinfold: %s: refused: uid %u is not root%s%s%s; the refusal is recorded\n",
			op, (unsigned)c->cred.uid, d->have_admin_gid ? " or in group " : "",
			d->have_admin_gid ? d->admin_group : "",
			d->have_admin_gid ? "" : " (no admin group exists)");
		return reply_new(false, RUN_EXIT_USAGE, said);
	}
	if (!strcmp(op, "reload"))
		r = op_reload(d, c);
	else if (!strcmp(op, "attach"))
		r = op_attach(d, c, req);
	else
		r = op_unload(d, req);
	if (control_str(r, "instance"))
		json_add(extra, "target_instance",
			 json_object_new_string(control_str(r, "instance")));
	said_line(said, sizeof(said), r);
	note_control(d, c, op, true, jbool(r, "ok") ? (control_str(r, "outcome") ?: "done") : said,
		     extra);
	return r;
}

static void conn_close(struct daemon *d, struct conn *c)
{
	struct conn **pp;

	if (c->inst)
		c->inst->conn = NULL;
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	for (pp = &d->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	d->n_conns--;
	free(c);
}

static void on_conn(struct daemon *d, struct conn *c)
{
	struct json_object *req, *reply;
	int err = control_recv(c->fd, &req);

	if (err == -EBADMSG || err == -EMSGSIZE) {
		reply = reply_new(false, RUN_EXIT_USAGE,
				  err == -EMSGSIZE
					  ? "pinfold: a request over 64 KiB\n"
					  : "pinfold: a request that is not a JSON object\n");
		control_send(c->fd, reply);
		json_object_put(reply);
		return;
	}
	if (err) {
		conn_close(d, c);
		return;
	}
	reply = handle(d, c, req);
	json_object_put(req);
	if (reply) {
		control_send(c->fd, reply);
		json_object_put(reply);
	}
	/* a run's connection stays, to hear its exit status */
	if (!c->inst)
		conn_close(d, c);
}

static unsigned conns_of(const struct daemon *d, uid_t uid)
{
	const struct conn *c;
	unsigned n = 0;

	for (c = d->conns; c; c = c->next)
		n += c->cred.uid == uid;
	return n;
}

static void on_accept(struct daemon *d)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct conn *c;
	int fd;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	/* a flood of idle connections must take neither every descriptor nor root's way in */
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) ||
	    (uc.uid != 0 &&
	     (d->n_conns >= DAEMON_MAX_CONNS || conns_of(d, uc.uid) >= DAEMON_MAX_CONNS_PER_UID))) {
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->pid = uc.pid;
	c->cred.uid = uc.uid;
	c->cred.gid = uc.gid;
	len = sizeof(c->cred.groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->cred.groups, &len) == 0)
		c->cred.n_groups = (int)(len / sizeof(gid_t));
	/* the peer itself (Linux 6.5); else by pid, which may have been reused */
	len = sizeof(c->pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &c->pidfd, &len) < 0)
		c->pidfd = syscall(SYS_pidfd_open, uc.pid, 0);
	c->admin = is_admin(d, &c->cred);
	c->src = (struct source){SRC_CONN, c};
	c->next = d->conns;
	d->conns = c;
	d->n_conns++;
	if (epoll_add(d, fd, EPOLLIN, &c->src))
		conn_close(d, c);
}

/* ---- adoption ---- */

/* Is name one plain name: no '/', not "." or ".."? */
static bool plain_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/*
 * Does state name an instance where pinfold puts them: a private tmp
 * right below INSTANCE_TMP_DIR, a cgroup right below the parent, with the
 * id the kernel knows? What the daemon removes and kills at the end comes
 * from here. 0, or -EINVAL with why.
 */
static int state_valid(const struct daemon *d, struct json_object *st, char *why, size_t len)
{
	const char *tmp = control_str(st, "tmp") ?: "", *cg = control_str(st, "cgroup") ?: "";
	size_t pl = strlen(d->k.parent);
	uint64_t id;

	if (*tmp && !instance_tmp_valid(tmp)) {
		snprintf(why, len, "its private tmp %.128s is not below %s", tmp, INSTANCE_TMP_DIR);
		return -EINVAL;
	}
	if (strncmp(cg, d->k.parent, pl) || cg[pl] != '/' || !plain_name(cg + pl + 1)) {
		snprintf(why, len, "its cgroup %.128s is not below %s", cg, d->k.parent);
		return -EINVAL;
	}
	if (!cgroup_id(cg, &id) && id != (uint64_t)control_int(st, "cgroup_id", 0)) {
		snprintf(why, len, "its cgroup %.128s is not the one the kernel knows", cg);
		return -EINVAL;
	}
	return 0;
}

/*
 * Adopt the instance a killed daemon described in state: take its slot,
 * find its entry, rules and ring in the pinned maps, and write the events
 * that waited. 1 when adopted, 0 when it had ended or was gone, or -errno
 * when it cannot be, why said in why.
 */
static int adopt_one(struct daemon *d, struct json_object *st, char *why, size_t why_len)
{
	struct pf_instance val = {};
	uint64_t cgid = (uint64_t)control_int(st, "cgroup_id", 0), next = 0;
	uint32_t slot = (uint32_t)control_int(st, "slot", -1), ring_id = 0;
	struct json_object *detail, *groups;
	struct dinst *di;
	int err, code, i;

	if (!control_str(st, "agent") || !control_str(st, "instance") ||
	    !control_str(st, "cgroup")) {
		snprintf(why, why_len, "its state names no agent, instance or cgroup");
		return -EINVAL;
	}
	err = state_valid(d, st, why, why_len);
	if (err)
		return err;
	di = dinst_new(d);
	if (!di)
		return -ENOMEM;
	di->adopted = true;
	di->fixed = jbool(st, "fixed");
	err = instance_take_slot(&di->l.in, (int)slot);
	if (err) {
		snprintf(why, why_len, "cannot take its slot %u: %s", slot, strerror(-err));
		dinst_free(di);
		return err;
	}
	if (bpf_map_lookup_elem(d->k.instances_fd, &cgid, &val) || val.slot != slot) {
		/* its entry is gone (an unload): nothing of it is enforced any more */
		fprintf(stderr,
			"pinfold: daemon: instance %s is no longer in the kernel; forgotten\n",
			control_str(st, "instance"));
		instance_release(&d->k, &di->l.in);
		state_remove((int)slot);
		dinst_free(di);
		return 0;
	}
	di->agent = strdup(control_str(st, "agent"));
	di->on_behalf_of =
		control_str(st, "on_behalf_of") ? strdup(control_str(st, "on_behalf_of")) : NULL;
	di->task = control_str(st, "task") ? strdup(control_str(st, "task")) : NULL;
	di->l.o.agent = di->agent;
	di->l.o.on_behalf_of = di->on_behalf_of;
	di->l.o.task = di->task;
	di->l.launcher = (pid_t)control_int(st, "launcher", 0);
	di->l.uid = (uid_t)control_int(st, "uid", 0);
	di->l.gid = (gid_t)control_int(st, "gid", 0);
	di->cred.uid = di->l.uid;
	di->cred.gid = di->l.gid;
	groups = json_object_object_get(st, "groups");
	for (i = 0; groups && json_object_is_type(groups, json_type_array) &&
		    i < (int)json_object_array_length(groups) && i < GUARD_MAX_GROUPS;
	     i++)
		di->cred.groups[di->cred.n_groups++] =
			(gid_t)json_object_get_int64(json_object_array_get_idx(groups, i));
	di->l.cred = &di->cred;
	snprintf(di->l.name, sizeof(di->l.name), "%s", control_str(st, "instance"));
	snprintf(di->l.cg, sizeof(di->l.cg), "%s", control_str(st, "cgroup"));
	snprintf(di->l.in.tmp, sizeof(di->l.in.tmp), "%s", control_str(st, "tmp") ?: "");
	di->l.in.cgroup_id = cgid;
	di->l.in.flags = val.flags;
	di->l.in.gen = val.gen;
	di->l.in.sockets = val.sockets;
	err = bpf_map_lookup_elem(d->k.rings_fd, &slot, &ring_id) ? -errno : 0;
	di->l.in.ring_fd = err ? err : bpf_map_get_fd_by_id(ring_id);
	if (!err && di->l.in.ring_fd < 0)
		err = -errno;
	code = err ? RUN_EXIT_INTERNAL : launch_adopt(&di->l, val.gen);
	if (!code) {
		/* records stopped before next: a number below it that comes is a repeat */
		di->l.w.cursor_fd = cursor_open((int)slot, &di->l.w);
		next = di->l.w.gaps.next;
		if (di->l.w.cursor_fd < 0)
			code = RUN_EXIT_INTERNAL;
	}
	if (code) {
		/* its rules stay in force; its events wait for a daemon that can */
		snprintf(why, why_len, "%s",
			 err ? strerror(-err) : "its policy cannot be read (above)");
		dinst_forget(di);
		return err ? err : -EINVAL;
	}
	di->next = d->insts;
	d->insts = di;
	detail = json_object_new_object();
	json_add(detail, "event", json_object_new_string("adopt"));
	json_add(detail, "slot", json_object_new_int((int)slot));
	json_add(detail, "generation", json_object_new_int64(val.gen));
	json_add(detail, "records_stopped_before_seq", json_object_new_uint64(next));
	writer_note(&di->l.w, "daemon", detail);
	/* the agent ended while no daemon ran: its cgroup is gone or empty */
	err = dinst_watch(d, di);
	if (err || !populated(di)) {
		writer_consume(&di->l.w, true);
		dinst_end(d, di);
		return 0;
	}
	/* the policy may have changed while no daemon watched: the file decides,
	 * unless the instance keeps its own (run --no-watch, an admin's choice) */
	if (!di->fixed &&
	    strcmp(control_str(st, "policy_sha256") ?: "", swap_policy(&d->sw)->sha256)) {
		writer_consume(&di->l.w, true);
		swap_request(&di->l.sw, true);
		launch_swap(&di->l);
		state_save(di);
	}
	writer_consume(&di->l.w, false);
	return 1;
}

/*
 * Adopt every instance a killed daemon left; how many, or -errno. Those
 * that cannot be adopted stay confined, and are listed as orphans.
 */
static int adopt_all(struct daemon *d)
{
	struct json_object *st;
	char path[PATH_MAX], why[256];
	struct orphan *o;
	struct dirent *de;
	int n = 0, rc;
	DIR *dir;

	dir = opendir(INSTANCE_DAEMON_DIR);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", INSTANCE_DAEMON_DIR, de->d_name);
		snprintf(why, sizeof(why), "its state cannot be read");
		st = json_object_from_file(path);
		rc = st ? adopt_one(d, st, why, sizeof(why)) : -EINVAL;
		if (rc > 0)
			n++;
		if (rc < 0) {
			fprintf(stderr,
				"pinfold: daemon: cannot adopt the instance of %s: %s; it stays "
				"confined, unwatched, until 'pinfold unload --force' ends it\n",
				path, why);
			o = calloc(1, sizeof(*o));
			if (o) {
				o->slot = atoi(de->d_name);
				snprintf(o->name, sizeof(o->name), "%s",
					 (st ? control_str(st, "instance") : NULL) ?: de->d_name);
				snprintf(o->why, sizeof(o->why), "%s", why);
				o->next = d->orphans;
				d->orphans = o;
			}
		}
		json_object_put(st);
	}
	closedir(dir);
	return n;
}

/* ---- set-up ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pinfold daemon --policy FILE|DIR [--audit FILE] [--admin-group GROUP] "
		"[--audit-key FILE] [--audit-sync batch|always|none] [--audit-rotate-bytes N] "
		"[--audit-rotate-seconds N] [--audit-reserve-bytes N]\n"
		"  Runs in the foreground; stop it with SIGTERM (agents stay confined, and a\n"
		"  restarted daemon adopts them), reload its policy with SIGHUP or 'pinfold\n"
		"  reload', end it all with 'pinfold unload'. Root and members of GROUP (default\n"
		"  " DAEMON_ADMIN_GROUP ", when it exists) may change what it enforces.\n");
}

static int parse(int argc, char **argv, struct daemon *d)
{
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"audit", required_argument, NULL, 'o'},
		{"admin-group", required_argument, NULL, 'g'},
		{"audit-key", required_argument, NULL, 'K'},
		{"audit-sync", required_argument, NULL, 'S'},
		{"audit-rotate-bytes", required_argument, NULL, 'R'},
		{"audit-rotate-seconds", required_argument, NULL, 'A'},
		{"audit-reserve-bytes", required_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int c, err = 0;

	optind = 1;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			d->policy_path = optarg;
			break;
		case 'o':
			d->audit = optarg;
			break;
		case 'g':
			d->admin_group = optarg;
			break;
		case 'K':
			d->log.key_path = optarg;
			break;
		case 'S':
			err = run_parse_sync(optarg, &d->log.sync);
			break;
		case 'R':
			err = run_parse_count("--audit-rotate-bytes", optarg, &d->log.rotate_bytes);
			break;
		case 'A':
			err = run_parse_count("--audit-rotate-seconds", optarg,
					      &d->log.rotate_seconds);
			break;
		case 'V':
			err = run_parse_count("--audit-reserve-bytes", optarg, &d->reserve);
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			fprintf(stderr, "pinfold: daemon: unknown option or missing value: '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return RUN_EXIT_USAGE;
		}
	}
	if (err)
		return RUN_EXIT_USAGE;
	if (!d->policy_path || optind != argc) {
		fprintf(stderr,
			"pinfold: daemon needs --policy, and nothing else after the options\n");
		usage(stderr);
		return RUN_EXIT_USAGE;
	}
	d->log.path = d->audit;
	return 0;
}

/* Load and check the policy to start with; 0 or an exit status. */
static int load_policy(struct daemon *d)
{
	struct policy_error perr = {};
	struct compile_env env = {};
	struct policy *p = calloc(1, sizeof(*p));
	char msg[768];

	if (!p || !realpath(d->policy_path, d->policy_real)) {
		fprintf(stderr, "pinfold: daemon: cannot read policy %s: %s\n", d->policy_path,
			strerror(p ? errno : ENOMEM));
		free(p);
		return RUN_EXIT_USAGE;
	}
	d->sw.path = d->policy_path;
	if (swap_watch(&d->sw))
		fprintf(stderr, "pinfold: daemon: cannot watch policy %s: reload with SIGHUP\n",
			d->policy_path);
	if (policy_load(d->policy_path, p, &perr) ||
	    (compile_policy_check(p, &env, &perr) && (policy_release(p), true))) {
		policy_error_format(&perr, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		free(p);
		return RUN_EXIT_USAGE;
	}
	/* no agent: the daemon's own records describe none */
	swap_init(&d->sw, d->policy_path, "", p, 1);
	return 0;
}

/* The control socket: anyone may connect, what they may do is checked per request. */
static int listen_control(struct daemon *d)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", CONTROL_SOCKET);
	d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->listen_fd < 0)
		return -errno;
	/* the lock is held: a socket there is a dead daemon's */
	unlink(CONTROL_SOCKET);
	if (bind(d->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(CONTROL_SOCKET, 0666) < 0 || listen(d->listen_fd, 64) < 0)
		return -errno;
	return 0;
}

/* Take the daemon lock, the state directory, the kernel side and the socket; 0 or an exit status. */
static int setup(struct daemon *d)
{
	struct group *g;
	char msg[512];
	int err;

	if (mkdir("/run/pinfold", 0711) < 0 && errno != EEXIST)
		goto sys;
	if (mkdir(INSTANCE_DAEMON_DIR, 0700) < 0 && errno != EEXIST)
		goto sys;
	d->lock_fd = open(DAEMON_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		goto sys;
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "pinfold: daemon: another pinfold daemon runs (%s is locked)\n",
			DAEMON_LOCK);
		return RUN_EXIT_USAGE;
	}
	g = getgrnam(d->admin_group);
	d->have_admin_gid = g != NULL;
	if (g)
		d->admin_gid = g->gr_gid;
	else if (strcmp(d->admin_group, DAEMON_ADMIN_GROUP))
		fprintf(stderr, "pinfold: daemon: no group %s: only root may change anything\n",
			d->admin_group);
	err = load_policy(d);
	if (err)
		return err;
	if (loader_open(&d->k, msg, sizeof(msg))) {
		fprintf(stderr, "pinfold: %s\n", msg);
		return RUN_EXIT_INTERNAL;
	}
	if (!d->k.files_enforced)
		fprintf(stderr,
			"pinfold: daemon: network rules enforced, file rules NOT enforced (%s); "
			"agents run only when they ask for --allow-degraded\n",
			d->k.files_why);
	/* the daemon's own records: an instance with no kernel side */
	d->w.who = (struct audit_instance){.instance = "daemon",
					   .files_unenforced = !d->k.files_enforced};
	d->w.in = &d->self;
	d->w.cursor_fd = -1;
	err = writer_open(&d->w, &d->log, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "pinfold: daemon: cannot open the audit log %s: %s\n", d->audit,
			msg);
		return RUN_EXIT_USAGE;
	}
	err = listen_control(d);
	if (err) {
		fprintf(stderr, "pinfold: daemon: cannot listen on %s: %s\n", CONTROL_SOCKET,
			strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	return 0;
sys:
	fprintf(stderr, "pinfold: daemon: cannot set up /run/pinfold: %s\n", strerror(errno));
	return RUN_EXIT_INTERNAL;
}

static int setup_loop(struct daemon *d)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->ep < 0)
		return -errno;
	d->listen_src = (struct source){SRC_LISTEN, NULL};
	d->sig_src = (struct source){SRC_SIGNAL, NULL};
	d->policy_src = (struct source){SRC_POLICY, NULL};
	if (epoll_add(d, d->listen_fd, EPOLLIN, &d->listen_src) ||
	    epoll_add(d, d->sig_fd, EPOLLIN, &d->sig_src))
		return -errno;
	if (swap_fd(&d->sw) >= 0 && epoll_add(d, swap_fd(&d->sw), EPOLLIN, &d->policy_src))
		return -errno;
	return 0;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	char err[768];

	if (read(d->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP)
		reload(d, "SIGHUP", si.ssi_uid, err, sizeof(err));
	else
		d->stop = true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void loop(struct daemon *d)
{
	struct epoll_event evs[16];
	int64_t last_flush = now_ms(), last_poll = last_flush;
	struct dinst *di, *next;
	char err[768];
	int n, i, timeout;

	while (!d->stop) {
		/* the kernel wakes a writer only once its ring fills: look at them all anyway */
		timeout = swap_timeout_ms(&d->sw);
		if (timeout < 0 || timeout > PF_RINGBUF_POLL_MS)
			timeout = PF_RINGBUF_POLL_MS;
		n = epoll_wait(d->ep, evs, 16, timeout);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			struct source *src = evs[i].data.ptr;

			switch (src->kind) {
			case SRC_LISTEN:
				on_accept(d);
				break;
			case SRC_SIGNAL:
				on_signal(d);
				break;
			case SRC_POLICY:
				swap_on_change(&d->sw);
				break;
			case SRC_CONN:
				on_conn(d, src->owner);
				/* an unload may have freed what the rest names */
				n = 0;
				break;
			case SRC_RING:
				writer_consume(&((struct dinst *)src->owner)->l.w, false);
				break;
			case SRC_EVENTS:
				di = src->owner;
				if (!populated(di))
					dinst_end(d, di);
				/* the rest of this batch may name it: start over */
				n = 0;
				break;
			}
		}
		if (d->sw.pending && swap_timeout_ms(&d->sw) == 0) {
			d->sw.pending = false;
			reload(d, "file", -1, err, sizeof(err));
		}
		if (now_ms() - last_poll >= PF_RINGBUF_POLL_MS) {
			last_poll = now_ms();
			for (di = d->insts; di; di = next) {
				next = di->next;
				writer_consume(&di->l.w, false);
			}
		}
		if (now_ms() - last_flush >= WRITER_CHECKPOINT_MS) {
			last_flush = now_ms();
			for (di = d->insts; di; di = next) {
				next = di->next;
				writer_flush(&di->l.w);
			}
			writer_flush(&d->w);
		}
	}
}

/* Write what waits, say why the daemon stops, and let go: the kernel side stays. */
static void shut_down(struct daemon *d)
{
	struct json_object *detail = json_object_new_object();
	struct dinst *di;
	char msg[512];
	int left = 0;

	for (di = d->insts; di; di = di->next, left++)
		writer_consume(&di->l.w, true);
	json_add(detail, "event", json_object_new_string(d->unload ? "unload" : "stop"));
	json_add(detail, "instances_left_confined", json_object_new_int(left));
	note(d, "daemon", detail);
	while ((di = d->insts)) {
		d->insts = di->next;
		/* its slot is kept by its state file; its rules and ring by the pins */
		dinst_forget(di);
	}
	writer_release(&d->w);
	unlink(CONTROL_SOCKET);
	loader_close(&d->k);
	if (d->unload && loader_unload(true, msg, sizeof(msg)))
		fprintf(stderr, "pinfold: %s\n", msg);
}

int daemon_main(int argc, char **argv)
{
	struct daemon d = {
		.sw = SWAP_INIT,
		.log = AUDITLOG_OPTS_INIT,
		.audit = AUDITLOG_DEFAULT_PATH,
		.reserve = WRITER_RESERVE_DEFAULT,
		.admin_group = DAEMON_ADMIN_GROUP,
		.k = PF_KERNEL_INIT,
		.self = INSTANCE_INIT,
		.ep = -1,
		.listen_fd = -1,
		.sig_fd = -1,
		.lock_fd = -1,
	};
	struct json_object *detail;
	struct rlimit rl;
	int err, adopted;

	err = parse(argc, argv, &d);
	if (err)
		return err < 0 ? 0 : err;
	if (geteuid() != 0) {
		fprintf(stderr, "pinfold: daemon: must run as root\n");
		return RUN_EXIT_USAGE;
	}
	/* each instance holds several descriptors, each connection one */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	audit_format_time(auditlog_clock_ns(CLOCK_REALTIME), d.started, sizeof(d.started));
	err = setup(&d);
	if (!err && setup_loop(&d)) {
		fprintf(stderr, "pinfold: daemon: cannot set up its event loop: %s\n",
			strerror(errno));
		err = RUN_EXIT_INTERNAL;
	}
	if (err) {
		writer_release(&d.w);
		loader_close(&d.k);
		return err;
	}
	adopted = adopt_all(&d);
	detail = json_object_new_object();
	json_add(detail, "event", json_object_new_string("start"));
	json_add(detail, "pid", json_object_new_int(getpid()));
	json_add(detail, "policy", json_object_new_string(d.policy_real));
	json_add(detail, "policy_sha256", json_object_new_string(swap_policy(&d.sw)->sha256));
	json_add(detail, "adopted", json_object_new_int(adopted < 0 ? 0 : adopted));
	json_add(detail, "unadopted", orphans_json(&d));
	json_add(detail, "admin_group",
		 d.have_admin_gid ? json_object_new_string(d.admin_group) : NULL);
	json_add(detail, "started_by_uid", json_object_new_int64(getuid()));
	note(&d, "daemon", detail);
	fprintf(stderr, "pinfold: daemon %d: listening on %s, policy %s, %d instance(s) adopted\n",
		(int)getpid(), CONTROL_SOCKET, d.policy_real, adopted < 0 ? 0 : adopted);
	loop(&d);
	shut_down(&d);
	swap_release(&d.sw);
	close(d.listen_fd);
	close(d.sig_fd);
	close(d.ep);
	return 0;
}
