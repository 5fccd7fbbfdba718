// SPDX-License-Identifier: GPL-2.0-only
/*
 * row-connect - what pinfold adds to a connect(2), against the floor (a
 * connect4 program that allows at once) and against no program, natively.
 *
 * The call timed is connect(2) of one UDP socket to an allowed loopback
 * address, again and again: each call runs the cgroup connect4 programs
 * and little else (no handshake), so the programs' cost is not lost in
 * the noise of a TCP connection. Each variant runs in a child process:
 *   none     in the bench's own cgroup, where no program is attached;
 *   floor    in a cgroup of its own with floor.bpf.c attached;
 *   pinfold  confined by `pinfold run` with N destinations in its policy
 *            (1, 100, 10 000), one of them the address called.
 * Variants are interleaved, ROUNDS rounds of each; the medians are
 * compared. The added cost of a variant is its median minus none's; the
 * row's ratio is pinfold's added cost over the floor's. With
 * kernel.bpf_stats_enabled, the programs' own run time per call is added
 * as notes.
 *
 *   row-connect                 the row (root), as bench.sh runs it
 *   row-connect --child N PORT  time N connects; print the ns per call
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "floor.skel.h"
#include "userspace/cgroup.h"
#include "bench.h"

#define CALLS 200000 /* connects per trial */
#define ROUNDS 7     /* trials per variant, interleaved */
#define PORT 9       /* discard: nothing needs to listen for a UDP connect */

static const int sizes[] = {1, 100, 10000};
#define N_SIZES (int)(sizeof(sizes) / sizeof(sizes[0]))

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * TCP: a new socket, connect, close with a reset (SO_LINGER 0: no
 * TIME_WAIT, whose reuse would make the times erratic), each call. Only
 * connect(2) is timed (the handshake happens within it, on loopback):
 * setsockopt and close are not what is measured, and pinfold judges
 * setsockopt too.
 */
static int child_tcp(long calls, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	double t0, total = 0;
	long i;
	int fd;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	for (i = -calls / 10; i < calls; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			goto fail;
		t0 = now_ns();
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
		if (i >= 0)
			total += now_ns() - t0;
		close(fd);
	}
	printf("%.1f\n", total / calls);
	return 0;
fail:
	printf("err %s\n", strerror(errno));
	return 1;
}

static int child(long calls, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	double t0;
	long i;
	int fd;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	for (i = 0; i < calls / 10; i++) /* warm up */
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
	t0 = now_ns();
	for (i = 0; i < calls; i++)
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
	printf("%.1f\n", (now_ns() - t0) / calls);
	return 0;
fail:
	printf("err %s\n", strerror(errno));
	return 1;
}

/* Run argv, its stdout into out; 0 when it exited 0 and printed a number. */
static int run(char *const argv[], const char *cgroup_procs, double *out)
{
	int p[2], status;
	char buf[128] = "";
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		if (cgroup_procs) {
			int fd = open(cgroup_procs, O_WRONLY);

			if (fd < 0 || write(fd, "0\n", 2) != 2)
				_exit(1);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &status, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) || sscanf(buf, "%lf", out) != 1) {
		fprintf(stderr, "  %s: %s (exit %d)\n", argv[0], buf,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* Run child (its argv) confined by pinfold run under policy pol; as run() does. */
static int run_pinfold(const char *pinfold, char *pol, char *audit, char *const child[],
		       double *out)
{
	char *argv[32] = {(char *)pinfold, "run",   "--standalone",     "--policy",   pol,
			  "--agent",       "bench", "--allow-degraded", "--no-watch", "--audit",
			  audit,           "--"};
	int n = 12, i;

	for (i = 0; child[i] && n < 31; i++)
		argv[n++] = child[i];
	argv[n] = NULL;
	return run(argv, NULL, out);
}

/* nftables' way: a set of n allowed (address, port), matched for one cgroup. */
static int nft_load(const char *tmp, const char *cg_name, int n, int port)
{
	char path[PATH_MAX], cmd[PATH_MAX + 32];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/nft-%d.conf", tmp, n);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"table inet pfbench {\n\tset allowed {\n\t\ttype ipv4_addr . inet_service\n"
		"\t\telements = { 127.0.0.1 . %d",
		port);
	for (i = 1; i < n; i++)
		fprintf(f, ", 10.%d.%d.%d . %d", (i >> 16) & 255, (i >> 8) & 255, i & 255, port);
	fprintf(f,
		" }\n\t}\n\tchain out {\n\t\ttype filter hook output priority 0; policy accept;\n"
		"\t\tsocket cgroupv2 level 1 \"%s\" ip daddr . tcp dport @allowed accept\n"
		"\t\tsocket cgroupv2 level 1 \"%s\" drop\n\t}\n}\n",
		cg_name, cg_name);
	if (fclose(f))
		return -1;
	snprintf(cmd, sizeof(cmd), "nft -f %s", path);
	return system(cmd) ? -1 : 0;
}

static void nft_unload(void)
{
	if (system("nft delete table inet pfbench 2>/dev/null")) {
		/* nothing loaded */
	}
}

struct acceptor {
	int fd;
	pthread_t thread;
};

/* Accept and close, until the listener is shut down. */
static void *accept_loop(void *arg)
{
	struct acceptor *a = arg;
	int c;

	for (;;) {
		c = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			close(c);
		else if (errno != EINTR && errno != ECONNABORTED)
			return NULL;
	}
}

/* Run time per call of the program behind link pin path, from BPF statistics; <0 unknown. */
static double prog_ns_per_run(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (prog_fd < 0 || bpf_obj_get_info_by_fd(prog_fd, &info, &len) || !info.run_cnt)
		return -1;
	return (double)info.run_time_ns / info.run_cnt;
}

static int pinfold_connect4_fd(void)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	int link = bpf_obj_get("/sys/fs/bpf/pinfold/link_connect4"), fd = -1;

	if (link >= 0 && !bpf_obj_get_info_by_fd(link, &li, &len))
		fd = bpf_prog_get_fd_by_id(li.prog_id);
	if (link >= 0)
		close(link);
	return fd;
}

#define TCP_CALLS 20000 /* TCP connects per trial */
#define NFT_CGROUP "pf-bench-nft"

/*
 * The TCP rows: a new socket, connect to a loopback listener of ours,
 * close, each call; the connect4 programs run as for UDP, and the SYN
 * goes through nftables' output hook. Variants: none, the floor, pinfold
 * and nftables (socket cgroupv2 and a set of allowed destinations) at each
 * size. A row compares pinfold's added cost with nftables'; the floor's
 * is in the note only: a TCP connect's run-to-run noise (hundreds of ns)
 * is larger than the floor's whole cost, which the UDP rows measure. 0,
 * or -1 after saying why.
 */
static int tcp_rows(const char *self, const char *pinfold, const char *tmp, const char *floor_procs,
		    const char *cg2)
{
	double none[ROUNDS], fl[ROUNDS], pf[N_SIZES][ROUNDS], nf[N_SIZES][ROUNDS], m_none, m_fl;
	char pol[N_SIZES][PATH_MAX], nft_cg[PATH_MAX + 32], nft_procs[PATH_MAX + 64], mnt[PATH_MAX];
	char audit[PATH_MAX], calls[32], port[16];
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	struct acceptor acc = {.fd = -1};
	bool bound = false, started = false;
	int r, sz, rc = -1;

	snprintf(calls, sizeof(calls), "%d", TCP_CALLS);
	snprintf(audit, sizeof(audit), "%s/connect-tcp.jsonl", tmp);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	acc.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (acc.fd < 0 || bind(acc.fd, (struct sockaddr *)&a, sizeof(a)) || listen(acc.fd, 4096) ||
	    getsockname(acc.fd, (struct sockaddr *)&a, &alen) ||
	    pthread_create(&acc.thread, NULL, accept_loop, &acc)) {
		printf("fail\tconnect-tcp\tcannot listen on loopback: %s\n", strerror(errno));
		goto out;
	}
	started = true;
	snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
	for (sz = 0; sz < N_SIZES; sz++) {
		snprintf(pol[sz], sizeof(pol[sz]), "%s/policy-tcp-%d.yaml", tmp, sizes[sz]);
		if (write_policy(pol[sz], sizes[sz], "tcp", ntohs(a.sin_port)))
			goto out;
	}
	/* nft names a cgroup by its path below /sys/fs/cgroup: on a hybrid
	 * layout, the cgroup2 one is bound there */
	snprintf(nft_cg, sizeof(nft_cg), "%s/%s", cg2, NFT_CGROUP);
	snprintf(nft_procs, sizeof(nft_procs), "%s/cgroup.procs", nft_cg);
	snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", NFT_CGROUP);
	if (mkdir(nft_cg, 0755) && errno != EEXIST)
		goto out;
	if (strcmp(cg2, "/sys/fs/cgroup")) {
		if ((mkdir(mnt, 0755) && errno != EEXIST) ||
		    mount(nft_cg, mnt, NULL, MS_BIND, NULL)) {
			printf("fail\tconnect-tcp\tcannot bind %s at %s: %s\n", nft_cg, mnt,
			       strerror(errno));
			goto out;
		}
		bound = true;
	}

	for (r = 0; r < ROUNDS; r++) {
		char *a_none[] = {(char *)self, "--child-tcp", calls, port, NULL};

		fprintf(stderr, "  connect-tcp: round %d of %d\n", r + 1, ROUNDS);
		if (run(a_none, NULL, &none[r]) || run(a_none, floor_procs, &fl[r]))
			goto out;
		for (sz = 0; sz < N_SIZES; sz++) {
			int err;

			if (run_pinfold(pinfold, pol[sz], audit, a_none, &pf[sz][r]))
				goto out;
			if (nft_load(tmp, NFT_CGROUP, sizes[sz], ntohs(a.sin_port))) {
				printf("fail\tconnect-tcp\tcannot load the nftables rules (nft -f)\n");
				goto out;
			}
			err = run(a_none, nft_procs, &nf[sz][r]);
			nft_unload();
			if (err)
				goto out;
		}
	}
	m_none = bench_median(none, ROUNDS);
	m_fl = bench_median(fl, ROUNDS);
	for (sz = 0; sz < N_SIZES; sz++) {
		double m_pf = bench_median(pf[sz], ROUNDS), m_nf = bench_median(nf[sz], ROUNDS);

		printf("row\tTCP connect(), pinfold's added cost at %d destination%s, over "
		       "nftables'\t%.0f\t%.0f\tns\n",
		       sizes[sz], sizes[sz] == 1 ? "" : "s", m_pf - m_none, m_nf - m_none);
	}
	printf("note\tTCP connect() medians of %d rounds of %d (connect alone timed; each socket new, closed with a reset): %.0f ns with no program, %.0f ns with the floor",
	       ROUNDS, TCP_CALLS, m_none, m_fl);
	for (sz = 0; sz < N_SIZES; sz++)
		printf("; at %d: %.0f ns pinfold, %.0f ns nftables", sizes[sz],
		       bench_median(pf[sz], ROUNDS), bench_median(nf[sz], ROUNDS));
	printf("\n");
	rc = 0;
out:
	nft_unload();
	if (bound) {
		umount2(mnt, MNT_DETACH);
		rmdir(mnt);
	}
	rmdir(nft_cg);
	if (started) {
		shutdown(acc.fd, SHUT_RDWR);
		pthread_join(acc.thread, NULL);
	}
	if (acc.fd >= 0)
		close(acc.fd);
	return rc;
}

int main(int argc, char **argv)
{
	const char *pinfold = getenv("PINFOLD"), *tmp = getenv("BENCH_TMP");
	double none[ROUNDS], fl[ROUNDS], pf[N_SIZES][ROUNDS], m_none, m_floor, m_pf;
	char self[PATH_MAX], cg[PATH_MAX], procs[PATH_MAX + 16], pol[N_SIZES][PATH_MAX];
	char audit[PATH_MAX], calls[32], port[16], cg2[PATH_MAX];
	struct floor *skel = NULL;
	int r, s, cg_fd = -1, stats = 0, rc = 1;
	double floor_prog = -1, pf_prog = -1;
	FILE *f;

	if (argc == 4 && !strcmp(argv[1], "--child"))
		return child(atol(argv[2]), atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "--child-tcp"))
		return child_tcp(atol(argv[2]), atoi(argv[3]));
	if (!pinfold || !tmp || readlink("/proc/self/exe", self, sizeof(self) - 1) < 0) {
		fprintf(stderr, "row-connect: run it from bench.sh (PINFOLD, BENCH_TMP)\n");
		return 2;
	}
	memset(self + strlen(self), 0, 1);
	snprintf(calls, sizeof(calls), "%d", CALLS);
	snprintf(port, sizeof(port), "%d", PORT);
	snprintf(audit, sizeof(audit), "%s/connect.jsonl", tmp);

	/* the floor: its own cgroup, its program attached */
	if (cgroup_find_mount(cg, sizeof(cg)))
		goto out;
	snprintf(cg2, sizeof(cg2), "%s", cg);
	strncat(cg, "/pf-bench-floor", sizeof(cg) - strlen(cg) - 1);
	if (mkdir(cg, 0755) && errno != EEXIST)
		goto out;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	skel = floor__open_and_load();
	cg_fd = open(cg, O_RDONLY | O_DIRECTORY);
	if (!skel || cg_fd < 0 ||
	    bpf_prog_attach(bpf_program__fd(skel->progs.floor_connect4), cg_fd,
			    BPF_CGROUP_INET4_CONNECT, 0)) {
		printf("fail\tconnect\tcannot attach the floor program: %s\n", strerror(errno));
		goto out;
	}
	for (s = 0; s < N_SIZES; s++) {
		snprintf(pol[s], sizeof(pol[s]), "%s/policy-%d.yaml", tmp, sizes[s]);
		if (write_policy(pol[s], sizes[s], "udp", PORT))
			goto out;
	}
	/* the programs' own cost per call, when the kernel counts it */
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r+");
	stats = f && fputs("1\n", f) >= 0;
	if (f)
		fclose(f);

	for (r = 0; r < ROUNDS; r++) {
		char *a_none[] = {self, "--child", calls, port, NULL};

		fprintf(stderr, "  connect: round %d of %d\n", r + 1, ROUNDS);
		if (run(a_none, NULL, &none[r]) || run(a_none, procs, &fl[r]))
			goto out;
		for (s = 0; s < N_SIZES; s++) {

			if (run_pinfold(pinfold, pol[s], audit, a_none, &pf[s][r]))
				goto out;
		}
	}
	if (stats) {
		int pfd = pinfold_connect4_fd();

		floor_prog = prog_ns_per_run(bpf_program__fd(skel->progs.floor_connect4));
		pf_prog = prog_ns_per_run(pfd);
		if (pfd >= 0)
			close(pfd);
	}
	m_none = bench_median(none, ROUNDS);
	m_floor = bench_median(fl, ROUNDS);
	for (s = 0; s < N_SIZES; s++) {
		m_pf = bench_median(pf[s], ROUNDS);
		printf("row\tconnect(), pinfold's added cost at %d destination%s, over the floor's\t"
		       "%.1f\t%.1f\tns\n",
		       sizes[s], sizes[s] == 1 ? "" : "s", m_pf - m_none, m_floor - m_none);
		printf("note\tconnect() at %d destinations: median %.1f ns with pinfold\n",
		       sizes[s], m_pf);
	}
	printf("note\tconnect() medians of %d rounds of %d UDP connects: %.1f ns with no program, "
	       "%.1f ns with the floor (a connect4 program that allows at once)\n",
	       ROUNDS, CALLS, m_none, m_floor);
	if (floor_prog >= 0 && pf_prog >= 0)
		printf("note\tBPF statistics, run time per call: floor_connect4 %.1f ns, pinfold's "
		       "connect4 %.1f ns (all sizes)\n",
		       floor_prog, pf_prog);
	if (tcp_rows(self, pinfold, tmp, procs, cg2))
		goto out;
	rc = 0;
out:
	if (stats) {
		f = fopen("/proc/sys/kernel/bpf_stats_enabled", "w");
		if (f) {
			fputs("0\n", f);
			fclose(f);
		}
	}
	if (cg_fd >= 0)
		close(cg_fd);
	floor__destroy(skel);
	rmdir(cg);
	if (rc)
		printf("fail\tconnect\tsee above\n");
	return rc;
}
