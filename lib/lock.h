/*
 * lock.h - "is this job running?", decided by the kernel.
 *
 * One open-file-description lock (F_OFD_SETLK) per job on
 * <ledger dir>/locks/<job>: released when its holder dies, never inherited
 * by a child (O_CLOEXEC), the file never unlinked.  The lock is the only
 * authority; ledger rows are records.
 */
#ifndef JOBS_LOCK_H
#define JOBS_LOCK_H

struct jobs_err;

/*
 * Try to take job's lock without blocking.  Returns 1 and sets *fd (the
 * caller keeps it open for the run's life; closing it releases the lock),
 * 0 when another process holds it, -1 with err.
 */
int jobs_lock_take(const char *ledger_path, const char *job, int *fd,
    struct jobs_err *err);

/*
 * Test job's lock without taking it (F_OFD_GETLK).  Returns 1 when held,
 * 0 when free (or never created), -1 with err.
 */
int jobs_lock_held(const char *ledger_path, const char *job,
    struct jobs_err *err);

#endif
