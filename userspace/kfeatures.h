/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kfeatures.h - probe, ahead of loading, which kernel features pinfold's
 * programs need are here, and say in one line what a missing one costs.
 *
 * Each feature is needed by network enforcement, file enforcement or both.
 * A feature network rules need that is missing stops `pinfold run`; one
 * only file rules need leaves the degraded mode (network rules only) that
 * --allow-degraded accepts.
 */
#ifndef PINFOLD_FEATURES_H
#define PINFOLD_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* In the order they are probed and listed. */
enum feature_id {
	FEATURE_BTF,
	FEATURE_CGROUP2,
	FEATURE_MAP_RINGBUF,
	FEATURE_MAP_LPM_TRIE,
	FEATURE_MAP_ARRAY_OF_MAPS,
	FEATURE_MAP_SK_STORAGE,
	FEATURE_PROG_SOCK_ADDR,
	FEATURE_PROG_SOCK,
	FEATURE_PROG_SKB,
	FEATURE_PROG_SOCKOPT,
	FEATURE_HELPER_ANCESTOR_CGROUP,
	FEATURE_HELPER_RINGBUF_RESERVE,
	FEATURE_HELPER_LOOP,
	FEATURE_PROG_LSM,
	FEATURE_LSM_ACTIVE,
	FEATURE_LSM_HOOKS,
	FEATURE_TRACING,
	FEATURE_COUNT
};

enum feature_state {
	FEATURE_UNPROBED = 0,
	FEATURE_PRESENT,
	FEATURE_MISSING, /* the kernel does not have it */
	FEATURE_REFUSED, /* the kernel has it but refuses pinfold its use */
	FEATURE_UNKNOWN, /* the probe itself failed */
};

/* What a feature is needed for. */
#define FEATURE_FOR_NETWORK (1u << 0)
#define FEATURE_FOR_FILES (1u << 1)

struct feature_result {
	enum feature_state state;
	char detail[256]; /* where it was found, or what the probe saw */
};

struct features {
	struct feature_result r[FEATURE_COUNT];
};

/*
 * Probe every feature; needs root, as most probes load a tiny program. The
 * BPF LSM probe attaches a program that allows everything to file_open and
 * detaches it at once. Mounts securityfs where it is missing.
 */
void features_probe(struct features *f);

/* The feature's short name ("map_ringbuf") and its title ("BPF_MAP_TYPE_RINGBUF"). */
const char *features_key(enum feature_id id);
const char *features_title(enum feature_id id);

/* FEATURE_FOR_* of what needs it, and what it enables, in a few words. */
unsigned features_needed_for(enum feature_id id);
const char *features_enables(enum feature_id id);

/* "yes", "missing", "refused", "unknown" or "not probed". */
const char *features_state_name(enum feature_state s);

/* The first feature that for (FEATURE_FOR_*) needs and does not have, or -1. */
int features_first_lacking(const struct features *f, unsigned for_what);

/*
 * Why enforcement that needs feature id cannot be had (one clause, naming
 * the feature and what the probe saw), and how to get it (one clause).
 */
void features_why(const struct features *f, enum feature_id id, char *buf, size_t len);
void features_how(const struct features *f, enum feature_id id, char *buf, size_t len);

/* Whether "bpf" is an entry of an LSM list as /sys/kernel/security/lsm gives it. */
bool features_lsm_list_has_bpf(const char *list);

struct btf;
struct bpf_program;
/* Whether an LSM program's hook is an optional one this kernel lacks. */
bool features_lsm_prog_absent(const struct btf *vmlinux, const struct bpf_program *prog);

/* Mount fstype at dir unless a filesystem with magic is there; 0 or -errno. */
int features_mount_if_missing(const char *dir, const char *fstype, long magic, const char *opts);

/* The table of features, then what is and is not enforceable; 0 or -errno. */
int features_print(const struct features *f, FILE *out);
int features_print_json(const struct features *f, FILE *out);

/* `pinfold features [--json]`; returns the exit status. */
int features_main(int argc, char **argv);

#endif /* PINFOLD_FEATURES_H */
