// SPDX-License-Identifier: GPL-2.0-only
/*
 * run.c - `pinfold run`: confine one command as an instance of an agent,
 * write its audit records, apply changes of its policy, and exit with its
 * status.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include "audit.h"
#include "cgroup.h"
#include "explain.h"
#include "guard.h"
#include "instance.h"
#include "loader.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "run.h"
#include "swap.h"
#include "writer.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pinfold run --policy FILE|DIR --agent NAME [--audit FILE] "
		"[--on-behalf-of WHO] [--task ID] [--allow-degraded] [--no-watch] "
		"[--keep-fd N]... [--audit-key FILE] [--audit-sync batch|always|none] "
		"[--audit-rotate-bytes N] [--audit-rotate-seconds N] [--audit-reserve-bytes N]\n"
		"  -- CMD [ARGS...]\n"
		"  --on-behalf-of and --task name whom the agent acts for and its task, in every\n"
		"  record of the instance.\n"
		"  The policy is watched, and a changed one applied while the agent runs, unless\n"
		"  --no-watch is given. pinfold refuses to watch (exit 2) a policy the agent could\n"
		"  change: one its rules let it write, or create, delete or rename names on the\n"
		"  way to; or, where file rules are not enforced (--allow-degraded, or audit or\n"
		"  record mode), one its uid may write, or any when it runs as root.\n");
}

static struct json_object *detail_new(void)
{
	return json_object_new_object();
}

static void detail_add(struct json_object *d, const char *key, struct json_object *v)
{
	if (d)
		audit_json_add(d, key, v);
	else
		json_object_put(v);
}

/*
 * Close every descriptor above 2 but those kept: a descriptor opened
 * before confinement would not be judged again.
 */
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
	if (write(procs_fd, "0\n", 2) != 2) {
		fprintf(stderr, "pinfold: cannot join the instance cgroup: %s\n", strerror(errno));
		_exit(RUN_EXIT_INTERNAL);
	}
	close(procs_fd);
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
static int parse_sync(const char *arg, enum auditlog_sync *out)
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
static int parse_count(const char *opt, const char *arg, long long *out)
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
			o->audit = optarg;
			break;
		case 'D':
			o->allow_degraded = true;
			break;
		case 'W':
			o->no_watch = true;
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
			o->log.key_path = optarg;
			break;
		case 'S':
			if (parse_sync(optarg, &o->log.sync))
				return RUN_EXIT_USAGE;
			break;
		case 'R':
			if (parse_count("--audit-rotate-bytes", optarg, &o->log.rotate_bytes))
				return RUN_EXIT_USAGE;
			break;
		case 'A':
			if (parse_count("--audit-rotate-seconds", optarg, &o->log.rotate_seconds))
				return RUN_EXIT_USAGE;
			break;
		case 'V':
			if (parse_count("--audit-reserve-bytes", optarg, &o->reserve_bytes))
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
	if (!o->policy || !o->agent || optind >= argc) {
		fprintf(stderr, "pinfold: run needs --policy, --agent and a command after --\n");
		usage(stderr);
		return RUN_EXIT_USAGE;
	}
	o->argv = argv + optind;
	if (!o->audit)
		o->audit = AUDITLOG_DEFAULT_PATH;
	o->log.path = o->audit;
	return 0;
}

/* Say, in one line, what is enforced; refuse unless degraded is allowed. */
static int check_enforcement(const struct pf_kernel *k, const struct run_opts *o)
{
	if (k->files_enforced)
		return 0;
	if (!o->allow_degraded) {
		fprintf(stderr,
			"pinfold: refusing to run agent %s: file rules cannot be enforced (%s), "
			"network rules can; to enforce files, %s; or pass --allow-degraded to "
			"run with network rules only\n",
			o->agent, k->files_why, k->files_how);
		return RUN_EXIT_USAGE;
	}
	fprintf(stderr,
		"pinfold: degraded: network rules enforced, file rules NOT enforced (%s); "
		"to enforce them, %s\n",
		k->files_why, k->files_how);
	return 0;
}

/* Everything one run holds; run_release undoes whatever was done. */
struct run_state {
	struct run_opts o;
	struct swap sw; /* the policy in force, earlier ones, and the watch */
	int watch_err;  /* why the policy is not watched, when it is not */
	struct compiled comp;
	struct pf_kernel k;
	struct instance in;
	struct writer w;
	char cg[PATH_MAX];         /* the instance cgroup, while it exists */
	char path_key[PATH_MAX];   /* the audit log's key of hashed paths */
	const char *audit_keys[2]; /* the signing key and the path key */
	char name[128];            /* the instance's name */
	int procs_fd;
	int sig_fd;
	sigset_t oldmask;
};

static void print_policy_error(const struct policy_error *perr)
{
	char msg[600];

	policy_error_format(perr, msg, sizeof(msg));
	fprintf(stderr, "%s\n", msg);
}

/*
 * Read the policy and find the agent in it: the first generation. The
 * watch starts first, so that no change made meanwhile goes unseen. 0, or
 * the exit status to end with.
 */
static int run_load(struct run_state *st)
{
	struct policy_error perr = {};
	struct policy *p;
	size_t i;

	st->sw.path = st->o.policy;
	st->sw.agent = st->o.agent;
	if (!st->o.no_watch)
		st->watch_err = swap_watch(&st->sw);
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "pinfold: cannot load the policy: %s\n", strerror(ENOMEM));
		return RUN_EXIT_INTERNAL;
	}
	if (policy_load(st->o.policy, p, &perr)) {
		free(p);
		print_policy_error(&perr);
		return RUN_EXIT_USAGE;
	}
	swap_init(&st->sw, st->o.policy, st->o.agent, p, 1);
	if (!swap_agent(&st->sw)) {
		fprintf(stderr, "pinfold: no agent '%s' in %s; its agents are:", st->o.agent,
			st->o.policy);
		for (i = 0; i < p->n_agents; i++)
			fprintf(stderr, " %s", p->agents[i].name);
		fputc('\n', stderr);
		return RUN_EXIT_USAGE;
	}
	if (st->watch_err)
		fprintf(stderr,
			"pinfold: cannot watch policy %s: %s; changes to it will not be applied "
			"while agent %s runs\n",
			st->o.policy, strerror(-st->watch_err), st->o.agent);
	return 0;
}

/*
 * Refuse to watch a policy that the agent could change (swap_guard): it
 * would write its own rules, and pinfold apply them. 0, or the exit status
 * to end with.
 */
static int run_guard(struct run_state *st)
{
	char why[1024];
	int rc;

	if (swap_fd(&st->sw) < 0)
		return 0;
	rc = swap_guard(st->o.policy, swap_policy(&st->sw), swap_agent(&st->sw), &st->comp,
			st->k.files_enforced, st->in.tmp, why, sizeof(why));
	if (!rc)
		return 0;
	fprintf(stderr,
		"pinfold: refusing to watch policy %s: %s%s; pass --no-watch to run without "
		"applying changes to it, or keep it where agent %s cannot change it\n",
		st->o.policy, why, rc > 0 ? ", so it could change its own policy" : "",
		st->o.agent);
	return RUN_EXIT_USAGE;
}

/*
 * Read and compile the policy, take a slot and its private temporary
 * directory, bring the kernel side up, say what it enforces, and refuse a
 * policy the agent could change. 0, or the exit status to end with.
 */
static int run_prepare(struct run_state *st)
{
	struct compile_env env = {};
	struct policy_error perr = {};
	char msg[512];
	int err;

	err = run_load(st);
	if (err)
		return err;
	snprintf(st->name, sizeof(st->name), "%s.%d", st->o.agent, (int)getpid());
	err = instance_acquire_slot(&st->in);
	if (err) {
		fprintf(stderr, "pinfold: cannot take an instance slot: %s\n",
			err == -EAGAIN ? "all slots are in use" : strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	/* the agent runs as pinfold's caller */
	err = instance_tmp_create(&st->in, st->name, getuid(), getgid());
	if (err) {
		fprintf(stderr, "pinfold: cannot create a private temporary directory in %s: %s\n",
			INSTANCE_TMP_DIR, strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	env.private_tmp = st->in.tmp;
	if (compile_agent(swap_policy(&st->sw), swap_agent(&st->sw), st->in.slot, 1, &env,
			  &st->comp, &perr)) {
		print_policy_error(&perr);
		return RUN_EXIT_USAGE;
	}
	/* without them, denial lines say less of hostname destinations */
	swap_keep_names(&st->sw, &st->comp);
	if (loader_open(&st->k, msg, sizeof(msg))) {
		fprintf(stderr, "pinfold: %s\n", msg);
		return RUN_EXIT_INTERNAL;
	}
	err = instance_reap_stale(&st->k, &st->in, st->k.parent);
	if (err < 0)
		fprintf(stderr, "pinfold: cannot remove the agents of a killed pinfold run: %s\n",
			strerror(-err));
	else if (err > 0)
		fprintf(stderr,
			"pinfold: removed %d instance cgroup(s) left by a killed pinfold run\n",
			err);
	err = check_enforcement(&st->k, &st->o);
	return err ?: run_guard(st);
}

/* One inherited descriptor that is a file or directory, or NULL: what it is, as a record says. */
static struct json_object *inherited_fd(int fd)
{
	char link[32], path[PATH_MAX], dev[32];
	struct json_object *o;
	struct stat st;
	ssize_t n;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n < 0 ? 0 : n] = '\0';
	snprintf(dev, sizeof(dev), "%u:%u", major(st.st_dev), minor(st.st_dev));
	o = json_object_new_object();
	detail_add(o, "fd", json_object_new_int(fd));
	/* NEEDSWORK: a path of a class with log_paths: keyed-hash is kept as is */
	detail_add(o, "path", json_object_new_string(path));
	detail_add(o, "access",
		   json_object_new_string((fl & O_ACCMODE) == O_RDONLY   ? "read"
					  : (fl & O_ACCMODE) == O_WRONLY ? "write"
									 : "read-write"));
	detail_add(o, "dev", json_object_new_string(dev));
	detail_add(o, "ino", json_object_new_uint64(st.st_ino));
	return o;
}

/*
 * The descriptors the agent inherits (0 to 2, and --keep-fd ones) that are
 * files or directories: opened by whoever launched it, they are not judged,
 * so the record names them.
 */
static struct json_object *inherited_json(const struct run_opts *o)
{
	struct json_object *list = json_object_new_array(), *one;
	int i, fd;

	for (i = -3; list && i < o->n_keep_fds; i++) {
		fd = i < 0 ? i + 3 : o->keep_fds[i];
		one = inherited_fd(fd);
		if (one && json_object_array_add(list, one))
			json_object_put(one);
	}
	return list;
}

/*
 * What a reviewer needs to know of an instance at its start: which policy
 * (its absolute path, its files and the SHA-256 of what was parsed), what
 * command, on which host, launched by whom, where its private temporary
 * directory is, what its hostnames resolved to, and why file rules are not
 * enforced when they are not.
 */
static struct json_object *start_detail(const struct run_state *st)
{
	const struct policy *p = swap_policy(&st->sw);
	struct json_object *detail = detail_new(), *argv = json_object_new_array(), *files;
	char path[PATH_MAX], host[256];
	unsigned long loginuid = 0;
	const char *sudo_user;
	size_t n;
	FILE *f;
	int i;

	detail_add(detail, "policy",
		   json_object_new_string(realpath(st->o.policy, path) ? path : st->o.policy));
	detail_add(detail, "policy_sha256", json_object_new_string(p->sha256));
	files = json_object_new_array();
	for (n = 0; files && n < p->n_files; n++)
		json_object_array_add(files, json_object_new_string(p->files[n]));
	detail_add(detail, "files", files);
	detail_add(detail, "generation", json_object_new_int64(st->in.gen));
	detail_add(detail, "watched", json_object_new_boolean(swap_fd(&st->sw) >= 0));
	detail_add(detail, "mode",
		   json_object_new_string(policy_mode_name(swap_agent(&st->sw)->mode)));
	detail_add(detail, "grants", audit_grants_json(p, swap_agent(&st->sw)));
	for (i = 0; argv && st->o.argv[i]; i++)
		json_object_array_add(argv, json_object_new_string(st->o.argv[i]));
	detail_add(detail, "command", argv);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		detail_add(detail, "host", json_object_new_string(host));
	}
	detail_add(detail, "launched_by_uid", json_object_new_int64(getuid()));
	/* the login session's user, which su and sudo keep */
	f = fopen("/proc/self/loginuid", "re");
	if (f) {
		if (fscanf(f, "%lu", &loginuid) == 1 && loginuid != 4294967295UL)
			detail_add(detail, "login_uid", json_object_new_int64((int64_t)loginuid));
		fclose(f);
	}
	sudo_user = getenv("SUDO_USER");
	if (sudo_user)
		detail_add(detail, "sudo_user", json_object_new_string(sudo_user));
	detail_add(detail, "cgroup_id", json_object_new_uint64(st->in.cgroup_id));
	detail_add(detail, "slot", json_object_new_int(st->in.slot));
	detail_add(detail, "private_tmp", json_object_new_string(st->in.tmp));
	detail_add(detail, "inherited", inherited_json(&st->o));
	if (st->comp.n_names)
		detail_add(detail, "resolved",
			   audit_resolved_json(p, swap_agent(&st->sw), st->comp.names,
					       st->comp.n_names));
	if (!st->k.files_enforced)
		detail_add(detail, "files_unenforced_because",
			   json_object_new_string(st->k.files_why));
	return detail;
}

/* Say, in one line, how an agent whose mode is not enforce is judged. */
static void say_mode(const char *agent, unsigned mode)
{
	if (mode == POLICY_MODE_AUDIT)
		fprintf(stderr,
			"pinfold: agent %s runs in audit mode: denials are recorded, not applied\n",
			agent);
	else if (mode == POLICY_MODE_RECORD)
		fprintf(stderr,
			"pinfold: agent %s runs in record mode: every access is recorded, none denied\n",
			agent);
}

/* Create the instance cgroup and its procs descriptor; 0 or an exit status. */
static int run_cgroup(struct run_state *st)
{
	int err;

	err = cgroup_instance_create(st->k.parent, st->name, st->cg, sizeof(st->cg));
	if (err) {
		fprintf(stderr, "pinfold: cannot create cgroup %s/%s: %s\n", st->k.parent, st->name,
			strerror(-err));
		st->cg[0] = '\0';
		return RUN_EXIT_INTERNAL;
	}
	err = cgroup_id(st->cg, &st->in.cgroup_id);
	st->procs_fd = err ? err : cgroup_procs_open(st->cg);
	if (st->procs_fd < 0) {
		fprintf(stderr, "pinfold: cannot use cgroup %s: %s\n", st->cg,
			strerror(-st->procs_fd));
		return RUN_EXIT_INTERNAL;
	}
	return 0;
}

/*
 * Refuse an agent whose rules let it read the audit keys or change the
 * audit log: it could forge or cut its own records. Where no file rule
 * holds it, say so. 0 or an exit status.
 */
static int run_audit_guard(struct run_state *st)
{
	const char *key = st->o.log.key_path ? st->o.log.key_path : AUDITLOG_DEFAULT_KEY;
	char why[1024];
	int rc;

	/* writer_open made it: the path fits */
	auditlog_path_key_path(key, st->path_key, sizeof(st->path_key));
	st->audit_keys[0] = key;
	st->audit_keys[1] = st->path_key;
	rc = audit_guard(st->o.audit, st->audit_keys, 2, swap_policy(&st->sw), swap_agent(&st->sw),
			 &st->comp, st->k.files_enforced, why, sizeof(why));
	/* without BPF LSM the degraded line has said that no file rule holds */
	if (rc == 2) {
		if (st->k.files_enforced)
			fprintf(stderr, "pinfold: warning: %s\n", why);
		return 0;
	}
	if (!rc)
		return 0;
	fprintf(stderr,
		"pinfold: refusing to run agent %s: %s%s; keep the audit log and its keys where "
		"the agent's rules reach nothing\n",
		st->o.agent, why, rc > 0 ? ", so it could forge or cut its own audit records" : "");
	return RUN_EXIT_USAGE;
}

/*
 * Open the audit file, create the instance cgroup, install the rules and
 * the ring, and write the instance-start record. 0 or an exit status.
 */
static int run_instance_up(struct run_state *st)
{
	const struct policy_agent *a = swap_agent(&st->sw);
	int err;

	char why[512];

	st->w.sw = &st->sw;
	st->w.reserve = (unsigned long long)st->o.reserve_bytes;
	st->w.k = &st->k;
	st->w.in = &st->in;
	st->w.who = (struct audit_instance){
		.agent = st->o.agent,
		.instance = st->name,
		.files_unenforced = !st->k.files_enforced,
		.private_tmp = st->in.tmp,
		.on_behalf_of = st->o.on_behalf_of,
		.task = st->o.task,
	};
	swap_describe(&st->sw, &st->w.who);
	/* the chained log (auditlog_open), its keys made on first use */
	err = writer_open(&st->w, &st->o.log, why, sizeof(why));
	if (err) {
		fprintf(stderr, "pinfold: cannot open the audit log %s: %s\n", st->o.audit, why);
		return RUN_EXIT_USAGE;
	}
	err = run_audit_guard(st);
	if (err)
		return err;

	err = run_cgroup(st);
	if (err)
		return err;
	st->in.flags = st->k.files_enforced ? 0 : PF_INST_FILES_UNENFORCED;
	st->in.flags |= instance_mode_flags(a->mode);
	st->in.sockets = a->sockets;
	err = instance_install(&st->k, &st->in, &st->comp);
	if (err == -E2BIG || err == -ENOMEM) {
		fprintf(stderr,
			"pinfold: cannot install the rules of agent %s: the kernel maps are full "
			"(running instances together hold at most %d trees and %d destination "
			"prefixes)\n",
			st->o.agent, PF_MAX_TREES, PF_MAX_PREFIXES);
		return RUN_EXIT_INTERNAL;
	}
	if (err) {
		fprintf(stderr, "pinfold: cannot install the rules of agent %s: %s\n", st->o.agent,
			strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	err = writer_watch_ring(&st->w, st->in.ring_fd);
	if (err) {
		fprintf(stderr, "pinfold: cannot read the event ring: %s\n", strerror(-err));
		return RUN_EXIT_INTERNAL;
	}

	writer_note(&st->w, "instance-start", start_detail(st));
	if (writer_flush(&st->w) || st->w.unformatted) {
		fprintf(stderr,
			"pinfold: not starting agent %s: its audit file %s cannot be written\n",
			st->o.agent, st->o.audit);
		return RUN_EXIT_INTERNAL;
	}
	say_mode(st->o.agent, a->mode);
	return 0;
}

/* Signals for the agent come to the launcher, which passes them on. */
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
static void swap_note(void *ctx, const char *kind, struct json_object *detail)
{
	writer_note(ctx, kind, detail);
}

/*
 * A changed policy is due: apply it between two reads of the ring. Events
 * already queued were decided by the generation they carry, which stays
 * known to the writer.
 */
static void run_swap(struct run_state *st)
{
	struct swap_target t = {
		.k = &st->k,
		.in = &st->in,
		.private_tmp = st->in.tmp,
		.who = &st->w.who,
		.note = swap_note,
		.note_ctx = &st->w,
		.audit_log = st->o.audit,
		.audit_keys = st->audit_keys,
		.n_audit_keys = 2,
	};

	writer_consume(&st->w, false);
	swap_run_due(&st->sw, &t);
}

/* Add fd to the epoll set ep; 0 or -errno. */
static int watch_fd(int ep, int fd)
{
	struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* How long to wait for events: until a policy change or a retry is due. */
static int wait_ms(const struct run_state *st)
{
	int a = swap_timeout_ms(&st->sw), b = writer_timeout_ms(&st->w);

	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

/*
 * Wait for the child, consuming events, forwarding signals and applying
 * changes of the policy.
 */
static int supervise(struct run_state *st, pid_t child, int *status)
{
	int ep, pidfd, n, i, err = 0, ring_fd = writer_ring_fd(&st->w);
	int policy_fd = swap_fd(&st->sw);
	struct epoll_event evs[8];

	pidfd = syscall(SYS_pidfd_open, child, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (pidfd < 0 || ep < 0) {
		err = -errno;
		goto out;
	}
	err = watch_fd(ep, pidfd) ?: watch_fd(ep, st->sig_fd) ?: watch_fd(ep, ring_fd);
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
				writer_consume(&st->w, false);
			} else if (evs[i].data.fd == policy_fd) {
				swap_on_change(&st->sw);
				/* a watch that was lost is closed: epoll dropped it */
				policy_fd = swap_fd(&st->sw);
			}
		}
		if (swap_timeout_ms(&st->sw) == 0)
			run_swap(st);
		/* the log could not take records, or a checkpoint is due */
		if (n == 0)
			writer_flush(&st->w);
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

/* Remove the private temporary directory, saying so when it cannot be. */
static void remove_tmp(struct instance *in)
{
	char path[sizeof(in->tmp)];
	int err;

	snprintf(path, sizeof(path), "%s", in->tmp);
	err = instance_tmp_remove(in);
	if (err)
		fprintf(stderr,
			"pinfold: cannot remove the private temporary directory %s: %s; the next "
			"run on slot %d removes it\n",
			path, strerror(-err), in->slot);
}

/*
 * Start the agent, write its events until it ends, then end the instance:
 * leftover tasks die, every event is drained, losses and the exit status
 * are recorded. Returns the agent's exit status.
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
		child_exec(launcher, st->procs_fd, &st->oldmask, &st->o, st->in.tmp);
	close(st->procs_fd);
	st->procs_fd = -1;

	err = supervise(st, child, &status);
	if (err) {
		fprintf(stderr, "pinfold: lost track of the agent: %s\n", strerror(-err));
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}

	err = cgroup_instance_destroy(st->cg);
	if (err)
		fprintf(stderr, "pinfold: cannot remove cgroup %s: %s\n", st->cg, strerror(-err));
	else
		st->cg[0] = '\0';
	/* the agent's tasks are gone: nothing writes there any more */
	if (!err)
		remove_tmp(&st->in);
	writer_finish(&st->w);
	detail = detail_new();
	detail_add(detail, "status", json_object_new_int(exit_code(status)));
	writer_note(&st->w, "instance-exit", detail);
	writer_flush(&st->w);
	return exit_code(status);
}

static void run_release(struct run_state *st)
{
	int err;

	if (st->cg[0]) {
		err = cgroup_instance_destroy(st->cg);
		if (err)
			fprintf(stderr, "pinfold: cannot remove cgroup %s: %s\n", st->cg,
				strerror(-err));
	}
	if (st->in.tmp[0])
		remove_tmp(&st->in);
	instance_release(&st->k, &st->in);
	if (st->procs_fd >= 0)
		close(st->procs_fd);
	if (st->sig_fd >= 0)
		close(st->sig_fd);
	writer_release(&st->w);
	loader_close(&st->k);
	compiled_release(&st->comp);
	swap_release(&st->sw);
}

int run_main(int argc, char **argv)
{
	struct run_state st = {
		.sw = SWAP_INIT,
		.k = PF_KERNEL_INIT,
		.in = INSTANCE_INIT,
		.o.log = AUDITLOG_OPTS_INIT,
		.o.reserve_bytes = WRITER_RESERVE_DEFAULT,
		.procs_fd = -1,
		.sig_fd = -1,
	};
	int ret;

	ret = parse(argc, argv, &st.o);
	if (ret)
		return ret < 0 ? EXIT_SUCCESS : ret;

	ret = run_prepare(&st);
	if (!ret)
		ret = run_instance_up(&st);
	if (!ret)
		ret = run_signals(&st);
	if (!ret)
		ret = run_agent(&st);
	run_release(&st);
	return ret;
}
