// SPDX-License-Identifier: GPL-2.0-only
/*
 * pf-tamper - try one way a root agent could undo its confinement, and
 * report how it went in one line, as pf-probe does: "ok" or "err ENAME".
 * tests/vm/test_tamper.sh runs it confined and unconfined (the VM has no
 * python). Exit status: 0 on success, 1 when the operation failed, 2 on a
 * usage error.
 *
 *   join-cgroup PROCS        write our pid to that cgroup.procs (leave our cgroup)
 *   bpf-next-id -            bpf(BPF_PROG_GET_NEXT_ID): ok, or ENOENT when no program
 *                            is loaded, both mean the call was judged and let through
 *   bpf-map-fd ID            bpf(BPF_MAP_GET_FD_BY_ID)
 *   kill PID SIG             kill(2), SIG 0 tests whether PID lives
 *   kill-child SIG           fork a child that waits, kill(2) it, reap it
 *   ptrace PID               PTRACE_ATTACH, then detach
 *   ptrace-child -           the same on a child of ours
 *   vm-read PID ADDR         process_vm_readv of 1 byte at ADDR (hex) of PID
 *   finit-module PATH        finit_module of that file
 *   init-module -            init_module of a page of zeroes
 */
#define _GNU_SOURCE /* process_vm_readv */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* bpf(2) commands and the attribute fields used, from linux/bpf.h */
enum {
	PF_BPF_PROG_GET_NEXT_ID = 11,
	PF_BPF_MAP_GET_FD_BY_ID = 14,
};

union pf_bpf_attr {
	struct {
		unsigned int start_id;
		unsigned int next_id;
		unsigned int open_flags;
	} get_id;
	unsigned char pad[128];
};

static const char *errno_name(int err)
{
	static char buf[16];

	switch (err) {
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case ENOENT:
		return "ENOENT";
	case ESRCH:
		return "ESRCH";
	case EINVAL:
		return "EINVAL";
	case ENOEXEC:
		return "ENOEXEC";
	case EFAULT:
		return "EFAULT";
	case EIO:
		return "EIO";
	case EBADF:
		return "EBADF";
	case ENOSYS:
		return "ENOSYS";
	}
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

/* Print "ok" or "err ENAME" for errno value err; the exit status. */
static int report(int err)
{
	if (err)
		printf("err %s\n", errno_name(err));
	else
		printf("ok\n");
	return err ? 1 : 0;
}

static int result(long rc)
{
	return report(rc < 0 ? errno : 0);
}

static int usage(void)
{
	fprintf(stderr, "usage: pf-tamper OP ARG... (see the source's top comment)\n");
	return 2;
}

static int op_join_cgroup(const char *procs)
{
	char pid[32];
	int fd, n, err = 0;

	fd = open(procs, O_WRONLY);
	if (fd < 0)
		return report(errno);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n)
		err = errno;
	close(fd);
	return report(err);
}

static int op_bpf(int cmd, unsigned int id)
{
	union pf_bpf_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.get_id.start_id = id;
	fd = syscall(SYS_bpf, cmd, &attr, sizeof(attr));
	if (fd >= 0 && cmd == PF_BPF_MAP_GET_FD_BY_ID)
		close((int)fd);
	return result(fd);
}

/* A child that waits to be signalled or traced; -1 when fork fails. */
static pid_t waiting_child(void)
{
	pid_t child = fork();

	if (child == 0) {
		for (;;)
			pause();
	}
	return child;
}

static int op_kill_child(int sig)
{
	pid_t child = waiting_child();
	int err;

	if (child < 0)
		return report(errno);
	err = kill(child, sig) ? errno : 0;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return report(err);
}

/* Attach to pid and detach again. */
static int trace(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		return errno;
	if (waitpid(pid, &status, __WALL) < 0)
		return errno;
	return ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0 ? errno : 0;
}

static int op_ptrace_child(void)
{
	pid_t child = waiting_child();
	int err;

	if (child < 0)
		return report(errno);
	err = trace(child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return report(err);
}

static int op_vm_read(pid_t pid, const char *addr)
{
	char byte;
	struct iovec local = {.iov_base = &byte, .iov_len = 1};
	struct iovec remote = {.iov_base = (void *)strtoul(addr, NULL, 16), .iov_len = 1};

	return result(process_vm_readv(pid, &local, 1, &remote, 1, 0));
}

static int op_finit_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return report(errno);
	err = syscall(SYS_finit_module, fd, "", 0) < 0 ? errno : 0;
	close(fd);
	return report(err);
}

static int op_init_module(void)
{
	static char image[4096];

	return result(syscall(SYS_init_module, image, sizeof(image), ""));
}

int main(int argc, char **argv)
{
	const char *op;

	if (argc < 3)
		return usage();
	op = argv[1];
	if (argc == 3) {
		if (strcmp(op, "join-cgroup") == 0)
			return op_join_cgroup(argv[2]);
		if (strcmp(op, "bpf-next-id") == 0 && strcmp(argv[2], "-") == 0)
			return op_bpf(PF_BPF_PROG_GET_NEXT_ID, 0);
		if (strcmp(op, "bpf-map-fd") == 0)
			return op_bpf(PF_BPF_MAP_GET_FD_BY_ID, (unsigned int)atoi(argv[2]));
		if (strcmp(op, "kill-child") == 0)
			return op_kill_child(atoi(argv[2]));
		if (strcmp(op, "ptrace") == 0)
			return report(trace(atoi(argv[2])));
		if (strcmp(op, "ptrace-child") == 0 && strcmp(argv[2], "-") == 0)
			return op_ptrace_child();
		if (strcmp(op, "finit-module") == 0)
			return op_finit_module(argv[2]);
		if (strcmp(op, "init-module") == 0 && strcmp(argv[2], "-") == 0)
			return op_init_module();
	}
	if (argc == 4) {
		if (strcmp(op, "kill") == 0)
			return result(kill(atoi(argv[2]), atoi(argv[3])));
		if (strcmp(op, "vm-read") == 0)
			return op_vm_read(atoi(argv[2]), argv[3]);
	}
	return usage();
}
