#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "err.h"
#include "http.h"
#include "ping.h"

#define PING_BODY_MAX (100 * 1024)

/* The answer does not matter, only its status: drop it, but cap it. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	size_t *seen = arg;

	(void)p;
	*seen += size * n;
	return *seen > 64 * 1024 ? 0 : size * n;
}

int
jobs_ping_send(const char *base, const char *what, const char *body,
    size_t len, int tries, struct jobs_err *err)
{
	char url[2048], errbuf[CURL_ERROR_SIZE];
	const char *suffix = strcmp(what, "success") == 0 ? "" :
	    strcmp(what, "start") == 0 ? "/start" : strcmp(what, "fail") == 0 ?
	    "/fail" : strcmp(what, "log") == 0 ? "/log" : NULL;
	size_t n = strlen(base);
	CURL *h;
	long status = 0;
	int attempt, rc = -1;

	if (suffix == NULL)
		return jobs_err_set(err, JOBS_EUSAGE, "unknown ping '%.20s': want"
		    " start, success, fail or log", what);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
		return jobs_err_set(err, JOBS_EUSAGE, "ping URL must be http:// or"
		    " https://");
	if (snprintf(url, sizeof(url), "%.*s%s", (int)n, base, suffix) >=
	    (int)sizeof(url))
		return jobs_err_set(err, JOBS_EUSAGE, "ping URL too long");
	if (len > PING_BODY_MAX) {
		body += len - PING_BODY_MAX;	/* the end is what matters */
		len = PING_BODY_MAX;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h = curl_easy_init()) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "unable to start libcurl");
	for (attempt = 1; attempt <= tries; attempt++) {
		size_t seen = 0;
		CURLcode cc;

		curl_easy_reset(h);
		/* The operator configured this endpoint: no proxy unless said. */
		jobs_http_setup(h, errbuf, 5000L, 10000L);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
		if (body != NULL) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
		}
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK) {
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
			if (status >= 200 && status < 300) {
				rc = 0;
				break;
			}
			/* The URL names no check: trying again will not help. */
			jobs_err_set(err, JOBS_EFAIL, "ping %s: HTTP %ld", what, status);
			if (!jobs_http_retryable(status))
				break;
		} else
			jobs_err_set(err, JOBS_EFAIL, "ping %s: %s", what,
			    jobs_http_reason(errbuf, cc));
		if (attempt < tries)
			jobs_clock_sleep_ms(500 * attempt);
	}
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return rc;
}
