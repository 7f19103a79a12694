#include <stdio.h>
#include <string.h>

#include "cron.h"
#include "err.h"
#include "tz.h"

/* The day y-m-d (d may run past the month) of tz, as jobs_tz_day gives it. */
static int
day_of(const char *tz, int64_t y, int m, int d, struct jobs_tz_day *day,
    struct jobs_err *err)
{
	struct jobs_cron_tm tm;

	if (jobs_cron_day_start(tz, y, m, d, &day->start, err) < 0 ||
	    jobs_cron_day_start(tz, y, m, d + 1, &day->end, err) < 0 ||
	    jobs_cron_local(day->start, tz, &tm, err) < 0)
		return -1;
	snprintf(day->date, sizeof(day->date), "%04d-%02d-%02d", (int)tm.year,
	    tm.month, tm.day);
	day->wday = tm.wday == 0 ? 7 : tm.wday;
	return 0;
}

int
jobs_tz_day(const char *tz, int64_t t, struct jobs_tz_day *day,
    struct jobs_err *err)
{
	struct jobs_cron_tm tm;

	if (jobs_cron_local(t, tz, &tm, err) < 0)
		return -1;
	return day_of(tz, tm.year, tm.month, tm.day, day, err);
}

static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
jobs_tz_day_parse(const char *tz, const char *date, struct jobs_tz_day *day,
    struct jobs_err *err)
{
	char a[JOBS_TZ_DATE_MAX];
	int y, m, d;

	if (date == NULL || strlen(date) != 10 || date[4] != '-' ||
	    date[7] != '-' || digits(date, 4, &y) < 0 ||
	    digits(date + 5, 2, &m) < 0 || digits(date + 8, 2, &d) < 0 ||
	    y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		return jobs_err_set(err, JOBS_EUSAGE, "invalid date \"%.32s\":"
		    " want YYYY-MM-DD", date ? date : "");
	/* A day past the month's end rolls over: the round trip tells. */
	memcpy(a, date, sizeof(a));
	if (day_of(tz, y, m, d, day, err) < 0)
		return -1;
	if (strcmp(day->date, a) != 0)
		return jobs_err_set(err, JOBS_EUSAGE, "invalid date \"%s\": no"
		    " such day", a);
	return 0;
}

int
jobs_tz_periods(const char *tz, int64_t t, struct jobs_tz_periods *p,
    struct jobs_err *err)
{
	struct jobs_cron_tm tm;
	int monday;

	if (jobs_cron_local(t, tz, &tm, err) < 0)
		return -1;
	monday = tm.day - (tm.wday + 6) % 7;
	if (jobs_cron_day_start(tz, tm.year, tm.month, tm.day, &p->day, err) < 0 ||
	    jobs_cron_day_start(tz, tm.year, tm.month, monday, &p->week, err) < 0 ||
	    jobs_cron_day_start(tz, tm.year, tm.month, 1, &p->month, err) < 0)
		return -1;
	return 0;
}
