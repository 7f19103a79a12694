/*
 * jobs-status - read and control the ledger: the table of jobs, one job's
 * details, runs, logs, pause and resume, trigger, monitoring checks,
 * migrations.  Reads go into memory first and are printed after every
 * statement has ended, so a stalled pipe never holds back a checkpoint.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "cron.h"
#include "crontab.h"
#include "db.h"
#include "err.h"
#include "fs.h"
#include "health.h"
#include "json.h"
#include "opts.h"
#include "outbox.h"
#include "registry.h"
#include "schedule.h"
#include "text.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

#define EXIT_NOTFOUND 1

/* Monitoring-plugin states for `check`. */
enum { CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN };

#define TRY_HELP "Try 'jobs-status --help' for more information.\n"

static const char usage[] =
    "usage: jobs-status [--json] [options]\n"
    "       jobs-status show JOB\n"
    "       jobs-status runs [JOB] [--status S] [--since DUR] [--limit N]\n"
    "       jobs-status logs [JOB | --run ID] [--level L] [--since DUR] [--follow]\n"
    "       jobs-status pause JOB [--reason TEXT]\n"
    "       jobs-status resume JOB\n"
    "       jobs-status trigger JOB [-- ARGS...]\n"
    "       jobs-status check [JOB...]\n"
    "       jobs-status next [--from TIME] [--count N] [--tz ZONE] [--] EXPR\n"
    "       jobs-status crontab [--system] [FILE] | --generate\n"
    "       jobs-status queue [--json]\n"
    "       jobs-status queue retry-dead [--key K | --all]\n"
    "       jobs-status migrate\n"
    "Reads take --json; --crontab FILE and --system-crontab FILE name the\n"
    "crontabs that schedules are found in (default: crontab -l, /etc/crontab,\n"
    "/etc/cron.d).\n";

enum {
	OPT_STATUS = 0x200, OPT_SINCE, OPT_RUN, OPT_LEVEL, OPT_FOLLOW, OPT_REASON,
	OPT_CRONTAB, OPT_SYSCRONTAB, OPT_FROM, OPT_COUNT, OPT_SYSTEM, OPT_GENERATE,
	OPT_KEY, OPT_ALL,
};

static const struct jobs_opt status_opts[] = {
	{ "status", 0, 1, OPT_STATUS, NULL, "S", "runs with this status only" },
	{ "since", 0, 1, OPT_SINCE, NULL, "DUR", "only the last DUR (24h, 7d)" },
	{ "run", 0, 1, OPT_RUN, NULL, "ID", "logs of one run" },
	{ "level", 0, 1, OPT_LEVEL, NULL, "L", "logs at level L and above" },
	{ "follow", 'f', 0, OPT_FOLLOW, NULL, NULL, "logs: wait for new lines" },
	{ "reason", 0, 1, OPT_REASON, NULL, "TEXT", "pause: why" },
	{ "crontab", 0, 1, OPT_CRONTAB, "JOBS_CRONTAB", "FILE",
	    "a user crontab to find schedules in" },
	{ "system-crontab", 0, 1, OPT_SYSCRONTAB, NULL, "FILE",
	    "a system (cron.d) crontab to find schedules in" },
	{ "from", 0, 1, OPT_FROM, NULL, "TIME", "next: after TIME" },
	{ "count", 0, 1, OPT_COUNT, NULL, "N", "next: how many" },
	{ "system", 0, 0, OPT_SYSTEM, NULL, NULL, "crontab: FILE has a user field" },
	{ "generate", 0, 0, OPT_GENERATE, NULL, NULL,
	    "crontab: print the project's crontab" },
	{ "key", 0, 1, OPT_KEY, NULL, "K", "queue retry-dead: the row with key K" },
	{ "all", 0, 0, OPT_ALL, NULL, NULL, "queue retry-dead: every dead row" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

#define MAX_CRONTABS 16

struct args {
	const char *status, *reason;
	int64_t since_ms;	/* 0: no limit */
	int64_t run;
	int level, follow;
	const char *crontab;			/* a user crontab */
	const char *system_crontab[MAX_CRONTABS];
	int nsystem;
	const char *from;
	long count;
	int system, generate;
	const char *key;
	int all;
};

static struct jobs_opts opts;
static struct jobs_config config;
static int open_code = JOBS_ETEMP;	/* the exit status of open_ledger's failure */
static struct args *args_;
static int color;
static int oom;		/* a JSON result lost a part for want of memory */

/* A part lost: set here, or one of cJSON's allocations failed. */
static int
lost(void)
{
	return oom || jobs_json_failures() > 0;
}

static int
handle(void *arg, int val, const char *optarg, struct jobs_err *err)
{
	struct args *a = arg;
	char *end;

	switch (val) {
	case OPT_STATUS:
		if (strcmp(optarg, "running") && strcmp(optarg, "succeeded") &&
		    strcmp(optarg, "failed") && strcmp(optarg, "timeout") &&
		    strcmp(optarg, "cancelled") && strcmp(optarg, "skipped") &&
		    strcmp(optarg, "abandoned"))
			return jobs_err_set(err, JOBS_EUSAGE, "bad --status '%.40s':"
			    " want running, succeeded, failed, timeout, cancelled,"
			    " skipped or abandoned", optarg);
		a->status = optarg;
		return 0;
	case OPT_SINCE:
		return jobs_clock_parse_duration(optarg, &a->since_ms, err);
	case OPT_RUN:
		a->run = strtoll(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || a->run <= 0)
			return jobs_err_set(err, JOBS_EUSAGE, "bad --run '%.40s'", optarg);
		return 0;
	case OPT_LEVEL:
		if ((a->level = jobs_level_parse(optarg)) < 0 || a->level > JOBS_ERROR)
			return jobs_err_set(err, JOBS_EUSAGE, "bad --level '%.40s': want"
			    " debug, info, warn or error", optarg);
		return 0;
	case OPT_FOLLOW:
		a->follow = 1;
		return 0;
	case OPT_REASON:
		a->reason = optarg;
		return 0;
	case OPT_CRONTAB:
		a->crontab = optarg;
		return 0;
	case OPT_SYSCRONTAB:
		if (a->nsystem == MAX_CRONTABS)
			return jobs_err_set(err, JOBS_EUSAGE, "at most %d"
			    " --system-crontab", MAX_CRONTABS);
		a->system_crontab[a->nsystem++] = optarg;
		return 0;
	case OPT_FROM:
		a->from = optarg;
		return 0;
	case OPT_COUNT:
		a->count = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || a->count < 1 || a->count > 100000)
			return jobs_err_set(err, JOBS_EUSAGE, "bad --count '%.40s': want"
			    " 1 to 100000", optarg);
		return 0;
	case OPT_SYSTEM:
		a->system = 1;
		return 0;
	case OPT_GENERATE:
		a->generate = 1;
		return 0;
	case OPT_KEY:
		a->key = optarg;
		return 0;
	case OPT_ALL:
		a->all = 1;
		return 0;
	}
	return -1;
}

static int fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "jobs-status: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Print outside text safely: no control characters reach the terminal. */
static void
put_clean(const char *s, int width)
{
	char buf[1024];

	jobs_text_clean(s ? s : "", s ? strlen(s) : 0, buf, sizeof(buf), 0);
	if (width > 0 && (int)strlen(buf) > width) {
		/* Cut on a character boundary and mark it. */
		int n = width - 1;

		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
		printf("%.*s~", n, buf);
	} else if (width > 0)
		printf("%-*s", width, buf);
	else if (width < 0 && (int)strlen(buf) > -width) {
		int n = -width - 1;	/* the last column: cut, never pad */

		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
		printf("%.*s~", n, buf);
	} else
		fputs(buf, stdout);
}

static const char *
health_color(enum jobs_health_state s)
{
	if (!color)
		return "";
	switch (s) {
	case JOBS_HEALTHY: return "\033[32m";
	case JOBS_DEGRADED: case JOBS_PAUSED: return "\033[33m";
	case JOBS_UNHEALTHY: return "\033[31m";
	default: return "";
	}
}

/*
 * Open the ledger for reading (and for marking dead runs abandoned when
 * we may write).  Returns 1 when there is no ledger yet, 0, or -1 (printed).
 */
static int
open_ledger(struct jobs_db **db, int quiet_missing)
{
	struct jobs_err err = { 0, "" };

	if (jobs_db_open(db, opts.db, JOBS_DB_LEDGER, 0, &err) == 0 ||
	    (err.code == JOBS_ETEMP && jobs_db_open(db, opts.db, JOBS_DB_LEDGER,
	    JOBS_DB_READONLY, &err) == 0)) {
		jobs_health_reap(*db, &err);
		return 0;
	}
	if (err.code == JOBS_ENOINPUT) {
		if (!quiet_missing)
			fprintf(stderr, "jobs-status: no ledger at %s yet: no job has"
			    " run\n", opts.db);
		return 1;
	}
	fprintf(stderr, "jobs-status: %s\n", err.msg);
	open_code = err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP;
	return -1;
}

static int
exit_for(int rc)
{
	return rc < 0 ? open_code : 0;
}

/*
 * Add item to the object o under key, or to the array o when key is NULL,
 * and return it.  When item is NULL (it could not be made), o is NULL or
 * the add fails, delete item, set oom and return NULL: the result is then
 * incomplete and print_json() refuses it.
 */
static cJSON *
add(cJSON *o, const char *key, cJSON *item)
{
	if (o != NULL && item != NULL && (key ? cJSON_AddItemToObject(o, key,
	    item) : cJSON_AddItemToArray(o, item)))
		return item;
	cJSON_Delete(item);
	oom = 1;
	return NULL;
}

static cJSON *
str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *
iso_or_null(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return cJSON_CreateNull();
	jobs_clock_iso(ms, buf, sizeof(buf));
	return cJSON_CreateString(buf);
}

static cJSON *
num_or_null(double v, int present)
{
	return present ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *
health_json(const struct jobs_health *h)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		oom = 1;
		return NULL;
	}
	add(o, "name", cJSON_CreateString(h->name));
	add(o, "kind", cJSON_CreateString(h->kind));
	add(o, "health", cJSON_CreateString(jobs_health_name(h->state)));
	add(o, "paused", cJSON_CreateBool(h->paused));
	if (h->paused) {
		add(o, "paused_reason", cJSON_CreateString(h->paused_reason));
		add(o, "paused_by", cJSON_CreateString(h->paused_by));
		add(o, "paused_at", iso_or_null(h->paused_at));
	}
	add(o, "schedule", str_or_null(h->schedule[0] ? h->schedule : NULL));
	add(o, "next_run", iso_or_null(h->next_s * 1000));
	add(o, "missed_slot", iso_or_null(h->missed_s * 1000));
	add(o, "last_run", iso_or_null(h->last_run_ms));
	add(o, "last_status", str_or_null(h->last_status[0] ? h->last_status :
	    NULL));
	add(o, "clock_pinned", cJSON_CreateBool(h->last_pinned));
	add(o, "success_rate", num_or_null(h->success_rate, h->success_rate >= 0));
	add(o, "runs_window", cJSON_CreateNumber(h->finished));
	add(o, "consecutive_failures", cJSON_CreateNumber(h->consecutive_failures));
	add(o, "runs_24h", cJSON_CreateNumber(h->runs_24h));
	add(o, "avg_ms", num_or_null((double)h->avg_ms, h->avg_ms >= 0));
	add(o, "p50_ms", num_or_null((double)h->p50_ms, h->p50_ms >= 0));
	add(o, "p95_ms", num_or_null((double)h->p95_ms, h->p95_ms >= 0));
	add(o, "last_success", iso_or_null(h->last_success_ms));
	add(o, "last_failure", iso_or_null(h->last_failure_ms));
	add(o, "last_error", str_or_null(h->last_error[0] ? h->last_error : NULL));
	add(o, "running_id", num_or_null((double)h->running_id, h->running_id > 0));
	add(o, "flags", str_or_null(h->flags[0] ? h->flags : NULL));
	return o;
}

/*
 * Print o and delete it; 0, or 75 (printed) when o is missing a part or
 * cannot be printed for want of memory: never a partial answer.
 */
static int
print_json(cJSON *o)
{
	char *s = o && !lost() ? cJSON_Print(o) : NULL;

	cJSON_Delete(o);
	if (s == NULL)
		return fail(JOBS_ETEMP, "out of memory");
	puts(s);
	free(s);
	return 0;
}

static void
rate(double r, char *buf, size_t size)
{
	if (r < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.0f%%", r * 100);
}

/*
 * Read the crontabs: --crontab or JOBS_CRONTAB (a user crontab) and
 * --system-crontab files; with none of them, the host's (crontab -l,
 * /etc/crontab, /etc/cron.d).  0 or -1 with err.
 */
static int
read_crontabs(struct jobs_crontab *ct, struct jobs_err *err)
{
	const char *env = getenv("JOBS_CRONTAB");
	const char *user = args_->crontab ? args_->crontab : env && *env ? env : NULL;
	int i;

	memset(ct, 0, sizeof(*ct));
	ct->crontz = jobs_crontab_host_crontz();
	if (user && jobs_crontab_read(ct, user, 0, err) < 0)
		return -1;
	for (i = 0; i < args_->nsystem; i++)
		if (jobs_crontab_read(ct, args_->system_crontab[i], 1, err) < 0)
			return -1;
	if (user == NULL && args_->nsystem == 0)
		return jobs_crontab_read_default(ct, err);
	return 0;
}

/*
 * Record the schedules found in ct (one view of the crontabs for this
 * invocation) and load the jobs' health.
 */
static int
load_health(struct jobs_db *db, const char *only, const struct jobs_crontab *ct,
    struct jobs_health **hs, int *n, struct jobs_err *err)
{
	struct jobs_health_opts ho;

	ho.now_ms = jobs_clock_now_ms();
	ho.found = ct;
	ho.config = &config;
	if (jobs_schedule_record(db, ct, ho.now_ms, err) < 0)
		return -1;
	return jobs_health_load(db, only, &ho, hs, n, err);
}

/* A job's schedules with their next run and missed slots, as JSON. */
static int
load_schedules(struct jobs_db *db, const char *job, const struct jobs_crontab *ct,
    cJSON **out, struct jobs_err *err)
{
	struct jobs_schedule *ss = NULL;
	struct jobs_missed *ms = NULL;
	int64_t now = jobs_clock_now_ms() / 1000, grace = jobs_health_grace(&config, job);
	int n = 0, i, j, rc = -1;
	cJSON *arr = NULL;

	*out = NULL;
	if (jobs_schedule_load(db, job, ct, &ss, &n, err) < 0)
		return -1;
	if ((arr = cJSON_CreateArray()) == NULL)
		oom = 1;
	for (i = 0; i < n && !lost(); i++) {
		cJSON *o = add(arr, NULL, cJSON_CreateObject()), *m;
		int64_t next;
		int nm = 0;

		add(o, "expr", cJSON_CreateString(ss[i].expr));
		add(o, "tz", cJSON_CreateString(ss[i].tz));
		add(o, "zone", cJSON_CreateString(ss[i].zone));
		add(o, "source", cJSON_CreateString(ss[i].source));
		add(o, "current", cJSON_CreateBool(ss[i].current));
		add(o, "first_seen", iso_or_null(ss[i].first_seen));
		add(o, "last_seen", iso_or_null(ss[i].last_seen));
		add(o, "next_run", ss[i].current &&
		    jobs_schedule_next(&ss[i], now, &next, err) == 1 ?
		    iso_or_null(next * 1000) : cJSON_CreateNull());
		m = add(o, "missed", cJSON_CreateArray());
		/* No list rather than a short one: an error is no "none missed". */
		if (ss[i].current && jobs_schedule_missed(db, job, &ss[i], now, grace,
		    10, &ms, &nm, err) < 0)
			goto out;
		for (j = 0; j < nm; j++) {
			cJSON *x = add(m, NULL, cJSON_CreateObject());

			add(x, "slot", iso_or_null(ms[j].slot * 1000));
			add(x, "reason", cJSON_CreateString(ms[j].reason));
		}
		free(ms);
		ms = NULL;
	}
	if (lost()) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	cJSON_Delete(arr);
	free(ms);
	free(ss);
	return rc;
}

/* "in 5m", "5m ago" */
static void
relative(int64_t now_ms, int64_t then_ms, char *buf, size_t size)
{
	char t[32];

	if (then_ms > now_ms + 5000) {
		jobs_clock_ago(then_ms, now_ms, t, sizeof(t));
		snprintf(buf, size, "in %.*s", (int)(strlen(t) - 4), t);
	} else
		jobs_clock_ago(now_ms, then_ms, buf, size);
}

static int
cmd_table(void)
{
	struct jobs_crontab ct;
	struct jobs_db *db = NULL;
	struct jobs_health *hs = NULL;
	struct jobs_err err = { 0, "" };
	int64_t now = jobs_clock_now_ms();
	int n = 0, i, rc, pinned = 0;

	if ((rc = open_ledger(&db, opts.json)) != 0) {
		if (rc > 0 && opts.json) {
			cJSON *o = cJSON_CreateObject();

			add(o, "jobs", cJSON_CreateArray());
			return print_json(o);
		}
		return exit_for(rc);
	}
	rc = read_crontabs(&ct, &err);
	if (rc == 0)
		rc = load_health(db, NULL, &ct, &hs, &n, &err);
	jobs_db_close(db);
	jobs_crontab_free(&ct);
	if (rc < 0)
		return fail(err.code == JOBS_ETEMP ? JOBS_ETEMP : JOBS_EUSAGE, "%s",
		    err.msg);
	if (opts.json) {
		cJSON *o = cJSON_CreateObject(), *a = add(o, "jobs", cJSON_CreateArray());

		for (i = 0; i < n; i++)
			add(a, NULL, health_json(&hs[i]));
		free(hs);
		return print_json(o);
	}
	if (n == 0)
		fprintf(stderr, "jobs-status: no jobs in %s yet\n", opts.db);
	else
		printf("%-18s %-11s %-9s %-9s %-12s %4s %4s %6s\n", "JOB", "HEALTH",
		    "LAST RUN", "NEXT", "SCHEDULE", "OK%", "24H", "P95");
	for (i = 0; i < n; i++) {
		const struct jobs_health *h = &hs[i];
		char last[32], next[32], ok[16], p95[32];

		if (h->last_run_ms)
			relative(now, h->last_run_ms, last, sizeof(last));
		else
			snprintf(last, sizeof(last), "never");
		if (h->last_pinned) {
			size_t l = strlen(last);

			if (l + 1 < sizeof(last))
				memcpy(last + l, "*", 2);
			pinned = 1;
		}
		if (h->next_s)
			relative(now, h->next_s * 1000, next, sizeof(next));
		else
			snprintf(next, sizeof(next), "-");
		rate(h->success_rate, ok, sizeof(ok));
		if (h->p95_ms >= 0)
			jobs_clock_human_duration(h->p95_ms, p95, sizeof(p95));
		else
			snprintf(p95, sizeof(p95), "-");
		put_clean(h->name, 18);
		printf(" %s%-11s%s %-9s %-9s ", health_color(h->state),
		    jobs_health_name(h->state), color ? "\033[0m" : "", last, next);
		put_clean(h->schedule[0] ? h->schedule : "-", 12);
		printf(" %4s %4d %6s\n", ok, h->runs_24h, p95);
	}
	if (pinned)
		printf("* the run's clock was pinned (--now or JOBS_NOW)\n");
	free(hs);
	return 0;
}

/* Runs, newest first, read into a JSON array (the table prints from it). */
static int
load_runs(struct jobs_db *db, const char *job, const struct args *a, long limit,
    cJSON **out, struct jobs_err *err)
{
	static const char *const keys[] = { NULL, "job", "status", "reason",
	    "trigger" };
	sqlite3_stmt *st = NULL;
	cJSON *arr = NULL;
	int rc = -1, step = SQLITE_ERROR, i;

	*out = NULL;
	if (jobs_db_prepare(db, "SELECT id, job, status, reason, trigger, exit_code,"
	    " started_at, finished_at, duration_ms, items_ok, items_failed,"
	    " items_skipped, error, clock, pid, host, argv, stdout_bytes,"
	    " stderr_bytes FROM executions WHERE (?1 IS NULL OR job = ?1) AND"
	    " (?2 IS NULL OR status = ?2) AND started_at >= ?3"
	    " ORDER BY id DESC LIMIT ?4", &st, err) < 0)
		return -1;
	/* A lost binding would read as "every job", "every status". */
	if (jobs_db_bind_text(st, 1, job) < 0 ||
	    jobs_db_bind_text(st, 2, a->status) < 0) {
		jobs_db_fail(db, "unable to read", err);
		goto out;
	}
	sqlite3_bind_int64(st, 3, a->since_ms ? jobs_clock_now_ms() - a->since_ms :
	    INT64_MIN);
	sqlite3_bind_int64(st, 4, limit);
	if ((arr = cJSON_CreateArray()) == NULL)
		oom = 1;
	while (!lost() && (step = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *r = add(arr, NULL, cJSON_CreateObject()), *v;
		const char *argv = (const char *)sqlite3_column_text(st, 16);

		add(r, "id", cJSON_CreateNumber((double)sqlite3_column_int64(st, 0)));
		for (i = 1; i <= 4; i++)
			add(r, keys[i], str_or_null((const char *)
			    sqlite3_column_text(st, i)));
		add(r, "exit_code", num_or_null(sqlite3_column_int(st, 5),
		    sqlite3_column_type(st, 5) != SQLITE_NULL));
		add(r, "started_at", iso_or_null(sqlite3_column_int64(st, 6)));
		add(r, "finished_at", iso_or_null(sqlite3_column_int64(st, 7)));
		add(r, "duration_ms", num_or_null((double)sqlite3_column_int64(st, 8),
		    sqlite3_column_type(st, 8) != SQLITE_NULL));
		add(r, "items_ok", cJSON_CreateNumber((double)sqlite3_column_int64(st, 9)));
		add(r, "items_failed",
		    cJSON_CreateNumber((double)sqlite3_column_int64(st, 10)));
		add(r, "items_skipped",
		    cJSON_CreateNumber((double)sqlite3_column_int64(st, 11)));
		add(r, "error", str_or_null((const char *)sqlite3_column_text(st, 12)));
		add(r, "clock_pinned", cJSON_CreateBool(sqlite3_column_text(st, 13) &&
		    strcmp((const char *)sqlite3_column_text(st, 13), "pinned") == 0));
		add(r, "pid", num_or_null(sqlite3_column_int(st, 14),
		    sqlite3_column_type(st, 14) != SQLITE_NULL));
		add(r, "host", str_or_null((const char *)sqlite3_column_text(st, 15)));
		/* An argv that is not JSON is null; oom says it was memory. */
		v = argv ? cJSON_Parse(argv) : NULL;
		add(r, "argv", v || lost() ? v : cJSON_CreateNull());
		add(r, "stdout_bytes", num_or_null((double)sqlite3_column_int64(st, 17),
		    sqlite3_column_type(st, 17) != SQLITE_NULL));
		add(r, "stderr_bytes", num_or_null((double)sqlite3_column_int64(st, 18),
		    sqlite3_column_type(st, 18) != SQLITE_NULL));
	}
	if (lost()) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	if (step != SQLITE_DONE) {
		jobs_db_fail(db, "unable to read", err);
		goto out;
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	sqlite3_finalize(st);
	cJSON_Delete(arr);
	return rc;
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* jstr() for printing: "-" when missing. */
static const char *
jtext(const cJSON *o, const char *key)
{
	const char *s = jstr(o, key);

	return s ? s : "-";
}

static double
jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void
print_runs(const cJSON *arr, int with_job)
{
	const cJSON *r;

	/* 80 columns: the last column gets what is left, cut. */
	if (with_job)
		printf("%7s %-14s %-17s %-9s %7s %4s %s\n", "RUN", "JOB", "STARTED",
		    "STATUS", "TOOK", "EXIT", "ERROR");
	else
		printf("%7s %-17s %-9s %-7s %7s %4s %s\n", "RUN", "STARTED", "STATUS",
		    "TRIGGER", "TOOK", "EXIT", "ERROR");
	cJSON_ArrayForEach(r, arr) {
		const char *err = jstr(r, "error"), *reason = jstr(r, "reason");
		const char *started = jstr(r, "started_at");
		char dur[32], exitc[16], when[24];
		double d = jnum(r, "duration_ms", -1), e = jnum(r, "exit_code", -1);

		if (d >= 0)
			jobs_clock_human_duration((int64_t)d, dur, sizeof(dur));
		else
			snprintf(dur, sizeof(dur), "-");
		if (e >= 0)
			snprintf(exitc, sizeof(exitc), "%d", (int)e);
		else
			snprintf(exitc, sizeof(exitc), "-");
		/* 2026-11-29T03:00:00Z -> 2026-11-29 03:00, * when pinned */
		snprintf(when, sizeof(when), "%.10s %.5s%s", started ? started : "",
		    started && strlen(started) > 11 ? started + 11 : "",
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "clock_pinned")) ?
		    "*" : "");
		printf("%7.0f ", jnum(r, "id", 0));
		if (with_job) {
			put_clean(jstr(r, "job"), 14);
			printf(" %-17s %-9s %7s %4s ", when, jtext(r, "status"), dur, exitc);
		} else
			printf("%-17s %-9s %-7s %7s %4s ", when, jtext(r, "status"),
			    jtext(r, "trigger"), dur, exitc);
		if (err || reason)
			put_clean(err ? err : reason, with_job ? -16 : -22);
		putchar('\n');
	}
}

static int
cmd_runs(const char *job, const struct args *a)
{
	struct jobs_db *db = NULL;
	struct jobs_err err = { 0, "" };
	cJSON *arr = NULL;
	int rc;

	if ((rc = open_ledger(&db, opts.json)) != 0) {
		if (rc > 0 && opts.json)
			return print_json(cJSON_CreateArray());
		return exit_for(rc);
	}
	rc = load_runs(db, job, a, opts.limit >= 0 ? opts.limit : job ? 50 : 100,
	    &arr, &err);
	jobs_db_close(db);
	if (rc < 0)
		return fail(JOBS_ETEMP, "%s", err.msg);
	if (opts.json)
		return print_json(arr);
	else {
		if (cJSON_GetArraySize(arr) > 0)
			print_runs(arr, job == NULL);
		cJSON_Delete(arr);
	}
	return 0;
}

static int
cmd_show(const char *job)
{
	struct jobs_crontab ct;
	struct jobs_db *db = NULL;
	struct jobs_health *hs = NULL;
	struct jobs_err err = { 0, "" };
	struct args a;
	int64_t now = jobs_clock_now_ms();
	cJSON *runs = NULL, *scheds = NULL, *sc;
	char buf[64], buf2[64], buf3[64];
	int n = 0, rc;

	memset(&a, 0, sizeof(a));
	if ((rc = open_ledger(&db, 1)) != 0)
		return rc > 0 ? fail(EXIT_NOTFOUND, "no job named '%s' (no ledger at"
		    " %s)", job, opts.db) : exit_for(rc);
	rc = read_crontabs(&ct, &err);
	if (rc == 0)
		rc = load_health(db, job, &ct, &hs, &n, &err);
	if (rc == 0 && n == 1)
		rc = load_runs(db, job, &a, JOBS_HEALTH_WINDOW, &runs, &err);
	if (rc == 0 && n == 1)
		rc = load_schedules(db, job, &ct, &scheds, &err);
	jobs_db_close(db);
	jobs_crontab_free(&ct);
	if (rc < 0) {
		free(hs);
		cJSON_Delete(runs);
		return fail(err.code == JOBS_ETEMP ? JOBS_ETEMP : JOBS_EUSAGE, "%s",
		    err.msg);
	}
	if (n == 0) {
		free(hs);
		return fail(EXIT_NOTFOUND, "no job named '%s' in %s", job, opts.db);
	}
	if (opts.json) {
		cJSON *o = health_json(&hs[0]);

		add(o, "schedules", scheds);
		add(o, "runs", runs);
		free(hs);
		return print_json(o);
	}
	printf("job:          ");
	put_clean(hs->name, 0);
	printf(" (%s)\nhealth:       %s%s%s\n", hs->kind, health_color(hs->state),
	    jobs_health_name(hs->state), color ? "\033[0m" : "");
	if (hs->paused) {
		jobs_clock_iso(hs->paused_at, buf, sizeof(buf));
		printf("paused:       since %s by ", buf);
		put_clean(hs->paused_by, 0);
		if (hs->paused_reason[0]) {
			printf(": ");
			put_clean(hs->paused_reason, 0);
		}
		putchar('\n');
	}
	if (hs->missed_s) {
		jobs_clock_iso(hs->missed_s * 1000, buf, sizeof(buf));
		printf("late:         no run since the slot of %s\n", buf);
	}
	if (hs->flags[0])
		printf("flags:        %s\n", hs->flags);
	cJSON_ArrayForEach(sc, scheds) {
		const cJSON *m;

		printf("schedule:     ");
		put_clean(jstr(sc, "expr"), 0);
		if (jstr(sc, "tz") && jstr(sc, "tz")[0])
			printf(" (CRON_TZ=%s)", jstr(sc, "tz"));
		printf(", %s%s", jtext(sc, "source"), cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(sc, "current")) ? "" :
		    ", no longer declared or found");
		if (jstr(sc, "next_run"))
			printf(", next %s", jstr(sc, "next_run"));
		putchar('\n');
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sc, "missed"))
			printf("  missed:     %s %s\n", jtext(m, "slot"), jtext(m, "reason"));
	}
	if (hs->last_run_ms) {
		jobs_clock_iso(hs->last_run_ms, buf, sizeof(buf));
		jobs_clock_ago(now, hs->last_run_ms, buf2, sizeof(buf2));
		printf("last run:     %s (%s), %s%s\n", buf, buf2, hs->last_status,
		    hs->last_pinned ? " [clock pinned]" : "");
	} else
		printf("last run:     never\n");
	if (hs->running_id) {
		jobs_clock_iso(hs->running_since, buf, sizeof(buf));
		printf("running:      run %lld since %s\n", (long long)hs->running_id, buf);
	}
	if (hs->last_success_ms) {
		jobs_clock_iso(hs->last_success_ms, buf, sizeof(buf));
		printf("last success: %s\n", buf);
	}
	if (hs->last_failure_ms) {
		jobs_clock_iso(hs->last_failure_ms, buf, sizeof(buf));
		printf("last failure: %s: ", buf);
		put_clean(hs->last_error, 0);
		putchar('\n');
	}
	rate(hs->success_rate, buf, sizeof(buf));
	printf("success:      %s of the last %d runs", buf, hs->finished);
	if (hs->consecutive_failures)
		printf(", %d consecutive failures", hs->consecutive_failures);
	printf("\nruns in 24h:  %d\n", hs->runs_24h);
	if (hs->avg_ms >= 0) {
		jobs_clock_human_duration(hs->avg_ms, buf, sizeof(buf));
		jobs_clock_human_duration(hs->p50_ms, buf2, sizeof(buf2));
		jobs_clock_human_duration(hs->p95_ms, buf3, sizeof(buf3));
		printf("duration:     avg %s, p50 %s, p95 %s\n", buf, buf2, buf3);
	}
	if (cJSON_GetArraySize(runs) > 0) {
		putchar('\n');
		print_runs(runs, 0);
	}
	cJSON_Delete(runs);
	cJSON_Delete(scheds);
	free(hs);
	return 0;
}

static int
print_logs(struct jobs_db *db, const char *job, const struct args *a,
    int64_t *after, int json, cJSON *arr, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	struct line { int64_t id, run, at; char level[8], job[65]; char *msg; } *ls = NULL;
	int n = 0, i, step, rc = -1;

	if (jobs_db_prepare(db, "SELECT id, execution_id, job, at, level, message"
	    " FROM logs WHERE id > ?1 AND (?2 IS NULL OR job = ?2) AND (?3 = 0 OR"
	    " execution_id = ?3) AND at >= ?4 AND CASE level WHEN 'debug' THEN 0"
	    " WHEN 'info' THEN 1 WHEN 'warn' THEN 2 ELSE 3 END >= ?5"
	    " ORDER BY id LIMIT 10000", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, *after);
	/* A lost binding would read as "every job". */
	if (jobs_db_bind_text(st, 2, job) < 0) {
		jobs_db_fail(db, "unable to read", err);
		goto out;
	}
	sqlite3_bind_int64(st, 3, a->run);
	sqlite3_bind_int64(st, 4, a->since_ms ? jobs_clock_now_ms() - a->since_ms :
	    INT64_MIN);
	sqlite3_bind_int(st, 5, a->level);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct line *more = realloc(ls, (size_t)(n + 1) * sizeof(*ls));
		const char *m = (const char *)sqlite3_column_text(st, 5);

		if (more == NULL) {
			jobs_err_set(err, JOBS_ETEMP, "out of memory");
			goto out;
		}
		ls = more;
		ls[n].id = sqlite3_column_int64(st, 0);
		ls[n].run = sqlite3_column_int64(st, 1);
		jobs_db_column_copy(st, 2, ls[n].job, sizeof(ls[n].job));
		ls[n].at = sqlite3_column_int64(st, 3);
		jobs_db_column_copy(st, 4, ls[n].level, sizeof(ls[n].level));
		if ((ls[n].msg = strdup(m ? m : "")) == NULL) {
			jobs_err_set(err, JOBS_ETEMP, "out of memory");
			goto out;
		}
		n++;
	}
	if (step != SQLITE_DONE) {
		jobs_db_fail(db, "unable to read", err);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* The statement is done: now print, however slow stdout is. */
	for (i = 0; i < n; i++) {
		char at[32];

		jobs_clock_iso(ls[i].at, at, sizeof(at));
		if (json) {
			cJSON *o = cJSON_CreateObject();

			if (o == NULL)
				oom = 1;
			add(o, "id", cJSON_CreateNumber((double)ls[i].id));
			add(o, "run", num_or_null((double)ls[i].run, ls[i].run > 0));
			add(o, "job", cJSON_CreateString(ls[i].job));
			add(o, "at", cJSON_CreateString(at));
			add(o, "level", cJSON_CreateString(ls[i].level));
			add(o, "message", cJSON_CreateString(ls[i].msg));
			if (arr)
				add(arr, NULL, o);
			else {	/* --follow --json: one object a line */
				char *line = lost() ? NULL : cJSON_PrintUnformatted(o);

				cJSON_Delete(o);
				if (line == NULL) {
					oom = 1;
					break;
				}
				puts(line);
				free(line);
			}
			if (lost())
				break;
		} else {
			printf("%s ", at);
			put_clean(ls[i].job, 0);
			printf("#%lld %-5s ", (long long)ls[i].run, ls[i].level);
			put_clean(ls[i].msg, 0);
			putchar('\n');
		}
		*after = ls[i].id;
	}
	fflush(stdout);
	if (lost()) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	for (i = 0; i < n; i++)
		free(ls[i].msg);
	free(ls);
	return rc;
}

static int
cmd_logs(const char *job, const struct args *a)
{
	struct jobs_db *db = NULL;
	struct jobs_err err = { 0, "" };
	int64_t after = 0;
	cJSON *arr = NULL;
	int rc;

	if ((rc = open_ledger(&db, opts.json)) != 0) {
		if (rc > 0 && opts.json && !a->follow)
			return print_json(cJSON_CreateArray());
		return exit_for(rc);
	}
	if (opts.json && !a->follow && (arr = cJSON_CreateArray()) == NULL) {
		jobs_db_close(db);
		return fail(JOBS_ETEMP, "out of memory");
	}
	do {
		if (print_logs(db, job, a, &after, opts.json, arr, &err) < 0) {
			jobs_db_close(db);
			cJSON_Delete(arr);
			return fail(JOBS_ETEMP, "%s", err.msg);
		}
		if (a->follow)
			jobs_clock_sleep_ms(1000);
	} while (a->follow && !ferror(stdout));
	jobs_db_close(db);
	if (arr)
		return print_json(arr);
	return 0;
}

struct pause {
	const char *job, *reason, *by;
	int paused;
	int64_t now;
};

static int
pause_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct pause *p = arg;
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, "INSERT INTO jobs (name, paused, paused_reason,"
	    " paused_by, paused_at, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?5) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused,"
	    " paused_reason = excluded.paused_reason, paused_by = excluded.paused_by,"
	    " paused_at = CASE WHEN excluded.paused THEN excluded.paused_at END",
	    &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, p->job, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, p->paused);
	jobs_db_bind_text(st, 3, p->paused ? p->reason : NULL);
	jobs_db_bind_text(st, 4, p->paused ? p->by : NULL);
	sqlite3_bind_int64(st, 5, p->now);
	sqlite3_bind_text(st, 6, jobs_registry_find(p->job) ? "program" : "command",
	    -1, SQLITE_STATIC);
	return jobs_db_done(db, st, err);
}

static int
cmd_pause(const char *job, int paused, const struct args *a)
{
	struct jobs_db *db = NULL;
	struct jobs_err err = { 0, "" };
	struct passwd *pw = getpwuid(getuid());
	char by[128], host[64] = "";
	struct pause p = { job, a->reason, by, paused, jobs_clock_now_ms() };
	int rc;

	if (jobs_name_check(job, &err) < 0)
		return fail(JOBS_EUSAGE, "%s", err.msg);
	gethostname(host, sizeof(host) - 1);
	snprintf(by, sizeof(by), "%s@%s", pw ? pw->pw_name : "?", host);
	/* An operator may pause a job before its first run: create the ledger. */
	if (jobs_db_open(&db, opts.db, JOBS_DB_LEDGER, JOBS_DB_CREATE |
	    JOBS_DB_MIGRATE, &err) < 0)
		return fail(err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP,
		    "%s", err.msg);
	rc = jobs_db_tx(db, pause_tx, &p, &err);
	jobs_db_close(db);
	if (rc < 0)
		return fail(JOBS_ETEMP, "%s", err.msg);
	return 0;
}

/* Run the job now in the foreground, recorded as trigger=manual. */
static int
cmd_trigger(const char *job, int argc, char **argv)
{
	struct jobs_db *db = NULL;
	struct jobs_err err = { 0, "" };
	sqlite3_stmt *st = NULL;
	char kind[16] = "", dir[4096], path[4200];
	char *command = NULL;
	cJSON *args = NULL;
	char **av = NULL;
	int i, n = 0, rc;

	if (jobs_name_check(job, &err) < 0)
		return fail(JOBS_EUSAGE, "%s", err.msg);
	if ((rc = open_ledger(&db, 1)) < 0)
		return JOBS_ETEMP;
	if (rc == 0) {
		int step = SQLITE_ERROR;

		if (jobs_db_prepare(db, "SELECT kind, command FROM jobs WHERE name = ?",
		    &st, &err) == 0) {
			sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
			if ((step = sqlite3_step(st)) == SQLITE_ROW) {
				const char *c = (const char *)sqlite3_column_text(st, 1);

				jobs_db_column_copy(st, 0, kind, sizeof(kind));
				/* NULL says "held a secret": never for no memory. */
				if (c && (command = strdup(c)) == NULL) {
					jobs_err_set(&err, JOBS_ETEMP, "out of memory");
					step = SQLITE_NOMEM;
				}
			} else if (step != SQLITE_DONE)
				jobs_db_fail(db, "unable to read", &err);
			sqlite3_finalize(st);
		}
		jobs_db_close(db);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return fail(err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP,
			    "%s", err.msg);
	}
	if (jobs_fs_selfdir(dir, sizeof(dir)) < 0)
		snprintf(dir, sizeof(dir), ".");
	setenv("JOBS_TRIGGER", "manual", 1);
	setenv("JOBS_DB", opts.db, 1);
	setenv("JOBS_APP_DB", opts.app_db, 1);
	if (strcmp(kind, "command") == 0) {
		if (command == NULL)
			return fail(EXIT_NOTFOUND, "%s: its last command line held a"
			    " secret and was not recorded: run it by hand", job);
		args = cJSON_Parse(command);
		free(command);
		n = cJSON_GetArraySize(args);
		if (!cJSON_IsArray(args) || n == 0) {
			cJSON_Delete(args);
			return fail(JOBS_EFAIL, "%s: the recorded command is unreadable",
			    job);
		}
		if ((av = calloc((size_t)(n + argc + 2), sizeof(*av))) == NULL)
			return fail(JOBS_ETEMP, "out of memory");
		snprintf(path, sizeof(path), "%s/jobs-run", dir);
		av[0] = path;
		for (i = 0; i < n; i++)
			av[i + 1] = cJSON_GetArrayItem(args, i)->valuestring;
		if (argc > 0)
			fprintf(stderr, "jobs-status: %s re-runs its recorded command;"
			    " extra arguments ignored\n", job);
	} else if (strcmp(kind, "program") == 0 || jobs_registry_find(job)) {
		free(command);
		if (strncmp(job, "jobs-", 5) != 0)
			return fail(EXIT_NOTFOUND, "%s is not a jobs program", job);
		snprintf(path, sizeof(path), "%s/%s", dir, job);
		if ((av = calloc((size_t)(argc + 2), sizeof(*av))) == NULL)
			return fail(JOBS_ETEMP, "out of memory");
		av[0] = path;
		for (i = 0; i < argc; i++)
			av[i + 1] = argv[i];
	} else {
		free(command);
		return fail(EXIT_NOTFOUND, "no job named '%s' in %s", job, opts.db);
	}
	fflush(NULL);
	execv(av[0], av);
	rc = errno;
	fprintf(stderr, "jobs-status: unable to run %s: %s\n", av[0], strerror(rc));
	free(av);
	cJSON_Delete(args);
	return rc == ENOENT ? 127 : 126;
}

static int
check_state(const struct jobs_health *h)
{
	switch (h->state) {
	case JOBS_UNHEALTHY:
		/* a low rate with a successful last run is a warning */
		return strcmp(h->last_status, "succeeded") == 0 ? CHECK_WARNING :
		    CHECK_CRITICAL;
	case JOBS_LATE:
	case JOBS_STUCK:
		return CHECK_CRITICAL;
	case JOBS_DEGRADED:
	case JOBS_UNSCHEDULED:
		return CHECK_WARNING;
	default:
		return CHECK_OK;
	}
}

static int
cmd_check(int argc, char **argv)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	struct jobs_crontab ct;
	struct jobs_db *db = NULL;
	struct jobs_health *hs = NULL;
	struct jobs_err err = { 0, "" };
	int n = 0, i, j, worst = CHECK_OK, rc, faults = 0, shown = 0;
	char line[1024] = "", clean[1024];
	size_t len = 0;

	for (i = 0; i < argc; i++)
		if (jobs_name_check(argv[i], &err) < 0) {
			printf("UNKNOWN: %s\n", err.msg);
			return CHECK_UNKNOWN;
		}
	if (jobs_db_open(&db, opts.db, JOBS_DB_LEDGER, 0, &err) < 0 &&
	    (err.code != JOBS_ETEMP || jobs_db_open(&db, opts.db, JOBS_DB_LEDGER,
	    JOBS_DB_READONLY, &err) < 0)) {
		printf("UNKNOWN: %s\n", err.code == JOBS_ENOINPUT ?
		    "no ledger: no job has run yet" : err.msg);
		return CHECK_UNKNOWN;
	}
	jobs_health_reap(db, &err);
	rc = read_crontabs(&ct, &err);
	if (rc == 0)
		rc = load_health(db, NULL, &ct, &hs, &n, &err);
	jobs_db_close(db);
	jobs_crontab_free(&ct);
	if (rc < 0) {
		printf("UNKNOWN: %s\n", err.msg);
		return CHECK_UNKNOWN;
	}
	for (i = 0; i < argc; i++) {
		for (j = 0; j < n && strcmp(hs[j].name, argv[i]) != 0; j++)
			;
		if (j == n) {
			jobs_text_clean(argv[i], strlen(argv[i]), clean, sizeof(clean), 0);
			printf("UNKNOWN: no job named %s in the ledger\n", clean);
			free(hs);
			return CHECK_UNKNOWN;
		}
	}
	/* The first line: the worst state, then the jobs at fault, worst first. */
	for (worst = CHECK_CRITICAL; worst > CHECK_OK; worst--) {
		for (j = 0; j < n; j++) {
			for (i = 0; i < argc && strcmp(hs[j].name, argv[i]) != 0; i++)
				;
			if ((argc > 0 && i == argc) || check_state(&hs[j]) != worst)
				continue;
			faults++;
			if (len < sizeof(line))
				len += (size_t)snprintf(line + len, sizeof(line) - len,
				    "%s%s %s", faults > 1 ? ", " : "", hs[j].name,
				    jobs_health_name(hs[j].state));
		}
		if (faults && shown == 0)
			shown = worst;
	}
	worst = shown;
	if (faults == 0)
		printf("OK: %d job%s healthy\n", argc ? argc : n, (argc ? argc : n) == 1 ?
		    "" : "s");
	else {
		jobs_text_clean(line, strlen(line), clean, sizeof(clean), 0);
		printf("%s: %s\n", names[worst], clean);
	}
	/* Then one line a job at fault or flagged, with why. */
	for (j = 0; j < n; j++) {
		const struct jobs_health *h = &hs[j];
		char r[16], at[32];

		for (i = 0; i < argc && strcmp(h->name, argv[i]) != 0; i++)
			;
		if ((argc > 0 && i == argc) || (check_state(h) == CHECK_OK &&
		    h->flags[0] == '\0'))
			continue;
		rate(h->success_rate, r, sizeof(r));
		put_clean(h->name, 0);
		printf(": %s", jobs_health_name(h->state));
		if (h->missed_s) {
			jobs_clock_iso(h->missed_s * 1000, at, sizeof(at));
			printf(", missed the run due at %s", at);
		}
		if (h->last_status[0])
			printf(", last run %s", h->last_status);
		printf(", success %s of %d", r, h->finished);
		if (h->flags[0])
			printf(", %s", h->flags);
		if (h->last_error[0]) {
			printf("; last failure: ");
			put_clean(h->last_error, 0);
		}
		putchar('\n');
	}
	free(hs);
	return worst;
}


/* The expression from the operands: "0 2 * * *" or 0 2 '*' '*' '*'. */
static int
join_expr(int argc, char **argv, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < argc; i++) {
		int n = snprintf(buf + len, size - len, "%s%s", i ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= size - len)
			return -1;
		len += (size_t)n;
	}
	return 0;
}

static int
cmd_next(int argc, char **argv, const struct args *a)
{
	struct jobs_cron cron;
	struct jobs_err err = { 0, "" };
	char expr[512], zone[64], when[JOBS_CRON_FORMAT_MAX];
	int64_t t, from_ms;
	cJSON *arr = NULL;
	long i;
	int rc;

	if (argc == 0 || join_expr(argc, argv, expr, sizeof(expr)) < 0)
		return fail(JOBS_EUSAGE, "next: want one cron expression");
	if (jobs_cron_parse(&cron, expr, &err) < 0)
		return fail(JOBS_EUSAGE, "bad expression '%s': %s", expr, err.msg);
	/* As cron would run it: in its time zone, the host's unless --tz. */
	if (opts.tz)
		snprintf(zone, sizeof(zone), "%s", opts.tz);
	else
		jobs_crontab_system_zone(zone, sizeof(zone));
	if (jobs_cron_zone_check(zone, &err) < 0)
		return fail(JOBS_EUSAGE, "%s", err.msg);
	from_ms = jobs_clock_now_ms();
	if (a->from && jobs_clock_parse(a->from, &from_ms, &err) < 0)
		return fail(JOBS_EUSAGE, "--from: %s", err.msg);
	if (cron.reboot)
		return fail(JOBS_EFAIL, "'%s' runs once at boot: it has no fire times",
		    expr);
	t = from_ms >= 0 ? from_ms / 1000 : (from_ms - 999) / 1000;
	if (opts.json && (arr = cJSON_CreateArray()) == NULL)
		return fail(JOBS_ETEMP, "out of memory");
	for (i = 0; i < a->count; i++) {
		if ((rc = jobs_cron_next(&cron, t, zone, JOBS_CRON_SYSTEM, &t, &err)) < 0) {
			cJSON_Delete(arr);
			return fail(JOBS_EUSAGE, "%s", err.msg);
		}
		if (rc == 0) {
			if (i == 0) {
				cJSON_Delete(arr);
				return fail(JOBS_EFAIL, "'%s' never fires", expr);
			}
			break;
		}
		jobs_cron_format(t, zone, when, sizeof(when));
		if (arr)
			add(arr, NULL, cJSON_CreateString(when));
		else
			puts(when);
	}
	if (arr)
		return print_json(arr);
	return 0;
}

/* Print the project's crontab from the job registry. */
static int
generate_crontab(int system)
{
	const struct jobs_registry *r;
	char dir[4096];

	if (jobs_fs_selfdir(dir, sizeof(dir)) < 0)
		snprintf(dir, sizeof(dir), "/usr/local/bin");
	printf("# The jobs toolkit's crontab (jobs-status crontab --generate%s).\n"
	    "# Each line declares its schedule, so jobs-status can tell a job\n"
	    "# that silently stopped running.\n"
	    "SHELL=/bin/sh\nPATH=%s:/usr/local/bin:/usr/bin:/bin\nMAILTO=root\n",
	    system ? " --system" : "", dir);
	for (r = jobs_registry; r->name; r++)
		printf("%s%s %s/%s --schedule '%s'\n", r->schedule,
		    system ? " jobs" : "", dir, r->name, r->schedule);
	return 0;
}

static int
cmd_crontab(int argc, char **argv, const struct args *a)
{
	struct jobs_crontab ct;
	struct jobs_err err = { 0, "" };
	struct jobs_db *db = NULL;
	int64_t now = jobs_clock_now_ms() / 1000;
	int i, k, rc = 0, errors = 0;
	cJSON *out = NULL, *ents = NULL, *diags = NULL;

	if (a->generate)
		return argc ? fail(JOBS_EUSAGE, "--generate takes no FILE") :
		    generate_crontab(a->system);
	if (argc > 1)
		return fail(JOBS_EUSAGE, "crontab: at most one FILE");
	memset(&ct, 0, sizeof(ct));
	ct.crontz = jobs_crontab_host_crontz();
	if ((argc == 1 ? jobs_crontab_read(&ct, argv[0], a->system, &err) :
	    read_crontabs(&ct, &err)) < 0) {
		jobs_crontab_free(&ct);
		return fail(err.code == JOBS_ETEMP ? JOBS_ETEMP : JOBS_EUSAGE, "%s",
		    err.msg);
	}
	/* Disagreements with what the jobs declared when they ran. */
	if (open_ledger(&db, 1) == 0) {
		for (i = 0; i < ct.n && rc == 0; i++) {
			const struct jobs_crontab_entry *e = &ct.entries[i];
			struct jobs_schedule *ss = NULL;
			int n = 0;

			if (jobs_schedule_load(db, e->job, &ct, &ss, &n, &err) < 0) {
				rc = -1;
				break;
			}
			for (k = 0; k < n; k++)
				if (strcmp(ss[k].source, "declared") == 0 && ss[k].current &&
				    (strcmp(ss[k].expr, e->expr) != 0 ||
				    strcmp(ss[k].tz, e->tz) != 0) && e->declared[0] == '\0') {
					struct jobs_crontab_diag *more = realloc(ct.diags,
					    (size_t)(ct.ndiags + 1) * sizeof(*more));

					if (more == NULL) {
						jobs_err_set(&err, JOBS_ETEMP,
						    "out of memory");
						rc = -1;
						break;
					}
					ct.diags = more;
					more = &ct.diags[ct.ndiags++];
					more->severity = JOBS_CRONTAB_WARNING;
					snprintf(more->source, sizeof(more->source), "%s", e->source);
					more->line = e->line;
					snprintf(more->msg, sizeof(more->msg), "%.64s runs at"
					    " '%.60s' but its runs declared '%.60s'", e->job,
					    e->expr, ss[k].expr);
				}
			free(ss);
		}
		jobs_db_close(db);
	}
	if (rc < 0) {
		jobs_crontab_free(&ct);
		return fail(err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP, "%s",
		    err.msg);
	}
	if (opts.json) {
		if ((out = cJSON_CreateObject()) == NULL)
			oom = 1;
		ents = add(out, "entries", cJSON_CreateArray());
		diags = add(out, "diagnostics", cJSON_CreateArray());
	}
	for (i = 0; i < ct.ndiags; i++) {
		const struct jobs_crontab_diag *d = &ct.diags[i];
		const char *sev = d->severity == JOBS_CRONTAB_ERROR ? "error" : "warning";

		errors += d->severity == JOBS_CRONTAB_ERROR;
		if (opts.json) {
			cJSON *o = add(diags, NULL, cJSON_CreateObject());

			add(o, "severity", cJSON_CreateString(sev));
			add(o, "source", cJSON_CreateString(d->source));
			add(o, "line", cJSON_CreateNumber(d->line));
			add(o, "message", cJSON_CreateString(d->msg));
			continue;
		}
		put_clean(d->source, 0);
		if (d->line)
			printf(":%d", d->line);
		printf(": %s: ", sev);
		put_clean(d->msg, 0);
		putchar('\n');
	}
	for (i = 0; i < ct.n; i++) {
		const struct jobs_crontab_entry *e = &ct.entries[i];
		char zone[64], when[JOBS_CRON_FORMAT_MAX];
		int64_t t = now;
		cJSON *o, *nx = NULL;

		if (e->tz[0])
			snprintf(zone, sizeof(zone), "%s", e->tz);
		else
			jobs_crontab_system_zone(zone, sizeof(zone));
		if (opts.json) {
			o = add(ents, NULL, cJSON_CreateObject());
			add(o, "job", cJSON_CreateString(e->job));
			add(o, "program", cJSON_CreateString(e->program));
			add(o, "expr", cJSON_CreateString(e->expr));
			add(o, "tz", cJSON_CreateString(e->tz));
			add(o, "source", cJSON_CreateString(e->source));
			add(o, "line", cJSON_CreateNumber(e->line));
			nx = add(o, "next", cJSON_CreateArray());
		} else {
			put_clean(e->job, 0);
			printf(" (%s:%d): %s", e->source, e->line, e->expr);
			if (e->tz[0])
				printf(" CRON_TZ=%s", e->tz);
			printf("\n");
		}
		for (k = 0; k < 3 && !e->cron.reboot; k++) {
			if (jobs_cron_next(&e->cron, t, zone, e->tz[0] ? JOBS_CRON_CRONTZ :
			    JOBS_CRON_SYSTEM, &t, &err) != 1)
				break;
			jobs_cron_format(t, zone, when, sizeof(when));
			if (opts.json)
				add(nx, NULL, cJSON_CreateString(when));
			else
				printf("  next: %s\n", when);
		}
	}
	if (opts.json)
		rc = print_json(out);
	else if (ct.n == 0 && ct.ndiags == 0)
		printf("no lines run a jobs program (%d lines read)\n", ct.lines);
	jobs_crontab_free(&ct);
	return rc ? rc : errors ? JOBS_EFAIL : 0;
}

/* The outbox, by status and channel, from the application database. */
static int
cmd_queue(int argc, char **argv, const struct args *a)
{
	static const char *const statuses[] = { "pending", "leased", "sent", "dead",
	    "cancelled" };
	static const char *const channels[] = { "webhook", "email", "file" };
	struct jobs_db *app = NULL;
	struct jobs_err err = { 0, "" };
	sqlite3_stmt *st = NULL;
	int64_t count[3][5], now = jobs_clock_now_ms() / 1000, oldest = -1;
	int i, k, rc;
	cJSON *o, *chs;

	if (argc > 0 && strcmp(argv[0], "retry-dead") == 0) {
		if (argc != 1 || (a->key == NULL) == (a->all == 0))
			return fail(JOBS_EUSAGE, "queue retry-dead: want --key K or --all");
		if (jobs_db_open(&app, opts.app_db, JOBS_DB_APP, JOBS_DB_MIGRATE, &err) < 0)
			return fail(err.code == JOBS_ETEMP ? JOBS_ETEMP : JOBS_EUSAGE,
			    "%s", err.msg);
		rc = jobs_outbox_retry_dead(app, a->key, now, &err);
		jobs_db_close(app);
		if (rc < 0)
			return fail(JOBS_ETEMP, "%s", err.msg);
		if (!opts.quiet)
			printf("%d dead row%s requeued\n", rc, rc == 1 ? "" : "s");
		return a->key && rc == 0 ? EXIT_NOTFOUND : 0;
	}
	if (argc > 0)
		return fail(JOBS_EUSAGE, "queue: unknown '%s'", argv[0]);
	memset(count, 0, sizeof(count));
	if (jobs_db_open(&app, opts.app_db, JOBS_DB_APP, 0, &err) < 0 &&
	    (err.code != JOBS_ETEMP || jobs_db_open(&app, opts.app_db, JOBS_DB_APP,
	    JOBS_DB_READONLY, &err) < 0)) {
		if (err.code != JOBS_ENOINPUT)
			return fail(err.code == JOBS_ETEMP ? JOBS_ETEMP : JOBS_EUSAGE,
			    "%s", err.msg);
		app = NULL;	/* no application database yet: an empty queue */
	}
	if (app) {
		int step = SQLITE_ERROR;

		rc = jobs_db_prepare(app, "SELECT channel, status, count(*) FROM outbox"
		    " GROUP BY channel, status", &st, &err);
		while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
			const char *ch = (const char *)sqlite3_column_text(st, 0);
			const char *stat = (const char *)sqlite3_column_text(st, 1);

			for (i = 0; ch && stat && i < 3; i++)
				for (k = 0; k < 5; k++)
					if (strcmp(ch, channels[i]) == 0 &&
					    strcmp(stat, statuses[k]) == 0)
						count[i][k] = sqlite3_column_int64(st, 2);
		}
		/* An error is no end of the rows: the counts would be short. */
		if (rc == 0 && step != SQLITE_DONE)
			rc = jobs_db_fail(app, "unable to read", &err);
		sqlite3_finalize(st);
		if (rc == 0 && (rc = jobs_db_prepare(app, "SELECT min(created_at) FROM"
		    " outbox WHERE status = 'pending'", &st, &err)) == 0) {
			if ((step = sqlite3_step(st)) == SQLITE_ROW &&
			    sqlite3_column_type(st, 0) != SQLITE_NULL)
				oldest = now - sqlite3_column_int64(st, 0);
			if (step != SQLITE_ROW)
				rc = jobs_db_fail(app, "unable to read", &err);
			sqlite3_finalize(st);
		}
		jobs_db_close(app);
		if (rc < 0)
			return fail(JOBS_ETEMP, "%s", err.msg);
	}
	if (opts.json) {
		if ((o = cJSON_CreateObject()) == NULL)
			oom = 1;
		for (k = 0; k < 5; k++)
			add(o, statuses[k], cJSON_CreateNumber((double)(count[0][k] +
			    count[1][k] + count[2][k])));
		add(o, "oldest_pending_s", num_or_null((double)oldest, oldest >= 0));
		chs = add(o, "channels", cJSON_CreateObject());
		for (i = 0; i < 3; i++) {
			cJSON *ch = add(chs, channels[i], cJSON_CreateObject());

			for (k = 0; k < 5; k++)
				add(ch, statuses[k], cJSON_CreateNumber((double)count[i][k]));
		}
		return print_json(o);
	}
	printf("%-8s %9s %9s %9s %9s %9s\n", "CHANNEL", "PENDING", "LEASED", "SENT",
	    "DEAD", "CANCELLED");
	for (i = 0; i < 3; i++)
		printf("%-8s %9lld %9lld %9lld %9lld %9lld\n", channels[i],
		    (long long)count[i][0], (long long)count[i][1],
		    (long long)count[i][2], (long long)count[i][3],
		    (long long)count[i][4]);
	if (oldest >= 0)
		printf("oldest pending: %llds\n", (long long)oldest);
	return 0;
}

static int
cmd_migrate(void)
{
	struct jobs_db *db = NULL;
	struct jobs_err err = { 0, "" };
	int k;

	for (k = JOBS_DB_LEDGER; k <= JOBS_DB_APP; k++) {
		const char *path = k == JOBS_DB_LEDGER ? opts.db : opts.app_db;

		if (jobs_db_open(&db, path, (enum jobs_db_kind)k, JOBS_DB_CREATE |
		    JOBS_DB_MIGRATE | JOBS_DB_CHECK, &err) < 0)
			return fail(err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP,
			    "%s", err.msg);
		if (!opts.quiet)
			printf("%s %s: schema version %d\n",
			    jobs_db_kind_name((enum jobs_db_kind)k), path,
			    jobs_db_version(db, &err));
		jobs_db_close(db);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct jobs_opt_extra extra = { status_opts, handle, &a };
	struct jobs_err err = { 0, "" };
	const char *cmd;
	int first, nargs, check;
	char **args;

	/* cJSON's failures counted, so a lost part is never a shorter answer. */
	jobs_json_init();
	memset(&a, 0, sizeof(a));
	a.level = JOBS_DEBUG;
	a.count = 5;
	args_ = &a;
	/* check's own usage errors are UNKNOWN (3), as monitoring plugins do. */
	check = argc > 1 && strcmp(argv[1], "check") == 0;
	if ((first = jobs_opts_parse(&opts, argc, argv, &extra, 0, &err)) < 0) {
		if (check) {
			printf("UNKNOWN: %s\n", err.msg);
			return CHECK_UNKNOWN;
		}
		fprintf(stderr, "jobs-status: %s\n" TRY_HELP, err.msg);
		return JOBS_EUSAGE;
	}
	if (opts.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (opts.version) {
		printf("jobs-status %s\n", JOBS_VERSION);
		return 0;
	}
	if (jobs_clock_init(opts.now, &err) < 0) {
		if (check) {
			printf("UNKNOWN: %s\n", err.msg);
			return CHECK_UNKNOWN;
		}
		return fail(JOBS_EUSAGE, "%s", err.msg);
	}
	if (jobs_config_load(&config, opts.config, opts.config_explicit, &err) < 0) {
		if (check) {
			printf("UNKNOWN: %s\n", err.msg);
			return CHECK_UNKNOWN;
		}
		return fail(err.code == JOBS_ETEMP ? JOBS_ETEMP : JOBS_EUSAGE, "%s",
		    err.msg);
	}
	color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	cmd = first < argc ? argv[first] : NULL;
	args = argv + first + 1;
	nargs = cmd ? argc - first - 1 : 0;
	if (cmd == NULL)
		return cmd_table();
	if (strcmp(cmd, "show") == 0 && nargs == 1)
		return cmd_show(args[0]);
	if (strcmp(cmd, "runs") == 0 && nargs <= 1)
		return cmd_runs(nargs ? args[0] : NULL, &a);
	if (strcmp(cmd, "logs") == 0 && nargs <= 1)
		return cmd_logs(nargs ? args[0] : NULL, &a);
	if (strcmp(cmd, "pause") == 0 && nargs == 1)
		return cmd_pause(args[0], 1, &a);
	if (strcmp(cmd, "resume") == 0 && nargs == 1)
		return cmd_pause(args[0], 0, &a);
	if (strcmp(cmd, "trigger") == 0 && nargs >= 1)
		return cmd_trigger(args[0], nargs - 1, args + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(nargs, args);
	if (strcmp(cmd, "migrate") == 0 && nargs == 0)
		return cmd_migrate();
	if (strcmp(cmd, "queue") == 0)
		return cmd_queue(nargs, args, &a);
	if (strcmp(cmd, "next") == 0)
		return cmd_next(nargs, args, &a);
	if (strcmp(cmd, "crontab") == 0)
		return cmd_crontab(nargs, args, &a);
	if (check)
		return CHECK_UNKNOWN;
	fprintf(stderr, "jobs-status: %s '%s'\n" TRY_HELP, strcmp(cmd, "show") == 0 ||
	    strcmp(cmd, "runs") == 0 || strcmp(cmd, "logs") == 0 ||
	    strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
	    strcmp(cmd, "trigger") == 0 || strcmp(cmd, "migrate") == 0 ?
	    "wrong number of arguments for" : "unknown command", cmd);
	return JOBS_EUSAGE;
}
