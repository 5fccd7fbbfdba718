// SPDX-License-Identifier: GPL-2.0-only
/*
 * files.bpf.c - file enforcement: BPF LSM programs judge every open (to
 * read, write or execute), executable mapping, create, unlink, rename and
 * link of an instance by inode ancestry, each by the one right it needs (the matching rules are
 * in bpf/pinfold.h, the needs in bpf/decide.h). Mounts and user namespaces
 * are refused outright: a mount would lay any tree inside an allowed one,
 * and a user namespace would let an unprivileged agent mount. In audit and
 * record modes every denial is reported but not applied.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <asm-generic/errno-base.h>

#include "bpf/pinfold.h"
#include "bpf/common.bpf.h"
#include "bpf/decide.h"
#include "bpf/guard.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#ifndef FMODE_WRITE
#define FMODE_WRITE 0x2
#endif
#ifndef __FMODE_EXEC
#define __FMODE_EXEC 0x20
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif
#ifndef PROT_EXEC
#define PROT_EXEC 0x4
#endif
#ifndef VM_EXEC
#define VM_EXEC 0x4
#endif
#ifndef S_PRIVATE
#define S_PRIVATE (1 << 9) /* inode->i_flags: internal to the kernel, no path reaches it */
#endif

/*
 * Per-CPU room for a walk: too large for the 512-byte BPF stack. Counters
 * that bound writes live here too, not on the stack: the 6.1 verifier
 * checks a bpf_loop callback once, with the caller's stack as it is then,
 * and prunes loop states without tracking such counters precisely; either
 * way it takes a bounds check for dead code and removes it. A value loaded
 * from a map is unknown to it, so the check stays.
 */
struct pf_scratch {
	struct dentry *dentries[PF_WALK_DEPTH]; /* a path's, leaf first */
	__u64 n;                                /* dentries recorded */
	__u64 off;                              /* path bytes written */
	/* Twice the path size, so that a bounded offset plus a bounded copy
	 * always stays inside: the verifier checks both bounds apart. */
	char path[2 * PF_PATH_MAX];
};

/* pf_scratch: one walk's state */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);               /* 0 */
	__type(value, struct pf_scratch); /* walk state */
} pf_scratch SEC(".maps");

static __always_inline struct mount *pf_real_mount(struct vfsmount *mnt)
{
	return (void *)mnt - bpf_core_field_offset(struct mount, mnt);
}

static __always_inline struct vfsmount *pf_vfsmount(struct mount *m)
{
	return (void *)m + bpf_core_field_offset(struct mount, mnt);
}

#ifndef MNT_INTERNAL
#define MNT_INTERNAL 0x4000
#endif

/*
 * Whether mnt is one of the kernel's own mounts (memfd and shared memory,
 * pipes, sockets, anonymous inodes): no path reaches their files, whose
 * data is only what the agent wrote there or was handed. btf: mnt is of
 * BTF type, read directly (see pf_match_step_fs).
 */
static __always_inline bool pf_internal_mount(struct vfsmount *mnt, bool btf)
{
	return (btf ? mnt->mnt_flags : BPF_CORE_READ(mnt, mnt_flags)) & MNT_INTERNAL;
}

/*
 * The walks below are bpf_loop callbacks: each is verified once for any
 * position, where an unrolled loop would multiply the verifier's states.
 */

/* State of an ancestry walk. */
struct pf_walk {
	struct dentry *d;
	struct mount *m;
	struct pf_tree_key key;
	struct pf_tree tree; /* the deepest tree met, when found */
	__u32 steps;         /* taken by pf_match_step_fs */
	__u8 found;
	__u8 complete; /* no tree, and the walk reached its end */
};

/*
 * Look up (dev, ino) among w's trees: true, with w->tree set, when one is
 * there.
 */
static __always_inline bool pf_match_tree(struct pf_walk *w, __u64 dev, __u64 ino)
{
	struct pf_tree *t;

	w->key.dev = dev;
	w->key.ino = ino;
	t = bpf_map_lookup_elem(&pf_trees, &w->key);
	if (!t)
		return false;
	w->tree = *t;
	w->found = 1;
	return true;
}

/*
 * One step of the search for the deepest tree holding w->d. Within a
 * filesystem the walk follows d_parent, past the root of a bind mount, so
 * that where a tree is mounted never changes what its files are. At a
 * filesystem's root it steps to the mount point, unless the mount shows
 * only a subdirectory (a bind mount): its files were already walked to
 * their filesystem's root, and its mount point must not lend them a tree.
 * The pointers are read with BPF_CORE_READ: w->d may have no BTF type (a
 * mount point read so, or a caller's), and struct mount has none here.
 */
static long pf_match_step(__u32 i, void *data)
{
	struct pf_walk *w = data;
	/* locals: BPF_CORE_READ(w->d, ...) would relocate w's fields too */
	struct dentry *d = w->d;
	struct mount *m = w->m, *up;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct inode *inode = BPF_CORE_READ(d, d_inode);

	if (inode &&
	    pf_match_tree(w, BPF_CORE_READ(inode, i_sb, s_dev), BPF_CORE_READ(inode, i_ino)))
		return 1;
	if (d != parent) {
		w->d = parent;
		return 0;
	}
	up = BPF_CORE_READ(m, mnt_parent);
	if (up == m || BPF_CORE_READ(m, mnt.mnt_root) != d) {
		w->complete = 1;
		return 1;
	}
	w->d = BPF_CORE_READ(m, mnt_mountpoint);
	w->m = up;
	return 0;
}

/*
 * pf_match_step below a filesystem's root, for a w->d of BTF type (a
 * hook's argument, or loaded directly from one): the fields are direct
 * loads, which the JIT makes single loads (a fault reads 0, as the helper
 * would), where each BPF_CORE_READ is a helper call: five a level, the
 * larger part of a step's time. The parents of such a dentry have its type too. It stops,
 * before looking the root up, at the filesystem's root, where
 * pf_match_step goes on (with BPF_CORE_READ: mount points are read so).
 */
static long pf_match_step_fs(__u32 i, void *data)
{
	struct pf_walk *w = data;
	struct dentry *d = w->d;
	struct dentry *parent = d->d_parent;
	struct inode *inode;

	if (d == parent) {
		w->steps = i;
		return 1;
	}
	inode = d->d_inode;
	if (inode && pf_match_tree(w, inode->i_sb->s_dev, inode->i_ino))
		return 1;
	w->d = parent;
	return 0;
}

/*
 * Find the deepest tree holding w->d, within PF_WALK_STEPS steps: a
 * dentry of BTF type (btf) is walked with direct loads to its
 * filesystem's root, from where pf_match_step goes on with the steps
 * left. Either way each step looks up one dentry, or crosses a mount.
 *
 * NEEDSWORK: every open walks to the deepest tree anew, 0.3 to 0.5 us a
 * level under TCG. A cache would make it one lookup whatever the depth: a
 * directory's deepest tree (or none), in inode storage
 * (BPF_MAP_TYPE_INODE_STORAGE, 6.1 has it) keyed by the instance's slot
 * and generation, looked up at the parent directory first, a walk
 * stopping at the first directory that has one. It must be dropped
 * whenever a name above it changes what holds it: a rename of any
 * directory above (path_rename), a mount or unmount above it (in another
 * mount namespace too: the walk follows the dentry, not the mount), and a
 * new generation; missing any of these would let a file keep a tree it
 * left. Not done: that exactness is to be shown first.
 */
static __always_inline void pf_match(struct pf_walk *w, bool btf)
{
	w->steps = 0;
	if (btf) {
		w->steps = PF_WALK_STEPS; /* unless the root is met first */
		bpf_loop(PF_WALK_STEPS, pf_match_step_fs, w, 0);
		if (w->found)
			return;
	}
	if (w->steps < PF_WALK_STEPS)
		bpf_loop(PF_WALK_STEPS - w->steps, pf_match_step, w, 0);
}

/* State of a path walk; the count of dentries is s->n. */
struct pf_path_walk {
	struct dentry *d;
	struct mount *m;
	struct pf_scratch *s;
	__u8 complete; /* reached the root */
};

/*
 * One step of recording d's path as the task sees it (as d_path would),
 * leaf first: mounts are crossed at their own root.
 */
static long pf_path_walk_step(__u32 i, void *data)
{
	struct pf_path_walk *p = data;
	struct dentry *d = p->d;
	struct mount *m = p->m, *up;
	struct dentry *root = BPF_CORE_READ(m, mnt.mnt_root);
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	__u64 n;

	if (d == root || d == parent) {
		up = BPF_CORE_READ(m, mnt_parent);
		/* its own parent, yet not its mount's root: no path leads here. The
		 * name is all there is: "memfd:NAME" on an internal mount (as /proc
		 * shows it), or the top of a tree disconnected from its root. */
		if (d != root) {
			n = p->s->n;
			if (n < PF_WALK_DEPTH) {
				p->s->dentries[n & (PF_WALK_DEPTH - 1)] = d;
				p->s->n = n + 1;
			}
			p->complete = up == m;
			return 1;
		}
		if (up == m) {
			p->complete = 1;
			return 1;
		}
		p->d = BPF_CORE_READ(m, mnt_mountpoint);
		p->m = up;
		return 0;
	}
	n = p->s->n;
	if (n >= PF_WALK_DEPTH)
		return 1;
	p->s->dentries[n & (PF_WALK_DEPTH - 1)] = d;
	p->s->n = n + 1;
	p->d = parent;
	return 0;
}

/*
 * Write "/a/b/c" from the recorded dentries into the event. Offsets are
 * masked to PF_PATH_MAX - 1 and copies bounded by PF_NAME_MAX, which the
 * doubled scratch buffer absorbs; the offset goes through s->off so that
 * the verifier keeps the check that ends the path (see struct pf_scratch).
 */
static __always_inline void pf_path_build(struct pf_scratch *s, __u8 complete, struct pf_event *ev)
{
	__u8 truncated = complete ? 0 : PF_PATH_NO_ROOT;
	__u64 depth = s->n, off, at;
	__u32 i;
	long n;

	s->off = 0;
	for (i = 0; i < PF_WALK_DEPTH && i < depth; i++) {
		struct dentry *d = s->dentries[(depth - 1 - i) & (PF_WALK_DEPTH - 1)];
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);

		off = s->off;
		if (off > PF_PATH_MAX - 2) {
			truncated |= PF_PATH_CUT;
			break;
		}
		s->path[off & (PF_PATH_MAX - 1)] = '/';
		at = off + 1;
		n = bpf_probe_read_kernel_str(&s->path[at & (PF_PATH_MAX - 1)], PF_NAME_MAX, name);
		s->off = at + (n > 1 ? n - 1 : 0);
	}
	off = s->off;
	if (off > PF_PATH_MAX - 1) {
		off = PF_PATH_MAX - 1;
		truncated |= PF_PATH_CUT;
	}
	if (off == 0)
		s->path[off++] = '/';
	s->path[off & (PF_PATH_MAX - 1)] = '\0';
	ev->path_truncated = truncated;
	bpf_probe_read_kernel(ev->path, sizeof(ev->path), s->path);
	ev->path[PF_PATH_MAX - 1] = '\0';
}

/* The path of (d, mnt) as the task sees it, into ev (left empty without room). */
static __always_inline void pf_event_path(struct pf_event *ev, struct dentry *d,
					  struct vfsmount *mnt)
{
	__u32 zero = 0;
	struct pf_scratch *s = bpf_map_lookup_elem(&pf_scratch, &zero);
	struct pf_path_walk p = {.d = d, .m = pf_real_mount(mnt), .s = s};

	if (!s)
		return;
	s->n = 0;
	bpf_loop(PF_WALK_STEPS, pf_path_walk_step, &p, 0);
	pf_path_build(s, p.complete, ev);
}

/*
 * Judge one file action of instance inst (of cgroup cgid) on side of d (on
 * mount mnt), by the right it needs there (bpf/decide.h): 0 to allow,
 * -EACCES to deny. btf: d and mnt are of BTF type (pf_match).
 */
static __always_inline int pf_file_judge(const struct pf_instance *inst, __u64 cgid,
					 struct dentry *d, struct vfsmount *mnt, __u16 action,
					 __u8 side, bool btf)
{
	struct pf_walk w = {.d = d, .m = pf_real_mount(mnt)};
	__u32 need = pf_decide_need(action, side);
	const struct pf_tree *tree;
	struct pf_event *ev;
	struct inode *inode;
	__u8 reason, decision;
	bool required;

	/* the agent's own memory (a memfd it sized, reopened or was passed)
	 * is in no class; running it is exec all the same */
	if (need != PF_ACCESS_EXEC && pf_internal_mount(mnt, btf))
		return 0;
	w.key.slot = inst->slot;
	w.key.gen = inst->gen;
	pf_match(&w, btf);
	tree = w.found ? &w.tree : NULL;
	reason = pf_decide_file(tree, w.complete, need);
	decision = pf_decide_decision(reason);
	required = tree && (w.tree.audited & PF_AUDIT_REQUIRED);
	/* the writer cannot write records: an access that must be recorded
	 * is refused, whatever the mode, and the refusal says why */
	if (required && decision == PF_DECISION_ALLOW && (inst->flags & PF_INST_AUDIT_BLOCKED)) {
		decision = PF_DECISION_DENY;
		reason = PF_REASON_AUDIT;
	}
	if (decision == PF_DECISION_ALLOW && !(w.tree.audited & need) && !required &&
	    !pf_records_all(inst))
		return 0;

	ev = pf_event_reserve(inst, cgid, action, decision, reason,
			      pf_decide_file_rule(tree, need));
	if (!ev && required) {
		pf_count(PF_STAT_AUDIT_DENIED);
		return -EACCES;
	}
	if (ev) {
		pf_event_task(ev);
		inode = BPF_CORE_READ(d, d_inode);
		if (inode) {
			ev->dev = BPF_CORE_READ(inode, i_sb, s_dev);
			ev->ino = BPF_CORE_READ(inode, i_ino);
		}
		ev->side = side;
		if (tree)
			ev->object = tree->object;
		if (decision == PF_DECISION_DENY && pf_lenient(inst) && reason != PF_REASON_AUDIT)
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_path(ev, d, mnt);
		pf_event_submit(ev);
	}
	if (reason == PF_REASON_AUDIT)
		return -EACCES;
	return decision == PF_DECISION_ALLOW || pf_lenient(inst) ? 0 : -EACCES;
}

/*
 * Judge a hook's one file action of the current task, as pf_file_judge; d
 * and mnt of BTF type.
 */
static __always_inline int pf_file_decide(struct dentry *d, struct vfsmount *mnt, __u16 action,
					  __u8 side)
{
	struct pf_instance inst = {};
	__u64 cgid = 0;

	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EACCES;
	}
	return pf_file_judge(&inst, cgid, d, mnt, action, side, true);
}

/*
 * Refuse to move or remove (action on side) the name d of instance inst
 * when it is a tree root or a directory above one (pf_anchors, see "Tree
 * roots stay" in bpf/pinfold.h), whatever the rights: 0 or -EACCES.
 */
static __always_inline int pf_anchor_judge(const struct pf_instance *inst, __u64 cgid,
					   struct dentry *d, struct vfsmount *mnt, __u16 action,
					   __u8 side)
{
	struct inode *inode = BPF_CORE_READ(d, d_inode);
	struct pf_tree_key key = {.slot = inst->slot, .gen = inst->gen};
	struct pf_event *ev;
	__u32 *object;

	if (!inode)
		return 0;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	object = bpf_map_lookup_elem(&pf_anchors, &key);
	if (!object)
		return 0;

	ev = pf_event_reserve(inst, cgid, action, PF_DECISION_DENY, PF_REASON_HOLDS_TREE,
			      PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		ev->dev = key.dev;
		ev->ino = key.ino;
		ev->side = side;
		ev->object = *object;
		if (pf_lenient(inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_path(ev, d, mnt);
		pf_event_submit(ev);
	}
	return pf_lenient(inst) ? 0 : -EACCES;
}

/*
 * Judge the removal of name d (unlink, rmdir): by the delete right, then
 * as a name that may lead to a tree root.
 */
static __always_inline int pf_remove_decide(struct dentry *d, struct vfsmount *mnt)
{
	struct pf_instance inst = {};
	__u64 cgid = 0;
	int ret;

	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EACCES;
	}
	ret = pf_file_judge(&inst, cgid, d, mnt, PF_ACT_UNLINK, PF_SIDE_OBJECT, true);
	return ret ?: pf_anchor_judge(&inst, cgid, d, mnt, PF_ACT_UNLINK, PF_SIDE_OBJECT);
}

/*
 * Report and refuse one action the instance may never do (reason). Its
 * object is the path of (d, mnt) when d is set, else ino and what (a name,
 * at most PF_NAME_MAX bytes with its NUL). Returns 0 for tasks outside
 * pinfold, else -EPERM, or 0 when the instance's mode lets denials pass.
 */
static __always_inline int pf_refuse(__u16 action, __u8 reason, struct dentry *d,
				     struct vfsmount *mnt, __u64 ino, const char *what,
				     __u32 what_len)
{
	struct pf_instance inst = {};
	struct pf_event *ev;
	__u64 cgid = 0;

	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EPERM;
	}

	ev = pf_event_reserve(&inst, cgid, action, PF_DECISION_DENY, reason, PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		ev->ino = ino;
		if (d) {
			pf_event_path(ev, d, mnt);
		} else {
			if (what_len > PF_NAME_MAX)
				what_len = PF_NAME_MAX;
			bpf_probe_read_kernel_str(ev->path, what_len, what);
		}
		pf_event_submit(ev);
	}
	return pf_lenient(&inst) ? 0 : -EPERM;
}

/* pf_refuse of a mount or pivot_root at the path (d, mnt) */
static __always_inline int pf_never(struct dentry *d, struct vfsmount *mnt, __u16 action)
{
	return pf_refuse(action, PF_REASON_NEVER, d, mnt, 0, NULL, 0);
}

/* ev's object: task t (ino its pid, path its comm); port a value (a signal) */
static __always_inline void pf_event_target(struct pf_event *ev, struct task_struct *t, __u16 port)
{
	ev->ino = BPF_CORE_READ(t, tgid);
	ev->port = port;
	bpf_probe_read_kernel_str(ev->path, 16, &t->comm);
}

/*
 * Judge an action of the current task on task t, allowed only within the
 * agent's own instance: 0, or -EPERM with an event whose ino is t's pid,
 * port the given value (a signal) and path t's comm.
 */
static __always_inline int pf_own_task(struct task_struct *t, __u16 action, __u16 port)
{
	struct pf_instance inst = {};
	struct pf_event *ev;
	__u64 cgid = 0;

	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EPERM;
	}
	/* NEEDSWORK: record mode reports nothing the agent does to its own tasks */
	if (BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id) == cgid)
		return 0;

	ev = pf_event_reserve(&inst, cgid, action, PF_DECISION_DENY, PF_REASON_OTHER_TASK,
			      PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		pf_event_target(ev, t, port);
		if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return pf_lenient(&inst) ? 0 : -EPERM;
}

/*
 * LSM programs get the verdict of earlier programs as their last argument
 * and must return a non-zero one unchanged.
 */

/*
 * An open for execution (execve's of the program, and of its ELF
 * interpreter) is judged as exec alone: it reads the file, but only to run
 * it. The kernel marks it in f_flags with __FMODE_EXEC, which open(2) masks
 * off for userspace, so no open can pose as one; 6.1 does not set f_mode's
 * FMODE_EXEC at this hook. LSMs upstream test the same flag ("exec: Check
 * __FMODE_EXEC instead of in_execve for LSMs", v6.8).
 */
SEC("lsm/file_open")
int BPF_PROG(file_open, struct file *file, int ret)
{
	__u16 action;

	if (ret)
		return ret;
	/* direct loads: file has BTF type (see pf_match_step_fs) */
	if (file->f_flags & __FMODE_EXEC)
		action = PF_ACT_EXEC;
	else if (file->f_mode & FMODE_WRITE)
		action = PF_ACT_OPEN_WRITE;
	else
		action = PF_ACT_OPEN_READ;
	return pf_file_decide(file->f_path.dentry, file->f_path.mnt, action, PF_SIDE_OBJECT);
}

/*
 * Exec by mapping. A file mapped executable runs as surely as one opened
 * for execution: the ELF loader (ld.so PROGRAM) opens a program only to
 * read it, then maps its code with PROT_EXEC. So mapping a file with
 * PROT_EXEC, or adding PROT_EXEC to a file's mapping, needs exec too,
 * judged as any file action; the libraries ld.so maps are judged so, which
 * is why the runtime family grants exec on them. The kernel's own mappings
 * of a program and its interpreter at execve map files it opened for
 * execution, each judged for exec at its open: they are not walked again.
 *
 * Anonymous memory is not judged (JITs write code there), nor files that
 * are anonymous memory by another name: kernel-internal inodes (S_PRIVATE),
 * such as the shmem behind MAP_SHARED|MAP_ANONYMOUS and SysV shared memory.
 * No path reaches them; they hold only what the agent wrote there.
 */
static __always_inline int pf_map_exec_decide(struct file *file)
{
	if (BPF_CORE_READ(file, f_flags) & __FMODE_EXEC) /* judged at its open */
		return 0;
	if (BPF_CORE_READ(file, f_inode, i_flags) & S_PRIVATE)
		return 0;
	return pf_file_decide(file->f_path.dentry, file->f_path.mnt, PF_ACT_MAP_EXEC,
			      PF_SIDE_OBJECT);
}

/*
 * mmap, and shmat: reqprot is what the caller asked for, prot what it will
 * get (PROT_EXEC added to PROT_READ under personality READ_IMPLIES_EXEC):
 * prot is judged. file is NULL for anonymous memory.
 */
SEC("lsm/mmap_file")
int BPF_PROG(mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	return pf_map_exec_decide(file);
}

/*
 * mprotect, once for each mapping in the range; prot as for mmap_file. A
 * mapping already executable was judged when it became so.
 */
SEC("lsm/file_mprotect")
int BPF_PROG(file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	struct file *file;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC) || (BPF_CORE_READ(vma, vm_flags) & VM_EXEC))
		return 0;
	file = vma->vm_file; /* of BTF type, as pf_file_decide needs */
	if (!file)
		return 0;
	return pf_map_exec_decide(file);
}

/* truncate(2) and ftruncate(2), and open with O_TRUNC even when read-only */
SEC("lsm/path_truncate")
int BPF_PROG(path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return pf_file_decide(path->dentry, path->mnt, PF_ACT_TRUNCATE, PF_SIDE_OBJECT);
}

#define PF_S_IFMT 00170000
#define PF_S_IFSOCK 0140000
#define PF_S_IFIFO 0010000
#define PF_S_IFCHR 0020000
#define PF_S_IFBLK 0060000

/*
 * A device node is never made: the node is judged by where it is, the
 * device by nothing, so a node for the disk (or /dev/mem) in a writable
 * tree would read every class at once. FIFOs, sockets and files need
 * create, as any new name does.
 */
SEC("lsm/path_mknod")
int BPF_PROG(path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev, int ret)
{
	struct vfsmount *mnt = dir->mnt;
	__u32 fmt = mode & PF_S_IFMT;

	if (ret)
		return ret;
	if (fmt == PF_S_IFCHR || fmt == PF_S_IFBLK)
		return pf_never(dentry, mnt, PF_ACT_CREATE);
	return pf_file_decide(dentry, mnt, PF_ACT_CREATE, PF_SIDE_OBJECT);
}

SEC("lsm/path_mkdir")
int BPF_PROG(path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return pf_file_decide(dentry, dir->mnt, PF_ACT_CREATE, PF_SIDE_OBJECT);
}

SEC("lsm/path_symlink")
int BPF_PROG(path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	if (ret)
		return ret;
	return pf_file_decide(dentry, dir->mnt, PF_ACT_CREATE, PF_SIDE_OBJECT);
}

SEC("lsm/path_unlink")
int BPF_PROG(path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return pf_remove_decide(dentry, dir->mnt);
}

SEC("lsm/path_rmdir")
int BPF_PROG(path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return pf_remove_decide(dentry, dir->mnt);
}

/*
 * A rename removes the source's name (delete) and makes the target's
 * (create); a target that exists loses its inode too (delete). An exchange
 * also makes a name at the source, for the target's inode, and so does a
 * whiteout, for itself. Neither end may be a name leading to a tree root
 * (pf_anchor_judge): the source moves, an existing target is removed or,
 * in an exchange, moved. The instance is read once: one generation judges
 * every end. Neither end may be the pin directory, for any task but
 * pinfold (the guard).
 */
SEC("lsm/path_rename")
int BPF_PROG(path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct vfsmount *old_mnt = old_dir->mnt;
	struct vfsmount *new_mnt = new_dir->mnt;
	struct pf_instance inst = {};
	__u64 cgid = 0;

	if (ret)
		return ret;
	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return pf_guard_rename(old_dentry, new_dentry);
	case PF_WHO_UNKNOWN:
		return -EACCES;
	}
	ret = pf_file_judge(&inst, cgid, old_dentry, old_mnt, PF_ACT_RENAME, PF_SIDE_SOURCE, true);
	if (ret)
		return ret;
	if (flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) {
		ret = pf_file_judge(&inst, cgid, old_dentry, old_mnt, PF_ACT_CREATE, PF_SIDE_SOURCE,
				    true);
		if (ret)
			return ret;
	}
	ret = pf_file_judge(&inst, cgid, new_dentry, new_mnt, PF_ACT_RENAME, PF_SIDE_TARGET, true);
	if (!ret && BPF_CORE_READ(new_dentry, d_inode))
		ret = pf_file_judge(&inst, cgid, new_dentry, new_mnt, PF_ACT_UNLINK, PF_SIDE_TARGET,
				    true);
	if (ret)
		return ret;
	ret = pf_anchor_judge(&inst, cgid, old_dentry, old_mnt, PF_ACT_RENAME, PF_SIDE_SOURCE);
	if (ret)
		return ret;
	ret = pf_anchor_judge(&inst, cgid, new_dentry, new_mnt, PF_ACT_RENAME, PF_SIDE_TARGET);
	return ret ?: pf_guard_rename(old_dentry, new_dentry);
}

/* A hard link gives the inode a second name, which the walk then follows:
 * the source needs write, or a read-only file could be linked into a
 * writable tree, and the target create. Links never cross mounts, so
 * new_dir's mount serves both. */
SEC("lsm/path_link")
int BPF_PROG(path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	struct vfsmount *mnt = new_dir->mnt;
	struct pf_instance inst = {};
	__u64 cgid = 0;

	if (ret)
		return ret;
	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EACCES;
	}
	ret = pf_file_judge(&inst, cgid, old_dentry, mnt, PF_ACT_LINK, PF_SIDE_SOURCE, true);
	if (ret)
		return ret;
	return pf_file_judge(&inst, cgid, new_dentry, mnt, PF_ACT_LINK, PF_SIDE_TARGET, true);
}

SEC("lsm/sb_mount")
int BPF_PROG(sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	return pf_never(BPF_CORE_READ(path, dentry), BPF_CORE_READ(path, mnt), PF_ACT_MOUNT);
}

/* the new mount API: a mount made by fsmount or open_tree is placed here */
SEC("lsm/move_mount")
int BPF_PROG(move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	return pf_never(BPF_CORE_READ(to_path, dentry), BPF_CORE_READ(to_path, mnt), PF_ACT_MOUNT);
}

SEC("lsm/userns_create")
int BPF_PROG(userns_create, const struct cred *cred, int ret)
{
	static const char what[] = "user namespace";

	if (ret)
		return ret;
	return pf_refuse(PF_ACT_USERNS, PF_REASON_NEVER, NULL, NULL, 0, what, sizeof(what));
}

/* pivot_root would hang the old root, and every tree in it, below the new */
SEC("lsm/sb_pivotroot")
int BPF_PROG(sb_pivotroot, const struct path *old_path, const struct path *new_path, int ret)
{
	if (ret)
		return ret;
	return pf_never(BPF_CORE_READ(new_path, dentry), BPF_CORE_READ(new_path, mnt),
			PF_ACT_MOUNT);
}

/*
 * ptrace, and what checks the same access: /proc/PID/root, /proc/PID/mem,
 * /proc/PID/fd, pidfd_getfd, process_vm_readv, setns through a pidfd
 * (joining another task's mount namespace would show its mounts). An
 * agent may reach only tasks of its own instance; no task but pinfold may
 * reach pinfold's (the guard), whose descriptors hold its maps.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	ret = pf_own_task(child, PF_ACT_PTRACE, 0);
	return ret ?: pf_guard_task(child);
}

/*
 * Sockets of families other than IPv4 and IPv6, which the cgroup
 * sock_create program judges (net.bpf.c): each needs its kind among the
 * instance's socket kinds (pf_instance.sockets; pf_decide_sock_kind).
 * Families with no kind (vsock, Bluetooth, CAN, ...) and netlink protocols
 * other than NETLINK_ROUTE are refused whatever the policy says.
 *
 * The hook runs before the family is looked up: a refused family whose
 * module is not loaded gets EPERM, not EAFNOSUPPORT. socketpair(2) comes
 * here for each end; accept(2) does not (its socket is the listener's kind).
 * The event carries the type in port, the protocol in full in ino and its
 * low byte in proto (AF_PACKET's ethertypes do not fit a byte).
 */
SEC("lsm/socket_create")
int BPF_PROG(socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct pf_instance inst = {};
	struct pf_event *ev;
	__u64 cgid = 0;
	bool allowed;
	__u32 kind;

	if (ret)
		return ret;
	if (kern || family == PF_AF_INET || family == PF_AF_INET6)
		return 0;
	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EPERM;
	}

	kind = pf_decide_sock_kind(family, type, protocol);
	allowed = kind && (inst.sockets & kind);
	if (allowed && !pf_records_all(&inst))
		return 0;

	ev = pf_event_reserve_short(&inst, cgid, PF_ACT_SOCKET,
				    allowed ? PF_DECISION_ALLOW : PF_DECISION_DENY,
				    allowed ? PF_REASON_RULE : PF_REASON_SOCKET_KIND, PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		ev->family = (__u8)family;
		ev->proto = (__u8)protocol;
		ev->port = (__u16)type;
		ev->ino = (__u32)protocol;
		if (!allowed && pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return allowed || pf_lenient(&inst) ? 0 : -EPERM;
}

/*
 * Tamper resistance: what a root agent could otherwise use to undo its
 * confinement. Leaving the instance cgroup (writing to cgroup.procs) and
 * unpinning pinfold's programs in bpffs are file actions, denied above
 * because no class covers cgroupfs or bpffs; ptrace_access_check above
 * keeps other tasks out of reach. What follows has no file to judge.
 */

/*
 * bpf(2), every command: with it a root agent could detach or rewrite
 * pinfold's programs and maps. Agents have no use for it; pinfold's own
 * calls come from the launcher, outside the instance. The event's ino is
 * the command. Any other task but pinfold gets no descriptor of
 * pinfold's links by id (the guard): links have no hook of their own,
 * while lsm/bpf_map and lsm/bpf_prog below see every descriptor of a map
 * or a program made, by id or any other way.
 *
 * Later kernels (6.1x) add a fourth argument, kernel, where 6.1 has the
 * earlier verdict: only the three arguments every kernel has are read. An
 * earlier program's refusal ends the chain before this one runs (the
 * trampoline skips the rest), so the verdict argument is 0 here anyway;
 * a call the kernel makes itself (kernel true) comes from a BPF syscall
 * program, which an agent cannot load. attr is the kernel's copy.
 * NEEDSWORK: a root task outside may attach cgroup programs of its own on
 * an ancestor of pinfold's parent, which run after pinfold's and can clear
 * its network denials (bpf_set_retval); refusing that would refuse
 * systemd's cgroup firewall too.
 */
SEC("lsm/bpf")
int BPF_PROG(bpf, int cmd, union bpf_attr *attr)
{
	static const char what[] = "bpf()";
	int ret;

	ret = pf_refuse(PF_ACT_BPF, PF_REASON_NEVER, NULL, NULL, (__u32)cmd, what, sizeof(what));
	if (ret || cmd != BPF_LINK_GET_FD_BY_ID)
		return ret;
	return pf_guard_object(PF_GUARD_LINK, BPF_CORE_READ(attr, link_id));
}

/* A descriptor of a map, made by any command (by id, from a pin, ...): the guard's. */
SEC("lsm/bpf_map")
int BPF_PROG(bpf_map, struct bpf_map *map, unsigned int fmode, int ret)
{
	if (ret)
		return ret;
	return pf_guard_object(PF_GUARD_MAP, BPF_CORE_READ(map, id));
}

/* A descriptor of a program, made by any command: the guard's. */
SEC("lsm/bpf_prog")
int BPF_PROG(bpf_prog, struct bpf_prog *prog, int ret)
{
	if (ret)
		return ret;
	return pf_guard_object(PF_GUARD_PROG, BPF_CORE_READ(prog, aux, id));
}

/* inode_permission's mask, from linux/fs.h */
#define PF_MAY_EXEC 0x1
#define PF_MAY_WRITE 0x2

/*
 * The pin directory: no task but pinfold looks up a name in it (a pin's
 * path, through any mount of bpffs or any symbolic link, leads through it)
 * or changes one there (create, unlink, rename). An agent's lookups are
 * left to its file rules, whose refusals are recorded; its changes are
 * judged by them first, at their path hooks, then refused here.
 * This runs for every component of every path walked: the inode is read
 * directly, and only a match with the pin directory goes further.
 */
SEC("lsm/inode_permission")
int BPF_PROG(inode_permission, struct inode *inode, int mask, int ret)
{
	const struct pf_config *cfg;
	__u32 zero = 0;

	if (ret)
		return ret;
	if (!(mask & (PF_MAY_EXEC | PF_MAY_WRITE)))
		return 0;
	cfg = bpf_map_lookup_elem(&pf_config, &zero);
	if (!cfg || inode->i_ino != cfg->pins_ino || !cfg->exe_ino)
		return 0;
	if (inode->i_sb->s_dev != cfg->pins_dev || !pf_guard_judges(cfg))
		return 0;
	if (!(mask & PF_MAY_WRITE) && pf_below_parent(cfg))
		return 0;
	return pf_guard_refuse();
}

/*
 * Unmounting the filesystem of the pins would unpin every one: refused
 * (the guard), for a bind mount of it or a mount above it as well.
 */
SEC("lsm/sb_umount")
int BPF_PROG(sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return ret;
	return pf_guard_umount(pf_real_mount(mnt));
}

/*
 * prctl(PR_SET_MM) with PR_SET_MM_EXE_FILE or PR_SET_MM_MAP (its exe_fd)
 * would let a root task name pinfold's binary as its own executable
 * without running it, and so pass for pinfold with the guard
 * (pf_runs_pinfold, guard.bpf.h). No task may while pinfold is loaded:
 * the hook gets a descriptor number, not the file, so the call cannot be
 * judged by what it names. Checkpoint/restore tools (CRIU) need it.
 */
SEC("lsm/task_prctl")
int BPF_PROG(task_prctl, int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
	     unsigned long arg5, int ret)
{
	if (ret)
		return ret;
	if (option != PF_PR_SET_MM || (arg2 != PF_PR_SET_MM_EXE_FILE && arg2 != PF_PR_SET_MM_MAP))
		return 0;
	return pf_guard_refuse();
}

/*
 * Signals sent by a task: kill, tgkill, rt_sigqueueinfo, pidfd_send_signal,
 * kill(-1) and process groups, once for each target; signal 0 (is it
 * alive?) too. An agent may signal only tasks of its own instance, never
 * pinfold's (the launcher passes its own signals on; the agent has no
 * need to signal it). The kernel's own signals (SIGCHLD from
 * do_notify_parent, a fault's SIGSEGV, a tty's SIGINT) are sent without
 * this check. A non-NULL cred is a USB completion signalling for the task
 * that queued it, not the current task: not judged here.
 * The event's ino is the target's pid, its path the target's comm, its
 * port the signal. SIGIO and SIGURG to a file's owner are judged when the
 * kernel sends them (file_send_sigiotask, below).
 */
SEC("lsm/task_kill")
int BPF_PROG(task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	if (cred)
		return 0;
	return pf_own_task(p, PF_ACT_SIGNAL, (__u16)sig);
}

/*
 * Changes to another task's scheduling, limits, process group or memory
 * placement: a root agent could starve pinfold's launcher or audit writer
 * (nice 19, SCHED_IDLE, RLIMIT_NOFILE 0) or any other process. Allowed
 * within the instance, as signals are. Reading them is not judged.
 */
SEC("lsm/task_setnice")
int BPF_PROG(task_setnice, struct task_struct *p, int nice, int ret)
{
	if (ret)
		return ret;
	return pf_own_task(p, PF_ACT_SETNICE, 0);
}

SEC("lsm/task_setioprio")
int BPF_PROG(task_setioprio, struct task_struct *p, int ioprio, int ret)
{
	if (ret)
		return ret;
	return pf_own_task(p, PF_ACT_SETIOPRIO, 0);
}

/* sched_setscheduler, sched_setparam, sched_setattr, sched_setaffinity */
SEC("lsm/task_setscheduler")
int BPF_PROG(task_setscheduler, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return pf_own_task(p, PF_ACT_SETSCHEDULER, 0);
}

/* setrlimit and prlimit with new limits; the event's port is the resource */
SEC("lsm/task_setrlimit")
int BPF_PROG(task_setrlimit, struct task_struct *p, unsigned int resource, struct rlimit *new_rlim,
	     int ret)
{
	if (ret)
		return ret;
	return pf_own_task(p, PF_ACT_SETRLIMIT, (__u16)resource);
}

SEC("lsm/task_setpgid")
int BPF_PROG(task_setpgid, struct task_struct *p, pid_t pgid, int ret)
{
	if (ret)
		return ret;
	return pf_own_task(p, PF_ACT_SETPGID, 0);
}

/* migrate_pages, move_pages */
SEC("lsm/task_movememory")
int BPF_PROG(task_movememory, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return pf_own_task(p, PF_ACT_MOVEMEMORY, 0);
}

/*
 * SIGIO and SIGURG go to a file's owner, set with F_SETOWN, F_SETOWN_EX,
 * FIOSETOWN or SIOCSPGRP, in the signal F_SETSIG names (any, SIGKILL
 * included), and are sent later by whoever makes the file ready, without
 * task_kill. So an agent's choice of owner is remembered here, by file, and
 * judged when the signal is sent: only tasks of the setter's instance may
 * receive it. The owner set by a task outside pinfold is not judged.
 */
struct pf_fowner {
	__u64 cgroup_id; /* the setter's instance */
	__u32 pid;       /* the setter, for the record */
	__u32 uid;
	char comm[16];
};

/* pf_fowners: the owners agents set, until the file is freed */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PF_MAX_FOWNERS);
	__type(key, __u64);              /* struct file * */
	__type(value, struct pf_fowner); /* who set the owner */
} pf_fowners SEC(".maps");

/*
 * pf_fowners' entries, never fewer than there are: counted up before an
 * insert and down again when it fails, down only after a delete that
 * removed one. file_free_security runs at every close of every file, and
 * almost no file ever had an owner set: while this is 0 the file it frees
 * has no entry, and the map is not touched. A file's owner is set, and
 * counted, while a reference to it is held, so before its last reference
 * goes and it is freed (the count is read after that last reference's
 * atomic drop). A stale entry, keyed by an address a later file reuses,
 * cannot be left so.
 */
__u64 pf_fowners_n;

/*
 * The hook cannot refuse. When the map is full an agent's owner goes
 * unremembered and its signal unjudged; the count is PF_STAT_FOWNERS_FULL.
 */
SEC("lsm/file_set_fowner")
int BPF_PROG(file_set_fowner, struct file *file)
{
	struct pf_instance inst = {};
	struct pf_fowner o = {};
	__u64 key = (__u64)file;
	long err;

	if (pf_whoami(&inst, &o.cgroup_id) == PF_WHO_OUTSIDE) {
		if (!bpf_map_delete_elem(&pf_fowners, &key))
			__sync_fetch_and_sub(&pf_fowners_n, 1);
		return 0;
	}
	o.pid = bpf_get_current_pid_tgid() >> 32;
	o.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	__sync_fetch_and_add(&pf_fowners_n, 1);
	err = bpf_map_update_elem(&pf_fowners, &key, &o, BPF_NOEXIST);
	if (!err)
		return 0;
	/* the file has an entry, counted already: replace it; gone meanwhile,
	 * the new one keeps this count */
	err = bpf_map_update_elem(&pf_fowners, &key, &o, BPF_EXIST);
	if (!err) {
		__sync_fetch_and_sub(&pf_fowners_n, 1);
		return 0;
	}
	err = bpf_map_update_elem(&pf_fowners, &key, &o, BPF_ANY);
	if (err) {
		__sync_fetch_and_sub(&pf_fowners_n, 1);
		pf_count(PF_STAT_FOWNERS_FULL);
	}
	return 0;
}

SEC("lsm/file_free_security")
int BPF_PROG(file_free_security, struct file *file)
{
	__u64 key = (__u64)file;

	if (!*(volatile __u64 *)&pf_fowners_n)
		return 0;
	if (!bpf_map_delete_elem(&pf_fowners, &key))
		__sync_fetch_and_sub(&pf_fowners_n, 1);
	return 0;
}

/* 6.1 embeds the owner in the file; later kernels point to it and back */
struct file___embedded_owner {
	struct fown_struct f_owner;
} __attribute__((preserve_access_index));

static __always_inline struct file *pf_fown_file(struct fown_struct *fown)
{
	if (bpf_core_field_exists(fown->file))
		return BPF_CORE_READ(fown, file);
	return (void *)fown - bpf_core_field_offset(struct file___embedded_owner, f_owner);
}

/*
 * The event names the setter as the task that acted (the sender is only
 * whoever made the file ready), the target as ptrace's and kill's do. Its
 * instance gone, the signal is refused unrecorded (PF_STAT_NO_RINGBUF).
 */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(file_send_sigiotask, struct task_struct *tsk, struct fown_struct *fown, int sig,
	     int ret)
{
	__u64 key = (__u64)pf_fown_file(fown);
	struct pf_instance *inst;
	struct pf_fowner *o;
	struct pf_event *ev;
	__u64 cgid;

	if (ret)
		return ret;
	o = bpf_map_lookup_elem(&pf_fowners, &key);
	if (!o)
		return 0;
	cgid = o->cgroup_id;
	if (BPF_CORE_READ(tsk, cgroups, dfl_cgrp, kn, id) == cgid)
		return 0;
	inst = bpf_map_lookup_elem(&pf_instances, &cgid);
	if (!inst) {
		pf_count(PF_STAT_NO_RINGBUF);
		return -EPERM;
	}
	ev = pf_event_reserve(inst, cgid, PF_ACT_SIGNAL, PF_DECISION_DENY, PF_REASON_OTHER_TASK,
			      PF_RULE_NONE);
	if (ev) {
		ev->pid = o->pid;
		ev->uid = o->uid;
		__builtin_memcpy(ev->comm, o->comm, sizeof(ev->comm));
		pf_event_target(ev, tsk, (__u16)sig);
		if (pf_lenient(inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return pf_lenient(inst) ? 0 : -EPERM;
}

/* Whether a kernel_load_data or kernel_read_file id puts code into the kernel. */
static __always_inline bool pf_loads_kernel_code(int id)
{
	return id == LOADING_MODULE || id == LOADING_KEXEC_IMAGE || id == LOADING_KEXEC_INITRAMFS;
}

/*
 * init_module and kexec_load: code from the caller's memory. The hook runs
 * before the image is copied or checked. Firmware and other data the
 * kernel loads on a driver's behalf are not judged.
 */
SEC("lsm/kernel_load_data")
int BPF_PROG(kern_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	static const char module[] = "kernel module";
	static const char kexec[] = "kexec image";

	if (ret)
		return ret;
	if (!pf_loads_kernel_code(id))
		return 0;
	if (id == LOADING_MODULE)
		return pf_refuse(PF_ACT_MODULE, PF_REASON_NEVER, NULL, NULL, 0, module,
				 sizeof(module));
	return pf_refuse(PF_ACT_MODULE, PF_REASON_NEVER, NULL, NULL, 0, kexec, sizeof(kexec));
}

/*
 * finit_module and kexec_file_load: code from a file, whose path is the
 * event's object. The hook runs before the file is read.
 */
SEC("lsm/kernel_read_file")
int BPF_PROG(kern_read_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	struct pf_instance inst = {};
	struct pf_event *ev;
	struct inode *inode;
	__u64 cgid = 0;

	if (ret)
		return ret;
	if (!pf_loads_kernel_code(id))
		return 0;
	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EPERM;
	}

	ev = pf_event_reserve(&inst, cgid, PF_ACT_MODULE, PF_DECISION_DENY, PF_REASON_NEVER,
			      PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		inode = BPF_CORE_READ(file, f_inode);
		if (inode) {
			ev->dev = BPF_CORE_READ(inode, i_sb, s_dev);
			ev->ino = BPF_CORE_READ(inode, i_ino);
		}
		if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_path(ev, BPF_CORE_READ(file, f_path.dentry),
			      BPF_CORE_READ(file, f_path.mnt));
		pf_event_submit(ev);
	}
	return pf_lenient(&inst) ? 0 : -EPERM;
}

/*
 * Attribute changes: chmod and chown change what a file lets others do
 * with it, so they need write, as a change of its contents does. The
 * kernel calls these hooks for fchmod and fchown too, with the file's path.
 * Times and extended attributes are judged below, from the dentry alone.
 */
SEC("lsm/path_chmod")
int BPF_PROG(path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return pf_file_decide(path->dentry, path->mnt, PF_ACT_SETATTR, PF_SIDE_OBJECT);
}

/* kuid_t and kgid_t are structs passed by value, one argument slot each;
 * only the path is read. */
SEC("lsm/path_chown")
int BPF_PROG(path_chown, const struct path *path, __u64 uid, __u64 gid, int ret)
{
	if (ret)
		return ret;
	return pf_file_decide(path->dentry, path->mnt, PF_ACT_SETATTR, PF_SIDE_OBJECT);
}

/*
 * Hooks that get a dentry without its mount (times, extended attributes):
 * the walk needs a mount to step past a filesystem's root. The mounts the
 * agent could have reached the dentry through are those of its own mount
 * namespace: one that shows the whole filesystem is walked on from, as an
 * open through it would be; a bind mount of a subdirectory ends the walk
 * at the filesystem's root anyway (pf_match_step), so any mount does. Which
 * mount the agent went through is unknown: every one looked at must allow.
 */

/* Up to 6.1x a superblock's mounts are on a list; later kernels chain them. */
struct super_block___list {
	struct list_head s_mounts;
} __attribute__((preserve_access_index));

struct mount___list {
	struct list_head mnt_instance;
} __attribute__((preserve_access_index));

struct pf_sb_walk {
	struct mount *m;              /* the mount looked at, NULL at the end */
	struct list_head *head;       /* the list's head, on list kernels */
	struct mnt_namespace *ns;     /* the task's */
	struct dentry *root;          /* the filesystem's */
	struct mount *whole, *whole2; /* mounts of ns showing the whole filesystem */
	struct mount *part;           /* a mount of ns showing a subdirectory */
	struct mount *first;          /* any mount, when none is of ns */
};

static long pf_sb_step(__u32 i, void *data)
{
	struct pf_sb_walk *w = data;
	struct mount *m = w->m;
	struct list_head *next;

	if (!m)
		return 1;
	if (!w->first)
		w->first = m;
	if (BPF_CORE_READ(m, mnt_ns) == w->ns) {
		if (BPF_CORE_READ(m, mnt.mnt_root) != w->root)
			w->part = w->part ?: m;
		else if (!w->whole)
			w->whole = m;
		else if (!w->whole2)
			w->whole2 = m;
	}
	if (bpf_core_field_exists(struct mount, mnt_next_for_sb)) {
		w->m = BPF_CORE_READ(m, mnt_next_for_sb);
		return 0;
	}
	next = BPF_CORE_READ((struct mount___list *)m, mnt_instance.next);
	w->m = next == w->head
		       ? NULL
		       : (void *)next - bpf_core_field_offset(struct mount___list, mnt_instance);
	return 0;
}

/* Judge action on the dentry d, reached through an unknown mount: 0 or -EACCES. */
static __always_inline int pf_dentry_decide(struct dentry *d, __u16 action)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct super_block *sb = BPF_CORE_READ(d, d_sb);
	struct pf_sb_walk w = {.ns = BPF_CORE_READ(task, nsproxy, mnt_ns),
			       .root = BPF_CORE_READ(sb, s_root)};
	struct super_block___list *lsb = (void *)sb;
	struct pf_instance inst = {};
	struct list_head *first;
	struct mount *m;
	__u64 cgid = 0;
	int ret;

	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EACCES;
	}
	if (bpf_core_field_exists(struct mount, mnt_next_for_sb)) {
		w.m = BPF_CORE_READ(sb, s_mounts);
	} else {
		w.head = __builtin_preserve_access_index(&lsb->s_mounts);
		first = BPF_CORE_READ(lsb, s_mounts.next);
		if (first != w.head)
			w.m = (void *)first -
			      bpf_core_field_offset(struct mount___list, mnt_instance);
	}
	bpf_loop(PF_SB_MOUNTS, pf_sb_step, &w, 0);
	/* NEEDSWORK: a filesystem with more mounts than PF_SB_MOUNTS may be
	 * judged through the first mounts only; past two whole mounts and one
	 * of a subdirectory in one namespace, the others are not walked */
	m = w.whole ?: w.part ?: w.first;
	if (!m)
		return pf_lenient(&inst) ? 0 : -EACCES;
	ret = pf_file_judge(&inst, cgid, d, pf_vfsmount(m), action, PF_SIDE_OBJECT, false);
	if (!ret && w.whole2)
		ret = pf_file_judge(&inst, cgid, d, pf_vfsmount(w.whole2), action, PF_SIDE_OBJECT,
				    false);
	/* a whole mount may be hidden under another while a subdirectory of it
	 * shows elsewhere: which the agent used is unknown, so each must allow */
	if (!ret && w.whole && w.part)
		ret = pf_file_judge(&inst, cgid, d, pf_vfsmount(w.part), action, PF_SIDE_OBJECT,
				    false);
	return ret;
}

/* ATTR_* of struct iattr's ia_valid, from linux/fs.h */
#define PF_ATTR_MODE (1 << 0)
#define PF_ATTR_UID (1 << 1)
#define PF_ATTR_GID (1 << 2)
#define PF_ATTR_SIZE (1 << 3)
#define PF_ATTR_ATIME (1 << 4)
#define PF_ATTR_MTIME (1 << 5)

/*
 * A change of times (utimes, utimensat, futimens): needs write. chmod,
 * chown and truncate come here too, judged already by their path hooks.
 * 6.3 put an idmap before the dentry: the arguments are read by count.
 */
SEC("lsm/inode_setattr")
int BPF_PROG(inode_setattr)
{
	__u64 nargs = bpf_get_func_arg_cnt(ctx), d = 0, attr = 0;
	unsigned int valid;

	if (bpf_get_func_arg(ctx, nargs == 2 ? 0 : 1, &d) ||
	    bpf_get_func_arg(ctx, nargs == 2 ? 1 : 2, &attr))
		return -EACCES;
	valid = BPF_CORE_READ((struct iattr *)attr, ia_valid);
	if (valid & (PF_ATTR_MODE | PF_ATTR_UID | PF_ATTR_GID | PF_ATTR_SIZE))
		return 0;
	if (!(valid & (PF_ATTR_ATIME | PF_ATTR_MTIME)))
		return 0;
	return pf_dentry_decide((struct dentry *)d, PF_ACT_SETATTR);
}

/* setxattr, lsetxattr, fsetxattr: needs write */
SEC("lsm/inode_setxattr")
int BPF_PROG(inode_setxattr, void *idmap, struct dentry *dentry, const char *name, int ret)
{
	return pf_dentry_decide(dentry, PF_ACT_SETXATTR);
}

/* removexattr and its kin: needs write, as setting does */
SEC("lsm/inode_removexattr")
int BPF_PROG(inode_removexattr, void *idmap, struct dentry *dentry)
{
	return pf_dentry_decide(dentry, PF_ACT_SETXATTR);
}

/* ioctl commands, from asm-generic/ioctls.h and linux/fs.h */
#define PF_TIOCSTI 0x5412
#define PF_TIOCLINUX 0x541C
#define PF_TIOCCONS 0x541D
#define PF_FS_IOC_SETFLAGS 0x40086602
#define PF_FS_IOC32_SETFLAGS 0x40046602
#define PF_FS_IOC_FSSETXATTR 0x401c5820

/*
 * ioctls. A terminal the agent inherited is the user's: TIOCSTI would
 * type commands into the shell that reads it once the agent is gone
 * (root needs no controlling terminal for it), TIOCLINUX can do the same
 * through the console's selection, TIOCCONS redirects the console. They
 * are refused. File flags (chattr: immutable, append-only) change what
 * anyone may do with a file: they need write, as chmod does.
 */
SEC("lsm/file_ioctl")
int BPF_PROG(file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	struct dentry *d = file->f_path.dentry;
	struct vfsmount *mnt = file->f_path.mnt;

	if (ret)
		return ret;
	switch (cmd) {
	case PF_TIOCSTI:
	case PF_TIOCLINUX:
	case PF_TIOCCONS:
		return pf_refuse(PF_ACT_IOCTL, PF_REASON_NEVER, d, mnt, cmd, NULL, 0);
	case PF_FS_IOC_SETFLAGS:
	case PF_FS_IOC32_SETFLAGS:
	case PF_FS_IOC_FSSETXATTR:
		return pf_file_decide(d, mnt, PF_ACT_SETATTR, PF_SIDE_OBJECT);
	}
	return 0;
}

/*
 * POSIX ACLs: from 6.2 they no longer pass inode_setxattr. Kernels before
 * 6.2 lack these hooks (the loader leaves the programs out there; the
 * xattr hooks judge ACLs on them).
 */
SEC("lsm/inode_set_acl")
int BPF_PROG(inode_set_acl, void *idmap, struct dentry *dentry)
{
	return pf_dentry_decide(dentry, PF_ACT_SETXATTR);
}

SEC("lsm/inode_remove_acl")
int BPF_PROG(inode_remove_acl, void *idmap, struct dentry *dentry)
{
	return pf_dentry_decide(dentry, PF_ACT_SETXATTR);
}

/*
 * AF_UNIX peers found by name: connecting or sending to a socket bound to
 * a path writes to it (its own DAC check asks for write), and needs write
 * where the socket file is. An abstract name is in no class: only the
 * instance's own listeners may be reached by one, or an agent could talk
 * to any local service (or another agent) that listens on one. Unnamed
 * peers (a socketpair's other end, a socket passed in) were handed over,
 * not found: not judged. The event's path is "@" and the abstract name.
 */
static __always_inline int pf_unix_decide(struct sock *other, __u16 action)
{
	struct unix_sock *u = (void *)other;
	struct dentry *d = BPF_CORE_READ(u, path.dentry);
	struct unix_address *addr = BPF_CORE_READ(u, addr);
	struct pf_instance inst = {};
	struct pf_event *ev;
	__u64 cgid = 0;
	int len;

	if (!d && !addr)
		return 0;
	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EACCES;
	}
	if (d)
		return pf_file_judge(&inst, cgid, d, BPF_CORE_READ(u, path.mnt), action,
				     PF_SIDE_OBJECT, false);
	if (BPF_CORE_READ(other, sk_cgrp_data.cgroup, kn, id) == cgid)
		return 0;

	ev = pf_event_reserve(&inst, cgid, action, PF_DECISION_DENY, PF_REASON_OTHER_TASK,
			      PF_RULE_NONE);
	if (ev) {
		pf_event_task(ev);
		/* sun_path after its leading NUL: len counts sun_family too */
		len = BPF_CORE_READ(addr, len) - 3;
		ev->path[0] = '@';
		if (len > 0)
			bpf_probe_read_kernel(
				&ev->path[1], len & (PF_NAME_MAX - 1),
				(void *)addr + bpf_core_field_offset(struct unix_address, name) +
					3);
		if (pf_lenient(&inst))
			ev->flags = PF_EVENT_NOT_APPLIED;
		pf_event_submit(ev);
	}
	return pf_lenient(&inst) ? 0 : -EPERM;
}

/* connect of a stream or seqpacket socket; other is the listener */
SEC("lsm/unix_stream_connect")
int BPF_PROG(unix_stream_connect, struct sock *sock, struct sock *other, struct sock *newsk,
	     int ret)
{
	if (ret)
		return ret;
	return pf_unix_decide(other, PF_ACT_UNIX_CONNECT);
}

/* a datagram socket's connect, and each datagram it sends */
SEC("lsm/unix_may_send")
int BPF_PROG(unix_may_send, struct socket *sock, struct socket *other, int ret)
{
	if (ret)
		return ret;
	return pf_unix_decide(BPF_CORE_READ(other, sk), PF_ACT_UNIX_SEND);
}

#ifndef FMODE_READ
#define FMODE_READ 0x1
#endif

/*
 * A descriptor received over SCM_RIGHTS (or pidfd_getfd, or binder) from a
 * task that may hold files the agent may not open: it is judged as the
 * open it stands for, by its f_mode. Open to read, it needs read
 * (receive-fd); open to write, it needs write, judged and recorded as an
 * open-write. The kernel installs no refused descriptor: recvmsg succeeds
 * with MSG_CTRUNC and without it.
 * A memfd is on an internal mount: received as a pipe is (pf_file_judge),
 * its executable mapping still judged.
 * NEEDSWORK: a writable descriptor's record says open-write, not
 * receive-fd: pf_decide_need gives each action one right.
 */
SEC("lsm/file_receive")
int BPF_PROG(file_receive, struct file *file, int ret)
{
	struct dentry *d = file->f_path.dentry;
	struct vfsmount *mnt = file->f_path.mnt;
	unsigned int fmode = BPF_CORE_READ(file, f_mode);
	struct pf_instance inst = {};
	__u16 fmt;
	__u64 cgid = 0;

	if (ret)
		return ret;
	/* sockets, pipes, anonymous inodes (eventfd, epoll, ...): no data a
	 * class could name */
	fmt = BPF_CORE_READ(file, f_inode, i_mode) & PF_S_IFMT;
	if (fmt == 0 || fmt == PF_S_IFSOCK || fmt == PF_S_IFIFO ||
	    (BPF_CORE_READ(file, f_inode, i_flags) & S_PRIVATE))
		return 0;
	switch (pf_whoami(&inst, &cgid)) {
	case PF_WHO_OUTSIDE:
		return 0;
	case PF_WHO_UNKNOWN:
		return -EACCES;
	}
	if (fmode & FMODE_READ) {
		ret = pf_file_judge(&inst, cgid, d, mnt, PF_ACT_RECEIVE_FD, PF_SIDE_OBJECT, true);
		if (ret)
			return ret;
	}
	if (fmode & FMODE_WRITE)
		return pf_file_judge(&inst, cgid, d, mnt, PF_ACT_OPEN_WRITE, PF_SIDE_OBJECT, true);
	return 0;
}
