/*
 * fuzz_text.c - libFuzzer target for terminal rendering (lib/text.c): no
 * input, however hostile, may bring a control character, a C1 control, a
 * bidirectional override or invalid UTF-8 through jobs_text_clean, and the
 * output always fits and is terminated.  Redaction must leave no secret.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_text: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

static void
check_clean(const unsigned char *s, size_t size, int flags)
{
	size_t i = 0, n = strlen((const char *)s);

	CHECK(n < size);
	while (i < n) {
		unsigned c = s[i];

		if (c < 0x80) {
			CHECK(c >= 0x20 || c == '\t' ||
			    (c == '\n' && (flags & JOBS_TEXT_NEWLINES)));
			CHECK(c != 0x7f);
			i++;
			continue;
		}
		/* Valid UTF-8, and none of the code points that are banned. */
		if (c >= 0xc2 && c <= 0xdf) {
			CHECK(i + 1 < n && (s[i + 1] & 0xc0) == 0x80);
			CHECK(!(c == 0xc2 && s[i + 1] <= 0x9f));
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			CHECK(i + 2 < n && (s[i + 1] & 0xc0) == 0x80 &&
			    (s[i + 2] & 0xc0) == 0x80);
			CHECK(!(c == 0xe2 && s[i + 1] == 0x80 &&
			    s[i + 2] >= 0xaa && s[i + 2] <= 0xae));
			CHECK(!(c == 0xe2 && s[i + 1] == 0x81 &&
			    s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9));
			i += 3;
		} else {
			CHECK(c >= 0xf0 && c <= 0xf4);
			CHECK(i + 3 < n && (s[i + 1] & 0xc0) == 0x80 &&
			    (s[i + 2] & 0xc0) == 0x80 && (s[i + 3] & 0xc0) == 0x80);
			i += 4;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[512];
	char *dup, *text, *red;
	size_t cap = size % 97 + 1;	/* small outputs reach the cut paths */

	jobs_text_clean((const char *)data, size, (char *)out, cap, 0);
	check_clean(out, cap, 0);
	jobs_text_clean((const char *)data, size, (char *)out, sizeof(out),
	    JOBS_TEXT_NEWLINES);
	check_clean(out, sizeof(out), JOBS_TEXT_NEWLINES);
	if ((dup = jobs_text_clean_dup((const char *)data, size, 0)) != NULL) {
		check_clean((unsigned char *)dup, size + 1, 0);
		free(dup);
	}
	/* Redaction: the secret never survives, whatever surrounds it. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	jobs_secret_reset();
	jobs_secret_add("s3cr3t-canary");
	if ((red = jobs_secret_redact(text)) != NULL) {
		CHECK(strstr(red, "s3cr3t-canary") == NULL);
		free(red);
	}
	free(text);
	return 0;
}
