// SPDX-License-Identifier: GPL-2.0-only
/*
 * pf-guard - try one way a root process that is not pinfold could reach
 * pinfold's kernel objects, and report how it went in one line, as pf-probe
 * does: "ok [REPLY]" or "err ENAME". tests/vm/test_selfguard.sh runs it
 * against pinfold's objects and against objects of its own, which it must
 * reach. Exit status: 0 on success, 1 when the operation failed, 2 on a
 * usage error.
 *
 *   scan map|prog|link      every id the kernel lists (*_GET_NEXT_ID), each
 *                           opened by id; "ok refused=N opened=M first=ID
 *                           names=A,B", first the first id refused (0: none),
 *                           names those of opened maps and programs; an error
 *                           other than EPERM, or ENOENT (gone meanwhile), is
 *                           reported instead
 *   get-fd map|prog|link ID one *_GET_FD_BY_ID
 *   own-pin PATH            make an array map named pf_guard_own, pin it at
 *                           PATH; "ok ID"
 *   obj-get PATH            BPF_OBJ_GET of a pin
 *   umount PATH now|detach  umount2, flags 0 or MNT_DETACH
 *   hold -                  make an array map, print "ok FD", then wait to be killed
 *   proc-fds PID            readlink /proc/PID/fd/N for N below 256: "ok
 *                           links=N refused=M maps=K", refused counting EACCES,
 *                           maps the links to a BPF map
 *   proc-open PID FD        open /proc/PID/fd/FD O_RDONLY
 *   getfds PID              pidfd_getfd of each descriptor below 256 of PID:
 *                           "ok got=N refused=M maps=K", refused counting
 *                           EPERM, maps the descriptors that are BPF maps
 *   list DIR                the names in DIR, read without looking any up (ls
 *                           looks each up): "ok NAME..." in name order
 *   exe-as BINARY PATH      pass for BINARY without running it: move every
 *                           mapping of our own executable to anonymous
 *                           memory, prctl(PR_SET_MM, PR_SET_MM_EXE_FILE) to
 *                           BINARY (reported as "err E..." when refused),
 *                           then BPF_OBJ_GET of PATH
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

#define PF_GUARD_FDS 256
#define PF_GUARD_NAMES 512

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int usage(void)
{
	fprintf(stderr, "usage: pf-guard OP ARG... (see the source's top comment)\n");
	return 2;
}

struct kind {
	const char *name;
	int next_cmd;
	int get_cmd;
};

static const struct kind kinds[] = {
	{"map", BPF_MAP_GET_NEXT_ID, BPF_MAP_GET_FD_BY_ID},
	{"prog", BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID},
	{"link", BPF_LINK_GET_NEXT_ID, BPF_LINK_GET_FD_BY_ID},
};

static const struct kind *kind_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

/* A descriptor of object id of kind k, or -1 with errno set. */
static int get_fd(const struct kind *k, unsigned int id)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_id = id; /* one word for prog_id and link_id too */
	return (int)sys_bpf(k->get_cmd, &attr);
}

/* BPF_OBJ_GET_INFO_BY_FD of fd into info, of len bytes; -1 with errno set on failure. */
static int obj_info(int fd, void *info, unsigned int len)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	memset(info, 0, len);
	attr.info.bpf_fd = (unsigned int)fd;
	attr.info.info_len = len;
	attr.info.info = (unsigned long)info;
	return (int)sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr);
}

/* The name of the map or program behind fd into name (empty for a link). */
static void name_of(const struct kind *k, int fd, char *name, size_t len)
{
	struct bpf_map_info map;
	struct bpf_prog_info prog;

	name[0] = '\0';
	if (k->get_cmd == BPF_MAP_GET_FD_BY_ID && obj_info(fd, &map, sizeof(map)) == 0)
		snprintf(name, len, "%s", map.name);
	else if (k->get_cmd == BPF_PROG_GET_FD_BY_ID && obj_info(fd, &prog, sizeof(prog)) == 0)
		snprintf(name, len, "%s", prog.name);
}

static int op_scan(const struct kind *k)
{
	unsigned int id = 0, first = 0, refused = 0, opened = 0;
	char names[PF_GUARD_NAMES] = "", name[BPF_OBJ_NAME_LEN], reply[PF_GUARD_NAMES + 96];
	union bpf_attr attr;
	size_t at = 0;
	int fd;

	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(k->next_cmd, &attr) < 0) {
			if (errno != ENOENT)
				return report(errno, NULL);
			break;
		}
		id = attr.next_id;
		fd = get_fd(k, id);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 && errno != EPERM)
			return report(errno, NULL);
		if (fd < 0) {
			refused++;
			first = first ?: id;
			continue;
		}
		opened++;
		name_of(k, fd, name, sizeof(name));
		close(fd);
		if (at < sizeof(names))
			at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s",
					       at ? "," : "", name[0] ? name : "-");
	}
	snprintf(reply, sizeof(reply), "refused=%u opened=%u first=%u names=%s", refused, opened,
		 first, names);
	return report(0, reply);
}

static int op_get_fd(const struct kind *k, const char *id)
{
	int fd = get_fd(k, (unsigned int)strtoul(id, NULL, 10));

	if (fd < 0)
		return report(errno, NULL);
	close(fd);
	return report(0, NULL);
}

/* A new array map of one __u32, named pf_guard_own; -1 with errno set. */
static int own_map(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	snprintf(attr.map_name, sizeof(attr.map_name), "pf_guard_own");
	return (int)sys_bpf(BPF_MAP_CREATE, &attr);
}

static int op_own_pin(const char *path)
{
	struct bpf_map_info info;
	union bpf_attr attr;
	char reply[32];
	int fd = own_map();

	if (fd < 0)
		return report(errno, NULL);
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (unsigned long)path;
	attr.bpf_fd = (unsigned int)fd;
	if (sys_bpf(BPF_OBJ_PIN, &attr) < 0 || obj_info(fd, &info, sizeof(info)) < 0)
		return report(errno, NULL);
	snprintf(reply, sizeof(reply), "%u", info.id);
	return report(0, reply);
}

static int op_obj_get(const char *path)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (unsigned long)path;
	fd = (int)sys_bpf(BPF_OBJ_GET, &attr);
	if (fd < 0)
		return report(errno, NULL);
	close(fd);
	return report(0, NULL);
}

static int op_umount(const char *path, const char *how)
{
	int flags;

	if (strcmp(how, "now") == 0)
		flags = 0;
	else if (strcmp(how, "detach") == 0)
		flags = MNT_DETACH;
	else
		return usage();
	return report(umount2(path, flags) < 0 ? errno : 0, NULL);
}

static int op_hold(void)
{
	char reply[16];
	int fd = own_map();

	if (fd < 0)
		return report(errno, NULL);
	snprintf(reply, sizeof(reply), "%d", fd);
	report(0, reply);
	fflush(stdout);
	for (;;)
		pause();
}

static int op_proc_fds(const char *pid)
{
	unsigned int links = 0, refused = 0, maps = 0;
	char path[64], target[256], reply[96];
	ssize_t n;
	int fd;

	for (fd = 0; fd < PF_GUARD_FDS; fd++) {
		snprintf(path, sizeof(path), "/proc/%s/fd/%d", pid, fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0 && errno == ENOENT)
			continue;
		if (n < 0 && errno != EACCES)
			return report(errno, NULL);
		if (n < 0) {
			refused++;
			continue;
		}
		links++;
		target[n] = '\0';
		maps += strcmp(target, "anon_inode:bpf-map") == 0;
	}
	snprintf(reply, sizeof(reply), "links=%u refused=%u maps=%u", links, refused, maps);
	return report(0, reply);
}

static int op_proc_open(const char *pid, const char *fd)
{
	char path[64];
	int got;

	snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, fd);
	got = open(path, O_RDONLY | O_CLOEXEC);
	if (got < 0)
		return report(errno, NULL);
	close(got);
	return report(0, NULL);
}

/* Whether fd is a BPF map: the kernel gives its map information. */
static int is_map(int fd)
{
	struct bpf_map_info info;

	return obj_info(fd, &info, sizeof(info)) == 0 && info.id != 0;
}

static int op_getfds(const char *pid)
{
	unsigned int got = 0, refused = 0, maps = 0;
	int pidfd, fd, theirs;
	char reply[96];

	pidfd = (int)syscall(SYS_pidfd_open, atoi(pid), 0);
	if (pidfd < 0)
		return report(errno, NULL);
	for (fd = 0; fd < PF_GUARD_FDS; fd++) {
		theirs = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		if (theirs < 0 && errno == EBADF)
			continue;
		if (theirs < 0 && errno != EPERM) {
			close(pidfd);
			return report(errno, NULL);
		}
		if (theirs < 0) {
			refused++;
			continue;
		}
		got++;
		maps += is_map(theirs);
		close(theirs);
	}
	close(pidfd);
	snprintf(reply, sizeof(reply), "got=%u refused=%u maps=%u", got, refused, maps);
	return report(0, reply);
}

/* Names other than . and .. */
static int named(const struct dirent *de)
{
	return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

static int op_list(const char *dir)
{
	struct dirent **des;
	char reply[4096] = "";
	size_t at = 0;
	int n, i;

	n = scandir(dir, &des, named, alphasort);
	if (n < 0)
		return report(errno, NULL);
	for (i = 0; i < n; i++) {
		if (at < sizeof(reply))
			at += (size_t)snprintf(reply + at, sizeof(reply) - at, "%s%s", i ? " " : "",
					       des[i]->d_name);
		free(des[i]);
	}
	free(des);
	return report(0, n ? reply : NULL);
}

/*
 * Move each mapping of our own executable to anonymous memory at the same
 * address: the kernel refuses a new exe_file while the old one is mapped.
 * 0 or an errno.
 */
static int unmap_own_exe(void)
{
	char exe[PATH_MAX], line[PATH_MAX + 128], path[PATH_MAX];
	unsigned long lo, hi;
	FILE *f;
	ssize_t n;
	void *p;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	f = fopen("/proc/self/maps", "re");
	if (n < 0 || !f)
		return errno;
	exe[n] = '\0';
	while (fgets(line, sizeof(line), f)) {
		path[0] = '\0';
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &lo, &hi, path) < 2 ||
		    strcmp(path, exe))
			continue;
		p = mmap(NULL, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return errno;
		memcpy(p, (void *)lo, hi - lo);
		if (mremap(p, hi - lo, hi - lo, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)lo) ==
		    MAP_FAILED)
			return errno;
	}
	fclose(f);
	return 0;
}

static int op_exe_as(const char *binary, const char *pin)
{
	int fd, err = unmap_own_exe();

	if (err)
		return report(err, "cannot move our own mappings");
	fd = open(binary, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report(errno, NULL);
	if (prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, fd, 0, 0))
		return report(errno, NULL);
	return op_obj_get(pin);
}

int main(int argc, char **argv)
{
	const struct kind *k;
	const char *op;

	if (argc < 3)
		return usage();
	op = argv[1];
	k = kind_of(argv[2]);
	if (argc == 3) {
		if (strcmp(op, "scan") == 0 && k)
			return op_scan(k);
		if (strcmp(op, "own-pin") == 0)
			return op_own_pin(argv[2]);
		if (strcmp(op, "obj-get") == 0)
			return op_obj_get(argv[2]);
		if (strcmp(op, "hold") == 0 && strcmp(argv[2], "-") == 0)
			return op_hold();
		if (strcmp(op, "proc-fds") == 0)
			return op_proc_fds(argv[2]);
		if (strcmp(op, "getfds") == 0)
			return op_getfds(argv[2]);
		if (strcmp(op, "list") == 0)
			return op_list(argv[2]);
	}
	if (argc == 4) {
		if (strcmp(op, "get-fd") == 0 && k)
			return op_get_fd(k, argv[3]);
		if (strcmp(op, "umount") == 0)
			return op_umount(argv[2], argv[3]);
		if (strcmp(op, "proc-open") == 0)
			return op_proc_open(argv[2], argv[3]);
		if (strcmp(op, "exe-as") == 0)
			return op_exe_as(argv[2], argv[3]);
	}
	return usage();
}
