#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "mail.h"
#include "net.h"
#include "outbox.h"
#include "send.h"
#include "text.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

#define HEADER_VALUE_MAX 8192
#define SECRET_MAX 1024

/* ---------------------------------------------------------------------
 * Configuration.
 */

/* The user:password in a URL, or NULL; *n its length. */
static const char *
url_userinfo(const char *url, size_t *n)
{
	const char *p = url != NULL ? strstr(url, "://") : NULL, *at;
	size_t auth;

	if (p == NULL)
		return NULL;
	p += 3;
	auth = strcspn(p, "/?#");
	if ((at = memchr(p, '@', auth)) == NULL)
		return NULL;
	/* The last '@' of the authority ends the userinfo. */
	while (memchr(at + 1, '@', auth - (size_t)(at + 1 - p)) != NULL)
		at = memchr(at + 1, '@', auth - (size_t)(at + 1 - p));
	*n = (size_t)(at - p);
	return p;
}

static int
decode_secret(const char *secret, unsigned char *key, size_t *keylen,
    struct jobs_err *err)
{
	size_t n = strlen(secret);

	if (strncmp(secret, "whsec_", 6) == 0) {
		if (jobs_mail_base64_decode(secret + 6, key, SECRET_MAX, keylen) == -1 ||
		    *keylen == 0)
			return jobs_err_set(err, JOBS_EUSAGE, "the webhook secret is"
			    " not whsec_ followed by base64");
		return 0;
	}
	if (n == 0 || n > SECRET_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "the webhook secret must be 1"
		    " to %d bytes", SECRET_MAX);
	memcpy(key, secret, n);
	*keylen = n;
	return 0;
}

int
jobs_send_check_config(const struct jobs_send_config *cfg,
    struct jobs_err *err)
{
	unsigned char key[SECRET_MAX];
	struct jobs_mail_sender ms;
	size_t keylen = 0;
	int bad;

	if (cfg->webhook_secret != NULL) {
		bad = decode_secret(cfg->webhook_secret, key, &keylen, err) == -1;
		OPENSSL_cleanse(key, sizeof(key));
		if (bad)
			return -1;
	}
	if (cfg->smtp_url != NULL && strncasecmp(cfg->smtp_url, "smtp://", 7) != 0 &&
	    strncasecmp(cfg->smtp_url, "smtps://", 8) != 0)
		return jobs_err_set(err, JOBS_EUSAGE, "the SMTP URL must start with"
		    " smtp:// or smtps://");
	if (cfg->smtp_password != NULL && (cfg->smtp_user == NULL ||
	    cfg->smtp_user[0] == '\0'))
		return jobs_err_set(err, JOBS_EUSAGE, "an SMTP password without an"
		    " SMTP user");
	if (cfg->connect_timeout_ms < 0 || cfg->timeout_ms < 0 ||
	    cfg->max_response_bytes < 0 || cfg->max_parallel < 0 ||
	    cfg->max_per_host < 0)
		return jobs_err_set(err, JOBS_EUSAGE, "negative sender limits");
	if (cfg->allow.n < 0 || cfg->allow.n > JOBS_NET_ALLOW_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "a broken allow list");
	return jobs_mail_sender_init(&ms, cfg->mail_from, cfg->now_s, err);
}

/* ---------------------------------------------------------------------
 * The batch.
 */
struct batch {
	const struct jobs_send_config *cfg;
	long connect_timeout_ms, timeout_ms, max_response;
	const char *user_agent;
	int64_t now_s;
	unsigned char key[SECRET_MAX];
	size_t keylen;		/* 0: unsigned */
	EVP_MAC *mac;
	struct jobs_mail_sender mail;
	int smtp_tls;		/* credentials travel: TLS required */
	const char *smtp_userinfo;
	size_t smtp_userinfo_len;
};

struct xfer {
	CURL *h;
	struct batch *bt;
	struct jobs_send_item *it;	/* NULL: the slot is free */
	int host;		/* its queue in the scheduler */
	int mail;
	int web_ready;		/* h has every webhook option but the request's */
	struct curl_slist *hdrs, *rcpt;
	char *msg;		/* the mail being uploaded */
	size_t msg_len, msg_off;
	curl_off_t got;		/* response bytes */
	int capped;
	int opened, refused;	/* sockets since the last response */
	char why[160];		/* the last refusal */
	char reason[64];	/* the last response's reason phrase */
	int64_t retry_after;
	char errbuf[CURL_ERROR_SIZE];
};

/*
 * s (malloc'd, taken) with every copy of secret replaced by "[redacted]",
 * never cut short: a secret split by truncation would leak its start.
 * NULL when out of memory.
 */
static char *
redact(char *s, const char *secret)
{
	static const char mark[] = "[redacted]";
	size_t m = sizeof(mark) - 1, n, count = 0;
	const char *p, *q;
	char *out, *o;

	if (s == NULL || secret == NULL || (n = strlen(secret)) == 0)
		return s;
	for (p = s; (q = strstr(p, secret)) != NULL; p = q + n)
		count++;
	if (count == 0)
		return s;
	if ((out = malloc(strlen(s) + count * m + 1)) != NULL) {
		for (o = out, p = s; (q = strstr(p, secret)) != NULL; p = q + n) {
			memcpy(o, p, (size_t)(q - p));
			o += q - p;
			memcpy(o, mark, m);
			o += m;
		}
		memcpy(o, p, strlen(p) + 1);
	}
	free(s);
	return out;
}

/* Fill it->error: one line, no controls, no secret of cfg's or the row's. */
static void set_error(const struct batch *bt, struct jobs_send_item *it,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_error(const struct batch *bt, struct jobs_send_item *it, const char *fmt,
    ...)
{
	char userinfo[512], *msg, *r;
	const char *ui;
	size_t n;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (msg = malloc((size_t)len + 1)) == NULL) {
		snprintf(it->error, sizeof(it->error), "out of memory");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);
	if (bt != NULL && bt->cfg != NULL) {
		msg = redact(msg, bt->cfg->smtp_password);
		msg = redact(msg, bt->cfg->webhook_secret);
		if (bt->smtp_userinfo != NULL) {
			snprintf(userinfo, sizeof(userinfo), "%.*s",
			    (int)bt->smtp_userinfo_len, bt->smtp_userinfo);
			msg = redact(msg, userinfo);
		}
	}
	if ((ui = url_userinfo(it->destination, &n)) != NULL) {
		snprintf(userinfo, sizeof(userinfo), "%.*s", (int)n, ui);
		msg = redact(msg, userinfo);
	}
	r = msg != NULL ? jobs_secret_redact(msg) : NULL;
	if (r == NULL)
		snprintf(it->error, sizeof(it->error), "out of memory");
	else
		jobs_text_clean(r, strlen(r), it->error, sizeof(it->error), 0);
	free(r);
	free(msg);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	(void)p;
	x->got += (curl_off_t)(size * n);
	if (x->got > x->bt->max_response) {
		x->capped = 1;
		return 0;
	}
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response: what follows is the next hop. */
		const char *sp = memchr(p, ' ', len), *r;
		size_t rn = 0;

		x->retry_after = -1;
		x->opened = x->refused = 0;
		x->reason[0] = '\0';
		if (sp != NULL && (r = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - p)))
		    != NULL) {
			r++;
			rn = len - (size_t)(r - p);
			jobs_text_clean(r, rn > 60 ? 60 : rn, x->reason,
			    sizeof(x->reason), 0);
			rn = strlen(x->reason);
			while (rn > 0 && x->reason[rn - 1] == ' ')
				x->reason[--rn] = '\0';
		}
	} else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		x->retry_after = jobs_http_retry_after(p + 12, len - 12);
	return len;
}

/* Every connection a row's destination makes, redirects included. */
static curl_socket_t
on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = arg;
	int type = a->socktype;

	(void)purpose;
	if (!jobs_net_allowed(&x->bt->cfg->allow, &a->addr, x->why,
	    sizeof(x->why))) {
		x->refused++;
		return CURL_SOCKET_BAD;
	}
	x->opened++;
#ifdef SOCK_CLOEXEC
	type |= SOCK_CLOEXEC;
#endif
	return socket(a->family, type, a->protocol);
}

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t left = x->msg_len - x->msg_off, want = size * n;

	if (want > left)
		want = left;
	memcpy(p, x->msg + x->msg_off, want);
	x->msg_off += want;
	return want;
}

static int
tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int hdr(struct curl_slist **l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append one formatted header line; -1 when out of memory. */
static int
hdr(struct curl_slist **l, const char *fmt, ...)
{
	struct curl_slist *n;
	va_list ap;
	char buf[512], *s = buf;
	int len;

	/* Most lines fit on the stack; libcurl copies them anyway. */
	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	if ((size_t)len >= sizeof(buf)) {
		if ((s = malloc((size_t)len + 1)) == NULL)
			return -1;
		va_start(ap, fmt);
		vsnprintf(s, (size_t)len + 1, fmt, ap);
		va_end(ap);
	}
	n = curl_slist_append(*l, s);
	if (s != buf)
		free(s);
	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

static int
clean_value(const char *v)
{
	for (; *v != '\0'; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return 0;
	return 1;
}

/*
 * The request's header fields.  0; 1 with it marked PERMANENT for a row
 * that can never be sent; -1 when out of memory.
 */
static int
web_headers(struct xfer *x)
{
	struct jobs_send_item *it = x->it;
	const struct batch *bt = x->bt;
	cJSON *root = NULL, *h;
	int has_type = 0, rc = -1;

	if (hdr(&x->hdrs, "Expect:") == -1)	/* no 100-continue wait */
		return -1;
	/* "{}", the default, has nothing to parse. */
	if (it->headers != NULL && it->headers[0] != '\0' &&
	    strcmp(it->headers, "{}") != 0) {
		int oom;

		if ((root = jobs_json_parse(it->headers, &oom)) == NULL && oom)
			goto out;	/* out of memory: -1, the row is retried */
		if (root == NULL || !cJSON_IsObject(root)) {
			it->result = JOBS_SEND_PERMANENT;
			set_error(bt, it, "headers: not a JSON object");
			rc = 1;
			goto out;
		}
		cJSON_ArrayForEach(h, root) {
			const char *name = h->string, *p;

			for (p = name; *p != '\0' && tchar((unsigned char)*p); p++)
				;
			if (*name == '\0' || *p != '\0' || p - name > 256) {
				it->result = JOBS_SEND_PERMANENT;
				set_error(bt, it, "headers: bad header field name");
				rc = 1;
				goto out;
			}
			/* Values may be credentials: never shown. */
			if (!cJSON_IsString(h) || !clean_value(h->valuestring) ||
			    strlen(h->valuestring) > HEADER_VALUE_MAX) {
				it->result = JOBS_SEND_PERMANENT;
				set_error(bt, it, "headers: the value of %s is not one"
				    " line of text", name);
				rc = 1;
				goto out;
			}
			if (jobs_outbox_reserved_header(name)) {
				it->result = JOBS_SEND_PERMANENT;
				set_error(bt, it, "headers: %s is set by the sender", name);
				rc = 1;
				goto out;
			}
			if (strcasecmp(name, "content-type") == 0)
				has_type = 1;
			/* "Name;" is how libcurl sends an empty value. */
			if ((h->valuestring[0] == '\0' ? hdr(&x->hdrs, "%s;", name) :
			    hdr(&x->hdrs, "%s: %s", name, h->valuestring)) == -1)
				goto out;
		}
	}
	if (!has_type && hdr(&x->hdrs, "Content-Type: application/json") == -1)
		goto out;
	if (hdr(&x->hdrs, "Idempotency-Key: %s", it->key) == -1)
		goto out;
	if (bt->keylen > 0) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		char ts[24], sig[2 * EVP_MAX_MD_SIZE];
		char digest[] = OSSL_DIGEST_NAME_SHA2_256;
		OSSL_PARAM params[2];
		EVP_MAC_CTX *c;
		size_t maclen = 0;
		int ok;

		/* Standard Webhooks: HMAC-SHA256 over "id.timestamp.body". */
		snprintf(ts, sizeof(ts), "%lld", (long long)bt->now_s);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    digest, 0);
		params[1] = OSSL_PARAM_construct_end();
		if ((c = EVP_MAC_CTX_new(bt->mac)) == NULL)
			goto out;
		ok = EVP_MAC_init(c, bt->key, bt->keylen, params) == 1 &&
		    EVP_MAC_update(c, (const unsigned char *)it->key,
		    strlen(it->key)) == 1 &&
		    EVP_MAC_update(c, (const unsigned char *)".", 1) == 1 &&
		    EVP_MAC_update(c, (const unsigned char *)ts, strlen(ts)) == 1 &&
		    EVP_MAC_update(c, (const unsigned char *)".", 1) == 1 &&
		    EVP_MAC_update(c, (const unsigned char *)(it->body ? it->body : ""),
		    it->body ? strlen(it->body) : 0) == 1 &&
		    EVP_MAC_final(c, mac, &maclen, sizeof(mac)) == 1;
		EVP_MAC_CTX_free(c);
		if (!ok)
			goto out;
		jobs_mail_base64_encode(mac, maclen, sig);
		if (hdr(&x->hdrs, "webhook-id: %s", it->key) == -1 ||
		    hdr(&x->hdrs, "webhook-timestamp: %s", ts) == -1 ||
		    hdr(&x->hdrs, "webhook-signature: v1,%s", sig) == -1)
			goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static void
release(struct xfer *x)
{
	curl_slist_free_all(x->hdrs);
	curl_slist_free_all(x->rcpt);
	free(x->msg);
	x->hdrs = x->rcpt = NULL;
	x->msg = NULL;
	x->it = NULL;
}

static void
common_options(struct xfer *x)
{
	const struct batch *bt = x->bt;

	jobs_http_setup(x->h, x->errbuf, bt->connect_timeout_ms, bt->timeout_ms);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, (void *)x);
}

/*
 * Set x's handle up for its item.  0 when it is ready to go; 1 when the
 * item is already decided (its result filled); -1 when out of memory.
 */
static int
prepare(struct xfer *x)
{
	struct jobs_send_item *it = x->it;
	struct batch *bt = x->bt;
	const struct jobs_send_config *cfg = bt->cfg;
	struct jobs_err e = { 0 };
	char to[JOBS_MAIL_ADDR_MAX], from[JOBS_MAIL_ADDR_MAX + 4];
	const char *p;
	CURL *h = x->h;
	int r;

	x->got = 0;
	x->capped = x->opened = x->refused = 0;
	x->why[0] = x->reason[0] = '\0';
	x->retry_after = -1;
	x->msg_off = x->msg_len = 0;
	x->mail = it->channel != NULL && strcmp(it->channel, "email") == 0;
	if (it->key == NULL || it->key[0] == '\0' || !clean_value(it->key)) {
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "the idempotency key is empty or has control"
		    " characters");
		return 1;
	}
	x->errbuf[0] = '\0';
	if (!x->mail && x->web_ready) {
		/* The handle's last transfer was a webhook: only the request. */
		if (it->channel == NULL || strcmp(it->channel, "webhook") != 0)
			goto reset;
		p = it->destination;
		if (p == NULL || (strncasecmp(p, "http://", 7) != 0 &&
		    strncasecmp(p, "https://", 8) != 0))
			goto reset;	/* refused below, as always */
		if ((r = web_headers(x)) != 0)
			return r;
		if (curl_easy_setopt(h, CURLOPT_URL, p) != CURLE_OK)
			return -1;
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, it->body ? it->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(it->body ? strlen(it->body) : 0));
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
		return 0;
	}
reset:
	x->web_ready = 0;
	curl_easy_reset(h);
	common_options(x);
	if (x->mail) {
		struct jobs_mail_msg m = { .destination = it->destination,
		    .subject = it->subject, .body = it->body, .key = it->key,
		    .created_at = it->created_at };

		if (cfg->smtp_url == NULL) {
			set_error(bt, it, "no SMTP server configured");
			return 1;
		}
		if ((x->msg = jobs_mail_build(&bt->mail, &m, &e)) == NULL) {
			it->result = e.code == JOBS_EUSAGE ? JOBS_SEND_PERMANENT :
			    JOBS_SEND_RETRY;
			set_error(bt, it, "%s", e.msg);
			return 1;
		}
		x->msg_len = strlen(x->msg);
		jobs_mail_check_address(it->destination, to, sizeof(to), NULL);
		snprintf(from, sizeof(from), "<%s>", bt->mail.from_addr);
		if (hdr(&x->rcpt, "<%s>", to) == -1)
			return -1;
		if (curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url) != CURLE_OK ||
		    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") !=
		    CURLE_OK)
			return -1;
		curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
		curl_easy_setopt(h, CURLOPT_MAIL_RCPT, x->rcpt);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, (void *)x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->msg_len);
		if (cfg->smtp_user != NULL && cfg->smtp_user[0] != '\0') {
			curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_user);
			if (cfg->smtp_password != NULL)
				curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->smtp_password);
		}
		/*
		 * With credentials, TLS or nothing: STARTTLS refused means the
		 * password would go in clear.  Without, plain as configured (a
		 * local relay's self-signed STARTTLS would only make it fail).
		 */
		curl_easy_setopt(h, CURLOPT_USE_SSL, bt->smtp_tls ?
		    (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
		return 0;
	}
	if (it->channel == NULL || strcmp(it->channel, "webhook") != 0) {
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "channel '%.20s' is not sent over the network",
		    it->channel ? it->channel : "(none)");
		return 1;
	}
	p = it->destination;
	if (p == NULL || (strncasecmp(p, "http://", 7) != 0 &&
	    strncasecmp(p, "https://", 8) != 0)) {
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "a webhook destination must be http:// or https://");
		return 1;
	}
	if ((r = web_headers(x)) != 0)
		return r;
	if (curl_easy_setopt(h, CURLOPT_URL, p) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)x) != CURLE_OK)
		return -1;
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
	/* A moved receiver still gets the POST; 303 means "done, see there". */
	curl_easy_setopt(h, CURLOPT_POSTREDIR, (long)(CURL_REDIR_POST_301 |
	    CURL_REDIR_POST_302));
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, it->body ? it->body : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)(it->body ? strlen(it->body) : 0));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, bt->user_agent);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)x);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)bt->max_response);
	/*
	 * No CURLOPT_PIPEWAIT: it parks every other transfer to the host until
	 * the first connection shows whether it multiplexes, and a first
	 * request that hangs would run their timeouts out unsent.
	 */
	x->web_ready = 1;
	return 0;
}

static const char *
curl_reason(const struct xfer *x, CURLcode cc)
{
	return jobs_http_reason(x->errbuf, cc);
}

static void
web_result(struct xfer *x, CURLcode cc)
{
	struct jobs_send_item *it = x->it;
	const struct batch *bt = x->bt;
	long s = it->status;
	int retry_status = jobs_http_retryable(s);
	const char *sp = x->reason[0] ? " " : "";

	if (cc == CURLE_OK && s >= 200 && s < 300) {
		it->result = JOBS_SEND_OK;
		return;
	}
	if (cc == CURLE_OK) {
		if (s < 200 || s >= 600) {
			it->result = JOBS_SEND_RETRY;
			set_error(bt, it, "unexpected HTTP status %ld", s);
			return;
		}
		it->result = retry_status ? JOBS_SEND_RETRY : JOBS_SEND_PERMANENT;
		if (retry_status && x->retry_after >= 0) {
			it->retry_after_s = x->retry_after;
			set_error(bt, it, "HTTP %ld%s%s (retry after %lld s)", s, sp,
			    x->reason, (long long)x->retry_after);
		} else
			set_error(bt, it, "HTTP %ld%s%s", s, sp, x->reason);
		return;
	}
	if (x->refused > 0 && x->opened == 0) {
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "destination refused: %s", x->why);
		return;
	}
	if ((cc == CURLE_WRITE_ERROR && x->capped) || cc == CURLE_FILESIZE_EXCEEDED) {
		/* A 4xx stays a 4xx however much it says. */
		it->result = s >= 400 && s < 500 && !retry_status ?
		    JOBS_SEND_PERMANENT : JOBS_SEND_RETRY;
		set_error(bt, it, "response body larger than %ld bytes: transfer cut"
		    " (HTTP %ld)", bt->max_response, s);
		return;
	}
	if (jobs_http_tls_error(cc)) {
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "TLS verification failed: %s", curl_reason(x, cc));
		return;
	}
	switch (cc) {
	case CURLE_TOO_MANY_REDIRECTS:
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "more than 3 redirects");
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/*
		 * A redirect to a scheme other than http(s) will never work;
		 * an answer that is not HTTP at all (libcurl's "HTTP/0.9", no
		 * status) is the receiver's trouble, and may pass.
		 */
		if (s == 0) {
			it->result = JOBS_SEND_RETRY;
			set_error(bt, it, "the answer is not HTTP: %s",
			    curl_reason(x, cc));
			return;
		}
		/* FALLTHROUGH */
	case CURLE_URL_MALFORMAT:
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "%s", curl_reason(x, cc));
		return;
	default:
		/* Timeouts, refused or reset connections, DNS: maybe later. */
		it->result = JOBS_SEND_RETRY;
		if (x->refused > 0)
			set_error(bt, it, "%s (and refused: %s)", curl_reason(x, cc),
			    x->why);
		else
			set_error(bt, it, "%s", curl_reason(x, cc));
	}
}

static void
mail_result(struct xfer *x, CURLcode cc)
{
	struct jobs_send_item *it = x->it;
	const struct batch *bt = x->bt;
	long s = it->status;

	if (cc == CURLE_OK) {
		it->result = JOBS_SEND_OK;
		return;
	}
	if (s < 400)	/* the last reply was a good one: none to blame */
		it->status = s = 0;
	if (cc == CURLE_USE_SSL_FAILED) {
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "SMTP server does not offer STARTTLS");
		return;
	}
	if (jobs_http_tls_error(cc)) {
		it->result = JOBS_SEND_PERMANENT;
		set_error(bt, it, "SMTP TLS verification failed: %s", curl_reason(x, cc));
		return;
	}
	it->result = s >= 500 && s < 600 ? JOBS_SEND_PERMANENT : JOBS_SEND_RETRY;
	if (s >= 400 && s < 600)
		set_error(bt, it, "SMTP %ld: %s", s, curl_reason(x, cc));
	else
		set_error(bt, it, "SMTP: %s", curl_reason(x, cc));
}

static void
finish(struct xfer *x, CURLcode cc)
{
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	x->it->status = status;
	x->it->error[0] = '\0';
	if (x->mail)
		mail_result(x, cc);
	else
		web_result(x, cc);
}

static int
batch_init(struct batch *bt, const struct jobs_send_config *cfg,
    struct jobs_err *err)
{
	memset(bt, 0, sizeof(*bt));
	bt->cfg = cfg;
	bt->connect_timeout_ms = cfg->connect_timeout_ms > 0 ?
	    cfg->connect_timeout_ms : 5000;
	bt->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	bt->max_response = cfg->max_response_bytes > 0 ?
	    cfg->max_response_bytes : 64 * 1024;
	bt->user_agent = cfg->user_agent != NULL ? cfg->user_agent :
	    "jobs/" JOBS_VERSION;
	bt->now_s = cfg->now_s > 0 ? cfg->now_s : (int64_t)time(NULL);
	if (jobs_mail_sender_init(&bt->mail, cfg->mail_from, cfg->now_s, err) == -1)
		return -1;
	bt->smtp_userinfo = url_userinfo(cfg->smtp_url, &bt->smtp_userinfo_len);
	bt->smtp_tls = (cfg->smtp_user != NULL && cfg->smtp_user[0] != '\0') ||
	    bt->smtp_userinfo != NULL;
	if (cfg->webhook_secret != NULL) {
		if (decode_secret(cfg->webhook_secret, bt->key, &bt->keylen, err) == -1)
			return -1;
		if ((bt->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL)) == NULL)
			return jobs_err_set(err, JOBS_ETEMP, "unable to start HMAC-SHA256");
	}
	return 0;
}

static void
batch_free(struct batch *bt)
{
	EVP_MAC_free(bt->mac);
	bt->mac = NULL;
	OPENSSL_cleanse(bt->key, sizeof(bt->key));
}

/* ---------------------------------------------------------------------
 * Which item next.  libcurl queues a transfer that finds its host at the
 * connection limit, and its timeout runs while it waits; and a queue for
 * one slow host would fill every slot.  So items wait here instead, one
 * queue per host, and the hosts with room take turns.  Items arrive while
 * others are in flight, so the queues are lists of recycled nodes and the
 * hosts keep their own copy of their names.
 */
struct host {
	char *name;		/* owned */
	size_t len;
	int head, tail;		/* queued nodes, -1 when none */
	int active;
	int ready;		/* in the ring */
};

struct node {
	struct jobs_send_item *it;
	int next;		/* the host's next node, or the next free one */
};

struct sched {
	struct host *hosts;
	int nhosts, hcap, per_host;
	int *table;		/* open addressing: host index + 1, 0 empty */
	size_t tsize;
	struct node *nodes;
	int ncap, free_node;	/* -1: no free node */
	int *ring, rhead, rcount;	/* hcap long: each host at most once */
	int queued;		/* items not yet started */
};

/* The key an item is scheduled by: a URL's host:port, or the SMTP server. */
static void
host_key(const struct jobs_send_item *it, const char **name, size_t *len)
{
	const char *p, *at;
	size_t n;

	*name = "\n";	/* never in a URL's authority */
	*len = 1;
	if (it->channel != NULL && strcmp(it->channel, "email") == 0)
		return;
	if (it->destination == NULL || (p = strstr(it->destination, "://")) == NULL) {
		*len = 0;
		return;
	}
	p += 3;
	n = strcspn(p, "/?#");
	while ((at = memchr(p, '@', n)) != NULL) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	*name = p;
	*len = n;
}

static uint64_t
host_hash(const char *name, size_t len)
{
	uint64_t hash = 14695981039346656037u;	/* FNV-1a */
	size_t k;

	for (k = 0; k < len; k++)
		hash = (hash ^ (unsigned char)tolower((unsigned char)name[k])) *
		    1099511628211u;
	return hash;
}

static void
ring_push(struct sched *s, int h)
{
	s->ring[(s->rhead + s->rcount++) % s->hcap] = h;
	s->hosts[h].ready = 1;
}

/* Room for one more host: the array, its ring and its table. */
static int
sched_grow(struct sched *s)
{
	struct host *hosts;
	int *ring, *table, i, cap;
	size_t tsize, slot;

	if (s->nhosts == s->hcap) {
		cap = s->hcap > 0 ? 2 * s->hcap : 16;
		if ((hosts = realloc(s->hosts, (size_t)cap * sizeof(*hosts))) == NULL)
			return -1;
		s->hosts = hosts;
		if ((ring = calloc((size_t)cap, sizeof(*ring))) == NULL)
			return -1;
		for (i = 0; i < s->rcount; i++)
			ring[i] = s->ring[(s->rhead + i) % s->hcap];
		free(s->ring);
		s->ring = ring;
		s->rhead = 0;
		s->hcap = cap;
	}
	if (2 * (size_t)(s->nhosts + 1) <= s->tsize)
		return 0;
	tsize = s->tsize > 0 ? 2 * s->tsize : 32;
	if ((table = calloc(tsize, sizeof(*table))) == NULL)
		return -1;
	for (i = 0; i < s->nhosts; i++) {
		for (slot = host_hash(s->hosts[i].name, s->hosts[i].len) & (tsize - 1);
		    table[slot] != 0; slot = (slot + 1) & (tsize - 1))
			;
		table[slot] = i + 1;
	}
	free(s->table);
	s->table = table;
	s->tsize = tsize;
	return 0;
}

/* The queue for name, made when new; -1 when out of memory. */
static int
sched_host(struct sched *s, const char *name, size_t len)
{
	struct host *o;
	size_t slot;
	int h;

	if (sched_grow(s) == -1)
		return -1;
	for (slot = host_hash(name, len) & (s->tsize - 1); s->table[slot] != 0;
	    slot = (slot + 1) & (s->tsize - 1)) {
		o = &s->hosts[s->table[slot] - 1];
		if (o->len == len && strncasecmp(o->name, name, len) == 0)
			return s->table[slot] - 1;
	}
	h = s->nhosts;
	o = &s->hosts[h];
	memset(o, 0, sizeof(*o));
	if ((o->name = malloc(len + 1)) == NULL)
		return -1;
	memcpy(o->name, name, len);
	o->name[len] = '\0';
	o->len = len;
	o->head = o->tail = -1;
	s->table[slot] = h + 1;
	s->nhosts++;
	return h;
}

static void
sched_init(struct sched *s, int per_host)
{
	memset(s, 0, sizeof(*s));
	s->per_host = per_host;
	s->free_node = -1;
}

/* Queue it behind the other items of its host; -1 when out of memory. */
static int
sched_add(struct sched *s, struct jobs_send_item *it)
{
	struct node *nodes;
	const char *name;
	size_t len;
	int h, i, cap;

	host_key(it, &name, &len);
	if ((h = sched_host(s, name, len)) == -1)
		return -1;
	if (s->free_node == -1) {
		cap = s->ncap > 0 ? 2 * s->ncap : 64;
		if ((nodes = realloc(s->nodes, (size_t)cap * sizeof(*nodes))) == NULL)
			return -1;
		s->nodes = nodes;
		for (i = cap - 1; i >= s->ncap; i--) {
			nodes[i].next = s->free_node;
			s->free_node = i;
		}
		s->ncap = cap;
	}
	i = s->free_node;
	s->free_node = s->nodes[i].next;
	s->nodes[i].it = it;
	s->nodes[i].next = -1;
	if (s->hosts[h].tail == -1)
		s->hosts[h].head = i;
	else
		s->nodes[s->hosts[h].tail].next = i;
	s->hosts[h].tail = i;
	s->queued++;
	if (!s->hosts[h].ready && s->hosts[h].active < s->per_host)
		ring_push(s, h);
	return 0;
}

/* The next item to start and its host, or NULL when no host has room. */
static struct jobs_send_item *
sched_next(struct sched *s, int *host)
{
	struct jobs_send_item *it;
	struct host *o;
	int h, i;

	if (s->rcount == 0)
		return NULL;
	h = s->ring[s->rhead];
	s->rhead = (s->rhead + 1) % s->hcap;
	s->rcount--;
	o = &s->hosts[h];
	i = o->head;
	if ((o->head = s->nodes[i].next) == -1)
		o->tail = -1;
	it = s->nodes[i].it;
	s->nodes[i].next = s->free_node;
	s->free_node = i;
	s->queued--;
	o->active++;
	o->ready = 0;
	if (o->head != -1 && o->active < s->per_host)
		ring_push(s, h);
	*host = h;
	return it;
}

/* An item of host h is done: its turn may come again. */
static void
sched_done(struct sched *s, int h)
{
	struct host *o = &s->hosts[h];

	o->active--;
	if (o->head != -1 && !o->ready && o->active < s->per_host)
		ring_push(s, h);
}

static void
sched_free(struct sched *s)
{
	int h;

	for (h = 0; h < s->nhosts; h++)
		free(s->hosts[h].name);
	free(s->hosts);
	free(s->table);
	free(s->nodes);
	free(s->ring);
}

/* An item the stream gives back unsent: RETRY with why, unless decided. */
static void
give_back(const struct batch *bt, const struct jobs_send_source *src,
    struct jobs_send_item *it, const char *why)
{
	if ((it->result == JOBS_SEND_RETRY || it->result == JOBS_SEND_UNSENT) &&
	    it->error[0] == '\0')
		set_error(bt, it, "%s", why);
	src->done(src->arg, it);
}

int
jobs_send_stream(const struct jobs_send_config *cfg,
    const struct jobs_send_source *src, volatile sig_atomic_t *stop,
    struct jobs_err *err)
{
	struct batch bt;
	struct sched sc;
	struct jobs_err e0 = { 0 };
	struct xfer *xs = NULL, **free_slots = NULL;
	struct jobs_send_item *it, *got;
	const char *unfinished = "stopped";
	CURLM *m = NULL;
	CURLMsg *msg;
	int i, k, h, nx = 0, nfree = 0, active = 0, running, left, global = 0;
	int rc = -1, max_parallel, max_per_host, low, ended = 0, wait_idle = 0;

	memset(&bt, 0, sizeof(bt));
	sched_init(&sc, 8);
	if (err == NULL)
		err = &e0;
	if (jobs_send_check_config(cfg, err) == -1 || batch_init(&bt, cfg, err) == -1)
		goto out;
	max_parallel = cfg->max_parallel > 0 ? cfg->max_parallel : 64;
	max_per_host = cfg->max_per_host > 0 ? cfg->max_per_host : 8;
	sc.per_host = max_per_host;
	nx = max_parallel;
	low = src->low > 0 ? src->low : max_parallel;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		jobs_err_set(err, JOBS_ETEMP, "unable to start libcurl");
		goto out;
	}
	global = 1;
	if ((m = curl_multi_init()) == NULL ||
	    (xs = calloc((size_t)nx, sizeof(*xs))) == NULL ||
	    (free_slots = calloc((size_t)nx, sizeof(*free_slots))) == NULL) {
		jobs_err_set(err, JOBS_ETEMP, "unable to start libcurl: out of memory");
		goto out;
	}
	curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_parallel);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_per_host);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)max_parallel);
	for (i = nx - 1; i >= 0; i--) {
		xs[i].bt = &bt;
		free_slots[nfree++] = &xs[i];
	}
	if ((xs[0].h = curl_easy_init()) == NULL) {
		jobs_err_set(err, JOBS_ETEMP, "unable to start libcurl");
		goto out;
	}
	rc = 0;
	for (;;) {
		if (stop != NULL && *stop)
			break;
		/*
		 * Ask for more before the queue runs dry, so claiming overlaps
		 * sending; after a "none now", again only once all is done.
		 */
		if (!ended && sc.queued < low && (!wait_idle || active == 0)) {
			if ((k = src->more(src->arg, &got)) > 0) {
				wait_idle = 0;
				bt.now_s = cfg->now_s > 0 ? cfg->now_s : (int64_t)time(NULL);
				bt.mail.now_s = bt.now_s;
				for (i = 0; i < k; i++) {
					got[i].result = JOBS_SEND_RETRY;
					got[i].status = 0;
					got[i].retry_after_s = -1;
					got[i].error[0] = '\0';
					if (sched_add(&sc, &got[i]) == -1)
						give_back(&bt, src, &got[i], "out of memory");
				}
			} else if (k < 0 || active == 0)
				ended = 1;
			else
				wait_idle = 1;
		}
		/* Keep up to nx transfers going, reusing the handles. */
		while (nfree > 0 && (it = sched_next(&sc, &h)) != NULL) {
			struct xfer *x = free_slots[nfree - 1];
			int r;

			x->it = it;
			x->host = h;
			if (x->h == NULL && (x->h = curl_easy_init()) == NULL)
				r = -1;
			else
				r = prepare(x);
			if (r == 0 && curl_multi_add_handle(m, x->h) != CURLM_OK)
				r = -1;
			if (r == 0) {
				nfree--;
				active++;
				continue;
			}
			if (r == -1) {
				it->result = JOBS_SEND_RETRY;
				set_error(&bt, it, "unable to set up the transfer");
			}
			release(x);
			sched_done(&sc, h);
			src->done(src->arg, it);
		}
		if (active == 0 && ended)
			break;
		if (active > 0) {
			int done = 0;

			if (curl_multi_perform(m, &running) != CURLM_OK) {
				unfinished = "libcurl failed mid-batch";
				break;
			}
			while ((msg = curl_multi_info_read(m, &left)) != NULL) {
				struct xfer *x;
				char *priv = NULL;

				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
				x = (struct xfer *)(void *)priv;
				finish(x, msg->data.result);
				curl_multi_remove_handle(m, x->h);
				sched_done(&sc, x->host);
				it = x->it;
				release(x);
				free_slots[nfree++] = x;
				active--;
				done++;
				src->done(src->arg, it);
			}
			if (done == 0)
				curl_multi_poll(m, NULL, 0, 1000, NULL);
		}
		/* At least once a second: the caller renews its leases. */
		if (cfg->tick != NULL)
			cfg->tick(cfg->tick_arg);
	}
out:
	/* Whatever did not finish: stopped, or never started. */
	for (i = 0; i < nx && xs != NULL; i++) {
		if ((it = xs[i].it) != NULL) {
			curl_multi_remove_handle(m, xs[i].h);
			release(&xs[i]);
			give_back(&bt, src, it, unfinished);
		}
		if (xs[i].h != NULL)
			curl_easy_cleanup(xs[i].h);
	}
	/* Those still queued were never tried: the caller may give them back. */
	for (h = 0; h < sc.nhosts; h++)
		for (k = sc.hosts[h].head; k != -1; k = sc.nodes[k].next) {
			sc.nodes[k].it->result = JOBS_SEND_UNSENT;
			give_back(&bt, src, sc.nodes[k].it, unfinished);
		}
	free(free_slots);
	free(xs);
	sched_free(&sc);
	if (m != NULL)
		curl_multi_cleanup(m);
	if (global)
		curl_global_cleanup();
	batch_free(&bt);
	return rc;
}
