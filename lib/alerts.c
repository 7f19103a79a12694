#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "keywords.h"
#include "mail.h"
#include "outbox.h"
#include "text.h"
#include "venue.h"

#define BATCH		5000
#define BATCH_MAX	100000
#define EXCERPT		240	/* bytes of the comment an alert quotes */
#define SOURCE		"jobs-alerts"

static const char *const rule_names[JOBS_RULES] = { "low_rating",
    "critical_keyword", "warning_keyword", "repeat_complaint",
    "high_value_customer" };

/* What matters for safety first; "sick" on its own word, not "sickly". */
static const char *const default_critical[] = { "food poisoning", "sick",
    "ill", "vomit", "vomited", "vomiting", "threw up", "diarrhea",
    "diarrhoea", "roach", "roaches", "cockroach", "cockroaches", "rat",
    "rats", "mouse", "mice", "hair", "mold", "mould", "salmonella",
    "allergic reaction", "anaphylaxis", "hospital" };
static const char *const default_warning[] = { "rude", "dirty", "filthy",
    "cold food", "stale", "undercooked", "raw", "burnt", "overcooked",
    "slow", "waited", "overpriced", "disgusting", "unprofessional",
    "ignored", "wrong order", "refund", "never again", "worst" };

struct jobs_alerts {
	struct jobs_keywords *critical, *warning;
	int64_t low_rating;
	double high_value;
	int64_t repeat_count;
	int64_t repeat_window_s;
	int enabled[JOBS_RULES];
};

const char *
jobs_alerts_rule_name(int rule)
{
	return rule >= 0 && rule < JOBS_RULES ? rule_names[rule] : NULL;
}

void
jobs_alerts_free(struct jobs_alerts *a)
{
	if (a == NULL)
		return;
	jobs_keywords_free(a->critical);
	jobs_keywords_free(a->warning);
	free(a);
}

/* The config readers say "config: KEY: ..."; say which section. */
static int
in_section(struct jobs_err *err)
{
	char msg[sizeof(err->msg)];

	if (err && strncmp(err->msg, "config: ", 8) == 0) {
		snprintf(msg, sizeof(msg), "%s", err->msg + 8);
		jobs_err_set(err, err->code, "config: alerts.%s", msg);
	}
	return -1;
}

/* A list of strings at key (absent: the defaults), compiled. */
static int
word_list(const cJSON *sec, const char *key, const char *const *defaults,
    size_t ndefaults, struct jobs_keywords **out, struct jobs_err *err)
{
	const cJSON *it = sec ? cJSON_GetObjectItemCaseSensitive(sec, key) : NULL;
	const cJSON *w;
	const char **words = NULL;
	char msg[sizeof(err->msg)];
	size_t n = 0;
	int rc;

	if (it == NULL)
		return jobs_keywords_compile(out, defaults, ndefaults, err);
	if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) > JOBS_KEYWORDS_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "config: alerts.%s: want a"
		    " list of at most %d strings", key, JOBS_KEYWORDS_MAX);
	if ((words = calloc((size_t)cJSON_GetArraySize(it) + 1, sizeof(*words))) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	cJSON_ArrayForEach(w, it) {
		if (!cJSON_IsString(w)) {
			free(words);
			return jobs_err_set(err, JOBS_EUSAGE, "config: alerts.%s: want"
			    " a list of strings", key);
		}
		words[n++] = w->valuestring;
	}
	rc = jobs_keywords_compile(out, words, n, err);
	free(words);
	if (rc < 0 && err && err->code == JOBS_EUSAGE) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		jobs_err_set(err, JOBS_EUSAGE, "config: alerts.%s: %s", key, msg);
	}
	return rc;
}

static int
disabled_rules(const cJSON *sec, struct jobs_alerts *a, struct jobs_err *err)
{
	const cJSON *it = sec ? cJSON_GetObjectItemCaseSensitive(sec,
	    "disabled_rules") : NULL, *r;
	int i;

	if (it == NULL)
		return 0;
	if (!cJSON_IsArray(it))
		return jobs_err_set(err, JOBS_EUSAGE, "config: alerts.disabled_rules:"
		    " want a list of rule names");
	cJSON_ArrayForEach(r, it) {
		for (i = 0; i < JOBS_RULES && cJSON_IsString(r); i++)
			if (strcmp(r->valuestring, rule_names[i]) == 0)
				break;
		if (!cJSON_IsString(r) || i == JOBS_RULES)
			return jobs_err_set(err, JOBS_EUSAGE, "config: alerts.disabled_rules:"
			    " unknown rule '%.40s' (rules: low_rating, critical_keyword,"
			    " warning_keyword, repeat_complaint, high_value_customer)",
			    cJSON_IsString(r) ? r->valuestring : "(not a string)");
		a->enabled[i] = 0;
	}
	return 0;
}

int
jobs_alerts_new(struct jobs_alerts **out, const cJSON *sec, struct jobs_err *err)
{
	struct jobs_alerts *a;
	const cJSON *it;
	int64_t ms = 30LL * 86400 * 1000;
	int i;

	*out = NULL;
	if (sec && !cJSON_IsObject(sec))
		return jobs_err_set(err, JOBS_EUSAGE, "config: alerts: want an object");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	a->low_rating = 2;
	a->high_value = 1000;
	a->repeat_count = 3;
	for (i = 0; i < JOBS_RULES; i++)
		a->enabled[i] = 1;
	if (jobs_config_count(sec, "low_rating", &a->low_rating, err) < 0 ||
	    jobs_config_count(sec, "repeat_count", &a->repeat_count, err) < 0 ||
	    jobs_config_duration(sec, "repeat_window", &ms, err) < 0) {
		in_section(err);
		goto fail;
	}
	if (a->low_rating < 1 || a->low_rating > 5) {
		jobs_err_set(err, JOBS_EUSAGE, "config: alerts.low_rating: want a"
		    " rating from 1 to 5");
		goto fail;
	}
	if (a->repeat_count < 1 || a->repeat_count > 1000000) {
		jobs_err_set(err, JOBS_EUSAGE, "config: alerts.repeat_count: want 1"
		    " to 1000000");
		goto fail;
	}
	if (ms < 1000) {
		jobs_err_set(err, JOBS_EUSAGE, "config: alerts.repeat_window: want at"
		    " least a second");
		goto fail;
	}
	a->repeat_window_s = ms / 1000;
	if (sec && (it = cJSON_GetObjectItemCaseSensitive(sec, "high_value"))) {
		/* NaN fails both comparisons; "1e999" parses as infinity. */
		if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) ||
		    !(it->valuedouble < 1e15)) {
			jobs_err_set(err, JOBS_EUSAGE, "config: alerts.high_value: want"
			    " a number from 0 up");
			goto fail;
		}
		a->high_value = it->valuedouble;
	}
	if (disabled_rules(sec, a, err) < 0 ||
	    word_list(sec, "critical_keywords", default_critical,
	    sizeof(default_critical) / sizeof(default_critical[0]), &a->critical,
	    err) < 0 ||
	    word_list(sec, "warning_keywords", default_warning,
	    sizeof(default_warning) / sizeof(default_warning[0]), &a->warning,
	    err) < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	jobs_alerts_free(a);
	return -1;
}

/* A venue as its alerts' notifications need it, read once a run. */
struct venue {
	int64_t id;
	int used;
	int exists;
	int level;		/* notify_level */
	int mail_bad;		/* manager_email set but unusable */
	char *name;		/* cleaned for a subject line */
	char *mail;		/* "mailto:..." or NULL */
	char *hook;		/* notify_webhook or NULL */
};

struct row {
	int64_t id, venue_id, customer_id, created_at;
	int has_customer, has_value, rating;
	double value;
	const char *comment;
	size_t len;
};

/* One alert about to be recorded. */
struct alert {
	int rule, level;
	char title[256];
	const char *matched;	/* NULL: none */
};

struct scan {
	const struct jobs_alerts *a;
	const struct jobs_alerts_run *r;
	struct jobs_db *db;
	struct jobs_alerts_result *res;
	sqlite3_stmt *sel, *wm_get, *wm_set, *repeat, *ins, *exists, *venue,
	    *queued;
	unsigned char *crit_hit, *warn_hit;
	struct venue *venues;	/* open addressing, cap a power of two */
	size_t nvenues, cap;
	int64_t wm;		/* dry run: where the next batch starts */
	int have_wm;
	int want, got;
	struct jobs_alerts_result b;	/* this batch, added once it commits */
	char desc[EXCERPT + 128];	/* the current row's description */
};

static void
warn(const struct scan *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
warn(const struct scan *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s->r->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->r->warn(s->r->warn_arg, msg);
}

static size_t
venue_slot(const struct venue *v, size_t cap, int64_t id)
{
	size_t i = (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);

	while (v[i].used && v[i].id != id)
		i = (i + 1) & (cap - 1);
	return i;
}

static int
venue_grow(struct scan *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64, i;
	struct venue *v = calloc(cap, sizeof(*v));

	if (v == NULL)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (s->venues[i].used)
			v[venue_slot(v, cap, s->venues[i].id)] = s->venues[i];
	free(s->venues);
	s->venues = v;
	s->cap = cap;
	return 0;
}

/* Fill v from the venues row; warnings once a venue a run. */
static int
venue_load(struct scan *s, struct venue *v, struct jobs_err *err)
{
	struct jobs_venue_settings vs;
	struct jobs_err e = { 0, "" };
	char addr[JOBS_MAIL_ADDR_MAX];
	const char *name, *email;
	int step, rc = 0;

	v->level = JOBS_ALERT_HIGH;
	sqlite3_bind_int64(s->venue, 1, v->id);
	step = sqlite3_step(s->venue);
	if (step == SQLITE_DONE) {
		warn(s, "venue %lld does not exist: its alerts notify nobody",
		    (long long)v->id);
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = jobs_db_fail(s->db, "unable to read venues from", err);
		goto out;
	}
	v->exists = 1;
	name = (const char *)sqlite3_column_text(s->venue, 0);
	email = (const char *)sqlite3_column_text(s->venue, 1);
	if (jobs_venue_settings_parse((const char *)sqlite3_column_text(s->venue, 2),
	    &vs, &e) < 0) {
		if (e.code == JOBS_ETEMP)
			goto nomem;	/* says nothing of the settings */
		warn(s, "venue %lld: %s: using the defaults", (long long)v->id, e.msg);
		s->res->bad_settings++;
	}
	v->level = vs.notify_level;
	name = name ? name : "";
	if ((v->name = jobs_text_clean_dup(name, strlen(name), 0)) == NULL)
		goto nomem;
	if (vs.notify_webhook[0] && (v->hook = strdup(vs.notify_webhook)) == NULL)
		goto nomem;
	if (email && *email) {
		size_t n = strlen(email) + sizeof("mailto:");

		if ((v->mail = malloc(n)) == NULL)
			goto nomem;
		snprintf(v->mail, n, "mailto:%s", email);
		/* The sender's rule: what it would refuse is never queued. */
		if (jobs_mail_check_address(v->mail, addr, sizeof(addr), &e) < 0) {
			warn(s, "venue %lld: manager_email is not a usable address"
			    " (%s): its alerts are not mailed", (long long)v->id, e.msg);
			free(v->mail);
			v->mail = NULL;
			v->mail_bad = 1;
		}
	}
	goto out;
nomem:
	rc = jobs_err_set(err, JOBS_ETEMP, "out of memory");
out:
	sqlite3_reset(s->venue);
	return rc;
}

/* The venue id, from the run's cache or read now; NULL with err. */
static const struct venue *
venue_get(struct scan *s, int64_t id, struct jobs_err *err)
{
	struct venue *v;
	size_t i;

	if (s->cap && s->venues[i = venue_slot(s->venues, s->cap, id)].used)
		return &s->venues[i];
	if ((s->nvenues + 1) * 2 > s->cap && venue_grow(s) < 0) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		return NULL;
	}
	v = &s->venues[venue_slot(s->venues, s->cap, id)];
	memset(v, 0, sizeof(*v));
	v->used = 1;
	v->id = id;
	s->nvenues++;
	/* Once loaded (even in a transaction retried later), kept for the run. */
	if (venue_load(s, v, err) < 0)
		return NULL;
	return v;
}

/* Queue one message unless its key was queued before. */
static int
enqueue(struct scan *s, const struct row *f, const char *key, const char *dest,
    const char *subject, const char *body, struct jobs_err *err)
{
	struct jobs_outbox_msg m;
	struct jobs_err e = { 0, "" };
	int64_t id;
	int step, existing = 0;

	/*
	 * A key already there means this alert was notified before (its
	 * alert row deleted since): never again, and never a conflict that
	 * would stop every later batch.
	 */
	sqlite3_bind_text(s->queued, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(s->queued);
	sqlite3_reset(s->queued);
	if (step == SQLITE_ROW)
		return 0;
	if (step != SQLITE_DONE)
		return jobs_db_fail(s->db, "unable to read the outbox of", err);
	if (s->r->dry) {
		s->b.notified++;
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.destination = dest;
	m.subject = subject;
	m.body = body;
	m.key = key;
	m.source = SOURCE;
	if (jobs_outbox_enqueue_in(s->db, &m, s->r->spool_root, s->r->now_s, &id,
	    &existing, &e) < 0) {
		/* Refused before anything was written: skip it, keep the batch. */
		if (e.code == JOBS_EUSAGE) {
			warn(s, "venue %lld: feedback %lld: %s not queued: %s",
			    (long long)f->venue_id, (long long)f->id, dest, e.msg);
			s->b.not_notified++;
			return 0;
		}
		*err = e;
		return -1;
	}
	if (!existing)
		s->b.notified++;
	return 0;
}

static int
notify_mail(struct scan *s, const struct venue *v, const struct row *f,
    const struct alert *al, int64_t alert_id, struct jobs_err *err)
{
	char key[JOBS_OUTBOX_KEY_MAX], subject[512], body[4096], when[64];

	jobs_clock_iso(s->r->now_s * 1000, when, sizeof(when));
	snprintf(key, sizeof(key), "alert-%lld-%s-mail", (long long)f->id,
	    rule_names[al->rule]);
	snprintf(subject, sizeof(subject), "[%s] %.200s: %s",
	    jobs_venue_level_name(al->level), v->name, al->title);
	snprintf(body, sizeof(body), "%s\n\n"
	    "Venue:     %s (venue %lld)\n"
	    "Level:     %s\n"
	    "Rule:      %s\n"
	    "Feedback:  %lld, rating %d/5%s\n"
	    "%s%s%s"
	    "\n%s\n\n"
	    "Alert %lld, detected %s.\n",
	    al->title, v->name, (long long)v->id, jobs_venue_level_name(al->level),
	    rule_names[al->rule], (long long)f->id, f->rating,
	    f->has_customer ? "" : ", no customer",
	    al->matched ? "Matched:   " : "", al->matched ? al->matched : "",
	    al->matched ? "\n" : "", s->desc, (long long)alert_id, when);
	return enqueue(s, f, key, v->mail, subject, body, err);
}

static int
notify_hook(struct scan *s, const struct venue *v, const struct row *f,
    const struct alert *al, int64_t alert_id, struct jobs_err *err)
{
	char key[JOBS_OUTBOX_KEY_MAX], *body;
	cJSON *o = cJSON_CreateObject(), *x = cJSON_AddObjectToObject(o, "alert");
	int rc;

	snprintf(key, sizeof(key), "alert-%lld-%s-hook", (long long)f->id,
	    rule_names[al->rule]);
	cJSON_AddStringToObject(o, "type", "alert");
	cJSON_AddNumberToObject(x, "id", (double)alert_id);
	cJSON_AddNumberToObject(x, "venue_id", (double)v->id);
	cJSON_AddStringToObject(x, "venue", v->name);
	cJSON_AddNumberToObject(x, "feedback_id", (double)f->id);
	if (f->has_customer)
		cJSON_AddNumberToObject(x, "customer_id", (double)f->customer_id);
	else
		cJSON_AddNullToObject(x, "customer_id");
	cJSON_AddNumberToObject(x, "rating", f->rating);
	cJSON_AddStringToObject(x, "level", jobs_venue_level_name(al->level));
	cJSON_AddStringToObject(x, "rule", rule_names[al->rule]);
	cJSON_AddStringToObject(x, "title", al->title);
	cJSON_AddStringToObject(x, "description", s->desc);
	if (al->matched)
		cJSON_AddStringToObject(x, "matched", al->matched);
	else
		cJSON_AddNullToObject(x, "matched");
	cJSON_AddNumberToObject(x, "detected_at", (double)s->r->now_s);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (body == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	rc = enqueue(s, f, key, v->hook, NULL, body, err);
	free(body);
	return rc;
}

/* Queue a new alert's notifications when its level reaches the venue's. */
static int
notify(struct scan *s, const struct row *f, const struct alert *al,
    int64_t alert_id, struct jobs_err *err)
{
	const struct venue *v;

	if ((v = venue_get(s, f->venue_id, err)) == NULL)
		return -1;
	if (al->level < v->level)
		return 0;
	if (!v->exists || v->mail_bad)
		s->b.not_notified++;
	if (v->mail && notify_mail(s, v, f, al, alert_id, err) < 0)
		return -1;
	if (v->hook && notify_hook(s, v, f, al, alert_id, err) < 0)
		return -1;
	return 0;
}

/* Record an alert (unless there is one for this feedback and rule). */
static int
emit(struct scan *s, const struct row *f, const struct alert *al,
    struct jobs_err *err)
{
	int64_t id = 0;
	int step;

	if (s->r->dry) {
		sqlite3_bind_int64(s->exists, 1, f->id);
		sqlite3_bind_text(s->exists, 2, rule_names[al->rule], -1, SQLITE_STATIC);
		step = sqlite3_step(s->exists);
		sqlite3_reset(s->exists);
		if (step == SQLITE_ROW)
			return 0;
		if (step != SQLITE_DONE)
			return jobs_db_fail(s->db, "unable to read alerts from", err);
	} else {
		sqlite3_bind_int64(s->ins, 1, f->venue_id);
		sqlite3_bind_int64(s->ins, 2, f->id);
		sqlite3_bind_text(s->ins, 3, jobs_venue_level_name(al->level), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(s->ins, 4, rule_names[al->rule], -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins, 5, al->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins, 6, s->desc, -1, SQLITE_STATIC);
		jobs_db_bind_text(s->ins, 7, al->matched);
		sqlite3_bind_int64(s->ins, 8, s->r->now_s);
		step = sqlite3_step(s->ins);
		sqlite3_reset(s->ins);
		if (step != SQLITE_DONE)
			return jobs_db_fail(s->db, "unable to record an alert in", err);
		/* One alert per (feedback, rule): an old one is left alone. */
		if (sqlite3_changes(s->db->h) == 0)
			return 0;
		id = sqlite3_last_insert_rowid(s->db->h);
	}
	s->b.alerts[al->level]++;
	return notify(s, f, al, id, err);
}

/* The found keywords of kw joined by sep into buf, as many as fit. */
static void
join(const struct jobs_keywords *kw, const unsigned char *hit, const char *sep,
    char *buf, size_t size)
{
	size_t i, used = 0, n, seplen = strlen(sep);

	buf[0] = '\0';
	for (i = 0; i < jobs_keywords_count(kw); i++) {
		if (!hit[i])
			continue;
		n = strlen(jobs_keywords_word(kw, i));
		if (used + (used ? seplen : 0) + n + 1 > size)
			break;
		if (used) {
			memcpy(buf + used, sep, seplen);
			used += seplen;
		}
		memcpy(buf + used, jobs_keywords_word(kw, i), n + 1);
		used += n;
	}
}

/* "Rating 2/5, customer 7: \"the comment...\"" into s->desc. */
static void
describe(struct scan *s, const struct row *f)
{
	char excerpt[EXCERPT], who[48];
	size_t n;

	jobs_text_clean(f->comment, f->len, excerpt, sizeof(excerpt), 0);
	n = strlen(excerpt);
	if (n + 8 >= sizeof(excerpt) && f->len > n)
		snprintf(excerpt + n, sizeof(excerpt) - n, "...");
	if (f->has_customer)
		snprintf(who, sizeof(who), ", customer %lld", (long long)f->customer_id);
	else
		who[0] = '\0';
	if (excerpt[0])
		snprintf(s->desc, sizeof(s->desc), "Rating %d/5%s: \"%s\"", f->rating,
		    who, excerpt);
	else
		snprintf(s->desc, sizeof(s->desc), "Rating %d/5%s, no comment.",
		    f->rating, who);
}

/* The customer's negative feedback in (created_at - window, created_at]. */
static int
repeats(struct scan *s, const struct row *f, int64_t *n, struct jobs_err *err)
{
	int step;

	sqlite3_bind_int64(s->repeat, 1, f->customer_id);
	sqlite3_bind_int64(s->repeat, 2, f->created_at - s->a->repeat_window_s);
	sqlite3_bind_int64(s->repeat, 3, f->created_at);
	sqlite3_bind_int64(s->repeat, 4, f->id);
	sqlite3_bind_int64(s->repeat, 5, s->a->low_rating);
	step = sqlite3_step(s->repeat);
	*n = step == SQLITE_ROW ? sqlite3_column_int64(s->repeat, 0) : 0;
	sqlite3_reset(s->repeat);
	if (step != SQLITE_ROW)
		return jobs_db_fail(s->db, "unable to count repeat complaints in", err);
	return 0;
}

static void
window_text(int64_t s, char *buf, size_t size)
{
	if (s % 86400 == 0)
		snprintf(buf, size, "%lld day%s", (long long)(s / 86400),
		    s == 86400 ? "" : "s");
	else if (s % 3600 == 0)
		snprintf(buf, size, "%lld hours", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lld seconds", (long long)s);
}

/* Apply every rule to one row: the hot path, no allocation unless it fires. */
static int
examine(struct scan *s, const struct row *f, struct jobs_err *err)
{
	const struct jobs_alerts *a = s->a;
	size_t ncrit = 0, nwarn = 0;
	int neg = f->rating <= a->low_rating;
	char matched[2048], span[32];
	struct alert al;
	int64_t count;

	if (a->enabled[JOBS_RULE_LOW_RATING] || a->enabled[JOBS_RULE_CRITICAL_KEYWORD])
		ncrit = jobs_keywords_scan(a->critical, f->comment, f->len, s->crit_hit);
	if (a->enabled[JOBS_RULE_WARNING_KEYWORD])
		nwarn = jobs_keywords_scan(a->warning, f->comment, f->len, s->warn_hit);
	if (!neg && ncrit == 0 && nwarn == 0)
		return 0;
	describe(s, f);
	if (ncrit)
		join(a->critical, s->crit_hit, ",", matched, sizeof(matched));
	if (neg && a->enabled[JOBS_RULE_LOW_RATING]) {
		al.rule = JOBS_RULE_LOW_RATING;
		al.level = f->rating == 1 && ncrit ? JOBS_ALERT_CRITICAL : JOBS_ALERT_HIGH;
		al.matched = al.level == JOBS_ALERT_CRITICAL ? matched : NULL;
		snprintf(al.title, sizeof(al.title), "Low rating: %d/5%s", f->rating,
		    al.matched ? " with a critical keyword" : "");
		if (emit(s, f, &al, err) < 0)
			return -1;
	}
	if (ncrit && a->enabled[JOBS_RULE_CRITICAL_KEYWORD]) {
		al.rule = JOBS_RULE_CRITICAL_KEYWORD;
		al.level = JOBS_ALERT_CRITICAL;
		al.matched = matched;
		join(a->critical, s->crit_hit, ", ", al.title + 18, sizeof(al.title) - 18);
		memcpy(al.title, "Critical keyword: ", 18);
		if (emit(s, f, &al, err) < 0)
			return -1;
	}
	if (nwarn && a->enabled[JOBS_RULE_WARNING_KEYWORD]) {
		al.rule = JOBS_RULE_WARNING_KEYWORD;
		al.level = JOBS_ALERT_MEDIUM;
		join(a->warning, s->warn_hit, ",", matched, sizeof(matched));
		al.matched = matched;
		join(a->warning, s->warn_hit, ", ", al.title + 17, sizeof(al.title) - 17);
		memcpy(al.title, "Warning keyword: ", 17);
		if (emit(s, f, &al, err) < 0)
			return -1;
	}
	if (!neg || !f->has_customer)
		return 0;
	if (a->enabled[JOBS_RULE_REPEAT_COMPLAINT]) {
		if (repeats(s, f, &count, err) < 0)
			return -1;
		if (count >= a->repeat_count) {
			al.rule = JOBS_RULE_REPEAT_COMPLAINT;
			al.level = JOBS_ALERT_HIGH;
			al.matched = NULL;
			window_text(a->repeat_window_s, span, sizeof(span));
			snprintf(al.title, sizeof(al.title), "Repeat complaint: %lld"
			    " negative reviews from customer %lld in %s",
			    (long long)count, (long long)f->customer_id, span);
			if (emit(s, f, &al, err) < 0)
				return -1;
		}
	}
	if (a->enabled[JOBS_RULE_HIGH_VALUE_CUSTOMER] && f->has_value &&
	    f->value > a->high_value) {
		al.rule = JOBS_RULE_HIGH_VALUE_CUSTOMER;
		al.level = JOBS_ALERT_HIGH;
		al.matched = NULL;
		snprintf(al.title, sizeof(al.title), "High-value customer %lld"
		    " (lifetime value %.2f) left a %d/5 rating",
		    (long long)f->customer_id, f->value, f->rating);
		if (emit(s, f, &al, err) < 0)
			return -1;
	}
	return 0;
}

static int
read_watermark(struct scan *s, int64_t *wm, struct jobs_err *err)
{
	const char *v;
	char *end;
	int step, rc = 0;

	*wm = 0;
	step = sqlite3_step(s->wm_get);
	if (step == SQLITE_ROW && (v = (const char *)sqlite3_column_text(s->wm_get,
	    0)) != NULL) {
		errno = 0;
		*wm = strtoll(v, &end, 10);
		if (errno || end == v || *end || *wm < 0)
			rc = jobs_err_set(err, JOBS_EFAIL, "job_cursors ('jobs-alerts',"
			    " 'feedback') holds '%.40s', not a feedback id", v);
	} else if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = jobs_db_fail(s->db, "unable to read the watermark from", err);
	sqlite3_reset(s->wm_get);
	return rc;
}

/* One batch: read the watermark, examine the rows after it, advance it. */
static int
batch_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct scan *s = arg;
	struct row f;
	int64_t wm, last;
	int step, rc = 0, n = 0;

	memset(&s->b, 0, sizeof(s->b));
	if (s->r->dry && s->have_wm)
		wm = s->wm;
	else if (read_watermark(s, &wm, err) < 0)
		return -1;
	last = wm;
	sqlite3_bind_int64(s->sel, 1, wm);
	sqlite3_bind_int(s->sel, 2, s->want);
	while ((step = sqlite3_step(s->sel)) == SQLITE_ROW) {
		f.id = sqlite3_column_int64(s->sel, 0);
		f.venue_id = sqlite3_column_int64(s->sel, 1);
		f.has_customer = sqlite3_column_type(s->sel, 2) != SQLITE_NULL;
		f.customer_id = sqlite3_column_int64(s->sel, 2);
		f.rating = sqlite3_column_int(s->sel, 3);
		f.comment = (const char *)sqlite3_column_text(s->sel, 4);
		f.len = (size_t)sqlite3_column_bytes(s->sel, 4);
		f.created_at = sqlite3_column_int64(s->sel, 5);
		f.has_value = sqlite3_column_type(s->sel, 6) != SQLITE_NULL;
		f.value = sqlite3_column_double(s->sel, 6);
		if (f.comment == NULL) {
			f.comment = "";
			f.len = 0;
		}
		n++;
		last = f.id;
		if ((rc = examine(s, &f, err)) < 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = jobs_db_fail(db, "unable to read feedback from", err);
	sqlite3_reset(s->sel);
	if (rc < 0)
		return -1;
	if (n > 0 && !s->r->dry) {
		sqlite3_bind_int64(s->wm_set, 1, last);
		sqlite3_bind_int64(s->wm_set, 2, s->r->now_s);
		step = sqlite3_step(s->wm_set);
		sqlite3_reset(s->wm_set);
		if (step != SQLITE_DONE)
			return jobs_db_fail(db, "unable to advance the watermark in", err);
	}
	s->got = n;
	s->b.examined = n;
	s->b.watermark = last;
	return 0;
}

static const struct {
	size_t off;
	const char *sql;
} statements[] = {
	/* The watermark is an id: feedback ids commit in order (AUTOINCREMENT, one writer). */
	{ offsetof(struct scan, sel), "SELECT f.id, f.venue_id, f.customer_id,"
	    " f.rating, f.comment, f.created_at, c.lifetime_value FROM feedback AS f"
	    " LEFT JOIN customers AS c ON c.id = f.customer_id WHERE f.id > ?1"
	    " ORDER BY f.id LIMIT ?2" },
	{ offsetof(struct scan, wm_get), "SELECT value FROM job_cursors WHERE job ="
	    " 'jobs-alerts' AND name = 'feedback'" },
	{ offsetof(struct scan, wm_set), "INSERT INTO job_cursors (job, name, value,"
	    " updated_at) VALUES ('jobs-alerts', 'feedback', ?1, ?2) ON CONFLICT"
	    " (job, name) DO UPDATE SET value = excluded.value, updated_at ="
	    " excluded.updated_at" },
	/* +id: keep the planner on feedback_customer, not a rowid range. */
	{ offsetof(struct scan, repeat), "SELECT count(*) FROM feedback WHERE"
	    " customer_id = ?1 AND created_at > ?2 AND created_at <= ?3 AND"
	    " +id <= ?4 AND rating <= ?5" },
	/* Only the (feedback_id, rule) conflict is ignored; a CHECK still fails. */
	{ offsetof(struct scan, ins), "INSERT INTO alerts (venue_id, feedback_id,"
	    " level, rule, title, description, matched, detected_at) VALUES (?1, ?2,"
	    " ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (feedback_id, rule) DO NOTHING" },
	{ offsetof(struct scan, exists), "SELECT 1 FROM alerts WHERE feedback_id = ?1"
	    " AND rule = ?2" },
	{ offsetof(struct scan, venue), "SELECT name, manager_email, settings FROM"
	    " venues WHERE id = ?1" },
	{ offsetof(struct scan, queued), "SELECT 1 FROM outbox WHERE source ="
	    " '" SOURCE "' AND idempotency_key = ?1" },
};

#define NSTATEMENTS (sizeof(statements) / sizeof(statements[0]))

static void
scan_free(struct scan *s)
{
	size_t i;

	for (i = 0; i < NSTATEMENTS; i++)
		sqlite3_finalize(*(sqlite3_stmt **)(void *)((char *)s +
		    statements[i].off));
	for (i = 0; i < s->cap; i++) {
		free(s->venues[i].name);
		free(s->venues[i].mail);
		free(s->venues[i].hook);
	}
	free(s->venues);
	free(s->crit_hit);
	free(s->warn_hit);
}

int
jobs_alerts_scan(const struct jobs_alerts *a, struct jobs_db *app,
    const struct jobs_alerts_run *r, struct jobs_alerts_result *res,
    struct jobs_err *err)
{
	struct scan s;
	long left = r->limit;
	int batch = r->batch > 0 ? r->batch : BATCH, rc = -1, i;
	size_t k;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	s.a = a;
	s.r = r;
	s.db = app;
	s.res = res;
	if (batch > BATCH_MAX)
		batch = BATCH_MAX;
	s.crit_hit = malloc(jobs_keywords_count(a->critical) + 1);
	s.warn_hit = malloc(jobs_keywords_count(a->warning) + 1);
	if (s.crit_hit == NULL || s.warn_hit == NULL) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	/* Prepared once for the whole run, reset after every use. */
	for (k = 0; k < NSTATEMENTS; k++)
		if (jobs_db_prepare(app, statements[k].sql, (sqlite3_stmt **)(void *)
		    ((char *)&s + statements[k].off), err) < 0)
			goto out;
	for (;;) {
		if (r->cancelled && r->cancelled(r->cancel_arg)) {
			res->stopped = 1;
			jobs_err_set(err, JOBS_EFAIL, "stopped before the end, after"
			    " feedback %lld", (long long)res->watermark);
			goto out;
		}
		s.want = left >= 0 && left < batch ? (int)left : batch;
		if (jobs_db_tx(app, batch_tx, &s, err) < 0)
			goto out;
		/* Committed: count it. */
		res->examined += s.b.examined;
		for (i = 0; i < 5; i++)
			res->alerts[i] += s.b.alerts[i];
		res->notified += s.b.notified;
		res->not_notified += s.b.not_notified;
		res->watermark = s.b.watermark;
		s.wm = s.b.watermark;
		s.have_wm = 1;
		if (left >= 0)
			left -= s.got;
		if (s.got < s.want || s.want == 0 || left == 0)
			break;
	}
	rc = 0;
out:
	scan_free(&s);
	return rc;
}
