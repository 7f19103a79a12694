#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "config.h"
#include "err.h"
#include "http.h"
#include "model.h"
#include "outbox.h"
#include "text.h"

#define DEFAULT_MODEL	"gpt-4o-mini"
#define CONNECT_MS	10000

struct jobs_model {
	const struct jobs_model_config *cfg;
	CURL *h;
	struct curl_slist *hdrs;	/* holds the key: freed, never shown */
	char *buf;			/* the answer so far */
	size_t len, cap;
	int capped;			/* the answer passed max_response */
	int64_t retry_after;
	char errbuf[CURL_ERROR_SIZE];
};

static int
has_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The environment's value when set and not empty, else the config's. */
static int
setting(const cJSON *s, const char *env, const char *key, const char **v,
    struct jobs_err *err)
{
	const char *e = getenv(env);

	if (e != NULL && *e != '\0') {
		*v = e;
		return 1;
	}
	return jobs_config_string(s, key, v, err);
}

int
jobs_model_config_read(const struct jobs_config *c, struct jobs_model_config *m,
    struct jobs_err *err)
{
	const cJSON *s = jobs_config_section(c, "model");
	const char *url = NULL, *name = NULL, *p;
	int64_t max_reply = 4096;
	size_t i;
	int rc;

	memset(m, 0, sizeof(*m));
	snprintf(m->model, sizeof(m->model), "%s", DEFAULT_MODEL);
	m->timeout_ms = 60000;
	m->max_response = JOBS_MODEL_RESPONSE_MAX;
	if (jobs_config_duration(s, "timeout", &m->timeout_ms, err) < 0)
		return -1;
	if (m->timeout_ms < 1000 || m->timeout_ms > 600000)
		return jobs_err_set(err, JOBS_EUSAGE, "config: model.timeout: want"
		    " 1s to 10m");
	m->connect_timeout_ms = m->timeout_ms < CONNECT_MS ? m->timeout_ms :
	    CONNECT_MS;
	if (jobs_config_within(s, "model", "max_reply", 1, JOBS_MODEL_REPLY_MAX,
	    &max_reply, err) < 0)
		return -1;
	m->max_reply = (size_t)max_reply;
	if (setting(s, "JOBS_MODEL", "model", &name, err) < 0)
		return -1;
	if (name != NULL) {
		if (*name == '\0' || strlen(name) >= sizeof(m->model) ||
		    has_controls(name))
			return jobs_err_set(err, JOBS_EUSAGE, "model name: want 1 to"
			    " %zu printable bytes", sizeof(m->model) - 1);
		snprintf(m->model, sizeof(m->model), "%s", name);
	}
	/* The key is read even without a URL: a bad key file is a bad config. */
	rc = jobs_config_secret(c, "JOBS_MODEL_KEY", "model", "api_key_file",
	    m->key, sizeof(m->key), err);
	if (rc < 0)
		return -1;
	if (rc == 1 && has_controls(m->key)) {
		m->key[0] = '\0';
		return jobs_err_set(err, JOBS_EUSAGE, "the model API key has control"
		    " characters");
	}
	jobs_secret_add(m->key);
	if (setting(s, "JOBS_MODEL_URL", "url", &url, err) < 0)
		return -1;
	if (url == NULL || *url == '\0')
		return 0;
	if (strlen(url) >= sizeof(m->url))
		return jobs_err_set(err, JOBS_EUSAGE, "model URL: longer than %zu"
		    " bytes", sizeof(m->url) - 1);
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8)
	    != 0)
		return jobs_err_set(err, JOBS_EUSAGE, "model URL: want http:// or"
		    " https://");
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return jobs_err_set(err, JOBS_EUSAGE, "model URL: blanks or"
			    " control characters");
	p = strstr(url, "://") + 3;
	if (memchr(p, '@', strcspn(p, "/?#")) != NULL)
		return jobs_err_set(err, JOBS_EUSAGE, "model URL: no user:password@"
		    " (the key goes in model.api_key_file or JOBS_MODEL_KEY)");
	snprintf(m->url, sizeof(m->url), "%s", url);
	/* jobs_outbox_host() reads the scheme in lower case. */
	for (i = 0; url + i < p; i++)
		m->url[i] = (char)tolower((unsigned char)m->url[i]);
	jobs_outbox_host(m->url, m->host, sizeof(m->host));
	if (m->host[0] == '\0')
		return jobs_err_set(err, JOBS_EUSAGE, "model URL: no host");
	return 1;
}

/* The answer, kept up to cfg->max_response bytes; beyond, the transfer stops. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct jobs_model *m = arg;
	size_t len = size * n, want;
	char *b;

	if (m->len + len > m->cfg->max_response) {
		m->capped = 1;
		return 0;
	}
	if (m->len + len + 1 > m->cap) {
		want = m->cap ? m->cap : 16384;
		while (want < m->len + len + 1)
			want *= 2;
		if (want > m->cfg->max_response + 1)
			want = m->cfg->max_response + 1;
		if ((b = realloc(m->buf, want)) == NULL)
			return 0;
		m->buf = b;
		m->cap = want;
	}
	memcpy(m->buf + m->len, p, len);
	m->len += len;
	m->buf[m->len] = '\0';
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct jobs_model *m = arg;
	size_t len = size * n;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
		m->retry_after = -1;
	else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		m->retry_after = jobs_http_retry_after(p + 12, len - 12);
	return len;
}

int
jobs_model_open(struct jobs_model **out, const struct jobs_model_config *cfg,
    struct jobs_err *err)
{
	struct jobs_model *m = NULL;
	struct curl_slist *l;
	char *auth = NULL;
	size_t n;
	int rc = -1;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return jobs_err_set(err, JOBS_ETEMP, "unable to start libcurl");
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto oom;
	m->cfg = cfg;
	if ((m->h = curl_easy_init()) == NULL) {
		jobs_err_set(err, JOBS_ETEMP, "unable to start libcurl");
		goto out;
	}
	/* Expect: none, so a long prompt does not wait for 100 Continue. */
	if ((l = curl_slist_append(NULL, "Content-Type: application/json")) == NULL)
		goto oom;
	m->hdrs = l;
	if ((l = curl_slist_append(m->hdrs, "Accept: application/json")) == NULL ||
	    (l = curl_slist_append(m->hdrs, "Expect:")) == NULL)
		goto oom;
	if (cfg->key[0] != '\0') {
		n = strlen(cfg->key) + sizeof("Authorization: Bearer ");
		if ((auth = malloc(n)) == NULL)
			goto oom;
		snprintf(auth, n, "Authorization: Bearer %s", cfg->key);
		l = curl_slist_append(m->hdrs, auth);
		memset(auth, 0, n);
		if (l == NULL)
			goto oom;
	}
	*out = m;
	m = NULL;
	rc = 0;
	goto out;
oom:
	jobs_err_set(err, JOBS_ETEMP, "out of memory");
out:
	free(auth);
	if (m != NULL) {
		jobs_model_close(m);
		return rc;
	}
	if (rc < 0)
		curl_global_cleanup();
	return rc;
}

void
jobs_model_close(struct jobs_model *m)
{
	if (m == NULL)
		return;
	curl_easy_cleanup(m->h);
	curl_slist_free_all(m->hdrs);
	free(m->buf);
	free(m);
	curl_global_cleanup();
}

/* Fill a->error: one line, no controls, no registered secret. */
static void set_error(struct jobs_model_answer *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_error(struct jobs_model_answer *a, const char *fmt, ...)
{
	char msg[512], *r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((r = jobs_secret_redact(msg)) == NULL) {
		snprintf(a->error, sizeof(a->error), "out of memory");
		return;
	}
	jobs_text_clean(r, strlen(r), a->error, sizeof(a->error), 0);
	free(r);
}

/* valid UTF-8, no controls but tab, CR and LF: 1 */
static int
printable(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	unsigned c;

	while (i < n) {
		c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 :
		    c >= 0xf0 && c <= 0xf4 ? 3 : 0;
		if (need == 0)
			return 0;
		for (k = 1; k <= need; k++)
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return 0;
		/* C1 controls, overlong and surrogate forms */
		if ((c == 0xc2 && s[i + 1] < 0xa0) || (c == 0xe0 && s[i + 1] < 0xa0) ||
		    (c == 0xed && s[i + 1] >= 0xa0) || (c == 0xf0 && s[i + 1] < 0x90) ||
		    (c == 0xf4 && s[i + 1] >= 0x90))
			return 0;
		i += need + 1;
	}
	return 1;
}

enum jobs_model_result
jobs_model_parse(const char *body, size_t len, size_t max_reply, char **reply,
    char *error, size_t size)
{
	const cJSON *choices, *first, *msg, *content;
	cJSON *root = NULL;
	const char *s, *e;
	enum jobs_model_result r = JOBS_MODEL_PERMANENT;
	const char *why = NULL;
	size_t n;

	*reply = NULL;
	error[0] = '\0';
	if (body == NULL || len == 0) {
		why = "an empty answer";
		goto out;
	}
	if ((root = cJSON_ParseWithLength(body, len)) == NULL) {
		why = "an answer that is not JSON";
		goto out;
	}
	choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	first = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
	msg = cJSON_IsObject(first) ? cJSON_GetObjectItemCaseSensitive(first,
	    "message") : NULL;
	content = cJSON_IsObject(msg) ? cJSON_GetObjectItemCaseSensitive(msg,
	    "content") : NULL;
	if (!cJSON_IsObject(root) || !cJSON_IsString(content) ||
	    content->valuestring == NULL) {
		why = "an answer without choices[0].message.content";
		goto out;
	}
	s = content->valuestring;
	e = s + strlen(s);
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		e--;
	n = (size_t)(e - s);
	if (n == 0) {
		why = "an empty reply";
		goto out;
	}
	if (n > max_reply) {
		snprintf(error, size, "a reply of %zu bytes, more than max_reply"
		    " (%zu)", n, max_reply);
		goto out;
	}
	if (!printable((const unsigned char *)s, n)) {
		why = "a reply with control characters or invalid UTF-8";
		goto out;
	}
	if ((*reply = malloc(n + 1)) == NULL) {
		why = "out of memory";
		r = JOBS_MODEL_RETRY;
		goto out;
	}
	memcpy(*reply, s, n);
	(*reply)[n] = '\0';
	r = JOBS_MODEL_OK;
out:
	if (why != NULL)
		snprintf(error, size, "%s", why);
	cJSON_Delete(root);
	return r;
}

/* The request body: {"model", "messages": [system, user]}; NULL: no memory. */
static char *
request_body(const char *model, const char *system, const char *user)
{
	cJSON *o = cJSON_CreateObject(), *msgs, *m;
	char *body = NULL;

	if (o == NULL || cJSON_AddStringToObject(o, "model", model) == NULL ||
	    (msgs = cJSON_AddArrayToObject(o, "messages")) == NULL)
		goto out;
	if ((m = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(msgs, m) ||
	    cJSON_AddStringToObject(m, "role", "system") == NULL ||
	    cJSON_AddStringToObject(m, "content", system) == NULL)
		goto out;
	if ((m = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(msgs, m) ||
	    cJSON_AddStringToObject(m, "role", "user") == NULL ||
	    cJSON_AddStringToObject(m, "content", user) == NULL)
		goto out;
	body = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return body;
}

/* What an error answer says about itself: OpenAI's error.message, if any. */
static void
error_detail(const struct jobs_model *m, char *out, size_t size)
{
	const cJSON *e, *msg;
	cJSON *root;

	out[0] = '\0';
	if (m->buf == NULL || m->len == 0 ||
	    (root = cJSON_ParseWithLength(m->buf, m->len)) == NULL)
		return;
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	msg = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") :
	    e;
	if (cJSON_IsString(msg) && msg->valuestring != NULL)
		snprintf(out, size, ": %.100s", msg->valuestring);
	cJSON_Delete(root);
}

static void
classify(struct jobs_model *m, CURLcode cc, struct jobs_model_answer *a)
{
	long s = a->status;
	char detail[112];

	if (cc == CURLE_OK && s >= 200 && s < 300) {
		a->result = jobs_model_parse(m->buf, m->len, m->cfg->max_reply,
		    &a->reply, a->error, sizeof(a->error));
		if (a->result != JOBS_MODEL_OK)
			set_error(a, "HTTP %ld with %s", s, a->error);
		return;
	}
	if (cc == CURLE_OK) {
		a->result = jobs_http_retryable(s) ? JOBS_MODEL_RETRY :
		    JOBS_MODEL_PERMANENT;
		if ((s == 429 || s == 503) && m->retry_after >= 0)
			a->retry_after_s = m->retry_after;
		error_detail(m, detail, sizeof(detail));
		if (a->retry_after_s >= 0)
			set_error(a, "HTTP %ld (retry after %lld s)%s", s,
			    (long long)a->retry_after_s, detail);
		else
			set_error(a, "HTTP %ld%s", s, detail);
		return;
	}
	if (cc == CURLE_WRITE_ERROR && m->capped) {
		/* A 5xx stays worth retrying however much it says. */
		a->result = s != 0 && jobs_http_retryable(s) ? JOBS_MODEL_RETRY :
		    JOBS_MODEL_PERMANENT;
		set_error(a, "an answer larger than %zu bytes: transfer cut (HTTP"
		    " %ld)", m->cfg->max_response, s);
		return;
	}
	if (cc == CURLE_WRITE_ERROR) {
		a->result = JOBS_MODEL_RETRY;
		set_error(a, "out of memory reading the answer");
		return;
	}
	if (jobs_http_tls_error(cc) || cc == CURLE_UNSUPPORTED_PROTOCOL ||
	    cc == CURLE_URL_MALFORMAT) {
		a->result = JOBS_MODEL_PERMANENT;
		set_error(a, "%s", jobs_http_reason(m->errbuf, cc));
		return;
	}
	/* Timeouts, refused or reset connections, DNS: maybe later. */
	a->result = JOBS_MODEL_RETRY;
	set_error(a, "%s", jobs_http_reason(m->errbuf, cc));
}

enum jobs_model_result
jobs_model_ask(struct jobs_model *m, const char *system, const char *user,
    int64_t timeout_ms, struct jobs_model_answer *a)
{
	const struct jobs_model_config *cfg = m->cfg;
	char *body;
	CURLcode cc;
	CURL *h = m->h;

	memset(a, 0, sizeof(*a));
	a->retry_after_s = -1;
	if (timeout_ms <= 0 || timeout_ms > cfg->timeout_ms)
		timeout_ms = cfg->timeout_ms;
	if ((body = request_body(cfg->model, system, user)) == NULL) {
		a->result = JOBS_MODEL_RETRY;
		set_error(a, "out of memory");
		return a->result;
	}
	m->len = 0;
	m->capped = 0;
	m->retry_after = -1;
	if (m->buf != NULL)
		m->buf[0] = '\0';
	/* A reset handle keeps its connections: keep-alive across items. */
	curl_easy_reset(h);
	jobs_http_setup(h, m->errbuf, (long)(cfg->connect_timeout_ms < timeout_ms ?
	    cfg->connect_timeout_ms : timeout_ms), (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_URL, cfg->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, m->hdrs);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)m);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)m);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)cfg->max_response);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	if (cc == CURLE_FILESIZE_EXCEEDED) {
		m->capped = 1;
		cc = CURLE_WRITE_ERROR;
	}
	classify(m, cc, a);
	free(body);
	return a->result;
}
