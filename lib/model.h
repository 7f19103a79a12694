/*
 * model.h - a client for an OpenAI-compatible chat-completions endpoint
 * (the "model endpoint" of jobs-config(5)), for the jobs that draft text
 * with a model (jobs-respond first).
 *
 * One request: POST {"model", "messages": [system, user]} as JSON, the
 * reply read from choices[0].message.content.  "Authorization: Bearer" is
 * sent only when a key is configured, and the key is never logged, never
 * in argv, never in an error message.  One libcurl handle per run, so
 * connections are kept alive from one item to the next.  The endpoint is
 * the operator's configuration, trusted as the SMTP server is: the request
 * forgery guard for row destinations does not apply, but only http:// and
 * https:// are spoken, redirects are not followed, the answer is capped,
 * and no proxy is taken from the environment.
 *
 * Programs that call jobs_model_open() or jobs_model_ask() link libcurl.
 */
#ifndef JOBS_MODEL_H
#define JOBS_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct jobs_config;
struct jobs_err;

#define JOBS_MODEL_URL_MAX	2048
#define JOBS_MODEL_KEY_MAX	4096
#define JOBS_MODEL_RESPONSE_MAX	(1024 * 1024)	/* bytes of answer read */
#define JOBS_MODEL_REPLY_MAX	(256 * 1024)	/* the largest max_reply */

/* What the model section of the config says, after the environment. */
struct jobs_model_config {
	char url[JOBS_MODEL_URL_MAX];	/* "" when no endpoint is configured */
	char model[256];		/* the name sent: "gpt-4o-mini" */
	char key[JOBS_MODEL_KEY_MAX];	/* "" when none: no Authorization */
	char host[256];			/* the URL's host[:port]: breakers, limits */
	int64_t timeout_ms;		/* a whole request: 60 s */
	int64_t connect_timeout_ms;	/* 10 s, or the timeout when shorter */
	size_t max_reply;		/* bytes of content accepted: 4096 */
	size_t max_response;		/* bytes of answer read: 1 MiB */
};

/*
 * Read the model section of c (NULL: no file), with the environment first:
 * JOBS_MODEL_URL over model.url, JOBS_MODEL over model.model,
 * JOBS_MODEL_KEY over the file model.api_key_file (which must be 0600 or
 * stricter, jobs_config_secret()).  Everything is checked: an http(s) URL
 * without user:password@, a timeout from 1 s to 10 min, max_reply from 1
 * to JOBS_MODEL_REPLY_MAX, a key without control characters.  The key is
 * registered as a secret (jobs_secret_add()), so logs redact it.  Returns
 * 1 when an endpoint is configured, 0 when none is (m holds the defaults),
 * -1 with err (JOBS_EUSAGE; JOBS_ETEMP when a key file could not be read
 * for want of resources).
 */
int jobs_model_config_read(const struct jobs_config *c,
    struct jobs_model_config *m, struct jobs_err *err);

/* An open client: one libcurl handle and its buffers.  Opaque. */
struct jobs_model;

/*
 * Open a client for cfg (which must outlive it).  0 with *out set, or -1
 * with err (JOBS_ETEMP: libcurl or memory).  Close with jobs_model_close().
 */
int jobs_model_open(struct jobs_model **out, const struct jobs_model_config *cfg,
    struct jobs_err *err);

/* Close and free m; accepts NULL. */
void jobs_model_close(struct jobs_model *m);

enum jobs_model_result {
	JOBS_MODEL_OK = 0,	/* a reply */
	JOBS_MODEL_RETRY = 1,	/* 408, 425, 429, 5xx, timeouts, connection errors */
	JOBS_MODEL_PERMANENT = 2	/* other 4xx, a malformed, empty or oversize
				   answer, a TLS failure: asking again won't help */
};

/* One answer. */
struct jobs_model_answer {
	enum jobs_model_result result;
	char *reply;		/* OK: the content, trimmed; the caller frees it */
	long status;		/* HTTP status, 0 when none */
	int64_t retry_after_s;	/* from Retry-After on 429/503, -1 if none */
	char error[256];	/* one line, no secrets, no controls; "" when OK */
};

/*
 * Ask the model: system and user are the two messages' contents.
 * timeout_ms (> 0) caps this request below cfg->timeout_ms (the run's
 * time left).  Fills a (a->reply NULL unless OK) and returns a->result.
 */
enum jobs_model_result jobs_model_ask(struct jobs_model *m, const char *system,
    const char *user, int64_t timeout_ms, struct jobs_model_answer *a);

/*
 * Read a chat-completions answer (len bytes at body): OK with *reply (a
 * new string, surrounding blanks trimmed, the caller frees it) when
 * choices[0].message.content is a non-empty string of valid UTF-8 without
 * control characters other than tab and newlines, at most max_reply bytes;
 * otherwise PERMANENT with a one-line reason in error (size bytes).  No
 * I/O: jobs_model_ask() uses it, and so can a test.
 */
enum jobs_model_result jobs_model_parse(const char *body, size_t len,
    size_t max_reply, char **reply, char *error, size_t size);

#endif
