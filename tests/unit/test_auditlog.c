// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_auditlog.c - the chained audit log (userspace/auditlog.c) and its
 * verify and prune (userspace/auditverify.c).
 *
 * Links are checked against values computed apart from pinfold (Python's
 * hashlib). Logs are written into a temporary directory by real writers,
 * read back line by line, and tampered with; verify's output is captured
 * and checked for the kind of fault and the line it names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "userspace/auditlog.h"

#define ZERO_LINK "0000000000000000000000000000000000000000000000000000000000000000"
/* hashlib.sha256 of LINE1, and of "pinfold-audit-3\n1\nroutine\n" + that + "\n" */
#define LINE1                                                                                      \
	"{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK "\",\"retain\":\"routine\",\"kind\":"       \
	"\"decision\",\"time\":\"2026-12-04T15:49:43.123456Z\"}"
#define LINE1_SHA "7ea74066af42c8807f33e6df673254fb07409ccdde966764f601bb4d9c615635"
#define LINE1_LINK "a8acca81788fb0ca700af847ea984f13dc055709918e85072a3ae4760bf58bf7"

struct fixture {
	char dir[64];
	char base[128];
	char key[128];
	char pub[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/pf-auditlog.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->base, sizeof(f->base), "%s/audit.jsonl", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/sign.pem", f->dir);
	snprintf(f->pub, sizeof(f->pub), "%s/sign.pub.pem", f->dir);
	if (auditlog_keygen(f->key, false, err, sizeof(err))) {
		fprintf(stderr, "keygen: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (!getenv("PF_KEEP") && system(cmd))
		return -1;
	free(f);
	return 0;
}

static struct auditlog *open_log(struct fixture *f, struct auditlog_opts *o)
{
	struct auditlog *l;
	char err[256];
	int ret;

	o->path = f->base;
	o->key_path = f->key;
	ret = auditlog_open(&l, o, err, sizeof(err));
	if (ret)
		fail_msg("auditlog_open: %s", err);
	return l;
}

/* a formatter's record, numbered n */
static void add(struct auditlog *l, const char *retain, int n)
{
	char line[160];

	snprintf(line, sizeof(line),
		 "{\"schema\":3,\"kind\":\"decision\",\"time\":\"2026-12-04T15:49:43.123456Z\","
		 "\"n\":%d,\"decision\":\"%s\"}",
		 n, strcmp(retain, "routine") ? "deny" : "allow");
	assert_int_equal(auditlog_add(l, retain, line), 0);
}

/* the lines of a file (plain or gzip), NULL-terminated */
static char **read_lines(const char *path, size_t *n)
{
	gzFile gz = gzopen(path, "rb");
	char **lines = NULL, buf[1 << 16];

	*n = 0;
	assert_non_null(gz);
	while (gzgets(gz, buf, sizeof(buf))) {
		lines = realloc(lines, (*n + 2) * sizeof(*lines));
		assert_non_null(lines);
		buf[strcspn(buf, "\n")] = '\0';
		lines[(*n)++] = strdup(buf);
		lines[*n] = NULL;
	}
	gzclose(gz);
	return lines;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void write_lines(const char *path, char **lines, size_t n)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s\n", lines[i]);
	assert_int_equal(fclose(fp), 0);
}

/* what went to stderr between stderr_begin and stderr_end */
static char cmd_err[8192];
static int stderr_file = -1, stderr_saved = -1;

static void stderr_begin(void)
{
	char tmpl[] = "/tmp/pf-stderr.XXXXXX";

	stderr_file = mkstemp(tmpl);
	stderr_saved = dup(2);
	assert_true(stderr_file >= 0 && stderr_saved >= 0);
	unlink(tmpl);
	fflush(stderr);
	dup2(stderr_file, 2);
}

static const char *stderr_end(void)
{
	ssize_t n;

	fflush(stderr);
	dup2(stderr_saved, 2);
	close(stderr_saved);
	n = pread(stderr_file, cmd_err, sizeof(cmd_err) - 1, 0);
	cmd_err[n > 0 ? n : 0] = '\0';
	close(stderr_file);
	return cmd_err;
}

/* how often needle occurs in s */
static int count_of(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

/* run pinfold audit verify (or prune) with args; its exit status, stdout in out, stderr in cmd_err */
static int run_cmd(int (*cmd)(int, char **), char *out, size_t outlen, ...)
{
	char *argv[16] = {"verify"}, tmpl[] = "/tmp/pf-verify-out.XXXXXX";
	int argc = 1, fd = mkstemp(tmpl), saved = dup(1), ret;
	va_list ap;
	ssize_t n;

	va_start(ap, outlen);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, 1);
	stderr_begin();
	ret = cmd(argc, argv);
	stderr_end();
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(tmpl);
	return ret;
}

static int verify(struct fixture *f, char *out, size_t outlen, const char *keep)
{
	return run_cmd(auditlog_verify_main, out, outlen, "--log", f->base, "--key", f->pub,
		       keep ? "--keep" : NULL, keep, NULL);
}

/* verify finds no fault; its summary in out */
static void assert_verifies(struct fixture *f, char *out, size_t outlen, const char *keep)
{
	if (verify(f, out, outlen, keep) != EXIT_SUCCESS)
		fail_msg("verify: %s", out);
}

/* the chain of lines: ids from first on, each prev the link of the one before */
static void assert_chain(char **lines, size_t n, uint64_t first, const char *prev)
{
	struct auditlog_rec r;
	const char *why;
	char link[65];

	strcpy(link, prev);
	for (size_t i = 0; i < n; i++) {
		if (auditlog_parse(lines[i], strlen(lines[i]), &r, &why))
			fail_msg("line %zu: %s: %s", i + 1, why, lines[i]);
		assert_int_equal(r.id, first + i);
		assert_string_equal(r.prev, link);
		strcpy(link, r.link);
	}
}

/* BASE holds n lines, one chain from record 1 on */
static void assert_base_chain(struct fixture *f, size_t want)
{
	size_t n;
	char **lines = read_lines(f->base, &n);

	assert_int_equal(n, want);
	assert_chain(lines, n, 1, ZERO_LINK);
	free_lines(lines, n);
}

static void test_link_computation(void **state)
{
	struct auditlog_rec r;
	const char *why;
	char sha[65], link[65];

	(void)state;
	assert_int_equal(auditlog_sha256_hex(LINE1, strlen(LINE1), sha), 0);
	assert_string_equal(sha, LINE1_SHA);
	assert_int_equal(auditlog_link(1, "routine", sha, link), 0);
	assert_string_equal(link, LINE1_LINK);
	assert_int_equal(auditlog_parse(LINE1, strlen(LINE1), &r, &why), 0);
	assert_string_equal(r.link, LINE1_LINK);
	assert_int_equal(r.id, 1);
	assert_int_equal(r.retain, AUDITLOG_RETAIN_ROUTINE);
	/* the same line under another id or class links differently */
	assert_int_equal(auditlog_link(2, "routine", sha, link), 0);
	assert_string_not_equal(link, LINE1_LINK);
	assert_int_equal(auditlog_link(1, "phi", sha, link), 0);
	assert_string_not_equal(link, LINE1_LINK);
}

static void test_stub_link_equals_original(void **state)
{
	static const char stub[] = "{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK
				   "\",\"retain\":\"routine\",\"kind\":\"pruned\","
				   "\"line_sha256\":\"" LINE1_SHA "\"}";
	static const char stub_phi[] = "{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK
				       "\",\"retain\":\"phi\",\"kind\":\"pruned\","
				       "\"line_sha256\":\"" LINE1_SHA "\"}";
	struct auditlog_rec r;
	const char *why;

	(void)state;
	assert_int_equal(auditlog_parse(stub, strlen(stub), &r, &why), 0);
	assert_true(r.stub);
	assert_string_equal(r.link, LINE1_LINK);
	/* a stub cannot change the class its record was kept under */
	assert_int_equal(auditlog_parse(stub_phi, strlen(stub_phi), &r, &why), 0);
	assert_string_not_equal(r.link, LINE1_LINK);
}

static void test_parse_rejects_non_records(void **state)
{
	static const char *const bad[] = {
		"",
		"[1]",
		"{\"schema\":2,\"kind\":\"decision\"}",
		/* members out of order */
		"{\"schema\":3,\"prev\":\"" ZERO_LINK
		"\",\"id\":1,\"retain\":\"phi\",\"kind\":\"x\"}",
		/* an id given twice: the line must start with the one JSON readers keep */
		"{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK
		"\",\"retain\":\"phi\",\"kind\":\"x\","
		"\"id\":2}",
		"{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK
		"\",\"retain\":\"forever\",\"kind\":\"x\"}",
		"{\"schema\":3,\"id\":1,\"prev\":\"00\",\"retain\":\"phi\",\"kind\":\"x\"}",
		"{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK "\",\"retain\":\"phi\"}",
		"{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK
		"\",\"retain\":\"phi\",\"kind\":\"x\"} x",
		"{\"schema\":3,\"id\":1,\"prev\":\"" ZERO_LINK "\",\"retain\":\"phi\",\"kind\":"
		"\"checkpoint\",\"time\":\"2026-12-04T15:49:43.123456Z\"}",
	};
	struct auditlog_rec r;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (auditlog_parse(bad[i], strlen(bad[i]), &r, &why) != -EBADMSG)
			fail_msg("read as a record: %s", bad[i]);
}

static void test_signature_round_trip(void **state)
{
	struct fixture *f = *state;
	struct evp_pkey_st *priv, *pub, *other;
	char err[256], sig[129], id_priv[17], id_pub[17], other_key[160];
	static const char msg[] =
		"pinfold-checkpoint-3\n7\n2026-12-04T15:49:43.123456Z\n" ZERO_LINK "\n";
	struct stat st;

	priv = auditlog_key_load(f->key, true, err, sizeof(err));
	pub = auditlog_key_load(f->pub, false, err, sizeof(err));
	assert_non_null(priv);
	assert_non_null(pub);
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(f->pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(auditlog_key_id(priv, id_priv), 0);
	assert_int_equal(auditlog_key_id(pub, id_pub), 0);
	assert_string_equal(id_priv, id_pub);

	assert_int_equal(auditlog_sign(priv, msg, strlen(msg), sig), 0);
	assert_int_equal(strlen(sig), 128);
	assert_true(auditlog_sig_ok(pub, msg, strlen(msg), sig));
	assert_false(auditlog_sig_ok(pub, msg, strlen(msg) - 1, sig));
	sig[5] = sig[5] == '0' ? '1' : '0';
	assert_false(auditlog_sig_ok(pub, msg, strlen(msg), sig));
	sig[5] = sig[5] == '0' ? '1' : '0';

	/* another pair: its key does not verify ours; keygen refuses to replace a pair */
	snprintf(other_key, sizeof(other_key), "%s/other.pem", f->dir);
	assert_int_equal(auditlog_keygen(other_key, false, err, sizeof(err)), 0);
	assert_int_equal(auditlog_keygen(other_key, false, err, sizeof(err)), -EEXIST);
	other = auditlog_key_load(other_key, true, err, sizeof(err));
	assert_non_null(other);
	assert_false(auditlog_sig_ok(other, msg, strlen(msg), sig));
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(other);
}

static void test_add_rejects_bad_lines(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);
	static const char ok[] = "{\"schema\":3,\"kind\":\"decision\"}";

	assert_int_equal(auditlog_add(l, "routine", "{\"kind\":\"decision\"}"), -EINVAL);
	assert_int_equal(auditlog_add(l, "routine", "{\"schema\":2,\"kind\":\"decision\"}"),
			 -EINVAL);
	assert_int_equal(auditlog_add(l, "routine", "{\"schema\":3,\"id\":4,\"kind\":\"x\"}"),
			 -EINVAL);
	assert_int_equal(auditlog_add(l, "routine", "{\"schema\":3,\"kind\":\"x\"}\n{}"), -EINVAL);
	assert_int_equal(auditlog_add(l, "forever", ok), -EINVAL);
	/* checkpoints are the writer's own */
	assert_int_equal(auditlog_add(l, "checkpoint", ok), -EINVAL);
	assert_int_equal(auditlog_pending(l), 0);
	assert_int_equal(auditlog_add(l, "phi", ok), 0);
	assert_int_equal(auditlog_pending(l), 1);
	assert_int_equal(auditlog_close(l, NULL), 0);
}

static void test_pending_bounded(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	static const char ok[] = "{\"schema\":3,\"kind\":\"decision\"}";
	size_t unwritten = 9;

	o.max_pending_bytes = 3 * strlen(ok);
	l = open_log(f, &o);
	for (int i = 0; i < 3; i++)
		assert_int_equal(auditlog_add(l, "phi", ok), 0);
	assert_int_equal(auditlog_add(l, "phi", ok), -ENOBUFS);
	assert_int_equal(auditlog_pending(l), 3);
	assert_int_equal(auditlog_close(l, &unwritten), 0);
	assert_int_equal(unwritten, 0);
}

/* two writers take turns on one log: one chain, each continuing the other's */
static void test_chain_across_two_handles(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *a = open_log(f, &o), *b = open_log(f, &o);
	char out[4096];
	char **lines;
	size_t n;

	add(a, "routine", 1);
	add(a, "phi", 2);
	assert_int_equal(auditlog_flush(a), 0);
	assert_int_equal(auditlog_last_id(a), 2);
	add(b, "decision", 3);
	assert_int_equal(auditlog_flush(b), 0);
	assert_int_equal(auditlog_last_id(b), 3);
	add(a, "lifecycle", 4);
	assert_int_equal(auditlog_flush(a), 0);
	assert_int_equal(auditlog_last_id(a), 4);
	assert_int_equal(auditlog_close(b, NULL), 0);
	assert_int_equal(auditlog_close(a, NULL), 0);

	lines = read_lines(f->base, &n);
	/* 4 records, then b's closing checkpoint and a's */
	assert_int_equal(n, 6);
	assert_chain(lines, n, 1, ZERO_LINK);
	assert_non_null(strstr(lines[4], "\"why\":\"close\""));
	assert_non_null(strstr(lines[5], "\"why\":\"close\""));
	assert_non_null(strstr(lines[1], "\"retain\":\"phi\",\"kind\":\"decision\""));
	free_lines(lines, n);
	assert_verifies(f, out, sizeof(out), NULL);
	assert_non_null(strstr(out, ": 6 records in 1 file, ids 1..6, 2 checkpoints verified, "
				    "head at 6: ok"));
}

/* a writer opened later continues after the log's last record, across a head and rotation */
static void test_chain_continues_after_reopen(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);
	char out[4096];

	for (int i = 0; i < 5; i++)
		add(l, "routine", i);
	assert_int_equal(auditlog_close(l, NULL), 0);
	l = open_log(f, &o);
	add(l, "routine", 5);
	assert_int_equal(auditlog_flush(l), 0);
	assert_int_equal(auditlog_last_id(l), 7); /* 5 records, a checkpoint, this one */
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_verifies(f, out, sizeof(out), NULL);
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void assert_ends_in_rotate_checkpoint(const char *gz)
{
	struct auditlog_rec r;
	const char *why;
	size_t n;
	char **lines = read_lines(gz, &n);

	assert_true(n > 0);
	assert_int_equal(auditlog_parse(lines[n - 1], strlen(lines[n - 1]), &r, &why), 0);
	assert_string_equal(r.kind, "checkpoint");
	assert_non_null(strstr(lines[n - 1], "\"why\":\"rotate\""));
	free_lines(lines, n);
}

/*
 * Rotation after every flush: each .gz ends in a checkpoint; a second writer
 * whose descriptor names the rotated file continues the chain from it.
 */
static void test_rotation(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *a, *b;
	char gz1[160], gz5[160], out[4096];
	struct stat st;

	o.rotate_bytes = 1;
	a = open_log(f, &o);
	b = open_log(f, &o);
	for (int i = 0; i < 3; i++)
		add(a, "routine", i);
	assert_int_equal(auditlog_flush(a), 0);
	auditlog_compress_wait(a);
	snprintf(gz1, sizeof(gz1), "%s.000000000001.gz", f->base);
	assert_true(file_exists(gz1));
	assert_ends_in_rotate_checkpoint(gz1);
	assert_int_equal(stat(f->base, &st), 0);
	assert_int_equal(st.st_size, 0);

	add(b, "phi", 4);
	assert_int_equal(auditlog_flush(b), 0);
	assert_int_equal(auditlog_last_id(b), 6); /* its record 5, its rotate checkpoint */
	auditlog_compress_wait(b);
	snprintf(gz5, sizeof(gz5), "%s.000000000005.gz", f->base);
	assert_ends_in_rotate_checkpoint(gz5);
	assert_int_equal(auditlog_close(a, NULL), 0);
	assert_int_equal(auditlog_close(b, NULL), 0);
	assert_verifies(f, out, sizeof(out), NULL);
	assert_non_null(strstr(out, ": 6 records in 3 files, ids 1..6, 2 checkpoints verified, "
				    "head at 6: ok"));
}

/* rewrite line i of a rotated file */
static void gz_replace_line(const char *gz, size_t i, const char *line)
{
	size_t n;
	char **lines = read_lines(gz, &n);
	gzFile out;

	assert_true(i < n);
	free(lines[i]);
	lines[i] = strdup(line);
	out = gzopen(gz, "wb");
	assert_non_null(out);
	for (size_t j = 0; j < n; j++)
		gzprintf(out, "%s\n", lines[j]);
	assert_int_equal(gzclose(out), Z_OK);
	free_lines(lines, n);
}

static void test_prune_stubs_expired(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	struct auditlog_rec r;
	const char *why;
	char gz[160], out[4096], sha[65], stub[400];
	char **lines;
	size_t n;

	o.rotate_bytes = 1;
	l = open_log(f, &o);
	add(l, "routine", 1);
	add(l, "phi", 2);
	add(l, "routine", 3);
	assert_int_equal(auditlog_close(l, NULL), 0);
	/* the writer pruned after rotating, with the default retention: nothing yet */
	snprintf(gz, sizeof(gz), "%s.000000000001.gz", f->base);
	assert_int_equal(run_cmd(auditlog_prune_main, out, sizeof(out), "--log", f->base, "--keep",
				 "routine=0", NULL),
			 EXIT_SUCCESS);
	assert_non_null(strstr(out, ": 2 records pruned"));
	lines = read_lines(gz, &n);
	assert_int_equal(n, 4);
	assert_non_null(strstr(lines[0], "\"retain\":\"routine\",\"kind\":\"pruned\""));
	assert_non_null(strstr(lines[1], "\"retain\":\"phi\",\"kind\":\"decision\""));
	assert_non_null(strstr(lines[2], "\"retain\":\"routine\",\"kind\":\"pruned\""));
	assert_chain(lines, n, 1, ZERO_LINK);
	assert_verifies(f, out, sizeof(out), "routine=0");

	/* by the default retention, the same stubs came too early */
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	assert_non_null(
		strstr(out, ".gz:1: record 1: pruned early: class routine is kept 365 days"));

	/* a stub forged for the phi record keeps the chain but not the retention */
	assert_int_equal(auditlog_parse(lines[1], strlen(lines[1]), &r, &why), 0);
	assert_int_equal(auditlog_sha256_hex(lines[1], strlen(lines[1]), sha), 0);
	snprintf(stub, sizeof(stub),
		 "{\"schema\":3,\"id\":2,\"prev\":\"%s\",\"retain\":\"phi\",\"kind\":\"pruned\","
		 "\"line_sha256\":\"%s\"}",
		 r.prev, sha);
	gz_replace_line(gz, 1, stub);
	assert_int_equal(verify(f, out, sizeof(out), "routine=0"), EXIT_FAILURE);
	print_message("%s", out);
	assert_non_null(strstr(out, ".gz:2: record 2: pruned early: class phi is kept 2192 days"));
	assert_null(strstr(out, "edited"));
	free_lines(lines, n);
}

/*
 * A write cut short by the file size limit (as a full disk would): the
 * partial record is cut back, the rest stay queued, and land later.
 */
static void test_flush_after_failure_keeps_queued(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);
	struct rlimit old, small;
	struct stat st;
	char out[4096];
	char **lines;
	size_t n;
	int ret;

	for (int i = 0; i < 3; i++)
		add(l, "routine", i);
	assert_int_equal(auditlog_flush(l), 0);
	assert_int_equal(stat(f->base, &st), 0);
	for (int i = 3; i < 13; i++)
		add(l, "routine", i);

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = st.st_size + 500; /* two records and a half */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret = auditlog_flush(l);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(ret, -EFBIG);

	lines = read_lines(f->base, &n);
	assert_true(n > 3 && n < 13);
	assert_chain(lines, n, 1, ZERO_LINK); /* whole lines only */
	assert_int_equal(auditlog_pending(l), 13 - n);
	assert_int_equal(auditlog_last_id(l), n);
	free_lines(lines, n);

	assert_int_equal(auditlog_flush(l), 0);
	assert_int_equal(auditlog_pending(l), 0);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_base_chain(f, 14);
	assert_verifies(f, out, sizeof(out), NULL);
}

/*
 * A log cut after its head was written: the next writer continues after the
 * record the head names, so that the cut stays visible as a gap.
 */
static void test_cut_log_stays_visible(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);
	char out[4096];
	char **lines;
	size_t n;

	for (int i = 0; i < 6; i++)
		add(l, "routine", i);
	assert_int_equal(auditlog_close(l, NULL), 0);
	lines = read_lines(f->base, &n);
	assert_int_equal(n, 7);
	write_lines(f->base, lines, 4);
	free_lines(lines, n);

	l = open_log(f, &o);
	add(l, "routine", 7);
	assert_int_equal(auditlog_flush(l), 0);
	assert_int_equal(auditlog_last_id(l), 8);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	assert_non_null(
		strstr(out, "audit.jsonl:5: record 8: deleted: records 5..7 missing before it"));
}

/* a writer that died inside a write leaves a partial line: the next one cuts it off */
static void test_partial_tail_cut(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);
	char out[4096];
	FILE *fp;

	add(l, "routine", 1);
	assert_int_equal(auditlog_flush(l), 0);
	fp = fopen(f->base, "a");
	assert_non_null(fp);
	fputs("{\"schema\":3,\"id\":2,\"prev\":\"", fp);
	fclose(fp);
	/* the same writer finds the file grown, as it would after another writer died */
	add(l, "routine", 2);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_base_chain(f, 3);
	assert_verifies(f, out, sizeof(out), NULL);
}

/* rotated to .gz but BASE not yet replaced: the next writer finishes the rotation */
static void test_interrupted_rotation_finished(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);
	char gz[160], out[4096];
	char **lines;
	size_t n;
	gzFile z;

	for (int i = 0; i < 3; i++)
		add(l, "routine", i);
	assert_int_equal(auditlog_close(l, NULL), 0);
	lines = read_lines(f->base, &n);
	snprintf(gz, sizeof(gz), "%s.000000000001.gz", f->base);
	z = gzopen(gz, "wb");
	for (size_t i = 0; i < n; i++)
		gzprintf(z, "%s\n", lines[i]);
	assert_int_equal(gzclose(z), Z_OK);
	free_lines(lines, n);
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	assert_non_null(strstr(out, "audit.jsonl:1: record 1: inserted: id 1 repeats"));

	l = open_log(f, &o);
	add(l, "routine", 4);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_verifies(f, out, sizeof(out), NULL);
	/* 3 records, a checkpoint, the new record and its rotate checkpoint */
	assert_non_null(strstr(out, ": 6 records in 2 files, ids 1..6"));
}

/* ---- tampering: each kind of fault, and the line verify names ---- */

struct tamper_log {
	char **lines;
	size_t n;
	char head[512];
};

/* 12 records and a checkpoint after every 4th: checkpoints at ids 5, 10 and 13 (close) */
static void tamper_setup(struct fixture *f, struct tamper_log *t)
{
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	char path[160];
	FILE *fp;

	o.checkpoint_every = 4;
	l = open_log(f, &o);
	for (int i = 1; i <= 11; i++)
		add(l, i % 3 ? "routine" : "phi", i);
	assert_int_equal(auditlog_close(l, NULL), 0);
	t->lines = read_lines(f->base, &t->n);
	assert_int_equal(t->n, 14);
	snprintf(path, sizeof(path), "%s.head", f->base);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(t->head, sizeof(t->head), fp));
	fclose(fp);
}

/* verify the log made of lines; its output, which must name kind at line */
static void tamper_check(struct fixture *f, char **lines, size_t n, bool head, const char *what,
			 const char *want)
{
	char out[8192], path[160];

	write_lines(f->base, lines, n);
	snprintf(path, sizeof(path), "%s.head", f->base);
	if (!head)
		unlink(path);
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	print_message("%s:\n%s", what, out);
	if (!strstr(out, want))
		fail_msg("%s: want '%s' in:\n%s", what, want, out);
}

static void restore(struct fixture *f, struct tamper_log *t)
{
	char path[160];
	FILE *fp;

	write_lines(f->base, t->lines, t->n);
	snprintf(path, sizeof(path), "%s.head", f->base);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(t->head, fp);
	fclose(fp);
}

/* lines from i on get prev from the line before: a chain recomputed after an edit */
static void relink(char **lines, size_t n, size_t from)
{
	struct auditlog_rec r;
	const char *why;

	for (size_t i = from; i < n; i++) {
		char *prev = strstr(lines[i], "\"prev\":\"") + 8;

		assert_int_equal(auditlog_parse(lines[i - 1], strlen(lines[i - 1]), &r, &why), 0);
		memcpy(prev, r.link, 64);
	}
}

static void test_verify_names_tampering(void **state)
{
	struct fixture *f = *state;
	struct tamper_log t;
	char *l[20], out[4096], *p, *sig5, *sig10, other[160], other_pub[160];
	size_t n = 14;

	tamper_setup(f, &t);
	assert_verifies(f, out, sizeof(out), NULL);
	print_message("untouched:\n%s", out);

	/* ids: 1-4, 5 checkpoint, 6-9, 10 checkpoint, 11-13 (line 13 is id 13), 14 close */
	memcpy(l, t.lines, n * sizeof(*l));
	p = strdup(l[6]);
	p[strlen(p) - 3] ^= 1; /* one byte of the object: "allow" becomes "allnw" */
	l[6] = p;
	tamper_check(
		f, l, n, true, "one byte edited",
		"audit.jsonl:7: record 7: edited: its link does not match the prev of record 8");
	l[6] = t.lines[6];
	free(p);

	memmove(l + 6, l + 7, (n - 7) * sizeof(*l));
	tamper_check(f, l, n - 1, true, "a line deleted",
		     "audit.jsonl:7: record 8: deleted: records 7..7 missing before it");

	memcpy(l, t.lines, 8 * sizeof(*l));
	l[8] = t.lines[2];
	memcpy(l + 9, t.lines + 8, (n - 8) * sizeof(*l));
	tamper_check(f, l, n + 1, true, "a line copied in",
		     "audit.jsonl:9: record 3: inserted: id 3 repeats");

	memcpy(l, t.lines, n * sizeof(*l));
	l[6] = t.lines[7];
	l[7] = t.lines[6];
	tamper_check(
		f, l, n, true, "two lines swapped",
		"audit.jsonl:8: record 7: reordered: ids go backwards: it comes after record 8");

	memcpy(l, t.lines, n * sizeof(*l));
	tamper_check(f, l, n - 2, true, "two lines cut off",
		     "audit.jsonl.head:1: record 14: truncated: the log ends at record 12");
	restore(f, &t);

	/* cut inside the last line */
	write_lines(f->base, t.lines, n - 1);
	{
		FILE *fp = fopen(f->base, "a");

		fwrite(t.lines[n - 1], 1, 40, fp);
		fclose(fp);
	}
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	print_message("cut inside the last line:\n%s", out);
	assert_non_null(strstr(
		out, "audit.jsonl:14: record 14: truncated: the file ends in a partial line"));

	/* an edit, and the chain recomputed after it: the checkpoints' signatures fail */
	for (size_t i = 0; i < n; i++)
		l[i] = strdup(t.lines[i]);
	p = strstr(l[6], "\"decision\":\"");
	p[12] = 'X';
	relink(l, n, 7);
	tamper_check(f, l, n, true, "an edit, the chain recomputed",
		     "audit.jsonl:10: record 10: bad signature: the checkpoint's signature does "
		     "not match the chain before it");
	for (size_t i = 0; i < n; i++)
		free(l[i]);

	/* a checkpoint's signature replaced by another's */
	for (size_t i = 0; i < n; i++)
		l[i] = strdup(t.lines[i]);
	sig5 = strstr(l[4], "\"signature\":\"") + 13;
	sig10 = strstr(l[9], "\"signature\":\"") + 13;
	memcpy(sig5, sig10, 128);
	tamper_check(f, l, n, true, "a checkpoint signature replaced",
		     "audit.jsonl:5: record 5: bad signature: the checkpoint's signature does not "
		     "match");
	for (size_t i = 0; i < n; i++)
		free(l[i]);

	memcpy(l, t.lines, n * sizeof(*l));
	tamper_check(f, l, n, false, "the head removed",
		     "audit.jsonl.head:1: unsigned: the head is missing");
	restore(f, &t);

	/* signed, but by another key than the one verify is given */
	snprintf(other, sizeof(other), "%s/other.pem", f->dir);
	snprintf(other_pub, sizeof(other_pub), "%s/other.pub.pem", f->dir);
	assert_int_equal(auditlog_keygen(other, false, out, sizeof(out)), 0);
	assert_int_equal(run_cmd(auditlog_verify_main, out, sizeof(out), "--log", f->base, "--key",
				 other_pub, NULL),
			 EXIT_FAILURE);
	print_message("another key:\n%s", out);
	assert_non_null(strstr(out, "audit.jsonl:5: record 5: bad signature: signed by key"));
	free_lines(t.lines, t.n);
}

/* ---- a writer never blesses a tail it cannot prove (chain-break) ---- */

/* path of base with suffix, into buf */
static const char *base_path(struct fixture *f, const char *suffix, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", f->base, suffix);
	return buf;
}

/* a log of n records of class retain, closed: n lines and a close checkpoint */
static void make_log(struct fixture *f, int n, const char *retain)
{
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);

	for (int i = 1; i <= n; i++)
		add(l, retain, i);
	assert_int_equal(auditlog_close(l, NULL), 0);
}

/* n records, each flushed and rotated: BASE.<2i-1>.gz holds record i and its rotate checkpoint */
static void make_rotated_log(struct fixture *f, int n)
{
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;

	o.rotate_bytes = 1;
	l = open_log(f, &o);
	for (int i = 1; i <= n; i++) {
		add(l, "decision", i);
		assert_int_equal(auditlog_flush(l), 0);
	}
	assert_int_equal(auditlog_close(l, NULL), 0);
}

/* one more record by a new writer, closed; what it said on stderr into cmd_err */
static void continue_log(struct fixture *f, int n)
{
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;

	stderr_begin();
	l = open_log(f, &o);
	add(l, "routine", n);
	assert_int_equal(auditlog_close(l, NULL), 0);
	stderr_end();
}

/* line i (0-based) of BASE is a chain-break of that kind after record last */
static void assert_break_at(struct fixture *f, size_t i, const char *found, uint64_t head_id,
			    uint64_t last)
{
	struct auditlog_rec first;
	const char *why;
	char want[256];
	char **lines;
	size_t n;

	lines = read_lines(f->base, &n);
	assert_true(i < n);
	assert_int_equal(auditlog_parse(lines[0], strlen(lines[0]), &first, &why), 0);
	assert_chain(lines, n, first.id, first.prev);
	snprintf(want, sizeof(want),
		 "\"retain\":\"lifecycle\",\"kind\":\"chain-break\",\"time\":\"");
	if (!strstr(lines[i], want))
		fail_msg("line %zu is no chain-break: %s", i + 1, lines[i]);
	snprintf(want, sizeof(want),
		 "\"found\":\"%s\",\"head_id\":%" PRIu64 ",\"log_last_id\":%" PRIu64
		 ",\"detail\":\"",
		 found, head_id, last);
	if (!strstr(lines[i], want))
		fail_msg("want %s in: %s", want, lines[i]);
	free_lines(lines, n);
}

/* verify fails with exactly one fault, want */
static void assert_only_fault(struct fixture *f, const char *want)
{
	char out[8192];

	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	print_message("%s", out);
	if (!strstr(out, want) || count_of(out, "\n") != 1)
		fail_msg("want only '%s' in:\n%s", want, out);
}

/* cut after record 4 and the head deleted: the next writer marks the tail it cannot prove */
static void test_break_when_head_missing(void **state)
{
	struct fixture *f = *state;
	char path[160];
	char **lines;
	size_t n;

	make_log(f, 6, "routine");
	lines = read_lines(f->base, &n);
	write_lines(f->base, lines, 4);
	free_lines(lines, n);
	unlink(base_path(f, ".head", path, sizeof(path)));

	continue_log(f, 7);
	print_message("writer: %s", cmd_err);
	assert_int_equal(count_of(cmd_err, "\n"), 1);
	assert_non_null(strstr(cmd_err, "chain-break record 5"));
	assert_break_at(f, 4, "head-missing", 0, 4);
	assert_only_fault(f, "audit.jsonl:5: record 5: chain-break: the writer that continued here "
			     "found no head: the records before it since the last checkpoint "
			     "(ids 1..4) are not proven");
}

/* cut, the kept record 3 edited (deny -> allow), the head spoilt */
static void test_break_when_head_not_signed(void **state)
{
	struct fixture *f = *state;
	char path[160], head[512], *sig, *at;
	char **lines;
	size_t n;
	FILE *fp;

	make_log(f, 6, "phi");
	lines = read_lines(f->base, &n);
	/* room for the one byte "allow" is longer than "deny" */
	lines[2] = realloc(lines[2], strlen(lines[2]) + 2);
	assert_non_null(lines[2]);
	at = strstr(lines[2], "\"decision\":\"deny\"");
	assert_non_null(at);
	memmove(at + 13, at + 12, strlen(at + 12) + 1);
	memcpy(at + 12, "allow", 5);
	write_lines(f->base, lines, 3);
	free_lines(lines, n);
	fp = fopen(base_path(f, ".head", path, sizeof(path)), "r+");
	assert_non_null(fp);
	assert_non_null(fgets(head, sizeof(head), fp));
	sig = strstr(head, "\"signature\":\"") + 13;
	sig[0] = sig[0] == '0' ? '1' : '0';
	rewind(fp);
	fputs(head, fp);
	fclose(fp);

	continue_log(f, 7);
	assert_non_null(strstr(cmd_err, "chain-break record 4"));
	assert_break_at(f, 3, "head-not-signed", 7, 3);
	assert_only_fault(f, "audit.jsonl:4: record 4: chain-break: the writer that continued here "
			     "found a head not signed by its key: the records before it since the "
			     "last checkpoint (ids 1..3) are not proven");
}

/* read a file whole into buf (NUL-terminated) */
static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static void spit(const char *path, const char *buf)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(buf, fp);
	assert_int_equal(fclose(fp), 0);
}

/*
 * Another writer appended records and died before its head: the writer
 * that finds them at its next flush marks them, whoever wrote them.
 */
static void test_break_when_records_after_head(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *a = open_log(f, &o), *b = open_log(f, &o);
	char path[160], head[512];

	for (int i = 1; i <= 3; i++)
		add(a, "routine", i);
	assert_int_equal(auditlog_flush(a), 0);
	slurp(base_path(f, ".head", path, sizeof(path)), head, sizeof(head));
	add(b, "decision", 4);
	add(b, "decision", 5);
	assert_int_equal(auditlog_flush(b), 0);
	spit(path, head); /* as if b had died before writing its head */

	add(a, "routine", 6);
	stderr_begin();
	assert_int_equal(auditlog_flush(a), 0);
	stderr_end();
	assert_non_null(strstr(cmd_err, "chain-break record 6"));
	assert_int_equal(auditlog_close(a, NULL), 0);
	assert_int_equal(auditlog_close(b, NULL), 0);
	assert_break_at(f, 5, "unsigned-records", 3, 5);
	assert_only_fault(f, "audit.jsonl:6: record 6: chain-break: the writer that continued here "
			     "found records after the head: the records before it since the last "
			     "checkpoint (ids 1..5) are not proven");
}

/* the record the head names edited after the head was written */
static void test_break_when_head_mismatch(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *a = open_log(f, &o);
	char *at;
	char **lines;
	size_t n;

	for (int i = 1; i <= 3; i++)
		add(a, "phi", i);
	assert_int_equal(auditlog_flush(a), 0);
	lines = read_lines(f->base, &n);
	assert_int_equal(n, 3);
	at = strstr(lines[2], "\"decision\":\"deny\"");
	memcpy(at + 12, "allow\"}", 8);
	write_lines(f->base, lines, n);
	free_lines(lines, n);

	continue_log(f, 4);
	assert_non_null(strstr(cmd_err, "chain-break record 4"));
	assert_int_equal(auditlog_close(a, NULL), 0);
	assert_break_at(f, 3, "head-mismatch", 3, 3);
	assert_only_fault(f,
			  "audit.jsonl:4: record 4: chain-break: the writer that continued here "
			  "found a head that does not match the log: the records before it since "
			  "the last checkpoint (ids 1..3) are not proven");
}

/*
 * A log with no record, no head and no rotated file is new; an emptied one
 * whose head remains, or whose rotated files remain, is not.
 */
static void test_empty_logs(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = open_log(f, &o);
	char out[4096], want[256], path[160];
	char **lines;
	size_t n;

	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_SUCCESS);
	snprintf(want, sizeof(want), "%s: no records\n", f->base);
	assert_string_equal(out, want);

	/* the first writer of a new log marks nothing */
	continue_log(f, 1);
	assert_string_equal(cmd_err, "");
	lines = read_lines(f->base, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(lines[0], "\"id\":1,"));
	assert_null(strstr(lines[0], "chain-break"));
	free_lines(lines, n);

	/* emptied, the head kept */
	assert_int_equal(truncate(f->base, 0), 0);
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	assert_non_null(strstr(out, "audit.jsonl.head:1: record 2: truncated: the log ends at "
				    "record 0, before the record the signed head names"));

	/* emptied, the head removed, but rotated files remain */
	unlink(f->base);
	unlink(base_path(f, ".head", path, sizeof(path)));
	make_rotated_log(f, 1);
	unlink(path);
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	print_message("%s", out);
	assert_non_null(strstr(out, ": truncated: the head is missing and the current file is "
				    "empty"));
	continue_log(f, 2);
	assert_break_at(f, 0, "head-missing", 0, 2);
}

/* the newest rotated files deleted, BASE emptied, the head deleted */
static void test_break_after_rotated_files_cut(void **state)
{
	struct fixture *f = *state;
	char path[160];

	make_rotated_log(f, 3);
	/* .000000000001.gz: 1, 2; .000000000003.gz: 3, 4; .000000000005.gz: 5, 6 */
	unlink(base_path(f, ".000000000005.gz", path, sizeof(path)));
	unlink(base_path(f, ".000000000003.gz", path, sizeof(path)));
	unlink(base_path(f, ".head", path, sizeof(path)));
	assert_int_equal(truncate(f->base, 0), 0);

	continue_log(f, 9);
	assert_non_null(strstr(cmd_err, "chain-break record 3"));
	assert_break_at(f, 0, "head-missing", 0, 2);
	assert_only_fault(f, "audit.jsonl:1: record 3: chain-break: the writer that continued here "
			     "found no head: ");
}

/* ---- keys: a log that lived through keygen --force ---- */

/* the key id of the public key at path */
static void key_id_of(const char *path, char id[17])
{
	char err[256];
	struct evp_pkey_st *k = auditlog_key_load(path, false, err, sizeof(err));

	if (!k)
		fail_msg("%s", err);
	assert_int_equal(auditlog_key_id(k, id), 0);
	EVP_PKEY_free(k);
}

/*
 * keygen --force keeps the old public key beside the new one; writers of
 * either key continue each other's chain without a chain-break, and verify
 * takes both keys.
 */
static void test_key_replaced(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *a, *b;
	char old_id[17], new_id[17], old_pub[192], out[8192];
	char **lines;
	size_t n;

	make_log(f, 3, "routine");
	key_id_of(f->pub, old_id);
	a = open_log(f, &o); /* still running with the old key */
	assert_int_equal(auditlog_keygen(f->key, true, out, sizeof(out)), 0);
	key_id_of(f->pub, new_id);
	assert_string_not_equal(old_id, new_id);
	snprintf(old_pub, sizeof(old_pub), "%s/sign.%s.pub.pem", f->dir, old_id);
	assert_true(access(old_pub, R_OK) == 0);

	continue_log(f, 4);
	b = open_log(f, &o);
	for (int i = 5; i < 9; i++) {
		add(i % 2 ? a : b, "routine", i);
		assert_int_equal(auditlog_flush(i % 2 ? a : b), 0);
	}
	assert_int_equal(auditlog_close(a, NULL), 0);
	assert_int_equal(auditlog_close(b, NULL), 0);
	lines = read_lines(f->base, &n);
	assert_chain(lines, n, 1, ZERO_LINK);
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], "chain-break"))
			fail_msg("a chain-break at line %zu: %s", i + 1, lines[i]);
	free_lines(lines, n);

	assert_int_equal(run_cmd(auditlog_verify_main, out, sizeof(out), "--log", f->base, "--key",
				 old_pub, "--key", f->pub, NULL),
			 EXIT_SUCCESS);
	print_message("%s", out);
	assert_non_null(strstr(out, ": ok\n"));
	/* either key alone leaves the other's checkpoints unproven */
	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	assert_non_null(strstr(out, "audit.jsonl:4: record 4: bad signature: signed by key"));
}

/* ---- the files of a log are never reached through links, nor in an open directory ---- */

static int try_open(struct fixture *f, const char *base, const char *key, char *err, size_t len)
{
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l = NULL;
	int ret;

	o.path = base ? base : f->base;
	o.key_path = key ? key : f->key;
	ret = auditlog_open(&l, &o, err, len);
	if (!ret)
		auditlog_close(l, NULL);
	print_message("open: %d %s\n", ret, ret ? err : "");
	return ret;
}

static void test_refuses_open_directories_and_keys(void **state)
{
	struct fixture *f = *state;
	char dir[160], base[192], key[192], err[512];

	snprintf(dir, sizeof(dir), "%s/open", f->dir);
	snprintf(base, sizeof(base), "%s/audit.jsonl", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_not_equal(try_open(f, base, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "writable by group or others"));
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_not_equal(try_open(f, base, NULL, err, sizeof(err)), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_int_not_equal(try_open(f, base, NULL, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "owned by uid 65534"));
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	assert_int_equal(try_open(f, base, NULL, err, sizeof(err)), 0);

	/* the private key: readable by others, owned by another, in an open directory */
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_not_equal(try_open(f, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "readable or writable by group or others"));
	assert_int_equal(chmod(f->key, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(f->key, 65534, 65534), 0);
		assert_int_not_equal(try_open(f, NULL, NULL, err, sizeof(err)), 0);
		assert_int_equal(chown(f->key, 0, 0), 0);
	}
	snprintf(key, sizeof(key), "%s/sign.pem", dir);
	assert_int_equal(rename(f->key, key), 0);
	assert_int_equal(chmod(dir, 0757), 0);
	assert_int_not_equal(try_open(f, NULL, key, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "writable by others"));
	assert_int_equal(rename(key, f->key), 0);
}

static void assert_victim_intact(const char *victim)
{
	char buf[256];

	slurp(victim, buf, sizeof(buf));
	assert_string_equal(buf, "IMPORTANT\n");
}

/*
 * Links planted at the names the writer, rotation and prune create are
 * removed, never followed; the log's own files are refused as links.
 */
static void test_never_follows_links(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	char victim[160], path[192], out[4096], err[512];
	static const char *const tmps[] = {".head.tmp", ".000000000001.gz.tmp", ".new",
					   ".000000000003.gz.tmp"};

	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	spit(victim, "IMPORTANT\n");
	for (size_t i = 0; i < sizeof(tmps) / sizeof(tmps[0]); i++)
		assert_int_equal(symlink(victim, base_path(f, tmps[i], path, sizeof(path))), 0);
	o.rotate_bytes = 1;
	l = open_log(f, &o);
	for (int i = 1; i <= 4; i++)
		add(l, "routine", i);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_victim_intact(victim);
	assert_verifies(f, out, sizeof(out), NULL);

	/* prune's temporary file */
	assert_int_equal(symlink(victim, base_path(f, ".000000000001.gz.tmp", path, sizeof(path))),
			 0);
	assert_int_equal(run_cmd(auditlog_prune_main, out, sizeof(out), "--log", f->base, "--keep",
				 "routine=0", NULL),
			 EXIT_SUCCESS);
	assert_victim_intact(victim);

	/* the lock, BASE and the head are refused as links; BASE with two names too */
	assert_int_equal(rename(base_path(f, ".lock", path, sizeof(path)), victim), 0);
	spit(victim, "IMPORTANT\n");
	assert_int_equal(symlink(victim, path), 0);
	assert_int_not_equal(try_open(f, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(unlink(path), 0);

	assert_int_equal(unlink(f->base), 0);
	assert_int_equal(symlink(victim, f->base), 0);
	assert_int_not_equal(try_open(f, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(unlink(f->base), 0);
	assert_int_equal(link(victim, f->base), 0);
	assert_int_not_equal(try_open(f, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "hard link"));
	assert_victim_intact(victim);
}

/* ---- --keep within bounds ---- */

static void test_keep_bounded(void **state)
{
	struct fixture *f = *state;
	struct auditlog_keep k;
	char out[4096];

	auditlog_keep_init(&k);
	assert_int_equal(auditlog_keep_parse(&k, "routine=100000"), 0);
	assert_int_equal(k.days[AUDITLOG_RETAIN_ROUTINE], 100000);
	assert_int_not_equal(auditlog_keep_parse(&k, "routine=100001"), 0);
	assert_int_not_equal(auditlog_keep_parse(&k, "decision=1000000"), 0);
	make_log(f, 2, "decision");
	assert_int_equal(run_cmd(auditlog_prune_main, out, sizeof(out), "--log", f->base, "--keep",
				 "decision=1000000", NULL),
			 2);
	assert_non_null(strstr(cmd_err, "at most 100000"));
	assert_int_equal(verify(f, out, sizeof(out), "decision=106752"), 2);
	assert_non_null(strstr(cmd_err, "at most 100000"));
}

/* ---- a stub is exactly what prune writes ---- */

static void test_stub_canonical(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	struct auditlog_rec r;
	const char *why;
	char gz[160], out[4096], stub[512], *end;
	char **lines;
	size_t n;

	o.rotate_bytes = 1;
	l = open_log(f, &o);
	add(l, "routine", 1);
	add(l, "routine", 2);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_int_equal(run_cmd(auditlog_prune_main, out, sizeof(out), "--log", f->base, "--keep",
				 "routine=0", NULL),
			 EXIT_SUCCESS);
	base_path(f, ".000000000001.gz", gz, sizeof(gz));
	lines = read_lines(gz, &n);
	assert_non_null(strstr(lines[0], "\"kind\":\"pruned\""));
	/* an extra member, and a space: the link is the same, the line is not a stub */
	strcpy(stub, lines[0]);
	end = stub + strlen(stub) - 1;
	strcpy(end, ",\"note\":\"kept\"}");
	assert_int_equal(auditlog_parse(stub, strlen(stub), &r, &why), -EBADMSG);
	gz_replace_line(gz, 0, stub);
	assert_int_equal(verify(f, out, sizeof(out), "routine=0"), EXIT_FAILURE);
	print_message("%s", out);
	assert_non_null(strstr(out, ".gz:1: not a record: "));
	strcpy(stub, lines[0]);
	end = strstr(stub, ",\"line_sha256\"");
	memmove(end + 2, end + 1, strlen(end));
	end[1] = ' ';
	assert_int_equal(auditlog_parse(stub, strlen(stub), &r, &why), -EBADMSG);
	free_lines(lines, n);
}

/* ---- verify reads under the lock, prints after it ---- */

/* whether pid waits in /proc/locks for a lock */
static bool blocked_on_lock(pid_t pid)
{
	char line[256], want[32];
	bool yes = false;
	FILE *fp = fopen("/proc/locks", "r");

	snprintf(want, sizeof(want), " %d ", (int)pid);
	while (fp && !yes && fgets(line, sizeof(line), fp))
		yes = strstr(line, "-> FLOCK") && strstr(line, want);
	if (fp)
		fclose(fp);
	return yes;
}

/* verify in a child, stdout into fd; its pid */
static pid_t verify_child(struct fixture *f, int fd)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {"verify", "--log", f->base, "--key", f->pub, NULL};

		int ret;

		dup2(fd, 1);
		ret = auditlog_verify_main(5, argv);
		fflush(stdout);
		_exit(ret);
	}
	return pid;
}

/* a rotation while verify waits for the lock: verify lists the files it finds then */
static void test_verify_lists_under_lock(void **state)
{
	struct fixture *f = *state;
	char path[160], gz[160], out[4096], tmpl[] = "/tmp/pf-verify-out.XXXXXX";
	int lock, fd = mkstemp(tmpl), status;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	char **lines;
	size_t n;
	gzFile z;
	pid_t pid;

	/* a log whose BASE ends in a rotate checkpoint, not yet rotated */
	o.rotate_bytes = 1;
	l = open_log(f, &o);
	for (int i = 1; i <= 3; i++)
		add(l, "routine", i);
	assert_int_equal(auditlog_close(l, NULL), 0);
	base_path(f, ".000000000001.gz", gz, sizeof(gz));
	lines = read_lines(gz, &n);
	write_lines(f->base, lines, n);
	free_lines(lines, n);
	assert_int_equal(unlink(gz), 0);
	assert_verifies(f, out, sizeof(out), NULL);

	lock = open(base_path(f, ".lock", path, sizeof(path)), O_RDWR);
	assert_true(lock >= 0 && fd >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0);
	pid = verify_child(f, fd);
	for (int i = 0; i < 500 && !blocked_on_lock(pid); i++)
		usleep(10000);
	assert_true(blocked_on_lock(pid));
	/* a rotation as the writer makes it: BASE into BASE.<first>.gz, an empty BASE */
	lines = read_lines(f->base, &n);
	z = gzopen(base_path(f, ".000000000001.gz", gz, sizeof(gz)), "wb");
	for (size_t i = 0; i < n; i++)
		gzprintf(z, "%s\n", lines[i]);
	assert_int_equal(gzclose(z), Z_OK);
	free_lines(lines, n);
	assert_int_equal(truncate(f->base, 0), 0);
	flock(lock, LOCK_UN);
	close(lock);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n] = '\0';
	close(fd);
	unlink(tmpl);
	print_message("%s", out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SUCCESS);
	if (!strstr(out, ": 4 records in 2 files, ids 1..4, 1 checkpoint verified, head at 4: ok"))
		fail_msg("verify: %s", out);
}

/* a reader that does not read verify's output keeps no writer waiting */
static void test_verify_prints_after_unlock(void **state)
{
	struct fixture *f = *state;
	char path[160], buf[4096];
	int lock, pipefd[2], status, got = -1;
	FILE *fp = fopen(f->base, "w");
	pid_t pid;

	assert_non_null(fp);
	for (int i = 0; i < 3000; i++)
		fprintf(fp, "not a record %d\n", i);
	fclose(fp);
	lock = open(base_path(f, ".lock", path, sizeof(path)), O_RDWR | O_CREAT, 0600);
	assert_true(lock >= 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = verify_child(f, pipefd[1]);
	close(pipefd[1]);
	/* its first output; then the output (about 300 KB) fills the pipe */
	assert_int_equal(poll(&(struct pollfd){.fd = pipefd[0], .events = POLLIN}, 1, 10000), 1);
	for (int i = 0; i < 500 && got; i++) {
		got = flock(lock, LOCK_EX | LOCK_NB);
		if (got)
			usleep(10000);
	}
	while (read(pipefd[0], buf, sizeof(buf)) > 0)
		;
	close(pipefd[0]);
	close(lock);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(got, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_FAILURE);
}

/* ---- a failed rotation leaves the log as it was, and says so once ---- */

static void test_failed_rotation(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	char path[160], gz[160], out[4096];

	/* a directory where rotation makes its new BASE: replacing BASE fails */
	assert_int_equal(mkdir(base_path(f, ".new", path, sizeof(path)), 0700), 0);
	o.rotate_bytes = 1;
	l = open_log(f, &o);
	stderr_begin();
	for (int i = 1; i <= 3; i++) {
		add(l, "routine", i);
		assert_int_equal(auditlog_flush(l), 0);
	}
	stderr_end();
	print_message("writer: %s", cmd_err);
	assert_int_equal(count_of(cmd_err, "\n"), 1);
	assert_non_null(strstr(cmd_err, "cannot rotate the audit log"));
	assert_int_equal(access(base_path(f, ".000000000001.gz", gz, sizeof(gz)), F_OK), -1);
	assert_verifies(f, out, sizeof(out), NULL);
	assert_int_equal(auditlog_close(l, NULL), 0);

	/* once it can, the next writer rotates */
	assert_int_equal(rmdir(path), 0);
	o.rotate_bytes = 1;
	l = open_log(f, &o);
	add(l, "routine", 4);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_int_equal(access(gz, F_OK), 0);
	assert_verifies(f, out, sizeof(out), NULL);
}

/* ---- compression of rotated files, apart from rotation ---- */

/*
 * Rotation does not wait for compression: with the gzip copy's name taken
 * (a directory there), the rotation stands, the rotated file stays plain
 * and verifies, and the failure is said once; the next writer compresses.
 */
static void test_rotation_without_compression(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	char tmp[160], plain[160], gz[160], out[4096];
	struct stat st;

	assert_int_equal(mkdir(base_path(f, ".000000000001.gz.tmp", tmp, sizeof(tmp)), 0700), 0);
	o.rotate_bytes = 1;
	l = open_log(f, &o);
	stderr_begin();
	add(l, "routine", 1);
	assert_int_equal(auditlog_flush(l), 0);
	auditlog_compress_wait(l);
	stderr_end();
	print_message("writer: %s", cmd_err);
	assert_non_null(strstr(cmd_err, "cannot compress the rotated audit log file"));
	/* rotated: BASE is empty, its records in the plain rotated file */
	assert_int_equal(stat(f->base, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(access(base_path(f, ".000000000001", plain, sizeof(plain)), F_OK), 0);
	assert_int_equal(access(base_path(f, ".000000000001.gz", gz, sizeof(gz)), F_OK), -1);
	assert_verifies(f, out, sizeof(out), NULL);
	assert_non_null(strstr(out, ": 2 records in 2 files, ids 1..2"));
	/* later rotations are not held up by the one that failed */
	add(l, "routine", 2);
	assert_int_equal(auditlog_flush(l), 0);
	auditlog_compress_wait(l);
	assert_int_equal(access(base_path(f, ".000000000003.gz", gz, sizeof(gz)), F_OK), 0);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_verifies(f, out, sizeof(out), NULL);

	assert_int_equal(rmdir(tmp), 0);
	l = open_log(f, &o);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_int_equal(access(plain, F_OK), -1);
	assert_int_equal(access(base_path(f, ".000000000001.gz", gz, sizeof(gz)), F_OK), 0);
	assert_verifies(f, out, sizeof(out), NULL);
	assert_non_null(strstr(out, ": 4 records in 3 files, ids 1..4"));
}

/*
 * A writer killed while compressing: one rotated file plain beside a
 * half-written .gz.tmp, another both plain and compressed (killed between
 * the rename and the unlink). Verify and a reader take the plain files;
 * the next writer compresses them and clears the leftovers.
 */
static void test_compression_interrupted(void **state)
{
	struct fixture *f = *state;
	struct auditlog_opts o = AUDITLOG_OPTS_INIT;
	struct auditlog *l;
	char gz3[160], gz5[160], plain3[160], plain5[160], tmp5[160], out[4096];
	char **lines;
	size_t n;
	int fd;

	make_rotated_log(f, 3);
	base_path(f, ".000000000003.gz", gz3, sizeof(gz3));
	base_path(f, ".000000000005.gz", gz5, sizeof(gz5));
	base_path(f, ".000000000003", plain3, sizeof(plain3));
	base_path(f, ".000000000005", plain5, sizeof(plain5));
	base_path(f, ".000000000005.gz.tmp", tmp5, sizeof(tmp5));
	lines = read_lines(gz3, &n);
	write_lines(plain3, lines, n);
	free_lines(lines, n);
	lines = read_lines(gz5, &n);
	write_lines(plain5, lines, n);
	free_lines(lines, n);
	assert_int_equal(unlink(gz5), 0);
	fd = open(tmp5, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x1f\x8b\x08", 3), 3);
	close(fd);

	assert_verifies(f, out, sizeof(out), NULL);
	assert_non_null(strstr(out, ": 6 records in 4 files, ids 1..6"));

	o.rotate_bytes = 1;
	l = open_log(f, &o);
	add(l, "decision", 4);
	assert_int_equal(auditlog_close(l, NULL), 0);
	assert_int_equal(access(plain3, F_OK), -1);
	assert_int_equal(access(plain5, F_OK), -1);
	assert_int_equal(access(tmp5, F_OK), -1);
	assert_int_equal(access(gz5, F_OK), 0);
	assert_verifies(f, out, sizeof(out), NULL);
	assert_non_null(strstr(out, ": 8 records in 5 files, ids 1..8"));
}

/* ---- rotated files: named for their first record, ending in a rotate checkpoint, one stream ---- */

static void copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

/* verify fails naming want */
static void assert_fault(struct fixture *f, const char *what, const char *want)
{
	char out[8192];

	assert_int_equal(verify(f, out, sizeof(out), NULL), EXIT_FAILURE);
	print_message("%s:\n%s", what, out);
	if (!strstr(out, want))
		fail_msg("%s: want '%s' in:\n%s", what, want, out);
}

static void test_verify_checks_rotated_files(void **state)
{
	struct fixture *f = *state;
	char gz1[160], gz3[160], gz4[160], save1[160], save3[160], out[4096];
	char **lines;
	size_t n;
	gzFile z;
	FILE *fp;

	make_rotated_log(f, 3);
	assert_verifies(f, out, sizeof(out), NULL);
	base_path(f, ".000000000001.gz", gz1, sizeof(gz1));
	base_path(f, ".000000000003.gz", gz3, sizeof(gz3));
	base_path(f, ".000000000004.gz", gz4, sizeof(gz4));
	snprintf(save1, sizeof(save1), "%s/save1", f->dir);
	snprintf(save3, sizeof(save3), "%s/save3", f->dir);
	copy_file(gz1, save1);
	copy_file(gz3, save3);

	fp = fopen(gz1, "a");
	fputs("trailing bytes\n", fp);
	fclose(fp);
	assert_fault(f, "bytes after the gzip stream", ".000000000001.gz:3: not a record: ");
	copy_file(save1, gz1);

	/* the records of .3.gz moved into .1.gz, as a second gzip stream */
	lines = read_lines(gz3, &n);
	z = gzopen(gz1, "ab");
	for (size_t i = 0; i < n; i++)
		gzprintf(z, "%s\n", lines[i]);
	assert_int_equal(gzclose(z), Z_OK);
	free_lines(lines, n);
	unlink(gz3);
	assert_fault(f, "records moved into another file", ".000000000001.gz:");
	copy_file(save1, gz1);
	copy_file(save3, gz3);

	assert_int_equal(rename(gz3, gz4), 0);
	assert_fault(f, "a rotated file renamed",
		     ".000000000004.gz:1: record 3: renamed: the file's name says its first record "
		     "is 4");
	assert_int_equal(rename(gz4, gz3), 0);

	/* .1.gz without its rotate checkpoint */
	lines = read_lines(gz1, &n);
	z = gzopen(gz1, "wb");
	gzprintf(z, "%s\n", lines[0]);
	assert_int_equal(gzclose(z), Z_OK);
	free_lines(lines, n);
	assert_fault(f, "a rotated file cut",
		     ".000000000001.gz:1: record 1: truncated: the rotated file does not end in "
		     "a rotate checkpoint");
}

/* Not a timed test: what one flush of a kernel pass (256 records) costs, per sync policy. */
static void test_flush_cost(void **state)
{
	static const char *const names[] = {"batch", "always", "none"};
	struct fixture *f = *state;
	char line[700];

	/* about the size of a decision record */
	snprintf(line, sizeof(line), "{\"schema\":3,\"kind\":\"decision\",\"pad\":\"%0*d\"}",
		 (int)sizeof(line) - 48, 0);
	for (int s = AUDITLOG_SYNC_BATCH; s <= AUDITLOG_SYNC_NONE; s++) {
		struct auditlog_opts o = AUDITLOG_OPTS_INIT;
		struct auditlog *l;
		struct timespec a, b;

		o.sync = s;
		l = open_log(f, &o);
		for (int round = 0; round < 2; round++) {
			for (int i = 0; i < 256; i++)
				assert_int_equal(auditlog_add(l, "routine", line), 0);
			clock_gettime(CLOCK_MONOTONIC, &a);
			assert_int_equal(auditlog_flush(l), 0);
			clock_gettime(CLOCK_MONOTONIC, &b);
		}
		/* the second round: the first also reads the log's end */
		print_message("flush of 256 records of %zu bytes, sync %s: %.3f ms\n", strlen(line),
			      names[s],
			      (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
		assert_int_equal(auditlog_close(l, NULL), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_computation),
		cmocka_unit_test(test_stub_link_equals_original),
		cmocka_unit_test(test_parse_rejects_non_records),
		cmocka_unit_test_setup_teardown(test_signature_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_rejects_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_across_two_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_continues_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_stubs_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_after_failure_keeps_queued, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cut_log_stays_visible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_tail_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_rotation_finished, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_when_head_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_when_head_not_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_when_records_after_head, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_break_when_head_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_after_rotated_files_cut, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_key_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_open_directories_and_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_never_follows_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stub_canonical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_lists_under_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_prints_after_unlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_without_compression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compression_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_checks_rotated_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_cost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
