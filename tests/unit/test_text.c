/* Unit tests of lib/text.c: terminal-safe text and secret redaction. */
#include <stdlib.h>

#include "t.h"
#include "text.h"

static void
clean(void)
{
	static const struct { const char *name, *in, *want; int flags; } cases[] = {
		{ "plain text passes", "hello, world", "hello, world", 0 },
		{ "UTF-8 passes", "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac", 0 },
		{ "ESC is dropped", "\x1b[31mred\x1b[0m", "[31mred[0m", 0 },
		{ "C1 CSI is dropped", "a\xc2\x9b" "31mb", "a31mb", 0 },
		{ "bidi override is dropped", "a\xe2\x80\xae" "b", "ab", 0 },
		{ "bidi isolate is dropped", "a\xe2\x81\xa6" "b", "ab", 0 },
		{ "DEL is dropped", "a\x7f" "b", "ab", 0 },
		{ "BEL and CR are dropped", "a\x07\rb", "ab", 0 },
		{ "tab is kept", "a\tb", "a\tb", 0 },
		{ "newline becomes a space on one line", "a\nb", "a b", 0 },
		{ "newline kept for multi-line", "a\nb", "a\nb", JOBS_TEXT_NEWLINES },
		{ "invalid byte becomes ?", "a\xff" "b", "a?b", 0 },
		{ "overlong encoding is invalid", "\xc0\xaf", "??", 0 },
		{ "truncated sequence is invalid", "a\xe2\x82", "a??", 0 },
		{ "surrogate is invalid", "\xed\xa0\x80", "???", 0 },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jobs_text_clean(cases[i].in, strlen(cases[i].in), out, sizeof(out),
		    cases[i].flags);
		T_STR(cases[i].name, out, cases[i].want);
	}
	jobs_text_clean("ab\xe2\x82\xac", 5, out, 4, 0);
	T_STR("never cuts a UTF-8 sequence at the end", out, "ab");
}

static void
redact(void)
{
	static const struct { const char *name, *in, *want; } args[] = {
		{ "an ordinary argument stays", "backup.sh", "backup.sh" },
		{ "KEY=VALUE with a secret name", "PASSWORD=hunter2", "PASSWORD=[redacted]" },
		{ "--token=VALUE", "--token=abc", "--token=[redacted]" },
		{ "api_key=", "api_key=abc", "api_key=[redacted]" },
		{ "URL user:password", "https://u:pw@example.com/x",
		    "https://u:[redacted]@example.com/x" },
		{ "URL user:password without a path", "smtp://u:pw@mail",
		    "smtp://u:[redacted]@mail" },
		{ "URL without a password stays", "https://example.com/a@b",
		    "https://example.com/a@b" },
		{ "a registered secret inside an argument", "x-canary-SECRET-y",
		    "x-[redacted]-y" },
	};
	char *r;
	size_t i;
	int prev = 0;

	jobs_secret_reset();
	jobs_secret_add("canary-SECRET");
	jobs_secret_add("abc");	/* too short to register */
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		prev = 0;
		r = jobs_secret_redact_arg(args[i].in, &prev);
		T_STR(args[i].name, r, args[i].want);
		free(r);
	}
	prev = 0;
	r = jobs_secret_redact_arg("--password", &prev);
	T_STR("an option naming a secret stays", r, "--password");
	free(r);
	T_OK("and marks the next argument", prev == 1);
	r = jobs_secret_redact_arg("hunter2", &prev);
	T_STR("the option's value is redacted", r, "[redacted]");
	free(r);
	T_OK("only that one", prev == 0);
	prev = 0;
	r = jobs_secret_redact_arg("--ping", &prev);
	free(r);
	r = jobs_secret_redact_arg("https://hc.example/abc-uuid", &prev);
	T_STR("--ping's URL is a secret", r, "[redacted]");
	free(r);
	r = jobs_secret_redact("before canary-SECRET middle canary-SECRET");
	T_STR("every occurrence in text", r, "before [redacted] middle [redacted]");
	free(r);
	jobs_secret_reset();
	r = jobs_secret_redact("canary-SECRET");
	T_STR("reset forgets", r, "canary-SECRET");
	free(r);
}

int
main(void)
{
	clean();
	redact();
	return t_done();
}
