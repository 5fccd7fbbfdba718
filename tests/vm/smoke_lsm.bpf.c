// SPDX-License-Identifier: GPL-2.0-only
/*
 * smoke_lsm.bpf.c - the VM smoke test's own BPF LSM program: it denies with
 * EPERM every open of one inode, named by device and inode number, and counts
 * the denials. It proves that BPF LSM programs load, attach and deny in the
 * test VM independently of pinfold's programs. Loaded by vm_lsm_smoke.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <asm-generic/errno-base.h>

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load: the kernel dev_t (MKDEV layout) and inode. */
const volatile __u64 target_dev = 0;
const volatile __u64 target_ino = 0;

/* Opens denied so far, read by the loader. */
__u64 denials = 0;

SEC("lsm/file_open")
int BPF_PROG(file_open, struct file *file, int ret)
{
	struct inode *inode;

	if (ret)
		return ret;
	inode = BPF_CORE_READ(file, f_inode);
	if (!target_ino || BPF_CORE_READ(inode, i_ino) != target_ino ||
	    BPF_CORE_READ(inode, i_sb, s_dev) != target_dev)
		return 0;
	__sync_fetch_and_add(&denials, 1);
	return -EPERM;
}
