/*
 * publish.h - scheduled posts (jobs-publish): a due post moves scheduled →
 * publishing in the same transaction that queues its webhook in the
 * outbox (key post-<id>, the same on every attempt, so a receiver can drop
 * a repeat); later runs settle publishing posts from their outbox row:
 * sent → published, dead → failed.  One publish event per step, and one
 * per delivery attempt that failed and will be retried.
 */
#ifndef JOBS_PUBLISH_H
#define JOBS_PUBLISH_H

#include <stdint.h>

struct jobs_db;
struct jobs_err;

struct jobs_publish_result {
	int64_t queued;		/* posts handed to the outbox this run */
	int64_t late;		/* of those, past the window: published late */
	int64_t retrying;	/* attempts that failed and will be retried */
	int64_t published;	/* settled as published */
	int64_t failed;		/* settled as failed (or no channel) */
	int64_t failed_ids[10];	/* the first of them, to name on stderr */
};

/*
 * Queue the posts due at now_s (publish_at <= now + window_s), at most
 * limit (-1: all), then settle the publishing ones.  dry: count only.
 * 0 or -1 with err.
 */
int jobs_publish_run(struct jobs_db *app, int64_t now_s, int64_t window_s,
    long limit, int dry, struct jobs_publish_result *res, struct jobs_err *err);

#endif
