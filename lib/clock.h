/*
 * clock.h - the one clock every "now" decision reads.
 *
 * A run's logical time starts at the real time, or at the instant pinned by
 * --now / JOBS_NOW, and advances with the monotonic clock, so a test or a
 * backfill can pin time and durations stay honest across clock jumps.
 */
#ifndef JOBS_CLOCK_H
#define JOBS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct jobs_err;

/*
 * Start the logical clock: spec is NULL/"" for the real clock, else a time
 * jobs_clock_parse() accepts.  0 or -1 with err.
 */
int jobs_clock_init(const char *spec, struct jobs_err *err);

/* 1 when the clock was pinned by jobs_clock_init(). */
int jobs_clock_pinned(void);

/* The logical now, epoch milliseconds. */
int64_t jobs_clock_now_ms(void);

/* The real (wall) clock and the monotonic clock, milliseconds. */
int64_t jobs_clock_real_ms(void);
int64_t jobs_clock_mono_ms(void);

void jobs_clock_sleep_ms(int ms);

/*
 * Parse a time: epoch seconds ("1767225600", optionally "@1767225600") or
 * ISO-8601 "YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|±hh[:mm]]" (no offset means
 * UTC).  Sets *ms (epoch milliseconds); 0 or -1 with err.
 */
int jobs_clock_parse(const char *s, int64_t *ms, struct jobs_err *err);

/*
 * Parse a duration: "90s", "10m", "2h", "1d", "500ms", "1h30m"; a bare
 * number is seconds.  Sets *ms; 0 or -1 with err.
 */
int jobs_clock_parse_duration(const char *s, int64_t *ms, struct jobs_err *err);

/* Format epoch ms as ISO-8601 UTC "2026-11-30T02:00:00Z" into buf. */
void jobs_clock_iso(int64_t ms, char *buf, size_t size);

/* Format a duration in ms compactly ("850ms", "12.3s", "4m05s", "2h10m"). */
void jobs_clock_human_duration(int64_t ms, char *buf, size_t size);

/* Format "how long ago" compactly ("now", "42s ago", "5m ago", "3d ago"). */
void jobs_clock_ago(int64_t now_ms, int64_t then_ms, char *buf, size_t size);

#endif
