/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * instance.h - one confined agent instance in the kernel maps: its slot,
 * its rules, its ring buffer and its cgroup entry.
 */
#ifndef PINFOLD_INSTANCE_H
#define PINFOLD_INSTANCE_H

#include <stdint.h>

#include "loader.h"
#include "policy/compile.h"

struct instance {
	int slot;         /* -1 until acquired */
	int slot_lock_fd; /* holds the slot while open */
	int ring_fd;
	uint64_t cgroup_id;
	uint32_t flags; /* PF_INST_* */
};

#define INSTANCE_INIT                                                                              \
	{                                                                                          \
		.slot = -1, .slot_lock_fd = -1, .ring_fd = -1                                      \
	}

/*
 * Take a free slot. Slots are held by a lock file under /run/pinfold, so a
 * crashed holder frees its slot; entries it left are purged on reuse.
 * 0, -EAGAIN when all PF_MAX_INSTANCES slots are taken, or -errno.
 */
int instance_acquire_slot(struct instance *in);

/*
 * Install the compiled rules, a fresh ring buffer and finally the cgroup
 * entry, in that order, so that no task of the cgroup is ever judged by a
 * half-written instance. 0 or -errno.
 */
int instance_install(const struct pf_kernel *k, struct instance *in, const struct compiled *c);

/*
 * Kill and remove the cgroups of an earlier holder of in's slot, below
 * parent: a `pinfold run` that was killed leaves its agent without an audit
 * writer, and its tasks would lose their rules on reuse anyway. Returns
 * how many cgroups were reaped, or -errno.
 */
int instance_reap_stale(const struct pf_kernel *k, const struct instance *in, const char *parent);

/* Remove everything instance_install wrote, and release the slot. */
void instance_release(const struct pf_kernel *k, struct instance *in);

#endif /* PINFOLD_INSTANCE_H */
