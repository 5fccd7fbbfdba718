// SPDX-License-Identifier: GPL-2.0-only
/*
 * auditrotate.c - the files of a chained audit log as its writer keeps
 * them: the ends of BASE, rotation (a rename), compression of rotated files
 * into gzip files, and prune. See auditrotate.h and docs/audit.md.
 *
 * Rotation and prune write a new file under a temporary name and rename it
 * into place, so that a crash leaves either the old file or the new one;
 * the temporary names are created afresh (auditlog_file_create), never
 * opened through whatever someone left there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "auditlog.h"
#include "auditread.h"
#include "auditrotate.h"

#define TAIL_READ (64u << 10)
#define COPY_CHUNK (1 << 16)

/* ---- opening a log ---- */

static int mkdir_parents(char *dir, mode_t mode)
{
	char *slash = strrchr(dir, '/');
	int err = 0;

	if (!mkdir(dir, mode) || errno == EEXIST)
		return 0;
	if (errno != ENOENT || !slash || slash == dir)
		return -errno;
	*slash = '\0';
	err = mkdir_parents(dir, mode);
	*slash = '/';
	if (!err && mkdir(dir, mode) && errno != EEXIST)
		err = -errno;
	return err;
}

/*
 * Whether dir may hold a log: a directory owned by root or this user that
 * no group or other may write (as sshd's StrictModes asks of a home). 0,
 * or -EPERM (-errno when dir cannot be read) with a one-line reason in err.
 */
static int dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st)) {
		int e = errno;

		snprintf(err, errlen, "cannot use the audit log directory %s: %s", dir,
			 strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode))
		snprintf(err, errlen, "%s is not a directory", dir);
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		snprintf(err, errlen,
			 "the audit log directory %s is owned by uid %u, not by root or this user",
			 dir, (unsigned)st.st_uid);
	else if (st.st_mode & 022)
		snprintf(err, errlen,
			 "the audit log directory %s is writable by group or others (mode %04o): "
			 "others could put links in it",
			 dir, (unsigned)(st.st_mode & 07777));
	else
		return 0;
	return -EPERM;
}

int auditrotate_open_base(const char *base, const char **why)
{
	return auditlog_file_open(base, O_RDWR | O_APPEND | O_CREAT, 0600, why);
}

int auditrotate_open(const char *base, bool make_dir, int *dir_fd, int *lock_fd, int *fd, char *err,
		     size_t errlen)
{
	char *dir = auditlog_dir_of(base), lock[PATH_MAX];
	const char *why = NULL, *what = base;
	int ret = dir ? 0 : -ENOMEM;

	*dir_fd = *lock_fd = *fd = -1;
	if (!ret && make_dir)
		ret = mkdir_parents(dir, 0700);
	if (!ret && (ret = dir_check(dir, err, errlen)))
		goto out;
	if (!ret && (*dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		ret = -errno;
	snprintf(lock, sizeof(lock), "%s.lock", base);
	if (!ret) {
		what = lock;
		/* O_NONBLOCK: a FIFO someone left there must not hang the open */
		*lock_fd = auditlog_file_open(lock, O_RDWR | O_CREAT | O_NONBLOCK, 0600, &why);
		ret = *lock_fd < 0 ? *lock_fd : 0;
	}
	if (!ret) {
		what = base;
		*fd = auditrotate_open_base(base, &why);
		ret = *fd < 0 ? *fd : 0;
	}
	if (ret)
		snprintf(err, errlen, "cannot open audit log file %s: %s", what,
			 why ? why : strerror(-ret));
out:
	free(dir);
	return ret;
}

int auditlog_lock(const char *base, int op, bool create)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s.lock", base) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/* O_NONBLOCK: a FIFO planted there must not hang the open */
	fd = auditlog_file_open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NONBLOCK, 0600,
				NULL);
	if (fd >= 0 && flock(fd, op)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int auditlog_log_opts(int argc, char **argv, const char **base, const char **keys, size_t *n_keys,
		      size_t max_keys, struct auditlog_keep *keep, void (*usage)(FILE *))
{
	static const struct option opts[] = {
		{"log", required_argument, NULL, 'l'},
		{"key", required_argument, NULL, 'k'},
		{"keep", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l') {
			*base = optarg;
		} else if (c == 'k' && keys && *n_keys < max_keys) {
			keys[(*n_keys)++] = optarg;
		} else if (c == 'k' && keys) {
			fprintf(stderr, "pinfold: at most %zu --key options\n", max_keys);
			return 2;
		} else if (c == 'K' && (err = auditlog_keep_parse(keep, optarg))) {
			if (err == -ERANGE)
				fprintf(stderr,
					"pinfold: bad --keep '%s': DAYS is at most %d (or forever)\n",
					optarg, AUDITLOG_KEEP_MAX_DAYS);
			else
				fprintf(stderr, "pinfold: bad --keep '%s': want CLASS=DAYS\n",
					optarg);
			return 2;
		} else if (c != 'K') {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? -1 : 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* ---- the ends of a log ---- */

/* base's newest rotated file (malloc'ed) and its number; NULL when there is none */
static char *newest_file(const char *base, uint64_t *number)
{
	char **files = auditread_files(base), *newest = NULL;
	size_t n = 0;

	*number = 0;
	if (!files)
		return NULL;
	while (files[n])
		n++;
	/* the last one is BASE itself, when it exists */
	while (n-- > 0 && !*number)
		*number = auditread_rotated_number(base, files[n]);
	if (*number)
		newest = strdup(files[n + 1]);
	auditread_files_free(files);
	return newest;
}

uint64_t auditrotate_newest(const char *base)
{
	uint64_t number;

	free(newest_file(base, &number));
	return number;
}

int auditrotate_last_of_rotated(const char *base, struct auditlog_rec *last, bool *found)
{
	uint64_t number;
	char *one[2] = {newest_file(base, &number), NULL}, errbuf[256];
	struct auditread *r = NULL;
	const char *line, *file, *why;
	unsigned long lineno;
	size_t len;
	bool whole;
	int err;

	*found = false;
	if (!one[0])
		return number ? -ENOMEM : 0;
	err = auditread_open_files(&r, one, errbuf, sizeof(errbuf));
	while (!err && (err = auditread_next(r, &line, &len, &file, &lineno, &whole)) == 1) {
		*found = whole && !auditlog_parse(line, len, last, &why);
		err = 0;
	}
	auditread_close(r);
	free(one[0]);
	if (err == 0 && !*found)
		err = -EBADMSG; /* a rotated file ends in a checkpoint */
	return err;
}

/* The record of len bytes at off; -EBADMSG when it is none. */
static int read_line_at(int fd, off_t off, size_t len, struct auditlog_rec *rec)
{
	char *buf = malloc(len ? len : 1);
	const char *why;
	int err;

	if (!buf)
		return -ENOMEM;
	err = pread(fd, buf, len, off) == (ssize_t)len ? auditlog_parse(buf, len, rec, &why) : -EIO;
	free(buf);
	return err;
}

/*
 * Where the last line of BASE (size bytes) starts, reading backwards in
 * growing windows; a tail without '\n' is cut off (auditrotate.h).
 */
static int find_last_line(int fd, off_t *size, off_t *start)
{
	size_t win = TAIL_READ;
	char *buf = NULL;
	int err = 0;

	while (*size > 0) {
		size_t n = (off_t)win < *size ? win : (size_t)*size;
		char *nb = realloc(buf, n), *nl;

		if (!nb) {
			err = -ENOMEM;
			break;
		}
		buf = nb;
		if (pread(fd, buf, n, *size - n) != (ssize_t)n) {
			err = -EIO;
			break;
		}
		if (buf[n - 1] != '\n') {
			nl = memrchr(buf, '\n', n);
			if (nl || (off_t)n == *size) {
				*size -= n - (nl ? nl - buf + 1 : 0);
				if (ftruncate(fd, *size)) {
					err = -errno;
					break;
				}
				continue;
			}
		} else {
			nl = n > 1 ? memrchr(buf, '\n', n - 1) : NULL;
			if (nl || (off_t)n == *size) {
				*start = *size - n + (nl ? nl - buf + 1 : 0);
				break;
			}
		}
		if (win >= AUDITREAD_MAX_LINE) {
			err = -EBADMSG;
			break;
		}
		win *= 2;
	}
	free(buf);
	return err;
}

int auditrotate_last_of_base(int fd, off_t *size, struct auditlog_rec *last, bool *found)
{
	off_t start = 0;
	int err = find_last_line(fd, size, &start);

	*found = false;
	if (err || *size == 0)
		return err;
	err = read_line_at(fd, start, *size - start - 1, last);
	*found = !err;
	return err;
}

int auditrotate_first_of_base(int fd, off_t size, struct auditlog_rec *first)
{
	size_t win = TAIL_READ, n;
	char *buf = NULL, *nb, *nl = NULL;
	const char *why;
	int err = -EBADMSG;

	/* a record may be longer than the first window: an instance-start with a long command */
	for (; !nl && win <= AUDITREAD_MAX_LINE; win *= 2) {
		n = size < (off_t)win ? (size_t)size : win;
		nb = n ? realloc(buf, n) : NULL;
		if (!nb)
			break;
		buf = nb;
		if (pread(fd, buf, n, 0) != (ssize_t)n)
			break;
		nl = memchr(buf, '\n', n);
		if (nl)
			err = auditlog_parse(buf, nl - buf, first, &why);
		else if (n == (size_t)size)
			break;
	}
	free(buf);
	return err;
}

/* ---- what the head proves of a log's end ---- */

static void break_set(struct auditrotate_break *brk, const char *found, uint64_t head_id,
		      uint64_t last_id, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void break_set(struct auditrotate_break *brk, const char *found, uint64_t head_id,
		      uint64_t last_id, const char *fmt, ...)
{
	va_list ap;

	brk->due = true;
	brk->found = found;
	brk->head_id = head_id;
	brk->log_last_id = last_id;
	va_start(ap, fmt);
	vsnprintf(brk->detail, sizeof(brk->detail), fmt, ap);
	va_end(ap);
}

/* whether h carries the signature of its key, when the writer knows that key */
static bool head_signed(const char *key_path, EVP_PKEY *own, const char *own_id,
			const struct auditlog_head *h, bool *known)
{
	EVP_PKEY *key = own;
	bool ok;

	/* after keygen --force: the other key of the pair before or after */
	if (strcmp(h->key, own_id))
		key = auditlog_key_of_id(key_path, h->key);
	*known = key != NULL;
	ok = key && auditlog_head_sig_ok(key, h);
	if (key != own)
		EVP_PKEY_free(key);
	return ok;
}

void auditrotate_tail_check(const char *base, const char *key_path, EVP_PKEY *key,
			    const char *key_id, uint64_t *last_id, char last_link[65],
			    struct auditrotate_break *brk)
{
	char path[PATH_MAX];
	struct auditlog_head h;
	bool known;
	int err;

	snprintf(path, sizeof(path), "%s.head", base);
	err = auditlog_head_read(path, &h);
	brk->due = false;
	if (err == -ENOENT) {
		/* no head and no record: a new log (an emptied one looks the same) */
		if (*last_id)
			break_set(brk, AUDITLOG_FOUND_HEAD_MISSING, 0, *last_id,
				  "the head is missing, and the log holds records up to %" PRIu64,
				  *last_id);
	} else if (err) {
		break_set(brk, AUDITLOG_FOUND_HEAD_NOT_SIGNED, 0, *last_id,
			  "the head is not a signed head (unreadable, or not one JSON line)");
	} else if (!head_signed(key_path, key, key_id, &h, &known)) {
		break_set(brk, AUDITLOG_FOUND_HEAD_NOT_SIGNED, h.id, *last_id,
			  known ? "the head's signature by key %s does not verify"
				: "the head is signed by key %s, which this writer does not know",
			  h.key);
	} else if (h.id > *last_id) {
		*last_id = h.id;
		memcpy(last_link, h.link, 65);
	} else if (h.id < *last_id) {
		break_set(brk, AUDITLOG_FOUND_UNSIGNED_RECORDS, h.id, *last_id,
			  "the head names record %" PRIu64 ", and records up to %" PRIu64
			  " follow it unsigned",
			  h.id, *last_id);
	} else if (strcmp(h.link, last_link)) {
		break_set(brk, AUDITLOG_FOUND_HEAD_MISMATCH, h.id, *last_id,
			  "the head names record %" PRIu64 " with another link than the log's",
			  h.id);
	}
}

/* ---- rotation ---- */

static int sync_dir(const struct auditrotate_base *b)
{
	return b->sync && fsync(b->dir_fd) ? -errno : 0;
}

/*
 * Rotate b: BASE is renamed BASE.<first id> (a rotated file, plain until
 * auditrotate_compress gzips it) and a fresh empty BASE takes its name.
 * Renames only, so that the writer is back at its ring at once. 0 with
 * *new_fd, or -errno with *step saying what failed, and the log as it was.
 */
static int rotate(const struct auditrotate_base *b, int *new_fd, const char **step)
{
	char plain[PATH_MAX], gz[PATH_MAX + 4], fresh[PATH_MAX];
	int fd, ret = 0;

	snprintf(plain, sizeof(plain), "%s.%012" PRIu64, b->path, b->first_id);
	snprintf(gz, sizeof(gz), "%s.gz", plain);
	snprintf(fresh, sizeof(fresh), "%s.new", b->path);
	/* a gzip file of this number is what an older rotation stopped before
	 * replacing BASE left: BASE holds all of it and more */
	*step = "cannot remove the gzip file an interrupted rotation left";
	if (unlink(gz) && errno != ENOENT)
		return -errno;
	*step = "cannot create the empty file that replaces it";
	fd = auditlog_file_create(fresh, 0600);
	if (fd < 0)
		return fd;
	if (fcntl(fd, F_SETFL, O_APPEND))
		ret = -errno;
	*step = "cannot rename it";
	if (!ret && rename(b->path, plain))
		ret = -errno;
	if (ret) {
		close(fd);
		unlink(fresh);
		return ret;
	}
	/* BASE is missing until this rename: a writer that dies here leaves its
	 * records in the rotated file, and the next one starts a new BASE */
	if (rename(fresh, b->path)) {
		ret = -errno;
		*step = "cannot put an empty file in its place";
		close(fd);
		unlink(fresh);
		if (rename(plain, b->path) == 0)
			return ret;
		/* the rotated file stays: the next flush opens a new BASE */
		*new_fd = auditrotate_open_base(b->path, NULL);
		if (*new_fd < 0)
			return ret;
	} else {
		*new_fd = fd;
	}
	/* the rotation stands; a failed sync here is made good by the next head's */
	sync_dir(b);
	return 0;
}

int auditrotate(const struct auditrotate_base *b, int *new_fd, char *err, size_t errlen)
{
	struct auditlog_keep keep;
	const char *step;
	int ret = rotate(b, new_fd, &step);

	err[0] = '\0';
	if (ret) {
		snprintf(err, errlen, "cannot rotate the audit log %s: %s: %s", b->path, step,
			 strerror(-ret));
		return ret;
	}
	auditlog_keep_init(&keep);
	auditlog_prune_locked(b->path, &keep, auditlog_clock_ns(CLOCK_REALTIME), NULL, err, errlen);
	return 0;
}

/* ---- compression of rotated files ---- */

static bool is_gz(const char *path)
{
	size_t len = strlen(path);

	return len > 3 && !strcmp(path + len - 3, ".gz");
}

static void sync_dir_of(const char *base)
{
	char *dir = auditlog_dir_of(base);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* in (the rotated file plain, open) into a new gzip file at tmp, synced */
static int gzip_file(int in, const char *tmp)
{
	int fd = auditlog_file_create(tmp, 0600), err = 0;
	char *buf = malloc(COPY_CHUNK);
	gzFile gz = NULL;
	ssize_t n;

	if (fd < 0 || !buf) {
		err = fd < 0 ? fd : -ENOMEM;
		goto out;
	}
	/* the fastest level: the compressor shares the machine with the writer */
	gz = gzdopen(dup(fd), "wb1");
	if (!gz) {
		err = -ENOMEM;
		goto out;
	}
	while (!err && (n = read(in, buf, COPY_CHUNK)) != 0) {
		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0 && gzwrite(gz, buf, n) != n)
			err = -EIO;
	}
	if (gzclose(gz) != Z_OK && !err)
		err = -EIO; /* ENOSPC shows here too: zlib says only that writing failed */
	/* always synced: the rotated file is unlinked once this one has its name */
	if (!err && fsync(fd))
		err = -errno;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

/*
 * The rotated file plain into plain.gz: compressed to plain.gz.tmp and
 * synced, then under the lock (verify and prune see either file, never
 * neither) renamed into place before plain is unlinked. A crash anywhere
 * leaves plain whole; one after the rename leaves both, and readers take
 * plain. The file's own lock keeps two compressors (two writers of the
 * log) off one tmp name.
 */
static int compress_one(const char *base, const char *plain)
{
	char gz[PATH_MAX], tmp[PATH_MAX];
	int in, lock = -1, err;
	struct stat st, now;

	if (snprintf(gz, sizeof(gz), "%s.gz", plain) >= (int)sizeof(gz) ||
	    snprintf(tmp, sizeof(tmp), "%s.gz.tmp", plain) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	in = auditlog_file_open(plain, O_RDONLY | O_NONBLOCK, 0, NULL);
	if (in < 0)
		return in == -ENOENT ? 0 : in; /* another compressor finished it */
	if (flock(in, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? 0 : -errno;
		close(in);
		return err;
	}
	err = fstat(in, &st) ? -errno : gzip_file(in, tmp);
	if (!err) {
		lock = auditlog_lock(base, LOCK_EX, false);
		err = lock < 0 ? lock : 0;
	}
	/* still the file listed: not finished and unlinked by another meanwhile */
	if (!err && (lstat(plain, &now) || now.st_ino != st.st_ino || now.st_dev != st.st_dev))
		err = 1;
	if (!err && rename(tmp, gz))
		err = -errno;
	if (!err) {
		sync_dir_of(base);
		if (unlink(plain))
			err = -errno;
		sync_dir_of(base);
	}
	if (err)
		unlink(tmp);
	if (lock >= 0)
		close(lock);
	close(in);
	return err > 0 ? 0 : err;
}

int auditrotate_compress(const char *base, char *err, size_t errlen)
{
	char **files = auditread_files(base);
	int ret = 0, e;

	err[0] = '\0';
	if (!files) {
		snprintf(err, errlen, "cannot list the files of %s: %s", base, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; files[i]; i++) {
		if (!auditread_rotated_number(base, files[i]) || is_gz(files[i]))
			continue;
		e = compress_one(base, files[i]);
		if (e && !ret) {
			ret = e;
			snprintf(err, errlen, "cannot compress the rotated audit log file %s: %s",
				 files[i], strerror(-e));
		}
	}
	auditread_files_free(files);
	return ret;
}

/* ---- prune ---- */

/* whether file is a rotated file prune may read and replace: itself, not a link to another */
static int prune_check(const char *file, char *err, size_t errlen)
{
	const char *why;
	int fd = auditlog_file_open(file, O_RDONLY | O_NONBLOCK, 0, &why);

	if (fd < 0) {
		snprintf(err, errlen, "cannot prune %s: %s", file, why);
		return fd;
	}
	close(fd);
	return 0;
}

/* reading one rotated file through auditread */
static int open_one(struct auditread **r, const char *file, char *err, size_t errlen)
{
	char *files[2] = {(char *)file, NULL};

	return auditread_open_files(r, files, err, errlen);
}

/* a checkpoint's line in its file and its time: it dates the records before it */
struct cp_time {
	unsigned long line;
	int64_t ns;
};

/* the checkpoints of one file, in order */
struct cp_times {
	struct cp_time *at;
	size_t n, cap;
};

/*
 * Whether a checkpoint from cp_ns ends the retention of the records before
 * it, counted by class in open_since: *needed when it ends any of theirs.
 * false when it ends no class's at all.
 */
static bool prune_due(const struct auditlog_keep *k, size_t open_since[AUDITLOG_RETAIN_N],
		      int64_t cp_ns, int64_t now, bool *needed)
{
	bool any = false;

	for (int c = 0; c < AUDITLOG_RETAIN_N; c++) {
		any |= auditlog_retention_ended(k, c, cp_ns, now);
		*needed |= open_since[c] && auditlog_retention_ended(k, c, cp_ns, now);
	}
	memset(open_since, 0, AUDITLOG_RETAIN_N * sizeof(*open_since));
	return any;
}

/*
 * The checkpoint times of file, and whether any record of it would become
 * a stub: a record whose first checkpoint after it is past its class's
 * retention. One read serves both. Checkpoints are written in time order,
 * so until such a record shows up, the file is read only up to the first
 * checkpoint that no retention has passed.
 */
static int prune_plan(const char *file, const struct auditlog_keep *k, int64_t now,
		      struct cp_times *t, bool *needed, char *err, size_t errlen)
{
	size_t open_since[AUDITLOG_RETAIN_N] = {0}, len;
	struct auditread *r;
	struct auditlog_rec rec;
	const char *line, *f, *why;
	unsigned long lineno;
	bool whole;
	int ret = open_one(&r, file, err, errlen);

	*needed = false;
	while (!ret && (ret = auditread_next(r, &line, &len, &f, &lineno, &whole)) == 1) {
		ret = 0;
		if (!whole || auditlog_parse(line, len, &rec, &why))
			continue;
		if (strcmp(rec.kind, "checkpoint")) {
			if (!rec.stub)
				open_since[rec.retain]++;
			continue;
		}
		ret = auditlog_grow(&t->at, &t->cap, t->n, sizeof(*t->at), 64);
		if (!ret)
			t->at[t->n++] = (struct cp_time){lineno, rec.time_ns};
		/* later checkpoints are younger: nothing ends after this one */
		if (!ret && !*needed && !prune_due(k, open_since, rec.time_ns, now, needed))
			break;
	}
	auditread_close(r);
	if (ret < 0)
		snprintf(err, errlen, "cannot read %s: %s", file, strerror(-ret));
	return ret < 0 ? ret : 0;
}

/* line, or its stub when its retention ended, into gz */
static int prune_line(gzFile gz, const char *line, size_t len, bool whole, int64_t cp_ns,
		      const struct auditlog_keep *k, int64_t now, size_t *stubbed)
{
	struct auditlog_rec rec;
	const char *why;
	char sha[65], stub[256];
	int n;

	if (whole && !auditlog_parse(line, len, &rec, &why) && !rec.stub &&
	    auditlog_retention_ended(k, rec.retain, cp_ns, now) &&
	    !auditlog_sha256_hex(line, len, sha)) {
		n = auditlog_stub_line(stub, sizeof(stub) - 1, rec.id, rec.prev,
				       auditlog_retain_name(rec.retain), sha);
		if (n < 0)
			return n;
		stub[n++] = '\n';
		(*stubbed)++;
		return gzwrite(gz, stub, n) == n ? 0 : -EIO;
	}
	if (len && gzwrite(gz, line, len) != (int)len)
		return -EIO;
	return whole && gzputc(gz, '\n') != '\n' ? -EIO : 0;
}

/* Write file with its expired records stubbed to tmp. */
static int prune_copy(const char *file, const char *tmp, const struct cp_times *t,
		      const struct auditlog_keep *k, int64_t now, size_t *stubbed, char *err,
		      size_t errlen)
{
	struct auditread *r = NULL;
	const char *line, *f;
	unsigned long lineno;
	size_t len, cp = 0;
	bool whole;
	int fd = auditlog_file_create(tmp, 0600);
	gzFile gz = fd >= 0 ? gzdopen(dup(fd), "wb") : NULL;
	int ret = gz ? open_one(&r, file, err, errlen) : fd < 0 ? fd : -EIO;

	while (!ret && (ret = auditread_next(r, &line, &len, &f, &lineno, &whole)) == 1) {
		while (cp < t->n && t->at[cp].line <= lineno)
			cp++;
		ret = prune_line(gz, line, len, whole, cp < t->n ? t->at[cp].ns : 0, k, now,
				 stubbed);
	}
	auditread_close(r);
	if (gz && gzclose(gz) != Z_OK && !ret)
		ret = -EIO;
	if (!ret && fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret)
		snprintf(err, errlen, "cannot prune %s: %s", file, strerror(-ret));
	return ret;
}

static int prune_file(const char *file, const struct auditlog_keep *k, int64_t now, size_t *stubbed,
		      char *err, size_t errlen)
{
	struct cp_times t = {0};
	char tmp[PATH_MAX];
	bool needed;
	int ret = prune_check(file, err, errlen);

	if (!ret)
		ret = prune_plan(file, k, now, &t, &needed, err, errlen);
	if (ret || !needed) {
		free(t.at);
		return ret;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	ret = prune_copy(file, tmp, &t, k, now, stubbed, err, errlen);
	if (!ret && rename(tmp, file)) {
		ret = -errno;
		snprintf(err, errlen, "cannot replace %s: %s", file, strerror(errno));
	}
	if (ret)
		unlink(tmp);
	free(t.at);
	return ret;
}

/*
 * NEEDSWORK: every rotated file older than the shortest retention is read
 * through at each prune, pruned or not; a note of what each file still
 * holds would spare that.
 */
int auditlog_prune_locked(const char *base, const struct auditlog_keep *keep, int64_t now_ns,
			  size_t *stubbed, char *err, size_t errlen)
{
	char **files = auditread_files(base), *dir;
	size_t n = 0, count = 0;
	int ret = 0, fd;

	if (!files) {
		snprintf(err, errlen, "cannot list the files of %s: %s", base, strerror(errno));
		return -errno;
	}
	for (; files[n]; n++)
		/* a plain one is pruned once compressed, at a later prune */
		if (auditread_rotated_number(base, files[n]) && is_gz(files[n]) && !ret)
			ret = prune_file(files[n], keep, now_ns, &count, err, errlen);
	auditread_files_free(files);
	if (stubbed)
		*stubbed = count;
	/* the renames are durable once the directory is */
	dir = auditlog_dir_of(base);
	fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
	return ret;
}

static void prune_usage(FILE *f)
{
	fprintf(f, "usage: pinfold audit prune [--log BASE] [--keep CLASS=DAYS]...\n"
		   "  In rotated files, replace each record whose retention ended by a stub.\n"
		   "  CLASS: phi, routine, decision or lifecycle; DAYS: a number or forever\n");
}

int auditlog_prune_main(int argc, char **argv)
{
	const char *base = AUDITLOG_DEFAULT_PATH;
	struct auditlog_keep keep;
	char err[512];
	size_t stubbed = 0;
	int lock, ret;

	auditlog_keep_init(&keep);
	ret = auditlog_log_opts(argc, argv, &base, NULL, NULL, 0, &keep, prune_usage);
	if (ret)
		return ret < 0 ? EXIT_SUCCESS : ret;
	lock = auditlog_lock(base, LOCK_EX, true);
	if (lock < 0) {
		fprintf(stderr, "pinfold: cannot lock %s.lock: %s\n", base, strerror(-lock));
		return EXIT_FAILURE;
	}
	ret = auditlog_prune_locked(base, &keep, auditlog_clock_ns(CLOCK_REALTIME), &stubbed, err,
				    sizeof(err));
	close(lock);
	if (ret) {
		fprintf(stderr, "pinfold: %s\n", err);
		return EXIT_FAILURE;
	}
	printf("%s: %zu record%s pruned\n", base, stubbed, stubbed == 1 ? "" : "s");
	return EXIT_SUCCESS;
}
