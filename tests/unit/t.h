/*
 * t.h - the unit tests' few helpers: each check names the behaviour it pins
 * down; the last line is "N passed, N failed".
 */
#ifndef JOBS_T_H
#define JOBS_T_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define T_OK(name, cond) do { \
	if (cond) { t_pass++; } else { t_fail++; \
	    printf("not ok - %s (%s:%d: %s)\n", (name), __FILE__, __LINE__, #cond); } \
} while (0)

#define T_STR(name, got, want) do { \
	const char *t_g = (got), *t_w = (want); \
	if (t_g && t_w && strcmp(t_g, t_w) == 0) { t_pass++; } else { t_fail++; \
	    printf("not ok - %s (%s:%d)\n#   got:  %s\n#   want: %s\n", (name), \
	    __FILE__, __LINE__, t_g ? t_g : "(null)", t_w ? t_w : "(null)"); } \
} while (0)

#define T_INT(name, got, want) do { \
	long long t_g = (long long)(got), t_w = (long long)(want); \
	if (t_g == t_w) { t_pass++; } else { t_fail++; \
	    printf("not ok - %s (%s:%d)\n#   got:  %lld\n#   want: %lld\n", (name), \
	    __FILE__, __LINE__, t_g, t_w); } \
} while (0)

static int
t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail != 0;
}

#endif
