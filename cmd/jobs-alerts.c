/*
 * jobs-alerts - examine new feedback once (behind a watermark), record
 * alerts by rule and level, and queue the venue manager's notifications.
 */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "main.h"
#include "run.h"
#include "spool.h"
#include "venue.h"

enum { OPT_BATCH = 0x400 };

static const struct jobs_opt alerts_opts[] = {
	{ "batch", 0, 1, OPT_BATCH, NULL, "N",
	    "examine N rows a transaction (default 5000)" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static int batch;

static int
option(void *arg, int val, const char *v, struct jobs_err *err)
{
	char *end;
	long n;

	(void)arg;
	if (val != OPT_BATCH)
		return -1;
	n = strtol(v, &end, 10);
	if (end == v || *end || n < 1 || n > 100000)
		return jobs_err_set(err, JOBS_EUSAGE, "--batch: want 1 to 100000");
	batch = (int)n;
	return 0;
}

static int
cancelled(void *arg)
{
	return jobs_run_cancelled(arg);
}

static void
warn(void *arg, const char *msg)
{
	jobs_log(arg, JOBS_WARN, "%s", msg);
}

static int
alerts(struct jobs_ctx *c, void *arg)
{
	struct jobs_alerts *a = NULL;
	struct jobs_alerts_result res;
	struct jobs_err err = { 0, "" };
	const char *spool_cfg = NULL;
	char root[4096];
	cJSON *levels;
	int i, rc;
	struct jobs_alerts_run r = {
		.now_s = jobs_clock_now_ms() / 1000, .limit = c->opts->limit,
		.batch = batch, .dry = c->opts->dry_run, .spool_root = root,
		.cancelled = cancelled, .cancel_arg = c, .warn = warn, .warn_arg = c,
	};

	(void)arg;
	if (jobs_alerts_new(&a, jobs_config_section(c->config, "alerts"), &err) < 0 ||
	    jobs_config_string(c->config->root, "spool_dir", &spool_cfg, &err) < 0 ||
	    jobs_spool_root(spool_cfg, c->ledger->path, root, sizeof(root), &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		jobs_alerts_free(a);
		return err.code == JOBS_EUSAGE ? JOBS_EUSAGE : -1;
	}
	rc = jobs_alerts_scan(a, c->app, &r, &res, &err);
	jobs_alerts_free(a);
	c->items_ok = res.examined;
	c->items_skipped = res.not_notified;
	jobs_metric(c, c->metrics, "examined", (double)res.examined);
	levels = jobs_metric_object(c, "alerts");
	for (i = JOBS_ALERT_CRITICAL; i >= JOBS_ALERT_INFO; i--)
		jobs_metric(c, levels, jobs_venue_level_name(i),
		    (double)res.alerts[i]);
	jobs_metric(c, c->metrics, "notified", (double)res.notified);
	jobs_metric(c, c->metrics, "not_notified", (double)res.not_notified);
	jobs_metric(c, c->metrics, "bad_settings", (double)res.bad_settings);
	jobs_metric(c, c->metrics, "watermark", (double)res.watermark);
	if (c->opts->dry_run)
		jobs_metric_bool(c, c->metrics, "dry_run", 1);
	if (rc < 0) {
		jobs_run_error(c, "%s", err.msg);
		return -1;
	}
	jobs_log(c, JOBS_INFO, "%s %lld feedback rows: %lld critical, %lld high,"
	    " %lld medium alerts; %lld notifications queued",
	    c->opts->dry_run ? "would examine" : "examined", (long long)res.examined,
	    (long long)res.alerts[JOBS_ALERT_CRITICAL],
	    (long long)res.alerts[JOBS_ALERT_HIGH],
	    (long long)res.alerts[JOBS_ALERT_MEDIUM], (long long)res.notified);
	return 0;
}

int
main(int argc, char **argv)
{
	struct jobs_job job = {
		.name = "jobs-alerts",
		.synopsis = "[--batch N] [options]",
		.summary = "Examine new feedback once and raise alerts.",
		.run = alerts,
		.opts = alerts_opts,
		.opt = option,
	};

	return jobs_main(&job, argc, argv);
}
