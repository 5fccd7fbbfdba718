// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - the pinfold command line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditcmd.h"
#include "control.h"
#include "daemon.h"
#include "explain.h"
#include "instance.h"
#include "kfeatures.h"
#include "loader.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "run.h"
#include "show.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pinfold [-v|-vv] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  check POLICY        validate a policy, list its warnings (exit 2 on an error)\n"
		"  run [--policy POLICY] --agent NAME [--allow-degraded] [--standalone] -- CMD...\n"
		"                      run CMD confined as an instance of agent NAME (through\n"
		"                      the daemon when one runs)\n"
		"  daemon --policy POLICY [--admin-group GROUP] [--audit FILE] ...\n"
		"                      run pinfold as a service: agents, audit, reloads\n"
		"  status [--json]     what the daemon enforces: features, programs, instances\n"
		"  attach --agent NAME PID\n"
		"                      confine a running process (through the daemon)\n"
		"  reload              have the daemon read its policy again\n"
		"  audit show|tail|verify|prune|keygen ...\n"
		"                      read, verify and keep the audit log\n"
		"  explain --policy POLICY --agent NAME --open PATH [--write]\n"
		"  explain --policy POLICY --agent NAME --connect HOST:PORT[/udp]\n"
		"                      say whether agent NAME may do it, and why\n"
		"  show --policy POLICY [--agent NAME] [--json]\n"
		"                      print who may do what under a policy\n"
		"  unload [--force]    detach and unpin pinfold's kernel programs (through the\n"
		"                      daemon when one runs: --force ends its agents first)\n"
		"  features [--json]   list the kernel features pinfold needs, and what is enforceable\n"
		"\n"
		"POLICY is a YAML file, or a directory whose *.yaml files make one policy.\n");
}

/*
 * Validate a policy as run would: parse it, list its warnings, then
 * compile every agent (trees must exist, names resolve, prefixes fit).
 */
static int cmd_check(int argc, char **argv)
{
	struct compile_env env = {0};
	struct policy_error err = {0};
	struct policy p = {0};
	char msg[600];
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: pinfold check POLICY\n");
		return RUN_EXIT_USAGE;
	}
	if (policy_load(argv[1], &p, &err)) {
		policy_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return RUN_EXIT_USAGE;
	}
	for (i = 0; i < p.n_warnings; i++) {
		policy_warning_format(&p.warnings[i], msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
	}
	if (compile_policy_check(&p, &env, &err)) {
		policy_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		policy_release(&p);
		return RUN_EXIT_USAGE;
	}
	printf("%s: ok (%zu agent%s, %zu warning%s)\n", argv[1], p.n_agents,
	       p.n_agents == 1 ? "" : "s", p.n_warnings, p.n_warnings == 1 ? "" : "s");
	policy_release(&p);
	return EXIT_SUCCESS;
}

static int cmd_unload(int argc, char **argv)
{
	bool force = argc == 2 && strcmp(argv[1], "--force") == 0;
	struct pf_kernel k = PF_KERNEL_INIT;
	char msg[512];
	int rc;

	if (argc > 2 || (argc == 2 && !force)) {
		fprintf(stderr, "usage: pinfold unload [--force]\n");
		return RUN_EXIT_USAGE;
	}
	rc = control_unload(force);
	if (rc >= 0)
		return rc;
	/*
	 * No daemon: the agents of a killed one (and of a killed run) are held
	 * by nobody, and would run free once unpinned. They end first.
	 */
	if (force && loader_open(&k, msg, sizeof(msg))) {
		fprintf(stderr, "pinfold: not unloading: %s\n", msg);
		return EXIT_FAILURE;
	}
	if (force) {
		rc = instance_reap_unheld(&k);
		if (rc < 0)
			fprintf(stderr, "pinfold: cannot end the agents nobody holds: %s\n",
				strerror(-rc));
		else if (rc > 0)
			fprintf(stderr, "pinfold: ended %d instance(s) nobody held\n", rc);
		loader_close(&k);
		if (rc < 0)
			return EXIT_FAILURE;
	}
	if (loader_unload(force, msg, sizeof(msg))) {
		fprintf(stderr, "pinfold: %s\n", msg);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	int verbose = 0;

	while (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
		if (argv[1][1 + strspn(argv[1] + 1, "v")] != '\0') {
			fprintf(stderr, "pinfold: unknown option '%s'\n", argv[1]);
			usage(stderr);
			return RUN_EXIT_USAGE;
		}
		verbose += strspn(argv[1] + 1, "v");
		argc--;
		argv++;
	}
	loader_set_verbosity(verbose);

	if (argc < 2) {
		usage(stderr);
		return RUN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return run_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return explain_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return show_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "unload") == 0)
		return cmd_unload(argc - 1, argv + 1);
	if (strcmp(argv[1], "daemon") == 0)
		return daemon_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return control_status_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "attach") == 0)
		return control_attach_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "reload") == 0)
		return control_reload_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return audit_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "features") == 0)
		return features_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	fprintf(stderr, "pinfold: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return RUN_EXIT_USAGE;
}
