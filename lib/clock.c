#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"

static int64_t base_ms;		/* logical time at mono0 */
static int64_t mono0 = -1;
static int pinned;

int64_t
jobs_clock_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
jobs_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
jobs_clock_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
jobs_clock_init(const char *spec, struct jobs_err *err)
{
	mono0 = jobs_clock_mono_ms();
	pinned = spec != NULL && spec[0] != '\0';
	if (!pinned) {
		base_ms = jobs_clock_real_ms();
		return 0;
	}
	return jobs_clock_parse(spec, &base_ms, err);
}

int
jobs_clock_pinned(void)
{
	return pinned;
}

int64_t
jobs_clock_now_ms(void)
{
	if (mono0 < 0)
		jobs_clock_init(NULL, NULL);
	return base_ms + (jobs_clock_mono_ms() - mono0);
}

/* Read exactly n digits at *p into *v. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

int
jobs_clock_parse(const char *s, int64_t *ms, struct jobs_err *err)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;
	struct tm tm;

	if (*p == '@')
		p++;
	if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 12) {
		*ms = strtoll(p, NULL, 10) * 1000;
		return 0;
	}
	p = s;
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0)
		goto bad;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) < 0)
				goto bad;
			if (*p == '.' || *p == ',') {
				int n = 0;

				for (p++; isdigit((unsigned char)*p); p++, n++)
					if (n < 3)
						frac = frac * 10 + (*p - '0');
				if (n == 0)
					goto bad;
				for (; n < 3; n++)
					frac *= 10;
			}
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

		if (digits(&p, 2, &oh) < 0)
			goto bad;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && digits(&p, 2, &om) < 0)
			goto bad;
		if (oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = ((int64_t)timegm(&tm) - off) * 1000 + frac;
	return 0;
bad:
	return jobs_err_set(err, JOBS_EUSAGE, "bad time '%s': want ISO-8601"
	    " (2026-03-08T03:00:00Z) or epoch seconds", s);
}

int
jobs_clock_parse_duration(const char *s, int64_t *ms, struct jobs_err *err)
{
	const char *p = s;
	int64_t total = 0;

	if (*p == '\0')
		goto bad;
	while (*p) {
		char *end;
		int64_t unit;
		long long n;

		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		n = strtoll(p, &end, 10);
		if (errno || n > 100LL * 365 * 86400)
			goto bad;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's' || *p == '\0') {
			unit = 1000;
			p += *p == 's';
		} else if (*p == 'm') {
			unit = 60000;
			p++;
		} else if (*p == 'h') {
			unit = 3600000;
			p++;
		} else if (*p == 'd') {
			unit = 86400000;
			p++;
		} else
			goto bad;
		total += n * unit;
	}
	*ms = total;
	return 0;
bad:
	return jobs_err_set(err, JOBS_EUSAGE, "bad duration '%s': want e.g. 90s,"
	    " 10m, 2h, 1d or 1h30m", s);
}

void
jobs_clock_iso(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
jobs_clock_human_duration(int64_t ms, char *buf, size_t size)
{
	if (ms < 0)
		snprintf(buf, size, "-");
	else if (ms < 1000)
		snprintf(buf, size, "%" PRId64 "ms", ms);
	else if (ms < 60000)
		snprintf(buf, size, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", ms / 60000,
		    ms / 1000 % 60);
	else
		snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", ms / 3600000,
		    ms / 60000 % 60);
}

void
jobs_clock_ago(int64_t now_ms, int64_t then_ms, char *buf, size_t size)
{
	int64_t s = (now_ms - then_ms) / 1000;
	const char *suffix = " ago";

	if (s < 0) {
		s = -s;
		suffix = " ahead";
	}
	if (s < 5)
		snprintf(buf, size, "now");
	else if (s < 60)
		snprintf(buf, size, "%" PRId64 "s%s", s, suffix);
	else if (s < 3600)
		snprintf(buf, size, "%" PRId64 "m%s", s / 60, suffix);
	else if (s < 86400 * 2)
		snprintf(buf, size, "%" PRId64 "h%s", s / 3600, suffix);
	else
		snprintf(buf, size, "%" PRId64 "d%s", s / 86400, suffix);
}
