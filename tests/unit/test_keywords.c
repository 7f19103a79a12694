/* Unit tests of lib/keywords.c: one-pass keyword matching on word boundaries. */
#include <stdlib.h>

#include "err.h"
#include "keywords.h"
#include "t.h"

/* The keywords of list found in text, comma-separated, into buf. */
static const char *
found(const struct jobs_keywords *kw, const char *text, size_t len, char *buf,
    size_t size)
{
	unsigned char hit[64];
	size_t i, n, used = 0, count;

	buf[0] = '\0';
	count = jobs_keywords_scan(kw, text, len, hit);
	for (i = n = 0; i < jobs_keywords_count(kw); i++) {
		if (!hit[i])
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		    n++ ? "," : "", jobs_keywords_word(kw, i));
	}
	if (n != count)
		snprintf(buf, size, "count %zu != %zu", count, n);
	return buf;
}

static void
matching(void)
{
	static const char *const words[] = { "food poisoning", "sick", "roach",
	    "hair", "vomit", "allergic reaction", "rude", "cold food", "e. coli",
	    "caf\xc3\xa9", "he", "she" };
	static const struct { const char *name, *text, *want; } cases[] = {
		{ "a keyword alone", "sick", "sick" },
		{ "case-insensitive", "I got SICK after", "sick" },
		{ "mixed case in a phrase", "Food Poisoning!", "food poisoning" },
		{ "not inside a word (after)", "sickness", "" },
		{ "not inside a word (before)", "homesick", "" },
		{ "digits are word characters", "sick2", "" },
		{ "punctuation is a boundary", "(roach)", "roach" },
		{ "underscore is a boundary", "_roach_", "roach" },
		{ "a space matches a run of whitespace", "cold \t\n food", "cold food" },
		{ "a phrase split across words does not match", "cold foods", "" },
		{ "several keywords in one pass", "rude staff, a hair, I was sick",
		    "sick,hair,rude" },
		{ "each keyword counted once", "sick sick sick", "sick" },
		{ "a non-ASCII letter before is inside a word", "\xc3\xa9sick", "" },
		{ "a non-ASCII letter after is inside a word", "sick\xc3\xa9", "" },
		{ "a non-ASCII keyword matches itself", "au caf\xc3\xa9 hier",
		    "caf\xc3\xa9" },
		{ "non-ASCII is not case-folded", "CAF\xc3\x89", "" },
		{ "a keyword ending inside another is not found", "she", "she" },
		{ "a suffix keyword on its own", "he said", "he" },
		{ "a keyword with punctuation", "it was e. coli", "e. coli" },
		{ "punctuation keyword on a boundary", "e.  coli", "e. coli" },
		{ "a NUL byte is a boundary", "x\0sick\0y", "sick" },
		{ "empty text", "", "" },
		{ "at the very end after a failed start", "ssick", "" },
		{ "a partial match falls back", "food poisonin food poisoning",
		    "food poisoning" },
		{ "an allergic reaction", "had an ALLERGIC   REACTION.",
		    "allergic reaction" },
	};
	struct jobs_keywords *kw = NULL;
	struct jobs_err err = { 0, "" };
	char buf[256];
	size_t i, len;

	T_INT("the default-like list compiles", jobs_keywords_compile(&kw, words,
	    sizeof(words) / sizeof(words[0]), &err), 0);
	if (kw == NULL)
		return;
	T_INT("count", jobs_keywords_count(kw), sizeof(words) / sizeof(words[0]));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].text);
		if (strcmp(cases[i].name, "a NUL byte is a boundary") == 0)
			len = 8;
		T_STR(cases[i].name, found(kw, cases[i].text, len, buf,
		    sizeof(buf)), cases[i].want);
	}
	/* "she" and "he" both end at the same byte; the word rule keeps "she" only. */
	T_STR("a keyword inside another is not on a boundary", found(kw, "ashe",
	    4, buf, sizeof(buf)), "");
	jobs_keywords_free(kw);
}

static void
never_splits(void)
{
	static const char *const words[] = { "\xc3\xa9", "a" };
	struct jobs_keywords *kw = NULL;
	struct jobs_err err = { 0, "" };
	char buf[64];

	T_INT("a one-character non-ASCII keyword compiles", jobs_keywords_compile(&kw,
	    words, 2, &err), 0);
	if (kw == NULL)
		return;
	/* U+00E9 then U+00A9: bytes c3 a9 c2 a9 - a neighbour >= 0x80 stops it. */
	T_STR("next to another UTF-8 character: no match", found(kw,
	    "\xc3\xa9\xc2\xa9", 4, buf, sizeof(buf)), "");
	/* c3 a9 inside U+30E9 (e3 83 a9)?  Never: a9 alone is no keyword. */
	T_STR("alone between spaces: a match", found(kw, " \xc3\xa9 ", 3, buf,
	    sizeof(buf)), "\xc3\xa9");
	T_STR("a continuation byte ending a sequence is no boundary", found(kw,
	    "\xe3\x83\xa9" "a", 4, buf, sizeof(buf)), "");
	jobs_keywords_free(kw);
}

static void
bad_lists(void)
{
	static const struct { const char *name, *word; } cases[] = {
		{ "an empty keyword", "" },
		{ "a leading space", " sick" },
		{ "a trailing space", "sick " },
		{ "a comma", "sick,ill" },
		{ "a control character", "si\tck" },
		{ "invalid UTF-8", "caf\xc3" },
		{ "an overlong encoding", "\xc0\xaf" },
		{ "a surrogate", "\xed\xa0\x80" },
	};
	struct jobs_keywords *kw = NULL;
	struct jobs_err err = { 0, "" };
	char longword[JOBS_KEYWORD_LEN_MAX + 2];
	const char *one[1];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		one[0] = cases[i].word;
		err.code = 0;
		T_INT(cases[i].name, jobs_keywords_compile(&kw, one, 1, &err), -1);
		T_INT("is a usage error", err.code, JOBS_EUSAGE);
		T_OK("and nothing is returned", kw == NULL);
	}
	memset(longword, 'x', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	one[0] = longword;
	T_INT("a keyword too long", jobs_keywords_compile(&kw, one, 1, &err), -1);
	T_INT("an empty list compiles", jobs_keywords_compile(&kw, NULL, 0, &err), 0);
	if (kw) {
		unsigned char hit[1];

		T_INT("and never matches", jobs_keywords_scan(kw, "sick", 4, hit), 0);
		jobs_keywords_free(kw);
	}
	jobs_keywords_free(NULL);
}

static void
duplicates(void)
{
	static const char *const words[] = { "Sick", "sick", "cold  food",
	    "cold food" };
	struct jobs_keywords *kw = NULL;
	struct jobs_err err = { 0, "" };
	char buf[64];

	T_INT("a list with repeats compiles", jobs_keywords_compile(&kw, words, 4,
	    &err), 0);
	if (kw == NULL)
		return;
	T_STR("a repeat is reported under its first spelling", found(kw,
	    "SICK of cold food", 17, buf, sizeof(buf)), "Sick,cold  food");
	jobs_keywords_free(kw);
}

/* The automaton against a naive search, on pseudo-random texts. */
static void
against_naive(void)
{
	static const char *const words[] = { "ab", "abc", "bc", "b c", "cab",
	    "a", "ca" };
	static const char alphabet[] = "abcAB C.\xc3\xa9";
	struct jobs_keywords *kw = NULL;
	struct jobs_err err = { 0, "" };
	unsigned seed = 12345;
	int round, bad = 0;

	if (jobs_keywords_compile(&kw, words, 7, &err) < 0) {
		T_OK("the random list compiles", 0);
		return;
	}
	for (round = 0; round < 20000 && !bad; round++) {
		char text[24];
		unsigned char hit[7];
		size_t len = (size_t)(rand_r(&seed) % 20), i, w, p;

		for (i = 0; i < len; i++)
			text[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		jobs_keywords_scan(kw, text, len, hit);
		for (w = 0; w < 7; w++) {
			int want = 0;

			/* Naive: every start, spaces as runs, boundaries. */
			for (p = 0; p < len && !want; p++) {
				const char *k = words[w];
				size_t q = p;

				if (p > 0 && ((unsigned char)text[p - 1] >= 0x80 ||
				    (text[p - 1] >= 'a' && text[p - 1] <= 'z') ||
				    (text[p - 1] >= 'A' && text[p - 1] <= 'Z')))
					continue;
				while (*k && q < len) {
					if (*k == ' ') {
						if (text[q] != ' ')
							break;
						while (q < len && text[q] == ' ')
							q++;
						k++;
						continue;
					}
					if ((text[q] | 0x20) != *k || (unsigned char)text[q] >= 0x80)
						break;
					q++;
					k++;
				}
				if (*k)
					continue;
				if (q < len && ((unsigned char)text[q] >= 0x80 ||
				    (text[q] >= 'a' && text[q] <= 'z') ||
				    (text[q] >= 'A' && text[q] <= 'Z')))
					continue;
				want = 1;
			}
			if (want != hit[w]) {
				bad = 1;
				printf("# text '%.*s' keyword '%s': got %d\n", (int)len,
				    text, words[w], hit[w]);
			}
		}
	}
	T_OK("20,000 random texts agree with a naive search", !bad);
	jobs_keywords_free(kw);
}

int
main(void)
{
	matching();
	never_splits();
	bad_lists();
	duplicates();
	against_naive();
	return t_done();
}
