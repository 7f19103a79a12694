#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "cron.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "main.h"
#include "registry.h"
#include "run.h"
#include "text.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

#define EXIT_TIMEOUT 124

/* SQLite calls this every few thousand VM steps: stop a long statement. */
static int
progress(void *arg)
{
	return jobs_run_cancelled(arg);
}

static int
usage_error(const char *prog, const struct jobs_err *err)
{
	fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", prog,
	    err->msg, prog);
	return JOBS_EUSAGE;
}

/* Check --schedule/--tz before anything is recorded. */
static int
check_schedule(const struct jobs_opts *o, struct jobs_err *err)
{
	struct jobs_cron cron;

	if (o->schedule == NULL) {
		if (o->tz)
			return jobs_err_set(err, JOBS_EUSAGE, "--tz goes with --schedule");
		return 0;
	}
	if (jobs_cron_parse(&cron, o->schedule, err) < 0) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		return jobs_err_set(err, JOBS_EUSAGE, "bad --schedule '%.64s': %s",
		    o->schedule, why);
	}
	if (o->tz && jobs_cron_zone_check(o->tz, err) < 0)
		return -1;
	return 0;
}

static void
print_failure(const struct jobs_ctx *c, const char *status, int64_t ms)
{
	char took[32], error[sizeof(c->error)];
	int i;

	if (c->opts->quiet)
		return;
	jobs_clock_human_duration(ms, took, sizeof(took));
	jobs_text_clean(c->error, strlen(c->error), error, sizeof(error), 0);
	if (strcmp(status, "timeout") == 0)
		fprintf(stderr, "%s: run %lld timed out after %s\n", c->job,
		    (long long)c->id, took);
	else
		fprintf(stderr, "%s: run %lld %s after %s%s%s\n", c->job,
		    (long long)c->id, status, took, error[0] ? ": " : "", error);
	/* The lines already went to stderr when the level let them. */
	if (c->opts->level <= JOBS_WARN)
		return;
	for (i = 0; i < c->ntail; i++)
		if (strcmp(c->tail[i], c->error) != 0)
			fprintf(stderr, "  %s\n", c->tail[i]);
}

/* --json: the summary on stdout; without it, a success becomes 75. */
static int
print_summary(const struct jobs_ctx *c, const char *status, int code)
{
	char *summary = jobs_run_summary(c, status, code);

	if (summary == NULL) {
		fprintf(stderr, "%s: unable to print the summary: out of memory\n",
		    c->job);
		return code == 0 ? JOBS_ETEMP : code;
	}
	puts(summary);
	free(summary);
	return code;
}

int
jobs_main(const struct jobs_job *job, int argc, char **argv)
{
	struct jobs_opt_extra extra = { job->opts, job->opt, job->arg };
	struct jobs_config config = { NULL, "" };
	struct jobs_opts opts;
	struct jobs_err err = { 0, "" };
	struct jobs_ctx c;
	struct jobs_db *ledger = NULL, *app = NULL;
	const struct jobs_registry *reg;
	const char *status = "failed";
	int rc, code = JOBS_EFAIL, started;
	int64_t ms;

	/* Before any thread: cJSON's hooks are global (lib/json.h). */
	jobs_json_init();
	if (jobs_opts_parse(&opts, argc, argv, job->opts ? &extra : NULL, 0, &err) < 0)
		return usage_error(job->name, &err);
	if (opts.help) {
		char help[8192];

		jobs_opts_help(job->opts ? &extra : NULL, help, sizeof(help));
		printf("usage: %s %s\n%s\n\n%s", job->name, job->synopsis,
		    job->summary, help);
		return 0;
	}
	if (opts.version) {
		printf("%s %s\n", job->name, JOBS_VERSION);
		return 0;
	}
	if (optind < argc) {
		jobs_err_set(&err, JOBS_EUSAGE, "unexpected argument '%.80s'",
		    argv[optind]);
		return usage_error(job->name, &err);
	}
	if (jobs_clock_init(opts.now, &err) < 0 || check_schedule(&opts, &err) < 0)
		return usage_error(job->name, &err);
	jobs_secret_add(opts.ping);
	if (jobs_config_load(&config, opts.config, opts.config_explicit, &err) < 0) {
		fprintf(stderr, "%s: %s\n", job->name, err.msg);
		return err.code == JOBS_ETEMP ? JOBS_ETEMP : JOBS_EUSAGE;
	}
	if (jobs_db_open(&ledger, opts.db, JOBS_DB_LEDGER, JOBS_DB_CREATE |
	    JOBS_DB_MIGRATE, &err) < 0) {
		fprintf(stderr, "%s: unable to open ledger: %s\n", job->name, err.msg);
		jobs_config_free(&config);
		return err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP;
	}
	/* A job's default timeout is the registry's unless its main says. */
	reg = jobs_registry_find(job->name);
	jobs_run_init(&c, job->name, &opts, &config, job->timeout_ms ?
	    job->timeout_ms : reg ? reg->timeout_ms : 0);
	c.ledger = ledger;
	if (c.metrics == NULL) {
		/* Nowhere for the job to put what it measured. */
		fprintf(stderr, "%s: unable to record the run: out of memory\n",
		    job->name);
		code = JOBS_ETEMP;
		goto out;
	}
	jobs_run_catch_signals();
	started = jobs_run_start(&c, "program", NULL, argc, argv, &err);
	if (started < 0) {
		fprintf(stderr, "%s: unable to record the run: %s\n", job->name, err.msg);
		code = err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP;
		goto out;
	}
	if (started != JOBS_START_RUN) {
		if (opts.level <= JOBS_INFO)
			fprintf(stderr, "%s: skipped: %s\n", job->name,
			    started == JOBS_START_OVERLAP ? "another run holds the lock" :
			    "the job is paused");
		code = started == JOBS_START_OVERLAP ? opts.conflict_exit : 0;
		status = "skipped";
		if (opts.json)
			code = print_summary(&c, status, code);
		goto out;
	}
	jobs_run_ping(&c, "start", NULL);
	if (jobs_db_open(&app, opts.app_db, JOBS_DB_APP, JOBS_DB_CREATE |
	    JOBS_DB_MIGRATE, &err) < 0) {
		jobs_run_error(&c, "unable to open application database: %s", err.msg);
		code = err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP;
	} else {
		c.app = app;
		sqlite3_progress_handler(ledger->h, 10000, progress, &c);
		sqlite3_progress_handler(app->h, 10000, progress, &c);
		rc = job->run(&c, job->arg);
		sqlite3_progress_handler(ledger->h, 0, NULL, NULL);
		/* Never a success recorded with its numbers missing. */
		if (rc == 0 && c.metrics_lost) {
			jobs_run_error(&c, "out of memory: the run's metrics are"
			    " incomplete");
			rc = -1;
		}
		code = rc == 0 ? 0 : rc == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_EFAIL;
	}
	if (jobs_run_signal) {
		status = "cancelled";
		code = 128 + jobs_run_signal;
		if (!c.error[0])
			snprintf(c.error, sizeof(c.error), "stopped by signal %d",
			    (int)jobs_run_signal);
	} else if (jobs_run_remaining_ms(&c) <= 0 && code != 0) {
		char limit[32];

		status = "timeout";
		code = EXIT_TIMEOUT;
		jobs_clock_human_duration(c.timeout_ms, limit, sizeof(limit));
		snprintf(c.error, sizeof(c.error), "timed out after %s", limit);
	} else
		status = code == 0 ? "succeeded" : "failed";
	ms = jobs_clock_mono_ms() - c.mono_start;
	if (jobs_run_finish(&c, status, code, &err) < 0)
		fprintf(stderr, "%s: unable to record the outcome of run %lld: %s\n",
		    job->name, (long long)c.id, err.msg);
	if (code == 0)
		jobs_run_ping(&c, "success", NULL);
	else {
		char body[4096];
		size_t len = 0;
		int i;

		body[0] = '\0';
		for (i = 0; i < c.ntail && len < sizeof(body); i++)
			len += (size_t)snprintf(body + len, sizeof(body) - len, "%s\n",
			    c.tail[i]);
		jobs_run_ping(&c, "fail", body);
	}
	if (code != 0)
		print_failure(&c, status, ms);
	if (opts.json)
		code = print_summary(&c, status, code);
out:
	jobs_run_release(&c);
	jobs_db_close(app);
	jobs_db_close(ledger);
	jobs_config_free(&config);
	if (jobs_run_signal && strcmp(status, "cancelled") == 0) {
		int sig = jobs_run_signal;

		fflush(NULL);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return code;
}
