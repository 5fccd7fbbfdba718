// SPDX-License-Identifier: GPL-2.0-only
/*
 * pf-socket - create one socket of each kind named and print one line per
 * kind: "KIND ok" or "KIND err ENAME" (EPERM, EACCES, ...). The socket
 * tests (host and VM) run it confined; the VM has no python.
 *
 *   pf-socket KIND...       exit 0 whatever the sockets did, 2 for a bad kind
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report.h"

struct kind {
	const char *name;
	int family, type, protocol; /* as socket(2) takes them */
};

static const struct kind kinds[] = {
	{"tcp", 2, SOCK_STREAM, 0},         {"tcp-explicit", 2, SOCK_STREAM, 6},
	{"tcp6", 10, SOCK_STREAM, 0},       {"mptcp", 2, SOCK_STREAM, 262},
	{"udp", 2, SOCK_DGRAM, 0},          {"udp-explicit", 2, SOCK_DGRAM, 17},
	{"udp6", 10, SOCK_DGRAM, 17},       {"ping", 2, SOCK_DGRAM, 1},
	{"ping6", 10, SOCK_DGRAM, 58},      {"raw", 2, SOCK_RAW, 1},
	{"raw6", 10, SOCK_RAW, 58},         {"sctp", 2, SOCK_STREAM, 132},
	{"udplite", 2, SOCK_DGRAM, 136},    {"unix", 1, SOCK_STREAM, 0},
	{"unix-dgram", 1, SOCK_DGRAM, 0},   {"netlink-route", 16, SOCK_RAW, 0},
	{"netlink-audit", 16, SOCK_RAW, 9}, {"netlink-uevent", 16, SOCK_DGRAM, 15},
	{"packet", 17, SOCK_RAW, 0x0300}, /* htons(ETH_P_ALL) on little-endian */
	{"vsock", 40, SOCK_STREAM, 0},
};

int main(int argc, char **argv)
{
	const struct kind *k;
	size_t i;
	int a, fd;

	for (a = 1; a < argc; a++) {
		k = NULL;
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(kinds[i].name, argv[a]) == 0)
				k = &kinds[i];
		if (!k) {
			fprintf(stderr, "pf-socket: unknown kind %s\n", argv[a]);
			return 2;
		}
		fd = socket(k->family, k->type, k->protocol);
		if (fd >= 0) {
			close(fd);
			printf("%s ok\n", k->name);
		} else {
			printf("%s err %s\n", k->name, errno_name(errno));
		}
		fflush(stdout);
	}
	return 0;
}
