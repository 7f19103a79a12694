#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"
#include "json.h"
#include "venue.h"

static const char *const level_names[] = { "info", "low", "medium", "high",
    "critical" };

const char *
jobs_venue_level_name(int level)
{
	if (level < JOBS_ALERT_INFO || level > JOBS_ALERT_CRITICAL)
		return "info";
	return level_names[level];
}

int
jobs_venue_level_parse(const char *s)
{
	int i;

	for (i = JOBS_ALERT_INFO; s && i <= JOBS_ALERT_CRITICAL; i++)
		if (strcmp(level_names[i], s) == 0)
			return i;
	return -1;
}

void
jobs_venue_settings_default(struct jobs_venue_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->auto_send_delay_minutes = 30;
	s->require_approval = 1;
	s->notify_level = JOBS_ALERT_HIGH;
}

/* A boolean key: 1 set, 0 absent or null, -1 wrong type. */
static int
boolean(const cJSON *o, const char *key, int *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsBool(it))
		*v = cJSON_IsTrue(it);
	else if (cJSON_IsNumber(it) && (it->valuedouble == 0 || it->valuedouble == 1))
		*v = it->valuedouble == 1;
	else
		return -1;
	return 1;
}

static int
bad(struct jobs_venue_settings *s, struct jobs_err *err, const char *what)
{
	jobs_venue_settings_default(s);
	return jobs_err_set(err, JOBS_EUSAGE, "settings: %s", what);
}

int
jobs_venue_settings_parse(const char *json, struct jobs_venue_settings *s,
    struct jobs_err *err)
{
	static const struct { const char *key; size_t off; } flags[] = {
		{ "ai_generation_enabled",
		    offsetof(struct jobs_venue_settings, ai_generation_enabled) },
		{ "auto_generate_responses",
		    offsetof(struct jobs_venue_settings, auto_generate_responses) },
		{ "auto_send_enabled",
		    offsetof(struct jobs_venue_settings, auto_send_enabled) },
		{ "require_approval",
		    offsetof(struct jobs_venue_settings, require_approval) },
	};
	const cJSON *it;
	cJSON *o;
	size_t i;
	int rc = -1, oom;

	jobs_venue_settings_default(s);
	if (json == NULL || *json == '\0')
		return 0;
	if ((o = jobs_json_parse(json, &oom)) == NULL) {
		if (oom)
			return jobs_err_set(err, JOBS_ETEMP, "out of memory");
		return bad(s, err, "not valid JSON");
	}
	if (!cJSON_IsObject(o)) {
		bad(s, err, "want a JSON object");
		goto out;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (boolean(o, flags[i].key, (int *)(void *)((char *)s +
		    flags[i].off)) < 0) {
			jobs_venue_settings_default(s);
			jobs_err_set(err, JOBS_EUSAGE, "settings: %s: want true or"
			    " false", flags[i].key);
			goto out;
		}
	it = cJSON_GetObjectItemCaseSensitive(o, "auto_send_delay_minutes");
	if (it && !cJSON_IsNull(it)) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
		    it->valuedouble > 525600 ||
		    it->valuedouble != (double)(int64_t)it->valuedouble) {
			bad(s, err, "auto_send_delay_minutes: want whole minutes,"
			    " 0 to 525600");
			goto out;
		}
		s->auto_send_delay_minutes = (int64_t)it->valuedouble;
	}
	it = cJSON_GetObjectItemCaseSensitive(o, "notify_level");
	if (it && !cJSON_IsNull(it)) {
		int l = cJSON_IsString(it) ? jobs_venue_level_parse(it->valuestring) : -1;

		if (l < 0) {
			bad(s, err, "notify_level: want critical, high, medium, low"
			    " or info");
			goto out;
		}
		s->notify_level = l;
	}
	it = cJSON_GetObjectItemCaseSensitive(o, "notify_webhook");
	if (it && !cJSON_IsNull(it) && !(cJSON_IsString(it) &&
	    *it->valuestring == '\0')) {
		const char *u = cJSON_IsString(it) ? it->valuestring : "";

		if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
		    strlen(u) >= sizeof(s->notify_webhook)) {
			bad(s, err, "notify_webhook: want an http:// or https:// URL");
			goto out;
		}
		memcpy(s->notify_webhook, u, strlen(u) + 1);
	}
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

/* A column as a new string; *s NULL for SQL NULL.  -1 when out of memory. */
static int
column_dup(sqlite3_stmt *st, int i, char **s)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	*s = NULL;
	if (v == NULL)
		return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : -1;
	return (*s = strdup((const char *)v)) == NULL ? -1 : 0;
}

int
jobs_venue_list(struct jobs_db *app, int64_t only, long limit,
    struct jobs_venue **v, size_t *n, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	struct jobs_venue *all = NULL, *more, *it;
	size_t count = 0, cap = 0;
	int step, rc = -1;

	*v = NULL;
	*n = 0;
	if (jobs_db_prepare(app, "SELECT id, name, timezone, nullif(manager_email,"
	    " '') FROM venues WHERE ?1 <= 0 OR id = ?1 ORDER BY id LIMIT ?2", &st,
	    err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, only);
	sqlite3_bind_int64(st, 2, limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			if ((more = realloc(all, cap * sizeof(*all))) == NULL)
				goto oom;
			all = more;
		}
		it = &all[count];
		memset(it, 0, sizeof(*it));
		count++;
		it->id = sqlite3_column_int64(st, 0);
		if (column_dup(st, 1, &it->name) < 0 ||
		    column_dup(st, 2, &it->timezone) < 0 ||
		    column_dup(st, 3, &it->manager_email) < 0)
			goto oom;
	}
	if (step != SQLITE_DONE) {
		jobs_db_fail(app, "unable to read venues from", err);
		goto out;
	}
	*v = all;
	*n = count;
	all = NULL;
	count = 0;
	rc = 0;
	goto out;
oom:
	jobs_err_set(err, JOBS_ETEMP, "out of memory");
out:
	sqlite3_finalize(st);
	jobs_venue_free(all, count);
	return rc;
}

void
jobs_venue_free(struct jobs_venue *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].name);
		free(v[i].timezone);
		free(v[i].manager_email);
	}
	free(v);
}

int
jobs_venue_metric(cJSON *obj, int64_t id, cJSON *item, int max,
    int64_t *omitted)
{
	char key[24];

	if (cJSON_GetArraySize(obj) >= max) {
		cJSON_Delete(item);
		(*omitted)++;
		return 0;
	}
	snprintf(key, sizeof(key), "%lld", (long long)id);
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

int
jobs_venue_numbers(cJSON *o, sqlite3_stmt *st, const char *const *names,
    int n)
{
	int i, ok;

	for (i = 0; i < n; i++) {
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			ok = cJSON_AddNullToObject(o, names[i]) != NULL;
		else
			ok = cJSON_AddNumberToObject(o, names[i],
			    sqlite3_column_double(st, i)) != NULL;
		if (!ok)
			return -1;
	}
	return 0;
}
