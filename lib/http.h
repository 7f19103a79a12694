/*
 * http.h - what every libcurl transfer of the toolkit sets up and reads
 * the same way (DESIGN §7: TLS verified, no proxy from the environment,
 * connect and total timeouts, a User-Agent with the version), so that the
 * sender, the pings and the model client agree by construction.
 *
 * Only the modules that link libcurl include this (send.c, ping.c,
 * model.c); programs that use them link libcurl.
 */
#ifndef JOBS_HTTP_H
#define JOBS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* The longest Retry-After jobs_http_retry_after() gives back: 100 years. */
#define JOBS_HTTP_RETRY_AFTER_MAX (100LL * 365 * 86400)

/*
 * Set the options every transfer shares on h (fresh or just reset):
 * errbuf (CURL_ERROR_SIZE bytes, emptied here) as the error buffer, no
 * signals, the timeouts in milliseconds, no proxy whatever the
 * environment says, TLS peer and host verification, TCP keep-alive and the
 * User-Agent "jobs/VERSION".  The caller adds the URL, the protocols it
 * allows and what is particular to its transfer.
 */
void jobs_http_setup(CURL *h, char *errbuf, long connect_timeout_ms,
    long timeout_ms);

/*
 * A Retry-After field's value (n bytes at v, blanks around it allowed):
 * delay-seconds or an HTTP-date, as seconds from now (a date in the past
 * is 0; clamped to JOBS_HTTP_RETRY_AFTER_MAX).  -1 when it is neither.
 */
int64_t jobs_http_retry_after(const char *v, size_t n);

/*
 * Whether an HTTP status says "try again later": 408, 425, 429 and 5xx.
 * Other 4xx are permanent.  1 or 0.
 */
int jobs_http_retryable(long status);

/* Whether cc is a TLS verification failure (permanent: retrying won't fix it). */
int jobs_http_tls_error(CURLcode cc);

/* The reason for cc: errbuf when libcurl filled it, else its generic text. */
const char *jobs_http_reason(const char *errbuf, CURLcode cc);

#endif
