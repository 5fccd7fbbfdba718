// SPDX-License-Identifier: GPL-2.0-only
/*
 * auditverify.c - pinfold audit verify: check a chained log (see
 * auditlog.h). What a record is and what is signed comes from
 * auditchain.c, the writer's too.
 *
 * verify reads a log once, in order, and keeps the last VERIFY_WINDOW
 * records (id, link, prev, place) by id: enough to tell a repeated id
 * (inserted) from one that comes late (reordered) or never (deleted)
 * whatever the log's size; a record moved further than that is reported
 * as deleted where it was missing and as reordered where it shows up.
 *
 * It lists and reads the files under the log's lock (shared), and prints
 * only after releasing it: a reader slow to take the output (a pager)
 * must not keep writers waiting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "auditlog.h"
#include "auditread.h"
#include "auditrotate.h"

#define VERIFY_WINDOW 65536
#define MAX_KEYS 16
#define MAX_FAULT_LINES 100000 /* kept for printing; more are counted */
#define GZ_CHUNK (1 << 16)

/* ---- verify ---- */

struct place {
	size_t file; /* index into verify.files */
	unsigned long line;
};

/* a record verify still remembers */
struct seen {
	uint64_t id; /* 0: an empty slot */
	char link[65], prev[65];
	struct place at;
};

/* ids missing so far, and the record after which they should have come */
struct gap {
	uint64_t first, last, before_id;
	struct place at;
};

/* a stub waiting for the checkpoint after it, which dates it */
struct stub {
	uint64_t id;
	enum auditlog_retain retain;
	struct place at;
};

/* what verify saw of one file of the log */
struct file_seen {
	unsigned long lines, records;
	uint64_t first_id;       /* of the record on its first line; 0: none there */
	uint64_t last_id;        /* of its last record */
	unsigned long last_line; /* of its last record */
	bool last_rotate;        /* its last record is a checkpoint written to rotate */
	bool unreadable;
};

struct verify {
	const char *base;
	char *head_path;
	char **files;
	size_t n_files, cur;
	struct file_seen *seen;
	EVP_PKEY *pubs[MAX_KEYS];
	char key_ids[MAX_KEYS][17];
	size_t n_keys;
	char keys_given[MAX_KEYS * 18]; /* their ids, for messages */
	FILE *out;                      /* the faults, printed once the lock is released */
	char *out_buf;
	size_t out_len, hidden;
	char err[600]; /* a failure to say on stderr, also after the lock */
	struct auditlog_keep keep;
	int64_t now;
	struct seen *win;
	bool have_last;
	uint64_t last_id, min_id, max_id;
	struct place last_at;
	size_t records, checkpoints, faults;
	uint64_t last_cp_id;
	struct place last_cp_at;
	struct gap *gaps;
	size_t n_gaps, gaps_cap;
	struct stub *stubs;
	size_t n_stubs, stubs_cap;
};

/* FILE:LINE of a place: in one of the log's files, or in the head */
static const char *where(const struct verify *v, struct place at, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%lu", at.file < v->n_files ? v->files[at.file] : v->head_path,
		 at.line);
	return buf;
}

static void fault(struct verify *v, struct place at, uint64_t id, const char *kind, const char *fmt,
		  ...) __attribute__((format(printf, 5, 6)));

/* One line per fault: FILE:LINE: record ID: KIND: detail */
static void fault(struct verify *v, struct place at, uint64_t id, const char *kind, const char *fmt,
		  ...)
{
	char buf[PATH_MAX + 32];
	va_list ap;

	/* held in memory until the lock is released: a flood of faults is counted instead */
	if (v->faults++ >= MAX_FAULT_LINES) {
		v->hidden++;
		return;
	}
	fprintf(v->out, "%s: ", where(v, at, buf, sizeof(buf)));
	if (id)
		fprintf(v->out, "record %" PRIu64 ": ", id);
	fprintf(v->out, "%s: ", kind);
	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
}

static struct seen *seen_of(struct verify *v, uint64_t id)
{
	struct seen *s = &v->win[id % VERIFY_WINDOW];

	return id && s->id == id ? s : NULL;
}

/* room for element n of the array at arrayp: verify cannot go on without it */
static void grow(void *arrayp, size_t *cap, size_t n, size_t size)
{
	if (auditlog_grow(arrayp, cap, n, size, 16)) {
		errno = ENOMEM;
		perror("pinfold: verify");
		exit(EXIT_FAILURE);
	}
}

static void gap_report(struct verify *v, const struct gap *g)
{
	fault(v, g->at, g->before_id, "deleted",
	      "records %" PRIu64 "..%" PRIu64 " missing before it", g->first, g->last);
}

static void gap_add(struct verify *v, uint64_t first, uint64_t last, uint64_t before,
		    struct place at)
{
	grow(&v->gaps, &v->gaps_cap, v->n_gaps, sizeof(*v->gaps));
	v->gaps[v->n_gaps++] = (struct gap){first, last, before, at};
}

/* id showed up after all: no longer missing */
static void gap_fill(struct verify *v, uint64_t id)
{
	for (size_t i = 0; i < v->n_gaps; i++) {
		struct gap *g = &v->gaps[i];

		if (id < g->first || id > g->last)
			continue;
		if (g->first == g->last) {
			*g = v->gaps[--v->n_gaps];
		} else if (id == g->first) {
			g->first++;
		} else if (id == g->last) {
			g->last--;
		} else {
			struct gap rest = *g;

			g->last = id - 1;
			rest.first = id + 1;
			gap_add(v, rest.first, rest.last, rest.before_id, rest.at);
		}
		return;
	}
}

/* gaps too far behind to be records out of place: said now, so that the list stays short */
static void gaps_expire(struct verify *v, bool all)
{
	for (size_t i = 0; i < v->n_gaps;) {
		if (all || v->max_id - v->gaps[i].last > VERIFY_WINDOW) {
			gap_report(v, &v->gaps[i]);
			v->gaps[i] = v->gaps[--v->n_gaps];
		} else {
			i++;
		}
	}
}

/* The link of a record's predecessor must be its prev; only checked when both are known. */
static void check_prev(struct verify *v, const struct seen *before, const struct seen *after)
{
	char buf[PATH_MAX + 32];

	if (!before || !after || !strcmp(before->link, after->prev))
		return;
	fault(v, before->at, before->id, "edited",
	      "its link does not match the prev of record %" PRIu64 " at %s", after->id,
	      where(v, after->at, buf, sizeof(buf)));
}

/* Where r stands in the chain: repeated, out of order, after a gap, or next. false: skip it. */
static bool place_record(struct verify *v, const struct auditlog_rec *r, struct place at)
{
	struct seen *s = seen_of(v, r->id);
	char buf[PATH_MAX + 32];

	if (s) {
		fault(v, at, r->id, "inserted", "id %" PRIu64 " repeats %s%s", r->id,
		      where(v, s->at, buf, sizeof(buf)),
		      strcmp(s->link, r->link) ? "" : " (a copy of it)");
		return false;
	}
	if (v->have_last && r->id <= v->last_id) {
		fault(v, at, r->id, "reordered",
		      "ids go backwards: it comes after record %" PRIu64 " at %s", v->last_id,
		      where(v, v->last_at, buf, sizeof(buf)));
	} else if (r->id > v->max_id + 1) {
		gap_add(v, v->max_id + 1, r->id - 1, r->id, at);
	}
	gap_fill(v, r->id);
	if (r->id == 1 && strcmp(r->prev, AUDITLOG_ZERO_LINK))
		fault(v, at, r->id, "inserted",
		      "its prev names no record: the first record's is all zeros");
	return true;
}

static void remember(struct verify *v, const struct auditlog_rec *r, struct place at)
{
	struct seen *s = &v->win[r->id % VERIFY_WINDOW];

	s->id = r->id;
	memcpy(s->link, r->link, 65);
	memcpy(s->prev, r->prev, 65);
	s->at = at;
	check_prev(v, seen_of(v, r->id - 1), s);
	check_prev(v, s, seen_of(v, r->id + 1));
	v->have_last = true;
	v->last_id = r->id;
	v->last_at = at;
	if (r->id > v->max_id)
		v->max_id = r->id;
	if (!v->min_id || r->id < v->min_id)
		v->min_id = r->id;
	gaps_expire(v, false);
}

/* Stubs before a good checkpoint: was their retention over by its time? */
static void stubs_date(struct verify *v, const struct auditlog_rec *cp, struct place cp_at)
{
	char buf[PATH_MAX + 32];

	for (size_t i = 0; i < v->n_stubs; i++) {
		const struct stub *s = &v->stubs[i];

		if (auditlog_retention_ended(&v->keep, s->retain, cp ? cp->time_ns : 0, v->now))
			continue;
		if (!cp)
			fault(v, s->at, s->id, "pruned early", "no checkpoint after it dates it");
		else if (v->keep.days[s->retain] < 0)
			fault(v, s->at, s->id, "pruned early", "class %s is kept forever",
			      auditlog_retain_name(s->retain));
		else
			fault(v, s->at, s->id, "pruned early",
			      "class %s is kept %lld days, and the checkpoint after it (%s) is from %s",
			      auditlog_retain_name(s->retain), v->keep.days[s->retain],
			      where(v, cp_at, buf, sizeof(buf)), cp->time);
	}
	v->n_stubs = 0;
}

/* the key given whose id is id; NULL when none is */
static EVP_PKEY *key_of(const struct verify *v, const char *id)
{
	for (size_t i = 0; i < v->n_keys; i++)
		if (!strcmp(v->key_ids[i], id))
			return v->pubs[i];
	return NULL;
}

static void check_checkpoint(struct verify *v, const struct auditlog_rec *r, struct place at)
{
	char msg[256];
	int n = auditlog_checkpoint_bytes(msg, sizeof(msg), r->id, r->time, r->prev);
	EVP_PKEY *key = key_of(v, r->key);

	if (!key) {
		fault(v, at, r->id, "bad signature", "signed by key %s, not by a key given (%s)",
		      r->key, v->keys_given);
		return;
	}
	if (n < 0 || !auditlog_sig_ok(key, msg, n, r->signature)) {
		fault(v, at, r->id, "bad signature",
		      "the checkpoint's signature does not match the chain before it");
		return;
	}
	v->checkpoints++;
	v->last_cp_id = r->id;
	v->last_cp_at = at;
	stubs_date(v, r, at);
}

/* what a chain-break's found means, in words */
static const char *found_words(const char *found)
{
	static const char *const words[][2] = {
		{AUDITLOG_FOUND_HEAD_MISSING, "no head"},
		{AUDITLOG_FOUND_HEAD_NOT_SIGNED, "a head not signed by its key"},
		{AUDITLOG_FOUND_UNSIGNED_RECORDS, "records after the head"},
		{AUDITLOG_FOUND_HEAD_MISMATCH, "a head that does not match the log"},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(found, words[i][0]))
			return words[i][1];
	return "a log its head does not prove";
}

/*
 * A writer continued a log whose end the signed head did not prove: what
 * came since the last checkpoint may have been changed, or cut, before.
 * It stays a fault for good (docs/audit.md).
 */
static void check_break(struct verify *v, const struct auditlog_rec *r, struct place at)
{
	const char *words = found_words(r->found);

	if (v->last_cp_id + 1 < r->id)
		fault(v, at, r->id, "chain-break",
		      "the writer that continued here found %s: the records before it since the "
		      "last checkpoint (ids %" PRIu64 "..%" PRIu64 ") are not proven",
		      words, v->last_cp_id + 1, r->id - 1);
	else
		fault(v, at, r->id, "chain-break",
		      "the writer that continued here found %s: records cut before it, after the "
		      "checkpoint before it, would not show",
		      words);
}

/* what verify saw of the file of a line */
static void seen_line(struct verify *v, const struct auditlog_rec *r, struct place at)
{
	struct file_seen *fs = &v->seen[at.file];

	fs->lines = at.line;
	if (!r)
		return;
	if (at.line == 1)
		fs->first_id = r->id;
	fs->records++;
	fs->last_id = r->id;
	fs->last_line = at.line;
	fs->last_rotate = !strcmp(r->kind, "checkpoint") && !strcmp(r->why, "rotate");
}

static void check_line(struct verify *v, const char *line, size_t len, bool whole, struct place at)
{
	struct auditlog_rec r;
	const char *why;
	unsigned long long id = 0;

	if (!whole) {
		seen_line(v, NULL, at);
		sscanf(line, "{\"schema\":3,\"id\":%llu,", &id);
		fault(v, at, id, "truncated", "the file ends in a partial line");
		return;
	}
	if (auditlog_parse(line, len, &r, &why)) {
		seen_line(v, NULL, at);
		fault(v, at, 0, "not a record", "%s", why);
		return;
	}
	seen_line(v, &r, at);
	v->records++;
	if (!place_record(v, &r, at))
		return;
	remember(v, &r, at);
	if (r.stub) {
		grow(&v->stubs, &v->stubs_cap, v->n_stubs, sizeof(*v->stubs));
		v->stubs[v->n_stubs++] = (struct stub){r.id, r.retain, at};
	} else if (!strcmp(r.kind, "checkpoint")) {
		check_checkpoint(v, &r, at);
	} else if (!strcmp(r.kind, "chain-break")) {
		check_break(v, &r, at);
	}
}

/* the place verify names for BASE.head */
static struct place head_place(struct verify *v)
{
	return (struct place){v->n_files, 1};
}

/* whether the log's current file, BASE, is missing or holds no line */
static bool base_empty(const struct verify *v)
{
	return !v->n_files || auditread_rotated_number(v->base, v->files[v->n_files - 1]) ||
	       !v->seen[v->n_files - 1].lines;
}

static void head_missing(struct verify *v)
{
	char buf[PATH_MAX + 32];

	if (v->max_id && base_empty(v))
		fault(v, head_place(v), 0, "truncated",
		      "the head is missing and the current file is empty: records cut after "
		      "record %" PRIu64 " would not show",
		      v->max_id);
	else if (v->max_id > v->last_cp_id)
		fault(v, head_place(v), 0, "unsigned",
		      "the head is missing: records %" PRIu64 "..%" PRIu64
		      " after the last checkpoint are covered by no signature",
		      v->last_cp_id + 1, v->max_id);
	else
		fault(v, head_place(v), 0, "unsigned",
		      "the head is missing: records cut after the last checkpoint (%s) would not show",
		      v->last_cp_id ? where(v, v->last_cp_at, buf, sizeof(buf)) : "none");
}

/* The head names the log's last record, signed: the log must reach it, and match it. */
static uint64_t check_head(struct verify *v)
{
	char buf[PATH_MAX + 32];
	const struct seen *s;
	struct auditlog_head h;
	int err = auditlog_head_read(v->head_path, &h);
	EVP_PKEY *key;

	if (err == -ENOENT) {
		/* a log no writer wrote to yet has no head */
		if (v->max_id || v->faults)
			head_missing(v);
		return 0;
	}
	if (err) {
		fault(v, head_place(v), 0, "not a record", "not a signed head");
		return 0;
	}
	key = key_of(v, h.key);
	if (!key || !auditlog_head_sig_ok(key, &h)) {
		if (key)
			fault(v, head_place(v), h.id, "bad signature",
			      "the head's signature does not verify");
		else
			fault(v, head_place(v), h.id, "bad signature",
			      "the head is signed by key %s, not by a key given (%s)", h.key,
			      v->keys_given);
		return h.id;
	}
	if (h.id > v->max_id) {
		fault(v, head_place(v), h.id, "truncated",
		      "the log ends at record %" PRIu64 ", before the record the signed head names",
		      v->max_id);
	} else if ((s = seen_of(v, h.id)) && strcmp(s->link, h.link)) {
		fault(v, s->at, h.id, "edited", "its link does not match the signed head (%s)",
		      where(v, head_place(v), buf, sizeof(buf)));
	} else if (h.id < v->max_id && v->last_cp_id < v->max_id) {
		fault(v, head_place(v), h.id, "unsigned",
		      "records %" PRIu64 "..%" PRIu64 " after the head are covered by no signature",
		      (h.id > v->last_cp_id ? h.id : v->last_cp_id) + 1, v->max_id);
	}
	return h.id;
}

/*
 * What follows the gzip stream of a rotated file, in bytes: another gzip
 * stream (records moved in from elsewhere) or anything else. -errno when
 * the stream cannot be read to its end (auditread said so already).
 * NEEDSWORK: each rotated file is inflated twice, by auditread and here:
 * zlib's gzread, which auditread uses, reads on into a next stream and
 * skips bytes after the last; when auditread can tell, this can go.
 */
static long long gz_after_stream(const char *path)
{
	unsigned char *in = malloc(GZ_CHUNK), *out = malloc(GZ_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = Z_DATA_ERROR;
	long long after = -EBADMSG;
	z_stream z = {0};
	ssize_t n;

	if (fd < 0 || !in || !out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		goto out;
	do {
		if (!z.avail_in) {
			n = read(fd, in, GZ_CHUNK);
			if (n <= 0)
				break;
			z.next_in = in;
			z.avail_in = n;
		}
		z.next_out = out;
		z.avail_out = GZ_CHUNK;
		ret = inflate(&z, Z_NO_FLUSH);
	} while (ret == Z_OK);
	if (ret == Z_STREAM_END) {
		after = z.avail_in;
		while ((n = read(fd, in, GZ_CHUNK)) > 0)
			after += n;
	}
	inflateEnd(&z);
out:
	if (fd >= 0)
		close(fd);
	free(in);
	free(out);
	return after;
}

/*
 * A rotated file holds what its writer rotated: records from the one its
 * name gives on, ending in the checkpoint written to rotate, in one gzip
 * stream once compressed. Moved records keep the chain intact: this finds them.
 */
static void check_rotated(struct verify *v, size_t i)
{
	uint64_t number = auditread_rotated_number(v->base, v->files[i]);
	const struct file_seen *fs = &v->seen[i];
	long long after;
	size_t len;

	if (!number || fs->unreadable)
		return;
	if (fs->first_id && fs->first_id != number)
		fault(v, (struct place){i, 1}, fs->first_id, "renamed",
		      "the file's name says its first record is %" PRIu64, number);
	if (!fs->records)
		fault(v, (struct place){i, 1}, 0, "truncated", "the rotated file holds no record");
	else if (!fs->last_rotate)
		fault(v, (struct place){i, fs->last_line}, fs->last_id, "truncated",
		      "the rotated file does not end in a rotate checkpoint");
	/* a plain one is waiting to be compressed (auditrotate_compress) */
	len = strlen(v->files[i]);
	after = len > 3 && !strcmp(v->files[i] + len - 3, ".gz") ? gz_after_stream(v->files[i]) : 0;
	if (after > 0)
		fault(v, (struct place){i, fs->lines + 1}, 0, "not a record",
		      "%lld bytes after the end of the file's gzip stream (another stream, or "
		      "anything else)",
		      after);
}

/* index of file in v->files, from the reader's current file on */
static size_t file_index(struct verify *v, const char *file)
{
	while (v->cur < v->n_files && strcmp(v->files[v->cur], file))
		v->cur++;
	return v->cur < v->n_files ? v->cur : v->n_files - 1;
}

static int walk(struct verify *v)
{
	struct auditread *r;
	const char *line, *file;
	unsigned long lineno;
	size_t len;
	bool whole;
	int ret = auditread_open_files(&r, v->files, v->err, sizeof(v->err));

	if (ret)
		return ret;
	while ((ret = auditread_next(r, &line, &len, &file, &lineno, &whole)) != 0) {
		struct place at = {file_index(v, file), lineno};

		if (ret == 1) {
			check_line(v, line, len, whole, at);
			continue;
		}
		v->seen[at.file].lines = lineno;
		if (ret == -EMSGSIZE) {
			fault(v, at, 0, "not a record", "a line longer than %u bytes",
			      AUDITREAD_MAX_LINE);
		} else {
			v->seen[at.file].unreadable = true;
			fault(v, at, 0, "unreadable", "%s", strerror(-ret));
		}
	}
	auditread_close(r);
	for (size_t i = 0; i < v->n_files; i++)
		check_rotated(v, i);
	return 0;
}

static void verify_release(struct verify *v)
{
	auditread_files_free(v->files);
	for (size_t i = 0; i < v->n_keys; i++)
		EVP_PKEY_free(v->pubs[i]);
	if (v->out)
		fclose(v->out);
	free(v->out_buf);
	free(v->seen);
	free(v->head_path);
	free(v->win);
	free(v->gaps);
	free(v->stubs);
}

static void verify_summary(struct verify *v, uint64_t head_id)
{
	printf("%s: %zu records in %zu file%s, ", v->base, v->records, v->n_files,
	       v->n_files == 1 ? "" : "s");
	if (v->max_id)
		printf("ids %" PRIu64 "..%" PRIu64 ", ", v->min_id, v->max_id);
	else
		printf("no ids, ");
	printf("%zu checkpoint%s verified, head at %" PRIu64 ": ok\n", v->checkpoints,
	       v->checkpoints == 1 ? "" : "s", head_id);
}

/* The keys given, and the memory a walk needs. 0 or -1 (said). */
static int verify_setup(struct verify *v, const char **pubs, size_t n_pubs)
{
	bool by_default = !n_pubs;
	char err[512];
	size_t used = 0;

	if (by_default)
		pubs[n_pubs++] = AUDITLOG_DEFAULT_PUB;
	for (; v->n_keys < n_pubs; v->n_keys++) {
		EVP_PKEY *k = auditlog_key_load(pubs[v->n_keys], false, err, sizeof(err));

		if (!k || auditlog_key_id(k, v->key_ids[v->n_keys])) {
			fprintf(stderr, "pinfold: %s\n", k ? "cannot read the public key" : err);
			EVP_PKEY_free(k);
			return -1;
		}
		v->pubs[v->n_keys] = k;
		used += snprintf(v->keys_given + used, sizeof(v->keys_given) - used, "%s%s",
				 v->n_keys ? ", " : "", v->key_ids[v->n_keys]);
	}
	/* no --key: say which key was used, so that a fault names it */
	if (by_default)
		snprintf(v->keys_given + used, sizeof(v->keys_given) - used,
			 " of " AUDITLOG_DEFAULT_PUB ", the default: give --key");
	v->win = calloc(VERIFY_WINDOW, sizeof(*v->win));
	v->out = open_memstream(&v->out_buf, &v->out_len);
	if (!v->win || !v->out || asprintf(&v->head_path, "%s.head", v->base) < 0) {
		v->head_path = NULL;
		fprintf(stderr, "pinfold: cannot verify %s: %s\n", v->base, strerror(ENOMEM));
		return -1;
	}
	v->now = auditlog_clock_ns(CLOCK_REALTIME);
	return 0;
}

/* Under the lock: list the files, read them, check the head. 0, or -1 with v->err set. */
static int verify_locked(struct verify *v, uint64_t *head_id)
{
	v->files = auditread_files(v->base);
	if (!v->files) {
		snprintf(v->err, sizeof(v->err), "cannot list the files of %s: %s", v->base,
			 strerror(errno));
		return -1;
	}
	while (v->files[v->n_files])
		v->n_files++;
	if (!v->n_files) {
		snprintf(v->err, sizeof(v->err), "no audit log at %s", v->base);
		return -1;
	}
	v->seen = calloc(v->n_files, sizeof(*v->seen));
	if (!v->seen) {
		snprintf(v->err, sizeof(v->err), "cannot verify %s: %s", v->base, strerror(ENOMEM));
		return -1;
	}
	if (walk(v))
		return -1;
	stubs_date(v, NULL, (struct place){0});
	gaps_expire(v, true);
	*head_id = check_head(v);
	if (v->hidden)
		fprintf(v->out, "%s: %zu more faults not shown\n", v->base, v->hidden);
	return fflush(v->out) ? -1 : 0;
}

static void verify_usage(FILE *f)
{
	fprintf(f,
		"usage: pinfold audit verify [--log BASE] [--key PUBFILE]... [--keep CLASS=DAYS]...\n"
		"  --key: each key the log's checkpoints may be signed by (after keygen --force,\n"
		"  the old one too); CLASS: phi, routine, decision or lifecycle; DAYS: a number or\n"
		"  forever\n");
}

int auditlog_verify_main(int argc, char **argv)
{
	const char *pubs[MAX_KEYS];
	struct verify v = {.base = AUDITLOG_DEFAULT_PATH};
	size_t n_pubs = 0;
	uint64_t head_id = 0;
	int lock, ret;

	auditlog_keep_init(&v.keep);
	ret = auditlog_log_opts(argc, argv, &v.base, pubs, &n_pubs, MAX_KEYS, &v.keep,
				verify_usage);
	if (ret)
		return ret < 0 ? EXIT_SUCCESS : ret;
	if (verify_setup(&v, pubs, n_pubs)) {
		verify_release(&v);
		return EXIT_FAILURE;
	}
	/* no lock (a copy of a log, a directory this user cannot write): read as it is */
	/* NEEDSWORK: writers wait for the lock while a long log is read */
	lock = auditlog_lock(v.base, LOCK_SH, false);
	ret = verify_locked(&v, &head_id);
	if (lock >= 0)
		close(lock);
	if (ret)
		fprintf(stderr, "pinfold: %s\n", v.err[0] ? v.err : strerror(errno));
	else if (v.faults)
		fwrite(v.out_buf, 1, v.out_len, stdout);
	else if (!v.records) /* no record, no head, no rotated file: a new log */
		printf("%s: no records\n", v.base);
	else
		verify_summary(&v, head_id);
	verify_release(&v);
	return ret || v.faults ? EXIT_FAILURE : EXIT_SUCCESS;
}
