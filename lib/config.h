/*
 * config.h - the JSON configuration file (jobs-config(5)).
 *
 * Absent is fine unless it was named explicitly.  The whole file is
 * validated on load: unknown top-level keys, wrong types and bad durations
 * are configuration errors (exit 2), never silently ignored.
 */
#ifndef JOBS_CONFIG_H
#define JOBS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct jobs_err;

struct jobs_config {
	struct cJSON *root;	/* owned; NULL when there is no file */
	char digest[17];	/* FNV-1a 64 of the file's bytes, hex; "" if none */
};

/*
 * Load path into c.  A missing file is an error only when explicit is set.
 * 0 or -1 with err (JOBS_EUSAGE; JOBS_ETEMP when out of memory or of file
 * descriptors).  Free with jobs_config_free().
 */
int jobs_config_load(struct jobs_config *c, const char *path, int explicit,
    struct jobs_err *err);

/*
 * The same from n bytes at buf (named path in messages): what load does
 * once it has read the file.  0 or -1 with err.
 */
int jobs_config_parse(struct jobs_config *c, const char *buf, size_t n,
    const char *path, struct jobs_err *err);

void jobs_config_free(struct jobs_config *c);

/*
 * A secret: the environment variable env when set, else the file named by
 * section.key in the config, which must be a regular file readable by its
 * owner only (0600 or stricter).  A trailing newline is dropped.  Returns
 * 1 with buf filled, 0 when neither is set, -1 with err.
 */
int jobs_config_secret(const struct jobs_config *c, const char *env,
    const char *section, const char *key, char *buf, size_t size,
    struct jobs_err *err);

/* The object for one section ("retention") or NULL. */
const struct cJSON *jobs_config_section(const struct jobs_config *c,
    const char *name);

/* The per-job object jobs.<job> or NULL. */
const struct cJSON *jobs_config_job(const struct jobs_config *c, const char *job);

/*
 * Read a duration (a string like "90s" or a number of seconds) at key in
 * obj.  Returns 1 and sets *ms when present, 0 when absent (NULL obj too),
 * -1 with err when malformed.
 */
int jobs_config_duration(const struct cJSON *obj, const char *key, int64_t *ms,
    struct jobs_err *err);

/* Read a non-negative whole number; same returns. */
int jobs_config_count(const struct cJSON *obj, const char *key, int64_t *n,
    struct jobs_err *err);

/*
 * Read a whole number that must lie in [min, max] at key of the section
 * named section (for the message: "config: delivery.batch: want a whole
 * number from 1 to 10000"); same returns.
 */
int jobs_config_within(const struct cJSON *obj, const char *section,
    const char *key, int64_t min, int64_t max, int64_t *n, struct jobs_err *err);

/* Read a string; same returns (*s points into the config). */
int jobs_config_string(const struct cJSON *obj, const char *key, const char **s,
    struct jobs_err *err);

#endif
