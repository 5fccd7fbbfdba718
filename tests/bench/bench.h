/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench.h - what the C benchmark rows share: medians, and policies of n
 * destinations.
 */
#ifndef PINFOLD_BENCH_H
#define PINFOLD_BENCH_H

#include <stdio.h>
#include <stdlib.h>

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the n values of v (sorted in place). */
static inline double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

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

#endif /* PINFOLD_BENCH_H */
