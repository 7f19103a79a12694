#include <string.h>

#include "registry.h"

const struct jobs_registry jobs_registry[] = {
	{ "jobs-alerts", "raise alerts on new feedback and notify the venue's"
	    " manager", 4 * 60 * 1000, "*/5 * * * *" },
	{ "jobs-cleanup", "retention of the ledger's runs and logs, then"
	    " checkpoint and optimize", 30 * 60 * 1000, "30 3 * * 0" },
	{ "jobs-deliver", "send the outbox's due messages: webhooks, mail, the"
	    " spool", 4 * 60 * 1000, "*/5 * * * *" },
	{ "jobs-publish", "publish the scheduled posts whose time has come",
	    4 * 60 * 1000, "*/5 * * * *" },
	{ "jobs-report", "the daily summary of each venue's previous day, by"
	    " mail to its manager", 30 * 60 * 1000, "0 6 * * *" },
	{ "jobs-respond", "draft replies to new feedback with the model endpoint",
	    14 * 60 * 1000, "*/15 * * * *" },
	{ "jobs-stats", "compute each venue's dashboard statistics",
	    9 * 60 * 1000, "*/10 * * * *" },
	{ NULL, NULL, 0, NULL },
};

const struct jobs_registry *
jobs_registry_find(const char *name)
{
	const struct jobs_registry *r;

	for (r = jobs_registry; r->name; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}
