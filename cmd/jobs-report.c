/*
 * jobs-report - the daily summary of each venue's previous day, in the
 * venue's time zone, stored in reports and mailed to its manager.
 */
#include <errno.h>
#include <stdlib.h>

#include "err.h"
#include "main.h"
#include "report.h"
#include "run.h"
#include "tz.h"

enum { OPT_DAY = 0x400, OPT_VENUE };

static const struct jobs_opt report_opts[] = {
	{ "day", 0, 1, OPT_DAY, NULL, "YYYY-MM-DD",
	    "report that local day instead of yesterday" },
	{ "venue", 0, 1, OPT_VENUE, NULL, "ID", "report this venue only" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const char *day;
static long long venue;

static int
option(void *arg, int val, const char *v, struct jobs_err *err)
{
	struct jobs_tz_day d;
	char *end;

	(void)arg;
	if (val == OPT_DAY) {
		day = v;
		return jobs_tz_day_parse(NULL, v, &d, err);
	}
	if (val == OPT_VENUE) {
		errno = 0;
		venue = strtoll(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || venue <= 0)
			return jobs_err_set(err, JOBS_EUSAGE, "--venue: want a"
			    " venue id, a positive number");
		return 0;
	}
	return -1;
}

static int
report(struct jobs_ctx *c, void *arg)
{
	struct jobs_report_result res;
	struct jobs_err err = { 0, "" };

	(void)arg;
	if (jobs_report_run(c, day, venue, &res, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return err.code == JOBS_EUSAGE ? JOBS_EUSAGE : -1;
	}
	c->items_ok = res.made;
	c->items_skipped = res.skipped;
	c->items_failed = res.failed;
	if (res.failed) {
		jobs_run_error(c, "%lld venue%s not reported (see the log)",
		    (long long)res.failed, res.failed == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct jobs_job job = {
		.name = "jobs-report",
		.synopsis = "[--day YYYY-MM-DD] [--venue ID] [options]",
		.summary = "Mail each venue's manager the summary of its previous"
		    " day.",
		.run = report,
		.opts = report_opts,
		.opt = option,
	};

	return jobs_main(&job, argc, argv);
}
