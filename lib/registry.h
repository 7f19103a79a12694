/*
 * registry.h - the one list of the toolkit's job programs: name, summary,
 * default timeout and crontab default.  jobs-status, the man pages, the
 * crontab and a test all agree with it.
 */
#ifndef JOBS_REGISTRY_H
#define JOBS_REGISTRY_H

#include <stdint.h>

struct jobs_registry {
	const char *name;	/* program and job name */
	const char *summary;
	int64_t timeout_ms;
	const char *schedule;	/* crontab default */
};

/* The entries, terminated by one whose name is NULL. */
extern const struct jobs_registry jobs_registry[];

/* The entry for name, or NULL. */
const struct jobs_registry *jobs_registry_find(const char *name);

#endif
