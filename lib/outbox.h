/*
 * outbox.h - the transactional outbox in the application database
 * (DESIGN §7): enqueue with an idempotency key, claim due rows with a
 * lease (the attempt counted at claim time), acknowledge only while the
 * lease is ours, retry with backoff or give up (`dead`).  Every write is a
 * short BEGIN IMMEDIATE transaction; nothing is held across sending.
 */
#ifndef JOBS_OUTBOX_H
#define JOBS_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct jobs_db;
struct jobs_err;

#define JOBS_OUTBOX_BODY_MAX	(256 * 1024)	/* bytes, checked at enqueue */
#define JOBS_OUTBOX_KEY_MAX	200

/* What an enqueue says; NULL fields take their defaults. */
struct jobs_outbox_msg {
	const char *channel;		/* NULL: from the destination's scheme */
	const char *destination;
	const char *subject;
	const char *body;
	const char *headers;		/* JSON object, NULL: {} */
	const char *key;		/* NULL: a random one */
	const char *source;		/* NULL: "" */
	const char *ordering_key;
	int64_t not_before;		/* epoch s; 0: now */
	int priority;
	int max_attempts;		/* 0: the default (8) */
};

/*
 * The channel a destination belongs to: "webhook" (http://, https://),
 * "email" (mailto:) or "file" (file:///dir), or NULL.
 */
const char *jobs_outbox_channel(const char *destination);

/*
 * The host a destination talks to (webhook URL host; for mail the SMTP
 * server is the host, so "" here), for breakers and rate limits.
 */
void jobs_outbox_host(const char *destination, char *host, size_t size);

/*
 * Check a message before it is queued: channel and destination agree, a
 * file:// directory lies under spool_root, mailto: passes
 * jobs_mail_check_address() (the sender's rule), headers are a JSON object
 * of single-line strings none of which jobs_outbox_reserved_header()
 * names, the body fits.  0 or -1 with err (JOBS_EUSAGE).
 */
int jobs_outbox_check(const struct jobs_outbox_msg *m, const char *spool_root,
    struct jobs_err *err);

/*
 * Whether a row's header field name (any case) is one the sender sets
 * itself (Host, Content-Length, Idempotency-Key, the webhook-* signature
 * fields...) or HTTP framing (Connection, Transfer-Encoding, Expect, TE,
 * Upgrade...): 1, refused at enqueue and by the sender; else 0.  The one
 * list, for jobs_outbox_check() and lib/send.c.
 */
int jobs_outbox_reserved_header(const char *name);

/*
 * Queue m (checked first) at now_s.  *id is the row; *existing is set when
 * the same key from the same source was queued before with the same
 * payload (a no-op).  The same key with another payload is a conflict:
 * -1 with err->code JOBS_EFAIL.  0 or -1 with err.
 */
int jobs_outbox_enqueue(struct jobs_db *app, const struct jobs_outbox_msg *m,
    const char *spool_root, int64_t now_s, int64_t *id, int *existing,
    struct jobs_err *err);

/*
 * The same inside the caller's transaction (jobs_db_tx()), so that a job
 * queues its messages in the transaction that records why: they commit,
 * or roll back, together.
 */
int jobs_outbox_enqueue_in(struct jobs_db *app, const struct jobs_outbox_msg *m,
    const char *spool_root, int64_t now_s, int64_t *id, int *existing,
    struct jobs_err *err);

/* A claimed row: owned strings, freed by jobs_outbox_free(). */
struct jobs_outbox_row {
	int64_t id;
	char *channel, *destination, *subject, *body, *headers, *key;
	int attempts, max_attempts;
	int64_t created_at, priority;
	char host[256];
};

/*
 * Whether a host may be sent to now, and how many of its rows: the
 * caller's breakers and rate limits.  Returns how many rows of host this
 * claim may take (0: none), or -1 for no limit.
 */
typedef int (*jobs_outbox_gate)(void *arg, const char *host);

/* A row the claim found dead: its lease ran out on its last attempt. */
struct jobs_outbox_dead {
	int64_t id;
	char error[256];
};

/*
 * Lease up to limit due rows (pending, not_before <= now, earlier rows of
 * the same ordering key done) in priority order for lease_ms under token,
 * counting the attempt now.  Expired leases go back to pending first (or
 * dead once their attempts are spent: those are *dead, *ndead, which the
 * caller frees and reports).  gate limits rows per host; rows of refused
 * hosts never hide others'.  Without a gate (NULL: no host is limited)
 * the rows are leased by one statement, the quickest way.  *rows holds *n rows; free
 * with jobs_outbox_free().  0 or -1.
 */
int jobs_outbox_claim(struct jobs_db *app, int64_t now_ms, int64_t lease_ms,
    int limit, const char *token, jobs_outbox_gate gate, void *gate_arg,
    struct jobs_outbox_row **rows, int *n, struct jobs_outbox_dead **dead,
    int *ndead, struct jobs_err *err);

enum jobs_outbox_outcome {
	JOBS_OUTBOX_SENT,
	JOBS_OUTBOX_RETRY,	/* try again later, unless attempts are spent */
	JOBS_OUTBOX_DEAD,	/* a permanent failure */
};

/* The result of one claimed row, for jobs_outbox_ack(). */
struct jobs_outbox_ack {
	int64_t id;
	enum jobs_outbox_outcome outcome;
	int attempts, max_attempts;
	int64_t retry_after_s;		/* -1: backoff decides */
	const char *error;		/* NULL when sent */
	/* out: what happened to the row */
	int went_dead;
	int lease_lost;			/* the lease was no longer ours: nothing written */
};

/*
 * Record results while the lease is ours (checked with the token): sent;
 * back to pending with not_before = now + backoff (exponential with
 * jitter, or Retry-After clamped to 1 s .. 6 h); dead when permanent or
 * when the attempts are spent.  The commit does not wait for the disk
 * (jobs_db_tx_lazy()): a power loss may undo it, which only sends those
 * messages again.  0 or -1 with err.
 */
int jobs_outbox_ack(struct jobs_db *app, struct jobs_outbox_ack *acks, int n,
    const char *token, int64_t now_ms, struct jobs_err *err);

/* The delay before retry number attempts (1-based), with jitter. */
int64_t jobs_outbox_backoff_s(int attempts, unsigned *seed);

/*
 * Extend every lease held by token to now + lease_ms: a batch that takes
 * longer than a lease (a slow host, many rows) keeps what it is sending.
 * Returns the rows renewed, -1 with err.
 */
int jobs_outbox_renew(struct jobs_db *app, const char *token, int64_t now_ms,
    int64_t lease_ms, struct jobs_err *err);

/* Free rows[0..n) and the array. */
void jobs_outbox_free(struct jobs_outbox_row *rows, int n);

/*
 * Give back rows claimed with token that were never tried (the run
 * stopped first): pending again, the claim's attempt uncounted.  0 or -1
 * with err; rows no longer ours are left alone.
 */
int jobs_outbox_release(struct jobs_db *app, const struct jobs_outbox_row *rows,
    int n, const char *token, struct jobs_err *err);

/*
 * Requeue dead rows: the one with key (any source) or, with key NULL, all.
 * Attempts start over.  Returns rows changed, -1 with err.
 */
int jobs_outbox_retry_dead(struct jobs_db *app, const char *key, int64_t now_s,
    struct jobs_err *err);

/*
 * Whether a claim at now_ms would find work: a due row, or a lease that
 * ran out (its sender died).  1 or 0; -1 with err.  Cheap: a run that
 * finds nothing to do can stop before it sets up any sending.
 */
int jobs_outbox_pending_work(struct jobs_db *app, int64_t now_ms,
    struct jobs_err *err);

/* Due rows now (pending, not_before <= now_s); -1 with err. */
int64_t jobs_outbox_due(struct jobs_db *app, int64_t now_s, struct jobs_err *err);

#endif
