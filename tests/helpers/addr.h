/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * addr.h - how the test probes read a destination: an IPv4 or IPv6
 * address and a port as given on the command line. IPv4-mapped IPv6
 * addresses stay IPv6, which is what the tests want: they must be judged
 * as the IPv4 address they carry.
 */
#ifndef PF_TESTS_ADDR_H
#define PF_TESTS_ADDR_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Fill ss from a textual address and port; 0 or -EINVAL. */
static inline int parse_addr(const char *addr, const char *port, struct sockaddr_storage *ss,
			     socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char *end;
	long p;

	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || *port == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -EINVAL;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)p);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)p);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

#endif /* PF_TESTS_ADDR_H */
