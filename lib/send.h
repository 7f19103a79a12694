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
	JOBS_SEND_PERMANENT = 2	/* will never work: the row goes dead */
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
	/* out */
	enum jobs_send_result result;
	long status;		/* HTTP status or SMTP reply code, 0 if none */
	int64_t retry_after_s;	/* seconds to wait from Retry-After (seconds or
				   HTTP-date) on 429/503, -1 if none */
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
 * Send the n items in parallel and fill each item's out fields: at most
 * max_parallel transfers at once and max_per_host to one host (the others
 * wait here, not in libcurl, so waiting eats no timeout and a slow host
 * does not hold up the rest), connections kept alive within the batch.
 * Webhooks POST the body with Content-Type application/json unless the
 * row's headers name another, Idempotency-Key always, and the Standard
 * Webhooks headers when a secret is set (a row's field that
 * jobs_outbox_reserved_header() names makes it PERMANENT); row destinations are
 * checked against the request forgery guard (lib/net.h) on every connection,
 * redirects included.  Email items go to cfg->smtp_url (trusted, unchecked).
 *
 * When *stop becomes non-zero (a signal; stop may be NULL) the batch ends
 * early: items not finished get RETRY with error "stopped".
 *
 * Returns 0 (each item says how it went), or -1 with err when nothing could
 * be attempted (a bad cfg: JOBS_EUSAGE; libcurl failed to start: JOBS_ETEMP);
 * every item is then RETRY with the reason.
 */
int jobs_send_batch(const struct jobs_send_config *cfg,
    struct jobs_send_item *items, int n, volatile sig_atomic_t *stop,
    struct jobs_err *err);

#endif
