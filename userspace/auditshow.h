/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * auditshow.h - audit records for a person: which records pass the filters
 * of `pinfold audit show` and `tail`, and each as one readable line, safe
 * to print on a terminal. The commands themselves are in auditcmd.c.
 */
#ifndef PINFOLD_AUDITSHOW_H
#define PINFOLD_AUDITSHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

#define AUDITSHOW_MAX_LIST 16 /* values of one repeated filter option */

/* Which records to show; a zeroed one lets every record through. */
struct auditshow_filter {
	const char *agent;
	const char *instance;
	bool has_since, has_until;
	int64_t since_us, until_us; /* from since on, before until; us since the epoch */
	bool denied;                /* decisions "deny" only (applied or not) */
	const char *actions[AUDITSHOW_MAX_LIST]; /* any of these, when n_actions */
	size_t n_actions;
	const char *kinds[AUDITSHOW_MAX_LIST];
	size_t n_kinds;
};

/*
 * A time given on the command line, as microseconds since the epoch:
 *   RFC 3339   2026-12-04T15:49:43Z, 2026-12-04T15:49:43.5+02:00, 'T' or
 *              a space between date and time; without a zone it is UTC
 *   a date     2026-12-04 (its midnight, UTC)
 *   relative   10s, 10m, 2h, 3d, 1w before now_us
 * 0 or -EINVAL.
 */
int auditshow_parse_time(const char *s, int64_t now_us, int64_t *us);

/*
 * line[0..len) as a JSON object, or NULL when it is none (a cut line, a
 * NUL inside); then *col, when col is not NULL, is the 1-based column where
 * reading it stopped.
 */
struct json_object *auditshow_parse_record(const char *line, size_t len, size_t *col);

/* The record's id, 0 when it has none of type integer (ids start at 1). */
uint64_t auditshow_record_id(struct json_object *rec);

/* Whether record rec passes filter f; a record without a readable time fails a time filter. */
bool auditshow_match(struct json_object *rec, const struct auditshow_filter *f);

/*
 * One readable line for record rec, without its newline, for example
 *   2026-12-04 15:49:43.123Z #4567 DENY open-write /srv/ehr/a.txt agent
 *   billing (billing.3f2a) pid 42 python3 uid 1000 for alice task T-17:
 *   write access into tree /srv/ehr of class phi.clinical, where agent
 *   billing holds read [classes.yaml:4:5]
 * Times are UTC. Every string from the record is escaped (control, C1 and
 * bidirectional characters, bytes that are not UTF-8); members missing or
 * of another type are left out. 0, or -ENOMEM / -EIO when f failed.
 */
int auditshow_put_line(FILE *f, struct json_object *rec);

#endif /* PINFOLD_AUDITSHOW_H */
