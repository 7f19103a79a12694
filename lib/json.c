#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"

static _Thread_local unsigned long failures;
static pthread_once_t hooked = PTHREAD_ONCE_INIT;

static void *
counting_malloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		failures++;
	return p;
}

static void
hook(void)
{
	cJSON_Hooks h = { counting_malloc, free };

	cJSON_InitHooks(&h);
}

void
jobs_json_init(void)
{
	pthread_once(&hooked, hook);
}

unsigned long
jobs_json_failures(void)
{
	return failures;
}

cJSON *
jobs_json_parse_length(const char *s, size_t n, int *oom)
{
	unsigned long before = failures;
	cJSON *o;

	jobs_json_init();
	o = cJSON_ParseWithLength(s, n);
	*oom = o == NULL && failures != before;
	return o;
}

cJSON *
jobs_json_parse(const char *s, int *oom)
{
	return jobs_json_parse_length(s, strlen(s), oom);
}
