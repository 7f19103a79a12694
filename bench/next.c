/*
 * bench/next - next-fire-time throughput of lib/cron.c against the obvious
 * alternative measured in the same run: stepping minute by minute and
 * testing each against the expression.  One line per figure.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cron.h"
#include "err.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Does minute t (UTC) match c, with cron's day-of-month/day-of-week rule? */
static int
matches(const struct jobs_cron *c, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int dom, dow;

	gmtime_r(&tt, &tm);
	dom = (c->dom >> tm.tm_mday) & 1;
	dow = (c->dow >> tm.tm_wday) & 1;
	return ((c->minute >> tm.tm_min) & 1) && ((c->hour >> tm.tm_hour) & 1) &&
	    ((c->month >> (tm.tm_mon + 1)) & 1) &&
	    (c->dom_star || c->dow_star ? dom && dow : dom || dow);
}

static int64_t
naive_next(const struct jobs_cron *c, int64_t after)
{
	int64_t t = after - after % 60 + 60;

	while (!matches(c, t))
		t += 60;
	return t;
}

int
main(void)
{
	static const char *const exprs[] = { "*/5 * * * *", "30 3 * * 0",
	    "0 0 1 * *", "0 9 * * mon-fri", "15 14 1 jan *" };
	struct jobs_err err;
	size_t i;

	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct jobs_cron c;
		int64_t t = 1767225600, u = t, check = 0;
		double a, b, ours, naive;
		int n, k, naive_n;

		if (jobs_cron_parse(&c, exprs[i], &err) < 0) {
			fprintf(stderr, "next: %s\n", err.msg);
			return 1;
		}
		n = 200000;
		a = now_s();
		for (k = 0; k < n; k++) {
			if (k % 1000 == 0)	/* stay within the years cron knows */
				t = 1767225600;
			if (jobs_cron_next(&c, t, NULL, JOBS_CRON_SYSTEM, &t, &err) != 1)
				return 1;
		}
		ours = (now_s() - a) / n;
		/* The naive way is slow for rare expressions: fewer calls. */
		naive_n = c.minute == 0 || (c.minute & (c.minute - 1)) ? 20000 : 200;
		if (c.month != 0x1ffe)
			naive_n = 20;
		b = now_s();
		for (k = 0; k < naive_n; k++)
			u = naive_next(&c, u);
		naive = (now_s() - b) / naive_n;
		/* Both must agree, or the comparison means nothing. */
		t = 1767225600;
		for (k = 0; k < naive_n; k++)
			if (jobs_cron_next(&c, t, NULL, JOBS_CRON_SYSTEM, &t, &err) != 1)
				return 1;
		check = t == u;
		printf("next: '%s' %.0f ns/call, minute stepping %.0f ns/call: %.0fx%s\n",
		    exprs[i], ours * 1e9, naive * 1e9, naive / ours,
		    check ? "" : " (MISMATCH)");
		if (!check)
			return 1;
	}
	{
		struct jobs_cron c;
		int64_t t = 1767225600;
		double a;
		int k, n = 20000;

		jobs_cron_parse(&c, "30 2 * * *", &err);
		a = now_s();
		for (k = 0; k < n; k++)
			if (jobs_cron_next(&c, t, "America/New_York", JOBS_CRON_SYSTEM,
			    &t, &err) != 1)
				return 1;
		printf("next: '30 2 * * *' in America/New_York %.0f ns/call\n",
		    (now_s() - a) / n * 1e9);
	}
	return 0;
}
