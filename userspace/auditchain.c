// SPDX-License-Identifier: GPL-2.0-only
/*
 * auditchain.c - the chain's primitives, shared by the writer (auditlog.c)
 * and the verifier (auditverify.c): retention classes, record parsing,
 * links, what checkpoints and heads sign, the keys, and keygen. See
 * auditchain.h and docs/audit.md.
 *
 * The writer makes what the verifier checks: a byte that differs between
 * the two would fail every log, so each of these exists once, here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "auditchain.h"

#define NSEC 1000000000LL
#define DAY_NS (86400LL * NSEC)

/* ---- retention ---- */

static const char *const retain_names[AUDITLOG_RETAIN_N] = {
	[AUDITLOG_RETAIN_PHI] = "phi",
	[AUDITLOG_RETAIN_ROUTINE] = "routine",
	[AUDITLOG_RETAIN_DECISION] = "decision",
	[AUDITLOG_RETAIN_LIFECYCLE] = "lifecycle",
	[AUDITLOG_RETAIN_CHECKPOINT] = "checkpoint",
};

const char *auditlog_retain_name(enum auditlog_retain r)
{
	return (unsigned)r < AUDITLOG_RETAIN_N ? retain_names[r] : NULL;
}

int auditlog_retain_of_name(const char *name)
{
	for (int i = 0; i < AUDITLOG_RETAIN_N; i++)
		if (name && !strcmp(name, retain_names[i]))
			return i;
	return -EINVAL;
}

void auditlog_keep_init(struct auditlog_keep *k)
{
	k->days[AUDITLOG_RETAIN_PHI] = 2192;
	k->days[AUDITLOG_RETAIN_ROUTINE] = 365;
	k->days[AUDITLOG_RETAIN_DECISION] = 2192;
	k->days[AUDITLOG_RETAIN_LIFECYCLE] = 2192;
	k->days[AUDITLOG_RETAIN_CHECKPOINT] = -1;
}

int auditlog_keep_parse(struct auditlog_keep *k, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[16], *end;
	long long days;
	int r;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return -EINVAL;
	memcpy(name, arg, eq - arg);
	name[eq - arg] = '\0';
	r = auditlog_retain_of_name(name);
	if (r < 0 || r == AUDITLOG_RETAIN_CHECKPOINT)
		return -EINVAL;
	if (!strcmp(eq + 1, "forever")) {
		k->days[r] = -1;
		return 0;
	}
	errno = 0;
	days = strtoll(eq + 1, &end, 10);
	if (end == eq + 1 || *end || days < 0)
		return -EINVAL;
	if (errno || days > AUDITLOG_KEEP_MAX_DAYS)
		return -ERANGE;
	k->days[r] = days;
	return 0;
}

bool auditlog_retention_ended(const struct auditlog_keep *k, enum auditlog_retain r, int64_t cp_ns,
			      int64_t now_ns)
{
	long long days = k->days[r];

	/* days beyond the bound keep_parse sets would overflow: they are as good as forever */
	if (days < 0 || days > AUDITLOG_KEEP_MAX_DAYS || cp_ns <= 0 || now_ns <= cp_ns)
		return false;
	return now_ns - cp_ns > days * DAY_NS;
}

/* ---- small helpers ---- */

int64_t auditlog_clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

char *auditlog_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return slash == path ? strdup("/") : strndup(path, slash - path);
}

int auditlog_grow(void *arrayp, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t c = *cap ? 2 * *cap : first;
	void *p;

	if (n < *cap)
		return 0;
	/* through memcpy: arrayp is a T ** for any T, which void ** may not alias */
	memcpy(&p, arrayp, sizeof(p));
	p = realloc(p, c * size);
	if (!p)
		return -ENOMEM;
	memcpy(arrayp, &p, sizeof(p));
	*cap = c;
	return 0;
}

/* ---- hashing and signing ---- */

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * SHA-256, fetched once: EVP_sha256() makes OpenSSL 3 look the digest up
 * again at every use, a fifth of the cost of hashing one record.
 */
static const EVP_MD *sha256_md(void)
{
	static EVP_MD *md;
	EVP_MD *m = __atomic_load_n(&md, __ATOMIC_ACQUIRE), *none = NULL;

	if (m)
		return m;
	m = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!m)
		return EVP_sha256();
	if (!__atomic_compare_exchange_n(&md, &none, m, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		EVP_MD_free(m); /* another thread fetched it first */
		m = none;
	}
	return m;
}

/* this thread's digest context, made once: EVP_Digest makes and frees one a call */
static __thread EVP_MD_CTX *sha256_ctx;

int auditlog_sha256_hex(const void *p, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!sha256_ctx)
		sha256_ctx = EVP_MD_CTX_new();
	if (!sha256_ctx || !EVP_DigestInit_ex(sha256_ctx, sha256_md(), NULL) ||
	    !EVP_DigestUpdate(sha256_ctx, p, len) || !EVP_DigestFinal_ex(sha256_ctx, md, &n) ||
	    n != 32)
		return -EIO;
	hex(md, 32, out);
	return 0;
}

int auditlog_link(uint64_t id, const char *retain, const char *line_sha256, char out[65])
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "pinfold-audit-3\n%" PRIu64 "\n%s\n%s\n", id, retain,
			 line_sha256);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return auditlog_sha256_hex(buf, n, out);
}

int auditlog_checkpoint_bytes(char *buf, size_t len, uint64_t id, const char *time,
			      const char *prev)
{
	int n = snprintf(buf, len, "pinfold-checkpoint-3\n%" PRIu64 "\n%s\n%s\n", id, time, prev);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int auditlog_head_bytes(char *buf, size_t len, uint64_t id, const char *link, const char *time)
{
	int n = snprintf(buf, len, "pinfold-head-3\n%" PRIu64 "\n%s\n%s\n", id, link, time);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int auditlog_key_id(EVP_PKEY *key, char out[17])
{
	unsigned char raw[32];
	size_t n = sizeof(raw);
	char sha[65];

	if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != sizeof(raw))
		return -EINVAL;
	if (auditlog_sha256_hex(raw, n, sha))
		return -EIO;
	memcpy(out, sha, 16);
	out[16] = '\0';
	return 0;
}

int auditlog_sign(EVP_PKEY *key, const void *msg, size_t len, char out[129])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[64];
	size_t n = sizeof(sig);
	int err = -EIO;

	/* Ed25519 hashes internally: no digest is named */
	if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == sizeof(sig)) {
		hex(sig, n, out);
		err = 0;
	}
	EVP_MD_CTX_free(ctx);
	return err;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char c = s[2 * i + j];

			if (c >= '0' && c <= '9')
				v = v * 16 + (c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (c - 'a' + 10);
			else
				return -EINVAL;
		}
		out[i] = v;
	}
	return s[2 * n] ? -EINVAL : 0;
}

bool auditlog_sig_ok(EVP_PKEY *key, const void *msg, size_t len, const char *sig_hex)
{
	unsigned char sig[64];
	EVP_MD_CTX *ctx;
	bool ok;

	if (unhex(sig_hex, sig, sizeof(sig)))
		return false;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, sig, sizeof(sig), msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/*
 * Whether the private key open as fd at path is the owner's secret: a
 * regular file owned by root or this user, no group or other bits, in a
 * directory others cannot write (where they could swap it). 0 or -EPERM.
 */
static int key_private(int fd, const char *path, char *err, size_t errlen)
{
	char *dir = auditlog_dir_of(path);
	struct stat st, dst;
	int ret = -EPERM;

	if (!dir || fstat(fd, &st) || stat(dir, &dst))
		snprintf(err, errlen, "cannot check the signing key %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(err, errlen, "signing key %s is not a regular file", path);
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		snprintf(err, errlen, "signing key %s is owned by uid %u, not by root or this user",
			 path, (unsigned)st.st_uid);
	else if (st.st_mode & 077)
		snprintf(err, errlen,
			 "signing key %s is readable or writable by group or others (mode %04o): "
			 "chmod 600 it",
			 path, (unsigned)(st.st_mode & 07777));
	else if (dst.st_mode & S_IWOTH)
		snprintf(err, errlen, "signing key %s: its directory %s is writable by others",
			 path, dir);
	else
		ret = 0;
	free(dir);
	return ret;
}

EVP_PKEY *auditlog_key_load(const char *path, bool private_key, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), e;
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	EVP_PKEY *key;

	if (!f) {
		e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "cannot open %s key %s: %s",
			 private_key ? "signing" : "public", path, strerror(e));
		errno = e;
		return NULL;
	}
	if (private_key && key_private(fd, path, err, errlen)) {
		fclose(f);
		errno = EPERM;
		return NULL;
	}
	key = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
			  : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!key) {
		snprintf(err, errlen, "%s: not a PEM %s key", path,
			 private_key ? "private" : "public");
		errno = EINVAL;
		return NULL;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 key", path);
		EVP_PKEY_free(key);
		errno = EINVAL;
		return NULL;
	}
	return key;
}

char *auditlog_old_pub_path(const char *key_path, const char *key_id)
{
	size_t n = strlen(key_path);
	char *p;

	if (n > 4 && !strcmp(key_path + n - 4, ".pem"))
		n -= 4;
	return asprintf(&p, "%.*s.%s.pub.pem", (int)n, key_path, key_id) < 0 ? NULL : p;
}

/* The public key at path when its id is key_id and only its owner, root or this user, may write it. */
static EVP_PKEY *trusted_pub(const char *path, const char *key_id)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	EVP_PKEY *key = NULL;
	struct stat st;
	char id[17];

	if (f && !fstat(fd, &st) && S_ISREG(st.st_mode) && !(st.st_mode & 022) &&
	    (st.st_uid == 0 || st.st_uid == geteuid()))
		key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (f)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	if (key && (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519 || auditlog_key_id(key, id) ||
		    strcmp(id, key_id))) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

EVP_PKEY *auditlog_key_of_id(const char *key_path, const char *key_id)
{
	char *pub = auditlog_pub_path(key_path), *old = auditlog_old_pub_path(key_path, key_id);
	EVP_PKEY *key = trusted_pub(pub, key_id);

	if (!key)
		key = trusted_pub(old, key_id);
	free(pub);
	free(old);
	return key;
}

/* ---- the files of a log ---- */

int auditlog_file_open(const char *path, int flags, mode_t mode, const char **why)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode), err = 0;
	struct stat st;

	if (fd < 0) {
		err = -errno;
		if (why)
			*why = err == -ELOOP ? "a symbolic link" : strerror(-err);
		return err;
	}
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	/* a file written must be no other file's name too; one read may be linked (a backup) */
	else if ((flags & O_ACCMODE) != O_RDONLY && st.st_nlink != 1)
		err = -EMLINK;
	if (!err)
		return fd;
	close(fd);
	if (why)
		*why = err == -EINVAL   ? "not a regular file"
		       : err == -EMLINK ? "a file with other hard links"
					: strerror(-err);
	return err;
}

int auditlog_file_create(const char *path, mode_t mode)
{
	int fd;

	/* a stale file, or a link someone planted: gone, not followed */
	if (unlink(path) && errno != ENOENT)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

/* ---- records ---- */

int auditlog_rec_prefix(char *buf, size_t len, uint64_t id, const char *prev, const char *retain)
{
	int n = snprintf(buf, len,
			 "{\"schema\":3,\"id\":%" PRIu64 ",\"prev\":\"%s\",\"retain\":\"%s\",", id,
			 prev, retain);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* RFC 3339 UTC as audit_format_time writes it -> ns since the epoch; 0 when unreadable */
static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long us = 0;
	time_t t;

	if (!rest)
		return 0;
	if (*rest == '.' && sscanf(rest, ".%6ld", &us) != 1)
		return 0;
	t = timegm(&tm);
	/* before 1970 or after 2262 is no time a writer wrote: unreadable, not an overflow */
	if (t < 0 || t >= INT64_MAX / NSEC - 1)
		return 0;
	return (int64_t)t * NSEC + (int64_t)us * 1000;
}

static int copy_str(struct json_object *o, const char *key, char *out, size_t len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= len)
		return -EBADMSG;
	memcpy(out, json_object_get_string(v), json_object_get_string_len(v) + 1);
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* a short word member (a checkpoint's why, a chain-break's found) into out; "" when odd */
static void copy_word(struct json_object *o, const char *key, char *out, size_t len)
{
	/* printed by verify: nothing but lowercase letters and '-' */
	if (copy_str(o, key, out, len) || strspn(out, "abcdefghijklmnopqrstuvwxyz-") != strlen(out))
		out[0] = '\0';
}

int auditlog_stub_line(char *buf, size_t len, uint64_t id, const char *prev, const char *retain,
		       const char *line_sha256)
{
	int n = auditlog_rec_prefix(buf, len, id, prev, retain), m;

	if (n < 0)
		return n;
	m = snprintf(buf + n, len - n, "\"kind\":\"pruned\",\"line_sha256\":\"%s\"}", line_sha256);
	return m < 0 || (size_t)m >= len - n ? -ENOSPC : n + m;
}

/* A stub is the one line prune makes: members added to it would be kept by nobody's hash. */
static bool stub_canonical(const struct auditlog_rec *rec, const char *line, size_t len,
			   const char *sha)
{
	char want[256];
	int n = auditlog_stub_line(want, sizeof(want), rec->id, rec->prev,
				   retain_names[rec->retain], sha);

	return n > 0 && (size_t)n == len && !memcmp(want, line, len);
}

/* the members a stub or a checkpoint needs, and the link */
static int parse_members(struct json_object *o, const char *line, size_t len,
			 struct auditlog_rec *rec, const char **why)
{
	char sha[65];

	if (copy_str(o, "kind", rec->kind, sizeof(rec->kind)))
		return *why = "no kind", -EBADMSG;
	/* what verify prints of a record must be safe on a terminal */
	if (!copy_str(o, "time", rec->time, sizeof(rec->time)) &&
	    strspn(rec->time, "0123456789-T:.Z") == strlen(rec->time))
		rec->time_ns = parse_time(rec->time);
	else
		rec->time[0] = '\0';
	rec->stub = !strcmp(rec->kind, "pruned");
	if (rec->stub) {
		if (copy_str(o, "line_sha256", sha, sizeof(sha)) || !is_hex(sha, 64))
			return *why = "a stub without line_sha256", -EBADMSG;
		if (!stub_canonical(rec, line, len, sha))
			return *why = "a stub that is not exactly id, prev, retain, kind and "
				      "line_sha256",
			       -EBADMSG;
	} else if (auditlog_sha256_hex(line, len, sha)) {
		return *why = "cannot hash", -EIO;
	}
	if (!strcmp(rec->kind, "checkpoint") != (rec->retain == AUDITLOG_RETAIN_CHECKPOINT) &&
	    !rec->stub)
		return *why = "kind checkpoint without class checkpoint, or the other way round",
		       -EBADMSG;
	if (!strcmp(rec->kind, "checkpoint") &&
	    (copy_str(o, "key", rec->key, sizeof(rec->key)) || !is_hex(rec->key, 16) ||
	     copy_str(o, "signature", rec->signature, sizeof(rec->signature)) ||
	     !is_hex(rec->signature, 128) || !rec->time[0]))
		return *why = "a checkpoint without time, key or signature", -EBADMSG;
	copy_word(o, "why", rec->why, sizeof(rec->why));
	copy_word(o, "found", rec->found, sizeof(rec->found));
	return auditlog_link(rec->id, retain_names[rec->retain], sha, rec->link);
}

int auditlog_parse(const char *line, size_t len, struct auditlog_rec *rec, const char **why)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL, *v;
	char retain[16], want[160];
	int err = -EBADMSG, r, n;

	memset(rec, 0, sizeof(*rec));
	*why = "not one JSON object";
	if (!tok || len > INT32_MAX || memchr(line, '\0', len))
		goto out;
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))
		goto out;
	*why = "not a schema 3 record";
	if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 1 || copy_str(o, "prev", rec->prev, sizeof(rec->prev)) ||
	    copy_str(o, "retain", retain, sizeof(retain)))
		goto out;
	rec->id = json_object_get_int64(v);
	r = auditlog_retain_of_name(retain);
	if (r < 0 || !is_hex(rec->prev, 64)) {
		*why = "a bad prev or retain";
		goto out;
	}
	rec->retain = r;
	/* members of the same name twice, or in another order, would hash differently */
	n = auditlog_rec_prefix(want, sizeof(want), rec->id, rec->prev, retain);
	if (n < 0 || len < (size_t)n || memcmp(line, want, n)) {
		*why = "does not start with schema, id, prev and retain";
		goto out;
	}
	err = parse_members(o, line, len, rec, why);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return err;
}

/* ---- the head ---- */

/* The one JSON object of a line of len bytes (ending in '\n'); NULL when it is not that. */
static struct json_object *json_line(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;

	if (tok && len > 1 && buf[len - 1] == '\n' && !memchr(buf, '\0', len))
		o = json_tokener_parse_ex(tok, buf, (int)len - 1);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != len - 1 ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int auditlog_head_read(const char *path, struct auditlog_head *h)
{
	int fd = auditlog_file_open(path, O_RDONLY | O_NONBLOCK, 0, NULL), err = -EBADMSG;
	struct json_object *o, *v;
	char buf[1024], kind[8];
	ssize_t n;

	if (fd < 0)
		return fd == -ENOENT ? -ENOENT : -EBADMSG;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	o = n > 0 ? json_line(buf, n) : NULL;
	if (!o)
		return -EBADMSG;
	/* the key is printed (verify names a key it does not know): nothing but hex */
	if (!copy_str(o, "kind", kind, sizeof(kind)) && !strcmp(kind, "head") &&
	    json_object_object_get_ex(o, "id", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) >= 0 && !copy_str(o, "link", h->link, sizeof(h->link)) &&
	    !copy_str(o, "time", h->time, sizeof(h->time)) &&
	    !copy_str(o, "key", h->key, sizeof(h->key)) && is_hex(h->key, 16) &&
	    !copy_str(o, "signature", h->signature, sizeof(h->signature))) {
		h->id = json_object_get_int64(v);
		err = 0;
	}
	json_object_put(o);
	return err;
}

bool auditlog_head_sig_ok(EVP_PKEY *key, const struct auditlog_head *h)
{
	char msg[256];
	int n = auditlog_head_bytes(msg, sizeof(msg), h->id, h->link, h->time);

	return n > 0 && auditlog_sig_ok(key, msg, n, h->signature);
}

/* ---- keygen ---- */

char *auditlog_pub_path(const char *key_path)
{
	size_t n = strlen(key_path);
	char *p;

	if (n > 4 && !strcmp(key_path + n - 4, ".pem")) {
		if (asprintf(&p, "%.*s.pub.pem", (int)(n - 4), key_path) < 0)
			return NULL;
	} else if (asprintf(&p, "%s.pub.pem", key_path) < 0) {
		return NULL;
	}
	return p;
}

/* write a key to path through path.tmp and rename: a crash leaves no half key */
static int write_key(const char *path, EVP_PKEY *key, bool private_key, mode_t mode)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = auditlog_file_create(tmp, mode);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -ENOMEM;
	}
	/* PEM_write_PrivateKey writes PKCS#8 */
	ok = private_key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
			 : PEM_write_PUBKEY(f, key);
	ok = ok && !fflush(f) && !fsync(fd) && !fchmod(fd, mode);
	if (fclose(f) || !ok || rename(tmp, path)) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

int auditlog_path_key_path(const char *key_path, char *out, size_t len)
{
	char *dir = auditlog_dir_of(key_path);
	int n;

	if (!dir)
		return -ENOMEM;
	/* the root's "/" would double the slash */
	n = snprintf(out, len, "%s/audit-paths.key", strcmp(dir, "/") ? dir : "");
	free(dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int auditlog_path_key_make(const char *key_path)
{
	char path[PATH_MAX];
	unsigned char k[32];
	int fd, err;

	err = auditlog_path_key_path(key_path, path, sizeof(path));
	if (err)
		return err;
	if (RAND_bytes(k, sizeof(k)) != 1)
		return -EIO;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	if (write(fd, k, sizeof(k)) != sizeof(k) || fsync(fd))
		err = -EIO;
	close(fd);
	if (err)
		unlink(path);
	return err;
}

/* The key's directory, made (0755: the public key is for everyone) when absent. */
static int key_dir(const char *key)
{
	char *dir = auditlog_dir_of(key);
	int err = 0;

	if (!dir)
		return -ENOMEM;
	/* "." and "/" exist: EEXIST */
	if (mkdir(dir, 0755) && errno != EEXIST)
		err = -errno;
	free(dir);
	return err;
}

/*
 * The public key of the pair at key and pub, about to be replaced, kept as
 * key's old public key (auditlog_old_pub_path); its path into *kept. 0
 * when kept, or when there is no pair to keep; else -errno.
 */
static int keep_old_pub(const char *key, const char *pub, char **kept)
{
	char e[256], id[17];
	EVP_PKEY *old = auditlog_key_load(pub, false, e, sizeof(e));
	int ret = 0;

	if (!old)
		old = auditlog_key_load(key, true, e, sizeof(e));
	if (!old)
		return 0;
	ret = auditlog_key_id(old, id);
	*kept = ret ? NULL : auditlog_old_pub_path(key, id);
	if (!ret && !*kept)
		ret = -ENOMEM;
	if (!ret && access(*kept, F_OK))
		ret = write_key(*kept, old, false, 0644);
	EVP_PKEY_free(old);
	return ret;
}

/* auditlog_keygen, and the old public key kept (malloc'ed) in *kept: NULL when none */
static int keygen(const char *key_path, bool force, char **kept, char *err, size_t errlen)
{
	const char *key = key_path ? key_path : AUDITLOG_DEFAULT_KEY;
	char *pub = auditlog_pub_path(key);
	EVP_PKEY *pkey = NULL;
	int ret = 0;

	*kept = NULL;
	if (!pub) {
		snprintf(err, errlen, "cannot create key %s: %s", key, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (!force && (!access(key, F_OK) || !access(pub, F_OK))) {
		snprintf(err, errlen, "%s exists: keep it, or give --force to replace it",
			 access(key, F_OK) ? pub : key);
		ret = -EEXIST;
		goto out;
	}
	ret = key_dir(key);
	if (ret) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", key, strerror(-ret));
		goto out;
	}
	ret = force ? keep_old_pub(key, pub, kept) : 0;
	if (ret) {
		snprintf(err, errlen, "cannot keep the old public key of %s: %s", key,
			 strerror(-ret));
		goto out;
	}
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey) {
		snprintf(err, errlen, "cannot create an Ed25519 key");
		ret = -EIO;
		goto out;
	}
	ret = write_key(key, pkey, true, 0600);
	if (ret)
		snprintf(err, errlen, "cannot write key %s: %s", key, strerror(-ret));
	else if ((ret = write_key(pub, pkey, false, 0644)))
		snprintf(err, errlen, "cannot write public key %s: %s", pub, strerror(-ret));
	else if ((ret = auditlog_path_key_make(key)))
		snprintf(err, errlen, "cannot write the path key beside %s: %s", key,
			 strerror(-ret));
out:
	EVP_PKEY_free(pkey);
	free(pub);
	return ret;
}

int auditlog_keygen(const char *key_path, bool force, char *err, size_t errlen)
{
	char *kept;
	int ret = keygen(key_path, force, &kept, err, errlen);

	free(kept);
	return ret;
}

static void keygen_usage(FILE *f)
{
	fprintf(f, "usage: pinfold audit keygen [--key FILE] [--force]\n"
		   "  creates the audit signing key FILE (default " AUDITLOG_DEFAULT_KEY
		   "),\n  its public key beside it (.pub.pem) and the path key audit-paths.key\n");
}

int auditlog_keygen_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *key = AUDITLOG_DEFAULT_KEY;
	bool force = false;
	char err[512], *pub, *kept;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k') {
			key = optarg;
		} else if (c == 'f') {
			force = true;
		} else {
			keygen_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? EXIT_SUCCESS : 2;
		}
	}
	if (optind != argc) {
		keygen_usage(stderr);
		return 2;
	}
	if (keygen(key, force, &kept, err, sizeof(err))) {
		fprintf(stderr, "pinfold: %s\n", err);
		free(kept);
		return EXIT_FAILURE;
	}
	pub = auditlog_pub_path(key);
	printf("%s: created, public key %s", key, pub ? pub : "(unknown)");
	if (kept)
		printf("; the old public key is kept as %s (verify records it signed with it)",
		       kept);
	putchar('\n');
	free(pub);
	free(kept);
	return EXIT_SUCCESS;
}
