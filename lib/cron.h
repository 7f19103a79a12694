/*
 * cron.h - cron time expressions with the host cron's semantics.
 *
 * The five time fields of a crontab line (or an @macro) are parsed exactly as
 * cronie accepts them, and the fire times are computed the way cronie's main
 * loop runs jobs, including its daylight-saving behaviour for the system time
 * zone and the naive per-minute matching it applies under CRON_TZ.
 *
 * Nothing here allocates memory the caller must free.  Time zones are read
 * from the TZif files under /usr/share/zoneinfo and kept in a small cache
 * that is private to each thread, so the calls are thread-safe; a zone file
 * that changes on disk is seen by threads that have not cached it yet.
 */
#ifndef JOBS_CRON_H
#define JOBS_CRON_H

#include <stddef.h>
#include <stdint.h>

struct jobs_err;

/* How a time zone is applied (see jobs_cron_next). */
enum {
	JOBS_CRON_SYSTEM = 0,	/* the zone is cron's own (system) time zone */
	JOBS_CRON_CRONTZ = 1,	/* the zone came from a CRON_TZ= line */
};

/* Enough for any string jobs_cron_format writes, with its NUL. */
#define JOBS_CRON_FORMAT_MAX 32

/* Instants outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z are refused. */
#define JOBS_CRON_TIME_MIN INT64_C(-62135596800)
#define JOBS_CRON_TIME_MAX INT64_C(253402300799)

/*
 * A parsed expression.  The *_star flags record that the field's first
 * character was '*', which is what cron's day-of-month/day-of-week rule and
 * its daylight-saving handling look at (so a stepped star is a star field).
 * Day of week 7 is stored as 0.  reboot is set for @reboot, with every bit
 * clear.
 */
struct jobs_cron {
	uint64_t minute;	/* bit n: minute n, 0..59 */
	uint32_t hour;		/* bit n: hour n, 0..23 */
	uint32_t dom;		/* bit n: day n, 1..31 */
	uint16_t month;		/* bit n: month n, 1..12 */
	uint8_t dow;		/* bit n: weekday n, 0=Sunday */
	unsigned dom_star:1, dow_star:1, min_star:1, hour_star:1, reboot:1;
};

/*
 * Parse expr: five blank-separated time fields or one macro (@yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly, @reboot), with
 * optional blanks around and one optional trailing newline.  Returns 0, or
 * -1 with err (code JOBS_EUSAGE) naming the field and the reason, such as
 * "hour: 24 is out of range 0-23".  *c is zeroed on failure.
 */
int jobs_cron_parse(struct jobs_cron *c, const char *expr,
    struct jobs_err *err);

/*
 * Parse the time part of a crontab line (after any leading '-' that cronie
 * reads as "do not log": the caller strips it).  Returns the number of bytes
 * consumed: leading blanks, the five fields or the macro, and the blanks
 * after them, so line + n is the user or command field (or the end of the
 * line).  Like cronie, refuses a line whose next field starts with '*'.
 * -1 with err on failure.
 */
int jobs_cron_parse_prefix(struct jobs_cron *c, const char *line,
    struct jobs_err *err);

/*
 * The first fire time strictly after `after`, in zone tz (NULL, "" or "UTC"
 * mean UTC; otherwise an IANA name) applied under mode:
 *   JOBS_CRON_SYSTEM  cronie's main loop: a fixed-time job (neither the
 *                     minute nor the hour field starts with '*') whose time
 *                     is skipped by a forward jump of 5..179 minutes runs at
 *                     the jump, and runs only once in a repeated hour; a
 *                     wildcard job runs in both passes of a repeated hour
 *                     and not in a skipped one.  (Jumps of under 5 minutes
 *                     run every skipped minute's jobs at the jump; jumps of
 *                     3 hours or more are taken as a clock reset.)
 *   JOBS_CRON_CRONTZ  each real minute is converted to the zone and matched,
 *                     so skipped times never fire and repeated ones fire
 *                     twice.
 * The result is a minute boundary.  Returns 1 and sets *next; 0 when the
 * expression never fires (jobs_cron_never, @reboot, or no fire time within
 * 400 years or before the year 10000); -1 with err for a bad zone, mode or
 * time.
 */
int jobs_cron_next(const struct jobs_cron *c, int64_t after, const char *tz,
    int mode, int64_t *next, struct jobs_err *err);

/*
 * The latest fire time at or before `at`, as jobs_cron_next computes them.
 * Same returns (0 when none within 400 years before `at`).
 */
int jobs_cron_prev(const struct jobs_cron *c, int64_t at, const char *tz,
    int mode, int64_t *prev, struct jobs_err *err);

/*
 * 1 when a valid expression can never fire because its days do not exist
 * ("0 0 30 2 *", "0 0 31 4,6,9,11 *"), else 0 (also 0 for @reboot).
 */
int jobs_cron_never(const struct jobs_cron *c);

/* Check that tz names a usable time zone: 0, or -1 with err. */
int jobs_cron_zone_check(const char *tz, struct jobs_err *err);

/*
 * Write t as ISO-8601 local time in zone tz with a numeric offset, as
 * "2026-03-08T03:00:00-04:00" ("+00:00" for UTC; an offset with seconds,
 * as local mean times before ~1900 have, is written "-04:56:02").  Returns 0,
 * or -1 if the zone is bad, the year is outside 0000..9999 or buf is too
 * small (JOBS_CRON_FORMAT_MAX always suffices).
 */
int jobs_cron_format(int64_t t, const char *tz, char *buf, size_t size);

/* An instant's local time in a zone (jobs_cron_local). */
struct jobs_cron_tm {
	int64_t year;
	int month, day;		/* 1..12, 1..31 */
	int hour, min, sec;
	int wday;		/* 0 = Sunday */
	int32_t utoff;		/* seconds east of UTC */
};

/*
 * The local time of t in zone tz (NULL, "" or "UTC" mean UTC; otherwise
 * an IANA name), from the same zone engine as the fire times.  Returns 0,
 * or -1 with err (JOBS_EUSAGE) for a bad zone or a time outside
 * JOBS_CRON_TIME_MIN..MAX.
 */
int jobs_cron_local(int64_t t, const char *tz, struct jobs_cron_tm *tm,
    struct jobs_err *err);

/*
 * Where the local day y-m-d begins in zone tz: the first instant whose
 * local time is at or after y-m-d 00:00:00, which is the instant of
 * midnight, or, when a forward jump skips midnight, the instant of the
 * jump (when midnight comes twice, the first).  d may fall outside the
 * month (0 is the day before the 1st, 32 a day after the 31st of
 * January...), within 400 days; m is 1..12.  Returns 0 with *t set, or
 * -1 with err for a bad zone or a date outside years 1..9999.
 */
int jobs_cron_day_start(const char *tz, int64_t y, int m, int d, int64_t *t,
    struct jobs_err *err);

#endif
