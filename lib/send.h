/*
 * send.h - the sending half of delivery (DESIGN §7): a batch of messages
 * already claimed from the outbox goes out in parallel over libcurl multi
 * (webhooks over HTTP(S), mail over SMTP), and each one's result comes back
 * for the caller to book.  No queue logic here: the caller (jobs-deliver)
 * claims, retries, backs off and marks rows.
 *
 * Programs that call anything here link libcurl (7.85 or later, for
 * CURLOPT_PROTOCOLS_STR) and libcrypto (OpenSSL 3, for EVP_MAC).  The
 * message a mail item becomes, and the rule for its address, are in
 * lib/mail.h, which needs neither.
 */
#ifndef JOBS_SEND_H
#define JOBS_SEND_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

struct jobs_err;

enum jobs_send_result {
	JOBS_SEND_OK = 0,	/* delivered: 2xx, or the SMTP server took it */
	JOBS_SEND_RETRY = 1,	/* try again later (honour retry_after_s) */
	JOBS_SEND_PERMANENT = 2,	/* will never work: the row goes dead */
	JOBS_SEND_UNSENT = 3	/* never started (the stream stopped first):
				   nothing reached the destination */
};

struct jobs_send_item {
	/* in: borrowed, must outlive the call */
	int64_t id;
	const char *channel;	/* "webhook" or "email" */
	const char *destination;	/* http(s)://... or mailto:addr */
	const char *subject;	/* may be NULL */
	const char *body;	/* UTF-8; NULL is empty */
	const char *headers;	/* JSON object of extra header fields, may be NULL */
	const char *key;	/* idempotency key */
	int64_t created_at;	/* epoch s, for Date */
	void *user;		/* the caller's, never touched here */
	/* out */
	enum jobs_send_result result;
	long status;		/* HTTP status or SMTP reply code, 0 if none */
	int64_t retry_after_s;	/* seconds to wait from Retry-After (seconds or
				   HTTP-date) on a retryable answer, -1 if
				   none */
	char error[256];	/* one line, no secrets, no control characters;
				   "" when OK */
};

/* Zero or NULL fields take the default given. */
struct jobs_send_config {
	struct jobs_net_allow allow;	/* extra allowed networks for row
					   destinations (JOBS_ALLOW_NETWORKS) */
	const char *webhook_secret;	/* Standard Webhooks signing secret,
					   "whsec_<base64>" or raw bytes;
					   NULL: unsigned */
	const char *smtp_url;	/* smtp://host:port or smtps://...; NULL: no SMTP
				   (email items then come back RETRY) */
	const char *smtp_user, *smtp_password;	/* when set, TLS is required
						   (STARTTLS or smtps) */
	const char *mail_from;	/* "addr" or "Name <addr>"; jobs@<hostname> */
	long connect_timeout_ms, timeout_ms;	/* 5000 / 30000 */
	long max_response_bytes;	/* 64 KiB, then the transfer is cut */
	int max_parallel, max_per_host;	/* 64 / 8 */
	const char *user_agent;	/* "jobs/VERSION" */
	int64_t now_s;		/* the run's logical clock, for
				   webhook-timestamp; 0: time(NULL) */
	void (*tick)(void *arg);	/* called at least once a second while a
					   batch runs (leases), or NULL */
	void *tick_arg;
};

/*
 * Check cfg before claiming anything: the signing secret decodes, the SMTP
 * URL is smtp:// or smtps://, mail_from is an address, the numbers are not
 * negative.  0, or -1 with err (JOBS_EUSAGE); errors never show a secret.
 */
int jobs_send_check_config(const struct jobs_send_config *cfg,
    struct jobs_err *err);

/*
 * How items are sent (jobs_send_stream() below): in parallel, each item's
 * out fields filled, at most max_parallel transfers at once and
 * max_per_host to one host (the others wait here, not in libcurl, so
 * waiting eats no timeout and a slow host does not hold up the rest),
 * connections kept alive for the whole stream.
 * Webhooks POST the body with Content-Type application/json unless the
 * row's headers name another, Idempotency-Key always, and the Standard
 * Webhooks headers when a secret is set (a row's field that
 * jobs_outbox_reserved_header() names makes it PERMANENT); row destinations are
 * checked against the request forgery guard (lib/net.h) on every connection,
 * redirects included.  Email items go to cfg->smtp_url (trusted, unchecked).
 */

/* Where jobs_send_stream() gets its items and gives them back. */
struct jobs_send_source {
	/*
	 * More items: point *items at an array of them and return how many,
	 * 0 when there are none now, -1 to end the stream (nothing is asked
	 * after that).  Called when fewer than low items wait to start;
	 * after a 0, again only once every transfer has finished, and a
	 * second 0 then ends the stream.  The items are the caller's and
	 * must outlive their done() call; their out fields are reset here.
	 */
	int (*more)(void *arg, struct jobs_send_item **items);
	/*
	 * One item is finished, its out fields filled: called exactly once
	 * for every item more() gave, sent or not (stopped ones in flight
	 * are RETRY "stopped", those never started UNSENT), before
	 * jobs_send_stream() returns.  The sender never touches it again;
	 * the caller may free it.
	 */
	void (*done)(void *arg, struct jobs_send_item *it);
	void *arg;
	int low;	/* ask for more below this many waiting; 0: max_parallel */
};

/*
 * Send items as they come: one libcurl multi handle, its
 * connections and its per-host queues for the whole stream, items taken
 * from src->more() while others are in flight, each handed back through
 * src->done() as soon as it finishes, so the caller can book results
 * while the sender keeps sending.  Ends when more() has no more and all
 * is done, or when *stop becomes non-zero (the rest then come back:
 * RETRY "stopped" if in flight, UNSENT if never started).  cfg->tick
 * runs at least once a second throughout.
 *
 * Returns 0, or -1 with err when the stream could not start (a bad cfg:
 * JOBS_EUSAGE; libcurl: JOBS_ETEMP); more() is then never called.
 */
int jobs_send_stream(const struct jobs_send_config *cfg,
    const struct jobs_send_source *src, volatile sig_atomic_t *stop,
    struct jobs_err *err);

#endif
