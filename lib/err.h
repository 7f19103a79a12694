/*
 * err.h - the error record every library call fills.
 *
 * The library never prints and never exits: a failing call returns -1 (or a
 * negative enum) and describes the failure in a caller-supplied struct
 * jobs_err.  The code is the exit status the failure maps to, so cmd/ can die
 * with it as it is.
 */
#ifndef JOBS_ERR_H
#define JOBS_ERR_H

enum {
	JOBS_EFAIL = 1,		/* the work failed */
	JOBS_EUSAGE = 2,	/* usage or configuration error */
	JOBS_ENOINPUT = 66,	/* a file that must exist does not (EX_NOINPUT) */
	JOBS_ETEMP = 75,	/* temporary failure (EX_TEMPFAIL): try again later */
};

struct jobs_err {
	int code;
	char msg[256];
};

/*
 * Fill err (which may be NULL) with code and a printf-style message, and
 * return -1 so callers can write "return jobs_err_set(err, ...);".
 */
int jobs_err_set(struct jobs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clear err (which may be NULL). */
void jobs_err_clear(struct jobs_err *err);

#endif
