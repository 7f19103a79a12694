/*
 * child.h - run a command under supervision: its own process group, its
 * stdout and stderr captured (head and tail), a timeout that stops the
 * whole group (SIGTERM, then SIGKILL after a grace), stop signals passed on,
 * and PR_SET_PDEATHSIG so it does not run on unrecorded if we die.
 */
#ifndef JOBS_CHILD_H
#define JOBS_CHILD_H

#include <signal.h>
#include <stdint.h>

struct jobs_capture;
struct jobs_err;

struct jobs_child {
	int status;		/* wait status of the command */
	int exec_errno;		/* the command could not be started: errno */
	int timed_out;		/* the timeout stopped it */
	int stopped;		/* a stop signal arrived (jobs_run_signal) */
	int killed;		/* the grace ran out: SIGKILL was sent */
};

/*
 * Run argv (searched in PATH), capturing into out and err.  timeout_ms 0
 * means none; grace_ms is how long the group has between SIGTERM and
 * SIGKILL.  Stop signals are noticed through *stop (set by the caller's
 * handlers for SIGTERM, SIGINT, SIGHUP) and forwarded to the group.
 * 0 with *res filled once the command has ended, -1 with err when it could
 * not be supervised at all (no pipes, no fork).
 */
int jobs_child_run(char **argv, struct jobs_capture *out, struct jobs_capture *err,
    int64_t timeout_ms, int64_t grace_ms, volatile sig_atomic_t *stop,
    struct jobs_child *res, struct jobs_err *e);

#endif
