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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "instance.h"

#define SLOT_DIR "/run/pinfold/slots"
#define KEY_MAX 64 /* larger than any pinfold map key */

int instance_acquire_slot(struct instance *in)
{
	char p[64];
	int slot, fd;

	if (mkdir("/run/pinfold", 0700) < 0 && errno != EEXIST)
		return -errno;
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

/*
 * Delete every key of map_fd that belongs to slot. Keys are collected
 * first: deleting while walking could restart the walk.
 */
static int purge_keys(int map_fd, size_t key_size, bool (*mine)(const void *key, uint32_t slot),
		      uint32_t slot)
{
	unsigned char cur[KEY_MAX], next[KEY_MAX];
	unsigned char *keys = NULL, *grown;
	size_t n = 0, cap = 0, i;
	bool first = true;
	int err = 0;

	while (bpf_map_get_next_key(map_fd, first ? NULL : cur, next) == 0) {
		first = false;
		memcpy(cur, next, key_size);
		if (!mine(next, slot))
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

static bool tree_of(const void *key, uint32_t slot)
{
	const struct pf_tree_key *k = key;

	return k->slot == slot;
}

static bool net_of(const void *key, uint32_t slot)
{
	const struct pf_net_key *k = key;

	return k->slot == htonl(slot);
}

/* Remove the slot's rules, cgroup entries, ring and loss counter. */
static int purge_slot(const struct pf_kernel *k, uint32_t slot)
{
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
	err = purge_keys(k->trees_fd, sizeof(struct pf_tree_key), tree_of, slot) ?: err;
	err = purge_keys(k->net_fd, sizeof(struct pf_net_key), net_of, slot) ?: err;

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

int instance_install(const struct pf_kernel *k, struct instance *in, const struct compiled *c)
{
	struct pf_instance val = {.slot = in->slot, .flags = in->flags};
	uint32_t slot = in->slot;
	size_t i;
	int err;

	err = purge_slot(k, slot);
	if (err)
		return err;

	for (i = 0; i < c->n_trees; i++)
		if (bpf_map_update_elem(k->trees_fd, &c->trees[i].key, &c->trees[i].val,
					BPF_NOEXIST))
			return -errno;
	for (i = 0; i < c->n_nets; i++)
		if (bpf_map_update_elem(k->net_fd, &c->nets[i].key, &c->nets[i].val, BPF_NOEXIST))
			return -errno;

	in->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "pf_ring", 0, 0, PF_RINGBUF_SIZE, NULL);
	if (in->ring_fd < 0)
		return -errno;
	if (bpf_map_update_elem(k->rings_fd, &slot, &in->ring_fd, BPF_ANY))
		return -errno;

	if (bpf_map_update_elem(k->instances_fd, &in->cgroup_id, &val, BPF_NOEXIST))
		return -errno;
	return 0;
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
