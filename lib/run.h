/*
 * run.h - the run lifecycle (DESIGN §3): lock, pause check, the execution
 * row with its provenance, logging, cancellation, the finished row.
 *
 * jobs_main() (main.h) strings these together for every job program;
 * jobs-run uses them directly because it must fail open.
 */
#ifndef JOBS_RUN_H
#define JOBS_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "opts.h"

struct cJSON;
struct jobs_config;
struct jobs_db;
struct jobs_err;

#define JOBS_LOG_MAX	1000	/* log rows kept per run; then one "truncated" row */
#define JOBS_TAIL_LINES	10	/* warn/error lines shown when a run fails */

/* What a run records of a stream: the first 8 KiB and the last 32 KiB. */
#define JOBS_CAPTURE_HEAD	8192
#define JOBS_CAPTURE_TAIL	32768

struct jobs_capture {
	char head[JOBS_CAPTURE_HEAD];
	size_t headlen;
	char tail[JOBS_CAPTURE_TAIL];	/* a ring of the bytes after head */
	size_t tailpos, taillen;
	uint64_t total;
};

/* Keep n bytes of a stream. */
void jobs_capture_add(struct jobs_capture *cap, const char *buf, size_t n);

/*
 * The kept tail in order, as a new string the caller frees (NULL when out of
 * memory); *omitted is how many bytes fell between head and tail.
 */
char *jobs_capture_tail(const struct jobs_capture *cap, uint64_t *omitted);

/*
 * The whole kept text: head, a "[... N bytes omitted ...]" line when bytes
 * fell between, and tail; a new string the caller frees (NULL when out of
 * memory).
 */
char *jobs_capture_text(const struct jobs_capture *cap);

struct jobs_ctx {
	const char *job;
	const struct jobs_opts *opts;
	const struct jobs_config *config;
	struct jobs_db *ledger;		/* NULL when the run is not recorded */
	struct jobs_db *app;		/* job programs; NULL for jobs-run */
	int lock_fd;
	int64_t id;			/* execution id; 0 when not recorded */
	int64_t started_ms;		/* logical clock */
	int64_t mono_start;
	int64_t timeout_ms;		/* effective; 0: none */
	int64_t items_ok, items_failed, items_skipped;
	struct cJSON *metrics;		/* owned; the job adds what it measured */
	int metrics_lost;		/* a metric could not be added (memory) */
	char error[1024];		/* the run's error summary */
	int nlogs;
	char tail[JOBS_TAIL_LINES][256];	/* last warn/error lines */
	int ntail;
	int ping_pid;			/* the /start ping still in flight */
	struct jobs_capture *out, *err;	/* jobs-run: the command's streams */
};

enum jobs_start {
	JOBS_START_RUN = 0,
	JOBS_START_OVERLAP = 1,
	JOBS_START_PAUSED = 2,
};

/* The signal that asked the run to stop (0: none).  Set by handlers. */
extern volatile sig_atomic_t jobs_run_signal;

/*
 * Initialise c for job with opts and config (both outliving c); the job's
 * timeout is opts->timeout_ms, else config jobs.<job>.timeout, else
 * default_timeout_ms.
 */
void jobs_run_init(struct jobs_ctx *c, const char *job,
    const struct jobs_opts *opts, const struct jobs_config *config,
    int64_t default_timeout_ms);

/*
 * Take the job's lock and record the start.  kind is "program" or
 * "command"; command (JSON argv or NULL) is what `jobs-status trigger`
 * re-runs; argc/argv is the invocation, recorded with secrets redacted.
 * Returns JOBS_START_RUN (lock held, row `running`), JOBS_START_OVERLAP or
 * JOBS_START_PAUSED (row `skipped` recorded, nothing to do), or -1 with err.
 * With c->ledger NULL only the lock is taken.
 */
int jobs_run_start(struct jobs_ctx *c, const char *kind, const char *command,
    int argc, char **argv, struct jobs_err *err);

/*
 * Turn SIGTERM, SIGINT and SIGHUP into jobs_run_signal (without SA_RESTART,
 * so blocking calls return and the run can stop cleanly).
 */
void jobs_run_catch_signals(void);

/*
 * Mark job's `running` rows with ids up to max_id abandoned (reason
 * "died") at at_ms; the caller knows their holder is gone (its lock is
 * free) and runs this inside a transaction.  Returns rows changed, -1.
 */
int jobs_run_abandon(struct jobs_db *db, const char *job, int64_t max_id,
    int64_t at_ms, struct jobs_err *err);

/* 1 when the run should stop: a signal arrived or its timeout passed. */
int jobs_run_cancelled(const struct jobs_ctx *c);

/* Milliseconds left before the timeout (INT64_MAX when none). */
int64_t jobs_run_remaining_ms(const struct jobs_ctx *c);

/*
 * Record the end: status is "succeeded", "failed", "timeout" or
 * "cancelled"; exit_code what the program will return.  The row is only
 * updated while it is still `running`.  0 or -1 with err; -1 (JOBS_ETEMP)
 * also when the row was recorded but, for want of memory, with
 * "[not recorded: out of memory]" in place of its error or output (or a
 * JSON object saying so in place of its metrics), never NULL.
 */
int jobs_run_finish(struct jobs_ctx *c, const char *status, int exit_code,
    struct jobs_err *err);

/* Release the lock and free what c owns (not the databases). */
void jobs_run_release(struct jobs_ctx *c);

/*
 * Set metric name to v in obj: c->metrics, or an object made by
 * jobs_metric_object().  When memory runs out (or obj is NULL, an object
 * that could not be made) the run is marked: jobs_main() then fails it
 * ("out of memory") rather than record it with a metric missing.
 */
void jobs_metric(struct jobs_ctx *c, struct cJSON *obj, const char *name,
    double v);
void jobs_metric_bool(struct jobs_ctx *c, struct cJSON *obj, const char *name,
    int v);

/* A new object at name in c->metrics; NULL (the run marked) without memory. */
struct cJSON *jobs_metric_object(struct jobs_ctx *c, const char *name);

/*
 * Log a line for the run: into the ledger (capped at JOBS_LOG_MAX rows), to
 * stderr when level reaches opts->level, and warn/error lines into the tail
 * shown on failure.  Secrets are redacted and control characters removed.
 */
void jobs_log(struct jobs_ctx *c, enum jobs_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set the run's error summary (also logged at error level). */
void jobs_run_error(struct jobs_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The invocation as a JSON array with secrets redacted (caller frees). */
char *jobs_run_argv_json(int argc, char **argv);

/*
 * Pings (healthchecks.io convention): what is "start", "success" or "fail";
 * body (may be NULL) is sent with success and fail.  Runs the jobs-ping
 * helper so that programs that do not link libcurl need not; the URL goes
 * through its environment, never argv.  "start" does not wait; the others
 * wait for the helper (bounded by its own timeouts).  A failed ping is
 * logged, never fatal.
 */
void jobs_run_ping(struct jobs_ctx *c, const char *what, const char *body);

/*
 * The run summary as one JSON object (id, job, status, exit_code,
 * started_at, duration_ms, items_*, metrics, error, clock_pinned), for
 * --json.  The caller frees it (NULL when out of memory).
 */
char *jobs_run_summary(const struct jobs_ctx *c, const char *status,
    int exit_code);

#endif
