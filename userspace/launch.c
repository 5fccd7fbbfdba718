// SPDX-License-Identifier: GPL-2.0-only
/*
 * launch.c - one confined agent instance from policy to exit: launch.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"
#include "cgroup.h"
#include "guard.h"
#include "launch.h"
#include "policy/policy.h"

static struct json_object *detail_new(void)
{
	return json_object_new_object();
}

static void detail_add(struct json_object *d, const char *key, struct json_object *v)
{
	if (d)
		audit_json_add(d, key, v);
	else
		json_object_put(v);
}

/*
 * Close every descriptor above 2 but those kept: a descriptor opened
 * before confinement would not be judged again.
 */
/* Does Yama keep a process from ptracing the processes it did not start? */
static bool yama_restricts(void)
{
	int scope = 0;
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");

	if (!f)
		return false;
	if (fscanf(f, "%d", &scope) != 1)
		scope = 0;
	fclose(f);
	return scope > 0;
}

static int check_enforcement(const struct launch *l)
{
	const struct pf_kernel *k = l->k;
	const struct run_opts *o = &l->o;

	if (k->files_enforced)
		return 0;
	if (!o->allow_degraded) {
		fprintf(l->err,
			"pinfold: refusing to run agent %s: file rules cannot be enforced (%s), "
			"network rules can; to enforce files, %s; or pass --allow-degraded to "
			"run with network rules only\n",
			o->agent, k->files_why, k->files_how);
		return RUN_EXIT_USAGE;
	}
	fprintf(l->err,
		"pinfold: degraded: network rules enforced, file rules NOT enforced (%s); "
		"to enforce them, %s\n",
		k->files_why, k->files_how);
	/* nothing then keeps the agent from its user's other processes but Yama */
	if (l->uid != 0 && !yama_restricts())
		fprintf(l->err,
			"pinfold: warning: agent %s may ptrace every unconfined process of uid %u "
			"(no BPF LSM, and Yama's ptrace_scope is 0 or absent), and act as it; set "
			"kernel.yama.ptrace_scope to 1 or more\n",
			o->agent, (unsigned)l->uid);
	return 0;
}

static void print_policy_error(FILE *f, const struct policy_error *perr)
{
	char msg[600];

	policy_error_format(perr, msg, sizeof(msg));
	fprintf(f, "%s\n", msg);
}

/*
 * Read the policy and find the agent in it: the first generation. The
 * watch starts first, so that no change made meanwhile goes unseen. 0, or
 * the exit status to end with.
 */
static int launch_load(struct launch *l)
{
	struct policy_error perr = {};
	struct policy *p;
	size_t i;

	l->sw.path = l->o.policy;
	l->sw.agent = l->o.agent;
	if (!l->o.no_watch)
		l->watch_err = swap_watch(&l->sw);
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(l->err, "pinfold: cannot load the policy: %s\n", strerror(ENOMEM));
		return RUN_EXIT_INTERNAL;
	}
	if (policy_load(l->o.policy, p, &perr)) {
		free(p);
		print_policy_error(l->err, &perr);
		return RUN_EXIT_USAGE;
	}
	swap_init(&l->sw, l->o.policy, l->o.agent, p, 1);
	if (!swap_agent(&l->sw)) {
		fprintf(l->err, "pinfold: no agent '%s' in %s; its agents are:", l->o.agent,
			l->o.policy);
		for (i = 0; i < p->n_agents; i++)
			fprintf(l->err, " %s", p->agents[i].name);
		fputc('\n', l->err);
		return RUN_EXIT_USAGE;
	}
	if (l->watch_err)
		fprintf(l->err,
			"pinfold: cannot watch policy %s: %s; changes to it will not be applied "
			"while agent %s runs\n",
			l->o.policy, strerror(-l->watch_err), l->o.agent);
	return 0;
}

/*
 * Refuse to watch a policy that the agent could change (swap_guard): it
 * would write its own rules, and pinfold apply them. 0, or the exit status
 * to end with.
 */
static int launch_guard(struct launch *l)
{
	char why[1024];
	int rc;

	if (swap_fd(&l->sw) < 0 && !l->watched)
		return 0;
	guard_judge_as(l->cred);
	rc = swap_guard(l->o.policy, swap_policy(&l->sw), swap_agent(&l->sw), &l->comp,
			l->k->files_enforced, l->in.tmp, why, sizeof(why));
	guard_judge_as(NULL);
	if (!rc)
		return 0;
	fprintf(l->err,
		"pinfold: refusing to watch policy %s: %s%s; pass --no-watch to run without "
		"applying changes to it, or keep it where agent %s cannot change it\n",
		l->o.policy, why, rc > 0 ? ", so it could change its own policy" : "", l->o.agent);
	return RUN_EXIT_USAGE;
}

/*
 * Read and compile the policy, take a slot and its private temporary
 * directory, bring the kernel side up, say what it enforces, and refuse a
 * policy the agent could change. 0, or the exit status to end with.
 */
int launch_prepare(struct launch *l)
{
	struct compile_env env = {};
	struct policy_error perr = {};
	char msg[512];
	int err;

	err = launch_load(l);
	if (err)
		return err;
	snprintf(l->name, sizeof(l->name), "%s.%d", l->o.agent, (int)l->launcher);
	err = instance_acquire_slot(&l->in);
	if (err) {
		fprintf(l->err, "pinfold: cannot take an instance slot: %s\n",
			err == -EAGAIN ? "all slots are in use" : strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	/* the agent runs as pinfold's caller */
	err = instance_tmp_create(&l->in, l->name, l->uid, l->gid);
	if (err) {
		fprintf(l->err, "pinfold: cannot create a private temporary directory in %s: %s\n",
			INSTANCE_TMP_DIR, strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	env.private_tmp = l->in.tmp;
	if (compile_agent(swap_policy(&l->sw), swap_agent(&l->sw), l->in.slot, 1, &env, &l->comp,
			  &perr)) {
		print_policy_error(l->err, &perr);
		return RUN_EXIT_USAGE;
	}
	/* without them, denial lines say less of hostname destinations */
	swap_keep_names(&l->sw, &l->comp);
	if (l->k->config_fd < 0 && loader_open(l->k, msg, sizeof(msg))) {
		fprintf(l->err, "pinfold: %s\n", msg);
		return RUN_EXIT_INTERNAL;
	}
	/* an agent that started an instance of its own would choose its rules */
	if (cgroup_pid_below(l->k->parent, l->launcher) != 0) {
		fprintf(l->err,
			"pinfold: refusing to run agent %s: pinfold run was started by an "
			"agent (a task below %s), or its cgroup cannot be read\n",
			l->o.agent, l->k->parent);
		return RUN_EXIT_USAGE;
	}
	err = instance_reap_stale(l->k, &l->in, l->k->parent);
	if (err < 0)
		fprintf(l->err, "pinfold: cannot remove the agents of a killed pinfold run: %s\n",
			strerror(-err));
	else if (err > 0)
		fprintf(l->err,
			"pinfold: removed %d instance cgroup(s) left by a killed pinfold run\n",
			err);
	err = check_enforcement(l);
	return err ?: launch_guard(l);
}

/* One inherited descriptor that is a file or directory, or NULL: what it is, as a record says. */
/* The open flags of the launcher's descriptor fd, from /proc/PID/fdinfo; -1 when unknown. */
static int fd_flags(pid_t pid, int fd)
{
	char path[64], line[128];
	int flags = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", (unsigned *)&flags) == 1)
			break;
	fclose(f);
	return flags;
}

static struct json_object *inherited_fd(pid_t pid, int fd)
{
	char link[64], path[PATH_MAX], dev[32];
	struct json_object *o;
	struct stat st;
	ssize_t n;
	int fl;

	/* the launcher's own, which the agent inherits: stat follows the link */
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	fl = fd_flags(pid, fd);
	if (fl < 0 || stat(link, &st) || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return NULL;
	n = readlink(link, path, sizeof(path) - 1);
	path[n < 0 ? 0 : n] = '\0';
	snprintf(dev, sizeof(dev), "%u:%u", major(st.st_dev), minor(st.st_dev));
	o = json_object_new_object();
	detail_add(o, "fd", json_object_new_int(fd));
	/* NEEDSWORK: a path of a class with log_paths: keyed-hash is kept as is */
	detail_add(o, "path", json_object_new_string(path));
	detail_add(o, "access",
		   json_object_new_string((fl & O_ACCMODE) == O_RDONLY   ? "read"
					  : (fl & O_ACCMODE) == O_WRONLY ? "write"
									 : "read-write"));
	detail_add(o, "dev", json_object_new_string(dev));
	detail_add(o, "ino", json_object_new_uint64(st.st_ino));
	return o;
}

/*
 * The descriptors the agent inherits (0 to 2, and --keep-fd ones) that are
 * files or directories: opened by whoever launched it, they are not judged,
 * so the record names them.
 */
static struct json_object *inherited_json(pid_t pid, const struct run_opts *o)
{
	struct json_object *list = json_object_new_array(), *one;
	int i, fd;

	for (i = -3; list && i < o->n_keep_fds; i++) {
		fd = i < 0 ? i + 3 : o->keep_fds[i];
		one = inherited_fd(pid, fd);
		if (one && json_object_array_add(list, one))
			json_object_put(one);
	}
	return list;
}

/* A process's argv, as /proc says, as a JSON array. */
static struct json_object *proc_cmdline(pid_t pid)
{
	struct json_object *a = json_object_new_array();
	char path[64], buf[4096];
	size_t n, i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return a;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (i = 0; a && i < n; i += strlen(buf + i) + 1)
		json_object_array_add(a, json_object_new_string(buf + i));
	return a;
}

/*
 * What a reviewer needs to know of an instance at its start: which policy
 * (its absolute path, its files and the SHA-256 of what was parsed), what
 * command, on which host, launched by whom, where its private temporary
 * directory is, what its hostnames resolved to, and why file rules are not
 * enforced when they are not.
 */
static struct json_object *start_detail(const struct launch *l)
{
	const struct policy *p = swap_policy(&l->sw);
	struct json_object *detail = detail_new(), *argv = json_object_new_array(), *files;
	char path[PATH_MAX], host[256];
	unsigned long loginuid = 0;
	const char *sudo_user;
	size_t n;
	FILE *f;
	int i;

	detail_add(detail, "policy",
		   json_object_new_string(realpath(l->o.policy, path) ? path : l->o.policy));
	detail_add(detail, "policy_sha256", json_object_new_string(p->sha256));
	files = json_object_new_array();
	for (n = 0; files && n < p->n_files; n++)
		json_object_array_add(files, json_object_new_string(p->files[n]));
	detail_add(detail, "files", files);
	detail_add(detail, "generation", json_object_new_int64(l->in.gen));
	detail_add(detail, "watched", json_object_new_boolean(swap_fd(&l->sw) >= 0));
	detail_add(detail, "mode",
		   json_object_new_string(policy_mode_name(swap_agent(&l->sw)->mode)));
	detail_add(detail, "grants", audit_grants_json(p, swap_agent(&l->sw)));
	for (i = 0; argv && l->o.argv[i]; i++)
		json_object_array_add(argv, json_object_new_string(l->o.argv[i]));
	detail_add(detail, "command", argv);
	/* the daemon's word for it: command is what the launcher asked for */
	if (l->launcher != getpid())
		detail_add(detail, "launcher_cmdline", proc_cmdline(l->launcher));
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		detail_add(detail, "host", json_object_new_string(host));
	}
	detail_add(detail, "launched_by_uid", json_object_new_int64(l->uid));
	/* the login session's user, which su and sudo keep */
	snprintf(path, sizeof(path), "/proc/%d/loginuid", (int)l->launcher);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%lu", &loginuid) == 1 && loginuid != 4294967295UL)
			detail_add(detail, "login_uid", json_object_new_int64((int64_t)loginuid));
		fclose(f);
	}
	/* what the launcher's environment says: only of pinfold's own */
	sudo_user = l->launcher == getpid() ? getenv("SUDO_USER") : NULL;
	if (sudo_user)
		detail_add(detail, "sudo_user", json_object_new_string(sudo_user));
	detail_add(detail, "cgroup_id", json_object_new_uint64(l->in.cgroup_id));
	detail_add(detail, "slot", json_object_new_int(l->in.slot));
	detail_add(detail, "private_tmp", json_object_new_string(l->in.tmp));
	detail_add(detail, "inherited", inherited_json(l->launcher, &l->o));
	if (l->comp.n_names)
		detail_add(
			detail, "resolved",
			audit_resolved_json(p, swap_agent(&l->sw), l->comp.names, l->comp.n_names));
	if (!l->k->files_enforced)
		detail_add(detail, "files_unenforced_because",
			   json_object_new_string(l->k->files_why));
	return detail;
}

/* Say, in one line, how an agent whose mode is not enforce is judged. */
static void say_mode(FILE *f, const char *agent, unsigned mode)
{
	if (mode == POLICY_MODE_AUDIT)
		fprintf(f,
			"pinfold: agent %s runs in audit mode: denials are recorded, not applied\n",
			agent);
	else if (mode == POLICY_MODE_RECORD)
		fprintf(f,
			"pinfold: agent %s runs in record mode: every access is recorded, none denied\n",
			agent);
}

/* Create the instance cgroup and its procs descriptor; 0 or an exit status. */
static int launch_cgroup(struct launch *l)
{
	int err;

	err = cgroup_instance_create(l->k->parent, l->name, l->cg, sizeof(l->cg));
	if (err) {
		fprintf(l->err, "pinfold: cannot create cgroup %s/%s: %s\n", l->k->parent, l->name,
			strerror(-err));
		l->cg[0] = '\0';
		return RUN_EXIT_INTERNAL;
	}
	err = cgroup_id(l->cg, &l->in.cgroup_id);
	l->procs_fd = err ? err : cgroup_procs_open(l->cg);
	if (l->procs_fd < 0) {
		fprintf(l->err, "pinfold: cannot use cgroup %s: %s\n", l->cg,
			strerror(-l->procs_fd));
		return RUN_EXIT_INTERNAL;
	}
	return 0;
}

/*
 * Refuse an agent whose rules let it read the audit keys or change the
 * audit log: it could forge or cut its own records. Where no file rule
 * holds it, say so. 0 or an exit status.
 */
static int launch_audit_guard(struct launch *l)
{
	char why[1024];
	int rc;

	guard_judge_as(l->cred);
	rc = audit_guard(l->o.audit, l->audit_keys, 2, swap_policy(&l->sw), swap_agent(&l->sw),
			 &l->comp, l->k->files_enforced, why, sizeof(why));
	guard_judge_as(NULL);
	/* without BPF LSM the degraded line has said that no file rule holds */
	if (rc == 2) {
		if (l->k->files_enforced)
			fprintf(l->err, "pinfold: warning: %s\n", why);
		return 0;
	}
	if (!rc)
		return 0;
	fprintf(l->err,
		"pinfold: refusing to run agent %s: %s%s; keep the audit log and its keys where "
		"the agent's rules reach nothing\n",
		l->o.agent, why, rc > 0 ? ", so it could forge or cut its own audit records" : "");
	return RUN_EXIT_USAGE;
}

/*
 * Open the audit file, create the instance cgroup, install the rules and
 * the ring, and write the instance-start record. 0 or an exit status.
 */
/* Open the instance's writer on the chained log; 0 or an exit status. */
static int launch_writer(struct launch *l)
{
	const char *key = l->o.log.key_path ? l->o.log.key_path : AUDITLOG_DEFAULT_KEY;
	char why[512];
	int err;

	l->w.sw = &l->sw;
	l->w.reserve = (unsigned long long)l->o.reserve_bytes;
	l->w.k = l->k;
	l->w.in = &l->in;
	l->w.who = (struct audit_instance){
		.agent = l->o.agent,
		.instance = l->name,
		.files_unenforced = !l->k->files_enforced,
		.private_tmp = l->in.tmp,
		.on_behalf_of = l->o.on_behalf_of,
		.task = l->o.task,
	};
	swap_describe(&l->sw, &l->w.who);
	/* the chained log (auditlog_open), its keys made on first use */
	err = writer_open(&l->w, &l->o.log, why, sizeof(why));
	if (err) {
		fprintf(l->err, "pinfold: cannot open the audit log %s: %s\n", l->o.audit, why);
		return RUN_EXIT_USAGE;
	}
	/* writer_open made it: the path fits */
	auditlog_path_key_path(key, l->path_key, sizeof(l->path_key));
	l->audit_keys[0] = key;
	l->audit_keys[1] = l->path_key;
	return 0;
}

int launch_up(struct launch *l)
{
	const struct policy_agent *a = swap_agent(&l->sw);
	int err;

	err = launch_writer(l) ?: launch_audit_guard(l);
	if (err)
		return err;

	err = launch_cgroup(l);
	if (err)
		return err;
	l->in.flags = l->k->files_enforced ? 0 : PF_INST_FILES_UNENFORCED;
	l->in.flags |= instance_mode_flags(a->mode);
	l->in.sockets = a->sockets;
	err = instance_install(l->k, &l->in, &l->comp);
	if (err == -E2BIG || err == -ENOMEM) {
		fprintf(l->err,
			"pinfold: cannot install the rules of agent %s: the kernel maps are full "
			"(running instances together hold at most %d trees and %d destination "
			"prefixes)\n",
			l->o.agent, PF_MAX_TREES, PF_MAX_PREFIXES);
		return RUN_EXIT_INTERNAL;
	}
	if (err) {
		fprintf(l->err, "pinfold: cannot install the rules of agent %s: %s\n", l->o.agent,
			strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	err = writer_watch_ring(&l->w, l->in.ring_fd);
	if (err) {
		fprintf(l->err, "pinfold: cannot read the event ring: %s\n", strerror(-err));
		return RUN_EXIT_INTERNAL;
	}

	writer_note(&l->w, "instance-start", start_detail(l));
	if (writer_flush(&l->w) || l->w.unformatted) {
		fprintf(l->err,
			"pinfold: not starting agent %s: its audit file %s cannot be written\n",
			l->o.agent, l->o.audit);
		return RUN_EXIT_INTERNAL;
	}
	say_mode(l->err, l->o.agent, a->mode);
	return 0;
}

/* Signals for the agent come to the launcher, which passes them on. */
static void swap_note(void *ctx, const char *kind, struct json_object *detail)
{
	writer_note(ctx, kind, detail);
}

/*
 * A changed policy is due: apply it between two reads of the ring. Events
 * already queued were decided by the generation they carry, which stays
 * known to the writer.
 */
void launch_swap(struct launch *l)
{
	struct swap_target t = {
		.k = l->k,
		.in = &l->in,
		.private_tmp = l->in.tmp,
		.who = &l->w.who,
		.note = swap_note,
		.note_ctx = &l->w,
		.audit_log = l->o.audit,
		.audit_keys = l->audit_keys,
		.n_audit_keys = 2,
	};

	writer_consume(&l->w, false);
	if (swap_timeout_ms(&l->sw) != 0)
		return;
	guard_judge_as(l->cred);
	swap_run_due(&l->sw, &t);
	guard_judge_as(NULL);
}

int launch_adopt(struct launch *l, uint32_t gen)
{
	struct compile_env env = {.private_tmp = l->in.tmp};
	const struct policy_agent *a;
	struct policy_error perr = {};
	int err;

	err = launch_load(l);
	if (err)
		return err;
	a = swap_agent(&l->sw);
	/* the generation in force is the kernel's, whatever launch_load called it */
	l->sw.gens[0].gen = gen;
	if (compile_agent(swap_policy(&l->sw), a, l->in.slot, gen, &env, &l->comp, &perr)) {
		print_policy_error(l->err, &perr);
		return RUN_EXIT_USAGE;
	}
	swap_keep_names(&l->sw, &l->comp);
	err = launch_writer(l);
	if (err)
		return err;
	err = writer_watch_ring(&l->w, l->in.ring_fd);
	if (err) {
		fprintf(l->err, "pinfold: cannot read the event ring: %s\n", strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	return 0;
}

/*
 * Remove the private temporary directory, saying so when it cannot be.
 * NEEDSWORK: the daemon waits meanwhile; a tmp of millions of files stalls it.
 */
static void remove_tmp(struct launch *l)
{
	struct instance *in = &l->in;
	char path[sizeof(in->tmp)];
	int err;

	snprintf(path, sizeof(path), "%s", in->tmp);
	err = instance_tmp_remove(in);
	if (err)
		fprintf(l->err,
			"pinfold: cannot remove the private temporary directory %s: %s; the next "
			"run on slot %d removes it\n",
			path, strerror(-err), in->slot);
}

void launch_end(struct launch *l, struct json_object *detail)
{
	int err;

	err = cgroup_instance_destroy(l->cg);
	if (err)
		fprintf(l->err, "pinfold: cannot remove cgroup %s: %s\n", l->cg, strerror(-err));
	else
		l->cg[0] = '\0';
	/* the agent's tasks are gone: nothing writes there any more */
	if (!err)
		remove_tmp(l);
	writer_finish(&l->w);
	writer_note(&l->w, "instance-exit", detail);
	writer_flush(&l->w);
}

void launch_detach(struct launch *l)
{
	writer_release(&l->w);
	if (l->in.ring_fd >= 0)
		close(l->in.ring_fd);
	if (l->in.slot_lock_fd >= 0)
		close(l->in.slot_lock_fd);
	l->in.ring_fd = l->in.slot_lock_fd = -1;
	compiled_release(&l->comp);
	swap_release(&l->sw);
}

void launch_release(struct launch *l)
{
	int err;

	if (l->cg[0]) {
		err = cgroup_instance_destroy(l->cg);
		if (err)
			fprintf(l->err, "pinfold: cannot remove cgroup %s: %s\n", l->cg,
				strerror(-err));
	}
	if (l->in.tmp[0])
		remove_tmp(l);
	instance_release(l->k, &l->in);
	if (l->procs_fd >= 0)
		close(l->procs_fd);
	writer_release(&l->w);
	compiled_release(&l->comp);
	swap_release(&l->sw);
}
