// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_seqgap.c - which event numbers the writer reports lost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "userspace/seqgap.h"

struct losses {
	uint64_t first[256], last[256];
	size_t n;
	uint64_t total;
};

static void on_lost(void *ctx, uint64_t first, uint64_t last)
{
	struct losses *l = ctx;

	assert_true(first <= last);
	l->first[l->n] = first;
	l->last[l->n] = last;
	l->n++;
	l->total += last - first + 1;
}

static void test_in_order_loses_nothing(void **state)
{
	struct losses l = {0};
	struct seqgap g;
	uint64_t i;

	(void)state;
	seqgap_init(&g);
	for (i = 0; i < 1000; i++)
		seqgap_see(&g, i, on_lost, &l);
	seqgap_pass(&g, on_lost, &l);
	seqgap_pass(&g, on_lost, &l);
	seqgap_finish(&g, 1000, on_lost, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(g.repeated, 0);
}

static void test_gap_reported_after_a_whole_pass(void **state)
{
	struct losses l = {0};
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	seqgap_see(&g, 0, on_lost, &l);
	seqgap_see(&g, 5, on_lost, &l); /* 1..4 missing */
	seqgap_pass(&g, on_lost, &l);
	assert_int_equal(l.n, 0); /* may still come */
	seqgap_see(&g, 6, on_lost, &l);
	seqgap_pass(&g, on_lost, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.first[0], 1);
	assert_int_equal(l.last[0], 4);
	seqgap_finish(&g, 7, on_lost, &l);
	assert_int_equal(l.total, 4);
}

static void test_late_event_closes_its_number(void **state)
{
	struct losses l = {0};
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	seqgap_see(&g, 0, on_lost, &l);
	seqgap_see(&g, 4, on_lost, &l); /* 1..3 open */
	seqgap_see(&g, 2, on_lost, &l); /* splits: 1, 3 */
	seqgap_see(&g, 1, on_lost, &l);
	seqgap_pass(&g, on_lost, &l);
	seqgap_pass(&g, on_lost, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.first[0], 3);
	assert_int_equal(l.last[0], 3);
	assert_int_equal(g.repeated, 0);
}

static void test_repeat_is_counted_not_lost(void **state)
{
	struct losses l = {0};
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	seqgap_see(&g, 0, on_lost, &l);
	seqgap_see(&g, 1, on_lost, &l);
	seqgap_see(&g, 1, on_lost, &l);
	assert_int_equal(g.repeated, 1);
	seqgap_finish(&g, 2, on_lost, &l);
	assert_int_equal(l.n, 0);
}

static void test_finish_counts_the_tail(void **state)
{
	struct losses l = {0};
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	seqgap_see(&g, 0, on_lost, &l);
	seqgap_see(&g, 3, on_lost, &l);
	seqgap_finish(&g, 10, on_lost, &l); /* 1..2 and 4..9 */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.total, 8);
	assert_int_equal(l.first[1], 4);
	assert_int_equal(l.last[1], 9);
}

/* Many holes: every number is either seen or lost, exactly once. */
static void test_many_holes_stay_exact(void **state)
{
	struct losses l = {0};
	struct seqgap g;
	uint64_t i, seen = 0;

	(void)state;
	seqgap_init(&g);
	/* every third number missing, then late arrivals of some */
	for (i = 0; i < 600; i++) {
		if (i % 3 == 1)
			continue;
		seqgap_see(&g, i, on_lost, &l);
		seen++;
	}
	/* the SEQGAP_HOLES newest holes are still open: 409, 412, ... */
	for (i = 409; i < 600; i += 6) {
		seqgap_see(&g, i, on_lost, &l);
		seen++;
	}
	seqgap_finish(&g, 600, on_lost, &l);
	assert_int_equal(g.repeated, 0);
	assert_int_equal(seen + l.total, 600);
}

/* A split with no room gives up another hole, never the number that came. */
static void test_split_when_full(void **state)
{
	struct losses l = {0};
	struct seqgap g;
	uint64_t i;

	(void)state;
	seqgap_init(&g);
	seqgap_see(&g, 10, on_lost, &l); /* hole 0..9 */
	for (i = 0; i < SEQGAP_HOLES - 1; i++)
		seqgap_see(&g, 12 + 2 * i, on_lost, &l); /* holes 11, 13, ... */
	assert_int_equal(g.n_holes, SEQGAP_HOLES);
	seqgap_see(&g, 5, on_lost, &l); /* split 0..9: hole 11 is given up */
	assert_int_equal(l.n, 1);
	assert_int_equal(l.first[0], 11);
	seqgap_finish(&g, g.next, on_lost, &l);
	/* 0..4, 6..9 and the SEQGAP_HOLES - 1 single holes */
	assert_int_equal(l.total, 9 + SEQGAP_HOLES - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_loses_nothing),
		cmocka_unit_test(test_gap_reported_after_a_whole_pass),
		cmocka_unit_test(test_late_event_closes_its_number),
		cmocka_unit_test(test_repeat_is_counted_not_lost),
		cmocka_unit_test(test_finish_counts_the_tail),
		cmocka_unit_test(test_many_holes_stay_exact),
		cmocka_unit_test(test_split_when_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
