#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keywords.h"

/* All keywords' bytes together: bounds the automaton (states x classes). */
#define BYTES_MAX	65536
/* Fed symbols remembered, to find where a match started (power of two). */
#define RING		128

struct jobs_keywords {
	size_t n;
	char **words;		/* as given */
	uint32_t *len;		/* symbols each keyword spans, spaces collapsed */
	int32_t nstates, ncls;
	int32_t *delta;		/* nstates x ncls: the complete transition table */
	int32_t *out;		/* the keyword ending in each state, or -1 */
	int32_t *dict;		/* the next state with an output on the fail chain, 0: none */
	uint16_t cls[256];	/* byte -> class (case and whitespace folded) */
	unsigned char word[256];	/* 1: a byte a match may not touch */
	unsigned char ws[256];		/* 1: ASCII whitespace */
};

static int
is_ws(unsigned char b)
{
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' ||
	    b == '\r';
}

static unsigned char
fold(unsigned char b)
{
	if (b >= 'A' && b <= 'Z')
		return (unsigned char)(b - 'A' + 'a');
	return is_ws(b) ? ' ' : b;
}

/* The length of the UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

int
jobs_keywords_check(const char *word, struct jobs_err *err)
{
	const unsigned char *s = (const unsigned char *)word;
	size_t n = strlen(word), i, step;

	if (n == 0)
		return jobs_err_set(err, JOBS_EUSAGE, "an empty keyword");
	if (n > JOBS_KEYWORD_LEN_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "keyword '%.40s...' is longer"
		    " than %d bytes", word, JOBS_KEYWORD_LEN_MAX);
	if (s[0] == ' ' || s[n - 1] == ' ')
		return jobs_err_set(err, JOBS_EUSAGE, "keyword '%s' starts or ends"
		    " with a space", word);
	for (i = 0; i < n; i += step) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return jobs_err_set(err, JOBS_EUSAGE, "keyword '%.40s' has a"
			    " control character", word);
		if (s[i] == ',')
			return jobs_err_set(err, JOBS_EUSAGE, "keyword '%s' has a comma",
			    word);
		if ((step = utf8_len(s + i, n - i)) == 0)
			return jobs_err_set(err, JOBS_EUSAGE, "keyword '%.40s' is not"
			    " valid UTF-8", word);
	}
	return 0;
}

void
jobs_keywords_free(struct jobs_keywords *kw)
{
	size_t i;

	if (kw == NULL)
		return;
	for (i = 0; kw->words && i < kw->n; i++)
		free(kw->words[i]);
	free(kw->words);
	free(kw->len);
	free(kw->delta);
	free(kw->out);
	free(kw->dict);
	free(kw);
}

size_t
jobs_keywords_count(const struct jobs_keywords *kw)
{
	return kw->n;
}

const char *
jobs_keywords_word(const struct jobs_keywords *kw, size_t i)
{
	return i < kw->n ? kw->words[i] : NULL;
}

/* The symbols of a keyword, folded, with its runs of spaces as one. */
static size_t
normalize(const char *word, unsigned char *buf)
{
	const unsigned char *s = (const unsigned char *)word;
	size_t n = 0;

	for (; *s; s++) {
		unsigned char b = fold(*s);

		if (b == ' ' && n > 0 && buf[n - 1] == ' ')
			continue;
		buf[n++] = b;
	}
	return n;
}

/* Insert the trie of every keyword; delta rows hold children only (-1: none). */
static int
build_trie(struct jobs_keywords *kw)
{
	unsigned char sym[JOBS_KEYWORD_LEN_MAX];
	size_t i, j, n;

	kw->nstates = 1;
	for (i = 0; i < kw->n; i++) {
		int32_t s = 0;

		n = normalize(kw->words[i], sym);
		kw->len[i] = (uint32_t)n;
		for (j = 0; j < n; j++) {
			int32_t *t = &kw->delta[(size_t)s * (size_t)kw->ncls +
			    kw->cls[sym[j]]];

			if (*t < 0)
				*t = kw->nstates++;
			s = *t;
		}
		if (kw->out[s] < 0)
			kw->out[s] = (int32_t)i;
	}
	return 0;
}

/*
 * Breadth first: a state's fail link is the longest proper suffix of its
 * path that is also a path; its missing transitions are its fail state's,
 * complete already because that state is shallower.
 */
static int
build_links(struct jobs_keywords *kw)
{
	int32_t *fail = NULL, *queue = NULL, head = 0, tail = 0, c;
	size_t ncls = (size_t)kw->ncls;

	fail = calloc((size_t)kw->nstates, sizeof(*fail));
	queue = malloc((size_t)kw->nstates * sizeof(*queue));
	if (fail == NULL || queue == NULL) {
		free(fail);
		free(queue);
		return -1;
	}
	queue[tail++] = 0;
	while (head < tail) {
		int32_t s = queue[head++];
		int32_t *row = &kw->delta[(size_t)s * ncls];

		for (c = 0; c < kw->ncls; c++) {
			int32_t t = row[c];

			if (t < 0) {
				row[c] = s == 0 ? 0 : kw->delta[(size_t)fail[s] * ncls +
				    (size_t)c];
				continue;
			}
			fail[t] = s == 0 ? 0 : kw->delta[(size_t)fail[s] * ncls +
			    (size_t)c];
			kw->dict[t] = kw->out[fail[t]] >= 0 ? fail[t] : kw->dict[fail[t]];
			queue[tail++] = t;
		}
	}
	free(fail);
	free(queue);
	return 0;
}

int
jobs_keywords_compile(struct jobs_keywords **out, const char *const *words,
    size_t n, struct jobs_err *err)
{
	struct jobs_keywords *kw = NULL;
	unsigned char seen[256];
	size_t i, total = 0, maxstates, cells;
	int b;

	*out = NULL;
	if (n > JOBS_KEYWORDS_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "more than %d keywords",
		    JOBS_KEYWORDS_MAX);
	for (i = 0; i < n; i++) {
		if (jobs_keywords_check(words[i], err) < 0)
			return -1;
		total += strlen(words[i]);
	}
	if (total > BYTES_MAX)
		return jobs_err_set(err, JOBS_EUSAGE, "keywords longer than %d bytes"
		    " in all", BYTES_MAX);
	if ((kw = calloc(1, sizeof(*kw))) == NULL)
		goto nomem;
	/* Class 0 is every byte no keyword has: it always leads to the root. */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)words[i];

		for (; *s; s++)
			seen[fold(*s)] = 1;
	}
	kw->ncls = 1;
	for (b = 0; b < 256; b++)
		if (seen[b])
			kw->cls[b] = (uint16_t)kw->ncls++;
	for (b = 0; b < 256; b++) {
		kw->cls[b] = kw->cls[fold((unsigned char)b)];
		kw->ws[b] = (unsigned char)is_ws((unsigned char)b);
		kw->word[b] = (unsigned char)((b >= '0' && b <= '9') ||
		    (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b >= 0x80);
	}
	maxstates = total + 1;
	cells = maxstates * (size_t)kw->ncls;
	kw->n = n;
	kw->words = calloc(n ? n : 1, sizeof(*kw->words));
	kw->len = calloc(n ? n : 1, sizeof(*kw->len));
	kw->delta = malloc(cells * sizeof(*kw->delta));
	kw->out = malloc(maxstates * sizeof(*kw->out));
	kw->dict = calloc(maxstates, sizeof(*kw->dict));
	if (kw->words == NULL || kw->len == NULL || kw->delta == NULL ||
	    kw->out == NULL || kw->dict == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		if ((kw->words[i] = strdup(words[i])) == NULL)
			goto nomem;
	memset(kw->delta, 0xff, cells * sizeof(*kw->delta));	/* -1 */
	memset(kw->out, 0xff, maxstates * sizeof(*kw->out));
	if (build_trie(kw) < 0 || build_links(kw) < 0)
		goto nomem;
	*out = kw;
	return 0;
nomem:
	jobs_keywords_free(kw);
	return jobs_err_set(err, JOBS_ETEMP, "out of memory");
}

size_t
jobs_keywords_scan(const struct jobs_keywords *kw, const char *text,
    size_t len, unsigned char *found)
{
	const unsigned char *s = (const unsigned char *)text;
	const int32_t *delta = kw->delta;
	size_t ring[RING], i, k = 0, nfound = 0, ncls = (size_t)kw->ncls;
	int32_t state = 0, t;
	int prev_ws = 0;

	memset(found, 0, kw->n);
	if (kw->n == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char b = s[i];

		/* A run of whitespace is one symbol, where the run starts. */
		if (kw->ws[b]) {
			if (prev_ws)
				continue;
			prev_ws = 1;
		} else
			prev_ws = 0;
		ring[k++ & (RING - 1)] = i;
		state = delta[(size_t)state * ncls + kw->cls[b]];
		for (t = kw->out[state] >= 0 ? state : kw->dict[state]; t != 0;
		    t = kw->dict[t]) {
			int32_t w = kw->out[t];
			size_t start = ring[(k - kw->len[w]) & (RING - 1)];

			if (found[w] || (start > 0 && kw->word[s[start - 1]]) ||
			    (i + 1 < len && kw->word[s[i + 1]]))
				continue;
			found[w] = 1;
			nfound++;
		}
	}
	return nfound;
}
