// SPDX-License-Identifier: GPL-2.0-only
/*
 * writer.c - an instance's audit writer: writer.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "explain.h"
#include "writer.h"

/* Events read between two looks at the clock (WRITER_PASS_MS). */
#define EVENTS_PER_PASS 256

/* Queue one record; a record that cannot be made or kept is counted. */
static void emit(struct writer *w, const char *retain, char *line)
{
	int err;

	if (!line) {
		if (!w->unformatted++)
			fprintf(stderr, "pinfold: cannot format an audit record: %s\n",
				strerror(errno));
		return;
	}
	err = auditlog_take(w->log, retain, line);
	if (err == -ENOBUFS) {
		if (!w->dropped_total)
			fprintf(stderr,
				"pinfold: the audit log %s has not taken records for too long: "
				"records are being lost, and counted\n",
				w->log_path);
		w->dropped++;
		w->dropped_total++;
	} else if (err) {
		w->unformatted++;
		fprintf(stderr, "pinfold: bad audit record: %s\n", strerror(-err));
	}
}

/* seqgap's callback: events first..last never came */
static void on_lost(void *ctx, uint64_t first, uint64_t last)
{
	struct writer *w = ctx;

	w->lost_reported += last - first + 1;
	emit(w, "lifecycle",
	     audit_format_events_lost(&w->who, last - first + 1, first, last, "kernel"));
}

/*
 * The stderr line for the denial ev. A destination that a backend the agent
 * holds the right on excepts has no rule in the kernel: no rule covers it,
 * and the line says which exception made it so, in explain's words, before
 * its hint. NULL with errno on failure.
 */
static char *denial_line(const struct writer *w, const struct pf_event *ev)
{
	char *line = audit_format_denial(ev, &w->who), *out = NULL, *hint, *h;
	const struct compiled_name *names;
	const struct policy_agent *a;
	const struct policy *p;
	size_t n_names, size;
	bool said;
	FILE *f;

	if (!line || ev->reason != PF_REASON_NO_RULE ||
	    (ev->action != PF_ACT_CONNECT && ev->action != PF_ACT_SENDMSG) ||
	    !swap_generation(w->sw, ev->gen, &p, &a, &names, &n_names))
		return line;
	/* the last one: the command name before it is the agent's to choose */
	for (hint = NULL, h = line; (h = strstr(h, "; allow with: ")); h++)
		hint = h;
	f = open_memstream(&out, &size);
	if (!f)
		return line;
	fwrite(line, 1, hint ? (size_t)(hint - line) : strlen(line), f);
	fputs(": ", f);
	said = explain_put_excepted(f, p, a, names, n_names, ev->addr, ev->port, ev->proto,
				    ev->action == PF_ACT_CONNECT ? PF_ACCESS_CONNECT
								 : PF_ACCESS_SEND);
	if (hint)
		fputs(hint, f);
	if (fclose(f) || !said) {
		free(out);
		return line;
	}
	free(line);
	return out;
}

/* Why audit-required access is refused now, in words, into buf. */
static const char *blocked_why(const struct writer *w, char *buf, size_t len)
{
	if (w->blocked_low)
		snprintf(buf, len, "less than %llu bytes are free (--audit-reserve-bytes)",
			 w->reserve);
	else
		snprintf(buf, len, "%s", strerror(w->blocked_err ? w->blocked_err : ENOBUFS));
	return buf;
}

/*
 * Keep a line for stderr until the batch is read (say_all). A line that
 * cannot be kept is said at once.
 */
static void say(struct writer *w, const char *line, const char *more)
{
	size_t n = strlen(line), m = more ? strlen(more) : 0, cap;
	char *p;

	if (w->said_len + n + m + 1 > w->said_cap) {
		cap = w->said_cap ? w->said_cap : 1 << 16;
		while (cap < w->said_len + n + m + 1)
			cap *= 2;
		p = realloc(w->said, cap);
		if (!p) {
			fprintf(stderr, "%s%s\n", line, more ? more : "");
			return;
		}
		w->said = p;
		w->said_cap = cap;
	}
	memcpy(w->said + w->said_len, line, n);
	memcpy(w->said + w->said_len + n, more, m);
	w->said_len += n + m;
	w->said[w->said_len++] = '\n';
}

/* The lines kept by say, in one write. */
static void say_all(struct writer *w)
{
	if (!w->said_len)
		return;
	fwrite(w->said, 1, w->said_len, stderr);
	fflush(stderr);
	w->said_len = 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct writer *w = ctx;
	struct pf_event ev = {};
	char *line, why[128 + 4096];
	size_t n;

	/* an event without a path (PF_EVENT_SHORT_SIZE) reads as one with an
	 * empty path; one of another size still becomes a record: the formatter
	 * flags it */
	memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
	w->consumed++;
	seqgap_see(&w->gaps, ev.seq, on_lost, w);
	if (ev.decision == PF_DECISION_DENY)
		w->denied++;
	else
		w->allowed++;
	emit(w, audit_event_retain(&ev, &w->who),
	     audit_format_event(&ev, &w->who, w->boot_to_real));

	if (ev.decision == PF_DECISION_DENY && ev.reason != PF_REASON_AUDIT) {
		/* a flood of one denial is one line over and over */
		const char *again = audit_again_find(&w->denial_again, &ev, &w->who, &n);

		if (again) {
			say(w, again, NULL);
		} else {
			line = denial_line(w, &ev);
			if (line) {
				audit_again_keep(&w->denial_again, &ev, &w->who, line,
						 strlen(line));
				say(w, line, NULL);
			}
			free(line);
		}
	} else if (ev.decision == PF_DECISION_DENY) {
		line = denial_line(w, &ev);
		if (line) {
			char b[128];

			snprintf(why, sizeof(why), "; the audit log %s: %s", w->log_path,
				 blocked_why(w, b, sizeof(b)));
			say(w, line, why);
		}
		free(line);
	}
	/* libbpf stops the pass at a negative return, this event consumed */
	return --w->pass_left ? 0 : -EAGAIN;
}

int writer_read_path_key(const char *path, unsigned char key[WRITER_PATH_KEY], char *err,
			 size_t len)
{
	struct stat st;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, len, "cannot open the path key %s: %s", path, strerror(-e));
		return e;
	}
	/* exactly the key: a signing key given by mistake would hash in vain */
	n = fstat(fd, &st) || st.st_size != WRITER_PATH_KEY ? -1 : read(fd, key, WRITER_PATH_KEY);
	close(fd);
	if (n != WRITER_PATH_KEY) {
		snprintf(err, len, "the path key %s is not %d bytes", path, WRITER_PATH_KEY);
		return -EINVAL;
	}
	return 0;
}

/*
 * The path key (log_paths: keyed-hash) beside the signing key, made when
 * absent: a policy applied later may ask for it.
 */
static int load_path_key(struct writer *w, const char *key_path, char *err, size_t len)
{
	char path[PATH_MAX];
	int e;

	e = auditlog_path_key_path(key_path, path, sizeof(path))
		    ?: auditlog_path_key_make(key_path);
	if (e) {
		snprintf(err, len, "cannot create the path key %s: %s", path, strerror(-e));
		return e;
	}
	e = writer_read_path_key(path, w->path_key, err, len);
	if (e)
		return e;
	w->who.path_key = w->path_key;
	w->who.path_key_len = sizeof(w->path_key);
	return 0;
}

/* The signing key pair at key_path, made (first use) when absent. */
static int ensure_signing_key(const char *key_path, char *err, size_t len)
{
	int e;

	if (access(key_path, F_OK) == 0)
		return 0;
	if (errno != ENOENT) {
		e = -errno;
		snprintf(err, len, "cannot use the signing key %s: %s", key_path, strerror(-e));
		return e;
	}
	e = auditlog_keygen(key_path, false, err, len);
	if (e == -EEXIST) /* another run made it meanwhile */
		return 0;
	if (!e)
		fprintf(stderr, "pinfold: created the audit signing key %s\n", key_path);
	return e;
}

int writer_open(struct writer *w, const struct auditlog_opts *opts, char *err, size_t len)
{
	char dir[sizeof(w->log_dir)];
	const char *key = opts->key_path ? opts->key_path : AUDITLOG_DEFAULT_KEY;
	int e;

	seqgap_init(&w->gaps);
	w->log_path = opts->path;
	snprintf(dir, sizeof(dir), "%s", opts->path);
	snprintf(w->log_dir, sizeof(w->log_dir), "%s", dirname(dir));
	w->boot_to_real = audit_boot_to_realtime_offset();
	e = ensure_signing_key(key, err, len);
	e = e ?: load_path_key(w, key, err, len);
	return e ?: auditlog_open(&w->log, opts, err, len);
}

int writer_watch_ring(struct writer *w, int ring_fd)
{
	w->rb = ring_buffer__new(ring_fd, on_event, w, NULL);
	return w->rb ? 0 : -errno;
}

int writer_ring_fd(const struct writer *w)
{
	return ring_buffer__epoll_fd(w->rb);
}

void writer_note(struct writer *w, const char *kind, struct json_object *detail)
{
	const char *text =
		detail ? json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN) : NULL;

	emit(w, "lifecycle", audit_format_note(kind, &w->who, text));
	json_object_put(detail);
}

/* Tell the kernel whether audit-required access can be recorded. */
static void set_blocked(struct writer *w, bool blocked)
{
	uint32_t flags = w->in->flags & ~PF_INST_AUDIT_BLOCKED;
	int err;

	if (!w->k || !w->in->cgroup_id)
		return;
	err = instance_switch(w->k, w->in, w->in->gen,
			      flags | (blocked ? PF_INST_AUDIT_BLOCKED : 0), w->in->sockets);
	if (err)
		fprintf(stderr, "pinfold: cannot %s audit-required access: %s\n",
			blocked ? "refuse" : "allow again", strerror(-err));
}

/* The log took records again: say for how long it could not, and what was lost. */
static void unblock(struct writer *w)
{
	char since[64], until[64], why[128];
	struct json_object *d = json_object_new_object();

	set_blocked(w, false);
	fprintf(stderr, "pinfold: the audit log %s takes records again\n", w->log_path);
	if (audit_format_time(w->blocked_since, since, sizeof(since)) ||
	    audit_format_time(auditlog_clock_ns(CLOCK_REALTIME), until, sizeof(until)))
		since[0] = until[0] = '\0';
	if (d) {
		audit_json_add(d, "since", json_object_new_string(since));
		audit_json_add(d, "until", json_object_new_string(until));
		audit_json_add(d, "error",
			       json_object_new_string(blocked_why(w, why, sizeof(why))));
	}
	w->blocked_err = 0;
	w->blocked_low = false;
	writer_note(w, "audit-blocked", d);
	if (w->dropped) {
		emit(w, "lifecycle",
		     audit_format_events_lost(&w->who, w->dropped, AUDIT_SEQ_UNKNOWN,
					      AUDIT_SEQ_UNKNOWN, "writer"));
		w->dropped = 0;
	}
}

/*
 * Whether the log's filesystem has less room than the reserve: records
 * written meanwhile would fail unseen by the kernel until one did, so
 * audit-required access is refused before the disk is full. A filesystem
 * that keeps no count (ramfs: no blocks) has no reserve to keep.
 */
static bool low_space(const struct writer *w)
{
	struct statvfs sv;

	if (!w->reserve || statvfs(w->log_dir, &sv) || !sv.f_blocks)
		return false;
	return (unsigned long long)sv.f_bavail * sv.f_frsize < w->reserve;
}

/* The log cannot take records (err), or is short of room: block audit-required access. */
static void block(struct writer *w, int err)
{
	w->blocked_err = err ? -err : ENOSPC;
	w->blocked_low = !err;
	w->blocked_since = auditlog_clock_ns(CLOCK_REALTIME);
	if (err)
		fprintf(stderr,
			"pinfold: cannot write to the audit log %s: %s; records wait in memory, "
			"and access to audit-required classes is refused until they are written\n",
			w->log_path, strerror(-err));
	else
		fprintf(stderr,
			"pinfold: less than %llu bytes are free for the audit log %s "
			"(--audit-reserve-bytes): access to audit-required classes is refused until "
			"there is room\n",
			w->reserve, w->log_path);
	set_blocked(w, true);
}

static int64_t mono_ms(void)
{
	return auditlog_clock_ns(CLOCK_MONOTONIC) / 1000000;
}

int writer_flush(struct writer *w)
{
	int err = auditlog_flush(w->log);
	bool low = !err && low_space(w);

	w->flushed_ms = mono_ms();
	/* into the page cache only: it outlives the process, as the log does */
	if (!err && w->cursor_fd > 0 && !auditlog_pending(w->log)) {
		uint64_t cursor[2] = {w->gaps.next, w->lost_reported};

		if (pwrite(w->cursor_fd, cursor, sizeof(cursor), 0) < 0)
			fprintf(stderr, "pinfold: cannot keep the audit cursor: %s\n",
				strerror(errno));
	}

	if ((err || low) && !w->blocked_err) {
		block(w, err);
	} else if (!err && !low && w->blocked_err) {
		unblock(w);
		err = auditlog_flush(w->log);
	}
	return err;
}

int writer_timeout_ms(const struct writer *w)
{
	int64_t left = w->looked_ms + PF_RINGBUF_POLL_MS - mono_ms();

	/* the kernel wakes the writer only as the ring fills (pf_event_submit) */
	return left < 0 ? 0 : left > PF_RINGBUF_POLL_MS ? PF_RINGBUF_POLL_MS : (int)left;
}

/* Whether a flush is due though nothing waits: a retry, a checkpoint, the reserve. */
static bool flush_due(const struct writer *w)
{
	return mono_ms() - w->flushed_ms >=
	       (w->blocked_err ? WRITER_RETRY_MS : WRITER_CHECKPOINT_MS);
}

void writer_consume(struct writer *w, bool drain)
{
	int64_t until = mono_ms() + WRITER_PASS_MS;
	int n;

	/* everything the ring holds, in one batch of records: one write and
	 * one sync for all (WRITER_PASS_MS at most, unless draining) */
	do {
		w->pass_left = EVENTS_PER_PASS;
		n = ring_buffer__consume(w->rb);
		seqgap_pass(&w->gaps, on_lost, w);
	} while (n == -EAGAIN && (drain || mono_ms() < until));
	w->looked_ms = mono_ms();
	say_all(w);
	/* NEEDSWORK: the batch's sync (fdatasync, the head, its directory) runs
	 * here, between two reads of the ring: one that outlasts what the ring
	 * holds loses events (docs/benchmarks.md, "Toward 500,000 events a
	 * second"). A second thread would not, if it took the whole flush
	 * (write, sync, head, under the log's lock: another writer must not
	 * find records after the head), the queue shared under a mutex and
	 * audit-required blocked or not from its result */
	/* a log that cannot take records is tried again on time, not at every look */
	if (w->consumed || drain || flush_due(w) || (auditlog_pending(w->log) && !w->blocked_err))
		writer_flush(w);
	w->consumed = 0;
}

void writer_finish(struct writer *w)
{
	uint64_t end = 0, lost = 0;
	uint32_t slot = w->in->slot;

	writer_consume(w, true);
	if (bpf_map_lookup_elem(w->k->seq_fd, &slot, &end)) {
		fprintf(stderr, "pinfold: cannot read the instance's event count: %s\n",
			strerror(errno));
		end = w->gaps.next;
	}
	seqgap_finish(&w->gaps, end, on_lost, w);
	/* the kernel counts what it could not queue: the two must agree */
	if (loader_percpu_sum(w->k->lost_fd, slot, &lost) == 0 && lost != w->lost_reported) {
		fprintf(stderr,
			"pinfold: the kernel counted %llu events of agent %s lost, their numbers "
			"%llu\n",
			(unsigned long long)lost, w->who.agent ? w->who.agent : "",
			(unsigned long long)w->lost_reported);
		if (lost > w->lost_reported)
			emit(w, "lifecycle",
			     audit_format_events_lost(&w->who, lost - w->lost_reported,
						      AUDIT_SEQ_UNKNOWN, AUDIT_SEQ_UNKNOWN,
						      "kernel"));
	}
	writer_flush(w);
}

void writer_release(struct writer *w)
{
	size_t unwritten = 0, i;
	const char *line;
	int err, tries;

	ring_buffer__free(w->rb);
	w->rb = NULL;
	say_all(w);
	free(w->said);
	w->said = NULL;
	w->said_cap = 0;
	audit_again_free(&w->denial_again);
	audit_format_forget();
	if (!w->log)
		return;
	/* records still waiting get a few more tries: the disk may be freed */
	for (tries = 0; auditlog_pending(w->log) && tries < WRITER_EXIT_TRIES; tries++) {
		if (tries == 0)
			fprintf(stderr,
				"pinfold: %zu audit records wait for the log %s; trying for "
				"%d s\n",
				auditlog_pending(w->log), w->log_path, WRITER_EXIT_TRIES);
		sleep(1);
		auditlog_flush(w->log);
	}
	/* the log still cannot take them: the launcher's stderr (a terminal,
	 * the journal) is the one place left, so nothing goes unsaid */
	for (i = 0; (line = auditlog_pending_line(w->log, i)); i++)
		fprintf(stderr, "pinfold: unwritten audit record: %s\n", line);
	err = auditlog_close(w->log, &unwritten);
	w->log = NULL;
	if (err || unwritten || w->unformatted || w->dropped_total)
		fprintf(stderr,
			"pinfold: %llu audit records could not be written to %s (%s), %llu could "
			"not be made, %llu were dropped\n",
			(unsigned long long)unwritten, w->log_path, err ? strerror(-err) : "closed",
			(unsigned long long)w->unformatted, (unsigned long long)w->dropped_total);
}
