#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crontab.h"
#include "db.h"
#include "err.h"
#include "schedule.h"

#define MINUTE_MS 60000LL
#define HOUR_MS 3600000LL

struct record {
	const struct jobs_crontab *ct;
	int64_t now_ms;
};

static int
record_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct record *r = arg;
	sqlite3_stmt *sch = NULL, *job = NULL;
	int i, rc = -1;

	if (jobs_db_prepare(db, "INSERT INTO schedules (job, expr, tz, source,"
	    " first_seen, last_seen) VALUES (?1, ?2, ?3, 'crontab', ?4, ?4)"
	    " ON CONFLICT (job, expr, tz, source) DO UPDATE SET"
	    " last_seen = excluded.last_seen", &sch, err) < 0 ||
	    jobs_db_prepare(db, "INSERT INTO jobs (name, kind, created_at) VALUES"
	    " (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING", &job, err) < 0)
		goto out;
	for (i = 0; i < r->ct->n; i++) {
		const struct jobs_crontab_entry *e = &r->ct->entries[i];

		sqlite3_reset(sch);
		sqlite3_bind_text(sch, 1, e->job, -1, SQLITE_STATIC);
		sqlite3_bind_text(sch, 2, e->expr, -1, SQLITE_STATIC);
		sqlite3_bind_text(sch, 3, e->tz, -1, SQLITE_STATIC);
		sqlite3_bind_int64(sch, 4, r->now_ms);
		sqlite3_reset(job);
		sqlite3_bind_text(job, 1, e->job, -1, SQLITE_STATIC);
		sqlite3_bind_text(job, 2, strcmp(e->program, "jobs-run") == 0 ?
		    "command" : "program", -1, SQLITE_STATIC);
		sqlite3_bind_int64(job, 3, r->now_ms);
		if (sqlite3_step(sch) != SQLITE_DONE || sqlite3_step(job) != SQLITE_DONE) {
			jobs_db_fail(db, "unable to record schedules in", err);
			goto out;
		}
	}
	rc = 0;
out:
	sqlite3_finalize(sch);
	sqlite3_finalize(job);
	return rc;
}

int
jobs_schedule_record(struct jobs_db *db, const struct jobs_crontab *ct,
    int64_t now_ms, struct jobs_err *err)
{
	struct record r = { ct, now_ms };

	if (ct->n == 0 || sqlite3_db_readonly(db->h, "main") == 1)
		return 0;
	return jobs_db_tx(db, record_tx, &r, err);
}

static int
exists(struct jobs_db *db, const char *sql, const char *job, int64_t a,
    const char *b, int *yes, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (jobs_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a);
	if (b)
		sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read", err);
	return 0;
}

/* Does found have a line running job on expr in tz? */
static int
found_in(const struct jobs_crontab *found, const char *job, const char *expr,
    const char *tz)
{
	int i;

	for (i = 0; found && i < found->n; i++)
		if (strcmp(found->entries[i].job, job) == 0 &&
		    strcmp(found->entries[i].expr, expr) == 0 &&
		    strcmp(found->entries[i].tz, tz) == 0)
			return 1;
	return 0;
}

int
jobs_schedule_load(struct jobs_db *db, const char *job,
    const struct jobs_crontab *found, struct jobs_schedule **out, int *n,
    struct jobs_err *err)
{
	struct jobs_schedule *ss = NULL;
	sqlite3_stmt *st = NULL;
	char zone[64];
	int count = 0, i, yes, rc;

	*out = NULL;
	*n = 0;
	jobs_crontab_system_zone(zone, sizeof(zone));
	if (jobs_db_prepare(db, "SELECT expr, tz, source, first_seen, last_seen"
	    " FROM schedules WHERE job = ? ORDER BY source, expr", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jobs_schedule *more = realloc(ss, (size_t)(count + 1) * sizeof(*ss));
		struct jobs_schedule *s;
		struct jobs_err perr;

		if (more == NULL) {
			sqlite3_finalize(st);
			free(ss);
			return jobs_err_set(err, JOBS_ETEMP, "out of memory");
		}
		ss = more;
		s = &ss[count];
		memset(s, 0, sizeof(*s));
		jobs_db_column_copy(st, 0, s->expr, sizeof(s->expr));
		jobs_db_column_copy(st, 1, s->tz, sizeof(s->tz));
		jobs_db_column_copy(st, 2, s->source, sizeof(s->source));
		s->first_seen = sqlite3_column_int64(st, 3);
		s->last_seen = sqlite3_column_int64(st, 4);
		/* A schedule recorded by an older or newer parser may not parse. */
		if (jobs_cron_parse(&s->cron, s->expr, &perr) < 0)
			continue;
		/* CRON_TZ lines (and declared zones) match each real minute in
		 * the zone; a plain line runs in cron's own time zone. */
		snprintf(s->zone, sizeof(s->zone), "%s", s->tz[0] ? s->tz : zone);
		s->mode = s->tz[0] ? JOBS_CRON_CRONTZ : JOBS_CRON_SYSTEM;
		count++;
	}
	/* An error is no end of the list: a late job would look healthy. */
	if (rc != SQLITE_DONE) {
		jobs_db_fail(db, "unable to read", err);
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	for (i = 0; i < count; i++) {
		struct jobs_schedule *s = &ss[i];

		if (strcmp(s->source, "crontab") == 0) {
			s->current = found_in(found, job, s->expr, s->tz);
			continue;
		}
		s->current = 1;
		if (exists(db, "SELECT 1 FROM schedules WHERE job = ?1 AND source ="
		    " 'declared' AND first_seen > ?2 LIMIT 1", job, s->last_seen, NULL,
		    &yes, err) < 0)
			goto fail;
		if (!yes && exists(db, "SELECT 1 FROM executions WHERE job = ?1 AND"
		    " started_at > ?2 AND trigger = 'cron' AND schedule IS NULL AND"
		    " status != 'skipped' LIMIT 1", job, s->last_seen, NULL, &yes,
		    err) < 0)
			goto fail;
		s->current = !yes;
	}
	*out = ss;
	*n = count;
	return 0;
fail:
	free(ss);
	return -1;
}

int64_t
jobs_schedule_grace(const struct jobs_schedule *s, int64_t slot,
    int64_t override_ms)
{
	struct jobs_err err;
	int64_t before, g;

	if (override_ms >= 0)
		return override_ms;
	if (jobs_cron_prev(&s->cron, slot - 1, s->zone, s->mode, &before, &err) != 1)
		return HOUR_MS;
	g = (slot - before) * 1000 / 10;
	return g < MINUTE_MS ? MINUTE_MS : g > HOUR_MS ? HOUR_MS : g;
}

/* The latest slot at or before now - its grace; 1 and *slot, 0, -1. */
static int
due_slot(const struct jobs_schedule *s, int64_t now, int64_t override_ms,
    int64_t *slot, struct jobs_err *err)
{
	int rc, i;

	*slot = now;
	for (i = 0; i < 3; i++) {
		if ((rc = jobs_cron_prev(&s->cron, *slot, s->zone, s->mode, slot,
		    err)) != 1)
			return rc;
		if (*slot * 1000 + jobs_schedule_grace(s, *slot, override_ms) <= now * 1000)
			return 1;
		(*slot)--;
	}
	return 0;
}

/* When this host booted (epoch s, from /proc/stat), or 0. */
static int64_t
boot_time(void)
{
	char line[256];
	long long t = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &t) == 1)
			break;
	fclose(f);
	return t;
}

int
jobs_schedule_late(struct jobs_db *db, const char *job,
    const struct jobs_schedule *s, int64_t now, int64_t grace_override_ms,
    int64_t *missed, struct jobs_err *err)
{
	int64_t slot;
	int rc, ran;

	if (s->cron.reboot) {
		/* One run expected per boot, within the grace after it. */
		if ((slot = boot_time()) <= 0 || now * 1000 < slot * 1000 +
		    (grace_override_ms >= 0 ? grace_override_ms : 10 * MINUTE_MS))
			return 0;
	} else if ((rc = due_slot(s, now, grace_override_ms, &slot, err)) != 1)
		return rc;
	if (slot * 1000 < s->first_seen)
		return 0;	/* new: not expected before it was known */
	if (exists(db, "SELECT 1 FROM executions WHERE job = ?1 AND started_at >= ?2"
	    " LIMIT 1", job, slot * 1000, NULL, &ran, err) < 0)
		return -1;
	if (ran)
		return 0;
	*missed = slot;
	return 1;
}

int
jobs_schedule_next(const struct jobs_schedule *s, int64_t now, int64_t *next,
    struct jobs_err *err)
{
	if (s->cron.reboot)
		return 0;
	return jobs_cron_next(&s->cron, now, s->zone, s->mode, next, err);
}

int
jobs_schedule_missed(struct jobs_db *db, const char *job,
    const struct jobs_schedule *s, int64_t now, int64_t grace_override_ms,
    int max, struct jobs_missed **out, int *n, struct jobs_err *err)
{
	struct jobs_missed *ms = NULL;
	sqlite3_stmt *st = NULL;
	int64_t slot, end;
	int count = 0, i, rc;

	*out = NULL;
	*n = 0;
	if (s->cron.reboot)
		return 0;
	if ((rc = due_slot(s, now, grace_override_ms, &slot, err)) != 1)
		return rc;
	if (jobs_db_prepare(db, "SELECT status, reason FROM executions WHERE"
	    " job = ?1 AND started_at >= ?2 AND started_at < ?3 ORDER BY"
	    " status = 'skipped' LIMIT 1", &st, err) < 0)
		return -1;
	if (jobs_cron_next(&s->cron, slot, s->zone, s->mode, &end, err) != 1)
		end = now;
	for (i = 0; i < max && slot * 1000 >= s->first_seen; i++) {
		char status[16] = "", reason[16] = "";

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, slot * 1000);
		sqlite3_bind_int64(st, 3, end * 1000);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			jobs_db_column_copy(st, 0, status, sizeof(status));
			jobs_db_column_copy(st, 1, reason, sizeof(reason));
		} else if (rc != SQLITE_DONE) {
			jobs_db_fail(db, "unable to read", err);
			goto fail;
		}
		if (status[0] == '\0' || strcmp(status, "skipped") == 0) {
			struct jobs_missed *more = realloc(ms, (size_t)(count + 1) *
			    sizeof(*ms));

			if (more == NULL) {
				jobs_err_set(err, JOBS_ETEMP, "out of memory");
				goto fail;
			}
			ms = more;
			ms[count].slot = slot;
			if (status[0])
				snprintf(ms[count].reason, sizeof(ms[count].reason),
				    "skipped:%s", reason);
			else
				snprintf(ms[count].reason, sizeof(ms[count].reason),
				    "never-invoked");
			count++;
		}
		end = slot;
		if (jobs_cron_prev(&s->cron, slot - 1, s->zone, s->mode, &slot, err) != 1)
			break;
	}
	sqlite3_finalize(st);
	*out = ms;
	*n = count;
	return 0;
fail:
	sqlite3_finalize(st);
	free(ms);
	return -1;
}
