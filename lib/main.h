/*
 * main.h - the one entry point of every job program (DESIGN §3).
 *
 * A job's main() describes the job and calls jobs_main(), which parses the
 * common options, opens both databases, takes the lock, records the run,
 * calls the job's function, records the outcome, pings, prints what cron
 * should mail and returns the exit status.  It is the one part of lib/ that
 * writes to stdout and stderr: it is every job program's front end.
 */
#ifndef JOBS_MAIN_H
#define JOBS_MAIN_H

#include <stdint.h>

#include "opts.h"
#include "run.h"

struct jobs_err;

struct jobs_job {
	const char *name;		/* program and job name: "jobs-cleanup" */
	const char *synopsis;		/* "[options]" after the name */
	const char *summary;		/* one line for --help */
	int64_t timeout_ms;		/* default timeout; 0: the registry's */
	/*
	 * The work: 0 done, -1 failed (after jobs_run_error()), or JOBS_EUSAGE
	 * when the job's configuration is wrong (exit 2, nothing attempted).
	 */
	int (*run)(struct jobs_ctx *c, void *arg);
	const struct jobs_opt *opts;	/* the job's own options, or NULL */
	/* Handle one of the job's own options; 0 or -1 with err. */
	int (*opt)(void *arg, int val, const char *optarg, struct jobs_err *err);
	void *arg;			/* handed to run and opt */
};

/* Run the job; returns the exit status (or re-raises a stopping signal). */
int jobs_main(const struct jobs_job *job, int argc, char **argv);

#endif
