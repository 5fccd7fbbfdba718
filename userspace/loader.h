/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loader.h - load, attach and pin pinfold's kernel programs, or adopt the
 * ones already pinned, and hand out the shared maps.
 *
 * State lives under PF_PIN_DIR: the maps of bpf/common.bpf.h, pinned by
 * name, and one link per attached program (link_<program>). Links stay
 * attached after the loading process exits.
 */
#ifndef PINFOLD_LOADER_H
#define PINFOLD_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#define PF_BPFFS "/sys/fs/bpf"
#define PF_PIN_DIR PF_BPFFS "/pinfold"
#define PF_SECURITYFS "/sys/kernel/security"

#define LOADER_MAX_LINKS 64

struct pf_kernel {
	int config_fd;
	int instances_fd;
	int trees_fd;
	int anchors_fd;
	int net_fd;
	int rings_fd;
	int stats_fd;
	int lost_fd;
	int seq_fd;
	int guard_fd;      /* pf_guarded: what no task but pinfold may open */
	char parent[4096]; /* pinfold's parent cgroup path */
	uint64_t parent_id;
	int link_fds[LOADER_MAX_LINKS]; /* held: unpinning cannot detach them */
	int n_links;
	bool files_enforced; /* BPF LSM programs attached */
	char files_why[256]; /* when not: why, in one clause */
	char files_how[256]; /* and how to enable them, in one clause */
};

#define PF_KERNEL_INIT                                                                             \
	{                                                                                          \
		.config_fd = -1, .instances_fd = -1, .trees_fd = -1, .anchors_fd = -1,             \
		.net_fd = -1, .rings_fd = -1, .stats_fd = -1, .lost_fd = -1, .seq_fd = -1,         \
		.guard_fd = -1                                                                     \
	}

/*
 * Mount what is missing (bpffs, securityfs), make sure the parent cgroup
 * exists, then adopt the pinned programs or load, attach and pin them.
 * Network programs must attach, or this fails. File programs are attached
 * when the kernel allows BPF LSM; otherwise k->files_enforced is false and
 * k->files_why says why. The caller holds every link until loader_close, so
 * that an unload meanwhile cannot detach what confines its agent. 0 or
 * -errno; msg says what failed.
 */
int loader_open(struct pf_kernel *k, char *msg, size_t msg_len);

void loader_close(struct pf_kernel *k);

/*
 * Unpin everything; links nobody holds detach. Refuses with -EBUSY while
 * instances are registered, unless force: then running instances stay
 * confined by the links their launchers hold, until they end.
 */
int loader_unload(bool force, char *msg, size_t msg_len);

/*
 * Add the map, program or link (PF_GUARD_*) of descriptor fd to what no
 * task but pinfold may open (pf_guarded), its id into *id; or remove
 * object id from it. 0 or -errno.
 */
int loader_guard(const struct pf_kernel *k, uint32_t kind, int fd, uint32_t *id);
int loader_unguard(const struct pf_kernel *k, uint32_t kind, uint32_t id);

/* Sum of a per-CPU __u64 counter; 0 or -errno. */
int loader_percpu_sum(int map_fd, uint32_t key, uint64_t *sum);

/* Route libbpf's messages: 0 quiet, 1 warnings, 2 all. */
void loader_set_verbosity(int level);

#endif /* PINFOLD_LOADER_H */
