/*
 * retention.h - pruning the ledger (jobs-cleanup).
 *
 * Deletes in batches of short BEGIN IMMEDIATE transactions so that no other
 * writer waits long (RELIABILITY fact 8).
 */
#ifndef JOBS_RETENTION_H
#define JOBS_RETENTION_H

#include <stdint.h>

struct jobs_config;
struct jobs_ctx;
struct jobs_err;

struct jobs_retention {
	int64_t executions_ms;	/* finished runs: 30 days */
	int64_t failures_ms;	/* failed, timeout, abandoned: 90 days */
	int64_t logs_ms;	/* 14 days */
	int64_t skipped_ms;	/* 7 days */
	int64_t outbox_ms;	/* sent, dead and cancelled outbox rows: 30 days */
	int64_t computed_stats_ms; /* computed_stats rows but each venue's newest: 7 days */
	int64_t executions_min;	/* always keep this many finished runs a job: 50 */
	int batch;		/* rows a transaction: 500 */
};

struct jobs_retention_result {
	int64_t executions, skipped, logs;	/* rows deleted (or, dry, to delete) */
	int64_t outbox;
	int64_t computed_stats;
	int64_t pages_freed;
};

/* The defaults, then the config's "retention" section.  0 or -1 with err. */
int jobs_retention_load(struct jobs_retention *r, const struct jobs_config *config,
    struct jobs_err *err);

/*
 * Apply r to c's ledger at c's logical now; with dry set only count.
 * Stops between batches when the run is cancelled.  0 or -1 with err.
 */
int jobs_retention_apply(struct jobs_ctx *c, const struct jobs_retention *r,
    int dry, struct jobs_retention_result *res, struct jobs_err *err);

#endif
