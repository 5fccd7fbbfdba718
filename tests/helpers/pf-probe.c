// SPDX-License-Identifier: GPL-2.0-only
/*
 * pf-probe - perform exactly one operation and report how it went.
 *
 * The integration tests run pf-probe inside a confined agent and compare its
 * one line of output: "ok" (or "ok REPLY" for network operations) when the
 * operation succeeded, "err ENAME" when it failed, ENAME being the symbolic
 * errno name, so that EPERM and EACCES are never confused. Exit status: 0 on
 * success, 1 when the operation failed, 2 on a usage error.
 *
 *   connect ADDR PORT tcp|udp   connect; tcp sends "ping\n" and prints the
 *                               reply line, udp sends one datagram and waits
 *                               up to 1 s for a reply ("ok noreply" if none)
 *   sendto ADDR PORT udp        one unconnected datagram sent with its address,
 *                               then the same wait for a reply
 *   read PATH                   open O_RDONLY and read to the end
 *   write PATH                  open O_WRONLY|O_APPEND (never creates), write a line
 *   create PATH                 open O_CREAT|O_EXCL|O_WRONLY
 *   mkdir PATH | unlink PATH | rmdir PATH
 *   rename OLD NEW | rename-exchange OLD NEW | rename-whiteout OLD NEW
 *   link OLD NEW | symlink TARGET PATH
 *   map-exec PATH               mmap the file's first page PROT_READ|PROT_EXEC, as a
 *                               loader maps code
 *   mprotect-exec PATH          mmap it PROT_READ, then mprotect it PROT_READ|PROT_EXEC
 *   anon-exec private|shared    mmap anonymous memory read-write, then mprotect it
 *                               PROT_READ|PROT_EXEC, as a JIT does
 *   memfd-exec -                a memfd written, then mapped PROT_READ|PROT_EXEC
 *   chmod PATH MODE             chmod, MODE in octal
 *   chown PATH UID GID          chown
 *   send-fd SOCK PATH r|w       listen on the unix socket SOCK, open PATH O_RDONLY
 *                               (r) or O_WRONLY (w), pass it over SCM_RIGHTS to
 *                               the first to connect, then exit (10 s at most)
 *                               PATH memfd:NAME passes a memfd holding a line
 *                               (read-write, MODE ignored) instead
 *   recv-fd SOCK                connect to SOCK (retrying up to 5 s), receive one
 *                               descriptor and read from it if it is readable;
 *                               "refused" when the kernel dropped it (MSG_CTRUNC)
 *   memfd-truncate -            memfd_create, then ftruncate it to a page
 *
 * Routes to a file other than its name (test_paths.sh); r reads to the end,
 * w opens O_RDWR and writes a line:
 *   opath-reopen PATH r|w       open PATH O_PATH, then /proc/self/fd/N of it
 *   handle-open PATH r|w        name_to_handle_at PATH, chdir to its directory,
 *                               open_by_handle_at(AT_FDCWD, ...) (needs root)
 *   openat2 DIR PATH beneath|nosymlinks|inroot
 *                               openat2 of PATH from an O_PATH DIR, with that
 *                               RESOLVE_ flag, O_RDONLY; read
 *   new-mount unshare-bind SRC DST  unshare(CLONE_NEWNS), then bind SRC on DST
 *   new-mount open-tree SRC DST     open_tree(OPEN_TREE_CLONE) SRC, move_mount to DST
 *   new-mount fsmount FSTYPE DST    fsopen FSTYPE, fsmount, move_mount to DST
 *
 * Unix sockets (test_unix.sh); NAME is a path, or @NAME for an abstract name;
 * TYPE is stream, dgram or seqpacket:
 *   unix-listen NAME TYPE       bind NAME, serve one connection (its line is
 *                               answered "pong") or one datagram within 10 s,
 *                               print "ok LINE-RECEIVED"; run unconfined
 *   unix-connect NAME TYPE      connect (retrying up to 5 s while NAME is not
 *                               bound), send "ping"; "ok pong" for a connection,
 *                               "ok" for a datagram
 *   unix-sendto NAME            one unconnected datagram, by sendto
 *   unix-self NAME TYPE         bind NAME, fork a child to serve it, connect to it
 *   unix-pair TYPE              socketpair, one message across
 *
 * Attributes (test_xattr.sh); WHEN is "now" (times NULL) or seconds since 1970:
 *   setxattr PATH NAME VALUE | removexattr PATH NAME | getxattr PATH NAME
 *   fsetxattr PATH NAME VALUE   fsetxattr on a descriptor opened O_RDONLY
 *   utimens PATH WHEN           utimensat
 *   futimens PATH WHEN          futimens on a descriptor opened O_RDONLY
 *
 * Other tasks (test_othertask.sh); WHO is a pid, or "child" for a child
 * forked to wait (inside the caller's instance); sigio takes -PGID too:
 *   await-signal SECS           wait for SIGUSR1 or SIGIO ("ok SIGUSR1",
 *                               "ok SIGIO"), SIGTERM ("ok none"), or SECS
 *                               ("err ETIMEDOUT"); the unconfined target
 *   setnice WHO                 setpriority(PRIO_PROCESS, WHO, 5)
 *   ioprio WHO                  ioprio_set(IOPRIO_WHO_PROCESS, WHO, best effort 4)
 *   setsched WHO                sched_setscheduler(WHO, SCHED_BATCH)
 *   setaffinity WHO             sched_setaffinity(WHO, our own CPU set)
 *   prlimit WHO                 prlimit(WHO, RLIMIT_NOFILE, 256/1024)
 *   setpgid WHO                 setpgid(WHO, WHO)
 *   move-pages WHO              move_pages(WHO) of no pages
 *   sigio WHO setown|setown-ex|fiosetown
 *                               a pipe's (fiosetown: a socketpair's) SIGIO
 *                               aimed at WHO that way, F_SETSIG
 *                               SIGUSR1, O_ASYNC, then made readable; for a
 *                               child, "err ETIMEDOUT" when it got nothing
 *
 * ADDR is IPv4 or IPv6. An IPv4-mapped address such as ::ffff:127.0.0.1 is
 * used through an AF_INET6 socket, which is the point: it must be judged
 * exactly as 127.0.0.1. A TCP peer that closes without a reply line is
 * reported as "err ENODATA", a reply that does not come within the timeout as
 * "err ETIMEDOUT".
 */
#define _GNU_SOURCE /* unshare, CLONE_NEWUSER */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "report.h"

/* renameat2 flags, from linux/fs.h (which clashes with sys/mount.h) */
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

enum {
	EXIT_USAGE = 2,
	REPLY_MAX = 512,
	TCP_TIMEOUT_MS = 3000,
	UDP_TIMEOUT_MS = 1000,
};

static int usage(void)
{
	fprintf(stderr,
		"usage: pf-probe connect ADDR PORT tcp|udp\n"
		"       pf-probe sendto ADDR PORT udp\n"
		"       pf-probe read|write|create|mkdir|unlink|rmdir|truncate|read-trunc PATH\n"
		"       pf-probe bind SRC DST | userns -\n"
		"       pf-probe rename|rename-exchange|rename-whiteout|link OLD NEW\n"
		"       pf-probe chmod PATH MODE | chown PATH UID GID\n"
		"       pf-probe send-fd SOCK PATH r|w | recv-fd SOCK\n"
		"       pf-probe symlink TARGET PATH\n"
		"       pf-probe map-exec|mprotect-exec PATH | anon-exec private|shared\n"
		"       pf-probe memfd-exec - | memfd-truncate -\n"
		"       pf-probe opath-reopen|handle-open PATH r|w\n"
		"       pf-probe openat2 DIR PATH beneath|nosymlinks|inroot\n"
		"       pf-probe new-mount unshare-bind|open-tree SRC DST\n"
		"       pf-probe new-mount fsmount FSTYPE DST\n"
		"       pf-probe unix-listen|unix-connect|unix-self NAME stream|dgram|seqpacket\n"
		"       pf-probe unix-sendto NAME | unix-pair stream|dgram|seqpacket\n"
		"       pf-probe setxattr|fsetxattr PATH NAME VALUE\n"
		"       pf-probe removexattr|getxattr PATH NAME\n"
		"       pf-probe utimens|futimens PATH now|SECS\n"
		"       pf-probe await-signal SECS\n"
		"       pf-probe setnice|ioprio|setsched|setaffinity PID|child\n"
		"       pf-probe prlimit|setpgid|move-pages PID|child\n"
		"       pf-probe sigio PID|child setown|setown-ex|fiosetown\n");
	return EXIT_USAGE;
}

/* Wait up to timeout_ms for fd to become readable; 0, -ETIMEDOUT or -errno. */
static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return 0;
}

/* Cut buf at its first newline (the reply is one line). */
static void first_line(char *buf)
{
	buf[strcspn(buf, "\r\n")] = '\0';
}

/* Read one reply line from a connected TCP socket into buf; 0 or -errno. */
static int tcp_reply(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int err;

	while (len < size - 1) {
		err = wait_readable(fd, TCP_TIMEOUT_MS);
		if (err)
			return err;
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (memchr(buf, '\n', len))
			break;
	}
	if (len == 0)
		return -ENODATA;
	buf[len] = '\0';
	first_line(buf);
	return 0;
}

/* Wait up to UDP_TIMEOUT_MS for one datagram; 0 (buf may be "noreply") or -errno. */
static int udp_reply(int fd, char *buf, size_t size)
{
	ssize_t n;
	int err;

	err = wait_readable(fd, UDP_TIMEOUT_MS);
	if (err == -ETIMEDOUT) {
		snprintf(buf, size, "noreply");
		return 0;
	}
	if (err)
		return err;

	n = recv(fd, buf, size - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	first_line(buf);
	return 0;
}

static int op_net(const char *op, const char *addr, const char *port, const char *proto)
{
	static const char ping[] = "ping\n";
	char reply[REPLY_MAX] = "";
	struct sockaddr_storage ss;
	socklen_t len;
	int tcp, fd, err;

	if (parse_addr(addr, port, &ss, &len))
		return usage();
	if (strcmp(proto, "tcp") == 0 && strcmp(op, "connect") == 0)
		tcp = 1;
	else if (strcmp(proto, "udp") == 0)
		tcp = 0;
	else
		return usage();

	fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return report(errno, NULL);

	if (strcmp(op, "sendto") == 0) {
		if (sendto(fd, ping, sizeof(ping) - 1, 0, (struct sockaddr *)&ss, len) < 0) {
			err = -errno;
			goto out;
		}
	} else {
		if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			err = -errno;
			goto out;
		}
		if (send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) < 0) {
			err = -errno;
			goto out;
		}
	}

	err = tcp ? tcp_reply(fd, reply, sizeof(reply)) : udp_reply(fd, reply, sizeof(reply));
out:
	close(fd);
	return report(-err, err ? NULL : reply);
}

/* Open path with flags, then read to the end or write one line. */
static int op_open(const char *path, int flags)
{
	static const char line[] = "pf-probe\n";
	char buf[4096];
	ssize_t n;
	int fd, err = 0;

	fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return report(errno, NULL);

	if ((flags & O_ACCMODE) == O_RDONLY) {
		do {
			n = read(fd, buf, sizeof(buf));
		} while (n > 0 || (n < 0 && errno == EINTR));
		if (n < 0)
			err = errno;
	} else if (!(flags & O_CREAT)) {
		if (write(fd, line, sizeof(line) - 1) < 0)
			err = errno;
	}
	close(fd);
	return report(err, NULL);
}

/*
 * Map the first page of path, executable at once (mprotect 0) or readable
 * first and executable by mprotect (mprotect 1); the page is never touched.
 */
static int op_map_exec(const char *path, int mprotect_after)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	int prot = PROT_READ | (mprotect_after ? 0 : PROT_EXEC);
	int fd, err = 0;
	void *p;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	p = mmap(NULL, len, prot, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		goto out;
	}
	if (mprotect_after && mprotect(p, len, PROT_READ | PROT_EXEC))
		err = errno;
	munmap(p, len);
out:
	close(fd);
	return report(err, NULL);
}

/* Make anonymous memory (private or shared) executable after writing to it. */
static int op_anon_exec(const char *kind)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	int flags = MAP_ANONYMOUS;
	int err = 0;
	void *p;

	if (strcmp(kind, "private") == 0)
		flags |= MAP_PRIVATE;
	else if (strcmp(kind, "shared") == 0)
		flags |= MAP_SHARED;
	else
		return usage();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return report(errno, NULL);
	memset(p, 0xc3, len); /* ret */
	if (mprotect(p, len, PROT_READ | PROT_EXEC))
		err = errno;
	munmap(p, len);
	return report(err, NULL);
}

/* Write a page of code into a memfd, then map it executable (JIT double mapping). */
static int op_memfd_exec(void)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	int fd, err = 0;
	void *p;

	fd = memfd_create("pf-probe", MFD_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	/* written, not sized by ftruncate: that is judged as truncate */
	for (size_t done = 0; done < len; done++) {
		if (write(fd, "\xc3", 1) != 1) {
			err = errno;
			goto out;
		}
	}
	p = mmap(NULL, len, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err = errno;
	else
		munmap(p, len);
out:
	close(fd);
	return report(err, NULL);
}

/* Unix socket address of path, or -1 when it is too long. */
static int unix_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -1;
	strcpy(sun->sun_path, path);
	return 0;
}

/* A memfd named name holding one line, read from its start; the descriptor or -1. */
static int memfd_with_line(const char *name)
{
	int fd = memfd_create(name, 0);

	if (fd < 0)
		return -1;
	if (write(fd, "memfd\n", 6) != 6 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The sending half of a descriptor pass; run outside pinfold. */
static int op_send_fd(const char *sock, const char *path, const char *mode)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct sockaddr_un sun;
	struct msghdr msg = {0};
	struct cmsghdr *cm;
	struct iovec iov;
	char byte = 'x';
	int l, c, fd;

	alarm(10); /* a receiver that never comes must not hang the suite */
	if (unix_addr(&sun, sock) < 0)
		return report(ENAMETOOLONG, NULL);
	if (strncmp(path, "memfd:", 6) == 0)
		fd = memfd_with_line(path + 6);
	else
		fd = open(path, strcmp(mode, "w") == 0 ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return report(errno, NULL);
	unlink(sock);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(l, 1) < 0)
		return report(errno, NULL);
	c = accept(l, NULL, NULL);
	if (c < 0)
		return report(errno, NULL);
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(c, &msg, 0) < 0)
		return report(errno, NULL);
	unlink(sock);
	return report(0, NULL);
}

/* The receiving half: the descriptor's refusal is not an errno, the kernel drops it. */
static int op_recv_fd(const char *sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct sockaddr_un sun;
	struct msghdr msg = {0};
	struct cmsghdr *cm;
	struct iovec iov;
	char byte, buf[256];
	int s, fd = -1, i, fl;

	if (unix_addr(&sun, sock) < 0)
		return report(ENAMETOOLONG, NULL);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		return report(errno, NULL);
	for (i = 0; connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0; i++) {
		if ((errno != ENOENT && errno != ECONNREFUSED) || i == 50)
			return report(errno, NULL);
		usleep(100000);
	}
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(s, &msg, 0) < 0)
		return report(errno, NULL);
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (fd < 0) {
		printf("%s\n", (msg.msg_flags & MSG_CTRUNC) ? "refused" : "err ENODATA");
		return REPORT_EXIT_FAILED;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_ACCMODE) != O_WRONLY && read(fd, buf, sizeof(buf)) < 0)
		return report(errno, NULL);
	return report(0, NULL);
}

/* Report the outcome of a path call that returned rc. */
static int path_result(int rc)
{
	return report(rc < 0 ? errno : 0, NULL);
}

/* --- routes to a file other than its path (tests/vm/test_paths.sh) ------------------------ */

/* Read to the end of fd (r) or write a line to it (w); 0 or a positive errno. */
static int use_fd(int fd, const char *mode)
{
	static const char line[] = "pf-probe\n";
	char buf[4096];
	ssize_t n;

	if (strcmp(mode, "w") == 0)
		return write(fd, line, sizeof(line) - 1) < 0 ? errno : 0;
	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
	return n < 0 ? errno : 0;
}

/* open(2) flags for mode r (read) or w (read-write); -1 for anything else. */
static int mode_flags(const char *mode)
{
	if (strcmp(mode, "r") == 0)
		return O_RDONLY;
	if (strcmp(mode, "w") == 0)
		return O_RDWR;
	return -1;
}

/* An O_PATH descriptor (never judged: nothing can be read through it) reopened by /proc. */
static int op_opath_reopen(const char *path, const char *mode)
{
	int flags = mode_flags(mode);
	char proc[64];
	int o, fd, err;

	if (flags < 0)
		return usage();
	o = open(path, O_PATH | O_CLOEXEC);
	if (o < 0)
		return report(errno, NULL);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o);
	fd = open(proc, flags | O_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	err = use_fd(fd, mode);
	close(fd);
	close(o);
	return report(err, NULL);
}

/*
 * A file handle taken by name, opened again without a name. The mount is
 * given as AT_FDCWD after a chdir to the file's directory: the mount fd
 * may not be an O_PATH descriptor, and any other open would be judged.
 */
static int op_handle_open(const char *path, const char *mode)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h;
	int flags = mode_flags(mode);
	char dir[PATH_MAX];
	int mount_id, fd, err;
	char *slash;

	if (flags < 0 || strlen(path) >= sizeof(dir))
		return usage();
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return report(errno, NULL);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0'; /* "/f" is in "/" */
	if (slash && chdir(dir) < 0)
		return report(errno, NULL);
	fd = open_by_handle_at(AT_FDCWD, &h.fh, flags | O_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	err = use_fd(fd, mode);
	close(fd);
	return report(err, NULL);
}

/* openat2 from DIR (an O_PATH descriptor, not judged) with one RESOLVE_ flag; read. */
static int op_openat2(const char *dir, const char *path, const char *how_name)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
	int d, fd, err;

	if (strcmp(how_name, "beneath") == 0)
		how.resolve = RESOLVE_BENEATH;
	else if (strcmp(how_name, "nosymlinks") == 0)
		how.resolve = RESOLVE_NO_SYMLINKS;
	else if (strcmp(how_name, "inroot") == 0)
		how.resolve = RESOLVE_IN_ROOT;
	else
		return usage();
	d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return report(errno, NULL);
	fd = (int)syscall(SYS_openat2, d, path, &how, sizeof(how));
	if (fd < 0)
		return report(errno, NULL);
	err = use_fd(fd, "r");
	close(fd);
	close(d);
	return report(err, NULL);
}

/*
 * Mounts made another way than mount(2) in our own namespace: a bind in a
 * new mount namespace (whose mounts propagate back while it shares them),
 * an open_tree clone placed by move_mount, a new tmpfs by fsopen, fsmount
 * and move_mount.
 */
static int op_new_mount(const char *how, const char *src, const char *dst)
{
	int fs, m;

	if (strcmp(how, "unshare-bind") == 0)
		return path_result(unshare(CLONE_NEWNS) ?: mount(src, dst, NULL, MS_BIND, NULL));
	if (strcmp(how, "open-tree") == 0) {
		m = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (m < 0)
			return report(errno, NULL);
		return path_result(move_mount(m, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH));
	}
	if (strcmp(how, "fsmount") == 0) {
		fs = fsopen(src, FSOPEN_CLOEXEC);
		if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			return report(errno, NULL);
		m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
		if (m < 0)
			return report(errno, NULL);
		return path_result(move_mount(m, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH));
	}
	return usage();
}

/* --- unix sockets (tests/vm/test_unix.sh) -------------------------------------------------- */

/* Socket type by name: stream, dgram or seqpacket; -1 for anything else. */
static int unix_type(const char *name)
{
	if (strcmp(name, "stream") == 0)
		return SOCK_STREAM;
	if (strcmp(name, "dgram") == 0)
		return SOCK_DGRAM;
	if (strcmp(name, "seqpacket") == 0)
		return SOCK_SEQPACKET;
	return -1;
}

/* Address of a path, or of an abstract name written @NAME; its length, or -1 if too long. */
static socklen_t unix_name(struct sockaddr_un *sun, const char *name)
{
	size_t len = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (len >= sizeof(sun->sun_path))
		return (socklen_t)-1;
	if (name[0] != '@') {
		memcpy(sun->sun_path, name, len);
		return sizeof(*sun);
	}
	/* abstract: a leading NUL, and the length says where the name ends */
	memcpy(sun->sun_path + 1, name + 1, len - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/*
 * Serve one peer on the bound socket l: a stream or seqpacket connection
 * whose line is answered "pong", or one datagram. What came is in got.
 * 0 or a positive errno; ETIMEDOUT after 10 s.
 */
static int unix_serve(int l, int type, char *got, size_t size)
{
	int c = l, err;
	ssize_t n;

	if (type != SOCK_DGRAM) {
		if (listen(l, 1) < 0)
			return errno;
	}
	err = -wait_readable(l, 10000);
	if (err)
		return err;
	if (type != SOCK_DGRAM) {
		c = accept(l, NULL, NULL);
		if (c < 0)
			return errno;
		err = -wait_readable(c, 10000);
		if (err)
			return err;
	}
	n = recv(c, got, size - 1, 0);
	if (n < 0)
		return errno;
	got[n] = '\0';
	first_line(got);
	if (type != SOCK_DGRAM && send(c, "pong\n", 5, MSG_NOSIGNAL) < 0)
		return errno;
	return 0;
}

/* A socket of type bound to name; the descriptor, or -errno. */
static int unix_bound(const char *name, int type)
{
	struct sockaddr_un sun;
	socklen_t len = unix_name(&sun, name);
	int l;

	if (len == (socklen_t)-1)
		return -ENAMETOOLONG;
	if (name[0] != '@')
		unlink(name);
	l = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sun, len) < 0)
		return -errno;
	return l;
}

/* The unconfined peer: serve one connection or datagram, print what came. */
static int op_unix_listen(const char *name, const char *type_name)
{
	char got[REPLY_MAX];
	int type = unix_type(type_name);
	int l, err;

	if (type < 0)
		return usage();
	l = unix_bound(name, type);
	if (l < 0)
		return report(-l, NULL);
	err = unix_serve(l, type, got, sizeof(got));
	if (name[0] != '@')
		unlink(name);
	return report(err, err ? NULL : got);
}

/*
 * Connect to name (retrying up to 5 s while nobody listens yet) and send
 * "ping": a stream or seqpacket peer's reply line is printed, a datagram
 * is sent on the connected socket. With to set, the datagram is sent by
 * sendto, unconnected. 0 or a positive errno.
 */
static int unix_ping(const char *name, int type, int to, char *reply, size_t size)
{
	static const char ping[] = "ping\n";
	struct sockaddr_un sun;
	socklen_t len = unix_name(&sun, name);
	int s, i, rc, err = 0;

	if (len == (socklen_t)-1)
		return ENAMETOOLONG;
	s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	for (i = 0;; i++) {
		if (to)
			rc = (int)sendto(s, ping, sizeof(ping) - 1, 0, (struct sockaddr *)&sun,
					 len);
		else
			rc = connect(s, (struct sockaddr *)&sun, len);
		if (rc >= 0)
			break;
		if ((errno != ENOENT && errno != ECONNREFUSED) || i == 50) {
			err = errno;
			goto out;
		}
		usleep(100000);
	}
	if (!to && send(s, ping, sizeof(ping) - 1, MSG_NOSIGNAL) < 0)
		err = errno;
	else if (type != SOCK_DGRAM)
		err = -tcp_reply(s, reply, size);
out:
	close(s);
	return err;
}

static int op_unix_connect(const char *name, const char *type_name, int to)
{
	char reply[REPLY_MAX] = "";
	int type = unix_type(type_name);
	int err;

	if (type < 0 || (to && type != SOCK_DGRAM))
		return usage();
	err = unix_ping(name, type, to, reply, sizeof(reply));
	return report(err, err || !reply[0] ? NULL : reply);
}

/* A listener of our own (a child, so inside our instance) and a connection to it. */
static int op_unix_self(const char *name, const char *type_name)
{
	char reply[REPLY_MAX] = "", got[REPLY_MAX];
	int type = unix_type(type_name);
	int l, status, err;
	pid_t pid;

	if (type < 0)
		return usage();
	l = unix_bound(name, type);
	if (l < 0)
		return report(-l, NULL);
	pid = fork();
	if (pid < 0)
		return report(errno, NULL);
	if (pid == 0)
		_exit(unix_serve(l, type, got, sizeof(got)) ? 1 : 0);
	close(l);
	err = unix_ping(name, type, 0, reply, sizeof(reply));
	if (err)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!err && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		err = EPROTO; /* our listener saw nothing */
	if (name[0] != '@')
		unlink(name);
	return report(err, err || !reply[0] ? NULL : reply);
}

/* An unnamed pair: nothing to judge, a line goes through. */
static int op_unix_pair(const char *type_name)
{
	int type = unix_type(type_name);
	char buf[8];
	int sv[2];

	if (type < 0)
		return usage();
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		return report(errno, NULL);
	if (send(sv[0], "ping", 4, 0) != 4 || recv(sv[1], buf, sizeof(buf), 0) != 4)
		return report(errno, NULL);
	return report(0, NULL);
}

/* --- attributes (tests/vm/test_xattr.sh) ----------------------------------------------------- */

/* Times for utimensat: NULL (now) for "now", else both times set to SECS. */
static const struct timespec *times_of(const char *when, struct timespec ts[2])
{
	if (strcmp(when, "now") == 0)
		return NULL;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)strtol(when, NULL, 10);
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return ts;
}

/* futimens on a descriptor opened O_RDONLY: changing times needs write all the same. */
static int op_futimens(const char *path, const char *when)
{
	struct timespec ts[2];
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	if (futimens(fd, times_of(when, ts)) < 0)
		err = errno;
	close(fd);
	return report(err, NULL);
}

/* fsetxattr on a descriptor opened O_RDONLY. */
static int op_fsetxattr(const char *path, const char *name, const char *value)
{
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	if (fsetxattr(fd, name, value, strlen(value), 0) < 0)
		err = errno;
	close(fd);
	return report(err, NULL);
}

/* The value of an attribute, printed as the reply (to check one was not set). */
static int op_getxattr(const char *path, const char *name)
{
	char value[REPLY_MAX];
	ssize_t n;

	n = getxattr(path, name, value, sizeof(value) - 1);
	if (n < 0)
		return report(errno, NULL);
	value[n] = '\0';
	return report(0, value);
}

/* A memfd sized by ftruncate: a file on a kernel-internal mount, in no class, yet ours. */
static int op_memfd_truncate(void)
{
	int fd, err = 0;

	fd = memfd_create("pf-probe", MFD_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	if (ftruncate(fd, sysconf(_SC_PAGESIZE)) < 0)
		err = errno;
	close(fd);
	return report(err, NULL);
}

/* --- other tasks (tests/vm/test_othertask.sh) ------------------------------------------------ */

/*
 * The unconfined target: wait up to secs for SIGUSR1 or SIGIO (either
 * means a SIGIO aimed at us came through) or SIGTERM (the test is done
 * with us). "ok SIGUSR1", "ok SIGIO", "ok none" (SIGTERM), or "err ETIMEDOUT".
 */
static int op_await_signal(const char *secs)
{
	struct timespec ts = {.tv_sec = strtol(secs, NULL, 10)};
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGIO);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	do {
		sig = sigtimedwait(&set, NULL, &ts);
	} while (sig < 0 && errno == EINTR);
	if (sig < 0)
		return report(errno == EAGAIN ? ETIMEDOUT : errno, NULL);
	return report(0, sig == SIGUSR1 ? "SIGUSR1" : sig == SIGIO ? "SIGIO" : "none");
}

/*
 * The task an operation aims at: PID (negative: a process group, for
 * sigio), or for "child" a child forked to wait
 * (inside our instance) up to 10 s for SIGUSR1, exiting 0 if it came.
 * SIGUSR1 is blocked before the fork so that it cannot kill the child early.
 * *child is the child, 0 for PID, -1 (errno set) on failure.
 */
static pid_t target(const char *arg, pid_t *child)
{
	sigset_t set;
	char *end;
	pid_t pid;

	*child = 0;
	if (strcmp(arg, "child") != 0) {
		pid = (pid_t)strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || pid == 0) {
			*child = -1; /* 0 would be the caller itself */
			errno = EINVAL;
		}
		return pid;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid = fork();
	if (pid == 0) {
		struct timespec ts = {.tv_sec = 10};

		_exit(sigtimedwait(&set, NULL, &ts) == SIGUSR1 ? 0 : 1);
	}
	*child = pid; /* -1 when the fork failed */
	return pid;
}

/* End a child from target(); whether it received SIGUSR1 (1) or not (0). */
static int reap(pid_t child, int wait_for_it)
{
	int status;

	if (child <= 0)
		return 0;
	if (!wait_for_it)
		kill(child, SIGKILL);
	if (waitpid(child, &status, 0) < 0)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * Arrange SIGIO for pid on a pipe's read end (F_SETOWN, F_SETOWN_EX) or a
 * socketpair's (FIOSETOWN) with F_SETSIG SIGUSR1, then make it readable. The signal is
 * queued (or not) inside the write: nothing here can tell, the target does.
 */
static int sigio_to(pid_t pid, const char *how)
{
	struct f_owner_ex ex = {.type = F_OWNER_PID, .pid = pid};
	int p[2], rc;

	/* FIOSETOWN is a socket ioctl; a pipe knows only the fcntl commands */
	if (strcmp(how, "fiosetown") == 0)
		rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p);
	else
		rc = pipe2(p, O_CLOEXEC);
	if (rc < 0)
		return errno;
	if (strcmp(how, "setown") == 0)
		rc = fcntl(p[0], F_SETOWN, pid);
	else if (strcmp(how, "setown-ex") == 0)
		rc = fcntl(p[0], F_SETOWN_EX, &ex);
	else if (strcmp(how, "fiosetown") == 0)
		rc = ioctl(p[0], FIOSETOWN, &pid);
	else
		return EINVAL;
	if (rc < 0 || fcntl(p[0], F_SETSIG, SIGUSR1) < 0 ||
	    fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) < 0 || write(p[1], "x", 1) != 1)
		return errno;
	close(p[0]);
	close(p[1]);
	return 0;
}

/* Do one thing to another task; 0 or a positive errno. */
static int task_op(const char *op, pid_t pid, const char *how)
{
	struct rlimit rl = {.rlim_cur = 256, .rlim_max = 1024};
	struct sched_param sp = {0};
	cpu_set_t cpus;

	if (strcmp(op, "setnice") == 0)
		return setpriority(PRIO_PROCESS, (id_t)pid, 5) < 0 ? errno : 0;
	/* IOPRIO_WHO_PROCESS, best effort (class 2) level 4, from linux/ioprio.h */
	if (strcmp(op, "ioprio") == 0)
		return syscall(SYS_ioprio_set, 1, pid, (2 << 13) | 4) < 0 ? errno : 0;
	if (strcmp(op, "setsched") == 0)
		return sched_setscheduler(pid, SCHED_BATCH, &sp) < 0 ? errno : 0;
	if (strcmp(op, "setaffinity") == 0) {
		if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
			return errno;
		return sched_setaffinity(pid, sizeof(cpus), &cpus) < 0 ? errno : 0;
	}
	if (strcmp(op, "prlimit") == 0)
		return prlimit(pid, RLIMIT_NOFILE, &rl, NULL) < 0 ? errno : 0;
	if (strcmp(op, "setpgid") == 0)
		return setpgid(pid, pid) < 0 ? errno : 0;
	/* no pages: the target is checked, nothing moves */
	if (strcmp(op, "move-pages") == 0)
		return syscall(SYS_move_pages, pid, 0UL, NULL, NULL, NULL, 0) < 0 ? errno : 0;
	if (strcmp(op, "sigio") == 0)
		return sigio_to(pid, how);
	return EINVAL;
}

/*
 * op on PID or on a child of ours. For sigio on a child the answer is
 * whether the child got the signal: "err ETIMEDOUT" when it did not.
 */
static int op_task(const char *op, const char *who, const char *how)
{
	pid_t child, pid;
	int err, got;

	pid = target(who, &child);
	if (child < 0)
		return report(errno, NULL);
	err = task_op(op, pid, how);
	got = reap(child, !err && strcmp(op, "sigio") == 0);
	if (!err && child && strcmp(op, "sigio") == 0 && !got)
		err = ETIMEDOUT;
	return report(err, NULL);
}

int main(int argc, char **argv)
{
	const char *op;

	if (argc < 2)
		return usage();
	op = argv[1];

	if ((strcmp(op, "connect") == 0 || strcmp(op, "sendto") == 0) && argc == 5)
		return op_net(op, argv[2], argv[3], argv[4]);
	if (strcmp(op, "unix-sendto") == 0 && argc == 3)
		return op_unix_connect(argv[2], "dgram", 1);
	if (argc == 3) {
		if (strcmp(op, "read") == 0)
			return op_open(argv[2], O_RDONLY);
		if (strcmp(op, "write") == 0)
			return op_open(argv[2], O_WRONLY | O_APPEND);
		if (strcmp(op, "create") == 0)
			return op_open(argv[2], O_CREAT | O_EXCL | O_WRONLY);
		if (strcmp(op, "mkdir") == 0)
			return path_result(mkdir(argv[2], 0755));
		if (strcmp(op, "unlink") == 0)
			return path_result(unlink(argv[2]));
		if (strcmp(op, "rmdir") == 0)
			return path_result(rmdir(argv[2]));
#if defined(__x86_64__)
		/* getpid through the 32-bit ABI (int $0x80, i386 number 20) */
		if (strcmp(op, "compat-getpid") == 0 && strcmp(argv[2], "-") == 0) {
			long rc;

			__asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
			return path_result(rc < 0 ? (errno = (int)-rc, -1) : 0);
		}
#endif
		/* a user namespace would let an unprivileged agent mount */
		if (strcmp(op, "userns") == 0 && strcmp(argv[2], "-") == 0)
			return path_result(unshare(CLONE_NEWUSER));
		if (strcmp(op, "truncate") == 0)
			return path_result(truncate(argv[2], 0));
		/* O_RDONLY | O_TRUNC truncates too, whatever the access mode says */
		if (strcmp(op, "read-trunc") == 0)
			return op_open(argv[2], O_RDONLY | O_TRUNC);
		if (strcmp(op, "map-exec") == 0)
			return op_map_exec(argv[2], 0);
		if (strcmp(op, "mprotect-exec") == 0)
			return op_map_exec(argv[2], 1);
		if (strcmp(op, "anon-exec") == 0)
			return op_anon_exec(argv[2]);
		if (strcmp(op, "memfd-exec") == 0 && strcmp(argv[2], "-") == 0)
			return op_memfd_exec();
		if (strcmp(op, "recv-fd") == 0)
			return op_recv_fd(argv[2]);
		if (strcmp(op, "memfd-truncate") == 0 && strcmp(argv[2], "-") == 0)
			return op_memfd_truncate();
		if (strcmp(op, "unix-pair") == 0)
			return op_unix_pair(argv[2]);
		if (strcmp(op, "await-signal") == 0)
			return op_await_signal(argv[2]);
		if (strcmp(op, "setnice") == 0 || strcmp(op, "ioprio") == 0 ||
		    strcmp(op, "setsched") == 0 || strcmp(op, "setaffinity") == 0 ||
		    strcmp(op, "prlimit") == 0 || strcmp(op, "setpgid") == 0 ||
		    strcmp(op, "move-pages") == 0)
			return op_task(op, argv[2], NULL);
	}
	if (argc == 4) {
		if (strcmp(op, "rename") == 0)
			return path_result(rename(argv[2], argv[3]));
		if (strcmp(op, "rename-exchange") == 0)
			return path_result((int)syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD,
							argv[3], RENAME_EXCHANGE));
		if (strcmp(op, "rename-whiteout") == 0)
			return path_result((int)syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD,
							argv[3], RENAME_WHITEOUT));
		if (strcmp(op, "link") == 0)
			return path_result(link(argv[2], argv[3]));
		if (strcmp(op, "symlink") == 0)
			return path_result(symlink(argv[2], argv[3]));
		/* in a mount namespace of its own (root), pivot_root NEW OLD */
		if (strcmp(op, "pivot") == 0)
			return path_result(
				unshare(CLONE_NEWNS)
					?: (int)syscall(SYS_pivot_root, argv[2], argv[3]));
		if (strcmp(op, "bind") == 0)
			return path_result(mount(argv[2], argv[3], NULL, MS_BIND | MS_REC, NULL));
		if (strcmp(op, "chmod") == 0)
			return path_result(chmod(argv[2], (mode_t)strtoul(argv[3], NULL, 8)));
		if (strcmp(op, "opath-reopen") == 0)
			return op_opath_reopen(argv[2], argv[3]);
		if (strcmp(op, "handle-open") == 0)
			return op_handle_open(argv[2], argv[3]);
		if (strcmp(op, "unix-listen") == 0)
			return op_unix_listen(argv[2], argv[3]);
		if (strcmp(op, "unix-connect") == 0)
			return op_unix_connect(argv[2], argv[3], 0);
		if (strcmp(op, "unix-self") == 0)
			return op_unix_self(argv[2], argv[3]);
		if (strcmp(op, "removexattr") == 0)
			return path_result(removexattr(argv[2], argv[3]));
		if (strcmp(op, "getxattr") == 0)
			return op_getxattr(argv[2], argv[3]);
		if (strcmp(op, "utimens") == 0) {
			struct timespec ts[2];

			return path_result(utimensat(AT_FDCWD, argv[2], times_of(argv[3], ts), 0));
		}
		if (strcmp(op, "futimens") == 0)
			return op_futimens(argv[2], argv[3]);
		if (strcmp(op, "sigio") == 0)
			return op_task(op, argv[2], argv[3]);
	}
	if (argc == 5) {
		if (strcmp(op, "chown") == 0)
			return path_result(chown(argv[2], (uid_t)strtoul(argv[3], NULL, 10),
						 (gid_t)strtoul(argv[4], NULL, 10)));
		if (strcmp(op, "send-fd") == 0)
			return op_send_fd(argv[2], argv[3], argv[4]);
		if (strcmp(op, "openat2") == 0)
			return op_openat2(argv[2], argv[3], argv[4]);
		if (strcmp(op, "new-mount") == 0)
			return op_new_mount(argv[2], argv[3], argv[4]);
		if (strcmp(op, "setxattr") == 0)
			return path_result(setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0));
		if (strcmp(op, "fsetxattr") == 0)
			return op_fsetxattr(argv[2], argv[3], argv[4]);
	}
	return usage();
}
