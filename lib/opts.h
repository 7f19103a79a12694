/*
 * opts.h - the common options of every job program: one table shared by
 * every main(), the help text, the man pages (a test compares them) and the
 * crontab reader.
 */
#ifndef JOBS_OPTS_H
#define JOBS_OPTS_H

#include <stddef.h>
#include <stdint.h>

struct jobs_err;

enum jobs_level {
	JOBS_DEBUG = 0,
	JOBS_INFO = 1,
	JOBS_WARN = 2,
	JOBS_ERROR = 3,
	JOBS_QUIET = 4,		/* no log line */
};

enum jobs_trigger {
	JOBS_TRIGGER_CRON = 0,
	JOBS_TRIGGER_MANUAL = 1,
	JOBS_TRIGGER_RETRY = 2,
};

/* One common option.  val is what getopt_long returns for it. */
struct jobs_opt {
	const char *name;	/* long name, without "--" */
	int shortopt;		/* 'v', or 0 */
	int has_arg;
	int val;
	const char *env;	/* the environment variable that sets it, or NULL */
	const char *argname;	/* "PATH", or NULL */
	const char *help;
};

/* The table, terminated by an entry whose name is NULL. */
extern const struct jobs_opt jobs_opts_table[];

struct jobs_opts {
	char db[4096];
	char app_db[4096];
	char config[4096];
	int config_explicit;	/* named by --config or JOBS_CONFIG */
	const char *now;	/* NULL: the real clock */
	const char *schedule, *tz;
	const char *ping;	/* secret: never recorded */
	int64_t timeout_ms;	/* -1: the job's default */
	long limit;		/* -1: no limit */
	int dry_run, force, json, help, version;
	int conflict_exit;	/* exit status for a skipped overlap */
	enum jobs_level level;	/* log lines echoed to stderr: this and up */
	int quiet;		/* -q: not even the failure summary */
	enum jobs_trigger trigger;
};

/*
 * Job-specific options: extra getopt-style entries (terminated by a NULL
 * name) whose val is handed to handle(arg, val, optarg, err).
 */
struct jobs_opt_extra {
	const struct jobs_opt *opts;
	int (*handle)(void *arg, int val, const char *optarg, struct jobs_err *err);
	void *arg;
};

/*
 * Parse argv into o: defaults, then the environment, then the options
 * (common and extra).  With stop set, stop at the first non-option (as
 * jobs-run does before NAME).  Returns the index of the first operand, or -1
 * with err (code JOBS_EUSAGE).  Resolves the default paths (DESIGN §2).
 */
int jobs_opts_parse(struct jobs_opts *o, int argc, char **argv,
    const struct jobs_opt_extra *extra, int stop, struct jobs_err *err);

/* Fill the default ledger, application database and config paths. */
int jobs_opts_paths(struct jobs_opts *o, struct jobs_err *err);

/* The help text of the common options (and extra), into buf. */
void jobs_opts_help(const struct jobs_opt_extra *extra, char *buf, size_t size);

/* A job name is [A-Za-z0-9_.-]{1,64}; 0 or -1 with err. */
int jobs_name_check(const char *name, struct jobs_err *err);

/* "cron", "manual", "retry". */
const char *jobs_trigger_name(enum jobs_trigger t);

/* "debug".."error"; and back (-1 when unknown). */
const char *jobs_level_name(enum jobs_level l);
int jobs_level_parse(const char *s);

#endif
