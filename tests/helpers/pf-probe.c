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
 *   recv-fd SOCK                connect to SOCK (retrying up to 5 s), receive one
 *                               descriptor and read from it if it is readable;
 *                               "refused" when the kernel dropped it (MSG_CTRUNC)
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
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

/* renameat2 flags, from linux/fs.h (which clashes with sys/mount.h) */
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

enum {
	EXIT_OP_FAILED = 1,
	EXIT_USAGE = 2,
	REPLY_MAX = 512,
	TCP_TIMEOUT_MS = 3000,
	UDP_TIMEOUT_MS = 1000,
};

/* packed by hand: one name a line would be 90 lines */
/* clang-format off */
#define E(name) [name] = #name
static const char *const errno_names[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(ENOTBLK),
	E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL),
	E(ENFILE), E(EMFILE), E(ENOTTY), E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE),
	E(EROFS), E(EMLINK), E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG),
	E(ENOLCK), E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ENOSTR),
	E(ENODATA), E(ETIME), E(ENOSR), E(ENOLINK), E(EPROTO), E(EBADMSG), E(EOVERFLOW),
	E(EILSEQ), E(EUSERS), E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE),
	E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP),
	E(EPFNOSUPPORT), E(EAFNOSUPPORT), E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN),
	E(ENETUNREACH), E(ENETRESET), E(ECONNABORTED), E(ECONNRESET), E(ENOBUFS),
	E(EISCONN), E(ENOTCONN), E(ESHUTDOWN), E(ETOOMANYREFS), E(ETIMEDOUT),
	E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY), E(EINPROGRESS),
	E(ESTALE), E(EDQUOT), E(ECANCELED), E(EOWNERDEAD), E(ENOTRECOVERABLE),
	E(ERFKILL), E(EHWPOISON),
};
#undef E
/* clang-format on */

static const char *errno_name(int err)
{
	static char buf[16];

	if (err > 0 && (size_t)err < sizeof(errno_names) / sizeof(errno_names[0]) &&
	    errno_names[err])
		return errno_names[err];
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

/* Print the outcome line; err is 0 or a positive errno. Returns the exit status. */
static int report(int err, const char *reply)
{
	if (err) {
		printf("err %s\n", errno_name(err));
		return EXIT_OP_FAILED;
	}
	if (reply)
		printf("ok %s\n", reply);
	else
		printf("ok\n");
	return EXIT_SUCCESS;
}

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
		"       pf-probe memfd-exec -\n");
	return EXIT_USAGE;
}

/* Fill ss from a textual address and port; 0 or -EINVAL. */
static int parse_addr(const char *addr, const char *port, struct sockaddr_storage *ss,
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
		return EXIT_OP_FAILED;
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

int main(int argc, char **argv)
{
	const char *op;

	if (argc < 2)
		return usage();
	op = argv[1];

	if ((strcmp(op, "connect") == 0 || strcmp(op, "sendto") == 0) && argc == 5)
		return op_net(op, argv[2], argv[3], argv[4]);
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
	}
	if (argc == 5) {
		if (strcmp(op, "chown") == 0)
			return path_result(chown(argv[2], (uid_t)strtoul(argv[3], NULL, 10),
						 (gid_t)strtoul(argv[4], NULL, 10)));
		if (strcmp(op, "send-fd") == 0)
			return op_send_fd(argv[2], argv[3], argv[4]);
	}
	return usage();
}
