/*
 * fuzz_cron.c - libFuzzer target for lib/cron.c.
 *
 * An input is: one byte choosing the zone, the mode and the time range, 8
 * bytes of instant, then the expression text.  A '|' in the text splits off
 * a zone name to try instead (index 15), so names reach the zone checks too.
 * Beyond not crashing, the answers must agree with each other: next is a
 * minute strictly after the instant, prev one at or before it, each one's
 * answer is a fixed point of the other, and messages hold no control bytes.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Ilib lib/err.c lib/cron.c \
 *       tests/fuzz/fuzz_cron.c
 *
 * Linked with replay.c instead of libFuzzer, it runs every file named on
 * the command line (or found in a named directory) once, so a plain
 * compiler can replay the corpus in make check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_cron: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

/* Zones with every kind of transition the engine handles. */
static const char *const zones[15] = {
	NULL, "UTC", "America/New_York", "Australia/Lord_Howe",
	"Asia/Kolkata", "Europe/London", "Pacific/Apia", "Antarctica/Casey",
	"America/Sao_Paulo", "Europe/Dublin", "America/Nuuk",
	"Africa/Casablanca", "Asia/Tehran", "Pacific/Chatham", "Etc/GMT-14",
};

#define INPUT_MAX 4096
#define YEAR_SECS INT64_C(31556952)

static void
check_msg(const struct jobs_err *err)
{
	size_t i;

	CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	CHECK(err->code == JOBS_EUSAGE || err->code == JOBS_EFAIL);
	for (i = 0; err->msg[i] != '\0'; i++)
		CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
	CHECK(i > 0);
}

static void
check_times(const struct jobs_cron *c, int64_t t, const char *tz, int mode)
{
	struct jobs_err err;
	char buf[JOBS_CRON_FORMAT_MAX];
	int64_t n = 0, p = 0, x = 0;
	int rn, rp, rx;

	rn = jobs_cron_next(c, t, tz, mode, &n, &err);
	if (rn < 0) {
		check_msg(&err);
		return;
	}
	rp = jobs_cron_prev(c, t, tz, mode, &p, &err);
	CHECK(rp >= 0);
	if (jobs_cron_never(c) || c->reboot)
		CHECK(rn == 0 && rp == 0);
	if (rn == 1) {
		CHECK(n > t && n % 60 == 0 && n <= JOBS_CRON_TIME_MAX);
		CHECK(jobs_cron_prev(c, n, tz, mode, &x, &err) == 1 && x == n);
		CHECK(jobs_cron_next(c, n - 1, tz, mode, &x, &err) == 1 &&
		    x == n);
		/* in the last hours of 9999 the local year may be 10000 */
		if (n < JOBS_CRON_TIME_MAX - 26 * 3600) {
			CHECK(jobs_cron_format(n, tz, buf, sizeof(buf)) == 0);
			CHECK(strlen(buf) < sizeof(buf) && buf[4] == '-');
		}
	}
	if (rp == 1) {
		CHECK(p <= t && p % 60 == 0 && p >= JOBS_CRON_TIME_MIN);
		CHECK(p == JOBS_CRON_TIME_MIN ||
		    (jobs_cron_next(c, p - 1, tz, mode, &x, &err) == 1 &&
		    x == p));
	}
	/* nothing fires in (p, t], so the next after p is the next after t */
	if (rn == 1 && rp == 1 && n - p < 300 * YEAR_SECS) {
		rx = jobs_cron_next(c, p, tz, mode, &x, &err);
		CHECK(rx == 1 && x == n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jobs_cron c, c2;
	struct jobs_err err;
	char text[INPUT_MAX + 1], buf[JOBS_CRON_FORMAT_MAX], *bar;
	const char *tz;
	uint64_t u = 0;
	int64_t t;
	size_t i, len;
	int mode, rc, n;

	if (size < 9)
		return 0;
	for (i = 1; i < 9; i++)
		u = u << 8 | data[i];
	len = size - 9 < INPUT_MAX ? size - 9 : INPUT_MAX;
	memcpy(text, data + 9, len);
	text[len] = '\0';

	mode = data[0] >> 4 & 1;
	tz = zones[(data[0] & 0x0f) % 15];
	if ((data[0] & 0x0f) == 15 && (bar = strrchr(text, '|')) != NULL) {
		*bar = '\0';
		tz = bar + 1;
	}
	/* mostly the years where zones are interesting, sometimes any */
	if (data[0] & 0x20)
		t = JOBS_CRON_TIME_MIN + (int64_t)(u %
		    (uint64_t)(JOBS_CRON_TIME_MAX - JOBS_CRON_TIME_MIN + 1));
	else
		t = INT64_C(-2208988800) + (int64_t)(u % (uint64_t)(300 *
		    YEAR_SECS));

	rc = jobs_cron_parse(&c, text, &err);
	if (rc < 0)
		check_msg(&err);
	n = jobs_cron_parse_prefix(&c2, text, &err);
	if (n < 0)
		check_msg(&err);
	else
		CHECK((size_t)n <= strlen(text));
	if (rc == 0) {
		/* what parses alone parses as a line, to the same result */
		CHECK(n >= 0 && memcmp(&c, &c2, sizeof(c)) == 0);
		CHECK(c.minute >> 60 == 0 && c.hour >> 24 == 0 &&
		    (c.dom & 1) == 0 && (c.month & 0xe001) == 0 &&
		    (c.dow & 0x80) == 0);
		CHECK(!c.reboot || (c.minute == 0 && c.dow == 0));
		CHECK(c.reboot || (c.minute && c.hour && c.dom && c.month &&
		    c.dow));
		check_times(&c, t, tz, mode);
	} else if (n >= 0) {
		check_times(&c2, t, tz, mode);
	}

	/* a struct filled by hand with any bits at all */
	if (data[0] & 0x40 && len >= 20) {
		memcpy(&c.minute, text, 8);
		memcpy(&c.hour, text + 8, 4);
		memcpy(&c.dom, text + 12, 4);
		memcpy(&c.month, text + 16, 2);
		memcpy(&c.dow, text + 18, 1);
		c.dom_star = text[19] & 1;
		c.dow_star = text[19] >> 1 & 1;
		c.min_star = text[19] >> 2 & 1;
		c.hour_star = text[19] >> 3 & 1;
		c.reboot = 0;
		check_times(&c, t, tz, mode);
	}

	if (jobs_cron_format((int64_t)u, tz, buf, (size_t)(data[0] & 0x1f)) ==
	    0)
		CHECK(strlen(buf) < (size_t)(data[0] & 0x1f));
	jobs_cron_zone_check(tz, NULL);
	return 0;
}
