#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

void
jobs_http_setup(CURL *h, char *errbuf, long connect_timeout_ms,
    long timeout_ms)
{
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	/* The empty string: no proxy, even when http_proxy is set. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "jobs/" JOBS_VERSION);
}

int64_t
jobs_http_retry_after(const char *v, size_t n)
{
	char buf[128];
	const char *p;
	time_t when;
	int64_t s = 0;

	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' ||
	    v[n - 1] == '\n'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	for (p = buf; *p >= '0' && *p <= '9'; p++)
		if ((s = s * 10 + (*p - '0')) > JOBS_HTTP_RETRY_AFTER_MAX)
			s = JOBS_HTTP_RETRY_AFTER_MAX;	/* absurd but a number */
	if (p > buf && *p == '\0')
		return s;
	/* An HTTP-date: how long from now, by the wall clock it names. */
	if ((when = curl_getdate(buf, NULL)) != (time_t)-1) {
		s = (int64_t)when - (int64_t)time(NULL);
		return s > 0 ? s : 0;
	}
	return -1;
}

int
jobs_http_retryable(long s)
{
	return s == 408 || s == 425 || s == 429 || (s >= 500 && s < 600);
}

int
jobs_http_tls_error(CURLcode cc)
{
	return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_ISSUER_ERROR ||
	    cc == CURLE_SSL_INVALIDCERTSTATUS || cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

const char *
jobs_http_reason(const char *errbuf, CURLcode cc)
{
	return errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
}
