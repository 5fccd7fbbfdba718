/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * instance.h - one confined agent instance in the kernel maps: its slot,
 * its rules, its ring buffer and its cgroup entry.
 */
#ifndef PINFOLD_INSTANCE_H
#define PINFOLD_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loader.h"
#include "policy/compile.h"

/* Private temporary directories: INSTANCE_TMP_DIR/SLOT.NAME */
#define INSTANCE_TMP_DIR "/run/pinfold/tmp"
/* The daemon's instances, SLOT.json each: their slots are never taken by others */
#define INSTANCE_DAEMON_DIR "/run/pinfold/daemon"

struct instance {
	int slot;         /* -1 until acquired */
	int slot_lock_fd; /* holds the slot while open */
	int ring_fd;
	uint64_t cgroup_id;
	uint32_t flags;   /* PF_INST_*: in force, or to install */
	uint32_t gen;     /* the generation in force; 0 before install */
	uint32_t sockets; /* PF_SOCK_*: in force, or to install */
	char tmp[256];    /* the private temporary directory; "" when none */
};

#define INSTANCE_INIT                                                                              \
	{                                                                                          \
		.slot = -1, .slot_lock_fd = -1, .ring_fd = -1                                      \
	}

/* PF_INST_MODE_* for an agent's mode (enum policy_mode). */
uint32_t instance_mode_flags(unsigned mode);

/*
 * Take a free slot. Slots are held by a lock file under /run/pinfold, so a
 * crashed holder frees its slot; entries it left are purged on reuse.
 * 0, -EAGAIN when all PF_MAX_INSTANCES slots are taken, or -errno.
 */
int instance_acquire_slot(struct instance *in);

/* Take slot, the daemon's own (INSTANCE_DAEMON_DIR); 0, -EBUSY when held, or -errno. */
int instance_take_slot(struct instance *in, int slot);

/*
 * Create the instance's private temporary directory, mode 0700, owned by
 * uid and gid, as INSTANCE_TMP_DIR/SLOT.name (its path into in->tmp),
 * after removing what an earlier holder of the slot left there. 0 or
 * -errno.
 */
int instance_tmp_create(struct instance *in, const char *name, uid_t uid, gid_t gid);

/* Is tmp one plain name right below INSTANCE_TMP_DIR (no "/", ".", "..")? */
bool instance_tmp_valid(const char *tmp);

/*
 * Remove the private temporary directory and everything below it, without
 * following symbolic links or entering other filesystems. 0 or -errno
 * (the directory stays named in in->tmp then).
 */
int instance_tmp_remove(struct instance *in);

/*
 * Install the compiled rules (generation c->gen), a fresh ring buffer and
 * finally the cgroup entry with in->flags and in->sockets, in that order, so that no task
 * of the cgroup is ever judged by a half-written instance. 0 or -errno.
 */
int instance_install(const struct pf_kernel *k, struct instance *in, const struct compiled *c);

/*
 * Apply a new policy to a running instance in three steps (see "Generations"
 * in bpf/pinfold.h):
 *   instance_stage      write c's entries under c->gen, which is not in force;
 *   instance_switch     replace the cgroup's pf_instances value: from here on
 *                       every decision reads the new generation;
 *   instance_purge_gen  delete the old generation's entries.
 * A failed stage removes what it wrote; the old generation stays in force.
 * Each returns 0 or -errno.
 */
int instance_stage(const struct pf_kernel *k, const struct instance *in, const struct compiled *c);
int instance_switch(const struct pf_kernel *k, struct instance *in, uint32_t gen, uint32_t flags,
		    uint32_t sockets);
int instance_purge_gen(const struct pf_kernel *k, const struct instance *in, uint32_t gen);

/*
 * Kill and remove the cgroups of an earlier holder of in's slot, below
 * parent: a `pinfold run` that was killed leaves its agent without an audit
 * writer, and its tasks would lose their rules on reuse anyway. Returns
 * how many cgroups were reaped, or -errno.
 */
int instance_reap_stale(const struct pf_kernel *k, const struct instance *in, const char *parent);

/*
 * Before an unload: kill the cgroups of every slot no live process holds
 * (a killed daemon's instances, adopted or not; a killed run's), and
 * remove their entries, so that no agent outlives the programs that
 * confine it. Slots that are held keep their links. Returns how many
 * cgroups were killed, or -errno.
 */
int instance_reap_unheld(const struct pf_kernel *k);

/*
 * Remove everything instance_install and later generations wrote, every
 * generation's entries of the slot, and release the slot. The private
 * temporary directory is the caller's to remove, once the agent is gone.
 */
void instance_release(const struct pf_kernel *k, struct instance *in);

#endif /* PINFOLD_INSTANCE_H */
