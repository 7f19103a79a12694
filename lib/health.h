/*
 * health.h - a job's health and statistics from its recent runs (DESIGN §5).
 */
#ifndef JOBS_HEALTH_H
#define JOBS_HEALTH_H

#include <stdint.h>

struct jobs_db;
struct jobs_err;

#define JOBS_HEALTH_WINDOW	20	/* finished runs health looks at */

enum jobs_health_state {
	JOBS_HEALTHY,
	JOBS_DEGRADED,
	JOBS_UNHEALTHY,
	JOBS_NEW,
	JOBS_PAUSED,
};

/* One finished run as health sees it. */
struct jobs_health_run {
	char status[16];
	int64_t duration_ms;
};

struct jobs_health {
	char name[65];
	char kind[16];			/* "program" or "command" */
	enum jobs_health_state state;
	int paused;
	char paused_reason[256], paused_by[128];
	int64_t paused_at;
	int finished;			/* runs in the window */
	int succeeded, failures;	/* in the window (cancelled counts as neither) */
	double success_rate;		/* -1 when no run counts */
	int consecutive_failures;
	int runs_24h;
	int64_t avg_ms, p50_ms, p95_ms;	/* -1 when none */
	int64_t last_run_ms;		/* 0: never */
	char last_status[16];
	int last_pinned;		/* the last run's clock was pinned */
	int64_t last_success_ms, last_failure_ms;
	char last_error[512];
	int64_t running_id, running_since;	/* a live run, or 0 */
};

/*
 * Classify from runs[0..n) (newest first): the state and the counts
 * (succeeded, failures, success_rate, consecutive_failures, percentiles).
 * Pure: no database.  Timeout and abandoned count as failures; cancelled
 * (an operator's or the system's stop) as neither.
 */
void jobs_health_classify(const struct jobs_health_run *runs, int n,
    struct jobs_health *h);

/* "healthy", "degraded", ... */
const char *jobs_health_name(enum jobs_health_state s);

/*
 * Mark `running` rows whose lock is free as abandoned (their holder died).
 * Does nothing on a read-only handle.  Returns rows changed, -1 with err.
 */
int jobs_health_reap(struct jobs_db *db, struct jobs_err *err);

/*
 * Health of every known job (or just `only`, when not NULL) at now_ms.
 * *out is an array of *n entries the caller frees with free().  Reads into
 * memory and ends its statements before returning.  0 or -1 with err.
 */
int jobs_health_load(struct jobs_db *db, const char *only, int64_t now_ms,
    struct jobs_health **out, int *n, struct jobs_err *err);

#endif
