// SPDX-License-Identifier: GPL-2.0-only
/*
 * kfeatures.c - what this kernel gives pinfold, found before anything loads.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "bpf/files.skel.h"
#include "cgroup.h"
#include "kfeatures.h"
#include "loader.h"
#include "run.h"

#define SECURITYFS_MAGIC 0x73636673
#define KERNEL_ENOTSUPP 524 /* the kernel's internal ENOTSUPP, seen by BPF_PROG_LOAD */
#define SYS_BTF "/sys/kernel/btf/vmlinux"
#define LSM_LIST PF_SECURITYFS "/lsm"
#define NEW_KERNEL "use a newer kernel"

struct feature_desc {
	const char *key;
	const char *title;
	unsigned needed_for;
	const char *enables;
	const char *how; /* how to get it, when missing; NULL: worked out */
};

#define NET FEATURE_FOR_NETWORK
#define FILES FEATURE_FOR_FILES

static const struct feature_desc descs[FEATURE_COUNT] = {
	[FEATURE_BTF] = {"btf", "kernel BTF", NET | FILES,
			 "programs find kernel structures by their type information (CO-RE)",
			 "use a kernel built with CONFIG_DEBUG_INFO_BTF"},
	[FEATURE_CGROUP2] = {"cgroup2", "cgroup v2 mount", NET | FILES,
			     "one cgroup per agent, which the socket programs attach to",
			     "mount it: mount -t cgroup2 none /sys/fs/cgroup"},
	[FEATURE_MAP_RINGBUF] = {"map_ringbuf", "BPF_MAP_TYPE_RINGBUF", NET | FILES,
				 "audit records from the kernel (Linux 5.8)", NEW_KERNEL},
	[FEATURE_MAP_LPM_TRIE] = {"map_lpm_trie", "BPF_MAP_TYPE_LPM_TRIE", NET,
				  "network rules by address prefix (Linux 4.11)", NEW_KERNEL},
	[FEATURE_MAP_ARRAY_OF_MAPS] = {"map_array_of_maps", "BPF_MAP_TYPE_ARRAY_OF_MAPS",
				       NET | FILES, "one ring buffer per agent (Linux 4.12)",
				       NEW_KERNEL},
	[FEATURE_MAP_SK_STORAGE] = {"map_sk_storage", "BPF_MAP_TYPE_SK_STORAGE", NET,
				    "replies to allowed datagrams (Linux 5.2)", NEW_KERNEL},
	[FEATURE_PROG_SOCK_ADDR] = {"prog_cgroup_sock_addr", "cgroup sock_addr programs", NET,
				    "connect and sendmsg rules (Linux 4.18)", NEW_KERNEL},
	[FEATURE_PROG_SOCK] = {"prog_cgroup_sock", "cgroup_sock programs", NET,
			       "the kinds of socket an agent may create (Linux 4.10)", NEW_KERNEL},
	[FEATURE_PROG_SKB] = {"prog_cgroup_skb", "cgroup_skb programs", NET,
			      "inbound packets only as replies (Linux 4.10)", NEW_KERNEL},
	[FEATURE_PROG_SOCKOPT] = {"prog_cgroup_sockopt", "cgroup_sockopt programs", NET,
				  "refusing source routes and error queues (Linux 5.3)",
				  NEW_KERNEL},
	[FEATURE_HELPER_ANCESTOR_CGROUP] = {"helper_get_current_ancestor_cgroup_id",
					    "bpf_get_current_ancestor_cgroup_id", NET | FILES,
					    "telling agents from every other task", NEW_KERNEL},
	[FEATURE_HELPER_RINGBUF_RESERVE] = {"helper_ringbuf_reserve", "bpf_ringbuf_reserve",
					    NET | FILES, "audit records (Linux 5.8)", NEW_KERNEL},
	[FEATURE_HELPER_LOOP] = {"helper_loop", "bpf_loop", FILES,
				 "walking a file's ancestry (Linux 5.17)", NEW_KERNEL},
	[FEATURE_PROG_LSM] = {"prog_lsm", "BPF LSM programs", FILES,
			      "file rules and the guards on mount, bpf, ptrace (Linux 5.7)",
			      "use a kernel built with CONFIG_BPF_LSM"},
	[FEATURE_LSM_ACTIVE] = {"bpf_lsm_active", "bpf among the active LSMs", FILES,
				"BPF LSM programs being called at all", NULL},
	[FEATURE_LSM_HOOKS] = {"lsm_hooks", "LSM hooks of the file programs", FILES,
			       "every hook the file programs attach to", NEW_KERNEL},
	[FEATURE_TRACING] = {"function_tracing", "function tracing for BPF", FILES,
			     "attaching BPF LSM programs (BPF trampolines)",
			     "use a kernel that lets BPF LSM programs load and attach"},
};

#undef NET
#undef FILES

const char *features_key(enum feature_id id)
{
	return descs[id].key;
}

const char *features_title(enum feature_id id)
{
	return descs[id].title;
}

unsigned features_needed_for(enum feature_id id)
{
	return descs[id].needed_for;
}

const char *features_enables(enum feature_id id)
{
	return descs[id].enables;
}

const char *features_state_name(enum feature_state s)
{
	switch (s) {
	case FEATURE_PRESENT:
		return "yes";
	case FEATURE_MISSING:
		return "missing";
	case FEATURE_REFUSED:
		return "refused";
	case FEATURE_UNKNOWN:
		return "unknown";
	case FEATURE_UNPROBED:
		break;
	}
	return "not probed";
}

int features_first_lacking(const struct features *f, unsigned for_what)
{
	int i;

	for (i = 0; i < FEATURE_COUNT; i++)
		if ((descs[i].needed_for & for_what) && f->r[i].state != FEATURE_PRESENT)
			return i;
	return -1;
}

bool features_lsm_list_has_bpf(const char *list)
{
	size_t n;

	while (*list) {
		n = strcspn(list, ",\n");
		if (n == 3 && strncmp(list, "bpf", 3) == 0)
			return true;
		list += n;
		list += strspn(list, ",\n");
	}
	return false;
}

void features_why(const struct features *f, enum feature_id id, char *buf, size_t len)
{
	const struct feature_result *r = &f->r[id];
	const char *title = descs[id].title;

	if (id == FEATURE_LSM_ACTIVE && r->state == FEATURE_MISSING)
		snprintf(buf, len, "BPF LSM is not among the kernel's active LSMs (%s)", r->detail);
	else if (id == FEATURE_TRACING && r->state == FEATURE_REFUSED)
		snprintf(buf, len, "this host forbids function tracing: %s", r->detail);
	else if (r->state == FEATURE_REFUSED)
		snprintf(buf, len, "the kernel refuses %s (%s)", title, r->detail);
	else if (r->state == FEATURE_UNKNOWN || r->state == FEATURE_UNPROBED)
		snprintf(buf, len, "%s could not be probed (%s)", title,
			 r->detail[0] ? r->detail : "not probed");
	else
		snprintf(buf, len, "this kernel lacks %s, needed for %s%s%s", title,
			 descs[id].enables, r->detail[0] ? ": " : "", r->detail);
}

void features_how(const struct features *f, enum feature_id id, char *buf, size_t len)
{
	const char *list = f->r[FEATURE_LSM_ACTIVE].detail;

	if (id == FEATURE_LSM_ACTIVE)
		/* the active list as it is, with bpf added */
		snprintf(buf, len, "boot with lsm=%s%sbpf", list, list[0] ? "," : "");
	else if (f->r[id].state == FEATURE_UNKNOWN || f->r[id].state == FEATURE_UNPROBED)
		snprintf(buf, len,
			 "run 'pinfold -vv features' as root and read why the probe failed");
	else
		snprintf(buf, len, "%s", descs[id].how);
}

int features_mount_if_missing(const char *dir, const char *fstype, long magic, const char *opts)
{
	struct statfs st;

	if (statfs(dir, &st) == 0 && st.f_type == magic)
		return 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount(fstype, dir, fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		return -errno;
	return 0;
}

static void set_result(struct features *f, enum feature_id id, enum feature_state s,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_result(struct features *f, enum feature_id id, enum feature_state s,
		       const char *fmt, ...)
{
	va_list ap;

	f->r[id].state = s;
	va_start(ap, fmt);
	vsnprintf(f->r[id].detail, sizeof(f->r[id].detail), fmt, ap);
	va_end(ap);
}

/* A libbpf probe's answer: 1 present, 0 missing, negative: the probe failed. */
static void set_probed(struct features *f, enum feature_id id, int ret)
{
	if (ret > 0)
		set_result(f, id, FEATURE_PRESENT, "%s", "");
	else if (ret == 0)
		set_result(f, id, FEATURE_MISSING, "%s", "");
	else
		set_result(f, id, FEATURE_UNKNOWN, "%s", strerror(-ret));
}

/*
 * Whether a program of type may call helper id: 1, 0, or -errno. libbpf
 * 1.1's libbpf_probe_bpf_helper() reads the verifier's "unknown func" only;
 * kernels with upstream "bpf: improve error message for unsupported helper"
 * say "program of this type cannot use helper" instead, which libbpf 1.1
 * takes for support (libbpf 1.5 reads it). So the log is read here.
 */
static int probe_helper(enum bpf_prog_type type, enum bpf_attach_type attach, enum bpf_func_id id)
{
	const struct bpf_insn call[] = {
		{.code = BPF_JMP | BPF_CALL, .imm = id},
		{.code = BPF_JMP | BPF_EXIT},
	};
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .log_buf = log,
		    .log_size = sizeof(log), .log_level = 1);
	int fd;

	fd = bpf_prog_load(type, NULL, "GPL", call, 2, &opts);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == EPERM)
		return -EPERM;
	if (strstr(log, "invalid func ") || strstr(log, "unknown func ") ||
	    strstr(log, "program of this type cannot use helper "))
		return 0;
	/* a complaint about the call's arguments: the helper is there */
	return 1;
}

static void probe_cgroup2(struct features *f)
{
	char mnt[4096];
	int err;

	err = cgroup_find_mount(mnt, sizeof(mnt));
	if (err == -ENOENT)
		set_result(f, FEATURE_CGROUP2, FEATURE_MISSING,
			   "no cgroup2 filesystem in /proc/self/mountinfo");
	else if (err)
		set_result(f, FEATURE_CGROUP2, FEATURE_UNKNOWN, "cannot read mounts: %s",
			   strerror(-err));
	else
		set_result(f, FEATURE_CGROUP2, FEATURE_PRESENT, "%s", mnt);
}

static void probe_lsm_active(struct features *f)
{
	char list[sizeof(f->r[0].detail)] = "";
	FILE *in;

	/* where nothing mounted securityfs, its lsm file is not there to read */
	features_mount_if_missing(PF_SECURITYFS, "securityfs", SECURITYFS_MAGIC, NULL);
	in = fopen(LSM_LIST, "re");
	if (!in) {
		set_result(f, FEATURE_LSM_ACTIVE, FEATURE_UNKNOWN, "cannot read %s: %s", LSM_LIST,
			   strerror(errno));
		return;
	}
	if (!fgets(list, sizeof(list), in))
		list[0] = '\0';
	fclose(in);
	list[strcspn(list, "\n")] = '\0';
	set_result(f, FEATURE_LSM_ACTIVE,
		   features_lsm_list_has_bpf(list) ? FEATURE_PRESENT : FEATURE_MISSING, "%s", list);
}

/*
 * LSM hooks newer than the oldest kernel pinfold supports, each standing
 * in for hooks that judge the same action there: on 6.1, ACLs pass
 * inode_setxattr and inode_removexattr. A kernel without one gets the
 * program left out, not refused.
 */
static const char *const optional_hooks[] = {"inode_set_acl", "inode_remove_acl"};

/* Whether program prog (section lsm/HOOK) may be left out: its hook is
 * optional and not a function of kernel BTF. */
bool features_lsm_prog_absent(const struct btf *vmlinux, const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);
	char fn[128];
	size_t i;

	if (strncmp(sec, "lsm/", 4) != 0)
		return false;
	for (i = 0; i < sizeof(optional_hooks) / sizeof(optional_hooks[0]); i++)
		if (strcmp(sec + 4, optional_hooks[i]) == 0)
			break;
	if (i == sizeof(optional_hooks) / sizeof(optional_hooks[0]))
		return false;
	snprintf(fn, sizeof(fn), "bpf_lsm_%s", sec + 4);
	return btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC) <= 0;
}

/*
 * Every lsm/ hook of the file programs must be a function of kernel BTF
 * (bpf_lsm_<hook>); a hook newer than the kernel is named, not guessed at
 * from libbpf's load error.
 */
static void probe_lsm_hooks(struct features *f, const struct btf *vmlinux)
{
	struct bpf_program *prog;
	struct pf_files *skel;
	char fn[128], *d = f->r[FEATURE_LSM_HOOKS].detail;
	size_t len = sizeof(f->r[FEATURE_LSM_HOOKS].detail), at;
	const char *sec;

	skel = pf_files__open();
	if (!skel) {
		set_result(f, FEATURE_LSM_HOOKS, FEATURE_UNKNOWN, "cannot open file programs: %s",
			   strerror(errno));
		return;
	}
	set_result(f, FEATURE_LSM_HOOKS, FEATURE_PRESENT, "%s", "");
	bpf_object__for_each_program(prog, skel->obj)
	{
		sec = bpf_program__section_name(prog);
		if (strncmp(sec, "lsm/", 4) != 0 || features_lsm_prog_absent(vmlinux, prog))
			continue;
		snprintf(fn, sizeof(fn), "bpf_lsm_%s", sec + 4);
		if (btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC) > 0)
			continue;
		at = strlen(d);
		if (f->r[FEATURE_LSM_HOOKS].state == FEATURE_PRESENT)
			snprintf(d, len, "no hook %s", sec + 4);
		else if (at < len)
			snprintf(d + at, len - at, ", %s", sec + 4);
		f->r[FEATURE_LSM_HOOKS].state = FEATURE_MISSING;
	}
	pf_files__destroy(skel);
}

/*
 * Load, then attach, an LSM program on file_open that allows everything:
 * the one way to learn whether this kernel lets BPF programs onto kernel
 * functions. The link is closed at once; while it lives it changes no
 * verdict, as a BPF LSM program returning 0 lets the others decide.
 */
static void probe_tracing(struct features *f, const struct btf *vmlinux)
{
	const struct bpf_insn allow[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC);
	int id, fd, link, err;

	id = btf__find_by_name_kind(vmlinux, "bpf_lsm_file_open", BTF_KIND_FUNC);
	if (id <= 0) {
		set_result(f, FEATURE_TRACING, FEATURE_MISSING,
			   "kernel BTF has no bpf_lsm_file_open (no CONFIG_BPF_LSM)");
		return;
	}
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_LSM, "pf_probe", "GPL", allow, 2, &opts);
	err = fd < 0 ? errno : 0;
	if (err == EPERM) {
		set_result(f, FEATURE_TRACING, FEATURE_REFUSED,
			   "the kernel refused to load an LSM program for file_open (EPERM)");
		return;
	}
	if (err == KERNEL_ENOTSUPP || err == EOPNOTSUPP || err == EINVAL) {
		set_result(f, FEATURE_TRACING, FEATURE_MISSING,
			   "loading an LSM program for file_open: error %d", err);
		return;
	}
	if (err) {
		set_result(f, FEATURE_TRACING, FEATURE_UNKNOWN,
			   "loading an LSM program for file_open: %s", strerror(err));
		return;
	}
	/* as libbpf 1.1 attaches LSM programs */
	link = bpf_raw_tracepoint_open(NULL, fd);
	err = link < 0 ? errno : 0;
	close(fd);
	if (link >= 0)
		close(link);
	if (err == EPERM)
		set_result(f, FEATURE_TRACING, FEATURE_REFUSED,
			   "the kernel refused to attach an LSM program to file_open (EPERM)");
	else if (err)
		set_result(f, FEATURE_TRACING, FEATURE_MISSING,
			   "attaching an LSM program to file_open: %s", strerror(err));
	else
		set_result(f, FEATURE_TRACING, FEATURE_PRESENT, "%s", "");
}

/*
 * libbpf 1.1 probes the LSM program type with a load the kernel checks for
 * permission first, so a kernel that refuses it reads as one without it.
 * bpf among the active LSMs means CONFIG_BPF_LSM, which is the type.
 */
static void probe_prog_lsm(struct features *f)
{
	int ret = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, NULL);

	if (ret == 1)
		set_result(f, FEATURE_PROG_LSM, FEATURE_PRESENT, "%s", "");
	else if (f->r[FEATURE_LSM_ACTIVE].state == FEATURE_PRESENT)
		set_result(f, FEATURE_PROG_LSM, FEATURE_PRESENT,
			   "bpf is an active LSM; the load probe was refused");
	else if (f->r[FEATURE_TRACING].state == FEATURE_REFUSED)
		set_result(f, FEATURE_PROG_LSM, FEATURE_UNKNOWN,
			   "the kernel refused the load probe before checking the type");
	else
		set_probed(f, FEATURE_PROG_LSM, ret);
}

void features_probe(struct features *f)
{
	struct btf *vmlinux;

	memset(f, 0, sizeof(*f));
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		set_result(f, FEATURE_BTF, FEATURE_MISSING, "none at %s or in /boot (%s)", SYS_BTF,
			   strerror(errno));
	else
		set_result(f, FEATURE_BTF, FEATURE_PRESENT, "%s",
			   access(SYS_BTF, R_OK) == 0 ? SYS_BTF : "a vmlinux file libbpf found");
	probe_cgroup2(f);

	set_probed(f, FEATURE_MAP_RINGBUF, libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL));
	set_probed(f, FEATURE_MAP_LPM_TRIE, libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LPM_TRIE, NULL));
	set_probed(f, FEATURE_MAP_ARRAY_OF_MAPS,
		   libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL));
	set_probed(f, FEATURE_MAP_SK_STORAGE,
		   libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL));

	set_probed(f, FEATURE_PROG_SOCK_ADDR,
		   libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, NULL));
	set_probed(f, FEATURE_PROG_SOCK,
		   libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK, NULL));
	set_probed(f, FEATURE_PROG_SKB, libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SKB, NULL));
	set_probed(f, FEATURE_PROG_SOCKOPT,
		   libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCKOPT, NULL));

	/* NEEDSWORK: LSM-only helpers are not probed; lacking one, libbpf's load error shows */
	/* libbpf 1.1 cannot probe helpers for LSM programs: bpf_loop, which
	 * only they call, is probed where every program type has it */
	set_probed(f, FEATURE_HELPER_ANCESTOR_CGROUP,
		   probe_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT,
				BPF_FUNC_get_current_ancestor_cgroup_id));
	set_probed(f, FEATURE_HELPER_RINGBUF_RESERVE,
		   probe_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT,
				BPF_FUNC_ringbuf_reserve));
	set_probed(f, FEATURE_HELPER_LOOP,
		   probe_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, BPF_FUNC_loop));

	probe_lsm_active(f);
	if (vmlinux) {
		probe_lsm_hooks(f, vmlinux);
		probe_tracing(f, vmlinux);
	} else {
		set_result(f, FEATURE_LSM_HOOKS, FEATURE_UNKNOWN, "needs kernel BTF");
		set_result(f, FEATURE_TRACING, FEATURE_UNKNOWN, "needs kernel BTF");
	}
	probe_prog_lsm(f);
	btf__free(vmlinux);
}

static const char *needed_for_text(unsigned w)
{
	if (w == (FEATURE_FOR_NETWORK | FEATURE_FOR_FILES))
		return "network, files";
	return w == FEATURE_FOR_NETWORK ? "network" : "files";
}

/* "file rules: enforceable" or "... NOT enforceable: why; to enforce them, how" */
static int print_verdict(const struct features *f, FILE *out, unsigned what, const char *rules)
{
	int id = features_first_lacking(f, what);
	char why[400], how[300];

	if (id < 0)
		return fprintf(out, "%s rules: enforceable\n", rules) < 0 ? -EIO : 0;
	features_why(f, id, why, sizeof(why));
	features_how(f, id, how, sizeof(how));
	return fprintf(out, "%s rules: NOT enforceable: %s; to enforce them, %s\n", rules, why,
		       how) < 0
		       ? -EIO
		       : 0;
}

int features_print(const struct features *f, FILE *out)
{
	const struct feature_result *r;
	int i;

	fprintf(out, "%-36s %-8s %-15s %s\n", "FEATURE", "STATE", "NEEDED BY", "ENABLES");
	for (i = 0; i < FEATURE_COUNT; i++) {
		r = &f->r[i];
		fprintf(out, "%-36s %-8s %-15s %s%s%s\n", descs[i].title,
			features_state_name(r->state), needed_for_text(descs[i].needed_for),
			descs[i].enables, r->detail[0] ? "; " : "", r->detail);
	}
	fputc('\n', out);
	return print_verdict(f, out, FEATURE_FOR_NETWORK, "network")
		       ?: print_verdict(f, out, FEATURE_FOR_FILES, "file");
}

static struct json_object *verdict_json(const struct features *f, unsigned what)
{
	struct json_object *o = json_object_new_object();
	int id = features_first_lacking(f, what);
	char buf[400];

	json_object_object_add(o, "enforceable", json_object_new_boolean(id < 0));
	if (id < 0)
		return o;
	json_object_object_add(o, "lacking", json_object_new_string(descs[id].key));
	features_why(f, id, buf, sizeof(buf));
	json_object_object_add(o, "why", json_object_new_string(buf));
	features_how(f, id, buf, sizeof(buf));
	json_object_object_add(o, "how", json_object_new_string(buf));
	return o;
}

int features_print_json(const struct features *f, FILE *out)
{
	struct json_object *doc = json_object_new_object(), *list = json_object_new_array();
	struct json_object *o, *needs;
	int i, err = 0;

	if (!doc || !list) {
		json_object_put(doc);
		json_object_put(list);
		return -ENOMEM;
	}
	for (i = 0; i < FEATURE_COUNT; i++) {
		o = json_object_new_object();
		needs = json_object_new_array();
		json_object_object_add(o, "name", json_object_new_string(descs[i].key));
		json_object_object_add(o, "title", json_object_new_string(descs[i].title));
		json_object_object_add(o, "state",
				       json_object_new_string(features_state_name(f->r[i].state)));
		if (descs[i].needed_for & FEATURE_FOR_NETWORK)
			json_object_array_add(needs, json_object_new_string("network"));
		if (descs[i].needed_for & FEATURE_FOR_FILES)
			json_object_array_add(needs, json_object_new_string("files"));
		json_object_object_add(o, "needed_by", needs);
		json_object_object_add(o, "enables", json_object_new_string(descs[i].enables));
		json_object_object_add(o, "detail", json_object_new_string(f->r[i].detail));
		json_object_array_add(list, o);
	}
	json_object_object_add(doc, "features", list);
	json_object_object_add(doc, "network", verdict_json(f, FEATURE_FOR_NETWORK));
	json_object_object_add(doc, "files", verdict_json(f, FEATURE_FOR_FILES));
	if (fprintf(out, "%s\n",
		    json_object_to_json_string_ext(
			    doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		err = -EIO;
	json_object_put(doc);
	return err;
}

int features_main(int argc, char **argv)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	struct features f;
	int err;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: pinfold features [--json]\n");
		return RUN_EXIT_USAGE;
	}
	/* without privilege every load probe fails, and would read as missing */
	if (geteuid() != 0) {
		fprintf(stderr, "pinfold: features needs root: its probes load BPF programs\n");
		return RUN_EXIT_USAGE;
	}
	features_probe(&f);
	err = json ? features_print_json(&f, stdout) : features_print(&f, stdout);
	if (err) {
		fprintf(stderr, "pinfold: cannot write the feature list: %s\n", strerror(-err));
		return RUN_EXIT_INTERNAL;
	}
	return features_first_lacking(&f, FEATURE_FOR_NETWORK | FEATURE_FOR_FILES) < 0
		       ? EXIT_SUCCESS
		       : EXIT_FAILURE;
}
