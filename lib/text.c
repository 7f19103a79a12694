#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

#define REDACTED "[redacted]"
#define MAX_SECRETS 16

static char *secrets[MAX_SECRETS];
static int nsecrets;

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n, unsigned *cp)
{
	size_t len, i;
	unsigned c = p[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; c &= 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static int
unsafe(unsigned cp, int flags)
{
	if (cp == '\t' || (cp == '\n' && (flags & JOBS_TEXT_NEWLINES)))
		return 0;
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

char *
jobs_text_clean(const char *in, size_t inlen, char *out, size_t size, int flags)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;

	if (size == 0)
		return out;
	while (i < inlen) {
		unsigned cp;
		size_t n = utf8_len(p + i, inlen - i, &cp);

		if (n == 0) {
			if (o + 1 >= size)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (cp == '\n' && !(flags & JOBS_TEXT_NEWLINES)) {
			if (o + 1 >= size)
				break;
			out[o++] = ' ';
		} else if (!unsafe(cp, flags)) {
			if (o + n >= size)
				break;
			memcpy(out + o, p + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	return out;
}

char *
jobs_text_clean_dup(const char *in, size_t inlen, int flags)
{
	char *out = malloc(inlen + 1);

	if (out == NULL)
		return NULL;
	return jobs_text_clean(in, inlen, out, inlen + 1, flags);
}

void
jobs_secret_add(const char *value)
{
	int i;

	if (value == NULL || strlen(value) < 4 || nsecrets == MAX_SECRETS)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], value) == 0)
			return;
	if ((secrets[nsecrets] = strdup(value)) != NULL)
		nsecrets++;
}

void
jobs_secret_reset(void)
{
	while (nsecrets > 0)
		free(secrets[--nsecrets]);
}

char *
jobs_secret_redact(const char *s)
{
	size_t cap = strlen(s) + 1, len = 0;
	char *out = malloc(cap);
	const char *p = s;

	if (out == NULL)
		return NULL;
	while (*p) {
		int i, hit = -1;

		for (i = 0; i < nsecrets; i++)
			if (strncmp(p, secrets[i], strlen(secrets[i])) == 0) {
				hit = i;
				break;
			}
		if (hit >= 0) {
			size_t n = sizeof(REDACTED) - 1;

			if (len + n + 1 > cap) {
				char *bigger = realloc(out, cap + n + 1);

				if (bigger == NULL) {
					free(out);
					return NULL;
				}
				out = bigger;
				cap += n + 1;
			}
			memcpy(out + len, REDACTED, n);
			len += n;
			p += strlen(secrets[hit]);
		} else {
			if (len + 2 > cap) {
				char *bigger = realloc(out, cap * 2);

				if (bigger == NULL) {
					free(out);
					return NULL;
				}
				out = bigger;
				cap *= 2;
			}
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	return out;
}

/* Does the name (an option or a KEY) say its value is a secret? */
static int
secret_name(const char *name, size_t n)
{
	static const char *const words[] = { "password", "passwd", "secret",
	    "token", "apikey", "api_key", "api-key", "credential", "ping" };
	size_t i, j;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t w = strlen(words[i]);

		for (j = 0; j + w <= n; j++)
			if (strncasecmp(name + j, words[i], w) == 0)
				return 1;
	}
	return 0;
}

char *
jobs_secret_redact_arg(const char *arg, int *prev_secret)
{
	char *r, *eq, *at, *scheme;

	if (*prev_secret) {
		*prev_secret = 0;
		return strdup(REDACTED);
	}
	if ((r = jobs_secret_redact(arg)) == NULL)
		return NULL;
	if (r[0] == '-' && r[1] == '-' && strchr(r, '=') == NULL &&
	    secret_name(r + 2, strlen(r + 2))) {
		*prev_secret = 1;
		return r;
	}
	/* KEY=VALUE or --key=value */
	if ((eq = strchr(r, '=')) != NULL && eq != r &&
	    secret_name(r, (size_t)(eq - r)) && strcmp(eq + 1, REDACTED) != 0) {
		size_t n = (size_t)(eq - r) + 1;
		char *out = malloc(n + sizeof(REDACTED));

		if (out != NULL) {
			memcpy(out, r, n);
			memcpy(out + n, REDACTED, sizeof(REDACTED));
		}
		free(r);
		return out;
	}
	/* scheme://user:password@host */
	if ((scheme = strstr(r, "://")) != NULL &&
	    (at = strchr(scheme + 3, '@')) != NULL) {
		char *colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));

		char *slash = strchr(scheme + 3, '/');

		if (colon != NULL && (slash == NULL || slash > at)) {
			size_t head = (size_t)(colon - r) + 1, tail = strlen(at);
			char *out = malloc(head + sizeof(REDACTED) + tail);

			if (out != NULL) {
				memcpy(out, r, head);
				memcpy(out + head, REDACTED, sizeof(REDACTED) - 1);
				memcpy(out + head + sizeof(REDACTED) - 1, at, tail + 1);
			}
			free(r);
			return out;
		}
	}
	return r;
}
