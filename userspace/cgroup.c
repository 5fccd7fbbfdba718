// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgroup.c - cgroup v2 plumbing for pinfold's parent and instance cgroups.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

/* How long destroy waits for killed tasks to leave, in ms. */
#define CGROUP_DRAIN_MS 5000
/* How deep removal follows cgroups an agent made below its own. */
#define CGROUP_MAX_NESTING 32

int cgroup_find_mount(char *buf, size_t len)
{
	char line[4096];
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;

	/* id parent major:minor root mountpoint opts [optional...] - fstype src opts */
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], *sep;

		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (strlen(mnt) >= len) {
			err = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = {.fh.handle_bytes = sizeof(uint64_t)};
	int mount_id;

	/* cgroupfs hands out the kernfs node id as the file handle */
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EOVERFLOW;
	*id = h.id;
	return 0;
}

int cgroup_parent(char *path, size_t len, uint64_t *id, uint32_t *level)
{
	char root[PATH_MAX];
	const char *p;
	uint32_t depth = 1;
	int err;

	err = cgroup_find_mount(root, sizeof(root));
	if (err)
		return err;
	if ((size_t)snprintf(path, len, "%s/%s", root, PF_PARENT_CGROUP) >= len)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;

	for (p = PF_PARENT_CGROUP; *p; p++)
		depth += *p == '/';
	*level = depth;
	return cgroup_id(path, id);
}

int cgroup_instance_create(const char *parent, const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", parent, name) >= len)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0755) < 0)
		return -errno;
	return 0;
}

int cgroup_procs_open(const char *path)
{
	char p[PATH_MAX];
	int fd;

	if ((size_t)snprintf(p, sizeof(p), "%s/cgroup.procs", path) >= sizeof(p))
		return -ENAMETOOLONG;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int write_file(const char *dir, const char *file, const char *text)
{
	char p[PATH_MAX];
	ssize_t n;
	int fd, err = 0;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, file) >= sizeof(p))
		return -ENAMETOOLONG;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/* 1 while tasks remain in the cgroup, 0 when empty, or -errno. */
static int cgroup_populated(const char *dir)
{
	char p[PATH_MAX], line[128];
	int populated = -ENOENT;
	FILE *f;

	if ((size_t)snprintf(p, sizeof(p), "%s/cgroup.events", dir) >= sizeof(p))
		return -ENAMETOOLONG;
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "populated %d", &populated) == 1)
			break;
	fclose(f);
	return populated;
}

/*
 * Remove the cgroups below dir, deepest first: a task of the instance may
 * have made some. Their tasks are dead by then (cgroup.kill is recursive).
 */
static int remove_children(const char *dir, int depth)
{
	char p[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	if (depth > CGROUP_MAX_NESTING)
		return -ELOOP;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p)) {
			err = -ENAMETOOLONG;
			continue;
		}
		err = remove_children(p, depth + 1) ?: err;
		if (rmdir(p) < 0 && !err)
			err = -errno;
	}
	closedir(d);
	return err;
}

int cgroup_instance_destroy(const char *path)
{
	int waited, populated, err;

	/* cgroup.kill exists since 5.14 */
	err = write_file(path, "cgroup.kill", "1");
	if (err && err != -ENOENT)
		return err;

	for (waited = 0; waited < CGROUP_DRAIN_MS; waited += 10) {
		populated = cgroup_populated(path);
		if (populated <= 0)
			break;
		poll(NULL, 0, 10);
	}
	err = remove_children(path, 0);
	if (err)
		return err;
	if (rmdir(path) < 0)
		return -errno;
	return 0;
}

int cgroup_pid_below(const char *parent, pid_t pid)
{
	char path[64], line[PATH_MAX], mnt[PATH_MAX];
	size_t mlen, plen;
	int found = 0, err;
	FILE *f;

	err = cgroup_find_mount(mnt, sizeof(mnt));
	if (err)
		return err;
	mlen = strlen(mnt);
	if (strncmp(parent, mnt, mlen))
		return -EINVAL;
	parent += mlen;
	plen = strlen(parent);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		/* cgroup v2's line is "0::/path"; the parent itself does not count */
		if (!strncmp(line, "0::", 3) && !strncmp(line + 3, parent, plen) &&
		    line[3 + plen] == '/')
			found = 1;
	}
	fclose(f);
	return found;
}
