// SPDX-License-Identifier: GPL-2.0-only
/*
 * guard.c - whether an agent could change its own policy: by its rules,
 * judged as `pinfold explain` judges them, or by its uid's file
 * permissions where no file rule holds it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "explain.h"
#include "guard.h"

/* Symbolic links followed on the way to a policy, at most, as the kernel's ELOOP */
#define GUARD_MAX_LINKS 40

/* What the guard judges by, and what it found. */
struct guard {
	const struct policy *p;
	const struct policy_agent *a;
	const struct compiled *c; /* the agent's rules; NULL: its uid's file permissions */
	uid_t uid;                /* file permissions: the agent's uid */
	char lead[128];           /* file permissions: the sentence before "may write ..." */
	char *why;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void say(struct guard *g, const char *fmt, ...)
{
	size_t used = strnlen(g->why, g->len);
	va_list ap;

	if (used + 1 >= g->len)
		return;
	va_start(ap, fmt);
	vsnprintf(g->why + used, g->len - used, fmt, ap);
	va_end(ap);
}

/* "at FILE:LINE:COLUMN", or "shipped with pinfold" */
static const char *place(const struct policy_place *at, char *buf, size_t len)
{
	char text[300];

	if (!at->line)
		return "shipped with pinfold";
	snprintf(buf, len, "at %s", policy_place_format(at, text, sizeof(text)));
	return buf;
}

/*
 * ": family F grants ACTIONS on class C (at P), whose tree T holds it", or
 * ": its own files rule T (at P) gives ACTIONS", for what r names.
 */
static void say_right(struct guard *g, const struct explain_right *r)
{
	uint32_t f = POLICY_ID_MAJOR(r->rule), i = POLICY_ID_MINOR(r->rule);
	uint32_t k = POLICY_ID_MAJOR(r->object), t = POLICY_ID_MINOR(r->object);
	const struct policy *p = g->p;
	char at[320], acts[96];

	if (POLICY_ID_KIND(r->rule) == POLICY_ID_GRANT && f < p->n_families &&
	    i < p->families[f].n_grants && p->families[f].grants[i].on == POLICY_ON_CLASS) {
		const struct policy_grant *gr = &p->families[f].grants[i];

		say(g, ": family %s grants %s on class %s (%s)", p->families[f].name,
		    policy_actions_format(gr->actions, acts, sizeof(acts)),
		    p->classes[gr->target].name, place(&gr->at, at, sizeof(at)));
		if (POLICY_ID_KIND(r->object) != POLICY_ID_CLASS_TREE || k >= p->n_classes)
			return;
		if (p->classes[k].private_tmp)
			say(g, ", whose tree, the agent's private temporary directory, holds it");
		else if (t < p->classes[k].n_trees)
			say(g, ", whose tree %s holds it", p->classes[k].trees[t].path);
		return;
	}
	if (POLICY_ID_KIND(r->rule) == POLICY_ID_OWN_TREE && i < g->a->n_trees) {
		say(g, ": its own files rule %s (%s) gives %s", g->a->trees[i].path,
		    place(&g->a->trees[i].at, at, sizeof(at)),
		    policy_actions_format(g->a->trees[i].access, acts, sizeof(acts)));
		return;
	}
	say(g, ": rule %#x on object %#x gives it", r->rule, r->object);
}

static const char *verb(uint16_t action)
{
	if (action == PF_ACT_OPEN_WRITE)
		return "write";
	if (action == PF_ACT_OPEN_READ)
		return "read";
	return action == PF_ACT_CREATE ? "create files in" : "delete or rename";
}

/* By the agent's rules, explain_may; a file with more names counts as writable. */
static int rules_may(struct guard *g, uint16_t action, const char *path)
{
	struct explain_right r;
	struct stat st;
	int rc;

	/* NEEDSWORK: another mount of the policy's filesystem below a tree the agent may write
	 * is not looked for; through it the agent could write the policy */
	if ((action == PF_ACT_OPEN_WRITE || action == PF_ACT_OPEN_READ) && !stat(path, &st) &&
	    S_ISREG(st.st_mode) && st.st_nlink > 1) {
		say(g,
		    "%s has %ju hard links: agent %s may %s it through another, which pinfold "
		    "cannot find",
		    path, (uintmax_t)st.st_nlink, g->a->name, verb(action));
		return 1;
	}
	rc = explain_may(g->c, action, path, &r);
	if (rc == 1) {
		say(g, "agent %s may %s %s", g->a->name, verb(action), path);
		say_right(g, &r);
	}
	return rc;
}

/* the credentials judged by, when not pinfold's own (guard_judge_as) */
static const struct guard_cred *judge_as;

void guard_judge_as(const struct guard_cred *c)
{
	judge_as = c;
}

/*
 * access(2) as judge_as: its file system ids and groups for one call, and
 * root's file capabilities dropped with the ids (as setfsuid does). -1
 * with errno as faccessat sets it, also when the switch fails.
 */
static int access_as(const char *path, int mode)
{
	static gid_t own[GUARD_MAX_GROUPS];
	int n_own, rc = -1, e = EPERM;

	n_own = getgroups(GUARD_MAX_GROUPS, own);
	if (n_own < 0 || setgroups(judge_as->n_groups, judge_as->groups) < 0)
		return -1;
	setfsgid(judge_as->gid);
	setfsuid(judge_as->uid);
	/* setfsuid says nothing of failure: ask for the value in force */
	if ((uid_t)setfsuid(-1) == judge_as->uid && (gid_t)setfsgid(-1) == judge_as->gid) {
		rc = faccessat(AT_FDCWD, path, mode, AT_EACCESS);
		e = errno;
	}
	setfsuid(geteuid());
	setfsgid(getegid());
	if (setgroups(n_own, own) < 0)
		abort(); /* pinfold would go on with another user's groups */
	errno = e;
	return rc;
}

/* 1 when access(2) allows mode, 0 when it refuses, -errno when it cannot tell */
static int dac_access(const char *path, int mode)
{
	/* the file system ids are the agent's then, and root's overrides gone */
	if (!(judge_as ? access_as(path, mode) : access(path, mode)))
		return 1;
	return errno == EACCES || errno == EROFS || errno == EPERM ? 0 : -errno;
}

/*
 * By the agent's uid's file permissions, which access(2) judges: pinfold
 * runs with the agent's real uid then (see swap_guard), and its own
 * capabilities do not count there. Owning a file or directory is enough:
 * its owner may change its mode.
 */
static int dac_may(struct guard *g, uint16_t action, const char *path)
{
	char *copy = NULL, *dir;
	struct stat st, pst;
	int rc;

	if (action != PF_ACT_UNLINK) {
		if (stat(path, &st))
			return -errno;
		if (st.st_uid == g->uid) {
			say(g, "%s owns %s", g->lead, path);
			return 1;
		}
		rc = dac_access(path, action == PF_ACT_CREATE      ? W_OK | X_OK
				      : action == PF_ACT_OPEN_READ ? R_OK
								   : W_OK);
		if (rc == 1)
			say(g, "%s may %s %s", g->lead, verb(action), path);
		return rc;
	}
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	rc = lstat(path, &st) || stat(dir, &pst) ? -errno : 0;
	if (!rc && pst.st_uid == g->uid) {
		say(g, "%s owns %s, so may %s %s", g->lead, dir, verb(action), path);
		rc = 1;
	} else if (!rc) {
		rc = dac_access(dir, W_OK | X_OK);
		/* in a sticky directory only the owners of a name or of it may remove the name */
		if (rc == 1 && (pst.st_mode & S_ISVTX) && st.st_uid != g->uid)
			rc = 0;
		if (rc == 1)
			say(g, "%s may %s %s", g->lead, verb(action), path);
	}
	free(copy);
	return rc;
}

static int guard_may(struct guard *g, uint16_t action, const char *path)
{
	return g->c ? rules_may(g, action, path) : dac_may(g, action, path);
}

static int guard_way(struct guard *g, const char *path, int links);

/* The way to the target of the link at path, itself on the way. */
static int guard_link(struct guard *g, const char *path, int links)
{
	char target[PATH_MAX], *copy, *full = NULL;
	ssize_t n;
	int rc;

	if (links >= GUARD_MAX_LINKS)
		return -ELOOP;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (target[0] == '/')
		return guard_way(g, target, links + 1);
	copy = strdup(path);
	if (!copy || asprintf(&full, "%s/%s", dirname(copy), target) < 0) {
		free(copy);
		return -ENOMEM;
	}
	rc = guard_way(g, full, links + 1);
	free(copy);
	free(full);
	return rc;
}

/*
 * Every name on the way to path, deepest first: may the agent delete it,
 * and so rename it away and put another in its place? The names on the
 * way to each symbolic link's target are on the way too.
 */
static int guard_way(struct guard *g, const char *path, int links)
{
	char cwd[PATH_MAX], *abs = NULL, *end, *base;
	struct stat st;
	int rc = 0;

	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return -errno;
	if (asprintf(&abs, "%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/", path) <
	    0)
		return -ENOMEM;
	end = abs + strlen(abs);
	while (!rc) {
		while (end > abs + 1 && end[-1] == '/')
			end--;
		*end = '\0';
		base = strrchr(abs, '/');
		if (end == abs + 1 || !base)
			break; /* "/": no name to rename */
		base++;
		if (strcmp(base, ".") && strcmp(base, "..")) {
			rc = guard_may(g, PF_ACT_UNLINK, abs);
			if (!rc && !lstat(abs, &st) && S_ISLNK(st.st_mode))
				rc = guard_link(g, abs, links);
		}
		end = base - 1;
	}
	free(abs);
	return rc;
}

/*
 * The policy's files (written), its directory or the one holding it (a
 * name created there), and every name on the way to them (renamed).
 */
static int guard_policy(struct guard *g, const char *path)
{
	char *real = realpath(path, NULL), *dir;
	struct stat st;
	size_t i;
	int rc;

	if (!real)
		return -errno;
	if (stat(real, &st)) {
		rc = -errno;
		goto out;
	}
	for (i = 0, rc = 0; !rc && i < g->p->n_files; i++)
		rc = guard_may(g, PF_ACT_OPEN_WRITE, g->p->files[i]);
	dir = S_ISDIR(st.st_mode) ? real : dirname(real);
	if (!rc)
		rc = guard_may(g, PF_ACT_CREATE, dir);
	if (!rc)
		rc = guard_way(g, path, 0);
	/* a policy file is path itself, or a name in it */
	for (i = 0; !rc && i < g->p->n_files; i++)
		if (strcmp(g->p->files[i], path))
			rc = guard_way(g, g->p->files[i], 0);
out:
	free(real);
	return rc;
}

/* Whether path, resolved, is dir or below it. */
static bool below(const char *path, const char *dir)
{
	char *real = realpath(path, NULL);
	size_t n = strlen(dir);
	bool in;

	in = real && !strncmp(real, dir, n) && (!real[n] || real[n] == '/');
	free(real);
	return in;
}

/* A policy file in the instance's private temporary directory; 1 with why. */
static int guard_private_tmp(struct guard *g, const char *path, const char *private_tmp)
{
	char *tmp = private_tmp ? realpath(private_tmp, NULL) : NULL;
	size_t i;
	int rc = 0;

	if (!tmp)
		return 0;
	if (below(path, tmp)) {
		say(g, "policy %s is in agent %s's private temporary directory %s", path,
		    g->a->name, private_tmp);
		rc = 1;
	}
	for (i = 0; !rc && i < g->p->n_files; i++) {
		if (!below(g->p->files[i], tmp))
			continue;
		say(g, "policy file %s is in agent %s's private temporary directory %s",
		    g->p->files[i], g->a->name, private_tmp);
		rc = 1;
	}
	free(tmp);
	return rc;
}

/* NULL, or why the agent may write any file: it keeps root's powers across exec. */
static const char *privileged(void)
{
	uid_t r, e, s;
	int cap;

	/* NEEDSWORK: another user's ambient capabilities are not looked at */
	if (judge_as)
		return judge_as->uid ? NULL : "runs as root";
	if (getresuid(&r, &e, &s) || !r || !e || !s)
		return "runs as root";
	for (cap = 0; cap < 64; cap++) {
		int set = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (set < 0)
			break;
		if (set)
			return "keeps capabilities across exec (its ambient set)";
	}
	return NULL;
}

/*
 * Set g up to judge by the agent's uid, no file rule holding it: 0; or 1,
 * with why, when it may do anything (power says what), running as root or
 * with another effective uid than access(2) would judge.
 */
static int dac_setup(struct guard *g, bool files_enforced, const char *power)
{
	const char *priv = privileged();
	char mode[80] = "";

	if (files_enforced)
		snprintf(mode, sizeof(mode), " runs in %s mode, where file rules deny nothing, and",
			 policy_mode_name(g->a->mode));
	if (priv) {
		if (files_enforced)
			say(g, "agent %s%s %s: it may %s", g->a->name, mode, priv, power);
		else
			say(g,
			    "file rules are not enforced here (--allow-degraded) and agent %s %s: "
			    "it may %s",
			    g->a->name, priv, power);
		return 1;
	}
	/* access(2) judges the real uid, exec keeps the effective one: both must be the same */
	if (!judge_as && (getuid() != geteuid() || getgid() != getegid())) {
		say(g,
		    "agent %s would run with real uid %u and effective uid %u, whose file "
		    "permissions pinfold does not judge",
		    g->a->name, (unsigned)getuid(), (unsigned)geteuid());
		return 1;
	}
	g->uid = judge_as ? judge_as->uid : getuid();
	snprintf(g->lead, sizeof(g->lead), "%sagent %s (uid %u)%s",
		 files_enforced ? "" : "file rules are not enforced here (--allow-degraded) and ",
		 g->a->name, (unsigned)g->uid, mode);
	return 0;
}

/* Judge by the agent's uid: no file rule holds it. */
static int guard_dac(struct guard *g, const char *path, bool files_enforced)
{
	return dac_setup(g, files_enforced, "write any file") ?: guard_policy(g, path);
}

int swap_guard(const char *path, const struct policy *p, const struct policy_agent *a,
	       const struct compiled *c, bool files_enforced, const char *private_tmp, char *why,
	       size_t len)
{
	struct guard g = {.p = p, .a = a, .why = why, .len = len};
	int rc;

	why[0] = '\0';
	rc = guard_private_tmp(&g, path, private_tmp);
	if (!rc && files_enforced && a->mode == POLICY_MODE_ENFORCE) {
		g.c = c;
		rc = guard_policy(&g, path);
	} else if (!rc) {
		rc = guard_dac(&g, path, files_enforced);
	}
	if (rc < 0)
		snprintf(why, len, "cannot tell whether agent %s could change it: %s", a->name,
			 strerror(-rc));
	return rc;
}

/* ---- the audit log and its keys ---- */

/* Every file of the log in dir whose name starts with base: written, or deleted. */
static int guard_log_files(struct guard *g, const char *dir, const char *base)
{
	size_t n = strlen(base);
	struct dirent *e;
	char *path;
	int rc = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && (e = readdir(d))) {
		if (strncmp(e->d_name, base, n))
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		rc = e->d_type == DT_REG ? guard_may(g, PF_ACT_OPEN_WRITE, path) : 0;
		if (!rc)
			rc = guard_may(g, PF_ACT_UNLINK, path);
		free(path);
	}
	closedir(d);
	return rc;
}

/*
 * The keys (read) and the log: its files (written or deleted), its
 * directory (names created), and every name on the way to it (renamed).
 */
static int guard_audit(struct guard *g, const char *log, const char *const *keys, size_t n_keys)
{
	char *copy = strdup(log), *slash;
	const char *dir, *base;
	size_t i;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (!slash) {
		dir = ".";
		base = copy;
	} else if (slash == copy) {
		dir = "/";
		base = copy + 1;
	} else {
		*slash = '\0';
		dir = copy;
		base = slash + 1;
	}
	for (i = 0; !rc && i < n_keys; i++)
		if (!access(keys[i], F_OK))
			rc = guard_may(g, PF_ACT_OPEN_READ, keys[i]);
	if (!rc)
		rc = guard_log_files(g, dir, base);
	if (!rc)
		rc = guard_may(g, PF_ACT_CREATE, dir);
	if (!rc)
		rc = guard_way(g, dir, 0);
	free(copy);
	return rc;
}

int audit_guard(const char *log, const char *const *keys, size_t n_keys, const struct policy *p,
		const struct policy_agent *a, const struct compiled *c, bool files_enforced,
		char *why, size_t len)
{
	struct guard g = {.p = p, .a = a, .why = why, .len = len};
	int rc;

	why[0] = '\0';
	if (files_enforced && a->mode == POLICY_MODE_ENFORCE) {
		g.c = c;
		rc = guard_audit(&g, log, keys, n_keys);
	} else {
		/* pinfold cannot refuse what it does not enforce: 2, said */
		rc = dac_setup(&g, files_enforced, "read the audit keys and change the audit log")
			     ?: guard_audit(&g, log, keys, n_keys);
		rc = rc == 1 ? 2 : rc;
	}
	if (rc < 0)
		snprintf(why, len, "cannot tell whether agent %s could change the audit log: %s",
			 a->name, strerror(-rc));
	return rc;
}
