/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * seqgap.h - find the events that never reached the writer.
 *
 * The kernel numbers each event it means to report (pf_event.seq), queued
 * or not. Two CPUs may take numbers in one order and queue their events in
 * the other, so a number missing now may still come: a hole is reported
 * lost only once it has stayed open for a whole pass over the ring after
 * the one that found it. At most SEQGAP_HOLES holes are open at once: when
 * more open, the oldest is given up as lost, and an event of it that still
 * comes is counted in repeated (then written and counted lost both).
 */
#ifndef PINFOLD_SEQGAP_H
#define PINFOLD_SEQGAP_H

#include <stddef.h>
#include <stdint.h>

#define SEQGAP_HOLES 64

struct seqgap_hole {
	uint64_t first, last; /* inclusive */
	unsigned age;         /* passes ended since it was found */
};

struct seqgap {
	uint64_t next; /* the number after the highest seen */
	struct seqgap_hole holes[SEQGAP_HOLES];
	size_t n_holes;
	uint64_t repeated; /* numbers seen twice, or below every open hole */
};

/* each lost range, in order */
typedef void (*seqgap_lost_fn)(void *ctx, uint64_t first, uint64_t last);

void seqgap_init(struct seqgap *g);

/*
 * Event number seq arrived. A number past next opens a hole; one inside a
 * hole closes that number. When the holes are full, the oldest is given
 * up as lost through lost first.
 */
void seqgap_see(struct seqgap *g, uint64_t seq, seqgap_lost_fn lost, void *ctx);

/* A pass over the ring ended: holes open a whole pass are lost. */
void seqgap_pass(struct seqgap *g, seqgap_lost_fn lost, void *ctx);

/*
 * The ring is drained for good and the kernel numbered end events in all:
 * every hole, and the numbers from next to end - 1, are lost.
 */
void seqgap_finish(struct seqgap *g, uint64_t end, seqgap_lost_fn lost, void *ctx);

#endif /* PINFOLD_SEQGAP_H */
