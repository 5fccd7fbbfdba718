/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * writer.h - an instance's audit writer: kernel events and notes about the
 * instance become records of the chained log (auditlog.h), and nothing is
 * lost without a record that says how much.
 *
 * Every event carries the instance's event number (pf_event.seq): a
 * number that never comes is an event the kernel could not queue, and
 * becomes an "events-lost" record with the exact count and range. While
 * the log cannot take records (a full disk), records wait in memory, the
 * kernel is told (PF_INST_AUDIT_BLOCKED) so that it denies access to
 * audit-required classes, and flushing is retried every second.
 */
#ifndef PINFOLD_WRITER_H
#define PINFOLD_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "auditlog.h"
#include "instance.h"
#include "loader.h"
#include "seqgap.h"
#include "swap.h"

struct json_object;
struct ring_buffer;

#define WRITER_PATH_KEY 32 /* bytes of the key of hashed paths */

struct writer {
	struct audit_instance who; /* set by the caller, kept current by swap */
	const struct swap *sw;     /* the policies of the generations kept */
	const struct pf_kernel *k;
	struct instance *in;
	struct auditlog *log;
	const char *log_path;
	int64_t boot_to_real;
	struct ring_buffer *rb;
	struct seqgap gaps;
	unsigned pass_left; /* events this pass may still write */
	unsigned consumed;  /* events read by the current writer_consume */
	int64_t flushed_ms; /* CLOCK_MONOTONIC ms of the last writer_flush */
	int64_t looked_ms;  /* ... and of the last writer_consume */
	/* the stderr lines of the current pass's denials, written at once
	 * at its end: one write, not one per denial */
	char *said;
	size_t said_len, said_cap;
	struct audit_again denial_again; /* the last denial line, for the same denial again */
	uint64_t unformatted;            /* records that could not be made (no memory) */
	uint64_t dropped;                /* records the queue could not hold, not yet noted */
	uint64_t dropped_total;          /* all of them */
	uint64_t lost_reported;          /* events the kernel numbered and never queued */
	int blocked_err;                 /* why the log cannot take records; 0: it can */
	bool blocked_low;                /* ... because of the reserve: it has too little room */
	int64_t blocked_since;           /* CLOCK_REALTIME ns */
	unsigned char path_key[WRITER_PATH_KEY];
	/* below this many free bytes on the log's filesystem, audit-required
	 * access is refused (0: no reserve) */
	unsigned long long reserve;
	char log_dir[4096];
	uint64_t allowed, denied; /* events written, by decision */
	/* where the number after the last event written, and lost_reported,
	 * are kept, so that a restarted daemon knows where its records
	 * stopped (0: nowhere) */
	int cursor_fd;
};

#define WRITER_RETRY_MS 1000      /* a log that could not take records is tried again */
#define WRITER_CHECKPOINT_MS 1000 /* and checkpoints due, and the reserve, are seen to */
/* one writer_consume reads the ring for this long at most before it writes
 * what it read, so that a flood cannot hold off exit, signals or a change */
#define WRITER_PASS_MS 50
#define WRITER_EXIT_TRIES 5 /* seconds an ending instance waits for the log */
#define WRITER_RESERVE_DEFAULT (64ULL << 20)

/*
 * Open the log at opts->path, creating the signing key and the path key
 * beside it when absent (said in one line each). 0 or -errno, with a
 * one-line reason in err.
 */
int writer_open(struct writer *w, const struct auditlog_opts *opts, char *err, size_t len);

/* Read events from the ring ring_fd; 0 or -errno. */
int writer_watch_ring(struct writer *w, int ring_fd);

/* The ring's descriptor, for epoll. */
int writer_ring_fd(const struct writer *w);

/* A record about the instance (audit_format_note kinds); takes detail's reference. */
void writer_note(struct writer *w, const char *kind, struct json_object *detail);

/*
 * Turn the events in the ring into records (for WRITER_PASS_MS at most,
 * unless drain), their denials' stderr lines written at once, then write
 * what is queued when anything is, or a retry or checkpoint is due. Called
 * when the ring's descriptor is readable, and at least every
 * writer_timeout_ms: the kernel wakes the writer only once the ring fills.
 */
void writer_consume(struct writer *w, bool drain);

/*
 * Write what is queued. 0, or the log's -errno: the records wait, and the
 * instance is blocked until a later flush lands them.
 */
int writer_flush(struct writer *w);

/* How long epoll may wait before writer_consume is due again (0: it is due). */
int writer_timeout_ms(const struct writer *w);

/*
 * The instance's tasks are gone: drain the ring, report every event the
 * kernel numbered and never queued, and check the count against the
 * kernel's own.
 */
void writer_finish(struct writer *w);

/*
 * The key of hashed paths (log_paths: keyed-hash) at path into key. 0 or
 * -errno, with a one-line reason in err.
 */
int writer_read_path_key(const char *path, unsigned char key[WRITER_PATH_KEY], char *err,
			 size_t len);

/* Close the log (a closing checkpoint); the records it could not write are said. */
void writer_release(struct writer *w);

#endif /* PINFOLD_WRITER_H */
