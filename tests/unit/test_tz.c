/*
 * Unit tests of lib/tz.c (and the two exports of lib/cron.c under it):
 * local days, weeks and months, across both daylight-saving changes.
 */
#include <stdint.h>

#include "cron.h"
#include "err.h"
#include "tz.h"
#include "t.h"

#define SYD "Australia/Sydney"

static void
day_is(const char *name, const char *tz, int64_t t, const char *date,
    int64_t start, int64_t end)
{
	struct jobs_tz_day d;
	struct jobs_err err = { 0, "" };

	T_OK(name, jobs_tz_day(tz, t, &d, &err) == 0);
	T_STR(name, d.date, date);
	T_INT(name, d.start, start);
	T_INT(name, d.end, end);
}

static void
sydney(void)
{
	/* 2026-10-04: 02:00 AEST becomes 03:00 AEDT, a 23-hour day */
	day_is("the spring-forward day is 23 hours", SYD, 1791075600,
	    "2026-10-04", 1791036000, 1791118800);
	day_is("its first second", SYD, 1791036000, "2026-10-04", 1791036000,
	    1791118800);
	day_is("its last second", SYD, 1791118799, "2026-10-04", 1791036000,
	    1791118800);
	day_is("the next day starts at its end", SYD, 1791118800, "2026-10-05",
	    1791118800, 1791118800 + 86400);
	/* 2026-04-05: 03:00 AEDT becomes 02:00 AEST, a 25-hour day */
	day_is("the fall-back day is 25 hours", SYD, 1775307600 + 3600,
	    "2026-04-05", 1775307600, 1775397600);
	day_is("the repeated hour's second pass is still that day", SYD,
	    1775307600 + 12600, "2026-04-05", 1775307600, 1775397600);
	day_is("the day before, at 23:59:59 AEDT", SYD, 1775307599,
	    "2026-04-04", 1775307600 - 86400, 1775307600);
}

static void
gap_at_midnight(void)
{
	/* Havana moves 00:00 to 01:00: the day begins at 01:00 (the rule) */
	day_is("a day whose midnight is skipped starts at the jump",
	    "America/Havana", 1772946000 + 7200, "2026-03-08", 1772946000,
	    1773028800);
	/* Sao Paulo did the same in 2018 (the file's transitions) */
	day_is("also from a zone file's transitions", "America/Sao_Paulo",
	    1541300400 + 60, "2018-11-04", 1541300400, 1541383200);
}

static void
periods(void)
{
	struct jobs_tz_periods p;
	struct jobs_err err = { 0, "" };

	/* Wednesday 2026-10-07 12:00 AEDT */
	T_OK("periods in Sydney", jobs_tz_periods(SYD, 1791334800, &p, &err) == 0);
	T_INT("its day", p.day, 1791334800 - 12 * 3600);
	T_INT("its week starts on Monday 2026-10-05, in AEDT", p.week, 1791118800);
	T_INT("its month on 2026-10-01, still AEST", p.month, 1790776800);
	/* Sunday 2026-10-04 12:00 AEDT: the week began a Monday in AEST */
	T_OK("the DST day", jobs_tz_periods(SYD, 1791075600, &p, &err) == 0);
	T_INT("a Sunday belongs to the week of the Monday before", p.week,
	    1790517600);
	/* Thursday 2026-10-01 09:00: the week began in September */
	T_OK("a month's first day", jobs_tz_periods(SYD, 1790809200, &p, &err) == 0);
	T_INT("the week crosses into the month before", p.week, 1790517600);
	T_INT("the month starts that day", p.month, 1790776800);
	T_INT("so does the day", p.day, 1790776800);
	/* Sunday 2026-11-29 10:00 UTC */
	T_OK("UTC", jobs_tz_periods("UTC", 1795946400, &p, &err) == 0);
	T_INT("UTC day", p.day, 1795946400 - 10 * 3600);
	T_INT("UTC week", p.week, 1795392000);
	T_INT("UTC month", p.month, 1793491200);
	T_OK("NULL is UTC", jobs_tz_periods(NULL, 1795946400, &p, &err) == 0);
	T_INT("NULL week", p.week, 1795392000);
}

static void
parse(void)
{
	static const char *const bad[] = { "", "2026-1-01", "2026-13-01",
	    "2026-02-29", "2026-04-31", "2026-00-10", "2026-01-00",
	    "26-01-01", "2026/01/01", "2026-01-01T00", "x026-01-01" };
	struct jobs_tz_day d;
	struct jobs_err err = { 0, "" };
	size_t i;

	T_OK("a leap day", jobs_tz_day_parse(SYD, "2024-02-29", &d, &err) == 0);
	T_STR("keeps its name", d.date, "2024-02-29");
	T_INT("a Thursday", d.wday, 4);
	T_OK("the spring-forward day", jobs_tz_day_parse(SYD, "2026-10-04", &d,
	    &err) == 0);
	T_INT("from its start", d.start, 1791036000);
	T_INT("to the next one", d.end, 1791118800);
	T_INT("a Sunday", d.wday, 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_OK(bad[i], jobs_tz_day_parse("UTC", bad[i], &d, &err) == -1);
		T_INT("a bad date is a usage error", err.code, JOBS_EUSAGE);
	}
	T_OK("NULL", jobs_tz_day_parse("UTC", NULL, &d, &err) == -1);
}

static void
bad_zones(void)
{
	struct jobs_tz_day d;
	struct jobs_tz_periods p;
	struct jobs_err err = { 0, "" };

	T_OK("an unknown zone", jobs_tz_day("Mars/Olympus", 0, &d, &err) == -1);
	T_INT("is a usage error", err.code, JOBS_EUSAGE);
	T_STR("named in the message", err.msg, "unknown time zone \"Mars/Olympus\"");
	T_OK("a path is no zone", jobs_tz_periods("../../etc/passwd", 0, &p,
	    &err) == -1);
	T_OK("nor a directory", jobs_tz_day_parse("America", "2026-01-01", &d,
	    &err) == -1);
	T_OK("a time out of range", jobs_tz_day("UTC", JOBS_CRON_TIME_MAX + 1,
	    &d, &err) == -1);
}

static void
cron_exports(void)
{
	struct jobs_cron_tm tm;
	struct jobs_err err = { 0, "" };
	int64_t t;

	T_OK("local time", jobs_cron_local(1775307600 + 12600, SYD, &tm, &err) == 0);
	T_INT("second pass of 02:30", tm.hour * 100 + tm.min, 230);
	T_INT("in AEST", tm.utoff, 36000);
	T_INT("on a Sunday", tm.wday, 0);
	T_OK("day 0 is the last of the month before",
	    jobs_cron_day_start("UTC", 2026, 3, 0, &t, &err) == 0);
	T_INT("2026-02-28", t, 1772236800);
	T_OK("a month out of range", jobs_cron_day_start("UTC", 2026, 13, 1, &t,
	    &err) == -1);
}

int
main(void)
{
	sydney();
	gap_at_midnight();
	periods();
	parse();
	bad_zones();
	cron_exports();
	return t_done();
}
