// SPDX-License-Identifier: GPL-2.0-only
/*
 * auditcmd.c - `pinfold audit`: the subcommands, and the reading of a log
 * for show and tail.
 *
 * show reads every file of the log in order. tail reads the files newest
 * first, only as far back as its last N records need, and with -f follows
 * BASE: it polls, since the writer may replace BASE (rotation) at any
 * time, and a rotation is seen as BASE naming another file (or none, or a
 * shorter one). Records carry ids, and after a rotation the ones written
 * since the last id read are taken from the rotated files, so that none is
 * missed or shown twice. verify, prune and keygen are auditlog's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "audit.h"
#include "auditcmd.h"
#include "auditlog.h"
#include "auditread.h"
#include "auditshow.h"
#include "run.h"
#include "text.h"
#include "writer.h"

#define USEC_PER_SEC 1000000LL
#define FOLLOW_POLL_MS 200 /* how long tail -f waits before it reads BASE again */

/* ---- the commands ---- */

struct opts {
	const char *cmd; /* "show" or "tail" */
	const char *log;
	struct auditshow_filter filter;
	bool json;
	bool follow;
	unsigned long lines;
};

/* What reading the log met, for the exit status. */
struct run {
	const struct opts *o;
	bool read_failed;
	uint64_t last_id; /* the highest id read, 0 for none */
	bool fill_gaps;   /* take records missed from the rotated files (tail -f) */
	uint64_t below;   /* when not 0: ignore records of this id and above */
};

static void usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"usage: pinfold audit %s [--log BASE] [--agent A] [--instance I] [--since T]\n"
		"         [--until T] [--denied] [--action X]... [--kind K]... [--json]%s\n"
		"T: RFC 3339 (2026-12-04T15:49:43Z), a date (2026-12-04, UTC), or a time\n"
		"before now: 30s, 10m, 2h, 3d, 1w. BASE: by default %s\n",
		cmd, strcmp(cmd, "tail") ? "" : " [-f] [-n N]", AUDITLOG_DEFAULT_PATH);
}

static int add_to_list(const char **list, size_t *n, const char *v, const char *opt)
{
	if (*n == AUDITSHOW_MAX_LIST) {
		fprintf(stderr, "pinfold: audit: at most %d %s options\n", AUDITSHOW_MAX_LIST, opt);
		return -EINVAL;
	}
	list[(*n)++] = v;
	return 0;
}

static int time_opt(const char *cmd, const char *v, const char *opt, int64_t *us, bool *has)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (auditshow_parse_time(v, (int64_t)now.tv_sec * USEC_PER_SEC + now.tv_nsec / 1000, us)) {
		fprintf(stderr,
			"pinfold: audit %s: %s '%s': want RFC 3339 (2026-12-04T15:49:43Z), a date "
			"(2026-12-04) or a time before now (10m, 2h, 3d)\n",
			cmd, opt, v);
		return -EINVAL;
	}
	*has = true;
	return 0;
}

/* One option of show or tail into o; 0 or -EINVAL (said). */
static int take_opt(struct opts *o, int c, const char *v)
{
	struct auditshow_filter *f = &o->filter;
	char *end;

	switch (c) {
	case 'l':
		o->log = v;
		return 0;
	case 'a':
		f->agent = v;
		return 0;
	case 'i':
		f->instance = v;
		return 0;
	case 's':
		return time_opt(o->cmd, v, "--since", &f->since_us, &f->has_since);
	case 'u':
		return time_opt(o->cmd, v, "--until", &f->until_us, &f->has_until);
	case 'd':
		f->denied = true;
		return 0;
	case 'x':
		return add_to_list(f->actions, &f->n_actions, v, "--action");
	case 'k':
		return add_to_list(f->kinds, &f->n_kinds, v, "--kind");
	case 'j':
		o->json = true;
		return 0;
	case 'f':
		o->follow = true;
		return 0;
	case 'n':
		errno = 0;
		o->lines = strtoul(v, &end, 10);
		if (errno || end == v || *end || *v == '-') {
			fprintf(stderr, "pinfold: audit tail: -n '%s': want a number of records\n",
				v);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* argv of show or tail into o: -1 to go on, or the exit status to return at once. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"log", required_argument, NULL, 'l'},
		{"agent", required_argument, NULL, 'a'},
		{"instance", required_argument, NULL, 'i'},
		{"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},
		{"denied", no_argument, NULL, 'd'},
		{"action", required_argument, NULL, 'x'},
		{"kind", required_argument, NULL, 'k'},
		{"json", no_argument, NULL, 'j'},
		{"follow", no_argument, NULL, 'f'},
		{"lines", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	bool tail = strcmp(o->cmd, "tail") == 0;
	int c;

	o->log = AUDITLOG_DEFAULT_PATH;
	o->lines = 10;
	optind = 1;
	opterr = 0; /* getopt would name the command "show" */
	while ((c = getopt_long(argc, argv, tail ? ":fn:h" : ":h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout, o->cmd);
			return EXIT_SUCCESS;
		}
		if (c == ':' || c == '?' || (!tail && (c == 'f' || c == 'n'))) {
			if (c == ':')
				fprintf(stderr, "pinfold: audit %s: option '%s' needs a value\n",
					o->cmd, argv[optind - 1]);
			else
				fprintf(stderr, "pinfold: audit %s: unknown option '%s'\n", o->cmd,
					argv[optind - 1]);
			usage(stderr, o->cmd);
			return RUN_EXIT_USAGE;
		}
		if (take_opt(o, c, optarg))
			return RUN_EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "pinfold: audit %s: unexpected argument '%s'\n", o->cmd,
			argv[optind]);
		usage(stderr, o->cmd);
		return RUN_EXIT_USAGE;
	}
	return -1;
}

/* "pinfold: audit CMD: FILE[:LINE]:" on stderr, the file name escaped */
static void say_where(const struct opts *o, const char *file, unsigned long lineno)
{
	fprintf(stderr, "pinfold: audit %s: ", o->cmd);
	text_put_escaped(stderr, file, strlen(file), false);
	if (lineno)
		fprintf(stderr, ":%lu", lineno);
	fputc(':', stderr);
}

static void say_read_error(struct run *r, int err, const char *file, unsigned long lineno)
{
	say_where(r->o, file, err == -EMSGSIZE ? lineno : 0);
	if (err == -EMSGSIZE)
		fprintf(stderr, " line longer than %u MiB, skipped\n", AUDITREAD_MAX_LINE >> 20);
	else if (err == -EBADMSG)
		fprintf(stderr, " cannot read: not gzip, or its data is corrupt or cut short\n");
	else
		fprintf(stderr, " cannot read: %s\n", strerror(-err));
	r->read_failed = true;
}

/* The record on one line of stdout: itself (--json) or readable. */
static void emit(const struct opts *o, struct json_object *rec, const char *line, size_t len)
{
	if (o->json)
		fwrite(line, 1, len, stdout);
	else
		auditshow_put_line(stdout, rec);
	fputc('\n', stdout);
}

/* One line of the log: the record it holds, or NULL after saying on stderr why it is none. */
static struct json_object *take_line(struct run *r, const char *line, size_t len, const char *file,
				     unsigned long lineno, bool whole)
{
	struct json_object *rec;
	size_t col;

	rec = auditshow_parse_record(line, len, &col);
	if (!rec) {
		say_where(r->o, file, lineno);
		if (!whole)
			fprintf(stderr, "%zu: cut short (the file ends inside it), skipped\n", col);
		else
			fprintf(stderr, "%zu: not an audit record, skipped\n", col);
	}
	return rec;
}

static void show_lines(struct run *r, struct auditread *rd, bool dedup);

/*
 * The records after the last id read and before below (0: no end), from
 * the rotated files that may hold them. The rotated file numbered N holds
 * the ids from N to the next file's number less one.
 */
static void show_rotated(struct run *r, uint64_t below)
{
	const char *base = r->o->log;
	unsigned long long num, next;
	char **files, **pick, err[512];
	struct run sub = *r;
	struct auditread *rd;
	size_t n = 0, k = 0, i;

	files = auditread_files(base);
	while (files && files[n])
		n++;
	pick = calloc(n + 1, sizeof(*pick));
	for (i = 0; pick && i < n; i++) {
		num = auditread_rotated_number(base, files[i]);
		next = i + 1 < n ? auditread_rotated_number(base, files[i + 1]) : 0;
		if (num && (!below || num < below) && (!next || next > r->last_id + 1))
			pick[k++] = files[i];
	}
	if (k && !auditread_open_files(&rd, pick, err, sizeof(err))) {
		sub.fill_gaps = false;
		sub.below = below;
		show_lines(&sub, rd, true);
		auditread_close(rd);
		r->read_failed |= sub.read_failed;
		if (sub.last_id > r->last_id)
			r->last_id = sub.last_id;
	}
	free(pick);
	auditread_files_free(files);
}

/*
 * Read every line of rd and emit the records that match. With dedup, a
 * record whose id is not above every id read before is one seen already
 * (the catch-up after a rotation reads some twice) and is skipped. With
 * fill_gaps, a record whose id is more than one above the last one read
 * follows records written and rotated away between two reads of BASE:
 * those are taken from the rotated files first.
 */
static void show_lines(struct run *r, struct auditread *rd, bool dedup)
{
	const char *line, *file;
	struct json_object *rec;
	unsigned long lineno;
	bool whole, seen;
	uint64_t id;
	size_t len;
	int rc;

	while ((rc = auditread_next(rd, &line, &len, &file, &lineno, &whole)) != 0) {
		if (rc < 0) {
			say_read_error(r, rc, file, lineno);
			continue;
		}
		rec = take_line(r, line, len, file, lineno, whole);
		if (!rec)
			continue;
		id = auditshow_record_id(rec);
		seen = (dedup && id && id <= r->last_id) || (r->below && id >= r->below);
		if (!seen && r->fill_gaps && r->last_id && id > r->last_id + 1)
			show_rotated(r, id);
		if (id > r->last_id && !seen)
			r->last_id = id;
		if (!seen && auditshow_match(rec, &r->o->filter))
			emit(r->o, rec, line, len);
		json_object_put(rec);
	}
}

/* The exit status at the end: stdout must have taken everything. */
static int finish(struct run *r)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "pinfold: audit %s: cannot write: %s\n", r->o->cmd,
			strerror(errno));
		return EXIT_FAILURE;
	}
	return r->read_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int show_main(int argc, char **argv)
{
	struct opts o = {.cmd = "show"};
	struct run r = {.o = &o};
	struct auditread *rd;
	char err[512];
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (auditread_open(&rd, o.log, err, sizeof(err))) {
		fprintf(stderr, "pinfold: audit show: %s\n", err);
		return EXIT_FAILURE;
	}
	show_lines(&r, rd, false);
	auditread_close(rd);
	return finish(&r);
}

/* ---- tail ---- */

/* The last cap matching lines of one file, oldest first from head. */
struct ring {
	char **lines;
	size_t *lens;
	size_t cap, n, head;
};

struct tail {
	struct run run;
	char **files;
	struct ring *rings; /* one per file read, newest file first */
	size_t n_rings;
	struct auditread *base; /* BASE, followed; NULL while there is none */
	struct stat base_st;    /* the file it reads, as last seen */
};

static int ring_push(struct ring *g, const char *line, size_t len)
{
	char *copy = malloc(len + 1);
	size_t at;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (g->n == g->cap) {
		at = g->head;
		free(g->lines[at]);
		g->head = (g->head + 1) % g->cap;
	} else {
		at = (g->head + g->n++) % g->cap;
	}
	g->lines[at] = copy;
	g->lens[at] = len;
	return 0;
}

static void ring_release(struct ring *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->lines[(g->head + i) % g->cap]);
	free(g->lines);
	free(g->lens);
}

/* Read file (the log's last one is followed with -f) into ring g of cap lines; 0 or -errno. */
static int collect_file(struct tail *t, const char *file, bool follow, struct ring *g)
{
	char *one[] = {(char *)file, NULL}, err[512];
	const char *line, *name;
	struct json_object *rec;
	struct auditread *rd;
	unsigned long lineno;
	bool whole;
	size_t len;
	int rc;

	if (g->cap) {
		g->lines = calloc(g->cap, sizeof(*g->lines));
		g->lens = calloc(g->cap, sizeof(*g->lens));
		if (!g->lines || !g->lens)
			return -ENOMEM;
	}
	rc = auditread_open_files(&rd, one, err, sizeof(err));
	if (rc)
		return rc;
	auditread_set_follow(rd, follow);
	while ((rc = auditread_next(rd, &line, &len, &name, &lineno, &whole)) != 0) {
		if (rc < 0) {
			say_read_error(&t->run, rc, name, lineno);
			continue;
		}
		rec = take_line(&t->run, line, len, name, lineno, whole);
		if (rec && auditshow_record_id(rec) > t->run.last_id)
			t->run.last_id = auditshow_record_id(rec);
		if (rec && g->cap && auditshow_match(rec, &t->run.o->filter))
			rc = ring_push(g, line, len);
		json_object_put(rec);
		if (rc < 0)
			break;
	}
	if (follow && rc == 0) {
		t->base = rd;
		if (auditread_stat(rd, &t->base_st))
			stat(file, &t->base_st);
	} else {
		auditread_close(rd);
	}
	return rc < 0 ? rc : 0;
}

/*
 * The last N matching records, reading the files newest first and no
 * further back than needed; with -f the last file, BASE, stays open, and
 * the newest file with a record is read to learn the last id.
 */
static int tail_collect(struct tail *t)
{
	const struct opts *o = t->run.o;
	size_t n = 0, have = 0, i;
	bool is_base;
	int err;

	while (t->files[n])
		n++;
	t->rings = calloc(n + 1, sizeof(*t->rings));
	if (!t->rings)
		return -ENOMEM;
	for (i = n; i-- > 0;) {
		if (i + 1 < n && have >= o->lines && (!o->follow || t->run.last_id))
			break;
		is_base = strcmp(t->files[i], o->log) == 0;
		t->rings[t->n_rings].cap = o->lines - have;
		err = collect_file(t, t->files[i], o->follow && is_base, &t->rings[t->n_rings]);
		have += t->rings[t->n_rings++].n;
		if (err)
			return err;
	}
	return 0;
}

static void tail_print(struct tail *t)
{
	struct json_object *rec;
	struct ring *g;
	size_t i, k, at;

	for (i = t->n_rings; i-- > 0;) {
		g = &t->rings[i];
		for (k = 0; k < g->n; k++) {
			at = (g->head + k) % g->cap;
			rec = auditshow_parse_record(g->lines[at], g->lens[at], NULL);
			if (rec)
				emit(t->run.o, rec, g->lines[at], g->lens[at]);
			json_object_put(rec);
		}
	}
}

/*
 * Whether BASE is another file than the one followed (the writer rotated
 * it), or none, or was cut back in place (*in_place), or appeared.
 */
static bool rotated(struct tail *t, bool *in_place)
{
	struct stat st;

	*in_place = false;
	if (stat(t->run.o->log, &st))
		return t->base && errno == ENOENT;
	if (!t->base)
		return true;
	if (st.st_ino != t->base_st.st_ino || st.st_dev != t->base_st.st_dev)
		return true;
	if (st.st_size < t->base_st.st_size) {
		*in_place = true;
		return true;
	}
	t->base_st.st_size = st.st_size;
	return false;
}

/*
 * After a rotation: the records written since the last one read, from the
 * rotated files, then BASE from its start, followed.
 */
static void catch_up(struct tail *t)
{
	const char *base = t->run.o->log;
	char *one[] = {(char *)base, NULL}, err[512];

	if (t->run.last_id)
		show_rotated(&t->run, 0);
	t->base = NULL;
	if (stat(base, &t->base_st) == 0) {
		if (!auditread_open_files(&t->base, one, err, sizeof(err)))
			auditread_set_follow(t->base, true);
		t->base_st.st_size = 0;
	}
}

/* Follow BASE until killed: new records as they come, across rotations. */
static int tail_follow(struct tail *t)
{
	const struct timespec pause = {.tv_nsec = FOLLOW_POLL_MS * 1000 * 1000};
	struct stat st;
	bool in_place;

	t->run.fill_gaps = true;
	for (;;) {
		if (t->base) {
			show_lines(&t->run, t->base, true);
			/* the file read, which BASE may no longer be */
			if (!auditread_stat(t->base, &st)) {
				t->base_st.st_ino = st.st_ino;
				t->base_st.st_dev = st.st_dev;
			}
		}
		if (fflush(stdout) || ferror(stdout))
			return finish(&t->run);
		if (rotated(t, &in_place)) {
			if (t->base) {
				/* what the old file still held, a cut last line too */
				auditread_set_follow(t->base, false);
				if (!in_place)
					show_lines(&t->run, t->base, true);
				auditread_close(t->base);
			}
			/* no writer shortens BASE: someone cut it. Say so, and show
			 * it all again: ids read before may now name other records.
			 * NEEDSWORK: a file cut and grown past its old size between
			 * two looks is not seen as cut */
			if (in_place) {
				fprintf(stderr,
					"pinfold: %s was cut in place (no rotation): records may "
					"have been removed; showing it again from its start\n",
					t->run.o->log);
				t->run.last_id = 0;
			}
			catch_up(t);
			continue;
		}
		nanosleep(&pause, NULL);
	}
}

static int tail_main(int argc, char **argv)
{
	struct opts o = {.cmd = "tail"};
	struct tail t = {.run = {.o = &o}};
	size_t i;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	t.files = auditread_files(o.log);
	if (!t.files || (!t.files[0] && !o.follow)) {
		fprintf(stderr, "pinfold: audit tail: %s: %s\n", o.log,
			t.files ? "no such log (neither the file nor rotated files exist)"
				: strerror(errno));
		auditread_files_free(t.files);
		return EXIT_FAILURE;
	}
	rc = tail_collect(&t);
	if (rc) {
		fprintf(stderr, "pinfold: audit tail: %s\n", strerror(-rc));
		t.run.read_failed = true;
	} else {
		tail_print(&t);
	}
	for (i = 0; i < t.n_rings; i++)
		ring_release(&t.rings[i]);
	free(t.rings);
	auditread_files_free(t.files);
	if (!rc && o.follow)
		rc = tail_follow(&t);
	else
		rc = finish(&t.run);
	auditread_close(t.base);
	return rc;
}

/* ---- hash-path ---- */

/*
 * pinfold audit hash-path [--key FILE] PATH...: what records of a class
 * with log_paths: keyed-hash keep of each path, to find a file's records.
 */
static int hash_path_main(int argc, char **argv)
{
	const char *key_path = AUDITLOG_DEFAULT_PATH_KEY;
	unsigned char key[WRITER_PATH_KEY];
	char hex[AUDIT_HMAC_HEX], err[512];
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--key") == 0) {
		key_path = argv[2];
		i = 3;
	}
	if (i >= argc || argv[i][0] == '-') {
		fprintf(stderr,
			"usage: pinfold audit hash-path [--key PATHKEY] PATH...\n"
			"  PATHKEY: the log's key of hashed paths, audit-paths.key beside the "
			"signing key (default " AUDITLOG_DEFAULT_PATH_KEY ")\n");
		return RUN_EXIT_USAGE;
	}
	if (writer_read_path_key(key_path, key, err, sizeof(err))) {
		fprintf(stderr, "pinfold: %s\n", err);
		return EXIT_FAILURE;
	}
	for (; i < argc; i++) {
		if (audit_path_hmac(key, sizeof(key), argv[i], strlen(argv[i]), hex))
			return EXIT_FAILURE;
		printf("hmac-sha256:%s  %s\n", hex, argv[i]);
	}
	return EXIT_SUCCESS;
}

/* ---- dispatch ---- */

static void audit_usage(FILE *f)
{
	fprintf(f,
		"usage: pinfold audit COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  show [--log BASE] [FILTERS] [--json]\n"
		"                      the log's records, one readable line each\n"
		"  tail [-f] [-n N] [--log BASE] [FILTERS] [--json]\n"
		"                      the last N records (10), then with -f new ones as they come\n"
		"  verify [--log BASE] [--key PUB] [--keep CLASS=DAYS]...\n"
		"                      check the log's chain, signatures and retention\n"
		"  prune [--log BASE] [--keep CLASS=DAYS]...\n"
		"                      replace records whose retention ended by stubs\n"
		"  keygen [--key FILE] [--force]\n"
		"                      create the log's signing key pair\n"
		"  hash-path [--key PATHKEY] PATH...\n"
		"                      what records of a keyed-hash class keep of each path\n"
		"\n"
		"FILTERS: --agent A, --instance I, --since T, --until T, --denied,\n"
		"--action X, --kind K (repeatable: any of them). BASE: %s\n",
		AUDITLOG_DEFAULT_PATH);
}

int audit_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} cmds[] = {
		{"show", show_main},
		{"tail", tail_main},
		{"verify", auditlog_verify_main},
		{"prune", auditlog_prune_main},
		{"keygen", auditlog_keygen_main},
		{"hash-path", hash_path_main},
	};
	size_t i;

	if (argc < 2) {
		audit_usage(stderr);
		return RUN_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		audit_usage(stdout);
		return EXIT_SUCCESS;
	}
	fprintf(stderr, "pinfold: audit: unknown command '%s'\n", argv[1]);
	audit_usage(stderr);
	return RUN_EXIT_USAGE;
}
