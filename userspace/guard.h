/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guard.h - may an agent rewrite its own policy, or its own audit records?
 *
 * `pinfold run` watches the agent's policy and applies what it finds there
 * (swap.h). An agent that could write that policy, or put another file in
 * its place, could grant itself anything, and pinfold would load it: the
 * boundary would be the agent's to move. So before watching, and again
 * before applying each changed policy, the guard asks whether the confined
 * agent could change the policy; when it could, run refuses to watch and a
 * change is rejected, with one sentence naming the rule or permission that
 * lets it. It judges as the kernel would hold the agent: by its compiled
 * rules where file rules are enforced and the agent is in enforce mode,
 * else (no file rule denies) by its uid's file permissions.
 */
#ifndef PINFOLD_GUARD_H
#define PINFOLD_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include "policy/compile.h"
#include "policy/policy.h"

/*
 * Whose file permissions the guards judge by, where no file rule holds
 * the agent: pinfold's own credentials (the agent runs as its launcher)
 * unless a cred is set. The daemon launches agents for other users: it
 * sets their uid, gid and groups here, and NULL again when done. Each
 * access check then runs with those file system ids and groups (root's
 * file capabilities go with its ids, as setfsuid(2) says).
 */
#define GUARD_MAX_GROUPS 64

struct guard_cred {
	uid_t uid;
	gid_t gid;
	gid_t groups[GUARD_MAX_GROUPS];
	int n_groups;
};

void guard_judge_as(const struct guard_cred *c);

/*
 * Whether agent a could change its own policy p, read from path, and so
 * have pinfold apply what it wrote. With file rules enforced and a in
 * enforce mode, its rules c decide, judged as `pinfold explain` judges
 * (explain_may): may it write a policy file, create a name in the
 * policy's directory (or the one holding the policy file), or delete, and
 * so rename, any name on the way to them, the names on the way to the
 * target of a symbolic link met there included? A policy file with other
 * hard links, which its rules could reach, counts as writable. Otherwise
 * (no BPF LSM, or audit or record mode, where no file rule denies) its
 * uid's file permissions decide the same questions, and an agent running
 * as root, or keeping capabilities across exec, could change any policy.
 * The agent runs with pinfold's credentials. A policy in private_tmp, the
 * instance's private temporary directory, is its own in every case.
 *
 * Returns 0 when it could not; 1 when it could, with one sentence in why,
 * such as "agent billing may write /srv/p/policy.yaml: family shared grants
 * read, write on class shared (at p.yaml:9:9), whose tree /srv/p holds it";
 * -errno when that cannot be told, with why saying so.
 */
int swap_guard(const char *path, const struct policy *p, const struct policy_agent *a,
	       const struct compiled *c, bool files_enforced, const char *private_tmp, char *why,
	       size_t len);

/*
 * Whether agent a could read the audit signing keys (the n_keys files in
 * keys that exist) or change the audit log log: write or delete one of its
 * files, create a name in its directory, or delete, and so rename, any name
 * on the way to it. Such an agent could forge or cut its own records.
 * Judged as swap_guard judges: by its rules c where file rules are
 * enforced and it is in enforce mode: 1 when it could, with one sentence
 * in why. Otherwise (no file rule denies) by its uid's file permissions,
 * and an agent running as root could: 2, with why; pinfold cannot refuse
 * what it does not enforce, and says so. 0 when it could not; -errno when
 * that cannot be told, with why saying so.
 */
int audit_guard(const char *log, const char *const *keys, size_t n_keys, const struct policy *p,
		const struct policy_agent *a, const struct compiled *c, bool files_enforced,
		char *why, size_t len);

#endif /* PINFOLD_GUARD_H */
