// SPDX-License-Identifier: GPL-2.0-only
/*
 * pf-flood - make many opens of one file, fast, and count how they went.
 *
 *   pf-flood PATH N     open PATH O_RDONLY N times (closing each one that
 *                       opens); print "ok OPENED DENIED OTHER" where DENIED
 *                       counts EACCES and EPERM, OTHER any other failure
 *
 * The VM tests fill an instance's event ring with it, one process making
 * thousands of denied opens: a shell loop of pf-probe would spend seconds
 * per hundred under TCG.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long n, i, opened = 0, denied = 0, other = 0;
	char *end;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: pf-flood PATH N\n");
		return 2;
	}
	n = strtoul(argv[2], &end, 10);
	if (*end || end == argv[2]) {
		fprintf(stderr, "pf-flood: N must be a number, not '%s'\n", argv[2]);
		return 2;
	}
	for (i = 0; i < n; i++) {
		fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			opened++;
			close(fd);
		} else if (errno == EACCES || errno == EPERM) {
			denied++;
		} else {
			other++;
		}
	}
	printf("ok %lu %lu %lu\n", opened, denied, other);
	return 0;
}
