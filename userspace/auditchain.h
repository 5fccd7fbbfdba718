/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * auditchain.h - the primitives of the chained audit log (schema 3),
 * shared by the writer (auditlog.c) and the verifier (auditverify.c).
 *
 * What a record is (its parse, its link, its retention class), what is
 * signed and how (Ed25519 over fixed byte strings), and the keys that sign.
 * Both sides must agree on every byte of these, so there is one copy.
 * The names keep the auditlog_ prefix: to the rest of pinfold this is one
 * module, the audit log, whose header auditlog.h includes this one.
 */
#ifndef PINFOLD_AUDITCHAIN_H
#define PINFOLD_AUDITCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define AUDITLOG_DEFAULT_KEY "/etc/pinfold/audit-signing.pem"
#define AUDITLOG_DEFAULT_PUB "/etc/pinfold/audit-signing.pub.pem"
#define AUDITLOG_DEFAULT_PATH_KEY "/etc/pinfold/audit-paths.key"

/* the prev of record 1: no record comes before it */
#define AUDITLOG_ZERO_LINK "0000000000000000000000000000000000000000000000000000000000000000"

/* retention classes, in the order of their names */
enum auditlog_retain {
	AUDITLOG_RETAIN_PHI,
	AUDITLOG_RETAIN_ROUTINE,
	AUDITLOG_RETAIN_DECISION,
	AUDITLOG_RETAIN_LIFECYCLE,
	AUDITLOG_RETAIN_CHECKPOINT,
	AUDITLOG_RETAIN_N
};

/* "phi", "routine", ...; the class of a name or -EINVAL */
const char *auditlog_retain_name(enum auditlog_retain r);
int auditlog_retain_of_name(const char *name);

/* how long each class is kept, in days; -1: forever */
struct auditlog_keep {
	long long days[AUDITLOG_RETAIN_N];
};

/* the most days a class may be kept for short of forever: its ns must fit in 63 bits */
#define AUDITLOG_KEEP_MAX_DAYS 100000

void auditlog_keep_init(struct auditlog_keep *k); /* the defaults (docs/audit.md) */
/*
 * apply "CLASS=DAYS" (DAYS a number or "forever"); 0, -EINVAL, or -ERANGE
 * (DAYS above AUDITLOG_KEEP_MAX_DAYS)
 */
int auditlog_keep_parse(struct auditlog_keep *k, const char *arg);

/*
 * Whether the retention under k of a record of class r, whose first
 * checkpoint after it is from cp_ns, had ended at now_ns. Never for a
 * record no checkpoint dates (cp_ns 0).
 */
bool auditlog_retention_ended(const struct auditlog_keep *k, enum auditlog_retain r, int64_t cp_ns,
			      int64_t now_ns);

/* One line of a log, as auditlog_parse reads it. */
struct auditlog_rec {
	uint64_t id;
	enum auditlog_retain retain;
	char prev[65];
	char link[65]; /* computed: from the line, or from a stub's line_sha256 */
	char kind[32];
	char time[40];       /* "" when absent (stubs) */
	int64_t time_ns;     /* time as ns since the epoch; 0 when absent or unreadable */
	char key[17];        /* checkpoints */
	char signature[129]; /* checkpoints */
	char why[16];        /* checkpoints: why it was written; "" when absent or odd */
	char found[24];      /* chain-breaks: what the writer found; "" when absent or odd */
	bool stub;           /* kind "pruned" */
};

/* what a writer that wrote a chain-break record found (its member "found") */
#define AUDITLOG_FOUND_HEAD_MISSING "head-missing"
#define AUDITLOG_FOUND_HEAD_NOT_SIGNED "head-not-signed"
#define AUDITLOG_FOUND_UNSIGNED_RECORDS "unsigned-records"
#define AUDITLOG_FOUND_HEAD_MISMATCH "head-mismatch"

/*
 * The bytes every record's line starts with, into buf:
 * {"schema":3,"id":ID,"prev":"PREV","retain":"RETAIN", -- the writer's,
 * prune's stubs', and what the parser demands. Their length or -ENOSPC.
 */
int auditlog_rec_prefix(char *buf, size_t len, uint64_t id, const char *prev, const char *retain);

/*
 * The stub prune writes in place of a record, without '\n', into buf: the
 * only form of a stub the parser accepts. Its length or -ENOSPC.
 */
int auditlog_stub_line(char *buf, size_t len, uint64_t id, const char *prev, const char *retain,
		       const char *line_sha256);

/*
 * Read one line (without its '\n') as a schema 3 record: it must start
 * with {"schema":3,"id":N,"prev":"<64 hex>","retain":"R", and be one JSON
 * object with a "kind"; a stub must be exactly what auditlog_stub_line
 * makes. 0, or -EBADMSG with why (a static string) set.
 */
int auditlog_parse(const char *line, size_t len, struct auditlog_rec *rec, const char **why);

/* BASE.head as read: the log's last record, signed */
struct auditlog_head {
	uint64_t id;
	char link[65];
	char time[40];
	char key[17];
	char signature[129];
};

/*
 * Read the head at path, never through a link. 0, -ENOENT (there is none)
 * or -EBADMSG (not a head: unreadable, a link, not one JSON line).
 */
int auditlog_head_read(const char *path, struct auditlog_head *h);

struct evp_pkey_st;

/* whether h carries key's signature */
bool auditlog_head_sig_ok(struct evp_pkey_st *key, const struct auditlog_head *h);

/* The bytes a checkpoint's or a head's signature covers; their length or -ENOSPC. */
int auditlog_checkpoint_bytes(char *buf, size_t len, uint64_t id, const char *time,
			      const char *prev);
int auditlog_head_bytes(char *buf, size_t len, uint64_t id, const char *link, const char *time);

/* first 16 hex of SHA-256 of the raw public key, into out (17 bytes); 0 or -errno */
int auditlog_key_id(struct evp_pkey_st *key, char out[17]);

/* Ed25519 signature of msg, as 128 hex, into out; 0 or -errno */
int auditlog_sign(struct evp_pkey_st *key, const void *msg, size_t len, char out[129]);

/* whether sig_hex is key's signature of msg */
bool auditlog_sig_ok(struct evp_pkey_st *key, const void *msg, size_t len, const char *sig_hex);

/*
 * A PEM key from path: private (PKCS#8) or public; NULL with a reason in
 * err. A private key must be a regular file owned by root or this user
 * that no group or other may read or write, in a directory others may not
 * write (errno EPERM).
 */
struct evp_pkey_st *auditlog_key_load(const char *path, bool private_key, char *err, size_t errlen);

/*
 * The public key whose id is key_id among those beside the private key
 * key_path: its own public key, or an old one keygen --force kept. Only
 * files owned by root or this user that no group or other may write count.
 * NULL when there is none.
 */
struct evp_pkey_st *auditlog_key_of_id(const char *key_path, const char *key_id);

/* Where keygen --force keeps the public key key_id of key_path: FILE.<ID>.pub.pem (malloc'ed) */
char *auditlog_old_pub_path(const char *key_path, const char *key_id);

/*
 * The link of a record: lowercase hex SHA-256 over
 * "pinfold-audit-3\n" ID "\n" RETAIN "\n" LINE_SHA256 "\n", where
 * line_sha256 is the hex SHA-256 of the record's line without its '\n'
 * (a stub carries it). out: 65 bytes. 0 or -errno.
 */
int auditlog_link(uint64_t id, const char *retain, const char *line_sha256, char out[65]);

/* hex SHA-256 of len bytes of p into out (65 bytes). 0 or -errno. */
int auditlog_sha256_hex(const void *p, size_t len, char out[65]);

/*
 * Create an Ed25519 key pair: the private key at key_path (NULL: the
 * default; PKCS#8 PEM, 0600), the public key beside it (key_path with
 * ".pem" replaced by ".pub.pem", 0644), and the path key audit-paths.key
 * (32 random bytes, 0600) in the same directory when absent. Refuses to
 * replace an existing key pair unless force (-EEXIST); with force, the
 * public key of the pair replaced is kept (auditlog_old_pub_path), since
 * records it signed verify only with it. 0 or -errno, with a one-line
 * reason in err.
 */
int auditlog_keygen(const char *key_path, bool force, char *err, size_t errlen);

/*
 * The path key audit-paths.key (32 random bytes, 0600) beside key_path,
 * when absent. 0 (made, or there already) or -errno.
 */
int auditlog_path_key_make(const char *key_path);

/* The path of that path key, beside key_path, into out. 0 or -errno. */
int auditlog_path_key_path(const char *key_path, char *out, size_t len);

/* The public key's path for a private key's path (malloc'ed; NULL with errno). */
char *auditlog_pub_path(const char *key_path);

/* pinfold audit keygen: exit status (EXIT_SUCCESS, EXIT_FAILURE, or 2 for bad usage) */
int auditlog_keygen_main(int argc, char **argv);

/* Small helpers both sides need. */

/* clock c in ns */
int64_t auditlog_clock_ns(clockid_t c);

/* path's directory: "." when it names none, "/" for the root (malloc'ed; NULL with errno) */
char *auditlog_dir_of(const char *path);

/*
 * The files of a log are opened only by these: a link planted at one of
 * their names (by whoever may write the directory) is never followed.
 */

/*
 * Open path with flags (O_NOFOLLOW and O_CLOEXEC added, mode for O_CREAT):
 * a regular file with one name. The descriptor, or -errno with *why (when
 * not NULL) a reason: -ELOOP a symbolic link, -EMLINK a file with other
 * hard links, -EINVAL not a regular file; else strerror's.
 */
int auditlog_file_open(const char *path, int flags, mode_t mode, const char **why);

/* Create path afresh to write it, whatever was there removed first: the descriptor or -errno. */
int auditlog_file_create(const char *path, mode_t mode);

/*
 * Room for element n in the array at *(T **)arrayp of *cap elements,
 * doubling it (first elements the first time) when full. 0, or -ENOMEM
 * with the array and *cap as they were.
 */
int auditlog_grow(void *arrayp, size_t *cap, size_t n, size_t size, size_t first);

#endif /* PINFOLD_AUDITCHAIN_H */
