#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"
#include "mail.h"
#include "json.h"
#include "outbox.h"

#define DEFAULT_ATTEMPTS 8
#define BACKOFF_BASE_S 30
#define BACKOFF_MAX_S (6 * 3600)

const char *
jobs_outbox_channel(const char *d)
{
	if (strncmp(d, "https://", 8) == 0 || strncmp(d, "http://", 7) == 0)
		return "webhook";
	if (strncmp(d, "mailto:", 7) == 0)
		return "email";
	if (strncmp(d, "file:///", 8) == 0)
		return "file";
	return NULL;
}

void
jobs_outbox_host(const char *d, char *host, size_t size)
{
	const char *p = strstr(d, "://"), *end, *at;
	size_t n;

	host[0] = '\0';
	if (p == NULL || strncmp(d, "http", 4) != 0)
		return;
	p += 3;
	end = p + strcspn(p, "/?#");
	/* user:password@ is not part of the host */
	if ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
		p = at + 1;
	n = (size_t)(end - p);
	if (n >= size)
		n = size - 1;
	memcpy(host, p, n);
	host[n] = '\0';
	for (n = 0; host[n]; n++)
		host[n] = (char)tolower((unsigned char)host[n]);
}

/* file:///DIR: an absolute directory under the spool root, no "..". */
static int
check_file(const char *d, const char *root, struct jobs_err *err)
{
	const char *path = d + 7, *p;
	size_t rn;

	for (p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return jobs_err_set(err, JOBS_EUSAGE, "bad file destination:"
			    " control characters");
	if (strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//") ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		return jobs_err_set(err, JOBS_EUSAGE, "bad file destination %.80s:"
		    " want a plain absolute directory", path);
	if (root == NULL || root[0] != '/')
		return jobs_err_set(err, JOBS_EUSAGE, "no spool root for file"
		    " destinations");
	rn = strlen(root);
	while (rn > 1 && root[rn - 1] == '/')
		rn--;
	if (strncmp(path, root, rn) != 0 || (path[rn] != '\0' && path[rn] != '/'))
		return jobs_err_set(err, JOBS_EUSAGE, "file destination %.80s is not"
		    " under the spool root %.80s", path, root);
	return 0;
}

/* A header field name: RFC 7230 token characters. */
static int
token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

int
jobs_outbox_reserved_header(const char *name)
{
	/* The sender's own fields, and HTTP framing a row must not touch. */
	static const char *const names[] = { "host", "content-length",
	    "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
	    "trailer", "expect", "proxy-authorization", "proxy-connection",
	    "idempotency-key", "webhook-id", "webhook-timestamp",
	    "webhook-signature" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return 0;
}

static int
check_headers(const char *json, struct jobs_err *err)
{
	cJSON *h, *it;
	int rc = 0, oom;

	if (json == NULL)
		return 0;
	if ((h = jobs_json_parse(json, &oom)) == NULL && oom)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	if (h == NULL || !cJSON_IsObject(h)) {
		cJSON_Delete(h);
		return jobs_err_set(err, JOBS_EUSAGE, "headers: want a JSON object");
	}
	cJSON_ArrayForEach(it, h) {
		if (!token(it->string)) {
			rc = jobs_err_set(err, JOBS_EUSAGE, "headers: bad field name");
			break;
		}
		if (jobs_outbox_reserved_header(it->string)) {
			rc = jobs_err_set(err, JOBS_EUSAGE, "headers: %.60s is set by"
			    " the sender", it->string);
			break;
		}
		if (!cJSON_IsString(it) || strpbrk(it->valuestring, "\r\n") != NULL) {
			rc = jobs_err_set(err, JOBS_EUSAGE, "headers: %.60s: want one line"
			    " of text", it->string);
			break;
		}
	}
	cJSON_Delete(h);
	return rc;
}

int
jobs_outbox_check(const struct jobs_outbox_msg *m, const char *spool_root,
    struct jobs_err *err)
{
	char addr[JOBS_MAIL_ADDR_MAX];
	const char *ch;

	if (m->destination == NULL || (ch = jobs_outbox_channel(m->destination)) == NULL)
		return jobs_err_set(err, JOBS_EUSAGE, "unsupported destination"
		    " '%.80s': want https://, http://, mailto: or file:///",
		    m->destination ? m->destination : "");
	if (m->channel && strcmp(m->channel, ch) != 0)
		return jobs_err_set(err, JOBS_EUSAGE, "channel %.20s does not fit"
		    " destination %.80s", m->channel, m->destination);
	if (strpbrk(m->destination, "\r\n") != NULL || strlen(m->destination) > 2048)
		return jobs_err_set(err, JOBS_EUSAGE, "bad destination");
	/* The sender's rule: what it would refuse never gets queued. */
	if (strcmp(ch, "email") == 0 &&
	    jobs_mail_check_address(m->destination, addr, sizeof(addr), err) < 0)
		return -1;
	if (strcmp(ch, "file") == 0 && check_file(m->destination, spool_root, err) < 0)
		return -1;
	if (m->body == NULL || strlen(m->body) > JOBS_OUTBOX_BODY_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "body larger than %d bytes",
		    JOBS_OUTBOX_BODY_MAX);
	if (m->subject && (strpbrk(m->subject, "\r\n") || strlen(m->subject) > 998))
		return jobs_err_set(err, JOBS_EUSAGE, "subject: want one line");
	if (m->key && (m->key[0] == '\0' || strlen(m->key) > JOBS_OUTBOX_KEY_MAX ||
	    strpbrk(m->key, "\r\n") != NULL))
		return jobs_err_set(err, JOBS_EUSAGE, "bad idempotency key: want 1 to"
		    " %d characters on one line", JOBS_OUTBOX_KEY_MAX);
	if (m->max_attempts < 0 || m->max_attempts > 1000)
		return jobs_err_set(err, JOBS_EUSAGE, "max attempts: want 1 to 1000");
	return check_headers(m->headers, err);
}

static void
fnv(uint64_t *h, const char *s)
{
	for (s = s ? s : ""; ; s++) {
		*h ^= (unsigned char)*s;
		*h *= 0x100000001b3ULL;
		if (*s == '\0')
			break;
	}
}

static void
payload_hash(const char *channel, const char *dest, const char *subject,
    const char *body, const char *headers, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	fnv(&h, channel);
	fnv(&h, dest);
	fnv(&h, subject);
	fnv(&h, body);
	fnv(&h, headers);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

struct enqueue {
	const struct jobs_outbox_msg *m;
	const char *channel, *key;
	char hash[17];
	int64_t now_s, id;
	int existing;
};

/*
 * A job queues thousands of messages a run (jobs-alerts): the two
 * statements are prepared once for the handle, and reset after each use.
 */
static const char find_sql[] = "SELECT id, channel, destination, subject,"
    " body, headers FROM outbox WHERE source = ? AND idempotency_key = ?";
static const char insert_sql[] = "INSERT INTO outbox (channel, destination,"
    " subject, body, headers, idempotency_key, source, max_attempts,"
    " not_before, priority, ordering_key, created_at, payload_hash) VALUES"
    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static int
enqueue_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct enqueue *e = arg;
	const struct jobs_outbox_msg *m = e->m;
	sqlite3_stmt *st = NULL;
	char hash[17] = "";
	int rc;

	/* The same key from the same source: a no-op, or a conflict. */
	if (jobs_db_cached(db, find_sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, m->source ? m->source : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* From the row itself: rows inserted with SQL have no hash. */
		e->id = sqlite3_column_int64(st, 0);
		payload_hash((const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3),
		    (const char *)sqlite3_column_text(st, 4),
		    (const char *)sqlite3_column_text(st, 5), hash);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		e->existing = 1;
		if (strcmp(hash, e->hash) != 0)
			return jobs_err_set(err, JOBS_EFAIL, "key '%.80s' was enqueued"
			    " before (row %lld) with a different payload", e->key,
			    (long long)e->id);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read", err);
	if (jobs_db_cached(db, insert_sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, e->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->destination, -1, SQLITE_STATIC);
	jobs_db_bind_text(st, 3, m->subject);
	sqlite3_bind_text(st, 4, m->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->headers ? m->headers : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->source ? m->source : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, m->max_attempts > 0 ? m->max_attempts : DEFAULT_ATTEMPTS);
	sqlite3_bind_int64(st, 9, m->not_before > 0 ? m->not_before : e->now_s);
	sqlite3_bind_int(st, 10, m->priority);
	jobs_db_bind_text(st, 11, m->ordering_key);
	sqlite3_bind_int64(st, 12, e->now_s);
	sqlite3_bind_text(st, 13, e->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to enqueue in", err);
	e->id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

/* Check m and fill e for enqueue_tx(); key is room for a random key. */
static int
enqueue_setup(struct enqueue *e, const struct jobs_outbox_msg *m,
    const char *spool_root, int64_t now_s, char key[40], struct jobs_err *err)
{
	unsigned char rnd[16];
	int i;

	if (jobs_outbox_check(m, spool_root, err) < 0)
		return -1;
	memset(e, 0, sizeof(*e));
	e->m = m;
	e->now_s = now_s;
	e->channel = jobs_outbox_channel(m->destination);
	e->key = m->key;
	if (e->key == NULL) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return jobs_err_set(err, JOBS_ETEMP, "no randomness for a key");
		for (i = 0; i < 16; i++)
			snprintf(key + 2 * i, 3, "%02x", rnd[i]);
		e->key = key;
	}
	payload_hash(e->channel, m->destination, m->subject, m->body,
	    m->headers ? m->headers : "{}", e->hash);
	return 0;
}

int
jobs_outbox_enqueue(struct jobs_db *app, const struct jobs_outbox_msg *m,
    const char *spool_root, int64_t now_s, int64_t *id, int *existing,
    struct jobs_err *err)
{
	struct enqueue e;
	char key[40];

	if (enqueue_setup(&e, m, spool_root, now_s, key, err) < 0 ||
	    jobs_db_tx(app, enqueue_tx, &e, err) < 0)
		return -1;
	*id = e.id;
	*existing = e.existing;
	return 0;
}

int
jobs_outbox_enqueue_in(struct jobs_db *app, const struct jobs_outbox_msg *m,
    const char *spool_root, int64_t now_s, int64_t *id, int *existing,
    struct jobs_err *err)
{
	struct enqueue e;
	char key[40];

	if (enqueue_setup(&e, m, spool_root, now_s, key, err) < 0 ||
	    enqueue_tx(app, &e, err) < 0)
		return -1;
	*id = e.id;
	*existing = e.existing;
	return 0;
}

void
jobs_outbox_free(struct jobs_outbox_row *rows, int n)
{
	int i;

	for (i = 0; rows && i < n; i++) {
		free(rows[i].channel);
		free(rows[i].destination);
		free(rows[i].subject);
		free(rows[i].body);
		free(rows[i].headers);
		free(rows[i].key);
	}
	free(rows);
}

static char *
dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? strdup((const char *)s) : NULL;
}

struct claim {
	int64_t now_ms, lease_ms;
	int limit;
	const char *token;
	jobs_outbox_gate gate;
	void *gate_arg;
	struct jobs_outbox_row *rows;
	int n;
	struct jobs_outbox_dead *dead;
	int ndead;
};

/* Per-host allowances handed out during one claim. */
struct allowance {
	char host[256];
	int left;		/* -1: no limit */
};

/* Best first: the claim's order, whatever order a statement returned. */
static int
by_priority(const void *a, const void *b)
{
	const struct jobs_outbox_row *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Fill r from a claiming statement's row (columns as claim_sql's). */
static int
claimed_row(sqlite3_stmt *st, struct jobs_outbox_row *r, struct jobs_err *err)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->channel = dup_col(st, 1);
	r->destination = dup_col(st, 2);
	r->subject = dup_col(st, 3);
	r->body = dup_col(st, 4);
	r->headers = dup_col(st, 5);
	r->key = dup_col(st, 6);
	r->attempts = sqlite3_column_int(st, 7);
	r->max_attempts = sqlite3_column_int(st, 8);
	r->created_at = sqlite3_column_int64(st, 9);
	r->priority = sqlite3_column_int64(st, 10);
	if (r->channel == NULL || r->destination == NULL || r->body == NULL ||
	    r->key == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	return 0;
}

/* What a claimed row's columns are, in the two ways of claiming. */
#define CLAIM_RETURNING " RETURNING id, channel, destination, subject, body," \
	" headers, idempotency_key, attempts, max_attempts, created_at, priority"
/* A row waits for earlier rows of its ordering key. */
#define CLAIM_ORDERED " (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM" \
	" outbox AS e WHERE e.ordering_key = o.ordering_key AND e.id < o.id AND" \
	" e.status IN ('pending', 'leased')))"

/* No host is limited: the best due rows, leased by one statement. */
static int
claim_all(struct jobs_db *db, struct claim *c, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int step, cap = 0;

	if (jobs_db_cached(db, "UPDATE outbox SET status = 'leased', lease_token ="
	    " ?2, lease_until = ?3, attempts = attempts + 1 WHERE id IN (SELECT id"
	    " FROM outbox AS o INDEXED BY outbox_claim WHERE status = 'pending' AND"
	    " +not_before <= ?1 AND" CLAIM_ORDERED " ORDER BY priority DESC, id"
	    " LIMIT ?4)" CLAIM_RETURNING, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, c->now_ms / 1000);
	sqlite3_bind_text(st, 2, c->token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->now_ms + c->lease_ms);
	sqlite3_bind_int(st, 4, c->limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct jobs_outbox_row *r;

		if (c->n == cap) {
			r = realloc(c->rows, (size_t)(cap = cap ? 2 * cap : 64) *
			    sizeof(*r));
			if (r == NULL) {
				sqlite3_reset(st);
				return jobs_err_set(err, JOBS_ETEMP, "out of memory");
			}
			c->rows = r;
		}
		r = &c->rows[c->n++];
		if (claimed_row(st, r, err) < 0) {
			sqlite3_reset(st);
			return -1;
		}
		jobs_outbox_host(r->destination, r->host, sizeof(r->host));
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		return jobs_db_fail(db, "unable to claim in", err);
	if (c->n > 1)
		qsort(c->rows, (size_t)c->n, sizeof(*c->rows), by_priority);
	return 0;
}

static int
claim_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct claim *c = arg;
	sqlite3_stmt *sel = NULL, *upd = NULL, *st = NULL;
	struct allowance *al = NULL;
	struct candidate { int64_t id, priority; char host[256]; } *cand = NULL;
	int nal = 0, ncand = 0, rc = -1, step, i, k, first = 1;
	int page = c->limit + 16, capcand = 0, caprows = 0;
	int64_t last_p = 0, last_id = 0;

	jobs_outbox_free(c->rows, c->n);	/* a retried transaction starts over */
	c->rows = NULL;
	c->n = 0;
	free(c->dead);
	c->dead = NULL;
	c->ndead = 0;
	/* Expired leases whose attempts are spent: the sender died on them. */
	if (jobs_db_prepare(db, "UPDATE outbox SET status = 'dead', last_error ="
	    " 'the sender stopped before recording attempt ' || attempts || ' of '"
	    " || max_attempts, lease_token = NULL, lease_until = NULL WHERE status ="
	    " 'leased' AND lease_until < ? AND attempts >= max_attempts"
	    " RETURNING id, last_error", &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, c->now_ms);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct jobs_outbox_dead *more = realloc(c->dead, (size_t)(c->ndead + 1) *
		    sizeof(*more));

		if (more == NULL) {
			sqlite3_finalize(st);
			jobs_err_set(err, JOBS_ETEMP, "out of memory");
			goto out;
		}
		c->dead = more;
		c->dead[c->ndead].id = sqlite3_column_int64(st, 0);
		jobs_db_column_copy(st, 1, c->dead[c->ndead].error,
		    sizeof(c->dead[c->ndead].error));
		c->ndead++;
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE) {
		jobs_db_fail(db, "unable to write", err);
		goto out;
	}
	/* The others: the holder died or overran; back in line. */
	if (jobs_db_prepare(db, "UPDATE outbox SET status = 'pending', lease_token ="
	    " NULL, lease_until = NULL WHERE status = 'leased' AND lease_until < ?",
	    &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, c->now_ms);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_DONE) {
		jobs_db_fail(db, "unable to write", err);
		goto out;
	}
	if (c->gate == NULL) {
		rc = claim_all(db, c, err);
		goto out;
	}
	/*
	 * Due rows, best first, a page at a time (keyed on priority and id):
	 * rows of hosts the gate refuses are passed over, never allowed to
	 * hide the rows of other hosts behind them.  A row waits for earlier
	 * rows of its ordering key.
	 */
	if (jobs_db_prepare(db, "SELECT id, destination, priority FROM outbox AS o"
	    " INDEXED BY outbox_claim WHERE status = 'pending' AND +not_before <= ?1"
	    " AND (?3 OR priority < ?4 OR (priority = ?4 AND id > ?5)) AND"
	    CLAIM_ORDERED " ORDER BY priority DESC, id LIMIT ?2", &sel, err) < 0 ||
	    jobs_db_prepare(db, "UPDATE outbox SET status = 'leased', lease_token = ?2,"
	    " lease_until = ?3, attempts = attempts + 1 WHERE id = ?1 AND status ="
	    " 'pending'" CLAIM_RETURNING, &upd, err) < 0)
		goto out;
	while (c->n < c->limit) {
		sqlite3_reset(sel);
		sqlite3_bind_int64(sel, 1, c->now_ms / 1000);
		sqlite3_bind_int(sel, 2, page);
		sqlite3_bind_int(sel, 3, first);
		sqlite3_bind_int64(sel, 4, last_p);
		sqlite3_bind_int64(sel, 5, last_id);
		first = 0;
		ncand = 0;
		/* Read the page first: no update while this scan is open. */
		while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
			if (ncand == capcand) {
				struct candidate *more = realloc(cand, (size_t)(capcand =
				    capcand ? 2 * capcand : 64) * sizeof(*cand));

				if (more == NULL) {
					jobs_err_set(err, JOBS_ETEMP, "out of memory");
					goto out;
				}
				cand = more;
			}
			cand[ncand].id = sqlite3_column_int64(sel, 0);
			cand[ncand].priority = sqlite3_column_int64(sel, 2);
			jobs_outbox_host((const char *)sqlite3_column_text(sel, 1),
			    cand[ncand].host, sizeof(cand[ncand].host));
			ncand++;
		}
		if (step != SQLITE_DONE) {
			jobs_db_fail(db, "unable to read", err);
			goto out;
		}
		sqlite3_reset(sel);
		if (ncand == 0)
			break;
		last_p = cand[ncand - 1].priority;
		last_id = cand[ncand - 1].id;
		for (k = 0; k < ncand && c->n < c->limit; k++) {
			const char *host = cand[k].host;
			struct jobs_outbox_row *r;

			if (c->gate && host[0]) {
				for (i = 0; i < nal && strcmp(al[i].host, host) != 0; i++)
					;
				if (i == nal) {
					struct allowance *more = realloc(al, (size_t)(nal + 1) *
					    sizeof(*al));

					if (more == NULL) {
						jobs_err_set(err, JOBS_ETEMP, "out of memory");
						goto out;
					}
					al = more;
					snprintf(al[nal].host, sizeof(al[nal].host), "%s", host);
					al[nal++].left = c->gate(c->gate_arg, host);
				}
				if (al[i].left == 0)
					continue;
				if (al[i].left > 0)
					al[i].left--;
			}
			sqlite3_reset(upd);
			sqlite3_bind_int64(upd, 1, cand[k].id);
			sqlite3_bind_text(upd, 2, c->token, -1, SQLITE_STATIC);
			sqlite3_bind_int64(upd, 3, c->now_ms + c->lease_ms);
			if ((step = sqlite3_step(upd)) != SQLITE_ROW) {
				if (step == SQLITE_DONE)
					continue;
				jobs_db_fail(db, "unable to claim in", err);
				goto out;
			}
			if (c->n == caprows) {
				r = realloc(c->rows, (size_t)(caprows = caprows ?
				    2 * caprows : 64) * sizeof(*r));
				if (r == NULL) {
					jobs_err_set(err, JOBS_ETEMP, "out of memory");
					goto out;
				}
				c->rows = r;
			}
			r = &c->rows[c->n++];
			if (claimed_row(upd, r, err) < 0)
				goto out;
			snprintf(r->host, sizeof(r->host), "%s", host);
			/* Drain the RETURNING statement so the update completes. */
			while ((step = sqlite3_step(upd)) == SQLITE_ROW)
				;
		}
		if (ncand < page)
			break;
	}
	rc = 0;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	free(al);
	free(cand);
	return rc;
}

int
jobs_outbox_claim(struct jobs_db *app, int64_t now_ms, int64_t lease_ms,
    int limit, const char *token, jobs_outbox_gate gate, void *gate_arg,
    struct jobs_outbox_row **rows, int *n, struct jobs_outbox_dead **dead,
    int *ndead, struct jobs_err *err)
{
	struct claim c = { now_ms, lease_ms, limit, token, gate, gate_arg, NULL, 0,
	    NULL, 0 };

	*rows = NULL;
	*n = 0;
	*dead = NULL;
	*ndead = 0;
	if (jobs_db_tx(app, claim_tx, &c, err) < 0) {
		jobs_outbox_free(c.rows, c.n);
		free(c.dead);
		return -1;
	}
	*rows = c.rows;
	*n = c.n;
	*dead = c.dead;
	*ndead = c.ndead;
	return 0;
}

int64_t
jobs_outbox_backoff_s(int attempts, unsigned *seed)
{
	int64_t d = BACKOFF_BASE_S;
	int i;

	for (i = 1; i < attempts && d < BACKOFF_MAX_S; i++)
		d *= 2;
	if (d > BACKOFF_MAX_S)
		d = BACKOFF_MAX_S;
	/* Full jitter on the upper half: d/2 .. d, so retries spread out. */
	return d / 2 + (int64_t)(rand_r(seed) % (unsigned)(d / 2 + 1));
}

struct ack {
	struct jobs_outbox_ack *acks;
	int n;
	const char *token;
	int64_t now_ms;
	unsigned seed;
};

static int
ack_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct ack *a = arg;
	sqlite3_stmt *sent = NULL, *retry = NULL, *dead = NULL;
	int i;

	/* Cached: a run books its results in many small transactions. */
	if (jobs_db_cached(db, "UPDATE outbox SET status = 'sent', sent_at = ?3,"
	    " lease_token = NULL, lease_until = NULL, last_error = NULL WHERE"
	    " id = ?1 AND lease_token = ?2 AND status = 'leased'", &sent, err) < 0 ||
	    jobs_db_cached(db, "UPDATE outbox SET status = 'pending', not_before = ?3,"
	    " last_error = ?4, lease_token = NULL, lease_until = NULL WHERE id = ?1"
	    " AND lease_token = ?2 AND status = 'leased'", &retry, err) < 0 ||
	    jobs_db_cached(db, "UPDATE outbox SET status = 'dead', last_error = ?4,"
	    " lease_token = NULL, lease_until = NULL WHERE id = ?1 AND lease_token"
	    " = ?2 AND status = 'leased' AND ?3 = ?3", &dead, err) < 0)
		return -1;
	for (i = 0; i < a->n; i++) {
		struct jobs_outbox_ack *k = &a->acks[i];
		sqlite3_stmt *st;
		char why[512];
		int64_t delay;

		k->went_dead = 0;
		if (k->outcome == JOBS_OUTBOX_SENT) {
			st = sent;
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 3, a->now_ms / 1000);
		} else if (k->outcome == JOBS_OUTBOX_RETRY &&
		    k->attempts < k->max_attempts) {
			st = retry;
			sqlite3_reset(st);
			delay = k->retry_after_s >= 0 ? k->retry_after_s :
			    jobs_outbox_backoff_s(k->attempts, &a->seed);
			if (delay < 1)
				delay = 1;
			if (delay > BACKOFF_MAX_S)
				delay = BACKOFF_MAX_S;
			sqlite3_bind_int64(st, 3, a->now_ms / 1000 + delay);
			sqlite3_bind_text(st, 4, k->error ? k->error : "failed", -1,
			    SQLITE_STATIC);
		} else {
			st = dead;
			sqlite3_reset(st);
			if (k->outcome == JOBS_OUTBOX_RETRY)
				snprintf(why, sizeof(why), "%s (attempt %d of %d)",
				    k->error ? k->error : "failed", k->attempts,
				    k->max_attempts);
			else
				snprintf(why, sizeof(why), "%s", k->error ? k->error :
				    "failed");
			sqlite3_bind_int64(st, 3, 0);
			sqlite3_bind_text(st, 4, why, -1, SQLITE_TRANSIENT);
			k->went_dead = 1;
		}
		sqlite3_bind_int64(st, 1, k->id);
		sqlite3_bind_text(st, 2, a->token, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return jobs_db_fail(db, "unable to acknowledge in", err);
		/* Only while the lease is ours: else another sender has it now. */
		k->lease_lost = sqlite3_changes(db->h) == 0;
		if (k->lease_lost)
			k->went_dead = 0;
	}
	return 0;
}

int
jobs_outbox_ack(struct jobs_db *app, struct jobs_outbox_ack *acks, int n,
    const char *token, int64_t now_ms, struct jobs_err *err)
{
	struct ack a = { acks, n, token, now_ms, (unsigned)now_ms ^ (unsigned)n };

	if (n == 0)
		return 0;
	/*
	 * Lazy commits: a power loss that undoes an acknowledgement only
	 * sends that message again, and the next claim's commit (which
	 * waits for the disk) bounds how many.  A killed process loses none.
	 */
	return jobs_db_tx_lazy(app, ack_tx, &a, err);
}

struct release {
	const struct jobs_outbox_row *rows;
	int n;
	const char *token;
};

static int
release_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct release *r = arg;
	sqlite3_stmt *st = NULL;
	int i;

	if (jobs_db_prepare(db, "UPDATE outbox SET status = 'pending', attempts ="
	    " max(attempts - 1, 0), lease_token = NULL, lease_until = NULL WHERE"
	    " id = ?1 AND lease_token = ?2 AND status = 'leased'", &st, err) < 0)
		return -1;
	for (i = 0; i < r->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->rows[i].id);
		sqlite3_bind_text(st, 2, r->token, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return jobs_db_fail(db, "unable to release rows in", err);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

int
jobs_outbox_release(struct jobs_db *app, const struct jobs_outbox_row *rows,
    int n, const char *token, struct jobs_err *err)
{
	struct release r = { rows, n, token };

	if (n == 0)
		return 0;
	return jobs_db_tx(app, release_tx, &r, err);
}

struct requeue {
	const char *key;
	int64_t now_s;
	int changed;
};

static int
requeue_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct requeue *r = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	if (jobs_db_prepare(db, "UPDATE outbox SET status = 'pending', attempts = 0,"
	    " not_before = ?2, lease_token = NULL, lease_until = NULL WHERE"
	    " status = 'dead' AND (?1 IS NULL OR idempotency_key = ?1)", &st, err) < 0)
		return -1;
	jobs_db_bind_text(st, 1, r->key);
	sqlite3_bind_int64(st, 2, r->now_s);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to requeue in", err);
	r->changed = sqlite3_changes(db->h);
	return 0;
}

int
jobs_outbox_retry_dead(struct jobs_db *app, const char *key, int64_t now_s,
    struct jobs_err *err)
{
	struct requeue r = { key, now_s, 0 };

	if (jobs_db_tx(app, requeue_tx, &r, err) < 0)
		return -1;
	return r.changed;
}

int
jobs_outbox_pending_work(struct jobs_db *app, int64_t now_ms,
    struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, work = 0;

	if (jobs_db_prepare(app, "SELECT EXISTS (SELECT 1 FROM outbox INDEXED BY"
	    " outbox_claim WHERE status = 'pending' AND not_before <= ?1) OR EXISTS"
	    " (SELECT 1 FROM outbox INDEXED BY outbox_leased WHERE status ="
	    " 'leased' AND lease_until < ?2)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms / 1000);
	sqlite3_bind_int64(st, 2, now_ms);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		work = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return jobs_db_fail(app, "unable to read", err);
	return work;
}

int64_t
jobs_outbox_due(struct jobs_db *app, int64_t now_s, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int rc;

	if (jobs_db_prepare(app, "SELECT count(*) FROM outbox WHERE status ="
	    " 'pending' AND not_before <= ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now_s);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return jobs_db_fail(app, "unable to read", err);
	return n;
}

struct renew {
	const char *token;
	int64_t until;
	int changed;
};

static int
renew_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct renew *r = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	if (jobs_db_prepare(db, "UPDATE outbox SET lease_until = ?2 WHERE"
	    " lease_token = ?1 AND status = 'leased'", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, r->token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->until);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to renew leases in", err);
	r->changed = sqlite3_changes(db->h);
	return 0;
}

int
jobs_outbox_renew(struct jobs_db *app, const char *token, int64_t now_ms,
    int64_t lease_ms, struct jobs_err *err)
{
	struct renew r = { token, now_ms + lease_ms, 0 };

	if (jobs_db_tx(app, renew_tx, &r, err) < 0)
		return -1;
	return r.changed;
}
