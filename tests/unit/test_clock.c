/* Unit tests of lib/clock.c: time and duration parsing, formatting. */
#include <stdint.h>

#include "clock.h"
#include "err.h"
#include "t.h"

static void
times(void)
{
	static const struct { const char *in; int64_t ms; } good[] = {
		{ "0", 0 },
		{ "1767225600", 1767225600000LL },
		{ "@1767225600", 1767225600000LL },
		{ "2026-01-01", 1767225600000LL },
		{ "2026-01-01T00:00:00Z", 1767225600000LL },
		{ "2026-01-01 00:00:00Z", 1767225600000LL },
		{ "2026-01-01T00:00Z", 1767225600000LL },
		{ "2026-01-01T00:00:00", 1767225600000LL },
		{ "2026-01-01T01:00:00+01:00", 1767225600000LL },
		{ "2025-12-31T19:00:00-05:00", 1767225600000LL },
		{ "2026-01-01T05:30:00+0530", 1767225600000LL },
		{ "2026-01-01T00:00:00.250Z", 1767225600250LL },
		{ "2024-02-29T12:00:00Z", 1709208000000LL },
	};
	static const char *const bad[] = { "", "x", "2026-13-01", "2026-02-30",
	    "2025-02-29", "2026-01-01T24:00", "2026-01-01T00:60", "2026-1-1",
	    "2026-01-01T00:00:00+25:00", "2026-01-01Tfoo", "12abc", "-5",
	    "2026-01-01T00:00:00.Z" };
	struct jobs_err err;
	size_t i;
	int64_t ms;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		T_OK(good[i].in, jobs_clock_parse(good[i].in, &ms, &err) == 0);
		T_INT(good[i].in, ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_OK(bad[i], jobs_clock_parse(bad[i], &ms, &err) == -1);
		T_INT("a bad time is a usage error", err.code, JOBS_EUSAGE);
	}
}

static void
durations(void)
{
	static const struct { const char *in; int64_t ms; } good[] = {
		{ "90", 90000 }, { "90s", 90000 }, { "10m", 600000 },
		{ "2h", 7200000 }, { "1d", 86400000 }, { "500ms", 500 },
		{ "1h30m", 5400000 }, { "0", 0 },
	};
	static const char *const bad[] = { "", "s", "10x", "-1s", "1.5h", "m10",
	    "99999999999999999999" };
	struct jobs_err err;
	size_t i;
	int64_t ms;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		T_OK(good[i].in, jobs_clock_parse_duration(good[i].in, &ms, &err) == 0);
		T_INT(good[i].in, ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(bad[i], jobs_clock_parse_duration(bad[i], &ms, &err) == -1);
}

static void
formats(void)
{
	char buf[64];

	jobs_clock_iso(1767225600000LL, buf, sizeof(buf));
	T_STR("ISO-8601 in UTC with Z", buf, "2026-01-01T00:00:00Z");
	jobs_clock_iso(-1, buf, sizeof(buf));
	T_STR("a negative instant rounds down", buf, "1969-12-31T23:59:59Z");
	jobs_clock_human_duration(850, buf, sizeof(buf));
	T_STR("sub-second durations in ms", buf, "850ms");
	jobs_clock_human_duration(12345, buf, sizeof(buf));
	T_STR("seconds with one decimal", buf, "12.3s");
	jobs_clock_human_duration(245000, buf, sizeof(buf));
	T_STR("minutes and seconds", buf, "4m05s");
	jobs_clock_human_duration(7800000, buf, sizeof(buf));
	T_STR("hours and minutes", buf, "2h10m");
	jobs_clock_ago(100000, 100000, buf, sizeof(buf));
	T_STR("just now", buf, "now");
	jobs_clock_ago(400000, 100000, buf, sizeof(buf));
	T_STR("minutes ago", buf, "5m ago");
	jobs_clock_ago(100000, 400000, buf, sizeof(buf));
	T_STR("a time ahead of now says so", buf, "5m ahead");
	jobs_clock_ago(86400000LL * 3, 0, buf, sizeof(buf));
	T_STR("days ago", buf, "3d ago");
}

static void
pinned(void)
{
	struct jobs_err err;
	int64_t a, b;

	T_OK("pin the clock", jobs_clock_init("2026-03-08T06:59:00Z", &err) == 0);
	T_OK("the clock says it is pinned", jobs_clock_pinned());
	a = jobs_clock_now_ms();
	T_OK("a pinned clock starts at the pin", a >= 1772953140000LL &&
	    a < 1772953140000LL + 1000);
	jobs_clock_sleep_ms(20);
	b = jobs_clock_now_ms();
	T_OK("and advances with the monotonic clock", b - a >= 20 && b - a < 2000);
	T_OK("the real clock", jobs_clock_init(NULL, &err) == 0 && !jobs_clock_pinned());
	a = jobs_clock_now_ms() - jobs_clock_real_ms();
	T_OK("an unpinned clock is the real one", a > -1000 && a < 1000);
	T_OK("a bad pin is refused", jobs_clock_init("yesterday", &err) == -1);
}

int
main(void)
{
	times();
	durations();
	formats();
	pinned();
	return t_done();
}
