/*
 * tz.h - local days, weeks and months in a time zone, for the jobs that
 * count by a venue's own calendar (jobs-stats, jobs-report).
 *
 * A thin layer over the zone engine of lib/cron.c: the same TZif files,
 * the same cache, the same refusal of bad names.  A local day is the
 * half-open span of instants [start, end) from where the day begins to
 * where the next one begins (jobs_cron_day_start()): 24 hours, or 23 or
 * 25 on the days a zone moves its clocks.  Weeks start on Monday (ISO
 * 8601).  Nothing here allocates.
 */
#ifndef JOBS_TZ_H
#define JOBS_TZ_H

#include <stdint.h>

struct jobs_err;

#define JOBS_TZ_DATE_MAX 11	/* "YYYY-MM-DD" and its NUL */

/* One local day of a zone. */
struct jobs_tz_day {
	char date[JOBS_TZ_DATE_MAX];	/* "2026-11-29" */
	int64_t start, end;		/* epoch s: [start, end) */
	int wday;			/* 1 = Monday .. 7 = Sunday */
};

/*
 * The local day of zone tz (NULL, "" or "UTC" mean UTC; otherwise an IANA
 * name) that contains the instant t (epoch s).  Returns 0, or -1 with err
 * (JOBS_EUSAGE) for a bad zone or a time out of range.
 */
int jobs_tz_day(const char *tz, int64_t t, struct jobs_tz_day *day,
    struct jobs_err *err);

/*
 * The local day named date, strictly "YYYY-MM-DD" and a real date
 * (2026-02-29 is refused), in zone tz.  0, or -1 with err (JOBS_EUSAGE).
 */
int jobs_tz_day_parse(const char *tz, const char *date, struct jobs_tz_day *day,
    struct jobs_err *err);

/*
 * Where the local day, ISO week (Monday) and month that contain t begin
 * in tz: each the start of its first local day.  0, or -1 with err.
 */
struct jobs_tz_periods {
	int64_t day, week, month;
};
int jobs_tz_periods(const char *tz, int64_t t, struct jobs_tz_periods *p,
    struct jobs_err *err);

#endif
