/*
 * alerts.h - alerts on new feedback (jobs-alerts): each feedback row is
 * examined once, behind a watermark (job_cursors 'jobs-alerts'/'feedback',
 * the last examined id), in batches; each batch's alerts, their outbox
 * notifications and the advanced watermark commit in one transaction, so
 * a crash or an overlapping run never examines a row twice nor skips one.
 *
 * Rules (names as stored in alerts.rule and listed in disabled_rules):
 *   low_rating           rating <= low_rating: high; critical when the
 *                        rating is 1 and a critical keyword matched
 *   critical_keyword     a critical keyword in the comment: critical
 *   warning_keyword      a warning keyword in the comment: medium
 *   repeat_complaint     the customer's repeat_count-th negative feedback
 *                        within repeat_window: high
 *   high_value_customer  negative feedback from a customer whose
 *                        lifetime_value is above high_value: high
 * Negative means rating <= low_rating.  At most one alert per (feedback,
 * rule).  A new alert at or above its venue's notify_level is queued to
 * the manager (mailto:manager_email) and to the venue's notify_webhook,
 * keyed alert-<feedback id>-<rule>-mail / -hook (source jobs-alerts).
 */
#ifndef JOBS_ALERTS_H
#define JOBS_ALERTS_H

#include <stdint.h>

struct cJSON;
struct jobs_db;
struct jobs_err;
struct jobs_alerts;

enum jobs_alerts_rule {
	JOBS_RULE_LOW_RATING = 0,
	JOBS_RULE_CRITICAL_KEYWORD,
	JOBS_RULE_WARNING_KEYWORD,
	JOBS_RULE_REPEAT_COMPLAINT,
	JOBS_RULE_HIGH_VALUE_CUSTOMER,
	JOBS_RULES
};

/* "low_rating", ... for a rule; NULL out of range. */
const char *jobs_alerts_rule_name(int rule);

/*
 * The rules as the config's `alerts` section (NULL: all defaults) sets
 * them, keyword lists compiled.  Every key is checked: a bad value or an
 * unknown rule name is -1 with err (JOBS_EUSAGE); out of memory is
 * JOBS_ETEMP.  *out is freed with jobs_alerts_free().
 */
int jobs_alerts_new(struct jobs_alerts **out, const struct cJSON *section,
    struct jobs_err *err);

/* Free the rules; accepts NULL. */
void jobs_alerts_free(struct jobs_alerts *a);

/* How a scan runs. */
struct jobs_alerts_run {
	int64_t now_s;			/* alerts.detected_at, outbox created_at */
	long limit;			/* rows examined at most; -1: all */
	int batch;			/* rows a transaction; 0: the default (5000) */
	int dry;			/* count what would happen, write nothing */
	const char *spool_root;		/* for jobs_outbox_enqueue_in() */
	/* Asked between batches: non-zero stops the scan (may be NULL). */
	int (*cancelled)(void *arg);
	void *cancel_arg;
	/* Told what deserves a warning (may be NULL); msg is one line. */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

struct jobs_alerts_result {
	int64_t examined;		/* feedback rows examined */
	int64_t alerts[5];		/* new alerts by level (enum jobs_venue_level) */
	int64_t notified;		/* messages queued in the outbox */
	int64_t not_notified;		/* ...that could not be: bad address, no venue */
	int64_t bad_settings;		/* venues whose settings were malformed */
	int64_t watermark;		/* the last examined id after the run */
	int stopped;			/* cancelled between batches */
};

/*
 * Examine the feedback after the watermark in app, batch by batch, until
 * none is left, limit rows were examined, or r->cancelled says stop (then
 * -1 with err, res->stopped set, and what committed stays).  res holds
 * what committed (with r->dry: what would have).  0 or -1 with err.
 */
int jobs_alerts_scan(const struct jobs_alerts *a, struct jobs_db *app,
    const struct jobs_alerts_run *r, struct jobs_alerts_result *res,
    struct jobs_err *err);

#endif
