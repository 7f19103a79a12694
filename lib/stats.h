/*
 * stats.h - each venue's dashboard statistics (jobs-stats).
 *
 * One statement a venue reads its feedback through the covering index
 * feedback_venue and its responses through responses_venue, with the
 * venue's local day, week (Monday) and month as
 * bounds; a run stores one row a venue in computed_stats, in short
 * transactions of up to 100 venues.  jobs-stats(1) defines each number.
 */
#ifndef JOBS_STATS_H
#define JOBS_STATS_H

#include <stdint.h>

struct cJSON;
struct jobs_ctx;
struct jobs_db;
struct jobs_err;
struct jobs_venue;

/* Venues shown one by one in a run's metrics; the others are counted. */
#define JOBS_STATS_METRICS_MAX 100

/*
 * The statistics of venue v at now_s (epoch s) as a new JSON object
 * (*out, which the caller frees with cJSON_Delete): feedback_today,
 * feedback_this_week, feedback_this_month, pending_responses, sent_today,
 * average_rating, response_rate, avg_response_time_hours; the last three
 * null when undefined.  0, or -1 with err: JOBS_EUSAGE when the venue's
 * time zone is unknown, else a database error or out of memory.
 */
int jobs_stats_venue(struct jobs_db *app, const struct jobs_venue *v,
    int64_t now_s, struct cJSON **out, struct jobs_err *err);

struct jobs_stats_result {
	int64_t computed;	/* venues whose statistics were computed */
	int64_t stored;		/* rows written (0 for a dry run) */
	int64_t failed;		/* venues skipped: unknown time zone */
};

/*
 * The job: every venue (at most c->opts->limit), at the run's logical
 * now; stores unless c->opts->dry_run.  A venue whose zone is unknown is
 * logged (warn), counted failed and skipped; the others go on.  Adds
 * "venues" (id -> what was stored) and the counts to c->metrics.  0, or
 * -1 with err when the run could not go on (a database error, stopped).
 */
int jobs_stats_run(struct jobs_ctx *c, struct jobs_stats_result *res,
    struct jobs_err *err);

#endif
