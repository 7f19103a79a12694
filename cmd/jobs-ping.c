/*
 * jobs-ping - send one healthchecks.io-style ping.  The small helper that
 * programs which do not link libcurl run for their pings; usable by hand.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ping.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

#define BODY_MAX (100 * 1024)	/* what a ping carries (healthchecks.io's limit) */
#define TRY_HELP "Try 'jobs-ping --help' for more information.\n"
#define USAGE "usage: jobs-ping [-q] [--tries N] start|success|fail|log [< BODY]\n"

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "tries", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct jobs_err err = { 0, "" };
	const char *url = getenv("JOBS_PING_URL");
	char *body = NULL, *end;
	size_t len = 0;
	int c, quiet = 0, tries = 2, rc;

	opterr = 0;	/* our own one-line messages, named as the others' */
	while ((c = getopt_long(argc, argv, ":qh", longs, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 't':
			tries = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || tries < 1 || tries > 10) {
				fprintf(stderr, "jobs-ping: bad --tries '%s': want 1 to 10\n",
				    optarg);
				return 2;
			}
			break;
		case 'h': fputs(USAGE, stdout); return 0;
		case 'V': printf("jobs-ping %s\n", JOBS_VERSION); return 0;
		default:
			fprintf(stderr, "jobs-ping: %s %s\n" TRY_HELP, c == ':' ?
			    "missing value for" : "unknown option", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "jobs-ping: %s\n" TRY_HELP, optind >= argc ?
		    "missing what to report: start, success, fail or log" :
		    "one of start, success, fail or log only");
		return 2;
	}
	if (url == NULL || url[0] == '\0') {
		fprintf(stderr, "jobs-ping: JOBS_PING_URL is not set\n");
		return 2;
	}
	/*
	 * A body comes on stdin when stdin is not a terminal (fail, log).
	 * Read it all, keep the end: that is where the error is.
	 */
	if (strcmp(argv[optind], "start") != 0 && !isatty(STDIN_FILENO)) {
		if ((body = malloc(2 * BODY_MAX + 1)) == NULL) {
			fprintf(stderr, "jobs-ping: out of memory\n");
			return 1;
		}
		for (;;) {
			size_t n = fread(body + len, 1, 2 * BODY_MAX - len, stdin);

			if (n == 0)
				break;
			len += n;
			if (len == 2 * BODY_MAX) {
				memmove(body, body + BODY_MAX, BODY_MAX);
				len = BODY_MAX;
			}
		}
		if (len > BODY_MAX) {
			memmove(body, body + len - BODY_MAX, BODY_MAX);
			len = BODY_MAX;
		}
		body[len] = '\0';
	}
	rc = jobs_ping_send(url, argv[optind], body, len, tries, &err);
	free(body);
	if (rc < 0) {
		if (!quiet)
			fprintf(stderr, "jobs-ping: %s\n", err.msg);
		return err.code == JOBS_EUSAGE ? 2 : 1;
	}
	return 0;
}
