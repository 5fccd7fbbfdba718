/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * common.bpf.h - maps and helpers shared by every pinfold program family.
 *
 * Every map here is pinned by name under pinfold's bpffs directory, so the
 * network and file objects, and later loads of either, share one state.
 */
#ifndef PINFOLD_COMMON_BPF_H
#define PINFOLD_COMMON_BPF_H

/* pf_config: one slot */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);              /* 0 */
	__type(value, struct pf_config); /* the parent cgroup */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_config SEC(".maps");

/*
 * pf_instances: which cgroups are instances, their slots and generations.
 * Without preallocation an update links in a new element instead of
 * rewriting the old one in place, as a preallocated map does, so a reader
 * sees the old value or the new one whole; pf_whoami copies it at once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PF_MAX_INSTANCES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);                /* cgroup id */
	__type(value, struct pf_instance); /* slot, flags, generation */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_instances SEC(".maps");

/* pf_trees: tagged tree roots */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PF_MAX_TREES);
	__type(key, struct pf_tree_key); /* slot, generation, dev, ino */
	__type(value, struct pf_tree);   /* tag, access, granting rules */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_trees SEC(".maps");

/* pf_anchors: names that may not be moved or removed, for they lead to a tree root */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PF_MAX_ANCHORS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pf_tree_key); /* slot, generation, dev, ino */
	__type(value, __u32);            /* the object of a tree root it is or holds */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_anchors SEC(".maps");

/* pf_net: allowed destinations, longest prefix decides */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PF_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pf_net_key);     /* slot, generation and prefix */
	__type(value, struct pf_net_rules); /* pushed-down port rules */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_net SEC(".maps");

struct pf_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PF_RINGBUF_SIZE);
};

/* pf_rings: each instance's own ring buffer, set by its writer */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PF_MAX_INSTANCES);
	__type(key, __u32); /* slot */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct pf_ring); /* that instance's events; last, as a flexible array */
} pf_rings SEC(".maps");

/* pf_stats: helper failures, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PF_STAT_MAX);
	__type(key, __u32);   /* enum pf_stat */
	__type(value, __u64); /* count */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_stats SEC(".maps");

/* pf_seq: the next event number of each instance (pf_event.seq) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PF_MAX_INSTANCES);
	__type(key, __u32);   /* slot */
	__type(value, __u64); /* events numbered so far */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_seq SEC(".maps");

/* pf_lost: events an instance's ring could not take, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PF_MAX_INSTANCES);
	__type(key, __u32);   /* slot */
	__type(value, __u64); /* events lost */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_lost SEC(".maps");

/*
 * pf_guarded: pinfold's maps, programs and links, and each instance's ring
 * buffer, written by the loader and instance_install (see "The guard" in
 * bpf/pinfold.h). Shared by both objects so that either load fills it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PF_MAX_GUARDED);
	__type(key, struct pf_guard_key); /* kind and id */
	__type(value, __u32);             /* 1 */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_guarded SEC(".maps");

static __always_inline void pf_count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&pf_stats, &stat);

	if (n)
		*n += 1;
}

/* Whom the current task is, for pinfold. */
enum pf_who {
	PF_WHO_OUTSIDE = 0,  /* not below the parent: not ours to judge */
	PF_WHO_INSTANCE = 1, /* an instance: *inst is set */
	PF_WHO_UNKNOWN = 2,  /* below the parent without an entry: deny all */
};

/*
 * Who the current task is. For an instance, its pf_instances value is
 * copied into *inst: the decision uses this one copy throughout, so that
 * a policy applied meanwhile (a new generation) cannot mix into it.
 */
static __always_inline int pf_whoami(struct pf_instance *inst, __u64 *cgid)
{
	__u32 zero = 0;
	struct pf_config *cfg = bpf_map_lookup_elem(&pf_config, &zero);
	struct pf_instance *v;

	if (!cfg || !cfg->parent_cgroup_id)
		return PF_WHO_OUTSIDE;
	if (bpf_get_current_ancestor_cgroup_id(cfg->parent_level) != cfg->parent_cgroup_id)
		return PF_WHO_OUTSIDE;

	*cgid = bpf_get_current_cgroup_id();
	v = bpf_map_lookup_elem(&pf_instances, cgid);
	if (v) {
		*inst = *v;
		return PF_WHO_INSTANCE;
	}
	pf_count(PF_STAT_UNKNOWN);
	return PF_WHO_UNKNOWN;
}

/*
 * Whether the instance's mode lets denials pass (audit and record): the
 * decision is still made and reported, with PF_EVENT_NOT_APPLIED.
 */
static __always_inline bool pf_lenient(const struct pf_instance *inst)
{
	return inst->flags & (PF_INST_MODE_AUDIT | PF_INST_MODE_RECORD);
}

/* Whether every allowed access is reported too (record mode). */
static __always_inline bool pf_records_all(const struct pf_instance *inst)
{
	return inst->flags & PF_INST_MODE_RECORD;
}

/* Who acted: for hooks that run in the acting task's context. */
static __always_inline void pf_event_task(struct pf_event *ev)
{
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

/*
 * Reserve an event in the instance's ring and fill what every event says
 * but the task (pf_event_task) and the object that decided (none, unless
 * the caller sets ev->object). An event without a path (with_path false:
 * network events, but setsockopt's) is PF_EVENT_SHORT_SIZE bytes: its path
 * is not reserved and must not be written. with_path must be a constant at
 * each call (the size a ring reservation takes is).
 * Every call takes the instance's next event number, queued or not: the
 * writer sees a gap for each event lost, and the loss is counted for the
 * slot as well, so it can report exactly how many records are missing.
 * NULL when the event cannot be queued. Sent with pf_event_submit.
 */
static __always_inline struct pf_event *pf_event_reserve_as(const struct pf_instance *inst,
							    __u64 cgid, __u16 action, __u8 decision,
							    __u8 reason, __u32 rule_id,
							    const bool with_path)
{
	__u32 slot = inst->slot;
	struct pf_event *ev;
	__u64 *lost, *next, seq = 0;
	void *ring;

	next = bpf_map_lookup_elem(&pf_seq, &slot);
	if (next)
		seq = __sync_fetch_and_add(next, 1);
	ring = bpf_map_lookup_elem(&pf_rings, &slot);
	if (!ring) {
		pf_count(PF_STAT_NO_RINGBUF);
		goto lost;
	}
	if (with_path)
		ev = bpf_ringbuf_reserve(ring, sizeof(*ev), 0);
	else
		ev = bpf_ringbuf_reserve(ring, PF_EVENT_SHORT_SIZE, 0);
	if (!ev) {
		pf_count(PF_STAT_RINGBUF_FULL);
		goto lost;
	}

	ev->boot_ns = bpf_ktime_get_boot_ns();
	ev->seq = seq;
	ev->cgroup_id = cgid;
	ev->dev = 0;
	ev->ino = 0;
	ev->pid = 0;
	ev->uid = 0;
	ev->slot = slot;
	ev->rule_id = rule_id;
	ev->action = action;
	ev->decision = decision;
	ev->reason = reason;
	ev->side = PF_SIDE_OBJECT;
	ev->path_truncated = 0;
	ev->family = 0;
	ev->proto = 0;
	ev->port = 0;
	ev->flags = 0;
	ev->gen = inst->gen;
	ev->object = PF_RULE_NONE;
	ev->pad3 = 0;
	__builtin_memset(ev->addr, 0, sizeof(ev->addr));
	__builtin_memset(ev->comm, 0, sizeof(ev->comm));
	if (with_path)
		ev->path[0] = '\0';
	return ev;

lost:
	lost = bpf_map_lookup_elem(&pf_lost, &slot);
	if (lost)
		*lost += 1;
	return NULL;
}

/* An event with a path (every file event): pf_event_reserve_as. */
static __always_inline struct pf_event *pf_event_reserve(const struct pf_instance *inst, __u64 cgid,
							 __u16 action, __u8 decision, __u8 reason,
							 __u32 rule_id)
{
	return pf_event_reserve_as(inst, cgid, action, decision, reason, rule_id, true);
}

/* An event without one (PF_EVENT_SHORT_SIZE bytes): pf_event_reserve_as. */
static __always_inline struct pf_event *pf_event_reserve_short(const struct pf_instance *inst,
							       __u64 cgid, __u16 action,
							       __u8 decision, __u8 reason,
							       __u32 rule_id)
{
	return pf_event_reserve_as(inst, cgid, action, decision, reason, rule_id, false);
}

/*
 * Send an event reserved by pf_event_reserve*. The writer is woken only
 * each time the data in its ring crosses a multiple of
 * PF_RINGBUF_WAKE_BYTES: a wake-up for every event (what
 * bpf_ringbuf_submit does when the writer has caught up) costs the acting
 * task an irq_work (an interrupt to itself) and the writer a trip through
 * epoll per event, more than the event itself. Below that the writer finds
 * the events when it looks anyway, every PF_RINGBUF_POLL_MS at most
 * (docs/audit.md, "How soon a record is written"). Two CPUs sending at
 * once, or the writer reading meanwhile, may let a crossing go unseen: the
 * next multiple, or the writer's look, finds the events. The crossing is
 * judged as if the event had the largest size (PF_RINGBUF_CROSSED), so
 * that none is missed for a small one. A
 * ring that cannot be found again (it was just replaced) is woken as
 * bpf_ringbuf_submit would.
 */
static __always_inline void pf_event_submit(struct pf_event *ev)
{
	__u32 slot = ev->slot;
	__u64 flags = 0, avail;
	void *ring;

	ring = bpf_map_lookup_elem(&pf_rings, &slot);
	if (ring) {
		/* this event's bytes are counted: it is reserved */
		avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
		flags = PF_RINGBUF_CROSSED(avail) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(ev, flags);
}

#endif /* PINFOLD_COMMON_BPF_H */
