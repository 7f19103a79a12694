/*
 * report.h - the daily summary of each venue (jobs-report).
 *
 * For each venue, a day of the venue's own calendar (yesterday by
 * default) is summed up from its feedback, responses and alerts, stored
 * in reports as JSON, and mailed to the venue's manager through the
 * outbox in the same transaction.  The key (venue, day) makes it once:
 * a report already made is neither rewritten nor mailed again.
 * jobs-report(1) defines each number.
 */
#ifndef JOBS_REPORT_H
#define JOBS_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct jobs_ctx;
struct jobs_db;
struct jobs_err;
struct jobs_tz_day;
struct jobs_venue;

/* Reports shown one by one in a run's metrics; the others are counted. */
#define JOBS_REPORT_METRICS_MAX 100

/*
 * The report of venue v for the local day d, as a new JSON object the
 * caller frees with cJSON_Delete (*out): venue_id, day, timezone, start,
 * end, feedback_received, responses_sent, avg_response_time_hours,
 * critical_alerts, average_rating, satisfaction_pct and top_issues
 * {rules: [{rule, count}], keywords: [{keyword, count}]}.  0, or -1
 * with err.
 */
int jobs_report_venue(struct jobs_db *app, const struct jobs_venue *v,
    const struct jobs_tz_day *d, struct cJSON **out, struct jobs_err *err);

/*
 * The plain-text mail of a report r of venue v: subject "Daily report for
 * <name>: <day>" (the name cleaned of control characters, one line) and
 * body, written into the buffers.  0, or -1 when they are too small.
 */
int jobs_report_mail(const struct jobs_venue *v, const struct cJSON *r,
    char *subject, size_t ssize, char *body, size_t bsize);

struct jobs_report_result {
	int64_t made;		/* reports stored (dry: that would be) */
	int64_t mailed;		/* of those, mails queued */
	int64_t not_mailed;	/* made, but no manager address, or mailed before */
	int64_t skipped;	/* already made: nothing done */
	int64_t failed;		/* venues with an unknown zone, a bad address... */
};

/*
 * The job: for each venue (only venue when > 0; at most c->opts->limit),
 * the local day named day ("YYYY-MM-DD"), or, when day is NULL, the day
 * before the one the run's logical now falls in.  Writes nothing with
 * c->opts->dry_run.  A venue that cannot be reported (unknown zone, day
 * not over yet, bad address) is logged, counted failed and skipped.  Adds
 * "reports" and the counts to c->metrics.  0, or -1 with err when the
 * run could not go on.
 */
int jobs_report_run(struct jobs_ctx *c, const char *day, int64_t venue,
    struct jobs_report_result *res, struct jobs_err *err);

#endif
