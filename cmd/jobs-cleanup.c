/*
 * jobs-cleanup - retention of the ledger: old runs and logs go, failures
 * stay longer, then the WAL is checkpointed and the planner's statistics
 * refreshed.
 */

#include "db.h"
#include "err.h"
#include "main.h"
#include "retention.h"
#include "run.h"

static int
cleanup(struct jobs_ctx *c, void *arg)
{
	struct jobs_retention r;
	struct jobs_retention_result res;
	struct jobs_err err = { 0, "" };
	int busy = 0, log = 0, done = 0;

	(void)arg;
	if (jobs_retention_load(&r, c->config, &err) < 0 ||
	    jobs_retention_apply(c, &r, c->opts->dry_run, &res, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return -1;
	}
	c->items_ok = res.executions + res.skipped + res.logs + res.outbox +
	    res.computed_stats;
	jobs_metric(c, c->metrics, "executions_deleted", (double)res.executions);
	jobs_metric(c, c->metrics, "skipped_deleted", (double)res.skipped);
	jobs_metric(c, c->metrics, "logs_deleted", (double)res.logs);
	jobs_metric(c, c->metrics, "outbox_deleted", (double)res.outbox);
	jobs_metric(c, c->metrics, "computed_stats_deleted",
	    (double)res.computed_stats);
	jobs_metric(c, c->metrics, "pages_freed", (double)res.pages_freed);
	jobs_metric_bool(c, c->metrics, "dry_run", c->opts->dry_run);
	jobs_log(c, JOBS_INFO, "%s %lld runs, %lld skipped runs, %lld log lines",
	    c->opts->dry_run ? "would delete" : "deleted",
	    (long long)res.executions, (long long)res.skipped, (long long)res.logs);
	if (c->opts->dry_run)
		return 0;
	/* A busy checkpoint is not a failure: the next one finishes it. */
	if (sqlite3_wal_checkpoint_v2(c->ledger->h, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    &log, &done) != SQLITE_OK) {
		busy = 1;
		jobs_log(c, JOBS_INFO, "checkpoint incomplete: %s",
		    sqlite3_errmsg(c->ledger->h));
	}
	jobs_metric_bool(c, c->metrics, "checkpoint_complete", !busy);
	if (jobs_db_exec(c->ledger, "PRAGMA optimize", &err) < 0 ||
	    jobs_db_exec(c->app, "PRAGMA optimize", &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct jobs_job job = {
		.name = "jobs-cleanup",
		.synopsis = "[options]",
		.summary = "Delete old runs and logs from the ledger, then checkpoint"
		    " and optimize.",
		.run = cleanup,
	};

	return jobs_main(&job, argc, argv);
}
