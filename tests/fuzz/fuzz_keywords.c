/*
 * fuzz_keywords.c - libFuzzer target for the keyword matcher
 * (lib/keywords.c).  The input is a keyword list, one a line, then an empty
 * line, then the text.  A list the checker refuses must be refused cleanly;
 * a list it takes is compiled and the text scanned, and what the automaton
 * reports must be exactly what a naive search finds: every keyword, case
 * folded for ASCII, a space matching a run of whitespace, neighbours that
 * are neither ASCII alphanumerics nor bytes of 0x80 and up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keywords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_keywords: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

#define MAXWORDS 32

static int
is_ws(unsigned char b)
{
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' ||
	    b == '\r';
}

static int
is_word(unsigned char b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
	    (b >= 'A' && b <= 'Z') || b >= 0x80;
}

static unsigned char
lower(unsigned char b)
{
	return b >= 'A' && b <= 'Z' ? (unsigned char)(b - 'A' + 'a') : b;
}

/* Whether word occurs in text[0..len) by the matcher's rules, the slow way. */
static int
naive(const char *word, const unsigned char *t, size_t len)
{
	size_t p, q;

	for (p = 0; p < len; p++) {
		const unsigned char *k = (const unsigned char *)word;

		if (p > 0 && is_word(t[p - 1]))
			continue;
		for (q = p; *k && q < len; ) {
			if (*k == ' ') {
				if (!is_ws(t[q]))
					break;
				while (q < len && is_ws(t[q]))
					q++;
				while (*k == ' ')
					k++;
				continue;
			}
			if (lower(t[q]) != lower(*k))
				break;
			q++;
			k++;
		}
		if (*k == '\0' && (q == len || !is_word(t[q])))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *words[MAXWORDS], *line, *sep;
	const unsigned char *text;
	unsigned char hit[MAXWORDS];
	struct jobs_keywords *kw = NULL;
	struct jobs_err err = { 0, "" };
	size_t n = 0, i, textlen, count, want = 0;
	int ok = 1;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* The list ends at the first empty line (or the first NUL). */
	sep = strstr(buf, "\n\n");
	text = (const unsigned char *)(sep ? sep + 2 : buf + size);
	textlen = size - (size_t)((const char *)text - buf);
	if (sep)
		*sep = '\0';
	for (line = buf; line && *line && n < MAXWORDS; n++) {
		words[n] = line;
		if ((line = strchr(line, '\n')) != NULL)
			*line++ = '\0';
	}
	for (i = 0; i < n; i++)
		if (jobs_keywords_check(words[i], NULL) < 0)
			ok = 0;
	if (jobs_keywords_compile(&kw, (const char *const *)words, n, &err) < 0) {
		CHECK(!ok);
		CHECK(kw == NULL && err.code == JOBS_EUSAGE);
		free(buf);
		return 0;
	}
	CHECK(ok);
	CHECK(jobs_keywords_count(kw) == n);
	count = jobs_keywords_scan(kw, (const char *)text, textlen, hit);
	for (i = 0; i < n; i++) {
		size_t j;
		int first = 1, expect;

		/* A repeat (same after folding) reports under its first index. */
		for (j = 0; j < i && first; j++) {
			const char *a = words[i], *b = words[j];

			while (*a && *b) {
				if (*a == ' ' && *b == ' ') {
					while (*a == ' ')
						a++;
					while (*b == ' ')
						b++;
					continue;
				}
				if (lower((unsigned char)*a) != lower((unsigned char)*b))
					break;
				a++;
				b++;
			}
			if (*a == '\0' && *b == '\0')
				first = 0;
		}
		expect = first && naive(words[i], text, textlen);
		CHECK(hit[i] == expect);
		CHECK(strcmp(jobs_keywords_word(kw, i), words[i]) == 0);
		want += (size_t)expect;
	}
	CHECK(count == want);
	jobs_keywords_free(kw);
	free(buf);
	return 0;
}
