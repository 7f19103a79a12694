/*
 * breaker.h - circuit breakers and token buckets per destination host,
 * kept in the ledger so they hold across runs and processes (DESIGN §7).
 */
#ifndef JOBS_BREAKER_H
#define JOBS_BREAKER_H

#include <stdint.h>

struct jobs_db;
struct jobs_err;

struct jobs_breaker_cfg {
	int failures;		/* consecutive failures that open it: 5 */
	int64_t cooldown_ms;	/* open this long, then one probe: 60 s */
};

/*
 * May host be sent to at now_ms?  -1: yes, no limit (closed); 1: one probe
 * (the cool-down passed: half-open, and the probe is claimed for this
 * caller); 0: no (open).  -1 with err is not possible: on a ledger error
 * the breaker is treated as closed (sending matters more than counting),
 * and err says why.
 */
int jobs_breaker_allow(struct jobs_db *ledger, const char *host, int64_t now_ms,
    const struct jobs_breaker_cfg *cfg, struct jobs_err *err);

/*
 * 1 when no breaker is open or half-open (every host may be sent to
 * without asking jobs_breaker_allow()), 0 when one is, -1 with err.
 */
int jobs_breaker_all_closed(struct jobs_db *ledger, struct jobs_err *err);

/*
 * Record a batch's results for host: any success closes the breaker;
 * otherwise `failed` retryable failures add up, and opening it at the
 * threshold.  Permanent errors (4xx) say nothing about the host's health
 * and are not counted.  0 or -1 with err.
 */
int jobs_breaker_record(struct jobs_db *ledger, const char *host, int ok,
    int failed, int64_t now_ms, const struct jobs_breaker_cfg *cfg,
    struct jobs_err *err);

/*
 * Take up to want tokens from bucket name (refilled at rate per second, at
 * most burst), returning how many were granted; 0 or more, -1 with err.
 */
int jobs_ratelimit_take(struct jobs_db *ledger, const char *name, double rate,
    double burst, int want, int64_t now_ms, struct jobs_err *err);

/* Give back n unused tokens; 0 or -1 with err. */
int jobs_ratelimit_give(struct jobs_db *ledger, const char *name, int n,
    double burst, struct jobs_err *err);

/* Parse "10/s", "600/m", "1000/h" into a rate per second; 0 or -1 with err. */
int jobs_ratelimit_parse(const char *s, double *rate, double *burst,
    struct jobs_err *err);

#endif
