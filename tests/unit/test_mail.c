/*
 * Unit tests of lib/mail.c: the mailto: rule enqueue and send share, base64,
 * and the message a mail row becomes (headers, RFC 2047, CRLF,
 * quoted-printable, a Message-ID fixed by the key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mail.h"
#include "t.h"

#define NOW 1700000000	/* Tue, 14 Nov 2023 22:13:20 +0000 */

static void
address(void)
{
	static const struct { const char *name, *dest, *want, *why; } cases[] = {
		{ "a plain address", "mailto:a@example.com", "a@example.com", NULL },
		{ "the scheme in any case", "MAILTO:a@example.com", "a@example.com",
		    NULL },
		{ "dots inside the local part", "mailto:a.b@example.com",
		    "a.b@example.com", NULL },
		{ "atext such as & and +", "mailto:a&b+c@example.com",
		    "a&b+c@example.com", NULL },
		{ "%XX is decoded", "mailto:%61@example.com", "a@example.com", NULL },
		{ "a 64-byte local part", "mailto:"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "@example.com", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaa@example.com", NULL },
		{ "a punycode domain", "mailto:a@xn--bcher-kva.example",
		    "a@xn--bcher-kva.example", NULL },
		{ "?bcc= is refused", "mailto:a@example.com?bcc=x@example.net", NULL,
		    "header fields" },
		{ "?subject= is refused", "mailto:a@example.com?subject=hi", NULL,
		    "header fields" },
		{ "a list is refused", "mailto:a@example.com,b@example.com", NULL,
		    "not a list" },
		{ "an escaped comma (%2C) is refused",
		    "mailto:a@example.com%2Cb@example.com", NULL, "not a list" },
		{ "an escaped NUL is refused", "mailto:a%00@example.com", NULL,
		    "not a list" },
		{ "an escaped line break is refused",
		    "mailto:a@example.com%0D%0ABcc:x@example.net", NULL,
		    "control characters" },
		{ "a raw line break is refused", "mailto:a\r\n@example.com", NULL,
		    "CR or LF" },
		{ "a fragment is refused", "mailto:a@example.com#x", NULL, "fragment" },
		{ "a bad %-escape is refused", "mailto:a%zz@example.com", NULL,
		    "%-escape" },
		{ "a cut %-escape is refused", "mailto:a%4", NULL, "%-escape" },
		{ "an escaped second @ is refused", "mailto:a%40b@example.com", NULL,
		    "more than one '@'" },
		{ "no @", "mailto:a", NULL, "no '@'" },
		{ "nothing at all", "mailto:", NULL, "no '@'" },
		{ "an empty local part", "mailto:@example.com", NULL,
		    "local part empty" },
		{ "a 65-byte local part", "mailto:"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "@example.com", NULL, "longer than 64" },
		{ "a leading dot", "mailto:.a@example.com", NULL, "dot-atom" },
		{ "a trailing dot", "mailto:a.@example.com", NULL, "dot-atom" },
		{ "two dots", "mailto:a..b@example.com", NULL, "dot-atom" },
		{ "a space", "mailto:a b@example.com", NULL, "dot-atom" },
		{ "a quoted local part", "mailto:\"a\"@example.com", NULL, "dot-atom" },
		{ "angle brackets", "mailto:<a@example.com>", NULL, "dot-atom" },
		{ "a semicolon", "mailto:a;b@example.com", NULL, "dot-atom" },
		{ "no domain", "mailto:a@", NULL, "no domain" },
		{ "a domain label starting with -", "mailto:a@-example.com", NULL,
		    "host name" },
		{ "an empty domain label", "mailto:a@example..com", NULL, "host name" },
		{ "a trailing dot in the domain", "mailto:a@example.com.", NULL,
		    "host name" },
		{ "an underscore in the domain", "mailto:a@ex_ample.com", NULL,
		    "host name" },
		{ "UTF-8 in the domain", "mailto:a@caf\xc3\xa9.example", NULL,
		    "host name" },
		{ "a 64-byte label", "mailto:a@"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    ".com", NULL, "host name" },
		{ "not mailto:", "https://example.com/", NULL, "not a mailto:" },
	};
	struct jobs_err e;
	char addr[JOBS_MAIL_ADDR_MAX], name[160];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		addr[0] = '\0';
		rc = jobs_mail_check_address(cases[i].dest, addr, sizeof(addr), &e);
		if (cases[i].want != NULL) {
			T_INT(cases[i].name, rc, 0);
			T_STR(cases[i].name, addr, cases[i].want);
			continue;
		}
		snprintf(name, sizeof(name), "%s: refused, usage error", cases[i].name);
		T_OK(name, rc == -1 && e.code == JOBS_EUSAGE);
		snprintf(name, sizeof(name), "%s: says '%s'", cases[i].name,
		    cases[i].why);
		T_OK(name, strstr(e.msg, cases[i].why) != NULL);
	}
	T_INT("an address longer than the caller's buffer is refused",
	    jobs_mail_check_address("mailto:a@example.com", addr, 13, NULL), -1);
	T_INT("an address just fitting is taken",
	    jobs_mail_check_address("mailto:a@example.com", addr, 14, NULL), 0);
}

static void
base64(void)
{
	/* RFC 4648 section 10. */
	static const struct { const char *raw, *enc; } vec[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const struct { const char *name, *in; } bad[] = {
		{ "a character outside the alphabet", "Zm9v!A==" },
		{ "URL-safe '-' is not standard", "Zm-v" },
		{ "a blank", "Zm9v Yg==" },
		{ "'=' inside", "Zg==Zg==" },
		{ "three '='", "Zg===" },
		{ "a lone sixth bit group", "Zm9vY" },
	};
	unsigned char out[16];
	char enc[JOBS_MAIL_BASE64_SIZE(6)], name[96];
	size_t i, n;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		snprintf(name, sizeof(name), "base64 of \"%s\"", vec[i].raw);
		jobs_mail_base64_encode((const unsigned char *)vec[i].raw,
		    strlen(vec[i].raw), enc);
		T_STR(name, enc, vec[i].enc);
		snprintf(name, sizeof(name), "base64 \"%s\" decodes back", vec[i].enc);
		n = 99;
		T_OK(name, jobs_mail_base64_decode(vec[i].enc, out, sizeof(out), &n) ==
		    0 && n == strlen(vec[i].raw) && memcmp(out, vec[i].raw, n) == 0);
	}
	T_OK("decoding without the padding",
	    jobs_mail_base64_decode("Zm9vYg", out, sizeof(out), &n) == 0 && n == 4 &&
	    memcmp(out, "foob", 4) == 0);
	jobs_mail_base64_encode((const unsigned char *)"\xfb\xff", 2, enc);
	T_STR("the standard alphabet's + and /", enc, "+/8=");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_INT(bad[i].name, jobs_mail_base64_decode(bad[i].in, out,
		    sizeof(out), &n), -1);
	T_INT("decoding refuses what does not fit",
	    jobs_mail_base64_decode("Zm9vYmFy", out, 5, &n), -1);
	T_INT("decoding into exactly enough room",
	    jobs_mail_base64_decode("Zm9vYmFy", out, 6, &n), 0);
}

/*
 * The value of header field name in message m, into one of four buffers
 * used in turn (so two can be compared); "" if absent.
 */
static const char *
field(const char *m, const char *name)
{
	static char vs[4][1024];
	static int turn;
	char *v = vs[turn++ % 4];
	const char *p = m, *end;
	size_t n = strlen(name);

	v[0] = '\0';
	if (m == NULL)
		return v;
	for (; p != NULL && *p != '\0' && strncmp(p, "\r\n", 2) != 0;
	    p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			p += n + 2;
			/* a folded field goes on after CRLF SP */
			for (end = strstr(p, "\r\n"); end != NULL && end[2] == ' ';
			    end = strstr(end + 2, "\r\n"))
				;
			if (end == NULL)
				end = p + strlen(p);
			snprintf(v, sizeof(vs[0]), "%.*s", (int)(end - p), p);
			break;
		}
	return v;
}

static const char *
body_of(const char *m)
{
	const char *p = strstr(m, "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

static char *
build(const char *from, const char *subject, const char *body, const char *key,
    int64_t created_at)
{
	struct jobs_mail_msg m = { .destination = "mailto:a@example.com",
	    .subject = subject, .body = body, .key = key,
	    .created_at = created_at };

	return jobs_mail_message(from, NOW, &m, NULL);
}

/* Every line ends in CRLF: no bare CR, no bare LF. */
static int
crlf_only(const char *m)
{
	size_t i, n = strlen(m);

	for (i = 0; i < n; i++) {
		if (m[i] == '\r' && m[i + 1] != '\n')
			return 0;
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			return 0;
	}
	return n >= 2 && m[n - 2] == '\r' && m[n - 1] == '\n';
}

static void
headers(void)
{
	static const struct { const char *name, *from, *field, *want; } cases[] = {
		{ "From: a bare address", "ops@example.com", "From",
		    "ops@example.com" },
		{ "From: an ASCII name is quoted", "Ops Team <ops@example.com>",
		    "From", "\"Ops Team\" <ops@example.com>" },
		{ "From: quotes and backslashes in the name are escaped",
		    "\"Q\\\" <ops@example.com>", "From",
		    "\"\\\"Q\\\\\\\"\" <ops@example.com>" },
		{ "From: a UTF-8 name is encoded", "Caf\xc3\xa9 Bot <ops@example.com>",
		    "From", "=?UTF-8?B?Q2Fmw6kgQm90?= <ops@example.com>" },
		{ "From: an empty name", "<ops@example.com>", "From",
		    "<ops@example.com>" },
		{ "To: the bare address", "ops@example.com", "To", "a@example.com" },
		{ "Date: now_s, English names, UTC", "ops@example.com", "Date",
		    "Tue, 14 Nov 2023 22:13:20 +0000" },
		{ "MIME-Version", "ops@example.com", "MIME-Version", "1.0" },
		{ "Content-Type: UTF-8 plain text", "ops@example.com", "Content-Type",
		    "text/plain; charset=utf-8" },
		{ "Content-Transfer-Encoding: 7bit for ASCII", "ops@example.com",
		    "Content-Transfer-Encoding", "7bit" },
		{ "Auto-Submitted: no auto-replies", "ops@example.com",
		    "Auto-Submitted", "auto-generated" },
		{ "no Subject without one", "ops@example.com", "Subject", "" },
	};
	static const struct { const char *name, *from, *dest, *key, *why; int code; }
	    bad[] = {
		{ "a bad address", "ops@example.com", "mailto:a@b@example.com", "k",
		    "more than one '@'", JOBS_EUSAGE },
		{ "?bcc= in the address", "ops@example.com",
		    "mailto:a@example.com?bcc=x@example.net", "k", "header fields",
		    JOBS_EUSAGE },
		{ "no key", "ops@example.com", "mailto:a@example.com", NULL,
		    "no idempotency key", JOBS_EUSAGE },
		{ "an empty key", "ops@example.com", "mailto:a@example.com", "",
		    "no idempotency key", JOBS_EUSAGE },
		{ "a From that is not an address", "ops", "mailto:a@example.com", "k",
		    "bad mail_from", JOBS_EUSAGE },
		{ "a From with text after the address",
		    "Ops <ops@example.com> x", "mailto:a@example.com", "k",
		    "bad mail_from", JOBS_EUSAGE },
		{ "a From with a control character in the name",
		    "Ops\t<ops@example.com>", "mailto:a@example.com", "k",
		    "control characters", JOBS_EUSAGE },
	};
	struct jobs_mail_sender s;
	struct jobs_err e;
	char *m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = build(cases[i].from, NULL, "hi\n", "k", 0);
		T_STR(cases[i].name, m != NULL ? field(m, cases[i].field) : NULL,
		    cases[i].want);
		free(m);
	}
	m = build(NULL, NULL, "hi\n", "k", 1600000000);
	T_STR("Date: created_at when given", field(m, "Date"),
	    "Sun, 13 Sep 2020 12:26:40 +0000");
	T_OK("the default From is jobs@HOSTNAME", jobs_mail_sender_init(&s, NULL,
	    NOW, NULL) == 0 && strncmp(field(m, "From"), "jobs@", 5) == 0 &&
	    strcmp(field(m, "From") + 5, s.host) == 0);
	T_STR("the envelope sender is the bare address", s.from_addr + 5, s.host);
	T_OK("the fields come first, then an empty line, then the body",
	    strncmp(m, "Date: ", 6) == 0 && strcmp(body_of(m), "hi\r\n") == 0);
	T_OK("the message ends in CRLF, none bare", crlf_only(m));
	free(m);

	m = build("ops@example.com", NULL, "a\r\nb\rc\nd", "k", 0);
	T_STR("CRLF, CR and LF in the body all become CRLF", body_of(m),
	    "a\r\nb\r\nc\r\nd\r\n");
	T_OK("and the whole message has CRLF only", crlf_only(m));
	free(m);
	m = build("ops@example.com", NULL, ".\n..x\n", "k", 0);
	T_STR("no dot-stuffing (libcurl's job on the wire)", body_of(m),
	    ".\r\n..x\r\n");
	free(m);
	m = build("ops@example.com", NULL, "caf\xc3\xa9\n", "k", 0);
	T_STR("Content-Transfer-Encoding: 8bit for UTF-8", field(m,
	    "Content-Transfer-Encoding"), "8bit");
	T_STR("and the body as it is", body_of(m), "caf\xc3\xa9\r\n");
	free(m);
	m = build("ops@example.com", NULL, NULL, "k", 0);
	T_STR("a NULL body is empty", m != NULL ? body_of(m) : NULL, "");
	free(m);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jobs_mail_msg msg = { .destination = bad[i].dest,
		    .body = "x", .key = bad[i].key };

		memset(&e, 0, sizeof(e));
		m = jobs_mail_message(bad[i].from, NOW, &msg, &e);
		T_OK(bad[i].name, m == NULL && e.code == bad[i].code &&
		    strstr(e.msg, bad[i].why) != NULL);
		free(m);
	}
}

static void
subject(void)
{
	static const struct { const char *name, *in, *want; } cases[] = {
		{ "plain ASCII stays as it is", "Disk almost full",
		    "Disk almost full" },
		{ "an empty subject stays", "", "" },
		{ "UTF-8 becomes a Q encoded-word", "caf\xc3\xa9 au lait",
		    "=?UTF-8?Q?caf=C3=A9_au_lait?=" },
		{ "a newline in the subject becomes a space",
		    "a line\nwith a newline", "a line with a newline" },
		{ "a byte that is not UTF-8 becomes ?", "x\xff y", "x? y" },
		{ "'=?' is encoded, not passed as an encoded-word", "=?x?=",
		    "=?UTF-8?B?PT94Pz0=?=" },
		{ "mostly non-ASCII is B-encoded, split between characters",
		    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xe2\x82\xac\xe2\x82\xac",
		    "=?UTF-8?B?4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs"
		    "4oKs4oKs?=\r\n =?UTF-8?B?4oKs4oKs?=" },
		{ "a long Q subject folds into words of at most 75",
		    "d\xc3\xa9j\xc3\xa0 vu, a long subject that needs more than one"
		    " encoded word to hold it all right here",
		    "=?UTF-8?Q?d=C3=A9j=C3=A0_vu=2C_a_long_subject_that_needs_more_"
		    "than_one_en?=\r\n =?UTF-8?Q?coded_word_to_hold_it_all_right_here?=" },
	};
	char *m, *line, name[160];
	const char *v, *p;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = build("ops@example.com", cases[i].in, "x", "k", 0);
		v = m != NULL ? field(m, "Subject") : NULL;
		T_STR(cases[i].name, v, cases[i].want);
		/* RFC 2047: no encoded-word over 75 characters. */
		for (p = v, n = 0; p != NULL && *p != '\0'; p += n + (p[n] ? 3 : 0))
			if ((n = strcspn(p, "\r")) > 75)
				break;
		snprintf(name, sizeof(name), "%s: lines of at most 75", cases[i].name);
		T_OK(name, p != NULL && *p == '\0');
		free(m);
	}
	/* 901 ASCII bytes: encoded, so folding keeps each line short. */
	line = malloc(902);
	memset(line, 'a', 901);
	line[901] = '\0';
	m = build("ops@example.com", line, "x", "k", 0);
	T_OK("a subject over 900 bytes is encoded and folded",
	    strncmp(field(m, "Subject"), "=?UTF-8?Q?aaa", 13) == 0 &&
	    strstr(field(m, "Subject"), "?=\r\n =?UTF-8?Q?") != NULL);
	free(m);
	line[900] = '\0';
	m = build("ops@example.com", line, "x", "k", 0);
	T_STR("900 ASCII bytes stay as they are", field(m, "Subject"), line);
	free(m);
	free(line);
}

/* Undo quoted-printable (soft breaks and =XX) into out; -1 if malformed. */
static int
qp_decode(const char *in, char *out, size_t size)
{
	size_t o = 0;
	unsigned v;

	for (; *in != '\0'; in++) {
		if (*in == '=' && in[1] == '\r' && in[2] == '\n') {
			in += 2;
			continue;
		}
		if (o + 1 >= size)
			return -1;
		if (*in == '=') {
			if (sscanf(in + 1, "%2X", &v) != 1)
				return -1;
			out[o++] = (char)v;
			in += 2;
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
	return 0;
}

static void
quoted_printable(void)
{
	static const struct { const char *name; size_t len; } cases[] = {
		{ "a 999-byte line", 999 },
		{ "a 5000-byte line", 5000 },
	};
	char *body, *m, *back, name[160];
	const char *b, *p;
	size_t i, k, longest, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cases[i].len;
		body = malloc(n + 40);
		for (k = 0; k < n; k++)
			body[k] = (char)('a' + k % 26);
		body[100] = '=';	/* must be =3D */
		body[200] = '\t';	/* tab and space inside a line stay */
		body[300] = ' ';
		memcpy(body + 400, "caf\xc3\xa9", 5);
		memcpy(body + n, " \nshort last line\n", 19);	/* a space at the end */
		m = build("ops@example.com", NULL, body, "k", 0);
		snprintf(name, sizeof(name), "%s: quoted-printable", cases[i].name);
		T_STR(name, field(m, "Content-Transfer-Encoding"), "quoted-printable");
		b = body_of(m);
		for (p = b, longest = 0; *p != '\0'; p += k + 2) {
			k = strcspn(p, "\r");
			if (k > longest)
				longest = k;
		}
		snprintf(name, sizeof(name), "%s: lines of at most 76", cases[i].name);
		T_OK(name, longest <= 76 && longest >= 70);
		snprintf(name, sizeof(name), "%s: soft breaks", cases[i].name);
		T_OK(name, strstr(b, "=\r\n") != NULL);
		snprintf(name, sizeof(name), "%s: '=' and UTF-8 are escaped",
		    cases[i].name);
		T_OK(name, strstr(b, "=3D") != NULL && strstr(b, "caf=C3=A9") != NULL);
		snprintf(name, sizeof(name), "%s: a space ending a line is escaped",
		    cases[i].name);
		T_OK(name, strstr(b, "=20\r\nshort last line\r\n") != NULL);
		snprintf(name, sizeof(name), "%s: CRLF throughout", cases[i].name);
		T_OK(name, crlf_only(m));
		back = malloc(n + 40);
		snprintf(name, sizeof(name), "%s: decodes back to the body",
		    cases[i].name);
		memcpy(body + n, " \r\nshort last line\r\n", 21);
		T_OK(name, qp_decode(b, back, n + 40) == 0 && strcmp(back, body) == 0);
		free(back);
		free(body);
		free(m);
	}
	body = malloc(1000);
	memset(body, 'x', 998);
	body[998] = '\0';
	m = build("ops@example.com", NULL, body, "k", 0);
	T_STR("a 998-byte line is not quoted-printable",
	    field(m, "Content-Transfer-Encoding"), "7bit");
	free(m);
	free(body);
}

static void
message_id(void)
{
	/* The first 16 bytes of SHA-256 (FIPS 180-2 examples, and sha256sum). */
	static const struct { const char *name, *key, *want; } cases[] = {
		{ "SHA-256 of a one-block key", "abc",
		    "ba7816bf8f01cfea414140de5dae2223" },
		{ "SHA-256 of a 56-byte key (two blocks of padding)",
		    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039" },
		{ "SHA-256 of a 64-byte key",
		    "0123456789012345678901234567890123456789012345678901234567890123",
		    "9674d9e078535b7cec43284387a6ee39" },
		{ "SHA-256 of an outbox key", "report-2024-01-31",
		    "9ff019a40faffc409fa9d68d2944ce8d" },
	};
	struct jobs_mail_sender s;
	struct jobs_mail_msg msg = { .destination = "mailto:a@example.com",
	    .body = "one" };
	char want[320], *m1, *m2;
	size_t i;

	T_INT("the sender starts", jobs_mail_sender_init(&s, "ops@example.com", NOW,
	    NULL), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msg.key = cases[i].key;
		m1 = jobs_mail_build(&s, &msg, NULL);
		snprintf(want, sizeof(want), "<%s@jobs.%s>", cases[i].want, s.host);
		T_STR(cases[i].name, m1 != NULL ? field(m1, "Message-ID") : NULL, want);
		free(m1);
	}
	msg.key = "order-42";
	m1 = jobs_mail_build(&s, &msg, NULL);
	msg.body = "another body";
	msg.subject = "another subject";
	msg.created_at = 1600000000;
	m2 = jobs_mail_message("Other <other@example.com>", NOW + 3600, &msg, NULL);
	T_OK("the same key, the same Message-ID (another attempt, payload, time)",
	    m1 != NULL && m2 != NULL && field(m1, "Message-ID")[0] == '<' &&
	    strcmp(field(m1, "Message-ID"), field(m2, "Message-ID")) == 0);
	free(m2);
	msg.key = "order-43";
	m2 = jobs_mail_build(&s, &msg, NULL);
	T_OK("another key, another Message-ID", m2 != NULL &&
	    strcmp(field(m1, "Message-ID"), field(m2, "Message-ID")) != 0);
	free(m1);
	free(m2);
}

int
main(void)
{
	address();
	base64();
	headers();
	subject();
	quoted_printable();
	message_id();
	return t_done();
}
