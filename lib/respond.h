/*
 * respond.h - drafted replies to feedback (jobs-respond).
 *
 * A run, in order:
 *  1. Close the loop (one transaction): responses whose outbox row
 *     (source 'jobs-respond', key 'response-<id>') was sent become `sent`
 *     with its sent_at, dead ones `failed`, cancelled ones `cancelled`; and
 *     responses a person set to `approved` are queued to the customer
 *     (not_before now), or `failed` when the customer has no usable email.
 *  2. Select feedback at venues whose settings have ai_generation_enabled
 *     and auto_generate_responses, created within the look-back window,
 *     that has no response yet, oldest first.
 *  3. Ask the model for each (rate-limited, behind a circuit breaker, a
 *     few attempts with backoff) and store each reply in its own
 *     transaction: `pending_approval` when the venue requires approval,
 *     else `auto_approved`, queued to the customer's email with a delay
 *     when the venue has auto_send_enabled.
 * A reply that cannot be had this run leaves its feedback without a
 * response, so the next run asks again (while it is within the window).
 */
#ifndef JOBS_RESPOND_H
#define JOBS_RESPOND_H

#include <stdint.h>

#include "breaker.h"
#include "model.h"

struct jobs_config;
struct jobs_ctx;
struct jobs_err;

#define JOBS_RESPOND_PROMPT_MAX	(16 * 1024)

/* The respond and model sections, read and checked. */
struct jobs_respond_config {
	struct jobs_model_config model;
	int configured;			/* a model endpoint is set */
	int64_t lookback_ms;		/* 7 d */
	double rate, burst;		/* requests: "10/m" */
	struct jobs_breaker_cfg breaker;	/* 5 failures, 5 min */
	int max_attempts;		/* per item per run: 3 */
	const char *prompt;		/* the system message (points into the
					   config, or the built-in default) */
};

/*
 * Read and check both sections of c (NULL: no file) into rc.  0, or -1
 * with err (JOBS_EUSAGE: exit 2 before anything is asked).
 */
int jobs_respond_config(const struct jobs_config *c,
    struct jobs_respond_config *rc, struct jobs_err *err);

#define JOBS_RESPOND_FAILS 10

struct jobs_respond_result {
	int64_t asked;			/* feedback items the model was asked about */
	int64_t requests;		/* HTTP requests, retries included */
	int64_t generated;		/* replies stored */
	int64_t pending_approval, auto_approved;
	int64_t queued_to_send;		/* of those, queued to the customer */
	int64_t no_email;		/* auto-send wanted, no usable address */
	int64_t failed;			/* items that failed this run */
	int64_t deferred;		/* left for the next run: rate limit,
					   open breaker, time up */
	int64_t rate_limited;		/* of those, for the rate limit */
	int64_t would_ask;		/* --dry-run */
	int64_t venues_failed;		/* venues with malformed settings */
	int64_t reconciled_sent, reconciled_failed, reconciled_cancelled;
	int64_t approved_queued;	/* approved by a person, now queued */
	/* The first failures, for the summary: feedback (or venue) id, why. */
	int nfails;
	struct {
		const char *what;	/* "feedback" or "venue" */
		int64_t id;
		char why[160];
	} fails[JOBS_RESPOND_FAILS];
};

/*
 * One run over c's databases (c->app, c->ledger), config and options
 * (--limit caps the items asked, --dry-run lists them and writes nothing),
 * logging through jobs_log().  Item failures are counted in res, not
 * errors.  0, or -1 with err when the run could not go on (a database
 * error, libcurl or memory).
 */
int jobs_respond_run(struct jobs_ctx *c, const struct jobs_respond_config *rc,
    struct jobs_respond_result *res, struct jobs_err *err);

#endif
