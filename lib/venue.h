/*
 * venue.h - a venue's settings and the alert levels of the feedback
 * pipeline (jobs-alerts, jobs-stats, jobs-respond, jobs-report).
 *
 * venues.settings is a JSON object an application writes; absent keys take
 * the conservative default (nothing is generated or sent unless the venue
 * turns it on).  See jobs-schema(5).
 */
#ifndef JOBS_VENUE_H
#define JOBS_VENUE_H

#include <stdint.h>

struct cJSON;
struct jobs_db;
struct sqlite3_stmt;
struct jobs_err;

/* Alert levels, lowest first, so that a >= b means "at least as severe". */
enum jobs_venue_level {
	JOBS_ALERT_INFO = 0,
	JOBS_ALERT_LOW,
	JOBS_ALERT_MEDIUM,
	JOBS_ALERT_HIGH,
	JOBS_ALERT_CRITICAL
};

/* "critical", "high", ... for a level; "info" for anything out of range. */
const char *jobs_venue_level_name(int level);

/* The level named s (exact, lowercase), or -1. */
int jobs_venue_level_parse(const char *s);

#define JOBS_VENUE_URL_MAX 2048

struct jobs_venue_settings {
	int ai_generation_enabled;	/* false */
	int auto_generate_responses;	/* false */
	int auto_send_enabled;		/* false */
	int64_t auto_send_delay_minutes;	/* 30 */
	int require_approval;		/* true */
	int notify_level;		/* enum jobs_venue_level: JOBS_ALERT_HIGH */
	char notify_webhook[JOBS_VENUE_URL_MAX];	/* "" when none */
};

/* The defaults above. */
void jobs_venue_settings_default(struct jobs_venue_settings *s);

/*
 * Parse a venue's settings (NULL or "" is {}): the defaults, then each key
 * present.  Booleans are true/false (or 0/1), the delay a whole number of
 * minutes >= 0, notify_level a level name, notify_webhook an http(s) URL or
 * null.  Unknown keys are ignored (the application may keep its own there).
 * 0, or -1 with err naming the bad key (JOBS_EUSAGE; JOBS_ETEMP when
 * memory ran out, which says nothing of the settings); *s then holds the
 * defaults.
 */
int jobs_venue_settings_parse(const char *json, struct jobs_venue_settings *s,
    struct jobs_err *err);

/* A venue as the statistics and reports read it. */
struct jobs_venue {
	int64_t id;
	char *name;		/* as stored: untrusted text */
	char *timezone;		/* IANA name, unchecked */
	char *manager_email;	/* NULL when none (or empty) */
};

/*
 * Read the venues, by id: only the one with id only when only > 0, at
 * most limit when limit >= 0.  *v holds *n of them (none: NULL, 0); the
 * caller frees them with jobs_venue_free().  0, or -1 with err.
 */
int jobs_venue_list(struct jobs_db *app, int64_t only, long limit,
    struct jobs_venue **v, size_t *n, struct jobs_err *err);

/* Free v[0..n) and the array; accepts NULL. */
void jobs_venue_free(struct jobs_venue *v, size_t n);

/*
 * Add item (always taken) to the metrics object obj under the venue's id,
 * unless obj already has max members: then count it in *omitted and drop
 * it, so a run's record stays small with many venues.  0, or -1 when out
 * of memory.
 */
int jobs_venue_metric(struct cJSON *obj, int64_t id, struct cJSON *item,
    int max, int64_t *omitted);

/*
 * Add columns 0..n-1 of the row st stands on to o as numbers named
 * names[i], SQL NULL as JSON null (an average of nothing is null, never
 * NaN).  0, or -1 when out of memory.
 */
int jobs_venue_numbers(struct cJSON *o, struct sqlite3_stmt *st,
    const char *const *names, int n);

#endif
