#include <string.h>

#include "registry.h"

const struct jobs_registry jobs_registry[] = {
	{ "jobs-cleanup", "retention of the ledger's runs and logs, then"
	    " checkpoint and optimize", 30 * 60 * 1000, "30 3 * * 0" },
	{ "jobs-deliver", "send the outbox's due messages: webhooks, mail, the"
	    " spool", 4 * 60 * 1000, "*/5 * * * *" },
	{ "jobs-publish", "publish the scheduled posts whose time has come",
	    4 * 60 * 1000, "*/5 * * * *" },
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
