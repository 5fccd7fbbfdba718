// SPDX-License-Identifier: GPL-2.0-only
/*
 * ringbench.bpf.c - the floor of the audit path: one record the size of a
 * pinfold network event (PF_EVENT_SHORT_SIZE, what a denied connect sends)
 * per getppid(2) of one process, into a ring buffer the size of an
 * instance's, woken as pinfold's are (pf_event_submit: each time the ring's
 * data crosses a multiple of PF_RINGBUF_WAKE_BYTES), and nothing else (no policy, no path, no
 * formatting). ringbench.c consumes the ring with a callback that only
 * counts, looking at least every PF_RINGBUF_POLL_MS as pinfold's writer does.
 *
 * A raw tracepoint needs neither tracefs nor the syscall tracepoints' per
 * call setup: it runs on every system call of the machine, and returns at
 * once unless the caller is the generator and the call is getppid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "bpf/pinfold.h"

char LICENSE[] SEC("license") = "GPL";

/* set by the loader: which calls make records */
const volatile __u64 target_nr = ~0ull; /* the getppid syscall number of this ABI */
__u32 target_tgid;                      /* the generator; 0 until it is started */

/* read by the loader once the generator exited */
__u64 produced; /* records submitted */
__u64 dropped;  /* records the ring had no room for */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PF_RINGBUF_SIZE);
} rb_events SEC(".maps");

/* args[1] of sys_enter is the system call number */
SEC("raw_tp/sys_enter")
int rb_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), avail;
	struct pf_event *ev;

	if (ctx->args[1] != target_nr || (__u32)(id >> 32) != target_tgid || !target_tgid)
		return 0;
	ev = bpf_ringbuf_reserve(&rb_events, PF_EVENT_SHORT_SIZE, 0);
	if (!ev) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	/* the stamp and the caller, as every pinfold event has; the rest is left unwritten */
	ev->boot_ns = bpf_ktime_get_boot_ns();
	ev->pid = id >> 32;
	/* woken as pinfold's writer is: see pf_event_submit */
	avail = bpf_ringbuf_query(&rb_events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(ev, PF_RINGBUF_CROSSED(avail) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	__sync_fetch_and_add(&produced, 1);
	return 0;
}
