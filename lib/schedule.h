/*
 * schedule.h - what a job's schedules say it should have done: the
 * schedules it declared (--schedule) and those found in crontabs, which of
 * them are still current, the slot it missed (lateness) and why each recent
 * slot was missed (DESIGN §5).
 */
#ifndef JOBS_SCHEDULE_H
#define JOBS_SCHEDULE_H

#include <stdint.h>

#include "cron.h"

struct jobs_config;
struct jobs_crontab;
struct jobs_db;
struct jobs_err;

struct jobs_schedule {
	char expr[128];
	char tz[64];		/* as declared or found; "" for the system zone */
	char source[16];	/* "declared" or "crontab" */
	int64_t first_seen, last_seen;	/* epoch ms */
	int current;		/* still declared or found */
	struct jobs_cron cron;
	char zone[64];		/* the zone fire times are computed in */
	int mode;		/* JOBS_CRON_SYSTEM or JOBS_CRON_CRONTZ */
};

/* A slot with no run, and why. */
struct jobs_missed {
	int64_t slot;		/* epoch s */
	char reason[32];	/* skipped:paused, skipped:overlap, never-invoked */
};

/*
 * Record the schedules ct found (source "crontab", first and last seen at
 * now_ms) and the jobs they run.  0 or -1 with err.  Read-only handles are
 * left alone (returns 0).
 */
int jobs_schedule_record(struct jobs_db *db, const struct jobs_crontab *ct,
    int64_t now_ms, struct jobs_err *err);

/*
 * The known schedules of job into *out (*n of them; the caller frees *out),
 * with `current` set: a declared schedule stops being current when a later
 * declaration of another schedule began after its last one, or a cron run
 * declared none since; a crontab schedule is current when found (may be
 * NULL: none) has a line for it.  0 or -1 with err.
 */
int jobs_schedule_load(struct jobs_db *db, const char *job,
    const struct jobs_crontab *found, struct jobs_schedule **out, int *n,
    struct jobs_err *err);

/*
 * The grace after a slot: 10 % of the gap to the slot before it, at least
 * 1 minute, at most 1 hour; override_ms >= 0 replaces it.
 */
int64_t jobs_schedule_grace(const struct jobs_schedule *s, int64_t slot,
    int64_t override_ms);

/*
 * Is job late under s at now (epoch s)?  Returns 1 and sets *missed to the
 * latest slot at or before now - grace with no execution started at or
 * after it (slots before the schedule was first seen do not count), 0 when
 * not late, -1 with err.
 */
int jobs_schedule_late(struct jobs_db *db, const char *job,
    const struct jobs_schedule *s, int64_t now, int64_t grace_override_ms,
    int64_t *missed, struct jobs_err *err);

/* The next fire time after now under s: 1 and *next, 0 when none, -1. */
int jobs_schedule_next(const struct jobs_schedule *s, int64_t now, int64_t *next,
    struct jobs_err *err);

/*
 * The slots missed under s among its last `max` slots before now - grace
 * (not before it was first seen), newest first, with reasons.  *out holds
 * *n entries; the caller frees it.  0 or -1 with err.
 */
int jobs_schedule_missed(struct jobs_db *db, const char *job,
    const struct jobs_schedule *s, int64_t now, int64_t grace_override_ms,
    int max, struct jobs_missed **out, int *n, struct jobs_err *err);

#endif
