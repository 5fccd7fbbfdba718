// SPDX-License-Identifier: GPL-2.0-only
/*
 * gen - offer events at a steady rate for a benchmark row, then say how many
 * it offered and how fast.
 *
 *   gen connect PORT RATE SECONDS   connect(2) one TCP socket to 127.0.0.1:PORT
 *                                   over and over; run confined by a policy
 *                                   that denies it, each attempt is one
 *                                   decision event
 *   gen getppid RATE SECONDS        getppid(2) over and over (ringbench makes
 *                                   a record of each)
 *
 * RATE is in operations per second, 0 for as fast as one thread can. The
 * pace is kept against the clock, not by a fixed sleep per operation: gen
 * waits until GEN_WAKE operations are due (asleep unless that is less than
 * GEN_SPIN_NS away) and makes them, and when it falls behind it catches up
 * in bursts of at most GEN_BURST; so the rate offered
 * over the run is RATE unless gen cannot go that fast or was held off the
 * CPU, which the line it prints shows:
 *   gen: attempts N seconds S.SSSSSS rate R
 * Exit 0; 1 when a connect was not refused with EPERM (the policy let it
 * through or the socket failed: the events would not be denials); 2 on a
 * usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers/report.h"

/* operations between two looks at the clock when there is no pace to keep */
#define GEN_BATCH 64
/* most operations made back to back to catch up with the pace: 2 ms at
 * 500 000 a second, a few percent of what an instance's ring holds */
#define GEN_BURST 1024
/* operations due when gen wakes from a sleep: one each time costs a wake-up per event */
#define GEN_WAKE 8
/* a shorter wait is spent looking at the clock: a sleep that short often oversleeps */
#define GEN_SPIN_NS 100000

struct gen {
	bool connect;
	struct sockaddr_in to;
	int fd;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One operation: 0, or -1 when a connect was not refused as a denial is. */
static int gen_op(struct gen *g)
{
	if (!g->connect) {
		getppid();
		return 0;
	}
	if (connect(g->fd, (struct sockaddr *)&g->to, sizeof(g->to)) == 0) {
		fprintf(stderr, "gen: connect to 127.0.0.1:%u was allowed\n",
			ntohs(g->to.sin_port));
		return -1;
	}
	if (errno != EPERM) {
		fprintf(stderr, "gen: connect to 127.0.0.1:%u failed with %s, not EPERM\n",
			ntohs(g->to.sin_port), errno_name(errno));
		return -1;
	}
	return 0;
}

/* Sleep until the absolute CLOCK_MONOTONIC time ns. */
static void sleep_until(uint64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Operations due in ns at rate a second (128 bits: rate * ns passes 2^64 within a minute) */
static uint64_t ops_in(uint64_t rate, uint64_t ns)
{
	return (uint64_t)((unsigned __int128)rate * ns / 1000000000u);
}

/* The time ops operations take at rate a second, in ns. */
static uint64_t ns_for(uint64_t rate, uint64_t ops)
{
	return (uint64_t)((unsigned __int128)ops * 1000000000u / rate);
}

/*
 * Run operations for seconds at rate a second (0: flat out); the count done
 * in *done, the time taken in *elapsed. 0 or -1 as gen_op.
 */
static int gen_run(struct gen *g, uint64_t rate, double seconds, uint64_t *done, uint64_t *elapsed)
{
	uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9), t, n, i;
	uint64_t base = start, base_done = 0; /* the pace counts from here */
	uint64_t wake;

	*done = 0;
	for (t = start; t < end; t = now_ns()) {
		n = GEN_BATCH;
		if (rate) {
			n = base_done + ops_in(rate, t - base) - *done;
			if ((int64_t)n <= 0) {
				wake = base + ns_for(rate, *done - base_done + GEN_WAKE);
				if (wake - t >= GEN_SPIN_NS)
					sleep_until(wake);
				continue;
			}
			/*
			 * Once preempted, gen does not make the time up in one
			 * burst, which would measure how deep the ring is rather
			 * than how fast it drains: the debt beyond GEN_BURST is
			 * forgiven, and shows as a lower rate achieved.
			 */
			if (n > GEN_BURST) {
				n = GEN_BURST;
				base = t;
				base_done = *done + n;
			}
		}
		for (i = 0; i < n; i++)
			if (gen_op(g))
				return -1;
		*done += n;
	}
	*elapsed = t - start;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: gen connect PORT RATE SECONDS | gen getppid RATE SECONDS\n");
	return 2;
}

static int parse_num(const char *s, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || *out < 0 || *out > max ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct gen g = {.fd = -1};
	double port = 0, rate, seconds;
	uint64_t done, elapsed;
	int a = 2;

	if (argc == 5 && strcmp(argv[1], "connect") == 0) {
		g.connect = true;
		if (parse_num(argv[a++], 65535, &port) || port < 1)
			return usage();
	} else if (argc != 4 || strcmp(argv[1], "getppid") != 0) {
		return usage();
	}
	if (parse_num(argv[a], 1e10, &rate) || parse_num(argv[a + 1], 3600, &seconds))
		return usage();

	if (g.connect) {
		g.to.sin_family = AF_INET;
		g.to.sin_port = htons((uint16_t)port);
		g.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		g.fd = socket(AF_INET, SOCK_STREAM, 0);
		if (g.fd < 0) {
			fprintf(stderr, "gen: cannot create a TCP socket: %s\n", strerror(errno));
			return EXIT_FAILURE;
		}
	}
	/* sleeps of a few microseconds, not the default 50 of slack: an even pace */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	if (gen_run(&g, (uint64_t)rate, seconds, &done, &elapsed))
		return EXIT_FAILURE;
	printf("gen: attempts %llu seconds %.6f rate %.0f\n", (unsigned long long)done,
	       elapsed / 1e9, elapsed ? done * 1e9 / elapsed : 0.0);
	return EXIT_SUCCESS;
}
