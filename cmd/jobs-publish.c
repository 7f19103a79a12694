/*
 * jobs-publish - publish the scheduled posts whose time has come, through
 * their channel's webhook via the outbox, and record how each one went.
 */
#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "err.h"
#include "main.h"
#include "publish.h"
#include "run.h"

enum { OPT_WINDOW = 0x400 };

static const struct jobs_opt publish_opts[] = {
	{ "window", 0, 1, OPT_WINDOW, NULL, "DUR",
	    "publish up to DUR early; later than DUR is late (default 5m)" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static int64_t window_ms = 5 * 60 * 1000;

static int
option(void *arg, int val, const char *v, struct jobs_err *err)
{
	(void)arg;
	if (val == OPT_WINDOW)
		return jobs_clock_parse_duration(v, &window_ms, err);
	return -1;
}

static int
publish(struct jobs_ctx *c, void *arg)
{
	struct jobs_publish_result res;
	struct jobs_err err = { 0, "" };

	(void)arg;
	if (jobs_publish_run(c->app, jobs_clock_now_ms() / 1000, window_ms / 1000,
	    c->opts->limit, c->opts->dry_run, &res, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return -1;
	}
	c->items_ok = res.queued + res.published;
	c->items_failed = res.failed;
	jobs_metric(c, c->metrics, c->opts->dry_run ? "due" : "queued",
	    (double)res.queued);
	jobs_metric(c, c->metrics, "late", (double)res.late);
	jobs_metric(c, c->metrics, "retrying", (double)res.retrying);
	jobs_metric(c, c->metrics, "published", (double)res.published);
	jobs_metric(c, c->metrics, "failed", (double)res.failed);
	if (res.late)
		jobs_log(c, JOBS_WARN, "%lld post%s published late, past the window",
		    (long long)res.late, res.late == 1 ? "" : "s");
	for (int i = 0; i < res.failed && i < 10; i++)
		jobs_log(c, JOBS_WARN, "post %lld failed (see publish_events)",
		    (long long)res.failed_ids[i]);
	if (res.failed) {
		jobs_run_error(c, "%lld post%s failed (see publish_events)",
		    (long long)res.failed, res.failed == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct jobs_job job = {
		.name = "jobs-publish",
		.synopsis = "[--window DUR] [options]",
		.summary = "Publish the scheduled posts whose time has come.",
		.run = publish,
		.opts = publish_opts,
		.opt = option,
	};

	return jobs_main(&job, argc, argv);
}
