/*
 * json.h - reading JSON that comes from outside (a venue's settings, a
 * row's header fields) with cJSON, telling a malformed text from a lack
 * of memory.  cJSON_Parse() answers NULL for both, but the first is the
 * input's fault (a usage error, a permanent failure) and the second is
 * temporary: it must never be reported as the first.
 */
#ifndef JOBS_JSON_H
#define JOBS_JSON_H

struct cJSON;

/*
 * Parse s.  NULL when it is not JSON or memory ran out: *oom is then 1
 * for the second, else 0.  The caller frees the result with cJSON_Delete().
 * Thread-safe.
 */
struct cJSON *jobs_json_parse(const char *s, int *oom);

#endif
