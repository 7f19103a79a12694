/*
 * test_cron.c - unit tests for lib/cron.c.
 *
 * Every table row is one case and names the behaviour it pins down.  Fire
 * times are written as local ISO-8601 with the zone's offset, so a row reads
 * as a person would check it and pins jobs_cron_format as well.  The last
 * tables compare jobs_cron_next/prev with an independent oracle: a
 * minute-by-minute simulation of cronie's main loop on glibc's localtime_r.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "err.h"

#define NY "America/New_York"
#define LH "Australia/Lord_Howe"
#define KOL "Asia/Kolkata"
#define SYS JOBS_CRON_SYSTEM
#define CTZ JOBS_CRON_CRONTZ

static int passed, failed;

static void
verdict(int ok, const char *table, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
verdict(int ok, const char *table, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: %s: ", table, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* "YYYY-MM-DDTHH:MM:SS" then "Z" or an offset [+-]HH:MM[:SS]. */
static int
parse_iso(const char *s, int64_t *t)
{
	static const int at[6] = { 0, 5, 8, 11, 14, 17 };
	static const int len[6] = { 4, 2, 2, 2, 2, 2 };
	char num[8];
	long v[6], off = 0, part;
	struct tm tm;
	int i, sign;

	if (strlen(s) < 20)
		return -1;
	for (i = 0; i < 6; i++) {
		memcpy(num, s + at[i], (size_t)len[i]);
		num[len[i]] = '\0';
		v[i] = strtol(num, NULL, 10);
	}
	s += 19;
	if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		for (i = 0, s++; i < 3 && *s != '\0'; i++) {
			memcpy(num, s, 2);
			num[2] = '\0';
			part = strtol(num, NULL, 10);
			off = off * 60 + part;
			s += 2;
			if (*s == ':')
				s++;
		}
		if (i == 2)
			off *= 60;
		off *= sign;
	} else if (*s != 'Z') {
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)v[0] - 1900;
	tm.tm_mon = (int)v[1] - 1;
	tm.tm_mday = (int)v[2];
	tm.tm_hour = (int)v[3];
	tm.tm_min = (int)v[4];
	tm.tm_sec = (int)v[5];
	*t = (int64_t)timegm(&tm) - off;
	return 0;
}

static int64_t
iso(const char *s)
{
	int64_t t = 0;

	if (parse_iso(s, &t) < 0) {
		printf("bad time in test table: %s\n", s);
		exit(2);
	}
	return t;
}

/* ---- parsing: accepted expressions and the sets they give ------------- */

struct parse_ok {
	const char *name, *expr;
	const char *minute, *hour, *dom, *month, *dow;	/* lists, or "all" */
	const char *stars;	/* "MHDW" with '-' for a field that is not */
	int reboot;
};

static const struct parse_ok parse_ok[] = {
	{ "every minute", "* * * * *", "all", "all", "all", "all", "all",
	    "MHDW", 0 },
	{ "a star with a step is a star field", "*/15 * * * *",
	    "0,15,30,45", "all", "all", "all", "all", "MHDW", 0 },
	{ "plain numbers are not star fields", "0 0 1 * mon",
	    "0", "0", "1", "all", "1", "----", 0 },
	{ "*/2 in day-of-month counts as a star", "0 0 */2 * mon",
	    "0", "0", "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31", "all",
	    "1", "--D-", 0 },
	{ "range with a step", "0-59/20 1-3 * * *", "0,20,40", "1,2,3",
	    "all", "all", "all", "--DW", 0 },
	{ "lists mix values, ranges and steps", "1,2,3-5,*/20 * * * *",
	    "0,1,2,3,4,5,20,40", "all", "all", "all", "all", "-HDW", 0 },
	{ "a list starting with * is a star field", "*,5 * * * *",
	    "all", "all", "all", "all", "all", "MHDW", 0 },
	{ "month names in ranges and lists", "0 0 * jan-mar,dec *",
	    "0", "0", "all", "1,2,3,12", "all", "--DW", 0 },
	{ "names in any case", "0 0 * JaN MoN", "0", "0", "all", "1", "1",
	    "--D-", 0 },
	{ "upper-case weekday name", "0 0 * * SUN", "0", "0", "all", "all",
	    "0", "--D-", 0 },
	{ "Sunday as 7 is Sunday", "0 0 * * 7", "0", "0", "all", "all", "0",
	    "--D-", 0 },
	{ "Sunday as 0 and 7 together", "0 0 * * 0,7", "0", "0", "all",
	    "all", "0", "--D-", 0 },
	{ "a range up to 7 includes Sunday", "0 0 * * 5-7", "0", "0", "all",
	    "all", "0,5,6", "--D-", 0 },
	{ "fri-sun wraps to Sunday as cronie's 5-0 does", "0 0 * * fri-sun",
	    "0", "0", "all", "all", "0,5,6", "--D-", 0 },
	{ "weekday names as range ends", "0 9 * * mon-fri", "0", "9", "all",
	    "all", "1,2,3,4,5", "--D-", 0 },
	{ "a weekday step over 0-7", "0 0 * * */2", "0", "0", "all", "all",
	    "0,2,4,6", "--DW", 0 },
	{ "a weekday step reaching 7", "0 0 * * 1-7/3", "0", "0", "all",
	    "all", "0,1,4", "--D-", 0 },
	{ "a step larger than the range keeps the first value",
	    "5 */60 * * *", "5", "0", "all", "all", "all", "-HDW", 0 },
	{ "a huge step is allowed too", "0 0 1-31/99999999999 * *", "0", "0",
	    "1", "all", "all", "---W", 0 },
	{ "leading zeros", "007 08 09 010 06", "7", "8", "9", "10", "6",
	    "----", 0 },
	{ "tabs and extra blanks around fields", "  0   0\t*  *  *  ", "0",
	    "0", "all", "all", "all", "--DW", 0 },
	{ "one trailing newline", "0 0 * * *\n", "0", "0", "all", "all",
	    "all", "--DW", 0 },
	{ "@yearly is 0 0 1 1 * with cronie's DOW_STAR", "@yearly", "0", "0",
	    "1", "1", "all", "---W", 0 },
	{ "@annually equals @yearly", "@annually", "0", "0", "1", "1", "all",
	    "---W", 0 },
	{ "@monthly is 0 0 1 * *", "@monthly", "0", "0", "1", "all", "all",
	    "---W", 0 },
	{ "@weekly is 0 0 * * 0", "@weekly", "0", "0", "all", "all", "0",
	    "---W", 0 },
	{ "@daily is 0 0 * * * without star flags", "@daily", "0", "0",
	    "all", "all", "all", "----", 0 },
	{ "@midnight equals @daily", "@midnight", "0", "0", "all", "all",
	    "all", "----", 0 },
	{ "@hourly is a wildcard-hour job", "@hourly", "0", "all", "all",
	    "all", "all", "-H--", 0 },
	{ "@reboot sets only the flag", "@reboot", "", "", "", "", "", "----",
	    1 },
	{ "a macro may have blanks around it", "  @daily\t", "0", "0", "all",
	    "all", "all", "----", 0 },
};

static uint64_t
mask_of(const char *list, int lo, int hi)
{
	uint64_t m = 0;
	const char *p = list;
	char *end;
	long v;
	int i;

	if (strcmp(list, "all") == 0) {
		for (i = lo; i <= hi; i++)
			m |= UINT64_C(1) << i;
		return m;
	}
	while (*p != '\0') {
		v = strtol(p, &end, 10);
		m |= UINT64_C(1) << v;
		p = *end == ',' ? end + 1 : end;
	}
	return m;
}

static void
test_parse_ok(void)
{
	const struct parse_ok *r;
	struct jobs_cron c;
	struct jobs_err err;
	char stars[5];
	size_t i;
	int ok;

	for (i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
		r = &parse_ok[i];
		jobs_err_clear(&err);
		if (jobs_cron_parse(&c, r->expr, &err) != 0) {
			verdict(0, "parse", r->name, "\"%s\" refused: %s",
			    r->expr, err.msg);
			continue;
		}
		stars[0] = c.min_star ? 'M' : '-';
		stars[1] = c.hour_star ? 'H' : '-';
		stars[2] = c.dom_star ? 'D' : '-';
		stars[3] = c.dow_star ? 'W' : '-';
		stars[4] = '\0';
		ok = c.minute == mask_of(r->minute, 0, 59) &&
		    c.hour == mask_of(r->hour, 0, 23) &&
		    c.dom == mask_of(r->dom, 1, 31) &&
		    c.month == mask_of(r->month, 1, 12) &&
		    c.dow == mask_of(r->dow, 0, 6) &&
		    strcmp(stars, r->stars) == 0 && c.reboot == r->reboot;
		verdict(ok, "parse", r->name,
		    "\"%s\": minute %llx hour %lx dom %lx month %x dow %x "
		    "stars %s reboot %d", r->expr,
		    (unsigned long long)c.minute, (unsigned long)c.hour,
		    (unsigned long)c.dom, (unsigned)c.month, (unsigned)c.dow,
		    stars, c.reboot);
	}
}

/* ---- parsing: refused expressions and their messages ------------------ */

struct parse_err {
	const char *name, *expr, *msg;
};

static const struct parse_err parse_err[] = {
	{ "six fields", "* * * * * *", "expected 5 fields, got 6" },
	{ "four fields", "* * * *", "expected 5 fields, got 4" },
	{ "nothing at all", "", "expected 5 fields, got 0" },
	{ "only blanks", " \t ", "expected 5 fields, got 0" },
	{ "minute 60", "60 * * * *", "minute: 60 is out of range 0-59" },
	{ "hour 24", "* 24 * * *", "hour: 24 is out of range 0-23" },
	{ "day-of-month 0", "* * 0 * *",
	    "day-of-month: 0 is out of range 1-31" },
	{ "day-of-month 32", "* * 32 * *",
	    "day-of-month: 32 is out of range 1-31" },
	{ "month 0", "* * * 0 *", "month: 0 is out of range 1-12" },
	{ "month 13", "* * * 13 *", "month: 13 is out of range 1-12" },
	{ "day-of-week 8", "* * * * 8", "day-of-week: 8 is out of range 0-7" },
	{ "a huge number", "99999999999 * * * *",
	    "minute: 99999999999 is out of range 0-59" },
	{ "a range end out of range even if the step skips it",
	    "5-64/30 * * * *", "minute: 64 is out of range 0-59" },
	{ "step 0", "*/0 * * * *", "minute: step 0 is not allowed" },
	{ "step 0 after a range", "0 0 * * 1-5/0",
	    "day-of-week: step 0 is not allowed" },
	{ "a step after a single value", "5/10 * * * *",
	    "minute: step without a range in \"5/10\"" },
	{ "a descending range", "5-1 * * * *",
	    "minute: range 5-1 is not ascending" },
	{ "a descending weekday range", "* * * * 5-1",
	    "day-of-week: range 5-1 is not ascending" },
	{ "a descending named range", "* * * * fri-mon",
	    "day-of-week: range fri-mon is not ascending" },
	{ "a descending hour range ending in 0", "* 5-0 * * *",
	    "hour: range 5-0 is not ascending" },
	{ "an unknown weekday word", "* * * * foo",
	    "day-of-week: \"foo\" is not a number or name" },
	{ "a month name in the minute field", "jan * * * *",
	    "minute: \"jan\" is not a number" },
	{ "a month name in the weekday field", "* * * * jan",
	    "day-of-week: \"jan\" is not a number or name" },
	{ "a weekday name in the month field", "* * * mon *",
	    "month: \"mon\" is not a number or name" },
	{ "long month names", "* * * january *",
	    "month: \"january\" is not a number or name" },
	{ "a number glued to a name", "* * * * 1mon",
	    "day-of-week: \"1mon\" is not a number or name" },
	{ "unknown macro", "@every 5m", "unknown macro @every" },
	{ "macros are lower case only", "@Daily", "unknown macro @Daily" },
	{ "a lone @", "@", "unknown macro @" },
	{ "words after a macro", "@daily extra",
	    "unexpected \"extra\" after @daily" },
	{ "no L (Quartz)", "0 0 L * *",
	    "day-of-month: \"L\" is not a number" },
	{ "no W (Quartz)", "0 0 15W * *",
	    "day-of-month: \"15W\" is not a number" },
	{ "no ? (Quartz)", "0 0 ? * *",
	    "day-of-month: unexpected \"?\" in \"?\"" },
	{ "no # (Quartz)", "0 0 * * 5#2",
	    "day-of-week: unexpected \"#\" in \"5#2\"" },
	{ "no H (Jenkins)", "H * * * *", "minute: \"H\" is not a number" },
	{ "no random ranges", "0~30 * * * *",
	    "minute: random ranges (\"~\") are not supported in \"0~30\"" },
	{ "an empty list element", "1,,2 * * * *",
	    "minute: empty list element in \"1,,2\"" },
	{ "a trailing comma", "1, * * * *",
	    "minute: empty list element in \"1,\"" },
	{ "a leading comma", ",1 * * * *",
	    "minute: empty list element in \",1\"" },
	{ "a range without an end", "5- * * * *",
	    "minute: missing number after \"-\" in \"5-\"" },
	{ "a range without a start", "-5 * * * *",
	    "minute: unexpected \"-\" in \"-5\"" },
	{ "a slash without a step", "*/ * * * *",
	    "minute: missing step after \"/\" in \"*/\"" },
	{ "a step that is a word", "*/x * * * *",
	    "minute: step \"x\" is not a number" },
	{ "a step that is a name", "* * * * */mon",
	    "day-of-week: step \"mon\" is not a number" },
	{ "two steps", "*/5/2 * * * *",
	    "minute: unexpected \"/\" in \"*/5/2\"" },
	{ "a range of ranges", "1-5-7 * * * *",
	    "minute: unexpected \"-\" in \"1-5-7\"" },
	{ "a star glued to a number", "*5 * * * *",
	    "minute: unexpected \"5\" in \"*5\"" },
	{ "a star used as a range start", "*-5 * * * *",
	    "minute: unexpected \"-\" in \"*-5\"" },
	{ "a sign before a number", "+5 * * * *",
	    "minute: unexpected \"+\" in \"+5\"" },
	{ "control characters are not echoed", "* * * * *\x01",
	    "day-of-week: unexpected \"?\" in \"*?\"" },
	{ "a second line", "0 0 * * *\nfoo",
	    "unexpected text after a newline" },
	{ "a line break inside the fields", "0 0\n* * *",
	    "expected 5 fields, got 2" },
};

static void
test_parse_err(void)
{
	const struct parse_err *r;
	struct jobs_cron c;
	struct jobs_err err;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(parse_err) / sizeof(parse_err[0]); i++) {
		r = &parse_err[i];
		jobs_err_clear(&err);
		memset(&c, 0xff, sizeof(c));
		rc = jobs_cron_parse(&c, r->expr, &err);
		verdict(rc == -1 && err.code == JOBS_EUSAGE &&
		    strcmp(err.msg, r->msg) == 0 && c.minute == 0 &&
		    c.reboot == 0, "parse error", r->name,
		    "rc %d code %d msg \"%s\", want \"%s\"", rc, err.code,
		    err.msg, r->msg);
	}
}

/* ---- crontab lines ---------------------------------------------------- */

struct prefix {
	const char *name, *line;
	const char *rest;	/* what follows the time part; NULL = error */
	const char *msg;
};

static const struct prefix prefixes[] = {
	{ "the command follows the five fields",
	    "0 5 * * * /usr/bin/jobs-digest", "/usr/bin/jobs-digest", NULL },
	{ "the blanks after the fields are consumed",
	    "0 5 * * *  \t root /bin/true", "root /bin/true", NULL },
	{ "leading blanks are consumed", "   */5 * * * * cmd", "cmd", NULL },
	{ "a macro and its blanks are consumed", "  @daily\troot cmd",
	    "root cmd", NULL },
	{ "@reboot in a line", "@reboot /bin/true", "/bin/true", NULL },
	{ "a line with no command stops at its end", "0 5 * * *", "", NULL },
	{ "a newline ends the fields", "0 5 * * *\n", "\n", NULL },
	{ "a command may contain anything", "0 5 * * * echo '* * *' # x",
	    "echo '* * *' # x", NULL },
	{ "a sixth star field is cronie's \"bad command\"",
	    "0 5 * * * * cmd", NULL,
	    "unexpected \"*\" after the time fields" },
	{ "a command after a macro cannot start with *", "@daily *cmd", NULL,
	    "unexpected \"*\" after the time fields" },
	{ "too few fields in a line", "0 5 * *", NULL,
	    "expected 5 fields, got 4" },
	{ "a bad field in a line", "61 5 * * * cmd", NULL,
	    "minute: 61 is out of range 0-59" },
	{ "a command in place of a field", "0 5 * * cmd", NULL,
	    "day-of-week: \"cmd\" is not a number or name" },
};

static void
test_prefix(void)
{
	const struct prefix *r;
	struct jobs_cron c;
	struct jobs_err err;
	size_t i;
	int n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		r = &prefixes[i];
		jobs_err_clear(&err);
		n = jobs_cron_parse_prefix(&c, r->line, &err);
		if (r->rest == NULL)
			verdict(n == -1 && strcmp(err.msg, r->msg) == 0,
			    "crontab line", r->name, "got %d \"%s\"", n,
			    err.msg);
		else
			verdict(n >= 0 && strcmp(r->line + n, r->rest) == 0,
			    "crontab line", r->name, "got %d (%s)", n,
			    n < 0 ? err.msg : r->line + n);
	}
}

/* ---- never-firing expressions ----------------------------------------- */

struct never {
	const char *name, *expr;
	int never;
};

static const struct never nevers[] = {
	{ "February 30th never comes", "0 0 30 2 *", 1 },
	{ "the 31st of a 30-day month never comes", "0 0 31 4,6,9,11 *", 1 },
	{ "February 29th does come", "0 0 29 2 *", 0 },
	{ "Feb 30 or any Monday fires on the Mondays", "0 0 30 2 mon", 0 },
	{ "Feb 30 and a stepped weekday never fires", "0 0 30 2 */2", 1 },
	{ "a stepped day-of-month with a real day fires", "0 0 */30 2 *", 0 },
	{ "the 31st fires in some months", "0 0 31 * *", 0 },
	{ "@reboot is not a never-firing expression", "@reboot", 0 },
};

static void
test_never(void)
{
	const struct never *r;
	struct jobs_cron c;
	struct jobs_err err;
	int64_t t = 0;
	size_t i;
	int rn, rp;

	for (i = 0; i < sizeof(nevers) / sizeof(nevers[0]); i++) {
		r = &nevers[i];
		if (jobs_cron_parse(&c, r->expr, &err) != 0) {
			verdict(0, "never", r->name, "refused: %s", err.msg);
			continue;
		}
		rn = jobs_cron_next(&c, iso("2026-01-01T00:00:00Z"), NULL, SYS,
		    &t, &err);
		rp = jobs_cron_prev(&c, iso("2026-01-01T00:00:00Z"), NULL, SYS,
		    &t, &err);
		verdict(jobs_cron_never(&c) == r->never &&
		    (r->never || c.reboot ? rn == 0 && rp == 0 :
		    rn == 1 && rp == 1), "never", r->name,
		    "never() %d next %d prev %d", jobs_cron_never(&c), rn, rp);
	}
}

/* ---- next and prev ---------------------------------------------------- */

struct fire {
	const char *name, *expr, *tz;
	int mode;
	const char *from;	/* next: strictly after; prev: at or before */
	const char *want;	/* successive fire times, "" = none */
};

static const struct fire nexts[] = {
	/* UTC basics */
	{ "every minute fires at the next minute", "* * * * *", NULL, SYS,
	    "2026-01-01T00:00:00Z",
	    "2026-01-01T00:01:00+00:00 2026-01-01T00:02:00+00:00" },
	{ "next is strictly after a mid-minute instant", "* * * * *", NULL,
	    SYS, "2026-01-01T00:00:30Z", "2026-01-01T00:01:00+00:00" },
	{ "\"UTC\" and \"\" are UTC", "30 12 * * *", "UTC", SYS,
	    "2026-01-01T12:30:00Z",
	    "2026-01-02T12:30:00+00:00 2026-01-03T12:30:00+00:00" },
	{ "an empty zone is UTC", "30 12 * * *", "", CTZ,
	    "2026-01-01T12:29:59Z", "2026-01-01T12:30:00+00:00" },
	{ "steps of 15 minutes roll over the hour", "*/15 * * * *", NULL, SYS,
	    "2026-01-01T10:40:00Z",
	    "2026-01-01T10:45:00+00:00 2026-01-01T11:00:00+00:00" },
	{ "New Year's Day", "0 0 1 1 *", NULL, SYS, "2026-01-01T00:00:00Z",
	    "2027-01-01T00:00:00+00:00 2028-01-01T00:00:00+00:00" },
	{ "the last minute of the year rolls into the next",
	    "59 23 31 12 *", NULL, SYS, "2026-12-31T23:59:00Z",
	    "2027-12-31T23:59:00+00:00" },
	{ "weekdays at noon skip the weekend", "0 12 * * mon-fri", NULL, SYS,
	    "2026-01-02T13:00:00Z",
	    "2026-01-05T12:00:00+00:00 2026-01-06T12:00:00+00:00" },
	{ "Sunday as 7", "0 0 * * 7", NULL, SYS, "2026-01-01T12:00:00Z",
	    "2026-01-04T00:00:00+00:00 2026-01-11T00:00:00+00:00" },
	{ "Sunday as 0", "0 0 * * 0", NULL, SYS, "2026-01-01T12:00:00Z",
	    "2026-01-04T00:00:00+00:00 2026-01-11T00:00:00+00:00" },
	{ "fri-sun", "0 0 * * fri-sun", NULL, SYS, "2026-01-01T12:00:00Z",
	    "2026-01-02T00:00:00+00:00 2026-01-03T00:00:00+00:00 "
	    "2026-01-04T00:00:00+00:00 2026-01-09T00:00:00+00:00" },
	{ "a weekday step", "0 0 * * */2", NULL, SYS, "2026-01-01T12:00:00Z",
	    "2026-01-03T00:00:00+00:00 2026-01-04T00:00:00+00:00 "
	    "2026-01-06T00:00:00+00:00" },
	{ "month names", "0 6 1 jun,DEC *", NULL, SYS,
	    "2026-01-01T00:00:00Z",
	    "2026-06-01T06:00:00+00:00 2026-12-01T06:00:00+00:00 "
	    "2027-06-01T06:00:00+00:00" },
	/* the day-of-month / day-of-week rule */
	{ "day 1 and Monday: the 1st OR any Monday", "0 0 1 * mon", NULL,
	    SYS, "2026-06-01T12:00:00Z",
	    "2026-06-08T00:00:00+00:00 2026-06-15T00:00:00+00:00 "
	    "2026-06-22T00:00:00+00:00 2026-06-29T00:00:00+00:00 "
	    "2026-07-01T00:00:00+00:00 2026-07-06T00:00:00+00:00" },
	{ "the 13th or a Friday", "0 0 13 * 5", NULL, SYS,
	    "2026-02-01T12:00:00Z",
	    "2026-02-06T00:00:00+00:00 2026-02-13T00:00:00+00:00 "
	    "2026-02-20T00:00:00+00:00" },
	{ "*/2 days and Monday: odd days that are Mondays", "0 0 */2 * mon",
	    NULL, SYS, "2026-06-01T12:00:00Z",
	    "2026-06-15T00:00:00+00:00 2026-06-29T00:00:00+00:00 "
	    "2026-07-13T00:00:00+00:00 2026-07-27T00:00:00+00:00 "
	    "2026-08-03T00:00:00+00:00" },
	{ "*/2 days and every weekday: odd days", "0 0 */2 * *", NULL, SYS,
	    "2026-06-01T12:00:00Z",
	    "2026-06-03T00:00:00+00:00 2026-06-05T00:00:00+00:00" },
	{ "@weekly fires on Sundays", "@weekly", NULL, SYS,
	    "2026-01-01T12:00:00Z",
	    "2026-01-04T00:00:00+00:00 2026-01-11T00:00:00+00:00" },
	{ "@monthly fires on the 1st", "@monthly", NULL, SYS,
	    "2026-01-15T12:00:00Z",
	    "2026-02-01T00:00:00+00:00 2026-03-01T00:00:00+00:00" },
	{ "@yearly fires on January 1st", "@yearly", NULL, SYS,
	    "2026-03-01T00:00:00Z", "2027-01-01T00:00:00+00:00" },
	{ "@hourly fires on the hour", "@hourly", NULL, SYS,
	    "2026-03-01T10:00:00Z",
	    "2026-03-01T11:00:00+00:00 2026-03-01T12:00:00+00:00" },
	{ "@daily fires at midnight", "@daily", NULL, SYS,
	    "2026-03-01T10:00:00Z", "2026-03-02T00:00:00+00:00" },
	/* month ends and leap years */
	{ "the 31st skips 30-day months and February", "0 0 31 * *", NULL,
	    SYS, "2026-01-31T12:00:00Z",
	    "2026-03-31T00:00:00+00:00 2026-05-31T00:00:00+00:00 "
	    "2026-07-31T00:00:00+00:00 2026-08-31T00:00:00+00:00" },
	{ "the 30th skips February", "0 0 30 * *", NULL, SYS,
	    "2026-01-30T12:00:00Z", "2026-03-30T00:00:00+00:00" },
	{ "February 29th waits for a leap year", "0 0 29 2 *", NULL, SYS,
	    "2026-01-01T00:00:00Z",
	    "2028-02-29T00:00:00+00:00 2032-02-29T00:00:00+00:00" },
	{ "2100 is not a leap year", "0 0 29 2 *", NULL, SYS,
	    "2096-03-01T00:00:00Z", "2104-02-29T00:00:00+00:00" },
	{ "2000 was a leap year", "0 0 29 2 *", NULL, SYS,
	    "1999-01-01T00:00:00Z", "2000-02-29T00:00:00+00:00" },
	{ "29 2 1 is Feb 29 OR a February Monday (no star field)",
	    "0 0 29 2 1", NULL, SYS, "2026-01-01T00:00:00Z",
	    "2026-02-02T00:00:00+00:00 2026-02-09T00:00:00+00:00" },
	{ "never: February 30th", "0 0 30 2 *", NULL, SYS,
	    "2026-01-01T00:00:00Z", "" },
	{ "never: the 31st of 30-day months", "0 0 31 4,6,9,11 *", NULL, SYS,
	    "2026-01-01T00:00:00Z", "" },
	{ "@reboot has no next time", "@reboot", NULL, SYS,
	    "2026-01-01T00:00:00Z", "" },
	/* America/New_York spring forward: 02:00 EST -> 03:00 EDT */
	{ "system: a fixed job in the skipped hour runs at the jump",
	    "30 2 * * *", NY, SYS, "2026-03-07T12:00:00Z",
	    "2026-03-08T03:00:00-04:00 2026-03-09T02:30:00-04:00" },
	{ "system: two skipped fixed times run once at the jump",
	    "0,30 2 * * *", NY, SYS, "2026-03-07T12:00:00Z",
	    "2026-03-08T03:00:00-04:00 2026-03-09T02:00:00-04:00" },
	{ "system: a fixed job at the jump's own minute runs once",
	    "0 3 * * *", NY, SYS, "2026-03-07T12:00:00Z",
	    "2026-03-08T03:00:00-04:00 2026-03-09T03:00:00-04:00" },
	{ "system: a fixed job after the jump is unaffected", "15 3 * * *",
	    NY, SYS, "2026-03-08T06:00:00Z", "2026-03-08T03:15:00-04:00" },
	{ "system: wildcard minutes skip the skipped hour", "*/15 * * * *",
	    NY, SYS, "2026-03-08T06:40:00Z",
	    "2026-03-08T01:45:00-05:00 2026-03-08T03:00:00-04:00 "
	    "2026-03-08T03:15:00-04:00" },
	{ "system: a wildcard hour skips the skipped hour", "15 * * * *", NY,
	    SYS, "2026-03-08T06:40:00Z",
	    "2026-03-08T03:15:00-04:00 2026-03-08T04:15:00-04:00" },
	{ "system: @hourly is a wildcard job", "@hourly", NY, SYS,
	    "2026-03-08T06:30:00Z",
	    "2026-03-08T03:00:00-04:00 2026-03-08T04:00:00-04:00" },
	{ "CRON_TZ: a time in the skipped hour does not fire that day",
	    "30 2 * * *", NY, CTZ, "2026-03-07T12:00:00Z",
	    "2026-03-09T02:30:00-04:00" },
	{ "CRON_TZ: wildcard minutes across the jump", "*/30 * * * *", NY,
	    CTZ, "2026-03-08T06:40:00Z",
	    "2026-03-08T03:00:00-04:00 2026-03-08T03:30:00-04:00" },
	/* America/New_York fall back: 02:00 EDT -> 01:00 EST */
	{ "system: a fixed job in the repeated hour runs in the first pass",
	    "30 1 * * *", NY, SYS, "2026-10-31T12:00:00Z",
	    "2026-11-01T01:30:00-04:00 2026-11-02T01:30:00-05:00" },
	{ "system: a fixed job at the repeated hour's start runs once",
	    "0 1 * * *", NY, SYS, "2026-10-31T12:00:00Z",
	    "2026-11-01T01:00:00-04:00 2026-11-02T01:00:00-05:00" },
	{ "system: a fixed job after the repeated hour", "0 2 * * *", NY, SYS,
	    "2026-11-01T05:30:00Z",
	    "2026-11-01T02:00:00-05:00 2026-11-02T02:00:00-05:00" },
	{ "system: wildcard minutes run in both passes", "*/15 * * * *", NY,
	    SYS, "2026-11-01T05:40:00Z",
	    "2026-11-01T01:45:00-04:00 2026-11-01T01:00:00-05:00 "
	    "2026-11-01T01:15:00-05:00" },
	{ "system: a wildcard hour runs in both passes", "15 * * * *", NY,
	    SYS, "2026-11-01T05:00:00Z",
	    "2026-11-01T01:15:00-04:00 2026-11-01T01:15:00-05:00 "
	    "2026-11-01T02:15:00-05:00" },
	{ "CRON_TZ: a time in the repeated hour fires twice", "30 1 * * *",
	    NY, CTZ, "2026-10-31T12:00:00Z",
	    "2026-11-01T01:30:00-04:00 2026-11-01T01:30:00-05:00 "
	    "2026-11-02T01:30:00-05:00" },
	/* Asia/Kolkata: UTC+05:30 */
	{ "Kolkata: 09:00 is 03:30 UTC", "0 9 * * *", KOL, SYS,
	    "2026-01-01T00:00:00Z",
	    "2026-01-01T09:00:00+05:30 2026-01-02T09:00:00+05:30" },
	{ "Kolkata: half past each local hour is on the UTC hour",
	    "30 * * * *", KOL, CTZ, "2026-01-01T00:10:00Z",
	    "2026-01-01T06:30:00+05:30 2026-01-01T07:30:00+05:30" },
	{ "Kolkata: local midnight changes the day before UTC does",
	    "0 0 * * mon", KOL, SYS, "2026-01-04T12:00:00Z",
	    "2026-01-05T00:00:00+05:30" },
	/* Australia/Lord_Howe: 30-minute DST */
	{ "Lord Howe system: a fixed time in the skipped half hour runs "
	    "at the jump", "15 2 * * *", LH, SYS, "2026-10-03T12:00:00Z",
	    "2026-10-04T02:30:00+11:00 2026-10-05T02:15:00+11:00" },
	{ "Lord Howe CRON_TZ: the skipped half hour does not fire",
	    "15 2 * * *", LH, CTZ, "2026-10-03T12:00:00Z",
	    "2026-10-05T02:15:00+11:00" },
	{ "Lord Howe: a time after the half-hour jump is unaffected",
	    "45 2 * * *", LH, SYS, "2026-10-03T12:00:00Z",
	    "2026-10-04T02:45:00+11:00" },
	{ "Lord Howe system: a fixed time in the repeated half hour runs "
	    "once", "45 1 * * *", LH, SYS, "2026-04-04T12:00:00Z",
	    "2026-04-05T01:45:00+11:00 2026-04-06T01:45:00+10:30" },
	{ "Lord Howe CRON_TZ: the repeated half hour fires twice",
	    "45 1 * * *", LH, CTZ, "2026-04-04T12:00:00Z",
	    "2026-04-05T01:45:00+11:00 2026-04-05T01:45:00+10:30 "
	    "2026-04-06T01:45:00+10:30" },
	{ "Lord Howe system: wildcard minutes in both passes",
	    "*/20 * * * *", LH, SYS, "2026-04-04T14:50:00Z",
	    "2026-04-05T01:40:00+10:30 2026-04-05T02:00:00+10:30" },
	/* clock jumps that are not DST */
	{ "Apia skipped 2011-12-30: a daily job resumes the day after",
	    "0 12 * * *", "Pacific/Apia", SYS, "2011-12-29T12:00:00Z",
	    "2011-12-29T12:00:00-10:00 2011-12-31T12:00:00+14:00" },
	{ "Casey's 3-hour jump is a clock reset: nothing is caught up",
	    "30 3 * * *", "Antarctica/Casey", SYS, "2009-10-17T12:00:00Z",
	    "2009-10-19T03:30:00+11:00" },
	{ "far future times use the zone's rule", "0 3 * 7 *", NY, SYS,
	    "2300-06-30T12:00:00Z", "2300-07-01T03:00:00-04:00" },
};

static void
check_fires(const char *table, const struct fire *r, int forward)
{
	struct jobs_cron c;
	struct jobs_err err;
	char got[600], buf[JOBS_CRON_FORMAT_MAX];
	const char *p;
	int64_t t, out;
	int n = 0, i, calls, rc = 0, ok = 1;
	size_t len = 0;

	if (jobs_cron_parse(&c, r->expr, &err) != 0) {
		verdict(0, table, r->name, "refused: %s", err.msg);
		return;
	}
	for (p = r->want; *p != '\0'; p++)
		if (*p == ' ')
			n++;
	n = r->want[0] == '\0' ? 0 : n + 1;
	got[0] = '\0';
	t = iso(r->from);
	/* an empty list means the first call must find nothing */
	calls = n > 0 ? n : 1;
	for (i = 0; i < calls; i++) {
		rc = forward ?
		    jobs_cron_next(&c, t, r->tz, r->mode, &out, &err) :
		    jobs_cron_prev(&c, t, r->tz, r->mode, &out, &err);
		if (rc != 1)
			break;
		if ((forward ? out <= t : out > t) || out % 60 != 0)
			ok = 0;
		if (jobs_cron_format(out, r->tz, buf, sizeof(buf)) != 0)
			snprintf(buf, sizeof(buf), "(%lld)", (long long)out);
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
		    len > 0 ? " " : "", buf);
		if (len >= sizeof(got))
			break;
		t = forward ? out : out - 1;
	}
	ok = ok && (n == 0 ? rc == 0 : i == n);
	verdict(ok && strcmp(got, r->want) == 0, table, r->name,
	    "\"%s\" in %s: got \"%s\", want \"%s\"%s", r->expr,
	    r->tz != NULL ? r->tz : "UTC", got, r->want,
	    rc < 0 ? err.msg : "");
}

static const struct fire prevs[] = {
	{ "prev includes the instant itself", "0 * * * *", NULL, SYS,
	    "2026-01-01T05:00:00Z",
	    "2026-01-01T05:00:00+00:00 2026-01-01T04:00:00+00:00" },
	{ "prev of a mid-minute instant is that minute", "* * * * *", NULL,
	    SYS, "2026-01-01T05:00:59Z",
	    "2026-01-01T05:00:00+00:00 2026-01-01T04:59:00+00:00" },
	{ "prev across a year boundary", "0 0 1 1 *", NULL, SYS,
	    "2026-06-01T00:00:00Z",
	    "2026-01-01T00:00:00+00:00 2025-01-01T00:00:00+00:00" },
	{ "prev of the 1st OR Monday", "0 0 1 * mon", NULL, SYS,
	    "2026-07-03T00:00:00Z",
	    "2026-07-01T00:00:00+00:00 2026-06-29T00:00:00+00:00 "
	    "2026-06-22T00:00:00+00:00" },
	{ "prev of odd Mondays", "0 0 */2 * mon", NULL, SYS,
	    "2026-07-20T00:00:00Z",
	    "2026-07-13T00:00:00+00:00 2026-06-29T00:00:00+00:00" },
	{ "prev of February 29th", "0 0 29 2 *", NULL, SYS,
	    "2027-01-01T00:00:00Z", "2024-02-29T00:00:00+00:00" },
	{ "prev of the 31st skips short months", "0 0 31 * *", NULL, SYS,
	    "2026-07-30T00:00:00Z",
	    "2026-05-31T00:00:00+00:00 2026-03-31T00:00:00+00:00" },
	{ "prev weekdays skip the weekend", "0 12 * * 1-5", NULL, SYS,
	    "2026-01-05T11:00:00Z",
	    "2026-01-02T12:00:00+00:00 2026-01-01T12:00:00+00:00" },
	{ "prev: never-firing has no slot", "0 0 30 2 *", NULL, SYS,
	    "2026-01-01T00:00:00Z", "" },
	{ "prev system: the skipped fixed job ran at the jump", "30 2 * * *",
	    NY, SYS, "2026-03-09T00:00:00Z",
	    "2026-03-08T03:00:00-04:00 2026-03-07T02:30:00-05:00" },
	{ "prev CRON_TZ: the skipped fixed job did not run", "30 2 * * *",
	    NY, CTZ, "2026-03-09T00:00:00Z", "2026-03-07T02:30:00-05:00" },
	{ "prev system: wildcard minutes around the skipped hour",
	    "*/30 * * * *", NY, SYS, "2026-03-08T07:30:00Z",
	    "2026-03-08T03:30:00-04:00 2026-03-08T03:00:00-04:00 "
	    "2026-03-08T01:30:00-05:00" },
	{ "prev system: the repeated-hour job ran in the first pass",
	    "30 1 * * *", NY, SYS, "2026-11-01T12:00:00Z",
	    "2026-11-01T01:30:00-04:00 2026-10-31T01:30:00-04:00" },
	{ "prev CRON_TZ: the repeated-hour job ran twice", "30 1 * * *", NY,
	    CTZ, "2026-11-01T12:00:00Z",
	    "2026-11-01T01:30:00-05:00 2026-11-01T01:30:00-04:00 "
	    "2026-10-31T01:30:00-04:00" },
	{ "prev system: wildcard minutes in both passes", "*/30 * * * *", NY,
	    SYS, "2026-11-01T06:45:00Z",
	    "2026-11-01T01:30:00-05:00 2026-11-01T01:00:00-05:00 "
	    "2026-11-01T01:30:00-04:00 2026-11-01T01:00:00-04:00" },
	{ "prev Lord Howe system: the skipped half hour ran at the jump",
	    "15 2 * * *", LH, SYS, "2026-10-04T00:00:00Z",
	    "2026-10-04T02:30:00+11:00 2026-10-03T02:15:00+10:30" },
	{ "prev Lord Howe CRON_TZ: the repeated half hour fired twice",
	    "45 1 * * *", LH, CTZ, "2026-04-05T12:00:00Z",
	    "2026-04-05T01:45:00+10:30 2026-04-05T01:45:00+11:00" },
	{ "prev Kolkata", "0 9 * * *", KOL, SYS, "2026-01-02T03:29:00Z",
	    "2026-01-01T09:00:00+05:30" },
};

static void
test_fires(void)
{
	size_t i;

	for (i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++)
		check_fires("next", &nexts[i], 1);
	for (i = 0; i < sizeof(prevs) / sizeof(prevs[0]); i++)
		check_fires("prev", &prevs[i], 0);
}

/*
 * Rare dates need the day rule's AND, hence a star field: "*\/7" in the
 * weekday field is {0, 7}, Sunday alone.  A plain "29 2 1" would be an OR.
 */
static void
test_rare(void)
{
	static const struct {
		const char *name, *expr, *from, *want;
		int forward;
	} rows[] = {
		{ "February 29th that is a Sunday: 2032", "0 0 29 2 */7",
		    "2026-01-01T00:00:00Z", "2032-02-29T00:00:00Z", 1 },
		{ "the next one is 28 years later: 2060", "0 0 29 2 */7",
		    "2032-02-29T00:00:00Z", "2060-02-29T00:00:00Z", 1 },
		{ "prev: the one before 2032 was 2004", "0 0 29 2 */7",
		    "2032-02-28T00:00:00Z", "2004-02-29T00:00:00Z", 0 },
		{ "a Sunday Feb 29 across 2100, which is not leap: 2128",
		    "0 0 29 2 */7", "2088-03-01T00:00:00Z",
		    "2128-02-29T00:00:00Z", 1 },
	};
	struct jobs_cron c;
	struct jobs_err err;
	int64_t out = 0;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (jobs_cron_parse(&c, rows[i].expr, &err) != 0) {
			verdict(0, "rare", rows[i].name, "%s", err.msg);
			continue;
		}
		rc = rows[i].forward ?
		    jobs_cron_next(&c, iso(rows[i].from), NULL, SYS, &out,
		    &err) :
		    jobs_cron_prev(&c, iso(rows[i].from), NULL, SYS, &out,
		    &err);
		verdict(rc == 1 && out == iso(rows[i].want), "rare",
		    rows[i].name, "rc %d got %lld", rc, (long long)out);
	}
}

/* ---- zones, formatting and bad calls ---------------------------------- */

struct zone_row {
	const char *name, *tz, *msg;	/* msg NULL: accepted */
};

static const struct zone_row zones[] = {
	{ "NULL is UTC", NULL, NULL },
	{ "\"UTC\" needs no file", "UTC", NULL },
	{ "an IANA name", "America/New_York", NULL },
	{ "a zone with a sign in its name", "Etc/GMT+5", NULL },
	{ "a half-hour zone", "Asia/Kolkata", NULL },
	{ "an unknown zone", "Mars/Olympus",
	    "unknown time zone \"Mars/Olympus\"" },
	{ "a path out of the zone directory", "../../etc/passwd",
	    "invalid time zone name \"../../etc/passwd\"" },
	{ "an absolute path", "/etc/localtime",
	    "invalid time zone name \"/etc/localtime\"" },
	{ "a name with a space", "America/New York",
	    "invalid time zone name \"America/New York\"" },
	{ "a glibc-style leading colon", ":America/New_York",
	    "invalid time zone name \":America/New_York\"" },
	{ "a directory is not a zone", "America",
	    "unknown time zone \"America\"" },
	{ "a table in the zone directory is not a zone", "zone.tab",
	    "time zone \"zone.tab\" is not a TZif file" },
	{ "leap-second zones are refused", "right/UTC",
	    "time zone \"right/UTC\" counts leap seconds, which cron "
	    "does not" },
};

static void
test_zones(void)
{
	const struct zone_row *r;
	struct jobs_err err;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		r = &zones[i];
		jobs_err_clear(&err);
		rc = jobs_cron_zone_check(r->tz, &err);
		if (r->msg == NULL)
			verdict(rc == 0, "zone", r->name, "%s", err.msg);
		else
			verdict(rc == -1 && err.code == JOBS_EUSAGE &&
			    strcmp(err.msg, r->msg) == 0, "zone", r->name,
			    "rc %d \"%s\"", rc, err.msg);
	}
}

struct format_row {
	const char *name, *at, *tz;
	size_t size;
	const char *want;	/* NULL: -1 */
};

static const struct format_row formats[] = {
	{ "the epoch in UTC", "1970-01-01T00:00:00Z", NULL, 32,
	    "1970-01-01T00:00:00+00:00" },
	{ "seconds are kept", "2026-05-04T03:02:01Z", "UTC", 32,
	    "2026-05-04T03:02:01+00:00" },
	{ "EDT offset", "2026-03-08T07:00:00Z", NY, 32,
	    "2026-03-08T03:00:00-04:00" },
	{ "EST offset", "2026-03-08T06:59:00Z", NY, 32,
	    "2026-03-08T01:59:00-05:00" },
	{ "half-hour offset", "2026-01-01T00:00:00Z", KOL, 32,
	    "2026-01-01T05:30:00+05:30" },
	{ "Lord Howe standard time", "2026-06-01T00:00:00Z", LH, 32,
	    "2026-06-01T10:30:00+10:30" },
	{ "local mean time has seconds in its offset",
	    "1800-01-01T12:00:00Z", NY, 32, "1800-01-01T07:03:58-04:56:02" },
	{ "the exact size fits", "1970-01-01T00:00:00Z", NULL, 26,
	    "1970-01-01T00:00:00+00:00" },
	{ "one byte short fails", "1970-01-01T00:00:00Z", NULL, 25, NULL },
	{ "a bad zone fails", "1970-01-01T00:00:00Z", "Nowhere/Land", 32,
	    NULL },
};

static void
test_format(void)
{
	const struct format_row *r;
	char buf[JOBS_CRON_FORMAT_MAX];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		r = &formats[i];
		rc = jobs_cron_format(iso(r->at), r->tz, buf, r->size);
		if (r->want == NULL)
			verdict(rc == -1 && buf[0] == '\0', "format", r->name,
			    "rc %d \"%s\"", rc, buf);
		else
			verdict(rc == 0 && strcmp(buf, r->want) == 0, "format",
			    r->name, "rc %d \"%s\"", rc, buf);
	}
	rc = jobs_cron_format(INT64_C(253402300800), NULL, buf, sizeof(buf));
	verdict(rc == -1, "format", "the year 10000 does not fit", "rc %d",
	    rc);
}

static void
test_bad_calls(void)
{
	static const struct {
		const char *name, *tz;
		int mode;
		int64_t t;
		const char *msg;
	} rows[] = {
		{ "next with an unknown zone", "Mars/Olympus", SYS, 0,
		    "unknown time zone \"Mars/Olympus\"" },
		{ "next with an unknown mode", NULL, 7, 0,
		    "unknown time zone mode 7" },
		{ "next with a time past year 9999", NULL, SYS, INT64_MAX,
		    "time 9223372036854775807 is out of range" },
		{ "next with a time before year 1", NULL, SYS, INT64_MIN,
		    "time -9223372036854775808 is out of range" },
	};
	struct jobs_cron c;
	struct jobs_err err;
	int64_t out = 42;
	size_t i;
	int rc;

	jobs_cron_parse(&c, "* * * * *", NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		jobs_err_clear(&err);
		rc = jobs_cron_next(&c, rows[i].t, rows[i].tz, rows[i].mode,
		    &out, &err);
		verdict(rc == -1 && strcmp(err.msg, rows[i].msg) == 0 &&
		    out == 42, "bad call", rows[i].name, "rc %d \"%s\"", rc,
		    err.msg);
		jobs_err_clear(&err);
		rc = jobs_cron_prev(&c, rows[i].t, rows[i].tz, rows[i].mode,
		    &out, &err);
		verdict(rc == -1 && strcmp(err.msg, rows[i].msg) == 0,
		    "bad call", rows[i].name, "prev: rc %d \"%s\"", rc,
		    err.msg);
	}
	/* edges of the supported range */
	rc = jobs_cron_next(&c, JOBS_CRON_TIME_MAX, NULL, SYS, &out, &err);
	verdict(rc == 0, "bad call", "nothing fires after 9999-12-31T23:59:59",
	    "rc %d", rc);
	rc = jobs_cron_prev(&c, JOBS_CRON_TIME_MIN, NULL, SYS, &out, &err);
	verdict(rc == 1 && out == JOBS_CRON_TIME_MIN, "bad call",
	    "0001-01-01T00:00 itself is a slot", "rc %d %lld", rc,
	    (long long)out);
	/* a struct filled by hand with Sunday as bit 7 */
	memset(&c, 0, sizeof(c));
	c.minute = 1;
	c.hour = 1;
	c.dom = 0xfffffffe;
	c.month = 0x1ffe;
	c.dow = 0x80;
	c.dow_star = 0;
	c.dom_star = 1;
	rc = jobs_cron_next(&c, iso("2026-01-01T00:00:00Z"), NULL, SYS, &out,
	    &err);
	verdict(rc == 1 && out == iso("2026-01-04T00:00:00Z"), "bad call",
	    "a hand-filled Sunday bit 7 means Sunday", "rc %d %lld", rc,
	    (long long)out);
}

/* More zones than the per-thread cache holds, twice round. */
static void
test_cache(void)
{
	static const char *const tz[] = {
		NY, LH, KOL, "Europe/London", "Asia/Tokyo", "America/Sao_Paulo",
		"Europe/Paris", NY,
	};
	struct jobs_cron c;
	struct jobs_err err;
	int64_t first[8], again;
	size_t i;
	int ok = 1, round;

	jobs_cron_parse(&c, "0 9 * * *", NULL);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(tz) / sizeof(tz[0]); i++) {
			if (jobs_cron_next(&c, iso("2026-07-01T00:00:00Z"),
			    tz[i], SYS, round ? &again : &first[i], &err) != 1)
				ok = 0;
			else if (round && again != first[i])
				ok = 0;
		}
	}
	verdict(ok && first[0] == iso("2026-07-01T13:00:00Z") &&
	    first[7] == first[0], "cache",
	    "zones evicted from the cache come back the same", "%s", "");
}

/* ---- the oracle: cronie's main loop, minute by minute, on glibc ------- */

static int
oracle_match(const struct jobs_cron *c, const struct tm *tm)
{
	int dom = (int)(c->dom >> tm->tm_mday & 1);
	int dow = c->dow >> tm->tm_wday & 1;

	return (c->minute >> tm->tm_min & 1) && (c->hour >> tm->tm_hour & 1) &&
	    (c->month >> (tm->tm_mon + 1) & 1) &&
	    (c->dom_star || c->dow_star ? dom && dow : dom || dow);
}

/* Does cronie's find_jobs(vtime, doWild, doNonWild) pick c? */
static int
oracle_find(const struct jobs_cron *c, long long vtime, int wild,
    int nonwild)
{
	time_t t = (time_t)(vtime * 60);
	struct tm tm;
	int is_wild = c->min_star || c->hour_star;

	gmtime_r(&t, &tm);
	return oracle_match(c, &tm) && (is_wild ? wild : nonwild);
}

static long long
floor_minutes(long long s)
{
	return s >= 0 ? s / 60 : -((-s + 59) / 60);
}

/* Fire times of c in [from, to) by cronie's rules; returns their count. */
static int
oracle(const struct jobs_cron *c, const char *tz, int mode, int64_t from,
    int64_t to, int64_t *out, int max)
{
	char *old = getenv("TZ"), saved[256];
	long long vt, tr, d, v;
	struct tm tm;
	time_t tt;
	int64_t t;
	int n = 0, fire;

	if (old != NULL)
		snprintf(saved, sizeof(saved), "%s", old);
	setenv("TZ", tz, 1);
	tzset();
	tt = (time_t)(from - 60);
	localtime_r(&tt, &tm);
	vt = floor_minutes((long long)tt + tm.tm_gmtoff);
	for (t = from; t < to && n < max; t += 60) {
		tt = (time_t)t;
		localtime_r(&tt, &tm);
		if (mode == CTZ) {
			if (oracle_match(c, &tm))
				out[n++] = t;
			continue;
		}
		tr = floor_minutes((long long)t + tm.tm_gmtoff);
		d = tr - vt;
		fire = 0;
		if (d == 1) {
			vt = tr;
			fire = oracle_find(c, vt, 1, 1);
		} else if (d > 180 || d < -180) {
			vt = tr;
			fire = oracle_find(c, tr, 1, 1);
		} else if (d > 5) {
			fire = oracle_find(c, tr, 1, 0);
			for (v = vt + 1; v <= tr; v++)
				fire |= oracle_find(c, v, 0, 1);
			vt = tr;
		} else if (d > 0) {
			for (v = vt + 1; v <= tr; v++)
				fire |= oracle_find(c, v, 1, 1);
			vt = tr;
		} else {
			fire = oracle_find(c, tr, 1, 0);
		}
		if (fire)
			out[n++] = t;
	}
	if (old != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	return n;
}

#define ORACLE_MAX 8000

/* Compare next() and prev() chains over [from, to) with the oracle. */
static int
agree(const char *expr, const char *tz, int mode, int64_t from, int64_t to,
    char *why, size_t size)
{
	static int64_t want[ORACLE_MAX];
	struct jobs_cron c;
	struct jobs_err err;
	int64_t t, out;
	int n, i, rc;

	if (jobs_cron_parse(&c, expr, &err) != 0) {
		snprintf(why, size, "\"%s\" refused: %s", expr, err.msg);
		return 0;
	}
	n = oracle(&c, tz, mode, from, to, want, ORACLE_MAX);
	for (i = 0, t = from - 1;; i++) {
		rc = jobs_cron_next(&c, t, tz, mode, &out, &err);
		if (rc != 1 || out >= to)
			break;
		if (i >= n || out != want[i]) {
			snprintf(why, size, "\"%s\" %s next #%d: got %lld, "
			    "want %lld", expr, mode == SYS ? "system" :
			    "CRON_TZ", i, (long long)out,
			    i < n ? (long long)want[i] : -1);
			return 0;
		}
		t = out;
	}
	if (i != n) {
		snprintf(why, size, "\"%s\" next: %d fires, want %d (rc %d)",
		    expr, i, n, rc);
		return 0;
	}
	for (i = n - 1, t = to - 1;; i--) {
		rc = jobs_cron_prev(&c, t, tz, mode, &out, &err);
		if (rc != 1 || out < from)
			break;
		if (i < 0 || out != want[i]) {
			snprintf(why, size, "\"%s\" %s prev #%d: got %lld, "
			    "want %lld", expr, mode == SYS ? "system" :
			    "CRON_TZ", i, (long long)out,
			    i >= 0 ? (long long)want[i] : -1);
			return 0;
		}
		t = out - 1;
	}
	if (i != -1) {
		snprintf(why, size, "\"%s\" prev stopped early at #%d", expr,
		    i);
		return 0;
	}
	return 1;
}

struct window {
	const char *name, *tz, *from, *to;
};

static const struct window windows[] = {
	{ "New York spring forward", NY, "2026-03-07T00:00:00Z",
	    "2026-03-10T00:00:00Z" },
	{ "New York fall back", NY, "2026-10-31T00:00:00Z",
	    "2026-11-03T00:00:00Z" },
	{ "Lord Howe 30-minute fall back", LH, "2026-04-03T12:00:00Z",
	    "2026-04-06T12:00:00Z" },
	{ "Lord Howe 30-minute spring forward", LH, "2026-10-02T12:00:00Z",
	    "2026-10-05T12:00:00Z" },
	{ "Kolkata, no DST", KOL, "2026-02-27T00:00:00Z",
	    "2026-03-02T00:00:00Z" },
	{ "London both ways in one window", "Europe/London",
	    "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z" },
	{ "Apia skipping a whole day", "Pacific/Apia", "2011-12-28T00:00:00Z",
	    "2012-01-01T00:00:00Z" },
	{ "Casey's 3-hour jump forward (a reset)", "Antarctica/Casey",
	    "2009-10-16T00:00:00Z", "2009-10-19T00:00:00Z" },
	{ "Casey's 3-hour step back (held clock)", "Antarctica/Casey",
	    "2010-03-03T00:00:00Z", "2010-03-06T00:00:00Z" },
	{ "New York's 1883 switch from local mean time", NY,
	    "1883-11-17T00:00:00Z", "1883-11-20T00:00:00Z" },
	{ "Sao Paulo's old midnight DST start", "America/Sao_Paulo",
	    "2018-11-03T00:00:00Z", "2018-11-06T00:00:00Z" },
	{ "a leap day in UTC", "UTC", "2028-02-27T00:00:00Z",
	    "2028-03-02T00:00:00Z" },
	{ "London's 1847 switch: a 75-second skip runs every job skipped",
	    "Europe/London", "1847-11-29T00:00:00Z", "1847-12-02T00:00:00Z" },
	{ "London in 2300: last-Sunday rule from the zone's footer",
	    "Europe/London", "2300-03-23T00:00:00Z", "2300-03-27T00:00:00Z" },
	{ "London in 2300: the rule's fall back", "Europe/London",
	    "2300-10-26T00:00:00Z", "2300-10-30T00:00:00Z" },
	{ "Apia's last DST end, then a rule without DST", "Pacific/Apia",
	    "2021-04-02T00:00:00Z", "2021-04-05T00:00:00Z" },
};

static const char *const fixed_exprs[] = {
	"30 2 * * *", "0,30 2 * * *", "0 3 * * *", "30 1 * * *",
	"*/15 * * * *", "15 * * * *", "@hourly", "@daily", "0 0 * * *",
	"15 2 * * *", "45 1 * * *", "*/20 * * * *", "0 12 * * *",
	"59 23 * * *", "0 0 29 2 *", "0 0 1 * mon", "0 0 */2 * 0",
	"0-59/7 1-3 * * *", "*/5 2 * * *", "30 */2 * * *",
};

static const char *const parts[5][9] = {
	{ "*", "*/7", "0", "30", "0,30", "15-45/10", "59", "*/15", "5" },
	{ "*", "*/3", "2", "1", "1-3", "0", "23", "*/2", "2,3" },
	{ "*", "1", "*/2", "8-14", "31", "29", "15", "*/3", "1-7" },
	{ "*", "3", "11", "mar,nov", "*/2", "10", "4", "2", "*" },
	{ "*", "0", "sun", "1-5", "7", "*/3", "sat", "mon,fri", "*" },
};

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned
rng(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static void
test_oracle(void)
{
	char name[160], why[300], expr[64];
	const struct window *w;
	size_t i, k;
	int mode, ok, j;

	for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		w = &windows[i];
		for (mode = SYS; mode <= CTZ; mode++) {
			ok = 1;
			for (k = 0; ok && k < sizeof(fixed_exprs) /
			    sizeof(fixed_exprs[0]); k++)
				ok = agree(fixed_exprs[k], w->tz, mode,
				    iso(w->from), iso(w->to), why, sizeof(why));
			snprintf(name, sizeof(name), "%s (%s): common "
			    "expressions agree with cronie's loop", w->name,
			    mode == SYS ? "system" : "CRON_TZ");
			verdict(ok, "oracle", name, "%s", why);
			ok = 1;
			for (j = 0; ok && j < 40; j++) {
				snprintf(expr, sizeof(expr), "%s %s %s %s %s",
				    parts[0][rng(9)], parts[1][rng(9)],
				    parts[2][rng(9)], parts[3][rng(9)],
				    parts[4][rng(9)]);
				ok = agree(expr, w->tz, mode, iso(w->from),
				    iso(w->to), why, sizeof(why));
			}
			snprintf(name, sizeof(name), "%s (%s): random "
			    "expressions agree with cronie's loop", w->name,
			    mode == SYS ? "system" : "CRON_TZ");
			verdict(ok, "oracle", name, "%s", why);
		}
	}
}

int
main(void)
{
	test_parse_ok();
	test_parse_err();
	test_prefix();
	test_never();
	test_fires();
	test_rare();
	test_zones();
	test_format();
	test_bad_calls();
	test_cache();
	test_oracle();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
