/*
 * json.h - reading JSON that comes from outside (a venue's settings, a
 * row's header fields) with cJSON, telling a malformed text from a lack
 * of memory.  cJSON_Parse() answers NULL for both, but the first is the
 * input's fault (a usage error, a permanent failure) and the second is
 * temporary: it must never be reported as the first.
 */
#ifndef JOBS_JSON_H
#define JOBS_JSON_H

#include <stddef.h>

struct cJSON;

/*
 * Route cJSON's allocations through a counter of failures (cJSON's hooks
 * are global): once per process, before any thread starts; jobs_main()
 * does it.  Idempotent.
 */
void jobs_json_init(void);

/* How many of cJSON's allocations failed on this thread so far. */
unsigned long jobs_json_failures(void);

/*
 * Parse s (n bytes).  NULL when it is not JSON or memory ran out: *oom is
 * then 1 for the second, else 0.  The caller frees the result with
 * cJSON_Delete().  Thread-safe once jobs_json_init() has run.
 */
struct cJSON *jobs_json_parse_length(const char *s, size_t n, int *oom);

/* The same for a string. */
struct cJSON *jobs_json_parse(const char *s, int *oom);

#endif
