/*
 * jobs-deliver - send the outbox's due rows: webhooks and mail through
 * libcurl in parallel, file:// rows (and mail when no SMTP server is
 * configured) into the spool.  Claim, send outside any transaction,
 * acknowledge while the lease holds; at least once.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "breaker.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "mail.h"
#include "main.h"
#include "net.h"
#include "outbox.h"
#include "run.h"
#include "send.h"
#include "spool.h"
#include "text.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

#define BATCH 500	/* rows a claim: fewer commits (FULL sync) */
#ifndef SENDERS
#define SENDERS 2	/* libcurl streams at most, one a CPU */
#endif
#define DEAD_SHOWN 10

struct grant {
	char name[300];
	int granted, used;
	double burst;
};

/* One claim's rows, freed once every one of them is booked. */
struct claimed {
	struct jobs_outbox_row *rows;
	struct jobs_send_item *items;	/* items[i] is rows[i]'s */
	int n, open;			/* open: rows not yet booked */
	struct claimed *prev, *next;	/* the booker's taken list */
	struct claimed *queue;		/* claimed, not yet sending */
};

/* A host's answers since its breaker last heard of them. */
struct tally {
	char host[256];
	int ok, failed;
};

/* A finished row: waiting to be booked, then booked (ack says how). */
struct booked {
	struct claimed *cl;
	int i;
	int unsent;		/* never started: given back, not acknowledged */
	struct jobs_outbox_ack ack;
};

/* A growable list of them. */
struct books {
	struct booked *v;
	int n, cap;
};

/* A line for the run's log, from the booker (which never writes the ledger's logs). */
struct note {
	enum jobs_level level;
	int dead;		/* a row found dead at claim */
	char msg[300];
};

struct deliver;

/*
 * The booker: a thread with its own connections that does the queue's
 * database work while the main thread sends.  It claims the next rows
 * before the sender runs out (breakers and rate limits first), books
 * results in as few commits as the rate needs (whatever finished during
 * its last commit goes in the next: a group commit), renews the leases,
 * and tells the breakers what their hosts answered.  What the run must
 * log or count goes back to the main thread.
 */
struct booker {
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* wakes the booker */
	pthread_cond_t ready_cv;	/* wakes the main thread */
	/* shared, under mu */
	struct books unbooked, done;	/* main -> booker, booker -> main */
	struct claimed *ready, *ready_tail;	/* claimed, not yet sending */
	struct claimed *taken;		/* sending, or booked but not freed */
	struct note *notes;
	int nnotes;
	int want;		/* the sender will want rows: claim the next ones */
	int none;		/* the last claim found nothing due */
	int quit, failed;
	struct jobs_err err;		/* why it failed (set with failed) */
	int senders;			/* sender threads still running */
	/* the booker's own */
	struct deliver *d;
	struct jobs_db *app, *ledger;
	struct grant *grants;
	int ngrants;
	struct tally *tally;
	int ntally;
	int64_t left;		/* rows this run may still claim */
	int64_t renewed_ms;
};

struct deliver {
	struct jobs_ctx *c;
	struct jobs_send_config send;
	struct jobs_breaker_cfg breaker;
	const cJSON *rate_limits;
	char smtp_url[1024], smtp_user[256], smtp_password[512], from[256];
	char secret[512], root[4096], mail_dir[4200];
	int batch;
	const char *token;
	int64_t lease_ms;
	volatile sig_atomic_t stop;
	int failed;		/* the app database failed: the run fails */
	struct booker bk;
	int64_t sent, retried, dead, lost, spooled, released;
};

/*
 * A sender: one libcurl multi stream.  A run on two or more CPUs uses
 * two, each on its own thread with half of the connections, because the
 * sending (HTTP and the kernel's TCP) is the part that takes a CPU.  The
 * main one, on the run's own thread, also logs and counts.
 */
struct sender {
	struct deliver *d;
	struct jobs_send_config cfg;
	int main;
	int64_t spooled;
	pthread_t th;
	int rc;
	struct jobs_err err;
};

static int
config_ms(const cJSON *s, const char *key, long *out, struct jobs_err *err)
{
	int64_t ms;
	int rc = jobs_config_duration(s, key, &ms, err);

	if (rc == 1)
		*out = (long)ms;
	return rc < 0 ? -1 : 0;
}

/* A whole number in [min, max] at delivery.key, if present; else *out is kept. */
static int
within(const cJSON *s, const char *key, int64_t min, int64_t max, int *out,
    struct jobs_err *err)
{
	int64_t n = *out;

	if (jobs_config_within(s, "delivery", key, min, max, &n, err) < 0)
		return -1;
	*out = (int)n;
	return 0;
}

static int
setup(struct deliver *d, struct jobs_err *err)
{
	const struct jobs_config *cfg = d->c->config;
	const cJSON *smtp = jobs_config_section(cfg, "smtp");
	const cJSON *dl = jobs_config_section(cfg, "delivery");
	const cJSON *allow = jobs_config_section(cfg, "allow_networks"), *it;
	const char *s = NULL;
	char host[200] = "localhost";

	d->batch = BATCH;
	d->breaker.failures = 5;
	d->breaker.cooldown_ms = 60000;
	d->send.connect_timeout_ms = 5000;
	d->send.timeout_ms = 30000;
	d->send.user_agent = "jobs/" JOBS_VERSION;
	if (config_ms(dl, "timeout", &d->send.timeout_ms, err) < 0 ||
	    config_ms(dl, "connect_timeout", &d->send.connect_timeout_ms, err) < 0 ||
	    jobs_config_duration(dl, "breaker_cooldown", &d->breaker.cooldown_ms,
	    err) < 0)
		return -1;
	if (within(dl, "breaker_failures", 1, 1000, &d->breaker.failures, err) < 0 ||
	    within(dl, "parallel", 1, 1024, &d->send.max_parallel, err) < 0 ||
	    within(dl, "per_host", 1, 256, &d->send.max_per_host, err) < 0 ||
	    within(dl, "batch", 1, 10000, &d->batch, err) < 0)
		return -1;
	d->rate_limits = dl ? cJSON_GetObjectItemCaseSensitive(dl, "rate_limits") : NULL;
	if (d->rate_limits) {
		double r, b;

		if (!cJSON_IsObject(d->rate_limits))
			return jobs_err_set(err, JOBS_EUSAGE, "config: delivery.rate_limits:"
			    " want an object of host: \"N/m\"");
		cJSON_ArrayForEach(it, d->rate_limits)
			if (!cJSON_IsString(it) ||
			    jobs_ratelimit_parse(it->valuestring, &r, &b, err) < 0)
				return jobs_err_set(err, JOBS_EUSAGE, "config:"
				    " delivery.rate_limits: want \"N/s\", \"N/m\" or \"N/h\"");
	}
	/* Networks a row's destination may reach besides the public Internet. */
	if (jobs_net_allow_parse(&d->send.allow, getenv("JOBS_ALLOW_NETWORKS"), err) < 0)
		return -1;
	if (cJSON_IsString(allow) &&
	    jobs_net_allow_parse(&d->send.allow, allow->valuestring, err) < 0)
		return -1;
	if (cJSON_IsArray(allow))
		cJSON_ArrayForEach(it, allow)
			if (!cJSON_IsString(it) ||
			    jobs_net_allow_add(&d->send.allow, it->valuestring, err) < 0)
				return -1;
	/* SMTP: the environment first, then the config; secrets never argv. */
	if ((s = getenv("JOBS_SMTP_URL")) == NULL || *s == '\0')
		s = NULL;
	if (s == NULL && jobs_config_string(smtp, "url", &s, err) < 0)
		return -1;
	if (s) {
		snprintf(d->smtp_url, sizeof(d->smtp_url), "%s", s);
		d->send.smtp_url = d->smtp_url;
	}
	s = getenv("JOBS_SMTP_USER");
	if ((s == NULL || *s == '\0') && jobs_config_string(smtp, "user", &s, err) < 0)
		return -1;
	if (s && *s) {
		snprintf(d->smtp_user, sizeof(d->smtp_user), "%s", s);
		d->send.smtp_user = d->smtp_user;
	}
	switch (jobs_config_secret(cfg, "JOBS_SMTP_PASSWORD", "smtp", "password_file",
	    d->smtp_password, sizeof(d->smtp_password), err)) {
	case -1: return -1;
	case 1:
		d->send.smtp_password = d->smtp_password;
		jobs_secret_add(d->smtp_password);
	}
	switch (jobs_config_secret(cfg, "JOBS_WEBHOOK_SECRET", "webhook",
	    "secret_file", d->secret, sizeof(d->secret), err)) {
	case -1: return -1;
	case 1:
		d->send.webhook_secret = d->secret;
		jobs_secret_add(d->secret);
	}
	s = getenv("JOBS_MAIL_FROM");
	if ((s == NULL || *s == '\0') && jobs_config_string(smtp, "from", &s, err) < 0)
		return -1;
	if (s == NULL || *s == '\0') {
		gethostname(host, sizeof(host) - 1);
		snprintf(d->from, sizeof(d->from), "jobs@%s", host);
	} else
		snprintf(d->from, sizeof(d->from), "%s", s);
	d->send.mail_from = d->from;
	s = NULL;
	if (jobs_config_string(cfg->root, "spool_dir", &s, err) < 0 ||
	    jobs_spool_root(s, d->c->ledger->path, d->root, sizeof(d->root), err) < 0)
		return -1;
	snprintf(d->mail_dir, sizeof(d->mail_dir), "%s/mail", d->root);
	return jobs_send_check_config(&d->send, err);
}

/* A file:// row, or mail with no SMTP server: into the spool. */
static void
spool(struct sender *sd, const struct jobs_outbox_row *r,
    struct jobs_send_item *it)
{
	struct deliver *d = sd->d;
	struct jobs_err err = { 0, "" };
	const char *dir = strcmp(r->channel, "file") == 0 ? r->destination + 7 :
	    d->mail_dir;
	char *data = NULL;
	int rc;

	/* A row inserted by SQL is checked here: only under the spool root. */
	if (strcmp(r->channel, "file") == 0) {
		struct jobs_outbox_msg m = { .channel = "file",
		    .destination = r->destination, .body = "" };

		if (jobs_outbox_check(&m, d->root, &err) < 0) {
			it->result = JOBS_SEND_PERMANENT;
			snprintf(it->error, sizeof(it->error), "%s", err.msg);
			return;
		}
	}
	if (strcmp(r->channel, "email") == 0) {
		struct jobs_mail_msg m = { .destination = r->destination,
		    .subject = r->subject, .body = r->body, .key = r->key,
		    .created_at = r->created_at };

		if ((data = jobs_mail_message(d->send.mail_from, sd->cfg.now_s, &m,
		    &err)) == NULL) {
			it->result = JOBS_SEND_PERMANENT;
			snprintf(it->error, sizeof(it->error), "%s", err.msg);
			return;
		}
		rc = jobs_spool_write(dir, r->id, r->key, "eml", data, strlen(data), &err);
	} else {
		/* A .json file: the message as it was queued. */
		cJSON *o = cJSON_CreateObject(), *h = cJSON_Parse(r->headers ?
		    r->headers : "{}");

		/* All of it or nothing: never a message missing a field. */
		if (o != NULL && h != NULL &&
		    cJSON_AddNumberToObject(o, "id", (double)r->id) &&
		    cJSON_AddStringToObject(o, "idempotency_key", r->key) &&
		    cJSON_AddStringToObject(o, "destination", r->destination) &&
		    (r->subject == NULL ||
		    cJSON_AddStringToObject(o, "subject", r->subject)) &&
		    cJSON_AddItemToObject(o, "headers", h) && (h = NULL, 1) &&
		    cJSON_AddStringToObject(o, "body", r->body) &&
		    cJSON_AddNumberToObject(o, "created_at", (double)r->created_at))
			data = cJSON_Print(o);
		cJSON_Delete(h);
		cJSON_Delete(o);
		if (data == NULL) {
			it->result = JOBS_SEND_RETRY;
			snprintf(it->error, sizeof(it->error), "out of memory");
			return;
		}
		rc = jobs_spool_write(dir, r->id, r->key, "json", data, strlen(data), &err);
	}
	free(data);
	if (rc < 0) {
		it->result = JOBS_SEND_RETRY;
		snprintf(it->error, sizeof(it->error), "%s", err.msg);
	} else {
		it->result = JOBS_SEND_OK;
		sd->spooled++;
	}
}

/* A line for the main thread to log (the booker's side). */
static void
note(struct booker *bk, enum jobs_level level, int dead, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
note(struct booker *bk, enum jobs_level level, int dead, const char *fmt, ...)
{
	struct note *n;
	va_list ap;

	pthread_mutex_lock(&bk->mu);
	if ((n = realloc(bk->notes, (size_t)(bk->nnotes + 1) * sizeof(*n))) != NULL) {
		bk->notes = n;
		n = &bk->notes[bk->nnotes++];
		n->level = level;
		n->dead = dead;
		va_start(ap, fmt);
		vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&bk->mu);
}

/* Breakers, then rate limits: how many rows of host this claim may take. */
static int
gate(void *arg, const char *host)
{
	struct booker *bk = arg;
	struct deliver *d = bk->d;
	struct jobs_err err = { 0, "" };
	const cJSON *lim;
	struct grant *g;
	double rate, burst;
	int allow, want;

	allow = jobs_breaker_allow(bk->ledger, host, jobs_clock_now_ms(),
	    &d->breaker, &err);
	if (allow == 0) {
		note(bk, JOBS_INFO, 0, "%s: circuit open, not sending", host);
		return 0;
	}
	lim = d->rate_limits ? cJSON_GetObjectItemCaseSensitive(d->rate_limits, host) :
	    NULL;
	if (lim == NULL || jobs_ratelimit_parse(lim->valuestring, &rate, &burst,
	    &err) < 0)
		return allow;
	want = allow == 1 ? 1 : d->batch;
	if ((g = realloc(bk->grants, (size_t)(bk->ngrants + 1) * sizeof(*g))) == NULL)
		return allow;
	bk->grants = g;
	g = &bk->grants[bk->ngrants];
	snprintf(g->name, sizeof(g->name), "host:%s", host);
	g->burst = burst;
	g->used = 0;
	g->granted = jobs_ratelimit_take(bk->ledger, g->name, rate, burst, want,
	    jobs_clock_now_ms(), &err);
	if (g->granted < 0)
		return allow;	/* the ledger failed: send rather than stall */
	bk->ngrants++;
	if (g->granted == 0)
		note(bk, JOBS_INFO, 0, "%s: rate limit reached, later", host);
	return g->granted;
}

/* Give back the tokens a claim did not use. */
static void
settle_grants(struct booker *bk, const struct jobs_outbox_row *rows, int n)
{
	struct jobs_err err;
	int i, k;

	for (i = 0; i < bk->ngrants; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(bk->grants[i].name + 5, rows[k].host) == 0)
				bk->grants[i].used++;
		jobs_ratelimit_give(bk->ledger, bk->grants[i].name,
		    bk->grants[i].granted - bk->grants[i].used, bk->grants[i].burst,
		    &err);
	}
	free(bk->grants);
	bk->grants = NULL;
	bk->ngrants = 0;
}

/*
 * Tell the breakers what their hosts answered since the last claim: the
 * next claim's gate reads them.  One ledger commit a host.
 */
static void
record_breakers(struct booker *bk)
{
	struct jobs_err err = { 0, "" };
	int i;

	for (i = 0; i < bk->ntally; i++)
		jobs_breaker_record(bk->ledger, bk->tally[i].host, bk->tally[i].ok,
		    bk->tally[i].failed, jobs_clock_now_ms(), &bk->d->breaker, &err);
	free(bk->tally);
	bk->tally = NULL;
	bk->ntally = 0;
}

/* Count a booked row's answer for its host's breaker (not 4xx). */
static void
count_answer(struct booker *bk, const struct booked *b)
{
	const char *host = b->cl->rows[b->i].host;
	enum jobs_send_result res = b->cl->items[b->i].result;
	struct tally *t;
	int j;

	if (host[0] == '\0' || res == JOBS_SEND_PERMANENT || b->ack.lease_lost)
		return;
	for (j = 0; j < bk->ntally && strcmp(bk->tally[j].host, host) != 0; j++)
		;
	if (j == bk->ntally) {
		if ((t = realloc(bk->tally, (size_t)(j + 1) * sizeof(*t))) == NULL)
			return;	/* a breaker a little slower to open */
		bk->tally = t;
		snprintf(t[j].host, sizeof(t[j].host), "%s", host);
		t[j].ok = t[j].failed = 0;
		bk->ntally++;
	}
	bk->tally[j].ok += res == JOBS_SEND_OK;
	bk->tally[j].failed += res == JOBS_SEND_RETRY;
}

static int
books_add(struct books *b, const struct booked *x)
{
	if (b->n == b->cap) {
		int cap = b->cap ? 2 * b->cap : 256;
		struct booked *v = realloc(b->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -1;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *x;
	return 0;
}

/*
 * Book one group of results in one commit, and give back in another the
 * rows never tried (the run stopped first): their attempt uncounted.
 * 0, or -1 with err.
 */
static int
book_group(struct booker *bk, struct books *g, struct jobs_outbox_ack **acks,
    int *cap, struct jobs_outbox_row **back, int *backcap, struct jobs_err *err)
{
	int i, j, n = 0, nb = 0;

	if (g->n > *cap) {
		struct jobs_outbox_ack *more = realloc(*acks, (size_t)g->cap *
		    sizeof(**acks));

		if (more == NULL)
			return jobs_err_set(err, JOBS_ETEMP, "out of memory");
		*acks = more;
		*cap = g->cap;
	}
	for (i = 0; i < g->n; i++) {
		if (!g->v[i].unsent) {
			(*acks)[n++] = g->v[i].ack;
			continue;
		}
		if (nb == *backcap) {
			struct jobs_outbox_row *more = realloc(*back, (size_t)(*backcap =
			    *backcap ? 2 * *backcap : 64) * sizeof(**back));

			if (more == NULL)
				return jobs_err_set(err, JOBS_ETEMP, "out of memory");
			*back = more;
		}
		(*back)[nb++] = g->v[i].cl->rows[g->v[i].i];	/* a shallow copy */
	}
	if (nb > 0 && jobs_outbox_release(bk->app, *back, nb, bk->d->token,
	    err) < 0)
		return -1;	/* they keep their lease, then go back */
	if (n > 0 && jobs_outbox_ack(bk->app, *acks, n, bk->d->token,
	    jobs_clock_now_ms(), err) < 0)
		return -1;	/* unbooked rows keep their lease, then go back */
	for (i = 0, j = 0; i < g->n; i++)
		if (!g->v[i].unsent) {
			g->v[i].ack = (*acks)[j++];
			count_answer(bk, &g->v[i]);
		}
	return 0;
}

/*
 * Claim the next rows: *out is the claim, or NULL when nothing is due (or
 * the run's limit is reached).  -1 with bk->err.
 */
static int
claim_next(struct booker *bk, struct claimed **out, struct jobs_err *err)
{
	struct deliver *d = bk->d;
	struct jobs_outbox_row *rows = NULL;
	struct jobs_outbox_dead *dead = NULL;
	struct claimed *cl;
	int n = 0, ndead = 0, i, limited;

	*out = NULL;
	if (bk->left <= 0)
		return 0;
	record_breakers(bk);
	/* No rate limit and every breaker closed: nothing to gate. */
	limited = d->rate_limits != NULL ||
	    jobs_breaker_all_closed(bk->ledger, err) != 1;
	if (jobs_outbox_claim(bk->app, jobs_clock_now_ms(), d->lease_ms,
	    bk->left < d->batch ? (int)bk->left : d->batch, d->token,
	    limited ? gate : NULL, bk, &rows, &n, &dead, &ndead, err) < 0) {
		settle_grants(bk, NULL, 0);
		return -1;
	}
	/* A message whose sender died on its last attempt: say so. */
	for (i = 0; i < ndead; i++)
		note(bk, JOBS_WARN, 1, "row %lld is dead: %s", (long long)dead[i].id,
		    dead[i].error);
	free(dead);
	settle_grants(bk, rows, n);
	if (n == 0)
		return 0;
	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->items = calloc((size_t)n, sizeof(*cl->items))) == NULL) {
		/* The rows stay leased and go back when the lease ends. */
		free(cl);
		jobs_outbox_free(rows, n);
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	}
	bk->left -= n;
	cl->rows = rows;
	cl->n = cl->open = n;
	*out = cl;
	return 0;
}

/* Claims nobody will send (the run stopped): back to pending. */
static void
release_claims(struct booker *bk, struct claimed *cl)
{
	struct claimed *next;
	struct jobs_err err = { 0, "" };

	for (; cl != NULL; cl = next) {
		next = cl->queue;
		if (jobs_outbox_release(bk->app, cl->rows, cl->n, bk->d->token,
		    &err) < 0)
			note(bk, JOBS_WARN, 0, "%s (those rows go back when their"
			    " lease ends)", err.msg);
		jobs_outbox_free(cl->rows, cl->n);
		free(cl->items);
		free(cl);
	}
}

/* Wait on cv (mu held) for at most ms milliseconds. */
static void
wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	if ((ts.tv_nsec += (ms % 1000) * 1000000L) >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

/*
 * The booker's loop, in this order: renew the leases when a third of a
 * lease has passed, book what finished (so the next claim sees it: a
 * breaker's probe, the row an ordering key waits for), claim when a
 * sender will want rows, else sleep until one of these is due.
 */
static void *
booker_main(void *arg)
{
	struct booker *bk = arg;
	struct deliver *d = bk->d;
	struct books mine = { NULL, 0, 0 }, t;
	struct jobs_outbox_ack *acks = NULL;
	struct jobs_outbox_row *back = NULL;
	struct jobs_err err = { 0, "" };
	struct claimed *cl;
	int cap = 0, backcap = 0, i, rc;
	int64_t now;

	pthread_mutex_lock(&bk->mu);
	while (!bk->failed) {
		/* Leases first: rows waiting behind a slow host stay ours. */
		now = jobs_clock_now_ms();
		if (now - bk->renewed_ms >= d->lease_ms / 3) {
			pthread_mutex_unlock(&bk->mu);
			if (jobs_outbox_renew(bk->app, d->token, now, d->lease_ms,
			    &err) < 0)
				note(bk, JOBS_WARN, 0, "unable to renew leases: %s",
				    err.msg);
			pthread_mutex_lock(&bk->mu);
			bk->renewed_ms = now;
			continue;
		}
		rc = 0;
		if (bk->unbooked.n > 0) {
			t = bk->unbooked;
			bk->unbooked = mine;
			mine = t;
			pthread_mutex_unlock(&bk->mu);
			rc = book_group(bk, &mine, &acks, &cap, &back, &backcap, &err);
			pthread_mutex_lock(&bk->mu);
			for (i = 0; rc == 0 && i < mine.n; i++)
				if (books_add(&bk->done, &mine.v[i]) < 0)
					rc = jobs_err_set(&err, JOBS_ETEMP,
					    "out of memory");
			mine.n = 0;
		} else if (bk->quit)
			break;
		/* Then claim, when a sender will want rows, results booked first. */
		if (rc == 0 && bk->unbooked.n == 0 && bk->want && bk->ready == NULL &&
		    !bk->none && !bk->quit) {
			bk->want = 0;
			pthread_mutex_unlock(&bk->mu);
			rc = claim_next(bk, &cl, &err);
			pthread_mutex_lock(&bk->mu);
			if (rc == 0 && cl == NULL)
				bk->none = 1;
			else if (rc == 0) {
				if (bk->ready_tail)
					bk->ready_tail->queue = cl;
				else
					bk->ready = cl;
				bk->ready_tail = cl;
			}
		} else if (rc == 0 && bk->unbooked.n == 0 && !bk->quit) {
			/* Nothing to do: sleep until asked, or leases are due. */
			wait_ms(&bk->cv, &bk->mu, (long)(d->lease_ms / 3 -
			    (now - bk->renewed_ms)) + 1000);
		}
		if (rc < 0 && !bk->failed) {
			/* Unbooked rows keep their lease and go back when it ends. */
			bk->err = err;
			bk->failed = 1;
		}
		pthread_cond_broadcast(&bk->ready_cv);
	}
	cl = bk->ready;
	bk->ready = bk->ready_tail = NULL;
	pthread_cond_broadcast(&bk->ready_cv);
	pthread_mutex_unlock(&bk->mu);
	release_claims(bk, cl);
	record_breakers(bk);
	free(mine.v);
	free(acks);
	free(back);
	return NULL;
}

/*
 * On the main thread: log what the booker noted, count what it booked,
 * free the claims whose rows are all booked.  A booker that failed fails
 * the run.
 */
static void
settle(struct deliver *d)
{
	struct books b;
	struct note *notes;
	struct jobs_err why = { 0, "" };
	int i, nnotes, failed;

	pthread_mutex_lock(&d->bk.mu);
	b = d->bk.done;
	d->bk.done.v = NULL;
	d->bk.done.n = d->bk.done.cap = 0;
	notes = d->bk.notes;
	nnotes = d->bk.nnotes;
	d->bk.notes = NULL;
	d->bk.nnotes = 0;
	if ((failed = d->bk.failed && !d->failed))
		why = d->bk.err;
	pthread_mutex_unlock(&d->bk.mu);
	/* The ledger is written outside the lock: no sender waits on it. */
	if (failed) {
		jobs_run_error(d->c, "%s", why.msg[0] ? why.msg : "failed");
		d->failed = 1;
		d->stop = 1;
	}
	for (i = 0; i < nnotes; i++) {
		if (notes[i].dead && ++d->dead > DEAD_SHOWN)
			continue;
		jobs_log(d->c, notes[i].level, "%s", notes[i].msg);
	}
	free(notes);
	for (i = 0; i < b.n; i++) {
		const struct jobs_outbox_ack *k = &b.v[i].ack;
		const struct jobs_outbox_row *r = &b.v[i].cl->rows[b.v[i].i];

		if (b.v[i].unsent)
			d->released++;
		else if (k->lease_lost) {
			d->lost++;
			jobs_log(d->c, JOBS_WARN, "row %lld: the lease ran out before the"
			    " result was recorded; another run has it", (long long)k->id);
		} else if (k->outcome == JOBS_OUTBOX_SENT)
			d->sent++;
		else if (k->went_dead) {
			d->dead++;
			if (d->dead <= DEAD_SHOWN)
				jobs_log(d->c, JOBS_WARN, "row %lld (%s%s%s) is dead: %s",
				    (long long)k->id, r->channel,
				    r->host[0] ? " to " : "", r->host,
				    k->error ? k->error : "failed");
		} else {
			d->retried++;
			jobs_log(d->c, JOBS_INFO, "row %lld: %s; retrying later",
			    (long long)k->id, k->error ? k->error : "failed");
		}
	}
	for (i = 0; i < b.n; i++) {
		struct claimed *cl = b.v[i].cl;

		if (--cl->open > 0)
			continue;
		pthread_mutex_lock(&d->bk.mu);
		if (cl->prev)
			cl->prev->next = cl->next;
		else
			d->bk.taken = cl->next;
		if (cl->next)
			cl->next->prev = cl->prev;
		pthread_mutex_unlock(&d->bk.mu);
		jobs_outbox_free(cl->rows, cl->n);
		free(cl->items);
		free(cl);
	}
	free(b.v);
}

/* Row i of cl is finished: to the booker. */
static void
book(struct deliver *d, struct claimed *cl, int i)
{
	const struct jobs_outbox_row *r = &cl->rows[i];
	const struct jobs_send_item *it = &cl->items[i];
	struct booked x;

	memset(&x, 0, sizeof(x));
	x.cl = cl;
	x.i = i;
	x.ack.id = r->id;
	x.ack.attempts = r->attempts;
	x.ack.max_attempts = r->max_attempts;
	x.ack.retry_after_s = it->retry_after_s;
	x.unsent = it->result == JOBS_SEND_UNSENT;
	x.ack.outcome = it->result == JOBS_SEND_OK ? JOBS_OUTBOX_SENT :
	    it->result == JOBS_SEND_RETRY ? JOBS_OUTBOX_RETRY : JOBS_OUTBOX_DEAD;
	x.ack.error = it->result == JOBS_SEND_OK ? NULL : it->error;
	pthread_mutex_lock(&d->bk.mu);
	if (books_add(&d->bk.unbooked, &x) < 0 && !d->bk.failed) {
		/* The row keeps its lease and goes back when it ends. */
		jobs_err_set(&d->bk.err, JOBS_ETEMP, "out of memory");
		d->bk.failed = 1;
	}
	pthread_cond_signal(&d->bk.cv);
	pthread_mutex_unlock(&d->bk.mu);
}

/* The sender is done with a transfer. */
static void
done(void *arg, struct jobs_send_item *it)
{
	struct sender *sd = arg;
	struct claimed *cl = it->user;

	book(sd->d, cl, (int)(it - cl->items));
}

/* Whether row r goes to the spool rather than over the network. */
static int
spooled(const struct deliver *d, const struct jobs_outbox_row *r)
{
	return strcmp(r->channel, "file") == 0 ||
	    (strcmp(r->channel, "email") == 0 && d->send.smtp_url == NULL);
}

/*
 * The sender's queue runs low: take the rows the booker has claimed
 * (waiting for them if it has not yet), spool the ones that go to the
 * spool and hand the sender the others.  0 when nothing is due, -1 to
 * stop (the run is cancelled, or the database failed).
 */
static int
more(void *arg, struct jobs_send_item **items)
{
	struct sender *sd = arg;
	struct deliver *d = sd->d;
	struct booker *bk = &d->bk;
	struct jobs_outbox_row *sorted;
	struct claimed *cl;
	int n, nnet, i, k, failed;

	for (;;) {
		if (sd->main)
			settle(d);
		if ((sd->main && d->failed) || d->stop)
			return -1;
		if (jobs_run_cancelled(d->c)) {
			d->stop = 1;
			return -1;
		}
		pthread_mutex_lock(&bk->mu);
		if (bk->failed) {
			pthread_mutex_unlock(&bk->mu);
			return -1;
		}
		if (bk->ready == NULL && !bk->none) {
			/*
			 * Wait for the booker's claim, a little at a time: a stop
			 * or the run's timeout ends the wait, and the main thread
			 * keeps settling what is booked meanwhile.
			 */
			bk->want = 1;
			pthread_cond_signal(&bk->cv);
			wait_ms(&bk->ready_cv, &bk->mu, 200);
			pthread_mutex_unlock(&bk->mu);
			continue;
		}
		if ((cl = bk->ready) == NULL) {
			/* Nothing due now; asked again once all is finished. */
			bk->none = 0;
			failed = bk->failed;
			pthread_mutex_unlock(&bk->mu);
			return failed ? -1 : 0;
		}
		if ((bk->ready = cl->queue) == NULL)
			bk->ready_tail = NULL;
		/* Claim the next rows while these go out. */
		bk->want = 1;
		pthread_cond_signal(&bk->cv);
		n = cl->n;
		/* The run's claims, for the main thread to free. */
		if ((cl->next = bk->taken) != NULL)
			cl->next->prev = cl;
		bk->taken = cl;
		pthread_mutex_unlock(&bk->mu);
		/* The network's rows first, in the claim's order: the sender's. */
		if ((sorted = calloc((size_t)n, sizeof(*sorted))) == NULL) {
			/* Its rows stay leased and go back when the lease ends. */
			pthread_mutex_lock(&bk->mu);
			if (!bk->failed)
				jobs_err_set(&bk->err, JOBS_ETEMP, "out of memory");
			bk->failed = 1;
			pthread_mutex_unlock(&bk->mu);
			d->stop = 1;
			return -1;
		}
		for (nnet = 0, k = 0; k < 2; k++)
			for (i = 0; i < n; i++)
				if (spooled(d, &cl->rows[i]) == k)
					sorted[nnet++] = cl->rows[i];
		memcpy(cl->rows, sorted, (size_t)n * sizeof(*sorted));
		free(sorted);
		for (nnet = 0, i = 0; i < n; i++) {
			struct jobs_send_item *it = &cl->items[i];
			const struct jobs_outbox_row *r = &cl->rows[i];

			it->id = r->id;
			it->channel = r->channel;
			it->destination = r->destination;
			it->subject = r->subject;
			it->body = r->body;
			it->headers = r->headers;
			it->key = r->key;
			it->created_at = r->created_at;
			it->retry_after_s = -1;
			it->user = cl;
			nnet += !spooled(d, r);
		}
		*items = cl->items;
		sd->cfg.now_s = jobs_clock_now_ms() / 1000;
		/* Booking may free cl: nothing of it is touched after this. */
		for (i = nnet; i < n; i++) {
			spool(sd, &cl->rows[i], &cl->items[i]);
			book(d, cl, i);
		}
		if (nnet > 0)
			return nnet;
	}
}

/* While the sender runs: stop when the run must, log and count. */
static void
tick(void *arg)
{
	struct sender *sd = arg;

	/* The run's own timeout and stop signals end the sending too. */
	if (jobs_run_cancelled(sd->d->c))
		sd->d->stop = 1;
	if (sd->main)
		settle(sd->d);
}

/* A sender on a thread of its own. */
static void *
sender_main(void *arg)
{
	struct sender *sd = arg;
	struct jobs_send_source src = { more, done, sd, 0 };

	src.low = sd->d->batch / 2 > 0 ? sd->d->batch / 2 : 1;
	sd->rc = jobs_send_stream(&sd->cfg, &src, &sd->d->stop, &sd->err);
	pthread_mutex_lock(&sd->d->bk.mu);
	sd->d->bk.senders--;
	pthread_cond_broadcast(&sd->d->bk.ready_cv);
	pthread_mutex_unlock(&sd->d->bk.mu);
	return NULL;
}

/*
 * Start a thread with every signal blocked in it, so the run's stop
 * signals reach the main thread (and interrupt its wait at once).
 */
static int
spawn(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

/* The booker's connections and thread. */
static int
booker_start(struct deliver *d, struct jobs_err *err)
{
	struct booker *bk = &d->bk;
	int e;

	pthread_mutex_init(&bk->mu, NULL);
	pthread_cond_init(&bk->cv, NULL);
	pthread_cond_init(&bk->ready_cv, NULL);
	bk->d = d;
	bk->left = d->c->opts->limit >= 0 ? d->c->opts->limit : INT64_MAX;
	bk->renewed_ms = jobs_clock_now_ms();
	if (jobs_db_open(&bk->app, d->c->app->path, JOBS_DB_APP, 0, err) < 0 ||
	    jobs_db_open(&bk->ledger, d->c->ledger->path, JOBS_DB_LEDGER, 0,
	    err) < 0)
		return -1;
	/* It works at the head of the outbox: a small cache, memory flat. */
	if (jobs_db_exec(bk->app, "PRAGMA cache_size = -2000", err) < 0)
		return -1;
	if ((e = spawn(&bk->th, booker_main, bk)) != 0)
		return jobs_err_set(err, JOBS_ETEMP, "unable to start a thread: %s",
		    strerror(e));
	bk->started = 1;
	return 0;
}

/* Book what is left, give back what was claimed but not sent, end. */
static void
booker_stop(struct deliver *d)
{
	struct booker *bk = &d->bk;

	if (bk->started) {
		pthread_mutex_lock(&bk->mu);
		bk->quit = 1;
		pthread_cond_signal(&bk->cv);
		pthread_mutex_unlock(&bk->mu);
		pthread_join(bk->th, NULL);
		bk->started = 0;
	}
	settle(d);
	jobs_db_close(bk->app);
	jobs_db_close(bk->ledger);
	bk->app = bk->ledger = NULL;
	free(bk->unbooked.v);
	free(bk->grants);
	free(bk->tally);
	pthread_mutex_destroy(&bk->mu);
	pthread_cond_destroy(&bk->cv);
	pthread_cond_destroy(&bk->ready_cv);
}

/*
 * Send until nothing is due: one stream for the run, or two on two
 * threads with the connection limits split between them.  Either way the
 * booker claims the next rows while the last ones still go out, and
 * books results as they come, so a kill repeats at most the transfers in
 * flight and the results of one commit.  0, or -1 with err when a stream
 * could not start.
 */
static int
send_all(struct deliver *d, struct jobs_err *err)
{
	struct sender sd[SENDERS];
	struct jobs_send_source src = { more, done, NULL, 0 };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int parallel = d->send.max_parallel > 0 ? d->send.max_parallel : 64;
	int per_host = d->send.max_per_host > 0 ? d->send.max_per_host : 8;
	int i, n, started, rc = 0;

	/* As many as CPUs, within the limits: each stream has a connection. */
	n = ncpu < 1 ? 1 : ncpu > SENDERS ? SENDERS : (int)ncpu;
	if (n > per_host)
		n = per_host;
	if (n > parallel)
		n = parallel;
	memset(sd, 0, sizeof(sd));
	for (i = 0; i < n; i++) {
		sd[i].d = d;
		sd[i].main = i == 0;
		sd[i].cfg = d->send;
		/* The limits split, the first streams taking the remainder. */
		sd[i].cfg.max_parallel = parallel / n + (i < parallel % n);
		sd[i].cfg.max_per_host = per_host / n + (i < per_host % n);
		sd[i].cfg.tick = tick;
		sd[i].cfg.tick_arg = &sd[i];
	}
	pthread_mutex_lock(&d->bk.mu);
	d->bk.senders = n - 1;
	pthread_mutex_unlock(&d->bk.mu);
	for (started = 1; started < n; started++)
		if (spawn(&sd[started].th, sender_main, &sd[started]) != 0)
			break;
	if (started < n) {
		/* Fewer streams do it all: the main one takes the others' share. */
		pthread_mutex_lock(&d->bk.mu);
		d->bk.senders -= n - started;
		pthread_mutex_unlock(&d->bk.mu);
		for (i = started; i < n; i++) {
			sd[0].cfg.max_parallel += sd[i].cfg.max_parallel;
			sd[0].cfg.max_per_host += sd[i].cfg.max_per_host;
		}
	}
	src.arg = &sd[0];
	src.low = d->batch / 2 > 0 ? d->batch / 2 : 1;
	if (jobs_send_stream(&sd[0].cfg, &src, &d->stop, err) < 0) {
		d->stop = 1;	/* the others too */
		rc = -1;
	}
	/*
	 * The others may still be sending: keep logging and counting what
	 * the booker books (and freeing their claims) until they end, and
	 * stop them if the booker fails.
	 */
	pthread_mutex_lock(&d->bk.mu);
	while (d->bk.senders > 0) {
		pthread_mutex_unlock(&d->bk.mu);
		settle(d);
		if (jobs_run_cancelled(d->c))
			d->stop = 1;
		pthread_mutex_lock(&d->bk.mu);
		if (d->bk.senders > 0)
			wait_ms(&d->bk.ready_cv, &d->bk.mu, 200);
	}
	pthread_mutex_unlock(&d->bk.mu);
	for (i = 1; i < started; i++) {
		pthread_join(sd[i].th, NULL);
		if (sd[i].rc < 0 && rc == 0) {
			*err = sd[i].err;
			rc = -1;
		}
	}
	for (i = 0; i < started; i++)
		d->spooled += sd[i].spooled;
	return rc;
}

/* What the run did, for the ledger and --json. */
static void
metrics(struct jobs_ctx *c, const struct deliver *d)
{
	c->items_ok = d->sent;
	c->items_failed = d->dead;
	c->items_skipped = d->retried;
	jobs_metric(c, c->metrics, "sent", (double)d->sent);
	jobs_metric(c, c->metrics, "spooled", (double)d->spooled);
	jobs_metric(c, c->metrics, "retried", (double)d->retried);
	jobs_metric(c, c->metrics, "dead", (double)d->dead);
	jobs_metric(c, c->metrics, "lease_lost", (double)d->lost);
	jobs_metric(c, c->metrics, "released", (double)d->released);
}

static int
deliver(struct jobs_ctx *c, void *arg)
{
	struct deliver d;
	struct jobs_err err = { 0, "" };
	struct claimed *cl;
	unsigned char rnd[8];
	char token[128], host[64] = "";
	int n, i, rc = 0;

	(void)arg;
	memset(&d, 0, sizeof(d));
	d.c = c;
	/* A configuration that cannot work is exit 2, before any row is touched. */
	if (setup(&d, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		return err.code == JOBS_ETEMP ? -1 : JOBS_EUSAGE;
	}
	if (c->opts->dry_run) {
		int64_t due = jobs_outbox_due(c->app, jobs_clock_now_ms() / 1000, &err);

		if (due < 0) {
			jobs_run_error(c, "%s", err.msg);
			return -1;
		}
		jobs_metric(c, c->metrics, "due", (double)due);
		jobs_metric_bool(c, c->metrics, "dry_run", 1);
		return 0;
	}
	/* Most runs from cron find nothing to do: no threads, no TLS set-up. */
	switch (jobs_outbox_pending_work(c->app, jobs_clock_now_ms(), &err)) {
	case -1:
		jobs_run_error(c, "%s", err.msg);
		return -1;
	case 0:
		metrics(c, &d);
		return 0;
	}
	/* The lease outlives a transfer twice over, so a live sender keeps it. */
	d.lease_ms = 2 * (d.send.timeout_ms + d.send.connect_timeout_ms) + 10000;
	gethostname(host, sizeof(host) - 1);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	n = snprintf(token, sizeof(token), "%s:%d:", host, (int)getpid());
	for (i = 0; i < 8 && n + 2 < (int)sizeof(token); i++, n += 2)
		snprintf(token + n, 3, "%02x", rnd[i]);
	d.token = token;
	d.stop = jobs_run_cancelled(c);
	if (booker_start(&d, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		rc = -1;
	} else if (send_all(&d, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		rc = -1;
	}
	booker_stop(&d);
	if (d.failed)
		rc = -1;
	/* Only after a failed commit: those rows go back when their lease ends. */
	while ((cl = d.bk.taken) != NULL) {
		d.bk.taken = cl->next;
		jobs_outbox_free(cl->rows, cl->n);
		free(cl->items);
		free(cl);
	}
	metrics(c, &d);
	if (rc == 0 && d.dead > 0) {
		jobs_run_error(c, "%lld message%s went dead this run", (long long)d.dead,
		    d.dead == 1 ? "" : "s");
		rc = -1;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct jobs_job job = {
		.name = "jobs-deliver",
		.synopsis = "[options]",
		.summary = "Send the outbox's due messages: webhooks, mail, the spool.",
		.run = deliver,
	};

	return jobs_main(&job, argc, argv);
}
