#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "err.h"
#include "json.h"
#include "text.h"

#define CONFIG_MAX (1024 * 1024)

/* Top-level keys this version knows; a typo is an error, not a default. */
static const char *const known_keys[] = { "retention", "jobs", "spool_dir",
    "smtp", "webhook", "allow_networks", "delivery", "alerts", "model",
    "respond", NULL };

static int
known(const char *key)
{
	int i;

	for (i = 0; known_keys[i]; i++)
		if (strcmp(known_keys[i], key) == 0)
			return 1;
	return 0;
}

static void
digest(const char *buf, size_t n, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)buf[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* A key from the file, fit to quote in a one-line message. */
static const char *
safe(const char *key, char buf[64])
{
	return jobs_text_clean(key, strlen(key), buf, 64, 0);
}

static const char *const smtp_keys[] = { "url", "user", "password_file",
    "from", NULL };
static const char *const webhook_keys[] = { "secret_file", NULL };
static const char *const delivery_keys[] = { "timeout", "connect_timeout",
    "parallel", "per_host", "breaker_failures", "breaker_cooldown",
    "rate_limits", "batch", NULL };
/* The feedback pipeline: jobs-alerts, the model jobs-respond asks, jobs-respond. */
static const char *const alerts_keys[] = { "critical_keywords",
    "warning_keywords", "low_rating", "high_value", "repeat_count",
    "repeat_window", "disabled_rules", NULL };
static const char *const model_keys[] = { "url", "model", "api_key_file",
    "timeout", "max_reply", NULL };
static const char *const respond_keys[] = { "lookback", "rate_limit",
    "breaker_failures", "breaker_cooldown", "max_attempts", "prompt", NULL };

/* A section, if present, is an object of known keys. */
static int
section_keys(const struct jobs_config *c, const char *name,
    const char *const *keys, const char *path, struct jobs_err *err)
{
	const cJSON *s = jobs_config_section(c, name), *it;
	char a[64];
	int i;

	if (s == NULL)
		return 0;
	if (!cJSON_IsObject(s))
		return jobs_err_set(err, JOBS_EUSAGE, "config %s: %s: want an object",
		    path, name);
	cJSON_ArrayForEach(it, s) {
		for (i = 0; keys[i] && strcmp(keys[i], it->string) != 0; i++)
			;
		if (keys[i] == NULL)
			return jobs_err_set(err, JOBS_EUSAGE, "config %s: unknown key"
			    " %s.%s", path, name, safe(it->string, a));
	}
	return 0;
}

static int
validate(const struct jobs_config *c, const char *path, struct jobs_err *err)
{
	const cJSON *it, *job, *jobs;
	char a[64], b[64];
	int64_t v;

	if (!cJSON_IsObject(c->root))
		return jobs_err_set(err, JOBS_EUSAGE, "config %s: want a JSON object",
		    path);
	cJSON_ArrayForEach(it, c->root)
		if (!known(it->string))
			return jobs_err_set(err, JOBS_EUSAGE, "config %s: unknown key"
			    " '%s'", path, safe(it->string, a));
	if ((it = jobs_config_section(c, "retention")) != NULL) {
		const cJSON *r;

		if (!cJSON_IsObject(it))
			return jobs_err_set(err, JOBS_EUSAGE, "config %s: retention"
			    " must be an object", path);
		cJSON_ArrayForEach(r, it) {
			int rc;

			if (strcmp(r->string, "executions_min") == 0)
				rc = jobs_config_count(it, r->string, &v, err);
			else if (strcmp(r->string, "executions") == 0 ||
			    strcmp(r->string, "failures") == 0 ||
			    strcmp(r->string, "logs") == 0 ||
			    strcmp(r->string, "skipped") == 0 ||
			    strcmp(r->string, "outbox") == 0 ||
			    strcmp(r->string, "computed_stats") == 0)
				rc = jobs_config_duration(it, r->string, &v, err);
			else
				rc = jobs_err_set(err, JOBS_EUSAGE, "config %s: unknown"
				    " key retention.%s", path, safe(r->string, a));
			if (rc < 0)
				return -1;
		}
	}
	if ((it = jobs_config_section(c, "spool_dir")) && !cJSON_IsString(it))
		return jobs_err_set(err, JOBS_EUSAGE, "config %s: spool_dir: want a"
		    " path", path);
	if (section_keys(c, "smtp", smtp_keys, path, err) < 0 ||
	    section_keys(c, "webhook", webhook_keys, path, err) < 0 ||
	    section_keys(c, "delivery", delivery_keys, path, err) < 0 ||
	    section_keys(c, "alerts", alerts_keys, path, err) < 0 ||
	    section_keys(c, "model", model_keys, path, err) < 0 ||
	    section_keys(c, "respond", respond_keys, path, err) < 0)
		return -1;
	if ((it = jobs_config_section(c, "allow_networks")) && !cJSON_IsString(it) &&
	    !cJSON_IsArray(it))
		return jobs_err_set(err, JOBS_EUSAGE, "config %s: allow_networks: want"
		    " a list of CIDRs", path);
	if ((jobs = cJSON_GetObjectItemCaseSensitive(c->root, "jobs")) != NULL) {
		if (!cJSON_IsObject(jobs))
			return jobs_err_set(err, JOBS_EUSAGE, "config %s: jobs must be"
			    " an object of job names", path);
		cJSON_ArrayForEach(job, jobs) {
			const cJSON *k;

			if (!cJSON_IsObject(job))
				return jobs_err_set(err, JOBS_EUSAGE, "config %s: jobs.%s"
				    " must be an object", path, safe(job->string, a));
			cJSON_ArrayForEach(k, job)
				if (strcmp(k->string, "timeout") != 0 &&
				    strcmp(k->string, "grace") != 0)
					return jobs_err_set(err, JOBS_EUSAGE, "config %s:"
					    " unknown key jobs.%s.%s", path, safe(job->string, a),
					    safe(k->string, b));
			if (jobs_config_duration(job, "timeout", &v, err) < 0 ||
			    jobs_config_duration(job, "grace", &v, err) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * A failed open or read that says "later", not "fix the configuration":
 * out of memory, of descriptors, or a resource briefly unavailable.
 */
static int
temporary(int e)
{
	return e == ENOMEM || e == EMFILE || e == ENFILE || e == EAGAIN;
}

int
jobs_config_parse(struct jobs_config *c, const char *buf, size_t n,
    const char *path, struct jobs_err *err)
{
	int oom;

	memset(c, 0, sizeof(*c));
	digest(buf, n, c->digest);
	c->root = jobs_json_parse_length(buf, n, &oom);
	if (c->root == NULL && oom)
		return jobs_err_set(err, JOBS_ETEMP, "config %s: out of memory", path);
	if (c->root == NULL) {
		const char *at = cJSON_GetErrorPtr();
		int line = 1;
		const char *p;

		for (p = buf; at && p < at && p < buf + n; p++)
			line += *p == '\n';
		return jobs_err_set(err, JOBS_EUSAGE, "config %s: line %d: not valid"
		    " JSON", path, line);
	}
	if (validate(c, path, err) < 0) {
		jobs_config_free(c);
		return -1;
	}
	return 0;
}

int
jobs_config_load(struct jobs_config *c, const char *path, int explicit,
    struct jobs_err *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (path == NULL || path[0] == '\0')
		return 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !explicit)
			return 0;
		return jobs_err_set(err, temporary(errno) ? JOBS_ETEMP : JOBS_EUSAGE,
		    "unable to read config %s: %s", path, strerror(errno));
	}
	if ((buf = malloc(CONFIG_MAX + 1)) == NULL) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	n = fread(buf, 1, CONFIG_MAX + 1, f);
	if (ferror(f)) {
		jobs_err_set(err, temporary(errno) ? JOBS_ETEMP : JOBS_EUSAGE,
		    "unable to read config %s: %s", path, strerror(errno));
		goto out;
	}
	if (n > CONFIG_MAX) {
		jobs_err_set(err, JOBS_EUSAGE, "config %s: larger than 1 MiB", path);
		goto out;
	}
	rc = jobs_config_parse(c, buf, n, path, err);
out:
	if (rc < 0)
		jobs_config_free(c);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

void
jobs_config_free(struct jobs_config *c)
{
	if (c == NULL)
		return;
	cJSON_Delete(c->root);
	c->root = NULL;
}

const struct cJSON *
jobs_config_section(const struct jobs_config *c, const char *name)
{
	if (c == NULL || c->root == NULL)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(c->root, name);
}

const struct cJSON *
jobs_config_job(const struct jobs_config *c, const char *job)
{
	const cJSON *jobs = jobs_config_section(c, "jobs");

	return jobs ? cJSON_GetObjectItemCaseSensitive(jobs, job) : NULL;
}

int
jobs_config_duration(const struct cJSON *obj, const char *key, int64_t *ms,
    struct jobs_err *err)
{
	const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	if (it == NULL)
		return 0;
	if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
	    it->valuedouble < 100.0 * 365 * 86400) {
		*ms = (int64_t)(it->valuedouble * 1000);
		return 1;
	}
	if (cJSON_IsString(it)) {
		struct jobs_err e;

		if (jobs_clock_parse_duration(it->valuestring, ms, &e) == 0)
			return 1;
	}
	return jobs_err_set(err, JOBS_EUSAGE, "config: %s: want a duration such as"
	    " \"90s\", \"30d\" or a number of seconds", key);
}

int
jobs_config_count(const struct cJSON *obj, const char *key, int64_t *n,
    struct jobs_err *err)
{
	const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	if (it == NULL)
		return 0;
	if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 1e12 ||
	    it->valuedouble != (double)(int64_t)it->valuedouble)
		return jobs_err_set(err, JOBS_EUSAGE, "config: %s: want a whole"
		    " number", key);
	*n = (int64_t)it->valuedouble;
	return 1;
}

int
jobs_config_within(const struct cJSON *obj, const char *section,
    const char *key, int64_t min, int64_t max, int64_t *n, struct jobs_err *err)
{
	int64_t v = 0;
	int rc = jobs_config_count(obj, key, &v, err);

	if (rc < 0 || (rc == 1 && (v < min || v > max)))
		return jobs_err_set(err, JOBS_EUSAGE, "config: %s.%s: want a whole"
		    " number from %lld to %lld", section, key, (long long)min,
		    (long long)max);
	if (rc == 1)
		*n = v;
	return rc;
}

int
jobs_config_string(const struct cJSON *obj, const char *key, const char **s,
    struct jobs_err *err)
{
	const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	if (it == NULL)
		return 0;
	if (!cJSON_IsString(it))
		return jobs_err_set(err, JOBS_EUSAGE, "config: %s: want a string", key);
	*s = it->valuestring;
	return 1;
}

int
jobs_config_secret(const struct jobs_config *c, const char *env,
    const char *section, const char *key, char *buf, size_t size,
    struct jobs_err *err)
{
	const char *v = env ? getenv(env) : NULL, *path = NULL;
	struct stat sb;
	size_t n;
	FILE *f;
	int rc;

	if (v && *v) {
		if (strlen(v) >= size)
			return jobs_err_set(err, JOBS_EUSAGE, "%s is too long", env);
		snprintf(buf, size, "%s", v);
		return 1;
	}
	if ((rc = jobs_config_string(jobs_config_section(c, section), key, &path,
	    err)) <= 0)
		return rc;
	if ((f = fopen(path, "re")) == NULL)
		return jobs_err_set(err, temporary(errno) ? JOBS_ETEMP : JOBS_EUSAGE,
		    "unable to read %s.%s %s: %s", section, key, path, strerror(errno));
	if (fstat(fileno(f), &sb) < 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 077)) {
		fclose(f);
		return jobs_err_set(err, JOBS_EUSAGE, "%s.%s %s: want a regular file"
		    " readable by its owner only (chmod 600)", section, key, path);
	}
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return n > 0;
}
