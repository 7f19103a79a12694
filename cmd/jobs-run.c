/*
 * jobs-run - wrap any command as a recorded job: lock, pause, timeout,
 * output head and tail, pings.  Exit status as timeout(1) and env(1).
 * It fails open: with an unusable ledger the command still runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "child.h"
#include "clock.h"
#include "config.h"
#include "cron.h"
#include "db.h"
#include "err.h"
#include "opts.h"
#include "run.h"
#include "text.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

#define EXIT_TIMEOUT	124
#define EXIT_OWN	125	/* jobs-run's own errors */
#define GRACE_MS	5000

static const char usage[] =
    "usage: jobs-run [options] NAME [--] COMMAND [ARGS...]\n";

static int
own_error(const char *msg)
{
	fprintf(stderr, "jobs-run: %s\n%sTry 'jobs-run --help' for more"
	    " information.\n", msg, usage);
	return EXIT_OWN;
}

/* The arguments `jobs-status trigger` re-runs; NULL when a secret is in them. */
static char *
trigger_command(int argc, char **argv)
{
	char *redacted = jobs_run_argv_json(argc - 1, argv + 1), *plain = NULL;
	cJSON *a = cJSON_CreateArray();
	int i;

	for (i = 1; a && i < argc; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
	if (a)
		plain = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (redacted == NULL || plain == NULL || strcmp(redacted, plain) != 0) {
		free(plain);
		plain = NULL;
	}
	free(redacted);
	return plain;
}

static void
print_stream(const char *name, const struct jobs_capture *cap)
{
	char *text, *clean, *red;

	if (cap->total == 0)
		return;
	fprintf(stderr, "--- %s (%llu bytes) ---\n", name,
	    (unsigned long long)cap->total);
	if ((text = jobs_capture_text(cap)) == NULL)
		return;
	clean = jobs_text_clean_dup(text, strlen(text), JOBS_TEXT_NEWLINES);
	red = clean ? jobs_secret_redact(clean) : NULL;
	if (red) {
		fputs(red, stderr);
		if (red[0] && red[strlen(red) - 1] != '\n')
			fputc('\n', stderr);
	}
	free(red);
	free(clean);
	free(text);
}

int
main(int argc, char **argv)
{
	static struct jobs_capture out, errcap;
	struct jobs_config config = { NULL, "" };
	struct jobs_opts opts;
	struct jobs_err err = { 0, "" };
	struct jobs_ctx c;
	struct jobs_child res;
	struct jobs_db *ledger = NULL;
	const char *status = "failed";
	char *command = NULL, took[32];
	int first, cmd, started, code = EXIT_OWN, recorded;
	int64_t ms;

	if ((first = jobs_opts_parse(&opts, argc, argv, NULL, 1, &err)) < 0)
		return own_error(err.msg);
	if (opts.help) {
		char help[8192];

		jobs_opts_help(NULL, help, sizeof(help));
		printf("%sRun COMMAND as the recorded job NAME.\n\n%s", usage, help);
		return 0;
	}
	if (opts.version) {
		printf("jobs-run %s\n", JOBS_VERSION);
		return 0;
	}
	if (first >= argc)
		return own_error("missing NAME");
	if (jobs_name_check(argv[first], &err) < 0)
		return own_error(err.msg);
	cmd = first + 1;
	if (cmd < argc && strcmp(argv[cmd], "--") == 0)
		cmd++;
	if (cmd >= argc)
		return own_error("missing COMMAND");
	if (jobs_clock_init(opts.now, &err) < 0)
		return own_error(err.msg);
	if (opts.tz && opts.schedule == NULL)
		return own_error("--tz goes with --schedule");
	if (opts.dry_run || opts.limit >= 0)
		return own_error("--dry-run and --limit are for job programs, not"
		    " for a wrapped command");
	if (argv[cmd][0] == '-' && strcmp(argv[cmd - 1], "--") != 0)
		return own_error("options go before NAME (put -- before a command"
		    " that starts with -)");
	if (opts.schedule) {
		struct jobs_cron cron;

		if (jobs_cron_parse(&cron, opts.schedule, &err) < 0 ||
		    (opts.tz && jobs_cron_zone_check(opts.tz, &err) < 0)) {
			char why[300];

			snprintf(why, sizeof(why), "bad --schedule: %s", err.msg);
			return own_error(why);
		}
	}
	jobs_secret_add(opts.ping);
	/* The ping URL is a secret: the wrapped command does not inherit it. */
	if (opts.ping) {
		static char ping[2048];

		snprintf(ping, sizeof(ping), "%s", opts.ping);
		opts.ping = ping;
		unsetenv("JOBS_PING_URL");
	}
	if (jobs_config_load(&config, opts.config, opts.config_explicit, &err) < 0) {
		fprintf(stderr, "jobs-run: %s\n", err.msg);
		return EXIT_OWN;
	}

	jobs_run_catch_signals();

	/* Fail open: the command matters more than its record. */
	if (jobs_db_open(&ledger, opts.db, JOBS_DB_LEDGER, JOBS_DB_CREATE |
	    JOBS_DB_MIGRATE, &err) < 0 && !opts.quiet)
		fprintf(stderr, "jobs-run: warning: ledger unavailable, running %s"
		    " unrecorded: %s\n", argv[first], err.msg);
	jobs_run_init(&c, argv[first], &opts, &config, 0);
	c.ledger = ledger;
	c.out = &out;
	c.err = &errcap;
	command = trigger_command(argc, argv);
	started = jobs_run_start(&c, "command", command, argc, argv, &err);
	free(command);
	if (started < 0 && c.ledger != NULL) {
		/* Recording failed: try once more without the ledger. */
		if (!opts.quiet)
			fprintf(stderr, "jobs-run: warning: unable to record %s,"
			    " running it unrecorded: %s\n", c.job, err.msg);
		c.ledger = NULL;
		started = jobs_run_start(&c, "command", NULL, argc, argv, &err);
	}
	if (started < 0) {
		if (!opts.quiet)
			fprintf(stderr, "jobs-run: warning: no lock for %s, running it"
			    " anyway: %s\n", c.job, err.msg);
		started = JOBS_START_RUN;
	}
	if (started != JOBS_START_RUN) {
		if (opts.level <= JOBS_INFO)
			fprintf(stderr, "jobs-run: %s skipped: %s\n", c.job,
			    started == JOBS_START_OVERLAP ? "another run holds the lock" :
			    "the job is paused");
		code = started == JOBS_START_OVERLAP ? opts.conflict_exit : 0;
		status = "skipped";
		goto out;
	}
	recorded = c.id != 0;
	jobs_run_ping(&c, "start", NULL);
	if (jobs_child_run(argv + cmd, &out, &errcap, c.timeout_ms, GRACE_MS,
	    &jobs_run_signal, &res, &err) < 0) {
		jobs_run_error(&c, "%s", err.msg);
		code = EXIT_OWN;
	} else if (res.exec_errno) {
		jobs_run_error(&c, "%s: %s", argv[cmd], strerror(res.exec_errno));
		code = res.exec_errno == ENOENT ? 127 : 126;
	} else if (res.stopped) {
		status = "cancelled";
		code = 128 + jobs_run_signal;
		jobs_log(&c, JOBS_WARN, "stopped by signal %d", (int)jobs_run_signal);
		snprintf(c.error, sizeof(c.error), "stopped by signal %d",
		    (int)jobs_run_signal);
	} else if (res.timed_out) {
		jobs_clock_human_duration(c.timeout_ms, took, sizeof(took));
		status = "timeout";
		code = EXIT_TIMEOUT;
		jobs_run_error(&c, "timed out after %s%s", took,
		    res.killed ? " (killed after the grace period)" : "");
	} else if (WIFSIGNALED(res.status)) {
		code = 128 + WTERMSIG(res.status);
		jobs_run_error(&c, "killed by signal %d (%s)", WTERMSIG(res.status),
		    strsignal(WTERMSIG(res.status)));
	} else {
		code = WEXITSTATUS(res.status);
		status = code == 0 ? "succeeded" : "failed";
		if (code != 0)
			jobs_run_error(&c, "exit status %d", code);
	}
	ms = jobs_clock_mono_ms() - c.mono_start;
	if (recorded && jobs_run_finish(&c, status, code, &err) < 0 &&
	    !opts.quiet)
		fprintf(stderr, "jobs-run: warning: unable to record the outcome of"
		    " %s: %s\n", c.job, err.msg);
	if (code == 0)
		jobs_run_ping(&c, "success", NULL);
	else {
		/* The end of stderr is where the traceback is. */
		char *text = jobs_capture_text(errcap.total ? &errcap : &out);
		char *red = text ? jobs_secret_redact(text) : NULL;

		jobs_run_ping(&c, "fail", red && red[0] ? red : c.error);
		free(red);
		free(text);
	}
	if (code != 0 && !opts.quiet) {
		jobs_clock_human_duration(ms, took, sizeof(took));
		char run[32] = "";

		if (recorded)
			snprintf(run, sizeof(run), " (run %lld)", (long long)c.id);
		if (strcmp(status, "timeout") == 0)
			fprintf(stderr, "jobs-run: %s timed out after %s%s%s\n", c.job,
			    took, run, res.killed ? ", killed after the grace period" : "");
		else {
			char error[sizeof(c.error)];

			/* The error may quote the command: no raw controls. */
			jobs_text_clean(c.error, strlen(c.error), error, sizeof(error), 0);
			fprintf(stderr, "jobs-run: %s %s after %s%s: %s\n", c.job,
			    status, took, run, error);
		}
		print_stream("stdout", &out);
		print_stream("stderr", &errcap);
	}
out:
	if (opts.json) {
		char *summary = jobs_run_summary(&c, status, code);

		if (summary)
			puts(summary);
		free(summary);
	}
	jobs_run_release(&c);
	jobs_db_close(ledger);
	jobs_config_free(&config);
	if (strcmp(status, "cancelled") == 0) {
		int sig = jobs_run_signal;

		fflush(NULL);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return code;
}
