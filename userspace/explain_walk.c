// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain_walk.c - the decision machinery of `pinfold explain`: lookups in
 * an agent's compiled entries, as the kernel's maps answer them, and the
 * walk over a file's ancestors, the kernel's step for step, through stat(2)
 * of each parent. Nothing here reads the policy; explain.c puts the result
 * in words.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "bpf/decide.h"
#include "explain.h"
#include "explain_int.h"
#include "policy/compile.h"

const struct pf_net_rules *explain_net_lookup(const struct compiled *c, uint32_t slot,
					      const uint8_t addr[16])
{
	const struct compiled_net *best = NULL;
	size_t i;

	for (i = 0; i < c->n_nets; i++) {
		const struct compiled_net *n = &c->nets[i];

		/* slot and generation are the key's top 64 bits; every entry covers them */
		if (n->key.prefixlen < 64 || n->key.prefixlen > 64 + 128 ||
		    ntohl(n->key.slot) != slot || ntohl(n->key.gen) != c->gen)
			continue;
		if (!prefix_holds(n->key.addr, n->key.prefixlen - 64, addr))
			continue;
		if (!best || n->key.prefixlen > best->key.prefixlen)
			best = n;
	}
	return best ? &best->val : NULL;
}

const struct pf_tree *explain_tree_lookup(const struct compiled *c, uint32_t slot, uint64_t dev,
					  uint64_t ino)
{
	size_t i;

	for (i = 0; i < c->n_trees; i++) {
		const struct pf_tree_key *k = &c->trees[i].key;

		if (k->slot == slot && k->gen == c->gen && k->dev == dev && k->ino == ino)
			return &c->trees[i].val;
	}
	return NULL;
}

/* (dev, ino) of path as the kernel encodes them; follow: stat, else lstat. 0 or -errno. */
static int inode_of(const char *path, bool follow, uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (follow)
		return compile_resolve_stat(path, dev, ino, NULL);
	if (lstat(path, &st))
		return -errno;
	*dev = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
	*ino = st.st_ino;
	return 0;
}

/*
 * Meet one dentry with an inode, as one step of pf_match_step. Where the
 * device changes from the last dentry, the kernel also met the mount
 * point's own dentry, hidden below the mount: a step whose inode userspace
 * cannot see (no tree can be compiled onto it while the mount stands).
 * Ordinary mounts give the same walk: stat of a mount point's path returns
 * the mounted root, which the kernel meets first. Past the kernel's end the
 * walk goes on, for the wording only, to the next tree up. Returns true
 * when there is nothing more to learn.
 */
static bool walk_meet(const struct compiled *c, struct explain_walk *w, uint64_t dev, uint64_t ino)
{
	const struct pf_tree *t;

	if (w->met && dev != w->last_dev)
		w->steps++;
	w->met = true;
	w->last_dev = dev;
	t = explain_tree_lookup(c, c->slot, dev, ino);
	if (!w->tree && !w->too_deep && w->steps >= PF_WALK_STEPS)
		w->too_deep = true;
	if (w->tree || w->too_deep) {
		w->next = t;
		return t != NULL;
	}
	w->steps++;
	w->tree = t;
	return false;
}

/* Continue the walk at the resolved directory real, up to "/". 0 or -errno. */
static int walk_up(const struct compiled *c, const char *real, struct explain_walk *w)
{
	char cur[PATH_MAX];
	uint64_t dev, ino;
	char *slash;
	int err;

	if (strlen(real) >= sizeof(cur))
		return -ENAMETOOLONG;
	strcpy(cur, real);
	for (;;) {
		err = inode_of(cur, true, &dev, &ino);
		if (err)
			return err;
		if (walk_meet(c, w, dev, ino) || !strcmp(cur, "/"))
			return 0;
		slash = strrchr(cur, '/');
		if (slash == cur)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* s with mountinfo's octal escapes (\040 for a space) decoded, in place */
static void mountinfo_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The mount point of a mount that shows only a subdirectory of its
 * filesystem (a bind mount) and holds real, into mp; false when there is
 * none or mountinfo cannot be read. There the kernel's walk differs.
 */
/* NEEDSWORK: a bind mount of a subdirectory ends the kernel's walk at its filesystem's root,
 * where this walk goes on through the mount point's parents; explain may allow what is denied
 * there, and only says so */
/* NEEDSWORK: btrfs subvolumes change st_dev without a mount; the step count may differ by one */
bool explain_partial_mount(const char *real, char *mp, size_t len)
{
	char *line = NULL, root[PATH_MAX], point[PATH_MAX];
	bool found = false;
	size_t size = 0, n;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (!found && getline(&line, &size, f) > 0) {
		if (strlen(line) >= sizeof(root) ||
		    sscanf(line, "%*s %*s %*s %s %s", root, point) != 2)
			continue;
		mountinfo_unescape(root);
		mountinfo_unescape(point);
		n = strlen(point);
		if (!strcmp(root, "/") || (strcmp(point, "/") && (strncmp(real, point, n) ||
								  (real[n] && real[n] != '/'))))
			continue;
		snprintf(mp, len, "%s", point);
		found = true;
	}
	free(line);
	fclose(f);
	return found;
}

/* dir and base of path, into malloc'ed strings; -EINVAL for "", "/", "." or ".." last. */
static int split_path(const char *path, char **dir, char **base)
{
	char *copy = strdup(path), *slash;
	size_t n;

	if (!copy)
		return -ENOMEM;
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	slash = strrchr(copy, '/');
	*base = strdup(slash ? slash + 1 : copy);
	if (!slash)
		*dir = strdup(".");
	else if (slash == copy)
		*dir = strdup("/");
	else
		*dir = strndup(copy, (size_t)(slash - copy));
	free(copy);
	if (!*dir || !*base) {
		free(*dir);
		free(*base);
		return -ENOMEM;
	}
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, "..") || !strcmp(*base, "/")) {
		free(*dir);
		free(*base);
		return -EINVAL;
	}
	return 0;
}

/* real (resolved dir) + "/" + base, malloc'ed */
static char *join(const char *real, const char *base)
{
	char *s;

	if (asprintf(&s, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base) < 0)
		return NULL;
	return s;
}

/*
 * Walk for a new name (create) or the removal of one (delete): the kernel
 * starts at the name's own dentry, negative for a create, and the name
 * itself for a delete (a symlink is not followed), then its directory.
 * Returns 0, or -errno with a message printed.
 */
int explain_walk_name(const struct compiled *c, struct explain_file *e)
{
	char *dir = NULL, *base = NULL, *real = NULL;
	uint64_t dev, ino;
	struct stat st;
	int err;

	err = split_path(e->given, &dir, &base);
	if (err) {
		fprintf(stderr, "pinfold: %s: not a name in a directory\n", e->given);
		return err;
	}
	err = lstat(e->given, &st) ? -errno : 0;
	if (e->action == PF_ACT_CREATE && !err) {
		fprintf(stderr,
			"pinfold: %s exists: creating it fails (EEXIST) before pinfold judges\n",
			e->given);
		err = -EEXIST;
		goto out;
	}
	if (e->action != PF_ACT_CREATE && err) {
		fprintf(stderr, "pinfold: cannot find %s: %s\n", e->given, strerror(-err));
		goto out;
	}
	real = realpath(dir, NULL);
	if (!real) {
		err = -errno;
		fprintf(stderr, "pinfold: cannot resolve %s: %s\n", dir, strerror(errno));
		goto out;
	}
	e->object = join(real, base);
	e->suggest = strdup(e->action == PF_ACT_CREATE ? real : e->object);
	if (!e->object || !e->suggest) {
		err = -ENOMEM;
		goto out;
	}
	if (e->action == PF_ACT_CREATE) {
		e->w.steps = 1; /* the new name's dentry: no inode, no tree */
	} else {
		err = inode_of(e->given, false, &dev, &ino);
		if (err || walk_meet(c, &e->w, dev, ino))
			goto out;
	}
	err = walk_up(c, real, &e->w);
	if (err)
		fprintf(stderr, "pinfold: cannot walk %s: %s\n", real, strerror(-err));
out:
	free(dir);
	free(base);
	free(real);
	return err;
}

/* Walk for an open or exec of an existing path, whose symlinks the kernel follows. */
int explain_walk_object(const struct compiled *c, struct explain_file *e)
{
	int err;

	e->object = realpath(e->given, NULL);
	if (!e->object) {
		fprintf(stderr, "pinfold: cannot resolve %s: %s\n", e->given, strerror(errno));
		return -errno;
	}
	e->suggest = strdup(e->object);
	if (!e->suggest)
		return -ENOMEM;
	err = walk_up(c, e->object, &e->w);
	if (err)
		fprintf(stderr, "pinfold: cannot walk %s: %s\n", e->object, strerror(-err));
	return err;
}

int explain_may(const struct compiled *c, uint16_t action, const char *path,
		struct explain_right *r)
{
	uint32_t need = pf_decide_need(action, PF_SIDE_OBJECT);
	char *dir = NULL, *base = NULL, *real = NULL;
	struct explain_walk w = {};
	uint64_t dev, ino;
	int err;

	if (action == PF_ACT_UNLINK) {
		/* the name itself first, as explain_walk_name does for a delete */
		err = split_path(path, &dir, &base);
		if (err)
			return err;
		real = realpath(dir, NULL);
		err = real ? inode_of(path, false, &dev, &ino) : -errno;
		if (!err && !walk_meet(c, &w, dev, ino))
			err = walk_up(c, real, &w);
	} else {
		real = realpath(path, NULL);
		/* a new name's dentry has no inode: one step, no tree */
		if (action == PF_ACT_CREATE)
			w.steps = 1;
		err = real ? walk_up(c, real, &w) : -errno;
	}
	if (!err && pf_decide_decision(pf_decide_file(w.tree, !w.tree && !w.too_deep, need)) ==
			    PF_DECISION_ALLOW) {
		r->object = w.tree->object;
		r->rule = pf_decide_file_rule(w.tree, need);
		err = 1;
	}
	free(dir);
	free(base);
	free(real);
	return err;
}
