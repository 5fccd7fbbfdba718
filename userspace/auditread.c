// SPDX-License-Identifier: GPL-2.0-only
/*
 * auditread.c - an audit log's files, plain and gzip'd, read line by line.
 *
 * Lines are split here rather than with gzgets or getline: a line may hold
 * a NUL (a damaged file), may be cut by the end of its file (a writer that
 * died mid-record), and may be followed while it grows (tail -f), and the
 * reader must say which of these it saw. gzread reads the rotated files: a
 * file named .gz that is not gzip, or whose stream is corrupt or ends
 * early, is an error, never text.
 */
#define _GNU_SOURCE /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "auditread.h"

enum {
	FIRST_BUF = 64 << 10, /* most records are far shorter */
	ROTATED_MIN_DIGITS = 12,
	ROTATED_MAX_DIGITS = 20, /* the most a 64-bit id needs */
};

struct auditread {
	char **files;
	size_t n_files;
	size_t cur; /* index of the file open, or to open next */
	bool open;
	int fd;    /* the file's descriptor; owned by gz when gz is set */
	gzFile gz; /* NULL for a plain file */
	char *buf;
	size_t cap, start, end; /* buf[start, end) is read but not handed out */
	unsigned long lineno;
	bool skipping; /* inside a line longer than AUDITREAD_MAX_LINE */
	bool follow;
};

/* ---- the files of a log ---- */

unsigned long long auditread_rotated_number(const char *base, const char *name)
{
	size_t blen = strlen(base), digits;
	unsigned long long n = 0;
	const char *p;

	if (strncmp(name, base, blen) || name[blen] != '.')
		return 0;
	p = name + blen + 1;
	digits = strspn(p, "0123456789");
	/* plain: rotated, not yet compressed (auditrotate_compress) */
	if (digits < ROTATED_MIN_DIGITS || digits > ROTATED_MAX_DIGITS ||
	    (p[digits] && strcmp(p + digits, ".gz")))
		return 0;
	for (; digits; digits--, p++) {
		if (n > (UINT64_MAX - (unsigned)(*p - '0')) / 10)
			return 0;
		n = n * 10 + (unsigned)(*p - '0');
	}
	return n;
}

struct rotated {
	unsigned long long number;
	char *path;
};

/* by number; of a plain file and its gzip copy, the plain one first */
static int rotated_cmp(const void *a, const void *b)
{
	const struct rotated *x = a, *y = b;

	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return strlen(x->path) < strlen(y->path) ? -1 : strlen(x->path) > strlen(y->path);
}

void auditread_files_free(char **files)
{
	size_t i;

	if (!files)
		return;
	for (i = 0; files[i]; i++)
		free(files[i]);
	free(files);
}

/* base's rotated files into *out (unsorted), their count in *n; 0 or -errno */
static int list_rotated(const char *base, struct rotated **out, size_t *n)
{
	const char *slash = strrchr(base, '/'), *name = slash ? slash + 1 : base;
	size_t dirlen = slash ? (size_t)(slash - base) + 1 : 0, cap = 0;
	struct rotated *list = NULL, *grown;
	unsigned long long number;
	char dir[4096];
	struct dirent *d;
	int err = 0;
	DIR *dh;

	*n = 0;
	if (dirlen >= sizeof(dir))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%.*s", (int)dirlen, base);
	dh = opendir(dirlen ? dir : ".");
	if (!dh)
		return -errno;
	while (!err && (d = readdir(dh))) {
		number = auditread_rotated_number(name, d->d_name);
		if (!number)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			list = grown;
		}
		list[*n].number = number;
		if (asprintf(&list[*n].path, "%s%s", dir, d->d_name) < 0)
			err = -ENOMEM;
		else
			(*n)++;
	}
	closedir(dh);
	*out = list;
	return err;
}

char **auditread_files(const char *base)
{
	struct rotated *rot = NULL;
	char **files = NULL;
	size_t n = 0, i, k = 0;
	struct stat st;
	int err;

	err = list_rotated(base, &rot, &n);
	if (!err) {
		if (n)
			qsort(rot, n, sizeof(*rot), rotated_cmp);
		files = calloc(n + 2, sizeof(*files));
		if (!files)
			err = -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		/*
		 * Both: a compressor died between renaming the gzip copy into
		 * place and unlinking the plain file, which is whole for sure
		 */
		if (files && !(i && rot[i - 1].number == rot[i].number))
			files[k++] = rot[i].path;
		else
			free(rot[i].path);
	}
	free(rot);
	if (!err && stat(base, &st) == 0) {
		files[k] = strdup(base);
		if (!files[k])
			err = -ENOMEM;
	}
	if (err) {
		auditread_files_free(files);
		errno = -err;
		return NULL;
	}
	return files;
}

/* ---- reading ---- */

static bool is_gz_name(const char *path)
{
	size_t len = strlen(path);

	return len > 3 && strcmp(path + len - 3, ".gz") == 0;
}

static void close_file(struct auditread *r)
{
	if (!r->open)
		return;
	if (r->gz)
		gzclose_r(r->gz); /* closes fd too */
	else
		close(r->fd);
	r->gz = NULL;
	r->fd = -1;
	r->open = false;
	r->start = r->end = 0;
	r->skipping = false;
}

/* Open files[cur]; 0 or -errno. */
static int open_file(struct auditread *r)
{
	const char *path = r->files[r->cur];
	char *gz;

	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	/* a plain rotated file compressed since it was listed: its gzip copy */
	if (r->fd < 0 && errno == ENOENT && !is_gz_name(path) && asprintf(&gz, "%s.gz", path) > 0) {
		r->fd = open(gz, O_RDONLY | O_CLOEXEC);
		if (r->fd >= 0) {
			free(r->files[r->cur]);
			r->files[r->cur] = gz;
			path = gz;
		} else {
			free(gz);
			errno = ENOENT;
		}
	}
	if (r->fd < 0)
		return -errno;
	if (is_gz_name(path)) {
		r->gz = gzdopen(r->fd, "rb");
		if (!r->gz) {
			close(r->fd);
			r->fd = -1;
			return -ENOMEM;
		}
		gzbuffer(r->gz, 128 << 10);
	}
	r->open = true;
	r->lineno = 0;
	r->start = r->end = 0;
	r->skipping = false;
	return 0;
}

/* What went wrong in gz as -errno: -EBADMSG for anything in the data. */
static int gz_err(gzFile gz, int err_if_ok)
{
	int zerr;

	gzerror(gz, &zerr);
	if (zerr == Z_ERRNO)
		return errno ? -errno : -EIO;
	if (zerr == Z_MEM_ERROR)
		return -ENOMEM;
	if (zerr != Z_OK)
		return -EBADMSG; /* Z_DATA_ERROR, or Z_BUF_ERROR: the stream ended early */
	return err_if_ok;
}

/* Read up to room bytes into p: the count, 0 at the end, or -errno. */
static ssize_t read_some(struct auditread *r, char *p, size_t room)
{
	unsigned want = room > (1u << 30) ? 1u << 30 : (unsigned)room;
	ssize_t n;
	int got;

	if (!r->gz) {
		do
			n = read(r->fd, p, room);
		while (n < 0 && errno == EINTR);
		return n < 0 ? -errno : n;
	}
	got = gzread(r->gz, p, want);
	if (got < 0)
		return gz_err(r->gz, -EIO);
	/* without a gzip header zlib passes bytes through: not for a .gz */
	if (gzdirect(r->gz))
		return -EBADMSG;
	/* a stream that ends early gives what it holds first, then the error */
	if (got == 0)
		return gz_err(r->gz, 0);
	return got;
}

/*
 * Make room after buf[end) (moving the unread part to the front, growing
 * the buffer) and read into it: the count, 0 at the end, or -errno.
 */
static ssize_t fill(struct auditread *r)
{
	size_t want;
	char *grown;
	ssize_t n;

	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	/* one byte stays free for the NUL ending a line */
	if (r->cap - r->end < 2) {
		want = r->cap ? 2 * r->cap : FIRST_BUF;
		if (want > (size_t)AUDITREAD_MAX_LINE + 2)
			want = (size_t)AUDITREAD_MAX_LINE + 2;
		grown = realloc(r->buf, want);
		if (!grown)
			return -ENOMEM;
		r->buf = grown;
		r->cap = want;
	}
	n = read_some(r, r->buf + r->end, r->cap - r->end - 1);
	if (n > 0)
		r->end += (size_t)n;
	return n;
}

/* Hand out buf[start, start + len) as a line ending at the NUL put there. */
static void hand_out(struct auditread *r, size_t len, bool whole, const char **line, size_t *lenp,
		     bool *wholep)
{
	*line = r->buf + r->start;
	r->buf[r->start + len] = '\0';
	*lenp = len;
	*wholep = whole;
	r->start += len + (whole ? 1 : 0);
	r->lineno++;
}

/*
 * Over the end of an over-long line: true when its end was found in the
 * buffer (the rest of it is discarded), false when more must be read.
 */
static bool skip_long(struct auditread *r)
{
	char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);

	if (!nl) {
		r->start = r->end = 0;
		return false;
	}
	r->start = (size_t)(nl - r->buf) + 1;
	r->skipping = false;
	return true;
}

int auditread_next(struct auditread *r, const char **line, size_t *len, const char **file,
		   unsigned long *lineno, bool *whole)
{
	ssize_t n;
	char *nl;
	int err;

	for (;;) {
		if (!r->open) {
			if (r->cur >= r->n_files)
				return 0;
			*file = r->files[r->cur];
			*lineno = 0;
			err = open_file(r);
			if (err) {
				r->cur++;
				return err;
			}
		}
		*file = r->files[r->cur];
		if (!r->skipping || skip_long(r)) {
			nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start)
					       : NULL;
			if (nl) {
				hand_out(r, (size_t)(nl - r->buf) - r->start, true, line, len,
					 whole);
				*lineno = r->lineno;
				return 1;
			}
			if (r->end - r->start >= AUDITREAD_MAX_LINE) {
				r->skipping = true;
				r->start = r->end = 0;
				*lineno = ++r->lineno;
				return -EMSGSIZE;
			}
		}
		n = fill(r);
		if (n > 0)
			continue;
		if (n < 0) {
			*lineno = r->lineno;
			close_file(r);
			r->cur++;
			return (int)n;
		}
		/* the end of this file, for now when it is followed */
		if (r->follow && !r->gz && r->cur + 1 == r->n_files)
			return 0;
		if (r->end > r->start && !r->skipping) {
			hand_out(r, r->end - r->start, false, line, len, whole);
			*lineno = r->lineno;
			return 1;
		}
		close_file(r);
		r->cur++;
	}
}

int auditread_open_files(struct auditread **rp, char *const *files, char *err, size_t errlen)
{
	struct auditread *r;
	size_t n = 0, i;

	*rp = NULL;
	while (files[n])
		n++;
	r = calloc(1, sizeof(*r));
	if (r)
		r->files = calloc(n + 1, sizeof(*r->files));
	for (i = 0; r && r->files && i < n; i++) {
		r->files[i] = strdup(files[i]);
		if (!r->files[i])
			break;
	}
	if (!r || !r->files || i < n) {
		if (r)
			auditread_files_free(r->files);
		free(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->n_files = n;
	r->fd = -1;
	*rp = r;
	return 0;
}

int auditread_open(struct auditread **r, const char *base, char *err, size_t errlen)
{
	char **files = auditread_files(base);
	int ret;

	*r = NULL;
	if (!files) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot list the log's files: %s", base, strerror(errno));
		return ret;
	}
	if (!files[0]) {
		auditread_files_free(files);
		snprintf(err, errlen, "%s: no such log (neither the file nor rotated files exist)",
			 base);
		return -ENOENT;
	}
	ret = auditread_open_files(r, files, err, errlen);
	auditread_files_free(files);
	return ret;
}

void auditread_set_follow(struct auditread *r, bool follow)
{
	r->follow = follow;
}

int auditread_stat(const struct auditread *r, struct stat *st)
{
	if (!r->open)
		return -ENOENT;
	return fstat(r->fd, st) ? -errno : 0;
}

void auditread_close(struct auditread *r)
{
	if (!r)
		return;
	close_file(r);
	auditread_files_free(r->files);
	free(r->buf);
	free(r);
}
