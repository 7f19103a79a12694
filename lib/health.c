#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "cron.h"
#include "db.h"
#include "err.h"
#include "health.h"
#include "lock.h"
#include "run.h"
#include "schedule.h"

static const char *const state_names[] = { "healthy", "degraded", "unhealthy",
    "new", "paused", "late", "stuck", "unscheduled" };

const char *
jobs_health_name(enum jobs_health_state s)
{
	return state_names[s];
}

static int
is_failure(const char *status)
{
	return strcmp(status, "failed") == 0 || strcmp(status, "timeout") == 0 ||
	    strcmp(status, "abandoned") == 0;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static int64_t
percentile(const int64_t *v, int n, int p)
{
	int rank = (p * n + 99) / 100;

	return v[rank > 0 ? rank - 1 : 0];
}

static void flag(struct jobs_health *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
flag(struct jobs_health *h, const char *fmt, ...)
{
	size_t len = strlen(h->flags);
	va_list ap;

	if (len > 0 && len + 2 < sizeof(h->flags)) {
		memcpy(h->flags + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(h->flags + len, sizeof(h->flags) - len, fmt, ap);
	va_end(ap);
}

/*
 * A successful last run much shorter than usual (under a tenth of the
 * median: did it do its work?) or much longer (over 3x the p95), judged
 * against the runs before it (at least 5).
 */
static void
anomaly(const struct jobs_health_run *runs, int n, struct jobs_health *h)
{
	int64_t d[JOBS_HEALTH_WINDOW], last, p50, p95;
	char a[32], b[32];
	int i, nd = 0;

	if (n < 6 || strcmp(runs[0].status, "succeeded") != 0 ||
	    (last = runs[0].duration_ms) < 0)
		return;
	for (i = 1; i < n; i++)
		if (strcmp(runs[i].status, "succeeded") == 0 && runs[i].duration_ms >= 0)
			d[nd++] = runs[i].duration_ms;
	if (nd < 5)
		return;
	qsort(d, (size_t)nd, sizeof(d[0]), cmp64);
	p50 = percentile(d, nd, 50);
	p95 = percentile(d, nd, 95);
	if (last * 10 < p50 && p50 - last >= 1000) {
		jobs_clock_human_duration(last, a, sizeof(a));
		jobs_clock_human_duration(p50, b, sizeof(b));
		flag(h, "last run took %s, under a tenth of the median %s", a, b);
	} else if (last > 3 * p95 && last - p95 >= 1000) {
		jobs_clock_human_duration(last, a, sizeof(a));
		jobs_clock_human_duration(p95, b, sizeof(b));
		flag(h, "last run took %s, over 3x the p95 %s", a, b);
	}
}

void
jobs_health_classify(const struct jobs_health_run *runs, int n,
    struct jobs_health *h)
{
	int64_t d[JOBS_HEALTH_WINDOW], sum = 0;
	int i, nd = 0, counted, last_failed = 0, recent_failure = 0, streak = 1,
	    seen_counted = 0;

	if (n > JOBS_HEALTH_WINDOW)
		n = JOBS_HEALTH_WINDOW;
	h->finished = n;
	h->succeeded = h->failures = h->consecutive_failures = 0;
	h->avg_ms = h->p50_ms = h->p95_ms = -1;
	for (i = 0; i < n; i++) {
		int fail = is_failure(runs[i].status);
		int ok = strcmp(runs[i].status, "succeeded") == 0;

		h->succeeded += ok;
		h->failures += fail;
		if (ok || fail) {
			if (!seen_counted)
				last_failed = fail;
			seen_counted = 1;
			if (streak && fail)
				h->consecutive_failures++;
			else if (ok)
				streak = 0;
		}
		if (fail && i < 5)
			recent_failure = 1;
		if (runs[i].duration_ms >= 0 && nd < JOBS_HEALTH_WINDOW) {
			d[nd++] = runs[i].duration_ms;
			sum += runs[i].duration_ms;
		}
	}
	counted = h->succeeded + h->failures;
	h->flags[0] = '\0';
	if (h->consecutive_failures >= JOBS_FAILURE_STREAK)
		flag(h, "%d consecutive failures", h->consecutive_failures);
	anomaly(runs, n, h);
	h->success_rate = counted ? (double)h->succeeded / counted : -1;
	if (nd > 0) {
		qsort(d, (size_t)nd, sizeof(d[0]), cmp64);
		h->avg_ms = sum / nd;
		h->p50_ms = percentile(d, nd, 50);
		h->p95_ms = percentile(d, nd, 95);
	}
	if (counted == 0)
		h->state = n == 0 ? JOBS_NEW : JOBS_HEALTHY;
	else if (last_failed || h->success_rate < 0.70)
		h->state = JOBS_UNHEALTHY;
	else if (h->success_rate <= 0.90 || recent_failure)
		h->state = JOBS_DEGRADED;
	else
		h->state = JOBS_HEALTHY;
}

/* Step st once: 1 with a row, 0 at the end, -1 with err (st finalized). */
static int
row(struct jobs_db *db, sqlite3_stmt *st, struct jobs_err *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	jobs_db_fail(db, "unable to read", err);
	sqlite3_finalize(st);
	return -1;
}

struct reap {
	const char *job;
	int64_t max_id;
	int changed;
};

static int
reap_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct reap *r = arg;

	return (r->changed = jobs_run_abandon(db, r->job, r->max_id,
	    jobs_clock_now_ms(), err)) < 0 ? -1 : 0;
}

int
jobs_health_reap(struct jobs_db *db, struct jobs_err *err)
{
	struct held { char job[65]; int64_t max_id; } *hs = NULL;
	sqlite3_stmt *st = NULL;
	int n = 0, i, r, changed = 0;

	if (sqlite3_db_readonly(db->h, "main") == 1)
		return 0;
	/*
	 * Read the rows first, then test the locks: a row that existed before
	 * its lock was found free has lost its holder; a run that starts
	 * meanwhile has a higher id and is left alone.
	 */
	if (jobs_db_prepare(db, "SELECT job, max(id) FROM executions WHERE"
	    " status = 'running' GROUP BY job", &st, err) < 0)
		return -1;
	while ((r = row(db, st, err)) == 1) {
		struct held *more = realloc(hs, (size_t)(n + 1) * sizeof(*hs));

		if (more == NULL) {
			sqlite3_finalize(st);
			free(hs);
			return jobs_err_set(err, JOBS_ETEMP, "out of memory");
		}
		hs = more;
		jobs_db_column_copy(st, 0, hs[n].job, sizeof(hs[n].job));
		hs[n++].max_id = sqlite3_column_int64(st, 1);
	}
	if (r < 0) {
		free(hs);
		return -1;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		struct reap r = { hs[i].job, hs[i].max_id, 0 };

		if (jobs_lock_held(db->path, hs[i].job, err) != 0)
			continue;	/* alive, or unknown: leave it */
		if (jobs_db_tx(db, reap_tx, &r, err) == 0)
			changed += r.changed;
	}
	free(hs);
	return changed;
}

/*
 * The newest run that sql (start, error; job bound at 1) finds: its start
 * into *at and, when error is not NULL, its error.  0 or -1 with err.
 */
static int
last_with(struct jobs_db *db, const char *job, const char *sql, int64_t *at,
    char *error, size_t size, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (jobs_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	if ((r = row(db, st, err)) < 0)
		return -1;
	if (r) {
		*at = sqlite3_column_int64(st, 0);
		if (error)
			jobs_db_column_copy(st, 1, error, size);
	}
	sqlite3_finalize(st);
	return 0;
}

/* Fill the parts of h that come from the executions table. */
static int
load_one(struct jobs_db *db, struct jobs_health *h, int64_t now_ms,
    struct jobs_err *err)
{
	struct jobs_health_run runs[JOBS_HEALTH_WINDOW];
	sqlite3_stmt *st = NULL;
	int n = 0, r;

	if (jobs_db_prepare(db, "SELECT status, duration_ms FROM executions WHERE"
	    " job = ? AND status IN ('succeeded', 'failed', 'timeout', 'cancelled',"
	    " 'abandoned') ORDER BY id DESC LIMIT 20", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	while (n < JOBS_HEALTH_WINDOW && (r = row(db, st, err)) == 1) {
		jobs_db_column_copy(st, 0, runs[n].status, sizeof(runs[n].status));
		runs[n].duration_ms = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 1);
		n++;
	}
	if (n < JOBS_HEALTH_WINDOW && r < 0)
		return -1;
	sqlite3_finalize(st);
	jobs_health_classify(runs, n, h);

	if (jobs_db_prepare(db, "SELECT count(*) FROM executions WHERE job = ?"
	    " AND started_at >= ? AND status != 'skipped'", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms - 86400000LL);
	if ((r = row(db, st, err)) < 0)
		return -1;
	h->runs_24h = r ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);

	if (jobs_db_prepare(db, "SELECT started_at, status, clock, id, timeout_ms"
	    " FROM executions WHERE job = ? AND status != 'skipped' ORDER BY id"
	    " DESC LIMIT 1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	if ((r = row(db, st, err)) < 0)
		return -1;
	if (r) {
		h->last_run_ms = sqlite3_column_int64(st, 0);
		jobs_db_column_copy(st, 1, h->last_status, sizeof(h->last_status));
		h->last_pinned = sqlite3_column_text(st, 2) &&
		    strcmp((const char *)sqlite3_column_text(st, 2), "pinned") == 0;
		if (strcmp(h->last_status, "running") == 0) {
			h->running_id = sqlite3_column_int64(st, 3);
			h->running_since = h->last_run_ms;
			h->running_timeout_ms = sqlite3_column_int64(st, 4);
		}
	}
	sqlite3_finalize(st);

	if (last_with(db, h->name, "SELECT started_at, error FROM executions WHERE"
	    " job = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
	    &h->last_success_ms, NULL, 0, err) < 0 ||
	    last_with(db, h->name, "SELECT started_at, error FROM executions WHERE"
	    " job = ? AND status IN ('failed', 'timeout', 'abandoned') ORDER BY id"
	    " DESC LIMIT 1", &h->last_failure_ms, h->last_error,
	    sizeof(h->last_error), err) < 0)
		return -1;
	return 0;
}

int64_t
jobs_health_grace(const struct jobs_config *config, const char *job)
{
	int64_t ms;

	if (jobs_config_duration(jobs_config_job(config, job), "grace", &ms,
	    NULL) == 1)
		return ms;
	return -1;
}

static void
append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? "; " : "", s);
}

/* Schedules: the next run, lateness, unscheduled. */
static int
load_schedules(struct jobs_db *db, struct jobs_health *h,
    const struct jobs_health_opts *o, struct jobs_err *err)
{
	struct jobs_schedule *ss = NULL;
	int64_t now = o->now_ms / 1000, grace = jobs_health_grace(o->config, h->name);
	int n = 0, i, known = 0, rc = -1;

	if (jobs_schedule_load(db, h->name, o->found, &ss, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct jobs_schedule *s = &ss[i];
		int64_t t;
		char text[200];
		int late;

		known = 1;
		if (!s->current)
			continue;
		h->scheduled = 1;
		snprintf(text, sizeof(text), "%.127s%s%.63s", s->expr,
		    s->tz[0] ? " " : "", s->tz);
		if (strstr(h->schedule, text) == NULL)
			append(h->schedule, sizeof(h->schedule), text);
		if (jobs_schedule_next(s, now, &t, err) == 1 &&
		    (h->next_s == 0 || t < h->next_s))
			h->next_s = t;
		if ((late = jobs_schedule_late(db, h->name, s, now, grace, &t, err)) < 0)
			goto out;
		if (late && t > h->missed_s)
			h->missed_s = t;
	}
	if (known && !h->scheduled)
		h->state = JOBS_UNSCHEDULED;
	rc = 0;
out:
	free(ss);
	return rc;
}

/*
 * The one state shown, most urgent first: paused (an operator's word),
 * stuck, late, unhealthy, unscheduled, degraded, new, healthy.
 */
static void
settle(struct jobs_health *h, int64_t now_ms)
{
	if (h->paused) {
		h->state = JOBS_PAUSED;
		return;
	}
	if (h->running_id && h->running_timeout_ms > 0 &&
	    now_ms > h->running_since + h->running_timeout_ms) {
		h->state = JOBS_STUCK;
		return;
	}
	if (h->missed_s) {
		h->state = JOBS_LATE;
		return;
	}
}

int
jobs_health_load(struct jobs_db *db, const char *only,
    const struct jobs_health_opts *o, struct jobs_health **out, int *n,
    struct jobs_err *err)
{
	struct jobs_health *hs = NULL;
	sqlite3_stmt *st = NULL;
	int count = 0, i, r;

	*out = NULL;
	*n = 0;
	if (jobs_db_prepare(db, only ?
	    "SELECT name, kind, paused, paused_reason, paused_by, paused_at FROM"
	    " jobs WHERE name = ?" :
	    "SELECT name, kind, paused, paused_reason, paused_by, paused_at FROM"
	    " jobs ORDER BY name", &st, err) < 0)
		return -1;
	if (only)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
	/* An error is no end of the list: a job missing from it looks fine. */
	while ((r = row(db, st, err)) == 1) {
		struct jobs_health *more = realloc(hs, (size_t)(count + 1) * sizeof(*hs));

		if (more == NULL) {
			sqlite3_finalize(st);
			free(hs);
			return jobs_err_set(err, JOBS_ETEMP, "out of memory");
		}
		hs = more;
		memset(&hs[count], 0, sizeof(hs[count]));
		jobs_db_column_copy(st, 0, hs[count].name, sizeof(hs[count].name));
		jobs_db_column_copy(st, 1, hs[count].kind, sizeof(hs[count].kind));
		hs[count].paused = sqlite3_column_int(st, 2);
		jobs_db_column_copy(st, 3, hs[count].paused_reason,
		    sizeof(hs[count].paused_reason));
		jobs_db_column_copy(st, 4, hs[count].paused_by,
		    sizeof(hs[count].paused_by));
		hs[count].paused_at = sqlite3_column_int64(st, 5);
		count++;
	}
	if (r < 0) {
		free(hs);
		return -1;
	}
	sqlite3_finalize(st);
	for (i = 0; i < count; i++) {
		enum jobs_health_state runs;

		if (load_one(db, &hs[i], o->now_ms, err) < 0) {
			free(hs);
			return -1;
		}
		runs = hs[i].state;
		if (load_schedules(db, &hs[i], o, err) < 0) {
			free(hs);
			return -1;
		}
		/* unscheduled outranks only degraded, new and healthy */
		if (hs[i].state == JOBS_UNSCHEDULED && runs == JOBS_UNHEALTHY)
			hs[i].state = runs;
		settle(&hs[i], o->now_ms);
	}
	*out = hs;
	*n = count;
	return 0;
}
