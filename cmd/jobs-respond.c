/*
 * jobs-respond - draft replies to new feedback with the configured model
 * endpoint, per venue settings: held for approval, or approved and sent to
 * the customer after a delay through the outbox.
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "main.h"
#include "respond.h"
#include "run.h"

static void
metric(struct jobs_ctx *c, const char *name, int64_t v)
{
	jobs_metric(c, c->metrics, name, (double)v);
}

static int
respond(struct jobs_ctx *c, void *arg)
{
	struct jobs_respond_config rc;
	struct jobs_respond_result res;
	struct jobs_err err = { 0, "" };
	char summary[1024];
	size_t len;
	int i;

	(void)arg;
	if (jobs_respond_config(c->config, &rc, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return err.code == JOBS_ETEMP ? -1 : JOBS_EUSAGE;
	}
	if (jobs_respond_run(c, &rc, &res, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return -1;
	}
	c->items_ok += res.generated;
	c->items_failed += res.failed + res.venues_failed;
	if (c->opts->dry_run)
		metric(c, "would_ask", res.would_ask);
	metric(c, "asked", res.asked);
	metric(c, "requests", res.requests);
	metric(c, "generated", res.generated);
	metric(c, "pending_approval", res.pending_approval);
	metric(c, "auto_approved", res.auto_approved);
	metric(c, "queued_to_send", res.queued_to_send);
	metric(c, "no_email", res.no_email);
	metric(c, "failed", res.failed);
	metric(c, "venues_failed", res.venues_failed);
	metric(c, "deferred", res.deferred);
	metric(c, "rate_limited", res.rate_limited);
	metric(c, "reconciled_sent", res.reconciled_sent);
	metric(c, "reconciled_failed", res.reconciled_failed);
	metric(c, "reconciled_cancelled", res.reconciled_cancelled);
	metric(c, "approved_queued", res.approved_queued);
	if (res.failed == 0 && res.venues_failed == 0)
		return 0;
	/* Which items: the lines after it, logged as they failed, say why. */
	len = (size_t)snprintf(summary, sizeof(summary), "%lld item%s failed",
	    (long long)(res.failed + res.venues_failed),
	    res.failed + res.venues_failed == 1 ? "" : "s");
	for (i = 0; i < res.nfails && len < sizeof(summary); i++)
		len += (size_t)snprintf(summary + len, sizeof(summary) - len,
		    "%s %s %lld", i ? "," : ":", res.fails[i].what,
		    (long long)res.fails[i].id);
	if (res.failed + res.venues_failed > res.nfails && len < sizeof(summary))
		snprintf(summary + len, sizeof(summary) - len, ", ...");
	jobs_run_error(c, "%s", summary);
	return -1;
}

int
main(int argc, char **argv)
{
	struct jobs_job job = {
		.name = "jobs-respond",
		.synopsis = "[options]",
		.summary = "Draft replies to new feedback with the model endpoint.",
		.run = respond,
	};

	return jobs_main(&job, argc, argv);
}
