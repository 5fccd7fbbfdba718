/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * auditrotate.h - the files of a chained audit log as its writer keeps
 * them: where BASE starts and ends, the newest rotated file, rotation of
 * BASE into BASE.NNNNNNNNNNNN, its compression into BASE.NNNNNNNNNNNN.gz,
 * and prune, which replaces records of
 * rotated files whose retention ended by stubs. See docs/audit.md.
 *
 * Every function here that changes a file, auditrotate_compress aside,
 * expects the caller to hold BASE.lock (auditlog_lock) exclusively.
 */
#ifndef PINFOLD_AUDITROTATE_H
#define PINFOLD_AUDITROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "auditchain.h"

/* BASE, open to append (made 0600 when absent), never through a link: fd or -errno, *why a reason */
int auditrotate_open_base(const char *base, const char **why);

/*
 * The files of log base as its writer opens them: its directory (made 0700
 * when make_dir), refused unless owned by root or this user and closed to
 * group and others (as sshd's StrictModes asks of a home: others could put
 * links in it); BASE.lock; BASE (auditrotate_open_base). 0 or -errno with
 * a one-line reason in err. The descriptors are the caller's; -1 when not
 * opened.
 */
int auditrotate_open(const char *base, bool make_dir, int *dir_fd, int *lock_fd, int *fd, char *err,
		     size_t errlen);

/*
 * BASE.lock, locked with op (LOCK_SH or LOCK_EX); created when absent if
 * create. The descriptor (closing it unlocks) or -errno.
 */
int auditlog_lock(const char *base, int op, bool create);

/*
 * The options verify and prune share: --log BASE, --keep CLASS=DAYS (each
 * said on stderr when bad), and when keys is not NULL --key PUBFILE up to
 * max_keys times (counted in *n_keys). 0, 2 (bad usage, said) or -1 (help
 * given).
 */
int auditlog_log_opts(int argc, char **argv, const char **base, const char **keys, size_t *n_keys,
		      size_t max_keys, struct auditlog_keep *keep, void (*usage)(FILE *));

/*
 * The last whole line of BASE, open as fd (for append), read as a record
 * into *last. A partial last line (a writer that died inside a write, a
 * power failure) is cut off first: no flush that returned wrote it, and
 * the next record must start a line. *size: BASE's size before, the size
 * left after. *found: false when BASE holds no line. 0 or -errno
 * (-EBADMSG: the last line is not a record).
 */
int auditrotate_last_of_base(int fd, off_t *size, struct auditlog_rec *last, bool *found);

/*
 * The last record of the newest rotated file of base; *found false when
 * there is no rotated file. 0 or -errno (-EBADMSG: it does not end in a
 * record).
 */
int auditrotate_last_of_rotated(const char *base, struct auditlog_rec *last, bool *found);

/* The first record of BASE (fd, size bytes). 0 or -errno (-EBADMSG: not a record). */
int auditrotate_first_of_base(int fd, off_t size, struct auditlog_rec *first);

/* The number of base's newest rotated file (the id of its first record); 0 when none. */
uint64_t auditrotate_newest(const char *base);

/* what a writer found at a log's end that the signed head does not prove */
struct auditrotate_break {
	bool due;          /* a chain-break record is due, before anything else */
	const char *found; /* AUDITLOG_FOUND_... */
	uint64_t head_id;  /* the head's id, 0 when none was read */
	uint64_t log_last_id;
	char detail[200]; /* in words, for the record and its writer's stderr */
};

struct evp_pkey_st;

/*
 * The end of log base as just read (*last_id and last_link: its last
 * record; 0 and zeros when none) against its signed head, signed by key
 * (of id key_id) or by another key kept beside the private key key_path
 * (auditlog_key_of_id). A head past the end (records lost after it was
 * written: a power failure under sync none, or someone cut the log) moves
 * the end to it, so that the gap stays visible to verify instead of being
 * written over. Anything else that does not match makes *brk due: a head
 * missing while the log holds records, a head not signed by a known key,
 * records after the head's, the head's link not that of its record.
 */
void auditrotate_tail_check(const char *base, const char *key_path, struct evp_pkey_st *key,
			    const char *key_id, uint64_t *last_id, char last_link[65],
			    struct auditrotate_break *brk);

/* BASE as its writer holds it, under the lock */
struct auditrotate_base {
	const char *path;  /* BASE */
	int fd;            /* BASE, open */
	off_t size;        /* its size: whole records only */
	uint64_t first_id; /* the id of its first record, the rotated file's number */
	int dir_fd;        /* BASE's directory, synced after each rename when sync */
	bool sync;
};

/*
 * BASE, whose last record is a checkpoint, is renamed BASE.<first id> and
 * a fresh empty BASE takes its name; then the rotated files are pruned
 * with the default retention. Renames only: the gzip copy is
 * auditrotate_compress's, which the caller runs away from its ring. A
 * gzip file of that number is what an older rotation stopped before
 * replacing BASE left (BASE holds all of it and more): it is removed. 0
 * with *new_fd the new BASE (b->fd is the caller's to close), and in err
 * a prune's failure ("" when none); or -errno with err saying what
 * failed, and the log as it was.
 */
int auditrotate(const struct auditrotate_base *b, int *new_fd, char *err, size_t errlen);

/*
 * Each plain rotated file of base (BASE.<number>) into BASE.<number>.gz:
 * written to a temporary name and synced, renamed into place under the
 * lock, and only then the plain file unlinked. Without the lock held by
 * the caller; safe beside other writers of the log, verify, show and
 * prune, and after a crash anywhere. 0, or the first failure as -errno
 * with err saying it ("" when none); the files that failed stay plain,
 * which readers accept.
 */
int auditrotate_compress(const char *base, char *err, size_t errlen);

#endif /* PINFOLD_AUDITROTATE_H */
