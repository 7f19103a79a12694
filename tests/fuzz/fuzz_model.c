/*
 * fuzz_model.c - libFuzzer target for reading a model endpoint's answer
 * (jobs_model_parse, lib/model.c): the endpoint is outside the toolkit,
 * so no body, however hostile, may crash the parser; an answer taken is a
 * non-empty string of valid UTF-8 without control characters other than
 * tab and newlines, within the size cap, trimmed; a refusal always says
 * why, in one line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_model: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

/* Valid UTF-8 without C0 controls but tab and newlines, nor DEL. */
static void
check_reply(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, k;

		if (c < 0x80) {
			CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
			CHECK(c != 0x7f);
			i++;
			continue;
		}
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		CHECK(c >= 0xc2 && c <= 0xf4);
		CHECK(i + len <= n);
		for (k = 1; k < len; k++)
			CHECK((s[i + k] & 0xc0) == 0x80);
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 1, 16, 4096 };
	char error[256], *reply;
	size_t i, n;
	enum jobs_model_result r;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		reply = NULL;
		memset(error, 'x', sizeof(error));
		r = jobs_model_parse((const char *)data, size, caps[i], &reply,
		    error, sizeof(error));
		if (r == JOBS_MODEL_OK) {
			CHECK(reply != NULL);
			n = strlen(reply);
			CHECK(n > 0 && n <= caps[i]);
			CHECK(reply[0] != ' ' && reply[n - 1] != ' ');
			check_reply((const unsigned char *)reply, n);
			free(reply);
		} else {
			CHECK(reply == NULL);
			CHECK(memchr(error, '\0', sizeof(error)) != NULL);
			CHECK(error[0] != '\0');
			CHECK(strchr(error, '\n') == NULL);
		}
	}
	return 0;
}
