#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "retention.h"
#include "run.h"

#define DAY_MS (86400LL * 1000)

int
jobs_retention_load(struct jobs_retention *r, const struct jobs_config *config,
    struct jobs_err *err)
{
	const struct cJSON *s = jobs_config_section(config, "retention");

	r->executions_ms = 30 * DAY_MS;
	r->failures_ms = 90 * DAY_MS;
	r->logs_ms = 14 * DAY_MS;
	r->skipped_ms = 7 * DAY_MS;
	r->executions_min = 50;
	r->outbox_ms = 30 * DAY_MS;
	r->computed_stats_ms = 7 * DAY_MS;
	r->batch = 500;
	if (jobs_config_duration(s, "executions", &r->executions_ms, err) < 0 ||
	    jobs_config_duration(s, "failures", &r->failures_ms, err) < 0 ||
	    jobs_config_duration(s, "logs", &r->logs_ms, err) < 0 ||
	    jobs_config_duration(s, "skipped", &r->skipped_ms, err) < 0 ||
	    jobs_config_duration(s, "outbox", &r->outbox_ms, err) < 0 ||
	    jobs_config_duration(s, "computed_stats", &r->computed_stats_ms,
	    err) < 0 ||
	    jobs_config_count(s, "executions_min", &r->executions_min, err) < 0)
		return -1;
	return 0;
}

struct batch {
	const char *sql;	/* a DELETE (or SELECT count) with ?1..?5 */
	int64_t a[5];
	const char *job;
	int64_t changed;
};

static int
batch_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct batch *b = arg;
	sqlite3_stmt *st = NULL;
	int i, rc;

	if (jobs_db_prepare(db, b->sql, &st, err) < 0)
		return -1;
	/* Binding a parameter the statement lacks is a harmless SQLITE_RANGE. */
	for (i = 0; i < 5; i++)
		sqlite3_bind_int64(st, i + 1, b->a[i]);
	if (b->job)
		sqlite3_bind_text(st, 6, b->job, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	b->changed = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) :
	    sqlite3_changes(db->h);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return jobs_db_fail(db, "unable to prune", err);
	return 0;
}

/* sqlite3_exec steps the pragma to the end; one step frees one page. */
static int
vacuum_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	(void)arg;
	return jobs_db_exec(db, "PRAGMA incremental_vacuum(1000)", err);
}

/* Run b until a batch deletes nothing; add the rows to *total. */
static int
drain(struct jobs_ctx *c, struct jobs_db *db, struct batch *b, int dry,
    int64_t *total, struct jobs_err *err)
{
	do {
		if (jobs_run_cancelled(c))
			return jobs_err_set(err, JOBS_EFAIL, "stopped before the end");
		if (dry) {
			/* The same WHERE, counted: "DELETE FROM t WHERE" -> SELECT. */
			if (jobs_db_tx(db, batch_tx, b, err) < 0)
				return -1;
			*total += b->changed;
			return 0;
		}
		if (jobs_db_tx(db, batch_tx, b, err) < 0)
			return -1;
		*total += b->changed;
	} while (b->changed > 0);
	return 0;
}

/*
 * The start of the oldest among the newest `min` finished runs of job, by
 * start time (ids need not follow time: backfills pin the clock); *at is
 * INT64_MAX when min is 0 and -1 when the job has fewer runs (keep all).
 */
static int
keep_from(struct jobs_db *db, const char *job, int64_t min, int64_t *at,
    struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*at = INT64_MAX;
	if (min <= 0)
		return 0;
	if (jobs_db_prepare(db, "SELECT started_at FROM executions WHERE job = ?"
	    " AND status NOT IN ('running', 'skipped') ORDER BY started_at DESC"
	    " LIMIT 1 OFFSET ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, min - 1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*at = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*at = -1;	/* fewer than min runs: keep them all */
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read", err);
	return 0;
}

/* The ledger's free pages into *n; 0 or -1 with err. */
static int
freelist(struct jobs_db *db, int *n, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (jobs_db_prepare(db, "PRAGMA freelist_count", &st, err) < 0)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return jobs_db_fail(db, "unable to read", err);
	return 0;
}

int
jobs_retention_apply(struct jobs_ctx *c, const struct jobs_retention *r,
    int dry, struct jobs_retention_result *res, struct jobs_err *err)
{
	int64_t now = jobs_clock_now_ms(), keep;
	sqlite3_stmt *st = NULL;
	char **jobs = NULL;
	size_t njobs = 0, i;
	int rc = -1, step;
	char sql[512];
	struct batch b;

	memset(res, 0, sizeof(*res));
	/* Read the job names first: nothing held open while deleting. */
	if (jobs_db_prepare(c->ledger, "SELECT DISTINCT job FROM executions", &st,
	    err) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(st, 0);
		char **more = realloc(jobs, (njobs + 1) * sizeof(*jobs));

		if (more == NULL) {
			jobs_err_set(err, JOBS_ETEMP, "out of memory");
			goto out;
		}
		jobs = more;
		if (job == NULL || (jobs[njobs] = strdup(job)) == NULL) {
			jobs_err_set(err, JOBS_ETEMP, "out of memory");
			goto out;
		}
		njobs++;
	}
	/* An error is no end of the list: runs would be kept, "pruned". */
	if (step != SQLITE_DONE) {
		jobs_db_fail(c->ledger, "unable to read", err);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	for (i = 0; i < njobs; i++) {
		if (keep_from(c->ledger, jobs[i], r->executions_min, &keep, err) < 0)
			goto out;
		if (keep < 0)
			continue;
		snprintf(sql, sizeof(sql), dry ?
		    "SELECT count(*) FROM executions WHERE job = ?6 AND started_at < ?3 AND"
		    " status NOT IN ('running', 'skipped') AND started_at < CASE WHEN"
		    " status IN ('failed', 'timeout', 'abandoned') THEN ?2 ELSE ?1 END" :
		    "DELETE FROM executions WHERE id IN (SELECT id FROM executions"
		    " WHERE job = ?6 AND started_at < ?3 AND status NOT IN ('running',"
		    " 'skipped') AND started_at < CASE WHEN status IN ('failed',"
		    " 'timeout', 'abandoned') THEN ?2 ELSE ?1 END LIMIT ?4)");
		b = (struct batch){ sql, { now - r->executions_ms, now - r->failures_ms,
		    keep, r->batch, 0 }, jobs[i], 0 };
		if (drain(c, c->ledger, &b, dry, &res->executions, err) < 0)
			goto out;
	}
	b = (struct batch){ dry ?
	    "SELECT count(*) FROM executions WHERE status = 'skipped' AND"
	    " started_at < ?1" :
	    "DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE"
	    " status = 'skipped' AND started_at < ?1 LIMIT ?4)",
	    { now - r->skipped_ms, 0, 0, r->batch, 0 }, NULL, 0 };
	if (drain(c, c->ledger, &b, dry, &res->skipped, err) < 0)
		goto out;
	/* Old lines, and lines whose run is gone. */
	b = (struct batch){ dry ?
	    "SELECT count(*) FROM logs WHERE at < ?1 OR (execution_id IS NOT NULL"
	    " AND execution_id NOT IN (SELECT id FROM executions))" :
	    "DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE at < ?1 OR"
	    " (execution_id IS NOT NULL AND execution_id NOT IN (SELECT id FROM"
	    " executions)) LIMIT ?4)",
	    { now - r->logs_ms, 0, 0, r->batch, 0 }, NULL, 0 };
	if (drain(c, c->ledger, &b, dry, &res->logs, err) < 0)
		goto out;
	/* Finished outbox rows, in the application database. */
	b = (struct batch){ dry ?
	    "SELECT count(*) FROM outbox WHERE status IN ('sent', 'dead',"
	    " 'cancelled') AND created_at < ?1" :
	    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status IN"
	    " ('sent', 'dead', 'cancelled') AND created_at < ?1 LIMIT ?4)",
	    { (now - r->outbox_ms) / 1000, 0, 0, r->batch, 0 }, NULL, 0 };
	if (c->app && drain(c, c->app, &b, dry, &res->outbox, err) < 0)
		goto out;
	/*
	 * Old statistics (jobs-stats), but never a venue's newest row: a
	 * venue whose statistics stopped still shows its last ones.
	 */
	b = (struct batch){ dry ?
	    "SELECT count(*) FROM computed_stats AS s WHERE computed_at < ?1 AND"
	    " computed_at < (SELECT max(computed_at) FROM computed_stats WHERE"
	    " venue_id = s.venue_id)" :
	    "DELETE FROM computed_stats WHERE rowid IN (SELECT rowid FROM"
	    " computed_stats AS s WHERE computed_at < ?1 AND computed_at <"
	    " (SELECT max(computed_at) FROM computed_stats WHERE venue_id ="
	    " s.venue_id) LIMIT ?4)",
	    { (now - r->computed_stats_ms) / 1000, 0, 0, r->batch, 0 }, NULL, 0 };
	if (c->app && drain(c, c->app, &b, dry, &res->computed_stats, err) < 0)
		goto out;
	if (!dry) {
		int before = 0, after = 0;

		if (freelist(c->ledger, &before, err) < 0)
			goto out;
		/* Hand free pages back in small steps: each is a write. */
		while (before > 0 && !jobs_run_cancelled(c)) {
			if (jobs_db_tx(c->ledger, vacuum_tx, NULL, err) < 0 ||
			    freelist(c->ledger, &after, err) < 0)
				goto out;
			if (after >= before)
				break;
			res->pages_freed += before - after;
			before = after;
		}
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	for (i = 0; i < njobs; i++)
		free(jobs[i]);
	free(jobs);
	return rc;
}
