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

#define BATCH 500	/* rows a claim: fewer commits (FULL sync) and barriers */
#define DEAD_SHOWN 10

struct grant {
	char name[300];
	int granted, used;
	double burst;
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

/* A whole number in [min, max] at key, if present; else *out is kept. */
static int
within(const cJSON *s, const char *key, int64_t min, int64_t max, int *out,
    struct jobs_err *err)
{
	int64_t n;
	int rc = jobs_config_count(s, key, &n, err);

	if (rc < 0)
		return -1;
	if (rc == 1 && (n < min || n > max))
		return jobs_err_set(err, JOBS_EUSAGE, "config: delivery.%s: want %lld"
		    " to %lld", key, (long long)min, (long long)max);
	if (rc == 1)
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

/*
 * While a batch runs: renew its leases every third of a lease, so a batch
 * that outlasts one (a slow host, waves of transfers) keeps its rows.
 */
static void
tick(void *arg)
{
	struct deliver *d = arg;
	struct jobs_err err = { 0, "" };
	int64_t now = jobs_clock_now_ms();

	/* The run's own timeout and stop signals end a batch too. */
	if (jobs_run_cancelled(d->c))
		d->stop = 1;
	if (now - d->renewed_ms < d->lease_ms / 3)
		return;
	if (jobs_outbox_renew(d->c->app, d->token, now, d->lease_ms, &err) < 0)
		jobs_log(d->c, JOBS_WARN, "unable to renew leases: %s", err.msg);
	d->renewed_ms = now;
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

/* Send one claimed batch and acknowledge it; -1 when the ledger or app fails. */
static int
batch(struct deliver *d, struct jobs_outbox_row *rows, int n, const char *token)
{
	struct jobs_send_item *items = calloc((size_t)n, sizeof(*items));
	struct jobs_outbox_ack *acks = calloc((size_t)n, sizeof(*acks));
	struct jobs_send_item **net = calloc((size_t)n, sizeof(*net));
	struct jobs_send_item *sendv = NULL;
	struct jobs_err err = { 0, "" };
	int i, k, nnet = 0, rc = -1;

	if (items == NULL || acks == NULL || net == NULL) {
		jobs_run_error(d->c, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct jobs_send_item *it = &items[i];

		it->id = rows[i].id;
		it->channel = rows[i].channel;
		it->destination = rows[i].destination;
		it->subject = rows[i].subject;
		it->body = rows[i].body;
		it->headers = rows[i].headers;
		it->key = rows[i].key;
		it->created_at = rows[i].created_at;
		it->retry_after_s = -1;
		if (strcmp(it->channel, "file") == 0 ||
		    (strcmp(it->channel, "email") == 0 && d->send.smtp_url == NULL))
			spool(d, &rows[i], it);
		else
			net[nnet++] = it;
	}
	if (nnet > 0) {
		/* The sender wants a contiguous array: copy in, then back. */
		if ((sendv = calloc((size_t)nnet, sizeof(*sendv))) == NULL) {
			jobs_run_error(d->c, "out of memory");
			goto out;
		}
		for (k = 0; k < nnet; k++)
			sendv[k] = *net[k];
		d->send.now_s = jobs_clock_now_ms() / 1000;
		d->stop = jobs_run_cancelled(d->c);
		if (jobs_send_batch(&d->send, sendv, nnet, &d->stop, &err) < 0)
			for (k = 0; k < nnet; k++) {
				sendv[k].result = JOBS_SEND_RETRY;
				snprintf(sendv[k].error, sizeof(sendv[k].error), "%s", err.msg);
			}
		for (k = 0; k < nnet; k++)
			*net[k] = sendv[k];
	}
	for (i = 0; i < n; i++) {
		acks[i].id = rows[i].id;
		acks[i].attempts = rows[i].attempts;
		acks[i].max_attempts = rows[i].max_attempts;
		acks[i].retry_after_s = items[i].retry_after_s;
		acks[i].outcome = items[i].result == JOBS_SEND_OK ? JOBS_OUTBOX_SENT :
		    items[i].result == JOBS_SEND_RETRY ? JOBS_OUTBOX_RETRY :
		    JOBS_OUTBOX_DEAD;
		acks[i].error = items[i].result == JOBS_SEND_OK ? NULL : items[i].error;
	}
	if (jobs_outbox_ack(d->c->app, acks, n, token, jobs_clock_now_ms(), &err) < 0) {
		jobs_run_error(d->c, "%s", err.msg);
		goto out;
	}
	for (i = 0; i < n; i++) {
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
				    (long long)acks[i].id, rows[i].channel,
				    rows[i].host[0] ? " to " : "", rows[i].host,
				    acks[i].error ? acks[i].error : "failed");
		} else {
			d->retried++;
			jobs_log(d->c, JOBS_INFO, "row %lld: %s; retrying later",
			    (long long)acks[i].id, acks[i].error ? acks[i].error : "failed");
		}
	}
	/* The breakers learn from the hosts' answers (not from 4xx). */
	for (i = 0; i < n; i++) {
		int ok = 0, failed = 0, j;

		if (rows[i].host[0] == '\0')
			continue;
		for (j = 0; j < i && strcmp(rows[j].host, rows[i].host) != 0; j++)
			;
		if (j < i)
			continue;
		for (j = i; j < n; j++)
			if (strcmp(rows[j].host, rows[i].host) == 0) {
				ok += items[j].result == JOBS_SEND_OK;
				failed += items[j].result == JOBS_SEND_RETRY;
			}
		jobs_breaker_record(d->c->ledger, rows[i].host, ok, failed,
		    jobs_clock_now_ms(), &d->breaker, &err);
	}
	rc = 0;
out:
	free(items);
	free(acks);
	free(net);
	free(sendv);
	return rc;
}

static int
deliver(struct jobs_ctx *c, void *arg)
{
	struct deliver d;
	struct jobs_err err = { 0, "" };
	struct jobs_outbox_row *rows = NULL;
	struct jobs_outbox_dead *dead = NULL;
	int ndead = 0;
	unsigned char rnd[8];
	char token[128], host[64] = "";
	int64_t left = c->opts->limit >= 0 ? c->opts->limit : INT64_MAX, lease_ms;
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
	lease_ms = 2 * (d.send.timeout_ms + d.send.connect_timeout_ms) + 10000;
	gethostname(host, sizeof(host) - 1);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	n = snprintf(token, sizeof(token), "%s:%d:", host, (int)getpid());
	for (i = 0; i < 8 && n + 2 < (int)sizeof(token); i++, n += 2)
		snprintf(token + n, 3, "%02x", rnd[i]);
	d.token = token;
	d.lease_ms = lease_ms;
	d.send.tick = tick;
	d.send.tick_arg = &d;
	while (left > 0 && !jobs_run_cancelled(c)) {
		if (jobs_outbox_claim(c->app, jobs_clock_now_ms(), lease_ms,
		    left < d.batch ? (int)left : d.batch, token, gate, &d, &rows, &n,
		    &dead, &ndead, &err) < 0) {
			jobs_run_error(c, "%s", err.msg);
			rc = -1;
			break;
		}
		/* A message whose sender died on its last attempt: say so. */
		for (i = 0; i < ndead; i++) {
			d.dead++;
			if (d.dead <= DEAD_SHOWN)
				jobs_log(c, JOBS_WARN, "row %lld is dead: %s",
				    (long long)dead[i].id, dead[i].error);
		}
		free(dead);
		dead = NULL;
		settle_grants(&d, rows, n);
		if (n == 0)
			break;
		d.renewed_ms = jobs_clock_now_ms();
		left -= n;
		if (batch(&d, rows, n, token) < 0)
			rc = -1;
		jobs_outbox_free(rows, n);
		rows = NULL;
		if (rc < 0)
			break;
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
