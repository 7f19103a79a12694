/*
 * fuzz_config.c - libFuzzer target for the JSON configuration
 * (lib/config.c): any bytes are either a configuration whose values read
 * back as the types they claim, or one clean one-line error; nothing
 * crashes, leaks or prints a control character.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_config: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jobs_config c;
	struct jobs_err err = { 0, "" };
	const cJSON *job, *jobs;
	int64_t v;
	size_t i;

	if (size > 65536)
		return 0;
	if (jobs_config_parse(&c, (const char *)data, size, "fuzz.json", &err) < 0) {
		CHECK(err.code == JOBS_EUSAGE);
		for (i = 0; err.msg[i]; i++)
			CHECK(((unsigned char)err.msg[i] >= 0x20 || err.msg[i] == '\t') &&
			    (unsigned char)err.msg[i] != 0x7f);
		CHECK(c.root == NULL);
		return 0;
	}
	/* Whatever validated reads back without surprises. */
	CHECK(jobs_config_duration(jobs_config_section(&c, "retention"),
	    "executions", &v, &err) >= 0);
	CHECK(jobs_config_count(jobs_config_section(&c, "retention"),
	    "executions_min", &v, &err) >= 0);
	if ((jobs = jobs_config_section(&c, "jobs")) != NULL)
		cJSON_ArrayForEach(job, jobs) {
			CHECK(jobs_config_job(&c, job->string) != NULL);
			CHECK(jobs_config_duration(job, "timeout", &v, &err) >= 0);
			CHECK(jobs_config_duration(job, "grace", &v, &err) >= 0);
		}
	jobs_config_free(&c);
	return 0;
}
