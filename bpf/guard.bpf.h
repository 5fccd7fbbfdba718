/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guard.bpf.h - who is pinfold, and what of the kernel is pinfold's: the
 * judgements of the guard ("The guard" in bpf/pinfold.h), for the LSM
 * programs of files.bpf.c. Include after common.bpf.h.
 *
 * NEEDSWORK: the executable is trusted by its inode; a root process that
 * rewrites that file in place (its inode stays) or runs it with
 * LD_PRELOAD or under a debugger acts as pinfold (docs/limitations.md)
 */
#ifndef PINFOLD_GUARD_BPF_H
#define PINFOLD_GUARD_BPF_H

/* mounts looked at in the tree of one unmount; a larger tree is refused */
#define PF_UMOUNT_STEPS 4096

/* prctl(2) options (linux/prctl.h), which vmlinux.h does not carry */
#define PF_PR_SET_MM 35
#define PF_PR_SET_MM_EXE_FILE 13
#define PF_PR_SET_MM_MAP 14

/* pf_config while a loader has recorded pinfold's executable, else NULL */
static __always_inline const struct pf_config *pf_guard_config(void)
{
	__u32 zero = 0;
	const struct pf_config *cfg = bpf_map_lookup_elem(&pf_config, &zero);

	return cfg && cfg->exe_ino ? cfg : NULL;
}

/* Whether task t runs pinfold's executable (a task without memory does not). */
static __always_inline bool pf_runs_pinfold(const struct pf_config *cfg, struct task_struct *t)
{
	struct inode *exe = BPF_CORE_READ(t, mm, exe_file, f_inode);

	if (!exe)
		return false;
	if (BPF_CORE_READ(exe, i_ino) != cfg->exe_ino ||
	    BPF_CORE_READ(exe, i_sb, s_dev) != cfg->exe_dev)
		return false;
	/* an inode number freed with its file and given to a new one */
	return !(cfg->guard_flags & PF_GUARD_EXE_GEN) ||
	       BPF_CORE_READ(exe, i_generation) == cfg->exe_gen;
}

/* Whether the current task is below pinfold's parent cgroup: an agent. */
static __always_inline bool pf_below_parent(const struct pf_config *cfg)
{
	return bpf_get_current_ancestor_cgroup_id(cfg->parent_level) == cfg->parent_cgroup_id;
}

/*
 * Whether the guard judges the current task: one with memory (not a
 * kernel thread) that does not run pinfold's executable, or that runs it
 * confined (an agent may be granted exec on it, or a launcher step into
 * its instance): inside an instance the binary is whatever the agent
 * makes of it.
 */
static __always_inline bool pf_guard_judges(const struct pf_config *cfg)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (!BPF_CORE_READ(task, mm))
		return false;
	return pf_below_parent(cfg) || !pf_runs_pinfold(cfg, task);
}

/* Count one refusal of the guard and return its errno. */
static __always_inline int pf_guard_refuse(void)
{
	pf_count(PF_STAT_GUARD_DENIED);
	return -EPERM;
}

/* Refuse a descriptor of object id of kind (enum pf_guard_kind) when it is pinfold's. */
static __always_inline int pf_guard_object(__u32 kind, __u32 id)
{
	struct pf_guard_key key = {.kind = kind, .id = id};
	const struct pf_config *cfg = pf_guard_config();

	if (!cfg || !bpf_map_lookup_elem(&pf_guarded, &key))
		return 0;
	return pf_guard_judges(cfg) ? pf_guard_refuse() : 0;
}

/* Whether inode is the pin directory. */
static __always_inline bool pf_is_pin_dir(const struct pf_config *cfg, struct inode *inode)
{
	return inode && BPF_CORE_READ(inode, i_ino) == cfg->pins_ino &&
	       BPF_CORE_READ(inode, i_sb, s_dev) == cfg->pins_dev;
}

/*
 * Refuse a rename of which either end is the pin directory: moved, every
 * pin would leave the name pinfold finds it by.
 */
static __always_inline int pf_guard_rename(struct dentry *from, struct dentry *to)
{
	const struct pf_config *cfg = pf_guard_config();

	if (!cfg)
		return 0;
	if (!pf_is_pin_dir(cfg, BPF_CORE_READ(from, d_inode)) &&
	    !pf_is_pin_dir(cfg, BPF_CORE_READ(to, d_inode)))
		return 0;
	return pf_guard_judges(cfg) ? pf_guard_refuse() : 0;
}

/*
 * Refuse ptrace-class access to task t when it runs pinfold's executable,
 * confined or not (a launcher in its agent's instance is out of the
 * agent's reach too).
 */
static __always_inline int pf_guard_task(struct task_struct *t)
{
	const struct pf_config *cfg = pf_guard_config();

	if (!cfg || !pf_runs_pinfold(cfg, t))
		return 0;
	return pf_guard_judges(cfg) ? pf_guard_refuse() : 0;
}

/*
 * State of a walk through the tree of mounts below (and including) root,
 * depth first: down to the first child, else on to the next sibling,
 * else up. found: a mount of the pins' filesystem; done: the whole tree
 * was seen without one.
 */
struct pf_umount_walk {
	struct mount *root;
	struct mount *m;
	__u64 pins_dev;
	__u8 up; /* m's subtree is done: go on to its next sibling */
	__u8 found;
	__u8 done;
};

static long pf_umount_step(__u32 i, void *data)
{
	struct pf_umount_walk *w = data;
	struct mount *m = w->m, *parent;
	__u64 children = bpf_core_field_offset(struct mount, mnt_mounts);
	__u64 sibling = bpf_core_field_offset(struct mount, mnt_child);
	struct list_head *next;

	if (!w->up) {
		if (BPF_CORE_READ(m, mnt.mnt_sb, s_dev) == w->pins_dev) {
			w->found = 1;
			return 1;
		}
		next = BPF_CORE_READ(m, mnt_mounts.next);
		if (next != (void *)m + children) {
			w->m = (void *)next - sibling;
			return 0;
		}
		w->up = 1;
	}
	if (m == w->root) {
		w->done = 1;
		return 1;
	}
	parent = BPF_CORE_READ(m, mnt_parent);
	next = BPF_CORE_READ(m, mnt_child.next);
	if (next != (void *)parent + children) {
		w->m = (void *)next - sibling;
		w->up = 0;
	} else {
		w->m = parent;
	}
	return 0;
}

/*
 * Refuse unmounting m when its tree holds a mount of the pins' filesystem:
 * the filesystem itself, a bind mount of it (which keeps it alive too),
 * or a mount above it, which a lazy unmount (MNT_DETACH) takes with it.
 * The walk reads the tree without its lock: a tree too large to walk, or
 * one changing under the walk, is refused.
 */
static __always_inline int pf_guard_umount(struct mount *m)
{
	const struct pf_config *cfg = pf_guard_config();
	struct pf_umount_walk w = {.root = m, .m = m};

	if (!cfg || !pf_guard_judges(cfg))
		return 0;
	w.pins_dev = cfg->pins_dev;
	bpf_loop(PF_UMOUNT_STEPS, pf_umount_step, &w, 0);
	return w.done && !w.found ? 0 : pf_guard_refuse();
}

#endif /* PINFOLD_GUARD_BPF_H */
