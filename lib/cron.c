/*
 * cron.c - cron expressions: cronie's parser and cronie's idea of when a
 * job runs.
 *
 * Fire times are searched in "wall minutes" (minutes since 1970-01-01T00:00
 * local time) within each stretch of constant UTC offset, skipping whole
 * months, days and hours that cannot match, so a search costs a handful of
 * steps however far away the next fire is.  The zone's offsets come from its
 * TZif file, read here rather than through setenv("TZ")/localtime_r: that
 * would be neither thread-safe nor able to say where the offset changes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "err.h"

#ifndef JOBS_CRON_ZONEINFO
#define JOBS_CRON_ZONEINFO "/usr/share/zoneinfo"
#endif

/* Far enough for any valid expression: the Gregorian calendar repeats. */
#define HORIZON (INT64_C(146097) * 86400)

/* cronie's main loop: a jump of more than this many minutes is a reset. */
#define JUMP_LARGE 180
/* ... and up to this many it runs every skipped minute's jobs. */
#define JUMP_SMALL 5

/* ---- parsing ---------------------------------------------------------- */

enum { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW };

struct field {
	const char *name;
	int low, high;
	const char *const *names;	/* names of low, low+1, ...; or NULL */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const dow_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, dow_names },
};

/* Room for a quoted piece of the input in an error message. */
#define SHOW_MAX 41

static int
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/*
 * Copy len bytes of s for an error message.  Bytes that are not printable
 * ASCII become '?' so that a hostile crontab cannot put control sequences on
 * the operator's terminal, and long text is cut short with "...".
 */
static const char *
show(char *buf, const char *s, size_t len)
{
	size_t i, n = 0;
	int cut = 0;

	if (len > SHOW_MAX - 1) {
		len = SHOW_MAX - 4;
		cut = 1;
	}
	for (i = 0; i < len; i++)
		buf[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (cut) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* The error for a character that cannot stand at tok[pos]. */
static int
unexpected(const struct field *f, const char *tok, size_t len, size_t pos,
    struct jobs_err *err)
{
	char a[SHOW_MAX], b[SHOW_MAX];

	if (tok[pos] == '~')
		return jobs_err_set(err, JOBS_EUSAGE,
		    "%s: random ranges (\"~\") are not supported in \"%s\"",
		    f->name, show(b, tok, len));
	return jobs_err_set(err, JOBS_EUSAGE, "%s: unexpected \"%s\" in \"%s\"",
	    f->name, show(a, tok + pos, 1), show(b, tok, len));
}

/*
 * Read the number or name at tok[*pos].  Like cronie, the whole run of
 * letters and digits is one word, so "5a" is not 5 followed by junk.
 * Numbers saturate: anything long is out of range anyway.
 */
static int
get_value(const struct field *f, const char *tok, size_t len, size_t *pos,
    int after_dash, int *val, struct jobs_err *err)
{
	char a[SHOW_MAX], b[SHOW_MAX];
	size_t p = *pos, e = p;
	long v = 0;
	int i, digits = 1;

	while (e < len && (is_digit(tok[e]) || is_alpha(tok[e]))) {
		if (!is_digit(tok[e]))
			digits = 0;
		e++;
	}
	if (e == p) {
		if (p < len && tok[p] != ',')
			return unexpected(f, tok, len, p, err);
		if (after_dash)
			return jobs_err_set(err, JOBS_EUSAGE,
			    "%s: missing number after \"-\" in \"%s\"",
			    f->name, show(b, tok, len));
		return jobs_err_set(err, JOBS_EUSAGE,
		    "%s: empty list element in \"%s\"", f->name,
		    show(b, tok, len));
	}
	if (digits) {
		for (; p < e; p++)
			if ((v = v * 10 + (tok[p] - '0')) > 99999)
				v = 99999;
		if (v < f->low || v > f->high)
			return jobs_err_set(err, JOBS_EUSAGE,
			    "%s: %s is out of range %d-%d", f->name,
			    show(a, tok + *pos, e - *pos), f->low, f->high);
		*val = (int)v;
		*pos = e;
		return 0;
	}
	if (f->names != NULL && e - p == 3) {
		for (i = 0; f->names[i] != NULL; i++) {
			if (lower(tok[p]) == f->names[i][0] &&
			    lower(tok[p + 1]) == f->names[i][1] &&
			    lower(tok[p + 2]) == f->names[i][2]) {
				*val = f->low + i;
				*pos = e;
				return 0;
			}
		}
	}
	return jobs_err_set(err, JOBS_EUSAGE, "%s: \"%s\" is not a number%s",
	    f->name, show(a, tok + p, e - p),
	    f->names != NULL ? " or name" : "");
}

/* Read the step after a '/': digits only, not 0; any size is allowed. */
static int
get_step(const struct field *f, const char *tok, size_t len, size_t *pos,
    int *step, struct jobs_err *err)
{
	char a[SHOW_MAX], b[SHOW_MAX];
	size_t p = *pos, e = p;
	long v = 0;
	int digits = 1;

	while (e < len && (is_digit(tok[e]) || is_alpha(tok[e]))) {
		if (!is_digit(tok[e]))
			digits = 0;
		e++;
	}
	if (e == p) {
		if (p < len && tok[p] != ',')
			return unexpected(f, tok, len, p, err);
		return jobs_err_set(err, JOBS_EUSAGE,
		    "%s: missing step after \"/\" in \"%s\"", f->name,
		    show(b, tok, len));
	}
	if (!digits)
		return jobs_err_set(err, JOBS_EUSAGE,
		    "%s: step \"%s\" is not a number", f->name,
		    show(a, tok + p, e - p));
	for (; p < e; p++)
		if ((v = v * 10 + (tok[p] - '0')) > 99999)
			v = 99999;
	if (v == 0)
		return jobs_err_set(err, JOBS_EUSAGE,
		    "%s: step %s is not allowed", f->name,
		    show(a, tok + *pos, e - *pos));
	*step = (int)v;
	*pos = e;
	return 0;
}

/*
 * Parse one field, tok[0..len), into bits (bit n = value n).  The grammar is
 * cronie's: a comma list of "*", value or "a-b", the star and the range
 * taking an optional "/step".
 */
static int
parse_field(int fi, const char *tok, size_t len, uint64_t *bits,
    struct jobs_err *err)
{
	const struct field *f = &fields[fi];
	char b[SHOW_MAX];
	size_t pos = 0, start;
	int lo, hi, step, v;

	*bits = 0;
	for (;;) {
		start = pos;
		if (pos < len && tok[pos] == '*') {
			lo = f->low;
			hi = f->high;
			pos++;
		} else {
			if (get_value(f, tok, len, &pos, 0, &lo, err) < 0)
				return -1;
			hi = lo;
			if (pos < len && tok[pos] == '-') {
				pos++;
				if (get_value(f, tok, len, &pos, 1, &hi,
				    err) < 0)
					return -1;
				/*
				 * cronie reads "fri-sun" (5-0) as 5-7; other
				 * backward ranges it has always refused.
				 */
				if (lo > hi && fi == F_DOW && hi == 0)
					hi = 7;
				if (lo > hi)
					return jobs_err_set(err, JOBS_EUSAGE,
					    "%s: range %s is not ascending",
					    f->name,
					    show(b, tok + start, pos - start));
			} else if (pos < len && tok[pos] == '/') {
				return jobs_err_set(err, JOBS_EUSAGE,
				    "%s: step without a range in \"%s\"",
				    f->name, show(b, tok, len));
			}
		}
		step = 1;
		if (pos < len && tok[pos] == '/') {
			pos++;
			if (get_step(f, tok, len, &pos, &step, err) < 0)
				return -1;
		}
		if (pos < len && tok[pos] != ',')
			return unexpected(f, tok, len, pos, err);
		for (v = lo; v <= hi; v += step)
			*bits |= UINT64_C(1) << v;
		if (pos == len)
			return 0;
		pos++;
	}
}

static size_t
skip_blanks(const char *s, size_t i)
{
	while (is_blank(s[i]))
		i++;
	return i;
}

static size_t
token_end(const char *s, size_t i)
{
	while (s[i] != '\0' && s[i] != '\n' && !is_blank(s[i]))
		i++;
	return i;
}

/* The number of blank-separated words before the end of the line. */
static int
count_tokens(const char *s, size_t i)
{
	int n = 0;

	for (i = skip_blanks(s, i); s[i] != '\0' && s[i] != '\n';
	    i = skip_blanks(s, i)) {
		i = token_end(s, i);
		if (n < INT_MAX)
			n++;
	}
	return n;
}

/* Set c as cronie sets an @macro, flags included. */
static int
set_macro(struct jobs_cron *c, const char *name, size_t len)
{
	static const struct {
		const char *name;
		int kind;
	} macros[] = {
		{ "yearly", 'y' }, { "annually", 'y' }, { "monthly", 'm' },
		{ "weekly", 'w' }, { "daily", 'd' }, { "midnight", 'd' },
		{ "hourly", 'h' }, { "reboot", 'r' },
	};
	size_t i;
	int kind = 0;

	for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strlen(macros[i].name) == len &&
		    memcmp(macros[i].name, name, len) == 0)
			kind = macros[i].kind;
	if (kind == 0)
		return -1;
	if (kind == 'r') {
		c->reboot = 1;
		return 0;
	}
	c->minute = 1;
	c->hour = kind == 'h' ? 0xffffff : 1;
	c->dom = kind == 'y' || kind == 'm' ? 1u << 1 : 0xfffffffe;
	c->month = kind == 'y' ? 1u << 1 : 0x1ffe;
	c->dow = kind == 'w' ? 1 : 0x7f;
	/* cronie marks these so; it matters for the day rule and for DST */
	c->dow_star = kind == 'y' || kind == 'm' || kind == 'w';
	c->hour_star = kind == 'h';
	return 0;
}

/* Nothing but blanks and newlines from s[i] on, the first being a newline. */
static int
only_newline(const char *s, size_t i)
{
	if (s[i] == '\0')
		return 1;
	for (; s[i] != '\0'; i++)
		if (s[i] != '\n' && !is_blank(s[i]))
			return 0;
	return 1;
}

static int
parse_time(struct jobs_cron *c, const char *s, int prefix,
    struct jobs_err *err)
{
	char a[SHOW_MAX];
	size_t i, e, at;
	uint64_t bits[5];
	int k, n;

	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return jobs_err_set(err, JOBS_EUSAGE, "no cron expression");
	i = skip_blanks(s, 0);
	if (s[i] == '@') {
		at = i;
		e = token_end(s, i);
		if (set_macro(c, s + i + 1, e - i - 1) < 0)
			return jobs_err_set(err, JOBS_EUSAGE,
			    "unknown macro %s", show(a, s + i, e - i));
		i = skip_blanks(s, e);
		if (!prefix && s[i] != '\0' && s[i] != '\n') {
			memset(c, 0, sizeof(*c));
			return jobs_err_set(err, JOBS_EUSAGE,
			    "unexpected \"%s\" after %.*s",
			    show(a, s + i, token_end(s, i) - i), (int)(e - at),
			    s + at);
		}
	} else {
		n = count_tokens(s, i);
		if (n < 5 || (!prefix && n > 5))
			return jobs_err_set(err, JOBS_EUSAGE,
			    "expected 5 fields, got %d", n);
		for (k = 0; k < 5; k++) {
			e = token_end(s, i);
			if (parse_field(k, s + i, e - i, &bits[k], err) < 0) {
				memset(c, 0, sizeof(*c));
				return -1;
			}
			if (s[i] == '*') {
				if (k == F_MINUTE)
					c->min_star = 1;
				else if (k == F_HOUR)
					c->hour_star = 1;
				else if (k == F_DOM)
					c->dom_star = 1;
				else if (k == F_DOW)
					c->dow_star = 1;
			}
			i = skip_blanks(s, e);
		}
		c->minute = bits[F_MINUTE];
		c->hour = (uint32_t)bits[F_HOUR];
		c->dom = (uint32_t)bits[F_DOM];
		c->month = (uint16_t)bits[F_MONTH];
		/* Sunday is 0 or 7 */
		c->dow = (uint8_t)((bits[F_DOW] | bits[F_DOW] >> 7) & 0x7f);
	}
	if (!prefix && !only_newline(s, i)) {
		memset(c, 0, sizeof(*c));
		return jobs_err_set(err, JOBS_EUSAGE,
		    "unexpected text after a newline");
	}
	/* cronie's check for a sixth time field: a command cannot start so */
	if (prefix && s[i] == '*') {
		memset(c, 0, sizeof(*c));
		return jobs_err_set(err, JOBS_EUSAGE,
		    "unexpected \"*\" after the time fields");
	}
	if (i > INT_MAX) {
		memset(c, 0, sizeof(*c));
		return jobs_err_set(err, JOBS_EUSAGE, "line too long");
	}
	return (int)i;
}

int
jobs_cron_parse(struct jobs_cron *c, const char *expr, struct jobs_err *err)
{
	return parse_time(c, expr, 0, err) < 0 ? -1 : 0;
}

int
jobs_cron_parse_prefix(struct jobs_cron *c, const char *line,
    struct jobs_err *err)
{
	return parse_time(c, line, 1, err);
}

/* ---- the calendar ----------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
	static const unsigned char n[13] = {
		0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : n[m];
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Hinnant's method). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int
weekday(int64_t days)
{
	return (int)(days - floor_div(days + 4, 7) * 7 + 4);
}

static int64_t
year_of(int64_t t)
{
	int64_t y;
	int m, d;

	civil_from_days(floor_div(t, 86400), &y, &m, &d);
	return y;
}

static int
low_bit(uint64_t x)
{
	return __builtin_ctzll(x);
}

static int
high_bit(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

/*
 * The days of month m of year y on which c may fire, as bits 1..31.  Vixie
 * cron's rule: if either day field is a star field, a day must match both;
 * otherwise it may match either.
 */
static uint32_t
day_mask(const struct jobs_cron *c, int64_t y, int m)
{
	uint32_t valid, p, r, doms, dows;
	uint64_t wk;
	int f;

	valid = (uint32_t)(((UINT64_C(1) << month_days(y, m)) - 1) << 1);
	f = weekday(days_from_civil(y, m, 1));
	p = c->dow;
	r = ((p >> f) | (p << (7 - f))) & 0x7f;	/* bit i: day i+1 */
	wk = (uint64_t)r | (uint64_t)r << 7 | (uint64_t)r << 14 |
	    (uint64_t)r << 21 | (uint64_t)r << 28;
	dows = (uint32_t)(wk << 1) & valid;
	doms = c->dom & valid;
	return c->dom_star || c->dow_star ? doms & dows : doms | dows;
}

/*
 * The first wall minute in [w, hi] (minutes since 1970-01-01T00:00 local)
 * that c matches.  The masks of c must not be empty.
 */
static int
wall_next(const struct jobs_cron *c, int64_t w, int64_t hi, int64_t *out)
{
	int64_t day, y;
	uint64_t mins;
	uint32_t days, hours, later;
	int m, d, h, mi, mod;

	while (w <= hi) {
		day = floor_div(w, 1440);
		mod = (int)(w - day * 1440);
		civil_from_days(day, &y, &m, &d);
		if (!(c->month & (1u << m))) {
			later = c->month & ~((2u << m) - 1);
			if (later == 0) {
				y++;
				later = c->month;
			}
			w = days_from_civil(y, low_bit(later), 1) * 1440;
			continue;
		}
		days = day_mask(c, y, m) & ~((1u << d) - 1);
		if (days == 0) {
			w = (days_from_civil(y, m, 1) + month_days(y, m)) *
			    1440;
			continue;
		}
		if (!(days & (1u << d))) {
			day += low_bit(days) - d;
			mod = 0;
		}
		h = mod / 60;
		mi = mod % 60;
		hours = c->hour & ~((1u << h) - 1);
		if (!(hours & (1u << h))) {
			if (hours == 0) {
				w = (day + 1) * 1440;
				continue;
			}
			h = low_bit(hours);
			mi = 0;
		}
		mins = c->minute & ~((UINT64_C(1) << mi) - 1);
		if (mins == 0) {
			hours = c->hour & ~((2u << h) - 1);
			if (hours == 0) {
				w = (day + 1) * 1440;
				continue;
			}
			h = low_bit(hours);
			mins = c->minute;
		}
		w = day * 1440 + h * 60 + low_bit(mins);
		if (w > hi)
			return 0;
		*out = w;
		return 1;
	}
	return 0;
}

/* The last wall minute in [lo, w] that c matches. */
static int
wall_prev(const struct jobs_cron *c, int64_t w, int64_t lo, int64_t *out)
{
	int64_t day, y;
	uint64_t mins;
	uint32_t days, hours, earlier;
	int m, d, h, mi, mod;

	while (w >= lo) {
		day = floor_div(w, 1440);
		mod = (int)(w - day * 1440);
		civil_from_days(day, &y, &m, &d);
		if (!(c->month & (1u << m))) {
			earlier = c->month & ((1u << m) - 1);
			if (earlier == 0) {
				y--;
				earlier = c->month;
			}
			m = high_bit(earlier);
			w = (days_from_civil(y, m, 1) + month_days(y, m)) *
			    1440 - 1;
			continue;
		}
		days = day_mask(c, y, m) & (uint32_t)((UINT64_C(2) << d) - 1);
		if (days == 0) {
			w = days_from_civil(y, m, 1) * 1440 - 1;
			continue;
		}
		if (!(days & (1u << d))) {
			day -= d - high_bit(days);
			mod = 1439;
		}
		h = mod / 60;
		mi = mod % 60;
		hours = c->hour & ((2u << h) - 1);
		if (!(hours & (1u << h))) {
			if (hours == 0) {
				w = day * 1440 - 1;
				continue;
			}
			h = high_bit(hours);
			mi = 59;
		}
		mins = c->minute & ((UINT64_C(2) << mi) - 1);
		if (mins == 0) {
			hours = c->hour & ((1u << h) - 1);
			if (hours == 0) {
				w = day * 1440 - 1;
				continue;
			}
			h = high_bit(hours);
			mins = c->minute;
		}
		w = day * 1440 + h * 60 + high_bit(mins);
		if (w < lo)
			return 0;
		*out = w;
		return 1;
	}
	return 0;
}

/*
 * Copy c with out-of-range bits dropped (a caller may fill the struct by
 * hand) and say whether it can fire at all.  It cannot when some field is
 * empty or no month in it has a day that both day fields allow; then no
 * search is needed, for the weekdays of any date run through all seven over
 * the 400-year Gregorian cycle.
 */
static int
can_fire(const struct jobs_cron *c, struct jobs_cron *k)
{
	static const unsigned char maxdays[13] = {
		0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	uint32_t doms;
	int m;

	*k = *c;
	k->minute &= (UINT64_C(1) << 60) - 1;
	k->hour &= 0xffffff;
	k->dom &= 0xfffffffe;
	k->month &= 0x1ffe;
	k->dow = (uint8_t)((k->dow | k->dow >> 7) & 0x7f);
	if (k->reboot || k->minute == 0 || k->hour == 0 || k->month == 0)
		return 0;
	for (m = 1; m <= 12; m++) {
		if (!(k->month & (1u << m)))
			continue;
		doms = k->dom &
		    (uint32_t)(((UINT64_C(1) << maxdays[m]) - 1) << 1);
		if (k->dom_star || k->dow_star ? doms && k->dow :
		    doms || k->dow)
			return 1;
	}
	return 0;
}

int
jobs_cron_never(const struct jobs_cron *c)
{
	struct jobs_cron k;

	return !c->reboot && !can_fire(c, &k);
}

/* ---- time zones ------------------------------------------------------- */

#define ZONE_SLOTS 4
#define ZONE_MAX_TRANS 1024
#define ZONE_FILE_MAX (64 * 1024)	/* TZif files are a few KiB */
#define ZONE_NAME_MAX 256

/* A POSIX TZ rule date: Jn, n or Mm.w.d, and the local time of day. */
struct rule_when {
	int kind;		/* 'J', 'D' or 'M' */
	int a, b, d;		/* n; or month, week, weekday */
	int32_t secs;
};

struct zone {
	char name[ZONE_NAME_MAX];
	unsigned stamp;		/* last use; 0 = empty slot */
	int ntrans;
	int32_t off0;		/* offset before the first transition */
	int64_t rule_from;	/* the footer rule rules from here on */
	int has_rule, has_dst;
	int32_t std_off, dst_off;
	struct rule_when start, end;
	/* rule_list's last answer: searches ask for the same year often */
	int64_t rl_year;
	int rl_n;
	int64_t rl_when[10];
	int32_t rl_off[10];
	/* the changes of offset from the file's transitions */
	int64_t when[ZONE_MAX_TRANS];
	int32_t off[ZONE_MAX_TRANS];
};

/* Per thread, so that concurrent callers need no lock. */
static _Thread_local struct zone zone_cache[ZONE_SLOTS];
static _Thread_local unsigned zone_clock;

static int32_t
get32(const unsigned char *p)
{
	uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];

	return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

static int64_t
get64(const unsigned char *p)
{
	uint64_t v = (uint64_t)(uint32_t)get32(p) << 32 |
	    (uint32_t)get32(p + 4);

	return v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

static int
tz_num(const char **pp, int max, int *v)
{
	const char *p = *pp;
	int n = 0;

	if (!is_digit(*p))
		return -1;
	while (is_digit(*p)) {
		n = n * 10 + (*p++ - '0');
		if (n > max)
			return -1;
	}
	*v = n;
	*pp = p;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hours up to maxh, in seconds. */
static int
tz_hms(const char **pp, int maxh, int32_t *secs)
{
	const char *p = *pp;
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (tz_num(&p, maxh, &h) < 0)
		return -1;
	if (*p == ':') {
		p++;
		if (tz_num(&p, 59, &m) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (tz_num(&p, 59, &s) < 0)
				return -1;
		}
	}
	*secs = sign * (h * 3600 + m * 60 + s);
	*pp = p;
	return 0;
}

static int
tz_name(const char **pp)
{
	const char *p = *pp, *s;

	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		if (*p++ != '>')
			return -1;
	} else {
		for (s = p; is_alpha(*p); p++)
			;
		if (p - s < 3)
			return -1;
	}
	*pp = p;
	return 0;
}

static int
tz_when(const char **pp, struct rule_when *r)
{
	const char *p = *pp;

	if (*p == 'J') {
		p++;
		r->kind = 'J';
		if (tz_num(&p, 365, &r->a) < 0 || r->a < 1)
			return -1;
	} else if (*p == 'M') {
		p++;
		r->kind = 'M';
		if (tz_num(&p, 12, &r->a) < 0 || r->a < 1 || *p++ != '.' ||
		    tz_num(&p, 5, &r->b) < 0 || r->b < 1 || *p++ != '.' ||
		    tz_num(&p, 6, &r->d) < 0)
			return -1;
	} else {
		r->kind = 'D';
		if (tz_num(&p, 365, &r->a) < 0)
			return -1;
	}
	r->secs = 7200;
	if (*p == '/') {
		p++;
		if (tz_hms(&p, 167, &r->secs) < 0)
			return -1;
	}
	*pp = p;
	return 0;
}

/* The POSIX TZ string that ends a TZif file (RFC 8536 section 3.3). */
static int
tz_rule(struct zone *z, const char *p)
{
	int32_t v;

	if (tz_name(&p) < 0 || tz_hms(&p, 24, &v) < 0)
		return -1;
	z->std_off = -v;
	z->has_rule = 1;
	if (*p == '\0')
		return 0;
	if (tz_name(&p) < 0)
		return -1;
	z->has_dst = 1;
	z->dst_off = z->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (tz_hms(&p, 24, &v) < 0)
			return -1;
		z->dst_off = -v;
	}
	if (*p == '\0') {
		/* glibc's default rule when a zone names DST without one */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p++ != ',' || tz_when(&p, &z->start) < 0 || *p++ != ',' ||
	    tz_when(&p, &z->end) < 0 || *p != '\0')
		return -1;
	return 0;
}

static int64_t
rule_instant(const struct rule_when *r, int64_t y, int32_t utoff)
{
	int64_t day = days_from_civil(y, 1, 1);
	int md;

	if (r->kind == 'J') {
		day += r->a - 1 + (is_leap(y) && r->a >= 60);
	} else if (r->kind == 'D') {
		day += r->a;
	} else {
		md = 1 + (r->d - weekday(days_from_civil(y, r->a, 1)) + 7) % 7 +
		    7 * (r->b - 1);
		while (md > month_days(y, r->a))
			md -= 7;
		day = days_from_civil(y, r->a, md);
	}
	return day * 86400 + r->secs - utoff;
}

/*
 * The rule's changes of offset around year y, oldest first: when[i] starts
 * offset off[i].  Changes at the same instant are resolved to the later
 * rule and changes to the same offset dropped, so that rules that keep DST
 * all year (start Jan 1, end after Dec 31) yield one offset.
 */
static int
rule_list(struct zone *z, int64_t y, int64_t *when, int32_t *off)
{
	int64_t tw[10], sw;
	int32_t to[10], so;
	int n = 0, k = 0, i, j;
	int64_t yy;

	if (z->rl_n > 0 && z->rl_year == y) {
		memcpy(when, z->rl_when, sizeof(z->rl_when));
		memcpy(off, z->rl_off, sizeof(z->rl_off));
		return z->rl_n;
	}
	for (yy = y - 2; yy <= y + 2; yy++) {
		tw[n] = rule_instant(&z->start, yy, z->std_off);
		to[n++] = z->dst_off;
		tw[n] = rule_instant(&z->end, yy, z->dst_off);
		to[n++] = z->std_off;
	}
	for (i = 1; i < n; i++) {
		sw = tw[i];
		so = to[i];
		for (j = i; j > 0 && tw[j - 1] > sw; j--) {
			tw[j] = tw[j - 1];
			to[j] = to[j - 1];
		}
		tw[j] = sw;
		to[j] = so;
	}
	for (i = 0; i < n; i++) {
		while (k > 0 && when[k - 1] == tw[i])
			k--;
		if (k > 0 && off[k - 1] == to[i])
			continue;
		when[k] = tw[i];
		off[k++] = to[i];
	}
	z->rl_year = y;
	z->rl_n = k;
	memcpy(z->rl_when, when, sizeof(z->rl_when));
	memcpy(z->rl_off, off, sizeof(z->rl_off));
	return k;
}

/* The last index with a[i] <= t, or -1. */
static int
find_le(const int64_t *a, int n, int64_t t)
{
	int lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

/* The rule's offset at t. */
static int32_t
rule_off(struct zone *z, int64_t t)
{
	int64_t w[10];
	int32_t o[10];
	int i;

	if (!z->has_dst)
		return z->std_off;
	i = find_le(w, rule_list(z, year_of(t), w, o), t);
	return o[i < 0 ? 0 : i];
}

/*
 * The stretch of constant offset around t: it starts at *start (INT64_MIN
 * if it always was) after offset *prev, and ends at *end (INT64_MAX if it
 * never does).  The file's transitions rule before rule_from, the footer
 * rule from then on, and the offset may change at rule_from itself.
 */
static void
zone_span(struct zone *z, int64_t t, int64_t *start, int64_t *end,
    int32_t *off, int32_t *prev)
{
	int64_t w[10];
	int32_t o[10], last;
	int i, n;

	if (z->has_rule && t >= z->rule_from) {
		*end = INT64_MAX;
		if (z->has_dst) {
			n = rule_list(z, year_of(t), w, o);
			i = find_le(w, n, t);
			if (i < 0)
				i = 0;
			*off = o[i];
			if (i + 1 < n)
				*end = w[i + 1];
			if (i >= 1 && w[i] > z->rule_from) {
				*start = w[i];
				*prev = o[i - 1];
				return;
			}
		} else {
			*off = z->std_off;
		}
		/* unchanged since rule_from; and before it? */
		last = z->ntrans > 0 ? z->off[z->ntrans - 1] : z->off0;
		if (last != *off && z->rule_from != INT64_MIN) {
			*start = z->rule_from;
			*prev = last;
		} else {
			*start = z->ntrans > 0 ? z->when[z->ntrans - 1] :
			    INT64_MIN;
			*prev = z->ntrans > 1 ? z->off[z->ntrans - 2] : z->off0;
		}
		return;
	}
	i = find_le(z->when, z->ntrans, t);
	*off = i < 0 ? z->off0 : z->off[i];
	*start = i < 0 ? INT64_MIN : z->when[i];
	*prev = i < 1 ? z->off0 : z->off[i - 1];
	*end = INT64_MAX;
	if (i + 1 < z->ntrans) {
		*end = z->when[i + 1];
	} else if (z->has_rule) {
		if (rule_off(z, z->rule_from) != *off) {
			*end = z->rule_from;
		} else if (z->has_dst) {
			n = rule_list(z, year_of(z->rule_from), w, o);
			for (i = 1; i < n; i++) {
				if (w[i] > z->rule_from) {
					*end = w[i];
					break;
				}
			}
		}
	}
}

static int
zone_parse(struct zone *z, const unsigned char *buf, size_t len)
{
	uint32_t cnt[6], typecnt, timecnt;
	const unsigned char *times, *idx, *types, *p, *q;
	size_t hdr = 0, size, tsize = 4, i;
	int32_t o, cur;
	int64_t t, last = 0;
	char footer[256];
	int v2, k;

	for (k = 0; k < 2; k++) {
		if (len - hdr < 44 || memcmp(buf + hdr, "TZif", 4) != 0)
			return -1;
		for (i = 0; i < 6; i++) {
			cnt[i] = (uint32_t)get32(buf + hdr + 20 + 4 * i);
			if (cnt[i] > 1 << 16)
				return -1;
		}
		/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
		size = cnt[3] * (tsize + 1) + cnt[4] * 6 + cnt[5] +
		    cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
		if (len - hdr - 44 < size)
			return -1;
		v2 = buf[4] >= '2';
		if (k == 1 || !v2)
			break;
		hdr += 44 + size;
		tsize = 8;
	}
	if (cnt[2] != 0)
		return -2;
	timecnt = cnt[3];
	typecnt = cnt[4];
	if (typecnt == 0 || typecnt > 256)
		return -1;
	times = buf + hdr + 44;
	idx = times + timecnt * tsize;
	types = idx + timecnt;
	for (i = 0; i < typecnt; i++) {
		o = get32(types + 6 * i);
		if (o < -26 * 3600 || o > 26 * 3600)
			return -1;
	}
	z->has_rule = z->has_dst = 0;
	z->rl_n = 0;
	if (tsize == 8) {
		p = times + size;
		if (p < buf + len && *p == '\n') {
			p++;
			q = memchr(p, '\n', (size_t)(buf + len - p));
			if (q == NULL || (size_t)(q - p) >= sizeof(footer))
				return -1;
			memcpy(footer, p, (size_t)(q - p));
			footer[q - p] = '\0';
			if (footer[0] != '\0' && tz_rule(z, footer) < 0)
				return -4;
		}
	}
	/* glibc: before the first transition, the first standard-time type */
	for (i = 0; i < typecnt && types[6 * i + 4] != 0; i++)
		;
	z->off0 = get32(types + 6 * (i < typecnt ? i : 0));
	z->ntrans = 0;
	z->rule_from = INT64_MAX;
	cur = z->off0;
	for (i = 0; i < timecnt; i++) {
		t = tsize == 8 ? get64(times + 8 * i) : get32(times + 4 * i);
		if (idx[i] >= typecnt || (i > 0 && t <= last))
			return -1;
		last = t;
		/*
		 * glibc applies the rule from the last transition on and never
		 * that transition's own type, which in slim files may differ.
		 */
		if (z->has_rule && i == timecnt - 1)
			break;
		o = get32(types + 6 * idx[i]);
		if (o == cur)
			continue;
		if (z->ntrans == ZONE_MAX_TRANS)
			return -3;
		z->when[z->ntrans] = t;
		z->off[z->ntrans++] = o;
		cur = o;
	}
	if (z->has_rule)
		z->rule_from = timecnt > 0 ? last : INT64_MIN;
	return 0;
}

/* IANA names only: no absolute paths, no "..", no odd characters. */
static int
zone_name_ok(const char *tz)
{
	size_t i, len = strlen(tz);

	if (len == 0 || len >= ZONE_NAME_MAX ||
	    tz[0] == '/' || tz[len - 1] == '/' || strstr(tz, "..") != NULL)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_alpha(tz[i]) && !is_digit(tz[i]) &&
		    strchr("/_+-.", tz[i]) == NULL)
			return 0;
	return 1;
}

static int
zone_load(struct zone *z, const char *tz, struct jobs_err *err)
{
	char path[sizeof(JOBS_CRON_ZONEINFO) + ZONE_NAME_MAX + 1];
	unsigned char *buf = NULL;
	FILE *fp = NULL;
	size_t len;
	int rc = -1, r;

	r = snprintf(path, sizeof(path), "%s/%s", JOBS_CRON_ZONEINFO, tz);
	if (r < 0 || (size_t)r >= sizeof(path) ||
	    (fp = fopen(path, "rb")) == NULL) {
		jobs_err_set(err, JOBS_EUSAGE, "unknown time zone \"%s\"", tz);
		goto out;
	}
	if ((buf = malloc(ZONE_FILE_MAX)) == NULL) {
		jobs_err_set(err, JOBS_EFAIL, "out of memory");
		goto out;
	}
	len = fread(buf, 1, ZONE_FILE_MAX, fp);
	if (ferror(fp) || len == 0) {
		/* a directory such as "America" opens but does not read */
		jobs_err_set(err, JOBS_EUSAGE, "unknown time zone \"%s\"", tz);
		goto out;
	}
	r = len == ZONE_FILE_MAX ? -1 : zone_parse(z, buf, len);
	if (r == -2)
		jobs_err_set(err, JOBS_EUSAGE,
		    "time zone \"%s\" counts leap seconds, which cron does not",
		    tz);
	else if (r == -3)
		jobs_err_set(err, JOBS_EUSAGE,
		    "time zone \"%s\" has too many transitions", tz);
	else if (r == -4)
		jobs_err_set(err, JOBS_EUSAGE,
		    "time zone \"%s\" has a rule that cannot be read", tz);
	else if (r < 0)
		jobs_err_set(err, JOBS_EUSAGE,
		    "time zone \"%s\" is not a TZif file", tz);
	else
		rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	return rc;
}

/* Find tz in this thread's cache or load it; *out = NULL means UTC. */
static int
zone_get(const char *tz, struct zone **out, struct jobs_err *err)
{
	char a[SHOW_MAX];
	struct zone *z = NULL;
	int i;

	*out = NULL;
	if (tz == NULL || tz[0] == '\0' || strcmp(tz, "UTC") == 0)
		return 0;
	if (!zone_name_ok(tz))
		return jobs_err_set(err, JOBS_EUSAGE,
		    "invalid time zone name \"%s\"", show(a, tz, strlen(tz)));
	if (++zone_clock == 0)
		zone_clock = 1;
	for (i = 0; i < ZONE_SLOTS; i++) {
		if (zone_cache[i].stamp != 0 &&
		    strcmp(zone_cache[i].name, tz) == 0) {
			zone_cache[i].stamp = zone_clock;
			*out = &zone_cache[i];
			return 0;
		}
		if (z == NULL || zone_cache[i].stamp < z->stamp)
			z = &zone_cache[i];
	}
	z->stamp = 0;
	if (zone_load(z, tz, err) < 0)
		return -1;
	memcpy(z->name, tz, strlen(tz) + 1);
	z->stamp = zone_clock;
	*out = z;
	return 0;
}

int
jobs_cron_zone_check(const char *tz, struct jobs_err *err)
{
	struct zone *z;

	return zone_get(tz, &z, err);
}

/* ---- fire times ------------------------------------------------------- */

/*
 * The real minutes [first, last] during which the UTC offset is offm
 * minutes, having been prevm before first.  first is INT64_MIN when the
 * offset never changed before.
 */
struct seg {
	int64_t first, last;
	int64_t offm, prevm;
};

static int64_t
ceil_minute(int64_t t)
{
	return -floor_div(-t, 60) * 60;
}

static void
seg_at(struct zone *z, int64_t t, struct seg *s)
{
	int64_t start, end;
	int32_t off, prev;

	if (z == NULL) {
		s->first = INT64_MIN;
		s->last = INT64_MAX;
		s->offm = s->prevm = 0;
		return;
	}
	zone_span(z, t, &start, &end, &off, &prev);
	s->offm = floor_div(off, 60);
	s->prevm = floor_div(prev, 60);
	s->first = start == INT64_MIN ? INT64_MIN : ceil_minute(start);
	s->last = end == INT64_MAX ? INT64_MAX : ceil_minute(end) - 60;
}

/*
 * How far cronie's clock jumps at the start of s, in minutes: 1 is a normal
 * tick, more is a skip forward, 0 or less a step back.  cronie compares the
 * local minute it wakes in with the last one it ran.
 */
static int64_t
jump(const struct seg *s)
{
	return s->first == INT64_MIN ? 1 : 1 + s->offm - s->prevm;
}

/*
 * Whether cronie runs c at the first minute of s for the local minutes the
 * jump skipped.  Skips of under JUMP_SMALL minutes run every job of every
 * skipped minute; longer ones only the fixed-time jobs (cronie's comment:
 * "run fixed-time jobs for each minute missed"); past JUMP_LARGE cronie
 * takes the jump as a clock reset and runs nothing extra.
 */
static int
gap_fires(const struct jobs_cron *c, int fixed, const struct seg *s)
{
	int64_t d = jump(s), w;

	if (d <= 1 || d > JUMP_LARGE || (d > JUMP_SMALL && !fixed))
		return 0;
	return wall_next(c, s->first / 60 + s->prevm,
	    s->first / 60 + s->offm - 1, &w);
}

/*
 * The first wall minute of s at which cronie runs fixed-time jobs.  After a
 * step back of up to JUMP_LARGE minutes cronie holds its virtual clock until
 * the local time passes the one it had reached, running only wildcard jobs
 * meanwhile, so fixed-time jobs run once, in the first pass.
 */
static int64_t
first_fixed_wall(const struct seg *s)
{
	int64_t d = jump(s);

	if (d > 0 || d < -JUMP_LARGE)
		return INT64_MIN;
	return s->first / 60 + s->prevm;
}

static int
fire_setup(const struct jobs_cron *c, int64_t t, const char *tz, int mode,
    const int64_t *out, struct zone **z, struct jobs_err *err)
{
	if (c == NULL || out == NULL)
		return jobs_err_set(err, JOBS_EUSAGE, "no cron expression");
	if (mode != JOBS_CRON_SYSTEM && mode != JOBS_CRON_CRONTZ)
		return jobs_err_set(err, JOBS_EUSAGE,
		    "unknown time zone mode %d", mode);
	if (t < JOBS_CRON_TIME_MIN || t > JOBS_CRON_TIME_MAX)
		return jobs_err_set(err, JOBS_EUSAGE,
		    "time %lld is out of range", (long long)t);
	return zone_get(tz, z, err);
}

int
jobs_cron_next(const struct jobs_cron *c, int64_t after, const char *tz,
    int mode, int64_t *next, struct jobs_err *err)
{
	struct zone *z;
	struct jobs_cron k;
	struct seg s;
	int64_t t, limit, wl, wu, w;
	int fixed, sys = mode == JOBS_CRON_SYSTEM;

	if (fire_setup(c, after, tz, mode, next, &z, err) < 0)
		return -1;
	if (!can_fire(c, &k))
		return 0;
	fixed = !k.min_star && !k.hour_star;
	limit = after + HORIZON;
	if (limit > JOBS_CRON_TIME_MAX)
		limit = JOBS_CRON_TIME_MAX;
	limit = floor_div(limit, 60) * 60;
	for (t = floor_div(after, 60) * 60 + 60; t <= limit; t = s.last + 60) {
		seg_at(z, t, &s);
		if (sys && s.first == t && gap_fires(&k, fixed, &s)) {
			*next = t;
			return 1;
		}
		wl = t / 60 + s.offm;
		if (sys && fixed && first_fixed_wall(&s) > wl)
			wl = first_fixed_wall(&s);
		wu = (s.last < limit ? s.last : limit) / 60 + s.offm;
		if (wl <= wu && wall_next(&k, wl, wu, &w)) {
			*next = (w - s.offm) * 60;
			return 1;
		}
		if (s.last >= limit)
			break;
	}
	return 0;
}

int
jobs_cron_prev(const struct jobs_cron *c, int64_t at, const char *tz,
    int mode, int64_t *prev, struct jobs_err *err)
{
	struct zone *z;
	struct jobs_cron k;
	struct seg s;
	int64_t t, limit, lo, wl, wu, w;
	int fixed, sys = mode == JOBS_CRON_SYSTEM;

	if (fire_setup(c, at, tz, mode, prev, &z, err) < 0)
		return -1;
	if (!can_fire(c, &k))
		return 0;
	fixed = !k.min_star && !k.hour_star;
	limit = at - HORIZON;
	if (limit < JOBS_CRON_TIME_MIN)
		limit = JOBS_CRON_TIME_MIN;
	limit = ceil_minute(limit);
	for (t = floor_div(at, 60) * 60; t >= limit; t = s.first - 60) {
		seg_at(z, t, &s);
		lo = s.first < limit ? limit : s.first;
		wl = lo / 60 + s.offm;
		wu = t / 60 + s.offm;
		if (sys && fixed && first_fixed_wall(&s) > wl)
			wl = first_fixed_wall(&s);
		if (wl <= wu && wall_prev(&k, wu, wl, &w)) {
			*prev = (w - s.offm) * 60;
			return 1;
		}
		if (s.first < limit)
			break;
		if (sys && gap_fires(&k, fixed, &s)) {
			*prev = s.first;
			return 1;
		}
	}
	return 0;
}

/* t's local time in z (NULL: UTC); t within the engine's range. */
static void
local_of(struct zone *z, int64_t t, struct jobs_cron_tm *tm)
{
	int64_t start, end, local, days;
	int32_t off = 0, prev;
	int secs;

	if (z != NULL)
		zone_span(z, t, &start, &end, &off, &prev);
	local = t + off;
	days = floor_div(local, 86400);
	secs = (int)(local - days * 86400);
	civil_from_days(days, &tm->year, &tm->month, &tm->day);
	tm->hour = secs / 3600;
	tm->min = secs / 60 % 60;
	tm->sec = secs % 60;
	tm->wday = weekday(days);
	tm->utoff = off;
}

int
jobs_cron_local(int64_t t, const char *tz, struct jobs_cron_tm *tm,
    struct jobs_err *err)
{
	struct zone *z;

	if (t < JOBS_CRON_TIME_MIN || t > JOBS_CRON_TIME_MAX)
		return jobs_err_set(err, JOBS_EUSAGE,
		    "time %lld is out of range", (long long)t);
	if (zone_get(tz, &z, err) < 0)
		return -1;
	local_of(z, t, tm);
	return 0;
}

/*
 * Walk the stretches of constant offset from well before the wall time
 * (offsets stay within a day and a bit) to the first one whose local times
 * reach it: the wall time falls in it, or in the gap just before it.
 */
int
jobs_cron_day_start(const char *tz, int64_t y, int m, int d, int64_t *t,
    struct jobs_err *err)
{
	struct zone *z;
	int64_t wall, at, start, end;
	int32_t off, prev;
	int i;

	if (m < 1 || m > 12 || y < 1 || y > 9999 || d < -400 || d > 400)
		return jobs_err_set(err, JOBS_EUSAGE,
		    "date %lld-%d-%d is out of range", (long long)y, m, d);
	wall = days_from_civil(y, m, d) * 86400;
	if (wall < JOBS_CRON_TIME_MIN + 3 * 86400 ||
	    wall > JOBS_CRON_TIME_MAX - 3 * 86400)
		return jobs_err_set(err, JOBS_EUSAGE,
		    "date %lld-%02d-%02d is out of range", (long long)y, m, d);
	if (zone_get(tz, &z, err) < 0)
		return -1;
	if (z == NULL) {
		*t = wall;
		return 0;
	}
	at = wall - 3 * 86400;
	for (i = 0; i < 64; i++) {
		zone_span(z, at, &start, &end, &off, &prev);
		if (end == INT64_MAX || end + off > wall) {
			/*
			 * Its local times start at start + off: past the
			 * wall time, the wall time is in the gap before it.
			 */
			*t = start != INT64_MIN && start + off > wall ? start :
			    wall - off;
			return 0;
		}
		at = end;
	}
	return jobs_err_set(err, JOBS_EUSAGE,
	    "time zone \"%s\" changes offset too often", tz);
}

int
jobs_cron_format(int64_t t, const char *tz, char *buf, size_t size)
{
	struct zone *z;
	struct jobs_cron_tm tm;
	int32_t a;
	int n, more = 0;

	if (buf == NULL || size == 0)
		return -1;
	buf[0] = '\0';
	if (t < -(INT64_C(1) << 40) || t > INT64_C(1) << 40 ||
	    zone_get(tz, &z, NULL) < 0)
		return -1;
	local_of(z, t, &tm);
	if (tm.year < 0 || tm.year > 9999)
		return -1;
	a = tm.utoff < 0 ? -tm.utoff : tm.utoff;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
	    (int)tm.year, tm.month, tm.day, tm.hour, tm.min, tm.sec,
	    tm.utoff < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
	if (n > 0 && a % 60 != 0 && (size_t)n < size)
		more = snprintf(buf + n, size - (size_t)n, ":%02d",
		    (int)(a % 60));
	if (n < 0 || more < 0 || (size_t)n + (size_t)more >= size) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
