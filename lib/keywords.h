/*
 * keywords.h - find which of a list of keywords occur in a text, in one
 * pass over the text for the whole list (an Aho-Corasick automaton over
 * lowercased bytes, compiled once).
 *
 * Matching is ASCII case-insensitive and on word boundaries: the bytes on
 * either side of a match must not be ASCII letters or digits, nor bytes of
 * 0x80 and up (a non-ASCII letter next to a keyword puts it inside a word,
 * and so a match never starts or ends inside a UTF-8 sequence).  A space
 * inside a keyword matches any run of ASCII whitespace ("cold  food",
 * "cold\nfood").  Bytes of 0x80 and up match themselves exactly.
 */
#ifndef JOBS_KEYWORDS_H
#define JOBS_KEYWORDS_H

#include <stddef.h>

struct jobs_err;
struct jobs_keywords;

#define JOBS_KEYWORDS_MAX	10000	/* keywords in one list */
#define JOBS_KEYWORD_LEN_MAX	128	/* bytes in one keyword */

/*
 * Check one keyword as a list would take it: 1 to JOBS_KEYWORD_LEN_MAX
 * bytes of valid UTF-8, no control characters, no comma (alerts list what
 * they matched comma-separated), no whitespace at either end.  0, or -1
 * with err (JOBS_EUSAGE) saying why.
 */
int jobs_keywords_check(const char *word, struct jobs_err *err);

/*
 * Compile the n keywords at words (each checked with jobs_keywords_check;
 * n may be 0: nothing ever matches).  The keywords are copied.  *out owns
 * the list, freed with jobs_keywords_free().  0, or -1 with err
 * (JOBS_EUSAGE for a bad keyword, JOBS_ETEMP when out of memory).
 */
int jobs_keywords_compile(struct jobs_keywords **out, const char *const *words,
    size_t n, struct jobs_err *err);

/* Free a list; accepts NULL. */
void jobs_keywords_free(struct jobs_keywords *kw);

/* How many keywords the list has. */
size_t jobs_keywords_count(const struct jobs_keywords *kw);

/* Keyword i as it was given (owned by the list). */
const char *jobs_keywords_word(const struct jobs_keywords *kw, size_t i);

/*
 * Scan len bytes of text (NUL bytes are ordinary non-word bytes) once:
 * found[i] is set to 1 when keyword i occurs, else 0 (found holds
 * jobs_keywords_count() bytes).  A keyword given twice is reported under
 * its first index only.  Returns how many keywords were found.  No memory
 * is allocated.
 */
size_t jobs_keywords_scan(const struct jobs_keywords *kw, const char *text,
    size_t len, unsigned char *found);

#endif
