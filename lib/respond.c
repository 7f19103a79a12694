#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "breaker.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "mail.h"
#include "model.h"
#include "outbox.h"
#include "respond.h"
#include "run.h"
#include "spool.h"
#include "text.h"
#include "venue.h"

#define SOURCE		"jobs-respond"
#define BATCH		50		/* candidates read at a time */
#define APPROVED_BATCH	100
#define BACKOFF_MS	500		/* first retry; doubles */
#define BACKOFF_MAX_MS	8000
#define RETRY_AFTER_MAX_MS 30000	/* longer: the rest wait for the next run */
#define MIN_REQUEST_MS	1000		/* no request with less time left */
#define COMMENT_MAX	8192		/* bytes of a comment sent to the model */
#define NAME_MAX_	200

static const char default_prompt[] =
    "You write the reply a venue's team sends to a customer who left"
    " feedback. Be brief (a few sentences), warm and specific to what the"
    " customer said; thank them; for a complaint, apologise and say the team"
    " will look into it. Never invent facts, offers, refunds or names. Write"
    " in the language of the comment. Answer with the reply text only.";

/* ---------------------------------------------------------------------
 * Configuration.
 */

static int
section_duration(const cJSON *s, const char *key, int64_t min, int64_t max,
    int64_t *out, struct jobs_err *err)
{
	int64_t ms;
	int rc = jobs_config_duration(s, key, &ms, err);

	if (rc < 0 || (rc == 1 && (ms < min || ms > max)))
		return jobs_err_set(err, JOBS_EUSAGE, "config: respond.%s: want a"
		    " duration from %llds to %lldd", key, (long long)(min / 1000),
		    (long long)(max / 86400000));
	if (rc == 1)
		*out = ms;
	return 0;
}

int
jobs_respond_config(const struct jobs_config *c, struct jobs_respond_config *rc,
    struct jobs_err *err)
{
	const cJSON *s = jobs_config_section(c, "respond");
	const char *rate = "10/m", *prompt = NULL;
	int64_t n;
	int r;

	memset(rc, 0, sizeof(*rc));
	if ((r = jobs_model_config_read(c, &rc->model, err)) < 0)
		return -1;
	rc->configured = r == 1;
	rc->lookback_ms = 7LL * 86400000;
	rc->breaker.failures = 5;
	rc->breaker.cooldown_ms = 5 * 60000;
	rc->max_attempts = 3;
	rc->prompt = default_prompt;
	if (section_duration(s, "lookback", 1000, 3650LL * 86400000,
	    &rc->lookback_ms, err) < 0 ||
	    section_duration(s, "breaker_cooldown", 1000, 86400000,
	    &rc->breaker.cooldown_ms, err) < 0)
		return -1;
	n = rc->breaker.failures;
	if (jobs_config_within(s, "respond", "breaker_failures", 1, 1000, &n,
	    err) < 0)
		return -1;
	rc->breaker.failures = (int)n;
	n = rc->max_attempts;
	if (jobs_config_within(s, "respond", "max_attempts", 1, 10, &n, err) < 0)
		return -1;
	rc->max_attempts = (int)n;
	if (jobs_config_string(s, "rate_limit", &rate, err) < 0 ||
	    jobs_ratelimit_parse(rate, &rc->rate, &rc->burst, err) < 0)
		return jobs_err_set(err, JOBS_EUSAGE, "config: respond.rate_limit:"
		    " want \"N/s\", \"N/m\" or \"N/h\"");
	if ((r = jobs_config_string(s, "prompt", &prompt, err)) < 0)
		return jobs_err_set(err, JOBS_EUSAGE, "config: respond.prompt: want"
		    " a string");
	if (r == 1) {
		if (prompt[0] == '\0' || strlen(prompt) > JOBS_RESPOND_PROMPT_MAX)
			return jobs_err_set(err, JOBS_EUSAGE, "config: respond.prompt:"
			    " want 1 to %d bytes", JOBS_RESPOND_PROMPT_MAX);
		rc->prompt = prompt;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * One run.
 */

struct venue {
	int64_t id;
	char name[NAME_MAX_];
	int require_approval, auto_send;
	int64_t delay_min;
};

struct item {
	int64_t id, venue_id, created_at;
	int rating;
	char *comment, *cname, *email;
	const struct venue *v;
};

struct run {
	struct jobs_ctx *c;
	const struct jobs_respond_config *rc;
	struct jobs_respond_result *res;
	struct jobs_model *model;
	struct venue *venues;		/* the eligible ones, by id */
	size_t nvenues;
	char *ids;			/* their ids as a JSON array */
	char root[4096];		/* the spool root, for the outbox checks */
	char bucket[300];
	unsigned seed;
	int64_t limit;			/* items left to ask (-1: no limit) */
	int64_t prev_at, prev_id;	/* the last item dealt with */
	int rate_stop;			/* asking stopped for the rate limit */
};

static void
add_fail(struct jobs_respond_result *res, const char *what, int64_t id,
    const char *why)
{
	if (res->nfails >= JOBS_RESPOND_FAILS)
		return;
	res->fails[res->nfails].what = what;
	res->fails[res->nfails].id = id;
	snprintf(res->fails[res->nfails].why, sizeof(res->fails[0].why), "%s", why);
	res->nfails++;
}

/*
 * Column i as a new string in *out, NULL when it is NULL or empty.  0, or
 * -1 when out of memory.
 */
static int
column_dup(sqlite3_stmt *st, int i, char **out)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	*out = s != NULL && *s != '\0' ? strdup(s) : NULL;
	return s != NULL && *s != '\0' && *out == NULL ? -1 : 0;
}

static void
item_free(struct item *it)
{
	free(it->comment);
	free(it->cname);
	free(it->email);
	memset(it, 0, sizeof(*it));
}

/*
 * The customer's address as a mailto: destination into dest, or "" (with
 * why) when there is none or jobs-deliver would refuse it.
 */
static void
mail_dest(const char *email, char *dest, size_t size, char *why, size_t wsize)
{
	char addr[JOBS_MAIL_ADDR_MAX];
	struct jobs_err e = { 0, "" };

	dest[0] = '\0';
	if (email == NULL || *email == '\0') {
		snprintf(why, wsize, "the customer has no email address");
		return;
	}
	if (snprintf(dest, size, "mailto:%s", email) >= (int)size ||
	    jobs_mail_check_address(dest, addr, sizeof(addr), &e) < 0) {
		dest[0] = '\0';
		snprintf(why, wsize, "the customer's email is not a usable address");
	}
}

static void
subject_for(const char *venue, char *buf, size_t size)
{
	char name[NAME_MAX_];

	jobs_text_clean(venue, strlen(venue), name, sizeof(name), 0);
	snprintf(buf, size, "Re: your feedback at %s", name);
}

/* Venues that want replies drafted; the others are not asked about. */
static int
load_venues(struct run *r, struct jobs_err *err)
{
	struct jobs_db *db = r->c->app;
	sqlite3_stmt *st = NULL;
	struct venue *v;
	cJSON *ids = NULL;
	size_t cap = 0;
	int step, rc = -1;

	if ((ids = cJSON_CreateArray()) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	if (jobs_db_prepare(db, "SELECT id, name, settings FROM venues ORDER BY id",
	    &st, err) < 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct jobs_venue_settings s;
		struct jobs_err e = { 0, "" };
		int64_t id = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (jobs_venue_settings_parse((const char *)sqlite3_column_text(st,
		    2), &s, &e) < 0) {
			if (e.code == JOBS_ETEMP) {
				*err = e;
				goto out;
			}
			jobs_log(r->c, JOBS_WARN, "venue %lld: skipped: %s",
			    (long long)id, e.msg);
			r->res->venues_failed++;
			add_fail(r->res, "venue", id, e.msg);
			continue;
		}
		if (!s.ai_generation_enabled || !s.auto_generate_responses)
			continue;
		if (r->nvenues == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = realloc(r->venues, cap * sizeof(*v))) == NULL) {
				jobs_err_set(err, JOBS_ETEMP, "out of memory");
				goto out;
			}
			r->venues = v;
		}
		v = &r->venues[r->nvenues++];
		v->id = id;
		jobs_text_clean(name ? name : "", name ? strlen(name) : 0, v->name,
		    sizeof(v->name), 0);
		v->require_approval = s.require_approval;
		v->auto_send = s.auto_send_enabled;
		v->delay_min = s.auto_send_delay_minutes;
		if (!cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id))) {
			jobs_err_set(err, JOBS_ETEMP, "out of memory");
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		jobs_db_fail(db, "unable to read venues from", err);
		goto out;
	}
	if ((r->ids = cJSON_PrintUnformatted(ids)) == NULL) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	cJSON_Delete(ids);
	return rc;
}

static const struct venue *
venue_find(const struct run *r, int64_t id)
{
	size_t lo = 0, hi = r->nvenues;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->venues[mid].id == id)
			return &r->venues[mid];
		if (r->venues[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Feedback without a response at the eligible venues, within the window,
 * after (after_at, after_id) in (created_at, id) order.  The index
 * feedback_venue serves each venue's range; responses_feedback the check.
 */
#define CANDIDATES \
	" FROM feedback AS f LEFT JOIN customers AS c ON c.id = f.customer_id" \
	" WHERE f.venue_id IN (SELECT value FROM json_each(?1))" \
	" AND f.created_at >= ?2 AND (f.created_at, f.id) > (?3, ?4)" \
	" AND NOT EXISTS (SELECT 1 FROM responses AS r WHERE r.feedback_id = f.id)"

static int
bind_candidates(sqlite3_stmt *st, const struct run *r, int64_t after_at,
    int64_t after_id)
{
	sqlite3_bind_text(st, 1, r->ids, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (jobs_clock_now_ms() - r->rc->lookback_ms) / 1000);
	sqlite3_bind_int64(st, 3, after_at);
	sqlite3_bind_int64(st, 4, after_id);
	return 0;
}

/* Read up to want candidates after the keyset into items; how many, -1. */
static int
read_batch(struct run *r, int64_t after_at, int64_t after_id, struct item *items,
    int want, struct jobs_err *err)
{
	struct jobs_db *db = r->c->app;
	sqlite3_stmt *st = NULL;
	int n = 0, step;

	if (jobs_db_prepare(db, "SELECT f.id, f.venue_id, f.rating, f.comment,"
	    " f.created_at, c.name, c.email" CANDIDATES
	    " ORDER BY f.created_at, f.id LIMIT ?5", &st, err) < 0)
		return -1;
	bind_candidates(st, r, after_at, after_id);
	sqlite3_bind_int(st, 5, want);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct item *it = &items[n];

		it->id = sqlite3_column_int64(st, 0);
		it->venue_id = sqlite3_column_int64(st, 1);
		it->rating = sqlite3_column_int(st, 2);
		it->created_at = sqlite3_column_int64(st, 4);
		it->v = venue_find(r, it->venue_id);
		n++;
		if (column_dup(st, 3, &it->comment) < 0 ||
		    column_dup(st, 5, &it->cname) < 0 ||
		    column_dup(st, 6, &it->email) < 0) {
			sqlite3_finalize(st);
			while (n > 0)
				item_free(&items[--n]);
			return jobs_err_set(err, JOBS_ETEMP, "out of memory");
		}
	}
	if (step != SQLITE_DONE) {
		jobs_db_fail(db, "unable to read feedback from", err);
		n = -1;
	}
	sqlite3_finalize(st);
	if (n < 0)
		return -1;
	return n;
}

/* How many candidates wait after the last item dealt with (for the log). */
static int64_t
count_left(struct run *r)
{
	struct jobs_err e = { 0, "" };
	sqlite3_stmt *st = NULL;
	int64_t n = 0;

	if (jobs_db_prepare(r->c->app, "SELECT count(*)" CANDIDATES, &st, &e) < 0)
		return 0;
	bind_candidates(st, r, r->prev_at, r->prev_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (r->limit >= 0 && n > r->limit)
		n = r->limit;
	return n;
}

/* The user message: venue, rating, the customer's name if any, comment. */
static char *
user_message(const struct item *it)
{
	char comment[COMMENT_MAX], name[NAME_MAX_], *s;
	const char *c = it->comment ? it->comment : "";
	size_t n;

	jobs_text_clean(c, strlen(c), comment, sizeof(comment), JOBS_TEXT_NEWLINES);
	name[0] = '\0';
	if (it->cname != NULL)
		jobs_text_clean(it->cname, strlen(it->cname), name, sizeof(name), 0);
	n = strlen(comment) + strlen(name) + strlen(it->v->name) + 128;
	if ((s = malloc(n)) == NULL)
		return NULL;
	snprintf(s, n, "Venue: %s\nRating: %d out of 5\n%s%s%sComment: %s",
	    it->v->name, it->rating, name[0] ? "Customer: " : "", name,
	    name[0] ? "\n" : "", comment[0] ? comment : "(no comment)");
	return s;
}

/* Wait ms, waking for a stop; 0, or -1 when the run was stopped. */
static int
pause_ms(struct jobs_ctx *c, int64_t ms)
{
	while (ms > 0) {
		int step = ms > 100 ? 100 : (int)ms;

		if (jobs_run_cancelled(c))
			return -1;
		jobs_clock_sleep_ms(step);
		ms -= step;
	}
	return jobs_run_cancelled(c) ? -1 : 0;
}

enum {
	ITEM_OK,	/* a reply */
	ITEM_FAILED,	/* no reply this run; why says */
	ITEM_STOP,	/* stop asking: rate limit, open breaker, time */
};

/*
 * Ask about one item: up to max_attempts requests, with backoff, each
 * allowed by the breaker and paid for with a token.  Returns ITEM_*, or
 * -1 with err when the ledger failed.
 */
static int
ask(struct run *r, const struct item *it, char **reply, char *why, size_t wsize,
    struct jobs_err *err)
{
	struct jobs_ctx *c = r->c;
	const struct jobs_respond_config *rc = r->rc;
	struct jobs_model_answer a;
	struct jobs_err e = { 0, "" };
	char *user = NULL;
	int attempt, allow, got, rcode = -1;
	int64_t left, wait;

	*reply = NULL;
	if ((user = user_message(it)) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	for (attempt = 1; ; attempt++) {
		left = jobs_run_remaining_ms(c);
		if (jobs_run_cancelled(c) || left < MIN_REQUEST_MS) {
			jobs_log(c, JOBS_INFO, "out of time: the rest wait for the"
			    " next run");
			rcode = ITEM_STOP;
			break;
		}
		allow = jobs_breaker_allow(c->ledger, rc->model.host,
		    jobs_clock_now_ms(), &rc->breaker, &e);
		if (allow == 0) {
			jobs_log(c, JOBS_WARN, "the circuit breaker for %s is open:"
			    " no more questions this run", rc->model.host);
			rcode = ITEM_STOP;
			break;
		}
		got = jobs_ratelimit_take(c->ledger, r->bucket, rc->rate, rc->burst,
		    1, jobs_clock_now_ms(), err);
		if (got < 0)
			break;
		if (got == 0) {
			jobs_log(c, JOBS_INFO, "rate limit reached: the rest wait for"
			    " the next run");
			r->rate_stop = 1;
			rcode = ITEM_STOP;
			break;
		}
		if (attempt == 1)
			r->res->asked++;
		r->res->requests++;
		jobs_model_ask(r->model, rc->prompt, user, left, &a);
		if (a.result == JOBS_MODEL_OK) {
			jobs_breaker_record(c->ledger, rc->model.host, 1, 0,
			    jobs_clock_now_ms(), &rc->breaker, &e);
			*reply = a.reply;
			rcode = ITEM_OK;
			break;
		}
		snprintf(why, wsize, "%s", a.error);
		if (a.result == JOBS_MODEL_PERMANENT) {
			/* The host answered: a probe's answer closes its breaker. */
			if (allow == 1 && a.status != 0)
				jobs_breaker_record(c->ledger, rc->model.host, 1, 0,
				    jobs_clock_now_ms(), &rc->breaker, &e);
			rcode = ITEM_FAILED;
			break;
		}
		jobs_breaker_record(c->ledger, rc->model.host, 0, 1,
		    jobs_clock_now_ms(), &rc->breaker, &e);
		if (a.retry_after_s * 1000 > RETRY_AFTER_MAX_MS) {
			jobs_log(c, JOBS_INFO, "the model endpoint asks for %lld s of"
			    " quiet: the rest wait for the next run",
			    (long long)a.retry_after_s);
			rcode = ITEM_STOP;
			break;
		}
		if (attempt >= rc->max_attempts) {
			if (attempt > 1)
				snprintf(why, wsize, "%.200s (%d attempts)", a.error,
				    attempt);
			rcode = ITEM_FAILED;
			break;
		}
		wait = (int64_t)BACKOFF_MS << (attempt - 1);
		if (wait > BACKOFF_MAX_MS)
			wait = BACKOFF_MAX_MS;
		/* Jitter: 75 % to 125 %, so parallel runs do not march in step. */
		wait = wait * 3 / 4 + rand_r(&r->seed) % (wait / 2 + 1);
		if (a.retry_after_s * 1000 > wait)
			wait = a.retry_after_s * 1000;
		jobs_log(c, JOBS_DEBUG, "feedback %lld: %s; again in %lld ms",
		    (long long)it->id, a.error, (long long)wait);
		if (wait + MIN_REQUEST_MS > jobs_run_remaining_ms(c) ||
		    pause_ms(c, wait) < 0) {
			rcode = ITEM_FAILED;
			break;
		}
	}
	free(user);
	return rcode;
}

struct store {
	const struct run *r;
	const struct item *it;
	const char *reply;
	const char *status;
	const char *dest;		/* mailto:, "" when not sent */
	int64_t now_s;
	/* out */
	int64_t id, send_at;
	int inserted, queued;
};

/* One reply, and its message when it goes out by itself: together or not. */
static int
store_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct store *s = arg;
	const struct item *it = s->it;
	struct jobs_outbox_msg m;
	sqlite3_stmt *st = NULL;
	char key[64], subject[NAME_MAX_ + 32];
	int existing;
	int64_t oid;

	s->inserted = s->queued = 0;
	s->send_at = 0;
	/* A reply written meanwhile (by a person, another run) stands. */
	if (jobs_db_prepare(db, "INSERT INTO responses (feedback_id, venue_id, body,"
	    " status, created_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS"
	    " (SELECT 1 FROM responses WHERE feedback_id = ?1)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, it->id);
	sqlite3_bind_int64(st, 2, it->venue_id);
	sqlite3_bind_text(st, 3, s->reply, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, s->now_s);
	if (jobs_db_done(db, st, err) < 0)
		return -1;
	if (sqlite3_changes(db->h) == 0)
		return 0;
	s->inserted = 1;
	s->id = sqlite3_last_insert_rowid(db->h);
	if (s->dest[0] == '\0')
		return 0;
	snprintf(key, sizeof(key), "response-%lld", (long long)s->id);
	subject_for(it->v->name, subject, sizeof(subject));
	s->send_at = s->now_s + it->v->delay_min * 60;
	memset(&m, 0, sizeof(m));
	m.destination = s->dest;
	m.subject = subject;
	m.body = s->reply;
	m.key = key;
	m.source = SOURCE;
	m.not_before = s->send_at;
	if (jobs_outbox_enqueue_in(db, &m, s->r->root, s->now_s, &oid, &existing,
	    err) < 0)
		return -1;
	if (jobs_db_prepare(db, "UPDATE responses SET scheduled_send_at = ?2 WHERE"
	    " id = ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_int64(st, 2, s->send_at);
	if (jobs_db_done(db, st, err) < 0)
		return -1;
	s->queued = 1;
	return 0;
}

static int
store(struct run *r, const struct item *it, const char *reply,
    struct jobs_err *err)
{
	struct jobs_respond_result *res = r->res;
	const struct venue *v = it->v;
	struct store s = { r, it, reply, v->require_approval ? "pending_approval" :
	    "auto_approved", "", jobs_clock_now_ms() / 1000, 0, 0, 0, 0 };
	char dest[JOBS_MAIL_ADDR_MAX + 16], why[96] = "", when[32];

	if (!v->require_approval && v->auto_send)
		mail_dest(it->email, dest, sizeof(dest), why, sizeof(why));
	else
		dest[0] = '\0';
	s.dest = dest;
	if (jobs_db_tx(r->c->app, store_tx, &s, err) < 0)
		return -1;
	if (!s.inserted) {
		jobs_log(r->c, JOBS_INFO, "feedback %lld: answered meanwhile; reply"
		    " dropped", (long long)it->id);
		r->c->items_skipped++;
		return 0;
	}
	res->generated++;
	if (v->require_approval)
		res->pending_approval++;
	else
		res->auto_approved++;
	if (s.queued) {
		res->queued_to_send++;
		jobs_clock_iso(s.send_at * 1000, when, sizeof(when));
		jobs_log(r->c, JOBS_INFO, "feedback %lld: reply %lld auto-approved,"
		    " to be sent at %s", (long long)it->id, (long long)s.id, when);
	} else if (why[0]) {
		res->no_email++;
		jobs_log(r->c, JOBS_WARN, "feedback %lld: reply %lld stored but not"
		    " sent: %s", (long long)it->id, (long long)s.id, why);
	} else
		jobs_log(r->c, JOBS_INFO, "feedback %lld: reply %lld stored as %s",
		    (long long)it->id, (long long)s.id, s.status);
	return 0;
}

/* ---------------------------------------------------------------------
 * Closing the loop.
 */

struct approved {
	int64_t id;
	char *body, *email, *venue;
};

struct reconcile {
	const struct run *r;
	int64_t now_s;
	int64_t sent, failed, cancelled, queued, unsendable;
};

static int
changes(struct jobs_db *db, const char *sql, int64_t *n, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, sql, &st, err) < 0 || jobs_db_done(db, st, err) < 0)
		return -1;
	*n = sqlite3_changes(db->h);
	return 0;
}

/* Queue one approved reply (or fail it: nowhere to send it). */
static int
send_approved(struct jobs_db *db, struct reconcile *rec, const struct approved *a,
    struct jobs_err *err)
{
	struct jobs_outbox_msg m;
	sqlite3_stmt *st = NULL;
	char dest[JOBS_MAIL_ADDR_MAX + 16], why[96], key[64];
	char subject[NAME_MAX_ + 32];
	int64_t at = rec->now_s, oid;
	int existing, step;

	snprintf(key, sizeof(key), "response-%lld", (long long)a->id);
	mail_dest(a->email, dest, sizeof(dest), why, sizeof(why));
	if (dest[0] == '\0') {
		rec->unsendable++;
		if (jobs_db_prepare(db, "UPDATE responses SET status = 'failed' WHERE"
		    " id = ?", &st, err) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, a->id);
		return jobs_db_done(db, st, err);
	}
	/* Queued before (and then edited): the queued message stands. */
	if (jobs_db_prepare(db, "SELECT not_before FROM outbox WHERE source = ?1"
	    " AND idempotency_key = ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, SOURCE, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		at = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read", err);
	if (step == SQLITE_DONE) {
		subject_for(a->venue ? a->venue : "", subject, sizeof(subject));
		memset(&m, 0, sizeof(m));
		m.destination = dest;
		m.subject = subject;
		m.body = a->body;
		m.key = key;
		m.source = SOURCE;
		m.not_before = at;
		if (jobs_outbox_enqueue_in(db, &m, rec->r->root, rec->now_s, &oid,
		    &existing, err) < 0)
			return -1;
		rec->queued++;
	}
	if (jobs_db_prepare(db, "UPDATE responses SET scheduled_send_at = ?2 WHERE"
	    " id = ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, a->id);
	sqlite3_bind_int64(st, 2, at);
	return jobs_db_done(db, st, err);
}

static int
approved_batch(struct jobs_db *db, struct reconcile *rec, int *more,
    struct jobs_err *err)
{
	struct approved a[APPROVED_BATCH];
	sqlite3_stmt *st = NULL;
	int n = 0, i, step, rc = -1;

	*more = 0;
	memset(a, 0, sizeof(a));
	if (jobs_db_prepare(db, "SELECT r.id, r.body, c.email, v.name FROM responses"
	    " AS r LEFT JOIN feedback AS f ON f.id = r.feedback_id LEFT JOIN"
	    " customers AS c ON c.id = f.customer_id LEFT JOIN venues AS v ON"
	    " v.id = r.venue_id WHERE r.status = 'approved' AND"
	    " r.scheduled_send_at IS NULL ORDER BY r.id LIMIT ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, APPROVED_BATCH);
	/* Read first, write after: no update under a running scan. */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		a[n].id = sqlite3_column_int64(st, 0);
		n++;
		/* The body is NOT NULL: an empty one is sent empty. */
		if (column_dup(st, 1, &a[n - 1].body) < 0 ||
		    (a[n - 1].body == NULL && (a[n - 1].body = strdup("")) == NULL) ||
		    column_dup(st, 2, &a[n - 1].email) < 0 ||
		    column_dup(st, 3, &a[n - 1].venue) < 0) {
			jobs_err_set(err, JOBS_ETEMP, "out of memory");
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		jobs_db_fail(db, "unable to read responses from", err);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < n; i++)
		if (send_approved(db, rec, &a[i], err) < 0)
			goto out;
	*more = n == APPROVED_BATCH;
	rc = 0;
out:
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		free(a[i].body);
		free(a[i].email);
		free(a[i].venue);
	}
	return rc;
}

/* The outbox's word on queued replies, then the replies people approved. */
static int
reconcile_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct reconcile *rec = arg;
	int more;

	/* A retried transaction counts from zero again. */
	rec->sent = rec->failed = rec->cancelled = rec->queued = 0;
	rec->unsendable = 0;
	/* A failed reply requeued by hand (retry-dead) that went out is sent. */
	if (changes(db, "UPDATE responses AS r SET status = 'sent', sent_at ="
	    " o.sent_at FROM outbox AS o WHERE r.status IN ('approved',"
	    " 'auto_approved', 'failed') AND r.scheduled_send_at IS NOT NULL AND"
	    " o.source = '" SOURCE "' AND o.idempotency_key = 'response-' || r.id"
	    " AND o.status = 'sent'", &rec->sent, err) < 0 ||
	    changes(db, "UPDATE responses AS r SET status = 'failed' FROM outbox"
	    " AS o WHERE r.status IN ('approved', 'auto_approved') AND"
	    " r.scheduled_send_at IS NOT NULL AND o.source = '" SOURCE "' AND"
	    " o.idempotency_key = 'response-' || r.id AND o.status = 'dead'",
	    &rec->failed, err) < 0 ||
	    changes(db, "UPDATE responses AS r SET status = 'cancelled' FROM outbox"
	    " AS o WHERE r.status IN ('approved', 'auto_approved') AND"
	    " r.scheduled_send_at IS NOT NULL AND o.source = '" SOURCE "' AND"
	    " o.idempotency_key = 'response-' || r.id AND o.status = 'cancelled'",
	    &rec->cancelled, err) < 0)
		return -1;
	do {
		if (approved_batch(db, rec, &more, err) < 0)
			return -1;
	} while (more);
	return 0;
}

static int
reconcile(struct run *r, struct jobs_err *err)
{
	struct reconcile rec = { r, jobs_clock_now_ms() / 1000, 0, 0, 0, 0, 0 };
	struct jobs_respond_result *res = r->res;

	if (jobs_db_tx(r->c->app, reconcile_tx, &rec, err) < 0)
		return -1;
	res->reconciled_sent = rec.sent;
	res->reconciled_failed = rec.failed + rec.unsendable;
	res->reconciled_cancelled = rec.cancelled;
	res->approved_queued = rec.queued;
	if (rec.sent + rec.failed + rec.cancelled > 0)
		jobs_log(r->c, JOBS_INFO, "from the outbox: %lld repl%s sent, %lld"
		    " failed, %lld cancelled", (long long)rec.sent, rec.sent == 1 ?
		    "y" : "ies", (long long)rec.failed, (long long)rec.cancelled);
	if (rec.queued > 0)
		jobs_log(r->c, JOBS_INFO, "%lld approved repl%s queued to send",
		    (long long)rec.queued, rec.queued == 1 ? "y" : "ies");
	if (rec.unsendable > 0)
		jobs_log(r->c, JOBS_WARN, "%lld approved repl%s failed: no usable"
		    " customer email", (long long)rec.unsendable, rec.unsendable == 1 ?
		    "y" : "ies");
	return 0;
}

/* ---------------------------------------------------------------------
 * The run.
 */

/* Deal with a batch; 1 when asking must stop, 0 to go on, -1 with err. */
static int
do_batch(struct run *r, struct item *items, int n, struct jobs_err *err)
{
	struct jobs_respond_result *res = r->res;
	char why[256], *reply = NULL;
	int i, k;

	for (i = 0; i < n; i++) {
		const struct item *it = &items[i];

		if (r->c->opts->dry_run) {
			res->would_ask++;
			jobs_log(r->c, JOBS_INFO, "would ask about feedback %lld"
			    " (venue %lld, rating %d)", (long long)it->id,
			    (long long)it->venue_id, it->rating);
		} else {
			why[0] = '\0';
			if ((k = ask(r, it, &reply, why, sizeof(why), err)) < 0)
				return -1;
			if (k == ITEM_STOP)
				return 1;
			if (k == ITEM_FAILED) {
				res->failed++;
				add_fail(res, "feedback", it->id, why);
				jobs_log(r->c, JOBS_WARN, "feedback %lld: %s",
				    (long long)it->id, why);
			} else {
				k = store(r, it, reply, err);
				free(reply);
				reply = NULL;
				if (k < 0)
					return -1;
			}
		}
		r->prev_at = it->created_at;
		r->prev_id = it->id;
		if (r->limit > 0)
			r->limit--;
	}
	return 0;
}

int
jobs_respond_run(struct jobs_ctx *c, const struct jobs_respond_config *rc,
    struct jobs_respond_result *res, struct jobs_err *err)
{
	struct run r;
	struct item items[BATCH];
	const char *spool = NULL;
	int n = 0, stop = 0, rcode = -1, i;

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	memset(items, 0, sizeof(items));
	r.c = c;
	r.rc = rc;
	r.res = res;
	r.limit = c->opts->limit >= 0 ? c->opts->limit : -1;
	r.prev_at = INT64_MIN;
	r.seed = (unsigned)getpid() ^ (unsigned)jobs_clock_mono_ms();
	snprintf(r.bucket, sizeof(r.bucket), "model:%s", rc->model.host);
	if (jobs_config_string(c->config ? c->config->root : NULL, "spool_dir",
	    &spool, err) < 0 ||
	    jobs_spool_root(spool, c->ledger->path, r.root, sizeof(r.root), err) < 0)
		return -1;
	/* Replies already made are settled with or without a model. */
	if (!c->opts->dry_run && reconcile(&r, err) < 0)
		goto out;
	if (!rc->configured) {
		jobs_log(c, JOBS_INFO, "no model endpoint configured: nothing to do"
		    " but settle the replies already made (set model.url or"
		    " JOBS_MODEL_URL)");
		rcode = 0;
		goto out;
	}
	if (load_venues(&r, err) < 0)
		goto out;
	if (r.nvenues == 0) {
		jobs_log(c, JOBS_INFO, "no venue has ai_generation_enabled and"
		    " auto_generate_responses");
		rcode = 0;
		goto out;
	}
	if (!c->opts->dry_run && jobs_model_open(&r.model, &rc->model, err) < 0)
		goto out;
	while (!stop && r.limit != 0) {
		int want = r.limit >= 0 && r.limit < BATCH ? (int)r.limit : BATCH;

		if ((n = read_batch(&r, r.prev_at, r.prev_id, items, want, err)) < 0)
			goto out;
		if (n == 0)
			break;
		stop = do_batch(&r, items, n, err);
		for (i = 0; i < n; i++)
			item_free(&items[i]);
		n = 0;
		if (stop < 0)
			goto out;
	}
	if (stop) {
		res->deferred = count_left(&r);
		if (r.rate_stop)
			res->rate_limited = res->deferred;
		c->items_skipped += res->deferred;
		if (res->deferred > 0)
			jobs_log(c, JOBS_INFO, "%lld feedback item%s left for the next"
			    " run", (long long)res->deferred, res->deferred == 1 ? "" :
			    "s");
	}
	rcode = 0;
out:
	for (i = 0; i < n; i++)
		item_free(&items[i]);
	jobs_model_close(r.model);
	free(r.venues);
	free(r.ids);
	return rcode;
}
