#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "outbox.h"
#include "report.h"
#include "run.h"
#include "spool.h"
#include "text.h"
#include "tz.h"
#include "venue.h"

#define TOP 5
#define NAME_MAX_BYTES 200	/* of a venue's name in a subject */
#define WORD_MAX_BYTES 64	/* of a rule or keyword in a body */

/*
 * The day's numbers in one statement (one snapshot): feedback through the
 * covering index feedback_venue, sent responses through responses_venue
 * (venue_id, status, sent_at, feedback_id), alerts through alerts_venue.
 */
static const char day_sql[] =
    "WITH counts AS (SELECT count(*) AS n, sum(rating >= 4) AS good,"
    " avg(rating) AS rating FROM feedback WHERE venue_id = ?1 AND created_at"
    " >= ?2 AND created_at < ?3),"
    " answered AS (SELECT count(*) AS n, avg(r.sent_at - f.created_at) AS"
    " wait FROM responses AS r LEFT JOIN feedback AS f ON f.id ="
    " r.feedback_id WHERE r.venue_id = ?1 AND r.status = 'sent' AND"
    " r.sent_at >= ?2 AND r.sent_at < ?3)"
    " SELECT counts.n, answered.n, round(answered.wait / 3600.0, 2),"
    " (SELECT count(*) FROM alerts WHERE venue_id = ?1 AND detected_at >= ?2"
    " AND detected_at < ?3 AND level = 'critical'),"
    " round(counts.rating, 2),"
    " CASE WHEN counts.n > 0 THEN round(100.0 * counts.good / counts.n, 2) END"
    " FROM counts, answered";

static const char *const day_names[] = { "feedback_received",
    "responses_sent", "avg_response_time_hours", "critical_alerts",
    "average_rating", "satisfaction_pct" };

/* The most frequent rules, and keywords split from the comma lists. */
static const char rules_sql[] =
    "SELECT rule, count(*) FROM alerts WHERE venue_id = ?1 AND detected_at"
    " >= ?2 AND detected_at < ?3 GROUP BY rule ORDER BY 2 DESC, 1 LIMIT ?4";
static const char keywords_sql[] =
    "WITH RECURSIVE split(word, rest) AS (SELECT '', matched || ',' FROM"
    " alerts WHERE venue_id = ?1 AND detected_at >= ?2 AND detected_at < ?3"
    " AND matched IS NOT NULL UNION ALL SELECT trim(substr(rest, 1,"
    " instr(rest, ',') - 1)), substr(rest, instr(rest, ',') + 1) FROM split"
    " WHERE rest != '') SELECT word, count(*) FROM split WHERE word != ''"
    " GROUP BY word ORDER BY 2 DESC, 1 LIMIT ?4";

static int
bind_day(sqlite3_stmt *st, const struct jobs_venue *v,
    const struct jobs_tz_day *d)
{
	sqlite3_bind_int64(st, 1, v->id);
	sqlite3_bind_int64(st, 2, d->start);
	sqlite3_bind_int64(st, 3, d->end);
	return sqlite3_bind_int(st, 4, TOP);
}

/* The rows of sql as [{name: text, count: n}] under key in o. */
static int
top(struct jobs_db *app, const char *sql, const struct jobs_venue *v,
    const struct jobs_tz_day *d, cJSON *o, const char *key, const char *name,
    struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *list, *it;
	int step;

	if ((list = cJSON_AddArrayToObject(o, key)) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	if (jobs_db_prepare(app, sql, &st, err) < 0)
		return -1;
	bind_day(st, v, d);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((it = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(list, it) ||
		    !cJSON_AddStringToObject(it, name,
		    (const char *)sqlite3_column_text(st, 0)) ||
		    !cJSON_AddNumberToObject(it, "count",
		    sqlite3_column_double(st, 1))) {
			sqlite3_finalize(st);
			return jobs_err_set(err, JOBS_ETEMP, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return jobs_db_fail(app, "unable to read alerts from", err);
	return 0;
}

int
jobs_report_venue(struct jobs_db *app, const struct jobs_venue *v,
    const struct jobs_tz_day *d, cJSON **out, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *o = NULL, *issues;
	int rc = -1;

	*out = NULL;
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddNumberToObject(o, "venue_id", (double)v->id) ||
	    !cJSON_AddStringToObject(o, "day", d->date) ||
	    !cJSON_AddStringToObject(o, "timezone", v->timezone) ||
	    !cJSON_AddNumberToObject(o, "start", (double)d->start) ||
	    !cJSON_AddNumberToObject(o, "end", (double)d->end))
		goto oom;
	if (jobs_db_prepare(app, day_sql, &st, err) < 0)
		goto out;
	bind_day(st, v, d);
	if (sqlite3_step(st) != SQLITE_ROW) {
		jobs_db_fail(app, "unable to read the day from", err);
		goto out;
	}
	if (jobs_venue_numbers(o, st, day_names, (int)(sizeof(day_names) /
	    sizeof(day_names[0]))) < 0)
		goto oom;
	sqlite3_finalize(st);
	st = NULL;
	if ((issues = cJSON_AddObjectToObject(o, "top_issues")) == NULL)
		goto oom;
	if (top(app, rules_sql, v, d, issues, "rules", "rule", err) < 0 ||
	    top(app, keywords_sql, v, d, issues, "keywords", "keyword", err) < 0)
		goto out;
	*out = o;
	o = NULL;
	rc = 0;
	goto out;
oom:
	jobs_err_set(err, JOBS_ETEMP, "out of memory");
out:
	sqlite3_finalize(st);
	cJSON_Delete(o);
	return rc;
}

/* Append to buf at *len; -1 when it does not fit. */
static int __attribute__((format(printf, 4, 5)))
put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/* A number of the report, or "n/a" when it is null. */
static const char *
number(const cJSON *r, const char *key, const char *unit, char *buf,
    size_t size)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(r, key);

	if (!cJSON_IsNumber(it))
		return "n/a";
	snprintf(buf, size, "%.15g%s", it->valuedouble, unit);
	return buf;
}

static int
put_top(char *body, size_t size, size_t *len, const cJSON *list,
    const char *title, const char *name)
{
	const cJSON *it;
	char word[WORD_MAX_BYTES];
	const char *s;

	if (put(body, size, len, "\n%s\n", title) < 0)
		return -1;
	if (cJSON_GetArraySize(list) == 0)
		return put(body, size, len, "  none\n");
	cJSON_ArrayForEach(it, list) {
		s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, name));
		jobs_text_clean(s ? s : "", s ? strlen(s) : 0, word, sizeof(word), 0);
		if (put(body, size, len, "  %-32s %5lld\n", word, (long long)
		    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it,
		    "count"))) < 0)
			return -1;
	}
	return 0;
}

int
jobs_report_mail(const struct jobs_venue *v, const cJSON *r, char *subject,
    size_t ssize, char *body, size_t bsize)
{
	const cJSON *issues = cJSON_GetObjectItemCaseSensitive(r, "top_issues");
	const char *day = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r,
	    "day"));
	char name[NAME_MAX_BYTES], a[6][32];
	size_t len = 0;
	int n;

	/* Untrusted text: no line breaks or controls in a header. */
	jobs_text_clean(v->name ? v->name : "", v->name ? strlen(v->name) : 0,
	    name, sizeof(name), 0);
	n = snprintf(subject, ssize, "Daily report for %s: %s", name,
	    day ? day : "");
	if (n < 0 || (size_t)n >= ssize)
		return -1;
	body[0] = '\0';
	if (put(body, bsize, &len, "Daily report for %s\n%s (%s)\n\n", name,
	    day ? day : "", v->timezone) < 0 ||
	    put(body, bsize, &len, "  %-24s %s\n", "Feedback received",
	    number(r, "feedback_received", "", a[0], sizeof(a[0]))) < 0 ||
	    put(body, bsize, &len, "  %-24s %s\n", "Responses sent",
	    number(r, "responses_sent", "", a[1], sizeof(a[1]))) < 0 ||
	    put(body, bsize, &len, "  %-24s %s\n", "Average response time",
	    number(r, "avg_response_time_hours", " hours", a[2],
	    sizeof(a[2]))) < 0 ||
	    put(body, bsize, &len, "  %-24s %s\n", "Critical alerts",
	    number(r, "critical_alerts", "", a[3], sizeof(a[3]))) < 0 ||
	    put(body, bsize, &len, "  %-24s %s\n", "Average rating",
	    number(r, "average_rating", " / 5", a[4], sizeof(a[4]))) < 0 ||
	    put(body, bsize, &len, "  %-24s %s\n", "Satisfaction (4 or 5)",
	    number(r, "satisfaction_pct", "%", a[5], sizeof(a[5]))) < 0 ||
	    put_top(body, bsize, &len, cJSON_GetObjectItemCaseSensitive(issues,
	    "rules"), "Most frequent alerts", "rule") < 0 ||
	    put_top(body, bsize, &len, cJSON_GetObjectItemCaseSensitive(issues,
	    "keywords"), "Most frequent keywords", "keyword") < 0 ||
	    put(body, bsize, &len, "\n-- \njobs-report\n") < 0)
		return -1;
	return 0;
}

struct store {
	const struct jobs_venue *v;
	const char *day, *json, *key;
	const struct jobs_outbox_msg *msg;	/* NULL: not mailed */
	const char *spool_root;
	int64_t now_s;
	int inserted, mailed_before;
};

/*
 * The report and its mail commit together.  A report already there (a
 * run that overlapped) leaves everything as it was; a mail queued before
 * under the same key (a day rebuilt after its row was deleted) is not
 * queued again.
 */
static int
store_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct store *s = arg;
	sqlite3_stmt *st = NULL;
	int64_t id;
	int existing, step;

	s->inserted = s->mailed_before = 0;
	if (jobs_db_prepare(db, "INSERT INTO reports (venue_id, day, created_at,"
	    " report) VALUES (?, ?, ?, ?) ON CONFLICT (venue_id, day) DO NOTHING",
	    &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, s->v->id);
	sqlite3_bind_text(st, 2, s->day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->now_s);
	sqlite3_bind_text(st, 4, s->json, -1, SQLITE_STATIC);
	if (jobs_db_done(db, st, err) < 0)
		return -1;
	if ((s->inserted = sqlite3_changes(db->h) > 0) == 0 || s->msg == NULL)
		return 0;
	if (jobs_db_prepare(db, "SELECT 1 FROM outbox WHERE source = 'jobs-report'"
	    " AND idempotency_key = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, s->key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW) {
		s->mailed_before = 1;
		return 0;
	}
	if (step != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read the outbox of", err);
	return jobs_outbox_enqueue_in(db, s->msg, s->spool_root, s->now_s, &id,
	    &existing, err);
}

/* 1 when the venue's report of day is there already, 0 if not, -1. */
static int
made(struct jobs_db *app, int64_t venue, const char *day, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int step;

	if (jobs_db_prepare(app, "SELECT 1 FROM reports WHERE venue_id = ? AND"
	    " day = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, venue);
	sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 1;
	if (step != SQLITE_DONE)
		return jobs_db_fail(app, "unable to read reports from", err);
	return 0;
}

/* The day to report for v: day named, or yesterday in v's zone. */
static int
which_day(const struct jobs_venue *v, const char *day, int64_t now_s,
    struct jobs_tz_day *d, struct jobs_err *err)
{
	struct jobs_tz_day today;

	if (day != NULL) {
		if (jobs_tz_day_parse(v->timezone, day, d, err) < 0)
			return -1;
		if (d->end > now_s)
			return jobs_err_set(err, JOBS_EUSAGE, "%s is not over yet"
			    " in %s", d->date, v->timezone);
		return 0;
	}
	if (jobs_tz_day(v->timezone, now_s, &today, err) < 0)
		return -1;
	return jobs_tz_day(v->timezone, today.start - 1, d, err);
}

/*
 * One venue: -1 with err stops the run; a venue that cannot be reported
 * is logged and counted, and the run goes on.
 */
static int
one(struct jobs_ctx *c, const struct jobs_venue *v, const char *day,
    const char *spool_root, struct jobs_report_result *res, cJSON *reports,
    int64_t *omitted, struct jobs_err *err)
{
	struct jobs_tz_day d;
	struct jobs_err verr = { 0, "" };
	struct jobs_outbox_msg msg;
	struct store s;
	char subject[512], body[8192], key[64], *dest = NULL, *json = NULL;
	cJSON *r = NULL;
	int rc = -1, dry = c->opts->dry_run, k;

	if (which_day(v, day, jobs_clock_now_ms() / 1000, &d, &verr) < 0)
		goto skip;
	if ((k = made(c->app, v->id, d.date, err)) < 0)
		return -1;
	if (k == 1) {
		res->skipped++;
		jobs_log(c, JOBS_DEBUG, "venue %lld: %s reported already",
		    (long long)v->id, d.date);
		return 0;
	}
	if (jobs_report_venue(c->app, v, &d, &r, err) < 0)
		return -1;
	memset(&msg, 0, sizeof(msg));
	snprintf(key, sizeof(key), "report-%lld-%s", (long long)v->id, d.date);
	if (v->manager_email != NULL) {
		size_t n = strlen(v->manager_email) + sizeof("mailto:");

		if ((dest = malloc(n)) == NULL)
			goto oom;
		snprintf(dest, n, "mailto:%s", v->manager_email);
		if (jobs_report_mail(v, r, subject, sizeof(subject), body,
		    sizeof(body)) < 0) {
			jobs_err_set(&verr, JOBS_EFAIL, "the mail of %s does not"
			    " fit", d.date);
			goto skip;
		}
		msg = (struct jobs_outbox_msg){ .destination = dest,
		    .subject = subject, .body = body, .key = key,
		    .source = "jobs-report" };
		/* A bad address: no report, so that a rerun mails it once fixed. */
		if (jobs_outbox_check(&msg, spool_root, &verr) < 0)
			goto skip;
	}
	if ((json = cJSON_PrintUnformatted(r)) == NULL)
		goto oom;
	s = (struct store){ v, d.date, json, key, v->manager_email ? &msg : NULL,
	    spool_root, jobs_clock_now_ms() / 1000, 1, 0 };
	if (!dry && jobs_db_tx(c->app, store_tx, &s, err) < 0)
		goto out;
	if (!s.inserted) {
		res->skipped++;
		rc = 0;
		goto out;
	}
	res->made++;
	if (s.msg != NULL && !s.mailed_before) {
		res->mailed++;
	} else {
		res->not_mailed++;
		jobs_log(c, JOBS_INFO, "venue %lld: report of %s %s", (long long)v->id,
		    d.date, s.msg == NULL ? "not mailed: the venue has no"
		    " manager_email" : "not mailed again: its mail was queued"
		    " before");
	}
	rc = jobs_venue_metric(reports, v->id, r, JOBS_REPORT_METRICS_MAX, omitted);
	r = NULL;
	if (rc < 0)
		goto oom;
	goto out;
skip:
	jobs_log(c, JOBS_WARN, "venue %lld: %s", (long long)v->id, verr.msg);
	res->failed++;
	rc = 0;
	goto out;
oom:
	rc = jobs_err_set(err, JOBS_ETEMP, "out of memory");
out:
	cJSON_Delete(r);
	free(json);
	free(dest);
	return rc;
}

int
jobs_report_run(struct jobs_ctx *c, const char *day, int64_t venue,
    struct jobs_report_result *res, struct jobs_err *err)
{
	struct jobs_venue *v = NULL;
	const char *spool_cfg = NULL;
	char root[4096];
	cJSON *reports;
	int64_t omitted = 0;
	size_t n = 0, i;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (jobs_config_string(c->config->root, "spool_dir", &spool_cfg, err) < 0 ||
	    jobs_spool_root(spool_cfg, c->opts->db, root, sizeof(root), err) < 0)
		return -1;
	if (jobs_venue_list(c->app, venue, c->opts->limit, &v, &n, err) < 0)
		return -1;
	if (venue > 0 && n == 0) {
		jobs_err_set(err, JOBS_EUSAGE, "no venue %lld", (long long)venue);
		goto out;
	}
	if ((reports = cJSON_AddObjectToObject(c->metrics, "reports")) == NULL) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (jobs_run_cancelled(c)) {
			jobs_err_set(err, JOBS_EFAIL, "stopped after %zu of %zu"
			    " venues", i, n);
			goto out;
		}
		if (one(c, &v[i], day, root, res, reports, &omitted, err) < 0)
			goto out;
	}
	if (omitted > 0)
		jobs_metric(c, c->metrics, "reports_omitted", (double)omitted);
	jobs_metric(c, c->metrics, "made", (double)res->made);
	jobs_metric(c, c->metrics, "mailed", (double)res->mailed);
	jobs_metric(c, c->metrics, "not_mailed", (double)res->not_mailed);
	jobs_metric(c, c->metrics, "skipped", (double)res->skipped);
	jobs_metric(c, c->metrics, "failed", (double)res->failed);
	rc = 0;
out:
	jobs_venue_free(v, n);
	return rc;
}
