/*
 * text.h - making outside text safe to show, and keeping secrets out of it.
 */
#ifndef JOBS_TEXT_H
#define JOBS_TEXT_H

#include <stddef.h>

enum {
	JOBS_TEXT_NEWLINES = 1,	/* keep \n (multi-line output); else \n -> ' ' */
};

/*
 * Copy in to out (at most size-1 bytes, always terminated, never cutting a
 * UTF-8 sequence), dropping C0 controls (but tab, and newline with
 * JOBS_TEXT_NEWLINES), DEL, C1 controls and bidirectional overrides, and
 * replacing bytes that are not UTF-8 with '?'.  Returns out.
 */
char *jobs_text_clean(const char *in, size_t inlen, char *out, size_t size,
    int flags);

/*
 * The same into a new string the caller frees (NULL when out of memory).
 */
char *jobs_text_clean_dup(const char *in, size_t inlen, int flags);

/*
 * Secrets: register a value (a ping URL, a token, a password) that must
 * never be recorded or shown.  Values shorter than 4 bytes are ignored.
 * The registry copies the value.
 */
void jobs_secret_add(const char *value);

/* Forget every registered secret (tests). */
void jobs_secret_reset(void);

/*
 * A copy of s with every registered secret replaced by "[redacted]", the
 * caller frees it (NULL when out of memory).
 */
char *jobs_secret_redact(const char *s);

/*
 * Redact one argv element in place of a record: registered secrets, the
 * value of KEY=VALUE where KEY names a secret (password, token, secret,
 * api key...), and a URL's user:password.  *prev_secret says the previous
 * element was an option that takes a secret (--password X); it is updated.
 * Returns a new string the caller frees.
 */
char *jobs_secret_redact_arg(const char *arg, int *prev_secret);

#endif
