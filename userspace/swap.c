// SPDX-License-Identifier: GPL-2.0-only
/*
 * swap.c - live policy swap: watch the policy, load and validate a changed
 * one, compile it under the next generation, switch to it in one map
 * update, and record what happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "guard.h"
#include "swap.h"

#define NSEC_PER_MSEC 1000000L
#define NSEC_PER_SEC 1000000000L

/* Changes in the watched directory; a created file is seen when closed or moved in. */
#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |               \
	 IN_MOVE_SELF | IN_ONLYDIR)

void swap_init(struct swap *sw, const char *path, const char *agent, struct policy *p, uint32_t gen)
{
	const struct policy_agent *a = policy_find_agent(p, agent);

	sw->path = path;
	sw->agent = agent;
	sw->policies[0] = p;
	sw->gens[0] = (struct audit_generation){
		.gen = gen, .policy = p, .policy_agent = a, .mode = a ? a->mode : 0};
	sw->n_gens = 1;
}

const struct policy *swap_policy(const struct swap *sw)
{
	return sw->n_gens ? sw->policies[0] : NULL;
}

const struct policy_agent *swap_agent(const struct swap *sw)
{
	return sw->n_gens ? sw->gens[0].policy_agent : NULL;
}

void swap_describe(const struct swap *sw, struct audit_instance *who)
{
	if (!sw->n_gens)
		return;
	who->policy = sw->gens[0].policy;
	who->policy_agent = sw->gens[0].policy_agent;
	who->mode = sw->gens[0].mode;
	who->gen = sw->gens[0].gen;
	who->older = sw->gens + 1;
	who->n_older = sw->n_gens - 1;
}

static void policy_free(struct policy *p)
{
	if (!p)
		return;
	policy_release(p);
	free(p);
}

/* Forget the oldest generation kept. */
static void drop_last(struct swap *sw)
{
	sw->n_gens--;
	policy_free(sw->policies[sw->n_gens]);
	free(sw->names[sw->n_gens]);
	sw->names[sw->n_gens] = NULL;
	sw->n_names[sw->n_gens] = 0;
}

/* Make p, for agent a, generation gen and the newest; one slot stays free for it. */
static void push_gen(struct swap *sw, struct policy *p, const struct policy_agent *a, uint32_t gen)
{
	memmove(sw->policies + 1, sw->policies, sw->n_gens * sizeof(sw->policies[0]));
	memmove(sw->gens + 1, sw->gens, sw->n_gens * sizeof(sw->gens[0]));
	memmove(sw->names + 1, sw->names, sw->n_gens * sizeof(sw->names[0]));
	memmove(sw->n_names + 1, sw->n_names, sw->n_gens * sizeof(sw->n_names[0]));
	sw->policies[0] = p;
	sw->gens[0] = (struct audit_generation){
		.gen = gen, .policy = p, .policy_agent = a, .mode = a->mode};
	sw->names[0] = NULL;
	sw->n_names[0] = 0;
	sw->n_gens++;
}

/* Undo push_gen; the policy is the caller's again. */
static struct policy *pop_gen(struct swap *sw)
{
	struct policy *p = sw->policies[0];

	free(sw->names[0]);
	sw->n_gens--;
	memmove(sw->policies, sw->policies + 1, sw->n_gens * sizeof(sw->policies[0]));
	memmove(sw->gens, sw->gens + 1, sw->n_gens * sizeof(sw->gens[0]));
	memmove(sw->names, sw->names + 1, sw->n_gens * sizeof(sw->names[0]));
	memmove(sw->n_names, sw->n_names + 1, sw->n_gens * sizeof(sw->n_names[0]));
	sw->names[sw->n_gens] = NULL;
	sw->n_names[sw->n_gens] = 0;
	return p;
}

/*
 * Forget the oldest generations beyond SWAP_KEEP - 1, leaving room for the
 * next. An event they decided that is still queued is recorded without a
 * description: by then SWAP_KEEP - 1 policies were applied since.
 */
static void forget_old(struct swap *sw)
{
	while (sw->n_gens > SWAP_KEEP - 1)
		drop_last(sw);
}

int swap_keep_names(struct swap *sw, const struct compiled *c)
{
	struct compiled_name *copy = NULL;

	if (!sw->n_gens)
		return 0;
	if (c->n_names) {
		copy = malloc(c->n_names * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		/* host points into the policy, which is kept with them */
		memcpy(copy, c->names, c->n_names * sizeof(*copy));
	}
	free(sw->names[0]);
	sw->names[0] = copy;
	sw->n_names[0] = c->n_names;
	return 0;
}

bool swap_generation(const struct swap *sw, uint32_t gen, const struct policy **p,
		     const struct policy_agent **a, const struct compiled_name **names,
		     size_t *n_names)
{
	size_t i;

	for (i = 0; i < sw->n_gens; i++) {
		if (sw->gens[i].gen != gen || !sw->gens[i].policy_agent)
			continue;
		*p = sw->policies[i];
		*a = sw->gens[i].policy_agent;
		*names = sw->names[i];
		*n_names = sw->n_names[i];
		return true;
	}
	return false;
}

int swap_watch(struct swap *sw)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int fd;

	if (stat(sw->path, &st) < 0)
		return -errno;
	if ((size_t)snprintf(dir, sizeof(dir), "%s", sw->path) >= sizeof(dir))
		return -ENAMETOOLONG;
	if (!S_ISDIR(st.st_mode)) {
		slash = strrchr(dir, '/');
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	/*
	 * The directory, not the file: a file renamed into place, or written
	 * anew by an editor, is another inode than the one a watch on the
	 * file would follow.
	 */
	if (inotify_add_watch(fd, dir, WATCH_MASK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	sw->inotify_fd = fd;
	return 0;
}

int swap_fd(const struct swap *sw)
{
	return sw->inotify_fd;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

int swap_timeout_ms(const struct swap *sw)
{
	struct timespec now;
	int64_t left;

	if (!sw->pending)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = ts_ns(&sw->due) - ts_ns(&now);
	return left <= 0 ? 0 : (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

/* Stop watching, saying why once: a change from now on is not applied. */
static void watch_lost(struct swap *sw, const char *why)
{
	fprintf(stderr,
		"pinfold: no longer watching policy %s: %s; changes to it are not applied\n",
		sw->path, why);
	close(sw->inotify_fd);
	sw->inotify_fd = -1;
}

void swap_on_change(struct swap *sw)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool changed = false, lost = false;
	ssize_t n, off;

	while ((n = read(sw->inotify_fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
				lost = true;
			else
				changed = true; /* IN_Q_OVERFLOW too: something changed */
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		watch_lost(sw, strerror(errno));
	else if (lost)
		watch_lost(sw, "its directory was removed or moved");
	if (!changed && !lost)
		return;
	/* every change restarts the quiet time: an editor's steps make one change */
	clock_gettime(CLOCK_MONOTONIC, &sw->due);
	sw->due.tv_nsec += SWAP_SETTLE_MS * NSEC_PER_MSEC;
	sw->due.tv_sec += sw->due.tv_nsec / NSEC_PER_SEC;
	sw->due.tv_nsec %= NSEC_PER_SEC;
	sw->pending = true;
}

/* The members a policy-applied record holds. */
static struct json_object *applied_detail(const struct swap *sw, const struct compiled *c)
{
	const struct policy *p = swap_policy(sw);
	struct json_object *d = json_object_new_object(), *files = json_object_new_array();
	char path[PATH_MAX];
	size_t i;

	for (i = 0; files && i < p->n_files; i++)
		json_object_array_add(files, json_object_new_string(p->files[i]));
	if (!d) {
		json_object_put(files);
		return NULL;
	}
	audit_json_add(d, "generation", json_object_new_int64(sw->gens[0].gen));
	audit_json_add(d, "policy",
		       json_object_new_string(realpath(sw->path, path) ? path : sw->path));
	audit_json_add(d, "policy_sha256", json_object_new_string(p->sha256));
	audit_json_add(d, "files", files);
	audit_json_add(d, "mode", json_object_new_string(policy_mode_name(sw->gens[0].mode)));
	audit_json_add(d, "grants", audit_grants_json(p, swap_agent(sw)));
	if (c->n_names)
		audit_json_add(d, "resolved",
			       audit_resolved_json(p, swap_agent(sw), c->names, c->n_names));
	return d;
}

/*
 * Reject the new policy: text on stderr and a policy-rejected record with
 * file, line (0: none), column and msg, unless this very rejection was
 * the last thing said.
 */
static void reject_said(struct swap *sw, const struct swap_target *t, const char *text,
			const char *file, unsigned line, unsigned column, const char *msg)
{
	struct json_object *d;

	if (!strncmp(text, sw->last_rejection, sizeof(sw->last_rejection) - 1))
		return;
	snprintf(sw->last_rejection, sizeof(sw->last_rejection), "%s", text);
	fprintf(stderr, "pinfold: policy change rejected, generation %u stays in force: %s\n",
		t->in->gen, text);

	d = json_object_new_object();
	if (d) {
		audit_json_add(d, "generation", json_object_new_int64(t->in->gen));
		audit_json_add(d, "policy", json_object_new_string(sw->path));
		audit_json_add(d, "error", json_object_new_string(text));
		audit_json_add(d, "file", json_object_new_string(file));
		if (line) {
			audit_json_add(d, "line", json_object_new_int64(line));
			audit_json_add(d, "column", json_object_new_int64(column));
		}
		audit_json_add(d, "message", json_object_new_string(msg));
	}
	t->note(t->note_ctx, "policy-rejected", d);
}

/* Reject the new policy for err. */
static void reject(struct swap *sw, const struct swap_target *t, const struct policy_error *err)
{
	char text[sizeof(sw->last_rejection)];

	policy_error_format(err, text, sizeof(text));
	reject_said(sw, t, text, err->file, err->line, err->column, err->msg);
}

/* Reject the new policy because the agent could change it (swap_guard says why). */
static void reject_guarded(struct swap *sw, const struct swap_target *t, const char *why)
{
	char *text = NULL;

	if (asprintf(&text, "%s: error: %s", sw->path, why) < 0)
		text = NULL;
	reject_said(sw, t, text ? text : why, sw->path, 0, 0, why);
	free(text);
}

/* An error with no place in the policy: the kernel refused, or memory ran out. */
static void reject_errno(struct swap *sw, const struct swap_target *t, const char *what, int err)
{
	struct policy_error perr = {};

	snprintf(perr.file, sizeof(perr.file), "%s", sw->path);
	policy_error_set(&perr, 0, 0, "%s: %s", what, strerror(-err));
	reject(sw, t, &perr);
}

/*
 * Whether the new policy would let the agent reach the audit keys or the
 * log (audit_guard 1), or that cannot be told: then it is refused too.
 */
static bool audit_refuses(const struct swap_target *t, const struct policy *p,
			  const struct policy_agent *a, const struct compiled *c, char *why,
			  size_t len)
{
	int rc = audit_guard(t->audit_log, t->audit_keys, t->n_audit_keys, p, a, c,
			     !(t->in->flags & PF_INST_FILES_UNENFORCED), why, len);

	return rc == 1 || rc < 0;
}

/*
 * Load the policy and make sure it can become the next generation: it
 * differs from the one in force, names the agent, and compiles. Returns
 * the policy, or NULL when there is nothing to apply.
 */
static struct policy *load_next(struct swap *sw, const struct swap_target *t,
				const struct policy_agent **agent, struct compiled *c)
{
	struct compile_env env = {.private_tmp = t->private_tmp};
	struct policy_error err = {};
	struct policy *p = calloc(1, sizeof(*p));
	char why[1024];

	if (!p) {
		reject_errno(sw, t, "cannot load the policy", -ENOMEM);
		return NULL;
	}
	if (policy_load(sw->path, p, &err)) {
		free(p);
		reject(sw, t, &err);
		return NULL;
	}
	/* loaded: the next rejection is news, even if worded as the last one */
	sw->last_rejection[0] = '\0';
	if (!sw->force && !strcmp(p->sha256, swap_policy(sw)->sha256)) {
		policy_free(p);
		return NULL;
	}
	*agent = policy_find_agent(p, sw->agent);
	if (!*agent) {
		snprintf(err.file, sizeof(err.file), "%s", sw->path);
		policy_error_set(&err, 0, 0, "no agent %s in the policy", sw->agent);
	} else if (compile_agent(p, *agent, (uint32_t)t->in->slot, t->in->gen + 1, &env, c, &err)) {
		compiled_release(c);
	} else if (swap_guard(sw->path, p, *agent, c, !(t->in->flags & PF_INST_FILES_UNENFORCED),
			      t->private_tmp, why, sizeof(why)) ||
		   (t->audit_log && audit_refuses(t, p, *agent, c, why, sizeof(why)))) {
		compiled_release(c);
		policy_free(p);
		reject_guarded(sw, t, why);
		return NULL;
	} else {
		return p;
	}
	policy_free(p);
	reject(sw, t, &err);
	return NULL;
}

/*
 * Write the new generation's rules, switch the instance to them in one
 * update, then remove the old ones. 0, or -errno with the old generation
 * still in force and nothing of the new one left.
 */
static int switch_to(struct swap *sw, const struct swap_target *t, struct policy *p,
		     const struct policy_agent *a, const struct compiled *c)
{
	uint32_t old = t->in->gen, flags;
	int err;

	err = instance_stage(t->k, t->in, c);
	if (err) {
		reject_errno(sw, t, "cannot write the new rules into the kernel", err);
		return err;
	}
	/* events of the new generation can come as soon as it is in force */
	push_gen(sw, p, a, c->gen);
	swap_describe(sw, t->who);
	flags = (t->in->flags & (PF_INST_FILES_UNENFORCED | PF_INST_AUDIT_BLOCKED)) |
		instance_mode_flags(a->mode);
	err = instance_switch(t->k, t->in, c->gen, flags, a->sockets);
	if (err) {
		pop_gen(sw);
		swap_describe(sw, t->who);
		instance_purge_gen(t->k, t->in, c->gen);
		reject_errno(sw, t, "cannot switch the instance to the new rules", err);
		return err;
	}
	err = instance_purge_gen(t->k, t->in, old);
	if (err)
		fprintf(stderr,
			"pinfold: cannot remove the rules of generation %u: %s; they are no longer "
			"used, and go when the instance ends\n",
			old, strerror(-err));
	return 0;
}

/* Apply the policy if it changed; 1 when a new generation took effect. */
static int apply(struct swap *sw, const struct swap_target *t)
{
	const struct policy_agent *a = NULL;
	unsigned old_mode = sw->gens[0].mode;
	struct compiled c = {};
	struct policy *p;

	p = load_next(sw, t, &a, &c);
	if (!p)
		return 0;
	if (switch_to(sw, t, p, a, &c)) {
		compiled_release(&c);
		policy_free(p);
		return 0;
	}
	forget_old(sw);
	/* without them, denial lines say less of hostname destinations */
	swap_keep_names(sw, &c);

	t->note(t->note_ctx, "policy-applied", applied_detail(sw, &c));
	fprintf(stderr, "pinfold: agent %s: policy %s applied as generation %u (sha256 %.12s)\n",
		sw->agent, sw->path, t->in->gen, p->sha256);
	if (a->mode != old_mode)
		fprintf(stderr, "pinfold: agent %s now runs in %s mode\n", sw->agent,
			policy_mode_name(a->mode));
	compiled_release(&c);
	return 1;
}

int swap_run_due(struct swap *sw, const struct swap_target *t)
{
	int rc;

	if (!sw->pending || swap_timeout_ms(sw) > 0)
		return 0;
	sw->pending = false;
	rc = apply(sw, t);
	sw->force = false;
	return rc;
}

void swap_request(struct swap *sw, bool force)
{
	sw->pending = true;
	sw->force = sw->force || force;
	clock_gettime(CLOCK_MONOTONIC, &sw->due);
}

void swap_reset(struct swap *sw, struct policy *p, uint32_t gen)
{
	while (sw->n_gens)
		drop_last(sw);
	swap_init(sw, sw->path, sw->agent, p, gen);
}

void swap_release(struct swap *sw)
{
	while (sw->n_gens)
		drop_last(sw);
	if (sw->inotify_fd >= 0)
		close(sw->inotify_fd);
	sw->inotify_fd = -1;
}
