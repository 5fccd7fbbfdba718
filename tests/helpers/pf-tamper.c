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
 *
 * Device nodes and terminals:
 *   mknod PATH c|b|p|f MAJOR MINOR
 *                            mknod(2) of a character or block device, a FIFO or a
 *                            regular file, mode 0600 (MAJOR MINOR ignored for p, f)
 *   tiocsti FD TEXT          ioctl TIOCSTI of each byte of TEXT and a newline on FD,
 *                            as typed at the terminal
 *   tioclinux FD -           ioctl TIOCLINUX (a virtual console's; ENOTTY elsewhere)
 *   tcgets FD -              ioctl TCGETS, the terminal's settings: harmless
 *   pty-run CMD...           run CMD in a session of its own whose controlling
 *                            terminal, and stdin, is the slave of a new pseudo-terminal
 *                            pair, as a user's shell starts an agent; CMD's output
 *                            passes through, then one more line: "pushed LINE" when
 *                            a line waits to be read on the terminal, else
 *                            "pushed nothing"
 *
 * File flags (chattr), for tests/vm/test_xattr.sh; FLAG is +i, -i, +a or -a
 * (immutable, append only); the descriptor is opened O_RDONLY:
 *   getflags PATH            FS_IOC_GETFLAGS, printed "ok 0xHEX" ("ok 0": none)
 *   setflags PATH FLAG       FS_IOC_GETFLAGS, then FS_IOC_SETFLAGS with FLAG applied
 *   fssetxattr PATH FLAG     FS_IOC_FSGETXATTR, then FS_IOC_FSSETXATTR with FLAG's
 *                            FS_XFLAG_ applied
 */
#define _GNU_SOURCE /* process_vm_readv, ptsname_r */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "report.h"

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

static int result(long rc)
{
	return report(rc < 0 ? errno : 0, NULL);
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
		return report(errno, NULL);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n)
		err = errno;
	close(fd);
	return report(err, NULL);
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
		return report(errno, NULL);
	err = kill(child, sig) ? errno : 0;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return report(err, NULL);
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
		return report(errno, NULL);
	err = trace(child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return report(err, NULL);
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
		return report(errno, NULL);
	err = syscall(SYS_finit_module, fd, "", 0) < 0 ? errno : 0;
	close(fd);
	return report(err, NULL);
}

static int op_init_module(void)
{
	static char image[4096];

	return result(syscall(SYS_init_module, image, sizeof(image), ""));
}

static int op_mknod(const char *path, const char *kind, const char *major, const char *minor)
{
	mode_t type;

	if (strcmp(kind, "c") == 0)
		type = S_IFCHR;
	else if (strcmp(kind, "b") == 0)
		type = S_IFBLK;
	else if (strcmp(kind, "p") == 0)
		type = S_IFIFO;
	else if (strcmp(kind, "f") == 0)
		type = S_IFREG;
	else
		return usage();
	return result(mknod(path, type | 0600,
			    makedev((unsigned int)atoi(major), (unsigned int)atoi(minor))));
}

/* Push each byte of text, then a newline, into fd's input queue; 0 or an errno. */
static int push_text(int fd, const char *text)
{
	const char *p;
	char nl = '\n';

	for (p = text; *p; p++) {
		if (ioctl(fd, TIOCSTI, p) < 0)
			return errno;
	}
	return ioctl(fd, TIOCSTI, &nl) < 0 ? errno : 0;
}

/* FS_ flag and FS_XFLAG_ flag a "+i", "-a"... argument names; 0 when none. */
static int flag_of(const char *arg, unsigned int *fs, unsigned int *xflag)
{
	if ((arg[0] != '+' && arg[0] != '-') || arg[2] != '\0')
		return 0;
	if (arg[1] == 'i') {
		*fs = FS_IMMUTABLE_FL;
		*xflag = FS_XFLAG_IMMUTABLE;
	} else if (arg[1] == 'a') {
		*fs = FS_APPEND_FL;
		*xflag = FS_XFLAG_APPEND;
	} else {
		return 0;
	}
	return 1;
}

/* get, set or fsset the flags of path, opened O_RDONLY (O_NONBLOCK: a FIFO too). */
static int op_flags(const char *op, const char *path, const char *arg)
{
	unsigned int fs = 0, xflag = 0;
	struct fsxattr fsx;
	int fd, flags, err = 0;
	char reply[32];

	if (arg && !flag_of(arg, &fs, &xflag))
		return usage();
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	if (strcmp(op, "fssetxattr") == 0) {
		if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0) {
			err = errno;
		} else {
			fsx.fsx_xflags =
				arg[0] == '+' ? fsx.fsx_xflags | xflag : fsx.fsx_xflags & ~xflag;
			err = ioctl(fd, FS_IOC_FSSETXATTR, &fsx) < 0 ? errno : 0;
		}
		close(fd);
		return report(err, NULL);
	}
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
		err = errno;
		close(fd);
		return report(err, NULL);
	}
	if (!arg) {
		close(fd);
		snprintf(reply, sizeof(reply), "%#x", (unsigned int)flags);
		return report(0, reply);
	}
	flags = arg[0] == '+' ? (int)((unsigned int)flags | fs) : (int)((unsigned int)flags & ~fs);
	err = ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0 ? errno : 0;
	close(fd);
	return report(err, NULL);
}

static int op_tty_ioctl(const char *op, int fd)
{
	char subcode = 7; /* TIOCL_GETMOUSEREPORTING: reads, and only on a VT */
	struct termios tio;

	if (strcmp(op, "tioclinux") == 0)
		return result(ioctl(fd, TIOCLINUX, &subcode));
	return result(ioctl(fd, TCGETS, &tio));
}

/* The terminal a user starts an agent from, with the agent as its session. */
static int op_pty_run(char **cmd)
{
	char name[64], got[256];
	int master, slave, status;
	ssize_t n;
	pid_t child;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, name, sizeof(name)))
		return report(errno, NULL);
	fflush(stdout);
	child = fork();
	if (child < 0)
		return report(errno, NULL);
	if (child == 0) {
		if (setsid() < 0)
			_exit(127);
		slave = open(name, O_RDWR);
		if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0)
			_exit(127);
		close(master);
		execv(cmd[0], cmd);
		_exit(127);
	}
	if (waitpid(child, &status, 0) < 0)
		return report(errno, NULL);
	/* what was pushed waits in the terminal's input queue: read it as the shell would */
	slave = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (slave < 0)
		return report(errno, NULL);
	n = read(slave, got, sizeof(got) - 1);
	if (n > 0 && got[n - 1] == '\n')
		n--;
	if (n > 0) {
		got[n] = '\0';
		printf("pushed %s\n", got);
	} else {
		printf("pushed nothing\n");
	}
	close(slave);
	close(master);
	return 0;
}

int main(int argc, char **argv)
{
	const char *op;

	if (argc < 3)
		return usage();
	op = argv[1];
	if (strcmp(op, "pty-run") == 0)
		return op_pty_run(argv + 2);
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
			return report(trace(atoi(argv[2])), NULL);
		if (strcmp(op, "ptrace-child") == 0 && strcmp(argv[2], "-") == 0)
			return op_ptrace_child();
		if (strcmp(op, "finit-module") == 0)
			return op_finit_module(argv[2]);
		if (strcmp(op, "init-module") == 0 && strcmp(argv[2], "-") == 0)
			return op_init_module();
		if (strcmp(op, "getflags") == 0)
			return op_flags(op, argv[2], NULL);
	}
	if (argc == 4) {
		if (strcmp(op, "kill") == 0)
			return result(kill(atoi(argv[2]), atoi(argv[3])));
		if (strcmp(op, "vm-read") == 0)
			return op_vm_read(atoi(argv[2]), argv[3]);
		if (strcmp(op, "tiocsti") == 0)
			return report(push_text(atoi(argv[2]), argv[3]), NULL);
		if (strcmp(op, "tioclinux") == 0 || strcmp(op, "tcgets") == 0)
			return op_tty_ioctl(op, atoi(argv[2]));
		if (strcmp(op, "setflags") == 0 || strcmp(op, "fssetxattr") == 0)
			return op_flags(op, argv[2], argv[3]);
	}
	if (argc == 6 && strcmp(op, "mknod") == 0)
		return op_mknod(argv[2], argv[3], argv[4], argv[5]);
	return usage();
}
