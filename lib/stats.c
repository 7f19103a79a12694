#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "db.h"
#include "err.h"
#include "run.h"
#include "stats.h"
#include "tz.h"
#include "venue.h"

#define BATCH 100

/*
 * One statement, so one snapshot: the feedback counts come from the
 * covering index feedback_venue (venue_id, created_at, rating), the
 * responses from the covering index responses_venue (venue_id, status,
 * sent_at, feedback_id), each sent one joined to its feedback by id.
 * Nothing scans a table.
 */
static const char stats_sql[] =
    "WITH counts AS (SELECT count(*) AS n, coalesce(sum(created_at >= ?2), 0)"
    " AS today, coalesce(sum(created_at >= ?3), 0) AS week,"
    " coalesce(sum(created_at >= ?4), 0) AS month, avg(rating) AS rating"
    " FROM feedback WHERE venue_id = ?1 AND created_at <= ?5),"
    " answered AS (SELECT count(*) AS n, avg(first - created) AS wait FROM"
    " (SELECT min(r.sent_at) AS first, f.created_at AS created FROM"
    " responses AS r JOIN feedback AS f ON f.id = r.feedback_id WHERE"
    " r.venue_id = ?1 AND r.status = 'sent' AND r.sent_at <= ?5 AND"
    " f.venue_id = ?1 AND f.created_at <= ?5 GROUP BY r.feedback_id))"
    " SELECT counts.today, counts.week, counts.month,"
    " (SELECT count(*) FROM responses WHERE venue_id = ?1 AND status IN"
    " ('generated', 'pending_approval', 'approved', 'auto_approved')),"
    " (SELECT count(*) FROM responses WHERE venue_id = ?1 AND status ="
    " 'sent' AND sent_at >= ?2 AND sent_at <= ?5),"
    " round(counts.rating, 2),"
    " CASE WHEN counts.n > 0 THEN round(1.0 * answered.n / counts.n, 4) END,"
    " round(answered.wait / 3600.0, 2)"
    " FROM counts, answered";

static const char *const stats_names[] = { "feedback_today",
    "feedback_this_week", "feedback_this_month", "pending_responses",
    "sent_today", "average_rating", "response_rate",
    "avg_response_time_hours" };

int
jobs_stats_venue(struct jobs_db *app, const struct jobs_venue *v,
    int64_t now_s, cJSON **out, struct jobs_err *err)
{
	struct jobs_tz_periods p;
	sqlite3_stmt *st = NULL;
	cJSON *o = NULL;
	int rc = -1;

	*out = NULL;
	if (jobs_tz_periods(v->timezone, now_s, &p, err) < 0)
		return -1;
	if (jobs_db_prepare(app, stats_sql, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, v->id);
	sqlite3_bind_int64(st, 2, p.day);
	sqlite3_bind_int64(st, 3, p.week);
	sqlite3_bind_int64(st, 4, p.month);
	sqlite3_bind_int64(st, 5, now_s);
	if (sqlite3_step(st) != SQLITE_ROW) {
		jobs_db_fail(app, "unable to read statistics from", err);
		goto out;
	}
	if ((o = cJSON_CreateObject()) == NULL)
		goto oom;
	if (jobs_venue_numbers(o, st, stats_names, (int)(sizeof(stats_names) /
	    sizeof(stats_names[0]))) < 0)
		goto oom;
	*out = o;
	o = NULL;
	rc = 0;
	goto out;
oom:
	jobs_err_set(err, JOBS_ETEMP, "out of memory");
out:
	cJSON_Delete(o);
	sqlite3_finalize(st);
	return rc;
}

struct row {
	int64_t venue;
	char *json;
};

struct batch {
	int64_t now_s;
	struct row *rows;
	size_t n;
};

/* A rerun at the same second replaces its row: one row an instant. */
static int
store_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct batch *b = arg;
	sqlite3_stmt *st = NULL;
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (jobs_db_prepare(db, "INSERT INTO computed_stats (venue_id,"
		    " computed_at, stats) VALUES (?, ?, ?) ON CONFLICT (venue_id,"
		    " computed_at) DO UPDATE SET stats = excluded.stats", &st,
		    err) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, b->rows[i].venue);
		sqlite3_bind_int64(st, 2, b->now_s);
		sqlite3_bind_text(st, 3, b->rows[i].json, -1, SQLITE_STATIC);
		if (jobs_db_done(db, st, err) < 0)
			return -1;
	}
	return 0;
}

static void
rows_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->rows[i].json);
	b->n = 0;
}

/* Store the batch's rows, if any, and empty it. */
static int
flush(struct jobs_ctx *c, struct batch *b, struct jobs_stats_result *res,
    struct jobs_err *err)
{
	if (b->n == 0)
		return 0;
	if (jobs_db_tx(c->app, store_tx, b, err) < 0)
		return -1;
	res->stored += (int64_t)b->n;
	rows_clear(b);
	return 0;
}

int
jobs_stats_run(struct jobs_ctx *c, struct jobs_stats_result *res,
    struct jobs_err *err)
{
	struct jobs_venue *v = NULL;
	struct batch b = { jobs_clock_now_ms() / 1000, NULL, 0 };
	struct jobs_err verr;
	cJSON *venues = NULL, *o = NULL;
	int64_t omitted = 0;
	size_t n = 0, i;
	int rc = -1, dry = c->opts->dry_run;

	memset(res, 0, sizeof(*res));
	if (jobs_venue_list(c->app, 0, c->opts->limit, &v, &n, err) < 0)
		return -1;
	if ((venues = cJSON_AddObjectToObject(c->metrics, "venues")) == NULL ||
	    (n > 0 && (b.rows = calloc(n < BATCH ? n : BATCH,
	    sizeof(*b.rows))) == NULL))
		goto oom;
	for (i = 0; i < n; i++) {
		if (jobs_run_cancelled(c)) {
			jobs_err_set(err, JOBS_EFAIL, "stopped after %zu of %zu"
			    " venues", i, n);
			goto out;
		}
		if (jobs_stats_venue(c->app, &v[i], b.now_s, &o, &verr) < 0) {
			if (verr.code != JOBS_EUSAGE) {
				*err = verr;
				goto out;
			}
			/* One venue's bad zone: never guess it, go on. */
			jobs_log(c, JOBS_WARN, "venue %lld: %s", (long long)v[i].id,
			    verr.msg);
			res->failed++;
			continue;
		}
		res->computed++;
		if (!dry) {
			b.rows[b.n].venue = v[i].id;
			if ((b.rows[b.n].json = cJSON_PrintUnformatted(o)) == NULL)
				goto oom;
			b.n++;
		}
		rc = jobs_venue_metric(venues, v[i].id, o, JOBS_STATS_METRICS_MAX,
		    &omitted);
		o = NULL;
		if (rc < 0)
			goto oom;
		rc = -1;
		if (b.n == BATCH && flush(c, &b, res, err) < 0)
			goto out;
	}
	if (flush(c, &b, res, err) < 0)
		goto out;
	if (omitted > 0)
		jobs_metric(c, c->metrics, "venues_omitted", (double)omitted);
	jobs_metric(c, c->metrics, "computed", (double)res->computed);
	jobs_metric(c, c->metrics, "stored", (double)res->stored);
	jobs_metric(c, c->metrics, "failed", (double)res->failed);
	rc = 0;
	goto out;
oom:
	jobs_err_set(err, JOBS_ETEMP, "out of memory");
out:
	cJSON_Delete(o);
	rows_clear(&b);
	free(b.rows);
	jobs_venue_free(v, n);
	return rc;
}
