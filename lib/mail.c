#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "mail.h"
#include "text.h"

/* ---------------------------------------------------------------------
 * A growable string with a ceiling.  Errors stick: check once at the end.
 */
struct buf {
	char *p;
	size_t len, cap, max;
	int failed;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (n > b->max - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 1024; cap < b->len + n + 1; cap *= 2)
			;
		if (cap > b->max + 1)
			cap = b->max + 1;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_fmt(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
buf_fmt(struct buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	/* Only short pieces go through here; longer ones use buf_add. */
	if (n < 0 || (size_t)n >= sizeof(small))
		b->failed = 1;
	else
		buf_add(b, small, (size_t)n);
}

/* ---------------------------------------------------------------------
 * Base64 (RFC 4648, standard alphabet).
 */
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode n bytes into out (4 * ((n + 2) / 3) + 1 bytes), terminated. */
void
jobs_mail_base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i;
	unsigned long v;

	for (i = 0; i + 2 < n; i += 3) {
		v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) |
		    in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
		*out++ = b64[v & 63];
	}
	if (i < n) {
		v = (unsigned long)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)in[i + 1] << 8;
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

/* Strict decoding, padding optional; -1 on anything else. */
int
jobs_mail_base64_decode(const char *in, unsigned char *out, size_t size,
    size_t *outlen)
{
	size_t n = strlen(in), i, o = 0;
	unsigned long v = 0;
	int bits = 0;
	const char *p;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if (strlen(in) - n > 2 || n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if (in[i] == '\0' || (p = strchr(b64, in[i])) == NULL)
			return -1;
		v = (v << 6) | (unsigned long)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= size)
				return -1;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	*outlen = o;
	return 0;
}

/* ---------------------------------------------------------------------
 * Addresses.
 */
static int
atext(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* What is wrong with the bare address s (n bytes), or NULL. */
static const char *
addr_problem(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n), *d, *end = s + n, *label;
	size_t i, local;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "CR, LF or control characters in the address";
	if (at == NULL)
		return "no '@' in the address";
	if (memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL)
		return "more than one '@': want exactly one address";
	if (n > 254)
		return "address longer than 254 bytes";
	local = (size_t)(at - s);
	if (local == 0 || local > 64)
		return "local part empty or longer than 64 bytes";
	for (i = 0; i < local; i++)
		if (s[i] == '.' ? i == 0 || i == local - 1 || s[i + 1] == '.' :
		    !atext((unsigned char)s[i]))
			return "the local part is not a plain dot-atom";
	d = at + 1;
	if (d == end)
		return "no domain";
	for (label = d; label <= end; label = d + 1) {
		for (d = label; d < end && *d != '.'; d++)
			if (!isalnum((unsigned char)*d) && *d != '-')
				return "the domain is not a host name";
		if (d == label || d - label > 63 || *label == '-' || d[-1] == '-')
			return "the domain is not a host name";
		if (d == end)
			break;
	}
	return NULL;
}

int
jobs_mail_check_address(const char *dest, char *addr, size_t size,
    struct jobs_err *err)
{
	char buf[256];
	const char *p;
	const char *why;
	size_t n = 0;
	int hi, lo;

	if (dest == NULL || strncasecmp(dest, "mailto:", 7) != 0)
		return jobs_err_set(err, JOBS_EUSAGE, "not a mailto: destination");
	for (p = dest + 7; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
			    " CR or LF in the address");
		if (*p == '?')
			return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
			    " header fields (?bcc=, ?subject=...) are not allowed");
		if (*p == '#')
			return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
			    " a fragment (#) is not allowed");
		if (*p == ',')
			return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
			    " want exactly one address, not a list");
		if (n + 1 >= sizeof(buf))
			return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
			    " address longer than 254 bytes");
		if (*p != '%') {
			buf[n++] = *p;
			continue;
		}
		hi = isxdigit((unsigned char)p[1]) ? p[1] : -1;
		lo = hi != -1 && isxdigit((unsigned char)p[2]) ? p[2] : -1;
		if (lo == -1)
			return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
			    " a bad %%-escape");
		hi = isdigit(hi) ? hi - '0' : tolower(hi) - 'a' + 10;
		lo = isdigit(lo) ? lo - '0' : tolower(lo) - 'a' + 10;
		buf[n++] = (char)(hi * 16 + lo);
		p += 2;
		/* A decoded ',' or '\n' is the same attack in disguise. */
		if (buf[n - 1] == ',' || buf[n - 1] == '\0')
			return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
			    " want exactly one address, not a list");
	}
	buf[n] = '\0';
	if ((why = addr_problem(buf, n)) != NULL)
		return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination: %s",
		    why);
	if (n >= size)
		return jobs_err_set(err, JOBS_EUSAGE, "bad mailto destination:"
		    " address too long");
	memcpy(addr, buf, n + 1);
	return 0;
}

/* ---------------------------------------------------------------------
 * RFC 2047 encoded-words, for a Subject or a display name.
 */
static int
q_safe(int c)
{
	return isalnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static size_t
utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/*
 * Append s as encoded-words of at most 75 characters, separated by folding
 * (CRLF SP), never splitting a character, in Q or B, whichever is shorter.
 * s must be valid UTF-8 without control characters.
 */
static void
put_encoded(struct buf *b, const char *s)
{
	size_t n = strlen(s), qlen = 0, i, k, clen, used = 0;
	char word[80], enc[8];
	int use_q, open = 0;

	for (i = 0; i < n; i++)
		qlen += q_safe((unsigned char)s[i]) || s[i] == ' ' ? 1 : 3;
	use_q = qlen <= (n + 2) / 3 * 4;
	for (i = 0; i < n; i += clen) {
		clen = utf8_len((unsigned char)s[i]);
		if (clen > n - i)
			clen = n - i;
		if (use_q) {
			for (enc[0] = '\0', k = 0; k < clen; k++) {
				unsigned char c = (unsigned char)s[i + k];
				size_t e = strlen(enc);

				if (c == ' ')
					snprintf(enc + e, sizeof(enc) - e, "_");
				else if (q_safe(c))
					snprintf(enc + e, sizeof(enc) - e, "%c", c);
				else
					snprintf(enc + e, sizeof(enc) - e, "=%02X", c);
			}
			/* =?UTF-8?Q? + text + ?= in 75: 63 for the text */
			if (open && used + strlen(enc) > 63) {
				buf_str(b, "?=\r\n ");
				open = 0;
			}
			if (!open) {
				buf_str(b, "=?UTF-8?Q?");
				open = 1;
				used = 0;
			}
			buf_str(b, enc);
			used += strlen(enc);
		} else {
			/* B: up to 45 bytes a word (60 characters). */
			size_t start = i, end = i;

			while (end < n) {
				size_t c = utf8_len((unsigned char)s[end]);

				if (c > n - end)
					c = n - end;
				if (end + c - start > 45)
					break;
				end += c;
			}
			if (open)
				buf_str(b, "\r\n ");
			jobs_mail_base64_encode((const unsigned char *)s + start, end - start,
			    word);
			buf_fmt(b, "=?UTF-8?B?%s?=", word);
			open = 1;
			clen = end - start;
		}
	}
	if (use_q && open)
		buf_str(b, "?=");
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* ---------------------------------------------------------------------
 * SHA-256 (FIPS 180-4), for the Message-ID only: libcrypto is the
 * sender's, and enqueue must not load it (DESIGN §3).
 */
static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], v[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
		    (w[i - 15] >> 3)) + w[i - 7] + (ROR(w[i - 2], 17) ^
		    ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
	memcpy(v, h, sizeof(v));
	for (i = 0; i < 64; i++) {
		t1 = v[7] + (ROR(v[4], 6) ^ ROR(v[4], 11) ^ ROR(v[4], 25)) +
		    ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha_k[i] + w[i];
		t2 = (ROR(v[0], 2) ^ ROR(v[0], 13) ^ ROR(v[0], 22)) +
		    ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		h[i] += v[i];
}

static void
sha256(const void *data, size_t n, unsigned char md[32])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const unsigned char *p = data;
	unsigned char tail[128];
	uint64_t bits = (uint64_t)n * 8;
	size_t i, rest, len;

	for (i = 0; n - i >= 64; i += 64)
		sha256_block(h, p + i);
	rest = n - i;
	memset(tail, 0, sizeof(tail));
	memcpy(tail, p + i, rest);
	tail[rest] = 0x80;
	/* The bit count takes the last 8 bytes: a second block if no room. */
	len = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[len - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, tail);
	if (len == 128)
		sha256_block(h, tail + 64);
	for (i = 0; i < 8; i++) {
		md[4 * i] = (unsigned char)(h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(h[i] >> 8);
		md[4 * i + 3] = (unsigned char)h[i];
	}
}

/* ---------------------------------------------------------------------
 * The message.
 */
static void
hostname(char *out, size_t size)
{
	char h[256];
	size_t i, o = 0;

	if (gethostname(h, sizeof(h)) != 0)
		h[0] = '\0';
	h[sizeof(h) - 1] = '\0';
	for (i = 0; h[i] != '\0' && o + 1 < size; i++)
		if (isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '.')
			out[o++] = h[i];
	out[o] = '\0';
	if (o == 0)
		snprintf(out, size, "localhost");
}

/* Parse "addr" or "Name <addr>" into env's From fields. */
static int
parse_from(struct jobs_mail_sender *env, const char *from, struct jobs_err *err)
{
	const char *lt = strchr(from, '<'), *gt, *why, *s;
	char *name = NULL;
	size_t n, i;
	struct buf b = { .max = sizeof(env->from_hdr) - 1 };

	if (lt == NULL) {
		n = strlen(from);
		s = from;
	} else {
		if ((gt = strchr(lt, '>')) == NULL || gt[1] != '\0')
			return jobs_err_set(err, JOBS_EUSAGE, "bad mail_from: want"
			    " 'addr' or 'Name <addr>'");
		s = lt + 1;
		n = (size_t)(gt - s);
	}
	if ((why = addr_problem(s, n)) != NULL)
		return jobs_err_set(err, JOBS_EUSAGE, "bad mail_from: %s", why);
	memcpy(env->from_addr, s, n);
	env->from_addr[n] = '\0';
	if (lt == NULL) {
		snprintf(env->from_hdr, sizeof(env->from_hdr), "%s", env->from_addr);
		return 0;
	}
	for (n = (size_t)(lt - from); n > 0 && from[n - 1] == ' '; n--)
		;
	for (i = 0; i < n; i++)
		if ((unsigned char)from[i] < 0x20 || from[i] == 0x7f)
			return jobs_err_set(err, JOBS_EUSAGE, "bad mail_from: control"
			    " characters in the name");
	if (n == 0) {
		snprintf(env->from_hdr, sizeof(env->from_hdr), "<%s>", env->from_addr);
		return 0;
	}
	if ((name = jobs_text_clean_dup(from, n, 0)) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	if (is_ascii(name)) {
		buf_str(&b, "\"");
		for (i = 0; name[i] != '\0'; i++) {
			if (name[i] == '"' || name[i] == '\\')
				buf_str(&b, "\\");
			buf_add(&b, name + i, 1);
		}
		buf_str(&b, "\"");
	} else
		put_encoded(&b, name);
	buf_fmt(&b, " <%s>", env->from_addr);
	free(name);
	if (b.failed) {
		free(b.p);
		return jobs_err_set(err, JOBS_EUSAGE, "bad mail_from: too long");
	}
	snprintf(env->from_hdr, sizeof(env->from_hdr), "%s", b.p);
	free(b.p);
	return 0;
}

int
jobs_mail_sender_init(struct jobs_mail_sender *s, const char *from,
    int64_t now_s, struct jobs_err *err)
{
	char dflt[300];

	memset(s, 0, sizeof(*s));
	hostname(s->host, sizeof(s->host));
	s->now_s = now_s > 0 ? now_s : (int64_t)time(NULL);
	if (from != NULL && from[0] != '\0')
		return parse_from(s, from, err);
	snprintf(dflt, sizeof(dflt), "jobs@%s", s->host);
	return parse_from(s, dflt, err);
}

static void
put_date(struct buf *b, int64_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
	    "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	/* Fixed names: strftime's %a and %b follow the locale. */
	if (gmtime_r(&tt, &tm) == NULL) {
		b->failed = 1;
		return;
	}
	buf_fmt(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
put_subject(struct buf *b, const char *subject)
{
	char *s;

	/* Newlines and controls go: a Subject is one unstructured line. */
	if ((s = jobs_text_clean_dup(subject, strlen(subject), 0)) == NULL) {
		b->failed = 1;
		return;
	}
	buf_str(b, "Subject: ");
	/* "=?" would read as an encoded-word: encode it to show it as is. */
	if (is_ascii(s) && strlen(s) <= 900 && strstr(s, "=?") == NULL)
		buf_str(b, s);
	else
		put_encoded(b, s);
	buf_str(b, "\r\n");
	free(s);
}

/* The next line of s: its length, and the length with its line end. */
static size_t
next_line(const char *s, size_t *with_end)
{
	size_t n = strcspn(s, "\r\n");

	*with_end = n + (s[n] == '\r' && s[n + 1] == '\n' ? 2 : s[n] != '\0');
	return n;
}

static void
put_qp_line(struct buf *b, const char *s, size_t n)
{
	size_t i, col = 0;
	char enc[4];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int last = i + 1 == n;

		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !last)) {
			enc[0] = (char)c;
			enc[1] = '\0';
		} else
			snprintf(enc, sizeof(enc), "=%02X", c);
		/* Lines of at most 76 characters, the soft break's '=' included. */
		if (col + strlen(enc) > (last ? 76 : 75)) {
			buf_str(b, "=\r\n");
			col = 0;
		}
		buf_str(b, enc);
		col += strlen(enc);
	}
	buf_str(b, "\r\n");
}

static void
put_body(struct buf *b, const char *body)
{
	const char *p;
	size_t n, step;
	int eight = 0, qp = 0;

	for (p = body; *p != '\0'; p += step) {
		n = next_line(p, &step);
		if (n > 998)
			qp = 1;
		while (n-- > 0)
			if ((unsigned char)p[n] >= 0x80)
				eight = 1;
	}
	buf_fmt(b, "Content-Transfer-Encoding: %s\r\n",
	    qp ? "quoted-printable" : eight ? "8bit" : "7bit");
	buf_str(b, "Auto-Submitted: auto-generated\r\n\r\n");
	for (p = body; *p != '\0'; p += step) {
		n = next_line(p, &step);
		if (qp)
			put_qp_line(b, p, n);
		else {
			buf_add(b, p, n);
			buf_str(b, "\r\n");
		}
	}
}

char *
jobs_mail_build(const struct jobs_mail_sender *s, const struct jobs_mail_msg *m,
    struct jobs_err *err)
{
	unsigned char md[32];
	char to[JOBS_MAIL_ADDR_MAX], mid[33];
	struct buf b = { .max = JOBS_MAIL_MAX };
	int i;

	if (jobs_mail_check_address(m->destination, to, sizeof(to), err) == -1)
		return NULL;
	if (m->key == NULL || m->key[0] == '\0') {
		jobs_err_set(err, JOBS_EUSAGE, "no idempotency key");
		return NULL;
	}
	/* The same key, the same Message-ID: receivers can drop a repeat. */
	sha256(m->key, strlen(m->key), md);
	for (i = 0; i < 16; i++)
		snprintf(mid + 2 * i, 3, "%02x", md[i]);
	put_date(&b, m->created_at > 0 ? m->created_at : s->now_s);
	buf_str(&b, "From: ");
	buf_str(&b, s->from_hdr);
	buf_fmt(&b, "\r\nTo: %s\r\n", to);
	if (m->subject != NULL)
		put_subject(&b, m->subject);
	buf_fmt(&b, "Message-ID: <%s@jobs.%s>\r\n", mid, s->host);
	buf_str(&b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n");
	put_body(&b, m->body != NULL ? m->body : "");
	if (b.failed) {
		free(b.p);
		jobs_err_set(err, JOBS_ETEMP, "message larger than %ld bytes or out"
		    " of memory", JOBS_MAIL_MAX);
		return NULL;
	}
	return b.p;
}

char *
jobs_mail_message(const char *from, int64_t now_s, const struct jobs_mail_msg *m,
    struct jobs_err *err)
{
	struct jobs_mail_sender s;

	if (jobs_mail_sender_init(&s, from, now_s, err) == -1)
		return NULL;
	return jobs_mail_build(&s, m, err);
}
