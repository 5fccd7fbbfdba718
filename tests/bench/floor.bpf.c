// SPDX-License-Identifier: GPL-2.0-only
/*
 * floor.bpf.c - the cheapest enforcement there can be, the floor that
 * pinfold's cost is measured against: a cgroup connect4 program that
 * allows at once. What it costs is the price of having a program at all
 * (the cgroup's program array, the context, the call); what pinfold adds
 * above it is the price of its decision.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup/connect4")
int floor_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}
