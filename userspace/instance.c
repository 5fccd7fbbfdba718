// SPDX-License-Identifier: GPL-2.0-only
/*
 * instance.c - register and remove confined instances in the kernel maps.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "instance.h"

#define PF_RUN_DIR "/run/pinfold"
#define SLOT_DIR PF_RUN_DIR "/slots"
#define KEY_MAX 64              /* larger than any pinfold map key */
#define READERS_PAUSE_US 100000 /* see wait_readers */
#define TMP_MAX_DEPTH 128       /* directories below a private tmp that removal follows */
#define TMP_REMOVE_PASSES 3     /* readdir need not show names made during the walk */

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

int instance_acquire_slot(struct instance *in)
{
	char p[64];
	int slot, fd, err;

	/* others may pass through, to their private tmp; slots stay root's */
	err = make_dir(PF_RUN_DIR, 0711);
	if (err)
		return err;
	if (mkdir(SLOT_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;

	for (slot = 0; slot < PF_MAX_INSTANCES; slot++) {
		snprintf(p, sizeof(p), "%s/%d", SLOT_DIR, slot);
		fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			in->slot = slot;
			in->slot_lock_fd = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

/* ---- private temporary directories ---- */

static int remove_at(int dirfd, const char *name, dev_t dev, int depth);

/* Remove every entry of the directory open as fd; 0 or -errno. */
static int empty_dir(int fd, dev_t dev, int depth)
{
	struct dirent *de;
	int err = 0, pass, removed;
	DIR *d;

	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	for (pass = 0; pass < TMP_REMOVE_PASSES; pass++) {
		removed = 0;
		rewinddir(d);
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			err = remove_at(dirfd(d), de->d_name, dev, depth + 1) ?: err;
			removed++;
		}
		if (!removed || err)
			break;
	}
	closedir(d);
	return err;
}

/*
 * Remove name below dirfd and everything under it: no symbolic link is
 * followed, no other filesystem (st_dev other than dev) entered. 0 or
 * -errno, the first error met; removal goes on past it.
 */
static int remove_at(int dirfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	int fd, err;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;
	if (depth >= TMP_MAX_DEPTH)
		return -ELOOP;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = empty_dir(fd, dev, depth);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		err = err ?: -errno;
	return err;
}

/* Remove what earlier holders of slot left below the tmp directory open as base. */
static int remove_stale_tmp(int base, dev_t dev, int slot)
{
	char prefix[16];
	struct dirent *de;
	int fd, err = 0;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%d.", slot);
	fd = dup(base);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			err = remove_at(base, de->d_name, dev, 0) ?: err;
	closedir(d);
	return err;
}

int instance_tmp_create(struct instance *in, const char *name, uid_t uid, gid_t gid)
{
	/* the NUL that sizeof counts makes room for the slash */
	char leaf[sizeof(in->tmp) - sizeof(INSTANCE_TMP_DIR)];
	struct stat st;
	int base, err;

	in->tmp[0] = '\0';
	err = make_dir(INSTANCE_TMP_DIR, 0711);
	if (err)
		return err;
	base = open(INSTANCE_TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (base < 0)
		return -errno;
	if (fstat(base, &st) < 0) {
		err = -errno;
		goto out;
	}
	err = remove_stale_tmp(base, st.st_dev, in->slot);
	if (err)
		goto out;

	if ((size_t)snprintf(leaf, sizeof(leaf), "%d.%s", in->slot, name) >= sizeof(leaf) ||
	    strchr(leaf, '/')) {
		err = -ENAMETOOLONG;
		goto out;
	}
	if (mkdirat(base, leaf, 0700) < 0) {
		err = -errno;
		goto out;
	}
	/* mode and owner on the new name: nobody but root can make one here */
	if (fchownat(base, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(base, leaf, 0700, 0) < 0) {
		err = -errno;
		remove_at(base, leaf, st.st_dev, 0);
		goto out;
	}
	snprintf(in->tmp, sizeof(in->tmp), "%s/%s", INSTANCE_TMP_DIR, leaf);
out:
	close(base);
	return err;
}

int instance_tmp_remove(struct instance *in)
{
	struct stat st;
	int err;

	if (!in->tmp[0])
		return 0;
	if (stat(INSTANCE_TMP_DIR, &st) < 0)
		return -errno;
	err = remove_at(AT_FDCWD, in->tmp, st.st_dev, 0);
	if (!err)
		in->tmp[0] = '\0';
	return err;
}

/* Which keys of pf_trees and pf_net to delete: a slot's, of one or every generation. */
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

/* Delete the pf_trees and pf_net entries f matches. */
static int purge_rules(const struct pf_kernel *k, const struct key_filter *f)
{
	int err;

	err = purge_keys(k->trees_fd, sizeof(struct pf_tree_key), tree_of, f);
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
	int err = 0;

	/* the cgroup entries first: a task is then unknown, and denied */
	while (bpf_map_get_next_key(k->instances_fd, first ? NULL : &cur, &next) == 0) {
		first = false;
		cur = next;
		if (bpf_map_lookup_elem(k->instances_fd, &next, &val) == 0 && val.slot == slot)
			bpf_map_delete_elem(k->instances_fd, &next);
	}
	if (bpf_map_delete_elem(k->rings_fd, &slot) && errno != ENOENT)
		err = -errno;
	err = purge_rules(k, &every) ?: err;

	zeros = ncpu > 0 ? calloc(ncpu, sizeof(*zeros)) : NULL;
	if (!zeros)
		return err ?: -ENOMEM;
	if (bpf_map_update_elem(k->lost_fd, &slot, zeros, BPF_ANY) && !err)
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

/* Write c's entries; on failure, remove what was written. */
static int write_rules(const struct pf_kernel *k, const struct compiled *c)
{
	struct key_filter staged = {.slot = c->slot, .gen = c->gen};
	size_t i;
	int err = 0;

	for (i = 0; !err && i < c->n_trees; i++)
		if (bpf_map_update_elem(k->trees_fd, &c->trees[i].key, &c->trees[i].val,
					BPF_NOEXIST))
			err = -errno;
	for (i = 0; !err && i < c->n_nets; i++)
		if (bpf_map_update_elem(k->net_fd, &c->nets[i].key, &c->nets[i].val, BPF_NOEXIST))
			err = -errno;
	if (err)
		purge_rules(k, &staged);
	return err;
}

int instance_install(const struct pf_kernel *k, struct instance *in, const struct compiled *c)
{
	struct pf_instance val = {.slot = in->slot, .flags = in->flags, .gen = c->gen};
	uint32_t slot = in->slot;
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
	if (bpf_map_update_elem(k->rings_fd, &slot, &in->ring_fd, BPF_ANY))
		return -errno;

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

int instance_switch(const struct pf_kernel *k, struct instance *in, uint32_t gen, uint32_t flags)
{
	struct pf_instance val = {.slot = in->slot, .flags = flags, .gen = gen};

	/*
	 * One update of an element of a map without preallocation: the
	 * kernel links in a new element and frees the old one after an RCU
	 * grace period, so a program holding the old value finishes with it.
	 */
	if (bpf_map_update_elem(k->instances_fd, &in->cgroup_id, &val, BPF_EXIST))
		return -errno;
	in->gen = gen;
	in->flags = flags;
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
