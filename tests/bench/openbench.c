// SPDX-License-Identifier: GPL-2.0-only
/*
 * openbench - the open() rows' measuring program, run inside the test VM
 * (tests/bench/row-open.sh boots it; BPF LSM is off on the hosts). It
 * times open(2) and close(2) of an allowed file under four kinds of
 * enforcement, and prints the rows (lib.sh's protocol) on stdout, each
 * line prefixed with "PF-BENCH<tab>" so that row-open.sh can find them in
 * the guest's console.
 *
 *   openbench vm ROUNDS FIRST REPEAT   the rows (root, in the VM; PINFOLD
 *                                      names pinfold; OPENBENCH_RAW set:
 *                                      every trial's figures on stderr)
 *   openbench serve FIRST REPEAT [N]   a variant's process: serves trials
 *                                      asked for on stdin (below); with N,
 *                                      restricted by Landlock first
 *
 * The layout, on the guest's /srv tmpfs: 10 000 directories
 * /srv/bench/t0 .. t9999, the trees of the rules; below t0 a chain of
 * directories d/d/d/..., and at depth 2, 8 and 24 below t0 (t0/d/FILE is
 * at depth 2) FIRST files for each trial and one file opened again and
 * again. The depth of a row is the file's depth below the tree root t0,
 * which is itself at depth 3 below /.
 *
 * Variants, each a process of its own, long-lived, asked for one trial at
 * a time (a line "t SET DEPTH MODE" on its stdin, answered "ok NS SYS":
 * the median of the calls' times, and of getppid()'s in that process):
 *   none      no program, and pinfold not loaded;
 *   floor     the same process, while floor_open.bpf.c (a file_open
 *             program that returns 0) is attached; an LSM program judges
 *             every task, so it is attached for the floor's trials only;
 *   Landlock  a process restricted by a ruleset of N path_beneath rules
 *             (t0 .. tN-1), allowing to read and execute, handling every
 *             file access the kernel's Landlock ABI knows;
 *   pinfold   `pinfold run --standalone` of an agent whose policy has N
 *             trees (t0 .. tN-1), granted read and exec, besides those
 *             of pinfold's runtime family;
 *   outside   the none process while pinfold is loaded: what pinfold's
 *             programs cost a task they do not confine.
 * A trial is, at each depth, FIRST opens of files the process never
 * opened (each once: its trial's set, new for every round), and REPEAT
 * opens of one file; each call is timed, the trial's figure is the median.
 *
 * Loading and unloading pinfold take tens of seconds under TCG, so the
 * rounds come in three phases: A (none, floor, Landlock at 1, 100, 10 000
 * rules, before pinfold is loaded), B (outside, pinfold at 1, 100,
 * 10 000), A' (A again, after `pinfold unload`). Within a phase the
 * variants take turns, one trial each, the order rotating every round. A
 * variant's figure is the median of its rounds (none: of A and A'); its
 * added cost is that minus none's, with a 95 % interval (bootstrap of the
 * rounds). Trials run while the guest was slow are left out (screen()).
 * BPF statistics are read in one extra round of phases A and B
 * (kernel.bpf_stats_enabled costs time of its own, so it is off in the
 * timed rounds): each program's time per run and runs per call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <linux/landlock.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "floor_open.skel.h"
#include "bench.h"

#define BENCH_ROOT "/srv/bench"
#define TREE0 BENCH_ROOT "/t0"
#define N_TREES 10000
#define MAX_ROUNDS 64
#define WARM 16       /* untimed opens before the repeated ones */
#define REF_CALLS 300 /* getppid() calls of a speed reference */
#define DIR_MAX 128   /* the deepest leaf directory's path, and more */

static const int depths[] = {2, 8, 24};
#define N_DEPTHS 3
static const int sizes[] = {1, 100, 10000};
#define N_SIZES 3
enum { M_FIRST, M_REPEAT, N_MODES };
static const char *const mode_name[] = {"first", "repeated"};

enum {
	V_NONE,
	V_FLOOR,
	V_LL, /* + size index */
	V_OUTSIDE = V_LL + N_SIZES,
	V_PF, /* + size index */
	N_VARIANTS = V_PF + N_SIZES
};

static int n_first, n_repeat;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The directory holding the files at depth (below t0), into buf. */
static void leaf_dir(char *buf, size_t len, int depth)
{
	size_t n = snprintf(buf, len, "%s", TREE0);
	int i;

	for (i = 1; i < depth && n + 2 < len; i++)
		n += snprintf(buf + n, len - n, "/d");
}

/* ------------------------------------------------------------------ */
/* The variants' side: openbench serve */

static int cmp_double(const void *a, const void *b)
{
	return bench_cmp(a, b);
}

/* The median time of n getppid() calls, each timed (buf: room for n). */
static double getppid_median(double *buf, int n)
{
	double t0;
	int i;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		syscall(SYS_getppid);
		buf[i] = now_ns() - t0;
	}
	return bench_median(buf, n);
}

/*
 * One trial: open and close, each call timed, files of set at depth index
 * k (mode M_FIRST) or one file again and again; the median into *ns.
 * Before them as many getppid(), their median into *sys: what any system
 * call costs in this process (pinfold's agent pays for a seccomp filter).
 */
static int trial(int set, int k, int mode, double *ns, double *sys)
{
	int n = mode == M_FIRST ? n_first : n_repeat, i, fd;
	char dir[DIR_MAX], (*paths)[DIR_MAX + 32];
	double *dt, *rt, t0;

	paths = calloc(n, sizeof(*paths));
	dt = calloc(n, sizeof(*dt));
	rt = calloc(n, sizeof(*rt));
	if (!paths || !dt || !rt) {
		i = -ENOMEM;
		goto out;
	}
	leaf_dir(dir, sizeof(dir), depths[k]);
	for (i = 0; i < n; i++) {
		if (mode == M_FIRST)
			snprintf(paths[i], sizeof(paths[i]), "%s/f%d_%d", dir, set, i);
		else
			snprintf(paths[i], sizeof(paths[i]), "%s/r", dir);
	}
	for (i = 0; mode == M_REPEAT && i < WARM; i++) {
		fd = open(paths[0], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		close(fd);
	}
	*sys = getppid_median(rt, n);
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		close(fd);
		dt[i] = now_ns() - t0;
	}
	*ns = bench_median(dt, n);
	i = 0;
	goto out;
fail:
	i = -errno;
out:
	free(paths);
	free(dt);
	free(rt);
	return i;
}

/*
 * Restrict this process with a Landlock ruleset of n path_beneath rules on
 * t0 .. tn-1, allowing read and exec, handling every file access the
 * kernel's ABI knows. 0 or -errno.
 */
static int landlock_restrict(int n)
{
	struct landlock_ruleset_attr ra = {0};
	struct landlock_path_beneath_attr pb = {
		.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
				  LANDLOCK_ACCESS_FS_EXECUTE,
	};
	char path[PATH_MAX];
	long abi;
	int rfd, fd, i, err = 0;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return -errno;
	/* ABI 1: up to MAKE_SYM; 2 adds REFER; 3 TRUNCATE (6.2) */
	ra.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_MAKE_SYM << 1;
	if (abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_MAKE_SYM << 2;
	rfd = syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rfd < 0)
		return -errno;
	for (i = 0; i < n && !err; i++) {
		snprintf(path, sizeof(path), "%s/t%d", BENCH_ROOT, i);
		fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			break;
		}
		pb.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0))
			err = -errno;
		close(fd);
	}
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = -errno;
	if (!err && syscall(SYS_landlock_restrict_self, rfd, 0))
		err = -errno;
	close(rfd);
	return err;
}

/*
 * Serve trials: "t SET K MODE" -> "ok NS" or "err TEXT"; "q" or EOF ends.
 * Restricted by Landlock first when landlock_rules > 0.
 */
static int serve(int landlock_rules)
{
	char line[128];
	int set, k, mode, err;
	double ns = 0, sys = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (landlock_rules > 0) {
		err = landlock_restrict(landlock_rules);
		if (err) {
			printf("err landlock: %s\n", strerror(-err));
			return 1;
		}
	}
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'q')
			break;
		if (sscanf(line, "t %d %d %d", &set, &k, &mode) != 3 || k < 0 || k >= N_DEPTHS ||
		    mode < 0 || mode >= N_MODES) {
			printf("err bad request %s", line);
			continue;
		}
		err = trial(set, k, mode, &ns, &sys);
		if (err)
			printf("err %s\n", strerror(-err));
		else
			printf("ok %.1f %.1f\n", ns, sys);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The coordinator: openbench vm */

/* a fail line was printed: the program exits 1 */
static bool failed;

/* a line of output for row-open.sh */
static void out(const char *fmt, ...)
{
	va_list ap;

	failed |= !strncmp(fmt, "fail", 4);
	printf("PF-BENCH\t");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  open: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

struct child {
	pid_t pid;
	FILE *to;   /* its stdin */
	FILE *from; /* its stdout */
};

/* Start argv with pipes to its stdin and stdout; wait for its "ready". */
static int child_start(struct child *c, char *const argv[])
{
	int in[2], outp[2];
	char line[256] = "";

	if (pipe2(in, O_CLOEXEC) || pipe2(outp, O_CLOEXEC))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	c->to = fdopen(in[1], "w");
	c->from = fdopen(outp[0], "r");
	if (!c->to || !c->from)
		return -1;
	setvbuf(c->to, NULL, _IOLBF, 0);
	if (!fgets(line, sizeof(line), c->from) || strcmp(line, "ready\n")) {
		progress("%s did not start: %s", argv[0], line);
		fclose(c->to);
		fclose(c->from);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
		return -1;
	}
	return 0;
}

static void child_stop(struct child *c)
{
	if (!c->pid)
		return;
	fprintf(c->to, "q\n");
	fclose(c->to);
	fclose(c->from);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

/*
 * One trial of child c: its time per call into *ns, its getppid() time
 * into *sys; and into *ref the speed of the machine meanwhile, as this
 * process, confined by nothing, sees it: its getppid() time before and
 * after (see screen()).
 */
static int child_trial(struct child *c, int set, int k, int mode, double *ns, double *sys,
		       double *ref)
{
	static double buf[REF_CALLS];
	char line[256] = "";

	*ref = getppid_median(buf, REF_CALLS) / 2;
	fprintf(c->to, "t %d %d %d\n", set, k, mode);
	if (!fgets(line, sizeof(line), c->from) || sscanf(line, "ok %lf %lf", ns, sys) != 2) {
		progress("a trial failed: %s", line);
		return -1;
	}
	*ref += getppid_median(buf, REF_CALLS) / 2;
	return 0;
}

/* ----- BPF statistics of every program this process may see ----- */

#define MAX_PROGS 128

struct prog_stat {
	int fd;
	char name[BPF_OBJ_NAME_LEN];
	__u64 ns, cnt; /* at the last snapshot */
};

struct stats {
	struct prog_stat p[MAX_PROGS];
	int n, refused;
};

static void stats_open(struct stats *s)
{
	__u32 id = 0;
	int fd;

	s->n = s->refused = 0;
	while (s->n < MAX_PROGS && !bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0) {
			s->refused++;
			continue;
		}
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			close(fd);
			continue;
		}
		s->p[s->n].fd = fd;
		snprintf(s->p[s->n].name, sizeof(s->p[s->n].name), "%s", info.name);
		s->p[s->n].ns = info.run_time_ns;
		s->p[s->n].cnt = info.run_cnt;
		s->n++;
	}
}

static void stats_close(struct stats *s)
{
	while (s->n > 0)
		close(s->p[--s->n].fd);
}

/*
 * What ran since the last snapshot, for calls opens, appended to buf (len
 * bytes) as "name TIME ns x RUNS" per program that ran at least once in
 * two calls (less often: not on the open path, such as the hook of the
 * bpf() calls that read these figures); a new snapshot. calls 0: the
 * snapshot only.
 */
static void stats_take(struct stats *s, int calls, char *buf, size_t len)
{
	size_t n = strlen(buf);
	int i;

	for (i = 0; i < s->n; i++) {
		struct bpf_prog_info info = {};
		__u32 ilen = sizeof(info);
		__u64 dns, dcnt;

		if (bpf_obj_get_info_by_fd(s->p[i].fd, &info, &ilen))
			continue;
		dns = info.run_time_ns - s->p[i].ns;
		dcnt = info.run_cnt - s->p[i].cnt;
		s->p[i].ns = info.run_time_ns;
		s->p[i].cnt = info.run_cnt;
		if (!calls || 2 * dcnt < (__u64)calls || n + 64 > len)
			continue;
		n += snprintf(buf + n, len - n, " %s %.0f ns x %.2f,", s->p[i].name,
			      (double)dns / dcnt, (double)dcnt / calls);
	}
}

static void stats_enable(int on)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "w");

	if (f) {
		fprintf(f, "%d\n", on);
		fclose(f);
	}
}

/* ----- layout and policies ----- */

static int make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	return close(fd);
}

static int layout(int n_sets, const char *self)
{
	char path[DIR_MAX + 32], dir[DIR_MAX], cmd[2 * PATH_MAX];
	int i, k, s;

	if (mkdir(BENCH_ROOT, 0755))
		return -1;
	for (i = 0; i < N_TREES; i++) {
		snprintf(path, sizeof(path), "%s/t%d", BENCH_ROOT, i);
		if (mkdir(path, 0755))
			return -1;
	}
	for (i = 1; i < depths[N_DEPTHS - 1]; i++) {
		leaf_dir(dir, sizeof(dir), i + 1);
		if (mkdir(dir, 0755))
			return -1;
	}
	for (k = 0; k < N_DEPTHS; k++) {
		leaf_dir(dir, sizeof(dir), depths[k]);
		snprintf(path, sizeof(path), "%s/r", dir);
		if (make_file(path))
			return -1;
		for (s = 0; s < n_sets; s++)
			for (i = 0; i < n_first; i++) {
				snprintf(path, sizeof(path), "%s/f%d_%d", dir, s, i);
				if (make_file(path))
					return -1;
			}
	}
	/* the pinfold agent runs a copy inside its tree */
	snprintf(cmd, sizeof(cmd), "cp %s %s/openbench", self, TREE0);
	return system(cmd) ? -1 : 0;
}

/* A policy granting read and exec on n trees t0 .. tn-1, classes of at most 4096. */
static int write_open_policy(const char *path, int n)
{
	FILE *f = fopen(path, "w");
	int i, c = 0;

	if (!f)
		return -1;
	fprintf(f, "version: 1\nclasses:\n");
	for (i = 0; i < n; i++) {
		if (i % 4096 == 0)
			fprintf(f, "  c%d:\n    trees:\n", c++);
		fprintf(f, "      - %s/t%d\n", BENCH_ROOT, i);
	}
	fprintf(f, "families:\n  bench:\n    grants:\n");
	for (i = 0; i < c; i++)
		fprintf(f, "      - { class: c%d, actions: [read, exec] }\n", i);
	fprintf(f, "agents:\n  bench:\n    families: [runtime, bench]\n");
	return fclose(f);
}

/* ----- results ----- */

/*
 * res[variant][depth][mode][round]; ref the speed reference around each
 * trial (child_trial()), sysc the getppid() time in the variant's process
 */
static double res[N_VARIANTS][N_DEPTHS][N_MODES][2 * MAX_ROUNDS];
static double ref[N_VARIANTS][N_DEPTHS][N_MODES][2 * MAX_ROUNDS];
static double sysc[N_VARIANTS][N_DEPTHS][N_MODES][2 * MAX_ROUNDS];
static int n_res[N_VARIANTS];
static bool have[N_VARIANTS];

static const char *variant_name(int v)
{
	static char buf[N_VARIANTS][48];

	if (v == V_NONE)
		return "none";
	if (v == V_FLOOR)
		return "floor";
	if (v == V_OUTSIDE)
		return "outside";
	snprintf(buf[v], sizeof(buf[v]), "%s at %d", v < V_OUTSIDE ? "Landlock" : "pinfold",
		 sizes[(v < V_OUTSIDE ? v - V_LL : v - V_PF)]);
	return buf[v];
}

static double median_of(const double *v, int n)
{
	double tmp[2 * MAX_ROUNDS];

	if (n <= 0)
		return NAN;
	memcpy(tmp, v, n * sizeof(*v));
	return bench_median(tmp, n);
}

/* a fixed generator: the same intervals from the same rounds */
static uint64_t rng = 88172645463325252ULL;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * 95 % interval of median(a) - median(b), by bootstrap: each variant's
 * rounds resampled on their own.
 */
static void interval(const double *a, int na, const double *b, int nb, double *lo, double *hi)
{
	enum { B = 2000 };
	static double d[B];
	double x[2 * MAX_ROUNDS], y[2 * MAX_ROUNDS];
	int r, i;

	for (r = 0; r < B; r++) {
		for (i = 0; i < na; i++)
			x[i] = a[xorshift() % na];
		for (i = 0; i < nb; i++)
			y[i] = b[xorshift() % nb];
		d[r] = bench_median(x, na) - bench_median(y, nb);
	}
	qsort(d, B, sizeof(*d), cmp_double);
	*lo = d[B / 40];
	*hi = d[B - 1 - B / 40];
}

/* added cost of v over none at (k, m): median difference, and its interval */
static double added(int v, int k, int m, double *lo, double *hi)
{
	const double *a = res[v][k][m], *b = res[V_NONE][k][m];

	interval(a, n_res[v], b, n_res[V_NONE], lo, hi);
	return median_of(a, n_res[v]) - median_of(b, n_res[V_NONE]);
}

/* ----- the run ----- */

struct run {
	struct child ch[N_VARIANTS];
	struct floor_open *floor;
	struct bpf_link *floor_link;
	int set; /* the next set of files */
};

/*
 * One trial of v (all depths and modes) with file set set; with st, the
 * BPF statistics of each depth in a note.
 */
static int variant_trial(struct run *r, int v, int set, struct stats *st)
{
	struct child *c = &r->ch[v == V_OUTSIDE ? V_NONE : v];
	char note[2048] = "";
	int k, m, idx = n_res[v], err = -1;
	size_t n;

	if (v == V_FLOOR) {
		r->floor_link = bpf_program__attach_lsm(r->floor->progs.floor_file_open);
		if (!r->floor_link) {
			progress("cannot attach the floor: %s", strerror(errno));
			return -1;
		}
	}
	if (st)
		stats_take(st, 0, note, sizeof(note));
	for (k = 0; k < N_DEPTHS; k++) {
		for (m = 0; m < N_MODES; m++)
			if (child_trial(c, set, k, m, &res[v][k][m][idx], &sysc[v][k][m][idx],
					&ref[v][k][m][idx]))
				goto out;
		if (st) {
			n = strlen(note);
			snprintf(note + n, sizeof(note) - n, "%s depth %d:", k ? ";" : "",
				 depths[k]);
			stats_take(st, n_first + n_repeat + WARM, note, sizeof(note));
			n = strlen(note);
			if (note[n - 1] == ',')
				note[n - 1] = '\0';
		}
	}
	if (st && strstr(note, " ns x "))
		out("note\tBPF statistics, %s, time per run x runs per open+close:%s",
		    variant_name(v), note);
	n_res[v]++;
	err = 0;
out:
	/* never left attached: it would judge the other variants' opens too */
	if (v == V_FLOOR) {
		bpf_link__destroy(r->floor_link);
		r->floor_link = NULL;
	}
	return err;
}

/*
 * rounds rounds of the variants vs (n of them), taking turns; then, with
 * stats, one round more with BPF statistics, not counted
 */
static int phase(struct run *r, const char *name, const int *vs, int n, int rounds, bool stats)
{
	struct stats st;
	int i, j, v;
	double t0 = now_ns();

	for (i = 0; i < rounds; i++, r->set++) {
		for (j = 0; j < n; j++) {
			v = vs[(i + j) % n];
			if (have[v] && variant_trial(r, v, r->set, NULL))
				have[v] = false;
		}
	}
	progress("phase %s: %d rounds in %.1f s", name, rounds, (now_ns() - t0) / 1e9);
	if (!stats)
		return 0;
	stats_enable(1);
	stats_open(&st);
	for (j = 0; j < n; j++) {
		v = vs[j];
		/* a statistics round is not a timed round */
		if (v != V_NONE && have[v] && !variant_trial(r, v, r->set, &st))
			n_res[v]--;
	}
	r->set++;
	/* NEEDSWORK: pinfold's own programs' statistics are what says where its
	 * time goes (docs/benchmarks.md, "The open rows"), but its guard gives
	 * their descriptors to pinfold alone; `pinfold status` reports them
	 * through the daemon, and this row runs pinfold run --standalone:
	 * running the pinfold variant under a daemon would give them here */
	if (st.refused)
		out("note\tBPF statistics, phase %s: %d programs' descriptors refused (pinfold's "
		    "guard: only pinfold itself may hold them), their figures not read",
		    name, st.refused);
	stats_close(&st);
	stats_enable(0);
	return 0;
}

/* trials of none in phase A, the rest being A''s (after screen()) */
static int n_none_a;

/*
 * The machine's speed changes under TCG: while the host runs other work,
 * the guest slows down, every call by about the same factor (1.6 times
 * here while another build ran), for seconds at a time, and a phase's
 * trials can fall in such a stretch. So a trial is left out when the
 * machine ran more than SLOW times slower than usual meanwhile: when its
 * reference, this process's getppid() time around the trial (the slowest
 * of its depths and modes), exceeds SLOW times the lower quartile of all
 * trials' references. Not the variant's own getppid(): pinfold's agent
 * pays for a seccomp filter on every system call. A variant keeps all its
 * trials when fewer than 3 would be left. Notes say how many were left
 * out, and what a system call costs in each variant's process.
 */
#define SLOW 1.15

static void screen(int rounds)
{
	static double all[N_VARIANTS * 2 * MAX_ROUNDS], worst[N_VARIANTS][2 * MAX_ROUNDS];
	double nominal, own[N_DEPTHS * N_MODES * 2 * MAX_ROUNDS];
	int v, k, m, i, j, n = 0, total = 0, out_n = 0;
	char line[512];
	size_t len = 0;

	for (v = 0; v < N_VARIANTS; v++)
		for (i = 0; i < n_res[v]; i++) {
			worst[v][i] = 0;
			for (k = 0; k < N_DEPTHS; k++)
				for (m = 0; m < N_MODES; m++)
					if (ref[v][k][m][i] > worst[v][i])
						worst[v][i] = ref[v][k][m][i];
			all[n++] = worst[v][i];
		}
	n_none_a = rounds < n_res[V_NONE] ? rounds : n_res[V_NONE];
	if (!n)
		return;
	qsort(all, n, sizeof(*all), cmp_double);
	nominal = all[n / 4];
	/* every trial's figures, with OPENBENCH_RAW (progress, on stderr) */
	for (v = 0; getenv("OPENBENCH_RAW") && v < N_VARIANTS; v++)
		for (m = 0; m < N_MODES; m++)
			for (k = 0; k < N_DEPTHS; k++) {
				fprintf(stderr,
					"  open: raw ns/reference %s %s %d:", variant_name(v),
					mode_name[m], depths[k]);
				for (i = 0; i < n_res[v]; i++)
					fprintf(stderr, " %.0f/%.0f", res[v][k][m][i],
						ref[v][k][m][i]);
				fprintf(stderr, "\n");
			}
	for (v = 0; v < N_VARIANTS; v++) {
		int kept = 0, kept_a = 0;

		for (i = 0; i < n_res[v]; i++)
			kept += worst[v][i] <= SLOW * nominal;
		total += n_res[v];
		if (kept < 3 || kept == n_res[v])
			continue;
		out_n += n_res[v] - kept;
		for (i = 0, j = 0; i < n_res[v]; i++) {
			if (worst[v][i] > SLOW * nominal)
				continue;
			kept_a += v == V_NONE && i < rounds;
			for (k = 0; k < N_DEPTHS; k++)
				for (m = 0; m < N_MODES; m++) {
					res[v][k][m][j] = res[v][k][m][i];
					sysc[v][k][m][j] = sysc[v][k][m][i];
				}
			j++;
		}
		n_res[v] = j;
		if (v == V_NONE)
			n_none_a = kept_a;
	}
	out("note\tspeed: %d of %d trials left out, the guest running more than %.0f %% slower "
	    "than usual meanwhile (reference: getppid() of the measuring process around each "
	    "trial; usual %.0f ns, the lower quartile; the slowest %.0f ns)",
	    out_n, total, (SLOW - 1) * 100, nominal, all[n - 1]);
	for (v = 0; v < N_VARIANTS; v++) {
		n = 0;
		for (k = 0; k < N_DEPTHS; k++)
			for (m = 0; m < N_MODES; m++)
				for (i = 0; i < n_res[v]; i++)
					own[n++] = sysc[v][k][m][i];
		if (n)
			len += snprintf(line + len, sizeof(line) - len, "%s %s %.0f",
					len ? "," : "", variant_name(v), bench_median(own, n));
	}
	out("note\tgetppid() in each variant's process (ns, median of its trials):%s; "
	    "pinfold's agent runs under a seccomp filter (native system calls only, "
	    "userspace/run.c), which every system call of it passes",
	    line);
}

/* the name of a row: "open()+close(), MODE, depth D, N rules: WHAT" */
static const char *row_name(int m, int k, int s, const char *what)
{
	static char name[192];

	if (s < 0)
		snprintf(name, sizeof(name), "open()+close(), %s, depth %d: %s", mode_name[m],
			 depths[k], what);
	else
		snprintf(name, sizeof(name), "open()+close(), %s, depth %d, %d rule%s: %s",
			 mode_name[m], depths[k], sizes[s], sizes[s] == 1 ? "" : "s", what);
	return name;
}

/* a row of a over b, each an added cost; "fail" unless both were measured */
static void row(const char *name, int a, int b, int k, int m)
{
	double lo, hi;

	if (!have[a] || !have[b] || !have[V_NONE]) {
		out("fail\t%s\tnot measured (see the notes)", name);
		return;
	}
	out("row\t%s\t%.0f\t%.0f\tns", name, added(a, k, m, &lo, &hi), added(b, k, m, &lo, &hi));
}

static void rows(void)
{
	double lo, hi;
	int k, m, s, v;

	for (m = 0; m < N_MODES; m++)
		for (k = 0; k < N_DEPTHS; k++)
			for (s = 0; s < N_SIZES; s++)
				row(row_name(m, k, s, "pinfold's added cost, over Landlock's"),
				    V_PF + s, V_LL + s, k, m);
	for (k = 0; k < N_DEPTHS; k++)
		for (s = 0; s < N_SIZES; s++)
			row(row_name(M_REPEAT, k, s, "pinfold's added cost, over the floor's"),
			    V_PF + s, V_FLOOR, k, M_REPEAT);
	/* what pinfold's programs cost every task, confined or not */
	for (k = 0; k < N_DEPTHS; k++)
		row(row_name(M_REPEAT, k, -1,
			     "pinfold loaded, added cost to a task it does not confine, over the "
			     "floor's"),
		    V_OUTSIDE, V_FLOOR, k, M_REPEAT);
	if (!have[V_NONE])
		return;
	for (m = 0; m < N_MODES; m++)
		for (k = 0; k < N_DEPTHS; k++) {
			char buf[1024];
			size_t n = 0;

			n += snprintf(
				buf + n, sizeof(buf) - n,
				"%s opens, depth %d: none %.0f ns (A %.0f, A' %.0f); added",
				mode_name[m], depths[k],
				median_of(res[V_NONE][k][m], n_res[V_NONE]),
				median_of(res[V_NONE][k][m], n_none_a),
				median_of(res[V_NONE][k][m] + n_none_a, n_res[V_NONE] - n_none_a));
			for (v = V_FLOOR; v < N_VARIANTS; v++) {
				if (!have[v])
					continue;
				double a = added(v, k, m, &lo, &hi);

				n += snprintf(buf + n, sizeof(buf) - n, "%s %s %+.0f [%.0f, %.0f]",
					      v == V_FLOOR ? "" : ",", variant_name(v), a, lo, hi);
			}
			out("note\t%s", buf);
		}
}

static int coordinator(int rounds, const char *pinfold, char *first, char *repeat)
{
	static const int phase_a[] = {V_NONE, V_FLOOR, V_LL, V_LL + 1, V_LL + 2};
	static const int phase_b[] = {V_OUTSIDE, V_PF, V_PF + 1, V_PF + 2};
	struct run r = {0};
	char self[PATH_MAX] = "", arg[16], pol[PATH_MAX], copy[PATH_MAX] = TREE0 "/openbench";
	char cmd[PATH_MAX + 64];
	double t0 = now_ns(), t1;
	struct utsname u;
	int s, rc = 1;

	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return 1;
	/* a variant that died is told to quit all the same */
	signal(SIGPIPE, SIG_IGN);
	stats_enable(0);
	uname(&u);
	out("note\topen() rows: in the VM (qemu TCG, 2 vCPUs, Linux %s); added cost = a "
	    "variant's median minus none's, [low, high] its 95 %% interval (bootstrap of the "
	    "rounds); %d rounds a phase (A: none, floor, Landlock; B: pinfold, and none with "
	    "pinfold loaded; A': as A, after pinfold unload); a trial: at each depth (of the "
	    "file below the tree root, itself 3 below /), %d first opens (files new to the "
	    "process) and %d opens of one file, each timed, its figure their median",
	    u.release, rounds, n_first, n_repeat);
	if (layout(3 * (rounds + 1), self)) {
		out("fail\topen()\tcannot lay out the files in %s: %s", BENCH_ROOT,
		    strerror(errno));
		return 1;
	}
	progress("%d directories and %d files in %.1f s", N_TREES + depths[N_DEPTHS - 1],
		 3 * (rounds + 1) * N_DEPTHS * n_first, (now_ns() - t0) / 1e9);

	r.floor = floor_open__open_and_load();
	have[V_FLOOR] = r.floor != NULL;
	if (!r.floor)
		out("note\tthe floor cannot load: %s", strerror(errno));

	{
		char *argv[] = {self, "serve", first, repeat, NULL};

		if (child_start(&r.ch[V_NONE], argv)) {
			out("fail\topen()\tcannot start the variants' process");
			return 1;
		}
		have[V_NONE] = true;
		r.ch[V_FLOOR] = r.ch[V_NONE]; /* the same process, the floor attached */
	}
	for (s = 0; s < N_SIZES; s++) {
		char *argv[] = {self, "serve", first, repeat, arg, NULL};

		snprintf(arg, sizeof(arg), "%d", sizes[s]);
		t1 = now_ns();
		have[V_LL + s] = !child_start(&r.ch[V_LL + s], argv);
		if (!have[V_LL + s])
			out("note\tLandlock at %d rules cannot restrict a process", sizes[s]);
		else
			progress("Landlock at %d rules: ruleset made in %.2f s", sizes[s],
				 (now_ns() - t1) / 1e9);
	}

	phase(&r, "A", phase_a, 5, rounds, true);

	/* pinfold: one standalone run per size, started one after the other */
	mkdir("/tmp/pf-audit", 0700);
	for (s = 0; s < N_SIZES; s++) {
		char audit[64];
		char *argv[] = {
			(char *)pinfold, "run",        "--standalone", "--policy", pol,  "--agent",
			"bench",         "--no-watch", "--audit",      audit,      "--", copy,
			"serve",         first,        repeat,         NULL};

		snprintf(pol, sizeof(pol), "/tmp/pf-bench-%d.yaml", sizes[s]);
		snprintf(audit, sizeof(audit), "/tmp/pf-audit/bench-%d.jsonl", sizes[s]);
		if (write_open_policy(pol, sizes[s]))
			return 1;
		t1 = now_ns();
		have[V_PF + s] = !child_start(&r.ch[V_PF + s], argv);
		if (!have[V_PF + s])
			out("note\tpinfold cannot run the agent at %d rules", sizes[s]);
		else
			out("note\tpinfold run --standalone at %d rules: the agent started after "
			    "%.1f s%s",
			    sizes[s], (now_ns() - t1) / 1e9,
			    s == 0 ? " (pinfold's programs loaded)" : "");
	}

	/* with pinfold loaded: none is outside it */
	have[V_OUTSIDE] = have[V_PF] || have[V_PF + 1] || have[V_PF + 2];
	phase(&r, "B", phase_b, 4, rounds, true);

	for (s = 0; s < N_SIZES; s++)
		child_stop(&r.ch[V_PF + s]);
	t1 = now_ns();
	snprintf(cmd, sizeof(cmd), "%s unload >&2", pinfold);
	if (system(cmd)) {
		/* none, the floor and Landlock would pay for pinfold's programs */
		out("note\tpinfold unload failed: no phase A', none's figures are phase A's");
	} else {
		progress("pinfold unloaded in %.1f s", (now_ns() - t1) / 1e9);
		phase(&r, "A'", phase_a, 5, rounds, false);
	}

	screen(rounds);
	rows();
	rc = failed;
	progress("done in %.1f s", (now_ns() - t0) / 1e9);
	for (s = 0; s < N_VARIANTS; s++)
		if (s != V_FLOOR && s != V_OUTSIDE)
			child_stop(&r.ch[s]);
	floor_open__destroy(r.floor);
	return rc;
}

int main(int argc, char **argv)
{
	const char *pinfold = getenv("PINFOLD");
	int rounds = argc > 2 ? atoi(argv[2]) : 0;

	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "serve")) {
		n_first = atoi(argv[2]);
		n_repeat = atoi(argv[3]);
		if (n_first > 0 && n_repeat > 0)
			return serve(argc == 5 ? atoi(argv[4]) : 0);
	}
	if (argc == 5 && !strcmp(argv[1], "vm") && pinfold) {
		n_first = atoi(argv[3]);
		n_repeat = atoi(argv[4]);
		if (rounds >= 1 && rounds <= MAX_ROUNDS && n_first > 0 && n_repeat > 0)
			return coordinator(rounds, pinfold, argv[3], argv[4]);
	}
	fprintf(stderr, "usage: PINFOLD=PATH openbench vm ROUNDS FIRST REPEAT\n"
			"       openbench serve FIRST REPEAT [LANDLOCK-RULES]\n");
	return 2;
}
