// SPDX-License-Identifier: GPL-2.0-only
/*
 * instance.c - register and remove confined instances in the kernel maps.
 */
#define _GNU_SOURCE /* statx, renameat2 */
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "instance.h"

#define PF_RUN_DIR "/run/pinfold"
#define SLOT_DIR PF_RUN_DIR "/slots"
#define KEY_MAX 64              /* larger than any pinfold map key */
#define READERS_PAUSE_US 100000 /* see wait_readers */

/* Private temporary directories */
#define TMP_STALE_DIR ".stale"             /* below INSTANCE_TMP_DIR: what could not be removed */
#define TMP_REMOVE_PASSES 3                /* scans of a directory: see walk_tree */
#define TMP_REMOVE_MAX_FAILED 1024         /* names one removal leaves before it gives up */
#define TMP_REMOVE_MAX_ENTRIES (1UL << 24) /* entries one removal looks at: bounds its time */

/*
 * Make directory path with mode, or give an existing one mode: umask must
 * not take away the search right others need to reach their tmp below.
 */
static int make_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
		return -ENOTDIR;
	if ((st.st_mode & 07777) != mode && chmod(path, mode) < 0)
		return -errno;
	return 0;
}

uint32_t instance_mode_flags(unsigned mode)
{
	if (mode == POLICY_MODE_AUDIT)
		return PF_INST_MODE_AUDIT;
	if (mode == POLICY_MODE_RECORD)
		return PF_INST_MODE_RECORD;
	return 0;
}

/* Lock slot's file; 1 when taken, 0 when another holds it, or -errno. */
static int lock_slot(struct instance *in, int slot)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "%s/%d", SLOT_DIR, slot);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return errno == EWOULDBLOCK ? 0 : -errno;
	}
	in->slot = slot;
	in->slot_lock_fd = fd;
	return 1;
}

static int make_slot_dirs(void)
{
	/* others may pass through, to their private tmp; slots stay root's */
	int err = make_dir(PF_RUN_DIR, 0711);

	if (err)
		return err;
	if (mkdir(SLOT_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int instance_acquire_slot(struct instance *in)
{
	char p[64];
	int slot, rc;

	rc = make_slot_dirs();
	if (rc)
		return rc;
	for (slot = 0; slot < PF_MAX_INSTANCES; slot++) {
		/* the daemon's, even while no daemon runs to hold it */
		snprintf(p, sizeof(p), "%s/%d.json", INSTANCE_DAEMON_DIR, slot);
		if (access(p, F_OK) == 0)
			continue;
		rc = lock_slot(in, slot);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	return -EAGAIN;
}

int instance_take_slot(struct instance *in, int slot)
{
	int rc = make_slot_dirs();

	if (rc)
		return rc;
	if (slot < 0 || slot >= PF_MAX_INSTANCES)
		return -EINVAL;
	rc = lock_slot(in, slot);
	return rc < 0 ? rc : rc ? 0 : -EBUSY;
}

/* ---- private temporary directories ---- */

/*
 * A private tmp is the agent's to fill, so its removal must hold against
 * whatever an agent can build there: any depth, symbolic links, mounts,
 * immutable files. The walk descends with openat(O_NOFOLLOW | O_DIRECTORY)
 * and climbs back with openat(fd, ".."), so it holds one directory open at
 * a time whatever the depth; what it needs per level (the directory's
 * inode, its name, the subdirectories still to enter) is on the heap.
 *
 * Climbing by ".." is safe because nothing moves the tree meanwhile: at
 * exit the instance's cgroup is already destroyed, its tasks dead. A stale
 * tmp is removed before the new run reaps what a killed one left, so tasks
 * of the earlier holder may still live; therefore each climb checks that
 * ".." is the directory the walk came down from (device and inode), and
 * stops the walk when it is not. A task that moves directories can then
 * make the removal fail, never lead it out of the tree. Every directory
 * entered is on the tree's own mount (device and mount id), so a mount or
 * a bind mount inside is not entered either.
 *
 * What cannot be removed (a file made immutable, a mount) does not stop
 * the rest, and no tree that cannot be removed stops a run: it is moved
 * into TMP_STALE_DIR, the run says so, and later runs try again.
 */

/* One directory on the path from the root of a tree being removed to where the walk is. */
struct tmp_level {
	ino_t ino;    /* checked when the walk climbs back into it */
	char *name;   /* in the level above (the root: below its parent) */
	char **enter; /* subdirectories the last pass found not empty */
	size_t n_enter, next;
	char **failed; /* names that could not be removed: not tried again */
	size_t n_failed;
	int passes;    /* scans so far */
	bool progress; /* whether a scan since the last one removed or found anything */
};

/* One removal: the tree's root, filesystem and mount, the levels, the first error. */
struct tmp_walk {
	const char *root; /* name of the tree below its parent, for messages */
	dev_t dev;
	uint64_t mnt_id; /* 0 when statx does not tell it */
	struct tmp_level *levels;
	size_t depth, cap;
	size_t entries, failures;
	int err;
	char where[256]; /* what the first error is about, below root's parent */
};

/* Append s to list *v of *n names; 0 or -ENOMEM. */
static int names_add(char ***v, size_t *n, const char *s)
{
	char **grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return -ENOMEM;
	*v = grown;
	(*v)[*n] = strdup(s);
	if (!(*v)[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void names_free(char ***v, size_t *n)
{
	while (*n)
		free((*v)[--*n]);
	free(*v);
	*v = NULL;
}

static bool names_have(char *const *v, size_t n, const char *s)
{
	while (n--)
		if (!strcmp(v[n], s))
			return true;
	return false;
}

/*
 * Note err about name in the deepest level: the first error is kept (with
 * the path it is about), the name is not tried again. Past
 * TMP_REMOVE_MAX_FAILED failures the walk gives up: -EAGAIN then.
 */
static int walk_fail(struct tmp_walk *w, const char *name, int err)
{
	struct tmp_level *lv = &w->levels[w->depth - 1];
	size_t i, len;

	if (!w->err) {
		w->err = err;
		len = (size_t)snprintf(w->where, sizeof(w->where), "%s", w->root);
		for (i = 1; i < w->depth && len < sizeof(w->where); i++)
			len += (size_t)snprintf(w->where + len, sizeof(w->where) - len, "/%s",
						w->levels[i].name);
		if (len < sizeof(w->where))
			len += (size_t)snprintf(w->where + len, sizeof(w->where) - len, "/%s",
						name);
		/* too deep to name in full: the root, the depth and the last name */
		if (len >= sizeof(w->where))
			snprintf(w->where, sizeof(w->where), "%s/.../%.100s (%zu levels down)",
				 w->root, name, w->depth);
	}
	if (++w->failures > TMP_REMOVE_MAX_FAILED || names_add(&lv->failed, &lv->n_failed, name))
		return -EAGAIN;
	return 0;
}

/* Open directory name below fd, if on the tree's filesystem and mount; its inode into *ino. */
static int walk_open(const struct tmp_walk *w, int fd, const char *name, ino_t *ino)
{
	struct statx sx;
	int dfd;

	dfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (statx(dfd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &sx) < 0) {
		close(dfd);
		return -errno;
	}
	if (makedev(sx.stx_dev_major, sx.stx_dev_minor) != w->dev ||
	    (w->mnt_id && (sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id != w->mnt_id)) {
		close(dfd);
		return -EXDEV;
	}
	*ino = sx.stx_ino;
	return dfd;
}

/* Enter directory name (of the deepest level, open as fd): a new level; its fd or -errno. */
static int walk_push(struct tmp_walk *w, int fd, const char *name)
{
	struct tmp_level *lv;
	ino_t ino;
	int dfd;

	if (w->depth == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct tmp_level *grown = realloc(w->levels, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		w->levels = grown;
		w->cap = cap;
	}
	dfd = walk_open(w, fd, name, &ino);
	if (dfd < 0)
		return dfd;
	lv = &w->levels[w->depth++];
	memset(lv, 0, sizeof(*lv));
	lv->ino = ino;
	lv->name = strdup(name);
	if (!lv->name) {
		close(dfd);
		return -ENOMEM;
	}
	return dfd;
}

static void walk_pop(struct tmp_walk *w)
{
	struct tmp_level *lv = &w->levels[--w->depth];

	names_free(&lv->enter, &lv->n_enter);
	names_free(&lv->failed, &lv->n_failed);
	free(lv->name);
}

/*
 * One pass over the deepest level, open as fd: what is not a directory is
 * unlinked, empty directories removed, the others listed to enter. How
 * many entries it removed or listed, or -errno when the walk must stop.
 */
static int walk_scan(struct tmp_walk *w, int fd)
{
	struct tmp_level *lv = &w->levels[w->depth - 1];
	struct dirent *de;
	struct stat st;
	int n = 0, err = 0, dfd;
	DIR *d;

	dfd = dup(fd);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	/* the dup shares its offset with fd, which an earlier pass moved */
	rewinddir(d);
	names_free(&lv->enter, &lv->n_enter);
	lv->next = 0;
	while (!err && (de = readdir(d))) {
		const char *name = de->d_name;

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    names_have(lv->failed, lv->n_failed, name))
			continue;
		if (++w->entries > TMP_REMOVE_MAX_ENTRIES) {
			err = -EAGAIN;
			break;
		}
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				err = walk_fail(w, name, -errno);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(fd, name, 0) == 0)
				n++;
			else if (errno != ENOENT)
				err = walk_fail(w, name, -errno);
		} else if (st.st_dev != w->dev) {
			err = walk_fail(w, name, -EXDEV);
		} else if (unlinkat(fd, name, AT_REMOVEDIR) == 0) {
			n++;
		} else if (errno == ENOTEMPTY || errno == EEXIST) {
			err = names_add(&lv->enter, &lv->n_enter, name);
			n++;
		} else if (errno != ENOENT) {
			err = walk_fail(w, name, -errno);
		}
	}
	closedir(d);
	return err ?: n;
}

/*
 * Leave the deepest level (open as *fd) for the one above, checking that
 * ".." is the directory the walk came from, and remove the level's
 * directory, now as empty as it can be made. 0 or -errno to stop.
 */
static int walk_climb(struct tmp_walk *w, int *fd)
{
	const struct tmp_level *up = &w->levels[w->depth - 2];
	struct stat st;
	char *name;
	int pfd, err;

	pfd = openat(*fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0 || st.st_dev != w->dev || st.st_ino != up->ino) {
		close(pfd);
		return -ESTALE;
	}
	close(*fd);
	*fd = pfd;
	name = w->levels[w->depth - 1].name;
	w->levels[w->depth - 1].name = NULL;
	walk_pop(w);
	err = 0;
	if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		err = walk_fail(w, name, -errno);
	free(name);
	return err;
}

/*
 * Empty the tree whose root level is open as fd; closes fd. Each level is
 * scanned, its subdirectories entered in turn, then scanned again while a
 * scan finds work (readdir need not show names made during a pass), at
 * most TMP_REMOVE_PASSES times. 0 or -errno when the walk had to stop.
 */
static int walk_tree(struct tmp_walk *w, int fd)
{
	struct tmp_level *lv;
	const char *name;
	int n, dfd;

	n = walk_scan(w, fd);
	w->levels[0].passes = 1;
	while (n >= 0) {
		lv = &w->levels[w->depth - 1];
		if (n > 0)
			lv->progress = true;
		n = 0;
		if (lv->next < lv->n_enter) {
			name = lv->enter[lv->next++];
			dfd = walk_push(w, fd, name);
			if (dfd == -ENOMEM) {
				n = dfd;
			} else if (dfd < 0) {
				n = walk_fail(w, name, dfd);
			} else {
				close(fd);
				fd = dfd;
				n = walk_scan(w, fd);
				w->levels[w->depth - 1].passes = 1;
			}
		} else if (lv->progress && lv->passes < TMP_REMOVE_PASSES) {
			lv->progress = false;
			lv->passes++;
			n = walk_scan(w, fd);
		} else if (w->depth > 1) {
			n = walk_climb(w, &fd);
		} else {
			break;
		}
	}
	close(fd);
	return n < 0 ? n : 0;
}

/*
 * Remove name below base (a directory on device dev) and everything in it.
 * 0, or the first error met (w->where says what it is about).
 */
static int tmp_remove_tree(int base, const char *name, struct tmp_walk *w)
{
	struct statx sx;
	struct stat st;
	int fd, err;

	w->root = name;
	if (fstatat(base, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(base, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (statx(base, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID))
		w->mnt_id = sx.stx_mnt_id;
	snprintf(w->where, sizeof(w->where), "%s", name);
	fd = walk_push(w, base, name);
	if (fd < 0)
		return fd;
	err = walk_tree(w, fd);
	while (w->depth)
		walk_pop(w);
	free(w->levels);
	w->levels = NULL;
	w->cap = 0;
	if (!err && unlinkat(base, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		err = -errno;
	/* the first error says why the root could not go */
	return w->err ?: err;
}

/* TMP_STALE_DIR below base, made if need be: root's, 0700. Its fd or -errno. */
static int open_stale_dir(int base)
{
	struct stat st;
	int fd;

	if (mkdirat(base, TMP_STALE_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(base, TMP_STALE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

/* Move name below base into TMP_STALE_DIR under a free name, put into moved. 0 or -errno. */
static int tmp_quarantine(int base, const char *name, char *moved, size_t size)
{
	char to[NAME_MAX + 1];
	int sfd, i, err = -EEXIST;

	sfd = open_stale_dir(base);
	if (sfd < 0)
		return sfd;
	for (i = 0; err == -EEXIST && i < 100; i++) {
		if ((size_t)snprintf(to, sizeof(to), i ? "%s~%d" : "%s", name, i) >= sizeof(to))
			snprintf(to, sizeof(to), "stale~%d", i);
		err = renameat2(base, name, sfd, to, RENAME_NOREPLACE) < 0 ? -errno : 0;
	}
	close(sfd);
	if (!err)
		snprintf(moved, size, "%s/%s/%s", INSTANCE_TMP_DIR, TMP_STALE_DIR, to);
	return err;
}

/*
 * Remove name below base, what (for messages) "the private temporary
 * directory" of this run or a stale one. What cannot be removed is moved
 * into TMP_STALE_DIR and reported on stderr. 0 when the name is free
 * again, else the removal's error, reported too when report_all.
 */
static int tmp_dispose(int base, const char *name, const char *what, bool report_all)
{
	struct tmp_walk w = {0};
	char moved[PATH_MAX];
	struct stat st;
	int err, qerr;

	if (fstat(base, &st) < 0)
		return -errno;
	w.dev = st.st_dev;
	err = tmp_remove_tree(base, name, &w);
	if (!err)
		return 0;
	qerr = tmp_quarantine(base, name, moved, sizeof(moved));
	if (!qerr) {
		fprintf(stderr, "pinfold: cannot remove %s %s/%s: %s/%s: %s; moved it to %s\n",
			what, INSTANCE_TMP_DIR, name, INSTANCE_TMP_DIR, w.where, strerror(-err),
			moved);
		return 0;
	}
	if (report_all)
		fprintf(stderr,
			"pinfold: cannot remove %s %s/%s: %s/%s: %s; cannot move it into %s/%s "
			"either: %s; left it in place\n",
			what, INSTANCE_TMP_DIR, name, INSTANCE_TMP_DIR, w.where, strerror(-err),
			INSTANCE_TMP_DIR, TMP_STALE_DIR, strerror(-qerr));
	return err;
}

/*
 * Remove what the quarantine holds, where it now can be (an administrator
 * cleared an immutable flag, a mount went away). Quietly: each tree was
 * reported when it was moved there. One run at a time does this.
 */
static void tmp_purge_stale(int base)
{
	struct tmp_walk w;
	struct stat st;
	struct dirent *de;
	int sfd;
	DIR *d;

	sfd = openat(base, TMP_STALE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return;
	if (fstat(sfd, &st) < 0 || st.st_uid != 0 || flock(sfd, LOCK_EX | LOCK_NB) < 0)
		goto out;
	d = fdopendir(dup(sfd));
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		memset(&w, 0, sizeof(w));
		w.dev = st.st_dev;
		tmp_remove_tree(sfd, de->d_name, &w);
	}
	closedir(d);
out:
	close(sfd);
}

/* Remove (or move aside) what earlier holders of slot left below the tmp directory open as base. */
static int remove_stale_tmp(int base, int slot)
{
	char prefix[16];
	struct dirent *de;
	int fd;
	DIR *d;

	tmp_purge_stale(base);
	snprintf(prefix, sizeof(prefix), "%d.", slot);
	fd = dup(base);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	/* what stays (neither removed nor moved) is reported: the new tmp has another name */
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			tmp_dispose(base, de->d_name, "the stale private temporary directory",
				    true);
	closedir(d);
	return 0;
}

int instance_tmp_create(struct instance *in, const char *name, uid_t uid, gid_t gid)
{
	/* the NUL that sizeof counts makes room for the slash */
	char leaf[sizeof(in->tmp) - sizeof(INSTANCE_TMP_DIR)];
	int base, err;

	in->tmp[0] = '\0';
	err = make_dir(INSTANCE_TMP_DIR, 0711);
	if (err)
		return err;
	base = open(INSTANCE_TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (base < 0)
		return -errno;
	err = remove_stale_tmp(base, in->slot);
	if (err)
		goto out;

	if ((size_t)snprintf(leaf, sizeof(leaf), "%d.%s", in->slot, name) >= sizeof(leaf) ||
	    strchr(leaf, '/')) {
		err = -ENAMETOOLONG;
		goto out;
	}
	/* NEEDSWORK: a stale tmp of this name (pid reuse) that stayed in place fails the run */
	if (mkdirat(base, leaf, 0700) < 0) {
		err = -errno;
		goto out;
	}
	/* mode and owner on the new name: nobody but root can make one here */
	if (fchownat(base, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(base, leaf, 0700, 0) < 0) {
		err = -errno;
		unlinkat(base, leaf, AT_REMOVEDIR);
		goto out;
	}
	snprintf(in->tmp, sizeof(in->tmp), "%s/%s", INSTANCE_TMP_DIR, leaf);
out:
	close(base);
	return err;
}

bool instance_tmp_valid(const char *tmp)
{
	size_t plen = strlen(INSTANCE_TMP_DIR);
	const char *name;

	if (strncmp(tmp, INSTANCE_TMP_DIR "/", plen + 1))
		return false;
	name = tmp + plen + 1;
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

int instance_tmp_remove(struct instance *in)
{
	size_t plen = strlen(INSTANCE_TMP_DIR);
	int base, err;

	if (!in->tmp[0])
		return 0;
	/* whoever wrote it down */
	if (!instance_tmp_valid(in->tmp))
		return -EINVAL;
	base = open(INSTANCE_TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (base < 0)
		return -errno;
	/* a tree that cannot be removed is moved aside: the caller reports the rest */
	err = tmp_dispose(base, in->tmp + plen + 1, "the private temporary directory", false);
	close(base);
	if (!err)
		in->tmp[0] = '\0';
	return err;
}
/* Which keys of pf_trees, pf_anchors and pf_net to delete: a slot's, of one or every generation. */
struct key_filter {
	uint32_t slot;
	uint32_t gen;
	bool any_gen;
};

/*
 * Delete every key of map_fd that the filter matches. Keys are collected
 * first: deleting while walking could restart the walk.
 */
static int purge_keys(int map_fd, size_t key_size,
		      bool (*mine)(const void *key, const struct key_filter *f),
		      const struct key_filter *f)
{
	unsigned char cur[KEY_MAX], next[KEY_MAX];
	unsigned char *keys = NULL, *grown;
	size_t n = 0, cap = 0, i;
	bool first = true;
	int err = 0;

	while (bpf_map_get_next_key(map_fd, first ? NULL : cur, next) == 0) {
		first = false;
		memcpy(cur, next, key_size);
		if (!mine(next, f))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(keys, cap * key_size);
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		memcpy(keys + n++ * key_size, next, key_size);
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(map_fd, keys + i * key_size) && errno != ENOENT && !err)
			err = -errno;
	free(keys);
	return err;
}

static bool tree_of(const void *key, const struct key_filter *f)
{
	const struct pf_tree_key *k = key;

	return k->slot == f->slot && (f->any_gen || k->gen == f->gen);
}

static bool net_of(const void *key, const struct key_filter *f)
{
	const struct pf_net_key *k = key;

	return k->slot == htonl(f->slot) && (f->any_gen || k->gen == htonl(f->gen));
}

/* Delete the pf_trees, pf_anchors and pf_net entries f matches. */
static int purge_rules(const struct pf_kernel *k, const struct key_filter *f)
{
	int err;

	err = purge_keys(k->trees_fd, sizeof(struct pf_tree_key), tree_of, f);
	/* pf_anchors is keyed as pf_trees */
	err = purge_keys(k->anchors_fd, sizeof(struct pf_tree_key), tree_of, f) ?: err;
	return purge_keys(k->net_fd, sizeof(struct pf_net_key), net_of, f) ?: err;
}

/* Remove the slot's rules, cgroup entries, ring and loss counter. */
static int purge_slot(const struct pf_kernel *k, uint32_t slot)
{
	struct key_filter every = {.slot = slot, .any_gen = true};
	struct pf_instance val;
	uint64_t cur, next;
	bool first = true;
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *zeros;
	uint32_t ring_id;
	int err = 0;

	/* the cgroup entries first: a task is then unknown, and denied */
	while (bpf_map_get_next_key(k->instances_fd, first ? NULL : &cur, &next) == 0) {
		first = false;
		cur = next;
		if (bpf_map_lookup_elem(k->instances_fd, &next, &val) == 0 && val.slot == slot)
			bpf_map_delete_elem(k->instances_fd, &next);
	}
	/* a map of maps gives userspace its inner map's id */
	if (bpf_map_lookup_elem(k->rings_fd, &slot, &ring_id) == 0)
		err = loader_unguard(k, PF_GUARD_MAP, ring_id);
	if (bpf_map_delete_elem(k->rings_fd, &slot) && errno != ENOENT)
		err = -errno;
	err = purge_rules(k, &every) ?: err;

	zeros = ncpu > 0 ? calloc(ncpu, sizeof(*zeros)) : NULL;
	if (!zeros)
		return err ?: -ENOMEM;
	if (bpf_map_update_elem(k->lost_fd, &slot, zeros, BPF_ANY) && !err)
		err = -errno;
	/* the instance's events are numbered from 0 (pf_event.seq) */
	if (bpf_map_update_elem(k->seq_fd, &slot, zeros, BPF_ANY) && !err)
		err = -errno;
	free(zeros);
	return err;
}

/* Is id among the n ids? */
static bool id_in(uint64_t id, const uint64_t *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int instance_reap_stale(const struct pf_kernel *k, const struct instance *in, const char *parent)
{
	uint64_t ids[PF_MAX_INSTANCES], cur, next, id;
	struct pf_instance val;
	char path[PATH_MAX];
	struct dirent *de;
	bool first = true;
	size_t n = 0;
	int reaped = 0, err = 0;
	DIR *d;

	while (n < PF_MAX_INSTANCES &&
	       bpf_map_get_next_key(k->instances_fd, first ? NULL : &cur, &next) == 0) {
		first = false;
		cur = next;
		if (bpf_map_lookup_elem(k->instances_fd, &next, &val) == 0 &&
		    val.slot == (uint32_t)in->slot)
			ids[n++] = next;
	}
	if (!n)
		return 0;

	d = opendir(parent);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
		if (cgroup_id(path, &id) || !id_in(id, ids, n))
			continue;
		err = cgroup_instance_destroy(path) ?: err;
		reaped++;
	}
	closedir(d);
	return err ?: reaped;
}

int instance_reap_unheld(const struct pf_kernel *k)
{
	struct instance in = INSTANCE_INIT;
	int slot, n, reaped = 0, err = 0;
	char p[64];

	for (slot = 0; slot < PF_MAX_INSTANCES; slot++) {
		/* held: a live launcher or daemon keeps its own links */
		if (instance_take_slot(&in, slot))
			continue;
		n = instance_reap_stale(k, &in, k->parent);
		if (n < 0 && !err)
			err = n;
		reaped += n > 0 ? n : 0;
		snprintf(p, sizeof(p), "%s/%d.json", INSTANCE_DAEMON_DIR, slot);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%d.seq", INSTANCE_DAEMON_DIR, slot);
		unlink(p);
		instance_release(k, &in);
	}
	return err ?: reaped;
}

/* the kernel's internal ENOTSUPP: a map type without batch operations */
#define KERNEL_ENOTSUPP 524

/*
 * Write n entries of an array of elements of stride bytes, each holding its
 * key at key_off and its value at val_off, into map_fd: with batch, in one
 * BPF_MAP_UPDATE_BATCH when the map has it (an LPM trie of 10 000
 * destinations: 18 ms, against 27 ms for one update each), else one update
 * each. The batch takes no BPF_NOEXIST (the kernel refuses any element flag
 * but BPF_F_LOCK there); nothing of this slot and generation is in the map
 * (see the callers) and the compiler makes every key once, so none is
 * replaced. 0 or -errno; what was written stays, for the caller to purge.
 */
static int write_entries(int map_fd, const void *elems, size_t n, size_t stride, size_t key_off,
			 size_t key_size, size_t val_off, size_t val_size, bool batch)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	const char *e = elems;
	char *keys, *vals;
	__u32 count = (__u32)n;
	size_t i;
	int err;

	if (!n)
		return 0;
	keys = malloc(n * key_size);
	vals = malloc(n * val_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(keys + i * key_size, e + i * stride + key_off, key_size);
		memcpy(vals + i * val_size, e + i * stride + val_off, val_size);
	}
	err = batch && bpf_map_update_batch(map_fd, keys, vals, &count, &opts) ? -errno : 0;
	if (batch && err != -EINVAL && err != -KERNEL_ENOTSUPP && err != -EOPNOTSUPP)
		goto out;
	/* no batch, or none for this map type here: one at a time (count: how many went in) */
	for (err = 0, i = count < n ? count : 0; !err && i < n; i++)
		if (bpf_map_update_elem(map_fd, keys + i * key_size, vals + i * val_size,
					BPF_NOEXIST))
			err = -errno;
out:
	free(keys);
	free(vals);
	return err;
}

/* Write c's entries; on failure, remove what was written. */
static int write_rules(const struct pf_kernel *k, const struct compiled *c)
{
	struct key_filter staged = {.slot = c->slot, .gen = c->gen};
	int err;

	/*
	 * Batches only where they count: a policy's trees and anchors are tens
	 * of entries, and the file programs look them up at every open.
	 * NEEDSWORK: with batches for them too, one run in seven of
	 * tests/vm/test_swap.sh (Linux 6.1) hung in the guest's kernel, a soft
	 * lockup in the agent's task while policies were swapped; not
	 * explained, and not seen without them.
	 */
	err = write_entries(k->trees_fd, c->trees, c->n_trees, sizeof(*c->trees),
			    offsetof(struct compiled_tree, key), sizeof(c->trees->key),
			    offsetof(struct compiled_tree, val), sizeof(c->trees->val), false);
	if (!err)
		err = write_entries(k->anchors_fd, c->anchors, c->n_anchors, sizeof(*c->anchors),
				    offsetof(struct compiled_anchor, key), sizeof(c->anchors->key),
				    offsetof(struct compiled_anchor, object),
				    sizeof(c->anchors->object), false);
	if (!err)
		err = write_entries(k->net_fd, c->nets, c->n_nets, sizeof(*c->nets),
				    offsetof(struct compiled_net, key), sizeof(c->nets->key),
				    offsetof(struct compiled_net, val), sizeof(c->nets->val), true);
	if (err)
		purge_rules(k, &staged);
	return err;
}

int instance_install(const struct pf_kernel *k, struct instance *in, const struct compiled *c)
{
	struct pf_instance val = {
		.slot = in->slot, .flags = in->flags, .gen = c->gen, .sockets = in->sockets};
	uint32_t slot = in->slot, ring_id;
	int err;

	if (c->slot != slot)
		return -EINVAL;
	err = purge_slot(k, slot);
	if (err)
		return err;
	err = write_rules(k, c);
	if (err)
		return err;

	in->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "pf_ring", 0, 0, PF_RINGBUF_SIZE, NULL);
	if (in->ring_fd < 0)
		return -errno;
	/* guarded before the programs can write to it; purge_slot unguards it */
	err = loader_guard(k, PF_GUARD_MAP, in->ring_fd, &ring_id);
	if (err)
		return err;
	if (bpf_map_update_elem(k->rings_fd, &slot, &in->ring_fd, BPF_ANY)) {
		err = -errno;
		loader_unguard(k, PF_GUARD_MAP, ring_id);
		return err;
	}

	if (bpf_map_update_elem(k->instances_fd, &in->cgroup_id, &val, BPF_NOEXIST))
		return -errno;
	in->gen = c->gen;
	return 0;
}

int instance_stage(const struct pf_kernel *k, const struct instance *in, const struct compiled *c)
{
	struct key_filter stale = {.slot = c->slot, .gen = c->gen};
	int err;

	if (c->slot != (uint32_t)in->slot || c->gen == in->gen)
		return -EINVAL;
	/* a failed apply may have left some: they would join the new rules */
	err = purge_rules(k, &stale);
	return err ?: write_rules(k, c);
}

int instance_switch(const struct pf_kernel *k, struct instance *in, uint32_t gen, uint32_t flags,
		    uint32_t sockets)
{
	struct pf_instance val = {.slot = in->slot, .flags = flags, .gen = gen, .sockets = sockets};

	/*
	 * One update of an element of a map without preallocation: the
	 * kernel links in a new element and frees the old one after an RCU
	 * grace period, so a program holding the old value finishes with it.
	 */
	if (bpf_map_update_elem(k->instances_fd, &in->cgroup_id, &val, BPF_EXIST))
		return -errno;
	in->gen = gen;
	in->flags = flags;
	in->sockets = sockets;
	return 0;
}

/*
 * Wait until every BPF program that may have read an instance value
 * replaced before this call has returned. Programs run inside an RCU
 * read-side section, so one grace period is enough; membarrier's
 * MEMBARRIER_CMD_GLOBAL is a synchronize_rcu() (as libbpf's selftests use
 * it, kern_sync_rcu()), except on one CPU, and on nohz_full kernels, where
 * it is refused.
 */
static void wait_readers(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0 && ncpu != 1)
		return;
	/* NEEDSWORK: no grace period to wait for; a reader preempted past the pause denies once */
	usleep(READERS_PAUSE_US);
}

int instance_purge_gen(const struct pf_kernel *k, const struct instance *in, uint32_t gen)
{
	struct key_filter old = {.slot = in->slot, .gen = gen};

	if (gen == in->gen)
		return -EBUSY;
	/* a decision that read the old value before the switch still uses its rules */
	wait_readers();
	return purge_rules(k, &old);
}

void instance_release(const struct pf_kernel *k, struct instance *in)
{
	if (in->slot >= 0 && k->instances_fd >= 0)
		purge_slot(k, in->slot);
	if (in->ring_fd >= 0)
		close(in->ring_fd);
	if (in->slot_lock_fd >= 0)
		close(in->slot_lock_fd);
	in->ring_fd = -1;
	in->slot_lock_fd = -1;
	in->slot = -1;
}
