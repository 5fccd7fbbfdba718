/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * auditlog.h - the chained, signed, rotated audit log (schema 3).
 *
 * Records are queued by the caller and written in batches. Each written
 * record gets an id (1, 2, ... across rotated files and across writers),
 * the link of the record before it (prev) and its retention class, so
 * that every record binds the whole log before it:
 *   link = hex SHA-256("pinfold-audit-3\n" ID "\n" RETAIN "\n"
 *                      HEX(SHA-256(line)) "\n")
 * Checkpoint records and BASE.head are signed with Ed25519. Several
 * writers share one log: BASE.lock serialises them, and each continues the
 * chain from the log's last record. See docs/audit.md.
 *
 * The writer is auditlog.c; the files it keeps (their ends, rotation,
 * prune) are auditrotate.c; verify is auditverify.c; what they all need to
 * agree on (records, links, signatures, keys) is auditchain.h.
 */
#ifndef PINFOLD_AUDITLOG_H
#define PINFOLD_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditchain.h" /* records, keys, retention: shared with the verifier */

enum auditlog_sync { AUDITLOG_SYNC_BATCH = 0, AUDITLOG_SYNC_ALWAYS, AUDITLOG_SYNC_NONE };

struct auditlog_opts {
	const char *path;     /* BASE */
	const char *key_path; /* private key; NULL: the default */
	enum auditlog_sync sync;
	long long rotate_bytes;      /* rotate when the current file is at least this; 0 never */
	long long rotate_seconds;    /* ... or when its first record is this old; 0 never */
	unsigned checkpoint_every;   /* records; 0: 1000 */
	unsigned checkpoint_seconds; /* 0: 60 */
	size_t max_pending_bytes;    /* records held while the log cannot take them; 0: 64 MiB */
};

#define AUDITLOG_OPTS_INIT                                                                         \
	{                                                                                          \
		.rotate_bytes = 64LL << 20, .rotate_seconds = 86400                                \
	}

#define AUDITLOG_DEFAULT_PATH "/var/log/pinfold/audit.jsonl"

struct auditlog;

/*
 * Open (creating BASE and its directory 0700 when the default), load the
 * key. Refuses a directory others may write, a key others may read, and
 * links at the log's names (docs/audit.md). 0 or -errno, with a one-line
 * reason in err. Writes nothing yet.
 */
int auditlog_open(struct auditlog **l, const struct auditlog_opts *o, char *err, size_t errlen);

/*
 * Queue one record (copied): line is a formatter's record, starting
 * {"schema":3,"kind": and without '\n'. -EINVAL: bad line or retention
 * class; -ENOBUFS: pending full (the record is not kept: the caller counts
 * it lost and says so).
 */
int auditlog_add(struct auditlog *l, const char *retain, const char *line);

/* As auditlog_add, taking line (malloc'ed): queued as it is, or freed. */
int auditlog_take(struct auditlog *l, const char *retain, char *line);

/*
 * Write every queued record: lock, continue the chain from the log's last
 * record (after a chain-break record when the signed head does not prove
 * that end), write, checkpoint when due, sync per policy, update the head,
 * rotate when due, unlock. 0 when all landed; else -errno (ENOSPC, EIO,
 * ...): nothing partial stays in the file (a short write is cut back with
 * ftruncate under the lock), the records stay queued for the next flush.
 */
int auditlog_flush(struct auditlog *l);

size_t auditlog_pending(const struct auditlog *l); /* records queued */
/* The i-th record still queued (as given to auditlog_add), or NULL past the last. */
const char *auditlog_pending_line(const struct auditlog *l, size_t i);

uint64_t auditlog_last_id(const struct auditlog *l); /* id of the last record it wrote */

/*
 * Wait until the writer's compressor (a thread that gzips rotated files,
 * started at the first rotation or at open when plain rotated files wait)
 * has nothing left to do.
 */
void auditlog_compress_wait(struct auditlog *l);

/*
 * Queue a closing checkpoint, flush, wait for the compressor, release. 0
 * or the flush's -errno (records then still unwritten are counted in
 * *unwritten when not NULL). Always frees.
 */
int auditlog_close(struct auditlog *l, size_t *unwritten);

/*
 * Replace each record of the rotated files of log base whose retention
 * under keep ended at now_ns by a stub (see docs/audit.md). The caller
 * holds base's lock. 0 or -errno with a reason in err; *stubbed counts the
 * records replaced (when not NULL).
 */
int auditlog_prune_locked(const char *base, const struct auditlog_keep *keep, int64_t now_ns,
			  size_t *stubbed, char *err, size_t errlen);

/* pinfold audit verify / prune: exit status (EXIT_SUCCESS or EXIT_FAILURE) */
int auditlog_verify_main(int argc, char **argv);
int auditlog_prune_main(int argc, char **argv);

#endif /* PINFOLD_AUDITLOG_H */
