// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm_lsm_smoke - load and attach the smoke test's BPF LSM program
 * (smoke_lsm.bpf.c), which denies every open of PATH's inode, run CMD while it
 * is attached, then detach.
 *
 *   vm_lsm_smoke PATH CMD [ARG...]
 *
 * Prints "attached" to stderr once the program is attached and "denials N"
 * to stdout after CMD ends: how many opens the program denied. Exits with
 * CMD's status (128 + signal when killed), or 125 when the program cannot be
 * loaded or attached, or CMD cannot be run.
 *
 * bpftool v7.1 cannot attach LSM programs (its prog load has no autoattach and
 * prog attach takes no tracing types), hence this loader. Built by
 * tests/vm/smoke.mk with the skeleton from bpftool gen skeleton.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smoke_lsm.skel.h"

enum {
	EXIT_LOADER = 125,
	KERNEL_MINORBITS = 20, /* the kernel's dev_t: major << 20 | minor */
};

/* Run argv to its end; return its exit status as a shell reports it, or -errno. */
static int run(char **argv)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "vm_lsm_smoke: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct smoke_lsm *skel = NULL;
	int status = EXIT_LOADER;
	struct stat st;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: vm_lsm_smoke PATH CMD [ARG...]\n");
		return EXIT_LOADER;
	}
	if (stat(argv[1], &st) < 0) {
		fprintf(stderr, "vm_lsm_smoke: cannot stat %s: %s\n", argv[1], strerror(errno));
		return EXIT_LOADER;
	}

	skel = smoke_lsm__open();
	if (!skel) {
		fprintf(stderr, "vm_lsm_smoke: cannot open the BPF object: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->target_dev = ((__u64)major(st.st_dev) << KERNEL_MINORBITS) | minor(st.st_dev);
	skel->rodata->target_ino = st.st_ino;

	err = smoke_lsm__load(skel);
	if (err) {
		fprintf(stderr, "vm_lsm_smoke: cannot load the BPF program: %s\n", strerror(-err));
		goto out;
	}

	err = smoke_lsm__attach(skel);
	if (err) {
		fprintf(stderr, "vm_lsm_smoke: cannot attach lsm/file_open: %s\n", strerror(-err));
		goto out;
	}
	fprintf(stderr, "attached\n");

	err = run(argv + 2);
	if (err < 0) {
		fprintf(stderr, "vm_lsm_smoke: cannot run %s: %s\n", argv[2], strerror(-err));
		goto out;
	}
	status = err;
	printf("denials %llu\n", (unsigned long long)skel->bss->denials);

out:
	smoke_lsm__destroy(skel);
	return status;
}
