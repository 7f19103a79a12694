/*
 * jobs-enqueue - put a message in the outbox from a shell script: the body
 * from standard input, the destination as the operand.  Enqueueing the
 * same key twice is a no-op; the same key with another payload a conflict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "opts.h"
#include "outbox.h"
#include "spool.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

#define TRY_HELP "Try 'jobs-enqueue --help' for more information.\n"

static const char usage[] =
    "usage: jobs-enqueue [--key K] [--subject S] [--header 'K: V']... [--delay DUR]\n"
    "                    [--max-attempts N] [--priority N] [--ordering-key K]\n"
    "                    [--source S] [options] DEST < BODY\n";

enum {
	OPT_KEY = 0x300, OPT_SUBJECT, OPT_HEADER, OPT_DELAY, OPT_ATTEMPTS,
	OPT_PRIORITY, OPT_ORDERING, OPT_SOURCE,
};

static const struct jobs_opt enqueue_opts[] = {
	{ "key", 0, 1, OPT_KEY, NULL, "K", "idempotency key (default: a random one)" },
	{ "subject", 0, 1, OPT_SUBJECT, NULL, "S", "subject (email)" },
	{ "header", 0, 1, OPT_HEADER, NULL, "'K: V'", "a header field (repeatable)" },
	{ "delay", 0, 1, OPT_DELAY, NULL, "DUR", "send no sooner than DUR from now" },
	{ "max-attempts", 0, 1, OPT_ATTEMPTS, NULL, "N", "give up after N attempts" },
	{ "priority", 0, 1, OPT_PRIORITY, NULL, "N", "higher goes first" },
	{ "ordering-key", 0, 1, OPT_ORDERING, NULL, "K", "rows with K go in order" },
	{ "source", 0, 1, OPT_SOURCE, NULL, "S", "who enqueues (keys are per source)" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

struct args {
	struct jobs_outbox_msg m;
	cJSON *headers;
	int64_t delay_ms;
};

static int
number(const char *s, long min, long max, long *v, const char *what,
    struct jobs_err *err)
{
	char *end;

	*v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || *v < min || *v > max)
		return jobs_err_set(err, JOBS_EUSAGE, "bad %s '%.40s': want %ld to %ld",
		    what, s, min, max);
	return 0;
}

static int
handle(void *arg, int val, const char *v, struct jobs_err *err)
{
	struct args *a = arg;
	const char *colon;
	char name[128];
	long n;

	switch (val) {
	case OPT_KEY: a->m.key = v; return 0;
	case OPT_SUBJECT: a->m.subject = v; return 0;
	case OPT_ORDERING: a->m.ordering_key = v; return 0;
	case OPT_SOURCE: a->m.source = v; return 0;
	case OPT_DELAY: return jobs_clock_parse_duration(v, &a->delay_ms, err);
	case OPT_ATTEMPTS:
		if (number(v, 1, 1000, &n, "--max-attempts", err) < 0)
			return -1;
		a->m.max_attempts = (int)n;
		return 0;
	case OPT_PRIORITY:
		if (number(v, -1000000, 1000000, &n, "--priority", err) < 0)
			return -1;
		a->m.priority = (int)n;
		return 0;
	case OPT_HEADER:
		if ((colon = strchr(v, ':')) == NULL || colon == v ||
		    (size_t)(colon - v) >= sizeof(name))
			return jobs_err_set(err, JOBS_EUSAGE, "bad --header '%.60s':"
			    " want 'Name: value'", v);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - v), v);
		for (colon++; *colon == ' ' || *colon == '\t'; colon++)
			;
		if (a->headers == NULL)
			a->headers = cJSON_CreateObject();
		cJSON_DeleteItemFromObjectCaseSensitive(a->headers, name);
		cJSON_AddStringToObject(a->headers, name, colon);
		return 0;
	}
	return -1;
}

/* All of standard input, at most max+1 bytes (so too much can be told). */
static char *
read_body(size_t max, size_t *len)
{
	char *buf = malloc(max + 2);
	size_t n;

	*len = 0;
	if (buf == NULL)
		return NULL;
	while (*len <= max && (n = fread(buf + *len, 1, max + 1 - *len, stdin)) > 0)
		*len += n;
	buf[*len] = '\0';
	return buf;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct jobs_opt_extra extra = { enqueue_opts, handle, &a };
	struct jobs_config config = { NULL, "" };
	struct jobs_opts opts;
	struct jobs_err err = { 0, "" };
	struct jobs_db *app = NULL;
	const char *spool_cfg = NULL;
	char root[4096], *body = NULL, *headers = NULL;
	int first, existing = 0, code = 0;
	int64_t id = 0;
	size_t len;

	memset(&a, 0, sizeof(a));
	if ((first = jobs_opts_parse(&opts, argc, argv, &extra, 0, &err)) < 0) {
		fprintf(stderr, "jobs-enqueue: %s\n" TRY_HELP, err.msg);
		code = JOBS_EUSAGE;
		goto out;
	}
	if (opts.help) {
		char help[8192];

		jobs_opts_help(&extra, help, sizeof(help));
		printf("%sPut a message in the outbox; the body comes on standard"
		    " input.\n\n%s", usage, help);
		goto out;
	}
	if (opts.version) {
		printf("jobs-enqueue %s\n", JOBS_VERSION);
		goto out;
	}
	if (first != argc - 1) {
		fprintf(stderr, "jobs-enqueue: %s\n" TRY_HELP, first >= argc ?
		    "missing DEST" : "one DEST only");
		code = JOBS_EUSAGE;
		goto out;
	}
	a.m.destination = argv[first];
	if (jobs_clock_init(opts.now, &err) < 0 ||
	    jobs_config_load(&config, opts.config, opts.config_explicit, &err) < 0 ||
	    jobs_config_string(config.root, "spool_dir", &spool_cfg, &err) < 0 ||
	    jobs_spool_root(spool_cfg, opts.db, root, sizeof(root), &err) < 0) {
		fprintf(stderr, "jobs-enqueue: %s\n", err.msg);
		code = JOBS_EUSAGE;
		goto out;
	}
	if (a.headers && (headers = cJSON_PrintUnformatted(a.headers)) == NULL) {
		fprintf(stderr, "jobs-enqueue: out of memory\n");
		code = JOBS_ETEMP;
		goto out;
	}
	a.m.headers = headers;
	if (a.delay_ms > 0)
		a.m.not_before = (jobs_clock_now_ms() + a.delay_ms + 999) / 1000;
	/* Check what can be checked before reading the body or opening files. */
	a.m.body = "";
	if (jobs_outbox_check(&a.m, root, &err) < 0) {
		fprintf(stderr, "jobs-enqueue: %s\n", err.msg);
		code = JOBS_EUSAGE;
		goto out;
	}
	if (isatty(STDIN_FILENO) && !opts.quiet)
		fprintf(stderr, "jobs-enqueue: reading the body from the terminal"
		    " (end with ^D)\n");
	if ((body = read_body(JOBS_OUTBOX_BODY_MAX, &len)) == NULL) {
		fprintf(stderr, "jobs-enqueue: out of memory\n");
		code = JOBS_ETEMP;
		goto out;
	}
	if (len > JOBS_OUTBOX_BODY_MAX || memchr(body, '\0', len) != NULL) {
		fprintf(stderr, "jobs-enqueue: %s\n", len > JOBS_OUTBOX_BODY_MAX ?
		    "body larger than 256 KiB" : "body holds a NUL byte: want text");
		code = JOBS_EUSAGE;
		goto out;
	}
	a.m.body = body;
	if (jobs_db_open(&app, opts.app_db, JOBS_DB_APP, JOBS_DB_CREATE |
	    JOBS_DB_MIGRATE, &err) < 0) {
		fprintf(stderr, "jobs-enqueue: unable to open application database:"
		    " %s\n", err.msg);
		code = err.code == JOBS_EUSAGE ? JOBS_EUSAGE : JOBS_ETEMP;
		goto out;
	}
	if (jobs_outbox_enqueue(app, &a.m, root, jobs_clock_now_ms() / 1000, &id,
	    &existing, &err) < 0) {
		fprintf(stderr, "jobs-enqueue: %s\n", err.msg);
		code = err.code == JOBS_EFAIL ? JOBS_EFAIL : err.code == JOBS_EUSAGE ?
		    JOBS_EUSAGE : JOBS_ETEMP;
		goto out;
	}
	if (opts.json)
		printf("{\"id\":%lld,\"existing\":%s}\n", (long long)id,
		    existing ? "true" : "false");
	else if (opts.level <= JOBS_INFO)
		printf("%lld%s\n", (long long)id, existing ? " (already queued)" : "");
out:
	jobs_db_close(app);
	jobs_config_free(&config);
	cJSON_Delete(a.headers);
	free(headers);
	free(body);
	return code;
}
