// SPDX-License-Identifier: GPL-2.0-only
/*
 * pf-uring - perform one operation through io_uring and report how it went.
 *
 * io_uring runs system calls on the program's behalf: inline at submission,
 * in a kernel worker thread (io-wq, forced with --async) or, with an SQPOLL
 * ring (--sqpoll), submitted by a kernel thread that polls the ring. Each
 * must be judged exactly like the direct call: the same verdict, the same one
 * audit record. Prints one line as pf-probe does: "ok", "ok REPLY" or
 * "err ENAME". Exit status: 0 on success, 1 when the operation failed, 2 on
 * a usage error.
 *
 *   pf-uring [--sqpoll|--async] OP ARGS...
 *
 *   open PATH r|w            IORING_OP_OPENAT (O_RDONLY, or O_WRONLY|O_APPEND, never
 *                            creating), then IORING_OP_READ to the end or one WRITE
 *   mkdir PATH | unlink PATH | rmdir PATH
 *   rename OLD NEW | link OLD NEW | symlink TARGET PATH
 *                            IORING_OP_MKDIRAT, UNLINKAT, RENAMEAT, LINKAT, SYMLINKAT
 *   connect ADDR PORT        TCP: the socket by IORING_OP_SOCKET when the kernel has
 *                            it (else socket(2)), IORING_OP_CONNECT, SEND "ping\n",
 *                            RECV of the reply line, printed as "ok REPLY"
 *   sendmsg ADDR PORT        UDP: one datagram by IORING_OP_SENDMSG with msg_name,
 *   sendmsg-zc ADDR PORT     by IORING_OP_SENDMSG_ZC,
 *   sendto ADDR PORT         by IORING_OP_SEND with a destination address; then up
 *                            to 1 s for a reply ("ok noreply" if none)
 *   socket KIND              IORING_OP_SOCKET of tcp, udp, raw (inet icmp), raw6,
 *                            packet; "err ENOSYS" when the kernel lacks the opcode
 *   fastopen ADDR PORT sendto|connect|uring
 *                            TCP fast open, no io_uring unless "uring": sendto with
 *                            MSG_FASTOPEN; TCP_FASTOPEN_CONNECT then connect and
 *                            send; or IORING_OP_SENDMSG with msg_name and
 *                            MSG_FASTOPEN. Then the reply line, as connect
 *
 *   route ADDR PORT HOP      a UDP socket made by the ring, a source route through HOP
 *                            set by the ring's setsockopt (IORING_OP_URING_CMD):
 *                            IPv4 LSRR (IP_OPTIONS) or an IPv6 segment routing header
 *                            (IPV6_RTHDR); then one datagram by IORING_OP_SENDMSG, no
 *                            reply awaited: "ok sent"
 *
 * "err ETIMEDOUT" when a completion or a TCP reply does not come in time,
 * "err ENODATA" when the peer closes without a reply line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "report.h"

#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

enum {
	EXIT_USAGE = 2,
	RING_ENTRIES = 8,
	REPLY_MAX = 512,
	OP_TIMEOUT_MS = 5000,
	TCP_TIMEOUT_MS = 3000,
	UDP_TIMEOUT_MS = 1000,
	SQ_IDLE_MS = 2000,
};

static const char ping[] = "ping\n";

static struct io_uring ring;
/* IOSQE_ASYNC with --async: every request goes to an io-wq worker */
static unsigned char sqe_flags;

static int usage(void)
{
	fprintf(stderr,
		"usage: pf-uring [--sqpoll|--async] open PATH r|w\n"
		"       pf-uring [--sqpoll|--async] mkdir|unlink|rmdir PATH\n"
		"       pf-uring [--sqpoll|--async] rename|link OLD NEW | symlink TARGET PATH\n"
		"       pf-uring [--sqpoll|--async] connect|sendmsg|sendmsg-zc|sendto ADDR PORT\n"
		"       pf-uring [--sqpoll|--async] socket tcp|udp|raw|raw6|packet\n"
		"       pf-uring [--sqpoll|--async] fastopen ADDR PORT sendto|connect|uring\n"
		"       pf-uring [--sqpoll|--async] route ADDR PORT HOP\n");
	return EXIT_USAGE;
}

/* An SQE to fill, flagged for the mode; NULL only if the ring is full (never: one at a time). */
static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (sqe)
		sqe->flags |= sqe_flags;
	return sqe;
}

/*
 * Submit what was prepared and wait up to timeout_ms for its completion; the
 * result (cqe->res: a count, a descriptor or -errno), or -ETIME. A zero-copy
 * send completes twice (its result, then a notification): the second is
 * awaited and dropped so that the buffer may be reused.
 */
static int ring_run(int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	unsigned int flags;
	int rc;

	rc = io_uring_submit(&ring);
	if (rc < 0)
		return rc;
	rc = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (rc < 0)
		return rc;
	rc = cqe->res;
	flags = cqe->flags;
	io_uring_cqe_seen(&ring, cqe);
	if ((flags & IORING_CQE_F_MORE) && io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0)
		io_uring_cqe_seen(&ring, cqe);
	return rc;
}

/* A ring of the mode asked for; 0 or -errno. */
static int ring_setup(int sqpoll)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	if (sqpoll) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = SQ_IDLE_MS;
	}
	return io_uring_queue_init_params(RING_ENTRIES, &ring, &p);
}

/* Does this kernel know opcode op? */
static int have_opcode(int op)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&ring);
	int have;

	if (!probe)
		return 0;
	have = io_uring_opcode_supported(probe, op);
	io_uring_free_probe(probe);
	return have;
}

/* A socket made by IORING_OP_SOCKET, or by socket(2) on a kernel without it; fd or -errno. */
static int ring_socket(int domain, int type, int protocol)
{
	int fd;

	if (!have_opcode(IORING_OP_SOCKET)) {
		fprintf(stderr, "pf-uring: note: no IORING_OP_SOCKET here, socket(2) used\n");
		fd = socket(domain, type | SOCK_CLOEXEC, protocol);
		return fd < 0 ? -errno : fd;
	}
	io_uring_prep_socket(sqe_get(), domain, type | SOCK_CLOEXEC, protocol, 0);
	return ring_run(OP_TIMEOUT_MS);
}

/* Receive one reply line into buf, by IORING_OP_RECV; 0 or -errno. */
static int ring_tcp_reply(int fd, char *buf, size_t size)
{
	size_t len = 0;
	int n;

	while (len < size - 1) {
		io_uring_prep_recv(sqe_get(), fd, buf + len, size - 1 - len, 0);
		n = ring_run(TCP_TIMEOUT_MS);
		if (n == -ETIME)
			return -ETIMEDOUT;
		if (n < 0)
			return n;
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
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* Wait up to UDP_TIMEOUT_MS for one datagram, by IORING_OP_RECV; "noreply" if none. */
static int ring_udp_reply(int fd, char *buf, size_t size)
{
	int n;

	io_uring_prep_recv(sqe_get(), fd, buf, size - 1, 0);
	n = ring_run(UDP_TIMEOUT_MS);
	if (n == -ETIME) {
		snprintf(buf, size, "noreply");
		return 0;
	}
	if (n < 0)
		return n;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* TCP connect, ping and reply, every step a ring request. */
static int op_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	char reply[REPLY_MAX] = "";
	int fd, err;

	fd = ring_socket(ss->ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return report(-fd, NULL);

	io_uring_prep_connect(sqe_get(), fd, (const struct sockaddr *)ss, len);
	err = ring_run(OP_TIMEOUT_MS);
	if (err < 0)
		goto out;
	io_uring_prep_send(sqe_get(), fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL);
	err = ring_run(OP_TIMEOUT_MS);
	if (err < 0)
		goto out;
	err = ring_tcp_reply(fd, reply, sizeof(reply));
out:
	close(fd);
	if (err == -ETIME)
		err = -ETIMEDOUT;
	return report(err < 0 ? -err : 0, err < 0 ? NULL : reply);
}

/* One UDP datagram to ss by the ring op named (sendmsg, sendmsg-zc, sendto), then a reply. */
static int op_send(const char *op, struct sockaddr_storage *ss, socklen_t len)
{
	char reply[REPLY_MAX] = "";
	struct iovec iov = {.iov_base = (void *)ping, .iov_len = sizeof(ping) - 1};
	struct msghdr msg = {
		.msg_name = ss,
		.msg_namelen = len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	struct io_uring_sqe *sqe;
	int fd, err;

	fd = ring_socket(ss->ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return report(-fd, NULL);

	sqe = sqe_get();
	if (strcmp(op, "sendmsg") == 0) {
		io_uring_prep_sendmsg(sqe, fd, &msg, 0);
	} else if (strcmp(op, "sendmsg-zc") == 0) {
		io_uring_prep_sendmsg_zc(sqe, fd, &msg, 0);
	} else {
		io_uring_prep_send(sqe, fd, ping, sizeof(ping) - 1, 0);
		io_uring_prep_send_set_addr(sqe, (const struct sockaddr *)ss, (__u16)len);
	}
	err = ring_run(OP_TIMEOUT_MS);
	if (err >= 0)
		err = ring_udp_reply(fd, reply, sizeof(reply));
	close(fd);
	if (err == -ETIME)
		err = -ETIMEDOUT;
	return report(err < 0 ? -err : 0, err < 0 ? NULL : reply);
}

/* IORING_OP_SOCKET of one kind; the cgroup sock_create (or LSM socket_create) program judges it. */
static int op_socket(const char *kind)
{
	static const struct {
		const char *name;
		int domain, type, protocol;
	} kinds[] = {
		{"tcp", AF_INET, SOCK_STREAM, 0},
		{"udp", AF_INET, SOCK_DGRAM, 0},
		{"raw", AF_INET, SOCK_RAW, IPPROTO_ICMP},
		{"raw6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6},
		{"packet", AF_PACKET, SOCK_RAW, 0},
	};
	size_t i;
	int fd;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].name) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return usage();
	if (!have_opcode(IORING_OP_SOCKET))
		return report(ENOSYS, NULL);

	/* packet sockets take the protocol in network order */
	io_uring_prep_socket(sqe_get(), kinds[i].domain, kinds[i].type | SOCK_CLOEXEC,
			     kinds[i].domain == AF_PACKET ? htons(ETH_P_ALL) : kinds[i].protocol,
			     0);
	fd = ring_run(OP_TIMEOUT_MS);
	if (fd < 0)
		return report(fd == -ETIME ? ETIMEDOUT : -fd, NULL);
	close(fd);
	return report(0, NULL);
}

/* Wait for a connect in progress on fd to end, then send the ping; 0 or -errno. */
static int ring_finish_connect(int fd)
{
	socklen_t len = sizeof(int);
	int err, soerr = 0;

	io_uring_prep_poll_add(sqe_get(), fd, POLLOUT);
	err = ring_run(OP_TIMEOUT_MS);
	if (err < 0)
		return err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	if (soerr)
		return -soerr;
	io_uring_prep_send(sqe_get(), fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL);
	return ring_run(OP_TIMEOUT_MS);
}

/*
 * TCP fast open: the connect happens inside sendto/sendmsg (MSG_FASTOPEN) or
 * is deferred by TCP_FASTOPEN_CONNECT to the first send; either way the
 * destination must be judged as a connect.
 */
static int op_fastopen(struct sockaddr_storage *ss, socklen_t len, const char *how)
{
	struct iovec iov = {.iov_base = (void *)ping, .iov_len = sizeof(ping) - 1};
	struct msghdr msg = {
		.msg_name = ss,
		.msg_namelen = len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	char reply[REPLY_MAX] = "";
	int fd, one = 1, err = 0;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno, NULL);

	if (strcmp(how, "sendto") == 0) {
		if (sendto(fd, ping, sizeof(ping) - 1, MSG_FASTOPEN | MSG_NOSIGNAL,
			   (struct sockaddr *)ss, len) < 0)
			err = -errno;
	} else if (strcmp(how, "connect") == 0) {
		if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)) < 0 ||
		    connect(fd, (struct sockaddr *)ss, len) < 0 ||
		    send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) < 0)
			err = -errno;
	} else if (strcmp(how, "uring") == 0) {
		io_uring_prep_sendmsg(sqe_get(), fd, &msg, MSG_FASTOPEN | MSG_NOSIGNAL);
		err = ring_run(OP_TIMEOUT_MS);
		/* io_uring sends without blocking: without a cookie the SYN carried no data */
		if (err == -EINPROGRESS)
			err = ring_finish_connect(fd);
	} else {
		close(fd);
		return usage();
	}
	if (err >= 0)
		err = ring_tcp_reply(fd, reply, sizeof(reply));
	close(fd);
	if (err == -ETIME)
		err = -ETIMEDOUT;
	return report(err < 0 ? -err : 0, err < 0 ? NULL : reply);
}

/* io_uring's own setsockopt (a socket command, kernel 6.7), absent from liburing 2.3 */
#define PF_URING_CMD_SETSOCKOPT 3 /* SOCKET_URING_OP_SETSOCKOPT */

/*
 * Set a source route through the ring's setsockopt (IORING_OP_URING_CMD) on a
 * UDP socket the ring made, then send one datagram to ss by IORING_OP_SENDMSG
 * and wait for no reply: "ok sent". An IPv4 ss gets an LSRR option (IP_OPTIONS)
 * through hop, an IPv6 one a segment routing header (IPV6_RTHDR, type 4)
 * naming hop. The route must be judged like setsockopt(2)'s, or the packet
 * dropped on its way out.
 */
static int op_route(struct sockaddr_storage *ss, socklen_t len, const char *hop)
{
	struct iovec iov = {.iov_base = (void *)ping, .iov_len = sizeof(ping) - 1};
	struct msghdr msg = {
		.msg_name = ss,
		.msg_namelen = len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	unsigned char opt[24] = {0};
	struct io_uring_sqe *sqe;
	int fd, err, level, name, optlen;

	if (ss->ss_family == AF_INET) {
		/* NOP, then LSRR: type 0x83, length 7, pointer 4, one address */
		opt[0] = 1;
		opt[1] = 0x83;
		opt[2] = 7;
		opt[3] = 4;
		if (inet_pton(AF_INET, hop, opt + 4) != 1)
			return usage();
		level = IPPROTO_IP;
		name = IP_OPTIONS;
		optlen = 8;
	} else {
		/* SRH: next header, length in 8-byte units past the first, type 4, no
		 * segment left, last entry 0, then the one segment */
		opt[1] = 2;
		opt[2] = 4;
		if (inet_pton(AF_INET6, hop, opt + 8) != 1)
			return usage();
		level = IPPROTO_IPV6;
		name = IPV6_RTHDR;
		optlen = 24;
	}

	fd = ring_socket(ss->ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return report(-fd, NULL);

	sqe = sqe_get();
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	/* the socket command's fields overlay off, addr, file_index and addr3 */
	sqe->off = PF_URING_CMD_SETSOCKOPT;
	sqe->addr = (__u64)(unsigned int)level | (__u64)(unsigned int)name << 32;
	sqe->file_index = (__u32)optlen;
	sqe->addr3 = (__u64)(unsigned long)opt;
	err = ring_run(OP_TIMEOUT_MS);
	if (err < 0)
		goto out;

	io_uring_prep_sendmsg(sqe_get(), fd, &msg, 0);
	err = ring_run(OP_TIMEOUT_MS);
out:
	close(fd);
	if (err == -ETIME)
		err = -ETIMEDOUT;
	return report(err < 0 ? -err : 0, err < 0 ? NULL : "sent");
}

/* Open path by the ring, then read it to the end or write one line by the ring. */
static int op_open(const char *path, const char *mode)
{
	static const char line[] = "pf-uring\n";
	char buf[4096];
	int flags, fd, n;

	if (strcmp(mode, "r") == 0)
		flags = O_RDONLY;
	else if (strcmp(mode, "w") == 0)
		flags = O_WRONLY | O_APPEND;
	else
		return usage();

	io_uring_prep_openat(sqe_get(), AT_FDCWD, path, flags | O_CLOEXEC, 0);
	fd = ring_run(OP_TIMEOUT_MS);
	if (fd < 0)
		return report(fd == -ETIME ? ETIMEDOUT : -fd, NULL);

	if (flags == O_RDONLY) {
		do {
			io_uring_prep_read(sqe_get(), fd, buf, sizeof(buf), (__u64)-1);
			n = ring_run(OP_TIMEOUT_MS);
		} while (n > 0);
	} else {
		io_uring_prep_write(sqe_get(), fd, line, sizeof(line) - 1, (__u64)-1);
		n = ring_run(OP_TIMEOUT_MS);
	}
	close(fd);
	if (n == -ETIME)
		n = -ETIMEDOUT;
	return report(n < 0 ? -n : 0, NULL);
}

/* The path operations: one ring request each, AT_FDCWD-relative. */
static int op_path(const char *op, const char *a, const char *b)
{
	struct io_uring_sqe *sqe = sqe_get();
	int rc;

	if (strcmp(op, "mkdir") == 0 && !b)
		io_uring_prep_mkdirat(sqe, AT_FDCWD, a, 0755);
	else if (strcmp(op, "unlink") == 0 && !b)
		io_uring_prep_unlinkat(sqe, AT_FDCWD, a, 0);
	else if (strcmp(op, "rmdir") == 0 && !b)
		io_uring_prep_unlinkat(sqe, AT_FDCWD, a, AT_REMOVEDIR);
	else if (strcmp(op, "rename") == 0 && b)
		io_uring_prep_renameat(sqe, AT_FDCWD, a, AT_FDCWD, b, 0);
	else if (strcmp(op, "link") == 0 && b)
		io_uring_prep_linkat(sqe, AT_FDCWD, a, AT_FDCWD, b, 0);
	else if (strcmp(op, "symlink") == 0 && b)
		io_uring_prep_symlinkat(sqe, a, AT_FDCWD, b);
	else
		return usage();
	rc = ring_run(OP_TIMEOUT_MS);
	if (rc == -ETIME)
		rc = -ETIMEDOUT;
	return report(rc < 0 ? -rc : 0, NULL);
}

static int run_op(int argc, char **argv)
{
	struct sockaddr_storage ss;
	const char *op = argv[0];
	socklen_t len;

	if (strcmp(op, "open") == 0 && argc == 3)
		return op_open(argv[1], argv[2]);
	if (strcmp(op, "socket") == 0 && argc == 2)
		return op_socket(argv[1]);
	if (strcmp(op, "connect") == 0 || strcmp(op, "sendmsg") == 0 ||
	    strcmp(op, "sendmsg-zc") == 0 || strcmp(op, "sendto") == 0 ||
	    strcmp(op, "fastopen") == 0 || strcmp(op, "route") == 0) {
		if (argc < 3 || parse_addr(argv[1], argv[2], &ss, &len))
			return usage();
		if (strcmp(op, "fastopen") == 0)
			return argc == 4 ? op_fastopen(&ss, len, argv[3]) : usage();
		if (strcmp(op, "route") == 0)
			return argc == 4 ? op_route(&ss, len, argv[3]) : usage();
		if (argc != 3)
			return usage();
		if (strcmp(op, "connect") == 0)
			return op_connect(&ss, len);
		return op_send(op, &ss, len);
	}
	if (argc == 2 || argc == 3)
		return op_path(op, argv[1], argc == 3 ? argv[2] : NULL);
	return usage();
}

int main(int argc, char **argv)
{
	int sqpoll = 0, err, rc;

	if (argc > 1 && strcmp(argv[1], "--sqpoll") == 0) {
		sqpoll = 1;
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "--async") == 0) {
		sqe_flags = IOSQE_ASYNC;
		argv++;
		argc--;
	}
	if (argc < 2)
		return usage();

	err = ring_setup(sqpoll);
	if (err < 0) {
		fprintf(stderr, "pf-uring: cannot set up a ring%s: %s\n",
			sqpoll ? " with SQPOLL" : "", strerror(-err));
		return report(-err, NULL);
	}
	rc = run_op(argc - 1, argv + 1);
	io_uring_queue_exit(&ring);
	return rc;
}
