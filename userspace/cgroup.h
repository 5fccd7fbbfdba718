/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup.h - cgroup v2: find the mount, make pinfold's parent and one
 * cgroup per agent instance, and move a task into it.
 */
#ifndef PINFOLD_CGROUP_H
#define PINFOLD_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#define PF_PARENT_CGROUP "pinfold"

/*
 * The cgroup2 mount point, read from /proc/self/mountinfo, into buf.
 * 0, or -ENOENT when no cgroup2 filesystem is mounted.
 */
int cgroup_find_mount(char *buf, size_t len);

/* The kernel's id of the cgroup at path (its kernfs node id); 0 or -errno. */
int cgroup_id(const char *path, uint64_t *id);

/*
 * Make sure pinfold's parent cgroup exists below the cgroup2 mount; put its
 * path, id and level (depth below the root, which is 0) in the out values.
 */
int cgroup_parent(char *path, size_t len, uint64_t *id, uint32_t *level);

/* Create the instance cgroup name below parent; its path into buf. */
int cgroup_instance_create(const char *parent, const char *name, char *buf, size_t len);

/*
 * Kill every task left in the instance cgroup, wait (bounded) until it is
 * empty, and remove it. 0 or -errno.
 */
int cgroup_instance_destroy(const char *path);

/* An O_WRONLY fd on path/cgroup.procs, for a child to join with "0". */
int cgroup_procs_open(const char *path);

/*
 * Is process pid in a cgroup below parent (a path under the cgroup2
 * mount)? 1 or 0, or -errno when that cannot be told.
 */
int cgroup_pid_below(const char *parent, pid_t pid);

#endif /* PINFOLD_CGROUP_H */
