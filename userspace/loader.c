// SPDX-License-Identifier: GPL-2.0-only
/*
 * loader.c - bring pinfold's kernel side up, or adopt it where it is pinned.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <openssl/evp.h>

#include "bpf/pinfold.h"
#include "bpf/net.skel.h"
#include "bpf/files.skel.h"
#include "cgroup.h"
#include "kfeatures.h"
#include "loader.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define KERNEL_ENOTSUPP 524 /* the kernel's internal ENOTSUPP, seen by BPF_PROG_LOAD */
#define PF_RUN_DIR "/run/pinfold"
#define PF_LOAD_LOCK PF_RUN_DIR "/load.lock"
/* the path of the binary the guard trusts, for messages only */
#define PF_LOADED_BY PF_RUN_DIR "/loaded-by"

static int libbpf_verbosity;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((level == LIBBPF_WARN && libbpf_verbosity < 1) ||
	    (level != LIBBPF_WARN && libbpf_verbosity < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void loader_set_verbosity(int level)
{
	libbpf_verbosity = level;
	libbpf_set_print(libbpf_print);
}

static int set_msg(char *msg, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return err;
}

static int pin_path(char *buf, size_t len, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", PF_PIN_DIR, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool pinned(const char *name)
{
	char p[256];

	return pin_path(p, sizeof(p), name) == 0 && access(p, F_OK) == 0;
}

/* All of the object's programs have a pinned link. */
static bool links_pinned(struct bpf_object *obj)
{
	struct bpf_program *prog;
	char name[128];

	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		snprintf(name, sizeof(name), "link_%s", bpf_program__name(prog));
		if (!pinned(name))
			return false;
	}
	return true;
}

/* Remove the pinned links of obj's programs, where there are any. */
static void unpin_links(struct bpf_object *obj)
{
	struct bpf_program *prog;
	char name[128], path[256];

	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		snprintf(name, sizeof(name), "link_%s", bpf_program__name(prog));
		if (pin_path(path, sizeof(path), name) == 0)
			unlink(path);
	}
}

/* kernel BTF, parsed once in a loader_open (it takes milliseconds) */
static struct btf *vmlinux_btf;

/* Leave out the programs of optional LSM hooks this kernel lacks. */
static void leave_out_absent_hooks(struct bpf_object *obj)
{
	struct bpf_program *prog;

	if (!vmlinux_btf)
		vmlinux_btf = btf__load_vmlinux_btf();
	if (!vmlinux_btf)
		return; /* the load fails and says why */
	bpf_object__for_each_program(prog, obj)
	{
		if (features_lsm_prog_absent(vmlinux_btf, prog))
			bpf_program__set_autoload(prog, false);
	}
}

/*
 * Add the map, program or link (kind) of descriptor fd to pf_guarded
 * (guard_fd); its id into *id.
 */
static int guard_add(int guard_fd, uint32_t kind, int fd, uint32_t *id)
{
	/* the kernel takes any of these for the object of fd and fills what
	 * its kind has; each starts with the object's type and id */
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
	} info;
	struct pf_guard_key key = {.kind = kind};
	uint32_t one = 1, n = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &n))
		return -errno;
	key.id = info.map.id;
	*id = key.id;
	return bpf_map_update_elem(guard_fd, &key, &one, BPF_ANY) ? -errno : 0;
}

/*
 * Add every map and loaded program of obj to pf_guarded (see "The guard"
 * in bpf/pinfold.h), before their programs attach.
 */
static int guard_object(struct bpf_object *obj, int guard_fd, char *msg, size_t len)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	uint32_t id;
	int err;

	bpf_object__for_each_map(map, obj)
	{
		if (bpf_map__fd(map) < 0)
			continue;
		err = guard_add(guard_fd, PF_GUARD_MAP, bpf_map__fd(map), &id);
		if (err)
			return set_msg(msg, len, err, "cannot guard map %s: %s", bpf_map__name(map),
				       strerror(-err));
	}
	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		err = guard_add(guard_fd, PF_GUARD_PROG, bpf_program__fd(prog), &id);
		if (err)
			return set_msg(msg, len, err, "cannot guard program %s: %s",
				       bpf_program__name(prog), strerror(-err));
	}
	return 0;
}

/*
 * Attach every program of obj, guard its link (guard_fd) and pin it;
 * cgroup programs to cg_fd.
 */
static int attach_and_pin(struct bpf_object *obj, int cg_fd, int guard_fd, char *msg, size_t len)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	char name[128], path[256];
	uint32_t id;
	int err;

	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		if (cg_fd >= 0)
			link = bpf_program__attach_cgroup(prog, cg_fd);
		else
			link = bpf_program__attach_lsm(prog);
		err = libbpf_get_error(link);
		if (err)
			return set_msg(msg, len, err, "cannot attach %s: %s",
				       bpf_program__name(prog), strerror(-err));

		snprintf(name, sizeof(name), "link_%s", bpf_program__name(prog));
		pin_path(path, sizeof(path), name);
		err = guard_add(guard_fd, PF_GUARD_LINK, bpf_link__fd(link), &id);
		if (err) {
			bpf_link__destroy(link);
			return set_msg(msg, len, err, "cannot guard link %s: %s", name,
				       strerror(-err));
		}
		err = bpf_link__pin(link, path);
		bpf_link__destroy(link);
		if (err)
			return set_msg(msg, len, err, "cannot pin %s: %s", path, strerror(-err));
	}
	return 0;
}

/*
 * The first 8 bytes of SHA-256 over both BPF objects, so that programs
 * pinned by another build of pinfold are never adopted as ours.
 */
static uint64_t build_digest(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const void *bytes;
	uint64_t digest = 0;
	EVP_MD_CTX *ctx;
	size_t len;

	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	bytes = pf_net__elf_bytes(&len);
	if (!EVP_DigestUpdate(ctx, bytes, len))
		goto out;
	bytes = pf_files__elf_bytes(&len);
	if (!EVP_DigestUpdate(ctx, bytes, len) || !EVP_DigestFinal_ex(ctx, md, &md_len))
		goto out;
	memcpy(&digest, md, sizeof(digest));
out:
	EVP_MD_CTX_free(ctx);
	return digest;
}

/* The kernel's internal dev_t, as in its inodes: MAJOR << 20 | MINOR */
static uint64_t kernel_dev(dev_t dev)
{
	return (uint64_t)major(dev) << 20 | minor(dev);
}

/*
 * Record whom the guard trusts, this process's executable, and what it
 * guards, the pin directory, in cfg; the executable's path goes to
 * PF_LOADED_BY for messages. The inode generation tells a file from a
 * later one given the same inode number; filesystems without
 * FS_IOC_GETVERSION do not say it.
 */
static int guard_identity(struct pf_config *cfg)
{
	char exe[PATH_MAX];
	struct stat st;
	ssize_t n;
	FILE *f;
	int fd, gen;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	cfg->exe_dev = kernel_dev(st.st_dev);
	cfg->exe_ino = st.st_ino;
	cfg->guard_flags = 0;
	if (ioctl(fd, FS_IOC_GETVERSION, &gen) == 0) {
		cfg->exe_gen = (uint32_t)gen;
		cfg->guard_flags |= PF_GUARD_EXE_GEN;
	}
	close(fd);
	if (stat(PF_PIN_DIR, &st) < 0)
		return -errno;
	cfg->pins_dev = kernel_dev(st.st_dev);
	cfg->pins_ino = st.st_ino;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	f = n > 0 ? fopen(PF_LOADED_BY, "we") : NULL;
	if (f) {
		fprintf(f, "%.*s\n", (int)n, exe);
		fclose(f);
	}
	return 0;
}

static int write_config(int fd, uint64_t parent_id, uint32_t level)
{
	struct pf_config cfg = {
		.parent_cgroup_id = parent_id,
		.parent_level = level,
		.abi_version = PF_ABI_VERSION,
		.build = build_digest(),
	};
	uint32_t zero = 0;

	return bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/*
 * Before obj's programs attach: make this process's executable the one
 * the guard trusts (pf_config, config_fd; whoever loaded the network
 * programs is replaced when the file programs, and so the guard, come
 * later), and guard obj's maps and programs (guard_fd).
 */
static int guard_prepare(struct bpf_object *obj, int config_fd, int guard_fd, char *msg, size_t len)
{
	struct pf_config cfg;
	uint32_t zero = 0;
	int err;

	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		err = -errno;
	else
		err = guard_identity(&cfg);
	if (!err && bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY))
		err = -errno;
	if (err)
		return set_msg(msg, len, err, "cannot write pf_config: %s", strerror(-err));
	return guard_object(obj, guard_fd, msg, len);
}

static int load_net(uint64_t parent_id, uint32_t level, const char *parent, char *msg, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = PF_PIN_DIR);
	struct pf_net *skel;
	int cg_fd = -1, err;

	skel = pf_net__open_opts(&opts);
	if (!skel)
		return set_msg(msg, len, -errno, "cannot open network programs: %s",
			       strerror(errno));
	err = pf_net__load(skel);
	if (err) {
		set_msg(msg, len, err, "cannot load network programs: %s", strerror(-err));
		goto out;
	}
	err = write_config(bpf_map__fd(skel->maps.pf_config), parent_id, level);
	if (err) {
		set_msg(msg, len, err, "cannot write pf_config: %s", strerror(-err));
		goto out;
	}
	/* NEEDSWORK: the maps are pinned, unguarded, until the file programs
	 * attach; a descriptor another task takes meanwhile stays usable */
	err = guard_prepare(skel->obj, bpf_map__fd(skel->maps.pf_config),
			    bpf_map__fd(skel->maps.pf_guarded), msg, len);
	if (err)
		goto out;
	cg_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = set_msg(msg, len, -errno, "cannot open %s: %s", parent, strerror(errno));
		goto out;
	}
	err = attach_and_pin(skel->obj, cg_fd, bpf_map__fd(skel->maps.pf_guarded), msg, len);
out:
	if (cg_fd >= 0)
		close(cg_fd);
	pf_net__destroy(skel);
	return err;
}

/*
 * Load and attach the BPF LSM programs. When the kernel cannot run them,
 * return -EOPNOTSUPP with why (one clause) in k->files_why. The probe has
 * found what it could; this catches a refusal it could not foresee.
 */
static int load_files(struct pf_kernel *k, char *msg, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = PF_PIN_DIR);
	char *why = k->files_why;
	size_t why_len = sizeof(k->files_why);
	struct pf_files *skel;
	int err;

	snprintf(k->files_how, sizeof(k->files_how),
		 "use a kernel that lets BPF programs attach to kernel "
		 "functions (CONFIG_BPF_LSM, no lockdown of BPF trampolines)");
	skel = pf_files__open_opts(&opts);
	if (!skel)
		return set_msg(msg, len, -errno, "cannot open file programs: %s", strerror(errno));
	leave_out_absent_hooks(skel->obj);
	err = pf_files__load(skel);
	/* EPERM: the kernel forbids attaching to kernel functions; a verifier
	 * rejection (EINVAL, EACCES) is a bug of ours and must not pass for a
	 * missing feature */
	if (err == -EPERM || err == -KERNEL_ENOTSUPP || err == -EOPNOTSUPP) {
		snprintf(why, why_len,
			 "bpf is an active LSM but the kernel refused its programs: %s",
			 strerror(-err));
		err = -EOPNOTSUPP;
		goto out;
	}
	if (err) {
		set_msg(msg, len, err, "cannot load file programs: %s", strerror(-err));
		goto out;
	}
	/* the guard starts as the programs attach: what it guards comes first */
	err = guard_prepare(skel->obj, bpf_map__fd(skel->maps.pf_config),
			    bpf_map__fd(skel->maps.pf_guarded), msg, len);
	if (err)
		goto out;
	err = attach_and_pin(skel->obj, -1, bpf_map__fd(skel->maps.pf_guarded), msg, len);
	if (err == -EPERM) {
		snprintf(why, why_len, "the kernel refused to attach BPF LSM programs (%s)",
			 strerror(-err));
		err = -EOPNOTSUPP;
	}
out:
	pf_files__destroy(skel);
	return err;
}

static int open_pinned(const char *name, int *fd, char *msg, size_t len)
{
	char p[256];

	pin_path(p, sizeof(p), name);
	*fd = bpf_obj_get(p);
	if (*fd < 0)
		return set_msg(msg, len, -errno, "cannot open pinned %s: %s", p, strerror(errno));
	return 0;
}

static int open_maps(struct pf_kernel *k, char *msg, size_t len)
{
	int err;

	err = open_pinned("pf_config", &k->config_fd, msg, len);
	err = err ?: open_pinned("pf_instances", &k->instances_fd, msg, len);
	err = err ?: open_pinned("pf_trees", &k->trees_fd, msg, len);
	err = err ?: open_pinned("pf_anchors", &k->anchors_fd, msg, len);
	err = err ?: open_pinned("pf_net", &k->net_fd, msg, len);
	err = err ?: open_pinned("pf_rings", &k->rings_fd, msg, len);
	err = err ?: open_pinned("pf_stats", &k->stats_fd, msg, len);
	err = err ?: open_pinned("pf_lost", &k->lost_fd, msg, len);
	err = err ?: open_pinned("pf_seq", &k->seq_fd, msg, len);
	err = err ?: open_pinned("pf_guarded", &k->guard_fd, msg, len);
	return err;
}

/* Whether the pinned state was made for this build and this parent. */
static bool pinned_state_current(uint64_t parent_id)
{
	struct pf_config cfg = {};
	uint32_t zero = 0;
	char p[256];
	int fd;
	bool ok;

	pin_path(p, sizeof(p), "pf_config");
	fd = bpf_obj_get(p);
	if (fd < 0)
		return false;
	ok = bpf_map_lookup_elem(fd, &zero, &cfg) == 0 && cfg.abi_version == PF_ABI_VERSION &&
	     cfg.parent_cgroup_id == parent_id && cfg.build == build_digest();
	close(fd);
	return ok;
}

/* Remove every pin below PF_PIN_DIR; detaches links nobody else holds. */
static int unpin_all(void)
{
	struct dirent *de;
	char p[512];
	int err = 0;
	DIR *d;

	d = opendir(PF_PIN_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", PF_PIN_DIR, de->d_name);
		if (unlink(p) < 0 && !err)
			err = -errno;
	}
	closedir(d);
	return err;
}

/* Are instances registered in the pinned state? */
static int instances_registered(void)
{
	uint64_t key;
	char p[256];
	int fd, n;

	pin_path(p, sizeof(p), "pf_instances");
	fd = bpf_obj_get(p);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = bpf_map_get_next_key(fd, NULL, &key) == 0;
	close(fd);
	return n;
}

/*
 * Refuse, with -EPERM and a message, when the guard keeps the pinned
 * state from this process: it was loaded from another pinfold binary.
 */
static int guarded_from_us(char *msg, size_t len)
{
	char p[256], by[PATH_MAX] = "";
	FILE *f;

	pin_path(p, sizeof(p), "pf_config");
	if (access(p, F_OK) == 0 || errno != EPERM)
		return 0;
	f = fopen(PF_LOADED_BY, "re");
	if (f) {
		if (!fgets(by, sizeof(by), f))
			by[0] = '\0';
		by[strcspn(by, "\n")] = '\0';
		fclose(f);
	}
	return set_msg(msg, len, -EPERM,
		       "pinned pinfold state in %s is guarded for the pinfold binary that loaded "
		       "it (%s), and this one is another; run 'pinfold unload' with that one, or "
		       "reboot",
		       PF_PIN_DIR, by[0] ? by : "its path unknown");
}

static int lock_load(char *msg, size_t len)
{
	int fd;

	if (mkdir(PF_RUN_DIR, 0700) < 0 && errno != EEXIST)
		return set_msg(msg, len, -errno, "cannot create %s: %s", PF_RUN_DIR,
			       strerror(errno));
	fd = open(PF_LOAD_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return set_msg(msg, len, -errno, "cannot open %s: %s", PF_LOAD_LOCK,
			       strerror(errno));
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return set_msg(msg, len, -errno, "cannot lock %s: %s", PF_LOAD_LOCK,
			       strerror(errno));
	}
	return fd;
}

/* Adopt or (re)load the network programs; the caller holds the load lock. */
static int bring_up_net(struct pf_kernel *k, uint32_t level, char *msg, size_t len)
{
	struct pf_net *probe;
	bool have_links;
	int busy;

	probe = pf_net__open();
	if (!probe)
		return set_msg(msg, len, -errno, "cannot open network programs: %s",
			       strerror(errno));
	have_links = links_pinned(probe->obj);
	pf_net__destroy(probe);

	if (have_links && pinned_state_current(k->parent_id))
		return 0;

	busy = instances_registered();
	if (have_links && busy > 0)
		return set_msg(msg, len, -EBUSY,
			       "pinned pinfold state in %s is from another build or parent cgroup "
			       "and agents are running; stop them, then run 'pinfold unload'",
			       PF_PIN_DIR);
	/* no links, or stale ones nobody uses: start from a clean slate */
	unpin_all();
	return load_net(k->parent_id, level, k->parent, msg, len);
}

/*
 * Adopt or load the file programs, unless the probe found the kernel
 * lacking what they need: then say which feature, in one clause.
 */
static void bring_up_files(struct pf_kernel *k, const struct features *feat, char *msg, size_t len)
{
	struct pf_files *probe;
	int err, lacking;

	probe = pf_files__open();
	if (probe)
		leave_out_absent_hooks(probe->obj);
	k->files_enforced = probe && links_pinned(probe->obj);
	/* a load that died half way may have pinned some links: start over */
	if (probe && !k->files_enforced)
		unpin_links(probe->obj);
	pf_files__destroy(probe);
	if (k->files_enforced)
		return;

	lacking = features_first_lacking(feat, FEATURE_FOR_FILES);
	if (lacking >= 0) {
		features_why(feat, lacking, k->files_why, sizeof(k->files_why));
		features_how(feat, lacking, k->files_how, sizeof(k->files_how));
		return;
	}
	err = load_files(k, msg, len);
	k->files_enforced = err == 0;
	if (err && err != -EOPNOTSUPP) {
		snprintf(k->files_why, sizeof(k->files_why), "%s", msg);
		snprintf(k->files_how, sizeof(k->files_how),
			 "report this pinfold bug with the output of 'pinfold -vv run ...'");
	}
}

/*
 * Probe the kernel (features.h): a feature network rules need that is
 * missing stops here, named in msg, before anything is loaded or pinned.
 */
static int check_features(struct features *feat, char *msg, size_t len)
{
	char why[400], how[300];
	int lacking;

	features_probe(feat);
	lacking = features_first_lacking(feat, FEATURE_FOR_NETWORK);
	if (lacking < 0)
		return 0;
	features_why(feat, lacking, why, sizeof(why));
	features_how(feat, lacking, how, sizeof(how));
	return set_msg(msg, len, -EOPNOTSUPP,
		       "cannot enforce network rules, so no agent runs: %s; to enforce them, %s "
		       "('pinfold features' lists what this kernel has)",
		       why, how);
}

/* Take a reference on each pinned link of obj's programs. */
static int hold_object_links(struct pf_kernel *k, struct bpf_object *obj, char *msg, size_t len)
{
	struct bpf_program *prog;
	char name[128];
	int fd;

	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		if (k->n_links == LOADER_MAX_LINKS)
			return set_msg(msg, len, -E2BIG, "more than %d links", LOADER_MAX_LINKS);
		snprintf(name, sizeof(name), "link_%s", bpf_program__name(prog));
		if (open_pinned(name, &fd, msg, len))
			return -ENOENT;
		k->link_fds[k->n_links++] = fd;
	}
	return 0;
}

static int hold_links(struct pf_kernel *k, char *msg, size_t len)
{
	struct pf_files *files = NULL;
	struct pf_net *net;
	int err;

	net = pf_net__open();
	if (!net)
		return set_msg(msg, len, -errno, "cannot open network programs: %s",
			       strerror(errno));
	err = hold_object_links(k, net->obj, msg, len);
	pf_net__destroy(net);
	if (err || !k->files_enforced)
		return err;

	files = pf_files__open();
	if (!files)
		return set_msg(msg, len, -errno, "cannot open file programs: %s", strerror(errno));
	leave_out_absent_hooks(files->obj);
	err = hold_object_links(k, files->obj, msg, len);
	pf_files__destroy(files);
	return err;
}

int loader_open(struct pf_kernel *k, char *msg, size_t len)
{
	struct features feat;
	uint32_t level;
	int lock_fd, err;

	err = features_mount_if_missing(PF_BPFFS, "bpf", BPF_FS_MAGIC, "mode=0700");
	if (err)
		return set_msg(msg, len, err, "cannot mount bpffs at %s: %s", PF_BPFFS,
			       strerror(-err));
	if (mkdir(PF_PIN_DIR, 0700) < 0 && errno != EEXIST)
		return set_msg(msg, len, -errno, "cannot create %s: %s", PF_PIN_DIR,
			       strerror(errno));
	/* securityfs, to read the active LSMs, is mounted by the probe */
	err = check_features(&feat, msg, len);
	if (err)
		return err;
	err = cgroup_parent(k->parent, sizeof(k->parent), &k->parent_id, &level);
	if (err)
		return set_msg(msg, len, err, "cannot set up the parent cgroup: %s",
			       strerror(-err));

	lock_fd = lock_load(msg, len);
	if (lock_fd < 0)
		return lock_fd;
	err = guarded_from_us(msg, len);
	if (!err)
		err = bring_up_net(k, level, msg, len);
	if (!err)
		bring_up_files(k, &feat, msg, len);
	/* under the lock: an unload must not slip between pinning and holding */
	if (!err)
		err = hold_links(k, msg, len);
	if (!err)
		err = open_maps(k, msg, len);
	close(lock_fd);
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	return err;
}

void loader_close(struct pf_kernel *k)
{
	int *fds[] = {&k->config_fd, &k->instances_fd, &k->trees_fd, &k->anchors_fd, &k->net_fd,
		      &k->rings_fd,  &k->stats_fd,     &k->lost_fd,  &k->seq_fd,     &k->guard_fd};
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	while (k->n_links > 0)
		close(k->link_fds[--k->n_links]);
}

int loader_unload(bool force, char *msg, size_t len)
{
	int lock_fd, busy, err;

	lock_fd = lock_load(msg, len);
	if (lock_fd < 0)
		return lock_fd;
	err = guarded_from_us(msg, len);
	if (err) {
		close(lock_fd);
		return err;
	}
	busy = instances_registered();
	if (busy > 0 && !force) {
		close(lock_fd);
		return set_msg(msg, len, -EBUSY,
			       "agents are confined right now; --force unpins anyway, and they "
			       "stay confined until they end");
	}
	err = unpin_all();
	if (err)
		set_msg(msg, len, err, "cannot unpin everything in %s: %s", PF_PIN_DIR,
			strerror(-err));
	close(lock_fd);
	return err;
}

int loader_guard(const struct pf_kernel *k, uint32_t kind, int fd, uint32_t *id)
{
	return guard_add(k->guard_fd, kind, fd, id);
}

int loader_unguard(const struct pf_kernel *k, uint32_t kind, uint32_t id)
{
	struct pf_guard_key key = {.kind = kind, .id = id};

	if (bpf_map_delete_elem(k->guard_fd, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

int loader_percpu_sum(int map_fd, uint32_t key, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	int i, err = 0;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	*sum = 0;
	if (bpf_map_lookup_elem(map_fd, &key, vals))
		err = -errno;
	for (i = 0; !err && i < ncpu; i++)
		*sum += vals[i];
	free(vals);
	return err;
}
