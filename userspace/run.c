// SPDX-License-Identifier: GPL-2.0-only
/*
 * run.c - `pinfold run`: confine one command as an instance of an agent
 * and exit with its status. Through the daemon when one runs (it writes
 * the records and applies policy changes); else standalone, as the
 * instance's own writer and watcher (launch.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "control.h"
#include "launch.h"
#include "run.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pinfold run [--policy FILE|DIR] --agent NAME [--standalone] [--audit FILE] "
		"[--on-behalf-of WHO] [--task ID] [--allow-degraded] [--no-watch] "
		"[--keep-fd N]... [--audit-key FILE] [--audit-sync batch|always|none] "
		"[--audit-rotate-bytes N] [--audit-rotate-seconds N] [--audit-reserve-bytes N]\n"
		"  -- CMD [ARGS...]\n"
		"  When a pinfold daemon runs, the agent runs under it: the daemon's policy (--policy,\n"
		"  if given, must name it) and audit log apply, and the daemon applies policy changes.\n"
		"  Otherwise, or with --standalone, pinfold run needs --policy and is the instance's\n"
		"  own audit writer.\n"
		"  --on-behalf-of and --task name whom the agent acts for and its task, in every\n"
		"  record of the instance.\n"
		"  The policy is watched, and a changed one applied while the agent runs, unless\n"
		"  --no-watch is given. pinfold refuses to watch (exit 2) a policy the agent could\n"
		"  change: one its rules let it write, or create, delete or rename names on the\n"
		"  way to; or, where file rules are not enforced (--allow-degraded, or audit or\n"
		"  record mode), one its uid may write, or any when it runs as root.\n");
}

static int close_inherited(const struct run_opts *o)
{
	unsigned int from = 3;
	int i;

	for (i = 0; i < o->n_keep_fds; i++) {
		if ((unsigned int)o->keep_fds[i] > from &&
		    close_range(from, o->keep_fds[i] - 1, 0) < 0)
			return -errno;
		from = o->keep_fds[i] + 1;
	}
	return close_range(from, ~0U, 0) < 0 ? -errno : 0;
}

/*
 * Refuse system calls through any ABI but the native one. The kernel runs
 * no cgroup sockopt program for a 32-bit setsockopt, so int $0x80 would
 * set a source route unjudged (as systemd's SystemCallArchitectures=native
 * closes such paths). Seven instructions: hand-written, where libseccomp
 * would be a dependency for one comparison.
 */
static int native_syscalls_only(void)
{
#if defined(__x86_64__)
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		/* x32 calls come as x86-64 ones with bit 30 set in the number */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) ? -errno : 0;
#else
	/* NEEDSWORK: only x86-64 refuses foreign ABIs; elsewhere a compat
	 * setsockopt can set a source route unjudged */
	return 0;
#endif
}

static void child_exec(pid_t parent, int procs_fd, const sigset_t *oldmask,
		       const struct run_opts *o, const char *tmp)
{
	int code;

	/* no agent outlives its audit writer */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) {
		fprintf(stderr, "pinfold: the launcher is gone, not starting the agent\n");
		_exit(RUN_EXIT_INTERNAL);
	}
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* through the daemon, the launcher is in the instance cgroup already */
	if (procs_fd >= 0 && write(procs_fd, "0\n", 2) != 2) {
		fprintf(stderr, "pinfold: cannot join the instance cgroup: %s\n", strerror(errno));
		_exit(RUN_EXIT_INTERNAL);
	}
	if (procs_fd >= 0)
		close(procs_fd);
	/* without privilege, a filter needs no_new_privs: no setuid program
	 * gains the privilege back, and the filter cannot be shed by one */
	if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "pinfold: cannot set no_new_privs: %s\n", strerror(errno));
		_exit(RUN_EXIT_INTERNAL);
	}
	if (native_syscalls_only()) {
		fprintf(stderr, "pinfold: cannot refuse foreign system call ABIs: %s\n",
			strerror(errno));
		_exit(RUN_EXIT_INTERNAL);
	}
	/* temporary files go to the instance's own directory, runtime.tmp */
	if (tmp[0] && setenv("TMPDIR", tmp, 1)) {
		fprintf(stderr, "pinfold: cannot set TMPDIR: %s\n", strerror(errno));
		_exit(RUN_EXIT_INTERNAL);
	}
	if (close_inherited(o)) {
		fprintf(stderr, "pinfold: cannot close inherited descriptors: %s\n",
			strerror(errno));
		_exit(RUN_EXIT_INTERNAL);
	}
	execvp(o->argv[0], o->argv);
	code = errno == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_NOEXEC;
	fprintf(stderr, "pinfold: cannot run %s: %s\n", o->argv[0], strerror(errno));
	_exit(code);
}

/* Add --keep-fd N to o's sorted list; 0, or -EINVAL after saying why. */
static int add_keep_fd(struct run_opts *o, const char *arg)
{
	char *end;
	long fd;
	int i;

	errno = 0;
	fd = strtol(arg, &end, 10);
	if (errno || *end || end == arg || fd < 3 || fd > INT_MAX) {
		fprintf(stderr, "pinfold: --keep-fd wants a descriptor number above 2, not '%s'\n",
			arg);
		return -EINVAL;
	}
	if (o->n_keep_fds == RUN_MAX_KEEP_FDS) {
		fprintf(stderr, "pinfold: at most %d --keep-fd options\n", RUN_MAX_KEEP_FDS);
		return -EINVAL;
	}
	for (i = o->n_keep_fds; i > 0 && o->keep_fds[i - 1] > fd; i--)
		o->keep_fds[i] = o->keep_fds[i - 1];
	o->keep_fds[i] = (int)fd;
	o->n_keep_fds++;
	return 0;
}

/* --audit-sync's value; 0, or -EINVAL after saying why. */
int run_parse_sync(const char *arg, enum auditlog_sync *out)
{
	static const char *const names[] = {
		[AUDITLOG_SYNC_BATCH] = "batch",
		[AUDITLOG_SYNC_ALWAYS] = "always",
		[AUDITLOG_SYNC_NONE] = "none",
	};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i])) {
			*out = i;
			return 0;
		}
	}
	fprintf(stderr, "pinfold: --audit-sync wants batch, always or none, not '%s'\n", arg);
	return -EINVAL;
}

/* A count of bytes or seconds (0: never); 0, or -EINVAL after saying why. */
int run_parse_count(const char *opt, const char *arg, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(arg, &end, 10);
	if (errno || *end || end == arg || *out < 0) {
		fprintf(stderr, "pinfold: %s wants a number, 0 or more, not '%s'\n", opt, arg);
		return -EINVAL;
	}
	return 0;
}

/* Parse options; 0, or an exit status for a usage error. */
static int parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"agent", required_argument, NULL, 'a'},
		{"audit", required_argument, NULL, 'o'},
		{"allow-degraded", no_argument, NULL, 'D'},
		{"no-watch", no_argument, NULL, 'W'},
		{"keep-fd", required_argument, NULL, 'k'},
		{"on-behalf-of", required_argument, NULL, 'B'},
		{"task", required_argument, NULL, 'T'},
		{"audit-key", required_argument, NULL, 'K'},
		{"audit-sync", required_argument, NULL, 'S'},
		{"audit-rotate-bytes", required_argument, NULL, 'R'},
		{"audit-rotate-seconds", required_argument, NULL, 'A'},
		{"audit-reserve-bytes", required_argument, NULL, 'V'},
		{"standalone", no_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int c;

	optind = 1;
	opterr = 0; /* getopt would name the command "run" */
	while ((c = getopt_long(argc, argv, "+:p:a:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->policy = optarg;
			break;
		case 'a':
			o->agent = optarg;
			break;
		case 'o':
			o->audit_given = true;
			o->audit = optarg;
			break;
		case 'D':
			o->allow_degraded = true;
			break;
		case 'W':
			o->no_watch = true;
			break;
		case 'L':
			o->standalone = true;
			break;
		case 'k':
			if (add_keep_fd(o, optarg))
				return RUN_EXIT_USAGE;
			break;
		case 'B':
			o->on_behalf_of = optarg;
			break;
		case 'T':
			o->task = optarg;
			break;
		case 'K':
			o->audit_given = true;
			o->log.key_path = optarg;
			break;
		case 'S':
			o->audit_given = true;
			if (run_parse_sync(optarg, &o->log.sync))
				return RUN_EXIT_USAGE;
			break;
		case 'R':
			o->audit_given = true;
			if (run_parse_count("--audit-rotate-bytes", optarg, &o->log.rotate_bytes))
				return RUN_EXIT_USAGE;
			break;
		case 'A':
			o->audit_given = true;
			if (run_parse_count("--audit-rotate-seconds", optarg,
					    &o->log.rotate_seconds))
				return RUN_EXIT_USAGE;
			break;
		case 'V':
			o->audit_given = true;
			if (run_parse_count("--audit-reserve-bytes", optarg, &o->reserve_bytes))
				return RUN_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return -EXIT_SUCCESS - 1;
		case ':':
			fprintf(stderr, "pinfold: run: option '%s' needs a value\n",
				argv[optind - 1]);
			usage(stderr);
			return RUN_EXIT_USAGE;
		default:
			if (optopt)
				fprintf(stderr, "pinfold: run: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "pinfold: run: unknown option '%s'\n",
					argv[optind - 1]);
			usage(stderr);
			return RUN_EXIT_USAGE;
		}
	}
	if (!o->agent || optind >= argc) {
		fprintf(stderr, "pinfold: run needs --agent and a command after --\n");
		usage(stderr);
		return RUN_EXIT_USAGE;
	}
	o->argv = argv + optind;
	if (!o->audit)
		o->audit = AUDITLOG_DEFAULT_PATH;
	o->log.path = o->audit;
	return 0;
}

/* Everything one run holds; run_release undoes whatever was done. */
struct run_state {
	struct launch l;
	struct pf_kernel k;
	int sig_fd;
	int ctl_fd;    /* the connection to the daemon; -1 standalone */
	char tmp[256]; /* the daemon's instance's private tmp: the daemon's to remove */
	sigset_t oldmask;
};

/* Say, in one line, what is enforced; refuse unless degraded is allowed. */
static int run_signals(struct run_state *st)
{
	sigset_t mask;

	/* a closed stderr must not kill the writer: records would be lost */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &st->oldmask);
	st->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (st->sig_fd < 0) {
		fprintf(stderr, "pinfold: cannot set up signals: %s\n", strerror(errno));
		return RUN_EXIT_INTERNAL;
	}
	return 0;
}

/* swap's note callback: a record of the instance, with detail (owned) */
static int watch_fd(int ep, int fd)
{
	struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* How long to wait for events: until a policy change or a retry is due. */
static int wait_ms(const struct run_state *st)
{
	int a, b;

	if (st->ctl_fd >= 0)
		return -1; /* the daemon writes, and applies changes */
	a = swap_timeout_ms(&st->l.sw);
	b = writer_timeout_ms(&st->l.w);
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

/*
 * Wait for the child, forwarding signals; standalone, also consume events
 * and apply changes of the policy.
 */
static int supervise(struct run_state *st, pid_t child, int *status)
{
	bool alone = st->ctl_fd < 0;
	int ep, pidfd, n, i, err = 0, ring_fd = alone ? writer_ring_fd(&st->l.w) : -1;
	int policy_fd = alone ? swap_fd(&st->l.sw) : -1;
	struct epoll_event evs[8];

	pidfd = syscall(SYS_pidfd_open, child, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (pidfd < 0 || ep < 0) {
		err = -errno;
		goto out;
	}
	err = watch_fd(ep, pidfd) ?: watch_fd(ep, st->sig_fd);
	if (!err && ring_fd >= 0)
		err = watch_fd(ep, ring_fd);
	if (!err && policy_fd >= 0)
		err = watch_fd(ep, policy_fd);
	if (err)
		goto out;

	for (;;) {
		n = epoll_wait(ep, evs, 8, wait_ms(st));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == st->sig_fd) {
				struct signalfd_siginfo si;

				if (read(st->sig_fd, &si, sizeof(si)) == sizeof(si))
					kill(child, si.ssi_signo);
			} else if (evs[i].data.fd == ring_fd) {
				writer_consume(&st->l.w, false);
			} else if (evs[i].data.fd == policy_fd) {
				swap_on_change(&st->l.sw);
				/* a watch that was lost is closed: epoll dropped it */
				policy_fd = swap_fd(&st->l.sw);
			}
		}
		if (alone && swap_timeout_ms(&st->l.sw) == 0)
			launch_swap(&st->l);
		/* events below the ring's wake-up fill, a retry or a checkpoint */
		if (alone && writer_timeout_ms(&st->l.w) == 0)
			writer_consume(&st->l.w, false);
		for (i = 0; i < n; i++)
			if (evs[i].data.fd == pidfd && waitpid(child, status, 0) == child)
				goto out;
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	if (ep >= 0)
		close(ep);
	return err;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return RUN_EXIT_INTERNAL;
}

/*
 * Start the agent and wait for it. Standalone, write its events until it
 * ends, then end the instance: leftover tasks die, every event is drained,
 * losses and the exit status are recorded. Through the daemon, tell it the
 * exit status (the daemon ends the instance when its cgroup is empty).
 * Returns the agent's exit status.
 */
static int run_agent(struct run_state *st)
{
	struct json_object *detail;
	pid_t child, launcher = getpid();
	int err, status = 0;

	fflush(NULL);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "pinfold: cannot fork: %s\n", strerror(errno));
		return RUN_EXIT_INTERNAL;
	}
	if (child == 0)
		child_exec(launcher, st->l.procs_fd, &st->oldmask, &st->l.o,
			   st->ctl_fd < 0 ? st->l.in.tmp : st->tmp);
	if (st->l.procs_fd >= 0)
		close(st->l.procs_fd);
	st->l.procs_fd = -1;

	err = supervise(st, child, &status);
	if (err) {
		fprintf(stderr, "pinfold: lost track of the agent: %s\n", strerror(-err));
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	detail = json_object_new_object();
	json_object_object_add(detail, "status", json_object_new_int(exit_code(status)));
	if (st->ctl_fd < 0) {
		launch_end(&st->l, detail);
	} else {
		/*
		 * A daemon killed meanwhile broke the connection, and its
		 * successor ends the instance without the status: the agent's
		 * rules keep it from the control socket (unix-connect).
		 */
		json_object_object_add(detail, "op", json_object_new_string("exit"));
		control_send(st->ctl_fd, detail);
		json_object_put(detail);
	}
	return exit_code(status);
}

/* A string array of JSON from a NULL-ended vector. */
static struct json_object *str_array(char *const *v, int n)
{
	struct json_object *a = json_object_new_array();
	int i;

	for (i = 0; a && (n < 0 ? v[i] != NULL : i < n); i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/*
 * Ask the daemon to confine this process as an instance of the agent: it
 * moves us into the instance cgroup, and we start the agent from there.
 * 0, or an exit status after saying why.
 */
static int run_via_daemon(struct run_state *st)
{
	struct run_opts *o = &st->l.o;
	struct json_object *req = json_object_new_object(), *reply, *keep;
	char path[PATH_MAX];
	const char *said, *tmp;
	int i;

	json_object_object_add(req, "op", json_object_new_string("run"));
	json_object_object_add(req, "agent", json_object_new_string(o->agent));
	if (o->policy)
		json_object_object_add(
			req, "policy",
			json_object_new_string(realpath(o->policy, path) ? path : o->policy));
	if (o->on_behalf_of)
		json_object_object_add(req, "on_behalf_of",
				       json_object_new_string(o->on_behalf_of));
	if (o->task)
		json_object_object_add(req, "task", json_object_new_string(o->task));
	json_object_object_add(req, "allow_degraded", json_object_new_boolean(o->allow_degraded));
	json_object_object_add(req, "audit_options", json_object_new_boolean(o->audit_given));
	json_object_object_add(req, "no_watch", json_object_new_boolean(o->no_watch));
	keep = json_object_new_array();
	for (i = 0; keep && i < o->n_keep_fds; i++)
		json_object_array_add(keep, json_object_new_int(o->keep_fds[i]));
	json_object_object_add(req, "keep_fds", keep);
	json_object_object_add(req, "argv", str_array(o->argv, -1));

	reply = control_call(st->ctl_fd, req);
	if (!reply) {
		fprintf(stderr, "pinfold: the daemon did not answer: %s\n", strerror(errno));
		return RUN_EXIT_INTERNAL;
	}
	said = json_object_get_string(json_object_object_get(reply, "said"));
	if (said && *said)
		fputs(said, stderr);
	if (!json_object_get_boolean(json_object_object_get(reply, "ok"))) {
		i = json_object_get_int(json_object_object_get(reply, "code"));
		json_object_put(reply);
		return i ?: RUN_EXIT_INTERNAL;
	}
	tmp = json_object_get_string(json_object_object_get(reply, "tmp"));
	snprintf(st->tmp, sizeof(st->tmp), "%s", tmp ? tmp : "");
	json_object_put(reply);
	return 0;
}

static void run_release(struct run_state *st)
{
	launch_release(&st->l);
	loader_close(&st->k);
	if (st->sig_fd >= 0)
		close(st->sig_fd);
	if (st->ctl_fd >= 0)
		close(st->ctl_fd);
}

int run_main(int argc, char **argv)
{
	struct run_state st = {
		.l = LAUNCH_INIT,
		.k = PF_KERNEL_INIT,
		.sig_fd = -1,
		.ctl_fd = -1,
	};
	int ret;

	st.l.k = &st.k;
	st.l.err = stderr;
	st.l.launcher = getpid();
	st.l.uid = getuid();
	st.l.gid = getgid();
	ret = parse(argc, argv, &st.l.o);
	if (ret)
		return ret < 0 ? EXIT_SUCCESS : ret;

	if (!st.l.o.standalone) {
		st.ctl_fd = control_connect();
		if (st.ctl_fd < 0 && !control_no_daemon(st.ctl_fd)) {
			fprintf(stderr,
				"pinfold: cannot reach the daemon at %s: %s; --standalone runs "
				"without it\n",
				CONTROL_SOCKET, strerror(-st.ctl_fd));
			return RUN_EXIT_INTERNAL;
		}
	}
	if (st.ctl_fd >= 0) {
		ret = run_via_daemon(&st);
	} else if (!st.l.o.policy) {
		fprintf(stderr, "pinfold: no daemon runs: run needs --policy\n");
		ret = RUN_EXIT_USAGE;
	} else {
		ret = launch_prepare(&st.l) ?: launch_up(&st.l);
	}
	if (!ret)
		ret = run_signals(&st);
	if (!ret)
		ret = run_agent(&st);
	run_release(&st);
	return ret;
}
