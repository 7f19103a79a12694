#include <pthread.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "json.h"

/* Set when an allocation of cJSON's fails on this thread. */
static _Thread_local int failed;
static pthread_once_t hooked = PTHREAD_ONCE_INIT;

static void *
counting_malloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		failed = 1;
	return p;
}

/* cJSON's allocator hooks are global: set once, for every parse after. */
static void
hook(void)
{
	cJSON_Hooks h = { counting_malloc, free };

	cJSON_InitHooks(&h);
}

cJSON *
jobs_json_parse(const char *s, int *oom)
{
	cJSON *o;

	pthread_once(&hooked, hook);
	failed = 0;
	o = cJSON_Parse(s);
	*oom = o == NULL && failed;
	return o;
}
