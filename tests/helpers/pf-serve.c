// SPDX-License-Identifier: GPL-2.0-only
/*
 * pf-serve - a loopback server for the integration tests.
 *
 *   pf-serve [--tcp PORT]... [--udp PORT]... [--addr 127.0.0.1|::1|::]
 *            [--banner TEXT] [--ready-file F] [--timeout SECS]
 *
 * Answers every line received on a TCP connection, and every UDP datagram,
 * with BANNER (default "pong") followed by a newline. One poll loop, no
 * threads. PORT 0 picks a free port. Once every socket listens, the ready
 * file is written (atomically, through a rename) with one line per socket,
 * "tcp PORT" or "udp PORT", so that a test can wait for it and learn the
 * ports. pf-serve exits by itself after --timeout seconds (default 120), so
 * that a test that dies cannot leave a server behind for long.
 *
 * Only loopback is served. --addr accepts an address in 127.0.0.0/8, ::1, or
 * :: (dual-stack: one IPv6 socket with IPV6_V6ONLY off, which receives both
 * ::1 and IPv4 127.x traffic, the latter as ::ffff:127.x). :: is a wildcard
 * bind and so reachable from every interface; it is allowed only because
 * testing dual-stack sockets needs it, and to keep it loopback-only in effect
 * pf-serve drops, unanswered, every connection and datagram whose peer is not
 * a loopback address. The tests must never talk to anything else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	MAX_LISTEN = 16, /* --tcp and --udp sockets together */
	MAX_CLIENTS = 64,
	LINE_MAX_LEN = 1024, /* a longer line is answered once, in pieces */
	DEFAULT_TIMEOUT = 120,
};

struct listener {
	int fd;
	int tcp;
	unsigned short port; /* as asked; 0 = any, then the bound port */
};

struct client {
	int fd;
	size_t len;
	char buf[LINE_MAX_LEN];
};

struct server {
	struct sockaddr_storage addr; /* port 0 */
	socklen_t addr_len;
	int dual_stack;
	const char *banner;
	const char *ready_file;
	long timeout;
	struct listener listeners[MAX_LISTEN];
	size_t n_listeners;
	struct client clients[MAX_CLIENTS];
};

static int usage(void)
{
	fprintf(stderr,
		"usage: pf-serve [--tcp PORT]... [--udp PORT]... [--addr 127.0.0.1|::1|::]\n"
		"                [--banner TEXT] [--ready-file F] [--timeout SECS]\n");
	return 2;
}

/* Is the socket address a loopback address (IPv4-mapped included)? */
static int is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const unsigned char *a;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return 1;
	a = sin6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127;
}

/* Parse --addr; only loopback and the dual-stack wildcard ::. 0 or -EINVAL. */
static int parse_bind_addr(struct server *s, const char *text)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->addr;

	memset(&s->addr, 0, sizeof(s->addr));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		s->addr_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		s->addr_len = sizeof(*sin6);
		s->dual_stack = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	} else {
		return -EINVAL;
	}
	if (!s->dual_stack && !is_loopback(&s->addr))
		return -EINVAL;
	/* a mapped address would bind an IPv6 socket to IPv4 traffic only: say 127.x */
	if (s->addr.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return -EINVAL;
	return 0;
}

static int parse_long(const char *text, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	if (errno || *text == '\0' || *end != '\0' || *out < lo || *out > hi)
		return -EINVAL;
	return 0;
}

static int parse_args(struct server *s, int argc, char **argv)
{
	long v;
	int i;

	s->banner = "pong";
	s->timeout = DEFAULT_TIMEOUT;
	if (parse_bind_addr(s, "127.0.0.1"))
		return -EINVAL;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!arg)
			return -EINVAL;
		i++;
		if (strcmp(opt, "--tcp") == 0 || strcmp(opt, "--udp") == 0) {
			if (s->n_listeners == MAX_LISTEN || parse_long(arg, 0, 65535, &v))
				return -EINVAL;
			s->listeners[s->n_listeners].tcp = opt[2] == 't';
			s->listeners[s->n_listeners].port = (unsigned short)v;
			s->n_listeners++;
		} else if (strcmp(opt, "--addr") == 0) {
			if (parse_bind_addr(s, arg)) {
				fprintf(stderr,
					"pf-serve: refusing address %s: only 127.0.0.0/8, ::1 or ::\n",
					arg);
				return -EINVAL;
			}
		} else if (strcmp(opt, "--banner") == 0) {
			s->banner = arg;
		} else if (strcmp(opt, "--ready-file") == 0) {
			s->ready_file = arg;
		} else if (strcmp(opt, "--timeout") == 0) {
			if (parse_long(arg, 1, 86400, &s->timeout))
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return s->n_listeners ? 0 : -EINVAL;
}

/* Create, bind and (for TCP) listen one socket; learns the bound port. 0 or -errno. */
static int listener_open(struct server *s, struct listener *l)
{
	struct sockaddr_storage ss = s->addr;
	socklen_t len = s->addr_len;
	int one = 1, zero = 0;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(l->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(l->port);

	l->fd = socket(ss.ss_family, (l->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -errno;
	if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6 && setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY,
						   s->dual_stack ? &zero : &one, sizeof(int)) < 0)
		return -errno;
	if (bind(l->fd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	if (l->tcp && listen(l->fd, 16) < 0)
		return -errno;

	if (getsockname(l->fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* Write the ready file through a temporary name and a rename; 0 or -errno. */
static int write_ready(const struct server *s)
{
	char tmp[4096];
	FILE *f;
	size_t i;
	int err = 0;

	if (!s->ready_file)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", s->ready_file) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	for (i = 0; i < s->n_listeners; i++)
		fprintf(f, "%s %u\n", s->listeners[i].tcp ? "tcp" : "udp", s->listeners[i].port);
	if (fclose(f) != 0)
		err = -errno;
	if (!err && rename(tmp, s->ready_file) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void send_banner(int fd, const struct server *s, const struct sockaddr_storage *to,
			socklen_t to_len)
{
	char buf[LINE_MAX_LEN + 2];
	int n;

	n = snprintf(buf, sizeof(buf), "%s\n", s->banner);
	if (n < 0 || n >= (int)sizeof(buf))
		n = (int)sizeof(buf) - 1;
	/* a lost reply is the probe's to notice */
	if (to)
		(void)sendto(fd, buf, (size_t)n, MSG_NOSIGNAL, (const struct sockaddr *)to, to_len);
	else
		(void)send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void tcp_accept(struct server *s, int lfd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd, i;

	fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!is_loopback(&peer)) {
		close(fd);
		return;
	}
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (s->clients[i].fd < 0) {
			s->clients[i].fd = fd;
			s->clients[i].len = 0;
			return;
		}
	}
	close(fd); /* full: the probe sees the connection closed */
}

/* Read what a client sent and answer each complete line. */
static void tcp_read(struct server *s, struct client *c)
{
	ssize_t n;
	char *nl;

	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(c);
		return;
	}
	c->len += (size_t)n;

	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1;

		send_banner(c->fd, s, NULL, 0);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf)) {
		send_banner(c->fd, s, NULL, 0);
		c->len = 0;
	}
}

static void udp_read(struct server *s, int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char buf[LINE_MAX_LEN];

	if (recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&peer, &len) < 0)
		return;
	if (!is_loopback(&peer))
		return;
	send_banner(fd, s, &peer, len);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Serve until the timeout; poll's table is listeners first, then clients. */
static void serve(struct server *s)
{
	struct pollfd pfds[MAX_LISTEN + MAX_CLIENTS];
	long long deadline = now_ms() + (long long)s->timeout * 1000;
	size_t i, n;

	for (;;) {
		long long left = deadline - now_ms();

		if (left <= 0)
			return;
		n = 0;
		for (i = 0; i < s->n_listeners; i++)
			pfds[n++] = (struct pollfd){.fd = s->listeners[i].fd, .events = POLLIN};
		for (i = 0; i < MAX_CLIENTS; i++)
			pfds[n++] = (struct pollfd){.fd = s->clients[i].fd, .events = POLLIN};

		if (poll(pfds, n, left > 1000 ? 1000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}

		for (i = 0; i < s->n_listeners; i++) {
			if (!(pfds[i].revents & POLLIN))
				continue;
			if (s->listeners[i].tcp)
				tcp_accept(s, s->listeners[i].fd);
			else
				udp_read(s, s->listeners[i].fd);
		}
		for (i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &s->clients[i];

			if (c->fd >= 0 && pfds[s->n_listeners + i].revents)
				tcp_read(s, c);
		}
	}
}

int main(int argc, char **argv)
{
	static struct server s;
	size_t i;
	int err;

	if (parse_args(&s, argc, argv))
		return usage();
	for (i = 0; i < MAX_CLIENTS; i++)
		s.clients[i].fd = -1;
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < s.n_listeners; i++) {
		struct listener *l = &s.listeners[i];
		unsigned short asked = l->port;

		err = listener_open(&s, l);
		if (err) {
			fprintf(stderr, "pf-serve: cannot listen on %s port %u: %s\n",
				l->tcp ? "tcp" : "udp", asked, strerror(-err));
			return EXIT_FAILURE;
		}
	}

	err = write_ready(&s);
	if (err) {
		fprintf(stderr, "pf-serve: cannot write ready file %s: %s\n", s.ready_file,
			strerror(-err));
		return EXIT_FAILURE;
	}

	serve(&s);
	if (s.ready_file)
		unlink(s.ready_file);
	return EXIT_SUCCESS;
}
