// SPDX-License-Identifier: GPL-2.0-only
/*
 * auditlog.c - the chained audit log writer (schema 3): see auditlog.h and
 * docs/audit.md.
 *
 * Every writer of a log takes BASE.lock for each flush, and continues the
 * chain from the log's last record as the files show it then, so that any
 * number of `pinfold run` share one chain. Each writer keeps (dev, ino,
 * size) of BASE after its own write: when they still hold at its next
 * flush, nobody else wrote, and the chain state it holds is current.
 *
 * A writer that must read the log's end (at open, or after another wrote)
 * signs only what the signed head proves: when the end is not the one the
 * head names, it first writes a chain-break record saying what it found,
 * which verify reports for good, so that its own signatures never bless
 * records nobody signed. Rotation and the reading of BASE's ends are
 * auditrotate.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "auditlog.h"
#include "auditread.h"
#include "auditrotate.h"

#define FORMATTER_PREFIX "{\"schema\":3,\"kind\":"
#define SPLICE_AT 12 /* strlen("{\"schema\":3,"): where id, prev and retain go */
#define MAX_LINE (AUDITREAD_MAX_LINE - 512)
#define CHUNK_RECORDS 256
#define NSEC 1000000000LL
#define ROTATE_RETRY_NS (300 * NSEC) /* after a failed rotation: it copies all of BASE */

struct qrec {
	char *line;
	size_t len;
	enum auditlog_retain retain;
};

enum line_kind {
	LINE_QUEUED,     /* a record the caller queued */
	LINE_CHECKPOINT, /* the writer's checkpoint */
	LINE_BREAK,      /* the writer's chain-break */
};

/* one line of a batch being written */
struct bline {
	size_t end; /* offset after its '\n' in the batch buffer */
	uint64_t id;
	char link[65];
	enum line_kind kind;
};

struct batch {
	char *buf;
	size_t len, cap;
	struct bline *lines;
	size_t n, lines_cap;
	uint64_t last_id; /* the chain as the batch leaves it */
	char last_link[65];
	unsigned since_cp;
};

struct auditlog {
	char *path, *head_path, *key_path;
	int fd, lock_fd, dir_fd;
	enum auditlog_sync sync;
	long long rotate_bytes, rotate_seconds;
	unsigned cp_every, cp_seconds;
	size_t max_pending;
	EVP_PKEY *key;
	char key_id[17];
	pid_t pid;

	struct qrec *q;
	size_t q_head, q_n, q_cap, q_bytes;

	/* the log's end as this writer last saw it under the lock */
	bool known;
	uint64_t last_id;
	char last_link[65];
	dev_t dev;
	ino_t ino;
	off_t size;
	bool first_known; /* BASE's first record, for rotation */
	uint64_t first_id;
	int64_t first_ns;

	struct auditrotate_break brk; /* due: a chain-break goes before anything else */

	uint64_t my_last_id;
	unsigned since_cp;    /* records written since this writer's last checkpoint */
	int64_t last_cp_mono; /* ns, CLOCK_MONOTONIC */
	bool closing;
	bool rotate_now;      /* an interrupted rotation to finish */
	int64_t rotate_retry; /* ns, CLOCK_MONOTONIC: no rotation before, after one failed */
	bool rotate_said, prune_said; /* a failure of each is said once */

	/* the compressor: a thread that gzips rotated files (auditrotate_compress) */
	pthread_t zt;
	pthread_mutex_t zmu;
	pthread_cond_t zcv;
	bool z_started, z_due, z_busy, z_stop, z_said;
};

/* ---- the queue ---- */

static void queue_drop(struct auditlog *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct qrec *q = &l->q[l->q_head + i];

		l->q_bytes -= q->len;
		free(q->line);
	}
	l->q_head += n;
	if (l->q_head == l->q_n)
		l->q_head = l->q_n = 0;
}

/* Queue line, copied unless take (then it is the queue's, or freed on failure). */
static int add(struct auditlog *l, const char *retain, char *line, bool take)
{
	int r = auditlog_retain_of_name(retain), err = -EINVAL;
	size_t len = 0;
	char *copy;

	if (r < 0 || r == AUDITLOG_RETAIN_CHECKPOINT || !line ||
	    strncmp(line, FORMATTER_PREFIX, strlen(FORMATTER_PREFIX)))
		goto fail;
	len = strlen(line);
	if (len > MAX_LINE || memchr(line, '\n', len))
		goto fail;
	err = -ENOBUFS;
	if (l->q_bytes + len > l->max_pending)
		goto fail;
	if (l->q_n == l->q_cap && l->q_head) {
		memmove(l->q, l->q + l->q_head, (l->q_n - l->q_head) * sizeof(*l->q));
		l->q_n -= l->q_head;
		l->q_head = 0;
	}
	if (auditlog_grow(&l->q, &l->q_cap, l->q_n, sizeof(*l->q), 256))
		goto fail;
	copy = take ? line : strdup(line);
	if (!copy)
		goto fail;
	l->q[l->q_n].line = copy;
	l->q[l->q_n].len = len;
	l->q[l->q_n].retain = r;
	l->q_n++;
	l->q_bytes += len;
	return 0;

fail:
	if (take)
		free(line);
	return err;
}

int auditlog_add(struct auditlog *l, const char *retain, const char *line)
{
	return add(l, retain, (char *)line, false);
}

int auditlog_take(struct auditlog *l, const char *retain, char *line)
{
	return add(l, retain, line, true);
}

size_t auditlog_pending(const struct auditlog *l)
{
	return l->q_n - l->q_head;
}

const char *auditlog_pending_line(const struct auditlog *l, size_t i)
{
	return i < auditlog_pending(l) ? l->q[l->q_head + i].line : NULL;
}

uint64_t auditlog_last_id(const struct auditlog *l)
{
	return l->my_last_id;
}

/* ---- the log's end, and what the head proves of it ---- */

/* Under the lock: learn the log's last record, unless this writer wrote it. */
static int sync_with_log(struct auditlog *l)
{
	struct auditlog_rec rec;
	struct stat st;
	off_t size;
	bool found;
	int err;

	if (lstat(l->path, &st) || st.st_dev != l->dev || st.st_ino != l->ino) {
		/* rotated (or removed) by another writer: our descriptor is stale */
		int fd = auditrotate_open_base(l->path, NULL);

		if (fd < 0)
			return fd;
		close(l->fd);
		l->fd = fd;
		l->known = l->first_known = false;
	}
	if (fstat(l->fd, &st))
		return -errno;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	if (l->known && st.st_size == l->size)
		return 0;

	size = st.st_size;
	err = auditrotate_last_of_base(l->fd, &size, &rec, &found);
	if (!err && !found) {
		l->first_known = false;
		err = auditrotate_last_of_rotated(l->path, &rec, &found);
	}
	if (err)
		return err;
	l->size = size;
	l->last_id = found ? rec.id : 0;
	memcpy(l->last_link, found ? rec.link : AUDITLOG_ZERO_LINK, 65);
	auditrotate_tail_check(l->path, l->key_path, l->key, l->key_id, &l->last_id, l->last_link,
			       &l->brk);
	l->known = true;
	return 0;
}

/* BASE's first record: the name of its rotated file, and its age. */
static int learn_first(struct auditlog *l)
{
	struct auditlog_rec rec;
	int err;

	if (l->first_known)
		return 0;
	err = auditrotate_first_of_base(l->fd, l->size, &rec);
	if (err)
		return err;
	l->first_id = rec.id;
	l->first_ns = rec.time_ns;
	l->first_known = true;
	return 0;
}

/* ---- writing ---- */

static int batch_room(struct batch *b, size_t more)
{
	if (b->len + more > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		char *p;

		while (cap < b->len + more)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	return auditlog_grow(&b->lines, &b->lines_cap, b->n, sizeof(*b->lines), CHUNK_RECORDS + 8);
}

/* the link of a line as this batch writes it */
static int line_link(uint64_t id, enum auditlog_retain r, const char *line, size_t len,
		     char out[65])
{
	char sha[65];
	int err = auditlog_sha256_hex(line, len, sha);

	return err ? err : auditlog_link(id, auditlog_retain_name(r), sha, out);
}

/* Append a formatter's line, with id, prev and retain spliced in, to the batch. */
static int batch_add(struct batch *b, enum auditlog_retain r, const char *line, size_t len,
		     enum line_kind kind)
{
	char prefix[160];
	struct bline *bl;
	size_t start;
	int n, err;

	n = auditlog_rec_prefix(prefix, sizeof(prefix), b->last_id + 1, b->last_link,
				auditlog_retain_name(r));
	err = n < 0 ? n : batch_room(b, n + len - SPLICE_AT + 1);
	if (err)
		return err;
	start = b->len;
	memcpy(b->buf + b->len, prefix, n);
	memcpy(b->buf + b->len + n, line + SPLICE_AT, len - SPLICE_AT);
	b->len += n + len - SPLICE_AT;
	bl = &b->lines[b->n];
	bl->id = b->last_id + 1;
	bl->kind = kind;
	err = line_link(bl->id, r, b->buf + start, b->len - start, bl->link);
	if (err) {
		b->len = start;
		return err;
	}
	b->buf[b->len++] = '\n';
	bl->end = b->len;
	b->n++;
	b->last_id = bl->id;
	memcpy(b->last_link, bl->link, 65);
	b->since_cp = kind != LINE_CHECKPOINT ? b->since_cp + 1 : 0;
	return 0;
}

/*
 * The time now, and the signature over what a checkpoint (id, time and its
 * prev, link) or a head (id, link, time) signs at that time.
 */
static int sign_now(struct auditlog *l, bool head, uint64_t id, const char *link, char time[40],
		    char sig[129])
{
	char msg[256];
	int n = audit_format_time(auditlog_clock_ns(CLOCK_REALTIME), time, 40);

	if (!n)
		n = head ? auditlog_head_bytes(msg, sizeof(msg), id, link, time)
			 : auditlog_checkpoint_bytes(msg, sizeof(msg), id, time, link);
	return n < 0 ? n : auditlog_sign(l->key, msg, n, sig);
}

/* A checkpoint signing the chain up to the batch's last line. */
static int batch_checkpoint(struct auditlog *l, struct batch *b, const char *why)
{
	char time[40], sig[129], line[512];
	int n, err = sign_now(l, false, b->last_id + 1, b->last_link, time, sig);

	if (err)
		return err;
	n = snprintf(line, sizeof(line),
		     FORMATTER_PREFIX "\"checkpoint\",\"time\":\"%s\",\"writer_pid\":%d,"
				      "\"why\":\"%s\",\"key\":\"%s\",\"signature\":\"%s\"}",
		     time, (int)l->pid, why, l->key_id, sig);
	return batch_add(b, AUDITLOG_RETAIN_CHECKPOINT, line, n, LINE_CHECKPOINT);
}

/* The chain-break record due: what the writer found at the log's end (docs/audit.md). */
static int batch_break(struct auditlog *l, struct batch *b)
{
	char time[40], line[512];
	int n;

	if (audit_format_time(auditlog_clock_ns(CLOCK_REALTIME), time, sizeof(time)))
		return -EINVAL;
	n = snprintf(line, sizeof(line),
		     FORMATTER_PREFIX "\"chain-break\",\"time\":\"%s\",\"writer_pid\":%d,"
				      "\"found\":\"%s\",\"head_id\":%" PRIu64
				      ",\"log_last_id\":%" PRIu64 ",\"detail\":\"%s\"}",
		     time, (int)l->pid, l->brk.found, l->brk.head_id, l->brk.log_last_id,
		     l->brk.detail);
	return batch_add(b, AUDITLOG_RETAIN_LIFECYCLE, line, n, LINE_BREAK);
}

/* An empty batch continuing the chain; a chain-break due comes first in it. */
static int batch_start(struct auditlog *l, struct batch *b)
{
	b->len = b->n = 0;
	b->last_id = l->last_id;
	memcpy(b->last_link, l->last_link, 65);
	b->since_cp = l->since_cp;
	return l->brk.due ? batch_break(l, b) : 0;
}

/* Up to CHUNK_RECORDS queued records, each count-th followed by a checkpoint. */
static int batch_fill(struct auditlog *l, struct batch *b)
{
	size_t n = auditlog_pending(l) < CHUNK_RECORDS ? auditlog_pending(l) : CHUNK_RECORDS;
	int err = batch_start(l, b);

	for (size_t i = 0; i < n && !err; i++) {
		struct qrec *q = &l->q[l->q_head + i];

		err = batch_add(b, q->retain, q->line, q->len, LINE_QUEUED);
		if (!err && b->since_cp >= l->cp_every)
			err = batch_checkpoint(l, b, "count");
	}
	return err;
}

/*
 * Write the first lines of b that land whole, per the sync policy: one
 * write for the batch, or a write and an fdatasync per line (always).
 * After a failure the file is cut back to its last whole line: a record
 * half written would break the line of whatever comes next.
 */
static int batch_write(struct auditlog *l, const struct batch *b, size_t *landed)
{
	size_t done = 0, whole = 0, stop;
	int err = 0;

	*landed = 0;
	while (done < b->len && !err) {
		stop = l->sync == AUDITLOG_SYNC_ALWAYS ? b->lines[*landed].end : b->len;
		ssize_t n = write(l->fd, b->buf + done, stop - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		done += n;
		while (*landed < b->n && b->lines[*landed].end <= done)
			whole = b->lines[(*landed)++].end;
		if (done == stop && l->sync == AUDITLOG_SYNC_ALWAYS && fdatasync(l->fd))
			err = -errno;
	}
	if (done != whole && ftruncate(l->fd, l->size + whole))
		l->known = false; /* the next flush reads the end again */
	l->size += whole;
	return err;
}

/* A chain-break landed: said once, on stderr, where its writer's operator looks. */
static void break_landed(struct auditlog *l, uint64_t id)
{
	l->brk.due = false;
	fprintf(stderr,
		"pinfold: audit log %s: %s: wrote chain-break record %" PRIu64
		", which verify reports\n",
		l->path, l->brk.detail, id);
}

/* The chain moves on by the first landed lines of b; their records leave the queue. */
static void batch_commit(struct auditlog *l, const struct batch *b, size_t landed)
{
	size_t queued = 0;

	for (size_t i = 0; i < landed; i++) {
		if (b->lines[i].kind == LINE_CHECKPOINT) {
			l->since_cp = 0;
			l->last_cp_mono = auditlog_clock_ns(CLOCK_MONOTONIC);
			continue;
		}
		l->since_cp++;
		if (b->lines[i].kind == LINE_QUEUED)
			queued++;
		else
			break_landed(l, b->lines[i].id);
	}
	if (!landed)
		return;
	if (!l->first_known && l->size == (off_t)b->lines[landed - 1].end) {
		l->first_id = b->lines[0].id;
		l->first_ns = auditlog_clock_ns(CLOCK_REALTIME);
		l->first_known = true;
	}
	l->last_id = l->my_last_id = b->lines[landed - 1].id;
	memcpy(l->last_link, b->lines[landed - 1].link, 65);
	queue_drop(l, queued);
}

static int batch_write_commit(struct auditlog *l, struct batch *b)
{
	size_t landed;
	int err = batch_write(l, b, &landed);

	batch_commit(l, b, landed);
	return err;
}

static int sync_dir(struct auditlog *l)
{
	return l->sync != AUDITLOG_SYNC_NONE && fsync(l->dir_fd) ? -errno : 0;
}

/* BASE.head names the log's last record, signed; replaced whole by rename. */
static int write_head(struct auditlog *l)
{
	char time[40], sig[129], line[512], tmp[PATH_MAX];
	int n, fd, err = sign_now(l, true, l->last_id, l->last_link, time, sig);

	if (err)
		return err;
	n = snprintf(line, sizeof(line),
		     "{\"schema\":3,\"kind\":\"head\",\"id\":%" PRIu64 ",\"link\":\"%s\","
		     "\"time\":\"%s\",\"key\":\"%s\",\"signature\":\"%s\"}\n",
		     l->last_id, l->last_link, time, l->key_id, sig);
	snprintf(tmp, sizeof(tmp), "%s.tmp", l->head_path);
	fd = auditlog_file_create(tmp, 0600);
	if (fd < 0)
		return fd;
	errno = EIO; /* what a short write, which sets none, means */
	if (write(fd, line, n) != n || (l->sync != AUDITLOG_SYNC_NONE && fsync(fd)))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, l->head_path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err ? err : sync_dir(l);
}

/* ---- compression of rotated files, away from the ring ---- */

/*
 * Compression of a rotated file (64 MiB by default) takes a fraction of a
 * second: longer than the ring lasts at a high event rate. Rotation only
 * renames, and this thread compresses meanwhile. A crash leaves the file
 * plain, which readers and verify accept, and the next writer compresses.
 */
static void *compressor(void *arg)
{
	struct auditlog *l = arg;
	char err[PATH_MAX + 256];

	pthread_mutex_lock(&l->zmu);
	for (;;) {
		while (!l->z_due && !l->z_stop)
			pthread_cond_wait(&l->zcv, &l->zmu);
		if (!l->z_due)
			break;
		l->z_due = false;
		l->z_busy = true;
		pthread_mutex_unlock(&l->zmu);
		if (auditrotate_compress(l->path, err, sizeof(err)) && !l->z_said) {
			fprintf(stderr, "pinfold: %s (tried again after each rotation)\n", err);
			l->z_said = true;
		}
		pthread_mutex_lock(&l->zmu);
		l->z_busy = false;
		pthread_cond_broadcast(&l->zcv);
	}
	pthread_mutex_unlock(&l->zmu);
	return NULL;
}

/* Have the compressor look for plain rotated files; started on first use. */
static void compress_kick(struct auditlog *l)
{
	char err[PATH_MAX + 256];

	if (!l->z_started) {
		sigset_t all, old;
		int e;

		/* signals stay the main thread's: their handlers interrupt its wait for the ring */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		e = pthread_create(&l->zt, NULL, compressor, l);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		/* no thread: compress here, late rather than never */
		if (e) {
			auditrotate_compress(l->path, err, sizeof(err));
			return;
		}
		l->z_started = true;
	}
	pthread_mutex_lock(&l->zmu);
	l->z_due = true;
	pthread_cond_broadcast(&l->zcv);
	pthread_mutex_unlock(&l->zmu);
}

void auditlog_compress_wait(struct auditlog *l)
{
	if (!l->z_started)
		return;
	pthread_mutex_lock(&l->zmu);
	while (l->z_due || l->z_busy)
		pthread_cond_wait(&l->zcv, &l->zmu);
	pthread_mutex_unlock(&l->zmu);
}

/* the compressor finishes what is due, and ends */
static void compress_stop(struct auditlog *l)
{
	if (!l->z_started)
		return;
	pthread_mutex_lock(&l->zmu);
	l->z_stop = true;
	pthread_cond_broadcast(&l->zcv);
	pthread_mutex_unlock(&l->zmu);
	pthread_join(l->zt, NULL);
	l->z_started = false;
}

/* whether base has a rotated file still plain: a writer died before compressing it */
static bool plain_rotated(const char *base)
{
	char **files = auditread_files(base);
	bool any = false;
	size_t len;

	for (size_t i = 0; files && files[i] && !any; i++) {
		len = strlen(files[i]);
		any = auditread_rotated_number(base, files[i]) &&
		      (len < 3 || strcmp(files[i] + len - 3, ".gz"));
	}
	auditread_files_free(files);
	return any;
}

/* ---- rotation ---- */

static bool rotation_due(struct auditlog *l)
{
	if (l->size == 0 || auditlog_clock_ns(CLOCK_MONOTONIC) < l->rotate_retry)
		return false;
	if (l->rotate_now || (l->rotate_bytes > 0 && l->size >= l->rotate_bytes))
		return true;
	if (l->rotate_seconds <= 0 || learn_first(l) || !l->first_ns)
		return false;
	return auditlog_clock_ns(CLOCK_REALTIME) - l->first_ns >= l->rotate_seconds * NSEC;
}

/*
 * BASE becomes BASE.<first id> (auditrotate), which the compressor gzips
 * into BASE.<first id>.gz. The records landed
 * whatever happens here: a rotation that fails leaves the log as it was,
 * is said once, and is tried again ROTATE_RETRY_NS later.
 */
static void rotate(struct auditlog *l)
{
	struct auditrotate_base b = {.path = l->path,
				     .fd = l->fd,
				     .size = l->size,
				     .dir_fd = l->dir_fd,
				     .sync = l->sync != AUDITLOG_SYNC_NONE};
	char err[PATH_MAX + 256];
	struct stat st;
	int fd, ret = learn_first(l);

	b.first_id = l->first_id;
	if (ret)
		snprintf(err, sizeof(err), "cannot rotate the audit log %s: its first record: %s",
			 l->path, strerror(-ret));
	else
		ret = auditrotate(&b, &fd, err, sizeof(err));
	if (ret) {
		l->rotate_retry = auditlog_clock_ns(CLOCK_MONOTONIC) + ROTATE_RETRY_NS;
		if (!l->rotate_said)
			fprintf(stderr,
				"pinfold: %s; it grows until a rotation works (tried every "
				"5 minutes)\n",
				err);
		l->rotate_said = true;
		return;
	}
	close(l->fd);
	l->fd = fd;
	/* the next flush reads the new BASE's end again when this fails */
	if (!fstat(fd, &st)) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	l->size = 0;
	l->first_known = l->rotate_now = false;
	compress_kick(l);
	if (err[0] && !l->prune_said)
		fprintf(stderr, "pinfold: %s (tried again after each rotation)\n", err);
	l->prune_said |= err[0] != '\0';
}

/* ---- flush ---- */

static bool interval_due(const struct auditlog *l)
{
	return l->since_cp > 0 && auditlog_clock_ns(CLOCK_MONOTONIC) - l->last_cp_mono >=
					  (int64_t)l->cp_seconds * NSEC;
}

/* Everything queued, in chunks; then the checkpoint due, if any. */
static int write_all(struct auditlog *l, struct batch *b, bool *rotate)
{
	const char *why = NULL;
	int err = 0;

	while (auditlog_pending(l) && !err) {
		err = batch_fill(l, b);
		if (!err)
			err = batch_write_commit(l, b);
	}
	if (err)
		return err;
	*rotate = rotation_due(l);
	if (*rotate)
		why = "rotate";
	else if (l->closing && l->since_cp > 0)
		why = "close";
	else if (interval_due(l))
		why = "interval";
	if (!why)
		return 0;
	err = batch_start(l, b);
	if (!err)
		err = batch_checkpoint(l, b, why);
	return err ? err : batch_write_commit(l, b);
}

static int flush_locked(struct auditlog *l)
{
	uint64_t before = l->last_id;
	struct batch b = {0};
	bool due = false;
	int err = sync_with_log(l);

	if (!err)
		err = write_all(l, &b, &due);
	if (l->last_id != before) {
		/* records that landed before a failure are synced and signed too */
		int e = l->sync == AUDITLOG_SYNC_BATCH && fdatasync(l->fd) ? -errno : 0;

		if (!e)
			e = write_head(l);
		if (!err)
			err = e;
	}
	if (!err && due)
		rotate(l);
	free(b.buf);
	free(b.lines);
	return err;
}

int auditlog_flush(struct auditlog *l)
{
	int err;

	if (!auditlog_pending(l) && !l->rotate_now && !interval_due(l) &&
	    !(l->closing && l->since_cp > 0))
		return 0;
	if (flock(l->lock_fd, LOCK_EX))
		return -errno;
	err = flush_locked(l);
	flock(l->lock_fd, LOCK_UN);
	return err;
}

/* ---- open and close ---- */

static void auditlog_free(struct auditlog *l)
{
	compress_stop(l);
	pthread_cond_destroy(&l->zcv);
	pthread_mutex_destroy(&l->zmu);
	queue_drop(l, auditlog_pending(l));
	free(l->q);
	if (l->fd >= 0)
		close(l->fd);
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	if (l->dir_fd >= 0)
		close(l->dir_fd);
	EVP_PKEY_free(l->key);
	free(l->path);
	free(l->head_path);
	free(l->key_path);
	free(l);
}

int auditlog_close(struct auditlog *l, size_t *unwritten)
{
	int err;

	if (!l)
		return 0;
	l->closing = true;
	err = auditlog_flush(l);
	if (unwritten)
		*unwritten = auditlog_pending(l);
	auditlog_free(l);
	return err;
}

static int set_paths(struct auditlog *l, const char *path, const char *key)
{
	if (!(l->path = strdup(path)) || !(l->key_path = strdup(key)) ||
	    asprintf(&l->head_path, "%s.head", path) < 0) {
		l->head_path = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void set_opts(struct auditlog *l, const struct auditlog_opts *o)
{
	l->sync = o->sync;
	l->rotate_bytes = o->rotate_bytes;
	l->rotate_seconds = o->rotate_seconds;
	l->cp_every = o->checkpoint_every ? o->checkpoint_every : 1000;
	l->cp_seconds = o->checkpoint_seconds ? o->checkpoint_seconds : 60;
	l->max_pending = o->max_pending_bytes ? o->max_pending_bytes : 64u << 20;
	l->pid = getpid();
	l->last_cp_mono = auditlog_clock_ns(CLOCK_MONOTONIC);
}

/*
 * The newest rotated file starting at BASE's first record: a rotation
 * stopped between renaming the gzip file and replacing BASE.
 */
static bool rotation_interrupted(struct auditlog *l)
{
	return l->size > 0 && !learn_first(l) && auditrotate_newest(l->path) == l->first_id;
}

/* Check, under the lock, that the log's end can be read, so that a bad log fails at once. */
static int check_log(struct auditlog *l, char *err, size_t errlen)
{
	int ret;

	if (flock(l->lock_fd, LOCK_EX))
		return -errno;
	ret = sync_with_log(l);
	if (!ret)
		l->rotate_now = rotation_interrupted(l);
	flock(l->lock_fd, LOCK_UN);
	if (ret == -EBADMSG)
		snprintf(err, errlen,
			 "audit log %s: its last line is not a schema 3 record (a log of an "
			 "older pinfold? move its files away)",
			 l->path);
	else if (ret)
		snprintf(err, errlen, "cannot read the end of audit log %s: %s", l->path,
			 strerror(-ret));
	return ret;
}

int auditlog_open(struct auditlog **lp, const struct auditlog_opts *o, char *err, size_t errlen)
{
	const char *path = o->path ? o->path : AUDITLOG_DEFAULT_PATH;
	const char *key = o->key_path ? o->key_path : AUDITLOG_DEFAULT_KEY;
	struct auditlog *l = calloc(1, sizeof(*l));
	int ret;

	*lp = NULL;
	if (!l) {
		snprintf(err, errlen, "cannot open audit log %s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	l->fd = l->lock_fd = l->dir_fd = -1;
	pthread_mutex_init(&l->zmu, NULL);
	pthread_cond_init(&l->zcv, NULL);
	set_opts(l, o);
	ret = set_paths(l, path, key);
	if (ret) {
		snprintf(err, errlen, "cannot open audit log %s: %s", path, strerror(-ret));
		goto fail;
	}
	ret = auditrotate_open(path, !strcmp(path, AUDITLOG_DEFAULT_PATH), &l->dir_fd, &l->lock_fd,
			       &l->fd, err, errlen);
	if (ret)
		goto fail;
	l->key = auditlog_key_load(key, true, err, errlen);
	if (!l->key) {
		ret = -errno;
		goto fail;
	}
	ret = auditlog_key_id(l->key, l->key_id);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read its public key", key);
		goto fail;
	}
	ret = check_log(l, err, errlen);
	if (ret)
		goto fail;
	if (plain_rotated(l->path))
		compress_kick(l);
	*lp = l;
	return 0;
fail:
	auditlog_free(l);
	return ret;
}
