#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breaker.h"
#include "db.h"
#include "err.h"

struct allow {
	const char *host;
	int64_t now_ms;
	const struct jobs_breaker_cfg *cfg;
	int result;
};

static int
allow_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct allow *a = arg;
	sqlite3_stmt *st = NULL;
	char state[16] = "closed";
	int64_t opened = 0;
	int rc;

	if (jobs_db_prepare(db, "SELECT state, opened_at FROM breakers WHERE"
	    " host = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, a->host, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jobs_db_column_copy(st, 0, state, sizeof(state));
		opened = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read", err);
	a->result = -1;
	if (strcmp(state, "closed") == 0)
		return 0;
	if (a->now_ms < opened + a->cfg->cooldown_ms) {
		a->result = 0;
		return 0;
	}
	/* Cool-down over: this caller probes; others wait for its result. */
	if (jobs_db_prepare(db, "UPDATE breakers SET state = 'half-open',"
	    " opened_at = ?2, updated_at = ?2 WHERE host = ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, a->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a->now_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to write", err);
	a->result = 1;
	return 0;
}

int
jobs_breaker_allow(struct jobs_db *ledger, const char *host, int64_t now_ms,
    const struct jobs_breaker_cfg *cfg, struct jobs_err *err)
{
	struct allow a = { host, now_ms, cfg, -1 };

	if (jobs_db_tx(ledger, allow_tx, &a, err) < 0)
		return -1;
	return a.result;
}

int
jobs_breaker_all_closed(struct jobs_db *ledger, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int step;

	if (jobs_db_cached(ledger, "SELECT 1 FROM breakers WHERE state != 'closed'"
	    " LIMIT 1", &st, err) < 0)
		return -1;
	step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return 0;
	if (step != SQLITE_DONE)
		return jobs_db_fail(ledger, "unable to read", err);
	return 1;
}

struct record {
	const char *host;
	int ok, failed;
	int64_t now_ms;
	const struct jobs_breaker_cfg *cfg;
};

static int
record_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct record *r = arg;
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, r->ok ?
	    "INSERT INTO breakers (host, state, failures, updated_at) VALUES"
	    " (?1, 'closed', 0, ?2) ON CONFLICT (host) DO UPDATE SET state ="
	    " 'closed', failures = 0, opened_at = NULL, updated_at = ?2" :
	    "INSERT INTO breakers (host, state, failures, opened_at, updated_at)"
	    " VALUES (?1, CASE WHEN ?3 >= ?4 THEN 'open' ELSE 'closed' END, ?3,"
	    " CASE WHEN ?3 >= ?4 THEN ?2 END, ?2) ON CONFLICT (host) DO UPDATE SET"
	    " failures = failures + ?3, state = CASE WHEN state = 'half-open' OR"
	    " failures + ?3 >= ?4 THEN 'open' ELSE 'closed' END, opened_at = CASE"
	    " WHEN state = 'half-open' OR failures + ?3 >= ?4 THEN ?2 ELSE NULL END,"
	    " updated_at = ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->now_ms);
	if (!r->ok) {
		sqlite3_bind_int(st, 3, r->failed);
		sqlite3_bind_int(st, 4, r->cfg->failures);
	}
	return jobs_db_done(db, st, err);
}

int
jobs_breaker_record(struct jobs_db *ledger, const char *host, int ok,
    int failed, int64_t now_ms, const struct jobs_breaker_cfg *cfg,
    struct jobs_err *err)
{
	struct record r = { host, ok, failed, now_ms, cfg };

	if (!ok && !failed)
		return 0;
	return jobs_db_tx(ledger, record_tx, &r, err);
}

struct bucket {
	const char *name;
	double rate, burst;
	int want, granted;
	int64_t now_ms;
};

static int
take_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct bucket *b = arg;
	sqlite3_stmt *st = NULL;
	double tokens = b->burst;
	int rc;

	if (jobs_db_prepare(db, "SELECT tokens, updated_at FROM rate_limits WHERE"
	    " name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t elapsed = b->now_ms - sqlite3_column_int64(st, 1);

		tokens = sqlite3_column_double(st, 0) +
		    (elapsed > 0 ? elapsed / 1000.0 * b->rate : 0);
		if (tokens > b->burst)
			tokens = b->burst;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read", err);
	b->granted = tokens >= b->want ? b->want : (int)tokens;
	if (jobs_db_prepare(db, "INSERT INTO rate_limits (name, tokens, updated_at)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET tokens ="
	    " excluded.tokens, updated_at = excluded.updated_at", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, tokens - b->granted);
	sqlite3_bind_int64(st, 3, b->now_ms);
	return jobs_db_done(db, st, err);
}

int
jobs_ratelimit_take(struct jobs_db *ledger, const char *name, double rate,
    double burst, int want, int64_t now_ms, struct jobs_err *err)
{
	struct bucket b = { name, rate, burst, want, 0, now_ms };

	if (jobs_db_tx(ledger, take_tx, &b, err) < 0)
		return -1;
	return b.granted;
}

static int
give_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct bucket *b = arg;
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, "UPDATE rate_limits SET tokens = min(tokens + ?2,"
	    " ?3) WHERE name = ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, b->want);
	sqlite3_bind_double(st, 3, b->burst);
	return jobs_db_done(db, st, err);
}

int
jobs_ratelimit_give(struct jobs_db *ledger, const char *name, int n,
    double burst, struct jobs_err *err)
{
	struct bucket b = { name, 0, burst, n, 0, 0 };

	if (n <= 0)
		return 0;
	return jobs_db_tx(ledger, give_tx, &b, err);
}

int
jobs_ratelimit_parse(const char *s, double *rate, double *burst,
    struct jobs_err *err)
{
	char *end;
	long n = strtol(s, &end, 10);
	double per;

	if (end == s || n < 1 || n > 1000000 || *end != '/' || end[2] != '\0')
		goto bad;
	per = end[1] == 's' ? 1 : end[1] == 'm' ? 60 : end[1] == 'h' ? 3600 : 0;
	if (per == 0)
		goto bad;
	*rate = n / per;
	*burst = (double)n;
	return 0;
bad:
	return jobs_err_set(err, JOBS_EUSAGE, "bad rate '%.40s': want N/s, N/m or"
	    " N/h", s);
}
