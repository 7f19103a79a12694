/*
 * jobs-stats - compute each venue's dashboard statistics, in the venue's
 * own time zone, into computed_stats.
 */
#include "err.h"
#include "main.h"
#include "run.h"
#include "stats.h"

static int
stats(struct jobs_ctx *c, void *arg)
{
	struct jobs_stats_result res;
	struct jobs_err err = { 0, "" };

	(void)arg;
	if (jobs_stats_run(c, &res, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return -1;
	}
	c->items_ok = res.computed;
	c->items_failed = res.failed;
	if (res.failed) {
		jobs_run_error(c, "%lld venue%s failed: unknown time zone (see the"
		    " log)", (long long)res.failed, res.failed == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct jobs_job job = {
		.name = "jobs-stats",
		.synopsis = "[options]",
		.summary = "Compute each venue's dashboard statistics.",
		.run = stats,
	};

	return jobs_main(&job, argc, argv);
}
