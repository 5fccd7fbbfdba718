// SPDX-License-Identifier: GPL-2.0-only
/*
 * floor_open.bpf.c - the floor of the open() rows: a BPF LSM file_open
 * program that allows at once. What it costs is the price of having a
 * BPF LSM program on the hook at all (the trampoline, the call); what
 * pinfold's programs add above it is the price of their decisions. It
 * runs in the VM only (tests/bench/row-open.sh): BPF LSM is off on the
 * hosts. openbench loads it, and attaches it only while the floor's
 * trials run, for an LSM program judges every task.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* the arguments (file, the verdict so far) are not even read */
SEC("lsm/file_open")
int floor_file_open(unsigned long long *ctx)
{
	return 0;
}
