/*
 * ping.h - healthchecks.io-style pings over HTTP(S), with libcurl.
 *
 * Only jobs-ping links this module (and so libcurl): every other program
 * runs jobs-ping for its pings (jobs_run_ping()).
 */
#ifndef JOBS_PING_H
#define JOBS_PING_H

#include <stddef.h>

struct jobs_err;

/*
 * Send one ping: what is "start", "success", "fail" or "log"; the URL is
 * base + "/start", base, base + "/fail", base + "/log".  body (may be
 * NULL, at most 100 KB sent) goes as the POST body.  Short timeouts, at most
 * tries attempts.  0 when the server answered 2xx, -1 with err.
 */
int jobs_ping_send(const char *base, const char *what, const char *body,
    size_t len, int tries, struct jobs_err *err);

#endif
