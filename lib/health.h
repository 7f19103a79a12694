/*
 * health.h - a job's health and statistics from its recent runs (DESIGN §5).
 */
#ifndef JOBS_HEALTH_H
#define JOBS_HEALTH_H

#include <stdint.h>

struct jobs_config;
struct jobs_crontab;
struct jobs_db;
struct jobs_err;

#define JOBS_HEALTH_WINDOW	20	/* finished runs health looks at */

enum jobs_health_state {
	JOBS_HEALTHY,
	JOBS_DEGRADED,
	JOBS_UNHEALTHY,
	JOBS_NEW,
	JOBS_PAUSED,
	JOBS_LATE,		/* an expected run did not happen */
	JOBS_STUCK,		/* running past its timeout */
	JOBS_UNSCHEDULED,	/* its schedules are no longer declared or found */
};

#define JOBS_FAILURE_STREAK	3	/* consecutive failures that are flagged */

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
	int64_t running_timeout_ms;
	char schedule[256];		/* current schedules, "; "-separated */
	int scheduled;			/* has a current schedule */
	int64_t next_s;			/* next expected run, epoch s; 0: none */
	int64_t missed_s;		/* the slot it is late for; 0: none */
	char flags[512];		/* anomalies worth a look, "; "-separated */
};

/* What health reads besides the ledger. */
struct jobs_health_opts {
	int64_t now_ms;
	const struct jobs_crontab *found;	/* crontab lines found; may be NULL */
	const struct jobs_config *config;	/* per-job grace; may be NULL */
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
 * Health of every known job (or just `only`, when not NULL) at o->now_ms,
 * schedules included: late, stuck, unscheduled and the next expected run.
 * *out is an array of *n entries the caller frees with free().  Reads into
 * memory and ends its statements before returning.  0 or -1 with err.
 */
int jobs_health_load(struct jobs_db *db, const char *only,
    const struct jobs_health_opts *o, struct jobs_health **out, int *n,
    struct jobs_err *err);

/* The grace override for job from the config (-1: none). */
int64_t jobs_health_grace(const struct jobs_config *config, const char *job);

#endif
