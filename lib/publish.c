#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"
#include "outbox.h"
#include "publish.h"

#define BATCH 100

struct pub {
	int64_t now_s, window_s;
	long limit;
	int dry;
	struct jobs_publish_result *res;
	int more;		/* a full batch: look again */
};

static int
event(struct jobs_db *db, int64_t post, int64_t at, const char *status,
    const char *detail, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, "INSERT INTO publish_events (post_id, at, status,"
	    " detail) VALUES (?, ?, ?, ?)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, post);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	jobs_db_bind_text(st, 4, detail);
	return jobs_db_done(db, st, err);
}

static int
set_post(struct jobs_db *db, int64_t id, const char *status, const char *error,
    int64_t published_at, int attempts, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, "UPDATE posts SET status = ?2, last_error = ?3,"
	    " published_at = ?4, attempts = max(attempts, ?5) WHERE id = ?1", &st,
	    err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	jobs_db_bind_text(st, 3, error);
	if (published_at > 0)
		sqlite3_bind_int64(st, 4, published_at);
	sqlite3_bind_int(st, 5, attempts);
	return jobs_db_done(db, st, err);
}

static void
note_failed(struct jobs_publish_result *res, int64_t id)
{
	if (res->failed < (int64_t)(sizeof(res->failed_ids) / sizeof(res->failed_ids[0])))
		res->failed_ids[res->failed] = id;
	res->failed++;
}

/* One post's outbox message: the post as JSON, keyed by its id. */
static int
queue_post(struct jobs_db *db, sqlite3_stmt *row, const struct pub *p,
    struct jobs_err *err)
{
	int64_t id = sqlite3_column_int64(row, 0), at = sqlite3_column_int64(row, 4);
	const char *url = (const char *)sqlite3_column_text(row, 5);
	cJSON *o = cJSON_CreateObject();
	sqlite3_stmt *st = NULL;
	char key[64], *body;
	int late = at < p->now_s - p->window_s, rc;

	snprintf(key, sizeof(key), "post-%lld", (long long)id);
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "channel", (const char *)sqlite3_column_text(row, 1));
	cJSON_AddStringToObject(o, "title", (const char *)sqlite3_column_text(row, 2));
	cJSON_AddStringToObject(o, "body", (const char *)sqlite3_column_text(row, 3));
	cJSON_AddNumberToObject(o, "publish_at", (double)at);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (body == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	if (url == NULL || jobs_outbox_channel(url) == NULL ||
	    strcmp(jobs_outbox_channel(url), "webhook") != 0) {
		free(body);
		note_failed(p->res, id);
		if (set_post(db, id, "failed", url ? "the channel's url is not a"
		    " webhook" : "no such channel", 0, 0, err) < 0)
			return -1;
		return event(db, id, p->now_s, "failed", url ? "bad channel url" :
		    "no such channel", err);
	}
	/* The same key on every attempt: the outbox keeps one row a post. */
	if (jobs_db_prepare(db, "INSERT INTO outbox (channel, destination, body,"
	    " idempotency_key, source, created_at) VALUES ('webhook', ?1, ?2, ?3,"
	    " 'jobs-publish', ?4) ON CONFLICT (source, idempotency_key) DO UPDATE"
	    " SET status = 'pending', attempts = 0, not_before = ?4, destination ="
	    " excluded.destination, body = excluded.body WHERE status IN ('dead',"
	    " 'cancelled')", &st, err) < 0) {
		free(body);
		return -1;
	}
	sqlite3_bind_text(st, 1, url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, body, -1, free);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, p->now_s);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to enqueue in", err);
	if (set_post(db, id, "publishing", NULL, 0, 0, err) < 0)
		return -1;
	p->res->queued++;
	if (late) {
		char why[96];

		p->res->late++;
		snprintf(why, sizeof(why), "%lld s past its time",
		    (long long)(p->now_s - at));
		if (event(db, id, p->now_s, "late", why, err) < 0)
			return -1;
	}
	return event(db, id, p->now_s, "queued", key, err);
}

static int
queue_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct pub *p = arg;
	sqlite3_stmt *st = NULL;
	int n = 0, rc, step;
	struct jobs_publish_result before = *p->res;

	p->more = 0;
	if (p->dry) {
		if (jobs_db_prepare(db, "SELECT count(*) FROM posts WHERE status ="
		    " 'scheduled' AND publish_at <= ?", &st, err) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, p->now_s + p->window_s);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW)
			p->res->queued = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return step == SQLITE_ROW ? 0 : jobs_db_fail(db, "unable to read", err);
	}
	if (jobs_db_prepare(db, "SELECT p.id, p.channel, p.title, p.body,"
	    " p.publish_at, c.url FROM posts AS p LEFT JOIN channels AS c ON"
	    " c.name = p.channel WHERE p.status = 'scheduled' AND p.publish_at"
	    " <= ?1 ORDER BY p.publish_at, p.id LIMIT ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, p->now_s + p->window_s);
	sqlite3_bind_int(st, 2, p->limit >= 0 && p->limit < BATCH ? (int)p->limit :
	    BATCH);
	/* Rows are read and written in one transaction; ids are stable. */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (queue_post(db, st, p, err) < 0) {
			sqlite3_finalize(st);
			/* a retried transaction counts again from the start */
			*p->res = before;
			return -1;
		}
	}
	rc = step == SQLITE_DONE ? 0 : jobs_db_fail(db, "unable to read", err);
	sqlite3_finalize(st);
	p->more = rc == 0 && n == BATCH;
	return rc;
}

/*
 * Publishing posts whose outbox row has moved on: one "retrying" event
 * for each attempt that failed since the last run looked (with the
 * row's last error for the latest), then, once the row has settled,
 * "published" or "failed".  posts.attempts counts the attempts seen.
 */
static int
settle_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct pub *p = arg;
	sqlite3_stmt *st = NULL;
	int step, rc = 0;

	/* It runs first; a retried transaction counts from zero again. */
	memset(p->res, 0, sizeof(*p->res));

	if (jobs_db_prepare(db, "SELECT p.id, coalesce(o.status, 'gone'), o.sent_at,"
	    " coalesce(o.last_error, CASE WHEN o.id IS NULL THEN 'its outbox row"
	    " is gone' END), coalesce(o.attempts, 0), p.attempts,"
	    " coalesce(o.max_attempts, 0) FROM posts AS p LEFT JOIN outbox AS o"
	    " ON o.source = 'jobs-publish' AND o.idempotency_key = 'post-' || p.id"
	    " WHERE p.status = 'publishing' AND (o.id IS NULL OR o.status IN"
	    " ('sent', 'dead', 'cancelled') OR (o.status = 'pending' AND"
	    " o.attempts > p.attempts) OR (o.status = 'leased' AND o.attempts - 1"
	    " > p.attempts))", &st, err) < 0)
		return -1;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *status = (const char *)sqlite3_column_text(st, 1);
		const char *error = (const char *)sqlite3_column_text(st, 3);
		int attempts = sqlite3_column_int(st, 4);
		int seen = sqlite3_column_int(st, 5), max = sqlite3_column_int(st, 6);
		int settled = strcmp(status, "pending") != 0 &&
		    strcmp(status, "leased") != 0;
		/* A leased row's last attempt is still going on. */
		int tried = strcmp(status, "leased") == 0 ? attempts - 1 : attempts;
		char why[400];
		int a;

		for (a = seen + 1; rc == 0 && a <= tried - settled; a++) {
			if (a == tried && error)
				snprintf(why, sizeof(why), "attempt %d of %d failed: %s",
				    a, max, error);
			else
				snprintf(why, sizeof(why), "attempt %d of %d failed", a,
				    max);
			p->res->retrying++;
			rc = event(db, id, p->now_s, "retrying", why, err);
		}
		if (rc < 0)
			break;
		if (!settled)
			rc = set_post(db, id, "publishing", NULL, 0, tried, err);
		else if (strcmp(status, "sent") == 0) {
			p->res->published++;
			rc = set_post(db, id, "published", NULL,
			    sqlite3_column_int64(st, 2), attempts, err);
			if (rc == 0)
				rc = event(db, id, p->now_s, "published", NULL, err);
		} else {
			note_failed(p->res, id);
			rc = set_post(db, id, "failed", error ? error : status, 0,
			    attempts, err);
			if (rc == 0)
				rc = event(db, id, p->now_s, "failed", error, err);
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int
jobs_publish_run(struct jobs_db *app, int64_t now_s, int64_t window_s,
    long limit, int dry, struct jobs_publish_result *res, struct jobs_err *err)
{
	struct pub p = { now_s, window_s, limit, dry, res, 0 };

	memset(res, 0, sizeof(*res));
	if (!dry && jobs_db_tx(app, settle_tx, &p, err) < 0)
		return -1;
	do {
		if (jobs_db_tx(app, queue_tx, &p, err) < 0)
			return -1;
		if (limit >= 0 && res->queued >= limit)
			break;
		if (limit >= 0)
			p.limit = limit - res->queued;
	} while (p.more);
	return 0;
}
