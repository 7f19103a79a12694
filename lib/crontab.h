/*
 * crontab.h - reading crontabs: which lines run which jobs, on which
 * schedule, and what cron will make of each line (a linter).
 *
 * Two formats: a user crontab as `crontab -l` prints it (five time fields,
 * then the command) and a system crontab (/etc/crontab, files in /etc/cron.d: a
 * user field after the time fields).  Lines are read as cronie reads them:
 * comments, environment lines (CRON_TZ= applies to the lines after it),
 * `%` ending the command.
 */
#ifndef JOBS_CRONTAB_H
#define JOBS_CRONTAB_H

#include <stddef.h>

#include "cron.h"

struct jobs_err;

struct jobs_crontab_entry {
	char job[65];		/* the job the line runs */
	char program[32];	/* jobs-run, jobs-cleanup, ... */
	char expr[128];		/* the line's time fields or macro */
	char tz[64];		/* CRON_TZ in force, or "" */
	struct jobs_cron cron;
	char declared[128];	/* --schedule in the command, or "" */
	char declared_tz[64];	/* --tz in the command, or "" */
	char source[256];	/* file name, or "crontab -l" */
	int line;
};

enum jobs_crontab_severity {
	JOBS_CRONTAB_WARNING = 1,	/* cron runs it, but not as one may think */
	JOBS_CRONTAB_ERROR = 2,		/* cron ignores the line or the file */
};

struct jobs_crontab_diag {
	enum jobs_crontab_severity severity;
	char source[256];
	int line;		/* 0: the whole file */
	char msg[256];
};

struct jobs_crontab {
	struct jobs_crontab_entry *entries;
	int n;
	struct jobs_crontab_diag *diags;
	int ndiags;
	int lines;		/* job lines read, for jobs or not */
	int crontz;		/* the host's cron honours CRON_TZ (cronie) */
};

/*
 * Parse text (len bytes) named source into ct, appending entries and
 * diagnostics.  system: the format has a user field.  0 or -1 with err
 * (out of memory only: every problem of the text is a diagnostic).
 */
int jobs_crontab_parse(struct jobs_crontab *ct, const char *source,
    const char *text, size_t len, int system, struct jobs_err *err);

/*
 * Read the file at path (at most 1 MiB) and parse it; for a file under a
 * cron.d directory, also lint its name.  0 or -1 with err (unreadable).
 */
int jobs_crontab_read(struct jobs_crontab *ct, const char *path, int system,
    struct jobs_err *err);

/*
 * The default sources: `crontab -l` of the current user, /etc/crontab and
 * the files in /etc/cron.d.  Missing ones are skipped.  0 or -1 with err.
 */
int jobs_crontab_read_default(struct jobs_crontab *ct, struct jobs_err *err);

/* Free what ct holds (not ct itself); accepts an empty one. */
void jobs_crontab_free(struct jobs_crontab *ct);

/* 1 when the host's cron is cronie (honours CRON_TZ); JOBS_CRON_FLAVOR overrides. */
int jobs_crontab_host_crontz(void);

/* The host's time zone name (TZ, /etc/localtime, /etc/timezone) into buf. */
void jobs_crontab_system_zone(char *buf, size_t size);

#endif
