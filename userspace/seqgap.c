// SPDX-License-Identifier: GPL-2.0-only
/*
 * seqgap.c - find the events that never reached the writer: seqgap.h.
 */
#include <string.h>

#include "seqgap.h"

void seqgap_init(struct seqgap *g)
{
	memset(g, 0, sizeof(*g));
}

/* Give up hole i as lost, keeping the others in the order they were found. */
static void take_out(struct seqgap *g, size_t i, seqgap_lost_fn lost, void *ctx)
{
	struct seqgap_hole h = g->holes[i];

	memmove(&g->holes[i], &g->holes[i + 1], (g->n_holes - i - 1) * sizeof(h));
	g->n_holes--;
	lost(ctx, h.first, h.last);
}

/* Close number seq inside hole i: shrink it, or split it in two. */
static void fill(struct seqgap *g, size_t i, uint64_t seq, seqgap_lost_fn lost, void *ctx)
{
	struct seqgap_hole *h = &g->holes[i];
	size_t oldest;

	if (h->first == h->last) {
		memmove(h, h + 1, (g->n_holes - i - 1) * sizeof(*h));
		g->n_holes--;
		return;
	}
	if (seq == h->first) {
		h->first++;
		return;
	}
	if (seq == h->last) {
		h->last--;
		return;
	}
	if (g->n_holes == SEQGAP_HOLES) {
		/* no room to split: the oldest other hole is given up */
		oldest = i == 0 ? 1 : 0;
		take_out(g, oldest, lost, ctx);
		if (oldest < i)
			i--;
		h = &g->holes[i];
	}
	memmove(h + 2, h + 1, (g->n_holes - i - 1) * sizeof(*h));
	h[1] = (struct seqgap_hole){.first = seq + 1, .last = h->last, .age = h->age};
	h->last = seq - 1;
	g->n_holes++;
}

void seqgap_see(struct seqgap *g, uint64_t seq, seqgap_lost_fn lost, void *ctx)
{
	size_t i;

	if (seq >= g->next) {
		if (seq > g->next) {
			if (g->n_holes == SEQGAP_HOLES)
				take_out(g, 0, lost, ctx);
			g->holes[g->n_holes++] =
				(struct seqgap_hole){.first = g->next, .last = seq - 1};
		}
		g->next = seq + 1;
		return;
	}
	for (i = 0; i < g->n_holes; i++) {
		if (seq >= g->holes[i].first && seq <= g->holes[i].last) {
			fill(g, i, seq, lost, ctx);
			return;
		}
	}
	g->repeated++;
}

void seqgap_pass(struct seqgap *g, seqgap_lost_fn lost, void *ctx)
{
	size_t i = 0;

	while (i < g->n_holes) {
		if (g->holes[i].age >= 1) {
			take_out(g, i, lost, ctx);
			continue;
		}
		g->holes[i++].age++;
	}
}

void seqgap_finish(struct seqgap *g, uint64_t end, seqgap_lost_fn lost, void *ctx)
{
	while (g->n_holes)
		take_out(g, 0, lost, ctx);
	if (end > g->next) {
		lost(ctx, g->next, end - 1);
		g->next = end;
	}
}
