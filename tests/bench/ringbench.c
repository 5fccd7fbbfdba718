// SPDX-License-Identifier: GPL-2.0-only
/*
 * ringbench - the raw ring buffer consume rate, the audit benchmark's
 * baseline: run a generator (gen getppid RATE SECONDS), turn each of its
 * getppid calls into a record of PF_EVENT_SHORT_SIZE (a network event) in a
 * ring buffer of PF_RINGBUF_SIZE, woken as pinfold's are (ringbench.bpf.c),
 * and consume the ring with libbpf, as pinfold run does (epoll, at least
 * every PF_RINGBUF_POLL_MS), through a callback that only counts. Nothing is
 * pinned.
 *
 *   ringbench [-v] -- GEN [ARGS...]
 *
 * Prints, after the generator's own line,
 *   ringbench: produced N consumed N dropped N
 * produced: records submitted; dropped: calls the ring had no room for. No
 * loss means dropped 0 and consumed = produced. Exit 0 when it measured,
 * loss or not; 1 when it could not (the reason in one line); 2 on a usage
 * error. -v shows libbpf's messages.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf/pinfold.h"
#include "ringbench.skel.h"

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* the null consumer: count and return */
static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	if (size == PF_EVENT_SHORT_SIZE)
		++*(unsigned long long *)ctx;
	return 0;
}

/*
 * Fork the generator argv, held until *go is written so that its process
 * id can be set as the filter first. The child's pid, or -1 with errno.
 */
static pid_t spawn_held(char **argv, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		close(p[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "ringbench: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

/*
 * Consume ring records until the child pid exits, then drain. 0, or -errno
 * from the polling itself.
 */
static int consume_until_exit(struct ring_buffer *rb, pid_t pid, int *status)
{
	struct epoll_event ev = {.events = EPOLLIN}, got[2];
	int ep, pidfd, n, i, err = 0;
	bool exited = false;

	ep = epoll_create1(EPOLL_CLOEXEC);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (ep < 0 || pidfd < 0) {
		err = -errno;
		goto out;
	}
	ev.data.fd = pidfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev)) {
		err = -errno;
		goto out;
	}
	ev.data.fd = ring_buffer__epoll_fd(rb);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
		err = -errno;
		goto out;
	}
	while (!exited) {
		/* the ring wakes its reader only once it is filling: look anyway */
		n = epoll_wait(ep, got, 2, PF_RINGBUF_POLL_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		for (i = 0; i < n; i++)
			if (got[i].data.fd == pidfd)
				exited = true;
		ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
out:
	if (waitpid(pid, status, 0) < 0 && !err)
		err = -errno;
	if (pidfd >= 0)
		close(pidfd);
	if (ep >= 0)
		close(ep);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long long consumed = 0;
	struct ring_buffer *rb = NULL;
	struct ringbench *skel;
	int a = 1, go = -1, status = 0, err, ret = EXIT_FAILURE;
	pid_t pid;

	if (a < argc && strcmp(argv[a], "-v") == 0) {
		verbose = true;
		a++;
	}
	if (a + 1 >= argc || strcmp(argv[a], "--") != 0) {
		fprintf(stderr, "usage: ringbench [-v] -- GEN [ARGS...]\n");
		return 2;
	}
	libbpf_set_print(print_libbpf);

	skel = ringbench__open();
	if (!skel) {
		fprintf(stderr, "ringbench: cannot open the BPF object: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	skel->rodata->target_nr = SYS_getppid;
	err = ringbench__load(skel);
	if (err) {
		fprintf(stderr, "ringbench: cannot load the BPF program: %s\n", strerror(-err));
		goto out;
	}
	err = ringbench__attach(skel);
	if (err) {
		fprintf(stderr, "ringbench: cannot attach to raw tracepoint sys_enter: %s\n",
			strerror(-err));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.rb_events), count_record, &consumed, NULL);
	if (!rb) {
		fprintf(stderr, "ringbench: cannot map the ring buffer: %s\n", strerror(errno));
		goto out;
	}

	fflush(stdout);
	pid = spawn_held(&argv[a + 1], &go);
	if (pid < 0) {
		fprintf(stderr, "ringbench: cannot fork: %s\n", strerror(errno));
		goto out;
	}
	skel->bss->target_tgid = pid;
	if (write(go, "g", 1) != 1) {
		fprintf(stderr, "ringbench: cannot start the generator: %s\n", strerror(errno));
		kill(pid, SIGKILL);
	}
	close(go);
	err = consume_until_exit(rb, pid, &status);
	if (err) {
		fprintf(stderr, "ringbench: cannot poll the ring buffer: %s\n", strerror(-err));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "ringbench: the generator %s failed\n", argv[a + 1]);
		goto out;
	}
	printf("ringbench: produced %llu consumed %llu dropped %llu\n",
	       (unsigned long long)skel->bss->produced, consumed,
	       (unsigned long long)skel->bss->dropped);
	ret = EXIT_SUCCESS;
out:
	ring_buffer__free(rb);
	ringbench__destroy(skel);
	return ret;
}
