/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policygen.h - the benchmark rows' policies of n destinations.
 */
#ifndef PINFOLD_BENCH_POLICYGEN_H
#define PINFOLD_BENCH_POLICYGEN_H

#include <stdio.h>

/*
 * A policy whose agent bench may reach n destinations (proto, port), the
 * called one, 127.0.0.1, among them: backends of at most POLICY_MAX_RULES
 * (4096) destinations each, granted through one family.
 */
static inline int write_policy(const char *path, int n, const char *proto, int port)
{
	FILE *f = fopen(path, "w");
	int i, b, per = 4096;

	if (!f)
		return -1;
	fprintf(f, "version: 1\nbackends:\n");
	for (i = 0, b = 0; i < n; i++) {
		if (i % per == 0)
			fprintf(f, "  b%d:\n    destinations:\n", b++);
		if (i == 0)
			fprintf(f, "      - { to: 127.0.0.1, port: %d, proto: %s }\n", port, proto);
		else
			fprintf(f, "      - { to: 10.%d.%d.%d, port: %d, proto: %s }\n",
				(i >> 16) & 255, (i >> 8) & 255, i & 255, port, proto);
	}
	fprintf(f, "families:\n  reach:\n    grants:\n");
	for (i = 0; i < b; i++)
		fprintf(f, "      - { backend: b%d, actions: [connect, send] }\n", i);
	fprintf(f, "agents:\n  bench:\n    families: [reach]\n");
	return fclose(f);
}

#endif /* PINFOLD_BENCH_POLICYGEN_H */
