/*
 * jobs-deliver - send the outbox's due rows: webhooks and mail through
 * libcurl in parallel, file:// rows (and mail when no SMTP server is
 * configured) into the spool.  Claim, send outside any transaction,
 * acknowledge while the lease holds; at least once.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define ACK_GROUP 64	/* results booked in one commit, at most... */
#define ACK_MS 20	/* ...and no later than this after the first */
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
	struct claimed *prev, *next;
};

/* A host's answers since its breaker last heard of them. */
struct tally {
	char host[256];
	int ok, failed;
};

/* A finished row waiting for the next group commit. */
struct booked {
	struct claimed *cl;
	int i;
};

struct deliver {
	struct jobs_ctx *c;
	struct jobs_send_config send;
	struct jobs_breaker_cfg breaker;
	const cJSON *rate_limits;
	char smtp_url[1024], smtp_user[256], smtp_password[512], from[256];
	char secret[512], root[4096], mail_dir[4200];
	int batch;
	struct grant *grants;
	int ngrants;
	const char *token;
	int64_t lease_ms, renewed_ms;
	volatile sig_atomic_t stop;
	int64_t left;		/* rows this run may still claim */
	int failed;		/* the app database failed: the run fails */
	struct claimed *claims;
	struct booked pend[ACK_GROUP];
	int npend;
	int64_t pend_ms;	/* when the oldest of pend finished */
	struct tally *tally;
	int ntally;
	int64_t sent, retried, dead, lost, spooled;
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

/* Breakers, then rate limits: how many rows of host this claim may take. */
static int
gate(void *arg, const char *host)
{
	struct deliver *d = arg;
	struct jobs_err err = { 0, "" };
	const cJSON *lim;
	struct grant *g;
	double rate, burst;
	int allow, want;

	allow = jobs_breaker_allow(d->c->ledger, host, jobs_clock_now_ms(),
	    &d->breaker, &err);
	if (allow == 0) {
		jobs_log(d->c, JOBS_INFO, "%s: circuit open, not sending", host);
		return 0;
	}
	lim = d->rate_limits ? cJSON_GetObjectItemCaseSensitive(d->rate_limits, host) :
	    NULL;
	if (lim == NULL || jobs_ratelimit_parse(lim->valuestring, &rate, &burst,
	    &err) < 0)
		return allow;
	want = allow == 1 ? 1 : d->batch;
	if ((g = realloc(d->grants, (size_t)(d->ngrants + 1) * sizeof(*g))) == NULL)
		return allow;
	d->grants = g;
	g = &d->grants[d->ngrants];
	snprintf(g->name, sizeof(g->name), "host:%s", host);
	g->burst = burst;
	g->used = 0;
	g->granted = jobs_ratelimit_take(d->c->ledger, g->name, rate, burst, want,
	    jobs_clock_now_ms(), &err);
	if (g->granted < 0)
		return allow;	/* the ledger failed: send rather than stall */
	d->ngrants++;
	if (g->granted == 0)
		jobs_log(d->c, JOBS_INFO, "%s: rate limit reached, later", host);
	return g->granted;
}

/* Give back the tokens a claim did not use. */
static void
settle_grants(struct deliver *d, const struct jobs_outbox_row *rows, int n)
{
	struct jobs_err err;
	int i, k;

	for (i = 0; i < d->ngrants; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(d->grants[i].name + 5, rows[k].host) == 0)
				d->grants[i].used++;
		jobs_ratelimit_give(d->c->ledger, d->grants[i].name,
		    d->grants[i].granted - d->grants[i].used, d->grants[i].burst, &err);
	}
	free(d->grants);
	d->grants = NULL;
	d->ngrants = 0;
}

/* A file:// row, or mail with no SMTP server: into the spool. */
static void
spool(struct deliver *d, const struct jobs_outbox_row *r, struct jobs_send_item *it)
{
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

		if ((data = jobs_mail_message(d->send.mail_from, d->send.now_s, &m,
		    &err)) == NULL) {
			it->result = JOBS_SEND_PERMANENT;
			snprintf(it->error, sizeof(it->error), "%s", err.msg);
			return;
		}
		rc = jobs_spool_write(dir, r->id, r->key, "eml", data, strlen(data), &err);
	} else {
		/* A .json file: the message as it was queued. */
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", (double)r->id);
		cJSON_AddStringToObject(o, "idempotency_key", r->key);
		cJSON_AddStringToObject(o, "destination", r->destination);
		if (r->subject)
			cJSON_AddStringToObject(o, "subject", r->subject);
		cJSON_AddItemToObject(o, "headers", cJSON_Parse(r->headers ?
		    r->headers : "{}"));
		cJSON_AddStringToObject(o, "body", r->body);
		cJSON_AddNumberToObject(o, "created_at", (double)r->created_at);
		data = cJSON_Print(o);
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
		d->spooled++;
	}
}

/*
 * Book the finished rows in one short transaction, while the lease is
 * ours; count the hosts' answers for their breakers (record_breakers());
 * free the claims whose rows are all booked.
 */
static void
flush(struct deliver *d)
{
	struct jobs_outbox_ack acks[ACK_GROUP];
	struct jobs_err err = { 0, "" };
	int i, j, n = d->npend, booked;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		const struct jobs_outbox_row *r = &d->pend[i].cl->rows[d->pend[i].i];
		struct jobs_send_item *it = &d->pend[i].cl->items[d->pend[i].i];

		memset(&acks[i], 0, sizeof(acks[i]));
		acks[i].id = r->id;
		acks[i].attempts = r->attempts;
		acks[i].max_attempts = r->max_attempts;
		acks[i].retry_after_s = it->retry_after_s;
		acks[i].outcome = it->result == JOBS_SEND_OK ? JOBS_OUTBOX_SENT :
		    it->result == JOBS_SEND_RETRY ? JOBS_OUTBOX_RETRY :
		    JOBS_OUTBOX_DEAD;
		acks[i].error = it->result == JOBS_SEND_OK ? NULL : it->error;
	}
	booked = jobs_outbox_ack(d->c->app, acks, n, d->token, jobs_clock_now_ms(),
	    &err) == 0;
	if (!booked && !d->failed) {
		/* Unbooked rows keep their lease and go back when it ends. */
		jobs_run_error(d->c, "%s", err.msg);
		d->failed = 1;
		d->stop = 1;
	}
	for (i = 0; i < n && booked; i++) {
		const struct jobs_outbox_row *r = &d->pend[i].cl->rows[d->pend[i].i];

		if (acks[i].lease_lost) {
			d->lost++;
			jobs_log(d->c, JOBS_WARN, "row %lld: the lease ran out before the"
			    " result was recorded; another run has it", (long long)acks[i].id);
		} else if (acks[i].outcome == JOBS_OUTBOX_SENT)
			d->sent++;
		else if (acks[i].went_dead) {
			d->dead++;
			if (d->dead <= DEAD_SHOWN)
				jobs_log(d->c, JOBS_WARN, "row %lld (%s%s%s) is dead: %s",
				    (long long)acks[i].id, r->channel,
				    r->host[0] ? " to " : "", r->host,
				    acks[i].error ? acks[i].error : "failed");
		} else {
			d->retried++;
			jobs_log(d->c, JOBS_INFO, "row %lld: %s; retrying later",
			    (long long)acks[i].id, acks[i].error ? acks[i].error : "failed");
		}
	}
	/* The breakers learn from the hosts' answers (not from 4xx). */
	for (i = 0; i < n && booked; i++) {
		const char *host = d->pend[i].cl->rows[d->pend[i].i].host;
		enum jobs_send_result res = d->pend[i].cl->items[d->pend[i].i].result;
		struct tally *t;

		if (host[0] == '\0' || res == JOBS_SEND_PERMANENT)
			continue;
		for (j = 0; j < d->ntally && strcmp(d->tally[j].host, host) != 0; j++)
			;
		if (j == d->ntally) {
			if ((t = realloc(d->tally, (size_t)(j + 1) * sizeof(*t))) == NULL)
				continue;	/* a breaker a little slower to open */
			d->tally = t;
			snprintf(t[j].host, sizeof(t[j].host), "%s", host);
			t[j].ok = t[j].failed = 0;
			d->ntally++;
		}
		d->tally[j].ok += res == JOBS_SEND_OK;
		d->tally[j].failed += res == JOBS_SEND_RETRY;
	}
	for (i = 0; i < n; i++) {
		struct claimed *cl = d->pend[i].cl;

		if (--cl->open > 0)
			continue;
		if (cl->prev)
			cl->prev->next = cl->next;
		else
			d->claims = cl->next;
		if (cl->next)
			cl->next->prev = cl->prev;
		jobs_outbox_free(cl->rows, cl->n);
		free(cl->items);
		free(cl);
	}
	d->npend = 0;
}

/*
 * Tell the breakers what their hosts answered since the last claim: the
 * next claim's gate reads them.  One ledger commit a host, not a group.
 */
static void
record_breakers(struct deliver *d)
{
	struct jobs_err err = { 0, "" };
	int i;

	for (i = 0; i < d->ntally; i++)
		jobs_breaker_record(d->c->ledger, d->tally[i].host, d->tally[i].ok,
		    d->tally[i].failed, jobs_clock_now_ms(), &d->breaker, &err);
	free(d->tally);
	d->tally = NULL;
	d->ntally = 0;
}

/* Row i of cl is finished: booked with the next group. */
static void
book(struct deliver *d, struct claimed *cl, int i)
{
	if (d->npend == 0)
		d->pend_ms = jobs_clock_now_ms();
	d->pend[d->npend].cl = cl;
	d->pend[d->npend].i = i;
	if (++d->npend == ACK_GROUP)
		flush(d);
}

/* The sender is done with a transfer. */
static void
done(void *arg, struct jobs_send_item *it)
{
	struct deliver *d = arg;
	struct claimed *cl = it->user;

	book(d, cl, (int)(it - cl->items));
}

/*
 * The sender's queue runs low: claim the next rows, spool the ones that
 * go to the spool and hand it the others.  0 when nothing is due, -1 to
 * stop claiming (the run is cancelled, or the database failed).
 */
static int
more(void *arg, struct jobs_send_item **items)
{
	struct deliver *d = arg;
	struct jobs_err err = { 0, "" };
	struct jobs_outbox_row *rows = NULL, *sorted = NULL;
	struct jobs_outbox_dead *dead = NULL;
	struct claimed *cl = NULL;
	int n, ndead = 0, nnet, i, k;

	while (d->left > 0 && !d->failed) {
		if (jobs_run_cancelled(d->c)) {
			d->stop = 1;
			return -1;
		}
		/* What is finished first: the claim sees its results and breakers. */
		flush(d);
		record_breakers(d);
		if (d->failed)
			return -1;
		if (jobs_outbox_claim(d->c->app, jobs_clock_now_ms(), d->lease_ms,
		    d->left < d->batch ? (int)d->left : d->batch, d->token, gate, d,
		    &rows, &n, &dead, &ndead, &err) < 0) {
			jobs_run_error(d->c, "%s", err.msg);
			d->failed = 1;
			return -1;
		}
		/* A message whose sender died on its last attempt: say so. */
		for (i = 0; i < ndead; i++) {
			d->dead++;
			if (d->dead <= DEAD_SHOWN)
				jobs_log(d->c, JOBS_WARN, "row %lld is dead: %s",
				    (long long)dead[i].id, dead[i].error);
		}
		free(dead);
		dead = NULL;
		settle_grants(d, rows, n);
		if (n == 0)
			return 0;
		d->left -= n;
		/* The network's rows first, in the claim's order: the sender's. */
		if ((cl = calloc(1, sizeof(*cl))) == NULL ||
		    (cl->items = calloc((size_t)n, sizeof(*cl->items))) == NULL ||
		    (sorted = calloc((size_t)n, sizeof(*sorted))) == NULL) {
			/* The rows stay leased and go back when the lease ends. */
			jobs_run_error(d->c, "out of memory");
			d->failed = 1;
			if (cl)
				free(cl->items);
			free(cl);
			jobs_outbox_free(rows, n);
			return -1;
		}
		for (nnet = 0, k = 0; k < 2; k++)
			for (i = 0; i < n; i++) {
				int spooled = strcmp(rows[i].channel, "file") == 0 ||
				    (strcmp(rows[i].channel, "email") == 0 &&
				    d->send.smtp_url == NULL);

				if (spooled == k)
					sorted[nnet++] = rows[i];
			}
		memcpy(rows, sorted, (size_t)n * sizeof(*rows));
		free(sorted);
		sorted = NULL;
		cl->rows = rows;
		cl->n = cl->open = n;
		if ((cl->next = d->claims) != NULL)
			cl->next->prev = cl;
		d->claims = cl;
		for (nnet = 0, i = 0; i < n; i++) {
			struct jobs_send_item *it = &cl->items[i];

			it->id = rows[i].id;
			it->channel = rows[i].channel;
			it->destination = rows[i].destination;
			it->subject = rows[i].subject;
			it->body = rows[i].body;
			it->headers = rows[i].headers;
			it->key = rows[i].key;
			it->created_at = rows[i].created_at;
			it->retry_after_s = -1;
			it->user = cl;
			if (strcmp(it->channel, "file") != 0 &&
			    (strcmp(it->channel, "email") != 0 || d->send.smtp_url != NULL))
				nnet++;
		}
		*items = cl->items;
		/* Booking may free cl: nothing of it is touched after this. */
		for (i = nnet; i < n; i++) {
			spool(d, &rows[i], &cl->items[i]);
			book(d, cl, i);
		}
		if (nnet > 0) {
			d->send.now_s = jobs_clock_now_ms() / 1000;
			return nnet;
		}
	}
	return d->failed ? -1 : 0;
}

/*
 * While the sender runs: book what is waiting once it has waited long
 * enough, and renew the leases every third of a lease, so rows that
 * outlast one (a slow host, a long queue) stay ours.
 */
static void
tick(void *arg)
{
	struct deliver *d = arg;
	struct jobs_err err = { 0, "" };
	int64_t now = jobs_clock_now_ms();

	/* The run's own timeout and stop signals end the sending too. */
	if (jobs_run_cancelled(d->c))
		d->stop = 1;
	if (d->npend > 0 && now - d->pend_ms >= ACK_MS)
		flush(d);
	if (now - d->renewed_ms < d->lease_ms / 3)
		return;
	if (jobs_outbox_renew(d->c->app, d->token, now, d->lease_ms, &err) < 0)
		jobs_log(d->c, JOBS_WARN, "unable to renew leases: %s", err.msg);
	d->renewed_ms = now;
}

static int
deliver(struct jobs_ctx *c, void *arg)
{
	struct deliver d;
	struct jobs_err err = { 0, "" };
	struct jobs_send_source src = { more, done, NULL, 0 };
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
		cJSON_AddNumberToObject(c->metrics, "due", (double)due);
		cJSON_AddBoolToObject(c->metrics, "dry_run", 1);
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
	d.left = c->opts->limit >= 0 ? c->opts->limit : INT64_MAX;
	d.send.tick = tick;
	d.send.tick_arg = &d;
	/*
	 * One stream for the run: the next claim is made while the last
	 * one's rows are still going out, and results are booked in small
	 * groups as they come, so a kill repeats at most the transfers in
	 * flight and one group.
	 */
	src.arg = &d;
	src.low = d.batch / 2 > 0 ? d.batch / 2 : 1;
	d.renewed_ms = jobs_clock_now_ms();
	d.stop = jobs_run_cancelled(c);
	if (jobs_send_stream(&d.send, &src, &d.stop, &err) < 0) {
		jobs_run_error(c, "%s", err.msg);
		rc = -1;
	}
	flush(&d);
	record_breakers(&d);
	if (d.failed)
		rc = -1;
	/* Only after a failed commit: those rows go back when their lease ends. */
	while ((cl = d.claims) != NULL) {
		d.claims = cl->next;
		jobs_outbox_free(cl->rows, cl->n);
		free(cl->items);
		free(cl);
	}
	c->items_ok = d.sent;
	c->items_failed = d.dead;
	c->items_skipped = d.retried;
	cJSON_AddNumberToObject(c->metrics, "sent", (double)d.sent);
	cJSON_AddNumberToObject(c->metrics, "spooled", (double)d.spooled);
	cJSON_AddNumberToObject(c->metrics, "retried", (double)d.retried);
	cJSON_AddNumberToObject(c->metrics, "dead", (double)d.dead);
	cJSON_AddNumberToObject(c->metrics, "lease_lost", (double)d.lost);
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
